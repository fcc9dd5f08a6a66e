/* Status codes, their names and the thread-local last-error message. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define PEL_ERROR_MESSAGE_SIZE 512

static _Thread_local char last_error[PEL_ERROR_MESSAGE_SIZE];
static _Thread_local unsigned long error_sequence;

const char *pel_strerror(int status)
{
    switch (status) {
#define PEL_X_TEXT(name, value, text) \
    case value:                       \
        return text;
        PEL_STATUS_TABLE(PEL_X_TEXT)
#undef PEL_X_TEXT
    default:
        return "unknown status";
    }
}

const char *pel_status_name(int status)
{
    switch (status) {
#define PEL_X_NAME(name, value, text) \
    case value:                       \
        return #name;
        PEL_STATUS_TABLE(PEL_X_NAME)
#undef PEL_X_NAME
    default:
        return "PEL_UNKNOWN_STATUS";
    }
}

const char *pel_last_error(void)
{
    return last_error;
}

void pel_clear_error(void)
{
    last_error[0] = '\0';
}

unsigned long pel__error_sequence(void)
{
    return error_sequence;
}

void pel__set_error_message(const char *message)
{
    snprintf(last_error, sizeof last_error, "%s", message);
    error_sequence++;
}

pel_status pel__fail(pel_status status, const char *function, const char *format, ...)
{
    char reason[PEL_ERROR_MESSAGE_SIZE];
    va_list args;

    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    snprintf(last_error, sizeof last_error, "%s: %s", function, reason);
    error_sequence++;
    return status;
}
