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

#ifdef __cplusplus
}
#endif

#endif
