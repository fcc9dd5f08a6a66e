/* Fuzz harness: pel's wisdom import (pel_wisdom_import), whose text may come
 * from a file a user did not write: the machine model, the measured stencil
 * choices, the measured gemm cutoffs and FFTW's wisdom of both precisions behind a fingerprint and a
 * checksum (docs/tuning.md).
 *
 * The first byte says how the rest (NUL-terminated here; an embedded NUL
 * ends it, as for a C caller) is used: bit 0 set, it is a body that the
 * harness closes with its correct checksum line, so that mutations reach the
 * grammar behind the checksum; bit 1 set, its second line becomes this
 * machine's fingerprint line, so that accepted texts are applied. Invariants:
 * nothing aborts; an error is PEL_ERROR_PARSE, PEL_ERROR_INVALID_ARGUMENT or
 * PEL_ERROR_OUT_OF_MEMORY with a message naming pel_wisdom_import, leaves
 * *applied alone and changes nothing (the export is the same text as
 * before); a foreign text is ignored and changes nothing; an applied text
 * exports, and that export imports and exports again to the same text; and
 * the state the harness started from comes back exactly by importing its
 * own export. "The same text": byte for byte up to FFTW's parts, whose lines
 * FFTW writes in the order of its hash table, which an import may change,
 * so they are compared as sets of lines (the checksum follows the order). */
#include "fuzz.h"

#include "matrix/matrix_internal.h"
#include "stencil/measure.h"

static char *original;         /* the export before any input */
static char fingerprint[1024]; /* its second line, newline included */

static uint64_t checksum_of(const char *text, size_t len)
{
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ (unsigned char)text[i]) * 0x100000001b3ull;
    return hash;
}

static char *export_now(void)
{
    static char *text;
    int status = pel_wisdom_export(&text);
    fuzz_require(status == PEL_OK && text != NULL, "pel_wisdom_export failed: %s", pel_last_error());
    return text;
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text (a copy, cut in place) from `from` on, but the checksum
 * line, sorted; *count of them. */
static char **sorted_lines(const char *from, size_t *count, char **copy)
{
    size_t n = 0, capacity = 16;
    char **lines = malloc(capacity * sizeof *lines), *save = NULL;

    *copy = strdup(from);
    fuzz_require(lines != NULL && *copy != NULL, "out of memory in the harness");
    for (char *line = strtok_r(*copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "checksum ", 9) == 0)
            continue;
        if (n == capacity) {
            capacity *= 2;
            lines = realloc(lines, capacity * sizeof *lines);
            fuzz_require(lines != NULL, "out of memory in the harness");
        }
        lines[n++] = line;
    }
    qsort(lines, n, sizeof *lines, compare_lines);
    *count = n;
    return lines;
}

/* 1 when a and b are the same wisdom (see the file's comment). */
static int same_wisdom(const char *a, const char *b)
{
    const char *fa = strstr(a, "\nfftw-double "), *fb = strstr(b, "\nfftw-double ");
    char *copy_a, *copy_b, **la, **lb;
    size_t na, nb;
    int same;

    if (fa == NULL || fb == NULL || fa - a != fb - b || memcmp(a, b, (size_t)(fa - a)) != 0)
        return 0;
    la = sorted_lines(fa, &na, &copy_a);
    lb = sorted_lines(fb, &nb, &copy_b);
    same = na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = strcmp(la[i], lb[i]) == 0;
    free(la);
    free(lb);
    free(copy_a);
    free(copy_b);
    return same;
}

static void setup(void)
{
    const char *second, *end;

    if (original != NULL)
        return;
    original = export_now();
    second = strchr(original, '\n');
    end = second ? strchr(second + 1, '\n') : NULL;
    fuzz_require(end != NULL && (size_t)(end - second) < sizeof fingerprint, "the export has no fingerprint line");
    memcpy(fingerprint, second + 1, (size_t)(end - second));
    fingerprint[end - second] = '\0';
}

/* Back to the state of the first call: nothing merged from an input stays. */
static void restore(void)
{
    int applied = -1;
    char *now;

    pel__stencil_choices_clear();
    pel__matrix_cutoffs_clear();
    pel_fft_wisdom_forget();
    pel_fft_cache_clear();
    fuzz_require(pel_wisdom_import(original, &applied) == PEL_OK && applied == 1,
                 "pel refuses its own first export: %s", pel_last_error());
    now = export_now();
    fuzz_require(same_wisdom(now, original), "importing the first export does not bring its state back");
    pel_free(now);
}

/* The text the input stands for (malloc'd). */
static char *make_text(const uint8_t *data, size_t size)
{
    const uint8_t mode = size > 0 ? data[0] : 0;
    const char *body = size > 0 ? (const char *)data + 1 : "";
    size_t len = size > 0 ? strnlen(body, size - 1) : 0;
    size_t room = len + strlen(fingerprint) + 32, used = 0;
    char *text = malloc(room);

    fuzz_require(text != NULL, "out of memory in the harness");
    if (mode & 2) {
        /* Line 1 as given, then this machine's fingerprint, then the rest
         * after the given line 2. */
        const char *nl1 = memchr(body, '\n', len);
        const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - body)) : NULL;
        size_t head = nl1 ? (size_t)(nl1 + 1 - body) : len;
        memcpy(text, body, head);
        used = head;
        if (nl1 == NULL)
            text[used++] = '\n';
        memcpy(text + used, fingerprint, strlen(fingerprint));
        used += strlen(fingerprint);
        if (nl2 != NULL) {
            memcpy(text + used, nl2 + 1, len - (size_t)(nl2 + 1 - body));
            used += len - (size_t)(nl2 + 1 - body);
        }
    } else {
        memcpy(text, body, len);
        used = len;
    }
    text[used] = '\0';
    if (mode & 1)
        snprintf(text + used, room - used, "checksum %016llx\n", (unsigned long long)checksum_of(text, used));
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *after;
    int applied = -1, status;

    /* Wisdom is small; a megabyte of input tests nothing new and is slow. */
    if (size > (1u << 16))
        return 0;
    setup();
    text = make_text(data, size);
    pel_clear_error();
    status = pel_wisdom_import(text, &applied);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_wisdom_import");
        fuzz_require(strncmp(pel_last_error(), "pel_wisdom_import", 17) == 0, "the message \"%s\" names another function",
                     pel_last_error());
        fuzz_require(status == PEL_ERROR_PARSE || status == PEL_ERROR_INVALID_ARGUMENT ||
                         status == PEL_ERROR_OUT_OF_MEMORY,
                     "unexpected status %d (%s)", status, pel_last_error());
        fuzz_require(applied == -1, "a refused text set *applied to %d", applied);
        after = export_now();
        fuzz_require(same_wisdom(after, original), "a refused text changed the state");
        pel_free(after);
    } else if (applied == 0) {
        fuzz_require(strstr(pel_last_error(), "another machine") != NULL, "ignored without the note: \"%s\"",
                     pel_last_error());
        after = export_now();
        fuzz_require(same_wisdom(after, original), "a foreign text changed the state");
        pel_free(after);
    } else {
        char *first, *second;
        fuzz_require(applied == 1, "*applied is %d", applied);
        first = export_now();
        pel__stencil_choices_clear();
    pel__matrix_cutoffs_clear();
        pel_fft_wisdom_forget();
        applied = -1;
        fuzz_require(pel_wisdom_import(first, &applied) == PEL_OK && applied == 1,
                     "pel refuses its own export of an accepted text: %s", pel_last_error());
        second = export_now();
        fuzz_require(same_wisdom(first, second), "an accepted text does not round-trip through export and import");
        pel_free(first);
        pel_free(second);
        restore();
    }
    free(text);
    return 0;
}
