/* AVX2 block reductions in exactly the reference order (see
 * kernels/reference/reduce.c): lanes 0-3 and 4-7 live in two vectors,
 * products are rounded before they are added (no FMA), the tail goes to
 * lanes 0.. in order, and the lanes are joined in the same tree. */
#include "config.h"

#include <immintrin.h>
#include <math.h>

#include "matrix/kernels/avx2/avx2.h"

static inline __attribute__((always_inline)) PEL_AVX2 double join(__m256d lo, __m256d hi, double lane[8])
{
    _mm256_storeu_pd(lane, lo);
    _mm256_storeu_pd(lane + 4, hi);
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

PEL_AVX2 double pel__avx2_ddot_block(size_t n, const double *x, const double *y)
{
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    double lane[8];
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        lo = _mm256_add_pd(lo, _mm256_mul_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i)));
        hi = _mm256_add_pd(hi, _mm256_mul_pd(_mm256_loadu_pd(x + i + 4), _mm256_loadu_pd(y + i + 4)));
    }
    _mm256_storeu_pd(lane, lo);
    _mm256_storeu_pd(lane + 4, hi);
    for (size_t j = 0; i < n; i++, j++) {
        double p = x[i] * y[i];
        lane[j] += p;
    }
    lo = _mm256_loadu_pd(lane);
    hi = _mm256_loadu_pd(lane + 4);
    return join(lo, hi, lane);
}

PEL_AVX2 double pel__avx2_dsumsq_block(size_t n, const double *x, double scale)
{
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd(), s = _mm256_set1_pd(scale);
    double lane[8];
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m256d v0 = _mm256_mul_pd(_mm256_loadu_pd(x + i), s), v1 = _mm256_mul_pd(_mm256_loadu_pd(x + i + 4), s);
        lo = _mm256_add_pd(lo, _mm256_mul_pd(v0, v0));
        hi = _mm256_add_pd(hi, _mm256_mul_pd(v1, v1));
    }
    _mm256_storeu_pd(lane, lo);
    _mm256_storeu_pd(lane + 4, hi);
    for (size_t j = 0; i < n; i++, j++) {
        double v = x[i] * scale, p = v * v;
        lane[j] += p;
    }
    lo = _mm256_loadu_pd(lane);
    hi = _mm256_loadu_pd(lane + 4);
    return join(lo, hi, lane);
}

PEL_AVX2 double pel__avx2_dasum_block(size_t n, const double *x)
{
    const __m256d mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    double lane[8];
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        lo = _mm256_add_pd(lo, _mm256_and_pd(mask, _mm256_loadu_pd(x + i)));
        hi = _mm256_add_pd(hi, _mm256_and_pd(mask, _mm256_loadu_pd(x + i + 4)));
    }
    _mm256_storeu_pd(lane, lo);
    _mm256_storeu_pd(lane + 4, hi);
    for (size_t j = 0; i < n; i++, j++)
        lane[j] += fabs(x[i]);
    lo = _mm256_loadu_pd(lane);
    hi = _mm256_loadu_pd(lane + 4);
    return join(lo, hi, lane);
}

PEL_AVX2 double pel__avx2_dsumsq_max_block(size_t n, const double *x, double *maxabs)
{
    const __m256d mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd(), mlo = _mm256_setzero_pd(), mhi = mlo;
    double lane[8], m[8], max;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m256d v0 = _mm256_loadu_pd(x + i), v1 = _mm256_loadu_pd(x + i + 4);
        lo = _mm256_add_pd(lo, _mm256_mul_pd(v0, v0));
        hi = _mm256_add_pd(hi, _mm256_mul_pd(v1, v1));
        /* max_pd returns its second operand when either is NaN: NaN skipped. */
        mlo = _mm256_max_pd(_mm256_and_pd(mask, v0), mlo);
        mhi = _mm256_max_pd(_mm256_and_pd(mask, v1), mhi);
    }
    _mm256_storeu_pd(lane, lo);
    _mm256_storeu_pd(lane + 4, hi);
    _mm256_storeu_pd(m, _mm256_max_pd(mlo, mhi));
    max = m[0] > m[1] ? m[0] : m[1];
    max = m[2] > max ? m[2] : max;
    max = m[3] > max ? m[3] : max;
    for (size_t j = 0; i < n; i++, j++) {
        double v = fabs(x[i]), p = x[i] * x[i];
        lane[j] += p;
        max = v > max ? v : max;
    }
    *maxabs = max;
    lo = _mm256_loadu_pd(lane);
    hi = _mm256_loadu_pd(lane + 4);
    return join(lo, hi, lane);
}

static int has_avx2_fma(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const pel__matrix_kernels pel__matrix_kernels_avx2 = {
    "avx2",
    has_avx2_fma,
    PEL_GEMM_SMALL_MAX, PEL_GEMM_SMALL_MAX,
    pel__avx2_dgemm_small,
    pel__avx2_sgemm_small,
    pel__avx2_dgemm_small_strided,
    pel__avx2_sgemm_small_strided,
    pel__avx2_dtranspose_tile,
    pel__avx2_stranspose_tile,
    pel__avx2_ddot_block,
    pel__avx2_dsumsq_block,
    pel__avx2_dasum_block,
    pel__avx2_dsumsq_max_block,
};
