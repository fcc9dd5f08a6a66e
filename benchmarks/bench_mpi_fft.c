/* pel-bench-mpi kernel mpi-fft (issue 14): pel's distributed 3-D c2c FFT
 * against FFTW-MPI called directly, planned with the same flags on the same
 * slab layout, timed in the same interleaved rounds (median). Sizes
 * "NxMxK" (in place, natural layout) or "NxMxK:T" (forward with
 * TRANSPOSED_OUT, FFTW_MPI_TRANSPOSED_OUT for the baseline); both sides plan
 * with FFTW_ESTIMATE (MEASURE takes seconds per plan on this machine, and
 * differs from run to run) on context->threads threads per rank. Forward
 * transforms with pel's backward normalisation: neither side scales.
 * PEL_BENCH_FFTW_ALLOC=1 (mpirun -x) runs pel's plan on fftw_alloc_complex
 * memory instead of pel_mpi_fft_local_alloc's.
 *
 * "NxMxK:P" (natural layout) and "NxMxK:PT" (TRANSPOSED_OUT) time pel's
 * pencil path (PEL_MPI_FFT_PENCIL) against pel's slab path
 * (PEL_MPI_FFT_SLAB, FFTW-MPI underneath) in the same rounds, both in place
 * on pel_mpi_fft_local_alloc arrays, ESTIMATE. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fftw3-mpi.h>
#include <mpi.h>

#include "pel.h"
#include "pel/mpi.h"
#include "pel_bench.h"

typedef struct fft_case {
    pel_mpi_fft_plan *plan;
    fftw_plan direct;
    void *data, *direct_data;
    int fftw_owned; /* data from fftw_alloc_complex (PEL_BENCH_FFTW_ALLOC) */
} fft_case;

static void run_pel(void *arg)
{
    fft_case *c = arg;
    MPI_Barrier(MPI_COMM_WORLD);
    if (pel_mpi_fft_execute(c->plan, c->data, c->data) != PEL_OK)
        fprintf(stderr, "pel-bench-mpi: %s\n", pel_last_error());
}

static void run_fftw(void *arg)
{
    fft_case *c = arg;
    MPI_Barrier(MPI_COMM_WORLD);
    fftw_execute(c->direct);
}

/* One mpi-fft row: 5 N log2 N flops, and as a rough memory-traffic figure
 * 16 bytes per point read and written twice (two local passes around a
 * global transpose) per rank. */
static void emit_row(const pel_bench_context *context, const char *variant, const char *baseline, double t_pel,
                     double t_baseline, const size_t *dims, int nranks, const char *extra)
{
    double points = (double)dims[0] * (double)dims[1] * (double)dims[2];
    pel_bench_row row = {"mpi-fft",  variant,    context->size, context->threads, t_pel,
                         5.0 * points * log2(points) / t_pel * 1e-9, 0.0, baseline, t_baseline, extra};
    row.gbps = 4.0 * 16.0 * points / (double)nranks / t_pel * 1e-9;
    pel_bench_emit(&row);
}

/* Pencil rows: plan and data [0] pencils, [1] slabs. */
typedef struct pencil_case {
    pel_mpi_fft_plan *plan[2]; /* pencil, slab */
    void *data[2];
} pencil_case;

static void run_plan(pencil_case *c, int which)
{
    MPI_Barrier(MPI_COMM_WORLD);
    if (pel_mpi_fft_execute(c->plan[which], c->data[which], c->data[which]) != PEL_OK)
        fprintf(stderr, "pel-bench-mpi: %s\n", pel_last_error());
}

static void run_pencil(void *arg)
{
    run_plan(arg, 0);
}

static void run_slab(void *arg)
{
    run_plan(arg, 1);
}

static int run_pencil_rows(const pel_bench_context *context, const size_t *dims, int transposed, int nranks)
{
    pencil_case c = {0};
    pel_mpi_fft_layout layout[2];
    double t_pencil = 0, t_slab = 0;
    char extra[320], variant[40];
    int status = 0;

    for (int w = 0; w < 2; w++) {
        pel_mpi_fft_options options = {0};
        options.nthreads = context->threads;
        options.flags = (w == 0 ? PEL_MPI_FFT_PENCIL : PEL_MPI_FFT_SLAB) | (transposed ? PEL_MPI_FFT_TRANSPOSED_OUT : 0);
        if (pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 1, &options,
                                    &c.plan[w]) != PEL_OK ||
            pel_mpi_fft_layout_get(c.plan[w], &layout[w]) != PEL_OK ||
            pel_mpi_fft_local_alloc(c.plan[w], &c.data[w]) != PEL_OK) {
            fprintf(stderr, "pel-bench-mpi: %s\n", pel_last_error());
            status = 1;
            goto done;
        }
        {
            /* Random input (never zeros), touched before the timing. */
            size_t count = layout[w].in_dims[0] * layout[w].in_dims[1] * layout[w].in_dims[2] * 2;
            double *r = pel_bench_random(count, 43);
            memcpy(c.data[w], r, count * sizeof *r);
            pel_free(r);
        }
    }
    pel_bench_compare(context->reps, run_pencil, run_slab, &c, &t_pencil, &t_slab);
    snprintf(variant, sizeof variant, "%s", transposed ? "c2c-pencil-transposed-out" : "c2c-pencil-inplace");
    snprintf(extra, sizeof extra,
             "\"ranks\":%d,\"flags\":\"ESTIMATE|PENCIL%s\",\"grid\":\"%dx%d\",\"local_pencil\":\"%zux%zux%zu\","
             "\"oversubscribed\":%s",
             nranks, transposed ? "|TRANSPOSED_OUT" : "", layout[0].grid[0], layout[0].grid[1], layout[0].in_dims[0],
             layout[0].in_dims[1], layout[0].in_dims[2], nranks * context->threads > 2 ? "true" : "false");
    emit_row(context, variant,
             transposed ? "pel slabs (FFTW-MPI, PEL_MPI_FFT_SLAB|TRANSPOSED_OUT, same flags)"
                        : "pel slabs (FFTW-MPI, PEL_MPI_FFT_SLAB, same flags)",
             t_pencil, t_slab, dims, nranks, extra);
done:
    for (int w = 0; w < 2; w++) {
        pel_free(c.data[w]);
        pel_mpi_fft_plan_destroy(c.plan[w]);
    }
    return status;
}

static int run_mpi_fft(const pel_bench_context *context)
{
    size_t dims[3];
    ptrdiff_t n[3], local_n0, local_0_start, local_n1, local_1_start, alloc;
    int transposed = strstr(context->size, ":T") != NULL && strstr(context->size, ":P") == NULL, nranks;
    pel_mpi_fft_options options = {0};
    pel_mpi_fft_layout layout;
    fft_case c = {0};
    double t_pel = 0, t_fftw = 0;
    char extra[256], variant[32];
    unsigned flags = FFTW_ESTIMATE | (transposed ? FFTW_MPI_TRANSPOSED_OUT : 0);

    char shape[64];
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    snprintf(shape, sizeof shape, "%s", context->size);
    shape[strcspn(shape, ":")] = '\0';
    if (pel_bench_parse_dims(shape, dims, 3) != 3) {
        fprintf(stderr, "pel-bench-mpi: mpi-fft sizes are NxMxK[:T|:P|:PT], not %s\n", context->size);
        return 1;
    }
    if (strstr(context->size, ":P") != NULL)
        return run_pencil_rows(context, dims, strstr(context->size, ":PT") != NULL, nranks);
    options.nthreads = context->threads;
    options.flags = transposed ? PEL_MPI_FFT_TRANSPOSED_OUT : 0;
    if (pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 1, &options,
                                &c.plan) != PEL_OK ||
        pel_mpi_fft_layout_get(c.plan, &layout) != PEL_OK || pel_mpi_fft_local_alloc(c.plan, &c.data) != PEL_OK) {
        fprintf(stderr, "pel-bench-mpi: %s\n", pel_last_error());
        return 1;
    }
    /* The baseline as a user would write it: FFTW's own initialisation,
     * local size, allocator and planner. */
    fftw_init_threads();
    fftw_mpi_init();
    for (int a = 0; a < 3; a++)
        n[a] = (ptrdiff_t)dims[a];
    alloc = fftw_mpi_local_size_many_transposed(3, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK,
                                                MPI_COMM_WORLD, &local_n0, &local_0_start, &local_n1,
                                                &local_1_start);
    c.direct_data = fftw_alloc_complex((size_t)alloc);
    fftw_plan_with_nthreads(context->threads);
    c.direct = fftw_mpi_plan_many_dft(3, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, c.direct_data,
                                      c.direct_data, MPI_COMM_WORLD, FFTW_FORWARD, flags);
    if (c.direct == NULL || c.direct_data == NULL) {
        fprintf(stderr, "pel-bench-mpi: FFTW-MPI could not plan %s\n", context->size);
        return 1;
    }
    {
        /* Random input, the same on both sides (never zeros); the first
         * touch here, so neither side pays page faults in the timing. */
        size_t count = (size_t)local_n0 * dims[1] * dims[2] * 2;
        double *r = pel_bench_random(count, 41);
        memcpy(c.data, r, count * sizeof *r);
        memcpy(c.direct_data, r, count * sizeof *r);
        pel_free(r);
    }
    if (getenv("PEL_BENCH_FFTW_ALLOC") != NULL) {
        /* The experiment of docs/mpi.md: pel's plan on FFTW's allocator
         * (no huge pages), to separate the execute from the memory. */
        void *plain = fftw_alloc_complex((size_t)alloc);
        memcpy(plain, c.direct_data, (size_t)local_n0 * dims[1] * dims[2] * 2 * sizeof(double));
        pel_free(c.data);
        c.data = plain;
        c.fftw_owned = 1;
    }
    pel_bench_compare(context->reps, run_pel, run_fftw, &c, &t_pel, &t_fftw);

    snprintf(variant, sizeof variant, "%s", transposed ? "c2c-transposed-out" : "c2c-inplace");
    snprintf(extra, sizeof extra,
             "\"ranks\":%d,\"flags\":\"ESTIMATE%s\",\"local_rows\":%zu,\"oversubscribed\":%s", nranks,
             transposed ? "|TRANSPOSED_OUT" : "", layout.in_dims[0],
             nranks * context->threads > 2 ? "true" : "false");
    emit_row(context, variant,
             transposed ? "FFTW-MPI fftw_execute (TRANSPOSED_OUT, same flags)" : "FFTW-MPI fftw_execute (same flags)",
             t_pel, t_fftw, dims, nranks, extra);
    fftw_destroy_plan(c.direct);
    fftw_free(c.direct_data);
    if (c.fftw_owned)
        fftw_free(c.data);
    else
        pel_free(c.data);
    pel_mpi_fft_plan_destroy(c.plan);
    return 0;
}

const pel_bench_kernel pel_bench_fft_kernels[] = {
    {"mpi-fft",
     "distributed 3-D c2c FFT: slabs vs FFTW-MPI called directly; :P/:PT sizes: pel's pencils vs its slabs (run "
     "under mpirun)",
     "256x256x256,256x256x256:T,256x256x256:P,256x256x256:PT", "64x64x64", run_mpi_fft},
    {NULL, NULL, NULL, NULL, NULL}};
