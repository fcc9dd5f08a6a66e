/* Tests of the transposes (omatcopy, in-place square), the vector operations
 * (axpy, scal, dot, nrm2, asum) and the solves (gesv, posv).
 *
 * Transposes and axpy/scal compute each element once as in the naive loop,
 * so they are compared exactly. Reductions are compared with long-double
 * sums: the bound (PEL_REDUCE_BLOCK/8 + log2(n) + 2) * eps * sum|terms| is
 * the error bound of 8-lane blocked summation with a pairwise tree; they
 * must also give the same bits for 1..8 threads and for both kernel tables.
 * Solves are checked by the residual ||Ax - b|| / (||A|| ||x||) <= 10 n eps
 * (backward stability of LU with partial pivoting and of Cholesky, with
 * room for growth on random matrices). */
#include "matrix_test_util.h"

#include <float.h>
#include <limits.h>
#include <stdint.h>

#include "matrix/kernels/kernels.h"

/* ------------------------------------------------------------ omatcopy */

static void check_domatcopy(pel_layout layout, pel_transpose trans, size_t rows, size_t cols, size_t pad,
                            double alpha, int threads, uint64_t seed)
{
    size_t brows = trans == PEL_NO_TRANS ? rows : cols, bcols = trans == PEL_NO_TRANS ? cols : rows;
    size_t lda = mt_ld(layout, rows, cols, pad), ldb = mt_ld(layout, brows, bcols, pad + 1);
    size_t na = mt_elems(layout, rows, cols, lda), nb = mt_elems(layout, brows, bcols, ldb);
    double *a = mt_random(na, seed), *b = mt_random(nb, seed + 1), *a0 = mt_copy(a, na), *b0 = mt_copy(b, nb);
    size_t bad = 0;

    mt_threads(threads);
    PEL_TEST_OK(pel_domatcopy(layout, trans, rows, cols, alpha, a, lda, b, ldb));
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double want = alpha * a[mt_index(layout, lda, i, j)];
            size_t at = trans == PEL_NO_TRANS ? mt_index(layout, ldb, i, j) : mt_index(layout, ldb, j, i);
            bad += memcmp(&b[at], &want, sizeof want) != 0;
        }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(memcmp(a, a0, na * sizeof *a) == 0);
    CU_ASSERT(mt_padding_kept(layout, brows, bcols, ldb, b, b0, sizeof *b));
    free(a);
    free(b);
    free(a0);
    free(b0);
}

static void test_omatcopy(void)
{
    static const double alphas[] = {1.0, -0.731, 0.0};
    unsigned seed = 1, count = 0;

    for (size_t l = 0; l < 2; l++)
        for (size_t t = 0; t < 3; t++)
            for (size_t r = 0; r < 8; r++)
                for (size_t c = 0; c < 8; c += (r == 7 || c >= 6 ? 1 : 2), count++)
                    check_domatcopy(matrix_test_layouts[l], matrix_test_transposes[t], matrix_test_sizes[r],
                                    matrix_test_sizes[c], count % 3, alphas[count % 3], matrix_test_threads[count % 4],
                                    seed++);
    /* A large one that takes the streaming-store path (B over 16 MiB). */
    check_domatcopy(PEL_COL_MAJOR, PEL_TRANS, 1500, 1501, 0, 1.0, 2, 99);
    check_domatcopy(PEL_ROW_MAJOR, PEL_TRANS, 1499, 1500, 1, -2.0, 3, 98);
    mt_threads_default();
}

static void test_somatcopy(void)
{
    unsigned seed = 200, count = 0;
    for (size_t l = 0; l < 2; l++)
        for (size_t t = 0; t < 3; t++)
            for (size_t r = 0; r < 8; r++, count++) {
                pel_layout layout = matrix_test_layouts[l];
                pel_transpose trans = matrix_test_transposes[t];
                size_t rows = matrix_test_sizes[r], cols = matrix_test_sizes[(r + 2) % 8];
                size_t brows = trans == PEL_NO_TRANS ? rows : cols, bcols = trans == PEL_NO_TRANS ? cols : rows;
                size_t lda = mt_ld(layout, rows, cols, 1), ldb = mt_ld(layout, brows, bcols, 2);
                size_t na = mt_elems(layout, rows, cols, lda), nb = mt_elems(layout, brows, bcols, ldb), bad = 0;
                float *a = mt_random_float(na, seed++), *b = mt_random_float(nb, seed++), *b0 = mt_copy_float(b, nb);
                float alpha = count % 2 ? 1.0f : 0.731f;
                mt_threads(matrix_test_threads[count % 4]);
                PEL_TEST_OK(pel_somatcopy(layout, trans, rows, cols, alpha, a, lda, b, ldb));
                for (size_t i = 0; i < rows; i++)
                    for (size_t j = 0; j < cols; j++) {
                        size_t at = trans == PEL_NO_TRANS ? mt_index(layout, ldb, i, j) : mt_index(layout, ldb, j, i);
                        bad += b[at] != alpha * a[mt_index(layout, lda, i, j)];
                    }
                CU_ASSERT_EQUAL(bad, 0);
                CU_ASSERT(mt_padding_kept(layout, brows, bcols, ldb, b, b0, sizeof *b));
                free(a);
                free(b);
                free(b0);
            }
    mt_threads_default();
}

static void test_transpose_kernels(void)
{
    static const char *names[] = {"reference", "avx2"};
    enum { R = 37, C = 29, LDA = 40, LDB = 32 };
    double a[LDA * C], b[LDB * R];
    float fa[LDA * C], fb[LDB * R];

    pel_test_fill(a, LDA * C, 5);
    pel_test_fill_float(fa, LDA * C, 6);
    for (size_t t = 0; t < 2; t++) {
        const pel__matrix_kernels *k = pel__matrix_kernels_find(names[t]);
        size_t bad = 0;
        if (k == NULL)
            continue;
        for (int nt = 0; nt < 2; nt++) {
            memset(b, 0, sizeof b);
            memset(fb, 0, sizeof fb);
            k->dtranspose_tile(R, C, 1.5, a, LDA, b, LDB, nt);
            k->stranspose_tile(R, C, 1.5f, fa, LDA, fb, LDB, nt);
            for (size_t i = 0; i < R; i++)
                for (size_t j = 0; j < C; j++)
                    bad += b[j + i * LDB] != 1.5 * a[i + j * LDA] || fb[j + i * LDB] != 1.5f * fa[i + j * LDA];
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
}

static void test_transpose_square(void)
{
    unsigned seed = 300, count = 0;
    for (size_t s = 0; s < 8; s++)
        for (size_t pad = 0; pad < 3; pad += 2, count++) {
            size_t n = matrix_test_sizes[s], lda = (n > 0 ? n : 1) + pad, total = lda * (n > 0 ? n : 1), bad = 0;
            double *a = mt_random(total, seed++), *a0 = mt_copy(a, total);
            float *f = mt_random_float(total, seed++), *f0 = mt_copy_float(f, total);
            mt_threads(matrix_test_threads[count % 4]);
            PEL_TEST_OK(pel_dtranspose_square(n, a, lda));
            PEL_TEST_OK(pel_stranspose_square(n, f, lda));
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                    bad += a[i + j * lda] != a0[j + i * lda] || f[i + j * lda] != f0[j + i * lda];
            CU_ASSERT_EQUAL(bad, 0);
            CU_ASSERT(mt_padding_kept(PEL_COL_MAJOR, n, n, lda, a, a0, sizeof *a));
            free(a);
            free(a0);
            free(f);
            free(f0);
        }
    mt_threads_default();
}

static void test_transpose_bad_arguments(void)
{
    double a[16], b[16], b0[16];
    float fa[16], fb[16];

    pel_test_fill(a, 16, 1);
    pel_test_fill(b, 16, 2);
    memcpy(b0, b, sizeof b);
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(0, PEL_TRANS, 2, 3, 1.0, a, 3, b, 2), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_domatcopy", "layout=0");
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(PEL_ROW_MAJOR, 'T', 2, 3, 1.0, a, 3, b, 2), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_domatcopy", "trans=84");
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(PEL_ROW_MAJOR, PEL_TRANS, 2, 3, 1.0, a, 2, b, 2), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_domatcopy", "lda=2");
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(PEL_ROW_MAJOR, PEL_TRANS, 2, 3, 1.0, a, 3, b, 1), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_domatcopy", "ldb=1");
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, b, 2), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_domatcopy", "ldb=2");
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(PEL_COL_MAJOR, PEL_TRANS, 2, 3, 1.0, NULL, 2, b, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_domatcopy", "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(PEL_COL_MAJOR, PEL_TRANS, 2, 3, 1.0, a, 2, NULL, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_domatcopy", "b must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(PEL_COL_MAJOR, PEL_TRANS, 2, 3, 1.0, a, 2, a + 3, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_domatcopy", "overlap");
    PEL_TEST_EXPECT_ERROR(pel_domatcopy(PEL_COL_MAJOR, PEL_TRANS, SIZE_MAX / 2, 2, 1.0, a, SIZE_MAX / 2, b, 2),
                          PEL_ERROR_OVERFLOW, "pel_domatcopy", "a (");
    PEL_TEST_EXPECT_ERROR(pel_somatcopy(PEL_COL_MAJOR, PEL_NO_TRANS, 2, 3, 1.0f, fa, 1, fb, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_somatcopy", "lda=1");
    PEL_TEST_EXPECT_ERROR(pel_dtranspose_square(3, a, 2), PEL_ERROR_INVALID_ARGUMENT, "pel_dtranspose_square",
                          "lda=2");
    PEL_TEST_EXPECT_ERROR(pel_dtranspose_square(3, NULL, 3), PEL_ERROR_INVALID_ARGUMENT, "pel_dtranspose_square",
                          "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_stranspose_square(SIZE_MAX / 2, fa, SIZE_MAX / 2), PEL_ERROR_OVERFLOW,
                          "pel_stranspose_square", "a (");
    PEL_TEST_EXPECT_ERROR(pel_stranspose_square(2, fa, 0), PEL_ERROR_INVALID_ARGUMENT, "pel_stranspose_square",
                          "lda=0");
    CU_ASSERT(memcmp(b, b0, sizeof b) == 0);
}

/* ------------------------------------------------------------ vector ops */

static const size_t vector_sizes[] = {0, 1, 2, 3, 5, 9, 65, 257, 4096, 4097, 40000, 100003};
static const ptrdiff_t vector_incs[] = {1, 2, -1, -3};

/* Offset of element i of a vector of n at increment inc (BLAS order). */
static size_t vidx(size_t n, ptrdiff_t inc, size_t i)
{
    return inc > 0 ? i * (size_t)inc : (n - 1 - i) * (size_t)-inc;
}

static size_t vspan(size_t n, ptrdiff_t inc)
{
    return n == 0 ? 1 : (n - 1) * (size_t)(inc < 0 ? -inc : inc) + 1;
}

static void test_axpy_scal(void)
{
    unsigned seed = 400, count = 0;
    for (size_t s = 0; s < sizeof vector_sizes / sizeof vector_sizes[0]; s++)
        for (size_t i = 0; i < 4; i++, count++) {
            size_t n = vector_sizes[s];
            ptrdiff_t incx = vector_incs[i], incy = vector_incs[(i + 1) % 4];
            size_t sx = vspan(n, incx), sy = vspan(n, incy), bad = 0;
            double *x = mt_random(sx, seed++), *y = mt_random(sy, seed++), *x0 = mt_copy(x, sx), *y0 = mt_copy(y, sy);
            float *fx = mt_random_float(sx, seed++), *fy = mt_random_float(sy, seed++), *fy0 = mt_copy_float(fy, sy);
            mt_threads(matrix_test_threads[count % 4]);
            PEL_TEST_OK(pel_daxpy(n, -0.731, x, incx, y, incy));
            PEL_TEST_OK(pel_saxpy(n, -0.731f, fx, incx, fy, incy));
            for (size_t k = 0; k < n; k++) {
                bad += y[vidx(n, incy, k)] != y0[vidx(n, incy, k)] + -0.731 * x[vidx(n, incx, k)];
                bad += fy[vidx(n, incy, k)] != fy0[vidx(n, incy, k)] + -0.731f * fx[vidx(n, incx, k)];
            }
            CU_ASSERT(memcmp(x, x0, sx * sizeof *x) == 0);
            memcpy(y0, y, sy * sizeof *y);
            PEL_TEST_OK(pel_dscal(n, 1.7, y, incy));
            PEL_TEST_OK(pel_sscal(n, 1.7f, fy, incy));
            {
                /* Elements between the strided ones stay. */
                unsigned char *touched = calloc(sy, 1);
                for (size_t q = 0; q < n; q++)
                    touched[vidx(n, incy, q)] = 1;
                for (size_t k = 0; k < sy; k++)
                    bad += y[k] != (touched[k] ? 1.7 * y0[k] : y0[k]);
                free(touched);
            }
            CU_ASSERT_EQUAL(bad, 0);
            free(x);
            free(y);
            free(x0);
            free(y0);
            free(fx);
            free(fy);
            free(fy0);
        }
    /* The same vector twice is allowed for axpy: y = y + a*y. */
    {
        double v[3] = {1, 2, 3};
        PEL_TEST_OK(pel_daxpy(3, 1.0, v, 1, v, 1));
        CU_ASSERT(v[0] == 2 && v[1] == 4 && v[2] == 6);
    }
    mt_threads_default();
}

/* Reference sums in long double for dot, sum of squares and asum. */
static void check_reductions(size_t n, ptrdiff_t incx, ptrdiff_t incy, int threads, uint64_t seed)
{
    size_t sx = vspan(n, incx), sy = vspan(n, incy);
    double *x = mt_random(sx, seed), *y = mt_random(sy, seed + 1), *x0 = mt_copy(x, sx);
    float *fx = mt_random_float(sx, seed + 2), *fy = mt_random_float(sy, seed + 3);
    long double dot = 0, adot = 0, sq = 0, asum = 0, fdot = 0, afdot = 0, fsq = 0, fasum = 0;
    double r, bound = (PEL_REDUCE_BLOCK / 8 + 64 + 2) * DBL_EPSILON;
    float f;

    for (size_t i = 0; i < n; i++) {
        long double a = x[vidx(n, incx, i)], b = y[vidx(n, incy, i)];
        long double fa = fx[vidx(n, incx, i)], fb = fy[vidx(n, incy, i)];
        dot += a * b;
        adot += fabsl(a * b);
        sq += a * a;
        asum += fabsl(a);
        fdot += fa * fb;
        afdot += fabsl(fa * fb);
        fsq += fa * fa;
        fasum += fabsl(fa);
    }
    mt_threads(threads);
    PEL_TEST_OK(pel_ddot(n, x, incx, y, incy, &r));
    CU_ASSERT(fabsl(r - dot) <= bound * adot);
    PEL_TEST_OK(pel_dnrm2(n, x, incx, &r));
    CU_ASSERT(fabsl(r - sqrtl(sq)) <= bound * sqrtl(sq) + DBL_MIN);
    PEL_TEST_OK(pel_dasum(n, x, incx, &r));
    CU_ASSERT(fabsl(r - asum) <= bound * asum);
    /* Float results: accumulated in double, then one rounding to float. */
    PEL_TEST_OK(pel_sdot(n, fx, incx, fy, incy, &f));
    CU_ASSERT(fabsl(f - fdot) <= FLT_EPSILON * fabsl(fdot) + bound * afdot + FLT_MIN);
    PEL_TEST_OK(pel_snrm2(n, fx, incx, &f));
    CU_ASSERT(fabsl(f - sqrtl(fsq)) <= FLT_EPSILON * sqrtl(fsq) + FLT_MIN);
    PEL_TEST_OK(pel_sasum(n, fx, incx, &f));
    CU_ASSERT(fabsl(f - fasum) <= FLT_EPSILON * fasum + FLT_MIN);
    CU_ASSERT(memcmp(x, x0, sx * sizeof *x) == 0);
    free(x);
    free(y);
    free(x0);
    free(fx);
    free(fy);
}

static void test_reductions_accuracy(void)
{
    unsigned seed = 500, count = 0;
    for (size_t s = 0; s < sizeof vector_sizes / sizeof vector_sizes[0]; s++)
        for (size_t i = 0; i < 4; i++, count++)
            check_reductions(vector_sizes[s], vector_incs[i], vector_incs[(i + 3) % 4], matrix_test_threads[count % 4],
                             seed += 4);
    mt_threads_default();
}

/* The same bits for 1..8 threads, and for every kernel table. */
static void test_reductions_bit_identical(void)
{
    enum { N = 300007 };
    double *x = mt_random(N, 1), *y = mt_random(N, 2), ref[3], got[3];
    float *fx = mt_random_float(N, 3), *fy = mt_random_float(N, 4), fref[3], fgot[3];

    for (int t = 1; t <= 8; t++) {
        mt_threads(t);
        PEL_TEST_OK(pel_ddot(N, x, 1, y, 1, &got[0]));
        PEL_TEST_OK(pel_dnrm2(N, x, 1, &got[1]));
        PEL_TEST_OK(pel_dasum(N / 2, x, -2, &got[2]));
        PEL_TEST_OK(pel_sdot(N, fx, 1, fy, 1, &fgot[0]));
        PEL_TEST_OK(pel_snrm2(N, fx, 1, &fgot[1]));
        PEL_TEST_OK(pel_sasum(N, fx, 1, &fgot[2]));
        if (t == 1) {
            memcpy(ref, got, sizeof ref);
            memcpy(fref, fgot, sizeof fref);
        }
        CU_ASSERT(memcmp(ref, got, sizeof ref) == 0);
        CU_ASSERT(memcmp(fref, fgot, sizeof fref) == 0);
    }
    /* The portable and AVX2 block kernels follow the same order. */
    {
        const pel__matrix_kernels *r = pel__matrix_kernels_find("reference"), *v = pel__matrix_kernels_find("avx2");
        if (v != NULL)
            for (size_t n = 0; n <= PEL_REDUCE_BLOCK; n += n < 40 ? 1 : 997) {
                double a = r->ddot_block(n, x, y), b = v->ddot_block(n, x, y);
                CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
                a = r->dsumsq_block(n, x, 0.5);
                b = v->dsumsq_block(n, x, 0.5);
                CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
                a = r->dasum_block(n, x);
                b = v->dasum_block(n, x);
                CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
                {
                    double ma, mb;
                    a = r->dsumsq_max_block(n, x, &ma);
                    b = v->dsumsq_max_block(n, x, &mb);
                    CU_ASSERT(memcmp(&a, &b, sizeof a) == 0 && ma == mb);
                }
            }
    }
    free(x);
    free(y);
    free(fx);
    free(fy);
    mt_threads_default();
}

/* nrm2 of huge and tiny values: no overflow, no underflow; NaN and Inf. */
static void test_nrm2_extremes(void)
{
    enum { N = 10000 };
    double *x = malloc(N * sizeof *x), r;
    float fx[3] = {3e38f, 2e38f, 0}, f;
    static const double scales[] = {1e300, 1e-300, 1e-320, DBL_MAX / 4};

    for (size_t s = 0; s < 4; s++) {
        /* N elements of 3*scale and N of 4*scale: norm = 5*scale*sqrt(N). */
        for (size_t i = 0; i < N; i++)
            x[i] = (i % 2 ? 4.0 : 3.0) * scales[s] / (s == 3 ? 100.0 : 1.0);
        for (int t = 1; t <= 3; t++) {
            long double want = 5.0L * scales[s] / (s == 3 ? 100.0L : 1.0L) * sqrtl(N / 2.0L);
            mt_threads(t);
            PEL_TEST_OK(pel_dnrm2(N, x, 1, &r));
            /* Subnormal inputs carry fewer bits: compare relative to their precision. */
            CU_ASSERT(fabsl(r - want) <= (s == 2 ? 1e-3L : 1e-12L) * want);
        }
    }
    /* Blocks on different scales (huge, ordinary, tiny) joined exactly. */
    for (size_t i = 0; i < N; i++)
        x[i] = i < PEL_REDUCE_BLOCK ? 3e200 : i < 2 * PEL_REDUCE_BLOCK ? 1.0 : 4e-200;
    for (int t = 1; t <= 3; t++) {
        mt_threads(t);
        PEL_TEST_OK(pel_dnrm2(N, x, 1, &r));
        CU_ASSERT(fabs(r - 3e200 * sqrt((double)PEL_REDUCE_BLOCK)) <= 1e-13 * r);
        PEL_TEST_OK(pel_dnrm2(N - 2 * PEL_REDUCE_BLOCK, x + 2 * PEL_REDUCE_BLOCK, 1, &r));
        CU_ASSERT(fabs(r - 4e-200 * sqrt((double)(N - 2 * PEL_REDUCE_BLOCK))) <= 1e-13 * r);
    }
    x[0] = DBL_MAX;
    x[1] = DBL_MAX;
    PEL_TEST_OK(pel_dnrm2(2, x, 1, &r));
    CU_ASSERT(isinf(r)); /* the true norm exceeds DBL_MAX */
    x[0] = DBL_MAX / 2;
    x[1] = DBL_MAX / 2;
    PEL_TEST_OK(pel_dnrm2(2, x, 1, &r));
    CU_ASSERT(fabs(r - DBL_MAX / 2 * sqrt(2.0)) <= 4 * DBL_EPSILON * r);
    x[0] = INFINITY;
    PEL_TEST_OK(pel_dnrm2(5, x, 1, &r));
    CU_ASSERT(isinf(r));
    x[1] = NAN;
    PEL_TEST_OK(pel_dnrm2(5, x, 1, &r));
    CU_ASSERT(isnan(r));
    for (size_t i = 0; i < N; i++)
        x[i] = 0.0;
    x[N - 1] = NAN;
    PEL_TEST_OK(pel_dnrm2(N, x, 1, &r));
    CU_ASSERT(isnan(r));
    x[N - 1] = 0.0;
    PEL_TEST_OK(pel_dnrm2(N, x, 1, &r));
    CU_ASSERT(r == 0.0);
    PEL_TEST_OK(pel_snrm2(2, fx, 1, &f));
    CU_ASSERT(isinf(f)); /* 3.6e38 exceeds FLT_MAX: Inf, not NaN or garbage */
    fx[0] = 3e-38f;
    fx[1] = 4e-38f;
    PEL_TEST_OK(pel_snrm2(3, fx, 1, &f));
    CU_ASSERT(fabsf(f - 5e-38f) <= 2 * FLT_EPSILON * 5e-38f);
    free(x);
    mt_threads_default();
}

static void test_vector_bad_arguments(void)
{
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8], y0[8], r = 42.0;
    float fx[4] = {1, 2, 3, 4}, fr = 42.0f;

    memcpy(y, x, sizeof x);
    memcpy(y0, y, sizeof y);
    PEL_TEST_EXPECT_ERROR(pel_daxpy(3, 1.0, NULL, 1, y, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_daxpy", "x must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_daxpy(3, 1.0, x, 1, NULL, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_daxpy", "y must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_daxpy(3, 1.0, x, 0, y, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_daxpy", "incx=0");
    PEL_TEST_EXPECT_ERROR(pel_daxpy(3, 1.0, x, 1, y, 0), PEL_ERROR_INVALID_ARGUMENT, "pel_daxpy", "incy=0");
    PEL_TEST_EXPECT_ERROR(pel_daxpy(3, 1.0, y + 1, 1, y, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_daxpy", "overlap");
    PEL_TEST_EXPECT_ERROR(pel_daxpy(SIZE_MAX / 2, 1.0, x, 4, y, 1), PEL_ERROR_OVERFLOW, "pel_daxpy", "incx=4");
    PEL_TEST_EXPECT_ERROR(pel_saxpy(3, 1.0f, fx, 1, NULL, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_saxpy", "y must not");
    PEL_TEST_EXPECT_ERROR(pel_dscal(3, 1.0, NULL, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_dscal", "x must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dscal(3, 1.0, y, 0), PEL_ERROR_INVALID_ARGUMENT, "pel_dscal", "incx=0");
    PEL_TEST_EXPECT_ERROR(pel_sscal(3, 1.0f, fx, 0), PEL_ERROR_INVALID_ARGUMENT, "pel_sscal", "incx=0");
    PEL_TEST_EXPECT_ERROR(pel_ddot(3, x, 1, y, 1, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_ddot", "result");
    PEL_TEST_EXPECT_ERROR(pel_ddot(3, NULL, 1, y, 1, &r), PEL_ERROR_INVALID_ARGUMENT, "pel_ddot", "x must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_ddot(3, x, 1, NULL, 1, &r), PEL_ERROR_INVALID_ARGUMENT, "pel_ddot", "y must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_ddot(3, x, 0, y, 1, &r), PEL_ERROR_INVALID_ARGUMENT, "pel_ddot", "incx=0");
    PEL_TEST_EXPECT_ERROR(pel_ddot(3, x, 1, y, 0, &r), PEL_ERROR_INVALID_ARGUMENT, "pel_ddot", "incy=0");
    PEL_TEST_EXPECT_ERROR(pel_ddot(SIZE_MAX / 8, x, 2, y, 1, &r), PEL_ERROR_OVERFLOW, "pel_ddot", "incx=2");
    PEL_TEST_EXPECT_ERROR(pel_sdot(3, fx, 1, fx, 1, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_sdot", "result");
    PEL_TEST_EXPECT_ERROR(pel_dnrm2(3, NULL, 1, &r), PEL_ERROR_INVALID_ARGUMENT, "pel_dnrm2", "x must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dnrm2(3, x, 0, &r), PEL_ERROR_INVALID_ARGUMENT, "pel_dnrm2", "incx=0");
    PEL_TEST_EXPECT_ERROR(pel_dnrm2(3, x, 1, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_dnrm2", "result");
    PEL_TEST_EXPECT_ERROR(pel_snrm2(3, fx, 0, &fr), PEL_ERROR_INVALID_ARGUMENT, "pel_snrm2", "incx=0");
    PEL_TEST_EXPECT_ERROR(pel_dasum(3, x, 0, &r), PEL_ERROR_INVALID_ARGUMENT, "pel_dasum", "incx=0");
    PEL_TEST_EXPECT_ERROR(pel_dasum(3, x, 1, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_dasum", "result");
    PEL_TEST_EXPECT_ERROR(pel_sasum(3, NULL, 1, &fr), PEL_ERROR_INVALID_ARGUMENT, "pel_sasum", "x must not be NULL");
    CU_ASSERT(r == 42.0 && fr == 42.0f);
    CU_ASSERT(memcmp(y, y0, sizeof y) == 0);
    /* n = 0 gives 0 and accepts NULL. */
    PEL_TEST_OK(pel_ddot(0, NULL, 1, NULL, 1, &r));
    CU_ASSERT(r == 0.0);
    PEL_TEST_OK(pel_dnrm2(0, NULL, 1, &r));
    CU_ASSERT(r == 0.0);
}

/* ------------------------------------------------------------ solves */

/* ||A x - b||_inf / (||A||_inf ||x||_inf) for column j of X and B0. */
static double residual(pel_layout layout, size_t n, const double *a, size_t lda, const double *x, const double *b0,
                       size_t ldb, size_t j)
{
    long double worst = 0, norm_a = 0, norm_x = 0;
    for (size_t i = 0; i < n; i++) {
        long double s = 0, row = 0;
        for (size_t p = 0; p < n; p++) {
            s += (long double)a[mt_index(layout, lda, i, p)] * x[mt_index(layout, ldb, p, j)];
            row += fabsl((long double)a[mt_index(layout, lda, i, p)]);
        }
        s -= b0[mt_index(layout, ldb, i, j)];
        worst = fabsl(s) > worst ? fabsl(s) : worst;
        norm_a = row > norm_a ? row : norm_a;
        norm_x = fabsl((long double)x[mt_index(layout, ldb, i, j)]) > norm_x ? fabsl((long double)x[mt_index(layout, ldb, i, j)]) : norm_x;
    }
    return norm_a == 0 || norm_x == 0 ? 0.0 : (double)(worst / (norm_a * norm_x));
}

static void test_solves(void)
{
    static const size_t sizes[] = {0, 1, 2, 3, 5, 9, 65, 257};
    unsigned seed = 700, count = 0;

    for (size_t l = 0; l < 2; l++)
        for (size_t s = 0; s < 8; s++)
            for (size_t spd = 0; spd < 2; spd++, count++) {
                pel_layout layout = matrix_test_layouts[l];
                size_t n = sizes[s], nrhs = s % 3 + 1, lda = (n ? n : 1) + 2, ldb = mt_ld(layout, n, nrhs, 1);
                size_t na = lda * (n ? n : 1), nb = mt_elems(layout, n, nrhs, ldb);
                double *a = mt_random(na, seed++), *b = mt_random(nb, seed++), *a0, *b0;
                double bound = 10.0 * (double)(n ? n : 1) * DBL_EPSILON;
                if (spd) {
                    /* A = M M^T / n + I is symmetric positive definite. Only the
                     * lower triangle is valid; the upper holds garbage that the
                     * solver must not read. */
                    double *m = mt_copy(a, na);
                    for (size_t i = 0; i < n; i++)
                        for (size_t j = 0; j < n; j++) {
                            double sum = i == j ? 1.0 : 0.0;
                            for (size_t p = 0; p < n; p++)
                                sum += m[i + p * lda] * m[j + p * lda] / (double)n;
                            a[mt_index(layout, lda, i, j)] = sum;
                        }
                    free(m);
                }
                a0 = mt_copy(a, na);
                b0 = mt_copy(b, nb);
                if (spd) {
                    double *lower = mt_copy(a, na);
                    for (size_t i = 0; i < n; i++)
                        for (size_t j = i + 1; j < n; j++)
                            lower[mt_index(layout, lda, i, j)] = NAN;
                    mt_threads(matrix_test_threads[count % 4]);
                    PEL_TEST_OK(pel_dposv(layout, PEL_LOWER, n, nrhs, lower, lda, b, ldb));
                    free(lower);
                } else {
                    mt_threads(matrix_test_threads[count % 4]);
                    PEL_TEST_OK(pel_dgesv(layout, n, nrhs, a, lda, b, ldb));
                }
                for (size_t j = 0; j < nrhs; j++)
                    CU_ASSERT(residual(layout, n, a0, lda, b, b0, ldb, j) <= bound);
                CU_ASSERT(memcmp(a, a0, na * sizeof *a) == 0);
                CU_ASSERT(mt_padding_kept(layout, n, nrhs, ldb, b, b0, sizeof *b));
                free(a);
                free(b);
                free(a0);
                free(b0);
            }
    mt_threads_default();
}

static void test_float_solves(void)
{
    enum { N = 33, R = 2 };
    float a[N * N], b[N * R], b0[N * R];
    for (int upper = 0; upper < 2; upper++) {
        pel_test_fill_float(a, N * N, 9);
        for (size_t i = 0; i < N; i++)
            a[i + i * N] += N; /* diagonally dominant: nonsingular, and SPD once symmetrised */
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < i; j++)
                a[i + j * N] = a[j + i * N];
        pel_test_fill_float(b, N * R, 10);
        memcpy(b0, b, sizeof b);
        if (upper)
            PEL_TEST_OK(pel_sposv(PEL_ROW_MAJOR, PEL_UPPER, N, R, a, N, b, R));
        else
            PEL_TEST_OK(pel_sgesv(PEL_ROW_MAJOR, N, R, a, N, b, R));
        for (size_t j = 0; j < R; j++)
            for (size_t i = 0; i < N; i++) {
                double s = 0;
                for (size_t p = 0; p < N; p++)
                    s += (double)a[i * N + p] * b[p * R + j];
                CU_ASSERT(fabs(s - b0[i * R + j]) <= 10.0 * N * FLT_EPSILON * 2 * N);
            }
    }
}

static void test_solve_errors(void)
{
    double a[9] = {1, 2, 3, 2, 4, 6, 1, 0, 1}; /* column-major: column 1 = 2 * column 0 */
    double b[6] = {1, 2, 3, 4, 5, 6}, b0[6], a0[9];
    double not_spd[4] = {1, 2, 2, 1};
    float fa[4] = {1, 2, 2, 4}, fb[2] = {1, 1}, fns[4] = {-1, 0, 0, 1};

    memcpy(b0, b, sizeof b);
    memcpy(a0, a, sizeof a);
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_COL_MAJOR, 3, 2, a, 3, b, 3), PEL_ERROR_SINGULAR, "pel_dgesv", "pivot 2 of 3");
    CU_ASSERT(memcmp(b, b0, sizeof b) == 0);
    CU_ASSERT(memcmp(a, a0, sizeof a) == 0);
    PEL_TEST_EXPECT_ERROR(pel_dposv(PEL_ROW_MAJOR, PEL_UPPER, 2, 1, not_spd, 2, b, 1), PEL_ERROR_NOT_POSITIVE_DEFINITE,
                          "pel_dposv", "leading minor of order 2");
    CU_ASSERT(memcmp(b, b0, sizeof b) == 0);
    PEL_TEST_EXPECT_ERROR(pel_sgesv(PEL_ROW_MAJOR, 2, 1, fa, 2, fb, 1), PEL_ERROR_SINGULAR, "pel_sgesv", "pivot 2");
    PEL_TEST_EXPECT_ERROR(pel_sposv(PEL_COL_MAJOR, PEL_LOWER, 2, 1, fns, 2, fb, 2), PEL_ERROR_NOT_POSITIVE_DEFINITE,
                          "pel_sposv", "order 1");
    CU_ASSERT(fb[0] == 1.0f && fb[1] == 1.0f);
    PEL_TEST_EXPECT_ERROR(pel_dgesv(0, 3, 2, a, 3, b, 3), PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv", "layout=0");
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_COL_MAJOR, 3, 2, NULL, 3, b, 3), PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv",
                          "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_COL_MAJOR, 3, 2, a, 3, NULL, 3), PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv",
                          "b must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_COL_MAJOR, 3, 2, a, 2, b, 3), PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv", "lda=2");
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_COL_MAJOR, 3, 2, a, 3, b, 2), PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv", "ldb=2");
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_ROW_MAJOR, 3, 2, a, 3, b, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv", "ldb=1");
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_COL_MAJOR, 3, 2, a, 3, a + 1, 3), PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv",
                          "overlap");
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_COL_MAJOR, 1, (size_t)INT_MAX + 1, a, 1, (double *)(uintptr_t)64, 1),
                          PEL_ERROR_UNSUPPORTED, "pel_dgesv", "nrhs=2147483648");
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_COL_MAJOR, SIZE_MAX / 4, 1, a, SIZE_MAX / 4, b, SIZE_MAX / 4),
                          PEL_ERROR_OVERFLOW, "pel_dgesv", "a (");
    PEL_TEST_EXPECT_ERROR(pel_dposv(PEL_COL_MAJOR, 0, 3, 2, a, 3, b, 3), PEL_ERROR_INVALID_ARGUMENT, "pel_dposv",
                          "uplo=0");
    PEL_TEST_EXPECT_ERROR(pel_dposv(PEL_COL_MAJOR, PEL_UPPER, 3, 2, a, 1, b, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_dposv", "lda=1");
    PEL_TEST_EXPECT_ERROR(pel_sposv(PEL_COL_MAJOR, PEL_UPPER, 2, 1, NULL, 2, fb, 2), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_sposv", "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_sgesv(7, 2, 1, fa, 2, fb, 2), PEL_ERROR_INVALID_ARGUMENT, "pel_sgesv", "layout=7");
    CU_ASSERT(memcmp(b, b0, sizeof b) == 0);
    CU_ASSERT(memcmp(a, a0, sizeof a) == 0);
    /* Empty systems are fine. */
    PEL_TEST_OK(pel_dgesv(PEL_COL_MAJOR, 0, 3, NULL, 1, NULL, 1));
    PEL_TEST_OK(pel_dposv(PEL_ROW_MAJOR, PEL_LOWER, 3, 0, a, 3, NULL, 1));
}

static void add_suites(void)
{
    static const pel_test_case transpose[] = {
        {"domatcopy: every layout, op, size, alpha", test_omatcopy},
        {"somatcopy", test_somatcopy},
        {"transpose kernels", test_transpose_kernels},
        {"in-place square transpose", test_transpose_square},
        {"bad arguments", test_transpose_bad_arguments},
        {NULL, NULL},
    };
    static const pel_test_case vector[] = {
        {"axpy and scal", test_axpy_scal},
        {"dot, nrm2, asum accuracy", test_reductions_accuracy},
        {"bit-identical for 1..8 threads and every kernel", test_reductions_bit_identical},
        {"nrm2 of huge, tiny and nonfinite values", test_nrm2_extremes},
        {"bad arguments", test_vector_bad_arguments},
        {NULL, NULL},
    };
    static const pel_test_case solve[] = {
        {"gesv and posv residuals", test_solves},
        {"float solves", test_float_solves},
        {"singular, not SPD and bad arguments", test_solve_errors},
        {NULL, NULL},
    };
    pel_test_add_suite("matrix transpose", transpose);
    pel_test_add_suite("matrix vector ops", vector);
    pel_test_add_suite("matrix solves", solve);
}

int main(void)
{
    return pel_test_main("test_matrix_ops", add_suites);
}
