/* Portable transpose tiles: B(cols x rows) = alpha*A^T, column-major. The
 * caller keeps tiles small enough that both A's and B's lines stay cached. */
#include "config.h"

#include "matrix/kernels/reference/reference.h"

void pel__reference_dtranspose_tile(size_t rows, size_t cols, double alpha, const double *a, size_t lda, double *b,
                                    size_t ldb, int nontemporal)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            b[j + i * ldb] = alpha * a[i + j * lda];
}

void pel__reference_stranspose_tile(size_t rows, size_t cols, float alpha, const float *a, size_t lda, float *b,
                                    size_t ldb, int nontemporal)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            b[j + i * ldb] = alpha * a[i + j * lda];
}
