/* Example: many small matrix products at once (a batched gemm).
 *
 * Finite-element assembly, block-sparse solvers and quantum chemistry
 * multiply thousands of small matrices. One cblas_dgemm call per 8x8 product
 * costs more in overhead than in arithmetic; pel_dgemm_batch_strided() runs
 * the whole batch on register-blocked kernels, one item per thread at a time,
 * with results bit-identical for any thread count.
 *
 * Here: C_i = A_i * B_i for `count` items of size n x n stored back to back
 * (column-major, as a Fortran code would), checked against a naive loop.
 *
 * Usage: batched_small [n [count]]   (defaults 8, 20000)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <pel.h>

/* C = A*B for one column-major n x n item, the textbook way. */
static void naive_item(size_t n, const double *a, const double *b, double *c)
{
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            double sum = 0.0;
            for (size_t l = 0; l < n; l++)
                sum += a[i + l * n] * b[l + j * n];
            c[i + j * n] = sum;
        }
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 8;
    size_t count = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000;
    size_t item, total;
    double *a, *b, *c, *reference, t0, t_pel, t_naive, worst = 0.0, flops;

    if (n == 0 || n > 256 || count == 0) {
        fprintf(stderr, "usage: batched_small [1 <= n <= 256 [count >= 1]]\n");
        return 2;
    }
    item = n * n;
    total = item * count;
    a = pel_malloc(total * sizeof *a);
    b = pel_malloc(total * sizeof *b);
    c = pel_malloc(total * sizeof *c);
    reference = pel_malloc(total * sizeof *reference);
    if (!a || !b || !c || !reference) {
        fprintf(stderr, "batched_small: %s\n", pel_last_error());
        return 1;
    }
    srand(7);
    for (size_t i = 0; i < total; i++) {
        a[i] = rand() / (double)RAND_MAX - 0.5;
        b[i] = rand() / (double)RAND_MAX - 0.5;
    }

    /* Run each side once untimed first, so page faults on the output arrays
     * and thread start-up are not in the timings. */
    for (int round = 0; round < 2; round++) {
        t0 = pel_wtime();
        if (pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, n, n, n, 1.0, a, n, item, b, n, item,
                                    0.0, c, n, item, count) != PEL_OK) {
            fprintf(stderr, "batched_small: %s\n", pel_last_error());
            return 1;
        }
        t_pel = pel_wtime() - t0;
    }
    for (size_t p = 0; p < count; p++)
        naive_item(n, a + p * item, b + p * item, reference + p * item);
    t0 = pel_wtime();
    for (size_t p = 0; p < count; p++)
        naive_item(n, a + p * item, b + p * item, reference + p * item);
    t_naive = pel_wtime() - t0;

    for (size_t i = 0; i < total; i++)
        worst = fmax(worst, fabs(c[i] - reference[i]));
    flops = 2.0 * (double)n * (double)n * (double)n * (double)count;
    printf("batched_small: %zu products of %zux%zu on %d threads\n", count, n, n, pel_get_num_threads());
    printf("pel_dgemm_batch_strided %.4f s (%.2f GFLOP/s); naive loop on one thread %.4f s (%.2f GFLOP/s)\n", t_pel,
           flops / t_pel * 1e-9, t_naive, flops / t_naive * 1e-9);
    printf("largest difference: %.2e\n", worst);
    pel_free(a);
    pel_free(b);
    pel_free(c);
    pel_free(reference);
    /* Each entry sums n products of magnitude <= 1/4 in another order (and
     * maybe with FMA): the difference is below n * eps * n/4. */
    return worst <= (double)n * (double)n * 2.3e-16 ? 0 : 1;
}
