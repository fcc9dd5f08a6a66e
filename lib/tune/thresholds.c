/* Thresholds measured from the machine model, with today's constants as the
 * fallback.
 *
 * The minimum work per thread: a second thread pays when the time it saves,
 * half of the work's time on one thread, exceeds the fork/join cost of the
 * parallel region, so a thread's share must be at least the work one thread
 * does in one fork/join (cost * rate). The rate is the model's L2 read rate
 * of one thread in work units (8 bytes each: pel's unit is about one flop or
 * one 8-byte element moved), because work small enough to ask is in cache.
 *
 * Bounds. Never more eager than the default (32768 units), which was
 * measured right for FFTW's threads (their start costs far more than an
 * OpenMP fork/join: 2 threads were 2.5x slower than 1 at 2^10 points); pel's
 * own OpenMP kernels (SpMV; issue 16 item 7) pay only the fork/join, so for
 * them the measured value may go down to 1/16 of the default (on the Xeon
 * VM, quiet, a fork/join of 0.6-0.8 us against 150-175 GB/s of L2 a thread
 * gives 12 000-15 000 units, so a 4096-row Laplacian of 58 000 units runs
 * on 2 threads). Above the default the measurement is believed up to
 * REGION_PLAUSIBLE_US of fork/join (the value then bounded to
 * REGION_CEILING_FACTOR times the default): with passive waiting in a VM a
 * fork/join wakes a halted vCPU: a median of 42-74 us on the AMD EPYC Zen 5
 * VM, quiet (0.5-0.7 us with spinning workers; docs/tuning.md), and there
 * 2 threads lost 1.3-1.4x against 1 on a 2^16-point FFT and a 32761-row
 * SpMV. A fork/join measured longer
 * than that is a loaded moment's time slices (3.5-6 ms at a load of 16-24
 * on 2 CPUs, passive waiting), not a property of the machine: the model is
 * measured once a process, and believing such a moment kept a 4096-row
 * power-law product on one thread for the process's life at 0.33x the
 * two-thread loop it was compared with. The default is used then. A value
 * the user set (pel_set_min_work_per_thread or PEL_MIN_WORK_PER_THREAD)
 * always wins. */
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

/* The longest fork/join taken as the machine's own (above); longer is load. */
#define REGION_PLAUSIBLE_US 250.0

/* The most reluctant the measured value may make pel, in defaults. */
#define REGION_CEILING_FACTOR 32.0

/* The work one thread does in one fork/join on the current model (so that
 * an imported model takes effect at once), bounded to [floor,
 * REGION_CEILING_FACTOR defaults]; the default when nothing was measured or
 * the fork/join is implausible. */
static size_t derive_min_work(double floor)
{
    const pel_machine *m = pel__machine();
    double units_per_us = 0, work;

    if (m->threads > 1 && m->cache[1].gbps > 0)
        units_per_us = m->cache[1].gbps / m->threads * 1e3 / 8.0;
    if (!(units_per_us > 0) || !(m->parallel_region_us <= REGION_PLAUSIBLE_US))
        return PEL__MIN_WORK_DEFAULT;
    work = m->parallel_region_us * units_per_us;
    if (!(work >= floor))
        work = floor;
    if (work > PEL__MIN_WORK_DEFAULT * REGION_CEILING_FACTOR)
        work = PEL__MIN_WORK_DEFAULT * REGION_CEILING_FACTOR;
    return (size_t)work;
}

size_t pel__tune_min_work_per_thread(void)
{
    size_t set = pel_get_min_work_per_thread();

    /* One thread needs no threshold: no measurement either. */
    if (set != PEL__MIN_WORK_DEFAULT || pel_get_num_threads() < 2)
        return set;
    return derive_min_work(PEL__MIN_WORK_DEFAULT);
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
    useful = work_units / derive_min_work(OPENMP_MIN_WORK_FLOOR);
    if (useful < 1)
        return 1;
    return useful < (size_t)nthreads ? (int)useful : nthreads;
}
