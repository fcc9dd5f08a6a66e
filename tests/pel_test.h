/* Helpers shared by pel's CUnit test programs: the runner, random inputs and
 * error-path assertions. */
#ifndef PEL_TEST_H
#define PEL_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <CUnit/CUnit.h>

#include "pel.h"

/* Runs the suites added by add_suites() and prints CUnit's run summary.
 * Returns the process exit status: 0 when every test passed. */
int pel_test_main(const char *program, void (*add_suites)(void));

/* Adds a suite with its tests; tests is NULL-terminated {name, function}. */
typedef struct pel_test_case {
    const char *name;
    void (*run)(void);
} pel_test_case;
void pel_test_add_suite(const char *name, const pel_test_case *tests);

/* A small, fast, reproducible generator (splitmix64). */
typedef struct pel_test_rng {
    uint64_t state;
} pel_test_rng;
uint64_t pel_test_next(pel_test_rng *rng);
/* Uniform in [lo, hi). */
double pel_test_uniform(pel_test_rng *rng, double lo, double hi);
/* Fills x with uniform values in [-1, 1) from seed: "high-entropy" data. */
void pel_test_fill(double *x, size_t n, uint64_t seed);
void pel_test_fill_float(float *x, size_t n, uint64_t seed);

/* Asserts that status equals expected and that pel_last_error() names the
 * function and contains the fragment (e.g. the argument's name). */
void pel_test_check_error(int status, int expected, const char *function, const char *fragment,
                          const char *file, int line);
#define PEL_TEST_EXPECT_ERROR(call, expected, function, fragment) \
    pel_test_check_error((call), (expected), (function), (fragment), __FILE__, __LINE__)

/* Asserts a status is PEL_OK, showing the message if not. */
void pel_test_check_ok(int status, const char *what, const char *file, int line);
#define PEL_TEST_OK(call) pel_test_check_ok((call), #call, __FILE__, __LINE__)

/* 1 in a ThreadSanitizer build. TSan maps terabytes of address space and
 * keeps several bytes of shadow per byte of memory, so tests that limit the
 * address space (RLIMIT_AS) or bound a process's resident size measure TSan
 * there, not pel: they keep their calls (the races are what TSan is for) and
 * skip only those limits and bounds. */
#if defined(__SANITIZE_THREAD__)
#define PEL_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PEL_TEST_TSAN 1
#endif
#endif
#ifndef PEL_TEST_TSAN
#define PEL_TEST_TSAN 0
#endif

/* 1 in an AddressSanitizer build. The ASan allocators of GCC 12 and clang 14
 * (Debian 12's) do not take their locks around fork(): a child forked while
 * another parent thread is inside malloc inherits the allocator lock held and
 * hangs at its first malloc (seen in tests/test_core's fork test, 2 runs in
 * 10). glibc's malloc does take its locks, so only the ASan build needs the
 * tests to keep forks away from allocating calls of other threads. */
#if defined(__SANITIZE_ADDRESS__)
#define PEL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEL_TEST_ASAN 1
#endif
#endif
#ifndef PEL_TEST_ASAN
#define PEL_TEST_ASAN 0
#endif

/* The number of threads of this process, from /proc/self/status; -1 if
 * it cannot be read. */
int pel_test_thread_count(void);

/* Runs fn() in a forked child process and returns nonzero if it exited with
 * status 0 within timeout_seconds (a hang is killed and counts as failure). */
int pel_test_in_child(int (*fn)(void), double timeout_seconds);

#endif
