/* MPI not ready is a clear error on the calling rank, never a hang: before
 * MPI_Init, below MPI_THREAD_FUNNELED, from a thread other than the main one,
 * and after MPI_Finalize. Run under mpirun at 2 ranks by tests/mpi/run.sh. */
#include <omp.h>

#include "mpi_test.h"

int main(int argc, char **argv)
{
    double x[2] = {1.0, 2.0}, r = 5.0;
    size_t dims[1] = {8};
    pel_boundary faces[2] = {{PEL_BOUNDARY_DIRICHLET, 0.0}, {PEL_BOUNDARY_DIRICHLET, 0.0}};
    pel_dgrid *grid = (pel_dgrid *)0x1;
    int provided, failed_threads = 0;
    pel_status st;

    st = pel_mpi_reduce_sum(MPI_COMM_WORLD, x, 2, &r);
    CHECK(st == PEL_ERROR_INVALID_ARGUMENT && strstr(pel_last_error(), "pel_mpi_reduce_sum: MPI is not initialised"),
          "before MPI_Init");
    CHECK(r == 5.0, "result untouched");

    /* MPI_THREAD_SINGLE: Open MPI grants what is asked for. */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SINGLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &pel_mpi_test_rank);
    CHECK(provided < MPI_THREAD_FUNNELED, "this MPI gave thread level %d for MPI_THREAD_SINGLE", provided);
    st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 1, dims, NULL, faces, &grid);
    CHECK(st == PEL_ERROR_INVALID_ARGUMENT && strstr(pel_last_error(), "below MPI_THREAD_FUNNELED") && grid == NULL,
          "thread level");
    st = pel_mpi_dot(MPI_COMM_WORLD, x, x, 2, &r);
    CHECK(st == PEL_ERROR_INVALID_ARGUMENT && strstr(pel_last_error(), "MPI_THREAD_FUNNELED"), "dot, thread level");

    /* Not the main thread (the level check comes first, so only the
     * message's prefix is asserted here, and that no call blocks). */
#pragma omp parallel num_threads(2) reduction(+ : failed_threads)
    if (omp_get_thread_num() == 1) {
        double v = 0;
        failed_threads += pel_mpi_nrm2(MPI_COMM_WORLD, x, 2, &v) == PEL_ERROR_INVALID_ARGUMENT;
    }
    CHECK(failed_threads == 1 || omp_get_max_threads() == 1, "worker thread refused");

    {
        int rc = pel_mpi_test_finish(argv[0]);
        MPI_Finalize();
        st = pel_mpi_nrm2(MPI_COMM_WORLD, x, 2, &r);
        if (!(st == PEL_ERROR_INVALID_ARGUMENT && strstr(pel_last_error(), "finalised"))) {
            fprintf(stderr, "after MPI_Finalize: %s\n", pel_last_error());
            rc = 1;
        }
        return rc;
    }
}
