/* Internal side of the stencil layer: the stencil object, the row kernels and
 * the cache-size query. Internally every grid is three-dimensional (axis 0
 * slowest, axis 2 contiguous): a 2-D grid (ny, nx) is (ny, 1, nx) so that the
 * time-skewed wavefront runs along its rows, a 1-D grid (n) is (1, 1, n). */
#ifndef PEL_STENCIL_INTERNAL_H
#define PEL_STENCIL_INTERNAL_H

#include <stddef.h>

#include "core/handle.h"
#include "pel/stencil.h"

/* Computes out[i] for i in [0, n): acc = c[0]*in[0][i]; acc = acc + c[k]*in[k][i]
 * for k = 1..nterms-1; then acc = acc + w*rhs[i] when rhs is not NULL. The
 * pointers are double* or float* by the stencil's precision; in[k] already
 * points at the element that lines up with out[0]. stream nonzero asks for
 * non-temporal stores where possible (call pel__stencil_store_fence() before
 * other threads read the output). */
typedef void (*pel__stencil_row_fn)(void *out, const void *const *in, const void *coefficients, size_t nterms,
                                    const void *rhs, const void *rhs_weight, size_t n, int stream);

/* Prefetches the `lines` cache lines that start 512 bytes after p. The
 * register-tiled kernels call it on each strip of the row of a sum's last
 * term, the row a sweep along axis 0 meets first (its largest offset);
 * the separate-order constant kernels prefetch it the same way (3-5% on
 * single sweeps, kernels.c). A prefetch never faults, even past the end of
 * the row, and changes no result. */
static inline __attribute__((always_inline)) void pel__stencil_prefetch_ahead(const void *p, const int lines)
{
    _Pragma("GCC unroll 4")
    for (int j = 0; j < lines; j++)
        __builtin_prefetch((const char *)p + 512 + 64 * j);
}

/* Orders this thread's non-temporal stores before what follows (sfence). */
void pel__stencil_store_fence(void);

void pel__stencil_row_d_generic(void *out, const void *const *in, const void *coefficients, size_t nterms,
                                const void *rhs, const void *rhs_weight, size_t n, int stream);
void pel__stencil_row_d_avx2(void *out, const void *const *in, const void *coefficients, size_t nterms,
                             const void *rhs, const void *rhs_weight, size_t n, int stream);
void pel__stencil_row_s_generic(void *out, const void *const *in, const void *coefficients, size_t nterms,
                                const void *rhs, const void *rhs_weight, size_t n, int stream);
void pel__stencil_row_s_avx2(void *out, const void *const *in, const void *coefficients, size_t nterms,
                             const void *rhs, const void *rhs_weight, size_t n, int stream);

/* Computes count single points: point j is element offset[j] of out, with
 * its terms at ptrs[j*nterms + k] and its rhs (if not NULL) at element
 * offset[j] of rhs; the arithmetic of the row kernels' scalar loop. */
void pel__stencil_points(pel_precision precision, void *out, const ptrdiff_t *offset, const void *const *ptrs,
                         const void *coefficients, size_t nterms, const void *rhs, const void *rhs_weight,
                         size_t count);

/* Instruction sets of the row kernels (the registry's tables). */
typedef enum pel__stencil_isa {
    PEL__STENCIL_ISA_GENERIC = 0, /* portable C (libm fma() for the FMA order) */
    PEL__STENCIL_ISA_AVX2 = 1,    /* AVX2 (+ FMA for the FMA order) */
    PEL__STENCIL_ISA_AVX512 = 2   /* AVX-512F */
} pel__stencil_isa;

/* Nonzero when this CPU runs the kernels of isa. */
int pel__stencil_isa_supported(pel__stencil_isa isa);

/* The instruction set the registry hands out: the forced one
 * (pel__stencil_isa_set), else the best this CPU supports. */
pel__stencil_isa pel__stencil_isa_get(void);

/* Forces the kernels that stencils (and forms) created from now on get, so
 * tests reach every table on one machine; isa < 0 returns to the CPU's
 * choice, an isa the CPU lacks is ignored. Returns the previous setting
 * (-1: none). Stencils keep the kernels they were created with; the switch
 * must not race with a stencil's creation. */
int pel__stencil_isa_set(int isa);

/* The best row kernel for this CPU and precision (the registry). */
pel__stencil_row_fn pel__stencil_row_kernel(pel_precision precision);

/* The same in the FMA order of terms (lib/stencil/kernels_fma.c):
 * acc = c[0]*in[0][i]; acc = fma(c[k], in[k][i], acc); acc = fma(w, rhs[i], acc). */
pel__stencil_row_fn pel__stencil_row_kernel_fma(pel_precision precision);
void pel__stencil_points_fma(pel_precision precision, void *out, const ptrdiff_t *offset, const void *const *ptrs,
                             const void *coefficients, size_t nterms, const void *rhs, const void *rhs_weight,
                             size_t count);

/* A fused form row (lib/stencil/kernels_fused.c, double precision, the
 * separate order): groups of the row's terms, each a stencil sum optionally
 * scaled per point, added in order, then the form's pointwise terms. The
 * constant part, fixed for a form's life: */
enum { PEL__STENCIL_FUSED_GROUPS = 16 };
typedef struct pel__stencil_fused {
    size_t ngroups;
    size_t first[PEL__STENCIL_FUSED_GROUPS + 1]; /* group g: terms first[g] .. first[g+1]-1 */
    const double *coefficients;                  /* per term */
    double rhs_weight;
    int two_level; /* acc = (alpha*u + beta*v) + acc at the end */
    double alpha, beta;
} pel__stencil_fused;

/* The per-call part: rows of the pointwise grids at out[0] (NULL: absent). */
typedef struct pel__stencil_fused_inputs {
    const double *scale[PEL__STENCIL_FUSED_GROUPS];
    const double *center, *u; /* acc = acc + center*u (factored b); u also the two-level u(t) */
    const double *rhs;
    const double *v; /* two levels: u(t-1) */
} pel__stencil_fused_inputs;

typedef void (*pel__stencil_fused_fn)(double *out, const double *const *in, const pel__stencil_fused *f,
                                      const pel__stencil_fused_inputs *x, size_t n);

/* The fused kernel of the registry's instruction set. */
pel__stencil_fused_fn pel__stencil_fused_kernel(void);

struct pel_stencil {
    pel__handle handle; /* first member: misuse detection (core/handle.h) */
    pel_precision precision;
    size_t element_size;
    int ndim;
    pel_stencil_shape shape;
    int radius;
    int axis_radius[3];     /* per internal axis: 0 on the axes a 1-D/2-D grid lacks */
    size_t nterms;
    int (*offset)[3];       /* per term, internal axes */
    void *coefficients;     /* nterms doubles or floats */
    int has_rhs;
    double rhs_weight_d;
    float rhs_weight_f;
    /* Terms grouped by row: the distinct (axis 0, axis 1) offsets, and each
     * term's index into that list, so a row resolves each input row once. */
    size_t nrows;
    int (*row_offset)[2];
    size_t *term_row;
    /* Coupled systems only (lib/stencil/system.c): the field each row
     * group reads; NULL for a stencil of one field. */
    int *row_field;
    int fma; /* nonzero: the FMA order of terms (pel_stencil_create_fma) */
    pel__stencil_row_fn row;
};

/* Checks dims (no zero axis, no overflow) and faces (kinds, periodic pairs,
 * Neumann axes at least the radius long) of a grid for `stencil`, with
 * messages attributed to `function` and naming dims[] and faces[]; the
 * point count goes to *count. pel_stencil_apply() and the solvers built on
 * it (pel_stencil_jacobi_poisson) share it. */
pel_status pel__stencil_check_grid(const char *function, const pel_stencil *stencil, const size_t *dims,
                                   const pel_boundary *faces, size_t *count);

/* Maps the user's axes onto the internal three (see the file comment):
 * internal_axis[user_axis]. */
void pel__stencil_axis_map(int ndim, int internal_axis[3]);

/* The effective size of one instance of data cache level 1, 2 and 3, in
 * bytes, and the memory bandwidth in bytes per ns, from the measured
 * machine model (lib/tune; measured once per process). */
size_t pel__stencil_cache_size(int level);
double pel__stencil_memory_bytes_per_ns(void);

/* What one of nthreads threads' rings may fill in the automatic blocking:
 * its L2, or more where the model's sweep reads working sets past the L2s
 * at 2.5x memory's rate or more (half the largest such set, shared by the
 * threads; cache.c). The _from_model form is for the tests. */
size_t pel__stencil_ring_budget_bytes(int nthreads);
struct pel_machine;
size_t pel__stencil_ring_budget_from_model(const struct pel_machine *m, int nthreads);

/* The serial Jacobi solver's two stencils (jacobi != 0: the Jacobi step,
 * else the residual Laplacian with rhs weight 1) and its max norm (a NaN
 * counts as HUGE_VAL), exported for libpel_mpi's distributed twin
 * (lib/mpi/jacobi.c): one definition, so both solvers give the same bits. */
PEL_API pel_status pel__jacobi_stencil(pel_precision precision, int ndim, const double *spacing, int jacobi,
                                       pel_stencil **stencil);
PEL_API double pel__jacobi_max_abs(const void *x, size_t n, pel_precision precision);

#endif
