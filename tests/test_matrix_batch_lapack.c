/* Tests of the batched LAPACK entry points (pel_*_batch in pel/matrix.h)
 * against naive references in long double: Gaussian elimination with
 * partial pivoting (solve, inverse, determinant), the textbook Cholesky
 * recurrence, and for eigh/svd the defining identities (A V = V diag(w),
 * V^T V = I, A = U diag(s) VT, invariants trace and Frobenius norm). Both
 * layouts, gaps between items, a shared (stride 0) input, float, the same
 * bits for 1 and 2 threads, and every error path with outputs untouched.
 *
 * Tolerances: the items are well conditioned (random entries in [-1, 1)
 * plus n on the diagonal, condition numbers below ~10), so LAPACK's backward
 * stable results are within a few n*eps of the exact ones: 1e-12 (double)
 * and 2e-4 (float) relative to the largest value leave wide margins and
 * catch any transposed layout, wrong item or wrong triangle (errors of
 * order 1). */
#include "pel_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-12
#define TOL_FLOAT 2e-4

/* A random well-conditioned n x n matrix (row-major), symmetric if asked. */
static void random_matrix(double *a, size_t n, int symmetric, uint64_t seed)
{
    pel_test_fill(a, n * n, seed);
    for (size_t i = 0; i < n; i++) {
        a[i * n + i] += (double)n;
        if (symmetric)
            for (size_t j = 0; j < i; j++)
                a[j * n + i] = a[i * n + j];
    }
}

/* Naive GE with partial pivoting on an n x n long double copy; solves for
 * nrhs right-hand sides in place (row-major b, n x nrhs); returns det. */
static long double naive_solve(size_t n, const double *a_in, size_t nrhs, long double *b)
{
    long double *a = malloc(n * n * sizeof *a), det = 1;
    for (size_t i = 0; i < n * n; i++)
        a[i] = a_in[i];
    for (size_t k = 0; k < n; k++) {
        size_t p = k;
        for (size_t i = k + 1; i < n; i++)
            if (fabsl(a[i * n + k]) > fabsl(a[p * n + k]))
                p = i;
        if (p != k) {
            det = -det;
            for (size_t j = 0; j < n; j++) {
                long double t = a[k * n + j];
                a[k * n + j] = a[p * n + j];
                a[p * n + j] = t;
            }
            for (size_t j = 0; j < nrhs; j++) {
                long double t = b[k * nrhs + j];
                b[k * nrhs + j] = b[p * nrhs + j];
                b[p * nrhs + j] = t;
            }
        }
        det *= a[k * n + k];
        if (a[k * n + k] == 0)
            continue;
        for (size_t i = k + 1; i < n; i++) {
            long double f = a[i * n + k] / a[k * n + k];
            for (size_t j = k; j < n; j++)
                a[i * n + j] -= f * a[k * n + j];
            for (size_t j = 0; j < nrhs; j++)
                b[i * nrhs + j] -= f * b[k * nrhs + j];
        }
    }
    for (size_t i = n; i-- > 0;)
        for (size_t j = 0; j < nrhs; j++) {
            long double s = b[i * nrhs + j];
            for (size_t c = i + 1; c < n; c++)
                s -= a[i * n + c] * b[c * nrhs + j];
            b[i * nrhs + j] = a[i * n + i] != 0 ? s / a[i * n + i] : 0;
        }
    free(a);
    return det;
}

static double rel_diff(const double *y, const long double *ref, size_t count)
{
    long double d = 0, m = 0;
    for (size_t i = 0; i < count; i++) {
        d = fmaxl(d, fabsl((long double)y[i] - ref[i]));
        m = fmaxl(m, fabsl(ref[i]));
    }
    return (double)(m > 0 ? d / m : d);
}

/* ------------------------------------------------------------ solve, inv */

static void test_gesv_row_major_against_naive(void)
{
    const size_t n = 7, nrhs = 3, batch = 9;
    double *a = malloc(batch * n * n * sizeof *a), *b = malloc(batch * n * nrhs * sizeof *b);
    double *x = malloc(batch * n * nrhs * sizeof *x), *x1 = malloc(batch * n * nrhs * sizeof *x1);
    long double ref[7 * 3];
    for (size_t i = 0; i < batch; i++)
        random_matrix(a + i * n * n, n, 0, 10 + i);
    pel_test_fill(b, batch * n * nrhs, 99);
    PEL_TEST_OK(pel_dgesv_batch(PEL_ROW_MAJOR, n, nrhs, batch, a, n, n * n, b, nrhs, n * nrhs, x, nrhs, n * nrhs));
    for (size_t i = 0; i < batch; i++) {
        for (size_t k = 0; k < n * nrhs; k++)
            ref[k] = b[i * n * nrhs + k];
        naive_solve(n, a + i * n * n, nrhs, ref);
        CU_ASSERT(rel_diff(x + i * n * nrhs, ref, n * nrhs) < TOL);
    }
    /* Each item is one LAPACK call on one thread: the same bits for any
     * thread count. */
    pel_set_num_threads(1);
    PEL_TEST_OK(pel_dgesv_batch(PEL_ROW_MAJOR, n, nrhs, batch, a, n, n * n, b, nrhs, n * nrhs, x1, nrhs, n * nrhs));
    pel_set_num_threads(2);
    CU_ASSERT(memcmp(x, x1, batch * n * nrhs * sizeof *x) == 0);
    PEL_TEST_OK(pel_dgesv_batch(PEL_ROW_MAJOR, n, nrhs, batch, a, n, n * n, b, nrhs, n * nrhs, x1, nrhs, n * nrhs));
    CU_ASSERT(memcmp(x, x1, batch * n * nrhs * sizeof *x) == 0);
    pel_set_num_threads(0);
    free(a);
    free(b);
    free(x);
    free(x1);
}

/* Column-major items with padding (ld > n) and gaps between items (stride
 * larger than an item), a shared A (stride 0), outputs leave the gaps alone. */
static void test_gesv_column_major_gaps_and_shared(void)
{
    const size_t n = 5, lda = 6, stride_a = 40, batch = 4, ldx = 7, stride_x = 50;
    double a[4 * 40], dense[25], b[4 * 5], x[4 * 50];
    long double ref[5];
    for (size_t i = 0; i < 4 * 40; i++)
        a[i] = 123.0;
    for (size_t i = 0; i < 4 * 50; i++)
        x[i] = -7.0;
    for (size_t i = 0; i < batch; i++) {
        random_matrix(dense, n, 0, 50 + i);
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < n; c++)
                a[i * stride_a + c * lda + r] = dense[r * n + c];
    }
    pel_test_fill(b, batch * n, 7);
    PEL_TEST_OK(pel_dgesv_batch(PEL_COL_MAJOR, n, 1, batch, a, lda, stride_a, b, n, n, x, ldx, stride_x));
    for (size_t i = 0; i < batch; i++) {
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < n; c++)
                dense[r * n + c] = a[i * stride_a + c * lda + r];
        for (size_t k = 0; k < n; k++)
            ref[k] = b[i * n + k];
        naive_solve(n, dense, 1, ref);
        CU_ASSERT(rel_diff(x + i * stride_x, ref, n) < TOL);
        for (size_t k = n; k < stride_x && i * stride_x + k < 4 * 50; k++)
            CU_ASSERT_EQUAL(x[i * stride_x + k], -7.0); /* the gap is untouched */
    }
    /* stride_a = 0: every item solves with the first matrix. */
    PEL_TEST_OK(pel_dgesv_batch(PEL_COL_MAJOR, n, 1, batch, a, lda, 0, b, n, n, x, ldx, stride_x));
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < n; c++)
            dense[r * n + c] = a[c * lda + r];
    for (size_t i = 0; i < batch; i++) {
        for (size_t k = 0; k < n; k++)
            ref[k] = b[i * n + k];
        naive_solve(n, dense, 1, ref);
        CU_ASSERT(rel_diff(x + i * stride_x, ref, n) < TOL);
    }
}

/* pel_dgesv_batch's two paths: its own LU up to n = 16, LAPACK's dgesv
 * above (n = 17, 24), both layouts, against the long double reference on
 * matrices that need row interchanges (random entries without a dominant
 * diagonal: condition numbers up to ~10^3 at these seeds, so a backward
 * stable result is within ~cond * n * eps < 1e-11; 1e-9 leaves a margin
 * and still catches a wrong pivot, item or layout, errors of order 1).
 * Subnormal pivots (the scale 2^-1030) take the small LU's division
 * branch; a zero column gives the pivot LAPACK reports on both paths. */
static void test_gesv_small_lu_and_lapack_paths(void)
{
    static const size_t orders[] = {2, 8, 16, 17, 24};
    const size_t nrhs = 3, batch = 5, max_n = 24;
    double *a = malloc(batch * max_n * max_n * sizeof *a), *stored = malloc(batch * max_n * max_n * sizeof *a);
    double *b = malloc(batch * max_n * nrhs * sizeof *b), *bs = malloc(batch * max_n * nrhs * sizeof *b);
    double *x = malloc(batch * max_n * nrhs * sizeof *x), *xr = malloc(max_n * nrhs * sizeof *xr);
    long double ref[24 * 3];
    char message[64];

    for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
        size_t n = orders[o], nn = n * n, nb = n * nrhs;
        for (int scaled = 0; scaled < 2; scaled++) {
            const double scale = scaled ? ldexp(1.0, -1030) : 1.0;
            pel_test_fill(a, batch * nn, 300 + n);
            pel_test_fill(b, batch * nb, 400 + n);
            for (size_t i = 0; i < batch * nn; i++)
                a[i] *= scale;
            for (size_t i = 0; i < batch * nb; i++)
                b[i] *= scale;
            if (scaled) /* subnormal entries: keep the items well conditioned */
                for (size_t i = 0; i < batch; i++)
                    for (size_t d = 0; d < n; d++)
                        a[i * nn + d * n + d] += (double)n * scale;
            for (int layout = 0; layout < 2; layout++) {
                pel_layout l = layout ? PEL_COL_MAJOR : PEL_ROW_MAJOR;
                /* stored = a (row-major) in layout l; bs likewise for b. */
                for (size_t i = 0; i < batch; i++)
                    for (size_t r = 0; r < n; r++) {
                        for (size_t c = 0; c < n; c++)
                            stored[i * nn + (layout ? c * n + r : r * n + c)] = a[i * nn + r * n + c];
                        for (size_t c = 0; c < nrhs; c++)
                            bs[i * nb + (layout ? c * n + r : r * nrhs + c)] = b[i * nb + r * nrhs + c];
                    }
                PEL_TEST_OK(pel_dgesv_batch(l, n, nrhs, batch, stored, n, nn, bs, layout ? n : nrhs, nb, x,
                                            layout ? n : nrhs, nb));
                for (size_t i = 0; i < batch; i++) {
                    for (size_t k = 0; k < nb; k++)
                        ref[k] = b[i * nb + k];
                    naive_solve(n, a + i * nn, nrhs, ref);
                    for (size_t r = 0; r < n; r++)
                        for (size_t c = 0; c < nrhs; c++)
                            xr[r * nrhs + c] = x[i * nb + (layout ? c * n + r : r * nrhs + c)];
                    CU_ASSERT(rel_diff(xr, ref, nb) < 1e-9);
                }
            }
        }
        if (n < 4)
            continue;
        /* A zero column 3 (0-based): elimination leaves pivot 4 exactly zero
         * (on normal numbers: OpenBLAS's dgesv misses it when every other
         * entry is subnormal). */
        pel_test_fill(a, batch * nn, 500 + n);
        for (size_t r = 0; r < n; r++)
            a[2 * nn + r * n + 3] = 0.0;
        snprintf(message, sizeof message, "item 2: the matrix is singular: pivot 4 of %zu", n);
        PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, n, nrhs, batch, a, n, nn, b, nrhs, nb, x, nrhs, nb),
                              PEL_ERROR_SINGULAR, "pel_dgesv_batch", message);
    }
    free(a);
    free(stored);
    free(b);
    free(bs);
    free(x);
    free(xr);
}

static void test_zgesv_and_float(void)
{
    const size_t n = 4, batch = 3;
    double a[3 * 32], b[3 * 8], x[3 * 8];
    float af[3 * 16], bf[3 * 4], xf[3 * 4];
    pel_test_fill(a, 3 * 32, 3);
    pel_test_fill(b, 3 * 8, 4);
    for (size_t i = 0; i < batch; i++)
        for (size_t d = 0; d < n; d++)
            a[i * 32 + 2 * (d * n + d)] += 4.0;
    PEL_TEST_OK(pel_zgesv_batch(PEL_ROW_MAJOR, n, 1, batch, a, n, n * n, b, 1, n, x, 1, n));
    /* Residual A x - b in complex long double. */
    for (size_t i = 0; i < batch; i++)
        for (size_t r = 0; r < n; r++) {
            long double re = -b[i * 8 + 2 * r], im = -b[i * 8 + 2 * r + 1];
            for (size_t c = 0; c < n; c++) {
                long double ar = a[i * 32 + 2 * (r * n + c)], ai = a[i * 32 + 2 * (r * n + c) + 1];
                long double xr = x[i * 8 + 2 * c], xi = x[i * 8 + 2 * c + 1];
                re += ar * xr - ai * xi;
                im += ar * xi + ai * xr;
            }
            CU_ASSERT(fabsl(re) < 1e-13 && fabsl(im) < 1e-13);
        }
    for (size_t i = 0; i < batch; i++) {
        double dense[16];
        random_matrix(dense, n, 0, 70 + i);
        for (size_t k = 0; k < 16; k++)
            af[i * 16 + k] = (float)dense[k];
    }
    pel_test_fill_float(bf, 12, 5);
    PEL_TEST_OK(pel_sgesv_batch(PEL_ROW_MAJOR, n, 1, batch, af, n, 16, bf, 1, n, xf, 1, n));
    for (size_t i = 0; i < batch; i++) {
        double dense[16];
        long double ref[4];
        for (size_t k = 0; k < 16; k++)
            dense[k] = af[i * 16 + k];
        for (size_t k = 0; k < 4; k++)
            ref[k] = bf[i * 4 + k];
        naive_solve(n, dense, 1, ref);
        for (size_t k = 0; k < 4; k++)
            CU_ASSERT(fabsl((long double)xf[i * 4 + k] - ref[k]) < TOL_FLOAT);
    }
}

static void test_inverse(void)
{
    const size_t n = 6, batch = 5;
    double a[5 * 36], inv[5 * 36];
    long double ref[36];
    for (size_t i = 0; i < batch; i++)
        random_matrix(a + i * 36, n, 0, 200 + i);
    PEL_TEST_OK(pel_dinv_batch(PEL_ROW_MAJOR, n, batch, a, n, 36, inv, n, 36));
    for (size_t i = 0; i < batch; i++) {
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < n; c++)
                ref[r * n + c] = r == c;
        naive_solve(n, a + i * 36, n, ref);
        CU_ASSERT(rel_diff(inv + i * 36, ref, 36) < TOL);
    }
    float af[36], invf[36];
    for (size_t k = 0; k < 36; k++)
        af[k] = (float)a[k];
    PEL_TEST_OK(pel_sinv_batch(PEL_COL_MAJOR, n, 1, af, n, 0, invf, n, 0));
    /* Column-major inverse of the transpose is the transpose of the inverse:
     * read back row-major it is inv(A)^T... of af read column-major = A^T. */
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < n; c++)
            ref[r * n + c] = r == c;
    {
        double at[36];
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < n; c++)
                at[r * n + c] = af[c * n + r];
        naive_solve(n, at, n, ref);
    }
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < n; c++)
            CU_ASSERT(fabsl((long double)invf[c * n + r] - ref[r * n + c]) < TOL_FLOAT);
}

/* ------------------------------------------------------------ det */

static void test_determinants(void)
{
    const size_t n = 5, batch = 4;
    double a[4 * 25], det[4], sign[4], logabs[4];
    for (size_t i = 0; i < batch; i++)
        random_matrix(a + i * 25, n, 0, 300 + i);
    for (size_t k = 0; k < 25; k++)
        a[2 * 25 + k] = -a[k]; /* det(-A) = -det(A) for odd n */
    memset(a + 3 * 25 + 5, 0, 5 * sizeof(double)); /* a zero row: singular */
    PEL_TEST_OK(pel_ddet_batch(PEL_ROW_MAJOR, n, batch, a, n, 25, det, sign, logabs));
    for (size_t i = 0; i < 3; i++) {
        long double ref = naive_solve(n, a + i * 25, 0, NULL);
        CU_ASSERT(fabsl(det[i] - ref) <= TOL * fabsl(ref));
        CU_ASSERT_EQUAL(sign[i], ref < 0 ? -1.0 : 1.0);
        CU_ASSERT(fabsl(logabs[i] - logl(fabsl(ref))) < 1e-13);
    }
    CU_ASSERT(det[2] == -det[0]);
    CU_ASSERT_EQUAL(det[3], 0.0);
    CU_ASSERT_EQUAL(sign[3], 0.0);
    CU_ASSERT(isinf(logabs[3]) && logabs[3] < 0);
    double only_det[4] = {0};
    PEL_TEST_OK(pel_ddet_batch(PEL_COL_MAJOR, n, batch, a, n, 25, only_det, NULL, NULL));
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT(fabs(only_det[i] - det[i]) <= TOL * fabs(det[i])); /* det(A^T) = det(A) */
    /* n = 0: det = 1, as numpy. */
    double empty_det[2] = {5, 5};
    PEL_TEST_OK(pel_ddet_batch(PEL_ROW_MAJOR, 0, 2, NULL, 1, 0, empty_det, NULL, NULL));
    CU_ASSERT(empty_det[0] == 1.0 && empty_det[1] == 1.0);
    float af[25], detf;
    for (size_t k = 0; k < 25; k++)
        af[k] = (float)a[k];
    PEL_TEST_OK(pel_sdet_batch(PEL_ROW_MAJOR, n, 1, af, n, 25, &detf, NULL, NULL));
    CU_ASSERT(fabs(detf - det[0]) < TOL_FLOAT * fabs(det[0]) * 10);
}

/* ------------------------------------------------------------ cholesky */

static void test_cholesky(void)
{
    const size_t n = 6, batch = 3;
    double a[3 * 36], l[3 * 36];
    for (size_t i = 0; i < batch; i++)
        random_matrix(a + i * 36, n, 1, 400 + i);
    PEL_TEST_OK(pel_dcholesky_batch(PEL_ROW_MAJOR, PEL_LOWER, n, batch, a, n, 36, l, n, 36));
    for (size_t i = 0; i < batch; i++) {
        long double ref[36] = {0};
        const double *ai = a + i * 36;
        for (size_t j = 0; j < n; j++) {
            long double s = ai[j * n + j];
            for (size_t k = 0; k < j; k++)
                s -= ref[j * n + k] * ref[j * n + k];
            ref[j * n + j] = sqrtl(s);
            for (size_t r = j + 1; r < n; r++) {
                long double t = ai[r * n + j];
                for (size_t k = 0; k < j; k++)
                    t -= ref[r * n + k] * ref[j * n + k];
                ref[r * n + j] = t / ref[j * n + j];
            }
        }
        CU_ASSERT(rel_diff(l + i * 36, ref, 36) < TOL); /* zeros above the diagonal included */
    }
    /* PEL_UPPER gives U = L^T. */
    double u[36];
    PEL_TEST_OK(pel_dcholesky_batch(PEL_ROW_MAJOR, PEL_UPPER, n, 1, a, n, 36, u, n, 36));
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < n; c++)
            CU_ASSERT(fabs(u[r * n + c] - l[c * n + r]) < 1e-13);
}

/* ------------------------------------------------------------ eigh, svd */

static void test_eigh(void)
{
    const size_t n = 8, batch = 6;
    double a[6 * 64], w[6 * 8], v[6 * 64], w_only[6 * 8];
    for (size_t i = 0; i < batch; i++)
        random_matrix(a + i * 64, n, 1, 500 + i);
    PEL_TEST_OK(pel_deigh_batch(PEL_ROW_MAJOR, PEL_LOWER, n, batch, a, n, 64, w, n, v, n, 64));
    PEL_TEST_OK(pel_deigh_batch(PEL_ROW_MAJOR, PEL_UPPER, n, batch, a, n, 64, w_only, n, NULL, 0, 0));
    for (size_t i = 0; i < batch; i++) {
        const double *ai = a + i * 64, *vi = v + i * 64, *wi = w + i * 8;
        long double trace = 0, frob = 0, sum = 0, sum2 = 0;
        for (size_t r = 0; r < n; r++) {
            trace += ai[r * n + r];
            for (size_t c = 0; c < n; c++)
                frob += (long double)ai[r * n + c] * ai[r * n + c];
            sum += wi[r];
            sum2 += (long double)wi[r] * wi[r];
            if (r)
                CU_ASSERT(wi[r] >= wi[r - 1]);
            CU_ASSERT(fabs(w_only[i * 8 + r] - wi[r]) < 1e-12 * n);
        }
        CU_ASSERT(fabsl(trace - sum) < TOL * n * n);
        CU_ASSERT(fabsl(frob - sum2) < TOL * frob);
        for (size_t j = 0; j < n; j++) /* A v_j = w_j v_j, column j of the row-major V */
            for (size_t r = 0; r < n; r++) {
                long double s = 0, d = 0;
                for (size_t c = 0; c < n; c++)
                    s += (long double)ai[r * n + c] * vi[c * n + j];
                for (size_t c = 0; c < n; c++)
                    d += (long double)vi[c * n + j] * vi[c * n + r];
                CU_ASSERT(fabsl(s - wi[j] * vi[r * n + j]) < TOL * n);
                CU_ASSERT(fabsl(d - (j == r)) < TOL);
            }
    }
    float af[64], wf[8];
    for (size_t k = 0; k < 64; k++)
        af[k] = (float)a[k];
    PEL_TEST_OK(pel_seigh_batch(PEL_ROW_MAJOR, PEL_LOWER, n, 1, af, n, 64, wf, n, NULL, 0, 0));
    for (size_t r = 0; r < n; r++)
        CU_ASSERT(fabs(wf[r] - w[r]) < TOL_FLOAT * n);
}

static void test_svd(void)
{
    const size_t m = 5, n = 3, k = 3, batch = 4;
    double a[4 * 15], s[4 * 3], u[4 * 25], vt[4 * 9], us[4 * 15], s2[4 * 3];
    pel_test_fill(a, 60, 600);
    PEL_TEST_OK(pel_dsvd_batch(PEL_ROW_MAJOR, m, n, batch, a, n, 15, s, k, u, m, 25, vt, n, 9, 1));
    PEL_TEST_OK(pel_dsvd_batch(PEL_ROW_MAJOR, m, n, batch, a, n, 15, s2, k, us, k, 15, vt, n, 9, 0));
    for (size_t i = 0; i < batch; i++) {
        const double *ai = a + i * 15, *ui = u + i * 25, *vi = vt + i * 9, *si = s + i * 3;
        for (size_t r = 0; r < m; r++)
            for (size_t c = 0; c < n; c++) {
                long double rec = 0, rec_thin = 0;
                for (size_t j = 0; j < k; j++) {
                    rec += (long double)ui[r * m + j] * si[j] * vi[j * n + c];
                    rec_thin += (long double)us[i * 15 + r * k + j] * s2[i * 3 + j] * vi[j * n + c];
                }
                CU_ASSERT(fabsl(rec - ai[r * n + c]) < TOL);
                CU_ASSERT(fabsl(rec_thin - ai[r * n + c]) < TOL);
            }
        for (size_t r = 0; r < m; r++) /* U orthogonal */
            for (size_t c = 0; c < m; c++) {
                long double d = 0;
                for (size_t j = 0; j < m; j++)
                    d += (long double)ui[j * m + r] * ui[j * m + c];
                CU_ASSERT(fabsl(d - (r == c)) < TOL);
            }
        CU_ASSERT(si[0] >= si[1] && si[1] >= si[2] && si[2] >= 0);
    }
    double s_only[12];
    PEL_TEST_OK(pel_dsvd_batch(PEL_COL_MAJOR, n, m, batch, a, n, 15, s_only, k, NULL, 0, 0, NULL, 0, 0, 1));
    for (size_t i = 0; i < 12; i++) /* column-major n x m reads A^T: the same singular values */
        CU_ASSERT(fabs(s_only[i] - s[i]) < TOL * 10);
    float af[15], sf[3];
    for (size_t q = 0; q < 15; q++)
        af[q] = (float)a[q];
    PEL_TEST_OK(pel_ssvd_batch(PEL_ROW_MAJOR, m, n, 1, af, n, 15, sf, k, NULL, 0, 0, NULL, 0, 0, 0));
    for (size_t q = 0; q < 3; q++)
        CU_ASSERT(fabs(sf[q] - s[q]) < TOL_FLOAT);
}

/* ------------------------------------------------------------ errors */

static void test_errors_leave_outputs_untouched(void)
{
    const size_t n = 3, batch = 4;
    double a[4 * 9], b[4 * 3], x[4 * 3], l[4 * 9];
    for (size_t i = 0; i < batch; i++)
        random_matrix(a + i * 9, n, 1, 700 + i);
    memset(a + 2 * 9, 0, 9 * sizeof(double)); /* item 2 singular, not positive definite */
    pel_test_fill(b, 12, 8);
    for (size_t i = 0; i < 12; i++)
        x[i] = 42.0;
    for (size_t i = 0; i < 36; i++)
        l[i] = 42.0;
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, n, 1, batch, a, n, 9, b, 1, n, x, 1, n), PEL_ERROR_SINGULAR,
                          "pel_dgesv_batch", "item 2");
    PEL_TEST_EXPECT_ERROR(pel_dinv_batch(PEL_ROW_MAJOR, n, batch, a, n, 9, l, n, 9), PEL_ERROR_SINGULAR,
                          "pel_dinv_batch", "item 2");
    PEL_TEST_EXPECT_ERROR(pel_dcholesky_batch(PEL_ROW_MAJOR, PEL_LOWER, n, batch, a, n, 9, l, n, 9),
                          PEL_ERROR_NOT_POSITIVE_DEFINITE, "pel_dcholesky_batch", "item 2");
    for (size_t i = 0; i < 12; i++)
        CU_ASSERT_EQUAL(x[i], 42.0);
    for (size_t i = 0; i < 36; i++)
        CU_ASSERT_EQUAL(l[i], 42.0);
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch((pel_layout)5, n, 1, batch, a, n, 9, b, 1, n, x, 1, n),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv_batch", "layout");
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, n, 1, batch, NULL, n, 9, b, 1, n, x, 1, n),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv_batch", "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, n, 1, batch, a, 2, 9, b, 1, n, x, 1, n),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv_batch", "lda=2");
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, n, 1, batch, a, n, 5, b, 1, n, x, 1, n),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv_batch", "stride_a=5");
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, n, 1, batch, a, n, 9, b, 1, n, x, 1, 0),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv_batch", "stride_x=0");
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, n, 1, batch, a, n, 9, b, 1, n, (double *)b, 1, n),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv_batch", "x overlaps b");
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, (size_t)1 << 31, 1, 1, a, n, 9, b, 1, n, x, 1, n),
                          PEL_ERROR_UNSUPPORTED, "pel_dgesv_batch", "n=");
    PEL_TEST_EXPECT_ERROR(pel_dcholesky_batch(PEL_ROW_MAJOR, (pel_uplo)7, n, batch, a, n, 9, l, n, 9),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dcholesky_batch", "uplo=7");
    PEL_TEST_EXPECT_ERROR(pel_ddet_batch(PEL_ROW_MAJOR, n, batch, a, n, 9, NULL, NULL, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_ddet_batch", "all NULL");
    PEL_TEST_EXPECT_ERROR(pel_dsvd_batch(PEL_ROW_MAJOR, n, n, batch, a, n, 9, b, n, l, n, 9, NULL, n, 9, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dsvd_batch", "u and vt");
    PEL_TEST_EXPECT_ERROR(pel_deigh_batch(PEL_ROW_MAJOR, PEL_LOWER, n, batch, a, n, 9, b, 1, NULL, 0, 0),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_deigh_batch", "stride_w=1");
    /* Empty problems succeed without touching anything. */
    PEL_TEST_OK(pel_dgesv_batch(PEL_ROW_MAJOR, n, 1, 0, NULL, n, 9, NULL, 1, n, NULL, 1, n));
    PEL_TEST_OK(pel_dgesv_batch(PEL_ROW_MAJOR, 0, 1, 3, NULL, 1, 0, NULL, 1, 0, NULL, 1, 0));
}

static void add_suites(void)
{
    static const pel_test_case tests[] = {
        {"gesv row-major against naive GE, thread-count bits", test_gesv_row_major_against_naive},
        {"gesv column-major, gaps, shared A", test_gesv_column_major_gaps_and_shared},
        {"gesv: pel's small LU and LAPACK's path, pivots, subnormals, singular", test_gesv_small_lu_and_lapack_paths},
        {"zgesv and sgesv", test_zgesv_and_float},
        {"inverse", test_inverse},
        {"determinants", test_determinants},
        {"cholesky", test_cholesky},
        {"eigh", test_eigh},
        {"svd", test_svd},
        {"errors leave outputs untouched", test_errors_leave_outputs_untouched},
        {NULL, NULL},
    };
    pel_test_add_suite("matrix_batch_lapack", tests);
}

int main(void)
{
    return pel_test_main("test_matrix_batch_lapack", add_suites);
}
