/* The distributed Jacobi Poisson solver: the steps of
 * pel_stencil_jacobi_poisson() (lib/stencil/jacobi.c), with its very
 * stencils and max norm (pel__jacobi_stencil, pel__jacobi_max_abs), each
 * block of steps and each residual evaluation run by the distributed apply. Its
 * residual is a max norm, which is exact in any order, so the MPI_MAX
 * reduction over the ranks gives the single-process value bit for bit and
 * the iteration count with it. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "mpi/mpi_internal.h"
#include "stencil/stencil_internal.h"

#define FN "pel_dgrid_jacobi_poisson"

static int global_max_abs(const pel_dgrid *g, const void *x, double *result)
{
    double mine = pel__jacobi_max_abs(x, g->owned, g->precision);
    return MPI_Allreduce(&mine, result, 1, MPI_DOUBLE, MPI_MAX, g->comm) == MPI_SUCCESS;
}

pel_status pel_dgrid_jacobi_poisson(pel_dgrid *grid, const double *spacing, void *u, const void *f,
                                    double tolerance, size_t max_iterations, size_t check_interval,
                                    size_t *iterations, double *residual)
{
    pel_stencil *step = NULL, *laplacian = NULL;
    void *scratch = NULL;
    size_t done = 0, T_step = 1, T_res = 1;
    double f_norm = 1.0, res = HUGE_VAL, r;
    pel__mpi_same same[6];
    int nsame = 0;
    MPI_Comm comm;
    pel_status status = pel__mpi_ready(FN);

    if (status != PEL_OK)
        return status;
    comm = pel__dgrid_agreement_comm(grid);
    status = pel__dgrid_check(grid, FN);
    if (status == PEL_OK && spacing == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "spacing must not be NULL");
    if (status == PEL_OK && u == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "u must not be NULL");
    if (status == PEL_OK && f == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "f must not be NULL");
    if (status == PEL_OK && f == u)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "f must not be the same buffer as u");
    for (int a = 0; status == PEL_OK && a < grid->ndim; a++)
        if (!(isfinite(spacing[a]) && spacing[a] > 0))
            status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "spacing[%d]=%g is not finite and positive", a,
                               spacing[a]);
    if (status == PEL_OK && !(tolerance >= 0))
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "tolerance=%g is negative or NaN", tolerance);
    if (status == PEL_OK && max_iterations == 0)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "max_iterations=0: at least one step is needed");
    if (status == PEL_OK) {
        same[nsame++] = (pel__mpi_same){"tolerance", tolerance};
        same[nsame++] = (pel__mpi_same){"max_iterations", (double)max_iterations};
        same[nsame++] = (pel__mpi_same){"check_interval", (double)check_interval};
        for (int a = 0; a < grid->ndim; a++)
            same[nsame++] = (pel__mpi_same){"spacing", spacing[a]};
    }
    if (status == PEL_OK) {
        status = pel__jacobi_stencil(grid->precision, grid->ndim, spacing, 1, &step);
        if (status == PEL_OK)
            status = pel__jacobi_stencil(grid->precision, grid->ndim, spacing, 0, &laplacian);
        if (status == PEL_OK)
            status = pel_dgrid_local_alloc(grid, &scratch);
        if (status != PEL_OK)
            status = pel__fail(status, FN, "%s", pel_last_error());
    }
    if (comm == MPI_COMM_NULL)
        return status;
    status = pel__mpi_agree(comm, FN, status, same, nsame);
    if (status != PEL_OK)
        goto done;
    if (check_interval == 0)
        check_interval = 50;
    /* Validates u, f and the stencils against the grid on every rank, and
     * picks the halo depths (the model is measured once per grid). */
    status = pel__dgrid_prepare(grid, FN, step, u, f, check_interval, 0, &T_step);
    if (status == PEL_OK)
        status = pel__dgrid_prepare(grid, FN, laplacian, u, f, 1, 0, &T_res);
    if (status != PEL_OK)
        goto done;
    if (!global_max_abs(grid, f, &f_norm)) {
        status = pel__fail(PEL_ERROR_BACKEND, FN, "MPI_Allreduce of max|f| failed");
        goto done;
    }
    if (f_norm == 0.0)
        f_norm = 1.0;

    while (done < max_iterations) {
        size_t steps = max_iterations - done < check_interval ? max_iterations - done : check_interval;
        size_t T = T_step < steps ? T_step : steps;
        status = pel__dgrid_apply(grid, FN, step, u, u, f, steps, T, NULL);
        if (status != PEL_OK)
            goto done;
        done += steps;
        /* Residual f + Laplace_h(u) into scratch; u stays the iterate. */
        status = pel__dgrid_apply(grid, FN, laplacian, u, scratch, f, 1, T_res, NULL);
        if (status != PEL_OK)
            goto done;
        if (!global_max_abs(grid, scratch, &r)) {
            status = pel__fail(PEL_ERROR_BACKEND, FN, "MPI_Allreduce of the residual failed");
            goto done;
        }
        res = r / f_norm;
        if (res <= tolerance)
            break;
    }
    if (iterations)
        *iterations = done;
    if (residual)
        *residual = res;
    if (res > tolerance)
        status = pel__fail(PEL_ERROR_NOT_CONVERGED, FN, "residual %g after %zu iterations is above tolerance %g",
                           res, done, tolerance);
done:
    pel_free(scratch);
    pel_stencil_destroy(step);
    pel_stencil_destroy(laplacian);
    return status;
}
