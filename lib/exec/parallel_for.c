/* pel_parallel_for: an index range cut into sub-ranges by a schedule. The
 * schedules are written out here (rather than OpenMP's schedule clause) so
 * that a failure can stop the hand-out of new ranges. */
#include "config.h"

#include <omp.h>

#include "core/error.h"
#include "core/threads.h"
#include "exec/exec.h"

typedef struct loop {
    size_t begin, end, chunk;
    pel_schedule schedule;
    pel_range_fn body;
    void *arg;
    const char *function, *callback; /* named in a failure without a message */
    atomic_size_t next; /* dynamic and guided: first index not yet handed out */
    pel__failure failure;
} loop;

/* Runs one sub-range and records its failure; returns nonzero to stop. */
static int run_range(loop *l, size_t first, size_t last)
{
    unsigned long sequence = pel__error_sequence();
    int status = l->body(first, last, l->arg);

    if (status != 0) {
        pel__failure_record(&l->failure, status, sequence, l->function, l->callback, first);
        return 1;
    }
    return 0;
}

static void run_static(loop *l, int thread, int team)
{
    size_t n = l->end - l->begin, nchunks;

    if (l->chunk == 0) {
        /* One contiguous block per thread; the first n % T threads get one more. */
        size_t q = n / (size_t)team, r = n % (size_t)team, t = (size_t)thread;
        size_t first = t * q + (t < r ? t : r);
        size_t count = q + (t < r ? 1 : 0);
        if (count > 0)
            run_range(l, l->begin + first, l->begin + first + count);
        return;
    }
    /* Chunk k covers [k*chunk, min(n, (k+1)*chunk)); k*chunk <= n-1 never
     * overflows, and the step to the next chunk is taken only when it stays
     * below nchunks, so k cannot wrap when n is close to SIZE_MAX. */
    nchunks = (n - 1) / l->chunk + 1;
    for (size_t k = (size_t)thread; k < nchunks; k += (size_t)team) {
        size_t first = k * l->chunk;
        size_t last = n - first < l->chunk ? n : first + l->chunk;
        if (pel__failure_seen(&l->failure) || run_range(l, l->begin + first, l->begin + last))
            return;
        if (nchunks - k <= (size_t)team)
            return;
    }
}

static void run_dynamic(loop *l)
{
    size_t first, last;

    while (!pel__failure_seen(&l->failure) && pel__cursor_take(&l->next, l->end, l->chunk, &first, &last))
        if (run_range(l, first, last))
            return;
}

/* Guided: each take is about 1/(2T) of what is left, at least chunk. */
static void run_guided(loop *l, int team)
{
    size_t first = atomic_load_explicit(&l->next, memory_order_relaxed);
    size_t parts = 2 * (size_t)team;

    for (;;) {
        size_t remaining, take;
        if (pel__failure_seen(&l->failure) || first >= l->end)
            return;
        remaining = l->end - first;
        /* Ceiling division written so that it cannot overflow near SIZE_MAX. */
        take = remaining / parts + (remaining % parts != 0);
        if (take < l->chunk)
            take = l->chunk;
        if (take > remaining)
            take = remaining;
        if (!atomic_compare_exchange_weak_explicit(&l->next, &first, first + take, memory_order_relaxed,
                                                   memory_order_relaxed))
            continue; /* first now holds the current value */
        if (run_range(l, first, first + take))
            return;
        first = atomic_load_explicit(&l->next, memory_order_relaxed);
    }
}

int pel__cursor_take(atomic_size_t *cursor, size_t end, size_t chunk, size_t *first, size_t *last)
{
    size_t current = atomic_load_explicit(cursor, memory_order_relaxed);

    /* Compare-and-swap instead of fetch-and-add: the cursor never moves past
     * end, so it cannot wrap around SIZE_MAX and hand out ranges twice. */
    for (;;) {
        size_t take;
        if (current >= end)
            return 0;
        take = end - current < chunk ? end - current : chunk;
        if (atomic_compare_exchange_weak_explicit(cursor, &current, current + take, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *first = current;
            *last = current + take;
            return 1;
        }
    }
}

/* team: the real team size, which OpenMP may make smaller than asked
 * (nested or limited teams); static blocks are spread over the real team. */
static void run_thread(loop *l, int thread, int team)
{
    switch (l->schedule) {
    case PEL_SCHEDULE_STATIC:
        run_static(l, thread, team);
        break;
    case PEL_SCHEDULE_DYNAMIC:
        run_dynamic(l);
        break;
    case PEL_SCHEDULE_GUIDED:
        run_guided(l, team);
        break;
    }
}

int pel__parallel_for_named(const char *function, const char *callback, int nthreads, size_t begin, size_t end,
                            pel_schedule schedule, size_t chunk, pel_range_fn body, void *arg)
{
    size_t n = end - begin;
    size_t nchunks;
    PEL__TEAM_SCOPE(team);
    loop l;

    if (n == 0)
        return PEL_OK;
    if (chunk == 0 && schedule == PEL_SCHEDULE_DYNAMIC) {
        chunk = n / (8 * (size_t)(nthreads > 0 ? nthreads : 1));
        if (chunk == 0)
            chunk = 1;
    }
    if (chunk == 0 && schedule == PEL_SCHEDULE_GUIDED)
        chunk = 1;
    /* Never start more threads than there are chunks to hand out. */
    nchunks = chunk == 0 ? n : (n - 1) / chunk + 1;
    if (nthreads < 1)
        nthreads = 1;
    if ((size_t)nthreads > nchunks)
        nthreads = (int)nchunks;
    /* The team comes from the process-wide budget; the schedules give the
     * same ranges to the body whatever the team size. */
    nthreads = pel__team_take(&team, nthreads);

    l.begin = begin;
    l.end = end;
    l.chunk = chunk;
    l.schedule = schedule;
    l.body = body;
    l.arg = arg;
    l.function = function;
    l.callback = callback;
    atomic_init(&l.next, begin);
    pel__failure_init(&l.failure);

    if (nthreads == 1) {
        run_thread(&l, 0, 1);
    } else {
#pragma omp parallel num_threads(nthreads)
        run_thread(&l, omp_get_thread_num(), omp_get_num_threads());
    }
    return pel__failure_finish(&l.failure);
}

int pel__parallel_for(int nthreads, size_t begin, size_t end, pel_schedule schedule, size_t chunk,
                      pel_range_fn body, void *arg)
{
    return pel__parallel_for_named("pel_parallel_for", "body", nthreads, begin, end, schedule, chunk, body, arg);
}

int pel_parallel_for(size_t begin, size_t end, pel_schedule schedule, size_t chunk, pel_range_fn body,
                     void *arg)
{
    PEL_CHECK_NOT_NULL(body);
    if (begin > end)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "begin=%zu is greater than end=%zu", begin, end);
    if (schedule != PEL_SCHEDULE_STATIC && schedule != PEL_SCHEDULE_DYNAMIC && schedule != PEL_SCHEDULE_GUIDED)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "schedule=%d is not a pel_schedule", (int)schedule);
    return pel__parallel_for(pel_get_num_threads(), begin, end, schedule, chunk, body, arg);
}
