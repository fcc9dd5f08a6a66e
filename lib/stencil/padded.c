/* Small grids: the constant form and the one-level forms (variable
 * coefficients, user row functions) through one padded copy of the grid.
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
 * Ghost layers. A Dirichlet layer holds its face's value for good: it is
 * written once in each padded grid (the steps write interiors only). A
 * copied layer (periodic, Neumann, mirror, nearest) is refreshed after each
 * step, axis 2 by the thread that computed the row, axes 1 and 0 after a
 * barrier each. With Dirichlet faces only, a step is one barrier.
 *
 * Threads. The team of the call (its size chosen from the measured minimum
 * work per thread) splits each step's rows statically, one parallel region
 * for the whole call. The thresholds are in pel__stencil_padded_fits.
 *
 * Later steps compute into the interior of a second padded grid; the last
 * step writes the output grid directly: the caller's work grid when it gave
 * one (so the input grid stays as it was, as the engine leaves it after one
 * step: the Jacobi solver's residual step relies on that), else the input
 * grid itself, whose values are in the padded copy by then.
 */
#include "stencil/engine.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.h"

/* Runs taken by this path, and those of them on more than one thread (for
 * the tests). */
static unsigned long padded_runs, padded_team_runs;

unsigned long pel__stencil_padded_count(void)
{
    unsigned long n;
#pragma omp atomic read
    n = padded_runs;
    return n;
}

unsigned long pel__stencil_padded_team_count(void)
{
    unsigned long n;
#pragma omp atomic read
    n = padded_team_runs;
    return n;
}

/* Geometry of the padded grids. */
typedef struct padded {
    long p[3];          /* padded extents: n[a] + 2 r[a] */
    size_t plane, row;  /* elements between planes, rows */
    size_t elements;    /* of one padded grid */
} padded;

/* The ghost layers of one axis: layer j (j < r: coordinate j - r; else
 * n + j - r) sits at padded index to[j] and is copied from padded index
 * from[j], or holds value[j] (a Dirichlet face) where from[j] < 0. */
typedef struct axis_ghosts {
    long r;
    long to[2 * PEL_STENCIL_MAX_RADIUS], from[2 * PEL_STENCIL_MAX_RADIUS];
    double value[2 * PEL_STENCIL_MAX_RADIUS];
    int copies; /* layers with from[j] >= 0 */
} axis_ghosts;

/* Which layers a fill writes. */
enum { GHOST_VALUES = 1, GHOST_COPIES = 2, GHOST_ALL = 3 };

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
    size_t bytes, l2, budget;
    /* PEL_TUNE=measure asks for the engine's blockings timed (measure.c);
     * this path is not among them. */
    /* One-level forms (variable coefficients, row functions) take this
     * path too; two-level and coupled ones keep the engine. */
    if ((e->form != NULL && (e->form->history || e->form->direct)) || e->nfields > 1 ||
        pel__stencil_measure_requested(blocking))
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
    /* Both padded grids within the team's L2s (each thread's rows in its
     * core's), where the engine's tiles buy nothing. The copy costs a pass
     * over the grid: one step of a stencil of few terms on a grid past a
     * quarter of one L2 ran faster through the engine (3d7 48^3 x 1 step, 1
     * MiB padded, L2 2 MiB: on one thread 0.79 of the plain loop here, 0.85
     * through the engine; on two 0.65 and 0.81; docs/benchmarks.md, "Small
     * stencil calls through the padded copy"). */
    if (!pel__mul_size(l2 / 2, (size_t)(e->nthreads > 1 ? e->nthreads : 1), &budget))
        budget = SIZE_MAX;
    if (nsteps == 1 && e->stencil->nterms <= 7 && bytes > l2 / 4)
        return 0;
    return bytes <= budget;
}

static void axis_ghosts_of(const pel__stencil_engine *e, int a, axis_ghosts *gh)
{
    gh->r = e->r[a];
    gh->copies = 0;
    for (long j = 0; j < 2 * gh->r; j++) {
        long c = j < gh->r ? j - gh->r : e->n[a] + (j - gh->r);
        int face = 0;
        gh->to[j] = c + gh->r;
        if (pel__stencil_map_outside(e, a, &c, &face)) {
            gh->from[j] = c + gh->r;
            gh->copies++;
        } else {
            gh->from[j] = -1;
            gh->value[j] = e->value[a][face % 2];
        }
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

/* The axis-2 ghosts of one padded row (its first element at `row`). */
static void row_ghosts(const axis_ghosts *gh, char *row, size_t es, int which)
{
    for (long j = 0; j < 2 * gh->r; j++) {
        if (gh->from[j] >= 0) {
            if (which & GHOST_COPIES)
                copy_element(row, gh->to[j], gh->from[j], es);
        } else if (which & GHOST_VALUES) {
            pel__stencil_fill_value(row + (size_t)gh->to[j] * es, 1, gh->value[j], es);
        }
    }
}

/* Ghost layer j of axis 1 (a padded row of `layer` elements in the plane
 * at base) or of axis 0 (a whole padded plane of `layer` elements, base the
 * grid). */
static void layer_ghost(const axis_ghosts *gh, long j, char *base, size_t layer, size_t es, int which)
{
    if (gh->from[j] >= 0) {
        if (which & GHOST_COPIES)
            memcpy(base + (size_t)gh->to[j] * layer * es, base + (size_t)gh->from[j] * layer * es, layer * es);
    } else if (which & GHOST_VALUES) {
        pel__stencil_fill_value(base + (size_t)gh->to[j] * layer * es, layer, gh->value[j], es);
    }
}

/* Element (c0, c1, 0) of padded grid q's interior. */
static inline char *interior_row(const pel__stencil_engine *e, const padded *g, char *q, long c0, long c1)
{
    return q + ((size_t)(c0 + e->r[0]) * g->plane + (size_t)(c1 + e->r[1]) * g->row + (size_t)e->r[2]) *
                   e->element_size;
}

/* Inside the call's parallel region: the copied ghost layers of axes 1
 * and 0 of padded grid q, the team sharing the work. Each axis after a
 * barrier: its layers copy the layers the axis before completed. */
static void team_copies_01(const pel__stencil_engine *e, const padded *g, const axis_ghosts *gh, char *q)
{
    const size_t es = e->element_size;
    if (gh[1].copies) {
#pragma omp for schedule(static)
        for (long c0 = 0; c0 < e->n[0]; c0++) {
            char *plane = q + (size_t)(c0 + e->r[0]) * g->plane * es;
            for (long j = 0; j < 2 * gh[1].r; j++)
                layer_ghost(&gh[1], j, plane, g->row, es, GHOST_COPIES);
        }
    }
    if (gh[0].copies) {
#pragma omp for schedule(static)
        for (long j = 0; j < 2 * gh[0].r; j++)
            layer_ghost(&gh[0], j, q, g->plane, es, GHOST_COPIES);
    }
}

/* The same for the Dirichlet layers of axes 1 and 0, which depend on no
 * data: no barrier (the caller's next loop ends in one). */
static void team_values_01(const pel__stencil_engine *e, const padded *g, const axis_ghosts *gh, char *q)
{
    const size_t es = e->element_size;
    if (2 * gh[1].r > gh[1].copies) {
#pragma omp for schedule(static) nowait
        for (long c0 = 0; c0 < e->n[0]; c0++) {
            char *plane = q + (size_t)(c0 + e->r[0]) * g->plane * es;
            for (long j = 0; j < 2 * gh[1].r; j++)
                layer_ghost(&gh[1], j, plane, g->row, es, GHOST_VALUES);
        }
    }
    if (2 * gh[0].r > gh[0].copies) {
#pragma omp for schedule(static) nowait
        for (long j = 0; j < 2 * gh[0].r; j++)
            layer_ghost(&gh[0], j, q, g->plane, es, GHOST_VALUES);
    }
}

pel_status pel__stencil_run_padded(const pel__stencil_engine *e, const char *grid, char *out, size_t nsteps)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size, nt = s->nterms, n2 = (size_t)e->n[2];
    const long n1 = e->n[1];
    const long rows = e->n[0] * n1;
    const int nthreads = e->nthreads > 1 ? e->nthreads : 1;
    const void *params = s->precision == PEL_FLOAT32 ? (const void *)&s->rhs_weight_f
                                                     : (const void *)&s->rhs_weight_d;
    const pel__stencil_form *form = e->form;
    const size_t npoint = form != NULL ? form->npoint : 0;
    padded g;
    axis_ghosts gh[3];
    char *memory, *q[2];
    ptrdiff_t *offset;
    const void **terms;
    size_t grid_bytes, offsets_bytes, term_stride;

    padded_geometry(e, &g);
    for (int a = 0; a < 3; a++)
        axis_ghosts_of(e, a, &gh[a]);
    grid_bytes = (g.elements * es + 63) / 64 * 64;
    /* The term offsets, then each thread's term pointers of a row (and a
     * form's pointwise row pointers after them), a cache line apart
     * (sharing a line cost 2x the one-thread time on 3d7 24^3). */
    term_stride = ((nt + npoint) * sizeof(void *) + 63) / 64 * 64 / sizeof(void *);
    offsets_bytes = (nt * sizeof(ptrdiff_t) + 63) / 64 * 64 + (size_t)nthreads * term_stride * sizeof(void *);
    /* Allocated before any data is touched: out of memory leaves the grid
     * as it was. The second padded grid only when a later step needs it. */
    memory = pel_malloc(offsets_bytes + (nsteps > 1 ? 2 : 1) * grid_bytes);
    if (memory == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, "pel_stencil_apply", "no memory for a padded grid of %zu bytes",
                         grid_bytes);
    offset = (ptrdiff_t *)(void *)memory;
    terms = (const void **)(void *)(memory + (nt * sizeof(ptrdiff_t) + 63) / 64 * 64);
    q[0] = memory + offsets_bytes;
    q[1] = nsteps > 1 ? q[0] + grid_bytes : NULL;
    /* Term k of a point lies a fixed number of elements from the point. */
    for (size_t k = 0; k < nt; k++)
        offset[k] = ((ptrdiff_t)s->offset[k][0] * (ptrdiff_t)g.p[1] + s->offset[k][1]) * (ptrdiff_t)g.p[2] +
                    s->offset[k][2];

#pragma omp atomic update
    padded_runs++;

#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        int id = 0;
        const void **term;
#ifdef _OPENMP
        id = omp_get_thread_num();
#endif
        term = terms + (size_t)id * term_stride;
#ifdef _OPENMP
        if (id == 0 && omp_get_num_threads() > 1) {
#pragma omp atomic update
            padded_team_runs++;
        }
#endif

        /* The Dirichlet ghosts of both grids, which no step writes; the
         * input level and its copied ghosts in q[0]. The value layers and
         * the interior rows are disjoint: one barrier, at the rows' end. */
        team_values_01(e, &g, gh, q[0]);
        if (q[1] != NULL)
            team_values_01(e, &g, gh, q[1]);
#pragma omp for schedule(static)
        for (long c = 0; c < rows; c++) {
            char *row = interior_row(e, &g, q[0], c / n1, c % n1);
            memcpy(row, grid + (size_t)c * n2 * es, n2 * es);
            row_ghosts(&gh[2], row - (size_t)e->r[2] * es, es, GHOST_ALL);
            if (q[1] != NULL)
                row_ghosts(&gh[2], interior_row(e, &g, q[1], c / n1, c % n1) - (size_t)e->r[2] * es, es,
                           GHOST_VALUES);
        }
        team_copies_01(e, &g, gh, q[0]);

        for (size_t step = 0; step < nsteps; step++) {
            const int last = step + 1 == nsteps;
            char *in = q[step % 2], *to = last ? NULL : q[(step + 1) % 2];
            /* The implicit barrier of each loop orders the steps: every row
             * of a level is written (and its ghosts copied) before any row
             * of the next step reads it. */
#pragma omp for schedule(static)
            for (long c = 0; c < rows; c++) {
                const long c0 = c / n1, c1 = c % n1;
                const char *at = interior_row(e, &g, in, c0, c1);
                char *dst = last ? out + (size_t)c * n2 * es : interior_row(e, &g, to, c0, c1);
                for (size_t k = 0; k < nt; k++)
                    term[k] = at + offset[k] * (ptrdiff_t)es;
                if (form == NULL) {
                    s->row(dst, term, s->coefficients, nt, e->rhs ? e->rhs + (size_t)c * n2 * es : NULL, params,
                           n2, 0);
                } else {
                    /* A form's row: its pointwise grids are unpadded, row c
                     * of each; the whole row is interior, so one call. */
                    const void **point = term + nt;
                    const long where[3] = {c0, c1, 0};
                    for (size_t j = 0; j < npoint; j++)
                        point[j] = form->point[j] + (size_t)c * n2 * es;
                    form->row(form, dst, term, point, where, n2, 0);
                }
                if (!last && gh[2].copies)
                    row_ghosts(&gh[2], dst - (size_t)e->r[2] * es, es, GHOST_COPIES);
            }
            if (!last)
                team_copies_01(e, &g, gh, to);
        }
    }
    pel_free(memory);
    return PEL_OK;
}
