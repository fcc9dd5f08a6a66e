/* pel-bench kernels of the stencil layer: pel_stencil_apply (temporal and
 * spatial blocking) against the plain sweep a user would write, an
 * `omp parallel for collapse(2)` over a grid padded with ghost cells, run
 * nsteps times with ping-pong buffers. Both sides use Dirichlet faces of
 * value 1 and the same coefficients and order of terms, so their results
 * are also compared bit for bit (a mismatch is reported on stderr).
 *
 * Size tokens are VARIANT:DIMS:STEPS, e.g. "3d7:256x256x256:100"; a bare
 * DIMS picks 3d7 (three dims) or 2d5 (two) and 100 steps; a suffix ":nt"
 * runs pel with streaming stores (pel_stencil_blocking.streaming_stores). */
#include "pel_bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pel.h"

typedef struct variant {
    const char *name;
    int ndim;
    pel_stencil_shape shape;
    int radius;
    size_t npoints;
} variant;

static const variant variants[] = {
    {"3d7", 3, PEL_STENCIL_STAR, 1, 7},
    {"2d5", 2, PEL_STENCIL_STAR, 1, 5},
    {"3d27", 3, PEL_STENCIL_BOX, 1, 27},
    {"3d25r4", 3, PEL_STENCIL_STAR, 4, 25},
};

typedef struct stencil_case {
    const variant *v;
    size_t dims[3], padded[3], points, steps;
    int threads;
    int streaming; /* pel with streaming stores (size token suffix ":nt") */
    int fma;       /* the FMA order on both sides (suffix ":fma") */
    double c[27];
    int offset[27][3];
    /* pel side */
    pel_stencil *stencil;
    pel_boundary faces[6];
    double *u0, *u1;
    void *result;
    /* baseline side: grids with r ghost layers holding the Dirichlet value */
    double *p0, *p1, *presult;
} stencil_case;

/* Coefficients of a smoothing step (they sum to 1, so values stay bounded
 * over many steps and never become denormal). */
static void make_coefficients(stencil_case *sc)
{
    const variant *v = sc->v;
    int width = 2 * v->radius + 1, total = 1, k = 0;
    for (int a = 0; a < v->ndim; a++)
        total *= width;
    for (int index = 0; index < total; index++) {
        int o[3] = {0, 0, 0}, rest = index, nonzero = 0;
        for (int a = v->ndim - 1; a >= 0; a--) {
            o[a] = rest % width - v->radius;
            rest /= width;
            nonzero += o[a] != 0;
        }
        if (v->shape == PEL_STENCIL_STAR && nonzero > 1)
            continue;
        memcpy(sc->offset[k], o, sizeof o);
        sc->c[k] = nonzero == 0 ? 0.4 : 0.6 / (double)(v->npoints - 1);
        k++;
    }
}

static size_t padded_index(const stencil_case *sc, size_t i0, size_t i1, size_t i2)
{
    if (sc->v->ndim == 2)
        return i0 * sc->padded[1] + i1;
    return (i0 * sc->padded[1] + i1) * sc->padded[2] + i2;
}

/* The terms' offsets in a padded 3-D grid. */
static void padded_offsets(const stencil_case *sc, ptrdiff_t *off)
{
    const size_t s1 = sc->padded[2], s0 = sc->padded[1] * s1;
    for (size_t k = 0; k < sc->v->npoints; k++)
        off[k] = sc->offset[k][0] * (ptrdiff_t)s0 + sc->offset[k][1] * (ptrdiff_t)s1 + sc->offset[k][2];
}

/* The plain sweep, one step, written as a user would for each variant. */
static void sweep_3d(const stencil_case *sc, const double *restrict in, double *restrict out)
{
    const size_t n0 = sc->dims[0], n1 = sc->dims[1], n2 = sc->dims[2], r = (size_t)sc->v->radius;
    const size_t s1 = sc->padded[2], s0 = sc->padded[1] * s1;
    const size_t nt = sc->v->npoints;
    const double *c = sc->c;
    ptrdiff_t off[27];
    padded_offsets(sc, off);
    if (sc->v->npoints == 7) {
#pragma omp parallel for collapse(2) schedule(static) num_threads(sc->threads)
        for (size_t z = 0; z < n0; z++)
            for (size_t y = 0; y < n1; y++) {
                const double *p = in + (z + r) * s0 + (y + r) * s1 + r;
                double *q = out + (z + r) * s0 + (y + r) * s1 + r;
#pragma omp simd
                for (size_t x = 0; x < n2; x++)
                    q[x] = c[0] * p[x - s0] + c[1] * p[x - s1] + c[2] * p[x - 1] + c[3] * p[x] + c[4] * p[x + 1] +
                           c[5] * p[x + s1] + c[6] * p[x + s0];
            }
        return;
    }
#pragma omp parallel for collapse(2) schedule(static) num_threads(sc->threads)
    for (size_t z = 0; z < n0; z++)
        for (size_t y = 0; y < n1; y++) {
            const double *p = in + (z + r) * s0 + (y + r) * s1 + r;
            double *q = out + (z + r) * s0 + (y + r) * s1 + r;
#pragma omp simd
            for (size_t x = 0; x < n2; x++) {
                double acc = c[0] * p[(ptrdiff_t)x + off[0]];
#pragma GCC unroll 27
                for (size_t k = 1; k < 27; k++)
                    if (k < nt)
                        acc = acc + c[k] * p[(ptrdiff_t)x + off[k]];
                q[x] = acc;
            }
        }
}

/* The plain sweep in the FMA order, as a user would compile it for an FMA
 * machine (-mfma): acc = c0*u0; acc = fma(ck, uk, acc). */
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma")))
#endif
static void sweep_3d_fma(const stencil_case *sc, const double *restrict in, double *restrict out)
{
    const size_t n0 = sc->dims[0], n1 = sc->dims[1], n2 = sc->dims[2], r = (size_t)sc->v->radius;
    const size_t s1 = sc->padded[2], s0 = sc->padded[1] * s1;
    const size_t nt = sc->v->npoints;
    const double *c = sc->c;
    ptrdiff_t off[27];
    padded_offsets(sc, off);
#pragma omp parallel for collapse(2) schedule(static) num_threads(sc->threads)
    for (size_t z = 0; z < n0; z++)
        for (size_t y = 0; y < n1; y++) {
            const double *p = in + (z + r) * s0 + (y + r) * s1 + r;
            double *q = out + (z + r) * s0 + (y + r) * s1 + r;
            if (nt == 7) {
#pragma omp simd
                for (size_t x = 0; x < n2; x++) {
                    double acc = c[0] * p[x - s0];
                    acc = fma(c[1], p[x - s1], acc);
                    acc = fma(c[2], p[x - 1], acc);
                    acc = fma(c[3], p[x], acc);
                    acc = fma(c[4], p[x + 1], acc);
                    acc = fma(c[5], p[x + s1], acc);
                    acc = fma(c[6], p[x + s0], acc);
                    q[x] = acc;
                }
            } else {
#pragma omp simd
                for (size_t x = 0; x < n2; x++) {
                    double acc = c[0] * p[(ptrdiff_t)x + off[0]];
                    for (size_t k = 1; k < nt; k++)
                        acc = fma(c[k], p[(ptrdiff_t)x + off[k]], acc);
                    q[x] = acc;
                }
            }
        }
}

static void sweep_2d(const stencil_case *sc, const double *restrict in, double *restrict out)
{
    const size_t n0 = sc->dims[0], n1 = sc->dims[1], s0 = sc->padded[1];
    const double *c = sc->c;
#pragma omp parallel for schedule(static) num_threads(sc->threads)
    for (size_t y = 0; y < n0; y++) {
        const double *p = in + (y + 1) * s0 + 1;
        double *q = out + (y + 1) * s0 + 1;
#pragma omp simd
        for (size_t x = 0; x < n1; x++)
            q[x] = c[0] * p[x - s0] + c[1] * p[x - 1] + c[2] * p[x] + c[3] * p[x + 1] + c[4] * p[x + s0];
    }
}

static void run_baseline(void *arg)
{
    stencil_case *sc = arg;
    double *a = sc->p0, *b = sc->p1;
    for (size_t s = 0; s < sc->steps; s++) {
        if (sc->v->ndim == 2)
            sweep_2d(sc, a, b);
        else if (sc->fma)
            sweep_3d_fma(sc, a, b);
        else
            sweep_3d(sc, a, b);
        double *t = a;
        a = b;
        b = t;
    }
    sc->presult = a;
}

static void run_pel(void *arg)
{
    stencil_case *sc = arg;
    pel_stencil_blocking streaming = {{0, 0, 0}, 0, 0, 1};
    if (pel_stencil_apply(sc->stencil, sc->dims, sc->faces, sc->u0, sc->u1, NULL, sc->steps,
                          sc->streaming ? &streaming : NULL, &sc->result) != PEL_OK)
        pel_bench_progress("stencil: %s\n", pel_last_error());
}

/* Parses VARIANT:DIMS:STEPS[:nt] into sc (nt: pel writes with streaming
 * stores, blocking->streaming_stores); returns 0 on success. */
static int parse_token(const char *token, stencil_case *sc, char *dims_text, size_t dims_size)
{
    char copy[128], *fields[4] = {NULL, NULL, NULL, NULL};
    int nfields = 0, ndims;
    const char *variant_name = NULL;
    snprintf(copy, sizeof copy, "%s", token);
    for (char *save = NULL, *f = strtok_r(copy, ":", &save); f && nfields < 4; f = strtok_r(NULL, ":", &save))
        fields[nfields++] = f;
    sc->steps = 100;
    sc->streaming = 0;
    sc->fma = 0;
    if (nfields == 4) {
        if (strcmp(fields[3], "nt") == 0)
            sc->streaming = 1;
        else if (strcmp(fields[3], "fma") == 0)
            sc->fma = 1;
        else
            return 1;
        nfields = 3;
    }
    if (nfields == 1) {
        snprintf(dims_text, dims_size, "%s", fields[0]);
    } else {
        variant_name = fields[0];
        snprintf(dims_text, dims_size, "%s", fields[1]);
        if (nfields == 3)
            sc->steps = strtoul(fields[2], NULL, 10);
    }
    ndims = pel_bench_parse_dims(dims_text, sc->dims, 3);
    if (ndims < 2)
        return 1;
    if (variant_name == NULL)
        variant_name = ndims == 3 ? "3d7" : "2d5";
    sc->v = NULL;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(variants[i].name, variant_name) == 0)
            sc->v = &variants[i];
    return sc->v == NULL || sc->v->ndim != ndims || (sc->fma && ndims != 3);
}

/* ------------------------------------------------------------ forms */

/* The forms' rows: variable coefficients (factored), the two-level wave,
 * and a user row kernel, each against the plain OpenMP loop of the same
 * update over ghost-padded grids (Dirichlet 1), bits compared once. */
typedef enum form_kind { FORM_VARCOEF, FORM_WAVE, FORM_ROWFN, FORM_2FIELD } form_kind;

typedef struct form_variant {
    const char *name;
    form_kind kind;
    int radius;
    size_t npoints;
    double bytes_per_point; /* a single sweep's least traffic per point and step */
    double flops_per_point;
} form_variant;

static const form_variant form_variants[] = {
    {"3d7-varcoef", FORM_VARCOEF, 1, 7, 32.0, 16.0},   /* read u, a, b; write */
    {"3d25r4-wave", FORM_WAVE, 4, 25, 32.0, 54.0},     /* read u(t), u(t-1), gamma; write */
    {"3d7-rowfn", FORM_ROWFN, 1, 7, 16.0, 9.0},        /* read u; write */
    {"2d5-2field", FORM_2FIELD, 1, 5, 32.0, 38.0},     /* read u, v; write both (per point of one field) */
};

typedef struct form_case {
    const form_variant *v;
    size_t dims[3], padded[3], points, padded_points, steps;
    int threads;
    double c[25], cross[2][2][5]; /* 2d5-2field: field f from field g */
    ptrdiff_t off[25];
    double courant[3];
    pel_stencil *stencil;
    pel_boundary faces[6];
    double *u[4], *a, *b;       /* pel: u[0] (and u[1] previous for the wave), work after them */
    void *result;               /* pel's final level */
    void *levels[4];            /* the wave's rotating grids */
    double *p[3], *presult;     /* baseline: padded grids */
    pel_stencil *pair[2][2];    /* 2d5-2field: the four stencils */
    double *q[2][2];            /* 2d5-2field baseline: both fields, two buffers each */
    void *fields[2], *work[2];  /* 2d5-2field pel side */
} form_case;

/* User code (the row function and the plain loops' rows) is compiled for
 * the machine, as a user would compile their own kernel: clones for AVX-512
 * and AVX2 picked at load time (-ffp-contract=off, see Makefile.am, keeps
 * every clone's bits the same). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define USER_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define USER_CLONES
#endif

/* One row of the 3d7-rowfn update (first-order upwind advection, velocity
 * positive on every axis): acc = u; acc = acc - c_a * (u - u(lower
 * neighbour on axis a)). The user row function and the plain loop both
 * call it, so both sides run the same code. */
USER_CLONES
static void upwind_row(double *restrict q, const double *restrict centre, const double *restrict down0,
                       const double *restrict down1, size_t n, const double *courant)
{
    const double c0 = courant[0], c1 = courant[1], c2 = courant[2];
#pragma omp simd
    for (size_t x = 0; x < n; x++) {
        double acc = centre[x];
        acc = acc - c0 * (centre[x] - down0[x]);
        acc = acc - c1 * (centre[x] - down1[x]);
        acc = acc - c2 * (centre[x] - centre[(ptrdiff_t)x - 1]);
        q[x] = acc;
    }
}

/* The 3d7-rowfn row's user row function: rows[4] is the centre row, rows[1]
 * the row below on axis 0, rows[3] the row below on axis 1. */
static void upwind_rows(void *out, const void *const *rows, size_t n, const size_t *index, void *user_data)
{
    const form_case *fc = user_data;
    (void)index;
    upwind_row(out, rows[4], rows[1], rows[3], n, fc->courant);
}

/* The plain loops' rows, compiled for the machine like upwind_row.
 * 3d7-varcoef: q = a * (sum_k c_k u(p + o_k)) + b * u. */
USER_CLONES
static void varcoef_row(double *restrict q, const double *restrict p, const double *restrict ar,
                        const double *restrict br, const double *c, size_t s0, size_t s1, size_t n)
{
#pragma omp simd
    for (size_t x = 0; x < n; x++)
        q[x] = ar[x] * (c[0] * p[x - s0] + c[1] * p[x - s1] + c[2] * p[x - 1] + c[3] * p[x] + c[4] * p[x + 1] +
                        c[5] * p[x + s1] + c[6] * p[x + s0]) +
               br[x] * p[x];
}

/* 3d25r4-wave: q = (2 u - u_before) + g * (sum_k c_k u(p + o_k)). */
USER_CLONES
static void wave_row(double *restrict q, const double *restrict p, const double *restrict pp,
                     const double *restrict g, const double *c, const ptrdiff_t *off, size_t n)
{
#pragma omp simd
    for (size_t x = 0; x < n; x++) {
        double sum = c[0] * p[(ptrdiff_t)x + off[0]];
#pragma GCC unroll 25
        for (size_t k = 1; k < 25; k++)
            sum = sum + c[k] * p[(ptrdiff_t)x + off[k]];
        q[x] = (2.0 * p[x] + -1.0 * pp[x]) + g[x] * sum;
    }
}

/* 2d5-2field: o = S_a u + S_b v (two 5-point stars in pel's order). */
USER_CLONES
static void two_field_row(double *restrict o, const double *restrict p, const double *restrict r,
                          const double *a, const double *b, size_t s0, size_t n)
{
#pragma omp simd
    for (size_t x = 0; x < n; x++)
        o[x] = (a[0] * p[x - s0] + a[1] * p[x - 1] + a[2] * p[x] + a[3] * p[x + 1] + a[4] * p[x + s0]) +
               (b[0] * r[x - s0] + b[1] * r[x - 1] + b[2] * r[x] + b[3] * r[x + 1] + b[4] * r[x + s0]);
}

/* The plain loops: one step of each form over padded grids. */
static void form_sweep(const form_case *fc, const double *restrict in, const double *restrict before,
                       double *restrict out)
{
    const size_t n0 = fc->dims[0], n1 = fc->dims[1], n2 = fc->dims[2], r = (size_t)fc->v->radius;
    const size_t s1 = fc->padded[2], s0 = fc->padded[1] * s1;
    if (fc->v->kind == FORM_VARCOEF) {
#pragma omp parallel for collapse(2) schedule(static) num_threads(fc->threads)
        for (size_t z = 0; z < n0; z++)
            for (size_t y = 0; y < n1; y++) {
                const size_t row = (z + r) * s0 + (y + r) * s1 + r, point = (z * n1 + y) * n2;
                varcoef_row(out + row, in + row, fc->a + point, fc->b + point, fc->c, s0, s1, n2);
            }
    } else if (fc->v->kind == FORM_WAVE) {
#pragma omp parallel for collapse(2) schedule(static) num_threads(fc->threads)
        for (size_t z = 0; z < n0; z++)
            for (size_t y = 0; y < n1; y++) {
                const size_t row = (z + r) * s0 + (y + r) * s1 + r;
                wave_row(out + row, in + row, before + row, fc->a + (z * n1 + y) * n2, fc->c, fc->off, n2);
            }
    } else {
#pragma omp parallel for collapse(2) schedule(static) num_threads(fc->threads)
        for (size_t z = 0; z < n0; z++)
            for (size_t y = 0; y < n1; y++) {
                const double *p = in + (z + r) * s0 + (y + r) * s1 + r;
                upwind_row(out + (z + r) * s0 + (y + r) * s1 + r, p, p - s0, p - s1, n2, fc->courant);
            }
    }
}

/* 2d5-2field: u_f' = S_f0 u_0 + S_f1 u_1 for f = 0, 1 (each S a 5-point
 * star in pel's order), over padded 2-D grids. */
static void two_field_sweep(const form_case *fc, double *const *in, double *const *out)
{
    const size_t n0 = fc->dims[0], n1 = fc->dims[1], s0 = fc->padded[1];
#pragma omp parallel for schedule(static) num_threads(fc->threads)
    for (size_t y = 0; y < n0; y++)
        for (int f = 0; f < 2; f++)
            two_field_row(out[f] + (y + 1) * s0 + 1, in[0] + (y + 1) * s0 + 1, in[1] + (y + 1) * s0 + 1,
                          fc->cross[f][0], fc->cross[f][1], s0, n1);
}

static void form_baseline(void *arg)
{
    form_case *fc = arg;
    if (fc->v->kind == FORM_2FIELD) {
        double *in[2] = {fc->q[0][0], fc->q[1][0]}, *out[2] = {fc->q[0][1], fc->q[1][1]};
        for (size_t s = 0; s < fc->steps; s++) {
            two_field_sweep(fc, in, out);
            for (int f = 0; f < 2; f++) {
                double *t = in[f];
                in[f] = out[f];
                out[f] = t;
            }
        }
        fc->presult = in[0];
        return;
    }
    double *in = fc->p[1], *before = fc->p[0], *out = fc->p[2];
    for (size_t s = 0; s < fc->steps; s++) {
        form_sweep(fc, in, before, out);
        double *t = before;
        before = in;
        in = out;
        out = fc->v->kind == FORM_WAVE ? t : before;
    }
    fc->presult = in;
}

static void form_pel(void *arg)
{
    form_case *fc = arg;
    pel_status status;
    if (fc->v->kind == FORM_VARCOEF)
        status = pel_stencil_apply_factored(fc->stencil, fc->dims, fc->faces, fc->u[1], fc->u[2], fc->a, fc->b, NULL,
                                            fc->steps, NULL, &fc->result);
    else if (fc->v->kind == FORM_WAVE)
    {
        /* The four grids rotate from call to call (the levels array). */
        status = pel_stencil_apply_wave(fc->stencil, fc->dims, fc->faces, fc->levels, 2.0, -1.0, fc->a, fc->steps,
                                        NULL);
        fc->result = fc->levels[1];
    }
    else if (fc->v->kind == FORM_2FIELD) {
        const pel_stencil_term terms[4] = {{0, 0, fc->pair[0][0], NULL}, {0, 1, fc->pair[0][1], NULL},
                                           {1, 0, fc->pair[1][0], NULL}, {1, 1, fc->pair[1][1], NULL}};
        status = pel_stencil_system_apply(2, terms, 4, fc->dims, fc->faces, fc->fields, fc->work, fc->steps, NULL);
        fc->result = fc->fields[0];
    } else
        status = pel_stencil_apply_rows(PEL_FLOAT64, 3, 1, fc->dims, fc->faces, fc->u[1], fc->u[2], upwind_rows, fc,
                                        fc->steps, NULL, &fc->result);
    if (status != PEL_OK)
        pel_bench_progress("stencil %s: %s\n", fc->v->name, pel_last_error());
}

/* Copies a compact grid into the interior of a padded one (ghosts 1). */
static void pad_into(const form_case *fc, const double *from, double *to)
{
    const size_t r = (size_t)fc->v->radius;
    for (size_t i = 0; i < fc->padded_points; i++)
        to[i] = 1.0;
    for (size_t z = 0; z < fc->dims[0]; z++)
        for (size_t y = 0; y < fc->dims[1]; y++)
            memcpy(to + ((z + r) * fc->padded[1] + y + r) * fc->padded[2] + r,
                   from + (z * fc->dims[1] + y) * fc->dims[2], fc->dims[2] * sizeof *from);
}

static size_t unpadded_mismatches(const form_case *fc, const double *got, const double *padded)
{
    const size_t r = (size_t)fc->v->radius;
    size_t bad = 0;
    for (size_t z = 0; z < fc->dims[0]; z++)
        for (size_t y = 0; y < fc->dims[1]; y++)
            bad += memcmp(got + (z * fc->dims[1] + y) * fc->dims[2],
                          padded + ((z + r) * fc->padded[1] + y + r) * fc->padded[2] + r,
                          fc->dims[2] * sizeof *got) != 0;
    return bad;
}

static void emit_form_row(const pel_bench_context *context, form_case *fc, const char *dims_text, int reps);

/* 2d5-2field: two fields, four 5-point stencils (diffusion of each field,
 * a weak cross term), Dirichlet 1. */
static int run_two_field(const pel_bench_context *context, form_case *fc, const char *dims_text)
{
    const size_t n0 = fc->dims[0], n1 = fc->dims[1];
    fc->points = n0 * n1;
    fc->padded[0] = n0 + 2;
    fc->padded[1] = n1 + 2;
    fc->padded[2] = 1;
    fc->padded_points = fc->padded[0] * fc->padded[1];
    for (int f = 0; f < 4; f++)
        fc->faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 1.0};
    for (int f = 0; f < 2; f++)
        for (int g = 0; g < 2; g++) {
            double *c = fc->cross[f][g];
            for (int k = 0; k < 5; k++)
                c[k] = f == g ? (k == 2 ? 0.5 : 0.1) : (k == 2 ? 0.06 : 0.01);
            if (pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, c, 5, 0, 0.0, &fc->pair[f][g]) != PEL_OK) {
                pel_bench_progress("stencil 2d5-2field: %s\n", pel_last_error());
                return 1;
            }
        }
    for (int f = 0; f < 2; f++) {
        double *random = pel_bench_random(fc->points, 41 + (unsigned long long)f);
        if (pel_stencil_grid_alloc(fc->pair[0][0], fc->dims, &fc->fields[f]) != PEL_OK ||
            pel_stencil_grid_alloc(fc->pair[0][0], fc->dims, &fc->work[f]) != PEL_OK) {
            pel_bench_progress("stencil 2d5-2field: %s\n", pel_last_error());
            return 1;
        }
        memcpy(fc->fields[f], random, fc->points * sizeof(double));
        for (int k = 0; k < 2; k++) {
            fc->q[f][k] = pel_malloc(fc->padded_points * sizeof(double));
            for (size_t i = 0; i < fc->padded_points; i++)
                fc->q[f][k][i] = 1.0;
        }
        for (size_t y = 0; y < n0; y++)
            memcpy(fc->q[f][0] + (y + 1) * fc->padded[1] + 1, random + y * n1, n1 * sizeof(double));
        pel_free(random);
    }
    /* One round from the same data on both sides: same bits expected. */
    form_pel(fc);
    form_baseline(fc);
    {
        size_t bad = 0;
        for (size_t y = 0; y < n0; y++)
            bad += memcmp((const double *)fc->result + y * n1, fc->presult + (y + 1) * fc->padded[1] + 1,
                          n1 * sizeof(double)) != 0;
        if (bad)
            pel_bench_progress("stencil 2d5-2field: %zu rows differ from the plain loop\n", bad);
    }
    emit_form_row(context, fc, dims_text, context->reps);
    for (int f = 0; f < 2; f++) {
        pel_free(fc->fields[f]);
        pel_free(fc->work[f]);
        for (int k = 0; k < 2; k++) {
            pel_free(fc->q[f][k]);
            pel_stencil_destroy(fc->pair[f][k]);
        }
    }
    return 0;
}

static int run_stencil_form(const pel_bench_context *context, const form_variant *v, const char *dims_text,
                            size_t steps)
{
    form_case fc;
    int reps = context->reps;
    memset(&fc, 0, sizeof fc);
    fc.v = v;
    fc.steps = steps;
    fc.threads = context->threads;
    {
        const int want = v->kind == FORM_2FIELD ? 2 : 3;
        if (pel_bench_parse_dims(dims_text, fc.dims, 3) != want) {
            pel_bench_progress("stencil %s: size '%s' is not %d dims\n", v->name, dims_text, want);
            return 1;
        }
        if (want == 2)
            fc.dims[2] = 1;
    }
    if (v->kind == FORM_2FIELD)
        return run_two_field(context, &fc, dims_text);
    fc.points = fc.dims[0] * fc.dims[1] * fc.dims[2];
    fc.padded_points = 1;
    for (int a = 0; a < 3; a++) {
        fc.padded[a] = fc.dims[a] + 2 * (size_t)v->radius;
        fc.padded_points *= fc.padded[a];
    }
    for (int f = 0; f < 6; f++)
        fc.faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 1.0};
    fc.courant[0] = 0.2;
    fc.courant[1] = 0.15;
    fc.courant[2] = 0.1;
    {
        /* Star offsets in pel's order, coefficients: smoothing (sum 1) for
         * 3d7, the eighth-order Laplacian (h = 1) for the wave. */
        int k = 0, r = v->radius;
        pel_stencil *lap = NULL;
        for (int a0 = -r; a0 <= r; a0++)
            for (int a1 = -r; a1 <= r; a1++)
                for (int a2 = -r; a2 <= r; a2++) {
                    if ((a0 != 0) + (a1 != 0) + (a2 != 0) > 1)
                        continue;
                    fc.off[k] = (ptrdiff_t)a0 * (ptrdiff_t)(fc.padded[1] * fc.padded[2]) +
                                (ptrdiff_t)a1 * (ptrdiff_t)fc.padded[2] + a2;
                    fc.c[k] = (a0 | a1 | a2) == 0 ? 0.4 : 0.1;
                    k++;
                }
        if (v->kind == FORM_WAVE) {
            static const double order8[5] = {-205.0 / 72.0, 8.0 / 5.0, -1.0 / 5.0, 8.0 / 315.0, -1.0 / 560.0};
            for (int j = 0; j < 4; j++)
                fc.c[j] = fc.c[24 - j] = fc.c[4 + j] = fc.c[20 - j] = fc.c[8 + j] = fc.c[16 - j] = order8[4 - j];
            fc.c[12] = 3.0 * order8[0];
            (void)lap;
        }
    }
    if (pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, v->radius, fc.c, v->npoints, 0, 0.0, &fc.stencil) !=
        PEL_OK) {
        pel_bench_progress("stencil %s: %s\n", v->name, pel_last_error());
        return 1;
    }
    for (int i = 0; i < 4; i++)
        if (pel_stencil_grid_alloc(fc.stencil, fc.dims, (void **)&fc.u[i]) != PEL_OK) {
            pel_bench_progress("stencil %s: %s\n", v->name, pel_last_error());
            return 1;
        }
    fc.a = pel_bench_random(fc.points, 31);
    fc.b = pel_bench_random(fc.points, 32);
    for (size_t i = 0; i < fc.points; i++) {
        fc.a[i] = v->kind == FORM_WAVE ? 0.05 + 0.01 * fc.a[i] : 0.7 + 0.1 * fc.a[i];
        fc.b[i] = 0.1 + 0.05 * fc.b[i];
    }
    {
        double *r0 = pel_bench_random(fc.points, 33), *r1 = pel_bench_random(fc.points, 34);
        memcpy(fc.u[0], r0, fc.points * sizeof(double));
        memcpy(fc.u[1], v->kind == FORM_WAVE ? r1 : r0, fc.points * sizeof(double));
        for (int i = 0; i < 4; i++)
            fc.levels[i] = fc.u[i];
        for (int i = 0; i < 3; i++)
            fc.p[i] = pel_malloc(fc.padded_points * sizeof(double));
        pad_into(&fc, fc.u[0], fc.p[0]);
        pad_into(&fc, fc.u[1], fc.p[1]);
        pad_into(&fc, fc.u[1], fc.p[2]);
        pel_free(r0);
        pel_free(r1);
    }
    /* One round from the same data on both sides: same bits expected. */
    form_pel(&fc);
    form_baseline(&fc);
    {
        size_t bad = unpadded_mismatches(&fc, fc.result, fc.presult);
        if (bad)
            pel_bench_progress("stencil %s: %zu rows differ from the plain loop\n", v->name, bad);
    }
    emit_form_row(context, &fc, dims_text, reps);
    pel_stencil_destroy(fc.stencil);
    for (int i = 0; i < 4; i++)
        pel_free(fc.u[i]);
    for (int i = 0; i < 3; i++)
        pel_free(fc.p[i]);
    pel_free(fc.a);
    pel_free(fc.b);
    return 0;
}

/* Times pel and the plain loop interleaved (with stream copy in the same
 * rounds for single sweeps) and emits the row. */
static void emit_form_row(const pel_bench_context *context, form_case *fc, const char *dims_text, int reps)
{
    const form_variant *v = fc->v;
    char extra[200];
    double t_pel, t_base, copy;
    pel_bench_row row = {"stencil", v->name, dims_text, context->threads, 0, 0, 0,
                         "plain omp loop of the same update", 0, NULL};
    if ((double)fc->points * (double)fc->steps > 4e8 && reps > 3)
        reps = 3;
    {
        pel_bench_reference ref = {pel_bench_stream_copy,
                                   fc->steps == 1 && !context->quick ? pel_bench_stream_open(context->threads) : NULL,
                                   0.0};
        pel_bench_compare_with(reps, form_pel, form_baseline, fc, ref.arg ? &ref : NULL, &t_pel, &t_base);
        copy = ref.arg ? pel_bench_stream_gbps(ref.fn, ref.median) : 0.0;
        pel_bench_stream_close(ref.arg);
    }
    snprintf(extra, sizeof extra, "\"steps\":%zu,\"gpoints\":%.4g,\"bytes_per_point\":%g", fc->steps,
             (double)fc->points * (double)fc->steps / t_pel * 1e-9, v->bytes_per_point);
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gflops = (double)fc->points * (double)fc->steps * v->flops_per_point / t_pel * 1e-9;
    row.gbps = v->bytes_per_point * (double)fc->points * (double)fc->steps / t_pel * 1e-9;
    if (copy > 0)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                 ",\"stream_copy_gbps\":%.4g,\"pct_stream_copy\":%.1f", copy, 100.0 * row.gbps / copy);
    row.extra_json = extra;
    pel_bench_emit(&row);
    pel_bench_progress("stencil %s %s steps=%zu: pel %.2f Gpoints/s (%.1f GB/s effective), baseline %.2f Gpoints/s, "
                       "ratio %.2f\n",
                       v->name, dims_text, fc->steps, (double)fc->points * (double)fc->steps / t_pel * 1e-9, row.gbps,
                       (double)fc->points * (double)fc->steps / t_base * 1e-9, t_base / t_pel);
}

static int run_stencil(const pel_bench_context *context)
{
    stencil_case sc;
    char dims_text[96], extra[160];
    double copy;
    size_t padded_points = 1;
    double t_pel, t_base;
    int reps = context->reps;
    pel_bench_row row = {"stencil", NULL, NULL, context->threads, 0, 0, 0, "omp parallel for collapse(2) sweep", 0,
                         NULL};

    memset(&sc, 0, sizeof sc);
    for (size_t i = 0; i < sizeof form_variants / sizeof form_variants[0]; i++) {
        size_t len = strlen(form_variants[i].name);
        if (strncmp(context->size, form_variants[i].name, len) == 0 && context->size[len] == ':') {
            char copy_text[128], *steps_text;
            snprintf(copy_text, sizeof copy_text, "%s", context->size + len + 1);
            steps_text = strchr(copy_text, ':');
            if (steps_text)
                *steps_text++ = '\0';
            return run_stencil_form(context, &form_variants[i], copy_text,
                                    steps_text ? strtoul(steps_text, NULL, 10) : 100);
        }
    }
    if (parse_token(context->size, &sc, dims_text, sizeof dims_text)) {
        pel_bench_progress("stencil: size '%s' is not VARIANT:DIMS:STEPS[:nt|:fma] with VARIANT 3d7, 2d5, 3d27, "
                           "3d25r4 (fma: 3-D only) or a form variant\n",
                           context->size);
        return 1;
    }
    sc.threads = context->threads;
    sc.points = 1;
    for (int a = 0; a < sc.v->ndim; a++) {
        sc.points *= sc.dims[a];
        sc.padded[a] = sc.dims[a] + 2 * (size_t)sc.v->radius;
        padded_points *= sc.padded[a];
    }
    make_coefficients(&sc);
    for (int f = 0; f < 6; f++)
        sc.faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 1.0};
    if ((sc.fma ? pel_stencil_create_fma : pel_stencil_create)(PEL_FLOAT64, sc.v->ndim, sc.v->shape, sc.v->radius,
                                                                 sc.c, sc.v->npoints, 0, 0.0, &sc.stencil) != PEL_OK ||
        pel_stencil_grid_alloc(sc.stencil, sc.dims, (void **)&sc.u0) != PEL_OK ||
        pel_stencil_grid_alloc(sc.stencil, sc.dims, (void **)&sc.u1) != PEL_OK) {
        pel_bench_progress("stencil: %s\n", pel_last_error());
        return 1;
    }
    {
        double *random = pel_bench_random(sc.points, 21);
        memcpy(sc.u0, random, sc.points * sizeof(double));
        pel_free(random);
    }
    sc.p0 = pel_bench_random(padded_points, 22);
    sc.p1 = pel_bench_random(padded_points, 23);
    /* Ghost layers hold the Dirichlet value, the interior the same data. */
    for (size_t i = 0; i < padded_points; i++)
        sc.p0[i] = sc.p1[i] = 1.0;
    {
        size_t n1 = sc.v->ndim == 3 ? sc.dims[1] : 1, n2 = sc.v->ndim == 3 ? sc.dims[2] : sc.dims[1];
        size_t r = (size_t)sc.v->radius;
        for (size_t i0 = 0; i0 < sc.dims[0]; i0++)
            for (size_t i1 = 0; i1 < n1; i1++)
                for (size_t i2 = 0; i2 < n2; i2++) {
                    size_t src = (i0 * n1 + i1) * n2 + i2;
                    size_t dst = sc.v->ndim == 3 ? padded_index(&sc, i0 + r, i1 + r, i2 + r)
                                                 : padded_index(&sc, i0 + r, i2 + r, 0);
                    sc.p0[dst] = sc.u0[src];
                }
    }
    /* One correctness round (same bits expected), then the timed rounds. */
    run_pel(&sc);
    run_baseline(&sc);
    {
        size_t n1 = sc.v->ndim == 3 ? sc.dims[1] : 1, n2 = sc.v->ndim == 3 ? sc.dims[2] : sc.dims[1], bad = 0;
        size_t r = (size_t)sc.v->radius;
        const double *got = sc.result;
        for (size_t i0 = 0; i0 < sc.dims[0]; i0++)
            for (size_t i1 = 0; i1 < n1; i1++)
                for (size_t i2 = 0; i2 < n2; i2++) {
                    size_t at = sc.v->ndim == 3 ? padded_index(&sc, i0 + r, i1 + r, i2 + r)
                                                : padded_index(&sc, i0 + r, i2 + r, 0);
                    bad += got[(i0 * n1 + i1) * n2 + i2] != sc.presult[at];
                }
        if (bad)
            pel_bench_progress("stencil %s: %zu points differ from the plain sweep\n", sc.v->name, bad);
    }
    if ((double)sc.points * (double)sc.steps > 4e8 && reps > 3)
        reps = 3;
    {
        /* The single sweep's target is a fraction of stream copy, timed in
         * the same rounds. */
        pel_bench_reference ref = {pel_bench_stream_copy,
                                   sc.steps == 1 && sc.v->ndim == 3 && !context->quick
                                       ? pel_bench_stream_open(context->threads)
                                       : NULL,
                                   0.0};
        pel_bench_compare_with(reps, run_pel, run_baseline, &sc, ref.arg ? &ref : NULL, &t_pel, &t_base);
        copy = ref.arg ? pel_bench_stream_gbps(ref.fn, ref.median) : 0.0;
        pel_bench_stream_close(ref.arg);
    }
    snprintf(extra, sizeof extra, "\"steps\":%zu%s%s", sc.steps, sc.streaming ? ",\"streaming_stores\":1" : "",
             sc.fma ? ",\"order\":\"fma\"" : "");
    row.variant = sc.fma ? (sc.v->npoints == 7 ? "3d7-fma" : sc.v->npoints == 27 ? "3d27-fma" : "3d25r4-fma")
                         : sc.v->name;
    if (sc.fma)
        row.baseline = "omp parallel for collapse(2) sweep with fma() (-mfma)";
    row.size = dims_text;
    row.seconds = t_pel;
    row.baseline_seconds = t_base;
    row.gflops = (double)sc.points * (double)sc.steps * (2.0 * (double)sc.v->npoints - 1.0) / t_pel * 1e-9;
    row.gbps = 16.0 * (double)sc.points * (double)sc.steps / t_pel * 1e-9;
    row.extra_json = extra;
    if (copy > 0) {
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                 ",\"stream_copy_gbps\":%.4g,\"pct_stream_copy\":%.1f", copy, 100.0 * row.gbps / copy);
        pel_bench_progress("stencil %s: stream copy %.1f GB/s on %d threads; pel reaches %.0f%% of it\n", sc.v->name,
                           copy, context->threads, 100.0 * row.gbps / copy);
    }
    pel_bench_emit(&row);
    pel_bench_progress("stencil %s %s steps=%zu: pel %.2f Gpoints/s (%.1f GB/s effective), baseline %.2f Gpoints/s "
                       "(%.1f GB/s), ratio %.2f\n",
                       sc.v->name, dims_text, sc.steps, (double)sc.points * (double)sc.steps / t_pel * 1e-9, row.gbps,
                       (double)sc.points * (double)sc.steps / t_base * 1e-9,
                       16.0 * (double)sc.points * (double)sc.steps / t_base * 1e-9, t_base / t_pel);
    pel_stencil_destroy(sc.stencil);
    pel_free(sc.u0);
    pel_free(sc.u1);
    pel_free(sc.p0);
    pel_free(sc.p1);
    return 0;
}

const pel_bench_kernel pel_bench_stencil_kernels[] = {
    {"stencil",
     "pel_stencil_apply and its forms (temporal blocking) vs a plain omp collapse(2) loop of the same update; "
     "sizes VARIANT:DIMS:STEPS, VARIANT 3d7, 2d5, 3d27, 3d25r4, 3d7-varcoef, 3d25r4-wave, 3d7-rowfn, 2d5-2field",
     "3d7:256x256x256:1,3d7:256x256x256:100,2d5:8192x8192:100,3d27:256x256x256:50,3d25r4:256x256x256:20,"
     "3d7:256x256x256:100:fma,3d7-varcoef:256x256x256:100,3d7-varcoef:256x256x256:1,3d25r4-wave:256x256x256:100,"
     "3d25r4-wave:256x256x256:1,3d7-rowfn:256x256x256:100,3d7-rowfn:256x256x256:1,2d5-2field:4096x4096:100,"
     "2d5-2field:4096x4096:1",
     "3d7:48x48x48:1,3d7:48x48x48:10,2d5:256x256:10,3d27:32x32x32:5,3d25r4:32x32x32:4,3d7-varcoef:48x48x48:10,"
     "3d25r4-wave:32x32x32:4,3d7-rowfn:48x48x48:10,2d5-2field:256x256:10", run_stencil},
    {NULL, NULL, NULL, NULL, NULL},
};
