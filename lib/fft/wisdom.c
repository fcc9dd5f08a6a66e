/* FFTW wisdom through pel: every call under the planner lock, because the
 * wisdom is the planner's own state. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/error.h"
#include "fft/plan.h"

static pel_status check_precision(pel_precision precision, const char *function)
{
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "precision=%d is not PEL_FLOAT64 or PEL_FLOAT32",
                         (int)precision);
    return PEL_OK;
}

pel_status pel_fft_wisdom_export_file(pel_precision precision, const char *path)
{
    FILE *file;
    int failed;
    pel_status status = check_precision(precision, __func__);

    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(path);
    file = fopen(path, "w");
    if (file == NULL)
        return PEL_FAIL(PEL_ERROR_IO, "cannot open '%s' for writing: %s", path, strerror(errno));
    pel__fft_planner_lock();
    if (precision == PEL_FLOAT32)
        fftwf_export_wisdom_to_file(file);
    else
        fftw_export_wisdom_to_file(file);
    pel__fft_planner_unlock();
    failed = ferror(file);
    if (fclose(file) != 0 || failed)
        return PEL_FAIL(PEL_ERROR_IO, "cannot write '%s'", path);
    return PEL_OK;
}

pel_status pel_fft_wisdom_import_file(pel_precision precision, const char *path)
{
    FILE *file;
    int ok;
    pel_status status = check_precision(precision, __func__);

    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(path);
    file = fopen(path, "r");
    if (file == NULL)
        return PEL_FAIL(PEL_ERROR_IO, "cannot open '%s': %s", path, strerror(errno));
    pel__fft_planner_lock();
    ok = precision == PEL_FLOAT32 ? fftwf_import_wisdom_from_file(file) : fftw_import_wisdom_from_file(file);
    pel__fft_planner_unlock();
    fclose(file);
    if (!ok)
        return PEL_FAIL(PEL_ERROR_PARSE, "'%s' is not FFTW %s-precision wisdom", path,
                        precision == PEL_FLOAT32 ? "single" : "double");
    return PEL_OK;
}

pel_status pel_fft_wisdom_export_string(pel_precision precision, char **text)
{
    char *fftw_text, *copy;
    size_t length;
    pel_status status = check_precision(precision, __func__);

    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(text);
    pel__fft_planner_lock();
    fftw_text = precision == PEL_FLOAT32 ? fftwf_export_wisdom_to_string() : fftw_export_wisdom_to_string();
    pel__fft_planner_unlock();
    if (fftw_text == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "FFTW could not allocate the wisdom string");
    /* Copied so that the caller frees it with pel_free() like any other
     * pel allocation, whatever allocator FFTW used. */
    length = strlen(fftw_text);
    copy = pel_malloc(length + 1);
    if (copy != NULL)
        memcpy(copy, fftw_text, length + 1);
    free(fftw_text);
    if (copy == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the wisdom string", length + 1);
    *text = copy;
    return PEL_OK;
}

pel_status pel_fft_wisdom_import_string(pel_precision precision, const char *text)
{
    int ok;
    pel_status status = check_precision(precision, __func__);

    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(text);
    pel__fft_planner_lock();
    ok = precision == PEL_FLOAT32 ? fftwf_import_wisdom_from_string(text) : fftw_import_wisdom_from_string(text);
    pel__fft_planner_unlock();
    if (!ok)
        return PEL_FAIL(PEL_ERROR_PARSE, "the text is not FFTW %s-precision wisdom",
                        precision == PEL_FLOAT32 ? "single" : "double");
    return PEL_OK;
}

void pel_fft_wisdom_forget(void)
{
    pel__fft_planner_lock();
    fftw_forget_wisdom();
    fftwf_forget_wisdom();
    pel__fft_planner_unlock();
}
