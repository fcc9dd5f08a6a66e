/* Fuzz harness: stencils (pel_stencil_create with fuzzed precision, ndim,
 * shape, radius, coefficients with NaN/Inf, rhs) applied to small grids
 * (pel_stencil_apply with fuzzed dims, every boundary kind and value per face,
 * steps, blocking overrides, streaming stores, a work buffer or none) on 1-4
 * threads.
 *
 * Invariant: status OK => every value has the bits of the documented serial
 * loop (include/pel/stencil.h: terms in lexicographic offset order, each
 * product rounded, rhs last; boundaries resolved axis by axis), written out
 * naively here and compiled with -ffp-contract=off like pel's kernels;
 * status error => a message and neither grid nor work modified. Grids have at
 * most 7 points per axis, radius at most 3, at most 3 steps. */
#include "fuzz.h"

enum { MAX_N = 7, MAX_POINTS = MAX_N * MAX_N * MAX_N, MAX_TERMS = 343 };

typedef struct setup {
    int ndim, radius, single, has_rhs;
    size_t dims[3], points;
    int offsets[MAX_TERMS][3];
    size_t nterms;
    double coef[MAX_TERMS], weight;
    pel_boundary faces[6];
} setup;

static void make_offsets(setup *s, int shape)
{
    int r = s->radius, o[3] = {0, 0, 0};
    s->nterms = 0;
    for (o[0] = -r; o[0] <= r; o[0]++)
        for (o[1] = s->ndim > 1 ? -r : 0; o[1] <= (s->ndim > 1 ? r : 0); o[1]++)
            for (o[2] = s->ndim > 2 ? -r : 0; o[2] <= (s->ndim > 2 ? r : 0); o[2]++) {
                int nonzero = (o[0] != 0) + (o[1] != 0) + (o[2] != 0);
                if (shape == PEL_STENCIL_STAR && nonzero > 1)
                    continue;
                memcpy(s->offsets[s->nterms++], o, sizeof o);
            }
}

/* Value of u at a possibly outside point, per the documented rules
 * (include/pel/stencil.h): axis by axis from axis 0, each face's rule maps
 * the index, again and again if a reflection lands beyond the opposite face;
 * returns 0 and sets *value when a Dirichlet face is met. */
static int resolve(const setup *s, long idx[3], double *value)
{
    for (int d = 0; d < s->ndim; d++) {
        long n = (long)s->dims[d];
        while (idx[d] < 0 || idx[d] >= n) {
            int upper = idx[d] >= n;
            const pel_boundary *face = &s->faces[2 * d + upper];
            switch (face->kind) {
            case PEL_BOUNDARY_DIRICHLET:
                *value = face->value;
                return 0;
            case PEL_BOUNDARY_PERIODIC:
                idx[d] = ((idx[d] % n) + n) % n;
                break;
            case PEL_BOUNDARY_NEUMANN:
                idx[d] = upper ? 2 * n - 1 - idx[d] : -1 - idx[d];
                break;
            case PEL_BOUNDARY_NEAREST:
                idx[d] = upper ? n - 1 : 0;
                break;
            default: /* mirror; a one-point axis gives the edge value */
                idx[d] = n == 1 ? 0 : upper ? 2 * (n - 1) - idx[d] : -idx[d];
            }
        }
    }
    return 1;
}

static size_t flat(const setup *s, const long idx[3])
{
    size_t f = 0;
    for (int d = 0; d < s->ndim; d++)
        f = f * s->dims[d] + (size_t)idx[d];
    return f;
}

#define DEFINE_REFERENCE(NAME, T)                                                                   \
    static void NAME(const setup *s, const T *in, T *out, const T *rhs)                              \
    {                                                                                                \
        for (size_t p = 0; p < s->points; p++) {                                                     \
            long base[3] = {0, 0, 0};                                                                \
            size_t rest = p;                                                                         \
            T acc = 0;                                                                               \
            for (int d = s->ndim - 1; d >= 0; d--) {                                                 \
                base[d] = (long)(rest % s->dims[d]);                                                 \
                rest /= s->dims[d];                                                                  \
            }                                                                                        \
            for (size_t k = 0; k < s->nterms; k++) {                                                 \
                long idx[3] = {base[0] + s->offsets[k][0], base[1] + s->offsets[k][1],               \
                               base[2] + s->offsets[k][2]};                                          \
                double fixed = 0.0;                                                                  \
                T u = resolve(s, idx, &fixed) ? in[flat(s, idx)] : (T)fixed;                         \
                T term = (T)s->coef[k] * u;                                                          \
                acc = k == 0 ? term : acc + term;                                                    \
            }                                                                                        \
            if (s->has_rhs) {                                                                        \
                T term = (T)s->weight * rhs[p];                                                      \
                acc = acc + term;                                                                    \
            }                                                                                        \
            out[p] = acc;                                                                            \
        }                                                                                            \
    }
DEFINE_REFERENCE(reference_d, double)
DEFINE_REFERENCE(reference_s, float)

static int same_value(const setup *s, const void *a, const void *b, size_t i)
{
    if (s->single) {
        float x = ((const float *)a)[i], y = ((const float *)b)[i];
        return memcmp(&x, &y, sizeof x) == 0 || (isnan(x) && isnan(y));
    } else {
        double x = ((const double *)a)[i], y = ((const double *)b)[i];
        return memcmp(&x, &y, sizeof x) == 0 || (isnan(x) && isnan(y));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static double grid[MAX_POINTS], work[MAX_POINTS], rhs[MAX_POINTS], grid0[MAX_POINTS], work0[MAX_POINTS];
    static double ref_a[MAX_POINTS], ref_b[MAX_POINTS];
    static setup s;
    fuzz_input in = fuzz_begin(data, size);
    int threads = fuzz_u8(&in) % 4 + 1, shape = fuzz_u8(&in) % 3, status, valid_faces = 1, use_work, use_blocking;
    size_t ncoef, nsteps;
    pel_stencil *stencil = NULL;
    pel_stencil_blocking blocking = {{0, 0, 0}, 0, 0, 0};
    void *result = NULL;

    s.single = fuzz_u8(&in) % 2;
    s.ndim = (int)(fuzz_u8(&in) % 4) + (fuzz_u8(&in) % 16 == 0 ? 2 : 0); /* 0 and 4, 5 are refused */
    s.radius = (int)(fuzz_u8(&in) % 4) + (fuzz_u8(&in) % 32 == 0 ? 6 : 0);
    s.has_rhs = fuzz_u8(&in) % 2;
    s.weight = fuzz_double(&in);
    if (s.ndim >= 1 && s.ndim <= 3 && s.radius >= 1 && s.radius <= 3 && shape <= 1)
        make_offsets(&s, shape);
    else
        s.nterms = 5;
    ncoef = s.nterms + (fuzz_u8(&in) % 32 == 0 ? 1 : 0);
    for (size_t k = 0; k < ncoef && k < MAX_TERMS; k++)
        s.coef[k] = fuzz_double(&in);

    pel_clear_error();
    status = pel_stencil_create(s.single ? PEL_FLOAT32 : PEL_FLOAT64, s.ndim, (pel_stencil_shape)shape, s.radius,
                                s.coef, ncoef, s.has_rhs, s.weight, &stencil);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_stencil_create");
        fuzz_require(stencil == NULL, "pel_stencil_create left a pointer on error");
        return 0;
    }
    fuzz_require(s.ndim >= 1 && s.ndim <= 3 && s.radius >= 1 && s.radius <= PEL_STENCIL_MAX_RADIUS && shape <= 1 &&
                     ncoef == s.nterms,
                 "pel_stencil_create accepted ndim %d radius %d shape %d ncoefficients %zu", s.ndim, s.radius, shape,
                 ncoef);
    if (s.radius > 3) {
        pel_stencil_destroy(stencil);
        return 0;
    }

    s.points = 1;
    for (int d = 0; d < s.ndim; d++) {
        s.dims[d] = fuzz_upto(&in, MAX_N);
        s.points *= s.dims[d];
    }
    for (int f = 0; f < 2 * s.ndim; f++) {
        s.faces[f].kind = (pel_boundary_kind)(fuzz_u8(&in) % 6); /* 5 is not a kind */
        s.faces[f].value = fuzz_double(&in);
        if (s.single)
            s.faces[f].value = (double)(float)s.faces[f].value;
        if (fuzz_u8(&in) % 2 && f % 2 == 1)
            s.faces[f].kind = s.faces[f - 1].kind; /* matching faces are the common case */
    }
    for (int d = 0; d < s.ndim; d++) {
        pel_boundary_kind lo = s.faces[2 * d].kind, hi = s.faces[2 * d + 1].kind;
        if ((int)lo > 4 || (int)hi > 4 || ((lo == PEL_BOUNDARY_PERIODIC) != (hi == PEL_BOUNDARY_PERIODIC)) ||
            s.dims[d] == 0)
            valid_faces = 0;
    }
    nsteps = fuzz_upto(&in, 3);
    use_work = fuzz_u8(&in) % 2;
    use_blocking = fuzz_u8(&in) % 2;
    if (use_blocking) {
        for (int d = 0; d < s.ndim; d++)
            blocking.tile[d] = fuzz_upto(&in, MAX_N + 1);
        blocking.time_block = fuzz_u8(&in) % 32 == 0 ? 2000 : fuzz_upto(&in, 3);
        blocking.cache_bytes = fuzz_u8(&in) % 4 == 0 ? 1024 * fuzz_upto(&in, 64) : 0;
        blocking.streaming_stores = fuzz_u8(&in) % 2;
        for (int d = 0; d < s.ndim; d++)
            if (blocking.tile[d] > s.dims[d])
                valid_faces = 0;
        if (blocking.time_block > 1024)
            valid_faces = 0;
    }
    for (size_t p = 0; p < MAX_POINTS; p++) {
        double v = p < 64 ? fuzz_double(&in) : (double)((p * 7919) % 101) / 25.0 - 2.0;
        double r = p < 32 ? fuzz_double(&in) : (double)(p % 13) / 8.0;
        if (s.single) {
            ((float *)grid)[p] = (float)v;
            ((float *)rhs)[p] = (float)r;
            ((float *)work)[p] = -1.0f;
        } else {
            grid[p] = v;
            rhs[p] = r;
            work[p] = -1.0;
        }
    }
    memcpy(grid0, grid, sizeof grid);
    memcpy(work0, work, sizeof work);

    pel_set_num_threads_local(threads);
    status = pel_stencil_apply(stencil, s.dims, s.faces, grid, use_work ? work : NULL, s.has_rhs ? rhs : NULL,
                               nsteps, use_blocking ? &blocking : NULL, &result);
    pel_set_num_threads_local(0);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_stencil_apply");
        fuzz_require(fuzz_same_bytes(grid, grid0, sizeof grid) && fuzz_same_bytes(work, work0, sizeof work),
                     "a buffer was modified on error (%s)", pel_last_error());
        pel_stencil_destroy(stencil);
        return 0;
    }
    fuzz_require(valid_faces || nsteps == 0, "pel_stencil_apply accepted invalid faces, dims or blocking");
    fuzz_require(result == grid || (use_work && result == work), "*result is neither grid nor work");

    /* The reference, step by step. */
    {
        void *cur = s.single ? (void *)ref_a : (void *)ref_a, *next = ref_b;
        memcpy(ref_a, grid0, sizeof grid0);
        for (size_t step = 0; step < nsteps; step++) {
            if (s.single)
                reference_s(&s, cur, next, (const float *)rhs);
            else
                reference_d(&s, cur, next, rhs);
            {
                void *t = cur;
                cur = next;
                next = t;
            }
        }
        for (size_t p = 0; p < s.points; p++)
            fuzz_require(same_value(&s, result, cur, p),
                         "point %zu differs from the serial loop (ndim %d radius %d shape %d, %zu steps, %d threads)",
                         p, s.ndim, s.radius, shape, nsteps, threads);
    }
    pel_stencil_destroy(stencil);
    return 0;
}
