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
 * Inside, the work arrays keep y-pencils in axis order (0,2,1) and
 * x-pencils in (1,2,0) (outermost first), so that the serial stages on
 * work arrays run along contiguous axes (a 1-D pass at a power-of-two
 * stride aliases in the caches: 3-5x slower here); the row exchange packs
 * its runs in order (0,2,1), the column one in (1,2,0), and the local
 * transposes this needs happen while packing or unpacking, in 16 x 16
 * tiles. Only the axis-0 stage to or from the caller's x-pencils is
 * strided on one side (contiguous-to-strided: ~2.5x a contiguous pass).
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
    int order[3];              /* the packed runs' axis order, outermost first */
    int *counts1, *displs1, *counts2, *displs2;
    box *boxes1, *boxes2;
} exchange;

/* Axis orders (global axes, outermost first) of arrays and packed runs. */
enum { ORDER_GLOBAL, ORDER_ROWS, ORDER_COLUMNS };
static const int orders[3][3] = {{0, 1, 2}, {0, 2, 1}, {1, 2, 0}};

struct pel__pencil {
    int precision, kind, p0, p1, r0, r1;
    size_t dims[3]; /* the complex grid: the half spectrum for r2c/c2r */
    box mine[3];       /* this rank's box in each layout */
    exchange rows;     /* z <-> y */
    exchange columns;  /* y <-> x */
    void *plans[3];    /* serial FFTW plans along axis 0 (x-pencils), 1 (y), 2 (z); NULL when empty */
    size_t st[3][3][3]; /* element strides [layout][order][global axis] of complex arrays */
    size_t real_st[3];  /* of the real z-pencil (reals; rows padded to 2*(n2/2+1)) */
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
    memcpy(x->order, orders[columns ? ORDER_COLUMNS : ORDER_ROWS], sizeof x->order);
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

/* Strides (in elements) of each global axis of an array holding box b in
 * axis order `order`, its innermost rows `pad` >= their length apart. */
static void strides_of(const box *b, const int *order, size_t pad, size_t *st)
{
    st[order[2]] = 1;
    st[order[1]] = pad;
    st[order[0]] = pad * b->len[order[1]];
}

/* The axis an array with strides st over lens len is contiguous along. */
static int inner_axis(const size_t *st, const size_t *len)
{
    int inner = 2;
    for (int a = 2; a >= 0; a--)
        if (st[a] == 1 && len[a] > 1)
            return a;
    for (int a = 2; a >= 0; a--)
        if (st[a] == 1)
            inner = a;
    return inner;
}

static void copy_element(char *dst, const char *src, size_t elem)
{
    if (elem == 16)
        memcpy(dst, src, 16);
    else
        memcpy(dst, src, 8);
}

enum { TILE = 16 };

/* Copies a box of lens len from src (element strides ss) to dst (ds):
 * whole rows when both are contiguous along the same axis, else in
 * TILE x TILE tiles of the two contiguous axes (a local transpose that
 * reads and writes cache lines whole). */
static void copy_box(const char *src, const size_t *ss, char *dst, const size_t *ds, const size_t *len, size_t elem)
{
    int p = inner_axis(ss, len), q = inner_axis(ds, len), threads;
    PEL__TEAM_SCOPE(team);

    if (len[0] * len[1] * len[2] == 0)
        return;
    threads = pel__team_take(&team, pel_threads_for_work(len[0] * len[1] * len[2]));
    if (p == q) {
        int r1 = p == 0 ? 1 : 0, r2 = p == 2 ? 1 : 2;
        size_t rows = len[r1] * len[r2];
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
        for (size_t r = 0; r < rows; r++) {
            size_t i = r / len[r2], j = r % len[r2];
            memcpy(dst + (i * ds[r1] + j * ds[r2]) * elem, src + (i * ss[r1] + j * ss[r2]) * elem, len[p] * elem);
        }
        return;
    }
    {
        int r = 3 - p - q;
        size_t qt = (len[q] + TILE - 1) / TILE, work = len[r] * qt;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
        for (size_t w = 0; w < work; w++) {
            size_t k = w / qt, q0 = (w % qt) * TILE, q1 = q0 + TILE < len[q] ? q0 + TILE : len[q];
            const char *sk = src + k * ss[r] * elem;
            char *dk = dst + k * ds[r] * elem;
            for (size_t p0 = 0; p0 < len[p]; p0 += TILE) {
                size_t p1 = p0 + TILE < len[p] ? p0 + TILE : len[p];
                for (size_t y = q0; y < q1; y++)
                    for (size_t x = p0; x < p1; x++)
                        copy_element(dk + (x * ds[p] + y) * elem, sk + (x + y * ss[q]) * elem, elem);
            }
        }
    }
}

/* Copies the sub-box b (start relative to the array's box) of an array
 * with element strides `st` to or from a packed run in axis order `order`. */
static void box_copy(int pack, char *array, const size_t *st, const box *b, const int *order, char *packed,
                     size_t elem)
{
    size_t ps[3], base = b->start[0] * st[0] + b->start[1] * st[1] + b->start[2] * st[2];
    strides_of(b, order, b->len[order[2]], ps);
    if (pack)
        copy_box(array + base * elem, st, packed, ps, b->len, elem);
    else
        copy_box(packed, ps, array + base * elem, st, b->len, elem);
}

/* src (layout 1, or 2 when inverse; strides src_st) -> dst (the other
 * layout; strides dst_st). send and recv hold the packed data; recv may be
 * src and send may be dst (each is done with before the other is written). */
static void exchange_run(const exchange *x, int inverse, MPI_Datatype type, size_t elem, const void *src,
                         const size_t *src_st, void *send, void *recv, void *dst, const size_t *dst_st)
{
    const int *sc = inverse ? x->counts2 : x->counts1, *sd = inverse ? x->displs2 : x->displs1;
    const int *rc = inverse ? x->counts1 : x->counts2, *rd = inverse ? x->displs1 : x->displs2;
    const box *sb = inverse ? x->boxes2 : x->boxes1, *rb = inverse ? x->boxes1 : x->boxes2;

    for (int q = 0; q < x->size; q++)
        box_copy(1, (void *)src, src_st, &sb[q], x->order, (char *)send + (size_t)sd[q] * elem, elem);
    MPI_Alltoallv(send, sc, sd, type, recv, rc, rd, type, x->comm);
    for (int q = 0; q < x->size; q++)
        box_copy(0, dst, dst_st, &rb[q], x->order, (char *)recv + (size_t)rd[q] * elem, elem);
}

/* ------------------------------------------------------------ plans */

/* One serial stage over the box b: a 1-D transform along `axis` (of
 * length n: the real length for r2c / c2r) with the input and output
 * strides ist / ost of each global axis, looping over the other two axes;
 * out of place. Planner lock held. */
static void *plan_stage(const pel__pencil *e, int kind, int axis, size_t n, const box *b, const size_t *ist,
                        const size_t *ost, void *in, void *out, int sign, unsigned flags)
{
    fftw_iodim64 dim = {(ptrdiff_t)n, (ptrdiff_t)ist[axis], (ptrdiff_t)ost[axis]}, many[2];
    int h = 0;
    for (int a = 0; a < 3; a++)
        if (a != axis)
            many[h++] = (fftw_iodim64){(ptrdiff_t)b->len[a], (ptrdiff_t)ist[a], (ptrdiff_t)ost[a]};
    if (e->precision == PEL_FLOAT32) {
        if (kind == PEL_FFT_R2C)
            return fftwf_plan_guru64_dft_r2c(1, &dim, 2, many, in, out, flags);
        if (kind == PEL_FFT_C2R)
            return fftwf_plan_guru64_dft_c2r(1, &dim, 2, many, in, out, flags);
        return fftwf_plan_guru64_dft(1, &dim, 2, many, in, out, sign, flags);
    }
    if (kind == PEL_FFT_R2C)
        return fftw_plan_guru64_dft_r2c(1, &dim, 2, many, in, out, flags);
    if (kind == PEL_FFT_C2R)
        return fftw_plan_guru64_dft_c2r(1, &dim, 2, many, in, out, flags);
    return fftw_plan_guru64_dft(1, &dim, 2, many, in, out, sign, flags);
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

    for (int l = LAYOUT_Z; l <= LAYOUT_X; l++)
        for (int o = ORDER_GLOBAL; o <= ORDER_COLUMNS; o++)
            strides_of(&e->mine[l], orders[o], e->mine[l].len[orders[o][2]], e->st[l][o]);
    strides_of(&e->mine[LAYOUT_Z], orders[ORDER_GLOBAL], 2 * n[2], e->real_st);

    /* The serial stages (see the file comment for the axis orders),
     * planned out of place from a to b with the input kept (a stage may
     * read the caller's array). */
    {
        const box *z = &e->mine[LAYOUT_Z], *y = &e->mine[LAYOUT_Y], *x = &e->mine[LAYOUT_X];
        int tin = (k->flags & PEL_MPI_FFT_TRANSPOSED_IN) != 0, tout = (k->flags & PEL_MPI_FFT_TRANSPOSED_OUT) != 0;
        int sign = k->direction, failed = 0, real = k->kind != PEL_FFT_C2C;
        const size_t *z_user = real ? e->real_st : e->st[LAYOUT_Z][ORDER_GLOBAL];
        const size_t *z_work = e->st[LAYOUT_Z][ORDER_GLOBAL], *y_work = e->st[LAYOUT_Y][ORDER_ROWS];
        const size_t *x_work = e->st[LAYOUT_X][ORDER_COLUMNS], *x_user = e->st[LAYOUT_X][ORDER_GLOBAL];
        unsigned keep = flags | FFTW_PRESERVE_INPUT;
        /* c2r's stage reads a work array: it may destroy it. */
        unsigned c2r = (flags & ~FFTW_PRESERVE_INPUT) | FFTW_DESTROY_INPUT;
        pel__fft_planner_lock();
        if (k->precision == PEL_FLOAT32)
            fftwf_plan_with_nthreads(k->nthreads);
        else
            fftw_plan_with_nthreads(k->nthreads);
        if (volume(x)) {
            e->plans[0] = plan_stage(e, PEL_FFT_C2C, 0, n[0], x, tin ? x_user : x_work, tout ? x_user : x_work, a, b,
                                     sign, keep);
            failed |= e->plans[0] == NULL;
        }
        if (volume(y)) {
            e->plans[1] = plan_stage(e, PEL_FFT_C2C, 1, n[1], y, y_work, y_work, a, b, sign, keep);
            failed |= e->plans[1] == NULL;
        }
        if (volume(z)) {
            /* From the caller's z-pencils first (c2c, r2c), or to them last
             * (c2r, TRANSPOSED_IN). */
            int last = tin || k->kind == PEL_FFT_C2R;
            e->plans[2] = last ? plan_stage(e, k->kind, 2, k->dims[2], z, z_work, z_user, a, b, sign,
                                            k->kind == PEL_FFT_C2R ? c2r : keep)
                               : plan_stage(e, k->kind, 2, k->dims[2], z, z_user, z_work, a, b, sign, keep);
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
    const size_t *z = e->st[LAYOUT_Z][ORDER_GLOBAL], *y = e->st[LAYOUT_Y][ORDER_ROWS];
    const size_t *x = e->st[LAYOUT_X][ORDER_COLUMNS];
    MPI_Datatype t = e->type;
    size_t w = e->elem;

    if (transposed_in) {
        /* x-pencils -> z-pencils: axis 0, columns back, axis 1, rows back, axis 2. */
        stage(e, 0, in, a);
        exchange_run(cols, 1, t, w, a, x, b, a, b, y);
        stage(e, 1, b, a);
        exchange_run(rows, 1, t, w, a, y, b, a, b, z);
        stage(e, 2, b, out);
        return;
    }
    if (e->kind == PEL_FFT_C2R) {
        /* c2r from z-pencils: the real stage must come last, so out to
         * x-pencils and back first (four exchanges, as the natural c2c). */
        exchange_run(rows, 0, t, w, in, z, a, b, a, y);
        stage(e, 1, a, b);
        exchange_run(cols, 0, t, w, b, y, a, b, a, x);
        stage(e, 0, a, b);
        exchange_run(cols, 1, t, w, b, x, a, b, a, y);
        exchange_run(rows, 1, t, w, a, y, b, a, b, z);
        stage(e, 2, b, out);
        return;
    }
    /* z-pencils: axis 2, rows, axis 1, columns, axis 0 (x-pencils). */
    stage(e, 2, in, a);
    exchange_run(rows, 0, t, w, a, z, b, a, b, y);
    stage(e, 1, b, a);
    exchange_run(cols, 0, t, w, a, y, b, a, b, x);
    if (transposed_out) {
        stage(e, 0, b, out);
        return;
    }
    /* ... and back to z-pencils for the natural layout. */
    stage(e, 0, b, a);
    exchange_run(cols, 1, t, w, a, x, b, a, b, y);
    exchange_run(rows, 1, t, w, b, y, a, b, out, z);
}
