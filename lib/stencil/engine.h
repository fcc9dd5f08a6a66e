/* The stencil engine: time-skewed wavefront along axis 0 inside overlapped
 * tiles over axes 1 and 2 (see docs/stencil.md for why this scheme).
 *
 * The local engine interface, shared by pel_stencil_apply, its forms
 * (lib/stencil/forms.c) and any distributed apply built on top:
 *   1. pel__stencil_setup(): dims and faces into a pel__stencil_engine
 *      (internal axes: 3-D as is, 2-D (ny, 1, nx), 1-D (1, 1, n));
 *   2. e.form = a pel__stencil_form: the row computation and what a row
 *      reads besides the stencil's terms (pointwise grids, the previous time
 *      level, the output coordinates); NULL runs the stencil's constant form
 *      with e.rhs;
 *   3. pel__stencil_apply_engine() (blocking override, threads, work grid,
 *      copy back) or, with your own blocking and buffers,
 *      pel__stencil_choose_blocking() and pel__stencil_run() /
 *      pel__stencil_run_two_level(), or pel__stencil_run_box() for a sub-box
 *      of the grid (pel__stencil_apply_box() on the user's axes: the
 *      distributed apply's interior and shell updates).
 * Every value is computed by the form from inputs resolved by the boundary
 * rules, whatever the tile, so a distributed apply can run the same engine
 * (the same forms, the same bits) on its local block and halo instead of a
 * second copy of the scheme. */
#ifndef PEL_STENCIL_ENGINE_H
#define PEL_STENCIL_ENGINE_H

#include <stddef.h>
#include <string.h>

#include "stencil/stencil_internal.h"

/* A form of update: what one output row reads besides the stencil's terms,
 * and how it combines them. The engine resolves the terms (the rows of the
 * previous level at the stencil's offsets, extended by the boundary rules)
 * and the pointwise grids (read-only grids of the field's dims, read at the
 * output point itself), then calls the form; tiling, temporal blocking,
 * threads and boundaries are the engine's, so every form gets them all.
 * A form must compute each point from its inputs alone, in a fixed order of
 * operations: then every tiling and thread count gives the same bits. */
typedef struct pel__stencil_form pel__stencil_form;

/* Computes out[i] for i in [0, n): term[k] (k < the stencil's nterms) points
 * at the element of term k that lines up with out[0], point[j] (j < npoint)
 * at element out[0] of pointwise grid j. at[0..2] are the internal
 * coordinates of out[0], wrapped into the grid when the form sets
 * `position` (else unwrapped and only informative). stream nonzero allows
 * non-temporal stores into out. Pointers are double* or float* by the
 * precision. */
typedef void (*pel__stencil_form_row_fn)(const pel__stencil_form *form, void *out, const void *const *term,
                                         const void *const *point, const long *at, size_t n, int stream);

/* Computes count single points: point j is element offset[j] of out, its
 * terms at term[j*nterms + k] (each resolved by the boundary rules on its
 * own), its pointwise inputs at element offset[j] of point[i] (the point
 * pointers line up with out); at[] are the coordinates of out[0]. The
 * engine calls it for the points at a row's ends when it is set. */
typedef void (*pel__stencil_form_points_fn)(const pel__stencil_form *form, void *out, const ptrdiff_t *offset,
                                            const void *const *term, const void *const *point, const long *at,
                                            size_t count);

struct pel__stencil_form {
    pel__stencil_form_row_fn row;
    pel__stencil_form_points_fn points; /* NULL: row() with n = 1 per point */
    size_t npoint;                      /* pointwise grids */
    const char *const *point;           /* their element (0,0,0) */
    const pel_stencil *stencil;
    const void *params;                 /* the form's own constants */
    /* Nonzero for a two-level form (u(t+1) from u(t) and u(t-1)): the
     * engine passes the level before the input level, at the output point,
     * as point[npoint]. */
    int history;
    /* Nonzero when the row function reads `at` for more than out[0] (it
     * takes the coordinate of out[i] as at[2] + i): rows are then cut where
     * a periodic axis 2 wraps, as for pointwise grids. */
    int position;
    /* Nonzero for the constant form: the engine calls the stencil's row
     * kernel itself (with point[0] as the rhs row when npoint is 1 and
     * params as the rhs weight) instead of row(). */
    int direct;
};

/* The constant-coefficient form (the stencil's own coefficients and its rhs
 * term): fills *form; point must hold one entry (the rhs grid) when the
 * stencil has a rhs term. params points at the rhs weight. */
void pel__stencil_form_constant(pel__stencil_form *form, const pel_stencil *stencil, const char *const *point);

/* Everything one apply call needs, on internal axes. */
typedef struct pel__stencil_engine {
    const pel__stencil_form *form; /* NULL: the constant form of stencil with rhs */
    /* A coupled system (nfields 2..4): field_form[f] computes field f, its
     * stencil holding the terms of every field it reads (row_field). The
     * fields advance together, level by level, in one temporal block. 0 or
     * 1: one field, `form`. */
    int nfields;
    const pel__stencil_form *const *field_form;
    const pel_stencil *stencil;
    size_t element_size;
    long n[3];
    int r[3];
    pel_boundary_kind kind[3][2];
    double value[3][2];
    const char *rhs;        /* NULL when the stencil has no rhs term */
    const void *rhs_weight; /* double or float */
    /* Blocking. */
    long tile[3], ntiles[3];
    size_t time_block;
    int nthreads;
    int stream; /* non-temporal stores into the destination grid */
    /* Set by the engine from the form (run_blocks): whether rows read at
     * the output point, get wrapped coordinates, call the stencil's row
     * kernel directly (the constant form; rhs then names its rhs grid). */
    int pointwise, position, direct;
} pel__stencil_engine;

/* x modulo n in [0, n) (n > 0). */
static inline long pel__stencil_mod(long x, long n)
{
    long m;
    if (x >= 0 && x < n)
        return x; /* the common case, without a division */
    m = x % n;
    return m < 0 ? m + n : m;
}

/* Fills `count` elements of `es` bytes (a float or a double) at `to` with
 * the value v (rounded to float once for floats). */
static inline void pel__stencil_fill_value(char *to, size_t count, double v, size_t es)
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

/* Maps a coordinate x outside [0, n) of axis a into the domain by the face
 * rules, as often as needed: an axis shorter than the radius may send a
 * reflected coordinate past the opposite face, whose rule then applies (so
 * Neumann and mirror reflect repeatedly). Returns 1 with *c in [0, n), or 0
 * with *face = 2*a + side when a Dirichlet face is met. A mirror face on a
 * one-point axis has nothing to reflect about and gives the edge value. */
static inline int pel__stencil_map_outside(const pel__stencil_engine *e, int a, long *c, int *face)
{
    long x = *c, n = e->n[a];
    while (x < 0 || x >= n) {
        const int side = x < 0 ? 0 : 1;
        switch (e->kind[a][side]) {
        case PEL_BOUNDARY_PERIODIC:
            x = pel__stencil_mod(x, n);
            break;
        case PEL_BOUNDARY_NEUMANN:
            x = side == 0 ? -1 - x : 2 * n - 1 - x;
            break;
        case PEL_BOUNDARY_MIRROR:
            x = n == 1 ? 0 : side == 0 ? -x : 2 * (n - 1) - x;
            break;
        case PEL_BOUNDARY_NEAREST:
            x = side == 0 ? 0 : n - 1;
            break;
        default:
            *face = 2 * a + side;
            return 0;
        }
    }
    *c = x;
    return 1;
}

/* Fills e->tile / e->time_block from the override (fields 0 = automatic) and
 * the cache model. */
void pel__stencil_choose_blocking(pel__stencil_engine *e, size_t nsteps, const pel_stencil_blocking *blocking);

/* Nonzero when this call asks for measured blocking: cache_bytes
 * PEL_STENCIL_CACHE_MEASURE, or PEL_TUNE=measure with no budget given. */
int pel__stencil_measure_requested(const pel_stencil_blocking *blocking);

/* pel__stencil_choose_blocking(), or, when the caller asks for a measured
 * choice (cache_bytes PEL_STENCIL_CACHE_MEASURE, or PEL_TUNE=measure with an
 * automatic blocking), the fastest of a few timed candidates, remembered per
 * (shape, dims, threads, precision) for the process (lib/stencil/measure.c).
 * grid (bytes long) is only read, to fill the scratch grids the candidates
 * run on; without memory for them the model's choice is used. */
void pel__stencil_choose_measured(pel__stencil_engine *e, size_t nsteps, const pel_stencil_blocking *blocking,
                                  const char *grid, size_t bytes);

/* Measured choices made so far in this process (for the tests). */
unsigned long pel__stencil_measure_count(void);

/* Checks dims (every axis nonzero, no overflow; *count = points) and faces
 * (kinds, periodic on both faces) and fills e's geometry and boundaries;
 * messages name `function`. */
pel_status pel__stencil_setup(const char *function, pel__stencil_engine *e, const pel_stencil *stencil,
                              const size_t *dims, const pel_boundary *faces, size_t *count);

/* The rest of an apply call once the form's own arguments are checked: the
 * blocking override (checked here), *result = grid, the thread count, the
 * blocking choice, the work grid (pel's own when work is NULL, with the copy
 * back), the run. count is the grid's point count. */
pel_status pel__stencil_apply_engine(const char *function, pel__stencil_engine *e, const size_t *dims, void *grid,
                                     void *work, size_t count, size_t nsteps, const pel_stencil_blocking *blocking,
                                     void **result);

/* Copies one grid into another on `threads` threads (64 KiB pieces). */
void pel__stencil_copy_grid(char *to, const char *from, size_t bytes, int threads);

/* Nonzero when [x, x+bytes) and [y, y+bytes) overlap. */
int pel__stencil_overlaps(const void *x, const void *y, size_t bytes);

/* The small-grid path (lib/stencil/padded.c): nonzero when nsteps of the
 * constant form (e->form NULL, one field) on e->nthreads threads with this
 * override (NULL or all zero) run faster through one padded copy of the
 * grid than through the tiles: both padded grids fit in the team's L2s. */
int pel__stencil_padded_fits(const pel__stencil_engine *e, size_t nsteps, const pel_stencil_blocking *blocking);

/* Runs nsteps (>= 1) steps of the constant form from grid into out (a
 * distinct grid, or grid itself) on e->nthreads threads, bit for bit as
 * pel__stencil_run; only out is written. PEL_OK or PEL_ERROR_OUT_OF_MEMORY
 * (nothing written). */
pel_status pel__stencil_run_padded(const pel__stencil_engine *e, const char *grid, char *out, size_t nsteps);

/* Runs of pel__stencil_run_padded so far in this process (for the tests). */
unsigned long pel__stencil_padded_count(void);
/* Those of them that ran on more than one thread. */
unsigned long pel__stencil_padded_team_count(void);

/* Runs nsteps steps from a into b and back; returns PEL_OK or
 * PEL_ERROR_OUT_OF_MEMORY (before touching any data) and sets *in_b when the
 * result is in b. */
pel_status pel__stencil_run(const pel__stencil_engine *e, char *a, char *b, size_t nsteps, int *in_b);

/* Runs nsteps steps of a coupled system (e->nfields, e->field_form):
 * buffer[2f] holds field f, buffer[2f+1] is its second buffer; *in_b is set
 * when the results are in the second buffers. Errors as pel__stencil_run. */
pel_status pel__stencil_run_system(const pel__stencil_engine *e, char *const *buffer, size_t nsteps, int *in_b);

/* Runs nsteps steps of a two-level form (e->form->history set) on four
 * buffers: buffer[*current] holds u(t0), buffer[*previous] u(t0-1), the
 * other two are work space. On return *current and *previous name the
 * buffers of the last two levels. Errors as pel__stencil_run. */
pel_status pel__stencil_run_two_level(const pel__stencil_engine *e, char *const *buffer, int *previous,
                                      int *current, size_t nsteps);

/* Runs nsteps steps of the one-level form (single field) on the grid of e
 * from src, but computes only what the outputs in the box [lo, hi) need
 * (internal axes), leaving out the box [skip_lo, skip_hi) inside it (NULL:
 * nothing left out): the outputs' final values go to dst at their own
 * points, bit for bit those of pel__stencil_run on the whole grid; src and
 * every other point of dst are never written. Each block of time_block
 * steps computes the box grown by radius * (steps left after it), so later
 * blocks find their inputs; the blocks between the first and the last go
 * through scratch0 and scratch1 (grids of e's dims, needed when nsteps
 * exceeds e->time_block). A periodic axis must be in the box whole. Errors
 * as pel__stencil_run. */
pel_status pel__stencil_run_box(const pel__stencil_engine *e, const char *src, char *dst, char *scratch0,
                                char *scratch1, const long *lo, const long *hi, const long *skip_lo,
                                const long *skip_hi, size_t nsteps);

/* The sub-box entry point on the user's axes, exported to libpel_mpi (the
 * distributed apply overlaps its halo messages with the update of the
 * interior through it): nsteps of stencil on the grid of dims and faces
 * starting from grid (never written); the final values of the points in the
 * box [lo, hi) that are not in [skip_lo, skip_hi) (both NULL: none left
 * out) are written into out at their own points, bit for bit those of
 * pel_stencil_apply(); no other point of out is written. scratch0 and
 * scratch1 are work grids of dims (written anywhere). rhs as in
 * pel_stencil_apply(). A periodic axis must be in the box whole (lo = 0,
 * hi = dims). An empty box does nothing. Errors: as pel_stencil_apply(), and
 * NULL or overlapping buffers, a box outside dims. */
PEL_API pel_status pel__stencil_apply_box(const pel_stencil *stencil, const size_t *dims, const pel_boundary *faces,
                                          const void *grid, void *out, void *scratch0, void *scratch1,
                                          const void *rhs, const size_t *lo, const size_t *hi,
                                          const size_t *skip_lo, const size_t *skip_hi, size_t nsteps,
                                          const pel_stencil_blocking *blocking);

#endif
