/* pel-bench-mpi kernel mpi-spmv: the distributed CSR product y = A*x,
 * pel_dcsr_spmv() against PETSc's MatMult on a MATMPIAIJ matrix holding the
 * same entries with the same row and column split, in the same rounds.
 *
 *   mpirun -np N pel-bench-mpi --kernel mpi-spmv [--size 2097152] [--threads 1,2]
 *
 * --size is the global row count: variant laplace3d takes the nearest cube
 * (128^3 for the default), variant powerlaw that many rows with about
 * L*(i+1)^-0.8 entries in row i (16 a row on average, hubs first, random
 * columns, as pel-bench's spmv kernel). Every rank generates only its own
 * rows (each row's columns and values come from a stream seeded by the
 * row), split by nonzeros as pel_dcsr_distribute() would, so no rank holds
 * the whole matrix. Each timed call is 10 products after a barrier; the
 * row reports seconds per product. PETSc (Debian's build) has no OpenMP
 * inside MatMult: its rows at 2 threads run one thread per rank, which the
 * row says. PETSc sums the diagonal block, then adds the off-diagonal one,
 * so its bits depend on the process count; the row reports the largest
 * relative difference from pel's. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>

#include "pel.h"
#include "pel/mpi.h"
#include "pel_bench.h"

#ifdef PEL_HAVE_PETSC
#include <petscmat.h>
#endif

#define PRODUCTS_PER_CALL 10

typedef struct spmv_mpi_case {
    pel_dcsr *matrix;
    double *x, *y;
#ifdef PEL_HAVE_PETSC
    Mat A;
    Vec px, py;
#endif
} spmv_mpi_case;

static int compare_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Length of row i of the power-law matrix of n rows. */
static size_t powerlaw_length(size_t i, size_t n)
{
    double scale = 16.0 * (double)n * 0.2 / (pow((double)n, 0.2) - 1.0);
    size_t len = (size_t)(scale * pow((double)(i + 1), -0.8));
    return len < 1 ? 1 : len > n / 2 ? n / 2 : len;
}

/* Row i (global) of a variant into cols/vals (sorted, distinct); returns its
 * length. cols/vals must hold the row's upper bound (7, or powerlaw_length). */
static size_t make_row(int powerlaw, size_t n, size_t side, size_t i, size_t *cols, double *vals)
{
    unsigned long long seed = 0x5eed0000ull + i;
    size_t len = 0;
    if (!powerlaw) {
        size_t z = i / (side * side), y = (i / side) % side, x = i % side;
        if (z > 0)
            cols[len++] = i - side * side;
        if (y > 0)
            cols[len++] = i - side;
        if (x > 0)
            cols[len++] = i - 1;
        cols[len++] = i;
        if (x + 1 < side)
            cols[len++] = i + 1;
        if (y + 1 < side)
            cols[len++] = i + side;
        if (z + 1 < side)
            cols[len++] = i + side * side;
    } else {
        size_t want = powerlaw_length(i, n), kept = 0;
        for (size_t k = 0; k < want; k++)
            cols[k] = (size_t)(pel_bench_next(&seed) % n);
        qsort(cols, want, sizeof *cols, compare_size);
        for (size_t k = 0; k < want; k++)
            if (kept == 0 || cols[kept - 1] != cols[k])
                cols[kept++] = cols[k];
        len = kept;
    }
    for (size_t k = 0; k < len; k++) /* high-entropy values, never zero */
        vals[k] = ((double)(pel_bench_next(&seed) >> 11) * 0x1p-53 + 0.25) * (cols[k] == i ? 6.0 : -1.0);
    return len;
}

/* The split by nonzeros (entries + 2 a row, pel's weight), from the row
 * lengths' upper bounds, which every rank computes alike. */
static void split_rows(int powerlaw, size_t n, int size, size_t *starts)
{
    double total = 0, done = 0;
    int r = 1;
    for (size_t i = 0; i < n; i++)
        total += (double)(powerlaw ? powerlaw_length(i, n) : 7) + 2.0;
    starts[0] = 0;
    for (size_t i = 0; i < n && r < size; i++) {
        while (r < size && done >= total * r / size)
            starts[r++] = i;
        done += (double)(powerlaw ? powerlaw_length(i, n) : 7) + 2.0;
    }
    while (r <= size)
        starts[r++] = n;
}

static void run_pel(void *arg)
{
    spmv_mpi_case *c = arg;
    MPI_Barrier(MPI_COMM_WORLD);
    for (int k = 0; k < PRODUCTS_PER_CALL; k++)
        if (pel_dcsr_spmv(c->matrix, 1.0, c->x, 0.0, c->y) != PEL_OK)
            fprintf(stderr, "pel-bench-mpi: %s\n", pel_last_error());
}

#ifdef PEL_HAVE_PETSC
static void run_petsc(void *arg)
{
    spmv_mpi_case *c = arg;
    MPI_Barrier(MPI_COMM_WORLD);
    for (int k = 0; k < PRODUCTS_PER_CALL; k++)
        MatMult(c->A, c->px, c->py);
}
#endif

static int run_variant(const pel_bench_context *context, int powerlaw, size_t rows)
{
    int rank, size;
    size_t side = (size_t)llround(cbrt((double)rows)), n, *starts, b, e, nnz = 0, cap;
    size_t *row_ptr, *cols;
    double *vals, t_pel = 0, t_petsc = 0, diff = 0;
    spmv_mpi_case c;
    pel_dcsr_layout L;
    char extra[512], size_text[64];
    const char *variant = powerlaw ? "powerlaw" : "laplace3d";

    memset(&c, 0, sizeof c);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    n = powerlaw ? rows : side * side * side;
    starts = malloc(((size_t)size + 1) * sizeof *starts);
    split_rows(powerlaw, n, size, starts);
    b = starts[rank];
    e = starts[rank + 1];
    cap = 0;
    for (size_t i = b; i < e; i++)
        cap += powerlaw ? powerlaw_length(i, n) : 7;
    row_ptr = malloc((e - b + 1) * sizeof *row_ptr);
    cols = malloc((cap ? cap : 1) * sizeof *cols);
    vals = malloc((cap ? cap : 1) * sizeof *vals);
    pel_bench_progress("mpi-spmv %s: %zu rows, generating rank rows", variant, n);
    row_ptr[0] = 0;
    for (size_t i = b; i < e; i++) {
        nnz += make_row(powerlaw, n, side, i, cols + nnz, vals + nnz);
        row_ptr[i - b + 1] = nnz;
    }
    if (pel_dcsr_create(MPI_COMM_WORLD, PEL_FLOAT64, e - b, e - b, row_ptr, cols, vals, &c.matrix) != PEL_OK) {
        fprintf(stderr, "pel-bench-mpi: %s\n", pel_last_error());
        return 1;
    }
    pel_dcsr_info(c.matrix, &L);
    c.x = pel_bench_random(L.local_cols, 31 + (unsigned long long)rank);
    c.y = pel_bench_random(L.local_rows, 37 + (unsigned long long)rank);
#ifdef PEL_HAVE_PETSC
    {
        PetscInt *d_nnz = malloc((e - b + 1) * sizeof *d_nnz), *o_nnz = malloc((e - b + 1) * sizeof *o_nnz);
        PetscInt *pc = malloc((cap ? cap : 1) * sizeof *pc);
        double *v;
        for (size_t i = 0; i < e - b; i++) {
            d_nnz[i] = o_nnz[i] = 0;
            for (size_t k = row_ptr[i]; k < row_ptr[i + 1]; k++) {
                if (cols[k] >= b && cols[k] < e)
                    d_nnz[i]++;
                else
                    o_nnz[i]++;
                pc[k] = (PetscInt)cols[k];
            }
        }
        MatCreateAIJ(PETSC_COMM_WORLD, (PetscInt)(e - b), (PetscInt)(e - b), (PetscInt)n, (PetscInt)n, 0, d_nnz, 0,
                     o_nnz, &c.A);
        for (size_t i = 0; i < e - b; i++) {
            PetscInt row = (PetscInt)(b + i);
            MatSetValues(c.A, 1, &row, (PetscInt)(row_ptr[i + 1] - row_ptr[i]), pc + row_ptr[i],
                         vals + row_ptr[i], INSERT_VALUES);
        }
        MatAssemblyBegin(c.A, MAT_FINAL_ASSEMBLY);
        MatAssemblyEnd(c.A, MAT_FINAL_ASSEMBLY);
        MatCreateVecs(c.A, &c.px, &c.py);
        VecGetArray(c.px, &v);
        memcpy(v, c.x, L.local_cols * sizeof *v);
        VecRestoreArray(c.px, &v);
        free(d_nnz);
        free(o_nnz);
        free(pc);
    }
#endif
    free(row_ptr);
    free(cols);
    free(vals);
    free(starts);
    pel_bench_progress("mpi-spmv %s: timing", variant);
#ifdef PEL_HAVE_PETSC
    pel_bench_compare(context->reps, run_pel, run_petsc, &c, &t_pel, &t_petsc);
    {
        const double *v;
        double local = 0;
        VecGetArrayRead(c.py, &v);
        for (size_t i = 0; i < L.local_rows; i++) {
            double d = fabs(v[i] - c.y[i]) / (fabs(c.y[i]) > 1e-300 ? fabs(c.y[i]) : 1.0);
            local = d > local ? d : local;
        }
        VecRestoreArrayRead(c.py, &v);
        MPI_Allreduce(&local, &diff, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    }
#else
    pel_bench_compare(context->reps, run_pel, NULL, &c, &t_pel, &t_petsc);
#endif
    t_pel /= PRODUCTS_PER_CALL;
    t_petsc /= PRODUCTS_PER_CALL;
    {
        unsigned long long in[3] = {L.local_nnz, L.ghost_cols, L.send_count}, sum[3];
        unsigned long long ghost_max, mine = L.ghost_cols;
        double bytes;
        MPI_Allreduce(in, sum, 3, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
        MPI_Allreduce(&mine, &ghost_max, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
        /* Compulsory bytes: values and 32-bit indices once, row pointers, x,
         * y, and the ghost values received. */
        bytes = (double)sum[0] * 12.0 + (double)n * 24.0 + (double)sum[1] * 8.0;
        snprintf(size_text, sizeof size_text, "%zu", n);
        snprintf(extra, sizeof extra,
                 "\"ranks\":%d,\"rows\":%zu,\"nnz\":%llu,\"ghost_values\":%llu,\"ghost_max_rank\":%llu,"
                 "\"ghost_bytes\":%.0f,\"max_rel_diff_petsc\":%.3g,\"petsc_threads\":1,\"oversubscribed\":%s",
                 size, n, sum[0], sum[1], ghost_max, 8.0 * (double)sum[2], diff,
                 size * context->threads > 2 ? "true" : "false");
        {
            pel_bench_row row = {"mpi-spmv", variant, size_text, context->threads, t_pel,
                                 2.0 * (double)sum[0] / t_pel * 1e-9, bytes / t_pel * 1e-9,
#ifdef PEL_HAVE_PETSC
                                 "PETSc MatMult (MATMPIAIJ, same entries and split)", t_petsc,
#else
                                 "none (configure found no PETSc)", 0.0,
#endif
                                 extra};
            pel_bench_emit(&row);
        }
    }
#ifdef PEL_HAVE_PETSC
    MatDestroy(&c.A);
    VecDestroy(&c.px);
    VecDestroy(&c.py);
#endif
    pel_free(c.x);
    pel_free(c.y);
    pel_dcsr_destroy(c.matrix);
    return 0;
}

static int run_mpi_spmv(const pel_bench_context *context)
{
    size_t rows;
    int failures = 0;
    if (pel_bench_parse_dims(context->size, &rows, 1) != 1 || rows < 8) {
        fprintf(stderr, "pel-bench-mpi: size '%s' is not a row count >= 8\n", context->size);
        return 1;
    }
    failures += run_variant(context, 0, rows);
    failures += run_variant(context, 1, rows);
    return failures;
}

const pel_bench_kernel pel_bench_sparse_kernels[] = {
    {"mpi-spmv",
     "distributed CSR SpMV (laplace3d: 7-point 3-D Laplacian, nearest cube of size rows; powerlaw: row lengths "
     "~ rank^-0.8, hubs first): pel_dcsr_spmv vs PETSc MatMult on MATMPIAIJ (run under mpirun)",
     "2097152", "32768", run_mpi_spmv},
    {NULL, NULL, NULL, NULL, NULL}};
