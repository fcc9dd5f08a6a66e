#include <pel.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
static const double courant[3] = {0.1, 0.2, 0.3};
__attribute__((target_clones("avx512f", "avx2", "default")))
static void upwind_row(double *restrict q, const double *restrict centre, const double *restrict down0,
                       const double *restrict down1, size_t n, const double *c)
{
#pragma omp simd
    for (size_t x = 0; x < n; x++) {
        double acc = centre[x];
        acc = acc - c[0] * (centre[x] - down0[x]);
        acc = acc - c[1] * (centre[x] - down1[x]);
        acc = acc - c[2] * (centre[x] - centre[(ptrdiff_t)x - 1]);
        q[x] = acc;
    }
}
static void fn(void *out, const void *const *rows, size_t n, const size_t *index, void *u)
{
    (void)index; (void)u;
    upwind_row(out, rows[4], rows[1], rows[3], n, courant);
}
int main(int argc, char **argv)
{
    size_t n = 256, dims[3] = {n, n, n}, pts = n * n * n, steps = argc > 1 ? atol(argv[1]) : 1;
    double *a = aligned_alloc(1 << 21, pts * 8), *b = aligned_alloc(1 << 21, pts * 8);
    for (size_t i = 0; i < pts; i++) a[i] = b[i] = (i % 13) * 0.1;
    pel_boundary faces[6];
    for (int f = 0; f < 6; f++) faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 1.0};
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    double best = 1e9;
    pel_stencil_blocking bl = {{0, argc > 3 ? (size_t)atol(argv[3]) : 0, 0}, argc > 4 ? (size_t)atol(argv[4]) : 0, argc > 5 ? (size_t)atol(argv[5]) << 20 : 0, 0};
    for (int r = 0; r < reps; r++) {
        void *res;
        double t = omp_get_wtime();
        if (pel_stencil_apply_rows(PEL_FLOAT64, 3, 1, dims, faces, a, b, fn, NULL, steps, (argc > 3) ? &bl : NULL, &res) != PEL_OK) { puts(pel_last_error()); return 1; }
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    printf("%.4f s, %.3f Gpt/s\n", best, pts * steps / best * 1e-9);
}
