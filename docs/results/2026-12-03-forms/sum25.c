#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
/* 25-term sums over a 2-D in-L1 block: the wave's arithmetic without its memory. */
__attribute__((target("avx512f"))) void run(double *restrict q, const double *restrict p, const double *c, const long *off, long n, int reps)
{
    for (int r = 0; r < reps; r++)
#pragma omp simd
        for (long x = 0; x < n; x++) {
            double s = c[0] * p[x + off[0]];
#pragma GCC unroll 25
            for (int k = 1; k < 25; k++) s = s + c[k] * p[x + off[k]];
            q[x] = s;
        }
}
int main(void)
{
    long n = 256, off[25];
    double *p = aligned_alloc(64, 8 * 64 * 1024), *q = aligned_alloc(64, 4096), c[25];
    for (int i = 0; i < 64 * 1024 / 8 * 8; i++) p[i] = i * 1e-3;
    for (int k = 0; k < 25; k++) { c[k] = 0.01 * k; off[k] = 2000 + (k % 9) * 300 + k - 12; }
    int reps = 200000;
    double t = omp_get_wtime();
    run(q, p, c, off, n, reps);
    t = omp_get_wtime() - t;
    printf("%.3f Gpoints/s (%.1f cycles/pt at 3 GHz) q=%g\n", n * (double)reps / t * 1e-9, t * 3e9 / (n * (double)reps), q[5]);
}
