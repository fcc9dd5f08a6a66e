/* Tests of the stencil forms beside the constant one (boundary kinds nearest
 * and mirror, Neumann/mirror on short axes, variable coefficients). The
 * reference below is written from include/pel/stencil.h alone, one point at
 * a time in plain C, and this program is compiled with -ffp-contract=off
 * like the library, so equality is exact (memcmp), not a tolerance. */
#include "pel_test.h"
#include "stencil/engine.h" /* the kernel registry switch (pel__stencil_isa_set), the padded-path counter */

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reference */

typedef enum form_kind { FORM_CONSTANT, FORM_FACTORED, FORM_GENERAL } form_kind;

typedef struct problem {
    int ndim;
    pel_stencil_shape shape;
    int radius;
    size_t dims[3];
    pel_boundary faces[6];
    double coefficients[729];
    size_t npoints;
    int offsets[729][3];
    int has_rhs;
    double weight;
    form_kind form;
    int has_scale, has_center; /* factored form */
    int fma;                   /* the FMA order of terms (pel_stencil_create_fma) */
} problem;

/* The inputs of one run: rhs, scale, center and the term grids, each NULL
 * when the form does not take it. Double or float data. */
typedef struct inputs {
    void *rhs, *scale, *center;
    void **term;
} inputs;

static void enumerate_offsets(problem *p)
{
    int width = 2 * p->radius + 1, total = 1;
    p->npoints = 0;
    for (int a = 0; a < p->ndim; a++)
        total *= width;
    for (int index = 0; index < total; index++) {
        int o[3] = {0, 0, 0}, rest = index, nonzero = 0;
        for (int a = p->ndim - 1; a >= 0; a--) {
            o[a] = rest % width - p->radius;
            rest /= width;
            nonzero += o[a] != 0;
        }
        if (p->shape == PEL_STENCIL_STAR && nonzero > 1)
            continue;
        memcpy(p->offsets[p->npoints++], o, sizeof o);
    }
}

static size_t grid_size(const problem *p)
{
    size_t n = 1;
    for (int a = 0; a < p->ndim; a++)
        n *= p->dims[a];
    return n;
}

/* The header's rule: axis by axis from axis 0, each index outside its axis
 * is mapped by the face it lies beyond, again and again until it is inside
 * (Neumann and mirror reflect repeatedly on short axes) or a Dirichlet face
 * gives the value. Returns 1 with *linear set, or 0 with *value set. */
static int reference_locate(const problem *p, const long *index, size_t *linear, double *value)
{
    size_t lin = 0;
    for (int a = 0; a < p->ndim; a++) {
        long i = index[a], n = (long)p->dims[a];
        while (i < 0 || i >= n) {
            const pel_boundary *f = &p->faces[2 * a + (i < 0 ? 0 : 1)];
            switch (f->kind) {
            case PEL_BOUNDARY_PERIODIC:
                i = ((i % n) + n) % n;
                break;
            case PEL_BOUNDARY_NEUMANN: /* u(-1-k) = u(k), u(n+k) = u(n-1-k) */
                i = i < 0 ? -1 - i : 2 * n - 1 - i;
                break;
            case PEL_BOUNDARY_MIRROR: /* u(-k) = u(k), u(n-1+k) = u(n-1-k); the edge on one point */
                i = n == 1 ? 0 : i < 0 ? -i : 2 * (n - 1) - i;
                break;
            case PEL_BOUNDARY_NEAREST:
                i = i < 0 ? 0 : n - 1;
                break;
            default:
                *value = f->value;
                return 0;
            }
        }
        lin = lin * p->dims[a] + (size_t)i;
    }
    *linear = lin;
    return 1;
}

static void point_index(const problem *p, size_t point, long *index)
{
    size_t rest = point;
    index[0] = index[1] = index[2] = 0;
    for (int a = p->ndim - 1; a >= 0; a--) {
        index[a] = (long)(rest % p->dims[a]);
        rest /= p->dims[a];
    }
}

static void reference_step_d(const problem *p, const double *in, double *out, const inputs *x)
{
    size_t n = grid_size(p);
    for (size_t point = 0; point < n; point++) {
        long index[3];
        double acc = 0;
        point_index(p, point, index);
        for (size_t k = 0; k < p->npoints; k++) {
            long at[3];
            size_t lin;
            double v;
            for (int a = 0; a < 3; a++)
                at[a] = index[a] + p->offsets[k][a];
            if (reference_locate(p, at, &lin, &v))
                v = in[lin];
            const double c = p->form == FORM_GENERAL ? ((const double *)x->term[k])[point] : p->coefficients[k];
            acc = k == 0 ? c * v : p->fma ? fma(c, v, acc) : acc + c * v;
        }
        if (p->form == FORM_FACTORED && p->has_scale)
            acc = ((const double *)x->scale)[point] * acc;
        if (p->form == FORM_FACTORED && p->has_center)
            acc = acc + ((const double *)x->center)[point] * in[point];
        if (p->has_rhs)
            acc = p->fma ? fma(p->weight, ((const double *)x->rhs)[point], acc)
                         : acc + p->weight * ((const double *)x->rhs)[point];
        out[point] = acc;
    }
}

static void reference_step_s(const problem *p, const float *in, float *out, const inputs *x)
{
    size_t n = grid_size(p);
    for (size_t point = 0; point < n; point++) {
        long index[3];
        float acc = 0;
        point_index(p, point, index);
        for (size_t k = 0; k < p->npoints; k++) {
            long at[3];
            size_t lin;
            double dv;
            float v;
            for (int a = 0; a < 3; a++)
                at[a] = index[a] + p->offsets[k][a];
            v = reference_locate(p, at, &lin, &dv) ? in[lin] : (float)dv;
            const float c = p->form == FORM_GENERAL ? ((const float *)x->term[k])[point] : (float)p->coefficients[k];
            acc = k == 0 ? c * v : p->fma ? fmaf(c, v, acc) : acc + c * v;
        }
        if (p->form == FORM_FACTORED && p->has_scale)
            acc = ((const float *)x->scale)[point] * acc;
        if (p->form == FORM_FACTORED && p->has_center)
            acc = acc + ((const float *)x->center)[point] * in[point];
        if (p->has_rhs)
            acc = p->fma ? fmaf((float)p->weight, ((const float *)x->rhs)[point], acc)
                         : acc + (float)p->weight * ((const float *)x->rhs)[point];
        out[point] = acc;
    }
}

static void *reference_run(const problem *p, pel_precision precision, void *a, void *b, const inputs *x,
                           size_t nsteps)
{
    for (size_t s = 0; s < nsteps; s++) {
        if (precision == PEL_FLOAT32)
            reference_step_s(p, a, b, x);
        else
            reference_step_d(p, a, b, x);
        void *t = a;
        a = b;
        b = t;
    }
    return a;
}

/* Two levels, the header's order: s = S u; s = gamma*s; acc = alpha*u +
 * beta*v; out = acc + s. */
static void reference_wave_d(const problem *p, const double *u, const double *v, double *out, const double *gamma,
                             double alpha, double beta)
{
    size_t n = grid_size(p);
    for (size_t point = 0; point < n; point++) {
        long index[3];
        double sum = 0, acc;
        point_index(p, point, index);
        for (size_t k = 0; k < p->npoints; k++) {
            long at[3];
            size_t lin;
            double value;
            for (int a = 0; a < 3; a++)
                at[a] = index[a] + p->offsets[k][a];
            if (reference_locate(p, at, &lin, &value))
                value = u[lin];
            sum = k == 0 ? p->coefficients[0] * value : sum + p->coefficients[k] * value;
        }
        if (gamma)
            sum = gamma[point] * sum;
        acc = alpha * u[point] + beta * v[point];
        out[point] = acc + sum;
    }
}

static void reference_wave_s(const problem *p, const float *u, const float *v, float *out, const float *gamma,
                             float alpha, float beta)
{
    size_t n = grid_size(p);
    for (size_t point = 0; point < n; point++) {
        long index[3];
        float sum = 0, acc;
        point_index(p, point, index);
        for (size_t k = 0; k < p->npoints; k++) {
            long at[3];
            size_t lin;
            double dv;
            float value;
            for (int a = 0; a < 3; a++)
                at[a] = index[a] + p->offsets[k][a];
            value = reference_locate(p, at, &lin, &dv) ? u[lin] : (float)dv;
            sum = k == 0 ? (float)p->coefficients[0] * value : sum + (float)p->coefficients[k] * value;
        }
        if (gamma)
            sum = gamma[point] * sum;
        acc = alpha * u[point] + beta * v[point];
        out[point] = acc + sum;
    }
}

/* ------------------------------------------------------------ comparison */

static pel_test_rng rng = {271828};
static int compare_count, mismatch_count;

static void random_problem(problem *p, int ndim, pel_stencil_shape shape, int radius, int has_rhs, form_kind form)
{
    memset(p, 0, sizeof *p);
    p->ndim = ndim;
    p->shape = shape;
    p->radius = radius;
    enumerate_offsets(p);
    for (size_t k = 0; k < p->npoints; k++)
        p->coefficients[k] = pel_test_uniform(&rng, 0.2, 1.8) / (double)p->npoints;
    p->has_rhs = has_rhs;
    p->weight = has_rhs ? pel_test_uniform(&rng, -0.7, 0.7) : 0.0;
    p->form = form;
    p->has_scale = p->has_center = form == FORM_FACTORED;
}

/* A coefficient grid of values in [lo, hi): high-entropy, never zero. */
static void *coefficient_grid(size_t n, pel_precision precision, double lo, double hi)
{
    void *g = malloc(n * (precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double)));
    for (size_t i = 0; i < n; i++) {
        double v = pel_test_uniform(&rng, lo, hi);
        if (precision == PEL_FLOAT32)
            ((float *)g)[i] = (float)v;
        else
            ((double *)g)[i] = v;
    }
    return g;
}

static void make_inputs(const problem *p, pel_precision precision, inputs *x)
{
    size_t n = grid_size(p);
    memset(x, 0, sizeof *x);
    if (p->has_rhs)
        x->rhs = coefficient_grid(n, precision, -1.0, 1.0);
    if (p->form == FORM_FACTORED && p->has_scale)
        x->scale = coefficient_grid(n, precision, 0.3, 1.1);
    if (p->form == FORM_FACTORED && p->has_center)
        x->center = coefficient_grid(n, precision, -0.4, 0.4);
    if (p->form == FORM_GENERAL) {
        x->term = malloc(p->npoints * sizeof *x->term);
        for (size_t k = 0; k < p->npoints; k++)
            x->term[k] = coefficient_grid(n, precision, 0.1 / (double)p->npoints, 1.9 / (double)p->npoints);
    }
}

static void free_inputs(const problem *p, inputs *x)
{
    free(x->rhs);
    free(x->scale);
    free(x->center);
    if (x->term)
        for (size_t k = 0; k < p->npoints; k++)
            free(x->term[k]);
    free(x->term);
}

static pel_status run_pel(const problem *p, const pel_stencil *s, void *u, void *work, const inputs *x,
                          size_t nsteps, const pel_stencil_blocking *blocking, void **result)
{
    switch (p->form) {
    case FORM_FACTORED:
        return pel_stencil_apply_factored(s, p->dims, p->faces, u, work, x->scale, x->center, x->rhs, nsteps,
                                          blocking, result);
    case FORM_GENERAL:
        return pel_stencil_apply_general(s, p->dims, p->faces, u, work, (const void *const *)x->term, x->rhs,
                                         nsteps, blocking, result);
    default:
        return pel_stencil_apply(s, p->dims, p->faces, u, work, x->rhs, nsteps, blocking, result);
    }
}

/* Applies the problem with pel and with the reference, compares bits. */
static void check_case(const problem *p, pel_precision precision, size_t nsteps, int threads,
                       const pel_stencil_blocking *blocking, int use_work)
{
    size_t n = grid_size(p), es = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    char *u0 = malloc(n * es), *u1 = malloc(n * es), *r0 = malloc(n * es), *r1 = malloc(n * es);
    void *result = NULL, *expected;
    pel_stencil *s = NULL;
    inputs x;

    make_inputs(p, precision, &x);
    if (precision == PEL_FLOAT32)
        pel_test_fill_float((float *)u0, n, 7 + nsteps);
    else
        pel_test_fill((double *)u0, n, 7 + nsteps);
    memcpy(r0, u0, n * es);
    memset(u1, 0x5a, n * es);
    PEL_TEST_OK((p->fma ? pel_stencil_create_fma : pel_stencil_create)(
        precision, p->ndim, p->shape, p->radius, p->coefficients, p->npoints, p->has_rhs, p->weight, &s));
    PEL_TEST_OK(pel_set_num_threads(threads));
    PEL_TEST_OK(run_pel(p, s, u0, use_work ? u1 : NULL, &x, nsteps, blocking, &result));
    expected = reference_run(p, precision, r0, r1, &x, nsteps);
    compare_count++;
    if (result != u0 && result != u1) {
        CU_FAIL("result is neither grid nor work");
    } else if (memcmp(result, expected, n * es) != 0) {
        mismatch_count++;
        if (mismatch_count < 5) {
            char what[320];
            snprintf(what, sizeof what,
                     "mismatch: form=%d scale=%d center=%d ndim=%d shape=%d r=%d dims=%zux%zux%zu "
                     "faces=%d%d%d%d%d%d steps=%zu threads=%d float=%d tile=%zu,%zu,%zu T=%zu",
                     p->form, p->has_scale, p->has_center, p->ndim, p->shape, p->radius, p->dims[0], p->dims[1],
                     p->dims[2], p->faces[0].kind, p->faces[1].kind, p->faces[2].kind, p->faces[3].kind,
                     p->faces[4].kind, p->faces[5].kind, nsteps, threads, precision == PEL_FLOAT32,
                     blocking ? blocking->tile[0] : 0, blocking ? blocking->tile[1] : 0,
                     blocking ? blocking->tile[2] : 0, blocking ? blocking->time_block : 0);
            CU_FAIL(what);
            fprintf(stderr, "%s\n", what);
        }
    }
    pel_stencil_destroy(s);
    free_inputs(p, &x);
    free(u0);
    free(u1);
    free(r0);
    free(r1);
}

static void set_faces(problem *p, const pel_boundary_kind *kinds)
{
    for (int f = 0; f < 2 * p->ndim; f++) {
        p->faces[f].kind = kinds[f];
        p->faces[f].value = 0.25 + 0.125 * f; /* distinct per face, so the corner rule shows */
    }
}

#define D PEL_BOUNDARY_DIRICHLET
#define P PEL_BOUNDARY_PERIODIC
#define N PEL_BOUNDARY_NEUMANN
#define E PEL_BOUNDARY_NEAREST
#define M PEL_BOUNDARY_MIRROR
/* Boundary mixes with the new kinds: all of each, and mixes with the old. */
static const pel_boundary_kind mixes[][6] = {
    {E, E, E, E, E, E}, {M, M, M, M, M, M}, {E, M, P, P, D, N},
    {M, D, N, E, P, P}, {P, P, M, E, N, M}, {D, E, M, N, E, D},
};
/* Mixes for the variable-coefficient forms: the old kinds too. */
static const pel_boundary_kind varcoef_mixes[][6] = {
    {D, D, D, D, D, D}, {P, P, P, P, P, P}, {N, M, P, P, E, D}, {E, N, D, M, P, P},
};
#undef D
#undef P
#undef N
#undef E
#undef M
enum { NMIXES = sizeof mixes / sizeof mixes[0], NVARMIXES = sizeof varcoef_mixes / sizeof varcoef_mixes[0] };

static void odd_dims(problem *p)
{
    static const size_t d1[] = {37}, d2[] = {13, 23}, d3[] = {9, 7, 11};
    const size_t *d = p->ndim == 1 ? d1 : p->ndim == 2 ? d2 : d3;
    for (int a = 0; a < p->ndim; a++)
        p->dims[a] = d[a];
}

/* Every dimension, shape, radius 1..4 and the given mixes; one and several
 * steps; automatic and forced small blocking (tiles of 3-5 points, time
 * blocks of 2-3 steps) on 1..4 threads. */
static int matrix_fma; /* run_matrix: stencils in the FMA order */

static void run_matrix(pel_precision precision, form_kind form, int has_rhs, const pel_boundary_kind (*kinds)[6],
                       int nkinds, int mix_step)
{
    static const size_t steps[] = {1, 4};
    compare_count = mismatch_count = 0;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int shape = 0; shape < 2; shape++)
            for (int radius = 1; radius <= 4; radius++) {
                problem p;
                if (ndim == 1 && shape == PEL_STENCIL_BOX && radius > 1)
                    continue; /* the same points as the star */
                if (ndim == 3 && shape == PEL_STENCIL_BOX && radius > 2 && form == FORM_GENERAL)
                    continue; /* 343+ coefficient grids: slow and adds no path */
                random_problem(&p, ndim, (pel_stencil_shape)shape, radius, has_rhs, form);
                p.fma = matrix_fma;
                odd_dims(&p);
                for (int mix = (radius + shape) % mix_step; mix < nkinds; mix += mix_step) {
                    set_faces(&p, kinds[mix]);
                    for (size_t si = 0; si < sizeof steps / sizeof steps[0]; si++) {
                        size_t nsteps = steps[si];
                        int threads = 1 + (int)((mix + si + (size_t)radius) % 4);
                        pel_stencil_blocking forced = {{0, 0, 0}, 0, 0, 0};
                        if (form == FORM_FACTORED) {
                            /* a alone, b alone, both. */
                            p.has_scale = (mix + radius) % 3 != 1;
                            p.has_center = (mix + radius) % 3 != 0;
                        }
                        check_case(&p, precision, nsteps, threads, NULL, (int)(si % 2));
                        for (int a = 0; a < ndim; a++)
                            forced.tile[a] = 3 + (size_t)(a + mix) % 3;
                        forced.time_block = 2 + (size_t)(mix % 2);
                        forced.streaming_stores = (int)(si % 2);
                        check_case(&p, precision, nsteps, threads, &forced, 1);
                    }
                }
            }
    CU_ASSERT_EQUAL(mismatch_count, 0);
    CU_ASSERT(compare_count > 50);
}

static void test_new_boundaries_double(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_matrix(PEL_FLOAT64, FORM_CONSTANT, 0, mixes, NMIXES, 1);
}

static void test_new_boundaries_float_rhs(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_matrix(PEL_FLOAT32, FORM_CONSTANT, 1, mixes, NMIXES, 2);
}

/* Axes shorter than the radius (down to one point) with every kind: the
 * reflections chain across both faces. */
static void test_short_axes(void)
{
    static const size_t sizes[][3] = {{1, 1, 1}, {2, 1, 3}, {1, 3, 2}, {3, 2, 1}, {2, 2, 2}, {5, 3, 4}};
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int radius = 1; radius <= 4; radius += 3)
            for (int shape = 0; shape < 2; shape++)
                for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
                    for (int mix = 0; mix < NMIXES; mix++) {
                        problem p;
                        static const pel_boundary_kind neumann[6] = {
                            PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN,
                            PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN};
                        random_problem(&p, ndim, (pel_stencil_shape)shape, radius, shape,
                                       mix % 3 == 2 ? FORM_FACTORED : FORM_CONSTANT);
                        memcpy(p.dims, sizes[si], sizeof p.dims);
                        set_faces(&p, mix == 0 ? neumann : mixes[mix]);
                        for (int threads = 1; threads <= 4; threads += 3) {
                            pel_stencil_blocking blocking = {{0, 0, 0}, 2, 0, 0};
                            check_case(&p, PEL_FLOAT64, 3, threads, NULL, 1);
                            check_case(&p, PEL_FLOAT64, 5, threads, &blocking, 0);
                        }
                    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
}

/* Small grids go through one padded copy of the grid (lib/stencil/padded.c)
 * instead of the engine's tiles: the same bits as the reference for every
 * kind of face (short axes included), shape, radius, precision, rhs, FMA
 * order, step count and 1..4 threads (the minimum work per thread set to 1,
 * so that even these grids are split), for the constant form and the
 * variable-coefficient ones (factored and general, taken in turn); the path
 * must really be taken (its run counter moves), and never with a blocking
 * override. */
static void test_padded_small_grids(void)
{
    static const size_t sizes[][3] = {{16, 16, 16}, {1, 1, 1}, {2, 3, 5}, {7, 4, 9}, {3, 9, 2}};
    static const size_t steps[] = {1, 2, 5};
    const pel_boundary_kind(*all[2])[6] = {mixes, varcoef_mixes};
    const int counts[2] = {NMIXES, NVARMIXES};
    unsigned long before, taken = 0, team_before = pel__stencil_padded_team_count();
    int round = 0;
    compare_count = mismatch_count = 0;
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int shape = 0; shape < 2; shape++)
            for (int radius = 1; radius <= 4; radius++) {
                if (ndim == 1 && shape == PEL_STENCIL_BOX && radius > 1)
                    continue;
                for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
                    for (int set = 0; set < 2; set++)
                        for (int mix = 0; mix < counts[set]; mix++, round++) {
                            problem p;
                            const pel_precision precision = round % 3 == 1 ? PEL_FLOAT32 : PEL_FLOAT64;
                            const size_t nsteps = steps[round % 3];
                            static const form_kind forms[3] = {FORM_CONSTANT, FORM_FACTORED, FORM_GENERAL};
                            const form_kind form = forms[(round / 2) % 3];
                            /* A form's rhs is added after its own terms, not in
                             * the FMA order this reference gives it: FMA-order
                             * forms go without one here, as in test_fma_order. */
                            random_problem(&p, ndim, (pel_stencil_shape)shape, radius,
                                           round % 2 && (form == FORM_CONSTANT || round % 4 != 3), form);
                            /* FMA order: the constant and factored forms (the
                             * general form's passes add its terms in the plain
                             * order whatever the stencil's; docs/stencil.md). */
                            p.fma = round % 4 == 3 && form != FORM_GENERAL;
                            for (int a = 0; a < ndim; a++)
                                p.dims[a] = sizes[si][a];
                            set_faces(&p, all[set][mix]);
                            before = pel__stencil_padded_count();
                            check_case(&p, precision, nsteps, 1 + round % 4, NULL, round % 2);
                            taken += pel__stencil_padded_count() - before;
                        }
            }
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    CU_ASSERT_EQUAL(mismatch_count, 0);
    CU_ASSERT(compare_count > 500);
    /* Every one of these grids is small enough (the largest padded grid,
     * 24^3 doubles for radius 4 on 16^3, is 108 KiB, under any L2 / 2 this
     * path allows) -- except one step of a star of at most 7 terms past a
     * quarter of the L2, which none of them is either. */
    CU_ASSERT_EQUAL(taken, (unsigned long)compare_count);
    /* A quarter asked for 2, 3 and 4 threads each; every grid with at least
     * two rows can be split. */
    CU_ASSERT(pel__stencil_padded_team_count() - team_before > (unsigned long)compare_count / 2);
    {
        /* An override (here a forced tile) runs the engine instead. */
        problem p;
        pel_stencil_blocking forced = {{4, 4, 4}, 1, 0, 0};
        random_problem(&p, 3, PEL_STENCIL_STAR, 1, 0, FORM_CONSTANT);
        p.dims[0] = p.dims[1] = p.dims[2] = 8;
        set_faces(&p, mixes[2]);
        before = pel__stencil_padded_count();
        check_case(&p, PEL_FLOAT64, 2, 1, &forced, 1);
        CU_ASSERT_EQUAL(pel__stencil_padded_count(), before);
    }
    {
        /* With a work grid the result goes there and grid is not written
         * (what the engine does for one step; the Jacobi solver's residual
         * step relies on it). */
        enum { N = 6 * 5 * 7 };
        const size_t dims[3] = {6, 5, 7};
        const double c7[7] = {0.1, 0.2, 0.3, 0.05, 0.15, 0.12, 0.08};
        pel_boundary faces[6];
        double grid[N], copy[N], work[N];
        void *result = NULL;
        pel_stencil *s = NULL;
        for (int f = 0; f < 6; f++)
            faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.5};
        pel_test_fill(grid, N, 3);
        memcpy(copy, grid, sizeof grid);
        PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, c7, 7, 0, 0.0, &s));
        PEL_TEST_OK(pel_set_num_threads(1));
        before = pel__stencil_padded_count();
        PEL_TEST_OK(pel_stencil_apply(s, dims, faces, grid, work, NULL, 1, NULL, &result));
        CU_ASSERT_EQUAL(pel__stencil_padded_count(), before + 1);
        CU_ASSERT_PTR_EQUAL(result, work);
        CU_ASSERT(memcmp(grid, copy, sizeof grid) == 0);
        pel_stencil_destroy(s);
    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
}

static void test_factored(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_matrix(PEL_FLOAT64, FORM_FACTORED, 0, varcoef_mixes, NVARMIXES, 1);
    run_matrix(PEL_FLOAT32, FORM_FACTORED, 1, varcoef_mixes, NVARMIXES, 2);
}

static void test_general(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_matrix(PEL_FLOAT64, FORM_GENERAL, 1, varcoef_mixes, NVARMIXES, 2);
    run_matrix(PEL_FLOAT32, FORM_GENERAL, 0, varcoef_mixes, NVARMIXES, 3);
}

/* Threads 1..4 and several blockings, larger grids (real tiles and time
 * blocks chosen automatically, and a tiny cache budget). */
static void test_varcoef_threads_and_blockings(void)
{
    static const size_t tiles[][3] = {{0, 0, 0}, {0, 1, 1}, {1, 2, 3}, {5, 7, 8}};
    static const size_t time_blocks[] = {0, 1, 2, 5};
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    for (int form = FORM_FACTORED; form <= FORM_GENERAL; form++) {
        problem p;
        random_problem(&p, 3, form == FORM_GENERAL ? PEL_STENCIL_STAR : PEL_STENCIL_BOX, 2, form == FORM_GENERAL,
                       (form_kind)form);
        odd_dims(&p);
        set_faces(&p, varcoef_mixes[2 + form % 2]);
        for (int threads = 1; threads <= 4; threads++)
            for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++)
                for (size_t b = 0; b < sizeof time_blocks / sizeof time_blocks[0]; b++) {
                    pel_stencil_blocking blocking = {{tiles[t][0], tiles[t][1], tiles[t][2]}, time_blocks[b], 0,
                                                     (int)(b % 2)};
                    check_case(&p, PEL_FLOAT64, 7, threads, &blocking, 1);
                }
        /* Rows of 70 and 59 points (see test_wave_threads_and_blockings). */
        p.dims[0] = 21;
        p.dims[1] = 33;
        for (size_t nx = 70; nx >= 59; nx -= 11) {
            p.dims[2] = nx;
            for (int threads = 1; threads <= 4; threads++) {
                pel_stencil_blocking small_cache = {{0, 0, 0}, 0, 16384, 0};
                check_case(&p, PEL_FLOAT64, 9, threads, NULL, 1);
                check_case(&p, PEL_FLOAT64, 6, threads, &small_cache, 0);
            }
            check_case(&p, PEL_FLOAT64, 1, 2, NULL, 1);
        }
    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
}

/* Conservative variable-diffusivity heat, du/dt = div(kappa grad u), in the
 * general form with periodic boundaries: the flux through each face, with
 * kappa at the face midpoint, leaves one cell and enters the next, so the
 * total heat is kept up to rounding. Bound: each step rounds every point
 * (about 6 operations of relative error eps on values of size max|u|), and
 * the sums themselves add n*eps*max|u|: 64 * steps * n * eps * max|u|
 * leaves a wide margin; a non-conservative update (kappa at the point,
 * a(p)*Lap u) misses it by orders of magnitude. */
static void test_conservative_heat(void)
{
    const size_t ny = 48, nx = 40, n = ny * nx, nsteps = 200;
    const size_t dims[2] = {ny, nx};
    const pel_boundary faces[4] = {{PEL_BOUNDARY_PERIODIC, 0}, {PEL_BOUNDARY_PERIODIC, 0},
                                   {PEL_BOUNDARY_PERIODIC, 0}, {PEL_BOUNDARY_PERIODIC, 0}};
    const double dt = 0.1, ones[5] = {1, 1, 1, 1, 1};
    double *u = malloc(n * sizeof *u), *kappa = malloc(n * sizeof *kappa), *g[5];
    double before = 0, after = 0, max_u = 0;
    pel_stencil *s;

    for (int k = 0; k < 5; k++)
        g[k] = malloc(n * sizeof *g[k]);
    pel_test_fill(u, n, 5);
    for (size_t i = 0; i < n; i++)
        kappa[i] = pel_test_uniform(&rng, 0.2, 2.0);
    /* Terms in star order: (-1,0) (0,-1) (0,0) (0,1) (1,0); kappa at the
     * face between two cells is their mean, the same number on both sides. */
    for (size_t y = 0; y < ny; y++)
        for (size_t x = 0; x < nx; x++) {
            size_t p = y * nx + x;
            double south = 0.5 * (kappa[p] + kappa[(y + ny - 1) % ny * nx + x]);
            double north = 0.5 * (kappa[p] + kappa[(y + 1) % ny * nx + x]);
            double west = 0.5 * (kappa[p] + kappa[y * nx + (x + nx - 1) % nx]);
            double east = 0.5 * (kappa[p] + kappa[y * nx + (x + 1) % nx]);
            g[0][p] = dt * south / 4;
            g[1][p] = dt * west / 4;
            g[3][p] = dt * east / 4;
            g[4][p] = dt * north / 4;
            g[2][p] = 1.0 - g[0][p] - g[1][p] - g[3][p] - g[4][p];
        }
    /* The flux from p to its east neighbour uses g[3][p] = g[1][east]:
     * the coefficient grids must be exactly symmetric for conservation. */
    for (size_t y = 0; y < ny; y++)
        for (size_t x = 0; x < nx; x++)
            CU_ASSERT_EQUAL(g[3][y * nx + x], g[1][y * nx + (x + 1) % nx]);
    for (size_t i = 0; i < n; i++) {
        before += u[i];
        max_u = fmax(max_u, fabs(u[i]));
    }
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, ones, 5, 0, 0.0, &s));
    PEL_TEST_OK(pel_set_num_threads(2));
    PEL_TEST_OK(pel_stencil_apply_general(s, dims, faces, u, NULL, (const void *const *)g, NULL, nsteps, NULL, NULL));
    for (size_t i = 0; i < n; i++)
        after += u[i];
    CU_ASSERT(fabs(after - before) <= 64.0 * (double)nsteps * (double)n * 2.2e-16 * max_u);
    /* And the heat diffused: the spread shrank. */
    {
        double spread = 0;
        for (size_t i = 0; i < n; i++)
            spread = fmax(spread, fabs(u[i] - before / (double)n));
        CU_ASSERT(spread < 0.5 * max_u);
    }
    pel_stencil_destroy(s);
    for (int k = 0; k < 5; k++)
        free(g[k]);
    free(u);
    free(kappa);
}

/* The FMA order against a naive loop with C's fma(): every shape, radius,
 * boundary mix, with and without rhs, float; and in the factored form. */
static void test_fma_order(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    matrix_fma = 1;
    run_matrix(PEL_FLOAT64, FORM_CONSTANT, 0, varcoef_mixes, NVARMIXES, 1);
    run_matrix(PEL_FLOAT64, FORM_CONSTANT, 1, mixes, NMIXES, 2);
    run_matrix(PEL_FLOAT32, FORM_CONSTANT, 1, varcoef_mixes, NVARMIXES, 2);
    run_matrix(PEL_FLOAT64, FORM_FACTORED, 0, varcoef_mixes, NVARMIXES, 3);
    matrix_fma = 0;
    /* Larger grids: the vector kernels, automatic blocking, 1..4 threads. */
    {
        problem p;
        compare_count = mismatch_count = 0;
        for (int shape = 0; shape < 2; shape++) {
            random_problem(&p, 3, (pel_stencil_shape)shape, 1, shape, FORM_CONSTANT);
            p.fma = 1;
            p.dims[0] = 19;
            p.dims[1] = 23;
            p.dims[2] = 131;
            set_faces(&p, varcoef_mixes[2 + shape]);
            for (int threads = 1; threads <= 4; threads++) {
                check_case(&p, PEL_FLOAT64, 6, threads, NULL, 1);
                check_case(&p, PEL_FLOAT32, 3, threads, NULL, 0);
            }
        }
        CU_ASSERT_EQUAL(mismatch_count, 0);
    }
    /* The FMA order really differs from the separate one somewhere (else
     * the test above would not tell them apart). */
    {
        const double c[3] = {0.1, 0.7, 0.3};
        double u[64], a[64], b[64];
        size_t dims[1] = {64};
        pel_boundary faces[2] = {{PEL_BOUNDARY_PERIODIC, 0}, {PEL_BOUNDARY_PERIODIC, 0}};
        pel_stencil *plain, *fused;
        pel_test_fill(u, 64, 3);
        memcpy(a, u, sizeof u);
        memcpy(b, u, sizeof u);
        PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 1, PEL_STENCIL_STAR, 1, c, 3, 0, 0.0, &plain));
        PEL_TEST_OK(pel_stencil_create_fma(PEL_FLOAT64, 1, PEL_STENCIL_STAR, 1, c, 3, 0, 0.0, &fused));
        PEL_TEST_OK(pel_stencil_apply(plain, dims, faces, a, NULL, NULL, 20, NULL, NULL));
        PEL_TEST_OK(pel_stencil_apply(fused, dims, faces, b, NULL, NULL, 20, NULL, NULL));
        CU_ASSERT(memcmp(a, b, sizeof a) != 0);
        PEL_TEST_EXPECT_ERROR(pel_stencil_create_fma(PEL_FLOAT64, 1, PEL_STENCIL_STAR, 9, c, 3, 0, 0.0, &fused),
                              PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create_fma", "radius=9");
        CU_ASSERT_PTR_NULL(fused);
        pel_stencil_destroy(plain);
    }
}

/* ------------------------------------------------------------ two levels */

/* Runs the two-level form with pel and the reference, compares both final
 * levels bit for bit. use_work: 0 = pel's own buffers (results copied back),
 * 1 = a work buffer (results where the result pointers say). */
static void check_wave(const problem *p, pel_precision precision, size_t nsteps, int threads,
                       const pel_stencil_blocking *blocking, int use_work, int with_gamma)
{
    size_t n = grid_size(p), es = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    char *prev = malloc(n * es), *cur = malloc(n * es), *work = malloc(2 * n * es);
    char *r[3] = {malloc(n * es), malloc(n * es), malloc(n * es)};
    void *gamma = with_gamma ? coefficient_grid(n, precision, 0.05, 0.3) : NULL;
    void *got_prev = NULL, *got_cur = NULL;
    const double alpha = 1.9375, beta = -0.96875;
    int ip = 0, ic = 1;
    pel_stencil *s = NULL;

    if (precision == PEL_FLOAT32) {
        pel_test_fill_float((float *)prev, n, 3 + nsteps);
        pel_test_fill_float((float *)cur, n, 4 + nsteps);
    } else {
        pel_test_fill((double *)prev, n, 3 + nsteps);
        pel_test_fill((double *)cur, n, 4 + nsteps);
    }
    memcpy(r[0], prev, n * es);
    memcpy(r[1], cur, n * es);
    memset(work, 0x5a, 2 * n * es);
    for (size_t step = 0; step < nsteps; step++) {
        int next = 3 - ip - ic;
        if (precision == PEL_FLOAT32)
            reference_wave_s(p, (float *)r[ic], (float *)r[ip], (float *)r[next], gamma, (float)alpha, (float)beta);
        else
            reference_wave_d(p, (double *)r[ic], (double *)r[ip], (double *)r[next], gamma, alpha, beta);
        ip = ic;
        ic = next;
    }
    PEL_TEST_OK(pel_stencil_create(precision, p->ndim, p->shape, p->radius, p->coefficients, p->npoints, 0, 0.0,
                                   &s));
    PEL_TEST_OK(pel_set_num_threads(threads));
    {
        void *levels[4] = {prev, cur, use_work ? work : NULL, use_work ? work + n * es : NULL};
        PEL_TEST_OK(pel_stencil_apply_wave(s, p->dims, p->faces, levels, alpha, beta, gamma, nsteps, blocking));
        got_prev = levels[0];
        got_cur = levels[1];
        /* The four grids come back permuted, none lost. */
        if (use_work)
            for (int i = 0; i < 4; i++) {
                int found = 0;
                for (int j = 0; j < 4; j++)
                    found += levels[j] ==
                             (i == 0 ? (void *)prev : i == 1 ? (void *)cur : work + (size_t)(i - 2) * n * es);
                CU_ASSERT_EQUAL(found, 1);
            }
    }
    compare_count++;
    if (!use_work && (got_prev != prev || got_cur != cur)) {
        CU_FAIL("without work the levels must come back in previous and current");
    } else if (memcmp(got_cur, r[ic], n * es) != 0 || memcmp(got_prev, r[ip], n * es) != 0) {
        mismatch_count++;
        if (mismatch_count < 5) {
            char what[320];
            snprintf(what, sizeof what,
                     "wave mismatch: ndim=%d shape=%d r=%d dims=%zux%zux%zu faces=%d%d%d%d%d%d steps=%zu "
                     "threads=%d float=%d work=%d gamma=%d T=%zu",
                     p->ndim, p->shape, p->radius, p->dims[0], p->dims[1], p->dims[2], p->faces[0].kind,
                     p->faces[1].kind, p->faces[2].kind, p->faces[3].kind, p->faces[4].kind, p->faces[5].kind,
                     nsteps, threads, precision == PEL_FLOAT32, use_work, with_gamma,
                     blocking ? blocking->time_block : 0);
            CU_FAIL(what);
            fprintf(stderr, "%s\n", what);
        }
    }
    pel_stencil_destroy(s);
    free(gamma);
    free(prev);
    free(cur);
    free(work);
    for (int i = 0; i < 3; i++)
        free(r[i]);
}

static void run_wave_matrix(pel_precision precision, int mix_step)
{
    static const size_t steps[] = {1, 2, 7};
    compare_count = mismatch_count = 0;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int shape = 0; shape < 2; shape++)
            for (int radius = 1; radius <= 4; radius++) {
                problem p;
                if (ndim == 1 && shape == PEL_STENCIL_BOX && radius > 1)
                    continue;
                random_problem(&p, ndim, (pel_stencil_shape)shape, radius, 0, FORM_CONSTANT);
                odd_dims(&p);
                for (int mix = (radius + shape) % mix_step; mix < NVARMIXES + NMIXES; mix += mix_step) {
                    set_faces(&p, mix < NVARMIXES ? varcoef_mixes[mix] : mixes[mix - NVARMIXES]);
                    for (size_t si = 0; si < sizeof steps / sizeof steps[0]; si++) {
                        int threads = 1 + (int)((mix + si + (size_t)radius) % 4);
                        pel_stencil_blocking forced = {{0, 0, 0}, 2 + (size_t)(mix % 2), 0, 0};
                        for (int a = 0; a < ndim; a++)
                            forced.tile[a] = 3 + (size_t)(a + mix) % 3;
                        check_wave(&p, precision, steps[si], threads, NULL, (int)(si % 2), (mix + (int)si) % 2);
                        check_wave(&p, precision, steps[si], threads, &forced, (int)((si + 1) % 2), mix % 2);
                    }
                }
            }
    CU_ASSERT_EQUAL(mismatch_count, 0);
    CU_ASSERT(compare_count > 50);
}

static void test_wave_double(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_wave_matrix(PEL_FLOAT64, 2);
}

static void test_wave_float(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_wave_matrix(PEL_FLOAT32, 5);
}

static void test_wave_threads_and_blockings(void)
{
    static const size_t tiles[][3] = {{0, 0, 0}, {0, 1, 1}, {1, 2, 3}, {5, 7, 8}};
    static const size_t time_blocks[] = {0, 1, 2, 3, 6};
    problem p;
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    random_problem(&p, 3, PEL_STENCIL_STAR, 2, 0, FORM_CONSTANT);
    odd_dims(&p);
    set_faces(&p, varcoef_mixes[2]);
    for (int threads = 1; threads <= 4; threads++)
        for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++)
            for (size_t b = 0; b < sizeof time_blocks / sizeof time_blocks[0]; b++) {
                pel_stencil_blocking blocking = {{tiles[t][0], tiles[t][1], tiles[t][2]}, time_blocks[b], 0,
                                                 (int)(b % 2)};
                check_wave(&p, PEL_FLOAT64, 8, threads, &blocking, (int)(t % 2), (int)(b % 2));
            }
    /* Rows of 70 and 59 points: the fused kernels' strips of 32 (AVX-512),
     * single vectors after a strip, and masked last vectors, on the grid's
     * rows (the vector part, 4 shorter) and on the rings' (ghosts). */
    p.dims[0] = 21;
    p.dims[1] = 33;
    for (size_t nx = 70; nx >= 59; nx -= 11) {
        p.dims[2] = nx;
        for (int threads = 1; threads <= 4; threads++) {
            pel_stencil_blocking small_cache = {{0, 0, 0}, 0, 16384, 0};
            check_wave(&p, PEL_FLOAT64, 9, threads, NULL, 1, 1);
            check_wave(&p, PEL_FLOAT64, 6, threads, &small_cache, 0, 1);
        }
        check_wave(&p, PEL_FLOAT64, 1, 2, NULL, 1, 1);
    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
}

/* Plane wave u = sin(k.x - w t), w = c|k|, on the periodic unit cube, run
 * with the leapfrog form from the exact u(-dt), u(0) to t = 0.25 at a fixed
 * CFL number; returns the max error. */
static double plane_wave_error(int ndim, int npoints, size_t n, size_t nsteps, double c)
{
    const double pi = 3.14159265358979323846, t_end = 0.25, h = 1.0 / (double)n, dt = t_end / (double)nsteps;
    const double kx = 2 * pi, ky = ndim > 1 ? 2 * pi : 0, kz = ndim > 2 ? 2 * pi : 0;
    const double omega = c * sqrt(kx * kx + ky * ky + kz * kz);
    size_t dims[3] = {n, n, n}, total = 1;
    pel_boundary faces[6];
    pel_stencil *lap;
    double *prev, *cur, error = 0;
    for (int a = 0; a < ndim; a++)
        total *= n;
    for (int f = 0; f < 6; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_PERIODIC, 0};
    prev = malloc(total * sizeof *prev);
    cur = malloc(total * sizeof *cur);
    for (size_t i = 0; i < total; i++) {
        size_t ix = ndim == 1 ? i : i % n, iy = ndim > 1 ? i / n % n : 0, iz = ndim > 2 ? i / (n * n) : 0;
        /* C order: the last axis fastest; which axis gets which k does not
         * matter for this wave. */
        double phase = kx * (double)ix * h + ky * (double)iy * h + kz * (double)iz * h;
        prev[i] = sin(phase + omega * dt);
        cur[i] = sin(phase);
    }
    PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, ndim, npoints, h, &lap));
    {
        /* gamma = c^2 dt^2 everywhere: a uniform velocity model. */
        double *gamma = malloc(total * sizeof *gamma);
        void *levels[4] = {prev, cur, NULL, NULL};
        for (size_t i = 0; i < total; i++)
            gamma[i] = c * c * dt * dt;
        PEL_TEST_OK(pel_stencil_apply_wave(lap, dims, faces, levels, 2.0, -1.0, gamma, nsteps, NULL));
        CU_ASSERT(levels[0] == prev && levels[1] == cur);
        free(gamma);
    }
    for (size_t i = 0; i < total; i++) {
        size_t ix = ndim == 1 ? i : i % n, iy = ndim > 1 ? i / n % n : 0, iz = ndim > 2 ? i / (n * n) : 0;
        double phase = kx * (double)ix * h + ky * (double)iy * h + kz * (double)iz * h;
        error = fmax(error, fabs(cur[i] - sin(phase - omega * t_end)));
    }
    pel_stencil_destroy(lap);
    free(prev);
    free(cur);
    return error;
}

/* Second-order convergence: halving h and dt (fixed CFL) divides the error
 * by 4 (leapfrog in time; the 3-point Laplacian is second order too, the
 * radius-4 star eighth order so time dominates). Accepted: 3.5 .. 4.5. */
static void test_wave_convergence(void)
{
    PEL_TEST_OK(pel_set_num_threads(2));
    {
        double coarse = plane_wave_error(1, 3, 64, 32, 1.0), fine = plane_wave_error(1, 3, 128, 64, 1.0);
        CU_ASSERT(coarse < 0.05);
        CU_ASSERT(coarse / fine > 3.5 && coarse / fine < 4.5);
    }
    {
        double coarse = plane_wave_error(3, 25, 16, 16, 1.0), fine = plane_wave_error(3, 25, 32, 32, 1.0);
        CU_ASSERT(coarse < 0.1);
        CU_ASSERT(coarse / fine > 3.5 && coarse / fine < 4.5);
    }
}

/* ------------------------------------------------------------ user row kernels */

/* A nonlinear test kernel that reads every row at every offset, and the
 * index: out = sum_j,d w_jd * row_j[i+d] + 0.05*|row_0[i-r]|*row_last[i+r]
 * + 1e-3 * (sum of the index). */
typedef struct row_kernel_data {
    pel_precision precision;
    int ndim, radius;
    size_t nrows;
    double weight[81][9];
} row_kernel_data;

static void test_kernel(void *out, const void *const *rows, size_t n, const size_t *index, void *user_data)
{
    const row_kernel_data *q = user_data;
    const long r = q->radius, w = 2 * r + 1;
    for (size_t i = 0; i < n; i++) {
        double where = 0;
        for (int a = 0; a < q->ndim; a++)
            where += (double)index[a] + (a == q->ndim - 1 ? (double)i : 0.0);
        if (q->precision == PEL_FLOAT32) {
            float acc = 0;
            for (size_t j = 0; j < q->nrows; j++)
                for (long d = 0; d < w; d++)
                    acc = acc + (float)q->weight[j][d] * ((const float *)rows[j])[(long)i + d - r];
            acc = acc + 0.05f * fabsf(((const float *)rows[0])[(long)i - r]) *
                            ((const float *)rows[q->nrows - 1])[(long)i + r];
            ((float *)out)[i] = acc + 1e-3f * (float)where;
        } else {
            double acc = 0;
            for (size_t j = 0; j < q->nrows; j++)
                for (long d = 0; d < w; d++)
                    acc = acc + q->weight[j][d] * ((const double *)rows[j])[(long)i + d - r];
            acc = acc + 0.05 * fabs(((const double *)rows[0])[(long)i - r]) *
                            ((const double *)rows[q->nrows - 1])[(long)i + r];
            ((double *)out)[i] = acc + 1e-3 * where;
        }
    }
}

/* The reference: each point's neighbourhood gathered by the header's
 * boundary rule into rows of 2r+1 values, the kernel called on one point. */
static void reference_rows_step(const problem *p, pel_precision precision, const void *in, void *out,
                                row_kernel_data *q)
{
    const size_t es = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double), n = grid_size(p);
    const int r = p->radius, w = 2 * r + 1;
    double gathered[81 * 9];
    const void *rows[81];
    for (size_t point = 0; point < n; point++) {
        long index[3];
        size_t uindex[3];
        point_index(p, point, index);
        for (size_t j = 0; j < q->nrows; j++) {
            long d0 = p->ndim == 3 ? (long)(j / (size_t)w) - r : p->ndim == 2 ? (long)j - r : 0;
            long d1 = p->ndim == 3 ? (long)(j % (size_t)w) - r : 0;
            for (int d = 0; d < w; d++) {
                long at[3] = {index[0], index[1], index[2]};
                size_t lin;
                double v;
                if (p->ndim == 3) {
                    at[0] += d0;
                    at[1] += d1;
                    at[2] += d - r;
                } else if (p->ndim == 2) {
                    at[0] += d0;
                    at[1] += d - r;
                } else {
                    at[0] += d - r;
                }
                if (reference_locate(p, at, &lin, &v)) {
                    memcpy((char *)gathered + ((size_t)j * (size_t)w + (size_t)d) * es, (const char *)in + lin * es,
                           es);
                } else if (precision == PEL_FLOAT32) {
                    float f = (float)v;
                    memcpy((char *)gathered + ((size_t)j * (size_t)w + (size_t)d) * es, &f, es);
                } else {
                    memcpy((char *)gathered + ((size_t)j * (size_t)w + (size_t)d) * es, &v, es);
                }
            }
            rows[j] = (const char *)gathered + ((size_t)j * (size_t)w + (size_t)r) * es;
        }
        for (int a = 0; a < 3; a++)
            uindex[a] = (size_t)index[a];
        test_kernel((char *)out + point * es, rows, 1, uindex, q);
    }
}

static void check_rows(const problem *p, pel_precision precision, size_t nsteps, int threads,
                       const pel_stencil_blocking *blocking, int use_work)
{
    size_t n = grid_size(p), es = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    char *u0 = malloc(n * es), *u1 = malloc(n * es), *r0 = malloc(n * es), *r1 = malloc(n * es);
    void *result = NULL;
    char *a = r0, *b = r1;
    row_kernel_data q;
    memset(&q, 0, sizeof q);
    q.precision = precision;
    q.ndim = p->ndim;
    q.radius = p->radius;
    q.nrows = p->ndim == 3 ? (size_t)(2 * p->radius + 1) * (size_t)(2 * p->radius + 1)
                           : p->ndim == 2 ? (size_t)(2 * p->radius + 1) : 1;
    for (size_t j = 0; j < q.nrows; j++)
        for (int d = 0; d < 2 * p->radius + 1; d++)
            q.weight[j][d] = pel_test_uniform(&rng, 0.1, 0.8) / (double)(q.nrows * (size_t)(2 * p->radius + 1));
    if (precision == PEL_FLOAT32)
        pel_test_fill_float((float *)u0, n, 17 + nsteps);
    else
        pel_test_fill((double *)u0, n, 17 + nsteps);
    memcpy(r0, u0, n * es);
    for (size_t step = 0; step < nsteps; step++) {
        char *t;
        reference_rows_step(p, precision, a, b, &q);
        t = a;
        a = b;
        b = t;
    }
    PEL_TEST_OK(pel_set_num_threads(threads));
    PEL_TEST_OK(pel_stencil_apply_rows(precision, p->ndim, p->radius, p->dims, p->faces, u0, use_work ? u1 : NULL,
                                       test_kernel, &q, nsteps, blocking, &result));
    compare_count++;
    if (memcmp(result, a, n * es) != 0) {
        mismatch_count++;
        if (mismatch_count < 5) {
            char what[320];
            snprintf(what, sizeof what,
                     "rows mismatch: ndim=%d r=%d dims=%zux%zux%zu faces=%d%d%d%d%d%d steps=%zu threads=%d "
                     "float=%d T=%zu",
                     p->ndim, p->radius, p->dims[0], p->dims[1], p->dims[2], p->faces[0].kind, p->faces[1].kind,
                     p->faces[2].kind, p->faces[3].kind, p->faces[4].kind, p->faces[5].kind, nsteps, threads,
                     precision == PEL_FLOAT32, blocking ? blocking->time_block : 0);
            CU_FAIL(what);
            fprintf(stderr, "%s\n", what);
        }
    }
    free(u0);
    free(u1);
    free(r0);
    free(r1);
}

static void test_rows_matrix(void)
{
    static const size_t steps[] = {1, 4};
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int radius = 1; radius <= (ndim == 3 ? 2 : 4); radius++) {
            problem p;
            random_problem(&p, ndim, PEL_STENCIL_BOX, radius, 0, FORM_CONSTANT);
            odd_dims(&p);
            for (int mix = radius % 2; mix < NVARMIXES + NMIXES; mix += 2) {
                set_faces(&p, mix < NVARMIXES ? varcoef_mixes[mix] : mixes[mix - NVARMIXES]);
                for (size_t si = 0; si < sizeof steps / sizeof steps[0]; si++) {
                    int threads = 1 + (int)((mix + si + (size_t)radius) % 4);
                    pel_stencil_blocking forced = {{0, 0, 0}, 2 + (size_t)(mix % 2), 0, (int)(si % 2)};
                    for (int a = 0; a < ndim; a++)
                        forced.tile[a] = 3 + (size_t)(a + mix) % 3;
                    check_rows(&p, mix % 3 == 2 ? PEL_FLOAT32 : PEL_FLOAT64, steps[si], threads, NULL, (int)(si % 2));
                    check_rows(&p, PEL_FLOAT64, steps[si], threads, &forced, 1);
                }
            }
        }
    /* Short axes and threads 1..4 with several time blocks. */
    {
        problem p;
        static const size_t time_blocks[] = {0, 1, 3};
        random_problem(&p, 3, PEL_STENCIL_BOX, 2, 0, FORM_CONSTANT);
        p.dims[0] = 3;
        p.dims[1] = 1;
        p.dims[2] = 5;
        set_faces(&p, mixes[3]);
        for (int threads = 1; threads <= 4; threads++)
            for (size_t b = 0; b < sizeof time_blocks / sizeof time_blocks[0]; b++) {
                pel_stencil_blocking blocking = {{0, 0, 0}, time_blocks[b], 0, 0};
                check_rows(&p, PEL_FLOAT64, 5, threads, &blocking, 1);
            }
    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
    CU_ASSERT(compare_count > 50);
}

/* First-order upwind advection u_t + a . grad u = 0 with a mixed-sign
 * velocity, periodic: the row kernel and the same update written as a plain
 * loop over the periodic grid, with the same order of operations. */
typedef struct upwind_data {
    double c[3]; /* a_i dt / h per axis (the Courant numbers) */
} upwind_data;

static double upwind_point(const double *c, double centre, const double *lower, const double *upper)
{
    double acc = centre;
    for (int a = 0; a < 3; a++)
        acc = c[a] > 0 ? acc - c[a] * (centre - lower[a]) : acc - c[a] * (upper[a] - centre);
    return acc;
}

static void upwind_kernel(void *out, const void *const *rows, size_t n, const size_t *index, void *user_data)
{
    const upwind_data *q = user_data;
    /* 3-D radius 1: rows j = (d0+1)*3 + (d1+1); the centre row is 4. */
    const double *centre = rows[4], *down0 = rows[1], *up0 = rows[7], *down1 = rows[3], *up1 = rows[5];
    (void)index;
    for (size_t i = 0; i < n; i++) {
        const double lower[3] = {down0[i], down1[i], centre[(long)i - 1]};
        const double upper[3] = {up0[i], up1[i], centre[i + 1]};
        ((double *)out)[i] = upwind_point(q->c, centre[i], lower, upper);
    }
}

static void test_upwind_advection(void)
{
    const size_t n0 = 12, n1 = 17, n2 = 40, n = n0 * n1 * n2, nsteps = 20;
    const size_t dims[3] = {n0, n1, n2};
    pel_boundary faces[6];
    upwind_data q = {{0.21, -0.13, 0.37}};
    double *u = malloc(n * sizeof *u), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (int f = 0; f < 6; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_PERIODIC, 0};
    pel_test_fill(u, n, 77);
    memcpy(a, u, n * sizeof *u);
    for (size_t step = 0; step < nsteps; step++) {
        for (size_t i = 0; i < n0; i++)
            for (size_t j = 0; j < n1; j++)
                for (size_t k = 0; k < n2; k++) {
#define AT(x, y, z) a[((x) % n0 * n1 + (y) % n1) * n2 + (z) % n2]
                    const double lower[3] = {AT(i + n0 - 1, j, k), AT(i, j + n1 - 1, k), AT(i, j, k + n2 - 1)};
                    const double upper[3] = {AT(i + 1, j, k), AT(i, j + 1, k), AT(i, j, k + 1)};
                    b[(i * n1 + j) * n2 + k] = upwind_point(q.c, AT(i, j, k), lower, upper);
#undef AT
                }
        double *t = a;
        a = b;
        b = t;
    }
    for (int threads = 1; threads <= 4; threads += 3) {
        double *v = malloc(n * sizeof *v);
        memcpy(v, u, n * sizeof *u);
        PEL_TEST_OK(pel_set_num_threads(threads));
        PEL_TEST_OK(pel_stencil_apply_rows(PEL_FLOAT64, 3, 1, dims, faces, v, NULL, upwind_kernel, &q, nsteps, NULL,
                                           NULL));
        CU_ASSERT(memcmp(v, a, n * sizeof *v) == 0);
        free(v);
    }
    free(u);
    free(a);
    free(b);
}

/* ------------------------------------------------------------ coupled fields */

typedef struct system_case {
    int nfields;
    size_t nterms;
    int output[8], input[8], scaled[8];
    problem term[8]; /* each term's stencil (offsets, coefficients); term[0] holds dims and faces */
} system_case;

/* The header's order: s_i = S_i u_in(p); s_i = scale_i * s_i; acc = s_first;
 * acc = acc + s_i. */
static void reference_system_step(const system_case *sc, double *const *in, double *const *out,
                                  double *const *scale)
{
    const problem *g = &sc->term[0];
    size_t n = grid_size(g);
    for (int f = 0; f < sc->nfields; f++)
        for (size_t point = 0; point < n; point++) {
            long index[3];
            double acc = 0;
            int first = 1;
            point_index(g, point, index);
            for (size_t i = 0; i < sc->nterms; i++) {
                const problem *p = &sc->term[i];
                double sum = 0;
                if (sc->output[i] != f)
                    continue;
                for (size_t k = 0; k < p->npoints; k++) {
                    long at[3];
                    size_t lin;
                    double v;
                    for (int a = 0; a < 3; a++)
                        at[a] = index[a] + p->offsets[k][a];
                    if (reference_locate(g, at, &lin, &v))
                        v = in[sc->input[i]][lin];
                    sum = k == 0 ? p->coefficients[0] * v : sum + p->coefficients[k] * v;
                }
                if (sc->scaled[i])
                    sum = scale[i][point] * sum;
                acc = first ? sum : acc + sum;
                first = 0;
            }
            out[f][point] = acc;
        }
}

static void check_system(const system_case *sc, size_t nsteps, int threads, const pel_stencil_blocking *blocking,
                         int use_work)
{
    const problem *g = &sc->term[0];
    size_t n = grid_size(g);
    double *u[4], *w[4], *r0[4], *r1[4], *scale[8];
    void *fields[4], *work[4];
    pel_stencil *st[8];
    pel_stencil_term terms[8];
    for (int f = 0; f < sc->nfields; f++) {
        u[f] = malloc(n * sizeof(double));
        w[f] = malloc(n * sizeof(double));
        r0[f] = malloc(n * sizeof(double));
        r1[f] = malloc(n * sizeof(double));
        pel_test_fill(u[f], n, 40 + (uint64_t)f);
        memcpy(r0[f], u[f], n * sizeof(double));
        fields[f] = u[f];
        work[f] = w[f];
    }
    for (size_t i = 0; i < sc->nterms; i++) {
        const problem *p = &sc->term[i];
        scale[i] = sc->scaled[i] ? coefficient_grid(n, PEL_FLOAT64, 0.4, 1.0) : NULL;
        PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, p->ndim, p->shape, p->radius, p->coefficients, p->npoints, 0,
                                       0.0, &st[i]));
        terms[i] = (pel_stencil_term){sc->output[i], sc->input[i], st[i], scale[i]};
    }
    for (size_t step = 0; step < nsteps; step++) {
        reference_system_step(sc, r0, r1, scale);
        for (int f = 0; f < sc->nfields; f++) {
            double *t = r0[f];
            r0[f] = r1[f];
            r1[f] = t;
        }
    }
    PEL_TEST_OK(pel_set_num_threads(threads));
    PEL_TEST_OK(pel_stencil_system_apply(sc->nfields, terms, sc->nterms, g->dims, g->faces, fields,
                                         use_work ? work : NULL, nsteps, blocking));
    compare_count++;
    for (int f = 0; f < sc->nfields; f++)
        if (memcmp(fields[f], r0[f], n * sizeof(double)) != 0) {
            mismatch_count++;
            if (mismatch_count < 5) {
                char what[256];
                snprintf(what, sizeof what,
                         "system mismatch: field %d of %d, %zu terms, ndim=%d dims=%zux%zux%zu steps=%zu threads=%d "
                         "T=%zu work=%d",
                         f, sc->nfields, sc->nterms, g->ndim, g->dims[0], g->dims[1], g->dims[2], nsteps, threads,
                         blocking ? blocking->time_block : 0, use_work);
                CU_FAIL(what);
                fprintf(stderr, "%s\n", what);
            }
            break;
        }
    for (size_t i = 0; i < sc->nterms; i++) {
        pel_stencil_destroy(st[i]);
        free(scale[i]);
    }
    for (int f = 0; f < sc->nfields; f++) {
        free(u[f]);
        free(w[f]);
        free(r0[f]);
        free(r1[f]);
    }
}

/* Random systems: 1..4 fields, every field the output of one to three
 * terms reading random fields through stars and boxes of radius 1..3. */
static void random_system(system_case *sc, int ndim, int nfields, int mix)
{
    memset(sc, 0, sizeof *sc);
    sc->nfields = nfields;
    for (int f = 0; f < nfields; f++) {
        int count = 1 + (int)(pel_test_next(&rng) % 3);
        /* At most 8 terms, and every later field keeps one. */
        if (count > 8 - (int)sc->nterms - (nfields - 1 - f))
            count = 8 - (int)sc->nterms - (nfields - 1 - f);
        for (int c = 0; c < count; c++) {
            size_t i = sc->nterms++;
            int radius = 1 + (int)(pel_test_next(&rng) % 3);
            pel_stencil_shape shape = ndim < 3 && pel_test_next(&rng) % 2 ? PEL_STENCIL_BOX : PEL_STENCIL_STAR;
            random_problem(&sc->term[i], ndim, shape, radius, 0, FORM_CONSTANT);
            for (size_t k = 0; k < sc->term[i].npoints; k++)
                sc->term[i].coefficients[k] /= (double)count;
            sc->output[i] = f;
            sc->input[i] = (int)(pel_test_next(&rng) % (uint64_t)nfields);
            sc->scaled[i] = (int)(pel_test_next(&rng) % 2);
        }
    }
    odd_dims(&sc->term[0]);
    set_faces(&sc->term[0], mix < NVARMIXES ? varcoef_mixes[mix] : mixes[mix - NVARMIXES]);
}

static void test_system_matrix(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int nfields = 1; nfields <= 4; nfields++)
            for (int mix = nfields % 2; mix < NVARMIXES + NMIXES; mix += 3) {
                system_case sc;
                random_system(&sc, ndim, nfields, mix);
                for (size_t steps = 1; steps <= 4; steps += 3) {
                    int threads = 1 + (int)((size_t)mix + steps + (size_t)nfields) % 4;
                    pel_stencil_blocking forced = {{0, 0, 0}, 2 + (size_t)(mix % 2), 0, (int)(steps % 2)};
                    for (int a = 0; a < ndim; a++)
                        forced.tile[a] = 3 + (size_t)(a + mix) % 3;
                    check_system(&sc, steps, threads, NULL, (int)(steps % 2));
                    check_system(&sc, steps, threads, &forced, (int)((steps + 1) % 2));
                }
            }
    /* Threads 1..4 x time blocks on a 3-D two-field system. */
    {
        system_case sc;
        static const size_t time_blocks[] = {0, 1, 3, 5};
        random_system(&sc, 3, 2, 2);
        for (int threads = 1; threads <= 4; threads++)
            for (size_t b = 0; b < sizeof time_blocks / sizeof time_blocks[0]; b++) {
                pel_stencil_blocking blocking = {{0, 2, 3}, time_blocks[b], 0, 0};
                check_system(&sc, 7, threads, &blocking, (int)(b % 2));
            }
    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
    CU_ASSERT(compare_count > 40);
}

static void test_system_errors(void)
{
    double u[60], v[60], w[60], x[60], a[60], copy_u[60], copy_v[60];
    size_t dims[3] = {3, 4, 5};
    pel_boundary faces[6];
    pel_stencil *lap, *lap2d, *with_rhs;
    double c7[7] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
    void *fields[2] = {u, v}, *work[2] = {w, x};
    for (int f = 0; f < 6; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_NEAREST, 0};
    pel_test_fill(u, 60, 1);
    pel_test_fill(v, 60, 2);
    memcpy(copy_u, u, sizeof u);
    memcpy(copy_v, v, sizeof v);
    PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, 1.0, &lap));
    PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, 2, 5, 1.0, &lap2d));
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, c7, 7, 1, 0.5, &with_rhs));
    {
        pel_stencil_term good[2] = {{0, 1, lap, NULL}, {1, 0, lap, a}};
        pel_stencil_term bad[2];
#define SYSTEM_ERR(call, fragment) \
    PEL_TEST_EXPECT_ERROR(call, PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_system_apply", fragment)
        SYSTEM_ERR(pel_stencil_system_apply(5, good, 2, dims, faces, fields, work, 1, NULL), "nfields=5");
        SYSTEM_ERR(pel_stencil_system_apply(2, NULL, 2, dims, faces, fields, work, 1, NULL), "terms");
        SYSTEM_ERR(pel_stencil_system_apply(2, good, 0, dims, faces, fields, work, 1, NULL), "nterms=0");
        SYSTEM_ERR(pel_stencil_system_apply(2, good, 1, dims, faces, fields, work, 1, NULL), "field 1");
        memcpy(bad, good, sizeof bad);
        bad[1].stencil = NULL;
        SYSTEM_ERR(pel_stencil_system_apply(2, bad, 2, dims, faces, fields, work, 1, NULL), "terms[1].stencil");
        memcpy(bad, good, sizeof bad);
        bad[0].output = 2;
        SYSTEM_ERR(pel_stencil_system_apply(2, bad, 2, dims, faces, fields, work, 1, NULL), "terms[0].output=2");
        memcpy(bad, good, sizeof bad);
        bad[1].input = -1;
        SYSTEM_ERR(pel_stencil_system_apply(2, bad, 2, dims, faces, fields, work, 1, NULL), "terms[1].input=-1");
        memcpy(bad, good, sizeof bad);
        bad[1].stencil = with_rhs;
        SYSTEM_ERR(pel_stencil_system_apply(2, bad, 2, dims, faces, fields, work, 1, NULL), "rhs term");
        bad[1].stencil = lap2d;
        SYSTEM_ERR(pel_stencil_system_apply(2, bad, 2, dims, faces, fields, work, 1, NULL), "ndim");
        SYSTEM_ERR(pel_stencil_system_apply(2, good, 2, NULL, faces, fields, work, 1, NULL), "dims");
        SYSTEM_ERR(pel_stencil_system_apply(2, good, 2, dims, faces, NULL, work, 1, NULL), "fields");
        fields[1] = u + 7;
        SYSTEM_ERR(pel_stencil_system_apply(2, good, 2, dims, faces, fields, work, 1, NULL),
                   "fields[0] overlaps fields[1]");
        fields[1] = v;
        work[1] = v + 3;
        SYSTEM_ERR(pel_stencil_system_apply(2, good, 2, dims, faces, fields, work, 1, NULL), "overlaps work[1]");
        work[1] = x;
        memcpy(bad, good, sizeof bad);
        bad[1].scale = w + 1;
        SYSTEM_ERR(pel_stencil_system_apply(2, bad, 2, dims, faces, fields, work, 1, NULL), "terms[1].scale overlaps");
        {
            pel_stencil_blocking big = {{0, 5, 0}, 0, 0, 0};
            SYSTEM_ERR(pel_stencil_system_apply(2, good, 2, dims, faces, fields, work, 1, &big), "blocking->tile[1]=5");
        }
#undef SYSTEM_ERR
        CU_ASSERT(memcmp(u, copy_u, sizeof u) == 0 && memcmp(v, copy_v, sizeof v) == 0);
        CU_ASSERT(fields[0] == (void *)u && fields[1] == (void *)v && work[0] == (void *)w && work[1] == (void *)x);
    }
    pel_stencil_destroy(lap);
    pel_stencil_destroy(lap2d);
    pel_stencil_destroy(with_rhs);
}

/* ------------------------------------------------------------ errors */

static void test_varcoef_errors(void)
{
    double u[60], w[60], a[60], b[60], rhs[60], copy[60], wcopy[60];
    const void *g[7] = {a, b, a, b, a, b, a}, *g_hole[7] = {a, b, a, NULL, a, b, a};
    size_t dims[3] = {3, 4, 5}, zero[3] = {3, 0, 5};
    pel_boundary faces[6], bad[6];
    pel_stencil *s, *with_rhs;
    double c7[7] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
    void *result = u;

    for (int f = 0; f < 6; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_MIRROR, 0.5};
    pel_test_fill(u, 60, 11);
    pel_test_fill(w, 60, 12);
    pel_test_fill(a, 60, 13);
    pel_test_fill(b, 60, 14);
    pel_test_fill(rhs, 60, 15);
    memcpy(copy, u, sizeof u);
    memcpy(wcopy, w, sizeof w);
    PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, 1.0, &s));
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, c7, 7, 1, 0.5, &with_rhs));

#define FACTORED_ERR(call, status, fragment) \
    PEL_TEST_EXPECT_ERROR(call, status, "pel_stencil_apply_factored", fragment)
#define GENERAL_ERR(call, status, fragment) \
    PEL_TEST_EXPECT_ERROR(call, status, "pel_stencil_apply_general", fragment)
    FACTORED_ERR(pel_stencil_apply_factored(NULL, dims, faces, u, w, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "stencil");
    FACTORED_ERR(pel_stencil_apply_factored(s, NULL, faces, u, w, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "dims");
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, NULL, u, w, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "faces");
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, faces, NULL, w, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "grid");
    FACTORED_ERR(pel_stencil_apply_factored(s, zero, faces, u, w, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "dims[1]=0");
    memcpy(bad, faces, sizeof bad);
    bad[5].kind = (pel_boundary_kind)7;
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, bad, u, w, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "faces[5].kind=7");
    bad[5].kind = PEL_BOUNDARY_PERIODIC;
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, bad, u, w, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "mirror and periodic");
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, faces, u, u + 10, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "work overlaps grid");
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, faces, u, w, a, b, NULL, 1, NULL, NULL),
                 PEL_ERROR_INVALID_ARGUMENT, "result");
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, faces, u, w, u, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "scale overlaps");
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, faces, u, w, a, w + 3, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "center overlaps");
    FACTORED_ERR(pel_stencil_apply_factored(s, dims, faces, u, w, a, b, rhs, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "rhs must be NULL");
    FACTORED_ERR(pel_stencil_apply_factored(with_rhs, dims, faces, u, w, a, b, NULL, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "rhs must not be NULL");
    FACTORED_ERR(pel_stencil_apply_factored(with_rhs, dims, faces, u, w, a, b, w, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "rhs overlaps");
    {
        pel_stencil_blocking big = {{0, 0, 9}, 0, 0, 0};
        FACTORED_ERR(pel_stencil_apply_factored(s, dims, faces, u, w, a, b, NULL, 1, &big, &result),
                     PEL_ERROR_INVALID_ARGUMENT, "blocking->tile[2]=9");
    }
    GENERAL_ERR(pel_stencil_apply_general(NULL, dims, faces, u, w, g, NULL, 1, NULL, &result),
                PEL_ERROR_INVALID_ARGUMENT, "stencil");
    GENERAL_ERR(pel_stencil_apply_general(s, dims, faces, u, w, NULL, NULL, 1, NULL, &result),
                PEL_ERROR_INVALID_ARGUMENT, "term_grids must not be NULL");
    GENERAL_ERR(pel_stencil_apply_general(s, dims, faces, u, w, g_hole, NULL, 1, NULL, &result),
                PEL_ERROR_INVALID_ARGUMENT, "term_grids[3]");
    g_hole[3] = u + 2;
    GENERAL_ERR(pel_stencil_apply_general(s, dims, faces, u, w, g_hole, NULL, 1, NULL, &result),
                PEL_ERROR_INVALID_ARGUMENT, "term_grids[3] overlaps");
    GENERAL_ERR(pel_stencil_apply_general(s, dims, faces, u, w, g, rhs, 1, NULL, &result),
                PEL_ERROR_INVALID_ARGUMENT, "rhs must be NULL");
    {
        double work[120];
        void *levels[4] = {u, w, work, work + 60}, *copy_levels[4];
#define WAVE_ERR(call, status, fragment) PEL_TEST_EXPECT_ERROR(call, status, "pel_stencil_apply_wave", fragment)
        memcpy(copy_levels, levels, sizeof levels);
        WAVE_ERR(pel_stencil_apply_wave(NULL, dims, faces, levels, 2, -1, a, 1, NULL), PEL_ERROR_INVALID_ARGUMENT,
                 "stencil");
        WAVE_ERR(pel_stencil_apply_wave(s, dims, faces, NULL, 2, -1, a, 1, NULL), PEL_ERROR_INVALID_ARGUMENT,
                 "levels must not be NULL");
        levels[1] = NULL;
        WAVE_ERR(pel_stencil_apply_wave(s, dims, faces, levels, 2, -1, a, 1, NULL), PEL_ERROR_INVALID_ARGUMENT,
                 "levels[1] must not be NULL");
        levels[1] = w;
        levels[3] = NULL;
        WAVE_ERR(pel_stencil_apply_wave(s, dims, faces, levels, 2, -1, a, 1, NULL), PEL_ERROR_INVALID_ARGUMENT,
                 "levels[2] and levels[3]");
        levels[3] = work + 60;
        WAVE_ERR(pel_stencil_apply_wave(s, zero, faces, levels, 2, -1, a, 1, NULL), PEL_ERROR_INVALID_ARGUMENT,
                 "dims[1]=0");
        WAVE_ERR(pel_stencil_apply_wave(with_rhs, dims, faces, levels, 2, -1, a, 1, NULL), PEL_ERROR_INVALID_ARGUMENT,
                 "rhs term");
        WAVE_ERR(pel_stencil_apply_wave(s, dims, faces, levels, NAN, -1, a, 1, NULL), PEL_ERROR_INVALID_ARGUMENT,
                 "alpha");
        levels[3] = work + 30;
        WAVE_ERR(pel_stencil_apply_wave(s, dims, faces, levels, 2, -1, a, 1, NULL), PEL_ERROR_INVALID_ARGUMENT,
                 "levels[2] overlaps levels[3]");
        levels[3] = work + 60;
        WAVE_ERR(pel_stencil_apply_wave(s, dims, faces, levels, 2, -1, work + 70, 1, NULL),
                 PEL_ERROR_INVALID_ARGUMENT, "gamma overlaps levels[3]");
        {
            pel_stencil_blocking big = {{4, 0, 0}, 0, 0, 0};
            WAVE_ERR(pel_stencil_apply_wave(s, dims, faces, levels, 2, -1, a, 1, &big), PEL_ERROR_INVALID_ARGUMENT,
                     "blocking->tile[0]=4");
        }
        CU_ASSERT(memcmp(levels, copy_levels, sizeof levels) == 0);
        PEL_TEST_OK(pel_stencil_apply_wave(s, dims, faces, levels, 2, -1, a, 0, NULL));
        CU_ASSERT(memcmp(levels, copy_levels, sizeof levels) == 0);
#undef WAVE_ERR
    }
    {
#define ROWS_ERR(call, status, fragment) PEL_TEST_EXPECT_ERROR(call, status, "pel_stencil_apply_rows", fragment)
        row_kernel_data q;
        memset(&q, 0, sizeof q);
        ROWS_ERR(pel_stencil_apply_rows((pel_precision)5, 3, 1, dims, faces, u, w, test_kernel, &q, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "precision=5");
        ROWS_ERR(pel_stencil_apply_rows(PEL_FLOAT64, 4, 1, dims, faces, u, w, test_kernel, &q, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "ndim=4");
        ROWS_ERR(pel_stencil_apply_rows(PEL_FLOAT64, 3, 5, dims, faces, u, w, test_kernel, &q, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "radius=5");
        ROWS_ERR(pel_stencil_apply_rows(PEL_FLOAT64, 3, 1, dims, faces, u, w, NULL, &q, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "function");
        ROWS_ERR(pel_stencil_apply_rows(PEL_FLOAT64, 3, 1, NULL, faces, u, w, test_kernel, &q, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "dims");
        ROWS_ERR(pel_stencil_apply_rows(PEL_FLOAT64, 3, 1, dims, faces, NULL, w, test_kernel, &q, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "grid");
        ROWS_ERR(pel_stencil_apply_rows(PEL_FLOAT64, 3, 1, dims, faces, u, u + 1, test_kernel, &q, 1, NULL, &result),
                 PEL_ERROR_INVALID_ARGUMENT, "work overlaps");
#undef ROWS_ERR
    }
#undef FACTORED_ERR
#undef GENERAL_ERR
    /* Nothing written on error, the result pointer included. */
    CU_ASSERT(memcmp(u, copy, sizeof u) == 0);
    CU_ASSERT(memcmp(w, wcopy, sizeof w) == 0);
    CU_ASSERT_PTR_EQUAL(result, u);
    result = NULL;
    PEL_TEST_OK(pel_stencil_apply_factored(s, dims, faces, u, w, NULL, NULL, NULL, 0, NULL, &result));
    CU_ASSERT_PTR_EQUAL(result, u);
    CU_ASSERT(memcmp(u, copy, sizeof u) == 0);
    pel_stencil_destroy(s);
    pel_stencil_destroy(with_rhs);
}

/* Every kernel table this CPU runs (lib/stencil/kernels.c's registry: the
 * portable, AVX2 and AVX-512 kernels of the FMA order and of the fused
 * forms), not only the one the CPU's choice reaches: the FMA order, the
 * factored and two-level forms and coupled systems are created and run
 * under each forced table against the same references. */
static void test_every_kernel_table(void)
{
    const pel__stencil_isa best = pel__stencil_isa_get();
    for (int isa = PEL__STENCIL_ISA_GENERIC; isa <= PEL__STENCIL_ISA_AVX512; isa++) {
        int saved;
        if (isa == (int)best || !pel__stencil_isa_supported((pel__stencil_isa)isa))
            continue;
        saved = pel__stencil_isa_set(isa);
        CU_ASSERT_EQUAL(pel__stencil_isa_get(), isa);
        test_fma_order();
        test_factored();
        test_wave_double();
        test_system_matrix();
        pel__stencil_isa_set(saved);
    }
    CU_ASSERT_EQUAL(pel__stencil_isa_get(), best);
}

static void add_suites(void)
{
    static const pel_test_case exact[] = {
        {"nearest and mirror boundaries, every shape/radius, double", test_new_boundaries_double},
        {"nearest and mirror boundaries, float with rhs", test_new_boundaries_float_rhs},
        {"axes shorter than the radius, every kind", test_short_axes},
        {"small grids (the padded copy), every kind, 1-4 threads", test_padded_small_grids},
        {"factored variable coefficients", test_factored},
        {"general variable coefficients", test_general},
        {"variable coefficients: threads 1..4 x blockings", test_varcoef_threads_and_blockings},
        {"two levels, double", test_wave_double},
        {"two levels, float", test_wave_float},
        {"two levels: threads 1..4 x blockings", test_wave_threads_and_blockings},
        {"user row kernels", test_rows_matrix},
        {"coupled fields", test_system_matrix},
        {"FMA order of terms", test_fma_order},
        {"every kernel table (portable, AVX2, AVX-512) forced", test_every_kernel_table},
        {NULL, NULL}};
    static const pel_test_case physics[] = {{"conservative variable-diffusivity heat", test_conservative_heat},
                                            {"plane wave, second-order convergence (1-D, 3-D r4)",
                                             test_wave_convergence},
                                            {"upwind advection row kernel = plain loop", test_upwind_advection},
                                            {NULL, NULL}};
    static const pel_test_case errors[] = {{"factored, general, two levels, rows", test_varcoef_errors},
                                           {"coupled fields", test_system_errors},
                                           {NULL, NULL}};
    pel_test_add_suite("stencil forms: bit-identical to the reference", exact);
    pel_test_add_suite("stencil forms: physics", physics);
    pel_test_add_suite("stencil forms: bad arguments", errors);
}

int main(void)
{
    return pel_test_main("test_stencil_forms", add_suites);
}
