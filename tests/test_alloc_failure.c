/* Allocation-failure sweeps: every allocation pel itself makes can fail, and
 * every failure must come back as PEL_ERROR_OUT_OF_MEMORY with the outputs
 * untouched (an object out-argument NULL) and nothing leaked.
 *
 * How: this program is linked with -Wl,--wrap=malloc,... (lib/core/Makefile.inc),
 * so every call to malloc, calloc, realloc, posix_memalign, aligned_alloc and
 * free made from the objects linked into it (pel's static library, this file)
 * lands in the __wrap_ functions below. Calls made inside the shared
 * libraries (libgomp, FFTW, OpenBLAS, libc itself) are not redirected: those
 * are not pel's allocations, and libgomp and FFTW abort on a failed malloc,
 * which pel cannot prevent (docs/reliability.md). While the sweep is armed,
 * each allocation call takes a number from an atomic counter (OpenMP worker
 * threads included) and call number N fails; N runs 1, 2, ... until the call
 * succeeds without any injected failure. Every pointer handed out while armed
 * is recorded and crossed off when freed, so a leak on an error path is
 * counted here as well as reported by LeakSanitizer in the ASan build. */
#include "pel_test.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/handle.h"

/* ------------------------------------------------------------ the wraps */

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *ptr, size_t size);
int __real_posix_memalign(void **ptr, size_t alignment, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);
void __real_free(void *ptr);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
int __wrap_posix_memalign(void **ptr, size_t alignment, size_t size);
void *__wrap_aligned_alloc(size_t alignment, size_t size);
void __wrap_free(void *ptr);

static atomic_int armed;      /* count (and maybe fail) allocations */
static atomic_long calls;     /* allocation calls while armed */
static atomic_long fail_at;   /* the call number that fails; 0 = none */
static atomic_long injected;  /* failures handed out */

/* Pointers handed out while armed and not yet freed: an open-addressing set
 * (tombstones, emptied between attempts) under one mutex. */
enum { TRACK_SLOTS = 1 << 16 };
#define TRACK_TOMBSTONE ((void *)1)
static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;
static void *tracked[TRACK_SLOTS];
static atomic_long outstanding; /* live tracked pointers */
static atomic_int track_overflow;

static size_t track_slot(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ULL >> 40) & (TRACK_SLOTS - 1);
}

static void track_add(void *p)
{
    size_t i = track_slot(p);

    pthread_mutex_lock(&track_lock);
    for (size_t probes = 0; probes < TRACK_SLOTS; probes++, i = (i + 1) & (TRACK_SLOTS - 1))
        if (tracked[i] == NULL || tracked[i] == TRACK_TOMBSTONE) {
            tracked[i] = p;
            atomic_fetch_add(&outstanding, 1);
            pthread_mutex_unlock(&track_lock);
            return;
        }
    atomic_store(&track_overflow, 1);
    pthread_mutex_unlock(&track_lock);
}

static void track_remove(void *p)
{
    size_t i = track_slot(p);

    if (p == NULL || atomic_load(&outstanding) == 0)
        return;
    pthread_mutex_lock(&track_lock);
    for (size_t probes = 0; probes < TRACK_SLOTS && tracked[i] != NULL; probes++, i = (i + 1) & (TRACK_SLOTS - 1))
        if (tracked[i] == p) {
            tracked[i] = TRACK_TOMBSTONE;
            atomic_fetch_sub(&outstanding, 1);
            break;
        }
    pthread_mutex_unlock(&track_lock);
}

/* Empties the set (after a leak was counted, so the next attempt starts clean). */
static void track_reset(void)
{
    pthread_mutex_lock(&track_lock);
    memset(tracked, 0, sizeof tracked);
    atomic_store(&outstanding, 0);
    pthread_mutex_unlock(&track_lock);
}

/* 1 when this allocation is to fail; 0 otherwise. *count is set when armed. */
static int next_fails(int *count)
{
    long n;

    *count = atomic_load(&armed);
    if (!*count)
        return 0;
    n = atomic_fetch_add(&calls, 1) + 1;
    if (n == atomic_load(&fail_at)) {
        atomic_fetch_add(&injected, 1);
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t size)
{
    int count;
    void *p;

    if (next_fails(&count))
        return errno = ENOMEM, NULL;
    p = __real_malloc(size);
    if (count && p != NULL)
        track_add(p);
    return p;
}

void *__wrap_calloc(size_t count_, size_t size)
{
    int count;
    void *p;

    if (next_fails(&count))
        return errno = ENOMEM, NULL;
    p = __real_calloc(count_, size);
    if (count && p != NULL)
        track_add(p);
    return p;
}

void *__wrap_realloc(void *ptr, size_t size)
{
    int count;
    void *p;

    if (next_fails(&count))
        return errno = ENOMEM, NULL; /* ptr stays valid, as realloc promises */
    p = __real_realloc(ptr, size);
    if (p != NULL || size == 0) {
        track_remove(ptr);
        if (count && p != NULL)
            track_add(p);
    }
    return p;
}

int __wrap_posix_memalign(void **ptr, size_t alignment, size_t size)
{
    int count, status;

    if (next_fails(&count))
        return ENOMEM;
    status = __real_posix_memalign(ptr, alignment, size);
    if (count && status == 0)
        track_add(*ptr);
    return status;
}

void *__wrap_aligned_alloc(size_t alignment, size_t size)
{
    int count;
    void *p;

    if (next_fails(&count))
        return errno = ENOMEM, NULL;
    p = __real_aligned_alloc(alignment, size);
    if (count && p != NULL)
        track_add(p);
    return p;
}

void __wrap_free(void *ptr)
{
    track_remove(ptr);
    __real_free(ptr);
}

static void arm(long failing_call)
{
    atomic_store(&calls, 0);
    atomic_store(&injected, 0);
    atomic_store(&fail_at, failing_call);
    atomic_store(&armed, 1);
}

static void disarm(void)
{
    atomic_store(&armed, 0);
}

/* ------------------------------------------------------------ the sweep */

/* One call under test. call() runs it on the prepared context and returns
 * its status; prepare() (re)fills the outputs with their starting pattern and
 * keeps a copy; untouched() compares them with the copy after a failure;
 * verify() checks a successful result against a reference; cleanup() frees
 * what a successful call created (and empties caches that keep allocations
 * by design), so that what remains tracked afterwards is a leak. */
typedef struct sweep_case {
    const char *name;
    void *context;
    void (*prepare)(void *context);
    int (*call)(void *context);
    int (*untouched)(void *context);
    int (*verify)(void *context);
    void (*cleanup)(void *context);
} sweep_case;

enum { SWEEP_CAP = 2000 };

typedef struct sweep_result {
    long allocations; /* allocation calls of one successful call */
    long attempts;    /* failures injected (N = 1 .. attempts) */
    long oom;         /* attempts that returned PEL_ERROR_OUT_OF_MEMORY */
    long absorbed;    /* attempts that succeeded anyway, result verified */
} sweep_result;

static long leaks_after(const sweep_case *c)
{
    long leaked;

    if (c->cleanup)
        c->cleanup(c->context);
    leaked = atomic_load(&outstanding);
    if (leaked != 0)
        track_reset();
    return leaked;
}

/* Runs the sweep for one case on the current thread settings; every
 * mismatch is printed and counted as a failed assertion. */
static sweep_result sweep(const sweep_case *c)
{
    sweep_result r = {0, 0, 0, 0};
    int status;
    long leaked;

    /* Warm-up, unarmed: first-use state (the registry's table, FFTW's
     * planner, libgomp's pool, cache sizes) is made here, not in the sweep. */
    c->prepare(c->context);
    status = c->call(c->context);
    if (status != PEL_OK)
        printf("\n  %s: warm-up returned %s: %s\n", c->name, pel_status_name(status), pel_last_error());
    CU_ASSERT_EQUAL_FATAL(status, PEL_OK);
    if (c->cleanup)
        c->cleanup(c->context);
    track_reset();

    /* Count the allocations of a clean call. */
    c->prepare(c->context);
    arm(0);
    status = c->call(c->context);
    disarm();
    r.allocations = atomic_load(&calls);
    CU_ASSERT_EQUAL(status, PEL_OK);
    CU_ASSERT(c->verify(c->context));
    leaked = leaks_after(c);
    if (leaked)
        printf("\n  %s: %ld allocations not freed after a successful call\n", c->name, leaked);
    CU_ASSERT_EQUAL(leaked, 0);

    for (long n = 1; n <= SWEEP_CAP; n++) {
        long failed;
        c->prepare(c->context);
        pel_clear_error();
        arm(n);
        status = c->call(c->context);
        disarm();
        failed = atomic_load(&injected);
        if (failed == 0) {
            /* Fewer than n allocations: the sweep is complete. */
            if (status != PEL_OK)
                printf("\n  %s: no failure injected at n=%ld, yet %s: %s\n", c->name, n, pel_status_name(status),
                       pel_last_error());
            CU_ASSERT_EQUAL(status, PEL_OK);
            CU_ASSERT(c->verify(c->context));
            CU_ASSERT_EQUAL(leaks_after(c), 0);
            break;
        }
        r.attempts++;
        if (status == PEL_OK) {
            /* pel coped without the memory (e.g. a plan not cached): fine
             * only when the result is right. */
            r.absorbed++;
            if (!c->verify(c->context))
                printf("\n  %s: allocation %ld failed, PEL_OK returned with a wrong result\n", c->name, n);
            CU_ASSERT(c->verify(c->context));
        } else {
            int untouched = c->untouched(c->context);
            if (status == PEL_ERROR_OUT_OF_MEMORY)
                r.oom++;
            else
                printf("\n  %s: allocation %ld failed, returned %s: %s\n", c->name, n, pel_status_name(status),
                       pel_last_error());
            CU_ASSERT_EQUAL(status, PEL_ERROR_OUT_OF_MEMORY);
            /* The message names the function the user called: the case's
             * name up to its first blank. */
            if (strncmp(pel_last_error(), c->name, strcspn(c->name, " ")) != 0)
                printf("\n  %s: allocation %ld failed, the message does not name the call: \"%s\"\n", c->name, n,
                       pel_last_error());
            CU_ASSERT(strncmp(pel_last_error(), c->name, strcspn(c->name, " ")) == 0);
            if (!untouched)
                printf("\n  %s: allocation %ld failed and the outputs were written\n", c->name, n);
            CU_ASSERT(untouched);
        }
        leaked = leaks_after(c);
        if (leaked)
            printf("\n  %s: allocation %ld failed, %ld allocations leaked\n", c->name, n, leaked);
        CU_ASSERT_EQUAL(leaked, 0);
        CU_ASSERT_EQUAL_FATAL(n < SWEEP_CAP, 1); /* the call must finish within the cap */
    }
    CU_ASSERT_EQUAL(atomic_load(&track_overflow), 0);
    return r;
}

/* Runs the sweep with 1 and with 3 threads (pel's cutoff set to 1 so that
 * small problems take the parallel paths too) and reports the counts. At
 * least min_allocations allocation calls must be seen: proof that the wraps
 * intercept the calls' allocations (0 only for calls that allocate nothing). */
static void sweep_threads(const sweep_case *c, long min_allocations)
{
    static const int team[] = {1, 3};

    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    for (size_t t = 0; t < sizeof team / sizeof team[0]; t++) {
        sweep_result r;
        PEL_TEST_OK(pel_set_num_threads(team[t]));
        r = sweep(c);
        printf("\n    %-34s %d thread%s: %3ld allocations, %3ld failures injected (%ld OOM, %ld absorbed)", c->name,
               team[t], team[t] > 1 ? "s" : " ", r.allocations, r.attempts, r.oom, r.absorbed);
        if (r.allocations < min_allocations)
            printf("\n  %s: %ld allocations seen, at least %ld expected\n", c->name, r.allocations, min_allocations);
        CU_ASSERT(r.allocations >= min_allocations);
        CU_ASSERT_EQUAL(r.attempts, r.allocations); /* the wraps saw the same calls again */
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
}

/* Helpers for output buffers: a pattern that no kernel would produce, and
 * a copy to compare with. */
static void fill_pattern(void *buffer, size_t bytes)
{
    memset(buffer, 0x5a, bytes);
}

static int same_bytes(const void *buffer, const void *copy, size_t bytes)
{
    return memcmp(buffer, copy, bytes) == 0;
}

/* ------------------------------------------------------------ the wraps work */

/* Keeps the compiler from eliding a malloc/free pair in the test below. */
static void *volatile keep;

static void test_wraps_intercept(void)
{
    void *p, *q;

    /* Counting and failing, each kind of call. */
    arm(0);
    keep = p = malloc(10);
    keep = q = calloc(2, 8);
    disarm();
    CU_ASSERT_EQUAL(atomic_load(&calls), 2);
    CU_ASSERT_EQUAL(atomic_load(&outstanding), 2);
    free(p);
    free(q);
    CU_ASSERT_EQUAL(atomic_load(&outstanding), 0);
    arm(1);
    CU_ASSERT_PTR_NULL(pel_malloc(100));
    CU_ASSERT(strstr(pel_last_error(), "pel_malloc") != NULL);
    disarm();
    arm(2);
    p = malloc(8);
    CU_ASSERT_PTR_NOT_NULL(p);
    {
        /* A failed realloc leaves p valid: gcc's use-after-free warning
         * cannot know that this one failed. */
        void *(*volatile resize)(void *, size_t) = realloc;
        CU_ASSERT_PTR_NULL(resize(p, 64));
    }
    disarm();
    free(p);
    arm(1);
    {
        /* Through a volatile pointer: clang may otherwise drop an
         * allocation whose result is only compared with NULL, and assume it
         * succeeded. */
        void *(*volatile aligned)(size_t, size_t) = aligned_alloc;
        CU_ASSERT_PTR_NULL(aligned(64, 128));
    }
    disarm();
    CU_ASSERT_EQUAL(atomic_load(&outstanding), 0);
    /* From OpenMP worker threads too. */
    arm(0);
#pragma omp parallel num_threads(3)
    {
        void *mine = malloc(16);
        keep = mine;
        free(mine);
    }
    disarm();
    CU_ASSERT_EQUAL(atomic_load(&calls), 3);
    CU_ASSERT_EQUAL(atomic_load(&outstanding), 0);
}

/* ------------------------------------------------------------ core */

typedef struct calloc_ctx {
    size_t count;
    double *result;
} calloc_ctx;

static void calloc_prepare(void *context)
{
    ((calloc_ctx *)context)->result = NULL;
}

static int calloc_call(void *context)
{
    calloc_ctx *c = context;

    c->result = pel_calloc(c->count, sizeof(double));
    return c->result != NULL ? PEL_OK : PEL_ERROR_OUT_OF_MEMORY;
}

static int calloc_untouched(void *context)
{
    /* The returned pointer is the output: NULL, and the message names pel_calloc. */
    return ((calloc_ctx *)context)->result == NULL && strstr(pel_last_error(), "pel_calloc") != NULL;
}

static int calloc_verify(void *context)
{
    calloc_ctx *c = context;

    for (size_t i = 0; i < c->count; i++)
        if (c->result[i] != 0.0)
            return 0;
    return 1;
}

static void calloc_cleanup(void *context)
{
    calloc_ctx *c = context;

    pel_free(c->result);
    c->result = NULL;
}

static void test_core_calloc(void)
{
    calloc_ctx ctx = {(1u << 20) + 3, NULL};
    sweep_case c = {"pel_calloc", &ctx, calloc_prepare, calloc_call, calloc_untouched, calloc_verify,
                    calloc_cleanup};

    sweep_threads(&c, 1);
}

/* ------------------------------------------------------------ exec */

enum { TASKS = 600 };

typedef struct tasks_ctx {
    double costs[TASKS];
    atomic_int runs[TASKS];
    int copy[TASKS];
} tasks_ctx;

static int task_body(size_t index, void *arg)
{
    tasks_ctx *c = arg;

    atomic_fetch_add(&c->runs[index], 1);
    return 0;
}

static void tasks_prepare(void *context)
{
    tasks_ctx *c = context;

    for (size_t i = 0; i < TASKS; i++) {
        atomic_store(&c->runs[i], 0);
        c->copy[i] = 0;
    }
}

static int tasks_call(void *context)
{
    tasks_ctx *c = context;

    return pel_run_tasks(TASKS, task_body, c, c->costs);
}

static int tasks_untouched(void *context)
{
    tasks_ctx *c = context;

    /* Out of memory means no task ran (the plan comes first). */
    for (size_t i = 0; i < TASKS; i++)
        if (atomic_load(&c->runs[i]) != c->copy[i])
            return 0;
    return 1;
}

static int tasks_verify(void *context)
{
    tasks_ctx *c = context;

    for (size_t i = 0; i < TASKS; i++)
        if (atomic_load(&c->runs[i]) != 1)
            return 0;
    return 1;
}

static void test_exec_run_tasks(void)
{
    static tasks_ctx ctx;
    sweep_case c = {"pel_run_tasks (costs)", &ctx, tasks_prepare, tasks_call, tasks_untouched, tasks_verify, NULL};
    pel_test_rng rng = {11};

    for (size_t i = 0; i < TASKS; i++)
        ctx.costs[i] = pel_test_uniform(&rng, 0.5, 7.25);
    sweep_threads(&c, 0); /* 1 thread runs the list without a plan */
    /* With several threads the plan allocates. */
    PEL_TEST_OK(pel_set_num_threads(3));
    tasks_prepare(&ctx);
    arm(0);
    PEL_TEST_OK(tasks_call(&ctx));
    disarm();
    CU_ASSERT(atomic_load(&calls) >= 4);
    PEL_TEST_OK(pel_set_num_threads(0));
}

typedef struct plan_ctx {
    double costs[TASKS];
    int assignment[TASKS], copy[TASKS];
    double makespan, makespan_copy;
} plan_ctx;

static void plan_prepare(void *context)
{
    plan_ctx *c = context;

    for (size_t i = 0; i < TASKS; i++)
        c->assignment[i] = c->copy[i] = -5;
    c->makespan = c->makespan_copy = -2.5;
}

static int plan_call(void *context)
{
    plan_ctx *c = context;

    return pel_task_plan(TASKS, c->costs, 4, c->assignment, &c->makespan);
}

static int plan_untouched(void *context)
{
    plan_ctx *c = context;

    return memcmp(c->assignment, c->copy, sizeof c->assignment) == 0 && c->makespan == c->makespan_copy;
}

static int plan_verify(void *context)
{
    plan_ctx *c = context;
    double load[4] = {0, 0, 0, 0}, most = 0.0;

    /* Every task on a thread, and the makespan is the largest load. */
    for (size_t i = 0; i < TASKS; i++) {
        if (c->assignment[i] < 0 || c->assignment[i] >= 4)
            return 0;
        load[c->assignment[i]] += c->costs[i];
    }
    for (int t = 0; t < 4; t++)
        most = load[t] > most ? load[t] : most;
    return fabs(most - c->makespan) <= 1e-12 * most;
}

static void test_exec_task_plan(void)
{
    static plan_ctx ctx;
    sweep_case c = {"pel_task_plan", &ctx, plan_prepare, plan_call, plan_untouched, plan_verify, NULL};
    pel_test_rng rng = {12};

    for (size_t i = 0; i < TASKS; i++)
        ctx.costs[i] = pel_test_uniform(&rng, 0.5, 7.25);
    sweep_threads(&c, 2);
}

typedef struct reduce_ctx {
    size_t n;
    double result, copy;
} reduce_ctx;

static int reduce_map(size_t begin, size_t end, void *partial, void *arg)
{
    double s = *(double *)partial;

    (void)arg;
    for (size_t i = begin; i < end; i++)
        s += (double)(i % 7) * 0.25;
    *(double *)partial = s;
    return 0;
}

static void reduce_combine(void *left, const void *right, void *arg)
{
    (void)arg;
    *(double *)left += *(const double *)right;
}

static void reduce_prepare(void *context)
{
    reduce_ctx *c = context;

    c->result = c->copy = -1234.5;
}

static int reduce_call(void *context)
{
    reduce_ctx *c = context;
    const double zero = 0.0;

    /* Blocks of 8: the partials outgrow pel's stack buffer and are allocated. */
    return pel_parallel_reduce(c->n, 8, sizeof(double), &zero, reduce_map, reduce_combine, NULL, &c->result);
}

static int reduce_untouched(void *context)
{
    reduce_ctx *c = context;

    return same_bytes(&c->result, &c->copy, sizeof c->result);
}

static int reduce_verify(void *context)
{
    reduce_ctx *c = context;
    double expected = 0.0;

    /* Multiples of 0.25 below 2^53: exact in any order. */
    for (size_t i = 0; i < c->n; i++)
        expected += (double)(i % 7) * 0.25;
    return c->result == expected;
}

static void test_exec_parallel_reduce(void)
{
    reduce_ctx ctx = {40000, 0, 0};
    sweep_case c = {"pel_parallel_reduce", &ctx, reduce_prepare, reduce_call, reduce_untouched, reduce_verify, NULL};

    sweep_threads(&c, 1);
}

/* ------------------------------------------------------------ matrix */

enum { GB_N = 8, GB_ITEMS = 40, GB_BIG = 80, GB_BIG_ITEMS = 3 };

typedef struct batch_ctx {
    size_t n, items;
    double *a, *b, *c, *copy;
    const double **pa, **pb;
    double **pc;
} batch_ctx;

static void batch_init(batch_ctx *x, size_t n, size_t items)
{
    size_t elems = n * n * items;

    x->n = n;
    x->items = items;
    x->a = malloc(elems * sizeof(double));
    x->b = malloc(elems * sizeof(double));
    x->c = malloc(elems * sizeof(double));
    x->copy = malloc(elems * sizeof(double));
    x->pa = malloc(items * sizeof *x->pa);
    x->pb = malloc(items * sizeof *x->pb);
    x->pc = malloc(items * sizeof *x->pc);
    pel_test_fill(x->a, elems, 3);
    pel_test_fill(x->b, elems, 4);
    for (size_t i = 0; i < items; i++) {
        x->pa[i] = x->a + i * n * n;
        x->pb[i] = x->b + i * n * n;
        x->pc[i] = x->c + i * n * n;
    }
}

static void batch_free(batch_ctx *x)
{
    free(x->a);
    free(x->b);
    free(x->c);
    free(x->copy);
    free(x->pa);
    free(x->pb);
    free(x->pc);
}

static void batch_prepare(void *context)
{
    batch_ctx *x = context;

    pel_test_fill(x->c, x->n * x->n * x->items, 5);
    memcpy(x->copy, x->c, x->n * x->n * x->items * sizeof(double));
}

static int batch_call(void *context)
{
    batch_ctx *x = context;

    return pel_dgemm_batch(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, x->n, x->n, x->n, 1.5, x->pa, x->n, x->pb,
                           x->n, 0.5, x->pc, x->n, x->items);
}

static int batch_untouched(void *context)
{
    batch_ctx *x = context;

    return same_bytes(x->c, x->copy, x->n * x->n * x->items * sizeof(double));
}

static int batch_verify(void *context)
{
    batch_ctx *x = context;
    size_t n = x->n;

    /* Naive reference; each entry is a sum of n products of values in
     * [-1, 1): 4n eps bounds the rounding of either order. */
    for (size_t t = 0; t < x->items; t++)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double s = 0.0;
                for (size_t k = 0; k < n; k++)
                    s += x->pa[t][i * n + k] * x->pb[t][k * n + j];
                s = 1.5 * s + 0.5 * x->copy[t * n * n + i * n + j];
                if (fabs(x->pc[t][i * n + j] - s) > 4.0 * (double)n * 2.3e-16 * 2.0)
                    return 0;
            }
    return 1;
}

static void test_matrix_gemm_batch(void)
{
    batch_ctx small, big;
    sweep_case c = {"pel_dgemm_batch 8x8", &small, batch_prepare, batch_call, batch_untouched, batch_verify, NULL};
    sweep_case d = {"pel_dgemm_batch 80x80", &big, batch_prepare, batch_call, batch_untouched, batch_verify, NULL};

    /* pel's batched gemm allocates nothing of its own (its kernels work in
     * stack tiles; large items go to OpenBLAS): the sweep proves it stays so. */
    batch_init(&small, GB_N, GB_ITEMS);
    batch_init(&big, GB_BIG, GB_BIG_ITEMS);
    sweep_threads(&c, 0);
    sweep_threads(&d, 0);
    batch_free(&small);
    batch_free(&big);
}

enum { GESV_N = 40, GESV_RHS = 3 };

typedef struct gesv_ctx {
    double a[GESV_N * GESV_N], a_copy[GESV_N * GESV_N];
    double b[GESV_N * GESV_RHS], b_copy[GESV_N * GESV_RHS];
} gesv_ctx;

static void gesv_prepare(void *context)
{
    gesv_ctx *x = context;

    pel_test_fill(x->b, GESV_N * GESV_RHS, 8);
    memcpy(x->b_copy, x->b, sizeof x->b);
}

static int gesv_call(void *context)
{
    gesv_ctx *x = context;

    return pel_dgesv(PEL_ROW_MAJOR, GESV_N, GESV_RHS, x->a, GESV_N, x->b, GESV_RHS);
}

static int gesv_untouched(void *context)
{
    gesv_ctx *x = context;

    return same_bytes(x->b, x->b_copy, sizeof x->b) && same_bytes(x->a, x->a_copy, sizeof x->a);
}

static int gesv_verify(void *context)
{
    gesv_ctx *x = context;

    /* Residual of A x = b relative to |A||x| + |b|; A is diagonally
     * dominant, so LU is backward stable and 64 n eps is generous. */
    if (!same_bytes(x->a, x->a_copy, sizeof x->a))
        return 0;
    for (size_t i = 0; i < GESV_N; i++)
        for (size_t r = 0; r < GESV_RHS; r++) {
            double s = 0.0, scale = fabs(x->b_copy[i * GESV_RHS + r]);
            for (size_t k = 0; k < GESV_N; k++) {
                s += x->a[i * GESV_N + k] * x->b[k * GESV_RHS + r];
                scale += fabs(x->a[i * GESV_N + k] * x->b[k * GESV_RHS + r]);
            }
            if (fabs(s - x->b_copy[i * GESV_RHS + r]) > 64.0 * GESV_N * 2.3e-16 * scale)
                return 0;
        }
    return 1;
}

static void test_matrix_gesv(void)
{
    static gesv_ctx ctx;
    sweep_case c = {"pel_dgesv", &ctx, gesv_prepare, gesv_call, gesv_untouched, gesv_verify, NULL};

    pel_test_fill(ctx.a, GESV_N * GESV_N, 7);
    for (size_t i = 0; i < GESV_N; i++)
        ctx.a[i * GESV_N + i] += GESV_N;
    memcpy(ctx.a_copy, ctx.a, sizeof ctx.a);
    sweep_threads(&c, 3); /* copies of A and B, and the pivots */
}

/* A reduction long enough that its block results outgrow pel's stack
 * buffer: the scalar result is written only on success. */
typedef struct nrm2_ctx {
    double *x;
    size_t n;
    double result, copy, expected;
} nrm2_ctx;

static void nrm2_prepare(void *context)
{
    nrm2_ctx *c = context;

    c->result = c->copy = -0.75;
}

static int nrm2_call(void *context)
{
    nrm2_ctx *c = context;

    return pel_dnrm2(c->n, c->x, 1, &c->result);
}

static int nrm2_untouched(void *context)
{
    nrm2_ctx *c = context;

    return same_bytes(&c->result, &c->copy, sizeof c->result);
}

static int nrm2_verify(void *context)
{
    nrm2_ctx *c = context;

    /* Against a plain serial sum of squares: both orders are within
     * n eps of the sum, relative. */
    return fabs(c->result - c->expected) <= 1e-10 * c->expected;
}

static void test_matrix_nrm2(void)
{
    nrm2_ctx ctx = {NULL, 300 * 4096, 0, 0, 0};
    sweep_case c = {"pel_dnrm2 (1.2M elements)", &ctx, nrm2_prepare, nrm2_call, nrm2_untouched, nrm2_verify, NULL};
    double sum = 0.0;

    ctx.x = malloc(ctx.n * sizeof(double));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.x);
    pel_test_fill(ctx.x, ctx.n, 9);
    for (size_t i = 0; i < ctx.n; i++)
        sum += ctx.x[i] * ctx.x[i];
    ctx.expected = sqrt(sum);
    sweep_threads(&c, 1);
    free(ctx.x);
}

/* Batched solves: staging for the results, and scratch allocated by each
 * thread inside the parallel region. */
enum { GB_ITEMS_LAPACK = 30, GB_LN = 8 };

typedef struct gesv_batch_ctx {
    double a[GB_ITEMS_LAPACK * GB_LN * GB_LN], b[GB_ITEMS_LAPACK * GB_LN * 2];
    double x[GB_ITEMS_LAPACK * GB_LN * 2], copy[GB_ITEMS_LAPACK * GB_LN * 2];
} gesv_batch_ctx;

static void gesv_batch_prepare(void *context)
{
    gesv_batch_ctx *c = context;

    fill_pattern(c->x, sizeof c->x);
    memcpy(c->copy, c->x, sizeof c->x);
}

static int gesv_batch_call(void *context)
{
    gesv_batch_ctx *c = context;

    return pel_dgesv_batch(PEL_ROW_MAJOR, GB_LN, 2, GB_ITEMS_LAPACK, c->a, GB_LN, GB_LN * GB_LN, c->b, 2,
                           GB_LN * 2, c->x, 2, GB_LN * 2);
}

static int gesv_batch_untouched(void *context)
{
    gesv_batch_ctx *c = context;

    return same_bytes(c->x, c->copy, sizeof c->x);
}

static int gesv_batch_verify(void *context)
{
    gesv_batch_ctx *c = context;

    /* Residuals of every item, relative as for pel_dgesv above. */
    for (size_t t = 0; t < GB_ITEMS_LAPACK; t++)
        for (size_t i = 0; i < GB_LN; i++)
            for (size_t r = 0; r < 2; r++) {
                const double *a = c->a + t * GB_LN * GB_LN, *x = c->x + t * GB_LN * 2;
                double s = 0.0, scale = fabs(c->b[t * GB_LN * 2 + i * 2 + r]);
                for (size_t k = 0; k < GB_LN; k++) {
                    s += a[i * GB_LN + k] * x[k * 2 + r];
                    scale += fabs(a[i * GB_LN + k] * x[k * 2 + r]);
                }
                if (fabs(s - c->b[t * GB_LN * 2 + i * 2 + r]) > 64.0 * GB_LN * 2.3e-16 * scale)
                    return 0;
            }
    return 1;
}

static void test_matrix_gesv_batch(void)
{
    static gesv_batch_ctx ctx;
    sweep_case c = {"pel_dgesv_batch", &ctx, gesv_batch_prepare, gesv_batch_call, gesv_batch_untouched,
                    gesv_batch_verify, NULL};

    pel_test_fill(ctx.a, sizeof ctx.a / sizeof ctx.a[0], 17);
    pel_test_fill(ctx.b, sizeof ctx.b / sizeof ctx.b[0], 18);
    for (size_t t = 0; t < GB_ITEMS_LAPACK; t++)
        for (size_t i = 0; i < GB_LN; i++)
            ctx.a[t * GB_LN * GB_LN + i * GB_LN + i] += GB_LN;
    sweep_threads(&c, 6); /* staging, then five scratch arrays per thread */
}

/* ------------------------------------------------------------ sparse */

enum { CSR_ROWS = 3000, CSR_COLS = 2500, CSR_PER_ROW = 7 };

typedef struct csr_ctx {
    size_t row_ptr[CSR_ROWS + 1], col_idx[CSR_ROWS * CSR_PER_ROW];
    double values[CSR_ROWS * CSR_PER_ROW];
    char path[64];
    pel_csr *matrix;
    int sentinel; /* *out starts as &sentinel: the rule says NULL on failure */
    double x[CSR_COLS], y[CSR_ROWS], y_copy[CSR_ROWS];
} csr_ctx;

static void csr_fill(csr_ctx *c)
{
    pel_test_rng rng = {21};

    c->row_ptr[0] = 0;
    for (size_t i = 0; i < CSR_ROWS; i++) {
        /* Columns in increasing order, a duplicate now and then (summed). */
        size_t col = pel_test_next(&rng) % 50;
        for (size_t k = 0; k < CSR_PER_ROW; k++) {
            size_t at = i * CSR_PER_ROW + k;
            c->col_idx[at] = col < CSR_COLS ? col : CSR_COLS - 1;
            c->values[at] = pel_test_uniform(&rng, -1.0, 1.0);
            col += pel_test_next(&rng) % 5 == 0 ? 0 : 1 + pel_test_next(&rng) % 300;
        }
        c->row_ptr[i + 1] = (i + 1) * CSR_PER_ROW;
    }
    pel_test_fill(c->x, CSR_COLS, 22);
}

/* Dense y = A x from the input arrays (duplicates add), as the reference. */
static void csr_reference(const csr_ctx *c, double *y)
{
    for (size_t i = 0; i < CSR_ROWS; i++) {
        y[i] = 0.0;
        for (size_t k = c->row_ptr[i]; k < c->row_ptr[i + 1]; k++)
            y[i] += c->values[k] * c->x[c->col_idx[k]];
    }
}

static int csr_matrix_right(csr_ctx *c)
{
    double reference[CSR_ROWS];

    if (c->matrix == NULL || pel_csr_rows(c->matrix) != CSR_ROWS || pel_csr_cols(c->matrix) != CSR_COLS)
        return 0;
    if (pel_csr_spmv(c->matrix, 1.0, c->x, 0.0, c->y) != PEL_OK)
        return 0;
    csr_reference(c, reference);
    /* Rows of 7 terms in [-1, 1): the summation orders differ by at most
     * 2 * 7 eps * 7 in absolute terms. */
    for (size_t i = 0; i < CSR_ROWS; i++)
        if (fabs(c->y[i] - reference[i]) > 14.0 * 7.0 * 2.3e-16)
            return 0;
    return 1;
}

static void csr_prepare(void *context)
{
    csr_ctx *c = context;

    c->matrix = (pel_csr *)(void *)&c->sentinel;
}

static int csr_create_call(void *context)
{
    csr_ctx *c = context;

    return pel_csr_create(PEL_FLOAT64, CSR_ROWS, CSR_COLS, c->row_ptr, c->col_idx, c->values, &c->matrix);
}

static int csr_read_call(void *context)
{
    csr_ctx *c = context;

    return pel_csr_read_mtx(c->path, PEL_FLOAT64, &c->matrix);
}

static int csr_out_null(void *context)
{
    return ((csr_ctx *)context)->matrix == NULL;
}

static int csr_verify(void *context)
{
    return csr_matrix_right(context);
}

static void csr_cleanup(void *context)
{
    csr_ctx *c = context;

    if (c->matrix != (pel_csr *)(void *)&c->sentinel)
        pel_csr_destroy(c->matrix);
    c->matrix = NULL;
}

static void spmv_prepare(void *context)
{
    csr_ctx *c = context;

    pel_test_fill(c->y, CSR_ROWS, 23);
    memcpy(c->y_copy, c->y, sizeof c->y);
}

static int spmv_call(void *context)
{
    csr_ctx *c = context;

    return pel_csr_spmv(c->matrix, 1.0, c->x, 0.0, c->y);
}

static int spmv_untouched(void *context)
{
    csr_ctx *c = context;

    return same_bytes(c->y, c->y_copy, sizeof c->y);
}

static int spmv_verify(void *context)
{
    csr_ctx *c = context;
    double reference[CSR_ROWS];

    csr_reference(c, reference);
    for (size_t i = 0; i < CSR_ROWS; i++)
        if (fabs(c->y[i] - reference[i]) > 14.0 * 7.0 * 2.3e-16)
            return 0;
    return 1;
}

static void test_sparse(void)
{
    static csr_ctx ctx;
    sweep_case create = {"pel_csr_create", &ctx, csr_prepare, csr_create_call, csr_out_null, csr_verify,
                         csr_cleanup};
    sweep_case read = {"pel_csr_read_mtx", &ctx, csr_prepare, csr_read_call, csr_out_null, csr_verify,
                       csr_cleanup};
    sweep_case spmv = {"pel_csr_spmv", &ctx, spmv_prepare, spmv_call, spmv_untouched, spmv_verify, NULL};
    FILE *file;
    int fd;

    csr_fill(&ctx);
    sweep_threads(&create, 5);

    /* The same matrix from a Matrix Market file (values printed exactly). */
    snprintf(ctx.path, sizeof ctx.path, "/tmp/pel_alloc_failure_XXXXXX");
    fd = mkstemp(ctx.path);
    CU_ASSERT_FATAL(fd >= 0);
    file = fdopen(fd, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(file);
    fprintf(file, "%%%%MatrixMarket matrix coordinate real general\n%d %d %d\n", CSR_ROWS, CSR_COLS,
            CSR_ROWS * CSR_PER_ROW);
    for (size_t i = 0; i < CSR_ROWS; i++)
        for (size_t k = ctx.row_ptr[i]; k < ctx.row_ptr[i + 1]; k++)
            fprintf(file, "%zu %zu %.17g\n", i + 1, ctx.col_idx[k] + 1, ctx.values[k]);
    CU_ASSERT_EQUAL(fclose(file), 0);
    sweep_threads(&read, 6);
    unlink(ctx.path);

    /* SpMV on a built matrix. */
    PEL_TEST_OK(csr_create_call(&ctx));
    sweep_threads(&spmv, 0);
    pel_csr_destroy(ctx.matrix);
    ctx.matrix = NULL;
}

/* ------------------------------------------------------------ fft */

enum { FFT_N0 = 24, FFT_N1 = 40 };

typedef struct fft_ctx {
    size_t dims[2];
    pel_fft_plan *plan;
    int sentinel;
    /* c2r 2-D: the half spectrum in, the real array out (+1 element so the
     * arrays can be offset by one double: the unaligned variant). */
    double complex_in[2 * FFT_N0 * (FFT_N1 / 2 + 1) + 2], in_copy[2 * FFT_N0 * (FFT_N1 / 2 + 1) + 2];
    double real_out[FFT_N0 * FFT_N1 + 1], out_copy[FFT_N0 * FFT_N1 + 1];
    double c2c[2 * FFT_N0 * FFT_N1], c2c_out[2 * FFT_N0 * FFT_N1], c2c_copy[2 * FFT_N0 * FFT_N1];
} fft_ctx;

static void fft_plan_prepare(void *context)
{
    fft_ctx *c = context;

    c->plan = (pel_fft_plan *)(void *)&c->sentinel;
}

static int fft_plan_call(void *context)
{
    fft_ctx *c = context;

    return pel_fft_plan_create(PEL_FFT_C2R, PEL_FLOAT64, 2, c->dims, 1, PEL_FFT_BACKWARD, 0, NULL, &c->plan);
}

static int fft_plan_out_null(void *context)
{
    return ((fft_ctx *)context)->plan == NULL;
}

/* The c2r of a spectrum that is Hermitian by construction: the inverse of
 * an r2c of a real array, checked by a naive DFT of the output. */
static int fft_real_output_right(const fft_ctx *c, const double *out)
{
    size_t h = FFT_N1 / 2 + 1;

    /* Compare out(j0, j1) with sum_k X(k) e^{+i...} / N, using the half spectrum
     * and conjugate symmetry; the tolerance is 1e-12 relative to the sum of
     * |X|, far above the O(log N eps) of an FFT and far below any wrong
     * index. */
    for (size_t j0 = 0; j0 < FFT_N0; j0 += 5)
        for (size_t j1 = 0; j1 < FFT_N1; j1 += 3) {
            double sum = 0.0, scale = 0.0;
            for (size_t k0 = 0; k0 < FFT_N0; k0++)
                for (size_t k1 = 0; k1 < FFT_N1; k1++) {
                    size_t s0 = k1 < h ? k0 : (FFT_N0 - k0) % FFT_N0, s1 = k1 < h ? k1 : FFT_N1 - k1;
                    double re = c->in_copy[2 * (s0 * h + s1)], im = c->in_copy[2 * (s0 * h + s1) + 1];
                    double angle = 2.0 * M_PI * ((double)(j0 * k0) / FFT_N0 + (double)(j1 * k1) / FFT_N1);
                    if (k1 >= h)
                        im = -im;
                    sum += re * cos(angle) - im * sin(angle);
                    scale += fabs(re) + fabs(im);
                }
            /* The default normalisation scales the backward transform by 1/N. */
            if (fabs(out[j0 * FFT_N1 + j1] - sum / (FFT_N0 * FFT_N1)) > 1e-12 * scale / (FFT_N0 * FFT_N1))
                return 0;
        }
    return 1;
}

static int fft_plan_verify(void *context)
{
    fft_ctx *c = context;
    double out[FFT_N0 * FFT_N1];

    if (c->plan == NULL || c->plan == (pel_fft_plan *)(void *)&c->sentinel)
        return 0;
    if (pel_fft_execute(c->plan, c->in_copy, out) != PEL_OK)
        return 0;
    return fft_real_output_right(c, out);
}

static void fft_plan_cleanup(void *context)
{
    fft_ctx *c = context;

    if (c->plan != (pel_fft_plan *)(void *)&c->sentinel)
        pel_fft_plan_destroy(c->plan);
    c->plan = NULL;
    pel_fft_cache_clear();
}

/* Execute on arrays offset by one double: FFTW's aligned plan does not fit,
 * so execute plans the unaligned variant (and copies the c2r input). */
static void fft_exec_prepare(void *context)
{
    fft_ctx *c = context;

    memcpy(c->complex_in + 1, c->in_copy, sizeof c->in_copy - 2 * sizeof(double));
    fill_pattern(c->real_out, sizeof c->real_out);
    memcpy(c->out_copy, c->real_out, sizeof c->real_out);
}

static int fft_exec_call(void *context)
{
    fft_ctx *c = context;

    return pel_fft_execute(c->plan, c->complex_in + 1, c->real_out + 1);
}

static int fft_exec_untouched(void *context)
{
    fft_ctx *c = context;

    return same_bytes(c->real_out, c->out_copy, sizeof c->real_out) &&
           same_bytes(c->complex_in + 1, c->in_copy, sizeof c->in_copy - 2 * sizeof(double));
}

static int fft_exec_verify(void *context)
{
    fft_ctx *c = context;

    return same_bytes(c->complex_in + 1, c->in_copy, sizeof c->in_copy - 2 * sizeof(double)) &&
           fft_real_output_right(c, c->real_out + 1);
}

static pel_fft_plan *exec_plan;

static void fft_exec_cleanup(void *context)
{
    fft_ctx *c = context;

    /* Each attempt starts from a fresh plan so that the unaligned variant
     * is planned (allocated) inside every attempt. */
    pel_fft_plan_destroy(c->plan);
    exec_plan = NULL;
    PEL_TEST_OK(fft_plan_call(c));
    exec_plan = c->plan;
}

static void fft_c2c_prepare(void *context)
{
    fft_ctx *c = context;

    fill_pattern(c->c2c_out, sizeof c->c2c_out);
    memcpy(c->c2c_copy, c->c2c_out, sizeof c->c2c_out);
}

static int fft_c2c_call(void *context)
{
    fft_ctx *c = context;

    return pel_fft_c2c(2, c->dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, c->c2c, c->c2c_out);
}

static int fft_c2c_untouched(void *context)
{
    fft_ctx *c = context;

    return same_bytes(c->c2c_out, c->c2c_copy, sizeof c->c2c_out);
}

static int fft_c2c_verify(void *context)
{
    fft_ctx *c = context;

    /* Naive DFT at a sample of frequencies (tolerance as above). */
    for (size_t k0 = 0; k0 < FFT_N0; k0 += 7)
        for (size_t k1 = 0; k1 < FFT_N1; k1 += 3) {
            double re = 0.0, im = 0.0, scale = 0.0;
            for (size_t j0 = 0; j0 < FFT_N0; j0++)
                for (size_t j1 = 0; j1 < FFT_N1; j1++) {
                    double xr = c->c2c[2 * (j0 * FFT_N1 + j1)], xi = c->c2c[2 * (j0 * FFT_N1 + j1) + 1];
                    double angle = -2.0 * M_PI * ((double)(j0 * k0) / FFT_N0 + (double)(j1 * k1) / FFT_N1);
                    re += xr * cos(angle) - xi * sin(angle);
                    im += xr * sin(angle) + xi * cos(angle);
                    scale += fabs(xr) + fabs(xi);
                }
            if (fabs(c->c2c_out[2 * (k0 * FFT_N1 + k1)] - re) > 1e-12 * scale ||
                fabs(c->c2c_out[2 * (k0 * FFT_N1 + k1) + 1] - im) > 1e-12 * scale)
                return 0;
        }
    return 1;
}

static void fft_cache_cleanup(void *context)
{
    (void)context;
    pel_fft_cache_clear(); /* the next attempt plans again */
}

/* Sets the shape and a Hermitian half spectrum in in_copy: the r2c of
 * random reals. */
static void make_spectrum(fft_ctx *ctx, uint64_t seed)
{
    double real[FFT_N0 * FFT_N1];
    pel_fft_plan *r2c = NULL;

    ctx->dims[0] = FFT_N0;
    ctx->dims[1] = FFT_N1;
    pel_test_fill(real, FFT_N0 * FFT_N1, seed);
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_R2C, PEL_FLOAT64, 2, ctx->dims, 1, PEL_FFT_FORWARD, 0, NULL, &r2c));
    PEL_TEST_OK(pel_fft_execute(r2c, real, ctx->in_copy));
    pel_fft_plan_destroy(r2c);
}

static void test_fft_plan_and_execute(void)
{
    static fft_ctx ctx;
    sweep_case plan = {"pel_fft_plan_create (c2r 2-D)", &ctx, fft_plan_prepare, fft_plan_call, fft_plan_out_null,
                       fft_plan_verify, fft_plan_cleanup};
    sweep_case execute = {"pel_fft_execute (unaligned)", &ctx, fft_exec_prepare, fft_exec_call, fft_exec_untouched,
                          fft_exec_verify, fft_exec_cleanup};

    make_spectrum(&ctx, 31);
    sweep_threads(&plan, 2); /* the plan and its planning scratch */

    PEL_TEST_OK(fft_plan_call(&ctx));
    exec_plan = ctx.plan;
    sweep_threads(&execute, 2); /* planning scratch of the variant, the input copy */
    pel_fft_plan_destroy(exec_plan);
    ctx.plan = NULL;
}

/* One-shot c2r of rank 2: the plan, and the copy that keeps in unchanged. */
static void fft_c2r_prepare(void *context)
{
    fft_ctx *c = context;

    memcpy(c->complex_in, c->in_copy, sizeof c->in_copy);
    fill_pattern(c->real_out, sizeof c->real_out);
    memcpy(c->out_copy, c->real_out, sizeof c->real_out);
}

static int fft_c2r_call(void *context)
{
    fft_ctx *c = context;

    return pel_fft_c2r(2, c->dims, 1, PEL_FFT_NORM_BACKWARD, c->complex_in, c->real_out);
}

static int fft_c2r_untouched(void *context)
{
    fft_ctx *c = context;

    return same_bytes(c->real_out, c->out_copy, sizeof c->real_out) &&
           same_bytes(c->complex_in, c->in_copy, sizeof c->in_copy);
}

static int fft_c2r_verify(void *context)
{
    fft_ctx *c = context;

    return same_bytes(c->complex_in, c->in_copy, sizeof c->in_copy) && fft_real_output_right(c, c->real_out);
}

typedef struct wisdom_ctx {
    char *text;
    char sentinel;
} wisdom_ctx;

static void wisdom_prepare(void *context)
{
    wisdom_ctx *c = context;

    c->text = &c->sentinel;
}

static int wisdom_call(void *context)
{
    wisdom_ctx *c = context;

    return pel_fft_wisdom_export_string(PEL_FLOAT64, &c->text);
}

static int wisdom_out_null(void *context)
{
    return ((wisdom_ctx *)context)->text == NULL;
}

static int wisdom_verify(void *context)
{
    wisdom_ctx *c = context;

    return c->text != NULL && c->text != &c->sentinel && strstr(c->text, "fftw") != NULL;
}

static void wisdom_cleanup(void *context)
{
    wisdom_ctx *c = context;

    if (c->text != &c->sentinel)
        pel_free(c->text);
    c->text = NULL;
}

static void test_fft_one_shot(void)
{
    static fft_ctx ctx;
    sweep_case c2c = {"pel_fft_c2c (one-shot)", &ctx, fft_c2c_prepare, fft_c2c_call, fft_c2c_untouched,
                      fft_c2c_verify, fft_cache_cleanup};

    ctx.dims[0] = FFT_N0;
    ctx.dims[1] = FFT_N1;
    pel_test_fill(ctx.c2c, 2 * FFT_N0 * FFT_N1, 32);
    sweep_threads(&c2c, 2);
}

static void test_fft_c2r_and_wisdom(void)
{
    static fft_ctx ctx;
    static wisdom_ctx wisdom;
    sweep_case c2r = {"pel_fft_c2r (one-shot, 2-D)", &ctx, fft_c2r_prepare, fft_c2r_call, fft_c2r_untouched,
                      fft_c2r_verify, fft_cache_cleanup};
    sweep_case export = {"pel_fft_wisdom_export_string", &wisdom, wisdom_prepare, wisdom_call, wisdom_out_null,
                         wisdom_verify, wisdom_cleanup};

    make_spectrum(&ctx, 33);
    sweep_threads(&c2r, 4); /* plan, 2 scratch, input copy (the cache entry too) */
    sweep_threads(&export, 1);
}

enum { CONV_A = 3000, CONV_B = 37 };

typedef struct conv_ctx {
    double a[CONV_A], b[CONV_B], out[CONV_A + CONV_B - 1], copy[CONV_A + CONV_B - 1];
} conv_ctx;

static void conv_prepare(void *context)
{
    conv_ctx *c = context;

    fill_pattern(c->out, sizeof c->out);
    memcpy(c->copy, c->out, sizeof c->out);
}

static int conv_call(void *context)
{
    conv_ctx *c = context;
    size_t a_dims[1] = {CONV_A}, b_dims[1] = {CONV_B};

    return pel_fft_convolve(1, a_dims, c->a, b_dims, c->b, PEL_FFT_CONVOLVE_FULL, c->out);
}

static int conv_untouched(void *context)
{
    conv_ctx *c = context;

    return same_bytes(c->out, c->copy, sizeof c->out);
}

static int conv_verify(void *context)
{
    conv_ctx *c = context;

    /* Direct convolution; the FFT's error is a few eps times the sum of
     * |a||b| over the output, bounded here by 1e-12 of it. */
    for (size_t i = 0; i < CONV_A + CONV_B - 1; i++) {
        double s = 0.0, scale = 0.0;
        for (size_t k = 0; k < CONV_B; k++)
            if (i >= k && i - k < CONV_A) {
                s += c->a[i - k] * c->b[k];
                scale += fabs(c->a[i - k] * c->b[k]);
            }
        if (fabs(c->out[i] - s) > 1e-12 * (scale + 1.0))
            return 0;
    }
    return 1;
}

static void test_fft_convolve(void)
{
    static conv_ctx ctx;
    sweep_case c = {"pel_fft_convolve (1-D, tiled)", &ctx, conv_prepare, conv_call, conv_untouched, conv_verify,
                    fft_cache_cleanup};

    pel_test_fill(ctx.a, CONV_A, 41);
    pel_test_fill(ctx.b, CONV_B, 42);
    sweep_threads(&c, 3);
}

/* ------------------------------------------------------------ stencil */

enum { ST_N0 = 20, ST_N1 = 26, ST_N2 = 30, ST_STEPS = 7 };

typedef struct stencil_ctx {
    pel_stencil *stencil;
    int sentinel;
    double coefficients[7];
    size_t dims[3];
    pel_boundary faces[6];
    double grid[ST_N0 * ST_N1 * ST_N2], copy[ST_N0 * ST_N1 * ST_N2], start[ST_N0 * ST_N1 * ST_N2];
    double f[ST_N0 * ST_N1 * ST_N2];
    void *result;
    size_t iterations;
    double residual, residual_copy;
} stencil_ctx;

static void stencil_create_prepare(void *context)
{
    stencil_ctx *c = context;

    c->stencil = (pel_stencil *)(void *)&c->sentinel;
}

static int stencil_create_call(void *context)
{
    stencil_ctx *c = context;

    return pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, c->coefficients, 7, 0, 0.0, &c->stencil);
}

static int stencil_out_null(void *context)
{
    return ((stencil_ctx *)context)->stencil == NULL;
}

static int stencil_create_verify(void *context)
{
    stencil_ctx *c = context;
    pel_precision precision;
    int ndim = 0, radius = 0;
    size_t npoints = 0;

    return c->stencil != NULL && c->stencil != (pel_stencil *)(void *)&c->sentinel &&
           pel_stencil_info(c->stencil, &precision, &ndim, &radius, &npoints) == PEL_OK &&
           precision == PEL_FLOAT64 && ndim == 3 && radius == 1 && npoints == 7;
}

static void stencil_create_cleanup(void *context)
{
    stencil_ctx *c = context;

    if (c->stencil != (pel_stencil *)(void *)&c->sentinel)
        pel_stencil_destroy(c->stencil);
    c->stencil = NULL;
}

/* The naive serial loop the stencil contract defines, Dirichlet faces. */
static void stencil_reference(const stencil_ctx *c, size_t steps, double *u)
{
    static double next[ST_N0 * ST_N1 * ST_N2];
    const long n[3] = {ST_N0, ST_N1, ST_N2};

    for (size_t s = 0; s < steps; s++) {
        for (long i = 0; i < n[0]; i++)
            for (long j = 0; j < n[1]; j++)
                for (long k = 0; k < n[2]; k++) {
                    /* Offsets in lexicographic order: (-1,0,0) (0,-1,0) (0,0,-1) (0,0,0) ... */
                    static const int off[7][3] = {{-1, 0, 0}, {0, -1, 0}, {0, 0, -1}, {0, 0, 0},
                                                  {0, 0, 1},  {0, 1, 0},  {1, 0, 0}};
                    double acc = 0.0;
                    for (int t = 0; t < 7; t++) {
                        long p[3] = {i + off[t][0], j + off[t][1], k + off[t][2]};
                        double v;
                        int face = -1;
                        for (int a = 0; a < 3 && face < 0; a++)
                            if (p[a] < 0)
                                face = 2 * a;
                            else if (p[a] >= n[a])
                                face = 2 * a + 1;
                        v = face >= 0 ? c->faces[face].value : u[(p[0] * n[1] + p[1]) * n[2] + p[2]];
                        acc = t == 0 ? c->coefficients[t] * v : acc + c->coefficients[t] * v;
                    }
                    next[(i * n[1] + j) * n[2] + k] = acc;
                }
        memcpy(u, next, sizeof next);
    }
}

typedef struct grid_ctx {
    pel_stencil *stencil;
    size_t dims[3];
    void *grid;
    char sentinel;
} grid_ctx;

static void grid_prepare(void *context)
{
    ((grid_ctx *)context)->grid = &((grid_ctx *)context)->sentinel;
}

static int grid_call(void *context)
{
    grid_ctx *c = context;

    return pel_stencil_grid_alloc(c->stencil, c->dims, &c->grid);
}

static int grid_out_null(void *context)
{
    return ((grid_ctx *)context)->grid == NULL;
}

static int grid_verify(void *context)
{
    grid_ctx *c = context;
    const double *g = c->grid;

    if (g == NULL || c->grid == (void *)&c->sentinel)
        return 0;
    for (size_t i = 0; i < c->dims[0] * c->dims[1] * c->dims[2]; i++)
        if (g[i] != 0.0)
            return 0;
    return 1;
}

static void grid_cleanup(void *context)
{
    grid_ctx *c = context;

    if (c->grid != (void *)&c->sentinel)
        pel_free(c->grid);
    c->grid = NULL;
}

static void apply_prepare(void *context)
{
    stencil_ctx *c = context;

    memcpy(c->grid, c->start, sizeof c->grid);
    memcpy(c->copy, c->grid, sizeof c->grid);
    c->result = NULL;
}

static int apply_call(void *context)
{
    stencil_ctx *c = context;
    /* Temporal blocking: 3 steps per block on tiles smaller than the grid;
     * work = NULL, so pel allocates the second buffer too. */
    pel_stencil_blocking blocking = {{8, 10, 0}, 3, 0, 0};

    return pel_stencil_apply(c->stencil, c->dims, c->faces, c->grid, NULL, NULL, ST_STEPS, &blocking, &c->result);
}

static int apply_untouched(void *context)
{
    stencil_ctx *c = context;

    return same_bytes(c->grid, c->copy, sizeof c->grid);
}

static int apply_verify(void *context)
{
    stencil_ctx *c = context;
    static double expected[ST_N0 * ST_N1 * ST_N2];

    memcpy(expected, c->start, sizeof expected);
    stencil_reference(c, ST_STEPS, expected);
    /* The contract: the same bits as the naive loop. */
    return c->result == c->grid && same_bytes(c->grid, expected, sizeof expected);
}

static void jacobi_prepare(void *context)
{
    stencil_ctx *c = context;

    memcpy(c->grid, c->start, sizeof c->grid);
    memcpy(c->copy, c->grid, sizeof c->grid);
    c->iterations = 987654321;
    c->residual = c->residual_copy = -42.0;
}

static int jacobi_call(void *context)
{
    stencil_ctx *c = context;
    const double spacing[3] = {0.1, 0.125, 0.2};

    /* 60 steps in checks of 20: three rounds of apply calls, each
     * allocating; NOT_CONVERGED is the expected "success" with tolerance 0. */
    int status = pel_stencil_jacobi_poisson(PEL_FLOAT64, 3, c->dims, spacing, c->faces, c->grid, c->f, 0.0, 60, 20,
                                            &c->iterations, &c->residual);
    return status == PEL_ERROR_NOT_CONVERGED ? PEL_OK : status;
}

static int jacobi_untouched(void *context)
{
    stencil_ctx *c = context;

    return same_bytes(c->grid, c->copy, sizeof c->grid) && c->iterations == 987654321 &&
           same_bytes(&c->residual, &c->residual_copy, sizeof c->residual);
}

static double jacobi_expected[ST_N0 * ST_N1 * ST_N2];
static double jacobi_expected_residual;

static int jacobi_verify(void *context)
{
    stencil_ctx *c = context;

    /* Against the warm-up's result: the solver is deterministic, and its
     * accuracy is tested in test_stencil; here only "the same answer". */
    return c->iterations == 60 && same_bytes(c->grid, jacobi_expected, sizeof c->grid) &&
           c->residual == jacobi_expected_residual;
}

static void test_stencil(void)
{
    static stencil_ctx ctx;
    sweep_case create = {"pel_stencil_create", &ctx, stencil_create_prepare, stencil_create_call, stencil_out_null,
                         stencil_create_verify, stencil_create_cleanup};
    sweep_case apply = {"pel_stencil_apply (temporal)", &ctx, apply_prepare, apply_call, apply_untouched,
                        apply_verify, NULL};
    sweep_case jacobi = {"pel_stencil_jacobi_poisson", &ctx, jacobi_prepare, jacobi_call, jacobi_untouched,
                         jacobi_verify, NULL};
    static const double coefficients[7] = {0.125, 0.0625, 0.1875, 0.25, 0.09375, 0.15625, 0.125};

    memcpy(ctx.coefficients, coefficients, sizeof coefficients);
    ctx.dims[0] = ST_N0;
    ctx.dims[1] = ST_N1;
    ctx.dims[2] = ST_N2;
    for (int f = 0; f < 6; f++)
        ctx.faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.25 * f - 0.5};
    pel_test_fill(ctx.start, ST_N0 * ST_N1 * ST_N2, 51);
    pel_test_fill(ctx.f, ST_N0 * ST_N1 * ST_N2, 52);
    sweep_threads(&create, 3);

    PEL_TEST_OK(stencil_create_call(&ctx));
    sweep_threads(&apply, 2); /* the work grid and the tile space */
    {
        grid_ctx grid = {ctx.stencil, {ST_N0, ST_N1, ST_N2}, NULL, 0};
        sweep_case alloc = {"pel_stencil_grid_alloc", &grid, grid_prepare, grid_call, grid_out_null, grid_verify,
                            grid_cleanup};
        sweep_threads(&alloc, 1);
    }
    pel_stencil_destroy(ctx.stencil);
    ctx.stencil = NULL;

    jacobi_prepare(&ctx);
    PEL_TEST_OK(jacobi_call(&ctx));
    memcpy(jacobi_expected, ctx.grid, sizeof jacobi_expected);
    jacobi_expected_residual = ctx.residual;
    sweep_threads(&jacobi, 6);
}

/* The handle registry's own allocation: its table grows by doubling, so
 * registering objects one by one reaches a registration that allocates. With
 * every allocation failing, that registration must fail cleanly (the object
 * not registered, the others still found); then a plan created at that very
 * point must come back as out of memory with *plan NULL and nothing leaked,
 * and succeed once the memory is there. */
static void test_registry_growth(void)
{
    enum { MOST = 100000 };
    typedef struct dummy {
        pel__handle handle;
    } dummy;
    dummy *objects = malloc(MOST * sizeof *objects);
    size_t count = 0, live = pel__handle_live_count(), bad = 0;
    pel_status status = PEL_OK;
    size_t dims[2] = {12, 10};
    pel_fft_plan *plan = NULL;
    long attempts = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(objects);
    for (; count < MOST; count++) {
        arm(1);
        status = pel__handle_register(&objects[count].handle, PEL__HANDLE_OTHER, -1, "test");
        disarm();
        if (status != PEL_OK)
            break;
    }
    CU_ASSERT_FATAL(count < MOST);
    CU_ASSERT_EQUAL(status, PEL_ERROR_OUT_OF_MEMORY);
    CU_ASSERT(strstr(pel_last_error(), "registry") != NULL);
    CU_ASSERT_EQUAL(pel__handle_check(&objects[count], PEL__HANDLE_OTHER, -1, "test", "x"),
                    PEL_ERROR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live + count);
    for (size_t i = 0; i < count; i++)
        bad += pel__handle_check(&objects[i], PEL__HANDLE_OTHER, -1, "test", "x") != PEL_OK;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(atomic_load(&outstanding), 0);

    /* The next registration grows the table: fail each allocation of a
     * plan creation in turn, the registry's last. */
    for (long n = 1; n < 50; n++) {
        plan = (pel_fft_plan *)(void *)objects;
        arm(n);
        status = pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 2, dims, 1, PEL_FFT_FORWARD, 0, NULL, &plan);
        disarm();
        if (atomic_load(&injected) == 0)
            break;
        attempts++;
        CU_ASSERT_EQUAL(status, PEL_ERROR_OUT_OF_MEMORY);
        CU_ASSERT_PTR_NULL(plan);
        CU_ASSERT_EQUAL(atomic_load(&outstanding), 0);
        if (atomic_load(&outstanding) != 0)
            track_reset();
    }
    CU_ASSERT_EQUAL(status, PEL_OK);
    CU_ASSERT(attempts >= 5); /* the plan, planning scratch, the registry's two tables */
    PEL_TEST_OK(pel__handle_check(plan, PEL__HANDLE_FFT_PLAN, PEL_FLOAT64, "test", "plan"));
    pel_fft_plan_destroy(plan);
    track_reset(); /* the grown table stays, by design */
    for (size_t i = 0; i < count; i++)
        bad += pel__handle_unregister(&objects[i], PEL__HANDLE_OTHER, "test") != 1;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live);
    pel_fft_cache_clear();
    free(objects);
}

/* Destroying objects leaves tombstones that the registry clears now and
 * then by a rebuild. That rebuild must not allocate: with a few objects live,
 * create/destroy cycles must never fail with out of memory. (It allocated a
 * new table, so a create failed at a moment set by the process's history,
 * and a sweep saw one more allocation in some runs than in others.) */
static void test_registry_churn_never_allocates(void)
{
    typedef struct dummy {
        pel__handle handle;
    } dummy;
    enum { POOL = 5000 };
    static dummy objects[POOL];
    size_t live = pel__handle_live_count(), failures = 0;

    /* Objects at ever new addresses (as malloc hands out), at most one live:
     * each lands in a fresh slot, so tombstones pile up and force rebuilds. */
    PEL_TEST_OK(pel__handle_register(&objects[0].handle, PEL__HANDLE_OTHER, -1, "test"));
    CU_ASSERT_EQUAL(pel__handle_unregister(&objects[0], PEL__HANDLE_OTHER, "test"), 1);
    arm(1); /* the first allocation of the whole loop fails */
    for (int round = 0; round < 20; round++)
        for (size_t i = 0; i < POOL; i++) {
            failures += pel__handle_register(&objects[i].handle, PEL__HANDLE_OTHER, -1, "test") != PEL_OK;
            failures += pel__handle_unregister(&objects[i], PEL__HANDLE_OTHER, "test") != 1;
        }
    disarm();
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT_EQUAL(atomic_load(&calls), 0);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live);
}

static void test_nothing_left_registered(void)
{
    /* Every object the sweeps created was destroyed: the handle registry
     * agrees with the allocation counts. */
    CU_ASSERT_EQUAL(pel__handle_live_count(), 0);
}

static void add_suites(void)
{
    static const pel_test_case cases[] = {
        {"the wraps intercept", test_wraps_intercept},
        {"core: pel_calloc", test_core_calloc},
        {"exec: pel_run_tasks with costs", test_exec_run_tasks},
        {"exec: pel_task_plan", test_exec_task_plan},
        {"exec: pel_parallel_reduce", test_exec_parallel_reduce},
        {"matrix: pel_dgemm_batch", test_matrix_gemm_batch},
        {"matrix: pel_dgesv", test_matrix_gesv},
        {"matrix: pel_dnrm2", test_matrix_nrm2},
        {"matrix: pel_dgesv_batch", test_matrix_gesv_batch},
        {"sparse: create, read_mtx, spmv", test_sparse},
        {"fft: plan_create and execute", test_fft_plan_and_execute},
        {"fft: one-shot c2c", test_fft_one_shot},
        {"fft: one-shot c2r, wisdom export", test_fft_c2r_and_wisdom},
        {"fft: convolve", test_fft_convolve},
        {"stencil: create, apply, jacobi", test_stencil},
        {"core: the handle registry cannot grow", test_registry_growth},
        {"core: registry churn never allocates", test_registry_churn_never_allocates},
        {"nothing left registered", test_nothing_left_registered},
        {NULL, NULL}};

    pel_test_add_suite("allocation failure", cases);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The one-shot calls' plan upgrades run on pel's background planner
     * (test_fft_upgrade): its allocations would land in the sweeps'
     * counts at random points, and its queued jobs outlive the calls. A
     * request that cannot allocate is dropped, never a caller's error. */
    pel_fft_set_upgrade_mode(PEL_FFT_UPGRADE_OFF);
    return pel_test_main("test_alloc_failure", add_suites);
}
