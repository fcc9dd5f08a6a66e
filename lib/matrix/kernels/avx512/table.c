/* The AVX-512 kernel table: its own small gemms, and the AVX2 transposes and
 * reductions (a CPU with AVX-512 F runs AVX2, and the reductions must give
 * the reference's bits anyway, so wider vectors would buy little). */
#include "config.h"

#include "matrix/kernels/avx2/avx2.h"
#include "matrix/kernels/avx512/avx512.h"

#ifndef DGEMM_MAX
#define DGEMM_MAX 32
#endif
#ifndef SGEMM_MAX
#define SGEMM_MAX 64
#endif

static int has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const pel__matrix_kernels pel__matrix_kernels_avx512 = {
    "avx512",
    has_avx512,
    DGEMM_MAX, SGEMM_MAX,
    pel__avx512_dgemm_small,
    pel__avx512_sgemm_small,
    pel__avx512_dgemm_small_strided,
    pel__avx512_sgemm_small_strided,
    pel__avx2_dtranspose_tile,
    pel__avx2_stranspose_tile,
    pel__avx2_ddot_block,
    pel__avx2_dsumsq_block,
    pel__avx2_dasum_block,
    pel__avx2_dsumsq_max_block,
};
