/* Microbench: the fused wave kernel on an in-L1 set of rows. */
#include "stencil/kernels_fused.c" /* the library source itself, for its static kernels */
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
pel__stencil_isa pel__stencil_isa_get(void) { return PEL__STENCIL_ISA_AVX512; }
int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 256;
    int nrows = 17;
    double *rows = aligned_alloc(64, (size_t)(nrows + 4) * (n + 64) * 8);
    for (long i = 0; i < (nrows + 4) * (n + 64); i++) rows[i] = 1e-3 * (i % 101);
    const double *in[25];
    double c[25];
    long stride = n + 64;
    /* 9 in-row shifts on row 0 (lead 8), 16 others */
    for (int k = 0; k < 9; k++) in[k] = rows + 8 + (k - 4);
    for (int k = 9; k < 25; k++) in[k] = rows + (k - 8) * stride + 8;
    for (int k = 0; k < 25; k++) c[k] = 0.01 * (k + 1);
    pel__stencil_fused f = {0};
    f.ngroups = 1; f.first[0] = 0; f.first[1] = 25; f.coefficients = c; f.two_level = 1; f.alpha = 2; f.beta = -1;
    pel__stencil_fused_inputs x = {0};
    x.scale[0] = rows + 17 * stride + 8; x.u = in[4]; x.v = rows + 18 * stride + 8;
    double *out = rows + 19 * stride + 8;
    pel__stencil_fused_fn fn = fused_avx512;
    if (argc > 2) fn = fused_avx2;
    int reps = 20000000 / n;
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t = omp_get_wtime();
        for (int q = 0; q < reps; q++) { fn(out, in, &f, &x, n); __asm__ volatile("" ::: "memory"); }
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    printf("n %ld %s: %.2f ns/pt, %.3f Gpt/s\n", n, argc > 2 ? "avx2" : "avx512", best / reps / n * 1e9, reps * (double)n / best * 1e-9);
    return 0;
}
