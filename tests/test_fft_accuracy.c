/* Accuracy of pel's FFTs against a direct DFT in long double, for every
 * kind, rank and precision, with the bounds:
 *   relative rms error <= 2 eps sqrt(log2 n), relative max error <= 4 eps log2 n
 * (n = points of one transform, log2 taken of max(n, 2) so that n = 1 keeps
 * a nonzero bound), and pel's error at most 1.5x raw FFTW's on the same
 * input (raw FFTW measures 0.3-1.6 eps rms here).
 *
 * Sizes: every n from 1 to 512 (primes, odd and smooth sizes included), and
 * rank 2 and 3 shapes of up to 512 points. */
#include "pel_test.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "fft/plan.h"
#include "test_fft_common.h"

static const size_t shapes2[][2] = {{1, 1}, {2, 3}, {1, 7}, {7, 1}, {4, 4}, {5, 7}, {3, 17}, {8, 8},
                                    {12, 10}, {9, 25}, {16, 32}, {31, 16}, {2, 256}, {22, 23}};
static const size_t shapes3[][3] = {{1, 1, 1}, {2, 3, 4}, {3, 1, 9}, {5, 6, 7}, {4, 4, 31},
                                    {7, 7, 7}, {8, 8, 8}, {2, 16, 15}, {9, 2, 5}};

/* Worst ratios seen, printed at the end for docs/fft.md. */
static double worst_rms[2], worst_max[2], worst_vs_fftw[2];

typedef struct accuracy_case {
    pel_fft_kind kind;
    pel_precision precision;
    int rank;
    size_t dims[3];
    pel_fft_direction direction;
} accuracy_case;

/* Runs raw FFTW on a private copy of the input (its c2r destroys it). */
static void raw_fftw(const accuracy_case *c, const void *in, size_t in_bytes, void *out)
{
    int n[3];
    void *copy = fftw_malloc(in_bytes);
    memcpy(copy, in, in_bytes);
    for (int k = 0; k < c->rank; k++)
        n[k] = (int)c->dims[k];
    pel__fft_planner_lock(); /* FFTW's planner is not thread-safe */
    fftw_plan_with_nthreads(1);
    fftwf_plan_with_nthreads(1);
    if (c->precision == PEL_FLOAT64) {
        fftw_plan p = c->kind == PEL_FFT_C2C ? fftw_plan_dft(c->rank, n, copy, out, c->direction, FFTW_ESTIMATE)
                      : c->kind == PEL_FFT_R2C ? fftw_plan_dft_r2c(c->rank, n, copy, out, FFTW_ESTIMATE)
                                               : fftw_plan_dft_c2r(c->rank, n, copy, out, FFTW_ESTIMATE);
        pel__fft_planner_unlock();
        fftw_execute(p);
        pel__fft_planner_lock();
        fftw_destroy_plan(p);
    } else {
        fftwf_plan p = c->kind == PEL_FFT_C2C ? fftwf_plan_dft(c->rank, n, copy, out, c->direction, FFTW_ESTIMATE)
                       : c->kind == PEL_FFT_R2C ? fftwf_plan_dft_r2c(c->rank, n, copy, out, FFTW_ESTIMATE)
                                                : fftwf_plan_dft_c2r(c->rank, n, copy, out, FFTW_ESTIMATE);
        pel__fft_planner_unlock();
        fftwf_execute(p);
        pel__fft_planner_lock();
        fftwf_destroy_plan(p);
    }
    pel__fft_planner_unlock();
    fftw_free(copy);
}

static void check_case(const accuracy_case *c, unsigned seed)
{
    size_t points = fft_test_points(c->rank, c->dims), last = c->dims[c->rank - 1];
    size_t half_points = points / last * (last / 2 + 1);
    size_t in_count, out_count; /* scalars */
    size_t scalar = c->precision == PEL_FLOAT64 ? sizeof(double) : sizeof(float);
    long double *full = malloc(2 * points * sizeof *full), *reference;
    void *in, *out, *raw;
    double eps = c->precision == PEL_FLOAT64 ? DBL_EPSILON : FLT_EPSILON;
    double lg = log2(points < 2 ? 2.0 : (double)points);
    fft_test_error e, e_raw;
    pel_status status;
    int p = c->precision;

    in_count = c->kind == PEL_FFT_C2C ? 2 * points : c->kind == PEL_FFT_R2C ? points : 2 * half_points;
    out_count = c->kind == PEL_FFT_C2C ? 2 * points : c->kind == PEL_FFT_R2C ? 2 * half_points : points;
    in = malloc(in_count * scalar);
    out = malloc(out_count * scalar);
    raw = malloc(out_count * scalar);
    if (p == PEL_FLOAT64)
        pel_test_fill(in, in_count, seed);
    else
        pel_test_fill_float(in, in_count, seed);

    /* The reference: the full complex input in long double, DFT'd. */
    if (c->kind == PEL_FFT_C2R) {
        long double *half = malloc(2 * half_points * sizeof *half);
        if (p == PEL_FLOAT64)
            fft_test_symmetrize(c->rank, c->dims, in);
        else
            fft_test_symmetrize_float(c->rank, c->dims, in);
        for (size_t i = 0; i < 2 * half_points; i++)
            half[i] = p == PEL_FLOAT64 ? ((double *)in)[i] : ((float *)in)[i];
        fft_test_hermitian_full(c->rank, c->dims, half, full);
        free(half);
    } else {
        for (size_t i = 0; i < points; i++) {
            if (c->kind == PEL_FFT_C2C) {
                full[2 * i] = p == PEL_FLOAT64 ? ((double *)in)[2 * i] : ((float *)in)[2 * i];
                full[2 * i + 1] = p == PEL_FLOAT64 ? ((double *)in)[2 * i + 1] : ((float *)in)[2 * i + 1];
            } else {
                full[2 * i] = p == PEL_FLOAT64 ? ((double *)in)[i] : ((float *)in)[i];
                full[2 * i + 1] = 0;
            }
        }
    }
    fft_test_dft(c->rank, c->dims, full, c->direction);
    reference = malloc(out_count * sizeof *reference);
    if (c->kind == PEL_FFT_C2C)
        memcpy(reference, full, out_count * sizeof *reference);
    else if (c->kind == PEL_FFT_R2C)
        for (size_t r = 0; r < points / last; r++)
            memcpy(reference + 2 * r * (last / 2 + 1), full + 2 * r * last, 2 * (last / 2 + 1) * sizeof *reference);
    else
        for (size_t i = 0; i < points; i++)
            reference[i] = full[2 * i];

    /* Unnormalised in both directions, like raw FFTW: the norm is tested
     * separately. */
    {
        pel_fft_norm norm = c->direction == PEL_FFT_FORWARD ? PEL_FFT_NORM_BACKWARD : PEL_FFT_NORM_FORWARD;
        if (c->kind == PEL_FFT_C2C)
            status = p == PEL_FLOAT64 ? pel_fft_c2c(c->rank, c->dims, 1, c->direction, norm, in, out)
                                      : pel_fft_c2c_float(c->rank, c->dims, 1, c->direction, norm, in, out);
        else if (c->kind == PEL_FFT_R2C)
            status = p == PEL_FLOAT64 ? pel_fft_r2c(c->rank, c->dims, 1, norm, in, out)
                                      : pel_fft_r2c_float(c->rank, c->dims, 1, norm, in, out);
        else
            status = p == PEL_FLOAT64 ? pel_fft_c2r(c->rank, c->dims, 1, norm, in, out)
                                      : pel_fft_c2r_float(c->rank, c->dims, 1, norm, in, out);
    }
    PEL_TEST_OK(status);
    raw_fftw(c, in, in_count * scalar, raw);
    if (p == PEL_FLOAT64) {
        e = fft_test_compare(reference, out, out_count);
        e_raw = fft_test_compare(reference, raw, out_count);
    } else {
        e = fft_test_compare_float(reference, out, out_count);
        e_raw = fft_test_compare_float(reference, raw, out_count);
    }
    if (e.rms > 2 * eps * sqrt(lg) || e.max > 4 * eps * lg || e.rms > 1.5 * e_raw.rms || e.max > 1.5 * e_raw.max) {
        printf("\n  kind %d prec %d dims %zux%zux%zu dir %d: rms %.3g eps (raw %.3g), max %.3g eps (raw %.3g)",
               c->kind, p, c->dims[0], c->rank > 1 ? c->dims[1] : 1, c->rank > 2 ? c->dims[2] : 1, c->direction,
               e.rms / eps, e_raw.rms / eps, e.max / eps, e_raw.max / eps);
    }
    CU_ASSERT(e.rms <= 2 * eps * sqrt(lg));
    CU_ASSERT(e.max <= 4 * eps * lg);
    CU_ASSERT(e.rms <= 1.5 * e_raw.rms);
    CU_ASSERT(e.max <= 1.5 * e_raw.max);
    if (e.rms / (eps * sqrt(lg)) > worst_rms[p])
        worst_rms[p] = e.rms / (eps * sqrt(lg));
    if (e.max / (eps * lg) > worst_max[p])
        worst_max[p] = e.max / (eps * lg);
    if (e_raw.rms > 0 && e.rms / e_raw.rms > worst_vs_fftw[p])
        worst_vs_fftw[p] = e.rms / e_raw.rms;
    free(in);
    free(out);
    free(raw);
    free(full);
    free(reference);
}

static void run_all_kinds(int rank, const size_t *dims, unsigned seed)
{
    static const struct {
        pel_fft_kind kind;
        pel_fft_direction direction;
    } kinds[] = {{PEL_FFT_C2C, PEL_FFT_FORWARD},
                 {PEL_FFT_C2C, PEL_FFT_BACKWARD},
                 {PEL_FFT_R2C, PEL_FFT_FORWARD},
                 {PEL_FFT_C2R, PEL_FFT_BACKWARD}};
    for (int p = 0; p < 2; p++)
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            accuracy_case c = {kinds[k].kind, p == 0 ? PEL_FLOAT64 : PEL_FLOAT32, rank, {1, 1, 1},
                               kinds[k].direction};
            for (int d = 0; d < rank; d++)
                c.dims[d] = dims[d];
            check_case(&c, seed + 17 * (unsigned)k + 101 * (unsigned)p);
        }
}

static void test_rank1_all_sizes_to_64(void)
{
    for (size_t n = 1; n <= 64; n++)
        run_all_kinds(1, &n, (unsigned)n);
}

static void test_rank1_all_sizes_to_512(void)
{
    for (size_t n = 65; n <= 512; n++)
        run_all_kinds(1, &n, (unsigned)n);
}

static void test_rank2(void)
{
    for (size_t i = 0; i < sizeof shapes2 / sizeof shapes2[0]; i++)
        run_all_kinds(2, shapes2[i], 2000 + (unsigned)i);
}

static void test_rank3(void)
{
    for (size_t i = 0; i < sizeof shapes3 / sizeof shapes3[0]; i++)
        run_all_kinds(3, shapes3[i], 3000 + (unsigned)i);
    printf("\n  worst rms/(eps sqrt(log2 n)): double %.3f float %.3f; worst max/(eps log2 n): double %.3f float "
           "%.3f; worst rms vs raw FFTW: double %.3f float %.3f\n",
           worst_rms[0], worst_rms[1], worst_max[0], worst_max[1], worst_vs_fftw[0], worst_vs_fftw[1]);
}

static void add_suites(void)
{
    static const pel_test_case accuracy[] = {{"rank 1, every n <= 64", test_rank1_all_sizes_to_64},
                                             {"rank 1, every 64 < n <= 512", test_rank1_all_sizes_to_512},
                                             {"rank 2", test_rank2},
                                             {"rank 3", test_rank3},
                                             {NULL, NULL}};
    pel_test_add_suite("fft accuracy vs long double DFT", accuracy);
}

int main(void)
{
    return pel_test_main("test_fft_accuracy", add_suites);
}
