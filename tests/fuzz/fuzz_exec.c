/* Fuzz harness: the execution layer's argument space (pel_parallel_for with
 * every schedule and chunk, ranges anywhere up to SIZE_MAX, failing bodies;
 * pel_reduce_sum and pel_parallel_reduce with fuzzed blocks; pel_run_tasks and
 * pel_task_plan with fuzzed costs, NaN and Inf included), on 1-4 threads.
 *
 * Invariants: a loop visits each index of its range exactly once and nothing
 * outside it; a failing body's code comes back and no index runs twice;
 * reductions give the same bits on 1 and on N threads and the exact answer
 * where one exists; every task runs once; a plan's makespan is the largest
 * per-thread total and within the list-scheduling bound; errors carry a
 * message and write no output. Ranges are at most 2048 indices long. */
#include "fuzz.h"

#include <stdatomic.h>

enum { MAX_RANGE = 2048 };

typedef struct loop_state {
    size_t begin, end, fail_at; /* fail_at == SIZE_MAX: no failure */
    atomic_int visits[MAX_RANGE];
    atomic_int outside;
} loop_state;

static int loop_body(size_t begin, size_t end, void *arg)
{
    loop_state *s = arg;
    if (begin >= end || begin < s->begin || end > s->end || end - s->begin > MAX_RANGE) {
        atomic_fetch_add(&s->outside, 1);
        return 0;
    }
    for (size_t i = begin; i < end; i++) {
        atomic_fetch_add(&s->visits[i - s->begin], 1);
        if (i == s->fail_at)
            return 7;
    }
    return 0;
}

static void fuzz_parallel_for(fuzz_input *in)
{
    static loop_state s;
    size_t length = fuzz_upto(in, 255) * (fuzz_u8(in) % 8 + 1);
    size_t offset = (size_t)fuzz_u64(in);
    int where = fuzz_u8(in) % 3;
    int schedule = fuzz_u8(in) % 4; /* 3 is not a schedule */
    size_t chunk = fuzz_size(in, 40);
    int fail = fuzz_u8(in) % 4 == 0;
    int reversed = fuzz_u8(in) % 16 == 0;
    int status;

    if (length > MAX_RANGE)
        length = MAX_RANGE;
    /* Near 0, anywhere, or ending at (or just below) SIZE_MAX. */
    s.begin = where == 0 ? offset % 64 : where == 1 ? offset % (SIZE_MAX - length) : SIZE_MAX - length - offset % 3;
    s.end = s.begin + length;
    s.fail_at = fail && length > 0 ? s.begin + offset % length : SIZE_MAX;
    for (size_t i = 0; i < MAX_RANGE; i++)
        atomic_store(&s.visits[i], 0);
    atomic_store(&s.outside, 0);
    pel_clear_error();
    if (reversed && length > 0)
        status = pel_parallel_for(s.end, s.begin, (pel_schedule)schedule, chunk, loop_body, &s);
    else
        status = pel_parallel_for(s.begin, s.end, (pel_schedule)schedule, chunk, loop_body, &s);
    fuzz_require(atomic_load(&s.outside) == 0, "pel_parallel_for(%zu, %zu, schedule %d, chunk %zu) called the body "
                 "outside the range", s.begin, s.end, schedule, chunk);
    if (schedule == 3 || (reversed && length > 0)) {
        fuzz_require(status == PEL_ERROR_INVALID_ARGUMENT, "bad schedule/range gave status %d", status);
        fuzz_check_error_message(status, "pel_parallel_for");
        for (size_t i = 0; i < length; i++)
            fuzz_require(atomic_load(&s.visits[i]) == 0, "the body ran on refused arguments");
        return;
    }
    for (size_t i = 0; i < length; i++) {
        int v = atomic_load(&s.visits[i]);
        if (s.fail_at == SIZE_MAX)
            fuzz_require(v == 1, "pel_parallel_for(%zu, %zu, schedule %d, chunk %zu): index %zu visited %d times",
                         s.begin, s.end, schedule, chunk, s.begin + i, v);
        else
            fuzz_require(v <= 1, "index %zu visited %d times with a failing body", s.begin + i, v);
    }
    fuzz_require(s.fail_at == SIZE_MAX ? status == PEL_OK : status == 7,
                 "pel_parallel_for returned %d (failing body: %d)", status, s.fail_at != SIZE_MAX);
}

/* Exact, order-checking reduction: a partial is the run [first, last] of
 * indices it covers; combining requires left to end where right starts. */
typedef struct run {
    size_t first, last, count, misordered;
} run;

static int run_map(size_t begin, size_t end, void *partial, void *arg)
{
    run *r = partial;
    size_t *fail_at = arg;
    if (begin <= *fail_at && *fail_at < end)
        return 9;
    if (begin < end) {
        r->first = begin;
        r->last = end - 1;
        r->count = end - begin;
    }
    return 0;
}

static void run_combine(void *left, const void *right, void *arg)
{
    run *l = left;
    const run *r = right;
    (void)arg;
    if (r->count == 0)
        return;
    if (l->count == 0) {
        *l = *r;
        return;
    }
    if (l->last + 1 != r->first)
        l->misordered++;
    l->misordered += r->misordered;
    l->last = r->last;
    l->count += r->count;
}

static void fuzz_reductions(fuzz_input *in, int threads)
{
    size_t n = fuzz_upto(in, 255) * (fuzz_u8(in) % 40 + 1);
    ptrdiff_t stride = (ptrdiff_t)(fuzz_u8(in) % 4); /* 0 is refused */
    double scale = fuzz_double(in), sum_one = 0.0, sum_many = 0.0, untouched = -3.25;
    double *x;
    int s1, s2;

    x = malloc((n * (stride ? (size_t)stride : 1) + 1) * sizeof *x);
    fuzz_require(x != NULL, "out of memory in the harness");
    for (size_t i = 0; i < n * (stride ? (size_t)stride : 1); i++)
        x[i] = scale * (double)((i * 2654435761u) % 1000) / 999.0 - (double)(i % 7);
    pel_set_num_threads_local(1);
    s1 = pel_reduce_sum(x, n, stride, &sum_one);
    pel_set_num_threads_local(threads);
    sum_many = untouched;
    s2 = pel_reduce_sum(x, n, stride, &sum_many);
    fuzz_require(s1 == s2, "pel_reduce_sum status depends on the thread count");
    if (stride == 0) {
        fuzz_require(s2 == PEL_ERROR_INVALID_ARGUMENT && sum_many == untouched, "stride 0 not refused cleanly");
        fuzz_check_error_message(s2, "pel_reduce_sum");
    } else {
        fuzz_require(s2 == PEL_OK, "pel_reduce_sum failed: %s", pel_last_error());
        fuzz_require(memcmp(&sum_one, &sum_many, sizeof sum_one) == 0,
                     "pel_reduce_sum n=%zu stride %td: 1 thread and %d threads differ", n, stride, threads);
    }
    free(x);

    {
        size_t block = fuzz_size(in, 600), fail_at = fuzz_u8(in) % 4 == 0 && n > 0 ? fuzz_u64(in) % n : SIZE_MAX;
        run identity = {0, 0, 0, 0}, result = {1, 2, 3, 4}, before = result;
        int status = pel_parallel_reduce(n, block, sizeof(run), &identity, run_map, run_combine, &fail_at, &result);
        if (fail_at != SIZE_MAX) {
            fuzz_require(status == 9, "pel_parallel_reduce returned %d, not the map's 9", status);
            fuzz_require(memcmp(&result, &before, sizeof result) == 0, "result written on failure");
        } else if (status == PEL_OK) {
            fuzz_require(result.count == n && result.misordered == 0 && (n == 0 || (result.first == 0 &&
                         result.last == n - 1)), "pel_parallel_reduce n=%zu block=%zu combined out of order or "
                         "missed indices", n, block);
        } else {
            fuzz_check_error_message(status, "pel_parallel_reduce");
            fuzz_require(status == PEL_ERROR_OUT_OF_MEMORY || status == PEL_ERROR_INVALID_ARGUMENT ||
                             status == PEL_ERROR_OVERFLOW, "pel_parallel_reduce n=%zu block=%zu: %s", n, block,
                         pel_last_error());
            fuzz_require(memcmp(&result, &before, sizeof result) == 0, "result written on failure");
        }
    }
}

typedef struct task_state {
    size_t ntasks, fail_at;
    atomic_int runs[256];
    atomic_int outside;
} task_state;

static int task_body(size_t index, void *arg)
{
    task_state *t = arg;
    if (index >= t->ntasks) {
        atomic_fetch_add(&t->outside, 1);
        return 0;
    }
    atomic_fetch_add(&t->runs[index], 1);
    return index == t->fail_at ? 5 : 0;
}

static void fuzz_tasks(fuzz_input *in)
{
    static task_state t;
    double costs[256];
    int with_costs = fuzz_u8(in) % 2, bad_cost = 0, status, nthreads = (int)(fuzz_u8(in) % 10) - 1;
    int assignment[256];
    double makespan = -1.0, load[9] = {0}, total = 0.0, largest = 0.0;

    t.ntasks = fuzz_upto(in, 255);
    t.fail_at = fuzz_u8(in) % 8 == 0 && t.ntasks > 0 ? fuzz_u8(in) % t.ntasks : SIZE_MAX;
    for (size_t i = 0; i < t.ntasks; i++) {
        costs[i] = fuzz_double(in);
        if (!(costs[i] >= 0.0) || isinf(costs[i]))
            bad_cost = 1;
        atomic_store(&t.runs[i], 0);
    }
    atomic_store(&t.outside, 0);
    status = pel_run_tasks(t.ntasks, task_body, &t, with_costs ? costs : NULL);
    fuzz_require(atomic_load(&t.outside) == 0, "pel_run_tasks ran a task index past ntasks");
    if (with_costs && bad_cost) {
        fuzz_require(status == PEL_ERROR_INVALID_ARGUMENT, "a bad cost was not refused (status %d)", status);
        fuzz_check_error_message(status, "pel_run_tasks");
        for (size_t i = 0; i < t.ntasks; i++)
            fuzz_require(atomic_load(&t.runs[i]) == 0, "a task ran although the costs were refused");
    } else if (t.fail_at == SIZE_MAX) {
        fuzz_require(status == PEL_OK, "pel_run_tasks failed: %s", pel_last_error());
        for (size_t i = 0; i < t.ntasks; i++)
            fuzz_require(atomic_load(&t.runs[i]) == 1, "task %zu ran %d times", i, atomic_load(&t.runs[i]));
    } else {
        fuzz_require(status == 5, "pel_run_tasks returned %d, not the task's 5", status);
        for (size_t i = 0; i < t.ntasks; i++)
            fuzz_require(atomic_load(&t.runs[i]) <= 1, "task %zu ran twice", i);
    }

    for (size_t i = 0; i < t.ntasks; i++)
        assignment[i] = -7;
    status = pel_task_plan(t.ntasks, costs, nthreads, assignment, &makespan);
    if (nthreads < 1 || bad_cost) {
        fuzz_require(status == PEL_ERROR_INVALID_ARGUMENT, "pel_task_plan accepted nthreads=%d/bad costs", nthreads);
        fuzz_check_error_message(status, "pel_task_plan");
        fuzz_require(makespan == -1.0, "makespan written on error");
        for (size_t i = 0; i < t.ntasks; i++)
            fuzz_require(assignment[i] == -7, "assignment written on error");
        return;
    }
    fuzz_require(status == PEL_OK, "pel_task_plan failed: %s", pel_last_error());
    for (size_t i = 0; i < t.ntasks; i++) {
        fuzz_require(assignment[i] >= 0 && assignment[i] < nthreads, "task %zu given to thread %d", i, assignment[i]);
        load[assignment[i]] += costs[i];
        total += costs[i];
        if (costs[i] > largest)
            largest = costs[i];
    }
    {
        double busiest = 0.0;
        for (int j = 0; j < nthreads; j++)
            busiest = load[j] > busiest ? load[j] : busiest;
        /* Sums in another order: allow rounding of a few ulps of the total. */
        fuzz_require(fabs(makespan - busiest) <= 1e-12 * total, "makespan %g is not the busiest total %g", makespan,
                     busiest);
        fuzz_require(makespan <= total / nthreads + largest + 1e-12 * total, "makespan %g over the list bound",
                     makespan);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = fuzz_begin(data, size);
    int threads = fuzz_u8(&in) % 4 + 1;

    pel_set_num_threads_local(threads);
    switch (fuzz_u8(&in) % 3) {
    case 0:
        fuzz_parallel_for(&in);
        break;
    case 1:
        fuzz_reductions(&in, threads);
        break;
    default:
        fuzz_tasks(&in);
    }
    pel_set_num_threads_local(0);
    return 0;
}
