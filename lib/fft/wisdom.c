/* FFTW wisdom through pel: every call under the planner lock, because the
 * wisdom is the planner's own state.
 *
 * FFTW's importer aborts the process on some malformed texts (a flags word
 * wider than its bit-field trips an assertion that release builds keep),
 * and its number reader takes any letter as a digit. So pel validates every
 * text against the grammar of what FFTW exports before FFTW sees it
 * (pel__fft_wisdom_validate(), also the entry point of the fuzz harness). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/error.h"
#include "fft/plan.h"
#include "fft/wisdom.h"

/* ------------------------------------------------------------ validation */

/* Widths of the fields of FFTW 3.3's flags_t (kernel/ifftw.h) that the
 * importer stores without a range check: l and u 20 bits, the time-limit
 * impatience 9 bits. A larger value makes FFTW abort ("planner.c:890:
 * assertion failed: flags.l == l"). MAXNAM (64) bounds a solver's name. */
enum { FLAGS_BITS = 20, IMPATIENCE_BITS = 9, NAME_MAX_CHARS = 64, VERSION_MAX_CHARS = 32 };

typedef struct wisdom_cursor {
    const char *text;
    size_t len, pos;
    const char *function, *what;
} wisdom_cursor;

static pel_status wisdom_error(const wisdom_cursor *c, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Records "<what> is not valid FFTW wisdom: line L, column C: <detail>"
 * for the byte at the cursor. */
static pel_status wisdom_error(const wisdom_cursor *c, const char *format, ...)
{
    char detail[160];
    size_t line = 1, column = 1;
    va_list args;

    for (size_t i = 0; i < c->pos && i < c->len; i++) {
        if (c->text[i] == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    return pel__fail(PEL_ERROR_PARSE, c->function, "%s is not valid FFTW wisdom: line %zu, column %zu: %s", c->what,
                     line, column, detail);
}

static int at_end(const wisdom_cursor *c)
{
    return c->pos >= c->len;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Skips blanks; with `required`, at least one must be there. */
static pel_status skip_blanks(wisdom_cursor *c, int required)
{
    size_t start = c->pos;

    while (!at_end(c) && is_blank(c->text[c->pos]))
        c->pos++;
    if (required && c->pos == start)
        return at_end(c) ? wisdom_error(c, "the text ends early") : wisdom_error(c, "expected a blank");
    return PEL_OK;
}

/* Describes the byte at the cursor for a message. */
static const char *byte_text(const wisdom_cursor *c, char *buffer)
{
    unsigned char ch;

    if (at_end(c))
        return "the end of the text";
    ch = (unsigned char)c->text[c->pos];
    if (ch >= 0x21 && ch < 0x7f)
        snprintf(buffer, 16, "'%c'", ch);
    else
        snprintf(buffer, 16, "byte 0x%02x", ch);
    return buffer;
}

static pel_status expect_char(wisdom_cursor *c, char expected)
{
    char seen[16];

    if (at_end(c) || c->text[c->pos] != expected)
        return wisdom_error(c, "expected '%c', found %s", expected, byte_text(c, seen));
    c->pos++;
    return PEL_OK;
}

static pel_status expect_word(wisdom_cursor *c, const char *word)
{
    size_t n = strlen(word), same = 0;

    while (same < n && c->pos + same < c->len && c->text[c->pos + same] == word[same])
        same++;
    if (same < n) {
        char seen[16];
        c->pos += same;
        return wisdom_error(c, "expected \"%s\", found %s", word, byte_text(c, seen));
    }
    c->pos += n;
    return PEL_OK;
}

/* Value of a digit in base 16 or 10, or -1. */
static int digit_value(char ch, int base)
{
    int v = hex_value(ch);
    return v < base ? v : -1;
}

/* 1 to max_digits digits of `base` (FFTW's own reader would take any
 * letter, a sign and any length); *value gets the number, `field` names it
 * in messages. */
static pel_status read_digits(wisdom_cursor *c, const char *field, int base, size_t max_digits, uint32_t *value)
{
    char seen[16];
    size_t digits = 0;
    uint32_t v = 0;
    const char *kind = base == 16 ? "hex" : "decimal";

    while (!at_end(c) && digit_value(c->text[c->pos], base) >= 0) {
        if (++digits > max_digits)
            return wisdom_error(c, "%s has more than %zu %s digits", field, max_digits, kind);
        v = v * (uint32_t)base + (uint32_t)digit_value(c->text[c->pos], base);
        c->pos++;
    }
    if (digits == 0)
        return wisdom_error(c, "%s: expected a %s digit, found %s", field, kind, byte_text(c, seen));
    if (!at_end(c) && is_name_char(c->text[c->pos]))
        return wisdom_error(c, "%s: %s is not a %s digit", field, byte_text(c, seen), kind);
    *value = v;
    return PEL_OK;
}

/* "#x" and 1 to 8 hex digits: FFTW's words are 32-bit. */
static pel_status read_hex(wisdom_cursor *c, const char *field, uint32_t *value)
{
    pel_status status = expect_word(c, "#x");

    return status != PEL_OK ? status : read_digits(c, field, 16, 8, value);
}

/* 1 to 9 decimal digits: the solver's registration number. */
static pel_status read_decimal(wisdom_cursor *c, const char *field)
{
    uint32_t ignored;

    return read_digits(c, field, 10, 9, &ignored);
}

/* Blanks, then a hex field that must fit FFTW's bit-field of `bits` bits
 * (the importer stores it there and aborts when it does not fit). */
static pel_status read_field(wisdom_cursor *c, const char *field, int bits, uint32_t *value)
{
    size_t at;
    pel_status status = skip_blanks(c, 1);

    if (status != PEL_OK)
        return status;
    at = c->pos;
    if ((status = read_hex(c, field, value)) != PEL_OK)
        return status;
    if (*value >> bits) {
        c->pos = at;
        return wisdom_error(c, "%s=#x%x does not fit FFTW's %d-bit field (FFTW would abort)", field, *value, bits);
    }
    return PEL_OK;
}

/* One entry: (name reg_id #xl #xu #ximpatience #xs0 #xs1 #xs2 #xs3). */
static pel_status read_entry(wisdom_cursor *c)
{
    static const char *const signature[4] = {"signature word 1", "signature word 2", "signature word 3",
                                             "signature word 4"};
    size_t name_start;
    uint32_t l, u, impatience, word;
    pel_status status = expect_char(c, '(');

    if (status != PEL_OK)
        return status;
    name_start = c->pos;
    while (!at_end(c) && is_name_char(c->text[c->pos])) {
        if (c->pos - name_start >= NAME_MAX_CHARS)
            return wisdom_error(c, "a solver name is longer than %d characters", NAME_MAX_CHARS);
        c->pos++;
    }
    if (c->pos == name_start) {
        char seen[16];
        return wisdom_error(c, "expected a solver name, found %s", byte_text(c, seen));
    }
    if ((status = skip_blanks(c, 1)) != PEL_OK || (status = read_decimal(c, "the solver number")) != PEL_OK)
        return status;
    if ((status = read_field(c, "flags l", FLAGS_BITS, &l)) != PEL_OK ||
        (status = read_field(c, "flags u", FLAGS_BITS, &u)) != PEL_OK)
        return status;
    if (l & ~u)
        return wisdom_error(c, "flags l=#x%x are not a subset of u=#x%x (FFTW never writes that)", l, u);
    if ((status = read_field(c, "the time-limit impatience", IMPATIENCE_BITS, &impatience)) != PEL_OK)
        return status;
    for (int k = 0; k < 4; k++)
        if ((status = skip_blanks(c, 1)) != PEL_OK || (status = read_hex(c, signature[k], &word)) != PEL_OK)
            return status;
    if ((status = skip_blanks(c, 0)) != PEL_OK)
        return status;
    return expect_char(c, ')');
}

/* "fftw-3.3.10" of the linked library, from fftw_version
 * ("fftw-3.3.10-sse2-avx"): the part FFTW's preamble holds. */
static size_t library_version(const char **text)
{
    const char *v = fftw_version, *dash = strchr(v + 5, '-');

    *text = v;
    return dash != NULL ? (size_t)(dash - v) : strlen(v);
}

pel_status pel__fft_wisdom_validate(const char *text, size_t len, pel_precision precision, const char *function,
                                    const char *what)
{
    wisdom_cursor cursor = {text, len, 0, function, what}, *c = &cursor;
    const char *prefix = precision == PEL_FLOAT32 ? "fftwf" : "fftw", *library;
    size_t version_start, library_len = library_version(&library);
    uint32_t word;
    pel_status status;

    if (text == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s must not be NULL", what);
    if (len > PEL__FFT_WISDOM_MAX_BYTES)
        return pel__fail(PEL_ERROR_PARSE, function, "%s is %zu bytes, more than the %d that pel accepts as wisdom",
                         what, len, PEL__FFT_WISDOM_MAX_BYTES);
    /* Wisdom is text: a NUL byte anywhere is refused as such, before the
     * grammar could report it as whatever token it happens to cut. */
    {
        const char *nul = len > 0 ? memchr(text, '\0', len) : NULL;
        if (nul != NULL) {
            c->pos = (size_t)(nul - text);
            return wisdom_error(c, "found byte 0x00 (wisdom is text)");
        }
    }
    if ((status = skip_blanks(c, 0)) != PEL_OK)
        return status;
    if (at_end(c))
        return wisdom_error(c, "the text is empty");
    if ((status = expect_char(c, '(')) != PEL_OK || (status = expect_word(c, "fftw-")) != PEL_OK)
        return status;
    version_start = c->pos - 5;
    while (!at_end(c) && (is_name_char(c->text[c->pos]) || c->text[c->pos] == '.' || c->text[c->pos] == '-')) {
        if (c->pos - version_start >= VERSION_MAX_CHARS)
            return wisdom_error(c, "the version is longer than %d characters", VERSION_MAX_CHARS);
        c->pos++;
    }
    if (c->pos - version_start != library_len || memcmp(c->text + version_start, library, library_len) != 0) {
        int token = (int)(c->pos - version_start);
        c->pos = version_start;
        return wisdom_error(c, "the wisdom is of %.*s, this program runs %.*s", token, text + version_start,
                            (int)library_len, library);
    }
    if ((status = skip_blanks(c, 1)) != PEL_OK)
        return status;
    /* The precision word: fftw_wisdom (double), fftwf_wisdom (single),
     * fftwl_wisdom (long double, which pel does not use). */
    if (c->len - c->pos >= 13 && memcmp(c->text + c->pos, "fftwf_wisdom", 12) == 0 && precision != PEL_FLOAT32)
        return wisdom_error(c, "it holds single-precision wisdom (fftwf_wisdom); precision=PEL_FLOAT64 needs "
                               "double-precision wisdom (fftw_wisdom)");
    if (c->len - c->pos >= 12 && memcmp(c->text + c->pos, "fftw_wisdom", 11) == 0 && precision == PEL_FLOAT32)
        return wisdom_error(c, "it holds double-precision wisdom (fftw_wisdom); precision=PEL_FLOAT32 needs "
                               "single-precision wisdom (fftwf_wisdom)");
    if (c->len - c->pos >= 12 && memcmp(c->text + c->pos, "fftwl_wisdom", 12) == 0)
        return wisdom_error(c, "it holds long-double wisdom (fftwl_wisdom), which pel does not use");
    if ((status = expect_word(c, prefix)) != PEL_OK || (status = expect_word(c, "_wisdom")) != PEL_OK)
        return status;
    for (int k = 0; k < 4; k++)
        if ((status = skip_blanks(c, 1)) != PEL_OK ||
            (status = read_hex(c, "a configuration signature word", &word)) != PEL_OK)
            return status;
    for (;;) {
        if ((status = skip_blanks(c, 0)) != PEL_OK)
            return status;
        if (at_end(c))
            return wisdom_error(c, "the text ends before the closing ')'");
        if (c->text[c->pos] == ')')
            break;
        if ((status = read_entry(c)) != PEL_OK)
            return status;
    }
    c->pos++;
    if ((status = skip_blanks(c, 0)) != PEL_OK)
        return status;
    if (!at_end(c)) {
        char seen[16];
        return wisdom_error(c, "%s after the closing ')'", byte_text(c, seen));
    }
    return PEL_OK;
}

static pel_status check_precision(pel_precision precision, const char *function)
{
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "precision=%d is not PEL_FLOAT64 or PEL_FLOAT32",
                         (int)precision);
    return PEL_OK;
}

pel_status pel_fft_wisdom_export_file(pel_precision precision, const char *path)
{
    FILE *file;
    int failed;
    pel_status status = check_precision(precision, __func__);

    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(path);
    file = fopen(path, "w");
    if (file == NULL)
        return PEL_FAIL(PEL_ERROR_IO, "path='%s': cannot open for writing: %s", path, strerror(errno));
    pel__fft_planner_lock();
    if (precision == PEL_FLOAT32)
        fftwf_export_wisdom_to_file(file);
    else
        fftw_export_wisdom_to_file(file);
    pel__fft_planner_unlock();
    failed = ferror(file);
    if (fclose(file) != 0 || failed)
        return PEL_FAIL(PEL_ERROR_IO, "path='%s': cannot write", path);
    return PEL_OK;
}

/* Hands a validated text to FFTW; its importer keeps its wisdom unchanged
 * when it refuses (another configuration signature, an unknown solver). */
static pel_status import_validated(pel_precision precision, const char *text, const char *function,
                                   const char *what)
{
    int ok;

    pel__fft_planner_lock();
    ok = precision == PEL_FLOAT32 ? fftwf_import_wisdom_from_string(text) : fftw_import_wisdom_from_string(text);
    pel__fft_planner_unlock();
    if (!ok)
        return pel__fail(PEL_ERROR_PARSE, function,
                         "%s is not FFTW %s-precision wisdom of this FFTW build (FFTW refused it: another "
                         "configuration signature or an unknown solver)",
                         what, precision == PEL_FLOAT32 ? "single" : "double");
    return PEL_OK;
}

/* Reads at most PEL__FFT_WISDOM_MAX_BYTES of file into a NUL-terminated
 * buffer; *text is NULL on failure. */
static pel_status read_bounded(FILE *file, const char *path, const char *function, char **text, size_t *length)
{
    size_t capacity = 4096, used = 0;
    char *buffer = malloc(capacity);

    *text = NULL;
    if (buffer == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "path='%s': cannot allocate %zu bytes to read it", path,
                         capacity);
    for (;;) {
        size_t got;
        if (used == capacity - 1) {
            /* Full: one byte beyond the limit is enough to know it is too
             * large. */
            size_t grown = capacity * 2 > PEL__FFT_WISDOM_MAX_BYTES + 2 ? PEL__FFT_WISDOM_MAX_BYTES + 2 : capacity * 2;
            char *bigger;
            if (used > PEL__FFT_WISDOM_MAX_BYTES) {
                free(buffer);
                return pel__fail(PEL_ERROR_PARSE, function,
                                 "path='%s' holds more than %d bytes, the most pel reads as wisdom", path,
                                 PEL__FFT_WISDOM_MAX_BYTES);
            }
            bigger = realloc(buffer, grown);
            if (bigger == NULL) {
                free(buffer);
                return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "path='%s': cannot allocate %zu bytes to read it",
                                 path, grown);
            }
            buffer = bigger;
            capacity = grown;
        }
        got = fread(buffer + used, 1, capacity - 1 - used, file);
        used += got;
        if (got == 0)
            break;
    }
    if (ferror(file)) {
        free(buffer);
        return pel__fail(PEL_ERROR_IO, function, "path='%s': cannot read", path);
    }
    buffer[used] = '\0';
    *text = buffer;
    *length = used;
    return PEL_OK;
}

pel_status pel_fft_wisdom_import_file(pel_precision precision, const char *path)
{
    FILE *file;
    char *text, what[160];
    size_t length = 0;
    pel_status status = check_precision(precision, __func__);

    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(path);
    file = fopen(path, "r");
    if (file == NULL)
        return PEL_FAIL(PEL_ERROR_IO, "path='%s': cannot open: %s", path, strerror(errno));
    status = read_bounded(file, path, __func__, &text, &length);
    fclose(file);
    if (status != PEL_OK)
        return status;
    snprintf(what, sizeof what, "path='%s'", path);
    status = pel__fft_wisdom_validate(text, length, precision, __func__, what);
    if (status == PEL_OK)
        status = import_validated(precision, text, __func__, what);
    free(text);
    return status;
}

pel_status pel_fft_wisdom_export_string(pel_precision precision, char **text)
{
    char *fftw_text, *copy;
    size_t length;
    pel_status status = check_precision(precision, __func__);

    if (text != NULL)
        *text = NULL; /* the out-argument rule: NULL on every failure */
    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(text);
    pel__fft_planner_lock();
    fftw_text = precision == PEL_FLOAT32 ? fftwf_export_wisdom_to_string() : fftw_export_wisdom_to_string();
    pel__fft_planner_unlock();
    if (fftw_text == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "FFTW could not allocate the wisdom string");
    /* Copied so that the caller frees it with pel_free() like any other
     * pel allocation, whatever allocator FFTW used. */
    length = strlen(fftw_text);
    copy = pel_malloc(length + 1);
    if (copy != NULL)
        memcpy(copy, fftw_text, length + 1);
    free(fftw_text);
    if (copy == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the wisdom string", length + 1);
    *text = copy;
    return PEL_OK;
}

pel_status pel_fft_wisdom_import_string(pel_precision precision, const char *text)
{
    pel_status status = check_precision(precision, __func__);

    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(text);
    /* strnlen: a text longer than the limit is refused without reading it
     * all. */
    status = pel__fft_wisdom_validate(text, strnlen(text, (size_t)PEL__FFT_WISDOM_MAX_BYTES + 1), precision,
                                      __func__, "text");
    if (status != PEL_OK)
        return status;
    return import_validated(precision, text, __func__, "text");
}

void pel_fft_wisdom_forget(void)
{
    pel__fft_planner_lock();
    fftw_forget_wisdom();
    fftwf_forget_wisdom();
    pel__fft_planner_unlock();
}
