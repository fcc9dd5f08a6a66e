/* Fuzz harness: FFT plans (pel_fft_plan_create with fuzzed kind, precision,
 * rank 0-4, dims, howmany, direction, in-place, options: effort ESTIMATE,
 * WISDOM_ONLY or unknown, thread counts, norms, time limits with NaN) and
 * their execution on aligned and unaligned arrays.
 *
 * Invariants: status OK => the transform matches a naive DFT of the same
 * normalisation (error within 32 (log2 N + 1) eps sum|x| per transform; an
 * input with NaN/Inf must give a non-finite bin); an out-of-place plan leaves
 * its input unchanged; status error => a message, *plan unchanged or NULL,
 * out untouched. At most 256 points a transform, 3 transforms. */
#include "fuzz.h"

#include <complex.h>
#include <float.h>

enum { MAX_POINTS = 256, MAX_BATCH = 3, BUFFER = 2 * (MAX_POINTS + 16) * MAX_BATCH + 64 };

typedef struct problem {
    int kind, single, rank, in_place, norm, direction;
    size_t dims[4], howmany, points, last_half, rows; /* rows: points / last dim */
} problem;

/* Real element j of row r of transform b: padded rows in place. */
static size_t real_index(const problem *p, size_t b, size_t r, size_t j)
{
    size_t last = p->dims[p->rank - 1];
    size_t width = p->in_place ? 2 * p->last_half : last;
    return (b * p->rows + r) * width + j;
}

static size_t complex_count(const problem *p)
{
    return p->kind == PEL_FFT_C2C ? p->points : p->rows * p->last_half;
}

static double load(const problem *p, const void *base, size_t i)
{
    return p->single ? (double)((const float *)base)[i] : ((const double *)base)[i];
}

/* Multi-index of flat position f in dims. */
static void unflatten(const problem *p, size_t f, size_t *idx)
{
    for (int d = p->rank - 1; d >= 0; d--) {
        idx[d] = f % p->dims[d];
        f /= p->dims[d];
    }
}

static double complex twiddle(const problem *p, const size_t *j, const size_t *k, int sign)
{
    double phase = 0.0;
    for (int d = 0; d < p->rank; d++)
        phase += (double)((j[d] * k[d]) % p->dims[d]) / (double)p->dims[d];
    return cexp(sign * 2.0 * I * 3.14159265358979323846 * phase);
}

static double scale_of(const problem *p, int backward)
{
    if (p->norm == PEL_FFT_NORM_ORTHO)
        return 1.0 / sqrt((double)p->points);
    if ((p->norm == PEL_FFT_NORM_BACKWARD) == backward)
        return 1.0 / (double)p->points;
    return 1.0;
}

static void check_bin(double complex got, double complex ref, double bound, int nonfinite_input, size_t where)
{
    if (nonfinite_input) {
        fuzz_require(!isfinite(creal(got)) || !isfinite(cimag(got)), "bin %zu finite from a non-finite input", where);
        return;
    }
    fuzz_require(fabs(creal(got) - creal(ref)) <= bound && fabs(cimag(got) - cimag(ref)) <= bound,
                 "bin %zu = (%.17g, %.17g), the naive DFT gives (%.17g, %.17g), bound %g", where, creal(got),
                 cimag(got), creal(ref), cimag(ref), bound);
}

static void verify(const problem *p, const void *in, const void *out)
{
    double eps = p->single ? FLT_EPSILON : DBL_EPSILON, logn = 1.0;
    size_t j[4], k[4];

    for (size_t n = p->points; n > 1; n /= 2)
        logn += 1.0;
    for (size_t b = 0; b < p->howmany; b++) {
        double mag = 0.0;
        int nonfinite = 0;
        size_t nin = p->kind == PEL_FFT_R2C ? p->points : complex_count(p);
        /* Magnitude and finiteness of this transform's input. */
        for (size_t f = 0; f < nin; f++) {
            double re, im = 0.0;
            if (p->kind == PEL_FFT_R2C) {
                re = load(p, in, real_index(p, b, f / p->dims[p->rank - 1], f % p->dims[p->rank - 1]));
            } else {
                re = load(p, in, 2 * (b * nin + f));
                im = load(p, in, 2 * (b * nin + f) + 1);
            }
            mag += fabs(re) + fabs(im);
            nonfinite |= !isfinite(re) || !isfinite(im);
        }
        if (p->kind == PEL_FFT_C2R) {
            /* Rank 1 only: the Hermitian extension of the half spectrum. */
            size_t n = p->dims[0];
            if (p->rank != 1 || nonfinite)
                continue;
            for (size_t t = 0; t < n; t++) {
                double sum = 0.0;
                for (size_t q = 0; q < n; q++) {
                    size_t h = q <= n / 2 ? q : n - q;
                    double re = load(p, in, 2 * (b * p->last_half + h)), im = load(p, in, 2 * (b * p->last_half + h) + 1);
                    double complex v = q <= n / 2 ? re + I * im : re - I * im;
                    if (q == 0 || (n % 2 == 0 && q == n / 2))
                        v = re; /* FFTW ignores those imaginary parts */
                    sum += creal(v * cexp(2.0 * I * 3.14159265358979323846 * (double)((q * t) % n) / (double)n));
                }
                {
                    double got = load(p, out, real_index(p, b, 0, t)), ref = sum * scale_of(p, 1);
                    double bound = 32 * logn * eps * 2 * mag * scale_of(p, 1) + 1e-300;
                    fuzz_require(fabs(got - ref) <= bound, "c2r point %zu = %.17g, naive %.17g", t, got, ref);
                }
            }
            continue;
        }
        {
            int sign = p->kind == PEL_FFT_R2C ? -1 : p->direction;
            double scale = scale_of(p, sign == 1);
            size_t nout = complex_count(p);
            for (size_t o = 0; o < nout; o++) {
                double complex ref = 0.0, got;
                if (p->kind == PEL_FFT_R2C) {
                    size_t lastk = o % p->last_half, rowk = o / p->last_half;
                    unflatten(p, rowk * p->dims[p->rank - 1] + lastk, k);
                } else {
                    unflatten(p, o, k);
                }
                for (size_t f = 0; f < p->points; f++) {
                    double complex x;
                    unflatten(p, f, j);
                    if (p->kind == PEL_FFT_R2C)
                        x = load(p, in, real_index(p, b, f / p->dims[p->rank - 1], f % p->dims[p->rank - 1]));
                    else
                        x = load(p, in, 2 * (b * p->points + f)) + I * load(p, in, 2 * (b * p->points + f) + 1);
                    ref += x * twiddle(p, j, k, sign);
                }
                ref *= scale;
                got = load(p, out, 2 * (b * nout + o)) + I * load(p, out, 2 * (b * nout + o) + 1);
                check_bin(got, ref, 32 * logn * eps * mag * scale + 1e-300, nonfinite, b * nout + o);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static double in_buf[BUFFER + 4], out_buf[BUFFER + 4], in_copy[BUFFER + 4], out_copy[BUFFER + 4];
    static const int kinds[4] = {PEL_FFT_C2C, PEL_FFT_R2C, PEL_FFT_C2R, 3};
    static const int directions[3] = {PEL_FFT_FORWARD, PEL_FFT_BACKWARD, 0};
    static const int efforts[3] = {PEL_FFT_ESTIMATE, PEL_FFT_WISDOM_ONLY, 9};
    static unsigned executions;
    fuzz_input in = fuzz_begin(data, size);
    problem p = {0};
    pel_fft_options options;
    pel_fft_plan *sentinel = (pel_fft_plan *)&sentinel, *plan = sentinel;
    size_t points = 1, unaligned;
    int status, sane = 1, effort, use_options;
    void *src, *dst;

    /* FFTW's planner remembers every problem it has seen (its wisdom), so
     * a long run grows without bound (2.3 GB RSS after 60,000 executions):
     * forget now and then. No plan is alive between executions. */
    if (++executions % 256 == 0)
        pel_fft_wisdom_forget();
    p.kind = kinds[fuzz_u8(&in) % 4];
    p.single = fuzz_u8(&in) % 2;
    p.rank = (int)(fuzz_u8(&in) % 5);
    for (int d = 0; d < 4; d++) {
        p.dims[d] = fuzz_size(&in, 12);
        if (d < p.rank) {
            sane = sane && p.dims[d] > 0 && p.dims[d] <= MAX_POINTS && points * p.dims[d] <= MAX_POINTS;
            if (sane)
                points *= p.dims[d];
        }
    }
    p.howmany = fuzz_size(&in, MAX_BATCH);
    p.direction = directions[fuzz_u8(&in) % 3];
    p.in_place = fuzz_u8(&in) % 3 == 0;
    effort = efforts[fuzz_u8(&in) % 8 == 0 ? 1 + fuzz_u8(&in) % 2 : 0];
    options.effort = (pel_fft_effort)effort;
    options.time_limit = fuzz_u8(&in) % 16 == 0 ? fuzz_double(&in) : 0.0;
    options.nthreads = (int)(fuzz_u8(&in) % 5) - 1;
    options.norm = (pel_fft_norm)(fuzz_u8(&in) % 4);
    use_options = fuzz_u8(&in) % 8 != 0;
    if (!use_options)
        effort = PEL_FFT_ESTIMATE; /* NULL options: the defaults */
    p.norm = use_options ? (int)options.norm : PEL_FFT_NORM_BACKWARD;
    unaligned = fuzz_u8(&in) % 4 == 0;
    sane = sane && p.rank >= 1 && p.rank <= 3 && p.howmany >= 1 && p.howmany <= MAX_BATCH;

    pel_clear_error();
    status = pel_fft_plan_create((pel_fft_kind)p.kind, p.single ? PEL_FLOAT32 : PEL_FLOAT64, p.rank, p.dims,
                                 p.howmany, (pel_fft_direction)p.direction, p.in_place,
                                 use_options ? &options : NULL, &plan);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_fft_plan_create");
        fuzz_require(plan == sentinel || plan == NULL, "pel_fft_plan_create wrote a pointer on error");
        return 0;
    }
    fuzz_require(plan != NULL && plan != sentinel, "OK without a plan");
    fuzz_require(p.kind != 3 && effort != 9 && p.rank >= 1 && p.rank <= 3 && p.howmany >= 1,
                 "pel_fft_plan_create accepted kind %d effort %d rank %d howmany %zu", p.kind, effort, p.rank,
                 p.howmany);
    if (!sane) {
        /* A valid but large problem: planned with ESTIMATE, not executed. */
        pel_fft_plan_destroy(plan);
        return 0;
    }
    p.points = points;
    p.last_half = p.dims[p.rank - 1] / 2 + 1;
    p.rows = points / p.dims[p.rank - 1];

    /* Fill both arrays with fuzzed values; the element offset makes them
     * unaligned for FFTW's SIMD code (but aligned to the element type). */
    for (size_t i = 0; i < BUFFER + 4; i++) {
        double v = i < 512 ? fuzz_double(&in) : (double)((i * 7919) % 97) / 17.0 - 2.0;
        if (p.single) {
            ((float *)in_buf)[i] = (float)v;
            ((float *)out_buf)[i] = -(float)i;
        } else {
            in_buf[i] = v;
            out_buf[i] = -(double)i;
        }
    }
    src = (char *)in_buf + (unaligned ? (p.single ? 8 : 16) : 0);
    dst = p.in_place ? src : (void *)((char *)out_buf + (unaligned ? (p.single ? 8 : 16) : 0));
    if (p.kind == PEL_FFT_C2C && p.direction != PEL_FFT_FORWARD && p.direction != PEL_FFT_BACKWARD)
        fuzz_fail("a c2c plan with direction %d was accepted", p.direction);
    memcpy(in_copy, in_buf, sizeof in_buf);
    memcpy(out_copy, out_buf, sizeof out_buf);

    status = pel_fft_execute(plan, src, dst);
    if (status != PEL_OK && effort == PEL_FFT_WISDOM_ONLY) {
        /* Documented: an unaligned array needs a twin plan, and a
         * WISDOM_ONLY twin fails without wisdom for it. out stays as it was. */
        fuzz_check_error_message(status, "pel_fft_execute");
        fuzz_require(fuzz_same_bytes(out_buf, out_copy, sizeof out_buf) &&
                         fuzz_same_bytes(in_buf, in_copy, sizeof in_buf),
                     "an array was written by a failed pel_fft_execute");
        pel_fft_plan_destroy(plan);
        return 0;
    }
    fuzz_require(status == PEL_OK, "pel_fft_execute failed: %s", pel_last_error());
    if (!p.in_place) {
        fuzz_require(fuzz_same_bytes(in_buf, in_copy, sizeof in_buf), "an out-of-place transform changed its input");
        verify(&p, (char *)in_copy + (unaligned ? (p.single ? 8 : 16) : 0), dst);
    } else {
        verify(&p, (char *)in_copy + (unaligned ? (p.single ? 8 : 16) : 0), dst);
    }

    /* Error path: an in-place plan with in != out leaves out untouched. */
    if (p.in_place) {
        memcpy(out_copy, out_buf, sizeof out_buf);
        status = pel_fft_execute(plan, in_buf, out_buf);
        fuzz_require(status == PEL_ERROR_INVALID_ARGUMENT, "in != out accepted for an in-place plan");
        fuzz_check_error_message(status, "pel_fft_execute");
        fuzz_require(fuzz_same_bytes(out_buf, out_copy, sizeof out_buf), "out written on error");
    }
    pel_fft_plan_destroy(plan);
    return 0;
}
