/* libpel_mpi under mpirun -np N (tests/mpi/run.sh runs N = 1..4 at 1 and 2
 * threads per rank): the distributed apply and Jacobi are compared bit for
 * bit with the one-process pel_stencil_apply / pel_stencil_jacobi_poisson
 * computed on rank 0, the reductions with pel_reduce_sum / pel_ddot on the
 * whole vector (and pel_mpi_nrm2 with its documented order, written out here
 * independently), and every bad argument is given on one rank only: every
 * rank must return the same status and message, and none may hang (run.sh
 * bounds each run with timeout). */
#include <math.h>
#include <stdlib.h>

#include "mpi_test.h"

static int rank, nranks;

/* ------------------------------------------------------------ helpers */

static size_t count_of(int ndim, const size_t *dims)
{
    size_t n = 1;
    for (int a = 0; a < ndim; a++)
        n *= dims[a];
    return n;
}

static void *random_grid(pel_precision p, size_t n, uint64_t seed)
{
    void *x = malloc(n * (p == PEL_FLOAT32 ? sizeof(float) : sizeof(double)) + 8);
    for (size_t i = 0; i < n; i++) {
        double v = pel_mpi_test_uniform(&seed);
        if (p == PEL_FLOAT32)
            ((float *)x)[i] = (float)v;
        else
            ((double *)x)[i] = v;
    }
    return x;
}

/* Boundary patterns per axis: Dirichlet, periodic, Neumann and the two mixed
 * Dirichlet/Neumann pairs. */
static void make_faces(int ndim, int mix, pel_boundary *faces)
{
    static const pel_boundary_kind pattern[5][2] = {
        {PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_DIRICHLET}, {PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_PERIODIC},
        {PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_NEUMANN},     {PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_NEUMANN},
        {PEL_BOUNDARY_NEUMANN, PEL_BOUNDARY_DIRICHLET}};
    for (int a = 0; a < ndim; a++, mix /= 5)
        for (int s = 0; s < 2; s++) {
            faces[2 * a + s].kind = pattern[mix % 5][s];
            faces[2 * a + s].value = 0.625 - 0.25 * (2 * a + s);
        }
}

static int nmixes(int ndim)
{
    return ndim == 1 ? 5 : ndim == 2 ? 25 : 125;
}

/* Every process grid for nranks over ndim axes keeping >= radius points per
 * rank along cut axes; returns the count (grids in pg[][3]). */
static int process_grids(int ndim, const size_t *dims, int radius, int pg[][3])
{
    int count = 0;
    for (int p0 = 1; p0 <= nranks; p0++)
        for (int p1 = 1; p1 <= (ndim > 1 ? nranks : 1); p1++)
            for (int p2 = 1; p2 <= (ndim > 2 ? nranks : 1); p2++) {
                int p[3] = {p0, p1, p2}, ok = p0 * p1 * p2 == nranks;
                for (int a = 0; a < ndim; a++)
                    if (p[a] > 1 && dims[a] / (size_t)p[a] < (size_t)radius)
                        ok = 0;
                if (ok) {
                    memcpy(pg[count], p, sizeof p);
                    count++;
                }
            }
    return count;
}

/* Set by test_apply_overlap: apply_case then also runs the unoverlapped
 * path (PEL_MPI_OVERLAP=0) on the same input, requires the same bits, and
 * checks from pel_dgrid_last_stats which path each run took. */
static int overlap_check;

/* Whether this rank's first block can overlap: along every cut axis its box
 * exceeds radius*T on each side that has a neighbour. */
static int interior_nonempty(const pel_dgrid *grid, int ndim, const pel_boundary *faces, int radius, size_t T)
{
    int pd[3] = {1, 1, 1}, co[3] = {0, 0, 0}, cut = 0;
    size_t o[3], e[3];
    pel_dgrid_info(grid, NULL, NULL, pd, co, o, e);
    for (int a = 0; a < ndim; a++) {
        int periodic = faces[2 * a].kind == PEL_BOUNDARY_PERIODIC;
        size_t sides;
        if (pd[a] == 1)
            continue;
        cut = 1;
        sides = (size_t)(co[a] > 0 || periodic) + (size_t)(co[a] < pd[a] - 1 || periodic);
        if (e[a] <= sides * (size_t)radius * T)
            return 0;
    }
    return cut;
}

/* The second, unoverlapped run of an overlap check (see overlap_check). */
static void unoverlapped_run(pel_dgrid *grid, const pel_stencil *stencil, int ndim, const pel_boundary *faces,
                             int radius, const void *global, void *local, const void *local_rhs, size_t nsteps,
                             size_t T, const void *gathered, size_t bytes)
{
    pel_dgrid_stats stats;
    void *again = malloc(bytes + 8);
    pel_status st;
    CHECK(pel_dgrid_last_stats(grid, &stats) == PEL_OK, "stats");
    if (nsteps > 0 && interior_nonempty(grid, ndim, faces, radius, stats.halo_steps))
        CHECK(stats.overlapped_blocks > 0, "the overlapped path ran (T=%zu)", stats.halo_steps);
    CHECK(pel_dgrid_scatter(grid, 0, global, local) == PEL_OK, "scatter again");
    setenv("PEL_MPI_OVERLAP", "0", 1);
    st = pel_dgrid_stencil_apply(grid, stencil, local, local_rhs, nsteps, T, NULL);
    unsetenv("PEL_MPI_OVERLAP");
    CHECK(st == PEL_OK, "unoverlapped apply");
    CHECK(pel_dgrid_last_stats(grid, &stats) == PEL_OK && stats.overlapped_blocks == 0, "unoverlapped stats");
    CHECK(pel_dgrid_gather(grid, 0, local, again) == PEL_OK, "gather again");
    if (rank == 0)
        CHECK(memcmp(again, gathered, bytes) == 0, "overlapped and unoverlapped bits differ (T=%zu)", T);
    free(again);
}

/* One distributed apply against the one-process apply on rank 0. */
static void apply_case(int ndim, const size_t *dims, pel_stencil_shape shape, int radius, pel_precision precision,
                       int with_rhs, int mix, const int *pdims, size_t nsteps, size_t T, uint64_t seed)
{
    size_t npoints = 1, n = count_of(ndim, dims), elem = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    double coefficients[729];
    pel_boundary faces[6];
    pel_stencil *stencil = NULL;
    pel_dgrid *grid = NULL;
    void *global = random_grid(precision, n, seed), *rhs_global = with_rhs ? random_grid(precision, n, seed + 1) : NULL;
    void *local = NULL, *local_rhs = NULL, *gathered = malloc(n * elem + 8), *result = NULL;
    uint64_t s = seed + 7;
    pel_status st;

    for (int a = 0; a < ndim; a++)
        npoints *= shape == PEL_STENCIL_STAR ? 1 : (size_t)(2 * radius + 1);
    if (shape == PEL_STENCIL_STAR)
        npoints = 2 * (size_t)ndim * (size_t)radius + 1;
    for (size_t k = 0; k < npoints; k++)
        coefficients[k] = pel_mpi_test_uniform(&s) / (double)npoints * 1.5;
    make_faces(ndim, mix, faces);
    st = pel_stencil_create(precision, ndim, shape, radius, coefficients, npoints, with_rhs, 0.375, &stencil);
    CHECK(st == PEL_OK, "stencil_create");
    st = pel_dgrid_create(MPI_COMM_WORLD, precision, ndim, dims, pdims, faces, &grid);
    CHECK(st == PEL_OK, "dgrid_create ndim=%d", ndim);
    if (st != PEL_OK)
        goto out;
    pel_dgrid_local_alloc(grid, &local);
    if (with_rhs)
        pel_dgrid_local_alloc(grid, &local_rhs);
    CHECK(pel_dgrid_scatter(grid, nranks - 1, global, local) == PEL_OK, "scatter");
    if (with_rhs)
        CHECK(pel_dgrid_scatter(grid, 0, rhs_global, local_rhs) == PEL_OK, "scatter rhs");
    st = pel_dgrid_stencil_apply(grid, stencil, local, local_rhs, nsteps, T, NULL);
    CHECK(st == PEL_OK, "apply ndim=%d shape=%d r=%d T=%zu", ndim, (int)shape, radius, T);
    CHECK(pel_dgrid_gather(grid, 0, local, gathered) == PEL_OK, "gather");
    if (overlap_check && st == PEL_OK)
        unoverlapped_run(grid, stencil, ndim, faces, radius, global, local, local_rhs, nsteps, T, gathered, n * elem);
    if (rank == 0 && st == PEL_OK) {
        st = pel_stencil_apply(stencil, dims, faces, global, NULL, rhs_global, nsteps, NULL, &result);
        CHECK(st == PEL_OK, "serial apply");
        CHECK(memcmp(global, gathered, n * elem) == 0,
              "bits differ: ndim=%d dims=%zux%zux%zu shape=%d radius=%d prec=%d rhs=%d mix=%d pdims=%dx%dx%d "
              "nsteps=%zu T=%zu",
              ndim, dims[0], ndim > 1 ? dims[1] : 1, ndim > 2 ? dims[2] : 1, (int)shape, radius, (int)precision,
              with_rhs, mix, pdims ? pdims[0] : 0, pdims && ndim > 1 ? pdims[1] : 0, pdims && ndim > 2 ? pdims[2] : 0,
              nsteps, T);
    }
out:
    pel_free(local);
    pel_free(local_rhs);
    pel_dgrid_destroy(grid);
    pel_stencil_destroy(stencil);
    free(global);
    free(rhs_global);
    free(gathered);
}

/* ------------------------------------------------------------ apply */

static void test_apply_shapes(void)
{
    static const size_t dims1[1] = {41}, dims2[2] = {23, 18}, dims3[3] = {17, 13, 11};
    const size_t *dims_of[4] = {NULL, dims1, dims2, dims3};
    static const size_t halo[] = {1, 3, 0}; /* T = 2 in test_apply_every_mix */
    int pg[64][3], counter = 0;

    for (int ndim = 1; ndim <= 3; ndim++)
        for (int shape = 0; shape < 2; shape++)
            for (int radius = 1; radius <= 4; radius++) {
                int npg = process_grids(ndim, dims_of[ndim], radius, pg);
                if (ndim == 3 && shape == PEL_STENCIL_BOX && radius > 2)
                    continue; /* covered by test_apply_big_box at a size that fits radius 3-4 */
                for (int g = 0; g < npg; g++)
                    for (size_t t = 0; t < sizeof halo / sizeof *halo; t++, counter++) {
                        pel_precision prec = counter % 3 == 2 ? PEL_FLOAT32 : PEL_FLOAT64;
                        int mix = (counter * 7) % nmixes(ndim);
                        apply_case(ndim, dims_of[ndim], (pel_stencil_shape)shape, radius, prec, counter % 2, mix,
                                   pg[g], 5, halo[t], 1000 + (uint64_t)counter);
                    }
            }
}

/* 3-D box stencils of radius 3 and 4 (343 and 729 points) on one grid big
 * enough for every 4-rank split, automatic process grid. */
static void test_apply_big_box(void)
{
    static const size_t dims[3] = {16, 12, 9};
    for (int radius = 3; radius <= 4; radius++)
        for (int mix = 0; mix < 3; mix++) {
            int pg[64][3], npg = process_grids(3, dims, radius, pg);
            for (int g = 0; g < npg; g++)
                apply_case(3, dims, PEL_STENCIL_BOX, radius, mix == 1 ? PEL_FLOAT32 : PEL_FLOAT64, mix % 2,
                           mix * 31 + 6, pg[g], 3, mix == 2 ? 1 : 0, 77 + (uint64_t)radius);
        }
}

/* Every boundary mix of every dimension, star and box radius 1-2, with the
 * automatic process grid and T = 2. */
static void test_apply_every_mix(void)
{
    static const size_t dims1[1] = {29}, dims2[2] = {14, 11}, dims3[3] = {9, 8, 7};
    const size_t *dims_of[4] = {NULL, dims1, dims2, dims3};
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int mix = 0; mix < nmixes(ndim); mix++)
            apply_case(ndim, dims_of[ndim], mix % 2 ? PEL_STENCIL_BOX : PEL_STENCIL_STAR, 1 + mix % 2 * (ndim < 3),
                       mix % 4 == 3 ? PEL_FLOAT32 : PEL_FLOAT64, mix % 3 == 0, mix, NULL, 4, 2,
                       5000 + (uint64_t)mix);
}

/* The 2x2x2 process grid that cuts every axis of a 3-D grid (run at 8
 * ranks by run.sh, with only this subset: 8 ranks oversubscribe 2 cores). */
static void test_apply_cube(void)
{
    static const size_t dims[3] = {17, 13, 11};
    static const int cube[3] = {2, 2, 2};
    int counter = 0;
    if (nranks != 8)
        return;
    for (int shape = 0; shape < 2; shape++)
        for (int radius = 1; radius <= 4; radius++)
            for (size_t T = 0; T <= 2; T++, counter++)
                apply_case(3, dims, (pel_stencil_shape)shape, radius, counter % 3 == 1 ? PEL_FLOAT32 : PEL_FLOAT64,
                           counter % 2, (counter * 37) % 125, cube, 4, T, 300 + (uint64_t)counter);
}

/* The overlapped apply (interior updated while the first cut axis's halo
 * messages fly, then the shell) on uneven splits: every process grid of the
 * rank count, 1/2/3-D, star and box, radius 1-3, T = 2 and 3 with nsteps = 7
 * (a short last block), rotating Dirichlet/periodic/Neumann mixes, rhs or
 * not; each case against pel_stencil_apply and against the unoverlapped
 * path, and the stats must show the overlap ran where the interior exists. */
static void test_apply_overlap(void)
{
    static const size_t dims1[1] = {61}, dims2[2] = {37, 29}, dims3[3] = {23, 19, 17};
    const size_t *dims_of[4] = {NULL, dims1, dims2, dims3};
    int pg[64][3], counter = 0;
    overlap_check = 1;
    for (int ndim = 1; ndim <= 3; ndim++)
        for (int shape = 0; shape < 2; shape++)
            for (int radius = 1; radius <= 3; radius++) {
                int npg = process_grids(ndim, dims_of[ndim], radius, pg);
                for (int g = 0; g < npg; g++)
                    for (size_t T = 2; T <= 3; T++, counter++)
                        apply_case(ndim, dims_of[ndim], (pel_stencil_shape)shape, radius,
                                   counter % 4 == 3 ? PEL_FLOAT32 : PEL_FLOAT64, counter % 3 == 1,
                                   (counter * 11) % nmixes(ndim), pg[g], 7, T, 7000 + (uint64_t)counter);
            }
    overlap_check = 0;
}

/* Many steps, T large and automatic, nsteps not a multiple of T. */
static void test_apply_long(void)
{
    static const size_t dims[2] = {40, 36};
    apply_case(2, dims, PEL_STENCIL_STAR, 1, PEL_FLOAT64, 1, 6, NULL, 37, 0, 9);
    apply_case(2, dims, PEL_STENCIL_STAR, 2, PEL_FLOAT64, 0, 12, NULL, 23, 4, 10);
    apply_case(2, dims, PEL_STENCIL_BOX, 1, PEL_FLOAT32, 0, 1, NULL, 29, 100, 11);
    apply_case(2, dims, PEL_STENCIL_STAR, 1, PEL_FLOAT64, 0, 0, NULL, 0, 0, 12); /* nsteps = 0 */
}

static void test_halo_steps(void)
{
    static const size_t dims[3] = {20, 20, 20};
    pel_boundary faces[6];
    pel_stencil *star = NULL;
    pel_dgrid *grid = NULL;
    pel_dgrid_model model;
    size_t T = 0;

    make_faces(3, 0, faces);
    pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, 1.0, &star);
    CHECK(pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, NULL, faces, &grid) == PEL_OK, "create");
    CHECK(pel_dgrid_halo_steps(grid, star, 100, 0, &T) == PEL_OK && T >= 1 && T <= 100, "auto T=%zu", T);
    CHECK(pel_dgrid_halo_steps(grid, star, 100, 3, &T) == PEL_OK && T == (nranks > 1 ? 3u : 100u), "given T=%zu", T);
    CHECK(pel_dgrid_halo_steps(grid, star, 100, 1000, &T) == PEL_OK && T <= 100, "capped T=%zu", T);
    CHECK(pel_dgrid_model_get(grid, &model) == PEL_OK && model.seconds_per_point > 0 &&
              (nranks == 1 || (model.latency_seconds > 0 && model.bandwidth_bytes > 0)),
          "model %g %g %g", model.latency_seconds, model.bandwidth_bytes, model.seconds_per_point);
    pel_dgrid_destroy(grid);
    pel_stencil_destroy(star);
}

/* Decomposition: boxes tile the grid, the chosen process grid has the
 * smallest halo surface, uneven splits differ by at most one point. */
static void test_decomposition(void)
{
    static const size_t dims[3] = {64, 8, 8};
    pel_boundary faces[6];
    pel_dgrid *grid = NULL;
    int pd[3] = {0}, coords[3];
    size_t offset[3], extent[3], total = 0;

    make_faces(3, 0, faces);
    CHECK(pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, NULL, faces, &grid) == PEL_OK, "create");
    pel_dgrid_info(grid, NULL, NULL, pd, coords, offset, extent);
    /* A long axis 0 is cut first: slabs of 8x8 have the smallest surface. */
    CHECK(pd[0] == nranks && pd[1] == 1 && pd[2] == 1, "process grid %dx%dx%d", pd[0], pd[1], pd[2]);
    for (int r = 0; r < nranks; r++) {
        size_t o[3], e[3];
        CHECK(pel_dgrid_rank_box(grid, r, o, e) == PEL_OK, "rank_box");
        total += e[0] * e[1] * e[2];
        if (r == rank)
            CHECK(memcmp(o, offset, sizeof o) == 0 && memcmp(e, extent, sizeof e) == 0, "own box");
    }
    CHECK(total == 64 * 8 * 8, "boxes tile the grid: %zu", total);
    pel_dgrid_destroy(grid);

    /* Uneven: 10 points over the ranks along axis 0 (forced). */
    {
        size_t d1[1] = {10}, e0 = 0, e1 = 100;
        int p1[1] = {nranks};
        CHECK(pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT32, 1, d1, p1, faces, &grid) == PEL_OK, "create 1-D");
        for (int r = 0; r < nranks; r++) {
            size_t o, e;
            pel_dgrid_rank_box(grid, r, &o, &e);
            if (e > e0)
                e0 = e;
            if (e < e1)
                e1 = e;
        }
        CHECK(e0 - e1 <= 1, "uneven split %zu..%zu", e1, e0);
        pel_dgrid_destroy(grid);
    }
    /* A communicator of one rank works beside the world grid. */
    {
        size_t d2[2] = {9, 7};
        CHECK(pel_dgrid_create(MPI_COMM_SELF, PEL_FLOAT64, 2, d2, NULL, faces, &grid) == PEL_OK, "self grid");
        pel_dgrid_info(grid, NULL, NULL, pd, NULL, offset, extent);
        CHECK(pd[0] == 1 && pd[1] == 1 && extent[0] == 9 && extent[1] == 7, "self box");
        pel_dgrid_destroy(grid);
    }
}

/* ------------------------------------------------------------ Jacobi */

static void jacobi_case(int ndim, const size_t *dims, int mix, pel_precision precision, double tolerance,
                        size_t max_iterations, size_t check_interval)
{
    size_t n = count_of(ndim, dims), elem = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    double spacing[3] = {0.5, 0.75, 0.625}, res_serial = -1, res_dist = -2;
    size_t it_serial = 0, it_dist = 1;
    pel_boundary faces[6];
    pel_dgrid *grid = NULL;
    void *u = random_grid(precision, n, 31), *f = random_grid(precision, n, 32), *gathered = malloc(n * elem);
    void *ul = NULL, *fl = NULL;
    pel_status s_serial = PEL_OK, s_dist;

    make_faces(ndim, mix, faces);
    CHECK(pel_dgrid_create(MPI_COMM_WORLD, precision, ndim, dims, NULL, faces, &grid) == PEL_OK, "create");
    pel_dgrid_local_alloc(grid, &ul);
    pel_dgrid_local_alloc(grid, &fl);
    pel_dgrid_scatter(grid, 0, u, ul);
    pel_dgrid_scatter(grid, 0, f, fl);
    s_dist = pel_dgrid_jacobi_poisson(grid, spacing, ul, fl, tolerance, max_iterations, check_interval, &it_dist,
                                      &res_dist);
    CHECK(s_dist == PEL_OK || s_dist == PEL_ERROR_NOT_CONVERGED, "jacobi status %d", (int)s_dist);
    pel_dgrid_gather(grid, 0, ul, gathered);
    if (rank == 0) {
        s_serial = pel_stencil_jacobi_poisson(precision, ndim, dims, spacing, faces, u, f, tolerance, max_iterations,
                                              check_interval, &it_serial, &res_serial);
        CHECK(s_serial == s_dist, "status %d vs %d", (int)s_serial, (int)s_dist);
        CHECK(it_serial == it_dist, "iterations %zu vs %zu", it_serial, it_dist);
        CHECK(memcmp(&res_serial, &res_dist, sizeof(double)) == 0, "residual %.17g vs %.17g", res_serial, res_dist);
        CHECK(memcmp(u, gathered, n * elem) == 0, "u differs (ndim=%d mix=%d)", ndim, mix);
    }
    pel_free(ul);
    pel_free(fl);
    pel_dgrid_destroy(grid);
    free(u);
    free(f);
    free(gathered);
}

static void test_jacobi(void)
{
    static const size_t d1[1] = {48}, d2[2] = {20, 17}, d3[3] = {10, 9, 8};
    jacobi_case(1, d1, 0, PEL_FLOAT64, 1e-3, 4000, 40);
    jacobi_case(1, d1, 3, PEL_FLOAT32, 0, 90, 0);
    jacobi_case(2, d2, 0, PEL_FLOAT64, 1e-2, 600, 25);
    jacobi_case(2, d2, 1 + 5 * 3, PEL_FLOAT64, 0, 70, 30); /* periodic x Dirichlet/Neumann, not converged */
    jacobi_case(3, d3, 0, PEL_FLOAT64, 1e-2, 400, 20);
    jacobi_case(3, d3, 1 + 5 * 2 + 25 * 4, PEL_FLOAT32, 1e-30, 60, 7);
}

/* ------------------------------------------------------------ reductions */

/* pel_mpi_nrm2's documented order written out independently: blocks'
 * pel_dnrm2 values as scaled squares, the pairwise tree on common scales. */
static double nrm2_reference(const double *x, size_t n)
{
    size_t nb = (n + PEL_REDUCE_BLOCK - 1) / PEL_REDUCE_BLOCK;
    double *q = malloc((nb + 1) * sizeof *q);
    int *e = malloc((nb + 1) * sizeof *e), *bad = calloc(nb + 1, sizeof *bad);
    double result;
    if (n == 0) {
        free(q), free(e), free(bad);
        return 0.0;
    }
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * PEL_REDUCE_BLOCK, cnt = n - lo < PEL_REDUCE_BLOCK ? n - lo : PEL_REDUCE_BLOCK;
        double v;
        pel_dnrm2(cnt, x + lo, 1, &v);
        if (!isfinite(v)) {
            q[b] = v, e[b] = 0, bad[b] = 1;
        } else if (v == 0) {
            q[b] = 0, e[b] = -4000;
        } else {
            double m = frexp(v, &e[b]);
            q[b] = m * m;
        }
    }
    for (size_t w = 1; w < nb; w *= 2)
        for (size_t i = 0; i + w < nb; i += 2 * w) {
            if (bad[i] || bad[i + w]) {
                q[i] = (bad[i] ? q[i] : 0.0) + (bad[i + w] ? q[i + w] : 0.0);
                bad[i] = 1;
            } else {
                int m = e[i] > e[i + w] ? e[i] : e[i + w];
                q[i] = ldexp(q[i], 2 * (e[i] - m)) + ldexp(q[i + w], 2 * (e[i + w] - m));
                e[i] = m;
            }
        }
    result = bad[0] ? sqrt(q[0]) : (q[0] == 0 ? 0.0 : ldexp(sqrt(q[0]), e[0]));
    free(q), free(e), free(bad);
    return result;
}

/* Splits n elements over the ranks: pattern 0 even, 1 all on the last rank,
 * 2 pseudo-random with empty ranks and pieces inside one block. */
static void split(size_t n, int pattern, uint64_t seed, size_t *start, size_t *count)
{
    size_t cuts[65];
    cuts[0] = 0;
    cuts[nranks] = n;
    for (int r = 1; r < nranks; r++) {
        if (pattern == 0)
            cuts[r] = n * (size_t)r / (size_t)nranks;
        else if (pattern == 1)
            cuts[r] = 0;
        else
            cuts[r] = n ? pel_mpi_test_next(&seed) % (n + 1) : 0;
    }
    for (int i = 1; i < nranks; i++) /* sort the cuts */
        for (int j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    *start = cuts[rank];
    *count = cuts[rank + 1] - cuts[rank];
}

static void test_reductions(void)
{
    static const size_t lengths[] = {0, 1, 7, 4095, 4096, 4097, 3 * 4096 + 1234, 41 * 4096 + 17, 300000};
    for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
        size_t n = lengths[li];
        double *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y);
        double sum_ref, dot_ref, nrm_ref, nrm_blas;
        uint64_t s = 99 + li;
        for (size_t i = 0; i < n; i++) {
            x[i] = pel_mpi_test_uniform(&s) * (i % 5 == 0 ? 1e6 : 1.0);
            y[i] = pel_mpi_test_uniform(&s);
        }
        if (li == 6 && n > 100) { /* scaling: huge and tiny values */
            x[3] = 1e300;
            x[n - 2] = 1e-300;
        }
        pel_reduce_sum(x, n, 1, &sum_ref);
        pel_ddot(n, x, 1, y, 1, &dot_ref);
        pel_dnrm2(n, x, 1, &nrm_blas);
        nrm_ref = nrm2_reference(x, n);
        CHECK(fabs(nrm_ref - nrm_blas) <= 4 * 0x1p-52 * nrm_blas, "nrm2 order within 4 ulp of pel_dnrm2: %.17g %.17g",
              nrm_ref, nrm_blas);
        for (int pattern = 0; pattern < 3; pattern++)
            for (int rep = 0; rep < (pattern == 2 ? 4 : 1); rep++) {
                size_t st, cnt;
                double sum = -1, dot = -1, nrm = -1;
                split(n, pattern, 17 * li + (size_t)rep, &st, &cnt);
                CHECK(pel_mpi_reduce_sum(MPI_COMM_WORLD, x + st, cnt, &sum) == PEL_OK, "sum");
                CHECK(pel_mpi_dot(MPI_COMM_WORLD, x + st, y + st, cnt, &dot) == PEL_OK, "dot");
                CHECK(pel_mpi_nrm2(MPI_COMM_WORLD, x + st, cnt, &nrm) == PEL_OK, "nrm2");
                CHECK(memcmp(&sum, &sum_ref, sizeof sum) == 0, "sum n=%zu pattern=%d: %.17g vs %.17g", n, pattern,
                      sum, sum_ref);
                CHECK(memcmp(&dot, &dot_ref, sizeof dot) == 0, "dot n=%zu pattern=%d: %.17g vs %.17g", n, pattern,
                      dot, dot_ref);
                CHECK(memcmp(&nrm, &nrm_ref, sizeof nrm) == 0, "nrm2 n=%zu pattern=%d: %.17g vs %.17g", n, pattern,
                      nrm, nrm_ref);
            }
        free(x);
        free(y);
    }
    /* Inf and NaN propagate. */
    {
        double v[3] = {1.0, INFINITY, 2.0}, r = 0;
        size_t st, cnt;
        split(3, 0, 0, &st, &cnt);
        CHECK(pel_mpi_nrm2(MPI_COMM_WORLD, v + st, cnt, &r) == PEL_OK && isinf(r), "nrm2 Inf: %g", r);
        v[1] = NAN;
        CHECK(pel_mpi_reduce_sum(MPI_COMM_WORLD, v + st, cnt, &r) == PEL_OK && isnan(r), "sum NaN: %g", r);
    }
}

/* ------------------------------------------------------------ errors */

/* Checks that every rank got status `expected` with a message naming the
 * function, the failing rank and `fragment`; compares statuses and messages
 * across ranks. */
#define expect_all pel_mpi_test_expect_all /* mpi_test.h */

static void test_errors(void)
{
    const int bad = nranks - 1; /* the one rank that gets the bad argument */
    const int me_bad = rank == bad;
    size_t dims[2] = {12, 10}, bad_dims[2] = {12, 0}, other_dims[2] = {12, 11};
    pel_boundary faces[4], half_periodic[4];
    pel_stencil *star = NULL, *star_f = NULL, *with_rhs = NULL, *big = NULL;
    pel_dgrid *grid = NULL, *g2 = (pel_dgrid *)0x1;
    double coefficients[5] = {0.1, 0.2, 0.3, 0.2, 0.1}, *local = NULL, *rhs = NULL, *global = NULL, r = 7.0;
    double x[4] = {1, 2, 3, 4}, spacing[2] = {1.0, 1.0}, nan_spacing[2] = {1.0, NAN};
    size_t it;
    pel_status st;
    size_t live_before = pel__handle_live_count();

    make_faces(2, 0, faces);
    make_faces(2, 0, half_periodic);
    half_periodic[1].kind = PEL_BOUNDARY_PERIODIC;
    pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, coefficients, 5, 0, 0.0, &star);
    pel_stencil_create(PEL_FLOAT32, 2, PEL_STENCIL_STAR, 1, coefficients, 5, 0, 0.0, &star_f);
    pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, coefficients, 5, 1, 0.5, &with_rhs);
    {
        double c[17] = {0};
        pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 4, c, 17, 0, 0.0, &big);
    }

    /* create */
    st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, me_bad ? bad_dims : dims, NULL, faces, &g2);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_create", bad, "dims[1]=0");
    CHECK(g2 == NULL, "*grid set to NULL on error");
    st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, dims, NULL, me_bad ? half_periodic : faces, &g2);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_create", bad, "periodic");
    st = pel_dgrid_create(MPI_COMM_WORLD, me_bad ? (pel_precision)9 : PEL_FLOAT64, 2, dims, NULL, faces, &g2);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_create", bad, "precision=9");
    st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, dims, NULL, faces, me_bad ? NULL : &g2);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_create", bad, "grid must not be NULL");
    {
        int pd[2] = {me_bad ? nranks + 1 : nranks, 1};
        st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, dims, pd, faces, &g2);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_create", bad, "process_dims");
    }
    if (nranks > 1) {
        st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, me_bad ? other_dims : dims, NULL, faces, &g2);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_create", -1, "dims must be equal on every rank");
    }
    CHECK(pel_dgrid_create(MPI_COMM_NULL, PEL_FLOAT64, 2, dims, NULL, faces, &g2) == PEL_ERROR_INVALID_ARGUMENT &&
              strstr(pel_last_error(), "MPI_COMM_NULL"),
          "MPI_COMM_NULL");

    CHECK(pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, dims, NULL, faces, &grid) == PEL_OK, "create");
    pel_dgrid_local_alloc(grid, (void **)&local);
    pel_dgrid_local_alloc(grid, (void **)&rhs);
    global = calloc(120, sizeof *global);
    for (int i = 0; i < 120; i++)
        global[i] = 0.25 * i;
    pel_dgrid_scatter(grid, 0, global, local);
    {
        size_t o[2], e[2];
        double *copy;
        pel_dgrid_info(grid, NULL, NULL, NULL, NULL, o, e);
        copy = malloc(e[0] * e[1] * sizeof *copy + 8);
        memcpy(copy, local, e[0] * e[1] * sizeof *copy);

        /* apply */
        st = pel_dgrid_stencil_apply(grid, star, me_bad ? NULL : local, NULL, 3, 1, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", bad, "local must not be NULL");
        if (nranks > 1) {
            st = pel_dgrid_stencil_apply(grid, star, local, NULL, me_bad ? 4 : 3, 1, NULL);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", -1, "nsteps must be equal");
        }
        if (nranks > 1) {
            st = pel_dgrid_stencil_apply(grid, star, local, NULL, 3, me_bad ? 2 : 1, NULL);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", -1, "halo_steps must be equal");
        }
        st = pel_dgrid_stencil_apply(grid, me_bad ? star_f : star, local, NULL, 3, 1, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", bad, "precision");
        st = pel_dgrid_stencil_apply(grid, me_bad ? NULL : star, local, NULL, 3, 1, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", bad, "stencil");
        st = pel_dgrid_stencil_apply(grid, with_rhs, local, me_bad ? NULL : rhs, 3, 1, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", bad, "rhs");
        st = pel_dgrid_stencil_apply(grid, star, local, me_bad ? rhs : NULL, 3, 1, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", bad, "rhs");
        st = pel_dgrid_stencil_apply(me_bad ? NULL : grid, star, local, NULL, 3, 1, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", bad, "grid");
        {
            /* Several live grids over the same ranks: a bad handle on one
             * rank (NULL, then a grid destroyed there only) still fails on
             * every rank with that rank named (they share one agreement
             * communicator). */
            pel_dgrid *g3 = NULL, *g4 = NULL;
            CHECK(pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, dims, NULL, faces, &g3) == PEL_OK, "g3");
            CHECK(pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, dims, NULL, faces, &g4) == PEL_OK, "g4");
            st = pel_dgrid_stencil_apply(me_bad ? NULL : g3, star, local, NULL, 3, 1, NULL);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", bad, "grid");
            st = pel_dgrid_scatter(me_bad ? NULL : g4, 0, global, local);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_scatter", bad, "grid");
            st = pel_dgrid_jacobi_poisson(me_bad ? NULL : g3, spacing, local, rhs, 1e-6, 10, 5, NULL, NULL);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_jacobi_poisson", bad, "grid");
            if (me_bad)
                pel_dgrid_destroy(g3);
            st = pel_dgrid_stencil_apply(g3, star, local, NULL, 3, 1, NULL);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_stencil_apply", bad, "grid");
            if (!me_bad)
                pel_dgrid_destroy(g3);
            pel_dgrid_destroy(g4);
        }
        if (nranks >= 4) { /* 12 points over 4 ranks: 3 < radius 4 */
            int pd[2] = {nranks, 1};
            pel_dgrid *thin = NULL;
            pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, 2, dims, pd, faces, &thin);
            st = pel_dgrid_stencil_apply(thin, big, local, NULL, 3, 1, NULL);
            expect_all(st, PEL_ERROR_UNSUPPORTED, "pel_dgrid_stencil_apply", 0, "radius=4");
            pel_dgrid_destroy(thin);
        }
        CHECK(memcmp(copy, local, e[0] * e[1] * sizeof *copy) == 0, "local untouched by failed applies");
        st = pel_dgrid_halo_steps(grid, star, 10, 0, me_bad ? NULL : &it);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_halo_steps", bad, "chosen");

        /* scatter, gather */
        st = pel_dgrid_scatter(grid, me_bad ? nranks : 0, global, local);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_scatter", bad, "root=");
        if (nranks > 1) {
            st = pel_dgrid_scatter(grid, me_bad ? 0 : bad, global, local);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_scatter", -1, "root must be equal");
        }
        st = pel_dgrid_scatter(grid, bad, me_bad ? NULL : global, local);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_scatter", bad, "global must not be NULL");
        st = pel_dgrid_gather(grid, 0, me_bad ? NULL : local, global);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_gather", bad, "local must not be NULL");
        CHECK(memcmp(copy, local, e[0] * e[1] * sizeof *copy) == 0, "local untouched by failed transfers");

        /* Jacobi */
        st = pel_dgrid_jacobi_poisson(grid, me_bad ? nan_spacing : spacing, local, rhs, 1e-6, 10, 5, NULL, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_jacobi_poisson", bad, "spacing[1]");
        st = pel_dgrid_jacobi_poisson(grid, spacing, local, me_bad ? NULL : rhs, 1e-6, 10, 5, NULL, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_jacobi_poisson", bad, "f must not be NULL");
        st = pel_dgrid_jacobi_poisson(grid, spacing, local, rhs, me_bad ? -1.0 : 1e-6, 10, 5, NULL, NULL);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_jacobi_poisson", bad, "tolerance");
        if (nranks > 1) {
            st = pel_dgrid_jacobi_poisson(grid, spacing, local, rhs, 1e-6, me_bad ? 11 : 10, 5, NULL, NULL);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_dgrid_jacobi_poisson", -1, "max_iterations must be equal");
        }
        CHECK(memcmp(copy, local, e[0] * e[1] * sizeof *copy) == 0, "u untouched by failed Jacobi calls");
        free(copy);
    }
    {
        void *none = global;
        st = pel_dgrid_local_alloc(NULL, &none);
        CHECK(st == PEL_ERROR_INVALID_ARGUMENT && none == NULL, "local_alloc NULL grid sets *local NULL");
    }
    free(global);

    /* reductions */
    st = pel_mpi_reduce_sum(MPI_COMM_WORLD, me_bad ? NULL : x, 4, &r);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_reduce_sum", bad, "x must not be NULL");
    CHECK(r == 7.0, "result untouched on error");
    st = pel_mpi_dot(MPI_COMM_WORLD, x, me_bad ? NULL : x, 4, &r);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_dot", bad, "y must not be NULL");
    st = pel_mpi_nrm2(MPI_COMM_WORLD, x, 4, me_bad ? NULL : &r);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_nrm2", bad, "result must not be NULL");
    CHECK(pel_mpi_nrm2(MPI_COMM_NULL, x, 4, &r) == PEL_ERROR_INVALID_ARGUMENT, "MPI_COMM_NULL");

    /* After all that, the grid still works. */
    CHECK(pel_dgrid_stencil_apply(grid, star, local, NULL, 3, 0, NULL) == PEL_OK, "apply after errors");
    pel_free(local);
    pel_free(rhs);
    pel_dgrid_destroy(grid);
    pel_dgrid_destroy(NULL);
    pel_stencil_destroy(star);
    pel_stencil_destroy(star_f);
    pel_stencil_destroy(with_rhs);
    pel_stencil_destroy(big);
    pel_mpi_test_no_leak(live_before);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    pel_mpi_test_init(&argc, &argv, &rank, &nranks);
    if (!only || strcmp(only, "decomposition") == 0)
        test_decomposition();
    if (!only || strcmp(only, "apply") == 0) {
        test_apply_shapes();
        test_apply_big_box();
        test_apply_long();
    }
    if (!only || strcmp(only, "overlap") == 0)
        test_apply_overlap();
    if (only && strcmp(only, "cube") == 0)
        test_apply_cube();
    if (!only || strcmp(only, "mix") == 0)
        test_apply_every_mix();
    if (!only || strcmp(only, "halo") == 0)
        test_halo_steps();
    if (!only || strcmp(only, "jacobi") == 0)
        test_jacobi();
    if (!only || strcmp(only, "reduce") == 0)
        test_reductions();
    if (!only || strcmp(only, "errors") == 0)
        test_errors();
    return pel_mpi_test_end(argv[0]);
}
