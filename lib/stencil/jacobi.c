/* Jacobi iteration for -Laplace(u) = f: the stencil engine's first user.
 * One Jacobi step is the star stencil u_new = (sum_a (u[-e_a] + u[+e_a]) / h_a^2
 * + f) / D with D = sum_a 2/h_a^2, i.e. coefficients 1/(h_a^2 D) on the
 * neighbours, 0 in the centre, and rhs weight 1/D. Blocks of check_interval
 * steps run temporally blocked; the residual uses a second stencil (the
 * Laplacian with rhs weight 1, giving f + Laplace_h(u)) and a max norm, which
 * is exact and order-independent, so the iteration count does not depend on
 * the thread count either. */
#include <math.h>
#include <string.h>


#include "core/error.h"
#include "stencil/stencil_internal.h"

#define FN "pel_stencil_jacobi_poisson"

/* Max |x| over n values (NaN propagates so a diverging run never converges). */
static double max_abs(const void *x, size_t n, pel_precision precision)
{
    double result = 0.0;
    int threads = pel_threads_for_work(n);
#pragma omp parallel for schedule(static) reduction(max : result) num_threads(threads) if (threads > 1)
    for (size_t i = 0; i < n; i++) {
        double v = precision == PEL_FLOAT32 ? fabs((double)((const float *)x)[i]) : fabs(((const double *)x)[i]);
        if (v > result || v != v)
            result = v != v ? HUGE_VAL : v;
    }
    return result;
}

/* Builds the Jacobi (jacobi != 0) or residual star stencil for the spacings. */
static pel_status make_stencil(pel_precision precision, int ndim, const double *spacing, int jacobi,
                               pel_stencil **stencil)
{
    double c[7] = {0}, diagonal = 0.0;
    int map[3];
    size_t n = 2 * (size_t)ndim + 1;
    pel__stencil_axis_map(ndim, map);
    for (int a = 0; a < ndim; a++)
        diagonal += 2.0 / (spacing[a] * spacing[a]);
    /* Star order with radius 1: axis 0 at -1 .. axis ndim-1 at -1, centre,
     * axis ndim-1 at +1 .. axis 0 at +1. */
    for (int a = 0; a < ndim; a++) {
        double w = 1.0 / (spacing[a] * spacing[a]);
        if (jacobi)
            w /= diagonal;
        c[a] = c[n - 1 - (size_t)a] = w;
    }
    c[ndim] = jacobi ? 0.0 : -diagonal;
    return pel_stencil_create(precision, ndim, PEL_STENCIL_STAR, 1, c, n, 1, jacobi ? 1.0 / diagonal : 1.0, stencil);
}

pel_status pel_stencil_jacobi_poisson(pel_precision precision, int ndim, const size_t *dims, const double *spacing,
                                      const pel_boundary *faces, void *u, const void *f, double tolerance,
                                      size_t max_iterations, size_t check_interval, size_t *iterations,
                                      double *residual)
{
    pel_stencil *step = NULL, *laplacian = NULL;
    void *work = NULL, *current = u;
    size_t count = 1, done = 0, bytes;
    double f_norm, res = HUGE_VAL;
    pel_status status;

    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "precision=%d is neither PEL_FLOAT64 nor PEL_FLOAT32",
                        (int)precision);
    if (ndim < 1 || ndim > 3)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "ndim=%d is not 1, 2 or 3", ndim);
    PEL_CHECK_NOT_NULL(dims);
    PEL_CHECK_NOT_NULL(spacing);
    PEL_CHECK_NOT_NULL(faces);
    PEL_CHECK_NOT_NULL(u);
    PEL_CHECK_NOT_NULL(f);
    for (int a = 0; a < ndim; a++)
        if (!(isfinite(spacing[a]) && spacing[a] > 0))
            return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "spacing[%d]=%g is not finite and positive", a, spacing[a]);
    if (!(tolerance >= 0))
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "tolerance=%g is negative or NaN", tolerance);
    if (max_iterations == 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "max_iterations=0: at least one step is needed");
    if (check_interval == 0)
        check_interval = 50;

    status = make_stencil(precision, ndim, spacing, 1, &step);
    if (status == PEL_OK)
        status = make_stencil(precision, ndim, spacing, 0, &laplacian);
    if (status != PEL_OK) {
        pel_stencil_destroy(step);
        return pel__fail(status, FN, "%s", pel_last_error());
    }
    /* Validates dims and faces (and f against u) before any data changes. */
    status = pel_stencil_apply(step, dims, faces, u, NULL, f, 0, NULL, NULL);
    if (status != PEL_OK)
        goto done;
    for (int a = 0; a < ndim; a++)
        count *= dims[a];
    bytes = count * (precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double));
    work = pel_malloc(bytes);
    if (work == NULL) {
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, FN, "no memory for a work grid of %zu bytes", bytes);
        goto done;
    }
    f_norm = max_abs(f, count, precision);
    if (f_norm == 0.0)
        f_norm = 1.0;

    while (done < max_iterations) {
        size_t steps = max_iterations - done < check_interval ? max_iterations - done : check_interval;
        void *other = current == u ? work : u, *out = NULL, *scratch;
        status = pel_stencil_apply(step, dims, faces, current, other, f, steps, NULL, &out);
        if (status != PEL_OK)
            goto done;
        done += steps;
        current = out;
        /* Residual f + Laplace_h(u): one step reads the iterate and writes
         * the residual into the other buffer, leaving the iterate intact. */
        scratch = current == u ? work : u;
        status = pel_stencil_apply(laplacian, dims, faces, current, scratch, f, 1, NULL, &out);
        if (status != PEL_OK)
            goto done;
        res = max_abs(out, count, precision) / f_norm;
        if (res <= tolerance)
            break;
    }
    if (current != u)
        memcpy(u, current, bytes);
    if (iterations)
        *iterations = done;
    if (residual)
        *residual = res;
    if (res > tolerance)
        status = pel__fail(PEL_ERROR_NOT_CONVERGED, FN, "residual %g after %zu iterations is above tolerance %g",
                           res, done, tolerance);
done:
    pel_free(work);
    pel_stencil_destroy(step);
    pel_stencil_destroy(laplacian);
    return status;
}

pel_status pel__jacobi_stencil(pel_precision precision, int ndim, const double *spacing, int jacobi,
                               pel_stencil **stencil)
{
    return make_stencil(precision, ndim, spacing, jacobi, stencil);
}

double pel__jacobi_max_abs(const void *x, size_t n, pel_precision precision)
{
    return max_abs(x, n, precision);
}
