/* Internal error helpers: every failure in pel goes through pel__fail(), one
 * place to put a breakpoint on. */
#ifndef PEL_CORE_ERROR_H
#define PEL_CORE_ERROR_H

#include <stddef.h>
#include <stdint.h>
#include "pel/core.h"

/* Records "function: message" as the calling thread's last error and returns
 * status, so that a validation reads `return PEL_FAIL(...)`. */
PEL_API pel_status pel__fail(pel_status status, const char *function, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#define PEL_FAIL(status, ...) pel__fail((status), __func__, __VA_ARGS__)

/* Shorthand for the most common validation: a required pointer is NULL. */
#define PEL_CHECK_NOT_NULL(pointer)                                                   \
    do {                                                                              \
        if ((pointer) == NULL)                                                        \
            return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "%s must not be NULL", #pointer); \
    } while (0)

/* Counts errors recorded on this thread; parallel code compares it before and
 * after a user callback to know whether the callback left a message. */
unsigned long pel__error_sequence(void);

/* Sets the calling thread's message verbatim (used to carry a worker
 * thread's message back to the caller). */
void pel__set_error_message(const char *message);

/* a*b into *out; returns 0 on overflow. */
static inline int pel__mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* a+b into *out; returns 0 on overflow. */
static inline int pel__add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

#endif
