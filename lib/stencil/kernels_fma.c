/* Row kernels in the FMA order of terms (pel_stencil_create_fma):
 *
 *     acc = c[0] * u(p + o[0]);  acc = fma(c[k], u(p + o[k]), acc)  (k = 1..)
 *     if rhs:  acc = fma(w, rhs(p), acc)
 *
 * Each fused multiply-add rounds once, as C's fma() does, so a naive loop
 * written with fma() gives the same bits. The bodies are plain loops over
 * the points calling fma(); in the FMA-targeted wrappers gcc turns each into
 * vfmadd over a vector of points (every lane the same scalar operation), in
 * the portable ones they call libm's correctly rounded fma(). Each term is
 * one pass over the output row (it stays in L1).
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

/* One body per precision. */
static inline __attribute__((always_inline)) void fma_row_d(void *out, const void *const *in,
                                                            const void *coefficients, size_t nterms,
                                                            const void *rhs, const void *rhs_weight, size_t n)
{
    const double *const *rows = (const double *const *)in;
    const double w = *(const double *)rhs_weight;
    /* The term loop over the row for every stencil: the register version
     * (fma_fixed_d) ran 12x slower than this on 3d7 (measured, Xeon
     * AVX-512, 1 thread, 128^3), for a cause not yet found. */
    fma_body_d(out, rows, coefficients, nterms, rhs, w, n);
}

static inline __attribute__((always_inline)) void fma_row_s(void *out, const void *const *in,
                                                            const void *coefficients, size_t nterms,
                                                            const void *rhs, const void *rhs_weight, size_t n)
{
    const float *const *rows = (const float *const *)in;
    const float w = *(const float *)rhs_weight;
    fma_body_s(out, rows, coefficients, nterms, rhs, w, n); /* as fma_row_d */
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
