/* Pencil decomposition of the distributed 3-D c2c FFT (issue 14): a p0 x p1
 * process grid, FFTW's serial 1-D transforms along each axis (planned once,
 * with the strides of each stage) and two all-to-all transposes, one in the
 * rows (ranks of one r0) and one in the columns (ranks of one r1) of the
 * grid. Three local layouts, every one a box of the global grid stored in
 * the global axis order (row-major, last axis fastest):
 *
 *   z-pencil: [block r0 of n0 over p0] x [block r1 of n1 over p1] x n2
 *   y-pencil: [block r0 of n0 over p0] x n1 x [block r1 of n2 over p1]
 *   x-pencil: n0 x [block r0 of n1 over p0] x [block r1 of n2 over p1]
 *
 * The row exchange turns z-pencils into y-pencils (and back), the column
 * exchange y-pencils into x-pencils. What a rank sends to a peer is the
 * intersection of its own box in one layout with the peer's box in the
 * other, packed in global row-major order, so the receiver unpacks the same
 * box in the same order: one rule serves both exchanges and their inverses,
 * for any extents, uneven or empty.
 *
 * r2c / c2r: the same on the half spectrum n0 x n1 x (n2/2+1), with the
 * axis-2 stage real-to-complex (first, forward) or complex-to-real (last,
 * backward); the real side is a z-pencil whose rows are padded to
 * 2*(n2/2+1) reals, as FFTW-MPI's slabs pad theirs. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/error.h"
#include "core/threads.h"
#include "fft/plan.h"
#include "mpi/fft_internal.h"

enum { LAYOUT_Z, LAYOUT_Y, LAYOUT_X };

typedef struct box {
    size_t start[3], len[3];
} box;

/* One all-to-all between layout 1 and layout 2 over a row or column
 * communicator: per peer the count of complex values and their place in
 * the packed buffer, and the local sub-box (start relative to this rank's
 * box) on each side. */
typedef struct exchange {
    MPI_Comm comm;
    int size;
    int *counts1, *displs1, *counts2, *displs2;
    box *boxes1, *boxes2;
    size_t dims1[3], dims2[3]; /* this rank's local shapes of layouts 1 and 2 */
} exchange;

struct pel__pencil {
    int precision, kind, p0, p1, r0, r1;
    size_t dims[3]; /* the complex grid: the half spectrum for r2c/c2r */
    box mine[3];       /* this rank's box in each layout */
    exchange rows;     /* z <-> y */
    exchange columns;  /* y <-> x */
    void *plans[3];    /* serial FFTW plans along axis 0 (x-pencils), 1 (y), 2 (z); NULL when empty */
    MPI_Datatype type; /* one complex value */
    size_t elem;       /* its bytes */
};

/* ------------------------------------------------------------ geometry */

/* Balanced block r of n over p: the first n % p blocks get one more. */
static void block(size_t n, int p, int r, size_t *start, size_t *len)
{
    size_t q = n / (size_t)p, extra = n % (size_t)p, rr = (size_t)r;
    *start = rr * q + (rr < extra ? rr : extra);
    *len = q + (rr < extra ? 1 : 0);
}

static box layout_box(int layout, const size_t *n, int p0, int p1, int r0, int r1)
{
    box b;
    for (int a = 0; a < 3; a++) {
        b.start[a] = 0;
        b.len[a] = n[a];
    }
    if (layout == LAYOUT_Z) {
        block(n[0], p0, r0, &b.start[0], &b.len[0]);
        block(n[1], p1, r1, &b.start[1], &b.len[1]);
    } else if (layout == LAYOUT_Y) {
        block(n[0], p0, r0, &b.start[0], &b.len[0]);
        block(n[2], p1, r1, &b.start[2], &b.len[2]);
    } else {
        block(n[1], p0, r0, &b.start[1], &b.len[1]);
        block(n[2], p1, r1, &b.start[2], &b.len[2]);
    }
    return b;
}

static size_t volume(const box *b)
{
    return b->len[0] * b->len[1] * b->len[2];
}

/* a ∩ b, with its start made relative to `origin`'s. */
static box intersect(const box *a, const box *b, const box *origin)
{
    box r;
    for (int d = 0; d < 3; d++) {
        size_t lo = a->start[d] > b->start[d] ? a->start[d] : b->start[d];
        size_t ea = a->start[d] + a->len[d], eb = b->start[d] + b->len[d], hi = ea < eb ? ea : eb;
        r.len[d] = hi > lo ? hi - lo : 0;
        r.start[d] = r.len[d] ? lo - origin->start[d] : 0;
    }
    return r;
}

/* The complex grid a plan transforms: dims, or its half spectrum. */
static void complex_dims(const pel__mpi_fft_key *k, size_t *n)
{
    memcpy(n, k->dims, 3 * sizeof *n);
    if (k->kind != PEL_FFT_C2C)
        n[2] = k->dims[2] / 2 + 1;
}

void pel__pencil_grid(const pel__mpi_fft_key *k, int nranks, int *p0, int *p1)
{
    size_t n[3];
    /* Fewest axes that leave some rank empty (p0 <= n0, p1 <= n1 for
     * z-pencils; p0 <= n1, p1 <= n2 for x-pencils), then the squarest grid,
     * then the smaller p0 (its exchange is the strided one). */
    int best0 = 1, best1 = nranks, best_bad = 5, best_gap = nranks;
    complex_dims(k, n);
    for (int a = 1; a <= nranks; a++) {
        int b, bad, gap;
        if (nranks % a != 0)
            continue;
        b = nranks / a;
        bad = ((size_t)a > n[0]) + ((size_t)b > n[1]) + ((size_t)a > n[1]) + ((size_t)b > n[2]);
        gap = a > b ? a - b : b - a;
        if (bad < best_bad || (bad == best_bad && gap < best_gap)) {
            best0 = a;
            best1 = b;
            best_bad = bad;
            best_gap = gap;
        }
    }
    *p0 = best0;
    *p1 = best1;
}

void pel__pencil_layout(const pel__mpi_fft_key *k, int rank, pel_mpi_fft_layout *l, size_t *in_count,
                        size_t *out_count, size_t *work_count)
{
    int r0 = rank / k->grid[1], r1 = rank % k->grid[1];
    int in = (k->flags & PEL_MPI_FFT_TRANSPOSED_IN) ? LAYOUT_X : LAYOUT_Z;
    int out = (k->flags & PEL_MPI_FFT_TRANSPOSED_OUT) ? LAYOUT_X : LAYOUT_Z;
    size_t n[3], work = 0;
    box bi, bo;

    complex_dims(k, n);
    bi = layout_box(in, n, k->grid[0], k->grid[1], r0, r1);
    bo = layout_box(out, n, k->grid[0], k->grid[1], r0, r1);

    memset(l, 0, sizeof *l);
    l->ndim = 3;
    l->decomposition = PEL_MPI_FFT_PENCIL;
    l->grid[0] = k->grid[0];
    l->grid[1] = k->grid[1];
    for (int a = 0; a < 3; a++) {
        l->in_dims[a] = bi.len[a];
        l->in_starts[a] = bi.start[a];
        l->out_dims[a] = bo.len[a];
        l->out_starts[a] = bo.start[a];
    }
    /* The first cut axis: 0 for z-pencils, 1 for x-pencils. */
    l->in_axis = in == LAYOUT_X ? 1 : 0;
    l->out_axis = out == LAYOUT_X ? 1 : 0;
    l->in_start = bi.start[l->in_axis];
    l->out_start = bo.start[l->out_axis];
    /* The real side of r2c / c2r: z-pencil rows of 2*(n2/2+1) reals, the
     * bytes of the complex z-pencil (counts are in complex values). */
    if (k->kind == PEL_FFT_R2C)
        l->in_dims[2] = 2 * n[2];
    if (k->kind == PEL_FFT_C2R)
        l->out_dims[2] = 2 * n[2];
    *in_count = volume(&bi);
    *out_count = volume(&bo);
    for (int layout = LAYOUT_Z; layout <= LAYOUT_X; layout++) {
        box b = layout_box(layout, n, k->grid[0], k->grid[1], r0, r1);
        if (volume(&b) > work)
            work = volume(&b);
    }
    *work_count = work;
    l->alloc_bytes = (*in_count > *out_count ? *in_count : *out_count) * 2 *
                     (k->precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double));
}

/* ------------------------------------------------------------ exchanges */

static void exchange_free(exchange *x)
{
    int finalized = 1;
    free(x->counts1);
    free(x->boxes1);
    x->counts1 = NULL;
    x->boxes1 = NULL;
    MPI_Finalized(&finalized);
    if (!finalized && x->comm != MPI_COMM_NULL)
        MPI_Comm_free(&x->comm);
    x->comm = MPI_COMM_NULL;
}

/* Fills x for layouts l1 <-> l2 over the communicator `comm` (already
 * split): peer q of a row has grid coordinates (r0, q), of a column (q, r1).
 * 0 when memory runs out or a count passes MPI's int. */
static int exchange_make(exchange *x, MPI_Comm comm, int columns, int l1, int l2, const pel__pencil *e)
{
    int m = columns ? e->p0 : e->p1;
    size_t at1 = 0, at2 = 0;
    box mine1 = e->mine[l1], mine2 = e->mine[l2];

    x->comm = comm;
    x->size = m;
    x->counts1 = malloc(4 * (size_t)m * sizeof(int));
    x->boxes1 = malloc(2 * (size_t)m * sizeof(box));
    if (x->counts1 == NULL || x->boxes1 == NULL)
        return 0;
    x->displs1 = x->counts1 + m;
    x->counts2 = x->counts1 + 2 * m;
    x->displs2 = x->counts1 + 3 * m;
    x->boxes2 = x->boxes1 + m;
    for (int a = 0; a < 3; a++) {
        x->dims1[a] = mine1.len[a];
        x->dims2[a] = mine2.len[a];
    }
    for (int q = 0; q < m; q++) {
        int q0 = columns ? q : e->r0, q1 = columns ? e->r1 : q;
        box peer1 = layout_box(l1, e->dims, e->p0, e->p1, q0, q1);
        box peer2 = layout_box(l2, e->dims, e->p0, e->p1, q0, q1);
        size_t c1, c2;
        x->boxes1[q] = intersect(&mine1, &peer2, &mine1);
        x->boxes2[q] = intersect(&peer1, &mine2, &mine2);
        c1 = volume(&x->boxes1[q]);
        c2 = volume(&x->boxes2[q]);
        if (at1 + c1 > INT_MAX || at2 + c2 > INT_MAX)
            return 0;
        x->counts1[q] = (int)c1;
        x->displs1[q] = (int)at1;
        x->counts2[q] = (int)c2;
        x->displs2[q] = (int)at2;
        at1 += c1;
        at2 += c2;
    }
    return 1;
}

/* Copies the sub-box b of an array of local shape d to or from a packed
 * run (global row-major order of the box). */
static void box_copy(int pack, char *array, const size_t *d, const box *b, char *packed, size_t elem)
{
    size_t rows = b->len[0] * b->len[1], run = b->len[2] * elem;
    int threads;
    PEL__TEAM_SCOPE(team);

    if (rows == 0 || run == 0)
        return;
    threads = pel__team_take(&team, pel_threads_for_work(rows * b->len[2]));
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (size_t r = 0; r < rows; r++) {
        size_t i = r / b->len[1], j = r % b->len[1];
        char *a = array + (((b->start[0] + i) * d[1] + b->start[1] + j) * d[2] + b->start[2]) * elem;
        char *p = packed + r * run;
        if (pack)
            memcpy(p, a, run);
        else
            memcpy(a, p, run);
    }
}

/* src (layout 1, or 2 when inverse) -> dst (the other layout). send and
 * recv hold the packed data; recv may be src and send may be dst (each is
 * done with before the other is written). */
static void exchange_run(const exchange *x, int inverse, MPI_Datatype type, size_t elem, void *src, void *send,
                         void *recv, void *dst)
{
    const int *sc = inverse ? x->counts2 : x->counts1, *sd = inverse ? x->displs2 : x->displs1;
    const int *rc = inverse ? x->counts1 : x->counts2, *rd = inverse ? x->displs1 : x->displs2;
    const box *sb = inverse ? x->boxes2 : x->boxes1, *rb = inverse ? x->boxes1 : x->boxes2;
    const size_t *sdims = inverse ? x->dims2 : x->dims1, *rdims = inverse ? x->dims1 : x->dims2;

    for (int q = 0; q < x->size; q++)
        box_copy(1, src, sdims, &sb[q], (char *)send + (size_t)sd[q] * elem, elem);
    MPI_Alltoallv(send, sc, sd, type, recv, rc, rd, type, x->comm);
    for (int q = 0; q < x->size; q++)
        box_copy(0, dst, rdims, &rb[q], (char *)recv + (size_t)rd[q] * elem, elem);
}

/* ------------------------------------------------------------ plans */

/* One serial stage: a 1-D transform of length n at stride `stride`, over
 * the two loops `loops` (count, stride); out of place. Planner lock held. */
static void *plan_stage(int precision, size_t n, size_t stride, const size_t loops[2][2], void *in, void *out,
                        int sign, unsigned flags)
{
    fftw_iodim64 dim = {(ptrdiff_t)n, (ptrdiff_t)stride, (ptrdiff_t)stride};
    fftw_iodim64 many[2] = {{(ptrdiff_t)loops[0][0], (ptrdiff_t)loops[0][1], (ptrdiff_t)loops[0][1]},
                            {(ptrdiff_t)loops[1][0], (ptrdiff_t)loops[1][1], (ptrdiff_t)loops[1][1]}};
    if (precision == PEL_FLOAT32)
        return fftwf_plan_guru64_dft(1, &dim, 2, many, in, out, sign, flags);
    return fftw_plan_guru64_dft(1, &dim, 2, many, in, out, sign, flags);
}

/* The axis-2 stage of r2c / c2r: `rows` real rows of n2 points, stored
 * 2*(n2/2+1) reals apart, to or from as many half-spectrum rows. */
static void *plan_real_stage(int precision, int kind, size_t n2, size_t rows, void *in, void *out, unsigned flags)
{
    ptrdiff_t half = (ptrdiff_t)(n2 / 2 + 1), real = kind == PEL_FFT_R2C;
    fftw_iodim64 dim = {(ptrdiff_t)n2, 1, 1};
    fftw_iodim64 many[1] = {{(ptrdiff_t)rows, real ? 2 * half : half, real ? half : 2 * half}};
    if (precision == PEL_FLOAT32)
        return real ? (void *)fftwf_plan_guru64_dft_r2c(1, &dim, 1, many, in, out, flags)
                    : (void *)fftwf_plan_guru64_dft_c2r(1, &dim, 1, many, in, out, flags);
    return real ? (void *)fftw_plan_guru64_dft_r2c(1, &dim, 1, many, in, out, flags)
                : (void *)fftw_plan_guru64_dft_c2r(1, &dim, 1, many, in, out, flags);
}

static void destroy_plans(pel__pencil *e)
{
    pel__fft_planner_lock();
    for (int a = 0; a < 3; a++)
        if (e->plans[a] != NULL) {
            if (e->precision == PEL_FLOAT32)
                fftwf_destroy_plan(e->plans[a]);
            else
                fftw_destroy_plan(e->plans[a]);
            e->plans[a] = NULL;
        }
    pel__fft_planner_unlock();
}

void pel__pencil_destroy(pel__pencil *e)
{
    if (e == NULL)
        return;
    destroy_plans(e);
    exchange_free(&e->rows);
    exchange_free(&e->columns);
    free(e);
}

pel_status pel__pencil_make(const pel__mpi_fft_key *k, MPI_Comm comm, void *a, void *b, unsigned flags,
                            pel__pencil **result, const char *fn)
{
    pel__pencil *e = calloc(1, sizeof *e);
    MPI_Comm row = MPI_COMM_NULL, column = MPI_COMM_NULL;
    int rank = 0, split_ok;
    size_t n[3];

    *result = NULL;
    complex_dims(k, n);
    MPI_Comm_rank(comm, &rank);
    /* Both splits on every rank, whatever happened to its allocation: they
     * are collective. */
    split_ok = MPI_Comm_split(comm, rank / k->grid[1], rank % k->grid[1], &row) == MPI_SUCCESS;
    split_ok &= MPI_Comm_split(comm, rank % k->grid[1], rank / k->grid[1], &column) == MPI_SUCCESS;
    if (e == NULL || !split_ok) {
        if (row != MPI_COMM_NULL)
            MPI_Comm_free(&row);
        if (column != MPI_COMM_NULL)
            MPI_Comm_free(&column);
        free(e);
        return e == NULL ? pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate the pencil plan")
                         : pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Comm_split of the process grid failed");
    }
    e->precision = k->precision;
    e->kind = k->kind;
    e->p0 = k->grid[0];
    e->p1 = k->grid[1];
    e->r0 = rank / e->p1;
    e->r1 = rank % e->p1;
    memcpy(e->dims, n, sizeof e->dims);
    e->type = k->precision == PEL_FLOAT32 ? MPI_C_FLOAT_COMPLEX : MPI_C_DOUBLE_COMPLEX;
    e->elem = 2 * (k->precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double));
    for (int l = LAYOUT_Z; l <= LAYOUT_X; l++)
        e->mine[l] = layout_box(l, n, e->p0, e->p1, e->r0, e->r1);
    e->rows.comm = e->columns.comm = MPI_COMM_NULL;
    if (!exchange_make(&e->rows, row, 0, LAYOUT_Z, LAYOUT_Y, e) ||
        !exchange_make(&e->columns, column, 1, LAYOUT_Y, LAYOUT_X, e)) {
        if (e->rows.comm == MPI_COMM_NULL)
            MPI_Comm_free(&row);
        if (e->columns.comm == MPI_COMM_NULL)
            MPI_Comm_free(&column);
        pel__pencil_destroy(e);
        return pel__fail(PEL_ERROR_UNSUPPORTED, fn,
                         "out of memory, or a rank's part passes MPI's int counts (2^31-1 complex values)");
    }

    /* The serial stages, planned out of place from a to b with the input
     * kept (the first stage reads the caller's array). */
    {
        const box *z = &e->mine[LAYOUT_Z], *y = &e->mine[LAYOUT_Y], *x = &e->mine[LAYOUT_X];
        const size_t zl[2][2] = {{z->len[0] * z->len[1], n[2]}, {1, 0}};
        const size_t yl[2][2] = {{y->len[0], n[1] * y->len[2]}, {y->len[2], 1}};
        const size_t xl[2][2] = {{x->len[1] * x->len[2], 1}, {1, 0}};
        int sign = k->direction;
        int failed = 0;
        flags |= FFTW_PRESERVE_INPUT;
        pel__fft_planner_lock();
        if (k->precision == PEL_FLOAT32)
            fftwf_plan_with_nthreads(k->nthreads);
        else
            fftw_plan_with_nthreads(k->nthreads);
        if (volume(x)) {
            e->plans[0] = plan_stage(k->precision, n[0], x->len[1] * x->len[2], xl, a, b, sign, flags);
            failed |= e->plans[0] == NULL;
        }
        if (volume(y)) {
            e->plans[1] = plan_stage(k->precision, n[1], y->len[2], yl, a, b, sign, flags);
            failed |= e->plans[1] == NULL;
        }
        if (volume(z)) {
            /* c2r's stage reads a work array: it may destroy it. */
            e->plans[2] = k->kind == PEL_FFT_C2C ? plan_stage(k->precision, n[2], 1, zl, a, b, sign, flags)
                          : k->kind == PEL_FFT_R2C
                              ? plan_real_stage(k->precision, k->kind, k->dims[2], zl[0][0], a, b, flags)
                              : plan_real_stage(k->precision, k->kind, k->dims[2], zl[0][0], a, b,
                                                (flags & ~FFTW_PRESERVE_INPUT) | FFTW_DESTROY_INPUT);
            failed |= e->plans[2] == NULL;
        }
        pel__fft_planner_unlock();
        if (failed) {
            pel__pencil_destroy(e);
            return (flags & FFTW_WISDOM_ONLY)
                       ? pel__fail(PEL_ERROR_UNSUPPORTED, fn,
                                   "options->effort=PEL_FFT_WISDOM_ONLY and FFTW has no wisdom for a pencil stage")
                       : pel__fail(PEL_ERROR_BACKEND, fn, "FFTW could not plan a serial stage of the pencil FFT");
        }
    }
    *result = e;
    return PEL_OK;
}

/* ------------------------------------------------------------ execution */

static void stage(const pel__pencil *e, int axis, const void *in, void *out)
{
    int r2c = axis == 2 && e->kind == PEL_FFT_R2C, c2r = axis == 2 && e->kind == PEL_FFT_C2R;
    if (e->plans[axis] == NULL)
        return;
    if (e->precision == PEL_FLOAT32) {
        if (r2c)
            fftwf_execute_dft_r2c(e->plans[axis], (float *)in, out);
        else if (c2r)
            fftwf_execute_dft_c2r(e->plans[axis], (fftwf_complex *)in, out);
        else
            fftwf_execute_dft(e->plans[axis], (fftwf_complex *)in, out);
    } else {
        if (r2c)
            fftw_execute_dft_r2c(e->plans[axis], (double *)in, out);
        else if (c2r)
            fftw_execute_dft_c2r(e->plans[axis], (fftw_complex *)in, out);
        else
            fftw_execute_dft(e->plans[axis], (fftw_complex *)in, out);
    }
}

void pel__pencil_run(const pel__pencil *e, int transposed_in, int transposed_out, const void *in, void *out,
                     void *a, void *b)
{
    const exchange *rows = &e->rows, *cols = &e->columns;
    if (e->kind == PEL_FFT_C2R && !transposed_in) {
        /* c2r from z-pencils: the real stage must come last, so out to
         * x-pencils and back first (four exchanges, as the natural c2c). */
        exchange_run(rows, 0, e->type, e->elem, (void *)in, a, b, a);
        stage(e, 1, a, b);
        exchange_run(cols, 0, e->type, e->elem, b, a, b, a);
        stage(e, 0, a, b);
        exchange_run(cols, 1, e->type, e->elem, b, a, b, a);
        exchange_run(rows, 1, e->type, e->elem, a, b, a, b);
        stage(e, 2, b, out);
        return;
    }
    if (transposed_in) {
        /* x-pencils -> z-pencils: axis 0, columns back, axis 1, rows back, axis 2. */
        stage(e, 0, in, a);
        exchange_run(cols, 1, e->type, e->elem, a, b, a, b);
        stage(e, 1, b, a);
        exchange_run(rows, 1, e->type, e->elem, a, b, a, b);
        stage(e, 2, b, out);
        return;
    }
    /* z-pencils: axis 2, rows, axis 1, columns, axis 0 (x-pencils). */
    stage(e, 2, in, a);
    exchange_run(rows, 0, e->type, e->elem, a, b, a, b);
    stage(e, 1, b, a);
    exchange_run(cols, 0, e->type, e->elem, a, b, a, b);
    if (transposed_out) {
        stage(e, 0, b, out);
        return;
    }
    /* ... and back to z-pencils for the natural layout. */
    stage(e, 0, b, a);
    exchange_run(cols, 1, e->type, e->elem, a, b, a, b);
    exchange_run(rows, 1, e->type, e->elem, b, a, b, out);
}
