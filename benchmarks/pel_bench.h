/* pel-bench: one driver for every kernel. Each layer's bench_<layer>.c holds
 * a table of kernels; each kernel times pel and the baseline a user would
 * otherwise call, interleaved in the same run, and emits rows. */
#ifndef PEL_BENCH_H
#define PEL_BENCH_H

#include <stddef.h>

/* What a kernel run gets: the size string (e.g. "33554432" or "256x256x256"),
 * the thread count to use for pel and the baseline, and the repetitions. */
typedef struct pel_bench_context {
    const char *size;
    int threads;
    int reps;
    int quick; /* --suite quick: keep it short */
} pel_bench_context;

/* One result row (DESIGN.md, benchmark driver contract). */
typedef struct pel_bench_row {
    const char *kernel;
    const char *variant;
    const char *size;
    int threads;
    double seconds;          /* pel's median */
    double gflops;           /* 0 when not meaningful */
    double gbps;             /* 0 when not meaningful */
    const char *baseline;    /* what pel is compared with */
    double baseline_seconds; /* the baseline's median */
    const char *extra_json;  /* optional extra fields, e.g. "\"steps\":100"; NULL if none */
} pel_bench_row;

typedef struct pel_bench_kernel {
    const char *name;
    const char *description;
    const char *default_sizes; /* comma-separated: what --kernel K runs without --size */
    const char *quick_sizes;   /* what --suite quick runs */
    /* Runs one size at one thread count; emits rows; returns 0 or nonzero on failure. */
    int (*run)(const pel_bench_context *context);
} pel_bench_kernel;

/* Prints a row in the chosen format (ratio = baseline_seconds / seconds). */
void pel_bench_emit(const pel_bench_row *row);

/* Times fn_pel and fn_baseline alternately, reps rounds after one warm-up
 * each, and stores the medians. Either function may be NULL. */
typedef void (*pel_bench_fn)(void *arg);
void pel_bench_compare(int reps, pel_bench_fn fn_pel, pel_bench_fn fn_baseline, void *arg, double *pel_median,
                       double *baseline_median);

/* Progress note on stderr (kept off stdout so table/csv/json stay clean). */
void pel_bench_progress(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* The next 64 random bits of a splitmix64 stream (state advances). */
unsigned long long pel_bench_next(unsigned long long *state);

/* Random doubles in [-1, 1) (never zeros), in pel_malloc'd memory. */
double *pel_bench_random(size_t n, unsigned long long seed);
float *pel_bench_random_float(size_t n, unsigned long long seed);

/* STREAM copy and triad bandwidth (GB/s) on `threads` threads, with arrays
 * of 2^25 doubles, median of reps, measured at each call: kernels call it
 * right after their own timing to report a fraction of stream. */
double pel_bench_stream_copy_gbps(int threads, int reps);
double pel_bench_stream_triad_gbps(int threads, int reps);

/* Parses "N" or "NxMxK" into dims (at most max_dims); returns the count or 0. */
int pel_bench_parse_dims(const char *size, size_t *dims, int max_dims);

/* The kernel tables, one per layer, each ending with a {NULL} entry. */
extern const pel_bench_kernel pel_bench_exec_kernels[];
extern const pel_bench_kernel pel_bench_matrix_kernels[];
extern const pel_bench_kernel pel_bench_sparse_kernels[];
extern const pel_bench_kernel pel_bench_fft_kernels[];
extern const pel_bench_kernel pel_bench_stencil_kernels[];

#endif
