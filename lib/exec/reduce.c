/* Reductions whose bits do not depend on the thread count: the blocks and
 * the order in which partials are combined are fixed by the problem size. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "exec/exec.h"

enum { PEL_STACK_PARTIALS = 4096, PEL_MAX_ELEM_SIZE = 4096 };

typedef struct reduction {
    const char *function; /* the public function, for messages */
    size_t n, block, elem_size;
    const void *identity;
    pel_reduce_map_fn map;
    void *arg;
    unsigned char *partials;
} reduction;

static int map_blocks(size_t first_block, size_t last_block, void *context)
{
    reduction *r = context;

    for (size_t b = first_block; b < last_block; b++) {
        unsigned char *partial = r->partials + b * r->elem_size;
        size_t begin = b * r->block;
        size_t end = r->n - begin < r->block ? r->n : begin + r->block;
        unsigned long sequence = pel__error_sequence();
        int status;

        memcpy(partial, r->identity, r->elem_size);
        status = r->map(begin, end, partial, r->arg);
        if (status != 0) {
            /* Name the elements, not the block number, when map left no message. */
            if (pel__error_sequence() == sequence)
                pel__fail(status, r->function, "map returned %d for elements [%zu, %zu)", status, begin, end);
            return status;
        }
    }
    return 0;
}

/* Combines partials[0..count) in a fixed pairwise tree, result in partials[0]. */
static void combine_tree(unsigned char *partials, size_t count, size_t elem_size, pel_reduce_combine_fn combine,
                         void *arg)
{
    for (size_t width = 1; width < count; width *= 2)
        for (size_t i = 0; i + width < count; i += 2 * width)
            combine(partials + i * elem_size, partials + (i + width) * elem_size, arg);
}

/* function: the public function the user called, named in every message. */
static int reduce(const char *function, int nthreads, size_t n, size_t block, size_t elem_size, const void *identity,
                  pel_reduce_map_fn map, pel_reduce_combine_fn combine, void *arg, void *result)
{
    unsigned char stack[PEL_STACK_PARTIALS] __attribute__((aligned(64)));
    size_t nblocks = n == 0 ? 0 : (n - 1) / block + 1;
    size_t bytes;
    reduction r = {function, n, block, elem_size, identity, map, arg, stack};
    int status;

    if (nblocks == 0) {
        memcpy(result, identity, elem_size);
        return PEL_OK;
    }
    if (!pel__mul_size(nblocks, elem_size, &bytes))
        return pel__fail(PEL_ERROR_OVERFLOW, function, "n=%zu in %zu blocks of elem_size=%zu bytes overflows", n,
                         nblocks, elem_size);
    if (bytes > sizeof stack) {
        r.partials = pel_malloc(bytes);
        if (r.partials == NULL)
            return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate %zu bytes of partials for n=%zu", bytes,
                             n);
    }
    status = pel__parallel_for_named(function, "map", nthreads, 0, nblocks, PEL_SCHEDULE_STATIC, 0, map_blocks, &r);
    if (status == 0) {
        combine_tree(r.partials, nblocks, elem_size, combine, arg);
        memcpy(result, r.partials, elem_size);
    }
    if (r.partials != stack)
        pel_free(r.partials);
    return status;
}

int pel_parallel_reduce(size_t n, size_t block, size_t elem_size, const void *identity, pel_reduce_map_fn map,
                        pel_reduce_combine_fn combine, void *arg, void *result)
{
    size_t nblocks;
    int nthreads;

    PEL_CHECK_NOT_NULL(map);
    PEL_CHECK_NOT_NULL(combine);
    PEL_CHECK_NOT_NULL(identity);
    PEL_CHECK_NOT_NULL(result);
    if (elem_size == 0 || elem_size > PEL_MAX_ELEM_SIZE)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "elem_size=%zu is not in 1..%d", elem_size, PEL_MAX_ELEM_SIZE);
    if (block == 0)
        block = PEL_REDUCE_BLOCK;
    nblocks = n == 0 ? 0 : (n - 1) / block + 1;
    nthreads = pel_get_num_threads();
    if ((size_t)nthreads > nblocks)
        nthreads = nblocks == 0 ? 1 : (int)nblocks;
    return reduce(__func__, nthreads, n, block, elem_size, identity, map, combine, arg, result);
}

/* ------------------------------------------------------------ sum of doubles */

typedef struct sum_input {
    const double *x;
    ptrdiff_t stride;
} sum_input;

/* Sums one block in a fixed order: 8 interleaved partial sums (lane j takes
 * the elements with index = j mod 8 inside the block), then a fixed tree. */
static int sum_block(size_t begin, size_t end, void *partial, void *context)
{
    const sum_input *in = context;
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t count = end - begin, i = 0;

    if (in->stride == 1) {
        const double *x = in->x + begin;
        for (; i + 8 <= count; i += 8)
            for (int j = 0; j < 8; j++)
                lane[j] += x[i + (size_t)j];
    } else {
        const double *x = in->x + (ptrdiff_t)begin * in->stride;
        for (; i + 8 <= count; i += 8)
            for (int j = 0; j < 8; j++)
                lane[j] += x[(ptrdiff_t)(i + (size_t)j) * in->stride];
    }
    for (int j = 0; i < count; i++, j++)
        lane[j] += in->x[(ptrdiff_t)(begin + i) * in->stride];
    *(double *)partial = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    return 0;
}

static void add_doubles(void *left, const void *right, void *arg)
{
    *(double *)left += *(const double *)right;
}

pel_status pel_reduce_sum(const double *x, size_t n, ptrdiff_t stride, double *result)
{
    const double zero = 0.0;
    sum_input in = {x, stride};
    size_t work;

    PEL_CHECK_NOT_NULL(result);
    if (n > 0 && x == NULL)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "x must not be NULL when n=%zu", n);
    if (stride < 1)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "stride=%td must be at least 1", stride);
    if (n > 0 && (size_t)stride > (SIZE_MAX / sizeof(double)) / n)
        return PEL_FAIL(PEL_ERROR_OVERFLOW, "n=%zu elements at stride=%td overflow the address space", n, stride);
    work = n;
    return (pel_status)reduce(__func__, pel_threads_for_work(work), n, PEL_REDUCE_BLOCK, sizeof(double), &zero, sum_block,
                              add_doubles, &in, result);
}
