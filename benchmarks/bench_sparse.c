/* pel-bench kernels of the sparse layer: SpMV y = A*x on three matrices
 * (a 3-D 7-point Laplacian, random columns, power-law row lengths), pel's
 * nonzero-balanced pel_csr_spmv against two baselines on the same entries
 * and x: the loop an HPC expert writes (rows split over the threads by
 * nonzeros, arrays on huge pages and first-touched by the thread that reads
 * them, 32-bit indices, plain stores of y), which the targets are against,
 * and the plain OpenMP schedule(static) CSR loop a user writes. */
#include "pel_bench.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pel.h"

/* The matrix as pel_csr_create() takes it. */
typedef struct csr_arrays {
    size_t rows, cols, nnz;
    size_t *row_ptr, *col_idx;
    double *values;
} csr_arrays;

/* The expert loop's matrix: 32-bit row pointers and columns, each thread's
 * rows (a contiguous run holding 1/threads of the entries) copied by that
 * thread into 2 MiB-aligned buffers advised MADV_HUGEPAGE (pel_malloc does
 * both for buffers of 4 MiB or more), so its pages are its own. */
typedef struct expert_csr {
    uint32_t *row_ptr, *col_idx;
    double *values;
    size_t *thread_row; /* threads + 1 row boundaries */
    double *y;
} expert_csr;

/* The plain loop's matrix: 32-bit indices (what a C user writes for fewer
 * than 2^31 entries) in malloc'd memory, the same entries as pel's. */
typedef struct spmv_case {
    pel_csr *matrix;
    size_t rows;
    int *row_ptr, *col_idx;
    double *values;
    double *x, *y_pel, *y_base;
    expert_csr expert;
    int threads;
    int calls; /* products per timed call: small matrices repeat, so a timing is not one clock tick */
} spmv_case;

static int allocate_arrays(csr_arrays *a, size_t rows, size_t cols, size_t nnz)
{
    a->rows = rows;
    a->cols = cols;
    a->nnz = nnz;
    a->row_ptr = malloc((rows + 1) * sizeof(size_t));
    a->col_idx = malloc(nnz * sizeof(size_t));
    a->values = pel_bench_random(nnz, 17);
    return a->row_ptr && a->col_idx && a->values ? 0 : 1;
}

static void free_arrays(csr_arrays *a)
{
    free(a->row_ptr);
    free(a->col_idx);
    pel_free(a->values);
}

/* 7-point Laplacian on an n^3 grid with Dirichlet boundaries: rows in
 * natural order, columns sorted. */
static int make_laplace3d(csr_arrays *a, size_t n)
{
    size_t rows = n * n * n, k = 0;
    if (allocate_arrays(a, rows, rows, 7 * rows))
        return 1;
    a->row_ptr[0] = 0;
    for (size_t z = 0; z < n; z++)
        for (size_t y = 0; y < n; y++)
            for (size_t x = 0; x < n; x++) {
                size_t i = (z * n + y) * n + x;
                if (z > 0)
                    a->col_idx[k] = i - n * n, a->values[k++] = -1.0;
                if (y > 0)
                    a->col_idx[k] = i - n, a->values[k++] = -1.0;
                if (x > 0)
                    a->col_idx[k] = i - 1, a->values[k++] = -1.0;
                a->col_idx[k] = i, a->values[k++] = 6.0;
                if (x + 1 < n)
                    a->col_idx[k] = i + 1, a->values[k++] = -1.0;
                if (y + 1 < n)
                    a->col_idx[k] = i + n, a->values[k++] = -1.0;
                if (z + 1 < n)
                    a->col_idx[k] = i + n * n, a->values[k++] = -1.0;
                a->row_ptr[i + 1] = k;
            }
    a->nnz = k;
    return 0;
}

/* Given row lengths in row_ptr[1..rows], fills random columns. */
static void fill_random_columns(csr_arrays *a, unsigned long long seed)
{
    for (size_t i = 0; i < a->rows; i++) {
        a->row_ptr[i + 1] += a->row_ptr[i];
        for (size_t k = a->row_ptr[i]; k < a->row_ptr[i + 1]; k++)
            a->col_idx[k] = pel_bench_next(&seed) % a->cols;
    }
}

static int make_random(csr_arrays *a, size_t rows, size_t per_row)
{
    if (allocate_arrays(a, rows, rows, rows * per_row))
        return 1;
    a->row_ptr[0] = 0;
    for (size_t i = 0; i < rows; i++)
        a->row_ptr[i + 1] = per_row;
    fill_random_columns(a, 23);
    return 0;
}

/* Row i has about L*(i+1)^-0.8 entries: the rank-degree law of a graph with
 * degree exponent 2.25 (web and social graphs have 2.1-2.5), hubs first as
 * when vertices are numbered by degree; L makes the mean 16 per row. Half the
 * rows then hold 87% of the entries, which a split by row count cannot
 * balance. */
static int make_powerlaw(csr_arrays *a, size_t rows)
{
    double n = (double)rows, scale = 16.0 * n * 0.2 / (pow(n, 0.2) - 1.0);
    size_t nnz = 0, *length = malloc(rows * sizeof *length);

    if (length == NULL)
        return 1;
    for (size_t i = 0; i < rows; i++) {
        length[i] = (size_t)(scale * pow((double)(i + 1), -0.8));
        if (length[i] < 1)
            length[i] = 1;
        if (length[i] > rows / 2)
            length[i] = rows / 2;
        nnz += length[i];
    }
    if (allocate_arrays(a, rows, rows, nnz)) {
        free(length);
        return 1;
    }
    a->row_ptr[0] = 0;
    for (size_t i = 0; i < rows; i++)
        a->row_ptr[i + 1] = length[i];
    free(length);
    fill_random_columns(a, 29);
    return 0;
}

/* The expert's copy of the plain loop's arrays: the rows split by
 * nonzeros (thread t starts at the first row whose entries begin at or
 * after t/threads of them), every array first-touched by its owner. */
static int setup_expert(spmv_case *c)
{
    expert_csr *e = &c->expert;
    const size_t nnz = (size_t)c->row_ptr[c->rows], rows = c->rows;
    const int threads = c->threads;

    e->thread_row = malloc(((size_t)threads + 1) * sizeof *e->thread_row);
    e->row_ptr = pel_malloc((rows + 1) * sizeof *e->row_ptr);
    e->col_idx = pel_malloc((nnz + 1) * sizeof *e->col_idx);
    e->values = pel_malloc((nnz + 1) * sizeof *e->values);
    e->y = pel_malloc((rows + 1) * sizeof *e->y);
    if (!e->thread_row || !e->row_ptr || !e->col_idx || !e->values || !e->y)
        return 1;
    e->thread_row[0] = 0;
    for (int t = 1; t < threads; t++) {
        size_t target = nnz * (size_t)t / (size_t)threads, lo = e->thread_row[t - 1], hi = rows;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((size_t)c->row_ptr[mid] < target)
                lo = mid + 1;
            else
                hi = mid;
        }
        e->thread_row[t] = lo;
    }
    e->thread_row[threads] = rows;
    e->row_ptr[rows] = (uint32_t)nnz;
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        for (size_t i = e->thread_row[t]; i < e->thread_row[t + 1]; i++) {
            e->row_ptr[i] = (uint32_t)c->row_ptr[i];
            e->y[i] = 0.0;
            for (size_t k = (size_t)c->row_ptr[i]; k < (size_t)c->row_ptr[i + 1]; k++) {
                e->col_idx[k] = (uint32_t)c->col_idx[k];
                e->values[k] = c->values[k];
            }
        }
    }
    return 0;
}

/* Builds pel's matrix and the baseline's copy of the same entries
 * (duplicates from the random columns summed by pel first). */
static int setup_case(spmv_case *c, csr_arrays *a, int threads)
{
    size_t *rp, *ci;

    memset(c, 0, sizeof *c);
    if (pel_csr_create(PEL_FLOAT64, a->rows, a->cols, a->row_ptr, a->col_idx, a->values, &c->matrix) != PEL_OK) {
        fprintf(stderr, "bench_sparse: %s\n", pel_last_error());
        return 1;
    }
    c->rows = a->rows;
    c->threads = threads;
    rp = malloc((a->rows + 1) * sizeof *rp);
    ci = malloc((pel_csr_nnz(c->matrix) + 1) * sizeof *ci);
    c->row_ptr = malloc((a->rows + 1) * sizeof(int));
    c->col_idx = malloc((pel_csr_nnz(c->matrix) + 1) * sizeof(int));
    c->values = malloc((pel_csr_nnz(c->matrix) + 1) * sizeof(double));
    if (!rp || !ci || !c->row_ptr || !c->col_idx || !c->values || pel_csr_nnz(c->matrix) > INT32_MAX)
        return 1;
    pel_csr_export(c->matrix, rp, ci, c->values);
    for (size_t i = 0; i <= a->rows; i++)
        c->row_ptr[i] = (int)rp[i];
    for (size_t k = 0; k < pel_csr_nnz(c->matrix); k++)
        c->col_idx[k] = (int)ci[k];
    free(rp);
    free(ci);
    c->x = pel_bench_random(a->cols, 31);
    c->y_pel = pel_bench_random(a->rows, 37);
    c->y_base = pel_bench_random(a->rows, 37);
    c->calls = (int)(4000000 / (2 * pel_csr_nnz(c->matrix) + a->rows + 1)) + 1;
    if (c->calls > 1000)
        c->calls = 1000;
    return setup_expert(c);
}

static void teardown_case(spmv_case *c)
{
    pel_csr_destroy(c->matrix);
    free(c->row_ptr);
    free(c->col_idx);
    free(c->values);
    pel_free(c->x);
    pel_free(c->y_pel);
    pel_free(c->y_base);
    free(c->expert.thread_row);
    pel_free(c->expert.row_ptr);
    pel_free(c->expert.col_idx);
    pel_free(c->expert.values);
    pel_free(c->expert.y);
}

static void spmv_pel(void *arg)
{
    spmv_case *c = arg;
    for (int r = 0; r < c->calls; r++)
        pel_csr_spmv(c->matrix, 1.0, c->x, 0.0, c->y_pel);
}

static void spmv_omp_static(void *arg)
{
    spmv_case *c = arg;
    const int *restrict rp = c->row_ptr, *restrict ci = c->col_idx;
    const double *restrict v = c->values, *restrict x = c->x;
    double *restrict y = c->y_base;
    const long rows = (long)c->rows;

    for (int r = 0; r < c->calls; r++) {
#pragma omp parallel for schedule(static) num_threads(c->threads)
        for (long i = 0; i < rows; i++) {
            double s = 0.0;
            for (int k = rp[i]; k < rp[i + 1]; k++)
                s += v[k] * x[ci[k]];
            y[i] = s;
        }
    }
}

static void spmv_expert(void *arg)
{
    spmv_case *c = arg;
    const expert_csr *e = &c->expert;
    const uint32_t *restrict rp = e->row_ptr, *restrict ci = e->col_idx;
    const double *restrict v = e->values, *restrict x = c->x;
    double *restrict y = e->y;

    for (int r = 0; r < c->calls; r++) {
#pragma omp parallel num_threads(c->threads)
        {
            const int t = omp_get_thread_num();
            for (size_t i = e->thread_row[t]; i < e->thread_row[t + 1]; i++) {
                double s = 0.0;
                for (uint32_t k = rp[i]; k < rp[i + 1]; k++)
                    s += v[k] * x[ci[k]];
                y[i] = s;
            }
        }
    }
}

/* Emits one row: pel against one baseline, seconds per product. */
static void emit_row(const pel_bench_context *context, const char *variant, const char *baseline, const spmv_case *c,
                     double t_pel, double t_base, double triad)
{
    const size_t nnz = pel_csr_nnz(c->matrix);
    /* Compulsory bytes: values and 32-bit column indices once, 4 bytes per
     * row (pel's row ends, the baselines' row pointers), x and y once. */
    const double bytes = (double)nnz * (sizeof(double) + sizeof(uint32_t)) + (double)c->rows * sizeof(uint32_t) +
                         (double)(pel_csr_cols(c->matrix) + c->rows) * sizeof(double);
    char extra[256];
    pel_bench_row row = {"spmv", variant, context->size, context->threads, t_pel, 2.0 * (double)nnz / t_pel * 1e-9,
                         bytes / t_pel * 1e-9, baseline, t_base, extra};

    snprintf(extra, sizeof extra, "\"rows\":%zu,\"nnz\":%zu,\"compulsory_bytes\":%.0f,\"products_per_timing\":%d",
             c->rows, nnz, bytes, c->calls);
    if (triad > 0) {
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                 ",\"stream_triad_gbps\":%.4g,\"pct_of_triad\":%.1f", triad, 100.0 * row.gbps / triad);
        pel_bench_progress("spmv %s: %.2f GB/s compulsory = %.0f%% of stream triad (%.2f GB/s)", variant, row.gbps,
                           100.0 * row.gbps / triad, triad);
    }
    pel_bench_emit(&row);
}

/* Two rows a matrix: pel against the expert loop (the target), with STREAM
 * triad in the same rounds for the Laplacian, then pel against the plain
 * loop (variant suffix "-plain"), each pair timed in its own rounds. */
static int run_variant(const pel_bench_context *context, const char *variant, csr_arrays *a)
{
    spmv_case c;
    double t_pel, t_base, triad;
    char plain[64];

    pel_bench_progress("spmv %s: %zu rows, %zu entries", variant, a->rows, a->nnz);
    if (setup_case(&c, a, context->threads)) {
        teardown_case(&c);
        free_arrays(a);
        return 1;
    }
    free_arrays(a); /* the copies are enough */
    {
        /* The bandwidth target is the stencil matrix's (the others are
         * bound by the latency of random gathers), against triad timed in
         * the same rounds; the quick suite and small matrices (in cache:
         * triad is no bound there) skip the 768 MB STREAM arrays. */
        int with_triad = strcmp(variant, "laplace3d") == 0 && !context->quick && c.rows >= ((size_t)1 << 20);
        pel_bench_reference ref = {pel_bench_stream_triad,
                                   with_triad ? pel_bench_stream_open(context->threads) : NULL, 0.0};
        pel_bench_compare_with(context->reps, spmv_pel, spmv_expert, &c, ref.arg ? &ref : NULL, &t_pel, &t_base);
        triad = ref.arg ? pel_bench_stream_gbps(ref.fn, ref.median) : 0.0;
        pel_bench_stream_close(ref.arg);
    }
    emit_row(context, variant,
             "expert CSR loop (rows split by nonzeros, huge pages, first touch, 32-bit indices, plain stores)", &c,
             t_pel / c.calls, t_base / c.calls, triad);
    pel_bench_compare(context->reps, spmv_pel, spmv_omp_static, &c, &t_pel, &t_base);
    snprintf(plain, sizeof plain, "%s-plain", variant);
    emit_row(context, plain, "omp for schedule(static) CSR loop", &c, t_pel / c.calls, t_base / c.calls, 0.0);
    if (memcmp(c.y_pel, c.y_base, c.rows * sizeof(double)) != 0 ||
        memcmp(c.y_pel, c.expert.y, c.rows * sizeof(double)) != 0)
        pel_bench_progress("spmv %s: pel and the baselines differ (they should agree bit for bit)", variant);
    teardown_case(&c);
    return 0;
}

/* --size [VARIANT:]N: N rows for every variant, or for the one named
 * (laplace3d takes the nearest cube: laplace3d:8000000 is 200^3, beyond the
 * 181^3 up to which pel's 16-bit column offsets hold). */
static int run_spmv(const pel_bench_context *context)
{
    size_t rows, n;
    csr_arrays a;
    int failures = 0;
    const char *colon = strchr(context->size, ':');
    size_t only = colon ? (size_t)(colon - context->size) : 0;

    if (pel_bench_parse_dims(colon ? colon + 1 : context->size, &rows, 1) != 1 || rows < 8)
        return 1;
#define WANTED(name) (!colon || (only == strlen(name) && strncmp(context->size, name, only) == 0))
    if (colon && !WANTED("laplace3d") && !WANTED("random") && !WANTED("powerlaw")) {
        fprintf(stderr, "pel-bench: spmv size '%s': the variant is laplace3d, random or powerlaw\n", context->size);
        return 1;
    }
    n = (size_t)llround(cbrt((double)rows));
    if (WANTED("laplace3d"))
        failures += make_laplace3d(&a, n) || run_variant(context, "laplace3d", &a);
    if (WANTED("random"))
        failures += make_random(&a, rows, 16) || run_variant(context, "random", &a);
    if (WANTED("powerlaw"))
        failures += make_powerlaw(&a, rows) || run_variant(context, "powerlaw", &a);
#undef WANTED
    return failures;
}

const pel_bench_kernel pel_bench_sparse_kernels[] = {
    {"spmv",
     "CSR SpMV y = A*x (variants laplace3d: 7-point 3-D Laplacian; random: 16 random columns per row; powerlaw: "
     "row lengths ~ rank^-0.8, hubs first), size = [variant:]rows: pel_csr_spmv vs the expert loop (rows split "
     "by nonzeros, huge pages, first touch) and, variant suffix -plain, omp for schedule(static)",
     "2097152,laplace3d:8000000", "4096,32768", run_spmv},
    {NULL, NULL, NULL, NULL, NULL},
};
