/* FFT plans: argument checks, the planner lock, planning on scratch buffers
 * and lock-free execution on the caller's arrays. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fftw3.h>

#include "core/error.h"
#include "core/threads.h"
#include "fft/plan.h"

/* ------------------------------------------------------------ planner lock */

static pthread_mutex_t planner_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t planner_once = PTHREAD_ONCE_INIT;

/* A fork while another thread plans would leave the child's copy of the
 * mutex locked forever (and FFTW's planner half-updated): the fork waits
 * for planning to finish instead. */
static void planner_prepare(void)
{
    pthread_mutex_lock(&planner_mutex);
}

static void planner_after_fork(void)
{
    pthread_mutex_unlock(&planner_mutex);
}

static void planner_init_once(void)
{
    pthread_atfork(planner_prepare, planner_after_fork, planner_after_fork);
}

void pel__fft_planner_lock(void)
{
    pthread_once(&planner_once, planner_init_once);
    pel__backends_init(); /* fftw_init_threads() before the first plan */
    pthread_mutex_lock(&planner_mutex);
}

void pel__fft_planner_unlock(void)
{
    pthread_mutex_unlock(&planner_mutex);
}

/* ------------------------------------------------------------ sizes */

typedef struct plan_sizes {
    size_t points, in_bytes, out_bytes, scale_count;
    size_t in_dims[PEL_FFT_MAX_RANK];  /* physical row-major shape of the input, in its elements */
    size_t out_dims[PEL_FFT_MAX_RANK]; /* same for the output */
    size_t in_elements, out_elements;  /* elements of one transform's input and output */
    size_t plan_bytes;                 /* planning scratch of the input (the DCT by FFT's padded grid) */
    int plan_in_place;                 /* the FFTW plan is in place although the key may not be */
} plan_sizes;

static size_t scalar_size(int precision)
{
    return precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
}

/* Shapes and byte counts of the arrays of a valid key, with every product
 * checked: the arrays must fit in PTRDIFF_MAX bytes, the limit of FFTW's
 * 64-bit guru interface and of pointer arithmetic. */
static pel_status compute_sizes(const pel__fft_key *key, plan_sizes *s, const char *function)
{
    size_t scalar = scalar_size(key->precision);
    size_t last = key->dims[key->rank - 1];
    size_t half = last / 2 + 1;
    size_t padded = 0, real_last;
    size_t in_scalar, out_scalar, in_bytes = 0, out_bytes = 0;
    int ok = pel__mul_size(half, 2, &padded);

    real_last = key->in_place ? padded : last;

    memset(s, 0, sizeof *s);
    for (int k = 0; k < key->rank; k++)
        s->in_dims[k] = s->out_dims[k] = key->dims[k];
    switch (key->kind) {
    case PEL_FFT_R2C:
        s->in_dims[key->rank - 1] = real_last;
        s->out_dims[key->rank - 1] = half;
        in_scalar = scalar;
        out_scalar = 2 * scalar;
        break;
    case PEL_FFT_C2R:
        s->in_dims[key->rank - 1] = half;
        s->out_dims[key->rank - 1] = real_last;
        in_scalar = 2 * scalar;
        out_scalar = scalar;
        break;
    case PEL_FFT_R2R:
        in_scalar = out_scalar = scalar;
        break;
    default:
        in_scalar = out_scalar = 2 * scalar;
        break;
    }
    s->points = s->in_elements = s->out_elements = 1;
    for (int k = 0; k < key->rank; k++) {
        ok = ok && pel__mul_size(s->points, key->dims[k], &s->points);
        ok = ok && pel__mul_size(s->in_elements, s->in_dims[k], &s->in_elements);
        ok = ok && pel__mul_size(s->out_elements, s->out_dims[k], &s->out_elements);
    }
    ok = ok && pel__mul_size(s->in_elements, key->howmany, &in_bytes) &&
         pel__mul_size(in_bytes, in_scalar, &in_bytes);
    ok = ok && pel__mul_size(s->out_elements, key->howmany, &out_bytes) &&
         pel__mul_size(out_bytes, out_scalar, &out_bytes);
    if (!ok || in_bytes > (size_t)PTRDIFF_MAX || out_bytes > (size_t)PTRDIFF_MAX) {
        char shape[128];
        int used = 0;
        for (int k = 0; k < key->rank && used < (int)sizeof shape; k++)
            used += snprintf(shape + used, sizeof shape - (size_t)used, "%s%zu", k ? "x" : "", key->dims[k]);
        return pel__fail(PEL_ERROR_OVERFLOW, function,
                         "dims %s with howmany=%zu need more than PTRDIFF_MAX bytes per array", shape,
                         key->howmany);
    }
    s->in_bytes = in_bytes;
    s->out_bytes = out_bytes;
    s->scale_count = out_bytes / scalar;
    s->plan_bytes = in_bytes;
    s->plan_in_place = key->in_place;
    if (key->kind == PEL_FFT_R2R && key->algorithm != PEL__FFT_ALGORITHM_FFTW) {
        s->plan_bytes = pel__fft_dct_by_fft_plan_bytes(key);
        s->plan_in_place = 1;
    }
    return PEL_OK;
}

/* ------------------------------------------------------------ keys */

int pel__fft_auto_threads(size_t points, size_t howmany)
{
    size_t total;

    /* Work units of pel's policy: eight per point (a complex number read and
     * written, twice over for the passes of a mid-size transform). With the
     * default cutoff (32768) a transform gets a second thread from 2^13
     * points: FFTW on 2 threads was 2.5x slower at 2^10, even at 2^12, and
     * 1.4x faster than 1 thread at 2^13 on a quiet machine
     * (`pel-bench --kernel fft --size 4096,8192,16384`, docs/benchmarks.md). */
    if (!pel__mul_size(points, howmany, &total) || !pel__mul_size(total, 8, &total))
        total = SIZE_MAX;
    return pel__tune_threads_for_work(total);
}

pel_status pel__fft_key_init(pel__fft_key *key, const char *function, pel_fft_kind kind, pel_precision precision,
                             int rank, const size_t *dims, size_t howmany, pel_fft_direction direction,
                             int in_place, pel_fft_effort effort, double time_limit, int nthreads,
                             pel_fft_norm norm, size_t *in_bytes, size_t *out_bytes)
{
    plan_sizes sizes;
    pel_status status;

    if (kind != PEL_FFT_C2C && kind != PEL_FFT_R2C && kind != PEL_FFT_C2R && kind != PEL_FFT_R2R)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "kind=%d is not PEL_FFT_C2C, PEL_FFT_R2C, PEL_FFT_C2R or PEL_FFT_R2R", (int)kind);
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "precision=%d is not PEL_FLOAT64 or PEL_FLOAT32", (int)precision);
    if (rank < 1 || rank > PEL_FFT_MAX_RANK)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "rank=%d is not 1, 2 or 3", rank);
    if (dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "dims must not be NULL");
    for (int k = 0; k < rank; k++)
        if (dims[k] == 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "dims[%d]=0: every dimension must be at least 1",
                             k);
    if (howmany == 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "howmany=0: at least one transform is needed");
    if (direction != PEL_FFT_FORWARD && direction != PEL_FFT_BACKWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "direction=%d is not PEL_FFT_FORWARD (-1) or PEL_FFT_BACKWARD (1)", (int)direction);
    if (kind == PEL_FFT_R2C && direction != PEL_FFT_FORWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "direction=%d: a real-to-complex transform is PEL_FFT_FORWARD", (int)direction);
    if (kind == PEL_FFT_C2R && direction != PEL_FFT_BACKWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "direction=%d: a complex-to-real transform is PEL_FFT_BACKWARD", (int)direction);
    if ((int)effort < PEL_FFT_ESTIMATE || effort > PEL_FFT_AUTO)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "effort=%d is not a pel_fft_effort (PEL_FFT_ESTIMATE..PEL_FFT_AUTO)", (int)effort);
    if (!isfinite(time_limit) || time_limit < 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "time_limit=%g must be a finite number of seconds >= 0 (0: no limit)", time_limit);
    if (nthreads < 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "nthreads=%d is negative (0: automatic)", nthreads);
    if ((int)norm < PEL_FFT_NORM_BACKWARD || norm > PEL_FFT_NORM_FORWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "norm=%d is not PEL_FFT_NORM_BACKWARD, PEL_FFT_NORM_ORTHO or PEL_FFT_NORM_FORWARD",
                         (int)norm);

    memset(key, 0, sizeof *key);
    key->kind = kind;
    key->precision = precision;
    key->rank = rank;
    key->direction = direction;
    key->in_place = in_place != 0;
    key->effort = effort;
    key->time_limit = time_limit;
    key->norm = norm;
    key->howmany = howmany;
    for (int k = 0; k < rank; k++)
        key->dims[k] = dims[k];
    status = compute_sizes(key, &sizes, function);
    if (status != PEL_OK)
        return status;
    key->nthreads = nthreads > 0 ? nthreads : pel__fft_auto_threads(sizes.points, howmany);
    if (in_bytes != NULL)
        *in_bytes = sizes.in_bytes;
    if (out_bytes != NULL)
        *out_bytes = sizes.out_bytes;
    return PEL_OK;
}

uint64_t pel__fft_key_hash(const pel__fft_key *key)
{
    /* Word-wise multiply-xor over the key (padding is zero, see
     * pel__fft_key_init): a few dozen instructions, which matters on the
     * one-shot path where a 2^10 transform takes ~20k instructions. */
    uint64_t words[sizeof(pel__fft_key) / sizeof(uint64_t)], hash = 0x9e3779b97f4a7c15ull;

    _Static_assert(sizeof(pel__fft_key) % sizeof(uint64_t) == 0, "the key is a whole number of words");
    memcpy(words, key, sizeof words);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        hash = (hash ^ words[i]) * 0xff51afd7ed558ccdull;
    return hash ^ (hash >> 32);
}

/* ------------------------------------------------------------ planning */

static unsigned effort_flags(int effort)
{
    switch (effort) {
    case PEL_FFT_MEASURE:
        return FFTW_MEASURE;
    case PEL_FFT_PATIENT:
        return FFTW_PATIENT;
    case PEL_FFT_EXHAUSTIVE:
        return FFTW_EXHAUSTIVE;
    case PEL_FFT_WISDOM_ONLY:
        /* ESTIMATE is the least patient request, so wisdom of any effort
         * satisfies it. */
        return FFTW_WISDOM_ONLY | FFTW_ESTIMATE;
    default:
        return FFTW_ESTIMATE;
    }
}

/* Calls FFTW's 64-bit guru planner for one variant; planner lock held. */
static void *call_planner(const pel_fft_plan *plan, const plan_sizes *s, void *in, void *out, unsigned flags)
{
    const pel__fft_key *key = &plan->key;
    fftw_iodim64 dims[PEL_FFT_MAX_RANK], batch;
    ptrdiff_t in_stride = 1, out_stride = 1;
    int batch_rank = key->howmany > 1;

    for (int k = key->rank - 1; k >= 0; k--) {
        dims[k].n = (ptrdiff_t)key->dims[k];
        dims[k].is = in_stride;
        dims[k].os = out_stride;
        in_stride *= (ptrdiff_t)s->in_dims[k];
        out_stride *= (ptrdiff_t)s->out_dims[k];
    }
    batch.n = (ptrdiff_t)key->howmany;
    batch.is = in_stride;
    batch.os = out_stride;
    if (key->kind == PEL_FFT_R2R)
        return pel__fft_r2r_planner(key, dims, batch_rank, &batch, in, out, flags);
    /* fftwf_iodim64 has the same layout as fftw_iodim64 (both ptrdiff_t). */
    if (key->precision == PEL_FLOAT32) {
        const fftwf_iodim64 *fdims = (const fftwf_iodim64 *)dims, *fbatch = (const fftwf_iodim64 *)&batch;
        switch (key->kind) {
        case PEL_FFT_R2C:
            return fftwf_plan_guru64_dft_r2c(key->rank, fdims, batch_rank, fbatch, in, out, flags);
        case PEL_FFT_C2R:
            return fftwf_plan_guru64_dft_c2r(key->rank, fdims, batch_rank, fbatch, in, out, flags);
        default:
            return fftwf_plan_guru64_dft(key->rank, fdims, batch_rank, fbatch, in, out, key->direction, flags);
        }
    }
    switch (key->kind) {
    case PEL_FFT_R2C:
        return fftw_plan_guru64_dft_r2c(key->rank, dims, batch_rank, &batch, in, out, flags);
    case PEL_FFT_C2R:
        return fftw_plan_guru64_dft_c2r(key->rank, dims, batch_rank, &batch, in, out, flags);
    default:
        return fftw_plan_guru64_dft(key->rank, dims, batch_rank, &batch, in, out, key->direction, flags);
    }
}

static void destroy_fftw_plan(int precision, void *fftw_plan_pointer)
{
    if (precision == PEL_FLOAT32)
        fftwf_destroy_plan(fftw_plan_pointer);
    else
        fftw_destroy_plan(fftw_plan_pointer);
}

/* ------------------------------------------------------------ headroom */

/* FFTW aborts the process when its own malloc fails ("alloc.c:29:
 * assertion failed: p"), during planning (twiddles, Rader and Bluestein
 * tables) and during execution (the buffers of buffered and Bluestein
 * plans). So before FFTW plans or executes, pel allocates and frees the
 * memory FFTW may need: if that fails, the call is PEL_ERROR_OUT_OF_MEMORY
 * and FFTW never runs short. The bounds come from measuring FFTW 3.3.10's
 * peak heap use (an allocator interposer, ESTIMATE and MEASURE, c2c, r2c,
 * c2r, ranks 1-3, batches, 1-4 threads; docs/fft.md has the table), with
 * C = bytes of one complex array of the transform (points x howmany x 2
 * scalars):
 *   planning:  4 MiB + 8 C when a dimension has a prime factor > 1000
 *              (measured up to 5.9 C + 2.7 MiB), else 4 MiB + 1.5 C
 *              (measured up to 1.1 C);
 *   execution: nthreads x min(C, 1 MiB) (measured up to 66 KiB with one
 *              thread, 0.14 C for small C), plus 6 C with a prime
 *              factor > 1000 (measured up to 4.3 C), plus 1 C for a 1-D
 *              c2r (FFTW keeps its input in a copy; measured 0.5 C). */
enum { ROUGH_PRIME = 1000 };

/* Whether some dimension has a prime factor above ROUGH_PRIME, where FFTW
 * turns to Rader's or Bluestein's algorithm and their large tables. */
static int has_rough_dimension(const pel__fft_key *key)
{
    for (int k = 0; k < key->rank; k++) {
        size_t n = key->dims[k];
        for (size_t p = 2; p <= ROUGH_PRIME && n > 1; p++)
            while (n % p == 0)
                n /= p;
        if (n > 1)
            return 1;
    }
    return 0;
}

/* a * b / 2 + c, saturating at SIZE_MAX (a malloc of SIZE_MAX fails, which
 * is the right answer for a transform that large). */
static size_t saturating_half_mul_add(size_t a, size_t b, size_t c)
{
    size_t product;

    if (!pel__mul_size(a, b, &product))
        return SIZE_MAX;
    product /= 2;
    return product > SIZE_MAX - c ? SIZE_MAX : product + c;
}

static size_t fftw_headroom(const pel__fft_key *key, size_t points, int nthreads, int executing)
{
    size_t complex_bytes, per_thread, base;
    int rough = has_rough_dimension(key);

    if (!pel__mul_size(points, key->howmany, &complex_bytes) ||
        !pel__mul_size(complex_bytes, 2 * scalar_size(key->precision), &complex_bytes))
        return SIZE_MAX;
    if (!executing)
        return saturating_half_mul_add(complex_bytes, rough ? 16 : 3, (size_t)4 << 20);
    per_thread = complex_bytes < ((size_t)1 << 20) ? complex_bytes : ((size_t)1 << 20);
    base = (size_t)nthreads * per_thread;
    if (rough)
        return saturating_half_mul_add(complex_bytes, 12, base);
    if (key->kind == PEL_FFT_C2R && key->rank == 1)
        return saturating_half_mul_add(complex_bytes, 2, base);
    return base;
}

size_t pel__fft_plan_headroom(const pel_fft_plan *plan, int variant)
{
    return plan->exec_headroom[(variant & PEL__FFT_SINGLE) ? 1 : 0];
}

pel_status pel__fft_check_headroom(size_t bytes, const char *what, const char *function)
{
    /* Called through a volatile pointer: a malloc whose result is only
     * compared with NULL and freed may be removed by the compiler (clang
     * does), which would turn the probe into a no-op. */
    static void *(*volatile const probe_malloc)(size_t) = malloc;
    void *probe = probe_malloc(bytes);

    if (probe == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function,
                         "FFTW may need %zu bytes beyond the arrays to %s this transform and they cannot be "
                         "allocated (pel refuses rather than let FFTW abort)",
                         bytes, what);
    free(probe);
    return PEL_OK;
}

/* ------------------------------------------------------------ test hook */

static atomic_long plan_failure_countdown = -1;

void pel__fft_test_fail_plan_after(long n)
{
    atomic_store(&plan_failure_countdown, n < 0 ? -1 : n);
}

/* The test hook's decision for one planning: 1 = fail this one. */
static int injected_plan_failure(void)
{
    if (atomic_load_explicit(&plan_failure_countdown, memory_order_relaxed) < 0)
        return 0;
    return atomic_fetch_sub(&plan_failure_countdown, 1) == 0;
}

static atomic_int background_planning;

int pel__fft_background_planning(void)
{
    return atomic_load_explicit(&background_planning, memory_order_relaxed);
}

/* When a caller last planned (CLOCK_MONOTONIC nanoseconds). */
static atomic_llong last_foreground_plan;

static long long monotonic_nanoseconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

double pel__fft_seconds_since_foreground_plan(void)
{
    return 1e-9 * (double)(monotonic_nanoseconds() - atomic_load_explicit(&last_foreground_plan,
                                                                          memory_order_relaxed));
}

/* How a variant is planned: the FFTW effort flags, whether a PEL_FFT_AUTO
 * plan first looks for MEASURE wisdom, and whether FFTW's wisdom is put
 * back as it was afterwards (background measurements). */
typedef struct variant_request {
    unsigned flags;
    int probe_wisdom;
    int keep_wisdom;
    int background; /* not counted by the failure test hook */
} variant_request;

/* FFTW's wisdom of one precision as text (malloc'd by FFTW), NULL when out
 * of memory; planner lock held. */
static char *wisdom_save(int precision)
{
    return precision == PEL_FLOAT32 ? fftwf_export_wisdom_to_string() : fftw_export_wisdom_to_string();
}

/* Puts back the wisdom saved by wisdom_save() and frees the text; planner
 * lock held. A text FFTW itself exported always imports. */
static void wisdom_restore(int precision, char *saved)
{
    if (precision == PEL_FLOAT32) {
        fftwf_forget_wisdom();
        (void)fftwf_import_wisdom_from_string(saved);
    } else {
        fftw_forget_wisdom();
        (void)fftw_import_wisdom_from_string(saved);
    }
    free(saved);
}

/* Makes the FFTW plan of one variant, if no other thread made it first.
 * Planning runs on scratch arrays: MEASURE and PATIENT overwrite the arrays
 * they are given, and the caller's data must survive. */
static pel_status make_variant_as(pel_fft_plan *plan, int variant, const variant_request *request,
                                  const char *function, void **result)
{
    const pel__fft_key *key = &plan->key;
    plan_sizes s;
    void *in = NULL, *out = NULL, *made;
    unsigned flags = request->flags, extra = 0;
    int nthreads = (variant & PEL__FFT_SINGLE) ? 1 : key->nthreads;
    int out_of_memory = 0;

    compute_sizes(key, &s, function); /* cannot fail: checked when the key was made */
    if (!request->background && injected_plan_failure())
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot plan: failure injected by the test hook");
    in = pel_malloc(s.plan_bytes);
    out = s.plan_in_place ? in : pel_malloc(s.out_bytes);
    if (in == NULL || out == NULL) {
        pel_free(in);
        if (out != in)
            pel_free(out);
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate %zu bytes of planning scratch",
                         s.plan_bytes + (s.plan_in_place ? 0 : s.out_bytes));
    }
    {
        pel_status status = pel__fft_check_headroom(fftw_headroom(key, s.points, nthreads, 0), "plan", function);
        if (status != PEL_OK) {
            pel_free(in);
            if (out != in)
                pel_free(out);
            return status;
        }
    }
    if (variant & PEL__FFT_UNALIGNED)
        extra |= FFTW_UNALIGNED;
    if (key->kind == PEL_FFT_C2R && !key->in_place)
        extra |= plan->copy_input ? FFTW_DESTROY_INPUT : FFTW_PRESERVE_INPUT;

    pel__fft_planner_lock();
    made = atomic_load_explicit(&plan->variants[variant], memory_order_acquire);
    if (made == NULL) {
        double limit = key->time_limit > 0 ? key->time_limit : FFTW_NO_TIMELIMIT;
        char *saved = NULL;
        if (key->precision == PEL_FLOAT32) {
            fftwf_plan_with_nthreads(nthreads);
            fftwf_set_timelimit(limit);
        } else {
            fftw_plan_with_nthreads(nthreads);
            fftw_set_timelimit(limit);
        }
        /* A PEL_FFT_AUTO plan takes MEASURE-grade wisdom when FFTW has it
         * (imported, or left by an explicit MEASURE plan): that plan is
         * final, and instant. */
        if (request->probe_wisdom) {
            made = call_planner(plan, &s, in, out, FFTW_WISDOM_ONLY | FFTW_MEASURE | extra);
            if (made != NULL)
                atomic_store_explicit(&plan->upgrade, PEL__FFT_UPGRADE_NONE, memory_order_relaxed);
        }
        if (made == NULL && request->keep_wisdom) {
            saved = wisdom_save(key->precision);
            out_of_memory = saved == NULL;
        }
        if (!request->background)
            atomic_store_explicit(&last_foreground_plan, monotonic_nanoseconds(), memory_order_relaxed);
        if (made == NULL && !out_of_memory) {
            if (request->background)
                atomic_store(&background_planning, 1);
            made = call_planner(plan, &s, in, out, flags | extra);
            atomic_store(&background_planning, 0);
        }
        if (saved != NULL)
            wisdom_restore(key->precision, saved);
        if (made != NULL)
            atomic_store_explicit(&plan->variants[variant], made, memory_order_release);
    }
    pel__fft_planner_unlock();

    pel_free(in);
    if (out != in)
        pel_free(out);
    if (out_of_memory)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot save FFTW's wisdom around a measurement");
    if (made == NULL) {
        if (flags & FFTW_WISDOM_ONLY)
            return pel__fail(PEL_ERROR_UNSUPPORTED, function,
                             "effort=PEL_FFT_WISDOM_ONLY and FFTW has no wisdom for this transform");
        return pel__fail(PEL_ERROR_BACKEND, function, "FFTW could not plan this transform");
    }
    *result = made;
    return PEL_OK;
}

/* A variant made on demand, with the plan's own effort. */
static pel_status make_variant(pel_fft_plan *plan, int variant, const char *function, void **result)
{
    variant_request request = {effort_flags(plan->variant_effort), 0, 0, 0};

    return make_variant_as(plan, variant, &request, function, result);
}

/* The plan object of key, without any FFTW plan yet. */
static pel_status plan_alloc(const pel__fft_key *key, const char *function, pel_fft_plan **result)
{
    plan_sizes s;
    pel_fft_plan *plan;
    pel_status status;

    status = compute_sizes(key, &s, function);
    if (status != PEL_OK)
        return status;
    plan = malloc(sizeof *plan);
    if (plan == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate a plan");
    memset(plan, 0, sizeof *plan);
    plan->key = *key;
    plan->points = s.points;
    plan->in_bytes = s.in_bytes;
    plan->out_bytes = s.out_bytes;
    plan->scale_count = s.scale_count;
    plan->copy_input = key->kind == PEL_FFT_C2R && !key->in_place && key->rank > 1;
    plan->exec_headroom[0] = fftw_headroom(key, s.points, key->nthreads, 1);
    plan->exec_headroom[1] = fftw_headroom(key, s.points, 1, 1);
    plan->scale = 1.0;
    if (key->norm == PEL_FFT_NORM_ORTHO)
        plan->scale = 1.0 / sqrt((double)s.points);
    else if ((key->norm == PEL_FFT_NORM_BACKWARD && key->direction == PEL_FFT_BACKWARD) ||
             (key->norm == PEL_FFT_NORM_FORWARD && key->direction == PEL_FFT_FORWARD))
        plan->scale = 1.0 / (double)s.points;
    if (key->kind == PEL_FFT_R2R)
        plan->scale = pel__fft_r2r_scale(key);
    for (int v = 0; v < PEL__FFT_VARIANTS; v++)
        atomic_init(&plan->variants[v], NULL);
    atomic_init(&plan->spare_scratch, NULL);
    atomic_init(&plan->references, 1);
    plan->variant_effort = key->effort == PEL_FFT_AUTO ? PEL_FFT_ESTIMATE : key->effort;
    atomic_init(&plan->upgrade, PEL__FFT_UPGRADE_NONE);
    *result = plan;
    return PEL_OK;
}

/* Frees a plan object and the FFTW plans it holds. */
static void plan_free(pel_fft_plan *plan)
{
    pel__fft_planner_lock();
    for (int v = 0; v < PEL__FFT_VARIANTS; v++) {
        void *p = atomic_load_explicit(&plan->variants[v], memory_order_acquire);
        if (p != NULL)
            destroy_fftw_plan(plan->key.precision, p);
    }
    pel__fft_planner_unlock();
    pel_free(atomic_load_explicit(&plan->spare_scratch, memory_order_acquire));
    free(plan);
}

pel_status pel__fft_plan_new(const pel__fft_key *key, int variant, const char *function, pel_fft_plan **result)
{
    pel_fft_plan *plan;
    pel_status status = plan_alloc(key, function, &plan);
    variant_request request = {0, 0, 0, 0};
    void *ignored;

    if (status != PEL_OK)
        return status;
    request.flags = effort_flags(plan->variant_effort);
    if (key->effort == PEL_FFT_AUTO) {
        /* ESTIMATE now; the background planner upgrades it unless wisdom
         * already gives the MEASURE plan (make_variant_as clears this). */
        request.probe_wisdom = 1;
        atomic_store_explicit(&plan->upgrade, PEL__FFT_UPGRADE_WANTED, memory_order_relaxed);
    }
    status = make_variant_as(plan, variant, &request, function, &ignored);
    if (status != PEL_OK) {
        free(plan);
        return status;
    }
    *result = plan;
    return PEL_OK;
}

pel_status pel__fft_plan_new_measured(const pel__fft_key *key, unsigned variants, const char *function,
                                      pel_fft_plan **result)
{
    pel_fft_plan *plan;
    pel_status status = plan_alloc(key, function, &plan);
    variant_request request = {FFTW_MEASURE, 0, 1, 1};

    if (status != PEL_OK)
        return status;
    for (int v = 0; v < PEL__FFT_VARIANTS && status == PEL_OK; v++) {
        void *ignored;
        if (variants & (1u << v))
            status = make_variant_as(plan, v, &request, function, &ignored);
    }
    if (status != PEL_OK) {
        plan_free(plan);
        return status;
    }
    plan->measured = variants;
    *result = plan;
    return PEL_OK;
}

void pel__fft_plan_release(pel_fft_plan *plan)
{
    if (plan == NULL || atomic_fetch_sub_explicit(&plan->references, 1, memory_order_acq_rel) != 1)
        return;
    plan_free(plan);
}

/* ------------------------------------------------------------ execution */

static void execute_fftw(const pel_fft_plan *plan, void *fftw_plan_pointer, void *in, void *out)
{
    if (plan->key.kind == PEL_FFT_R2R) {
        pel__fft_r2r_execute(&plan->key, fftw_plan_pointer, in, out);
        return;
    }
    if (plan->key.precision == PEL_FLOAT32) {
        switch (plan->key.kind) {
        case PEL_FFT_R2C:
            fftwf_execute_dft_r2c(fftw_plan_pointer, in, out);
            break;
        case PEL_FFT_C2R:
            fftwf_execute_dft_c2r(fftw_plan_pointer, in, out);
            break;
        default:
            fftwf_execute_dft(fftw_plan_pointer, in, out);
            break;
        }
        return;
    }
    switch (plan->key.kind) {
    case PEL_FFT_R2C:
        fftw_execute_dft_r2c(fftw_plan_pointer, in, out);
        break;
    case PEL_FFT_C2R:
        fftw_execute_dft_c2r(fftw_plan_pointer, in, out);
        break;
    default:
        fftw_execute_dft(fftw_plan_pointer, in, out);
        break;
    }
}

/* Applies the normalisation; elementwise, so the bits do not depend on the
 * thread count. */
static void scale_output(const pel_fft_plan *plan, void *out, int nthreads)
{
    size_t n = plan->scale_count;

    if (plan->scale == 1.0)
        return;
    if (nthreads > 1 && n < (size_t)nthreads * 16384)
        nthreads = 1;
    if (plan->key.precision == PEL_FLOAT32) {
        float *x = out, scale = (float)plan->scale;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
        for (size_t i = 0; i < n; i++)
            x[i] *= scale;
    } else {
        double *x = out, scale = plan->scale;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
        for (size_t i = 0; i < n; i++)
            x[i] *= scale;
    }
}

/* FFTW's SIMD codelets need arrays aligned like the ones the plan was made
 * for; fftw_alignment_of() is 0 for pel_malloc'd scratch. */
static int misaligned(int precision, const void *p)
{
    return precision == PEL_FLOAT32 ? fftwf_alignment_of((float *)(uintptr_t)p) != 0
                                    : fftw_alignment_of((double *)(uintptr_t)p) != 0;
}

pel_status pel__fft_check_arrays(const pel__fft_key *key, size_t in_bytes, size_t out_bytes, const void *in,
                                 const void *out, const char *function)
{
    size_t scalar = scalar_size(key->precision);
    uintptr_t in_address = (uintptr_t)in, out_address = (uintptr_t)out;

    if (in == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "in must not be NULL");
    if (out == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "out must not be NULL");
    if (in_address % scalar != 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "in=%p is not aligned to its %zu-byte element type",
                         in, scalar);
    if (out_address % scalar != 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "out=%p is not aligned to its %zu-byte element type", out, scalar);
    if (key->in_place && in != out)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "the plan is in place but in=%p differs from out=%p", in, out);
    if (!key->in_place && in_address < out_address + out_bytes && out_address < in_address + in_bytes)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "the transform is out of place but in=%p and out=%p overlap", in, out);
    return PEL_OK;
}

int pel__fft_variant(const pel__fft_key *key, const void *in, const void *out)
{
    int variant = 0;
    int copy_input = key->kind == PEL_FFT_C2R && !key->in_place && key->rank > 1;
    int by_fft = key->kind == PEL_FFT_R2R && key->algorithm != PEL__FFT_ALGORITHM_FFTW;

    /* A copied input lives in pel_malloc'd memory, aligned; so does the
     * grid of a DCT by FFT, the only array its FFTW plan sees. */
    if (!by_fft && ((!copy_input && misaligned(key->precision, in)) || misaligned(key->precision, out)))
        variant |= PEL__FFT_UNALIGNED;
    if (key->nthreads > 1 && (pel_in_forked_child() || omp_in_parallel()))
        variant |= PEL__FFT_SINGLE;
    return variant;
}

pel_status pel__fft_plan_run_variant(const pel_fft_plan *plan, int variant, const void *in, void *out,
                                     const char *function)
{
    pel_status status = pel__fft_check_headroom(pel__fft_plan_headroom(plan, variant), "execute", function);

    if (status != PEL_OK)
        return status;
    return pel__fft_plan_run_prechecked(plan, variant, in, out, function);
}

pel_status pel__fft_plan_run_prechecked(const pel_fft_plan *plan, int variant, const void *in, void *out,
                                        const char *function)
{
    void *fftw_plan_pointer, *source = (void *)(uintptr_t)in, *copy = NULL;
    pel_fft_plan *mutable_plan = (pel_fft_plan *)(uintptr_t)plan;
    pel_status status;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    /* FFTW's team is fixed in the plan: with less than the whole team left
     * in the thread budget, the single-threaded variant runs instead, when
     * it exists or is instant to make (ESTIMATE, and the planner lock not
     * held by a background measurement); planning it with MEASURE would
     * cost seconds and WISDOM_ONLY may have no wisdom for it, so such plans
     * keep their full team. */
    if (!(variant & PEL__FFT_SINGLE) && plan->key.nthreads > 1 &&
        pel__team_take(&team, plan->key.nthreads) < plan->key.nthreads &&
        ((plan->variant_effort == PEL_FFT_ESTIMATE && !pel__fft_background_planning()) ||
         atomic_load_explicit(&mutable_plan->variants[variant | PEL__FFT_SINGLE], memory_order_acquire) != NULL))
        variant |= PEL__FFT_SINGLE;

    /* The variants are made on first need: the plan stays immutable to its
     * users, and the slot is published atomically. */
    fftw_plan_pointer = atomic_load_explicit(&mutable_plan->variants[variant], memory_order_acquire);
    if (fftw_plan_pointer == NULL) {
        status = make_variant(mutable_plan, variant, function, &fftw_plan_pointer);
        if (status != PEL_OK)
            return status;
    }
    if (plan->key.kind == PEL_FFT_R2R && plan->key.algorithm != PEL__FFT_ALGORITHM_FFTW) {
        status = pel__fft_dct_by_fft_run(mutable_plan, fftw_plan_pointer, in, out,
                                         (variant & PEL__FFT_SINGLE) ? 1 : plan->key.nthreads, function);
        if (status != PEL_OK)
            return status;
        scale_output(plan, out, (variant & PEL__FFT_SINGLE) ? 1 : plan->key.nthreads);
        return PEL_OK;
    }
    if (plan->copy_input) {
        /* FFTW's multi-dimensional c2r always destroys its input; pel
         * promises an out-of-place transform leaves it unchanged. */
        copy = pel_malloc(plan->in_bytes);
        if (copy == NULL)
            return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot allocate %zu bytes for the input copy",
                             plan->in_bytes);
        memcpy(copy, in, plan->in_bytes);
        source = copy;
    }
    execute_fftw(plan, fftw_plan_pointer, source, out);
    pel_free(copy);
    scale_output(plan, out, (variant & PEL__FFT_SINGLE) ? 1 : plan->key.nthreads);
    return PEL_OK;
}

/* ------------------------------------------------------------ public */

const char pel__fft_auto_refusal[] =
    "options->effort=PEL_FFT_AUTO is the one-shot calls' effort (pel_fft_set_default_effort()); a plan is "
    "immutable: give it PEL_FFT_ESTIMATE, PEL_FFT_MEASURE, PEL_FFT_PATIENT, PEL_FFT_EXHAUSTIVE or "
    "PEL_FFT_WISDOM_ONLY";

pel_status pel_fft_plan_create(pel_fft_kind kind, pel_precision precision, int rank, const size_t *dims,
                               size_t howmany, pel_fft_direction direction, int in_place,
                               const pel_fft_options *options, pel_fft_plan **plan)
{
    static const pel_fft_options defaults = {PEL_FFT_ESTIMATE, 0.0, 0, PEL_FFT_NORM_BACKWARD};
    pel__fft_key key;
    pel_fft_plan *made;
    pel_status status;

    PEL_CHECK_NOT_NULL(plan);
    *plan = NULL; /* the out-argument rule: NULL on every failure */
    if (options == NULL)
        options = &defaults;
    if (kind == PEL_FFT_R2R)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                        "kind=PEL_FFT_R2R needs the per-dimension kinds: use pel_fft_r2r_plan_create()");
    if (options->effort == PEL_FFT_AUTO)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "%s", pel__fft_auto_refusal);
    status = pel__fft_key_init(&key, __func__, kind, precision, rank, dims, howmany, direction, in_place,
                               options->effort, options->time_limit, options->nthreads, options->norm, NULL,
                               NULL);
    if (status != PEL_OK)
        return status;
    status = pel__fft_plan_new(&key, 0, __func__, &made);
    if (status != PEL_OK)
        return status;
    /* Only plans handed to the user are registered: they hold exactly one
     * reference (the owner's), because one-shot calls and convolutions use
     * the cache's own plans, never a user's. So unregistering on destroy
     * and dropping that reference always go together. */
    status = pel__handle_register(&made->handle, PEL__HANDLE_FFT_PLAN, (int)key.precision, __func__);
    if (status != PEL_OK) {
        pel__fft_plan_release(made);
        return status;
    }
    *plan = made;
    return PEL_OK;
}

pel_status pel_fft_execute(const pel_fft_plan *plan, const void *in, void *out)
{
    pel_status status = pel__handle_check(plan, PEL__HANDLE_FFT_PLAN, -1, __func__, "plan");

    if (status != PEL_OK)
        return status;
    status = pel__fft_check_arrays(&plan->key, plan->in_bytes, plan->out_bytes, in, out, __func__);
    if (status != PEL_OK)
        return status;
    return pel__fft_plan_run_variant(plan, pel__fft_variant(&plan->key, in, out), in, out, __func__);
}

void pel_fft_plan_destroy(pel_fft_plan *plan)
{
    /* A second destroy, or a pointer pel never made, is found in the
     * registry without reading the object: the message is recorded and
     * nothing is freed. */
    if (pel__handle_unregister(plan, PEL__HANDLE_FFT_PLAN, __func__))
        pel__fft_plan_release(plan);
}

int pel_fft_plan_threads(const pel_fft_plan *plan)
{
    if (plan == NULL || pel__handle_check(plan, PEL__HANDLE_FFT_PLAN, -1, __func__, "plan") != PEL_OK)
        return 0;
    return plan->key.nthreads;
}
