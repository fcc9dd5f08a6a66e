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
