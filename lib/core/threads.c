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

#include "core/error.h"
#include "core/threads.h"

enum { PEL_DEFAULT_MIN_WORK = 32768 };

static atomic_int global_threads;       /* 0: follow the default */
static int environment_threads;         /* PEL_NUM_THREADS, 0 when unset or invalid */
static atomic_size_t min_work = PEL_DEFAULT_MIN_WORK;
static size_t environment_min_work;     /* PEL_MIN_WORK_PER_THREAD, 0 when unset */
static atomic_int forked_child;
static _Thread_local int local_threads; /* 0: no override on this thread */

/* Parses a positive decimal integer; 0 for anything else. */
static long positive_from_environment(const char *name)
{
    const char *text = getenv(name);
    char *end = NULL;
    long value;

    if (text == NULL || *text == '\0')
        return 0;
    value = strtol(text, &end, 10);
    if (*end != '\0' || value <= 0)
        return 0;
    return value;
}

static void mark_forked_child(void)
{
    atomic_store(&forked_child, 1);
}

/* Runs when libpel is loaded, before any fork can happen that pel must know
 * about. Reading the environment here keeps getenv() off the hot path. */
__attribute__((constructor)) static void pel_core_load(void)
{
    long threads = positive_from_environment("PEL_NUM_THREADS");
    long work = positive_from_environment("PEL_MIN_WORK_PER_THREAD");

    environment_threads = threads > INT_MAX ? INT_MAX : (int)threads;
    environment_min_work = (size_t)work;
    if (work > 0)
        atomic_store(&min_work, (size_t)work);
    pthread_atfork(NULL, NULL, mark_forked_child);
}

int pel_in_forked_child(void)
{
    return atomic_load_explicit(&forked_child, memory_order_relaxed);
}

pel_status pel_set_num_threads(int nthreads)
{
    if (nthreads < 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "nthreads=%d is negative (0 restores the default)", nthreads);
    atomic_store(&global_threads, nthreads);
    return PEL_OK;
}

pel_status pel_set_num_threads_local(int nthreads)
{
    if (nthreads < 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "nthreads=%d is negative (0 removes the override)", nthreads);
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
    return n > 0 ? n : 1;
}

pel_status pel_set_min_work_per_thread(size_t work_units)
{
    if (work_units == 0)
        work_units = environment_min_work > 0 ? environment_min_work : PEL_DEFAULT_MIN_WORK;
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
    if (nthreads < 1)
        nthreads = 1;
    /* Only this thread's OpenMP setting changes; leave restores it. */
    if (nthreads != scope->saved_omp_threads)
        omp_set_num_threads(nthreads);
}

void pel__blas_leave(const pel__blas_scope *scope)
{
    if (omp_get_max_threads() != scope->saved_omp_threads)
        omp_set_num_threads(scope->saved_omp_threads);
}
