/* The O(n) passes of the DCT-II / DCT-III by one real FFT (fft/dct_by_fft.c),
 * written once for both precisions: dct_by_fft.c includes this file twice,
 * with REAL (the scalar type) and KERNEL(name) (the name with a precision
 * suffix) defined. Not a public or reusable header.
 *
 * The layout they share (see dct_by_fft.c for the algebra): `grid` is the
 * padded in-place r2c/c2r array of howmany x n1 x n2 rows, each row `half`
 * = n3/2 + 1 complex numbers (2 * half scalars), where a rank-1 or rank-2
 * transform has n1 (and n2) = 1. `tables` holds, per axis, the twiddles
 * t[e] = exp(-i pi e / (2 n)) for e = 0..n-1 (axis 3: 0..n3/2) as
 * interleaved (cos, -sin) pairs. */

/* DCT-II step 1: the caller's rows, reordered, into the padded grid. */
static void KERNEL(permute_rows)(const dct_geometry *g, const REAL *in, REAL *grid, int nthreads)
{
    size_t rows = g->howmany * g->n1 * g->n2, n3 = g->n3, h = n3 / 2, stride = 2 * (h + 1);

    /* Makhoul's reordering along every axis at once: output index j takes
     * input index 2j for j < n/2 and 2(n-1-j)+1 above. The last axis is
     * de-interleaved inside the row; the other two choose the source row. */
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (size_t row = 0; row < rows; row++) {
        const REAL *restrict src = in + dct_source_row(g, row) * n3;
        REAL *restrict dst = grid + row * stride;
#pragma omp simd
        for (size_t j = 0; j < h; j++) {
            dst[j] = src[2 * j];
            dst[n3 - 1 - j] = src[2 * j + 1];
        }
    }
}

/* DCT-III last step: the inverse reordering, from the padded grid to the
 * caller's array. */
static void KERNEL(unpermute_rows)(const dct_geometry *g, const REAL *grid, REAL *out, int nthreads)
{
    size_t rows = g->howmany * g->n1 * g->n2, n3 = g->n3, h = n3 / 2, stride = 2 * (h + 1);

#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (size_t row = 0; row < rows; row++) {
        const REAL *restrict src = grid + row * stride;
        REAL *restrict dst = out + dct_source_row(g, row) * n3;
#pragma omp simd
        for (size_t j = 0; j < h; j++) {
            dst[2 * j] = src[j];
            dst[2 * j + 1] = src[n3 - 1 - j];
        }
    }
}

/* The twiddle tables (see the top of this file), computed in double. */
static void KERNEL(fill_tables)(const dct_geometry *g, REAL *tables)
{
    const double pi = 3.14159265358979323846264338327950288;
    const size_t counts[3] = {g->n1, g->n2, g->n3 / 2 + 1};
    const size_t sizes[3] = {g->n1, g->n2, g->n3};

    for (int a = 0; a < 3; a++) {
        for (size_t e = 0; e < counts[a]; e++) {
            double angle = pi * (double)e / (2.0 * (double)sizes[a]);
            tables[2 * e] = (REAL)cos(angle);
            tables[2 * e + 1] = (REAL)-sin(angle);
        }
        tables += 2 * counts[a];
    }
}

/* One DCT-II output row y from `count` rows of the half spectrum (see
 * dct2_post). Inlined with count a constant, so that the sum over the terms
 * unrolls and the loop over m vectorises; the first and middle outputs are
 * peeled off because they have no mirror. */
static inline __attribute__((always_inline)) void KERNEL(post_row)(int count, const REAL *const *terms,
                                                                  const REAL *ar, const REAL *ai,
                                                                  const REAL *restrict t3, REAL *restrict y,
                                                                  size_t n3)
{
    size_t h = n3 / 2;
    const REAL *restrict v0 = terms[0], *restrict v1 = terms[count > 1 ? 1 : 0];
    const REAL *restrict v2 = terms[count > 2 ? 2 : 0], *restrict v3 = terms[count > 3 ? 3 : 0];
    REAL a0r = ar[0], a0i = ai[0], a1r = count > 1 ? ar[1] : 0, a1i = count > 1 ? ai[1] : 0;
    REAL a2r = count > 2 ? ar[2] : 0, a2i = count > 2 ? ai[2] : 0, a3r = count > 3 ? ar[3] : 0;
    REAL a3i = count > 3 ? ai[3] : 0;

#define PEL_DCT_POST_TERM(m, ur, ui)                                                                              \
    do {                                                                                                         \
        ur = a0r * v0[2 * (m)] - a0i * v0[2 * (m) + 1];                                                          \
        ui = a0r * v0[2 * (m) + 1] + a0i * v0[2 * (m)];                                                          \
        if (count > 1) {                                                                                         \
            ur += a1r * v1[2 * (m)] - a1i * v1[2 * (m) + 1];                                                     \
            ui += a1r * v1[2 * (m) + 1] + a1i * v1[2 * (m)];                                                     \
        }                                                                                                        \
        if (count > 2) {                                                                                         \
            ur += a2r * v2[2 * (m)] - a2i * v2[2 * (m) + 1] + a3r * v3[2 * (m)] - a3i * v3[2 * (m) + 1];         \
            ui += a2r * v2[2 * (m) + 1] + a2i * v2[2 * (m)] + a3r * v3[2 * (m) + 1] + a3i * v3[2 * (m)];         \
        }                                                                                                        \
    } while (0)
    {
        REAL ur, ui;
        PEL_DCT_POST_TERM(0, ur, ui);
        y[0] = 2 * (t3[0] * ur - t3[1] * ui);
        PEL_DCT_POST_TERM(h, ur, ui);
        y[h] = 2 * (t3[2 * h] * ur - t3[2 * h + 1] * ui);
    }
#pragma omp simd
    for (size_t m = 1; m < h; m++) {
        REAL ur, ui;
        PEL_DCT_POST_TERM(m, ur, ui);
        y[m] = 2 * (t3[2 * m] * ur - t3[2 * m + 1] * ui);
        y[n3 - m] = -2 * (t3[2 * m] * ui + t3[2 * m + 1] * ur);
    }
#undef PEL_DCT_POST_TERM
}

/* DCT-II output rows from the r2c half spectrum V in grid:
 *   y[o1, o2, m]      =  2 Re(t3[m] U[m]),   m = 0..n3/2,
 *   y[o1, o2, n3 - m] = -2 Im(t3[m] U[m]),   m = 1..n3/2-1,
 * with U = sum over the sign choices c of A_c V[c1 o1, c2 o2, :] and
 * A_c = t1(c1 o1) t2(c2 o2), t(-e) = conj(t(e)). The sign is chosen on the
 * axes before the last that the transform has (rank 3: both, four terms;
 * rank 2: the middle one, two terms; rank 1: none). */
static inline void KERNEL(dct2_post_row)(const dct_geometry *g, const REAL *grid, const REAL *tables, REAL *out,
                                         size_t b, size_t o1, size_t o2)
{
    size_t n1 = g->n1, n2 = g->n2, n3 = g->n3, stride = 2 * (n3 / 2 + 1);
    const REAL *t1 = tables, *t2 = tables + 2 * n1, *t3 = tables + 2 * (n1 + n2);
    int signs1 = g->rank == 3 ? 2 : 1, signs2 = g->rank >= 2 ? 2 : 1;
    const REAL *terms[4];
    REAL ar[4], ai[4], *y = out + ((b * n1 + o1) * n2 + o2) * n3;
    int count = 0;

    for (int c1 = 0; c1 < signs1; c1++)
        for (int c2 = 0; c2 < signs2; c2++) {
            /* Index (c o) mod n and the twiddle of the signed exponent. */
            size_t i1 = c1 && o1 ? n1 - o1 : o1, i2 = c2 && o2 ? n2 - o2 : o2;
            REAL r1 = t1[2 * o1], m1 = c1 ? -t1[2 * o1 + 1] : t1[2 * o1 + 1];
            REAL r2 = t2[2 * o2], m2 = c2 ? -t2[2 * o2 + 1] : t2[2 * o2 + 1];
            terms[count] = grid + ((b * n1 + i1) * n2 + i2) * stride;
            ar[count] = r1 * r2 - m1 * m2;
            ai[count] = r1 * m2 + m1 * r2;
            count++;
        }
    if (count == 4)
        KERNEL(post_row)(4, terms, ar, ai, t3, y, n3);
    else if (count == 2)
        KERNEL(post_row)(2, terms, ar, ai, t3, y, n3);
    else
        KERNEL(post_row)(1, terms, ar, ai, t3, y, n3);
}

/* The loops of dct2_post and dct3_pre run over pairs of planes {p, n1-p}:
 * both planes of a pair read the same two planes of their source, so each
 * source plane comes from memory once (from cache the second time) instead
 * of twice, a half of n1 planes apart. */
static void KERNEL(dct2_post)(const dct_geometry *g, const REAL *grid, const REAL *tables, REAL *out, int nthreads)
{
    size_t n1 = g->n1, n2 = g->n2, pairs = n1 / 2 + 1, items = g->howmany * pairs * n2;

#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (size_t item = 0; item < items; item++) {
        size_t b = item / (pairs * n2), p = item / n2 % pairs, o2 = item % n2;
        KERNEL(dct2_post_row)(g, grid, tables, out, b, p, o2);
        if (p != 0 && 2 * p != n1)
            KERNEL(dct2_post_row)(g, grid, tables, out, b, n1 - p, o2);
    }
}

/* DCT-III input rows into the c2r half spectrum Z in grid:
 *   Z[k1, k2, m] = conj(t1(k1) t2(k2) t3(m)) G[m],
 *   G[m] = (P[m] - Q[n3-m]) - i (Q[m] + P[n3-m]),
 * P = X[k1, k2] - X[n1-k1, n2-k2], Q = X[n1-k1, k2] + X[k1, n2-k2] (rows of
 * the caller's input; an index equal to n is a zero row, as is index n3 in
 * a row). A padded axis (n = 1) has only index 0, so its reflections are
 * the zero row too. */
static inline void KERNEL(dct3_pre_row)(const dct_geometry *g, const REAL *in, const REAL *zero, const REAL *tables,
                                        REAL *grid, size_t b, size_t k1, size_t k2)
{
    size_t n1 = g->n1, n2 = g->n2, n3 = g->n3, h = n3 / 2, stride = 2 * (h + 1);
    const REAL *t1 = tables, *t2 = tables + 2 * n1, *t3 = tables + 2 * (n1 + n2);
    size_t row = (b * n1 + k1) * n2 + k2;
    const REAL *batch = in + b * n1 * n2 * n3;
    const REAL *restrict a00 = batch + (k1 * n2 + k2) * n3;
    const REAL *restrict a10 = k1 ? batch + ((n1 - k1) * n2 + k2) * n3 : zero;
    const REAL *restrict a01 = k2 ? batch + (k1 * n2 + (n2 - k2)) * n3 : zero;
    const REAL *restrict a11 = k1 && k2 ? batch + ((n1 - k1) * n2 + (n2 - k2)) * n3 : zero;
    /* B = conj(t1(k1) t2(k2)). */
    REAL br = t1[2 * k1] * t2[2 * k2] - t1[2 * k1 + 1] * t2[2 * k2 + 1];
    REAL bi = -(t1[2 * k1] * t2[2 * k2 + 1] + t1[2 * k1 + 1] * t2[2 * k2]);
    REAL *restrict z = grid + row * stride;

    /* m = 0 has no mirror (index n3 is zero): B times (P[0] - i Q[0]). */
    z[0] = br * (a00[0] - a11[0]) + bi * (a10[0] + a01[0]);
    z[1] = bi * (a00[0] - a11[0]) - br * (a10[0] + a01[0]);
#pragma omp simd
    for (size_t m = 1; m <= h; m++) {
        REAL p = a00[m] - a11[m], q = a10[m] + a01[m];
        REAL pr = a00[n3 - m] - a11[n3 - m], qr = a10[n3 - m] + a01[n3 - m];
        REAL gr = p - qr, gi = -(q + pr);
        /* conj(t3[m]) times B, then times G. */
        REAL cr = br * t3[2 * m] + bi * t3[2 * m + 1], ci = bi * t3[2 * m] - br * t3[2 * m + 1];
        z[2 * m] = cr * gr - ci * gi;
        z[2 * m + 1] = cr * gi + ci * gr;
    }
}

static void KERNEL(dct3_pre)(const dct_geometry *g, const REAL *in, const REAL *zero, const REAL *tables,
                             REAL *grid, int nthreads)
{
    size_t n1 = g->n1, n2 = g->n2, pairs = n1 / 2 + 1, items = g->howmany * pairs * n2;

#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
    for (size_t item = 0; item < items; item++) {
        size_t b = item / (pairs * n2), p = item / n2 % pairs, k2 = item % n2;
        KERNEL(dct3_pre_row)(g, in, zero, tables, grid, b, p, k2);
        if (p != 0 && 2 * p != n1)
            KERNEL(dct3_pre_row)(g, in, zero, tables, grid, b, n1 - p, k2);
    }
}
