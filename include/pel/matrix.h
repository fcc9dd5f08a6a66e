/**
 * @file pel/matrix.h
 * @brief Dense matrix kernels: gemm/gemv through OpenBLAS, batched small
 *        gemm on pel's own kernels, out-of-place and in-place transposes,
 *        reproducible vector operations, and LU/Cholesky solves through
 *        LAPACK.
 *
 * Conventions shared by every function here:
 * - Matrices are described CBLAS-style by a pel_layout, sizes and a leading
 *   dimension (in elements, at least max(1, the stored row length)).
 * - Every argument is validated before any data is touched; an invalid call
 *   returns an error status, records a message in pel_last_error() naming
 *   the function and the argument, and modifies no caller data.
 * - Sizes are size_t; problems whose sizes or leading dimensions exceed
 *   OpenBLAS's 32-bit limit (INT_MAX) are refused with
 *   PEL_ERROR_UNSUPPORTED where OpenBLAS does the work.
 * - Threads follow pel's policy (pel_set_num_threads(), pel_threads_for_work());
 *   called inside an OpenMP parallel region every function runs on the
 *   calling thread. All functions may be called concurrently on different
 *   output data.
 * - pel's own kernels (batched small gemm, transposes, vector operations)
 *   give bit-identical results for any thread count. Work handed to OpenBLAS
 *   (gemm, gemv, large batch items, solves) may differ in the last bits
 *   between thread counts.
 */
#ifndef PEL_MATRIX_H
#define PEL_MATRIX_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Operation applied to a matrix argument; the values are CBLAS's. */
typedef enum pel_transpose {
    PEL_NO_TRANS = 111,  /**< op(A) = A */
    PEL_TRANS = 112,     /**< op(A) = A^T */
    PEL_CONJ_TRANS = 113 /**< op(A) = A^H (A^T for real data) */
} pel_transpose;

/** Which triangle of a symmetric matrix is read; the values are CBLAS's. */
typedef enum pel_uplo {
    PEL_UPPER = 121, /**< the upper triangle (and diagonal) is read */
    PEL_LOWER = 122  /**< the lower triangle (and diagonal) is read */
} pel_uplo;

/* ------------------------------------------------------------------ gemm */

/**
 * C = alpha*op(A)*op(B) + beta*C with op(A) m-by-k, op(B) k-by-n and C m-by-n,
 * stored in @p layout with leading dimensions @p lda, @p ldb, @p ldc, computed
 * by OpenBLAS on pel's thread count. BLAS semantics: with beta = 0, C is not
 * read (NaN or Inf in C do not propagate); with alpha = 0 or k = 0, A and B
 * are not read. m = 0 or n = 0 returns at once. Pointers may be NULL only for
 * matrices without elements.
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT (unknown layout or transpose, NULL
 * pointer, leading dimension too small, C overlapping A or B),
 * PEL_ERROR_OVERFLOW (a matrix extent overflows size_t),
 * PEL_ERROR_UNSUPPORTED (a size or leading dimension above INT_MAX).
 * Thread-safe for distinct C.
 */
PEL_API pel_status pel_dgemm(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n,
                             size_t k, double alpha, const double *a, size_t lda, const double *b, size_t ldb,
                             double beta, double *c, size_t ldc);

/** Single-precision pel_dgemm(); same arguments, semantics and errors. */
PEL_API pel_status pel_sgemm(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n,
                             size_t k, float alpha, const float *a, size_t lda, const float *b, size_t ldb,
                             float beta, float *c, size_t ldc);

/**
 * Double-complex pel_dgemm(): the matrices hold interleaved (real,
 * imaginary) pairs of doubles (C's double _Complex, Fortran's
 * complex(c_double_complex)); @p alpha and @p beta point to one such pair
 * each. PEL_CONJ_TRANS conjugates. Same semantics and errors as pel_dgemm();
 * NULL alpha or beta is an invalid argument.
 */
PEL_API pel_status pel_zgemm(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n,
                             size_t k, const void *alpha, const void *a, size_t lda, const void *b, size_t ldb,
                             const void *beta, void *c, size_t ldc);

/**
 * y = alpha*op(A)*x + beta*y with A m-by-n in @p layout (leading dimension
 * @p lda) through OpenBLAS. x has n elements (m for a transposed A), y the
 * other length; @p incx and @p incy are nonzero element strides (negative
 * ones walk the vector backwards, as in BLAS). beta = 0: y is not read;
 * alpha = 0: A and x are not read.
 *
 * Errors: as pel_dgemm(), plus a zero increment. Thread-safe for distinct y.
 */
PEL_API pel_status pel_dgemv(pel_layout layout, pel_transpose trans, size_t m, size_t n, double alpha,
                             const double *a, size_t lda, const double *x, ptrdiff_t incx, double beta, double *y,
                             ptrdiff_t incy);

/** Single-precision pel_dgemv(); same arguments, semantics and errors. */
PEL_API pel_status pel_sgemv(pel_layout layout, pel_transpose trans, size_t m, size_t n, float alpha,
                             const float *a, size_t lda, const float *x, ptrdiff_t incx, float beta, float *y,
                             ptrdiff_t incy);

/* --------------------------------------------------------- batched gemm */

/**
 * @p batch_count independent products C_i = alpha*op(A_i)*op(B_i) + beta*C_i
 * of the same shape, with A_i = a + i*stride_a, B_i = b + i*stride_b and
 * C_i = c + i*stride_c (strides in elements). Small items (every dimension
 * up to 64) run on pel's register-blocked kernels (AVX2/FMA when the CPU has
 * it, else a portable kernel), one item per thread at a time, so results are
 * bit-identical for any thread count; larger items go to OpenBLAS, one item
 * per thread when the batch is larger than the team, else one item at a
 * time on all threads. BLAS semantics for alpha = 0 and beta = 0 as in
 * pel_dgemm(). stride_a or stride_b may be 0 (one A or B shared by all items).
 *
 * Errors: those of pel_dgemm(), plus a stride_c smaller than one C item
 * (items would overlap) and a batch whose extent overflows.
 * Thread-safe for distinct C.
 */
PEL_API pel_status pel_dgemm_batch_strided(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m,
                                           size_t n, size_t k, double alpha, const double *a, size_t lda,
                                           size_t stride_a, const double *b, size_t ldb, size_t stride_b,
                                           double beta, double *c, size_t ldc, size_t stride_c,
                                           size_t batch_count);

/** Single-precision pel_dgemm_batch_strided(). */
PEL_API pel_status pel_sgemm_batch_strided(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m,
                                           size_t n, size_t k, float alpha, const float *a, size_t lda,
                                           size_t stride_a, const float *b, size_t ldb, size_t stride_b, float beta,
                                           float *c, size_t ldc, size_t stride_c, size_t batch_count);

/**
 * Pointer-array batch: C_i = alpha*op(A_i)*op(B_i) + beta*C_i for
 * i < @p batch_count, where a[i], b[i], c[i] point to the items (same shape
 * and leading dimensions for all). The C items must not overlap each other
 * or any A or B item (not checked: checking costs a sort of the batch); A
 * and B items may be shared. Kernels, threading and reproducibility as in
 * pel_dgemm_batch_strided().
 *
 * Errors: those of pel_dgemm(), plus a NULL array or a NULL item pointer
 * (named by its index). Thread-safe for distinct C.
 */
PEL_API pel_status pel_dgemm_batch(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m,
                                   size_t n, size_t k, double alpha, const double *const *a, size_t lda,
                                   const double *const *b, size_t ldb, double beta, double *const *c, size_t ldc,
                                   size_t batch_count);

/** Single-precision pel_dgemm_batch(). */
PEL_API pel_status pel_sgemm_batch(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m,
                                   size_t n, size_t k, float alpha, const float *const *a, size_t lda,
                                   const float *const *b, size_t ldb, float beta, float *const *c, size_t ldc,
                                   size_t batch_count);

/* ------------------------------------------------------------ transpose */

/**
 * Out-of-place scaled copy or transpose B = alpha*op(A), like
 * mkl_domatcopy: A is @p rows x @p cols in @p layout with leading dimension
 * @p lda; B is rows x cols (PEL_NO_TRANS) or cols x rows (PEL_TRANS,
 * PEL_CONJ_TRANS) in the same layout with leading dimension @p ldb.
 * Cache-blocked and parallel over tiles; bit-identical for any thread count
 * (each element is written once, as alpha*a). A and B must not overlap.
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT (unknown layout or trans, NULL pointer
 * for a non-empty matrix, leading dimension too small, A and B overlapping),
 * PEL_ERROR_OVERFLOW. Thread-safe for distinct B.
 */
PEL_API pel_status pel_domatcopy(pel_layout layout, pel_transpose trans, size_t rows, size_t cols, double alpha,
                                 const double *a, size_t lda, double *b, size_t ldb);

/** Single-precision pel_domatcopy(). */
PEL_API pel_status pel_somatcopy(pel_layout layout, pel_transpose trans, size_t rows, size_t cols, float alpha,
                                 const float *a, size_t lda, float *b, size_t ldb);

/**
 * Transposes the n-by-n matrix @p a in place (leading dimension @p lda >=
 * max(1, n)); the layout does not matter for a square transpose. Tiles are
 * swapped pairwise in parallel. Errors: NULL a with n > 0, lda too small,
 * overflow. Thread-safe for distinct a.
 */
PEL_API pel_status pel_dtranspose_square(size_t n, double *a, size_t lda);

/** Single-precision pel_dtranspose_square(). */
PEL_API pel_status pel_stranspose_square(size_t n, float *a, size_t lda);

/* ----------------------------------------------------------- vector ops */

/**
 * y = alpha*x + y over @p n elements with nonzero strides @p incx, @p incy
 * (negative strides walk backwards, as in BLAS). Parallel; elementwise, so
 * bit-identical for any thread count. x and y must not overlap unless they
 * are the same vector with the same stride.
 * Errors: NULL x or y with n > 0, a zero increment, overflow.
 */
PEL_API pel_status pel_daxpy(size_t n, double alpha, const double *x, ptrdiff_t incx, double *y, ptrdiff_t incy);

/** Single-precision pel_daxpy(). */
PEL_API pel_status pel_saxpy(size_t n, float alpha, const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy);

/**
 * x = alpha*x over @p n elements with nonzero stride @p incx. IEEE
 * multiplication: alpha = 0 turns NaN and Inf into NaN (unlike the beta = 0
 * rule of gemm, which reads nothing). Errors: NULL x with n > 0, incx = 0.
 */
PEL_API pel_status pel_dscal(size_t n, double alpha, double *x, ptrdiff_t incx);

/** Single-precision pel_dscal(). */
PEL_API pel_status pel_sscal(size_t n, float alpha, float *x, ptrdiff_t incx);

/**
 * *result = sum x[i]*y[i]. The vectors are cut into fixed blocks of 4096
 * elements summed in 8 interleaved lanes (no fused multiply-add, so the AVX2
 * and portable paths agree), and block sums are added in a fixed pairwise
 * tree: the bits depend on n only, never on the thread count or the CPU.
 * Error bound about (512 + log2(n)) * eps * sum|x[i]*y[i]|.
 * Errors: NULL result, NULL x or y with n > 0, a zero increment, overflow;
 * *result is written only on success.
 */
PEL_API pel_status pel_ddot(size_t n, const double *x, ptrdiff_t incx, const double *y, ptrdiff_t incy,
                            double *result);

/** Single-precision dot product, accumulated in double (same blocking as
 *  pel_ddot()) and rounded once to float. */
PEL_API pel_status pel_sdot(size_t n, const float *x, ptrdiff_t incx, const float *y, ptrdiff_t incy,
                            float *result);

/**
 * *result = sqrt(sum x[i]^2) without overflow or underflow: each block is
 * scaled by a power of two taken from its largest element (exact scaling),
 * and block results are combined on a common power-of-two scale in a fixed
 * tree, so the result is correct for values near DBL_MAX or below DBL_MIN
 * and bit-identical for any thread count. NaN in x gives NaN; otherwise an
 * Inf gives Inf. Errors as pel_ddot().
 */
PEL_API pel_status pel_dnrm2(size_t n, const double *x, ptrdiff_t incx, double *result);

/** Single-precision pel_dnrm2(), accumulated in double (where squares of
 *  any float neither overflow nor underflow) and rounded once. */
PEL_API pel_status pel_snrm2(size_t n, const float *x, ptrdiff_t incx, float *result);

/** *result = sum |x[i]|, reproducible like pel_ddot(). Errors as pel_ddot(). */
PEL_API pel_status pel_dasum(size_t n, const double *x, ptrdiff_t incx, double *result);

/** Single-precision pel_dasum(), accumulated in double and rounded once. */
PEL_API pel_status pel_sasum(size_t n, const float *x, ptrdiff_t incx, float *result);

/* --------------------------------------------------------------- solves */

/**
 * Solves A*X = B for the n-by-n general matrix A and @p nrhs right-hand
 * sides by LU with partial pivoting (LAPACK dgesv in OpenBLAS). A (in
 * @p layout, leading dimension @p lda) is not modified: pel factors a copy.
 * B (n-by-nrhs in @p layout, leading dimension @p ldb) is overwritten with X
 * only on success; on any error it is unchanged.
 *
 * Errors: PEL_ERROR_SINGULAR when U(i,i) is exactly zero (the message names
 * the 1-based pivot i), PEL_ERROR_INVALID_ARGUMENT, PEL_ERROR_OVERFLOW,
 * PEL_ERROR_UNSUPPORTED (n, nrhs or a leading dimension above INT_MAX),
 * PEL_ERROR_OUT_OF_MEMORY. Thread-safe for distinct B.
 */
PEL_API pel_status pel_dgesv(pel_layout layout, size_t n, size_t nrhs, const double *a, size_t lda, double *b,
                             size_t ldb);

/** Single-precision pel_dgesv() (LAPACK sgesv). */
PEL_API pel_status pel_sgesv(pel_layout layout, size_t n, size_t nrhs, const float *a, size_t lda, float *b,
                             size_t ldb);

/**
 * Solves A*X = B for a symmetric positive definite A by Cholesky (LAPACK
 * dposv), reading only the @p uplo triangle of A. A is not modified; B is
 * overwritten with X only on success.
 *
 * Errors: PEL_ERROR_NOT_POSITIVE_DEFINITE when the leading minor of order i
 * is not positive definite (the message names i), and those of pel_dgesv().
 */
PEL_API pel_status pel_dposv(pel_layout layout, pel_uplo uplo, size_t n, size_t nrhs, const double *a, size_t lda,
                             double *b, size_t ldb);

/** Single-precision pel_dposv() (LAPACK sposv). */
PEL_API pel_status pel_sposv(pel_layout layout, pel_uplo uplo, size_t n, size_t nrhs, const float *a, size_t lda,
                             float *b, size_t ldb);

/* ------------------------------------------------------------ batched LAPACK */

/*
 * Stacks of small dense problems, solved in parallel: the items are shared
 * out over pel's threads and each item is one LAPACK call on one thread
 * (OpenBLAS runs single-threaded inside the loop), the way to use many
 * cores on 10^4..10^6 matrices of 2..64 rows that LAPACK alone runs one at
 * a time. Conventions of every pel_*_batch function below:
 *
 * - Item i of a stacked argument X starts at element i * stride_x of x and
 *   is stored in @p layout with leading dimension ldx (so numpy's C-ordered
 *   stacks are PEL_ROW_MAJOR with ld = columns and stride = rows * columns,
 *   Fortran arrays PEL_COL_MAJOR). stride_x = 0 shares one item (inputs).
 * - Inputs are never modified (pel copies each item into per-thread
 *   scratch). Outputs are written only when every item succeeded: on any
 *   error they are untouched, and the message names the first failing item
 *   ("item 17: ..."). Outputs must not overlap inputs or each other.
 * - batch = 0 or n = 0 returns PEL_OK at once. Sizes must fit LAPACK's
 *   32-bit integers (PEL_ERROR_UNSUPPORTED otherwise).
 * - Each item's result is computed for that item alone (by LAPACK, or by
 *   the small LU where said), so the bits do not depend on the thread count
 *   or on the other items.
 *
 * Errors common to all: PEL_ERROR_INVALID_ARGUMENT (unknown layout or uplo,
 * NULL arrays, a leading dimension too small, a nonzero stride smaller than
 * one item, overlapping outputs), PEL_ERROR_OVERFLOW (an extent overflows
 * size_t), PEL_ERROR_OUT_OF_MEMORY, PEL_ERROR_UNSUPPORTED, and per item the
 * LAPACK outcome named below. Thread-safe for distinct outputs.
 */

/**
 * Solves A_i X_i = B_i for each item: A_i n x n, B_i and X_i n x nrhs (LU
 * with partial pivoting, LAPACK gesv); x must not overlap a or b. For
 * n <= 16, pel_dgesv_batch runs pel's own unblocked LU (LAPACK dgetf2's
 * algorithm and pivot choice, in the caller's layout) instead of calling
 * dgesv per item: half the cost on 8 x 8 items; the results agree with
 * LAPACK's to rounding (not bit for bit), and still do not depend on the
 * thread count.
 * Errors: PEL_ERROR_SINGULAR (an exactly zero pivot; the message names the
 * item and the pivot).
 */
PEL_API pel_status pel_dgesv_batch(pel_layout layout, size_t n, size_t nrhs, size_t batch, const double *a,
                                   size_t lda, size_t stride_a, const double *b, size_t ldb, size_t stride_b,
                                   double *x, size_t ldx, size_t stride_x);
/** pel_dgesv_batch() for float. */
PEL_API pel_status pel_sgesv_batch(pel_layout layout, size_t n, size_t nrhs, size_t batch, const float *a,
                                   size_t lda, size_t stride_a, const float *b, size_t ldb, size_t stride_b,
                                   float *x, size_t ldx, size_t stride_x);
/** pel_dgesv_batch() for double complex (interleaved re, im; strides and
 *  leading dimensions in complex elements). */
PEL_API pel_status pel_zgesv_batch(pel_layout layout, size_t n, size_t nrhs, size_t batch, const void *a,
                                   size_t lda, size_t stride_a, const void *b, size_t ldb, size_t stride_b,
                                   void *x, size_t ldx, size_t stride_x);

/**
 * The inverse of each n x n A_i into INV_i (LU, LAPACK gesv on the
 * identity). Errors: PEL_ERROR_SINGULAR.
 */
PEL_API pel_status pel_dinv_batch(pel_layout layout, size_t n, size_t batch, const double *a, size_t lda,
                                  size_t stride_a, double *inv, size_t ldinv, size_t stride_inv);
/** pel_dinv_batch() for float. */
PEL_API pel_status pel_sinv_batch(pel_layout layout, size_t n, size_t batch, const float *a, size_t lda,
                                  size_t stride_a, float *inv, size_t ldinv, size_t stride_inv);

/**
 * Determinants of each n x n A_i from its LU factors (LAPACK getrf):
 * det[i] = the product of U's diagonal with the permutation's sign, and
 * sign[i] (+1, -1, or 0 for a singular matrix) with logabsdet[i] = log|det|
 * (-Inf when singular), as numpy.linalg.det / slogdet. Any of det, sign,
 * logabsdet may be NULL (not all three); each is batch contiguous values.
 * A singular matrix is not an error here.
 */
PEL_API pel_status pel_ddet_batch(pel_layout layout, size_t n, size_t batch, const double *a, size_t lda,
                                  size_t stride_a, double *det, double *sign, double *logabsdet);
/** pel_ddet_batch() for float (results in float). */
PEL_API pel_status pel_sdet_batch(pel_layout layout, size_t n, size_t batch, const float *a, size_t lda,
                                  size_t stride_a, float *det, float *sign, float *logabsdet);

/**
 * Cholesky factor of each symmetric positive definite A_i (LAPACK potrf),
 * reading the @p uplo triangle: PEL_LOWER gives L with A = L L^T, PEL_UPPER
 * gives U with A = U^T U; the other triangle of the output is set to zero
 * (numpy.linalg.cholesky is PEL_LOWER). Errors:
 * PEL_ERROR_NOT_POSITIVE_DEFINITE (names the item and the minor).
 */
PEL_API pel_status pel_dcholesky_batch(pel_layout layout, pel_uplo uplo, size_t n, size_t batch, const double *a,
                                       size_t lda, size_t stride_a, double *l, size_t ldl, size_t stride_l);
/** pel_dcholesky_batch() for float. */
PEL_API pel_status pel_scholesky_batch(pel_layout layout, pel_uplo uplo, size_t n, size_t batch, const float *a,
                                       size_t lda, size_t stride_a, float *l, size_t ldl, size_t stride_l);

/**
 * Eigenvalues (ascending) and, when @p v is not NULL, orthonormal
 * eigenvectors (column j of V_i for w_i[j]) of each symmetric A_i, reading
 * the @p uplo triangle (LAPACK syevd; numpy.linalg.eigh is PEL_LOWER).
 * w holds n values per item at stride_w. Errors: PEL_ERROR_NOT_CONVERGED.
 */
PEL_API pel_status pel_deigh_batch(pel_layout layout, pel_uplo uplo, size_t n, size_t batch, const double *a,
                                   size_t lda, size_t stride_a, double *w, size_t stride_w, double *v, size_t ldv,
                                   size_t stride_v);
/** pel_deigh_batch() for float. */
PEL_API pel_status pel_seigh_batch(pel_layout layout, pel_uplo uplo, size_t n, size_t batch, const float *a,
                                   size_t lda, size_t stride_a, float *w, size_t stride_w, float *v, size_t ldv,
                                   size_t stride_v);

/**
 * Singular value decomposition A_i = U_i diag(s_i) VT_i of each m x n A_i
 * (LAPACK gesdd): s holds min(m, n) values per item (descending) at
 * stride_s. With u and vt NULL only the singular values are computed;
 * otherwise both are needed: U_i m x m and VT_i n x n when
 * @p full_matrices is nonzero, m x k and k x n (k = min(m, n)) when zero,
 * as numpy.linalg.svd. Errors: PEL_ERROR_NOT_CONVERGED.
 */
PEL_API pel_status pel_dsvd_batch(pel_layout layout, size_t m, size_t n, size_t batch, const double *a, size_t lda,
                                  size_t stride_a, double *s, size_t stride_s, double *u, size_t ldu,
                                  size_t stride_u, double *vt, size_t ldvt, size_t stride_vt, int full_matrices);
/** pel_dsvd_batch() for float. */
PEL_API pel_status pel_ssvd_batch(pel_layout layout, size_t m, size_t n, size_t batch, const float *a, size_t lda,
                                  size_t stride_a, float *s, size_t stride_s, float *u, size_t ldu,
                                  size_t stride_u, float *vt, size_t ldvt, size_t stride_vt, int full_matrices);

#ifdef __cplusplus
}
#endif

#endif
