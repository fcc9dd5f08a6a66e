/* Tests of the CSR object and its products: creation (validation, sorting,
 * summed duplicates), SpMV and SpMM against a long-double dense reference,
 * alpha/beta special cases, bit-identical results for 1..4 threads, the
 * compressed (narrow) column index against the wide one, and every error
 * path. */
#include "pel_test.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "core/threads.h"
#include "sparse/csr.h"

/* A random matrix in CSR arrays: sorted, no duplicates; row i has a length
 * drawn so that some rows are empty and a few are long (skewed). */
typedef struct test_csr {
    size_t rows, cols, nnz;
    size_t *row_ptr, *col_idx;
    double *values;
} test_csr;

static test_csr random_csr(size_t rows, size_t cols, uint64_t seed)
{
    pel_test_rng rng = {seed};
    test_csr t = {rows, cols, 0, calloc(rows + 1, sizeof(size_t)), NULL, NULL};
    char *used = calloc(cols + 1, 1);

    t.col_idx = malloc((rows * cols + 1) * sizeof(size_t));
    t.values = malloc((rows * cols + 1) * sizeof(double));
    for (size_t i = 0; i < rows; i++) {
        double u = pel_test_uniform(&rng, 0, 1);
        /* 20% empty rows, 5% long rows (up to every column), the rest short. */
        size_t want = u < 0.2 ? 0 : (u > 0.95 ? cols : (size_t)(pel_test_uniform(&rng, 0, 1) * 6));
        if (want > cols)
            want = cols;
        memset(used, 0, cols + 1);
        for (size_t n = 0; n < want; n++)
            used[(size_t)(pel_test_uniform(&rng, 0, 1) * (double)cols) % cols] = 1;
        for (size_t j = 0; j < cols; j++)
            if (used[j]) {
                t.col_idx[t.nnz] = j;
                t.values[t.nnz] = pel_test_uniform(&rng, -1, 1);
                t.nnz++;
            }
        t.row_ptr[i + 1] = t.nnz;
    }
    free(used);
    return t;
}

static void free_csr(test_csr *t)
{
    free(t->row_ptr);
    free(t->col_idx);
    free(t->values);
}

static pel_csr *make(const test_csr *t)
{
    pel_csr *m = NULL;
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, t->rows, t->cols, t->row_ptr, t->col_idx, t->values, &m));
    return m;
}

/* Checks y (strided) against alpha*A*x + beta*y0 computed in long double.
 * The library sums each row left to right in double, so its error is at
 * most gamma_(n+2) * (|alpha| sum|a||x| + |beta||y0|) with n the row
 * length (Higham, Accuracy and Stability, 3.1); we allow (n+4)*eps. */
static int check_product(const test_csr *t, double alpha, const double *x, size_t xs, double beta,
                         const double *y0, const double *y, size_t ys, double eps)
{
    int bad = 0;
    for (size_t i = 0; i < t->rows; i++) {
        long double sum = 0, mag = 0, ref;
        size_t n = t->row_ptr[i + 1] - t->row_ptr[i];
        for (size_t k = t->row_ptr[i]; k < t->row_ptr[i + 1]; k++) {
            sum += (long double)t->values[k] * x[t->col_idx[k] * xs];
            mag += fabsl((long double)t->values[k] * x[t->col_idx[k] * xs]);
        }
        ref = alpha * sum;
        mag = fabsl((long double)alpha) * mag;
        if (beta != 0.0) {
            ref += (long double)beta * y0[i * ys];
            mag += fabsl((long double)beta * y0[i * ys]);
        }
        if (!(fabsl(y[i * ys] - ref) <= (long double)(n + 4) * eps * mag))
            bad++;
    }
    return bad;
}

/* ------------------------------------------------------------ creation */

static const size_t shapes[][2] = {{0, 0}, {0, 5}, {5, 0}, {1, 1}, {3, 7}, {7, 3}, {65, 33}, {200, 200}, {9, 1}};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static void test_create_shapes_and_export(void)
{
    for (size_t s = 0; s < NSHAPES; s++) {
        test_csr t = random_csr(shapes[s][0], shapes[s][1], 100 + s);
        pel_csr *m = make(&t);
        size_t *rp = malloc((t.rows + 1) * sizeof *rp), *ci = malloc((t.nnz + 1) * sizeof *ci);
        double *v = malloc((t.nnz + 1) * sizeof *v);

        CU_ASSERT_EQUAL(pel_csr_rows(m), t.rows);
        CU_ASSERT_EQUAL(pel_csr_cols(m), t.cols);
        CU_ASSERT_EQUAL(pel_csr_nnz(m), t.nnz);
        CU_ASSERT_EQUAL(pel_csr_precision(m), PEL_FLOAT64);
        PEL_TEST_OK(pel_csr_export(m, rp, ci, v));
        CU_ASSERT(memcmp(rp, t.row_ptr, (t.rows + 1) * sizeof *rp) == 0);
        CU_ASSERT(memcmp(ci, t.col_idx, t.nnz * sizeof *ci) == 0);
        CU_ASSERT(memcmp(v, t.values, t.nnz * sizeof *v) == 0);
        PEL_TEST_OK(pel_csr_export(m, NULL, NULL, NULL));
        pel_csr_destroy(m);
        free(rp);
        free(ci);
        free(v);
        free_csr(&t);
    }
    /* rows = 0 needs no arrays at all. */
    pel_csr *m = NULL;
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, 0, 4, NULL, NULL, NULL, &m));
    CU_ASSERT_EQUAL(pel_csr_nnz(m), 0);
    pel_csr_destroy(m);
}

static void test_create_sorts_and_sums_duplicates(void)
{
    /* Row 0: columns 3, 1, 3, 0, 1 -> 0, 1 (0.5+0.25), 3 (1+2); row 1 empty;
     * row 2: 2, 2, 2 summed in the given order. */
    const size_t rp[] = {0, 5, 5, 8};
    const size_t ci[] = {3, 1, 3, 0, 1, 2, 2, 2};
    const double v[] = {1.0, 0.5, 2.0, -4.0, 0.25, 1e16, 1.0, -1e16};
    const size_t want_rp[] = {0, 3, 3, 4}, want_ci[] = {0, 1, 3, 2};
    /* 1e16 + 1.0 rounds to 1e16 in double, so file order gives 0.0. */
    const double want_v[] = {-4.0, 0.75, 3.0, 0.0};
    size_t got_rp[4], got_ci[4];
    double got_v[4];
    float got_f[4];
    const float vf[] = {1.0f, 0.5f, 2.0f, -4.0f, 0.25f, 3.0f, 1.0f, -3.0f};
    pel_csr *m = NULL;

    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, 3, 4, rp, ci, v, &m));
    CU_ASSERT_EQUAL(pel_csr_nnz(m), 4);
    PEL_TEST_OK(pel_csr_export(m, got_rp, got_ci, got_v));
    CU_ASSERT(memcmp(got_rp, want_rp, sizeof want_rp) == 0);
    CU_ASSERT(memcmp(got_ci, want_ci, sizeof want_ci) == 0);
    CU_ASSERT(memcmp(got_v, want_v, sizeof want_v) == 0);
    pel_csr_destroy(m);

    PEL_TEST_OK(pel_csr_create(PEL_FLOAT32, 3, 4, rp, ci, vf, &m));
    CU_ASSERT_EQUAL(pel_csr_precision(m), PEL_FLOAT32);
    PEL_TEST_OK(pel_csr_export(m, got_rp, got_ci, got_f));
    CU_ASSERT(memcmp(got_rp, want_rp, sizeof want_rp) == 0);
    CU_ASSERT(got_f[0] == -4.0f && got_f[1] == 0.75f && got_f[2] == 3.0f && got_f[3] == 1.0f);
    pel_csr_destroy(m);

    /* A long unsorted row (qsort path) with duplicates. */
    enum { N = 500 };
    size_t lrp[2] = {0, N}, lci[N];
    double lv[N], dense[50] = {0};
    for (size_t k = 0; k < N; k++) {
        lci[k] = (k * 37) % 50;
        lv[k] = (double)(k % 7) - 3.0; /* small integers: sums are exact */
        dense[lci[k]] += lv[k];
    }
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, 1, 50, lrp, lci, lv, &m));
    CU_ASSERT_EQUAL(pel_csr_nnz(m), 50);
    size_t erp[2], eci[50];
    double ev[50];
    PEL_TEST_OK(pel_csr_export(m, erp, eci, ev));
    for (size_t j = 0; j < 50; j++) {
        CU_ASSERT_EQUAL(eci[j], j);
        CU_ASSERT_EQUAL(ev[j], dense[j]);
    }
    pel_csr_destroy(m);
}

static void test_create_errors(void)
{
    const size_t rp[] = {0, 2, 3}, ci[] = {0, 2, 1};
    const size_t bad_first[] = {1, 2, 3}, bad_order[] = {0, 3, 2}, bad_col[] = {0, 3, 1};
    const double v[] = {1.5, 2.5, 3.5};
    pel_csr *sentinel = (pel_csr *)(uintptr_t)0x1234, *m = sentinel;

    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 3, rp, ci, v, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "out");
    PEL_TEST_EXPECT_ERROR(pel_csr_create((pel_precision)7, 2, 3, rp, ci, v, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "precision=7");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 3, NULL, ci, v, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "row_ptr must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 3, bad_first, ci, v, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "row_ptr[0]=1");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 3, bad_order, ci, v, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "row_ptr[2]=2 is smaller than row_ptr[1]=3");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 3, rp, bad_col, v, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "col_idx[1]=3 (row 0) is out of range for cols=3");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 2, rp, ci, v, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "col_idx[1]=2 (row 0)");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 3, rp, NULL, v, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "col_idx must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 3, rp, ci, NULL, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "values must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, PEL_CSR_MAX_COLS + 1, rp, ci, v, &m),
                          PEL_ERROR_UNSUPPORTED, "pel_csr_create", "exceeds PEL_CSR_MAX_COLS");
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, SIZE_MAX, 3, rp, ci, v, &m), PEL_ERROR_OVERFLOW,
                          "pel_csr_create", "rows=");
    CU_ASSERT_PTR_NULL(m); /* the out-argument rule: NULL on failure */
    /* The inputs were not touched. */
    CU_ASSERT(rp[1] == 2 && ci[1] == 2 && v[1] == 2.5 && bad_col[1] == 3);
}

static void test_getters_and_destroy_accept_null(void)
{
    CU_ASSERT_EQUAL(pel_csr_rows(NULL), 0);
    CU_ASSERT_EQUAL(pel_csr_cols(NULL), 0);
    CU_ASSERT_EQUAL(pel_csr_nnz(NULL), 0);
    CU_ASSERT_EQUAL(pel_csr_precision(NULL), PEL_FLOAT64);
    pel_csr_destroy(NULL);
    PEL_TEST_EXPECT_ERROR(pel_csr_export(NULL, NULL, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_export",
                          "matrix");
}

/* ------------------------------------------------------------ SpMV */

static const double alphas[] = {1.0, 2.385, 0.0, -0.75, 0.0};
static const double betas[] = {0.0, -1.25, 1.5, 1.0, 0.0};

static void test_spmv_against_dense_reference(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    for (int threads = 1; threads <= 3; threads += 2) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        for (size_t s = 0; s < NSHAPES; s++) {
            test_csr t = random_csr(shapes[s][0], shapes[s][1], 200 + s);
            pel_csr *m = make(&t);
            double *x = malloc((t.cols + 1) * sizeof *x), *x0 = malloc((t.cols + 1) * sizeof *x0);
            double *y = malloc((t.rows + 1) * sizeof *y), *y0 = malloc((t.rows + 1) * sizeof *y0);
            pel_test_fill(x, t.cols, 7 + s);
            pel_test_fill(y0, t.rows, 8 + s);
            memcpy(x0, x, t.cols * sizeof *x);
            for (size_t c = 0; c < sizeof alphas / sizeof alphas[0]; c++) {
                for (size_t i = 0; i < t.rows; i++) /* beta = 0: NaN in y must not leak */
                    y[i] = betas[c] == 0.0 ? NAN : y0[i];
                if (alphas[c] == 0.0 && t.cols > 0) /* alpha = 0: x is not read */
                    x[0] = NAN;
                PEL_TEST_OK(pel_csr_spmv(m, alphas[c], x, betas[c], y));
                x[0] = x0[0];
                CU_ASSERT_EQUAL(check_product(&t, alphas[c], x, 1, betas[c], y0, y, 1, DBL_EPSILON), 0);
            }
            CU_ASSERT(t.cols == 0 || memcmp(x, x0, t.cols * sizeof *x) == 0);
            pel_csr_destroy(m);
            free(x);
            free(x0);
            free(y);
            free(y0);
            free_csr(&t);
        }
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
}

static void test_spmv_float(void)
{
    test_csr t = random_csr(150, 90, 300);
    float *vf = malloc((t.nnz + 1) * sizeof *vf), x[90], y[150], y0[150];
    double xd[90], yd[150], y0d[150];
    pel_csr *m = NULL;

    for (size_t k = 0; k < t.nnz; k++) {
        vf[k] = (float)t.values[k];
        t.values[k] = vf[k]; /* the reference uses the float values exactly */
    }
    pel_test_fill_float(x, 90, 1);
    pel_test_fill_float(y0, 150, 2);
    for (size_t i = 0; i < 90; i++)
        xd[i] = x[i];
    for (size_t i = 0; i < 150; i++)
        y0d[i] = y0[i];
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT32, t.rows, t.cols, t.row_ptr, t.col_idx, vf, &m));
    memcpy(y, y0, sizeof y);
    PEL_TEST_OK(pel_csr_spmv(m, 1.5, x, -0.5, y));
    for (size_t i = 0; i < 150; i++)
        yd[i] = y[i];
    /* Float sums: the same bound with float's epsilon, plus one rounding of
     * alpha and beta to float (exact here: 1.5 and -0.5). */
    CU_ASSERT_EQUAL(check_product(&t, 1.5, xd, 1, -0.5, y0d, yd, 1, FLT_EPSILON), 0);
    pel_csr_destroy(m);
    free(vf);
    free_csr(&t);
}

/* A skewed matrix: row i has about 2000/(i+1) entries, so the first rows
 * hold most of the nonzeros and the partition must split by entries. */
static test_csr powerlaw_csr(size_t rows, size_t cols)
{
    pel_test_rng rng = {42};
    size_t cap = 0;
    test_csr t = {rows, cols, 0, calloc(rows + 1, sizeof(size_t)), NULL, NULL};

    for (size_t i = 0; i < rows; i++)
        cap += 2000 / (i + 1) + 1;
    t.col_idx = malloc(cap * sizeof(size_t));
    t.values = malloc(cap * sizeof(double));
    for (size_t i = 0; i < rows; i++) {
        size_t len = 2000 / (i + 1) + (i % 3);
        size_t start = (size_t)(pel_test_uniform(&rng, 0, 1) * (double)cols);
        if (len > cols)
            len = cols;
        for (size_t n = 0; n < len; n++) { /* unsorted, distinct columns */
            t.col_idx[t.nnz] = (start + n * 7919) % cols;
            t.values[t.nnz] = pel_test_uniform(&rng, -1, 1);
            t.nnz++;
        }
        t.row_ptr[i + 1] = t.nnz;
    }
    return t;
}

static void test_products_bit_identical_for_any_thread_count(void)
{
    enum { ROWS = 3001, COLS = 2503, NVEC = 5 };
    test_csr t = powerlaw_csr(ROWS, COLS);
    pel_csr *m = make(&t);
    float *vf = malloc(t.nnz * sizeof *vf);
    double *x = malloc(COLS * NVEC * sizeof *x), *y[5], *yr[5], *yc[5];
    float *xf = malloc(COLS * sizeof *xf), *yf[5];
    pel_csr *mf = NULL;

    for (size_t k = 0; k < t.nnz; k++)
        vf[k] = (float)t.values[k];
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT32, ROWS, COLS, t.row_ptr, t.col_idx, vf, &mf));
    pel_test_fill(x, COLS * NVEC, 11);
    pel_test_fill_float(xf, COLS, 12);
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    for (int threads = 1; threads <= 4; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        y[threads] = malloc(ROWS * sizeof(double));
        yr[threads] = malloc(ROWS * NVEC * sizeof(double));
        yc[threads] = malloc(ROWS * NVEC * sizeof(double));
        yf[threads] = malloc(ROWS * sizeof(float));
        pel_test_fill(y[threads], ROWS, 13);
        pel_test_fill(yr[threads], ROWS * NVEC, 14);
        pel_test_fill(yc[threads], ROWS * NVEC, 15);
        pel_test_fill_float(yf[threads], ROWS, 16);
        PEL_TEST_OK(pel_csr_spmv(m, 0.7, x, 0.3, y[threads]));
        PEL_TEST_OK(pel_csr_spmm(m, PEL_ROW_MAJOR, NVEC, -1.1, x, NVEC, 0.9, yr[threads], NVEC));
        PEL_TEST_OK(pel_csr_spmm(m, PEL_COL_MAJOR, NVEC, 1.3, x, COLS, 0.0, yc[threads], ROWS));
        PEL_TEST_OK(pel_csr_spmv(mf, 0.7, xf, 0.3, yf[threads]));
        if (threads > 1) {
            CU_ASSERT(memcmp(y[threads], y[1], ROWS * sizeof(double)) == 0);
            CU_ASSERT(memcmp(yr[threads], yr[1], ROWS * NVEC * sizeof(double)) == 0);
            CU_ASSERT(memcmp(yc[threads], yc[1], ROWS * NVEC * sizeof(double)) == 0);
            CU_ASSERT(memcmp(yf[threads], yf[1], ROWS * sizeof(float)) == 0);
        }
    }
    /* The results are right, too (checked once). */
    {
        double *y0 = malloc(ROWS * sizeof *y0);
        pel_test_fill(y0, ROWS, 13);
        CU_ASSERT_EQUAL(check_product(&t, 0.7, x, 1, 0.3, y0, y[1], 1, DBL_EPSILON), 0);
        free(y0);
    }
    for (int threads = 1; threads <= 4; threads++) {
        free(y[threads]);
        free(yr[threads]);
        free(yc[threads]);
        free(yf[threads]);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    pel_csr_destroy(m);
    pel_csr_destroy(mf);
    free(vf);
    free(x);
    free(xf);
    free_csr(&t);
}

/* The partition balances entries, not rows: on the skewed matrix, where
 * the first rows hold most entries, every thread's share of the weight
 * (entries + 2 per row) is within one part plus one row of the ideal, for
 * any team size, and the parts cover the rows exactly once in order. */
static void test_partition_balances_nonzeros(void)
{
    test_csr t = powerlaw_csr(3001, 2503);
    pel_csr *m = make(&t);
    double total = (double)t.nnz + PEL_CSR_ROW_WEIGHT * 3001.0, longest = 0;

    for (size_t i = 0; i < t.rows; i++)
        if ((double)(t.row_ptr[i + 1] - t.row_ptr[i]) > longest)
            longest = (double)(t.row_ptr[i + 1] - t.row_ptr[i]);
    CU_ASSERT_EQUAL(m->nparts, PEL_CSR_PARTS);
    CU_ASSERT_EQUAL(m->part_row[0], 0);
    CU_ASSERT_EQUAL(m->part_row[m->nparts], t.rows);
    for (size_t p = 0; p < m->nparts; p++)
        CU_ASSERT(m->part_row[p] <= m->part_row[p + 1]);
    for (int team = 1; team <= 16; team++) {
        size_t covered = 0;
        for (int thread = 0; thread < team; thread++) {
            size_t p0, p1, r0, r1;
            double weight;
            pel__csr_thread_parts(m, thread, team, &p0, &p1);
            r0 = m->part_row[p0];
            r1 = m->part_row[p1];
            CU_ASSERT_EQUAL(r0, covered);
            covered = r1;
            weight = (double)(t.row_ptr[r1] - t.row_ptr[r0]) + PEL_CSR_ROW_WEIGHT * (double)(r1 - r0);
            CU_ASSERT(weight <= total / team + total / PEL_CSR_PARTS + longest + PEL_CSR_ROW_WEIGHT + 1);
        }
        CU_ASSERT_EQUAL(covered, t.rows);
    }
    /* A split by row count would give thread 0 of 2 far more than half. */
    CU_ASSERT((double)t.row_ptr[t.rows / 2] > 0.7 * (double)t.nnz);
    pel_csr_destroy(m);
    free_csr(&t);
}

/* The thread count pel picks by itself (issue 16 item 7): one thread for
 * tiny work without asking the model, never more than asked, at least 2
 * threads for 64 defaults of work, the user's minimum work per thread
 * honoured; and a product big enough for the automatic count to use several
 * threads gives the bits of one thread, for 1..4 threads asked, double and
 * float. */
static void test_automatic_thread_count_same_bits(void)
{
    test_csr t = powerlaw_csr(6000, 5000);
    pel_csr *m = make(&t), *mf = NULL;
    float *vf = malloc(t.nnz * sizeof *vf), *xf = malloc(5000 * sizeof *xf), *yf = malloc(6000 * sizeof *yf);
    float *yf_ref = malloc(6000 * sizeof *yf_ref);
    double *x = malloc(5000 * sizeof *x), *y = malloc(6000 * sizeof *y), *y_ref = malloc(6000 * sizeof *y_ref);

    for (size_t k = 0; k < t.nnz; k++)
        vf[k] = (float)t.values[k];
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT32, t.rows, t.cols, t.row_ptr, t.col_idx, vf, &mf));
    pel_test_fill(x, 5000, 1);
    pel_test_fill_float(xf, 5000, 2);
    PEL_TEST_OK(pel_set_num_threads(1));
    PEL_TEST_OK(pel_csr_spmv(m, -1.5, x, 0.0, y_ref));
    PEL_TEST_OK(pel_csr_spmv(mf, -1.5, xf, 0.0, yf_ref));
    CU_ASSERT_EQUAL(check_product(&t, -1.5, x, 1, 0.0, NULL, y_ref, 1, DBL_EPSILON), 0);
    for (int threads = 1; threads <= 4; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        CU_ASSERT_EQUAL(pel__tune_threads_for_openmp_work(100), 1);
        CU_ASSERT(pel__tune_threads_for_openmp_work(SIZE_MAX) >= 1);
        CU_ASSERT(pel__tune_threads_for_openmp_work(SIZE_MAX) <= threads);
        /* Never more reluctant than 32 defaults (32768 units each) a
         * thread, whatever fork/join cost the model measured (the rule
         * itself, on installed models, is tested in test_tune). */
        {
            int chosen = pel__tune_threads_for_openmp_work(64 * (size_t)PEL__MIN_WORK_DEFAULT);
            CU_ASSERT(chosen >= (threads < 2 ? 1 : 2));
            CU_ASSERT(chosen <= threads);
        }
        PEL_TEST_OK(pel_set_min_work_per_thread(1000));
        CU_ASSERT_EQUAL(pel__tune_threads_for_openmp_work(2500), threads < 2 ? threads : 2);
        PEL_TEST_OK(pel_set_min_work_per_thread(0));
        for (size_t i = 0; i < 6000; i++)
            y[i] = yf[i] = NAN;
        PEL_TEST_OK(pel_csr_spmv(m, -1.5, x, 0.0, y));
        PEL_TEST_OK(pel_csr_spmv(mf, -1.5, xf, 0.0, yf));
        CU_ASSERT(memcmp(y, y_ref, 6000 * sizeof *y) == 0);
        CU_ASSERT(memcmp(yf, yf_ref, 6000 * sizeof *yf) == 0);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    pel_csr_destroy(m);
    pel_csr_destroy(mf);
    free(vf);
    free(xf);
    free(yf);
    free(yf_ref);
    free(x);
    free(y);
    free(y_ref);
    free_csr(&t);
}

/* Many threads share one matrix: each calls SpMV from inside a parallel
 * region (where pel runs on the calling thread) and gets the same bits. */
static void test_shared_matrix_concurrent_calls(void)
{
    test_csr t = powerlaw_csr(500, 400);
    pel_csr *m = make(&t);
    double x[400], ref[500];
    int bad = 0;

    pel_test_fill(x, 400, 3);
    PEL_TEST_OK(pel_csr_spmv(m, 1.0, x, 0.0, ref));
#pragma omp parallel num_threads(4) reduction(+ : bad)
    {
        double y[500];
        for (int rep = 0; rep < 20; rep++) {
            bad += pel_csr_spmv(m, 1.0, x, 0.0, y) != PEL_OK;
            bad += memcmp(y, ref, sizeof y) != 0;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    pel_csr_destroy(m);
    free_csr(&t);
}

static void test_spmv_errors(void)
{
    test_csr t = random_csr(6, 4, 5);
    pel_csr *m = make(&t);
    double buffer[16], x[4] = {1, 2, 3, 4}, y[6] = {9, 9, 9, 9, 9, 9};

    PEL_TEST_EXPECT_ERROR(pel_csr_spmv(NULL, 1.0, x, 0.0, y), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_spmv",
                          "matrix");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmv(m, 1.0, NULL, 0.0, y), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_spmv",
                          "x must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmv(m, 1.0, x, 0.0, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_spmv",
                          "y must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmv(m, 1.0, buffer, 0.0, buffer + 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmv", "overlap");
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(y[i], 9);
    /* Adjacent but disjoint x and y are fine. */
    pel_test_fill(buffer, 4, 1);
    PEL_TEST_OK(pel_csr_spmv(m, 1.0, buffer, 0.0, buffer + 4));
    pel_csr_destroy(m);
    free_csr(&t);
}

/* ------------------------------------------------------------ SpMM */

static void test_spmm_matches_spmv_columns(void)
{
    static const size_t nvecs[] = {0, 1, 2, 3, 5, 70};
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    PEL_TEST_OK(pel_set_num_threads(2));
    for (size_t s = 0; s < NSHAPES; s++) {
        test_csr t = random_csr(shapes[s][0], shapes[s][1], 400 + s);
        pel_csr *m = make(&t);
        for (size_t v = 0; v < sizeof nvecs / sizeof nvecs[0]; v++) {
            size_t nvec = nvecs[v];
            for (int layout = 0; layout < 2; layout++) {
                int row_major = layout == 0;
                /* Padded leading dimensions; the padding must stay as it was. */
                size_t ldx = (row_major ? nvec : t.cols) + 3, ldy = (row_major ? nvec : t.rows) + 2;
                size_t xn = (row_major ? t.cols : nvec) * ldx + 1, yn = (row_major ? t.rows : nvec) * ldy + 1;
                double *x = malloc(xn * sizeof *x), *y = malloc(yn * sizeof *y), *y0 = malloc(yn * sizeof *y0);
                double *xj = malloc((t.cols + 1) * sizeof *xj), *yj = malloc((t.rows + 1) * sizeof *yj);
                size_t xs = row_major ? ldx : 1, xv = row_major ? 1 : ldx;
                size_t ys = row_major ? ldy : 1, yv = row_major ? 1 : ldy;
                int mismatch = 0, padding = 0;

                pel_test_fill(x, xn, 500 + v);
                pel_test_fill(y0, yn, 600 + v);
                memcpy(y, y0, yn * sizeof *y);
                PEL_TEST_OK(pel_csr_spmm(m, row_major ? PEL_ROW_MAJOR : PEL_COL_MAJOR, nvec, -0.625, x, ldx, 1.75, y,
                                         ldy));
                for (size_t j = 0; j < nvec; j++) {
                    for (size_t c = 0; c < t.cols; c++)
                        xj[c] = x[c * xs + j * xv];
                    for (size_t i = 0; i < t.rows; i++)
                        yj[i] = y0[i * ys + j * yv];
                    PEL_TEST_OK(pel_csr_spmv(m, -0.625, xj, 1.75, yj));
                    for (size_t i = 0; i < t.rows; i++)
                        mismatch += memcmp(&yj[i], &y[i * ys + j * yv], sizeof(double)) != 0;
                    CU_ASSERT_EQUAL(check_product(&t, -0.625, x + j * xv, xs, 1.75, y0 + j * yv, y + j * yv, ys,
                                                  DBL_EPSILON), 0);
                }
                for (size_t e = 0; e < yn; e++) {
                    size_t line = e / ldy, within = e % ldy;
                    int inside = row_major ? (line < t.rows && within < nvec) : (line < nvec && within < t.rows);
                    if (!inside)
                        padding += y[e] != y0[e];
                }
                CU_ASSERT_EQUAL(mismatch, 0);
                CU_ASSERT_EQUAL(padding, 0);
                free(x);
                free(y);
                free(y0);
                free(xj);
                free(yj);
            }
        }
        pel_csr_destroy(m);
        free_csr(&t);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
}

/* Float SpMM: each column has the bits of a float SpMV, in both layouts,
 * on 1 and 3 threads. */
static void test_spmm_float(void)
{
    enum { NVEC = 3 };
    test_csr t = powerlaw_csr(300, 250);
    float *vf = malloc(t.nnz * sizeof *vf), x[250 * NVEC], y[300 * NVEC], y0[300 * NVEC], xj[250], yj[300];
    pel_csr *m = NULL;
    int mismatch = 0;

    for (size_t k = 0; k < t.nnz; k++)
        vf[k] = (float)t.values[k];
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT32, t.rows, t.cols, t.row_ptr, t.col_idx, vf, &m));
    pel_test_fill_float(x, 250 * NVEC, 3);
    pel_test_fill_float(y0, 300 * NVEC, 4);
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    for (int threads = 1; threads <= 3; threads += 2) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        for (int row_major = 0; row_major < 2; row_major++) {
            size_t xs = row_major ? NVEC : 1, xv = row_major ? 1 : 250, ys = row_major ? NVEC : 1,
                   yv = row_major ? 1 : 300;
            memcpy(y, y0, sizeof y);
            PEL_TEST_OK(pel_csr_spmm(m, row_major ? PEL_ROW_MAJOR : PEL_COL_MAJOR, NVEC, 0.5, x,
                                     row_major ? NVEC : 250, -2.0, y, row_major ? NVEC : 300));
            for (size_t j = 0; j < NVEC; j++) {
                for (size_t c = 0; c < 250; c++)
                    xj[c] = x[c * xs + j * xv];
                for (size_t i = 0; i < 300; i++)
                    yj[i] = y0[i * ys + j * yv];
                PEL_TEST_OK(pel_csr_spmv(m, 0.5, xj, -2.0, yj));
                for (size_t i = 0; i < 300; i++)
                    mismatch += memcmp(&yj[i], &y[i * ys + j * yv], sizeof(float)) != 0;
            }
        }
    }
    CU_ASSERT_EQUAL(mismatch, 0);
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    pel_csr_destroy(m);
    free(vf);
    free_csr(&t);
}

static void test_spmm_beta_zero_and_alpha_zero(void)
{
    test_csr t = random_csr(40, 30, 9);
    pel_csr *m = make(&t);
    double x[30 * 4], y[40 * 4];

    pel_test_fill(x, 120, 1);
    for (int layout = 0; layout < 2; layout++) {
        pel_layout l = layout ? PEL_COL_MAJOR : PEL_ROW_MAJOR;
        for (size_t i = 0; i < 160; i++)
            y[i] = NAN;
        PEL_TEST_OK(pel_csr_spmm(m, l, 4, 1.0, x, layout ? 30 : 4, 0.0, y, layout ? 40 : 4));
        for (size_t i = 0; i < 160; i++)
            CU_ASSERT(!isnan(y[i]));
        x[5] = NAN; /* alpha = 0: x is not read, y = beta*y */
        PEL_TEST_OK(pel_csr_spmm(m, l, 4, 0.0, x, layout ? 30 : 4, 2.0, y, layout ? 40 : 4));
        for (size_t i = 0; i < 160; i++)
            CU_ASSERT(!isnan(y[i]));
        PEL_TEST_OK(pel_csr_spmm(m, l, 4, 0.0, x, layout ? 30 : 4, 0.0, y, layout ? 40 : 4));
        for (size_t i = 0; i < 160; i++)
            CU_ASSERT_EQUAL(y[i], 0.0);
        x[5] = 0.5;
    }
    pel_csr_destroy(m);
    free_csr(&t);
}

static void test_spmm_errors(void)
{
    test_csr t = random_csr(6, 4, 5);
    pel_csr *m = make(&t);
    double x[4 * 3], y[6 * 3], big[64];

    pel_test_fill(x, 12, 1);
    for (int i = 0; i < 18; i++)
        y[i] = 9;
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(NULL, PEL_ROW_MAJOR, 3, 1.0, x, 3, 0.0, y, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "matrix");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, (pel_layout)5, 3, 1.0, x, 3, 0.0, y, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "layout=5");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_ROW_MAJOR, 3, 1.0, x, 2, 0.0, y, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "ldx=2 is smaller than nvec=3");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_ROW_MAJOR, 3, 1.0, x, 3, 0.0, y, 1), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "ldy=1 is smaller than nvec=3");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_COL_MAJOR, 3, 1.0, x, 3, 0.0, y, 6), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "ldx=3 is smaller than cols=4");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_COL_MAJOR, 3, 1.0, x, 4, 0.0, y, 5), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "ldy=5 is smaller than rows=6");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_ROW_MAJOR, 0, 1.0, x, 0, 0.0, y, 1), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "ldx=0");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_ROW_MAJOR, 3, 1.0, NULL, 3, 0.0, y, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "x must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_ROW_MAJOR, 3, 1.0, x, 3, 0.0, NULL, 3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_spmm", "y must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_ROW_MAJOR, 2, 1.0, big, 2, 0.0, big + 7, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_csr_spmm", "overlap");
    PEL_TEST_EXPECT_ERROR(pel_csr_spmm(m, PEL_COL_MAJOR, 3, 1.0, x, SIZE_MAX / 2, 0.0, y, 6), PEL_ERROR_OVERFLOW,
                          "pel_csr_spmm", "overflows");
    for (int i = 0; i < 18; i++)
        CU_ASSERT_EQUAL(y[i], 9);
    /* nvec = 0 is a valid no-op; NULL blocks are fine then. */
    PEL_TEST_OK(pel_csr_spmm(m, PEL_ROW_MAJOR, 0, 1.0, NULL, 1, 0.0, NULL, 1));
    pel_csr_destroy(m);
    free_csr(&t);
}

/* ------------------------------------------------------------ compressed column index */

/* The narrow offset helpers on rows and columns far beyond 32 bits, at the
 * edges of int16_t: fits, the offset and the column rebuilt from it. */
static void test_offset_helpers_at_the_edges(void)
{
    static const size_t rows[] = {0, 1, 32767, 32768, 32769, (size_t)1 << 31, ((size_t)1 << 32) + 5, SIZE_MAX - 40000};
    static const long deltas[] = {-32770, -32769, -32768, -32767, -1, 0, 1, 32766, 32767, 32768, 32769};

    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        for (size_t d = 0; d < sizeof deltas / sizeof deltas[0]; d++) {
            size_t row = rows[r], col;
            long delta = deltas[d];
            int fits = delta >= -32768 && delta <= 32767;
            if (delta < 0 && (size_t)-delta > row)
                continue; /* no such column */
            col = delta < 0 ? row - (size_t)-delta : row + (size_t)delta;
            CU_ASSERT_EQUAL(pel__csr_offset_fits(row, col), fits);
            if (fits) {
                CU_ASSERT_EQUAL(pel__csr_offset(row, col), (int16_t)delta);
                CU_ASSERT_EQUAL(pel__csr_offset_column(row, pel__csr_offset(row, col)), col);
            }
        }
    CU_ASSERT(!pel__csr_offset_fits(SIZE_MAX, 0));
    CU_ASSERT(!pel__csr_offset_fits(0, SIZE_MAX));
    CU_ASSERT(pel__csr_offset_fits(SIZE_MAX, SIZE_MAX));
}

/* Row i holds the columns i + offsets[j] that lie in [0, cols), and rows
 * [far_begin, far_end) one more, at i + far; columns sorted, distinct. */
static test_csr offset_csr(size_t rows, size_t cols, const long *offsets, size_t noffsets, size_t far_begin,
                           size_t far_end, long far, uint64_t seed)
{
    pel_test_rng rng = {seed};
    test_csr t = {rows, cols, 0, calloc(rows + 1, sizeof(size_t)), NULL, NULL};

    t.col_idx = malloc((rows * (noffsets + 1) + 1) * sizeof(size_t));
    t.values = malloc((rows * (noffsets + 1) + 1) * sizeof(double));
    for (size_t i = 0; i < rows; i++) {
        long want[16];
        size_t n = 0;
        for (size_t j = 0; j < noffsets; j++)
            want[n++] = (long)i + offsets[j];
        if (i >= far_begin && i < far_end)
            want[n++] = (long)i + far;
        for (size_t a = 1; a < n; a++) /* insertion sort */
            for (size_t b = a; b > 0 && want[b - 1] > want[b]; b--) {
                long swap = want[b];
                want[b] = want[b - 1];
                want[b - 1] = swap;
            }
        for (size_t j = 0; j < n; j++)
            if (want[j] >= 0 && want[j] < (long)cols && (j == 0 || want[j] != want[j - 1])) {
                t.col_idx[t.nnz] = (size_t)want[j];
                t.values[t.nnz] = pel_test_uniform(&rng, -1, 1);
                t.nnz++;
            }
        t.row_ptr[i + 1] = t.nnz;
    }
    return t;
}

/* Creates t with a narrow index where it fits (pel__csr_narrow_index_enabled)
 * or wide everywhere, in the given precision. The wide build takes every
 * part whose entries lie within 32768 columns of their rows as banded
 * (pel__csr_banded_columns), so that the banded kernel (wide index,
 * prefetch) is compared with the narrow one on the same parts. */
static pel_csr *make_indexed(const test_csr *t, pel_precision precision, int narrow, const float *vf)
{
    pel_csr *m = NULL;
    const size_t saved = pel__csr_banded_columns;
    pel__csr_narrow_index_enabled = narrow;
    if (!narrow)
        pel__csr_banded_columns = (size_t)-(long)PEL_CSR_NARROW_MIN; /* 32768: every narrow offset */
    PEL_TEST_OK(pel_csr_create(precision, t->rows, t->cols, t->row_ptr, t->col_idx,
                               precision == PEL_FLOAT32 ? (const void *)vf : (const void *)t->values, &m));
    pel__csr_narrow_index_enabled = 1;
    pel__csr_banded_columns = saved;
    return m;
}

enum { EXPECT_NO_NARROW, EXPECT_ALL_NARROW, EXPECT_MIXED, EXPECT_ANY };

/* Counts the narrow parts of m and checks the kind of index of every part
 * against the rule: narrow exactly when all its entries' offsets fit and
 * its rows are at most cols. */
static size_t count_narrow_parts(const pel_csr *m, const test_csr *t)
{
    size_t narrow = 0;
    for (size_t p = 0; p < m->nparts; p++) {
        int fits = t->cols > 0 && m->part_row[p + 1] <= t->cols + 1;
        for (size_t i = m->part_row[p]; i < m->part_row[p + 1] && fits; i++)
            for (size_t k = t->row_ptr[i]; k < t->row_ptr[i + 1] && fits; k++)
                fits = (long)t->col_idx[k] - (long)i >= -32768 && (long)t->col_idx[k] - (long)i <= 32767;
        CU_ASSERT_EQUAL(m->narrow[p], fits);
        narrow += m->narrow[p];
    }
    return narrow;
}

/* The same entries with a narrow (where it fits) and a wide index: the
 * right kind per part, the same exported arrays, and products with the
 * same bits as each other and as on one thread, for 1..8 threads: SpMV
 * (beta = 0 with ordinary and non-temporal stores, beta != 0), SpMM in
 * both layouts, double and float; right against the long-double
 * reference. */
static void check_narrow_matches_wide(const test_csr *t, int expect)
{
    enum { NVEC = 3 };
    float *vf = malloc((t->nnz + 1) * sizeof *vf), *xf = malloc((t->cols + 1) * sizeof *xf);
    double *x = malloc((t->cols * NVEC + 1) * sizeof *x), *y0 = malloc((t->rows * NVEC + 1) * sizeof *y0);
    double *yn = malloc((t->rows * NVEC + 1) * sizeof *yn), *yw = malloc((t->rows * NVEC + 1) * sizeof *yw);
    double *y1 = malloc((t->rows * 4 + 1) * sizeof *y1);
    float *yfn = malloc((t->rows + 1) * sizeof *yfn), *yfw = malloc((t->rows + 1) * sizeof *yfw);
    float *yf1 = malloc((t->rows + 1) * sizeof *yf1);
    size_t *rp = malloc((t->rows + 1) * sizeof *rp), *ci = malloc((t->nnz + 1) * sizeof *ci);
    double *v = malloc((t->nnz + 1) * sizeof *v);
    const size_t rows_bytes = t->rows * sizeof(double);
    pel_csr *mn, *mw, *mfn, *mfw;
    size_t narrow;
    int mismatch = 0, thread_mismatch = 0;

    for (size_t k = 0; k < t->nnz; k++)
        vf[k] = (float)t->values[k];
    mn = make_indexed(t, PEL_FLOAT64, 1, vf);
    mw = make_indexed(t, PEL_FLOAT64, 0, vf);
    mfn = make_indexed(t, PEL_FLOAT32, 1, vf);
    mfw = make_indexed(t, PEL_FLOAT32, 0, vf);
    narrow = count_narrow_parts(mn, t);
    CU_ASSERT_EQUAL(count_narrow_parts(mfn, t), narrow);
    for (size_t p = 0; p < mw->nparts; p++) {
        CU_ASSERT_EQUAL(mw->narrow[p], 0);
        CU_ASSERT(!mn->narrow[p] || mw->banded[p]); /* narrow-able parts are within the band */
        CU_ASSERT(!mn->narrow[p] || !mn->banded[p]);
        CU_ASSERT(expect != EXPECT_NO_NARROW || !mw->banded[p]); /* +-40000: beyond the band */
    }
    if (expect == EXPECT_NO_NARROW)
        CU_ASSERT_EQUAL(narrow, 0);
    if (expect == EXPECT_ALL_NARROW)
        CU_ASSERT_EQUAL(narrow, mn->nparts);
    if (expect == EXPECT_MIXED)
        CU_ASSERT(narrow > 0 && narrow < mn->nparts);
    /* A narrow part takes 2 bytes per entry, a wide one 4 (plus alignment). */
    CU_ASSERT(mn->index_at[mn->nparts] <= mw->index_at[mw->nparts]);
    CU_ASSERT(mw->index_at[mw->nparts] >= t->nnz * sizeof(uint32_t));

    /* Export (and so writing) rebuilds the columns of narrow parts. */
    PEL_TEST_OK(pel_csr_export(mn, rp, ci, v));
    CU_ASSERT(memcmp(rp, t->row_ptr, (t->rows + 1) * sizeof *rp) == 0);
    CU_ASSERT(t->nnz == 0 || memcmp(ci, t->col_idx, t->nnz * sizeof *ci) == 0);
    CU_ASSERT(t->nnz == 0 || memcmp(v, t->values, t->nnz * sizeof *v) == 0);

    pel_test_fill(x, t->cols * NVEC, 11);
    pel_test_fill_float(xf, t->cols, 12);
    pel_test_fill(y0, t->rows * NVEC, 13);
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    for (int threads = 1; threads <= 8; threads++) {
        PEL_TEST_OK(pel_set_num_threads(threads));
        for (int c = 0; c < 4; c++) {
            /* c = 0, 1: beta = 0 (y not read); 2, 3: beta != 0. */
            double alpha = c == 3 ? -0.75 : (c == 1 ? -0.0061 : 2.385), beta = c < 2 ? 0.0 : (c == 2 ? -1.25 : 1.0);
            for (size_t i = 0; i < t->rows; i++)
                yn[i] = yw[i] = beta == 0.0 ? NAN : y0[i];
            PEL_TEST_OK(pel_csr_spmv(mn, alpha, x, beta, yn));
            PEL_TEST_OK(pel_csr_spmv(mw, alpha, x, beta, yw));
            mismatch += memcmp(yn, yw, rows_bytes) != 0;
            if (threads == 1) {
                memcpy(y1 + (size_t)c * t->rows, yn, rows_bytes);
                CU_ASSERT_EQUAL(check_product(t, alpha, x, 1, beta, y0, yn, 1, DBL_EPSILON), 0);
            } else
                thread_mismatch += memcmp(y1 + (size_t)c * t->rows, yn, rows_bytes) != 0;
            for (size_t i = 0; i < t->rows; i++)
                yfn[i] = yfw[i] = beta == 0.0 ? NAN : (float)y0[i];
            PEL_TEST_OK(pel_csr_spmv(mfn, alpha, xf, beta, yfn));
            PEL_TEST_OK(pel_csr_spmv(mfw, alpha, xf, beta, yfw));
            mismatch += memcmp(yfn, yfw, t->rows * sizeof(float)) != 0;
            if (c == 2 && threads == 1)
                memcpy(yf1, yfn, t->rows * sizeof(float));
            if (c == 2 && threads > 1)
                thread_mismatch += memcmp(yf1, yfn, t->rows * sizeof(float)) != 0;
        }
        for (int row_major = 0; row_major < 2; row_major++) {
            pel_layout layout = row_major ? PEL_ROW_MAJOR : PEL_COL_MAJOR;
            size_t ldx = row_major ? NVEC : t->cols, ldy = row_major ? NVEC : t->rows;
            memcpy(yn, y0, t->rows * NVEC * sizeof *yn);
            memcpy(yw, y0, t->rows * NVEC * sizeof *yw);
            PEL_TEST_OK(pel_csr_spmm(mn, layout, NVEC, 0.5, x, ldx > 0 ? ldx : 1, 1.5, yn, ldy > 0 ? ldy : 1));
            PEL_TEST_OK(pel_csr_spmm(mw, layout, NVEC, 0.5, x, ldx > 0 ? ldx : 1, 1.5, yw, ldy > 0 ? ldy : 1));
            mismatch += memcmp(yn, yw, t->rows * NVEC * sizeof *yn) != 0;
        }
    }
    CU_ASSERT_EQUAL(mismatch, 0);
    CU_ASSERT_EQUAL(thread_mismatch, 0);
    PEL_TEST_OK(pel_set_num_threads(0));
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    pel_csr_destroy(mn);
    pel_csr_destroy(mw);
    pel_csr_destroy(mfn);
    pel_csr_destroy(mfw);
    free(vf);
    free(xf);
    free(x);
    free(y0);
    free(yn);
    free(yw);
    free(y1);
    free(yfn);
    free(yfw);
    free(yf1);
    free(rp);
    free(ci);
    free(v);
}

static void test_narrow_index_banded(void)
{
    static const long band[] = {-2500, -100, -1, 0, 1, 7, 3000};
    test_csr t = offset_csr(6000, 6000, band, 7, 0, 0, 0, 1);
    check_narrow_matches_wide(&t, EXPECT_ALL_NARROW);
    free_csr(&t);
}

/* A tridiagonal matrix with far columns (beyond +-32767) in two runs of
 * rows: the parts holding those rows are wide, the others narrow. */
static void test_narrow_index_mixed(void)
{
    static const long tri[] = {-1, 0, 1};
    test_csr t = offset_csr(50000, 50000, tri, 3, 5000, 5500, 40000, 2);
    check_narrow_matches_wide(&t, EXPECT_MIXED);
    free_csr(&t);
    t = offset_csr(50000, 50000, tri, 3, 42000, 42100, -35000, 3);
    check_narrow_matches_wide(&t, EXPECT_MIXED);
    free_csr(&t);
}

/* Offsets of exactly -32768 and 32767 are narrow; one beyond (-32769 in
 * some rows, 32768 in others) makes those parts wide. */
static void test_narrow_index_int16_edges(void)
{
    static const long edges[] = {-32768, 0, 32767};
    test_csr t = offset_csr(70000, 70000, edges, 3, 0, 0, 0, 4);
    check_narrow_matches_wide(&t, EXPECT_ALL_NARROW);
    free_csr(&t);
    t = offset_csr(70000, 70000, edges, 3, 20000, 20010, 32768, 5);
    check_narrow_matches_wide(&t, EXPECT_MIXED);
    free_csr(&t);
    t = offset_csr(70000, 70000, edges, 3, 50000, 50010, -32769, 6);
    check_narrow_matches_wide(&t, EXPECT_MIXED);
    free_csr(&t);
}

/* Rectangular: a wide matrix with far columns in some rows (mixed), a tall
 * one whose rows beyond cols keep a wide index (and are mostly empty),
 * an empty one, one of empty rows, and a far-off one (no narrow part). */
static void test_narrow_index_rectangular_and_empty(void)
{
    static const long wide_offsets[] = {0, 5, 20000}, tall_offsets[] = {-3, 0, 2}, none[] = {0};
    static const long far_offsets[] = {-40000, 40000};
    test_csr t = offset_csr(3000, 100000, wide_offsets, 3, 1000, 1200, 90000, 7);
    check_narrow_matches_wide(&t, EXPECT_MIXED);
    free_csr(&t);
    t = offset_csr(20000, 500, tall_offsets, 3, 600, 20000, -600, 8);
    check_narrow_matches_wide(&t, EXPECT_MIXED);
    free_csr(&t);
    t = offset_csr(0, 0, none, 0, 0, 0, 0, 9);
    check_narrow_matches_wide(&t, EXPECT_ANY);
    free_csr(&t);
    t = offset_csr(100, 100, none, 0, 0, 0, 0, 10);
    check_narrow_matches_wide(&t, EXPECT_ALL_NARROW);
    free_csr(&t);
    t = offset_csr(5000, 90000, far_offsets, 2, 0, 0, 0, 11);
    check_narrow_matches_wide(&t, EXPECT_NO_NARROW);
    free_csr(&t);
}

/* ------------------------------------------------------------ reliability */

/* cols = 0 with x = NULL (allowed: no entry reads x): y = beta*y, in every
 * product form and both precisions. The product used to form x + j*ldx on
 * the NULL pointer, undefined behaviour that clang's UBSan reports. */
static void test_products_with_no_columns_and_null_x(void)
{
    enum { ROWS = 5, NVEC = 3 };
    size_t row_ptr[ROWS + 1] = {0};
    double y[ROWS * NVEC], want[ROWS * NVEC];
    float fy[ROWS * NVEC];
    pel_csr *m = NULL, *fm = NULL;

    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, ROWS, 0, row_ptr, NULL, NULL, &m));
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT32, ROWS, 0, row_ptr, NULL, NULL, &fm));
    for (int beta_zero = 0; beta_zero < 2; beta_zero++) {
        double beta = beta_zero ? 0.0 : -1.25;
        for (size_t i = 0; i < ROWS * NVEC; i++) {
            y[i] = 0.5 + (double)i;
            fy[i] = (float)y[i];
            want[i] = beta * y[i];
        }
        PEL_TEST_OK(pel_csr_spmv(m, 2.0, NULL, beta, y));
        CU_ASSERT(memcmp(y, want, ROWS * sizeof *y) == 0);
        PEL_TEST_OK(pel_csr_spmv(fm, 2.0, NULL, beta, fy));
        for (size_t i = 0; i < ROWS; i++)
            CU_ASSERT(fy[i] == (float)want[i]);
        for (size_t i = 0; i < ROWS * NVEC; i++)
            y[i] = 0.5 + (double)i;
        PEL_TEST_OK(pel_csr_spmm(m, PEL_COL_MAJOR, NVEC, 2.0, NULL, 1, beta, y, ROWS));
        CU_ASSERT(memcmp(y, want, sizeof y) == 0);
        for (size_t i = 0; i < ROWS * NVEC; i++)
            y[i] = 0.5 + (double)i;
        PEL_TEST_OK(pel_csr_spmm(m, PEL_ROW_MAJOR, NVEC, 2.0, NULL, NVEC, beta, y, NVEC));
        CU_ASSERT(memcmp(y, want, sizeof y) == 0);
        for (size_t i = 0; i < ROWS * NVEC; i++)
            fy[i] = (float)(0.5 + (double)i);
        PEL_TEST_OK(pel_csr_spmm(fm, PEL_COL_MAJOR, NVEC, 2.0, NULL, 1, beta, fy, ROWS));
        for (size_t i = 0; i < ROWS * NVEC; i++)
            CU_ASSERT(fy[i] == (float)want[i]);
    }
    pel_csr_destroy(m);
    pel_csr_destroy(fm);
}

/* Misuse of CSR handles: NULL, destroyed and foreign (a stack struct cast)
 * pointers are PEL_ERROR_INVALID_ARGUMENT with a message naming the
 * function and the argument; a second pel_csr_destroy is refused with a
 * message and frees nothing (it used to abort in glibc's free). */
static void test_csr_handles(void)
{
    struct {
        size_t junk[32];
    } foreign = {{0}};
    const size_t rp[3] = {0, 1, 2}, ci[2] = {0, 1};
    const double v[2] = {1.5, -2.5};
    double x[2] = {1, 1}, y[2] = {7, 7}, y0[2] = {7, 7};
    size_t out_rp[3];
    pel_csr *m = NULL, *gone = NULL, *fake = (pel_csr *)(void *)&foreign;
    const size_t live = pel__handle_live_count();

    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, 2, 2, rp, ci, v, &gone));
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, 2, 2, rp, ci, v, &m));
    CU_ASSERT_EQUAL(pel__handle_live_count(), live + 2);
    pel_csr_destroy(gone);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live + 1);
    pel_csr_destroy(gone);
    CU_ASSERT(strstr(pel_last_error(), "pel_csr_destroy") != NULL);
    CU_ASSERT(strstr(pel_last_error(), "not a live pel_csr") != NULL);
    pel_csr_destroy(fake);
    CU_ASSERT(strstr(pel_last_error(), "pel_csr_destroy") != NULL);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live + 1);

    for (int which = 0; which < 3; which++) {
        pel_csr *h = which == 0 ? NULL : which == 1 ? gone : fake;
        const char *why = which == 0 ? "matrix must not be NULL" : "is not a live pel_csr";
        PEL_TEST_EXPECT_ERROR(pel_csr_spmv(h, 1.0, x, 0.0, y), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_spmv", why);
        PEL_TEST_EXPECT_ERROR(pel_csr_spmm(h, PEL_COL_MAJOR, 1, 1.0, x, 2, 0.0, y, 2), PEL_ERROR_INVALID_ARGUMENT,
                              "pel_csr_spmm", why);
        PEL_TEST_EXPECT_ERROR(pel_csr_export(h, out_rp, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_export",
                              why);
        PEL_TEST_EXPECT_ERROR(pel_csr_write_mtx(h, "never-written.mtx"), PEL_ERROR_INVALID_ARGUMENT,
                              "pel_csr_write_mtx", why);
        CU_ASSERT(memcmp(y, y0, sizeof y) == 0);
        if (which > 0) {
            /* Getters cannot return a status: 0 (or PEL_FLOAT64), and the
             * message says why. */
            CU_ASSERT_EQUAL(pel_csr_rows(h), 0);
            CU_ASSERT(strstr(pel_last_error(), "pel_csr_rows") != NULL);
            CU_ASSERT_EQUAL(pel_csr_cols(h), 0);
            CU_ASSERT_EQUAL(pel_csr_nnz(h), 0);
            CU_ASSERT_EQUAL(pel_csr_precision(h), PEL_FLOAT64);
            CU_ASSERT(strstr(pel_last_error(), "pel_csr_precision") != NULL);
        }
    }
    PEL_TEST_OK(pel_csr_spmv(m, 1.0, x, 0.0, y));
    CU_ASSERT(y[0] == 1.5 && y[1] == -2.5);
    CU_ASSERT_EQUAL(pel_csr_rows(m), 2);
    pel_csr_destroy(m);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live);
}

/* The out-argument rule: every failing pel_csr_create sets *out = NULL. */
static void test_csr_create_out_argument(void)
{
    const size_t rp[3] = {0, 1, 2}, bad_rp[3] = {0, 2, 1}, ci[2] = {0, 1}, bad_ci[2] = {0, 9};
    const double v[2] = {1.5, -2.5};
    struct {
        pel_precision precision;
        const size_t *rp, *ci;
        const double *v;
        size_t cols;
        const char *fragment;
    } cases[] = {{(pel_precision)7, rp, ci, v, 2, "precision=7"},
                 {PEL_FLOAT64, NULL, ci, v, 2, "row_ptr must not be NULL"},
                 {PEL_FLOAT64, bad_rp, ci, v, 2, "row_ptr[2]=1 is smaller"},
                 {PEL_FLOAT64, rp, bad_ci, v, 2, "col_idx[1]=9"},
                 {PEL_FLOAT64, rp, NULL, v, 2, "col_idx must not be NULL"},
                 {PEL_FLOAT32, rp, ci, NULL, 2, "values must not be NULL"},
                 {PEL_FLOAT64, rp, ci, v, PEL_CSR_MAX_COLS + 1, "exceeds PEL_CSR_MAX_COLS"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pel_csr *m = (pel_csr *)(uintptr_t)0x4321;
        CU_ASSERT(pel_csr_create(cases[c].precision, 2, cases[c].cols, cases[c].rp, cases[c].ci, cases[c].v, &m) !=
                  PEL_OK);
        CU_ASSERT(strstr(pel_last_error(), cases[c].fragment) != NULL);
        CU_ASSERT_PTR_NULL(m);
    }
}

static void add_suites(void)
{
    static const pel_test_case creation[] = {
        {"shapes and export", test_create_shapes_and_export},
        {"sorting and summed duplicates", test_create_sorts_and_sums_duplicates},
        {"every bad argument", test_create_errors},
        {"getters and destroy accept NULL", test_getters_and_destroy_accept_null},
        {NULL, NULL},
    };
    static const pel_test_case spmv[] = {
        {"against a dense reference, alpha/beta cases", test_spmv_against_dense_reference},
        {"float", test_spmv_float},
        {"bit-identical for 1..4 threads", test_products_bit_identical_for_any_thread_count},
        {"partition balances nonzeros", test_partition_balances_nonzeros},
        {"automatic thread count, same bits", test_automatic_thread_count_same_bits},
        {"shared matrix, concurrent calls", test_shared_matrix_concurrent_calls},
        {"every bad argument", test_spmv_errors},
        {NULL, NULL},
    };
    static const pel_test_case spmm[] = {
        {"columns equal SpMV, both layouts, padded ld", test_spmm_matches_spmv_columns},
        {"float, both layouts", test_spmm_float},
        {"beta = 0 and alpha = 0", test_spmm_beta_zero_and_alpha_zero},
        {"every bad argument", test_spmm_errors},
        {NULL, NULL},
    };
    static const pel_test_case narrow_index[] = {
        {"offset helpers at the int16 edges, huge rows", test_offset_helpers_at_the_edges},
        {"banded: every part narrow", test_narrow_index_banded},
        {"far columns in some parts: mixed", test_narrow_index_mixed},
        {"offsets -32768/32767 and one beyond", test_narrow_index_int16_edges},
        {"rectangular, empty, far-off", test_narrow_index_rectangular_and_empty},
        {NULL, NULL},
    };
    static const pel_test_case reliability[] = {
        {"cols = 0 with x = NULL", test_products_with_no_columns_and_null_x},
        {"handles: NULL, destroyed, foreign", test_csr_handles},
        {"out-argument of pel_csr_create", test_csr_create_out_argument},
        {NULL, NULL},
    };
    pel_test_add_suite("csr creation", creation);
    pel_test_add_suite("spmv", spmv);
    pel_test_add_suite("spmm", spmm);
    pel_test_add_suite("compressed column index", narrow_index);
    pel_test_add_suite("reliability", reliability);
}

int main(void)
{
    return pel_test_main("test_sparse", add_suites);
}
