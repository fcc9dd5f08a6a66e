/* Internals of libpel_mpi shared by its files: the readiness check, the
 * agreement step that makes a collective call fail on every rank alike, and
 * the grid object. */
#ifndef PEL_MPI_INTERNAL_H
#define PEL_MPI_INTERNAL_H

#include <stddef.h>

#include "pel/mpi.h"
#include "core/handle.h"

/* A scalar that must be equal on every rank, with its name for the message. */
typedef struct pel__mpi_same {
    const char *name;
    double value;
} pel__mpi_same;

/* Local check that MPI is initialised, not finalised, at
 * MPI_THREAD_FUNNELED or above, and that the caller is the main thread.
 * Records the message for `function` and returns the error otherwise. */
pel_status pel__mpi_ready(const char *function);

/* The agreement step of every collective call: one MPI_Allreduce over comm
 * of the local status and of the `same` scalars. When some rank failed, the
 * lowest failing rank broadcasts its status and message and every rank
 * records "function: rank R of N: <message>"; when a `same` value differs
 * between ranks every rank records that. Returns the agreed status. */
pel_status pel__mpi_agree(MPI_Comm comm, const char *function, pel_status local, const pel__mpi_same *same,
                          int nsame);

/* A process-wide list of live objects of one kind (grids, FFT plans), so
 * that a rank handed a bad handle can still join the agreement when only one
 * object could be meant. Used from the main thread only (MPI_THREAD_FUNNELED),
 * so no lock. */
typedef struct pel__mpi_live {
    void **items;
    size_t count, capacity;
} pel__mpi_live;

/* Adds item; returns 0 when the list cannot grow. */
int pel__mpi_live_add(pel__mpi_live *list, void *item);

/* Removes item (if present); frees the list's memory when it empties. */
void pel__mpi_live_remove(pel__mpi_live *list, const void *item);

/* 1 when item is in the list. */
int pel__mpi_live_has(const pel__mpi_live *list, const void *item);

/* Message of a local failure without its "function: " prefix. */
const char *pel__mpi_reason(const char *function);

typedef struct pel__dgrid_rate {
    int npoints;
    pel_precision precision;
    double seconds_per_point;
} pel__dgrid_rate;

/* The agreement communicator shared by the grids over one group of ranks
 * (lib/mpi/agree.c). */
typedef struct pel__dgrid_agreement pel__dgrid_agreement;

struct pel_dgrid {
    pel__handle handle; /* first member: kind PEL__HANDLE_DGRID */
    MPI_Comm comm;      /* the grid's own duplicate */
    pel__dgrid_agreement *agreement;
    int rank, size;
    pel_precision precision;
    size_t elem;
    int ndim;
    size_t dims[3];
    int pdims[3], coords[3];
    pel_boundary faces[6];
    size_t offset[3], extent[3];
    size_t owned; /* points in this rank's box */
    /* Work buffers of the distributed apply (grown on demand): two grids and
     * an rhs of the rank's box grown by its halo (work slots 0-2), message
     * buffers (slot 3), and the two scratch grids of the overlapped update
     * (slots 4, 5, kept in work[3], work[4]). */
    void *work[5];
    size_t work_bytes[5];
    void *message;
    size_t message_bytes;
    /* The halo-depth model, measured once (have_model). */
    int have_model;
    int calibrated; /* the latency was replaced by an observed exchange cost */
    pel_dgrid_model model;
    pel_dgrid_stats stats; /* of the last apply */
    double compute_seconds; /* of the last apply: time in the local updates (calibration) */
};

/* Checks a grid handle for `function`. */
pel_status pel__dgrid_check(const pel_dgrid *grid, const char *function);

/* The communicator for the agreement step of a call whose grid argument may
 * be bad on this rank: the agreement communicator of the grid's group of
 * ranks when the grid is live; for a bad handle, that of the only group this
 * rank has made grids over, else of the only group it has live grids over,
 * else MPI_COMM_NULL (the rank cannot tell which peers are waiting). */
MPI_Comm pel__dgrid_agreement_comm(const pel_dgrid *grid);

/* Gives a new grid (its comm set) the agreement communicator of its group:
 * an existing one when every rank holds the same, else a new duplicate.
 * Collective over grid->comm; fails on every rank alike. */
pel_status pel__dgrid_agreement_attach(pel_dgrid *grid, const char *fn);

/* Releases the grid's share of its agreement communicator (kept, retired,
 * for later grids over the same ranks). */
void pel__dgrid_agreement_detach(pel_dgrid *grid);

/* Start and extent along an axis of n points over p ranks for coordinate c. */
static inline void pel__dgrid_split(size_t n, int p, int c, size_t *start, size_t *count)
{
    size_t base = n / (size_t)p, extra = n % (size_t)p, uc = (size_t)c;
    *start = uc * base + (uc < extra ? uc : extra);
    *count = base + (uc < extra ? 1 : 0);
}

/* Grows work buffer `which` (0-2, 4, 5 grids; 3 the message buffers) of the
 * grid to at least `bytes` (zeroed, first touch on pel's threads); returns
 * NULL when out of memory. */
void *pel__dgrid_work(pel_dgrid *grid, int which, size_t bytes);

/* Copies a box of count[3] elements (3-D view; 1-D/2-D grids use leading
 * extents of 1) from src (dims sdims, starting at sstart) to dst (dims ddims,
 * starting at dstart), rows with memcpy, on pel's threads when large. */
void pel__box_copy(size_t elem, const void *src, const size_t *sdims, const size_t *sstart, void *dst,
                   const size_t *ddims, const size_t *dstart, const size_t *count);

/* Validation and agreement of one distributed apply, then the choice of its
 * halo depth T (collective). */
pel_status pel__dgrid_prepare(pel_dgrid *g, const char *fn, const pel_stencil *stencil, const void *local,
                              const void *rhs, size_t nsteps, size_t halo_steps, size_t *T);

/* The distributed apply after pel__dgrid_prepare(): nsteps of stencil from
 * the owned box `in` into `out` (may be the same array) with halo depth T. */
pel_status pel__dgrid_apply(pel_dgrid *g, const char *fn, const pel_stencil *stencil, const void *in, void *out,
                            const void *rhs, size_t nsteps, size_t T, const pel_stencil_blocking *blocking);

/* Whether a new pel_dcsr copies x in front of its ghosts (dcsr.c): -1
 * (default) decides from the matrix, 0 never, 1 always; tests set it to
 * cover both second-phase kernels. Read once per creation. */
PEL_API extern int pel__dcsr_copy_x;

/* Whether a new pel_dcsr sums every row in one pass after the exchange
 * (dcsr.c): -1 (default) decides from the entry counts, 0 never, 1 always
 * (which also copies x in front of the ghosts); tests set it to cover both
 * paths. Read once per creation. */
PEL_API extern int pel__dcsr_one_pass;

#endif
