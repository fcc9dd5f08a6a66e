/* Plan upgrades (PEL_FFT_AUTO, lib/fft/upgrade.c): one-shot calls start on
 * ESTIMATE plans and a background planner swaps MEASURE plans into the
 * cache. Checked here: every result of 8 threads calling the same and
 * different sizes while upgrades land, against a direct DFT in long double
 * within the accuracy bounds of test_fft_accuracy; fixed efforts and FFTW's
 * wisdom untouched by upgrades; PEL_FFT_UPGRADE; the bounded queue; the
 * planner's background priority; fork while the planner runs; and a process that
 * exits with upgrades queued and running.
 *
 * The sizes are small (32..512 points: FFTW MEASURE plans them in
 * milliseconds), and the tests run the planner at normal priority
 * (PEL_FFT_UPGRADE_NORMAL) except where the background priority itself is
 * checked: a background thread's measurement on a loaded machine takes its
 * share of the CPU, which is the point of it but not of a test. */
#define _GNU_SOURCE /* SCHED_BATCH, SCHED_IDLE */
#include "pel_test.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fft/plan.h"
#include "test_fft_common.h"

extern char **environ;

enum { SIZES = 6, THREADS = 8 };
static const size_t sizes[SIZES] = {64, 96, 128, 200, 256, 512};

/* A size's input and its direct DFT (forward, unnormalised). */
typedef struct reference {
    size_t n;
    double *x;
    long double *dft;
} reference;

static reference references[SIZES];

static double *random_complex(size_t n, uint64_t seed)
{
    double *x = pel_malloc(2 * n * sizeof *x);
    pel_test_fill(x, 2 * n, seed);
    return x;
}

static void make_references(void)
{
    for (int s = 0; s < SIZES; s++) {
        reference *r = &references[s];
        r->n = sizes[s];
        r->x = random_complex(r->n, 500 + (uint64_t)s);
        r->dft = malloc(2 * r->n * sizeof *r->dft);
        for (size_t i = 0; i < 2 * r->n; i++)
            r->dft[i] = r->x[i];
        fft_test_dft(1, &r->n, r->dft, -1);
    }
}

static void free_references(void)
{
    for (int s = 0; s < SIZES; s++) {
        pel_free(references[s].x);
        free(references[s].dft);
    }
}

/* The accuracy contract (docs/fft.md, test_fft_accuracy): relative rms
 * <= 2 eps sqrt(log2 n), relative max <= 4 eps log2 n. */
static int within_bounds(const reference *r, const double *y)
{
    fft_test_error e = fft_test_compare(r->dft, y, 2 * r->n);
    double lg = log2((double)(r->n > 2 ? r->n : 2));

    return e.rms <= 2 * DBL_EPSILON * sqrt(lg) && e.max <= 4 * DBL_EPSILON * lg;
}

static pel_fft_upgrade_stats stats_now(void)
{
    pel_fft_upgrade_stats s;
    PEL_TEST_OK(pel_fft_upgrade_get_stats(&s));
    return s;
}

/* Waits for every upgrade to land (generous: a loaded CI machine). */
static size_t wait_all(void)
{
    size_t pending = 99;
    PEL_TEST_OK(pel_fft_upgrade_wait(120.0, &pending));
    return pending;
}

static void fresh_start(void)
{
    PEL_TEST_OK(pel_fft_set_upgrade_mode(PEL_FFT_UPGRADE_NORMAL));
    PEL_TEST_OK(pel_fft_set_default_effort(PEL_FFT_AUTO, 0));
    PEL_TEST_OK(pel_fft_cache_set_capacity(32));
    CU_ASSERT_EQUAL(wait_all(), 0);
    pel_fft_cache_clear();
}

/* ------------------------------------------------------------ landing */

static void test_upgrade_lands(void)
{
    double *y = pel_malloc(2 * 512 * sizeof *y);
    pel_fft_upgrade_stats before, after;
    pel_fft_cache_stats cache;

    fresh_start();
    CU_ASSERT_EQUAL(pel_fft_get_default_effort(), PEL_FFT_AUTO);
    before = stats_now();
    pel_fft_cache_reset_stats();
    for (int s = 0; s < SIZES; s++) {
        PEL_TEST_OK(pel_fft_c2c(1, &references[s].n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, references[s].x, y));
        CU_ASSERT(within_bounds(&references[s], y));
    }
    CU_ASSERT_EQUAL(wait_all(), 0);
    after = stats_now();
    CU_ASSERT_EQUAL(after.requested - before.requested, SIZES);
    CU_ASSERT_EQUAL(after.completed - before.completed, SIZES);
    CU_ASSERT_EQUAL(after.failed, before.failed);
    CU_ASSERT_EQUAL(after.pending, 0);
    /* The upgraded plans answer the same keys: hits, not misses, and no
     * further upgrade. */
    for (int s = 0; s < SIZES; s++) {
        PEL_TEST_OK(pel_fft_c2c(1, &references[s].n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, references[s].x, y));
        CU_ASSERT(within_bounds(&references[s], y));
    }
    PEL_TEST_OK(pel_fft_cache_get_stats(&cache));
    CU_ASSERT_EQUAL(cache.misses, SIZES);
    CU_ASSERT_EQUAL(cache.hits, SIZES);
    CU_ASSERT_EQUAL(cache.entries, SIZES);
    CU_ASSERT_EQUAL(stats_now().requested, after.requested);
    pel_free(y);
}

/* ------------------------------------------------------------ 8 threads */

typedef struct worker {
    int id;
    atomic_int *stop;
    long calls, bad;
} worker;

static void *call_loop(void *argument)
{
    worker *w = argument;
    double *y = pel_malloc(2 * 512 * sizeof *y), *copy = pel_malloc(2 * 512 * sizeof *copy);

    for (long i = 0; !atomic_load(w->stop) || i < 2 * SIZES; i++) {
        /* Odd workers share one size for a while; even ones rotate through
         * all of them: the same and different sizes at once. */
        const reference *r = &references[(w->id % 2 ? i / 16 + w->id : i + w->id) % SIZES];
        int in_place = (i % 3) == 0;
        pel_status status;
        if (in_place) {
            memcpy(copy, r->x, 2 * r->n * sizeof *copy);
            status = pel_fft_c2c(1, &r->n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, copy, copy);
        } else {
            status = pel_fft_c2c(1, &r->n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, r->x, y);
        }
        w->calls++;
        if (status != PEL_OK || !within_bounds(r, in_place ? copy : y))
            w->bad++;
        /* A short pause after each call leaves the planner a core: eight
         * threads that never sleep would keep the upgrades from landing for
         * as long as the scheduler likes on a 2-core machine (and burn CPU
         * time that CI does not have). */
        {
            struct timespec pause = {0, 200 * 1000};
            nanosleep(&pause, NULL);
        }
        /* Worker 0 clears the cache once early on: upgrades then land on
         * plans that are gone (discarded), and plans running in other
         * threads are dropped by the cache under them. */
        if (w->id == 0 && i == 100)
            pel_fft_cache_clear();
    }
    pel_free(y);
    pel_free(copy);
    return NULL;
}

static void test_eight_threads_while_upgrades_land(void)
{
    pthread_t threads[THREADS];
    worker workers[THREADS];
    atomic_int stop = 0;
    pel_fft_upgrade_stats before, after;
    struct timespec pause = {0, 5 * 1000 * 1000};
    long calls = 0, bad = 0;
    int waited = 0;

    fresh_start();
    before = stats_now();
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){t, &stop, 0, 0};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[t], NULL, call_loop, &workers[t]), 0);
    }
    /* Until several upgrades have landed under the callers (at most 60 s). */
    while (waited < 12000) {
        pel_fft_upgrade_stats s = stats_now();
        if (s.completed - before.completed >= SIZES && s.pending == 0)
            break;
        nanosleep(&pause, NULL);
        waited++;
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        calls += workers[t].calls;
        bad += workers[t].bad;
    }
    after = stats_now();
    CU_ASSERT(after.completed - before.completed >= SIZES);
    CU_ASSERT_EQUAL(after.failed, before.failed);
    CU_ASSERT(calls >= THREADS * 2 * SIZES);
    CU_ASSERT_EQUAL(bad, 0);
    if (bad != 0 || after.completed - before.completed < SIZES)
        fprintf(stderr, "\n  %ld calls, %ld out of bounds; upgrades completed %zu, discarded %zu\n", calls, bad,
                after.completed - before.completed, after.discarded - before.discarded);
    CU_ASSERT_EQUAL(wait_all(), 0);
}

/* ------------------------------------------------------------ fixed bits */

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether two texts hold the same lines in any order (FFTW exports its
 * wisdom in hash-table order, which a re-import shuffles). */
static int same_lines(const char *a, const char *b)
{
    char *copies[2] = {strdup(a), strdup(b)}, **lines[2] = {NULL, NULL};
    size_t counts[2] = {0, 0};
    int same = 1;

    for (int t = 0; t < 2; t++) {
        lines[t] = malloc((strlen(copies[t]) + 1) * sizeof *lines[t]);
        for (char *line = strtok(copies[t], "\n"); line != NULL; line = strtok(NULL, "\n"))
            lines[t][counts[t]++] = line;
        qsort(lines[t], counts[t], sizeof *lines[t], compare_lines);
    }
    same = counts[0] == counts[1];
    for (size_t i = 0; same && i < counts[0]; i++)
        same = strcmp(lines[0][i], lines[1][i]) == 0;
    for (int t = 0; t < 2; t++) {
        free(lines[t]);
        free(copies[t]);
    }
    return same;
}

static void test_fixed_effort_and_wisdom_unchanged(void)
{
    pel_fft_plan *plans[SIZES];
    double *first = pel_malloc(SIZES * 2 * 512 * sizeof *first), *y = pel_malloc(2 * 512 * sizeof *y);
    char *wisdom_before = NULL, *wisdom_after = NULL;
    pel_fft_upgrade_stats before;

    fresh_start();
    pel_fft_wisdom_forget();
    /* Fixed-effort results before any upgrade of these sizes. */
    for (int s = 0; s < SIZES; s++) {
        PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &references[s].n, 1, PEL_FFT_FORWARD, 0, NULL,
                                        &plans[s]));
        PEL_TEST_OK(pel_fft_execute(plans[s], references[s].x, first + s * 2 * 512));
    }
    PEL_TEST_OK(pel_fft_wisdom_export_string(PEL_FLOAT64, &wisdom_before));
    /* Upgrades of the same sizes land. */
    before = stats_now();
    for (int s = 0; s < SIZES; s++)
        PEL_TEST_OK(pel_fft_c2c(1, &references[s].n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, references[s].x, y));
    CU_ASSERT_EQUAL(wait_all(), 0);
    CU_ASSERT_EQUAL(stats_now().completed - before.completed, SIZES);
    /* FFTW's wisdom is as it was: FFTW lets MEASURE wisdom serve ESTIMATE
     * requests, so a measurement left in it would change later ESTIMATE
     * plans (and the convolution's). */
    PEL_TEST_OK(pel_fft_wisdom_export_string(PEL_FLOAT64, &wisdom_after));
    CU_ASSERT_PTR_NOT_NULL_FATAL(wisdom_before);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wisdom_after);
    CU_ASSERT(same_lines(wisdom_after, wisdom_before));
    /* The old plans, new ESTIMATE plans and ESTIMATE one-shots give the
     * first bits; an ESTIMATE default never asks for an upgrade. */
    PEL_TEST_OK(pel_fft_set_default_effort(PEL_FFT_ESTIMATE, 0));
    before = stats_now();
    for (int s = 0; s < SIZES; s++) {
        const double *expected = first + s * 2 * 512;
        size_t bytes = 2 * references[s].n * sizeof *y;
        pel_fft_plan *again = NULL;
        PEL_TEST_OK(pel_fft_execute(plans[s], references[s].x, y));
        CU_ASSERT(memcmp(y, expected, bytes) == 0);
        PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &references[s].n, 1, PEL_FFT_FORWARD, 0, NULL,
                                        &again));
        PEL_TEST_OK(pel_fft_execute(again, references[s].x, y));
        CU_ASSERT(memcmp(y, expected, bytes) == 0);
        pel_fft_plan_destroy(again);
        for (int call = 0; call < 2; call++) {
            PEL_TEST_OK(
                pel_fft_c2c(1, &references[s].n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, references[s].x, y));
            CU_ASSERT(memcmp(y, expected, bytes) == 0);
        }
        pel_fft_plan_destroy(plans[s]);
    }
    CU_ASSERT_EQUAL(wait_all(), 0);
    CU_ASSERT_EQUAL(stats_now().requested, before.requested);
    PEL_TEST_OK(pel_fft_set_default_effort(PEL_FFT_AUTO, 0));
    pel_free(wisdom_before);
    pel_free(wisdom_after);
    pel_free(first);
    pel_free(y);
}

/* AUTO takes MEASURE wisdom when FFTW has it: that plan is final. */
static void test_wisdom_makes_auto_final(void)
{
    size_t n = 160;
    pel_fft_options measure = {PEL_FFT_MEASURE, 0, 1, PEL_FFT_NORM_BACKWARD};
    pel_fft_plan *plan = NULL;
    double *x = random_complex(n, 77), *y = random_complex(n, 78), *z = random_complex(n, 79);
    pel_fft_upgrade_stats before;

    fresh_start();
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, &measure, &plan));
    PEL_TEST_OK(pel_fft_execute(plan, x, y));
    before = stats_now();
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, z));
    CU_ASSERT_EQUAL(stats_now().requested, before.requested);
    CU_ASSERT(memcmp(y, z, 2 * n * sizeof *y) == 0); /* the same MEASURE algorithm */
    pel_fft_plan_destroy(plan);
    pel_fft_wisdom_forget();
    pel_free(x);
    pel_free(y);
    pel_free(z);
}

/* ------------------------------------------------------------ settings */

static void test_environment_and_mode(void)
{
    size_t n = 72;
    double *x = random_complex(n, 81), *y = random_complex(n, 82), *z = random_complex(n, 83);
    pel_fft_plan *estimate = NULL;
    pel_fft_upgrade_stats before;

    fresh_start();
    setenv("PEL_FFT_UPGRADE", "0", 1);
    pel__fft_upgrade_read_environment();
    CU_ASSERT_EQUAL(pel_fft_get_upgrade_mode(), PEL_FFT_UPGRADE_OFF);
    before = stats_now();
    /* Off: AUTO is ESTIMATE, never asked to upgrade. */
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    CU_ASSERT_EQUAL(stats_now().requested, before.requested);
    CU_ASSERT_EQUAL(stats_now().pending, 0);
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, NULL, &estimate));
    PEL_TEST_OK(pel_fft_execute(estimate, x, z));
    CU_ASSERT(memcmp(y, z, 2 * n * sizeof *y) == 0);
    pel_fft_plan_destroy(estimate);
    /* A refused value is noted and the default (idle) is used. */
    setenv("PEL_FFT_UPGRADE", "3", 1);
    pel__fft_upgrade_read_environment();
    CU_ASSERT_EQUAL(pel_fft_get_upgrade_mode(), PEL_FFT_UPGRADE_IDLE);
    CU_ASSERT_PTR_NOT_NULL(strstr(pel_environment_notes(), "PEL_FFT_UPGRADE"));
    setenv("PEL_FFT_UPGRADE", "2", 1);
    pel__fft_upgrade_read_environment();
    CU_ASSERT_EQUAL(pel_fft_get_upgrade_mode(), PEL_FFT_UPGRADE_NORMAL);
    unsetenv("PEL_FFT_UPGRADE");
    /* Back on: the cached plan asks on its next hit and is upgraded. */
    before = stats_now();
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    CU_ASSERT_EQUAL(wait_all(), 0);
    CU_ASSERT_EQUAL(stats_now().completed - before.completed, 1);
    pel_free(x);
    pel_free(y);
    pel_free(z);
}

static void test_bad_arguments(void)
{
    size_t n = 64, pending = 12345;
    pel_fft_options o = {PEL_FFT_AUTO, 0, 0, PEL_FFT_NORM_BACKWARD};
    pel_fft_plan *plan = (pel_fft_plan *)&n;
    pel_fft_r2r_kind kinds[1] = {PEL_FFT_DCT2};

    PEL_TEST_EXPECT_ERROR(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, &o, &plan),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_plan_create", "PEL_FFT_AUTO");
    CU_ASSERT_PTR_NULL(plan);
    plan = (pel_fft_plan *)&n;
    PEL_TEST_EXPECT_ERROR(pel_fft_r2r_plan_create(PEL_FLOAT64, 1, &n, 1, kinds, 0, &o, &plan),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_fft_r2r_plan_create", "PEL_FFT_AUTO");
    CU_ASSERT_PTR_NULL(plan);
    PEL_TEST_EXPECT_ERROR(pel_fft_set_default_effort((pel_fft_effort)6, 0), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_set_default_effort", "effort=6");
    PEL_TEST_EXPECT_ERROR(pel_fft_set_upgrade_mode((pel_fft_upgrade_mode)3), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_set_upgrade_mode", "mode=3");
    PEL_TEST_EXPECT_ERROR(pel_fft_set_upgrade_mode((pel_fft_upgrade_mode)-1), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_set_upgrade_mode", "mode=-1");
    PEL_TEST_EXPECT_ERROR(pel_fft_upgrade_wait(-1.0, &pending), PEL_ERROR_INVALID_ARGUMENT, "pel_fft_upgrade_wait",
                          "timeout_seconds=-1");
    PEL_TEST_EXPECT_ERROR(pel_fft_upgrade_wait(NAN, &pending), PEL_ERROR_INVALID_ARGUMENT, "pel_fft_upgrade_wait",
                          "timeout_seconds=nan");
    CU_ASSERT_EQUAL(pending, 12345); /* untouched on error */
    PEL_TEST_EXPECT_ERROR(pel_fft_upgrade_get_stats(NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_fft_upgrade_get_stats",
                          "stats");
    PEL_TEST_OK(pel_fft_upgrade_wait(0.0, NULL));
}

/* ------------------------------------------------------------ the queue */

static void test_bounded_queue(void)
{
    enum { MANY = 18 };
    size_t n[MANY];
    double *x = random_complex(32 + 8 * MANY, 91), *y = random_complex(32 + 8 * MANY, 92);
    pel_fft_upgrade_stats before, full, after;

    fresh_start();
    before = stats_now();
    pel__fft_upgrade_test_pause(1);
    for (int i = 0; i < MANY; i++) {
        n[i] = 32 + 8 * (size_t)i;
        PEL_TEST_OK(pel_fft_c2c(1, &n[i], 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    }
    full = stats_now();
    CU_ASSERT_EQUAL(full.requested - before.requested, 16);
    CU_ASSERT_EQUAL(full.dropped - before.dropped, MANY - 16);
    CU_ASSERT_EQUAL(full.pending, 16);
    pel__fft_upgrade_test_pause(0);
    CU_ASSERT_EQUAL(wait_all(), 0);
    /* The refused ones ask again on their next hit. */
    for (int i = 0; i < MANY; i++)
        PEL_TEST_OK(pel_fft_c2c(1, &n[i], 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    CU_ASSERT_EQUAL(wait_all(), 0);
    after = stats_now();
    CU_ASSERT_EQUAL(after.completed - before.completed, MANY);
    CU_ASSERT_EQUAL(after.requested - before.requested, MANY);
    pel_free(x);
    pel_free(y);
}

/* ------------------------------------------------------------ priority */

/* How many of this process's threads run with scheduling policy `policy`
 * (the 41st field of /proc/self/task/T/stat: 3 SCHED_BATCH, 5 SCHED_IDLE). */
static int threads_with_policy(int policy)
{
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *entry;
    int count = 0;

    if (tasks == NULL)
        return -1;
    while ((entry = readdir(tasks)) != NULL) {
        char path[300], line[1024];
        FILE *f;
        if (entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(line, sizeof line, f) != NULL) {
            char *p = strrchr(line, ')');
            int field = 2;
            /* Fields after the command name: 3 (state) onwards. */
            for (char *token = p ? strtok(p + 1, " ") : NULL; token != NULL; token = strtok(NULL, " ")) {
                if (++field == 41 && atoi(token) == policy)
                    count++;
            }
        }
        fclose(f);
    }
    closedir(tasks);
    return count;
}

static void test_background_priority(void)
{
    size_t n = 88;
    double *x = random_complex(n, 95), *y = random_complex(n, 96);

    fresh_start();
    CU_ASSERT_EQUAL(threads_with_policy(SCHED_BATCH), 0);
    PEL_TEST_OK(pel_fft_set_upgrade_mode(PEL_FFT_UPGRADE_IDLE));
    pel__fft_upgrade_test_pause(1); /* keeps the planner alive with its job queued */
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    CU_ASSERT_EQUAL(stats_now().pending, 1);
    {
        /* The planner marks itself SCHED_BATCH as it starts, never
         * SCHED_IDLE: a starved measurement would hold the planner lock
         * from callers (upgrade.c, lower_priority). */
        struct timespec pause = {0, 2 * 1000 * 1000};
        int seen = 0;
        for (int i = 0; i < 1000 && seen == 0; i++) {
            seen = threads_with_policy(SCHED_BATCH);
            nanosleep(&pause, NULL);
        }
        CU_ASSERT_EQUAL(seen, 1);
        CU_ASSERT_EQUAL(threads_with_policy(SCHED_IDLE), 0);
    }
    /* A new mode starts a new planner, at normal priority, with the job. */
    PEL_TEST_OK(pel_fft_set_upgrade_mode(PEL_FFT_UPGRADE_NORMAL));
    pel__fft_upgrade_test_pause(0);
    CU_ASSERT_EQUAL(wait_all(), 0);
    CU_ASSERT_EQUAL(threads_with_policy(SCHED_BATCH), 0);
    pel_free(x);
    pel_free(y);
}

/* ------------------------------------------------------------ fork */

/* In the child: no planner, upgrades off, one-shot calls right. */
static int forked_child(void)
{
    double *y = pel_malloc(2 * 512 * sizeof *y);
    size_t pending = 99, n = 44;
    pel_fft_upgrade_stats s;
    int ok = pel_fft_get_upgrade_mode() == PEL_FFT_UPGRADE_OFF && pel_test_thread_count() == 1;

    for (int s_ = 0; s_ < SIZES; s_++) {
        ok = ok && pel_fft_c2c(1, &references[s_].n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, references[s_].x,
                               y) == PEL_OK;
        ok = ok && within_bounds(&references[s_], y);
    }
    ok = ok && pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, references[0].x, y) == PEL_OK;
    ok = ok && pel_fft_upgrade_wait(5.0, &pending) == PEL_OK && pending == 0;
    ok = ok && pel_fft_upgrade_get_stats(&s) == PEL_OK && s.pending == 0;
    ok = ok && pel_test_thread_count() == 1; /* still no planner */
    pel_free(y);
    return ok ? 0 : 1;
}

static void test_fork_while_planner_runs(void)
{
    double *y = pel_malloc(2 * 512 * sizeof *y);
    pel_fft_upgrade_stats before;
    int children_ok = 0;

    fresh_start();
    before = stats_now();
    for (int round = 0; round < 2; round++) {
        for (int s = 0; s < SIZES; s++)
            PEL_TEST_OK(
                pel_fft_c2c(1, &references[s].n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, references[s].x, y));
        /* GCC 12's ASan allocator is not fork-safe (PEL_TEST_ASAN): there
         * the fork waits until the planner sleeps; elsewhere it lands while
         * the planner measures (fork() itself waits for the planner lock). */
        if (PEL_TEST_ASAN)
            CU_ASSERT_EQUAL(wait_all(), 0);
        children_ok += pel_test_in_child(forked_child, 30.0);
        pel_fft_cache_clear(); /* the next round upgrades again */
    }
    CU_ASSERT_EQUAL(children_ok, 2);
    CU_ASSERT_EQUAL(wait_all(), 0);
    CU_ASSERT(stats_now().completed + stats_now().discarded - before.completed - before.discarded >= SIZES);
    pel_free(y);
}

/* ------------------------------------------------------------ exit */

/* Run as a separate process (this program with argument "exit-probe"):
 * queues upgrades and returns from main while the planner works. The exit
 * must join the planner and release everything (LeakSanitizer checks it in
 * the ASan build, valgrind's memcheck by hand). */
static int exit_probe(void)
{
    double *x = random_complex(1024, 1), *y = random_complex(1024, 2);
    pel_fft_upgrade_stats s;

    if (pel_fft_set_upgrade_mode(PEL_FFT_UPGRADE_NORMAL) != PEL_OK)
        return 1;
    for (size_t n = 640; n < 1024; n += 64)
        if (pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y) != PEL_OK)
            return 1;
    pel_free(x);
    pel_free(y);
    if (pel_fft_upgrade_get_stats(&s) != PEL_OK)
        return 1;
    return s.requested > 0 && s.completed < s.requested ? 0 : 2;
}

static void test_exit_with_upgrades_pending(void)
{
    char *argv[] = {"test_fft_upgrade", "exit-probe", NULL};
    pid_t pid;
    int status = -1;
    double waited = 0;

    CU_ASSERT_EQUAL_FATAL(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ), 0);
    for (;;) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 || waited > 120) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            CU_FAIL("the process did not exit");
            return;
        }
        nanosleep(&pause, NULL);
        waited += 0.01;
    }
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ------------------------------------------------------------ main */

static void add_suites(void)
{
    static const pel_test_case upgrade[] = {{"upgrades land, results within bounds", test_upgrade_lands},
                                            {"8 threads, same and different sizes, while upgrades land",
                                             test_eight_threads_while_upgrades_land},
                                            {"fixed effort bits and FFTW wisdom unchanged",
                                             test_fixed_effort_and_wisdom_unchanged},
                                            {"MEASURE wisdom makes AUTO final", test_wisdom_makes_auto_final},
                                            {"PEL_FFT_UPGRADE and the mode", test_environment_and_mode},
                                            {"bad arguments", test_bad_arguments},
                                            {"bounded queue, refused requests retried", test_bounded_queue},
                                            {"background priority", test_background_priority},
                                            {"fork while the planner runs", test_fork_while_planner_runs},
                                            {"exit with upgrades pending", test_exit_with_upgrades_pending},
                                            {NULL, NULL}};
    pel_test_add_suite("fft plan upgrades", upgrade);
}

int main(int argc, char **argv)
{
    int status;

    if (argc > 1 && strcmp(argv[1], "exit-probe") == 0)
        return exit_probe();
    make_references();
    status = pel_test_main("test_fft_upgrade", add_suites);
    free_references();
    return status;
}
