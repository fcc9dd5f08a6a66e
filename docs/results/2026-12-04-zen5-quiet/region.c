/* Fork/join cost of back-to-back empty parallel regions, 2 threads:
 * min and median of 2000, after a warm-up. Run under different
 * OMP_WAIT_POLICY settings. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
int main(int argc, char **argv)
{
    int n = 2000; double gap_us = argc > 1 ? atof(argv[1]) : 0; static double t[2000]; volatile int s = 0;
    for (int i = 0; i < n; i++) {
        double t0 = omp_get_wtime();
        while (omp_get_wtime() - t0 < gap_us * 1e-6) ;
        t0 = omp_get_wtime();
#pragma omp parallel num_threads(2)
        { if (omp_get_thread_num() == 1) s = s + 1; }
        t[i] = omp_get_wtime() - t0;
    }
    qsort(t, n, sizeof *t, cmp);
    printf("gap %.0f us: min %.2f us median %.2f us p90 %.2f us\n", gap_us, t[0] * 1e6, t[n / 2] * 1e6, t[n * 9 / 10] * 1e6);
    return 0;
}
