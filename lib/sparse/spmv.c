/* SpMV and SpMM on a pel_csr. Each thread takes a run of the matrix's
 * nonzero-balanced parts; every output element is one row's entries summed
 * left to right, starting from 0.0, then y = alpha*sum (+ beta*y), whatever
 * the kernel (SpMV, SpMM row- or column-major) and the thread count, so all
 * give the same bits. The file is built with -ffp-contract=off so that the
 * compiler cannot fuse a multiply-add in one kernel and not in another. */
#include "config.h"

#include <omp.h>
#include <stdint.h>

#include "core/error.h"
#include "core/threads.h"
#include "sparse/csr.h"

/* Vectors of a row-major block done per pass over a row: the sums live in a
 * stack array of this many elements. */
#define SPMM_VECTOR_BLOCK 64

typedef struct product {
    const pel_csr *matrix;
    pel_layout layout;
    size_t nvec;
    double alpha, beta;
    const void *x;
    size_t ldx;
    void *y;
    size_t ldy;
} product;

/* Every kernel works on one part of the partition: rows [first, last),
 * whose entries start at `base`; row i ends at base + row_end[i]. The
 * part's column index is narrow (int16_t offsets from the row) or wide
 * (uint32_t columns); each kernel is written once, as an always-inlined
 * function of a constant `narrow`, and instantiated for both, so the test
 * on the kind of index is made once per part, not per entry. */

#define PEL_KERNEL static inline __attribute__((always_inline))

/* The column of entry k of row i in a part's index (SpMM's row-major
 * kernels, which scale it by ldx). */
PEL_KERNEL size_t index_column(const void *restrict index, int narrow, size_t i, size_t k)
{
    return narrow ? pel__csr_offset_column(i, ((const int16_t *)index)[k]) : (size_t)((const uint32_t *)index)[k];
}

/* Where entry k of a part's index points, relative to row i's x (narrow:
 * the offset, to add to x + i) or to x (wide: the column). */
PEL_KERNEL ptrdiff_t index_entry(const void *restrict index, int narrow, size_t k)
{
    return narrow ? (ptrdiff_t)((const int16_t *)index)[k] : (ptrdiff_t)((const uint32_t *)index)[k];
}

/* Row i's entries [k, e) summed left to right, starting from 0.0: the one
 * order every kernel keeps. A plain loop: unrolling it by 4 (one
 * accumulator, so the same order) measured no faster, as the loop waits
 * for memory, not for its own instructions. */
PEL_KERNEL double row_sum_double(const double *restrict v, const void *restrict index, int narrow,
                                 const double *restrict x, size_t i, size_t k, size_t e)
{
    const double *restrict xr = narrow ? x + i : x;
    double s = 0.0;
    for (; k < e; k++)
        s += v[k] * xr[index_entry(index, narrow, k)];
    return s;
}

PEL_KERNEL float row_sum_float(const float *restrict v, const void *restrict index, int narrow,
                               const float *restrict x, size_t i, size_t k, size_t e)
{
    const float *restrict xr = narrow ? x + i : x;
    float s = 0.0f;
    for (; k < e; k++)
        s += v[k] * xr[index_entry(index, narrow, k)];
    return s;
}

/* How far ahead of the current row SpMV prefetches values and index, in
 * entries (2 KiB of double values). The hardware prefetchers alone kept
 * one core at about half of its streaming bandwidth on the 7-point
 * Laplacian: several streams (values, index, row ends, three planes of x)
 * with short rows between them. One prefetch of each array per row
 * covers rows of up to a cache line of entries; longer rows are long
 * sequential runs that the hardware follows by itself. The same holds for
 * matrices with scattered columns (random, power law): there the streams
 * compete with the gathers of x for the core's miss buffers, and fetching
 * them early keeps the gathers from waiting behind them (measured on the
 * Xeon model 207, 1 thread, 2^21 rows, a stand-alone copy of the loop:
 * random 1.17-1.29x, power law 0.93-1.18x at a load of 4-5; a software
 * prefetch of x[col[k + D]] as well, D = 16..256, gained less or lost). */
#define PREFETCH_ENTRIES 256

/* The entries of a part and the arrays after it, for prefetching: values
 * and index up to the end of the matrix (the next part is usually the same
 * thread's), never past the end of the arrays. */
typedef struct prefetch_span {
    const char *values, *index;
    size_t value_size, index_size, values_left, index_left; /* in entries of this part's kinds */
} prefetch_span;

PEL_KERNEL prefetch_span prefetch_span_of(const pel_csr *m, size_t part, int narrow)
{
    const size_t base = m->row_ptr[m->part_row[part]];
    prefetch_span p;
    p.value_size = pel__csr_value_size(m->precision);
    p.index_size = narrow ? sizeof(int16_t) : sizeof(uint32_t);
    p.values = (const char *)m->values + base * p.value_size;
    p.index = (const char *)(m->index + m->index_at[part]);
    p.values_left = m->nnz - base;
    p.index_left = (m->index_at[m->nparts] - m->index_at[part]) / p.index_size;
    return p;
}

/* Prefetches the values and index PREFETCH_ENTRIES after entry k of the
 * part (clamped to the ends of the arrays; a prefetch never faults), when
 * fetch is set: in every part since the scattered ones gained too (above).
 * The flag stays so that a kind of part can be excluded again by
 * measurement without touching the kernels. */
PEL_KERNEL void prefetch_ahead(const prefetch_span *p, int fetch, size_t k)
{
    const size_t ahead = k + PREFETCH_ENTRIES;
    if (!fetch)
        return;
    __builtin_prefetch(p->values + (ahead < p->values_left ? ahead : p->values_left) * p->value_size);
    __builtin_prefetch(p->index + (ahead < p->index_left ? ahead : p->index_left) * p->index_size);
}

/* ------------------------------------------------------------ double kernels */

PEL_KERNEL void spmv_rows_double(const pel_csr *m, size_t part, int narrow, int fetch, double alpha,
                                 const double *restrict x, double beta, double *restrict y)
{
    const size_t first = m->part_row[part], last = m->part_row[part + 1], base = m->row_ptr[first];
    const uint32_t *restrict end = m->row_end;
    const void *restrict ci = m->index + m->index_at[part];
    const double *restrict v = (const double *)m->values + base;
    const prefetch_span ahead = prefetch_span_of(m, part, narrow);
    size_t k = 0;

    if (beta == 0.0) {
        for (size_t i = first; i < last; i++) {
            const size_t e = end[i];
            double s;
            prefetch_ahead(&ahead, fetch, k);
            s = row_sum_double(v, ci, narrow, x, i, k, e);
            k = e;
            y[i] = alpha * s;
        }
    } else {
        for (size_t i = first; i < last; i++) {
            const size_t e = end[i];
            double s;
            prefetch_ahead(&ahead, fetch, k);
            s = row_sum_double(v, ci, narrow, x, i, k, e);
            k = e;
            y[i] = alpha * s + beta * y[i];
        }
    }
}

PEL_KERNEL void spmm_rows_row_major_double(const product *p, size_t part, int narrow)
{
    const pel_csr *m = p->matrix;
    const size_t first = m->part_row[part], last = m->part_row[part + 1], base = m->row_ptr[first];
    const uint32_t *restrict end = m->row_end;
    const void *restrict ci = m->index + m->index_at[part];
    const double *restrict v = (const double *)m->values + base;
    const double *restrict x = p->x;
    double *restrict y = p->y;
    double acc[SPMM_VECTOR_BLOCK];
    size_t begin = 0;

    for (size_t i = first; i < last; begin = end[i], i++)
        for (size_t j0 = 0; j0 < p->nvec; j0 += SPMM_VECTOR_BLOCK) {
            size_t nb = p->nvec - j0 < SPMM_VECTOR_BLOCK ? p->nvec - j0 : SPMM_VECTOR_BLOCK;
            double *yi = y + i * p->ldy + j0;
            for (size_t j = 0; j < nb; j++)
                acc[j] = 0.0;
            for (size_t k = begin; k < end[i]; k++) {
                const double a = v[k], *xr = x + index_column(ci, narrow, i, k) * p->ldx + j0;
                for (size_t j = 0; j < nb; j++)
                    acc[j] += a * xr[j];
            }
            if (p->beta == 0.0)
                for (size_t j = 0; j < nb; j++)
                    yi[j] = p->alpha * acc[j];
            else
                for (size_t j = 0; j < nb; j++)
                    yi[j] = p->alpha * acc[j] + p->beta * yi[j];
        }
}

static void spmv_part_double(const pel_csr *m, size_t part, double alpha, const double *restrict x, double beta,
                             double *restrict y)
{
    if (m->narrow[part])
        spmv_rows_double(m, part, 1, 1, alpha, x, beta, y);
    else
        spmv_rows_double(m, part, 0, 1, alpha, x, beta, y);
}

static void spmm_part_row_major_double(const product *p, size_t part)
{
    if (p->matrix->narrow[part])
        spmm_rows_row_major_double(p, part, 1);
    else
        spmm_rows_row_major_double(p, part, 0);
}

/* ------------------------------------------------------------ float kernels */

PEL_KERNEL void spmv_rows_float(const pel_csr *m, size_t part, int narrow, int fetch, float alpha,
                                const float *restrict x, float beta, float *restrict y)
{
    const size_t first = m->part_row[part], last = m->part_row[part + 1], base = m->row_ptr[first];
    const uint32_t *restrict end = m->row_end;
    const void *restrict ci = m->index + m->index_at[part];
    const float *restrict v = (const float *)m->values + base;
    const prefetch_span ahead = prefetch_span_of(m, part, narrow);
    size_t k = 0;

    if (beta == 0.0f) {
        for (size_t i = first; i < last; i++) {
            const size_t e = end[i];
            float s;
            prefetch_ahead(&ahead, fetch, k);
            s = row_sum_float(v, ci, narrow, x, i, k, e);
            k = e;
            y[i] = alpha * s;
        }
    } else {
        for (size_t i = first; i < last; i++) {
            const size_t e = end[i];
            float s;
            prefetch_ahead(&ahead, fetch, k);
            s = row_sum_float(v, ci, narrow, x, i, k, e);
            k = e;
            y[i] = alpha * s + beta * y[i];
        }
    }
}

PEL_KERNEL void spmm_rows_row_major_float(const product *p, size_t part, int narrow)
{
    const pel_csr *m = p->matrix;
    const size_t first = m->part_row[part], last = m->part_row[part + 1], base = m->row_ptr[first];
    const uint32_t *restrict end = m->row_end;
    const void *restrict ci = m->index + m->index_at[part];
    const float *restrict v = (const float *)m->values + base;
    const float *restrict x = p->x;
    float *restrict y = p->y;
    const float alpha = (float)p->alpha, beta = (float)p->beta;
    float acc[SPMM_VECTOR_BLOCK];
    size_t begin = 0;

    for (size_t i = first; i < last; begin = end[i], i++)
        for (size_t j0 = 0; j0 < p->nvec; j0 += SPMM_VECTOR_BLOCK) {
            size_t nb = p->nvec - j0 < SPMM_VECTOR_BLOCK ? p->nvec - j0 : SPMM_VECTOR_BLOCK;
            float *yi = y + i * p->ldy + j0;
            for (size_t j = 0; j < nb; j++)
                acc[j] = 0.0f;
            for (size_t k = begin; k < end[i]; k++) {
                const float a = v[k], *xr = x + index_column(ci, narrow, i, k) * p->ldx + j0;
                for (size_t j = 0; j < nb; j++)
                    acc[j] += a * xr[j];
            }
            if (beta == 0.0f)
                for (size_t j = 0; j < nb; j++)
                    yi[j] = alpha * acc[j];
            else
                for (size_t j = 0; j < nb; j++)
                    yi[j] = alpha * acc[j] + beta * yi[j];
        }
}

static void spmv_part_float(const pel_csr *m, size_t part, float alpha, const float *restrict x, float beta,
                            float *restrict y)
{
    if (m->narrow[part])
        spmv_rows_float(m, part, 1, 1, alpha, x, beta, y);
    else
        spmv_rows_float(m, part, 0, 1, alpha, x, beta, y);
}

static void spmm_part_row_major_float(const product *p, size_t part)
{
    if (p->matrix->narrow[part])
        spmm_rows_row_major_float(p, part, 1);
    else
        spmm_rows_row_major_float(p, part, 0);
}

/* ------------------------------------------------------------ dispatch */

/* y = beta*y on the rows of one part, for every vector: the alpha = 0 case,
 * which reads neither A nor x. */
static void scale_part(const product *p, size_t part)
{
    int single = p->matrix->precision == PEL_FLOAT32;
    size_t row_step = p->layout == PEL_ROW_MAJOR ? p->ldy : 1, vec_step = p->layout == PEL_ROW_MAJOR ? 1 : p->ldy;

    for (size_t j = 0; j < p->nvec; j++)
        for (size_t i = p->matrix->part_row[part]; i < p->matrix->part_row[part + 1]; i++) {
            size_t at = i * row_step + j * vec_step;
            if (single) {
                float *y = p->y;
                y[at] = (float)p->beta == 0.0f ? 0.0f : (float)p->beta * y[at];
            } else {
                double *y = p->y;
                y[at] = p->beta == 0.0 ? 0.0 : p->beta * y[at];
            }
        }
}

/* One vector (column-major) on one part. x may be NULL when cols = 0 (no
 * entry reads it), and an offset on a NULL pointer, even j * ldx = 0, is
 * undefined behaviour: such an x stays NULL. */
static void vector_part(const product *p, size_t j, size_t part)
{
    if (p->matrix->precision == PEL_FLOAT32)
        spmv_part_float(p->matrix, part, (float)p->alpha, p->x ? (const float *)p->x + j * p->ldx : NULL,
                        (float)p->beta, (float *)p->y + j * p->ldy);
    else
        spmv_part_double(p->matrix, part, p->alpha, p->x ? (const double *)p->x + j * p->ldx : NULL, p->beta,
                         (double *)p->y + j * p->ldy);
}

/* One part of the product. A column-major block uses the part for every
 * vector before moving on: a part is about nnz/1024 entries, so it is read
 * from memory once and from cache for the other vectors. */
static void product_part(const product *p, size_t part)
{
    /* A float matrix computes with alpha rounded to float: one that rounds
     * to 0.0f (a denormal double) must not read A or x either, or NaN there
     * leaks through 0*NaN (found by tests/fuzz/fuzz_sparse.c). */
    if (p->alpha == 0.0 || (p->matrix->precision == PEL_FLOAT32 && (float)p->alpha == 0.0f))
        scale_part(p, part);
    else if (p->layout == PEL_ROW_MAJOR && p->matrix->precision == PEL_FLOAT32)
        spmm_part_row_major_float(p, part);
    else if (p->layout == PEL_ROW_MAJOR)
        spmm_part_row_major_double(p, part);
    else
        for (size_t j = 0; j < p->nvec; j++)
            vector_part(p, j, part);
}

static void run_product(const product *p)
{
    const pel_csr *m = p->matrix;
    size_t work;
    int nthreads;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    if (!pel__mul_size(2 * m->nnz + m->rows, p->nvec, &work))
        work = SIZE_MAX; /* saturate: only the thread count depends on it */
    nthreads = pel__team_take(&team, pel__tune_threads_for_openmp_work(work));

#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        size_t first, last;
        pel__csr_thread_parts(m, omp_get_thread_num(), omp_get_num_threads(), &first, &last);
        for (size_t part = first; part < last; part++)
            product_part(p, part);
    }
}

/* [a, a + a_bytes) and [b, b + b_bytes) share a byte. */
static int overlap(const void *a, size_t a_bytes, const void *b, size_t b_bytes)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    if (a_bytes == 0 || b_bytes == 0)
        return 0;
    return x < y + b_bytes && y < x + a_bytes;
}

/* Elements spanned by a dense block of `count` lines of `length` elements,
 * `ld` apart: (count-1)*ld + length, or 0 when empty; 0 on overflow too with
 * *ok cleared. */
static size_t extent(size_t count, size_t length, size_t ld, int *ok)
{
    size_t span;
    if (count == 0 || length == 0)
        return 0;
    if (!pel__mul_size(count - 1, ld, &span) || !pel__add_size(span, length, &span) ||
        !pel__mul_size(span, sizeof(double), &(size_t){0})) {
        *ok = 0;
        return 0;
    }
    return span;
}

pel_status pel_csr_spmv(const pel_csr *matrix, double alpha, const void *x, double beta, void *y)
{
    product p;
    size_t esize;
    pel_status status = pel__handle_check(matrix, PEL__HANDLE_CSR, -1, __func__, "matrix");

    if (status != PEL_OK)
        return status;
    if (x == NULL && matrix->cols > 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "x must not be NULL when cols=%zu > 0", matrix->cols);
    if (y == NULL && matrix->rows > 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "y must not be NULL when rows=%zu > 0", matrix->rows);
    esize = pel__csr_value_size(matrix->precision);
    if (overlap(x, matrix->cols * esize, y, matrix->rows * esize))
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "x and y overlap in memory");
    p = (product){matrix, PEL_COL_MAJOR, 1, alpha, beta, x, matrix->cols, y, matrix->rows};
    run_product(&p);
    return PEL_OK;
}

pel_status pel_csr_spmm(const pel_csr *matrix, pel_layout layout, size_t nvec, double alpha, const void *x,
                        size_t ldx, double beta, void *y, size_t ldy)
{
    size_t min_ldx, min_ldy, x_span, y_span, esize;
    int ok = 1;
    product p;
    pel_status status = pel__handle_check(matrix, PEL__HANDLE_CSR, -1, __func__, "matrix");

    if (status != PEL_OK)
        return status;
    if (layout != PEL_ROW_MAJOR && layout != PEL_COL_MAJOR)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "layout=%d is not PEL_ROW_MAJOR or PEL_COL_MAJOR", (int)layout);
    min_ldx = layout == PEL_ROW_MAJOR ? nvec : matrix->cols;
    min_ldy = layout == PEL_ROW_MAJOR ? nvec : matrix->rows;
    if (ldx < min_ldx || ldx < 1)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "ldx=%zu is smaller than %s=%zu", ldx,
                        layout == PEL_ROW_MAJOR ? "nvec" : "cols", min_ldx > 1 ? min_ldx : 1);
    if (ldy < min_ldy || ldy < 1)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "ldy=%zu is smaller than %s=%zu", ldy,
                        layout == PEL_ROW_MAJOR ? "nvec" : "rows", min_ldy > 1 ? min_ldy : 1);
    if (x == NULL && matrix->cols > 0 && nvec > 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "x must not be NULL when cols=%zu and nvec=%zu", matrix->cols,
                        nvec);
    if (y == NULL && matrix->rows > 0 && nvec > 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "y must not be NULL when rows=%zu and nvec=%zu", matrix->rows,
                        nvec);
    if (layout == PEL_ROW_MAJOR) {
        x_span = extent(matrix->cols, nvec, ldx, &ok);
        y_span = extent(matrix->rows, nvec, ldy, &ok);
    } else {
        x_span = extent(nvec, matrix->cols, ldx, &ok);
        y_span = extent(nvec, matrix->rows, ldy, &ok);
    }
    if (!ok)
        return PEL_FAIL(PEL_ERROR_OVERFLOW, "the extent of x (ldx=%zu) or y (ldy=%zu) overflows size_t", ldx, ldy);
    esize = pel__csr_value_size(matrix->precision);
    if (overlap(x, x_span * esize, y, y_span * esize))
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "x and y overlap in memory");
    if (nvec == 0 || matrix->rows == 0)
        return PEL_OK;
    p = (product){matrix, layout, nvec, alpha, beta, x, ldx, y, ldy};
    run_product(&p);
    return PEL_OK;
}
