/* Tests of the measured machine model and the thresholds derived from it
 * (lib/tune): the model within known-good bounds, a fake sysfs that claims a
 * huge L3 corrected by the measurement, the level detection on synthetic
 * curves, the thresholds, and stencil blocking candidates bit-identical. */
#include "pel_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/threads.h"
#include "matrix/kernels/kernels.h"
#include "matrix/matrix_internal.h"
#include "stencil/engine.h"
#include "stencil/measure.h"
#include "tune/tune.h"

static const size_t KiB = 1024, MiB = 1024 * 1024;

/* ------------------------------------------------------------ fake sysfs */

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *file;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    file = fopen(path, "w");
    if (file == NULL)
        return 0;
    fputs(text, file);
    fclose(file);
    return 1;
}

/* root/devices/system/cpu/cpu0/cache/indexN with the given levels. */
typedef struct fake_level {
    const char *type, *level, *size, *shared;
} fake_level;

static int make_fake_sysfs(char *root, size_t size, const fake_level *levels, int count)
{
    static const char *const parts[] = {"devices", "system", "cpu", "cpu0", "cache"};
    char dir[512];

    snprintf(root, size, "/tmp/pel_test_sysfs_XXXXXX");
    if (mkdtemp(root) == NULL)
        return 0;
    snprintf(dir, sizeof dir, "%s", root);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t used = strlen(dir);
        snprintf(dir + used, sizeof dir - used, "/%s", parts[i]);
        if (mkdir(dir, 0700) != 0)
            return 0;
    }
    for (int i = 0; i < count; i++) {
        char index[600];
        snprintf(index, sizeof index, "%s/index%d", dir, i);
        if (mkdir(index, 0700) != 0 || !write_text(index, "type", levels[i].type) ||
            !write_text(index, "level", levels[i].level) || !write_text(index, "size", levels[i].size) ||
            !write_text(index, "shared_cpu_list", levels[i].shared))
            return 0;
    }
    return 1;
}

static void remove_fake_sysfs(const char *root, int count)
{
    static const char *const files[] = {"type", "level", "size", "shared_cpu_list"};
    char path[700];

    for (int i = 0; i < count; i++) {
        for (size_t f = 0; f < 4; f++) {
            snprintf(path, sizeof path, "%s/devices/system/cpu/cpu0/cache/index%d/%s", root, i, files[f]);
            unlink(path);
        }
        snprintf(path, sizeof path, "%s/devices/system/cpu/cpu0/cache/index%d", root, i);
        rmdir(path);
    }
    static const char *const dirs[] = {"/devices/system/cpu/cpu0/cache", "/devices/system/cpu/cpu0",
                                       "/devices/system/cpu", "/devices/system", "/devices", ""};
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        snprintf(path, sizeof path, "%s%s", root, dirs[d]);
        rmdir(path);
    }
}

/* ------------------------------------------------------------ the model */

/* Bounds every machine pel runs on satisfies (x86-64 servers and laptops of
 * the last decade; a VM's share of one). */
static void check_sane(const pel_machine *m)
{
    CU_ASSERT(m->threads >= 1);
    CU_ASSERT(m->cache[0].bytes >= 4 * KiB && m->cache[0].bytes <= 4 * MiB);
    CU_ASSERT(m->cache[1].bytes >= 16 * KiB && m->cache[1].bytes <= 256 * MiB);
    CU_ASSERT(m->cache[2].bytes >= m->cache[1].bytes);
    CU_ASSERT(m->cache[1].bytes >= m->cache[0].bytes);
    for (int k = 0; k < 3; k++) {
        /* Never more than the OS reports (for L1 and L2; the L3 is raised to
         * the L2 when reported smaller). */
        if (k < 2 && m->cache[k].reported_bytes >= 16 * KiB)
            CU_ASSERT(m->cache[k].bytes <= m->cache[k].reported_bytes);
        CU_ASSERT(m->cache[k].shared_by >= 1);
        CU_ASSERT(m->cache[k].gbps >= 0 && m->cache[k].gbps <= 20000);
        CU_ASSERT(strcmp(pel_machine_source_name(m->cache[k].source), "unknown") != 0);
    }
    CU_ASSERT(m->memory_gbps >= 0.2 && m->memory_gbps <= 20000);
    CU_ASSERT(m->fma_gflops >= 0.2 && m->fma_gflops <= 1e6);
    CU_ASSERT(m->parallel_region_us >= 0 && m->parallel_region_us < 1e5);
    CU_ASSERT(m->sweep_bytes >= 32 * MiB / 2 && m->sweep_bytes <= 256 * MiB);
    /* About 0.1 s on a quiet machine; the bound leaves room for a loaded
     * one and for the sanitizer builds. */
    CU_ASSERT(m->measure_seconds > 0 && m->measure_seconds < 5.0);
}

static void test_info_errors(void)
{
    PEL_TEST_EXPECT_ERROR(pel_machine_info(NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_machine_info", "out");
    CU_ASSERT_STRING_EQUAL(pel_machine_source_name(PEL_MACHINE_DEFAULT), "default");
    CU_ASSERT_STRING_EQUAL(pel_machine_source_name(PEL_MACHINE_REPORTED), "reported");
    CU_ASSERT_STRING_EQUAL(pel_machine_source_name(PEL_MACHINE_MEASURED), "measured");
    CU_ASSERT_STRING_EQUAL(pel_machine_source_name((pel_machine_source)7), "unknown");
}

static void test_model_bounds(void)
{
    pel_machine m, again;

    PEL_TEST_OK(pel_machine_info(&m));
    check_sane(&m);
    /* The memory is slower than the L2 (the sweep saw both). */
    if (m.memory_source == PEL_MACHINE_MEASURED && m.cache[1].gbps > 0)
        CU_ASSERT(m.memory_gbps < m.cache[1].gbps);
    /* Measured once: a second call returns the same model. */
    PEL_TEST_OK(pel_machine_info(&again));
    CU_ASSERT(memcmp(&m, &again, sizeof m) == 0);
}

/* Concurrent first callers (in a fresh child, where the model is not yet
 * measured unless the parent did) all get the one model. */
typedef struct concurrent_call {
    pel_machine model;
    pel_status status;
} concurrent_call;

static void *call_info(void *arg)
{
    concurrent_call *c = arg;
    c->status = pel_machine_info(&c->model);
    return NULL;
}

static int concurrent_first_use(void)
{
    concurrent_call calls[4];
    pthread_t threads[4];

    for (int i = 0; i < 4; i++)
        if (pthread_create(&threads[i], NULL, call_info, &calls[i]) != 0)
            return 1;
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 4; i++)
        if (calls[i].status != PEL_OK || memcmp(&calls[i].model, &calls[0].model, sizeof calls[0].model) != 0)
            return 1;
    return 0;
}

static void test_concurrent_first_use(void)
{
    CU_ASSERT(pel_test_in_child(concurrent_first_use, 60.0));
}

/* The Xeon VM of docs/tuning.md: sysfs claims a 480 MiB L3 for 2 vCPUs. A
 * fake sysfs claiming 4 GiB makes the point on any machine: the sweep (at
 * most 256 MiB) sees the bandwidth fall to memory's well before it. */
static void test_fake_sysfs_huge_l3(void)
{
    static const fake_level levels[] = {{"Data\n", "1\n", "48K\n", "0\n"},
                                        {"Instruction\n", "1\n", "32K\n", "0\n"},
                                        {"Unified\n", "2\n", "2048K\n", "0\n"},
                                        {"Unified\n", "3\n", "4194304K\n", "0-1\n"}};
    char root[256];
    pel_machine m;

    CU_ASSERT_FATAL(make_fake_sysfs(root, sizeof root, levels, 4));
    pel__machine_set_sysfs_root(root);
    /* A loaded machine can hide the drop in one measurement (a thread
     * descheduled inside the L3 part of the sweep); three tries. */
    for (int attempt = 0; attempt < 3; attempt++) {
        pel__machine_remeasure();
        PEL_TEST_OK(pel_machine_info(&m));
        if (m.cache[2].source == PEL_MACHINE_MEASURED)
            break;
    }
    CU_ASSERT_EQUAL(m.cache[0].reported_bytes, 48 * KiB);
    CU_ASSERT_EQUAL(m.cache[1].reported_bytes, 2 * MiB);
    CU_ASSERT_EQUAL(m.cache[2].reported_bytes, (size_t)4 << 30);
    CU_ASSERT_EQUAL(m.cache[2].shared_by, 2);
    CU_ASSERT_EQUAL(m.cache[2].source, PEL_MACHINE_MEASURED);
    CU_ASSERT(m.cache[2].bytes <= 256 * MiB);
    CU_ASSERT(m.cache[1].bytes <= 2 * MiB);
    /* Up to 256 MiB, or less where two points at 32 MiB or more already
     * read at memory's rate. */
    CU_ASSERT(m.sweep_bytes >= 32 * MiB && m.sweep_bytes <= 256 * MiB);
    CU_ASSERT_EQUAL(m.memory_source, PEL_MACHINE_MEASURED);
    check_sane(&m);
    remove_fake_sysfs(root, 4);
}

/* A report smaller than the machine's caches is kept: the model never plans
 * with more than the OS reports. */
static void test_fake_sysfs_small(void)
{
    static const fake_level levels[] = {{"Data\n", "1\n", "16K\n", "0\n"},
                                        {"Unified\n", "2\n", "128K\n", "0\n"},
                                        {"Unified\n", "3\n", "1M\n", "0-1\n"}};
    char root[256];
    pel_machine m;

    CU_ASSERT_FATAL(make_fake_sysfs(root, sizeof root, levels, 3));
    pel__machine_set_sysfs_root(root);
    pel__machine_remeasure();
    PEL_TEST_OK(pel_machine_info(&m));
    CU_ASSERT(m.cache[0].bytes <= 16 * KiB);
    CU_ASSERT(m.cache[1].bytes <= 128 * KiB);
    CU_ASSERT(m.cache[2].bytes <= 1 * MiB);
    /* Four times 1 MiB, raised to the 64 MiB floor (or stopped at memory). */
    CU_ASSERT(m.sweep_bytes >= 32 * MiB && m.sweep_bytes <= 64 * MiB);
    check_sane(&m);
    remove_fake_sysfs(root, 3);

    /* No sysfs at all (an empty root): defaults, said so. */
    CU_ASSERT_FATAL(make_fake_sysfs(root, sizeof root, levels, 0));
    pel__machine_set_sysfs_root(root);
    pel__machine_remeasure();
    PEL_TEST_OK(pel_machine_info(&m));
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL(m.cache[k].reported_bytes, 0);
        CU_ASSERT(m.cache[k].source != PEL_MACHINE_REPORTED);
    }
    check_sane(&m);
    remove_fake_sysfs(root, 0);

    pel__machine_set_sysfs_root(NULL);
    pel__machine_remeasure();
}

/* ------------------------------------------------------------ synthetic curves */

/* A curve of 2 threads from 16 KiB to 256 MiB: L1 32 KiB, L2 1 MiB an
 * instance (private), L3 16 MiB (shared), memory beyond; `noise` puts one
 * slow sample inside the L2 (a descheduled thread). */
static int synthetic_curve(pel__sweep_point *points, int noise)
{
    int count = 0;

    for (size_t bytes = 16 * KiB; bytes <= 256 * MiB; bytes *= 2, count++) {
        points[count].bytes = bytes;
        points[count].gbps = bytes <= 64 * KiB ? 400 : bytes <= 2 * MiB ? 200 : bytes <= 16 * MiB ? 80 : 25;
        if (noise && bytes == 1 * MiB)
            points[count].gbps = 30;
    }
    return count;
}

static void test_levels_synthetic(void)
{
    pel__sweep_point points[32];
    int count = synthetic_curve(points, 0);
    const int shared[3] = {1, 1, 2};
    size_t bytes[3];
    pel_machine_source source[3];
    double gbps[3];

    /* Reports that agree with the curve are kept. */
    {
        const size_t reported[3] = {32 * KiB, 1 * MiB, 16 * MiB};
        pel__machine_levels(points, count, 2, reported, shared, bytes, source, gbps);
        CU_ASSERT_EQUAL(bytes[0], 32 * KiB);
        CU_ASSERT_EQUAL(bytes[1], 1 * MiB);
        CU_ASSERT_EQUAL(bytes[2], 16 * MiB);
        for (int k = 0; k < 3; k++)
            CU_ASSERT_EQUAL(source[k], PEL_MACHINE_REPORTED);
        CU_ASSERT_DOUBLE_EQUAL(gbps[0], 400, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(gbps[1], 200, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(gbps[2], 80, 1e-12);
    }
    /* An L3 claimed 30 times too large is measured (the VM case), and an L2
     * claimed 8 times too large too; one slow sample does not end a level. */
    for (int noise = 0; noise < 2; noise++) {
        const size_t reported[3] = {32 * KiB, 8 * MiB, 480 * MiB};
        count = synthetic_curve(points, noise);
        pel__machine_levels(points, count, 2, reported, shared, bytes, source, gbps);
        CU_ASSERT_EQUAL(bytes[0], 32 * KiB);
        CU_ASSERT_EQUAL(bytes[1], 1 * MiB);
        CU_ASSERT_EQUAL(source[1], PEL_MACHINE_MEASURED);
        CU_ASSERT_EQUAL(bytes[2], 16 * MiB);
        CU_ASSERT_EQUAL(source[2], PEL_MACHINE_MEASURED);
    }
    /* Nothing reported: the drops set every level. */
    {
        const size_t reported[3] = {0, 0, 0};
        const int unknown[3] = {1, 1, 2};
        count = synthetic_curve(points, 0);
        pel__machine_levels(points, count, 2, reported, unknown, bytes, source, gbps);
        CU_ASSERT_EQUAL(bytes[0], 32 * KiB);
        CU_ASSERT_EQUAL(bytes[1], 1 * MiB);
        CU_ASSERT_EQUAL(bytes[2], 16 * MiB);
        for (int k = 0; k < 3; k++)
            CU_ASSERT_EQUAL(source[k], PEL_MACHINE_MEASURED);
    }
    /* A loaded machine: the L3 reads at only 1.2 times memory and ends
     * where it comes within 10% of it. */
    {
        const size_t reported[3] = {32 * KiB, 1 * MiB, 480 * MiB};
        for (int i = 0; i < count; i++)
            if (points[i].bytes > 2 * MiB)
                points[i].gbps = points[i].bytes <= 16 * MiB ? 37 : 31;
        pel__machine_levels(points, count, 2, reported, shared, bytes, source, gbps);
        CU_ASSERT_EQUAL(bytes[2], 16 * MiB);
        CU_ASSERT_EQUAL(source[2], PEL_MACHINE_MEASURED);
    }
    /* A flat curve keeps the inner levels' reports; a last level no faster
     * than memory adds nothing beyond the L2s; no sweep at all keeps every
     * report. */
    {
        const size_t reported[3] = {48 * KiB, 2 * MiB, 480 * MiB};
        for (int i = 0; i < count; i++)
            points[i].gbps = 50;
        pel__machine_levels(points, count, 2, reported, shared, bytes, source, gbps);
        for (int k = 0; k < 2; k++) {
            CU_ASSERT_EQUAL(bytes[k], reported[k]);
            CU_ASSERT_EQUAL(source[k], PEL_MACHINE_REPORTED);
        }
        CU_ASSERT_EQUAL(bytes[2], 4 * MiB); /* the two L2s */
        CU_ASSERT_EQUAL(source[2], PEL_MACHINE_MEASURED);
        /* The same curve agrees with a claim of 32 MiB (it drops at half of it). */
        {
            const size_t agreeing[3] = {48 * KiB, 2 * MiB, 32 * MiB};
            pel__machine_levels(points, count, 2, agreeing, shared, bytes, source, gbps);
            CU_ASSERT_EQUAL(bytes[2], 32 * MiB);
            CU_ASSERT_EQUAL(source[2], PEL_MACHINE_REPORTED);
        }
        pel__machine_levels(points, 0, 2, reported, shared, bytes, source, gbps);
        for (int k = 0; k < 3; k++) {
            CU_ASSERT_EQUAL(bytes[k], reported[k]);
            CU_ASSERT_DOUBLE_EQUAL(gbps[k], 0, 0);
        }
    }
    /* Absurd curves stay within the sane bounds. */
    {
        const size_t reported[3] = {0, 0, 0};
        for (int i = 0; i < count; i++)
            points[i].gbps = i == 0 ? 1000 : 1;
        pel__machine_levels(points, count, 2, reported, shared, bytes, source, gbps);
        CU_ASSERT(bytes[0] >= 4 * KiB);
        CU_ASSERT(bytes[1] >= 16 * KiB && bytes[1] >= bytes[0]);
        CU_ASSERT(bytes[2] >= bytes[1]);
    }
}

/* ------------------------------------------------------------ thresholds */

/* A model for the ring budget: L2 of l2 bytes, an L3 of l3 bytes shared by
 * the 2 threads, memory at 30 GB/s, and a sweep with `count` points of
 * bytes[i] (the team's working set) reading gbps[i]. */
static pel_machine budget_model(size_t l2, size_t l3, const size_t *bytes, const double *gbps, int count)
{
    pel_machine m;
    memset(&m, 0, sizeof m);
    m.threads = 2;
    m.cache[0].bytes = 32 * KiB;
    m.cache[1].bytes = l2;
    m.cache[2].bytes = l3;
    m.memory_gbps = 30.0;
    m.sweep_points = count;
    for (int i = 0; i < count; i++) {
        m.sweep_point_bytes[i] = bytes[i];
        m.sweep_point_gbps[i] = gbps[i];
        if (bytes[i] > 2 * l2 && bytes[i] <= l3)
            m.cache[2].gbps = gbps[i];
    }
    return m;
}

static void test_ring_budget(void)
{
    static const size_t sizes[] = {64 * KiB, 1 * MiB, 2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB, 32 * MiB, 64 * MiB};
    /* An L3 reading at 2.1x memory (the Xeon VM): the L2 alone. */
    {
        const double gbps[] = {300, 200, 190, 63, 63, 63, 60, 30};
        pel_machine m = budget_model(2 * MiB, 64 * MiB, sizes, gbps, 8);
        CU_ASSERT_EQUAL(pel__stencil_ring_budget_from_model(&m, 2), 2 * MiB);
        CU_ASSERT_EQUAL(pel__stencil_ring_budget_from_model(&m, 1), 2 * MiB);
    }
    /* Zen 4's curve (pel-bench --machine, docs/tuning.md): 16 MiB still at
     * 4.9x memory, 32 MiB at 1.7x: half of 16 MiB over 2 threads. */
    {
        const double gbps[] = {320, 199, 176, 172, 176, 161, 55, 34};
        pel_machine m = budget_model(1 * MiB, 32 * MiB, sizes, gbps, 8);
        CU_ASSERT_EQUAL(pel__stencil_ring_budget_from_model(&m, 2), 4 * MiB);
        CU_ASSERT_EQUAL(pel__stencil_ring_budget_from_model(&m, 1), 8 * MiB);
        /* More threads than that share: never below the L2. */
        CU_ASSERT_EQUAL(pel__stencil_ring_budget_from_model(&m, 16), 1 * MiB);
    }
    /* Zen 3: the 32 MiB point at 2.3x or 3.3x from one process to the next
     * moves the budget by 2x at most (the old all-or-nothing rule: 32x). */
    {
        const double slow[] = {180, 125, 125, 100, 95, 90, 69, 30};
        const double fast[] = {180, 125, 125, 100, 95, 90, 99, 30};
        pel_machine a = budget_model(512 * KiB, 32 * MiB, sizes, slow, 8);
        pel_machine b = budget_model(512 * KiB, 32 * MiB, sizes, fast, 8);
        size_t ba = pel__stencil_ring_budget_from_model(&a, 2), bb = pel__stencil_ring_budget_from_model(&b, 2);
        CU_ASSERT_EQUAL(ba, 4 * MiB);
        CU_ASSERT_EQUAL(bb, 8 * MiB);
    }
    /* Past the effective L3 (a swept point beyond it that still reads fast)
     * the L3's size caps it. */
    {
        const double gbps[] = {320, 199, 176, 172, 176, 161, 150, 140};
        pel_machine m = budget_model(1 * MiB, 32 * MiB, sizes, gbps, 8);
        CU_ASSERT_EQUAL(pel__stencil_ring_budget_from_model(&m, 2), 8 * MiB);
    }
    /* No sweep (defaults): half the L3's share; with an L3 rate measured
     * below the ratio, the L2. */
    {
        pel_machine m = budget_model(1 * MiB, 32 * MiB, sizes, NULL, 0);
        CU_ASSERT_EQUAL(pel__stencil_ring_budget_from_model(&m, 2), 8 * MiB);
        m.cache[2].gbps = 60.0;
        CU_ASSERT_EQUAL(pel__stencil_ring_budget_from_model(&m, 2), 1 * MiB);
    }
    /* The live model gives at least its own L2. */
    CU_ASSERT(pel__stencil_ring_budget_bytes(2) >= pel__stencil_cache_size(2));
}

static void test_thresholds(void)
{
    int threads = pel_get_num_threads();
    size_t min_work = pel__tune_min_work_per_thread();
    int previous = 1;

    if (threads >= 2)
        CU_ASSERT(min_work >= PEL__MIN_WORK_DEFAULT && min_work <= PEL__MIN_WORK_DEFAULT * 32);
    CU_ASSERT_EQUAL(pel__tune_threads_for_work(0), 1);
    CU_ASSERT_EQUAL(pel__tune_threads_for_work(1000), 1);
    CU_ASSERT_EQUAL(pel__tune_threads_for_work((size_t)1 << 40), threads);
    /* Never fewer threads for more work. */
    for (size_t work = 1; work < ((size_t)1 << 32); work *= 3) {
        int now = pel__tune_threads_for_work(work);
        CU_ASSERT(now >= previous && now <= threads);
        previous = now;
    }
    /* What the user sets wins over the measurement. */
    PEL_TEST_OK(pel_set_min_work_per_thread(1000));
    CU_ASSERT_EQUAL(pel__tune_min_work_per_thread(), 1000);
    CU_ASSERT_EQUAL(pel__tune_threads_for_work(1000 * (size_t)threads), threads);
    PEL_TEST_OK(pel_set_min_work_per_thread(0));
    CU_ASSERT_EQUAL(pel__tune_min_work_per_thread(), min_work);
    /* One thread asks no threshold. */
    PEL_TEST_OK(pel_set_num_threads_local(1));
    CU_ASSERT_EQUAL(pel__tune_threads_for_work((size_t)1 << 40), 1);
    PEL_TEST_OK(pel_set_num_threads_local(0));
}

/* The rule on installed models: the work one thread does in one fork/join
 * (region cost x L2 rate of one thread / 8 bytes), bounded, and the default
 * for a fork/join too long to be the machine's own. */
static void test_thresholds_from_model(void)
{
    static const struct {
        double region_us;
        size_t fft, openmp; /* expected minimum work per thread */
    } cases[] = {
        {32.0, 800000, 800000},    /* passive waiting in a VM: believed */
        {0.5, 32768, 12500},       /* spinning workers: FFTW's floor; OpenMP's measured value */
        {0.01, 32768, 2048},       /* absurdly cheap: OpenMP's floor */
        {200.0, 1048576, 1048576}, /* believed, bounded to 32 defaults */
        {5000.0, 32768, 32768},    /* a loaded moment: the default */
    };
    const pel_machine original = *pel__machine();

    PEL_TEST_OK(pel_set_num_threads_local(2));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pel_machine m = original;
        m.threads = 2;
        m.cache[1].gbps = 400.0; /* 25 000 units a microsecond for each of 2 threads */
        m.parallel_region_us = cases[c].region_us;
        pel__machine_install(&m);
        CU_ASSERT_EQUAL(pel__tune_min_work_per_thread(), cases[c].fft);
        CU_ASSERT_EQUAL(pel__tune_threads_for_work(2 * cases[c].fft - 1), 1);
        CU_ASSERT_EQUAL(pel__tune_threads_for_work(2 * cases[c].fft), 2);
        CU_ASSERT_EQUAL(pel__tune_threads_for_openmp_work(2 * cases[c].openmp - 1), 1);
        CU_ASSERT_EQUAL(pel__tune_threads_for_openmp_work(2 * cases[c].openmp), 2);
    }
    pel__machine_install(&original);
    PEL_TEST_OK(pel_set_num_threads_local(0));
}

/* ------------------------------------------------------------ blocking */

/* Every blocking candidate gives the automatic choice's bits, on 1 and 2
 * threads: 3-D 7-point and 2-D 5-point, Dirichlet and periodic faces. */
static void test_blocking_bit_identical(void)
{
    static const double c3[7] = {0.38, 0.11, 0.09, 0.105, 0.095, 0.1, 0.12};
    static const double c2[5] = {0.52, 0.13, 0.11, 0.12, 0.125};
    static const size_t budgets[] = {16 * 1024, 256 * 1024, 2 * 1024 * 1024, 64 * 1024 * 1024};
    static const size_t time_blocks[] = {1, 2, 3, 7};

    for (int ndim = 2; ndim <= 3; ndim++) {
        size_t dims[3] = {ndim == 3 ? 29 : 131, ndim == 3 ? 33 : 97, 37}, n = 1, steps = 7;
        pel_boundary faces[6];
        pel_stencil *stencil = NULL;
        double *grid, *expected, *got_grid, *got_work;
        void *result;

        for (int a = 0; a < ndim; a++)
            n *= dims[a];
        for (int f = 0; f < 2 * ndim; f++)
            faces[f] = (pel_boundary){f < 2 ? PEL_BOUNDARY_PERIODIC : PEL_BOUNDARY_DIRICHLET, 0.375};
        PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, ndim, PEL_STENCIL_STAR, 1, ndim == 3 ? c3 : c2, 2 * ndim + 1, 0,
                                       0.0, &stencil));
        grid = malloc(n * sizeof *grid);
        expected = malloc(n * sizeof *expected);
        got_grid = malloc(n * sizeof *got_grid);
        got_work = malloc(n * sizeof *got_work);
        CU_ASSERT_FATAL(grid && expected && got_grid && got_work);
        pel_test_fill(grid, n, 77 + (uint64_t)ndim);

        memcpy(got_grid, grid, n * sizeof *grid);
        PEL_TEST_OK(pel_stencil_apply(stencil, dims, faces, got_grid, got_work, NULL, steps, NULL, &result));
        memcpy(expected, result, n * sizeof *expected);
        for (int threads = 1; threads <= 2; threads++) {
            PEL_TEST_OK(pel_set_num_threads_local(threads));
            for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
                for (size_t t = 0; t <= sizeof time_blocks / sizeof time_blocks[0]; t++) {
                    pel_stencil_blocking blocking;
                    memset(&blocking, 0, sizeof blocking);
                    blocking.cache_bytes = budgets[b];
                    blocking.time_block = t < sizeof time_blocks / sizeof time_blocks[0] ? time_blocks[t] : 0;
                    memcpy(got_grid, grid, n * sizeof *grid);
                    PEL_TEST_OK(
                        pel_stencil_apply(stencil, dims, faces, got_grid, got_work, NULL, steps, &blocking, &result));
                    CU_ASSERT(memcmp(result, expected, n * sizeof *expected) == 0);
                }
            }
            PEL_TEST_OK(pel_set_num_threads_local(0));
        }
        /* Measured choices: the same bits, measured once per problem. */
        {
            pel_stencil_blocking measure, tiled;
            unsigned long before = pel__stencil_measure_count();
            size_t other_dims[3] = {dims[0] - 1, dims[1], dims[2]};

            memset(&measure, 0, sizeof measure);
            measure.cache_bytes = PEL_STENCIL_CACHE_MEASURE;
            for (int call = 0; call < 2; call++) {
                memcpy(got_grid, grid, n * sizeof *grid);
                PEL_TEST_OK(
                    pel_stencil_apply(stencil, dims, faces, got_grid, got_work, NULL, steps, &measure, &result));
                CU_ASSERT(memcmp(result, expected, n * sizeof *expected) == 0);
                CU_ASSERT_EQUAL(pel__stencil_measure_count(), before + 1);
            }
            /* Tiles given: the caller's choice, nothing measured. */
            tiled = measure;
            tiled.tile[0] = 4;
            memcpy(got_grid, grid, n * sizeof *grid);
            PEL_TEST_OK(pel_stencil_apply(stencil, dims, faces, got_grid, got_work, NULL, steps, &tiled, &result));
            CU_ASSERT(memcmp(result, expected, n * sizeof *expected) == 0);
            CU_ASSERT_EQUAL(pel__stencil_measure_count(), before + 1);
            /* PEL_TUNE=measure: automatic calls measure a new problem once
             * (fewer points than the grid: only the count is checked). */
            CU_ASSERT_FATAL(setenv("PEL_TUNE", "measure", 1) == 0);
            memcpy(got_grid, grid, n * sizeof *grid);
            PEL_TEST_OK(pel_stencil_apply(stencil, other_dims, faces, got_grid, got_work, NULL, steps, NULL, &result));
            CU_ASSERT_EQUAL(pel__stencil_measure_count(), before + 2);
            unsetenv("PEL_TUNE");
            memcpy(got_grid, grid, n * sizeof *grid);
            PEL_TEST_OK(pel_stencil_apply(stencil, dims, faces, got_grid, got_work, NULL, steps, NULL, &result));
            CU_ASSERT(memcmp(result, expected, n * sizeof *expected) == 0);
            CU_ASSERT_EQUAL(pel__stencil_measure_count(), before + 2);
        }
        free(grid);
        free(expected);
        free(got_grid);
        free(got_work);
        pel_stencil_destroy(stencil);
    }
}

/* Four threads make measured choices at once, for the same problem and for
 * different ones, while results are checked on every call. */
typedef struct measure_job {
    const pel_stencil *stencil;
    size_t dims[2];
    const double *grid, *expected;
    int failures;
} measure_job;

static void *measured_calls(void *arg)
{
    measure_job *job = arg;
    size_t n = job->dims[0] * job->dims[1];
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    pel_boundary faces[4];
    pel_stencil_blocking measure;
    void *result;

    memset(&measure, 0, sizeof measure);
    measure.cache_bytes = PEL_STENCIL_CACHE_MEASURE;
    for (int f = 0; f < 4; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.5};
    for (int call = 0; call < 3 && a != NULL && b != NULL; call++) {
        memcpy(a, job->grid, n * sizeof *a);
        if (pel_stencil_apply(job->stencil, job->dims, faces, a, b, NULL, 6, &measure, &result) != PEL_OK ||
            memcmp(result, job->expected, n * sizeof *a) != 0)
            job->failures++;
    }
    if (a == NULL || b == NULL)
        job->failures++;
    free(a);
    free(b);
    return NULL;
}

static void test_measured_concurrent(void)
{
    static const double c2[5] = {0.52, 0.13, 0.11, 0.12, 0.125};
    const size_t shapes[2][2] = {{61, 83}, {47, 90}};
    pel_stencil *stencil = NULL;
    double *grid[2], *expected[2];
    measure_job jobs[4];
    pthread_t threads[4];
    pel_boundary faces[4];

    for (int f = 0; f < 4; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.5};
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, c2, 5, 0, 0.0, &stencil));
    for (int s = 0; s < 2; s++) {
        size_t n = shapes[s][0] * shapes[s][1];
        double *work = malloc(n * sizeof *work);
        void *result;
        grid[s] = malloc(n * sizeof *grid[s]);
        expected[s] = malloc(n * sizeof *expected[s]);
        CU_ASSERT_FATAL(work && grid[s] && expected[s]);
        pel_test_fill(grid[s], n, 500 + (uint64_t)s);
        memcpy(expected[s], grid[s], n * sizeof *grid[s]);
        PEL_TEST_OK(pel_stencil_apply(stencil, shapes[s], faces, expected[s], work, NULL, 6, NULL, &result));
        if (result != expected[s])
            memcpy(expected[s], result, n * sizeof *work);
        free(work);
    }
    for (int i = 0; i < 4; i++) {
        jobs[i] = (measure_job){stencil, {shapes[i % 2][0], shapes[i % 2][1]}, grid[i % 2], expected[i % 2], 0};
        CU_ASSERT_FATAL(pthread_create(&threads[i], NULL, measured_calls, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CU_ASSERT_EQUAL(jobs[i].failures, 0);
    }
    for (int s = 0; s < 2; s++) {
        free(grid[s]);
        free(expected[s]);
    }
    pel_stencil_destroy(stencil);
}

/* ------------------------------------------------------------ wisdom */

static int same_model(const pel_machine *a, const pel_machine *b)
{
    int same = a->threads == b->threads && a->memory_gbps == b->memory_gbps && a->memory_source == b->memory_source &&
               a->fma_gflops == b->fma_gflops && a->fma_source == b->fma_source &&
               a->parallel_region_us == b->parallel_region_us && a->sweep_bytes == b->sweep_bytes &&
               a->measure_seconds == b->measure_seconds && a->sweep_points == b->sweep_points;
    for (int k = 0; k < 3; k++)
        same = same && a->cache[k].bytes == b->cache[k].bytes &&
               a->cache[k].reported_bytes == b->cache[k].reported_bytes &&
               a->cache[k].shared_by == b->cache[k].shared_by && a->cache[k].gbps == b->cache[k].gbps &&
               a->cache[k].source == b->cache[k].source;
    for (int i = 0; same && i < a->sweep_points; i++)
        same = a->sweep_point_bytes[i] == b->sweep_point_bytes[i] && a->sweep_point_gbps[i] == b->sweep_point_gbps[i];
    return same;
}

/* FNV-1a 64, written again here as the test's own reference. */
static uint64_t reference_checksum(const char *text, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
    return h;
}

/* text with its fingerprint line replaced and the checksum recomputed. */
static char *with_fingerprint(const char *text, const char *print)
{
    const char *line = strstr(text, "\nfingerprint "), *end, *checksum;
    size_t size = strlen(text) + strlen(print) + 64, used;
    char *out = malloc(size);

    if (line == NULL || out == NULL)
        return NULL;
    end = strchr(line + 1, '\n');
    checksum = strstr(text, "\nchecksum ");
    used = (size_t)snprintf(out, size, "%.*s\nfingerprint %s%.*s\n", (int)(line - text), text, print,
                            (int)(checksum - end), end);
    snprintf(out + used, size - used, "checksum %016llx\n", (unsigned long long)reference_checksum(out, used));
    return out;
}

static void test_wisdom_round_trip(void)
{
    pel_machine before, after, imported;
    char *text = NULL, *again = NULL, *foreign, *changed;
    int applied = -1;
    size_t len;
    char path[] = "/tmp/pel_test_wisdom_XXXXXX";
    int fd;

    PEL_TEST_EXPECT_ERROR(pel_wisdom_export(NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_wisdom_export", "text");
    PEL_TEST_EXPECT_ERROR(pel_wisdom_import(NULL, &applied), PEL_ERROR_INVALID_ARGUMENT, "pel_wisdom_import", "text");
    PEL_TEST_EXPECT_ERROR(pel_wisdom_export_file(NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_wisdom_export_file", "path");
    PEL_TEST_EXPECT_ERROR(pel_wisdom_import_file(NULL, &applied), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_wisdom_import_file", "path");
    CU_ASSERT_EQUAL(applied, -1);

    PEL_TEST_OK(pel_machine_info(&before));
    PEL_TEST_OK(pel_wisdom_export(&text));
    CU_ASSERT_FATAL(text != NULL);
    CU_ASSERT(strncmp(text, "pel-wisdom 1\nfingerprint ", 25) == 0);
    len = strlen(text);

    /* A model of another moment, imported: the model changes to it. */
    changed = malloc(len + 64);
    CU_ASSERT_FATAL(changed != NULL);
    {
        const char *memory = strstr(text, "\nmemory ");
        const char *eol = memory ? strchr(memory + 1, '\n') : NULL;
        const char *checksum = strstr(text, "\nchecksum ");
        size_t used;
        CU_ASSERT_FATAL(memory && eol && checksum);
        used = (size_t)snprintf(changed, len + 64, "%.*s\nmemory 12.5 2%.*s\n", (int)(memory - text), text,
                                (int)(checksum - eol), eol);
        snprintf(changed + used, len + 64 - used, "checksum %016llx\n",
                 (unsigned long long)reference_checksum(changed, used));
    }
    PEL_TEST_OK(pel_wisdom_import(changed, &applied));
    CU_ASSERT_EQUAL(applied, 1);
    PEL_TEST_OK(pel_machine_info(&imported));
    CU_ASSERT_DOUBLE_EQUAL(imported.memory_gbps, 12.5, 0);
    CU_ASSERT_EQUAL(imported.threads, before.threads);
    /* The original back: bit for bit the exported model. */
    applied = -1;
    PEL_TEST_OK(pel_wisdom_import(text, &applied));
    CU_ASSERT_EQUAL(applied, 1);
    PEL_TEST_OK(pel_machine_info(&after));
    CU_ASSERT(same_model(&before, &after));

    /* Another machine's: ignored with a note, nothing changes. */
    foreign = with_fingerprint(text, "Some Other CPU; 64 cpus; pel 0.0.1; none");
    CU_ASSERT_FATAL(foreign != NULL);
    applied = -1;
    PEL_TEST_OK(pel_wisdom_import(foreign, &applied));
    CU_ASSERT_EQUAL(applied, 0);
    CU_ASSERT(strstr(pel_last_error(), "another machine") != NULL);
    PEL_TEST_OK(pel_machine_info(&after));
    CU_ASSERT(same_model(&before, &after));

    /* Truncated anywhere, one byte altered, or random bytes: refused,
     * nothing changes, applied untouched. */
    for (size_t cut = 0; cut < len; cut += len / 23 + 1) {
        char *part = malloc(cut + 1);
        CU_ASSERT_FATAL(part != NULL);
        memcpy(part, text, cut);
        part[cut] = '\0';
        applied = -1;
        PEL_TEST_EXPECT_ERROR(pel_wisdom_import(part, &applied), PEL_ERROR_PARSE, "pel_wisdom_import", "wisdom");
        CU_ASSERT_EQUAL(applied, -1);
        free(part);
    }
    for (size_t at = 0; at + 30 < len; at += len / 17 + 1) {
        char *bad = strdup(text);
        CU_ASSERT_FATAL(bad != NULL);
        bad[at] = bad[at] == 'x' ? 'y' : 'x';
        PEL_TEST_EXPECT_ERROR(pel_wisdom_import(bad, &applied), PEL_ERROR_PARSE, "pel_wisdom_import", "wisdom");
        free(bad);
    }
    {
        pel_test_rng rng = {2385};
        char random_text[4096];
        for (int trial = 0; trial < 20; trial++) {
            size_t n = (size_t)(pel_test_next(&rng) % (sizeof random_text - 1));
            for (size_t i = 0; i < n; i++)
                random_text[i] = (char)(1 + pel_test_next(&rng) % 255);
            random_text[n] = '\0';
            PEL_TEST_EXPECT_ERROR(pel_wisdom_import(random_text, &applied), PEL_ERROR_PARSE, "pel_wisdom_import",
                                  "wisdom");
        }
        /* A well-formed text with a corrupt FFTW part (checksum fixed up). */
        {
            const char *fftw = strstr(text, "\nfftw-double ");
            char *bad = strdup(text);
            CU_ASSERT_FATAL(fftw != NULL && bad != NULL);
            if (fftw != NULL && bad != NULL) {
                char *body = strchr(bad + (fftw - text) + 1, '\n') + 1;
                const char *checksum = strstr(bad, "\nchecksum ");
                size_t used = (size_t)(checksum - bad) + 1;
                body[0] = body[0] == '(' ? ')' : '(';
                snprintf(bad + used, len + 1 - used, "checksum %016llx\n",
                         (unsigned long long)reference_checksum(bad, used));
                PEL_TEST_EXPECT_ERROR(pel_wisdom_import(bad, &applied), PEL_ERROR_PARSE, "pel_wisdom_import",
                                      "FFTW wisdom");
            }
            free(bad);
        }
        PEL_TEST_OK(pel_machine_info(&after));
        CU_ASSERT(same_model(&before, &after));
    }

    /* Files: round trip, and a missing file. */
    fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    PEL_TEST_OK(pel_wisdom_export_file(path));
    applied = -1;
    PEL_TEST_OK(pel_wisdom_import_file(path, &applied));
    CU_ASSERT_EQUAL(applied, 1);
    PEL_TEST_OK(pel_wisdom_export(&again));
    CU_ASSERT(again != NULL && strncmp(again, text, (size_t)(strstr(text, "\nfftw-double") - text)) == 0);
    unlink(path);
    applied = -1;
    PEL_TEST_EXPECT_ERROR(pel_wisdom_import_file(path, &applied), PEL_ERROR_IO, "pel_wisdom_import_file", "path");
    CU_ASSERT_EQUAL(applied, -1);
    PEL_TEST_EXPECT_ERROR(pel_wisdom_export_file("/nonexistent-dir/w"), PEL_ERROR_IO, "pel_wisdom_export_file",
                          "path");

    pel_free(text);
    pel_free(again);
    free(foreign);
    free(changed);
}

/* PEL_WISDOM_FILE, as read at the model's first need: this machine's file
 * gives its model (marked by a memory rate of 12.25), a foreign or corrupt
 * one or none gives nothing, and the caller's last message stays. */
static void test_wisdom_environment(void)
{
    char *text = NULL, *marked, *foreign;
    char path[] = "/tmp/pel_test_wisdom_env_XXXXXX";
    pel_machine m;
    int fd;
    FILE *file;

    PEL_TEST_OK(pel_wisdom_export(&text));
    CU_ASSERT_FATAL(text != NULL);
    {
        const char *memory = strstr(text, "\nmemory "), *eol = strchr(memory + 1, '\n');
        const char *checksum = strstr(text, "\nchecksum ");
        size_t size = strlen(text) + 64, used;
        marked = malloc(size);
        CU_ASSERT_FATAL(marked != NULL);
        used = (size_t)snprintf(marked, size, "%.*s\nmemory 12.25 2%.*s\n", (int)(memory - text), text,
                                (int)(checksum - eol), eol);
        snprintf(marked + used, size - used, "checksum %016llx\n", (unsigned long long)reference_checksum(marked, used));
    }
    foreign = with_fingerprint(marked, "Another CPU; 2 cpus; pel 9; none");
    CU_ASSERT_FATAL(foreign != NULL);
    fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);

    unsetenv("PEL_WISDOM_FILE");
    CU_ASSERT_EQUAL(pel__wisdom_load_environment_model(&m), 0);
    CU_ASSERT_FATAL(setenv("PEL_WISDOM_FILE", path, 1) == 0);
    for (int variant = 0; variant < 3; variant++) {
        file = fopen(path, "w");
        CU_ASSERT_FATAL(file != NULL);
        fputs(variant == 0 ? marked : variant == 1 ? foreign : "pel-wisdom 1\ngarbage\n", file);
        fclose(file);
        /* Any failed call: its message must survive the reading. */
        CU_ASSERT_EQUAL(pel_machine_info(NULL), PEL_ERROR_INVALID_ARGUMENT);
        memset(&m, 0, sizeof m);
        CU_ASSERT_EQUAL(pel__wisdom_load_environment_model(&m), variant == 0);
        if (variant == 0)
            CU_ASSERT_DOUBLE_EQUAL(m.memory_gbps, 12.25, 0);
        CU_ASSERT(strstr(pel_last_error(), "pel_machine_info") != NULL);
    }
    unlink(path);
    CU_ASSERT_EQUAL(pel__wisdom_load_environment_model(&m), 0); /* unreadable */
    unsetenv("PEL_WISDOM_FILE");
    pel_free(text);
    free(marked);
    free(foreign);
}

/* text with the lines from `marker` (a "\nstencil " or "\ngemm " line) up
 * to "fftw-double" replaced by section and the checksum recomputed. */
static char *with_section(const char *text, const char *marker, const char *section)
{
    const char *from = strstr(text, marker), *to = strstr(text, "\nfftw-double "), *checksum;
    size_t size = strlen(text) + strlen(section) + 64, used;
    char *out = malloc(size);

    if (from == NULL || to == NULL || out == NULL) {
        free(out);
        return NULL;
    }
    checksum = strstr(text, "\nchecksum ");
    used = (size_t)snprintf(out, size, "%.*s\n%s%.*s\n", (int)(from - text), text, section, (int)(checksum - to - 1),
                            to + 1);
    snprintf(out + used, size - used, "checksum %016llx\n", (unsigned long long)reference_checksum(out, used));
    return out;
}

static char *with_stencil_section(const char *text, const char *section)
{
    return with_section(text, "\nstencil ", section);
}

/* ... and from its "gemm" section on. */
static char *with_gemm_section(const char *text, const char *section)
{
    return with_section(text, "\ngemm ", section);
}

/* The batched gemm's measured cutoff travels in the wisdom: exported,
 * imported back the same and used instead of a measurement, corrupt
 * entries refused with nothing changed, texts without the section read. */
static void test_wisdom_gemm_cutoffs(void)
{
    static const char *const bad_sections[] = {
        "gemm 1\ncutoff nosuch 0 40\n", "gemm 1\ncutoff %s 2 40\n",      "gemm 1\ncutoff %s 0 65\n",
        "gemm 1\ncutoff %s 0 0\n",      "gemm 1\ncutoff %s 0 40 extra\n", "gemm 2\ncutoff %s 0 64\n",
        "gemm 9\n",                     "gemm -1\n",                      "gemm 1\ncutoff %s 0 -40\n",
    };
    const pel__matrix_kernels *table = pel__matrix_kernels_get();
    const size_t floor = pel__matrix_cutoff_floor(table, 0); /* the measurement's (lib/matrix/cutoff.c) */
    const size_t v = floor + 8 <= PEL_GEMM_SMALL_MAX ? floor + 8 : floor;
    pel__matrix_cutoff one, got[PEL__MATRIX_MAX_CUTOFFS];
    char *text = NULL, *again = NULL, *changed;
    char section[256];
    int applied = -1;

    memset(&one, 0, sizeof one);
    pel__matrix_cutoffs_clear();
    CU_ASSERT(pel__matrix_cutoffs_get(got) == 0);
    PEL_TEST_OK(pel_wisdom_export(&text));
    CU_ASSERT_FATAL(text != NULL);
    CU_ASSERT(strstr(text, "\ngemm 0\n") != NULL);
    pel_free(text);

    snprintf(one.table, sizeof one.table, "%s", table->name);
    one.value = v;
    CU_ASSERT(pel__matrix_cutoff_valid(&one));
    pel__matrix_cutoffs_put(&one, 1);
    if (getenv("PEL_GEMM_CUTOFF") == NULL) /* a fixed cutoff would win */
        CU_ASSERT_EQUAL(pel__matrix_small_max(table, 0), v);
    PEL_TEST_OK(pel_wisdom_export(&text));
    CU_ASSERT_FATAL(text != NULL);
    snprintf(section, sizeof section, "\ngemm 1\ncutoff %s 0 %zu\n", table->name, v);
    CU_ASSERT(strstr(text, section) != NULL);

    /* Forgotten, imported: the same entry, the same text. */
    pel__matrix_cutoffs_clear();
    PEL_TEST_OK(pel_wisdom_import(text, &applied));
    CU_ASSERT_EQUAL(applied, 1);
    CU_ASSERT_FATAL(pel__matrix_cutoffs_get(got) == 1);
    CU_ASSERT(strcmp(got[0].table, table->name) == 0 && got[0].single == 0 && got[0].value == v);
    PEL_TEST_OK(pel_wisdom_export(&again));
    CU_ASSERT(again != NULL && strcmp(again, text) == 0);
    pel_free(again);

    /* Corrupt entries (checksum fixed up): refused, nothing changes. */
    for (size_t i = 0; i < sizeof bad_sections / sizeof bad_sections[0]; i++) {
        snprintf(section, sizeof section, bad_sections[i], table->name);
        changed = with_gemm_section(text, section);
        CU_ASSERT_FATAL(changed != NULL);
        applied = -1;
        PEL_TEST_EXPECT_ERROR(pel_wisdom_import(changed, &applied), PEL_ERROR_PARSE, "pel_wisdom_import",
                              strstr(section, "cutoff") != NULL ? "cutoff TABLE" : "gemm COUNT");
        CU_ASSERT_EQUAL(applied, -1);
        CU_ASSERT(pel__matrix_cutoffs_get(got) == 1 && got[0].value == v);
        free(changed);
    }
    if (floor > 1) { /* below the floor */
        snprintf(section, sizeof section, "gemm 1\ncutoff %s 0 %zu\n", table->name, floor - 1);
        changed = with_gemm_section(text, section);
        CU_ASSERT_FATAL(changed != NULL);
        PEL_TEST_EXPECT_ERROR(pel_wisdom_import(changed, &applied), PEL_ERROR_PARSE, "pel_wisdom_import", "cutoff");
        free(changed);
    }
    /* Without the section (a text from before it existed): read, and the
     * cutoffs stay as they are. */
    changed = with_gemm_section(text, "");
    CU_ASSERT_FATAL(changed != NULL);
    CU_ASSERT(strstr(changed, "\ngemm ") == NULL);
    PEL_TEST_OK(pel_wisdom_import(changed, &applied));
    CU_ASSERT_EQUAL(applied, 1);
    CU_ASSERT(pel__matrix_cutoffs_get(got) == 1 && got[0].value == v);
    free(changed);
    pel_free(text);
    pel__matrix_cutoffs_clear();
}

/* The measured stencil choices travel in the wisdom: exported, imported
 * back the same, an imported choice used instead of a measurement (same
 * bits), corrupt entries refused with nothing changed, texts without the
 * section still read, and PEL_WISDOM_FILE's choices taken at the model's
 * first need. */
static void test_wisdom_stencil_choices(void)
{
    static const double c2[5] = {0.52, 0.13, 0.11, 0.12, 0.125};
    const size_t dims[2] = {37, 53}, n = 37 * 53, steps = 6;
    pel_stencil_blocking measure;
    pel_boundary faces[4];
    pel_stencil *stencil = NULL;
    pel__stencil_choice kept[PEL__STENCIL_MAX_CHOICES], now[PEL__STENCIL_MAX_CHOICES];
    pel_machine before, after;
    double *grid = malloc(n * sizeof *grid), *expected = malloc(n * sizeof *expected);
    double *got = malloc(n * sizeof *got), *work = malloc(n * sizeof *work);
    char *text = NULL, *again = NULL, *section_text;
    char key[256], section[512];
    void *result;
    unsigned long count;
    int applied, nkept;

    CU_ASSERT_FATAL(grid && expected && got && work);
    for (int f = 0; f < 4; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.625};
    memset(&measure, 0, sizeof measure);
    measure.cache_bytes = PEL_STENCIL_CACHE_MEASURE;
    PEL_TEST_OK(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, c2, 5, 0, 0.0, &stencil));
    pel_test_fill(grid, n, 2385);
    memcpy(got, grid, n * sizeof *grid);
    PEL_TEST_OK(pel_stencil_apply(stencil, dims, faces, got, work, NULL, steps, NULL, &result));
    memcpy(expected, result, n * sizeof *expected);

    /* One measured choice, exported. */
    pel__stencil_choices_clear();
    count = pel__stencil_measure_count();
    memcpy(got, grid, n * sizeof *grid);
    PEL_TEST_OK(pel_stencil_apply(stencil, dims, faces, got, work, NULL, steps, &measure, &result));
    CU_ASSERT(memcmp(result, expected, n * sizeof *expected) == 0);
    CU_ASSERT_EQUAL(pel__stencil_measure_count(), count + 1);
    nkept = pel__stencil_choices_get(kept);
    CU_ASSERT_FATAL(nkept == 1);
    PEL_TEST_OK(pel_machine_info(&before));
    PEL_TEST_OK(pel_wisdom_export(&text));
    CU_ASSERT_FATAL(text != NULL);
    snprintf(key, sizeof key, "37 1 53 1 0 1 2 %d -1 0 0 5 3 8", kept[0].key.nthreads);
    snprintf(section, sizeof section, "\nstencil 1\nchoice %s %zu %zu\n", key, kept[0].cache_bytes,
             kept[0].time_block);
    CU_ASSERT(strstr(text, section) != NULL);

    /* Round trip: forgotten, imported, the same choice and the same text. */
    pel__stencil_choices_clear();
    PEL_TEST_OK(pel_wisdom_import(text, &applied));
    CU_ASSERT_EQUAL(applied, 1);
    CU_ASSERT(pel__stencil_choices_get(now) == 1 && memcmp(&now[0], &kept[0], sizeof kept[0]) == 0);
    PEL_TEST_OK(pel_wisdom_export(&again));
    CU_ASSERT(again != NULL && strcmp(again, text) == 0);
    pel_free(again);

    /* An imported choice (one step at a time, a 64 KiB budget) replaces the
     * measured one and is used: nothing measured, the same bits. */
    snprintf(section, sizeof section, "stencil 1\nchoice %s 65536 1\n", key);
    section_text = with_stencil_section(text, section);
    CU_ASSERT_FATAL(section_text != NULL);
    PEL_TEST_OK(pel_wisdom_import(section_text, &applied));
    CU_ASSERT_EQUAL(applied, 1);
    CU_ASSERT(pel__stencil_choices_get(now) == 1 && now[0].cache_bytes == 65536 && now[0].time_block == 1);
    count = pel__stencil_measure_count();
    memcpy(got, grid, n * sizeof *grid);
    PEL_TEST_OK(pel_stencil_apply(stencil, dims, faces, got, work, NULL, steps, &measure, &result));
    CU_ASSERT(memcmp(result, expected, n * sizeof *expected) == 0);
    CU_ASSERT_EQUAL(pel__stencil_measure_count(), count);
    free(section_text);

    /* Corrupt entries (checksum fixed up): refused, nothing changes. */
    nkept = pel__stencil_choices_get(kept);
    {
        char bad[12][320];
        snprintf(bad[0], sizeof bad[0], "stencil 2\nchoice %s 0 1\n", key);            /* one line short */
        snprintf(bad[1], sizeof bad[1], "stencil 65\nchoice %s 0 1\n", key);           /* above 64 */
        snprintf(bad[2], sizeof bad[2], "stencil -1\n");                                /* negative */
        snprintf(bad[3], sizeof bad[3], "stencil 1\nchoice %s 0\n", key);              /* a field missing */
        snprintf(bad[4], sizeof bad[4], "stencil 1\nchoice %s 0 1 7\n", key);          /* one too many */
        snprintf(bad[5], sizeof bad[5], "stencil 1\nchoice %s 0 65\n", key);           /* time block > 64 */
        snprintf(bad[6], sizeof bad[6], "stencil 1\nchoice 37 1 53 1 0 1 2 1 -1 0 0 5 3 5 0 1\n"); /* element 5 */
        snprintf(bad[7], sizeof bad[7], "stencil 1\nchoice 37 1 53 1 0 1 4 1 -1 0 0 5 3 8 0 1\n"); /* ndim 4 */
        snprintf(bad[8], sizeof bad[8], "stencil 1\nchoice 37 1 53 1 0 1 2 0 -1 0 0 5 3 8 0 1\n"); /* 0 threads */
        snprintf(bad[9], sizeof bad[9], "stencil 1\nchoice 0 1 53 1 0 1 2 1 -1 0 0 5 3 8 0 1\n");  /* empty axis */
        snprintf(bad[10], sizeof bad[10], "stencil 1\nchoice 37 1 53 9 0 1 2 1 -1 0 0 5 3 8 0 1\n"); /* radius 9 */
        snprintf(bad[11], sizeof bad[11], "stencil 1\nchoice %s -1 1\n", key);        /* the MEASURE request */
        for (int b = 0; b < 12; b++) {
            char *corrupt = with_stencil_section(text, bad[b]);
            CU_ASSERT_FATAL(corrupt != NULL);
            applied = -1;
            PEL_TEST_EXPECT_ERROR(pel_wisdom_import(corrupt, &applied), PEL_ERROR_PARSE, "pel_wisdom_import",
                                  "pel wisdom: line");
            CU_ASSERT_EQUAL(applied, -1);
            CU_ASSERT(pel__stencil_choices_get(now) == nkept && memcmp(now, kept, (size_t)nkept * sizeof *now) == 0);
            free(corrupt);
        }
    }
    PEL_TEST_OK(pel_machine_info(&after));
    CU_ASSERT(same_model(&before, &after));

    /* A text written before the section existed: read, no choice changes. */
    section_text = with_stencil_section(text, "");
    CU_ASSERT_FATAL(section_text != NULL);
    PEL_TEST_OK(pel_wisdom_import(section_text, &applied));
    CU_ASSERT_EQUAL(applied, 1);
    CU_ASSERT(pel__stencil_choices_get(now) == nkept && memcmp(now, kept, (size_t)nkept * sizeof *now) == 0);
    free(section_text);

    /* PEL_WISDOM_FILE: the file's choices come with its model. */
    {
        char path[] = "/tmp/pel_test_wisdom_choices_XXXXXX";
        int fd = mkstemp(path);
        FILE *file;
        pel_machine m;
        CU_ASSERT_FATAL(fd >= 0);
        close(fd);
        file = fopen(path, "w");
        CU_ASSERT_FATAL(file != NULL);
        fputs(text, file); /* the measured choice, not the imported one */
        fclose(file);
        pel__stencil_choices_clear();
        CU_ASSERT_FATAL(setenv("PEL_WISDOM_FILE", path, 1) == 0);
        CU_ASSERT_EQUAL(pel__wisdom_load_environment_model(&m), 1);
        unsetenv("PEL_WISDOM_FILE");
        unlink(path);
        nkept = pel__stencil_choices_get(now);
        CU_ASSERT(nkept == 1 && now[0].cache_bytes != 65536 && now[0].key.n[2] == 53);
    }
    pel__stencil_choices_clear();
    pel_free(text);
    free(grid);
    free(expected);
    free(got);
    free(work);
    pel_stencil_destroy(stencil);
}

static void add_suites(void)
{
    static const pel_test_case model_tests[] = {
        /* First, while this process has not measured: the child races. */
        {"concurrent first use", test_concurrent_first_use},
        {"pel_machine_info errors", test_info_errors},
        {"model within known-good bounds", test_model_bounds},
        {"fake sysfs claiming a huge L3", test_fake_sysfs_huge_l3},
        {"fake sysfs smaller than the caches, or none", test_fake_sysfs_small},
        {"levels from synthetic curves", test_levels_synthetic},
        {"stencil ring budget from the sweep", test_ring_budget},
        {NULL, NULL}};
    static const pel_test_case threshold_tests[] = {{"measured minimum work per thread", test_thresholds},
                                                    {"minimum work from installed models", test_thresholds_from_model},
                                                    {"blocking candidates bit-identical", test_blocking_bit_identical},
                                                    {"measured choices from 4 threads", test_measured_concurrent},
                                                    {"wisdom round trip, foreign, corrupt", test_wisdom_round_trip},
                                                    {"PEL_WISDOM_FILE", test_wisdom_environment},
                                                    {"stencil choices in the wisdom", test_wisdom_stencil_choices},
                                                    {"gemm cutoffs in the wisdom", test_wisdom_gemm_cutoffs},
                                                    {NULL, NULL}};
    pel_test_add_suite("machine model", model_tests);
    pel_test_add_suite("thresholds and blocking", threshold_tests);
}

int main(void)
{
    return pel_test_main("test_tune", add_suites);
}
