/* pel-bench kernels of the fft layer.
 *
 * `fft`: pel's one-shot calls with default arguments (effort PEL_FFT_AUTO:
 * the plan comes from pel's cache, upgraded to MEASURE in the background;
 * every row waits for the upgrade to land before timing) against what an
 * expert FFTW user writes: a plan made once with FFTW_MEASURE, outside the
 * timed region (FFTW's wisdom kept between rows, as in one program), then
 * fftw_execute() only. Each row has a twin, variant "<variant>-vs-estimate",
 * whose baseline is an FFTW_ESTIMATE plan (made with FFTW's wisdom set
 * aside, so that it is the heuristic's plan). PEL_BENCH_FFT_ESTIMATE=1 plans
 * everything with ESTIMATE (quick runs: MEASURE takes seconds per large size
 * here). Both sides use the same thread count and run out of place on 64-byte
 * aligned arrays. Variants: c2c-1d, c2c-2d, c2c-3d, r2c-3d; auto-threads (1-D
 * up to 2^14: pel's automatic thread choice against the faster of FFTW on 1
 * thread and on T threads); scaling (3-D of 2^24 points and more: pel on T
 * threads against pel on 1 thread); default-vs-measure (1-D 2^20 and
 * 256x256x256: the plan upgrade itself, see default_vs_measure_row).
 *
 * The bench runs pel's planner at normal priority (PEL_FFT_UPGRADE_NORMAL,
 * unless PEL_FFT_UPGRADE is set): on a loaded machine an idle-priority
 * planner can wait minutes for a core, which changes when an upgrade lands,
 * not what the rows measure. pel's planner and the bench's own FFTW planning
 * must never overlap (FFTW's planner is not thread-safe): the bench waits for
 * pel's upgrades before it plans with FFTW directly.
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
#include <time.h>

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

/* 1 when PEL_BENCH_FFT_ESTIMATE=1: everything plans with ESTIMATE. */
static int estimate_only(void)
{
    const char *estimate = getenv("PEL_BENCH_FFT_ESTIMATE");
    return estimate != NULL && strcmp(estimate, "1") == 0;
}

static unsigned baseline_effort(void)
{
    return estimate_only() ? FFTW_ESTIMATE : FFTW_MEASURE;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Waits for pel's plan upgrades, before the bench plans with FFTW itself;
 * returns the seconds waited. */
static double wait_for_upgrades(void)
{
    double start = now_seconds();
    size_t pending = 0;

    pel_fft_upgrade_wait(1200.0, &pending);
    if (pending != 0)
        pel_bench_progress("fft: %zu plan upgrades still pending after 1200 s", pending);
    return now_seconds() - start;
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

static fftw_plan plan_with_flags(const fft_case *c, int threads, unsigned flags)
{
    int n[3];
    for (int k = 0; k < c->rank; k++)
        n[k] = (int)c->dims[k];
    wait_for_upgrades();
    fftw_plan_with_nthreads(threads);
    return c->real ? fftw_plan_dft_r2c(c->rank, n, c->in, c->out, flags)
                   : fftw_plan_dft(c->rank, n, c->in, c->out, FFTW_FORWARD, flags);
}

/* The expert's baseline plan (MEASURE overwrites the arrays: callers
 * refill them). */
static fftw_plan make_fftw_plan(const fft_case *c, int threads)
{
    return plan_with_flags(c, threads, baseline_effort());
}

/* An FFTW_ESTIMATE plan as a fresh program makes it: FFTW lets MEASURE
 * wisdom of earlier rows serve ESTIMATE requests (sub-problems included),
 * so the wisdom is set aside meanwhile and put back after. */
static fftw_plan make_estimate_plan(const fft_case *c, int threads)
{
    char *saved;
    fftw_plan plan;

    wait_for_upgrades();
    saved = fftw_export_wisdom_to_string();
    fftw_forget_wisdom();
    plan = plan_with_flags(c, threads, FFTW_ESTIMATE);
    if (saved != NULL) {
        fftw_import_wisdom_from_string(saved);
        free(saved);
    }
    return plan;
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

/* One pel call, then its plan upgrade landed: what the timed rounds of a
 * row see is pel's steady state. */
static void pel_settle(fft_case *c)
{
    int times = c->times;
    c->times = 1;
    fft_pel(c);
    c->times = times;
    wait_for_upgrades();
}

/* One row: pel one-shot vs FFTW execute at context->threads, and its
 * "-vs-estimate" twin. */
static void fft_row(const pel_bench_context *context, fft_case *c, const char *variant)
{
    double t_pel, t_base, t_estimate;
    size_t points = 1;
    char twin[64];
    pel_bench_row row = {"fft", variant, context->size, context->threads, 0, 0, 0,
                         estimate_only() ? "FFTW ESTIMATE plan, fftw_execute"
                                         : "FFTW MEASURE plan (planned once, wisdom kept), fftw_execute",
                         0, NULL};

    for (int k = 0; k < c->rank; k++)
        points *= c->dims[k];
    pel_settle(c);
    c->plan = make_fftw_plan(c, context->threads);
    fill_input(c, c->real ? points : 2 * points);
    pel_bench_compare(context->reps, fft_pel, fft_fftw, c, &t_pel, &t_base);
    row.seconds = t_pel / c->times;
    row.baseline_seconds = t_base / c->times;
    row.gflops = fft_flops(c) / row.seconds * 1e-9;
    pel_bench_emit(&row);
    fftw_destroy_plan(c->plan);
    if (estimate_only())
        return;
    c->plan = make_estimate_plan(c, context->threads);
    fill_input(c, c->real ? points : 2 * points);
    pel_bench_compare(context->reps, NULL, fft_fftw, c, NULL, &t_estimate);
    snprintf(twin, sizeof twin, "%s-vs-estimate", variant);
    row.variant = twin;
    row.baseline = "FFTW ESTIMATE plan, fftw_execute";
    row.baseline_seconds = t_estimate / c->times;
    pel_bench_emit(&row);
    fftw_destroy_plan(c->plan);
}

/* The median of n values (sorts them). */
static double median_of(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

enum { FIRST_CALL_ROUNDS = 3 };

/* default-vs-measure: the plan upgrade of a new shape. First calls (a few
 * rounds, each on an empty cache and empty wisdom): pel's default one-shot
 * (ESTIMATE plan + transform + the upgrade request) against an FFTW_ESTIMATE
 * plan's first call (plan + fftw_execute); then pel's steady state once the
 * upgrade has landed against an FFTW_MEASURE plan executed. ratio = FFTW
 * MEASURE / pel steady state (target >= 0.95); first_call_ratio = pel's first
 * call / ESTIMATE's (target <= 1.5); upgrade_seconds = from the end of
 * pel's first call to the MEASURE plan in the cache. */
static void default_vs_measure_row(const pel_bench_context *context, fft_case *c)
{
    double pel_first[FIRST_CALL_ROUNDS], estimate_first[FIRST_CALL_ROUNDS], upgrade[FIRST_CALL_ROUNDS];
    double t_pel, t_measure, first_ratio;
    size_t points = 1;
    char extra[320], *saved;
    int times = c->times;
    pel_bench_row row = {"fft", "default-vs-measure", context->size, context->threads, 0, 0, 0,
                         "FFTW MEASURE plan (planned once), fftw_execute", 0, extra};

    for (int k = 0; k < c->rank; k++)
        points *= c->dims[k];
    wait_for_upgrades();
    saved = fftw_export_wisdom_to_string(); /* the rows' wisdom, put back at the end */
    c->times = 1;
    for (int round = 0; round < FIRST_CALL_ROUNDS; round++) {
        double start;
        pel_fft_wisdom_forget();
        pel_fft_cache_clear();
        fill_input(c, c->real ? points : 2 * points);
        start = now_seconds();
        c->plan = plan_with_flags(c, context->threads, FFTW_ESTIMATE);
        fftw_execute(c->plan);
        estimate_first[round] = now_seconds() - start;
        fftw_destroy_plan(c->plan);
        pel_fft_wisdom_forget();
        start = now_seconds();
        fft_pel(c);
        pel_first[round] = now_seconds() - start;
        upgrade[round] = wait_for_upgrades();
    }
    c->times = times;
    /* The last round's upgraded plan stays in the cache for the steady
     * state; then the expert's MEASURE plan. */
    c->plan = plan_with_flags(c, context->threads, FFTW_MEASURE);
    fill_input(c, c->real ? points : 2 * points);
    pel_bench_compare(context->reps, fft_pel, fft_fftw, c, &t_pel, &t_measure);
    fftw_destroy_plan(c->plan);
    if (saved != NULL) {
        fftw_import_wisdom_from_string(saved);
        free(saved);
    }
    {
        double p = median_of(pel_first, FIRST_CALL_ROUNDS), e = median_of(estimate_first, FIRST_CALL_ROUNDS);
        first_ratio = p / e;
        snprintf(extra, sizeof extra,
                 "\"first_call_seconds\":%.6g,\"estimate_first_call_seconds\":%.6g,\"first_call_ratio\":%.3f,"
                 "\"upgrade_seconds\":%.3g,\"upgrade_mode\":%d",
                 p, e, first_ratio, median_of(upgrade, FIRST_CALL_ROUNDS), (int)pel_fft_get_upgrade_mode());
    }
    row.seconds = t_pel / c->times;
    row.baseline_seconds = t_measure / c->times;
    row.gflops = fft_flops(c) / row.seconds * 1e-9;
    pel_bench_emit(&row);
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

    {
        /* The 1-thread plan is another key: its upgrade lands first. */
        int times = c->times;
        c->times = 1;
        fft_pel_one_thread(c);
        c->times = times;
        wait_for_upgrades();
    }
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
    pel_fft_set_default_effort(estimate_only() ? PEL_FFT_ESTIMATE : PEL_FFT_AUTO, 0);
    if (getenv("PEL_FFT_UPGRADE") == NULL)
        pel_fft_set_upgrade_mode(PEL_FFT_UPGRADE_NORMAL);
    if (setup_case(&c, dims, rank, 0) != 0)
        return 1;
    /* First, while FFTW has no wisdom of this size from the rows below. */
    if (!estimate_only() && ((rank == 1 && dims[0] == ((size_t)1 << 20)) ||
                             (rank == 3 && dims[0] == 256 && dims[1] == 256 && dims[2] == 256)))
        default_vs_measure_row(context, &c);
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
    {"fft", "one-shot pel FFT (default: upgraded plan) vs FFTW MEASURE / ESTIMATE plan + fftw_execute; auto "
            "threads; 3-D scaling; default-vs-measure (first call, upgrade)",
     "1024,2048,4096,8192,16384,32768,65536,131072,262144,524288,1048576,2097152,4194304,1024x1024,128x128x128,"
     "256x256x256",
     "1024,16384,1048576,256x256,64x64x64", run_fft},
    {"fftconv", "pel_fft_convolve (same, 31x31 kernel) vs direct OpenMP convolution", "2048x2048", "256x256",
     run_fftconv},
    {NULL, NULL, NULL, NULL, NULL},
};
