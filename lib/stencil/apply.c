/* pel_stencil_apply and pel_stencil_grid_alloc: argument checks, mapping the
 * user's axes onto the engine's three, the work buffer, the copy back. */
#include "stencil/engine.h"

#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define FN "pel_stencil_apply"

static const char *kind_name(pel_boundary_kind kind)
{
    switch (kind) {
    case PEL_BOUNDARY_DIRICHLET:
        return "Dirichlet";
    case PEL_BOUNDARY_PERIODIC:
        return "periodic";
    case PEL_BOUNDARY_NEAREST:
        return "nearest";
    case PEL_BOUNDARY_MIRROR:
        return "mirror";
    default:
        return "Neumann";
    }
}

/* Checks dims and returns the element count in *count. */
static pel_status check_dims(const char *function, const pel_stencil *s, const size_t *dims, size_t *count)
{
    size_t total = 1;
    for (int a = 0; a < s->ndim; a++) {
        if (dims[a] == 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "dims[%d]=0: every axis needs a point", a);
        if (!pel__mul_size(total, dims[a], &total) || dims[a] > (size_t)1 << 40)
            return pel__fail(PEL_ERROR_OVERFLOW, function, "the grid size overflows at dims[%d]=%zu", a, dims[a]);
    }
    if (!pel__mul_size(total, s->element_size, count) || total > ((size_t)1 << 52))
        return pel__fail(PEL_ERROR_OVERFLOW, function, "the grid of %zu points overflows size_t in bytes", total);
    *count = total;
    return PEL_OK;
}

/* Fills the engine's geometry and boundaries from the user's arguments;
 * errors name `function`. */
static pel_status setup_engine(const char *function, pel__stencil_engine *e, const pel_stencil *s,
                               const size_t *dims, const pel_boundary *faces)
{
    int map[3];
    memset(e, 0, sizeof *e);
    e->stencil = s;
    e->element_size = s->element_size;
    pel__stencil_axis_map(s->ndim, map);
    for (int a = 0; a < 3; a++) {
        e->n[a] = 1;
        e->r[a] = s->axis_radius[a];
        /* A missing axis is periodic with one point: every offset maps to it. */
        e->kind[a][0] = e->kind[a][1] = PEL_BOUNDARY_PERIODIC;
    }
    for (int a = 0; a < s->ndim; a++) {
        int ia = map[a];
        e->n[ia] = (long)dims[a];
        if (faces == NULL)
            continue;
        for (int side = 0; side < 2; side++) {
            const pel_boundary *f = &faces[2 * a + side];
            if (f->kind != PEL_BOUNDARY_DIRICHLET && f->kind != PEL_BOUNDARY_PERIODIC &&
                f->kind != PEL_BOUNDARY_NEUMANN && f->kind != PEL_BOUNDARY_NEAREST && f->kind != PEL_BOUNDARY_MIRROR)
                return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "faces[%d].kind=%d is not a pel_boundary_kind",
                                 2 * a + side, (int)f->kind);
            e->kind[ia][side] = f->kind;
            e->value[ia][side] = f->kind == PEL_BOUNDARY_DIRICHLET ? f->value : 0.0;
        }
        if ((e->kind[ia][0] == PEL_BOUNDARY_PERIODIC) != (e->kind[ia][1] == PEL_BOUNDARY_PERIODIC))
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                             "faces[%d] and faces[%d] (axis %d) are %s and %s: periodic needs both faces", 2 * a,
                             2 * a + 1, a, kind_name(e->kind[ia][0]), kind_name(e->kind[ia][1]));
    }
    e->rhs_weight = s->precision == PEL_FLOAT32 ? (const void *)&s->rhs_weight_f : (const void *)&s->rhs_weight_d;
    return PEL_OK;
}

int pel__stencil_overlaps(const void *x, const void *y, size_t bytes)
{
    const char *a = x, *b = y;
    return a < b + bytes && b < a + bytes;
}

pel_status pel__stencil_setup(const char *function, pel__stencil_engine *e, const pel_stencil *stencil,
                              const size_t *dims, const pel_boundary *faces, size_t *count)
{
    pel_status status = pel__handle_check(stencil, PEL__HANDLE_STENCIL, -1, function, "stencil");
    if (status != PEL_OK)
        return status;
    if (dims == NULL || faces == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s must not be NULL", dims == NULL ? "dims" : "faces");
    status = check_dims(function, stencil, dims, count);
    if (status != PEL_OK)
        return status;
    return setup_engine(function, e, stencil, dims, faces);
}

pel_status pel__stencil_check_grid(const char *function, const pel_stencil *stencil, const size_t *dims,
                                   const pel_boundary *faces, size_t *count)
{
    pel__stencil_engine e;
    return pel__stencil_setup(function, &e, stencil, dims, faces, count);
}

pel_status pel_stencil_apply(const pel_stencil *stencil, const size_t *dims, const pel_boundary *faces, void *grid,
                             void *work, const void *rhs, size_t nsteps, const pel_stencil_blocking *blocking,
                             void **result)
{
    pel__stencil_engine e;
    size_t count, bytes;
    pel_status status;

    status = pel__stencil_setup(FN, &e, stencil, dims, faces, &count);
    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(grid);
    bytes = count * stencil->element_size;
    if (work != NULL && pel__stencil_overlaps(work, grid, bytes))
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "work overlaps grid: the two buffers must be distinct");
    if (work != NULL && result == NULL)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                        "result must not be NULL when work is given (it says which buffer holds the result)");
    if (stencil->has_rhs && rhs == NULL)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "rhs must not be NULL: the stencil has a rhs term");
    if (!stencil->has_rhs && rhs != NULL)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "rhs must be NULL: the stencil has no rhs term");
    if (rhs != NULL &&
        (pel__stencil_overlaps(rhs, grid, bytes) || (work != NULL && pel__stencil_overlaps(rhs, work, bytes))))
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "rhs overlaps grid or work: it must be a separate buffer");
    e.rhs = rhs;
    return pel__stencil_apply_engine(FN, &e, dims, grid, work, count, nsteps, blocking, result);
}

/* The caller's blocking override (NULL: automatic) into e, checked. */
static pel_status blocking_override(const char *function, pel__stencil_engine *e, const size_t *dims,
                                    const pel_stencil_blocking *blocking)
{
    const pel_stencil *stencil = e->stencil;
    int map[3];
    if (blocking == NULL)
        return PEL_OK;
    pel__stencil_axis_map(stencil->ndim, map);
    for (int a = 0; a < stencil->ndim; a++) {
        if (blocking->tile[a] > dims[a])
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "blocking->tile[%d]=%zu exceeds dims[%d]=%zu", a,
                             blocking->tile[a], a, dims[a]);
        e->tile[map[a]] = (long)blocking->tile[a];
    }
    for (int a = stencil->ndim; a < 3; a++)
        if (blocking->tile[a] != 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "blocking->tile[%d]=%zu must be 0 for a %d-D stencil",
                             a, blocking->tile[a], stencil->ndim);
    if (blocking->time_block > 1024)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "blocking->time_block=%zu is above 1024",
                         blocking->time_block);
    e->time_block = blocking->time_block;
    return PEL_OK;
}

pel_status pel__stencil_apply_engine(const char *function, pel__stencil_engine *e, const size_t *dims, void *grid,
                                     void *work, size_t count, size_t nsteps, const pel_stencil_blocking *blocking,
                                     void **result)
{
    const pel_stencil *stencil = e->stencil;
    const size_t bytes = count * stencil->element_size;
    pel_status status;
    char *other;
    int in_b = 0;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    status = blocking_override(function, e, dims, blocking);
    if (status != PEL_OK)
        return status;
    /* *result is written on success only (the out-argument rule). */
    if (nsteps == 0) {
        if (result)
            *result = grid;
        return PEL_OK;
    }

    {
        /* Work units: about two flops per term, point and step (saturating).
         * The minimum work per thread is the measured one (lib/tune), so a
         * small call runs on the calling thread where a second thread's
         * fork/join would cost more than it saves. */
        size_t work_units = count;
        if (!pel__mul_size(work_units, stencil->nterms * 2 * (nsteps < 64 ? nsteps : 64), &work_units))
            work_units = SIZE_MAX;
        e->nthreads = pel__team_take(&team, pel__tune_threads_for_work(work_units));
    }
    if (pel__stencil_padded_fits(e, nsteps, blocking)) {
        /* A small grid: one padded copy, computed into work when the
         * caller gave one (grid then stays as it was), else back into grid. */
        char *out = work != NULL ? work : grid;
        status = pel__stencil_run_padded(e, grid, out, nsteps);
        if (status == PEL_OK && result)
            *result = out;
        return status;
    }
    pel__stencil_choose_measured(e, nsteps, blocking, grid, bytes);

    other = work;
    if (other == NULL) {
        other = pel_malloc(bytes);
        if (other == NULL)
            return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "no memory for a work grid of %zu bytes", bytes);
    }
    status = pel__stencil_run(e, grid, other, nsteps, &in_b);
    if (status == PEL_OK && result)
        *result = grid;
    if (status == PEL_OK && in_b) {
        if (work == NULL) {
            /* The result is in pel's own buffer: copy it back into grid. */
            int threads = pel__team_take(&team, pel_threads_for_work(count));
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
            for (size_t chunk = 0; chunk < (bytes + 65535) / 65536; chunk++) {
                size_t begin = chunk * 65536, len = bytes - begin < 65536 ? bytes - begin : 65536;
                memcpy((char *)grid + begin, other + begin, len);
            }
        } else if (result) {
            *result = work;
        }
    }
    if (work == NULL)
        pel_free(other);
    return status;
}


pel_status pel_stencil_grid_alloc(const pel_stencil *stencil, const size_t *dims, void **grid)
{
    pel__stencil_engine e;
    size_t count, bytes, rows, row_bytes;
    char *memory;
    int threads;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */
    pel_status status;

    PEL_CHECK_NOT_NULL(grid);
    *grid = NULL;
    status = pel__handle_check(stencil, PEL__HANDLE_STENCIL, -1, __func__, "stencil");
    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(dims);
    status = check_dims("pel_stencil_grid_alloc", stencil, dims, &count);
    if (status != PEL_OK)
        return status;
    bytes = count * stencil->element_size;
    memory = pel_malloc(bytes);
    if (memory == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "no memory for a grid of %zu bytes", bytes);
    setup_engine("pel_stencil_grid_alloc", &e, stencil, dims, NULL);
    /* The engine hands out tiles with axis 1 slowest in a static partition:
     * zero each plane's axis-1 band (or, for 2-D grids, each row's axis-2
     * band) on the thread that will own it. */
    rows = (size_t)e.n[0];
    row_bytes = bytes / rows;
    threads = pel__team_take(&team, pel_threads_for_work(count));
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        int id = 0, nth = 1;
#ifdef _OPENMP
        id = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        size_t begin = row_bytes * (size_t)id / (size_t)nth / 64 * 64;
        size_t end = id + 1 == nth ? row_bytes : row_bytes * (size_t)(id + 1) / (size_t)nth / 64 * 64;
        for (size_t r = 0; r < rows; r++)
            memset(memory + r * row_bytes + begin, 0, end - begin);
    }
    *grid = memory;
    return PEL_OK;
}

#undef FN
#define FN "pel__stencil_apply_box"

pel_status pel__stencil_apply_box(const pel_stencil *stencil, const size_t *dims, const pel_boundary *faces,
                                  const void *grid, void *out, void *scratch0, void *scratch1, const void *rhs,
                                  const size_t *lo, const size_t *hi, const size_t *skip_lo, const size_t *skip_hi,
                                  size_t nsteps, const pel_stencil_blocking *blocking)
{
    pel__stencil_engine e;
    size_t count, bytes, points = 1;
    long box_lo[3], box_hi[3], cut_lo[3], cut_hi[3];
    int map[3];
    pel_status status;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    status = pel__stencil_setup(FN, &e, stencil, dims, faces, &count);
    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(grid);
    PEL_CHECK_NOT_NULL(out);
    PEL_CHECK_NOT_NULL(scratch0);
    PEL_CHECK_NOT_NULL(scratch1);
    PEL_CHECK_NOT_NULL(lo);
    PEL_CHECK_NOT_NULL(hi);
    if ((skip_lo == NULL) != (skip_hi == NULL))
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "skip_lo and skip_hi must both be NULL or both be given");
    bytes = count * stencil->element_size;
    {
        const void *buffers[4] = {grid, out, scratch0, scratch1};
        static const char *const names[4] = {"grid", "out", "scratch0", "scratch1"};
        for (int i = 0; i < 4; i++)
            for (int j = i + 1; j < 4; j++)
                if (pel__stencil_overlaps(buffers[i], buffers[j], bytes))
                    return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "%s overlaps %s: the grids must be distinct", names[i],
                                    names[j]);
    }
    if (stencil->has_rhs != (rhs != NULL))
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "rhs must %s: the stencil %s a rhs term",
                        stencil->has_rhs ? "not be NULL" : "be NULL", stencil->has_rhs ? "has" : "has no");
    pel__stencil_axis_map(stencil->ndim, map);
    for (int a = 0; a < 3; a++) {
        box_lo[a] = cut_lo[a] = 0;
        box_hi[a] = cut_hi[a] = 1;
    }
    if (skip_lo == NULL)
        for (int a = 0; a < 3; a++)
            cut_hi[a] = 0;
    for (int a = 0; a < stencil->ndim; a++) {
        const int ia = map[a];
        if (lo[a] > hi[a] || hi[a] > dims[a])
            return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "the box [lo[%d]=%zu, hi[%d]=%zu) is not inside dims[%d]=%zu", a,
                            lo[a], a, hi[a], a, dims[a]);
        if (e.kind[ia][0] == PEL_BOUNDARY_PERIODIC && lo[a] < hi[a] && (lo[a] != 0 || hi[a] != dims[a]))
            return PEL_FAIL(PEL_ERROR_UNSUPPORTED, "periodic axis %d must be in the box whole (lo=0, hi=%zu), not [%zu, %zu)",
                            a, dims[a], lo[a], hi[a]);
        box_lo[ia] = (long)lo[a];
        box_hi[ia] = (long)hi[a];
        points *= hi[a] - lo[a];
        if (skip_lo != NULL) {
            if (skip_lo[a] > skip_hi[a] || skip_hi[a] > dims[a])
                return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                                "the skipped box [skip_lo[%d]=%zu, skip_hi[%d]=%zu) is not inside dims[%d]=%zu", a,
                                skip_lo[a], a, skip_hi[a], a, dims[a]);
            cut_lo[ia] = (long)skip_lo[a];
            cut_hi[ia] = (long)skip_hi[a];
        }
    }
    status = blocking_override(FN, &e, dims, blocking);
    if (status != PEL_OK || points == 0)
        return status;
    e.rhs = rhs;
    if (nsteps == 0) {
        /* The values are the grid's own: copy the box's rows. */
        const size_t es = stencil->element_size;
        for (long c0 = box_lo[0]; c0 < box_hi[0]; c0++)
            for (long c1 = box_lo[1]; c1 < box_hi[1]; c1++) {
                long x = box_lo[2], end = box_hi[2];
                size_t row = (size_t)((c0 * e.n[1] + c1) * e.n[2]);
                int inside_skip = skip_lo != NULL && c0 >= cut_lo[0] && c0 < cut_hi[0] && c1 >= cut_lo[1] &&
                                  c1 < cut_hi[1] && cut_lo[2] < cut_hi[2];
                if (!inside_skip) {
                    memcpy((char *)out + (row + (size_t)x) * es, (const char *)grid + (row + (size_t)x) * es,
                           (size_t)(end - x) * es);
                    continue;
                }
                if (cut_lo[2] > x)
                    memcpy((char *)out + (row + (size_t)x) * es, (const char *)grid + (row + (size_t)x) * es,
                           (size_t)((cut_lo[2] < end ? cut_lo[2] : end) - x) * es);
                if (cut_hi[2] < end) {
                    long from = cut_hi[2] > x ? cut_hi[2] : x;
                    memcpy((char *)out + (row + (size_t)from) * es, (const char *)grid + (row + (size_t)from) * es,
                           (size_t)(end - from) * es);
                }
            }
        return PEL_OK;
    }
    {
        size_t work_units = points;
        if (!pel__mul_size(work_units, stencil->nterms * 2 * (nsteps < 64 ? nsteps : 64), &work_units))
            work_units = SIZE_MAX;
        e.nthreads = pel__team_take(&team, pel__tune_threads_for_work(work_units));
    }
    pel__stencil_choose_blocking(&e, nsteps, blocking);
    return pel__stencil_run_box(&e, grid, out, scratch0, scratch1, box_lo, box_hi, skip_lo ? cut_lo : NULL,
                                skip_lo ? cut_hi : NULL, nsteps);
}
