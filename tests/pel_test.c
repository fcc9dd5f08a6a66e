/* Shared CUnit runner and helpers for pel's tests. */
#include "pel_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

void pel_test_add_suite(const char *name, const pel_test_case *tests)
{
    CU_pSuite suite = CU_add_suite(name, NULL, NULL);

    if (suite == NULL) {
        fprintf(stderr, "cannot add suite %s: %s\n", name, CU_get_error_msg());
        exit(99);
    }
    for (; tests->name != NULL; tests++)
        if (CU_add_test(suite, tests->name, tests->run) == NULL) {
            fprintf(stderr, "cannot add test %s: %s\n", tests->name, CU_get_error_msg());
            exit(99);
        }
}

int pel_test_main(const char *program, void (*add_suites)(void))
{
    unsigned failures, tests_run;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "%s: cannot initialise CUnit\n", program);
        return 99;
    }
    add_suites();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    tests_run = CU_get_number_of_tests_run();
    printf("\n%s: %u tests run, %u failed assertions, %u failed tests\n", program, tests_run,
           CU_get_number_of_failures(), CU_get_number_of_tests_failed());
    CU_cleanup_registry();
    if (tests_run == 0)
        return 1; /* an empty run is a failure, never a silent pass */
    return failures == 0 ? 0 : 1;
}

uint64_t pel_test_next(pel_test_rng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double pel_test_uniform(pel_test_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(pel_test_next(rng) >> 11) * 0x1.0p-53);
}

void pel_test_fill(double *x, size_t n, uint64_t seed)
{
    pel_test_rng rng = {seed};

    for (size_t i = 0; i < n; i++)
        x[i] = pel_test_uniform(&rng, -1.0, 1.0);
}

void pel_test_fill_float(float *x, size_t n, uint64_t seed)
{
    pel_test_rng rng = {seed};

    for (size_t i = 0; i < n; i++)
        x[i] = (float)pel_test_uniform(&rng, -1.0, 1.0);
}

void pel_test_check_error(int status, int expected, const char *function, const char *fragment,
                          const char *file, int line)
{
    const char *message = pel_last_error();
    int ok = status == expected && strstr(message, function) != NULL &&
             (fragment == NULL || strstr(message, fragment) != NULL);

    if (!ok)
        printf("\n  %s:%d: expected %s mentioning '%s' and '%s', got %s: \"%s\"\n", file, line,
               pel_status_name(expected), function, fragment ? fragment : "", pel_status_name(status), message);
    CU_assertImplementation(ok, (unsigned)line, "error status and message as expected", file, "", CU_FALSE);
    pel_clear_error();
}

void pel_test_check_ok(int status, const char *what, const char *file, int line)
{
    if (status != PEL_OK)
        printf("\n  %s:%d: %s returned %s: \"%s\"\n", file, line, what, pel_status_name(status), pel_last_error());
    CU_assertImplementation(status == PEL_OK, (unsigned)line, what, file, "", CU_FALSE);
}

int pel_test_thread_count(void)
{
    char line[128];
    int n = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* Under ASan (see PEL_TEST_ASAN), waits up to a second for threads that are
 * still exiting, such as libgomp workers dropped when a team shrinks: a
 * thread that ends frees its ASan state under the allocator's locks, and a
 * child forked then inherits them held. Done when the count holds for
 * 50 ms. */
static void wait_for_exiting_threads(void)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    int last = pel_test_thread_count(), steady = 0;

    for (int i = 0; i < 100 && steady < 5; i++) {
        int now;
        nanosleep(&pause, NULL);
        now = pel_test_thread_count();
        steady = now == last ? steady + 1 : 0;
        last = now;
    }
}

int pel_test_in_child(int (*fn)(void), double timeout_seconds)
{
    pid_t pid;
    int wstatus = 0;
    double waited = 0.0;

    if (PEL_TEST_ASAN)
        wait_for_exiting_threads();
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        /* The alarm is a second guard: a hung child kills itself. */
        alarm((unsigned)timeout_seconds + 1);
        _exit(fn() == 0 ? 0 : 1);
    }
    for (;;) {
        pid_t done = waitpid(pid, &wstatus, WNOHANG);
        struct timespec pause = {0, 10 * 1000 * 1000};
        if (done == pid)
            return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
        if (done < 0 || waited > timeout_seconds) {
            kill(pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            return 0;
        }
        nanosleep(&pause, NULL);
        waited += 0.01;
    }
}
