/* Row kernels: the only place where stencil arithmetic happens. One body per
 * precision, compiled twice (a generic x86-64/portable version and an AVX2
 * one) by inlining it into two wrappers with different target attributes;
 * pel__stencil_row_kernel() picks one at stencil creation (BLIS's registry
 * pattern in miniature). Vectorising over i never changes a result: every
 * lane does the same scalar operations in the same order, and this file is
 * compiled with -ffp-contract=off so no FMA merges a product with a sum. */
#include "stencil/stencil_internal.h"

#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PEL_STENCIL_X86 1
#define PEL_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define PEL_TARGET_AVX2
#endif

typedef double v4d __attribute__((vector_size(32)));

/* How far ahead the fixed-term kernels prefetch the last term's row. */
enum { PREFETCH_DOUBLES = 64 };
typedef float v8f __attribute__((vector_size(32)));

/* Unaligned vector loads and stores through memcpy: compiles to one vmovupd. */
static inline __attribute__((always_inline)) v4d load_d(const double *p)
{
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void store_d(double *p, v4d v)
{
    memcpy(p, &v, sizeof v);
}

static inline __attribute__((always_inline)) v8f load_s(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void store_s(float *p, v8f v)
{
    memcpy(p, &v, sizeof v);
}

/* Non-temporal stores: a step's output that does not fit in cache goes
 * straight to memory, skipping the read-for-ownership of each line (a third
 * less memory traffic for a streaming sweep). Only the AVX2 kernels use them;
 * the generic ones receive stream = 0 and this code folds away. The vector
 * comes by pointer: these functions carry the avx target and the generic
 * kernels (without it) contain the calls, and passing a 32-byte vector by
 * value between the two would change the ABI (clang refuses it). Inlined
 * into the AVX2 kernels, the pointer costs nothing. */
#ifdef PEL_STENCIL_X86
__attribute__((target("avx"))) static void stream_d(double *p, const v4d *v)
{
    _mm256_stream_pd(p, (__m256d)*v);
}

__attribute__((target("avx"))) static void stream_s(float *p, const v8f *v)
{
    _mm256_stream_ps(p, (__m256)*v);
}
#else
static void stream_d(double *p, const v4d *v)
{
    store_d(p, *v);
}

static void stream_s(float *p, const v8f *v)
{
    store_s(p, *v);
}
#endif

void pel__stencil_store_fence(void)
{
#ifdef PEL_STENCIL_X86
    _mm_sfence();
#endif
}

/* Points [begin, end) one at a time, in the same order of terms. */
static inline __attribute__((always_inline)) void row_scalar_d(double *restrict out, const double *const *in,
                                                               const double *c, size_t nterms, const double *rhs,
                                                               double w, size_t begin, size_t end)
{
    for (size_t i = begin; i < end; i++) {
        double a = c[0] * in[0][i];
        for (size_t k = 1; k < nterms; k++)
            a = a + c[k] * in[k][i];
        if (rhs)
            a = a + w * rhs[i];
        out[i] = a;
    }
}

static inline __attribute__((always_inline)) void row_scalar_s(float *restrict out, const float *const *in,
                                                               const float *c, size_t nterms, const float *rhs,
                                                               float w, size_t begin, size_t end)
{
    for (size_t i = begin; i < end; i++) {
        float a = c[0] * in[0][i];
        for (size_t k = 1; k < nterms; k++)
            a = a + c[k] * in[k][i];
        if (rhs)
            a = a + w * rhs[i];
        out[i] = a;
    }
}

/* Eight independent accumulators per strip hide the add latency (3-4 cycles,
 * two adders); the term loop stays a loop so one body serves every stencil. */
static inline __attribute__((always_inline)) void row_body_d(double *restrict out, const double *const *in,
                                                             const double *c, size_t nterms,
                                                             const double *rhs, double w, size_t n,
                                                             int stream)
{
    size_t i = 0;
    if (stream) {
        /* Streaming stores write whole 64-byte lines only: a line that mixes
         * a streaming store with a plain one costs a partial write-combining
         * flush and a read-for-ownership (3x slower, measured). So peel to a
         * line boundary with plain stores; the partial line at the end is
         * plain too. Points are independent, so where a stretch starts
         * changes no bit. */
        while (i < n && ((size_t)(out + i) & 63) != 0)
            i++;
        row_scalar_d(out, in, c, nterms, rhs, w, 0, i);
    }
    for (; i + 32 <= n; i += 32) {
        v4d a[8];
        v4d ck = {c[0], c[0], c[0], c[0]};
        _Pragma("GCC unroll 8")
        for (int j = 0; j < 8; j++)
            a[j] = ck * load_d(in[0] + i + 4 * j);
        for (size_t k = 1; k < nterms; k++) {
            const double *p = in[k] + i;
            ck = (v4d){c[k], c[k], c[k], c[k]};
            _Pragma("GCC unroll 8")
            for (int j = 0; j < 8; j++)
                a[j] = a[j] + ck * load_d(p + 4 * j);
        }
        if (rhs) {
            v4d wv = {w, w, w, w};
            _Pragma("GCC unroll 8")
            for (int j = 0; j < 8; j++)
                a[j] = a[j] + wv * load_d(rhs + i + 4 * j);
        }
        _Pragma("GCC unroll 8")
        for (int j = 0; j < 8; j++)
            if (stream)
                stream_d(out + i + 4 * j, &a[j]);
            else
                store_d(out + i + 4 * j, a[j]);
    }
    /* The rest in vectors of 4; a whole line (two vectors) still streams. */
    for (; i + 4 <= n; i += 4) {
        v4d ck = {c[0], c[0], c[0], c[0]};
        v4d a = ck * load_d(in[0] + i);
        for (size_t k = 1; k < nterms; k++) {
            ck = (v4d){c[k], c[k], c[k], c[k]};
            a = a + ck * load_d(in[k] + i);
        }
        if (rhs) {
            v4d wv = {w, w, w, w};
            a = a + wv * load_d(rhs + i);
        }
        /* After the peel a vector starts a line or ends one whose first
         * half streamed. */
        if (stream && (((size_t)(out + i) & 63) != 0 || i + 8 <= n))
            stream_d(out + i, &a);
        else
            store_d(out + i, a);
    }
    row_scalar_d(out, in, c, nterms, rhs, w, i, n);
}

static inline __attribute__((always_inline)) void row_body_s(float *restrict out, const float *const *in,
                                                             const float *c, size_t nterms, const float *rhs,
                                                             float w, size_t n, int stream)
{
    size_t i = 0;
    if (stream) {
        while (i < n && ((size_t)(out + i) & 63) != 0)
            i++;
        row_scalar_s(out, in, c, nterms, rhs, w, 0, i);
    }
    for (; i + 64 <= n; i += 64) {
        v8f a[8];
        v8f ck = {c[0], c[0], c[0], c[0], c[0], c[0], c[0], c[0]};
        _Pragma("GCC unroll 8")
        for (int j = 0; j < 8; j++)
            a[j] = ck * load_s(in[0] + i + 8 * j);
        for (size_t k = 1; k < nterms; k++) {
            const float *p = in[k] + i;
            ck = (v8f){c[k], c[k], c[k], c[k], c[k], c[k], c[k], c[k]};
            _Pragma("GCC unroll 8")
            for (int j = 0; j < 8; j++)
                a[j] = a[j] + ck * load_s(p + 8 * j);
        }
        if (rhs) {
            v8f wv = {w, w, w, w, w, w, w, w};
            _Pragma("GCC unroll 8")
            for (int j = 0; j < 8; j++)
                a[j] = a[j] + wv * load_s(rhs + i + 8 * j);
        }
        _Pragma("GCC unroll 8")
        for (int j = 0; j < 8; j++)
            if (stream)
                stream_s(out + i + 8 * j, &a[j]);
            else
                store_s(out + i + 8 * j, a[j]);
    }
    for (; i + 8 <= n; i += 8) {
        v8f ck = {c[0], c[0], c[0], c[0], c[0], c[0], c[0], c[0]};
        v8f a = ck * load_s(in[0] + i);
        for (size_t k = 1; k < nterms; k++) {
            ck = (v8f){c[k], c[k], c[k], c[k], c[k], c[k], c[k], c[k]};
            a = a + ck * load_s(in[k] + i);
        }
        if (rhs) {
            v8f wv = {w, w, w, w, w, w, w, w};
            a = a + wv * load_s(rhs + i);
        }
        if (stream && (((size_t)(out + i) & 63) != 0 || i + 16 <= n))
            stream_s(out + i, &a);
        else
            store_s(out + i, a);
    }
    row_scalar_s(out, in, c, nterms, rhs, w, i, n);
}

/* A row of a stencil whose term count is a compile-time constant (the
 * common 3-, 5- and 7-point stars): the term loop unrolls, coefficients and
 * row pointers stay in registers, and each strip's loads interleave over the
 * rows. For a memory-bound single sweep this ran 15% faster than the generic
 * body (3d7 256^3, measured). Same operations in the same order per point. */
static inline __attribute__((always_inline)) void row_fixed_d(double *restrict out, const double *const *in,
                                                              const double *c, const size_t nterms,
                                                              const double *rhs, double w, size_t n, int stream)
{
    const double *p[8];
    v4d cv[8];
    const v4d wv = {w, w, w, w};
    size_t i = 0;
    for (size_t k = 0; k < nterms; k++) {
        p[k] = in[k];
        cv[k] = (v4d){c[k], c[k], c[k], c[k]};
    }
    if (stream) {
        while (i < n && ((size_t)(out + i) & 63) != 0)
            i++;
        row_scalar_d(out, in, c, nterms, rhs, w, 0, i);
    }
    for (; i + 16 <= n; i += 16) {
        v4d a[4];
        /* The last term is the row a sweep along axis 0 meets first (its
         * largest offset): prefetching it 512 bytes ahead made single
         * sweeps 3-5% faster (3d7 256^3, 2d5 4096^2; multi-step runs, whose
         * inner levels come from cache, unchanged). A prefetch never
         * faults, even past the end of the row. */
        __builtin_prefetch(p[nterms - 1] + i + PREFETCH_DOUBLES);
        __builtin_prefetch(p[nterms - 1] + i + PREFETCH_DOUBLES + 8);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < 4; j++)
            a[j] = cv[0] * load_d(p[0] + i + 4 * j);
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++)
            _Pragma("GCC unroll 4")
            for (int j = 0; j < 4; j++)
                a[j] = a[j] + cv[k] * load_d(p[k] + i + 4 * j);
        if (rhs)
            _Pragma("GCC unroll 4")
            for (int j = 0; j < 4; j++)
                a[j] = a[j] + wv * load_d(rhs + i + 4 * j);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < 4; j++)
            if (stream)
                stream_d(out + i + 4 * j, &a[j]);
            else
                store_d(out + i + 4 * j, a[j]);
    }
    for (; i + 4 <= n; i += 4) {
        v4d a = cv[0] * load_d(p[0] + i);
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++)
            a = a + cv[k] * load_d(p[k] + i);
        if (rhs)
            a = a + wv * load_d(rhs + i);
        if (stream && (((size_t)(out + i) & 63) != 0 || i + 8 <= n))
            stream_d(out + i, &a);
        else
            store_d(out + i, a);
    }
    row_scalar_d(out, in, c, nterms, rhs, w, i, n);
}

static inline __attribute__((always_inline)) void row_fixed_s(float *restrict out, const float *const *in,
                                                              const float *c, const size_t nterms, const float *rhs,
                                                              float w, size_t n, int stream)
{
    const float *p[8];
    v8f cv[8];
    const v8f wv = {w, w, w, w, w, w, w, w};
    size_t i = 0;
    for (size_t k = 0; k < nterms; k++) {
        p[k] = in[k];
        cv[k] = (v8f){c[k], c[k], c[k], c[k], c[k], c[k], c[k], c[k]};
    }
    if (stream) {
        while (i < n && ((size_t)(out + i) & 63) != 0)
            i++;
        row_scalar_s(out, in, c, nterms, rhs, w, 0, i);
    }
    for (; i + 32 <= n; i += 32) {
        v8f a[4];
        __builtin_prefetch(p[nterms - 1] + i + 2 * PREFETCH_DOUBLES); /* as in row_fixed_d */
        __builtin_prefetch(p[nterms - 1] + i + 2 * PREFETCH_DOUBLES + 16);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < 4; j++)
            a[j] = cv[0] * load_s(p[0] + i + 8 * j);
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++)
            _Pragma("GCC unroll 4")
            for (int j = 0; j < 4; j++)
                a[j] = a[j] + cv[k] * load_s(p[k] + i + 8 * j);
        if (rhs)
            _Pragma("GCC unroll 4")
            for (int j = 0; j < 4; j++)
                a[j] = a[j] + wv * load_s(rhs + i + 8 * j);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < 4; j++)
            if (stream)
                stream_s(out + i + 8 * j, &a[j]);
            else
                store_s(out + i + 8 * j, a[j]);
    }
    for (; i + 8 <= n; i += 8) {
        v8f a = cv[0] * load_s(p[0] + i);
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k < nterms; k++)
            a = a + cv[k] * load_s(p[k] + i);
        if (rhs)
            a = a + wv * load_s(rhs + i);
        if (stream && (((size_t)(out + i) & 63) != 0 || i + 16 <= n))
            stream_s(out + i, &a);
        else
            store_s(out + i, a);
    }
    row_scalar_s(out, in, c, nterms, rhs, w, i, n);
}

void pel__stencil_row_d_generic(void *out, const void *const *in, const void *coefficients, size_t nterms,
                                const void *rhs, const void *rhs_weight, size_t n, int stream)
{
    (void)stream; /* plain stores: the portable build has no streaming store */
    row_body_d(out, (const double *const *)in, coefficients, nterms, rhs, *(const double *)rhs_weight, n, 0);
}

PEL_TARGET_AVX2 void pel__stencil_row_d_avx2(void *out, const void *const *in,
                                                             const void *coefficients, size_t nterms,
                                                             const void *rhs, const void *rhs_weight, size_t n, int stream)
{
    const double *const *rows = (const double *const *)in;
    const double w = *(const double *)rhs_weight;
    switch (nterms) {
    case 3:
        row_fixed_d(out, rows, coefficients, 3, rhs, w, n, stream);
        return;
    case 5:
        row_fixed_d(out, rows, coefficients, 5, rhs, w, n, stream);
        return;
    case 7:
        row_fixed_d(out, rows, coefficients, 7, rhs, w, n, stream);
        return;
    default:
        row_body_d(out, rows, coefficients, nterms, rhs, w, n, stream);
    }
}

void pel__stencil_row_s_generic(void *out, const void *const *in, const void *coefficients, size_t nterms,
                                const void *rhs, const void *rhs_weight, size_t n, int stream)
{
    (void)stream;
    row_body_s(out, (const float *const *)in, coefficients, nterms, rhs, *(const float *)rhs_weight, n, 0);
}

PEL_TARGET_AVX2 void pel__stencil_row_s_avx2(void *out, const void *const *in,
                                                             const void *coefficients, size_t nterms,
                                                             const void *rhs, const void *rhs_weight, size_t n, int stream)
{
    const float *const *rows = (const float *const *)in;
    const float w = *(const float *)rhs_weight;
    switch (nterms) {
    case 3:
        row_fixed_s(out, rows, coefficients, 3, rhs, w, n, stream);
        return;
    case 5:
        row_fixed_s(out, rows, coefficients, 5, rhs, w, n, stream);
        return;
    case 7:
        row_fixed_s(out, rows, coefficients, 7, rhs, w, n, stream);
        return;
    default:
        row_body_s(out, rows, coefficients, nterms, rhs, w, n, stream);
    }
}

/* Single points: point j is out[offset[j]] (elements), with its terms at
 * ptrs[j*nterms + k] and its rhs at rhs[offset[j]]. The scalar loop of the
 * row kernels, so the same bits; one call for all the end points of a row
 * instead of one each (the common stars get the term loop unrolled). */
static inline __attribute__((always_inline)) void points_body_d(double *out, const ptrdiff_t *offset,
                                                                const void *const *ptrs, const double *c,
                                                                size_t nterms, const double *rhs, double w,
                                                                size_t count)
{
    for (size_t j = 0; j < count; j++) {
        const void *const *p = ptrs + j * nterms;
        double a = c[0] * *(const double *)p[0];
        for (size_t k = 1; k < nterms; k++)
            a = a + c[k] * *(const double *)p[k];
        if (rhs)
            a = a + w * rhs[offset[j]];
        out[offset[j]] = a;
    }
}

static inline __attribute__((always_inline)) void points_body_s(float *out, const ptrdiff_t *offset,
                                                                const void *const *ptrs, const float *c,
                                                                size_t nterms, const float *rhs, float w,
                                                                size_t count)
{
    for (size_t j = 0; j < count; j++) {
        const void *const *p = ptrs + j * nterms;
        float a = c[0] * *(const float *)p[0];
        for (size_t k = 1; k < nterms; k++)
            a = a + c[k] * *(const float *)p[k];
        if (rhs)
            a = a + w * rhs[offset[j]];
        out[offset[j]] = a;
    }
}

void pel__stencil_points(pel_precision precision, void *out, const ptrdiff_t *offset, const void *const *ptrs,
                         const void *coefficients, size_t nterms, const void *rhs, const void *rhs_weight,
                         size_t count)
{
    if (precision == PEL_FLOAT32) {
        const float w = *(const float *)rhs_weight;
        switch (nterms) {
        case 5:
            points_body_s(out, offset, ptrs, coefficients, 5, rhs, w, count);
            break;
        case 7:
            points_body_s(out, offset, ptrs, coefficients, 7, rhs, w, count);
            break;
        default:
            points_body_s(out, offset, ptrs, coefficients, nterms, rhs, w, count);
        }
        return;
    }
    {
        const double w = *(const double *)rhs_weight;
        switch (nterms) {
        case 5:
            points_body_d(out, offset, ptrs, coefficients, 5, rhs, w, count);
            break;
        case 7:
            points_body_d(out, offset, ptrs, coefficients, 7, rhs, w, count);
            break;
        default:
            points_body_d(out, offset, ptrs, coefficients, nterms, rhs, w, count);
        }
    }
}

int pel__stencil_isa_supported(pel__stencil_isa isa)
{
    switch (isa) {
    case PEL__STENCIL_ISA_GENERIC:
        return 1;
#ifdef PEL_STENCIL_X86
    case PEL__STENCIL_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PEL__STENCIL_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

/* Set by the tests only (pel__stencil_isa_set); -1: the CPU's choice. */
static int forced_isa = -1;

pel__stencil_isa pel__stencil_isa_get(void)
{
    const int forced = __atomic_load_n(&forced_isa, __ATOMIC_ACQUIRE);
    if (forced >= 0)
        return (pel__stencil_isa)forced;
    if (pel__stencil_isa_supported(PEL__STENCIL_ISA_AVX512))
        return PEL__STENCIL_ISA_AVX512;
    if (pel__stencil_isa_supported(PEL__STENCIL_ISA_AVX2))
        return PEL__STENCIL_ISA_AVX2;
    return PEL__STENCIL_ISA_GENERIC;
}

int pel__stencil_isa_set(int isa)
{
    const int previous = __atomic_load_n(&forced_isa, __ATOMIC_ACQUIRE);
    if (isa < 0)
        __atomic_store_n(&forced_isa, -1, __ATOMIC_RELEASE);
    else if (pel__stencil_isa_supported((pel__stencil_isa)isa))
        __atomic_store_n(&forced_isa, isa, __ATOMIC_RELEASE);
    return previous;
}

pel__stencil_row_fn pel__stencil_row_kernel(pel_precision precision)
{
    /* The separate order has no AVX-512 table of its own yet: AVX2 serves. */
    if (pel__stencil_isa_get() != PEL__STENCIL_ISA_GENERIC)
        return precision == PEL_FLOAT32 ? pel__stencil_row_s_avx2 : pel__stencil_row_d_avx2;
    return precision == PEL_FLOAT32 ? pel__stencil_row_s_generic : pel__stencil_row_d_generic;
}
