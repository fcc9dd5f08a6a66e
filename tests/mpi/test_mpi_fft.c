/* libpel_mpi's distributed FFT and spectral solver under mpirun -np N
 * (tests/mpi/run.sh runs N = 1..4 at 1 and 2 threads per rank). Every rank
 * builds the whole grid from the same seed and transforms it with pel's
 * serial FFT (the reference); its own slab of the distributed result must
 * match that rank's part of the serial one within the FFT layer's accuracy
 * bound. Shapes have first (and second) axes that do not divide by the rank
 * counts, and one has fewer rows than 4 ranks (an empty slab). Bad arguments
 * are given on one rank only: every rank must return the same status and
 * message naming that rank, and none may hang (run.sh bounds the run). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "mpi_test.h"

static int rank, nranks;

typedef struct shape {
    int ndim;
    size_t dims[3];
} shape;

static const shape shapes[] = {
    {2, {7, 6, 1}}, {2, {3, 10, 1}}, {3, {5, 6, 4}}, {3, {3, 5, 7}}, {3, {6, 4, 9}},
};

/* ------------------------------------------------------------ helpers */

static size_t scalar(pel_precision p)
{
    return p == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
}

static double get(pel_precision p, const void *x, size_t i)
{
    return p == PEL_FLOAT32 ? (double)((const float *)x)[i] : ((const double *)x)[i];
}

static void set(pel_precision p, void *x, size_t i, double v)
{
    if (p == PEL_FLOAT32)
        ((float *)x)[i] = (float)v;
    else
        ((double *)x)[i] = v;
}

static void *random_array(pel_precision p, size_t scalars, uint64_t seed)
{
    void *x = malloc(scalars * scalar(p) + 16);
    for (size_t i = 0; i < scalars; i++)
        set(p, x, i, pel_mpi_test_uniform(&seed));
    return x;
}

static size_t product(int ndim, const size_t *d)
{
    size_t n = 1;
    for (int a = 0; a < ndim; a++)
        n *= d[a];
    return n;
}

/* The accuracy bound of pel's FFT layer (docs/fft.md: relative max error
 * <= 4 eps log2 N against the exact transform). Both the distributed and
 * the serial result are within it, so they are within twice of each other;
 * "relative" is to the largest magnitude of the reference. */
static double bound(pel_precision p, size_t points)
{
    double eps = p == PEL_FLOAT32 ? FLT_EPSILON : DBL_EPSILON;
    return 8.0 * eps * log2(points < 2 ? 2.0 : (double)points);
}

/* Visits a rank's local array: `lc` rows along the cut axis from `start`,
 * natural (global (start+i, j, k)) or transposed (global (j, start+i, k)),
 * `cplx` scalars per element, the local last axis stored with `pad`
 * elements per row (>= its logical length). gd: global logical dims of this
 * side. copy_in: global -> local; else the largest |local - global|. */
static double visit(pel_precision p, int ndim, const size_t *gd, int transposed, size_t start, size_t lc, size_t pad,
                    int cplx, const void *global, void *local, int copy_in, double *ref_max)
{
    size_t d1 = transposed ? gd[0] : gd[1], d2 = ndim == 3 ? gd[2] : 1;
    size_t lpad = transposed && ndim == 2 ? d1 : pad; /* a 2-D transposed row is one column */
    double worst = 0.0;
    for (size_t i = 0; i < lc; i++)
        for (size_t j = 0; j < d1; j++)
            for (size_t k = 0; k < d2; k++) {
                size_t g0 = transposed ? j : start + i, g1 = transposed ? start + i : j;
                size_t g = ndim == 3 ? (g0 * gd[1] + g1) * gd[2] + k : g0 * gd[1] + g1;
                size_t l = ndim == 3 ? (i * d1 + j) * lpad + k : i * lpad + j;
                for (int c = 0; c < cplx; c++) {
                    if (copy_in) {
                        set(p, local, l * cplx + c, get(p, global, g * cplx + c));
                    } else {
                        double r = get(p, global, g * cplx + c), v = get(p, local, l * cplx + c);
                        if (fabs(v - r) > worst || isnan(v))
                            worst = isnan(v) ? INFINITY : fabs(v - r);
                        if (ref_max && fabs(r) > *ref_max)
                            *ref_max = fabs(r);
                    }
                }
            }
    return worst;
}

/* Global logical dims of a complex half spectrum (last axis n/2+1). */
static void half_dims(int ndim, const size_t *dims, size_t *h)
{
    for (int a = 0; a < 3; a++)
        h[a] = dims[a];
    h[ndim - 1] = dims[ndim - 1] / 2 + 1;
}

/* Compares a rank's output with the serial reference, across the ranks:
 * the largest relative difference over all ranks must be within bound. */
static void check_all(const char *what, pel_precision p, double worst, double ref_max, size_t points)
{
    double w[2], all[2];
    w[0] = worst;
    w[1] = ref_max;
    MPI_Allreduce(w, all, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    {
        /* A rank whose slab is empty still joins; the bound uses the global
         * largest magnitude (the serial result is the same on every rank). */
        double rel = all[1] > 0 ? all[0] / all[1] : all[0];
        CHECK(rel <= bound(p, points), "%s: relative max difference %.3g > bound %.3g", what, rel,
              bound(p, points));
    }
}

static void compare_all(const char *what, pel_precision p, int ndim, const size_t *gd, int transposed, size_t start,
                        size_t lc, size_t pad, int cplx, const void *ref, const void *local, size_t points)
{
    double ref_max = 0.0, worst;
    worst = visit(p, ndim, gd, transposed, start, lc, pad, cplx, ref, (void *)local, 0, &ref_max);
    check_all(what, p, worst, ref_max, points);
}

/* Visits a rank's pencil: a box of the global 3-D grid gd (first element
 * at global `starts`, shape `lens`, `cplx` scalars per element) stored in
 * the global axis order with rows of `pad` >= lens[2] elements. copy_in:
 * global -> local; else the largest |local - global|. */
static double visit_pad(pel_precision p, const size_t *gd, const size_t *starts, const size_t *lens, size_t pad,
                        int cplx, const void *global, void *local, int copy_in, double *ref_max)
{
    double worst = 0.0;
    for (size_t i = 0; i < lens[0]; i++)
        for (size_t j = 0; j < lens[1]; j++)
            for (size_t k = 0; k < lens[2]; k++) {
                size_t g = ((starts[0] + i) * gd[1] + starts[1] + j) * gd[2] + starts[2] + k;
                size_t l = (i * lens[1] + j) * pad + k;
                for (int c = 0; c < cplx; c++) {
                    if (copy_in) {
                        set(p, local, cplx * l + c, get(p, global, cplx * g + c));
                    } else {
                        double r = get(p, global, cplx * g + c), v = get(p, local, cplx * l + c);
                        if (fabs(v - r) > worst || isnan(v))
                            worst = isnan(v) ? INFINITY : fabs(v - r);
                        if (fabs(r) > *ref_max)
                            *ref_max = fabs(r);
                    }
                }
            }
    return worst;
}

/* A complex pencil, unpadded. */
static double visit_box(pel_precision p, const size_t *gd, const size_t *starts, const size_t *lens,
                        const void *global, void *local, int copy_in, double *ref_max)
{
    return visit_pad(p, gd, starts, lens, lens[2], 2, global, local, copy_in, ref_max);
}

/* A real z-pencil of the grid gd as a layout reports it (in_dims or
 * out_dims: rows padded to 2*(n2/2+1)). */
static double visit_real(pel_precision p, const size_t *gd, const size_t *starts, const size_t *dims,
                         const void *global, void *local, int copy_in, double *ref_max)
{
    const size_t lens[3] = {dims[0], dims[1], gd[2]};
    return visit_pad(p, gd, starts, lens, dims[2], 1, global, local, copy_in, ref_max);
}

static void compare_box(const char *what, pel_precision p, const size_t *gd, const size_t *starts,
                        const size_t *lens, const void *ref, const void *local)
{
    double ref_max = 0.0, worst = visit_box(p, gd, starts, lens, ref, (void *)local, 0, &ref_max);
    check_all(what, p, worst, ref_max, product(3, gd));
}

/* The pencils of one side cover the grid: their volumes add up to it and
 * every box lies inside it. */
static void check_cover(const char *what, const size_t *gd, const size_t *starts, const size_t *lens)
{
    unsigned long mine = (unsigned long)product(3, lens), total = 0;
    int inside = 1, all_inside = 0;
    for (int a = 0; a < 3; a++)
        inside &= starts[a] + lens[a] <= gd[a];
    MPI_Allreduce(&mine, &total, 1, MPI_UNSIGNED_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&inside, &all_inside, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    CHECK(total == product(3, gd) && all_inside, "%s: pencils cover %lu of %zu points", what, total,
          product(3, gd));
}

/* ------------------------------------------------------------ transforms */

/* The end of a c2c case: its four plans and two arrays. */
static void release_case(pel_mpi_fft_plan *a, pel_mpi_fft_plan *b, pel_mpi_fft_plan *c, pel_mpi_fft_plan *d,
                         void *in, void *out)
{
    pel_mpi_fft_plan_destroy(a);
    pel_mpi_fft_plan_destroy(b);
    pel_mpi_fft_plan_destroy(c);
    pel_mpi_fft_plan_destroy(d);
    pel_free(in);
    pel_free(out);
}

static void test_c2c(const shape *s, pel_precision p)
{
    int nd = s->ndim;
    const size_t *dims = s->dims;
    size_t n = product(nd, dims);
    void *g = random_array(p, 2 * n, 11 + n), *ref = malloc(2 * n * scalar(p)), *back = malloc(2 * n * scalar(p));
    pel_mpi_fft_plan *fwd = NULL, *fwd_t = NULL, *bwd_t = NULL, *bwd = NULL;
    pel_mpi_fft_layout l, lt;
    pel_mpi_fft_options o = {.flags = PEL_MPI_FFT_SLAB}, ot = {0};
    void *in = NULL, *out = NULL, *keep;
    char what[96];

    snprintf(what, sizeof what, "c2c %zux%zux%zu %s", dims[0], dims[1], nd == 3 ? dims[2] : 1,
             p == PEL_FLOAT32 ? "float" : "double");
    /* Reference: serial forward (unscaled) and backward with ortho norm. */
    if (p == PEL_FLOAT32)
        pel_fft_c2c_float(nd, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, g, ref);
    else
        pel_fft_c2c(nd, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, g, ref);

    /* Out of place, natural layout: the input is kept. */
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, p, nd, dims, PEL_FFT_FORWARD, 0, &o, &fwd) == PEL_OK,
          "%s: plan", what);
    pel_mpi_fft_layout_get(fwd, &l);
    CHECK(l.in_axis == 0 && l.out_axis == 0 && l.in_dims[0] == l.out_dims[0], "%s: natural layout", what);
    CHECK(l.decomposition == PEL_MPI_FFT_SLAB && l.grid[0] == nranks && l.grid[1] == 1, "%s: slabs (forced)", what);
    pel_mpi_fft_local_alloc(fwd, &in);
    pel_mpi_fft_local_alloc(fwd, &out);
    visit(p, nd, dims, 0, l.in_start, l.in_dims[0], dims[nd - 1], 2, g, in, 1, NULL);
    keep = malloc(l.alloc_bytes + 1);
    memcpy(keep, in, l.alloc_bytes);
    CHECK(pel_mpi_fft_execute(fwd, in, out) == PEL_OK, "%s: execute", what);
    compare_all(what, p, nd, dims, 0, l.out_start, l.out_dims[0], dims[nd - 1], 2, ref, out, n);
    CHECK(memcmp(keep, in, l.alloc_bytes) == 0, "%s: out-of-place input kept", what);
    {
        /* Rows are a global partition of the first axis. */
        unsigned long rows = l.in_dims[0], total = 0;
        MPI_Allreduce(&rows, &total, 1, MPI_UNSIGNED_LONG, MPI_SUM, MPI_COMM_WORLD);
        CHECK(total == dims[0], "%s: slabs cover %lu of %zu rows", what, total, dims[0]);
    }

    /* Transposed pair, in place: forward leaves (n1, n0, n2) cut on n1; the
     * backward plan takes it back; ORTHO norm both ways. */
    ot.flags = PEL_MPI_FFT_TRANSPOSED_OUT | PEL_MPI_FFT_SLAB;
    ot.norm = PEL_FFT_NORM_ORTHO;
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, p, nd, dims, PEL_FFT_FORWARD, 1, &ot, &fwd_t) ==
              PEL_OK,
          "%s: transposed plan", what);
    ot.flags = PEL_MPI_FFT_TRANSPOSED_IN | PEL_MPI_FFT_SLAB;
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, p, nd, dims, PEL_FFT_BACKWARD, 1, &ot, &bwd_t) ==
              PEL_OK,
          "%s: transposed-in plan", what);
    pel_mpi_fft_layout_get(fwd_t, &lt);
    CHECK(lt.out_axis == 1 && lt.out_dims[1] == dims[0], "%s: transposed layout", what);
    {
        void *buf = NULL;
        double scale = 1.0 / sqrt((double)n);
        pel_mpi_fft_local_alloc(fwd_t, &buf);
        visit(p, nd, dims, 0, lt.in_start, lt.in_dims[0], dims[nd - 1], 2, g, buf, 1, NULL);
        CHECK(pel_mpi_fft_execute(fwd_t, buf, buf) == PEL_OK, "%s: transposed execute", what);
        for (size_t i = 0; i < 2 * n; i++)
            set(p, back, i, get(p, ref, i) * scale);
        compare_all("c2c transposed out", p, nd, dims, 1, lt.out_start, lt.out_dims[0], dims[nd - 1], 2, back, buf,
                    n);
        CHECK(pel_mpi_fft_execute(bwd_t, buf, buf) == PEL_OK, "%s: transposed-in execute", what);
        compare_all("c2c transposed round trip", p, nd, dims, 0, lt.in_start, lt.in_dims[0], dims[nd - 1], 2, g, buf,
                    n);
        pel_free(buf);
    }

    /* Backward natural, in place, normalised: inverse of the reference. */
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, p, nd, dims, PEL_FFT_BACKWARD, 1, &o, &bwd) ==
              PEL_OK,
          "%s: backward plan", what);
    visit(p, nd, dims, 0, l.in_start, l.in_dims[0], dims[nd - 1], 2, ref, in, 1, NULL);
    CHECK(pel_mpi_fft_execute(bwd, in, in) == PEL_OK, "%s: backward", what);
    compare_all("c2c backward", p, nd, dims, 0, l.out_start, l.out_dims[0], dims[nd - 1], 2, g, in, n);

    release_case(fwd, fwd_t, bwd_t, bwd, in, out);
    free(keep);
    free(g);
    free(ref);
    free(back);
}

/* An in-place 3-D pair: forward (c2c or r2c) with TRANSPOSED_OUT and its
 * backward (c2c or c2r) with TRANSPOSED_IN, both with o's norm and `flags`. */
static void transposed_pair(pel_fft_kind forward, pel_precision p, const size_t *dims, pel_mpi_fft_options *o,
                            unsigned flags, pel_mpi_fft_plan **fwd, pel_mpi_fft_plan **bwd, const char *what)
{
    pel_fft_kind backward = forward == PEL_FFT_R2C ? PEL_FFT_C2R : PEL_FFT_C2C;
    o->flags = flags | PEL_MPI_FFT_TRANSPOSED_OUT;
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, forward, p, 3, dims, PEL_FFT_FORWARD, 1, o, fwd) == PEL_OK,
          "%s: transposed-out plan", what);
    o->flags = flags | PEL_MPI_FFT_TRANSPOSED_IN;
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, backward, p, 3, dims, PEL_FFT_BACKWARD, 1, o, bwd) == PEL_OK,
          "%s: transposed-in plan", what);
}

/* Pencils (3-D c2c): forced by PEL_MPI_FFT_PENCIL (flags) or chosen
 * automatically (flags 0, ranks > n0), against the serial transform of the
 * gathered grid: forward natural out of place (input kept), the forward
 * TRANSPOSED_OUT / backward TRANSPOSED_IN pair in place (ortho), and the
 * backward natural transform in place (backward norm) as the inverse. */
static void test_pencil(const size_t *dims, pel_precision p, unsigned flags)
{
    size_t n = product(3, dims);
    void *g = random_array(p, 2 * n, 71 + n), *ref = malloc(2 * n * scalar(p)), *scaled = malloc(2 * n * scalar(p));
    pel_mpi_fft_plan *fwd = NULL, *fwd_t = NULL, *bwd_t = NULL, *bwd = NULL;
    pel_mpi_fft_layout l, lt, lb, lbt;
    pel_mpi_fft_options o = {.flags = flags}, ot = {.norm = PEL_FFT_NORM_ORTHO};
    void *in = NULL, *out = NULL, *buf = NULL, *keep;
    char what[112];

    snprintf(what, sizeof what, "pencil c2c %zux%zux%zu %s%s", dims[0], dims[1], dims[2],
             p == PEL_FLOAT32 ? "float" : "double", flags ? "" : " (automatic)");
    if (p == PEL_FLOAT32)
        pel_fft_c2c_float(3, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, g, ref);
    else
        pel_fft_c2c(3, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, g, ref);
    for (size_t i = 0; i < 2 * n; i++)
        set(p, scaled, i, get(p, ref, i) / sqrt((double)n));

    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, p, 3, dims, PEL_FFT_FORWARD, 0, &o, &fwd) == PEL_OK,
          "%s: plan", what);
    pel_mpi_fft_layout_get(fwd, &l);
    CHECK(l.decomposition == PEL_MPI_FFT_PENCIL && l.grid[0] * l.grid[1] == nranks, "%s: pencils on %d x %d", what,
          l.grid[0], l.grid[1]);
    CHECK(l.in_dims[2] == dims[2] && memcmp(l.in_dims, l.out_dims, sizeof l.in_dims) == 0 &&
              memcmp(l.in_starts, l.out_starts, sizeof l.in_starts) == 0,
          "%s: natural layout is z-pencils both ways", what);
    check_cover(what, dims, l.in_starts, l.in_dims);
    pel_mpi_fft_local_alloc(fwd, &in);
    pel_mpi_fft_local_alloc(fwd, &out);
    visit_box(p, dims, l.in_starts, l.in_dims, g, in, 1, NULL);
    keep = malloc(l.alloc_bytes + 1);
    memcpy(keep, in, l.alloc_bytes);
    CHECK(pel_mpi_fft_execute(fwd, in, out) == PEL_OK, "%s: execute", what);
    compare_box(what, p, dims, l.out_starts, l.out_dims, ref, out);
    CHECK(memcmp(keep, in, l.alloc_bytes) == 0, "%s: out-of-place input kept", what);

    /* The transposed pair: z-pencils -> x-pencils and back. */
    transposed_pair(PEL_FFT_C2C, p, dims, &ot, flags, &fwd_t, &bwd_t, what);
    pel_mpi_fft_layout_get(fwd_t, &lt);
    pel_mpi_fft_layout_get(bwd_t, &lbt);
    CHECK(lt.out_dims[0] == dims[0] && lt.out_axis == 1 && lt.decomposition == PEL_MPI_FFT_PENCIL,
          "%s: x-pencils out", what);
    CHECK(memcmp(lt.out_dims, lbt.in_dims, sizeof lt.out_dims) == 0 &&
              memcmp(lt.out_starts, lbt.in_starts, sizeof lt.out_starts) == 0 &&
              memcmp(lt.in_starts, lbt.out_starts, sizeof lt.in_starts) == 0,
          "%s: the pair's layouts match", what);
    check_cover("x-pencils", dims, lt.out_starts, lt.out_dims);
    pel_mpi_fft_local_alloc(fwd_t, &buf);
    visit_box(p, dims, lt.in_starts, lt.in_dims, g, buf, 1, NULL);
    CHECK(pel_mpi_fft_execute(fwd_t, buf, buf) == PEL_OK, "%s: transposed execute", what);
    compare_box("pencil transposed out", p, dims, lt.out_starts, lt.out_dims, scaled, buf);
    CHECK(pel_mpi_fft_execute(bwd_t, buf, buf) == PEL_OK, "%s: transposed-in execute", what);
    compare_box("pencil transposed round trip", p, dims, lbt.out_starts, lbt.out_dims, g, buf);

    /* Backward natural in place: the inverse of the reference. */
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, p, 3, dims, PEL_FFT_BACKWARD, 1, &o, &bwd) == PEL_OK,
          "%s: backward plan", what);
    pel_mpi_fft_layout_get(bwd, &lb);
    visit_box(p, dims, lb.in_starts, lb.in_dims, ref, in, 1, NULL);
    CHECK(pel_mpi_fft_execute(bwd, in, in) == PEL_OK, "%s: backward", what);
    compare_box("pencil backward", p, dims, lb.out_starts, lb.out_dims, g, in);

    release_case(fwd, fwd_t, bwd_t, bwd, in, out);
    pel_free(buf);
    free(keep);
    free(g);
    free(ref);
    free(scaled);
}

/* Pencil r2c / c2r against the serial r2c of the gathered grid: r2c
 * natural out of place (input kept), c2r natural out of place back to the
 * input (input kept), and the TRANSPOSED_OUT / TRANSPOSED_IN pair in place. */
static void test_pencil_real(const size_t *dims, pel_precision p)
{
    size_t n = product(3, dims), h[3], nh;
    void *g = random_array(p, n, 83 + n), *ref;
    pel_mpi_fft_plan *r2c = NULL, *c2r = NULL, *r2c_t = NULL, *c2r_t = NULL;
    pel_mpi_fft_layout lf, lb, lft, lbt;
    pel_mpi_fft_options o = {.flags = PEL_MPI_FFT_PENCIL};
    void *in = NULL, *spec = NULL, *back = NULL, *buf = NULL, *keep;
    double ref_max = 0.0, worst;
    char what[112];

    half_dims(3, dims, h);
    nh = product(3, h);
    ref = malloc(2 * nh * scalar(p));
    snprintf(what, sizeof what, "pencil r2c/c2r %zux%zux%zu %s", dims[0], dims[1], dims[2],
             p == PEL_FLOAT32 ? "float" : "double");
    if (p == PEL_FLOAT32)
        pel_fft_r2c_float(3, dims, 1, PEL_FFT_NORM_BACKWARD, g, ref);
    else
        pel_fft_r2c(3, dims, 1, PEL_FFT_NORM_BACKWARD, g, ref);

    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_R2C, p, 3, dims, PEL_FFT_FORWARD, 0, &o, &r2c) == PEL_OK,
          "%s: r2c plan", what);
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2R, p, 3, dims, PEL_FFT_BACKWARD, 0, &o, &c2r) == PEL_OK,
          "%s: c2r plan", what);
    pel_mpi_fft_layout_get(r2c, &lf);
    pel_mpi_fft_layout_get(c2r, &lb);
    CHECK(lf.decomposition == PEL_MPI_FFT_PENCIL && lf.in_dims[2] == 2 * h[2] && lf.out_dims[2] == h[2] &&
              lb.out_dims[2] == 2 * h[2] && memcmp(lf.out_dims, lb.in_dims, sizeof lf.out_dims) == 0,
          "%s: padded real z-pencils, half-spectrum z-pencils", what);
    check_cover(what, h, lf.out_starts, lf.out_dims);
    pel_mpi_fft_local_alloc(r2c, &in);
    pel_mpi_fft_local_alloc(r2c, &spec);
    pel_mpi_fft_local_alloc(c2r, &back);
    visit_real(p, dims, lf.in_starts, lf.in_dims, g, in, 1, NULL);
    keep = malloc(lf.alloc_bytes + 1);
    memcpy(keep, in, lf.alloc_bytes);
    CHECK(pel_mpi_fft_execute(r2c, in, spec) == PEL_OK, "%s: r2c", what);
    CHECK(memcmp(keep, in, lf.alloc_bytes) == 0, "%s: r2c input kept", what);
    compare_box(what, p, h, lf.out_starts, lf.out_dims, ref, spec);
    memcpy(keep, spec, lb.alloc_bytes);
    CHECK(pel_mpi_fft_execute(c2r, spec, back) == PEL_OK, "%s: c2r", what);
    CHECK(memcmp(keep, spec, lb.alloc_bytes) == 0, "%s: c2r input kept out of place", what);
    worst = visit_real(p, dims, lb.out_starts, lb.out_dims, g, back, 0, &ref_max);
    check_all("pencil c2r round trip", p, worst, ref_max, n);

    /* The transposed pair in place: x-pencils of the half spectrum. */
    transposed_pair(PEL_FFT_R2C, p, dims, &o, PEL_MPI_FFT_PENCIL, &r2c_t, &c2r_t, what);
    pel_mpi_fft_layout_get(r2c_t, &lft);
    pel_mpi_fft_layout_get(c2r_t, &lbt);
    CHECK(lft.out_dims[0] == dims[0] && memcmp(lft.out_dims, lbt.in_dims, sizeof lft.out_dims) == 0,
          "%s: x-pencils of the half spectrum", what);
    check_cover("half-spectrum x-pencils", h, lft.out_starts, lft.out_dims);
    pel_mpi_fft_local_alloc(r2c_t, &buf);
    visit_real(p, dims, lft.in_starts, lft.in_dims, g, buf, 1, NULL);
    CHECK(pel_mpi_fft_execute(r2c_t, buf, buf) == PEL_OK, "%s: r2c transposed", what);
    compare_box("pencil r2c transposed out", p, h, lft.out_starts, lft.out_dims, ref, buf);
    CHECK(pel_mpi_fft_execute(c2r_t, buf, buf) == PEL_OK, "%s: c2r transposed in", what);
    ref_max = 0.0;
    worst = visit_real(p, dims, lbt.out_starts, lbt.out_dims, g, buf, 0, &ref_max);
    check_all("pencil r2c/c2r transposed round trip", p, worst, ref_max, n);

    release_case(r2c, c2r, r2c_t, c2r_t, in, spec);
    pel_free(back);
    pel_free(buf);
    free(keep);
    free(g);
    free(ref);
}

/* Pencils past the slab limit: shapes no grid divides, one (1x1x8) whose
 * z-pencils are empty on every rank but the first, one (3x2x2) whose
 * x-pencils are empty on one of 3 ranks, one (18x34x20) whose pencils span
 * several of the exchanges' 16 x 16 transpose tiles; and the automatic choice: 3x5x7
 * takes pencils exactly when ranks > 3 (c2c and r2c), unless slabs are forced. */
static void test_pencils(void)
{
    static const size_t forced[][3] = {{3, 5, 7}, {6, 4, 9}, {1, 1, 8}, {3, 2, 2}, {18, 34, 20}};
    const size_t automatic[3] = {3, 5, 7};
    for (int prec = 0; prec < 2; prec++) {
        pel_precision p = prec ? PEL_FLOAT32 : PEL_FLOAT64;
        for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++) {
            test_pencil(forced[i], p, PEL_MPI_FFT_PENCIL);
            test_pencil_real(forced[i], p);
        }
        if (nranks > 3)
            test_pencil(automatic, p, 0);
    }
    {
        const struct {
            pel_fft_kind kind;
            unsigned flags;
            int want;
        } cases[] = {{PEL_FFT_C2C, 0, nranks > 3 ? PEL_MPI_FFT_PENCIL : PEL_MPI_FFT_SLAB},
                     {PEL_FFT_C2C, PEL_MPI_FFT_SLAB, PEL_MPI_FFT_SLAB},
                     {PEL_FFT_R2C, 0, nranks > 3 ? PEL_MPI_FFT_PENCIL : PEL_MPI_FFT_SLAB},
                     {PEL_FFT_R2C, PEL_MPI_FFT_SLAB, PEL_MPI_FFT_SLAB}};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            pel_mpi_fft_options o = {.flags = cases[i].flags};
            pel_mpi_fft_plan *plan = NULL;
            pel_mpi_fft_layout l = {0};
            CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, cases[i].kind, PEL_FLOAT64, 3, automatic,
                                          PEL_FFT_FORWARD, 0, &o, &plan) == PEL_OK,
                  "automatic choice: plan %zu", i);
            pel_mpi_fft_layout_get(plan, &l);
            CHECK(l.decomposition == cases[i].want, "automatic choice %zu at %d ranks: %d, expected %d", i, nranks,
                  l.decomposition, cases[i].want);
            pel_mpi_fft_plan_destroy(plan);
        }
    }
}

static void test_real(const shape *s, pel_precision p, int transposed)
{
    int nd = s->ndim;
    const size_t *dims = s->dims;
    size_t n = product(nd, dims), h[3], nh, pad_real = 2 * (dims[nd - 1] / 2 + 1), pad_cplx;
    void *g = random_array(p, n, 29 + n), *ref, *back = malloc(n * scalar(p));
    pel_mpi_fft_plan *r2c = NULL, *c2r = NULL, *c2r_oop = NULL;
    pel_mpi_fft_layout lf, lb;
    pel_mpi_fft_options of = {0}, ob = {0};
    void *buf = NULL, *real_out = NULL, *keep;
    char what[112];

    half_dims(nd, dims, h);
    nh = product(nd, h);
    pad_cplx = h[nd - 1];
    ref = malloc(2 * nh * scalar(p));
    snprintf(what, sizeof what, "r2c/c2r %zux%zux%zu %s%s", dims[0], dims[1], nd == 3 ? dims[2] : 1,
             p == PEL_FLOAT32 ? "float" : "double", transposed ? " transposed" : "");
    if (p == PEL_FLOAT32)
        pel_fft_r2c_float(nd, dims, 1, PEL_FFT_NORM_BACKWARD, g, ref);
    else
        pel_fft_r2c(nd, dims, 1, PEL_FFT_NORM_BACKWARD, g, ref);

    of.flags = (transposed ? PEL_MPI_FFT_TRANSPOSED_OUT : 0) | PEL_MPI_FFT_SLAB;
    ob.flags = (transposed ? PEL_MPI_FFT_TRANSPOSED_IN : 0) | PEL_MPI_FFT_SLAB;
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_R2C, p, nd, dims, PEL_FFT_FORWARD, 1, &of, &r2c) == PEL_OK,
          "%s: r2c plan", what);
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2R, p, nd, dims, PEL_FFT_BACKWARD, 1, &ob, &c2r) == PEL_OK,
          "%s: c2r plan", what);
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2R, p, nd, dims, PEL_FFT_BACKWARD, 0, &ob, &c2r_oop) ==
              PEL_OK,
          "%s: out-of-place c2r plan", what);
    pel_mpi_fft_layout_get(r2c, &lf);
    pel_mpi_fft_layout_get(c2r, &lb);
    CHECK(lf.in_dims[nd - 1] == pad_real && lb.out_dims[nd - 1] == pad_real, "%s: padded real rows", what);
    CHECK(lf.out_axis == transposed && lb.in_axis == transposed && lf.out_dims[0] == lb.in_dims[0],
          "%s: the pair's spectrum layouts match", what);

    /* r2c in place. */
    pel_mpi_fft_local_alloc(r2c, &buf);
    visit(p, nd, dims, 0, lf.in_start, lf.in_dims[0], pad_real, 1, g, buf, 1, NULL);
    CHECK(pel_mpi_fft_execute(r2c, buf, buf) == PEL_OK, "%s: r2c", what);
    compare_all(what, p, nd, h, transposed, lf.out_start, lf.out_dims[0], pad_cplx, 2, ref, buf, n);

    /* c2r out of place from the spectrum just made (backward norm: the
     * round trip gives the input); the input is kept although FFTW's c2r
     * overwrites its own. */
    pel_mpi_fft_local_alloc(c2r, &real_out);
    keep = malloc(lb.alloc_bytes + 1);
    memcpy(keep, buf, lb.alloc_bytes);
    CHECK(pel_mpi_fft_execute(c2r_oop, buf, real_out) == PEL_OK, "%s: c2r out of place", what);
    CHECK(memcmp(keep, buf, lb.alloc_bytes) == 0, "%s: c2r input kept out of place", what);
    compare_all("c2r round trip", p, nd, dims, 0, lb.out_start, lb.out_dims[0], pad_real, 1, g, real_out, n);

    /* c2r in place against the serial c2r of the same spectrum. */
    if (p == PEL_FLOAT32)
        pel_fft_c2r_float(nd, dims, 1, PEL_FFT_NORM_BACKWARD, ref, back);
    else
        pel_fft_c2r(nd, dims, 1, PEL_FFT_NORM_BACKWARD, ref, back);
    CHECK(pel_mpi_fft_execute(c2r, buf, buf) == PEL_OK, "%s: c2r in place", what);
    compare_all("c2r vs serial c2r", p, nd, dims, 0, lb.out_start, lb.out_dims[0], pad_real, 1, back, buf, n);

    pel_mpi_fft_plan_destroy(r2c);
    pel_mpi_fft_plan_destroy(c2r);
    pel_mpi_fft_plan_destroy(c2r_oop);
    pel_free(buf);
    pel_free(real_out);
    free(keep);
    free(g);
    free(ref);
    free(back);
}

static void test_transforms(void)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int prec = 0; prec < 2; prec++) {
            pel_precision p = prec ? PEL_FLOAT32 : PEL_FLOAT64;
            test_c2c(&shapes[i], p);
            test_real(&shapes[i], p, 0);
            test_real(&shapes[i], p, 1);
        }
}

/* A second plan of the same key shares the first one's FFTW plan; a plan
 * on a new communicator (same ranks) does not; freeing that communicator
 * drops its entries. */
static void test_cache(void)
{
    size_t dims[3] = {6, 5, 4}, entries0, hits0, entries1, hits1, entries2;
    pel_mpi_fft_plan *a = NULL, *b = NULL, *c = NULL;
    MPI_Comm dup;

    pel_mpi_fft_cache_clear();
    pel_mpi_fft_cache_stats(&entries0, &hits0);
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 0, NULL, &a) ==
              PEL_OK,
          "cache: first plan");
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 0, NULL, &b) ==
              PEL_OK,
          "cache: second plan");
    pel_mpi_fft_cache_stats(&entries1, &hits1);
    CHECK(entries1 == entries0 + 1 && hits1 == hits0 + 1, "cache: one entry (%zu), one hit (%zu)",
          entries1 - entries0, hits1 - hits0);
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    CHECK(pel_mpi_fft_plan_create(dup, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 0, NULL, &c) == PEL_OK,
          "cache: plan on a duplicate");
    pel_mpi_fft_cache_stats(&entries2, NULL);
    CHECK(entries2 == entries1 + 1, "cache: another communicator, another entry");
    /* The plan outlives its communicator. */
    MPI_Comm_free(&dup);
    pel_mpi_fft_cache_stats(&entries2, NULL);
    CHECK(entries2 == entries1, "cache: the freed communicator's entry is dropped");
    {
        void *in = NULL, *out = NULL;
        pel_mpi_fft_local_alloc(c, &in);
        pel_mpi_fft_local_alloc(c, &out);
        CHECK(pel_mpi_fft_execute(c, in, out) == PEL_OK, "cache: plan after its communicator is freed");
        pel_free(in);
        pel_free(out);
    }
    pel_mpi_fft_plan_destroy(a);
    pel_mpi_fft_plan_destroy(b);
    pel_mpi_fft_plan_destroy(c);
    pel_mpi_fft_cache_clear();
    pel_mpi_fft_cache_stats(&entries2, NULL);
    CHECK(entries2 == 0, "cache: cleared (%zu left)", entries2);
}

/* ------------------------------------------------------------ spectral */

/* u = sin(2 pi x / Lx) cos(4 pi y / Ly) (sin(6 pi z / Lz) + 0.5) - a sum of
 * modes; f = shift u - Laplace u computed analytically. With the exact
 * symbol the solver returns u up to rounding. */
static double analytic(int ndim, const double *x, const double *L, double shift, double *f)
{
    const double pi = 3.14159265358979323846;
    double a = 2 * pi / L[0], b = 4 * pi / L[1], c = ndim == 3 ? 6 * pi / L[2] : 0.0;
    double sx = sin(a * x[0]), cy = cos(b * x[1]), sz = ndim == 3 ? sin(c * x[2]) : 0.0;
    double u1 = sx * cy * sz, u2 = sx * cy * 0.5;
    *f = shift * (u1 + u2) + (a * a + b * b + c * c) * u1 + (a * a + b * b) * u2;
    return u1 + u2;
}

static void test_spectral(void)
{
    const shape cases[] = {{2, {12, 10, 1}}, {3, {10, 8, 8}}, {3, {5, 8, 12}}};
    const double L[3] = {1.0, 2.5, 0.75};

    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        for (int prec = 0; prec < 2; prec++)
            for (int shifted = 0; shifted < 2; shifted++) {
                const shape *s = &cases[ci];
                pel_precision p = prec ? PEL_FLOAT32 : PEL_FLOAT64;
                double shift = shifted ? 3.25 : 0.0;
                pel_mpi_spectral *solver = NULL;
                pel_mpi_fft_layout l;
                void *field;
                size_t n = product(s->ndim, s->dims), pad = 2 * (s->dims[s->ndim - 1] / 2 + 1);
                void *ug = malloc(n * scalar(p)), *fg = malloc(n * scalar(p)), *serial = malloc(n * scalar(p));
                double umax = 0.0, eps = p == PEL_FLOAT32 ? FLT_EPSILON : DBL_EPSILON;

                for (size_t i = 0; i < n; i++) {
                    size_t idx[3] = {0, 0, 0}, r = i;
                    double x[3] = {0, 0, 0}, f;
                    for (int a = s->ndim - 1; a >= 0; a--) {
                        idx[a] = r % s->dims[a];
                        r /= s->dims[a];
                        x[a] = (double)idx[a] * L[a] / (double)s->dims[a];
                    }
                    double u = analytic(s->ndim, x, L, shift, &f);
                    set(p, ug, i, u);
                    set(p, fg, i, f);
                    umax = fmax(umax, fabs(u));
                }
                CHECK(pel_mpi_spectral_create(MPI_COMM_WORLD, p, s->ndim, s->dims, L, PEL_SPECTRAL_EXACT, NULL,
                                              &solver) == PEL_OK,
                      "spectral create");
                pel_mpi_spectral_layout(solver, &l);
                field = pel_malloc(l.alloc_bytes);
                visit(p, s->ndim, s->dims, 0, l.in_start, l.in_dims[0], pad, 1, fg, field, 1, NULL);
                CHECK(pel_mpi_spectral_solve(solver, shift, field) == PEL_OK, "spectral solve");
                {
                    /* The solve is two FFTs and a division by |k|^2 >= (2 pi / L)^2:
                     * rounding of f's transform, scaled back, stays within the FFT
                     * bound times the ratio of f's size to u's (|f| <= (shift +
                     * kmax^2) |u|), which the 64 below covers for these modes. */
                    double ref_max = 0.0, w[2], all[2];
                    w[0] = visit(p, s->ndim, s->dims, 0, l.in_start, l.in_dims[0], pad, 1, ug, field, 0, &ref_max);
                    w[1] = ref_max;
                    MPI_Allreduce(w, all, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
                    CHECK(all[0] <= 64 * eps * log2((double)n) * umax,
                          "spectral %dD %s shift %g: max error %.3g vs analytic (bound %.3g)", s->ndim,
                          p == PEL_FLOAT32 ? "float" : "double", shift, all[0], 64 * eps * log2((double)n) * umax);
                }
                /* The same solve on one process through pel's serial FFT
                 * layer, with the second-order symbol, on the same f. */
                CHECK(pel_fft_helmholtz(p, s->ndim, s->dims, L, PEL_SPECTRAL_FD2, shift, fg, serial) == PEL_OK,
                      "serial helmholtz");
                pel_mpi_spectral_destroy(solver);
                CHECK(pel_mpi_spectral_create(MPI_COMM_WORLD, p, s->ndim, s->dims, L, PEL_SPECTRAL_FD2, NULL,
                                              &solver) == PEL_OK,
                      "spectral create fd2");
                visit(p, s->ndim, s->dims, 0, l.in_start, l.in_dims[0], pad, 1, fg, field, 1, NULL);
                CHECK(pel_mpi_spectral_solve(solver, shift, field) == PEL_OK, "spectral solve fd2");
                {
                    double ref_max = 0.0, w[2], all[2];
                    w[0] = visit(p, s->ndim, s->dims, 0, l.in_start, l.in_dims[0], pad, 1, serial, field, 0,
                                 &ref_max);
                    w[1] = ref_max;
                    MPI_Allreduce(w, all, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
                    CHECK(all[0] <= 64 * eps * log2((double)n) * all[1],
                          "spectral fd2 vs serial: %.3g (bound %.3g)", all[0], 64 * eps * log2((double)n) * all[1]);
                }
                pel_mpi_spectral_destroy(solver);
                pel_free(field);
                free(ug);
                free(fg);
                free(serial);
            }
}

/* ------------------------------------------------------------ errors */

#define expect_all pel_mpi_test_expect_all /* mpi_test.h */

static void test_errors(void)
{
    const int bad = nranks - 1;
    const int me_bad = rank == bad;
    const char *create = "pel_mpi_fft_plan_create", *exec = "pel_mpi_fft_execute";
    size_t dims[3] = {5, 6, 4}, other[3] = {5, 6, 5}, zero[3] = {5, 0, 4};
    size_t live_before = pel__handle_live_count();
    pel_mpi_fft_plan *plan = (pel_mpi_fft_plan *)&rank, *b = NULL;
    pel_mpi_fft_options o = {0};
    pel_status st;
    void *in = NULL, *out = NULL, *copy;
    pel_mpi_fft_layout l;

    st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, me_bad ? zero : dims, PEL_FFT_FORWARD,
                                 0, NULL, &plan);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, bad, "dims[1]=0");
    CHECK(plan == NULL, "*plan set to NULL on error");
    if (nranks > 1) { /* a difference between ranks needs two of them */
        st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, me_bad ? other : dims,
                                     PEL_FFT_FORWARD, 0, NULL, &plan);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, -1, "dims[2] must be equal on every rank");
    }
    st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_R2C, PEL_FLOAT64, 3, dims,
                                 me_bad ? PEL_FFT_BACKWARD : PEL_FFT_FORWARD, 0, NULL, &plan);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, bad, "an r2c transform is forward");
    o.flags = me_bad ? PEL_MPI_FFT_TRANSPOSED_OUT : 0;
    st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_BACKWARD, 0, &o, &plan);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, bad, "TRANSPOSED_OUT is for forward plans");
    /* Pencil flags: 3-D c2c only, not both decompositions at once. */
    o.flags = PEL_MPI_FFT_PENCIL;
    st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, me_bad ? 2 : 3, dims, PEL_FFT_FORWARD, 0,
                                 &o, &plan);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, bad, "PEL_MPI_FFT_PENCIL needs ndim=3");
    o.flags = me_bad ? PEL_MPI_FFT_PENCIL | PEL_MPI_FFT_SLAB : PEL_MPI_FFT_PENCIL;
    st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT32, 3, dims, PEL_FFT_FORWARD, 0, &o, &plan);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, bad, "exclude each other");
    CHECK(plan == NULL, "*plan set to NULL on error");
    if (nranks > 1) {
        o.flags = me_bad ? PEL_MPI_FFT_PENCIL : 0;
        st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 0, &o,
                                     &plan);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, -1, "options->flags must be equal on every rank");
    }
    o.flags = 0;
    o.nthreads = me_bad ? -2 : 0;
    st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT32, 2, dims, PEL_FFT_FORWARD, 0, &o, &plan);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, bad, "options->nthreads=-2");
    o.nthreads = 0;
    st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, me_bad ? 1 : 3, dims, PEL_FFT_FORWARD, 0,
                                 NULL, &plan);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, bad, "ndim=1 is not 2 or 3");
    st = pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 0, NULL,
                                 me_bad ? NULL : &plan);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, create, bad, "plan must not be NULL");
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_NULL, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 0, NULL,
                                  &plan) == PEL_ERROR_INVALID_ARGUMENT &&
              strstr(pel_last_error(), "MPI_COMM_NULL") && plan == NULL,
          "MPI_COMM_NULL refused locally");

    /* Execution errors with a live plan. */
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 0, NULL,
                                  &plan) == PEL_OK,
          "plan for the execution errors");
    pel_mpi_fft_layout_get(plan, &l);
    pel_mpi_fft_local_alloc(plan, &in);
    pel_mpi_fft_local_alloc(plan, &out);
    memset(out, 0x5a, l.alloc_bytes);
    copy = malloc(l.alloc_bytes + 1);
    memcpy(copy, out, l.alloc_bytes);
    st = pel_mpi_fft_execute(plan, in, me_bad ? NULL : out);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, bad, "out must not be NULL");
    st = pel_mpi_fft_execute(plan, me_bad ? (char *)in + 8 : in, out);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, bad, "is not aligned to 16 bytes");
    st = pel_mpi_fft_execute(plan, in, me_bad ? in : out);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, bad, "for an out-of-place plan");
    /* Overlapping, not equal, on rank 0 (the last rank's slab may be empty,
     * and an empty array overlaps nothing). */
    st = pel_mpi_fft_execute(plan, in, rank == 0 ? (char *)in + 16 : out);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, 0, "overlap");
    /* A plan of another shape on one rank: a clear error, not a hang. */
    CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, other, PEL_FFT_FORWARD, 0, NULL, &b) ==
              PEL_OK,
          "second plan");
    if (nranks > 1) {
        st = pel_mpi_fft_execute(me_bad ? b : plan, in, out);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, -1, "the plan's dims[2] must be equal on every rank");
    }
    pel_mpi_fft_plan_destroy(b);
    {
        /* A pencil plan's execution errors, on one rank: the same checks. */
        pel_mpi_fft_options po = {.flags = PEL_MPI_FFT_PENCIL};
        void *pin = NULL, *pout = NULL;
        CHECK(pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 3, dims, PEL_FFT_FORWARD, 0, &po,
                                      &b) == PEL_OK,
              "pencil plan");
        pel_mpi_fft_local_alloc(b, &pin);
        pel_mpi_fft_local_alloc(b, &pout);
        st = pel_mpi_fft_execute(b, me_bad ? (char *)pin + 8 : pin, pout);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, bad, "is not aligned to 16 bytes");
        st = pel_mpi_fft_execute(b, pin, me_bad ? pin : pout);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, bad, "for an out-of-place plan");
        if (nranks > 1) { /* a slab plan on one rank, a pencil plan on the others */
            st = pel_mpi_fft_execute(me_bad ? plan : b, in, out);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, -1, "the plan's flags must be equal on every rank");
        }
        CHECK(pel_mpi_fft_execute(b, pin, pout) == PEL_OK, "pencil plan after errors");
        pel_mpi_fft_plan_destroy(b);
        pel_free(pin);
        pel_free(pout);
    }
    /* A foreign pointer on one rank: while one plan is live, that rank
     * still reaches its peers through it. */
    st = pel_mpi_fft_execute(me_bad ? (pel_mpi_fft_plan *)copy : plan, in, out);
    expect_all(st, PEL_ERROR_INVALID_ARGUMENT, exec, bad, "plan");
    CHECK(memcmp(copy, out, l.alloc_bytes) == 0, "out untouched by failed executions");
    CHECK(pel_mpi_fft_layout_get(plan, NULL) == PEL_ERROR_INVALID_ARGUMENT, "layout NULL");
    {
        void *none = in;
        CHECK(pel_mpi_fft_local_alloc(NULL, &none) == PEL_ERROR_INVALID_ARGUMENT && none == NULL,
              "local_alloc NULL plan sets *buffer NULL");
    }
    pel_mpi_fft_plan_destroy(NULL);

    /* Spectral solver. */
    {
        const double L[3] = {1, 1, 1}, Lbad[3] = {1, -1, 1}, Lother[3] = {1, 2, 1};
        pel_mpi_spectral *s = (pel_mpi_spectral *)&rank;
        void *field;
        st = pel_mpi_spectral_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, me_bad ? Lbad : L, PEL_SPECTRAL_EXACT,
                                     NULL, &s);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_spectral_create", bad, "lengths[1]=-1");
        CHECK(s == NULL, "*solver set to NULL on error");
        if (nranks > 1) {
            st = pel_mpi_spectral_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, me_bad ? Lother : L,
                                         PEL_SPECTRAL_EXACT, NULL, &s);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_spectral_create", -1, "lengths[1] must be equal");
        }
        st = pel_mpi_spectral_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, me_bad ? zero : dims, L, PEL_SPECTRAL_EXACT,
                                     NULL, &s);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_spectral_create", bad, "dims[1]=0");
        CHECK(pel_mpi_spectral_create(MPI_COMM_WORLD, PEL_FLOAT64, 3, dims, L, PEL_SPECTRAL_EXACT, NULL, &s) ==
                  PEL_OK,
              "solver");
        pel_mpi_spectral_layout(s, &l);
        field = pel_malloc(l.alloc_bytes);
        memset(field, 0x3c, l.alloc_bytes);
        memcpy(copy, field, l.alloc_bytes);
        st = pel_mpi_spectral_solve(s, me_bad ? -1.0 : 1.0, field);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_spectral_solve", bad, "shift=-1");
        if (nranks > 1) {
            st = pel_mpi_spectral_solve(s, me_bad ? 2.0 : 1.0, field);
            expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_spectral_solve", -1, "shift must be equal");
        }
        st = pel_mpi_spectral_solve(s, 1.0, me_bad ? NULL : field);
        expect_all(st, PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_spectral_solve", bad, "field must not be NULL");
        CHECK(memcmp(copy, field, l.alloc_bytes) == 0, "field untouched by failed solves");
        pel_free(field);
        pel_mpi_spectral_destroy(s);
        pel_mpi_spectral_destroy(NULL);
    }

    /* The plan still works after all that. */
    CHECK(pel_mpi_fft_execute(plan, in, out) == PEL_OK, "execute after errors");
    pel_mpi_fft_plan_destroy(plan);
    pel_free(in);
    pel_free(out);
    free(copy);
    pel_mpi_test_no_leak(live_before);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    pel_mpi_test_init(&argc, &argv, &rank, &nranks);
    if (!only || strcmp(only, "transforms") == 0)
        test_transforms();
    if (!only || strcmp(only, "pencils") == 0)
        test_pencils();
    if (!only || strcmp(only, "cache") == 0)
        test_cache();
    if (!only || strcmp(only, "spectral") == 0)
        test_spectral();
    if (!only || strcmp(only, "errors") == 0)
        test_errors();
    {
        /* A plan left alive at MPI_Finalize: pel frees its FFTW plan there;
         * destroying it afterwards frees only memory. */
        size_t dims[2] = {4, 6};
        pel_mpi_fft_plan *late = NULL;
        pel_mpi_fft_plan_create(MPI_COMM_WORLD, PEL_FFT_C2C, PEL_FLOAT64, 2, dims, PEL_FFT_FORWARD, 1, NULL, &late);
        int status = pel_mpi_test_finish(argv[0]);
        MPI_Finalize();
        pel_mpi_fft_plan_destroy(late);
        return status;
    }
}
