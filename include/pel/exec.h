/**
 * @file pel/exec.h
 * @brief The execution layer: parallel loops with schedules, reductions that
 *        give the same bits for any thread count, and a load-balancing task
 *        runner. pel's own kernels are built on it; users may call it too.
 *
 * All functions use pel's thread policy (pel_get_num_threads()): called from
 * inside an OpenMP parallel region or in a forked child they run on the
 * calling thread; their teams draw from the process-wide thread budget
 * (pel_set_thread_budget()), which never changes which indices, blocks or
 * tasks a callback sees. A callback returns 0 for success or any nonzero code; the
 * first nonzero code stops the work early (no new ranges or tasks start) and
 * is returned unchanged. If the callback recorded a pel error message on its
 * worker thread, that message becomes the caller's pel_last_error().
 */
#ifndef PEL_EXEC_H
#define PEL_EXEC_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How pel_parallel_for() hands out index ranges to threads. */
typedef enum pel_schedule {
    /** Fixed assignment: chunk = 0 gives each thread one contiguous block;
     *  chunk > 0 deals chunks round-robin. Best for uniform work. */
    PEL_SCHEDULE_STATIC = 0,
    /** Threads take the next chunk when they finish one (chunk = 0 picks a
     *  size giving about 8 chunks per thread). For uneven work. */
    PEL_SCHEDULE_DYNAMIC = 1,
    /** Like dynamic, with chunks that shrink from remaining/(2*threads) down
     *  to chunk (at least 1). */
    PEL_SCHEDULE_GUIDED = 2
} pel_schedule;

/** Loop body: handles indices [begin, end); returns 0 or an error code. */
typedef int (*pel_range_fn)(size_t begin, size_t end, void *arg);

/**
 * Runs @p body over the index range [@p begin, @p end) on pel's threads, in
 * sub-ranges handed out by @p schedule with @p chunk indices each (0 = the
 * schedule's default). Every index is visited exactly once if every body
 * call succeeds, for any range up to SIZE_MAX and any chunk up to SIZE_MAX. When a body returns nonzero, no further sub-ranges start and
 * the first failure recorded is returned (ranges already running finish).
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT for a NULL body, begin > end or an
 * unknown schedule. Thread-safe; @p body must be safe to call concurrently on
 * disjoint ranges.
 */
PEL_API int pel_parallel_for(size_t begin, size_t end, pel_schedule schedule, size_t chunk,
                             pel_range_fn body, void *arg);

/** Number of elements in one block of the reproducible reductions. The
 *  blocking depends on the problem size only, never on the thread count. */
#define PEL_REDUCE_BLOCK 4096

/**
 * Sums @p n doubles with a result that is bit-identical for every thread
 * count: the array is cut into fixed blocks of PEL_REDUCE_BLOCK elements,
 * each block is summed in a fixed order (8 interleaved partial sums, then a
 * fixed pairwise combination), and the block sums are added in a fixed
 * pairwise tree. The error is at most about (PEL_REDUCE_BLOCK/8 + log2(n))
 * * eps * sum|x[i]|. n = 0 gives 0.0. @p stride is in elements and must be
 * >= 1. Errors: NULL x (when n > 0) or result, stride 0.
 */
PEL_API pel_status pel_reduce_sum(const double *x, size_t n, ptrdiff_t stride, double *result);

/** Reduction map: reduces indices [begin, end) of one block into @p partial
 *  (elem_size bytes, initialised from the identity). Returns 0 or an error. */
typedef int (*pel_reduce_map_fn)(size_t begin, size_t end, void *partial, void *arg);

/** Reduction combine: folds @p right into @p left (left = left op right).
 *  Must be associative for the result to mean anything; need not be
 *  commutative: pel always combines left before right. */
typedef void (*pel_reduce_combine_fn)(void *left, const void *right, void *arg);

/**
 * A general reproducible reduction over [0, @p n): @p map reduces each block
 * of @p block indices (0 = PEL_REDUCE_BLOCK) into a partial of @p elem_size
 * bytes that starts as a copy of @p identity, and @p combine joins the
 * partials in a fixed pairwise tree (left to right). The blocks and the tree
 * depend only on n and block, so the result has the same bits for every
 * thread count. The result is written to @p result only on success.
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT (NULL map, combine, identity or result,
 * elem_size 0 or over 4096 bytes), PEL_ERROR_OUT_OF_MEMORY, or the first
 * nonzero code returned by map.
 */
PEL_API int pel_parallel_reduce(size_t n, size_t block, size_t elem_size, const void *identity,
                                pel_reduce_map_fn map, pel_reduce_combine_fn combine, void *arg,
                                void *result);

/** Task body: runs task number @p index; returns 0 or an error code. */
typedef int (*pel_task_fn)(size_t index, void *arg);

/**
 * Runs tasks 0..@p ntasks-1, each exactly once, on pel's threads. With
 * @p costs (one non-negative, finite estimate per task, in any unit) the
 * tasks are first assigned longest-processing-time-first to the least loaded
 * thread (see pel_task_plan()), each thread runs its list from the most to
 * the least expensive, and a thread that runs out steals the cheapest
 * remaining tasks of others, so a wrong estimate costs little. Without costs
 * (NULL) threads pick up tasks dynamically, one at a time.
 * The first nonzero task result stops new tasks from starting and is
 * returned.
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT (NULL task, a negative or non-finite
 * cost), PEL_ERROR_OVERFLOW (ntasks too large to schedule with costs),
 * PEL_ERROR_OUT_OF_MEMORY, or the first failing task's code.
 */
PEL_API int pel_run_tasks(size_t ntasks, pel_task_fn task, void *arg, const double *costs);

/**
 * Computes the longest-processing-time-first plan pel_run_tasks() starts
 * from, without running anything: tasks sorted by decreasing cost (ties by
 * index), each given to the thread with the least total so far (ties to the
 * lowest thread). Writes the thread of each task to @p assignment (ntasks
 * entries) and the largest per-thread total to @p makespan (either may be
 * NULL). Graham's bound holds: makespan <= (4/3 - 1/(3*nthreads)) times the
 * optimum. Errors: NULL costs with ntasks > 0, nthreads outside
 * 1..PEL_MAX_THREADS, a negative or non-finite cost, out of memory.
 */
PEL_API pel_status pel_task_plan(size_t ntasks, const double *costs, int nthreads, int *assignment,
                                 double *makespan);

#ifdef __cplusplus
}
#endif

#endif
