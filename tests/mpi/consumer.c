/* An outside program built against the installed libpel_mpi with
 * `pkg-config --cflags --libs pel-mpi` (tests/install/check.sh): a
 * reproducible global sum and a distributed stencil step. */
#include <stdio.h>
#include <mpi.h>
#include <pel.h>
#include <pel/mpi.h>

int main(int argc, char **argv)
{
    int provided, rank, size, failed = 0;
    double x[3], sum = 0.0;
    size_t dims[1] = {16};
    pel_boundary faces[2] = {{PEL_BOUNDARY_PERIODIC, 0.0}, {PEL_BOUNDARY_PERIODIC, 0.0}};
    pel_stencil *stencil = NULL;
    pel_dgrid *grid = NULL;
    double *local = NULL;

    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int i = 0; i < 3; i++)
        x[i] = rank * 3 + i + 1;
    failed |= pel_mpi_reduce_sum(MPI_COMM_WORLD, x, 3, &sum) != PEL_OK;
    failed |= sum != 3.0 * size * (3.0 * size + 1) / 2.0;
    failed |= pel_stencil_create_laplacian(PEL_FLOAT64, 1, 3, 1.0, &stencil) != PEL_OK;
    failed |= pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 1, dims, NULL, faces, &grid) != PEL_OK;
    failed |= pel_dgrid_local_alloc(grid, (void **)&local) != PEL_OK;
    failed |= pel_dgrid_stencil_apply(grid, stencil, local, NULL, 4, 0, NULL) != PEL_OK;
    if (rank == 0)
        printf("pel-mpi consumer: sum %g over %d ranks, %s\n", sum, size, failed ? "FAILED" : "ok");
    pel_free(local);
    pel_dgrid_destroy(grid);
    pel_stencil_destroy(stencil);
    MPI_Finalize();
    return failed;
}
