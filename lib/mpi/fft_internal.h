/* Internals of the distributed FFT (issue 14) shared by fft.c and the
 * spectral solver: the plan object and its cache key. */
#ifndef PEL_MPI_FFT_INTERNAL_H
#define PEL_MPI_FFT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mpi/mpi_internal.h"

/* Everything that decides which FFTW-MPI plan is made; zeroed before it is
 * filled so that keys compare with memcmp(). comm_id is the communicator's
 * identity (an attribute pel stores on it), never its handle. */
typedef struct pel__mpi_fft_key {
    uint64_t comm_id;
    int kind, precision, ndim, direction, in_place, flags, effort, norm, nthreads, reserved;
    size_t dims[3];
    int decomposition; /* PEL_MPI_FFT_SLAB or PEL_MPI_FFT_PENCIL: what the plan uses */
    int grid[2];       /* pencils: the process grid p0 x p1 (rank = r0 * p1 + r1) */
} pel__mpi_fft_key;

/* The shared part of a pencil plan (pencil.c): the process grid, its row
 * and column communicators, the exchange tables and the serial FFTW plans. */
typedef struct pel__pencil pel__pencil;

struct pel_mpi_fft_plan {
    pel__handle handle; /* first member: kind PEL__HANDLE_OTHER (and in fft.c's live list) */
    pel__mpi_fft_key key;
    MPI_Comm comm;              /* pel's duplicate of the user's communicator (info's), for agreement */
    struct comm_info *info;     /* that communicator's identity, shared by its plans */
    struct cache_entry *entry;  /* the shared FFTW-MPI plan */
    void *fftw;                 /* entry's fftw_plan / fftwf_plan (slabs) */
    pel__pencil *pencil;        /* entry's pencil engine (pencils), else NULL */
    void *work[2];              /* pencils: two arrays of work_bytes, the stages' buffers */
    pel_mpi_fft_layout layout;
    size_t in_bytes, out_bytes; /* of this rank's arrays */
    size_t out_scalars;         /* reals in the output (what the normalisation scales) */
    double scale;               /* 1.0 when this direction is not normalised */
    int copies_input;           /* out-of-place c2r keeping its input: transforms a copy */
    void *copy;                 /* alloc_bytes for that copy */
};

/* pel_mpi_fft_plan_create() with the public caller's name for messages. */
pel_status pel__mpi_fft_plan_make(MPI_Comm comm, pel_fft_kind kind, pel_precision precision, int ndim,
                                  const size_t *dims, pel_fft_direction direction, int in_place,
                                  const pel_mpi_fft_options *options, pel_mpi_fft_plan **plan, const char *fn);

/* Handle check of a plan argument named `argument`. */
pel_status pel__mpi_fft_check(const pel_mpi_fft_plan *plan, const char *function, const char *argument);

/* The agreement step of a call on `plan`: the local status, the plan's key
 * (kind, precision, dims, direction, flags, placement, communicator size)
 * and `extra` scalars must agree over the plan's communicator (or that of
 * the only live plan when this rank's is bad). The communicator used goes
 * to *comm. */
pel_status pel__mpi_fft_agree_plan(const pel_mpi_fft_plan *plan, pel_status status, const char *fn,
                                   const pel__mpi_same *extra, int nextra, MPI_Comm *comm);

/* Pencils (pencil.c). The near-square p0 x p1 = nranks that leaves the
 * fewest ranks empty for the grid of k (its half spectrum for r2c/c2r). */
void pel__pencil_grid(const pel__mpi_fft_key *k, int nranks, int *p0, int *p1);

/* This rank's layout of the pencil plan k (k->grid set): in/out counts
 * and the complex values each work array needs. */
void pel__pencil_layout(const pel__mpi_fft_key *k, int rank, pel_mpi_fft_layout *layout, size_t *in_count,
                        size_t *out_count, size_t *work_count);

/* Makes the engine of k over comm (collective: splits comm into rows and
 * columns), planning its serial stages on the work arrays a and b with the
 * FFTW planner flags `flags`. On error *engine is NULL and nothing is left. */
pel_status pel__pencil_make(const pel__mpi_fft_key *k, MPI_Comm comm, void *a, void *b, unsigned flags,
                            pel__pencil **engine, const char *fn);

/* Frees an engine (its FFTW plans under the planner lock, its
 * communicators unless MPI is finalized); NULL is ignored. */
void pel__pencil_destroy(pel__pencil *engine);

/* One transform: z-pencils (x-pencils when transposed_in) in `in` to
 * z-pencils (x-pencils when transposed_out) in `out`, through the work
 * arrays a and b; in is only read (c2r included); unnormalised.
 * Collective. */
void pel__pencil_run(const pel__pencil *engine, int transposed_in, int transposed_out, const void *in, void *out,
                     void *a, void *b);

/* Runs the FFTW-MPI plan on arrays already checked, without normalising. */
void pel__mpi_fft_run(const pel_mpi_fft_plan *plan, void *in, void *out);

#endif
