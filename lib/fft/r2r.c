/* Real-to-real transforms (DCT and DST types I-IV) on FFTW's r2r planner.
 *
 * An r2r transform is a pel_fft_plan of kind PEL_FFT_R2R whose key carries
 * the per-dimension kinds packed in key.r2r_kinds, so it shares everything
 * else of the FFT layer: the one-shot plan cache (hits, LRU eviction,
 * statistics), the alignment and single-thread variants, the planner lock,
 * wisdom. plan.c calls the three hooks below for that kind; this file holds
 * the rest (validation, kinds, logical sizes, the public calls). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <fftw3.h>

#include "core/error.h"
#include "core/handle.h"
#include "fft/plan.h"

enum { KIND_BITS = 4, KIND_MASK = 0xf, KIND_COUNT = 8 };

/* pel_fft_r2r_kind -> FFTW's kind, in the enum's order. */
static const fftw_r2r_kind fftw_kinds[KIND_COUNT] = {FFTW_REDFT00, FFTW_REDFT10, FFTW_REDFT01, FFTW_REDFT11,
                                                     FFTW_RODFT00, FFTW_RODFT10, FFTW_RODFT01, FFTW_RODFT11};

static int kind_of(const pel__fft_key *key, int dimension)
{
    return (key->r2r_kinds >> (KIND_BITS * dimension)) & KIND_MASK;
}

size_t pel_fft_r2r_logical_size(pel_fft_r2r_kind kind, size_t n)
{
    if ((int)kind < 0 || (int)kind >= KIND_COUNT || n == 0 || n > SIZE_MAX / 2 - 1)
        return 0;
    if (kind == PEL_FFT_DCT1)
        return n < 2 ? 0 : 2 * (n - 1);
    if (kind == PEL_FFT_DST1)
        return 2 * (n + 1);
    return 2 * n;
}

void *pel__fft_r2r_planner(const pel__fft_key *key, const void *dims, int batch_rank, const void *batch, void *in,
                           void *out, unsigned flags)
{
    fftw_r2r_kind kinds[PEL_FFT_MAX_RANK];

    /* The DCT by FFT plans in place on its padded grid (in). */
    if (key->algorithm != PEL__FFT_ALGORITHM_FFTW)
        return pel__fft_dct_by_fft_planner(key, in, flags);
    for (int d = 0; d < key->rank; d++)
        kinds[d] = fftw_kinds[kind_of(key, d)];
    if (key->precision == PEL_FLOAT32)
        return fftwf_plan_guru64_r2r(key->rank, dims, batch_rank, batch, in, out, kinds, flags);
    return fftw_plan_guru64_r2r(key->rank, dims, batch_rank, batch, in, out, kinds, flags);
}

void pel__fft_r2r_execute(const pel__fft_key *key, void *fftw_plan_pointer, void *in, void *out)
{
    if (key->precision == PEL_FLOAT32)
        fftwf_execute_r2r(fftw_plan_pointer, in, out);
    else
        fftw_execute_r2r(fftw_plan_pointer, in, out);
}

double pel__fft_r2r_scale(const pel__fft_key *key)
{
    /* The product of logical sizes in floating point: it only scales, and
     * a size_t product could overflow where the double is still exact
     * enough (relative error 2^-53 per factor). */
    double logical = 1.0;

    for (int d = 0; d < key->rank; d++)
        logical *= (double)pel_fft_r2r_logical_size((pel_fft_r2r_kind)kind_of(key, d), key->dims[d]);
    if (key->norm == PEL_FFT_NORM_FORWARD)
        return 1.0 / logical;
    if (key->norm == PEL_FFT_NORM_ORTHO)
        return 1.0 / sqrt(logical);
    return 1.0;
}

/* Validates kinds against dims (rank and dims already checked by
 * pel__fft_key_init) and packs them into the key. */
static pel_status set_kinds(pel__fft_key *key, const pel_fft_r2r_kind *kinds, const char *function)
{
    int packed = 0;

    if (kinds == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "kinds must not be NULL");
    for (int d = 0; d < key->rank; d++) {
        if ((int)kinds[d] < 0 || (int)kinds[d] >= KIND_COUNT)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                             "kinds[%d]=%d is not a pel_fft_r2r_kind (PEL_FFT_DCT1..PEL_FFT_DST4)", d, (int)kinds[d]);
        if (kinds[d] == PEL_FFT_DCT1 && key->dims[d] < 2)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                             "kinds[%d]=PEL_FFT_DCT1 with dims[%d]=%zu: DCT-I needs at least 2 points", d, d,
                             key->dims[d]);
        packed |= (int)kinds[d] << (KIND_BITS * d);
    }
    key->r2r_kinds = packed;
    pel__fft_dct_by_fft_choose(key);
    return PEL_OK;
}

/* The key of an r2r transform: pel__fft_key_init's checks with the r2r
 * kind, then the kinds. Rank is checked before kinds is read. */
static pel_status r2r_key(pel__fft_key *key, const char *function, pel_precision precision, int rank,
                          const size_t *dims, size_t howmany, const pel_fft_r2r_kind *kinds, int in_place,
                          pel_fft_effort effort, double time_limit, int nthreads, pel_fft_norm norm, size_t *in_bytes,
                          size_t *out_bytes)
{
    pel_status status = pel__fft_key_init(key, function, PEL_FFT_R2R, precision, rank, dims, howmany, PEL_FFT_FORWARD,
                                          in_place, effort, time_limit, nthreads, norm, in_bytes, out_bytes);

    return status != PEL_OK ? status : set_kinds(key, kinds, function);
}

static pel_status r2r_oneshot(pel_precision precision, int rank, const size_t *dims, size_t howmany,
                              const pel_fft_r2r_kind *kinds, pel_fft_norm norm, const void *in, void *out,
                              const char *function)
{
    pel__fft_key key;
    pel_fft_plan *plan;
    size_t in_bytes, out_bytes;
    int variant;
    pel_status status = pel__fft_oneshot_key(&key, PEL_FFT_R2R, precision, rank, dims, howmany, PEL_FFT_FORWARD,
                                             norm, in == out, 0, &in_bytes, &out_bytes, function);

    if (status == PEL_OK)
        status = set_kinds(&key, kinds, function);
    if (status == PEL_OK)
        status = pel__fft_check_arrays(&key, in_bytes, out_bytes, in, out, function);
    if (status != PEL_OK)
        return status;
    variant = pel__fft_variant(&key, in, out);
    status = pel__fft_cache_acquire(&key, variant, function, &plan);
    if (status != PEL_OK)
        return status;
    status = pel__fft_plan_run_variant(plan, variant, in, out, function);
    pel__fft_oneshot_done(plan);
    return status;
}

pel_status pel_fft_r2r(int rank, const size_t *dims, size_t howmany, const pel_fft_r2r_kind *kinds, pel_fft_norm norm,
                       const double *in, double *out)
{
    return r2r_oneshot(PEL_FLOAT64, rank, dims, howmany, kinds, norm, in, out, __func__);
}

pel_status pel_fft_r2r_float(int rank, const size_t *dims, size_t howmany, const pel_fft_r2r_kind *kinds,
                             pel_fft_norm norm, const float *in, float *out)
{
    return r2r_oneshot(PEL_FLOAT32, rank, dims, howmany, kinds, norm, in, out, __func__);
}

pel_status pel_fft_r2r_plan_create(pel_precision precision, int rank, const size_t *dims, size_t howmany,
                                   const pel_fft_r2r_kind *kinds, int in_place, const pel_fft_options *options,
                                   pel_fft_plan **plan)
{
    static const pel_fft_options defaults = {PEL_FFT_ESTIMATE, 0.0, 0, PEL_FFT_NORM_BACKWARD};
    pel__fft_key key;
    pel_fft_plan *made;
    pel_status status;

    PEL_CHECK_NOT_NULL(plan);
    *plan = NULL;
    if (options == NULL)
        options = &defaults;
    if (options->effort == PEL_FFT_AUTO)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "%s", pel__fft_auto_refusal);
    status = r2r_key(&key, __func__, precision, rank, dims, howmany, kinds, in_place, options->effort,
                     options->time_limit, options->nthreads, options->norm, NULL, NULL);
    if (status != PEL_OK)
        return status;
    status = pel__fft_plan_new(&key, 0, __func__, &made);
    if (status != PEL_OK)
        return status;
    /* Registered like pel_fft_plan_create()'s plans, so that
     * pel_fft_execute() and pel_fft_plan_destroy() accept it. */
    status = pel__handle_register(&made->handle, PEL__HANDLE_FFT_PLAN, (int)key.precision, __func__);
    if (status != PEL_OK) {
        pel__fft_plan_release(made);
        return status;
    }
    *plan = made;
    return PEL_OK;
}
