/* FFT convolution of real arrays (scipy.signal.fftconvolve's modes) by
 * overlap-save on tiles.
 *
 * The larger array (the image) is cut into tiles of T outputs per
 * dimension; each tile reads the T + K - 1 inputs it depends on (K: the
 * kernel's extent) into an F-point buffer (F >= T + K - 1, 2,3,5,7-smooth),
 * is transformed with an in-place r2c, multiplied by the kernel's spectrum
 * (computed once at size F), transformed back, and its last T outputs (the
 * ones the circular wrap does not touch) are exactly the linear convolution.
 * Only the tiles covering the window the mode asks for are computed.
 *
 * Why tiles: one FFT over the whole padded array (F = a + b - 1) costs
 * 3 transforms of the full size that stream through memory; tiles of about
 * 2^16 points stay in the 512 KiB L2 cache, need 2 transforms each (the
 * kernel spectrum is shared), and run in parallel on pel's threads with
 * single-threaded plans from the cache. When the kernel is as large as the
 * image, a single tile is the classic padded FFT convolution.
 *
 * Every FFTW plan of a convolution is single-threaded, whatever pel's thread
 * count: FFTW's threaded plans pick other algorithms for other thread counts
 * (the kernel spectrum planned on 3 or 7 threads changed 84% of a 1-D
 * convolution's outputs against 1 thread), and the tile layout depends only
 * on the shapes, so the result has the same bits for every thread count.
 * The price: a single-tile convolution runs its transforms on one thread. */
#include "config.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "fft/plan.h"

/* The smallest 2,3,5,7-smooth number >= n (FFTW's fast sizes), enumerating
 * 7^a 5^b 3^c and doubling each up to n: O(log^3 n), unlike a linear search
 * whose gaps grow with n. n <= PTRDIFF_MAX, so nothing here overflows. */
static size_t next_smooth(size_t n)
{
    size_t best = 1;

    while (best < n)
        best *= 2;
    for (size_t p7 = 1; p7 < best; p7 *= 7)
        for (size_t p5 = p7; p5 < best; p5 *= 5)
            for (size_t p3 = p5; p3 < best; p3 *= 3) {
                size_t p = p3;
                while (p < n)
                    p *= 2;
                if (p < best)
                    best = p;
            }
    return best;
}

static pel_status convolve_shape(int rank, const size_t *a_dims, const size_t *b_dims, pel_fft_convolve_mode mode,
                                 size_t *out_dims, const char *function)
{
    int a_covers = 1, b_covers = 1;

    if (rank < 1 || rank > PEL_FFT_MAX_RANK)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "rank=%d is not 1, 2 or 3", rank);
    if (a_dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "a_dims must not be NULL");
    if (b_dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "b_dims must not be NULL");
    if (mode != PEL_FFT_CONVOLVE_FULL && mode != PEL_FFT_CONVOLVE_SAME && mode != PEL_FFT_CONVOLVE_VALID)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "mode=%d is not PEL_FFT_CONVOLVE_FULL, PEL_FFT_CONVOLVE_SAME or PEL_FFT_CONVOLVE_VALID",
                         (int)mode);
    for (int k = 0; k < rank; k++) {
        if (a_dims[k] == 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "a_dims[%d]=0: every dimension must be at least 1",
                             k);
        if (b_dims[k] == 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "b_dims[%d]=0: every dimension must be at least 1",
                             k);
        if (a_dims[k] > (size_t)PTRDIFF_MAX / 2)
            return pel__fail(PEL_ERROR_OVERFLOW, function, "a_dims[%d]=%zu is too large (limit PTRDIFF_MAX/2)", k,
                             a_dims[k]);
        if (b_dims[k] > (size_t)PTRDIFF_MAX / 2)
            return pel__fail(PEL_ERROR_OVERFLOW, function, "b_dims[%d]=%zu is too large (limit PTRDIFF_MAX/2)", k,
                             b_dims[k]);
        a_covers = a_covers && a_dims[k] >= b_dims[k];
        b_covers = b_covers && b_dims[k] >= a_dims[k];
    }
    if (mode == PEL_FFT_CONVOLVE_VALID && !a_covers && !b_covers)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "mode=PEL_FFT_CONVOLVE_VALID needs one array at least as large as the other in every "
                         "dimension");
    if (out_dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "out_dims must not be NULL");
    for (int k = 0; k < rank; k++) {
        size_t big = a_dims[k] > b_dims[k] ? a_dims[k] : b_dims[k];
        size_t small = a_dims[k] > b_dims[k] ? b_dims[k] : a_dims[k];
        out_dims[k] = mode == PEL_FFT_CONVOLVE_FULL   ? a_dims[k] + b_dims[k] - 1
                      : mode == PEL_FFT_CONVOLVE_SAME ? a_dims[k]
                                                      : big - small + 1;
    }
    return PEL_OK;
}

pel_status pel_fft_convolve_shape(int rank, const size_t *a_dims, const size_t *b_dims, pel_fft_convolve_mode mode,
                                  size_t *out_dims)
{
    return convolve_shape(rank, a_dims, b_dims, mode, out_dims, __func__);
}


/* Tile points budget per dimension: F^rank about 2^16 (r2c in place of
 * 2^16 doubles = 512 KiB, the L2 of one core of the project machine). */
static const size_t tile_budget[PEL_FFT_MAX_RANK + 1] = {0, 65536, 256, 40};

typedef struct conv_job {
    int rank;                   /* of the FFTs */
    size_t image[3], kernel[3]; /* shapes, normalised to 3 dimensions (leading 1s) */
    const double *image_data, *kernel_data;
    size_t start[3], window[3]; /* the output window in full-convolution coordinates */
    size_t fft[3];              /* F: tile FFT shape */
    size_t step[3];             /* T: outputs per tile */
    size_t tiles[3];
    size_t row;   /* reals per stored row of a tile: 2*(F[2]/2+1) */
    size_t reals; /* reals of one tile buffer */
    double *spectrum;
    double *out;
    pel_fft_plan *kernel_forward;     /* r2c scaled by 1/N: the kernel's spectrum */
    pel_fft_plan *forward, *backward; /* tile r2c and c2r, single-threaded, from the cache */
    int variant;                      /* of every buffer: all come from pel_malloc */
} conv_job;

/* Copies the inputs of tile (t0, t1, t2) into buffer (zeroed first). */
static void load_tile(const conv_job *job, const size_t *t, double *buffer)
{
    ptrdiff_t origin[3];

    memset(buffer, 0, job->reals * sizeof *buffer);
    for (int k = 0; k < 3; k++)
        origin[k] = (ptrdiff_t)(job->start[k] + t[k] * job->step[k]) - (ptrdiff_t)(job->kernel[k] - 1);
    for (size_t i0 = 0; i0 < job->fft[0]; i0++) {
        ptrdiff_t r0 = origin[0] + (ptrdiff_t)i0;
        if (r0 < 0 || r0 >= (ptrdiff_t)job->image[0])
            continue;
        for (size_t i1 = 0; i1 < job->fft[1]; i1++) {
            ptrdiff_t r1 = origin[1] + (ptrdiff_t)i1, lo = origin[2] < 0 ? -origin[2] : 0;
            ptrdiff_t hi = (ptrdiff_t)job->image[2] - origin[2];
            if (r1 < 0 || r1 >= (ptrdiff_t)job->image[1])
                continue;
            if (hi > (ptrdiff_t)job->fft[2])
                hi = (ptrdiff_t)job->fft[2];
            if (hi > lo)
                memcpy(buffer + (i0 * job->fft[1] + i1) * job->row + lo,
                       job->image_data + ((size_t)r0 * job->image[1] + (size_t)r1) * job->image[2] + (origin[2] + lo),
                       (size_t)(hi - lo) * sizeof *buffer);
        }
    }
}

/* Writes the exact outputs of tile t (positions K-1 .. K-1+T-1 of each
 * dimension, clipped to the window) to out. */
static void store_tile(const conv_job *job, const size_t *t, const double *buffer)
{
    size_t first[3], count[3];

    for (int k = 0; k < 3; k++) {
        first[k] = t[k] * job->step[k];
        count[k] = job->window[k] - first[k] < job->step[k] ? job->window[k] - first[k] : job->step[k];
    }
    for (size_t i0 = 0; i0 < count[0]; i0++)
        for (size_t i1 = 0; i1 < count[1]; i1++)
            memcpy(job->out + ((first[0] + i0) * job->window[1] + first[1] + i1) * job->window[2] + first[2],
                   buffer + ((job->kernel[0] - 1 + i0) * job->fft[1] + job->kernel[1] - 1 + i1) * job->row +
                       job->kernel[2] - 1,
                   count[2] * sizeof *buffer);
}

/* spectrum := spectrum * kernel spectrum, complex pairs. */
static void multiply(double *restrict x, const double *restrict y, size_t pairs, int nthreads)
{
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (size_t i = 0; i < pairs; i++) {
        double re = x[2 * i] * y[2 * i] - x[2 * i + 1] * y[2 * i + 1];
        double im = x[2 * i] * y[2 * i + 1] + x[2 * i + 1] * y[2 * i];
        x[2 * i] = re;
        x[2 * i + 1] = im;
    }
}

/* The FFT shape of the job's transforms: the last `rank` tile dimensions. */
static const size_t *fft_dims(const conv_job *job)
{
    return job->fft + (3 - job->rank);
}

/* One tile: load, r2c, multiply, c2r (unnormalised: 1/N is in the kernel
 * spectrum), store. The plans were acquired (and their FFTW plans made)
 * before the first tile, so nothing here can fail and `out` is written only
 * once the whole call is sure to succeed. */
static void run_tile(const conv_job *job, size_t index, double *buffer, int nthreads)
{
    size_t t[3];

    t[2] = index % job->tiles[2];
    t[1] = index / job->tiles[2] % job->tiles[1];
    t[0] = index / (job->tiles[2] * job->tiles[1]);
    load_tile(job, t, buffer);
    (void)pel__fft_plan_run_prechecked(job->forward, job->variant, buffer, buffer, "pel_fft_convolve");
    multiply(buffer, job->spectrum, job->reals / 2, nthreads);
    (void)pel__fft_plan_run_prechecked(job->backward, job->variant, buffer, buffer, "pel_fft_convolve");
    store_tile(job, t, buffer);
}

/* Takes a single-threaded, in-place cached plan of the tile shape. One
 * thread whatever pel's thread count: FFTW's threaded plans choose other
 * algorithms (other bits) for other thread counts (3 and 7 threads against
 * 1 changed 84% of a 1-D convolution's outputs), so the parallelism of a
 * convolution is across tiles only and its bits never depend on the
 * thread count. */
static pel_status tile_plan(const conv_job *job, pel_fft_kind kind, pel_fft_direction direction,
                            pel_fft_norm norm, const double *buffer, pel_fft_plan **plan, int *variant)
{
    pel__fft_key key;
    pel_status status;

    status = pel__fft_oneshot_key(&key, kind, PEL_FLOAT64, job->rank, fft_dims(job), 1, direction, norm, 1, 1,
                                  NULL, NULL, "pel_fft_convolve");
    if (status != PEL_OK)
        return status;
    /* The bits must not depend on the thread count, nor change between
     * calls: an upgradable plan would give one call's tiles another
     * algorithm than a later call's, so PEL_FFT_AUTO plans as ESTIMATE. */
    if (key.effort == PEL_FFT_AUTO)
        key.effort = PEL_FFT_ESTIMATE;
    *variant = pel__fft_variant(&key, buffer, buffer);
    return pel__fft_cache_acquire(&key, *variant, "pel_fft_convolve", plan);
}

/* Allocates the spectrum and one tile buffer per thread, then takes the
 * three plans (making their FFTW plans). On failure the caller releases
 * what was taken. */
static pel_status acquire_resources(conv_job *job, int nthreads, double **buffers)
{
    const char *function = "pel_fft_convolve";
    pel_status status;
    int variant;

    job->spectrum = pel_malloc(job->reals * sizeof(double));
    if (job->spectrum == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate %zu doubles for the kernel spectrum",
                         job->reals);
    for (int i = 0; i < nthreads; i++) {
        buffers[i] = pel_malloc(job->reals * sizeof(double));
        if (buffers[i] == NULL)
            return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate %zu doubles for tile buffer %d",
                             job->reals, i);
    }
    status = tile_plan(job, PEL_FFT_R2C, PEL_FFT_FORWARD, PEL_FFT_NORM_FORWARD, job->spectrum, &job->kernel_forward,
                       &job->variant);
    if (status == PEL_OK)
        status = tile_plan(job, PEL_FFT_R2C, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, buffers[0], &job->forward,
                           &variant);
    if (status == PEL_OK)
        status = tile_plan(job, PEL_FFT_C2R, PEL_FFT_BACKWARD, PEL_FFT_NORM_FORWARD, buffers[0], &job->backward,
                           &variant);
    /* pel_malloc aligns every buffer alike, so one variant serves them all.
     * FFTW's own allocations while the tiles run: nthreads tiles at once. */
    if (status == PEL_OK) {
        size_t each = pel__fft_plan_headroom(job->forward, job->variant), total;
        size_t other = pel__fft_plan_headroom(job->backward, job->variant);
        if (other > each)
            each = other;
        if (!pel__mul_size(each, (size_t)nthreads, &total))
            total = SIZE_MAX;
        status = pel__fft_check_headroom(total, "execute", function);
    }
    return status;
}

static void release_resources(conv_job *job, int nthreads, double **buffers)
{
    pel__fft_plan_release(job->kernel_forward);
    pel__fft_plan_release(job->forward);
    pel__fft_plan_release(job->backward);
    for (int i = 0; i < nthreads; i++)
        pel_free(buffers[i]);
    pel_free(job->spectrum);
}

/* "[n0,n1,n2]" into text (room for three 20-digit numbers). */
static const char *shape_text(int rank, const size_t *dims, char *text)
{
    int used = snprintf(text, 72, "[");
    for (int k = 0; k < rank && used < 72; k++)
        used += snprintf(text + used, 72 - (size_t)used, "%s%zu", k ? "," : "", dims[k]);
    if (used < 72)
        snprintf(text + used, 72 - (size_t)used, "]");
    return text;
}

/* Picks F and T per dimension (see the file comment). */
static void choose_tiles(conv_job *job)
{
    for (int k = 0; k < 3; k++) {
        size_t need = job->window[k] + job->kernel[k] - 1, fft;
        size_t budget = k < 3 - job->rank ? 1 : tile_budget[job->rank];
        fft = next_smooth(budget > 4 * (job->kernel[k] - 1) ? budget : 4 * (job->kernel[k] - 1));
        if (fft >= need) {
            job->fft[k] = next_smooth(need);
            job->step[k] = job->window[k];
        } else {
            job->fft[k] = fft;
            job->step[k] = fft - job->kernel[k] + 1;
        }
        job->tiles[k] = (job->window[k] + job->step[k] - 1) / job->step[k];
    }
    job->row = 2 * (job->fft[2] / 2 + 1);
}

pel_status pel_fft_convolve(int rank, const size_t *a_dims, const double *a, const size_t *b_dims, const double *b,
                            pel_fft_convolve_mode mode, double *out)
{
    size_t out_dims[PEL_FFT_MAX_RANK], a_count = 1, b_count = 1, out_count = 1, bytes, ntiles;
    conv_job job;
    pel_status status = PEL_OK;
    int ok = 1, nthreads, a_is_image;
    char a_text[72], b_text[72];
    double **buffers;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    status = convolve_shape(rank, a_dims, b_dims, mode, out_dims, __func__);
    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(a);
    PEL_CHECK_NOT_NULL(b);
    PEL_CHECK_NOT_NULL(out);
    for (int k = 0; k < rank; k++)
        ok = ok && pel__mul_size(a_count, a_dims[k], &a_count) && pel__mul_size(b_count, b_dims[k], &b_count) &&
             pel__mul_size(out_count, out_dims[k], &out_count);
    ok = ok && pel__mul_size(a_count, sizeof(double), &bytes) && bytes <= (size_t)PTRDIFF_MAX &&
         pel__mul_size(b_count, sizeof(double), &bytes) && bytes <= (size_t)PTRDIFF_MAX &&
         pel__mul_size(out_count, sizeof(double), &bytes) && bytes <= (size_t)PTRDIFF_MAX;
    if (!ok)
        return PEL_FAIL(PEL_ERROR_OVERFLOW, "a_dims=%s and b_dims=%s: a, b or out would exceed PTRDIFF_MAX bytes",
                        shape_text(rank, a_dims, a_text), shape_text(rank, b_dims, b_text));
    {
        uintptr_t o = (uintptr_t)out, oe = o + out_count * sizeof(double);
        uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
        if (pa < oe && o < pa + a_count * sizeof(double))
            return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "out=%p overlaps a=%p", (void *)out, (const void *)a);
        if (pb < oe && o < pb + b_count * sizeof(double))
            return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "out=%p overlaps b=%p", (void *)out, (const void *)b);
    }

    /* Convolution commutes: tile the larger array, transform the smaller. */
    memset(&job, 0, sizeof job);
    a_is_image = a_count >= b_count;
    job.rank = rank;
    job.image_data = a_is_image ? a : b;
    job.kernel_data = a_is_image ? b : a;
    job.out = out;
    for (int k = 0; k < 3; k++) {
        int d = k - (3 - rank);
        size_t full;
        job.image[k] = d < 0 ? 1 : a_is_image ? a_dims[d] : b_dims[d];
        job.kernel[k] = d < 0 ? 1 : a_is_image ? b_dims[d] : a_dims[d];
        job.window[k] = d < 0 ? 1 : out_dims[d];
        full = job.image[k] + job.kernel[k] - 1;
        job.start[k] = (full - job.window[k]) / 2; /* scipy's _centered; 0 for full */
    }
    choose_tiles(&job);
    ok = pel__mul_size(job.fft[0], job.fft[1], &job.reals) && pel__mul_size(job.reals, job.row, &job.reals) &&
         pel__mul_size(job.reals, sizeof(double), &bytes) && bytes <= (size_t)PTRDIFF_MAX;
    if (!ok)
        return PEL_FAIL(PEL_ERROR_OVERFLOW, "a_dims=%s and b_dims=%s: the padded tiles would exceed PTRDIFF_MAX bytes",
                        shape_text(rank, a_dims, a_text), shape_text(rank, b_dims, b_text));
    ntiles = job.tiles[0] * job.tiles[1] * job.tiles[2];
    nthreads = pel_threads_for_work(pel__mul_size(ntiles, job.reals * 16, &bytes) ? bytes : SIZE_MAX);
    if ((size_t)nthreads > ntiles)
        nthreads = (int)ntiles;
    nthreads = pel__team_take(&team, nthreads);

    /* Everything that can fail comes first (buffers, then the three plans);
     * out is written only after, by tiles that cannot fail. */
    buffers = calloc((size_t)nthreads, sizeof *buffers);
    if (buffers == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "cannot allocate %d buffer pointers", nthreads);
    status = acquire_resources(&job, nthreads, buffers);
    if (status != PEL_OK) {
        release_resources(&job, nthreads, buffers);
        free(buffers);
        return status;
    }

    /* The kernel's spectrum at the tile size, with the 1/N of the round
     * trip folded in. */
    memset(job.spectrum, 0, job.reals * sizeof(double));
    for (size_t i0 = 0; i0 < job.kernel[0]; i0++)
        for (size_t i1 = 0; i1 < job.kernel[1]; i1++)
            memcpy(job.spectrum + (i0 * job.fft[1] + i1) * job.row,
                   job.kernel_data + (i0 * job.kernel[1] + i1) * job.kernel[2], job.kernel[2] * sizeof(double));
    (void)pel__fft_plan_run_prechecked(job.kernel_forward, job.variant, job.spectrum, job.spectrum, __func__);

    if (nthreads == 1) {
        for (size_t t = 0; t < ntiles; t++)
            run_tile(&job, t, buffers[0], pel__team_take(&team, pel_threads_for_work(job.reals)));
    } else {
        /* Tiles in parallel, each thread with its own buffer, all running
         * the same single-threaded plans concurrently. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
        for (size_t t = 0; t < ntiles; t++)
            run_tile(&job, t, buffers[omp_get_thread_num()], 1);
    }
    release_resources(&job, nthreads, buffers);
    free(buffers);
    return PEL_OK;
}
