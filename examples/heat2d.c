/* Example: the 2-D heat equation with the stencil API, writing the final
 * temperature field as a PGM image.
 *
 * u_t = kappa * (u_xx + u_yy) on the unit square, explicit Euler in time:
 * u_new = u + r * (5-point Laplacian of u), r = kappa*dt/h^2 <= 1/4 for
 * stability. That update is itself a 5-point stencil with coefficients
 * (r, r, 1-4r, r, r), so one pel stencil object runs all the steps, with
 * temporal blocking, on pel's threads, bit-identical to a serial loop.
 * Boundaries: the left edge is held at 1 (a heater), the other three at 0;
 * a hot square in the middle starts at 1 and cools down.
 *
 * Usage: heat2d [n [steps [output.pgm]]]   (defaults 96, 600, heat2d.pgm)
 */
#include <stdio.h>
#include <stdlib.h>

#include <pel.h>

#include "pgm.h"

static void check(pel_status status, const char *what)
{
    if (status != PEL_OK) {
        fprintf(stderr, "heat2d: %s failed: %s\n", what, pel_last_error());
        exit(1);
    }
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 96;
    size_t steps = argc > 2 ? strtoul(argv[2], NULL, 10) : 600;
    const char *output = argc > 3 ? argv[3] : "heat2d.pgm";
    const double r = 0.24; /* kappa*dt/h^2, just under the stability limit 1/4 */
    /* Star points in pel's order (axis 0 = rows): up, left, centre, right, down. */
    const double coefficients[5] = {r, r, 1.0 - 4.0 * r, r, r};
    /* Faces: rows top/bottom (axis 0), then columns left/right (axis 1). */
    const pel_boundary faces[4] = {
        {PEL_BOUNDARY_DIRICHLET, 0.0}, {PEL_BOUNDARY_DIRICHLET, 0.0},
        {PEL_BOUNDARY_DIRICHLET, 1.0}, {PEL_BOUNDARY_DIRICHLET, 0.0}};
    size_t dims[2] = {n, n};
    pel_stencil *stencil = NULL;
    double *u = NULL, t0, seconds, lo = 1.0, hi = 0.0, left = 0.0, right = 0.0;
    void *result;

    if (n < 4 || steps == 0) {
        fprintf(stderr, "usage: heat2d [n >= 4 [steps >= 1 [output.pgm]]]\n");
        return 2;
    }
    check(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, coefficients, 5, 0, 0.0, &stencil),
          "pel_stencil_create");
    /* Zeroed, first touched by the threads that will update each tile. */
    check(pel_stencil_grid_alloc(stencil, dims, (void **)&u), "pel_stencil_grid_alloc");
    for (size_t i = 3 * n / 8; i < 5 * n / 8; i++)
        for (size_t j = 3 * n / 8; j < 5 * n / 8; j++)
            u[i * n + j] = 1.0;

    t0 = pel_wtime();
    check(pel_stencil_apply(stencil, dims, faces, u, NULL, NULL, steps, NULL, &result), "pel_stencil_apply");
    seconds = pel_wtime() - t0;

    for (size_t i = 0; i < n * n; i++) {
        lo = u[i] < lo ? u[i] : lo;
        hi = u[i] > hi ? u[i] : hi;
    }
    for (size_t i = 0; i < n; i++) {
        left += u[i * n];
        right += u[i * n + n - 1];
    }
    printf("heat2d: %zux%zu grid, %zu steps on %d threads in %.3f s (%.1f Mpoint-updates/s)\n", n, n, steps,
           pel_get_num_threads(), seconds, (double)(n * n) * (double)steps / seconds * 1e-6);
    printf("temperature range [%.4f, %.4f]; mean next to the heater %.4f, at the far edge %.4g\n", lo, hi,
           left / (double)n, right / (double)n);
    if (write_pgm(output, u, n, n, 0.0, 1.0) != 0)
        return 1;
    printf("wrote %s\n", output);
    pel_free(u);
    pel_stencil_destroy(stencil);
    /* The maximum principle: values stay within the boundary values [0, 1],
     * and heat flows from the heater, so the left side is warmer. */
    return lo >= 0.0 && hi <= 1.0 && left > right ? 0 : 1;
}
