/* pel-bench kernels of the fft layer.
 *
 * `fft`: pel's one-shot calls (the plan comes from pel's cache: a hit after
 * the warm-up round) against what a careful FFTW user writes: a plan made
 * once, outside the timed region, then fftw_execute() only. Both plan with
 * FFTW_ESTIMATE (MEASURE takes 5-28 s per large size on the project machine;
 * set PEL_BENCH_FFT_MEASURE=1 to plan both sides with MEASURE), both use the
 * same thread count, and both run out of place on 64-byte aligned arrays.
 * Variants: c2c-1d, c2c-2d, c2c-3d, r2c-3d; auto-threads (1-D up to 2^14:
 * pel's automatic thread choice against the faster of FFTW on 1 thread and
 * on T threads); scaling (3-D of 2^24 points and more: pel on T threads
 * against pel on 1 thread).
 *
 * `fftconv`: pel_fft_convolve (mode same) of a 2-D image with a 31x31
 * kernel against a direct convolution parallelised with OpenMP, in its
 * textbook form (a dot product per output point) and, as a second row, the
 * vectorised form (a row update per kernel weight). */
#include "pel_bench.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "pel.h"

/* ------------------------------------------------------------ fft */

typedef struct fft_case {
    int rank;
    size_t dims[3];
    int real; /* r2c instead of c2c */
    void *in, *out;
    fftw_plan plan;
    int times; /* transforms per timed call, so that one call lasts a few ms */
} fft_case;

static unsigned bench_effort(void)
{
    const char *measure = getenv("PEL_BENCH_FFT_MEASURE");
    return measure != NULL && strcmp(measure, "1") == 0 ? FFTW_MEASURE : FFTW_ESTIMATE;
}

static void fft_pel(void *arg)
{
    fft_case *c = arg;
    for (int i = 0; i < c->times; i++) {
        if (c->real)
            pel_fft_r2c(c->rank, c->dims, 1, PEL_FFT_NORM_BACKWARD, c->in, c->out);
        else
            pel_fft_c2c(c->rank, c->dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, c->in, c->out);
    }
}

static void fft_fftw(void *arg)
{
    fft_case *c = arg;
    for (int i = 0; i < c->times; i++)
        fftw_execute(c->plan);
}

static fftw_plan make_fftw_plan(const fft_case *c, int threads)
{
    int n[3];
    fftw_plan plan;
    for (int k = 0; k < c->rank; k++)
        n[k] = (int)c->dims[k];
    fftw_plan_with_nthreads(threads);
    plan = c->real ? fftw_plan_dft_r2c(c->rank, n, c->in, c->out, bench_effort())
                   : fftw_plan_dft(c->rank, n, c->in, c->out, FFTW_FORWARD, bench_effort());
    return plan; /* MEASURE overwrites the arrays: callers refill them */
}

static void fill_input(fft_case *c, size_t scalars)
{
    double *r = pel_bench_random(scalars, 42);
    memcpy(c->in, r, scalars * sizeof(double));
    pel_free(r);
}

static int setup_case(fft_case *c, const size_t *dims, int rank, int real)
{
    size_t points = 1, last = dims[rank - 1], out_points;
    c->rank = rank;
    c->real = real;
    for (int k = 0; k < rank; k++) {
        c->dims[k] = dims[k];
        points *= dims[k];
    }
    out_points = real ? points / last * (last / 2 + 1) : points;
    c->in = pel_bench_random(real ? points : 2 * points, 7);
    c->out = pel_bench_random(2 * out_points, 8);
    if (c->in == NULL || c->out == NULL)
        return 1;
    {
        double flops = 5.0 * (double)points * log2((double)points);
        /* about 10 GFLOP/s; samples of ~20 ms span several scheduler quanta,
         * which steadies the medians on a shared machine */
        double t = flops / 1e10;
        c->times = t < 2e-2 ? (int)(2e-2 / t) + 1 : 1;
    }
    return 0;
}

static void teardown_case(fft_case *c)
{
    pel_free(c->in);
    pel_free(c->out);
}

static double fft_flops(const fft_case *c)
{
    double points = 1;
    for (int k = 0; k < c->rank; k++)
        points *= (double)c->dims[k];
    return (c->real ? 2.5 : 5.0) * points * log2(points);
}

/* One row: pel one-shot vs FFTW execute at context->threads. */
static void fft_row(const pel_bench_context *context, fft_case *c, const char *variant)
{
    double t_pel, t_base;
    size_t points = 1;
    pel_bench_row row = {"fft", variant, context->size, context->threads, 0, 0, 0,
                         bench_effort() == FFTW_MEASURE ? "FFTW MEASURE plan, fftw_execute"
                                                        : "FFTW ESTIMATE plan, fftw_execute",
                         0, NULL};

    for (int k = 0; k < c->rank; k++)
        points *= c->dims[k];
    c->plan = make_fftw_plan(c, context->threads);
    fill_input(c, c->real ? points : 2 * points);
    pel_bench_compare(context->reps, fft_pel, fft_fftw, c, &t_pel, &t_base);
    row.seconds = t_pel / c->times;
    row.baseline_seconds = t_base / c->times;
    row.gflops = fft_flops(c) / row.seconds * 1e-9;
    pel_bench_emit(&row);
    fftw_destroy_plan(c->plan);
}

/* auto-threads: pel picks its thread count; the baseline is the faster of
 * FFTW on 1 thread and on context->threads threads. */
static void auto_threads_row(const pel_bench_context *context, fft_case *c)
{
    fftw_plan one, many;
    double t_pel, t_one, t_many;
    char extra[160];
    pel_bench_row row = {"fft", "auto-threads", context->size, context->threads, 0, 0, 0,
                         "faster of FFTW on 1 and on T threads", 0, extra};
    pel_fft_plan *probe = NULL;
    pel_fft_options options = {PEL_FFT_ESTIMATE, 0, 0, PEL_FFT_NORM_BACKWARD};

    one = make_fftw_plan(c, 1);
    many = make_fftw_plan(c, context->threads);
    fill_input(c, 2 * c->dims[0]);
    c->plan = one;
    pel_bench_compare(context->reps, fft_pel, fft_fftw, c, &t_pel, &t_one);
    c->plan = many;
    pel_bench_compare(context->reps, NULL, fft_fftw, c, NULL, &t_many);
    pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, c->dims, 1, PEL_FFT_FORWARD, 0, &options, &probe);
    snprintf(extra, sizeof extra, "\"pel_threads\":%d,\"fftw_1_thread_seconds\":%.9g,\"fftw_T_threads_seconds\":%.9g",
             pel_fft_plan_threads(probe), t_one / c->times, t_many / c->times);
    pel_fft_plan_destroy(probe);
    row.seconds = t_pel / c->times;
    row.baseline_seconds = (t_one < t_many ? t_one : t_many) / c->times;
    row.gflops = fft_flops(c) / row.seconds * 1e-9;
    pel_bench_emit(&row);
    fftw_destroy_plan(one);
    fftw_destroy_plan(many);
}

static void fft_pel_one_thread(void *arg)
{
    int saved = pel_get_num_threads_local();
    pel_set_num_threads_local(1);
    fft_pel(arg);
    pel_set_num_threads_local(saved);
}

/* scaling: pel on T threads against pel on 1 thread (ratio = speed-up). */
static void scaling_row(const pel_bench_context *context, fft_case *c)
{
    double t_many, t_one;
    pel_bench_row row = {"fft", "scaling", context->size, context->threads, 0, 0, 0, "pel on 1 thread", 0, NULL};

    pel_bench_compare(context->reps, fft_pel, fft_pel_one_thread, c, &t_many, &t_one);
    row.seconds = t_many / c->times;
    row.baseline_seconds = t_one / c->times;
    row.gflops = fft_flops(c) / row.seconds * 1e-9;
    pel_bench_emit(&row);
}

static int run_fft(const pel_bench_context *context)
{
    size_t dims[3];
    int rank = pel_bench_parse_dims(context->size, dims, 3);
    fft_case c;

    if (rank < 1)
        return 1;
    pel_fft_set_default_effort(bench_effort() == FFTW_MEASURE ? PEL_FFT_MEASURE : PEL_FFT_ESTIMATE, 0);
    if (setup_case(&c, dims, rank, 0) != 0)
        return 1;
    fft_row(context, &c, rank == 1 ? "c2c-1d" : rank == 2 ? "c2c-2d" : "c2c-3d");
    if (rank == 1 && dims[0] <= ((size_t)1 << 14))
        auto_threads_row(context, &c);
    if (rank == 3 && c.dims[0] * c.dims[1] * c.dims[2] >= ((size_t)1 << 24) && context->threads > 1)
        scaling_row(context, &c);
    teardown_case(&c);
    if (rank == 3) {
        if (setup_case(&c, dims, rank, 1) != 0)
            return 1;
        fft_row(context, &c, "r2c-3d");
        teardown_case(&c);
    }
    return 0;
}

/* ------------------------------------------------------------ fftconv */

enum { KERNEL = 31 };

typedef struct conv_case {
    size_t dims[2];
    double *image, *kernel, *out;
    int threads;
} conv_case;

static void conv_pel(void *arg)
{
    conv_case *c = arg;
    size_t k[2] = {KERNEL, KERNEL};
    pel_fft_convolve(2, c->dims, c->image, k, c->kernel, PEL_FFT_CONVOLVE_SAME, c->out);
}

/* scipy's mode='same' for an odd kernel: out[i][j] = sum_{p,q}
 * image[i+h-p][j+h-q] kernel[p][q], h = KERNEL/2, terms outside the image
 * dropped. Textbook form: one dot product per output point. */
static void conv_direct(void *arg)
{
    conv_case *c = arg;
    const ptrdiff_t n0 = (ptrdiff_t)c->dims[0], n1 = (ptrdiff_t)c->dims[1], h = KERNEL / 2;
    const double *a = c->image, *k = c->kernel;
    double *out = c->out;
#pragma omp parallel for schedule(static) num_threads(c->threads)
    for (ptrdiff_t i = 0; i < n0; i++)
        for (ptrdiff_t j = 0; j < n1; j++) {
            double s = 0;
            ptrdiff_t p_lo = i + h - (n0 - 1) > 0 ? i + h - (n0 - 1) : 0, p_hi = i + h < KERNEL - 1 ? i + h : KERNEL - 1;
            ptrdiff_t q_lo = j + h - (n1 - 1) > 0 ? j + h - (n1 - 1) : 0, q_hi = j + h < KERNEL - 1 ? j + h : KERNEL - 1;
            for (ptrdiff_t p = p_lo; p <= p_hi; p++)
                for (ptrdiff_t q = q_lo; q <= q_hi; q++)
                    s += a[(i + h - p) * n1 + (j + h - q)] * k[p * KERNEL + q];
            out[i * n1 + j] = s;
        }
}

/* The same sum, vectorised: for each kernel weight, update a whole output
 * row (contiguous, SIMD-friendly). */
static void conv_direct_rows(void *arg)
{
    conv_case *c = arg;
    const ptrdiff_t n0 = (ptrdiff_t)c->dims[0], n1 = (ptrdiff_t)c->dims[1], h = KERNEL / 2;
    const double *a = c->image, *k = c->kernel;
#pragma omp parallel for schedule(static) num_threads(c->threads)
    for (ptrdiff_t i = 0; i < n0; i++) {
        double *restrict row = c->out + i * n1;
        memset(row, 0, (size_t)n1 * sizeof *row);
        for (ptrdiff_t p = 0; p < KERNEL; p++) {
            ptrdiff_t ii = i + h - p;
            if (ii < 0 || ii >= n0)
                continue;
            for (ptrdiff_t q = 0; q < KERNEL; q++) {
                const double w = k[p * KERNEL + q], *restrict src = a + ii * n1 + (h - q);
                ptrdiff_t lo = q - h > 0 ? q - h : 0, hi = n1 + q - h < n1 ? n1 + q - h : n1;
#pragma omp simd
                for (ptrdiff_t j = lo; j < hi; j++)
                    row[j] += w * src[j];
            }
        }
    }
}

static int run_fftconv(const pel_bench_context *context)
{
    conv_case c;
    double t_pel, t_direct, t_rows, flops, err = 0, scale = 0;
    int reps = context->reps < 3 ? context->reps : 3; /* the direct sum takes seconds */
    double *reference;
    size_t n;
    pel_bench_row row = {"fftconv", "same-31x31", context->size, context->threads, 0, 0, 0,
                         "direct convolution, omp parallel for (dot product per point)", 0, NULL};

    if (pel_bench_parse_dims(context->size, c.dims, 2) != 2)
        return 1;
    n = c.dims[0] * c.dims[1];
    c.threads = context->threads;
    c.image = pel_bench_random(n, 11);
    c.kernel = pel_bench_random(KERNEL * KERNEL, 12);
    c.out = pel_bench_random(n, 13);
    reference = pel_bench_random(n, 14);
    /* Check pel against the direct sum before timing. */
    conv_direct(&c);
    memcpy(reference, c.out, n * sizeof *reference);
    conv_pel(&c);
    for (size_t i = 0; i < n; i++) {
        err = fmax(err, fabs(c.out[i] - reference[i]));
        scale = fmax(scale, fabs(reference[i]));
    }
    if (err > 1e-10 * scale) {
        pel_bench_progress("fftconv: pel differs from the direct sum by %g", err);
        return 1;
    }
    pel_bench_compare(reps, conv_pel, conv_direct, &c, &t_pel, &t_direct);
    pel_bench_compare(reps, NULL, conv_direct_rows, &c, NULL, &t_rows);
    flops = 2.0 * (double)n * KERNEL * KERNEL; /* of the direct sum */
    row.seconds = t_pel;
    row.baseline_seconds = t_direct;
    row.gflops = flops / t_pel * 1e-9; /* direct-equivalent GFLOP/s */
    pel_bench_emit(&row);
    row.variant = "same-31x31-vs-simd";
    row.baseline = "direct convolution, omp parallel for, vectorised row updates";
    row.baseline_seconds = t_rows;
    pel_bench_emit(&row);
    pel_free(c.image);
    pel_free(c.kernel);
    pel_free(c.out);
    pel_free(reference);
    return 0;
}

const pel_bench_kernel pel_bench_fft_kernels[] = {
    {"fft", "one-shot pel FFT (cache hit) vs FFTW plan + fftw_execute; auto threads; 3-D scaling",
     "1024,2048,4096,8192,16384,32768,65536,131072,262144,524288,1048576,2097152,4194304,1024x1024,128x128x128,"
     "256x256x256",
     "1024,16384,1048576,256x256,64x64x64", run_fft},
    {"fftconv", "pel_fft_convolve (same, 31x31 kernel) vs direct OpenMP convolution", "2048x2048", "256x256",
     run_fftconv},
    {NULL, NULL, NULL, NULL, NULL},
};
