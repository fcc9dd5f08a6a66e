/* Fused row kernels of the forms (double precision, the separate order of
 * terms): the stencil sums, their per-point scales and the form's pointwise
 * terms in one pass over the row, every intermediate in registers.
 *
 *     for each group g of terms [first[g], first[g+1]):
 *         s = c[f] * in[f][i];  s = s + c[k] * in[k][i]  (k = f+1 .. in order)
 *         if scale[g]:  s = scale[g][i] * s
 *         acc = (g == 0) ? s : acc + s
 *     if center:  acc = acc + center[i] * u[i]          (factored form, b)
 *     if rhs:     acc = acc + w * rhs[i]
 *     if two levels:  acc = (alpha * u[i] + beta * v[i]) + acc
 *
 * This is exactly the order of the passes the forms made before (one pass
 * per factor over the output row; forms.c, system.c), each operation
 * rounded once, so the bits are those of the naive loops of the tests:
 * products and sums commute bit for bit in IEEE arithmetic, and
 * -ffp-contract=off keeps every product separate from its sum. The passes
 * moved the row through L1 once per factor, and a system's coupling went
 * through a scratch row; here a strip of 32 (AVX-512) or 16 points is loaded
 * from each input once and stored once.
 *
 * The bodies work on GCC vector extensions of the register width: 8
 * doubles for AVX-512 (strips of 4 vectors), 4 for AVX2 (4 vectors) and
 * the portable build (1 vector, split into SSE2 halves by gcc). */
#include "stencil/stencil_internal.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define PEL_FUSED_X86 1
#define PEL_TARGET_FUSED_AVX2 __attribute__((target("avx2")))
#define PEL_TARGET_FUSED_AVX512 __attribute__((target("avx512f,avx2")))
#include <immintrin.h>
#endif

typedef double v8d __attribute__((vector_size(64)));

PEL_TARGET_FUSED_AVX512 static inline __attribute__((always_inline)) v8d load8(const double *p)
{
    v8d v;
    memcpy(&v, p, sizeof v);
    return v;
}

PEL_TARGET_FUSED_AVX512 static inline __attribute__((always_inline)) void store8(double *p, v8d v)
{
    memcpy(p, &v, sizeof v);
}

/* A broadcast, written as a shuffle: gcc 12 built the plain initializer
 * {x, x, ...} inside the AVX-512 kernel's loops lane by lane (eight masked
 * broadcasts per coefficient); the shuffle is one vbroadcastsd. */
#ifndef __clang__
typedef long long v8i __attribute__((vector_size(64)));
#endif
PEL_TARGET_FUSED_AVX512 static inline __attribute__((always_inline)) v8d splat8(double x)
{
    const v8d v = {x};
#ifdef __clang__ /* clang's spelling of the same shuffle */
    return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0);
#else
    return __builtin_shuffle(v, (v8i){0, 0, 0, 0, 0, 0, 0, 0});
#endif
}

/* One point, the same operations in the same order (the tail and n = 1). */
static inline __attribute__((always_inline)) double fused_point(const double *const *in, const pel__stencil_fused *f,
                                                                const pel__stencil_fused_inputs *x, size_t i)
{
    const double *c = f->coefficients;
    double acc = 0.0;
    for (size_t g = 0; g < f->ngroups; g++) {
        size_t k = f->first[g];
        double s = c[k] * in[k][i];
        for (k++; k < f->first[g + 1]; k++)
            s = s + c[k] * in[k][i];
        if (x->scale[g])
            s = x->scale[g][i] * s;
        acc = g == 0 ? s : acc + s;
    }
    if (x->center)
        acc = acc + x->center[i] * x->u[i];
    if (x->rhs)
        acc = acc + f->rhs_weight * x->rhs[i];
    if (f->two_level)
        acc = (f->alpha * x->u[i] + f->beta * x->v[i]) + acc;
    return acc;
}

#ifdef PEL_FUSED_X86
/* Loads and stores of one AVX-512 strip: whole vectors, or (masked) the
 * lanes of mask m only; masked-off lanes are neither read nor written, so
 * a row's last vector never touches memory past the row. */
PEL_TARGET_FUSED_AVX512 static inline __attribute__((always_inline)) v8d load8m(const double *p, const int masked,
                                                                              __mmask8 m)
{
    return masked ? (v8d)_mm512_maskz_loadu_pd(m, p) : load8(p);
}

PEL_TARGET_FUSED_AVX512 static inline __attribute__((always_inline)) void store8m(double *p, v8d v,
                                                                               const int masked, __mmask8 m)
{
    if (masked)
        _mm512_mask_storeu_pd(p, m, (__m512d)v);
    else
        store8(p, v);
}

/* Points i .. i + 8*nvec - 1 of the row (masked: the lanes of m of one
 * vector), every input loaded once and the output stored once. */
PEL_TARGET_FUSED_AVX512 static inline __attribute__((always_inline)) void
fused_strip(double *out, const double *const *in, const pel__stencil_fused *f, const pel__stencil_fused_inputs *x,
            size_t i, const int nvec, const size_t fixed, const int masked, __mmask8 m)
{
    const double *c = f->coefficients;
    v8d acc[4] = {0}, s[4] = {0}; /* (set by group 0; zeros quiet gcc) */
    for (size_t g = 0; g < f->ngroups; g++) {
        size_t k = fixed ? g * fixed : f->first[g];
        const size_t end = fixed ? k + fixed : f->first[g + 1];
        v8d ck = splat8(c[k]);
        const double *p = in[k] + i;
        if (nvec == 4)
            pel__stencil_prefetch_ahead(in[end - 1] + i, 4);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            s[j] = ck * load8m(p + 8 * j, masked, m);
        _Pragma("GCC unroll 8")
        for (k++; k < end; k++) {
            ck = splat8(c[k]);
            p = in[k] + i;
            _Pragma("GCC unroll 4")
            for (int j = 0; j < nvec; j++)
                s[j] = s[j] + ck * load8m(p + 8 * j, masked, m);
        }
        if (x->scale[g]) {
            const double *q = x->scale[g] + i;
            _Pragma("GCC unroll 4")
            for (int j = 0; j < nvec; j++)
                s[j] = load8m(q + 8 * j, masked, m) * s[j];
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            acc[j] = g == 0 ? s[j] : acc[j] + s[j];
    }
    if (x->center) {
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            acc[j] = acc[j] + load8m(x->center + i + 8 * j, masked, m) * load8m(x->u + i + 8 * j, masked, m);
    }
    if (x->rhs) {
        const v8d w = splat8(f->rhs_weight);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            acc[j] = acc[j] + w * load8m(x->rhs + i + 8 * j, masked, m);
    }
    if (f->two_level) {
        const v8d alpha = splat8(f->alpha), beta = splat8(f->beta);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            acc[j] = (alpha * load8m(x->u + i + 8 * j, masked, m) + beta * load8m(x->v + i + 8 * j, masked, m)) +
                     acc[j];
    }
    _Pragma("GCC unroll 4")
    for (int j = 0; j < nvec; j++)
        store8m(out + i + 8 * j, acc[j], masked, m);
}

/* Strips of 4 vectors, then single vectors, then one masked vector: the
 * scalar tail this replaced (up to 31 points through fused_point) cost as
 * much as the vector part on a 256-point row of the radius-4 wave (24 of
 * its 248 vector points, 25 terms each). The lanes are independent, so the
 * bits are those of the scalar loop. */
PEL_TARGET_FUSED_AVX512 static inline __attribute__((always_inline)) void
fused_body(double *out, const double *const *in, const pel__stencil_fused *f, const pel__stencil_fused_inputs *x,
           size_t n, const int nvec, const size_t fixed)
{
    const size_t step = 8 * (size_t)nvec;
    size_t i = 0;
    for (; i + step <= n; i += step)
        fused_strip(out, in, f, x, i, nvec, fixed, 0, 0xff);
    for (; i + 8 <= n; i += 8)
        fused_strip(out, in, f, x, i, 1, fixed, 0, 0xff);
    if (i < n)
        fused_strip(out, in, f, x, i, 1, fixed, 1, (__mmask8)((1u << (n - i)) - 1u));
}
#endif

/* The AVX2 and portable builds work on 4-double vectors: gcc splits an
 * 8-double vector there through the stack (callgrind: twice the
 * instructions), so they get the same body on the register width. */
typedef double v4d __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) v4d load4(const double *p)
{
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void store4(double *p, v4d v)
{
    memcpy(p, &v, sizeof v);
}

static inline __attribute__((always_inline)) v4d splat4(double x)
{
    return (v4d){x, x, x, x};
}

/* Points i .. i + 4*nvec - 1 of the row, as fused_strip. */
static inline __attribute__((always_inline)) void fused_strip4(double *out, const double *const *in,
                                                              const pel__stencil_fused *f,
                                                              const pel__stencil_fused_inputs *x, size_t i,
                                                              const int nvec, const size_t fixed)
{
    const double *c = f->coefficients;
    v4d acc[4] = {0}, s[4] = {0};
    for (size_t g = 0; g < f->ngroups; g++) {
        size_t k = fixed ? g * fixed : f->first[g];
        const size_t end = fixed ? k + fixed : f->first[g + 1];
        v4d ck = splat4(c[k]);
        const double *p = in[k] + i;
        if (nvec == 4)
            pel__stencil_prefetch_ahead(in[end - 1] + i, 2);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            s[j] = ck * load4(p + 4 * j);
        _Pragma("GCC unroll 8")
        for (k++; k < end; k++) {
            ck = splat4(c[k]);
            p = in[k] + i;
            _Pragma("GCC unroll 4")
            for (int j = 0; j < nvec; j++)
                s[j] = s[j] + ck * load4(p + 4 * j);
        }
        if (x->scale[g]) {
            const double *q = x->scale[g] + i;
            _Pragma("GCC unroll 4")
            for (int j = 0; j < nvec; j++)
                s[j] = load4(q + 4 * j) * s[j];
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            acc[j] = g == 0 ? s[j] : acc[j] + s[j];
    }
    if (x->center) {
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            acc[j] = acc[j] + load4(x->center + i + 4 * j) * load4(x->u + i + 4 * j);
    }
    if (x->rhs) {
        const v4d w = splat4(f->rhs_weight);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            acc[j] = acc[j] + w * load4(x->rhs + i + 4 * j);
    }
    if (f->two_level) {
        const v4d alpha = splat4(f->alpha), beta = splat4(f->beta);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < nvec; j++)
            acc[j] = (alpha * load4(x->u + i + 4 * j) + beta * load4(x->v + i + 4 * j)) + acc[j];
    }
    _Pragma("GCC unroll 4")
    for (int j = 0; j < nvec; j++)
        store4(out + i + 4 * j, acc[j]);
}

/* Strips of nvec vectors, then single vectors (up to 15 scalar points
 * before), then at most 3 points through fused_point. */
static inline __attribute__((always_inline)) void fused_body4(double *out, const double *const *in,
                                                             const pel__stencil_fused *f,
                                                             const pel__stencil_fused_inputs *x, size_t n,
                                                             const int nvec, const size_t fixed)
{
    const size_t step = 4 * (size_t)nvec;
    size_t i = 0;
    for (; i + step <= n; i += step)
        fused_strip4(out, in, f, x, i, nvec, fixed);
    for (; nvec > 1 && i + 4 <= n; i += 4)
        fused_strip4(out, in, f, x, i, 1, fixed);
    for (; i < n; i++)
        out[i] = fused_point(in, f, x, i);
}

/* The group size when every group has 5 or 7 terms (the 2-D 5-point and
 * 3-D 7-point stars of the forms and systems): the kernels then run with it
 * fixed at compile time, the term loop unrolled (the runtime loop cost a
 * third more instructions than the passes it replaced, callgrind). */
static size_t uniform_group(const pel__stencil_fused *f)
{
    const size_t size = f->first[1] - f->first[0];
    if (size != 5 && size != 7)
        return 0;
    for (size_t g = 1; g < f->ngroups; g++)
        if (f->first[g + 1] - f->first[g] != size || f->first[g] != g * size)
            return 0;
    return f->first[0] == 0 ? size : 0;
}

static void fused_generic(double *out, const double *const *in, const pel__stencil_fused *f,
                          const pel__stencil_fused_inputs *x, size_t n)
{
    fused_body4(out, in, f, x, n, 1, 0);
}

#ifdef PEL_FUSED_X86
PEL_TARGET_FUSED_AVX2 static void fused_avx2(double *out, const double *const *in, const pel__stencil_fused *f,
                                             const pel__stencil_fused_inputs *x, size_t n)
{
    switch (uniform_group(f)) {
    case 5:
        fused_body4(out, in, f, x, n, 4, 5);
        return;
    case 7:
        fused_body4(out, in, f, x, n, 4, 7);
        return;
    default:
        fused_body4(out, in, f, x, n, 4, 0);
    }
}

PEL_TARGET_FUSED_AVX512 static void fused_avx512(double *out, const double *const *in, const pel__stencil_fused *f,
                                                 const pel__stencil_fused_inputs *x, size_t n)
{
    switch (uniform_group(f)) {
    case 5:
        fused_body(out, in, f, x, n, 4, 5);
        return;
    case 7:
        fused_body(out, in, f, x, n, 4, 7);
        return;
    default:
        fused_body(out, in, f, x, n, 4, 0);
    }
}
#endif

pel__stencil_fused_fn pel__stencil_fused_kernel(void)
{
    switch (pel__stencil_isa_get()) {
#ifdef PEL_FUSED_X86
    case PEL__STENCIL_ISA_AVX512:
        return fused_avx512;
    case PEL__STENCIL_ISA_AVX2:
        return fused_avx2;
#endif
    default:
        return fused_generic;
    }
}
