/* A climate-style diffusion run over MPI ranks: temperature in a 3-D ocean
 * box of depth x latitude x longitude, periodic in longitude, no-flux
 * (Neumann) at the poles, a warm surface and a cold floor (Dirichlet), with
 * a heat source near the equator (the stencil's rhs term). The grid is split
 * over the ranks by pel, advanced with deep halos (pel picks the halo depth
 * from its latency/bandwidth/compute model), gathered on rank 0 and checked
 * bit for bit against the same run in one process.
 *
 *   mpirun -np 4 examples/heat3d_mpi [depth lat lon steps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>

#include <pel.h>
#include <pel/mpi.h>

int main(int argc, char **argv)
{
    size_t dims[3] = {16, 24, 48}, steps = 200, n, chosen = 0;
    /* Explicit Euler for u_t = kappa Laplace(u): lambda = kappa dt / h^2 must
     * stay below 1/6 in 3-D. */
    const double lambda = 0.12, source = 0.05;
    double c[7] = {lambda, lambda, lambda, 1.0 - 6.0 * lambda, lambda, lambda, lambda};
    pel_boundary faces[6] = {
        {PEL_BOUNDARY_DIRICHLET, 20.0}, {PEL_BOUNDARY_DIRICHLET, 2.0}, /* surface, floor */
        {PEL_BOUNDARY_NEUMANN, 0.0},    {PEL_BOUNDARY_NEUMANN, 0.0},   /* poles */
        {PEL_BOUNDARY_PERIODIC, 0.0},   {PEL_BOUNDARY_PERIODIC, 0.0}}; /* longitude */
    pel_stencil *stencil = NULL;
    pel_dgrid *grid = NULL;
    double *u = NULL, *heat = NULL, *ul = NULL, *hl = NULL, *gathered = NULL;
    int provided, rank, size, pd[3], failed = 0;
    pel_status st;

    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc == 5) {
        for (int a = 0; a < 3; a++)
            dims[a] = (size_t)strtoul(argv[1 + a], NULL, 10);
        steps = (size_t)strtoul(argv[4], NULL, 10);
    }
    n = dims[0] * dims[1] * dims[2];
    u = malloc(n * sizeof *u);
    heat = malloc(n * sizeof *heat);
    gathered = malloc(n * sizeof *gathered);
    /* Initial state: linear in depth; source strongest at the equator. */
    for (size_t i = 0; i < dims[0]; i++)
        for (size_t j = 0; j < dims[1]; j++)
            for (size_t k = 0; k < dims[2]; k++) {
                size_t p = (i * dims[1] + j) * dims[2] + k;
                double lat = ((double)j + 0.5) / (double)dims[1] - 0.5;
                u[p] = 20.0 - 18.0 * (double)i / (double)(dims[0] - 1);
                heat[p] = i < 3 ? source * (1.0 - 4.0 * lat * lat) : 0.0;
            }

    st = pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, c, 7, 1, 1.0, &stencil);
    if (st == PEL_OK)
        st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, NULL, faces, &grid);
    if (st == PEL_OK)
        st = pel_dgrid_local_alloc(grid, (void **)&ul);
    if (st == PEL_OK)
        st = pel_dgrid_local_alloc(grid, (void **)&hl);
    if (st == PEL_OK)
        st = pel_dgrid_scatter(grid, 0, u, ul);
    if (st == PEL_OK)
        st = pel_dgrid_scatter(grid, 0, heat, hl);
    if (st == PEL_OK)
        st = pel_dgrid_halo_steps(grid, stencil, steps, 0, &chosen);
    if (st == PEL_OK) {
        double t0 = MPI_Wtime();
        st = pel_dgrid_stencil_apply(grid, stencil, ul, hl, steps, 0, NULL);
        t0 = MPI_Wtime() - t0;
        if (st == PEL_OK && rank == 0) {
            pel_dgrid_info(grid, NULL, NULL, pd, NULL, NULL, NULL);
            printf("heat3d_mpi: %zux%zux%zu, %zu steps on %d ranks (process grid %dx%dx%d), halo depth T=%zu: "
                   "%.3f s\n",
                   dims[0], dims[1], dims[2], steps, size, pd[0], pd[1], pd[2], chosen, t0);
        }
    }
    if (st == PEL_OK)
        st = pel_dgrid_gather(grid, 0, ul, gathered);
    if (st != PEL_OK) {
        fprintf(stderr, "heat3d_mpi (rank %d): %s\n", rank, pel_last_error());
        failed = 1;
    } else if (rank == 0) {
        void *result;
        double mean = 0.0;
        st = pel_stencil_apply(stencil, dims, faces, u, NULL, heat, steps, NULL, &result);
        if (st != PEL_OK || memcmp(u, gathered, n * sizeof *u) != 0) {
            fprintf(stderr, "heat3d_mpi: the distributed run differs from the one-process run\n");
            failed = 1;
        }
        for (size_t p = 0; p < n; p++)
            mean += gathered[p];
        printf("heat3d_mpi: mean temperature %.6f, surface-equator %.4f, floor %.4f; %s one-process run bit for bit\n",
               mean / (double)n, gathered[(dims[1] / 2) * dims[2]], gathered[(dims[0] - 1) * dims[1] * dims[2]],
               failed ? "DIFFERS from the" : "equals the");
    }
    MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
    pel_free(ul);
    pel_free(hl);
    pel_dgrid_destroy(grid);
    pel_stencil_destroy(stencil);
    free(u);
    free(heat);
    free(gathered);
    MPI_Finalize();
    return failed;
}
