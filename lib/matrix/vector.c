/* Vector operations. axpy and scal are elementwise (bit-identical for any
 * split). dot, nrm2 and asum are reproducible reductions: the vector is cut
 * into fixed blocks of BLOCK elements, each block is reduced by a registry
 * kernel in a fixed lane order, and the block results are joined in a fixed
 * pairwise tree, so neither the thread count nor the CPU changes the bits.
 * Float vectors are widened to double block by block and accumulated in
 * double. */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "core/error.h"
#include "exec/exec.h"
#include "matrix/kernels/kernels.h"
#include "matrix/matrix_internal.h"

enum { BLOCK = PEL_REDUCE_BLOCK, STACK_PARTIALS = 256 };

/* The element i of a strided vector, BLAS style: a negative increment walks
 * from the end of the memory range. */
static inline ptrdiff_t first_offset(size_t n, ptrdiff_t inc)
{
    return inc < 0 ? -(ptrdiff_t)(n - 1) * inc : 0;
}

/* ------------------------------------------------------------ axpy, scal */

typedef struct elementwise {
    int single;
    double alpha;
    const void *x;
    void *y;
    ptrdiff_t incx, incy;
} elementwise;

static int axpy_range(size_t begin, size_t end, void *arg)
{
    const elementwise *e = arg;
    if (e->single) {
        const float *x = e->x;
        float *y = e->y, alpha = (float)e->alpha;
        if (e->incx == 1 && e->incy == 1)
            for (size_t i = begin; i < end; i++)
                y[i] += alpha * x[i];
        else
            for (size_t i = begin; i < end; i++)
                y[(ptrdiff_t)i * e->incy] += alpha * x[(ptrdiff_t)i * e->incx];
    } else {
        const double *x = e->x;
        double *y = e->y, alpha = e->alpha;
        if (e->incx == 1 && e->incy == 1)
            for (size_t i = begin; i < end; i++)
                y[i] += alpha * x[i];
        else
            for (size_t i = begin; i < end; i++)
                y[(ptrdiff_t)i * e->incy] += alpha * x[(ptrdiff_t)i * e->incx];
    }
    return 0;
}

static int scal_range(size_t begin, size_t end, void *arg)
{
    const elementwise *e = arg;
    if (e->single) {
        float *x = e->y, alpha = (float)e->alpha;
        for (size_t i = begin; i < end; i++)
            x[(ptrdiff_t)i * e->incy] *= alpha;
    } else {
        double *x = e->y, alpha = e->alpha;
        for (size_t i = begin; i < end; i++)
            x[(ptrdiff_t)i * e->incy] *= alpha;
    }
    return 0;
}

static size_t span_bytes(size_t n, ptrdiff_t inc, size_t elem)
{
    size_t step = inc < 0 ? (size_t)0 - (size_t)inc : (size_t)inc;
    return n == 0 ? 0 : ((n - 1) * step + 1) * elem;
}

static pel_status axpy(const char *function, int single, size_t n, double alpha, const void *x, ptrdiff_t incx,
                       void *y, ptrdiff_t incy)
{
    size_t elem = single ? sizeof(float) : sizeof(double);
    elementwise e;
    pel_status status;

    if ((status = pel__check_vector(function, "x", "incx", x, n, incx, elem)) != PEL_OK ||
        (status = pel__check_vector(function, "y", "incy", y, n, incy, elem)) != PEL_OK)
        return status;
    if (!(x == y && incx == incy) && pel__ranges_overlap(x, span_bytes(n, incx, elem), y, span_bytes(n, incy, elem)))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "x and y overlap (only the very same vector with the same increment may be passed twice)");
    if (n == 0)
        return PEL_OK;
    e.single = single;
    e.alpha = alpha;
    e.x = (const char *)x + first_offset(n, incx) * (ptrdiff_t)elem;
    e.y = (char *)y + first_offset(n, incy) * (ptrdiff_t)elem;
    e.incx = incx;
    e.incy = incy;
    return pel__parallel_for(pel_threads_for_work(3 * n), 0, n, PEL_SCHEDULE_STATIC, 0, axpy_range, &e);
}

pel_status pel_daxpy(size_t n, double alpha, const double *x, ptrdiff_t incx, double *y, ptrdiff_t incy)
{
    return axpy(__func__, 0, n, alpha, x, incx, y, incy);
}

pel_status pel_saxpy(size_t n, float alpha, const float *x, ptrdiff_t incx, float *y, ptrdiff_t incy)
{
    return axpy(__func__, 1, n, alpha, x, incx, y, incy);
}

static pel_status scal(const char *function, int single, size_t n, double alpha, void *x, ptrdiff_t incx)
{
    size_t elem = single ? sizeof(float) : sizeof(double);
    elementwise e;
    pel_status status;

    if ((status = pel__check_vector(function, "x", "incx", x, n, incx, elem)) != PEL_OK)
        return status;
    if (n == 0)
        return PEL_OK;
    e.single = single;
    e.alpha = alpha;
    e.x = NULL;
    e.y = (char *)x + first_offset(n, incx) * (ptrdiff_t)elem;
    e.incx = 0;
    e.incy = incx;
    return pel__parallel_for(pel_threads_for_work(2 * n), 0, n, PEL_SCHEDULE_STATIC, 0, scal_range, &e);
}

pel_status pel_dscal(size_t n, double alpha, double *x, ptrdiff_t incx)
{
    return scal(__func__, 0, n, alpha, x, incx);
}

pel_status pel_sscal(size_t n, float alpha, float *x, ptrdiff_t incx)
{
    return scal(__func__, 1, n, alpha, x, incx);
}

/* ------------------------------------------------------------ reductions */

typedef enum reduction_kind { DOT, SUMSQ_SCALED, SUMSQ_PLAIN, ASUM } reduction_kind;

/* A block's result: for SUMSQ_SCALED the sum of squares is q * 4^e
 * (nonfinite: q holds Inf or NaN unscaled); otherwise just q. */
typedef struct partial {
    double q;
    int e;
    int nonfinite;
} partial;

/* Exponent of an all-zero block: below every real one, so it never wins. */
enum { ZERO_EXPONENT = -4000 };

typedef struct reduction {
    reduction_kind kind;
    int single;
    size_t n;
    const void *x, *y; /* at element 0 */
    ptrdiff_t incx, incy;
    partial *partials;
    const pel__matrix_kernels *kernels;
} reduction;

/* Points *out at block elements as contiguous doubles: the caller's memory
 * when it already is, else a widened/gathered copy in buf. */
static const double *block_doubles(const reduction *r, const void *v, ptrdiff_t inc, size_t begin, size_t count,
                                   double *buf)
{
    if (!r->single) {
        const double *x = (const double *)v + (ptrdiff_t)begin * inc;
        if (inc == 1)
            return x;
        for (size_t i = 0; i < count; i++)
            buf[i] = x[(ptrdiff_t)i * inc];
    } else {
        const float *x = (const float *)v + (ptrdiff_t)begin * inc;
        for (size_t i = 0; i < count; i++)
            buf[i] = x[(ptrdiff_t)i * inc];
    }
    return buf;
}

/* Squares stay finite and normal (to within a negligible part) while the
 * block's largest |x| lies in [2^-500, 2^500]: then the unscaled sum is as
 * accurate as a scaled one. Outside, the block is summed again scaled by an
 * exact power of two. */
#define SAFE_LOW 0x1p-500
#define SAFE_HIGH 0x1p500

static partial scaled_sumsq(const pel__matrix_kernels *k, const double *x, size_t count)
{
    partial p = {0.0, 0, 0};
    double max;
    int e;

    p.q = k->dsumsq_max_block(count, x, &max);
    if (max >= SAFE_LOW && max <= SAFE_HIGH) {
        p.nonfinite = isnan(p.q);
        return p;
    }
    if (isinf(max)) {
        p.nonfinite = 1; /* q is Inf, or NaN if a NaN is there too */
        return p;
    }
    if (max == 0.0) {
        /* All zeros, or NaNs that the maximum skipped. */
        p.e = ZERO_EXPONENT;
        p.nonfinite = isnan(p.q);
        return p;
    }
    /* max = f * 2^e with f in [0.5, 1): scaling by 2^-e is exact and brings
     * the largest square near 1, so nothing overflows and only elements
     * negligible next to max can underflow. 2^1000 is the largest power of
     * two we multiply by (2^-e itself would overflow for subnormal max). */
    frexp(max, &e);
    if (e < -1000)
        e = -1000;
    p.e = e;
    p.q = k->dsumsq_block(count, x, ldexp(1.0, -e));
    p.nonfinite = isnan(p.q);
    return p;
}

static int reduce_blocks(size_t first, size_t last, void *arg)
{
    const reduction *r = arg;
    double xbuf[BLOCK] __attribute__((aligned(64))), ybuf[BLOCK] __attribute__((aligned(64)));

    for (size_t b = first; b < last; b++) {
        size_t begin = b * BLOCK, count = r->n - begin < BLOCK ? r->n - begin : BLOCK;
        const double *x = block_doubles(r, r->x, r->incx, begin, count, xbuf);
        partial *p = &r->partials[b];
        p->e = 0;
        p->nonfinite = 0;
        switch (r->kind) {
        case DOT:
            p->q = r->kernels->ddot_block(count, x, block_doubles(r, r->y, r->incy, begin, count, ybuf));
            break;
        case SUMSQ_SCALED:
            *p = scaled_sumsq(r->kernels, x, count);
            break;
        case SUMSQ_PLAIN:
            p->q = r->kernels->dsumsq_block(count, x, 1.0);
            break;
        case ASUM:
            p->q = r->kernels->dasum_block(count, x);
            break;
        }
    }
    return 0;
}

/* left = left + right on a common power-of-two scale. */
static void join_scaled(partial *left, const partial *right)
{
    int e;
    if (left->nonfinite || right->nonfinite) {
        left->q = (left->nonfinite ? left->q : 0.0) + (right->nonfinite ? right->q : 0.0);
        left->nonfinite = 1;
        return;
    }
    e = left->e > right->e ? left->e : right->e;
    left->q = ldexp(left->q, 2 * (left->e - e)) + ldexp(right->q, 2 * (right->e - e));
    left->e = e;
}

static pel_status reduce(const char *function, reduction *r, size_t work_per_element, partial *result)
{
    partial stack[STACK_PARTIALS];
    size_t nblocks = (r->n + BLOCK - 1) / BLOCK;
    int nthreads = pel_threads_for_work(r->n * work_per_element);
    pel_status status;

    if (r->n == 0) {
        result->q = 0.0;
        result->e = ZERO_EXPONENT;
        result->nonfinite = 0;
        return PEL_OK;
    }
    r->partials = nblocks <= STACK_PARTIALS ? stack : pel_malloc(nblocks * sizeof(partial));
    if (r->partials == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "no memory for %zu block results", nblocks);
    r->kernels = pel__matrix_kernels_get();
    if ((size_t)nthreads > nblocks)
        nthreads = (int)nblocks;
    status = pel__parallel_for(nthreads, 0, nblocks, PEL_SCHEDULE_STATIC, 0, reduce_blocks, r);
    if (status == PEL_OK) {
        /* The fixed pairwise tree of pel_parallel_reduce(). */
        for (size_t width = 1; width < nblocks; width *= 2)
            for (size_t i = 0; i + width < nblocks; i += 2 * width) {
                if (r->kind == SUMSQ_SCALED)
                    join_scaled(&r->partials[i], &r->partials[i + width]);
                else
                    r->partials[i].q += r->partials[i + width].q;
            }
        *result = r->partials[0];
    }
    if (r->partials != stack)
        pel_free(r->partials);
    return status;
}

static pel_status setup(const char *function, reduction *r, int single, reduction_kind kind, size_t n,
                        const void *x, ptrdiff_t incx, const void *y, ptrdiff_t incy, const void *result)
{
    size_t elem = single ? sizeof(float) : sizeof(double);
    pel_status status;

    if (result == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "result must not be NULL");
    if ((status = pel__check_vector(function, "x", "incx", x, n, incx, elem)) != PEL_OK)
        return status;
    if (kind == DOT && (status = pel__check_vector(function, "y", "incy", y, n, incy, elem)) != PEL_OK)
        return status;
    r->kind = kind;
    r->single = single;
    r->n = n;
    r->x = n == 0 ? x : (const char *)x + first_offset(n, incx) * (ptrdiff_t)elem;
    r->y = n == 0 || y == NULL ? y : (const char *)y + first_offset(n, incy) * (ptrdiff_t)elem;
    r->incx = incx;
    r->incy = incy;
    r->partials = NULL;
    return PEL_OK;
}

pel_status pel_ddot(size_t n, const double *x, ptrdiff_t incx, const double *y, ptrdiff_t incy, double *result)
{
    reduction r;
    partial p;
    pel_status status;

    if ((status = setup(__func__, &r, 0, DOT, n, x, incx, y, incy, result)) != PEL_OK ||
        (status = reduce(__func__, &r, 2, &p)) != PEL_OK)
        return status;
    *result = p.q;
    return PEL_OK;
}

pel_status pel_sdot(size_t n, const float *x, ptrdiff_t incx, const float *y, ptrdiff_t incy, float *result)
{
    reduction r;
    partial p;
    pel_status status;

    if ((status = setup(__func__, &r, 1, DOT, n, x, incx, y, incy, result)) != PEL_OK ||
        (status = reduce(__func__, &r, 2, &p)) != PEL_OK)
        return status;
    *result = (float)p.q;
    return PEL_OK;
}

pel_status pel_dnrm2(size_t n, const double *x, ptrdiff_t incx, double *result)
{
    reduction r;
    partial p;
    pel_status status;

    if ((status = setup(__func__, &r, 0, SUMSQ_SCALED, n, x, incx, NULL, 1, result)) != PEL_OK ||
        (status = reduce(__func__, &r, 2, &p)) != PEL_OK)
        return status;
    if (p.nonfinite)
        *result = sqrt(p.q);
    else
        *result = p.q == 0.0 ? 0.0 : ldexp(sqrt(p.q), p.e);
    return PEL_OK;
}

pel_status pel_snrm2(size_t n, const float *x, ptrdiff_t incx, float *result)
{
    reduction r;
    partial p;
    pel_status status;

    if ((status = setup(__func__, &r, 1, SUMSQ_PLAIN, n, x, incx, NULL, 1, result)) != PEL_OK ||
        (status = reduce(__func__, &r, 2, &p)) != PEL_OK)
        return status;
    *result = (float)sqrt(p.q);
    return PEL_OK;
}

pel_status pel_dasum(size_t n, const double *x, ptrdiff_t incx, double *result)
{
    reduction r;
    partial p;
    pel_status status;

    if ((status = setup(__func__, &r, 0, ASUM, n, x, incx, NULL, 1, result)) != PEL_OK ||
        (status = reduce(__func__, &r, 1, &p)) != PEL_OK)
        return status;
    *result = p.q;
    return PEL_OK;
}

pel_status pel_sasum(size_t n, const float *x, ptrdiff_t incx, float *result)
{
    reduction r;
    partial p;
    pel_status status;

    if ((status = setup(__func__, &r, 1, ASUM, n, x, incx, NULL, 1, result)) != PEL_OK ||
        (status = reduce(__func__, &r, 1, &p)) != PEL_OK)
        return status;
    *result = (float)p.q;
    return PEL_OK;
}
