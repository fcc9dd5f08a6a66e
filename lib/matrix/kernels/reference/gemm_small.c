/* Portable small-gemm kernels: the fallback on CPUs without AVX2/FMA and the
 * reference the tests compare the optimised kernels with. One column of C is
 * accumulated at a time in a local array (so beta = 0 never reads C). */
#include "config.h"

#include "matrix/kernels/reference/reference.h"

void pel__reference_dgemm_small(size_t m, size_t n, size_t k, double alpha, const double *a, ptrdiff_t rsa,
                                ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta, double *c,
                                size_t ldc, double *work)
{
    double acc[PEL_GEMM_SMALL_MAX];

    for (size_t j = 0; j < n; j++) {
        double *cj = c + j * ldc;
        for (size_t i = 0; i < m; i++)
            acc[i] = 0.0;
        for (size_t p = 0; p < k; p++) {
            double bpj = b[(ptrdiff_t)p * rsb + (ptrdiff_t)j * csb];
            const double *ap = a + (ptrdiff_t)p * csa;
            for (size_t i = 0; i < m; i++)
                acc[i] += ap[(ptrdiff_t)i * rsa] * bpj;
        }
        if (beta == 0.0)
            for (size_t i = 0; i < m; i++)
                cj[i] = alpha * acc[i];
        else
            for (size_t i = 0; i < m; i++)
                cj[i] = alpha * acc[i] + beta * cj[i];
    }
}

void pel__reference_sgemm_small(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t rsa,
                                ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c,
                                size_t ldc, float *work)
{
    float acc[PEL_GEMM_SMALL_MAX];

    for (size_t j = 0; j < n; j++) {
        float *cj = c + j * ldc;
        for (size_t i = 0; i < m; i++)
            acc[i] = 0.0f;
        for (size_t p = 0; p < k; p++) {
            float bpj = b[(ptrdiff_t)p * rsb + (ptrdiff_t)j * csb];
            const float *ap = a + (ptrdiff_t)p * csa;
            for (size_t i = 0; i < m; i++)
                acc[i] += ap[(ptrdiff_t)i * rsa] * bpj;
        }
        if (beta == 0.0f)
            for (size_t i = 0; i < m; i++)
                cj[i] = alpha * acc[i];
        else
            for (size_t i = 0; i < m; i++)
                cj[i] = alpha * acc[i] + beta * cj[i];
    }
}
