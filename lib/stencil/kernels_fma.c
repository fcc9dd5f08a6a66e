/* Row kernels in the FMA order of terms (pel_stencil_create_fma):
 *
 *     acc = c[0] * u(p + o[0]);  acc = fma(c[k], u(p + o[k]), acc)  (k = 1..)
 *     if rhs:  acc = fma(w, rhs(p), acc)
 *
 * Each fused multiply-add rounds once, as C's fma() does, so a naive loop
 * written with fma() gives the same bits.
 *
 * Register tiling. A strip of 4 vectors of the output (32 doubles with
 * AVX-512, 16 with AVX2) is loaded from each term's row once, accumulated
 * in registers with vfmadd in the documented order and stored once: the
 * output row never goes back through L1 between terms, and the four
 * independent accumulators hide the FMA latency (4 cycles, two ports). The
 * first version made one pass over the row per term and ran at the speed of
 * the L1 (0.82-0.92 of the plain loop on 3d7 256^3 x 100, docs/stencil.md).
 * The 3-, 5- and 7-term stars get the term count fixed at compile time, so
 * coefficients and row pointers stay in registers. Tails use masked loads
 * and stores (lanes are independent, so the bits do not change), the
 * portable kernels libm's correctly rounded fma().
 *
 * This file is compiled with -ffp-contract=off like the other kernels: only
 * the explicit fma() calls and FMA intrinsics fuse. */
#include "stencil/stencil_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PEL_FMA_X86 1
#define PEL_TARGET_AVX2_FMA __attribute__((target("avx2,fma")))
#define PEL_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif

/* ------------------------------------------------------------ portable */

static void row_fma_d_generic(void *out_, const void *const *in_, const void *coefficients, size_t nterms,
                              const void *rhs_, const void *rhs_weight, size_t n, int stream)
{
    double *out = out_;
    const double *const *in = (const double *const *)in_;
    const double *c = coefficients, *rhs = rhs_, w = *(const double *)rhs_weight;
    (void)stream;
    for (size_t i = 0; i < n; i++) {
        double acc = c[0] * in[0][i];
        for (size_t k = 1; k < nterms; k++)
            acc = fma(c[k], in[k][i], acc);
        if (rhs)
            acc = fma(w, rhs[i], acc);
        out[i] = acc;
    }
}

static void row_fma_s_generic(void *out_, const void *const *in_, const void *coefficients, size_t nterms,
                              const void *rhs_, const void *rhs_weight, size_t n, int stream)
{
    float *out = out_;
    const float *const *in = (const float *const *)in_;
    const float *c = coefficients, *rhs = rhs_, w = *(const float *)rhs_weight;
    (void)stream;
    for (size_t i = 0; i < n; i++) {
        float acc = c[0] * in[0][i];
        for (size_t k = 1; k < nterms; k++)
            acc = fmaf(c[k], in[k][i], acc);
        if (rhs)
            acc = fmaf(w, rhs[i], acc);
        out[i] = acc;
    }
}

#ifdef PEL_FMA_X86

/* ------------------------------------------------------------ AVX-512 */

/* Strips of 4 x 8 doubles, then single vectors, then one masked vector. */
PEL_TARGET_AVX512 static inline __attribute__((always_inline)) void fma512_d(double *out, const double *const *in, const double *c,
                                                           const size_t nterms, const double *rhs, double w,
                                                           size_t n)
{
    const __m512d wv = _mm512_set1_pd(w);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512d c0 = _mm512_set1_pd(c[0]);
        const double *p = in[0] + i;
        pel__stencil_prefetch_ahead(in[nterms - 1] + i, 4);
        __m512d a0 = _mm512_mul_pd(c0, _mm512_loadu_pd(p));
        __m512d a1 = _mm512_mul_pd(c0, _mm512_loadu_pd(p + 8));
        __m512d a2 = _mm512_mul_pd(c0, _mm512_loadu_pd(p + 16));
        __m512d a3 = _mm512_mul_pd(c0, _mm512_loadu_pd(p + 24));
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++) {
            const __m512d ck = _mm512_set1_pd(c[k]);
            p = in[k] + i;
            a0 = _mm512_fmadd_pd(ck, _mm512_loadu_pd(p), a0);
            a1 = _mm512_fmadd_pd(ck, _mm512_loadu_pd(p + 8), a1);
            a2 = _mm512_fmadd_pd(ck, _mm512_loadu_pd(p + 16), a2);
            a3 = _mm512_fmadd_pd(ck, _mm512_loadu_pd(p + 24), a3);
        }
        if (rhs) {
            a0 = _mm512_fmadd_pd(wv, _mm512_loadu_pd(rhs + i), a0);
            a1 = _mm512_fmadd_pd(wv, _mm512_loadu_pd(rhs + i + 8), a1);
            a2 = _mm512_fmadd_pd(wv, _mm512_loadu_pd(rhs + i + 16), a2);
            a3 = _mm512_fmadd_pd(wv, _mm512_loadu_pd(rhs + i + 24), a3);
        }
        _mm512_storeu_pd(out + i, a0);
        _mm512_storeu_pd(out + i + 8, a1);
        _mm512_storeu_pd(out + i + 16, a2);
        _mm512_storeu_pd(out + i + 24, a3);
    }
    while (i < n) {
        /* Masked-off lanes are neither read nor written (no fault). */
        const __mmask8 m = n - i >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n - i)) - 1u);
        __m512d a = _mm512_mul_pd(_mm512_set1_pd(c[0]), _mm512_maskz_loadu_pd(m, in[0] + i));
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++)
            a = _mm512_fmadd_pd(_mm512_set1_pd(c[k]), _mm512_maskz_loadu_pd(m, in[k] + i), a);
        if (rhs)
            a = _mm512_fmadd_pd(wv, _mm512_maskz_loadu_pd(m, rhs + i), a);
        _mm512_mask_storeu_pd(out + i, m, a);
        i += 8;
    }
}

PEL_TARGET_AVX512 static inline __attribute__((always_inline)) void fma512_s(float *out, const float *const *in, const float *c,
                                                           const size_t nterms, const float *rhs, float w, size_t n)
{
    const __m512 wv = _mm512_set1_ps(w);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 c0 = _mm512_set1_ps(c[0]);
        const float *p = in[0] + i;
        pel__stencil_prefetch_ahead(in[nterms - 1] + i, 4);
        __m512 a0 = _mm512_mul_ps(c0, _mm512_loadu_ps(p));
        __m512 a1 = _mm512_mul_ps(c0, _mm512_loadu_ps(p + 16));
        __m512 a2 = _mm512_mul_ps(c0, _mm512_loadu_ps(p + 32));
        __m512 a3 = _mm512_mul_ps(c0, _mm512_loadu_ps(p + 48));
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++) {
            const __m512 ck = _mm512_set1_ps(c[k]);
            p = in[k] + i;
            a0 = _mm512_fmadd_ps(ck, _mm512_loadu_ps(p), a0);
            a1 = _mm512_fmadd_ps(ck, _mm512_loadu_ps(p + 16), a1);
            a2 = _mm512_fmadd_ps(ck, _mm512_loadu_ps(p + 32), a2);
            a3 = _mm512_fmadd_ps(ck, _mm512_loadu_ps(p + 48), a3);
        }
        if (rhs) {
            a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(rhs + i), a0);
            a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(rhs + i + 16), a1);
            a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(rhs + i + 32), a2);
            a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(rhs + i + 48), a3);
        }
        _mm512_storeu_ps(out + i, a0);
        _mm512_storeu_ps(out + i + 16, a1);
        _mm512_storeu_ps(out + i + 32, a2);
        _mm512_storeu_ps(out + i + 48, a3);
    }
    while (i < n) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        __m512 a = _mm512_mul_ps(_mm512_set1_ps(c[0]), _mm512_maskz_loadu_ps(m, in[0] + i));
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++)
            a = _mm512_fmadd_ps(_mm512_set1_ps(c[k]), _mm512_maskz_loadu_ps(m, in[k] + i), a);
        if (rhs)
            a = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, rhs + i), a);
        _mm512_mask_storeu_ps(out + i, m, a);
        i += 16;
    }
}

PEL_TARGET_AVX512 static void row_fma_d_avx512(void *out, const void *const *in, const void *coefficients,
                                               size_t nterms, const void *rhs, const void *rhs_weight, size_t n,
                                               int stream)
{
    const double *const *rows = (const double *const *)in;
    const double w = *(const double *)rhs_weight;
    (void)stream;
    switch (nterms) {
    case 3:
        fma512_d(out, rows, coefficients, 3, rhs, w, n);
        return;
    case 5:
        fma512_d(out, rows, coefficients, 5, rhs, w, n);
        return;
    case 7:
        fma512_d(out, rows, coefficients, 7, rhs, w, n);
        return;
    default:
        fma512_d(out, rows, coefficients, nterms, rhs, w, n);
    }
}

PEL_TARGET_AVX512 static void row_fma_s_avx512(void *out, const void *const *in, const void *coefficients,
                                               size_t nterms, const void *rhs, const void *rhs_weight, size_t n,
                                               int stream)
{
    const float *const *rows = (const float *const *)in;
    const float w = *(const float *)rhs_weight;
    (void)stream;
    switch (nterms) {
    case 3:
        fma512_s(out, rows, coefficients, 3, rhs, w, n);
        return;
    case 5:
        fma512_s(out, rows, coefficients, 5, rhs, w, n);
        return;
    case 7:
        fma512_s(out, rows, coefficients, 7, rhs, w, n);
        return;
    default:
        fma512_s(out, rows, coefficients, nterms, rhs, w, n);
    }
}

/* ------------------------------------------------------------ AVX2 */

/* A mask of the first `count` (< 4 or < 8) lanes for maskload/maskstore. */
PEL_TARGET_AVX2_FMA static inline __m256i lanes_d(size_t count)
{
    const __m256i index = _mm256_set_epi64x(3, 2, 1, 0);
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)count), index);
}

PEL_TARGET_AVX2_FMA static inline __m256i lanes_s(size_t count)
{
    const __m256i index = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), index);
}

PEL_TARGET_AVX2_FMA static inline __attribute__((always_inline)) void fma256_d(double *out, const double *const *in, const double *c,
                                                           const size_t nterms, const double *rhs, double w,
                                                           size_t n)
{
    const __m256d wv = _mm256_set1_pd(w);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256d c0 = _mm256_set1_pd(c[0]);
        const double *p = in[0] + i;
        pel__stencil_prefetch_ahead(in[nterms - 1] + i, 2);
        __m256d a0 = _mm256_mul_pd(c0, _mm256_loadu_pd(p));
        __m256d a1 = _mm256_mul_pd(c0, _mm256_loadu_pd(p + 4));
        __m256d a2 = _mm256_mul_pd(c0, _mm256_loadu_pd(p + 8));
        __m256d a3 = _mm256_mul_pd(c0, _mm256_loadu_pd(p + 12));
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++) {
            const __m256d ck = _mm256_set1_pd(c[k]);
            p = in[k] + i;
            a0 = _mm256_fmadd_pd(ck, _mm256_loadu_pd(p), a0);
            a1 = _mm256_fmadd_pd(ck, _mm256_loadu_pd(p + 4), a1);
            a2 = _mm256_fmadd_pd(ck, _mm256_loadu_pd(p + 8), a2);
            a3 = _mm256_fmadd_pd(ck, _mm256_loadu_pd(p + 12), a3);
        }
        if (rhs) {
            a0 = _mm256_fmadd_pd(wv, _mm256_loadu_pd(rhs + i), a0);
            a1 = _mm256_fmadd_pd(wv, _mm256_loadu_pd(rhs + i + 4), a1);
            a2 = _mm256_fmadd_pd(wv, _mm256_loadu_pd(rhs + i + 8), a2);
            a3 = _mm256_fmadd_pd(wv, _mm256_loadu_pd(rhs + i + 12), a3);
        }
        _mm256_storeu_pd(out + i, a0);
        _mm256_storeu_pd(out + i + 4, a1);
        _mm256_storeu_pd(out + i + 8, a2);
        _mm256_storeu_pd(out + i + 12, a3);
    }
    for (; i + 4 <= n; i += 4) {
        __m256d a = _mm256_mul_pd(_mm256_set1_pd(c[0]), _mm256_loadu_pd(in[0] + i));
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++)
            a = _mm256_fmadd_pd(_mm256_set1_pd(c[k]), _mm256_loadu_pd(in[k] + i), a);
        if (rhs)
            a = _mm256_fmadd_pd(wv, _mm256_loadu_pd(rhs + i), a);
        _mm256_storeu_pd(out + i, a);
    }
    if (i < n) {
        /* maskload reads no masked-off lane (no fault past the row). */
        const __m256i m = lanes_d(n - i);
        __m256d a = _mm256_mul_pd(_mm256_set1_pd(c[0]), _mm256_maskload_pd(in[0] + i, m));
        for (size_t k = 1; k < nterms; k++)
            a = _mm256_fmadd_pd(_mm256_set1_pd(c[k]), _mm256_maskload_pd(in[k] + i, m), a);
        if (rhs)
            a = _mm256_fmadd_pd(wv, _mm256_maskload_pd(rhs + i, m), a);
        _mm256_maskstore_pd(out + i, m, a);
    }
}

PEL_TARGET_AVX2_FMA static inline __attribute__((always_inline)) void fma256_s(float *out, const float *const *in, const float *c,
                                                           const size_t nterms, const float *rhs, float w, size_t n)
{
    const __m256 wv = _mm256_set1_ps(w);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 c0 = _mm256_set1_ps(c[0]);
        const float *p = in[0] + i;
        pel__stencil_prefetch_ahead(in[nterms - 1] + i, 2);
        __m256 a0 = _mm256_mul_ps(c0, _mm256_loadu_ps(p));
        __m256 a1 = _mm256_mul_ps(c0, _mm256_loadu_ps(p + 8));
        __m256 a2 = _mm256_mul_ps(c0, _mm256_loadu_ps(p + 16));
        __m256 a3 = _mm256_mul_ps(c0, _mm256_loadu_ps(p + 24));
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++) {
            const __m256 ck = _mm256_set1_ps(c[k]);
            p = in[k] + i;
            a0 = _mm256_fmadd_ps(ck, _mm256_loadu_ps(p), a0);
            a1 = _mm256_fmadd_ps(ck, _mm256_loadu_ps(p + 8), a1);
            a2 = _mm256_fmadd_ps(ck, _mm256_loadu_ps(p + 16), a2);
            a3 = _mm256_fmadd_ps(ck, _mm256_loadu_ps(p + 24), a3);
        }
        if (rhs) {
            a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(rhs + i), a0);
            a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(rhs + i + 8), a1);
            a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(rhs + i + 16), a2);
            a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(rhs + i + 24), a3);
        }
        _mm256_storeu_ps(out + i, a0);
        _mm256_storeu_ps(out + i + 8, a1);
        _mm256_storeu_ps(out + i + 16, a2);
        _mm256_storeu_ps(out + i + 24, a3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_mul_ps(_mm256_set1_ps(c[0]), _mm256_loadu_ps(in[0] + i));
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++)
            a = _mm256_fmadd_ps(_mm256_set1_ps(c[k]), _mm256_loadu_ps(in[k] + i), a);
        if (rhs)
            a = _mm256_fmadd_ps(wv, _mm256_loadu_ps(rhs + i), a);
        _mm256_storeu_ps(out + i, a);
    }
    if (i < n) {
        const __m256i m = lanes_s(n - i);
        __m256 a = _mm256_mul_ps(_mm256_set1_ps(c[0]), _mm256_maskload_ps(in[0] + i, m));
        for (size_t k = 1; k < nterms; k++)
            a = _mm256_fmadd_ps(_mm256_set1_ps(c[k]), _mm256_maskload_ps(in[k] + i, m), a);
        if (rhs)
            a = _mm256_fmadd_ps(wv, _mm256_maskload_ps(rhs + i, m), a);
        _mm256_maskstore_ps(out + i, m, a);
    }
}

PEL_TARGET_AVX2_FMA static void row_fma_d_avx2(void *out, const void *const *in, const void *coefficients,
                                               size_t nterms, const void *rhs, const void *rhs_weight, size_t n,
                                               int stream)
{
    const double *const *rows = (const double *const *)in;
    const double w = *(const double *)rhs_weight;
    (void)stream;
    switch (nterms) {
    case 3:
        fma256_d(out, rows, coefficients, 3, rhs, w, n);
        return;
    case 5:
        fma256_d(out, rows, coefficients, 5, rhs, w, n);
        return;
    case 7:
        fma256_d(out, rows, coefficients, 7, rhs, w, n);
        return;
    default:
        fma256_d(out, rows, coefficients, nterms, rhs, w, n);
    }
}

PEL_TARGET_AVX2_FMA static void row_fma_s_avx2(void *out, const void *const *in, const void *coefficients,
                                               size_t nterms, const void *rhs, const void *rhs_weight, size_t n,
                                               int stream)
{
    const float *const *rows = (const float *const *)in;
    const float w = *(const float *)rhs_weight;
    (void)stream;
    switch (nterms) {
    case 3:
        fma256_s(out, rows, coefficients, 3, rhs, w, n);
        return;
    case 5:
        fma256_s(out, rows, coefficients, 5, rhs, w, n);
        return;
    case 7:
        fma256_s(out, rows, coefficients, 7, rhs, w, n);
        return;
    default:
        fma256_s(out, rows, coefficients, nterms, rhs, w, n);
    }
}

#endif /* PEL_FMA_X86 */

/* The registry: the best table the CPU (or the tests' forced choice,
 * pel__stencil_isa_set) allows. Streaming stores are not used by the FMA
 * kernels (stream is ignored). */
pel__stencil_row_fn pel__stencil_row_kernel_fma(pel_precision precision)
{
    const int single = precision == PEL_FLOAT32;
    switch (pel__stencil_isa_get()) {
#ifdef PEL_FMA_X86
    case PEL__STENCIL_ISA_AVX512:
        return single ? row_fma_s_avx512 : row_fma_d_avx512;
    case PEL__STENCIL_ISA_AVX2:
        return single ? row_fma_s_avx2 : row_fma_d_avx2;
#endif
    default:
        return single ? row_fma_s_generic : row_fma_d_generic;
    }
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
