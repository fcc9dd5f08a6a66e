/* FFT convolution of real arrays (scipy.signal.fftconvolve's modes): pad both
 * arrays to a 2,3,5,7-smooth shape covering the full result, transform them
 * in place with cached r2c plans, multiply the spectra, transform back and
 * copy out the part the mode asks for. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "core/error.h"
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
        if (a_dims[k] > (size_t)PTRDIFF_MAX / 2 || b_dims[k] > (size_t)PTRDIFF_MAX / 2)
            return pel__fail(PEL_ERROR_OVERFLOW, function, "dimension %d (%zu and %zu) is too large", k, a_dims[k],
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

/* Geometry shared by the copy loops: padded shape p (last dimension stored
 * with 2*(p/2+1) reals for the in-place r2c). */
typedef struct padded_grid {
    int rank;
    size_t dims[PEL_FFT_MAX_RANK];
    size_t row;   /* reals per stored row: 2*(dims[rank-1]/2+1) */
    size_t rows;  /* product of dims[0..rank-2] */
    size_t reals; /* rows * row */
} padded_grid;

/* Row r of a rank-d array of shape dims, as d-1 indices (row-major). */
static void row_indices(const padded_grid *g, const size_t *dims, size_t r, size_t *index)
{
    for (int k = g->rank - 2; k >= 0; k--) {
        index[k] = r % dims[k];
        r /= dims[k];
    }
}

/* Copies array x (shape dims) into the zeroed padded grid. */
static void scatter(const padded_grid *g, const size_t *dims, const double *x, double *grid, int nthreads)
{
    size_t rows = 1, last = dims[g->rank - 1];

    for (int k = 0; k < g->rank - 1; k++)
        rows *= dims[k];
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (size_t r = 0; r < rows; r++) {
        size_t index[PEL_FFT_MAX_RANK] = {0, 0, 0}, target = 0;
        row_indices(g, dims, r, index);
        for (int k = 0; k < g->rank - 1; k++)
            target = target * g->dims[k] + index[k];
        memcpy(grid + target * g->row, x + r * last, last * sizeof(double));
    }
}

/* Copies the window of shape out_dims starting at start from the grid. */
static void gather(const padded_grid *g, const size_t *out_dims, const size_t *start, const double *grid,
                   double *out, int nthreads)
{
    size_t rows = 1, last = out_dims[g->rank - 1];

    for (int k = 0; k < g->rank - 1; k++)
        rows *= out_dims[k];
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (size_t r = 0; r < rows; r++) {
        size_t index[PEL_FFT_MAX_RANK] = {0, 0, 0}, source = 0;
        row_indices(g, out_dims, r, index);
        for (int k = 0; k < g->rank - 1; k++)
            source = source * g->dims[k] + index[k] + start[k];
        memcpy(out + r * last, grid + source * g->row + start[g->rank - 1], last * sizeof(double));
    }
}

pel_status pel_fft_convolve(int rank, const size_t *a_dims, const double *a, const size_t *b_dims, const double *b,
                            pel_fft_convolve_mode mode, double *out)
{
    size_t out_dims[PEL_FFT_MAX_RANK], start[PEL_FFT_MAX_RANK], a_count = 1, b_count = 1, out_count = 1, bytes;
    padded_grid g;
    double *grid_a = NULL, *grid_b = NULL;
    pel_status status;
    int nthreads, ok = 1;

    status = convolve_shape(rank, a_dims, b_dims, mode, out_dims, __func__);
    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(a);
    PEL_CHECK_NOT_NULL(b);
    PEL_CHECK_NOT_NULL(out);

    memset(&g, 0, sizeof g);
    g.rank = rank;
    g.rows = 1;
    for (int k = 0; k < rank; k++) {
        size_t full = a_dims[k] + b_dims[k] - 1;
        ok = ok && pel__mul_size(a_count, a_dims[k], &a_count) && pel__mul_size(b_count, b_dims[k], &b_count) &&
             pel__mul_size(out_count, out_dims[k], &out_count);
        g.dims[k] = next_smooth(full);
        start[k] = (full - out_dims[k]) / 2; /* scipy's _centered; 0 for full */
        if (k < rank - 1)
            ok = ok && pel__mul_size(g.rows, g.dims[k], &g.rows);
    }
    g.row = 2 * (g.dims[rank - 1] / 2 + 1);
    ok = ok && pel__mul_size(g.rows, g.row, &g.reals) && pel__mul_size(g.reals, sizeof(double), &bytes) &&
         bytes <= (size_t)PTRDIFF_MAX && pel__mul_size(a_count, sizeof(double), &bytes) &&
         pel__mul_size(b_count, sizeof(double), &bytes) && pel__mul_size(out_count, sizeof(double), &bytes);
    if (!ok)
        return PEL_FAIL(PEL_ERROR_OVERFLOW, "the padded arrays would exceed PTRDIFF_MAX bytes");
    {
        uintptr_t o = (uintptr_t)out, oe = o + out_count * sizeof(double);
        uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
        if ((pa < oe && o < pa + a_count * sizeof(double)) || (pb < oe && o < pb + b_count * sizeof(double)))
            return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "out=%p overlaps a or b", (void *)out);
    }

    grid_a = pel_calloc(g.reals, sizeof(double));
    grid_b = pel_calloc(g.reals, sizeof(double));
    if (grid_a == NULL || grid_b == NULL) {
        pel_free(grid_a);
        pel_free(grid_b);
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "cannot allocate two padded arrays of %zu doubles", g.reals);
    }
    nthreads = pel_threads_for_work(g.reals);
    scatter(&g, a_dims, a, grid_a, nthreads);
    scatter(&g, b_dims, b, grid_b, nthreads);

    status = pel__fft_oneshot(PEL_FFT_R2C, PEL_FLOAT64, rank, g.dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD,
                              grid_a, grid_a, __func__);
    if (status == PEL_OK)
        status = pel__fft_oneshot(PEL_FFT_R2C, PEL_FLOAT64, rank, g.dims, 1, PEL_FFT_FORWARD,
                                  PEL_FFT_NORM_BACKWARD, grid_b, grid_b, __func__);
    if (status == PEL_OK) {
        size_t pairs = g.reals / 2;
        double *restrict x = grid_a;
        const double *restrict y = grid_b;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
        for (size_t i = 0; i < pairs; i++) {
            double re = x[2 * i] * y[2 * i] - x[2 * i + 1] * y[2 * i + 1];
            double im = x[2 * i] * y[2 * i + 1] + x[2 * i + 1] * y[2 * i];
            x[2 * i] = re;
            x[2 * i + 1] = im;
        }
        /* The backward norm scales by 1/N: the round trip's factor. */
        status = pel__fft_oneshot(PEL_FFT_C2R, PEL_FLOAT64, rank, g.dims, 1, PEL_FFT_BACKWARD,
                                  PEL_FFT_NORM_BACKWARD, grid_a, grid_a, __func__);
    }
    if (status == PEL_OK)
        gather(&g, out_dims, start, grid_a, out, nthreads);
    pel_free(grid_a);
    pel_free(grid_b);
    return status;
}
