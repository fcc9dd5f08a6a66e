/* Internal side of pel's FFTW wisdom calls: the validator that every text
 * passes before FFTW's importer sees it. */
#ifndef PEL_FFT_WISDOM_H
#define PEL_FFT_WISDOM_H

#include <stddef.h>

#include "pel/core.h"

/* The most bytes pel reads or accepts as one wisdom text (file or string):
 * FFTW writes about 100 bytes per remembered plan, so 16 MiB is ~160,000
 * plans, far beyond any real wisdom, and bounds the memory and time that a
 * hostile file can take. */
#define PEL__FFT_WISDOM_MAX_BYTES (16 * 1024 * 1024)

/* Checks that text[0..len) (no NUL terminator needed; a NUL byte inside is
 * refused) is wisdom of `precision` in the grammar FFTW 3.3 exports, for
 * the FFTW version linked, with every flags field within the width of
 * FFTW's bit-fields (l and u 20 bits, time-limit impatience 9 bits) and
 * every number in canonical form (#x and 1-8 hex digits; 1-9 decimal
 * digits), and nothing after the closing parenthesis but blanks:
 *
 *   (fftw-3.3.10 fftw_wisdom #xS #xS #xS #xS
 *     (solver_name N #xL #xU #xT #xS #xS #xS #xS)
 *     ...
 *   )
 *
 * Returns PEL_OK, or PEL_ERROR_PARSE with the message
 * "function: what is not valid FFTW wisdom: line L, column C: detail"
 * (what: "text" or the quoted path). Reads nothing outside the range and
 * allocates nothing, so a fuzzer can call it on any bytes. Texts it accepts
 * may still be refused by FFTW (another configuration signature, an
 * unknown solver): FFTW then returns 0 and leaves its wisdom unchanged. */
PEL_API pel_status pel__fft_wisdom_validate(const char *text, size_t len, pel_precision precision,
                                            const char *function, const char *what);

#endif
