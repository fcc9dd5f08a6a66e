/* Automatic blocking: a small cost model evaluated over candidate tile sizes
 * and time-block lengths. A candidate must keep its working set (the rings of
 * the intermediate levels plus the source planes level 1 reads) within the
 * cache budget; among those the model picks the smallest estimated time per
 * point and step, the larger plus half the smaller of
 *   compute: redundant-work factor * (terms + per-row overhead) * cost per term
 *   memory:  (source tile with halo + destination, write-allocate included)
 *            bytes / T, at this thread's share of the memory bandwidth,
 * times the load imbalance of the tile count over the threads. The cache
 * sizes and the memory bandwidth come from the measured machine model
 * (lib/tune, docs/tuning.md); the per-term constants were measured on the
 * project machine (docs/stencil.md). */
#include "stencil/engine.h"

#include <math.h>

/* ns per term per point on one core (AVX2 row kernel, data in L1/L2). */
static const double term_ns_double = 0.045, term_ns_float = 0.025;
/* Fixed cost of one row call in the same unit (resolving rows, pointers). */
static const double row_ns_fixed = 20.0, row_ns_per_input_row = 1.5;

static double grown_width(const pel__stencil_engine *e, int a, long w, size_t levels)
{
    double g = (double)w + 2.0 * e->r[a] * (double)levels;
    if (e->kind[a][0] != PEL_BOUNDARY_PERIODIC && g > (double)e->n[a])
        g = (double)e->n[a];
    return g;
}

/* Candidate tile extents of axis a: the whole axis and powers of two below. */
static int candidates(long n, long smallest, long *out)
{
    int count = 0;
    out[count++] = n;
    for (long w = 1L << 20; w >= smallest; w /= 2)
        if (w < n && count < 40)
            out[count++] = w;
    return count;
}

void pel__stencil_choose_blocking(pel__stencil_engine *e, size_t nsteps, const pel_stencil_blocking *blocking)
{
    const pel_stencil *s = e->stencil;
    const double es = (double)e->element_size;
    const double term_ns = e->element_size == sizeof(float) ? term_ns_float : term_ns_double;
    const double m = 2.0 * e->r[0] + 1.0;
    static const size_t time_candidates[] = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64};
    const double l2 = (double)pel__stencil_cache_size(2);
    const double socket_bytes_per_ns = pel__stencil_memory_bytes_per_ns();
    /* What a thread's rings may fill: the caller's figure, else the
     * model's ring budget, its L2 or more where the L3 reads fast
     * (measured on 3d7 256^3, 2 threads, L2 1 MiB, L3 32 MiB: 128-row bands
     * with T = 8, 6.3 MB of rings a thread, ran 1.2x faster than 64-row
     * bands with T = 4 that fit in L2, because the overlapped tiles
     * recompute half as much; rings served by a fast L3 cost little). */
    size_t budget = blocking && blocking->cache_bytes && blocking->cache_bytes != PEL_STENCIL_CACHE_MEASURE
                        ? blocking->cache_bytes
                        : pel__stencil_ring_budget_bytes(e->nthreads);
    long c1[48], c2[48];
    int n1 = 0, n2 = 0;
    double best = HUGE_VAL, best_bytes = HUGE_VAL;
    long best_w1 = e->n[1], best_w2 = e->n[2];
    size_t best_t = 1;
    /* What a form adds (none for the plain constant form, whose model the
     * measurements above were made with): its pointwise grids are read at
     * every level of a block on a window of (T-1)*r0 + 1 planes of the
     * tile, a two-level form writes two grids per block, and a coupled
     * system keeps rings for every field. */
    const double fields = e->nfields > 1 ? (double)e->nfields : 1.0;
    const double point_grids = e->form ? (double)e->form->npoint * fields : 0.0;
    const double extra_writes = e->form && e->form->history ? 1.0 : 0.0;

    const int override_tiles = e->tile[0] > 0 || e->tile[1] > 0 || e->tile[2] > 0;
    const long tile0 = e->tile[0] > 0 ? e->tile[0] : e->n[0];
    if (e->tile[1] > 0)
        c1[n1++] = e->tile[1];
    else
        n1 = candidates(e->n[1], 1, c1);
    /* Rows are cut only into pieces of 4 KiB and more: shorter pieces break
     * the hardware prefetcher's streams (measured: 64-point pieces of 256^3
     * rows ran 4x slower than whole rows). */
    if (e->tile[2] > 0)
        c2[n2++] = e->tile[2];
    else
        n2 = candidates(e->n[2], 4096 / (long)e->element_size, c2);

    for (size_t ti = 0; ti < sizeof time_candidates / sizeof time_candidates[0]; ti++) {
        size_t T = e->time_block ? e->time_block : time_candidates[ti];
        if (!e->time_block && ti > 0 && T > nsteps)
            break;
        for (int i1 = 0; i1 < n1; i1++) {
            for (int i2 = 0; i2 < n2; i2++) {
                long w1 = c1[i1], w2 = c2[i2];
                double area = (double)w1 * (double)w2, work = 0, bytes, memory, compute, time;
                double tiles = ceil((double)e->n[1] / (double)w1) * ceil((double)e->n[2] / (double)w2);
                double rounds = ceil(tiles / e->nthreads) * e->nthreads / tiles;
                for (size_t t = 1; t <= T; t++)
                    work += grown_width(e, 1, w1, T - t) * grown_width(e, 2, w2, T - t);
                bytes = ((double)(T - 1) * m * grown_width(e, 1, w1, T - 1) * grown_width(e, 2, w2, T - 1) +
                         m * grown_width(e, 1, w1, T) * grown_width(e, 2, w2, T)) *
                        es * fields;
                bytes += point_grids * ((double)(T - 1) * e->r[0] + 1.0) * grown_width(e, 1, w1, T - 1) *
                         grown_width(e, 2, w2, T - 1) * es;
                compute = work / (area * (double)T) * fields *
                          (term_ns * (double)s->nterms +
                           (row_ns_fixed + row_ns_per_input_row * (double)s->nrows) / (double)w2);
                memory = ((grown_width(e, 1, w1, T) * grown_width(e, 2, w2, T) / area * es + 2.0 * es) * fields +
                          (point_grids + extra_writes) * es) /
                         (double)T / (socket_bytes_per_ns / e->nthreads);
                /* Rings beyond the L2 are served by the L3: a small cost per
                 * L2 of overflow. */
                if (bytes > l2)
                    compute *= 1.0 + 0.02 * (bytes / l2 - 1.0);
                /* Streaming and in-cache work overlap only in part: the
                 * larger cost plus half the smaller (with a plain max the
                 * model chose T = 5 with 64-row bands for 3d7 256^3, 11%
                 * slower than T = 8 with 128-row bands, measured). */
                time = (compute > memory ? compute + 0.5 * memory : memory + 0.5 * compute) * rounds;
                if (bytes > (double)budget) {
                    /* Too big: remembered only as a fallback when nothing fits. */
                    if (best == HUGE_VAL && bytes < best_bytes) {
                        best_bytes = bytes;
                        best_w1 = w1;
                        best_w2 = w2;
                        best_t = T;
                    }
                    continue;
                }
                if (time < best) {
                    best = time;
                    best_w1 = w1;
                    best_w2 = w2;
                    best_t = T;
                }
            }
        }
        if (e->time_block)
            break;
    }
    e->tile[1] = best_w1;
    e->tile[2] = best_w2;
    e->time_block = best_t;
    if (e->time_block > nsteps && nsteps > 0)
        e->time_block = nsteps;
    e->tile[0] = tile0;
    if (e->time_block == 1 && !override_tiles) {
        /* One step at a time: the plain streaming order is best. Whole
         * planes, axis 0 split evenly over the threads like the static
         * schedule of a collapse(2) loop; the 2r0+1 planes a step reads are
         * reused from L2 or L3 and every byte is streamed once. */
        e->tile[1] = e->n[1];
        e->tile[2] = e->n[2];
        long piece = 4096 / (long)e->element_size;
        /* The planes a step reads must stay in L2 while the sweep moves
         * along axis 0: a radius-4 star over 256^2 planes reads 9 of 512
         * KiB, past a 2 MiB L2, and then streams 8 of every 9 loads from
         * L3. Bands of axis 1 whose window of 2r0+1 planes fits half the
         * L2 (every band sweeping the whole of axis 0, the bands dealt to
         * the threads) ran 1.2x faster on a 2 MiB L2, 2 threads, one step
         * of 256^3: the wave 0.33 -> 0.40 Gpoints/s (32-row bands), 3d7
         * 1.04 -> 1.11 (128-row bands); docs/benchmarks.md. */
        long band = e->n[1];
        const double row_bytes = (double)e->n[2] * es * fields;
        while (band > 8 && m * ((double)band + 2.0 * e->r[1]) * row_bytes > 0.5 * l2)
            band /= 2;
        if (band < e->n[1] && (e->n[1] + band - 1) / band >= e->nthreads && e->n[0] > 2 * m) {
            e->tile[1] = band;
        } else if (e->n[0] >= e->nthreads) {
            e->tile[0] = (e->n[0] + e->nthreads - 1) / e->nthreads;
        } else if (e->n[1] >= e->nthreads) {
            e->tile[1] = (e->n[1] + e->nthreads - 1) / e->nthreads;
        } else {
            /* A 1-D grid (or a few rows): pieces of rows, 4 KiB or more. */
            e->tile[2] = (e->n[2] + e->nthreads - 1) / e->nthreads;
            if (e->tile[2] < piece)
                e->tile[2] = piece < e->n[2] ? piece : e->n[2];
        }
    }
    for (int a = 0; a < 3; a++)
        e->ntiles[a] = (e->n[a] + e->tile[a] - 1) / e->tile[a];
    /* Streaming stores only on request: on the machines measured they were
     * slower for a single sweep (docs/stencil.md). */
    e->stream = blocking != NULL && blocking->streaming_stores;
}
