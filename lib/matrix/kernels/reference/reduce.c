/* Portable block reductions. The order is part of the contract: 8 lanes,
 * lane j takes the elements with index = j mod 8, the lanes are joined as
 * ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)), and every product is rounded before
 * it is added (this file is built with -ffp-contract=off). The AVX2 kernels
 * follow the same order, so both give the same bits. */
#include "config.h"

#include <math.h>

#include "matrix/kernels/reference/reference.h"

static double join_lanes(const double lane[8])
{
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

double pel__reference_ddot_block(size_t n, const double *x, const double *y)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
        lane[i % 8] += x[i] * y[i];
    return join_lanes(lane);
}

double pel__reference_dsumsq_block(size_t n, const double *x, double scale)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double v = x[i] * scale;
        lane[i % 8] += v * v;
    }
    return join_lanes(lane);
}

double pel__reference_dasum_block(size_t n, const double *x)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
        lane[i % 8] += fabs(x[i]);
    return join_lanes(lane);
}

double pel__reference_dsumsq_max_block(size_t n, const double *x, double *maxabs)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0}, max = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = fabs(x[i]);
        lane[i % 8] += x[i] * x[i];
        max = v > max ? v : max; /* NaN compares false: skipped, as in the AVX2 kernel */
    }
    *maxabs = max;
    return join_lanes(lane);
}

static int always(void)
{
    return 1;
}

const pel__matrix_kernels pel__matrix_kernels_reference = {
    "reference",
    always,
    PEL_GEMM_SMALL_MAX, PEL_GEMM_SMALL_MAX,
    pel__reference_dgemm_small,
    pel__reference_sgemm_small,
    NULL,
    NULL,
    pel__reference_dtranspose_tile,
    pel__reference_stranspose_tile,
    pel__reference_ddot_block,
    pel__reference_dsumsq_block,
    pel__reference_dasum_block,
    pel__reference_dsumsq_max_block,
};
