/* Stencil objects: creation with validation, the Laplacian table, queries. */
#include "stencil/stencil_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void pel__stencil_axis_map(int ndim, int internal_axis[3])
{
    /* 3-D: identity. 2-D: rows along internal axis 0 (the wavefront axis),
     * columns along the contiguous axis 2. 1-D: the contiguous axis. */
    static const int map[4][3] = {{0, 1, 2}, {2, 1, 0}, {0, 2, 1}, {0, 1, 2}};
    memcpy(internal_axis, map[ndim], sizeof map[ndim]);
}

static size_t point_count(int ndim, pel_stencil_shape shape, int radius)
{
    size_t width = 2 * (size_t)radius + 1, count = 1;
    if (shape == PEL_STENCIL_STAR)
        return 2 * (size_t)ndim * (size_t)radius + 1;
    for (int a = 0; a < ndim; a++)
        count *= width;
    return count;
}

/* Frees a stencil that is not registered (creation's failure path). */
static void free_stencil(pel_stencil *stencil)
{
    if (stencil == NULL)
        return;
    free(stencil->offset);
    free(stencil->coefficients);
    free(stencil->row_offset);
    free(stencil->term_row);
    free(stencil);
}

void pel_stencil_destroy(pel_stencil *stencil)
{
    /* A second destroy or a foreign pointer is refused with a message and
     * frees nothing (the registry is asked before the memory is read). */
    if (pel__handle_unregister(stencil, PEL__HANDLE_STENCIL, "pel_stencil_destroy"))
        free_stencil(stencil);
}

/* Enumerates the offsets in lexicographic order of the user's axes (axis 0
 * slowest) and stores them on the internal axes. */
static void fill_offsets(pel_stencil *s)
{
    int map[3], r = s->radius, width = 2 * r + 1, user[3];
    size_t total = 1, k = 0;
    pel__stencil_axis_map(s->ndim, map);
    for (int a = 0; a < s->ndim; a++)
        total *= (size_t)width;
    for (size_t index = 0; index < total; index++) {
        size_t rest = index;
        int nonzero = 0;
        for (int a = s->ndim - 1; a >= 0; a--) {
            user[a] = (int)(rest % (size_t)width) - r;
            rest /= (size_t)width;
            nonzero += user[a] != 0;
        }
        if (s->shape == PEL_STENCIL_STAR && nonzero > 1)
            continue;
        s->offset[k][0] = s->offset[k][1] = s->offset[k][2] = 0;
        for (int a = 0; a < s->ndim; a++)
            s->offset[k][map[a]] = user[a];
        k++;
    }
}

/* Groups terms by their (axis 0, axis 1) offsets. */
static void group_rows(pel_stencil *s)
{
    s->nrows = 0;
    for (size_t k = 0; k < s->nterms; k++) {
        size_t row = 0;
        while (row < s->nrows &&
               (s->row_offset[row][0] != s->offset[k][0] || s->row_offset[row][1] != s->offset[k][1]))
            row++;
        if (row == s->nrows) {
            s->row_offset[row][0] = s->offset[k][0];
            s->row_offset[row][1] = s->offset[k][1];
            s->nrows++;
        }
        s->term_row[k] = row;
    }
}

pel_status pel_stencil_create(pel_precision precision, int ndim, pel_stencil_shape shape, int radius,
                              const double *coefficients, size_t ncoefficients, int has_rhs, double rhs_weight,
                              pel_stencil **stencil)
{
    pel_stencil *s;
    size_t npoints;
    int map[3];

    PEL_CHECK_NOT_NULL(stencil);
    *stencil = NULL;
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "precision=%d is neither PEL_FLOAT64 nor PEL_FLOAT32",
                        (int)precision);
    if (ndim < 1 || ndim > 3)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "ndim=%d is not 1, 2 or 3", ndim);
    if (shape != PEL_STENCIL_STAR && shape != PEL_STENCIL_BOX)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "shape=%d is neither PEL_STENCIL_STAR nor PEL_STENCIL_BOX",
                        (int)shape);
    if (radius < 1 || radius > PEL_STENCIL_MAX_RADIUS)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "radius=%d is outside 1..%d", radius, PEL_STENCIL_MAX_RADIUS);
    PEL_CHECK_NOT_NULL(coefficients);
    npoints = point_count(ndim, shape, radius);
    if (ncoefficients != npoints)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                        "ncoefficients=%zu does not match the %zu points of this stencil", ncoefficients, npoints);

    s = calloc(1, sizeof *s);
    if (s == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "no memory for the stencil");
    s->precision = precision;
    s->element_size = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    s->ndim = ndim;
    s->shape = shape;
    s->radius = radius;
    s->nterms = npoints;
    s->has_rhs = has_rhs != 0;
    s->rhs_weight_d = s->has_rhs ? rhs_weight : 0.0;
    s->rhs_weight_f = (float)s->rhs_weight_d;
    s->offset = malloc(npoints * sizeof *s->offset);
    s->coefficients = malloc(npoints * s->element_size);
    s->row_offset = malloc(npoints * sizeof *s->row_offset);
    s->term_row = malloc(npoints * sizeof *s->term_row);
    if (s->offset == NULL || s->coefficients == NULL || s->row_offset == NULL || s->term_row == NULL) {
        free_stencil(s);
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "no memory for the stencil's %zu points", npoints);
    }
    pel__stencil_axis_map(ndim, map);
    for (int a = 0; a < ndim; a++)
        s->axis_radius[map[a]] = radius;
    for (size_t k = 0; k < npoints; k++) {
        if (precision == PEL_FLOAT32)
            ((float *)s->coefficients)[k] = (float)coefficients[k];
        else
            ((double *)s->coefficients)[k] = coefficients[k];
    }
    fill_offsets(s);
    group_rows(s);
    s->row = pel__stencil_row_kernel(precision);
    if (pel__handle_register(&s->handle, PEL__HANDLE_STENCIL, (int)precision, __func__) != PEL_OK) {
        free_stencil(s);
        return PEL_ERROR_OUT_OF_MEMORY;
    }
    *stencil = s;
    return PEL_OK;
}

/* Coefficients of the radius-4 eighth-order central second derivative. */
static const double order8[5] = {-205.0 / 72.0, 8.0 / 5.0, -1.0 / 5.0, 8.0 / 315.0, -1.0 / 560.0};

pel_status pel_stencil_create_laplacian(pel_precision precision, int ndim, int npoints, double spacing,
                                        pel_stencil **stencil)
{
    double c[27];
    double scale;
    int radius = 1;
    pel_stencil_shape shape = PEL_STENCIL_STAR;
    size_t n = 0;
    pel_status status;

    PEL_CHECK_NOT_NULL(stencil);
    *stencil = NULL;
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "precision=%d is neither PEL_FLOAT64 nor PEL_FLOAT32",
                        (int)precision);
    if (!(isfinite(spacing) && spacing > 0))
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "spacing=%g is not finite and positive", spacing);
    scale = 1.0 / (spacing * spacing);
    if ((ndim == 1 && npoints == 3) || (ndim == 2 && npoints == 5) || (ndim == 3 && npoints == 7)) {
        /* Star order: the axis-0 neighbours first, the centre in the middle. */
        n = (size_t)npoints;
        for (size_t k = 0; k < n; k++)
            c[k] = scale;
        c[n / 2] = -2.0 * ndim * scale;
    } else if (ndim == 2 && npoints == 9) {
        static const double w[9] = {1, 4, 1, 4, -20, 4, 1, 4, 1};
        shape = PEL_STENCIL_BOX;
        n = 9;
        for (size_t k = 0; k < n; k++)
            c[k] = w[k] / 6.0 * scale;
    } else if (ndim == 3 && npoints == 27) {
        /* Weight by how many offsets are nonzero: centre, face, edge, corner. */
        static const double w[4] = {-128, 14, 3, 1};
        shape = PEL_STENCIL_BOX;
        n = 27;
        for (int k = 0; k < 27; k++) {
            int nonzero = (k / 9 != 1) + (k / 3 % 3 != 1) + (k % 3 != 1);
            c[k] = w[nonzero] / 30.0 * scale;
        }
    } else if (ndim == 3 && npoints == 25) {
        radius = 4;
        n = 25;
        /* Star order: axis 0 at -4..-1, axis 1 at -4..-1, axis 2 at -4..4,
         * axis 1 at 1..4, axis 0 at 1..4. */
        for (int k = 0; k < 4; k++) {
            c[k] = c[24 - k] = order8[4 - k] * scale;
            c[4 + k] = c[20 - k] = order8[4 - k] * scale;
            c[8 + k] = c[16 - k] = order8[4 - k] * scale;
        }
        c[12] = 3.0 * order8[0] * scale;
    } else {
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                        "ndim=%d with npoints=%d is not one of 1-D 3, 2-D 5 or 9, 3-D 7, 27 or 25", ndim, npoints);
    }
    status = pel_stencil_create(precision, ndim, shape, radius, c, n, 0, 0.0, stencil);
    if (status != PEL_OK)
        pel__fail(status, "pel_stencil_create_laplacian", "%s", pel_last_error());
    return status;
}

pel_status pel_stencil_info(const pel_stencil *stencil, pel_precision *precision, int *ndim, int *radius,
                            size_t *npoints)
{
    pel_status status = pel__handle_check(stencil, PEL__HANDLE_STENCIL, -1, __func__, "stencil");

    if (status != PEL_OK)
        return status;
    if (precision)
        *precision = stencil->precision;
    if (ndim)
        *ndim = stencil->ndim;
    if (radius)
        *radius = stencil->radius;
    if (npoints)
        *npoints = stencil->nterms;
    return PEL_OK;
}
