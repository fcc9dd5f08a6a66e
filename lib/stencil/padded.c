/* Small grids: the constant form through one padded copy of the grid.
 *
 * On a grid of a few thousand points the engine's per-row work (row plans,
 * the end points of every row resolved by the boundary rules, the rows next
 * to faces one by one) costs more than the arithmetic: 3d7 on 16^3, one
 * step, took about 300 k instructions a call against 90 k for the plain
 * loop (callgrind, docs/benchmarks.md "Small stencil calls"). Here the input
 * level is copied once into a grid padded by the radius on every axis,
 * whose ghost points hold what the boundary rules give there, and every
 * output row is then one call of the stencil's row kernel over the whole
 * row, with its term pointers one fixed offset apart.
 *
 * Exactness. A ghost point holds the value the engine's resolution gives
 * that position: the axes are extended from axis 2 up to axis 0, each
 * ghost layer copied from the (already extended) layer its coordinate maps
 * to, or filled with a Dirichlet face's value, so on a point outside the
 * grid in several axes the lowest axis decides first, as docs/stencil.md
 * defines. Every output point is then computed by the same row kernel from
 * the same inputs in the same order of terms as in the engine: the same
 * bits as the engine gives on any thread count and blocking.
 *
 * When. One thread only (apply.c asks pel__stencil_padded_fits once the
 * thread count is chosen): with two, the barrier between steps cost more
 * than the rows saved (2d5 256^2 x 10 steps, OMP_WAIT_POLICY=passive: 3x
 * the one-thread time), and a grid that earns a second thread is past
 * what this path is for. The thresholds are in pel__stencil_padded_fits.
 *
 * Later steps compute into the interior of a second padded grid, whose
 * ghosts are then filled the same way; the last step writes the output
 * grid directly: the caller's work grid when it gave one (so the input grid
 * stays as it was, as the engine leaves it after one step: the Jacobi
 * solver's residual step relies on that), else the input grid itself, whose
 * values are in the padded copy by then.
 */
#include "stencil/engine.h"

#include <string.h>

#include "core/error.h"

/* Runs taken by this path (for the tests). */
static unsigned long padded_runs;

unsigned long pel__stencil_padded_count(void)
{
    unsigned long n;
#pragma omp atomic read
    n = padded_runs;
    return n;
}

/* Geometry of the padded grids. */
typedef struct padded {
    long p[3];          /* padded extents: n[a] + 2 r[a] */
    size_t plane, row;  /* elements between planes, rows */
    size_t elements;    /* of one padded grid */
} padded;

static void padded_geometry(const pel__stencil_engine *e, padded *g)
{
    for (int a = 0; a < 3; a++)
        g->p[a] = e->n[a] + 2 * (long)e->r[a];
    g->row = (size_t)g->p[2];
    g->plane = (size_t)g->p[1] * g->row;
    g->elements = (size_t)g->p[0] * g->plane;
}

int pel__stencil_padded_fits(const pel__stencil_engine *e, size_t nsteps, const pel_stencil_blocking *blocking)
{
    padded g;
    size_t bytes, l2;
    if (e->form != NULL || e->nfields > 1 || e->nthreads > 1)
        return 0;
    /* An override of any field asks for the engine's blocking. */
    if (blocking != NULL && (blocking->tile[0] || blocking->tile[1] || blocking->tile[2] || blocking->time_block ||
                             blocking->cache_bytes || blocking->streaming_stores))
        return 0;
    for (int a = 0; a < 3; a++)
        if (e->n[a] > (1L << 20))
            return 0;
    padded_geometry(e, &g);
    if (!pel__mul_size(g.elements, e->element_size, &bytes))
        return 0;
    l2 = pel__stencil_cache_size(2);
    if (l2 < 256 * 1024)
        l2 = 256 * 1024;
    /* Both padded grids within the core's L2, where the engine's tiles buy
     * nothing. The copy costs a pass over the grid: one step of a stencil
     * of few terms on a grid past a quarter of the L2 ran faster through the
     * engine (3d7 48^3 x 1 step, 1 MiB padded, L2 2 MiB: 0.79 of the plain
     * loop here, 0.85 through the engine; docs/stencil.md, "Small calls"). */
    if (nsteps == 1 && e->stencil->nterms <= 7 && bytes > l2 / 4)
        return 0;
    return bytes <= l2 / 2;
}

/* Fills `count` elements at `to` with the value v. */
static void fill_value(char *to, size_t count, double v, size_t es)
{
    if (es == sizeof(float)) {
        const float f = (float)v;
        for (size_t i = 0; i < count; i++)
            memcpy(to + i * es, &f, sizeof f);
    } else {
        for (size_t i = 0; i < count; i++)
            memcpy(to + i * es, &v, sizeof v);
    }
}

/* One element from index `from` to index `to` of a row: a typed copy (a
 * memcpy of a run-time size is a library call per element). */
static inline void copy_element(char *row, long to, long from, size_t es)
{
    if (es == sizeof(double))
        ((double *)(void *)row)[to] = ((const double *)(const void *)row)[from];
    else
        ((float *)(void *)row)[to] = ((const float *)(const void *)row)[from];
}

/* Fills the ghost layers of padded grid q, whose interior holds a level:
 * axis 2 in each interior row, then whole padded rows of axis 1 in each
 * interior plane, then whole padded planes of axis 0. Ghost j of an axis
 * (j < r: coordinate j - r; else n + j - r) comes from padded index
 * from[j], or is face[j]'s Dirichlet value where from[j] < 0. */
static void fill_ghosts(const pel__stencil_engine *e, const padded *g, char *q)
{
    const size_t es = e->element_size;
    for (int a = 2; a >= 0; a--) {
        const long r = e->r[a];
        long from[2 * PEL_STENCIL_MAX_RADIUS], to[2 * PEL_STENCIL_MAX_RADIUS];
        double value[2 * PEL_STENCIL_MAX_RADIUS];
        int ndirichlet = 0;
        if (r == 0)
            continue;
        for (long j = 0; j < 2 * r; j++) {
            long c = j < r ? j - r : e->n[a] + (j - r);
            int face = 0;
            to[j] = c + r;
            if (pel__stencil_map_outside(e, a, &c, &face)) {
                from[j] = c + r;
            } else {
                from[j] = -1;
                value[j] = e->value[a][face % 2];
                ndirichlet++;
            }
        }
        if (a == 2) {
            for (long c0 = 0; c0 < e->n[0]; c0++)
                for (long c1 = 0; c1 < e->n[1]; c1++) {
                    char *row = q + ((size_t)(c0 + e->r[0]) * g->plane + (size_t)(c1 + e->r[1]) * g->row) * es;
                    for (long j = 0; j < 2 * r; j++)
                        if (from[j] >= 0)
                            copy_element(row, to[j], from[j], es);
                    if (ndirichlet)
                        for (long j = 0; j < 2 * r; j++)
                            if (from[j] < 0)
                                fill_value(row + (size_t)to[j] * es, 1, value[j], es);
                }
        } else {
            /* A ghost layer of axis 1 is a padded row of each interior
             * plane; of axis 0, a whole padded plane. */
            const size_t layer = a == 1 ? g->row : g->plane;
            const long nouter = a == 1 ? e->n[0] : 1;
            for (long c0 = 0; c0 < nouter; c0++) {
                char *base = a == 1 ? q + (size_t)(c0 + e->r[0]) * g->plane * es : q;
                for (long j = 0; j < 2 * r; j++) {
                    if (from[j] >= 0)
                        memcpy(base + (size_t)to[j] * layer * es, base + (size_t)from[j] * layer * es, layer * es);
                    else
                        fill_value(base + (size_t)to[j] * layer * es, layer, value[j], es);
                }
            }
        }
    }
}

/* Element (c0, c1, 0) of padded grid q's interior. */
static inline char *interior_row(const pel__stencil_engine *e, const padded *g, char *q, long c0, long c1)
{
    return q + ((size_t)(c0 + e->r[0]) * g->plane + (size_t)(c1 + e->r[1]) * g->row + (size_t)e->r[2]) *
                   e->element_size;
}

/* The output rows (row c = c0 * n1 + c1) of step `step` from padded
 * grid q[step % 2]: into q[(step + 1) % 2]'s interior, or into out_grid on
 * the last step. term: nterms pointers of work space. */
static void padded_step(const pel__stencil_engine *e, const padded *g, char *const *q, char *out_grid, size_t step,
                        size_t nsteps, const ptrdiff_t *offset, const void **term)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size, nt = s->nterms, n2 = (size_t)e->n[2];
    const long n1 = e->n[1];
    const void *params = s->precision == PEL_FLOAT32 ? (const void *)&s->rhs_weight_f
                                                     : (const void *)&s->rhs_weight_d;
    const int last = step + 1 == nsteps;
    char *in = q[step % 2], *to = last ? NULL : q[(step + 1) % 2];
    for (long c = 0; c < e->n[0] * n1; c++) {
        const long c0 = c / n1, c1 = c % n1;
        const char *at = interior_row(e, g, in, c0, c1);
        char *out = last ? out_grid + (size_t)c * n2 * es : interior_row(e, g, to, c0, c1);
        for (size_t k = 0; k < nt; k++)
            term[k] = at + offset[k] * (ptrdiff_t)es;
        s->row(out, term, s->coefficients, nt, e->rhs ? e->rhs + (size_t)c * n2 * es : NULL, params, n2, 0);
    }
}

pel_status pel__stencil_run_padded(const pel__stencil_engine *e, const char *grid, char *out, size_t nsteps)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size, nt = s->nterms;
    const long n1 = e->n[1], n2 = e->n[2];
    const long rows = e->n[0] * n1;
    padded g;
    char *memory, *q[2];
    ptrdiff_t *offset;
    const void **terms;
    size_t grid_bytes, offsets_bytes;

    padded_geometry(e, &g);
    grid_bytes = (g.elements * es + 63) / 64 * 64;
    /* The term offsets, then the term pointers of a row. */
    offsets_bytes = (nt * (sizeof(ptrdiff_t) + sizeof(void *)) + 63) / 64 * 64;
    /* Allocated before any data is touched: out of memory leaves the grid
     * as it was. The second padded grid only when a later step needs it. */
    memory = pel_malloc(offsets_bytes + (nsteps > 1 ? 2 : 1) * grid_bytes);
    if (memory == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, "pel_stencil_apply", "no memory for a padded grid of %zu bytes",
                         grid_bytes);
    offset = (ptrdiff_t *)(void *)memory;
    terms = (const void **)(void *)(offset + nt);
    q[0] = memory + offsets_bytes;
    q[1] = nsteps > 1 ? q[0] + grid_bytes : NULL;
    /* Term k of a point lies a fixed number of elements from the point. */
    for (size_t k = 0; k < nt; k++)
        offset[k] = ((ptrdiff_t)s->offset[k][0] * (ptrdiff_t)g.p[1] + s->offset[k][1]) * (ptrdiff_t)g.p[2] +
                    s->offset[k][2];

    for (long c = 0; c < rows; c++)
        memcpy(interior_row(e, &g, q[0], c / n1, c % n1), grid + (size_t)c * (size_t)n2 * es, (size_t)n2 * es);
    fill_ghosts(e, &g, q[0]);

#pragma omp atomic update
    padded_runs++;
    for (size_t step = 0; step < nsteps; step++) {
        padded_step(e, &g, q, out, step, nsteps, offset, terms);
        if (step + 1 < nsteps)
            fill_ghosts(e, &g, q[(step + 1) % 2]);
    }
    pel_free(memory);
    return PEL_OK;
}
