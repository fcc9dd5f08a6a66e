/* The thread policy: how many threads a pel kernel uses, and how OpenBLAS and
 * FFTW are kept within that count.
 *
 * Every query here is a handful of loads (atomics, thread-locals and
 * omp_in_parallel()), never a system call, because kernels ask on every call. */
#include "config.h"

#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>
#include <fftw3.h>

#include "core/env.h"
#include "core/error.h"
#include "core/threads.h"

static atomic_int global_threads;       /* 0: follow the default */
static int environment_threads;         /* PEL_NUM_THREADS, 0 when unset or refused */
static atomic_size_t min_work = PEL__MIN_WORK_DEFAULT;
static size_t environment_min_work;     /* PEL_MIN_WORK_PER_THREAD, 0 when unset or refused */
static atomic_int forked_child;
static _Thread_local int local_threads; /* 0: no override on this thread */

/* The thread budget. budget_setting: PEL_THREAD_BUDGET_DEFAULT, 0 (off) or a
 * count; budget_default: PEL_THREAD_BUDGET or the core count, fixed at load.
 * budget_in_use counts the threads of the pel teams running now, calling
 * threads included, for kernels large enough to want more than one thread
 * (tiny kernels never touch the shared counter). budget_generation changes in a forked
 * child, so that a team begun in the parent before fork() gives nothing back
 * in the child, which starts with an empty count. No lock: nothing to reset
 * or to deadlock on after fork(). */
static atomic_int budget_setting = PEL_THREAD_BUDGET_DEFAULT;
static int budget_default = 1;
static atomic_int budget_in_use;
static atomic_uint budget_generation;
static _Thread_local int thread_held; /* threads the calling thread's teams hold */

static pel_status parse_threads(const char *text, void *out)
{
    return pel__env_parse_threads(text, out);
}

static pel_status parse_budget(const char *text, void *out)
{
    return pel__env_parse_budget(text, out);
}

static pel_status parse_min_work(const char *text, void *out)
{
    return pel__env_parse_min_work(text, out);
}

static void mark_forked_child(void)
{
    atomic_store(&forked_child, 1);
    /* The parent's teams do not exist here: start the budget empty. */
    atomic_store(&budget_in_use, 0);
    atomic_fetch_add(&budget_generation, 1);
    thread_held = 0; /* this handler runs on the thread that forked */
}

/* Runs when libpel is loaded, before any fork can happen that pel must know
 * about. Reading the environment here keeps getenv() off the hot path. */
__attribute__((constructor)) static void pel_core_load(void)
{
    int threads = 0, budget = PEL_THREAD_BUDGET_DEFAULT;
    size_t work = 0;

    pel__env_read("PEL_NUM_THREADS", parse_threads, &threads);
    pel__env_read("PEL_MIN_WORK_PER_THREAD", parse_min_work, &work);
    pel__env_read("PEL_THREAD_BUDGET", parse_budget, &budget);
    environment_threads = threads;
    environment_min_work = work;
    if (work > 0)
        atomic_store(&min_work, work);
    budget_default = omp_get_num_procs();
    if (budget_default < 1)
        budget_default = 1;
    if (budget >= 0)
        budget_default = budget;
    pthread_atfork(NULL, NULL, mark_forked_child);
}

int pel_in_forked_child(void)
{
    return atomic_load_explicit(&forked_child, memory_order_relaxed);
}

pel_status pel_set_num_threads(int nthreads)
{
    if (nthreads < 0 || nthreads > PEL_MAX_THREADS)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "nthreads=%d is not in 0..%d (0 restores the default)", nthreads,
                        PEL_MAX_THREADS);
    atomic_store(&global_threads, nthreads);
    return PEL_OK;
}

pel_status pel_set_num_threads_local(int nthreads)
{
    if (nthreads < 0 || nthreads > PEL_MAX_THREADS)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "nthreads=%d is not in 0..%d (0 removes the override)", nthreads,
                        PEL_MAX_THREADS);
    local_threads = nthreads;
    return PEL_OK;
}

int pel_get_num_threads_local(void)
{
    return local_threads;
}

int pel_get_num_threads(void)
{
    int n;

    if (pel_in_forked_child() || omp_in_parallel())
        return 1;
    n = local_threads;
    if (n <= 0)
        n = atomic_load_explicit(&global_threads, memory_order_relaxed);
    if (n <= 0)
        n = environment_threads;
    if (n <= 0)
        n = omp_get_max_threads();
    if (n > PEL_MAX_THREADS)
        n = PEL_MAX_THREADS; /* OMP_NUM_THREADS is OpenMP's to check; keep pel's bound */
    return n > 0 ? n : 1;
}

pel_status pel_set_min_work_per_thread(size_t work_units)
{
    if (work_units == 0)
        work_units = environment_min_work > 0 ? environment_min_work : PEL__MIN_WORK_DEFAULT;
    atomic_store(&min_work, work_units);
    return PEL_OK;
}

size_t pel_get_min_work_per_thread(void)
{
    return atomic_load_explicit(&min_work, memory_order_relaxed);
}

int pel_threads_for_work(size_t work_units)
{
    int nthreads = pel_get_num_threads();
    size_t cutoff = pel_get_min_work_per_thread();
    size_t useful = work_units / cutoff;

    if (useful < 1)
        return 1;
    return useful < (size_t)nthreads ? (int)useful : nthreads;
}

/* ------------------------------------------------------------ the budget */

pel_status pel_set_thread_budget(int nthreads)
{
    if (nthreads < PEL_THREAD_BUDGET_DEFAULT || nthreads > PEL_MAX_THREADS)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                        "nthreads=%d is not in 0..%d (0 turns the budget off, %d restores the default)", nthreads,
                        PEL_MAX_THREADS, PEL_THREAD_BUDGET_DEFAULT);
    atomic_store(&budget_setting, nthreads);
    return PEL_OK;
}

int pel_get_thread_budget(void)
{
    int setting = atomic_load_explicit(&budget_setting, memory_order_relaxed);

    return setting == PEL_THREAD_BUDGET_DEFAULT ? budget_default : setting;
}

int pel_get_thread_budget_in_use(void)
{
    return atomic_load_explicit(&budget_in_use, memory_order_relaxed);
}

int pel__team_take(pel__team *team, int wanted)
{
    int budget, mine, current;

    if (wanted <= team->threads)
        return wanted < 1 ? 1 : wanted; /* already held (or a team of one) */
    budget = pel_get_thread_budget();
    if (budget == 0) {
        /* Off: the full count, nothing counted (a release gives back only
         * what was counted, so switching the budget mid-run is safe). */
        team->threads = wanted;
        return wanted;
    }
    /* Teams this thread already holds (a kernel inside a kernel's serial
     * part, e.g. an FFT inside a convolution) have their workers idle while
     * this thread runs: a nested team reuses them before taking more. */
    mine = thread_held;
    if (wanted <= mine) {
        team->threads = wanted;
        return wanted;
    }
    if (team->held == 0)
        team->generation = atomic_load_explicit(&budget_generation, memory_order_relaxed);
    current = atomic_load_explicit(&budget_in_use, memory_order_relaxed);
    for (;;) {
        /* Alone (no other thread holds anything) a team gets all it asks
         * for, so the budget never cuts a lone caller's explicit count; else
         * it gets what is left, never waiting. A kernel that wanted a team
         * but runs on its calling thread alone still counts that thread, so
         * that callers busy in large kernels are seen by the others (tiny
         * kernels, which want one thread, never get here). */
        int want = wanted - mine;
        int take = current - mine <= 0 ? want : budget - current < want ? budget - current : want;
        if (take < 1 && mine == 0)
            take = 1;
        if (take <= 0)
            break;
        if (atomic_compare_exchange_weak_explicit(&budget_in_use, &current, current + take, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            team->held += take;
            thread_held += take;
            if (mine + take > team->threads)
                team->threads = mine + take;
            break;
        }
    }
    return team->threads < wanted ? team->threads : wanted;
}

void pel__team_release(pel__team *team)
{
    /* A team begun before fork() holds nothing in the child's fresh count. */
    if (team->held > 0 && team->generation == atomic_load_explicit(&budget_generation, memory_order_relaxed)) {
        atomic_fetch_sub_explicit(&budget_in_use, team->held, memory_order_relaxed);
        thread_held -= team->held;
    }
    team->held = 0;
    team->threads = 1;
}

/* ------------------------------------------------------------ backends */

static pthread_once_t backends_once = PTHREAD_ONCE_INIT;
static char backend_description[160];

static void backends_init_once(void)
{
    int parallel = openblas_get_parallel();
    const char *model = parallel == 2 ? "OpenMP build" : parallel == 1 ? "pthreads build" : "serial build";

    /* FFTW's threads must be initialised once before any plan is made;
     * pel's FFT layer calls fftw_plan_with_nthreads() under its planning lock. */
    fftw_init_threads();
    fftwf_init_threads();
    snprintf(backend_description, sizeof backend_description, "%s (%s), %s (%s threads)",
             openblas_get_config(), model, fftw_version,
#ifdef PEL_FFTW_OPENMP
             "OpenMP"
#else
             "POSIX"
#endif
    );
}

void pel__backends_init(void)
{
    pthread_once(&backends_once, backends_init_once);
}

const char *pel_backend_info(void)
{
    pel__backends_init();
    return backend_description;
}

void pel__blas_enter(pel__blas_scope *scope, int nthreads)
{
    scope->saved_omp_threads = omp_get_max_threads();
    scope->team = (pel__team)PEL__TEAM_INIT;
    /* OpenBLAS's team draws from the thread budget like pel's own. */
    nthreads = pel__team_take(&scope->team, nthreads < 1 ? 1 : nthreads);
    /* Only this thread's OpenMP setting changes; leave restores it. */
    if (nthreads != scope->saved_omp_threads)
        omp_set_num_threads(nthreads);
}

void pel__blas_leave(pel__blas_scope *scope)
{
    pel__team_release(&scope->team);
    if (omp_get_max_threads() != scope->saved_omp_threads)
        omp_set_num_threads(scope->saved_omp_threads);
}
