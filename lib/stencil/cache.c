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

size_t pel__stencil_l3_share_bytes(int nthreads)
{
    const pel_machine *m = pel__machine();
    const double l3 = m->cache[2].gbps, memory = m->memory_gbps;

    /* Rings the L3 serves save memory traffic only where it reads well
     * above memory's rate (an L3 at 2x memory, as on the Xeon VM of
     * docs/tuning.md, gains less than the longer time blocks recompute). */
    if (l3 > 0.0 && memory > 0.0 && l3 < 3.0 * memory)
        return 0;
    return m->cache[2].bytes / (size_t)(nthreads > 0 ? nthreads : 1);
}
