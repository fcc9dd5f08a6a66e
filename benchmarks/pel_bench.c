/* pel-bench: the benchmark driver (DESIGN.md, "Benchmark driver contract").
 *
 *   pel-bench --list
 *   pel-bench --kernel NAME [--size N[,N...]] [--threads T[,T...]] [--reps R]
 *             [--format table|csv|json]
 *   pel-bench --suite quick [--format ...]
 */
#include "pel_bench.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pel.h"

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };
static enum format output_format = FORMAT_TABLE;
static int header_printed;

static const pel_bench_kernel *const kernel_tables[] = {
    pel_bench_exec_kernels, pel_bench_matrix_kernels, pel_bench_sparse_kernels,
    pel_bench_fft_kernels,  pel_bench_stencil_kernels, pel_bench_tune_kernels,
};
#define TABLE_COUNT (sizeof kernel_tables / sizeof kernel_tables[0])

static const pel_bench_kernel *find_kernel(const char *name)
{
    for (size_t t = 0; t < TABLE_COUNT; t++)
        for (const pel_bench_kernel *k = kernel_tables[t]; k->name != NULL; k++)
            if (strcmp(k->name, name) == 0)
                return k;
    return NULL;
}

void pel_bench_progress(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    fputs("pel-bench: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

/* ------------------------------------------------------------ output */

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

/* A CSV text field: quoted (RFC 4180) when it holds a comma or a quote, as
 * some baselines do ("direct convolution, omp parallel for ..."). */
static void print_csv_field(const char *text)
{
    if (strpbrk(text, ",\"\n") == NULL) {
        fputs(text, stdout);
        return;
    }
    putchar('"');
    for (const char *c = text; *c; c++) {
        if (*c == '"')
            putchar('"');
        putchar(*c);
    }
    putchar('"');
}

void pel_bench_emit(const pel_bench_row *row)
{
    double ratio = row->seconds > 0 && row->baseline_seconds > 0 ? row->baseline_seconds / row->seconds : 0.0;

    switch (output_format) {
    case FORMAT_TABLE:
        if (!header_printed) {
            printf("%-12s %-14s %-14s %4s %12s %9s %9s %-26s %12s %7s\n", "kernel", "variant", "size", "thr",
                   "seconds", "GFLOP/s", "GB/s", "baseline", "base_sec", "ratio");
            header_printed = 1;
        }
        printf("%-12s %-14s %-14s %4d %12.6g %9.2f %9.2f %-26s %12.6g %7.2f\n", row->kernel, row->variant,
               row->size, row->threads, row->seconds, row->gflops, row->gbps, row->baseline, row->baseline_seconds,
               ratio);
        break;
    case FORMAT_CSV:
        if (!header_printed) {
            printf("kernel,variant,size,threads,seconds,gflops,gbps,baseline,baseline_seconds,ratio\n");
            header_printed = 1;
        }
        printf("%s,%s,%s,%d,%.9g,%.6g,%.6g,", row->kernel, row->variant, row->size, row->threads, row->seconds,
               row->gflops, row->gbps);
        print_csv_field(row->baseline);
        printf(",%.9g,%.6g\n", row->baseline_seconds, ratio);
        break;
    case FORMAT_JSON:
        printf("{\"kernel\":");
        print_json_string(row->kernel);
        printf(",\"variant\":");
        print_json_string(row->variant);
        printf(",\"size\":");
        print_json_string(row->size);
        printf(",\"threads\":%d,\"seconds\":%.9g,\"gflops\":%.6g,\"gbps\":%.6g,\"baseline\":", row->threads,
               row->seconds, row->gflops, row->gbps);
        print_json_string(row->baseline);
        printf(",\"baseline_seconds\":%.9g,\"ratio\":%.6g", row->baseline_seconds, ratio);
        if (row->extra_json != NULL && row->extra_json[0] != '\0')
            printf(",%s", row->extra_json);
        printf("}\n");
        break;
    }
    fflush(stdout);
}

/* ------------------------------------------------------------ timing */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int count)
{
    qsort(values, (size_t)count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

void pel_bench_compare_with(int reps, pel_bench_fn fn_pel, pel_bench_fn fn_baseline, void *arg,
                            pel_bench_reference *reference, double *pel_median, double *baseline_median)
{
    double *pel_times = calloc((size_t)reps, sizeof *pel_times);
    double *base_times = calloc((size_t)reps, sizeof *base_times);
    double *ref_times = calloc((size_t)reps, sizeof *ref_times);

    if (fn_pel)
        fn_pel(arg);
    if (fn_baseline)
        fn_baseline(arg);
    if (reference)
        reference->fn(reference->arg);
    /* Interleave, alternating who goes first, so drifts of the shared
     * machine hit both sides alike; the reference closes every round. */
    for (int r = 0; r < reps; r++) {
        for (int side = 0; side < 2; side++) {
            int run_pel = (side == 0) == (r % 2 == 0);
            pel_bench_fn fn = run_pel ? fn_pel : fn_baseline;
            double t0;
            if (fn == NULL)
                continue;
            t0 = pel_wtime();
            fn(arg);
            (run_pel ? pel_times : base_times)[r] = pel_wtime() - t0;
        }
        if (reference) {
            double t0 = pel_wtime();
            reference->fn(reference->arg);
            ref_times[r] = pel_wtime() - t0;
        }
    }
    if (pel_median)
        *pel_median = fn_pel ? median(pel_times, reps) : 0.0;
    if (baseline_median)
        *baseline_median = fn_baseline ? median(base_times, reps) : 0.0;
    if (reference)
        reference->median = median(ref_times, reps);
    free(pel_times);
    free(base_times);
    free(ref_times);
}

void pel_bench_compare(int reps, pel_bench_fn fn_pel, pel_bench_fn fn_baseline, void *arg, double *pel_median,
                       double *baseline_median)
{
    pel_bench_compare_with(reps, fn_pel, fn_baseline, arg, NULL, pel_median, baseline_median);
}

unsigned long long pel_bench_next(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double *pel_bench_random(size_t n, unsigned long long seed)
{
    double *x = pel_malloc((n ? n : 1) * sizeof *x);

    if (x == NULL) {
        fprintf(stderr, "pel-bench: %s\n", pel_last_error());
        exit(2);
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        /* Element i is the first draw of stream seed*2^32 + i: the same
         * values whatever thread fills it. */
        unsigned long long state = (seed << 32) + i;
        unsigned long long z = pel_bench_next(&state);
        /* In [-1, -2^-20] or [2^-20, 1): never zero. */
        double u = (double)(z >> 11) * 0x1.0p-53 * 2.0 - 1.0;
        x[i] = fabs(u) < 0x1p-20 ? 0.5 : u;
    }
    return x;
}

float *pel_bench_random_float(size_t n, unsigned long long seed)
{
    float *x = pel_malloc((n ? n : 1) * sizeof *x);
    double *d = pel_bench_random(n, seed);

    if (x == NULL) {
        fprintf(stderr, "pel-bench: %s\n", pel_last_error());
        exit(2);
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)d[i];
    pel_free(d);
    return x;
}

int pel_bench_parse_dims(const char *size, size_t *dims, int max_dims)
{
    int count = 0;
    const char *p = size;

    while (*p && count < max_dims) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || v == 0)
            return 0;
        dims[count++] = (size_t)v;
        if (*end == '\0')
            return count;
        if (*end != 'x')
            return 0;
        p = end + 1;
    }
    return 0;
}

double pel_bench_level_gbps(size_t bytes, int threads, const char **level)
{
    static const char *const names[3] = {"L1d", "L2", "L3"};
    pel_machine m;

    if (level)
        *level = "memory";
    if (pel_machine_info(&m) != PEL_OK || m.threads < 1)
        return 0.0;
    if (threads < 1)
        threads = 1;
    for (int k = 0; k < 3; k++) {
        const pel_machine_cache *c = &m.cache[k];
        int shared = c->shared_by > 1 ? c->shared_by : 1;
        size_t instances = (size_t)((threads + shared - 1) / shared);
        if (c->bytes == 0 || c->gbps <= 0 || bytes > c->bytes * instances)
            continue;
        if (level)
            *level = names[k];
        return c->gbps * (threads < m.threads ? (double)threads / m.threads : 1.0);
    }
    return m.memory_gbps;
}

/* ------------------------------------------------------------ driver */

static void list_kernels(void)
{
    printf("%-12s %-28s %s\n", "kernel", "default sizes", "description");
    for (size_t t = 0; t < TABLE_COUNT; t++)
        for (const pel_bench_kernel *k = kernel_tables[t]; k->name != NULL; k++)
            printf("%-12s %-28s %s\n", k->name, k->default_sizes, k->description);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: pel-bench --list\n"
                 "       pel-bench --machine\n"
                 "       pel-bench --kernel NAME [--size N[,N...]] [--threads T[,T...]] [--reps R]\n"
                 "                 [--format table|csv|json]\n"
                 "       pel-bench --suite quick [--threads T[,T...]] [--format table|csv|json]\n"
                 "Sizes are N or NxMxK; each row reports pel and its baseline from the same run,\n"
                 "median of R interleaved repetitions, ratio = baseline_seconds / seconds.\n");
}

/* Splits a comma-separated list into a NULL-terminated array of strings. */
static char **split(const char *text)
{
    size_t count = 1;
    char *copy = strdup(text), **items, *save = NULL;

    for (const char *p = text; *p; p++)
        count += *p == ',';
    items = calloc(count + 1, sizeof *items);
    count = 0;
    for (char *token = strtok_r(copy, ",", &save); token; token = strtok_r(NULL, ",", &save))
        items[count++] = token;
    return items;
}

static int run_kernel(const pel_bench_kernel *kernel, const char *sizes, char **threads, int reps, int quick)
{
    char **size_list = split(sizes);
    int failures = 0;

    for (char **t = threads; *t; t++) {
        int nthreads = atoi(*t);
        if (nthreads < 1) {
            fprintf(stderr, "pel-bench: bad thread count '%s'\n", *t);
            failures++;
            continue;
        }
        for (char **s = size_list; *s; s++) {
            pel_bench_context context = {*s, nthreads, reps, quick};
            pel_bench_progress("%s size %s, %d thread%s", kernel->name, *s, nthreads, nthreads > 1 ? "s" : "");
            pel_set_num_threads(nthreads);
            omp_set_num_threads(nthreads); /* the baselines are plain OpenMP */
            if (kernel->run(&context) != 0) {
                fprintf(stderr, "pel-bench: %s size %s failed: %s\n", kernel->name, *s, pel_last_error());
                failures++;
            }
        }
    }
    free(size_list[0]);
    free(size_list);
    return failures;
}

int main(int argc, char **argv)
{
    const char *kernel_name = NULL, *sizes = NULL, *threads_text = NULL, *suite = NULL;
    int reps = 0, failures = 0;
    char default_threads[16], **threads;

    /* Every option but --list and --help (which return) takes one value. */
    for (int i = 1; i < argc; i += 2) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--list") == 0) {
            list_kernels();
            return 0;
        } else if (strcmp(arg, "--machine") == 0) {
            return pel_bench_print_machine();
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (value == NULL) {
            usage(stderr);
            return 2;
        } else if (strcmp(arg, "--kernel") == 0) {
            kernel_name = value;
        } else if (strcmp(arg, "--size") == 0) {
            sizes = value;
        } else if (strcmp(arg, "--threads") == 0) {
            threads_text = value;
        } else if (strcmp(arg, "--reps") == 0) {
            reps = atoi(value);
            if (reps < 1) {
                fprintf(stderr, "pel-bench: --reps must be a positive integer\n");
                return 2;
            }
        } else if (strcmp(arg, "--suite") == 0) {
            suite = value;
        } else if (strcmp(arg, "--format") == 0) {
            if (strcmp(value, "table") == 0)
                output_format = FORMAT_TABLE;
            else if (strcmp(value, "csv") == 0)
                output_format = FORMAT_CSV;
            else if (strcmp(value, "json") == 0)
                output_format = FORMAT_JSON;
            else {
                fprintf(stderr, "pel-bench: unknown format '%s'\n", value);
                return 2;
            }
        } else {
            usage(stderr);
            return 2;
        }
    }
    snprintf(default_threads, sizeof default_threads, "%d", pel_get_num_threads());
    threads = split(threads_text ? threads_text : default_threads);
    pel_bench_progress("%s; %s threads", pel_backend_info(), threads_text ? threads_text : default_threads);

    if (suite != NULL) {
        if (strcmp(suite, "quick") != 0) {
            fprintf(stderr, "pel-bench: unknown suite '%s' (known: quick)\n", suite);
            return 2;
        }
        for (size_t t = 0; t < TABLE_COUNT; t++)
            for (const pel_bench_kernel *k = kernel_tables[t]; k->name != NULL; k++)
                failures += run_kernel(k, k->quick_sizes, threads, reps ? reps : 5, 1);
    } else if (kernel_name != NULL) {
        const pel_bench_kernel *kernel = find_kernel(kernel_name);
        if (kernel == NULL) {
            fprintf(stderr, "pel-bench: unknown kernel '%s' (see --list)\n", kernel_name);
            return 2;
        }
        failures += run_kernel(kernel, sizes ? sizes : kernel->default_sizes, threads, reps ? reps : 10, 0);
    } else {
        usage(stderr);
        return 2;
    }
    free(threads[0]);
    free(threads);
    return failures == 0 ? 0 : 1;
}
