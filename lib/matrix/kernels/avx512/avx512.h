/* AVX-512 kernels (see kernels.h for the contracts). Each is compiled with
 * __attribute__((target(...))) and only called after the registry checked
 * the CPU (AVX-512 F, DQ, BW and VL), so the rest of pel stays portable. The
 * table reuses the AVX2 transposes and reductions, which such a CPU runs. */
#ifndef PEL_MATRIX_KERNELS_AVX512_H
#define PEL_MATRIX_KERNELS_AVX512_H

#include "matrix/kernels/kernels.h"

#define PEL_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

PEL_AVX512 void pel__avx512_dgemm_small(size_t m, size_t n, size_t k, double alpha, const double *a, ptrdiff_t rsa,
                                        ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta,
                                        double *c, size_t ldc, double *work);
PEL_AVX512 void pel__avx512_sgemm_small(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t rsa,
                                        ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta,
                                        float *c, size_t ldc, float *work);
PEL_AVX512 void pel__avx512_dgemm_small_strided(size_t count, size_t m, size_t n, size_t k, double alpha,
                                                const double *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                                const double *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                                double beta, double *c, size_t ldc, size_t stride_c, double *work);
PEL_AVX512 void pel__avx512_sgemm_small_strided(size_t count, size_t m, size_t n, size_t k, float alpha,
                                                const float *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                                const float *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                                float beta, float *c, size_t ldc, size_t stride_c, float *work);

/* The tiny kernels (gemm_tiny.c): count items of the strided small gemm
 * (kernels.h) with n, k <= PEL_GEMM_TINY_MAX, m <= PEL_GEMM_TINY_MAX (double)
 * or 2 * PEL_GEMM_TINY_MAX (float, one vector) and rsa = 1. Return 1 when
 * they ran, 0 (nothing touched) when the shape is not theirs. */
PEL_AVX512 int pel__avx512_dgemm_tiny(size_t count, size_t m, size_t n, size_t k, double alpha, const double *a,
                                      ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a, const double *b, ptrdiff_t rsb,
                                      ptrdiff_t csb, size_t stride_b, double beta, double *c, size_t ldc,
                                      size_t stride_c);
PEL_AVX512 int pel__avx512_sgemm_tiny(size_t count, size_t m, size_t n, size_t k, float alpha, const float *a,
                                      ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a, const float *b, ptrdiff_t rsb,
                                      ptrdiff_t csb, size_t stride_b, float beta, float *c, size_t ldc,
                                      size_t stride_c);

#endif
