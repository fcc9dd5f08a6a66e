/**
 * @file pel/mpi.h
 * @brief libpel_mpi: distributed grids over MPI with halo-exchange stencils
 *        (deep halos), a distributed Jacobi Poisson solver and reproducible
 *        global reductions. Not included by pel.h; link with pel-mpi.pc.
 *
 * Hybrid model: one MPI rank per node or socket, pel's OpenMP threads inside
 * it. pel needs MPI initialised with at least MPI_THREAD_FUNNELED and calls MPI
 * only from the thread that called the pel_dgrid / pel_mpi function (which
 * must be the thread that initialised MPI).
 *
 * Collective in failure too: every function here taking a communicator or a
 * grid is collective over it. Arguments are validated on every rank, then the
 * ranks agree (one MPI_Allreduce) before any communication that could block:
 * if any rank found a problem, every rank returns the same status with the
 * same message, "pel_function: rank R of N: <what was wrong>", naming the
 * lowest failing rank. Scalars that must be equal on every rank (nsteps,
 * halo_steps, root, tolerance, ...) are compared in the same step. A grid
 * handle that is NULL or destroyed on one rank only can still be agreed on
 * while the process holds exactly one live grid (its communicator is used);
 * otherwise that rank cannot reach its peers, and pel returns the error on
 * that rank alone. MPI not initialised, already finalised, or initialised
 * below MPI_THREAD_FUNNELED, is refused on the calling rank without any
 * communication (never a hang).
 *
 * Reproducibility: a distributed stencil apply or Jacobi run gives the same
 * bits as pel_stencil_apply() / pel_stencil_jacobi_poisson() on the whole
 * grid in one process, for every process count, process grid, thread count
 * and halo depth; pel_mpi_reduce_sum() and pel_mpi_dot() give the bits of
 * pel_reduce_sum() / pel_ddot() on the whole vector; pel_mpi_nrm2() gives the
 * same bits for every process and thread count (see its comment).
 */
#ifndef PEL_MPI_H
#define PEL_MPI_H

#include <stddef.h>
#include <mpi.h>

#include "pel/core.h"
#include "pel/stencil.h"
#include "pel/fft.h" /* distributed FFT (issue 14) */
#include "pel/sparse.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A grid distributed over the ranks of a communicator. Not thread-safe:
 *  use it from one thread per rank (all its calls are collective). */
typedef struct pel_dgrid pel_dgrid;

/**
 * Creates a distributed C-order grid of @p ndim (1..3) dimensions @p dims
 * over the ranks of @p comm (duplicated; the grid keeps its own copy), with
 * boundary conditions @p faces on the global faces (2*ndim entries, as for
 * pel_stencil_apply(); periodic axes wrap across ranks). The ranks form a
 * Cartesian process grid: @p process_dims (ndim entries) gives the number of
 * ranks per axis, 0 entries (or NULL for all) being chosen by pel to minimise
 * the total halo surface (the sum over cut planes of their area, periodic
 * wrap-around planes included), ties going to cutting the slower axes
 * (contiguous messages). Rank k of @p comm has coordinates in C order of the
 * process grid (the last axis fastest). Along an axis of n points over p
 * ranks, coordinate c owns n/p points, plus one for c < n mod p (uneven
 * splits work). Data are double or float by @p precision.
 * Collective. Errors (PEL_ERROR_INVALID_ARGUMENT): MPI not ready; comm
 * MPI_COMM_NULL; grid NULL; precision, ndim, dims (NULL, zero), faces
 * (NULL, unknown kind, periodic on one face of an axis only) or
 * process_dims (negative, product not the rank count, or more ranks than
 * points on an axis) bad on any rank, or precision, ndim, dims, the process
 * grid, face kinds or Dirichlet values differing between ranks;
 * PEL_ERROR_OVERFLOW (more than 2^53 points); PEL_ERROR_OUT_OF_MEMORY.
 * (Neumann faces are checked against the stencil's radius at apply time.)
 * On error *grid is set to NULL.
 */
PEL_API pel_status pel_dgrid_create(MPI_Comm comm, pel_precision precision, int ndim, const size_t *dims,
                                    const int *process_dims, const pel_boundary *faces, pel_dgrid **grid);

/** Destroys a grid (frees its communicator: collective while MPI runs; after
 *  MPI_Finalize only the memory is freed). NULL is ignored. */
PEL_API void pel_dgrid_destroy(pel_dgrid *grid);

/**
 * The grid's layout (any output pointer may be NULL): @p ndim, the global
 * @p dims (ndim entries), the process grid @p process_dims, this rank's
 * @p coords in it, and this rank's box: @p offset (first global index per
 * axis) and @p extent (points per axis). Local, not collective.
 * Errors: grid not a live pel_dgrid.
 */
PEL_API pel_status pel_dgrid_info(const pel_dgrid *grid, int *ndim, size_t *dims, int *process_dims, int *coords,
                                  size_t *offset, size_t *extent);

/**
 * The box (@p offset, @p extent, ndim entries each) owned by @p rank of the
 * grid's communicator, for any rank (for I/O planning). Local.
 * Errors: grid not live, rank out of range, offset or extent NULL.
 */
PEL_API pel_status pel_dgrid_rank_box(const pel_dgrid *grid, int rank, size_t *offset, size_t *extent);

/**
 * Allocates this rank's local array: the owned box in C order (extent[0] x
 * ... values, no ghost cells; the halo buffers live inside the grid), zeroed
 * on pel's threads (first touch, pel_calloc()). Free with pel_free(). Local.
 * Errors: grid not live, local NULL, PEL_ERROR_OVERFLOW,
 * PEL_ERROR_OUT_OF_MEMORY. On error *local is set to NULL.
 */
PEL_API pel_status pel_dgrid_local_alloc(const pel_dgrid *grid, void **local);

/**
 * Scatters the whole grid @p global (significant on @p root only, C order of
 * dims) into every rank's @p local array (its owned box). Collective.
 * Errors: root out of range or differing between ranks; global NULL on the
 * root; local NULL; global overlapping local on the root. On error no
 * buffer is modified.
 */
PEL_API pel_status pel_dgrid_scatter(const pel_dgrid *grid, int root, const void *global, void *local);

/**
 * Gathers every rank's @p local array into the whole grid @p global on
 * @p root (ignored elsewhere). Collective. Errors as pel_dgrid_scatter().
 */
PEL_API pel_status pel_dgrid_gather(const pel_dgrid *grid, int root, const void *local, void *global);

/**
 * Runs @p nsteps steps of @p stencil on the distributed grid: @p local (this
 * rank's owned box) holds the initial values and receives the final ones.
 * @p rhs (this rank's box of the rhs grid) is required when the stencil has a
 * rhs term and must be NULL otherwise (on every rank alike).
 *
 * Deep halos: every @p halo_steps (T) steps the ranks exchange halos of width
 * radius*T (non-blocking persistent requests, axis by axis so that edges and
 * corners travel too), then each rank advances T steps on its box grown by
 * the halo, with pel_stencil_apply() (the local engine, with @p blocking; may
 * be NULL), the real boundary on global faces and the halo on internal ones:
 * the redundant work in the halo replaces T-1 message rounds, and the owned
 * box stays exact. T = 0 chooses T from a model of message latency,
 * bandwidth and compute rate that the grid measures once on first use (a
 * ping-pong and a small local sweep; see pel_dgrid_model_get()); the first
 * automatic apply on a grid also runs its first (up to 4) blocks with that T,
 * takes the slowest rank's real time per exchange as the latency when it is
 * larger (late ranks on a busy node), and chooses T again for the rest. T is
 * capped so
 * that radius*T fits in every rank's extent along each cut axis, and at
 * nsteps. The result is bit-identical to pel_stencil_apply() on the whole
 * grid in one process, for every T, process grid and thread count.
 *
 * Collective. Errors (PEL_ERROR_INVALID_ARGUMENT unless said): grid or
 * stencil not live; the stencil's precision or ndim not the grid's; local
 * NULL; rhs missing or unexpected, or equal to local; nsteps, halo_steps or
 * the stencil's radius differing between ranks; a cut axis where some rank
 * owns fewer points than the radius; Neumann on an axis shorter than the
 * radius; any error of pel_stencil_apply() on the rank's box;
 * PEL_ERROR_OUT_OF_MEMORY. On error @p local is unchanged.
 */
PEL_API pel_status pel_dgrid_stencil_apply(pel_dgrid *grid, const pel_stencil *stencil, void *local,
                                           const void *rhs, size_t nsteps, size_t halo_steps,
                                           const pel_stencil_blocking *blocking);

/**
 * The halo depth T that pel_dgrid_stencil_apply() uses for @p stencil,
 * @p nsteps and @p halo_steps (0 = the model's choice) on this grid, into
 * *@p chosen. Collective (the first call measures the model).
 * Errors as pel_dgrid_stencil_apply() for grid, stencil and the radius.
 */
PEL_API pel_status pel_dgrid_halo_steps(pel_dgrid *grid, const pel_stencil *stencil, size_t nsteps,
                                        size_t halo_steps, size_t *chosen);

/** The measured inputs of the halo-depth model (equal on every rank). */
typedef struct pel_dgrid_model {
    double latency_seconds;   /**< one-way time of a small message: the median
                                   ping-pong, or the median 8-byte allreduce
                                   per tree level (a round all ranks join,
                                   which sees late ranks) when larger */
    double bandwidth_bytes;   /**< bytes per second of a large message (median) */
    double seconds_per_point; /**< one step of a 7-point star, double, on a box
                                   larger than the caches, per point (the
                                   slowest rank's) */
    double seconds_per_point_blocked; /**< the same box advanced 8 steps at once
                                           (pel's temporal blocking), per point
                                           and step */
} pel_dgrid_model;

/**
 * The grid's model inputs, measured on first use (ping-pong between ranks 0
 * and 1 of the grid's communicator, 8 bytes and 1 MiB, medians; a 1-step and
 * an 8-step sweep of a 7-point star on a 96^3 box, best of 3, the slowest
 * rank's), into *@p model. The halo depth T minimises the modelled time per
 * step (one exchange latency per cut axis and the halo bytes over the
 * bandwidth, every T steps, plus the grown box's update at
 * sb + (s1 - sb)/T per point, s1 and sb the two sweep rates).
 * Collective. Errors: grid not live, model NULL.
 */
PEL_API pel_status pel_dgrid_model_get(pel_dgrid *grid, pel_dgrid_model *model);

/** What the last pel_dgrid_stencil_apply() on a grid did on this rank. */
typedef struct pel_dgrid_stats {
    size_t halo_steps;       /**< T used */
    size_t exchanges;        /**< halo exchanges (one per T steps, plus one for the rhs) */
    double halo_bytes;       /**< bytes this rank sent per exchange */
    double exchange_seconds; /**< time in the exchanges (packing, messages, unpacking) */
    double total_seconds;    /**< time of the whole call */
    size_t overlapped_blocks; /**< blocks whose interior update ran while the first cut axis's halo messages flew */
} pel_dgrid_stats;

/** Copies the last apply's statistics on this rank into *@p stats. Local.
 *  Errors: grid not live, stats NULL. */
PEL_API pel_status pel_dgrid_last_stats(const pel_dgrid *grid, pel_dgrid_stats *stats);

/**
 * Distributed twin of pel_stencil_jacobi_poisson(): solves -Laplace(u) = f
 * on the grid (its precision, ndim, dims and faces) with spacings @p spacing
 * (ndim entries) by Jacobi iteration; @p u and @p f are this rank's boxes.
 * Each block of @p check_interval (0 = 50) steps runs through
 * pel_dgrid_stencil_apply() (automatic halo depth), then the relative
 * residual max|f + Laplace_h(u)| / max|f| is reduced over the ranks with
 * MPI_MAX (a max is exact and order-free), so the iterations and residual
 * are identical to the single-process solver. Returns PEL_OK when converged,
 * PEL_ERROR_NOT_CONVERGED (u holds the last iterate) otherwise; *iterations
 * and *residual (optional) as there. Collective. Errors: as
 * pel_stencil_jacobi_poisson() and pel_dgrid_stencil_apply(), and tolerance,
 * max_iterations, check_interval or spacing differing between ranks.
 */
PEL_API pel_status pel_dgrid_jacobi_poisson(pel_dgrid *grid, const double *spacing, void *u, const void *f,
                                            double tolerance, size_t max_iterations, size_t check_interval,
                                            size_t *iterations, double *residual);

/**
 * Reproducible global sum of a vector distributed in contiguous blocks over
 * the ranks of @p comm in rank order (rank 0 holds the first @p n elements,
 * rank 1 the next, ...; any n per rank, 0 included). The result, on every
 * rank, has the bits of pel_reduce_sum() on the whole vector in one process,
 * for every process and thread count: pel's fixed blocks of
 * PEL_REDUCE_BLOCK elements are global, a block split between ranks is
 * completed by shipping its elements (not partial sums) to the rank holding
 * its start, and the fixed pairwise tree over all blocks is evaluated
 * globally (each rank sends the roots of its complete subtrees to rank 0,
 * which finishes the tree and broadcasts the result). Collective.
 * Errors: MPI not ready, comm MPI_COMM_NULL, x NULL with n > 0, result NULL,
 * PEL_ERROR_OVERFLOW for a global length over size_t, out of memory.
 */
PEL_API pel_status pel_mpi_reduce_sum(MPI_Comm comm, const double *x, size_t n, double *result);

/** Reproducible global dot product of two vectors distributed alike (see
 *  pel_mpi_reduce_sum()); the bits of pel_ddot() on the whole vectors.
 *  Collective. Errors as pel_mpi_reduce_sum(), and y NULL with n > 0. */
PEL_API pel_status pel_mpi_dot(MPI_Comm comm, const double *x, const double *y, size_t n, double *result);

/**
 * Reproducible global Euclidean norm (distributed as in
 * pel_mpi_reduce_sum()), safe from overflow and underflow. Each global block
 * contributes its pel_dnrm2() value v, kept as a scaled square (v*2^-e)^2 with
 * the power-of-two exponent e of v, and the blocks are joined in the fixed
 * pairwise tree on a common scale. The bits are the same for every process
 * and thread count; they may differ from pel_dnrm2() on the whole vector in
 * the last bit or two (the block's square is rounded once more), which is
 * the documented fixed order. Collective. Errors as pel_mpi_reduce_sum().
 */
PEL_API pel_status pel_mpi_nrm2(MPI_Comm comm, const double *x, size_t n, double *result);

/* BEGIN distributed FFT block (issue 14) */

/**
 * Distributed FFT (FFTW-MPI), slab decomposition. A 2-D or 3-D grid of
 * dims n0 x n1 (x n2), row-major, is cut over the ranks of a communicator
 * along its first axis as FFTW-MPI lays it out: rank r owns the slab of
 * local_n rows starting at local_start (pel_mpi_fft_layout()); FFTW's block
 * is ceil(n0 / ranks), so the last ranks may own fewer rows or none.
 *
 * Layouts. c2c: input and output are local_n x n1 (x n2) complex values.
 * r2c / c2r (dims is the real shape): the complex side is local_n x n1 x
 * (n2/2+1) (2-D: local_n x (n1/2+1)); the real side is always padded to
 * 2*(n_last/2+1) reals in its last axis, in place and out of place alike
 * (FFTW-MPI's layout). With PEL_MPI_FFT_TRANSPOSED_OUT a forward plan
 * leaves its output with the first two axes swapped and cut along the
 * second global axis: local_n1 x n0 (x n2) (2-D r2c: local (n1/2+1) rows
 * x n0), which saves one global transpose; a backward plan made with
 * PEL_MPI_FFT_TRANSPOSED_IN takes exactly that layout as its input, so a
 * forward-backward pair saves two. pel_mpi_fft_layout() gives the local
 * shapes and offsets of both sides, and pel_mpi_fft_local_alloc() allocates
 * an array big enough for either side with the extra room FFTW-MPI needs.
 *
 * Pencils (3-D only; c2c, r2c and c2r). With PEL_MPI_FFT_PENCIL, or
 * automatically when the communicator has more ranks than n0 (where slabs
 * would leave ranks empty) unless PEL_MPI_FFT_SLAB is given, pel cuts the
 * grid over a p0 x p1 process grid (p0 * p1 = ranks, near square, fewest
 * empty pencils; rank = r0 * p1 + r1) and transforms it with FFTW's serial
 * 1-D transforms and all-to-alls inside the grid's rows and columns. Every
 * local array is a box of the global grid stored in the global axis order:
 * z-pencils (natural layout) hold block r0 of n0 x block r1 of n1 x all n2;
 * x-pencils (the TRANSPOSED_OUT output, TRANSPOSED_IN input) hold all n0 x
 * block r0 of n1 x block r1 of n2. Blocks are balanced (the first n % p
 * get one more point; a rank may hold none). The natural layout costs four
 * all-to-alls, the transposed pair two each way. r2c / c2r: the complex
 * side is the half spectrum n0 x n1 x (n2/2+1) in the same pencils, the
 * real side a z-pencil with rows padded to 2*(n2/2+1) reals. The layout's
 * in_starts / out_starts give the box's first point, in_dims / out_dims its
 * shape; pencil plans only read their input (c2r included), in place or
 * not, and use two work arrays of their own.
 *
 * Normalisation as pel's FFT layer (pel_fft_norm); signs as pel_fft_direction.
 * Arrays must be aligned to 16 bytes (FFTW's SIMD alignment); arrays from
 * pel_mpi_fft_local_alloc() or pel_malloc() are.
 *
 * Plans: FFTW-MPI plans are cached per (communicator, kind, precision,
 * dims, direction, placement, flags, effort, threads): a second
 * pel_mpi_fft_plan_create() with the same key shares the first one's FFTW
 * plan without planning (MEASURE planning is collective and slow). The
 * cache is keyed by the communicator's identity (an MPI attribute), never
 * by its handle's value, and its entries for a communicator are dropped
 * when that communicator is freed, and all of them at MPI_Finalize. pel
 * calls fftw_mpi_init() once, after FFTW's threads are initialised, and
 * plans under the planner lock of pel's serial FFT layer, so that other
 * threads may plan serial FFTs meanwhile.
 *
 * Collective in failure: plan creation, execution and destruction are
 * collective over the plan's communicator, and fail on every rank alike
 * (see the file comment). Precision, kind, dims, direction, flags and
 * placement must agree between ranks; a plan of another shape or another
 * communicator on one rank is a clear error, not a hang.
 */
typedef struct pel_mpi_fft_plan pel_mpi_fft_plan;

/** Flags of pel_mpi_fft_options.flags. */
enum {
    PEL_MPI_FFT_TRANSPOSED_OUT = 1, /**< forward: output local_n1 x n0 (x n2) (FFTW_MPI_TRANSPOSED_OUT) */
    PEL_MPI_FFT_TRANSPOSED_IN = 2,  /**< backward: input in the TRANSPOSED_OUT layout (FFTW_MPI_TRANSPOSED_IN) */
    PEL_MPI_FFT_DESTROY_INPUT = 4,  /**< out of place: the input may be used as scratch (FFTW's fastest choice) */
    PEL_MPI_FFT_SLAB = 8,           /**< force FFTW-MPI's slabs (never chosen pencils) */
    PEL_MPI_FFT_PENCIL = 16         /**< force pel's pencils (3-D c2c only) */
};

/** Options of pel_mpi_fft_plan_create(); zeroed means ESTIMATE, pel's
 *  thread count, backward normalisation, natural layouts, input kept. */
typedef struct pel_mpi_fft_options {
    pel_fft_effort effort; /**< planner effort (WISDOM_ONLY included) */
    int nthreads;          /**< threads of the local transforms; 0 = pel_get_num_threads() */
    pel_fft_norm norm;     /**< normalisation */
    unsigned flags;        /**< PEL_MPI_FFT_* flags */
} pel_mpi_fft_options;

/** This rank's part of a distributed transform. Shapes are in elements of
 *  each side (reals on a real side, complex values on a complex side). */
typedef struct pel_mpi_fft_layout {
    int ndim;            /**< 2 or 3 */
    size_t in_dims[3];   /**< shape of this rank's input array (padded real side included) */
    size_t in_start;     /**< global index of its first row along the global axis it is cut on */
    int in_axis;         /**< that global axis: 0, or 1 for a TRANSPOSED_IN input (pencils: the first cut axis) */
    size_t out_dims[3];  /**< shape of this rank's output array */
    size_t out_start;    /**< global index of the output's first row */
    int out_axis;        /**< 0, or 1 for a TRANSPOSED_OUT output */
    size_t alloc_bytes;  /**< bytes each array needs (FFTW-MPI's local size, >= either side) */
    int decomposition;   /**< PEL_MPI_FFT_SLAB or PEL_MPI_FFT_PENCIL: the one this plan uses */
    int grid[2];         /**< the process grid: slabs N x 1, pencils p0 x p1 (rank = r0 * p1 + r1) */
    size_t in_starts[3]; /**< global index of the input array's first element along each of its axes
                              (slabs: [in_start, 0, 0], TRANSPOSED slabs store axes 1 and 0 first) */
    size_t out_starts[3]; /**< the same for the output array */
} pel_mpi_fft_layout;

/**
 * Creates a distributed plan for one transform of shape @p dims
 * (@p ndim = 2 or 3) over @p comm. @p kind c2c, r2c (direction
 * PEL_FFT_FORWARD) or c2r (PEL_FFT_BACKWARD); @p in_place nonzero for
 * in == out. @p options may be NULL. Planning runs on scratch arrays. The
 * first axis may have fewer points than there are ranks (ranks past the
 * end own empty slabs; with TRANSPOSED_OUT the same holds for the second
 * axis). Collective. Errors (PEL_ERROR_INVALID_ARGUMENT unless said): MPI
 * not ready, comm MPI_COMM_NULL (on that rank alone), plan NULL, unknown
 * kind / precision / direction / effort / norm / flags, ndim not 2 or 3,
 * dims NULL or zero, a wrong direction for r2c/c2r, TRANSPOSED_OUT on a
 * backward plan or TRANSPOSED_IN on a forward one, DESTROY_INPUT in place,
 * PEL_MPI_FFT_PENCIL with ndim 2 or together with PEL_MPI_FFT_SLAB,
 * negative nthreads, any of these differing between ranks;
 * PEL_ERROR_OVERFLOW; PEL_ERROR_OUT_OF_MEMORY; PEL_ERROR_UNSUPPORTED
 * (WISDOM_ONLY without wisdom; a pencil exchange past MPI's int counts);
 * PEL_ERROR_BACKEND (FFTW-MPI or FFTW refused).
 * On error *plan is set to NULL.
 */
PEL_API pel_status pel_mpi_fft_plan_create(MPI_Comm comm, pel_fft_kind kind, pel_precision precision, int ndim,
                                           const size_t *dims, pel_fft_direction direction, int in_place,
                                           const pel_mpi_fft_options *options, pel_mpi_fft_plan **plan);

/** Frees a plan; NULL is ignored. Its FFTW-MPI plan stays in the cache
 *  until the communicator is freed, pel_mpi_fft_cache_clear() or
 *  MPI_Finalize; when it is no longer cached it is destroyed here, which
 *  FFTW counts as collective: destroy plans on every rank alike. After
 *  MPI_Finalize only pel's memory is freed. A plan destroyed twice, or a
 *  foreign pointer, is not touched (message recorded). */
PEL_API void pel_mpi_fft_plan_destroy(pel_mpi_fft_plan *plan);

/** This rank's layout of @p plan into *@p layout. Local. Errors: plan not
 *  live, layout NULL. */
PEL_API pel_status pel_mpi_fft_layout_get(const pel_mpi_fft_plan *plan, pel_mpi_fft_layout *layout);

/** Allocates alloc_bytes (pel_mpi_fft_layout) for this rank, zeroed on
 *  pel's threads; free with pel_free(). Local. Errors: plan not live,
 *  buffer NULL, out of memory; *buffer is set to NULL on error. */
PEL_API pel_status pel_mpi_fft_local_alloc(const pel_mpi_fft_plan *plan, void **buffer);

/**
 * Runs @p plan on this rank's arrays (layouts of pel_mpi_fft_layout_get()).
 * Out of place, @p in is kept unless the plan has PEL_MPI_FFT_DESTROY_INPUT.
 * Collective. Errors: plan not live; in or out NULL or not 16-byte aligned;
 * in != out for an in-place plan, or overlapping arrays out of place;
 * ranks holding plans of different kind, precision, dims, direction,
 * flags or communicator size (each rank names what differs). @p out is
 * untouched on error.
 */
PEL_API pel_status pel_mpi_fft_execute(const pel_mpi_fft_plan *plan, void *in, void *out);

/** Drops the cached FFTW-MPI plans no live plan uses. Collective over
 *  every communicator with cached plans (call it on every rank alike);
 *  not needed before MPI_Finalize. */
PEL_API void pel_mpi_fft_cache_clear(void);

/** Cached FFTW-MPI plans on this rank, and calls that found theirs. */
PEL_API void pel_mpi_fft_cache_stats(size_t *entries, size_t *hits);

/* pel_spectral_symbol: see pel/fft.h. */

/** A distributed periodic Poisson / Helmholtz solver; opaque. */
typedef struct pel_mpi_spectral pel_mpi_spectral;

/**
 * Creates a solver of shift*u - Laplace(u) = f on the periodic box of side
 * lengths @p lengths (ndim entries, > 0) sampled at @p dims points
 * (x_j = j * L / n), double or float by @p precision, over @p comm: an r2c
 * plan with TRANSPOSED_OUT and a c2r plan with TRANSPOSED_IN, both in
 * place, on pel's cache. The division by the symbol and the 1/N of the
 * inverse transform are one pass over the transposed spectrum, between the
 * two transforms: no global transpose and no other pass. @p options may be
 * NULL (effort and nthreads are used; norm and flags are pel's). Collective.
 * Errors: as pel_mpi_fft_plan_create(), lengths NULL / not finite and
 * positive / differing between ranks, unknown symbol; *solver set to NULL.
 */
PEL_API pel_status pel_mpi_spectral_create(MPI_Comm comm, pel_precision precision, int ndim, const size_t *dims,
                                           const double *lengths, pel_spectral_symbol symbol,
                                           const pel_mpi_fft_options *options, pel_mpi_spectral **solver);

/** Frees a solver; NULL is ignored. Local. */
PEL_API void pel_mpi_spectral_destroy(pel_mpi_spectral *solver);

/** This rank's real layout (in_dims: local_n x ... x padded last axis,
 *  in_start the first row) and the bytes to allocate. Local. */
PEL_API pel_status pel_mpi_spectral_layout(const pel_mpi_spectral *solver, pel_mpi_fft_layout *layout);

/**
 * Solves shift*u - Laplace(u) = f in place: @p field holds this rank's slab
 * of f (layout of pel_mpi_spectral_layout(), padding ignored) and receives
 * u. @p shift >= 0; shift = 0 is Poisson, whose zero mode is undetermined:
 * pel returns the solution of zero mean (f's mean is dropped, as a periodic
 * Poisson problem needs). Collective. Errors: solver not live, field NULL or
 * not 16-byte aligned, shift negative or not finite or differing between
 * ranks. @p field is untouched on error.
 */
PEL_API pel_status pel_mpi_spectral_solve(const pel_mpi_spectral *solver, double shift, void *field);

/* END distributed FFT block */
/* ------------------------------------------------ distributed CSR (pel_dcsr) */

/** A sparse matrix whose rows are split over the ranks of a communicator in
 *  contiguous blocks (rank 0 the first rows), each rank holding its rows
 *  with global column indices; x and y are distributed the same way (rank
 *  r holds the block of x of its column range, the block of y of its row
 *  range). Immutable after creation; its calls are collective and use MPI
 *  from the calling thread only (one thread per rank). */
typedef struct pel_dcsr pel_dcsr;

/**
 * Creates a distributed matrix from each rank's @p local_rows rows (the
 * rows of the ranks before it come first): @p row_ptr, @p col_idx and
 * @p values as for pel_csr_create() (copied; any order within a row,
 * duplicates summed in the order given, explicit zeros kept), with global
 * column indices in [0, global_cols), global_cols being the sum of every
 * rank's @p local_cols (the rank's block of x, in rank order; pass
 * local_cols = local_rows for a square matrix distributed like its rows).
 * The caller's row blocks are the split (any, empty ranks included).
 * At creation pel finds the ghost columns (columns of the rank's rows owned
 * by other ranks) and their owners, and builds the scatter plan (persistent
 * MPI requests) that pel_dcsr_spmv() starts on every call.
 *
 * Collective. Errors (every rank returns the same status and message,
 * "pel_dcsr_create: rank R of N: ...", naming the lowest failing rank):
 * MPI not ready; comm MPI_COMM_NULL; out NULL; precision unknown; any
 * check of pel_csr_create() on the rank's rows against global_cols
 * (row_ptr, col_idx out of range, NULL arrays, duplicates overflowing);
 * precision differing between ranks; PEL_ERROR_UNSUPPORTED for global_cols
 * over PEL_CSR_MAX_COLS or a rank's block over INT_MAX entries;
 * PEL_ERROR_OVERFLOW; PEL_ERROR_OUT_OF_MEMORY. On error *out is set to
 * NULL (when out is not NULL).
 */
PEL_API pel_status pel_dcsr_create(MPI_Comm comm, pel_precision precision, size_t local_rows, size_t local_cols,
                                   const size_t *row_ptr, const size_t *col_idx, const void *values,
                                   pel_dcsr **out);

/**
 * Distributes the serial matrix @p matrix (significant on @p root only)
 * over the ranks of @p comm: rank r gets rows row_starts[r] ..
 * row_starts[r+1]-1, @p row_starts (comm size + 1 entries, significant on
 * the root only) being the caller's split, or NULL on the root for pel's
 * split: contiguous blocks balanced by nonzeros (each row weighing its
 * entries plus 2, as the serial SpMV's partition; ranks past the rows get
 * none). The columns (x) are split like the rows for a square matrix, in
 * even blocks (the pel_dgrid rule: n/p, one more for the first n mod p
 * ranks) otherwise. Collective. Errors: as pel_dcsr_create(), and root out
 * of range or differing between ranks, matrix not a live pel_csr on the
 * root, row_starts not starting at 0, decreasing or not ending at the row
 * count. On error *out is set to NULL.
 */
PEL_API pel_status pel_dcsr_distribute(MPI_Comm comm, int root, const pel_csr *matrix, const size_t *row_starts,
                                       pel_dcsr **out);

/**
 * Reads a Matrix Market file on rank 0 of @p comm with pel_csr_read_mtx()
 * (the same validation, statuses and messages, "rank 0 of N: ..."; @p path
 * and @p precision are significant on rank 0 only) and distributes it as
 * pel_dcsr_distribute() with pel's split balanced by nonzeros. Collective.
 * On error *out is set to NULL.
 */
PEL_API pel_status pel_dcsr_read_mtx(MPI_Comm comm, const char *path, pel_precision precision, pel_dcsr **out);

/** Destroys a distributed matrix (frees its requests and communicator:
 *  collective while MPI runs; after MPI_Finalize only the memory is freed).
 *  NULL is ignored. */
PEL_API void pel_dcsr_destroy(pel_dcsr *matrix);

/** This rank's view of a distributed matrix (pel_dcsr_info()). */
typedef struct pel_dcsr_layout {
    size_t global_rows, global_cols;
    size_t row_start, local_rows; /**< this rank's rows (and block of y) */
    size_t col_start, local_cols; /**< this rank's block of x */
    size_t local_nnz;             /**< stored entries of this rank's rows */
    size_t ghost_cols;            /**< distinct columns owned by other ranks */
    size_t send_count;            /**< x values this rank sends per product */
    int neighbours;               /**< ranks this rank receives from */
} pel_dcsr_layout;

/** Copies this rank's layout of @p matrix into *@p layout. Local.
 *  Errors: matrix not a live pel_dcsr, layout NULL. */
PEL_API pel_status pel_dcsr_info(const pel_dcsr *matrix, pel_dcsr_layout *layout);

/**
 * y_local = alpha*A*x + beta*y_local on this rank's rows: @p x_local is the
 * rank's block of x (local_cols elements), @p y_local its block of y
 * (local_rows), of the matrix's precision (alpha and beta converted to
 * float for a float matrix). The ghost exchange (persistent requests) is
 * started, the rows' leading entries in the rank's own columns are summed
 * while it travels, then the rows are finished once the ghosts arrived.
 * Every row is summed left to right in increasing global column order,
 * starting from 0.0 (a row's sum is only ever continued, never split and
 * joined), so y has the bits of pel_csr_spmv() on the whole matrix in one
 * process, for every process count, split and thread count. beta = 0 and
 * alpha = 0 behave as in pel_csr_spmv() (with alpha = 0 nothing is
 * exchanged).
 *
 * Collective (one agreement step, then the exchange). Errors (y unchanged
 * on every rank): matrix not live; x_local NULL (local_cols > 0); y_local
 * NULL (local_rows > 0); x_local and y_local overlapping; alpha or beta
 * differing between ranks.
 */
PEL_API pel_status pel_dcsr_spmv(pel_dcsr *matrix, double alpha, const void *x_local, double beta,
                                 void *y_local);

#ifdef __cplusplus
}
#endif

#endif
