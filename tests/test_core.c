/* Tests of the core layer: status table, errors, version, memory, threads,
 * backend coordination and fork safety. */
#include "pel_test.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "core/env.h"
#include "core/error.h"
#include "core/handle.h"
#include "core/threads.h"

static void add_handle_suites(void);

static void test_status_table(void)
{
    /* Every code has a distinct name and description; unknown codes are named so. */
    static const int codes[] = {
#define PEL_X_CODE(name, value, text) value,
        PEL_STATUS_TABLE(PEL_X_CODE)
#undef PEL_X_CODE
    };
    size_t count = sizeof codes / sizeof codes[0];

    CU_ASSERT_EQUAL(PEL_OK, 0);
    CU_ASSERT_STRING_EQUAL(pel_status_name(PEL_OK), "PEL_OK");
    CU_ASSERT_STRING_EQUAL(pel_status_name(PEL_ERROR_INVALID_ARGUMENT), "PEL_ERROR_INVALID_ARGUMENT");
    CU_ASSERT_STRING_EQUAL(pel_strerror(PEL_ERROR_OUT_OF_MEMORY), "out of memory");
    for (size_t i = 0; i < count; i++) {
        CU_ASSERT(i == 0 || codes[i] < 0);
        CU_ASSERT_STRING_NOT_EQUAL(pel_status_name(codes[i]), "PEL_UNKNOWN_STATUS");
        CU_ASSERT_STRING_NOT_EQUAL(pel_strerror(codes[i]), "unknown status");
        for (size_t j = 0; j < i; j++) {
            CU_ASSERT(codes[i] != codes[j]);
            CU_ASSERT_STRING_NOT_EQUAL(pel_status_name(codes[i]), pel_status_name(codes[j]));
            CU_ASSERT_STRING_NOT_EQUAL(pel_strerror(codes[i]), pel_strerror(codes[j]));
        }
    }
    CU_ASSERT_STRING_EQUAL(pel_status_name(12345), "PEL_UNKNOWN_STATUS");
    CU_ASSERT_STRING_EQUAL(pel_strerror(-999), "unknown status");
}

static void test_last_error_message(void)
{
    pel_clear_error();
    CU_ASSERT_STRING_EQUAL(pel_last_error(), "");
    CU_ASSERT_EQUAL(PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "lda=%d is smaller than k=%d", 3, 4),
                    PEL_ERROR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(pel_last_error(), "test_last_error_message: lda=3 is smaller than k=4");
    /* A successful call leaves the message alone, like errno. */
    PEL_TEST_OK(pel_set_num_threads(0));
    CU_ASSERT_STRING_EQUAL(pel_last_error(), "test_last_error_message: lda=3 is smaller than k=4");
    pel_clear_error();
    CU_ASSERT_STRING_EQUAL(pel_last_error(), "");
}

static void test_last_error_is_per_thread(void)
{
    int mismatches = 0;

    pel_clear_error();
#pragma omp parallel num_threads(4) reduction(+ : mismatches)
    {
        char expected[64];
        int id = omp_get_thread_num();
        snprintf(expected, sizeof expected, "worker: thread %d", id);
        pel__fail(PEL_ERROR_INTERNAL, "worker", "thread %d", id);
#pragma omp barrier
        mismatches += strcmp(pel_last_error(), expected) != 0;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_long_message_is_truncated_safely(void)
{
    char big[2000];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    PEL_FAIL(PEL_ERROR_INTERNAL, "%s", big);
    CU_ASSERT(strlen(pel_last_error()) < 1000);
    CU_ASSERT(strncmp(pel_last_error(), "test_long_message_is_truncated_safely: xxx", 40) == 0);
    pel_clear_error();
}

static void test_version(void)
{
    char expected[32];

    snprintf(expected, sizeof expected, "%d.%d.%d", PEL_VERSION_MAJOR, PEL_VERSION_MINOR, PEL_VERSION_PATCH);
    CU_ASSERT_STRING_EQUAL(pel_version(), PEL_VERSION_STRING);
    CU_ASSERT_STRING_EQUAL(pel_version(), expected);
    CU_ASSERT_EQUAL(pel_version_number(), PEL_VERSION_NUMBER);
}

static void test_malloc_alignment_and_huge(void)
{
    static const size_t sizes[] = {0, 1, 7, 64, 1000, 4u << 20, (4u << 20) + 3, 9u << 20};

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = pel_malloc(sizes[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL((uintptr_t)p % 64, 0);
        if (sizes[i] >= (4u << 20))
            CU_ASSERT_EQUAL((uintptr_t)p % (2u << 20), 0);
        if (sizes[i] > 0) {
            p[0] = 1;
            p[sizes[i] - 1] = 2; /* the whole range is writable */
        }
        pel_free(p);
    }
    pel_free(NULL);
}

static void test_malloc_failures(void)
{
    void *p;

    pel_clear_error();
    p = pel_malloc(SIZE_MAX - 10);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(strstr(pel_last_error(), "pel_malloc") != NULL);
    p = pel_malloc((size_t)1 << 62); /* aligned size is fine, the memory is not there */
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(strstr(pel_last_error(), "pel_malloc") != NULL);
    p = pel_calloc(SIZE_MAX / 2, 3);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(strstr(pel_last_error(), "pel_calloc") != NULL);
    CU_ASSERT(strstr(pel_last_error(), "overflows") != NULL);
    pel_clear_error();
}

static void test_calloc_zeroes(void)
{
    size_t n = (6u << 20) / sizeof(double) + 5;
    double *x = pel_calloc(n, sizeof(double));
    size_t nonzero = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    for (size_t i = 0; i < n; i++)
        nonzero += x[i] != 0.0;
    CU_ASSERT_EQUAL(nonzero, 0);
    CU_ASSERT_EQUAL((uintptr_t)x % 64, 0);
    pel_free(x);
}

static void test_wtime(void)
{
    double t0 = pel_wtime(), t1;
    volatile double sink = 0;

    for (int i = 0; i < 100000; i++)
        sink += i;
    t1 = pel_wtime();
    (void)sink;
    CU_ASSERT(t1 >= t0);
    CU_ASSERT(t1 - t0 < 10.0);
}

static void test_thread_policy(void)
{
    int default_threads = omp_get_max_threads();

    PEL_TEST_OK(pel_set_num_threads(0));
    if (getenv("PEL_NUM_THREADS") == NULL)
        CU_ASSERT_EQUAL(pel_get_num_threads(), default_threads);
    PEL_TEST_OK(pel_set_num_threads(3));
    CU_ASSERT_EQUAL(pel_get_num_threads(), 3);
    /* Inside an active parallel region kernels use one thread. */
    {
        int inside = -1;
#pragma omp parallel num_threads(2)
        {
#pragma omp master
            inside = pel_get_num_threads();
        }
        CU_ASSERT_EQUAL(inside, 1);
    }
    /* A one-thread region is not active: the policy holds there. */
    {
        int inside = -1;
#pragma omp parallel num_threads(1)
        inside = pel_get_num_threads();
        CU_ASSERT_EQUAL(inside, 3);
    }
    PEL_TEST_EXPECT_ERROR(pel_set_num_threads(-2), PEL_ERROR_INVALID_ARGUMENT, "pel_set_num_threads", "nthreads=-2");
    CU_ASSERT_EQUAL(pel_get_num_threads(), 3);
    PEL_TEST_OK(pel_set_num_threads(0));
}

static void test_local_override_is_per_thread(void)
{
    int seen[2] = {0, 0};

    PEL_TEST_OK(pel_set_num_threads(2));
    PEL_TEST_EXPECT_ERROR(pel_set_num_threads_local(-1), PEL_ERROR_INVALID_ARGUMENT, "pel_set_num_threads_local",
                          "nthreads=-1");
#pragma omp parallel num_threads(2)
    {
        int id = omp_get_thread_num();
        if (id == 0)
            pel_set_num_threads_local(5);
#pragma omp barrier
        /* Ask outside the active region's rule by reading the override. */
        seen[id] = pel_get_num_threads_local();
#pragma omp barrier
        if (id == 0)
            pel_set_num_threads_local(0);
    }
    CU_ASSERT_EQUAL(seen[0], 5);
    CU_ASSERT_EQUAL(seen[1], 0);
    /* On this thread: the override wins over the global setting, then goes away. */
    PEL_TEST_OK(pel_set_num_threads_local(7));
    CU_ASSERT_EQUAL(pel_get_num_threads(), 7);
    CU_ASSERT_EQUAL(pel_get_num_threads_local(), 7);
    PEL_TEST_OK(pel_set_num_threads_local(0));
    CU_ASSERT_EQUAL(pel_get_num_threads(), 2);
    PEL_TEST_OK(pel_set_num_threads(0));
}

static void test_work_cutoff(void)
{
    PEL_TEST_OK(pel_set_num_threads(4));
    PEL_TEST_OK(pel_set_min_work_per_thread(1000));
    CU_ASSERT_EQUAL(pel_get_min_work_per_thread(), 1000);
    CU_ASSERT_EQUAL(pel_threads_for_work(0), 1);
    CU_ASSERT_EQUAL(pel_threads_for_work(999), 1);
    CU_ASSERT_EQUAL(pel_threads_for_work(2500), 2);
    CU_ASSERT_EQUAL(pel_threads_for_work(1000000), 4);
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    if (getenv("PEL_MIN_WORK_PER_THREAD") == NULL)
        CU_ASSERT_EQUAL(pel_get_min_work_per_thread(), 32768u);
    PEL_TEST_OK(pel_set_num_threads(0));
}

static void test_openblas_follows_pel(void)
{
    enum { N = 256 };
    double *a = pel_malloc(N * N * sizeof(double)), *c = pel_malloc(N * N * sizeof(double));
    int before = omp_get_max_threads();
    pel__blas_scope scope;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    pel_test_fill(a, N * N, 11);
    CU_ASSERT_EQUAL(openblas_get_parallel(), 2); /* configure chose the OpenMP build */
    CU_ASSERT(strstr(pel_backend_info(), "OpenMP build") != NULL);
    PEL_TEST_OK(pel_set_num_threads(3));
    pel__blas_enter(&scope, pel_get_num_threads());
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a, N, a, N, 0.0, c, N);
    CU_ASSERT_EQUAL(openblas_get_num_threads(), 3);
    pel__blas_leave(&scope);
    /* The caller's OpenMP setting is restored (OpenBLAS's trap, MACHINE-NOTES). */
    CU_ASSERT_EQUAL(omp_get_max_threads(), before);
    PEL_TEST_OK(pel_set_num_threads(1));
    pel__blas_enter(&scope, pel_get_num_threads());
    /* OpenBLAS's OpenMP build reads omp_get_max_threads() and takes its
     * serial path at 1 without updating openblas_get_num_threads(). */
    CU_ASSERT_EQUAL(omp_get_max_threads(), 1);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a, N, a, N, 0.0, c, N);
    pel__blas_leave(&scope);
    CU_ASSERT_EQUAL(omp_get_max_threads(), before);
    PEL_TEST_OK(pel_set_num_threads(0));
    pel_free(a);
    pel_free(c);
}

/* In the child: a pel kernel must finish (on one thread) instead of hanging. */
static int child_runs_kernel(void)
{
    enum { N = 1 << 20 };
    double *x = pel_malloc(N * sizeof(double)), sum = 0.0;

    if (x == NULL || !pel_in_forked_child() || pel_get_num_threads() != 1)
        return 1;
    for (size_t i = 0; i < N; i++)
        x[i] = 1.0;
    if (pel_reduce_sum(x, N, 1, &sum) != PEL_OK || sum != (double)N)
        return 1;
    pel_free(x);
    return 0;
}

static void test_fork_child_runs_serially(void)
{
    double sum = 0.0;
    enum { N = 1 << 20 };
    double *x = pel_malloc(N * sizeof(double));

    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_FALSE(pel_in_forked_child());
    for (size_t i = 0; i < N; i++)
        x[i] = 0.5;
    /* The parent runs parallel work first, so libgomp's pool exists. */
    PEL_TEST_OK(pel_set_num_threads(2));
    PEL_TEST_OK(pel_reduce_sum(x, N, 1, &sum));
#pragma omp parallel num_threads(2)
    {
        (void)0;
    }
    CU_ASSERT_EQUAL(sum, 0.5 * N);
    CU_ASSERT_TRUE(pel_test_in_child(child_runs_kernel, 20.0));
    PEL_TEST_OK(pel_set_num_threads(0));
    pel_free(x);
}

/* ------------------------------------------------------------ fork, more */

/* Kernels of every layer run in the parent before fork() and again in the
 * child; the child's results are checked against the parent's (bit for bit
 * where pel promises it for any thread count) or against naive loops. */
enum { FORK_N = 1 << 18, FORK_GEMM = 64, FORK_FFT = 4096, FORK_GRID = 128, FORK_ROWS = 1000 };

static struct {
    double *x, sum;
    double a[FORK_GEMM * FORK_GEMM], c[FORK_GEMM * FORK_GEMM];
    double *fft_in, *fft_out; /* interleaved complex */
    double *grid;             /* the stencil's input, then the parent's result */
    pel_csr *csr;
    pel_fft_plan *plan;
    pel_stencil *stencil;
} fork_data;

static int count_range(size_t first, size_t last, void *arg)
{
    atomic_int *visits = arg;
    for (size_t i = first; i < last; i++)
        atomic_fetch_add(&visits[i], 1);
    return 0;
}

static int count_task(size_t index, void *arg)
{
    atomic_int *visits = arg;
    atomic_fetch_add(&visits[index], 1);
    return 0;
}

static pel_status run_stencil(double *grid)
{
    /* Faces 2a and 2a+1 bound axis a: two Dirichlet values, then Neumann. */
    const pel_boundary faces[4] = {{PEL_BOUNDARY_DIRICHLET, 1.0}, {PEL_BOUNDARY_DIRICHLET, -0.5},
                                   {PEL_BOUNDARY_NEUMANN, 0}, {PEL_BOUNDARY_NEUMANN, 0}};
    size_t dims[2] = {FORK_GRID, FORK_GRID};

    return pel_stencil_apply(fork_data.stencil, dims, faces, grid, NULL, NULL, 5, NULL, NULL);
}

/* Runs every kernel and compares with the references; 0 when all agree. */
static int fork_kernels_agree(void)
{
    double sum = -1, c[FORK_GEMM * FORK_GEMM], *out = malloc(2 * FORK_FFT * sizeof *out);
    double *grid = malloc(FORK_GRID * FORK_GRID * sizeof *grid), *y = malloc(FORK_ROWS * sizeof *y);
    double costs[100];
    atomic_int *visits = calloc(10000, sizeof *visits);
    unsigned char *zero = pel_calloc(1 << 22, 1);
    int bad = out == NULL || grid == NULL || y == NULL || visits == NULL || zero == NULL;

    /* Plain loops: pel_reduce_sum's bits hold for any team. */
    bad += pel_reduce_sum(fork_data.x, FORK_N, 1, &sum) != PEL_OK || sum != fork_data.sum;
    bad += pel_parallel_for(0, 10000, PEL_SCHEDULE_DYNAMIC, 7, count_range, visits) != PEL_OK;
    for (size_t i = 0; i < 10000 && !bad; i++)
        bad += atomic_load(&visits[i]) != 1;
    for (int i = 0; i < 100; i++) {
        costs[i] = 1 + i % 7;
        atomic_store(&visits[i], 0);
    }
    bad += pel_run_tasks(100, count_task, visits, costs) != PEL_OK;
    for (size_t i = 0; i < 100 && !bad; i++)
        bad += atomic_load(&visits[i]) != 1;
    for (size_t i = 0; zero != NULL && i < (1 << 22); i += 4093)
        bad += zero[i] != 0;
    /* OpenBLAS: against the naive product, as in the parent. */
    bad += pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, FORK_GEMM, FORK_GEMM, FORK_GEMM, 1.0, fork_data.a,
                     FORK_GEMM, fork_data.a, FORK_GEMM, 0.0, c, FORK_GEMM) != PEL_OK;
    for (int i = 0; i < FORK_GEMM * FORK_GEMM; i++)
        bad += fabs(c[i] - fork_data.c[i]) > 1e-12 * FORK_GEMM;
    /* FFTW (a plan made by the parent, and the handle registry): a few ulps. */
    bad += pel_fft_execute(fork_data.plan, fork_data.fft_in, out) != PEL_OK;
    for (int i = 0; i < 2 * FORK_FFT; i++)
        bad += fabs(out[i] - fork_data.fft_out[i]) > 1e-12 * FORK_FFT;
    /* Stencils: bit-identical for every thread count. */
    memcpy(grid, fork_data.x, FORK_GRID * FORK_GRID * sizeof *grid);
    bad += run_stencil(grid) != PEL_OK || memcmp(grid, fork_data.grid, FORK_GRID * FORK_GRID * sizeof *grid) != 0;
    /* SpMV of the tridiagonal [-1 2 -1] against the loop. */
    bad += pel_csr_spmv(fork_data.csr, 1.0, fork_data.x, 0.0, y) != PEL_OK;
    for (size_t i = 0; i < FORK_ROWS; i++) {
        double expected = 2 * fork_data.x[i] - (i > 0 ? fork_data.x[i - 1] : 0) -
                          (i + 1 < FORK_ROWS ? fork_data.x[i + 1] : 0);
        bad += fabs(y[i] - expected) > 1e-15 * 4;
    }
    free(out);
    free(grid);
    free(y);
    free(visits);
    pel_free(zero);
    return bad;
}

static int fork_child(void)
{
    pel__handle object;

    /* The parent's teams are not the child's: the child starts with an
     * empty budget and runs every kernel on its one thread. */
    if (!pel_in_forked_child() || pel_get_num_threads() != 1 || pel_get_thread_budget_in_use() != 0)
        return 1;
    /* The registry's lock is not inherited locked from a parent thread. */
    if (pel__handle_register(&object, PEL__HANDLE_OTHER, -1, "fork_child") != PEL_OK ||
        pel__handle_unregister(&object, PEL__HANDLE_OTHER, "fork_child") != 1)
        return 1;
    if (fork_kernels_agree() != 0)
        return 1;
    return pel_get_thread_budget_in_use() != 0;
}

static void fork_data_create(void)
{
    size_t dims[1] = {FORK_FFT}, *row_ptr = malloc((FORK_ROWS + 1) * sizeof *row_ptr);
    size_t *col_idx = malloc(3 * FORK_ROWS * sizeof *col_idx), nnz = 0;
    double *values = malloc(3 * FORK_ROWS * sizeof *values);

    fork_data.x = malloc(FORK_N * sizeof(double));
    fork_data.fft_in = malloc(2 * FORK_FFT * sizeof(double));
    fork_data.fft_out = malloc(2 * FORK_FFT * sizeof(double));
    fork_data.grid = malloc(FORK_GRID * FORK_GRID * sizeof(double));
    pel_test_fill(fork_data.x, FORK_N, 71);
    pel_test_fill(fork_data.a, FORK_GEMM * FORK_GEMM, 72);
    pel_test_fill(fork_data.fft_in, 2 * FORK_FFT, 73);
    memset(fork_data.c, 0, sizeof fork_data.c);
    for (int i = 0; i < FORK_GEMM; i++)
        for (int k = 0; k < FORK_GEMM; k++)
            for (int j = 0; j < FORK_GEMM; j++)
                fork_data.c[i * FORK_GEMM + j] += fork_data.a[i * FORK_GEMM + k] * fork_data.a[k * FORK_GEMM + j];
    row_ptr[0] = 0;
    for (size_t i = 0; i < FORK_ROWS; i++) {
        for (size_t j = i > 0 ? i - 1 : 0; j <= i + 1 && j < FORK_ROWS; j++) {
            col_idx[nnz] = j;
            values[nnz++] = j == i ? 2.0 : -1.0;
        }
        row_ptr[i + 1] = nnz;
    }
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, FORK_ROWS, FORK_ROWS, row_ptr, col_idx, values, &fork_data.csr));
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, 0, NULL, &fork_data.plan));
    PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, 2, 5, 1.0, &fork_data.stencil));
    PEL_TEST_OK(pel_fft_execute(fork_data.plan, fork_data.fft_in, fork_data.fft_out));
    PEL_TEST_OK(pel_set_num_threads(1));
    PEL_TEST_OK(pel_reduce_sum(fork_data.x, FORK_N, 1, &fork_data.sum));
    memcpy(fork_data.grid, fork_data.x, FORK_GRID * FORK_GRID * sizeof(double));
    PEL_TEST_OK(run_stencil(fork_data.grid));
    PEL_TEST_OK(pel_set_num_threads(0));
    free(row_ptr);
    free(col_idx);
    free(values);
}

static void fork_data_destroy(void)
{
    pel_csr_destroy(fork_data.csr);
    pel_fft_plan_destroy(fork_data.plan);
    pel_stencil_destroy(fork_data.stencil);
    free(fork_data.x);
    free(fork_data.fft_in);
    free(fork_data.fft_out);
    free(fork_data.grid);
}

static void test_fork_after_threads(void)
{
    static const int counts[] = {1, 2, 8};

    fork_data_create();
    for (size_t t = 0; t < 3; t++) {
        /* The parent runs every kernel on this many threads first (small
         * cutoff: the kernels really start their teams), then forks. */
        PEL_TEST_OK(pel_set_num_threads(counts[t]));
        PEL_TEST_OK(pel_set_min_work_per_thread(64));
        CU_ASSERT_EQUAL(fork_kernels_agree(), 0);
#pragma omp parallel num_threads(counts[t])
        {
            (void)0;
        }
        CU_ASSERT_TRUE(pel_test_in_child(fork_child, 30.0));
        CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    }
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    PEL_TEST_OK(pel_set_num_threads(0));
    fork_data_destroy();
}

/* A parent thread parked inside a kernel (its team holds budget threads and
 * a libgomp region) while the main thread forks. */
typedef struct parked {
    atomic_int inside, release, status;
} parked;

static int park_body(size_t first, size_t last, void *arg)
{
    parked *p = arg;
    struct timespec pause = {0, 1000 * 1000};

    atomic_fetch_add(&p->inside, 1);
    while (!atomic_load(&p->release))
        nanosleep(&pause, NULL);
    return 0;
}

static void *park_in_kernel(void *arg)
{
    parked *p = arg;

    pel_set_num_threads_local(2);
    atomic_store(&p->status, pel_parallel_for(0, 2, PEL_SCHEDULE_STATIC, 1, park_body, p));
    return NULL;
}

/* A parent thread calling handle-checked kernels in a loop while the main
 * thread forks: the child must not inherit a lock held by it. */
typedef struct looping {
    atomic_int stop, errors;
    atomic_long calls;
    pthread_mutex_t malloc_gate; /* PEL_TEST_ASAN: held around allocating calls and forks */
} looping;

static void *loop_kernels(void *arg)
{
    looping *l = arg;
    double *out = malloc(2 * FORK_FFT * sizeof *out), *y = malloc(FORK_ROWS * sizeof *y);

    while (!atomic_load(&l->stop)) {
        pel__handle object;
        pel_stencil *s = NULL;
        /* The registry of live objects, under its lock, as every layer's
         * create, check and destroy use it: a burst, so that forks often
         * land while the lock is held (a child hung 50 of 200 times so). */
        for (int k = 0; k < 200; k++)
            if (pel__handle_register(&object, PEL__HANDLE_OTHER, -1, "loop_kernels") != PEL_OK ||
                pel__handle_check(&object, PEL__HANDLE_OTHER, -1, "loop_kernels", "object") != PEL_OK ||
                pel__handle_unregister(&object, PEL__HANDLE_OTHER, "loop_kernels") != 1)
                atomic_fetch_add(&l->errors, 1);
        /* The burst above allocates only when the registry grows, which
         * the first iterations do before any fork; these calls allocate. */
        if (PEL_TEST_ASAN)
            pthread_mutex_lock(&l->malloc_gate);
        if (pel_fft_execute(fork_data.plan, fork_data.fft_in, out) != PEL_OK ||
            pel_csr_spmv(fork_data.csr, 1.0, fork_data.x, 0.0, y) != PEL_OK ||
            pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, 1.0, &s) != PEL_OK)
            atomic_fetch_add(&l->errors, 1);
        pel_stencil_destroy(s);
        if (PEL_TEST_ASAN)
            pthread_mutex_unlock(&l->malloc_gate);
        atomic_fetch_add(&l->calls, 1);
    }
    free(out);
    free(y);
    return NULL;
}

static void test_fork_while_parent_threads_run_kernels(void)
{
    parked p;
    looping l;
    pthread_t parker, looper;
    struct timespec pause = {0, 1000 * 1000};
    int children_ok = 0;

    fork_data_create();
    PEL_TEST_OK(pel_set_thread_budget(2));
    atomic_init(&p.inside, 0);
    atomic_init(&p.release, 0);
    atomic_init(&p.status, -1);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&parker, NULL, park_in_kernel, &p), 0);
    while (atomic_load(&p.inside) < 2)
        nanosleep(&pause, NULL);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 2); /* the parked team's */
    atomic_init(&l.stop, 0);
    atomic_init(&l.errors, 0);
    atomic_init(&l.calls, 0);
    pthread_mutex_init(&l.malloc_gate, NULL);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&looper, NULL, loop_kernels, &l), 0);
    while (atomic_load(&l.calls) < 10)
        nanosleep(&pause, NULL);
    /* Forks land at random points of the looping thread's calls (under
     * ASan, at random points of its registry bursts: see PEL_TEST_ASAN). */
    for (int round = 0; round < 20; round++) {
        if (PEL_TEST_ASAN)
            pthread_mutex_lock(&l.malloc_gate);
        children_ok += pel_test_in_child(fork_child, 10.0);
        if (PEL_TEST_ASAN)
            pthread_mutex_unlock(&l.malloc_gate);
    }
    CU_ASSERT_EQUAL(children_ok, 20);
    atomic_store(&l.stop, 1);
    pthread_join(looper, NULL);
    pthread_mutex_destroy(&l.malloc_gate);
    CU_ASSERT_EQUAL(atomic_load(&l.errors), 0);
    atomic_store(&p.release, 1);
    pthread_join(parker, NULL);
    CU_ASSERT_EQUAL(atomic_load(&p.status), PEL_OK);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    PEL_TEST_OK(pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT));
    fork_data_destroy();
}

static void test_mul_overflow_helpers(void)
{
    size_t out;

    CU_ASSERT_TRUE(pel__mul_size(1000, 1000, &out));
    CU_ASSERT_EQUAL(out, 1000000);
    CU_ASSERT_FALSE(pel__mul_size(SIZE_MAX / 2 + 1, 2, &out));
    CU_ASSERT_TRUE(pel__add_size(1, 2, &out));
    CU_ASSERT_FALSE(pel__add_size(SIZE_MAX, 1, &out));
}

/* PEL_NUM_THREADS is read when the library loads, so check it in a fresh
 * process: this program re-runs itself with --print-threads. */
static int threads_in_new_process(const char *environment)
{
    char command[512];
    FILE *pipe;
    int value = -1;

    snprintf(command, sizeof command, "%s /proc/%ld/exe --print-threads", environment, (long)getpid());
    pipe = popen(command, "r");
    if (pipe == NULL)
        return -1;
    if (fscanf(pipe, "%d", &value) != 1)
        value = -1;
    pclose(pipe);
    return value;
}

static void test_environment_variable(void)
{
    CU_ASSERT_EQUAL(threads_in_new_process("PEL_NUM_THREADS=3"), 3);
    CU_ASSERT_EQUAL(threads_in_new_process("PEL_NUM_THREADS=5 OMP_NUM_THREADS=2"), 5);
    /* Invalid values are ignored: OpenMP's default applies. */
    CU_ASSERT_EQUAL(threads_in_new_process("PEL_NUM_THREADS=abc OMP_NUM_THREADS=2"), 2);
    CU_ASSERT_EQUAL(threads_in_new_process("PEL_NUM_THREADS=-4 OMP_NUM_THREADS=1"), 1);
    CU_ASSERT_EQUAL(threads_in_new_process("env -u PEL_NUM_THREADS OMP_NUM_THREADS=3"), 3);
}

/* ------------------------------------------------------------ environment */

static void test_environment_parsers(void)
{
    /* The parsers behind every pel variable (and the fuzzer's entry points):
     * valid text, garbage, and numbers past every integer type. */
    static const struct {
        const char *text;
        int ok, value;
    } threads[] = {{NULL, 1, 0},      {"", 1, 0},         {"4", 1, 4},       {" 8\t", 1, 8},   {"0", 1, 0},
                   {"4096", 1, 4096}, {"0004", 1, 4},     {"4097", 0, 0},    {"-1", 0, 0},     {"+3", 0, 0},
                   {"0x10", 0, 0},    {"3abc", 0, 0},     {"3 4", 0, 0},     {"  ", 0, 0},     {"1e3", 0, 0},
                   {"2147483648", 0, 0}, {"99999999999999999999", 0, 0}, {"18446744073709551616", 0, 0}};
    size_t work = 77;
    int value, budget = 77;

    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        value = -99;
        pel_status status = pel__env_parse_threads(threads[i].text, &value);
        if (threads[i].ok) {
            CU_ASSERT_EQUAL(status, PEL_OK);
            CU_ASSERT_EQUAL(value, threads[i].value);
        } else {
            PEL_TEST_EXPECT_ERROR(status, PEL_ERROR_INVALID_ARGUMENT, "PEL_NUM_THREADS", threads[i].text);
            CU_ASSERT_EQUAL(value, -99); /* untouched: never saturated */
        }
    }
    PEL_TEST_OK(pel__env_parse_budget(NULL, &budget));
    CU_ASSERT_EQUAL(budget, PEL_THREAD_BUDGET_DEFAULT);
    PEL_TEST_OK(pel__env_parse_budget("0", &budget));
    CU_ASSERT_EQUAL(budget, 0);
    PEL_TEST_OK(pel__env_parse_budget("16", &budget));
    CU_ASSERT_EQUAL(budget, 16);
    PEL_TEST_EXPECT_ERROR(pel__env_parse_budget("5000", &budget), PEL_ERROR_INVALID_ARGUMENT, "PEL_THREAD_BUDGET",
                          "out of range 0..4096");
    CU_ASSERT_EQUAL(budget, 16);
    PEL_TEST_OK(pel__env_parse_min_work("18446744073709551615", &work));
    CU_ASSERT_EQUAL(work, SIZE_MAX);
    PEL_TEST_EXPECT_ERROR(pel__env_parse_min_work("18446744073709551616", &work), PEL_ERROR_INVALID_ARGUMENT,
                          "PEL_MIN_WORK_PER_THREAD", "out of range");
    PEL_TEST_EXPECT_ERROR(pel__env_parse_min_work("-5", &work), PEL_ERROR_INVALID_ARGUMENT, "PEL_MIN_WORK_PER_THREAD",
                          "not a whole decimal number");
    CU_ASSERT_EQUAL(work, SIZE_MAX);
}

/* Runs this program again with `environment` and --print-policy, which
 * prints "threads budget min_work" and the environment notes. */
static int policy_in_new_process(const char *environment, int *threads, int *budget, size_t *min_work, char *notes,
                                 size_t notes_size)
{
    char command[512];
    FILE *pipe;
    int ok;

    snprintf(command, sizeof command, "%s /proc/%ld/exe --print-policy", environment, (long)getpid());
    pipe = popen(command, "r");
    if (pipe == NULL)
        return 0;
    ok = fscanf(pipe, "%d %d %zu ", threads, budget, min_work) == 3;
    notes[0] = '\0';
    if (ok && fgets(notes, (int)notes_size, pipe) == NULL)
        notes[0] = '\0';
    pclose(pipe);
    return ok;
}

static void test_environment_refusals(void)
{
    int threads = -1, budget = -1, cores = omp_get_num_procs();
    size_t work = 0;
    char notes[1024];

    /* 99999999999999999999 gave INT_MAX threads (strtol's range error). */
    CU_ASSERT_TRUE(policy_in_new_process("PEL_NUM_THREADS=99999999999999999999 OMP_NUM_THREADS=2", &threads,
                                         &budget, &work, notes, sizeof notes));
    CU_ASSERT_EQUAL(threads, 2);
    CU_ASSERT(strstr(notes, "PEL_NUM_THREADS: \"99999999999999999999\" is out of range 0..4096") != NULL);
    CU_ASSERT_TRUE(policy_in_new_process("PEL_NUM_THREADS=4097 OMP_NUM_THREADS=1", &threads, &budget, &work, notes,
                                         sizeof notes));
    CU_ASSERT_EQUAL(threads, 1);
    CU_ASSERT_TRUE(policy_in_new_process("PEL_NUM_THREADS=4096 PEL_THREAD_BUDGET=3 PEL_MIN_WORK_PER_THREAD=99",
                                         &threads, &budget, &work, notes, sizeof notes));
    CU_ASSERT_EQUAL(threads, 4096);
    CU_ASSERT_EQUAL(budget, 3);
    CU_ASSERT_EQUAL(work, 99);
    CU_ASSERT_STRING_EQUAL(notes, "");
    CU_ASSERT_TRUE(policy_in_new_process("PEL_THREAD_BUDGET=0", &threads, &budget, &work, notes, sizeof notes));
    CU_ASSERT_EQUAL(budget, 0);
    /* Refused values fall back to the defaults, one note each. */
    CU_ASSERT_TRUE(policy_in_new_process("PEL_THREAD_BUDGET=-2 PEL_MIN_WORK_PER_THREAD=99999999999999999999999",
                                         &threads, &budget, &work, notes, sizeof notes));
    CU_ASSERT_EQUAL(budget, cores);
    CU_ASSERT_EQUAL(work, 32768u);
    CU_ASSERT(strstr(notes, "PEL_THREAD_BUDGET: \"-2\"") != NULL);
    CU_ASSERT(strstr(notes, "PEL_MIN_WORK_PER_THREAD: \"99999999999999999999999\" is out of range") != NULL);
    CU_ASSERT_TRUE(policy_in_new_process("env -u PEL_THREAD_BUDGET", &threads, &budget, &work, notes, sizeof notes));
    CU_ASSERT_EQUAL(budget, cores);
    /* This process: nothing was refused unless the caller set bad values. */
    if (getenv("PEL_NUM_THREADS") == NULL && getenv("PEL_THREAD_BUDGET") == NULL &&
        getenv("PEL_MIN_WORK_PER_THREAD") == NULL)
        CU_ASSERT_STRING_EQUAL(pel_environment_notes(), "");
}

/* ------------------------------------------------------------ thread budget */

static void test_thread_budget_settings(void)
{
    int initial = pel_get_thread_budget();

    if (getenv("PEL_THREAD_BUDGET") == NULL)
        CU_ASSERT_EQUAL(initial, omp_get_num_procs());
    PEL_TEST_OK(pel_set_thread_budget(3));
    CU_ASSERT_EQUAL(pel_get_thread_budget(), 3);
    PEL_TEST_OK(pel_set_thread_budget(0));
    CU_ASSERT_EQUAL(pel_get_thread_budget(), 0);
    PEL_TEST_EXPECT_ERROR(pel_set_thread_budget(-2), PEL_ERROR_INVALID_ARGUMENT, "pel_set_thread_budget",
                          "nthreads=-2");
    PEL_TEST_EXPECT_ERROR(pel_set_thread_budget(PEL_MAX_THREADS + 1), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_set_thread_budget", "nthreads=4097");
    CU_ASSERT_EQUAL(pel_get_thread_budget(), 0); /* unchanged by refused calls */
    PEL_TEST_OK(pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT));
    CU_ASSERT_EQUAL(pel_get_thread_budget(), initial);
    /* The thread counts have the same upper bound. */
    PEL_TEST_EXPECT_ERROR(pel_set_num_threads(PEL_MAX_THREADS + 1), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_set_num_threads", "nthreads=4097");
    PEL_TEST_EXPECT_ERROR(pel_set_num_threads_local(1 << 30), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_set_num_threads_local", "nthreads=1073741824");
    PEL_TEST_OK(pel_set_num_threads(PEL_MAX_THREADS));
    CU_ASSERT_EQUAL(pel_get_num_threads(), PEL_MAX_THREADS);
    PEL_TEST_OK(pel_set_num_threads(0));
}

/* A second thread that holds a team of `threads` until told to let go. */
typedef struct holder {
    int threads, granted;
    atomic_int holding, release;
} holder;

static void *hold_team(void *arg)
{
    holder *h = arg;
    struct timespec pause = {0, 1000 * 1000};

    {
        PEL__TEAM_SCOPE(team);
        h->granted = pel__team_take(&team, h->threads);
        atomic_store(&h->holding, 1);
        while (!atomic_load(&h->release))
            nanosleep(&pause, NULL);
    } /* released here by the scope */
    atomic_store(&h->holding, 0);
    return NULL;
}

static void start_holder(holder *h, pthread_t *thread, int threads)
{
    struct timespec pause = {0, 1000 * 1000};

    h->threads = threads;
    h->granted = 0;
    atomic_init(&h->holding, 0);
    atomic_init(&h->release, 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(thread, NULL, hold_team, h), 0);
    while (!atomic_load(&h->holding))
        nanosleep(&pause, NULL);
}

static void stop_holder(holder *h, pthread_t thread)
{
    atomic_store(&h->release, 1);
    pthread_join(thread, NULL);
}

static void test_thread_budget_shares(void)
{
    holder h;
    pthread_t other;

    PEL_TEST_OK(pel_set_thread_budget(4));
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    /* Alone, a team gets all it asks for, even past the budget. */
    {
        PEL__TEAM_SCOPE(team);
        CU_ASSERT_EQUAL(pel__team_take(&team, 6), 6);
        CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 6);
        /* A nested team on the same thread reuses the idle workers. */
        {
            PEL__TEAM_SCOPE(inner);
            CU_ASSERT_EQUAL(pel__team_take(&inner, 5), 5);
            CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 6);
        }
        CU_ASSERT_EQUAL(pel__team_take(&team, 1), 1);
    }
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    /* Another thread holds 3 of 4: a team gets the one left, its calling
     * thread (counted, so that others see it busy); it grows when the
     * budget grows and when the other lets go. */
    start_holder(&h, &other, 3);
    CU_ASSERT_EQUAL(h.granted, 3);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 3);
    {
        PEL__TEAM_SCOPE(team);
        CU_ASSERT_EQUAL(pel__team_take(&team, 4), 1);
        CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 4);
        PEL_TEST_OK(pel_set_thread_budget(5));
        CU_ASSERT_EQUAL(pel__team_take(&team, 4), 2); /* grows to the 2 now left */
        CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 5);
        stop_holder(&h, other);
        CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 2);
        CU_ASSERT_EQUAL(pel__team_take(&team, 4), 4);
        CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 4);
    }
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    /* Budget off: full teams, nothing counted. */
    PEL_TEST_OK(pel_set_thread_budget(0));
    start_holder(&h, &other, 3);
    {
        PEL__TEAM_SCOPE(team);
        CU_ASSERT_EQUAL(h.granted, 3);
        CU_ASSERT_EQUAL(pel__team_take(&team, 8), 8);
        CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    }
    stop_holder(&h, other);
    PEL_TEST_OK(pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT));
}

/* OpenBLAS's team comes from the budget through the blas scope. */
static void test_thread_budget_reaches_openblas(void)
{
    holder h;
    pthread_t other;
    pel__blas_scope scope;
    int before = omp_get_max_threads();

    PEL_TEST_OK(pel_set_thread_budget(4));
    start_holder(&h, &other, 2);
    pel__blas_enter(&scope, 4);
    CU_ASSERT_EQUAL(omp_get_max_threads(), 2); /* the 2 left of 4 */
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 4);
    pel__blas_leave(&scope);
    CU_ASSERT_EQUAL(omp_get_max_threads(), before);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 2);
    stop_holder(&h, other);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    PEL_TEST_OK(pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT));
}

/* FFTW's team comes from the budget: with the budget taken by another
 * thread, a 2-thread ESTIMATE plan runs its single-threaded variant and
 * gives the same transform (within rounding). */
static void test_thread_budget_reaches_fftw(void)
{
    enum { N = 1 << 15 };
    const pel_fft_options options = {PEL_FFT_ESTIMATE, 0.0, 2, PEL_FFT_NORM_BACKWARD};
    size_t dims[1] = {N};
    double *in = pel_malloc(2 * N * sizeof(double)), *full = pel_malloc(2 * N * sizeof(double));
    double *shared = pel_malloc(2 * N * sizeof(double)), worst = 0;
    pel_fft_plan *plan = NULL;
    holder h;
    pthread_t other;

    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    CU_ASSERT_PTR_NOT_NULL_FATAL(full);
    CU_ASSERT_PTR_NOT_NULL_FATAL(shared);
    pel_test_fill(in, 2 * N, 41);
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, dims, 1, PEL_FFT_FORWARD, 0, &options, &plan));
    CU_ASSERT_EQUAL(pel_fft_plan_threads(plan), 2);
    PEL_TEST_OK(pel_set_thread_budget(2));
    PEL_TEST_OK(pel_fft_execute(plan, in, full));
    start_holder(&h, &other, 2);
    PEL_TEST_OK(pel_fft_execute(plan, in, shared));
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 2); /* only the holder's */
    stop_holder(&h, other);
    for (size_t i = 0; i < 2 * N; i++)
        worst = fmax(worst, fabs(shared[i] - full[i]));
    /* |X_k| <= N for inputs in [-1, 1): a few ulps of that. */
    CU_ASSERT(worst <= 1e-13 * N);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    pel_fft_plan_destroy(plan);
    pel_free(in);
    pel_free(full);
    pel_free(shared);
    PEL_TEST_OK(pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT));
}

/* Eight user threads share a budget of 2 while each runs kernels whose
 * bits must not depend on the team they get. */
enum { STRESS_THREADS = 8, STRESS_ROUNDS = 40, STRESS_N = 300000 };

typedef struct stress {
    const double *x;
    double expected_sum;
    const double *a, *b; /* 96 x 96 gemm inputs */
    const double *expected_c;
    atomic_int wrong, over_budget, failed, in_teams;
} stress;

/* One call per team thread (static, chunk 0): the threads inside teams of
 * two or more, over all callers, must never exceed the budget of 2. */
static int check_budget_body(size_t first, size_t last, void *arg)
{
    stress *s = arg;
    /* Sleeping inside lets the other callers run: without the budget they
     * put up to 16 threads in here at once (the check failed so). */
    struct timespec pause = {0, 200 * 1000};

    if (omp_get_num_threads() > 1) {
        if (atomic_fetch_add(&s->in_teams, 1) + 1 > 2)
            atomic_fetch_add(&s->over_budget, 1);
        nanosleep(&pause, NULL);
        atomic_fetch_sub(&s->in_teams, 1);
    }
    return 0;
}

static void *stress_caller(void *arg)
{
    stress *s = arg;
    double c[96 * 96];

    for (int round = 0; round < STRESS_ROUNDS; round++) {
        double sum = 0.0;
        if (pel_reduce_sum(s->x, STRESS_N, 1, &sum) != PEL_OK)
            atomic_fetch_add(&s->failed, 1);
        if (sum != s->expected_sum)
            atomic_fetch_add(&s->wrong, 1);
        if (pel_parallel_for(0, 20000, PEL_SCHEDULE_STATIC, 0, check_budget_body, s) != PEL_OK)
            atomic_fetch_add(&s->failed, 1);
        if (pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 96, 96, 96, 1.0, s->a, 96, s->b, 96, 0.0, c, 96) != PEL_OK)
            atomic_fetch_add(&s->failed, 1);
        for (int i = 0; i < 96 * 96; i++)
            if (fabs(c[i] - s->expected_c[i]) > 1e-12 * 96) {
                atomic_fetch_add(&s->wrong, 1);
                break;
            }
    }
    return NULL;
}

static void test_thread_budget_concurrent_callers(void)
{
    double *x = malloc(STRESS_N * sizeof *x), *a = malloc(96 * 96 * sizeof *a), *b = malloc(96 * 96 * sizeof *b);
    double *c = calloc(96 * 96, sizeof *c);
    pthread_t threads[STRESS_THREADS];
    stress s;

    pel_test_fill(x, STRESS_N, 91);
    pel_test_fill(a, 96 * 96, 92);
    pel_test_fill(b, 96 * 96, 93);
    /* References: the sum with one thread (pel promises the same bits for
     * any team), the product by a naive loop (OpenBLAS may round otherwise). */
    PEL_TEST_OK(pel_set_num_threads(1));
    PEL_TEST_OK(pel_reduce_sum(x, STRESS_N, 1, &s.expected_sum));
    for (int i = 0; i < 96; i++)
        for (int k = 0; k < 96; k++)
            for (int j = 0; j < 96; j++)
                c[i * 96 + j] += a[i * 96 + k] * b[k * 96 + j];
    s.x = x;
    s.a = a;
    s.b = b;
    s.expected_c = c;
    atomic_init(&s.wrong, 0);
    atomic_init(&s.over_budget, 0);
    atomic_init(&s.failed, 0);
    atomic_init(&s.in_teams, 0);
    /* Every caller asks for 2 threads with a budget of 2 and a tiny cutoff,
     * so every kernel wants a team: the teams must share the 2. */
    PEL_TEST_OK(pel_set_num_threads(2));
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    PEL_TEST_OK(pel_set_thread_budget(2));
    for (int t = 0; t < STRESS_THREADS; t++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[t], NULL, stress_caller, &s), 0);
    for (int t = 0; t < STRESS_THREADS; t++)
        pthread_join(threads[t], NULL);
    CU_ASSERT_EQUAL(atomic_load(&s.failed), 0);
    CU_ASSERT_EQUAL(atomic_load(&s.wrong), 0);
    CU_ASSERT_EQUAL(atomic_load(&s.over_budget), 0);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0); /* every team gave its threads back */
    PEL_TEST_OK(pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    PEL_TEST_OK(pel_set_num_threads(0));
    free(x);
    free(a);
    free(b);
    free(c);
}

static int fail_at_100(size_t first, size_t last, void *arg)
{
    return first <= 100 && 100 < last ? PEL_FAIL(PEL_ERROR_CALLBACK, "refused") : 0;
}

static int fail_task(size_t index, void *arg)
{
    return index == 3 ? 5 : 0;
}

static int map_fails(size_t begin, size_t end, void *partial, void *arg)
{
    return begin > 0 ? 9 : 0;
}

static void add_double(void *left, const void *right, void *arg)
{
    *(double *)left += *(const double *)right;
}

/* Failures give the threads back too. */
static void test_thread_budget_released_on_errors(void)
{
    double zero = 0.0, result;
    double costs[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    PEL_TEST_OK(pel_set_num_threads(3));
    PEL_TEST_OK(pel_set_thread_budget(8));
    CU_ASSERT_EQUAL(pel_parallel_for(0, 1000, PEL_SCHEDULE_STATIC, 1, fail_at_100, NULL), PEL_ERROR_CALLBACK);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    CU_ASSERT_EQUAL(pel_run_tasks(8, fail_task, NULL, costs), 5);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    CU_ASSERT_EQUAL(pel_run_tasks(8, fail_task, NULL, NULL), 5);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    CU_ASSERT_EQUAL(pel_parallel_reduce(100000, 1000, 8, &zero, map_fails, add_double, NULL, &result), 9);
    CU_ASSERT_EQUAL(pel_get_thread_budget_in_use(), 0);
    pel_clear_error();
    PEL_TEST_OK(pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT));
    PEL_TEST_OK(pel_set_num_threads(0));
}

static void add_suites(void)
{
    static const pel_test_case errors[] = {
        {"status table", test_status_table},
        {"last error message", test_last_error_message},
        {"last error is per thread", test_last_error_is_per_thread},
        {"long message truncated", test_long_message_is_truncated_safely},
        {"version", test_version},
        {"overflow helpers", test_mul_overflow_helpers},
        {NULL, NULL}};
    static const pel_test_case memory[] = {
        {"malloc alignment and huge pages", test_malloc_alignment_and_huge},
        {"malloc failures", test_malloc_failures},
        {"calloc zeroes", test_calloc_zeroes},
        {"wtime", test_wtime},
        {NULL, NULL}};
    static const pel_test_case threads[] = {
        {"thread policy", test_thread_policy},
        {"local override per thread", test_local_override_is_per_thread},
        {"work cutoff", test_work_cutoff},
        {"PEL_NUM_THREADS", test_environment_variable},
        {"OpenBLAS follows pel", test_openblas_follows_pel},
        {"forked child runs serially", test_fork_child_runs_serially},
        {"fork after 1, 2 and 8 threads: every layer in the child", test_fork_after_threads},
        {"fork while parent threads are inside kernels", test_fork_while_parent_threads_run_kernels},
        {NULL, NULL}};
    static const pel_test_case environment[] = {
        {"parsers refuse garbage and never saturate", test_environment_parsers},
        {"refused variables fall back with a note", test_environment_refusals},
        {NULL, NULL}};
    static const pel_test_case budget[] = {
        {"settings and bounds", test_thread_budget_settings},
        {"teams share the budget", test_thread_budget_shares},
        {"OpenBLAS draws from it", test_thread_budget_reaches_openblas},
        {"FFTW draws from it", test_thread_budget_reaches_fftw},
        {"8 concurrent callers, bits unchanged", test_thread_budget_concurrent_callers},
        {"released on errors", test_thread_budget_released_on_errors},
        {NULL, NULL}};

    pel_test_add_suite("core: status and errors", errors);
    pel_test_add_suite("core: memory and time", memory);
    pel_test_add_suite("core: threads", threads);
    pel_test_add_suite("core: environment", environment);
    pel_test_add_suite("core: thread budget", budget);
    add_handle_suites();
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--print-threads") == 0) {
        printf("%d\n", pel_get_num_threads());
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--print-policy") == 0) {
        printf("%d %d %zu\n%s\n", pel_get_num_threads(), pel_get_thread_budget(), pel_get_min_work_per_thread(),
               pel_environment_notes());
        return 0;
    }
    return pel_test_main("test_core", add_suites);
}

/* ---- The registry of live objects (lib/core/handle.c) ---- */

/* A stand-in for pel's objects: a pel__handle first, then some payload. */
typedef struct test_object {
    pel__handle handle;
    double payload[3];
} test_object;

static void test_handle_lifecycle(void)
{
    size_t before = pel__handle_live_count();
    test_object *a = malloc(sizeof *a), *b = malloc(sizeof *b);

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    PEL_TEST_OK(pel__handle_register(&a->handle, PEL__HANDLE_CSR, PEL_FLOAT64, "pel_csr_create"));
    PEL_TEST_OK(pel__handle_register(&b->handle, PEL__HANDLE_STENCIL, -1, "pel_stencil_create"));
    CU_ASSERT_EQUAL(pel__handle_live_count(), before + 2);
    CU_ASSERT_EQUAL(a->handle.magic, (uint32_t)PEL__HANDLE_CSR);
    CU_ASSERT_EQUAL(a->handle.precision, PEL_FLOAT64);

    /* Right kind, any precision or the right one. */
    PEL_TEST_OK(pel__handle_check(a, PEL__HANDLE_CSR, -1, "pel_csr_spmv", "matrix"));
    PEL_TEST_OK(pel__handle_check(a, PEL__HANDLE_CSR, PEL_FLOAT64, "pel_csr_spmv", "matrix"));
    PEL_TEST_OK(pel__handle_check(b, PEL__HANDLE_STENCIL, -1, "pel_stencil_apply", "stencil"));
    /* Wrong kind: the message names both kinds. */
    PEL_TEST_EXPECT_ERROR(pel__handle_check(a, PEL__HANDLE_FFT_PLAN, -1, "pel_fft_execute", "plan"),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_execute: plan=", "is a pel_csr, not a pel_fft_plan");
    /* Precision mismatch, both ways, and an object without a precision. */
    PEL_TEST_EXPECT_ERROR(pel__handle_check(a, PEL__HANDLE_CSR, PEL_FLOAT32, "pel_csr_spmv", "matrix"),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_csr_spmv: matrix=", "holds double data, the call needs float data");
    a->handle.precision = PEL_FLOAT32;
    PEL_TEST_EXPECT_ERROR(pel__handle_check(a, PEL__HANDLE_CSR, PEL_FLOAT64, "pel_csr_spmv", "matrix"),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_csr_spmv: matrix=", "holds float data, the call needs double data");
    a->handle.precision = PEL_FLOAT64;
    PEL_TEST_EXPECT_ERROR(pel__handle_check(b, PEL__HANDLE_STENCIL, PEL_FLOAT64, "pel_stencil_apply", "stencil"),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_apply: stencil=", "has no precision");
    /* NULL, and a pointer pel never registered (read nowhere: it is not ours). */
    PEL_TEST_EXPECT_ERROR(pel__handle_check(NULL, PEL__HANDLE_CSR, -1, "pel_csr_rows", "matrix"),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_csr_rows", "matrix must not be NULL");
    {
        test_object foreign = {{(uint32_t)PEL__HANDLE_CSR, PEL_FLOAT64}, {0}};
        PEL_TEST_EXPECT_ERROR(pel__handle_check(&foreign, PEL__HANDLE_CSR, -1, "pel_csr_rows", "matrix"),
                              PEL_ERROR_INVALID_ARGUMENT, "pel_csr_rows: matrix=", "is not a live pel_csr");
        /* Unregistering a foreign object is refused and leaves it alone. */
        pel_clear_error();
        CU_ASSERT_EQUAL(pel__handle_unregister(&foreign, PEL__HANDLE_CSR, "pel_csr_destroy"), 0);
        CU_ASSERT(strstr(pel_last_error(), "pel_csr_destroy") != NULL);
        CU_ASSERT(strstr(pel_last_error(), "nothing was freed") != NULL);
        CU_ASSERT_EQUAL(foreign.handle.magic, (uint32_t)PEL__HANDLE_CSR);
    }
    /* Unregistering with the wrong kind is refused: the object stays live. */
    CU_ASSERT_EQUAL(pel__handle_unregister(a, PEL__HANDLE_STENCIL, "pel_stencil_destroy"), 0);
    PEL_TEST_OK(pel__handle_check(a, PEL__HANDLE_CSR, -1, "pel_csr_rows", "matrix"));
    CU_ASSERT_EQUAL(pel__handle_live_count(), before + 2);

    /* Unregister once: 1, magic cleared; twice: 0 with a message. */
    CU_ASSERT_EQUAL(pel__handle_unregister(a, PEL__HANDLE_CSR, "pel_csr_destroy"), 1);
    CU_ASSERT_EQUAL(a->handle.magic, 0u);
    CU_ASSERT_EQUAL(pel__handle_live_count(), before + 1);
    pel_clear_error();
    CU_ASSERT_EQUAL(pel__handle_unregister(a, PEL__HANDLE_CSR, "pel_csr_destroy"), 0);
    CU_ASSERT(strstr(pel_last_error(), "pel_csr_destroy") != NULL);
    CU_ASSERT(strstr(pel_last_error(), "destroyed twice") != NULL);
    CU_ASSERT_EQUAL(pel__handle_live_count(), before + 1);
    PEL_TEST_EXPECT_ERROR(pel__handle_check(a, PEL__HANDLE_CSR, -1, "pel_csr_rows", "matrix"),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_csr_rows: matrix=", "destroyed");
    /* NULL unregisters as nothing, without a message (destroy(NULL) is legal). */
    pel_clear_error();
    CU_ASSERT_EQUAL(pel__handle_unregister(NULL, PEL__HANDLE_CSR, "pel_csr_destroy"), 0);
    CU_ASSERT_STRING_EQUAL(pel_last_error(), "");
    /* The same memory registered again is live again. */
    PEL_TEST_OK(pel__handle_register(&a->handle, PEL__HANDLE_FFT_PLAN, PEL_FLOAT32, "pel_fft_plan_create"));
    PEL_TEST_OK(pel__handle_check(a, PEL__HANDLE_FFT_PLAN, PEL_FLOAT32, "pel_fft_execute", "plan"));
    CU_ASSERT_EQUAL(pel__handle_unregister(a, PEL__HANDLE_FFT_PLAN, "pel_fft_plan_destroy"), 1);
    CU_ASSERT_EQUAL(pel__handle_unregister(b, PEL__HANDLE_STENCIL, "pel_stencil_destroy"), 1);
    CU_ASSERT_EQUAL(pel__handle_live_count(), before);
    free(a);
    free(b);
}

/* Many thousands of objects: the table grows; removing leaves tombstones that
 * must neither hide the objects probed past them nor fill the table. */
static void test_handle_growth_and_tombstones(void)
{
    enum { N = 40000 };
    size_t before = pel__handle_live_count();
    test_object *objects = malloc(N * sizeof *objects);
    size_t bad = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(objects);
    for (size_t i = 0; i < N; i++)
        bad += pel__handle_register(&objects[i].handle, PEL__HANDLE_OTHER, (int)(i % 2), "test") != PEL_OK;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pel__handle_live_count(), before + N);
    for (size_t i = 0; i < N; i++)
        bad += pel__handle_check(&objects[i], PEL__HANDLE_OTHER, (int)(i % 2), "test", "x") != PEL_OK;
    CU_ASSERT_EQUAL(bad, 0);
    /* Remove every third object; the others must still be found. */
    for (size_t i = 0; i < N; i += 3)
        bad += pel__handle_unregister(&objects[i], PEL__HANDLE_OTHER, "test") != 1;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pel__handle_live_count(), before + N - (N + 2) / 3);
    for (size_t i = 0; i < N; i++) {
        pel_status expected = i % 3 == 0 ? PEL_ERROR_INVALID_ARGUMENT : PEL_OK;
        bad += pel__handle_check(&objects[i], PEL__HANDLE_OTHER, -1, "test", "x") != expected;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* Churn: a few hundred thousand register/unregister pairs with a small
     * live set would loop forever if tombstones could fill every slot. */
    for (size_t round = 0; round < 10; round++)
        for (size_t i = 0; i < N; i += 3) {
            bad += pel__handle_register(&objects[i].handle, PEL__HANDLE_OTHER, -1, "test") != PEL_OK;
            bad += pel__handle_unregister(&objects[i], PEL__HANDLE_OTHER, "test") != 1;
        }
    CU_ASSERT_EQUAL(bad, 0);
    for (size_t i = 0; i < N; i++) {
        pel_status expected = i % 3 == 0 ? PEL_ERROR_INVALID_ARGUMENT : PEL_OK;
        bad += pel__handle_check(&objects[i], PEL__HANDLE_OTHER, -1, "test", "x") != expected;
    }
    CU_ASSERT_EQUAL(bad, 0);
    for (size_t i = 0; i < N; i++)
        if (i % 3 != 0)
            bad += pel__handle_unregister(&objects[i], PEL__HANDLE_OTHER, "test") != 1;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pel__handle_live_count(), before);
    pel_clear_error();
    free(objects);
}

/* Eight threads register, check and unregister their own objects while
 * checking each other's; every answer must be the one the sequence implies. */
enum { HANDLE_THREADS = 8, HANDLE_PER_THREAD = 3000, HANDLE_ROUNDS = 4 };

typedef struct handle_worker {
    test_object *objects; /* HANDLE_PER_THREAD objects of this thread */
    test_object *shared;  /* objects that stay live for the whole test */
    size_t nshared;
    size_t errors;
} handle_worker;

static void *handle_worker_run(void *arg)
{
    handle_worker *w = arg;
    size_t errors = 0;

    for (int round = 0; round < HANDLE_ROUNDS; round++) {
        pel__handle_kind kind = round % 2 ? PEL__HANDLE_CSR : PEL__HANDLE_STENCIL;
        for (size_t i = 0; i < HANDLE_PER_THREAD; i++)
            errors += pel__handle_register(&w->objects[i].handle, kind, (int)(i % 2), "test") != PEL_OK;
        for (size_t i = 0; i < HANDLE_PER_THREAD; i++) {
            errors += pel__handle_check(&w->objects[i], kind, (int)(i % 2), "test", "x") != PEL_OK;
            errors += pel__handle_check(&w->objects[i], kind, (int)(1 - i % 2), "test", "x") !=
                      PEL_ERROR_INVALID_ARGUMENT;
            errors += pel__handle_check(&w->shared[i % w->nshared], PEL__HANDLE_OTHER, -1, "test", "x") != PEL_OK;
        }
        for (size_t i = 0; i < HANDLE_PER_THREAD; i++) {
            errors += pel__handle_unregister(&w->objects[i], kind, "test") != 1;
            errors += pel__handle_unregister(&w->objects[i], kind, "test") != 0;
            errors += pel__handle_check(&w->objects[i], kind, -1, "test", "x") != PEL_ERROR_INVALID_ARGUMENT;
        }
    }
    w->errors = errors;
    return NULL;
}

static void test_handle_concurrent(void)
{
    enum { SHARED = 257 };
    size_t before = pel__handle_live_count();
    test_object *objects = malloc((size_t)HANDLE_THREADS * HANDLE_PER_THREAD * sizeof *objects);
    test_object *shared = malloc(SHARED * sizeof *shared);
    handle_worker workers[HANDLE_THREADS];
    pthread_t threads[HANDLE_THREADS];
    size_t bad = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(objects);
    CU_ASSERT_PTR_NOT_NULL_FATAL(shared);
    for (size_t i = 0; i < SHARED; i++)
        bad += pel__handle_register(&shared[i].handle, PEL__HANDLE_OTHER, -1, "test") != PEL_OK;
    for (int t = 0; t < HANDLE_THREADS; t++) {
        workers[t] = (handle_worker){objects + (size_t)t * HANDLE_PER_THREAD, shared, SHARED, 0};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[t], NULL, handle_worker_run, &workers[t]), 0);
    }
    for (int t = 0; t < HANDLE_THREADS; t++) {
        pthread_join(threads[t], NULL);
        bad += workers[t].errors;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pel__handle_live_count(), before + SHARED);
    for (size_t i = 0; i < SHARED; i++)
        bad += pel__handle_unregister(&shared[i], PEL__HANDLE_OTHER, "test") != 1;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(pel__handle_live_count(), before);
    free(objects);
    free(shared);
}

/* fork() while another thread holds the registry's lock: the child has only
 * the forking thread, so a lock copied in the held state would never be
 * released and the child's first check would hang. */
static test_object fork_object;
static atomic_int fork_stop;

static void *fork_checker(void *arg)
{
    size_t errors = 0;

    (void)arg;
    while (!atomic_load(&fork_stop))
        errors += pel__handle_check(&fork_object, PEL__HANDLE_OTHER, -1, "test", "x") != PEL_OK;
    return (void *)(uintptr_t)errors;
}

static int child_checks_handle(void)
{
    test_object other;

    if (pel__handle_check(&fork_object, PEL__HANDLE_OTHER, -1, "test", "x") != PEL_OK)
        return 1;
    if (pel__handle_register(&other.handle, PEL__HANDLE_OTHER, -1, "test") != PEL_OK)
        return 1;
    return pel__handle_unregister(&other, PEL__HANDLE_OTHER, "test") == 1 ? 0 : 1;
}

static void test_handle_fork_while_locked(void)
{
    enum { FORKS = 20 };
    pthread_t checker;
    void *errors = NULL;
    int children_ok = 0;

    PEL_TEST_OK(pel__handle_register(&fork_object.handle, PEL__HANDLE_OTHER, -1, "test"));
    atomic_store(&fork_stop, 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&checker, NULL, fork_checker, NULL), 0);
    for (int i = 0; i < FORKS; i++)
        children_ok += pel_test_in_child(child_checks_handle, 2.0);
    atomic_store(&fork_stop, 1);
    pthread_join(checker, &errors);
    CU_ASSERT_EQUAL(children_ok, FORKS);
    CU_ASSERT_PTR_NULL(errors);
    CU_ASSERT_EQUAL(pel__handle_unregister(&fork_object, PEL__HANDLE_OTHER, "test"), 1);
}

static void add_handle_suites(void)
{
    static const pel_test_case handles[] = {
        {"register, check, unregister", test_handle_lifecycle},
        {"growth and tombstones", test_handle_growth_and_tombstones},
        {"8 threads at once", test_handle_concurrent},
        {"fork while another thread checks", test_handle_fork_while_locked},
        {NULL, NULL}};

    pel_test_add_suite("core: handle registry", handles);
}
