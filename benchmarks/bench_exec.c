/* pel-bench kernels of the exec layer: parallel_for overhead, the
 * reproducible sum, and STREAM copy/triad (the bandwidth reference that
 * memory-bound kernels are compared with). */
#include "pel_bench.h"

#include <omp.h>
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

const pel_bench_kernel pel_bench_exec_kernels[] = {
    {"stream", "STREAM copy and triad: pel_parallel_for vs a plain OpenMP loop", "33554432", "8388608",
     run_stream},
    {"parallel_for", "pel_parallel_for overhead (y += 2x) vs omp parallel for, per schedule",
     "1000,100000,10000000", "1000,1000000", run_parallel_for},
    {"sum", "reproducible pel_reduce_sum vs omp reduction(+)", "33554432", "4194304", run_sum},
    {NULL, NULL, NULL, NULL, NULL},
};
