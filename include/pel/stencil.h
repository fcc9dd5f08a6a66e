/**
 * @file pel/stencil.h
 * @brief Constant-coefficient star and box stencils of any radius in 1, 2 and
 *        3 dimensions, applied for many time steps with boundary conditions
 *        per face, spatial and temporal blocking, and results bit-identical to
 *        a plain serial loop for every thread count and blocking.
 *
 * The order of terms (the reproducibility contract). A stencil holds its
 * points in lexicographic order of their offsets (axis 0 slowest, the last
 * axis fastest), e.g. the 2-D 5-point star is (-1,0) (0,-1) (0,0) (0,1) (1,0).
 * A new value is computed as
 *
 *     acc = c[0] * u(p + o[0]);
 *     for k = 1 .. npoints-1:  acc = acc + c[k] * u(p + o[k]);
 *     if the stencil has a rhs term:  acc = acc + w * rhs(p);
 *
 * in the stencil's precision, each product rounded before the addition (pel
 * compiles its stencil sources with -ffp-contract=off, so no FMA contracts a
 * product with a sum). Every kernel evaluates exactly this, whatever the thread
 * count, blocking or vector width, so a naive loop written this way gives the
 * same bits.
 *
 * Grids are in C order (the last axis contiguous), without ghost cells: a
 * grid of dims n0 x n1 x n2 holds n0*n1*n2 values. Values outside the grid are
 * defined by the boundary conditions (see pel_boundary).
 */
#ifndef PEL_STENCIL_H
#define PEL_STENCIL_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest radius pel_stencil_create() accepts. */
#define PEL_STENCIL_MAX_RADIUS 8

/** Shape of a stencil's point set. */
typedef enum pel_stencil_shape {
    /** Star: the centre and the points at distance 1..r along each axis
     *  (2*d*r + 1 points). */
    PEL_STENCIL_STAR = 0,
    /** Box: every point of the (2r+1)^d cube around the centre. */
    PEL_STENCIL_BOX = 1
} pel_stencil_shape;

/** Kind of boundary condition on one face of the grid. */
typedef enum pel_boundary_kind {
    /** Fixed value: every point outside this face holds pel_boundary.value. */
    PEL_BOUNDARY_DIRICHLET = 0,
    /** Periodic: the grid wraps around (index mod n); must be set on both
     *  faces of an axis. Works for any n >= 1, even n smaller than the radius. */
    PEL_BOUNDARY_PERIODIC = 1,
    /** Zero gradient (Neumann): values are mirrored about the face, the
     *  edge value repeated, u(-1-k) = u(k) and u(n+k) = u(n-1-k) (numpy's
     *  "symmetric", scipy.ndimage's "reflect"). */
    PEL_BOUNDARY_NEUMANN = 2,
    /** Nearest: the edge value repeated, u(-1-k) = u(0), u(n+k) = u(n-1)
     *  (numpy's "edge", scipy.ndimage's "nearest"). */
    PEL_BOUNDARY_NEAREST = 3,
    /** Mirror: reflection about the edge point, which is not repeated,
     *  u(-k) = u(k), u(n-1+k) = u(n-1-k) (numpy's "reflect", scipy.ndimage's
     *  "mirror"). On a one-point axis it gives the edge value. */
    PEL_BOUNDARY_MIRROR = 4
} pel_boundary_kind;

/**
 * The boundary condition of one face. Faces are given as an array of 2*ndim
 * entries: axis 0 lower, axis 0 upper, axis 1 lower, axis 1 upper, ...
 * A point outside the grid in several axes (a box stencil's corner) is
 * resolved axis by axis from axis 0 on: periodic, Neumann, nearest and mirror
 * axes map the index into the grid, and the first Dirichlet face met gives
 * the value. On an axis shorter than the radius a reflected index may land
 * beyond the opposite face; that face's rule then applies, as often as
 * needed (Neumann and mirror reflect repeatedly, a Dirichlet face met on the
 * way gives its value), so every kind works for every axis length.
 */
typedef struct pel_boundary {
    pel_boundary_kind kind; /**< Dirichlet, periodic, Neumann, nearest or mirror */
    double value; /**< the fixed value of a Dirichlet face (rounded to float for
                       PEL_FLOAT32 stencils); ignored otherwise */
} pel_boundary;

/**
 * Optional blocking override for pel_stencil_apply(). Zero fields are chosen
 * automatically from the measured machine model (pel_machine_info(): the
 * cache sizes the OS reports, checked by a bandwidth sweep).
 * Blocking never changes the results, only the speed.
 */
typedef struct pel_stencil_blocking {
    /** Tile extent per axis of the user's grid (0 = automatic). */
    size_t tile[3];
    /** Time steps per temporal block (0 = automatic, 1 = no temporal blocking). */
    size_t time_block;
    /** Cache bytes one thread may fill with its tile's intermediate levels
     *  (0 = its L2 plus its share of the L3). */
    size_t cache_bytes;
    /** Nonzero: write the destination grid with non-temporal (streaming)
     *  stores, which skip the read-for-ownership of each cache line; can help
     *  when the grid is far larger than the last-level cache. 0 = plain
     *  stores (the default; faster in the measurements of docs/stencil.md). */
    int streaming_stores;
} pel_stencil_blocking;

/**
 * pel_stencil_blocking::cache_bytes value that asks pel to choose the
 * blocking by timing (like FFTW's MEASURE): on the first automatic call for
 * a (stencil shape, dims, thread count, precision) a few candidates (the
 * machine model's choice, smaller and larger cache budgets, no temporal
 * blocking) run a few steps each on scratch copies of the grid, and the
 * fastest is remembered for the process. Costs about the time of the call
 * once; every candidate gives the same bits. The environment variable
 * PEL_TUNE=measure asks the same for every call whose blocking is automatic
 * (blocking NULL or cache_bytes 0). Ignored when tiles or time_block are
 * given, and by the two-level and coupled forms (they use the model).
 */
#define PEL_STENCIL_CACHE_MEASURE ((size_t)-1)

/** An immutable stencil; share it freely between threads. */
typedef struct pel_stencil pel_stencil;

/**
 * Creates a stencil of dimension @p ndim (1..3), @p shape and @p radius
 * (1..PEL_STENCIL_MAX_RADIUS) with constant @p coefficients, one per point in
 * the documented lexicographic order of offsets (see the file comment);
 * @p ncoefficients must equal the point count (2*ndim*radius+1 for a star,
 * (2*radius+1)^ndim for a box). With @p has_rhs nonzero every update adds
 * @p rhs_weight * rhs(p) last, for Jacobi iterations and sources. For
 * PEL_FLOAT32 the coefficients and the weight are rounded to float once, here.
 * Errors: PEL_ERROR_INVALID_ARGUMENT naming the bad argument (precision,
 * ndim, shape, radius, coefficients NULL, ncoefficients, stencil NULL);
 * PEL_ERROR_OUT_OF_MEMORY. On error *stencil is set to NULL. Thread-safe.
 */
PEL_API pel_status pel_stencil_create(pel_precision precision, int ndim, pel_stencil_shape shape, int radius,
                                      const double *coefficients, size_t ncoefficients, int has_rhs,
                                      double rhs_weight, pel_stencil **stencil);

/**
 * As pel_stencil_create(), in the FMA order of terms: every new value is
 *
 *     acc = c[0] * u(p + o[0]);
 *     for k = 1 .. npoints-1:  acc = fma(c[k], u(p + o[k]), acc);
 *     if the stencil has a rhs term:  acc = fma(w, rhs(p), acc);
 *
 * each fused multiply-add rounded once, as C's fma() / fmaf() does, so a
 * naive loop written with fma() gives the same bits (for every thread count
 * and blocking). On CPUs with FMA units the order allows twice the
 * arithmetic rate of the separate multiply/add order (the current kernels
 * do not reach it yet: docs/benchmarks.md); elsewhere libm's fma() keeps
 * the bits (slowly). Every apply function takes such a stencil; the forms use its
 * order for the stencil's sum. Streaming stores are not used with it.
 * Errors as pel_stencil_create(), the message naming pel_stencil_create_fma.
 */
PEL_API pel_status pel_stencil_create_fma(pel_precision precision, int ndim, pel_stencil_shape shape, int radius,
                                          const double *coefficients, size_t ncoefficients, int has_rhs,
                                          double rhs_weight, pel_stencil **stencil);

/**
 * Creates a common Laplacian stencil scaled by 1/@p spacing^2: @p npoints = 3
 * (1-D), 5 or 9 (2-D; the 9-point is the compact isotropic one,
 * [1 4 1; 4 -20 4; 1 4 1]/6), 7, 27 or 25 (3-D; the 27-point is
 * [corners 1, edges 3, faces 14, centre -128]/30; the 25-point is the
 * radius-4 eighth-order star used in seismic codes). No rhs term.
 * Errors: PEL_ERROR_INVALID_ARGUMENT for a bad precision, an (ndim, npoints)
 * pair not in this list, spacing not finite and positive, stencil NULL.
 * Thread-safe.
 */
PEL_API pel_status pel_stencil_create_laplacian(pel_precision precision, int ndim, int npoints, double spacing,
                                                pel_stencil **stencil);

/** Destroys a stencil; NULL is ignored. A pointer that is not a live
 *  stencil (destroyed already, or not made by pel) is not freed: the call
 *  records a message in pel_last_error() and returns. Not while another
 *  thread uses it. */
PEL_API void pel_stencil_destroy(pel_stencil *stencil);

/** The stencil's precision, dimension, radius and point count (any pointer
 *  may be NULL). Errors: stencil NULL. Thread-safe. */
PEL_API pel_status pel_stencil_info(const pel_stencil *stencil, pel_precision *precision, int *ndim,
                                    int *radius, size_t *npoints);

/**
 * Runs @p nsteps time steps of @p stencil on a C-order grid of @p dims
 * (stencil's ndim entries) with boundary conditions @p faces (2*ndim entries).
 * Step s reads one buffer and writes the other; @p grid holds the initial
 * values and @p work is the second buffer (same size, distinct, never
 * overlapping), or NULL to let pel allocate one for the call and copy the
 * result back into @p grid. On return *@p result points to the buffer that
 * holds the final values (@p grid or @p work; which one depends on the
 * blocking, so always use *result); the other holds scratch values.
 * @p nsteps = 0 touches no data and sets *result = grid. @p rhs (same dims) is
 * required when the stencil has a rhs term and must be NULL otherwise.
 * @p blocking may be NULL (automatic). Data are double or float by the
 * stencil's precision.
 * Errors (PEL_ERROR_INVALID_ARGUMENT, message names the argument): stencil
 * NULL, destroyed or not made by pel; dims, faces or grid NULL; a zero
 * dimension; an unknown boundary kind; periodic on one face of an axis only;
 * work equal to grid or rhs equal to a buffer; rhs missing or
 * unexpected; result NULL while work is given; blocking tile larger than
 * the axis or time_block above 1024. PEL_ERROR_OVERFLOW when the grid size
 * overflows size_t; PEL_ERROR_OUT_OF_MEMORY. On error no buffer is modified
 * and *result is not written.
 * Thread-safe for distinct buffers; the result is bit-identical for every
 * thread count and blocking.
 */
PEL_API pel_status pel_stencil_apply(const pel_stencil *stencil, const size_t *dims, const pel_boundary *faces,
                                     void *grid, void *work, const void *rhs, size_t nsteps,
                                     const pel_stencil_blocking *blocking, void **result);

/**
 * Variable coefficients, factored form: runs @p nsteps steps of
 *
 *     acc = c[0] * u(p + o[0]);  acc = acc + c[k] * u(p + o[k])  (k = 1..)
 *     if scale:   acc = scale(p) * acc;
 *     if center:  acc = acc + center(p) * u(p);
 *     if rhs:     acc = acc + w * rhs(p);
 *
 * with the stencil's constant coefficients c and rhs weight w and per-point
 * grids @p scale = a(p) and @p center = b(p) (either may be NULL), e.g.
 * variable-diffusivity heat u + dt*kappa(p)*Lap u, or a velocity-model wave
 * operator. The coefficient grids have the field's dims and C order, are only
 * read, and must not overlap grid or work. Everything else (buffers, result,
 * blocking, boundaries, errors, nothing written on error, bit-identity for
 * every thread count and blocking) is as in pel_stencil_apply(); messages
 * name pel_stencil_apply_factored. Thread-safe for distinct buffers.
 */
PEL_API pel_status pel_stencil_apply_factored(const pel_stencil *stencil, const size_t *dims,
                                              const pel_boundary *faces, void *grid, void *work,
                                              const void *scale, const void *center, const void *rhs,
                                              size_t nsteps, const pel_stencil_blocking *blocking, void **result);

/**
 * Variable coefficients, general form: one coefficient grid per term,
 *
 *     acc = g[0](p) * u(p + o[0]);  acc = acc + g[k](p) * u(p + o[k])  (k = 1..)
 *     if rhs:  acc = acc + w * rhs(p);
 *
 * where @p term_grids holds the stencil's npoints grids in its order of
 * offsets (the stencil gives the offsets and the rhs weight; its constant
 * coefficients are not used). Each grid has the field's dims and C order, is
 * only read and must not overlap grid or work. Otherwise as
 * pel_stencil_apply(); messages name pel_stencil_apply_general (term_grids
 * NULL or one of its entries NULL are refused). Thread-safe for distinct
 * buffers.
 */
PEL_API pel_status pel_stencil_apply_general(const pel_stencil *stencil, const size_t *dims,
                                             const pel_boundary *faces, void *grid, void *work,
                                             const void *const *term_grids, const void *rhs, size_t nsteps,
                                             const pel_stencil_blocking *blocking, void **result);

/**
 * Two time levels (leapfrog, second-order-in-time wave equations): runs
 * @p nsteps steps of
 *
 *     s   = S u(t) (p)                  (the stencil's order of terms, no rhs)
 *     s   = gamma(p) * s                (if gamma is not NULL)
 *     acc = alpha * u(t)(p) + beta * u(t-1)(p)    (two products, one sum)
 *     u(t+1)(p) = acc + s
 *
 * e.g. the acoustic wave equation u(t+1) = 2u(t) - u(t-1) + v(x)^2 dt^2 Lap u(t)
 * with alpha = 2, beta = -1, gamma = v^2 dt^2 and a Laplacian stencil. The
 * boundary rules apply to u(t) as in pel_stencil_apply(); u(t-1) and gamma
 * are read at p only. The steps are temporally blocked: a tile keeps both
 * levels in cache, and a block of T steps reads both old levels and writes
 * both of its last two once. Because a block writes two levels while other
 * tiles still read the two it started from, pel rotates four grids:
 * @p levels[0] holds u(t0-1), @p levels[1] u(t0), levels[2] and levels[3]
 * are work grids. On return the array is permuted so that levels[0] and
 * levels[1] hold the last two levels u(t0+nsteps-1) and u(t0+nsteps) and
 * levels[2..3] the other two grids (scratch), ready for the next call. With
 * levels[2] = levels[3] = NULL pel allocates the work grids for the call and
 * copies the last two levels back into the caller's levels[0] and levels[1]
 * (the pointers stay). alpha and beta are rounded to float for PEL_FLOAT32
 * stencils. @p gamma has the field's dims and C order, is only read, and may
 * be NULL (taken as 1).
 * Errors (PEL_ERROR_INVALID_ARGUMENT, the message names pel_stencil_apply_wave
 * and the argument): stencil, dims, faces, levels, levels[0] or levels[1]
 * NULL; only one of levels[2], levels[3] NULL; two grids overlapping; gamma
 * overlapping a grid; a stencil with a rhs term; alpha or beta not finite;
 * the dims, faces and blocking errors of pel_stencil_apply().
 * PEL_ERROR_OVERFLOW, PEL_ERROR_OUT_OF_MEMORY. Nothing is written on error
 * (levels included); nsteps = 0 touches no data. Bit-identical to the plain
 * loop above for every thread count and blocking. Thread-safe for distinct
 * buffers.
 */
PEL_API pel_status pel_stencil_apply_wave(const pel_stencil *stencil, const size_t *dims,
                                          const pel_boundary *faces, void **levels, double alpha, double beta,
                                          const void *gamma, size_t nsteps, const pel_stencil_blocking *blocking);

/**
 * A user row kernel for pel_stencil_apply_rows(): computes out[0..n-1], the
 * points index[0..ndim-1] (the grid index of out[0]; index[ndim-1] runs along
 * the row) up to index[ndim-1] + n - 1, from the input rows at every offset
 * (d0, d1) in -r..r of the outer axes. rows[j] points at the element that
 * lines up with out[0] in row j = (d0 + r) * (2r + 1) + (d1 + r) for a 3-D
 * grid, j = d0 + r for 2-D, j = 0 for 1-D; rows[j][-r .. n-1+r] may be read,
 * already extended by the boundary rules (outside the grid they hold mapped
 * values or a Dirichlet face's value). What the function may assume: n >= 1;
 * pointers are aligned to the element size only (no vector alignment); out
 * does not alias any row, and no row is written while the function runs;
 * the data are double or float by the precision. What it must do: write
 * out[0..n-1] and nothing else (no other global state), compute each out[i]
 * from rows[*][i-r .. i+r], index and user_data alone, and be safe to call
 * from several threads at once (pel calls it from its threads, on different
 * rows, in no fixed order, and more than once for the same point when tiles
 * overlap). Then the result is bit-identical for every thread count and
 * blocking.
 */
typedef void (*pel_stencil_row_function)(void *out, const void *const *rows, size_t n, const size_t *index,
                                         void *user_data);

/**
 * Runs @p nsteps steps of a user row kernel @p function of @p radius (1..4)
 * on a C-order grid of @p ndim (1..3) dimensions @p dims with boundary
 * conditions @p faces: pel does the tiling, temporal blocking, threads and
 * boundaries, the function the arithmetic (updates no linear form covers:
 * upwind advection, limiters, nonlinear terms). @p user_data is passed
 * through. Buffers (@p grid, @p work, *@p result), @p blocking and nsteps = 0
 * are as in pel_stencil_apply(). Errors (PEL_ERROR_INVALID_ARGUMENT, message
 * naming pel_stencil_apply_rows and the argument): precision, ndim, radius,
 * function NULL, and the dims, faces, buffer and blocking errors of
 * pel_stencil_apply(); PEL_ERROR_OVERFLOW, PEL_ERROR_OUT_OF_MEMORY. Nothing
 * is written on error. Thread-safe for distinct buffers if the function is.
 */
PEL_API pel_status pel_stencil_apply_rows(pel_precision precision, int ndim, int radius, const size_t *dims,
                                          const pel_boundary *faces, void *grid, void *work,
                                          pel_stencil_row_function function, void *user_data, size_t nsteps,
                                          const pel_stencil_blocking *blocking, void **result);

/** One term of a coupled system (pel_stencil_system_apply()): field
 *  @p output gets @p stencil applied to field @p input, scaled per point by
 *  @p scale when it is not NULL. */
typedef struct pel_stencil_term {
    int output;                 /**< the field the term adds to, 0..nfields-1 */
    int input;                  /**< the field its stencil reads, 0..nfields-1 */
    const pel_stencil *stencil; /**< no rhs term; every term's stencil of one precision and ndim */
    const void *scale;          /**< per-point factor (the field's dims, read-only), or NULL */
} pel_stencil_term;

/**
 * Coupled fields: runs @p nsteps steps of a linear system of @p nfields
 * (1..4) fields updated together, e.g. a two-species reaction-diffusion or a
 * linearised shallow-water model. Each step computes for each field f, from
 * the old values of all fields,
 *
 *     s_i = S_i u_input(i) (p)            (stencil i's order of terms)
 *     if scale_i:  s_i = scale_i(p) * s_i
 *     new u_f(p) = s_first;  then  + s_i for each further term of f
 *
 * over the @p nterms (1..16) terms whose output is f, in the order given
 * (every field must be the output of at least one term; a stencil may have
 * up to 343 points). A pointwise reaction term is a radius-1 star whose only
 * nonzero coefficient is the centre's. The stencils may have different radii
 * and shapes. All fields share the boundary conditions
 * @p faces and @p dims. @p fields[f] holds field f; @p work is NULL (pel
 * allocates nfields work grids and the results come back in fields[]) or
 * nfields work grids, and then on return fields[] and work[] are swapped
 * where needed so that fields[f] names field f's result. Temporal blocking
 * covers the whole system: a tile advances every field level by level.
 * Errors (PEL_ERROR_INVALID_ARGUMENT, message naming pel_stencil_system_apply
 * and the argument): nfields, terms NULL, nterms, a term's stencil NULL or
 * with a rhs term or too many points, precisions or ndims that differ, an
 * output or input out of range, a field with no term, fields or work
 * entries NULL or overlapping, a scale overlapping a grid, and the dims,
 * faces and blocking errors of pel_stencil_apply(); PEL_ERROR_OVERFLOW,
 * PEL_ERROR_OUT_OF_MEMORY. Nothing is written on error. Bit-identical to
 * the plain loop above for every thread count and blocking. Thread-safe
 * for distinct buffers.
 */
PEL_API pel_status pel_stencil_system_apply(int nfields, const pel_stencil_term *terms, size_t nterms,
                                            const size_t *dims, const pel_boundary *faces, void **fields,
                                            void **work, size_t nsteps, const pel_stencil_blocking *blocking);

/**
 * Allocates a grid of @p dims (the stencil's ndim entries) for @p stencil's
 * precision with pel_malloc() and initialises it to zero on pel's threads,
 * each thread zeroing its contiguous share of every plane (of every row for a
 * 2-D grid), the bands that multi-step pel_stencil_apply() tiles give each
 * thread, so on a NUMA machine pages land near the threads that update them.
 * Free with pel_free(). Errors: NULL arguments, zero dims, overflow, out of
 * memory.
 */
PEL_API pel_status pel_stencil_grid_alloc(const pel_stencil *stencil, const size_t *dims, void **grid);

/**
 * Solves the Poisson problem -Laplace(u) = f on a regular grid of @p ndim
 * (1..3) dimensions @p dims with grid spacing @p spacing (one per axis) and
 * boundary conditions @p faces by Jacobi iteration: the (2*ndim+1)-point
 * Jacobi stencil with an rhs term, run @p check_interval steps at a time
 * (temporally blocked; 0 = 50), after which the relative residual
 * max|f + Laplace_h(u)| / max|f| (absolute when f = 0) is measured. Stops when
 * it is <= @p tolerance or after @p max_iterations steps. @p u holds the
 * initial guess and receives the solution; @p precision selects double or
 * float data. *@p iterations and *@p residual (optional) report the steps run
 * and the last residual. Returns PEL_OK when converged (a finite residual
 * <= tolerance), PEL_ERROR_NOT_CONVERGED (with u holding the last iterate)
 * when the step limit came first or the residual stopped being finite (the
 * iterate overflowed the precision; *residual is then inf).
 * Errors (u, *iterations and *residual untouched; messages name this
 * function and its arguments): PEL_ERROR_INVALID_ARGUMENT for a bad
 * precision or ndim, NULL dims, spacing, faces, u or f, a spacing not finite
 * and positive (or so small that 1/spacing^2 overflows), a negative or NaN
 * tolerance, max_iterations 0, the grid errors of pel_stencil_apply() (dims,
 * faces), f overlapping u, and NaN or Inf in f, in u or in a Dirichlet face
 * value (the first one is named: such data never converges);
 * PEL_ERROR_OUT_OF_MEMORY (two work grids are allocated). The result does
 * not depend on the thread count.
 */
PEL_API pel_status pel_stencil_jacobi_poisson(pel_precision precision, int ndim, const size_t *dims,
                                              const double *spacing, const pel_boundary *faces, void *u,
                                              const void *f, double tolerance, size_t max_iterations,
                                              size_t check_interval, size_t *iterations, double *residual);

#ifdef __cplusplus
}
#endif

#endif
