/* Tests of the execution layer: parallel_for schedules, reproducible
 * reductions and the task runner. */
#include "pel_test.h"

#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "exec/exec.h"

/* ------------------------------------------------------------ parallel_for */

typedef struct visits {
    atomic_int *count;
    size_t begin, end;
    size_t fail_at; /* index whose range fails; SIZE_MAX: none */
    atomic_size_t calls;
    atomic_int failed;       /* set by the failing call just before it returns */
    atomic_size_t late_calls; /* calls that started after that */
} visits;

static int count_visits(size_t begin, size_t end, void *arg)
{
    visits *v = arg;

    atomic_fetch_add(&v->calls, 1);
    if (atomic_load(&v->failed)) {
        /* Give the failing thread ample time to record its failure, so the
         * count below measures pel's stopping, not the scheduler. */
        struct timespec pause = {0, 20 * 1000 * 1000};
        atomic_fetch_add(&v->late_calls, 1);
        nanosleep(&pause, NULL);
    }
    if (begin < v->begin || end > v->end || begin >= end)
        return 77; /* a bad range is reported as a failure */
    for (size_t i = begin; i < end; i++) {
        if (i == v->fail_at) {
            atomic_store(&v->failed, 1);
            return PEL_FAIL(PEL_ERROR_CALLBACK, "index %zu refused", i);
        }
        atomic_fetch_add(&v->count[i - v->begin], 1);
    }
    return 0;
}

static void test_parallel_for_visits_each_index_once(void)
{
    static const pel_schedule schedules[] = {PEL_SCHEDULE_STATIC, PEL_SCHEDULE_DYNAMIC, PEL_SCHEDULE_GUIDED};
    static const size_t chunks[] = {0, 1, 3, 64, 5000};
    static const size_t lengths[] = {0, 1, 2, 7, 1000, 4099};
    size_t bad = 0;

    for (int threads = 1; threads <= 4; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        for (size_t s = 0; s < 3; s++)
            for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++)
                for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
                    size_t n = lengths[l], begin = 13;
                    atomic_int *count = calloc(n + 1, sizeof *count);
                    visits v = {count, begin, begin + n, SIZE_MAX, 0, 0, 0};
                    int status = pel_parallel_for(begin, begin + n, schedules[s], chunks[c], count_visits, &v);
                    if (status != 0)
                        bad++;
                    for (size_t i = 0; i < n; i++)
                        bad += atomic_load(&count[i]) != 1;
                    free(count);
                }
    }
    CU_ASSERT_EQUAL(bad, 0);
    PEL_TEST_OK(pel_set_num_threads(0));
}

static void test_parallel_for_stops_on_error(void)
{
    static const pel_schedule schedules[] = {PEL_SCHEDULE_STATIC, PEL_SCHEDULE_DYNAMIC, PEL_SCHEDULE_GUIDED};
    enum { N = 100000 };

    for (int threads = 1; threads <= 4; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        for (size_t s = 0; s < 3; s++) {
            atomic_int *count = calloc(N, sizeof *count);
            visits v = {count, 0, N, 10, 0, 0, 0};
            int status = pel_parallel_for(0, N, schedules[s], 1, count_visits, &v);
            /* The worker's message travels back to the calling thread. */
            CU_ASSERT_EQUAL(status, PEL_ERROR_CALLBACK);
            CU_ASSERT(strstr(pel_last_error(), "index 10 refused") != NULL);
            /* Once the failure is recorded no range starts: each thread
             * starts at most one range in the short window between the
             * failing return and the record (two allows for a preempted
             * failing thread). */
            CU_ASSERT(atomic_load(&v.late_calls) <= 2 * (size_t)threads);
            free(count);
        }
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    pel_clear_error();
}

/* Ranges handed to the body, to check that they tile [begin, end) exactly
 * even where an index counter per element is impossible (ranges of up to
 * SIZE_MAX indices). A range outside the loop, an empty one, or more ranges
 * than the log holds make the body fail, which stops the loop: a schedule
 * whose cursor wraps fails the test instead of running forever. */
enum { RANGE_LOG = 8192 };

typedef struct range_log {
    size_t begin, end;
    atomic_size_t count;
    size_t first[RANGE_LOG], last[RANGE_LOG];
} range_log;

static int log_range(size_t first, size_t last, void *arg)
{
    range_log *log = arg;
    size_t slot;

    if (first < log->begin || last > log->end || first >= last)
        return 77;
    slot = atomic_fetch_add(&log->count, 1);
    if (slot >= RANGE_LOG)
        return 78;
    log->first[slot] = first;
    log->last[slot] = last;
    return 0;
}

static int by_first(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    return *x < *y ? -1 : *x > *y;
}

/* Nonzero when the logged ranges, sorted, are contiguous from begin to end. */
static int ranges_tile(range_log *log)
{
    size_t n = atomic_load(&log->count), (*pairs)[2] = malloc((n ? n : 1) * sizeof *pairs), at = log->begin;
    int ok = n <= RANGE_LOG;

    for (size_t i = 0; ok && i < n; i++) {
        pairs[i][0] = log->first[i];
        pairs[i][1] = log->last[i];
    }
    if (ok)
        qsort(pairs, n, sizeof *pairs, by_first);
    for (size_t i = 0; ok && i < n; i++) {
        ok = pairs[i][0] == at;
        at = pairs[i][1];
    }
    free(pairs);
    return ok && at == log->end;
}

static void test_parallel_for_ranges_near_size_max(void)
{
    static const pel_schedule schedules[] = {PEL_SCHEDULE_STATIC, PEL_SCHEDULE_DYNAMIC, PEL_SCHEDULE_GUIDED};
    /* Short loops (any chunk) at the top of size_t and in the middle. */
    static const size_t small_begin[] = {SIZE_MAX - 10, SIZE_MAX - 1, 10, 0};
    static const size_t small_end[] = {SIZE_MAX, SIZE_MAX, 20, 3};
    static const size_t small_chunks[] = {0, 1, 3, 7, 9, 11, SIZE_MAX / 2, SIZE_MAX - 1, SIZE_MAX};
    /* Loops of up to SIZE_MAX indices: only chunks that make few ranges. */
    static const size_t huge_begin[] = {0, 1, SIZE_MAX / 2, 0};
    static const size_t huge_end[] = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX - 1};
    static const size_t huge_chunks[] = {0, SIZE_MAX / 1000, SIZE_MAX / 5, SIZE_MAX / 2, SIZE_MAX / 2 + 1, SIZE_MAX};
    range_log *log = malloc(sizeof *log);
    size_t bad = 0, runs = 0;

    for (int threads = 1; threads <= 4; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        for (size_t s = 0; s < 3; s++) {
            for (size_t r = 0; r < 4; r++)
                for (size_t c = 0; c < sizeof small_chunks / sizeof small_chunks[0]; c++) {
                    log->begin = small_begin[r];
                    log->end = small_end[r];
                    atomic_init(&log->count, 0);
                    bad += pel_parallel_for(log->begin, log->end, schedules[s], small_chunks[c], log_range, log) != 0;
                    bad += !ranges_tile(log);
                    runs++;
                }
            for (size_t r = 0; r < 4; r++)
                for (size_t c = 0; c < sizeof huge_chunks / sizeof huge_chunks[0]; c++) {
                    /* Static with chunk 0 and guided with chunk 0 make few
                     * ranges; dynamic with chunk 0 makes 8 per thread. */
                    log->begin = huge_begin[r];
                    log->end = huge_end[r];
                    atomic_init(&log->count, 0);
                    bad += pel_parallel_for(log->begin, log->end, schedules[s], huge_chunks[c], log_range, log) != 0;
                    bad += !ranges_tile(log);
                    runs++;
                }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(runs, 4 * 3 * (4 * 9 + 4 * 6));
    /* The cases of the report, exactly: 11 calls on [10,20) were 1. */
    PEL_TEST_OK(pel_set_num_threads(1));
    log->begin = 10;
    log->end = 20;
    atomic_init(&log->count, 0);
    PEL_TEST_OK(pel_parallel_for(10, 20, PEL_SCHEDULE_DYNAMIC, SIZE_MAX, log_range, log));
    CU_ASSERT_EQUAL(atomic_load(&log->count), 1);
    free(log);
    PEL_TEST_OK(pel_set_num_threads(0));
}

static void test_cursor_take_stops_at_end(void)
{
    /* The shared cursor of the dynamic schedule and of the task runner. */
    atomic_size_t cursor;
    size_t first = 5, last = 6;

    atomic_init(&cursor, SIZE_MAX - 3);
    CU_ASSERT(pel__cursor_take(&cursor, SIZE_MAX, 2, &first, &last));
    CU_ASSERT(first == SIZE_MAX - 3 && last == SIZE_MAX - 1);
    CU_ASSERT(pel__cursor_take(&cursor, SIZE_MAX, SIZE_MAX, &first, &last));
    CU_ASSERT(first == SIZE_MAX - 1 && last == SIZE_MAX);
    for (int i = 0; i < 3; i++)
        CU_ASSERT(!pel__cursor_take(&cursor, SIZE_MAX, SIZE_MAX, &first, &last));
    CU_ASSERT(atomic_load(&cursor) == SIZE_MAX);
    CU_ASSERT(first == SIZE_MAX - 1 && last == SIZE_MAX); /* untouched when nothing is left */
}

static int fail_without_message(size_t begin, size_t end, void *arg)
{
    return begin <= 5 && 5 < end ? 42 : 0;
}

static void test_parallel_for_code_without_message(void)
{
    pel_clear_error();
    CU_ASSERT_EQUAL(pel_parallel_for(0, 100, PEL_SCHEDULE_DYNAMIC, 1, fail_without_message, NULL), 42);
    CU_ASSERT(strstr(pel_last_error(), "pel_parallel_for") != NULL);
    CU_ASSERT(strstr(pel_last_error(), "42") != NULL);
    pel_clear_error();
}

static void test_parallel_for_arguments(void)
{
    PEL_TEST_EXPECT_ERROR(pel_parallel_for(0, 10, PEL_SCHEDULE_STATIC, 0, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_parallel_for", "body");
    PEL_TEST_EXPECT_ERROR(pel_parallel_for(10, 9, PEL_SCHEDULE_STATIC, 0, count_visits, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_parallel_for", "begin=10");
    PEL_TEST_EXPECT_ERROR(pel_parallel_for(0, 9, (pel_schedule)7, 0, count_visits, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_parallel_for", "schedule=7");
}

static int record_nesting(size_t begin, size_t end, void *arg)
{
    /* Inside pel's own parallel loop, a nested pel call runs on one thread. */
    if (omp_get_num_threads() > 1 && pel_get_num_threads() != 1)
        return 1;
    return 0;
}

static void test_parallel_for_nested_runs_serially(void)
{
    PEL_TEST_OK(pel_set_num_threads(2));
    CU_ASSERT_EQUAL(pel_parallel_for(0, 64, PEL_SCHEDULE_STATIC, 1, record_nesting, NULL), 0);
    PEL_TEST_OK(pel_set_num_threads(0));
}

/* ------------------------------------------------------------ reductions */

/* Inputs of very different magnitudes so that the summation order matters. */
static double *nasty_input(size_t n, uint64_t seed)
{
    double *x = malloc(n * sizeof *x);
    pel_test_rng rng = {seed};

    for (size_t i = 0; i < n; i++)
        x[i] = pel_test_uniform(&rng, -1, 1) * pow(10.0, pel_test_uniform(&rng, -8, 8));
    return x;
}

static void test_reduce_sum_identical_for_all_threads(void)
{
    static const size_t lengths[] = {0, 1, 7, 8, 9, 4095, 4096, 4097, 100003, 1 << 20};

    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        size_t n = lengths[l];
        double *x = nasty_input(n, 1234 + n), first = 0.0, abs_sum = 0.0;
        long double exact = 0.0L;
        for (size_t i = 0; i < n; i++) {
            exact += x[i];
            abs_sum += fabs(x[i]);
        }
        for (int threads = 1; threads <= 8; threads++) {
            double sum = -1.0;
            PEL_TEST_OK(pel_set_num_threads(threads));
            PEL_TEST_OK(pel_set_min_work_per_thread(1)); /* force the parallel path */
            PEL_TEST_OK(pel_reduce_sum(x, n, 1, &sum));
            if (threads == 1)
                first = sum;
            CU_ASSERT(memcmp(&sum, &first, sizeof sum) == 0);
        }
        /* Bound: (block/8 + log2(blocks) + 3) * eps * sum|x|, a generous
         * version of the pairwise/blocked summation bound. */
        {
            double bound = (PEL_REDUCE_BLOCK / 8 + 64) * 0x1p-52 * abs_sum;
            CU_ASSERT(fabsl((long double)first - exact) <= bound);
        }
        free(x);
    }
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    PEL_TEST_OK(pel_set_num_threads(0));
}

static void test_reduce_sum_stride(void)
{
    enum { N = 10007, STRIDE = 3 };
    double *x = nasty_input(N * STRIDE, 99), *packed = malloc(N * sizeof *packed), a = 0, b = 1;

    for (size_t i = 0; i < N; i++)
        packed[i] = x[i * STRIDE];
    PEL_TEST_OK(pel_reduce_sum(x, N, STRIDE, &a));
    PEL_TEST_OK(pel_reduce_sum(packed, N, 1, &b));
    /* Same elements, same fixed order: the same bits. */
    CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
    free(x);
    free(packed);
}

static void test_reduce_sum_arguments(void)
{
    double x[4] = {1, 2, 3, 4}, sum = 7.5;

    PEL_TEST_EXPECT_ERROR(pel_reduce_sum(x, 4, 1, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_reduce_sum", "result");
    PEL_TEST_EXPECT_ERROR(pel_reduce_sum(NULL, 4, 1, &sum), PEL_ERROR_INVALID_ARGUMENT, "pel_reduce_sum", "x must");
    PEL_TEST_EXPECT_ERROR(pel_reduce_sum(x, 4, 0, &sum), PEL_ERROR_INVALID_ARGUMENT, "pel_reduce_sum", "stride=0");
    PEL_TEST_EXPECT_ERROR(pel_reduce_sum(x, 4, -1, &sum), PEL_ERROR_INVALID_ARGUMENT, "pel_reduce_sum", "stride=-1");
    PEL_TEST_EXPECT_ERROR(pel_reduce_sum(x, SIZE_MAX / 4, 4, &sum), PEL_ERROR_OVERFLOW, "pel_reduce_sum", "overflow");
    CU_ASSERT_EQUAL(sum, 7.5); /* untouched on error */
    PEL_TEST_OK(pel_reduce_sum(NULL, 0, 1, &sum));
    CU_ASSERT_EQUAL(sum, 0.0);
}

/* A user reduction: max with its first index, combined left to right. */
typedef struct argmax {
    double value;
    size_t index;
} argmax;

static int argmax_map(size_t begin, size_t end, void *partial, void *arg)
{
    const double *x = arg;
    argmax *best = partial;

    for (size_t i = begin; i < end; i++)
        if (x[i] > best->value) {
            best->value = x[i];
            best->index = i;
        }
    return 0;
}

static void argmax_combine(void *left, const void *right, void *arg)
{
    argmax *l = left;
    const argmax *r = right;

    if (r->value > l->value)
        *l = *r;
}

static void test_parallel_reduce_user_combine(void)
{
    enum { N = 50001 };
    double *x = nasty_input(N, 5);
    argmax identity = {-INFINITY, SIZE_MAX}, expected = identity;

    for (size_t i = 0; i < N; i++)
        argmax_map(i, i + 1, &expected, x);
    for (int threads = 1; threads <= 8; threads++) {
        argmax got = {0, 0};
        PEL_TEST_OK(pel_set_num_threads(threads));
        PEL_TEST_OK(pel_parallel_reduce(N, 1000, sizeof got, &identity, argmax_map, argmax_combine, x, &got));
        CU_ASSERT_EQUAL(got.index, expected.index);
        CU_ASSERT_EQUAL(got.value, expected.value);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    free(x);
}

/* A non-commutative combine (string concatenation of block ids) shows that
 * the tree combines left before right for every thread count. */
typedef struct order_probe {
    unsigned long long first, last, count;
    int ordered;
} order_probe;

static int order_map(size_t begin, size_t end, void *partial, void *arg)
{
    order_probe *p = partial;

    p->first = begin;
    p->last = end;
    p->count = 1;
    p->ordered = 1;
    return 0;
}

static void order_combine(void *left, const void *right, void *arg)
{
    order_probe *l = left;
    const order_probe *r = right;

    l->ordered = l->ordered && r->ordered && l->last == r->first;
    l->last = r->last;
    l->count += r->count;
}

static void test_parallel_reduce_order(void)
{
    order_probe identity = {0, 0, 0, 1}, got;

    for (int threads = 1; threads <= 4; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        PEL_TEST_OK(pel_parallel_reduce(1000, 7, sizeof got, &identity, order_map, order_combine, NULL, &got));
        CU_ASSERT_TRUE(got.ordered);
        CU_ASSERT_EQUAL(got.first, 0);
        CU_ASSERT_EQUAL(got.last, 1000);
        CU_ASSERT_EQUAL(got.count, (1000 + 6) / 7);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
}

static int failing_map(size_t begin, size_t end, void *partial, void *arg)
{
    return begin >= 3000 ? PEL_FAIL(PEL_ERROR_CALLBACK, "block at %zu failed", begin) : 0;
}

static void plus(void *left, const void *right, void *arg)
{
    *(double *)left += *(const double *)right;
}

static void test_parallel_reduce_errors(void)
{
    double zero = 0, result = 3.25;

    PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(10, 0, 8, &zero, NULL, plus, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_parallel_reduce", "map");
    PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(10, 0, 8, &zero, failing_map, NULL, NULL, &result),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_parallel_reduce", "combine");
    PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(10, 0, 8, NULL, failing_map, plus, NULL, &result),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_parallel_reduce", "identity");
    PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(10, 0, 8, &zero, failing_map, plus, NULL, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_parallel_reduce", "result");
    PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(10, 0, 0, &zero, failing_map, plus, NULL, &result),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_parallel_reduce", "elem_size=0");
    PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(10, 0, 5000, &zero, failing_map, plus, NULL, &result),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_parallel_reduce", "elem_size=5000");
    PEL_TEST_OK(pel_set_num_threads(3));
    PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(100000, 100, 8, &zero, failing_map, plus, NULL, &result),
                          PEL_ERROR_CALLBACK, "block at", "failed");
    CU_ASSERT_EQUAL(result, 3.25); /* result untouched on failure */
    PEL_TEST_OK(pel_set_num_threads(0));
}

static int map_code_only(size_t begin, size_t end, void *partial, void *arg)
{
    return begin <= 2500 && 2500 < end ? 42 : 0;
}

static int task_code_only(size_t index, void *arg)
{
    return index == 7 ? 43 : 0;
}

/* A callback that fails without a message of its own: the message names the
 * public function the user called and the callback argument (it said
 * "pel_parallel_for: callback failed ..." from inside pel_parallel_reduce). */
static void test_callback_failure_names_the_caller(void)
{
    double zero = 0, result = 1.5;

    for (int threads = 1; threads <= 3; threads += 2) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(10000, 100, 8, &zero, map_code_only, plus, NULL, &result), 42,
                              "pel_parallel_reduce", "map returned 42 for elements [2500, 2600)");
        CU_ASSERT_EQUAL(result, 1.5);
        PEL_TEST_EXPECT_ERROR(pel_run_tasks(20, task_code_only, NULL, NULL), 43, "pel_run_tasks",
                              "task returned 43 at index 7");
        PEL_TEST_EXPECT_ERROR(pel_parallel_for(0, 100, PEL_SCHEDULE_GUIDED, 1, fail_without_message, NULL), 42,
                              "pel_parallel_for", "body returned 42");
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    pel_clear_error();
}

/* ------------------------------------------------------------ tasks */

typedef struct task_log {
    atomic_int *runs;
    size_t fail_at;
    atomic_size_t started;
    atomic_int failed;
    atomic_size_t late;
} task_log;

static int log_task(size_t index, void *arg)
{
    task_log *log = arg;

    atomic_fetch_add(&log->started, 1);
    if (atomic_load(&log->failed)) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        atomic_fetch_add(&log->late, 1);
        nanosleep(&pause, NULL);
    }
    if (index == log->fail_at) {
        atomic_store(&log->failed, 1);
        return PEL_FAIL(PEL_ERROR_CALLBACK, "task %zu failed", index);
    }
    atomic_fetch_add(&log->runs[index], 1);
    return 0;
}

static void test_tasks_run_each_once(void)
{
    static const size_t counts[] = {0, 1, 3, 17, 1000};

    for (int threads = 1; threads <= 4; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
            for (int with_costs = 0; with_costs < 2; with_costs++) {
                size_t n = counts[c], bad = 0;
                atomic_int *runs = calloc(n + 1, sizeof *runs);
                double *costs = malloc((n + 1) * sizeof *costs);
                task_log log = {runs, SIZE_MAX, 0, 0, 0};
                pel_test_fill(costs, n, 77);
                for (size_t i = 0; i < n; i++)
                    costs[i] = fabs(costs[i]) * (i % 5 == 0 ? 100 : 1);
                PEL_TEST_OK(pel_run_tasks(n, log_task, &log, with_costs ? costs : NULL));
                for (size_t i = 0; i < n; i++)
                    bad += atomic_load(&runs[i]) != 1;
                CU_ASSERT_EQUAL(bad, 0);
                free(runs);
                free(costs);
            }
    }
    PEL_TEST_OK(pel_set_num_threads(0));
}

static void test_tasks_stop_on_error(void)
{
    enum { N = 20000 };
    atomic_int *runs = calloc(N, sizeof *runs);
    double *costs = malloc(N * sizeof *costs);

    for (size_t i = 0; i < N; i++)
        costs[i] = (double)(N - i); /* task 0 is the most expensive: runs first */
    PEL_TEST_OK(pel_set_num_threads(2));
    for (int with_costs = 0; with_costs < 2; with_costs++) {
        task_log log = {runs, 1, 0, 0, 0};
        int status = pel_run_tasks(N, log_task, &log, with_costs ? costs : NULL);
        CU_ASSERT_EQUAL(status, PEL_ERROR_CALLBACK);
        CU_ASSERT(strstr(pel_last_error(), "task 1 failed") != NULL);
        CU_ASSERT(atomic_load(&log.late) <= 4);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    pel_clear_error();
    free(runs);
    free(costs);
}

/* Exact optimum by trying every assignment (small cases only). */
static double brute_force_optimum(const double *costs, size_t n, int m)
{
    double best = INFINITY;
    size_t total = 1;

    for (size_t i = 0; i < n; i++)
        total *= (size_t)m;
    for (size_t code = 0; code < total; code++) {
        double load[8] = {0}, worst = 0;
        size_t c = code;
        for (size_t i = 0; i < n; i++, c /= (size_t)m)
            load[c % (size_t)m] += costs[i];
        for (int t = 0; t < m; t++)
            worst = load[t] > worst ? load[t] : worst;
        best = worst < best ? worst : best;
    }
    return best;
}

static void test_task_plan_lpt_bound(void)
{
    pel_test_rng rng = {2024};

    for (int trial = 0; trial < 200; trial++) {
        int m = 2 + trial % 3;
        size_t n = 3 + (size_t)(trial % 6);
        double costs[16], makespan = -1, loads[8] = {0}, worst = 0;
        int assignment[16];
        for (size_t i = 0; i < n; i++)
            costs[i] = pel_test_uniform(&rng, 0.1, 10.0);
        PEL_TEST_OK(pel_task_plan(n, costs, m, assignment, &makespan));
        for (size_t i = 0; i < n; i++) {
            CU_ASSERT(assignment[i] >= 0 && assignment[i] < m);
            loads[assignment[i]] += costs[i];
        }
        for (int t = 0; t < m; t++)
            worst = loads[t] > worst ? loads[t] : worst;
        CU_ASSERT_DOUBLE_EQUAL(makespan, worst, 1e-12);
        /* Graham: LPT <= (4/3 - 1/(3m)) * OPT. */
        CU_ASSERT(makespan <= (4.0 / 3.0 - 1.0 / (3.0 * m)) * brute_force_optimum(costs, n, m) * (1 + 1e-12));
    }
    /* Larger: list-scheduling bound sum/m + (1 - 1/m) * max. */
    {
        enum { N = 10000 };
        double *costs = malloc(N * sizeof *costs), sum = 0, max = 0, makespan;
        for (size_t i = 0; i < N; i++) {
            costs[i] = pel_test_uniform(&rng, 0, 1) * pel_test_uniform(&rng, 0, 1) * 50;
            sum += costs[i];
            max = costs[i] > max ? costs[i] : max;
        }
        PEL_TEST_OK(pel_task_plan(N, costs, 7, NULL, &makespan));
        CU_ASSERT(makespan <= sum / 7 + (1 - 1.0 / 7) * max);
        CU_ASSERT(makespan >= sum / 7);
        free(costs);
    }
}

static void test_task_arguments(void)
{
    double costs[3] = {1, -2, 3}, makespan = 9;
    int assignment[3];

    PEL_TEST_EXPECT_ERROR(pel_run_tasks(3, NULL, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_run_tasks", "task");
    PEL_TEST_EXPECT_ERROR(pel_run_tasks(3, log_task, NULL, costs), PEL_ERROR_INVALID_ARGUMENT, "pel_run_tasks",
                          "costs[1]");
    costs[1] = NAN;
    PEL_TEST_EXPECT_ERROR(pel_task_plan(3, costs, 2, assignment, &makespan), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_task_plan", "costs[1]");
    costs[1] = 2;
    PEL_TEST_EXPECT_ERROR(pel_task_plan(3, NULL, 2, assignment, &makespan), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_task_plan", "costs");
    PEL_TEST_EXPECT_ERROR(pel_task_plan(3, costs, 0, assignment, &makespan), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_task_plan", "nthreads=0");
    /* INT_MAX threads would ask malloc for a 16 GiB heap. */
    PEL_TEST_EXPECT_ERROR(pel_task_plan(3, costs, 2147483647, assignment, &makespan), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_task_plan", "nthreads=2147483647 is not in 1..4096");
    CU_ASSERT_EQUAL(makespan, 9);
    PEL_TEST_OK(pel_task_plan(0, NULL, 1, NULL, &makespan));
    CU_ASSERT_EQUAL(makespan, 0);
}

static void add_suites(void)
{
    static const pel_test_case loops[] = {
        {"visits each index once", test_parallel_for_visits_each_index_once},
        {"stops on error", test_parallel_for_stops_on_error},
        {"ranges near SIZE_MAX and huge chunks tile the loop", test_parallel_for_ranges_near_size_max},
        {"shared cursor stops at end", test_cursor_take_stops_at_end},
        {"code without message", test_parallel_for_code_without_message},
        {"arguments", test_parallel_for_arguments},
        {"nested runs serially", test_parallel_for_nested_runs_serially},
        {NULL, NULL}};
    static const pel_test_case reductions[] = {
        {"sum identical for 1..8 threads", test_reduce_sum_identical_for_all_threads},
        {"sum with stride", test_reduce_sum_stride},
        {"sum arguments", test_reduce_sum_arguments},
        {"user combine (argmax)", test_parallel_reduce_user_combine},
        {"combine order", test_parallel_reduce_order},
        {"reduce errors", test_parallel_reduce_errors},
        {"callback failure names the caller", test_callback_failure_names_the_caller},
        {NULL, NULL}};
    static const pel_test_case tasks[] = {
        {"each task once", test_tasks_run_each_once},
        {"stop on error", test_tasks_stop_on_error},
        {"LPT plan bound", test_task_plan_lpt_bound},
        {"arguments", test_task_arguments},
        {NULL, NULL}};

    pel_test_add_suite("exec: parallel_for", loops);
    pel_test_add_suite("exec: reductions", reductions);
    pel_test_add_suite("exec: tasks", tasks);
}

int main(void)
{
    return pel_test_main("test_exec", add_suites);
}
