/* Fully unrolled AVX-512 gemm for tiny items: m = 5..8 (double) or 9..16
 * (float; fewer rows go to the AVX2 instances, below), n <= 8 and k <= 16, A with unit row stride (any column stride; B and C any
 * strides). One instance per (n, k), both compile-time constants, so the
 * whole item is straight-line code: the k columns of A are loaded once
 * (k-masked to the m rows: masked lanes neither fault nor write), each column
 * of C is one accumulator, a chain of k FMAs with B broadcast from memory,
 * and the n chains are independent. The shape is dispatched once per strided
 * run, and the loop over the run's items is inside the instance.
 *
 * Measured before this file on the Xeon VM (pel-bench gemm_batch, 1 thread):
 * the general tile path spent 20 ns on a 2x2 item, 34 ns on a 4x4 and 66 ns
 * on a 4x8x4 (LIBXSMM: 3, 7.5 and 12 ns), nearly all of it the per-item
 * set-up (tile plan, switch, epilogue choice) rather than the arithmetic.
 *
 * Order of operations: acc_j = a_0 b_0j, then acc_j = fma(a_p, b_pj, acc_j)
 * for p = 1..k-1, then the epilogues of gemm_small.c (alpha = beta = 1:
 * acc + C; beta = 0: alpha*acc; otherwise fma(beta, C, alpha*acc)). The same
 * instance serves the one-item and the strided entries, so both forms give
 * the same bits.
 *
 * Full columns (m = 8 double, 16 float) take plain loads and stores, not
 * masked ones with every lane set: the same bits, but masked loads that
 * miss the cache ran 2-3x slower on the AMD EPYC Zen 5 VM (pel-bench
 * gemm_batch --threads 1, 8x8x8 items streamed from memory: 116-145 ns an
 * item masked, 30-56 ns plain; LIBXSMM 30-43 ns), so each instance has a
 * full-column and a masked variant, chosen once per run. The masked variant
 * reads short columns of A whole as well, all but the last column of the
 * run's last item (dtiny_items: why that stays inside the caller's batch):
 * 7x7x16 items went from 0.81 to 1.03-1.06x LIBXSMM, 7x3x9 from 0.98 to
 * 1.26-1.47x. C is still read and written through masks. */
#include "config.h"

#include <immintrin.h>

#include "matrix/kernels/avx2/avx2.h"
#include "matrix/kernels/avx512/avx512.h"

enum { ADD_C = 0, SCALE_ONLY = 1, GENERAL = 2, TINY = 8 };

static inline int tiny_mode(double alpha, double beta)
{
    if (beta == 0.0)
        return SCALE_ONLY;
    return alpha == 1.0 && beta == 1.0 ? ADD_C : GENERAL;
}

/* A masked store's footprint is its whole vector, and a later load that
 * overlaps it, even in masked-off lanes, waits until the store retires (no
 * store forwarding from masked stores): with C loaded column by column
 * between masked stores, a 2-row column blocked the loads of the next column
 * and item (16 ns for a 2x2x2 item, 8 without: pel-bench gemm_batch
 * --threads 1 --size 2:1000). So an item loads all of its
 * C before its first store, and its last column, whose footprint would reach
 * into the next item's C, is stored with plain stores of exactly its m rows
 * (pieces of 8/4/2/1; the branches go the same way for a whole run); the
 * other columns keep one masked store (full columns: one plain store).
 * Loads may stay masked: their footprint reaches only forward, into columns
 * and items not yet written. */
static inline __attribute__((always_inline)) PEL_AVX512 void dstore_c(const int last, size_t m, __mmask8 mask,
                                                                       double *p, __m512d x)
{
    __m256d rest = _mm512_castpd512_pd256(x);
    __m128d tail;

    if (m == 8) {
        _mm512_storeu_pd(p, x);
        return;
    }
    if (!last) {
        _mm512_mask_storeu_pd(p, mask, x);
        return;
    }
    if (m & 4) {
        _mm256_storeu_pd(p, rest);
        rest = _mm512_extractf64x4_pd(x, 1);
        p += 4;
    }
    tail = _mm256_castpd256_pd128(rest);
    if (m & 2) {
        _mm_storeu_pd(p, tail);
        tail = _mm256_extractf128_pd(rest, 1);
        p += 2;
    }
    if (m & 1)
        _mm_store_sd(p, tail);
}

static inline __attribute__((always_inline)) PEL_AVX512 __m512d dload(const int full, __mmask8 mask,
                                                                      const double *p)
{
    return full ? _mm512_loadu_pd(p) : _mm512_maskz_loadu_pd(mask, p);
}

static inline __attribute__((always_inline)) PEL_AVX512 __m512 sload(const int full, __mmask16 mask, const float *p)
{
    return full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask, p);
}

static inline __attribute__((always_inline)) PEL_AVX512 void sstore_c(const int last, size_t m, __mmask16 mask,
                                                                       float *p, __m512 x)
{
    __m256 half = _mm512_castps512_ps256(x);
    __m128 quarter;

    if (m == 16) {
        _mm512_storeu_ps(p, x);
        return;
    }
    if (!last) {
        _mm512_mask_storeu_ps(p, mask, x);
        return;
    }
    if (m & 8) {
        _mm256_storeu_ps(p, half);
        half = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
        p += 8;
    }
    quarter = _mm256_castps256_ps128(half);
    if (m & 4) {
        _mm_storeu_ps(p, quarter);
        quarter = _mm256_extractf128_ps(half, 1);
        p += 4;
    }
    if (m & 2) {
        _mm_storel_pi((__m64 *)p, quarter);
        quarter = _mm_movehl_ps(quarter, quarter);
        p += 2;
    }
    if (m & 1)
        _mm_store_ss(p, quarter);
}

/* Instances are listed by one X-macro table: X(n, k) for n = 1..8, k = 1..16. */
#define TINY_K(X, n) X(n, 1) X(n, 2) X(n, 3) X(n, 4) X(n, 5) X(n, 6) X(n, 7) X(n, 8) \
    X(n, 9) X(n, 10) X(n, 11) X(n, 12) X(n, 13) X(n, 14) X(n, 15) X(n, 16)
#define TINY_ALL(X) TINY_K(X, 1) TINY_K(X, 2) TINY_K(X, 3) TINY_K(X, 4) TINY_K(X, 5) TINY_K(X, 6) TINY_K(X, 7) \
    TINY_K(X, 8)

/* ------------------------------------------------------------- double */

typedef struct dtiny_run {
    size_t count;
    __mmask8 mask;
    int mode;
    size_t m;
    double alpha, beta;
    const double *a, *b;
    double *c;
    ptrdiff_t lda, rsb, csb;
    size_t stride_a, stride_b, stride_c, ldc;
} dtiny_run;

static inline __attribute__((always_inline)) PEL_AVX512 void dtiny_items(const int n, const int k, const int full,
                                                                          const dtiny_run *r)
{
    const __m512d va = _mm512_set1_pd(r->alpha), vb = _mm512_set1_pd(r->beta);
    const __mmask8 mask = r->mask;
    const double *a = r->a, *b = r->b;
    double *c = r->c;

    /* Locals, not r->: a store to C could alias the run's fields. */
    const size_t count = r->count, stride_a = r->stride_a, stride_b = r->stride_b, stride_c = r->stride_c;
    const size_t ldc = r->ldc;
    const ptrdiff_t lda = r->lda, rsb = r->rsb, csb = r->csb;
    const int mode = r->mode;
    const size_t m = full ? 8 : r->m;
    const double alpha = r->alpha;

    /* Short columns of A are read whole too (lanes m..7 then hold whatever
     * follows the column, never stored: every lane is its own sum): such a
     * read ends at most 8 - m elements past the column (m = 5..7 here, and
     * lda >= m), inside the item's next column or, for its last column,
     * the next item (stride_a >= 8), so inside the caller's batch; only the
     * last column of the run's last item stays masked. A is only read, so
     * no other thread writes what is read beyond a column. */
    const __mmask8 followed = stride_a >= 8 ? (__mmask8)0xFF : mask;

    for (size_t i = 0; i < count; i++, a += stride_a, b += stride_b, c += stride_c) {
        __m512d av[16], acc[8];
        /* The last column's mask is a value, not a choice between a plain
         * and a masked instruction: nothing a compiler could fold into the
         * plain load (tests/test_matrix_batch.c puts batches at a page end). */
        const __mmask8 last = i + 1 < count ? followed : mask;
#pragma GCC unroll 16
        for (int p = 0; p < k; p++)
            av[p] = full || p < k - 1 ? _mm512_loadu_pd(a + p * lda) : _mm512_maskz_loadu_pd(last, a + p * lda);
#pragma GCC unroll 16
        for (int p = 0; p < k; p++)
#pragma GCC unroll 8
            for (int j = 0; j < n; j++) {
                __m512d bpj = _mm512_set1_pd(b[p * rsb + j * csb]);
                acc[j] = p == 0 ? _mm512_mul_pd(av[0], bpj) : _mm512_fmadd_pd(av[p], bpj, acc[j]);
            }
        if (mode == ADD_C) {
            /* Every column of C is loaded before the first store. */
            __m512d old[8];
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                old[j] = dload(full, mask, c + (size_t)j * ldc);
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                dstore_c(j == n - 1, m, mask, c + (size_t)j * ldc, _mm512_add_pd(acc[j], old[j]));
        } else if (mode == SCALE_ONLY) {
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                dstore_c(j == n - 1, m, mask, c + (size_t)j * ldc,
                                      alpha == 1.0 ? acc[j] : _mm512_mul_pd(va, acc[j]));
        } else {
            __m512d old[8];
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                old[j] = dload(full, mask, c + (size_t)j * ldc);
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                dstore_c(j == n - 1, m, mask, c + (size_t)j * ldc,
                                        _mm512_fmadd_pd(vb, old[j], _mm512_mul_pd(va, acc[j])));
        }
    }
}

static inline __attribute__((always_inline)) PEL_AVX512 void dtiny_body(const int n, const int k,
                                                                         const dtiny_run *r)
{
    if (r->m == 8)
        dtiny_items(n, k, 1, r);
    else
        dtiny_items(n, k, 0, r);
}

#if PEL_TINY_INSTANCES
#define DTINY_DEFINE(n, k) \
    static PEL_AVX512 void dtiny_##n##_##k(const dtiny_run *r) { dtiny_body(n, k, r); }
TINY_ALL(DTINY_DEFINE)
#define DTINY_ENTRY(n, k) [n - 1][k - 1] = dtiny_##n##_##k,
static void (*const dtiny_table[8][16])(const dtiny_run *) = {TINY_ALL(DTINY_ENTRY)};
#endif

PEL_AVX512 int pel__avx512_dgemm_tiny(size_t count, size_t m, size_t n, size_t k, double alpha, const double *a,
                                      ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a, const double *b, ptrdiff_t rsb,
                                      ptrdiff_t csb, size_t stride_b, double beta, double *c, size_t ldc,
                                      size_t stride_c)
{
    dtiny_run r;

    if (rsa != 1 || m > PEL_GEMM_TINY_MAX || n > PEL_GEMM_TINY_MAX || k > PEL_GEMM_TINY_K_MAX || m == 0 || n == 0 ||
        k == 0)
        return 0;
    /* Up to 4 rows, one ymm of the AVX2 instances beats a masked zmm
     * (pel-bench gemm_batch --threads 1 --size 2:1000,4:1000 on the Xeon VM:
     * 0.38x and 0.85x of LIBXSMM with zmm, 1.41x and 1.22x with ymm):
     * 256-bit operations issue on three ports, 512-bit on two, and a zmm
     * load of a short column splits across cache lines more often. */
    if (m <= 4)
        return pel__avx2_dgemm_tiny(count, m, n, k, alpha, a, rsa, csa, stride_a, b, rsb, csb, stride_b, beta, c,
                                    ldc, stride_c);
    r.count = count;
    r.mask = (__mmask8)((1u << m) - 1u);
    r.m = m;
    r.mode = tiny_mode(alpha, beta);
    r.alpha = alpha;
    r.beta = beta;
    r.a = a;
    r.b = b;
    r.c = c;
    r.lda = csa;
    r.rsb = rsb;
    r.csb = csb;
    r.stride_a = stride_a;
    r.stride_b = stride_b;
    r.stride_c = stride_c;
    r.ldc = ldc;
#if PEL_TINY_INSTANCES
    dtiny_table[n - 1][k - 1](&r);
#else
    dtiny_body((int)n, (int)k, &r);
#endif
    return 1;
}

/* -------------------------------------------------------------- float */

typedef struct stiny_run {
    size_t count;
    __mmask16 mask;
    int mode;
    size_t m;
    float alpha, beta;
    const float *a, *b;
    float *c;
    ptrdiff_t lda, rsb, csb;
    size_t stride_a, stride_b, stride_c, ldc;
} stiny_run;

static inline __attribute__((always_inline)) PEL_AVX512 void stiny_items(const int n, const int k, const int full,
                                                                          const stiny_run *r)
{
    const __m512 va = _mm512_set1_ps(r->alpha), vb = _mm512_set1_ps(r->beta);
    const __mmask16 mask = r->mask;
    const float *a = r->a, *b = r->b;
    float *c = r->c;

    /* Locals, not r->: a store to C could alias the run's fields. */
    const size_t count = r->count, stride_a = r->stride_a, stride_b = r->stride_b, stride_c = r->stride_c;
    const size_t ldc = r->ldc;
    const ptrdiff_t lda = r->lda, rsb = r->rsb, csb = r->csb;
    const int mode = r->mode;
    const size_t m = full ? 16 : r->m;
    const float alpha = r->alpha;

    /* Short columns read whole, as for double (dtiny_items): at most
     * 16 - m elements past a column, inside the item or the next one. */
    const __mmask16 followed = stride_a >= 16 ? (__mmask16)0xFFFF : mask;

    for (size_t i = 0; i < count; i++, a += stride_a, b += stride_b, c += stride_c) {
        __m512 av[16], acc[8];
        const __mmask16 last = i + 1 < count ? followed : mask;
#pragma GCC unroll 16
        for (int p = 0; p < k; p++)
            av[p] = full || p < k - 1 ? _mm512_loadu_ps(a + p * lda) : _mm512_maskz_loadu_ps(last, a + p * lda);
#pragma GCC unroll 8
        for (int j = 0; j < n; j++) {
            const float *bj = b + j * csb;
            acc[j] = _mm512_mul_ps(av[0], _mm512_set1_ps(bj[0]));
#pragma GCC unroll 8
            for (int p = 1; p < k; p++)
                acc[j] = _mm512_fmadd_ps(av[p], _mm512_set1_ps(bj[p * rsb]), acc[j]);
        }
        if (mode == ADD_C) {
            /* Every column of C is loaded before the first store. */
            __m512 old[8];
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                old[j] = sload(full, mask, c + (size_t)j * ldc);
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                sstore_c(j == n - 1, m, mask, c + (size_t)j * ldc, _mm512_add_ps(acc[j], old[j]));
        } else if (mode == SCALE_ONLY) {
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                sstore_c(j == n - 1, m, mask, c + (size_t)j * ldc,
                                      alpha == 1.0f ? acc[j] : _mm512_mul_ps(va, acc[j]));
        } else {
            __m512 old[8];
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                old[j] = sload(full, mask, c + (size_t)j * ldc);
#pragma GCC unroll 8
            for (int j = 0; j < n; j++)
                sstore_c(j == n - 1, m, mask, c + (size_t)j * ldc,
                                        _mm512_fmadd_ps(vb, old[j], _mm512_mul_ps(va, acc[j])));
        }
    }
}

static inline __attribute__((always_inline)) PEL_AVX512 void stiny_body(const int n, const int k,
                                                                         const stiny_run *r)
{
    if (r->m == 16)
        stiny_items(n, k, 1, r);
    else
        stiny_items(n, k, 0, r);
}

#if PEL_TINY_INSTANCES
#define STINY_DEFINE(n, k) \
    static PEL_AVX512 void stiny_##n##_##k(const stiny_run *r) { stiny_body(n, k, r); }
TINY_ALL(STINY_DEFINE)
#define STINY_ENTRY(n, k) [n - 1][k - 1] = stiny_##n##_##k,
static void (*const stiny_table[8][16])(const stiny_run *) = {TINY_ALL(STINY_ENTRY)};
#endif

PEL_AVX512 int pel__avx512_sgemm_tiny(size_t count, size_t m, size_t n, size_t k, float alpha, const float *a,
                                      ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a, const float *b, ptrdiff_t rsb,
                                      ptrdiff_t csb, size_t stride_b, float beta, float *c, size_t ldc,
                                      size_t stride_c)
{
    stiny_run r;

    /* A float column of up to 16 rows is one vector; up to 8 rows, one ymm
     * (the AVX2 instances, as for double). */
    if (rsa != 1 || m > 2 * PEL_GEMM_TINY_MAX || n > PEL_GEMM_TINY_MAX || k > PEL_GEMM_TINY_K_MAX || m == 0 ||
        n == 0 || k == 0)
        return 0;
    if (m <= 8)
        return pel__avx2_sgemm_tiny(count, m, n, k, alpha, a, rsa, csa, stride_a, b, rsb, csb, stride_b, beta, c,
                                    ldc, stride_c);
    r.count = count;
    r.mask = (__mmask16)((1u << m) - 1u);
    r.m = m;
    r.mode = tiny_mode(alpha, beta);
    r.alpha = alpha;
    r.beta = beta;
    r.a = a;
    r.b = b;
    r.c = c;
    r.lda = csa;
    r.rsb = rsb;
    r.csb = csb;
    r.stride_a = stride_a;
    r.stride_b = stride_b;
    r.stride_c = stride_c;
    r.ldc = ldc;
#if PEL_TINY_INSTANCES
    stiny_table[n - 1][k - 1](&r);
#else
    stiny_body((int)n, (int)k, &r);
#endif
    return 1;
}
