/* Cache sizes for the automatic blocking: the measured machine model's
 * effective capacities (lib/tune), never the OS's report alone: a VM that
 * reports a 480 MiB L3 made the blocking 40% slower (docs/tuning.md). */
#include "stencil/stencil_internal.h"

#include "tune/tune.h"

size_t pel__stencil_cache_size(int level)
{
    return level >= 1 && level <= 3 ? pel__machine()->cache[level - 1].bytes : 0;
}

double pel__stencil_memory_bytes_per_ns(void)
{
    return pel__machine()->memory_gbps;
}

/* A working set past the team's L2s counts as L3 that serves the rings
 * only while the sweep reads it at this multiple of memory's rate or more:
 * below it the longer time blocks recompute more than they save (the Xeon
 * VM's L3 reads at 2.1x, docs/tuning.md). */
static const double l3_useful_ratio = 2.5;

size_t pel__stencil_ring_budget_from_model(const pel_machine *m, int nthreads)
{
    const size_t threads = (size_t)(nthreads > 0 ? nthreads : 1);
    const size_t l2 = m->cache[1].bytes;
    size_t useful = 0;

    if (m->sweep_points > 0 && m->memory_gbps > 0.0) {
        /* The largest swept working set beyond the L2s still read fast. */
        const size_t l2_team = l2 * (size_t)(m->threads > 0 ? m->threads : 1);
        for (int i = 0; i < m->sweep_points && i < 32; i++)
            if (m->sweep_point_bytes[i] > l2_team && m->sweep_point_gbps[i] >= l3_useful_ratio * m->memory_gbps &&
                m->sweep_point_bytes[i] > useful)
                useful = m->sweep_point_bytes[i];
    } else if (m->cache[2].gbps <= 0.0 || m->memory_gbps <= 0.0 ||
               m->cache[2].gbps >= l3_useful_ratio * m->memory_gbps) {
        /* No sweep (a model from defaults): the effective L3 as it stands. */
        useful = m->cache[2].bytes;
    }
    if (useful > m->cache[2].bytes && m->cache[2].bytes > 0)
        useful = m->cache[2].bytes;
    /* Half of what reads fast, shared by the threads: the source planes
     * and the destination stream through the same L3 beside the rings.
     * Measured on Zen 3 (docs/tuning.md): a read ratio of 2.3x-3.3x from one
     * process to the next made an all-or-nothing L3 rule jump between
     * 512 KiB and 16.5 MiB a thread, both 20% off the best (2-4 MiB). */
    useful = useful / 2 / threads;
    return useful > l2 ? useful : l2;
}

size_t pel__stencil_ring_budget_bytes(int nthreads)
{
    return pel__stencil_ring_budget_from_model(pel__machine(), nthreads);
}
