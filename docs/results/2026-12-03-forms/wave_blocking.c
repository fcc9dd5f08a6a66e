/* Times pel_stencil_apply_wave 256^3 x 20 steps under blocking overrides. */
#include <pel.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
int main(int argc, char **argv)
{
    size_t n0 = getenv("N0") ? (size_t)atol(getenv("N0")) : 256, n = 256, steps = getenv("S") ? (size_t)atol(getenv("S")) : 20, dims[3] = {n0, n0, n}, pts = n0 * n0 * n;
    double c[25];
    for (int k = 0; k < 25; k++) c[k] = k == 12 ? -0.5 : 0.02;
    pel_stencil *s;
    if (pel_stencil_create(PEL_FLOAT64, 3, PEL_STENCIL_STAR, 4, c, 25, 0, 0.0, &s) != PEL_OK) return 1;
    pel_boundary faces[6];
    for (int f = 0; f < 6; f++) faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 1.0};
    void *lv[4];
    double *g = (double *)((char *)aligned_alloc(1 << 21, pts * 8 + (1 << 21)) + (getenv("SKEW") ? 4 * (size_t)atol(getenv("SKEW")) : 0));
    size_t skew = getenv("SKEW") ? (size_t)atol(getenv("SKEW")) : 0;
    for (int i = 0; i < 4; i++) { lv[i] = (char *)aligned_alloc(1 << 21, pts * 8 + (1 << 21)) + skew * (size_t)i; for (size_t j = 0; j < pts; j++) ((double *)lv[i])[j] = (double)(j % 17) * 0.01; }
    for (size_t j = 0; j < pts; j++) g[j] = 0.1;
    for (int a = 1; a + 2 < argc + 1 && a < argc; a += 3) {
        pel_stencil_blocking b = {{0, (size_t)atol(argv[a]), getenv("T2") ? (size_t)atol(getenv("T2")) : 0}, (size_t)atol(argv[a + 1]), (size_t)atol(argv[a + 2]) << 20, 0};
        double best = 1e9;
        for (int r = 0; r < 3; r++) {
            double t0 = omp_get_wtime();
            if (pel_stencil_apply_wave(s, dims, faces, lv, 2.0, -1.0, g, steps, (b.tile[1] || b.time_block || b.cache_bytes) ? &b : NULL) != PEL_OK) { printf("%s\n", pel_last_error()); return 1; }
            double t = omp_get_wtime() - t0;
            if (t < best) best = t;
        }
        printf("tile1 %s T %s cacheMiB %s: %.3f s, %.3f Gpoints/s\n", argv[a], argv[a + 1], argv[a + 2], best, pts * steps / best * 1e-9);
        fflush(stdout);
    }
    return 0;
}
