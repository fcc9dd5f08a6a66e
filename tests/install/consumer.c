/* A program outside the pel tree: built against an installed pel with
 * pkg-config or CMake, it runs pel_parallel_for and a reproducible sum and
 * checks both results. */
#include <stdio.h>
#include <stdlib.h>

#include <pel.h>

static int square(size_t begin, size_t end, void *arg)
{
    double *x = arg;
    for (size_t i = begin; i < end; i++)
        x[i] = (double)i * (double)i;
    return 0;
}

int main(void)
{
    enum { N = 100000 };
    double *x = pel_malloc(N * sizeof *x), sum = 0.0, expected = 0.0;

    if (x == NULL || pel_version_number() != PEL_VERSION_NUMBER)
        return 1;
    if (pel_parallel_for(0, N, PEL_SCHEDULE_DYNAMIC, 1000, square, x) != PEL_OK) {
        fprintf(stderr, "%s\n", pel_last_error());
        return 1;
    }
    if (pel_reduce_sum(x, N, 1, &sum) != PEL_OK) {
        fprintf(stderr, "%s\n", pel_last_error());
        return 1;
    }
    for (size_t i = 0; i < N; i++)
        expected += (double)i * (double)i;
    pel_free(x);
    /* Exactly representable integers: the sums agree to the last bit. */
    printf("pel %s on %d threads: sum of squares = %.17g (%s)\n", pel_version(), pel_get_num_threads(), sum,
           sum == expected ? "correct" : "WRONG");
    return sum == expected ? 0 : 1;
}
