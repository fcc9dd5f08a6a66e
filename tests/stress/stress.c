/* Concurrency stress test (docs/reliability.md, "Race testing"): user
 * threads (8 by default) call pel at once, in a loop, for a bounded time,
 * over a mix of every layer: one-shot FFTs of several sizes through a plan
 * cache small enough to evict, one shared explicit plan, stencils, gemm,
 * batched gemm, SpMV on a shared matrix, tasks, reductions, thread-count
 * calls (process-wide and per thread) and error paths whose thread-local
 * messages must stay the calling thread's own.
 *
 * Every result is checked against a reference computed before the threads
 * start: bit for bit where pel promises bits for any thread count (stencils,
 * batched small gemm, SpMV, reductions, tasks), within a tolerance where the
 * work goes to OpenBLAS or to FFT plans whose thread count the concurrent
 * thread-setting calls change. Built normally it runs in `make check` for a
 * few seconds; built with --enable-tsan it is the ThreadSanitizer workload.
 *
 * usage: stress [SECONDS [THREADS]]   (defaults: PEL_STRESS_SECONDS or 2, 8) */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pel.h"

enum { NFFT = 5, GEMM_N = 48, BATCH_N = 8, BATCH = 24, GRID = 40, STEPS = 3, SPMV_N = 400, TASKS = 64, RED_N = 20000,
       OPS = 12 };

static const size_t fft_sizes[NFFT] = {64, 100, 128, 243, 1000};

/* Inputs and references, written before the threads start, read-only after. */
static double complex_in[NFFT][2 * 1000], complex_ref[NFFT][2 * 1000];
static double gemm_a[GEMM_N * GEMM_N], gemm_b[GEMM_N * GEMM_N], gemm_ref[GEMM_N * GEMM_N];
static double batch_a[BATCH * BATCH_N * BATCH_N], batch_b[BATCH * BATCH_N * BATCH_N], batch_ref[BATCH * BATCH_N * BATCH_N];
static double grid_in[GRID * GRID], grid_ref[GRID * GRID];
static double spmv_x[SPMV_N], spmv_ref[SPMV_N], red_x[RED_N], red_ref;
static pel_stencil *stencil;
static pel_csr *matrix;
static pel_fft_plan *shared_plan; /* fft_sizes[1], forward, 1 thread */

static atomic_int stop, failures;
static atomic_long counts[OPS];
static const char *op_names[OPS] = {"fft one-shot", "fft shared plan", "stencil", "dgemm", "batched gemm", "spmv",
                                    "tasks", "reduce_sum", "parallel_reduce", "set threads", "error path",
                                    "plan create/destroy"};

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            fprintf(stderr, "stress: " __VA_ARGS__);       \
            fprintf(stderr, "\n");                         \
            atomic_fetch_add(&failures, 1);                \
        }                                                  \
    } while (0)

static double close_to(const double *a, const double *b, size_t n)
{
    double worst = 0.0, scale = 1e-300;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return worst / scale;
}

static int task_body(size_t index, void *arg)
{
    int *marks = arg;
    marks[index] += 1;
    return 0;
}

static int sum_map(size_t begin, size_t end, void *partial, void *arg)
{
    const double *x = arg;
    double s = *(double *)partial;
    for (size_t i = begin; i < end; i++)
        s += x[i];
    *(double *)partial = s;
    return 0;
}

static void sum_combine(void *left, const void *right, void *arg)
{
    (void)arg;
    *(double *)left += *(const double *)right;
}

static double parallel_reduce_value(void)
{
    double zero = 0.0, result = -1.0;
    if (pel_parallel_reduce(RED_N, 1000, sizeof(double), &zero, sum_map, sum_combine, red_x, &result) != PEL_OK)
        return NAN;
    return result;
}

static void build_references(void)
{
    uint64_t seed = 12345;
    const pel_boundary faces[4] = {{PEL_BOUNDARY_DIRICHLET, 1.0}, {PEL_BOUNDARY_NEUMANN, 0.0},
                                   {PEL_BOUNDARY_PERIODIC, 0.0}, {PEL_BOUNDARY_PERIODIC, 0.0}};
    const size_t gdims[2] = {GRID, GRID};
    pel_fft_options one = {PEL_FFT_ESTIMATE, 0.0, 1, PEL_FFT_NORM_BACKWARD};
    size_t *row_ptr = malloc((SPMV_N + 1) * sizeof *row_ptr), *col = malloc(3 * SPMV_N * sizeof *col);
    double *val = malloc(3 * SPMV_N * sizeof *val);
    void *result = NULL;
    size_t nnz = 0;

#define NEXT() (seed = seed * 6364136223846793005ull + 1442695040888963407ull, (double)(seed >> 11) / 9007199254740992.0 - 0.5)
    for (int f = 0; f < NFFT; f++)
        for (size_t i = 0; i < 2 * fft_sizes[f]; i++)
            complex_in[f][i] = NEXT();
    for (size_t i = 0; i < GEMM_N * GEMM_N; i++) {
        gemm_a[i] = NEXT();
        gemm_b[i] = NEXT();
    }
    for (size_t i = 0; i < BATCH * BATCH_N * BATCH_N; i++) {
        batch_a[i] = NEXT();
        batch_b[i] = NEXT();
    }
    for (size_t i = 0; i < GRID * GRID; i++)
        grid_in[i] = NEXT();
    for (size_t i = 0; i < SPMV_N; i++)
        spmv_x[i] = NEXT();
    for (size_t i = 0; i < RED_N; i++)
        red_x[i] = NEXT();

    /* References on one thread. FFT: the naive DFT, so no pel code is its
     * own reference. */
    pel_set_num_threads(1);
    for (int f = 0; f < NFFT; f++) {
        size_t n = fft_sizes[f];
        for (size_t k = 0; k < n; k++) {
            double re = 0.0, im = 0.0;
            for (size_t j = 0; j < n; j++) {
                double phase = -2.0 * 3.14159265358979323846 * (double)((j * k) % n) / (double)n;
                re += complex_in[f][2 * j] * cos(phase) - complex_in[f][2 * j + 1] * sin(phase);
                im += complex_in[f][2 * j] * sin(phase) + complex_in[f][2 * j + 1] * cos(phase);
            }
            complex_ref[f][2 * k] = re;
            complex_ref[f][2 * k + 1] = im;
        }
    }
    for (size_t i = 0; i < GEMM_N; i++)
        for (size_t j = 0; j < GEMM_N; j++) {
            double s = 0.0;
            for (size_t p = 0; p < GEMM_N; p++)
                s += gemm_a[i * GEMM_N + p] * gemm_b[p * GEMM_N + j];
            gemm_ref[i * GEMM_N + j] = s;
        }
    memset(batch_ref, 0, sizeof batch_ref);
    if (pel_dgemm_batch_strided(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, BATCH_N, BATCH_N, BATCH_N, 1.0, batch_a,
                                BATCH_N, BATCH_N * BATCH_N, batch_b, BATCH_N, BATCH_N * BATCH_N, 0.0, batch_ref,
                                BATCH_N, BATCH_N * BATCH_N, BATCH) != PEL_OK)
        exit((fprintf(stderr, "stress: reference batch: %s\n", pel_last_error()), 2));
    if (pel_stencil_create_laplacian(PEL_FLOAT64, 2, 5, 1.0, &stencil) != PEL_OK)
        exit((fprintf(stderr, "stress: stencil: %s\n", pel_last_error()), 2));
    memcpy(grid_ref, grid_in, sizeof grid_in);
    if (pel_stencil_apply(stencil, gdims, faces, grid_ref, NULL, NULL, STEPS, NULL, &result) != PEL_OK)
        exit((fprintf(stderr, "stress: reference stencil: %s\n", pel_last_error()), 2));
    row_ptr[0] = 0;
    for (size_t i = 0; i < SPMV_N; i++) {
        for (size_t j = i ? i - 1 : 0; j <= i + 1 && j < SPMV_N; j++) {
            col[nnz] = j;
            val[nnz] = j == i ? 2.0 + (double)(i % 7) / 8.0 : -1.0;
            nnz++;
        }
        row_ptr[i + 1] = nnz;
    }
    if (pel_csr_create(PEL_FLOAT64, SPMV_N, SPMV_N, row_ptr, col, val, &matrix) != PEL_OK ||
        pel_csr_spmv(matrix, 1.0, spmv_x, 0.0, spmv_ref) != PEL_OK)
        exit((fprintf(stderr, "stress: csr: %s\n", pel_last_error()), 2));
    if (pel_reduce_sum(red_x, RED_N, 1, &red_ref) != PEL_OK)
        exit(2);
    if (pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &fft_sizes[1], 1, PEL_FFT_FORWARD, 0, &one, &shared_plan) !=
        PEL_OK)
        exit((fprintf(stderr, "stress: plan: %s\n", pel_last_error()), 2));
    /* Fewer cache slots than sizes: the one-shot calls evict each other. */
    pel_fft_cache_set_capacity(3);
    pel_set_num_threads(0);
    free(row_ptr);
    free(col);
    free(val);
}

typedef struct worker {
    int id;
    uint64_t seed;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    double out[2 * 1000], c[GEMM_N * GEMM_N], batch_c[BATCH * BATCH_N * BATCH_N], grid[GRID * GRID], y[SPMV_N];
    const size_t gdims[2] = {GRID, GRID};
    const pel_boundary faces[4] = {{PEL_BOUNDARY_DIRICHLET, 1.0}, {PEL_BOUNDARY_NEUMANN, 0.0},
                                   {PEL_BOUNDARY_PERIODIC, 0.0}, {PEL_BOUNDARY_PERIODIC, 0.0}};
    int marks[TASKS];
    double costs[TASKS];

    for (int t = 0; t < TASKS; t++)
        costs[t] = (double)((t * 37) % 11 + 1);
    while (!atomic_load(&stop)) {
        int op;
        w->seed = w->seed * 6364136223846793005ull + 1442695040888963407ull;
        op = (int)((w->seed >> 33) % OPS);
        switch (op) {
        case 0: {
            int f = (int)((w->seed >> 20) % NFFT);
            size_t n = fft_sizes[f];
            CHECK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, complex_in[f], out) == PEL_OK,
                  "fft %zu: %s", n, pel_last_error());
            CHECK(close_to(out, complex_ref[f], 2 * n) < 1e-12, "fft %zu differs from the DFT", n);
            break;
        }
        case 1:
            CHECK(pel_fft_execute(shared_plan, complex_in[1], out) == PEL_OK, "shared plan: %s", pel_last_error());
            CHECK(close_to(out, complex_ref[1], 2 * fft_sizes[1]) < 1e-12, "shared plan differs from the DFT");
            break;
        case 2: {
            void *result = NULL;
            memcpy(grid, grid_in, sizeof grid);
            CHECK(pel_stencil_apply(stencil, gdims, faces, grid, NULL, NULL, STEPS, NULL, &result) == PEL_OK,
                  "stencil: %s", pel_last_error());
            CHECK(memcmp(result, grid_ref, sizeof grid_ref) == 0, "stencil bits differ from the reference");
            break;
        }
        case 3:
            CHECK(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, GEMM_N, GEMM_N, GEMM_N, 1.0, gemm_a, GEMM_N,
                            gemm_b, GEMM_N, 0.0, c, GEMM_N) == PEL_OK, "dgemm: %s", pel_last_error());
            CHECK(close_to(c, gemm_ref, GEMM_N * GEMM_N) < 1e-13, "dgemm differs from the naive product");
            break;
        case 4:
            CHECK(pel_dgemm_batch_strided(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, BATCH_N, BATCH_N, BATCH_N, 1.0,
                                          batch_a, BATCH_N, BATCH_N * BATCH_N, batch_b, BATCH_N, BATCH_N * BATCH_N,
                                          0.0, batch_c, BATCH_N, BATCH_N * BATCH_N, BATCH) == PEL_OK,
                  "batch: %s", pel_last_error());
            CHECK(memcmp(batch_c, batch_ref, sizeof batch_ref) == 0, "batched gemm bits differ");
            break;
        case 5:
            CHECK(pel_csr_spmv(matrix, 1.0, spmv_x, 0.0, y) == PEL_OK, "spmv: %s", pel_last_error());
            CHECK(memcmp(y, spmv_ref, sizeof y) == 0, "spmv bits differ");
            break;
        case 6:
            memset(marks, 0, sizeof marks);
            CHECK(pel_run_tasks(TASKS, task_body, marks, (w->seed >> 40) % 2 ? costs : NULL) == PEL_OK, "tasks: %s",
                  pel_last_error());
            for (int t = 0; t < TASKS; t++)
                CHECK(marks[t] == 1, "task %d ran %d times", t, marks[t]);
            break;
        case 7: {
            double s = 0.0;
            CHECK(pel_reduce_sum(red_x, RED_N, 1, &s) == PEL_OK && memcmp(&s, &red_ref, sizeof s) == 0,
                  "reduce_sum bits differ");
            break;
        }
        case 8: {
            /* Bits for any thread count: compare two runs on this thread
             * under different local thread counts. */
            double first, second;
            pel_set_num_threads_local(1);
            first = parallel_reduce_value();
            pel_set_num_threads_local(3);
            second = parallel_reduce_value();
            pel_set_num_threads_local(0);
            CHECK(!isnan(first) && memcmp(&first, &second, sizeof first) == 0, "parallel_reduce bits differ");
            CHECK(fabs(first - red_ref) <= 1e-10, "parallel_reduce far from reduce_sum");
            break;
        }
        case 9:
            if ((w->seed >> 24) % 2)
                CHECK(pel_set_num_threads((int)((w->seed >> 26) % 4)) == PEL_OK, "set_num_threads");
            else
                CHECK(pel_set_num_threads_local((int)((w->seed >> 26) % 5)) == PEL_OK, "set_num_threads_local");
            CHECK(pel_get_num_threads() >= 1, "pel_get_num_threads < 1");
            break;
        case 10: {
            /* An error on this thread: the message must be this call's, even
             * while other threads fail with other messages. */
            char expected[64];
            size_t lda = 2 + (size_t)w->id;
            CHECK(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 4, 4, 16, 1.0, gemm_a, lda, gemm_b, 4, 0.0, c,
                            4) == PEL_ERROR_INVALID_ARGUMENT, "bad lda accepted");
            snprintf(expected, sizeof expected, "lda=%zu", lda);
            CHECK(strstr(pel_last_error(), expected) != NULL, "thread %d got another thread's message: %s", w->id,
                  pel_last_error());
            CHECK(pel_set_num_threads(-1) == PEL_ERROR_INVALID_ARGUMENT, "negative thread count accepted");
            break;
        }
        default: {
            /* Plans made and destroyed while others execute theirs. */
            pel_fft_plan *plan = NULL;
            pel_fft_options options = {PEL_FFT_ESTIMATE, 0.0, (int)((w->seed >> 28) % 3), PEL_FFT_NORM_BACKWARD};
            int f = (int)((w->seed >> 30) % NFFT);
            CHECK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &fft_sizes[f], 1, PEL_FFT_FORWARD, 0, &options,
                                      &plan) == PEL_OK, "plan create: %s", pel_last_error());
            if (plan != NULL) {
                CHECK(pel_fft_execute(plan, complex_in[f], out) == PEL_OK, "execute: %s", pel_last_error());
                CHECK(close_to(out, complex_ref[f], 2 * fft_sizes[f]) < 1e-12, "new plan differs from the DFT");
                pel_fft_plan_destroy(plan);
            }
        }
        }
        atomic_fetch_add(&counts[op], 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *env = getenv("PEL_STRESS_SECONDS");
    double seconds = argc > 1 ? atof(argv[1]) : env ? atof(env) : 2.0, start;
    int nthreads = argc > 2 ? atoi(argv[2]) : 8;
    pthread_t threads[64];
    worker workers[64];
    long total = 0;

    if (!(seconds > 0.0) || nthreads < 1 || nthreads > 64) {
        fprintf(stderr, "usage: %s [SECONDS [THREADS (1-64)]]\n", argv[0]);
        return 2;
    }
    build_references();
    start = pel_wtime();
    for (int t = 0; t < nthreads; t++) {
        workers[t].id = t;
        workers[t].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
        if (pthread_create(&threads[t], NULL, run_worker, &workers[t]) != 0)
            return (fprintf(stderr, "stress: pthread_create failed\n"), 2);
    }
    while (pel_wtime() - start < seconds) {
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < nthreads; t++)
        pthread_join(threads[t], NULL);
    for (int op = 0; op < OPS; op++) {
        printf("%-20s %ld\n", op_names[op], atomic_load(&counts[op]));
        total += atomic_load(&counts[op]);
    }
    printf("stress: %d threads, %.1f s, %ld calls, %d failures\n", nthreads, pel_wtime() - start, total,
           atomic_load(&failures));
    pel_fft_plan_destroy(shared_plan);
    pel_csr_destroy(matrix);
    pel_stencil_destroy(stencil);
    pel_fft_cache_clear();
    for (int op = 0; op < OPS; op++)
        if (atomic_load(&counts[op]) == 0 && seconds >= 1.0)
            return (fprintf(stderr, "stress: %s never ran\n", op_names[op]), 1);
    return atomic_load(&failures) == 0 ? 0 : 1;
}
