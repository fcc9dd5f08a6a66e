/* Thresholds measured from the machine model, with today's constants as the
 * fallback.
 *
 * The minimum work per thread: a second thread pays when the time it saves,
 * half of the work's time on one thread, exceeds the fork/join cost of the
 * parallel region, so a thread's share must be at least the work one thread
 * does in one fork/join (cost * rate). The rate is the model's L2 read rate
 * of one thread in work units (8 bytes each: pel's unit is about one flop or
 * one 8-byte element moved), because work small enough to ask is in cache.
 * The result is bounded to [1, 4] times the default (32768 units): never
 * more eager than the default, which was measured right for FFTW's threads
 * (whose start costs far more than an OpenMP fork/join: 2 threads were 2.5x
 * slower than 1 at 2^10 points), and at most 4 times more reluctant, when
 * the fork/join is measured expensive (a loaded machine, passive waiting:
 * 3.5-6 ms at a load of 16-24 on 2 CPUs against 0.7 us quiet), so that a
 * noisy moment cannot make pel absurd. A value the user set
 * (pel_set_min_work_per_thread or PEL_MIN_WORK_PER_THREAD) always wins.
 *
 * pel's own OpenMP kernels (SpMV; issue 16 item 7) pay only the fork/join
 * for a second thread, not FFTW's thread start, so for them the measured
 * value may go below the default, down to 1/16 of it: on the Xeon VM,
 * quiet, a fork/join of 0.6-0.8 us against 150-175 GB/s of L2 a thread
 * gives 12 000-15 000 units, so a 4096-row Laplacian (58 000 units) runs on
 * 2 threads instead of 1. It never goes above the default there: the model
 * is measured once a process, and a fork/join measured at a loaded moment
 * (milliseconds with passive waiting) would otherwise keep every product of
 * up to 260 000 units on one thread for the process's life, while the
 * two-thread loops it is compared with ran 3x faster at such a moment
 * (power-law of 4096 rows, load 17). */
#include "config.h"

#include <stdint.h>

#include "core/threads.h"
#include "tune/tune.h"

/* The lower bound of the minimum work per thread for pel's own OpenMP
 * kernels (pel__tune_threads_for_openmp_work): no FFTW thread start to
 * amortise there, only the fork/join, so the measured value may go below
 * the default down to this floor, which guards against an absurd model
 * (a fork/join measured at a few nanoseconds). */
#define OPENMP_MIN_WORK_FLOOR (PEL__MIN_WORK_DEFAULT / 16)

/* A few flops on the current model, so that an imported model takes
 * effect at once: the work one thread does in one fork/join, bounded to
 * [floor, ceiling]. */
static size_t derive_min_work(double floor, double ceiling)
{
    const pel_machine *m = pel__machine();
    double units_per_us = 0, work;

    if (m->threads > 1 && m->cache[1].gbps > 0)
        units_per_us = m->cache[1].gbps / m->threads * 1e3 / 8.0;
    work = m->parallel_region_us * units_per_us;
    if (!(work >= floor))
        work = units_per_us > 0 ? floor : PEL__MIN_WORK_DEFAULT; /* nothing measured: the default */
    if (work > ceiling)
        work = ceiling;
    return (size_t)work;
}

size_t pel__tune_min_work_per_thread(void)
{
    size_t set = pel_get_min_work_per_thread();

    /* One thread needs no threshold: no measurement either. */
    if (set != PEL__MIN_WORK_DEFAULT || pel_get_num_threads() < 2)
        return set;
    return derive_min_work(PEL__MIN_WORK_DEFAULT, PEL__MIN_WORK_DEFAULT * 4.0);
}

int pel__tune_threads_for_work(size_t work_units)
{
    int nthreads = pel_get_num_threads();
    size_t useful;

    /* One thread, without asking the model, below the smallest threshold it
     * could give (unless the user set a smaller one). */
    if (nthreads < 2 ||
        (work_units < 2 * PEL__MIN_WORK_DEFAULT && pel_get_min_work_per_thread() == PEL__MIN_WORK_DEFAULT))
        return 1;
    useful = work_units / pel__tune_min_work_per_thread();
    if (useful < 1)
        return 1;
    return useful < (size_t)nthreads ? (int)useful : nthreads;
}

int pel__tune_threads_for_openmp_work(size_t work_units)
{
    int nthreads = pel_get_num_threads();
    size_t useful, set = pel_get_min_work_per_thread();

    if (nthreads < 2)
        return 1;
    if (set != PEL__MIN_WORK_DEFAULT) /* the user's (or the environment's) value wins */
        return pel_threads_for_work(work_units);
    /* One thread, without asking the model, below the smallest threshold it
     * could give. */
    if (work_units < 2 * (size_t)OPENMP_MIN_WORK_FLOOR)
        return 1;
    useful = work_units / derive_min_work(OPENMP_MIN_WORK_FLOOR, PEL__MIN_WORK_DEFAULT);
    if (useful < 1)
        return 1;
    return useful < (size_t)nthreads ? (int)useful : nthreads;
}
