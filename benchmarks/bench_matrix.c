/* pel-bench kernels of the matrix layer: gemm (pel_dgemm vs cblas_dgemm),
 * gemm_batch (pel's small kernels vs LIBXSMM's JIT kernels and vs an OpenMP
 * loop of single-threaded cblas_dgemm), transpose (pel_domatcopy vs a plain OpenMP double loop, and
 * as a fraction of STREAM copy), dot and nrm2 (reproducible vs a plain
 * OpenMP reduction). */
#include "config.h"

#include "pel_bench.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PEL_HAVE_LIBXSMM
#include <libxsmm.h>
#endif

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

/* Sizes: "N" (N x N x N) or "MxNxK", optionally ":COUNT" items (default
 * 20000, 2000 above 32). Two rows each: pel against LIBXSMM (its JIT kernel
 * for the shape, dispatched once outside the timed region and called per
 * item in an OpenMP loop over the batch, as its documentation does for a
 * batch of independent products), and pel against an OpenMP loop of
 * single-threaded cblas_dgemm. Every timed sample repeats the call until it
 * has run about 20000 items, so a batch of 10 items is timed over 2000
 * calls (in cache, as a small batch in a real code's inner loop is). */
typedef struct batch_case {
    double *a, *b, *c;
    size_t m, n, k, count, loops;
    int threads;
#ifdef PEL_HAVE_LIBXSMM
    libxsmm_dmmfunction xsmm;
#endif
} batch_case;

static void batch_pel(void *arg)
{
    batch_case *bc = arg;
    for (size_t r = 0; r < bc->loops; r++)
        pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, bc->m, bc->n, bc->k, 1.0, bc->a, bc->m,
                                bc->m * bc->k, bc->b, bc->k, bc->k * bc->n, 1.0, bc->c, bc->m, bc->m * bc->n,
                                bc->count);
}

/* What a user writes without pel: OpenMP over the batch, one cblas_dgemm per
 * item (OpenBLAS runs single-threaded inside the parallel region). */
static void batch_blas(void *arg)
{
    batch_case *bc = arg;
    int m = (int)bc->m, n = (int)bc->n, k = (int)bc->k;
    size_t sa = bc->m * bc->k, sb = bc->k * bc->n, sc = bc->m * bc->n;
    for (size_t r = 0; r < bc->loops; r++) {
#pragma omp parallel for schedule(static) num_threads(bc->threads)
        for (size_t i = 0; i < bc->count; i++)
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, bc->a + i * sa, m, bc->b + i * sb,
                        k, 1.0, bc->c + i * sc, m);
    }
}

#ifdef PEL_HAVE_LIBXSMM
static void batch_xsmm(void *arg)
{
    batch_case *bc = arg;
    const libxsmm_dmmfunction kernel = bc->xsmm;
    size_t sa = bc->m * bc->k, sb = bc->k * bc->n, sc = bc->m * bc->n;
    for (size_t r = 0; r < bc->loops; r++) {
#pragma omp parallel for schedule(static) num_threads(bc->threads)
        for (size_t i = 0; i < bc->count; i++)
            kernel(bc->a + i * sa, bc->b + i * sb, bc->c + i * sc);
    }
}

/* The same kernel on the calling thread alone: what an expert runs for a
 * batch too small to pay for a parallel region (reported beside the row). */
static void batch_xsmm_serial(void *arg)
{
    batch_case *bc = arg;
    const libxsmm_dmmfunction kernel = bc->xsmm;
    size_t sa = bc->m * bc->k, sb = bc->k * bc->n, sc = bc->m * bc->n;
    for (size_t r = 0; r < bc->loops; r++)
        for (size_t i = 0; i < bc->count; i++)
            kernel(bc->a + i * sa, bc->b + i * sb, bc->c + i * sc);
}
#endif

/* "MxNxK[:COUNT]" or "N[:COUNT]"; returns 0 on a malformed size. */
static int parse_batch_size(const char *size, size_t dims[3], size_t *count)
{
    char text[64];
    const char *colon = strchr(size, ':');
    size_t len = colon ? (size_t)(colon - size) : strlen(size);
    int nd;

    if (len == 0 || len >= sizeof text)
        return 0;
    memcpy(text, size, len);
    text[len] = '\0';
    nd = pel_bench_parse_dims(text, dims, 3);
    if (nd == 1)
        dims[1] = dims[2] = dims[0];
    else if (nd != 3)
        return 0;
    *count = dims[0] <= 32 && dims[1] <= 32 && dims[2] <= 32 ? 20000 : 2000;
    if (colon) {
        char *end;
        unsigned long long v = strtoull(colon + 1, &end, 10);
        if (end == colon + 1 || *end != '\0' || v == 0)
            return 0;
        *count = (size_t)v;
    }
    return 1;
}

static int run_gemm_batch(const pel_bench_context *context)
{
    size_t dims[3], count, elems_a, elems_b, elems_c;
    batch_case bc;
    double t_pel, t_base, t_serial = 0, peak, level_gbps, bytes, set_bytes, flops, roofline;
    const char *level;
    char extra[400];
    pel_bench_row row = {"gemm_batch", "dgemm-vs-libxsmm", context->size, context->threads, 0, 0, 0,
                         "LIBXSMM JIT kernel per item, omp loop", 0, extra};

    if (!parse_batch_size(context->size, dims, &count)) {
        pel_bench_progress("gemm_batch: size '%s' is not N, MxNxK, N:COUNT or MxNxK:COUNT", context->size);
        return 1;
    }
    if (context->quick && count >= 20000)
        count /= 10;
    memset(&bc, 0, sizeof bc);
    bc.m = dims[0];
    bc.n = dims[1];
    bc.k = dims[2];
    bc.count = count;
    bc.loops = count >= 20000 ? 1 : (20000 + count - 1) / count;
    bc.threads = context->threads;
    elems_a = bc.m * bc.k * count;
    elems_b = bc.k * bc.n * count;
    elems_c = bc.m * bc.n * count;
    bc.a = pel_bench_random(elems_a, 1);
    bc.b = pel_bench_random(elems_b, 2);
    bc.c = pel_bench_random(elems_c, 3);
    flops = 2.0 * (double)bc.m * bc.n * bc.k * (double)count * (double)bc.loops;
    /* Compulsory traffic of a call: A and B read, C read and written. */
    bytes = (double)(elems_a + elems_b + 2 * elems_c) * sizeof(double) * (double)bc.loops;
    set_bytes = (double)(elems_a + elems_b + elems_c) * sizeof(double);
    peak = dgemm_peak_gflops(context->threads, context->quick);
    level_gbps = pel_bench_level_gbps((size_t)set_bytes, context->threads, &level);
    roofline = level_gbps > 0 ? flops / bytes * level_gbps : peak;
    if (roofline > peak)
        roofline = peak;

#ifdef PEL_HAVE_LIBXSMM
    {
        const double alpha = 1.0, beta = 1.0;
        const int flags = LIBXSMM_GEMM_FLAG_NONE, prefetch = LIBXSMM_PREFETCH_NONE;
        libxsmm_blasint lda = (libxsmm_blasint)bc.m, ldb = (libxsmm_blasint)bc.k, ldc = (libxsmm_blasint)bc.m;
        libxsmm_init();
        bc.xsmm = libxsmm_dmmdispatch((libxsmm_blasint)bc.m, (libxsmm_blasint)bc.n, (libxsmm_blasint)bc.k, &lda,
                                      &ldb, &ldc, &alpha, &beta, &flags, &prefetch);
    }
    if (bc.xsmm != NULL) {
        pel_bench_compare(context->reps, batch_pel, batch_xsmm, &bc, &t_pel, &t_base);
        pel_bench_compare(context->reps, NULL, batch_xsmm_serial, &bc, NULL, &t_serial);
    } else
#endif
    {
        /* No LIBXSMM kernel (not built with it, or no JIT for the shape):
         * the row says so and carries no ratio. */
        row.baseline = "LIBXSMM unavailable (not configured or no JIT kernel)";
        pel_bench_compare(context->reps, batch_pel, NULL, &bc, &t_pel, NULL);
        t_base = 0;
    }
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gflops = flops / t_pel * 1e-9;
    row.gbps = bytes / t_pel * 1e-9;
    /* per_item_ns: one item's share of a call, the measure. */
    snprintf(extra, sizeof extra,
             "\"m\":%zu,\"n\":%zu,\"k\":%zu,\"batch\":%zu,\"calls_per_sample\":%zu,\"working_set_bytes\":%.0f,"
             "\"level\":\"%s\",\"level_gbps\":%.4g,\"dgemm_peak_gflops\":%.4g,\"pct_dgemm_peak\":%.4g,"
             "\"roofline_gflops\":%.4g,\"pct_roofline\":%.4g,\"per_item_ns\":%.4g,\"baseline_serial_seconds\":%.6g",
             bc.m, bc.n, bc.k, count, bc.loops, set_bytes, level, level_gbps, peak, 100.0 * row.gflops / peak,
             roofline, 100.0 * row.gflops / roofline, t_pel / ((double)count * bc.loops) * 1e9, t_serial);
    pel_bench_progress("gemm_batch %s: %.1f GFLOP/s = %.0f%% of DGEMM peak (%.1f), %.0f%% of the roofline (%.1f; "
                       "working set %.3g MB in %s at %.0f GB/s), %.3g ns an item",
                       context->size, row.gflops, 100.0 * row.gflops / peak, peak, 100.0 * row.gflops / roofline,
                       roofline, set_bytes * 1e-6, level, level_gbps, t_pel / ((double)count * bc.loops) * 1e9);
    pel_bench_emit(&row);

    row.variant = "dgemm-vs-openblas";
    row.baseline = "omp loop of cblas_dgemm";
    pel_bench_compare(context->reps, batch_pel, batch_blas, &bc, &t_pel, &t_base);
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gflops = flops / t_pel * 1e-9;
    row.gbps = bytes / t_pel * 1e-9;
    snprintf(extra, sizeof extra,
             "\"m\":%zu,\"n\":%zu,\"k\":%zu,\"batch\":%zu,\"calls_per_sample\":%zu,\"level\":\"%s\","
             "\"pct_dgemm_peak\":%.4g,\"pct_roofline\":%.4g,\"per_item_ns\":%.4g",
             bc.m, bc.n, bc.k, count, bc.loops, level, 100.0 * row.gflops / peak, 100.0 * row.gflops / roofline,
             t_pel / ((double)count * bc.loops) * 1e9);
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
    double t_pel, t_base, copy, level_gbps;
    const char *level;
    char extra[200];
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
    /* STREAM copy runs on 2^25-double arrays (DRAM); a 2048^2 transpose
     * (64 MB) may live in the L3, so the fraction that says how close the
     * row is to its bound is of the bandwidth of the level that holds A and
     * B, from the machine model. */
    level_gbps = pel_bench_level_gbps(2 * n * n * sizeof(double), context->threads, &level);
    snprintf(extra, sizeof extra,
             "\"stream_copy_gbps\":%.4g,\"pct_stream_copy\":%.4g,\"level\":\"%s\",\"level_gbps\":%.4g,"
             "\"pct_level\":%.4g",
             copy, 100.0 * row.gbps / copy, level, level_gbps, level_gbps > 0 ? 100.0 * row.gbps / level_gbps : 0.0);
    pel_bench_progress("transpose %zu: %.1f GB/s = %.0f%% of the %s read bandwidth of the model (%.1f GB/s; "
                       "STREAM copy in DRAM %.1f GB/s)",
                       n, row.gbps, level_gbps > 0 ? 100.0 * row.gbps / level_gbps : 0.0, level, level_gbps, copy);
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
    {"gemm_batch",
     "pel_dgemm_batch_strided vs LIBXSMM and vs an OpenMP loop of cblas_dgemm (N or MxNxK[:COUNT], 20000 items; "
     "% of the roofline at the working set's cache level)",
     "2,3,4,5,6,8,12,16,24,32,4x8x4,8x4x16,23x5x7,4:10,4:100,4:1000,4:100000,8:10,8:100,8:1000,16:10,16:1000,"
     "32:10,32:1000,23x5x7:100",
     "4,8,32,4x8x4,4:100,8:1000", run_gemm_batch},
    {"transpose", "pel_domatcopy transpose vs a plain OpenMP double loop (% of stream copy)", "8192", "2048",
     run_transpose},
    {"dot", "reproducible pel_ddot vs omp reduction(+)", "33554432", "4194304", run_dot},
    {"nrm2", "reproducible, overflow-safe pel_dnrm2 vs an unscaled omp reduction(+)", "33554432", "4194304",
     run_nrm2},
    {NULL, NULL, NULL, NULL, NULL},
};
