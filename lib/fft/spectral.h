/* The symbol division of pel's spectral Poisson / Helmholtz solvers, shared
 * by the serial solver (fft/spectral.c) and the distributed one
 * (libpel_mpi, which calls it on its transposed slab). */
#ifndef PEL_FFT_SPECTRAL_H
#define PEL_FFT_SPECTRAL_H

#include <stddef.h>

#include "pel/fft.h"

/* Checks lengths (ndim entries, finite and > 0), symbol and shift (finite,
 * >= 0) for `function`. */
PEL_API pel_status pel__spectral_check(int ndim, const double *lengths, pel_spectral_symbol symbol, double shift,
                                       const char *function);

/* Divides a box of a half spectrum by (shift + symbol) and multiplies it by
 * `scale`, in one pass on pel's threads. The box is a row-major array of
 * complex values (float or double by precision) of shape ext[0..ndim-1];
 * its axis i is the global frequency axis axis[i], starting at global index
 * start[i]. dims are the real grid's global dims (the last axis is halved
 * by the r2c transform; frequencies m > n/2 stand for m - n). The mode
 * whose divisor is 0 (the mean, for shift 0) is set to 0. Cannot fail:
 * the table of divisors per axis (at most 3 * max(ext) doubles) comes from
 * `work`, sized by the caller with pel__spectral_work_doubles(). */
PEL_API void pel__spectral_divide(pel_precision precision, int ndim, const size_t *ext, const int *axis,
                                  const size_t *start, const size_t *dims, const double *lengths,
                                  pel_spectral_symbol symbol, double shift, double scale, void *data,
                                  double *work);

/* Doubles of work pel__spectral_divide() needs for a box of shape ext. */
PEL_API size_t pel__spectral_work_doubles(int ndim, const size_t *ext);

#endif
