/* The stencil engine's sub-box entry point (pel__stencil_apply_box, the one
 * the distributed apply overlaps its halo messages with): on random boxes,
 * with and without a skipped inner box, every boundary kind, star and box
 * stencils of radius 1-3, 1/2/3-D, double and float, rhs or not, 1 to 23
 * steps (so several temporal blocks, also forced by a blocking override),
 * the points written must be bit for bit those of pel_stencil_apply on the
 * whole grid, no other point of the output may change, and the input must
 * stay as it was. A box and the shell around it, run as two calls, must
 * together give the whole apply (the distributed apply's interior/shell
 * split). */
#include <stdlib.h>
#include <string.h>

#include "pel_test.h"
#include "stencil/engine.h"

static const pel_boundary_kind kinds[5][2] = {
    {PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_DIRICHLET}, {PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC},
    {PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_DIRICHLET},   {PEL_BOUNDARY_MIRROR, PEL_BOUNDARY_NEAREST},
    {PEL_BOUNDARY_NEAREST, PEL_BOUNDARY_NEUMANN}};

/* A sentinel that no stencil step produces from inputs in [-1, 1). */
static const double sentinel = 12345.678;

static pel_stencil *make_stencil(pel_precision p, int ndim, pel_stencil_shape shape, int radius, int with_rhs,
                                 pel_test_rng *rng)
{
    double c[343];
    size_t npoints = 1;
    pel_stencil *s = NULL;
    if (shape == PEL_STENCIL_STAR)
        npoints = 2 * (size_t)ndim * (size_t)radius + 1;
    else
        for (int a = 0; a < ndim; a++)
            npoints *= (size_t)(2 * radius + 1);
    for (size_t k = 0; k < npoints; k++)
        c[k] = pel_test_uniform(rng, -1.0, 1.0) / (double)npoints * 1.5;
    PEL_TEST_OK(pel_stencil_create(p, ndim, shape, radius, c, npoints, with_rhs, 0.375, &s));
    return s;
}

static void fill(pel_precision p, void *x, size_t n, uint64_t seed)
{
    if (p == PEL_FLOAT32)
        pel_test_fill_float(x, n, seed);
    else
        pel_test_fill(x, n, seed);
}

static void fill_sentinel(pel_precision p, void *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p == PEL_FLOAT32)
            ((float *)x)[i] = (float)sentinel;
        else
            ((double *)x)[i] = sentinel;
    }
}

/* Whether point i (C order over dims) lies in [lo, hi). */
static int inside(int ndim, const size_t *dims, size_t i, const size_t *lo, const size_t *hi)
{
    for (int a = ndim - 1; a >= 0; a--) {
        size_t c = i % dims[a];
        i /= dims[a];
        if (c < lo[a] || c >= hi[a])
            return 0;
    }
    return 1;
}

/* One case: returns the number of mismatching points (0 expected). */
static size_t box_case(int ndim, const size_t *dims, pel_stencil_shape shape, int radius, pel_precision p,
                       int with_rhs, int mix, size_t nsteps, int skip, size_t time_block, pel_test_rng *rng)
{
    const size_t es = p == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    size_t n = 1, lo[3], hi[3], klo[3], khi[3], bad = 0;
    pel_boundary faces[6];
    pel_stencil_blocking blocking;
    pel_stencil *s = make_stencil(p, ndim, shape, radius, with_rhs, rng);
    void *result = NULL;

    for (int a = 0; a < ndim; a++) {
        n *= dims[a];
        for (int side = 0; side < 2; side++) {
            faces[2 * a + side].kind = kinds[(mix + a) % 5][side];
            faces[2 * a + side].value = 0.25 + 0.125 * (2 * a + side);
        }
        if (faces[2 * a].kind == PEL_BOUNDARY_PERIODIC) {
            lo[a] = 0;
            hi[a] = dims[a];
        } else {
            lo[a] = (size_t)(pel_test_next(rng) % dims[a]);
            hi[a] = lo[a] + 1 + (size_t)(pel_test_next(rng) % (dims[a] - lo[a]));
        }
        /* The skipped box: anywhere inside [lo, hi), possibly touching it. */
        klo[a] = lo[a] + (size_t)(pel_test_next(rng) % (hi[a] - lo[a]));
        khi[a] = klo[a] + (size_t)(pel_test_next(rng) % (hi[a] - klo[a] + 1));
    }
    {
        char *grid = malloc(n * es), *copy = malloc(n * es), *ref = malloc(n * es), *out = malloc(n * es);
        char *s0 = malloc(n * es), *s1 = malloc(n * es), *rhs = with_rhs ? malloc(n * es) : NULL;
        fill(p, grid, n, pel_test_next(rng));
        if (rhs)
            fill(p, rhs, n, pel_test_next(rng));
        memcpy(copy, grid, n * es);
        memcpy(ref, grid, n * es);
        fill_sentinel(p, out, n);
        memset(&blocking, 0, sizeof blocking);
        blocking.time_block = time_block;
        PEL_TEST_OK(pel_stencil_apply(s, dims, faces, ref, NULL, rhs, nsteps, NULL, &result));
        PEL_TEST_OK(pel__stencil_apply_box(s, dims, faces, grid, out, s0, s1, rhs, lo, hi, skip ? klo : NULL,
                                           skip ? khi : NULL, nsteps, time_block ? &blocking : NULL));
        CU_ASSERT(memcmp(grid, copy, n * es) == 0);
        for (size_t i = 0; i < n; i++) {
            int written = inside(ndim, dims, i, lo, hi) && !(skip && inside(ndim, dims, i, klo, khi));
            const char *want = written ? ref + i * es : NULL;
            char sent[8];
            fill_sentinel(p, sent, 1);
            if (memcmp(out + i * es, want ? want : sent, es) != 0)
                bad++;
        }
        free(grid);
        free(copy);
        free(ref);
        free(out);
        free(s0);
        free(s1);
        free(rhs);
    }
    pel_stencil_destroy(s);
    return bad;
}

static void test_random_boxes(void)
{
    static const size_t dims1[1] = {53}, dims2[2] = {19, 23}, dims3[3] = {13, 11, 17};
    const size_t *dims_of[4] = {NULL, dims1, dims2, dims3};
    static const size_t steps[] = {1, 2, 5, 9, 23};
    pel_test_rng rng = {20261201};
    int counter = 0;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int shape = 0; shape < 2; shape++)
            for (int radius = 1; radius <= 3; radius++)
                for (int mix = 0; mix < 5; mix++, counter++) {
                    pel_precision p = counter % 3 == 2 ? PEL_FLOAT32 : PEL_FLOAT64;
                    size_t nsteps = steps[counter % 5], tb = counter % 4 == 1 ? 2 : counter % 4 == 3 ? 3 : 0;
                    size_t bad;
                    if (ndim == 3 && shape == PEL_STENCIL_BOX && radius == 3 && nsteps > 5)
                        nsteps = 5; /* keep the 343-point stencil fast */
                    bad = box_case(ndim, dims_of[ndim], (pel_stencil_shape)shape, radius, p, counter % 2, mix, nsteps,
                                   counter % 3 != 0, tb, &rng);
                    CU_ASSERT_EQUAL(bad, 0);
                    if (bad)
                        fprintf(stderr, "box case ndim=%d shape=%d r=%d mix=%d nsteps=%zu tb=%zu: %zu points wrong\n",
                                ndim, shape, radius, mix, nsteps, tb, bad);
                }
}

/* The distributed apply's split: the interior (the box shrunk by r*T) in
 * one call, then the box with the interior skipped; together they must be
 * the whole apply on the box, also for 1 and 2 threads. */
static void test_interior_then_shell(void)
{
    static const size_t dims[3] = {24, 20, 22};
    pel_boundary faces[6];
    pel_test_rng rng = {77};
    const size_t n = 24 * 20 * 22, lo[3] = {0, 1, 2}, hi[3] = {24, 19, 21};
    for (int threads = 1; threads <= 2; threads++)
        for (size_t T = 1; T <= 4; T += 3)
            for (int radius = 1; radius <= 2; radius++) {
                pel_stencil *s = make_stencil(PEL_FLOAT64, 3, PEL_STENCIL_BOX, radius, 0, &rng);
                double *grid = malloc(n * sizeof *grid), *ref = malloc(n * sizeof *ref), *out = malloc(n * sizeof *out);
                double *s0 = malloc(n * sizeof *s0), *s1 = malloc(n * sizeof *s1);
                size_t ilo[3], ihi[3], bad = 0;
                void *result;
                for (int f = 0; f < 6; f++)
                    faces[f] = (pel_boundary){f < 2 ? PEL_BOUNDARY_NEUMANN : PEL_BOUNDARY_DIRICHLET, 0.5};
                for (int a = 0; a < 3; a++) {
                    ilo[a] = a == 0 ? 0 : lo[a] + (size_t)radius * T;
                    ihi[a] = a == 0 ? dims[0] : hi[a] - (size_t)radius * T;
                }
                pel_test_fill(grid, n, 5 + T);
                memcpy(ref, grid, n * sizeof *grid);
                fill_sentinel(PEL_FLOAT64, out, n);
                pel_set_num_threads(threads);
                PEL_TEST_OK(pel_stencil_apply(s, dims, faces, ref, NULL, NULL, T, NULL, &result));
                PEL_TEST_OK(
                    pel__stencil_apply_box(s, dims, faces, grid, out, s0, s1, NULL, ilo, ihi, NULL, NULL, T, NULL));
                PEL_TEST_OK(pel__stencil_apply_box(s, dims, faces, grid, out, s0, s1, NULL, lo, hi, ilo, ihi, T, NULL));
                for (size_t i = 0; i < n; i++) {
                    int in_box = inside(3, dims, i, lo, hi);
                    if (in_box ? memcmp(&out[i], &ref[i], sizeof *out) != 0 : out[i] != sentinel)
                        bad++;
                }
                CU_ASSERT_EQUAL(bad, 0);
                free(grid);
                free(ref);
                free(out);
                free(s0);
                free(s1);
                pel_stencil_destroy(s);
            }
    pel_set_num_threads(0);
}

static void test_box_errors(void)
{
    const size_t dims[2] = {8, 9}, lo[2] = {1, 1}, hi[2] = {5, 6}, past[2] = {5, 10}, whole[2] = {8, 9};
    const char *fn = "pel__stencil_apply_box";
    double grid[72], out[72], s0[72], s1[72], copy[72];
    pel_boundary faces[4], periodic[4];
    pel_stencil *s = NULL, *with_rhs = NULL;
    double c[5] = {0.1, 0.2, 0.3, 0.2, 0.1};
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, c, 5, 0, 0.0, &s));
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, c, 5, 1, 0.5, &with_rhs));
    for (int f = 0; f < 4; f++) {
        faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.0};
        periodic[f] = (pel_boundary){f < 2 ? PEL_BOUNDARY_PERIODIC : PEL_BOUNDARY_DIRICHLET, 0.0};
    }
    pel_test_fill(grid, 72, 3);
    pel_test_fill(out, 72, 4);
    memcpy(copy, out, sizeof out);
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, faces, NULL, out, s0, s1, NULL, lo, hi, NULL, NULL, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "grid");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, faces, grid, NULL, s0, s1, NULL, lo, hi, NULL, NULL, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "out");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, faces, grid, out, NULL, s1, NULL, lo, hi, NULL, NULL, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "scratch0");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, faces, grid, out, s0, s0, NULL, lo, hi, NULL, NULL, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "scratch0 overlaps scratch1");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, faces, grid, grid, s0, s1, NULL, lo, hi, NULL, NULL, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "grid overlaps out");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, faces, grid, out, s0, s1, NULL, lo, past, NULL, NULL, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "hi[1]=10");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, faces, grid, out, s0, s1, NULL, lo, hi, lo, NULL, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "skip_lo");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, faces, grid, out, s0, s1, NULL, lo, hi, hi, lo, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "skip_lo[0]=5");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(s, dims, periodic, grid, out, s0, s1, NULL, lo, hi, NULL, NULL, 2, NULL),
                          PEL_ERROR_UNSUPPORTED, fn, "periodic axis 0");
    PEL_TEST_EXPECT_ERROR(
        pel__stencil_apply_box(with_rhs, dims, faces, grid, out, s0, s1, NULL, lo, hi, NULL, NULL, 2, NULL),
        PEL_ERROR_INVALID_ARGUMENT, fn, "rhs");
    PEL_TEST_EXPECT_ERROR(pel__stencil_apply_box(NULL, dims, faces, grid, out, s0, s1, NULL, lo, hi, NULL, NULL, 2, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "stencil");
    CU_ASSERT(memcmp(copy, out, sizeof out) == 0);
    /* An empty box and nsteps = 0 (the box's own values) are fine. */
    PEL_TEST_OK(pel__stencil_apply_box(s, dims, faces, grid, out, s0, s1, NULL, lo, lo, NULL, NULL, 2, NULL));
    CU_ASSERT(memcmp(copy, out, sizeof out) == 0);
    PEL_TEST_OK(pel__stencil_apply_box(s, dims, faces, grid, out, s0, s1, NULL, lo, whole, hi, whole, 0, NULL));
    for (size_t i = 0; i < 72; i++) {
        size_t c0 = i / 9, c1 = i % 9;
        int written = c0 >= 1 && c1 >= 1 && !(c0 >= 5 && c1 >= 6);
        CU_ASSERT(out[i] == (written ? grid[i] : copy[i]));
    }
    pel_stencil_destroy(s);
    pel_stencil_destroy(with_rhs);
}

static void add_suites(void)
{
    static const pel_test_case exact[] = {{"random boxes and skipped boxes = pel_stencil_apply", test_random_boxes},
                                          {"interior, then shell = the whole apply (1, 2 threads)",
                                           test_interior_then_shell},
                                          {"bad arguments", test_box_errors},
                                          {NULL, NULL}};
    pel_test_add_suite("stencil sub-box entry point", exact);
}

int main(void)
{
    return pel_test_main("test_stencil_box", add_suites);
}
