/* Forms of update beside the constant-coefficient one: the row functions the
 * engine calls (see pel__stencil_form in engine.h) and the public calls that
 * check their arguments and hand the form to the engine.
 *
 * Variable coefficients come in two forms (include/pel/stencil.h):
 *   factored: acc = S(p) = sum_k c_k u(p+o_k) (the constant form's order);
 *             acc = a(p) * acc; acc = acc + b(p) * u(p); acc = acc + w*rhs(p)
 *   general:  acc = g_0(p) * u(p+o_0); acc = acc + g_k(p) * u(p+o_k); + w*rhs(p)
 * Each row is computed in passes over the output row (it stays in L1): the
 * stencil's own row kernel for S, then one pass per pointwise factor. Every
 * intermediate is rounded to the precision whether it stays in a register or
 * goes through the output row, so the passes give exactly the bits of the
 * one-point-at-a-time loop. The file is compiled with -ffp-contract=off. */
#include "stencil/engine.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"

/* ------------------------------------------------------------ constant form */

static void constant_row(const pel__stencil_form *form, void *out, const void *const *term,
                         const void *const *point, const long *at, size_t n, int stream)
{
    const pel_stencil *s = form->stencil;
    (void)at;
    s->row(out, term, s->coefficients, s->nterms, form->npoint ? point[0] : NULL, form->params, n, stream);
}

static void constant_points(const pel__stencil_form *form, void *out, const ptrdiff_t *offset,
                            const void *const *term, const void *const *point, const long *at, size_t count)
{
    const pel_stencil *s = form->stencil;
    (void)at;
    (s->fma ? pel__stencil_points_fma : pel__stencil_points)(s->precision, out, offset, term, s->coefficients,
                                                             s->nterms, form->npoint ? point[0] : NULL,
                                                             form->params, count);
}

void pel__stencil_form_constant(pel__stencil_form *form, const pel_stencil *stencil, const char *const *point)
{
    memset(form, 0, sizeof *form);
    form->row = constant_row;
    form->points = constant_points;
    form->direct = 1;
    form->npoint = stencil->has_rhs ? 1 : 0;
    form->point = point;
    form->stencil = stencil;
    form->params = stencil->precision == PEL_FLOAT32 ? (const void *)&stencil->rhs_weight_f
                                                     : (const void *)&stencil->rhs_weight_d;
}

/* ------------------------------------------------------------ pointwise passes */

/* The passes that follow a row's sum, one body per precision and form,
 * compiled twice (portable and AVX2) like the row kernels. `#pragma omp
 * simd` asks for vectors; every lane does the scalar operation, so no bit
 * changes. Absent inputs (NULL) skip their pass. */
#if defined(__x86_64__) || defined(__i386__)
#define PEL_FORMS_AVX2 __attribute__((target("avx2")))
#else
#define PEL_FORMS_AVX2
#endif

/* factored: out = a*out; out = out + b*u; out = out + w*r. */
static inline __attribute__((always_inline)) void factored_body_d(double *out, const double *a, const double *b,
                                                                  const double *u, const double *r, double w,
                                                                  size_t n)
{
    if (a && b && !r) {
        /* The common case in one pass: the same two roundings. */
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = a[i] * out[i] + b[i] * u[i];
        return;
    }
    if (a) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = a[i] * out[i];
    }
    if (b) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] + b[i] * u[i];
    }
    if (r) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] + w * r[i];
    }
}

static inline __attribute__((always_inline)) void factored_body_s(float *out, const float *a, const float *b,
                                                                  const float *u, const float *r, float w, size_t n)
{
    if (a && b && !r) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = a[i] * out[i] + b[i] * u[i];
        return;
    }
    if (a) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = a[i] * out[i];
    }
    if (b) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] + b[i] * u[i];
    }
    if (r) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] + w * r[i];
    }
}

/* general: out = g_0*u_0; out = out + g_k*u_k; out = out + w*r. */
static inline __attribute__((always_inline)) void general_body_d(double *out, const void *const *g,
                                                                 const void *const *u, size_t nterms,
                                                                 const double *r, double w, size_t n)
{
    const double *g0 = g[0], *u0 = u[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = g0[i] * u0[i];
    for (size_t k = 1; k < nterms; k++) {
        const double *gk = g[k], *uk = u[k];
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] + gk[i] * uk[i];
    }
    if (r) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] + w * r[i];
    }
}

static inline __attribute__((always_inline)) void general_body_s(float *out, const void *const *g,
                                                                 const void *const *u, size_t nterms,
                                                                 const float *r, float w, size_t n)
{
    const float *g0 = g[0], *u0 = u[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = g0[i] * u0[i];
    for (size_t k = 1; k < nterms; k++) {
        const float *gk = g[k], *uk = u[k];
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] + gk[i] * uk[i];
    }
    if (r) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] + w * r[i];
    }
}

/* two-level: out = (alpha*u + beta*v) + g*out (g NULL: + out). */
static inline __attribute__((always_inline)) void wave_body_d(double *out, const double *u, const double *v,
                                                              const double *g, double alpha, double beta, size_t n)
{
    if (g) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = (alpha * u[i] + beta * v[i]) + g[i] * out[i];
    } else {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = (alpha * u[i] + beta * v[i]) + out[i];
    }
}

static inline __attribute__((always_inline)) void wave_body_s(float *out, const float *u, const float *v,
                                                              const float *g, float alpha, float beta, size_t n)
{
    if (g) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = (alpha * u[i] + beta * v[i]) + g[i] * out[i];
    } else {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = (alpha * u[i] + beta * v[i]) + out[i];
    }
}

static void wave_d_generic(double *out, const double *u, const double *v, const double *g, double alpha,
                           double beta, size_t n)
{
    wave_body_d(out, u, v, g, alpha, beta, n);
}

PEL_FORMS_AVX2 static void wave_d_avx2(double *out, const double *u, const double *v, const double *g,
                                       double alpha, double beta, size_t n)
{
    wave_body_d(out, u, v, g, alpha, beta, n);
}

static void wave_s_generic(float *out, const float *u, const float *v, const float *g, float alpha, float beta,
                           size_t n)
{
    wave_body_s(out, u, v, g, alpha, beta, n);
}

PEL_FORMS_AVX2 static void wave_s_avx2(float *out, const float *u, const float *v, const float *g, float alpha,
                                       float beta, size_t n)
{
    wave_body_s(out, u, v, g, alpha, beta, n);
}

static void factored_d_generic(double *out, const double *a, const double *b, const double *u, const double *r,
                               double w, size_t n)
{
    factored_body_d(out, a, b, u, r, w, n);
}

PEL_FORMS_AVX2 static void factored_d_avx2(double *out, const double *a, const double *b, const double *u,
                                           const double *r, double w, size_t n)
{
    factored_body_d(out, a, b, u, r, w, n);
}

static void factored_s_generic(float *out, const float *a, const float *b, const float *u, const float *r, float w,
                               size_t n)
{
    factored_body_s(out, a, b, u, r, w, n);
}

PEL_FORMS_AVX2 static void factored_s_avx2(float *out, const float *a, const float *b, const float *u,
                                           const float *r, float w, size_t n)
{
    factored_body_s(out, a, b, u, r, w, n);
}

static void general_d_generic(double *out, const void *const *g, const void *const *u, size_t nterms,
                              const double *r, double w, size_t n)
{
    general_body_d(out, g, u, nterms, r, w, n);
}

PEL_FORMS_AVX2 static void general_d_avx2(double *out, const void *const *g, const void *const *u, size_t nterms,
                                          const double *r, double w, size_t n)
{
    general_body_d(out, g, u, nterms, r, w, n);
}

static void general_s_generic(float *out, const void *const *g, const void *const *u, size_t nterms,
                              const float *r, float w, size_t n)
{
    general_body_s(out, g, u, nterms, r, w, n);
}

PEL_FORMS_AVX2 static void general_s_avx2(float *out, const void *const *g, const void *const *u, size_t nterms,
                                          const float *r, float w, size_t n)
{
    general_body_s(out, g, u, nterms, r, w, n);
}

/* The registry of passes: one row per instruction set. */
typedef struct pass_set {
    void (*factored_d)(double *, const double *, const double *, const double *, const double *, double, size_t);
    void (*factored_s)(float *, const float *, const float *, const float *, const float *, float, size_t);
    void (*general_d)(double *, const void *const *, const void *const *, size_t, const double *, double, size_t);
    void (*general_s)(float *, const void *const *, const void *const *, size_t, const float *, float, size_t);
    void (*wave_d)(double *, const double *, const double *, const double *, double, double, size_t);
    void (*wave_s)(float *, const float *, const float *, const float *, float, float, size_t);
} pass_set;

static const pass_set passes_generic = {factored_d_generic, factored_s_generic, general_d_generic,
                                        general_s_generic, wave_d_generic, wave_s_generic};
static const pass_set passes_avx2 = {factored_d_avx2, factored_s_avx2, general_d_avx2,
                                     general_s_avx2,  wave_d_avx2,     wave_s_avx2};

static const pass_set *choose_passes(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        return &passes_avx2;
#endif
    return &passes_generic;
}

/* ------------------------------------------------------------ variable coefficients */

/* What a variable-coefficient row needs beside the stencil. The pointwise
 * grids are numbered in this order: a, b, rhs (factored); g_0..g_{n-1}, rhs
 * (general); an absent one takes no number. */
typedef struct varcoef_params {
    const pass_set *passes;
    int scale, center, rhs; /* index into point[], or -1 when absent */
    size_t center_term;     /* the term with offset (0, 0, 0) */
    double weight_d;
    float weight_f;
    double alpha_d, beta_d; /* two-level form */
    float alpha_f, beta_f;
    /* Double precision in the separate order: the whole row in one fused
     * pass (lib/stencil/kernels_fused.c); NULL: the passes above. */
    pel__stencil_fused_fn fused_fn;
    pel__stencil_fused fused;
} varcoef_params;

static void factored_row(const pel__stencil_form *form, void *out, const void *const *term,
                         const void *const *point, const long *at, size_t n, int stream)
{
    const pel_stencil *s = form->stencil;
    const varcoef_params *p = form->params;
    const void *a = p->scale >= 0 ? point[p->scale] : NULL, *b = p->center >= 0 ? point[p->center] : NULL;
    const void *r = p->rhs >= 0 ? point[p->rhs] : NULL;
    static const double zero_d = 0.0;
    static const float zero_f = 0.0f;
    (void)stream; /* the passes read the row back: plain stores */
    (void)at;
    if (p->fused_fn) {
        pel__stencil_fused_inputs x;
        memset(&x, 0, sizeof x);
        x.scale[0] = a;
        x.center = b;
        x.u = term[p->center_term];
        x.rhs = r;
        p->fused_fn(out, (const double *const *)term, &p->fused, &x, n);
        return;
    }
    if (s->precision == PEL_FLOAT32) {
        s->row(out, term, s->coefficients, s->nterms, NULL, &zero_f, n, 0);
        p->passes->factored_s(out, a, b, term[p->center_term], r, p->weight_f, n);
    } else {
        s->row(out, term, s->coefficients, s->nterms, NULL, &zero_d, n, 0);
        p->passes->factored_d(out, a, b, term[p->center_term], r, p->weight_d, n);
    }
}

static void general_row(const pel__stencil_form *form, void *out, const void *const *term,
                        const void *const *point, const long *at, size_t n, int stream)
{
    const pel_stencil *s = form->stencil;
    const varcoef_params *p = form->params;
    const void *r = p->rhs >= 0 ? point[p->rhs] : NULL;
    (void)stream;
    (void)at;
    if (s->precision == PEL_FLOAT32)
        p->passes->general_s(out, point, term, s->nterms, r, p->weight_f, n);
    else
        p->passes->general_d(out, point, term, s->nterms, r, p->weight_d, n);
}

/* Two levels: acc = alpha*u(t)(p) + beta*u(t-1)(p) + gamma(p) * S u(t)(p);
 * point[0] is gamma when given, then the level before (the engine's). */
static void wave_row(const pel__stencil_form *form, void *out, const void *const *term, const void *const *point,
                     const long *at, size_t n, int stream)
{
    const pel_stencil *s = form->stencil;
    const varcoef_params *p = form->params;
    const void *g = p->scale >= 0 ? point[p->scale] : NULL, *before = point[form->npoint];
    static const double zero_d = 0.0;
    static const float zero_f = 0.0f;
    (void)stream;
    (void)at;
    if (p->fused_fn) {
        pel__stencil_fused_inputs x;
        memset(&x, 0, sizeof x);
        x.scale[0] = g;
        x.u = term[p->center_term];
        x.v = before;
        p->fused_fn(out, (const double *const *)term, &p->fused, &x, n);
        return;
    }
    if (s->precision == PEL_FLOAT32) {
        s->row(out, term, s->coefficients, s->nterms, NULL, &zero_f, n, 0);
        p->passes->wave_s(out, term[p->center_term], before, g, p->alpha_f, p->beta_f, n);
    } else {
        s->row(out, term, s->coefficients, s->nterms, NULL, &zero_d, n, 0);
        p->passes->wave_d(out, term[p->center_term], before, g, p->alpha_d, p->beta_d, n);
    }
}

/* The end points of a row in one call (the engine's batched `points`):
 * the stencil sum by the stencil's own batched kernel (its order of terms,
 * separate or FMA), then the form's pointwise operations in the order of
 * the row functions above, point by point. One call per row instead of one
 * row call per end point (callgrind: the single-point calls were a third
 * of the fused kernel's instructions on 3d7-varcoef 64^3). */
static void sum_points(const pel_stencil *s, void *out, const ptrdiff_t *offset, const void *const *term,
                       size_t count)
{
    static const double zero_d = 0.0;
    static const float zero_f = 0.0f;
    const void *zero = s->precision == PEL_FLOAT32 ? (const void *)&zero_f : (const void *)&zero_d;
    (s->fma ? pel__stencil_points_fma : pel__stencil_points)(s->precision, out, offset, term, s->coefficients,
                                                             s->nterms, NULL, zero, count);
}

/* Factored (a, b, rhs) or two-level (gamma, the level before) end points;
 * params->fused.two_level tells which. */
static void varcoef_points(const pel__stencil_form *form, void *out, const ptrdiff_t *offset,
                           const void *const *term, const void *const *point, const long *at, size_t count)
{
    const pel_stencil *s = form->stencil;
    const varcoef_params *p = form->params;
    const int two_level = form->history;
    const char *a = p->scale >= 0 ? point[p->scale] : NULL, *b = p->center >= 0 ? point[p->center] : NULL;
    const char *r = p->rhs >= 0 ? point[p->rhs] : NULL, *before = two_level ? point[form->npoint] : NULL;
    (void)at;
    sum_points(s, out, offset, term, count);
    for (size_t j = 0; j < count; j++) {
        const ptrdiff_t o = offset[j];
        const void *u = term[j * s->nterms + p->center_term];
        if (s->precision == PEL_FLOAT32) {
            float acc = ((float *)out)[o];
            if (a) /* a, or gamma */
                acc = ((const float *)(const void *)a)[o] * acc;
            if (two_level)
                acc = (p->alpha_f * *(const float *)u + p->beta_f * ((const float *)(const void *)before)[o]) + acc;
            if (b)
                acc = acc + ((const float *)(const void *)b)[o] * *(const float *)u;
            if (r)
                acc = acc + p->weight_f * ((const float *)(const void *)r)[o];
            ((float *)out)[o] = acc;
        } else {
            double acc = ((double *)out)[o];
            if (a)
                acc = ((const double *)(const void *)a)[o] * acc;
            if (two_level)
                acc = (p->alpha_d * *(const double *)u + p->beta_d * ((const double *)(const void *)before)[o]) + acc;
            if (b)
                acc = acc + ((const double *)(const void *)b)[o] * *(const double *)u;
            if (r)
                acc = acc + p->weight_d * ((const double *)(const void *)r)[o];
            ((double *)out)[o] = acc;
        }
    }
}

static size_t center_term(const pel_stencil *s)
{
    for (size_t k = 0; k < s->nterms; k++)
        if (s->offset[k][0] == 0 && s->offset[k][1] == 0 && s->offset[k][2] == 0)
            return k;
    return 0; /* unreachable: every star and box holds its centre */
}

/* The checks every apply-like call shares: NULL pointers, dims and faces,
 * the work buffer, the result pointer, the rhs term. Fills e and *count. */
static pel_status check_common(const char *function, pel__stencil_engine *e, const pel_stencil *stencil,
                               const size_t *dims, const pel_boundary *faces, const void *grid, const void *work,
                               const void *rhs, void **result, size_t *count)
{
    size_t bytes;
    pel_status status;
    if (stencil == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "stencil must not be NULL");
    if (dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "dims must not be NULL");
    if (faces == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "faces must not be NULL");
    if (grid == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "grid must not be NULL");
    status = pel__stencil_setup(function, e, stencil, dims, faces, count);
    if (status != PEL_OK)
        return status;
    bytes = *count * stencil->element_size;
    if (work != NULL && pel__stencil_overlaps(work, grid, bytes))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "work overlaps grid: the two buffers must be distinct");
    if (work != NULL && result == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "result must not be NULL when work is given (it says which buffer holds the result)");
    if (stencil->has_rhs && rhs == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "rhs must not be NULL: the stencil has a rhs term");
    if (!stencil->has_rhs && rhs != NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "rhs must be NULL: the stencil has no rhs term");
    return PEL_OK;
}

/* A read-only input grid must not overlap the buffers the steps write. */
static pel_status check_input(const char *function, const char *name, const void *input, const void *grid,
                              const void *work, size_t bytes)
{
    if (input != NULL &&
        (pel__stencil_overlaps(input, grid, bytes) || (work != NULL && pel__stencil_overlaps(input, work, bytes))))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "%s overlaps grid or work: it must be a separate, read-only buffer", name);
    return PEL_OK;
}

static void varcoef_params_init(varcoef_params *p, const pel_stencil *s)
{
    memset(p, 0, sizeof *p);
    p->passes = choose_passes();
    p->scale = p->center = p->rhs = -1;
    p->center_term = center_term(s);
    p->weight_d = s->rhs_weight_d;
    p->weight_f = s->rhs_weight_f;
    if (s->precision == PEL_FLOAT64 && !s->fma) {
        p->fused_fn = pel__stencil_fused_kernel();
        p->fused.ngroups = 1;
        p->fused.first[1] = s->nterms;
        p->fused.coefficients = s->coefficients;
        p->fused.rhs_weight = s->rhs_weight_d;
    }
}

pel_status pel_stencil_apply_factored(const pel_stencil *stencil, const size_t *dims, const pel_boundary *faces,
                                      void *grid, void *work, const void *scale, const void *center, const void *rhs,
                                      size_t nsteps, const pel_stencil_blocking *blocking, void **result)
{
    static const char *const fn = "pel_stencil_apply_factored";
    pel__stencil_engine e;
    pel__stencil_form form;
    varcoef_params params;
    const char *point[3];
    size_t count, bytes, npoint = 0;
    pel_status status = check_common(fn, &e, stencil, dims, faces, grid, work, rhs, result, &count);
    if (status != PEL_OK)
        return status;
    bytes = count * stencil->element_size;
    if ((status = check_input(fn, "scale", scale, grid, work, bytes)) != PEL_OK ||
        (status = check_input(fn, "center", center, grid, work, bytes)) != PEL_OK ||
        (status = check_input(fn, "rhs", rhs, grid, work, bytes)) != PEL_OK)
        return status;
    varcoef_params_init(&params, stencil);
    if (scale) {
        params.scale = (int)npoint;
        point[npoint++] = scale;
    }
    if (center) {
        params.center = (int)npoint;
        point[npoint++] = center;
    }
    if (rhs) {
        params.rhs = (int)npoint;
        point[npoint++] = rhs;
    }
    memset(&form, 0, sizeof form);
    form.row = factored_row;
    form.points = varcoef_points;
    form.npoint = npoint;
    form.point = point;
    form.stencil = stencil;
    form.params = &params;
    e.form = &form;
    return pel__stencil_apply_engine(fn, &e, dims, grid, work, count, nsteps, blocking, result);
}

pel_status pel_stencil_apply_general(const pel_stencil *stencil, const size_t *dims, const pel_boundary *faces,
                                     void *grid, void *work, const void *const *term_grids, const void *rhs,
                                     size_t nsteps, const pel_stencil_blocking *blocking, void **result)
{
    static const char *const fn = "pel_stencil_apply_general";
    pel__stencil_engine e;
    pel__stencil_form form;
    varcoef_params params;
    const char **point;
    size_t count, bytes;
    pel_status status = check_common(fn, &e, stencil, dims, faces, grid, work, rhs, result, &count);
    if (status != PEL_OK)
        return status;
    bytes = count * stencil->element_size;
    if (term_grids == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "term_grids must not be NULL");
    for (size_t k = 0; k < stencil->nterms; k++) {
        char name[40];
        if (term_grids[k] == NULL)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                             "term_grids[%zu] must not be NULL (the stencil has %zu terms)", k, stencil->nterms);
        snprintf(name, sizeof name, "term_grids[%zu]", k);
        if ((status = check_input(fn, name, term_grids[k], grid, work, bytes)) != PEL_OK)
            return status;
    }
    if ((status = check_input(fn, "rhs", rhs, grid, work, bytes)) != PEL_OK)
        return status;
    point = pel_malloc((stencil->nterms + 1) * sizeof *point);
    if (point == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for %zu grid pointers", stencil->nterms + 1);
    varcoef_params_init(&params, stencil);
    for (size_t k = 0; k < stencil->nterms; k++)
        point[k] = term_grids[k];
    if (rhs) {
        params.rhs = (int)stencil->nterms;
        point[stencil->nterms] = rhs;
    }
    memset(&form, 0, sizeof form);
    form.row = general_row;
    form.npoint = stencil->nterms + (rhs ? 1 : 0);
    form.point = point;
    form.stencil = stencil;
    form.params = &params;
    e.form = &form;
    status = pel__stencil_apply_engine(fn, &e, dims, grid, work, count, nsteps, blocking, result);
    pel_free(point);
    return status;
}

void pel__stencil_copy_grid(char *to, const char *from, size_t bytes, int threads)
{
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (size_t chunk = 0; chunk < (bytes + 65535) / 65536; chunk++) {
        size_t begin = chunk * 65536, len = bytes - begin < 65536 ? bytes - begin : 65536;
        memcpy(to + begin, from + begin, len);
    }
}

static const char *const level_name[4] = {"levels[0]", "levels[1]", "levels[2]", "levels[3]"};

pel_status pel_stencil_apply_wave(const pel_stencil *stencil, const size_t *dims, const pel_boundary *faces,
                                  void **levels, double alpha, double beta, const void *gamma, size_t nsteps,
                                  const pel_stencil_blocking *blocking)
{
    static const char *const fn = "pel_stencil_apply_wave";
    pel__stencil_engine e;
    pel__stencil_form form;
    varcoef_params params;
    const char *point[1] = {gamma};
    char *buffer[4], *own = NULL;
    size_t count, bytes;
    int prev = 0, cur = 1, given;
    pel_status status;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    if (stencil == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "stencil must not be NULL");
    if (dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "dims must not be NULL");
    if (faces == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "faces must not be NULL");
    if (levels == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "levels must not be NULL");
    for (int i = 0; i < 2; i++)
        if (levels[i] == NULL)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "%s must not be NULL (it holds u(t%s))", level_name[i],
                             i == 0 ? "-1" : "");
    if ((levels[2] == NULL) != (levels[3] == NULL))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "levels[2] and levels[3] must both be work grids or both NULL (pel's own)");
    given = levels[2] != NULL ? 4 : 2;
    status = pel__stencil_setup(fn, &e, stencil, dims, faces, &count);
    if (status != PEL_OK)
        return status;
    bytes = count * stencil->element_size;
    if (stencil->has_rhs)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "stencil has a rhs term: the two-level form takes none");
    if (!isfinite(alpha) || !isfinite(beta))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "alpha=%g and beta=%g must be finite", alpha, beta);
    for (int i = 0; i < given; i++)
        for (int j = i + 1; j < given; j++)
            if (pel__stencil_overlaps(levels[i], levels[j], bytes))
                return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "%s overlaps %s: every level needs its own grid",
                                 level_name[i], level_name[j]);
    for (int i = 0; gamma != NULL && i < given; i++)
        if (pel__stencil_overlaps(gamma, levels[i], bytes))
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                             "gamma overlaps %s: it must be a separate, read-only buffer", level_name[i]);
    /* The blocking override is checked by the shared path; run it with no
     * steps first, so nothing is written on error. */
    status = pel__stencil_apply_engine(fn, &e, dims, levels[1], NULL, count, 0, blocking, NULL);
    if (status != PEL_OK || nsteps == 0)
        return status;

    if (given == 2) {
        own = pel_malloc(2 * bytes);
        if (own == NULL)
            return pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for two work grids of %zu bytes", bytes);
    }
    for (int i = 0; i < 4; i++)
        buffer[i] = i < given ? levels[i] : own + (size_t)(i - 2) * bytes;

    varcoef_params_init(&params, stencil);
    params.scale = gamma ? 0 : -1;
    params.alpha_d = alpha;
    params.beta_d = beta;
    params.alpha_f = (float)alpha;
    params.beta_f = (float)beta;
    params.fused.two_level = 1;
    params.fused.alpha = alpha;
    params.fused.beta = beta;
    memset(&form, 0, sizeof form);
    form.row = wave_row;
    form.points = varcoef_points;
    form.npoint = gamma ? 1 : 0;
    form.point = point;
    form.stencil = stencil;
    form.params = &params;
    form.history = 1;
    e.form = &form;
    {
        size_t work_units = count;
        if (!pel__mul_size(work_units, (stencil->nterms + 3) * 2 * (nsteps < 64 ? nsteps : 64), &work_units))
            work_units = SIZE_MAX;
        e.nthreads = pel__team_take(&team, pel_threads_for_work(work_units));
    }
    pel__stencil_choose_blocking(&e, nsteps, blocking);
    status = pel__stencil_run_two_level(&e, buffer, &prev, &cur, nsteps);
    if (status == PEL_OK && own != NULL) {
        /* Back into the caller's two grids: first save a level that sits in
         * the other's grid, then copy. */
        const int threads = pel__team_take(&team, pel_threads_for_work(count));
        if (prev == 1) {
            int spare = cur == 2 ? 3 : 2;
            pel__stencil_copy_grid(buffer[spare], buffer[1], bytes, threads);
            prev = spare;
        }
        if (cur != 1)
            pel__stencil_copy_grid(buffer[1], buffer[cur], bytes, threads);
        if (prev != 0)
            pel__stencil_copy_grid(buffer[0], buffer[prev], bytes, threads);
    } else if (status == PEL_OK) {
        /* Permute the caller's four grids: the last two levels first. */
        int k = 2;
        levels[0] = buffer[prev];
        levels[1] = buffer[cur];
        for (int i = 0; i < 4; i++)
            if (i != prev && i != cur)
                levels[k++] = buffer[i];
    }
    pel_free(own);
    return status;
}

/* ------------------------------------------------------------ user row functions */

enum { ROWS_MAX_RADIUS = 4, ROWS_MAX_ROWS = (2 * ROWS_MAX_RADIUS + 1) * (2 * ROWS_MAX_RADIUS + 1) };

/* A user row function runs as the form of a box stencil of its radius: the
 * engine resolves every term (d0, d1, dx) of the box, and row j = (d0, d1)
 * starts at term j*(2r+1) + r. */
typedef struct rows_params {
    pel_stencil_row_function function;
    void *user_data;
    int ndim, radius;
    size_t nrows;
    int map[3]; /* internal axis of each user axis */
    long n2;    /* points along the row */
} rows_params;

static void user_index(const rows_params *p, const long *at, long x, size_t *index)
{
    for (int a = 0; a < p->ndim; a++)
        index[a] = (size_t)(p->map[a] == 2 ? x : at[p->map[a]]);
}

static void rows_row(const pel__stencil_form *form, void *out, const void *const *term, const void *const *point,
                     const long *at, size_t n, int stream)
{
    const rows_params *p = form->params;
    const size_t es = form->stencil->element_size, w = 2 * (size_t)p->radius + 1;
    const void *rows[ROWS_MAX_ROWS];
    size_t index[3];
    const int ends = (long)n < p->n2;
    (void)point;
    (void)stream;
    /* Inside the vector part every row is contiguous from x - r to x + n - 1
     * + r; a row behind a Dirichlet face is a constant row at least n + 2r
     * long, so rows[j] = its first term + r serves both. */
    for (size_t j = 0; j < p->nrows; j++) {
        const char *first = term[j * w];
        rows[j] = first + (size_t)p->radius * es;
        /* The end points after this call gather 2r+1 values of every row,
         * also of the rows the function never reads (the upwind update
         * reads 3 of 9): their first and last lines, cold from memory, cost
         * a fifth of the call when loaded then (perf, 3d7-rowfn 128^2 x
         * 256). Fetched now, they arrive while the function runs: 3d7-rowfn
         * 256^3 ran 1.15x faster, 1 and 100 steps (docs/benchmarks.md).
         * Both addresses lie in rows[j][-r .. n-1+r]. A row as long as
         * the axis has no end points (a ring row whose ghost columns hold
         * the boundary values): its prefetches only cost, and skipping them
         * ran 3d7-rowfn 256^3 x 20 5% faster (medians of 5 interleaved, Xeon
         * model 207). */
        if (ends) {
            __builtin_prefetch(first);
            __builtin_prefetch(first + (n - 1 + 2 * (size_t)p->radius) * es);
        }
    }
    user_index(p, at, at[2], index);
    p->function(out, rows, n, index, p->user_data);
}

/* End points: each term was resolved on its own, so the 2r+1 values of each
 * row are gathered into a short contiguous row first. */
static void rows_points(const pel__stencil_form *form, void *out, const ptrdiff_t *offset, const void *const *term,
                        const void *const *point, const long *at, size_t count)
{
    const rows_params *p = form->params;
    const size_t es = form->stencil->element_size, w = 2 * (size_t)p->radius + 1, nt = form->stencil->nterms;
    union {
        double d[ROWS_MAX_ROWS * (2 * ROWS_MAX_RADIUS + 1)];
        float f[ROWS_MAX_ROWS * (2 * ROWS_MAX_RADIUS + 1)];
    } gathered;
    const void *rows[ROWS_MAX_ROWS];
    size_t index[3];
    (void)point;
    for (size_t j = 0; j < count; j++) {
        long x = at[2] + (long)offset[j];
        if (x < 0 || x >= p->n2) /* a periodic axis 2 only: no divisions on the common path */
            x = ((x % p->n2) + p->n2) % p->n2;
        /* Element copies of the precision's type, not memcpy calls of a
         * run-time size (they were a third of the end points' cost). */
        if (es == sizeof(double))
            for (size_t k = 0; k < p->nrows * w; k++)
                gathered.d[k] = *(const double *)term[j * nt + k];
        else
            for (size_t k = 0; k < p->nrows * w; k++)
                gathered.f[k] = *(const float *)term[j * nt + k];
        for (size_t u = 0; u < p->nrows; u++)
            rows[u] = (const char *)&gathered + (u * w + (size_t)p->radius) * es;
        user_index(p, at, x, index);
        p->function((char *)out + (size_t)offset[j] * es, rows, 1, index, p->user_data);
    }
}

pel_status pel_stencil_apply_rows(pel_precision precision, int ndim, int radius, const size_t *dims,
                                  const pel_boundary *faces, void *grid, void *work, pel_stencil_row_function function,
                                  void *user_data, size_t nsteps, const pel_stencil_blocking *blocking, void **result)
{
    static const char *const fn = "pel_stencil_apply_rows";
    double ones[729];
    size_t npoints = 1, count;
    pel_stencil *box = NULL;
    pel__stencil_engine e;
    pel__stencil_form form;
    rows_params params;
    pel_status status;

    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "precision=%d is neither PEL_FLOAT64 nor PEL_FLOAT32",
                         (int)precision);
    if (ndim < 1 || ndim > 3)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "ndim=%d is not 1, 2 or 3", ndim);
    if (radius < 1 || radius > ROWS_MAX_RADIUS)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "radius=%d is outside 1..%d", radius, ROWS_MAX_RADIUS);
    if (function == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "function must not be NULL");
    for (int a = 0; a < ndim; a++)
        npoints *= 2 * (size_t)radius + 1;
    for (size_t k = 0; k < npoints; k++)
        ones[k] = 1.0;
    status = pel_stencil_create(precision, ndim, PEL_STENCIL_BOX, radius, ones, npoints, 0, 0.0, &box);
    if (status != PEL_OK)
        return pel__fail(status, fn, "no memory for the row geometry");
    status = check_common(fn, &e, box, dims, faces, grid, work, NULL, result, &count);
    if (status == PEL_OK) {
        memset(&params, 0, sizeof params);
        params.function = function;
        params.user_data = user_data;
        params.ndim = ndim;
        params.radius = radius;
        params.nrows = box->nrows;
        pel__stencil_axis_map(ndim, params.map);
        params.n2 = e.n[2];
        memset(&form, 0, sizeof form);
        form.row = rows_row;
        form.points = rows_points;
        form.position = 1;
        form.stencil = box;
        form.params = &params;
        e.form = &form;
        status = pel__stencil_apply_engine(fn, &e, dims, grid, work, count, nsteps, blocking, result);
    }
    pel_stencil_destroy(box);
    return status;
}

/* ------------------------------------------------------------ FMA order */

pel_status pel_stencil_create_fma(pel_precision precision, int ndim, pel_stencil_shape shape, int radius,
                                  const double *coefficients, size_t ncoefficients, int has_rhs, double rhs_weight,
                                  pel_stencil **stencil)
{
    pel_status status = pel_stencil_create(precision, ndim, shape, radius, coefficients, ncoefficients, has_rhs,
                                           rhs_weight, stencil);
    if (status != PEL_OK)
        return pel__fail(status, "pel_stencil_create_fma", "%s", pel_last_error());
    (*stencil)->fma = 1;
    (*stencil)->row = pel__stencil_row_kernel_fma(precision);
    return PEL_OK;
}
