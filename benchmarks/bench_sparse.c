/* pel-bench kernels of the sparse layer (none yet). */
#include "pel_bench.h"

const pel_bench_kernel pel_bench_sparse_kernels[] = {
    {NULL, NULL, NULL, NULL, NULL},
};
