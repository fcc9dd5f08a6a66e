/* The one-shot calls and their bounded LRU plan cache.
 *
 * The cache is a list ordered from most to least recently used: a loop that
 * repeats one transform finds its plan first, and the default capacity (32)
 * keeps a miss at a few dozen hash comparisons. One mutex guards the list
 * and the counters, held only for the lookup; planning runs outside it (a
 * MEASURE plan may take seconds and must not block hits on other plans),
 * and plans are executed outside it with a reference held, so eviction and
 * clearing never free a plan that a call is still running. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "fft/plan.h"

enum { DEFAULT_CAPACITY = 32 };

typedef struct cache_entry {
    struct cache_entry *previous, *next;
    uint64_t hash;
    pel_fft_plan *plan; /* the cache holds one reference */
} cache_entry;

static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static cache_entry *most_recent, *least_recent;
static size_t entries, capacity = DEFAULT_CAPACITY;
static size_t hits, misses, evictions;

static atomic_int default_effort = PEL_FFT_AUTO;
static _Atomic double default_time_limit = 0.0;

static void cache_prepare(void)
{
    pthread_mutex_lock(&cache_mutex);
}

static void cache_after_fork(void)
{
    pthread_mutex_unlock(&cache_mutex);
}

static void cache_init_once(void)
{
    pthread_atfork(cache_prepare, cache_after_fork, cache_after_fork);
}

static void cache_lock(void)
{
    pthread_once(&cache_once, cache_init_once);
    pthread_mutex_lock(&cache_mutex);
}

static void unlink_entry(cache_entry *e)
{
    if (e->previous != NULL)
        e->previous->next = e->next;
    else
        most_recent = e->next;
    if (e->next != NULL)
        e->next->previous = e->previous;
    else
        least_recent = e->previous;
    e->previous = e->next = NULL;
    entries--;
}

static void push_front(cache_entry *e)
{
    e->previous = NULL;
    e->next = most_recent;
    if (most_recent != NULL)
        most_recent->previous = e;
    most_recent = e;
    if (least_recent == NULL)
        least_recent = e;
    entries++;
}

/* Finds key and takes a reference to its plan; lock held. */
static pel_fft_plan *lookup(const pel__fft_key *key, uint64_t hash)
{
    for (cache_entry *e = most_recent; e != NULL; e = e->next) {
        if (e->hash == hash && memcmp(&e->plan->key, key, sizeof *key) == 0) {
            if (e != most_recent) {
                unlink_entry(e);
                push_front(e);
            }
            atomic_fetch_add_explicit(&e->plan->references, 1, memory_order_relaxed);
            return e->plan;
        }
    }
    return NULL;
}

/* Unlinks entries beyond the capacity into *dropped (lock held); the caller
 * releases them after unlocking, because releasing a plan takes the planner
 * lock and the two locks are never held together. */
static void trim(size_t limit, cache_entry **dropped, int count_evictions)
{
    while (entries > limit) {
        cache_entry *e = least_recent;
        unlink_entry(e);
        e->next = *dropped;
        *dropped = e;
        if (count_evictions)
            evictions++;
    }
}

static void release_dropped(cache_entry *dropped)
{
    while (dropped != NULL) {
        cache_entry *next = dropped->next;
        pel__fft_plan_release(dropped->plan);
        free(dropped);
        dropped = next;
    }
}

pel_status pel__fft_cache_acquire(const pel__fft_key *key, int variant, const char *function, pel_fft_plan **result)
{
    uint64_t hash = pel__fft_key_hash(key);
    pel_fft_plan *plan, *existing;
    cache_entry *entry, *dropped = NULL;
    pel_status status;
    int cached = 0;

    cache_lock();
    plan = lookup(key, hash);
    if (plan != NULL)
        hits++;
    else
        misses++;
    pthread_mutex_unlock(&cache_mutex);
    if (plan != NULL) {
        *result = plan;
        return PEL_OK;
    }

    status = pel__fft_plan_new(key, variant, function, &plan);
    if (status != PEL_OK)
        return status;
    entry = malloc(sizeof *entry);
    cache_lock();
    /* Another thread may have planned the same key meanwhile: use its plan
     * so the cache never holds two entries for one key. */
    existing = lookup(key, hash);
    if (existing == NULL && entry != NULL && capacity > 0) {
        entry->hash = hash;
        entry->plan = plan;
        atomic_fetch_add_explicit(&plan->references, 1, memory_order_relaxed); /* the cache's */
        push_front(entry);
        entry = NULL;
        trim(capacity, &dropped, 1);
        cached = 1;
    }
    pthread_mutex_unlock(&cache_mutex);
    free(entry);
    release_dropped(dropped);
    if (existing != NULL) {
        pel__fft_plan_release(plan);
        plan = existing;
    } else if (!cached) {
        /* Only a cached plan can be upgraded: the MEASURE twin replaces it
         * in the cache. */
        atomic_store_explicit(&plan->upgrade, PEL__FFT_UPGRADE_NONE, memory_order_relaxed);
    }
    *result = plan;
    return PEL_OK;
}

int pel__fft_cache_publish(pel_fft_plan *old, pel_fft_plan *fresh)
{
    uint64_t hash = pel__fft_key_hash(&old->key);
    int published = 0;

    cache_lock();
    for (cache_entry *e = most_recent; e != NULL; e = e->next) {
        if (e->hash == hash && e->plan == old) {
            /* Calls that found old hold their own references: it is freed
             * when the last of them releases it, never under them. */
            e->plan = fresh;
            published = 1;
            break;
        }
    }
    pthread_mutex_unlock(&cache_mutex);
    if (published)
        pel__fft_plan_release(old); /* the cache's reference; outside the cache lock */
    return published;
}

pel_status pel__fft_oneshot_key(pel__fft_key *key, pel_fft_kind kind, pel_precision precision, int rank,
                                const size_t *dims, size_t howmany, pel_fft_direction direction,
                                pel_fft_norm norm, int in_place, int nthreads, size_t *in_bytes,
                                size_t *out_bytes, const char *function)
{
    return pel__fft_key_init(key, function, kind, precision, rank, dims, howmany, direction, in_place,
                             (pel_fft_effort)atomic_load_explicit(&default_effort, memory_order_relaxed),
                             atomic_load_explicit(&default_time_limit, memory_order_relaxed), nthreads, norm,
                             in_bytes, out_bytes);
}

pel_status pel__fft_oneshot(pel_fft_kind kind, pel_precision precision, int rank, const size_t *dims,
                            size_t howmany, pel_fft_direction direction, pel_fft_norm norm, const void *in,
                            void *out, const char *function)
{
    pel__fft_key key;
    pel_fft_plan *plan;
    pel_status status;
    size_t in_bytes, out_bytes;
    int variant;

    status = pel__fft_oneshot_key(&key, kind, precision, rank, dims, howmany, direction, norm, in == out, 0,
                                  &in_bytes, &out_bytes, function);
    if (status != PEL_OK)
        return status;
    /* Arrays are checked before planning so that a bad call neither plans
     * nor counts in the cache statistics. A miss plans only the variant this
     * call needs: a misaligned array should not cost an aligned plan too. */
    status = pel__fft_check_arrays(&key, in_bytes, out_bytes, in, out, function);
    if (status != PEL_OK)
        return status;
    variant = pel__fft_variant(&key, in, out);
    status = pel__fft_cache_acquire(&key, variant, function, &plan);
    if (status != PEL_OK)
        return status;
    status = pel__fft_plan_run_variant(plan, variant, in, out, function);
    pel__fft_oneshot_done(plan);
    return status;
}

void pel__fft_oneshot_done(pel_fft_plan *plan)
{
    /* Asked after the call's own transform, so that the planner does not
     * take the thread budget (or the planner lock) from under the call
     * that made the plan; a request refused earlier (full queue) is asked
     * for again on a later call. */
    if (atomic_load_explicit(&plan->upgrade, memory_order_relaxed) == PEL__FFT_UPGRADE_WANTED)
        pel__fft_upgrade_request(plan);
    pel__fft_plan_release(plan);
}

/* ------------------------------------------------------------ public */

pel_status pel_fft_c2c(int rank, const size_t *dims, size_t howmany, pel_fft_direction direction,
                       pel_fft_norm norm, const void *in, void *out)
{
    return pel__fft_oneshot(PEL_FFT_C2C, PEL_FLOAT64, rank, dims, howmany, direction, norm, in, out, __func__);
}

pel_status pel_fft_c2c_float(int rank, const size_t *dims, size_t howmany, pel_fft_direction direction,
                             pel_fft_norm norm, const void *in, void *out)
{
    return pel__fft_oneshot(PEL_FFT_C2C, PEL_FLOAT32, rank, dims, howmany, direction, norm, in, out, __func__);
}

pel_status pel_fft_r2c(int rank, const size_t *dims, size_t howmany, pel_fft_norm norm, const double *in, void *out)
{
    return pel__fft_oneshot(PEL_FFT_R2C, PEL_FLOAT64, rank, dims, howmany, PEL_FFT_FORWARD, norm, in, out,
                            __func__);
}

pel_status pel_fft_r2c_float(int rank, const size_t *dims, size_t howmany, pel_fft_norm norm, const float *in,
                             void *out)
{
    return pel__fft_oneshot(PEL_FFT_R2C, PEL_FLOAT32, rank, dims, howmany, PEL_FFT_FORWARD, norm, in, out,
                            __func__);
}

pel_status pel_fft_c2r(int rank, const size_t *dims, size_t howmany, pel_fft_norm norm, const void *in, double *out)
{
    return pel__fft_oneshot(PEL_FFT_C2R, PEL_FLOAT64, rank, dims, howmany, PEL_FFT_BACKWARD, norm, in, out,
                            __func__);
}

pel_status pel_fft_c2r_float(int rank, const size_t *dims, size_t howmany, pel_fft_norm norm, const void *in,
                             float *out)
{
    return pel__fft_oneshot(PEL_FFT_C2R, PEL_FLOAT32, rank, dims, howmany, PEL_FFT_BACKWARD, norm, in, out,
                            __func__);
}

pel_status pel_fft_set_default_effort(pel_fft_effort effort, double time_limit)
{
    if ((int)effort < PEL_FFT_ESTIMATE || effort > PEL_FFT_AUTO)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                        "effort=%d is not a pel_fft_effort (PEL_FFT_ESTIMATE..PEL_FFT_AUTO)", (int)effort);
    if (!isfinite(time_limit) || time_limit < 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                        "time_limit=%g must be a finite number of seconds >= 0 (0: no limit)", time_limit);
    atomic_store(&default_effort, effort);
    atomic_store(&default_time_limit, time_limit);
    return PEL_OK;
}

pel_fft_effort pel_fft_get_default_effort(void)
{
    return (pel_fft_effort)atomic_load(&default_effort);
}

pel_status pel_fft_cache_get_stats(pel_fft_cache_stats *stats)
{
    PEL_CHECK_NOT_NULL(stats);
    cache_lock();
    stats->hits = hits;
    stats->misses = misses;
    stats->evictions = evictions;
    stats->entries = entries;
    stats->capacity = capacity;
    pthread_mutex_unlock(&cache_mutex);
    return PEL_OK;
}

void pel_fft_cache_reset_stats(void)
{
    cache_lock();
    hits = misses = evictions = 0;
    pthread_mutex_unlock(&cache_mutex);
}

void pel_fft_cache_clear(void)
{
    cache_entry *dropped = NULL;

    cache_lock();
    trim(0, &dropped, 0);
    pthread_mutex_unlock(&cache_mutex);
    release_dropped(dropped);
}

pel_status pel_fft_cache_set_capacity(size_t new_capacity)
{
    cache_entry *dropped = NULL;

    cache_lock();
    capacity = new_capacity;
    trim(capacity, &dropped, 1);
    pthread_mutex_unlock(&cache_mutex);
    release_dropped(dropped);
    return PEL_OK;
}
