/* Kernel "tune": each automatic choice of pel against the best of a sweep
 * over the choices, in the same run. Rows: variant = the choice (e.g.
 * stencil-3d7-128-20: 3-D 7-point, 128^3, 20 steps), seconds = the automatic
 * choice's median, baseline = the best swept candidate, ratio = best swept
 * time / automatic time (1.0: the automatic choice is the best of the sweep;
 * below 1: the sweep found a faster one). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pel_bench.h"
#include "pel.h"
/* The active kernel table and its cutoff, for the gemm_batch cutoff rows
 * (pel-bench links libpel statically, so the internal symbols are there;
 * pel-bench-mpi, linked with the shared libpel, has no such rows). */
#include "matrix/kernels/kernels.h"
#include "matrix/matrix_internal.h"

typedef struct tune_stencil {
    pel_stencil *stencil;
    size_t dims[3];
    pel_boundary faces[6];
    double *grid, *work;
    size_t steps;
    const pel_stencil_blocking *blocking; /* NULL: automatic */
    int failed;
} tune_stencil;

static void stencil_pass(void *arg)
{
    tune_stencil *t = arg;
    void *result;

    if (pel_stencil_apply(t->stencil, t->dims, t->faces, t->grid, t->work, NULL, t->steps, t->blocking, &result) !=
        PEL_OK)
        t->failed = 1;
}

/* Candidates: the model's choice under a range of cache budgets, and plain
 * one-step streaming. */
static const size_t budgets[] = {(size_t)256 << 10, (size_t)1 << 20, (size_t)2 << 20, (size_t)4 << 20,
                                 (size_t)8 << 20,   (size_t)16 << 20, (size_t)32 << 20, (size_t)64 << 20};
/* ... plus the budget the blocking used before the model: the reported L2
 * plus the reported L3's share a thread. */
#define CANDIDATES (sizeof budgets / sizeof budgets[0] + 2)

static int run_stencil_choice(const pel_bench_context *context, int ndim, size_t n, size_t steps)
{
    static const double c3[7] = {0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, c2[5] = {0.5, 0.125, 0.125, 0.125, 0.125};
    char variant[64], size_text[64], extra[256];
    tune_stencil t;
    pel_stencil_blocking candidates[CANDIDATES];
    double t_auto, t_candidate, best = 0, t_reported = 0, t_measured = 0;
    pel_machine machine;
    size_t points = 1, best_index = 0;
    int reps = context->reps < 5 ? context->reps : 5;
    pel_bench_row row = {"tune", variant, size_text, context->threads, 0, 0, 0, NULL, 0, extra};
    static char baseline[64];

    memset(&t, 0, sizeof t);
    for (int a = 0; a < ndim; a++) {
        t.dims[a] = n;
        points *= n;
    }
    for (int f = 0; f < 2 * ndim; f++)
        t.faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.25};
    if (pel_stencil_create(PEL_FLOAT64, ndim, PEL_STENCIL_STAR, 1, ndim == 3 ? c3 : c2, ndim == 3 ? 7 : 5, 0, 0.0,
                           &t.stencil) != PEL_OK)
        return 1;
    t.grid = pel_bench_random(points, 11);
    t.work = pel_bench_random(points, 12);
    t.steps = steps;
    if (t.grid == NULL || t.work == NULL) {
        pel_free(t.grid);
        pel_free(t.work);
        pel_stencil_destroy(t.stencil);
        return 1;
    }
    memset(candidates, 0, sizeof candidates);
    for (size_t i = 0; i + 2 < CANDIDATES; i++)
        candidates[i].cache_bytes = budgets[i];
    if (pel_machine_info(&machine) != PEL_OK)
        return 1;
    candidates[CANDIDATES - 2].cache_bytes =
        (machine.cache[1].reported_bytes ? machine.cache[1].reported_bytes : budgets[2]) +
        machine.cache[2].reported_bytes / (size_t)(context->threads > 0 ? context->threads : 1);
    candidates[CANDIDATES - 1].time_block = 1;

    for (size_t i = 0; i < CANDIDATES; i++) {
        /* Each candidate against the automatic choice, interleaved. */
        tune_stencil automatic = t;
        automatic.blocking = NULL;
        t.blocking = &candidates[i];
        pel_bench_compare(reps, stencil_pass, NULL, &t, &t_candidate, NULL);
        pel_bench_compare(reps, stencil_pass, NULL, &automatic, &t_auto, NULL);
        t.failed |= automatic.failed;
        if (i + 1 < CANDIDATES)
            pel_bench_progress("tune candidate cache_bytes=%zu KiB: %.4g s (automatic %.4g s)",
                               candidates[i].cache_bytes >> 10, t_candidate, t_auto);
        else
            pel_bench_progress("tune candidate time_block=1: %.4g s (automatic %.4g s)", t_candidate, t_auto);
        if (i == CANDIDATES - 2)
            t_reported = t_candidate;
        if (best == 0 || t_candidate < best) {
            best = t_candidate;
            best_index = i;
        }
        if (i == 0 || t_auto < row.seconds)
            row.seconds = t_auto;
    }
    {
        /* The measured choice (PEL_STENCIL_CACHE_MEASURE): its first call,
         * the warm-up, times the candidates; the rounds reuse the winner. */
        pel_stencil_blocking measure;
        memset(&measure, 0, sizeof measure);
        measure.cache_bytes = PEL_STENCIL_CACHE_MEASURE;
        t.blocking = &measure;
        pel_bench_compare(reps, stencil_pass, NULL, &t, &t_measured, NULL);
    }
    if (best_index + 1 < CANDIDATES)
        snprintf(baseline, sizeof baseline, "best of sweep (cache_bytes=%zu KiB)",
                 candidates[best_index].cache_bytes >> 10);
    else
        snprintf(baseline, sizeof baseline, "best of sweep (time_block=1)");
    snprintf(variant, sizeof variant, "stencil-%dd%d-%zu-%zu", ndim, 2 * ndim + 1, n, steps);
    snprintf(size_text, sizeof size_text, "%zu^%d", n, ndim);
    /* reported_budget_seconds: the blocking sized from the OS's report
     * alone, as before the model. */
    snprintf(extra, sizeof extra, "\"steps\":%zu,\"candidates\":%zu,\"reported_budget_kib\":%zu,"
             "\"reported_budget_seconds\":%.6g,\"measured_choice_seconds\":%.6g",
             steps, (size_t)CANDIDATES, candidates[CANDIDATES - 2].cache_bytes >> 10, t_reported, t_measured);
    row.baseline = baseline;
    row.baseline_seconds = best;
    row.gflops = 0;
    row.gbps = 0;
    pel_bench_progress("tune %s: automatic %.4g s, best swept %.4g s, the reported-size budget (%zu KiB) %.4g s, "
                       "measured choice %.4g s",
                       variant, row.seconds, best, candidates[CANDIDATES - 2].cache_bytes >> 10, t_reported,
                       t_measured);
    if (!t.failed)
        pel_bench_emit(&row);
    pel_free(t.grid);
    pel_free(t.work);
    pel_stencil_destroy(t.stencil);
    return t.failed;
}

/* ------------------------------------------------ gemm_batch cutoff */
#ifndef PEL_BENCH_SHARED_LIBPEL

/* The choice: an item of n x n x n goes to pel's kernel (n <= the table's
 * cutoff) or to OpenBLAS. The sweep times both forced, each the way the
 * driver runs it (OpenMP over the batch, runs of neighbouring items per
 * thread), against the automatic call. */
typedef struct tune_batch {
    double *a, *b, *c;
    size_t n, count;
    int threads;
    const pel__matrix_kernels *table;
} tune_batch;

static void batch_auto(void *arg)
{
    tune_batch *t = arg;
    size_t s = t->n * t->n;
    pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, t->n, t->n, t->n, 1.0, t->a, t->n, s, t->b,
                            t->n, s, 1.0, t->c, t->n, s, t->count);
}

static void batch_own_kernel(void *arg)
{
    tune_batch *t = arg;
    size_t s = t->n * t->n;
#pragma omp parallel num_threads(t->threads)
    {
        double work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
        int id = omp_get_thread_num(), team = omp_get_num_threads();
        size_t begin = t->count * (size_t)id / (size_t)team, end = t->count * (size_t)(id + 1) / (size_t)team;
        for (size_t i = begin; i < end; i++)
            t->table->dgemm_small(t->n, t->n, t->n, 1.0, t->a + i * s, 1, (ptrdiff_t)t->n, t->b + i * s, 1,
                                  (ptrdiff_t)t->n, 1.0, t->c + i * s, t->n, work);
    }
}

static void batch_openblas(void *arg)
{
    tune_batch *t = arg;
    int n = (int)t->n;
    size_t s = t->n * t->n;
#pragma omp parallel for schedule(static) num_threads(t->threads)
    for (size_t i = 0; i < t->count; i++)
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, t->a + i * s, n, t->b + i * s, n, 1.0,
                    t->c + i * s, n);
}

static int run_gemm_cutoff(const pel_bench_context *context, size_t n)
{
    char variant[64], extra[200];
    static char baseline[96];
    tune_batch t;
    double t_auto, t_own, t_blas, t_auto2;
    size_t cutoff;
    int reps = context->reps < 5 ? context->reps : 5;
    pel_bench_row row = {"tune", variant, context->size, context->threads, 0, 0, 0, baseline, 0, extra};

    t.n = n;
    /* About 40 MB of items (in memory, as the rows), at least 200. */
    t.count = (size_t)(40e6 / (3.0 * (double)n * n * sizeof(double)));
    if (t.count < 200)
        t.count = 200;
    if (context->quick)
        t.count /= 8;
    t.threads = context->threads;
    t.table = pel__matrix_kernels_get();
    cutoff = pel__matrix_small_max(t.table, 0); /* measured here, outside the timed calls */
    t.a = pel_bench_random(n * n * t.count, 21);
    t.b = pel_bench_random(n * n * t.count, 22);
    t.c = pel_bench_random(n * n * t.count, 23);
    /* Each candidate interleaved with the automatic call. */
    pel_bench_compare(reps, batch_auto, batch_own_kernel, &t, &t_auto, &t_own);
    pel_bench_compare(reps, batch_auto, batch_openblas, &t, &t_auto2, &t_blas);
    if (t_auto2 < t_auto)
        t_auto = t_auto2;
    snprintf(variant, sizeof variant, "gemm_batch-cutoff-%zu", n);
    snprintf(baseline, sizeof baseline, "best of sweep (%s)", t_own <= t_blas ? "pel kernel" : "OpenBLAS");
    snprintf(extra, sizeof extra,
             "\"table\":\"%s\",\"table_cutoff\":%zu,\"cutoff\":%zu,\"automatic\":\"%s\",\"batch\":%zu,"
             "\"own_kernel_seconds\":%.6g,\"openblas_seconds\":%.6g",
             t.table->name, t.table->dgemm_small_max, cutoff, n <= cutoff ? "pel kernel" : "OpenBLAS", t.count, t_own,
             t_blas);
    row.seconds = t_auto;
    row.baseline_seconds = t_own < t_blas ? t_own : t_blas;
    row.gflops = 2.0 * (double)n * n * n * (double)t.count / t_auto * 1e-9;
    pel_bench_progress("tune %s (table %s, cutoff %zu, measured %zu): automatic %.4g s, pel kernel %.4g s, "
                       "OpenBLAS %.4g s", variant, t.table->name, t.table->dgemm_small_max, cutoff, t_auto, t_own,
                       t_blas);
    pel_bench_emit(&row);
    pel_free(t.a);
    pel_free(t.b);
    pel_free(t.c);
    return 0;
}
#else
static int run_gemm_cutoff(const pel_bench_context *context, size_t n)
{
    pel_bench_progress("tune %s: not in this driver (linked with the shared libpel); use pel-bench", context->size);
    return n == 0;
}
#endif

/* ------------------------------------------------ thread counts */

/* The choice: how many threads pel gives a call, from the measured minimum
 * work per thread (lib/tune). The sweep forces 1 thread
 * (pel_set_num_threads_local) and the whole team (a minimum work of 1 unit),
 * each interleaved with the automatic call. */
typedef struct tune_threads {
    int fft;          /* 1: 1-D c2c FFT; 0: CSR SpMV */
    size_t n, times;  /* transform length or rows; calls per timed unit */
    void *in, *out;   /* FFT arrays (complex) or x and y */
    pel_csr *matrix;
    int failed;
} tune_threads;

static void threads_call(void *arg)
{
    tune_threads *t = arg;
    for (size_t i = 0; i < t->times; i++) {
        pel_status status =
            t->fft ? pel_fft_c2c(1, &t->n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, t->in, t->out)
                   : pel_csr_spmv(t->matrix, 1.0, t->in, 0.0, t->out);
        if (status != PEL_OK)
            t->failed = 1;
    }
}

static void threads_one(void *arg)
{
    pel_set_num_threads_local(1);
    threads_call(arg);
    pel_set_num_threads_local(0);
}

static void threads_team(void *arg)
{
    size_t saved = pel_get_min_work_per_thread();
    pel_set_min_work_per_thread(1);
    threads_call(arg);
    pel_set_min_work_per_thread(saved);
}

/* The 2-D 5-point Laplacian on a side x side grid (side^2 rows). */
static pel_csr *laplace2d(size_t side)
{
    size_t rows = side * side, k = 0;
    size_t *row_ptr = malloc((rows + 1) * sizeof *row_ptr), *col = malloc(5 * rows * sizeof *col);
    double *val = malloc(5 * rows * sizeof *val);
    pel_csr *m = NULL;

    if (row_ptr != NULL && col != NULL && val != NULL) {
        for (size_t i = 0; i < side; i++)
            for (size_t j = 0; j < side; j++) {
                size_t r = i * side + j;
                row_ptr[r] = k;
                if (i > 0)
                    col[k] = r - side, val[k++] = -1.0;
                if (j > 0)
                    col[k] = r - 1, val[k++] = -1.0;
                col[k] = r, val[k++] = 4.0;
                if (j + 1 < side)
                    col[k] = r + 1, val[k++] = -1.0;
                if (i + 1 < side)
                    col[k] = r + side, val[k++] = -1.0;
            }
        row_ptr[rows] = k;
        if (pel_csr_create(PEL_FLOAT64, rows, rows, row_ptr, col, val, &m) != PEL_OK)
            m = NULL;
    }
    free(row_ptr);
    free(col);
    free(val);
    return m;
}

static int run_threads_choice(const pel_bench_context *context, int fft, size_t n)
{
    char variant[64], size_text[64], extra[200];
    static char baseline[64];
    tune_threads t = {fft, n, 1, NULL, NULL, NULL, 0};
    double t_auto1, t_auto2, t_one, t_team, best;
    int reps = context->reps < 5 ? context->reps : 5;
    pel_bench_row row = {"tune", variant, size_text, context->threads, 0, 0, 0, baseline, 0, extra};
    pel_fft_effort saved_effort = PEL_FFT_AUTO;

    if (fft) {
        t.in = pel_bench_random(2 * n, 31);
        t.out = pel_bench_random(2 * n, 32);
        /* Fixed MEASURE plans (ESTIMATE in the quick suite), one per thread
         * count, made in the warm-up: the steady state after an upgrade,
         * with no upgrade landing during the rounds. */
        saved_effort = pel_fft_get_default_effort();
        pel_fft_set_default_effort(context->quick ? PEL_FFT_ESTIMATE : PEL_FFT_MEASURE, 0.0);
    } else {
        size_t side = (size_t)(sqrt((double)n) + 0.5);
        n = side * side;
        t.n = n;
        t.matrix = laplace2d(side);
        t.in = pel_bench_random(n, 33);
        t.out = pel_bench_random(n, 34);
    }
    if (t.in == NULL || t.out == NULL || (!fft && t.matrix == NULL)) {
        pel_free(t.in);
        pel_free(t.out);
        pel_csr_destroy(t.matrix);
        return 1;
    }
    /* Calls per timed unit: about 2 ms of work at a few GFLOP/s. */
    t.times = (size_t)(2e6 / (fft ? 5.0 * (double)n * log2((double)n) : 10.0 * (double)n)) + 1;
    pel_bench_compare(reps, threads_call, threads_one, &t, &t_auto1, &t_one);
    pel_bench_compare(reps, threads_call, threads_team, &t, &t_auto2, &t_team);
    row.seconds = (t_auto1 < t_auto2 ? t_auto1 : t_auto2) / (double)t.times;
    best = (t_one < t_team ? t_one : t_team) / (double)t.times;
    snprintf(variant, sizeof variant, "%s-threads-%zu", fft ? "fft" : "spmv", n);
    snprintf(size_text, sizeof size_text, "%zu", n);
    snprintf(baseline, sizeof baseline, "best of sweep (%s)", t_one <= t_team ? "1 thread" : "whole team");
    snprintf(extra, sizeof extra, "\"one_thread_seconds\":%.6g,\"team_seconds\":%.6g%s", t_one / (double)t.times,
             t_team / (double)t.times, !fft ? "" : context->quick ? ",\"effort\":\"ESTIMATE\"" : ",\"effort\":\"MEASURE\"");
    row.baseline_seconds = best;
    pel_bench_progress("tune %s: automatic %.4g s, 1 thread %.4g s, %d threads %.4g s (per call)", variant,
                       row.seconds, t_one / (double)t.times, context->threads, t_team / (double)t.times);
    if (!t.failed)
        pel_bench_emit(&row);
    if (fft)
        pel_fft_set_default_effort(saved_effort, 0.0);
    pel_free(t.in);
    pel_free(t.out);
    pel_csr_destroy(t.matrix);
    return t.failed;
}

static int run_tune(const pel_bench_context *context)
{
    int ndim, points;
    size_t n, steps;

    if (sscanf(context->size, "stencil-%dd%d-%zu-%zu", &ndim, &points, &n, &steps) == 4 &&
        (ndim == 2 || ndim == 3) && points == 2 * ndim + 1 && n >= 8 && steps >= 1)
        return run_stencil_choice(context, ndim, n, steps);
    if (sscanf(context->size, "gemm_batch-cutoff-%zu", &n) == 1 && n >= 1 && n <= PEL_GEMM_SMALL_MAX)
        return run_gemm_cutoff(context, n);
    if (sscanf(context->size, "fft-threads-%zu", &n) == 1 && n >= 16 && n <= ((size_t)1 << 24))
        return run_threads_choice(context, 1, n);
    if (sscanf(context->size, "spmv-threads-%zu", &n) == 1 && n >= 16 && n <= ((size_t)1 << 26))
        return run_threads_choice(context, 0, n);
    pel_bench_progress("tune: size '%s' is not stencil-3d7-N-STEPS, stencil-2d5-N-STEPS, gemm_batch-cutoff-N "
                       "(N <= %d), fft-threads-N or spmv-threads-N\n", context->size, PEL_GEMM_SMALL_MAX);
    return 1;
}

const pel_bench_kernel pel_bench_tune_kernels[] = {
    {"tune",
     "automatic choices vs the best of a sweep (stencil blocking, gemm_batch cutoff to OpenBLAS, FFT and SpMV "
     "thread counts)",
     "stencil-3d7-128-50,stencil-2d5-4096-50,gemm_batch-cutoff-8,gemm_batch-cutoff-16,gemm_batch-cutoff-24,"
     "gemm_batch-cutoff-32,gemm_batch-cutoff-33,gemm_batch-cutoff-40,gemm_batch-cutoff-48,gemm_batch-cutoff-64,"
     "fft-threads-1024,fft-threads-4096,fft-threads-16384,fft-threads-65536,spmv-threads-4096,spmv-threads-32768,"
     "spmv-threads-262144",
     "stencil-3d7-64-10,stencil-2d5-1024-10,gemm_batch-cutoff-32,gemm_batch-cutoff-48,fft-threads-4096,"
     "spmv-threads-4096",
     run_tune},
    {NULL, NULL, NULL, NULL, NULL},
};

/* pel-bench --machine: the measured machine model. */
int pel_bench_print_machine(void)
{
    static const char *const names[3] = {"L1d", "L2", "L3"};
    pel_machine m;

    if (pel_machine_info(&m) != PEL_OK) {
        fprintf(stderr, "pel-bench: %s\n", pel_last_error());
        return 1;
    }
    printf("machine model (measured on %d thread%s in %.0f ms, sweep up to %zu MiB)\n", m.threads,
           m.threads == 1 ? "" : "s", m.measure_seconds * 1e3, m.sweep_bytes >> 20);
    for (int k = 0; k < 3; k++)
        printf("  %-4s %10zu KiB effective (%s)  reported %zu KiB, shared by %d  read %.1f GB/s\n", names[k],
               m.cache[k].bytes >> 10, pel_machine_source_name(m.cache[k].source), m.cache[k].reported_bytes >> 10,
               m.cache[k].shared_by, m.cache[k].gbps);
    printf("  memory read %.1f GB/s (%s)\n", m.memory_gbps, pel_machine_source_name(m.memory_source));
    printf("  FMA %.1f GFLOP/s (%s)\n", m.fma_gflops, pel_machine_source_name(m.fma_source));
    printf("  parallel region %.2f us\n", m.parallel_region_us);
    printf("  sweep (working set of the team: read GB/s):");
    for (int i = 0; i < m.sweep_points; i++)
        printf("%s%zu KiB: %.1f", i % 4 ? ", " : "\n    ", m.sweep_point_bytes[i] >> 10, m.sweep_point_gbps[i]);
    printf("\n");
    return 0;
}
