/* DCT-II and DCT-III by one real FFT of the whole grid (Makhoul's algorithm
 * in n dimensions), for the r2r keys where it beats FFTW's REDFT10/REDFT01.
 *
 * Why: FFTW runs a multi-dimensional REDFT10 as one 1-D r2r per line and
 * axis, each with its own O(n) pre- and post-processing around a small real
 * FFT; an r2c of the same grid is 2-3x faster (256^3: 0.098 s against
 * 0.243 s, docs/fft.md). Here the DCT is three passes over the data plus
 * one n-D r2c (or c2r), planned, cached and upgraded like every other FFTW
 * plan of pel.
 *
 * DCT-II (FFTW's REDFT10, y[k] = 2 sum_j x[j] cos(pi (2j+1) k / 2n) along
 * every axis):
 *   1. v[j] = x[p(j)] along every axis, p(j) = 2j for 2j < n, else
 *      2(n-1-j)+1 (evens ascending, then odds descending);
 *   2. V = the n-D real DFT of v (r2c, in place on a padded grid);
 *   3. with t_a(e) = exp(-i pi e / 2 n_a), 1-D: y[k] = 2 Re(t(k) V[k]).
 *      In d dimensions the product of d real parts is 2^(1-d) times the
 *      sum of the real parts of the 2^(d-1) products where every factor but
 *      the last may be conjugated, and a conjugated factor is the same term
 *      at the index -k. So
 *        y[k] = 2 sum_c Re(prod_{a<d} t_a(c_a k_a) t_d(k_d) V[c k]),
 *      and the half spectrum r2c keeps gives both y[.., m] and
 *      y[.., n-m] from the same U[m] = sum_c A_c V[c1 k1, c2 k2, m]
 *      (Hermitian symmetry and t_d(n-m) = -i conj(t_d(m))): the real part
 *      and minus the imaginary part of t_d(m) U[m].
 * DCT-III (REDFT01) is n_1..n_d * 2^d times the inverse of DCT-II, and
 * inverting the three steps gives: Z[k] = prod_a conj(t_a(k_a)) times the
 * product over axes of (1 - i R_a) applied to X, R_a the reflection
 * k_a -> n_a - k_a with X = 0 at index n_a; then v = c2r(Z) (FFTW's
 * unnormalised backward transform) and x[p(j)] = v[j].
 *
 * The path takes even sizes only: Makhoul's reordering and the index
 * algebra work for odd n too, but only even sizes are tested and measured,
 * so the rule (pel__fft_dct_by_fft_choose()) leaves odd ones to FFTW. */
#include "config.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <fftw3.h>

#include "core/error.h"
#include "fft/plan.h"

/* A transform of rank 1-3 seen as howmany grids of n1 x n2 x n3 (leading
 * axes the transform lacks have size 1). */
typedef struct dct_geometry {
    int rank;
    size_t howmany, n1, n2, n3;
} dct_geometry;

static void geometry_of(const pel__fft_key *key, dct_geometry *g)
{
    size_t padded[3] = {1, 1, 1};

    for (int d = 0; d < key->rank; d++)
        padded[3 - key->rank + d] = key->dims[d];
    g->rank = key->rank;
    g->howmany = key->howmany;
    g->n1 = padded[0];
    g->n2 = padded[1];
    g->n3 = padded[2];
}

/* The input index of Makhoul's reordering at output index j of n. */
static size_t dct_source_index(size_t j, size_t n)
{
    return 2 * j < n ? 2 * j : 2 * (n - 1 - j) + 1;
}

/* The row of the caller's array that Makhoul's reordering puts at row `row`
 * (batch, j1, j2) of the grid: the leading two axes choose whole rows. */
static size_t dct_source_row(const dct_geometry *g, size_t row)
{
    size_t b = row / (g->n1 * g->n2), j1 = row / g->n2 % g->n1, j2 = row % g->n2;

    return (b * g->n1 + dct_source_index(j1, g->n1)) * g->n2 + dct_source_index(j2, g->n2);
}

#define REAL double
#define KERNEL(name) name##_double
#include "fft/dct_by_fft_kernels.h"
#undef REAL
#undef KERNEL
#define REAL float
#define KERNEL(name) name##_float
#include "fft/dct_by_fft_kernels.h"
#undef REAL
#undef KERNEL

/* The rule's thresholds, from instruction counts of both paths on one
 * thread with MEASURE plans (callgrind, docs/fft.md "DCT by FFT"): the FFT
 * path executes 1.3-1.7x fewer instructions from 4096 points in all with
 * rows of 16 or more, and loses on short rows (3-D 8^3: 0.38x, its per-row
 * set-up dominates) and on a single 1-D transform (4096 points: 0.75x, the
 * twiddle table of n/2 sines and cosines costs as much as FFTW's REDFT10). */
enum { DCT_BY_FFT_MIN_TOTAL = 4096, DCT_BY_FFT_MIN_ROW = 16, DCT_BY_FFT_MIN_1D = 256, DCT_BY_FFT_MIN_1D_BATCH = 4 };

/* Scalars of the padded grid, or 0 when the count overflows. */
static size_t grid_scalars(const dct_geometry *g)
{
    size_t scalars;

    if (!pel__mul_size(g->howmany, g->n1, &scalars) || !pel__mul_size(scalars, g->n2, &scalars) ||
        !pel__mul_size(scalars, 2 * (g->n3 / 2 + 1), &scalars))
        return 0;
    return scalars;
}

/* Scalars of the whole execution scratch: the grid, one zero row (the
 * reflections at index n of DCT-III), the three twiddle tables. */
static size_t scratch_scalars(const dct_geometry *g)
{
    size_t grid = grid_scalars(g), extra = g->n3 + 2 * (g->n1 + g->n2 + g->n3 / 2 + 1);

    if (grid == 0 || grid > SIZE_MAX / 8 - extra)
        return 0;
    return grid + extra;
}

static atomic_int forced_choice; /* test hook: -1 never, 0 the rule, 1 whenever the kinds and sizes allow */

void pel__fft_dct_by_fft_test_force(int mode)
{
    atomic_store(&forced_choice, mode < 0 ? -1 : mode > 0 ? 1 : 0);
}

void pel__fft_dct_by_fft_choose(pel__fft_key *key)
{
    int forced = atomic_load_explicit(&forced_choice, memory_order_relaxed);
    int kind = key->r2r_kinds & 0xf, all_same = 1, even = 1;
    size_t points = 1;
    dct_geometry g;

    key->algorithm = PEL__FFT_ALGORITHM_FFTW;
    for (int d = 0; d < key->rank; d++) {
        all_same = all_same && ((key->r2r_kinds >> (4 * d)) & 0xf) == kind;
        even = even && key->dims[d] % 2 == 0;
        points *= key->dims[d]; /* no overflow: compute_sizes checked the arrays */
    }
    if (!all_same || !even || (kind != PEL_FFT_DCT2 && kind != PEL_FFT_DCT3))
        return;
    geometry_of(key, &g);
    if (scratch_scalars(&g) == 0)
        return;
    if (forced < 0)
        return;
    if (forced == 0) {
        size_t last = key->dims[key->rank - 1];
        int wins = key->rank == 1
                       ? last >= DCT_BY_FFT_MIN_1D && key->howmany >= DCT_BY_FFT_MIN_1D_BATCH
                       : last >= DCT_BY_FFT_MIN_ROW && points * key->howmany >= DCT_BY_FFT_MIN_TOTAL;
        if (!wins)
            return;
    }
    key->algorithm = kind == PEL_FFT_DCT2 ? PEL__FFT_ALGORITHM_DCT2_BY_FFT : PEL__FFT_ALGORITHM_DCT3_BY_FFT;
}

size_t pel__fft_dct_by_fft_plan_bytes(const pel__fft_key *key)
{
    dct_geometry g;

    geometry_of(key, &g);
    return grid_scalars(&g) * (key->precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double));
}

void *pel__fft_dct_by_fft_planner(const pel__fft_key *key, void *grid, unsigned flags)
{
    fftw_iodim64 dims[PEL_FFT_MAX_RANK], batch;
    ptrdiff_t real_stride = 1, complex_stride = 1;
    int r2c = key->algorithm == PEL__FFT_ALGORITHM_DCT2_BY_FFT, batch_rank = key->howmany > 1;

    /* In place on the padded grid: a row holds n/2+1 complex numbers, that
     * is 2(n/2+1) reals. The guru strides count reals on the real side and
     * complex numbers on the complex side. */
    for (int d = key->rank - 1; d >= 0; d--) {
        dims[d].n = (ptrdiff_t)key->dims[d];
        dims[d].is = r2c ? real_stride : complex_stride;
        dims[d].os = r2c ? complex_stride : real_stride;
        if (d == key->rank - 1) {
            complex_stride = (ptrdiff_t)(key->dims[d] / 2 + 1);
            real_stride = 2 * complex_stride;
        } else {
            complex_stride *= (ptrdiff_t)key->dims[d];
            real_stride *= (ptrdiff_t)key->dims[d];
        }
    }
    batch.n = (ptrdiff_t)key->howmany;
    batch.is = r2c ? real_stride : complex_stride;
    batch.os = r2c ? complex_stride : real_stride;
    if (key->precision == PEL_FLOAT32) {
        const fftwf_iodim64 *fdims = (const fftwf_iodim64 *)dims, *fbatch = (const fftwf_iodim64 *)&batch;
        if (r2c)
            return fftwf_plan_guru64_dft_r2c(key->rank, fdims, batch_rank, fbatch, grid, grid, flags);
        return fftwf_plan_guru64_dft_c2r(key->rank, fdims, batch_rank, fbatch, grid, grid, flags);
    }
    if (r2c)
        return fftw_plan_guru64_dft_r2c(key->rank, dims, batch_rank, &batch, grid, grid, flags);
    return fftw_plan_guru64_dft_c2r(key->rank, dims, batch_rank, &batch, grid, grid, flags);
}

pel_status pel__fft_dct_by_fft_run(pel_fft_plan *plan, void *fftw_plan_pointer, const void *in, void *out,
                                   int nthreads, const char *function)
{
    const pel__fft_key *key = &plan->key;
    dct_geometry g;
    size_t grid, scalar = key->precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    void *scratch, *expected = NULL;

    geometry_of(key, &g);
    grid = grid_scalars(&g);
    /* The plan's spare scratch when no other call holds it, else a new
     * one: fresh memory costs page faults on every call (measured 0.05 s
     * quiet to 0.5 s loaded at 256^3, more than the pass that touches it).
     * This is the only allocation of the call, before anything is written
     * to out: a failure leaves the caller's arrays as they were. */
    scratch = atomic_exchange_explicit(&plan->spare_scratch, NULL, memory_order_acquire);
    if (scratch == NULL)
        scratch = pel_malloc(scratch_scalars(&g) * scalar);
    if (scratch == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function,
                         "cannot allocate %zu bytes of scratch for the DCT by FFT", scratch_scalars(&g) * scalar);
    if (key->precision == PEL_FLOAT32) {
        float *f = scratch, *zero = f + grid, *tables = zero + g.n3;
        fill_tables_float(&g, tables);
        if (key->algorithm == PEL__FFT_ALGORITHM_DCT2_BY_FFT) {
            permute_rows_float(&g, in, f, nthreads);
            fftwf_execute_dft_r2c(fftw_plan_pointer, f, (fftwf_complex *)f);
            dct2_post_float(&g, f, tables, out, nthreads);
        } else {
            memset(zero, 0, g.n3 * sizeof *zero);
            dct3_pre_float(&g, in, zero, tables, f, nthreads);
            fftwf_execute_dft_c2r(fftw_plan_pointer, (fftwf_complex *)f, f);
            unpermute_rows_float(&g, f, out, nthreads);
        }
    } else {
        double *f = scratch, *zero = f + grid, *tables = zero + g.n3;
        fill_tables_double(&g, tables);
        if (key->algorithm == PEL__FFT_ALGORITHM_DCT2_BY_FFT) {
            permute_rows_double(&g, in, f, nthreads);
            fftw_execute_dft_r2c(fftw_plan_pointer, f, (fftw_complex *)f);
            dct2_post_double(&g, f, tables, out, nthreads);
        } else {
            memset(zero, 0, g.n3 * sizeof *zero);
            dct3_pre_double(&g, in, zero, tables, f, nthreads);
            fftw_execute_dft_c2r(fftw_plan_pointer, (fftw_complex *)f, f);
            unpermute_rows_double(&g, f, out, nthreads);
        }
    }
    /* Kept for the next call unless another call put its own back first. */
    if (!atomic_compare_exchange_strong_explicit(&plan->spare_scratch, &expected, scratch, memory_order_release,
                                                 memory_order_relaxed))
        pel_free(scratch);
    return PEL_OK;
}
