/* Matrix Market (.mtx) coordinate files. The reader treats the file as
 * untrusted: lines are read into a fixed buffer, every field is checked, and
 * memory grows with the entries actually read, never with the sizes the
 * file declares, so a lying header cannot make it allocate terabytes. */
#define _GNU_SOURCE /* strerror_r returning the message, uselocale */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "sparse/csr.h"

#define MTX_MAX_LINE 4096
#define MTX_MAX_FIELDS 8

static const char read_function[] = "pel_csr_read_mtx";

typedef enum mtx_field { FIELD_REAL, FIELD_INTEGER, FIELD_PATTERN } mtx_field;
typedef enum mtx_symmetry { SYM_GENERAL, SYM_SYMMETRIC, SYM_SKEW } mtx_symmetry;

typedef struct mtx_reader {
    FILE *file;
    const char *path;
    size_t line;
    char text[MTX_MAX_LINE + 1];
    char *fields[MTX_MAX_FIELDS];
    int nfields;
} mtx_reader;

/* The entries read so far (after symmetric expansion), in file order. */
typedef struct triplets {
    uint32_t *row, *col;
    double *value;
    size_t count, capacity;
} triplets;

/* Records "PATH line N: reason" as the error and returns status. */
static pel_status reader_fail(const mtx_reader *r, pel_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static pel_status reader_fail(const mtx_reader *r, pel_status status, const char *format, ...)
{
    char reason[256];
    va_list args;

    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    return pel__fail(status, read_function, "%s line %zu: %s", r->path, r->line, reason);
}

/* Reads the next line into r->text and splits it into fields. Returns 1 for
 * a line, 0 at the end of the file, or a (negative) error status. */
static int next_line(mtx_reader *r)
{
    size_t n = 0;
    int c;
    char *cursor;

    for (;;) {
        c = getc_unlocked(r->file);
        if (c == EOF || c == '\n')
            break;
        if (c == '\0') {
            r->line++;
            return reader_fail(r, PEL_ERROR_PARSE, "NUL byte in a text file");
        }
        if (n == MTX_MAX_LINE) {
            r->line++;
            return reader_fail(r, PEL_ERROR_PARSE, "line is longer than %d bytes", MTX_MAX_LINE);
        }
        r->text[n++] = (char)c;
    }
    if (c == EOF) {
        if (ferror(r->file)) {
            char buffer[128];
            return reader_fail(r, PEL_ERROR_IO, "read error after this line: %s",
                               strerror_r(errno, buffer, sizeof buffer));
        }
        if (n == 0)
            return 0;
    }
    r->line++;
    if (n > 0 && r->text[n - 1] == '\r')
        n--;
    r->text[n] = '\0';
    r->nfields = 0;
    cursor = r->text;
    for (;;) {
        cursor += strspn(cursor, " \t");
        if (*cursor == '\0')
            break;
        if (r->nfields == MTX_MAX_FIELDS)
            return reader_fail(r, PEL_ERROR_PARSE, "more than %d fields", MTX_MAX_FIELDS);
        r->fields[r->nfields++] = cursor;
        cursor += strcspn(cursor, " \t");
        if (*cursor != '\0')
            *cursor++ = '\0';
    }
    return 1;
}

/* Next line that is not blank and not a % comment; same returns. */
static int next_data_line(mtx_reader *r)
{
    int status;
    while ((status = next_line(r)) == 1)
        if (r->nfields > 0 && r->fields[0][0] != '%')
            return 1;
    return status;
}

/* A non-negative decimal integer with digits only (no sign, no spaces). */
static int parse_unsigned(const char *text, size_t *value)
{
    size_t v = 0;

    if (*text == '\0')
        return 0;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return 0;
        if (!pel__mul_size(v, 10, &v) || !pel__add_size(v, (size_t)(*text - '0'), &v))
            return 0;
    }
    *value = v;
    return 1;
}

static pel_status parse_banner(mtx_reader *r, mtx_field *field, mtx_symmetry *symmetry)
{
    int status = next_line(r);

    if (status < 0)
        return status;
    if (status == 0) {
        r->line = 1;
        return reader_fail(r, PEL_ERROR_PARSE, "empty file, expected a %%%%MatrixMarket banner");
    }
    if (r->nfields < 1 || strcasecmp(r->fields[0], "%%MatrixMarket") != 0)
        return reader_fail(r, PEL_ERROR_PARSE, "the first line must start with %%%%MatrixMarket");
    if (r->nfields != 5)
        return reader_fail(r, PEL_ERROR_PARSE, "banner has %d fields, expected "
                           "'%%%%MatrixMarket matrix coordinate FIELD SYMMETRY'", r->nfields);
    if (strcasecmp(r->fields[1], "matrix") != 0)
        return reader_fail(r, PEL_ERROR_PARSE, "object '%.32s' is not 'matrix'", r->fields[1]);
    if (strcasecmp(r->fields[2], "array") == 0)
        return reader_fail(r, PEL_ERROR_UNSUPPORTED, "the dense 'array' format is not supported, only 'coordinate'");
    if (strcasecmp(r->fields[2], "coordinate") != 0)
        return reader_fail(r, PEL_ERROR_PARSE, "format '%.32s' is not 'coordinate' or 'array'", r->fields[2]);
    if (strcasecmp(r->fields[3], "real") == 0 || strcasecmp(r->fields[3], "double") == 0)
        *field = FIELD_REAL;
    else if (strcasecmp(r->fields[3], "integer") == 0)
        *field = FIELD_INTEGER;
    else if (strcasecmp(r->fields[3], "pattern") == 0)
        *field = FIELD_PATTERN;
    else if (strcasecmp(r->fields[3], "complex") == 0)
        return reader_fail(r, PEL_ERROR_UNSUPPORTED, "complex matrices are not supported");
    else
        return reader_fail(r, PEL_ERROR_PARSE, "field '%.32s' is not real, integer, pattern or complex", r->fields[3]);
    if (strcasecmp(r->fields[4], "general") == 0)
        *symmetry = SYM_GENERAL;
    else if (strcasecmp(r->fields[4], "symmetric") == 0)
        *symmetry = SYM_SYMMETRIC;
    else if (strcasecmp(r->fields[4], "skew-symmetric") == 0)
        *symmetry = SYM_SKEW;
    else if (strcasecmp(r->fields[4], "hermitian") == 0)
        return reader_fail(r, PEL_ERROR_UNSUPPORTED, "hermitian matrices are not supported");
    else
        return reader_fail(r, PEL_ERROR_PARSE, "symmetry '%.32s' is not general, symmetric, skew-symmetric or hermitian",
                           r->fields[4]);
    return PEL_OK;
}

static pel_status parse_sizes(mtx_reader *r, mtx_symmetry symmetry, size_t *rows, size_t *cols, size_t *entries)
{
    int status = next_data_line(r);
    unsigned __int128 most;

    if (status < 0)
        return status;
    if (status == 0)
        return reader_fail(r, PEL_ERROR_PARSE, "file ends before the size line 'rows cols entries'");
    if (r->nfields != 3 || !parse_unsigned(r->fields[0], rows) || !parse_unsigned(r->fields[1], cols) ||
        !parse_unsigned(r->fields[2], entries))
        return reader_fail(r, PEL_ERROR_PARSE, "size line must be three non-negative integers 'rows cols entries'");
    if (*rows > PEL_CSR_MAX_COLS || *cols > PEL_CSR_MAX_COLS)
        return reader_fail(r, PEL_ERROR_PARSE, "declared size %zu x %zu exceeds pel's limit of %zu", *rows, *cols,
                           PEL_CSR_MAX_COLS);
    /* Building needs about 24 bytes per row (row pointers while sorting, the
     * matrix's own, per-row counts), touched at once: a declared row count
     * beyond the machine's memory would not fail cleanly in malloc on an
     * overcommitting system but get the process killed, so refuse it here. */
    {
        long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
        if (pages > 0 && page_size > 0 &&
            (unsigned __int128)*rows * 24 > (unsigned __int128)pages * (unsigned long)page_size)
            return reader_fail(r, PEL_ERROR_PARSE, "declared %zu rows need %.3g GB of row pointers, more than the "
                               "%.3g GB of memory of this machine", *rows, (double)*rows * 24e-9,
                               (double)pages * (double)page_size * 1e-9);
    }
    if (symmetry != SYM_GENERAL && *rows != *cols)
        return reader_fail(r, PEL_ERROR_PARSE, "a %s matrix must be square, not %zu x %zu",
                           symmetry == SYM_SYMMETRIC ? "symmetric" : "skew-symmetric", *rows, *cols);
    if (symmetry == SYM_GENERAL)
        most = (unsigned __int128)*rows * *cols;
    else if (symmetry == SYM_SYMMETRIC)
        most = (unsigned __int128)*rows * (*rows + 1) / 2;
    else
        most = *rows > 0 ? (unsigned __int128)*rows * (*rows - 1) / 2 : 0;
    if ((unsigned __int128)*entries > most)
        return reader_fail(r, PEL_ERROR_PARSE, "declares %zu entries, more than a %zu x %zu %s matrix can hold",
                           *entries, *rows, *cols, symmetry == SYM_GENERAL ? "general" : "triangular");
    return PEL_OK;
}

static int triplets_push(triplets *t, uint32_t row, uint32_t col, double value)
{
    if (t->count == t->capacity) {
        size_t capacity = t->capacity ? 2 * t->capacity : 4096;
        uint32_t *rows = realloc(t->row, capacity * sizeof *rows);
        if (rows != NULL)
            t->row = rows;
        uint32_t *cols = realloc(t->col, capacity * sizeof *cols);
        if (cols != NULL)
            t->col = cols;
        double *values = realloc(t->value, capacity * sizeof *values);
        if (values != NULL)
            t->value = values;
        if (rows == NULL || cols == NULL || values == NULL)
            return 0;
        t->capacity = capacity;
    }
    t->row[t->count] = row;
    t->col[t->count] = col;
    t->value[t->count] = value;
    t->count++;
    return 1;
}

static pel_status parse_value(mtx_reader *r, const char *text, mtx_field field, pel_precision precision,
                              double *value)
{
    char *end;

    errno = 0;
    if (field == FIELD_INTEGER) {
        long long v = strtoll(text, &end, 10);
        if (end == text || *end != '\0')
            return reader_fail(r, PEL_ERROR_PARSE, "value '%.40s' is not an integer", text);
        if (errno == ERANGE)
            return reader_fail(r, PEL_ERROR_PARSE, "integer value '%.40s' is out of range", text);
        *value = (double)v;
        return PEL_OK;
    }
    *value = strtod(text, &end);
    if (end == text || *end != '\0')
        return reader_fail(r, PEL_ERROR_PARSE, "value '%.40s' is not a number", text);
    if (!isfinite(*value) || (precision == PEL_FLOAT32 && fabs(*value) > FLT_MAX))
        return reader_fail(r, PEL_ERROR_PARSE, "value '%.40s' is not a finite number in %s precision", text,
                           precision == PEL_FLOAT32 ? "single" : "double");
    return PEL_OK;
}

/* A one-based index in 1..limit, returned zero-based. */
static pel_status parse_index(mtx_reader *r, const char *text, const char *what, size_t limit, uint32_t *index)
{
    size_t v;
    if (!parse_unsigned(text, &v) || v < 1 || v > limit)
        return reader_fail(r, PEL_ERROR_PARSE, "%s index '%.40s' is not an integer in 1..%zu", what, text, limit);
    *index = (uint32_t)(v - 1);
    return PEL_OK;
}

static pel_status read_entries(mtx_reader *r, mtx_field field, mtx_symmetry symmetry, pel_precision precision,
                               size_t rows, size_t cols, size_t entries, triplets *t)
{
    int expected = field == FIELD_PATTERN ? 2 : 3;

    for (size_t n = 0; n < entries; n++) {
        uint32_t i = 0, j = 0;
        double value = 1.0;
        pel_status status;
        int line = next_data_line(r);

        if (line < 0)
            return line;
        if (line == 0)
            return reader_fail(r, PEL_ERROR_PARSE, "file ends after %zu of the %zu declared entries", n, entries);
        if (r->nfields != expected)
            return reader_fail(r, PEL_ERROR_PARSE, "entry has %d fields, expected %d (%s)", r->nfields, expected,
                               expected == 2 ? "row col" : "row col value");
        if ((status = parse_index(r, r->fields[0], "row", rows, &i)) != PEL_OK ||
            (status = parse_index(r, r->fields[1], "column", cols, &j)) != PEL_OK)
            return status;
        if (field != FIELD_PATTERN && (status = parse_value(r, r->fields[2], field, precision, &value)) != PEL_OK)
            return status;
        if (symmetry == SYM_SKEW && i == j)
            return reader_fail(r, PEL_ERROR_PARSE, "skew-symmetric matrix has a diagonal entry (%zu, %zu)",
                               (size_t)i + 1, (size_t)j + 1);
        if (!triplets_push(t, i, j, value) ||
            (symmetry != SYM_GENERAL && i != j && !triplets_push(t, j, i, symmetry == SYM_SKEW ? -value : value)))
            return pel__fail(PEL_ERROR_OUT_OF_MEMORY, read_function, "%s: cannot store %zu entries", r->path,
                             t->count + 1);
    }
    int status = next_data_line(r);
    if (status == 1)
        return reader_fail(r, PEL_ERROR_PARSE, "more entries than the %zu declared", entries);
    return status; /* 0 (PEL_OK) at the end of the file, else the error */
}

/* Sorts the triplets by row (stable, so duplicates keep their file order)
 * into CSR arrays and builds the matrix. */
static pel_status build_matrix(const triplets *t, size_t rows, size_t cols, pel_precision precision, pel_csr **out)
{
    size_t *row_ptr = calloc(rows + 2, sizeof *row_ptr);
    size_t *col_idx = malloc((t->count ? t->count : 1) * sizeof *col_idx);
    double *values = malloc((t->count ? t->count : 1) * sizeof *values);
    pel_status status;

    if (row_ptr == NULL || col_idx == NULL || values == NULL) {
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, read_function, "cannot allocate a %zu-row matrix of %zu entries",
                           rows, t->count);
    } else {
        /* row_ptr[i + 2] counts row i, so that after the prefix sum
         * row_ptr[i + 1] is where row i starts filling and ends at row i+1's
         * start. */
        for (size_t k = 0; k < t->count; k++)
            row_ptr[t->row[k] + 2]++;
        for (size_t i = 0; i < rows; i++)
            row_ptr[i + 2] += row_ptr[i + 1];
        for (size_t k = 0; k < t->count; k++) {
            size_t at = row_ptr[t->row[k] + 1]++;
            col_idx[at] = t->col[k];
            values[at] = t->value[k];
        }
        status = pel__csr_build(read_function, precision, rows, cols, row_ptr, col_idx, values, PEL_FLOAT64, out);
    }
    free(row_ptr);
    free(col_idx);
    free(values);
    return status;
}

pel_status pel_csr_read_mtx(const char *path, pel_precision precision, pel_csr **out)
{
    mtx_reader *r;
    triplets t = {NULL, NULL, NULL, 0, 0};
    mtx_field field = FIELD_REAL;
    mtx_symmetry symmetry = SYM_GENERAL;
    size_t rows = 0, cols = 0, entries = 0;
    pel_status status;
    locale_t c_locale, previous = (locale_t)0;

    if (out != NULL)
        *out = NULL; /* the out-argument rule: NULL on any failure */
    PEL_CHECK_NOT_NULL(path);
    PEL_CHECK_NOT_NULL(out);
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "precision=%d is not PEL_FLOAT64 or PEL_FLOAT32", (int)precision);
    r = malloc(sizeof *r);
    if (r == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "cannot allocate the line buffer");
    r->path = path;
    r->line = 0;
    r->file = fopen(path, "r");
    if (r->file == NULL) {
        char buffer[128];
        status = PEL_FAIL(PEL_ERROR_IO, "cannot open '%s': %s", path, strerror_r(errno, buffer, sizeof buffer));
        free(r);
        return status;
    }
    /* Numbers are written with a '.', whatever the caller's locale says. */
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_locale != (locale_t)0)
        previous = uselocale(c_locale);
    status = parse_banner(r, &field, &symmetry);
    if (status == PEL_OK)
        status = parse_sizes(r, symmetry, &rows, &cols, &entries);
    if (status == PEL_OK)
        status = read_entries(r, field, symmetry, precision, rows, cols, entries, &t);
    if (c_locale != (locale_t)0) {
        uselocale(previous);
        freelocale(c_locale);
    }
    fclose(r->file);
    free(r);
    if (status == PEL_OK)
        status = build_matrix(&t, rows, cols, precision, out);
    free(t.row);
    free(t.col);
    free(t.value);
    return status;
}

pel_status pel_csr_write_mtx(const pel_csr *matrix, const char *path)
{
    FILE *file;
    struct stat info;
    int ok, regular, saved_errno = 0;
    locale_t c_locale, previous = (locale_t)0;
    char buffer[128];

    PEL_CHECK_NOT_NULL(matrix);
    PEL_CHECK_NOT_NULL(path);
    file = fopen(path, "w");
    if (file == NULL)
        return PEL_FAIL(PEL_ERROR_IO, "cannot create '%s': %s", path, strerror_r(errno, buffer, sizeof buffer));
    /* Only a regular file we wrote may be removed on failure (never a
     * device such as /dev/full). */
    regular = fstat(fileno(file), &info) == 0 && S_ISREG(info.st_mode);
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_locale != (locale_t)0)
        previous = uselocale(c_locale);
    ok = fprintf(file, "%%%%MatrixMarket matrix coordinate real general\n%% written by pel %s\n%zu %zu %zu\n",
                 pel_version(), matrix->rows, matrix->cols, matrix->nnz) > 0;
    for (size_t p = 0, i = 0; i < matrix->rows && ok; i++) {
        while (i >= matrix->part_row[p + 1])
            p++; /* the part holding row i */
        for (size_t k = matrix->row_ptr[i]; k < matrix->row_ptr[i + 1] && ok; k++) {
            /* 17 significant digits (9 for float) read back to the same bits. */
            if (matrix->precision == PEL_FLOAT32)
                ok = fprintf(file, "%zu %zu %.9g\n", i + 1, pel__csr_column(matrix, p, i, k) + 1,
                             (double)((const float *)matrix->values)[k]) > 0;
            else
                ok = fprintf(file, "%zu %zu %.17g\n", i + 1, pel__csr_column(matrix, p, i, k) + 1,
                             ((const double *)matrix->values)[k]) > 0;
        }
    }
    if (!ok)
        saved_errno = errno;
    if (fclose(file) != 0 && ok) {
        ok = 0;
        saved_errno = errno;
    }
    if (c_locale != (locale_t)0) {
        uselocale(previous);
        freelocale(c_locale);
    }
    if (!ok) {
        if (regular)
            remove(path);
        return PEL_FAIL(PEL_ERROR_IO, "writing '%s' failed: %s", path, strerror_r(saved_errno, buffer, sizeof buffer));
    }
    return PEL_OK;
}
