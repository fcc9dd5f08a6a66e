/* pel_fft_convolve against a direct convolution in long double, every mode
 * (full / same / valid, scipy.signal.fftconvolve's definitions) and rank
 * (1, 2, 3), with odd, even, smooth and prime sizes and either array the
 * larger. Tolerance: the FFT result carries ~eps*log2(N) relative to
 * sum|a||b|, the scale of every output value; 1e-12 of that bound is wide
 * and still catches any wrong offset or scale. */
#include "pel_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t product(int rank, const size_t *d)
{
    size_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= d[k];
    return n;
}

/* full[i] = sum_j a[j] b[i-j], in long double; returns max sum |a||b| too. */
static void direct_full(int rank, const size_t *ad, const double *a, const size_t *bd, const double *b,
                        long double *full, const size_t *fd)
{
    size_t na = product(rank, ad), nb = product(rank, bd), nf = product(rank, fd);
    memset(full, 0, nf * sizeof *full);
    for (size_t i = 0; i < na; i++) {
        size_t ai[3] = {0, 0, 0}, r = i;
        for (int k = rank - 1; k >= 0; k--) {
            ai[k] = r % ad[k];
            r /= ad[k];
        }
        for (size_t j = 0; j < nb; j++) {
            size_t bi[3] = {0, 0, 0}, s = j, target = 0;
            for (int k = rank - 1; k >= 0; k--) {
                bi[k] = s % bd[k];
                s /= bd[k];
            }
            for (int k = 0; k < rank; k++)
                target = target * fd[k] + ai[k] + bi[k];
            full[target] += (long double)a[i] * b[j];
        }
    }
}

static void check(int rank, const size_t *ad, const size_t *bd, pel_fft_convolve_mode mode, unsigned seed)
{
    size_t fd[3], od[3], start[3], na = product(rank, ad), nb = product(rank, bd);
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *out, scale = 0, err = 0;
    long double *full;
    size_t no;

    pel_test_fill(a, na, seed);
    pel_test_fill(b, nb, seed + 1);
    PEL_TEST_OK(pel_fft_convolve_shape(rank, ad, bd, mode, od));
    for (int k = 0; k < rank; k++) {
        fd[k] = ad[k] + bd[k] - 1;
        start[k] = (fd[k] - od[k]) / 2;
    }
    no = product(rank, od);
    full = malloc(product(rank, fd) * sizeof *full);
    out = malloc(no * sizeof *out);
    direct_full(rank, ad, a, bd, b, full, fd);
    PEL_TEST_OK(pel_fft_convolve(rank, ad, a, bd, b, mode, out));
    for (size_t i = 0; i < na; i++)
        scale = fmax(scale, fabs(a[i]));
    scale *= (double)nb; /* |b| < 1: every output is below max|a| * nb */
    for (size_t i = 0; i < no; i++) {
        size_t r = i, index[3] = {0, 0, 0}, source = 0;
        for (int k = rank - 1; k >= 0; k--) {
            index[k] = r % od[k];
            r /= od[k];
        }
        for (int k = 0; k < rank; k++)
            source = source * fd[k] + index[k] + start[k];
        err = fmax(err, fabs((double)(full[source] - out[i])));
    }
    if (err > 1e-12 * scale)
        printf("\n  rank %d mode %d a %zu.. b %zu..: error %.3g of %.3g", rank, (int)mode, ad[0], bd[0], err, scale);
    CU_ASSERT(err <= 1e-12 * scale);
    free(a);
    free(b);
    free(out);
    free(full);
}

static const pel_fft_convolve_mode modes[] = {PEL_FFT_CONVOLVE_FULL, PEL_FFT_CONVOLVE_SAME, PEL_FFT_CONVOLVE_VALID};

static void test_rank1(void)
{
    static const size_t sizes[][2] = {{1, 1}, {10, 3}, {3, 10}, {17, 17}, {100, 7}, {64, 31}, {31, 64}, {257, 2}};
    for (size_t m = 0; m < 3; m++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            check(1, &sizes[s][0], &sizes[s][1], modes[m], (unsigned)(10 * s + m));
}

static void test_rank2(void)
{
    static const size_t a[][2] = {{20, 30}, {7, 5}, {33, 16}, {8, 8}, {1, 9}};
    static const size_t b[][2] = {{5, 3}, {9, 11}, {4, 7}, {8, 8}, {1, 3}};
    for (size_t m = 0; m < 3; m++)
        for (size_t s = 0; s < sizeof a / sizeof a[0]; s++)
            check(2, a[s], b[s], modes[m], (unsigned)(100 + 10 * s + m));
}

static void test_rank3(void)
{
    static const size_t a[][3] = {{6, 7, 8}, {3, 4, 5}, {10, 9, 11}};
    static const size_t b[][3] = {{3, 2, 5}, {5, 6, 7}, {1, 4, 3}};
    for (size_t m = 0; m < 3; m++)
        for (size_t s = 0; s < sizeof a / sizeof a[0]; s++)
            check(3, a[s], b[s], modes[m], (unsigned)(200 + 10 * s + m));
}

/* Shapes large enough to be cut into overlap-save tiles (2^16 points per
 * tile: 1-D 65536, 2-D 256^2, 3-D 40^3), including partial edge tiles, a
 * dimension with a single tile, and the second array the larger one. */
static void test_tiled(void)
{
    size_t a1 = 70001, b1 = 9;
    static const size_t a2[][2] = {{300, 280}, {20, 400}, {7, 5}};
    static const size_t b2[][2] = {{5, 7}, {9, 3}, {300, 261}};
    static const size_t a3[3] = {50, 45, 41}, b3[3] = {3, 4, 2};
    for (size_t m = 0; m < 3; m++) {
        check(1, &a1, &b1, modes[m], (unsigned)(300 + m));
        for (size_t s = 0; s < 3; s++)
            check(2, a2[s], b2[s], modes[m], (unsigned)(310 + 10 * s + m));
        check(3, a3, b3, modes[m], (unsigned)(350 + m));
    }
}

static void test_shapes(void)
{
    size_t a[2] = {10, 4}, b[2] = {3, 6}, small[2] = {3, 2}, out[2] = {0, 0};

    PEL_TEST_OK(pel_fft_convolve_shape(2, a, b, PEL_FFT_CONVOLVE_FULL, out));
    CU_ASSERT(out[0] == 12 && out[1] == 9);
    PEL_TEST_OK(pel_fft_convolve_shape(2, a, b, PEL_FFT_CONVOLVE_SAME, out));
    CU_ASSERT(out[0] == 10 && out[1] == 4);
    PEL_TEST_OK(pel_fft_convolve_shape(2, a, small, PEL_FFT_CONVOLVE_VALID, out));
    CU_ASSERT(out[0] == 8 && out[1] == 3);
    /* scipy swaps the arrays when the second covers the first */
    PEL_TEST_OK(pel_fft_convolve_shape(2, small, a, PEL_FFT_CONVOLVE_VALID, out));
    CU_ASSERT(out[0] == 8 && out[1] == 3);
}

static void test_errors(void)
{
    size_t a[2] = {10, 4}, b[2] = {3, 6}, zero[2] = {3, 0}, out_dims[2] = {77, 77}, huge[2] = {SIZE_MAX / 2, 2};
    double x[64], y[64], out[128], saved[128];
    const char *f = "pel_fft_convolve", *fs = "pel_fft_convolve_shape";

    pel_test_fill(x, 64, 1);
    pel_test_fill(y, 64, 2);
    pel_test_fill(out, 128, 3);
    memcpy(saved, out, sizeof out);
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(0, a, b, PEL_FFT_CONVOLVE_FULL, out_dims), PEL_ERROR_INVALID_ARGUMENT,
                          fs, "rank=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(2, NULL, b, PEL_FFT_CONVOLVE_FULL, out_dims),
                          PEL_ERROR_INVALID_ARGUMENT, fs, "a_dims");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(2, a, NULL, PEL_FFT_CONVOLVE_FULL, out_dims),
                          PEL_ERROR_INVALID_ARGUMENT, fs, "b_dims");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(2, a, b, (pel_fft_convolve_mode)3, out_dims),
                          PEL_ERROR_INVALID_ARGUMENT, fs, "mode=3");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(2, a, zero, PEL_FFT_CONVOLVE_FULL, out_dims),
                          PEL_ERROR_INVALID_ARGUMENT, fs, "b_dims[1]=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(2, zero, a, PEL_FFT_CONVOLVE_FULL, out_dims),
                          PEL_ERROR_INVALID_ARGUMENT, fs, "a_dims[1]=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(2, a, b, PEL_FFT_CONVOLVE_VALID, out_dims),
                          PEL_ERROR_INVALID_ARGUMENT, fs, "VALID");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(2, a, b, PEL_FFT_CONVOLVE_FULL, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          fs, "out_dims");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve_shape(2, huge, b, PEL_FFT_CONVOLVE_FULL, out_dims), PEL_ERROR_OVERFLOW,
                          fs, "too large");
    CU_ASSERT(out_dims[0] == 77 && out_dims[1] == 77);

    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(4, a, x, b, y, PEL_FFT_CONVOLVE_FULL, out), PEL_ERROR_INVALID_ARGUMENT, f,
                          "rank=4");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(2, a, NULL, b, y, PEL_FFT_CONVOLVE_FULL, out), PEL_ERROR_INVALID_ARGUMENT,
                          f, "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(2, a, x, b, NULL, PEL_FFT_CONVOLVE_FULL, out), PEL_ERROR_INVALID_ARGUMENT,
                          f, "b must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(2, a, x, b, y, PEL_FFT_CONVOLVE_FULL, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          f, "out");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(2, a, x, b, y, PEL_FFT_CONVOLVE_VALID, out), PEL_ERROR_INVALID_ARGUMENT,
                          f, "VALID");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(2, a, x, zero, y, PEL_FFT_CONVOLVE_SAME, out), PEL_ERROR_INVALID_ARGUMENT,
                          f, "b_dims[1]=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(2, a, x, b, y, (pel_fft_convolve_mode)-1, out),
                          PEL_ERROR_INVALID_ARGUMENT, f, "mode=-1");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(2, a, x, b, y, PEL_FFT_CONVOLVE_FULL, x + 4), PEL_ERROR_INVALID_ARGUMENT,
                          f, "overlaps");
    PEL_TEST_EXPECT_ERROR(pel_fft_convolve(2, a, out + 100, b, y, PEL_FFT_CONVOLVE_FULL, out),
                          PEL_ERROR_INVALID_ARGUMENT, f, "overlaps");
    CU_ASSERT(memcmp(saved, out, sizeof out) == 0);
}

/* Results do not depend on the thread count beyond FFTW's rounding; tiled
 * convolutions run single-threaded plans per tile and give the same bits. */
static void test_threads(void)
{
    size_t ta[2] = {300, 290}, tb[2] = {7, 7};
    double *image = malloc(300 * 290 * sizeof *image), *kernel = malloc(49 * sizeof *kernel);
    double *first = malloc(300 * 290 * sizeof *first), *again = malloc(300 * 290 * sizeof *again);
    size_t a[2] = {60, 70}, b[2] = {9, 9};
    double *x = malloc(4200 * sizeof *x), *y = malloc(81 * sizeof *y), one[4200], many[4200];

    pel_test_fill(x, 4200, 5);
    pel_test_fill(y, 81, 6);
    PEL_TEST_OK(pel_set_num_threads(1));
    PEL_TEST_OK(pel_fft_convolve(2, a, x, b, y, PEL_FFT_CONVOLVE_SAME, one));
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    for (int t = 2; t <= 4; t++) {
        double err = 0;
        PEL_TEST_OK(pel_set_num_threads(t));
        PEL_TEST_OK(pel_fft_convolve(2, a, x, b, y, PEL_FFT_CONVOLVE_SAME, many));
        for (int i = 0; i < 4200; i++)
            err = fmax(err, fabs(one[i] - many[i]));
        CU_ASSERT(err < 1e-12 * 81);
    }
    pel_test_fill(image, 300 * 290, 7);
    pel_test_fill(kernel, 49, 8);
    PEL_TEST_OK(pel_set_num_threads(1));
    PEL_TEST_OK(pel_fft_convolve(2, ta, image, tb, kernel, PEL_FFT_CONVOLVE_SAME, first));
    for (int t = 2; t <= 4; t++) {
        PEL_TEST_OK(pel_set_num_threads(t));
        PEL_TEST_OK(pel_fft_convolve(2, ta, image, tb, kernel, PEL_FFT_CONVOLVE_SAME, again));
        CU_ASSERT(memcmp(first, again, 300 * 290 * sizeof *first) == 0);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    free(x);
    free(y);
    free(image);
    free(kernel);
    free(first);
    free(again);
}

static void add_suites(void)
{
    static const pel_test_case convolve[] = {{"rank 1, every mode", test_rank1},
                                             {"rank 2, every mode", test_rank2},
                                             {"rank 3, every mode", test_rank3},
                                             {"tiled (overlap-save), every mode and rank", test_tiled},
                                             {"output shapes", test_shapes},
                                             {"threads", test_threads},
                                             {"bad arguments", test_errors},
                                             {NULL, NULL}};
    pel_test_add_suite("fft convolution vs direct", convolve);
}

int main(void)
{
    return pel_test_main("test_fft_convolve", add_suites);
}
