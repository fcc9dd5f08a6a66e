/* Internal side of the thread policy and backend coordination. */
#ifndef PEL_CORE_THREADS_H
#define PEL_CORE_THREADS_H

#include "pel/core.h"

/* One-time, thread-safe initialisation of the backends (FFTW's threads,
 * OpenBLAS's check). Cheap after the first call. */
void pel__backends_init(void);

/* Runs OpenBLAS on exactly `nthreads` threads for the calls between enter and
 * leave, and restores the calling thread's OpenMP thread count afterwards.
 * The OpenMP build of OpenBLAS sizes its team from omp_get_max_threads() of
 * the calling thread, so this is where pel's policy reaches OpenBLAS. */
typedef struct pel__blas_scope {
    int saved_omp_threads;
} pel__blas_scope;

void pel__blas_enter(pel__blas_scope *scope, int nthreads);
void pel__blas_leave(const pel__blas_scope *scope);

#endif
