/* The fused wave kernel over a band held in L2: 9 planes x R rows x 256. */
#include "stencil/kernels_fused.c" /* the library source itself, for its static kernels */
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
pel__stencil_isa pel__stencil_isa_get(void) { return PEL__STENCIL_ISA_AVX512; }
int main(int argc, char **argv)
{
    long n = 256, R = argc > 1 ? atol(argv[1]) : 40, lead = 8, stride = n + 16, P = 9;
    long planes = argc > 2 ? atol(argv[2]) : 9;
    double *g = aligned_alloc(64, (size_t)planes * R * stride * 8);
    for (long i = 0; i < planes * R * stride; i++) g[i] = 1e-3 * (i % 101);
    double *out = aligned_alloc(64, (size_t)R * stride * 8), *v = aligned_alloc(64, (size_t)R * stride * 8), *sc = aligned_alloc(64, (size_t)R * stride * 8);
    for (long i = 0; i < R * stride; i++) v[i] = sc[i] = 0.5;
    double c[25];
    for (int k = 0; k < 25; k++) c[k] = 0.01 * (k + 1);
    pel__stencil_fused f = {0};
    f.ngroups = 1; f.first[1] = 25; f.coefficients = c; f.two_level = 1; f.alpha = 2; f.beta = -1;
    double best = 1e9; long pts = 0;
    for (int r = 0; r < 7; r++) {
        double t = omp_get_wtime(); pts = 0;
        for (int rep = 0; rep < 200; rep++)
        for (long pc = 4; pc < planes - 4; pc++)
        for (long j = 4; j < R - 4; j++) {
            const double *in[25]; int k = 0;
            const double *row = g + (pc * R + j) * stride + lead;
            for (int d = -4; d <= 4; d++) in[k++] = row + d;
            for (int d = -4; d <= 4; d++) if (d) in[k++] = row + d * stride;
            for (int d = -4; d <= 4; d++) if (d) in[k++] = row + d * R * stride;
            pel__stencil_fused_inputs x = {0};
            x.scale[0] = sc + j * stride + lead; x.u = row; x.v = v + j * stride + lead;
            fused_avx512(out + j * stride + lead, in, &f, &x, 248);
            pts += 248;
        }
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    printf("R %ld planes %ld (%.0f KiB): %.2f ns/pt\n", R, planes, planes * R * stride * 8 / 1024.0, best / pts * 1e9);
    return 0;
}
