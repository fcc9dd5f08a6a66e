/* A deliberate data race, for the ThreadSanitizer build only: the loop body
 * adds to one shared counter without synchronisation from pel's worker
 * threads. tests/stress/run-tsan.sh runs it and requires TSan to report it,
 * which proves that the race-testing setup (instrumented pel, libomp, Archer)
 * sees races inside pel's parallel regions; a setup that reports nothing
 * here would make the clean stress run meaningless. */
#include <stdio.h>

#include "pel.h"

static long counter;

static int body(size_t begin, size_t end, void *arg)
{
    (void)arg;
    for (size_t i = begin; i < end; i++)
        counter += 1; /* the race */
    return 0;
}

int main(void)
{
    pel_set_num_threads(4);
    pel_set_min_work_per_thread(1);
    if (pel_parallel_for(0, 4096, PEL_SCHEDULE_STATIC, 64, body, NULL) != PEL_OK)
        return 2;
    printf("planted race: counter = %ld (4096 without the race)\n", counter);
    return 0;
}
