/* The distributed CSR matrix under mpirun -np N (tests/mpi/run.sh: N = 1..4,
 * 1 and 2 threads per rank). Every rank builds the same whole matrix; the
 * reference is the serial pel_csr_spmv() of the whole matrix on every rank,
 * and each rank's block of the distributed product must have its bits
 * exactly (so the product has the same bits for every N and thread count
 * too). Matrices: a 3-D 7-point Laplacian with high-entropy coefficients, a
 * random matrix with unsorted rows, duplicates and empty rows, a power-law
 * matrix (a few very long rows and hub columns), a rectangular one, and
 * matrices with fewer rows than ranks (empty ranks). Splits: the caller's
 * (even, skewed with empty ranks) through pel_dcsr_create(), pel's balanced
 * one through pel_dcsr_distribute() and the Matrix Market path. Every bad
 * argument is given on one rank only: every rank must return the same
 * status and message, naming that rank, and none may hang (run.sh bounds
 * each run with timeout). */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "mpi_test.h"

static int rank, nranks;

/* lib/mpi/dcsr.c: -1 lets creation choose the second-phase kernel, 0 and
 * 1 force each of the two. */
extern int pel__dcsr_copy_x;
/* lib/mpi/dcsr.c: -1 lets creation choose between the two-phase and the
 * one-pass product (ranks with ghosts), 0 and 1 force each. */
extern int pel__dcsr_one_pass;

/* A whole matrix as the caller's arrays (rows in any order, duplicates). */
typedef struct triplets {
    size_t rows, cols, nnz;
    size_t *row_ptr, *col;
    double *val;
} triplets;

static void triplets_free(triplets *t)
{
    free(t->row_ptr);
    free(t->col);
    free(t->val);
}

static triplets laplacian(size_t nx, size_t ny, size_t nz)
{
    triplets t = {nx * ny * nz, nx * ny * nz, 0, NULL, NULL, NULL};
    t.row_ptr = malloc((t.rows + 1) * sizeof *t.row_ptr);
    t.col = malloc(7 * t.rows * sizeof *t.col);
    t.val = malloc(7 * t.rows * sizeof *t.val);
    t.row_ptr[0] = 0;
    for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < ny; j++)
            for (size_t k = 0; k < nz; k++) {
                size_t r = (i * ny + j) * nz + k;
                const long d[7][3] = {{-1, 0, 0}, {0, -1, 0}, {0, 0, -1}, {0, 0, 0}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0}};
                for (int s = 0; s < 7; s++) {
                    long a = (long)i + d[s][0], b = (long)j + d[s][1], c = (long)k + d[s][2];
                    if (a < 0 || b < 0 || c < 0 || a >= (long)nx || b >= (long)ny || c >= (long)nz)
                        continue;
                    t.col[t.nnz] = ((size_t)a * ny + (size_t)b) * nz + (size_t)c;
                    t.val[t.nnz++] = s == 3 ? 6.0 + 0.385 * (double)(r % 7) : -1.0 - 0.0625 * (double)(s + r % 3);
                }
                t.row_ptr[r + 1] = t.nnz;
            }
    return t;
}

/* Random rows: lengths from len(i), columns uniform (unsorted, with
 * duplicates), values high-entropy; every fifth row is empty. */
static triplets random_matrix(size_t rows, size_t cols, size_t max_len, int power_law, uint64_t seed)
{
    triplets t = {rows, cols, 0, NULL, NULL, NULL};
    size_t cap = 16;
    t.row_ptr = malloc((rows + 1) * sizeof *t.row_ptr);
    t.col = malloc(cap * sizeof *t.col);
    t.val = malloc(cap * sizeof *t.val);
    t.row_ptr[0] = 0;
    for (size_t r = 0; r < rows; r++) {
        size_t len;
        if (power_law) /* row r has about max_len / (r+1)^1.2 entries, and hub columns */
            len = (size_t)((double)max_len / pow((double)((r * 7919) % rows + 1), 1.2)) + 1;
        else
            len = r % 5 == 4 ? 0 : (size_t)(pel_mpi_test_next(&seed) % (max_len + 1));
        for (size_t e = 0; e < len; e++) {
            uint64_t u = pel_mpi_test_next(&seed);
            if (t.nnz == cap) {
                cap *= 2;
                t.col = realloc(t.col, cap * sizeof *t.col);
                t.val = realloc(t.val, cap * sizeof *t.val);
            }
            /* Power law: half the entries land in the first 1% of columns. */
            t.col[t.nnz] = power_law && (u & 1) ? (size_t)(u >> 8) % (cols / 100 + 1) : (size_t)(u >> 8) % cols;
            t.val[t.nnz++] = pel_mpi_test_uniform(&seed) * 2.385;
        }
        t.row_ptr[r + 1] = t.nnz;
    }
    return t;
}

static void *vector(pel_precision p, size_t n, uint64_t seed)
{
    void *x = malloc((n ? n : 1) * (p == PEL_FLOAT32 ? sizeof(float) : sizeof(double)));
    for (size_t i = 0; i < n; i++) {
        double v = pel_mpi_test_uniform(&seed);
        if (p == PEL_FLOAT32)
            ((float *)x)[i] = (float)v;
        else
            ((double *)x)[i] = v;
    }
    return x;
}

/* The caller's split of n items: even (kind 0), or skewed (kind 1): rank 0
 * gets half, rank 1 none, the rest evenly. */
static void split(size_t n, int kind, size_t *starts)
{
    starts[0] = 0;
    for (int r = 0; r < nranks; r++) {
        size_t share;
        if (kind == 0 || nranks == 1)
            share = n / (size_t)nranks + ((size_t)r < n % (size_t)nranks);
        else if (r == 0)
            share = n / 2;
        else if (r == 1)
            share = 0;
        else {
            size_t rest = n - n / 2;
            int others = nranks - 2;
            share = rest / (size_t)others + ((size_t)(r - 2) < rest % (size_t)others);
        }
        starts[r + 1] = starts[r] + share;
    }
    if (nranks == 2 && kind == 1)
        starts[2] = n; /* two ranks: rank 0 half, rank 1 the other half */
}

/* The product through `a` against the serial one, for several (alpha,
 * beta), beta = 0 with NaN in y among them. */
static void compare_products(pel_dcsr *a, const pel_csr *serial, pel_precision p, const char *what)
{
    const double scalars[4][2] = {{1.0, 0.0}, {-0.3125, 2.385}, {0.0, 0.5}, {1.7, 1.0}};
    size_t es = p == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    pel_dcsr_layout L;
    void *x, *xl, *yref, *y;

    CHECK(pel_dcsr_info(a, &L) == PEL_OK, "%s: info", what);
    CHECK(L.global_rows == pel_csr_rows(serial) && L.global_cols == pel_csr_cols(serial), "%s: global shape", what);
    x = vector(p, L.global_cols, 99);
    xl = (char *)x + L.col_start * es;
    for (int s = 0; s < 4; s++) {
        yref = vector(p, L.global_rows, 7 + (uint64_t)s);
        y = malloc((L.local_rows ? L.local_rows : 1) * es);
        memcpy(y, (char *)yref + L.row_start * es, L.local_rows * es);
        if (scalars[s][1] == 0.0) { /* beta = 0: NaN in y must not leak */
            for (size_t i = 0; i < L.local_rows; i++) {
                if (p == PEL_FLOAT32)
                    ((float *)y)[i] = NAN;
                else
                    ((double *)y)[i] = NAN;
            }
        }
        CHECK(pel_csr_spmv(serial, scalars[s][0], x, scalars[s][1], yref) == PEL_OK, "%s: serial", what);
        CHECK(pel_dcsr_spmv(a, scalars[s][0], xl, scalars[s][1], y) == PEL_OK, "%s: spmv", what);
        CHECK(memcmp(y, (char *)yref + L.row_start * es, L.local_rows * es) == 0,
              "%s: alpha=%g beta=%g: rows %zu..%zu bit-identical to serial pel_csr_spmv", what, scalars[s][0],
              scalars[s][1], L.row_start, L.row_start + L.local_rows);
        /* The same call again (persistent requests restarted). */
        if (s == 0) {
            CHECK(pel_dcsr_spmv(a, scalars[s][0], xl, scalars[s][1], y) == PEL_OK, "%s: second spmv", what);
            CHECK(memcmp(y, (char *)yref + L.row_start * es, L.local_rows * es) == 0, "%s: second product", what);
        }
        free(yref);
        free(y);
    }
    free(x);
}

/* One whole matrix through every path. */
static void check_matrix(const triplets *t, pel_precision p, const char *what)
{
    size_t starts[65], cstarts[65];
    size_t es = p == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    void *values = malloc((t->nnz ? t->nnz : 1) * es);
    pel_csr *serial = NULL;
    pel_dcsr *a = NULL;
    pel_dcsr_layout L;
    char label[96];

    for (size_t k = 0; k < t->nnz; k++) {
        if (p == PEL_FLOAT32)
            ((float *)values)[k] = (float)t->val[k];
        else
            ((double *)values)[k] = t->val[k];
    }
    CHECK(pel_csr_create(p, t->rows, t->cols, t->row_ptr, t->col, values, &serial) == PEL_OK, "%s: serial", what);
    /* The caller's splits: the rank's rows with global columns, their
     * row pointers rebased to 0. */
    for (int kind = 0; kind < 2; kind++) {
        size_t b, e, *ptr;
        split(t->rows, kind, starts);
        split(t->cols, kind, cstarts);
        b = starts[rank];
        e = starts[rank + 1];
        ptr = malloc((e - b + 1) * sizeof *ptr);
        for (size_t i = b; i <= e; i++)
            ptr[i - b] = t->row_ptr[i] - t->row_ptr[b];
        CHECK(pel_dcsr_create(MPI_COMM_WORLD, p, e - b, cstarts[rank + 1] - cstarts[rank], ptr,
                              t->col + t->row_ptr[b], (char *)values + t->row_ptr[b] * es, &a) == PEL_OK,
              "%s: create, split %d", what, kind);
        CHECK(pel_dcsr_info(a, &L) == PEL_OK && L.row_start == b && L.local_rows == e - b &&
                  L.col_start == cstarts[rank],
              "%s: the caller's split %d is kept", what, kind);
        snprintf(label, sizeof label, "%s (create, split %d)", what, kind);
        compare_products(a, serial, p, label);
        pel_dcsr_destroy(a);
        free(ptr);
    }
    /* pel's split from a serial matrix on the last rank. */
    CHECK(pel_dcsr_distribute(MPI_COMM_WORLD, nranks - 1, rank == nranks - 1 ? serial : NULL, NULL, &a) == PEL_OK,
          "%s: distribute", what);
    snprintf(label, sizeof label, "%s (distribute)", what);
    compare_products(a, serial, p, label);
    {
        /* The balanced split: no rank holds more than its share of the
         * weight plus one row's. */
        unsigned long long w, wmax, longest = 0;
        pel_dcsr_info(a, &L);
        w = L.local_nnz + 2 * L.local_rows;
        for (size_t i = 0; i < t->rows; i++)
            if (t->row_ptr[i + 1] - t->row_ptr[i] > longest)
                longest = t->row_ptr[i + 1] - t->row_ptr[i];
        MPI_Allreduce(&w, &wmax, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
        CHECK(wmax <= (pel_csr_nnz(serial) + 2 * t->rows) / (size_t)nranks + longest + 2 + 1,
              "%s: balanced split, heaviest rank %llu", what, wmax);
    }
    pel_dcsr_destroy(a);
    /* A caller-given split through distribute: the skewed one. */
    split(t->rows, 1, starts);
    CHECK(pel_dcsr_distribute(MPI_COMM_WORLD, 0, rank == 0 ? serial : NULL, rank == 0 ? starts : NULL, &a) == PEL_OK,
          "%s: distribute with row_starts", what);
    CHECK(pel_dcsr_info(a, &L) == PEL_OK && L.row_start == starts[rank] &&
              L.local_rows == starts[rank + 1] - starts[rank],
          "%s: row_starts kept", what);
    snprintf(label, sizeof label, "%s (distribute, row_starts)", what);
    compare_products(a, serial, p, label);
    pel_dcsr_destroy(a);
    pel_csr_destroy(serial);
    free(values);
}

static void test_matrices(void)
{
    size_t live_before = pel__handle_live_count();
    triplets t;

    t = laplacian(9, 8, 7);
    check_matrix(&t, PEL_FLOAT64, "laplacian 9x8x7");
    for (int mode = 0; mode < 2; mode++) {
        pel__dcsr_copy_x = mode;
        check_matrix(&t, PEL_FLOAT64, mode ? "laplacian 9x8x7 (x copied)" : "laplacian 9x8x7 (x not copied)");
    }
    pel__dcsr_copy_x = -1;
    pel__dcsr_one_pass = 1;
    check_matrix(&t, PEL_FLOAT64, "laplacian 9x8x7 (one pass)");
    check_matrix(&t, PEL_FLOAT32, "laplacian 9x8x7 float (one pass)");
    pel__dcsr_one_pass = -1;
    check_matrix(&t, PEL_FLOAT32, "laplacian 9x8x7 float");
    triplets_free(&t);
    t = random_matrix(101, 101, 12, 0, 42);
    check_matrix(&t, PEL_FLOAT64, "random 101");
    check_matrix(&t, PEL_FLOAT32, "random 101 float");
    pel__dcsr_one_pass = 1; /* empty rows, unsorted input, duplicates */
    check_matrix(&t, PEL_FLOAT32, "random 101 float (one pass)");
    pel__dcsr_one_pass = -1;
    triplets_free(&t);
    t = random_matrix(300, 300, 250, 1, 43);
    check_matrix(&t, PEL_FLOAT64, "power-law 300");
    pel__dcsr_copy_x = 0;
    check_matrix(&t, PEL_FLOAT64, "power-law 300 (x not copied)");
    pel__dcsr_copy_x = -1;
    for (int mode = 0; mode < 2; mode++) {
        pel__dcsr_one_pass = mode;
        check_matrix(&t, PEL_FLOAT64, mode ? "power-law 300 (one pass)" : "power-law 300 (two phases)");
    }
    pel__dcsr_one_pass = -1;
    triplets_free(&t);
    t = random_matrix(60, 85, 9, 0, 44);
    check_matrix(&t, PEL_FLOAT64, "rectangular 60x85");
    triplets_free(&t);
    t = random_matrix(3, 3, 3, 0, 45); /* fewer rows than ranks at -np 4 */
    check_matrix(&t, PEL_FLOAT64, "3x3 (empty ranks)");
    triplets_free(&t);
    t = random_matrix(0, 0, 0, 0, 46);
    check_matrix(&t, PEL_FLOAT64, "0x0");
    triplets_free(&t);
    pel_mpi_test_no_leak(live_before);
}

/* The Matrix Market path: rank 0 writes a power-law matrix, every rank
 * reads it through pel_dcsr_read_mtx(), and a symmetric file tests the
 * reader's fill-in. */
static void test_mtx(void)
{
    triplets t = random_matrix(200, 200, 150, 1, 47);
    pel_csr *serial = NULL;
    pel_dcsr *a = NULL;
    char path[128];
    int pid = (int)getpid();

    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    snprintf(path, sizeof path, "%s/pel_dcsr_%d.mtx", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", pid);
    CHECK(pel_csr_create(PEL_FLOAT64, t.rows, t.cols, t.row_ptr, t.col, t.val, &serial) == PEL_OK, "serial");
    if (rank == 0)
        CHECK(pel_csr_write_mtx(serial, path) == PEL_OK, "write %s", path);
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(pel_dcsr_read_mtx(MPI_COMM_WORLD, rank == 0 ? path : NULL, PEL_FLOAT64, &a) == PEL_OK, "read_mtx");
    compare_products(a, serial, PEL_FLOAT64, "mtx power-law 200");
    pel_dcsr_destroy(a);
    pel_csr_destroy(serial);
    if (rank == 0) {
        /* Symmetric: the upper triangle is filled in by the serial reader. */
        static const char text[] = "%%MatrixMarket matrix coordinate real symmetric\n5 5 6\n1 1 4.5\n2 1 -1.25\n"
                                   "3 3 2.385\n5 2 0.75\n4 4 1\n5 5 -3.5\n";
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        CHECK(pel_csr_read_mtx(path, PEL_FLOAT32, &serial) == PEL_OK, "serial read");
    }
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(pel_dcsr_read_mtx(MPI_COMM_WORLD, path, PEL_FLOAT32, &a) == PEL_OK, "read symmetric");
    {
        /* Every rank needs the serial matrix for the reference: read it. */
        if (rank != 0)
            CHECK(pel_csr_read_mtx(path, PEL_FLOAT32, &serial) == PEL_OK, "serial read");
        compare_products(a, serial, PEL_FLOAT32, "mtx symmetric 5 float");
        pel_csr_destroy(serial);
    }
    pel_dcsr_destroy(a);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        unlink(path);
    triplets_free(&t);
}

/* ------------------------------------------------------------ errors */

static void expect_all(pel_status got, pel_status expected, const char *function, int bad_rank, const char *fragment)
{
    pel_mpi_test_expect_all(got, expected, function, bad_rank, fragment);
}

static void test_errors(void)
{
    const int bad = nranks - 1, me_bad = rank == bad;
    size_t live_before = pel__handle_live_count();
    /* Each rank: 4 rows of a 4*nranks square matrix, a tridiagonal block. */
    size_t n = 4, N = 4 * (size_t)nranks, ptr[5], col[12], bad_col[12], bad_ptr[5];
    double val[12], *x, *y, *copy;
    pel_dcsr *a = NULL, *b = (pel_dcsr *)&ptr;
    pel_csr *serial = NULL;
    size_t nnz = 0;
    pel_status st;

    ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t g = (size_t)rank * n + i;
        for (long d = -1; d <= 1; d++)
            if ((long)g + d >= 0 && (long)g + d < (long)N) {
                col[nnz] = (size_t)((long)g + d);
                val[nnz++] = d == 0 ? 2.385 : -0.75;
            }
        ptr[i + 1] = nnz;
    }
    memcpy(bad_col, col, sizeof col);
    bad_col[1] = N; /* out of range */
    memcpy(bad_ptr, ptr, sizeof ptr);
    bad_ptr[0] = 1;

    st = pel_dcsr_create(MPI_COMM_WORLD, PEL_FLOAT64, n, n, ptr, me_bad ? bad_col : col, val, &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_create", bad, "col_idx[1]");
    CHECK(b == NULL, "*out set to NULL on error");
    st = pel_dcsr_create(MPI_COMM_WORLD, PEL_FLOAT64, n, n, me_bad ? bad_ptr : ptr, col, val, &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_create", bad, "row_ptr[0]=1");
    st = pel_dcsr_create(MPI_COMM_WORLD, PEL_FLOAT64, n, n, ptr, col, me_bad ? NULL : val, &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_create", bad, "values must not be NULL");
    st = pel_dcsr_create(MPI_COMM_WORLD, PEL_FLOAT64, n, n, ptr, col, val, me_bad ? NULL : &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_create", bad, "out must not be NULL");
    st = pel_dcsr_create(MPI_COMM_WORLD, me_bad ? (pel_precision)9 : PEL_FLOAT64, n, n, ptr, col, val, &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_create", bad, "precision=9");
    if (nranks > 1) {
        st = pel_dcsr_create(MPI_COMM_WORLD, me_bad ? PEL_FLOAT32 : PEL_FLOAT64, n, n, ptr, col, val, &b);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_create", -1, "precision must be equal");
    }
    CHECK(pel_dcsr_create(MPI_COMM_NULL, PEL_FLOAT64, n, n, ptr, col, val, &b) == PEL_ERROR_INVALID_ARGUMENT &&
              b == NULL,
          "MPI_COMM_NULL refused locally");

    /* distribute */
    CHECK(pel_csr_create(PEL_FLOAT64, 3, 3, (size_t[]){0, 1, 2, 3}, (size_t[]){0, 1, 2}, (double[]){1, 2, 3},
                         &serial) == PEL_OK,
          "serial");
    st = pel_dcsr_distribute(MPI_COMM_WORLD, me_bad ? nranks : 0, serial, NULL, &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_distribute", bad, "root=");
    if (nranks > 1) {
        st = pel_dcsr_distribute(MPI_COMM_WORLD, me_bad ? 0 : bad, serial, NULL, &b);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_distribute", -1, "root must be equal");
    }
    st = pel_dcsr_distribute(MPI_COMM_WORLD, bad, me_bad ? NULL : serial, NULL, &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_distribute", bad, "matrix");
    {
        size_t rs[65];
        for (int r = 0; r <= nranks; r++)
            rs[r] = r == nranks ? 2 : 0; /* ends at 2, not 3 */
        st = pel_dcsr_distribute(MPI_COMM_WORLD, bad, serial, rs, &b);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_distribute", bad, "row count 3");
    }
    st = pel_dcsr_distribute(MPI_COMM_WORLD, bad, serial, NULL, me_bad ? NULL : &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_distribute", bad, "out must not be NULL");
    pel_csr_destroy(serial);

    /* read_mtx: the reader's errors on rank 0 are every rank's */
    st = pel_dcsr_read_mtx(MPI_COMM_WORLD, NULL, PEL_FLOAT64, &b);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_read_mtx", 0, "path");
    st = pel_dcsr_read_mtx(MPI_COMM_WORLD, "/nonexistent/pel_dcsr.mtx", PEL_FLOAT64, &b);
    expect_all(st, PEL_ERROR_IO, "pel_dcsr_read_mtx", 0, "/nonexistent/pel_dcsr.mtx");
    CHECK(b == NULL, "*out NULL after a failed read");

    /* spmv */
    CHECK(pel_dcsr_create(MPI_COMM_WORLD, PEL_FLOAT64, n, n, ptr, col, val, &a) == PEL_OK, "create");
    x = malloc(2 * n * sizeof *x);
    y = x + n;
    copy = malloc(n * sizeof *copy);
    for (size_t i = 0; i < n; i++) {
        x[i] = 0.5 + (double)i;
        y[i] = copy[i] = -1.25 * (double)i;
    }
    st = pel_dcsr_spmv(a, 1.0, me_bad ? NULL : x, 0.0, y);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_spmv", bad, "x_local must not be NULL");
    st = pel_dcsr_spmv(a, 1.0, x, 0.0, me_bad ? NULL : y);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_spmv", bad, "y_local must not be NULL");
    st = pel_dcsr_spmv(a, 1.0, x, 0.0, me_bad ? x + 1 : y);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_spmv", bad, "overlap");
    st = pel_dcsr_spmv(me_bad ? NULL : a, 1.0, x, 0.0, y);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_spmv", bad, "matrix");
    if (nranks > 1) {
        st = pel_dcsr_spmv(a, me_bad ? 2.0 : 1.0, x, 0.0, y);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_spmv", -1, "alpha must be equal");
        st = pel_dcsr_spmv(a, 1.0, x, me_bad ? NAN : 0.0, y);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dcsr_spmv", -1, "beta must be equal");
    }
    CHECK(memcmp(copy, y, n * sizeof *y) == 0, "y untouched by failed products");
    CHECK(pel_dcsr_spmv(a, NAN, x, NAN, y) == PEL_OK, "NaN alpha and beta agreed on every rank");
    CHECK(pel_dcsr_info(NULL, &(pel_dcsr_layout){0}) == PEL_ERROR_INVALID_ARGUMENT, "info NULL matrix");
    CHECK(pel_dcsr_info(a, NULL) == PEL_ERROR_INVALID_ARGUMENT, "info NULL layout");
    pel_dcsr_destroy(a);
    pel_dcsr_destroy(NULL);
    CHECK(pel_dcsr_info(a, &(pel_dcsr_layout){0}) == PEL_ERROR_INVALID_ARGUMENT, "info on a destroyed matrix");
    free(x);
    free(copy);
    pel_mpi_test_no_leak(live_before);
}

/* A bad handle on every rank while several matrices are alive: a foreign
 * pointer (a stack object cast to pel_dcsr *), a destroyed matrix and NULL.
 * Every call fails at once on every rank (no rank can tell which live
 * matrix's communicator the others would use, and none of them asks: no
 * MPI call, so no hang), names the function and the argument, leaves y
 * alone; destroy of a foreign pointer frees nothing; the live matrices
 * still give the serial product's bits afterwards. */
static void test_bad_handles_with_several_alive(void)
{
    triplets t = laplacian(5, 4, 3);
    size_t live_before = pel__handle_live_count();
    double x[64], y[64], copy[64];
    pel_csr *serial = NULL;
    pel_dcsr *live[2] = {NULL, NULL}, *gone = NULL, *bad[3];
    struct {
        uint64_t words[16];
    } impostor = {{0x5eed}};
    const char *names[3] = {"foreign", "destroyed", "NULL"};

    CHECK(pel_csr_create(PEL_FLOAT64, t.rows, t.cols, t.row_ptr, t.col, t.val, &serial) == PEL_OK, "serial");
    for (int m = 0; m < 2; m++)
        CHECK(pel_dcsr_distribute(MPI_COMM_WORLD, 0, rank == 0 ? serial : NULL, NULL, &live[m]) == PEL_OK,
              "distribute %d", m);
    CHECK(pel_dcsr_distribute(MPI_COMM_WORLD, 0, rank == 0 ? serial : NULL, NULL, &gone) == PEL_OK, "distribute");
    pel_dcsr_destroy(gone);
    bad[0] = (pel_dcsr *)&impostor;
    bad[1] = gone;
    bad[2] = NULL;
    for (int h = 0; h < 3; h++) {
        pel_status st;
        for (size_t i = 0; i < 64; i++) {
            x[i] = 0.5 + (double)i;
            y[i] = copy[i] = -1.25 * (double)i - 0.125;
        }
        st = pel_dcsr_spmv(bad[h], 1.0, x, 0.0, y);
        CHECK(st == PEL_ERROR_INVALID_ARGUMENT, "spmv on a %s handle: status %d", names[h], (int)st);
        CHECK(strncmp(pel_last_error(), "pel_dcsr_spmv", 13) == 0 && strstr(pel_last_error(), "matrix") != NULL,
              "spmv on a %s handle names the function and the matrix", names[h]);
        CHECK(memcmp(y, copy, sizeof y) == 0, "y untouched by spmv on a %s handle", names[h]);
        CHECK(pel_dcsr_info(bad[h], &(pel_dcsr_layout){0}) == PEL_ERROR_INVALID_ARGUMENT &&
                  strstr(pel_last_error(), "matrix") != NULL,
              "info on a %s handle fails and names the matrix", names[h]);
    }
    pel_dcsr_destroy(bad[0]); /* refused: frees nothing */
    pel_dcsr_destroy(gone);   /* a second destroy: refused */
    CHECK(pel__handle_live_count() == live_before + 3, "both matrices (and serial) still live: %zu",
          pel__handle_live_count());
    for (int m = 0; m < 2; m++) {
        compare_products(live[m], serial, PEL_FLOAT64, m ? "second live matrix after bad handles"
                                                         : "first live matrix after bad handles");
        pel_dcsr_destroy(live[m]);
    }
    pel_csr_destroy(serial);
    triplets_free(&t);
    pel_mpi_test_no_leak(live_before);
}

/* lib/sparse/csr.c: the banded window (columns) that classifies the
 * serial matrix's wide parts; tests set one so that small matrices have
 * banded parts. */
extern size_t pel__csr_banded_columns;

/* Both products now prefetch in every matrix (the distributed one since
 * the prefetch in scattered matrices gained too); with the window forced
 * wide enough for every matrix here, the serial reference is built with
 * banded parts, and the distributed product still gives its bits. */
static void test_banded_prefetch_same_bits(void)
{
    const size_t saved = pel__csr_banded_columns;
    triplets t = laplacian(9, 8, 7);

    pel__csr_banded_columns = (size_t)1 << 20;
    check_matrix(&t, PEL_FLOAT64, "laplacian 9x8x7, prefetching");
    check_matrix(&t, PEL_FLOAT32, "laplacian 9x8x7 float, prefetching");
    triplets_free(&t);
    t = random_matrix(300, 300, 250, 1, 77);
    check_matrix(&t, PEL_FLOAT64, "power law 300, prefetching");
    triplets_free(&t);
    pel__csr_banded_columns = saved;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    pel_mpi_test_init(&argc, &argv, &rank, &nranks);
    if (!only || strcmp(only, "matrices") == 0)
        test_matrices();
    if (!only || strcmp(only, "mtx") == 0)
        test_mtx();
    if (!only || strcmp(only, "errors") == 0)
        test_errors();
    if (!only || strcmp(only, "handles") == 0)
        test_bad_handles_with_several_alive();
    if (!only || strcmp(only, "prefetch") == 0)
        test_banded_prefetch_same_bits();
    return pel_mpi_test_end(argv[0]);
}
