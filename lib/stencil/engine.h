/* The stencil engine: time-skewed wavefront along axis 0 inside overlapped
 * tiles over axes 1 and 2 (see docs/stencil.md for why this scheme). */
#ifndef PEL_STENCIL_ENGINE_H
#define PEL_STENCIL_ENGINE_H

#include <stddef.h>

#include "stencil/stencil_internal.h"

/* Everything one apply call needs, on internal axes. */
typedef struct pel__stencil_engine {
    const pel_stencil *stencil;
    size_t element_size;
    long n[3];
    int r[3];
    pel_boundary_kind kind[3][2];
    double value[3][2];
    const char *rhs;        /* NULL when the stencil has no rhs term */
    const void *rhs_weight; /* double or float */
    /* Blocking. */
    long tile[3], ntiles[3];
    size_t time_block;
    int nthreads;
    int stream; /* non-temporal stores into the destination grid */
} pel__stencil_engine;

/* Fills e->tile / e->time_block from the override (fields 0 = automatic) and
 * the cache model. */
void pel__stencil_choose_blocking(pel__stencil_engine *e, size_t nsteps, const pel_stencil_blocking *blocking);

/* Runs nsteps steps from a into b and back; returns PEL_OK or
 * PEL_ERROR_OUT_OF_MEMORY (before touching any data) and sets *in_b when the
 * result is in b. */
pel_status pel__stencil_run(const pel__stencil_engine *e, char *a, char *b, size_t nsteps, int *in_b);

#endif
