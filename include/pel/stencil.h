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
    /** Zero gradient (Neumann): values are mirrored about the face,
     *  u(-1-k) = u(k) and u(n+k) = u(n-1-k); needs n >= radius on that axis. */
    PEL_BOUNDARY_NEUMANN = 2
} pel_boundary_kind;

/**
 * The boundary condition of one face. Faces are given as an array of 2*ndim
 * entries: axis 0 lower, axis 0 upper, axis 1 lower, axis 1 upper, ...
 * A point outside the grid in several axes (a box stencil's corner) is
 * resolved axis by axis from axis 0 on: periodic and Neumann axes map the
 * index into the grid, and the first Dirichlet face met gives the value.
 */
typedef struct pel_boundary {
    pel_boundary_kind kind; /**< Dirichlet, periodic or Neumann */
    double value; /**< the fixed value of a Dirichlet face (rounded to float for
                       PEL_FLOAT32 stencils); ignored otherwise */
} pel_boundary;

/**
 * Optional blocking override for pel_stencil_apply(). Zero fields are chosen
 * automatically from the cache sizes (read from
 * /sys/devices/system/cpu/cpu0/cache, else sysconf, else 512 KiB L2).
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
 * NULL, destroyed or not made by pel; dims, faces or grid NULL; a zero dimension; an unknown boundary kind;
 * periodic on one face of an axis only; Neumann on an axis shorter than the
 * radius; work equal to grid or rhs equal to a buffer; rhs missing or
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
