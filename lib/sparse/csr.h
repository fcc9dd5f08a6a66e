/* Internal side of the sparse layer: the CSR object and its builder. */
#ifndef PEL_SPARSE_CSR_H
#define PEL_SPARSE_CSR_H

#include <stddef.h>
#include <stdint.h>

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

struct pel_csr {
    pel_precision precision;
    size_t rows, cols, nnz;
    size_t *row_ptr;   /* rows + 1: for export, writing and building */
    uint32_t *col_idx; /* nnz, sorted within each row, no duplicates */
    void *values;      /* nnz doubles or floats */
    size_t nparts;     /* min(rows, PEL_CSR_PARTS) */
    size_t *part_row;  /* nparts + 1 row boundaries */
    /* What the kernels read instead of row_ptr: the end of row i counted
     * from the first entry of its part, in 32 bits. Half the bytes of
     * size_t row pointers and one load per row instead of two. */
    uint32_t *row_end; /* rows */
};

/* SpMV writes y with non-temporal stores when it moves at least this many
 * bytes (spmv.c); tests lower it to cover that path on small matrices. */
extern size_t pel__csr_stream_bytes;

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

/* The parts [*first, *last) that thread `thread` of a team of `team` works
 * on: contiguous runs, so each thread's rows are contiguous too. */
static inline void pel__csr_thread_parts(const pel_csr *matrix, int thread, int team, size_t *first, size_t *last)
{
    *first = matrix->nparts * (size_t)thread / (size_t)team;
    *last = matrix->nparts * ((size_t)thread + 1) / (size_t)team;
}

#endif
