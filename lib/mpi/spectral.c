/* Distributed periodic Poisson / Helmholtz solver (issue 14): an in-place
 * r2c transform that leaves its output transposed, the division by the
 * symbol (with the inverse's 1/N) on that transposed slab, and the c2r
 * transform that takes it back: two global transposes instead of four and
 * one pass over the spectrum between the FFTs. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "fft/spectral.h"
#include "mpi/fft_internal.h"

enum { SOLVER_TAG = 0x70656c50 /* "pelP" */ };

struct pel_mpi_spectral {
    pel__handle handle; /* first member: PEL__HANDLE_OTHER */
    uint32_t tag;       /* SOLVER_TAG: tells a solver from other PEL__HANDLE_OTHER objects */
    pel_mpi_fft_plan *forward, *backward;
    int ndim;
    size_t dims[3];
    double lengths[3];
    pel_spectral_symbol symbol;
    double *work; /* the divisor tables of pel__spectral_divide() */
};

static pel_status check_solver(const pel_mpi_spectral *s, const char *fn)
{
    pel_status status = pel__handle_check(s, PEL__HANDLE_OTHER, -1, fn, "solver");
    if (status != PEL_OK)
        return status;
    if (s->tag != SOLVER_TAG)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "solver=%p is not a live pel_mpi_spectral", (void *)s);
    return PEL_OK;
}

pel_status pel_mpi_spectral_create(MPI_Comm comm, pel_precision precision, int ndim, const size_t *dims,
                                   const double *lengths, pel_spectral_symbol symbol,
                                   const pel_mpi_fft_options *options, pel_mpi_spectral **solver)
{
    const char *fn = "pel_mpi_spectral_create";
    pel_mpi_fft_options o = {0};
    pel_mpi_spectral *s = NULL;
    pel_status status;
    pel__mpi_same same[3];
    int ok_lengths;

    if (solver != NULL)
        *solver = NULL;
    status = pel__mpi_ready(fn);
    if (status != PEL_OK)
        return status;
    if (comm == MPI_COMM_NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "comm is MPI_COMM_NULL");
    if (options != NULL) {
        o.effort = options->effort;
        o.nthreads = options->nthreads;
    }
    ok_lengths = ndim >= 2 && ndim <= 3;
    status = ok_lengths ? pel__spectral_check(ndim, lengths, symbol, 0.0, fn)
                        : pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "ndim=%d is not 2 or 3", ndim);
    if (status == PEL_OK && solver == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "solver must not be NULL");
    for (int a = 0; a < 3; a++)
        same[a] = (pel__mpi_same){a == 0 ? "lengths[0]" : a == 1 ? "lengths[1]" : "lengths[2]",
                                  status == PEL_OK && a < ndim ? lengths[a] : 0.0};
    /* The plans' own agreement checks the rest (kind, dims, ...); this one
     * covers what they do not see, and a bad solver pointer. */
    status = pel__mpi_agree(comm, fn, status, same, 3);
    if (status != PEL_OK)
        return status;

    o.norm = PEL_FFT_NORM_BACKWARD; /* the forward r2c is unscaled */
    /* Slabs always: the division runs on the transposed slab's layout. */
    o.flags = PEL_MPI_FFT_TRANSPOSED_OUT | PEL_MPI_FFT_SLAB;
    s = calloc(1, sizeof *s);
    pel_mpi_fft_plan *forward = NULL, *backward = NULL;
    status = pel__mpi_fft_plan_make(comm, PEL_FFT_R2C, precision, ndim, dims, PEL_FFT_FORWARD, 1, &o, &forward,
                                    fn);
    if (status == PEL_OK) {
        o.norm = PEL_FFT_NORM_FORWARD; /* the backward c2r is unscaled too: 1/N rides on the division */
        o.flags = PEL_MPI_FFT_TRANSPOSED_IN | PEL_MPI_FFT_SLAB;
        status = pel__mpi_fft_plan_make(comm, PEL_FFT_C2R, precision, ndim, dims, PEL_FFT_BACKWARD, 1, &o,
                                        &backward, fn);
    }
    if (status == PEL_OK) {
        size_t doubles = pel__spectral_work_doubles(ndim, forward->layout.out_dims);
        if (s != NULL)
            s->work = malloc(doubles * sizeof(double));
        status = s && s->work ? pel__handle_register(&s->handle, PEL__HANDLE_OTHER, -1, fn)
                              : pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate the solver");
        status = pel__mpi_agree(comm, fn, status, NULL, 0);
        if (status != PEL_OK && s && s->work && pel__handle_check(s, PEL__HANDLE_OTHER, -1, fn, "solver") == PEL_OK)
            pel__handle_unregister(s, PEL__HANDLE_OTHER, fn);
    }
    if (status != PEL_OK) {
        pel_mpi_fft_plan_destroy(backward);
        pel_mpi_fft_plan_destroy(forward);
        if (s)
            free(s->work);
        free(s);
        return status;
    }
    s->tag = SOLVER_TAG;
    s->forward = forward;
    s->backward = backward;
    s->ndim = ndim;
    s->symbol = symbol;
    for (int a = 0; a < ndim; a++) {
        s->dims[a] = dims[a];
        s->lengths[a] = lengths[a];
    }
    *solver = s;
    return PEL_OK;
}

void pel_mpi_spectral_destroy(pel_mpi_spectral *solver)
{
    if (solver == NULL)
        return;
    if (check_solver(solver, "pel_mpi_spectral_destroy") != PEL_OK ||
        !pel__handle_unregister(solver, PEL__HANDLE_OTHER, "pel_mpi_spectral_destroy"))
        return;
    solver->tag = 0;
    pel_mpi_fft_plan_destroy(solver->backward);
    pel_mpi_fft_plan_destroy(solver->forward);
    free(solver->work);
    free(solver);
}

pel_status pel_mpi_spectral_layout(const pel_mpi_spectral *solver, pel_mpi_fft_layout *layout)
{
    const char *fn = "pel_mpi_spectral_layout";
    pel_status status = check_solver(solver, fn);
    if (status != PEL_OK)
        return status;
    if (layout == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "layout must not be NULL");
    *layout = solver->forward->layout;
    return PEL_OK;
}

pel_status pel_mpi_spectral_solve(const pel_mpi_spectral *solver, double shift, void *field)
{
    const char *fn = "pel_mpi_spectral_solve";
    pel_status status = pel__mpi_ready(fn);
    pel__mpi_same same[1];
    const pel_mpi_fft_plan *forward = NULL;
    MPI_Comm comm;

    if (status != PEL_OK)
        return status;
    status = check_solver(solver, fn);
    if (status == PEL_OK)
        forward = solver->forward;
    if (status == PEL_OK && field == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "field must not be NULL");
    if (status == PEL_OK && (uintptr_t)field % 16 != 0)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                           "field=%p is not aligned to 16 bytes (allocate alloc_bytes with pel_malloc())", field);
    if (status == PEL_OK && (!isfinite(shift) || shift < 0))
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "shift=%g is not finite and >= 0", shift);
    same[0] = (pel__mpi_same){"shift", status == PEL_OK ? shift : 0.0};
    status = pel__mpi_fft_agree_plan(forward, status, fn, same, 1, &comm);
    if (status != PEL_OK)
        return status;

    {
        const pel_mpi_fft_layout *l = &solver->forward->layout;
        double total = 1.0;
        /* Memory axes of the transposed spectrum: (second, first[, third])
         * global axes, cut along the second. */
        int axis[3] = {1, 0, 2};
        size_t start[3] = {l->out_start, 0, 0};
        for (int a = 0; a < solver->ndim; a++)
            total *= (double)solver->dims[a];
        pel__mpi_fft_run(solver->forward, field, field);
        pel__spectral_divide((pel_precision)solver->forward->key.precision, solver->ndim, l->out_dims, axis, start,
                             solver->dims, solver->lengths, solver->symbol, shift, 1.0 / total, field,
                             solver->work);
        pel__mpi_fft_run(solver->backward, field, field);
    }
    return PEL_OK;
}
