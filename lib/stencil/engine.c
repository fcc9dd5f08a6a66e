/* The stencil engine.
 *
 * Scheme. The grid (internal axes 0, 1, 2) is cut into tiles over axes 1 and
 * 2 (axis 0 stays whole). A tile advances time_block = T steps at once: level
 * t (1..T) is computed on the tile grown by (T-t)*r on axes 1 and 2 (clipped
 * at non-periodic faces), so the tile needs no neighbour's intermediate
 * values (overlapped tiling: a few redundant points instead of
 * synchronisation). Along axis 0 a time-skewed wavefront runs: at position p
 * level t computes plane p-(t-1)*r0, whose inputs (level t-1, planes within
 * r0) were all computed at positions <= p. Intermediate levels therefore live
 * in rings of 2*r0+1 planes of the tile, small enough for L2, and main memory
 * is read once and written once per T steps. Level 1 reads the caller's
 * source grid and level T writes the caller's destination grid directly.
 *
 * Exactness. Every value, redundant or not, is computed by the same row
 * kernel from the same inputs in the same order of terms, so any tiling and
 * any number of threads give the bits of the serial reference loop.
 */
#include "stencil/engine.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.h"

enum {
    MAX_RING = 2 * PEL_STENCIL_MAX_RADIUS + 1,
    /* Points per call at the row ends, and the per-row buffer width. */
    END_CHUNK = 16,
    END_WIDTH = END_CHUNK + 2 * PEL_STENCIL_MAX_RADIUS
};

/* Values of one time level that a row can read: either the caller's grid
 * (every point of the domain) or a ring of planes of a tile. */
typedef struct level_view {
    char *base;            /* grid: element (0,0,0); NULL for a ring */
    char *slot[MAX_RING];  /* ring: plane slots, each at element (lo[1], lo[2]) */
    long m;                /* ring size */
    long row_stride;       /* elements between rows */
    long x_offset;         /* ring: elements from a row's start to coordinate lo[2] */
    long lo[3], hi[3];     /* coordinates held (unwrapped on periodic axes) */
} level_view;

/* Per-thread work space. */
typedef struct thread_space {
    char *scratch;
    const void **term_ptr;
    char **row_ptr;
    char *row_const;
    char *end_buffer; /* nrows buffers of END_WIDTH elements */
    char *const_row[3][2]; /* Dirichlet rows of the face value, long enough for any row */
} thread_space;

static inline long mod_long(long x, long n)
{
    long m = x % n;
    return m < 0 ? m + n : m;
}

/* Maps coordinate *c on axis a into the view. Returns 1 when *c (possibly
 * wrapped or mirrored) is in the view, 0 when it lies behind a Dirichlet
 * face, stored in *face. Only coordinates outside the domain leave a view. */
static inline int resolve(const pel__stencil_engine *e, const level_view *v, int a, long *c, int *face)
{
    long x = *c, n = e->n[a];
    int side;
    if (x >= v->lo[a] && x < v->hi[a])
        return 1;
    side = x < 0 ? 0 : 1;
    switch (e->kind[a][side]) {
    case PEL_BOUNDARY_PERIODIC:
        *c = mod_long(x, n);
        return 1;
    case PEL_BOUNDARY_NEUMANN:
        *c = side == 0 ? -1 - x : 2 * n - 1 - x;
        return 1;
    default:
        *face = 2 * a + side;
        return 0;
    }
}

/* Pointer to element (c0, c1, lo[2]) of a view. */
static inline char *row_pointer(const pel__stencil_engine *e, const level_view *v, long c0, long c1)
{
    if (v->base)
        return v->base + (size_t)((c0 * e->n[1] + c1) * e->n[2]) * e->element_size;
    return v->slot[mod_long(c0, v->m)] + (size_t)((c1 - v->lo[1]) * v->row_stride + v->x_offset) * e->element_size;
}

/* Outputs x in [sa, sb) of a row whose input rows are already resolved in
 * ts (see compute_row), in chunks of END_CHUNK points. */
static void compute_ends(const pel__stencil_engine *e, thread_space *ts, const level_view *in, char *out,
                         const char *rhs_row, long sa, long sb, long xa)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size;
    const long r2 = e->r[2];
    for (long x0 = sa; x0 < sb; x0 += END_CHUNK) {
        long x1 = x0 + END_CHUNK < sb ? x0 + END_CHUNK : sb;
        for (size_t u = 0; u < s->nrows; u++) {
            char *buffer = ts->end_buffer + u * (size_t)END_WIDTH * es;
            if (ts->row_const[u])
                continue;
            /* In-view inputs are one contiguous copy; only the few outside
             * the view are resolved one by one. */
            long lo = x0 - r2, hi = x1 + r2;
            long in_lo = lo > in->lo[2] ? lo : in->lo[2], in_hi = hi < in->hi[2] ? hi : in->hi[2];
            if (in_hi > in_lo)
                memcpy(buffer + (size_t)(in_lo - lo) * es, ts->row_ptr[u] + (size_t)(in_lo - in->lo[2]) * es,
                       (size_t)(in_hi - in_lo) * es);
            else
                in_lo = in_hi = hi;
            for (long xx = lo; xx < hi; xx++) {
                long at = xx;
                int face = 0;
                const char *from;
                if (xx == in_lo)
                    xx = in_hi;
                if (xx >= hi)
                    break;
                at = xx;
                from = resolve(e, in, 2, &at, &face) ? ts->row_ptr[u] + (size_t)(at - in->lo[2]) * es
                                                     : ts->const_row[2][face % 2];
                if (es == sizeof(double))
                    memcpy(buffer + (size_t)(xx - lo) * es, from, sizeof(double));
                else
                    memcpy(buffer + (size_t)(xx - lo) * es, from, sizeof(float));
            }
        }
        for (long x = x0; x < x1;) {
            /* The rhs row may wrap inside a chunk on a periodic axis 2. */
            long wrapped = rhs_row ? mod_long(x, e->n[2]) : 0, end = x1;
            if (rhs_row && end - x > e->n[2] - wrapped)
                end = x + (e->n[2] - wrapped);
            for (size_t k = 0; k < s->nterms; k++) {
                size_t u = s->term_row[k];
                ts->term_ptr[k] =
                    ts->row_const[u]
                        ? ts->row_ptr[u]
                        : ts->end_buffer + (u * (size_t)END_WIDTH + (size_t)(x - x0 + s->offset[k][2] + r2)) * es;
            }
            s->row(out + (size_t)(x - xa) * es, ts->term_ptr, s->coefficients, s->nterms,
                   rhs_row ? rhs_row + (size_t)wrapped * es : NULL, e->rhs_weight, (size_t)(end - x), 0);
            x = end;
        }
    }
}

/* Computes output points (c0, c1, x) for x in [xa, xb) into out (element xa)
 * from the level in `in`. */
static void compute_row(const pel__stencil_engine *e, thread_space *ts, const level_view *in, char *out, long c0,
                        long c1, long xa, long xb, int stream)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size;
    const int r2 = e->r[2];
    const long n2 = e->n[2];
    const char *rhs_row = NULL;
    long vlo, vhi;
    /* The ring slot of plane c0, found with one division per row; the
     * neighbouring planes' slots follow by a conditional wrap (rows are
     * short, so a division per input row would be a visible cost). */
    const long slot0 = in->base ? 0 : mod_long(c0, in->m);

    for (size_t u = 0; u < s->nrows; u++) {
        const int d0 = s->row_offset[u][0];
        long a0 = c0 + d0, a1 = c1 + s->row_offset[u][1];
        int face = 0;
        if (resolve(e, in, 0, &a0, &face) && resolve(e, in, 1, &a1, &face)) {
            if (in->base == NULL && a0 == c0 + d0) {
                long j = slot0 + d0;
                j = j < 0 ? j + in->m : j >= in->m ? j - in->m : j;
                ts->row_ptr[u] = in->slot[j] + (size_t)((a1 - in->lo[1]) * in->row_stride + in->x_offset) * es;
            } else {
                ts->row_ptr[u] = row_pointer(e, in, a0, a1);
            }
            ts->row_const[u] = 0;
        } else {
            ts->row_ptr[u] = ts->const_row[face / 2][face % 2];
            ts->row_const[u] = 1;
        }
    }
    if (e->rhs)
        rhs_row = e->rhs + (size_t)((mod_long(c0, e->n[0]) * e->n[1] + mod_long(c1, e->n[1])) * n2) * es;

    /* Vector part: every term's x lies inside the view's row. */
    vlo = in->lo[2] + r2 > xa ? in->lo[2] + r2 : xa;
    vhi = in->hi[2] - r2 < xb ? in->hi[2] - r2 : xb;
    if (vlo > xb)
        vlo = xb;
    if (vhi < vlo)
        vhi = vlo;
    for (long x = vlo; x < vhi;) {
        long wrapped = rhs_row ? mod_long(x, n2) : 0, end = vhi;
        /* The rhs row wraps at multiples of n2 on a periodic axis 2. */
        if (rhs_row && end - x > n2 - wrapped)
            end = x + (n2 - wrapped);
        for (size_t k = 0; k < s->nterms; k++) {
            size_t u = s->term_row[k];
            ts->term_ptr[k] = ts->row_const[u] ? ts->row_ptr[u]
                                               : ts->row_ptr[u] + (size_t)(x + s->offset[k][2] - in->lo[2]) * es;
        }
        s->row(out + (size_t)(x - xa) * es, ts->term_ptr, s->coefficients, s->nterms,
               rhs_row ? rhs_row + (size_t)wrapped * es : NULL, e->rhs_weight, (size_t)(end - x), stream);
        x = end;
    }

    /* The ends, where some neighbour leaves the view along axis 2: copy the
     * inputs of a short stretch, resolved by the boundary rules, into small
     * per-row buffers and run the same kernel on them. */
    compute_ends(e, ts, in, out, rhs_row, xa, vlo, xa);
    compute_ends(e, ts, in, out, rhs_row, vhi, xb, xa);
}

/* Ring plane geometry shared by every tile: the largest grown tile. */
static long grown(const pel__stencil_engine *e, int a, size_t levels)
{
    long w = e->tile[a] + 2 * e->r[a] * (long)levels;
    if (e->kind[a][0] != PEL_BOUNDARY_PERIODIC && w > e->n[a])
        w = e->n[a];
    return w;
}

static long ring_row_stride(const pel__stencil_engine *e)
{
    /* r2 ghost columns on each side hold boundary values at clipped faces. */
    long w = grown(e, 2, e->time_block - 1) + 2 * e->r[2], per_line = 64 / (long)e->element_size;
    return (w + per_line - 1) / per_line * per_line;
}

static size_t ring_plane_elements(const pel__stencil_engine *e)
{
    return (size_t)grown(e, 1, e->time_block - 1) * (size_t)ring_row_stride(e);
}

/* Fills the r2 ghost columns of a ring row (its first point, coordinate lo2,
 * sits r2 elements into the row) at clipped non-periodic faces. */
static void fill_ghost_columns(const pel__stencil_engine *e, const thread_space *ts, char *row, long lo2, long hi2)
{
    const size_t es = e->element_size;
    const long r2 = e->r[2];
    if (e->kind[2][0] == PEL_BOUNDARY_PERIODIC)
        return;
    for (int side = 0; side < 2; side++) {
        if (side == 0 ? lo2 != 0 : hi2 != e->n[2])
            continue;
        for (long k = 0; k < r2; k++) {
            long x = side == 0 ? -1 - k : e->n[2] + k;
            long from = side == 0 ? k : e->n[2] - 1 - k; /* the Neumann mirror */
            const char *value = e->kind[2][side] == PEL_BOUNDARY_NEUMANN ? row + (size_t)(from - lo2 + r2) * es
                                                                          : ts->const_row[2][side];
            memcpy(row + (size_t)(x - lo2 + r2) * es, value, es);
        }
    }
}

/* The range of level t (of T) of a tile [tlo, thi) on axis a. */
static inline void level_range(const pel__stencil_engine *e, int a, long tlo, long thi, size_t t, size_t T,
                               long *lo, long *hi)
{
    long grow = e->r[a] * (long)(T - t);
    *lo = tlo - grow;
    *hi = thi + grow;
    if (e->kind[a][0] != PEL_BOUNDARY_PERIODIC) {
        if (*lo < 0)
            *lo = 0;
        if (*hi > e->n[a])
            *hi = e->n[a];
    }
}

/* Advances one tile by T steps from grid src into grid dst. */
static void run_tile(const pel__stencil_engine *e, thread_space *ts, char *src, char *dst, size_t tile_index,
                     size_t T)
{
    const size_t es = e->element_size;
    const long r0 = e->r[0], m = 2 * r0 + 1;
    const size_t plane = ring_plane_elements(e);
    long tlo[3], thi[3], p_end;
    size_t index = tile_index;
    level_view grid_in, ring_in, ring_out;

    /* Tiles are numbered axis 0 slowest, then axis 1, then axis 2, so a
     * static partition gives each thread a contiguous band. */
    {
        long i2 = (long)(index % (size_t)e->ntiles[2]);
        long i1 = (long)(index / (size_t)e->ntiles[2] % (size_t)e->ntiles[1]);
        long i0 = (long)(index / (size_t)e->ntiles[2] / (size_t)e->ntiles[1]);
        const long at[3] = {i0, i1, i2};
        for (int a = 0; a < 3; a++) {
            tlo[a] = at[a] * e->tile[a];
            thi[a] = tlo[a] + e->tile[a] < e->n[a] ? tlo[a] + e->tile[a] : e->n[a];
        }
    }
    memset(&grid_in, 0, sizeof grid_in);
    grid_in.base = src;
    grid_in.row_stride = e->n[2];
    for (int a = 0; a < 3; a++) {
        grid_in.lo[a] = 0;
        grid_in.hi[a] = e->n[a];
    }
    memset(&ring_in, 0, sizeof ring_in);
    ring_in.m = m;
    ring_in.row_stride = ring_row_stride(e);
    ring_out = ring_in;

    /* The last position: the last plane of level T is computed at
     * p = hi0(T) - 1 + (T-1)*r0; earlier levels end no later. */
    p_end = thi[0] + (long)(T - 1) * r0;
    {
        long lo0, hi0;
        level_range(e, 0, tlo[0], thi[0], 1, T, &lo0, &hi0);
        for (long p = lo0; p < p_end; p++) {
            for (size_t t = 1; t <= T; t++) {
                long q = p - (long)(t - 1) * r0, lo[3], hi[3];
                const level_view *in;
                for (int a = 0; a < 3; a++)
                    level_range(e, a, tlo[a], thi[a], t, T, &lo[a], &hi[a]);
                if (q < lo[0] || q >= hi[0])
                    continue;
                if (t == 1) {
                    in = &grid_in;
                } else {
                    char *base = ts->scratch + (t - 2) * (size_t)m * plane * es;
                    for (long j = 0; j < m; j++)
                        ring_in.slot[j] = base + (size_t)j * plane * es;
                    for (int a = 0; a < 3; a++)
                        level_range(e, a, tlo[a], thi[a], t - 1, T, &ring_in.lo[a], &ring_in.hi[a]);
                    /* Rows start r2 ghost columns before the level's first
                     * point; at a clipped (non-periodic) face those ghosts
                     * hold the boundary values and belong to the view. */
                    ring_in.x_offset = e->r[2];
                    if (e->kind[2][0] != PEL_BOUNDARY_PERIODIC) {
                        if (ring_in.lo[2] == 0) {
                            ring_in.lo[2] -= e->r[2];
                            ring_in.x_offset = 0;
                        }
                        if (ring_in.hi[2] == e->n[2])
                            ring_in.hi[2] += e->r[2];
                    }
                    in = &ring_in;
                }
                if (t < T) {
                    char *base = ts->scratch + (t - 1) * (size_t)m * plane * es;
                    ring_out.slot[0] = base + (size_t)mod_long(q, m) * plane * es;
                    ring_out.lo[1] = lo[1];
                    for (long c1 = lo[1]; c1 < hi[1]; c1++) {
                        char *row = ring_out.slot[0] + (size_t)((c1 - lo[1]) * ring_out.row_stride) * es;
                        compute_row(e, ts, in, row + (size_t)e->r[2] * es, q, c1, lo[2], hi[2], 0);
                        fill_ghost_columns(e, ts, row, lo[2], hi[2]);
                    }
                } else {
                    for (long c1 = lo[1]; c1 < hi[1]; c1++)
                        compute_row(e, ts, in, dst + (size_t)((q * e->n[1] + c1) * e->n[2] + lo[2]) * es, q, c1,
                                    lo[2], hi[2], e->stream);
                }
            }
        }
    }
}

static void fill_row(char *row, size_t count, double value, size_t es)
{
    for (size_t i = 0; i < count; i++) {
        if (es == sizeof(float)) {
            float f = (float)value;
            memcpy(row + i * es, &f, es);
        } else {
            memcpy(row + i * es, &value, es);
        }
    }
}

pel_status pel__stencil_run(const pel__stencil_engine *e, char *a, char *b, size_t nsteps, int *in_b)
{
    const size_t es = e->element_size, T = e->time_block;
    const size_t ntiles = (size_t)e->ntiles[0] * (size_t)e->ntiles[1] * (size_t)e->ntiles[2];
    const size_t m = 2 * (size_t)e->r[0] + 1;
    const size_t nblocks = (nsteps + T - 1) / T;
    size_t scratch_bytes, row_len, per_thread, total;
    long row_max = e->n[2] > grown(e, 2, T) ? e->n[2] : grown(e, 2, T);
    int nthreads = e->nthreads;
    char *memory;

    if ((size_t)nthreads > ntiles)
        nthreads = (int)ntiles;
    if (nthreads < 1)
        nthreads = 1;
    /* Everything is allocated before any data is touched, so running out of
     * memory leaves the caller's buffers as they were. */
    scratch_bytes = T > 1 ? (T - 1) * m * ring_plane_elements(e) * es : 0;
    scratch_bytes = (scratch_bytes + 63) / 64 * 64;
    row_len = ((size_t)row_max + 16) * es;
    row_len = (row_len + 63) / 64 * 64;
    per_thread = scratch_bytes + 6 * row_len + e->stencil->nterms * sizeof(void *) +
                 e->stencil->nrows * (sizeof(char *) + 1) + 256 + e->stencil->nrows * END_WIDTH * es;
    per_thread = (per_thread + 63) / 64 * 64;
    if (!pel__mul_size(per_thread, (size_t)nthreads, &total))
        return pel__fail(PEL_ERROR_OVERFLOW, "pel_stencil_apply", "work space size overflows");
    memory = pel_malloc(total);
    if (memory == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, "pel_stencil_apply", "no memory for %zu bytes of tile space",
                         total);

#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        int id = 0;
        thread_space ts;
        char *mine;
#ifdef _OPENMP
        id = omp_get_thread_num();
#endif
        mine = memory + (size_t)id * per_thread;
        ts.scratch = mine;
        mine += scratch_bytes;
        for (int ax = 0; ax < 3; ax++)
            for (int side = 0; side < 2; side++) {
                ts.const_row[ax][side] = mine;
                fill_row(mine, (size_t)row_max + 16, e->value[ax][side], es);
                mine += row_len;
            }
        ts.term_ptr = (const void **)(void *)mine;
        mine += e->stencil->nterms * sizeof(void *);
        ts.row_ptr = (char **)(void *)mine;
        mine += e->stencil->nrows * sizeof(char *);
        ts.row_const = mine;
        mine += (e->stencil->nrows + 63) / 64 * 64;
        ts.end_buffer = mine;
        for (size_t block = 0; block < nblocks; block++) {
            size_t steps = nsteps - block * T < T ? nsteps - block * T : T;
            char *src = block % 2 ? b : a, *dst = block % 2 ? a : b;
#pragma omp for schedule(static) nowait
            for (size_t tile = 0; tile < ntiles; tile++)
                run_tile(e, &ts, src, dst, tile, steps);
            /* Streaming stores are weakly ordered: fence them before the
             * barrier so the next block (or the caller) reads them. */
            if (e->stream)
                pel__stencil_store_fence();
#pragma omp barrier
        }
    }
    pel_free(memory);
    *in_b = (int)(nblocks % 2);
    return PEL_OK;
}
