/* Register-blocked small gemm for AVX2/FMA. C is computed in tiles of
 * MR rows x NR columns held in 2*NR vector registers (8 accumulators: enough
 * independent FMA chains to cover the FMA latency on two ports); each step
 * of k loads one column of the A tile and broadcasts NR elements of B.
 * An untransposed A is read in place (rows are contiguous); a transposed A
 * is first packed into column-major work memory. Edge tiles use masked loads
 * and stores, so nothing outside the matrices is touched. */
#include "config.h"

#include <immintrin.h>

#include "matrix/kernels/avx2/avx2.h"

enum { DMR = 8, SMR = 16, NR = 4 };

/* One DMR x nr tile; nr and masked are compile-time constants at every call
 * site (the switch below), so the loops unroll into straight-line code. */
static inline __attribute__((always_inline)) PEL_AVX2 void dtile(const int nr, const int masked, size_t k,
                                                                 double alpha, const double *a, ptrdiff_t lda,
                                                                 const double *b, ptrdiff_t rsb, ptrdiff_t csb,
                                                                 double beta, double *c, size_t ldc, __m256i mlo,
                                                                 __m256i mhi)
{
    __m256d c0[NR], c1[NR];

#pragma GCC unroll 4
    for (int j = 0; j < NR; j++)
        c0[j] = c1[j] = _mm256_setzero_pd();
    for (size_t p = 0; p < k; p++) {
        const double *ap = a + (ptrdiff_t)p * lda;
        const double *bp = b + (ptrdiff_t)p * rsb;
        __m256d a0 = masked ? _mm256_maskload_pd(ap, mlo) : _mm256_loadu_pd(ap);
        __m256d a1 = masked ? _mm256_maskload_pd(ap + 4, mhi) : _mm256_loadu_pd(ap + 4);
#pragma GCC unroll 4
        for (int j = 0; j < nr; j++) {
            __m256d bj = _mm256_broadcast_sd(bp + j * csb);
            c0[j] = _mm256_fmadd_pd(a0, bj, c0[j]);
            c1[j] = _mm256_fmadd_pd(a1, bj, c1[j]);
        }
    }
    __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
#pragma GCC unroll 4
    for (int j = 0; j < nr; j++) {
        double *cj = c + (size_t)j * ldc;
        __m256d r0 = _mm256_mul_pd(va, c0[j]), r1 = _mm256_mul_pd(va, c1[j]);
        if (masked) {
            if (beta != 0.0) {
                r0 = _mm256_fmadd_pd(vb, _mm256_maskload_pd(cj, mlo), r0);
                r1 = _mm256_fmadd_pd(vb, _mm256_maskload_pd(cj + 4, mhi), r1);
            }
            _mm256_maskstore_pd(cj, mlo, r0);
            _mm256_maskstore_pd(cj + 4, mhi, r1);
        } else {
            if (beta != 0.0) {
                r0 = _mm256_fmadd_pd(vb, _mm256_loadu_pd(cj), r0);
                r1 = _mm256_fmadd_pd(vb, _mm256_loadu_pd(cj + 4), r1);
            }
            _mm256_storeu_pd(cj, r0);
            _mm256_storeu_pd(cj + 4, r1);
        }
    }
}

PEL_AVX2 void pel__avx2_dgemm_small(size_t m, size_t n, size_t k, double alpha, const double *a, ptrdiff_t rsa,
                                    ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta,
                                    double *c, size_t ldc, double *work)
{
    const __m256i lo = _mm256_setr_epi64x(0, 1, 2, 3), hi = _mm256_setr_epi64x(4, 5, 6, 7);
    const double *ap = a;
    ptrdiff_t lda = csa;

    if (pel__avx2_dgemm_tiny(1, m, n, k, alpha, a, rsa, csa, 0, b, rsb, csb, 0, beta, c, ldc, 0))
        return;

    if (rsa != 1) {
        for (size_t p = 0; p < k; p++)
            for (size_t i = 0; i < m; i++)
                work[i + p * m] = a[(ptrdiff_t)i * rsa + (ptrdiff_t)p * csa];
        ap = work;
        lda = (ptrdiff_t)m;
    }
    for (size_t j0 = 0; j0 < n; j0 += NR) {
        int nr = n - j0 < NR ? (int)(n - j0) : NR;
        const double *bj = b + (ptrdiff_t)j0 * csb;
        double *cj = c + j0 * ldc;
        for (size_t i0 = 0; i0 < m; i0 += DMR) {
            size_t rows = m - i0 < DMR ? m - i0 : DMR;
            __m256i r = _mm256_set1_epi64x((long long)rows);
            __m256i mlo = _mm256_cmpgt_epi64(r, lo), mhi = _mm256_cmpgt_epi64(r, hi);
            const double *ai = ap + i0;
            double *ci = cj + i0;
            int key = nr * 2 + (rows < DMR);
            switch (key) {
            case 2: dtile(1, 0, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 3: dtile(1, 1, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 4: dtile(2, 0, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 5: dtile(2, 1, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 6: dtile(3, 0, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 7: dtile(3, 1, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 8: dtile(4, 0, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            default: dtile(4, 1, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            }
        }
    }
}

/* The single-precision tile: SMR = 16 rows in two 8-float vectors. */
static inline __attribute__((always_inline)) PEL_AVX2 void stile(const int nr, const int masked, size_t k,
                                                                 float alpha, const float *a, ptrdiff_t lda,
                                                                 const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                                                                 float beta, float *c, size_t ldc, __m256i mlo,
                                                                 __m256i mhi)
{
    __m256 c0[NR], c1[NR];

#pragma GCC unroll 4
    for (int j = 0; j < NR; j++)
        c0[j] = c1[j] = _mm256_setzero_ps();
    for (size_t p = 0; p < k; p++) {
        const float *ap = a + (ptrdiff_t)p * lda;
        const float *bp = b + (ptrdiff_t)p * rsb;
        __m256 a0 = masked ? _mm256_maskload_ps(ap, mlo) : _mm256_loadu_ps(ap);
        __m256 a1 = masked ? _mm256_maskload_ps(ap + 8, mhi) : _mm256_loadu_ps(ap + 8);
#pragma GCC unroll 4
        for (int j = 0; j < nr; j++) {
            __m256 bj = _mm256_broadcast_ss(bp + j * csb);
            c0[j] = _mm256_fmadd_ps(a0, bj, c0[j]);
            c1[j] = _mm256_fmadd_ps(a1, bj, c1[j]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 4
    for (int j = 0; j < nr; j++) {
        float *cj = c + (size_t)j * ldc;
        __m256 r0 = _mm256_mul_ps(va, c0[j]), r1 = _mm256_mul_ps(va, c1[j]);
        if (masked) {
            if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cj, mlo), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cj + 8, mhi), r1);
            }
            _mm256_maskstore_ps(cj, mlo, r0);
            _mm256_maskstore_ps(cj + 8, mhi, r1);
        } else {
            if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cj), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cj + 8), r1);
            }
            _mm256_storeu_ps(cj, r0);
            _mm256_storeu_ps(cj + 8, r1);
        }
    }
}

PEL_AVX2 void pel__avx2_sgemm_small(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t rsa,
                                    ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta,
                                    float *c, size_t ldc, float *work)
{
    const __m256i lo = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i hi = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
    const float *ap = a;
    ptrdiff_t lda = csa;

    if (pel__avx2_sgemm_tiny(1, m, n, k, alpha, a, rsa, csa, 0, b, rsb, csb, 0, beta, c, ldc, 0))
        return;

    if (rsa != 1) {
        for (size_t p = 0; p < k; p++)
            for (size_t i = 0; i < m; i++)
                work[i + p * m] = a[(ptrdiff_t)i * rsa + (ptrdiff_t)p * csa];
        ap = work;
        lda = (ptrdiff_t)m;
    }
    for (size_t j0 = 0; j0 < n; j0 += NR) {
        int nr = n - j0 < NR ? (int)(n - j0) : NR;
        const float *bj = b + (ptrdiff_t)j0 * csb;
        float *cj = c + j0 * ldc;
        for (size_t i0 = 0; i0 < m; i0 += SMR) {
            size_t rows = m - i0 < SMR ? m - i0 : SMR;
            __m256i r = _mm256_set1_epi32((int)rows);
            __m256i mlo = _mm256_cmpgt_epi32(r, lo), mhi = _mm256_cmpgt_epi32(r, hi);
            const float *ai = ap + i0;
            float *ci = cj + i0;
            int key = nr * 2 + (rows < SMR);
            switch (key) {
            case 2: stile(1, 0, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 3: stile(1, 1, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 4: stile(2, 0, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 5: stile(2, 1, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 6: stile(3, 0, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 7: stile(3, 1, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            case 8: stile(4, 0, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            default: stile(4, 1, k, alpha, ai, lda, bj, rsb, csb, beta, ci, ldc, mlo, mhi); break;
            }
        }
    }
}

PEL_AVX2 void pel__avx2_dgemm_small_strided(size_t count, size_t m, size_t n, size_t k, double alpha,
                                            const double *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                            const double *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                            double beta, double *c, size_t ldc, size_t stride_c, double *work)
{
    if (pel__avx2_dgemm_tiny(count, m, n, k, alpha, a, rsa, csa, stride_a, b, rsb, csb, stride_b, beta, c, ldc,
                             stride_c))
        return;
    for (size_t i = 0; i < count; i++)
        pel__avx2_dgemm_small(m, n, k, alpha, a + i * stride_a, rsa, csa, b + i * stride_b, rsb, csb, beta,
                              c + i * stride_c, ldc, work);
}

PEL_AVX2 void pel__avx2_sgemm_small_strided(size_t count, size_t m, size_t n, size_t k, float alpha,
                                            const float *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                            const float *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                            float beta, float *c, size_t ldc, size_t stride_c, float *work)
{
    if (pel__avx2_sgemm_tiny(count, m, n, k, alpha, a, rsa, csa, stride_a, b, rsb, csb, stride_b, beta, c, ldc,
                             stride_c))
        return;
    for (size_t i = 0; i < count; i++)
        pel__avx2_sgemm_small(m, n, k, alpha, a + i * stride_a, rsa, csa, b + i * stride_b, rsb, csb, beta,
                              c + i * stride_c, ldc, work);
}
