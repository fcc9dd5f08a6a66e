/* The out-argument rule (docs/user-guide.md, "Status codes and errors") for
 * the core, exec and matrix layers: on any failure a function leaves every
 * output (scalar, array, buffer, setting) as it was, and a function that
 * creates an object sets *out = NULL. Each error path below runs on outputs
 * filled with a pattern, which must still equal a copy taken before the call.
 * Out-of-memory paths are swept in test_alloc_failure. */
#include "pel_test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An output buffer of n doubles and its copy. */
typedef struct guarded {
    double *data, *copy;
    size_t n;
} guarded;

static guarded guard(size_t n, uint64_t seed)
{
    guarded g = {malloc(n * sizeof(double)), malloc(n * sizeof(double)), n};

    CU_ASSERT_PTR_NOT_NULL_FATAL(g.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g.copy);
    pel_test_fill(g.data, n, seed);
    memcpy(g.copy, g.data, n * sizeof(double));
    return g;
}

static int intact(const guarded *g)
{
    return memcmp(g->data, g->copy, g->n * sizeof(double)) == 0;
}

static void release(guarded *g)
{
    free(g->data);
    free(g->copy);
}

/* Checks the status and message of a failing call, then that g is intact. */
#define EXPECT_UNTOUCHED(call, expected, function, fragment, g)             \
    do {                                                                      \
        PEL_TEST_EXPECT_ERROR((call), (expected), (function), (fragment));    \
        CU_ASSERT(intact(g));                                                 \
    } while (0)

/* ------------------------------------------------------------ matrix */

enum { N = 6 };

static void test_gemm_family(void)
{
    guarded a = guard(N * N, 1), b = guard(N * N, 2), c = guard(N * N, 3), x = guard(N, 4), y = guard(N, 5);
    double z_alpha[2] = {1, 0};

    EXPECT_UNTOUCHED(pel_dgemm((pel_layout)5, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 1.0, a.data, N, b.data, N, 0.0,
                               c.data, N),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "layout", &c);
    EXPECT_UNTOUCHED(pel_dgemm(PEL_ROW_MAJOR, (pel_transpose)9, PEL_NO_TRANS, N, N, N, 1.0, a.data, N, b.data, N,
                               0.0, c.data, N),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "transa", &c);
    EXPECT_UNTOUCHED(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 1.0, a.data, N - 1, b.data, N,
                               0.0, c.data, N),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "lda", &c);
    EXPECT_UNTOUCHED(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 1.0, NULL, N, b.data, N, 0.0,
                               c.data, N),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "a", &c);
    /* c overlapping a: refused before anything is written, even with beta = 0. */
    EXPECT_UNTOUCHED(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 1.0, c.data, N, b.data, N, 0.0,
                               c.data, N),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "overlaps", &c);
    EXPECT_UNTOUCHED(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, SIZE_MAX / 4, N, N, 1.0, a.data, N, b.data,
                               N, 0.0, c.data, N),
                     PEL_ERROR_OVERFLOW, "pel_dgemm", NULL, &c);
    /* alpha = 0 scales C by beta only after every check passed. */
    EXPECT_UNTOUCHED(pel_dgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 0.0, a.data, N, b.data, N - 2,
                               0.0, c.data, N),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm", "ldb", &c);
    EXPECT_UNTOUCHED(pel_zgemm(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N / 2, N / 2, N / 2, z_alpha, a.data,
                               N / 2, b.data, N / 2, NULL, c.data, N / 2),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_zgemm", "beta", &c);
    /* gemv with beta = 0 clears y first, but only once every check passed. */
    EXPECT_UNTOUCHED(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, N, N, 1.0, a.data, N, x.data, 0, 0.0, y.data, 1),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "incx", &y);
    EXPECT_UNTOUCHED(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, N, N, 1.0, a.data, N, y.data, 1, 0.0, y.data, 1),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemv", "overlaps x", &y);
    EXPECT_UNTOUCHED(pel_dgemv(PEL_ROW_MAJOR, PEL_NO_TRANS, N, N, 1.0, a.data, N, x.data, 1, 0.0, y.data,
                               PTRDIFF_MAX / 2),
                     PEL_ERROR_OVERFLOW, "pel_dgemv", "incy", &y);
    release(&a);
    release(&b);
    release(&c);
    release(&x);
    release(&y);
}

static void test_gemm_batch(void)
{
    enum { ITEMS = 5 };
    guarded a = guard(ITEMS * N * N, 11), b = guard(ITEMS * N * N, 12), c = guard(ITEMS * N * N, 13);
    const double *pa[ITEMS], *pb[ITEMS];
    double *pc[ITEMS];

    for (int i = 0; i < ITEMS; i++) {
        pa[i] = a.data + i * N * N;
        pb[i] = b.data + i * N * N;
        pc[i] = c.data + i * N * N;
    }
    /* A bad item late in the batch: the items before it are not computed. */
    pc[ITEMS - 1] = NULL;
    EXPECT_UNTOUCHED(pel_dgemm_batch(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 1.0, pa, N, pb, N, 0.5, pc,
                                     N, ITEMS),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch", "c[4]", &c);
    pc[ITEMS - 1] = c.data + (ITEMS - 1) * N * N;
    pa[ITEMS - 1] = pc[ITEMS - 1]; /* the last item's C is its own A */
    EXPECT_UNTOUCHED(pel_dgemm_batch(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 0.0, pa, N, pb, N, 0.5, pc,
                                     N, ITEMS),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch", "c[4] overlaps", &c);
    EXPECT_UNTOUCHED(pel_dgemm_batch_strided(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 1.0, a.data, N,
                                             N * N, b.data, N, N * N, 0.5, c.data, N, N * N - 1, ITEMS),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "stride_c", &c);
    EXPECT_UNTOUCHED(pel_dgemm_batch_strided(PEL_ROW_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 1.0, a.data, N,
                                             SIZE_MAX / 2, b.data, N, N * N, 0.5, c.data, N, N * N, ITEMS),
                     PEL_ERROR_OVERFLOW, "pel_dgemm_batch_strided", NULL, &c);
    release(&a);
    release(&b);
    release(&c);
}

static void test_copies_and_vectors(void)
{
    guarded a = guard(N * N, 21), b = guard(N * N, 22), x = guard(N, 23), y = guard(N, 24);
    double result = 12.5, result_copy = 12.5;
    float fresult = 2.5f;

    EXPECT_UNTOUCHED(pel_domatcopy(PEL_ROW_MAJOR, PEL_TRANS, N, N, 2.0, a.data, N, b.data, N - 1),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_domatcopy", "ldb", &b);
    EXPECT_UNTOUCHED(pel_domatcopy(PEL_ROW_MAJOR, PEL_TRANS, N, N, 2.0, b.data + 1, N, b.data, N),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_domatcopy", "overlap", &b);
    EXPECT_UNTOUCHED(pel_dtranspose_square(N, b.data, N - 1), PEL_ERROR_INVALID_ARGUMENT, "pel_dtranspose_square",
                     "lda", &b);
    EXPECT_UNTOUCHED(pel_daxpy(N, 2.0, x.data, 0, y.data, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_daxpy", "incx", &y);
    EXPECT_UNTOUCHED(pel_daxpy(N, 2.0, y.data + 1, 1, y.data, 1), PEL_ERROR_INVALID_ARGUMENT, "pel_daxpy", "overlap",
                     &y);
    EXPECT_UNTOUCHED(pel_dscal(N, 2.0, y.data, 0), PEL_ERROR_INVALID_ARGUMENT, "pel_dscal", "incx", &y);
    EXPECT_UNTOUCHED(pel_dscal(SIZE_MAX / 2, 2.0, y.data, 3), PEL_ERROR_OVERFLOW, "pel_dscal", NULL, &y);
    /* Reductions: the scalar result is written only on success. */
    PEL_TEST_EXPECT_ERROR(pel_ddot(N, x.data, 1, NULL, 1, &result), PEL_ERROR_INVALID_ARGUMENT, "pel_ddot", "y");
    PEL_TEST_EXPECT_ERROR(pel_ddot(N, x.data, 1, y.data, 0, &result), PEL_ERROR_INVALID_ARGUMENT, "pel_ddot", "incy");
    PEL_TEST_EXPECT_ERROR(pel_dnrm2(N, x.data, 0, &result), PEL_ERROR_INVALID_ARGUMENT, "pel_dnrm2", "incx");
    PEL_TEST_EXPECT_ERROR(pel_dasum(SIZE_MAX / 2, x.data, 5, &result), PEL_ERROR_OVERFLOW, "pel_dasum", NULL);
    CU_ASSERT_EQUAL(memcmp(&result, &result_copy, sizeof result), 0);
    PEL_TEST_EXPECT_ERROR(pel_snrm2(N, NULL, 1, &fresult), PEL_ERROR_INVALID_ARGUMENT, "pel_snrm2", "x");
    PEL_TEST_EXPECT_ERROR(pel_sdot(N, NULL, 1, NULL, 1, &fresult), PEL_ERROR_INVALID_ARGUMENT, "pel_sdot", "x");
    CU_ASSERT_EQUAL(fresult, 2.5f);
    CU_ASSERT(intact(&x));
    release(&a);
    release(&b);
    release(&x);
    release(&y);
}

/* What "untouched" means for a singular or indefinite matrix: pel factors a
 * private copy of A, so A (const) and B are exactly as given; the LAPACK
 * factors are discarded, and the pivot that failed is named in the message. */
static void test_solves(void)
{
    guarded a = guard(N * N, 31), b = guard(N * 2, 32);
    guarded spd = guard(N * N, 33);
    float fa[N * N], fb[N * 2], fb_copy[N * 2];

    /* A zero third column stays exactly zero through the elimination of
     * the first two: U(3,3) = 0 exactly, whatever the pivoting. */
    for (int i = 0; i < N; i++)
        a.data[i * N + 2] = 0.0;
    memcpy(a.copy, a.data, N * N * sizeof(double));
    PEL_TEST_EXPECT_ERROR(pel_dgesv(PEL_ROW_MAJOR, N, 2, a.data, N, b.data, 2), PEL_ERROR_SINGULAR, "pel_dgesv",
                          "pivot 3 of 6");
    CU_ASSERT(intact(&a));
    CU_ASSERT(intact(&b));
    EXPECT_UNTOUCHED(pel_dgesv(PEL_COL_MAJOR, N, 2, a.data, N, b.data, N - 1), PEL_ERROR_INVALID_ARGUMENT,
                     "pel_dgesv", "ldb", &b);
    EXPECT_UNTOUCHED(pel_dgesv(PEL_ROW_MAJOR, N, 2, a.data, N, a.data + 2, 2), PEL_ERROR_INVALID_ARGUMENT,
                     "pel_dgesv", "overlap", &a);
    /* Symmetric, with a negative leading entry: not positive definite. */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            spd.data[i * N + j] = i == j ? (i == 0 ? -1.0 : 4.0) : 0.5;
    memcpy(spd.copy, spd.data, N * N * sizeof(double));
    PEL_TEST_EXPECT_ERROR(pel_dposv(PEL_ROW_MAJOR, PEL_LOWER, N, 2, spd.data, N, b.data, 2),
                          PEL_ERROR_NOT_POSITIVE_DEFINITE, "pel_dposv", "order 1");
    CU_ASSERT(intact(&spd));
    CU_ASSERT(intact(&b));
    EXPECT_UNTOUCHED(pel_dposv(PEL_ROW_MAJOR, (pel_uplo)3, N, 2, spd.data, N, b.data, 2), PEL_ERROR_INVALID_ARGUMENT,
                     "pel_dposv", "uplo", &b);
    /* Single precision: a zero matrix is singular at pivot 1. */
    memset(fa, 0, sizeof fa);
    for (int i = 0; i < N * 2; i++)
        fb[i] = fb_copy[i] = 0.125f * (float)i - 0.5f;
    PEL_TEST_EXPECT_ERROR(pel_sgesv(PEL_ROW_MAJOR, N, 2, fa, N, fb, 2), PEL_ERROR_SINGULAR, "pel_sgesv", "pivot 1");
    CU_ASSERT_EQUAL(memcmp(fb, fb_copy, sizeof fb), 0);
    release(&a);
    release(&b);
    release(&spd);
}

/* Batched LAPACK stages every item's result and copies only when all
 * succeeded: one bad item leaves every output item untouched. */
static void test_lapack_batch(void)
{
    enum { ITEMS = 9, BAD = 5 };
    guarded a = guard(ITEMS * N * N, 34), b = guard(ITEMS * N * 2, 35), x = guard(ITEMS * N * 2, 36);
    guarded l = guard(ITEMS * N * N, 37);

    /* Diagonally dominant items, and one with a zero third column. */
    for (int t = 0; t < ITEMS; t++)
        for (int i = 0; i < N; i++) {
            a.data[t * N * N + i * N + i] += N;
            if (t == BAD)
                a.data[t * N * N + i * N + 2] = 0.0;
        }
    memcpy(a.copy, a.data, ITEMS * N * N * sizeof(double));
    PEL_TEST_EXPECT_ERROR(pel_dgesv_batch(PEL_ROW_MAJOR, N, 2, ITEMS, a.data, N, N * N, b.data, 2, N * 2, x.data, 2,
                                          N * 2),
                          PEL_ERROR_SINGULAR, "pel_dgesv_batch", "item 5");
    CU_ASSERT(intact(&x));
    CU_ASSERT(intact(&a));
    CU_ASSERT(intact(&b));
    EXPECT_UNTOUCHED(pel_dgesv_batch(PEL_ROW_MAJOR, N, 2, ITEMS, a.data, N, N * N, b.data, 2, N * 2, x.data, 2,
                                     N * 2 - 1),
                     PEL_ERROR_INVALID_ARGUMENT, "pel_dgesv_batch", "stride_x", &x);
    /* Symmetric items, the bad one with a negative leading entry. */
    for (int t = 0; t < ITEMS; t++)
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                a.data[t * N * N + i * N + j] = i == j ? (t == BAD && i == 0 ? -1.0 : 4.0) : 0.25;
    PEL_TEST_EXPECT_ERROR(pel_dcholesky_batch(PEL_ROW_MAJOR, PEL_LOWER, N, ITEMS, a.data, N, N * N, l.data, N, N * N),
                          PEL_ERROR_NOT_POSITIVE_DEFINITE, "pel_dcholesky_batch", "item 5");
    CU_ASSERT(intact(&l));
    release(&a);
    release(&b);
    release(&x);
    release(&l);
}

/* ------------------------------------------------------------ exec */

static int failing_map(size_t begin, size_t end, void *partial, void *arg)
{
    (void)arg;
    (void)end;
    *(double *)partial += 1.0;
    return begin >= 8 * 100 ? 77 : 0; /* blocks from the 100th on fail */
}

static void add(void *left, const void *right, void *arg)
{
    (void)arg;
    *(double *)left += *(const double *)right;
}

static void test_exec(void)
{
    guarded x = guard(1000, 41);
    const double zero = 0.0;
    double result = -3.75;
    int assignment[4] = {9, 9, 9, 9};
    const double costs[4] = {1.0, 2.0, 3.0, -1.0}, good_costs[4] = {1.0, 2.0, 3.0, 4.0};
    double makespan = -8.5;

    PEL_TEST_EXPECT_ERROR(pel_reduce_sum(x.data, x.n, 0, &result), PEL_ERROR_INVALID_ARGUMENT, "pel_reduce_sum",
                          "stride");
    PEL_TEST_EXPECT_ERROR(pel_reduce_sum(NULL, x.n, 1, &result), PEL_ERROR_INVALID_ARGUMENT, "pel_reduce_sum", "x");
    PEL_TEST_EXPECT_ERROR(pel_reduce_sum(x.data, SIZE_MAX / 2, 4, &result), PEL_ERROR_OVERFLOW, "pel_reduce_sum",
                          NULL);
    CU_ASSERT_EQUAL(result, -3.75);
    /* A map that fails part-way: partials were computed, the result is not written. */
    PEL_TEST_OK(pel_set_num_threads(3));
    CU_ASSERT_EQUAL(pel_parallel_reduce(8 * 300, 8, sizeof(double), &zero, failing_map, add, NULL, &result), 77);
    CU_ASSERT_EQUAL(result, -3.75);
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_EXPECT_ERROR(pel_parallel_reduce(100, 8, 0, &zero, failing_map, add, NULL, &result),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_parallel_reduce", "elem_size");
    CU_ASSERT_EQUAL(result, -3.75);
    /* The plan: a bad cost anywhere leaves assignment and makespan alone. */
    PEL_TEST_EXPECT_ERROR(pel_task_plan(4, costs, 2, assignment, &makespan), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_task_plan", "costs[3]");
    PEL_TEST_EXPECT_ERROR(pel_task_plan(4, good_costs, 0, assignment, &makespan), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_task_plan", "nthreads");
    CU_ASSERT(assignment[0] == 9 && assignment[1] == 9 && assignment[2] == 9 && assignment[3] == 9);
    CU_ASSERT_EQUAL(makespan, -8.5);
    CU_ASSERT(intact(&x));
    release(&x);
}

/* ------------------------------------------------------------ core */

static void test_core_settings(void)
{
    int threads = pel_get_num_threads(), budget = pel_get_thread_budget();
    size_t cutoff = pel_get_min_work_per_thread();
    void *p = (void *)&threads;

    /* A refused setting keeps the one in effect. */
    PEL_TEST_EXPECT_ERROR(pel_set_num_threads(-3), PEL_ERROR_INVALID_ARGUMENT, "pel_set_num_threads", "nthreads");
    CU_ASSERT_EQUAL(pel_get_num_threads(), threads);
    PEL_TEST_EXPECT_ERROR(pel_set_num_threads_local(-1), PEL_ERROR_INVALID_ARGUMENT, "pel_set_num_threads_local",
                          "nthreads");
    CU_ASSERT_EQUAL(pel_get_num_threads_local(), 0);
    PEL_TEST_EXPECT_ERROR(pel_set_thread_budget(-7), PEL_ERROR_INVALID_ARGUMENT, "pel_set_thread_budget",
                          "nthreads");
    CU_ASSERT_EQUAL(pel_get_thread_budget(), budget);
    CU_ASSERT_EQUAL(pel_get_min_work_per_thread(), cutoff);
    /* Allocation: the returned pointer is the output; NULL on failure. */
    p = pel_calloc(SIZE_MAX / 4, 8);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(strstr(pel_last_error(), "pel_calloc") != NULL);
    p = pel_malloc(SIZE_MAX - 3);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(strstr(pel_last_error(), "pel_malloc") != NULL);
    pel_clear_error();
}

static void add_suites(void)
{
    static const pel_test_case cases[] = {
        {"matrix: gemm, zgemm, gemv", test_gemm_family},
        {"matrix: batched gemm", test_gemm_batch},
        {"matrix: copies, vectors, reductions", test_copies_and_vectors},
        {"matrix: solves (singular, indefinite)", test_solves},
        {"matrix: batched LAPACK", test_lapack_batch},
        {"exec: reductions and the task plan", test_exec},
        {"core: settings and allocation", test_core_settings},
        {NULL, NULL}};

    pel_test_add_suite("outputs untouched on error", cases);
}

int main(void)
{
    return pel_test_main("test_out_arguments", add_suites);
}
