/* Tests of the FFT API: layouts (out-of-place input preserved, Hermitian
 * r2c/c2r, batches, in place, misaligned arrays), normalisation, threads,
 * the plan cache under 8 concurrent threads, wisdom, fork safety and every
 * bad argument.
 *
 * Tolerances: two FFTW plans for the same transform (batched or single,
 * aligned or unaligned codelets, 1 or 2 threads) may add in another order;
 * each result is within ~eps*log2(n) of the exact one (test_fft_accuracy), so
 * they differ by at most a few eps relative to the largest value: 1e-13
 * (double) and 1e-5 (float) leave a wide margin and still catch any wrong
 * index, scale or sign. */
#include "pel_test.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fft/plan.h"
#include "test_fft_common.h"

#define TOL_DOUBLE 1e-13
#define TOL_FLOAT 1e-5

/* Relative max difference of two double arrays (scaled by max |a|). */
static double max_diff(const double *a, const double *b, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        m = fmax(m, fabs(a[i]));
    }
    return m > 0 ? d / m : d;
}

static double max_diff_float(const float *a, const float *b, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
        m = fmax(m, fabs((double)a[i]));
    }
    return m > 0 ? d / m : d;
}

static double *random_doubles(size_t n, uint64_t seed)
{
    double *x = pel_malloc((n ? n : 1) * sizeof *x + 64);
    pel_test_fill(x, n, seed);
    return x;
}

/* ------------------------------------------------------------ layouts */

static void test_out_of_place_input_unchanged(void)
{
    static const size_t shapes[3][3] = {{64, 1, 1}, {8, 12, 1}, {4, 6, 10}};
    for (int rank = 1; rank <= 3; rank++) {
        const size_t *dims = shapes[rank - 1];
        size_t points = fft_test_points(rank, dims), half = points / dims[rank - 1] * (dims[rank - 1] / 2 + 1);
        double *x = random_doubles(2 * points, 10 + (uint64_t)rank), *saved = random_doubles(2 * points, 0);
        double *y = random_doubles(2 * points, 20);
        pel_fft_plan *plan = NULL;

        memcpy(saved, x, 2 * points * sizeof *x);
        PEL_TEST_OK(pel_fft_c2c(rank, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
        PEL_TEST_OK(pel_fft_c2c(rank, dims, 1, PEL_FFT_BACKWARD, PEL_FFT_NORM_ORTHO, x, y));
        PEL_TEST_OK(pel_fft_r2c(rank, dims, 1, PEL_FFT_NORM_BACKWARD, x, y));
        CU_ASSERT(memcmp(saved, x, 2 * points * sizeof *x) == 0);
        /* c2r: FFTW destroys the input of multi-dimensional c2r; pel must not. */
        fft_test_symmetrize(rank, dims, x);
        memcpy(saved, x, 2 * half * sizeof *x);
        PEL_TEST_OK(pel_fft_c2r(rank, dims, 1, PEL_FFT_NORM_BACKWARD, x, y));
        CU_ASSERT(memcmp(saved, x, 2 * half * sizeof *x) == 0);
        PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2R, PEL_FLOAT64, rank, dims, 1, PEL_FFT_BACKWARD, 0, NULL, &plan));
        PEL_TEST_OK(pel_fft_execute(plan, x, y));
        CU_ASSERT(memcmp(saved, x, 2 * half * sizeof *x) == 0);
        pel_fft_plan_destroy(plan);
        pel_free(x);
        pel_free(saved);
        pel_free(y);
    }
}

/* r2c gives the first n/2+1 columns of the c2c spectrum of the same real
 * data; c2r inverts it. */
static void test_hermitian_layout(void)
{
    static const size_t shapes[][3] = {{15, 1, 1}, {16, 1, 1}, {6, 9, 1}, {5, 4, 7}, {3, 2, 8}};
    static const int ranks[] = {1, 1, 2, 3, 3};
    for (size_t s = 0; s < sizeof ranks / sizeof ranks[0]; s++) {
        int rank = ranks[s];
        const size_t *dims = shapes[s];
        size_t points = fft_test_points(rank, dims), last = dims[rank - 1], h = last / 2 + 1, rows = points / last;
        double *x = random_doubles(points, 30 + s), *xc = random_doubles(2 * points, 0);
        double *full = random_doubles(2 * points, 0), *half = random_doubles(2 * rows * h, 0);
        double *back = random_doubles(points, 0), *expected = random_doubles(2 * rows * h, 0);
        float *xf = malloc(points * sizeof *xf), *halff = malloc(2 * rows * h * sizeof *halff);
        float *backf = malloc(points * sizeof *backf);

        for (size_t i = 0; i < points; i++) {
            xc[2 * i] = x[i];
            xc[2 * i + 1] = 0;
            xf[i] = (float)x[i];
        }
        PEL_TEST_OK(pel_fft_c2c(rank, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, xc, full));
        PEL_TEST_OK(pel_fft_r2c(rank, dims, 1, PEL_FFT_NORM_BACKWARD, x, half));
        for (size_t r = 0; r < rows; r++)
            memcpy(expected + 2 * r * h, full + 2 * r * last, 2 * h * sizeof(double));
        CU_ASSERT(max_diff(expected, half, 2 * rows * h) < TOL_DOUBLE);
        PEL_TEST_OK(pel_fft_c2r(rank, dims, 1, PEL_FFT_NORM_BACKWARD, half, back));
        CU_ASSERT(max_diff(x, back, points) < TOL_DOUBLE);
        PEL_TEST_OK(pel_fft_r2c_float(rank, dims, 1, PEL_FFT_NORM_BACKWARD, xf, halff));
        for (size_t i = 0; i < 2 * rows * h; i++)
            CU_ASSERT(fabs(halff[i] - expected[i]) < TOL_FLOAT * sqrt((double)points) * 4);
        PEL_TEST_OK(pel_fft_c2r_float(rank, dims, 1, PEL_FFT_NORM_BACKWARD, halff, backf));
        CU_ASSERT(max_diff_float(xf, backf, points) < TOL_FLOAT);
        pel_free(x);
        pel_free(xc);
        pel_free(full);
        pel_free(half);
        pel_free(back);
        pel_free(expected);
        free(xf);
        free(halff);
        free(backf);
    }
}

/* A batch of howmany transforms equals howmany single transforms. */
static void test_batches(void)
{
    static const struct {
        pel_fft_kind kind;
        int rank;
        size_t dims[3];
        size_t howmany;
    } cases[] = {{PEL_FFT_C2C, 2, {6, 10, 1}, 7}, {PEL_FFT_R2C, 1, {33, 1, 1}, 5}, {PEL_FFT_C2R, 3, {3, 4, 6}, 4},
                 {PEL_FFT_C2C, 1, {128, 1, 1}, 9}, {PEL_FFT_R2C, 2, {5, 8, 1}, 3}, {PEL_FFT_C2R, 1, {20, 1, 1}, 6}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int rank = cases[c].rank;
        const size_t *dims = cases[c].dims;
        size_t points = fft_test_points(rank, dims), last = dims[rank - 1];
        size_t half = points / last * (last / 2 + 1), howmany = cases[c].howmany;
        size_t in_one = cases[c].kind == PEL_FFT_C2C ? 2 * points : cases[c].kind == PEL_FFT_R2C ? points : 2 * half;
        size_t out_one = cases[c].kind == PEL_FFT_C2C ? 2 * points : cases[c].kind == PEL_FFT_R2C ? 2 * half : points;
        double *x = random_doubles(in_one * howmany, 40 + c), *y = random_doubles(out_one * howmany, 0);
        double *single = random_doubles(out_one, 0);
        pel_fft_direction direction = cases[c].kind == PEL_FFT_R2C ? PEL_FFT_FORWARD : PEL_FFT_BACKWARD;
        pel_fft_plan *plan = NULL;

        if (cases[c].kind == PEL_FFT_C2R)
            for (size_t b = 0; b < howmany; b++)
                fft_test_symmetrize(rank, dims, x + b * in_one);
        PEL_TEST_OK(pel_fft_plan_create(cases[c].kind, PEL_FLOAT64, rank, dims, howmany, direction, 0, NULL, &plan));
        PEL_TEST_OK(pel_fft_execute(plan, x, y));
        for (size_t b = 0; b < howmany; b++) {
            pel_status status =
                cases[c].kind == PEL_FFT_C2C
                    ? pel_fft_c2c(rank, dims, 1, direction, PEL_FFT_NORM_BACKWARD, x + b * in_one, single)
                : cases[c].kind == PEL_FFT_R2C ? pel_fft_r2c(rank, dims, 1, PEL_FFT_NORM_BACKWARD, x + b * in_one, single)
                                               : pel_fft_c2r(rank, dims, 1, PEL_FFT_NORM_BACKWARD, x + b * in_one, single);
            PEL_TEST_OK(status);
            CU_ASSERT(max_diff(single, y + b * out_one, out_one) < TOL_DOUBLE);
        }
        pel_fft_plan_destroy(plan);
        pel_free(x);
        pel_free(y);
        pel_free(single);
    }
}

/* In place equals out of place, for c2c and for r2c/c2r with the padded
 * real layout, through plans and one-shot calls, in both precisions. */
static void test_in_place(void)
{
    static const size_t dims[2] = {6, 11};
    size_t points = 66, h = 6, rows = 6, padded = 2 * h;
    double *x = random_doubles(2 * points, 50), *y = random_doubles(2 * points, 0), *work = random_doubles(2 * points, 0);
    float *xf = malloc(2 * points * sizeof *xf), *yf = malloc(2 * points * sizeof *yf);
    float *workf = malloc(2 * points * sizeof *workf);
    pel_fft_plan *plan = NULL;

    /* c2c, double and float */
    PEL_TEST_OK(pel_fft_c2c(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    memcpy(work, x, 2 * points * sizeof *x);
    PEL_TEST_OK(pel_fft_c2c(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, work, work));
    CU_ASSERT(max_diff(y, work, 2 * points) < TOL_DOUBLE);
    memcpy(work, x, 2 * points * sizeof *x);
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 2, dims, 1, PEL_FFT_FORWARD, 1, NULL, &plan));
    PEL_TEST_OK(pel_fft_execute(plan, work, work));
    CU_ASSERT(max_diff(y, work, 2 * points) < TOL_DOUBLE);
    pel_fft_plan_destroy(plan);
    for (size_t i = 0; i < 2 * points; i++)
        workf[i] = xf[i] = (float)x[i];
    PEL_TEST_OK(pel_fft_c2c_float(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, xf, yf));
    PEL_TEST_OK(pel_fft_c2c_float(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, workf, workf));
    CU_ASSERT(max_diff_float(yf, workf, 2 * points) < TOL_FLOAT);

    /* r2c in place: row r of the real input starts at r * padded. */
    PEL_TEST_OK(pel_fft_r2c(2, dims, 1, PEL_FFT_NORM_BACKWARD, x, y));
    for (size_t r = 0; r < rows; r++)
        memcpy(work + r * padded, x + r * 11, 11 * sizeof *x);
    PEL_TEST_OK(pel_fft_r2c(2, dims, 1, PEL_FFT_NORM_BACKWARD, work, work));
    CU_ASSERT(max_diff(y, work, 2 * rows * h) < TOL_DOUBLE);
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < 11; i++)
            workf[r * padded + i] = (float)x[r * 11 + i];
    PEL_TEST_OK(pel_fft_r2c_float(2, dims, 1, PEL_FFT_NORM_BACKWARD, workf, workf));
    for (size_t i = 0; i < 2 * rows * h; i++)
        CU_ASSERT(fabs(workf[i] - y[i]) < 1e-4);

    /* c2r in place back to the padded real layout. */
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2R, PEL_FLOAT64, 2, dims, 1, PEL_FFT_BACKWARD, 1, NULL, &plan));
    PEL_TEST_OK(pel_fft_execute(plan, work, work));
    for (size_t r = 0; r < rows; r++)
        CU_ASSERT(max_diff(x + r * 11, work + r * padded, 11) < TOL_DOUBLE);
    pel_fft_plan_destroy(plan);
    PEL_TEST_OK(pel_fft_c2r_float(2, dims, 1, PEL_FFT_NORM_BACKWARD, workf, (float *)workf));
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < 11; i++)
            CU_ASSERT(fabs(workf[r * padded + i] - x[r * 11 + i]) < 1e-5);
    pel_free(x);
    pel_free(y);
    pel_free(work);
    free(xf);
    free(yf);
    free(workf);
}

/* Arrays offset by 8 and 16 bytes from pel_malloc's 64-byte alignment run
 * on the unaligned variant and give the aligned result. */
static void test_misaligned_arrays(void)
{
    static const size_t dims[2] = {12, 20};
    size_t points = 240;
    double *x = random_doubles(2 * points, 60), *expected = random_doubles(2 * points, 0);
    unsigned char *in_block = pel_malloc(2 * points * sizeof(double) + 64);
    unsigned char *out_block = pel_malloc(2 * points * sizeof(double) + 64);
    static const size_t offsets[] = {8, 16, 24, 32};

    for (int kind = PEL_FFT_C2C; kind <= PEL_FFT_C2R; kind++) {
        pel_fft_direction direction = kind == PEL_FFT_R2C ? PEL_FFT_FORWARD : PEL_FFT_BACKWARD;
        size_t out_count = kind == PEL_FFT_C2C ? 2 * points : kind == PEL_FFT_R2C ? 2 * 12 * 11 : points;
        size_t in_count = kind == PEL_FFT_C2C ? 2 * points : kind == PEL_FFT_R2C ? points : 2 * 12 * 11;
        pel_fft_plan *plan = NULL;

        if (kind == PEL_FFT_C2R)
            fft_test_symmetrize(2, dims, x);
        PEL_TEST_OK(pel_fft_plan_create((pel_fft_kind)kind, PEL_FLOAT64, 2, dims, 1, direction, 0, NULL, &plan));
        PEL_TEST_OK(pel_fft_execute(plan, x, expected));
        for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++)
            for (size_t j = 0; j < sizeof offsets / sizeof offsets[0]; j++) {
                double *in = (double *)(in_block + offsets[i]), *out = (double *)(out_block + offsets[j]);
                memcpy(in, x, in_count * sizeof *x);
                PEL_TEST_OK(pel_fft_execute(plan, in, out));
                CU_ASSERT(max_diff(expected, out, out_count) < TOL_DOUBLE);
                CU_ASSERT(memcmp(in, x, in_count * sizeof *x) == 0);
                memset(out, 0, out_count * sizeof *out);
                if (kind == PEL_FFT_C2C)
                    PEL_TEST_OK(pel_fft_c2c(2, dims, 1, direction, PEL_FFT_NORM_BACKWARD, in, out));
                else if (kind == PEL_FFT_R2C)
                    PEL_TEST_OK(pel_fft_r2c(2, dims, 1, PEL_FFT_NORM_BACKWARD, in, out));
                else
                    PEL_TEST_OK(pel_fft_c2r(2, dims, 1, PEL_FFT_NORM_BACKWARD, in, out));
                CU_ASSERT(max_diff(expected, out, out_count) < TOL_DOUBLE);
            }
        pel_fft_plan_destroy(plan);
    }
    /* float, offset 8 and 16 (and 4: float complex needs only 4-byte alignment) */
    {
        float *xf = malloc(2 * points * sizeof *xf), *ef = malloc(2 * points * sizeof *ef);
        static const size_t float_offsets[] = {4, 8, 16};
        pel_fft_plan *plan = NULL;
        for (size_t i = 0; i < 2 * points; i++)
            xf[i] = (float)x[i];
        PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT32, 2, dims, 1, PEL_FFT_FORWARD, 0, NULL, &plan));
        PEL_TEST_OK(pel_fft_execute(plan, xf, ef));
        for (size_t i = 0; i < 3; i++) {
            float *in = (float *)(in_block + float_offsets[i]), *out = (float *)(out_block + float_offsets[2 - i]);
            memcpy(in, xf, 2 * points * sizeof *xf);
            PEL_TEST_OK(pel_fft_execute(plan, in, out));
            CU_ASSERT(max_diff_float(ef, out, 2 * points) < TOL_FLOAT);
            /* and in place on a misaligned array */
            PEL_TEST_OK(pel_fft_c2c_float(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, in, in));
            CU_ASSERT(max_diff_float(ef, in, 2 * points) < TOL_FLOAT);
        }
        pel_fft_plan_destroy(plan);
        free(xf);
        free(ef);
    }
    pel_free(x);
    pel_free(expected);
    pel_free(in_block);
    pel_free(out_block);
}

/* numpy's norm=: backward scales the backward transform by 1/N, ortho both
 * by 1/sqrt(N), forward the forward transform by 1/N; each round trip with
 * one norm returns the input. */
static void test_norm_modes(void)
{
    static const size_t dims[2] = {4, 6};
    const double n = 24;
    double *x = random_doubles(48, 70), *raw = random_doubles(48, 0), *y = random_doubles(48, 0);
    double *z = random_doubles(48, 0), *rawb = random_doubles(48, 0);
    static const pel_fft_norm norms[] = {PEL_FFT_NORM_BACKWARD, PEL_FFT_NORM_ORTHO, PEL_FFT_NORM_FORWARD};
    const double forward_scale[] = {1.0, 1.0 / sqrt(n), 1.0 / n};
    const double backward_scale[] = {1.0 / n, 1.0 / sqrt(n), 1.0};

    /* unscaled references: forward with norm=backward, backward with norm=forward */
    PEL_TEST_OK(pel_fft_c2c(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, raw));
    PEL_TEST_OK(pel_fft_c2c(2, dims, 1, PEL_FFT_BACKWARD, PEL_FFT_NORM_FORWARD, x, rawb));
    for (int k = 0; k < 3; k++) {
        PEL_TEST_OK(pel_fft_c2c(2, dims, 1, PEL_FFT_FORWARD, norms[k], x, y));
        for (int i = 0; i < 48; i++)
            CU_ASSERT(fabs(y[i] - raw[i] * forward_scale[k]) < 1e-14 * 24);
        PEL_TEST_OK(pel_fft_c2c(2, dims, 1, PEL_FFT_BACKWARD, norms[k], x, z));
        for (int i = 0; i < 48; i++)
            CU_ASSERT(fabs(z[i] - rawb[i] * backward_scale[k]) < 1e-14 * 24);
        PEL_TEST_OK(pel_fft_c2c(2, dims, 1, PEL_FFT_BACKWARD, norms[k], y, z));
        CU_ASSERT(max_diff(x, z, 48) < TOL_DOUBLE);
        /* real round trip */
        PEL_TEST_OK(pel_fft_r2c(2, dims, 1, norms[k], x, y));
        for (int i = 0; i < 4 * 4 * 2; i++)
            CU_ASSERT(y[i] == y[i]); /* no NaN */
        PEL_TEST_OK(pel_fft_c2r(2, dims, 1, norms[k], y, z));
        CU_ASSERT(max_diff(x, z, 24) < TOL_DOUBLE);
    }
    {
        float xf[48], yf[48], zf[48];
        for (int i = 0; i < 48; i++)
            xf[i] = (float)x[i];
        PEL_TEST_OK(pel_fft_c2c_float(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_ORTHO, xf, yf));
        for (int i = 0; i < 48; i++)
            CU_ASSERT(fabs(yf[i] - raw[i] / sqrt(n)) < 1e-5);
        PEL_TEST_OK(pel_fft_c2c_float(2, dims, 1, PEL_FFT_BACKWARD, PEL_FFT_NORM_ORTHO, yf, zf));
        CU_ASSERT(max_diff_float(xf, zf, 48) < TOL_FLOAT);
    }
    pel_free(x);
    pel_free(raw);
    pel_free(y);
    pel_free(z);
    pel_free(rawb);
}

/* ------------------------------------------------------------ threads */

static void test_thread_choice(void)
{
    /* large: 2^18 points, 8 work units each, twice the most reluctant
     * minimum work per thread the model may give (32 x 32768 units). */
    size_t small = 1024, large = 1 << 18;
    pel_fft_plan *plan = NULL;
    pel_fft_options options = {PEL_FFT_ESTIMATE, 0, 0, PEL_FFT_NORM_BACKWARD};

    PEL_TEST_OK(pel_set_num_threads(2));
    /* FFTW on 2 threads is several times slower than on 1 for 2^10. */
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &small, 1, PEL_FFT_FORWARD, 0, NULL, &plan));
    CU_ASSERT_EQUAL(pel_fft_plan_threads(plan), 1);
    pel_fft_plan_destroy(plan);
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &large, 1, PEL_FFT_FORWARD, 0, NULL, &plan));
    CU_ASSERT_EQUAL(pel_fft_plan_threads(plan), 2);
    pel_fft_plan_destroy(plan);
    /* So are 256 transforms of 2^10. */
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &small, 256, PEL_FFT_FORWARD, 0, NULL, &plan));
    CU_ASSERT_EQUAL(pel_fft_plan_threads(plan), 2);
    pel_fft_plan_destroy(plan);
    options.nthreads = 3;
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &small, 1, PEL_FFT_FORWARD, 0, &options, &plan));
    CU_ASSERT_EQUAL(pel_fft_plan_threads(plan), 3);
    pel_fft_plan_destroy(plan);
    PEL_TEST_OK(pel_set_num_threads(1));
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &large, 1, PEL_FFT_FORWARD, 0, NULL, &plan));
    CU_ASSERT_EQUAL(pel_fft_plan_threads(plan), 1);
    pel_fft_plan_destroy(plan);
    CU_ASSERT_EQUAL(pel_fft_plan_threads(NULL), 0);
    PEL_TEST_OK(pel_set_num_threads(0));
}

/* Multi-threaded plans (forced with a tiny work cutoff and explicit counts)
 * agree with single-threaded ones, from a plain thread and from inside an
 * OpenMP parallel region (where the single-threaded twin runs). */
static void test_threaded_results(void)
{
    static const size_t dims[3] = {8, 12, 10};
    size_t points = 960;
    double *x = random_doubles(4 * points, 80), *one = random_doubles(4 * points, 0);
    double *many = random_doubles(4 * points, 0);
    pel_fft_options options = {PEL_FFT_ESTIMATE, 0, 1, PEL_FFT_NORM_ORTHO};
    pel_fft_plan *serial = NULL, *parallel = NULL;
    int bad = 0;

    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 3, dims, 2, PEL_FFT_FORWARD, 0, &options, &serial));
    PEL_TEST_OK(pel_fft_execute(serial, x, one));
    for (int threads = 2; threads <= 4; threads++) {
        options.nthreads = threads;
        PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 3, dims, 2, PEL_FFT_FORWARD, 0, &options, &parallel));
        PEL_TEST_OK(pel_fft_execute(parallel, x, many));
        CU_ASSERT(max_diff(one, many, 4 * points) < TOL_DOUBLE);
        pel_fft_plan_destroy(parallel);
    }
    options.nthreads = 2;
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 3, dims, 1, PEL_FFT_FORWARD, 0, &options, &parallel));
#pragma omp parallel num_threads(3) reduction(+ : bad)
    {
        double *mine = pel_malloc(2 * points * sizeof *mine);
        if (pel_fft_execute(parallel, x, mine) != PEL_OK || max_diff(one, mine, 2 * points) > TOL_DOUBLE)
            bad++;
        pel_free(mine);
    }
    CU_ASSERT_EQUAL(bad, 0);
    pel_fft_plan_destroy(parallel);

    /* One-shots on every thread count with the parallel path forced. */
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    for (int threads = 1; threads <= 4; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        PEL_TEST_OK(pel_fft_c2c(3, dims, 2, PEL_FFT_FORWARD, PEL_FFT_NORM_ORTHO, x, many));
        CU_ASSERT(max_diff(one, many, 4 * points) < TOL_DOUBLE);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    pel_fft_plan_destroy(serial);
    pel_free(x);
    pel_free(one);
    pel_free(many);
}

/* ------------------------------------------------------------ cache */

static void test_cache_statistics(void)
{
    size_t n = 48, m = 50;
    double *x = random_doubles(4 * 64, 90), *y = random_doubles(4 * 64, 0);
    pel_fft_cache_stats s;

    /* The counting below is the cache's, with plans of one fixed effort (the
     * default PEL_FFT_AUTO keys are other keys; upgrades have their own
     * tests in test_fft_upgrade). */
    PEL_TEST_OK(pel_fft_set_default_effort(PEL_FFT_ESTIMATE, 0));
    PEL_TEST_OK(pel_fft_cache_set_capacity(32));
    pel_fft_cache_clear();
    pel_fft_cache_reset_stats();
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_cache_get_stats(&s));
    CU_ASSERT_EQUAL(s.hits, 1);
    CU_ASSERT_EQUAL(s.misses, 1);
    CU_ASSERT_EQUAL(s.entries, 1);
    CU_ASSERT_EQUAL(s.capacity, 32);
    /* Direction, norm, placement, size and precision are all in the key. */
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_BACKWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_ORTHO, x, y));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, x));
    PEL_TEST_OK(pel_fft_c2c(1, &m, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_c2c_float(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 2, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_cache_get_stats(&s));
    CU_ASSERT_EQUAL(s.hits, 1);
    CU_ASSERT_EQUAL(s.misses, 7);
    CU_ASSERT_EQUAL(s.entries, 7);
    /* So are the effort and the thread count. */
    PEL_TEST_OK(pel_fft_set_default_effort(PEL_FFT_ESTIMATE, 1.5));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_set_default_effort(PEL_FFT_ESTIMATE, 0));
    CU_ASSERT_EQUAL(pel_fft_get_default_effort(), PEL_FFT_ESTIMATE);
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    PEL_TEST_OK(pel_set_num_threads(2));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    PEL_TEST_OK(pel_fft_cache_get_stats(&s));
    CU_ASSERT_EQUAL(s.misses, 9);
    /* Shrinking evicts the least recently used plans. */
    PEL_TEST_OK(pel_fft_c2c(1, &m, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y)); /* hit, now most recent */
    PEL_TEST_OK(pel_fft_cache_set_capacity(1));
    PEL_TEST_OK(pel_fft_cache_get_stats(&s));
    CU_ASSERT_EQUAL(s.hits, 2);
    CU_ASSERT_EQUAL(s.entries, 1);
    CU_ASSERT_EQUAL(s.evictions, 8);
    PEL_TEST_OK(pel_fft_c2c(1, &m, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_cache_get_stats(&s));
    CU_ASSERT_EQUAL(s.hits, 3);
    CU_ASSERT_EQUAL(s.misses, 10);
    CU_ASSERT_EQUAL(s.evictions, 9);
    /* Capacity 0: every call plans its own and nothing is kept. */
    PEL_TEST_OK(pel_fft_cache_set_capacity(0));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_cache_get_stats(&s));
    CU_ASSERT_EQUAL(s.entries, 0);
    CU_ASSERT_EQUAL(s.misses, 12);
    CU_ASSERT_EQUAL(s.evictions, 10);
    /* Clearing drops plans and keeps counters; reset zeroes them. */
    PEL_TEST_OK(pel_fft_cache_set_capacity(32));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    pel_fft_cache_clear();
    PEL_TEST_OK(pel_fft_cache_get_stats(&s));
    CU_ASSERT_EQUAL(s.entries, 0);
    CU_ASSERT_EQUAL(s.misses, 13);
    pel_fft_cache_reset_stats();
    PEL_TEST_OK(pel_fft_cache_get_stats(&s));
    CU_ASSERT_EQUAL(s.hits + s.misses + s.evictions, 0);
    pel_free(x);
    pel_free(y);
}

/* Eight threads run one-shot FFTs of mixed shapes at once, with a cache
 * large enough for all of them and then one too small (evictions while other
 * threads execute evicted plans). Every result is checked against the
 * result computed beforehand on one thread. */
enum { SHAPES = 9, CALLS_PER_THREAD = 60, WORKERS = 8 };

typedef struct shape_case {
    pel_fft_kind kind;
    pel_precision precision;
    int rank;
    size_t dims[3];
    size_t howmany;
    void *in;
    void *expected;
    size_t out_scalars;
} shape_case;

static shape_case shape_cases[SHAPES] = {
    {PEL_FFT_C2C, PEL_FLOAT64, 1, {64, 1, 1}, 1, NULL, NULL, 0},
    {PEL_FFT_C2C, PEL_FLOAT64, 2, {8, 12, 1}, 2, NULL, NULL, 0},
    {PEL_FFT_R2C, PEL_FLOAT64, 1, {100, 1, 1}, 1, NULL, NULL, 0},
    {PEL_FFT_C2R, PEL_FLOAT64, 3, {4, 5, 6}, 1, NULL, NULL, 0},
    {PEL_FFT_C2C, PEL_FLOAT32, 1, {30, 1, 1}, 3, NULL, NULL, 0},
    {PEL_FFT_R2C, PEL_FLOAT32, 2, {9, 16, 1}, 1, NULL, NULL, 0},
    {PEL_FFT_C2R, PEL_FLOAT32, 1, {17, 1, 1}, 2, NULL, NULL, 0},
    {PEL_FFT_C2C, PEL_FLOAT64, 3, {3, 7, 5}, 1, NULL, NULL, 0},
    {PEL_FFT_C2C, PEL_FLOAT64, 1, {1000, 1, 1}, 1, NULL, NULL, 0},
};

static pel_status run_shape(const shape_case *c, const void *in, void *out)
{
    pel_fft_norm norm = PEL_FFT_NORM_ORTHO;
    int f = c->precision == PEL_FLOAT32;
    switch (c->kind) {
    case PEL_FFT_R2C:
        return f ? pel_fft_r2c_float(c->rank, c->dims, c->howmany, norm, in, out)
                 : pel_fft_r2c(c->rank, c->dims, c->howmany, norm, in, out);
    case PEL_FFT_C2R:
        return f ? pel_fft_c2r_float(c->rank, c->dims, c->howmany, norm, in, out)
                 : pel_fft_c2r(c->rank, c->dims, c->howmany, norm, in, out);
    default:
        return f ? pel_fft_c2c_float(c->rank, c->dims, c->howmany, PEL_FFT_FORWARD, norm, in, out)
                 : pel_fft_c2c(c->rank, c->dims, c->howmany, PEL_FFT_FORWARD, norm, in, out);
    }
}

static void *concurrent_worker(void *arg)
{
    size_t id = (size_t)(uintptr_t)arg, failures = 0;
    unsigned char *out = malloc(2 * 1000 * sizeof(double) * 3 + 64);

    for (size_t call = 0; call < CALLS_PER_THREAD; call++) {
        const shape_case *c = &shape_cases[(call * 7 + id * 3) % SHAPES];
        /* every other call on a misaligned output, to mix variants */
        void *target = out + ((call + id) % 2 ? 8 : 0);
        if (run_shape(c, c->in, target) != PEL_OK)
            failures++;
        else if (c->precision == PEL_FLOAT64 ? max_diff(c->expected, target, c->out_scalars) > TOL_DOUBLE
                                             : max_diff_float(c->expected, target, c->out_scalars) > TOL_FLOAT)
            failures++;
    }
    free(out);
    return (void *)(uintptr_t)failures;
}

static void test_concurrent_oneshots(void)
{
    static const size_t capacities[] = {32, 3};
    for (int s = 0; s < SHAPES; s++) {
        shape_case *c = &shape_cases[s];
        size_t points = fft_test_points(c->rank, c->dims), last = c->dims[c->rank - 1];
        size_t half = points / last * (last / 2 + 1);
        size_t in_scalars = c->howmany * (c->kind == PEL_FFT_C2C ? 2 * points : c->kind == PEL_FFT_R2C ? points : 2 * half);
        c->out_scalars = c->howmany * (c->kind == PEL_FFT_C2C ? 2 * points : c->kind == PEL_FFT_R2C ? 2 * half : points);
        c->in = malloc(in_scalars * sizeof(double));
        c->expected = malloc(c->out_scalars * sizeof(double));
        if (c->precision == PEL_FLOAT64)
            pel_test_fill(c->in, in_scalars, 100 + (uint64_t)s);
        else
            pel_test_fill_float(c->in, in_scalars, 100 + (uint64_t)s);
        if (c->kind == PEL_FFT_C2R)
            for (size_t b = 0; b < c->howmany; b++) {
                if (c->precision == PEL_FLOAT64)
                    fft_test_symmetrize(c->rank, c->dims, (double *)c->in + b * 2 * half);
                else
                    fft_test_symmetrize_float(c->rank, c->dims, (float *)c->in + b * 2 * half);
            }
        PEL_TEST_OK(run_shape(c, c->in, c->expected));
    }
    for (size_t k = 0; k < 2; k++) {
        pthread_t threads[WORKERS];
        size_t failures = 0;
        pel_fft_cache_stats s;

        pel_fft_cache_clear();
        PEL_TEST_OK(pel_fft_cache_set_capacity(capacities[k]));
        pel_fft_cache_reset_stats();
        for (size_t t = 0; t < WORKERS; t++)
            CU_ASSERT_EQUAL(pthread_create(&threads[t], NULL, concurrent_worker, (void *)(uintptr_t)t), 0);
        for (size_t t = 0; t < WORKERS; t++) {
            void *result;
            pthread_join(threads[t], &result);
            failures += (size_t)(uintptr_t)result;
        }
        CU_ASSERT_EQUAL(failures, 0);
        PEL_TEST_OK(pel_fft_cache_get_stats(&s));
        CU_ASSERT_EQUAL(s.hits + s.misses, (size_t)WORKERS * CALLS_PER_THREAD);
        CU_ASSERT(s.entries <= capacities[k]);
        CU_ASSERT(s.misses >= (capacities[k] >= SHAPES ? (size_t)SHAPES : s.evictions));
        CU_ASSERT(s.evictions <= s.misses);
        if (capacities[k] >= SHAPES) {
            CU_ASSERT_EQUAL(s.evictions, 0);
            CU_ASSERT_EQUAL(s.entries, SHAPES);
            /* a race can make two threads plan one shape; never more than one per thread */
            CU_ASSERT(s.misses <= (size_t)SHAPES * WORKERS);
        } else {
            /* every plan that entered the cache is still there or was evicted */
            CU_ASSERT(s.evictions > 0);
            CU_ASSERT(s.misses >= s.evictions + s.entries);
        }
    }
    PEL_TEST_OK(pel_fft_cache_set_capacity(32));
    for (int s = 0; s < SHAPES; s++) {
        free(shape_cases[s].in);
        free(shape_cases[s].expected);
    }
}

/* ------------------------------------------------------------ effort, wisdom */

/* MEASURE plans run on scratch buffers: the caller's arrays, passed to a
 * one-shot call that misses the cache, are transformed correctly. */
static void test_measure_keeps_caller_data(void)
{
    size_t n = 96;
    double *x = random_doubles(2 * n, 110), *expected = random_doubles(2 * n, 0), *work = random_doubles(2 * n, 0);
    pel_fft_options options = {PEL_FFT_PATIENT, 0.05, 1, PEL_FFT_NORM_BACKWARD};
    pel_fft_plan *plan = NULL;

    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, expected));
    pel_fft_cache_clear();
    PEL_TEST_OK(pel_fft_set_default_effort(PEL_FFT_MEASURE, 0));
    memcpy(work, x, 2 * n * sizeof *x);
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, work, work));
    CU_ASSERT(max_diff(expected, work, 2 * n) < TOL_DOUBLE);
    PEL_TEST_OK(pel_fft_set_default_effort(PEL_FFT_ESTIMATE, 0));
    /* PATIENT with a time limit. */
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, &options, &plan));
    PEL_TEST_OK(pel_fft_execute(plan, x, work));
    CU_ASSERT(max_diff(expected, work, 2 * n) < TOL_DOUBLE);
    pel_fft_plan_destroy(plan);
    pel_fft_cache_clear();
    pel_free(x);
    pel_free(expected);
    pel_free(work);
}

static void test_wisdom(void)
{
    size_t n = 80;
    pel_fft_options measure = {PEL_FFT_MEASURE, 0, 1, PEL_FFT_NORM_BACKWARD};
    pel_fft_options only = {PEL_FFT_WISDOM_ONLY, 0, 1, PEL_FFT_NORM_BACKWARD};
    pel_fft_plan *plan = NULL;
    char *text = NULL, *ftext = NULL, path[] = "/tmp/pel-fft-wisdom-XXXXXX";
    int fd;

    for (int p = 0; p < 2; p++) {
        pel_precision precision = p ? PEL_FLOAT32 : PEL_FLOAT64;
        PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, precision, 1, &n, 1, PEL_FFT_FORWARD, 0, &measure, &plan));
        pel_fft_plan_destroy(plan);
    }
    PEL_TEST_OK(pel_fft_wisdom_export_string(PEL_FLOAT64, &text));
    PEL_TEST_OK(pel_fft_wisdom_export_string(PEL_FLOAT32, &ftext));
    CU_ASSERT(text != NULL && strstr(text, "fftw") != NULL);
    fd = mkstemp(path);
    CU_ASSERT(fd >= 0);
    close(fd);
    PEL_TEST_OK(pel_fft_wisdom_export_file(PEL_FLOAT32, path));

    pel_fft_wisdom_forget();
    plan = (pel_fft_plan *)&n;
    PEL_TEST_EXPECT_ERROR(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, &only, &plan),
                          PEL_ERROR_UNSUPPORTED, "pel_fft_plan_create", "wisdom");
    CU_ASSERT(plan == NULL); /* the out-argument rule: NULL on failure */
    PEL_TEST_OK(pel_fft_wisdom_import_string(PEL_FLOAT64, text));
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, &only, &plan));
    pel_fft_plan_destroy(plan);
    PEL_TEST_EXPECT_ERROR(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT32, 1, &n, 1, PEL_FFT_FORWARD, 0, &only, &plan),
                          PEL_ERROR_UNSUPPORTED, "pel_fft_plan_create", "wisdom");
    PEL_TEST_OK(pel_fft_wisdom_import_file(PEL_FLOAT32, path));
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT32, 1, &n, 1, PEL_FFT_FORWARD, 0, &only, &plan));
    pel_fft_plan_destroy(plan);

    /* bad wisdom and files */
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_import_string(PEL_FLOAT64, "(not wisdom at all"), PEL_ERROR_PARSE,
                          "pel_fft_wisdom_import_string", "wisdom");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_import_string(PEL_FLOAT32, text), PEL_ERROR_PARSE,
                          "pel_fft_wisdom_import_string", "single");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_import_file(PEL_FLOAT64, path), PEL_ERROR_PARSE, "pel_fft_wisdom_import_file",
                          path);
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_import_file(PEL_FLOAT64, "/nonexistent/pel/wisdom"), PEL_ERROR_IO,
                          "pel_fft_wisdom_import_file", "/nonexistent/pel/wisdom");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_export_file(PEL_FLOAT64, "/nonexistent/pel/wisdom"), PEL_ERROR_IO,
                          "pel_fft_wisdom_export_file", "/nonexistent/pel/wisdom");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_export_file(PEL_FLOAT64, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_wisdom_export_file", "path");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_import_file(PEL_FLOAT64, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_wisdom_import_file", "path");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_export_string(PEL_FLOAT64, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_wisdom_export_string", "text");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_import_string(PEL_FLOAT64, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_wisdom_import_string", "text");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_export_file((pel_precision)7, path), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_wisdom_export_file", "precision=7");
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_import_file((pel_precision)7, path), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_wisdom_import_file", "precision=7");
    /* The out-argument rule: a failing export sets *text to NULL (so the
     * text it held is freed first). */
    pel_free(text);
    text = (char *)path;
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_export_string((pel_precision)-1, &text), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_wisdom_export_string", "precision=-1");
    CU_ASSERT(text == NULL);
    PEL_TEST_EXPECT_ERROR(pel_fft_wisdom_import_string((pel_precision)2, "x"), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_wisdom_import_string", "precision=2");
    unlink(path);
    pel_free(text);
    pel_free(ftext);
    pel_fft_wisdom_forget();
}

/* ------------------------------------------------------------ fork */

static pel_fft_plan *fork_plan;
static double *fork_x, *fork_expected;

static int child_transforms(void)
{
    size_t n = 4096;
    double *y = pel_malloc(2 * n * sizeof *y);
    int ok = pel_in_forked_child() && pel_get_num_threads() == 1;

    /* The parent's 2-thread plan runs its single-threaded twin here. */
    ok = ok && pel_fft_execute(fork_plan, fork_x, y) == PEL_OK && max_diff(fork_expected, y, 2 * n) < TOL_DOUBLE;
    /* A one-shot plans with 1 thread: the thread count is in the key. */
    ok = ok && pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, fork_x, y) == PEL_OK &&
         max_diff(fork_expected, y, 2 * n) < TOL_DOUBLE;
    pel_free(y);
    return ok ? 0 : 1;
}

static void test_forked_child(void)
{
    size_t n = 4096;
    pel_fft_options two = {PEL_FFT_ESTIMATE, 0, 2, PEL_FFT_NORM_BACKWARD};

    fork_x = random_doubles(2 * n, 120);
    fork_expected = random_doubles(2 * n, 0);
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    PEL_TEST_OK(pel_set_num_threads(2));
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, &two, &fork_plan));
    PEL_TEST_OK(pel_fft_execute(fork_plan, fork_x, fork_expected)); /* starts OpenMP threads here */
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, fork_x, fork_expected));
    CU_ASSERT_TRUE(pel_test_in_child(child_transforms, 20.0));
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    pel_fft_plan_destroy(fork_plan);
    pel_free(fork_x);
    pel_free(fork_expected);
}

/* ------------------------------------------------------------ errors */

/* pel_fft_plan_create() with *plan preset to a sentinel: every failure must
 * set it to NULL (the out-argument rule of docs/fft.md). */
static int create_expecting_null(pel_fft_kind kind, pel_precision precision, int rank, const size_t *dims,
                                 size_t howmany, pel_fft_direction direction, const pel_fft_options *options,
                                 pel_fft_plan **plan, pel_fft_plan *sentinel)
{
    int status;

    *plan = sentinel;
    status = pel_fft_plan_create(kind, precision, rank, dims, howmany, direction, 0, options, plan);
    CU_ASSERT(status != PEL_OK && *plan == NULL);
    return status;
}

static void test_plan_create_errors(void)
{
    size_t dims[3] = {8, 4, 2}, zero[2] = {8, 0}, huge[2] = {SIZE_MAX / 2, 4};
    size_t too_big[3] = {(size_t)1 << 40, (size_t)1 << 20, 8};
    pel_fft_plan *sentinel = (pel_fft_plan *)dims, *plan = sentinel;
    pel_fft_options o = {PEL_FFT_ESTIMATE, 0, 0, PEL_FFT_NORM_BACKWARD};
    const char *f = "pel_fft_plan_create";

#define CREATE(kind, prec, rank, d, howmany, dir, opts) \
    create_expecting_null((kind), (prec), (rank), (d), (howmany), (dir), (opts), &plan, sentinel)
    PEL_TEST_EXPECT_ERROR(CREATE((pel_fft_kind)7, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "kind=7");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, (pel_precision)5, 1, dims, 1, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "precision=5");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 0, dims, 1, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "rank=0");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 4, dims, 1, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "rank=4");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, NULL, 1, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "dims");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 2, zero, 1, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "dims[1]=0");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 0, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "howmany=0");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, (pel_fft_direction)0, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "direction=0");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_R2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_BACKWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "real-to-complex");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2R, PEL_FLOAT32, 1, dims, 1, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, f, "complex-to-real");
    o.effort = (pel_fft_effort)9;
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, &o),
                          PEL_ERROR_INVALID_ARGUMENT, f, "effort=9");
    o.effort = PEL_FFT_MEASURE;
    o.time_limit = -1;
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, &o),
                          PEL_ERROR_INVALID_ARGUMENT, f, "time_limit=-1");
    o.time_limit = NAN;
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, &o),
                          PEL_ERROR_INVALID_ARGUMENT, f, "time_limit");
    o.time_limit = 0;
    o.nthreads = -2;
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, &o),
                          PEL_ERROR_INVALID_ARGUMENT, f, "nthreads=-2");
    o.nthreads = 0;
    o.norm = (pel_fft_norm)5;
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, &o),
                          PEL_ERROR_INVALID_ARGUMENT, f, "norm=5");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 2, huge, 1, PEL_FFT_FORWARD, NULL), PEL_ERROR_OVERFLOW,
                          f, "PTRDIFF_MAX");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_R2C, PEL_FLOAT32, 3, too_big, 1, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_OVERFLOW, f, "PTRDIFF_MAX");
    PEL_TEST_EXPECT_ERROR(CREATE(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, SIZE_MAX / 8, PEL_FFT_FORWARD, NULL),
                          PEL_ERROR_OVERFLOW, f, "howmany");
    PEL_TEST_EXPECT_ERROR(
        pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, 0, NULL, NULL),
        PEL_ERROR_INVALID_ARGUMENT, f, "plan");
#undef CREATE
}

static void test_execute_errors(void)
{
    size_t n = 16;
    double *x = random_doubles(64, 130), *y = random_doubles(64, 131), *saved = random_doubles(64, 0);
    pel_fft_plan *plan = NULL, *in_place = NULL;
    const char *f = "pel_fft_execute";

    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, NULL, &plan));
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 1, NULL, &in_place));
    memcpy(saved, y, 64 * sizeof *y);
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(NULL, x, y), PEL_ERROR_INVALID_ARGUMENT, f, "plan");
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(plan, NULL, y), PEL_ERROR_INVALID_ARGUMENT, f, "in must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(plan, x, NULL), PEL_ERROR_INVALID_ARGUMENT, f, "out must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(plan, (char *)x + 1, y), PEL_ERROR_INVALID_ARGUMENT, f, "in=");
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(plan, x, (char *)y + 3), PEL_ERROR_INVALID_ARGUMENT, f, "out=");
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(plan, y, y + 2), PEL_ERROR_INVALID_ARGUMENT, f, "overlap");
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(plan, y, y), PEL_ERROR_INVALID_ARGUMENT, f, "overlap");
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(in_place, x, y), PEL_ERROR_INVALID_ARGUMENT, f, "in place");
    CU_ASSERT(memcmp(saved, y, 64 * sizeof *y) == 0);
    /* Exactly adjacent arrays do not overlap. */
    PEL_TEST_OK(pel_fft_execute(plan, y, y + 32));
    pel_fft_plan_destroy(plan);
    pel_fft_plan_destroy(in_place);
    pel_fft_plan_destroy(NULL);
    pel_free(x);
    pel_free(y);
    pel_free(saved);
}

static void test_oneshot_errors(void)
{
    size_t dims[2] = {8, 6}, zero[1] = {0};
    double *x = random_doubles(128, 140), *y = random_doubles(128, 141), *saved = random_doubles(128, 0);
    pel_fft_cache_stats before, after;

    memcpy(saved, y, 128 * sizeof *y);
    PEL_TEST_OK(pel_fft_cache_get_stats(&before));
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(0, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "rank=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(1, NULL, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "dims");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(1, zero, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "dims[0]=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(2, dims, 0, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "howmany=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(2, dims, 1, (pel_fft_direction)2, PEL_FFT_NORM_BACKWARD, x, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "direction=2");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(2, dims, 1, PEL_FFT_FORWARD, (pel_fft_norm)-1, x, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "norm=-1");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, NULL, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "in");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "out");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c(2, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, y, y + 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c", "overlap");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c_float(4, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c_float", "rank=4");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2c_float(1, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, (char *)x + 2, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2c_float", "in=");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2c(2, dims, 1, (pel_fft_norm)3, x, y), PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2c",
                          "norm=3");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2c(2, dims, 1, PEL_FFT_NORM_BACKWARD, NULL, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_r2c", "in");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2c(2, dims, 1, PEL_FFT_NORM_BACKWARD, x + 1, x), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_r2c", "overlap");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2c_float(1, zero, 1, PEL_FFT_NORM_BACKWARD, (float *)x, y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2c_float", "dims[0]=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_r2c_float(1, dims, 1, PEL_FFT_NORM_BACKWARD, (float *)x, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2c_float", "out");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2r(2, dims, 0, PEL_FFT_NORM_BACKWARD, x, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_c2r", "howmany=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2r(2, dims, 1, PEL_FFT_NORM_BACKWARD, x, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_c2r", "out");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2r(2, dims, 1, PEL_FFT_NORM_BACKWARD, y, y + 2), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_c2r", "overlap");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2r_float(-1, dims, 1, PEL_FFT_NORM_BACKWARD, x, (float *)y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2r_float", "rank=-1");
    PEL_TEST_EXPECT_ERROR(pel_fft_c2r_float(1, dims, 1, PEL_FFT_NORM_BACKWARD, NULL, (float *)y),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_c2r_float", "in");
    CU_ASSERT(memcmp(saved, y, 128 * sizeof *y) == 0);
    /* Bad calls neither plan nor count. */
    PEL_TEST_OK(pel_fft_cache_get_stats(&after));
    CU_ASSERT_EQUAL(after.hits + after.misses, before.hits + before.misses);

    PEL_TEST_EXPECT_ERROR(pel_fft_set_default_effort((pel_fft_effort)-1, 0), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_set_default_effort", "effort=-1");
    PEL_TEST_EXPECT_ERROR(pel_fft_set_default_effort(PEL_FFT_MEASURE, -0.5), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_set_default_effort", "time_limit=-0.5");
    PEL_TEST_EXPECT_ERROR(pel_fft_set_default_effort(PEL_FFT_MEASURE, INFINITY), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_set_default_effort", "time_limit=inf");
    CU_ASSERT_EQUAL(pel_fft_get_default_effort(), PEL_FFT_ESTIMATE);
    PEL_TEST_EXPECT_ERROR(pel_fft_cache_get_stats(NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_fft_cache_get_stats",
                          "stats");
    pel_free(x);
    pel_free(y);
    pel_free(saved);
}

static void add_suites(void)
{
    static const pel_test_case layouts[] = {
        {"out-of-place input unchanged", test_out_of_place_input_unchanged},
        {"r2c/c2r Hermitian layout", test_hermitian_layout},
        {"batches", test_batches},
        {"in place", test_in_place},
        {"misaligned arrays (8, 16 bytes)", test_misaligned_arrays},
        {"normalisation modes", test_norm_modes},
        {NULL, NULL}};
    static const pel_test_case threads[] = {{"automatic thread choice", test_thread_choice},
                                            {"threaded results", test_threaded_results},
                                            {"forked child", test_forked_child},
                                            {NULL, NULL}};
    static const pel_test_case cache[] = {{"statistics, eviction, clear, capacity", test_cache_statistics},
                                          {"8 threads of mixed one-shots", test_concurrent_oneshots},
                                          {"MEASURE/PATIENT plan on scratch", test_measure_keeps_caller_data},
                                          {"wisdom export/import", test_wisdom},
                                          {NULL, NULL}};
    static const pel_test_case errors[] = {{"pel_fft_plan_create", test_plan_create_errors},
                                           {"pel_fft_execute", test_execute_errors},
                                           {"one-shot calls and settings", test_oneshot_errors},
                                           {NULL, NULL}};
    pel_test_add_suite("fft layouts", layouts);
    pel_test_add_suite("fft threads", threads);
    pel_test_add_suite("fft cache and planning", cache);
    pel_test_add_suite("fft errors", errors);
}

int main(void)
{
    return pel_test_main("test_fft_api", add_suites);
}
