/* Parsing of pel's environment variables (rules in core/env.h). */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "core/error.h"

/* Room for a few refused variables; later notes are cut, never overflow. */
static char notes[1024];

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

pel_status pel__env_parse_number(const char *name, const char *text, unsigned long long min, unsigned long long max,
                                 unsigned long long *out, int *given)
{
    const char *p = text;
    unsigned long long value = 0;
    int digits = 0;

    if (given != NULL)
        *given = 0;
    if (text == NULL || *text == '\0')
        return PEL_OK;
    while (blank(*p))
        p++;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        /* Refuse instead of saturating: strtol's silent LONG_MAX was the bug. */
        if (value > (ULLONG_MAX - (unsigned long long)(*p - '0')) / 10)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, name, "\"%.40s\" is out of range %llu..%llu", text, min,
                             max);
        value = value * 10 + (unsigned long long)(*p - '0');
    }
    while (blank(*p))
        p++;
    if (digits == 0 || *p != '\0')
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, name, "\"%.40s\" is not a whole decimal number in %llu..%llu",
                         text, min, max);
    if (value < min || value > max)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, name, "\"%.40s\" is out of range %llu..%llu", text, min, max);
    *out = value;
    if (given != NULL)
        *given = 1;
    return PEL_OK;
}

pel_status pel__env_parse_threads(const char *text, int *out)
{
    unsigned long long value = 0;
    int given;
    pel_status status = pel__env_parse_number("PEL_NUM_THREADS", text, 0, PEL_MAX_THREADS, &value, &given);

    if (status == PEL_OK)
        *out = given ? (int)value : 0;
    return status;
}

pel_status pel__env_parse_budget(const char *text, int *out)
{
    unsigned long long value = 0;
    int given;
    pel_status status = pel__env_parse_number("PEL_THREAD_BUDGET", text, 0, PEL_MAX_THREADS, &value, &given);

    if (status == PEL_OK)
        *out = given ? (int)value : PEL_THREAD_BUDGET_DEFAULT;
    return status;
}

pel_status pel__env_parse_min_work(const char *text, size_t *out)
{
    unsigned long long value = 0;
    int given;
    pel_status status = pel__env_parse_number("PEL_MIN_WORK_PER_THREAD", text, 0, SIZE_MAX, &value, &given);

    if (status == PEL_OK)
        *out = given ? (size_t)value : 0;
    return status;
}

pel_status pel__env_parse_fft_upgrade(const char *text, int *out)
{
    unsigned long long value = 0;
    int given;
    pel_status status = pel__env_parse_number("PEL_FFT_UPGRADE", text, 0, 2, &value, &given);

    if (status == PEL_OK)
        *out = given ? (int)value : 1;
    return status;
}

pel_status pel__env_parse_gemm_cutoff(const char *text, size_t *out)
{
    unsigned long long value = 0;
    int given;
    const char *p = text;
    size_t len;
    pel_status status;

    if (p != NULL) {
        while (blank(*p))
            p++;
        for (len = strlen(p); len > 0 && blank(p[len - 1]); len--)
            ;
        if (len == 5 && strncmp(p, "table", 5) == 0) {
            *out = SIZE_MAX;
            return PEL_OK;
        }
    }
    status = pel__env_parse_number("PEL_GEMM_CUTOFF", text, 1, 64, &value, &given);
    if (status == PEL_OK)
        *out = given ? (size_t)value : 0;
    return status;
}

void pel__env_read(const char *name, pel_status (*parse)(const char *, void *), void *out)
{
    char saved[512];
    const char *text = getenv(name);

    snprintf(saved, sizeof saved, "%s", pel_last_error());
    if (parse(text, out) != PEL_OK) {
        char note[600];
        snprintf(note, sizeof note, "%s (ignored: the default is used)", pel_last_error());
        pel__env_note(note);
        pel__set_error_message(saved);
    }
}

void pel__env_note(const char *message)
{
    size_t used = strlen(notes);

    if (used + 3 >= sizeof notes)
        return;
    snprintf(notes + used, sizeof notes - used, "%s%s", used > 0 ? "; " : "", message);
}

const char *pel_environment_notes(void)
{
    return notes;
}
