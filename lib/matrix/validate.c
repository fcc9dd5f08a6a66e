/* Argument validation shared by the matrix layer, so that every public
 * function reports the same problem with the same words. */
#include "config.h"

#include <stdint.h>

#include "core/error.h"
#include "matrix/matrix_internal.h"

pel_status pel__check_layout(const char *function, pel_layout layout)
{
    if (layout != PEL_ROW_MAJOR && layout != PEL_COL_MAJOR)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "layout=%d is neither PEL_ROW_MAJOR (101) nor PEL_COL_MAJOR (102)", (int)layout);
    return PEL_OK;
}

pel_status pel__check_transpose(const char *function, const char *name, pel_transpose trans)
{
    if (trans != PEL_NO_TRANS && trans != PEL_TRANS && trans != PEL_CONJ_TRANS)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "%s=%d is not PEL_NO_TRANS (111), PEL_TRANS (112) or PEL_CONJ_TRANS (113)", name,
                         (int)trans);
    return PEL_OK;
}

pel_status pel__check_matrix(const char *function, pel_layout layout, const pel__matrix_arg *m,
                             size_t elem_size, size_t *span)
{
    /* The stored row length is what the leading dimension must cover. */
    size_t inner = layout == PEL_ROW_MAJOR ? m->cols : m->rows;
    size_t outer = layout == PEL_ROW_MAJOR ? m->rows : m->cols;
    const char *inner_name = layout == PEL_ROW_MAJOR ? "columns" : "rows";
    size_t need = inner > 1 ? inner : 1, total, bytes;

    if (m->ld < need)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s=%zu is smaller than max(1, %zu %s of %s) in %s",
                         m->ld_name, m->ld, inner, inner_name, m->name,
                         layout == PEL_ROW_MAJOR ? "row-major layout" : "column-major layout");
    if (m->rows == 0 || m->cols == 0) {
        *span = 0;
        return PEL_OK;
    }
    if (m->data == NULL && !m->shape_only)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s must not be NULL for a %zu x %zu matrix",
                         m->name, m->rows, m->cols);
    if (!pel__mul_size(outer - 1, m->ld, &total) || !pel__add_size(total, inner, &total) ||
        !pel__mul_size(total, elem_size, &bytes) || bytes > (size_t)PTRDIFF_MAX ||
        (!m->shape_only && (uintptr_t)m->data + bytes < (uintptr_t)m->data))
        return pel__fail(PEL_ERROR_OVERFLOW, function,
                         "%s (%zu x %zu with %s=%zu) spans more memory than can be addressed", m->name, m->rows,
                         m->cols, m->ld_name, m->ld);
    *span = total;
    return PEL_OK;
}

int pel__ranges_overlap(const void *p, size_t bytes_p, const void *q, size_t bytes_q)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)q;

    if (bytes_p == 0 || bytes_q == 0)
        return 0;
    return a < b + bytes_q && b < a + bytes_p;
}

pel_status pel__check_blas_int(const char *function, const char *name, size_t value)
{
    if (value > (size_t)INT_MAX)
        return pel__fail(PEL_ERROR_UNSUPPORTED, function,
                         "%s=%zu exceeds OpenBLAS's 32-bit limit of %d; split the problem", name, value, INT_MAX);
    return PEL_OK;
}

pel_status pel__check_vector(const char *function, const char *name, const char *inc_name, const void *x,
                             size_t n, ptrdiff_t inc, size_t elem_size)
{
    size_t step, span, bytes;

    if (inc == 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s=0 must be nonzero", inc_name);
    if (n == 0)
        return PEL_OK;
    if (x == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s must not be NULL when n=%zu", name, n);
    step = inc < 0 ? (size_t)0 - (size_t)inc : (size_t)inc;
    if (!pel__mul_size(n - 1, step, &span) || !pel__add_size(span, 1, &span) ||
        !pel__mul_size(span, elem_size, &bytes) || bytes > (size_t)PTRDIFF_MAX)
        return pel__fail(PEL_ERROR_OVERFLOW, function, "%s: n=%zu elements at %s=%td span more memory than can "
                         "be addressed", name, n, inc_name, inc);
    return PEL_OK;
}

/* Validation of the three gemm matrices; shape_only skips pointer checks. */
static pel_status check_gemm_matrices(const char *function, pel_layout layout, pel_transpose transa,
                                      pel_transpose transb, size_t m, size_t n, size_t k, const void *a, size_t lda,
                                      const void *b, size_t ldb, const void *c, size_t ldc, int shape_only,
                                      size_t elem_size, size_t *span_a, size_t *span_b, size_t *span_c)
{
    pel__matrix_arg ma = {"a", "lda", a, 0, 0, lda, shape_only}, mb = {"b", "ldb", b, 0, 0, ldb, shape_only},
                    mc = {"c", "ldc", c, m, n, ldc, shape_only};
    pel_status status;

    if ((status = pel__check_layout(function, layout)) != PEL_OK ||
        (status = pel__check_transpose(function, "transa", transa)) != PEL_OK ||
        (status = pel__check_transpose(function, "transb", transb)) != PEL_OK)
        return status;
    pel__stored_shape(transa, m, k, &ma.rows, &ma.cols);
    pel__stored_shape(transb, k, n, &mb.rows, &mb.cols);
    if ((status = pel__check_matrix(function, layout, &ma, elem_size, span_a)) != PEL_OK ||
        (status = pel__check_matrix(function, layout, &mb, elem_size, span_b)) != PEL_OK ||
        (status = pel__check_matrix(function, layout, &mc, elem_size, span_c)) != PEL_OK)
        return status;
    return PEL_OK;
}

pel_status pel__check_gemm_shape(const char *function, pel_layout layout, pel_transpose transa,
                                 pel_transpose transb, size_t m, size_t n, size_t k, size_t lda, size_t ldb,
                                 size_t ldc, size_t elem_size, size_t *span_a, size_t *span_b, size_t *span_c)
{
    return check_gemm_matrices(function, layout, transa, transb, m, n, k, NULL, lda, NULL, ldb, NULL, ldc, 1,
                               elem_size, span_a, span_b, span_c);
}

pel_status pel__check_gemm(const char *function, pel_layout layout, pel_transpose transa, pel_transpose transb,
                           size_t m, size_t n, size_t k, const void *a, size_t lda, const void *b, size_t ldb,
                           const void *c, size_t ldc, size_t elem_size, size_t *span_a, size_t *span_b,
                           size_t *span_c)
{
    pel_status status = check_gemm_matrices(function, layout, transa, transb, m, n, k, a, lda, b, ldb, c, ldc, 0,
                                            elem_size, span_a, span_b, span_c);
    if (status != PEL_OK)
        return status;
    if (pel__ranges_overlap(c, *span_c * elem_size, a, *span_a * elem_size))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "c overlaps a (the output must not alias an input)");
    if (pel__ranges_overlap(c, *span_c * elem_size, b, *span_b * elem_size))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "c overlaps b (the output must not alias an input)");
    return PEL_OK;
}

void pel__gemm_canonical(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n,
                         size_t k, size_t lda, size_t ldb, size_t ldc, pel__gemm_shape *shape)
{
    /* Column-major: op(A)(i,p) is a[i + p*lda] untransposed, a[p + i*lda]
     * transposed. Row-major C = op(A) op(B) is column-major
     * C^T = op(B)^T op(A)^T, where the row-major B read column-major is B^T. */
    if (layout == PEL_COL_MAJOR) {
        shape->m = m;
        shape->n = n;
        shape->rsa = transa == PEL_NO_TRANS ? 1 : (ptrdiff_t)lda;
        shape->csa = transa == PEL_NO_TRANS ? (ptrdiff_t)lda : 1;
        shape->rsb = transb == PEL_NO_TRANS ? 1 : (ptrdiff_t)ldb;
        shape->csb = transb == PEL_NO_TRANS ? (ptrdiff_t)ldb : 1;
        shape->swap = 0;
    } else {
        shape->m = n;
        shape->n = m;
        shape->rsa = transb == PEL_NO_TRANS ? 1 : (ptrdiff_t)ldb;
        shape->csa = transb == PEL_NO_TRANS ? (ptrdiff_t)ldb : 1;
        shape->rsb = transa == PEL_NO_TRANS ? 1 : (ptrdiff_t)lda;
        shape->csb = transa == PEL_NO_TRANS ? (ptrdiff_t)lda : 1;
        shape->swap = 1;
    }
    shape->k = k;
    shape->ldc = ldc;
}

void pel__dscale_matrix(size_t m, size_t n, double beta, double *c, size_t ldc)
{
    for (size_t j = 0; j < n; j++) {
        double *col = c + j * ldc;
        if (beta == 0.0)
            for (size_t i = 0; i < m; i++)
                col[i] = 0.0;
        else if (beta != 1.0)
            for (size_t i = 0; i < m; i++)
                col[i] *= beta;
    }
}

void pel__sscale_matrix(size_t m, size_t n, float beta, float *c, size_t ldc)
{
    for (size_t j = 0; j < n; j++) {
        float *col = c + j * ldc;
        if (beta == 0.0f)
            for (size_t i = 0; i < m; i++)
                col[i] = 0.0f;
        else if (beta != 1.0f)
            for (size_t i = 0; i < m; i++)
                col[i] *= beta;
    }
}
