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
#include "core/threads.h"
#include "stencil/stencil_internal.h"

#define FN "pel_stencil_jacobi_poisson"

/* Max |x| over n values (NaN propagates so a diverging run never converges). */
static double max_abs(const void *x, size_t n, pel_precision precision)
{
    double result = 0.0;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */
    int threads = pel__team_take(&team, pel_threads_for_work(n));
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

/* The first index in [0, n) whose value is not finite in `precision`, or n
 * when all are (lowest index, whatever the thread count). */
static size_t first_non_finite(const void *x, size_t n, pel_precision precision)
{
    size_t first = n;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */
    int threads = pel__team_take(&team, pel_threads_for_work(n));
#pragma omp parallel for schedule(static) reduction(min : first) num_threads(threads) if (threads > 1)
    for (size_t i = 0; i < n; i++) {
        double v = precision == PEL_FLOAT32 ? (double)((const float *)x)[i] : ((const double *)x)[i];
        if (!isfinite(v) && i < first)
            first = i;
    }
    return first;
}

/* Non-finite data can never converge (a NaN or Inf spreads to every point
 * it reaches, and the residual is NaN), so it is refused before any work,
 * naming the first bad value; a non-finite value met later (an overflow)
 * ends the iteration as PEL_ERROR_NOT_CONVERGED. */
static pel_status check_finite(pel_precision precision, int ndim, const pel_boundary *faces, const void *u,
                               const void *f, size_t count)
{
    const size_t bad_f = first_non_finite(f, count, precision), bad_u = first_non_finite(u, count, precision);
    const char *name = precision == PEL_FLOAT32 ? "float" : "double";

    if (bad_f < count)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "f[%zu]=%g is not finite: the iteration cannot converge",
                         bad_f, precision == PEL_FLOAT32 ? (double)((const float *)f)[bad_f]
                                                         : ((const double *)f)[bad_f]);
    if (bad_u < count)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN,
                         "u[%zu]=%g (the initial guess) is not finite: the iteration cannot converge", bad_u,
                         precision == PEL_FLOAT32 ? (double)((const float *)u)[bad_u] : ((const double *)u)[bad_u]);
    for (int face = 0; face < 2 * ndim; face++) {
        double v = faces[face].value;
        if (faces[face].kind == PEL_BOUNDARY_DIRICHLET &&
            !(precision == PEL_FLOAT32 ? isfinite((float)v) : isfinite(v)))
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "faces[%d].value=%g is not a finite %s", face, v, name);
    }
    return PEL_OK;
}

pel_status pel_stencil_jacobi_poisson(pel_precision precision, int ndim, const size_t *dims, const double *spacing,
                                      const pel_boundary *faces, void *u, const void *f, double tolerance,
                                      size_t max_iterations, size_t check_interval, size_t *iterations,
                                      double *residual)
{
    pel_stencil *step = NULL, *laplacian = NULL;
    char *work[2] = {NULL, NULL};
    void *current;
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
    for (int a = 0; a < ndim; a++) {
        if (!(isfinite(spacing[a]) && spacing[a] > 0))
            return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "spacing[%d]=%g is not finite and positive", a, spacing[a]);
        if (!isfinite(ndim * 2.0 / (spacing[a] * spacing[a])))
            return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "spacing[%d]=%g is so small that 1/spacing^2 overflows", a,
                            spacing[a]);
    }
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
    /* dims and faces are checked here, with this function's name, before
     * any data is read: the messages name dims[] and faces[] as the caller
     * gave them. */
    status = pel__stencil_check_grid(FN, step, dims, faces, &count);
    if (status != PEL_OK)
        goto done;
    bytes = count * (precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double));
    if ((const char *)f < (const char *)u + bytes && (const char *)u < (const char *)f + bytes) {
        status = PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "f overlaps u: they must be separate buffers");
        goto done;
    }
    status = check_finite(precision, ndim, faces, u, f, count);
    if (status != PEL_OK)
        goto done;
    /* The iterates live in two buffers of pel's own, so that u is written
     * only once the call has an answer (converged or not): a failure on
     * the way (out of memory in a later block) leaves u as it was. */
    work[0] = pel_malloc(bytes);
    work[1] = pel_malloc(bytes);
    if (work[0] == NULL || work[1] == NULL) {
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, FN, "no memory for two work grids of %zu bytes", bytes);
        goto done;
    }
    memcpy(work[0], u, bytes);
    current = work[0];
    f_norm = max_abs(f, count, precision);
    if (f_norm == 0.0)
        f_norm = 1.0;

    while (done < max_iterations) {
        size_t steps = max_iterations - done < check_interval ? max_iterations - done : check_interval;
        void *other = current == work[0] ? work[1] : work[0], *out = NULL, *scratch;
        status = pel_stencil_apply(step, dims, faces, current, other, f, steps, NULL, &out);
        if (status != PEL_OK)
            goto failed;
        done += steps;
        current = out;
        /* Residual f + Laplace_h(u): one step reads the iterate and writes
         * the residual into the other buffer, leaving the iterate intact. */
        scratch = current == work[0] ? work[1] : work[0];
        status = pel_stencil_apply(laplacian, dims, faces, current, scratch, f, 1, NULL, &out);
        if (status != PEL_OK)
            goto failed;
        res = max_abs(out, count, precision) / f_norm;
        /* NaN maps to HUGE_VAL in max_abs: a residual that is not finite
         * means the iterate overflowed, which no further step undoes. */
        if (!isfinite(res) || res <= tolerance)
            break;
    }
    memcpy(u, current, bytes);
    if (iterations)
        *iterations = done;
    if (residual)
        *residual = res;
    if (!isfinite(res))
        status = pel__fail(PEL_ERROR_NOT_CONVERGED, FN,
                           "the residual is not finite after %zu iterations: the iterate overflowed the %s range",
                           done, precision == PEL_FLOAT32 ? "float" : "double");
    else if (!(res <= tolerance))
        status = pel__fail(PEL_ERROR_NOT_CONVERGED, FN, "residual %g after %zu iterations is above tolerance %g",
                           res, done, tolerance);
    goto done;
failed:
    /* An error of the engine (out of memory), reported under this name. */
    status = pel__fail(status, FN, "%s", pel_last_error());
done:
    pel_free(work[0]);
    pel_free(work[1]);
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
