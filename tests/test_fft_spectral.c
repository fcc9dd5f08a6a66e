/* pel_fft_helmholtz(): the serial periodic Poisson / Helmholtz solver.
 * Exact symbol: against analytic solutions (sums of Fourier modes, for
 * which the spectral solve is exact up to rounding). Second-order symbol:
 * the discrete residual shift*u - L_h u - (f - mean f), with L_h the
 * (2*ndim+1)-point Laplacian written out here as a naive periodic loop, must
 * vanish to rounding. Plus every error path, with u untouched. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pel_test.h"
#include "fft/plan.h" /* pel__fft_test_fail_plan_after */

static const double pi = 3.14159265358979323846;

static size_t total(int ndim, const size_t *dims)
{
    size_t n = 1;
    for (int a = 0; a < ndim; a++)
        n *= dims[a];
    return n;
}

/* Index -> coordinates of a row-major grid. */
static void coords(int ndim, const size_t *dims, size_t i, size_t *idx)
{
    for (int a = ndim - 1; a >= 0; a--) {
        idx[a] = i % dims[a];
        i /= dims[a];
    }
}

/* u = prod_a cos(2 pi m_a x_a / L_a + phase_a) + 0.25 sin(2 pi x_0 / L_0) (two
 * modes), f = shift u - Laplace u. */
static void analytic_pair(int ndim, const size_t *dims, const double *L, double shift, double *u, double *f)
{
    static const int m[3] = {2, 1, 3};
    static const double phase[3] = {0.3, 1.1, -0.7};
    size_t n = total(ndim, dims), idx[3];
    double k2 = 0.0, k2b = (2 * pi / L[0]) * (2 * pi / L[0]);
    for (int a = 0; a < ndim; a++)
        k2 += (2 * pi * m[a] / L[a]) * (2 * pi * m[a] / L[a]);
    for (size_t i = 0; i < n; i++) {
        double p = 1.0, x0;
        coords(ndim, dims, i, idx);
        for (int a = 0; a < ndim; a++)
            p *= cos(2 * pi * m[a] * (double)idx[a] / (double)dims[a] + phase[a]);
        x0 = (double)idx[0] / (double)dims[0];
        u[i] = p + 0.25 * sin(2 * pi * x0);
        f[i] = (shift + k2) * p + (shift + k2b) * 0.25 * sin(2 * pi * x0);
    }
}

static void test_exact_symbol(void)
{
    static const size_t shapes[][3] = {{16, 1, 1}, {12, 10, 1}, {8, 6, 10}, {9, 7, 8}};
    static const int ndims[] = {1, 2, 3, 3};
    const double L[3] = {1.0, 2.5, 0.75};
    for (int s = 0; s < 4; s++)
        for (int shifted = 0; shifted < 2; shifted++) {
            int nd = ndims[s];
            const size_t *dims = shapes[s];
            size_t n = total(nd, dims);
            double shift = shifted ? 2.75 : 0.0, worst = 0.0;
            double *u = malloc(n * sizeof *u), *f = malloc(n * sizeof *f), *got = malloc(n * sizeof *got);
            float *ff = malloc(n * sizeof *ff), *gf = malloc(n * sizeof *gf);
            analytic_pair(nd, dims, L, shift, u, f);
            PEL_TEST_OK(pel_fft_helmholtz(PEL_FLOAT64, nd, dims, L, PEL_SPECTRAL_EXACT, shift, f, got));
            for (size_t i = 0; i < n; i++)
                worst = fmax(worst, fabs(got[i] - u[i]));
            /* |u| <= 1.25; the FFT layer's bound 4 eps log2 N on f's and on
             * the solution's transforms, f's size over u's being at most
             * (shift + |k|^2) / (2 pi / L)^2 < 64 for these modes. */
            CU_ASSERT(worst <= 64 * 4 * DBL_EPSILON * log2((double)n) * 1.25);
            /* Float, in place (u == f). */
            for (size_t i = 0; i < n; i++)
                ff[i] = (float)f[i];
            PEL_TEST_OK(pel_fft_helmholtz(PEL_FLOAT32, nd, dims, L, PEL_SPECTRAL_EXACT, shift, ff, ff));
            worst = 0.0;
            for (size_t i = 0; i < n; i++)
                worst = fmax(worst, fabs((double)ff[i] - u[i]));
            CU_ASSERT(worst <= 64 * 4 * FLT_EPSILON * log2((double)n) * 1.25);
            free(u);
            free(f);
            free(got);
            free(ff);
            free(gf);
        }
}

/* shift*u - L_h u with the naive periodic (2*ndim+1)-point Laplacian. */
static void discrete_operator(int ndim, const size_t *dims, const double *L, double shift, const double *u,
                              double *out)
{
    size_t n = total(ndim, dims), idx[3], stride[3] = {1, 1, 1};
    for (int a = ndim - 2; a >= 0; a--)
        stride[a] = stride[a + 1] * dims[a + 1];
    for (size_t i = 0; i < n; i++) {
        double lap = 0.0;
        coords(ndim, dims, i, idx);
        for (int a = 0; a < ndim; a++) {
            double h = L[a] / (double)dims[a];
            size_t up = (idx[a] + 1) % dims[a], down = (idx[a] + dims[a] - 1) % dims[a];
            size_t iu = i + (up - idx[a]) * stride[a], id = i - (idx[a] - down) * stride[a];
            lap += (u[iu] - 2 * u[i] + u[id]) / (h * h);
        }
        out[i] = shift * u[i] - lap;
    }
}

static void test_fd2_residual(void)
{
    static const size_t shapes[][3] = {{15, 1, 1}, {9, 12, 1}, {6, 7, 5}};
    const double L[3] = {2.0, 1.0, 3.0};
    for (int s = 0; s < 3; s++)
        for (int shifted = 0; shifted < 2; shifted++) {
            int nd = s + 1;
            const size_t *dims = shapes[s];
            size_t n = total(nd, dims);
            double shift = shifted ? 0.5 : 0.0, mean = 0.0, fmax_abs = 0.0, worst = 0.0, umax = 0.0;
            double *f = malloc(n * sizeof *f), *u = malloc(n * sizeof *u), *r = malloc(n * sizeof *r);
            pel_test_fill(f, n, 77 + (uint64_t)s);
            PEL_TEST_OK(pel_fft_helmholtz(PEL_FLOAT64, nd, dims, L, PEL_SPECTRAL_FD2, shift, f, u));
            discrete_operator(nd, dims, L, shift, u, r);
            for (size_t i = 0; i < n; i++)
                mean += f[i] / (double)n;
            for (size_t i = 0; i < n; i++) {
                double want = shift > 0 ? f[i] : f[i] - mean;
                worst = fmax(worst, fabs(r[i] - want));
                fmax_abs = fmax(fmax_abs, fabs(f[i]));
                umax = fmax(umax, fabs(u[i]));
            }
            /* The operator's entries reach 4 ndim / h^2 times |u|: its
             * rounding is that times eps, plus the FFT bound on |f|. */
            {
                double hmin = L[0] / (double)dims[0];
                for (int a = 1; a < nd; a++)
                    hmin = fmin(hmin, L[a] / (double)dims[a]);
                CU_ASSERT(worst <= 64 * DBL_EPSILON * log2((double)n + 1) *
                                       (fmax_abs + 4.0 * nd * umax / (hmin * hmin)));
            }
            if (shift == 0) {
                double umean = 0.0;
                for (size_t i = 0; i < n; i++)
                    umean += u[i] / (double)n;
                CU_ASSERT(fabs(umean) <= 64 * DBL_EPSILON * umax);
            }
            free(f);
            free(u);
            free(r);
        }
}

static void test_errors(void)
{
    const char *fn = "pel_fft_helmholtz";
    size_t dims[2] = {4, 6}, zero[2] = {4, 0};
    double L[2] = {1, 1}, Lbad[2] = {1, NAN}, f[24], u[24], keep[24];
    for (int i = 0; i < 24; i++)
        f[i] = u[i] = keep[i] = 0.5 + i;
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz((pel_precision)9, 2, dims, L, PEL_SPECTRAL_EXACT, 0, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "precision=9");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 4, dims, L, PEL_SPECTRAL_EXACT, 0, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "ndim=4");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, NULL, L, PEL_SPECTRAL_EXACT, 0, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "dims");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, zero, L, PEL_SPECTRAL_EXACT, 0, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "dims[1]=0");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, dims, NULL, PEL_SPECTRAL_EXACT, 0, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "lengths");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, dims, Lbad, PEL_SPECTRAL_EXACT, 0, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "lengths[1]=nan");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, dims, L, (pel_spectral_symbol)5, 0, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "symbol=5");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, dims, L, PEL_SPECTRAL_EXACT, -2.385, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "shift=-2.385");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, dims, L, PEL_SPECTRAL_EXACT, INFINITY, f, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "shift=inf");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, dims, L, PEL_SPECTRAL_EXACT, 0, NULL, u),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "f must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, dims, L, PEL_SPECTRAL_EXACT, 0, f, NULL),
                          PEL_ERROR_INVALID_ARGUMENT, fn, "u must not be NULL");
    /* A planning failure after the forward transform: u is still untouched. */
    pel_fft_cache_clear();
    pel__fft_test_fail_plan_after(1);
    PEL_TEST_EXPECT_ERROR(pel_fft_helmholtz(PEL_FLOAT64, 2, dims, L, PEL_SPECTRAL_EXACT, 0, f, u),
                          PEL_ERROR_OUT_OF_MEMORY, fn, "failure injected");
    pel__fft_test_fail_plan_after(-1);
    CU_ASSERT(memcmp(u, keep, sizeof u) == 0);
}

static void add_suites(void)
{
    static const pel_test_case tests[] = {
        {"exact symbol against analytic solutions, 1-3-D, float and double", test_exact_symbol},
        {"second-order symbol: discrete residual", test_fd2_residual},
        {"errors", test_errors},
        {NULL, NULL},
    };
    pel_test_add_suite("fft_spectral", tests);
}

int main(void)
{
    return pel_test_main("test_fft_spectral", add_suites);
}
