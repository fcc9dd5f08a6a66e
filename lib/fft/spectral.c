/* Spectral Poisson / Helmholtz solves on periodic grids: the symbol
 * division (shared with libpel_mpi's distributed solver) and the serial
 * solver pel_fft_helmholtz() on pel's one-shot FFTs. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "fft/plan.h"
#include "fft/spectral.h"

pel_status pel__spectral_check(int ndim, const double *lengths, pel_spectral_symbol symbol, double shift,
                               const char *function)
{
    if (lengths == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "lengths must not be NULL");
    for (int a = 0; a < ndim; a++)
        if (!isfinite(lengths[a]) || lengths[a] <= 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "lengths[%d]=%g is not finite and > 0", a,
                             lengths[a]);
    if (symbol != PEL_SPECTRAL_EXACT && symbol != PEL_SPECTRAL_FD2)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "symbol=%d is not PEL_SPECTRAL_EXACT or PEL_SPECTRAL_FD2", (int)symbol);
    if (!isfinite(shift) || shift < 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "shift=%g is not finite and >= 0", shift);
    return PEL_OK;
}

size_t pel__spectral_work_doubles(int ndim, const size_t *ext)
{
    size_t total = 0;
    for (int i = 0; i < ndim; i++)
        total += ext[i];
    return total ? total : 1;
}

/* The eigenvalue of -d^2/dx^2 along one axis of n points over length L at
 * frequency index m (0 <= m < n). */
static double axis_symbol(pel_spectral_symbol symbol, size_t m, size_t n, double L)
{
    const double pi = 3.14159265358979323846;
    if (symbol == PEL_SPECTRAL_FD2) {
        double h = L / (double)n, s = sin(pi * (double)m / (double)n);
        return 4.0 * s * s / (h * h);
    }
    double k = 2.0 * pi * (double)(m <= n / 2 ? (double)m : (double)m - (double)n) / L;
    return k * k;
}

void pel__spectral_divide(pel_precision precision, int ndim, const size_t *ext, const int *axis,
                          const size_t *start, const size_t *dims, const double *lengths,
                          pel_spectral_symbol symbol, double shift, double scale, void *data, double *work)
{
    const double *table[3] = {NULL, NULL, NULL};
    size_t e[3] = {1, 1, 1}, rows, inner;
    double zero_row = 0.0;
    int threads;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    for (int i = 0, off = 0; i < ndim; i++) {
        double *t = work + off;
        for (size_t j = 0; j < ext[i]; j++)
            t[j] = axis_symbol(symbol, start[i] + j, dims[axis[i]], lengths[axis[i]]);
        table[3 - ndim + i] = t;
        e[3 - ndim + i] = ext[i];
        off += (int)ext[i];
    }
    for (int i = 0; i < 3 - ndim; i++)
        table[i] = &zero_row;
    rows = e[0] * e[1];
    inner = e[2];
    if (rows == 0 || inner == 0)
        return;
    threads = pel__team_take(&team, pel_threads_for_work(rows * inner));
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (size_t r = 0; r < rows; r++) {
        size_t i0 = r / e[1], i1 = r % e[1];
        double base = shift + table[0][i0] + table[1][i1];
        if (precision == PEL_FLOAT32) {
            float *row = (float *)data + 2 * r * inner;
            for (size_t k = 0; k < inner; k++) {
                double d = base + table[2][k];
                float f = d == 0.0 ? 0.0f : (float)(scale / d);
                row[2 * k] *= f;
                row[2 * k + 1] *= f;
            }
        } else {
            double *row = (double *)data + 2 * r * inner;
            for (size_t k = 0; k < inner; k++) {
                double d = base + table[2][k];
                double f = d == 0.0 ? 0.0 : scale / d;
                row[2 * k] *= f;
                row[2 * k + 1] *= f;
            }
        }
    }
}

pel_status pel_fft_helmholtz(pel_precision precision, int ndim, const size_t *dims, const double *lengths,
                             pel_spectral_symbol symbol, double shift, const void *f, void *u)
{
    const char *fn = "pel_fft_helmholtz";
    size_t ext[3], total = 1, half_total = 1, scalar, bytes;
    int axis[3] = {0, 1, 2};
    size_t start[3] = {0, 0, 0};
    double *work;
    void *spectrum;
    pel_status status;

    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "precision=%d is neither PEL_FLOAT64 nor PEL_FLOAT32",
                         (int)precision);
    if (ndim < 1 || ndim > 3)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "ndim=%d is not 1, 2 or 3", ndim);
    if (dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "dims must not be NULL");
    if (f == NULL || u == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "%s must not be NULL", f == NULL ? "f" : "u");
    status = pel__spectral_check(ndim, lengths, symbol, shift, fn);
    if (status != PEL_OK)
        return status;
    for (int a = 0; a < ndim; a++) {
        if (dims[a] == 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "dims[%d]=0: every axis needs at least one point", a);
        ext[a] = a == ndim - 1 ? dims[a] / 2 + 1 : dims[a];
        if (!pel__mul_size(total, dims[a], &total) || !pel__mul_size(half_total, ext[a], &half_total))
            return pel__fail(PEL_ERROR_OVERFLOW, fn, "the grid's size overflows at dims[%d]=%zu", a, dims[a]);
    }
    scalar = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    if (!pel__mul_size(half_total, 2 * scalar, &bytes))
        return pel__fail(PEL_ERROR_OVERFLOW, fn, "the spectrum's size overflows");
    spectrum = pel_malloc(bytes);
    work = pel_malloc(pel__spectral_work_doubles(ndim, ext) * sizeof(double));
    if (spectrum == NULL || work == NULL) {
        pel_free(spectrum);
        pel_free(work);
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate the %zu-byte spectrum", bytes);
    }
    /* Neither transform normalises: the 1/N rides on the division, so the
     * solve makes one pass over the spectrum between the two FFTs. u is
     * written by the last step only, so it is untouched on any error. */
    status = pel__fft_oneshot(PEL_FFT_R2C, precision, ndim, dims, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, f,
                              spectrum, fn);
    if (status == PEL_OK) {
        pel__spectral_divide(precision, ndim, ext, axis, start, dims, lengths, symbol, shift, 1.0 / (double)total,
                             spectrum, work);
        status = pel__fft_oneshot(PEL_FFT_C2R, precision, ndim, dims, 1, PEL_FFT_BACKWARD, PEL_FFT_NORM_FORWARD,
                                  spectrum, u, fn);
    }
    pel_free(spectrum);
    pel_free(work);
    return status;
}
