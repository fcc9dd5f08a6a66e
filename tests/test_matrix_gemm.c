/* Tests of pel_dgemm, pel_sgemm, pel_zgemm, pel_dgemv and pel_sgemv against a
 * naive long-double reference: every layout and transpose, sizes
 * {0,1,2,3,5,9,65,257}, padded leading dimensions, 1/2/3/8 threads, the
 * alpha/beta rules and every bad argument.
 *
 * Tolerance: the reference-BLAS test ratio
 * |C - Cref| / (eps * (|alpha| |A||B| + |beta| |C|)) < 16. A k-term dot
 * product has a worst-case error of k*eps times that denominator, but
 * blocked summation with random signs stays within a few eps; 16 is the
 * threshold of the reference BLAS test suite. */
#include "matrix_test_util.h"

#include <limits.h>
#include <stdint.h>

static const double ALPHA = 0.731, BETA = -1.27;

/* Runs one dgemm case and checks the ratio, unchanged inputs and untouched
 * padding of C. */
static void dgemm_case(pel_layout layout, pel_transpose ta, pel_transpose tb, size_t m, size_t n, size_t k,
                       size_t pad, double alpha, double beta, int threads, uint64_t seed)
{
    size_t ar, ac, br, bc, lda, ldb, ldc, na, nb, nc;
    double *a, *b, *c, *a0, *b0, *c0, ratio;

    ar = ta == PEL_NO_TRANS ? m : k;
    ac = ta == PEL_NO_TRANS ? k : m;
    br = tb == PEL_NO_TRANS ? k : n;
    bc = tb == PEL_NO_TRANS ? n : k;
    lda = mt_ld(layout, ar, ac, pad);
    ldb = mt_ld(layout, br, bc, pad);
    ldc = mt_ld(layout, m, n, pad);
    na = mt_elems(layout, ar, ac, lda);
    nb = mt_elems(layout, br, bc, ldb);
    nc = mt_elems(layout, m, n, ldc);
    a = mt_random(na, seed);
    b = mt_random(nb, seed + 1);
    c = mt_random(nc, seed + 2);
    a0 = mt_copy(a, na);
    b0 = mt_copy(b, nb);
    c0 = mt_copy(c, nc);
    mt_threads(threads);
    PEL_TEST_OK(pel_dgemm(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
    ratio = mt_gemm_ratio(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, c, ldc, 0x1p-53);
    if (ratio >= 16.0)
        fprintf(stderr, "dgemm layout=%d ta=%d tb=%d m=%zu n=%zu k=%zu threads=%d: ratio %g\n", layout, ta, tb, m, n,
                k, threads, ratio);
    CU_ASSERT(ratio < 16.0);
    CU_ASSERT(memcmp(a, a0, na * sizeof *a) == 0);
    CU_ASSERT(memcmp(b, b0, nb * sizeof *b) == 0);
    CU_ASSERT(mt_padding_kept(layout, m, n, ldc, c, c0, sizeof *c));
    free(a);
    free(b);
    free(c);
    free(a0);
    free(b0);
    free(c0);
}

static void test_dgemm_combinations(void)
{
    static const size_t small[] = {0, 1, 2, 3, 5, 9};
    unsigned seed = 1, count = 0;

    for (size_t l = 0; l < 2; l++)
        for (size_t ta = 0; ta < 3; ta++)
            for (size_t tb = 0; tb < 3; tb++) {
                pel_layout layout = matrix_test_layouts[l];
                pel_transpose a = matrix_test_transposes[ta], b = matrix_test_transposes[tb];
                /* Every (m, n, k) from the small sizes, tight and padded. */
                for (size_t i = 0; i < 6; i++)
                    for (size_t j = 0; j < 6; j++)
                        for (size_t p = 0; p < 6; p++, count++)
                            dgemm_case(layout, a, b, small[i], small[j], small[p], count % 2 ? 3 : 0, ALPHA, BETA,
                                       matrix_test_threads[count % 4], seed++);
                /* The larger sizes, non-square so that m, n and k are told apart. */
                dgemm_case(layout, a, b, 65, 65, 65, 1, ALPHA, BETA, matrix_test_threads[count++ % 4], seed++);
                dgemm_case(layout, a, b, 257, 65, 9, 2, ALPHA, BETA, matrix_test_threads[count++ % 4], seed++);
                dgemm_case(layout, a, b, 9, 257, 65, 0, ALPHA, BETA, matrix_test_threads[count++ % 4], seed++);
                dgemm_case(layout, a, b, 65, 9, 257, 5, ALPHA, BETA, matrix_test_threads[count++ % 4], seed++);
            }
    for (int t = 0; t < 4; t++)
        dgemm_case(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_TRANS, 257, 257, 257, 3, ALPHA, BETA, matrix_test_threads[t],
                   seed++);
    mt_threads_default();
}

/* beta = 0 must not read C (NaN there must not leak), alpha = 0 must not
 * read A or B, k = 0 scales C by beta, beta = 1 adds. */
static void test_dgemm_alpha_beta_rules(void)
{
    enum { M = 9, N = 5, K = 3 };
    double a[M * K], b[K * N], c[M * N], ref[M * N];
    pel_test_fill(a, M * K, 3);
    pel_test_fill(b, K * N, 4);

    for (int t = 0; t < 4; t++) {
        mt_threads(matrix_test_threads[t]);
        /* beta = 0 with NaN and Inf in C. */
        for (size_t i = 0; i < M * N; i++)
            c[i] = i % 2 ? NAN : INFINITY;
        PEL_TEST_OK(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, M, N, K, 1.0, a, M, b, K, 0.0, c, M));
        for (size_t i = 0; i < M * N; i++)
            CU_ASSERT(isfinite(c[i]));
        /* alpha = 0 with NaN in A and B: C = beta*C exactly. */
        {
            double na[M * K], nb[K * N];
            for (size_t i = 0; i < M * K; i++)
                na[i] = NAN;
            for (size_t i = 0; i < K * N; i++)
                nb[i] = NAN;
            pel_test_fill(c, M * N, 5);
            for (size_t i = 0; i < M * N; i++)
                ref[i] = BETA * c[i];
            PEL_TEST_OK(pel_dgemm(PEL_ROW_MAJOR, PEL_TRANS, PEL_NO_TRANS, M, N, K, 0.0, na, M, nb, N, BETA, c, N));
            CU_ASSERT(memcmp(c, ref, sizeof c) == 0);
            /* alpha = 0 and beta = 0: zeros, even over NaN. */
            for (size_t i = 0; i < M * N; i++)
                c[i] = NAN;
            PEL_TEST_OK(pel_dgemm(PEL_ROW_MAJOR, PEL_TRANS, PEL_NO_TRANS, M, N, K, 0.0, na, M, nb, N, 0.0, c, N));
            for (size_t i = 0; i < M * N; i++)
                CU_ASSERT(c[i] == 0.0);
        }
        /* k = 0: C = beta*C; A and B may be NULL (no elements). */
        pel_test_fill(c, M * N, 6);
        for (size_t i = 0; i < M * N; i++)
            ref[i] = BETA * c[i];
        PEL_TEST_OK(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, M, N, 0, 1.0, NULL, M, NULL, 1, BETA, c, M));
        CU_ASSERT(memcmp(c, ref, sizeof c) == 0);
        /* m = 0 or n = 0: nothing is touched, NULL is fine. */
        PEL_TEST_OK(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 0, 0, 5, 1.0, NULL, 1, NULL, 5, 0.0, NULL, 1));
    }
    /* beta = 1 and special alphas go through the ratio test. */
    dgemm_case(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 9, 9, 9, 1, 1.0, 1.0, 2, 77);
    dgemm_case(PEL_ROW_MAJOR, PEL_TRANS, PEL_TRANS, 65, 5, 9, 0, -1.0, 0.0, 3, 78);
    mt_threads_default();
}

static void test_dgemm_bad_arguments(void)
{
    double a[16], b[16], c[16], c0[16];
    double *big = (double *)(uintptr_t)64; /* never dereferenced: refused first */
    const size_t huge = SIZE_MAX / 4;

    pel_test_fill(a, 16, 7);
    pel_test_fill(b, 16, 8);
    pel_test_fill(c, 16, 9);
    memcpy(c0, c, sizeof c);
    PEL_TEST_EXPECT_ERROR(pel_dgemm(0, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "layout=0");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, 7, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "transa=7");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, 114, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "transb=114");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 3, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 3),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "lda=2");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 3, 2, 1.0, a, 2, b, 2, 0.0, c, 3),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "ldb=2");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 3, 2, 1.0, a, 2, b, 3, 0.0, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "ldc=2");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_ROW_MAJOR, PEL_TRANS, PEL_NO_TRANS, 3, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "lda=2");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 0, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 0),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "ldc=0");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, NULL, 2, b, 2, 0.0, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, NULL, 2, 0.0, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "b must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, NULL, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "c must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, c + 2, 2, b, 2, 0.0, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "c overlaps a");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, c, 2, 0.0, c + 1, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "c overlaps b");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, huge, 1, 1, 1.0, big, huge, big, 1,
                                    0.0, big, huge),
                          PEL_ERROR_OVERFLOW, "pel_dgemm", "a (");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 1, 1, 1, 1.0, a, (size_t)INT_MAX + 1,
                                    b, 1, 0.0, c, 1),
                          PEL_ERROR_UNSUPPORTED, "pel_dgemm", "lda=2147483648 exceeds");
    PEL_TEST_EXPECT_ERROR(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 1, (size_t)INT_MAX + 1, 0, 1.0, a, 1,
                                    b, (size_t)INT_MAX + 1, 0.0, c, (size_t)INT_MAX + 1),
                          PEL_ERROR_UNSUPPORTED, "pel_dgemm", "n=2147483648");
    CU_ASSERT(memcmp(c, c0, sizeof c) == 0);
    PEL_TEST_EXPECT_ERROR(pel_sgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0f, NULL, 2, NULL, 2, 0.0f,
                                    NULL, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_sgemm", "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_sgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_TRANS, 2, 3, 2, 1.0f, (float *)a, 2, (float *)b,
                                    2, 0.0f, (float *)c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_sgemm", "ldb=2");
    CU_ASSERT(memcmp(c, c0, sizeof c) == 0);
}

/* ------------------------------------------------------------ sgemm */

static void sgemm_case(pel_layout layout, pel_transpose ta, pel_transpose tb, size_t m, size_t n, size_t k,
                       size_t pad, float alpha, float beta, int threads, uint64_t seed)
{
    size_t ar = ta == PEL_NO_TRANS ? m : k, ac = ta == PEL_NO_TRANS ? k : m;
    size_t br = tb == PEL_NO_TRANS ? k : n, bc = tb == PEL_NO_TRANS ? n : k;
    size_t lda = mt_ld(layout, ar, ac, pad), ldb = mt_ld(layout, br, bc, pad), ldc = mt_ld(layout, m, n, pad);
    size_t na = mt_elems(layout, ar, ac, lda), nb = mt_elems(layout, br, bc, ldb), nc = mt_elems(layout, m, n, ldc);
    float *a = mt_random_float(na, seed), *b = mt_random_float(nb, seed + 1), *c = mt_random_float(nc, seed + 2);
    float *a0 = mt_copy_float(a, na), *b0 = mt_copy_float(b, nb), *c0 = mt_copy_float(c, nc);
    double ratio;

    mt_threads(threads);
    PEL_TEST_OK(pel_sgemm(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
    ratio = mt_sgemm_ratio(layout, ta, tb, m, n, k, alpha, a, na, lda, b, nb, ldb, beta, c0, c, nc, ldc);
    CU_ASSERT(ratio < 16.0);
    CU_ASSERT(memcmp(a, a0, na * sizeof *a) == 0);
    CU_ASSERT(memcmp(b, b0, nb * sizeof *b) == 0);
    CU_ASSERT(mt_padding_kept(layout, m, n, ldc, c, c0, sizeof *c));
    free(a);
    free(b);
    free(c);
    free(a0);
    free(b0);
    free(c0);
}

static void test_sgemm_combinations(void)
{
    unsigned seed = 100, count = 0;
    float nan_c[4] = {NAN, NAN, NAN, NAN}, one[4] = {1, 1, 1, 1};

    for (size_t l = 0; l < 2; l++)
        for (size_t ta = 0; ta < 3; ta++)
            for (size_t tb = 0; tb < 3; tb++)
                for (size_t s = 0; s < 8; s++, count++) {
                    size_t z = matrix_test_sizes[s];
                    /* 257 only as one dimension, to keep the reference cheap. */
                    size_t m = z, n = z == 257 ? 9 : z, k = z == 257 ? 65 : z;
                    sgemm_case(matrix_test_layouts[l], matrix_test_transposes[ta], matrix_test_transposes[tb], m, n,
                               k, count % 3, 0.731f, count % 5 ? -1.27f : 0.0f, matrix_test_threads[count % 4],
                               seed++);
                }
    PEL_TEST_OK(pel_sgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0f, one, 2, one, 2, 0.0f, nan_c, 2));
    for (int i = 0; i < 4; i++)
        CU_ASSERT(nan_c[i] == 2.0f);
    mt_threads_default();
}

/* ------------------------------------------------------------ zgemm */

/* op(X)(i,p) of an interleaved complex matrix, conjugated for CONJ_TRANS. */
static void zget(const double *x, pel_layout layout, size_t ld, pel_transpose t, size_t i, size_t p, long double *re,
                 long double *im)
{
    size_t idx = t == PEL_NO_TRANS ? mt_index(layout, ld, i, p) : mt_index(layout, ld, p, i);
    *re = x[2 * idx];
    *im = t == PEL_CONJ_TRANS ? -x[2 * idx + 1] : x[2 * idx + 1];
}

static void zgemm_case(pel_layout layout, pel_transpose ta, pel_transpose tb, size_t m, size_t n, size_t k,
                       size_t pad, int threads, uint64_t seed)
{
    size_t ar = ta == PEL_NO_TRANS ? m : k, ac = ta == PEL_NO_TRANS ? k : m;
    size_t br = tb == PEL_NO_TRANS ? k : n, bc = tb == PEL_NO_TRANS ? n : k;
    size_t lda = mt_ld(layout, ar, ac, pad), ldb = mt_ld(layout, br, bc, pad), ldc = mt_ld(layout, m, n, pad);
    size_t na = 2 * mt_elems(layout, ar, ac, lda), nb = 2 * mt_elems(layout, br, bc, ldb),
           nc = 2 * mt_elems(layout, m, n, ldc);
    double *a = mt_random(na, seed), *b = mt_random(nb, seed + 1), *c = mt_random(nc, seed + 2);
    double *a0 = mt_copy(a, na), *b0 = mt_copy(b, nb), *c0 = mt_copy(c, nc);
    const double alpha[2] = {0.731, -0.35}, beta[2] = {-1.27, 0.5};
    double worst = 0.0;

    mt_threads(threads);
    PEL_TEST_OK(pel_zgemm(layout, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            long double sr = 0, si = 0, abs_sum = 0, rr, ri, denom, err;
            size_t ci = mt_index(layout, ldc, i, j);
            for (size_t p = 0; p < k; p++) {
                long double xr, xi, yr, yi;
                zget(a, layout, lda, ta, i, p, &xr, &xi);
                zget(b, layout, ldb, tb, p, j, &yr, &yi);
                sr += xr * yr - xi * yi;
                si += xr * yi + xi * yr;
                abs_sum += hypotl(xr, xi) * hypotl(yr, yi);
            }
            rr = alpha[0] * sr - alpha[1] * si + beta[0] * c0[2 * ci] - beta[1] * c0[2 * ci + 1];
            ri = alpha[0] * si + alpha[1] * sr + beta[0] * c0[2 * ci + 1] + beta[1] * c0[2 * ci];
            denom = hypotl(alpha[0], alpha[1]) * abs_sum + hypotl(beta[0], beta[1]) * hypotl(c0[2 * ci], c0[2 * ci + 1]);
            err = hypotl(c[2 * ci] - rr, c[2 * ci + 1] - ri);
            if ((double)(err / (0x1p-53 * denom)) > worst)
                worst = (double)(err / (0x1p-53 * denom));
        }
    CU_ASSERT(worst < 16.0);
    CU_ASSERT(memcmp(a, a0, na * sizeof *a) == 0);
    CU_ASSERT(memcmp(b, b0, nb * sizeof *b) == 0);
    CU_ASSERT(mt_padding_kept(layout, m, n, ldc, c, c0, 2 * sizeof *c));
    free(a);
    free(b);
    free(c);
    free(a0);
    free(b0);
    free(c0);
}

static void test_zgemm(void)
{
    static const size_t sizes[] = {0, 1, 3, 9, 65};
    unsigned seed = 500, count = 0;
    double c[8], a[8], b[8];
    const double zero[2] = {0, 0}, one[2] = {1, 0};

    for (size_t l = 0; l < 2; l++)
        for (size_t ta = 0; ta < 3; ta++)
            for (size_t tb = 0; tb < 3; tb++)
                for (size_t s = 0; s < 5; s++, count++)
                    zgemm_case(matrix_test_layouts[l], matrix_test_transposes[ta], matrix_test_transposes[tb],
                               sizes[s], sizes[(s + 1) % 5], sizes[(s + 2) % 5], count % 2,
                               matrix_test_threads[count % 4], seed++);
    /* beta = 0 must not read C; alpha = 0 must not read A or B. */
    for (int i = 0; i < 8; i++)
        c[i] = a[i] = b[i] = NAN;
    PEL_TEST_OK(pel_zgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, zero, a, 2, b, 2, zero, c, 2));
    for (int i = 0; i < 8; i++)
        CU_ASSERT(c[i] == 0.0);
    for (int i = 0; i < 8; i++)
        a[i] = b[i] = 1.0;
    for (int i = 0; i < 8; i++)
        c[i] = NAN;
    PEL_TEST_OK(pel_zgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, one, a, 2, b, 2, zero, c, 2));
    for (int i = 0; i < 8; i++)
        CU_ASSERT(c[i] == (i % 2 ? 4.0 : 0.0)); /* (1+i)^2 summed twice: 4i */
    PEL_TEST_EXPECT_ERROR(pel_zgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, NULL, a, 2, b, 2, zero, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_zgemm", "alpha");
    PEL_TEST_EXPECT_ERROR(pel_zgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, one, a, 2, b, 2, NULL, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_zgemm", "beta");
    PEL_TEST_EXPECT_ERROR(pel_zgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, one, a, 1, b, 2, zero, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_zgemm", "lda=1");
    PEL_TEST_EXPECT_ERROR(pel_zgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, one, c + 2, 2, b, 2, zero, c, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_zgemm", "c overlaps a");
    mt_threads_default();
}

/* ------------------------------------------------------------ gemv */

static void dgemv_case(pel_layout layout, pel_transpose t, size_t m, size_t n, ptrdiff_t incx, ptrdiff_t incy,
                       double beta, int threads, uint64_t seed)
{
    size_t lda = mt_ld(layout, m, n, 2), na = mt_elems(layout, m, n, lda);
    size_t nx = t == PEL_NO_TRANS ? n : m, ny = t == PEL_NO_TRANS ? m : n;
    size_t sx = nx * (size_t)(incx < 0 ? -incx : incx) + 1, sy = ny * (size_t)(incy < 0 ? -incy : incy) + 1;
    double *a = mt_random(na, seed), *x = mt_random(sx, seed + 1), *y = mt_random(sy, seed + 2);
    double *a0 = mt_copy(a, na), *x0 = mt_copy(x, sx), *y0 = mt_copy(y, sy);
    double worst = 0.0;

    mt_threads(threads);
    PEL_TEST_OK(pel_dgemv(layout, t, m, n, ALPHA, a, lda, x, incx, beta, y, incy));
    for (size_t i = 0; i < ny; i++) {
        /* Element i of a strided vector, walking backwards for a negative increment. */
        size_t yi = incy > 0 ? i * (size_t)incy : (ny - 1 - i) * (size_t)-incy;
        long double sum = 0, abs_sum = 0, ref, denom, err;
        for (size_t p = 0; p < nx; p++) {
            size_t xp = incx > 0 ? p * (size_t)incx : (nx - 1 - p) * (size_t)-incx;
            double av = t == PEL_NO_TRANS ? a[mt_index(layout, lda, i, p)] : a[mt_index(layout, lda, p, i)];
            sum += (long double)av * x[xp];
            abs_sum += fabsl((long double)av * x[xp]);
        }
        ref = ALPHA * sum + (beta != 0.0 ? beta * (long double)y0[yi] : 0.0L);
        denom = ALPHA * abs_sum + fabsl(beta * (long double)y0[yi]);
        err = fabsl(y[yi] - ref);
        if (denom > 0 && (double)(err / (0x1p-53 * denom)) > worst)
            worst = (double)(err / (0x1p-53 * denom));
        if (denom == 0 && err != 0)
            worst = 1e300;
    }
    CU_ASSERT(worst < 16.0);
    CU_ASSERT(memcmp(a, a0, na * sizeof *a) == 0);
    CU_ASSERT(memcmp(x, x0, sx * sizeof *x) == 0);
    free(a);
    free(x);
    free(y);
    free(a0);
    free(x0);
    free(y0);
}

static void test_dgemv(void)
{
    static const ptrdiff_t incs[] = {1, 2, -1, -3};
    unsigned seed = 900, count = 0;
    double a[6], x[3], y[3];

    for (size_t l = 0; l < 2; l++)
        for (size_t t = 0; t < 3; t++)
            for (size_t s = 0; s < 8; s++)
                for (size_t i = 0; i < 4; i++, count++)
                    dgemv_case(matrix_test_layouts[l], matrix_test_transposes[t], matrix_test_sizes[s],
                               matrix_test_sizes[(s + 3) % 8], incs[i], incs[(i + 1) % 4], count % 3 ? BETA : 0.0,
                               matrix_test_threads[count % 4], seed++);
    /* beta = 0 over NaN y; alpha = 0 over NaN A and x. */
    pel_test_fill(a, 6, 1);
    pel_test_fill(x, 3, 2);
    y[0] = y[1] = y[2] = NAN;
    PEL_TEST_OK(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, x, 1, 0.0, y, 1));
    CU_ASSERT(isfinite(y[0]) && isfinite(y[1]));
    a[0] = x[0] = NAN;
    y[0] = y[1] = 2.0;
    PEL_TEST_OK(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 0.0, a, 3, x, 1, 0.5, y, 1));
    CU_ASSERT(y[0] == 1.0 && y[1] == 1.0);
    /* n = 0: y = beta*y. */
    PEL_TEST_OK(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 0, 1.0, NULL, 1, NULL, 1, 0.5, y, 1));
    CU_ASSERT(y[0] == 0.5 && y[1] == 0.5);
    PEL_TEST_EXPECT_ERROR(pel_dgemv(5, PEL_NO_TRANS, 2, 3, 1.0, a, 3, x, 1, 0.0, y, 1), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_dgemv", "layout=5");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, 0, 2, 3, 1.0, a, 3, x, 1, 0.0, y, 1), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_dgemv", "trans=0");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 2, x, 1, 0.0, y, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "lda=2");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, NULL, 3, x, 1, 0.0, y, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, NULL, 1, 0.0, y, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "x must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, x, 1, 0.0, NULL, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "y must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, x, 0, 0.0, y, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "incx=0");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, x, 1, 0.0, y, 0),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "incy=0");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, x, 1, 0.0, a + 1, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "y overlaps a");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, x, 1, 0.0, x + 1, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "y overlaps x");
    PEL_TEST_EXPECT_ERROR(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, 2, 3, 1.0, a, 3, (const double *)(uintptr_t)64,
                                    (ptrdiff_t)INT_MAX + 1, 0.0, y, 1),
                          PEL_ERROR_UNSUPPORTED, "pel_dgemv", "incx");
    mt_threads_default();
}

static void test_sgemv(void)
{
    enum { M = 65, N = 9 };
    float a[M * N], x[M], y[M], y0[M];
    pel_test_fill_float(a, M * N, 3);
    pel_test_fill_float(x, M, 4);
    pel_test_fill_float(y, M, 5);
    memcpy(y0, y, sizeof y);
    for (int t = 0; t < 4; t++) {
        memcpy(y, y0, sizeof y);
        mt_threads(matrix_test_threads[t]);
        PEL_TEST_OK(pel_sgemv(PEL_COL_MAJOR, PEL_TRANS, M, N, 0.731f, a, M, x, 1, -1.27f, y, 1));
        for (size_t j = 0; j < N; j++) {
            long double s = 0, abs_s = 0;
            for (size_t i = 0; i < M; i++) {
                s += (long double)a[i + j * M] * x[i];
                abs_s += fabsl((long double)a[i + j * M] * x[i]);
            }
            CU_ASSERT(fabsl(y[j] - (0.731f * s - 1.27f * (long double)y0[j])) <
                      16 * 0x1p-24 * (0.731f * abs_s + 1.27f * fabsl((long double)y0[j])));
        }
    }
    y[0] = NAN;
    PEL_TEST_OK(pel_sgemv(PEL_COL_MAJOR, PEL_NO_TRANS, 1, 1, 1.0f, a, 1, x, 1, 0.0f, y, 1));
    CU_ASSERT(isfinite(y[0]));
    PEL_TEST_EXPECT_ERROR(pel_sgemv(PEL_COL_MAJOR, PEL_NO_TRANS, 2, 2, 1.0f, a, 1, x, 1, 0.0f, y, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_sgemv", "lda=1");
    PEL_TEST_EXPECT_ERROR(pel_sgemv(PEL_COL_MAJOR, PEL_NO_TRANS, 2, 2, 1.0f, a, 2, x, 1, 0.0f, y, 0),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_sgemv", "incy=0");
    mt_threads_default();
}

static void add_suites(void)
{
    static const pel_test_case gemm[] = {
        {"dgemm: every layout, transpose and size", test_dgemm_combinations},
        {"dgemm: alpha and beta rules", test_dgemm_alpha_beta_rules},
        {"dgemm/sgemm: bad arguments", test_dgemm_bad_arguments},
        {"sgemm: every layout, transpose and size", test_sgemm_combinations},
        {"zgemm", test_zgemm},
        {"dgemv", test_dgemv},
        {"sgemv", test_sgemv},
        {NULL, NULL},
    };
    pel_test_add_suite("matrix gemm", gemm);
}

int main(void)
{
    return pel_test_main("test_matrix_gemm", add_suites);
}
