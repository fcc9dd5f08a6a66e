/* Fuzz harness: the matrix layer's argument space on small sizes: batched
 * gemm (pel's own kernels; sizes up to 6, batches up to 4), out-of-place
 * transpose/copy, and the vector operations with strides -3..3 (0 refused),
 * with layouts, transposes and leading dimensions from the input (unknown
 * enum values and too-small leading dimensions included) and data with NaN,
 * Inf, -0 and huge values.
 *
 * Invariants: status OK => the result matches a naive loop (a finite
 * reference within (k+2)*8 eps of the magnitudes, a non-finite one matched by
 * a non-finite result: fused and unfused products may differ there) and
 * nothing outside the output is written; batched gemm gives the same bits on
 * 1 and N threads (pel's kernels promise it); status error => a message and
 * the output untouched. */
#include "fuzz.h"

#include <float.h>

static const int layouts[3] = {PEL_ROW_MAJOR, PEL_COL_MAJOR, 7};
static const int transposes[4] = {PEL_NO_TRANS, PEL_TRANS, PEL_CONJ_TRANS, 110};

/* Element (i, j) of an r x c matrix with leading dimension ld. */
static size_t at(int layout, size_t i, size_t j, size_t ld)
{
    return layout == PEL_ROW_MAJOR ? i * ld + j : j * ld + i;
}

static void check_close(double got, double ref, double scale, const char *what, size_t index)
{
    if (!isfinite(ref)) {
        fuzz_require(!isfinite(got), "%s[%zu] = %g, the reference is %g", what, index, got, ref);
        return;
    }
    fuzz_require(isfinite(got) && fabs(got - ref) <= scale + 1e-300, "%s[%zu] = %.17g, the reference is %.17g (bound %g)",
                 what, index, got, ref, scale);
}

static void fill(fuzz_input *in, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = fuzz_double(in);
}

enum { POOL = 4096 };

static void fuzz_gemm_batch(fuzz_input *in, int threads)
{
    static double a[POOL], b[POOL], c[POOL], c0[POOL], c1[POOL];
    int layout = layouts[fuzz_u8(in) % 3], ta = transposes[fuzz_u8(in) % 4], tb = transposes[fuzz_u8(in) % 4];
    size_t m = fuzz_size(in, 6), n = fuzz_size(in, 6), k = fuzz_size(in, 6), batch = fuzz_upto(in, 4);
    int short_ld = fuzz_u8(in) % 16 == 0;
    double alpha = fuzz_double(in), beta = fuzz_double(in);
    int valid_enums = layout != 7 && ta != 110 && tb != 110;
    /* op(A) is m x k: stored A is m x k (no trans) or k x m. */
    size_t ar = ta == PEL_NO_TRANS ? m : k, ac = ta == PEL_NO_TRANS ? k : m;
    size_t br = tb == PEL_NO_TRANS ? k : n, bc = tb == PEL_NO_TRANS ? n : k;
    size_t small = m <= 6 && n <= 6 && k <= 6;
    size_t lda = 1, ldb = 1, ldc = 1, sa = 0, sb = 0, sc = 0;
    int status;

    if (small) {
        lda = (layout == PEL_ROW_MAJOR ? ac : ar) + fuzz_upto(in, 2);
        ldb = (layout == PEL_ROW_MAJOR ? bc : br) + fuzz_upto(in, 2);
        ldc = (layout == PEL_ROW_MAJOR ? n : m) + fuzz_upto(in, 2);
        if (lda == 0)
            lda = 1;
        if (ldb == 0)
            ldb = 1;
        if (ldc == 0)
            ldc = 1;
        if (short_ld && ldc > 1)
            ldc--;
        sa = fuzz_u8(in) % 8 == 0 ? 0 : lda * (layout == PEL_ROW_MAJOR ? ar : ac);
        sb = fuzz_u8(in) % 8 == 0 ? 0 : ldb * (layout == PEL_ROW_MAJOR ? br : bc);
        sc = ldc * (layout == PEL_ROW_MAJOR ? m : n) + fuzz_upto(in, 3);
    } else if (m != 0 && n != 0 && batch != 0) {
        /* A huge, non-empty C would be written (validly) past the buffers
         * here, so such a call must be invalid: either its extent overflows
         * (with a minimal ldc) or ldc is 0. */
        size_t extent;
        ldc = __builtin_mul_overflow(m, n, &extent) ? (layout == PEL_ROW_MAJOR ? n : m) : 0;
    }
    fill(in, a, 64);
    fill(in, b, 64);
    fill(in, c, 64);
    for (size_t i = 64; i < POOL; i++) {
        a[i] = a[i % 64];
        b[i] = b[i % 64];
        c[i] = c[i % 64] * 0.5;
    }
    memcpy(c0, c, sizeof c);
    memcpy(c1, c, sizeof c);

    pel_set_num_threads_local(1);
    pel_clear_error();
    status = pel_dgemm_batch_strided((pel_layout)layout, (pel_transpose)ta, (pel_transpose)tb, m, n, k, alpha, a, lda,
                                     sa, b, ldb, sb, beta, c0, ldc, sc, batch);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_dgemm_batch_strided");
        fuzz_require(fuzz_same_bytes(c0, c, sizeof c), "C written on error (%s)", pel_last_error());
        return;
    }
    fuzz_require(valid_enums, "an unknown layout or transpose was accepted");
    fuzz_require(!short_ld || ldc >= (layout == PEL_ROW_MAJOR ? n : m) || m == 0 || n == 0 || batch == 0,
                 "a too-small ldc was accepted");
    if (!small) {
        fuzz_require(m == 0 || n == 0 || batch == 0, "a non-empty m=%zu n=%zu problem with ldc=%zu was accepted", m, n,
                     ldc);
        return; /* an empty C: nothing to compare */
    }
    pel_set_num_threads_local(threads);
    status = pel_dgemm_batch_strided((pel_layout)layout, (pel_transpose)ta, (pel_transpose)tb, m, n, k, alpha, a, lda,
                                     sa, b, ldb, sb, beta, c1, ldc, sc, batch);
    fuzz_require(status == PEL_OK, "the batch failed on %d threads only: %s", threads, pel_last_error());
    fuzz_require(fuzz_same_bytes(c0, c1, sizeof c), "batched gemm: 1 thread and %d threads differ", threads);

    for (size_t item = 0; item < batch; item++) {
        const double *A = a + item * sa, *B = b + item * sb;
        const double *C = c + item * sc;
        const double *G = c0 + item * sc;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                double sum = 0.0, mag = 0.0, ref;
                size_t ci = at(layout, i, j, ldc);
                for (size_t p = 0; p < k; p++) {
                    double x = ta == PEL_NO_TRANS ? A[at(layout, i, p, lda)] : A[at(layout, p, i, lda)];
                    double y = tb == PEL_NO_TRANS ? B[at(layout, p, j, ldb)] : B[at(layout, j, p, ldb)];
                    sum += x * y;
                    mag += fabs(x * y);
                }
                /* BLAS: alpha = 0 or k = 0 reads no A or B, beta = 0 reads no C. */
                ref = (alpha == 0.0 || k == 0) ? 0.0 : alpha * sum;
                if (beta != 0.0)
                    ref += beta * C[ci];
                /* A non-finite alpha or beta times a zero is NaN or a BLAS
                 * shortcut's 0, both defensible: only the bits-across-threads
                 * check holds then. */
                if (isfinite(alpha) && isfinite(beta))
                    check_close(G[ci], ref,
                                (double)(k + 2) * 8 * DBL_EPSILON *
                                    ((alpha == 0.0 ? 0.0 : fabs(alpha) * mag) + (beta == 0.0 ? 0.0 : fabs(beta * C[ci]))),
                                "C", item * sc + ci);
            }
    }
    /* Nothing outside the C items may change. */
    for (size_t e = 0; e < POOL; e++) {
        size_t item = sc ? e / sc : 0, off = sc ? e % sc : e;
        int inside = 0;
        if (item < batch) {
            size_t outer = off / ldc, inner = off % ldc;
            inside = layout == PEL_ROW_MAJOR ? (outer < m && inner < n) : (outer < n && inner < m);
        }
        if (!inside)
            fuzz_require(fuzz_same_bytes(&c0[e], &c[e], sizeof c[e]), "C[%zu] outside the items was written", e);
    }
}

static void fuzz_omatcopy(fuzz_input *in)
{
    static double a[256], b[256], b0[256];
    int layout = layouts[fuzz_u8(in) % 3], trans = transposes[fuzz_u8(in) % 4];
    size_t rows = fuzz_size(in, 8), cols = fuzz_size(in, 8);
    size_t lda = fuzz_upto(in, 10), ldb = fuzz_upto(in, 10);
    double alpha = fuzz_double(in);
    int status;

    fill(in, a, 256);
    fill(in, b, 256);
    memcpy(b0, b, sizeof b);
    pel_clear_error();
    status = pel_domatcopy((pel_layout)layout, (pel_transpose)trans, rows, cols, alpha, a, lda, b0, ldb);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_domatcopy");
        fuzz_require(fuzz_same_bytes(b0, b, sizeof b), "B written on error");
        return;
    }
    fuzz_require(layout != 7 && trans != 110, "an unknown layout or transpose was accepted");
    if (rows == 0 || cols == 0) {
        fuzz_require(fuzz_same_bytes(b0, b, sizeof b), "B written for an empty matrix");
        return;
    }
    fuzz_require(rows <= 8 && cols <= 8, "pel_domatcopy accepted rows=%zu cols=%zu with tiny leading dimensions", rows,
                 cols);
    {
        size_t br = trans == PEL_NO_TRANS ? rows : cols, bc = trans == PEL_NO_TRANS ? cols : rows;
        for (size_t e = 0; e < 256; e++) {
            size_t outer = e / ldb, inner = e % ldb, i, j;
            int inside = layout == PEL_ROW_MAJOR ? (outer < br && inner < bc) : (outer < bc && inner < br);
            if (!inside) {
                fuzz_require(fuzz_same_bytes(&b0[e], &b[e], sizeof b[e]), "B[%zu] outside the matrix was written", e);
                continue;
            }
            i = layout == PEL_ROW_MAJOR ? outer : inner;
            j = layout == PEL_ROW_MAJOR ? inner : outer;
            {
                double ref = alpha * (trans == PEL_NO_TRANS ? a[at(layout, i, j, lda)] : a[at(layout, j, i, lda)]);
                fuzz_require(fuzz_same_bytes(&ref, &b0[e], sizeof ref) || (isnan(ref) && isnan(b0[e])),
                             "B(%zu,%zu) = %g, not alpha*a = %g", i, j, b0[e], ref);
            }
        }
    }
}

/* Element i of a BLAS vector of n elements with increment inc. */
static size_t vec_at(size_t n, ptrdiff_t inc, size_t i)
{
    return inc > 0 ? i * (size_t)inc : (n - 1 - i) * (size_t)(-inc);
}

static void fuzz_vectors(fuzz_input *in)
{
    static double x[256], y[256], y0[256];
    size_t n = fuzz_upto(in, 40);
    ptrdiff_t incx = (ptrdiff_t)(fuzz_u8(in) % 7) - 3, incy = (ptrdiff_t)(fuzz_u8(in) % 7) - 3;
    double alpha = fuzz_double(in), result = -1.5, before = result;
    int op = fuzz_u8(in) % 3, status;

    fill(in, x, 128);
    fill(in, y, 128);
    memcpy(y0, y, sizeof y);
    pel_clear_error();
    if (op == 0)
        status = pel_daxpy(n, alpha, x, incx, y0, incy);
    else if (op == 1)
        status = pel_ddot(n, x, incx, y, incy, &result);
    else
        status = pel_dnrm2(n, x, incx, &result);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "vector op");
        fuzz_require(fuzz_same_bytes(y0, y, sizeof y) && result == before, "output written on error");
        return;
    }
    fuzz_require(n == 0 || (incx != 0 && (op == 2 || incy != 0)), "a zero increment was accepted");
    if (op == 0) {
        for (size_t i = 0; i < n; i++) {
            size_t ix = vec_at(n, incx, i), iy = vec_at(n, incy, i);
            /* alpha = 0: BLAS may return at once (y unchanged, even where x
             * holds NaN) or compute 0*x + y; both are accepted. */
            if (alpha == 0.0 && fuzz_same_bytes(&y0[iy], &y[iy], sizeof y[iy]))
                continue;
            check_close(y0[iy], alpha * x[ix] + y[iy], 2 * DBL_EPSILON * (fabs(alpha * x[ix]) + fabs(y[iy])), "y", iy);
        }
        for (size_t e = 0; e < 256; e++) {
            int inside = 0;
            for (size_t i = 0; i < n && !inside; i++)
                inside = vec_at(n, incy, i) == e;
            if (!inside)
                fuzz_require(fuzz_same_bytes(&y0[e], &y[e], sizeof y[e]), "y[%zu] outside the vector written", e);
        }
    } else if (op == 1) {
        double ref = 0.0, mag = 0.0;
        for (size_t i = 0; i < n; i++) {
            double p = x[vec_at(n, incx, i)] * y[vec_at(n, incy, i)];
            ref += p;
            mag += fabs(p);
        }
        check_close(result, ref, (512 + 8) * DBL_EPSILON * mag, "dot", 0);
    } else {
        double ref = 0.0, big = 0.0;
        for (size_t i = 0; i < n; i++)
            big = fmax(big, fabs(x[vec_at(n, incx, i)]));
        for (size_t i = 0; i < n && big > 0.0 && isfinite(big); i++) {
            double t = x[vec_at(n, incx, i)] / big;
            ref += t * t;
        }
        ref = big > 0.0 && isfinite(big) ? big * sqrt(ref) : big;
        if (isnan(big) || (n > 0 && isnan(x[vec_at(n, incx, 0)])))
            ref = NAN;
        for (size_t i = 0; i < n; i++)
            if (isnan(x[vec_at(n, incx, i)]))
                ref = NAN;
        /* Inf with a NaN elsewhere: BLAS implementations answer either. */
        if (isnan(ref) || isinf(ref))
            fuzz_require(!isfinite(result), "nrm2 = %g, the reference is %g", result, ref);
        else
            check_close(result, ref, (n + 4) * 4 * DBL_EPSILON * ref, "nrm2", 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = fuzz_begin(data, size);
    int threads = fuzz_u8(&in) % 4 + 1;

    switch (fuzz_u8(&in) % 3) {
    case 0:
        fuzz_gemm_batch(&in, threads);
        break;
    case 1:
        pel_set_num_threads_local(threads);
        fuzz_omatcopy(&in);
        break;
    default:
        pel_set_num_threads_local(threads);
        fuzz_vectors(&in);
    }
    pel_set_num_threads_local(0);
    return 0;
}
