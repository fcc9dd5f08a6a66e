/* pel-bench kernels of the matrix layer: gemm (pel_dgemm vs cblas_dgemm),
 * gemm_batch (pel's small kernels vs an OpenMP loop of single-threaded
 * cblas_dgemm), transpose (pel_domatcopy vs a plain OpenMP double loop, and
 * as a fraction of STREAM copy), dot and nrm2 (reproducible vs a plain
 * OpenMP reduction). */
#include "pel_bench.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "pel.h"

/* ------------------------------------------------------------ gemm */

typedef struct gemm_case {
    double *a, *b, *c;
    size_t n;
} gemm_case;

static void gemm_pel(void *arg)
{
    gemm_case *g = arg;
    pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, g->n, g->n, g->n, 1.0, g->a, g->n, g->b, g->n, 0.0, g->c,
              g->n);
}

static void gemm_blas(void *arg)
{
    gemm_case *g = arg;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)g->n, (int)g->n, (int)g->n, 1.0, g->a, (int)g->n,
                g->b, (int)g->n, 0.0, g->c, (int)g->n);
}

/* OpenBLAS's large-dgemm rate on `threads` threads (n = 2048, 1024 in a
 * quick run), cached: the practical peak that gemm_batch is measured
 * against. */
static double dgemm_peak_gflops(int threads, int quick)
{
    static double cached[257];
    gemm_case g = {NULL, NULL, NULL, quick ? 1024 : 2048};
    double t;

    if (threads < 257 && cached[threads] > 0)
        return cached[threads];
    g.a = pel_bench_random(g.n * g.n, 1);
    g.b = pel_bench_random(g.n * g.n, 2);
    g.c = pel_bench_random(g.n * g.n, 3);
    pel_bench_compare(3, NULL, gemm_blas, &g, NULL, &t);
    pel_free(g.a);
    pel_free(g.b);
    pel_free(g.c);
    t = 2.0 * (double)g.n * (double)g.n * (double)g.n / t * 1e-9;
    if (threads < 257)
        cached[threads] = t;
    return t;
}

static int run_gemm(const pel_bench_context *context)
{
    size_t n;
    gemm_case g;
    double t_pel, t_base;
    pel_bench_row row = {"gemm", "dgemm", context->size, context->threads, 0, 0, 0, "cblas_dgemm", 0, NULL};

    if (pel_bench_parse_dims(context->size, &n, 1) != 1)
        return 1;
    g.n = n;
    g.a = pel_bench_random(n * n, 1);
    g.b = pel_bench_random(n * n, 2);
    g.c = pel_bench_random(n * n, 3);
    /* A 4096 product takes seconds here: fewer rounds, still interleaved. */
    pel_bench_compare(n >= 2048 && context->reps > 3 ? 3 : context->reps, gemm_pel, gemm_blas, &g, &t_pel, &t_base);
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gflops = 2.0 * (double)n * n * n / t_pel * 1e-9;
    pel_bench_emit(&row);
    pel_free(g.a);
    pel_free(g.b);
    pel_free(g.c);
    return 0;
}

/* ------------------------------------------------------------ gemm_batch */

typedef struct batch_case {
    double *a, *b, *c;
    size_t n, count;
    int threads;
} batch_case;

static void batch_pel(void *arg)
{
    batch_case *bc = arg;
    size_t s = bc->n * bc->n;
    pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, bc->n, bc->n, bc->n, 1.0, bc->a, bc->n, s,
                            bc->b, bc->n, s, 1.0, bc->c, bc->n, s, bc->count);
}

/* What a user writes without pel: OpenMP over the batch, one cblas_dgemm per
 * item (OpenBLAS runs single-threaded inside the parallel region). */
static void batch_blas(void *arg)
{
    batch_case *bc = arg;
    int n = (int)bc->n;
    size_t s = bc->n * bc->n;
#pragma omp parallel for schedule(static) num_threads(bc->threads)
    for (size_t i = 0; i < bc->count; i++)
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, bc->a + i * s, n, bc->b + i * s, n, 1.0,
                    bc->c + i * s, n);
}

static int run_gemm_batch(const pel_bench_context *context)
{
    size_t n;
    batch_case bc;
    double t_pel, t_base, peak, triad, bytes, flops, roofline;
    char extra[160];
    pel_bench_row row = {"gemm_batch", "dgemm", context->size, context->threads, 0, 0, 0,
                         "omp loop of cblas_dgemm", 0, extra};

    if (pel_bench_parse_dims(context->size, &n, 1) != 1 || n == 0)
        return 1;
    /* 20000 items as in the measurement; fewer for big items. */
    bc.count = n <= 32 ? 20000 : 2000;
    if (context->quick)
        bc.count /= 10;
    bc.n = n;
    bc.threads = context->threads;
    bc.a = pel_bench_random(n * n * bc.count, 1);
    bc.b = pel_bench_random(n * n * bc.count, 2);
    bc.c = pel_bench_random(n * n * bc.count, 3);
    pel_bench_compare(context->reps, batch_pel, batch_blas, &bc, &t_pel, &t_base);
    {
        /* Triad for the memory roofline, timed after: interleaved, its
         * 768 MB would evict a batch that lives in the L3. */
        pel_bench_reference ref = {pel_bench_stream_triad, pel_bench_stream_open(context->threads), 0.0};
        if (ref.arg)
            pel_bench_compare_with(5, NULL, NULL, NULL, &ref, NULL, NULL);
        triad = ref.arg ? pel_bench_stream_gbps(ref.fn, ref.median) : 0.0;
        pel_bench_stream_close(ref.arg);
    }
    flops = 2.0 * (double)n * n * n * (double)bc.count;
    /* Compulsory traffic: A and B read, C read and written. */
    bytes = 4.0 * (double)n * n * sizeof(double) * (double)bc.count;
    peak = dgemm_peak_gflops(context->threads, context->quick);
    roofline = flops / bytes * triad;
    if (roofline > peak)
        roofline = peak;
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gflops = flops / t_pel * 1e-9;
    row.gbps = bytes / t_pel * 1e-9;
    snprintf(extra, sizeof extra,
             "\"batch\":%zu,\"dgemm_peak_gflops\":%.4g,\"pct_dgemm_peak\":%.4g,\"roofline_gflops\":%.4g,"
             "\"pct_roofline\":%.4g",
             bc.count, peak, 100.0 * row.gflops / peak, roofline, 100.0 * row.gflops / roofline);
    pel_bench_progress("gemm_batch %zu: %.1f GFLOP/s = %.0f%% of DGEMM peak (%.1f), %.0f%% of the roofline (%.1f)",
                       n, row.gflops, 100.0 * row.gflops / peak, peak, 100.0 * row.gflops / roofline, roofline);
    pel_bench_emit(&row);
    pel_free(bc.a);
    pel_free(bc.b);
    pel_free(bc.c);
    return 0;
}

/* ------------------------------------------------------------ transpose */

typedef struct transpose_case {
    double *a, *b;
    size_t n;
    int threads;
} transpose_case;

static void transpose_pel(void *arg)
{
    transpose_case *t = arg;
    pel_domatcopy(PEL_ROW_MAJOR, PEL_TRANS, t->n, t->n, 1.0, t->a, t->n, t->b, t->n);
}

/* The plain loop: B = A^T row-major, writes contiguous, reads strided. */
static void transpose_omp(void *arg)
{
    transpose_case *t = arg;
    const double *restrict a = t->a;
    double *restrict b = t->b;
    size_t n = t->n;
#pragma omp parallel for schedule(static) num_threads(t->threads)
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            b[i * n + j] = a[j * n + i];
}

static int run_transpose(const pel_bench_context *context)
{
    size_t n;
    transpose_case t;
    double t_pel, t_base, copy;
    char extra[96];
    pel_bench_row row = {"transpose", "domatcopy", context->size, context->threads, 0, 0, 0,
                         "omp double loop", 0, extra};

    if (pel_bench_parse_dims(context->size, &n, 1) != 1)
        return 1;
    t.n = n;
    t.threads = context->threads;
    t.a = pel_bench_random(n * n, 1);
    t.b = pel_bench_random(n * n, 2);
    {
        pel_bench_reference ref = {pel_bench_stream_copy, pel_bench_stream_open(context->threads), 0.0};
        pel_bench_compare_with(context->reps, transpose_pel, transpose_omp, &t, ref.arg ? &ref : NULL, &t_pel,
                               &t_base);
        copy = ref.arg ? pel_bench_stream_gbps(ref.fn, ref.median) : 0.0;
        pel_bench_stream_close(ref.arg);
    }
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gbps = 2.0 * (double)n * n * sizeof(double) / t_pel * 1e-9;
    snprintf(extra, sizeof extra, "\"stream_copy_gbps\":%.4g,\"pct_stream_copy\":%.4g", copy, 100.0 * row.gbps / copy);
    pel_bench_progress("transpose %zu: %.1f GB/s = %.0f%% of stream copy (%.1f GB/s)", n, row.gbps,
                       100.0 * row.gbps / copy, copy);
    pel_bench_emit(&row);
    pel_free(t.a);
    pel_free(t.b);
    return 0;
}

/* ------------------------------------------------------------ dot, nrm2 */

typedef struct reduce_case {
    double *x, *y;
    size_t n;
    int threads;
    volatile double result;
} reduce_case;

static void dot_pel(void *arg)
{
    reduce_case *r = arg;
    double v = 0;
    pel_ddot(r->n, r->x, 1, r->y, 1, &v);
    r->result = v;
}

static void dot_omp(void *arg)
{
    reduce_case *r = arg;
    const double *x = r->x, *y = r->y;
    double v = 0;
#pragma omp parallel for schedule(static) reduction(+ : v) num_threads(r->threads)
    for (size_t i = 0; i < r->n; i++)
        v += x[i] * y[i];
    r->result = v;
}

static void nrm2_pel(void *arg)
{
    reduce_case *r = arg;
    double v = 0;
    pel_dnrm2(r->n, r->x, 1, &v);
    r->result = v;
}

/* The plain loop a user writes: unscaled, so it overflows for |x| > 1e154. */
static void nrm2_omp(void *arg)
{
    reduce_case *r = arg;
    const double *x = r->x;
    double v = 0;
#pragma omp parallel for schedule(static) reduction(+ : v) num_threads(r->threads)
    for (size_t i = 0; i < r->n; i++)
        v += x[i] * x[i];
    r->result = sqrt(v);
}

static int run_reduction(const pel_bench_context *context, int is_dot)
{
    size_t n;
    reduce_case r;
    double t_pel, t_base, bytes;
    pel_bench_row row = {is_dot ? "dot" : "nrm2", is_dot ? "ddot" : "dnrm2", context->size, context->threads, 0, 0, 0,
                         "omp reduction(+)", 0, NULL};

    if (pel_bench_parse_dims(context->size, &n, 1) != 1)
        return 1;
    r.n = n;
    r.threads = context->threads;
    r.x = pel_bench_random(n, 1);
    r.y = is_dot ? pel_bench_random(n, 2) : NULL;
    pel_bench_compare(context->reps, is_dot ? dot_pel : nrm2_pel, is_dot ? dot_omp : nrm2_omp, &r, &t_pel, &t_base);
    bytes = (is_dot ? 2.0 : 1.0) * (double)n * sizeof(double);
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gflops = 2.0 * (double)n / t_pel * 1e-9;
    row.gbps = bytes / t_pel * 1e-9;
    pel_bench_emit(&row);
    pel_free(r.x);
    pel_free(r.y);
    return 0;
}

static int run_dot(const pel_bench_context *context)
{
    return run_reduction(context, 1);
}

static int run_nrm2(const pel_bench_context *context)
{
    return run_reduction(context, 0);
}

const pel_bench_kernel pel_bench_matrix_kernels[] = {
    {"gemm", "pel_dgemm vs cblas_dgemm (square, column-major, NN)", "256,512,1024,2048,4096", "256", run_gemm},
    {"gemm_batch", "pel_dgemm_batch_strided vs an OpenMP loop of cblas_dgemm (20000 items; % of DGEMM peak)",
     "8,16,32", "8,32", run_gemm_batch},
    {"transpose", "pel_domatcopy transpose vs a plain OpenMP double loop (% of stream copy)", "8192", "2048",
     run_transpose},
    {"dot", "reproducible pel_ddot vs omp reduction(+)", "33554432", "4194304", run_dot},
    {"nrm2", "reproducible, overflow-safe pel_dnrm2 vs an unscaled omp reduction(+)", "33554432", "4194304",
     run_nrm2},
    {NULL, NULL, NULL, NULL, NULL},
};
