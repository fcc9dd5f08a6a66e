/* Fuzz harness: FFT wisdom import (pel_fft_wisdom_import_string), whose text
 * may come from a file a user did not write.
 *
 * The input is the text (NUL-terminated here; an embedded NUL ends it, as it
 * would for a C caller). It is imported in each precision. Invariants:
 * nothing aborts (FFTW's own importer asserts on flags that do not fit its
 * bit-fields, so pel must refuse such text first); an error comes with a
 * message; accepted wisdom exports again and the export is accepted too; and
 * with the wisdom in place an ESTIMATE plan of a small size still computes
 * the right transform (naive DFT, 1e-12 relative: n = 8, |x| <= 1). */
#include "fuzz.h"

#include <complex.h>

static void check_small_transform(pel_precision precision)
{
    enum { N = 8 };
    const size_t dims[1] = {N};
    pel_fft_options options = {PEL_FFT_ESTIMATE, 0.0, 1, PEL_FFT_NORM_BACKWARD};
    pel_fft_plan *plan = NULL;
    double complex x[N], y[N];
    float complex xf[N], yf[N];
    int status;

    for (int j = 0; j < N; j++) {
        x[j] = (double)(j % 3) - 0.5 * I * (double)(j % 5) / 4.0;
        xf[j] = (float complex)x[j];
    }
    status = pel_fft_plan_create(PEL_FFT_C2C, precision, 1, dims, 1, PEL_FFT_FORWARD, 0, &options, &plan);
    fuzz_require(status == PEL_OK, "an ESTIMATE plan of n=8 fails after accepted wisdom: %s", pel_last_error());
    status = precision == PEL_FLOAT32 ? pel_fft_execute(plan, xf, yf) : pel_fft_execute(plan, x, y);
    fuzz_require(status == PEL_OK, "pel_fft_execute failed: %s", pel_last_error());
    for (int k = 0; k < N; k++) {
        double complex ref = 0;
        double got_re = precision == PEL_FLOAT32 ? crealf(yf[k]) : creal(y[k]);
        double got_im = precision == PEL_FLOAT32 ? cimagf(yf[k]) : cimag(y[k]);
        double tol = precision == PEL_FLOAT32 ? 1e-5 : 1e-12;
        for (int j = 0; j < N; j++)
            ref += x[j] * cexp(-2.0 * I * 3.14159265358979323846 * (double)(j * k) / N);
        fuzz_require(fabs(got_re - creal(ref)) <= tol * N && fabs(got_im - cimag(ref)) <= tol * N,
                     "after accepted wisdom, bin %d is wrong", k);
    }
    pel_fft_plan_destroy(plan);
}

static void import_one(const char *text, pel_precision precision)
{
    char *exported = NULL;
    int status;

    pel_fft_wisdom_forget();
    pel_fft_cache_clear();
    pel_clear_error();
    status = pel_fft_wisdom_import_string(precision, text);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_fft_wisdom_import_string");
        fuzz_require(status == PEL_ERROR_PARSE || status == PEL_ERROR_INVALID_ARGUMENT ||
                         status == PEL_ERROR_OUT_OF_MEMORY,
                     "unexpected status %d (%s)", status, pel_last_error());
    } else {
        status = pel_fft_wisdom_export_string(precision, &exported);
        fuzz_require(status == PEL_OK && exported != NULL, "accepted wisdom does not export: %s", pel_last_error());
        pel_fft_wisdom_forget();
        status = pel_fft_wisdom_import_string(precision, exported);
        fuzz_require(status == PEL_OK, "pel refuses its own export of accepted wisdom: %s", pel_last_error());
        pel_free(exported);
        check_small_transform(precision);
    }
    pel_fft_cache_clear();
    pel_fft_wisdom_forget();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    /* Wisdom is small; a megabyte of input tests nothing new and is slow. */
    if (size > (1u << 16))
        return 0;
    text = malloc(size + 1);
    fuzz_require(text != NULL, "out of memory in the harness");
    memcpy(text, data, size);
    text[size] = '\0';
    import_one(text, PEL_FLOAT64);
    import_one(text, PEL_FLOAT32);
    free(text);
    return 0;
}
