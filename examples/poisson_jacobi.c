/* Example: the Poisson equation -Laplace(u) = f solved with pel's Jacobi
 * solver on a 2-D grid, checked against the analytic solution.
 *
 * On the unit square with u = 0 on the boundary, f = 2 pi^2 sin(pi x) sin(pi y)
 * has the solution u = sin(pi x) sin(pi y). The grid holds the interior
 * points x_i = (i+1) h, h = 1/(n+1); the boundary is the Dirichlet value 0.
 * pel_stencil_jacobi_poisson() iterates the 5-point Jacobi update
 * (temporally blocked, check_interval steps between residual checks) until
 * the relative residual max|f + Laplace_h u| / max|f| reaches the tolerance.
 * The error against the analytic solution is then the discretisation error,
 * O(h^2): halving h divides it by about 4.
 *
 * Usage: poisson_jacobi [n [tolerance]]   (defaults 31, 1e-8)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <pel.h>

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 31;
    double tolerance = argc > 2 ? strtod(argv[2], NULL) : 1e-8;
    const double pi = 3.14159265358979323846;
    double h, spacing[2], residual = 0.0, error = 0.0, t0;
    size_t dims[2] = {n, n}, iterations = 0;
    pel_boundary faces[4];
    double *u, *f;
    pel_status status;

    if (n < 3 || !(tolerance > 0.0)) {
        fprintf(stderr, "usage: poisson_jacobi [n >= 3 [tolerance > 0]]\n");
        return 2;
    }
    h = 1.0 / (double)(n + 1);
    spacing[0] = spacing[1] = h;
    for (int face = 0; face < 4; face++)
        faces[face] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.0};
    u = pel_calloc(n * n, sizeof *u); /* the initial guess: 0 */
    f = pel_malloc(n * n * sizeof *f);
    if (u == NULL || f == NULL) {
        fprintf(stderr, "poisson_jacobi: %s\n", pel_last_error());
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            f[i * n + j] = 2.0 * pi * pi * sin(pi * (double)(i + 1) * h) * sin(pi * (double)(j + 1) * h);

    t0 = pel_wtime();
    /* Jacobi needs O(n^2) steps: allow 20 n^2, check every 50 steps. */
    status = pel_stencil_jacobi_poisson(PEL_FLOAT64, 2, dims, spacing, faces, u, f, tolerance, 20 * n * n, 50,
                                        &iterations, &residual);
    if (status != PEL_OK) {
        fprintf(stderr, "poisson_jacobi: %s (%s)\n", pel_last_error(), pel_strerror(status));
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double exact = sin(pi * (double)(i + 1) * h) * sin(pi * (double)(j + 1) * h);
            error = fmax(error, fabs(u[i * n + j] - exact));
        }
    printf("poisson_jacobi: %zux%zu interior points, %zu Jacobi iterations in %.3f s, residual %.2e\n", n, n,
           iterations, pel_wtime() - t0, residual);
    /* Truncation error h^2/12 (u_xxxx + u_yyyy) = pi^4 h^2/6 u, divided by the
     * operator's smallest eigenvalue 2 pi^2: the error is about pi^2 h^2/12. */
    printf("max error against sin(pi x) sin(pi y): %.3e (discretisation bound ~ %.3e)\n", error,
           pi * pi * h * h / 12.0 * 1.5);
    pel_free(u);
    pel_free(f);
    return error <= pi * pi * h * h / 12.0 * 1.5 + 10.0 * tolerance ? 0 : 1;
}
