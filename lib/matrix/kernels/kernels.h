/* The matrix layer's kernel registry (BLIS's pattern): each instruction set
 * provides the same small set of kernels in kernels/<isa>/, and one table,
 * chosen once at run time from what the CPU supports, binds them. The
 * reference kernels are portable C and are what the tests compare with. */
#ifndef PEL_MATRIX_KERNELS_H
#define PEL_MATRIX_KERNELS_H

#include <stddef.h>

/* The largest m, n and k a small-gemm kernel accepts; its packing buffer
 * holds PEL_GEMM_SMALL_MAX^2 elements (32 KiB of doubles). */
#define PEL_GEMM_SMALL_MAX 64

/* Items with m and n at most this (m up to twice it for AVX-512 float), k at
 * most PEL_GEMM_TINY_K_MAX, and A untransposed run on the fully unrolled tiny kernels of the AVX2 and
 * AVX-512 tables (kernels/<isa>/gemm_tiny.c). */
#define PEL_GEMM_TINY_MAX 8
/* ... and k up to this (each instance holds k columns of A or loads one a
 * step; 8x4x16 ran at 0.6x LIBXSMM on the general tiles). */
#define PEL_GEMM_TINY_K_MAX 16

/* 1 where the tiny kernels compile one instance per (n, k), both constants
 * (the fast build); 0 where they compile one instance that reads n and k at
 * run time: under AddressSanitizer or ThreadSanitizer (CI's sanitizer, TSan
 * and fuzzer builds), whose instrumentation made the hundreds of unrolled
 * instances take minutes per file (clang -O1 with the fuzzers' sanitizers:
 * 5.5 min for avx512/gemm_tiny.c). The operations and their order are the
 * same either way, hence the bits. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PEL_TINY_INSTANCES 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PEL_TINY_INSTANCES 0
#endif
#endif
#ifndef PEL_TINY_INSTANCES
#define PEL_TINY_INSTANCES 1
#endif

/* Column-major C(m x n, ldc) = alpha*op(A)*op(B) + beta*C with
 * op(A)(i,p) = a[i*rsa + p*csa], op(B)(p,j) = b[p*rsb + j*csb], for
 * 1 <= m, n, k <= PEL_GEMM_SMALL_MAX and alpha != 0. beta = 0: C is not
 * read. work holds PEL_GEMM_SMALL_MAX^2 elements, 32-byte aligned. */
typedef void (*pel__dgemm_small_fn)(size_t m, size_t n, size_t k, double alpha, const double *a, ptrdiff_t rsa,
                                    ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb, double beta,
                                    double *c, size_t ldc, double *work);
typedef void (*pel__sgemm_small_fn)(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t rsa,
                                    ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c,
                                    size_t ldc, float *work);

/* count items of the small gemm above, item i at a + i*stride_a,
 * b + i*stride_b, c + i*stride_c (strides in elements): a strided batch in
 * one call, so a table can dispatch the shape once and skip a call per
 * item. May be NULL in a table: the driver then calls the one-item kernel. */
typedef void (*pel__dgemm_small_strided_fn)(size_t count, size_t m, size_t n, size_t k, double alpha,
                                            const double *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                            const double *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                            double beta, double *c, size_t ldc, size_t stride_c, double *work);
typedef void (*pel__sgemm_small_strided_fn)(size_t count, size_t m, size_t n, size_t k, float alpha,
                                            const float *a, ptrdiff_t rsa, ptrdiff_t csa, size_t stride_a,
                                            const float *b, ptrdiff_t rsb, ptrdiff_t csb, size_t stride_b,
                                            float beta, float *c, size_t ldc, size_t stride_c, float *work);

/* Column-major B(cols x rows) = alpha*A^T for an A of rows x cols; a tile of
 * a larger transpose, sized by the caller to fit in L1/L2. */
typedef void (*pel__dtranspose_tile_fn)(size_t rows, size_t cols, double alpha, const double *a, size_t lda,
                                        double *b, size_t ldb, int nontemporal);
typedef void (*pel__stranspose_tile_fn)(size_t rows, size_t cols, float alpha, const float *a, size_t lda,
                                        float *b, size_t ldb, int nontemporal);

/* Partial sums over one block of a reproducible reduction, in 8 interleaved
 * lanes (lane j takes elements i with i mod 8 = j) combined in a fixed tree;
 * unit stride. Every ISA must give the same bits as the reference (no fused
 * multiply-add), so results do not depend on the CPU. */
typedef double (*pel__ddot_block_fn)(size_t n, const double *x, const double *y);
typedef double (*pel__dsumsq_block_fn)(size_t n, const double *x, double scale);
typedef double (*pel__dasum_block_fn)(size_t n, const double *x);
/* Sum of squares (unscaled, same lane order) and, in *maxabs, the largest
 * |x[i]| ignoring NaN: nrm2 reads each block once and only rescales the rare
 * block whose squares could overflow or underflow. */
typedef double (*pel__dsumsq_max_block_fn)(size_t n, const double *x, double *maxabs);

typedef struct pel__matrix_kernels {
    const char *name;
    int (*available)(void);
    /* The batch driver gives an item to dgemm_small / sgemm_small when m, n
     * and k are all at most this (<= PEL_GEMM_SMALL_MAX), else to OpenBLAS:
     * the crossover measured for this table (docs/matrix.md). */
    size_t dgemm_small_max, sgemm_small_max;
    pel__dgemm_small_fn dgemm_small;
    pel__sgemm_small_fn sgemm_small;
    pel__dgemm_small_strided_fn dgemm_small_strided; /* or NULL */
    pel__sgemm_small_strided_fn sgemm_small_strided; /* or NULL */
    pel__dtranspose_tile_fn dtranspose_tile;
    pel__stranspose_tile_fn stranspose_tile;
    pel__ddot_block_fn ddot_block;
    pel__dsumsq_block_fn dsumsq_block;
    pel__dasum_block_fn dasum_block;
    pel__dsumsq_max_block_fn dsumsq_max_block;
} pel__matrix_kernels;

/* The kernels of the best instruction set this CPU supports (or the one named
 * by the PEL_MATRIX_KERNELS environment variable when pel loaded, if
 * available). Chosen once; thread-safe. */
const pel__matrix_kernels *pel__matrix_kernels_get(void);

/* The table with this name ("reference", "avx2", "avx512"), or NULL if unknown or not
 * supported by this CPU. For tests and benchmarks. */
const pel__matrix_kernels *pel__matrix_kernels_find(const char *name);

/* Makes table (one that pel__matrix_kernels_find() returned; NULL: the
 * CPU's choice again) the one pel__matrix_kernels_get() returns, and returns
 * the table it replaces. For tests, which run every table through the batch
 * driver; the switch must not race with a running matrix call. */
const pel__matrix_kernels *pel__matrix_kernels_set(const pel__matrix_kernels *table);

/* The per-ISA tables. */
extern const pel__matrix_kernels pel__matrix_kernels_reference;
extern const pel__matrix_kernels pel__matrix_kernels_avx2;
extern const pel__matrix_kernels pel__matrix_kernels_avx512;

#endif
