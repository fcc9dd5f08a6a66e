/* pel-tune: measures this machine for pel and writes pel's wisdom file.
 *
 *   pel-tune [--output FILE] [--fft SIZE[,SIZE...]] [--stencil ROW[,ROW...]|none]
 *            [--time-limit SECONDS]
 *
 * Measures the machine model, plans FFTW MEASURE plans (double, c2c, pel's
 * automatic thread count) for the given FFT sizes (N for 1-D, NxM or NxMxK)
 * so that their wisdom goes in, measures the stencil blocking (like
 * PEL_TUNE=measure) for the stencil rows (VARIANT:DIMS, VARIANT one of 3d7,
 * 2d5, 3d27, 3d25r4; default: the common rows below, "none" for none) so
 * that the choices go in, has the batched gemm's cutoff to OpenBLAS measured,
 * and writes the wisdom file (FILE, else
 * $PEL_WISDOM_FILE, else ./pel.wisdom). Prints what it measured and wrote,
 * and the wall time. Exit status 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pel.h"

/* The batched gemm's cutoff to OpenBLAS: pel measures it at the first
 * batch with an item past the kernel table's constant (docs/matrix.md), so
 * one such batch (a single 64 x 64 x 64 item) puts it in the wisdom. */
static int measure_gemm_cutoff(void)
{
    enum { N = 64 };
    double *a = pel_calloc(3 * N * N, sizeof(double));
    pel_status status;

    if (a == NULL) {
        fprintf(stderr, "pel-tune: no memory for the gemm cutoff's matrices\n");
        return 1;
    }
    status = pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, N, N, N, 1.0, a, N, N * N, a + N * N,
                                     N, N * N, 0.0, a + 2 * N * N, N, N * N, 1);
    pel_free(a);
    if (status != PEL_OK) {
        fprintf(stderr, "pel-tune: gemm cutoff: %s\n", pel_last_error());
        return 1;
    }
    printf("  gemm_batch cutoff to OpenBLAS measured (see the wisdom's \"gemm\" lines)\n");
    return 0;
}

static int parse_dims(const char *text, size_t *dims)
{
    int rank = 0;
    const char *p = text;

    while (rank < 3) {
        char *end;
        unsigned long long value = strtoull(p, &end, 10);
        if (end == p || value == 0)
            return 0;
        dims[rank++] = (size_t)value;
        if (*end == '\0')
            return rank;
        if (*end != 'x')
            return 0;
        p = end + 1;
    }
    return 0;
}

/* The stencil rows of pel-bench's tune kernel and its quick suite, at the
 * sizes where the blocking matters (grids beyond the L2); each takes one
 * measured call of 16 steps, a few seconds for the largest on 2 threads. */
static const char *const default_stencil_rows =
    "3d7:128x128x128,3d7:256x256x256,2d5:2048x2048,2d5:4096x4096,3d27:128x128x128,3d25r4:128x128x128";

static const struct {
    const char *name;
    int ndim, radius;
    pel_stencil_shape shape;
} variants[] = {{"3d7", 3, 1, PEL_STENCIL_STAR},
                {"2d5", 2, 1, PEL_STENCIL_STAR},
                {"3d27", 3, 1, PEL_STENCIL_BOX},
                {"3d25r4", 3, 4, PEL_STENCIL_STAR}};

/* The variant index of the row VARIANT:DIMS and its dims, or -1 with a
 * message. */
static int parse_stencil_row(const char *text, size_t *dims)
{
    const char *colon = strchr(text, ':');
    int v = -1;

    for (int i = 0; colon != NULL && i < 4; i++)
        if ((size_t)(colon - text) == strlen(variants[i].name) &&
            strncmp(text, variants[i].name, (size_t)(colon - text)) == 0)
            v = i;
    if (v < 0 || parse_dims(colon + 1, dims) != variants[v].ndim) {
        fprintf(stderr, "pel-tune: --stencil row '%s' is not VARIANT:DIMS (3d7, 3d27, 3d25r4: NxMxK; 2d5: NxM)\n",
                text);
        return -1;
    }
    return v;
}

/* Nonzero when some row of the list is malformed (checked before anything
 * is measured). */
static int check_stencil_rows(const char *rows)
{
    char *copy = strdup(rows), *save = NULL;
    size_t dims[3];
    int failures = copy == NULL;

    for (char *row = copy ? strtok_r(copy, ",", &save) : NULL; row != NULL; row = strtok_r(NULL, ",", &save))
        failures += parse_stencil_row(row, dims) < 0;
    free(copy);
    return failures;
}

/* One measured call (PEL_STENCIL_CACHE_MEASURE) for the row VARIANT:DIMS:
 * Dirichlet faces, a smoothing stencil, random values; the choice it makes
 * goes into the wisdom. */
static int measure_stencil(const char *text)
{
    size_t dims[3], points = 1, ncoefficients;
    double coefficients[27];
    pel_boundary faces[6];
    pel_stencil_blocking measure = {{0, 0, 0}, 0, PEL_STENCIL_CACHE_MEASURE, 0};
    pel_stencil *stencil = NULL;
    double *grid, *work, t0 = pel_wtime();
    void *result;
    int v = parse_stencil_row(text, dims), rank;
    pel_status status;

    if (v < 0)
        return 1;
    rank = variants[v].ndim;
    ncoefficients = variants[v].shape == PEL_STENCIL_BOX ? 27 : 2 * (size_t)rank * (size_t)variants[v].radius + 1;
    for (size_t k = 0; k < ncoefficients; k++)
        coefficients[k] = k == ncoefficients / 2 ? 0.4 : 0.6 / (double)(ncoefficients - 1);
    for (int f = 0; f < 2 * rank; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 1.0};
    for (int a = 0; a < rank; a++)
        points *= dims[a];
    if (pel_stencil_create(PEL_FLOAT64, rank, variants[v].shape, variants[v].radius, coefficients, ncoefficients, 0,
                           0.0, &stencil) != PEL_OK ||
        pel_stencil_grid_alloc(stencil, dims, (void **)&grid) != PEL_OK) {
        fprintf(stderr, "pel-tune: stencil %s: %s\n", text, pel_last_error());
        pel_stencil_destroy(stencil);
        return 1;
    }
    if (pel_stencil_grid_alloc(stencil, dims, (void **)&work) != PEL_OK) {
        fprintf(stderr, "pel-tune: stencil %s: %s\n", text, pel_last_error());
        pel_free(grid);
        pel_stencil_destroy(stencil);
        return 1;
    }
    for (size_t i = 0; i < points; i++)
        grid[i] = (double)((i * 2654435761u) % 1000) / 1000.0; /* values in [0, 1), never all alike */
    status = pel_stencil_apply(stencil, dims, faces, grid, work, NULL, 16, &measure, &result);
    if (status != PEL_OK)
        fprintf(stderr, "pel-tune: stencil %s: %s\n", text, pel_last_error());
    else
        printf("  stencil %s: blocking measured in %.2f s\n", text, pel_wtime() - t0);
    pel_free(grid);
    pel_free(work);
    pel_stencil_destroy(stencil);
    return status != PEL_OK;
}

static int plan_size(const char *text, double time_limit)
{
    size_t dims[3];
    int rank = parse_dims(text, dims);
    pel_fft_options options = {PEL_FFT_MEASURE, time_limit, 0, PEL_FFT_NORM_BACKWARD};
    pel_fft_plan *plan = NULL;
    double t0 = pel_wtime();

    if (rank == 0) {
        fprintf(stderr, "pel-tune: --fft size '%s' is not N, NxM or NxMxK\n", text);
        return 1;
    }
    for (int in_place = 0; in_place <= 1; in_place++) {
        if (pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, rank, dims, 1, PEL_FFT_FORWARD, in_place, &options,
                                &plan) != PEL_OK) {
            fprintf(stderr, "pel-tune: planning %s: %s\n", text, pel_last_error());
            return 1;
        }
        pel_fft_plan_destroy(plan);
    }
    printf("  FFT %s: MEASURE plans (out of place and in place) in %.2f s\n", text, pel_wtime() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    const char *output = getenv("PEL_WISDOM_FILE"), *sizes = NULL, *stencil_rows = default_stencil_rows;
    double time_limit = 0, t0 = pel_wtime();
    pel_machine m;
    int failures = 0;

    if (output == NULL || output[0] == '\0')
        output = "pel.wisdom";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: pel-tune [--output FILE] [--fft SIZE[,SIZE...]] [--stencil ROW[,ROW...]|none] "
                   "[--time-limit SECONDS]\n  default stencil rows: %s\n", default_stencil_rows);
            return 0;
        } else if (i + 1 < argc && strcmp(argv[i], "--output") == 0) {
            output = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--fft") == 0) {
            sizes = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--stencil") == 0) {
            stencil_rows = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--time-limit") == 0) {
            time_limit = atof(argv[++i]);
        } else {
            fprintf(stderr, "pel-tune: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (strcmp(stencil_rows, "none") != 0 && check_stencil_rows(stencil_rows) != 0) {
        fprintf(stderr, "pel-tune: nothing written\n");
        return 1;
    }
    if (pel_machine_info(&m) != PEL_OK) {
        fprintf(stderr, "pel-tune: %s\n", pel_last_error());
        return 1;
    }
    printf("pel-tune: machine model measured on %d thread%s in %.0f ms\n", m.threads, m.threads == 1 ? "" : "s",
           m.measure_seconds * 1e3);
    for (int k = 0; k < 3; k++)
        printf("  L%d%s %zu KiB (%s; reported %zu KiB), %.1f GB/s\n", k + 1, k == 0 ? "d" : "", m.cache[k].bytes >> 10,
               pel_machine_source_name(m.cache[k].source), m.cache[k].reported_bytes >> 10, m.cache[k].gbps);
    printf("  memory %.1f GB/s (%s), FMA %.1f GFLOP/s (%s)\n", m.memory_gbps, pel_machine_source_name(m.memory_source),
           m.fma_gflops, pel_machine_source_name(m.fma_source));
    if (sizes != NULL) {
        char *copy = strdup(sizes), *save = NULL;
        for (char *size = strtok_r(copy, ",", &save); size != NULL; size = strtok_r(NULL, ",", &save))
            failures += plan_size(size, time_limit);
        free(copy);
    }
    if (strcmp(stencil_rows, "none") != 0) {
        char *copy = strdup(stencil_rows), *save = NULL;
        for (char *row = strtok_r(copy, ",", &save); row != NULL; row = strtok_r(NULL, ",", &save))
            failures += measure_stencil(row);
        free(copy);
    }
    failures += measure_gemm_cutoff();
    if (failures > 0) {
        fprintf(stderr, "pel-tune: nothing written (%d FFT size%s or stencil row%s failed)\n", failures,
                failures == 1 ? "" : "s", failures == 1 ? "" : "s");
        return 1;
    }
    if (pel_wisdom_export_file(output) != PEL_OK) {
        fprintf(stderr, "pel-tune: %s\n", pel_last_error());
        return 1;
    }
    printf("pel-tune: wrote %s in %.2f s\n", output, pel_wtime() - t0);
    return 0;
}
