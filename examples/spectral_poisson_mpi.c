/* A periodic Poisson problem -Laplace(u) = f on the box [0, 2 pi)^3, solved
 * over MPI ranks two ways:
 *
 *  1. pel's distributed spectral solver (FFTW-MPI slabs; the division by the
 *     symbol happens on the transposed spectrum, between an r2c transform
 *     that leaves its output transposed and a c2r transform that takes it
 *     back), with the exact symbol |k|^2: the result is the analytic
 *     solution up to rounding, checked here;
 *  2. the same discrete problem as pel's Jacobi solver (the second-order
 *     symbol), once spectrally and once by pel_dgrid_jacobi_poisson() to a
 *     relative residual of 1e-8: the two must agree, and the example prints
 *     the time each took.
 *
 *   mpirun -np 2 examples/spectral_poisson_mpi [n0 n1 n2]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>

#include <pel.h>
#include <pel/mpi.h>

static const double two_pi = 6.28318530717958647692;

/* The right-hand side and the continuous solution: a few Fourier modes. */
static double rhs(const double *x, double *u)
{
    double a = sin(x[0]) * cos(2 * x[1]), b = cos(x[2] - 0.4), c = sin(x[0] + x[1] + 2 * x[2]);
    *u = a / 5.0 + 0.5 * b + 0.25 * c / 6.0;
    return a + 0.5 * b + 0.25 * c;
}

/* Gathers every rank's slab rows (padded to `pad` reals) into the whole
 * grid on rank 0, unpadded. */
static void gather_slabs(const pel_mpi_fft_layout *l, const size_t *dims, const double *slab, double *whole,
                         int size)
{
    size_t row = dims[1] * dims[2], rows = l->in_dims[0], pad = l->in_dims[2];
    double *packed = malloc((rows * row + 1) * sizeof *packed);
    int *counts = malloc((size_t)size * sizeof *counts), *displs = malloc((size_t)size * sizeof *displs);
    int mine = (int)(rows * row);

    for (size_t r = 0; r < rows * dims[1]; r++)
        memcpy(packed + r * dims[2], slab + r * pad, dims[2] * sizeof *slab);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    for (int r = 0, at = 0; rank == 0 && r < size; r++) { /* counts are the root's only */
        displs[r] = at;
        at += counts[r];
    }
    MPI_Gatherv(packed, mine, MPI_DOUBLE, whole, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(packed);
    free(counts);
    free(displs);
}

int main(int argc, char **argv)
{
    size_t dims[3] = {16, 12, 20}, n;
    const double L[3] = {two_pi, two_pi, two_pi}, tolerance = 1e-8;
    pel_boundary faces[6];
    pel_mpi_spectral *exact = NULL, *fd2 = NULL;
    pel_mpi_fft_layout l;
    pel_dgrid *grid = NULL;
    double *f = NULL, *u = NULL, *field = NULL, *whole = NULL, *jacobi = NULL, *ul = NULL, *fl = NULL;
    double t_spectral = 0, t_jacobi = 0, residual = 0, err_exact = 0, diff = 0, umax = 0, fmax_abs = 0;
    double spacing[3];
    size_t iterations = 0;
    int provided, rank, size, failed = 0;
    pel_status st;

    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc == 4)
        for (int a = 0; a < 3; a++)
            dims[a] = (size_t)strtoul(argv[1 + a], NULL, 10);
    n = dims[0] * dims[1] * dims[2];
    for (int a = 0; a < 3; a++) {
        spacing[a] = L[a] / (double)dims[a];
        faces[2 * a].kind = faces[2 * a + 1].kind = PEL_BOUNDARY_PERIODIC;
        faces[2 * a].value = faces[2 * a + 1].value = 0.0;
    }
    f = malloc(n * sizeof *f);
    u = malloc(n * sizeof *u);
    whole = malloc(n * sizeof *whole);
    jacobi = malloc(n * sizeof *jacobi);
    for (size_t p = 0; p < n; p++) {
        size_t i = p / (dims[1] * dims[2]), j = (p / dims[2]) % dims[1], k = p % dims[2];
        double x[3] = {(double)i * spacing[0], (double)j * spacing[1], (double)k * spacing[2]};
        f[p] = rhs(x, &u[p]);
        umax = fmax(umax, fabs(u[p]));
        fmax_abs = fmax(fmax_abs, fabs(f[p]));
    }

    /* 1. Spectral, exact symbol, against the analytic solution. */
    st = pel_mpi_spectral_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, L, PEL_SPECTRAL_EXACT, NULL, &exact);
    if (st == PEL_OK)
        st = pel_mpi_spectral_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, L, PEL_SPECTRAL_FD2, NULL, &fd2);
    if (st == PEL_OK)
        st = pel_mpi_spectral_layout(exact, &l);
    if (st == PEL_OK && (field = pel_malloc(l.alloc_bytes)) == NULL)
        st = PEL_ERROR_OUT_OF_MEMORY;
    if (st == PEL_OK) {
        /* This rank's slab: rows in_start.. of the first axis, last axis
         * padded to in_dims[2] reals. */
        for (size_t r = 0; r < l.in_dims[0] * dims[1]; r++)
            memcpy(field + r * l.in_dims[2], f + l.in_start * dims[1] * dims[2] + r * dims[2],
                   dims[2] * sizeof *f);
        st = pel_mpi_spectral_solve(exact, 0.0, field);
    }
    if (st == PEL_OK) {
        gather_slabs(&l, dims, field, whole, size);
        if (rank == 0)
            for (size_t p = 0; p < n; p++)
                err_exact = fmax(err_exact, fabs(whole[p] - u[p]));
    }

    /* 2. The discrete problem, spectrally (timed) and by Jacobi. */
    if (st == PEL_OK) {
        for (size_t r = 0; r < l.in_dims[0] * dims[1]; r++)
            memcpy(field + r * l.in_dims[2], f + l.in_start * dims[1] * dims[2] + r * dims[2],
                   dims[2] * sizeof *f);
        MPI_Barrier(MPI_COMM_WORLD);
        t_spectral = MPI_Wtime();
        st = pel_mpi_spectral_solve(fd2, 0.0, field);
        t_spectral = MPI_Wtime() - t_spectral;
    }
    if (st == PEL_OK) {
        gather_slabs(&l, dims, field, whole, size);
        st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, NULL, faces, &grid);
    }
    if (st == PEL_OK)
        st = pel_dgrid_local_alloc(grid, (void **)&ul);
    if (st == PEL_OK)
        st = pel_dgrid_local_alloc(grid, (void **)&fl);
    if (st == PEL_OK)
        st = pel_dgrid_scatter(grid, 0, f, fl);
    if (st == PEL_OK) {
        MPI_Barrier(MPI_COMM_WORLD);
        t_jacobi = MPI_Wtime();
        st = pel_dgrid_jacobi_poisson(grid, spacing, ul, fl, tolerance, 100000, 0, &iterations, &residual);
        t_jacobi = MPI_Wtime() - t_jacobi;
    }
    if (st == PEL_OK)
        st = pel_dgrid_gather(grid, 0, ul, jacobi);
    if (st != PEL_OK) {
        fprintf(stderr, "spectral_poisson_mpi (rank %d): %s\n", rank, pel_last_error());
        failed = 1;
    } else if (rank == 0) {
        /* Jacobi stops at a relative residual r = max|f + L_h u| / max|f|; the
         * error left is at most r max|f| / lambda_min, lambda_min the smallest
         * nonzero eigenvalue of -L_h, (4/h^2) sin^2(pi/n) along the coarsest
         * axis (about 1 here): 4x that is the check. */
        double lambda_min = INFINITY;
        for (int a = 0; a < 3; a++) {
            double s = sin(3.14159265358979323846 / (double)dims[a]);
            lambda_min = fmin(lambda_min, 4.0 * s * s / (spacing[a] * spacing[a]));
        }
        for (size_t p = 0; p < n; p++)
            diff = fmax(diff, fabs(jacobi[p] - whole[p]));
        if (err_exact > 1e-12 * (double)n * umax) {
            fprintf(stderr, "spectral_poisson_mpi: exact-symbol error %.3g is not rounding\n", err_exact);
            failed = 1;
        }
        if (diff > 4.0 * residual * fmax_abs / lambda_min + 1e-12) {
            fprintf(stderr, "spectral_poisson_mpi: Jacobi and the spectral solve differ by %.3g\n", diff);
            failed = 1;
        }
        printf("spectral_poisson_mpi: %zux%zux%zu on %d ranks: spectral (|k|^2) max error vs analytic %.2e; "
               "second-order problem: spectral %.2e s, Jacobi %zu iterations to residual %.1e in %.4f s "
               "(%.0fx), max difference %.2e\n",
               dims[0], dims[1], dims[2], size, err_exact, t_spectral, iterations, residual, t_jacobi,
               t_spectral > 0 ? t_jacobi / t_spectral : 0.0, diff);
    }
    MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
    pel_mpi_spectral_destroy(exact);
    pel_mpi_spectral_destroy(fd2);
    pel_dgrid_destroy(grid);
    pel_free(field);
    pel_free(ul);
    pel_free(fl);
    free(f);
    free(u);
    free(whole);
    free(jacobi);
    MPI_Finalize();
    return failed;
}
