/* Internal side of the execution layer, for pel's own kernels. */
#ifndef PEL_EXEC_INTERNAL_H
#define PEL_EXEC_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include "pel/exec.h"

/* pel_parallel_for() with an explicit team size (kernels size their team with
 * pel_threads_for_work()). nthreads <= 1 runs on the calling thread without a
 * parallel region. No argument checks: callers pass valid ones. */
int pel__parallel_for(int nthreads, size_t begin, size_t end, pel_schedule schedule, size_t chunk,
                      pel_range_fn body, void *arg);

/* pel__parallel_for() on behalf of a public function that takes a user
 * callback: a failure without a message of its own is reported as
 * "function: callback returned CODE at index I". */
int pel__parallel_for_named(const char *function, const char *callback, int nthreads, size_t begin, size_t end,
                            pel_schedule schedule, size_t chunk, pel_range_fn body, void *arg);

/* Hands out the next range of at most chunk (>= 1) indices of [*cursor, end)
 * to the calling thread: returns 1 with [*first, *last), or 0 when nothing is
 * left. Safe for any end up to SIZE_MAX (the cursor never passes end). */
int pel__cursor_take(atomic_size_t *cursor, size_t end, size_t chunk, size_t *first, size_t *last);

/* The first failure of a parallel operation, carried back to the caller
 * together with the message the failing worker recorded, if any. */
typedef struct pel__failure {
    atomic_int status;
    char message[512];
} pel__failure;

void pel__failure_init(pel__failure *failure);

/* Records status (nonzero) if it is the first failure. error_sequence_before
 * is pel__error_sequence() read on the worker before the callback ran; when
 * the callback left no message of its own, the message names the public
 * function the user called, the callback argument and the index. */
void pel__failure_record(pel__failure *failure, int status, unsigned long error_sequence_before,
                         const char *function, const char *callback, size_t where);

/* Nonzero once a failure was recorded (a cheap relaxed load). */
static inline int pel__failure_seen(pel__failure *failure)
{
    return atomic_load_explicit(&failure->status, memory_order_relaxed) != 0;
}

/* On the calling thread after the parallel region: sets pel_last_error() from
 * the recorded message and returns the status (0 if none). */
int pel__failure_finish(pel__failure *failure);

#endif
