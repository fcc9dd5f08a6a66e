/* Row kernels in the FMA order of terms (pel_stencil_create_fma):
 *
 *     acc = c[0] * u(p + o[0]);  acc = fma(c[k], u(p + o[k]), acc)  (k = 1..)
 *     if rhs:  acc = fma(w, rhs(p), acc)
 *
 * Each fused multiply-add rounds once, as C's fma() does, so a naive loop
 * written with fma() gives the same bits. The bodies are plain loops over
 * the points calling fma(); in the FMA-targeted wrappers gcc turns each into
 * vfmadd over a vector of points (every lane the same scalar operation), in
 * the portable ones they call libm's correctly rounded fma(). The common
 * stars (3, 5, 7 terms) keep the accumulator in registers (one pass over the
 * row); longer stencils run one pass per term over the output row (in L1).
 * This file is compiled with -ffp-contract=off like the other kernels: only
 * the explicit fma() calls fuse. */
#include "stencil/stencil_internal.h"

#include <math.h>
#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#define PEL_TARGET_FMA __attribute__((target("avx2,fma")))
#else
#define PEL_TARGET_FMA
#endif

static inline __attribute__((always_inline)) void fma_fixed_d(double *restrict out, const double *const *in,
                                                              const double *c, const size_t nterms,
                                                              const double *rhs, double w, size_t n)
{
    const double *p[8];
    double ck[8];
    for (size_t k = 0; k < nterms; k++) {
        p[k] = in[k];
        ck[k] = c[k];
    }
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        double acc = ck[0] * p[0][i];
#pragma GCC unroll 8
        for (size_t k = 1; k < nterms; k++)
            acc = fma(ck[k], p[k][i], acc);
        if (rhs)
            acc = fma(w, rhs[i], acc);
        out[i] = acc;
    }
}

static inline __attribute__((always_inline)) void fma_body_d(double *restrict out, const double *const *in,
                                                             const double *c, size_t nterms, const double *rhs,
                                                             double w, size_t n)
{
    const double *p0 = in[0];
    const double c0 = c[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = c0 * p0[i];
    for (size_t k = 1; k < nterms; k++) {
        const double *pk = in[k];
        const double ck = c[k];
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = fma(ck, pk[i], out[i]);
    }
    if (rhs) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = fma(w, rhs[i], out[i]);
    }
}

static inline __attribute__((always_inline)) void fma_fixed_s(float *restrict out, const float *const *in,
                                                              const float *c, const size_t nterms, const float *rhs,
                                                              float w, size_t n)
{
    const float *p[8];
    float ck[8];
    for (size_t k = 0; k < nterms; k++) {
        p[k] = in[k];
        ck[k] = c[k];
    }
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float acc = ck[0] * p[0][i];
#pragma GCC unroll 8
        for (size_t k = 1; k < nterms; k++)
            acc = fmaf(ck[k], p[k][i], acc);
        if (rhs)
            acc = fmaf(w, rhs[i], acc);
        out[i] = acc;
    }
}

static inline __attribute__((always_inline)) void fma_body_s(float *restrict out, const float *const *in,
                                                             const float *c, size_t nterms, const float *rhs, float w,
                                                             size_t n)
{
    const float *p0 = in[0];
    const float c0 = c[0];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = c0 * p0[i];
    for (size_t k = 1; k < nterms; k++) {
        const float *pk = in[k];
        const float ck = c[k];
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = fmaf(ck, pk[i], out[i]);
    }
    if (rhs) {
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            out[i] = fmaf(w, rhs[i], out[i]);
    }
}

/* One dispatcher body per precision: the fixed stars, else the term loop. */
static inline __attribute__((always_inline)) void fma_row_d(void *out, const void *const *in,
                                                            const void *coefficients, size_t nterms,
                                                            const void *rhs, const void *rhs_weight, size_t n)
{
    const double *const *rows = (const double *const *)in;
    const double w = *(const double *)rhs_weight;
    switch (nterms) {
    case 3:
        fma_fixed_d(out, rows, coefficients, 3, rhs, w, n);
        return;
    case 5:
        fma_fixed_d(out, rows, coefficients, 5, rhs, w, n);
        return;
    case 7:
        fma_fixed_d(out, rows, coefficients, 7, rhs, w, n);
        return;
    default:
        fma_body_d(out, rows, coefficients, nterms, rhs, w, n);
    }
}

static inline __attribute__((always_inline)) void fma_row_s(void *out, const void *const *in,
                                                            const void *coefficients, size_t nterms,
                                                            const void *rhs, const void *rhs_weight, size_t n)
{
    const float *const *rows = (const float *const *)in;
    const float w = *(const float *)rhs_weight;
    switch (nterms) {
    case 3:
        fma_fixed_s(out, rows, coefficients, 3, rhs, w, n);
        return;
    case 5:
        fma_fixed_s(out, rows, coefficients, 5, rhs, w, n);
        return;
    case 7:
        fma_fixed_s(out, rows, coefficients, 7, rhs, w, n);
        return;
    default:
        fma_body_s(out, rows, coefficients, nterms, rhs, w, n);
    }
}

/* Streaming stores are not used by the FMA kernels (stream is ignored):
 * they write through the cache like the portable kernels. */
static void row_fma_d_generic(void *out, const void *const *in, const void *coefficients, size_t nterms,
                              const void *rhs, const void *rhs_weight, size_t n, int stream)
{
    (void)stream;
    fma_row_d(out, in, coefficients, nterms, rhs, rhs_weight, n);
}

PEL_TARGET_FMA static void row_fma_d_avx2(void *out, const void *const *in, const void *coefficients, size_t nterms,
                                          const void *rhs, const void *rhs_weight, size_t n, int stream)
{
    (void)stream;
    fma_row_d(out, in, coefficients, nterms, rhs, rhs_weight, n);
}

static void row_fma_s_generic(void *out, const void *const *in, const void *coefficients, size_t nterms,
                              const void *rhs, const void *rhs_weight, size_t n, int stream)
{
    (void)stream;
    fma_row_s(out, in, coefficients, nterms, rhs, rhs_weight, n);
}

PEL_TARGET_FMA static void row_fma_s_avx2(void *out, const void *const *in, const void *coefficients, size_t nterms,
                                          const void *rhs, const void *rhs_weight, size_t n, int stream)
{
    (void)stream;
    fma_row_s(out, in, coefficients, nterms, rhs, rhs_weight, n);
}

pel__stencil_row_fn pel__stencil_row_kernel_fma(pel_precision precision)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return precision == PEL_FLOAT32 ? row_fma_s_avx2 : row_fma_d_avx2;
#endif
    return precision == PEL_FLOAT32 ? row_fma_s_generic : row_fma_d_generic;
}

void pel__stencil_points_fma(pel_precision precision, void *out, const ptrdiff_t *offset, const void *const *ptrs,
                             const void *coefficients, size_t nterms, const void *rhs, const void *rhs_weight,
                             size_t count)
{
    for (size_t j = 0; j < count; j++) {
        const void *const *p = ptrs + j * nterms;
        if (precision == PEL_FLOAT32) {
            const float *c = coefficients;
            float acc = c[0] * *(const float *)p[0];
            for (size_t k = 1; k < nterms; k++)
                acc = fmaf(c[k], *(const float *)p[k], acc);
            if (rhs)
                acc = fmaf(*(const float *)rhs_weight, ((const float *)rhs)[offset[j]], acc);
            ((float *)out)[offset[j]] = acc;
        } else {
            const double *c = coefficients;
            double acc = c[0] * *(const double *)p[0];
            for (size_t k = 1; k < nterms; k++)
                acc = fma(c[k], *(const double *)p[k], acc);
            if (rhs)
                acc = fma(*(const double *)rhs_weight, ((const double *)rhs)[offset[j]], acc);
            ((double *)out)[offset[j]] = acc;
        }
    }
}
