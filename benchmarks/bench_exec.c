/* pel-bench kernels of the exec layer: parallel_for overhead, the
 * reproducible sum, STREAM copy/triad (the bandwidth reference that
 * memory-bound kernels are compared with), and concurrent callers sharing
 * the thread budget. */
#include "pel_bench.h"

#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pel.h"

/* ------------------------------------------------------------ stream */

typedef struct stream_arrays {
    double *a, *b, *c;
    size_t n;
    int threads;
} stream_arrays;

static void stream_copy_omp(void *arg)
{
    stream_arrays *s = arg;
    double *restrict c = s->c;
    const double *restrict a = s->a;
#pragma omp parallel for schedule(static) num_threads(s->threads)
    for (size_t i = 0; i < s->n; i++)
        c[i] = a[i];
}

static void stream_triad_omp(void *arg)
{
    stream_arrays *s = arg;
    double *restrict a = s->a;
    const double *restrict b = s->b, *restrict c = s->c;
#pragma omp parallel for schedule(static) num_threads(s->threads)
    for (size_t i = 0; i < s->n; i++)
        a[i] = b[i] + 3.0 * c[i];
}

static int copy_range(size_t begin, size_t end, void *arg)
{
    stream_arrays *s = arg;
    memcpy(s->c + begin, s->a + begin, (end - begin) * sizeof(double));
    return 0;
}

static int triad_range(size_t begin, size_t end, void *arg)
{
    stream_arrays *s = arg;
    double *restrict a = s->a;
    const double *restrict b = s->b, *restrict c = s->c;
    for (size_t i = begin; i < end; i++)
        a[i] = b[i] + 3.0 * c[i];
    return 0;
}

static void stream_copy_pel(void *arg)
{
    pel_parallel_for(0, ((stream_arrays *)arg)->n, PEL_SCHEDULE_STATIC, 0, copy_range, arg);
}

static void stream_triad_pel(void *arg)
{
    pel_parallel_for(0, ((stream_arrays *)arg)->n, PEL_SCHEDULE_STATIC, 0, triad_range, arg);
}

/* Allocates and first-touches the arrays with the same static partition. */
static int stream_setup(stream_arrays *s, size_t n, int threads)
{
    s->n = n;
    s->threads = threads;
    s->a = pel_bench_random(n, 1);
    s->b = pel_bench_random(n, 2);
    s->c = pel_bench_random(n, 3);
    return 0;
}

static void stream_teardown(stream_arrays *s)
{
    pel_free(s->a);
    pel_free(s->b);
    pel_free(s->c);
}

enum { STREAM_N = 1 << 25 };

void *pel_bench_stream_open(int threads)
{
    stream_arrays *s = malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    stream_setup(s, STREAM_N, threads);
    if (s->a == NULL || s->b == NULL || s->c == NULL) {
        stream_teardown(s);
        free(s);
        return NULL;
    }
    return s;
}

void pel_bench_stream_close(void *stream)
{
    if (stream) {
        stream_teardown(stream);
        free(stream);
    }
}

void pel_bench_stream_copy(void *stream)
{
    stream_copy_omp(stream);
}

void pel_bench_stream_triad(void *stream)
{
    stream_triad_omp(stream);
}

double pel_bench_stream_gbps(pel_bench_fn pass, double seconds)
{
    const double elements = (double)STREAM_N * sizeof(double);
    return (pass == pel_bench_stream_triad ? 3.0 : 2.0) * elements / seconds * 1e-9;
}

static int run_stream(const pel_bench_context *context)
{
    size_t n;
    stream_arrays s;
    double t_pel, t_base;
    pel_bench_row row = {"stream", "copy", context->size, context->threads, 0, 0, 0,
                         "omp parallel for", 0, NULL};

    if (pel_bench_parse_dims(context->size, &n, 1) != 1)
        return 1;
    stream_setup(&s, n, context->threads);
    pel_bench_compare(context->reps, stream_copy_pel, stream_copy_omp, &s, &t_pel, &t_base);
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gbps = 2.0 * (double)n * sizeof(double) / t_pel * 1e-9;
    pel_bench_emit(&row);
    pel_bench_compare(context->reps, stream_triad_pel, stream_triad_omp, &s, &t_pel, &t_base);
    row.variant = "triad";
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gbps = 3.0 * (double)n * sizeof(double) / t_pel * 1e-9;
    row.gflops = 2.0 * (double)n / t_pel * 1e-9;
    pel_bench_emit(&row);
    stream_teardown(&s);
    return 0;
}

/* ------------------------------------------------------------ parallel_for */

/* A light body (y = 2x + y on a slice) so that the scheduling cost shows. */
typedef struct axpy_loop {
    double *x, *y;
    size_t n;
    int threads;
    pel_schedule schedule;
} axpy_loop;

static int axpy_range(size_t begin, size_t end, void *arg)
{
    axpy_loop *l = arg;
    for (size_t i = begin; i < end; i++)
        l->y[i] += 2.0 * l->x[i];
    return 0;
}

static void axpy_pel(void *arg)
{
    axpy_loop *l = arg;
    pel_parallel_for(0, l->n, l->schedule, l->schedule == PEL_SCHEDULE_STATIC ? 0 : 1024, axpy_range, l);
}

static void axpy_omp(void *arg)
{
    axpy_loop *l = arg;
    double *restrict y = l->y;
    const double *restrict x = l->x;
    switch (l->schedule) {
    case PEL_SCHEDULE_STATIC:
#pragma omp parallel for schedule(static) num_threads(l->threads)
        for (size_t i = 0; i < l->n; i++)
            y[i] += 2.0 * x[i];
        break;
    case PEL_SCHEDULE_DYNAMIC:
#pragma omp parallel for schedule(dynamic, 1024) num_threads(l->threads)
        for (size_t i = 0; i < l->n; i++)
            y[i] += 2.0 * x[i];
        break;
    case PEL_SCHEDULE_GUIDED:
#pragma omp parallel for schedule(guided, 1024) num_threads(l->threads)
        for (size_t i = 0; i < l->n; i++)
            y[i] += 2.0 * x[i];
        break;
    }
}

/* Repeats each call so that tiny sizes are timed over many calls. */
typedef struct repeated {
    axpy_loop *loop;
    int times;
} repeated;

static void repeat_pel(void *arg)
{
    repeated *r = arg;
    for (int i = 0; i < r->times; i++)
        axpy_pel(r->loop);
}

static void repeat_omp(void *arg)
{
    repeated *r = arg;
    for (int i = 0; i < r->times; i++)
        axpy_omp(r->loop);
}

static int run_parallel_for(const pel_bench_context *context)
{
    static const struct {
        const char *name;
        pel_schedule schedule;
        const char *baseline;
    } variants[] = {{"static", PEL_SCHEDULE_STATIC, "omp for schedule(static)"},
                    {"dynamic", PEL_SCHEDULE_DYNAMIC, "omp for schedule(dynamic)"},
                    {"guided", PEL_SCHEDULE_GUIDED, "omp for schedule(guided)"}};
    size_t n;
    axpy_loop l;
    int times;

    if (pel_bench_parse_dims(context->size, &n, 1) != 1)
        return 1;
    l.x = pel_bench_random(n, 4);
    l.y = pel_bench_random(n, 5);
    l.n = n;
    l.threads = context->threads;
    times = n < 100000 ? (int)(1000000 / n) : 1;
    if (times < 1)
        times = 1;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        repeated calls = {&l, times};
        double t_pel, t_base;
        pel_bench_row row = {"parallel_for", variants[v].name, context->size, context->threads, 0, 0, 0,
                             variants[v].baseline, 0, NULL};
        l.schedule = variants[v].schedule;
        pel_bench_compare(context->reps, repeat_pel, repeat_omp, &calls, &t_pel, &t_base);
        row.seconds = t_pel / times;
        row.baseline_seconds = t_base / times;
        row.gflops = 2.0 * (double)n / row.seconds * 1e-9;
        row.gbps = 3.0 * (double)n * sizeof(double) / row.seconds * 1e-9;
        pel_bench_emit(&row);
    }
    pel_free(l.x);
    pel_free(l.y);
    return 0;
}

/* ------------------------------------------------------------ reproducible sum */

typedef struct sum_case {
    double *x;
    size_t n;
    int threads;
    volatile double result;
} sum_case;

static void sum_pel(void *arg)
{
    sum_case *s = arg;
    double r = 0;
    pel_reduce_sum(s->x, s->n, 1, &r);
    s->result = r;
}

static void sum_omp(void *arg)
{
    sum_case *s = arg;
    double r = 0;
    const double *x = s->x;
#pragma omp parallel for schedule(static) reduction(+ : r) num_threads(s->threads)
    for (size_t i = 0; i < s->n; i++)
        r += x[i];
    s->result = r;
}

static int run_sum(const pel_bench_context *context)
{
    size_t n;
    sum_case s;
    double t_pel, t_base;
    pel_bench_row row = {"sum", "reproducible", context->size, context->threads, 0, 0, 0,
                         "omp reduction(+)", 0, NULL};

    if (pel_bench_parse_dims(context->size, &n, 1) != 1)
        return 1;
    s.x = pel_bench_random(n, 6);
    s.n = n;
    s.threads = context->threads;
    pel_bench_compare(context->reps, sum_pel, sum_omp, &s, &t_pel, &t_base);
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gflops = (double)n / t_pel * 1e-9;
    row.gbps = (double)n * sizeof(double) / t_pel * 1e-9;
    pel_bench_emit(&row);
    pel_free(s.x);
    return 0;
}

/* ------------------------------------------------------------ concurrent callers */

/* P user threads each run the same loop of pel kernels at once: the
 * reproducible sum and daxpy (pel's own parallel regions) and a dgemm
 * (OpenBLAS's team). With the thread budget on, the callers share the
 * budget's threads; off, each starts a full team and the machine runs P
 * times that many. The pel side is budget on, the baseline budget off. */
enum { CONCURRENT_ROUNDS = 8, CONCURRENT_GEMM = 128 };

typedef struct concurrent_case {
    double *x, *y, *a, *c; /* x, y: n each; a, c: CONCURRENT_GEMM^2 each, per caller */
    size_t n;
    int callers;
    int one_thread_each; /* the hand-tuned alternative: pel_set_num_threads_local(1) */
    volatile double sink;
} concurrent_case;

typedef struct concurrent_caller {
    concurrent_case *work;
    int index;
} concurrent_caller;

static void *concurrent_loop(void *arg)
{
    concurrent_caller *me = arg;
    concurrent_case *w = me->work;
    double *y = w->y + (size_t)me->index * w->n;
    double *c = w->c + (size_t)me->index * CONCURRENT_GEMM * CONCURRENT_GEMM;
    double sum = 0.0;

    pel_set_num_threads_local(w->one_thread_each ? 1 : 0);
    for (int round = 0; round < CONCURRENT_ROUNDS; round++) {
        double part = 0.0;
        pel_reduce_sum(w->x, w->n, 1, &part);
        pel_daxpy(w->n, 1e-3, w->x, 1, y, 1);
        pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, CONCURRENT_GEMM, CONCURRENT_GEMM, CONCURRENT_GEMM, 1.0,
                  w->a, CONCURRENT_GEMM, w->a, CONCURRENT_GEMM, 0.0, c, CONCURRENT_GEMM);
        sum += part + c[round];
    }
    w->sink = sum;
    return NULL;
}

static void concurrent_run(concurrent_case *w)
{
    pthread_t threads[64];
    concurrent_caller callers[64];

    for (int t = 0; t < w->callers; t++) {
        callers[t] = (concurrent_caller){w, t};
        if (pthread_create(&threads[t], NULL, concurrent_loop, &callers[t]) != 0)
            callers[t].work = NULL;
    }
    for (int t = 0; t < w->callers; t++)
        if (callers[t].work != NULL)
            pthread_join(threads[t], NULL);
}

static void concurrent_budget_on(void *arg)
{
    pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT);
    concurrent_run(arg);
}

static void concurrent_budget_off(void *arg)
{
    pel_set_thread_budget(0);
    concurrent_run(arg);
    pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT);
}

static void concurrent_one_thread_each(void *arg)
{
    concurrent_case *w = arg;

    pel_set_thread_budget(0);
    w->one_thread_each = 1;
    concurrent_run(w);
    w->one_thread_each = 0;
    pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT);
}

static int run_concurrent(const pel_bench_context *context)
{
    static const int counts[] = {1, 4, 8}; /* 1: the budget must cost a lone caller nothing */
    size_t n;

    if (pel_bench_parse_dims(context->size, &n, 1) != 1)
        return 1;
    for (size_t v = 0; v < sizeof counts / sizeof counts[0]; v++) {
        concurrent_case w;
        char variant[32], extra[256];
        double t_on, t_off, t_one, unused, flops;
        pel_bench_row row = {"exec", variant, context->size, context->threads, 0, 0, 0,
                             "the same callers with the thread budget off", 0, extra};
        w.n = n;
        w.callers = counts[v];
        w.one_thread_each = 0;
        w.x = pel_bench_random(n, 21);
        w.y = pel_bench_random(n * (size_t)counts[v], 22);
        w.a = pel_bench_random(CONCURRENT_GEMM * CONCURRENT_GEMM, 23);
        w.c = pel_bench_random(CONCURRENT_GEMM * CONCURRENT_GEMM * (size_t)counts[v], 24);
        if (w.x == NULL || w.y == NULL || w.a == NULL || w.c == NULL)
            return 1;
        snprintf(variant, sizeof variant, "concurrent-%d", counts[v]);
        pel_bench_compare(context->reps, concurrent_budget_on, concurrent_budget_off, &w, &t_on, &t_off);
        /* For context: each caller fixed to one pel thread, budget off. */
        pel_bench_compare(context->reps, concurrent_one_thread_each, NULL, &w, &t_one, &unused);
        snprintf(extra, sizeof extra,
                 "\"callers\":%d,\"budget\":%d,\"rounds\":%d,\"gemm\":%d,\"one_thread_each_seconds\":%.6g",
                 counts[v], pel_get_thread_budget(), CONCURRENT_ROUNDS, CONCURRENT_GEMM, t_one);
        /* Work of all callers: sum n, daxpy 2n, gemm 2*G^3 flops per round. */
        flops = (double)counts[v] * CONCURRENT_ROUNDS *
                (3.0 * (double)n + 2.0 * CONCURRENT_GEMM * CONCURRENT_GEMM * CONCURRENT_GEMM);
        row.seconds = t_on;
        row.baseline_seconds = t_off;
        row.gflops = flops / t_on * 1e-9;
        pel_bench_emit(&row);
        pel_free(w.x);
        pel_free(w.y);
        pel_free(w.a);
        pel_free(w.c);
    }
    return 0;
}

const pel_bench_kernel pel_bench_exec_kernels[] = {
    {"stream", "STREAM copy and triad: pel_parallel_for vs a plain OpenMP loop", "33554432", "8388608",
     run_stream},
    {"parallel_for", "pel_parallel_for overhead (y += 2x) vs omp parallel for, per schedule",
     "1000,100000,10000000", "1000,1000000", run_parallel_for},
    {"sum", "reproducible pel_reduce_sum vs omp reduction(+)", "33554432", "4194304", run_sum},
    {"exec", "1, 4 and 8 user threads calling pel at once (sum, daxpy, dgemm 128): thread budget on vs off",
     "1048576", "262144", run_concurrent},
    {NULL, NULL, NULL, NULL, NULL},
};
