/* AVX2 transpose tiles, B(cols x rows) = alpha*A^T column-major: 4x4 blocks
 * of doubles (4x4 of floats in SSE registers) are transposed in registers
 * with unpack and lane permutes; the ragged edges are done element by
 * element. Each element is written once as alpha*a, the same value the
 * reference computes. */
#include "config.h"

#include <immintrin.h>
#include <stdint.h>

#include "matrix/kernels/avx2/avx2.h"

/* Transposes the 4x4 block whose columns are r0..r3 (columns of A) into
 * o[0..3] (rows of A, i.e. columns of B). */
static inline __attribute__((always_inline)) PEL_AVX2 void transpose4(__m256d r0, __m256d r1, __m256d r2,
                                                                      __m256d r3, __m256d o[4])
{
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    o[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    o[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    o[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    o[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* One 8 x 8 block: the eight 64-byte lines of A are loaded completely
 * before anything is stored, and eight whole lines of B are written. With a
 * power-of-two leading dimension all lines of A and B that a strip touches
 * fall into the same cache set; reading each line once, in full, before the
 * stores can evict it is what keeps that from thrashing. */
static inline __attribute__((always_inline)) PEL_AVX2 void block8x8(const int stream, __m256d va, const double *a,
                                                                    size_t lda, double *b, size_t ldb)
{
    __m256d lo[8], hi[8], out[4];
#pragma GCC unroll 8
    for (int q = 0; q < 8; q++) {
        lo[q] = _mm256_loadu_pd(a + (size_t)q * lda);
        hi[q] = _mm256_loadu_pd(a + (size_t)q * lda + 4);
    }
#pragma GCC unroll 2
    for (int half = 0; half < 2; half++) {
        const __m256d *r = half ? hi : lo;
        double *bh = b + (size_t)(4 * half) * ldb;
#pragma GCC unroll 2
        for (int g = 0; g < 2; g++) {
            transpose4(_mm256_mul_pd(va, r[4 * g]), _mm256_mul_pd(va, r[4 * g + 1]), _mm256_mul_pd(va, r[4 * g + 2]),
                       _mm256_mul_pd(va, r[4 * g + 3]), out);
#pragma GCC unroll 4
            for (int q = 0; q < 4; q++) {
                if (stream)
                    _mm256_stream_pd(bh + (size_t)q * ldb + 4 * g, out[q]);
                else
                    _mm256_storeu_pd(bh + (size_t)q * ldb + 4 * g, out[q]);
            }
        }
    }
}

PEL_AVX2 void pel__avx2_dtranspose_tile(size_t rows, size_t cols, double alpha, const double *a, size_t lda,
                                        double *b, size_t ldb, int nontemporal)
{
    const __m256d va = _mm256_set1_pd(alpha);
    size_t rows8 = rows & ~(size_t)7, cols8 = cols & ~(size_t)7;
    /* Streaming stores need 32-byte aligned destinations. */
    int stream = nontemporal && ((uintptr_t)b % 32 == 0) && ldb % 4 == 0;

    /* 8 x 8 blocks, rows outer: each block reads 8 whole lines of A and
     * writes 8 whole lines of B; the tile (see transpose.c) keeps the lines
     * of A that the next 8 rows need in cache. */
    for (size_t i = 0; i < rows8; i += 8) {
        const double *ai = a + i;
        double *bi = b + i * ldb;
        if (stream)
            for (size_t j = 0; j < cols8; j += 8)
                block8x8(1, va, ai + j * lda, lda, bi + j, ldb);
        else
            for (size_t j = 0; j < cols8; j += 8)
                block8x8(0, va, ai + j * lda, lda, bi + j, ldb);
        for (size_t ii = i; ii < i + 8; ii++)
            for (size_t j = cols8; j < cols; j++)
                b[j + ii * ldb] = alpha * a[ii + j * lda];
    }
    for (size_t i = rows8; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            b[j + i * ldb] = alpha * a[i + j * lda];
    if (stream)
        _mm_sfence(); /* order the streaming stores before the caller's next writes are seen */
}

PEL_AVX2 void pel__avx2_stranspose_tile(size_t rows, size_t cols, float alpha, const float *a, size_t lda,
                                        float *b, size_t ldb, int nontemporal)
{
    const __m128 va = _mm_set1_ps(alpha);
    size_t rows4 = rows & ~(size_t)3, cols4 = cols & ~(size_t)3;

    for (size_t j = 0; j < cols4; j += 4) {
        const float *a0 = a + j * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (size_t i = 0; i < rows4; i += 4) {
            __m128 r0 = _mm_mul_ps(va, _mm_loadu_ps(a0 + i));
            __m128 r1 = _mm_mul_ps(va, _mm_loadu_ps(a1 + i));
            __m128 r2 = _mm_mul_ps(va, _mm_loadu_ps(a2 + i));
            __m128 r3 = _mm_mul_ps(va, _mm_loadu_ps(a3 + i));
            float *bi = b + j + i * ldb;
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(bi, r0);
            _mm_storeu_ps(bi + ldb, r1);
            _mm_storeu_ps(bi + 2 * ldb, r2);
            _mm_storeu_ps(bi + 3 * ldb, r3);
        }
        for (size_t i = rows4; i < rows; i++)
            for (size_t jj = j; jj < j + 4; jj++)
                b[jj + i * ldb] = alpha * a[i + jj * lda];
    }
    for (size_t j = cols4; j < cols; j++)
        for (size_t i = 0; i < rows; i++)
            b[j + i * ldb] = alpha * a[i + j * lda];
}
