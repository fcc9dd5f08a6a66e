/* Writes a 2-D field as an 8-bit binary PGM image (viewable anywhere,
 * convertible with `convert x.pgm x.png`), scaling [lo, hi] to 0..255.
 * Shared by the image-writing examples; a header so each example stays a
 * single file to read. */
#ifndef PEL_EXAMPLES_PGM_H
#define PEL_EXAMPLES_PGM_H

#include <stdio.h>
#include <stdlib.h>

/* field is rows x cols in C order; returns 0 or -1 (and prints why). */
static int write_pgm(const char *path, const double *field, size_t rows, size_t cols, double lo, double hi)
{
    FILE *file = fopen(path, "wb");
    unsigned char *line = malloc(cols);
    int ok = file != NULL && line != NULL;

    if (ok)
        ok = fprintf(file, "P5\n%zu %zu\n255\n", cols, rows) > 0;
    for (size_t i = 0; ok && i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            double t = hi > lo ? (field[i * cols + j] - lo) / (hi - lo) : 0.0;
            t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
            line[j] = (unsigned char)(t * 255.0 + 0.5);
        }
        ok = fwrite(line, 1, cols, file) == cols;
    }
    free(line);
    if (file != NULL && fclose(file) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "cannot write %s\n", path);
    return ok ? 0 : -1;
}

#endif
