/**
 * @file pel/fft.h
 * @brief Fast Fourier transforms backed by FFTW: immutable plans that run
 *        concurrently from any thread, one-shot calls with a thread-safe plan
 *        cache, FFTW wisdom, and FFT convolution of real arrays.
 *
 * Data layout. Arrays are contiguous and row-major (C order). A batch of
 * @c howmany transforms lies back to back: transform @c b starts at element
 * @c b times the size of one transform. Complex arrays are interleaved
 * (re, im) pairs of double (or float for PEL_FLOAT32): a pointer to
 * C99 double _Complex, std::complex<double>, fftw_complex or numpy
 * complex128 data can be passed as it is, which is why complex arguments are
 * `void *`. For a real-to-complex transform of dims n0 x ... x n(d-1) the
 * complex side holds n0 x ... x (n(d-1)/2 + 1) values, the non-redundant half
 * of the Hermitian spectrum (FFTW's and numpy's rfftn layout). In place, the
 * real side's last dimension is padded to 2*(n(d-1)/2 + 1) reals so that the
 * complex result fits in the same memory.
 *
 * Signs and scaling. Forward is exp(-2 pi i jk/n), backward exp(+2 pi i jk/n).
 * The normalisation follows numpy's norm= argument: PEL_FFT_NORM_BACKWARD
 * scales backward transforms by 1/N (N = points of one transform),
 * PEL_FFT_NORM_ORTHO scales both directions by 1/sqrt(N),
 * PEL_FFT_NORM_FORWARD scales forward transforms by 1/N. So a forward then
 * backward transform with the same norm returns the input.
 *
 * Threads. A plan runs on the thread count fixed when it was made
 * (options.nthreads, or automatically from pel's thread policy: 1 thread for
 * transforms too small to gain from threads). Executing a plan never takes a
 * lock; planning (FFTW's planner is not thread-safe) is serialised on one
 * pel-wide mutex.
 *
 * Reproducibility. A given plan gives the same bits on every run for the
 * same input. Plans made with PEL_FFT_ESTIMATE, or from imported wisdom, are
 * the same algorithm on every run; PEL_FFT_MEASURE and PEL_FFT_PATIENT time
 * candidates, so the chosen algorithm (and the last bits of the result) may
 * change from run to run and with the thread count. The deterministic mode is:
 * ESTIMATE (or imported wisdom) and a fixed thread count. The one-shot
 * calls' default, PEL_FFT_AUTO, starts on ESTIMATE and is upgraded to a
 * MEASURE plan in the background: its bits may change once, when the
 * upgrade lands (set a fixed effort with pel_fft_set_default_effort(), or
 * PEL_FFT_UPGRADE=0, for fixed bits).
 */
#ifndef PEL_FFT_H
#define PEL_FFT_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest rank of a transform or convolution. */
#define PEL_FFT_MAX_RANK 3

/** What a transform maps. */
typedef enum pel_fft_kind {
    PEL_FFT_C2C = 0, /**< complex to complex, forward or backward */
    PEL_FFT_R2C = 1, /**< real to complex (half spectrum), always forward */
    PEL_FFT_C2R = 2, /**< complex (half spectrum) to real, always backward */
    PEL_FFT_R2R = 3  /**< real to real (DCT/DST, see pel_fft_r2r()); made by pel_fft_r2r_plan_create() */
} pel_fft_kind;

/** Sign of the exponent; the values are FFTW's. */
typedef enum pel_fft_direction {
    PEL_FFT_FORWARD = -1, /**< exp(-2 pi i jk/n) */
    PEL_FFT_BACKWARD = 1  /**< exp(+2 pi i jk/n) */
} pel_fft_direction;

/** Which direction carries the 1/N factor, as numpy's norm=. */
typedef enum pel_fft_norm {
    PEL_FFT_NORM_BACKWARD = 0, /**< backward scaled by 1/N (numpy's default) */
    PEL_FFT_NORM_ORTHO = 1,    /**< both scaled by 1/sqrt(N): unitary */
    PEL_FFT_NORM_FORWARD = 2   /**< forward scaled by 1/N */
} pel_fft_norm;

/** How hard FFTW's planner looks for a fast algorithm (FFTW's flags). */
typedef enum pel_fft_effort {
    PEL_FFT_ESTIMATE = 0,   /**< heuristic, instant, same plan every run */
    PEL_FFT_MEASURE = 1,    /**< times candidates: seconds for large sizes */
    PEL_FFT_PATIENT = 2,    /**< times many more candidates */
    PEL_FFT_EXHAUSTIVE = 3, /**< times all candidates */
    PEL_FFT_WISDOM_ONLY = 4, /**< only from imported wisdom, else PEL_ERROR_UNSUPPORTED */
    /** The one-shot calls' default (pel_fft_set_default_effort() only, not
     *  a plan's effort): a new shape runs at once on an ESTIMATE plan (or on
     *  MEASURE wisdom when FFTW has some) while a background thread makes
     *  its MEASURE plan, which then replaces the cached plan. Results stay
     *  within the accuracy bounds; the last bits may change when the plan
     *  is upgraded (docs/fft.md, "Plan upgrades"). */
    PEL_FFT_AUTO = 5
} pel_fft_effort;

/**
 * Options of pel_fft_plan_create(). A zero-initialised struct means the
 * defaults: ESTIMATE, no planning time limit, automatic threads,
 * backward normalisation.
 */
typedef struct pel_fft_options {
    pel_fft_effort effort; /**< planner effort */
    double time_limit;     /**< seconds the planner may spend (FFTW's time limit); 0 = none */
    int nthreads;          /**< threads of the plan; 0 = automatic from pel's policy */
    pel_fft_norm norm;     /**< normalisation */
} pel_fft_options;

/** An immutable FFT plan; opaque. */
typedef struct pel_fft_plan pel_fft_plan;

/**
 * Creates a plan for @p howmany transforms of shape @p dims[0..rank-1]
 * (row-major, contiguous, batches back to back; see the file comment for the
 * layouts). @p kind picks c2c, r2c or c2r; @p direction must be
 * PEL_FFT_FORWARD for r2c and PEL_FFT_BACKWARD for c2r. @p in_place nonzero
 * plans a transform whose input and output are the same array. @p options may
 * be NULL for the defaults. Planning runs on scratch buffers, so no caller
 * array is touched; the plan then executes on any arrays of the right shape
 * (aligned or not) with pel_fft_execute().
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT (unknown kind, precision, direction,
 * effort or norm, or PEL_FFT_AUTO, which only the one-shot calls take: a
 * plan is immutable; rank outside 1..3; NULL dims or plan; a zero dimension or
 * howmany; a wrong direction for r2c/c2r; negative or non-finite time limit;
 * negative nthreads), PEL_ERROR_OVERFLOW (the arrays would exceed PTRDIFF_MAX
 * bytes), PEL_ERROR_OUT_OF_MEMORY (including when the memory FFTW may need
 * to plan, measured in docs/fft.md, cannot be allocated: pel refuses rather
 * than let FFTW abort), PEL_ERROR_UNSUPPORTED (WISDOM_ONLY without wisdom
 * for this problem), PEL_ERROR_BACKEND (FFTW refused the problem).
 * On error *plan is set to NULL (when @p plan itself is not NULL).
 * Thread-safe (planning is serialised).
 */
PEL_API pel_status pel_fft_plan_create(pel_fft_kind kind, pel_precision precision, int rank, const size_t *dims,
                                       size_t howmany, pel_fft_direction direction, int in_place,
                                       const pel_fft_options *options, pel_fft_plan **plan);

/**
 * Runs @p plan from @p in to @p out. Element types: double / double complex
 * for PEL_FLOAT64, float / float complex for PEL_FLOAT32; real arrays of r2c
 * input and c2r output, complex otherwise. An in-place plan needs in == out;
 * an out-of-place plan needs arrays that do not overlap, and leaves @p in
 * unchanged (c2r included: pel copies its input where FFTW would destroy it).
 * The arrays may have any alignment of their element type; arrays not
 * aligned like FFTW's SIMD code wants run on a second plan made for unaligned
 * data (planned once, on first use). Inside an OpenMP parallel region and in
 * a forked child (where libgomp cannot start threads), a multi-threaded plan
 * runs a single-threaded twin, also planned on first use.
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT (NULL, destroyed or foreign plan, NULL
 * array, in != out for an in-place plan, overlapping out-of-place arrays, an
 * array not aligned to its element type), PEL_ERROR_OUT_OF_MEMORY (the
 * memory FFTW may allocate while executing cannot be allocated), and the
 * planning errors when a twin plan must be made. @p out is untouched on
 * error. Thread-safe: many threads may execute the
 * same plan at once on different arrays, without locks.
 */
PEL_API pel_status pel_fft_execute(const pel_fft_plan *plan, const void *in, void *out);

/**
 * Frees a plan; NULL is ignored. No other thread may be using it. A plan
 * destroyed twice, or a pointer that is not a live plan, is not touched:
 * pel records "pel_fft_plan_destroy: ... destroyed twice, or not made by
 * pel" in pel_last_error() and frees nothing (best effort: see
 * docs/reliability.md).
 */
PEL_API void pel_fft_plan_destroy(pel_fft_plan *plan);

/** The number of threads @p plan runs on (0, with a message, for a NULL,
 *  destroyed or foreign plan). */
PEL_API int pel_fft_plan_threads(const pel_fft_plan *plan);

/**
 * One-shot complex-to-complex transform of @p howmany arrays of shape
 * @p dims[0..rank-1] (double complex), in place when in == out. The plan
 * comes from pel's plan cache (made on a miss with the default effort, see
 * pel_fft_set_default_effort(), and pel's automatic thread count).
 *
 * Errors: those of pel_fft_plan_create() and pel_fft_execute(). Thread-safe.
 */
PEL_API pel_status pel_fft_c2c(int rank, const size_t *dims, size_t howmany, pel_fft_direction direction,
                               pel_fft_norm norm, const void *in, void *out);

/** pel_fft_c2c() for float complex data. */
PEL_API pel_status pel_fft_c2c_float(int rank, const size_t *dims, size_t howmany, pel_fft_direction direction,
                                     pel_fft_norm norm, const void *in, void *out);

/**
 * One-shot real-to-complex (forward) transform: @p in holds howmany real
 * arrays of shape dims, @p out the half spectra (last dimension n/2+1). In
 * place when (void *)in == out, with the padded real layout. Errors and
 * thread safety as pel_fft_c2c().
 */
PEL_API pel_status pel_fft_r2c(int rank, const size_t *dims, size_t howmany, pel_fft_norm norm, const double *in,
                               void *out);

/** pel_fft_r2c() for float data. */
PEL_API pel_status pel_fft_r2c_float(int rank, const size_t *dims, size_t howmany, pel_fft_norm norm,
                                     const float *in, void *out);

/**
 * One-shot complex-to-real (backward) transform: @p in holds the half
 * spectra, @p out the real arrays of shape dims (dims is the real shape).
 * Out of place, @p in is left unchanged. Errors and thread safety as
 * pel_fft_c2c().
 */
PEL_API pel_status pel_fft_c2r(int rank, const size_t *dims, size_t howmany, pel_fft_norm norm, const void *in,
                               double *out);

/** pel_fft_c2r() for float data. */
PEL_API pel_status pel_fft_c2r_float(int rank, const size_t *dims, size_t howmany, pel_fft_norm norm,
                                     const void *in, float *out);

/**
 * Sets the planner effort and time limit (seconds, 0 = none) of plans that
 * the one-shot calls and pel_fft_convolve() make on a cache miss. The default
 * is PEL_FFT_AUTO: ESTIMATE at once, upgraded to MEASURE in the background
 * (the time limit then bounds each background measurement).
 * pel_fft_convolve() plans PEL_FFT_AUTO as PEL_FFT_ESTIMATE, keeping its
 * bits fixed. A fixed effort (PEL_FFT_ESTIMATE for identical bits on every
 * run) is never upgraded. Both are part of the cache key, so changing them
 * never reuses a plan of another effort.
 * Errors: PEL_ERROR_INVALID_ARGUMENT (unknown effort, negative or
 * non-finite time limit). Thread-safe.
 */
PEL_API pel_status pel_fft_set_default_effort(pel_fft_effort effort, double time_limit);

/** The effort set by pel_fft_set_default_effort(). */
PEL_API pel_fft_effort pel_fft_get_default_effort(void);

/** Whether and how plans of effort PEL_FFT_AUTO are upgraded. */
typedef enum pel_fft_upgrade_mode {
    PEL_FFT_UPGRADE_OFF = 0,   /**< never: PEL_FFT_AUTO plans stay ESTIMATE (PEL_FFT_UPGRADE=0) */
    PEL_FFT_UPGRADE_IDLE = 1,  /**< the default: the planner thread runs as background work (SCHED_BATCH) and measures only while pel's threads are free */
    PEL_FFT_UPGRADE_NORMAL = 2 /**< the planner thread runs at normal priority (PEL_FFT_UPGRADE=2) */
} pel_fft_upgrade_mode;

/**
 * Sets the upgrade mode (the default comes from the environment variable
 * PEL_FFT_UPGRADE = 0, 1 or 2, else PEL_FFT_UPGRADE_IDLE). Switching stops
 * the planner thread after the measurement it is making (so it may wait
 * that long); PEL_FFT_UPGRADE_OFF drops the queued upgrades. Errors:
 * PEL_ERROR_INVALID_ARGUMENT (unknown mode). Thread-safe.
 */
PEL_API pel_status pel_fft_set_upgrade_mode(pel_fft_upgrade_mode mode);

/** The upgrade mode (PEL_FFT_UPGRADE_OFF in a forked child, which has no
 *  planner thread). */
PEL_API pel_fft_upgrade_mode pel_fft_get_upgrade_mode(void);

/**
 * Waits until no plan upgrade is queued or running, at most
 * @p timeout_seconds (0: just look), and stores in @p *pending (when
 * @p pending is not NULL) how many are still queued or running: 0 when
 * every upgrade has landed. Useful after a program's first steps, so that
 * the following ones run on MEASURE plans (on a machine kept busy the
 * background planner shares the cores with the rest), and before fork().
 * Errors: PEL_ERROR_INVALID_ARGUMENT (negative or non-finite timeout;
 * *pending untouched). Thread-safe.
 */
PEL_API pel_status pel_fft_upgrade_wait(double timeout_seconds, size_t *pending);

/** Counters of the plan upgrades since the process started. */
typedef struct pel_fft_upgrade_stats {
    size_t requested; /**< upgrades queued */
    size_t completed; /**< MEASURE plans published into the cache */
    size_t discarded; /**< measured, but the cached plan was gone (evicted, cleared) */
    size_t failed;    /**< the MEASURE planning failed (the ESTIMATE plan stays) */
    size_t dropped;   /**< not queued: the queue was full or out of memory (retried on a later hit) */
    size_t pending;   /**< queued or running now */
} pel_fft_upgrade_stats;

/** Reads the upgrade counters into @p stats. Errors: NULL stats. Thread-safe. */
PEL_API pel_status pel_fft_upgrade_get_stats(pel_fft_upgrade_stats *stats);

/** Counters of the one-shot plan cache since the last reset. */
typedef struct pel_fft_cache_stats {
    size_t hits;      /**< calls that found their plan */
    size_t misses;    /**< calls that had to plan */
    size_t evictions; /**< plans dropped to stay within the capacity */
    size_t entries;   /**< plans held now */
    size_t capacity;  /**< most plans held */
} pel_fft_cache_stats;

/**
 * Reads the cache counters into @p stats. Errors: NULL stats. Thread-safe.
 */
PEL_API pel_status pel_fft_cache_get_stats(pel_fft_cache_stats *stats);

/** Sets hits, misses and evictions back to zero. Thread-safe. */
PEL_API void pel_fft_cache_reset_stats(void);

/**
 * Drops every cached plan (plans in use by a running call are freed when it
 * finishes). Counters are kept. Thread-safe.
 */
PEL_API void pel_fft_cache_clear(void);

/**
 * Sets the most plans the cache holds (default 32), evicting the least
 * recently used ones beyond it. 0 disables caching: each one-shot call plans
 * and frees its own plan. Thread-safe.
 */
PEL_API pel_status pel_fft_cache_set_capacity(size_t capacity);

/**
 * Writes FFTW's accumulated wisdom of @p precision to the file @p path.
 * Errors: PEL_ERROR_INVALID_ARGUMENT (NULL path, unknown precision),
 * PEL_ERROR_IO (the file cannot be written). Thread-safe.
 */
PEL_API pel_status pel_fft_wisdom_export_file(pel_precision precision, const char *path);

/**
 * Adds the wisdom in file @p path (written by pel_fft_wisdom_export_file()
 * or fftw-wisdom with the same precision) to FFTW's wisdom.
 * The file is read whole (at most 16 MiB) and validated by pel before FFTW
 * sees it, as pel_fft_wisdom_import_string() does.
 * Errors: PEL_ERROR_INVALID_ARGUMENT, PEL_ERROR_IO (cannot open or read),
 * PEL_ERROR_PARSE (more than 16 MiB, not FFTW wisdom of this precision and
 * FFTW version; the message gives the line and column). FFTW's wisdom is
 * unchanged on error. Thread-safe.
 */
PEL_API pel_status pel_fft_wisdom_import_file(pel_precision precision, const char *path);

/**
 * Returns FFTW's wisdom of @p precision as a NUL-terminated string in
 * @p *text, allocated with pel_malloc() (free it with pel_free()).
 * Errors: PEL_ERROR_INVALID_ARGUMENT, PEL_ERROR_OUT_OF_MEMORY; *text is set
 * to NULL on error (when @p text is not NULL). Thread-safe.
 */
PEL_API pel_status pel_fft_wisdom_export_string(pel_precision precision, char **text);

/**
 * Adds the wisdom in @p text to FFTW's wisdom. pel checks the text against
 * the grammar FFTW exports before FFTW's importer sees it (FFTW's importer
 * aborts the process on some malformed texts): every number in canonical
 * form, every flags field within FFTW's bit-field widths, balanced
 * parentheses, this FFTW version and precision, at most 16 MiB.
 * Errors: PEL_ERROR_INVALID_ARGUMENT, PEL_ERROR_PARSE (the message gives the
 * line and column of the first fault). FFTW's wisdom is unchanged on error.
 * Thread-safe.
 */
PEL_API pel_status pel_fft_wisdom_import_string(pel_precision precision, const char *text);

/** Forgets all FFTW wisdom of both precisions; existing plans stay valid. Thread-safe. */
PEL_API void pel_fft_wisdom_forget(void);

/** Output size of pel_fft_convolve(), as scipy.signal.fftconvolve's mode=. */
typedef enum pel_fft_convolve_mode {
    PEL_FFT_CONVOLVE_FULL = 0,  /**< every overlap: a + b - 1 per dimension */
    PEL_FFT_CONVOLVE_SAME = 1,  /**< the size of @p a, centred in the full result */
    PEL_FFT_CONVOLVE_VALID = 2  /**< only full overlaps: max(a,b) - min(a,b) + 1 */
} pel_fft_convolve_mode;

/**
 * Computes the shape of pel_fft_convolve()'s output into
 * @p out_dims[0..rank-1]. For VALID, one array must be at least as large as
 * the other in every dimension (as scipy). Errors: PEL_ERROR_INVALID_ARGUMENT
 * (rank outside 1..3, NULL pointers, zero dimensions, unknown mode, VALID
 * with neither array covering the other). Thread-safe.
 */
PEL_API pel_status pel_fft_convolve_shape(int rank, const size_t *a_dims, const size_t *b_dims,
                                          pel_fft_convolve_mode mode, size_t *out_dims);

/**
 * Convolves real arrays @p a (shape @p a_dims) and @p b (shape @p b_dims),
 * row-major, of rank 1, 2 or 3, with FFTs padded to sizes whose factors are
 * 2, 3, 5 and 7, and writes the part chosen by @p mode to @p out (shape from
 * pel_fft_convolve_shape()). Matches scipy.signal.fftconvolve(a, b, mode).
 * Uses the plan cache and pel's threads. @p out must not overlap @p a or @p b.
 * The result has the same bits for every thread count (the tiles run
 * single-threaded FFTW plans in parallel).
 *
 * Errors: those of pel_fft_convolve_shape(), NULL arrays, overlapping out,
 * PEL_ERROR_OVERFLOW, PEL_ERROR_OUT_OF_MEMORY. Every buffer and plan is
 * acquired before the first output is written, so @p out is untouched on
 * error. Thread-safe.
 */
PEL_API pel_status pel_fft_convolve(int rank, const size_t *a_dims, const double *a, const size_t *b_dims,
                                    const double *b, pel_fft_convolve_mode mode, double *out);

/**
 * Real-to-real transforms: the discrete cosine and sine transforms of types
 * I-IV (FFTW's REDFT and RODFT kinds). Unscaled, with FFTW's and
 * scipy.fft's definitions (scipy's norm="backward" forward transforms), for
 * n points x[0..n-1]:
 *
 * - DCT-I:   y[k] = x[0] + (-1)^k x[n-1] + 2 sum_{j=1}^{n-2} x[j] cos(pi j k / (n-1))   (n >= 2)
 * - DCT-II:  y[k] = 2 sum_j x[j] cos(pi (2j+1) k / (2n))
 * - DCT-III: y[k] = x[0] + 2 sum_{j=1}^{n-1} x[j] cos(pi j (2k+1) / (2n))
 * - DCT-IV:  y[k] = 2 sum_j x[j] cos(pi (2j+1)(2k+1) / (4n))
 * - DST-I:   y[k] = 2 sum_j x[j] sin(pi (j+1)(k+1) / (n+1))
 * - DST-II:  y[k] = 2 sum_j x[j] sin(pi (2j+1)(k+1) / (2n))
 * - DST-III: y[k] = (-1)^k x[n-1] + 2 sum_{j=0}^{n-2} x[j] sin(pi (j+1)(2k+1) / (2n))
 * - DST-IV:  y[k] = 2 sum_j x[j] sin(pi (2j+1)(2k+1) / (4n))
 *
 * Each is its own inverse up to a factor (types I and IV) or the inverse of
 * the other (II and III): applying the inverse kind gives M times the input,
 * M being the logical size 2(n-1) for DCT-I, 2(n+1) for DST-I and 2n for
 * the others (the product over the dimensions of a multi-dimensional
 * transform). Boundary conditions: DCT-I/II suit Neumann problems on
 * vertex/cell grids, DST-I/II Dirichlet ones.
 */
typedef enum pel_fft_r2r_kind {
    PEL_FFT_DCT1 = 0, /**< DCT-I (FFTW_REDFT00) */
    PEL_FFT_DCT2 = 1, /**< DCT-II, "the" DCT (FFTW_REDFT10) */
    PEL_FFT_DCT3 = 2, /**< DCT-III, the inverse of DCT-II up to 1/M (FFTW_REDFT01) */
    PEL_FFT_DCT4 = 3, /**< DCT-IV (FFTW_REDFT11) */
    PEL_FFT_DST1 = 4, /**< DST-I (FFTW_RODFT00) */
    PEL_FFT_DST2 = 5, /**< DST-II (FFTW_RODFT10) */
    PEL_FFT_DST3 = 6, /**< DST-III, the inverse of DST-II up to 1/M (FFTW_RODFT01) */
    PEL_FFT_DST4 = 7  /**< DST-IV (FFTW_RODFT11) */
} pel_fft_r2r_kind;

/**
 * One-shot real-to-real transform of @p howmany arrays of shape
 * @p dims[0..rank-1] (double, row-major, back to back), with kind
 * @p kinds[d] along dimension d; in place when in == out. @p norm scales
 * the result: PEL_FFT_NORM_BACKWARD leaves it unscaled (the definitions
 * above), PEL_FFT_NORM_FORWARD multiplies by 1/M, PEL_FFT_NORM_ORTHO by
 * 1/sqrt(M), M the logical size (see pel_fft_r2r_kind). (The exactly
 * orthonormal DCT/DST also weights the first or last point by sqrt(2); the
 * Python layer's norm="ortho" does that.) Plans come from the one-shot plan
 * cache, as pel_fft_c2c().
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT (NULL kinds, an unknown kind, DCT-I
 * along a dimension of 1 point, and those of pel_fft_c2c()),
 * PEL_ERROR_OVERFLOW, PEL_ERROR_OUT_OF_MEMORY, PEL_ERROR_BACKEND. @p out is
 * untouched on error. Thread-safe.
 */
PEL_API pel_status pel_fft_r2r(int rank, const size_t *dims, size_t howmany, const pel_fft_r2r_kind *kinds,
                               pel_fft_norm norm, const double *in, double *out);

/** pel_fft_r2r() for float data. */
PEL_API pel_status pel_fft_r2r_float(int rank, const size_t *dims, size_t howmany, const pel_fft_r2r_kind *kinds,
                                     pel_fft_norm norm, const float *in, float *out);

/**
 * Creates an explicit real-to-real plan (kind PEL_FFT_R2R) for @p howmany
 * transforms of shape @p dims with @p kinds per dimension, run with
 * pel_fft_execute() and freed with pel_fft_plan_destroy(). @p options as
 * for pel_fft_plan_create() (its norm scales as pel_fft_r2r()'s). Errors:
 * those of pel_fft_plan_create() and pel_fft_r2r(); *plan is set to NULL on
 * error. Thread-safe.
 */
PEL_API pel_status pel_fft_r2r_plan_create(pel_precision precision, int rank, const size_t *dims, size_t howmany,
                                           const pel_fft_r2r_kind *kinds, int in_place,
                                           const pel_fft_options *options, pel_fft_plan **plan);

/**
 * The logical size M of a transform of @p n points of @p kind (2(n-1) for
 * DCT-I, 2(n+1) for DST-I, 2n otherwise): the factor between a transform
 * followed by its inverse kind and the identity. 0 for an unknown kind,
 * n = 0 or DCT-I of one point.
 */
PEL_API size_t pel_fft_r2r_logical_size(pel_fft_r2r_kind kind, size_t n);

/* BEGIN spectral solver block (issue 14) */

/** The symbol of a spectral solve (pel_fft_helmholtz(), pel_mpi_spectral_create()). */
typedef enum pel_spectral_symbol {
    PEL_SPECTRAL_EXACT = 0, /**< |k|^2, k = 2 pi m / L (m taken in -n/2..n/2): the continuous Laplacian,
                                 spectrally accurate for smooth periodic data */
    PEL_SPECTRAL_FD2 = 1    /**< sum over axes of 4/h^2 sin^2(pi m / n): the second-order (2*ndim+1)-point
                                 Laplacian, the discrete problem pel's Jacobi solvers converge to */
} pel_spectral_symbol;

/**
 * Solves shift*u - Laplace(u) = f on the periodic box of side lengths
 * @p lengths (ndim entries, finite, > 0), sampled at @p dims points per axis
 * (x_j = j * L / n), for real arrays @p f and @p u of shape dims (row-major,
 * unpadded; u == f allowed). The forward r2c transform, the division by
 * shift + symbol fused with the inverse's 1/N (one pass over the half
 * spectrum) and the c2r transform run on pel's one-shot plan cache. With
 * shift = 0 (Poisson) the mean of f is dropped and u has zero mean.
 * Errors: PEL_ERROR_INVALID_ARGUMENT (precision, ndim outside 1..3, NULL
 * dims / lengths / f / u, zero dims, lengths not finite and > 0, unknown
 * symbol, shift negative or not finite), PEL_ERROR_OVERFLOW,
 * PEL_ERROR_OUT_OF_MEMORY, and the FFT layer's errors. @p u is untouched on
 * error. Thread-safe.
 */
PEL_API pel_status pel_fft_helmholtz(pel_precision precision, int ndim, const size_t *dims, const double *lengths,
                                     pel_spectral_symbol symbol, double shift, const void *f, void *u);

/* END spectral solver block */

#ifdef __cplusplus
}
#endif

#endif
