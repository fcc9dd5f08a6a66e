/* LU and Cholesky solves through LAPACK in OpenBLAS. pel factors a private
 * column-major copy of A and solves into a private copy of B, then copies the
 * solution back only on success: the caller's A is never written and B is
 * either the solution or untouched, whatever goes wrong. The copies also
 * turn any layout and leading dimension into the one LAPACK wants. */
#include "config.h"

#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "matrix/matrix_internal.h"

/* LAPACK's Fortran entry points (OpenBLAS ships no LAPACKE here); 32-bit
 * integers, and the hidden length of the character argument that gfortran
 * passes by value. */
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv, double *b, const int *ldb,
            int *info);
void sgesv_(const int *n, const int *nrhs, float *a, const int *lda, int *ipiv, float *b, const int *ldb,
            int *info);
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb,
            int *info, size_t uplo_len);
void sposv_(const char *uplo, const int *n, const int *nrhs, float *a, const int *lda, float *b, const int *ldb,
            int *info, size_t uplo_len);

typedef enum solver { LU, CHOLESKY } solver;

/* Copies a rows x cols matrix stored in layout (ld) into a dense
 * column-major buffer (leading dimension rows), or back. */
static void to_column_major(int single, pel_layout layout, size_t rows, size_t cols, const void *src, size_t ld,
                            void *dst)
{
    for (size_t j = 0; j < cols; j++)
        for (size_t i = 0; i < rows; i++) {
            size_t from = layout == PEL_COL_MAJOR ? i + j * ld : j + i * ld;
            if (single)
                ((float *)dst)[i + j * rows] = ((const float *)src)[from];
            else
                ((double *)dst)[i + j * rows] = ((const double *)src)[from];
        }
}

static void from_column_major(int single, pel_layout layout, size_t rows, size_t cols, const void *src, void *dst,
                              size_t ld)
{
    for (size_t j = 0; j < cols; j++)
        for (size_t i = 0; i < rows; i++) {
            size_t to = layout == PEL_COL_MAJOR ? i + j * ld : j + i * ld;
            if (single)
                ((float *)dst)[to] = ((const float *)src)[i + j * rows];
            else
                ((double *)dst)[to] = ((const double *)src)[i + j * rows];
        }
}

static pel_status solve(const char *function, solver kind, int single, pel_layout layout, pel_uplo uplo, size_t n,
                        size_t nrhs, const void *a, size_t lda, void *b, size_t ldb)
{
    size_t elem = single ? sizeof(float) : sizeof(double), span_a, span_b, bytes_a, bytes_b, work;
    pel__matrix_arg ma = {"a", "lda", a, n, n, lda, 0}, mb = {"b", "ldb", b, n, nrhs, ldb, 0};
    void *fa, *fb;
    int *ipiv = NULL, in, inrhs, info = 0;
    char uplo_char;
    pel__blas_scope scope;
    pel_status status;

    if ((status = pel__check_layout(function, layout)) != PEL_OK)
        return status;
    if (kind == CHOLESKY && uplo != PEL_UPPER && uplo != PEL_LOWER)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "uplo=%d is neither PEL_UPPER (121) nor PEL_LOWER (122)", (int)uplo);
    if ((status = pel__check_matrix(function, layout, &ma, elem, &span_a)) != PEL_OK ||
        (status = pel__check_matrix(function, layout, &mb, elem, &span_b)) != PEL_OK)
        return status;
    if (pel__ranges_overlap(a, span_a * elem, b, span_b * elem))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "a and b overlap");
    if ((status = pel__check_blas_int(function, "n", n)) != PEL_OK ||
        (status = pel__check_blas_int(function, "nrhs", nrhs)) != PEL_OK)
        return status;
    if (n == 0 || nrhs == 0)
        return PEL_OK;
    /* n*n and n*nrhs fit: they are at most the validated spans. */
    bytes_a = n * n * elem;
    bytes_b = n * nrhs * elem;
    fa = pel_malloc(bytes_a);
    fb = pel_malloc(bytes_b);
    if (kind == LU)
        ipiv = pel_malloc(n * sizeof(int));
    if (fa == NULL || fb == NULL || (kind == LU && ipiv == NULL)) {
        pel_free(fa);
        pel_free(fb);
        pel_free(ipiv);
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "no memory for the %zu x %zu working copy", n, n);
    }
    to_column_major(single, layout, n, n, a, lda, fa);
    to_column_major(single, layout, n, nrhs, b, ldb, fb);
    /* The copy holds A itself (not the transpose a row-major array would
     * read as), so uplo keeps its meaning for either layout. */
    in = (int)n;
    inrhs = (int)nrhs;
    uplo_char = uplo == PEL_UPPER ? 'U' : 'L';
    if (!pel__mul_size(n * n, n, &work))
        work = (size_t)-1;
    pel__blas_enter(&scope, pel_threads_for_work(work));
    if (kind == LU && single)
        sgesv_(&in, &inrhs, fa, &in, ipiv, fb, &in, &info);
    else if (kind == LU)
        dgesv_(&in, &inrhs, fa, &in, ipiv, fb, &in, &info);
    else if (single)
        sposv_(&uplo_char, &in, &inrhs, fa, &in, fb, &in, &info, 1);
    else
        dposv_(&uplo_char, &in, &inrhs, fa, &in, fb, &in, &info, 1);
    pel__blas_leave(&scope);
    if (info == 0)
        from_column_major(single, layout, n, nrhs, fb, b, ldb);
    pel_free(fa);
    pel_free(fb);
    pel_free(ipiv);
    if (info > 0 && kind == LU)
        return pel__fail(PEL_ERROR_SINGULAR, function,
                         "the matrix is singular: pivot %d of %zu (U(%d,%d), 1-based) is exactly zero", info, n,
                         info, info);
    if (info > 0)
        return pel__fail(PEL_ERROR_NOT_POSITIVE_DEFINITE, function,
                         "the matrix is not positive definite: the leading minor of order %d (pivot %d of %zu) is "
                         "not positive",
                         info, info, n);
    if (info < 0)
        return pel__fail(PEL_ERROR_BACKEND, function, "LAPACK rejected argument %d (a bug in pel)", -info);
    return PEL_OK;
}

pel_status pel_dgesv(pel_layout layout, size_t n, size_t nrhs, const double *a, size_t lda, double *b, size_t ldb)
{
    return solve(__func__, LU, 0, layout, PEL_UPPER, n, nrhs, a, lda, b, ldb);
}

pel_status pel_sgesv(pel_layout layout, size_t n, size_t nrhs, const float *a, size_t lda, float *b, size_t ldb)
{
    return solve(__func__, LU, 1, layout, PEL_UPPER, n, nrhs, a, lda, b, ldb);
}

pel_status pel_dposv(pel_layout layout, pel_uplo uplo, size_t n, size_t nrhs, const double *a, size_t lda,
                     double *b, size_t ldb)
{
    return solve(__func__, CHOLESKY, 0, layout, uplo, n, nrhs, a, lda, b, ldb);
}

pel_status pel_sposv(pel_layout layout, pel_uplo uplo, size_t n, size_t nrhs, const float *a, size_t lda,
                     float *b, size_t ldb)
{
    return solve(__func__, CHOLESKY, 1, layout, uplo, n, nrhs, a, lda, b, ldb);
}
