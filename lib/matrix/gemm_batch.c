/* Batched gemm. One driver serves both precisions and both batch forms:
 * small items (every dimension up to the kernel table's crossover with
 * OpenBLAS, at most PEL_GEMM_SMALL_MAX) run on pel's kernels
 * with OpenMP over the batch (one item on one thread, so the bits never
 * depend on the thread count); larger items go to OpenBLAS, one item per
 * thread when there are at least as many items as threads (OpenBLAS runs
 * single-threaded inside a parallel region), else one item at a time on
 * the whole team. */
#include "config.h"

#include <cblas.h>
#include <stdint.h>

#include "core/error.h"
#include "core/threads.h"
#include "exec/exec.h"
#include "matrix/kernels/kernels.h"
#include "matrix/matrix_internal.h"

typedef struct batch_job {
    int single; /* 1: float, 0: double */
    pel_layout layout;
    pel_transpose transa, transb;
    size_t m, n, k, lda, ldb, ldc;
    double alpha, beta; /* exact for float too */
    /* Strided form (arrays NULL) or pointer-array form. */
    const char *a, *b;
    char *c;
    size_t stride_a, stride_b, stride_c; /* in bytes */
    const void *const *pa, *const *pb;
    void *const *pc;
    pel__gemm_shape shape;
    const pel__matrix_kernels *kernels;
} batch_job;

static void item_pointers(const batch_job *job, size_t i, const void **a, const void **b, void **c)
{
    if (job->pa != NULL) {
        *a = job->pa[i];
        *b = job->pb[i];
        *c = job->pc[i];
    } else {
        *a = job->a + i * job->stride_a;
        *b = job->b + i * job->stride_b;
        *c = job->c + i * job->stride_c;
    }
}

/* alpha = 0 or k = 0: C_i = beta*C_i, A and B unread. */
static int scale_items(size_t begin, size_t end, void *arg)
{
    const batch_job *job = arg;
    for (size_t i = begin; i < end; i++) {
        const void *a, *b;
        void *c;
        item_pointers(job, i, &a, &b, &c);
        if (job->single)
            pel__sscale_matrix(job->shape.m, job->shape.n, (float)job->beta, c, job->ldc);
        else
            pel__dscale_matrix(job->shape.m, job->shape.n, job->beta, c, job->ldc);
    }
    return 0;
}

static int small_items(size_t begin, size_t end, void *arg)
{
    const batch_job *job = arg;
    const pel__gemm_shape *s = &job->shape;
    double work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));

    if (job->pa == NULL && (job->single ? job->kernels->sgemm_small_strided != NULL
                                        : job->kernels->dgemm_small_strided != NULL)) {
        /* The whole run in one call (strides in elements). */
        size_t elem = job->single ? sizeof(float) : sizeof(double);
        const char *first = s->swap ? job->b : job->a, *second = s->swap ? job->a : job->b;
        size_t stride_first = (s->swap ? job->stride_b : job->stride_a) / elem;
        size_t stride_second = (s->swap ? job->stride_a : job->stride_b) / elem;
        first += begin * (s->swap ? job->stride_b : job->stride_a);
        second += begin * (s->swap ? job->stride_a : job->stride_b);
        if (job->single)
            job->kernels->sgemm_small_strided(end - begin, s->m, s->n, s->k, (float)job->alpha, (const float *)first,
                                              s->rsa, s->csa, stride_first, (const float *)second, s->rsb, s->csb,
                                              stride_second, (float)job->beta,
                                              (float *)(job->c + begin * job->stride_c), s->ldc,
                                              job->stride_c / elem, (float *)work);
        else
            job->kernels->dgemm_small_strided(end - begin, s->m, s->n, s->k, job->alpha, (const double *)first,
                                              s->rsa, s->csa, stride_first, (const double *)second, s->rsb, s->csb,
                                              stride_second, job->beta, (double *)(job->c + begin * job->stride_c),
                                              s->ldc, job->stride_c / elem, work);
        return 0;
    }
    for (size_t i = begin; i < end; i++) {
        const void *a, *b, *first, *second;
        void *c;
        item_pointers(job, i, &a, &b, &c);
        /* In column-major form a row-major product swaps A and B. */
        first = s->swap ? b : a;
        second = s->swap ? a : b;
        if (job->single)
            job->kernels->sgemm_small(s->m, s->n, s->k, (float)job->alpha, first, s->rsa, s->csa, second, s->rsb,
                                      s->csb, (float)job->beta, c, s->ldc, (float *)work);
        else
            job->kernels->dgemm_small(s->m, s->n, s->k, job->alpha, first, s->rsa, s->csa, second, s->rsb, s->csb,
                                      job->beta, c, s->ldc, work);
    }
    return 0;
}

static void blas_item(const batch_job *job, size_t i)
{
    const void *a, *b;
    void *c;
    item_pointers(job, i, &a, &b, &c);
    if (job->single)
        cblas_sgemm((enum CBLAS_ORDER)job->layout, (enum CBLAS_TRANSPOSE)job->transa,
                    (enum CBLAS_TRANSPOSE)job->transb, (int)job->m, (int)job->n, (int)job->k, (float)job->alpha, a,
                    (int)job->lda, b, (int)job->ldb, (float)job->beta, c, (int)job->ldc);
    else
        cblas_dgemm((enum CBLAS_ORDER)job->layout, (enum CBLAS_TRANSPOSE)job->transa,
                    (enum CBLAS_TRANSPOSE)job->transb, (int)job->m, (int)job->n, (int)job->k, job->alpha, a,
                    (int)job->lda, b, (int)job->ldb, job->beta, c, (int)job->ldc);
}

static int blas_items(size_t begin, size_t end, void *arg)
{
    for (size_t i = begin; i < end; i++)
        blas_item(arg, i);
    return 0;
}

static size_t saturating_work(size_t m, size_t n, size_t k, size_t count)
{
    size_t w;
    if (!pel__mul_size(m, n, &w) || !pel__mul_size(w, k, &w) || !pel__mul_size(w, 2, &w) ||
        !pel__mul_size(w, count, &w))
        return SIZE_MAX;
    return w;
}

/* count * (2mnk + mk + kn + 2mn): flops and elements moved, saturating. */
static size_t small_work(size_t m, size_t n, size_t k, size_t count)
{
    size_t flops = saturating_work(m, n, k, 1), moved = m * k + k * n + 2 * m * n, w;
    /* m, n, k <= PEL_GEMM_SMALL_MAX here: the sums cannot overflow. */
    if (!pel__mul_size(flops + moved, count, &w))
        return SIZE_MAX;
    return w;
}

static pel_status run_batch(const char *function, batch_job *job, size_t count)
{
    size_t per_item = saturating_work(job->m, job->n, job->k, 1);
    size_t elems, chunk, small_max;
    pel__blas_scope scope;
    pel_status status;
    int nthreads;

    if (count == 0 || job->m == 0 || job->n == 0)
        return PEL_OK;
    pel__gemm_canonical(job->layout, job->transa, job->transb, job->m, job->n, job->k, job->lda, job->ldb,
                        job->ldc, &job->shape);
    if (job->alpha == 0.0 || job->k == 0) {
        elems = saturating_work(job->m, job->n, 1, count);
        return pel__parallel_for(pel_threads_for_work(elems), 0, count, PEL_SCHEDULE_STATIC, 0, scale_items, job);
    }
    /* Items with every dimension up to the crossover with OpenBLAS use
     * pel's kernels: up to the table's constant or 32, whichever is
     * smaller, always; above it the crossover measured on this machine at
     * the first such item (lib/matrix/cutoff.c; the AVX2 table's constant
     * of 64 did not hold on every machine). */
    job->kernels = pel__matrix_kernels_get();
    small_max = pel__matrix_cutoff_floor(job->kernels, job->single); /* what holds without a measurement */
    if ((job->m > small_max || job->n > small_max || job->k > small_max) && job->m <= PEL_GEMM_SMALL_MAX &&
        job->n <= PEL_GEMM_SMALL_MAX && job->k <= PEL_GEMM_SMALL_MAX)
        small_max = pel__matrix_small_max(job->kernels, job->single);
    if (job->m <= small_max && job->n <= small_max && job->k <= small_max) {
        /* The thread count from the measured minimum work per thread
         * (lib/tune), with the elements each item moves counted beside its
         * flops: a tiny item costs its loads and stores more than its FMAs.
         * One thread runs the batch on the calling thread with no parallel
         * region and no loop set-up: a batch of 10-1000 tiny items takes
         * less time than a fork/join (issue 16: 4-9 us a call went there). */
        nthreads = pel__tune_threads_for_work(small_work(job->m, job->n, job->k, count));
        if (nthreads <= 1) {
            small_items(0, count, job);
            return PEL_OK;
        }
        /* Dynamic chunks of about 1/32 of a thread's share: a thread that is
         * descheduled or slower (a shared node) no longer holds up the batch.
         * Each item is still computed whole by one thread, so the bits do not
         * depend on who takes which chunk. */
        chunk = count / ((size_t)nthreads * 32);
        return pel__parallel_for(nthreads, 0, count, nthreads > 1 ? PEL_SCHEDULE_DYNAMIC : PEL_SCHEDULE_STATIC,
                                 chunk > 0 ? chunk : 1, small_items, job);
    }
    nthreads = pel_threads_for_work(saturating_work(job->m, job->n, job->k, count));
    if ((status = pel__check_blas_int(function, "m", job->m)) != PEL_OK ||
        (status = pel__check_blas_int(function, "n", job->n)) != PEL_OK ||
        (status = pel__check_blas_int(function, "k", job->k)) != PEL_OK ||
        (status = pel__check_blas_int(function, "lda", job->lda)) != PEL_OK ||
        (status = pel__check_blas_int(function, "ldb", job->ldb)) != PEL_OK ||
        (status = pel__check_blas_int(function, "ldc", job->ldc)) != PEL_OK)
        return status;
    if (count >= (size_t)nthreads) {
        /* One item per thread: OpenBLAS sees omp_in_parallel() and runs on
         * its caller; with a team of one it must be told so too. */
        pel__blas_enter(&scope, 1);
        /* Runs of neighbouring items per chunk, as for the small items:
         * with chunks of one item the threads take turns along the batch
         * and each thread's reads stop being one stream the hardware
         * prefetcher can follow (n = 33..64 ran 10-40% slower than a plain
         * static loop). */
        chunk = count / ((size_t)nthreads * 32);
        status = pel__parallel_for(nthreads, 0, count, PEL_SCHEDULE_DYNAMIC, chunk > 0 ? chunk : 1, blas_items, job);
        pel__blas_leave(&scope);
        return status;
    }
    pel__blas_enter(&scope, pel_threads_for_work(per_item));
    for (size_t i = 0; i < count; i++)
        blas_item(job, i);
    pel__blas_leave(&scope);
    return PEL_OK;
}

/* Validates a strided batch: one item as pel_dgemm() would, then the strides
 * and the extent of the whole batch. */
static pel_status check_strided(const char *function, batch_job *job, size_t elem_size, size_t count)
{
    size_t span_a, span_b, span_c, total_a, total_b, total_c;
    pel_status status;

    /* With an empty batch the pointers may be NULL; the shape is checked. */
    if (count == 0)
        status = pel__check_gemm_shape(function, job->layout, job->transa, job->transb, job->m, job->n, job->k,
                                       job->lda, job->ldb, job->ldc, elem_size, &span_a, &span_b, &span_c);
    else
        status = pel__check_gemm(function, job->layout, job->transa, job->transb, job->m, job->n, job->k, job->a,
                                 job->lda, job->b, job->ldb, job->c, job->ldc, elem_size, &span_a, &span_b,
                                 &span_c);
    if (status != PEL_OK || count == 0)
        return status;
    if (count > 1 && span_c > 0 && job->stride_c < span_c)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "stride_c=%zu is smaller than one C item (%zu elements): the items would overlap",
                         job->stride_c, span_c);
    /* Extent of each batch in bytes; strides are still in elements here. */
    if (!pel__mul_size(count - 1, job->stride_a, &total_a) || !pel__add_size(total_a, span_a, &total_a) ||
        !pel__mul_size(total_a, elem_size, &total_a) || !pel__mul_size(count - 1, job->stride_b, &total_b) ||
        !pel__add_size(total_b, span_b, &total_b) || !pel__mul_size(total_b, elem_size, &total_b) ||
        !pel__mul_size(count - 1, job->stride_c, &total_c) || !pel__add_size(total_c, span_c, &total_c) ||
        !pel__mul_size(total_c, elem_size, &total_c) || total_a > (size_t)PTRDIFF_MAX ||
        total_b > (size_t)PTRDIFF_MAX || total_c > (size_t)PTRDIFF_MAX)
        return pel__fail(PEL_ERROR_OVERFLOW, function, "a batch of %zu items with these strides spans more memory "
                         "than can be addressed", count);
    if (span_a == 0)
        total_a = 0;
    if (span_b == 0)
        total_b = 0;
    if (span_c == 0)
        total_c = 0; /* an empty C is never written */
    if (pel__ranges_overlap(job->c, total_c, job->a, total_a))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "the C batch overlaps the A batch");
    if (pel__ranges_overlap(job->c, total_c, job->b, total_b))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "the C batch overlaps the B batch");
    job->stride_a *= elem_size;
    job->stride_b *= elem_size;
    job->stride_c *= elem_size;
    return PEL_OK;
}

/* Validates a pointer-array batch: the shape once, then every item. */
static pel_status check_arrays(const char *function, batch_job *job, size_t elem_size, size_t count)
{
    size_t span_a, span_b, span_c;
    pel_status status;

    status = pel__check_gemm_shape(function, job->layout, job->transa, job->transb, job->m, job->n, job->k,
                                   job->lda, job->ldb, job->ldc, elem_size, &span_a, &span_b, &span_c);
    if (status != PEL_OK || count == 0)
        return status;
    if (job->pa == NULL || job->pb == NULL || job->pc == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s must not be NULL when batch_count=%zu",
                         job->pa == NULL ? "a" : job->pb == NULL ? "b" : "c", count);
    for (size_t i = 0; i < count; i++) {
        if (span_a > 0 && job->pa[i] == NULL)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "a[%zu] must not be NULL", i);
        if (span_b > 0 && job->pb[i] == NULL)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "b[%zu] must not be NULL", i);
        if (span_c > 0 && job->pc[i] == NULL)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "c[%zu] must not be NULL", i);
        if (pel__ranges_overlap(job->pc[i], span_c * elem_size, job->pa[i], span_a * elem_size) ||
            pel__ranges_overlap(job->pc[i], span_c * elem_size, job->pb[i], span_b * elem_size))
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "c[%zu] overlaps a[%zu] or b[%zu]", i, i, i);
    }
    return PEL_OK;
}

pel_status pel_dgemm_batch_strided(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m,
                                   size_t n, size_t k, double alpha, const double *a, size_t lda, size_t stride_a,
                                   const double *b, size_t ldb, size_t stride_b, double beta, double *c, size_t ldc,
                                   size_t stride_c, size_t batch_count)
{
    batch_job job = {0, layout, transa, transb, m, n, k, lda, ldb, ldc, alpha, beta, (const char *)a,
                     (const char *)b, (char *)c, stride_a, stride_b, stride_c, NULL, NULL, NULL, {0}, NULL};
    pel_status status = check_strided(__func__, &job, sizeof(double), batch_count);
    return status != PEL_OK ? status : run_batch(__func__, &job, batch_count);
}

pel_status pel_sgemm_batch_strided(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m,
                                   size_t n, size_t k, float alpha, const float *a, size_t lda, size_t stride_a,
                                   const float *b, size_t ldb, size_t stride_b, float beta, float *c, size_t ldc,
                                   size_t stride_c, size_t batch_count)
{
    batch_job job = {1, layout, transa, transb, m, n, k, lda, ldb, ldc, alpha, beta, (const char *)a,
                     (const char *)b, (char *)c, stride_a, stride_b, stride_c, NULL, NULL, NULL, {0}, NULL};
    pel_status status = check_strided(__func__, &job, sizeof(float), batch_count);
    return status != PEL_OK ? status : run_batch(__func__, &job, batch_count);
}

pel_status pel_dgemm_batch(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n,
                           size_t k, double alpha, const double *const *a, size_t lda, const double *const *b,
                           size_t ldb, double beta, double *const *c, size_t ldc, size_t batch_count)
{
    batch_job job = {0, layout, transa, transb, m, n, k, lda, ldb, ldc, alpha, beta, NULL, NULL, NULL, 0, 0, 0,
                     (const void *const *)a, (const void *const *)b, (void *const *)c, {0}, NULL};
    pel_status status = check_arrays(__func__, &job, sizeof(double), batch_count);
    return status != PEL_OK ? status : run_batch(__func__, &job, batch_count);
}

pel_status pel_sgemm_batch(pel_layout layout, pel_transpose transa, pel_transpose transb, size_t m, size_t n,
                           size_t k, float alpha, const float *const *a, size_t lda, const float *const *b,
                           size_t ldb, float beta, float *const *c, size_t ldc, size_t batch_count)
{
    batch_job job = {1, layout, transa, transb, m, n, k, lda, ldb, ldc, alpha, beta, NULL, NULL, NULL, 0, 0, 0,
                     (const void *const *)a, (const void *const *)b, (void *const *)c, {0}, NULL};
    pel_status status = check_arrays(__func__, &job, sizeof(float), batch_count);
    return status != PEL_OK ? status : run_batch(__func__, &job, batch_count);
}
