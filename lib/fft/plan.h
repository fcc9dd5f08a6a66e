/* Internal side of the FFT layer: the plan description (which is also the
 * cache key), the plan object and the planner lock. */
#ifndef PEL_FFT_PLAN_H
#define PEL_FFT_PLAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/handle.h"
#include "pel/fft.h"

/* Everything that decides which FFTW plan is made. Built with
 * pel__fft_key_init() so that padding bytes are zero and two keys can be
 * compared with memcmp(). Array alignment is not in the key: each plan
 * holds one FFTW plan per alignment class (see pel_fft_plan.variants). */
typedef struct pel__fft_key {
    int kind;          /* pel_fft_kind */
    int precision;     /* pel_precision */
    int rank;          /* 1..PEL_FFT_MAX_RANK */
    int direction;     /* pel_fft_direction */
    int in_place;      /* 0 or 1 */
    int effort;        /* pel_fft_effort */
    int nthreads;      /* >= 1: threads FFTW plans with */
    int norm;          /* pel_fft_norm */
    int r2r_kinds;     /* PEL_FFT_R2R: pel_fft_r2r_kind of dimension d in bits 4d..4d+3 (fft/r2r.c); else 0 */
    int algorithm;     /* PEL__FFT_ALGORITHM_*: how an R2R key is computed (fft/dct_by_fft.c); else 0 */
    double time_limit; /* seconds, 0 = none */
    size_t howmany;
    size_t dims[PEL_FFT_MAX_RANK];
} pel__fft_key;

/* pel__fft_key.algorithm: FFTW's own r2r plans, or the DCT-II / DCT-III by
 * one n-D real FFT (fft/dct_by_fft.c). Part of the key, so that the two
 * never share a cached plan. */
enum { PEL__FFT_ALGORITHM_FFTW = 0, PEL__FFT_ALGORITHM_DCT2_BY_FFT = 1, PEL__FFT_ALGORITHM_DCT3_BY_FFT = 2 };

/* Slots of pel_fft_plan.variants: bit 0 = planned for unaligned arrays,
 * bit 1 = single-threaded twin of a multi-threaded plan (forked child or
 * inside an OpenMP parallel region). */
enum { PEL__FFT_UNALIGNED = 1, PEL__FFT_SINGLE = 2, PEL__FFT_VARIANTS = 4 };

struct pel_fft_plan {
    /* Registered (core/handle.h) only for plans handed to a user by
     * pel_fft_plan_create(); the cache's own plans never leave pel. */
    pel__handle handle;
    pel__fft_key key;
    size_t points;         /* points of one transform: product of dims */
    size_t in_bytes;       /* bytes of the whole input array (batch included) */
    size_t out_bytes;      /* bytes of the whole output array */
    size_t scale_count;    /* scalars of the output the normalisation scales */
    double scale;          /* 1.0 when the direction is not normalised */
    int copy_input;        /* multi-dimensional c2r out of place: FFTW destroys its input */
    size_t exec_headroom[2]; /* bytes FFTW may allocate executing: [0] its team, [1] one thread */
    /* FFTW plans (fftw_plan or fftwf_plan), made on first need under the
     * planner lock and published with release stores, so that execution
     * reads them without a lock. */
    _Atomic(void *) variants[PEL__FFT_VARIANTS];
    atomic_int references; /* the owner's, plus one per running one-shot call */
    /* Effort of the variants made on demand: the key's, but ESTIMATE for a
     * PEL_FFT_AUTO key (its MEASURE plans come only from the background
     * planner, never on a caller's critical path). */
    int variant_effort;
    unsigned measured;     /* variants planned with MEASURE by the background planner */
    atomic_int upgrade;    /* PEL__FFT_UPGRADE_*: whether this cached plan awaits its MEASURE twin */
    /* DCT by FFT: one scratch grid kept between calls (pel_malloc'd, freed
     * with the plan); a call takes it with an atomic exchange and puts it
     * back, so concurrent calls never share it. */
    _Atomic(void *) spare_scratch;
};

/* pel_fft_plan.upgrade. */
enum { PEL__FFT_UPGRADE_NONE = 0, PEL__FFT_UPGRADE_WANTED = 1, PEL__FFT_UPGRADE_QUEUED = 2 };

/* Validates the arguments of a plan (function names the public caller for
 * error messages) and fills key; nthreads = 0 picks automatically. */
pel_status pel__fft_key_init(pel__fft_key *key, const char *function, pel_fft_kind kind, pel_precision precision,
                             int rank, const size_t *dims, size_t howmany, pel_fft_direction direction,
                             int in_place, pel_fft_effort effort, double time_limit, int nthreads,
                             pel_fft_norm norm, size_t *in_bytes, size_t *out_bytes);

/* Checks the arrays of a transform: not NULL, aligned to their element
 * type, in == out in place, disjoint out of place. */
pel_status pel__fft_check_arrays(const pel__fft_key *key, size_t in_bytes, size_t out_bytes, const void *in,
                                 const void *out, const char *function);

/* The variant slot (PEL__FFT_UNALIGNED | PEL__FFT_SINGLE) a call on these
 * arrays from this thread runs. */
int pel__fft_variant(const pel__fft_key *key, const void *in, const void *out);

/* The automatic thread count for a transform of `points` points per
 * transform and `howmany` transforms. */
int pel__fft_auto_threads(size_t points, size_t howmany);

/* Makes a plan object for key with the FFTW plan of one variant (the others
 * come on demand); references starts at 1. */
pel_status pel__fft_plan_new(const pel__fft_key *key, int variant, const char *function, pel_fft_plan **plan);

/* Makes the MEASURE twin of a PEL_FFT_AUTO plan for the background
 * planner: the variants in the bit set `variants` (1 << slot) planned with
 * FFTW_MEASURE (and the key's time limit), others made later on demand with
 * ESTIMATE. FFTW's wisdom is left as it was before (the measurement must not
 * change fixed-effort plans made later: FFTW lets MEASURE wisdom serve
 * ESTIMATE requests). The failure test hook does not count these plannings. */
pel_status pel__fft_plan_new_measured(const pel__fft_key *key, unsigned variants, const char *function,
                                      pel_fft_plan **plan);

/* Executes plan on arrays already checked with pel__fft_check_arrays(),
 * with the variant pel__fft_variant() chose for them, after checking that
 * the memory FFTW may allocate meanwhile is there. */
pel_status pel__fft_plan_run_variant(const pel_fft_plan *plan, int variant, const void *in, void *out,
                                     const char *function);

/* pel__fft_plan_run_variant() without its headroom check, for callers that
 * checked the headroom of several executions at once (convolution). Cannot
 * fail once the variant exists and the plan neither copies its input nor
 * computes a DCT by FFT (which allocates its scratch). */
pel_status pel__fft_plan_run_prechecked(const pel_fft_plan *plan, int variant, const void *in, void *out,
                                        const char *function);

/* Bytes FFTW may allocate while executing this variant (see plan.c). */
size_t pel__fft_plan_headroom(const pel_fft_plan *plan, int variant);

/* Allocates and frees `bytes` to show that FFTW will find them: else
 * PEL_ERROR_OUT_OF_MEMORY ("FFTW may need ... to <what> this transform"). */
pel_status pel__fft_check_headroom(size_t bytes, const char *what, const char *function);

/* Drops one reference; the last one frees the plan. */
void pel__fft_plan_release(pel_fft_plan *plan);

/* The planner lock: every fftw_plan_*, fftw_destroy_plan and wisdom call of
 * the process goes under it, because FFTW's planner is not thread-safe
 * (and fftw_make_planner_thread_safe() does not cover FFTW's OpenMP build). */
PEL_API void pel__fft_planner_lock(void); /* exported for libpel_mpi (FFTW-MPI plans) */
PEL_API void pel__fft_planner_unlock(void);

/* Hash of a key for the cache's quick comparisons. */
uint64_t pel__fft_key_hash(const pel__fft_key *key);

/* Real-to-real hooks (fft/r2r.c), called by plan.c for PEL_FFT_R2R keys:
 * the FFTW planner call (dims and batch are fftw_iodim64 / fftwf_iodim64
 * arrays, planner lock held), the execution on new arrays, and the
 * normalisation factor of the key's norm. */
void *pel__fft_r2r_planner(const pel__fft_key *key, const void *dims, int batch_rank, const void *batch, void *in,
                           void *out, unsigned flags);
void pel__fft_r2r_execute(const pel__fft_key *key, void *fftw_plan_pointer, void *in, void *out);
double pel__fft_r2r_scale(const pel__fft_key *key);

/* DCT by FFT (fft/dct_by_fft.c). choose: sets key->algorithm of a valid
 * R2R key with its kinds packed (the rule: every kind DCT-II, or every kind
 * DCT-III, every size even; rank 1: n >= 256 and howmany >= 4; rank 2-3:
 * a last size >= 16 and >= 4096 points in all; the test hook can force it
 * either way). plan_bytes: bytes of the padded grid its
 * FFTW plan is made on (planning scratch, in place). planner: that plan (an
 * r2c for DCT-II, a c2r for DCT-III), planner lock held. run: the whole
 * transform with the FFTW plan of one variant, nthreads for pel's own
 * passes, the scratch taken from (and given back to) plan->spare_scratch;
 * fails (PEL_ERROR_OUT_OF_MEMORY, scratch) only before writing to out; in
 * may equal out. test_force: -1 never, 0 the rule, 1 whenever allowed. */
void pel__fft_dct_by_fft_choose(pel__fft_key *key);
size_t pel__fft_dct_by_fft_plan_bytes(const pel__fft_key *key);
void *pel__fft_dct_by_fft_planner(const pel__fft_key *key, void *grid, unsigned flags);
pel_status pel__fft_dct_by_fft_run(pel_fft_plan *plan, void *fftw_plan_pointer, const void *in, void *out,
                                   int nthreads, const char *function);
PEL_API void pel__fft_dct_by_fft_test_force(int mode);

/* Returns, with a reference the caller must release, the cached plan for
 * key (made on a miss, with the FFTW plan of `variant`). */
pel_status pel__fft_cache_acquire(const pel__fft_key *key, int variant, const char *function, pel_fft_plan **plan);

/* Builds the key of a one-shot transform: the default effort and time limit
 * of pel_fft_set_default_effort(), `nthreads` (0: automatic) and in place
 * when in_place is nonzero. */
pel_status pel__fft_oneshot_key(pel__fft_key *key, pel_fft_kind kind, pel_precision precision, int rank,
                                const size_t *dims, size_t howmany, pel_fft_direction direction,
                                pel_fft_norm norm, int in_place, int nthreads, size_t *in_bytes,
                                size_t *out_bytes, const char *function);

/* Test hook, compiled in always (one relaxed atomic load per planning when
 * off): after n more successful plannings, the next one fails with
 * PEL_ERROR_OUT_OF_MEMORY, once. n < 0 turns it off. Lets the tests check
 * that a failure part-way through a call leaves its outputs untouched. */
PEL_API void pel__fft_test_fail_plan_after(long n);

/* Replaces the cache's plan `old` by `fresh` (an upgrade landing): returns 1
 * when `old` was still cached (fresh's reference now belongs to the cache,
 * old's cache reference is dropped; calls running on old keep theirs), 0
 * when old is gone (evicted or cleared; the caller keeps fresh's
 * reference). */
int pel__fft_cache_publish(pel_fft_plan *old, pel_fft_plan *fresh);

/* Ends a one-shot call on a cached plan: asks for the plan's upgrade when
 * it wants one, then releases the call's reference. */
void pel__fft_oneshot_done(pel_fft_plan *plan);

/* Nonzero while the background planner measures under the planner lock
 * (a call that would plan a variant then waits that long). */
int pel__fft_background_planning(void);

/* Seconds since a caller (not the background planner) last planned. */
double pel__fft_seconds_since_foreground_plan(void);

/* Background planner (fft/upgrade.c): asks for the MEASURE twin of a cached
 * PEL_FFT_AUTO plan whose upgrade is PEL__FFT_UPGRADE_WANTED. Never fails
 * the caller: a full queue leaves the plan WANTED for a later hit. Call with
 * no pel lock held. */
void pel__fft_upgrade_request(pel_fft_plan *plan);

/* Test hooks of the planner: a paused planner takes no new job (so the
 * queue fills up); read_environment reads PEL_FFT_UPGRADE again and applies
 * it with pel_fft_set_upgrade_mode(), as at load. */
PEL_API void pel__fft_upgrade_test_pause(int pause);
PEL_API void pel__fft_upgrade_read_environment(void);

/* Whether upgrades are on in this process now (mode not OFF, not a forked
 * child). One relaxed load. */
int pel__fft_upgrade_enabled(void);

/* The message of pel_fft_plan_create() and pel_fft_r2r_plan_create() for
 * options->effort = PEL_FFT_AUTO. */
extern const char pel__fft_auto_refusal[];

/* Runs a one-shot transform through the cache. */
pel_status pel__fft_oneshot(pel_fft_kind kind, pel_precision precision, int rank, const size_t *dims,
                            size_t howmany, pel_fft_direction direction, pel_fft_norm norm, const void *in,
                            void *out, const char *function);

#endif
