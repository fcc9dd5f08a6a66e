/* Internal side of the thread policy and backend coordination. */
#ifndef PEL_CORE_THREADS_H
#define PEL_CORE_THREADS_H

#include "pel/core.h"

/* The minimum work per thread when neither the user nor the environment
 * sets one (lib/tune measures a better one for the kernels that ask it). */
enum { PEL__MIN_WORK_DEFAULT = 32768 };

/* pel_threads_for_work() with the minimum work per thread measured by the
 * machine model (lib/tune/thresholds.c) when neither the user nor the
 * environment set one; one thread, without measuring, for work below any
 * threshold the model could give. The FFT, SpMV and transpose ask it. */
int pel__tune_threads_for_work(size_t work_units);

/* The same for pel's own OpenMP kernels (no FFTW or OpenBLAS threads to
 * start): the measured minimum work per thread, bounded to 1/16 .. 1 x the
 * default (lib/tune/thresholds.c). SpMV and pel_dcsr ask it. */
PEL_API int pel__tune_threads_for_openmp_work(size_t work_units);

/* One-time, thread-safe initialisation of the backends (FFTW's threads,
 * OpenBLAS's check). Cheap after the first call. */
void pel__backends_init(void);

/* A share of the process-wide thread budget (pel_set_thread_budget), held by
 * one kernel while its parallel region runs. Every multi-threaded region in
 * pel sizes its team through pel__team_take() and gives the threads back with
 * pel__team_release(); PEL__TEAM_SCOPE makes the release automatic when the
 * enclosing block is left, by any return (GCC/clang cleanup attribute), so no
 * error path can keep threads. Taking never waits: a kernel that finds the
 * budget used up runs with what it gets, down to the calling thread alone
 * (which it still counts, so that other callers see it busy). */
typedef struct pel__team {
    int threads;         /* the team size granted so far (>= 1) */
    int held;            /* threads counted in the budget by this team */
    unsigned generation; /* budget generation when taken (fork resets it) */
} pel__team;

#define PEL__TEAM_INIT {1, 0, 0}

/* Declares `pel__team name`, released when the block that declares it ends. */
#define PEL__TEAM_SCOPE(name) pel__team name __attribute__((cleanup(pel__team_release))) = PEL__TEAM_INIT

/* Asks for a team of `wanted` threads (a count from pel_threads_for_work())
 * and returns the size granted, 1..wanted. Called again on the same team it
 * tries to grow it to the larger count and never shrinks it, so a kernel may
 * size several regions from one team. */
PEL_API int pel__team_take(pel__team *team, int wanted);

/* Gives the team's threads back to the budget; the team is then a team of
 * one again. Safe to call twice, and on a team of one. (Both are exported
 * for libpel_mpi, like pel__fail.) */
PEL_API void pel__team_release(pel__team *team);

/* Runs OpenBLAS on exactly `nthreads` threads for the calls between enter and
 * leave, and restores the calling thread's OpenMP thread count afterwards.
 * The OpenMP build of OpenBLAS sizes its team from omp_get_max_threads() of
 * the calling thread, so this is where pel's policy reaches OpenBLAS. */
typedef struct pel__blas_scope {
    int saved_omp_threads;
    pel__team team; /* OpenBLAS's threads, drawn from the budget */
} pel__blas_scope;

/* nthreads is the count the kernel wants; OpenBLAS gets what the thread
 * budget grants. leave gives the threads back: call it on every path. */
void pel__blas_enter(pel__blas_scope *scope, int nthreads);
void pel__blas_leave(pel__blas_scope *scope);

#endif
