/* Register-blocked small gemm for AVX-512. C is computed in tiles of up to
 * two 512-bit vectors of rows (16 doubles, 32 floats) by NR = 8 columns, or
 * of four vectors (32 doubles, 64 floats) by 4 columns: 16 accumulators out
 * of the 32 zmm registers, enough independent FMA chains to hide the FMA
 * latency. Each step of k loads one column of the A tile and broadcasts one
 * element of B per column (folded into the FMA as an embedded broadcast).
 * An 8 x 8 double C is one tile, held whole in 8 registers; the 32-row tile
 * reads whole columns of a 32-row A, so each pass streams it.
 *
 * Three epilogues, chosen once per call: alpha = beta = 1 (the C += A*B of
 * a batch) adds C to the product; beta = 0 stores alpha*AB without reading
 * C; otherwise alpha*AB + beta*C. The accumulators start from zero, not from
 * C: starting from C made every FMA chain wait for C to arrive from L3 or
 * memory, and measured 5-7% slower at n = 8 and 16 (docs/matrix.md).
 *
 * Edge tiles use k-masked loads and stores (masked lanes neither fault nor
 * write), so nothing outside the matrices is touched. An untransposed A is
 * read in place; a transposed A is first packed into column-major work
 * memory. Square items of 8, 16 and 32 with unit row strides (the NN
 * column-major case) run on copies of the loop with every size a
 * compile-time constant. */
#include "config.h"

#include <immintrin.h>

#include "matrix/kernels/avx512/avx512.h"

/* Tiles of up to MV vectors x NR columns, or of BIG_MV vectors x BIG_NR
 * columns (16 accumulators either way). */
enum { DV = 8, SV = 16, MV = 2, NR = 8, BIG_MV = 4, BIG_NR = 4, MV_MAX = 4 };

/* The switch key of a tile shape: mv 1..4, nr 1..8, masked 0/1. */
#define TILE_KEY(mv, nr, masked) ((((mv) - 1) * NR + (nr) - 1) * 2 + (masked))

#ifndef SQ8_MV
#define SQ8_MV 1
#define SQ8_NR 8
#endif
#ifndef SQ16_MV
#define SQ16_MV 2
#define SQ16_NR 8
#endif
#ifndef SQ32_MV
#define SQ32_MV 4
#define SQ32_NR 6
#endif

/* How a tile ends (see the top of the file). */
enum { ADD_C = 0, SCALE_ONLY = 1, GENERAL = 2 };

static inline int epilogue_mode(double alpha, double beta)
{
    if (beta == 0.0)
        return SCALE_ONLY;
    return alpha == 1.0 && beta == 1.0 ? ADD_C : GENERAL;
}

/* ------------------------------------------------------------- double */

static inline __attribute__((always_inline)) PEL_AVX512 __m512d dload(const int last_masked, __mmask8 mask,
                                                                       const double *p)
{
    return last_masked ? _mm512_maskz_loadu_pd(mask, p) : _mm512_loadu_pd(p);
}

static inline __attribute__((always_inline)) PEL_AVX512 void dstore(const int last_masked, __mmask8 mask, double *p,
                                                                     __m512d x)
{
    if (last_masked)
        _mm512_mask_storeu_pd(p, mask, x);
    else
        _mm512_storeu_pd(p, x);
}

/* One (mv*8) x nr tile; mv, nr and masked are compile-time constants at
 * every call site, so the loops unroll and the accumulators live in
 * registers. mask selects the rows of the last vector when masked. */
static inline __attribute__((always_inline)) PEL_AVX512 void
dtile(const int mv, const int nr, const int masked, const size_t k, const int mode, double alpha, const double *a,
      ptrdiff_t lda, const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta, double *c, size_t ldc, __mmask8 mask)
{
    __m512d acc[MV_MAX][NR];
    const __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);

#pragma GCC unroll 8
    for (int j = 0; j < nr; j++)
#pragma GCC unroll 4
        for (int v = 0; v < mv; v++)
            acc[v][j] = _mm512_setzero_pd();
#pragma GCC unroll 4
    for (size_t p = 0; p < k; p++) {
        const double *ap = a + (ptrdiff_t)p * lda, *bp = b + (ptrdiff_t)p * rsb;
        __m512d av[MV_MAX];
#pragma GCC unroll 4
        for (int v = 0; v < mv; v++)
            av[v] = dload(masked && v == mv - 1, mask, ap + v * DV);
#pragma GCC unroll 8
        for (int j = 0; j < nr; j++) {
            __m512d bj = _mm512_set1_pd(bp[j * csb]);
#pragma GCC unroll 4
            for (int v = 0; v < mv; v++)
                acc[v][j] = _mm512_fmadd_pd(av[v], bj, acc[v][j]);
        }
    }
    if (mode == ADD_C) {
#pragma GCC unroll 8
        for (int j = 0; j < nr; j++)
#pragma GCC unroll 4
            for (int v = 0; v < mv; v++) {
                double *cv = c + (size_t)j * ldc + v * DV;
                const int edge = masked && v == mv - 1;
                dstore(edge, mask, cv, _mm512_add_pd(acc[v][j], dload(edge, mask, cv)));
            }
    } else if (mode == SCALE_ONLY) {
#pragma GCC unroll 8
        for (int j = 0; j < nr; j++)
#pragma GCC unroll 4
            for (int v = 0; v < mv; v++)
                dstore(masked && v == mv - 1, mask, c + (size_t)j * ldc + v * DV,
                       alpha == 1.0 ? acc[v][j] : _mm512_mul_pd(va, acc[v][j]));
    } else {
#pragma GCC unroll 8
        for (int j = 0; j < nr; j++)
#pragma GCC unroll 4
            for (int v = 0; v < mv; v++) {
                double *cv = c + (size_t)j * ldc + v * DV;
                __m512d old = dload(masked && v == mv - 1, mask, cv);
                dstore(masked && v == mv - 1, mask, cv, _mm512_fmadd_pd(vb, old, _mm512_mul_pd(va, acc[v][j])));
            }
    }
}

/* Runs the tile of the shape given by TILE_KEY(); one switch so that each
 * shape is its own straight-line code. */
#define DTILE_CASE(nr, mv, masked)                                                                                  \
    case TILE_KEY(mv, nr, masked):                                                                                  \
        dtile(mv, nr, masked, k, mode, alpha, a, lda, b, rsb, csb, beta, c, ldc, mask);                             \
        break
#define DTILE_CASES(nr) DTILE_CASE(nr, 1, 0); DTILE_CASE(nr, 1, 1); DTILE_CASE(nr, 2, 0); DTILE_CASE(nr, 2, 1)
#define DTILE_BIG_CASES(nr) DTILE_CASE(nr, 3, 0); DTILE_CASE(nr, 3, 1); DTILE_CASE(nr, 4, 0); DTILE_CASE(nr, 4, 1)

static PEL_AVX512 void dtile_any(int key, size_t k, int mode, double alpha, const double *a, ptrdiff_t lda,
                                 const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta, double *c, size_t ldc,
                                 __mmask8 mask)
{
    switch (key) {
        DTILE_CASES(1);
        DTILE_CASES(2);
        DTILE_CASES(3);
        DTILE_CASES(4);
        DTILE_CASES(5);
        DTILE_CASES(6);
        DTILE_CASES(7);
        DTILE_CASES(8);
        DTILE_BIG_CASES(1);
        DTILE_BIG_CASES(2);
        DTILE_BIG_CASES(3);
        DTILE_BIG_CASES(4);
    default: break;
    }
}

/* A square n x n x n product with A and B read in place column-major (unit
 * row strides), n a multiple of 8 known at compile time. */
static inline __attribute__((always_inline)) PEL_AVX512 void dsquare(const size_t n, const int mv, const int nr,
                                                                      int mode, double alpha, const double *a,
                                                                      ptrdiff_t lda, const double *b, ptrdiff_t ldb,
                                                                      double beta, double *c, size_t ldc)
{
    size_t j0 = 0;
    for (; j0 + nr <= n; j0 += nr)
        for (size_t i0 = 0; i0 < n; i0 += (size_t)mv * DV)
            dtile(mv, nr, 0, n, mode, alpha, a + i0, lda, b + (ptrdiff_t)j0 * ldb, 1, ldb, beta, c + j0 * ldc + i0,
                  ldc, 0xff);
    if (j0 < n) /* n - j0 columns left, a compile-time constant */
        for (size_t i0 = 0; i0 < n; i0 += (size_t)mv * DV)
            dtile(mv, n % nr, 0, n, mode, alpha, a + i0, lda, b + (ptrdiff_t)j0 * ldb, 1, ldb, beta,
                  c + j0 * ldc + i0, ldc, 0xff);
}

static PEL_AVX512 void dsquare8(int mode, double alpha, const double *a, ptrdiff_t lda, const double *b,
                                ptrdiff_t ldb, double beta, double *c, size_t ldc)
{
    dsquare(8, SQ8_MV, SQ8_NR, mode, alpha, a, lda, b, ldb, beta, c, ldc);
}

static PEL_AVX512 void dsquare16(int mode, double alpha, const double *a, ptrdiff_t lda, const double *b,
                                 ptrdiff_t ldb, double beta, double *c, size_t ldc)
{
    dsquare(16, SQ16_MV, SQ16_NR, mode, alpha, a, lda, b, ldb, beta, c, ldc);
}

static PEL_AVX512 void dsquare32(int mode, double alpha, const double *a, ptrdiff_t lda, const double *b,
                                 ptrdiff_t ldb, double beta, double *c, size_t ldc)
{
    dsquare(32, SQ32_MV, SQ32_NR, mode, alpha, a, lda, b, ldb, beta, c, ldc);
}

PEL_AVX512 void pel__avx512_dgemm_small(size_t m, size_t n, size_t k, double alpha, const double *a, ptrdiff_t rsa,
                                        ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta,
                                        double *c, size_t ldc, double *work)
{
    const int mode = epilogue_mode(alpha, beta);
    const double *ap = a;
    ptrdiff_t lda = csa;

    if (pel__avx512_dgemm_tiny(1, m, n, k, alpha, a, rsa, csa, 0, b, rsb, csb, 0, beta, c, ldc, 0))
        return;

    if (rsa == 1 && rsb == 1 && m == n && n == k) {
        switch (m) {
        case 8: dsquare8(mode, alpha, a, csa, b, csb, beta, c, ldc); return;
        case 16: dsquare16(mode, alpha, a, csa, b, csb, beta, c, ldc); return;
        case 32: dsquare32(mode, alpha, a, csa, b, csb, beta, c, ldc); return;
        default: break;
        }
    }
    if (rsa != 1) {
        for (size_t p = 0; p < k; p++)
            for (size_t i = 0; i < m; i++)
                work[i + p * m] = a[(ptrdiff_t)i * rsa + (ptrdiff_t)p * csa];
        ap = work;
        lda = (ptrdiff_t)m;
    }
    /* Row blocks of 32 (4 vectors x 4 columns: A's columns are read whole,
     * so each pass over the block streams it), then one block of the rest:
     * 17-31 rows as 3-4 vectors x 4 columns, up to 16 rows as 1-2 vectors x
     * 8 columns. The A block stays in L1 while B passes by. */
    for (size_t i0 = 0; i0 < m;) {
        size_t rows = m - i0 < BIG_MV * DV ? m - i0 : BIG_MV * DV;
        int mv = (int)((rows + DV - 1) / DV), nr_max = mv > MV ? BIG_NR : NR;
        size_t last = rows - (size_t)(mv - 1) * DV; /* rows of the last vector, 1..8 */
        int masked = last < DV;
        __mmask8 mask = (__mmask8)((1u << last) - 1u);
        for (size_t j0 = 0; j0 < n; j0 += (size_t)nr_max) {
            int nr = n - j0 < (size_t)nr_max ? (int)(n - j0) : nr_max;
            dtile_any(TILE_KEY(mv, nr, masked), k, mode, alpha, ap + i0, lda, b + (ptrdiff_t)j0 * csb, rsb, csb,
                      beta, c + j0 * ldc + i0, ldc, mask);
        }
        i0 += rows;
    }
}

/* A strided run of items: the shape is dispatched once, and the square
 * 8/16/32 NN items run back to back without a call per item (25% of the
 * time of an 8 x 8 item went to calls and dispatch). */
PEL_AVX512 void pel__avx512_dgemm_small_strided(size_t count, size_t m, size_t n, size_t k, double alpha,
                                                const double *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                                const double *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                                double beta, double *c, size_t ldc, size_t stride_c, double *work)
{
    const int mode = epilogue_mode(alpha, beta);

    if (pel__avx512_dgemm_tiny(count, m, n, k, alpha, a, rsa, csa, stride_a, b, rsb, csb, stride_b, beta, c, ldc,
                               stride_c))
        return;

    if (rsa == 1 && rsb == 1 && m == n && n == k && (m == 8 || m == 16 || m == 32)) {
        if (m == 8)
            for (size_t i = 0; i < count; i++)
                dsquare(8, SQ8_MV, SQ8_NR, mode, alpha, a + i * stride_a, csa, b + i * stride_b, csb, beta,
                        c + i * stride_c, ldc);
        else if (m == 16)
            for (size_t i = 0; i < count; i++)
                dsquare(16, SQ16_MV, SQ16_NR, mode, alpha, a + i * stride_a, csa, b + i * stride_b, csb, beta,
                        c + i * stride_c, ldc);
        else
            for (size_t i = 0; i < count; i++)
                dsquare(32, SQ32_MV, SQ32_NR, mode, alpha, a + i * stride_a, csa, b + i * stride_b, csb, beta,
                        c + i * stride_c, ldc);
        return;
    }
    for (size_t i = 0; i < count; i++)
        pel__avx512_dgemm_small(m, n, k, alpha, a + i * stride_a, rsa, csa, b + i * stride_b, rsb, csb, beta,
                                c + i * stride_c, ldc, work);
}

/* -------------------------------------------------------------- float */

static inline __attribute__((always_inline)) PEL_AVX512 __m512 sload(const int last_masked, __mmask16 mask,
                                                                      const float *p)
{
    return last_masked ? _mm512_maskz_loadu_ps(mask, p) : _mm512_loadu_ps(p);
}

static inline __attribute__((always_inline)) PEL_AVX512 void sstore(const int last_masked, __mmask16 mask, float *p,
                                                                     __m512 x)
{
    if (last_masked)
        _mm512_mask_storeu_ps(p, mask, x);
    else
        _mm512_storeu_ps(p, x);
}

/* The single-precision tile: (mv*16) x nr, as dtile(). */
static inline __attribute__((always_inline)) PEL_AVX512 void
stile(const int mv, const int nr, const int masked, const size_t k, const int mode, float alpha, const float *a,
      ptrdiff_t lda, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c, size_t ldc, __mmask16 mask)
{
    __m512 acc[MV_MAX][NR];
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);

#pragma GCC unroll 8
    for (int j = 0; j < nr; j++)
#pragma GCC unroll 4
        for (int v = 0; v < mv; v++)
            acc[v][j] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (size_t p = 0; p < k; p++) {
        const float *ap = a + (ptrdiff_t)p * lda, *bp = b + (ptrdiff_t)p * rsb;
        __m512 av[MV_MAX];
#pragma GCC unroll 4
        for (int v = 0; v < mv; v++)
            av[v] = sload(masked && v == mv - 1, mask, ap + v * SV);
#pragma GCC unroll 8
        for (int j = 0; j < nr; j++) {
            __m512 bj = _mm512_set1_ps(bp[j * csb]);
#pragma GCC unroll 4
            for (int v = 0; v < mv; v++)
                acc[v][j] = _mm512_fmadd_ps(av[v], bj, acc[v][j]);
        }
    }
    if (mode == ADD_C) {
#pragma GCC unroll 8
        for (int j = 0; j < nr; j++)
#pragma GCC unroll 4
            for (int v = 0; v < mv; v++) {
                float *cv = c + (size_t)j * ldc + v * SV;
                const int edge = masked && v == mv - 1;
                sstore(edge, mask, cv, _mm512_add_ps(acc[v][j], sload(edge, mask, cv)));
            }
    } else if (mode == SCALE_ONLY) {
#pragma GCC unroll 8
        for (int j = 0; j < nr; j++)
#pragma GCC unroll 4
            for (int v = 0; v < mv; v++)
                sstore(masked && v == mv - 1, mask, c + (size_t)j * ldc + v * SV,
                       alpha == 1.0f ? acc[v][j] : _mm512_mul_ps(va, acc[v][j]));
    } else {
#pragma GCC unroll 8
        for (int j = 0; j < nr; j++)
#pragma GCC unroll 4
            for (int v = 0; v < mv; v++) {
                float *cv = c + (size_t)j * ldc + v * SV;
                __m512 old = sload(masked && v == mv - 1, mask, cv);
                sstore(masked && v == mv - 1, mask, cv, _mm512_fmadd_ps(vb, old, _mm512_mul_ps(va, acc[v][j])));
            }
    }
}

#define STILE_CASE(nr, mv, masked)                                                                                  \
    case TILE_KEY(mv, nr, masked):                                                                                  \
        stile(mv, nr, masked, k, mode, alpha, a, lda, b, rsb, csb, beta, c, ldc, mask);                             \
        break
#define STILE_CASES(nr) STILE_CASE(nr, 1, 0); STILE_CASE(nr, 1, 1); STILE_CASE(nr, 2, 0); STILE_CASE(nr, 2, 1)
#define STILE_BIG_CASES(nr) STILE_CASE(nr, 3, 0); STILE_CASE(nr, 3, 1); STILE_CASE(nr, 4, 0); STILE_CASE(nr, 4, 1)

static PEL_AVX512 void stile_any(int key, size_t k, int mode, float alpha, const float *a, ptrdiff_t lda,
                                 const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c, size_t ldc,
                                 __mmask16 mask)
{
    switch (key) {
        STILE_CASES(1);
        STILE_CASES(2);
        STILE_CASES(3);
        STILE_CASES(4);
        STILE_CASES(5);
        STILE_CASES(6);
        STILE_CASES(7);
        STILE_CASES(8);
        STILE_BIG_CASES(1);
        STILE_BIG_CASES(2);
        STILE_BIG_CASES(3);
        STILE_BIG_CASES(4);
    default: break;
    }
}

PEL_AVX512 void pel__avx512_sgemm_small(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t rsa,
                                        ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta,
                                        float *c, size_t ldc, float *work)
{
    const int mode = epilogue_mode(alpha, beta);
    const float *ap = a;
    ptrdiff_t lda = csa;

    if (pel__avx512_sgemm_tiny(1, m, n, k, alpha, a, rsa, csa, 0, b, rsb, csb, 0, beta, c, ldc, 0))
        return;

    if (rsa != 1) {
        for (size_t p = 0; p < k; p++)
            for (size_t i = 0; i < m; i++)
                work[i + p * m] = a[(ptrdiff_t)i * rsa + (ptrdiff_t)p * csa];
        ap = work;
        lda = (ptrdiff_t)m;
    }
    for (size_t i0 = 0; i0 < m;) {
        size_t rows = m - i0 < BIG_MV * SV ? m - i0 : BIG_MV * SV;
        int mv = (int)((rows + SV - 1) / SV), nr_max = mv > MV ? BIG_NR : NR;
        size_t last = rows - (size_t)(mv - 1) * SV; /* rows of the last vector, 1..16 */
        int masked = last < SV;
        __mmask16 mask = (__mmask16)((1u << last) - 1u);
        for (size_t j0 = 0; j0 < n; j0 += (size_t)nr_max) {
            int nr = n - j0 < (size_t)nr_max ? (int)(n - j0) : nr_max;
            stile_any(TILE_KEY(mv, nr, masked), k, mode, alpha, ap + i0, lda, b + (ptrdiff_t)j0 * csb, rsb, csb,
                      beta, c + j0 * ldc + i0, ldc, mask);
        }
        i0 += rows;
    }
}


PEL_AVX512 void pel__avx512_sgemm_small_strided(size_t count, size_t m, size_t n, size_t k, float alpha,
                                                const float *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                                const float *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                                float beta, float *c, size_t ldc, size_t stride_c, float *work)
{
    if (pel__avx512_sgemm_tiny(count, m, n, k, alpha, a, rsa, csa, stride_a, b, rsb, csb, stride_b, beta, c, ldc,
                               stride_c))
        return;
    for (size_t i = 0; i < count; i++)
        pel__avx512_sgemm_small(m, n, k, alpha, a + i * stride_a, rsa, csa, b + i * stride_b, rsb, csb, beta,
                                c + i * stride_c, ldc, work);
}
