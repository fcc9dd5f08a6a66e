/* Fully unrolled AVX2/FMA gemm for tiny items: m, n <= 8, k <= 16, A with
 * unit row stride (any column stride; B and C any strides). One instance per (rows
 * in one or two vectors, n, k), all compile-time constants, so an item is
 * straight-line code; the shape is dispatched once per strided run and the
 * loop over the run's items is inside the instance. C is computed in blocks
 * of up to 4 columns (up to 8 accumulators of the 16 ymm registers), each
 * step of k loading one column of A (masked to the m rows: masked lanes
 * neither fault nor write) and broadcasting B. C is stored with plain
 * stores of exactly its rows (below).
 *
 * Order of operations as in avx512/gemm_tiny.c: acc = a_0 b_0j, then
 * fma(a_p, b_pj, acc) for p = 1..k-1, then the epilogue; the one-item and
 * the strided entries run the same instance, so both give the same bits.
 *
 * Full vectors of rows (m = 4 or 8 double, 8 float) are loaded with plain
 * loads, not masked ones with every lane set: the same bits, but on the AMD
 * EPYC Zen 5 VM masked loads that miss the cache kept the hardware
 * prefetchers from streaming (4x4x4 items from memory, 1 thread: 19.6 ns an
 * item masked, 8.6 ns plain; avx512/gemm_tiny.c has the 8-row case), so
 * each instance has a full-vector and a short-column variant, chosen once
 * per run. The short-column variant (m = 1..3 and 5..7 double, 1..7 float)
 * reads A's columns whole as well, all but the last column of the run's
 * last item (tiny_reads_whole: why that stays inside the caller's batch);
 * C is read through masks.
 * A software prefetch of the items ahead, tried in the batch driver on top
 * of this, helped masked shapes (6x6x6 from memory 25 -> 20 ns) but cost
 * the full ones and items in cache (8x8x8: 32 -> 47 ns; 2x2x2 2 -> 5 ns),
 * and was left out. */
#include "config.h"

#include <immintrin.h>
#include <string.h>

#include "matrix/kernels/avx2/avx2.h"

enum { ADD_C = 0, SCALE_ONLY = 1, GENERAL = 2, BLOCK = 4 };

/* How an instance reads A: full vectors (m a multiple of the vector), or
 * short columns whole but for the last column of the run's last item. */
enum { READ_FULL = 1, READ_WHOLE = 2 };

/* Whether the short columns of an item of k columns, `rows` rows in the
 * last vector (1..lanes-1), may be read as whole vectors of `lanes`: such a
 * read ends lanes - rows elements past the column, which for every column
 * but an item's last is inside the item when the column stride is at least
 * that (lda >= m, as the validation asks for k >= 2, makes this hold for m
 * past one vector; with k = 1 there is no such column, whatever lda). An
 * item's last column is followed by the next item's data when stride_a is
 * at least a vector (the caller's batch is one array, A only read, so no
 * thread writes what is read beyond a column): only the run's last item
 * keeps its last column masked (tests/test_matrix_batch.c puts every shape
 * at a page end). Items that fail it (1 row of double with lda < 3; 1-3
 * rows of float with lda < 8 - m, packed 3x3 float items among them) run
 * on a copy of their A with columns whole vectors apart, PAD_ITEMS at a
 * time: one variant fewer to compile than a masked one (the file's build
 * time). */
static inline int tiny_reads_whole(size_t rows, size_t lanes, size_t k, ptrdiff_t lda)
{
    return k < 2 || lda >= (ptrdiff_t)(lanes - rows);
}

#define PAD_ITEMS 32

/* Copies `count` items' A (m rows, k columns lda apart, items stride_a
 * apart; in elements of `elem` bytes) into pad with columns `lanes` apart
 * and items lanes*k apart, zero past row m. */
static void pad_columns(void *pad, const void *a, size_t elem, size_t count, size_t m, size_t k, size_t lda,
                        size_t stride_a, size_t lanes)
{
    memset(pad, 0, count * k * lanes * elem);
    for (size_t i = 0; i < count; i++)
        for (size_t p = 0; p < k; p++)
            memcpy((char *)pad + (i * k + p) * lanes * elem, (const char *)a + (i * stride_a + p * lda) * elem,
                   m * elem);
}

static inline int tiny_mode(double alpha, double beta)
{
    if (beta == 0.0)
        return SCALE_ONLY;
    return alpha == 1.0 && beta == 1.0 ? ADD_C : GENERAL;
}

#define TINY_K(X, v, n) X(v, n, 1) X(v, n, 2) X(v, n, 3) X(v, n, 4) X(v, n, 5) X(v, n, 6) X(v, n, 7) X(v, n, 8) \
    X(v, n, 9) X(v, n, 10) X(v, n, 11) X(v, n, 12) X(v, n, 13) X(v, n, 14) X(v, n, 15) X(v, n, 16)
#define TINY_NK(X, v) TINY_K(X, v, 1) TINY_K(X, v, 2) TINY_K(X, v, 3) TINY_K(X, v, 4) TINY_K(X, v, 5) \
    TINY_K(X, v, 6) TINY_K(X, v, 7) TINY_K(X, v, 8)

/* ------------------------------------------------------------- double */

typedef struct dtiny_run {
    size_t count;
    __m256i mlo, mhi; /* the rows of each vector */
    size_t m;
    int mode;
    double alpha, beta;
    const double *a, *b;
    double *c;
    ptrdiff_t lda, rsb, csb;
    size_t stride_a, stride_b, stride_c, ldc;
} dtiny_run;

/* A column of C (one vector of up to 4 of its rows) is stored with plain
 * stores of exactly those rows (pieces of 4/2/1; the branches go the same way
 * for a whole run), never with a masked store: a later load overlapping a
 * masked store's footprint waits until the store retires (see
 * avx512/gemm_tiny.c), and a masked store costs several times a plain one on
 * AMD's cores. */
static inline __attribute__((always_inline)) PEL_AVX2 void dstore_rows(size_t rows, double *p, __m256d x)
{
    __m128d tail = _mm256_castpd256_pd128(x);

    if (rows >= 4) {
        _mm256_storeu_pd(p, x);
        return;
    }
    if (rows & 2) {
        _mm_storeu_pd(p, tail);
        tail = _mm256_extractf128_pd(x, 1);
        p += 2;
    }
    if (rows & 1)
        _mm_store_sd(p, tail);
}

static inline __attribute__((always_inline)) PEL_AVX2 void sstore_rows(size_t rows, float *p, __m256 x)
{
    __m128 quarter = _mm256_castps256_ps128(x);

    if (rows >= 8) {
        _mm256_storeu_ps(p, x);
        return;
    }
    if (rows & 4) {
        _mm_storeu_ps(p, quarter);
        quarter = _mm256_extractf128_ps(x, 1);
        p += 4;
    }
    if (rows & 2) {
        _mm_storel_pi((__m64 *)p, quarter);
        quarter = _mm_movehl_ps(quarter, quarter);
        p += 2;
    }
    if (rows & 1)
        _mm_store_ss(p, quarter);
}

static inline __attribute__((always_inline)) PEL_AVX2 __m256d dload(const int full, const double *p, __m256i mask)
{
    return full ? _mm256_loadu_pd(p) : _mm256_maskload_pd(p, mask);
}

static inline __attribute__((always_inline)) PEL_AVX2 void dtiny_items(const int mv, const int n, const int k,
                                                                        const int read, const dtiny_run *r)
{
    /* Locals, not r->: a store to C could alias the run's fields. */
    const size_t count = r->count, stride_a = r->stride_a, stride_b = r->stride_b, stride_c = r->stride_c;
    const size_t ldc = r->ldc;
    const ptrdiff_t lda = r->lda, rsb = r->rsb, csb = r->csb;
    const int mode = r->mode;
    const int full = read == READ_FULL;
    const size_t m = full ? 4 * (size_t)mv : r->m;
    const double alpha = r->alpha;
    const __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(r->beta);
    const __m256i mask[2] = {r->mlo, r->mhi};
    /* READ_WHOLE: the last vector's mask for an item's last column, all
     * lanes where the next item follows (tiny_reads_whole). */
    const __m256i followed = stride_a >= 4 ? _mm256_set1_epi64x(-1) : mask[mv - 1];
    const double *a = r->a, *b = r->b;
    double *c = r->c;

    for (size_t i = 0; i < count; i++, a += stride_a, b += stride_b, c += stride_c) {
        /* A value, not a choice of instruction: nothing a compiler could
         * fold into a plain load of the item's last column. */
        const __m256i last = i + 1 < count ? followed : mask[mv - 1];
#pragma GCC unroll 2
        for (int j0 = 0; j0 < n; j0 += BLOCK) {
            const int nr = n - j0 < BLOCK ? n - j0 : BLOCK;
            __m256d acc[2][BLOCK];
#pragma GCC unroll 16
            for (int p = 0; p < k; p++) {
                __m256d av[2];
#pragma GCC unroll 2
                for (int v = 0; v < mv; v++) {
                    const double *col = a + p * lda + 4 * v;
                    av[v] = full || v < mv - 1 || p < k - 1 ? _mm256_loadu_pd(col) : _mm256_maskload_pd(col, last);
                }
#pragma GCC unroll 4
                for (int j = 0; j < nr; j++) {
                    __m256d bj = _mm256_broadcast_sd(b + p * rsb + (j0 + j) * csb);
#pragma GCC unroll 2
                    for (int v = 0; v < mv; v++)
                        acc[v][j] = p == 0 ? _mm256_mul_pd(av[v], bj) : _mm256_fmadd_pd(av[v], bj, acc[v][j]);
                }
            }
            /* The block's C is loaded before its first store. */
            __m256d old[2][BLOCK];
#pragma GCC unroll 4
            for (int j = 0; j < nr; j++)
#pragma GCC unroll 2
                for (int v = 0; v < mv; v++)
                    old[v][j] = mode == SCALE_ONLY ? _mm256_setzero_pd()
                                                   : dload(full, c + (size_t)(j0 + j) * ldc + 4 * v, mask[v]);
#pragma GCC unroll 4
            for (int j = 0; j < nr; j++)
#pragma GCC unroll 2
                for (int v = 0; v < mv; v++) {
                    __m256d x = acc[v][j];
                    if (mode == ADD_C)
                        x = _mm256_add_pd(x, old[v][j]);
                    else if (mode == SCALE_ONLY)
                        x = alpha == 1.0 ? x : _mm256_mul_pd(va, x);
                    else
                        x = _mm256_fmadd_pd(vb, old[v][j], _mm256_mul_pd(va, x));
                    dstore_rows(v == 0 ? m : m - 4, c + (size_t)(j0 + j) * ldc + 4 * v, x);
                }
        }
    }
}

static inline __attribute__((always_inline)) PEL_AVX2 void dtiny_body(const int mv, const int n, const int k,
                                                                       const dtiny_run *r)
{
    /* Short columns come here only where they can be read whole (the
     * entry pads the others). */
    if (r->m == 4 * (size_t)mv)
        dtiny_items(mv, n, k, READ_FULL, r);
    else
        dtiny_items(mv, n, k, READ_WHOLE, r);
}

#if PEL_TINY_INSTANCES
#define DTINY_DEFINE(v, n, k) \
    static PEL_AVX2 void dtiny_##v##_##n##_##k(const dtiny_run *r) { dtiny_body(v, n, k, r); }
TINY_NK(DTINY_DEFINE, 1)
TINY_NK(DTINY_DEFINE, 2)
#define DTINY_ENTRY(v, n, k) [v - 1][n - 1][k - 1] = dtiny_##v##_##n##_##k,
static void (*const dtiny_table[2][8][16])(const dtiny_run *) = {TINY_NK(DTINY_ENTRY, 1) TINY_NK(DTINY_ENTRY, 2)};
#endif

static PEL_AVX2 void dtiny_run_items(const dtiny_run *r, size_t n, size_t k)
{
#if PEL_TINY_INSTANCES
    dtiny_table[r->m > 4][n - 1][k - 1](r);
#else
    dtiny_body(r->m > 4 ? 2 : 1, (int)n, (int)k, r);
#endif
}

/* The run on copies of A with columns a whole number of vectors apart (4
 * for m <= 4, else 8; tiny_reads_whole); lanes past m are zero. Only m <= 3
 * comes here today; the spacing follows m anyway, so that a change of the
 * predicate cannot put 5 rows in a slot of 4 (the fuzzer's 5 x 5 x 1 items
 * with lda = 1 once did: tests/fuzz/regressions/matrix). */
static PEL_AVX2 void dtiny_run_padded(const dtiny_run *r, size_t n, size_t k)
{
    double pad[PAD_ITEMS * PEL_GEMM_TINY_K_MAX * 8];
    const size_t lanes = r->m > 4 ? 8 : 4;
    dtiny_run piece = *r;

    piece.a = pad;
    piece.lda = (ptrdiff_t)lanes;
    piece.stride_a = lanes * k;
    for (size_t i0 = 0; i0 < r->count; i0 += PAD_ITEMS) {
        piece.count = r->count - i0 < PAD_ITEMS ? r->count - i0 : PAD_ITEMS;
        pad_columns(pad, r->a + i0 * r->stride_a, sizeof *pad, piece.count, r->m, k, (size_t)r->lda, r->stride_a,
                    lanes);
        piece.b = r->b + i0 * r->stride_b;
        piece.c = r->c + i0 * r->stride_c;
        dtiny_run_items(&piece, n, k);
    }
}

PEL_AVX2 int pel__avx2_dgemm_tiny(size_t count, size_t m, size_t n, size_t k, double alpha, const double *a,
                                  ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a, const double *b, ptrdiff_t rsb,
                                  ptrdiff_t csb, size_t stride_b, double beta, double *c, size_t ldc,
                                  size_t stride_c)
{
    const __m256i lo = _mm256_setr_epi64x(0, 1, 2, 3), hi = _mm256_setr_epi64x(4, 5, 6, 7);
    __m256i rows = _mm256_set1_epi64x((long long)m);
    dtiny_run r;

    if (rsa != 1 || m > PEL_GEMM_TINY_MAX || n > PEL_GEMM_TINY_MAX || k > PEL_GEMM_TINY_K_MAX || m == 0 || n == 0 ||
        k == 0)
        return 0;
    r.count = count;
    r.mlo = _mm256_cmpgt_epi64(rows, lo);
    r.mhi = _mm256_cmpgt_epi64(rows, hi);
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
    if (m % 4 != 0 && !tiny_reads_whole(m % 4, 4, k, csa))
        dtiny_run_padded(&r, n, k);
    else
        dtiny_run_items(&r, n, k);
    return 1;
}

/* -------------------------------------------------------------- float */

typedef struct stiny_run {
    size_t count;
    __m256i mask;
    size_t m;
    int mode;
    float alpha, beta;
    const float *a, *b;
    float *c;
    ptrdiff_t lda, rsb, csb;
    size_t stride_a, stride_b, stride_c, ldc;
} stiny_run;

static inline __attribute__((always_inline)) PEL_AVX2 __m256 sload(const int full, const float *p, __m256i mask)
{
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

static inline __attribute__((always_inline)) PEL_AVX2 void stiny_items(const int n, const int k, const int read,
                                                                        const stiny_run *r)
{
    const size_t count = r->count, stride_a = r->stride_a, stride_b = r->stride_b, stride_c = r->stride_c;
    const size_t ldc = r->ldc;
    const ptrdiff_t lda = r->lda, rsb = r->rsb, csb = r->csb;
    const int mode = r->mode;
    const int full = read == READ_FULL;
    const size_t m = full ? 8 : r->m;
    const float alpha = r->alpha;
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(r->beta);
    const __m256i mask = r->mask;
    const __m256i followed = stride_a >= 8 ? _mm256_set1_epi32(-1) : mask; /* as for double */
    const float *a = r->a, *b = r->b;
    float *c = r->c;

    for (size_t i = 0; i < count; i++, a += stride_a, b += stride_b, c += stride_c) {
        const __m256i last = i + 1 < count ? followed : mask;
#pragma GCC unroll 2
        for (int j0 = 0; j0 < n; j0 += BLOCK) {
            const int nr = n - j0 < BLOCK ? n - j0 : BLOCK;
            __m256 acc[BLOCK];
#pragma GCC unroll 16
            for (int p = 0; p < k; p++) {
                __m256 av = full || p < k - 1 ? _mm256_loadu_ps(a + p * lda) : _mm256_maskload_ps(a + p * lda, last);
#pragma GCC unroll 4
                for (int j = 0; j < nr; j++) {
                    __m256 bj = _mm256_broadcast_ss(b + p * rsb + (j0 + j) * csb);
                    acc[j] = p == 0 ? _mm256_mul_ps(av, bj) : _mm256_fmadd_ps(av, bj, acc[j]);
                }
            }
            __m256 old[BLOCK];
#pragma GCC unroll 4
            for (int j = 0; j < nr; j++)
                old[j] = mode == SCALE_ONLY ? _mm256_setzero_ps() : sload(full, c + (size_t)(j0 + j) * ldc, mask);
#pragma GCC unroll 4
            for (int j = 0; j < nr; j++) {
                float *cj = c + (size_t)(j0 + j) * ldc;
                __m256 x = acc[j];
                if (mode == ADD_C)
                    x = _mm256_add_ps(x, old[j]);
                else if (mode == SCALE_ONLY)
                    x = alpha == 1.0f ? x : _mm256_mul_ps(va, x);
                else
                    x = _mm256_fmadd_ps(vb, old[j], _mm256_mul_ps(va, x));
                sstore_rows(m, cj, x);
            }
        }
    }
}

static inline __attribute__((always_inline)) PEL_AVX2 void stiny_body(const int n, const int k, const stiny_run *r)
{
    if (r->m == 8)
        stiny_items(n, k, READ_FULL, r);
    else
        stiny_items(n, k, READ_WHOLE, r); /* the entry padded what cannot be read whole */
}

#if PEL_TINY_INSTANCES
#define STINY_DEFINE(v, n, k) \
    static PEL_AVX2 void stiny_##n##_##k(const stiny_run *r) { stiny_body(n, k, r); }
TINY_NK(STINY_DEFINE, 1)
#define STINY_ENTRY(v, n, k) [n - 1][k - 1] = stiny_##n##_##k,
static void (*const stiny_table[8][16])(const stiny_run *) = {TINY_NK(STINY_ENTRY, 1)};
#endif

static PEL_AVX2 void stiny_run_items(const stiny_run *r, size_t n, size_t k)
{
#if PEL_TINY_INSTANCES
    stiny_table[n - 1][k - 1](r);
#else
    stiny_body((int)n, (int)k, r);
#endif
}

/* As dtiny_run_padded: columns 8 apart (m <= 7 here). */
static PEL_AVX2 void stiny_run_padded(const stiny_run *r, size_t n, size_t k)
{
    float pad[PAD_ITEMS * PEL_GEMM_TINY_K_MAX * 8];
    stiny_run piece = *r;

    piece.a = pad;
    piece.lda = 8;
    piece.stride_a = 8 * k;
    for (size_t i0 = 0; i0 < r->count; i0 += PAD_ITEMS) {
        piece.count = r->count - i0 < PAD_ITEMS ? r->count - i0 : PAD_ITEMS;
        pad_columns(pad, r->a + i0 * r->stride_a, sizeof *pad, piece.count, r->m, k, (size_t)r->lda, r->stride_a, 8);
        piece.b = r->b + i0 * r->stride_b;
        piece.c = r->c + i0 * r->stride_c;
        stiny_run_items(&piece, n, k);
    }
}

PEL_AVX2 int pel__avx2_sgemm_tiny(size_t count, size_t m, size_t n, size_t k, float alpha, const float *a,
                                  ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a, const float *b, ptrdiff_t rsb,
                                  ptrdiff_t csb, size_t stride_b, float beta, float *c, size_t ldc,
                                  size_t stride_c)
{
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    stiny_run r;

    if (rsa != 1 || m > PEL_GEMM_TINY_MAX || n > PEL_GEMM_TINY_MAX || k > PEL_GEMM_TINY_K_MAX || m == 0 || n == 0 ||
        k == 0)
        return 0;
    r.count = count;
    r.mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), lanes);
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
    if (m != 8 && !tiny_reads_whole(m, 8, k, csa))
        stiny_run_padded(&r, n, k);
    else
        stiny_run_items(&r, n, k);
    return 1;
}
