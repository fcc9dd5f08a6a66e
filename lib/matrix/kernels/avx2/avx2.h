/* AVX2/FMA kernels (see kernels.h for the contracts). Each is compiled with
 * __attribute__((target("avx2,fma"))) and only called after the registry
 * checked the CPU, so the rest of pel stays portable. */
#ifndef PEL_MATRIX_KERNELS_AVX2_H
#define PEL_MATRIX_KERNELS_AVX2_H

#include "matrix/kernels/kernels.h"

#define PEL_AVX2 __attribute__((target("avx2,fma")))

PEL_AVX2 void pel__avx2_dgemm_small(size_t m, size_t n, size_t k, double alpha, const double *a, ptrdiff_t rsa,
                                    ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta,
                                    double *c, size_t ldc, double *work);
PEL_AVX2 void pel__avx2_sgemm_small(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t rsa,
                                    ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta,
                                    float *c, size_t ldc, float *work);
/* The tiny kernels (gemm_tiny.c): count items of the strided small gemm
 * (kernels.h) with m, n, k <= PEL_GEMM_TINY_MAX and rsa = 1, each at
 * a + i*stride_a, b + i*stride_b, c + i*stride_c (strides in elements).
 * Return 1 when they ran, 0 (nothing touched) when the shape is not theirs. */
PEL_AVX2 int pel__avx2_dgemm_tiny(size_t count, size_t m, size_t n, size_t k, double alpha, const double *a,
                                  ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a, const double *b, ptrdiff_t rsb,
                                  ptrdiff_t csb, size_t stride_b, double beta, double *c, size_t ldc,
                                  size_t stride_c);
PEL_AVX2 int pel__avx2_sgemm_tiny(size_t count, size_t m, size_t n, size_t k, float alpha, const float *a,
                                  ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a, const float *b, ptrdiff_t rsb,
                                  ptrdiff_t csb, size_t stride_b, float beta, float *c, size_t ldc,
                                  size_t stride_c);
/* Strided runs: the tiny kernels when the shape is theirs, else the
 * one-item kernel per item. */
PEL_AVX2 void pel__avx2_dgemm_small_strided(size_t count, size_t m, size_t n, size_t k, double alpha,
                                            const double *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                            const double *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                            double beta, double *c, size_t ldc, size_t stride_c, double *work);
PEL_AVX2 void pel__avx2_sgemm_small_strided(size_t count, size_t m, size_t n, size_t k, float alpha,
                                            const float *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                            const float *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                            float beta, float *c, size_t ldc, size_t stride_c, float *work);
PEL_AVX2 void pel__avx2_dtranspose_tile(size_t rows, size_t cols, double alpha, const double *a, size_t lda,
                                        double *b, size_t ldb, int nontemporal);
PEL_AVX2 void pel__avx2_stranspose_tile(size_t rows, size_t cols, float alpha, const float *a, size_t lda,
                                        float *b, size_t ldb, int nontemporal);
PEL_AVX2 double pel__avx2_ddot_block(size_t n, const double *x, const double *y);
PEL_AVX2 double pel__avx2_dsumsq_block(size_t n, const double *x, double scale);
PEL_AVX2 double pel__avx2_dasum_block(size_t n, const double *x);
PEL_AVX2 double pel__avx2_dsumsq_max_block(size_t n, const double *x, double *maxabs);

#endif
