/* Tests of the real-to-real transforms (DCT/DST types I-IV): every kind
 * against a direct O(n^2) sum in long double, 2-D and 3-D with mixed kinds
 * and batches, float, the three normalisations, inverse pairs, in place,
 * misaligned arrays, explicit plans, the shared plan cache, every bad
 * argument; and the DCT-II/III by one real FFT (lib/fft/dct_by_fft.c) on
 * every shape class of its domain, with the rule that chooses it.
 *
 * Tolerances: FFTW's r2r algorithms are accurate to a few eps*log2(M)
 * relative to the largest output (M the logical size, at most a few hundred
 * here): 1e-13 for double and 2e-5 for float leave a wide margin over
 * ~1e-15 and ~1e-6 and still catch any wrong index, sign, kind or scale
 * (those give errors of order 1). */
#include "pel_test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fft/plan.h"

#define TOL_DOUBLE 1e-13
#define TOL_FLOAT 2e-5

static const long double PI_L = 3.141592653589793238462643383279502884L;

/* y[k] for kind of n points x (stride 1): the definitions of pel/fft.h. */
static void direct_1d(pel_fft_r2r_kind kind, size_t n, const long double *x, long double *y)
{
    for (size_t k = 0; k < n; k++) {
        long double s = 0;
        for (size_t j = 0; j < n; j++) {
            long double jj = (long double)j, kk = (long double)k, nn = (long double)n, t;
            switch (kind) {
            case PEL_FFT_DCT1:
                t = (j == 0 || j == n - 1) ? x[j] * cosl(PI_L * jj * kk / (nn - 1))
                                           : 2 * x[j] * cosl(PI_L * jj * kk / (nn - 1));
                break;
            case PEL_FFT_DCT2:
                t = 2 * x[j] * cosl(PI_L * (2 * jj + 1) * kk / (2 * nn));
                break;
            case PEL_FFT_DCT3:
                t = (j == 0 ? 1 : 2) * x[j] * cosl(PI_L * jj * (2 * kk + 1) / (2 * nn));
                break;
            case PEL_FFT_DCT4:
                t = 2 * x[j] * cosl(PI_L * (2 * jj + 1) * (2 * kk + 1) / (4 * nn));
                break;
            case PEL_FFT_DST1:
                t = 2 * x[j] * sinl(PI_L * (jj + 1) * (kk + 1) / (nn + 1));
                break;
            case PEL_FFT_DST2:
                t = 2 * x[j] * sinl(PI_L * (2 * jj + 1) * (kk + 1) / (2 * nn));
                break;
            case PEL_FFT_DST3:
                t = (j == n - 1 ? 1 : 2) * x[j] * sinl(PI_L * (jj + 1) * (2 * kk + 1) / (2 * nn));
                break;
            default:
                t = 2 * x[j] * sinl(PI_L * (2 * jj + 1) * (2 * kk + 1) / (4 * nn));
                break;
            }
            s += t;
        }
        y[k] = s;
    }
}

/* The separable transform of howmany arrays of shape dims, in place on data:
 * a direct 1-D transform along each axis in turn. */
static void direct(int rank, const size_t *dims, size_t howmany, const pel_fft_r2r_kind *kinds, long double *data)
{
    size_t points = 1, maxn = 1;
    for (int d = 0; d < rank; d++) {
        points *= dims[d];
        if (dims[d] > maxn)
            maxn = dims[d];
    }
    long double *line = malloc(maxn * sizeof *line), *out = malloc(maxn * sizeof *out);
    for (size_t b = 0; b < howmany; b++) {
        long double *a = data + b * points;
        for (int d = 0; d < rank; d++) {
            size_t stride = 1;
            for (int e = d + 1; e < rank; e++)
                stride *= dims[e];
            size_t n = dims[d], outer = points / (n * stride);
            for (size_t o = 0; o < outer; o++)
                for (size_t i = 0; i < stride; i++) {
                    long double *base = a + o * n * stride + i;
                    for (size_t j = 0; j < n; j++)
                        line[j] = base[j * stride];
                    direct_1d(kinds[d], n, line, out);
                    for (size_t j = 0; j < n; j++)
                        base[j * stride] = out[j];
                }
        }
    }
    free(line);
    free(out);
}

static double rel_error(const long double *ref, const double *y, size_t n)
{
    long double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmaxl(d, fabsl(ref[i] - (long double)y[i]));
        m = fmaxl(m, fabsl(ref[i]));
    }
    return (double)(m > 0 ? d / m : d);
}

static double rel_error_float(const long double *ref, const float *y, size_t n)
{
    long double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmaxl(d, fabsl(ref[i] - (long double)y[i]));
        m = fmaxl(m, fabsl(ref[i]));
    }
    return (double)(m > 0 ? d / m : d);
}

static size_t total_points(int rank, const size_t *dims, size_t howmany)
{
    size_t p = howmany;
    for (int d = 0; d < rank; d++)
        p *= dims[d];
    return p;
}

/* One double transform checked against the direct sum (scaled by the
 * norm's factor of the logical size). Returns the error. */
static double check_double(int rank, const size_t *dims, size_t howmany, const pel_fft_r2r_kind *kinds,
                           pel_fft_norm norm, uint64_t seed)
{
    size_t n = total_points(rank, dims, howmany);
    double *x = pel_malloc(n * sizeof *x), *y = pel_malloc(n * sizeof *y), *copy = malloc(n * sizeof *copy);
    long double *ref = malloc(n * sizeof *ref), logical = 1;
    pel_test_fill(x, n, seed);
    memcpy(copy, x, n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        ref[i] = x[i];
    direct(rank, dims, howmany, kinds, ref);
    for (int d = 0; d < rank; d++)
        logical *= (long double)pel_fft_r2r_logical_size(kinds[d], dims[d]);
    long double scale = norm == PEL_FFT_NORM_FORWARD ? 1 / logical : norm == PEL_FFT_NORM_ORTHO ? 1 / sqrtl(logical) : 1;
    for (size_t i = 0; i < n; i++)
        ref[i] *= scale;
    PEL_TEST_OK(pel_fft_r2r(rank, dims, howmany, kinds, norm, x, y));
    CU_ASSERT(memcmp(x, copy, n * sizeof *x) == 0); /* out of place: input kept */
    double err = rel_error(ref, y, n);
    pel_free(x);
    pel_free(y);
    free(copy);
    free(ref);
    return err;
}

static void test_every_kind_1d(void)
{
    static const size_t sizes[] = {1, 2, 3, 5, 8, 17, 64, 100};
    for (int kind = PEL_FFT_DCT1; kind <= PEL_FFT_DST4; kind++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            pel_fft_r2r_kind k = (pel_fft_r2r_kind)kind;
            if (k == PEL_FFT_DCT1 && sizes[s] < 2)
                continue;
            double err = check_double(1, &sizes[s], 1, &k, PEL_FFT_NORM_BACKWARD, 100 + 10 * kind + s);
            if (!(err < TOL_DOUBLE))
                fprintf(stderr, "kind %d n %zu error %g\n", kind, sizes[s], err);
            CU_ASSERT(err < TOL_DOUBLE);
        }
}

static void test_multi_dimensional_batched(void)
{
    const size_t d2[] = {6, 9}, d3[] = {4, 5, 7};
    const pel_fft_r2r_kind k2[] = {PEL_FFT_DCT2, PEL_FFT_DST1};
    const pel_fft_r2r_kind k3[] = {PEL_FFT_DCT1, PEL_FFT_DST3, PEL_FFT_DCT4};
    CU_ASSERT(check_double(2, d2, 1, k2, PEL_FFT_NORM_BACKWARD, 7) < TOL_DOUBLE);
    CU_ASSERT(check_double(2, d2, 3, k2, PEL_FFT_NORM_BACKWARD, 8) < TOL_DOUBLE);
    CU_ASSERT(check_double(3, d3, 2, k3, PEL_FFT_NORM_BACKWARD, 9) < TOL_DOUBLE);
    CU_ASSERT(check_double(1, d2, 5, k2, PEL_FFT_NORM_BACKWARD, 10) < TOL_DOUBLE);
}

static void test_norms(void)
{
    const size_t d2[] = {8, 5};
    const pel_fft_r2r_kind k2[] = {PEL_FFT_DST2, PEL_FFT_DCT1};
    CU_ASSERT(check_double(2, d2, 2, k2, PEL_FFT_NORM_FORWARD, 11) < TOL_DOUBLE);
    CU_ASSERT(check_double(2, d2, 2, k2, PEL_FFT_NORM_ORTHO, 12) < TOL_DOUBLE);
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(2, d2, 1, k2, (pel_fft_norm)3, (double[40]){0}, (double[40]){0}),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2r", "norm=3");
}

/* Each kind followed by its inverse kind is M times the identity. */
static void test_inverse_pairs(void)
{
    static const pel_fft_r2r_kind inverse[] = {PEL_FFT_DCT1, PEL_FFT_DCT3, PEL_FFT_DCT2, PEL_FFT_DCT4,
                                               PEL_FFT_DST1, PEL_FFT_DST3, PEL_FFT_DST2, PEL_FFT_DST4};
    const size_t n = 37;
    double x[37], y[37], z[37];
    pel_test_fill(x, n, 5);
    for (int kind = 0; kind < 8; kind++) {
        pel_fft_r2r_kind k = (pel_fft_r2r_kind)kind, ik = inverse[kind];
        PEL_TEST_OK(pel_fft_r2r(1, &n, 1, &k, PEL_FFT_NORM_BACKWARD, x, y));
        PEL_TEST_OK(pel_fft_r2r(1, &n, 1, &ik, PEL_FFT_NORM_FORWARD, y, z));
        double d = 0;
        for (size_t i = 0; i < n; i++)
            d = fmax(d, fabs(z[i] - x[i]));
        CU_ASSERT(d < 1e-13);
    }
}

static void test_float(void)
{
    const size_t dims[] = {12, 10};
    const pel_fft_r2r_kind kinds[] = {PEL_FFT_DCT3, PEL_FFT_DST4};
    size_t n = 2 * 120;
    float *x = pel_malloc(n * sizeof *x), *y = pel_malloc(n * sizeof *y);
    long double *ref = malloc(n * sizeof *ref);
    pel_test_fill_float(x, n, 21);
    for (size_t i = 0; i < n; i++)
        ref[i] = x[i];
    direct(2, dims, 2, kinds, ref);
    PEL_TEST_OK(pel_fft_r2r_float(2, dims, 2, kinds, PEL_FFT_NORM_BACKWARD, x, y));
    CU_ASSERT(rel_error_float(ref, y, n) < TOL_FLOAT);
    pel_free(x);
    pel_free(y);
    free(ref);
}

static void test_in_place_and_misaligned(void)
{
    const size_t n = 33;
    const pel_fft_r2r_kind k = PEL_FFT_DCT2;
    double *x = pel_malloc((n + 1) * sizeof *x), *y = pel_malloc((n + 1) * sizeof *y);
    long double ref[33];
    pel_test_fill(x, n, 31);
    for (size_t i = 0; i < n; i++)
        ref[i] = x[i];
    direct(1, &n, 1, &k, ref);
    memcpy(y + 1, x, n * sizeof *x);
    PEL_TEST_OK(pel_fft_r2r(1, &n, 1, &k, PEL_FFT_NORM_BACKWARD, x, x)); /* in place */
    CU_ASSERT(rel_error(ref, x, n) < TOL_DOUBLE);
    PEL_TEST_OK(pel_fft_r2r(1, &n, 1, &k, PEL_FFT_NORM_BACKWARD, y + 1, y + 1)); /* 8-byte offset */
    CU_ASSERT(rel_error(ref, y + 1, n) < TOL_DOUBLE);
    pel_free(x);
    pel_free(y);
}

static void test_explicit_plan_and_cache(void)
{
    const size_t dims[] = {16, 3};
    const pel_fft_r2r_kind kinds[] = {PEL_FFT_DST2, PEL_FFT_DCT2};
    pel_fft_options options = {PEL_FFT_ESTIMATE, 0.0, 1, PEL_FFT_NORM_FORWARD};
    pel_fft_plan *plan = NULL;
    double x[96], y[96], z[96];
    pel_fft_cache_stats stats;

    pel_test_fill(x, 96, 41);
    PEL_TEST_OK(pel_fft_r2r_plan_create(PEL_FLOAT64, 2, dims, 2, kinds, 0, &options, &plan));
    CU_ASSERT_EQUAL(pel_fft_plan_threads(plan), 1);
    PEL_TEST_OK(pel_fft_execute(plan, x, y));
    PEL_TEST_OK(pel_fft_r2r(2, dims, 2, kinds, PEL_FFT_NORM_FORWARD, x, z));
    for (size_t i = 0; i < 96; i++)
        CU_ASSERT(fabs(y[i] - z[i]) <= 1e-14 * (1 + fabs(z[i])));
    pel_fft_plan_destroy(plan);

    /* The one-shot call of the same transform is a cache hit; another kind
     * is a miss (kinds are part of the key). */
    pel_fft_cache_reset_stats();
    PEL_TEST_OK(pel_fft_r2r(2, dims, 2, kinds, PEL_FFT_NORM_FORWARD, x, z));
    PEL_TEST_OK(pel_fft_cache_get_stats(&stats));
    CU_ASSERT_EQUAL(stats.hits, 1);
    CU_ASSERT_EQUAL(stats.misses, 0);
    const pel_fft_r2r_kind other[] = {PEL_FFT_DST2, PEL_FFT_DCT3};
    PEL_TEST_OK(pel_fft_r2r(2, dims, 2, other, PEL_FFT_NORM_FORWARD, x, z));
    PEL_TEST_OK(pel_fft_cache_get_stats(&stats));
    CU_ASSERT_EQUAL(stats.misses, 1);
}

static void test_errors(void)
{
    const size_t one = 1, four = 4, dims0[] = {0};
    const pel_fft_r2r_kind dct1 = PEL_FFT_DCT1, bad = (pel_fft_r2r_kind)8, dct2 = PEL_FFT_DCT2;
    double x[4] = {1, 2, 3, 4}, y[4] = {9, 9, 9, 9};
    pel_fft_plan *plan = (pel_fft_plan *)&plan;

    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(1, &four, 1, NULL, PEL_FFT_NORM_BACKWARD, x, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_r2r", "kinds");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(1, &four, 1, &bad, PEL_FFT_NORM_BACKWARD, x, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_r2r", "kinds[0]=8");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(1, &one, 1, &dct1, PEL_FFT_NORM_BACKWARD, x, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_r2r", "DCT-I needs at least 2");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(0, &four, 1, &dct2, PEL_FFT_NORM_BACKWARD, x, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_r2r", "rank=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(1, dims0, 1, &dct2, PEL_FFT_NORM_BACKWARD, x, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_r2r", "dims[0]=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(1, &four, 0, &dct2, PEL_FFT_NORM_BACKWARD, x, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_r2r", "howmany=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(1, &four, 1, &dct2, PEL_FFT_NORM_BACKWARD, x, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2r", "out");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(1, &four, 1, &dct2, PEL_FFT_NORM_BACKWARD, x, x + 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2r", "overlap");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r_float(1, &four, 1, &bad, PEL_FFT_NORM_BACKWARD, (float *)x, (float *)y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2r_float", "kinds[0]");
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(y[i], 9); /* untouched on error */
    /* An explicit plan: *plan = NULL on error. */
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r_plan_create(PEL_FLOAT64, 1, &one, 1, &dct1, 0, NULL, &plan),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2r_plan_create", "DCT-I");
    CU_ASSERT_PTR_NULL(plan);
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r_plan_create((pel_precision)5, 1, &four, 1, &dct2, 0, NULL, &plan),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2r_plan_create", "precision=5");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r_plan_create(PEL_FLOAT64, 1, &four, 1, &dct2, 0, NULL, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2r_plan_create", "plan");
    PEL_TEST_EXPECT_ERROR(pel_fft_plan_create(PEL_FFT_R2R, PEL_FLOAT64, 1, &four, 1, PEL_FFT_FORWARD, 0, NULL, &plan),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_plan_create", "pel_fft_r2r_plan_create");
    CU_ASSERT_PTR_NULL(plan);
    /* Logical sizes. */
    CU_ASSERT_EQUAL(pel_fft_r2r_logical_size(PEL_FFT_DCT1, 5), 8);
    CU_ASSERT_EQUAL(pel_fft_r2r_logical_size(PEL_FFT_DCT1, 1), 0);
    CU_ASSERT_EQUAL(pel_fft_r2r_logical_size(PEL_FFT_DST1, 5), 12);
    CU_ASSERT_EQUAL(pel_fft_r2r_logical_size(PEL_FFT_DCT2, 5), 10);
    CU_ASSERT_EQUAL(pel_fft_r2r_logical_size(bad, 5), 0);
    CU_ASSERT_EQUAL(pel_fft_r2r_logical_size(PEL_FFT_DST4, 0), 0);
}

/* ------------------------------------------------------------ DCT by FFT */

/* The algorithm an explicit plan of this transform gets (the same rule as
 * the one-shot calls: both build their keys with set_kinds). */
static int chosen_algorithm(pel_precision precision, int rank, const size_t *dims, size_t howmany,
                            pel_fft_r2r_kind kind)
{
    pel_fft_r2r_kind kinds[PEL_FFT_MAX_RANK] = {kind, kind, kind};
    pel_fft_plan *plan = NULL;
    int algorithm;

    PEL_TEST_OK(pel_fft_r2r_plan_create(precision, rank, dims, howmany, kinds, 0, NULL, &plan));
    algorithm = plan == NULL ? -1 : plan->key.algorithm;
    pel_fft_plan_destroy(plan);
    return algorithm;
}

/* One DCT-II or DCT-III on the FFT path (forced for these small sizes),
 * double or float, out of place, in place or on arrays 8 (4) bytes off
 * their allocation, against the long-double direct sum. Tolerance: the
 * path is one n-D real FFT (FFTW's error, a few eps log2 N relative to the
 * largest output) plus O(1) twiddle multiplications per output, so the
 * bounds of the FFTW path hold it too (measured: ~3e-16 and ~2e-7). */
static double check_by_fft(pel_precision precision, int rank, const size_t *dims, size_t howmany,
                           pel_fft_r2r_kind kind, pel_fft_norm norm, int mode, uint64_t seed)
{
    pel_fft_r2r_kind kinds[PEL_FFT_MAX_RANK] = {kind, kind, kind};
    size_t n = total_points(rank, dims, howmany), scalar = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    size_t offset = mode == 2 ? 1 : 0;
    unsigned char *x = pel_malloc((n + 1) * scalar), *y = pel_malloc((n + 1) * scalar);
    unsigned char *copy = malloc(n * scalar);
    long double *ref = malloc(n * sizeof *ref), logical = 1, scale;
    void *in = x + offset * scalar, *out = mode == 1 ? in : (void *)(y + offset * scalar);
    double err;

    CU_ASSERT_EQUAL(chosen_algorithm(precision, rank, dims, howmany, kind),
                    kind == PEL_FFT_DCT2 ? PEL__FFT_ALGORITHM_DCT2_BY_FFT : PEL__FFT_ALGORITHM_DCT3_BY_FFT);
    if (precision == PEL_FLOAT32) {
        pel_test_fill_float(in, n, seed);
        for (size_t i = 0; i < n; i++)
            ref[i] = ((float *)in)[i];
    } else {
        pel_test_fill(in, n, seed);
        for (size_t i = 0; i < n; i++)
            ref[i] = ((double *)in)[i];
    }
    memcpy(copy, in, n * scalar);
    direct(rank, dims, howmany, kinds, ref);
    for (int d = 0; d < rank; d++)
        logical *= (long double)pel_fft_r2r_logical_size(kind, dims[d]);
    scale = norm == PEL_FFT_NORM_FORWARD ? 1 / logical : norm == PEL_FFT_NORM_ORTHO ? 1 / sqrtl(logical) : 1;
    for (size_t i = 0; i < n; i++)
        ref[i] *= scale;
    if (precision == PEL_FLOAT32) {
        PEL_TEST_OK(pel_fft_r2r_float(rank, dims, howmany, kinds, norm, in, out));
        err = rel_error_float(ref, out, n);
    } else {
        PEL_TEST_OK(pel_fft_r2r(rank, dims, howmany, kinds, norm, in, out));
        err = rel_error(ref, out, n);
    }
    if (mode != 1)
        CU_ASSERT(memcmp(in, copy, n * scalar) == 0); /* out of place: input kept */
    pel_free(x);
    pel_free(y);
    free(copy);
    free(ref);
    return err;
}

static void test_dct_by_fft_accuracy(void)
{
    static const struct {
        int rank;
        size_t dims[3], howmany;
    } shapes[] = {
        {1, {16}, 1}, {1, {64}, 3}, {1, {2}, 2}, {2, {8, 6}, 1}, {2, {2, 10}, 3},
        {3, {4, 6, 8}, 1}, {3, {2, 2, 2}, 2}, {3, {6, 4, 2}, 2},
    };
    static const pel_fft_r2r_kind kinds[] = {PEL_FFT_DCT2, PEL_FFT_DCT3};
    static const pel_precision precisions[] = {PEL_FLOAT64, PEL_FLOAT32};
    uint64_t seed = 500;

    pel__fft_dct_by_fft_test_force(1);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int k = 0; k < 2; k++)
            for (int p = 0; p < 2; p++)
                for (int mode = 0; mode < 3; mode++) {
                    pel_fft_norm norm = (pel_fft_norm)((s + (size_t)mode) % 3);
                    double err = check_by_fft(precisions[p], shapes[s].rank, shapes[s].dims, shapes[s].howmany,
                                              kinds[k], norm, mode, seed++);
                    double tol = precisions[p] == PEL_FLOAT32 ? TOL_FLOAT : TOL_DOUBLE;
                    if (!(err < tol))
                        fprintf(stderr, "DCT by FFT: shape %zu kind %d precision %d mode %d error %g\n", s,
                                (int)kinds[k], (int)precisions[p], mode, err);
                    CU_ASSERT(err < tol);
                }
    pel__fft_dct_by_fft_test_force(0);
}

/* The rule picks each path (lib/fft/plan.h, pel__fft_dct_by_fft_choose):
 * DCT-II and DCT-III of even sizes by FFT where it wins, at both edges of
 * each threshold; small, odd, mixed-kind and other kinds by FFTW's r2r. The
 * forced choice and the rule's make distinct cache entries (the algorithm
 * is in the key), and both give the same numbers. */
static void test_dct_by_fft_choice(void)
{
    const size_t d64[] = {64, 64}, d8[] = {8, 8}, d65[] = {65, 64}, n4096 = 4096, n256 = 256, d3[] = {16, 16, 16}, d16[] = {16, 16};
    const pel_fft_r2r_kind mixed[] = {PEL_FFT_DCT2, PEL_FFT_DCT3};
    pel_fft_plan *plan = NULL;
    pel_fft_cache_stats stats;
    double *x = pel_malloc(4096 * sizeof *x), *y = pel_malloc(4096 * sizeof *y), *z = pel_malloc(4096 * sizeof *z);

    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 2, d64, 1, PEL_FFT_DCT2), PEL__FFT_ALGORITHM_DCT2_BY_FFT);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT32, 2, d64, 1, PEL_FFT_DCT3), PEL__FFT_ALGORITHM_DCT3_BY_FFT);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 3, d3, 2, PEL_FFT_DCT2), PEL__FFT_ALGORITHM_DCT2_BY_FFT);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 1, &n256, 4, PEL_FFT_DCT2), PEL__FFT_ALGORITHM_DCT2_BY_FFT);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 1, &n256, 3, PEL_FFT_DCT2), PEL__FFT_ALGORITHM_FFTW);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 1, &n4096, 1, PEL_FFT_DCT3), PEL__FFT_ALGORITHM_FFTW);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 2, d16, 15, PEL_FFT_DCT2), PEL__FFT_ALGORITHM_FFTW);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 2, d16, 16, PEL_FFT_DCT2), PEL__FFT_ALGORITHM_DCT2_BY_FFT);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 2, d8, 64, PEL_FFT_DCT2), PEL__FFT_ALGORITHM_FFTW);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 2, d65, 1, PEL_FFT_DCT2), PEL__FFT_ALGORITHM_FFTW);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 2, d64, 1, PEL_FFT_DCT4), PEL__FFT_ALGORITHM_FFTW);
    CU_ASSERT_EQUAL(chosen_algorithm(PEL_FLOAT64, 2, d64, 1, PEL_FFT_DST2), PEL__FFT_ALGORITHM_FFTW);
    PEL_TEST_OK(pel_fft_r2r_plan_create(PEL_FLOAT64, 2, d64, 1, mixed, 0, NULL, &plan));
    CU_ASSERT_EQUAL(plan->key.algorithm, PEL__FFT_ALGORITHM_FFTW);
    pel_fft_plan_destroy(plan);

    pel_test_fill(x, 4096, 77);
    pel_fft_cache_clear();
    pel_fft_cache_reset_stats();
    const pel_fft_r2r_kind dct2[] = {PEL_FFT_DCT2, PEL_FFT_DCT2};
    PEL_TEST_OK(pel_fft_r2r(2, d64, 1, dct2, PEL_FFT_NORM_ORTHO, x, y));
    pel__fft_dct_by_fft_test_force(-1);
    PEL_TEST_OK(pel_fft_r2r(2, d64, 1, dct2, PEL_FFT_NORM_ORTHO, x, z));
    pel__fft_dct_by_fft_test_force(0);
    PEL_TEST_OK(pel_fft_cache_get_stats(&stats));
    CU_ASSERT_EQUAL(stats.misses, 2);
    double d = 0, m = 0;
    for (size_t i = 0; i < 4096; i++) {
        d = fmax(d, fabs(y[i] - z[i]));
        m = fmax(m, fabs(z[i]));
    }
    CU_ASSERT(d <= 1e-14 * m);
    pel_free(x);
    pel_free(y);
    pel_free(z);
}

/* A planning failure on the FFT path (the test hook) is reported and leaves
 * the output untouched. */
static void test_dct_by_fft_failure(void)
{
    const size_t dims[] = {6, 10};
    const pel_fft_r2r_kind kinds[] = {PEL_FFT_DCT3, PEL_FFT_DCT3};
    double x[60], y[60];

    pel_test_fill(x, 60, 3);
    for (int i = 0; i < 60; i++)
        y[i] = 9;
    pel__fft_dct_by_fft_test_force(1);
    pel_fft_cache_clear();
    pel__fft_test_fail_plan_after(0);
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r(2, dims, 1, kinds, PEL_FFT_NORM_BACKWARD, x, y), PEL_ERROR_OUT_OF_MEMORY,
                          "pel_fft_r2r", "injected");
    pel__fft_test_fail_plan_after(-1);
    pel__fft_dct_by_fft_test_force(0);
    for (int i = 0; i < 60; i++)
        CU_ASSERT_EQUAL(y[i], 9);
}

static void add_suites(void)
{
    static const pel_test_case tests[] = {
        {"every kind, 1-D, against the direct sum", test_every_kind_1d},
        {"2-D and 3-D, mixed kinds, batches", test_multi_dimensional_batched},
        {"forward and ortho scaling", test_norms},
        {"inverse kinds", test_inverse_pairs},
        {"float", test_float},
        {"in place and misaligned", test_in_place_and_misaligned},
        {"explicit plan and the shared cache", test_explicit_plan_and_cache},
        {"errors", test_errors},
        {"DCT-II/III by FFT: 1-3 dimensions, batches, float, in place, misaligned", test_dct_by_fft_accuracy},
        {"DCT-II/III by FFT: the automatic choice and the cache key", test_dct_by_fft_choice},
        {"DCT-II/III by FFT: planning failure", test_dct_by_fft_failure},
        {NULL, NULL},
    };
    pel_test_add_suite("fft_r2r", tests);
}

int main(void)
{
    return pel_test_main("test_fft_r2r", add_suites);
}
