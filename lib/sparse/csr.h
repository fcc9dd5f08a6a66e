/* Internal side of the sparse layer: the CSR object and its builder. */
#ifndef PEL_SPARSE_CSR_H
#define PEL_SPARSE_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "core/handle.h"
#include "pel/sparse.h"

/* Number of nonzero-balanced parts a matrix is cut into at creation. A team
 * of T threads takes T contiguous runs of parts, so the imbalance is at most
 * one part in PEL_CSR_PARTS / T, for every thread count, with no planning
 * per call. */
#define PEL_CSR_PARTS 1024

/* Weight of a row in the partition, in nonzeros: a row costs its entries
 * plus its row pointer, its y element and the loop overhead, about two
 * entries' worth of bytes. Empty rows thus still count. */
#define PEL_CSR_ROW_WEIGHT 2

/* Column offsets col - row that fit a narrow index entry. */
#define PEL_CSR_NARROW_MIN INT16_MIN
#define PEL_CSR_NARROW_MAX INT16_MAX

/* Parts of the column index start on this byte boundary, so that every
 * part's index is aligned for its entry type and starts a cache line. */
#define PEL_CSR_INDEX_ALIGN 64

struct pel_csr {
    pel__handle handle; /* first member: misuse detection (core/handle.h) */
    pel_precision precision;
    size_t rows, cols, nnz;
    size_t *row_ptr;   /* rows + 1: for export, writing and building */
    void *values;      /* nnz doubles or floats */
    size_t nparts;     /* min(rows, PEL_CSR_PARTS) */
    size_t *part_row;  /* nparts + 1 row boundaries */
    /* What the kernels read instead of row_ptr: the end of row i counted
     * from the first entry of its part, in 32 bits. Half the bytes of
     * size_t row pointers and one load per row instead of two. */
    uint32_t *row_end; /* rows */
    /* The column index, one block per part, at byte index_at[p] of index
     * (index_at[nparts] is the total). A narrow part (narrow[p] = 1) stores
     * each entry as its int16_t offset col - row from the entry's row; a
     * wide part stores uint32_t columns. Within each row the columns are
     * sorted, without duplicates. There is no other copy of the columns:
     * pel__csr_column() rebuilds them for export and writing. */
    unsigned char *index;
    size_t *index_at;        /* nparts + 1 */
    unsigned char *narrow;   /* nparts */
    /* Wide parts whose rows read x only within a window that stays in
     * cache (banded beyond the int16 offsets, e.g. a 7-point Laplacian
     * past 181^3), nparts; 0 for narrow parts. SpMV used to prefetch
     * only these and the narrow parts; it now prefetches every part
     * (scattered ones gained too, lib/sparse/spmv.c), so the flag is the
     * classification only, kept for the tests and for a kernel choice
     * that measurement may bring back. */
    unsigned char *banded;
};

/* Whether the entry (row, col) can be stored as a narrow offset. Works on
 * size_t without a signed difference, so any row and column may be given. */
static inline int pel__csr_offset_fits(size_t row, size_t col)
{
    return col >= row ? col - row <= (size_t)PEL_CSR_NARROW_MAX : row - col <= (size_t)-(long)PEL_CSR_NARROW_MIN;
}

/* The narrow offset of an entry for which pel__csr_offset_fits() holds. */
static inline int16_t pel__csr_offset(size_t row, size_t col)
{
    return col >= row ? (int16_t)(col - row) : (int16_t)-(int32_t)(row - col);
}

/* The column of the narrow entry `offset` of row `row`: row + offset in
 * size_t arithmetic, which is modular, so a negative offset subtracts and
 * nothing overflows (the result is a valid column by construction). */
static inline size_t pel__csr_offset_column(size_t row, int16_t offset)
{
    return row + (size_t)(ptrdiff_t)offset;
}

/* The index block of part `part`, narrow (int16_t offsets) or wide
 * (uint32_t columns) as matrix->narrow[part] says; entry k of the block is
 * the part's k-th entry. */
static inline const int16_t *pel__csr_narrow_index(const pel_csr *matrix, size_t part)
{
    return (const int16_t *)(const void *)(matrix->index + matrix->index_at[part]);
}

static inline const uint32_t *pel__csr_wide_index(const pel_csr *matrix, size_t part)
{
    return (const uint32_t *)(const void *)(matrix->index + matrix->index_at[part]);
}

/* Index bytes per entry of part `part`. */
static inline size_t pel__csr_index_size(const pel_csr *matrix, size_t part)
{
    return matrix->narrow[part] ? sizeof(int16_t) : sizeof(uint32_t);
}

/* The column of entry k (counted over the whole matrix) of row `row` in
 * part `part`, rebuilt from either kind of index: for export and writing. */
static inline size_t pel__csr_column(const pel_csr *matrix, size_t part, size_t row, size_t k)
{
    size_t at = k - matrix->row_ptr[matrix->part_row[part]];
    return matrix->narrow[part] ? pel__csr_offset_column(row, pel__csr_narrow_index(matrix, part)[at])
                                : (size_t)pel__csr_wide_index(matrix, part)[at];
}

/* Creation stores narrow parts only while this is nonzero (default 1);
 * tests clear it to build the same matrix with a wide index everywhere.
 * Read once per pel_csr_create(); not for concurrent changes. */
extern int pel__csr_narrow_index_enabled;

/* A wide part is banded when every entry's |col - row| is at most this
 * many columns; PEL__CSR_BANDED_FROM_MODEL, the default, takes half the
 * model's effective L2 in elements of x for matrices of 4 MiB and more
 * (none below: in cache either way). Tests set a window to cover the
 * banded path on small matrices (0: no banded parts). Read once per
 * creation; not for concurrent changes. */
#define PEL__CSR_BANDED_FROM_MODEL SIZE_MAX
extern size_t pel__csr_banded_columns;

/* The banded window in columns for a matrix of `matrix_bytes` (values and
 * index) and elements of `elem_size` bytes: pel__csr_banded_columns when a
 * test set it, else 0 below 4 MiB (in cache either way; the model is not
 * asked) and half the model's effective L2 in elements of x above.
 * Exported for pel_dcsr's local product (libpel_mpi). */
PEL_API size_t pel__csr_banded_window(size_t matrix_bytes, size_t elem_size);

/* Element size of a precision. */
static inline size_t pel__csr_value_size(pel_precision precision)
{
    return precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
}

/* The builder behind pel_csr_create() and pel_csr_read_mtx(): validates the
 * arrays (messages are attributed to `function`), copies them into a matrix
 * of `precision`, converting the input values from `input_precision`, sorts
 * each row by column and sums duplicates. */
pel_status pel__csr_build(const char *function, pel_precision precision, size_t rows, size_t cols,
                          const size_t *row_ptr, const size_t *col_idx, const void *values,
                          pel_precision input_precision, pel_csr **out);

/* The builder behind pel_csr_read_mtx(): entries (row[k], col[k], value[k])
 * sorted by row, then column, without duplicates, every value finite in
 * `precision`; only the matrix itself is allocated (12 bytes a row for its
 * row pointers and ends, plus the entries), nothing per row besides. Sets
 * *out (not NULL) to NULL first. */
pel_status pel__csr_build_sorted(const char *function, pel_precision precision, size_t rows, size_t cols,
                                 size_t nnz, const uint32_t *row, const uint32_t *col, const double *value,
                                 pel_csr **out);

/* Reads a Matrix Market text held in memory (data[0 .. length), no NUL
 * terminator needed) as pel_csr_read_mtx() reads a file, with the same
 * checks, statuses and messages (attributed to pel_csr_read_mtx, the file
 * named "<buffer>"). The parser core, exposed for fuzzing harnesses
 * (tests/fuzz/) and tests; *out is NULL on failure. Thread-safe. */
PEL_API pel_status pel__csr_read_mtx_buffer(const char *data, size_t length, pel_precision precision,
                                            pel_csr **out);

/* The parts [*first, *last) that thread `thread` of a team of `team` works
 * on: contiguous runs, so each thread's rows are contiguous too. */
static inline void pel__csr_thread_parts(const pel_csr *matrix, int thread, int team, size_t *first, size_t *last)
{
    *first = matrix->nparts * (size_t)thread / (size_t)team;
    *last = matrix->nparts * ((size_t)thread + 1) / (size_t)team;
}

#endif
