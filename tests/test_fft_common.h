/* Helpers shared by the FFT tests: direct DFTs in long double (the
 * independent reference), Hermitian extension and error norms. */
#ifndef PEL_TEST_FFT_COMMON_H
#define PEL_TEST_FFT_COMMON_H

#include <stddef.h>

/* Product of dims[0..rank-1]. */
size_t fft_test_points(int rank, const size_t *dims);

/* In-place direct (O(n) per output point and axis) DFT of one array of
 * shape dims, interleaved complex long double, sign -1 forward / +1
 * backward, unnormalised. Separable: a direct 1-D DFT along each axis. */
void fft_test_dft(int rank, const size_t *dims, long double *data, int sign);

/* Expands a half spectrum (last dimension n/2+1, complex double or float
 * given as long double) of a real array of shape dims into the full
 * spectrum using X[k] = conj(X[-k]). */
void fft_test_hermitian_full(int rank, const size_t *dims, const long double *half, long double *full);

/* Makes a random half spectrum exactly Hermitian-consistent (partners that
 * both lie in the half are conjugates; self-conjugate bins are real), so that
 * c2r has one exact answer. half holds howmany spectra of doubles. */
void fft_test_symmetrize(int rank, const size_t *dims, double *half);
void fft_test_symmetrize_float(int rank, const size_t *dims, float *half);

/* Relative errors of y against reference r (n values): rms = ||y-r||_2 /
 * ||r||_2, max = ||y-r||_inf / ||r||_inf. */
typedef struct fft_test_error {
    double rms, max;
} fft_test_error;
fft_test_error fft_test_compare(const long double *reference, const double *y, size_t n);
fft_test_error fft_test_compare_float(const long double *reference, const float *y, size_t n);
fft_test_error fft_test_compare_double(const double *reference, const double *y, size_t n);

#endif
