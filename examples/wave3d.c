/* Example: a small seismic shot, the 3-D acoustic wave equation
 *
 *     u_tt = v(x)^2 Lap u + source
 *
 * in a two-layer velocity model (1500 m/s above, 2500 m/s below the middle
 * depth), leapfrog in time: u(t+1) = 2u(t) - u(t-1) + v^2 dt^2 Lap_h u(t),
 * with the radius-4 eighth-order Laplacian (the 25-point star). That update
 * is pel's two-level form, pel_stencil_apply_wave(alpha = 2, beta = -1,
 * gamma = v^2 dt^2): pel keeps both time levels of a tile in cache across the
 * steps of a temporal block and rotates the four buffers itself.
 *
 * A Ricker wavelet (15 Hz) is injected at one point, one step at a time while
 * it lasts; then the wave runs freely in blocks of steps between recordings
 * at two receivers in the upper layer. The program checks the physics: the
 * direct wave must reach the far receiver later than the near one with the
 * apparent velocity of the upper layer (1500 m/s, within 20 %), and the field
 * must stay finite. Faces are Dirichlet 0 (pressure release); the run ends
 * before reflections from them reach the receivers.
 *
 * Usage: wave3d [n [record_every]]   (defaults 48, 2)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pel.h>

static void check(pel_status status, const char *what)
{
    if (status != PEL_OK) {
        fprintf(stderr, "wave3d: %s failed: %s\n", what, pel_last_error());
        exit(1);
    }
}

static double ricker(double t, double f0)
{
    const double pi = 3.14159265358979323846, a = pi * f0 * (t - 1.2 / f0);
    return (1.0 - 2.0 * a * a) * exp(-a * a);
}

int main(int argc, char **argv)
{
    const size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 48;
    const size_t every = argc > 2 && strtoul(argv[2], NULL, 10) > 0 ? strtoul(argv[2], NULL, 10) : 2;
    const size_t dims[3] = {n, n, n}, total = n * n * n;
    const double h = 10.0, v_top = 1500.0, v_bottom = 2500.0, f0 = 15.0;
    const double dt = 0.3 * h / v_bottom; /* Courant number 0.3 in the fast layer */
    /* Source at depth n/4 (axis 0 is depth), receivers on the same depth. */
    const size_t zs = n / 4, ys = n / 2, xs = n / 4, near_x = xs + n / 4, far_x = xs + (5 * n) / 12;
    const size_t source = (zs * n + ys) * n + xs;
    const size_t receiver[2] = {(zs * n + ys) * n + near_x, (zs * n + ys) * n + far_x};
    const double t_end = 1.2 / f0 + (double)(far_x - xs + 3) * h / v_top;
    const size_t nsteps = (size_t)(t_end / dt), source_steps = (size_t)(2.4 / f0 / dt);
    pel_boundary faces[6];
    pel_stencil *laplacian;
    double *u_prev, *u_cur, *work, *gamma, peak_time[2] = {0, 0}, peak[2] = {0, 0};
    void *levels[4];
    size_t step = 0;

    if (n < 24) {
        fprintf(stderr, "wave3d: n=%zu is too small (24 or more)\n", n);
        return 1;
    }
    for (int f = 0; f < 6; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.0};
    check(pel_stencil_create_laplacian(PEL_FLOAT64, 3, 25, h, &laplacian), "pel_stencil_create_laplacian");
    check(pel_stencil_grid_alloc(laplacian, dims, (void **)&u_prev), "pel_stencil_grid_alloc");
    check(pel_stencil_grid_alloc(laplacian, dims, (void **)&u_cur), "pel_stencil_grid_alloc");
    work = pel_malloc(2 * total * sizeof *work);
    gamma = pel_malloc(total * sizeof *gamma);
    if (work == NULL || gamma == NULL) {
        fprintf(stderr, "wave3d: out of memory\n");
        return 1;
    }
    /* The velocity model: gamma = v^2 dt^2 per point, a layer boundary at
     * half depth. */
    for (size_t i = 0; i < total; i++) {
        double v = i / (n * n) < n / 2 ? v_top : v_bottom;
        gamma[i] = v * v * dt * dt;
    }
    /* pel rotates these four grids: levels[0] and levels[1] always hold
     * u(t-1) and u(t) after a call. */
    levels[0] = u_prev;
    levels[1] = u_cur;
    levels[2] = work;
    levels[3] = work + total;

    printf("wave3d: %zu^3 grid, h = %.0f m, dt = %.2f ms, %zu steps (%.0f ms)\n", n, h, dt * 1e3, nsteps,
           nsteps * dt * 1e3);
    while (step < nsteps) {
        /* While the wavelet lasts, one step at a time with the source added;
         * afterwards, blocks of `every` steps between recordings. */
        size_t chunk = step < source_steps ? 1 : (nsteps - step < every ? nsteps - step : every);
        check(pel_stencil_apply_wave(laplacian, dims, faces, levels, 2.0, -1.0, gamma, chunk, NULL),
              "pel_stencil_apply_wave");
        step += chunk;
        if (step < source_steps)
            ((double *)levels[1])[source] += gamma[source] * ricker((double)step * dt, f0) / (h * h * h) * 1e6;
        for (int r = 0; r < 2; r++) {
            double value = fabs(((double *)levels[1])[receiver[r]]);
            if (!isfinite(value)) {
                fprintf(stderr, "wave3d: the field is not finite at step %zu\n", step);
                return 1;
            }
            if (value > peak[r]) {
                peak[r] = value;
                peak_time[r] = (double)step * dt;
            }
        }
    }
    {
        const double distance = (double)(far_x - near_x) * h, apparent = distance / (peak_time[1] - peak_time[0]);
        printf("wave3d: near receiver (%.0f m) peak %.3g at %.1f ms, far receiver (%.0f m) peak %.3g at %.1f ms\n",
               (double)(near_x - xs) * h, peak[0], peak_time[0] * 1e3, (double)(far_x - xs) * h, peak[1],
               peak_time[1] * 1e3);
        printf("wave3d: apparent velocity %.0f m/s (upper layer %.0f m/s)\n", apparent, v_top);
        if (!(peak_time[1] > peak_time[0]) || fabs(apparent - v_top) > 0.2 * v_top || !(peak[1] < peak[0])) {
            fprintf(stderr, "wave3d: the direct wave does not travel at the upper layer's velocity\n");
            return 1;
        }
    }
    pel_stencil_destroy(laplacian);
    pel_free(u_prev);
    pel_free(u_cur);
    pel_free(work);
    pel_free(gamma);
    return 0;
}
