/* Shared helpers of pel's fuzz harnesses (tests/fuzz/fuzz_*.c).
 *
 * Each harness defines LLVMFuzzerTestOneInput() and is built twice: with
 * libFuzzer (clang -fsanitize=fuzzer, `make fuzz` in a build configured with
 * --enable-fuzz) to search, and with tests/fuzz/replay.c (any compiler, the
 * normal `make check`) to replay its seed corpus and every crash found so far.
 *
 * A harness checks invariants instead of only surviving: a broken invariant
 * calls fuzz_fail(), which prints the reason and aborts, so libFuzzer saves
 * the input and the replay test fails. Sizes come from the input but are
 * capped so that one execution takes well under a millisecond or so. */
#ifndef PEL_FUZZ_H
#define PEL_FUZZ_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fuzzer's bytes, consumed from the front; reads past the end give 0 so
 * a short input is still a valid (small) case. */
typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
    size_t pos;
} fuzz_input;

static inline fuzz_input fuzz_begin(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size, 0};
    return in;
}

static inline uint8_t fuzz_u8(fuzz_input *in)
{
    return in->pos < in->size ? in->data[in->pos++] : 0;
}

static inline uint64_t fuzz_u64(fuzz_input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | fuzz_u8(in);
    return v;
}

/* A value in [0, bound] (bound small). */
static inline size_t fuzz_upto(fuzz_input *in, size_t bound)
{
    return (size_t)fuzz_u8(in) % (bound + 1);
}

/* A size: mostly small, sometimes a value near an overflow edge, so that
 * validation of huge sizes is exercised without anything being allocated. */
static inline size_t fuzz_size(fuzz_input *in, size_t small_bound)
{
    uint8_t mode = fuzz_u8(in);
    switch (mode & 15) {
    case 15:
        return SIZE_MAX - (size_t)(mode >> 4);
    case 14:
        return ((size_t)1 << (32 + (mode >> 4))) - 1;
    default:
        return (size_t)fuzz_u8(in) % (small_bound + 1);
    }
}

/* A double: mostly modest finite values, sometimes NaN, +-Inf, 0, -0,
 * denormals or huge values. */
static inline double fuzz_double(fuzz_input *in)
{
    uint8_t mode = fuzz_u8(in);
    switch (mode & 31) {
    case 31:
        return NAN;
    case 30:
        return INFINITY;
    case 29:
        return -INFINITY;
    case 28:
        return -0.0;
    case 27:
        return 4.9e-324;
    case 26:
        return 1.0e300;
    default:
        return ((double)(int8_t)fuzz_u8(in)) / 16.0 + (double)(mode >> 5) / 8.0;
    }
}

/* Aborts with a reason: libFuzzer records the input, the replay test fails. */
#define fuzz_fail(...)                                                 \
    do {                                                               \
        fprintf(stderr, "fuzz invariant broken (%s:%d): ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                  \
        fprintf(stderr, "\n");                                         \
        abort();                                                       \
    } while (0)

#define fuzz_require(condition, ...)     \
    do {                                 \
        if (!(condition))                \
            fuzz_fail(__VA_ARGS__);      \
    } while (0)

/* An error status must come with a message that names a pel function. */
static inline void fuzz_check_error_message(int status, const char *where)
{
    const char *message = pel_last_error();
    if (status == PEL_OK)
        return;
    fuzz_require(message != NULL && message[0] != '\0', "%s: status %d without a message", where, status);
    fuzz_require(strncmp(message, "pel_", 4) == 0, "%s: message \"%s\" does not name a pel_ function", where,
                 message);
}

/* Bitwise equality (NaN payloads included): "untouched" means the same bytes. */
static inline int fuzz_same_bytes(const void *a, const void *b, size_t bytes)
{
    return bytes == 0 || memcmp(a, b, bytes) == 0;
}

#endif
