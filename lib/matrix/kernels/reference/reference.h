/* The portable kernels (see kernels.h for the contracts). */
#ifndef PEL_MATRIX_KERNELS_REFERENCE_H
#define PEL_MATRIX_KERNELS_REFERENCE_H

#include "matrix/kernels/kernels.h"

void pel__reference_dgemm_small(size_t m, size_t n, size_t k, double alpha, const double *a, ptrdiff_t rsa,
                                ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta, double *c,
                                size_t ldc, double *work);
void pel__reference_sgemm_small(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t rsa,
                                ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c,
                                size_t ldc, float *work);
void pel__reference_dtranspose_tile(size_t rows, size_t cols, double alpha, const double *a, size_t lda, double *b,
                                    size_t ldb, int nontemporal);
void pel__reference_stranspose_tile(size_t rows, size_t cols, float alpha, const float *a, size_t lda, float *b,
                                    size_t ldb, int nontemporal);
double pel__reference_ddot_block(size_t n, const double *x, const double *y);
double pel__reference_dsumsq_block(size_t n, const double *x, double scale);
double pel__reference_dasum_block(size_t n, const double *x);
double pel__reference_dsumsq_max_block(size_t n, const double *x, double *maxabs);

#endif
