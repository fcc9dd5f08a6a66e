/* Aligned allocation, huge-page advice and the wall-clock timer. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/error.h"
#include "core/threads.h"

enum {
    PEL_ALIGNMENT = 64,
    PEL_HUGE_PAGE = 2 * 1024 * 1024,
    PEL_HUGE_THRESHOLD = 4 * 1024 * 1024
};

/* Allocates without touching the pages; the callers decide who touches first. */
static void *allocate(size_t bytes, const char *function)
{
    size_t alignment = bytes >= PEL_HUGE_THRESHOLD ? PEL_HUGE_PAGE : PEL_ALIGNMENT;
    size_t rounded;
    void *ptr = NULL;

    if (bytes == 0)
        bytes = 1;
    /* Round up to whole alignment units so madvise covers only our pages. */
    if (!pel__add_size(bytes, alignment - 1, &rounded))
        return pel__fail(PEL_ERROR_OVERFLOW, function, "bytes=%zu is too large", bytes), NULL;
    rounded &= ~(alignment - 1);
    if (posix_memalign(&ptr, alignment, rounded) != 0) {
        pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate %zu bytes", bytes);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    if (alignment == PEL_HUGE_PAGE)
        (void)madvise(ptr, rounded, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
    return ptr;
}

void *pel_malloc(size_t bytes)
{
    return allocate(bytes, __func__);
}

void *pel_calloc(size_t count, size_t size)
{
    size_t bytes;
    unsigned char *ptr;
    int nthreads;
    PEL__TEAM_SCOPE(team);

    if (!pel__mul_size(count, size, &bytes)) {
        PEL_FAIL(PEL_ERROR_OVERFLOW, "count=%zu times size=%zu overflows", count, size);
        return NULL;
    }
    ptr = allocate(bytes, __func__);
    if (ptr == NULL)
        return NULL;
    nthreads = pel__team_take(&team, pel_threads_for_work(bytes / 8));
    /* Static schedule: page i is first touched by the thread that owns it in
     * a static-schedule loop over the same array. */
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (size_t i = 0; i < bytes; i += 4096) {
        size_t len = bytes - i < 4096 ? bytes - i : 4096;
        memset(ptr + i, 0, len);
    }
    return ptr;
}

void pel_free(void *ptr)
{
    free(ptr);
}

double pel_wtime(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}
