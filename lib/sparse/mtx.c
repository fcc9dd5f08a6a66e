/* Matrix Market (.mtx) coordinate files. The reader treats the file as
 * untrusted: lines are read into a fixed buffer, every field is checked, a
 * declared entry count is capped by the bytes the file has left, and the
 * reader's memory and time grow with the entries actually present, never
 * with the declared row count: entries are kept as triplets, sorted by
 * (row, column) with a radix sort (stable, so duplicates keep their file
 * order and are summed in it), and only the matrix itself has per-row
 * arrays (pel__csr_build_sorted()). */
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

/* Fewest bytes an entry line takes, whatever the field: "i j\n" (the last
 * line may lack its newline: one byte less). A lower bound, so that a
 * slightly short file still gets the more telling message of the line
 * where it goes wrong. */
#define MTX_MIN_ENTRY_BYTES 4

typedef struct mtx_reader {
    FILE *file;                /* the file, or NULL when reading a buffer */
    const unsigned char *data; /* the buffer: data[at .. length) is unread */
    size_t length, at;
    const char *path;          /* for messages: the path, or "<buffer>" */
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

static inline int next_char(mtx_reader *r)
{
    if (r->file != NULL)
        return getc_unlocked(r->file);
    return r->at < r->length ? r->data[r->at++] : EOF;
}

/* Bytes not yet read, or SIZE_MAX when unknown (a pipe, a device). */
static size_t bytes_left(mtx_reader *r)
{
    struct stat info;
    long at;

    if (r->file == NULL)
        return r->length - r->at;
    if (fstat(fileno(r->file), &info) != 0 || !S_ISREG(info.st_mode) || (at = ftell(r->file)) < 0 ||
        (unsigned long long)at > (unsigned long long)info.st_size)
        return SIZE_MAX;
    return (size_t)((unsigned long long)info.st_size - (unsigned long long)at);
}

/* Reads the next line into r->text and splits it into fields. Returns 1 for
 * a line, 0 at the end of the file, or a (negative) error status. */
static int next_line(mtx_reader *r)
{
    size_t n = 0;
    int c;
    char *cursor;

    for (;;) {
        c = next_char(r);
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
        if (r->file != NULL && ferror(r->file)) {
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
    size_t left, per_entry = MTX_MIN_ENTRY_BYTES;

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
    /* A declared count the rest of the file cannot hold is refused now,
     * before any entry is stored (the last line may lack its newline). */
    left = bytes_left(r);
    if (left != SIZE_MAX && *entries > 0 && (unsigned __int128)*entries * per_entry > (unsigned __int128)left + 1)
        return reader_fail(r, PEL_ERROR_PARSE, "declares %zu entries, but the %zu bytes after this line hold at most "
                           "%zu (an entry line takes at least %zu bytes)", *entries, left, (left + 1) / per_entry,
                           per_entry);
    return PEL_OK;
}

/* Grows the triplets to hold `capacity` entries; 0 when out of memory. */
static int triplets_reserve(triplets *t, size_t capacity)
{
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
    return 1;
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
    size_t want = symmetry == SYM_GENERAL ? entries : 2 * entries;

    /* The declared count was capped by the file's size (where known), so
     * storage for it grows with the file; beyond a modest start it is
     * otherwise reached by doubling, as entries arrive. */
    if (want > 0 && !triplets_reserve(t, r->file == NULL || bytes_left(r) != SIZE_MAX ? want
                                                                                     : (want < 4096 ? want : 4096)))
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, read_function, "%s: cannot store %zu entries", r->path, want);
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

/* One stable counting pass of the LSD radix sort: entries [0, n) of
 * (key, value) into (key_out, value_out) by the 16-bit digit at `shift`.
 * Returns 0 (and moves nothing) when every entry has the same digit. */
static int radix_pass(const uint64_t *key, const double *value, uint64_t *key_out, double *value_out, size_t n,
                      int shift, size_t *count)
{
    size_t sum = 0;

    memset(count, 0, 65536 * sizeof *count);
    for (size_t k = 0; k < n; k++)
        count[(key[k] >> shift) & 0xffff]++;
    if (n == 0 || count[(key[0] >> shift) & 0xffff] == n)
        return 0;
    for (size_t d = 0; d < 65536; d++) {
        size_t c = count[d];
        count[d] = sum;
        sum += c;
    }
    for (size_t k = 0; k < n; k++) {
        size_t at = count[(key[k] >> shift) & 0xffff]++;
        key_out[at] = key[k];
        value_out[at] = value[k];
    }
    return 1;
}

/* Sorts the triplets by (row, column), stably, so that duplicates keep the
 * file's order; sums the duplicates in that order (refusing a sum that
 * leaves the precision's range: each value was finite, so the matrix, and
 * any file written from it, holds finite values only); builds the matrix.
 * Time and memory are linear in the entries (4 counting passes of 16 bits
 * over 64-bit keys, passes with one digit skipped), whatever the declared
 * row count. */
static pel_status build_matrix(mtx_reader *r, triplets *t, size_t rows, size_t cols, pel_precision precision,
                               pel_csr **out)
{
    const size_t n = t->count, slots = n ? n : 1;
    uint64_t *key = malloc(slots * sizeof *key), *key2 = malloc(slots * sizeof *key2);
    double *value = malloc(slots * sizeof *value), *value2 = malloc(slots * sizeof *value2);
    size_t *count = malloc(65536 * sizeof *count), kept = 0;
    pel_status status = PEL_OK;

    if (key == NULL || key2 == NULL || value == NULL || value2 == NULL || count == NULL) {
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, read_function, "%s: cannot sort %zu entries", r->path, n);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        key[k] = (uint64_t)t->row[k] << 32 | t->col[k];
        value[k] = t->value[k];
    }
    /* The triplets are in the keys now: their memory goes back before the
     * sort's and the matrix's arrays are at their largest. */
    free(t->row);
    free(t->col);
    free(t->value);
    t->row = t->col = NULL;
    t->value = NULL;
    for (int shift = 0; shift < 64; shift += 16)
        if (radix_pass(key, value, key2, value2, n, shift, count)) {
            uint64_t *kt = key;
            double *vt = value;
            key = key2;
            key2 = kt;
            value = value2;
            value2 = vt;
        }
    /* Sum each run of equal keys (duplicates, in file order) into one
     * entry, compacting towards the front of key and value. */
    for (size_t k = 0; k < n;) {
        const uint64_t here = key[k];
        double sum = value[k];
        for (k++; k < n && key[k] == here; k++)
            sum += value[k];
        if (precision == PEL_FLOAT32 ? !isfinite((float)sum) : !isfinite(sum)) {
            status = pel__fail(PEL_ERROR_PARSE, read_function,
                               "%s: the duplicate entries (%zu, %zu) sum to a value beyond the range of %s "
                               "(each one is finite): the matrix could not hold it", r->path,
                               (size_t)(here >> 32) + 1, (size_t)(here & 0xffffffffu) + 1,
                               precision == PEL_FLOAT32 ? "float" : "double");
            goto done;
        }
        key[kept] = here;
        value[kept] = sum;
        kept++;
    }
    free(value2);
    value2 = NULL;
    {
        /* Split the keys into rows and columns for the builder, in the
         * spare key array (two uint32_t per former uint64_t). */
        uint32_t *row = (uint32_t *)(void *)key2, *col = row + slots;
        for (size_t k = 0; k < kept; k++) {
            row[k] = (uint32_t)(key[k] >> 32);
            col[k] = (uint32_t)key[k];
        }
        status = pel__csr_build_sorted(read_function, precision, rows, cols, kept, row, col, value, out);
    }
done:
    free(key);
    free(key2);
    free(value);
    free(value2);
    free(count);
    return status;
}

/* Parses what r reads (banner, sizes, entries) under the C numeric locale,
 * then builds the matrix. */
static pel_status read_matrix(mtx_reader *r, pel_precision precision, pel_csr **out)
{
    triplets t = {NULL, NULL, NULL, 0, 0};
    mtx_field field = FIELD_REAL;
    mtx_symmetry symmetry = SYM_GENERAL;
    size_t rows = 0, cols = 0, entries = 0;
    pel_status status;
    locale_t c_locale, previous = (locale_t)0;

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
    if (status == PEL_OK)
        status = build_matrix(r, &t, rows, cols, precision, out);
    free(t.row);
    free(t.col);
    free(t.value);
    return status;
}

pel_status pel_csr_read_mtx(const char *path, pel_precision precision, pel_csr **out)
{
    mtx_reader *r;
    pel_status status;

    if (out != NULL)
        *out = NULL; /* the out-argument rule: NULL on every failure */
    PEL_CHECK_NOT_NULL(path);
    PEL_CHECK_NOT_NULL(out);
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "precision=%d is not PEL_FLOAT64 or PEL_FLOAT32", (int)precision);
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "cannot allocate the line buffer");
    r->path = path;
    r->file = fopen(path, "r");
    if (r->file == NULL) {
        char buffer[128];
        status = PEL_FAIL(PEL_ERROR_IO, "cannot open '%s': %s", path, strerror_r(errno, buffer, sizeof buffer));
        free(r);
        return status;
    }
    status = read_matrix(r, precision, out);
    fclose(r->file);
    free(r);
    return status;
}

pel_status pel__csr_read_mtx_buffer(const char *data, size_t length, pel_precision precision, pel_csr **out)
{
    mtx_reader *r;
    pel_status status;

    if (out == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, read_function, "out must not be NULL");
    *out = NULL;
    if (data == NULL && length > 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, read_function, "data must not be NULL when length=%zu > 0",
                         length);
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, read_function, "precision=%d is not PEL_FLOAT64 or PEL_FLOAT32",
                         (int)precision);
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, read_function, "cannot allocate the line buffer");
    r->path = "<buffer>";
    r->data = (const unsigned char *)data;
    r->length = length;
    status = read_matrix(r, precision, out);
    free(r);
    return status;
}

pel_status pel_csr_write_mtx(const pel_csr *matrix, const char *path)
{
    FILE *file;
    struct stat info;
    int ok, regular, saved_errno = 0;
    locale_t c_locale, previous = (locale_t)0;
    char buffer[128];
    pel_status status = pel__handle_check(matrix, PEL__HANDLE_CSR, -1, __func__, "matrix");

    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(path);
    /* A Matrix Market file holds finite numbers (the reader refuses
     * others): a matrix made from arrays with Inf or NaN in them is refused
     * before the file is created, so every file pel writes reads back. */
    for (size_t p = 0, i = 0; i < matrix->rows; i++) {
        while (i >= matrix->part_row[p + 1])
            p++;
        for (size_t k = matrix->row_ptr[i]; k < matrix->row_ptr[i + 1]; k++) {
            double v = matrix->precision == PEL_FLOAT32 ? (double)((const float *)matrix->values)[k]
                                                        : ((const double *)matrix->values)[k];
            if (!isfinite(v))
                return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                                "matrix entry (row %zu, column %zu) is %g: a Matrix Market file holds finite "
                                "numbers only", i, pel__csr_column(matrix, p, i, k), v);
        }
    }
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
