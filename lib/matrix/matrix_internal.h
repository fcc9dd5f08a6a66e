/* Internal helpers of the matrix layer: argument validation shared by every
 * public function, and the conversions to OpenBLAS's 32-bit sizes. */
#ifndef PEL_MATRIX_INTERNAL_H
#define PEL_MATRIX_INTERNAL_H

#include <limits.h>
#include <stddef.h>

#include "pel/matrix.h"

/* A stored matrix argument, described as the caller passed it. */
typedef struct pel__matrix_arg {
    const char *name;    /* "a", "b", "c" */
    const char *ld_name; /* "lda", ... */
    const void *data;
    size_t rows, cols; /* logical size of the stored matrix */
    size_t ld;
    int shape_only; /* 1: check the shape and ld only (data is not known) */
} pel__matrix_arg;

/* Checks layout. */
pel_status pel__check_layout(const char *function, pel_layout layout);

/* Checks a pel_transpose value; name is the argument's name ("transa"). */
pel_status pel__check_transpose(const char *function, const char *name, pel_transpose trans);

/* Checks one matrix: NULL only when it has no elements, ld >= max(1, stored
 * row length), and the span (elements from the first to one past the last)
 * fits in size_t bytes; writes the span in elements to *span. */
pel_status pel__check_matrix(const char *function, pel_layout layout, const pel__matrix_arg *m,
                             size_t elem_size, size_t *span);

/* Nonzero when the byte ranges [p, p+bytes_p) and [q, q+bytes_q) intersect. */
int pel__ranges_overlap(const void *p, size_t bytes_p, const void *q, size_t bytes_q);

/* Refuses a size that OpenBLAS's 32-bit interface cannot take. */
pel_status pel__check_blas_int(const char *function, const char *name, size_t value);

/* Checks a vector argument: nonzero increment, NULL only when n = 0, and the
 * span n elements at |inc| fits in memory. */
pel_status pel__check_vector(const char *function, const char *name, const char *inc_name, const void *x,
                             size_t n, ptrdiff_t inc, size_t elem_size);

/* The shape part of pel__check_gemm(): layout, transposes, leading
 * dimensions and spans, without looking at pointers (for batches whose item
 * pointers are checked one by one). */
pel_status pel__check_gemm_shape(const char *function, pel_layout layout, pel_transpose transa,
                                 pel_transpose transb, size_t m, size_t n, size_t k, size_t lda, size_t ldb,
                                 size_t ldc, size_t elem_size, size_t *span_a, size_t *span_b, size_t *span_c);

/* The stored row and column counts of op(X) for an m x k op(X). */
static inline void pel__stored_shape(pel_transpose trans, size_t op_rows, size_t op_cols, size_t *rows,
                                     size_t *cols)
{
    *rows = trans == PEL_NO_TRANS ? op_rows : op_cols;
    *cols = trans == PEL_NO_TRANS ? op_cols : op_rows;
}

/* Validation shared by the gemm family: layout, transposes, the three
 * matrices (spans written to span_a/b/c in elements) and the overlap of C
 * with A and B. */
pel_status pel__check_gemm(const char *function, pel_layout layout, pel_transpose transa, pel_transpose transb,
                           size_t m, size_t n, size_t k, const void *a, size_t lda, const void *b, size_t ldb,
                           const void *c, size_t ldc, size_t elem_size, size_t *span_a, size_t *span_b,
                           size_t *span_c);

/* A gemm in column-major form: C(m x n, ldc) = alpha*op(A)*op(B) + beta*C,
 * with op(A)(i,p) = a[i*rsa + p*csa] and op(B)(p,j) = b[p*rsb + j*csb].
 * Every layout/transpose combination maps to it (a row-major product is the
 * column-major product of the transposes with A and B swapped), so kernels
 * see one case. */
typedef struct pel__gemm_shape {
    size_t m, n, k;
    ptrdiff_t rsa, csa, rsb, csb;
    size_t ldc;
    int swap; /* 1 when the caller's A and B trade places (row-major) */
} pel__gemm_shape;

void pel__gemm_canonical(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n,
                         size_t k, size_t lda, size_t ldb, size_t ldc, pel__gemm_shape *shape);

/* C = beta*C for an m x n column-major C (beta = 0 writes zeros without
 * reading C), the whole product when alpha = 0 or k = 0. */
void pel__dscale_matrix(size_t m, size_t n, double beta, double *c, size_t ldc);
void pel__sscale_matrix(size_t m, size_t n, float beta, float *c, size_t ldc);

/* The batched gemm's cutoff to OpenBLAS for this table and precision
 * (single: float): items with m, n and k all at most this run on pel's
 * kernels. The table's constant, raised by a measurement on the first need
 * where pel's kernel beats OpenBLAS past it (lib/matrix/cutoff.c); the
 * PEL_GEMM_CUTOFF environment variable (read when pel loads) fixes it
 * ("table" or 1..64).
 * Thread-safe; the measurement runs once a process per table and precision. */
struct pel__matrix_kernels;
size_t pel__matrix_small_max(const struct pel__matrix_kernels *table, int single);

/* For the tests: PEL_GEMM_CUTOFF read again (after setenv), and the
 * measurement's decision from per-size timings (sizes increasing): the
 * largest size up to which pel's kernel beat OpenBLAS by the margin at
 * every size past table_cutoff, never below table_cutoff. */
void pel__matrix_cutoff_read_environment(void);
size_t pel__matrix_cutoff_decide(size_t table_cutoff, const size_t *sizes, const double *own_seconds,
                                 const double *blas_seconds, size_t count);

/* The measured cutoffs in pel's wisdom file (lib/tune/wisdom.c): a
 * table's name, the precision (single: 1 float, 0 double) and the cutoff. */
typedef struct pel__matrix_cutoff {
    char table[16];
    int single;
    size_t value;
} pel__matrix_cutoff;

/* At most this many (the three tables, two precisions, and room). */
#define PEL__MATRIX_MAX_CUTOFFS 8

/* Copies the cutoffs measured (or imported) so far into out (room for
 * PEL__MATRIX_MAX_CUTOFFS) and returns their count. Thread-safe. */
int pel__matrix_cutoffs_get(pel__matrix_cutoff *out);

/* Items with every dimension up to this (or the table's constant, if
 * smaller) use pel's kernels without asking the measured cutoff; larger
 * ones up to PEL_GEMM_SMALL_MAX ask pel__matrix_small_max. */
#define PEL__MATRIX_CUTOFF_FLOOR 32

/* min(the table's constant for the precision, PEL__MATRIX_CUTOFF_FLOOR):
 * the smallest cutoff the measurement may give (lib/matrix/cutoff.c). */
size_t pel__matrix_cutoff_floor(const struct pel__matrix_kernels *table, int single);

/* 1 when c names a table this CPU runs, a precision 0 or 1, and a value
 * from the smaller of that table's constant and 32 (the measurement's
 * floor, lib/matrix/cutoff.c) to PEL_GEMM_SMALL_MAX; else 0. */
int pel__matrix_cutoff_valid(const pel__matrix_cutoff *c);

/* Installs valid cutoffs as if measured (replacing what was measured for
 * the same table and precision); invalid entries are skipped. And forgets
 * every measured cutoff (the next need measures again). Thread-safe; for
 * the wisdom import and its tests. */
void pel__matrix_cutoffs_put(const pel__matrix_cutoff *list, int count);
void pel__matrix_cutoffs_clear(void);

#endif
