/* The measured machine model. On first need, once per process: the cache
 * sizes the OS reports (sysfs, else sysconf) are read as a starting point,
 * then a read-bandwidth sweep over working sets from 8 KiB a thread up to a
 * few times the reported last-level cache runs on pel's threads, and each
 * level's effective capacity is where the bandwidth drops. A reported size
 * is kept when the sweep agrees with it within a factor of two and replaced
 * by the measured one when the bandwidth drops well before it (a VM that
 * reports a 480 MiB L3 that its 2 vCPUs cannot use). The memory bandwidth is
 * the sweep's rate far beyond the last level, the FMA rate a short run of
 * independent FMA chains. Each number is the best of short repeats and
 * bounded between sane limits, because the machine may be busy. */
#include "config.h"

#include <immintrin.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/threads.h"
#include "tune/tune.h"

enum { MAX_POINTS = 32, MAX_REPS = 5 };

/* What pel assumes when nothing is known (the project's first machine). */
static const size_t default_bytes[3] = {48u << 10, 512u << 10, 32u << 20};
static const double default_memory_gbps = 20.0;
static const double default_fma_gflops = 16.0;

/* Sane limits: a measurement outside them is noise (or a broken timer). */
static const size_t min_bytes[3] = {4u << 10, 16u << 10, 64u << 10};
static const size_t max_bytes[3] = {4u << 20, 256u << 20, (size_t)8 << 30};
static const double min_gbps = 0.2, max_gbps = 20000.0;
static const double min_gflops = 0.2, max_gflops = 1.0e6;

/* An inner level ends where the bandwidth falls below this fraction of its
 * bandwidth at the level's start, at two points in a row (the last level:
 * see pel__machine_levels). */
static const double drop_fraction = 0.7;

/* The model is published as a pointer to an immutable snapshot: a reader
 * takes the pointer once and reads a consistent model even while a wisdom
 * import installs a newer one. Snapshots live in a small ring of static
 * slots (an installer reuses the oldest, which no reader holds after eight
 * newer ones). */
enum { SNAPSHOTS = 8 };
static pel_machine snapshots[SNAPSHOTS];
static unsigned next_snapshot;
static _Atomic(const pel_machine *) current_model;
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static char sysfs_root_override[512];

/* ------------------------------------------------------------ reported sizes */

static int read_line(const char *path, char *buffer, size_t size)
{
    FILE *file = fopen(path, "r");
    int ok;

    if (file == NULL)
        return 0;
    ok = fgets(buffer, (int)size, file) != NULL;
    fclose(file);
    return ok;
}

/* The number of CPUs in a list such as "0-1,4,6-7"; 0 when unreadable. */
static int count_cpu_list(const char *text)
{
    int count = 0;
    const char *p = text;

    while (*p >= '0' && *p <= '9') {
        char *end;
        long first = strtol(p, &end, 10), last = first;
        if (*end == '-')
            last = strtol(end + 1, &end, 10);
        if (last >= first && last - first < 1 << 20)
            count += (int)(last - first + 1);
        p = *end == ',' ? end + 1 : end;
    }
    return count;
}

/* Sizes of one instance of L1d, L2 and L3 and how many CPUs share each. */
static void read_reported(const char *root, int use_sysconf, size_t reported[3], int shared_by[3])
{
    for (int index = 0; index < 16; index++) {
        char path[640], text[256];
        char *end;
        unsigned long level, size;
        snprintf(path, sizeof path, "%s/devices/system/cpu/cpu0/cache/index%d/type", root, index);
        if (!read_line(path, text, sizeof text))
            break;
        if (strncmp(text, "Instruction", 11) == 0)
            continue;
        snprintf(path, sizeof path, "%s/devices/system/cpu/cpu0/cache/index%d/level", root, index);
        if (!read_line(path, text, sizeof text))
            continue;
        level = strtoul(text, NULL, 10);
        snprintf(path, sizeof path, "%s/devices/system/cpu/cpu0/cache/index%d/size", root, index);
        if (!read_line(path, text, sizeof text))
            continue;
        size = strtoul(text, &end, 10);
        if (*end == 'K')
            size <<= 10;
        else if (*end == 'M')
            size <<= 20;
        else if (*end == 'G')
            size <<= 30;
        if (level < 1 || level > 3 || size == 0)
            continue;
        reported[level - 1] = size;
        snprintf(path, sizeof path, "%s/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", root, index);
        if (read_line(path, text, sizeof text) && count_cpu_list(text) > 0)
            shared_by[level - 1] = count_cpu_list(text);
    }
#ifdef _SC_LEVEL1_DCACHE_SIZE
    if (use_sysconf) {
        const int names[3] = {_SC_LEVEL1_DCACHE_SIZE, _SC_LEVEL2_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE};
        for (int k = 0; k < 3; k++) {
            long size = reported[k] ? 0 : sysconf(names[k]);
            if (size > 0)
                reported[k] = (size_t)size;
        }
    }
#else
    (void)use_sysconf;
#endif
}

/* Instances of a level that a team of `threads` covers (one thread a CPU). */
static size_t team_instances(int threads, int shared_by)
{
    int share = shared_by > 0 ? shared_by : 1;
    int instances = threads / share;

    return instances > 0 ? (size_t)instances : 1;
}

/* ------------------------------------------------------------ the levels */

static size_t clamp_size(size_t value, size_t lo, size_t hi)
{
    return value < lo ? lo : value > hi ? hi : value;
}

void pel__machine_levels(const pel__sweep_point *points, int count, int threads, const size_t reported[3],
                         const int shared_by[3], size_t bytes[3], pel_machine_source source[3], double gbps[3])
{
    size_t previous_total = 0;
    int start = 0;

    for (int k = 0; k < 3; k++) {
        size_t instances = team_instances(threads, shared_by[k]);
        size_t claim_total = reported[k] * instances;
        int first = start, drop = -1;
        double reference, threshold;

        bytes[k] = reported[k] ? reported[k] : default_bytes[k];
        source[k] = reported[k] ? PEL_MACHINE_REPORTED : PEL_MACHINE_DEFAULT;
        gbps[k] = 0;
        /* The level starts clearly beyond the previous one. */
        while (first < count && points[first].bytes <= 2 * previous_total)
            first++;
        if (first < count) {
            /* The better of the level's first two points: one slow sample
             * must not hide the drop. */
            reference = points[first].gbps;
            if (first + 1 < count && points[first + 1].gbps > reference)
                reference = points[first + 1].gbps;
            gbps[k] = reference;
            /* The last level ends half way down to memory's bandwidth (the
             * sweep's last point): on the VM of docs/tuning.md its L3 reads
             * at only 1.5-1.9 times memory, too little for a fixed
             * fraction. When it reads at less than 1.25 times memory (a
             * loaded machine: 36-38 against 31 GB/s), it ends where the
             * rate comes within 10% of memory's. */
            threshold = drop_fraction * reference;
            if (k == 2) {
                double memory = points[count - 1].gbps;
                threshold = reference > 1.25 * memory ? 0.5 * (reference + memory) : 1.1 * memory;
            }
            for (int i = first + (k == 2 ? 0 : 1); i < count && drop < 0; i++)
                if (points[i].gbps < threshold && (i + 1 == count || points[i + 1].gbps < threshold))
                    drop = i;
            /* A drop at a working set of half the claim or more agrees with
             * the claim (a cache full to its last line already misses); one
             * well before it means the level is smaller than reported. A
             * last level that reads no faster than memory from its start (a
             * busy neighbour owns it, or it is not there) adds nothing. */
            if (drop >= first && (claim_total == 0 || points[drop].bytes < claim_total / 2)) {
                bytes[k] = (drop > first ? points[drop - 1].bytes : previous_total) / instances;
                source[k] = PEL_MACHINE_MEASURED;
            }
            start = first;
        }
        bytes[k] = clamp_size(bytes[k], min_bytes[k], max_bytes[k]);
        if (k > 0 && bytes[k] < bytes[k - 1])
            bytes[k] = bytes[k - 1];
        previous_total = bytes[k] * instances;
    }
}

/* ------------------------------------------------------------ kernels */

/* Sums of x[0..n) (n a multiple of 32) with independent accumulators: a
 * read-bandwidth probe. One version per vector width, chosen at run time. */
__attribute__((target("avx512f"))) static double sum_avx512(const double *x, size_t n)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n; i += 32) {
        a0 = _mm512_add_pd(a0, _mm512_load_pd(x + i));
        a1 = _mm512_add_pd(a1, _mm512_load_pd(x + i + 8));
        a2 = _mm512_add_pd(a2, _mm512_load_pd(x + i + 16));
        a3 = _mm512_add_pd(a3, _mm512_load_pd(x + i + 24));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
}

__attribute__((target("avx2"))) static double sum_avx2(const double *x, size_t n)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    double lanes[4];
    for (size_t i = 0; i < n; i += 16) {
        a0 = _mm256_add_pd(a0, _mm256_load_pd(x + i));
        a1 = _mm256_add_pd(a1, _mm256_load_pd(x + i + 4));
        a2 = _mm256_add_pd(a2, _mm256_load_pd(x + i + 8));
        a3 = _mm256_add_pd(a3, _mm256_load_pd(x + i + 12));
    }
    _mm256_storeu_pd(lanes, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

static double sum_plain(const double *x, size_t n)
{
    double a[8] = {0};
    for (size_t i = 0; i < n; i += 8)
        for (int j = 0; j < 8; j++)
            a[j] += x[i + j];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* The 12 chains must live in 12 registers: at gcc's -O2 the inner loop
 * over the array stayed a loop through memory, whose store-to-load
 * latency, not the FMA units, set the rate (the Xeon family 6 model 207:
 * 58 GFLOP/s on 2 threads instead of 160-170; the same loop unrolled ran
 * 80-84 GFLOP/s a thread). Unrolled fully, the array becomes registers. */
#define PEL_FMA_CHAINS_UNROLLED _Pragma("GCC unroll 12")

/* `iterations` rounds of 12 independent FMA chains; returns a value that
 * depends on all of them and stores the flop count in *flops. */
__attribute__((target("avx512f"))) static double fma_avx512(long iterations, double *flops)
{
    __m512d m = _mm512_set1_pd(0.999999), c = _mm512_set1_pd(1e-7);
    __m512d a[12];
    for (int j = 0; j < 12; j++)
        a[j] = _mm512_set1_pd(1.0 + j);
    for (long it = 0; it < iterations; it++)
        PEL_FMA_CHAINS_UNROLLED
        for (int j = 0; j < 12; j++)
            a[j] = _mm512_fmadd_pd(a[j], m, c);
    for (int j = 1; j < 12; j++)
        a[0] = _mm512_add_pd(a[0], a[j]);
    *flops = (double)iterations * 12 * 8 * 2;
    return _mm512_reduce_add_pd(a[0]);
}

__attribute__((target("avx2,fma"))) static double fma_avx2(long iterations, double *flops)
{
    __m256d m = _mm256_set1_pd(0.999999), c = _mm256_set1_pd(1e-7);
    __m256d a[12];
    double lanes[4];
    for (int j = 0; j < 12; j++)
        a[j] = _mm256_set1_pd(1.0 + j);
    for (long it = 0; it < iterations; it++)
        PEL_FMA_CHAINS_UNROLLED
        for (int j = 0; j < 12; j++)
            a[j] = _mm256_fmadd_pd(a[j], m, c);
    for (int j = 1; j < 12; j++)
        a[0] = _mm256_add_pd(a[0], a[j]);
    *flops = (double)iterations * 12 * 4 * 2;
    _mm256_storeu_pd(lanes, a[0]);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

static double fma_plain(long iterations, double *flops)
{
    double a[12];
    for (int j = 0; j < 12; j++)
        a[j] = 1.0 + j;
    for (long it = 0; it < iterations; it++)
        PEL_FMA_CHAINS_UNROLLED
        for (int j = 0; j < 12; j++)
            a[j] = a[j] * 0.999999 + 1e-7;
    for (int j = 1; j < 12; j++)
        a[0] += a[j];
    *flops = (double)iterations * 12 * 2;
    return a[0];
}

typedef double (*sum_fn)(const double *, size_t);
typedef double (*fma_fn)(long, double *);

static void choose_kernels(sum_fn *sum, fma_fn *fma)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        *sum = sum_avx512;
        *fma = fma_avx512;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *sum = sum_avx2;
        *fma = fma_avx2;
    } else {
        *sum = sum_plain;
        *fma = fma_plain;
    }
}

/* ------------------------------------------------------------ the sweep */

typedef struct sweep {
    double *buffer;
    size_t max_per_thread; /* doubles a thread owns */
    int threads;
    sum_fn sum;
    fma_fn fma;
    pel__sweep_point points[MAX_POINTS];
    int count;
    int reps, done;
    size_t l2_total; /* the team's reported (or default) L2s, bytes */
    double fma_gflops;
    double sink;
} sweep;

/* Whether the sweep has reached memory: its last two points, 32 MiB or
 * more, read at the same rate (within 10%) and well below (3/4 of) the best
 * rate seen beyond the L2s. Stopping there saves the page faults and reads
 * of the largest working sets (about half of the measurement's time). */
static int reached_memory(const sweep *s)
{
    const pel__sweep_point *last = &s->points[s->count - 1], *before = last - 1;
    double peak = 0;

    if (s->count < 3 || last->bytes < ((size_t)32 << 20))
        return 0;
    for (int i = 0; i < s->count; i++)
        if (s->points[i].bytes > 2 * s->l2_total && s->points[i].gbps > peak)
            peak = s->points[i].gbps;
    return last->gbps < 0.75 * peak && before->gbps < 0.75 * peak && last->gbps <= 1.1 * before->gbps &&
           before->gbps <= 1.1 * last->gbps;
}

/* Every rate is the best of a few short repeats: on a shared machine other
 * work only ever adds time (a descheduled thread, a neighbour's cache
 * misses), so the shortest run is the best estimate of the hardware; the
 * sane limits catch a broken clock.
 *
 * CPU time of the calling thread, seconds: time the thread spent running,
 * so that a thread descheduled by other work on a shared machine does not
 * read as a slow cache (wall-clock timing of a team there measured 0.8 GB/s
 * for the L1 at a load of 8 on 2 CPUs). */
static double thread_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* The body every thread of the team runs: first touch of its part, the
 * sweep from small to large working sets, then the FMA rate. The threads
 * step through the working sets together (barriers), so that a shared level
 * is measured with the whole team in it; each thread times its own runs in
 * CPU time and the team's rate is the sum of the threads' best rates. */
static void sweep_body(sweep *s, int me)
{
    double *mine = s->buffer + (size_t)me * s->max_per_thread;
    double local = 0, best, flops = 0;
    const double start = omp_get_wtime();

    size_t touched = 0;

    for (size_t per_thread = 1024; per_thread <= s->max_per_thread && !s->done; per_thread *= 2) {
        size_t bytes = per_thread * sizeof(double), total = bytes * (size_t)s->threads;
        size_t passes = ((size_t)2 << 20) / total;
        /* First touch of the part this working set adds, by its thread, so
         * that a sweep that stops early never pays for the rest. */
        for (size_t i = touched; i < per_thread; i++)
            mine[i] = 1.0 + (double)(i & 7) * 0.125;
        touched = per_thread;
        int reps;
        /* Thread 0 decides the repeats for all (the barriers must match):
         * one only, if a loaded machine makes the sweep run long. */
        if (me == 0) {
            s->reps = omp_get_wtime() - start > 0.4   ? 1
                      : total <= ((size_t)8 << 20)  ? MAX_REPS
                      : total <= ((size_t)32 << 20) ? 3
                                                    : 2;
            s->points[s->count].bytes = total;
            s->points[s->count].gbps = 0;
        }
#pragma omp barrier
        reps = s->reps;
        if (passes < 1)
            passes = 1;
        /* Warm this working set into the caches; beyond 16 MiB it streams
         * anyway and a warm-up pass would only cost time. */
        if (total <= ((size_t)16 << 20))
            local += s->sum(mine, per_thread);
        best = 0;
        for (int r = 0; r < reps; r++) {
            double t0, t;
#pragma omp barrier
            t0 = thread_seconds();
            for (size_t p = 0; p < passes; p++)
                local += s->sum(mine, per_thread);
            t = thread_seconds() - t0;
            if (r == 0 || t < best)
                best = t;
        }
        if (best > 0) {
            double rate = (double)(bytes * passes) / best * 1e-9;
#pragma omp atomic
            s->points[s->count].gbps += rate;
        }
#pragma omp barrier
        if (me == 0) {
            s->count++;
            s->done = s->count >= MAX_POINTS || reached_memory(s);
        }
#pragma omp barrier
    }
    best = 0;
    for (int r = 0; r < MAX_REPS; r++) {
        double t0, t;
#pragma omp barrier
        t0 = thread_seconds();
        local += s->fma(40000, &flops);
        t = thread_seconds() - t0;
        if (r == 0 || t < best)
            best = t;
    }
    if (best > 0) {
        double rate = flops / best * 1e-9;
#pragma omp atomic
        s->fma_gflops += rate;
    }
#pragma omp atomic
    s->sink += local;
}

/* The fork/join cost of a region of `threads` threads: the shortest of a
 * few (as for the sweep, other work only adds time). */
static double region_cost_us(int threads)
{
    enum { regions = 32 };
    volatile int touched = 0;
    double best = 0;

    if (threads < 2)
        return 0;
    for (int i = 0; i < regions; i++) {
        double t0 = omp_get_wtime(), t;
#pragma omp parallel num_threads(threads)
        {
            if (omp_get_thread_num() == 0)
                touched = touched + 1;
        }
        t = omp_get_wtime() - t0;
        if (i == 0 || t < best)
            best = t;
    }
    return best * 1e6;
}

static double clamp_rate(double value, double lo, double hi, double fallback, pel_machine_source *source)
{
    if (!(value >= lo && value <= hi)) {
        *source = PEL_MACHINE_DEFAULT;
        return fallback;
    }
    *source = PEL_MACHINE_MEASURED;
    return value;
}

static void measure(pel_machine *m)
{
    const char *root = sysfs_root_override[0] ? sysfs_root_override : getenv("PEL_SYSFS_ROOT");
    int use_sysconf = root == NULL || root[0] == '\0';
    size_t reported[3] = {0, 0, 0}, bytes[3], claim_l3, sweep_total, l2_total;
    int shared_by[3] = {1, 1, 0};
    pel_machine_source source[3];
    double gbps[3], t0 = omp_get_wtime();
    sweep s;
    void *buffer = NULL;

    memset(m, 0, sizeof *m);
    memset(&s, 0, sizeof s);
    read_reported(use_sysconf ? "/sys" : root, use_sysconf, reported, shared_by);
    if (shared_by[2] <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        shared_by[2] = cpus > 0 ? (int)cpus : 1;
    }
    PEL__TEAM_SCOPE(team);
    s.threads = pel__team_take(&team, pel_get_num_threads());
    choose_kernels(&s.sum, &s.fma);

    /* Sweep to four times the reported last level (at least 64 MiB, at most
     * 256 MiB, and eight times the L2s), so that memory is reached. */
    claim_l3 = reported[2] * team_instances(s.threads, shared_by[2]);
    l2_total = (reported[1] ? reported[1] : default_bytes[1]) * team_instances(s.threads, shared_by[1]);
    sweep_total = claim_l3 ? 4 * claim_l3 : (size_t)128 << 20;
    if (sweep_total < 8 * l2_total)
        sweep_total = 8 * l2_total;
    sweep_total = clamp_size(sweep_total, (size_t)64 << 20, (size_t)256 << 20);
    s.l2_total = l2_total;
    s.max_per_thread = 1024;
    while (s.max_per_thread * 2 * sizeof(double) * (size_t)s.threads <= sweep_total)
        s.max_per_thread *= 2;
    if (posix_memalign(&buffer, (size_t)2 << 20, s.max_per_thread * sizeof(double) * (size_t)s.threads) != 0)
        buffer = NULL;
    s.buffer = buffer;
    if (s.buffer != NULL) {
#ifdef MADV_HUGEPAGE
        madvise(s.buffer, s.max_per_thread * sizeof(double) * (size_t)s.threads, MADV_HUGEPAGE);
#endif
        if (s.threads > 1) {
#pragma omp parallel num_threads(s.threads)
            {
                /* OpenMP may give fewer threads than asked: the others'
                 * parts are then never read and the rates count only the
                 * threads that ran. */
#pragma omp single
                s.threads = omp_get_num_threads();
                sweep_body(&s, omp_get_thread_num());
            }
        } else {
            sweep_body(&s, 0);
        }
        free(buffer);
    }

    pel__machine_levels(s.points, s.count, s.threads, reported, shared_by, bytes, source, gbps);
    m->threads = s.threads;
    for (int k = 0; k < 3; k++) {
        m->cache[k].bytes = bytes[k];
        m->cache[k].reported_bytes = reported[k];
        m->cache[k].shared_by = shared_by[k] > 0 ? shared_by[k] : 1;
        m->cache[k].gbps = gbps[k] >= min_gbps && gbps[k] <= max_gbps ? gbps[k] : 0;
        m->cache[k].source = source[k];
    }
    /* Memory: the last point, when it lies well beyond the last level. */
    m->memory_gbps = default_memory_gbps;
    m->memory_source = PEL_MACHINE_DEFAULT;
    if (s.count > 0 && s.points[s.count - 1].bytes >= 2 * bytes[2] * team_instances(s.threads, shared_by[2]))
        m->memory_gbps = clamp_rate(s.points[s.count - 1].gbps, min_gbps, max_gbps, default_memory_gbps,
                                    &m->memory_source);
    m->fma_gflops = default_fma_gflops;
    m->fma_source = PEL_MACHINE_DEFAULT;
    if (s.buffer != NULL)
        m->fma_gflops = clamp_rate(s.fma_gflops, min_gflops, max_gflops, default_fma_gflops, &m->fma_source);
    m->parallel_region_us = region_cost_us(s.threads);
    m->sweep_bytes = s.count > 0 ? s.points[s.count - 1].bytes : 0;
    m->sweep_points = s.count;
    for (int i = 0; i < s.count; i++) {
        m->sweep_point_bytes[i] = s.points[i].bytes;
        m->sweep_point_gbps[i] = s.points[i].gbps;
    }
    m->measure_seconds = omp_get_wtime() - t0;
}

/* Publishes m as the model (model_lock held). */
static void publish(const pel_machine *m)
{
    pel_machine *slot = &snapshots[next_snapshot++ % SNAPSHOTS];

    *slot = *m;
    atomic_store_explicit(&current_model, slot, memory_order_release);
}

const pel_machine *pel__machine(void)
{
    const pel_machine *m = atomic_load_explicit(&current_model, memory_order_acquire);
    pel_machine fresh;

    if (m != NULL)
        return m;
    pthread_mutex_lock(&model_lock);
    m = atomic_load_explicit(&current_model, memory_order_relaxed);
    if (m == NULL) {
        /* A wisdom file from this machine spares the measurement. */
        if (!pel__wisdom_load_environment_model(&fresh))
            measure(&fresh);
        publish(&fresh);
        m = atomic_load_explicit(&current_model, memory_order_relaxed);
    }
    pthread_mutex_unlock(&model_lock);
    return m;
}

void pel__machine_install(const pel_machine *m)
{
    pthread_mutex_lock(&model_lock);
    publish(m);
    pthread_mutex_unlock(&model_lock);
}

void pel__machine_set_sysfs_root(const char *root)
{
    pthread_mutex_lock(&model_lock);
    snprintf(sysfs_root_override, sizeof sysfs_root_override, "%s", root ? root : "");
    pthread_mutex_unlock(&model_lock);
}

void pel__machine_remeasure(void)
{
    pel_machine fresh;

    pthread_mutex_lock(&model_lock);
    measure(&fresh);
    publish(&fresh);
    pthread_mutex_unlock(&model_lock);
}

pel_status pel_machine_info(pel_machine *out)
{
    PEL_CHECK_NOT_NULL(out);
    *out = *pel__machine();
    return PEL_OK;
}

const char *pel_machine_source_name(pel_machine_source source)
{
    switch (source) {
    case PEL_MACHINE_DEFAULT:
        return "default";
    case PEL_MACHINE_REPORTED:
        return "reported";
    case PEL_MACHINE_MEASURED:
        return "measured";
    }
    return "unknown";
}
