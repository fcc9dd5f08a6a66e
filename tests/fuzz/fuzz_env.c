/* Fuzz harness: pel's environment variables (PEL_NUM_THREADS,
 * PEL_THREAD_BUDGET, PEL_MIN_WORK_PER_THREAD, PEL_GEMM_CUTOFF), parsed by
 * lib/core/env.c.
 *
 * libpel reads the variables once, in a constructor, so setenv() cannot
 * drive the public getters; the harness calls the internal parsers
 * (pel__env_parse_*, lib/core/env.h) that the constructor uses.
 *
 * The input is the variable's text (up to the first NUL) with the first byte
 * choosing the variable. Invariants, against an independent reference parser
 * of the documented rule (core/env.h: optional blanks, decimal digits,
 * optional blanks, value inside the variable's range; unset/empty means "not
 * given"): the same accept/refuse decision and value; a refusal leaves the
 * output untouched and its message names the variable. */
#include "fuzz.h"

#include <limits.h>

#include "core/env.h"

/* The documented rule, written independently: 1 and *value on a valid
 * number in [0, max], 0 otherwise (including overflow). */
static int reference_parse(const char *text, unsigned long long max, unsigned long long *value)
{
    const char *p = text;
    unsigned long long v = 0;
    int digits = 0, overflow = 0;

    while (*p == ' ' || *p == '\t')
        p++;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10)
            overflow = 1;
        else
            v = v * 10 + d;
        p++;
        digits++;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (digits == 0 || *p != '\0' || overflow || v > max)
        return 0;
    *value = v;
    return 1;
}

static void check_refusal(int status, const char *name)
{
    const char *message = pel_last_error();
    fuzz_require(status == PEL_ERROR_INVALID_ARGUMENT, "%s: refusal with status %d", name, status);
    fuzz_require(strstr(message, name) != NULL, "%s: message \"%s\" does not name the variable", name, message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned which;
    char *text;

    if (size == 0 || size > 256)
        return 0;
    which = data[0] % 4;
    text = malloc(size);
    fuzz_require(text != NULL, "out of memory in the harness");
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    pel_clear_error();

    if (which == 0 || which == 1) {
        const char *name = which == 0 ? "PEL_NUM_THREADS" : "PEL_THREAD_BUDGET";
        const int sentinel = -12345;
        int value = sentinel, status;
        unsigned long long expected = 0, limit = PEL_MAX_THREADS;
        int valid = reference_parse(text, limit, &expected);

        status = which == 0 ? pel__env_parse_threads(text, &value) : pel__env_parse_budget(text, &value);
        if (text[0] == '\0') {
            /* Not given: the thread count's default is 0, the budget's -1. */
            fuzz_require(status == PEL_OK && value == (which == 0 ? 0 : PEL_THREAD_BUDGET_DEFAULT), "%s: empty text gave %d", name, value);
        } else if (valid) {
            fuzz_require(status == PEL_OK, "%s: \"%s\" refused (%s)", name, text, pel_last_error());
            fuzz_require(value == (int)expected, "%s: \"%s\" gave %d", name, text, value);
        } else {
            fuzz_require(status != PEL_OK, "%s: \"%s\" accepted as %d", name, text, value);
            fuzz_require(value == sentinel, "%s: output written on refusal", name);
            check_refusal(status, name);
        }
    } else if (which == 3) {
        /* PEL_GEMM_CUTOFF: "table" (blanks around allowed) or 1..64. */
        const size_t sentinel = 987654321u;
        size_t value = sentinel, len = strlen(text), lead = strspn(text, " \t");
        unsigned long long expected = 0;
        int table, valid, status = pel__env_parse_gemm_cutoff(text, &value);
        while (len > lead && (text[len - 1] == ' ' || text[len - 1] == '\t'))
            len--;
        table = len - lead == 5 && memcmp(text + lead, "table", 5) == 0;
        valid = reference_parse(text, 64, &expected) && expected >= 1;
        if (text[0] == '\0') {
            fuzz_require(status == PEL_OK && value == 0, "PEL_GEMM_CUTOFF: empty text not the default");
        } else if (table || valid) {
            fuzz_require(status == PEL_OK && value == (table ? SIZE_MAX : (size_t)expected),
                         "PEL_GEMM_CUTOFF: \"%s\" gave %zu", text, value);
        } else {
            fuzz_require(status != PEL_OK && value == sentinel, "PEL_GEMM_CUTOFF: \"%s\" accepted", text);
            check_refusal(status, "PEL_GEMM_CUTOFF");
        }
    } else {
        const size_t sentinel = 987654321u;
        size_t value = sentinel;
        unsigned long long expected = 0;
        int valid = reference_parse(text, SIZE_MAX, &expected);
        int status = pel__env_parse_min_work(text, &value);

        if (text[0] == '\0') {
            fuzz_require(status == PEL_OK && value == 0, "PEL_MIN_WORK_PER_THREAD: empty text not the default");
        } else if (valid) {
            fuzz_require(status == PEL_OK && value == (size_t)expected, "PEL_MIN_WORK_PER_THREAD: \"%s\" gave %zu",
                         text, value);
        } else {
            fuzz_require(status != PEL_OK && value == sentinel, "PEL_MIN_WORK_PER_THREAD: \"%s\" accepted", text);
            check_refusal(status, "PEL_MIN_WORK_PER_THREAD");
        }
    }
    free(text);
    return 0;
}
