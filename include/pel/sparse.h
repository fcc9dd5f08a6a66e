/**
 * @file pel/sparse.h
 * @brief Sparse matrices in compressed sparse row (CSR) form: creation from
 *        arrays, sparse matrix-vector (SpMV) and matrix-block (SpMM)
 *        products balanced by nonzeros, and Matrix Market (.mtx) files.
 *
 * A pel_csr is immutable once created and may be used by many threads at
 * once. Products are bit-identical for every thread count: rows are
 * independent and each row is summed left to right in increasing column
 * order, whatever thread computes it.
 */
#ifndef PEL_SPARSE_H
#define PEL_SPARSE_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque, immutable sparse matrix in CSR form (double or float values). */
typedef struct pel_csr pel_csr;

/** The largest number of columns a pel_csr holds: column indices are stored
 *  in 32 bits, which cuts the bytes an SpMV moves by a quarter. */
#define PEL_CSR_MAX_COLS ((size_t)4294967295u)

/**
 * Creates a @p rows x @p cols CSR matrix from zero-based arrays, which are
 * copied (the caller keeps ownership of them): row i holds the entries
 * row_ptr[i] .. row_ptr[i+1]-1 of @p col_idx and @p values (double for
 * PEL_FLOAT64, float for PEL_FLOAT32); row_ptr has rows+1 entries and
 * nnz = row_ptr[rows]. Entries within a row may come in any order; the
 * matrix stores them sorted by column. Duplicate (row, column) entries are
 * summed, in the order they appear, into one entry (so nnz can shrink);
 * explicit zeros are kept. @p row_ptr may be NULL only when rows is 0;
 * col_idx and values may be NULL only when nnz is 0.
 *
 * Errors (*out is set to NULL when out is not NULL):
 * PEL_ERROR_INVALID_ARGUMENT for a NULL pointer, an unknown precision,
 * row_ptr[0] != 0, decreasing row pointers, a column index >= cols (the
 * message names the row and position) or finite duplicates whose sum is
 * beyond the precision's range (the message names the entry);
 * PEL_ERROR_UNSUPPORTED for cols > PEL_CSR_MAX_COLS; PEL_ERROR_OVERFLOW;
 * PEL_ERROR_OUT_OF_MEMORY, also when a large matrix needs more than the
 * memory the system reports available. Thread-safe.
 */
PEL_API pel_status pel_csr_create(pel_precision precision, size_t rows, size_t cols, const size_t *row_ptr,
                                  const size_t *col_idx, const void *values, pel_csr **out);

/** Frees a matrix from pel_csr_create() or pel_csr_read_mtx(); NULL is
 *  ignored. A pointer that is not a live matrix (destroyed already, or not
 *  made by pel) is not freed: the call records a message in
 *  pel_last_error() and returns (best effort misuse detection). No other
 *  thread may be using the matrix. */
PEL_API void pel_csr_destroy(pel_csr *matrix);

/** Number of rows of @p matrix (0 for NULL, or for a pointer that is not a
 *  live matrix, with a message in pel_last_error()). Thread-safe. */
PEL_API size_t pel_csr_rows(const pel_csr *matrix);

/** Number of columns of @p matrix (0 for NULL). Thread-safe. */
PEL_API size_t pel_csr_cols(const pel_csr *matrix);

/** Number of stored entries of @p matrix after duplicates were summed (0 for
 *  NULL). Thread-safe. */
PEL_API size_t pel_csr_nnz(const pel_csr *matrix);

/** Precision of the values of @p matrix (PEL_FLOAT64 for NULL). Thread-safe. */
PEL_API pel_precision pel_csr_precision(const pel_csr *matrix);

/**
 * Copies the matrix back out in the form pel_csr_create() takes: @p row_ptr
 * (rows+1 entries), @p col_idx and @p values (nnz entries each, double or
 * float as the matrix's precision), columns sorted within each row and no
 * duplicates. Any of the three may be NULL to skip it. Errors:
 * PEL_ERROR_INVALID_ARGUMENT for a NULL matrix. Thread-safe.
 */
PEL_API pel_status pel_csr_export(const pel_csr *matrix, size_t *row_ptr, size_t *col_idx, void *values);

/**
 * Sparse matrix-vector product y = alpha*A*x + beta*y, with @p x of cols and
 * @p y of rows elements of the matrix's precision (double or float; alpha
 * and beta are converted to float for a float matrix). With beta = 0, y is
 * not read (NaN in y does not leak); with alpha = 0, A and x are not read.
 * Rows are split between pel's threads (pel_threads_for_work()) by their
 * number of nonzeros, so skewed matrices balance; every row is summed left to
 * right in column order, so y has the same bits for any thread count.
 *
 * Errors (y is unchanged): PEL_ERROR_INVALID_ARGUMENT for a NULL,
 * destroyed or foreign matrix, a NULL x (cols > 0) or y (rows > 0), or x
 * and y overlapping in memory.
 * Thread-safe; concurrent calls may share the matrix and x.
 */
PEL_API pel_status pel_csr_spmv(const pel_csr *matrix, double alpha, const void *x, double beta, void *y);

/**
 * Sparse matrix times a block of @p nvec vectors: Y = alpha*A*X + beta*Y,
 * X being cols x nvec and Y rows x nvec dense matrices in @p layout with
 * leading dimensions @p ldx and @p ldy (in elements; row-major: ld >= nvec,
 * column-major: ldx >= cols, ldy >= rows; always >= 1). The matrix is read
 * once for all vectors. Column j of the result has the same bits as
 * pel_csr_spmv() on column j of X, for any thread count; beta = 0 and
 * alpha = 0 behave as in pel_csr_spmv().
 *
 * Errors (Y is unchanged): PEL_ERROR_INVALID_ARGUMENT for a NULL matrix, X
 * or Y that is needed, an unknown layout, a leading dimension that is too
 * small, or X and Y overlapping; PEL_ERROR_OVERFLOW when the extent of X or
 * Y does not fit in size_t. Thread-safe.
 */
PEL_API pel_status pel_csr_spmm(const pel_csr *matrix, pel_layout layout, size_t nvec, double alpha,
                                const void *x, size_t ldx, double beta, void *y, size_t ldy);

/**
 * Reads a Matrix Market file in coordinate format (field real, integer or
 * pattern; symmetry general, symmetric or skew-symmetric) into a new matrix
 * of @p precision. Symmetric and skew-symmetric files may store either
 * triangle; the other one is filled in (negated for skew-symmetric, whose
 * diagonal must be empty). Pattern entries become 1.0. Duplicate entries are
 * summed, as in pel_csr_create(). Comment (%) and blank lines are skipped.
 * The file is untrusted input: every line is checked, and the reader's time
 * and memory grow with the entries present, not with the declared sizes;
 * the matrix itself needs 12 bytes per declared row (row pointers and ends).
 *
 * Errors (*out is set to NULL when out is not NULL):
 * PEL_ERROR_INVALID_ARGUMENT (NULL path or out, unknown precision);
 * PEL_ERROR_IO when the file cannot be opened or read; PEL_ERROR_PARSE for a
 * malformed file, with the line number and the reason in pel_last_error()
 * (bad banner, a size line that is not three non-negative integers,
 * dimensions over PEL_CSR_MAX_COLS, more entries than rows*cols, more
 * entries than the rest of the file can hold at 4 bytes an entry line, an
 * index out of range, a value that is not a finite number of the precision,
 * duplicates whose sum is not, extra or missing fields, a line over 4096
 * bytes, a NUL byte, too many or too few entries); PEL_ERROR_UNSUPPORTED for
 * the array format and complex or hermitian fields; PEL_ERROR_OUT_OF_MEMORY,
 * also when the matrix needs more than the memory the system reports
 * available. Thread-safe.
 */
PEL_API pel_status pel_csr_read_mtx(const char *path, pel_precision precision, pel_csr **out);

/**
 * Writes @p matrix to @p path as a Matrix Market "coordinate real general"
 * file, one-based, rows in order, with values printed with enough digits
 * (17 for double, 9 for float) that reading the file back gives the same
 * bits. On failure the partial file is removed. Errors:
 * PEL_ERROR_INVALID_ARGUMENT (NULL, destroyed or foreign matrix, NULL path,
 * or a value that is Inf or NaN, which a Matrix Market file cannot hold:
 * refused before the file is created), PEL_ERROR_IO (cannot create or write
 * the file). Thread-safe for different paths.
 */
PEL_API pel_status pel_csr_write_mtx(const pel_csr *matrix, const char *path);

#ifdef __cplusplus
}
#endif

#endif
