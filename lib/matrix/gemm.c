/* gemm and gemv through OpenBLAS: pel validates every argument, applies the
 * BLAS rules for alpha = 0 and beta = 0 itself (so they hold whatever the
 * OpenBLAS version does), and runs OpenBLAS on pel's thread count. */
#include "config.h"

#include <cblas.h>
#include <stdint.h>

#include "core/error.h"
#include "core/threads.h"
#include "matrix/matrix_internal.h"

/* 2*m*n*k flops, saturating: only used to size the team. */
static size_t gemm_work(size_t m, size_t n, size_t k)
{
    size_t w;
    if (!pel__mul_size(m, n, &w) || !pel__mul_size(w, k, &w) || !pel__mul_size(w, 2, &w))
        return SIZE_MAX;
    return w;
}

/* The sizes OpenBLAS receives must fit its 32-bit blasint. */
static pel_status check_gemm_ints(const char *function, size_t m, size_t n, size_t k, size_t lda, size_t ldb,
                                  size_t ldc)
{
    pel_status status;
    if ((status = pel__check_blas_int(function, "m", m)) != PEL_OK ||
        (status = pel__check_blas_int(function, "n", n)) != PEL_OK ||
        (status = pel__check_blas_int(function, "k", k)) != PEL_OK ||
        (status = pel__check_blas_int(function, "lda", lda)) != PEL_OK ||
        (status = pel__check_blas_int(function, "ldb", ldb)) != PEL_OK ||
        (status = pel__check_blas_int(function, "ldc", ldc)) != PEL_OK)
        return status;
    return PEL_OK;
}

pel_status pel_dgemm(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n, size_t k,
                     double alpha, const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
                     size_t ldc)
{
    size_t span_a, span_b, span_c;
    pel__gemm_shape shape;
    pel__blas_scope scope;
    pel_status status;

    status = pel__check_gemm(__func__, layout, transa, transb, m, n, k, a, lda, b, ldb, c, ldc, sizeof(double),
                             &span_a, &span_b, &span_c);
    if (status != PEL_OK)
        return status;
    if (m == 0 || n == 0)
        return PEL_OK;
    if ((status = check_gemm_ints(__func__, m, n, k, lda, ldb, ldc)) != PEL_OK)
        return status;
    pel__gemm_canonical(layout, transa, transb, m, n, k, lda, ldb, ldc, &shape);
    if (alpha == 0.0 || k == 0) {
        pel__dscale_matrix(shape.m, shape.n, beta, c, ldc);
        return PEL_OK;
    }
    pel__blas_enter(&scope, pel_threads_for_work(gemm_work(m, n, k)));
    cblas_dgemm((enum CBLAS_ORDER)layout, (enum CBLAS_TRANSPOSE)transa, (enum CBLAS_TRANSPOSE)transb, (int)m, (int)n,
                (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    pel__blas_leave(&scope);
    return PEL_OK;
}

pel_status pel_sgemm(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                     size_t ldc)
{
    size_t span_a, span_b, span_c;
    pel__gemm_shape shape;
    pel__blas_scope scope;
    pel_status status;

    status = pel__check_gemm(__func__, layout, transa, transb, m, n, k, a, lda, b, ldb, c, ldc, sizeof(float),
                             &span_a, &span_b, &span_c);
    if (status != PEL_OK)
        return status;
    if (m == 0 || n == 0)
        return PEL_OK;
    if ((status = check_gemm_ints(__func__, m, n, k, lda, ldb, ldc)) != PEL_OK)
        return status;
    pel__gemm_canonical(layout, transa, transb, m, n, k, lda, ldb, ldc, &shape);
    if (alpha == 0.0f || k == 0) {
        pel__sscale_matrix(shape.m, shape.n, beta, c, ldc);
        return PEL_OK;
    }
    pel__blas_enter(&scope, pel_threads_for_work(gemm_work(m, n, k)));
    cblas_sgemm((enum CBLAS_ORDER)layout, (enum CBLAS_TRANSPOSE)transa, (enum CBLAS_TRANSPOSE)transb, (int)m, (int)n,
                (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    pel__blas_leave(&scope);
    return PEL_OK;
}

/* C = beta*C for interleaved complex C, column-major m x n. */
static void zscale_matrix(size_t m, size_t n, const double *beta, double *c, size_t ldc)
{
    for (size_t j = 0; j < n; j++) {
        double *col = c + 2 * j * ldc;
        for (size_t i = 0; i < m; i++) {
            double re = col[2 * i], im = col[2 * i + 1];
            if (beta[0] == 0.0 && beta[1] == 0.0) {
                col[2 * i] = 0.0;
                col[2 * i + 1] = 0.0;
            } else {
                col[2 * i] = beta[0] * re - beta[1] * im;
                col[2 * i + 1] = beta[0] * im + beta[1] * re;
            }
        }
    }
}

pel_status pel_zgemm(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n, size_t k,
                     const void *alpha, const void *a, size_t lda, const void *b, size_t ldb, const void *beta,
                     void *c, size_t ldc)
{
    size_t span_a, span_b, span_c, work;
    const double *al = alpha, *be = beta;
    pel__gemm_shape shape;
    pel__blas_scope scope;
    pel_status status;

    PEL_CHECK_NOT_NULL(alpha);
    PEL_CHECK_NOT_NULL(beta);
    status = pel__check_gemm(__func__, layout, transa, transb, m, n, k, a, lda, b, ldb, c, ldc,
                             2 * sizeof(double), &span_a, &span_b, &span_c);
    if (status != PEL_OK)
        return status;
    if (m == 0 || n == 0)
        return PEL_OK;
    if ((status = check_gemm_ints(__func__, m, n, k, lda, ldb, ldc)) != PEL_OK)
        return status;
    pel__gemm_canonical(layout, transa, transb, m, n, k, lda, ldb, ldc, &shape);
    if ((al[0] == 0.0 && al[1] == 0.0) || k == 0) {
        zscale_matrix(shape.m, shape.n, be, c, ldc);
        return PEL_OK;
    }
    /* A complex multiply-add is 8 real flops. */
    work = gemm_work(m, n, k);
    pel__blas_enter(&scope, pel_threads_for_work(work > SIZE_MAX / 4 ? SIZE_MAX : 4 * work));
    cblas_zgemm((enum CBLAS_ORDER)layout, (enum CBLAS_TRANSPOSE)transa, (enum CBLAS_TRANSPOSE)transb, (int)m, (int)n,
                (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    pel__blas_leave(&scope);
    return PEL_OK;
}

/* Validation shared by dgemv and sgemv; writes the vector lengths. */
static pel_status check_gemv(const char *function, pel_layout layout, pel_transpose trans, size_t m, size_t n,
                             const void *a, size_t lda, const void *x, ptrdiff_t incx, const void *y,
                             ptrdiff_t incy, size_t elem_size, size_t *nx, size_t *ny)
{
    pel__matrix_arg ma = {"a", "lda", a, m, n, lda, 0};
    size_t span_a, ystep, span_y, xstep, span_x;
    pel_status status;

    if ((status = pel__check_layout(function, layout)) != PEL_OK ||
        (status = pel__check_transpose(function, "trans", trans)) != PEL_OK ||
        (status = pel__check_matrix(function, layout, &ma, elem_size, &span_a)) != PEL_OK)
        return status;
    *nx = trans == PEL_NO_TRANS ? n : m;
    *ny = trans == PEL_NO_TRANS ? m : n;
    if ((status = pel__check_vector(function, "x", "incx", x, *nx, incx, elem_size)) != PEL_OK ||
        (status = pel__check_vector(function, "y", "incy", y, *ny, incy, elem_size)) != PEL_OK)
        return status;
    xstep = incx < 0 ? (size_t)0 - (size_t)incx : (size_t)incx;
    ystep = incy < 0 ? (size_t)0 - (size_t)incy : (size_t)incy;
    span_x = *nx == 0 ? 0 : ((*nx - 1) * xstep + 1) * elem_size;
    span_y = *ny == 0 ? 0 : ((*ny - 1) * ystep + 1) * elem_size;
    if (pel__ranges_overlap(y, span_y, a, span_a * elem_size))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "y overlaps a (the output must not alias an input)");
    if (pel__ranges_overlap(y, span_y, x, span_x))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "y overlaps x (the output must not alias an input)");
    if (*ny == 0)
        return PEL_OK;
    if ((status = pel__check_blas_int(function, "m", m)) != PEL_OK ||
        (status = pel__check_blas_int(function, "n", n)) != PEL_OK ||
        (status = pel__check_blas_int(function, "lda", lda)) != PEL_OK ||
        (status = pel__check_blas_int(function, "|incx|", xstep)) != PEL_OK ||
        (status = pel__check_blas_int(function, "|incy|", ystep)) != PEL_OK)
        return status;
    return PEL_OK;
}

pel_status pel_dgemv(pel_layout layout, pel_transpose trans, size_t m, size_t n, double alpha, const double *a,
                     size_t lda, const double *x, ptrdiff_t incx, double beta, double *y, ptrdiff_t incy)
{
    size_t nx, ny, ystep;
    pel__blas_scope scope;
    pel_status status;

    status = check_gemv(__func__, layout, trans, m, n, a, lda, x, incx, y, incy, sizeof(double), &nx, &ny);
    if (status != PEL_OK || ny == 0)
        return status;
    ystep = incy < 0 ? (size_t)0 - (size_t)incy : (size_t)incy;
    /* y = beta*y covers alpha = 0 and an empty x; with beta = 0 it also
     * clears y before OpenBLAS runs, so NaN in y can never leak. */
    if (alpha == 0.0 || nx == 0 || beta == 0.0) {
        pel__dscale_matrix(1, ny, beta, y, ystep);
        if (alpha == 0.0 || nx == 0)
            return PEL_OK;
    }
    pel__blas_enter(&scope, pel_threads_for_work(gemm_work(m, n, 1)));
    cblas_dgemv((enum CBLAS_ORDER)layout, (enum CBLAS_TRANSPOSE)trans, (int)m, (int)n, alpha, a, (int)lda, x,
                (int)incx, beta, y, (int)incy);
    pel__blas_leave(&scope);
    return PEL_OK;
}

pel_status pel_sgemv(pel_layout layout, pel_transpose trans, size_t m, size_t n, float alpha, const float *a,
                     size_t lda, const float *x, ptrdiff_t incx, float beta, float *y, ptrdiff_t incy)
{
    size_t nx, ny, ystep;
    pel__blas_scope scope;
    pel_status status;

    status = check_gemv(__func__, layout, trans, m, n, a, lda, x, incx, y, incy, sizeof(float), &nx, &ny);
    if (status != PEL_OK || ny == 0)
        return status;
    ystep = incy < 0 ? (size_t)0 - (size_t)incy : (size_t)incy;
    if (alpha == 0.0f || nx == 0 || beta == 0.0f) {
        pel__sscale_matrix(1, ny, beta, y, ystep);
        if (alpha == 0.0f || nx == 0)
            return PEL_OK;
    }
    pel__blas_enter(&scope, pel_threads_for_work(gemm_work(m, n, 1)));
    cblas_sgemv((enum CBLAS_ORDER)layout, (enum CBLAS_TRANSPOSE)trans, (int)m, (int)n, alpha, a, (int)lda, x,
                (int)incx, beta, y, (int)incy);
    pel__blas_leave(&scope);
    return PEL_OK;
}
