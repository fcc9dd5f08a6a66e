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
    MAX_PLAN = 8192, /* pointers in a row plan (64 KiB) */
    ENDS_CHUNK = 32  /* end points resolved at once by compute_ends_direct */
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
    char *const_row[3][2]; /* Dirichlet rows of the face value, long enough for any row */
    const void **plan_ptr;      /* a plane's row plan (compute_plane) */
    ptrdiff_t *plan_step;       /* per end-point plan pointer: bytes it moves by per row (0 or the stride) */
    size_t plan_capacity;       /* pointers the plan may hold */
    ptrdiff_t *plan_offset;     /* per end point of the plan: its x - xa */
    const char **point_row;     /* per pointwise grid: the output row's row (x = 0) */
    const void **point_ptr;     /* per pointwise grid (and the history level): a call's first element */
    const struct level_view *history; /* two-level forms: the level before the input level */
    const char *history_row;    /* its row at the output row, element history_x0 */
    long history_x0;
    int history_wraps;          /* the history is a grid (wrap x on a periodic axis 2) */
    const struct level_view *field_view[4]; /* coupled systems: each field's view of the input level */
    char *end_rows;             /* constant form: per input row, ENDS_CHUNK + 2*r2 resolved values (compute_ends) */
} thread_space;

/* Maps coordinate *c on axis a into the view. Returns 1 when *c (possibly
 * wrapped or reflected) is in the view, 0 when it lies behind a Dirichlet
 * face, stored in *face. Only coordinates outside the domain leave a view,
 * and a mapped coordinate always lands in it (a view that stops short of a
 * face covers the radius beyond every point it serves). */
static inline int resolve(const pel__stencil_engine *e, const level_view *v, int a, long *c, int *face)
{
    if (*c >= v->lo[a] && *c < v->hi[a])
        return 1;
    return pel__stencil_map_outside(e, a, c, face);
}

/* Pointer to element (c0, c1, lo[2]) of a view. */
static inline char *row_pointer(const pel__stencil_engine *e, const level_view *v, long c0, long c1)
{
    if (v->base)
        return v->base + (size_t)((c0 * e->n[1] + c1) * e->n[2]) * e->element_size;
    return v->slot[pel__stencil_mod(c0, v->m)] + (size_t)((c1 - v->lo[1]) * v->row_stride + v->x_offset) * e->element_size;
}

/* Whether a form reads anything at the output point's own coordinates
 * (pointwise grids, the history level, the coordinates): its rows are cut
 * where a periodic axis 2 wraps. */
static inline int reads_at_point(const pel__stencil_form *form)
{
    return form->npoint > 0 || form->history || form->position;
}

/* The coordinates a form's row gets: wrapped into the grid for forms that
 * read them (position), the plain ones otherwise (no divisions). */
static inline void coordinates(const pel__stencil_engine *e, long c0, long c1, long x, long *at)
{
    if (e->position) {
        at[0] = pel__stencil_mod(c0, e->n[0]);
        at[1] = pel__stencil_mod(c1, e->n[1]);
        at[2] = pel__stencil_mod(x, e->n[2]);
    } else {
        at[0] = c0;
        at[1] = c1;
        at[2] = x;
    }
}

/* Calls the form's row function; the constant form calls its stencil's row
 * kernel directly (the call the engine made before forms existed). */
static inline void call_row(const pel__stencil_engine *e, void *out, const void *const *term,
                            const void *const *point, const long *at, size_t n, int stream)
{
    const pel__stencil_form *form = e->form;
    if (e->direct) {
        const pel_stencil *s = e->stencil;
        s->row(out, term, s->coefficients, s->nterms, e->rhs ? point[0] : NULL, form->params, n, stream);
    } else {
        form->row(form, out, term, point, at, n, stream);
    }
}

/* Calls the form's batched end points; the constant form calls the
 * stencil's batched kernel directly. */
static inline void call_points(const pel__stencil_engine *e, void *out, const ptrdiff_t *offset,
                               const void *const *term, const void *const *point, const long *at, size_t count)
{
    const pel__stencil_form *form = e->form;
    if (e->direct) {
        const pel_stencil *s = e->stencil;
        (s->fma ? pel__stencil_points_fma : pel__stencil_points)(s->precision, out, offset, term, s->coefficients,
                                                                 s->nterms, form->npoint ? point[0] : NULL,
                                                                 form->params, count);
    } else {
        form->points(form, out, offset, term, point, at, count);
    }
}

/* Points element x of every pointwise grid's row (wrapped on a periodic
 * axis 2, whose grown tiles run past the grid's ends). */
static inline void point_at(const pel__stencil_engine *e, thread_space *ts, long x)
{
    const size_t es = e->element_size;
    long wrapped;
    if (!e->pointwise)
        return;
    wrapped = pel__stencil_mod(x, e->n[2]);
    for (size_t j = 0; j < e->form->npoint; j++)
        ts->point_ptr[j] = ts->point_row[j] + (size_t)wrapped * es;
    if (e->form->history)
        ts->point_ptr[e->form->npoint] =
            ts->history_row + (size_t)((ts->history_wraps ? wrapped : x) - ts->history_x0) * es;
}

/* Outputs x in [sa, sb) of a row whose input rows are already resolved in
 * ts (see compute_row): the few points at the row's ends where some term
 * leaves the view along axis 2. Each point gets its terms resolved by the
 * boundary rules and runs through the same row function (n = 1), so it gets
 * the same operations in the same order as every other point. */
static void compute_ends_direct(const pel__stencil_engine *e, thread_space *ts, const level_view *in, char *out,
                                long c0, long c1, long sa, long sb, long xa);

static void compute_ends(const pel__stencil_engine *e, thread_space *ts, const level_view *in, char *out, long c0,
                         long c1, long sa, long sb, long xa)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size;
    if (e->direct && sb > sa) {
        compute_ends_direct(e, ts, in, out, c0, c1, sa, sb, xa);
        return;
    }
    for (long x = sa; x < sb; x++) {
        for (size_t k = 0; k < s->nterms; k++) {
            const size_t u = s->term_row[k];
            long at = x + s->offset[k][2];
            int face = 0;
            if (ts->row_const[u])
                ts->term_ptr[k] = ts->row_ptr[u];
            else if (resolve(e, in, 2, &at, &face))
                ts->term_ptr[k] = ts->row_ptr[u] + (size_t)(at - in->lo[2]) * es;
            else
                ts->term_ptr[k] = ts->const_row[2][face % 2];
        }
        point_at(e, ts, x);
        {
            long at[3];
            static const ptrdiff_t zero = 0;
            coordinates(e, c0, c1, x, at);
            if (e->form->points)
                call_points(e, out + (size_t)(x - xa) * es, &zero, ts->term_ptr, ts->point_ptr, at, 1);
            else
                call_row(e, out + (size_t)(x - xa) * es, ts->term_ptr, ts->point_ptr, at, 1, 0);
        }
    }
}

/* compute_ends for the constant form, by pieces of at most ENDS_CHUNK points:
 * each input row's values over the piece and its r2 neighbours on either
 * side are resolved by the boundary rules once into ts->end_rows, and the
 * stencil's row kernel runs on the piece with its term pointers there. Each
 * point gets the inputs and the order of operations that compute_ends gives
 * it point by point (the row kernel and the point kernel compute the same
 * bits), at a fraction of the cost: a row end no longer resolves every term
 * of every point (3d25r4 32^3, one step: 2.7M of the call's 7M instructions
 * went there). A piece stops where the rhs grid's row wraps on a periodic
 * axis 2. */
static void compute_ends_direct(const pel__stencil_engine *e, thread_space *ts, const level_view *in, char *out,
                                long c0, long c1, long sa, long sb, long xa)
{
    enum { MAX_ROWS = (2 * PEL_STENCIL_MAX_RADIUS + 1) * (2 * PEL_STENCIL_MAX_RADIUS + 1) };
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size;
    const long r2 = e->r[2], stride = ENDS_CHUNK + 2 * r2;
    /* Rows whose terms all have axis-2 offset 0 read only the piece itself:
     * where it lies in the view (always, but on a periodic axis 2, whose
     * grown tiles run past the grid), their term pointers go straight to
     * the row. */
    unsigned char shifted[MAX_ROWS] = {0};
    for (size_t k = 0; k < s->nterms; k++)
        if (s->offset[k][2] != 0)
            shifted[s->term_row[k]] = 1;
    for (long x = sa; x < sb;) {
        long end = sb - x < ENDS_CHUNK ? sb : x + ENDS_CHUNK;
        if (e->pointwise) {
            const long wrapped = pel__stencil_mod(x, e->n[2]);
            if (end - x > e->n[2] - wrapped)
                end = x + (e->n[2] - wrapped);
        }
        const int inside = x >= in->lo[2] && end <= in->hi[2];
        for (size_t u = 0; u < s->nrows; u++) {
            char *row = ts->end_rows + (size_t)u * (size_t)stride * es;
            /* A Dirichlet face's constant row holds its value everywhere. */
            if (ts->row_const[u] || (!shifted[u] && inside))
                continue;
            for (long j = 0; j < end - x + 2 * r2; j++) {
                long at = x - r2 + j;
                int face = 0;
                const char *from = resolve(e, in, 2, &at, &face) ? ts->row_ptr[u] + (size_t)(at - in->lo[2]) * es
                                                                 : ts->const_row[2][face % 2];
                if (es == sizeof(double))
                    memcpy(row + (size_t)j * sizeof(double), from, sizeof(double));
                else
                    memcpy(row + (size_t)j * sizeof(float), from, sizeof(float));
            }
        }
        for (size_t k = 0; k < s->nterms; k++) {
            const size_t u = s->term_row[k];
            if (ts->row_const[u])
                ts->term_ptr[k] = ts->row_ptr[u];
            else if (!shifted[u] && inside)
                ts->term_ptr[k] = ts->row_ptr[u] + (size_t)(x - in->lo[2]) * es;
            else
                ts->term_ptr[k] = ts->end_rows + ((size_t)u * (size_t)stride + (size_t)(r2 + s->offset[k][2])) * es;
        }
        point_at(e, ts, x);
        {
            long at[3];
            coordinates(e, c0, c1, x, at);
            call_row(e, out + (size_t)(x - xa) * es, ts->term_ptr, ts->point_ptr, at, (size_t)(end - x), 0);
        }
        x = end;
    }
}

/* Resolves the input rows of output row (c0, c1) by the boundary rules:
 * ts->row_ptr[u] points at element lo[2] of input row u of the view, or at a
 * row of the Dirichlet face value (ts->row_const[u] = 1). */
static void resolve_rows(const pel__stencil_engine *e, thread_space *ts, const level_view *in, long c0, long c1)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size;
    /* The ring slot of plane c0, found with one division; the neighbouring
     * planes' slots follow by a conditional wrap. */
    const long slot0 = in->base ? 0 : pel__stencil_mod(c0, in->m);

    for (size_t u = 0; u < s->nrows; u++) {
        const int d0 = s->row_offset[u][0];
        long a0 = c0 + d0, a1 = c1 + s->row_offset[u][1];
        int face = 0;
        /* A coupled system's row reads its own field; the fields' views
         * share the geometry of `in`. */
        if (s->row_field)
            in = ts->field_view[s->row_field[u]];
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
}

/* The rows (x = 0) of the pointwise grids at output row (c0, c1), wrapped
 * on periodic axes. */
static void point_rows_of(const pel__stencil_engine *e, thread_space *ts, long c0, long c1)
{
    const size_t row = (size_t)((pel__stencil_mod(c0, e->n[0]) * e->n[1] + pel__stencil_mod(c1, e->n[1])) * e->n[2]);
    for (size_t j = 0; j < e->form->npoint; j++)
        ts->point_row[j] = e->form->point[j] + row * e->element_size;
    if (e->form->history) {
        /* The level before: a grid (wrapped coordinates) or a ring (the
         * unwrapped coordinates of the tile, which it covers). */
        const level_view *h = ts->history;
        ts->history_wraps = h->base != NULL;
        ts->history_row = h->base ? row_pointer(e, h, pel__stencil_mod(c0, e->n[0]), pel__stencil_mod(c1, e->n[1]))
                                  : row_pointer(e, h, c0, c1);
        ts->history_x0 = h->base ? 0 : h->lo[2];
    }
}

static inline void point_rows(const pel__stencil_engine *e, thread_space *ts, long c0, long c1)
{
    if (e->pointwise)
        point_rows_of(e, ts, c0, c1);
}

/* The part [*vlo, *vhi) of [xa, xb) where every term's x lies inside the
 * view's row, so the vector kernel runs on it directly. */
static void vector_range(const pel__stencil_engine *e, const level_view *in, long xa, long xb, long *vlo, long *vhi)
{
    const long r2 = e->r[2];
    *vlo = in->lo[2] + r2 > xa ? in->lo[2] + r2 : xa;
    *vhi = in->hi[2] - r2 < xb ? in->hi[2] - r2 : xb;
    if (*vlo > xb)
        *vlo = xb;
    if (*vhi < *vlo)
        *vhi = *vlo;
}

/* Computes output points (c0, c1, x) for x in [xa, xb) into out (element xa)
 * from the level in `in`: any row, whatever the boundaries. */
static void compute_row(const pel__stencil_engine *e, thread_space *ts, const level_view *in, char *out, long c0,
                        long c1, long xa, long xb, int stream)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size;
    const long n2 = e->n[2];
    const int has_points = e->pointwise;
    long vlo, vhi;

    resolve_rows(e, ts, in, c0, c1);
    point_rows(e, ts, c0, c1);
    vector_range(e, in, xa, xb, &vlo, &vhi);
    for (long x = vlo; x < vhi;) {
        long wrapped = has_points ? pel__stencil_mod(x, n2) : 0, end = vhi;
        /* Pointwise rows wrap at multiples of n2 on a periodic axis 2. */
        if (has_points && end - x > n2 - wrapped)
            end = x + (n2 - wrapped);
        for (size_t k = 0; k < s->nterms; k++) {
            size_t u = s->term_row[k];
            ts->term_ptr[k] = ts->row_const[u] ? ts->row_ptr[u]
                                               : ts->row_ptr[u] + (size_t)(x + s->offset[k][2] - in->lo[2]) * es;
        }
        point_at(e, ts, x);
        {
            long at[3];
            coordinates(e, c0, c1, x, at);
            call_row(e, out + (size_t)(x - xa) * es, ts->term_ptr, ts->point_ptr, at, (size_t)(end - x), stream);
        }
        x = end;
    }

    /* The ends, where some neighbour leaves the view along axis 2. */
    compute_ends(e, ts, in, out, c0, c1, xa, vlo, xa);
    compute_ends(e, ts, in, out, c0, c1, vhi, xb, xa);
}

static void fill_ghost_columns(const pel__stencil_engine *e, const thread_space *ts, char *row, long lo2, long hi2);

/* Computes rows c1 in [lo1, hi1) of plane c0, points x in [xa, xb), into out
 * (element (lo1, xa)), rows out_stride bytes apart; ring rows (ghosts != 0)
 * get their ghost columns filled too.
 *
 * The regular rows, whose input rows all lie inside the view on axes 0 and
 * 1, share one row plan: the term pointers of the vector part and of each
 * end point, resolved by the boundary rules once, for the first regular row.
 * A row further on moves every pointer into the view by whole rows, while
 * pointers to a Dirichlet face's value stay. The other rows (next to a
 * face, or in grids too small for a plan) go through compute_row. */
static void compute_plane(const pel__stencil_engine *e, thread_space *ts, const level_view *in, char *out,
                          size_t out_stride, long c0, long lo1, long hi1, long xa, long xb, int stream, int ghosts)
{
    const pel_stencil *s = e->stencil;
    const size_t es = e->element_size, nt = s->nterms;
    const size_t in_stride = (size_t)in->row_stride * es;
    long reg_lo = hi1, reg_hi = hi1, vlo, vhi;
    size_t nend = 0, nptr = 0;

    vector_range(e, in, xa, xb, &vlo, &vhi);
    /* A plan needs every input plane in the view, room for its pointers, and
     * pointwise rows that do not wrap along axis 2. */
    if (c0 - e->r[0] >= in->lo[0] && c0 + e->r[0] < in->hi[0] && (!e->pointwise ||
                                                           (xa >= 0 && xb <= e->n[2]))) {
        nend = (size_t)((vlo - xa) + (xb - vhi));
        nptr = (1 + nend) * nt;
        if (nptr <= ts->plan_capacity) {
            reg_lo = in->lo[1] + e->r[1] > lo1 ? in->lo[1] + e->r[1] : lo1;
            reg_hi = in->hi[1] - e->r[1] < hi1 ? in->hi[1] - e->r[1] : hi1;
            if (reg_hi <= reg_lo)
                reg_lo = reg_hi = hi1;
        }
    }

    for (long c1 = lo1; c1 < hi1; c1++, out += out_stride) {
        if (c1 < reg_lo || c1 >= reg_hi) {
            compute_row(e, ts, in, out, c0, c1, xa, xb, stream);
        } else {
            const void **plan = ts->plan_ptr;
            point_rows(e, ts, c0, c1);
            if (c1 == reg_lo) {
                /* The plan of the first regular row. */
                size_t j = 1;
                resolve_rows(e, ts, in, c0, c1);
                /* An empty vector part (a row shorter than 2*r2+1) has no
                 * pointers: vlo + offset could lie before the row's start,
                 * and forming such a pointer is undefined behaviour. */
                for (size_t k = 0; k < nt && vhi > vlo; k++) {
                    /* An empty vector part (vlo clipped to xb) has no
                     * first element: its pointers then stay at the row's
                     * start, a valid address that moves with the rows,
                     * instead of one formed before the row (UB). */
                    plan[k] = ts->row_ptr[s->term_row[k]];
                    if (vhi > vlo)
                        plan[k] = (const char *)plan[k] + (size_t)(vlo + s->offset[k][2] - in->lo[2]) * es;
                }
                /* The vector part's pointers all move by a row (none when
                 * it is empty), so every pointer steps in one loop below. */
                for (size_t k = 0; k < nt; k++)
                    ts->plan_step[k] = vhi > vlo ? (ptrdiff_t)in_stride : 0;
                for (long x = xa; x < xb; x++) {
                    if (x == vlo)
                        x = vhi;
                    if (x >= xb)
                        break;
                    for (size_t k = 0; k < nt; k++) {
                        const size_t u = s->term_row[k];
                        long at = x + s->offset[k][2];
                        int face = 0;
                        const int inside = resolve(e, in, 2, &at, &face);
                        plan[j * nt + k] =
                            inside ? ts->row_ptr[u] + (size_t)(at - in->lo[2]) * es : ts->const_row[2][face % 2];
                        ts->plan_step[j * nt + k] = inside ? (ptrdiff_t)in_stride : 0;
                    }
                    ts->plan_offset[j - 1] = x - xa;
                    j++;
                }
            } else {
                /* The vector part's pointers all move; an end point's stay
                 * where they hold a Dirichlet face's value. Each pointer
                 * moves by its own step (the stride or 0), a plain add of
                 * two 64-bit arrays: a box stencil's plan (a row function's
                 * 27 terms per end point) is stepped on every row, and the
                 * byte mask this replaced cost 7.5 instructions a pointer
                 * (callgrind, 3d7-rowfn 64x64x256); the vector part's 27
                 * pointers, stepped in a scalar loop of their own, took a
                 * third of this function's samples (perf, 3d7-rowfn 256^3
                 * x 20). */
                const ptrdiff_t *step = ts->plan_step;
#pragma omp simd
                for (size_t i = 0; i < nptr; i++)
                    plan[i] = (const char *)plan[i] + step[i];
            }
            long at[3];
            if (vhi > vlo) {
                point_at(e, ts, vlo);
                coordinates(e, c0, c1, vlo, at);
                call_row(e, out + (size_t)(vlo - xa) * es, plan, ts->point_ptr, at, (size_t)(vhi - vlo), stream);
            }
            if (nend && e->form->points) {
                point_at(e, ts, xa);
                coordinates(e, c0, c1, xa, at);
                call_points(e, out, ts->plan_offset, plan + nt, ts->point_ptr, at, nend);
            } else {
                for (size_t j = 0; j < nend; j++) {
                    point_at(e, ts, xa + ts->plan_offset[j]);
                    coordinates(e, c0, c1, xa + ts->plan_offset[j], at);
                    call_row(e, out + (size_t)ts->plan_offset[j] * es, plan + (1 + j) * nt, ts->point_ptr, at, 1,
                             0);
                }
            }
        }
        if (ghosts)
            fill_ghost_columns(e, ts, out - (size_t)e->r[2] * es, xa, xb);
    }
}

/* Ring plane geometry shared by every tile: the largest grown tile. */
static long grown(const pel__stencil_engine *e, int a, size_t levels)
{
    long w = e->tile[a] + 2 * e->r[a] * (long)levels;
    if (e->kind[a][0] != PEL_BOUNDARY_PERIODIC && w > e->n[a])
        w = e->n[a];
    return w;
}

/* Elements of a ring row before the level's first point: its r2 ghost
 * columns, rounded up to whole cache lines so that the first point (and so
 * every vector of a row whose level starts at a multiple of 8 doubles, as
 * whole-row tiles do) is 64-byte aligned. With r2 columns only, every
 * AVX-512 load of a ring row split a cache line; aligned, 3d7 256^3 x 20
 * ran 1.1x faster on 2 threads (docs/benchmarks.md, 2026-12-03). */
static long ring_lead(const pel__stencil_engine *e)
{
    const long per_line = 64 / (long)e->element_size;
    return (e->r[2] + per_line - 1) / per_line * per_line;
}

static long ring_row_stride(const pel__stencil_engine *e)
{
    /* r2 ghost columns on each side hold boundary values at clipped faces. */
    long w = grown(e, 2, e->time_block - 1) + 2 * ring_lead(e), per_line = 64 / (long)e->element_size;
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
            long x = side == 0 ? -1 - k : e->n[2] + k, from = x;
            int face = 0;
            /* The boundary rules map a ghost onto a point of this row (the
             * row holds the whole axis when reflections chain) or onto a
             * Dirichlet face's value. */
            const char *value = pel__stencil_map_outside(e, 2, &from, &face) ? row + (size_t)(from - lo2 + r2) * es
                                                                : ts->const_row[2][face % 2];
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

/* The view of level j (1..T-1) of a tile: its ring of planes, ring number
 * `ring` of the thread's scratch (a system keeps one ring per field and
 * level), each plane `plane` elements (ring_plane_elements). */
static inline void ring_view(const pel__stencil_engine *e, const thread_space *ts, size_t plane, size_t j,
                             size_t ring, size_t T, const long *tlo, const long *thi, level_view *v)
{
    const size_t es = e->element_size;
    char *base = ts->scratch + ring * (size_t)v->m * plane * es;
    for (long k = 0; k < v->m; k++)
        v->slot[k] = base + (size_t)k * plane * es;
    for (int a = 0; a < 3; a++)
        level_range(e, a, tlo[a], thi[a], j, T, &v->lo[a], &v->hi[a]);
    /* Rows start r2 ghost columns before the level's first point; at a
     * clipped (non-periodic) face those ghosts hold the boundary values and
     * belong to the view. */
    v->x_offset = ring_lead(e);
    if (e->kind[2][0] != PEL_BOUNDARY_PERIODIC) {
        if (v->lo[2] == 0) {
            v->lo[2] -= e->r[2];
            v->x_offset = ring_lead(e) - e->r[2];
        }
        if (v->hi[2] == e->n[2])
            v->hi[2] += e->r[2];
    }
}

static void grid_view(const pel__stencil_engine *e, char *base, level_view *v)
{
    memset(v, 0, sizeof *v);
    v->base = base;
    v->row_stride = e->n[2];
    for (int a = 0; a < 3; a++) {
        v->lo[a] = 0;
        v->hi[a] = e->n[a];
    }
}

/* Copies the tile's own points of plane q of a ring level (rows from
 * `plane_start`, element (lo1, lo2), row_stride elements apart) into grid
 * dst: a two-level form's block ends with both of its last levels. */
static void copy_own_points(const pel__stencil_engine *e, const char *plane_start, long row_stride, const long *lo,
                            const long *tlo, const long *thi, long q, char *dst)
{
    const size_t es = e->element_size;
    if (q < tlo[0] || q >= thi[0])
        return;
    for (long c1 = tlo[1]; c1 < thi[1]; c1++)
        memcpy(dst + (size_t)((q * e->n[1] + c1) * e->n[2] + tlo[2]) * es,
               plane_start + (size_t)((c1 - lo[1]) * row_stride + (tlo[2] - lo[2])) * es,
               (size_t)(thi[2] - tlo[2]) * es);
}

/* Advances one tile by T steps from grid src into grid dst. A two-level
 * form also reads src_prev (the level before src) and writes level T-1 into
 * dst_prev (T >= 2; for T = 1 the level before dst is src itself). */
static void run_tile(const pel__stencil_engine *fields, int nfields, thread_space *ts, char *const *src,
                     char *const *dst, char *src_prev, char *dst_prev, const long *tlo, const long *thi, size_t T)
{
    const pel__stencil_engine *e = &fields[0];
    const size_t es = e->element_size;
    const long r0 = e->r[0], m = 2 * r0 + 1;
    const size_t plane = ring_plane_elements(e);
    long p_end;
    level_view grid_in[4], grid_prev, ring_in[4], ring_history;

    for (int f = 0; f < nfields; f++)
        grid_view(e, src[f], &grid_in[f]);
    grid_view(e, src_prev, &grid_prev);
    memset(&ring_in[0], 0, sizeof ring_in[0]);
    ring_in[0].m = m;
    ring_in[0].row_stride = ring_row_stride(e);
    for (int f = 1; f < nfields; f++)
        ring_in[f] = ring_in[0];
    ring_history = ring_in[0];

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
                for (int f = 0; f < nfields; f++) {
                    if (t > 1)
                        ring_view(e, ts, plane, t - 1, (t - 2) * (size_t)nfields + (size_t)f, T, tlo, thi,
                                  &ring_in[f]);
                    ts->field_view[f] = t == 1 ? &grid_in[f] : &ring_in[f];
                }
                in = ts->field_view[0];
                if (e->form->history) {
                    /* Level t-2: src_prev, src, or a ring. Its ring still
                     * holds plane q: it computed plane q + 2*r0 last, and a
                     * ring keeps 2*r0 + 1 planes. */
                    if (t == 1) {
                        ts->history = &grid_prev;
                    } else if (t == 2) {
                        ts->history = &grid_in[0];
                    } else {
                        ring_view(e, ts, plane, t - 2, t - 3, T, tlo, thi, &ring_history);
                        ts->history = &ring_history;
                    }
                }
                for (int f = 0; f < nfields; f++) {
                    /* Every field of level t before any of level t + 1. */
                    const pel__stencil_engine *ef = &fields[f];
                    if (t < T) {
                        char *base = ts->scratch + ((t - 1) * (size_t)nfields + (size_t)f) * (size_t)m * plane * es;
                        char *start = base + (size_t)pel__stencil_mod(q, m) * plane * es + (size_t)ring_lead(e) * es;
                        compute_plane(ef, ts, in, start, (size_t)ring_in[0].row_stride * es, q, lo[1], hi[1], lo[2],
                                      hi[2], 0, 1);
                        if (dst_prev != NULL && t == T - 1)
                            copy_own_points(e, start, ring_in[0].row_stride, lo, tlo, thi, q, dst_prev);
                    } else {
                        compute_plane(ef, ts, in, dst[f] + (size_t)((q * e->n[1] + lo[1]) * e->n[2] + lo[2]) * es,
                                      (size_t)e->n[2] * es, q, lo[1], hi[1], lo[2], hi[2], e->stream, 0);
                    }
                }
            }
        }
    }
}

/* The tiles of one block: per axis, the range [cut[a][0], cut[a][3]) in
 * three pieces [cut[a][j], cut[a][j+1]), each cut into tiles of tile[a]
 * points (the last tile of a piece shorter). A box run skips the box of the
 * middle pieces (skip set); a whole-grid run has one piece per axis. */
typedef struct block_tiling {
    long cut[3][4];
    long count[3][3]; /* tiles per piece */
    size_t ntiles;    /* all tiles, skipped ones included */
    int skip;
} block_tiling;

/* A run restricted to a box of outputs (pel__stencil_run_box). */
typedef struct box_plan {
    long lo[3], hi[3];           /* the output box */
    long skip_lo[3], skip_hi[3]; /* a box inside it left out (empty: none) */
    const char *src;
    char *dst, *scratch[2];
} box_plan;

static void tiling_counts(const pel__stencil_engine *e, block_tiling *bt)
{
    bt->ntiles = 1;
    for (int a = 0; a < 3; a++) {
        long total = 0;
        for (int j = 0; j < 3; j++) {
            long len = bt->cut[a][j + 1] - bt->cut[a][j];
            bt->count[a][j] = len > 0 ? (len + e->tile[a] - 1) / e->tile[a] : 0;
            total += bt->count[a][j];
        }
        bt->ntiles *= (size_t)total;
    }
}

static void whole_tiling(const pel__stencil_engine *e, block_tiling *bt)
{
    for (int a = 0; a < 3; a++) {
        bt->cut[a][0] = 0;
        bt->cut[a][1] = bt->cut[a][2] = bt->cut[a][3] = e->n[a];
    }
    bt->skip = 0;
    tiling_counts(e, bt);
}

/* The tiling of block `block` of a box run with `rem` steps left after it:
 * the block computes the box grown by r*rem (whose values the later blocks
 * read), clipped at non-periodic faces (a periodic axis is run whole), and
 * leaves out the skipped box shrunk by r*rem on every side that is not a
 * face of the domain (the points whose later values the box still needs). */
static void box_tiling(const pel__stencil_engine *e, const box_plan *box, size_t rem, block_tiling *bt)
{
    bt->skip = 1;
    for (int a = 0; a < 3; a++) {
        const long grow = e->r[a] * (long)rem, n = e->n[a];
        const int periodic = e->kind[a][0] == PEL_BOUNDARY_PERIODIC;
        long lo = periodic ? 0 : box->lo[a] - grow, hi = periodic ? n : box->hi[a] + grow;
        long klo = box->skip_lo[a], khi = box->skip_hi[a];
        if (lo < 0)
            lo = 0;
        if (hi > n)
            hi = n;
        if (!(periodic && klo == 0 && khi == n)) {
            if (periodic || klo > 0)
                klo += grow;
            if (periodic || khi < n)
                khi -= grow;
        }
        klo = klo < lo ? lo : klo > hi ? hi : klo;
        khi = khi < klo ? klo : khi > hi ? hi : khi;
        if (khi <= klo)
            bt->skip = 0;
        bt->cut[a][0] = lo;
        bt->cut[a][1] = klo;
        bt->cut[a][2] = khi;
        bt->cut[a][3] = hi;
    }
    if (!bt->skip)
        for (int a = 0; a < 3; a++) {
            bt->cut[a][1] = bt->cut[a][2] = bt->cut[a][3];
        }
    tiling_counts(e, bt);
}

/* Tile `index` of a tiling (axis 0 slowest, then axis 1, then axis 2, so a
 * static partition gives each thread a contiguous band): its range in
 * tlo/thi; returns 0 for a skipped tile. */
static int tile_of(const pel__stencil_engine *e, const block_tiling *bt, size_t index, long *tlo, long *thi)
{
    int middle = 1;
    for (int a = 2; a >= 0; a--) {
        size_t total = (size_t)(bt->count[a][0] + bt->count[a][1] + bt->count[a][2]);
        long i = (long)(index % total);
        int j = 0;
        index /= total;
        while (i >= bt->count[a][j]) {
            i -= bt->count[a][j];
            j++;
        }
        tlo[a] = bt->cut[a][j] + i * e->tile[a];
        thi[a] = tlo[a] + e->tile[a] < bt->cut[a][j + 1] ? tlo[a] + e->tile[a] : bt->cut[a][j + 1];
        middle &= j == 1;
    }
    return !(bt->skip && middle);
}

/* Runs the blocks of pel__stencil_run with a form set. buffer[*current]
 * holds the initial level (and buffer[*previous] the one before for a
 * two-level form); on return they name the buffers of the final levels.
 * A one-level form uses buffers 0 and 1, a two-level form 0..3: a block
 * writes its last two levels while other tiles still read the first two. */
static pel_status run_blocks(const pel__stencil_engine *e, char *const *buffer, int *previous, int *current,
                             size_t nsteps, const box_plan *box)
{
    /* One engine per output field (the same geometry, each field's form and
     * terms); a plain form is a system of one field. */
    const int nfields = e->nfields > 1 ? e->nfields : 1;
    pel__stencil_engine fields[4];
    size_t max_terms = 0, max_rows = 0, max_points = 0;
    for (int f = 0; f < nfields; f++) {
        fields[f] = *e;
        if (e->nfields > 1) {
            fields[f].form = e->field_form[f];
            fields[f].stencil = e->field_form[f]->stencil;
        }
        if (fields[f].stencil->nterms > max_terms)
            max_terms = fields[f].stencil->nterms;
        if (fields[f].stencil->nrows > max_rows)
            max_rows = fields[f].stencil->nrows;
        if (fields[f].form->npoint > max_points)
            max_points = fields[f].form->npoint;
        /* The per-row questions, answered once. */
        fields[f].pointwise = reads_at_point(fields[f].form);
        fields[f].position = fields[f].form->position;
        fields[f].direct = fields[f].form->direct;
        if (!fields[f].direct)
            fields[f].rhs = NULL;
    }
    const size_t es = e->element_size, T = e->time_block;
    const size_t ntiles = (size_t)e->ntiles[0] * (size_t)e->ntiles[1] * (size_t)e->ntiles[2];
    const size_t m = 2 * (size_t)e->r[0] + 1;
    const size_t nblocks = (nsteps + T - 1) / T;
    size_t scratch_bytes, row_len, per_thread, total, plan_capacity, end_rows_bytes;
    long row_max = e->n[2] > grown(e, 2, T) ? e->n[2] : grown(e, 2, T);
    int nthreads = e->nthreads;
    char *memory;

    if ((size_t)nthreads > ntiles)
        nthreads = (int)ntiles;
    if (nthreads < 1)
        nthreads = 1;
    /* Everything is allocated before any data is touched, so running out of
     * memory leaves the caller's buffers as they were. */
    scratch_bytes = T > 1 ? (T - 1) * (size_t)nfields * m * ring_plane_elements(e) * es : 0;
    scratch_bytes = (scratch_bytes + 63) / 64 * 64;
    row_len = ((size_t)row_max + 16) * es;
    row_len = (row_len + 63) / 64 * 64;
    /* A row plan: the vector part and the 2*r2 end points a row has unless
     * the grid is tiny, capped for the largest box stencils. */
    plan_capacity = (1 + 2 * (size_t)e->r[2]) * max_terms;
    if (plan_capacity > MAX_PLAN)
        plan_capacity = MAX_PLAN;
    per_thread = scratch_bytes + 6 * row_len + max_terms * sizeof(void *) + max_rows * (sizeof(char *) + 1) +
                 plan_capacity * (sizeof(void *) + sizeof(ptrdiff_t)) +
                 (plan_capacity / (max_terms ? max_terms : 1)) * sizeof(ptrdiff_t) + 320;
    per_thread += (2 * max_points + 1) * sizeof(void *);
    end_rows_bytes = (max_rows * (ENDS_CHUNK + 2 * (size_t)e->r[2]) * es + 63) / 64 * 64;
    per_thread += end_rows_bytes + 64;
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
                pel__stencil_fill_value(mine, (size_t)row_max + 16, e->value[ax][side], es);
                mine += row_len;
            }
        ts.term_ptr = (const void **)(void *)mine;
        mine += max_terms * sizeof(void *);
        ts.row_ptr = (char **)(void *)mine;
        mine += max_rows * sizeof(char *);
        ts.row_const = mine;
        mine += (max_rows + 63) / 64 * 64;
        ts.plan_ptr = (const void **)(void *)mine;
        mine += plan_capacity * sizeof(void *);
        ts.plan_step = (ptrdiff_t *)(void *)mine;
        ts.plan_capacity = plan_capacity;
        mine += plan_capacity * sizeof(ptrdiff_t);
        ts.plan_offset = (ptrdiff_t *)(void *)mine;
        mine += (plan_capacity / (max_terms ? max_terms : 1)) * sizeof(ptrdiff_t);
        ts.point_row = (const char **)(void *)mine;
        mine += max_points * sizeof(void *);
        ts.point_ptr = (const void **)(void *)mine;
        mine += (max_points + 1) * sizeof(void *);
        mine = (char *)(((size_t)mine + 63) / 64 * 64); /* the 64 bytes added for end_rows */
        ts.end_rows = mine;
        /* Every thread follows the same rotation of buffers. */
        int prev = *previous, cur = *current;
        for (size_t block = 0; block < nblocks; block++) {
            size_t steps = nsteps - block * T < T ? nsteps - block * T : T;
            int next = cur == 0 ? 1 : 0, next_prev = cur;
            if (e->form->history) {
                int free_buffers[2], count = 0;
                for (int i = 0; i < 4; i++)
                    if (i != prev && i != cur)
                        free_buffers[count++] = i;
                next = free_buffers[0];
                next_prev = steps == 1 ? cur : free_buffers[1];
            }
            /* A system's field f sits in buffers 2f and 2f + 1. */
            char *src[4], *dst[4];
            for (int f = 0; f < nfields; f++) {
                src[f] = buffer[2 * f + cur];
                dst[f] = buffer[2 * f + next];
            }
            if (box == NULL) {
                block_tiling bt;
                whole_tiling(e, &bt);
#pragma omp for schedule(static) nowait
                for (size_t tile = 0; tile < ntiles; tile++) {
                    long tlo[3], thi[3];
                    tile_of(e, &bt, tile, tlo, thi);
                    run_tile(fields, nfields, &ts, src, dst, e->form->history ? buffer[prev] : NULL,
                             e->form->history && steps > 1 ? buffer[next_prev] : NULL, tlo, thi, steps);
                }
            } else {
                /* A box run: block 0 reads the source, the last block writes
                 * the destination, the blocks between go through the two
                 * scratch grids, so neither the source nor the points of
                 * the destination outside the box are ever written. */
                block_tiling bt;
                box_tiling(e, box, nsteps - block * T - steps, &bt);
                src[0] = block == 0 ? (char *)box->src : box->scratch[(block - 1) % 2];
                dst[0] = block + 1 == nblocks ? box->dst : box->scratch[block % 2];
                /* Skipped tiles would unbalance a static partition. */
#pragma omp for schedule(dynamic, 1) nowait
                for (size_t tile = 0; tile < bt.ntiles; tile++) {
                    long tlo[3], thi[3];
                    if (tile_of(e, &bt, tile, tlo, thi))
                        run_tile(fields, nfields, &ts, src, dst, NULL, NULL, tlo, thi, steps);
                }
            }
            prev = next_prev;
            cur = next;
            /* Streaming stores are weakly ordered: fence them before the
             * barrier so the next block (or the caller) reads them. */
            if (e->stream)
                pel__stencil_store_fence();
#pragma omp barrier
        }
#pragma omp master
        {
            *previous = prev;
            *current = cur;
        }
    }
    pel_free(memory);
    return PEL_OK;
}

pel_status pel__stencil_run(const pel__stencil_engine *engine, char *a, char *b, size_t nsteps, int *in_b)
{
    /* Without a form the engine runs the stencil's own constant form. */
    pel__stencil_engine local = *engine;
    pel__stencil_form constant;
    const char *rhs_point[1] = {engine->rhs};
    if (local.form == NULL) {
        pel__stencil_form_constant(&constant, local.stencil, rhs_point);
        if (local.rhs == NULL)
            constant.npoint = 0;
        local.form = &constant;
    }
    {
        char *buffer[2] = {a, b};
        int previous = 1, current = 0;
        pel_status status = run_blocks(&local, buffer, &previous, &current, nsteps, NULL);
        *in_b = current;
        return status;
    }
}

pel_status pel__stencil_run_system(const pel__stencil_engine *e, char *const *buffer, size_t nsteps, int *in_b)
{
    int previous = 1, current = 0;
    pel_status status = run_blocks(e, buffer, &previous, &current, nsteps, NULL);
    *in_b = current;
    return status;
}

pel_status pel__stencil_run_two_level(const pel__stencil_engine *e, char *const *buffer, int *previous,
                                      int *current, size_t nsteps)
{
    return run_blocks(e, buffer, previous, current, nsteps, NULL);
}

pel_status pel__stencil_run_box(const pel__stencil_engine *engine, const char *src, char *dst, char *scratch0,
                                char *scratch1, const long *lo, const long *hi, const long *skip_lo,
                                const long *skip_hi, size_t nsteps)
{
    pel__stencil_engine local = *engine;
    pel__stencil_form constant;
    const char *rhs_point[1] = {engine->rhs};
    box_plan box;
    char *buffer[2] = {dst, dst};
    int previous = 1, current = 0;

    if (local.form == NULL) {
        pel__stencil_form_constant(&constant, local.stencil, rhs_point);
        if (local.rhs == NULL)
            constant.npoint = 0;
        local.form = &constant;
    }
    if (local.nfields > 1 || local.form->history)
        return pel__fail(PEL_ERROR_UNSUPPORTED, "pel__stencil_run_box",
                         "a box run takes one-level forms of one field only");
    for (int a = 0; a < 3; a++) {
        box.lo[a] = lo[a];
        box.hi[a] = hi[a];
        box.skip_lo[a] = skip_lo ? skip_lo[a] : 0;
        box.skip_hi[a] = skip_hi ? skip_hi[a] : 0;
    }
    box.src = src;
    box.dst = dst;
    box.scratch[0] = scratch0;
    box.scratch[1] = scratch1;
    return run_blocks(&local, buffer, &previous, &current, nsteps, &box);
}
