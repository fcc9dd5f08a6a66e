/* The CSR object: validation, copying with per-row sorting and summing of
 * duplicates, the nonzero-balanced partition, getters and export. */
#include "config.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/threads.h"
#include "sparse/csr.h"
#include "tune/tune.h"

int pel__csr_narrow_index_enabled = 1;
size_t pel__csr_banded_columns = PEL__CSR_BANDED_FROM_MODEL;

/* Matrices smaller than this (values and index) are not looked at for
 * banded parts: they sit in cache, and the machine model is not asked. */
#define BANDED_MIN_BYTES ((size_t)4 << 20)

/* One entry of a row being sorted: its column and its position in the input,
 * the tie-breaker that makes the sort stable, so duplicates are summed in
 * the order the caller gave them. */
typedef struct entry {
    size_t col;
    size_t pos;
} entry;

static int compare_entries(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

static void sort_entries(entry *e, size_t n)
{
    if (n > 32) {
        qsort(e, n, sizeof *e, compare_entries);
        return;
    }
    /* Rows of a few entries: insertion sort beats qsort's call overhead. */
    for (size_t i = 1; i < n; i++) {
        entry key = e[i];
        size_t j = i;
        while (j > 0 && compare_entries(&e[j - 1], &key) > 0) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = key;
    }
}

static double input_value(const void *values, pel_precision precision, size_t k)
{
    return precision == PEL_FLOAT32 ? (double)((const float *)values)[k] : ((const double *)values)[k];
}

static void store_value(void *values, pel_precision precision, size_t k, double v)
{
    if (precision == PEL_FLOAT32)
        ((float *)values)[k] = (float)v;
    else
        ((double *)values)[k] = v;
}

/* The weight prefix of the partition: entries and rows before row i. */
static inline unsigned __int128 weight_before(const size_t *row_ptr, size_t i)
{
    return (unsigned __int128)row_ptr[i] + (unsigned __int128)PEL_CSR_ROW_WEIGHT * i;
}

/* Cuts rows into nparts runs of about equal weight (entries + rows), by
 * binary search for each boundary on the monotone weight prefix. */
static void compute_parts(size_t rows, const size_t *row_ptr, size_t nparts, size_t *part_row)
{
    unsigned __int128 total;

    part_row[0] = 0;
    if (nparts == 0)
        return; /* no rows: row_ptr may be NULL */
    total = weight_before(row_ptr, rows);
    for (size_t p = 1; p < nparts; p++) {
        unsigned __int128 target = total * p / nparts;
        size_t lo = part_row[p - 1], hi = rows;
        while (lo < hi) { /* smallest i with weight_before(i) >= target */
            size_t mid = lo + (hi - lo) / 2;
            if (weight_before(row_ptr, mid) < target)
                lo = mid + 1;
            else
                hi = mid;
        }
        part_row[p] = lo;
    }
    part_row[nparts] = rows;
}

/* Whether v, rounded to `precision`, is finite. */
static int finite_in(double v, pel_precision precision)
{
    return precision == PEL_FLOAT32 ? isfinite((float)v) : isfinite(v);
}

/* Copies row [b, e) of the input to the same offsets of the output, sorted
 * by column with duplicates summed; returns the number of entries kept.
 * Finite values whose sum (or conversion) leaves the output precision's
 * range are refused: it returns SIZE_MAX with the column in *bad_col, so
 * that every matrix pel builds from finite values holds finite values
 * (and can be written and read back). */
static size_t build_row(const size_t *col_in, const void *val_in, pel_precision in_prec, size_t b, size_t e,
                        uint32_t *col_out, void *val_out, pel_precision out_prec, entry *scratch, size_t *bad_col)
{
    size_t n = e - b, kept = 0;
    int sorted = 1;

    for (size_t k = b + 1; k < e && sorted; k++)
        sorted = col_in[k - 1] < col_in[k];
    if (sorted) {
        for (size_t k = b; k < e; k++) {
            double v = input_value(val_in, in_prec, k);
            if (in_prec != out_prec && isfinite(v) && !finite_in(v, out_prec)) {
                *bad_col = col_in[k];
                return SIZE_MAX;
            }
            col_out[k] = (uint32_t)col_in[k];
            store_value(val_out, out_prec, k, v);
        }
        return n;
    }
    for (size_t k = 0; k < n; k++)
        scratch[k] = (entry){col_in[b + k], b + k};
    sort_entries(scratch, n);
    for (size_t k = 0; k < n;) {
        /* Duplicates are summed in double, then rounded once to the
         * matrix's precision. */
        double sum = input_value(val_in, in_prec, scratch[k].pos);
        int finite_terms = isfinite(sum);
        size_t col = scratch[k].col;
        for (k++; k < n && scratch[k].col == col; k++) {
            double v = input_value(val_in, in_prec, scratch[k].pos);
            finite_terms &= isfinite(v) != 0;
            sum += v;
        }
        if (finite_terms && !finite_in(sum, out_prec)) {
            *bad_col = col;
            return SIZE_MAX;
        }
        col_out[b + kept] = (uint32_t)col;
        store_value(val_out, out_prec, b + kept, sum);
        kept++;
    }
    return kept;
}

/* Checks the arrays; returns the longest row in *max_row. */
static pel_status validate(const char *function, size_t rows, size_t cols, const size_t *row_ptr,
                           const size_t *col_idx, const void *values, size_t *max_row)
{
    size_t nnz, longest = 0;

    if (cols > PEL_CSR_MAX_COLS)
        return pel__fail(PEL_ERROR_UNSUPPORTED, function, "cols=%zu exceeds PEL_CSR_MAX_COLS=%zu", cols,
                         PEL_CSR_MAX_COLS);
    if (rows == SIZE_MAX)
        return pel__fail(PEL_ERROR_OVERFLOW, function, "rows=%zu leaves no room for rows+1 row pointers", rows);
    if (row_ptr == NULL && rows > 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "row_ptr must not be NULL when rows=%zu > 0", rows);
    if (rows > 0 && row_ptr[0] != 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "row_ptr[0]=%zu must be 0", row_ptr[0]);
    for (size_t i = 0; i < rows; i++) {
        if (row_ptr[i + 1] < row_ptr[i])
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                             "row_ptr[%zu]=%zu is smaller than row_ptr[%zu]=%zu (row pointers must not decrease)",
                             i + 1, row_ptr[i + 1], i, row_ptr[i]);
        if (row_ptr[i + 1] - row_ptr[i] > longest)
            longest = row_ptr[i + 1] - row_ptr[i];
    }
    nnz = rows > 0 ? row_ptr[rows] : 0;
    if (nnz > 0 && col_idx == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "col_idx must not be NULL when nnz=%zu > 0", nnz);
    if (nnz > 0 && values == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "values must not be NULL when nnz=%zu > 0", nnz);
    for (size_t k = 0; k < nnz; k++) {
        if (col_idx[k] >= cols) {
            size_t lo = 0, hi = rows; /* the row holding entry k: row_ptr[lo] <= k < row_ptr[lo+1] */
            while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (row_ptr[mid] <= k)
                    lo = mid;
                else
                    hi = mid;
            }
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                             "col_idx[%zu]=%zu (row %zu) is out of range for cols=%zu", k, col_idx[k], lo, cols);
        }
    }
    *max_row = longest;
    return PEL_OK;
}

/* Whether part `part` can have a narrow index: every entry fits a narrow
 * offset (the columns of a row are sorted, so its first and last entries
 * have its extreme offsets), and every row i of the part is at most cols,
 * so that the kernels' x + i points into x or just past it (rows of a tall
 * matrix beyond that keep a wide index; with cols = 0 there are no
 * entries, and x may be NULL). */
static int part_fits_narrow(const pel_csr *m, const uint32_t *columns, size_t part)
{
    if (m->cols == 0 || m->part_row[part + 1] > m->cols + 1)
        return 0;
    for (size_t i = m->part_row[part]; i < m->part_row[part + 1]; i++)
        if (m->row_ptr[i] < m->row_ptr[i + 1] && (!pel__csr_offset_fits(i, columns[m->row_ptr[i]]) ||
                                                  !pel__csr_offset_fits(i, columns[m->row_ptr[i + 1] - 1])))
            return 0;
    return 1;
}

/* Writes part `part`'s block of the column index, as offsets or columns. */
static void fill_part_index(pel_csr *m, const uint32_t *columns, size_t part)
{
    const size_t first = m->part_row[part], last = m->part_row[part + 1], base = m->row_ptr[first];
    unsigned char *block = m->index + m->index_at[part];

    if (!m->narrow[part]) {
        memcpy(block, columns + base, (m->row_ptr[last] - base) * sizeof(uint32_t));
        return;
    }
    for (size_t i = first; i < last; i++)
        for (size_t k = m->row_ptr[i]; k < m->row_ptr[i + 1]; k++)
            ((int16_t *)(void *)block)[k - base] = pel__csr_offset(i, columns[k]);
}

/* Whether a wide part is banded: every entry of its rows within `window`
 * columns of its row (the columns of a row are sorted: its first and last
 * entries are its extremes). */
static int part_is_banded(const pel_csr *m, const uint32_t *columns, size_t part, size_t window)
{
    for (size_t i = m->part_row[part]; i < m->part_row[part + 1]; i++) {
        size_t b = m->row_ptr[i], e = m->row_ptr[i + 1];
        if (b < e && ((columns[b] < i && i - columns[b] > window) || (columns[e - 1] > i && columns[e - 1] - i > window)))
            return 0;
    }
    return window > 0;
}

size_t pel__csr_banded_window(size_t matrix_bytes, size_t elem_size)
{
    size_t set = pel__csr_banded_columns;
    if (set != PEL__CSR_BANDED_FROM_MODEL)
        return set;
    if (matrix_bytes < BANDED_MIN_BYTES || elem_size == 0)
        return 0;
    /* Half the L2 for x's window around the rows: x is read from cache and
     * the part is bound by its streams, like a narrow one. */
    return pel__machine()->cache[1].bytes / 2 / elem_size;
}

/* Builds the column index (struct pel_csr) from the sorted 32-bit columns at
 * their final offsets: each part is narrow when all its entries fit, and is
 * classified and written by the thread that SpMV gives it (first touch).
 * Returns 0 when the index cannot be allocated. */
static int build_index(pel_csr *m, const uint32_t *columns, int nthreads)
{
    const int narrow_enabled = pel__csr_narrow_index_enabled;
    const size_t window = pel__csr_banded_window(
        m->nnz * (pel__csr_value_size(m->precision) + sizeof(uint32_t)), pel__csr_value_size(m->precision));

#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        size_t p0, p1;
        pel__csr_thread_parts(m, omp_get_thread_num(), omp_get_num_threads(), &p0, &p1);
        for (size_t p = p0; p < p1; p++) {
            m->narrow[p] = (unsigned char)(narrow_enabled && part_fits_narrow(m, columns, p));
            m->banded[p] = (unsigned char)(!m->narrow[p] && part_is_banded(m, columns, p, window));
        }
#pragma omp barrier
#pragma omp single
        {
            /* At most 4 bytes per entry plus one alignment unit per part:
             * no overflow, as 8 bytes per entry were checked. */
            size_t at = 0;
            for (size_t p = 0; p < m->nparts; p++) {
                size_t entries = m->row_ptr[m->part_row[p + 1]] - m->row_ptr[m->part_row[p]];
                m->index_at[p] = at;
                at += entries * pel__csr_index_size(m, p);
                at = (at + PEL_CSR_INDEX_ALIGN - 1) / PEL_CSR_INDEX_ALIGN * PEL_CSR_INDEX_ALIGN;
            }
            m->index_at[m->nparts] = at;
            m->index = pel_malloc(at);
        } /* implicit barrier: every thread sees index and index_at */
        if (m->index != NULL)
            for (size_t p = p0; p < p1; p++)
                fill_part_index(m, columns, p);
    }
    return m->index != NULL;
}

/* Frees a matrix that may be partly built and is not registered (the
 * builder's failure paths); pel_csr_destroy() unregisters, then calls it. */
static void free_matrix(pel_csr *matrix)
{
    if (matrix == NULL)
        return;
    pel_free(matrix->row_ptr);
    pel_free(matrix->index);
    pel_free(matrix->index_at);
    pel_free(matrix->narrow);
    pel_free(matrix->banded);
    pel_free(matrix->values);
    pel_free(matrix->part_row);
    pel_free(matrix->row_end);
    free(matrix);
}

/* Matrices smaller than this are not checked against the free memory. */
#define CHECKED_ALLOCATION_BYTES ((size_t)64 << 20)

/* The memory a new allocation can still get without swapping: MemAvailable
 * of /proc/meminfo (free memory plus reclaimable caches), else the physical
 * memory, else 0 (unknown). */
static double available_bytes(void)
{
    char line[128];
    double kb = 0.0;
    FILE *f = fopen("/proc/meminfo", "r");
    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);

    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
                break;
        fclose(f);
    }
    if (kb > 0.0)
        return kb * 1024.0;
    return pages > 0 && page_size > 0 ? (double)pages * (double)page_size : 0.0;
}

/* Allocates a matrix's arrays (not filled), or records an out-of-memory
 * message for `function` and returns NULL. The arrays are touched as they
 * are filled: on a system that overcommits, an allocation larger than the
 * memory left would succeed and the process be killed while filling it, so
 * a large request beyond the available memory is refused here, cleanly
 * (best effort: other processes may take memory meanwhile). The size
 * includes the rows+1 row pointers and rows row ends (12 bytes a row),
 * which a matrix needs even when most rows are empty. */
static pel_csr *allocate(const char *function, pel_precision precision, size_t rows, size_t cols, size_t nnz)
{
    const double need = (double)(rows + 1) * (double)(sizeof(size_t) + sizeof(uint32_t)) +
                        (double)nnz * (double)(pel__csr_value_size(precision) + sizeof(uint32_t));
    pel_csr *m;

    if (need >= (double)CHECKED_ALLOCATION_BYTES) {
        double available = available_bytes();
        if (available > 0.0 && need > available) {
            pel__fail(PEL_ERROR_OUT_OF_MEMORY, function,
                      "a matrix of %zu rows and %zu entries needs %.3g GB, more than the %.3g GB of memory "
                      "available on this machine", rows, nnz, need * 1e-9, available * 1e-9);
            return NULL;
        }
    }
    m = calloc(1, sizeof *m);
    if (m == NULL) {
        pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate a matrix of %zu rows and %zu entries", rows,
                  nnz);
        return NULL;
    }
    m->precision = precision;
    m->rows = rows;
    m->cols = cols;
    m->nnz = nnz;
    m->nparts = rows < PEL_CSR_PARTS ? rows : PEL_CSR_PARTS;
    m->row_ptr = pel_malloc((rows + 1) * sizeof(size_t));
    m->part_row = pel_malloc((m->nparts + 1) * sizeof(size_t));
    m->values = pel_malloc(nnz * pel__csr_value_size(precision));
    m->row_end = pel_malloc(rows * sizeof(uint32_t));
    m->index_at = pel_malloc((m->nparts + 1) * sizeof(size_t));
    m->narrow = pel_malloc(m->nparts + 1);
    m->banded = pel_malloc(m->nparts + 1);
    if (m->row_ptr == NULL || m->part_row == NULL || m->values == NULL || m->row_end == NULL ||
        m->index_at == NULL || m->narrow == NULL || m->banded == NULL) {
        free_matrix(m);
        pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate a matrix of %zu rows and %zu entries", rows,
                  nnz);
        return NULL;
    }
    return m;
}

/* The last steps of every build, once m holds its row pointers, values and
 * partition, and `columns` the sorted columns at their final offsets: the
 * row ends, the column index, the registration. Frees m on failure. */
static pel_status finish(const char *function, pel_csr *m, const uint32_t *columns, int nthreads, pel_csr **out)
{
    pel_status status;

    /* Row ends relative to their part's first entry. A part spans at most
     * about nnz/1024 entries plus one row (< 2^32, as cols < 2^32), so 32
     * bits suffice unless nnz is beyond 4*10^12. */
    for (size_t p = 0; p < m->nparts; p++) {
        size_t base = m->row_ptr[m->part_row[p]];
        if (m->row_ptr[m->part_row[p + 1]] - base > UINT32_MAX) {
            free_matrix(m);
            return pel__fail(PEL_ERROR_UNSUPPORTED, function, "nnz=%zu is too large: a part of the partition holds "
                             "more than 2^32-1 entries", m->nnz);
        }
        for (size_t i = m->part_row[p]; i < m->part_row[p + 1]; i++)
            m->row_end[i] = (uint32_t)(m->row_ptr[i + 1] - base);
    }
    if (!build_index(m, columns, nthreads)) {
        size_t nnz = m->nnz;
        free_matrix(m);
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate the column index of %zu entries",
                         nnz);
    }
    status = pel__handle_register(&m->handle, PEL__HANDLE_CSR, (int)m->precision, function);
    if (status != PEL_OK) {
        free_matrix(m);
        return status;
    }
    *out = m;
    return PEL_OK;
}

pel_status pel__csr_build(const char *function, pel_precision precision, size_t rows, size_t cols,
                          const size_t *row_ptr, const size_t *col_idx, const void *values,
                          pel_precision input_precision, pel_csr **out)
{
    size_t max_row = 0, nnz, bytes, kept_total = 0, *kept = NULL, bad_row = SIZE_MAX, bad_col = 0;
    uint32_t *columns = NULL; /* the sorted columns, until the index is built */
    entry *scratch = NULL;
    pel_csr *m;
    pel_status status;
    int nthreads;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    if (out == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "out must not be NULL");
    *out = NULL; /* the out-argument rule: NULL on every failure */
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "precision=%d is not PEL_FLOAT64 or PEL_FLOAT32",
                         (int)precision);
    status = validate(function, rows, cols, row_ptr, col_idx, values, &max_row);
    if (status != PEL_OK)
        return status;
    nnz = rows > 0 ? row_ptr[rows] : 0;
    if (!pel__mul_size(nnz, sizeof(double), &bytes) || !pel__mul_size(rows + 1, sizeof(size_t), &bytes))
        return pel__fail(PEL_ERROR_OVERFLOW, function, "nnz=%zu or rows=%zu is too large to allocate", nnz, rows);

    nthreads = pel__team_take(&team, pel_threads_for_work(nnz + rows));
    m = allocate(function, precision, rows, cols, nnz);
    if (m == NULL)
        return PEL_ERROR_OUT_OF_MEMORY;
    kept = malloc((rows > 0 ? rows : 1) * sizeof *kept);
    columns = pel_malloc(nnz * sizeof(uint32_t));
    if (max_row > 0 && pel__mul_size(max_row, (size_t)nthreads, &bytes) && pel__mul_size(bytes, sizeof(entry), &bytes))
        scratch = malloc(bytes);
    if (kept == NULL || columns == NULL || (max_row > 0 && scratch == NULL)) {
        free_matrix(m);
        free(kept);
        free(scratch);
        pel_free(columns);
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate a matrix of %zu rows and %zu entries",
                         rows, nnz);
    }

    /* Rows are written in place at their input offsets, by the threads and
     * the partition that SpMV will use, so that on a NUMA machine each part
     * is first touched by the thread that reads it later. */
    compute_parts(rows, row_ptr, m->nparts, m->part_row);
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        size_t p0, p1;
        entry *mine = scratch ? scratch + (size_t)omp_get_thread_num() * max_row : NULL;
        pel__csr_thread_parts(m, omp_get_thread_num(), omp_get_num_threads(), &p0, &p1);
        for (size_t i = p0 < p1 ? m->part_row[p0] : 0; i < (p0 < p1 ? m->part_row[p1] : 0); i++) {
            size_t col = 0;
            kept[i] = build_row(col_idx, values, input_precision, row_ptr[i], row_ptr[i + 1], columns,
                                m->values, precision, mine, &col);
            if (kept[i] == SIZE_MAX) {
                /* Rows run in increasing order per thread: its first bad
                 * row is its lowest; the lowest over all is reported. */
#pragma omp critical
                if (i < bad_row) {
                    bad_row = i;
                    bad_col = col;
                }
                break;
            }
        }
    }
    free(scratch);
    if (bad_row != SIZE_MAX) {
        free_matrix(m);
        free(kept);
        pel_free(columns);
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "the values of entry (row %zu, column %zu) are finite but sum to a value beyond the range "
                         "of %s: the matrix could not hold it", bad_row, bad_col,
                         precision == PEL_FLOAT32 ? "float" : "double");
    }

    m->row_ptr[0] = 0;
    for (size_t i = 0; i < rows; i++) {
        kept_total += kept[i];
        m->row_ptr[i + 1] = kept_total;
    }
    if (kept_total != nnz) {
        /* Duplicates were summed: close the gaps, row by row, front to back
         * (a row only ever moves towards the start), then re-balance. */
        size_t esize = pel__csr_value_size(precision);
        for (size_t i = 0; i < rows; i++) {
            memmove(columns + m->row_ptr[i], columns + row_ptr[i], kept[i] * sizeof(uint32_t));
            memmove((char *)m->values + m->row_ptr[i] * esize, (char *)m->values + row_ptr[i] * esize,
                    kept[i] * esize);
        }
        m->nnz = kept_total;
        compute_parts(rows, m->row_ptr, m->nparts, m->part_row);
    }
    free(kept);
    status = finish(function, m, columns, nthreads, out);
    pel_free(columns);
    return status;
}

pel_status pel__csr_build_sorted(const char *function, pel_precision precision, size_t rows, size_t cols,
                                 size_t nnz, const uint32_t *row, const uint32_t *col, const double *value,
                                 pel_csr **out)
{
    pel_csr *m;
    size_t k = 0;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    *out = NULL;
    m = allocate(function, precision, rows, cols, nnz);
    if (m == NULL)
        return PEL_ERROR_OUT_OF_MEMORY;
    /* One pass over the rows and the entries: row i ends where the entries
     * of later rows begin. */
    m->row_ptr[0] = 0;
    for (size_t i = 0; i < rows; i++) {
        while (k < nnz && row[k] == i)
            k++;
        m->row_ptr[i + 1] = k;
    }
    for (k = 0; k < nnz; k++)
        store_value(m->values, precision, k, value[k]);
    compute_parts(rows, m->row_ptr, m->nparts, m->part_row);
    return finish(function, m, col, pel__team_take(&team, pel_threads_for_work(nnz + rows)), out);
}

pel_status pel_csr_create(pel_precision precision, size_t rows, size_t cols, const size_t *row_ptr,
                          const size_t *col_idx, const void *values, pel_csr **out)
{
    return pel__csr_build("pel_csr_create", precision, rows, cols, row_ptr, col_idx, values, precision, out);
}

void pel_csr_destroy(pel_csr *matrix)
{
    /* A second destroy or a foreign pointer is refused with a message and
     * frees nothing (the registry is asked before the memory is read). */
    if (pel__handle_unregister(matrix, PEL__HANDLE_CSR, "pel_csr_destroy"))
        free_matrix(matrix);
}

/* Whether a getter may read `matrix`: NULL quietly not, a pointer that is
 * not a live pel_csr not, with the message recorded for `function`. */
static int readable(const pel_csr *matrix, const char *function)
{
    return matrix != NULL && pel__handle_check(matrix, PEL__HANDLE_CSR, -1, function, "matrix") == PEL_OK;
}

size_t pel_csr_rows(const pel_csr *matrix)
{
    return readable(matrix, "pel_csr_rows") ? matrix->rows : 0;
}

size_t pel_csr_cols(const pel_csr *matrix)
{
    return readable(matrix, "pel_csr_cols") ? matrix->cols : 0;
}

size_t pel_csr_nnz(const pel_csr *matrix)
{
    return readable(matrix, "pel_csr_nnz") ? matrix->nnz : 0;
}

pel_precision pel_csr_precision(const pel_csr *matrix)
{
    return readable(matrix, "pel_csr_precision") ? matrix->precision : PEL_FLOAT64;
}

pel_status pel_csr_export(const pel_csr *matrix, size_t *row_ptr, size_t *col_idx, void *values)
{
    pel_status status = pel__handle_check(matrix, PEL__HANDLE_CSR, -1, __func__, "matrix");

    if (status != PEL_OK)
        return status;
    if (row_ptr != NULL)
        memcpy(row_ptr, matrix->row_ptr, (matrix->rows + 1) * sizeof(size_t));
    if (col_idx != NULL)
        for (size_t p = 0; p < matrix->nparts; p++)
            for (size_t i = matrix->part_row[p]; i < matrix->part_row[p + 1]; i++)
                for (size_t k = matrix->row_ptr[i]; k < matrix->row_ptr[i + 1]; k++)
                    col_idx[k] = pel__csr_column(matrix, p, i, k);
    if (values != NULL && matrix->nnz > 0)
        memcpy(values, matrix->values, matrix->nnz * pel__csr_value_size(matrix->precision));
    return PEL_OK;
}
