/* Large transforms, too big for a direct DFT, checked the way FFTW checks
 * itself (Funda Ergun's tests, FFTW's libbench2/verify-lib.c): a transform
 * is linear, maps an impulse to a constant, and turns a time shift into a
 * phase ramp. An implementation that passes all three on random inputs is
 * the DFT with high probability. Tolerance: 1e-10 relative (max norm) in
 * double, as the issue asks; FFTW's own error here is ~eps*log2(n) ~ 5e-15,
 * so 1e-10 only fails on a real bug. Plus forward/backward round trips and
 * the unchanged input of out-of-place transforms.
 *
 * Sizes: 1-D 2^20, 2^21, 2^22, the prime 1000003, the 7-smooth
 * 2822400 = 2^8 3^2 5^2 7^2; 2-D 1024 x 2048; 3-D 128^3; r2c/c2r at 2^22
 * and 256 x 128 x 128; a float round trip at 2^20. */
#include "pel_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_fft_common.h"

#define TOLERANCE 1e-10

typedef double complex cplx;

/* Unnormalised transform (norm chosen so that neither direction scales). */
static void dft(int rank, const size_t *dims, int sign, const cplx *in, cplx *out)
{
    PEL_TEST_OK(pel_fft_c2c(rank, dims, 1, (pel_fft_direction)sign,
                            sign < 0 ? PEL_FFT_NORM_BACKWARD : PEL_FFT_NORM_FORWARD, in, out));
}

/* ||a - b||_inf / ||b||_inf */
static double relative_error(const cplx *a, const cplx *b, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, cabs(a[i] - b[i]));
        m = fmax(m, cabs(b[i]));
    }
    return m > 0 ? d / m : d;
}

static cplx *random_complex(size_t n, uint64_t seed)
{
    cplx *x = pel_malloc(n * sizeof *x);
    pel_test_fill((double *)x, 2 * n, seed);
    return x;
}

/* The three Ergun checks and a round trip for one shape and sign. */
static void ergun(int rank, const size_t *dims, int sign)
{
    size_t n = fft_test_points(rank, dims), last = dims[rank - 1];
    cplx *x = random_complex(n, 1 + n), *y = random_complex(n, 2 + n), *z = pel_malloc(n * sizeof *z);
    cplx *fx = pel_malloc(n * sizeof *fx), *fy = pel_malloc(n * sizeof *fy), *fz = pel_malloc(n * sizeof *fz);
    cplx a = 0.7236 - 0.3141 * I, b = -1.2385 + 0.5772 * I;
    double err;

    /* linearity, and the input of an out-of-place transform is untouched */
    memcpy(z, x, n * sizeof *x);
    dft(rank, dims, sign, x, fx);
    CU_ASSERT(memcmp(z, x, n * sizeof *x) == 0);
    dft(rank, dims, sign, y, fy);
    for (size_t i = 0; i < n; i++) {
        z[i] = a * x[i] + b * y[i];
        fz[i] = a * fx[i] + b * fy[i];
    }
    dft(rank, dims, sign, z, y); /* y := F(a x + b y) */
    err = relative_error(y, fz, n);
    CU_ASSERT(err < TOLERANCE);
    if (err >= TOLERANCE)
        printf("\n  linearity n=%zu sign %d: %.3g", n, sign, err);

    /* impulse: F(delta + x) - F(x) = 1 everywhere */
    memcpy(z, x, n * sizeof *x);
    z[0] += 1;
    dft(rank, dims, sign, z, fz);
    err = 0;
    for (size_t i = 0; i < n; i++)
        err = fmax(err, cabs(fz[i] - fx[i] - 1));
    CU_ASSERT(err < TOLERANCE);
    if (err >= TOLERANCE)
        printf("\n  impulse n=%zu sign %d: %.3g", n, sign, err);

    /* time shift along the last axis: x'[j] = x[j-1] gives
     * F(x')[k] = F(x)[k] exp(sign 2 pi i k / last) */
    for (size_t row = 0; row < n / last; row++)
        for (size_t j = 0; j < last; j++)
            z[row * last + j] = x[row * last + (j + last - 1) % last];
    dft(rank, dims, sign, z, fz);
    for (size_t i = 0; i < n; i++) {
        double angle = sign * 2 * M_PI * (double)(i % last) / (double)last;
        y[i] = fx[i] * (cos(angle) + I * sin(angle));
    }
    err = relative_error(fz, y, n);
    CU_ASSERT(err < TOLERANCE);
    if (err >= TOLERANCE)
        printf("\n  time shift n=%zu sign %d: %.3g", n, sign, err);

    /* round trip: the opposite transform with the norm that scales it
     * (backward's 1/N after a forward, forward's 1/N after a backward) */
    PEL_TEST_OK(pel_fft_c2c(rank, dims, 1, (pel_fft_direction)-sign,
                            sign < 0 ? PEL_FFT_NORM_BACKWARD : PEL_FFT_NORM_FORWARD, fx, z));
    err = relative_error(z, x, n);
    CU_ASSERT(err < TOLERANCE);
    pel_free(x);
    pel_free(y);
    pel_free(z);
    pel_free(fx);
    pel_free(fy);
    pel_free(fz);
}

static void test_power_of_two_1d(void)
{
    for (size_t n = (size_t)1 << 20; n <= (size_t)1 << 22; n *= 2) {
        ergun(1, &n, -1);
        if (n == (size_t)1 << 22)
            ergun(1, &n, 1);
    }
}

static void test_prime_and_smooth_1d(void)
{
    size_t prime = 1000003, smooth = 2822400;
    ergun(1, &prime, -1);
    ergun(1, &smooth, 1);
}

static void test_multidimensional(void)
{
    static const size_t two[2] = {1024, 2048}, three[3] = {128, 128, 128};
    ergun(2, two, -1);
    ergun(3, three, 1);
}

/* r2c then c2r returns the input; r2c input and c2r input stay unchanged. */
static void real_round_trip(int rank, const size_t *dims)
{
    size_t n = fft_test_points(rank, dims), last = dims[rank - 1], half = n / last * (last / 2 + 1);
    double *x = pel_malloc(n * sizeof *x), *back = pel_malloc(n * sizeof *back);
    cplx *spectrum = pel_malloc(half * sizeof *spectrum), *saved = pel_malloc(half * sizeof *saved);
    double err = 0, m = 0;

    pel_test_fill(x, n, 7 + n);
    PEL_TEST_OK(pel_fft_r2c(rank, dims, 1, PEL_FFT_NORM_ORTHO, x, spectrum));
    memcpy(saved, spectrum, half * sizeof *saved);
    PEL_TEST_OK(pel_fft_c2r(rank, dims, 1, PEL_FFT_NORM_ORTHO, spectrum, back));
    CU_ASSERT(memcmp(saved, spectrum, half * sizeof *saved) == 0);
    for (size_t i = 0; i < n; i++) {
        err = fmax(err, fabs(back[i] - x[i]));
        m = fmax(m, fabs(x[i]));
    }
    CU_ASSERT(err / m < TOLERANCE);
    pel_free(x);
    pel_free(back);
    pel_free(spectrum);
    pel_free(saved);
}

static void test_real_round_trips(void)
{
    static const size_t three[3] = {256, 128, 128};
    size_t n = (size_t)1 << 22;
    real_round_trip(1, &n);
    real_round_trip(3, three);
}

static void test_float_round_trip(void)
{
    size_t n = (size_t)1 << 20;
    float *x = pel_malloc(2 * n * sizeof *x), *y = pel_malloc(2 * n * sizeof *y), *z = pel_malloc(2 * n * sizeof *z);
    double err = 0;

    pel_test_fill_float(x, 2 * n, 99);
    PEL_TEST_OK(pel_fft_c2c_float(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_ORTHO, x, y));
    PEL_TEST_OK(pel_fft_c2c_float(1, &n, 1, PEL_FFT_BACKWARD, PEL_FFT_NORM_ORTHO, y, z));
    for (size_t i = 0; i < 2 * n; i++)
        err = fmax(err, fabs((double)z[i] - (double)x[i]));
    /* float eps 1.2e-7 times log2(n) = 20, with a margin */
    CU_ASSERT(err < 1e-5);
    pel_free(x);
    pel_free(y);
    pel_free(z);
}

static void add_suites(void)
{
    static const pel_test_case large[] = {{"1-D 2^20..2^22 (Ergun)", test_power_of_two_1d},
                                          {"1-D prime 1000003 and 7-smooth 2822400 (Ergun)", test_prime_and_smooth_1d},
                                          {"2-D 1024x2048 and 3-D 128^3 (Ergun)", test_multidimensional},
                                          {"r2c/c2r round trips 2^22 and 256x128x128", test_real_round_trips},
                                          {"float round trip 2^20", test_float_round_trip},
                                          {NULL, NULL}};
    pel_test_add_suite("fft large sizes", large);
}

int main(void)
{
    return pel_test_main("test_fft_large", add_suites);
}
