/* Reference DFTs in long double for the FFT tests. */
#include "test_fft_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t fft_test_points(int rank, const size_t *dims)
{
    size_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    return n;
}

/* 1-D direct DFT of n points at stride `stride` (in complex elements). The
 * twiddle table is indexed by (j*k mod n), so each twiddle is one correctly
 * rounded long double and no error accumulates in the angles. */
static void dft_line(long double *data, size_t n, size_t stride, int sign, const long double *cosines,
                     const long double *sines, long double *scratch)
{
    for (size_t k = 0; k < n; k++) {
        long double re = 0, im = 0;
        size_t index = 0;
        for (size_t j = 0; j < n; j++) {
            long double c = cosines[index], s = sign * sines[index];
            long double xr = data[2 * j * stride], xi = data[2 * j * stride + 1];
            re += xr * c - xi * s;
            im += xr * s + xi * c;
            index += k;
            if (index >= n)
                index -= n;
        }
        scratch[2 * k] = re;
        scratch[2 * k + 1] = im;
    }
    for (size_t k = 0; k < n; k++) {
        data[2 * k * stride] = scratch[2 * k];
        data[2 * k * stride + 1] = scratch[2 * k + 1];
    }
}

void fft_test_dft(int rank, const size_t *dims, long double *data, int sign)
{
    size_t total = fft_test_points(rank, dims);

    for (int axis = 0; axis < rank; axis++) {
        size_t n = dims[axis], inner = 1;
        long double *cosines = malloc(n * sizeof *cosines), *sines = malloc(n * sizeof *sines);
        long double *scratch = malloc(2 * n * sizeof *scratch);
        const long double two_pi = 6.283185307179586476925286766559005768L;
        for (int k = axis + 1; k < rank; k++)
            inner *= dims[k];
        for (size_t j = 0; j < n; j++) {
            cosines[j] = cosl(two_pi * (long double)j / (long double)n);
            sines[j] = sinl(two_pi * (long double)j / (long double)n);
        }
        for (size_t outer = 0; outer < total / (n * inner); outer++)
            for (size_t i = 0; i < inner; i++)
                dft_line(data + 2 * (outer * n * inner + i), n, inner, sign, cosines, sines, scratch);
        free(cosines);
        free(sines);
        free(scratch);
    }
}

/* Index of -k (mod dims) for the multi-index of flat position p. */
static size_t negated(int rank, const size_t *dims, size_t p)
{
    size_t index[8], result = 0;
    for (int k = rank - 1; k >= 0; k--) {
        index[k] = p % dims[k];
        p /= dims[k];
    }
    for (int k = 0; k < rank; k++)
        result = result * dims[k] + (dims[k] - index[k]) % dims[k];
    return result;
}

void fft_test_hermitian_full(int rank, const size_t *dims, const long double *half, long double *full)
{
    size_t total = fft_test_points(rank, dims), last = dims[rank - 1], h = last / 2 + 1;

    for (size_t p = 0; p < total; p++) {
        size_t row = p / last, col = p % last;
        if (col < h) {
            full[2 * p] = half[2 * (row * h + col)];
            full[2 * p + 1] = half[2 * (row * h + col) + 1];
        } else {
            size_t q = negated(rank, dims, p), qrow = q / last, qcol = q % last;
            full[2 * p] = half[2 * (qrow * h + qcol)];
            full[2 * p + 1] = -half[2 * (qrow * h + qcol) + 1];
        }
    }
}

#define SYMMETRIZE(NAME, TYPE)                                                                         \
    void NAME(int rank, const size_t *dims, TYPE *half)                                                \
    {                                                                                                  \
        size_t total = fft_test_points(rank, dims), last = dims[rank - 1], h = last / 2 + 1;           \
        for (size_t p = 0; p < total; p++) {                                                           \
            size_t row = p / last, col = p % last, q, qrow, qcol;                                      \
            if (col >= h)                                                                              \
                continue;                                                                              \
            q = negated(rank, dims, p);                                                                \
            qrow = q / last;                                                                           \
            qcol = q % last;                                                                           \
            if (qcol >= h)                                                                             \
                continue;                                                                              \
            if (q == p)                                                                                \
                half[2 * (row * h + col) + 1] = 0;                                                     \
            else if (q > p) {                                                                          \
                half[2 * (qrow * h + qcol)] = half[2 * (row * h + col)];                               \
                half[2 * (qrow * h + qcol) + 1] = -half[2 * (row * h + col) + 1];                      \
            }                                                                                          \
        }                                                                                              \
    }
SYMMETRIZE(fft_test_symmetrize, double)
SYMMETRIZE(fft_test_symmetrize_float, float)

#define COMPARE(NAME, RTYPE, YTYPE)                                                                    \
    fft_test_error NAME(const RTYPE *reference, const YTYPE *y, size_t n)                              \
    {                                                                                                  \
        long double diff2 = 0, ref2 = 0, diffmax = 0, refmax = 0;                                      \
        fft_test_error e;                                                                              \
        for (size_t i = 0; i < n; i++) {                                                               \
            long double d = fabsl((long double)y[i] - (long double)reference[i]);                      \
            long double r = fabsl((long double)reference[i]);                                          \
            diff2 += d * d;                                                                            \
            ref2 += r * r;                                                                             \
            diffmax = d > diffmax ? d : diffmax;                                                       \
            refmax = r > refmax ? r : refmax;                                                          \
        }                                                                                              \
        e.rms = ref2 > 0 ? (double)sqrtl(diff2 / ref2) : (double)sqrtl(diff2);                         \
        e.max = refmax > 0 ? (double)(diffmax / refmax) : (double)diffmax;                             \
        return e;                                                                                      \
    }
COMPARE(fft_test_compare, long double, double)
COMPARE(fft_test_compare_float, long double, float)
COMPARE(fft_test_compare_double, double, double)
