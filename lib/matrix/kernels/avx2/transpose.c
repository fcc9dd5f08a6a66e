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

/* One 4-row x 8-column block of A: eight half lines read, four whole
 * 64-byte lines of B written, so no line is ever written twice and a
 * power-of-two leading dimension cannot make the tile thrash a cache set. */
static inline __attribute__((always_inline)) PEL_AVX2 void block4x8(const int stream, __m256d va, const double *a,
                                                                    size_t lda, double *b, size_t ldb)
{
    __m256d r[8], lo[4], hi[4];
    for (int q = 0; q < 8; q++)
        r[q] = _mm256_mul_pd(va, _mm256_loadu_pd(a + (size_t)q * lda));
    transpose4(r[0], r[1], r[2], r[3], lo);
    transpose4(r[4], r[5], r[6], r[7], hi);
    for (int q = 0; q < 4; q++) {
        double *bq = b + (size_t)q * ldb;
        if (stream) {
            _mm256_stream_pd(bq, lo[q]);
            _mm256_stream_pd(bq + 4, hi[q]);
        } else {
            _mm256_storeu_pd(bq, lo[q]);
            _mm256_storeu_pd(bq + 4, hi[q]);
        }
    }
}

PEL_AVX2 void pel__avx2_dtranspose_tile(size_t rows, size_t cols, double alpha, const double *a, size_t lda,
                                        double *b, size_t ldb, int nontemporal)
{
    const __m256d va = _mm256_set1_pd(alpha);
    size_t rows4 = rows & ~(size_t)3, cols8 = cols & ~(size_t)7;
    /* Streaming stores need 32-byte aligned destinations. */
    int stream = nontemporal && ((uintptr_t)b % 32 == 0) && ldb % 4 == 0;

    for (size_t j = 0; j < cols8; j += 8) {
        const double *aj = a + j * lda;
        double *bj = b + j;
        if (stream)
            for (size_t i = 0; i < rows4; i += 4)
                block4x8(1, va, aj + i, lda, bj + i * ldb, ldb);
        else
            for (size_t i = 0; i < rows4; i += 4)
                block4x8(0, va, aj + i, lda, bj + i * ldb, ldb);
        for (size_t i = rows4; i < rows; i++)
            for (size_t jj = j; jj < j + 8; jj++)
                b[jj + i * ldb] = alpha * a[i + jj * lda];
    }
    for (size_t j = cols8; j < cols; j++)
        for (size_t i = 0; i < rows; i++)
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
