/**
 * @file pel/core.h
 * @brief Status codes, thread-local error messages, version, aligned memory,
 *        timers and the thread policy shared by every pel kernel.
 *
 * Errors, for the whole API: every fallible function returns a pel_status
 * and records a thread-local message (pel_last_error()). On any failure a
 * function that creates an object sets *out = NULL whenever out itself is
 * not NULL, and every other output (scalars, arrays, buffers, settings) is
 * left untouched. PEL_ERROR_NOT_CONVERGED reports a result and writes it
 * (the function's documentation says what); details in docs/user-guide.md,
 * "Status codes and errors".
 */
#ifndef PEL_CORE_H
#define PEL_CORE_H

#include <stddef.h>
#include "pel/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function exported from libpel; everything else is hidden. */
#if defined(PEL_BUILDING) && defined(__GNUC__)
#define PEL_API __attribute__((visibility("default")))
#else
#define PEL_API
#endif

/**
 * The table of status codes: X(NAME, value, description). It generates the
 * pel_status enum, pel_strerror() and pel_status_name(), so the three can
 * never disagree. PEL_OK is zero; every error is negative.
 */
#define PEL_STATUS_TABLE(X)                                                        \
    X(PEL_OK, 0, "success")                                                        \
    X(PEL_ERROR_INVALID_ARGUMENT, -1, "invalid argument")                          \
    X(PEL_ERROR_OUT_OF_MEMORY, -2, "out of memory")                                \
    X(PEL_ERROR_UNSUPPORTED, -3, "unsupported operation or size")                  \
    X(PEL_ERROR_BACKEND, -4, "backend library (OpenBLAS, FFTW, OpenMP) failed")    \
    X(PEL_ERROR_OVERFLOW, -5, "size computation overflows")                        \
    X(PEL_ERROR_SINGULAR, -6, "matrix is singular")                                \
    X(PEL_ERROR_NOT_POSITIVE_DEFINITE, -7, "matrix is not positive definite")      \
    X(PEL_ERROR_IO, -8, "input/output error")                                      \
    X(PEL_ERROR_PARSE, -9, "malformed input")                                      \
    X(PEL_ERROR_NOT_CONVERGED, -10, "iteration did not converge")                  \
    X(PEL_ERROR_CALLBACK, -11, "a user callback failed")                           \
    X(PEL_ERROR_INTERNAL, -12, "internal error (a bug in pel)")

/** Result of every fallible pel function. */
typedef enum pel_status {
#define PEL_X_ENUM(name, value, text) name = value,
    PEL_STATUS_TABLE(PEL_X_ENUM)
#undef PEL_X_ENUM
} pel_status;

/** Storage order of a dense matrix; the values are CBLAS's, so they can be
 *  passed straight through. */
typedef enum pel_layout {
    PEL_ROW_MAJOR = 101, /**< C order: rows are contiguous */
    PEL_COL_MAJOR = 102  /**< Fortran order: columns are contiguous */
} pel_layout;

/** Floating-point precision of an object's data (plans, stencils, ...).
 *  Functions on raw arrays carry the precision in their name instead
 *  (pel_dgemm / pel_sgemm), like BLAS. */
typedef enum pel_precision {
    PEL_FLOAT64 = 0, /**< double (and double complex) */
    PEL_FLOAT32 = 1  /**< float (and float complex) */
} pel_precision;

/**
 * Describes a status code in a few words ("invalid argument"). Never NULL:
 * unknown codes get "unknown status". Thread-safe.
 */
PEL_API const char *pel_strerror(int status);

/**
 * The enumerator's name of a status code ("PEL_ERROR_INVALID_ARGUMENT"), or
 * "PEL_UNKNOWN_STATUS". Never NULL. Thread-safe.
 */
PEL_API const char *pel_status_name(int status);

/**
 * The message of the last error raised on the calling thread, naming the
 * function, the argument and the reason, e.g.
 * "pel_dgemm: lda=3 is smaller than k=4". The message belongs to the thread
 * (other threads' errors never overwrite it) and stays until the next error on
 * this thread or pel_clear_error(); successful calls leave it alone, like
 * errno. Empty string when no error happened. The pointer stays valid for the
 * life of the thread.
 */
PEL_API const char *pel_last_error(void);

/** Empties the calling thread's last-error message. */
PEL_API void pel_clear_error(void);

/** The library's version string ("0.1.0"); compare with PEL_VERSION_STRING. */
PEL_API const char *pel_version(void);

/**
 * The library's version as MAJOR*10000 + MINOR*100 + PATCH, to check at run
 * time that the header and the library match.
 */
PEL_API int pel_version_number(void);

/**
 * Allocates @p bytes aligned to 64 bytes (one cache line, one AVX-512
 * vector). Buffers of 4 MiB and more are aligned to 2 MiB and advised onto
 * transparent huge pages (madvise(MADV_HUGEPAGE)), which moved 10-25% more
 * bytes per second on the project machine. A request of 0 bytes returns a
 * valid, unique pointer. Returns NULL on failure and sets the last error
 * (PEL_ERROR_OUT_OF_MEMORY). Free with pel_free(). Thread-safe.
 */
PEL_API void *pel_malloc(size_t bytes);

/**
 * Allocates @p count elements of @p size bytes like pel_malloc() and sets them
 * to zero. The zeroing runs on pel's threads with a static schedule so that on
 * a NUMA machine each page is first touched by the thread that will use that
 * part of the array in a static-schedule loop. Returns NULL and sets the last
 * error when count*size overflows or memory runs out.
 */
PEL_API void *pel_calloc(size_t count, size_t size);

/** Frees memory from pel_malloc() or pel_calloc(); NULL is ignored. */
PEL_API void pel_free(void *ptr);

/** Wall-clock seconds from a monotonic clock, for timing intervals. */
PEL_API double pel_wtime(void);

/**
 * The largest thread count pel accepts anywhere (pel_set_num_threads, the
 * per-thread override, the thread budget, PEL_NUM_THREADS and
 * PEL_THREAD_BUDGET): larger values are refused, never saturated.
 */
#define PEL_MAX_THREADS 4096

/** pel_set_thread_budget() argument that restores the default budget. */
#define PEL_THREAD_BUDGET_DEFAULT (-1)

/**
 * Sets the process-wide number of threads pel kernels use (OpenBLAS and FFTW
 * included). @p nthreads = 0 restores the default: the PEL_NUM_THREADS
 * environment variable if it held a valid count when pel loaded, else
 * OpenMP's omp_get_max_threads() of the calling thread at each call.
 * Returns PEL_ERROR_INVALID_ARGUMENT for negative values and values above
 * PEL_MAX_THREADS. Thread-safe.
 */
PEL_API pel_status pel_set_num_threads(int nthreads);

/**
 * Sets the thread count for kernels called from the calling thread only,
 * overriding pel_set_num_threads() there (like oneMKL's
 * mkl_set_num_threads_local). 0 removes the override. Negative values and
 * values above PEL_MAX_THREADS are refused with PEL_ERROR_INVALID_ARGUMENT.
 */
PEL_API pel_status pel_set_num_threads_local(int nthreads);

/** The calling thread's override from pel_set_num_threads_local(), or 0. */
PEL_API int pel_get_num_threads_local(void);

/**
 * The number of threads a pel kernel called now from this thread would use
 * for a large problem: 1 inside an active OpenMP parallel region and in a
 * process forked from a parent (see pel_in_forked_child()); else the local
 * override, else the process-wide setting, else the default. Always >= 1.
 * Makes no system call.
 */
PEL_API int pel_get_num_threads(void);

/**
 * Sets the process-wide thread budget: the number of threads that pel's
 * multi-threaded kernels running at the same time, from any number of user
 * threads, may use together (OpenBLAS and FFTW teams started by pel
 * included). A kernel asks for its usual count (pel_threads_for_work) and
 * gets what is left of the budget, down to the calling thread alone; it never
 * waits, so nested and concurrent callers cannot deadlock. A kernel that runs
 * while no other pel team runs always gets its full count (the budget shares
 * the cores among concurrent callers; it does not cut a lone caller's
 * explicit pel_set_num_threads()). pel's own kernels give the same bits for
 * any team size they are granted; work handed to OpenBLAS or FFTW may differ
 * in the last bits (set the budget to 0 for fully reproducible backends).
 *
 * @p nthreads: 1..PEL_MAX_THREADS; 0 turns the budget off (every kernel
 * gets its full count, as before pel 0.2); PEL_THREAD_BUDGET_DEFAULT (-1)
 * restores the default, which is PEL_THREAD_BUDGET from the environment when
 * pel loaded, else the number of cores available to the process
 * (omp_get_num_procs()). Other values: PEL_ERROR_INVALID_ARGUMENT.
 * Thread-safe; teams already running keep what they hold.
 */
PEL_API pel_status pel_set_thread_budget(int nthreads);

/** The budget in effect: 0 when off, else the number of threads. */
PEL_API int pel_get_thread_budget(void);

/**
 * The number of threads currently held from the budget by running pel
 * teams (0 when none runs). A snapshot for monitoring and tests.
 */
PEL_API int pel_get_thread_budget_in_use(void);

/**
 * Notes about pel's environment variables refused when pel loaded (e.g.
 * "PEL_NUM_THREADS: "99999999999999999999" is out of range 0..4096"),
 * separated by "; "; the empty string when every variable was valid or
 * unset. A refused variable is ignored: pel uses its default. The string is
 * static; thread-safe.
 */
PEL_API const char *pel_environment_notes(void);

/**
 * Sets the smallest amount of work, in pel's work units (about one
 * floating-point operation or 8 bytes moved), worth giving to one thread.
 * Kernels use min(threads, work / cutoff) threads, so tiny problems run on
 * the calling thread without fork-join cost. 0 restores the default (32768,
 * or PEL_MIN_WORK_PER_THREAD from the environment when pel loaded).
 */
PEL_API pel_status pel_set_min_work_per_thread(size_t work_units);

/** The current value of the cutoff set by pel_set_min_work_per_thread(). */
PEL_API size_t pel_get_min_work_per_thread(void);

/**
 * The number of threads pel would use for a problem of @p work_units work
 * units: between 1 and pel_get_num_threads(). Kernels call it; users may, to
 * size their own loops alike.
 */
PEL_API int pel_threads_for_work(size_t work_units);

/**
 * Nonzero when this process is a child forked (without exec) from a process
 * that had loaded pel. libgomp cannot restart its thread pool in such a child
 * (GCC bug 60035: the classic hang of Python multiprocessing with OpenMP
 * libraries), so there pel runs every kernel on the calling thread.
 */
PEL_API int pel_in_forked_child(void);

/**
 * Describes the linked backends in one line, e.g.
 * "OpenBLAS 0.3.21 (OpenMP build), FFTW 3.3.10 (OpenMP threads)".
 * The string is static; thread-safe.
 */
PEL_API const char *pel_backend_info(void);

#ifdef __cplusplus
}
#endif

#endif
