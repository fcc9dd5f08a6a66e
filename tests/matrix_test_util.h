/* Helpers shared by the matrix tests: element access in either layout, the
 * naive long-double reference gemm and the reference-BLAS test ratio. */
#ifndef PEL_MATRIX_TEST_UTIL_H
#define PEL_MATRIX_TEST_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pel_test.h"

static const size_t matrix_test_sizes[] = {0, 1, 2, 3, 5, 9, 65, 257};
static const pel_layout matrix_test_layouts[] = {PEL_ROW_MAJOR, PEL_COL_MAJOR};
static const pel_transpose matrix_test_transposes[] = {PEL_NO_TRANS, PEL_TRANS, PEL_CONJ_TRANS};
static const int matrix_test_threads[] = {1, 2, 3, 8};

/* Offset of element (i, j) of a matrix stored in layout with leading
 * dimension ld. */
static inline size_t mt_index(pel_layout layout, size_t ld, size_t i, size_t j)
{
    return layout == PEL_COL_MAJOR ? i + j * ld : i * ld + j;
}

/* The leading dimension of a rows x cols matrix, padded by pad. */
static inline size_t mt_ld(pel_layout layout, size_t rows, size_t cols, size_t pad)
{
    size_t inner = layout == PEL_COL_MAJOR ? rows : cols;
    return (inner > 0 ? inner : 1) + pad;
}

/* Elements to allocate for a rows x cols matrix with leading dimension ld
 * (at least 1, so there is always a buffer to compare). */
static inline size_t mt_elems(pel_layout layout, size_t rows, size_t cols, size_t ld)
{
    size_t outer = layout == PEL_COL_MAJOR ? cols : rows;
    return outer > 0 ? outer * ld : 1;
}

/* Worst reference-BLAS test ratio over C (real case): for each element,
 * |C - Cref| / (eps * (|alpha| sum|op(A)||op(B)| + |beta||C0|)), with Cref
 * computed in long double from A, B and the original C0 (beta = 0: C0 not
 * read). A zero denominator demands an exact result. Returns a huge value
 * if C has a NaN where the reference has none. */
static inline double mt_gemm_ratio(pel_layout layout, pel_transpose ta, pel_transpose tb, size_t m, size_t n,
                                   size_t k, double alpha, const double *a, size_t lda, const double *b, size_t ldb,
                                   double beta, const double *c0, const double *c, size_t ldc, double eps)
{
    double worst = 0.0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            long double sum = 0.0L, abs_sum = 0.0L, ref, denom, err;
            for (size_t p = 0; p < k; p++) {
                double av = ta == PEL_NO_TRANS ? a[mt_index(layout, lda, i, p)] : a[mt_index(layout, lda, p, i)];
                double bv = tb == PEL_NO_TRANS ? b[mt_index(layout, ldb, p, j)] : b[mt_index(layout, ldb, j, p)];
                sum += (long double)av * bv;
                abs_sum += fabsl((long double)av * bv);
            }
            ref = (long double)alpha * sum;
            denom = fabsl((long double)alpha) * abs_sum;
            if (beta != 0.0) {
                ref += (long double)beta * c0[mt_index(layout, ldc, i, j)];
                denom += fabsl((long double)beta * c0[mt_index(layout, ldc, i, j)]);
            }
            err = fabsl((long double)c[mt_index(layout, ldc, i, j)] - ref);
            if (isnan((double)err))
                return 1e300;
            if (denom == 0.0L) {
                if (err != 0.0L)
                    return 1e300;
                continue;
            }
            if ((double)(err / (eps * denom)) > worst)
                worst = (double)(err / (eps * denom));
        }
    return worst;
}

/* The same for float data (converted once to double). */
static inline double mt_sgemm_ratio(pel_layout layout, pel_transpose ta, pel_transpose tb, size_t m, size_t n,
                                    size_t k, float alpha, const float *a, size_t na, size_t lda, const float *b,
                                    size_t nb, size_t ldb, float beta, const float *c0, const float *c, size_t nc,
                                    size_t ldc)
{
    double *da = malloc(na * sizeof *da), *db = malloc(nb * sizeof *db), *dc0 = malloc(nc * sizeof *dc0),
           *dc = malloc(nc * sizeof *dc), r;
    for (size_t i = 0; i < na; i++)
        da[i] = a[i];
    for (size_t i = 0; i < nb; i++)
        db[i] = b[i];
    for (size_t i = 0; i < nc; i++) {
        dc0[i] = c0[i];
        dc[i] = c[i];
    }
    r = mt_gemm_ratio(layout, ta, tb, m, n, k, alpha, da, lda, db, ldb, beta, dc0, dc, ldc, 0x1p-24);
    free(da);
    free(db);
    free(dc0);
    free(dc);
    return r;
}

/* Sets the thread count for a test and makes every size use it. */
static inline void mt_threads(int threads)
{
    pel_set_num_threads(threads);
    pel_set_min_work_per_thread(1);
}

static inline void mt_threads_default(void)
{
    pel_set_num_threads(0);
    pel_set_min_work_per_thread(0);
}

/* A buffer of n doubles, random in [-1,1), or n NaNs. */
static inline double *mt_random(size_t n, uint64_t seed)
{
    double *x = malloc((n > 0 ? n : 1) * sizeof *x);
    pel_test_fill(x, n > 0 ? n : 1, seed);
    return x;
}

static inline float *mt_random_float(size_t n, uint64_t seed)
{
    float *x = malloc((n > 0 ? n : 1) * sizeof *x);
    pel_test_fill_float(x, n > 0 ? n : 1, seed);
    return x;
}

static inline double *mt_copy(const double *x, size_t n)
{
    double *y = malloc((n > 0 ? n : 1) * sizeof *y);
    memcpy(y, x, (n > 0 ? n : 1) * sizeof *y);
    return y;
}

static inline float *mt_copy_float(const float *x, size_t n)
{
    float *y = malloc((n > 0 ? n : 1) * sizeof *y);
    memcpy(y, x, (n > 0 ? n : 1) * sizeof *y);
    return y;
}

/* Nonzero when c outside the m x n matrix (the padding) equals c0 there. */
static inline int mt_padding_kept(pel_layout layout, size_t m, size_t n, size_t ld, const void *c, const void *c0,
                                  size_t elem)
{
    size_t outer = layout == PEL_COL_MAJOR ? n : m, inner = layout == PEL_COL_MAJOR ? m : n;
    for (size_t o = 0; o < outer; o++)
        if (memcmp((const char *)c + (o * ld + inner) * elem, (const char *)c0 + (o * ld + inner) * elem,
                   (ld - inner) * elem) != 0)
            return 0;
    return 1;
}

#endif
