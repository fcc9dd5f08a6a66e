/* Parsing of pel's environment variables. Every variable pel reads goes
 * through these functions, so that one rule holds for all of them and a
 * fuzzer can drive the parser directly (tests/fuzz).
 *
 * The rule: an unset or empty variable means "not given". Otherwise the text
 * must be a whole decimal number, optionally surrounded by blanks, inside the
 * variable's range; anything else (signs, letters, hex, values out of range,
 * numbers too long for any integer type) is refused with
 * PEL_ERROR_INVALID_ARGUMENT and a message naming the variable. Nothing
 * saturates: a refused variable leaves the output untouched, and pel then
 * uses the default and records the message in pel_environment_notes(). */
#ifndef PEL_CORE_ENV_H
#define PEL_CORE_ENV_H

#include <stddef.h>

#include "pel/core.h"

/* The text of `name` as a number in [min, max] into *out. text NULL or empty:
 * PEL_OK with *out untouched and *given = 0; a valid number: PEL_OK, *out set
 * and *given = 1; anything else: PEL_ERROR_INVALID_ARGUMENT with the message
 * "NAME: ..." and nothing written. given may be NULL. */
pel_status pel__env_parse_number(const char *name, const char *text, unsigned long long min, unsigned long long max,
                                 unsigned long long *out, int *given);

/* PEL_NUM_THREADS: 0..PEL_MAX_THREADS (0: the default). Unset or empty
 * gives *out = 0. Errors leave *out untouched. */
pel_status pel__env_parse_threads(const char *text, int *out);

/* PEL_THREAD_BUDGET: 0 (off) or 1..PEL_MAX_THREADS. Unset or empty gives
 * *out = PEL_THREAD_BUDGET_DEFAULT (-1). Errors leave *out untouched. */
pel_status pel__env_parse_budget(const char *text, int *out);

/* PEL_MIN_WORK_PER_THREAD: 0..SIZE_MAX (0: the default). Unset or empty
 * gives *out = 0. Errors leave *out untouched. */
pel_status pel__env_parse_min_work(const char *text, size_t *out);

/* PEL_FFT_UPGRADE: 0 (off), 1 (background priority, SCHED_BATCH) or 2 (normal priority), a
 * pel_fft_upgrade_mode. Unset or empty gives *out = 1. Errors leave *out
 * untouched. */
pel_status pel__env_parse_fft_upgrade(const char *text, int *out);

/* PEL_GEMM_CUTOFF: the batched gemm's cutoff to OpenBLAS, "table" (the
 * kernel table's constant; *out = SIZE_MAX) or 1..64; unset or empty gives
 * *out = 0 (measured, lib/matrix/cutoff.c). Errors leave *out untouched. */
pel_status pel__env_parse_gemm_cutoff(const char *text, size_t *out);

/* Reads variable `name` through `parse` (one of the parsers above, taking
 * its output as void *): a refused value is noted in pel_environment_notes()
 * with "(ignored: the default is used)", *out keeps its default, and the
 * calling thread's last error is left as it was. */
void pel__env_read(const char *name, pel_status (*parse)(const char *, void *), void *out);

/* Appends "message" to the notes that pel_environment_notes() returns (at
 * load time, before any other thread can read them). */
void pel__env_note(const char *message);

#endif
