/* pel-tune: measures this machine for pel and writes pel's wisdom file.
 *
 *   pel-tune [--output FILE] [--fft SIZE[,SIZE...]] [--time-limit SECONDS]
 *
 * Measures the machine model, plans FFTW MEASURE plans (double, c2c, pel's
 * automatic thread count) for the given FFT sizes (N for 1-D, NxM or NxMxK)
 * so that their wisdom goes in, and writes the wisdom file (FILE, else
 * $PEL_WISDOM_FILE, else ./pel.wisdom). Prints what it measured and wrote,
 * and the wall time. Exit status 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pel.h"

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
    const char *output = getenv("PEL_WISDOM_FILE"), *sizes = NULL;
    double time_limit = 0, t0 = pel_wtime();
    pel_machine m;
    int failures = 0;

    if (output == NULL || output[0] == '\0')
        output = "pel.wisdom";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: pel-tune [--output FILE] [--fft SIZE[,SIZE...]] [--time-limit SECONDS]\n");
            return 0;
        } else if (i + 1 < argc && strcmp(argv[i], "--output") == 0) {
            output = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--fft") == 0) {
            sizes = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--time-limit") == 0) {
            time_limit = atof(argv[++i]);
        } else {
            fprintf(stderr, "pel-tune: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
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
    if (failures > 0) {
        fprintf(stderr, "pel-tune: nothing written (%d FFT size%s failed)\n", failures, failures == 1 ? "" : "s");
        return 1;
    }
    if (pel_wisdom_export_file(output) != PEL_OK) {
        fprintf(stderr, "pel-tune: %s\n", pel_last_error());
        return 1;
    }
    printf("pel-tune: wrote %s in %.2f s\n", output, pel_wtime() - t0);
    return 0;
}
