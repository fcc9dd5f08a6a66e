/* Tests of the stencil layer. The reference below is written from the
 * header's contract only (offsets in lexicographic order, acc = c0*u0, then
 * acc = acc + ck*uk, then + w*rhs; boundary values resolved axis by axis), one
 * point at a time in plain C; this program is compiled with -ffp-contract=off
 * like the library, so equality is exact (memcmp), not a tolerance. */
#include "pel_test.h"

#include "core/handle.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reference */

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
} problem;

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

/* The value at index idx (possibly outside), or the Dirichlet value; 1 when
 * inside after mapping (*linear set), 0 with *value set otherwise. */
static int reference_locate(const problem *p, const long *index, size_t *linear, double *value)
{
    size_t lin = 0;
    for (int a = 0; a < p->ndim; a++) {
        long i = index[a], n = (long)p->dims[a];
        if (i < 0 || i >= n) {
            const pel_boundary *f = &p->faces[2 * a + (i < 0 ? 0 : 1)];
            if (f->kind == PEL_BOUNDARY_PERIODIC) {
                i = ((i % n) + n) % n;
            } else if (f->kind == PEL_BOUNDARY_NEUMANN) {
                i = i < 0 ? -1 - i : 2 * n - 1 - i;
            } else {
                *value = f->value;
                return 0;
            }
        }
        lin = lin * p->dims[a] + (size_t)i;
    }
    *linear = lin;
    return 1;
}

static void reference_step_d(const problem *p, const double *in, double *out, const double *rhs)
{
    size_t n = grid_size(p);
    for (size_t point = 0; point < n; point++) {
        long index[3] = {0, 0, 0};
        size_t rest = point;
        double acc = 0;
        for (int a = p->ndim - 1; a >= 0; a--) {
            index[a] = (long)(rest % p->dims[a]);
            rest /= p->dims[a];
        }
        for (size_t k = 0; k < p->npoints; k++) {
            long at[3];
            size_t lin;
            double v;
            for (int a = 0; a < 3; a++)
                at[a] = index[a] + p->offsets[k][a];
            if (reference_locate(p, at, &lin, &v))
                v = in[lin];
            if (k == 0)
                acc = p->coefficients[0] * v;
            else
                acc = acc + p->coefficients[k] * v;
        }
        if (p->has_rhs)
            acc = acc + p->weight * rhs[point];
        out[point] = acc;
    }
}

static void reference_step_s(const problem *p, const float *in, float *out, const float *rhs)
{
    size_t n = grid_size(p);
    for (size_t point = 0; point < n; point++) {
        long index[3] = {0, 0, 0};
        size_t rest = point;
        float acc = 0;
        for (int a = p->ndim - 1; a >= 0; a--) {
            index[a] = (long)(rest % p->dims[a]);
            rest /= p->dims[a];
        }
        for (size_t k = 0; k < p->npoints; k++) {
            long at[3];
            size_t lin;
            double dv;
            float v;
            for (int a = 0; a < 3; a++)
                at[a] = index[a] + p->offsets[k][a];
            v = reference_locate(p, at, &lin, &dv) ? in[lin] : (float)dv;
            if (k == 0)
                acc = (float)p->coefficients[0] * v;
            else
                acc = acc + (float)p->coefficients[k] * v;
        }
        if (p->has_rhs)
            acc = acc + (float)p->weight * rhs[point];
        out[point] = acc;
    }
}

/* Runs nsteps reference steps; returns the final buffer (a or b). */
static void *reference_run(const problem *p, pel_precision precision, void *a, void *b, const void *rhs,
                           size_t nsteps)
{
    for (size_t s = 0; s < nsteps; s++) {
        if (precision == PEL_FLOAT32)
            reference_step_s(p, a, b, rhs);
        else
            reference_step_d(p, a, b, rhs);
        void *t = a;
        a = b;
        b = t;
    }
    return a;
}

/* ------------------------------------------------------------ comparison */

static pel_test_rng rng = {12345};

static void random_problem(problem *p, int ndim, pel_stencil_shape shape, int radius, int has_rhs)
{
    memset(p, 0, sizeof *p);
    p->ndim = ndim;
    p->shape = shape;
    p->radius = radius;
    enumerate_offsets(p);
    /* Coefficients of a smoothing step (sum about 1) so many steps stay
     * bounded, with high-entropy values. */
    for (size_t k = 0; k < p->npoints; k++)
        p->coefficients[k] = pel_test_uniform(&rng, 0.2, 1.8) / (double)p->npoints;
    p->has_rhs = has_rhs;
    p->weight = has_rhs ? pel_test_uniform(&rng, -0.7, 0.7) : 0.0;
}

static int compare_count, mismatch_count;

/* Applies the problem with pel and with the reference, compares bits. */
static void check_case(const problem *p, pel_precision precision, size_t nsteps, int threads,
                       const pel_stencil_blocking *blocking, int use_work)
{
    size_t n = grid_size(p), es = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    char *u0 = malloc(n * es), *u1 = malloc(n * es), *r0 = malloc(n * es), *r1 = malloc(n * es);
    char *rhs = p->has_rhs ? malloc(n * es) : NULL;
    void *result = NULL, *expected;
    pel_stencil *s = NULL;

    if (precision == PEL_FLOAT32) {
        pel_test_fill_float((float *)u0, n, 7 + nsteps);
        if (rhs)
            pel_test_fill_float((float *)rhs, n, 99);
    } else {
        pel_test_fill((double *)u0, n, 7 + nsteps);
        if (rhs)
            pel_test_fill((double *)rhs, n, 99);
    }
    memcpy(r0, u0, n * es);
    memset(u1, 0x5a, n * es);
    PEL_TEST_OK(pel_stencil_create(precision, p->ndim, p->shape, p->radius, p->coefficients, p->npoints, p->has_rhs,
                                   p->weight, &s));
    PEL_TEST_OK(pel_set_num_threads(threads));
    PEL_TEST_OK(pel_stencil_apply(s, p->dims, p->faces, u0, use_work ? u1 : NULL, rhs, nsteps, blocking, &result));
    expected = reference_run(p, precision, r0, r1, rhs, nsteps);
    compare_count++;
    if (!use_work)
        CU_ASSERT_PTR_EQUAL(result, u0);
    if (nsteps == 0)
        CU_ASSERT_PTR_EQUAL(result, u0);
    if (result != u0 && result != u1) {
        CU_FAIL("result is neither grid nor work");
    } else if (memcmp(result, expected, n * es) != 0) {
        mismatch_count++;
        if (mismatch_count < 5) {
            char what[256];
            snprintf(what, sizeof what,
                     "mismatch: ndim=%d shape=%d r=%d dims=%zux%zux%zu faces=%d%d%d%d%d%d steps=%zu threads=%d "
                     "float=%d tile=%zu,%zu,%zu T=%zu",
                     p->ndim, p->shape, p->radius, p->dims[0], p->dims[1], p->dims[2], p->faces[0].kind,
                     p->faces[1].kind, p->faces[2].kind, p->faces[3].kind, p->faces[4].kind, p->faces[5].kind,
                     nsteps, threads, precision == PEL_FLOAT32, blocking ? blocking->tile[0] : 0,
                     blocking ? blocking->tile[1] : 0, blocking ? blocking->tile[2] : 0,
                     blocking ? blocking->time_block : 0);
            CU_FAIL(what);
            fprintf(stderr, "%s\n", what);
        }
    }
    pel_stencil_destroy(s);
    free(u0);
    free(u1);
    free(r0);
    free(r1);
    free(rhs);
}

static void set_faces(problem *p, const pel_boundary_kind *kinds)
{
    for (int f = 0; f < 2 * p->ndim; f++) {
        p->faces[f].kind = kinds[f];
        p->faces[f].value = 0.25 + 0.125 * f; /* distinct per face, so the corner rule shows */
    }
}

/* Boundary mixes, per face: all of each kind, and mixes. */
static const pel_boundary_kind mixes[][6] = {
    {PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_DIRICHLET,
     PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_DIRICHLET},
    {PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC,
     PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC},
    {PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN,
     PEL_BOUNDARY_NEUMANN},
    {PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC,
     PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_DIRICHLET},
    {PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_DIRICHLET,
     PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_NEUMANN},
    {PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_NEUMANN,
     PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC},
};
enum { NMIXES = sizeof mixes / sizeof mixes[0] };

/* Odd sizes per dimension, each at least the largest radius (4) so Neumann
 * applies; smaller grids have their own test. */
static void odd_dims(problem *p)
{
    static const size_t d1[] = {37}, d2[] = {13, 23}, d3[] = {9, 7, 11};
    const size_t *d = p->ndim == 1 ? d1 : p->ndim == 2 ? d2 : d3;
    for (int a = 0; a < p->ndim; a++)
        p->dims[a] = d[a];
}

/* Every dimension, shape, radius 1..4 and boundary mix; nsteps 0, 1, many;
 * automatic and forced small blocking (tiles of 3-5 points and time blocks
 * of 2-3 steps, so the overlapped tiles, their clipping at faces and the
 * wavefront rings all run). */
static void run_matrix(pel_precision precision, int has_rhs)
{
    static const size_t steps[] = {0, 1, 5};
    compare_count = mismatch_count = 0;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int shape = 0; shape < 2; shape++)
            for (int radius = 1; radius <= 4; radius++) {
                problem p;
                if (ndim == 1 && shape == PEL_STENCIL_BOX && radius > 1)
                    continue; /* the same points as the star */
                random_problem(&p, ndim, (pel_stencil_shape)shape, radius, has_rhs);
                odd_dims(&p);
                /* The float run takes every other mix (the boundary code is
                 * shared; this keeps the program fast); the rhs run takes
                 * them all, since the rhs rows follow their own wrapping on
                 * periodic axes (unwrapped coordinates of grown tiles). */
                for (int mix = 0; mix < NMIXES; mix += precision == PEL_FLOAT32 ? 2 : 1) {
                    set_faces(&p, mixes[mix]);
                    for (size_t si = 0; si < sizeof steps / sizeof steps[0]; si++) {
                        size_t nsteps = steps[si];
                        int threads = 1 + (int)((mix + si + (size_t)radius) % 4);
                        pel_stencil_blocking forced = {{0, 0, 0}, 0, 0, 0};
                        check_case(&p, precision, nsteps, threads, NULL, (int)(si % 2));
                        for (int a = 0; a < ndim; a++)
                            forced.tile[a] = 3 + (size_t)(a + mix) % 3;
                        forced.time_block = 2 + (size_t)(mix % 2);
                        check_case(&p, precision, nsteps, threads, &forced, 1);
                    }
                }
            }
    CU_ASSERT_EQUAL(mismatch_count, 0);
    CU_ASSERT(compare_count > 200);
}

static void test_bit_identical_double(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_matrix(PEL_FLOAT64, 0);
}

static void test_bit_identical_float(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_matrix(PEL_FLOAT32, 0);
}

static void test_bit_identical_rhs(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    run_matrix(PEL_FLOAT64, 1);
}

/* The same case for threads 1..4 and several blockings: identical bits. */
static void test_threads_and_blockings(void)
{
    static const size_t tiles[][3] = {{0, 0, 0}, {0, 1, 1}, {1, 2, 3}, {9, 7, 11}, {5, 7, 8}, {2, 0, 0}};
    static const size_t time_blocks[] = {0, 1, 2, 4, 5, 16};
    problem p;
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    random_problem(&p, 3, PEL_STENCIL_BOX, 2, 1);
    odd_dims(&p);
    set_faces(&p, mixes[3]);
    for (int threads = 1; threads <= 4; threads++)
        for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++)
            for (size_t b = 0; b < sizeof time_blocks / sizeof time_blocks[0]; b++) {
                pel_stencil_blocking blocking = {{tiles[t][0], tiles[t][1], tiles[t][2]}, time_blocks[b], 0,
                                                 (int)(b % 2)};
                check_case(&p, PEL_FLOAT64, 11, threads, &blocking, 1);
            }
    /* A tiny cache budget forces the automatic choice to small tiles. */
    for (int threads = 1; threads <= 4; threads++) {
        pel_stencil_blocking small_cache = {{0, 0, 0}, 0, 4096, 0};
        check_case(&p, PEL_FLOAT64, 9, threads, &small_cache, 1);
    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
}

/* Grids smaller than the radius: Dirichlet and periodic give the defined
 * result (periodic wraps as often as needed), tiny and 1-point axes too. */
static void test_tiny_grids(void)
{
    static const size_t sizes[][3] = {{1, 1, 1}, {2, 1, 3}, {1, 3, 2}, {3, 2, 1}, {2, 2, 2}};
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int radius = 1; radius <= 4; radius += 3)
            for (int shape = 0; shape < 2; shape++)
                for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
                    for (int mix = 0; mix < 2; mix++) {
                        problem p;
                        random_problem(&p, ndim, (pel_stencil_shape)shape, radius, shape);
                        memcpy(p.dims, sizes[si], sizeof p.dims);
                        set_faces(&p, mixes[mix]);
                        for (int threads = 1; threads <= 4; threads += 3) {
                            pel_stencil_blocking blocking = {{0, 0, 0}, 2, 0, 0};
                            check_case(&p, PEL_FLOAT64, 3, threads, NULL, 1);
                            check_case(&p, PEL_FLOAT64, 5, threads, &blocking, 0);
                        }
                    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
}

/* Larger grids so the automatic blocking picks real tiles and time blocks. */
static void test_larger_grids(void)
{
    static const int shapes[][3] = {{3, 0, 1}, {3, 1, 1}, {3, 0, 4}, {2, 0, 1}, {2, 1, 2}, {1, 0, 3}};
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        problem p;
        random_problem(&p, shapes[i][0], (pel_stencil_shape)shapes[i][1], shapes[i][2], (int)(i % 2));
        if (p.ndim == 3) {
            p.dims[0] = 23;
            p.dims[1] = 45;
            p.dims[2] = 67;
        } else if (p.ndim == 2) {
            p.dims[0] = 131;
            p.dims[1] = 259;
        } else {
            p.dims[0] = 5001;
        }
        set_faces(&p, mixes[i % NMIXES]);
        for (int threads = 1; threads <= 4; threads++) {
            /* Streaming stores on the second run: same bits. */
            pel_stencil_blocking small_cache = {{0, 0, 0}, 0, 16384, 1};
            pel_stencil_blocking streaming = {{0, 0, 0}, 1, 0, 1};
            check_case(&p, PEL_FLOAT64, 13, threads, NULL, 1);
            check_case(&p, PEL_FLOAT64, 2, threads, &streaming, 1);
            check_case(&p, PEL_FLOAT32, 6, threads, &small_cache, 1);
        }
    }
    CU_ASSERT_EQUAL(mismatch_count, 0);
}

/* nsteps = 0 touches nothing: same pointer back, data and work unchanged. */
static void test_zero_steps(void)
{
    double u[12], w[12], copy[12], wcopy[12];
    size_t dims[2] = {3, 4};
    pel_boundary faces[4] = {{PEL_BOUNDARY_DIRICHLET, 1}, {PEL_BOUNDARY_DIRICHLET, 1},
                             {PEL_BOUNDARY_PERIODIC, 0}, {PEL_BOUNDARY_PERIODIC, 0}};
    pel_stencil *s;
    void *result = NULL;
    pel_test_fill(u, 12, 3);
    pel_test_fill(w, 12, 4);
    memcpy(copy, u, sizeof u);
    memcpy(wcopy, w, sizeof w);
    PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, 2, 5, 0.5, &s));
    PEL_TEST_OK(pel_stencil_apply(s, dims, faces, u, w, NULL, 0, NULL, &result));
    CU_ASSERT_PTR_EQUAL(result, u);
    CU_ASSERT(memcmp(u, copy, sizeof u) == 0);
    CU_ASSERT(memcmp(w, wcopy, sizeof w) == 0);
    PEL_TEST_OK(pel_stencil_apply(s, dims, faces, u, NULL, NULL, 0, NULL, NULL));
    CU_ASSERT(memcmp(u, copy, sizeof u) == 0);
    pel_stencil_destroy(s);
}

/* ------------------------------------------------------------ convenience */

/* Each Laplacian is exact on quadratics: Laplace(sum_a x_a^2) = 2*ndim at
 * interior points (the rounding of a few terms of size 1/h^2 bounds the
 * error: 1e-9 relative is ample), and its coefficients sum to zero. */
static void test_laplacians(void)
{
    static const int cases[][2] = {{1, 3}, {2, 5}, {2, 9}, {3, 7}, {3, 27}, {3, 25}};
    const double h = 0.1;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ndim = cases[c][0], r = cases[c][1] == 25 ? 4 : 1, rad = 0;
        size_t dims[3] = {1, 1, 1}, n = 1, npoints = 0;
        pel_boundary faces[6];
        pel_stencil *s = NULL;
        double *u, *w;
        void *result;
        int ndim_out = 0;
        for (int a = 0; a < ndim; a++) {
            dims[a] = 2 * (size_t)r + 3;
            n *= dims[a];
        }
        for (int f = 0; f < 6; f++)
            faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.0};
        u = malloc(n * sizeof *u);
        w = malloc(n * sizeof *w);
        for (size_t i = 0; i < n; i++) {
            size_t rest = i;
            double v = 0;
            for (int a = ndim - 1; a >= 0; a--) {
                double x = h * (double)(rest % dims[a]);
                rest /= dims[a];
                v += x * x;
            }
            u[i] = v;
        }
        PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, ndim, cases[c][1], h, &s));
        PEL_TEST_OK(pel_stencil_info(s, NULL, &ndim_out, &rad, &npoints));
        CU_ASSERT_EQUAL(ndim_out, ndim);
        CU_ASSERT_EQUAL(rad, r);
        CU_ASSERT_EQUAL(npoints, (size_t)cases[c][1]);
        PEL_TEST_OK(pel_stencil_apply(s, dims, faces, u, w, NULL, 1, NULL, &result));
        {
            /* The centre point is at least r from every face. */
            size_t centre = 0;
            for (int a = 0; a < ndim; a++)
                centre = centre * dims[a] + (size_t)r + 1;
            CU_ASSERT_DOUBLE_EQUAL(((double *)result)[centre], 2.0 * ndim, 1e-9 * 2.0 * ndim / (h * h));
        }
        pel_stencil_destroy(s);
        free(u);
        free(w);
    }
}

/* ------------------------------------------------------------ Jacobi */

/* -Laplace(u) = f on the unit square/cube with u = prod sin(pi x_a), zero
 * Dirichlet faces: f = ndim pi^2 u. The discrete solution differs from u by
 * the truncation error, about (pi h)^2/12 * max|u| * ndim; the check allows
 * twice that plus the iteration's stopping error. */
static void check_jacobi(pel_precision precision, int ndim, size_t m)
{
    double h = 1.0 / (double)(m + 1), spacing[3] = {h, h, h}, err = 0, res = 0;
    size_t dims[3] = {m, m, m}, n = 1, iterations = 0;
    pel_boundary faces[6];
    size_t es = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    char *u, *f;
    for (int a = 0; a < ndim; a++)
        n *= m;
    for (int k = 0; k < 6; k++)
        faces[k] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.0};
    u = calloc(n, es);
    f = malloc(n * es);
    for (size_t i = 0; i < n; i++) {
        size_t rest = i;
        double v = 1;
        for (int a = 0; a < ndim; a++) {
            v *= sin(M_PI * h * (double)(rest % m + 1));
            rest /= m;
        }
        if (precision == PEL_FLOAT32)
            ((float *)f)[i] = (float)(ndim * M_PI * M_PI * v);
        else
            ((double *)f)[i] = ndim * M_PI * M_PI * v;
    }
    PEL_TEST_OK(pel_stencil_jacobi_poisson(precision, ndim, dims, spacing, faces, u, f,
                                           precision == PEL_FLOAT32 ? 1e-4 : 1e-8, 200000, 100, &iterations,
                                           &res));
    CU_ASSERT(iterations > 0 && iterations <= 200000);
    CU_ASSERT(res <= (precision == PEL_FLOAT32 ? 1e-4 : 1e-8));
    for (size_t i = 0; i < n; i++) {
        size_t rest = i;
        double v = 1, got;
        for (int a = 0; a < ndim; a++) {
            v *= sin(M_PI * h * (double)(rest % m + 1));
            rest /= m;
        }
        got = precision == PEL_FLOAT32 ? ((float *)u)[i] : ((double *)u)[i];
        if (fabs(got - v) > err)
            err = fabs(got - v);
    }
    CU_ASSERT(err < 2.0 * ndim * M_PI * M_PI * h * h / 12.0 + (precision == PEL_FLOAT32 ? 2e-3 : 1e-5));
    free(u);
    free(f);
}

static void test_jacobi_analytic(void)
{
    PEL_TEST_OK(pel_set_num_threads(2));
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    check_jacobi(PEL_FLOAT64, 1, 31);
    check_jacobi(PEL_FLOAT64, 2, 23);
    check_jacobi(PEL_FLOAT64, 3, 11);
    check_jacobi(PEL_FLOAT32, 2, 15);
}

/* The iteration count and the iterate do not depend on the thread count. */
static void test_jacobi_threads_and_limit(void)
{
    size_t dims[2] = {17, 19}, n = 17 * 19, it1 = 0, it4 = 0;
    double spacing[2] = {0.05, 0.07}, *u1 = calloc(n, 8), *u4 = calloc(n, 8), *f = malloc(n * 8), r1, r4;
    pel_boundary faces[4] = {{PEL_BOUNDARY_DIRICHLET, 1.0}, {PEL_BOUNDARY_DIRICHLET, -0.5},
                             {PEL_BOUNDARY_DIRICHLET, 0.25}, {PEL_BOUNDARY_NEUMANN, 0}};
    pel_test_fill(f, n, 5);
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    PEL_TEST_OK(pel_set_num_threads(1));
    PEL_TEST_OK(pel_stencil_jacobi_poisson(PEL_FLOAT64, 2, dims, spacing, faces, u1, f, 1e-6, 100000, 37, &it1, &r1));
    PEL_TEST_OK(pel_set_num_threads(4));
    PEL_TEST_OK(pel_stencil_jacobi_poisson(PEL_FLOAT64, 2, dims, spacing, faces, u4, f, 1e-6, 100000, 37, &it4, &r4));
    CU_ASSERT_EQUAL(it1, it4);
    CU_ASSERT(memcmp(u1, u4, n * 8) == 0);
    CU_ASSERT(r1 == r4);
    /* A step limit below the need: not converged, iterations = limit. */
    memset(u1, 0, n * 8);
    PEL_TEST_EXPECT_ERROR(pel_stencil_jacobi_poisson(PEL_FLOAT64, 2, dims, spacing, faces, u1, f, 1e-12, 10, 4,
                                                     &it1, &r1),
                          PEL_ERROR_NOT_CONVERGED, "pel_stencil_jacobi_poisson", "above tolerance");
    CU_ASSERT_EQUAL(it1, 10);
    CU_ASSERT(r1 > 1e-12);
    free(u1);
    free(u4);
    free(f);
}

/* ------------------------------------------------------------ errors */

static void test_create_errors(void)
{
    double c[27] = {1, 2, 3, 4, 5, 6, 7};
    pel_stencil *s = (pel_stencil *)&c;
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, c, 7, 0, 0, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "stencil");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create((pel_precision)7, 3, PEL_STENCIL_STAR, 1, c, 7, 0, 0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "precision");
    CU_ASSERT_PTR_NULL(s);
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 0, PEL_STENCIL_STAR, 1, c, 7, 0, 0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "ndim");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 4, PEL_STENCIL_STAR, 1, c, 7, 0, 0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "ndim");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 3, (pel_stencil_shape)2, 1, c, 7, 0, 0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "shape");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 0, c, 7, 0, 0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "radius");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, PEL_STENCIL_MAX_RADIUS + 1, c, 7, 0, 0,
                                             &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "radius");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, NULL, 7, 0, 0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "coefficients");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, c, 27, 0, 0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "ncoefficients=27");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT32, 3, PEL_STENCIL_BOX, 1, c, 7, 0, 0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "ncoefficients=7");

    PEL_TEST_EXPECT_ERROR(pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, 1.0, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_create_laplacian", "stencil");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create_laplacian((pel_precision)-1, 3, 7, 1.0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create_laplacian", "precision");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, 0.0, &s), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_create_laplacian", "spacing");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, NAN, &s), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_create_laplacian", "spacing");
    PEL_TEST_EXPECT_ERROR(pel_stencil_create_laplacian(PEL_FLOAT64, 2, 7, 1.0, &s), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_create_laplacian", "npoints=7");
    PEL_TEST_EXPECT_ERROR(pel_stencil_info(NULL, NULL, NULL, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_info", "stencil");
    pel_stencil_destroy(NULL);
}

static void test_apply_errors(void)
{
    double u[60], w[60], rhs[60], copy[60], wcopy[60];
    size_t dims[3] = {3, 4, 5}, zero[3] = {3, 0, 5}, huge[3] = {(size_t)1 << 40, (size_t)1 << 40, 8};
    pel_boundary faces[6], bad[6];
    pel_stencil *s, *with_rhs;
    double c7[7] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
    void *result = NULL, *grid = (void *)u;
    pel_stencil_blocking blocking = {{0, 0, 0}, 0, 0, 0};

    for (int f = 0; f < 6; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.5};
    pel_test_fill(u, 60, 11);
    pel_test_fill(w, 60, 12);
    pel_test_fill(rhs, 60, 13);
    memcpy(copy, u, sizeof u);
    memcpy(wcopy, w, sizeof w);
    PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, 1.0, &s));
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 1, c7, 7, 1, 0.5, &with_rhs));

#define APPLY_ERR(call, status, fragment) \
    PEL_TEST_EXPECT_ERROR(call, status, "pel_stencil_apply", fragment)
    APPLY_ERR(pel_stencil_apply(NULL, dims, faces, u, w, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "stencil");
    APPLY_ERR(pel_stencil_apply(s, NULL, faces, u, w, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT, "dims");
    APPLY_ERR(pel_stencil_apply(s, dims, NULL, u, w, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT, "faces");
    APPLY_ERR(pel_stencil_apply(s, dims, faces, NULL, w, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "grid");
    APPLY_ERR(pel_stencil_apply(s, zero, faces, u, w, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "dims[1]=0");
    APPLY_ERR(pel_stencil_apply(s, huge, faces, u, w, NULL, 1, NULL, &result), PEL_ERROR_OVERFLOW, "overflow");
    memcpy(bad, faces, sizeof bad);
    bad[3].kind = (pel_boundary_kind)9;
    APPLY_ERR(pel_stencil_apply(s, dims, bad, u, w, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "faces[3].kind");
    memcpy(bad, faces, sizeof bad);
    bad[4].kind = PEL_BOUNDARY_PERIODIC;
    APPLY_ERR(pel_stencil_apply(s, dims, bad, u, w, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "periodic needs both");
    /* Neumann on an axis shorter than the radius is defined now (reflect
     * repeatedly); tests/test_stencil_forms.c checks its values. */
    APPLY_ERR(pel_stencil_apply(s, dims, faces, u, u, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "work overlaps grid");
    APPLY_ERR(pel_stencil_apply(s, dims, faces, u, u + 30, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "work overlaps grid");
    APPLY_ERR(pel_stencil_apply(s, dims, faces, u, w, NULL, 1, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT, "result");
    APPLY_ERR(pel_stencil_apply(with_rhs, dims, faces, u, w, NULL, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "rhs must not be NULL");
    APPLY_ERR(pel_stencil_apply(s, dims, faces, u, w, rhs, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "rhs must be NULL");
    APPLY_ERR(pel_stencil_apply(with_rhs, dims, faces, u, w, u, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "rhs overlaps");
    APPLY_ERR(pel_stencil_apply(with_rhs, dims, faces, u, w, w, 1, NULL, &result), PEL_ERROR_INVALID_ARGUMENT,
              "rhs overlaps");
    blocking.tile[2] = 6;
    APPLY_ERR(pel_stencil_apply(s, dims, faces, u, w, NULL, 1, &blocking, &result), PEL_ERROR_INVALID_ARGUMENT,
              "blocking->tile[2]=6");
    blocking.tile[2] = 0;
    blocking.time_block = 1025;
    APPLY_ERR(pel_stencil_apply(s, dims, faces, u, w, NULL, 1, &blocking, &result), PEL_ERROR_INVALID_ARGUMENT,
              "time_block");
    {
        pel_stencil *flat;
        size_t d2[2] = {6, 10};
        pel_stencil_blocking b2 = {{2, 2, 1}, 0, 0, 0};
        PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT64, 2, 5, 1.0, &flat));
        APPLY_ERR(pel_stencil_apply(flat, d2, faces, u, w, NULL, 1, &b2, &result), PEL_ERROR_INVALID_ARGUMENT,
                  "blocking->tile[2]=1 must be 0");
        pel_stencil_destroy(flat);
    }
#undef APPLY_ERR
    CU_ASSERT(memcmp(u, copy, sizeof u) == 0);
    CU_ASSERT(memcmp(w, wcopy, sizeof w) == 0);

    PEL_TEST_EXPECT_ERROR(pel_stencil_grid_alloc(s, dims, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_grid_alloc", "grid");
    PEL_TEST_EXPECT_ERROR(pel_stencil_grid_alloc(NULL, dims, &grid), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_grid_alloc", "stencil");
    CU_ASSERT_PTR_NULL(grid);
    PEL_TEST_EXPECT_ERROR(pel_stencil_grid_alloc(s, NULL, &grid), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_grid_alloc", "dims");
    PEL_TEST_EXPECT_ERROR(pel_stencil_grid_alloc(s, zero, &grid), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_grid_alloc", "dims[1]=0");
    PEL_TEST_EXPECT_ERROR(pel_stencil_grid_alloc(s, huge, &grid), PEL_ERROR_OVERFLOW, "pel_stencil_grid_alloc",
                          "overflow");
    pel_stencil_destroy(s);
    pel_stencil_destroy(with_rhs);
}

static void test_jacobi_errors(void)
{
    size_t dims[2] = {4, 4}, it = 99;
    double spacing[2] = {0.1, 0.1}, bad_spacing[2] = {0.1, -1}, u[16] = {0}, f[16], res = -1;
    pel_boundary faces[4] = {{PEL_BOUNDARY_DIRICHLET, 0}, {PEL_BOUNDARY_DIRICHLET, 0},
                             {PEL_BOUNDARY_PERIODIC, 0}, {PEL_BOUNDARY_DIRICHLET, 0}};
    pel_boundary good[4] = {{PEL_BOUNDARY_DIRICHLET, 0}, {PEL_BOUNDARY_DIRICHLET, 0},
                            {PEL_BOUNDARY_DIRICHLET, 0}, {PEL_BOUNDARY_DIRICHLET, 0}};
    const char *fn = "pel_stencil_jacobi_poisson";
    pel_test_fill(f, 16, 2);
#define J(prec, nd, d, sp, fc, uu, ff, tol, maxit) \
    pel_stencil_jacobi_poisson(prec, nd, d, sp, fc, uu, ff, tol, maxit, 10, &it, &res)
    PEL_TEST_EXPECT_ERROR(J((pel_precision)3, 2, dims, spacing, good, u, f, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT,
                          fn, "precision");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 4, dims, spacing, good, u, f, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "ndim");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, NULL, spacing, good, u, f, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "dims");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, NULL, good, u, f, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "spacing");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, spacing, NULL, u, f, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "faces");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, spacing, good, NULL, f, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "u");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, spacing, good, u, NULL, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "f");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, bad_spacing, good, u, f, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "spacing[1]");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, spacing, good, u, f, -1.0, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "tolerance");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, spacing, good, u, f, NAN, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "tolerance");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, spacing, good, u, f, 1e-6, 0), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "max_iterations");
    /* Grid errors name this function and its own arguments (here:
     * half-periodic faces, f on top of u), not pel_stencil_apply's. */
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, spacing, faces, u, f, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "faces[2] and faces[3] (axis 1) are periodic and Dirichlet: periodic needs both");
    PEL_TEST_EXPECT_ERROR(J(PEL_FLOAT64, 2, dims, spacing, good, u, u, 1e-6, 10), PEL_ERROR_INVALID_ARGUMENT, fn,
                          "f overlaps u");
#undef J
    for (int i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(u[i], 0.0);
    CU_ASSERT_EQUAL(it, 99);
}

static void test_grid_alloc(void)
{
    pel_stencil *s;
    size_t dims[3] = {5, 33, 17};
    void *grid = NULL;
    PEL_TEST_OK(pel_set_num_threads(3));
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    PEL_TEST_OK(pel_stencil_create_laplacian(PEL_FLOAT32, 3, 7, 1.0, &s));
    PEL_TEST_OK(pel_stencil_grid_alloc(s, dims, &grid));
    CU_ASSERT_PTR_NOT_NULL(grid);
    for (size_t i = 0; grid && i < 5 * 33 * 17; i++)
        CU_ASSERT_EQUAL(((float *)grid)[i], 0.0f);
    pel_free(grid);
    pel_stencil_destroy(s);
}

/* ------------------------------------------------------------ reliability */

/* A float 1-D radius-2 stencil on a 1-point grid: the row has no vector part
 * (every point is an end point), and the engine used to form the vector
 * part's pointers before the row buffer's start, undefined behaviour that
 * clang's UBSan reports. Checked against the reference, Dirichlet and
 * periodic, with and without rhs, 1 and 2 threads, single and multi-step. */
static void test_one_point_grid_radius_two(void)
{
    PEL_TEST_OK(pel_set_min_work_per_thread(1));
    compare_count = mismatch_count = 0;
    for (int shape = 0; shape < 2; shape++)
        for (int has_rhs = 0; has_rhs < 2; has_rhs++)
            for (int mix = 0; mix < 2; mix++) {
                problem p;
                random_problem(&p, 1, (pel_stencil_shape)shape, 2, has_rhs);
                p.dims[0] = 1;
                set_faces(&p, mixes[mix]);
                for (int threads = 1; threads <= 2; threads++)
                    for (size_t steps = 1; steps <= 4; steps += 3) {
                        pel_stencil_blocking blocking = {{0, 0, 0}, 2, 0, 0};
                        check_case(&p, PEL_FLOAT32, steps, threads, NULL, 1);
                        check_case(&p, PEL_FLOAT32, steps, threads, &blocking, 0);
                        check_case(&p, PEL_FLOAT64, steps, threads, NULL, 0);
                    }
            }
    CU_ASSERT_EQUAL(mismatch_count, 0);
    CU_ASSERT(compare_count > 0);
    PEL_TEST_OK(pel_set_num_threads(0));
}

/* NaN or Inf in f, in the initial u or in a Dirichlet value can never
 * converge: refused before any work (PEL_ERROR_INVALID_ARGUMENT naming the
 * first bad value), u, *iterations and *residual untouched, both
 * precisions. Before the fix the call returned PEL_OK with residual NaN. */
static void test_jacobi_non_finite_inputs(void)
{
    const char *fn = "pel_stencil_jacobi_poisson";
    size_t dims[2] = {6, 5};
    double spacing[2] = {0.1, 0.2};
    pel_boundary faces[4] = {{PEL_BOUNDARY_DIRICHLET, 0.5}, {PEL_BOUNDARY_DIRICHLET, 0},
                             {PEL_BOUNDARY_PERIODIC, 0}, {PEL_BOUNDARY_PERIODIC, 0}};
    const double bad[3] = {NAN, INFINITY, -INFINITY};

    for (int single = 0; single < 2; single++)
        for (int b = 0; b < 3; b++)
            for (int where = 0; where < 3; where++) {
                pel_precision prec = single ? PEL_FLOAT32 : PEL_FLOAT64;
                double u[30], f[30], u0[30], res = -7.0;
                float uf[30], ff[30], uf0[30];
                size_t it = 77;
                pel_boundary fc[4];
                char fragment[64];
                memcpy(fc, faces, sizeof fc);
                pel_test_fill(u, 30, 3);
                pel_test_fill(f, 30, 4);
                for (int i = 0; i < 30; i++) {
                    uf[i] = (float)u[i];
                    ff[i] = (float)f[i];
                }
                if (where == 0) {
                    f[17] = bad[b];
                    ff[17] = (float)bad[b];
                    snprintf(fragment, sizeof fragment, "f[17]=%g is not finite", bad[b]);
                } else if (where == 1) {
                    u[4] = bad[b];
                    uf[4] = (float)bad[b];
                    snprintf(fragment, sizeof fragment, "u[4]=%g (the initial guess) is not finite", bad[b]);
                } else {
                    fc[0].value = bad[b];
                    snprintf(fragment, sizeof fragment, "faces[0].value=%g is not a finite", bad[b]);
                }
                memcpy(u0, u, sizeof u);
                memcpy(uf0, uf, sizeof uf);
                PEL_TEST_EXPECT_ERROR(pel_stencil_jacobi_poisson(prec, 2, dims, spacing, fc, single ? (void *)uf : u,
                                                                 single ? (void *)ff : f, 1e-6, 100, 10, &it, &res),
                                      PEL_ERROR_INVALID_ARGUMENT, fn, fragment);
                CU_ASSERT(single ? memcmp(uf, uf0, sizeof uf) == 0 : memcmp(u, u0, sizeof u) == 0);
                CU_ASSERT(it == 77 && res == -7.0);
            }
    /* A Dirichlet value finite in double but not in float. */
    {
        float uf[30] = {0}, ff[30] = {0};
        pel_boundary fc[4];
        memcpy(fc, faces, sizeof fc);
        fc[1].value = 1e39;
        PEL_TEST_EXPECT_ERROR(pel_stencil_jacobi_poisson(PEL_FLOAT32, 2, dims, spacing, fc, uf, ff, 1e-6, 100, 10,
                                                         NULL, NULL),
                              PEL_ERROR_INVALID_ARGUMENT, fn, "faces[1].value=1e+39 is not a finite float");
    }
}

/* Finite data whose solution overflows the precision (f near the top of
 * its range): the iterate becomes Inf/NaN, which is never convergence:
 * PEL_ERROR_NOT_CONVERGED at the first residual check, *residual not
 * finite, the iteration stopped early, even with an infinite tolerance. */
static void test_jacobi_overflow_is_not_convergence(void)
{
    enum { N = 64 };
    size_t dims[1] = {N};
    double spacing[1] = {1.0};
    pel_boundary faces[2] = {{PEL_BOUNDARY_DIRICHLET, 0}, {PEL_BOUNDARY_DIRICHLET, 0}};
    const double tolerances[2] = {1e-6, INFINITY};

    for (int single = 0; single < 2; single++)
        for (int t = 0; t < 2; t++) {
            double u[N] = {0}, f[N], res = 0.0;
            float uf[N] = {0}, ff[N];
            size_t it = 0;
            for (int i = 0; i < N; i++) {
                f[i] = 1.5e308;
                ff[i] = 3.0e38f;
            }
            PEL_TEST_EXPECT_ERROR(pel_stencil_jacobi_poisson(single ? PEL_FLOAT32 : PEL_FLOAT64, 1, dims, spacing,
                                                             faces, single ? (void *)uf : u, single ? (void *)ff : f,
                                                             tolerances[t], 1000, 10, &it, &res),
                                  PEL_ERROR_NOT_CONVERGED, "pel_stencil_jacobi_poisson", "not finite");
            CU_ASSERT(!isfinite(res));
            CU_ASSERT_EQUAL(it, 10);
        }
}

/* Misuse of stencil handles: NULL, destroyed and foreign pointers are
 * PEL_ERROR_INVALID_ARGUMENT with a message, a second destroy frees nothing
 * (no glibc abort, no ASan report), and *grid / *result follow the
 * out-argument rule. */
static void test_stencil_handles(void)
{
    struct {
        double junk[64];
    } foreign = {{0}};
    pel_stencil *s = NULL, *gone = NULL, *fake = (pel_stencil *)(void *)&foreign;
    const double c[3] = {0.25, 0.5, 0.25};
    size_t dims[1] = {8}, live = pel__handle_live_count();
    pel_boundary faces[2] = {{PEL_BOUNDARY_DIRICHLET, 0}, {PEL_BOUNDARY_DIRICHLET, 0}};
    double grid[8] = {0}, work[8];
    void *result = (void *)&foreign, *g = (void *)&foreign;
    pel_precision prec;

    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 1, PEL_STENCIL_STAR, 1, c, 3, 0, 0.0, &gone));
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT32, 1, PEL_STENCIL_STAR, 1, c, 3, 0, 0.0, &s));
    CU_ASSERT_EQUAL(pel__handle_live_count(), live + 2);
    pel_stencil_destroy(gone);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live + 1);
    pel_stencil_destroy(gone); /* a second destroy: refused, nothing freed */
    CU_ASSERT(strstr(pel_last_error(), "pel_stencil_destroy") != NULL);
    CU_ASSERT(strstr(pel_last_error(), "not a live pel_stencil") != NULL);
    pel_stencil_destroy(fake);
    CU_ASSERT(strstr(pel_last_error(), "pel_stencil_destroy") != NULL);
    pel_stencil_destroy(NULL);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live + 1);

    PEL_TEST_EXPECT_ERROR(pel_stencil_info(NULL, &prec, NULL, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_info", "stencil must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_stencil_info(gone, &prec, NULL, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_info", "is not a live pel_stencil");
    PEL_TEST_EXPECT_ERROR(pel_stencil_info(fake, &prec, NULL, NULL, NULL), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_info", "is not a live pel_stencil");
    PEL_TEST_EXPECT_ERROR(pel_stencil_apply(gone, dims, faces, grid, work, NULL, 1, NULL, &result),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_apply", "stencil=");
    CU_ASSERT_PTR_EQUAL(result, (void *)&foreign); /* untouched on error */
    PEL_TEST_EXPECT_ERROR(pel_stencil_apply(fake, dims, faces, grid, work, NULL, 1, NULL, &result),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_apply", "is not a live pel_stencil");
    PEL_TEST_EXPECT_ERROR(pel_stencil_grid_alloc(gone, dims, &g), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_grid_alloc", "is not a live pel_stencil");
    CU_ASSERT_PTR_NULL(g);
    /* A live one still works. */
    PEL_TEST_OK(pel_stencil_info(s, &prec, NULL, NULL, NULL));
    CU_ASSERT_EQUAL(prec, PEL_FLOAT32);
    pel_stencil_destroy(s);
    CU_ASSERT_EQUAL(pel__handle_live_count(), live);
}

/* The out-argument rule: a failing create sets *stencil to NULL. */
static void test_stencil_out_arguments(void)
{
    const double c[3] = {0.25, 0.5, 0.25};
    pel_stencil *s = (pel_stencil *)(uintptr_t)0x5a;
    PEL_TEST_EXPECT_ERROR(pel_stencil_create(PEL_FLOAT64, 1, PEL_STENCIL_STAR, 1, c, 4, 0, 0.0, &s),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_stencil_create", "ncoefficients");
    CU_ASSERT_PTR_NULL(s);
    s = (pel_stencil *)(uintptr_t)0x5a;
    PEL_TEST_EXPECT_ERROR(pel_stencil_create_laplacian(PEL_FLOAT64, 2, 7, 1.0, &s), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_stencil_create_laplacian", "npoints=7");
    CU_ASSERT_PTR_NULL(s);
}

static void add_suites(void)
{
    static const pel_test_case exact[] = {
        {"double, every shape/radius/boundary mix", test_bit_identical_double},
        {"float, every shape/radius/boundary mix", test_bit_identical_float},
        {"rhs term, every shape/radius/boundary mix", test_bit_identical_rhs},
        {"threads 1..4 x blockings", test_threads_and_blockings},
        {"grids smaller than the radius", test_tiny_grids},
        {"larger grids, automatic blocking", test_larger_grids},
        {"nsteps = 0", test_zero_steps},
        {NULL, NULL}};
    static const pel_test_case helpers[] = {{"Laplacians on quadratics", test_laplacians},
                                            {"Jacobi: analytic Poisson solution", test_jacobi_analytic},
                                            {"Jacobi: threads and step limit", test_jacobi_threads_and_limit},
                                            {"grid_alloc", test_grid_alloc},
                                            {NULL, NULL}};
    static const pel_test_case errors[] = {{"create", test_create_errors},
                                           {"apply and grid_alloc", test_apply_errors},
                                           {"jacobi", test_jacobi_errors},
                                           {NULL, NULL}};
    static const pel_test_case reliability[] = {
        {"1-point grid, radius 2, float", test_one_point_grid_radius_two},
        {"Jacobi: NaN/Inf inputs refused", test_jacobi_non_finite_inputs},
        {"Jacobi: overflow is not convergence", test_jacobi_overflow_is_not_convergence},
        {"handles: NULL, destroyed, foreign", test_stencil_handles},
        {"out-arguments on failure", test_stencil_out_arguments},
        {NULL, NULL}};
    pel_test_add_suite("stencil: bit-identical to the reference", exact);
    pel_test_add_suite("stencil: convenience and Jacobi", helpers);
    pel_test_add_suite("stencil: bad arguments", errors);
    pel_test_add_suite("stencil: reliability", reliability);
}

int main(void)
{
    return pel_test_main("test_stencil", add_suites);
}
