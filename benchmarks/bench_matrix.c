/* pel-bench kernels of the matrix layer (none yet). */
#include "pel_bench.h"

const pel_bench_kernel pel_bench_matrix_kernels[] = {
    {NULL, NULL, NULL, NULL, NULL},
};
