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

/* A bandwidth reference (STREAM copy or triad) timed in the same rounds as
 * a kernel: this machine's memory bandwidth drifts by up to 2x within
 * minutes, so a kernel's fraction of stream only means something against
 * the same moments. */
typedef struct pel_bench_reference {
    pel_bench_fn fn;
    void *arg;
    double median; /* out: its median seconds */
} pel_bench_reference;

/* pel_bench_compare with a reference (may be NULL) run after both sides in
 * every round; its median lands in reference->median. */
void pel_bench_compare_with(int reps, pel_bench_fn fn_pel, pel_bench_fn fn_baseline, void *arg,
                            pel_bench_reference *reference, double *pel_median, double *baseline_median);

/* STREAM references on `threads` threads over arrays of 2^25 doubles:
 * pel_bench_stream_open allocates and first-touches them (NULL when out of
 * memory), pel_bench_stream_copy / _triad are one pass (pel_bench_fn),
 * pel_bench_stream_gbps turns a pass's seconds into GB/s (copy counts 16,
 * triad 24 bytes an element). */
void *pel_bench_stream_open(int threads);
void pel_bench_stream_close(void *stream);
void pel_bench_stream_copy(void *stream);
void pel_bench_stream_triad(void *stream);
double pel_bench_stream_gbps(pel_bench_fn pass, double seconds);

/* The read bandwidth, GB/s, of the memory level that holds a working set of
 * `bytes` on `threads` threads, from pel's measured machine model
 * (pel_machine_info): the first cache level whose effective capacity for the
 * team (one instance per thread for a private level, one per sharing group
 * for a shared one) holds it, else memory. A cache level's rate is the
 * model's team rate scaled by threads / the model's threads (each core
 * brings its own private caches); memory's is taken as it is (one core
 * draws most of it). *level (may be NULL) gets "L1d", "L2", "L3" or
 * "memory". Returns 0 when the model is unavailable. For the "% of
 * roofline" and "% of bandwidth" lines: a working set in cache must not be
 * measured against DRAM. */
double pel_bench_level_gbps(size_t bytes, int threads, const char **level);

/* Parses "N" or "NxMxK" into dims (at most max_dims); returns the count or 0. */
int pel_bench_parse_dims(const char *size, size_t *dims, int max_dims);

/* The kernel tables, one per layer, each ending with a {NULL} entry. */
extern const pel_bench_kernel pel_bench_exec_kernels[];
extern const pel_bench_kernel pel_bench_matrix_kernels[];
extern const pel_bench_kernel pel_bench_sparse_kernels[];
extern const pel_bench_kernel pel_bench_fft_kernels[];
extern const pel_bench_kernel pel_bench_stencil_kernels[];
extern const pel_bench_kernel pel_bench_tune_kernels[];

/* pel-bench --machine: prints the measured machine model; returns 0. */
int pel_bench_print_machine(void);

#endif
