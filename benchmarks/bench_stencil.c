/* pel-bench kernels of the stencil layer (none yet). */
#include "pel_bench.h"

const pel_bench_kernel pel_bench_stencil_kernels[] = {
    {NULL, NULL, NULL, NULL, NULL},
};
