/* Plan upgrades: the background planner that turns the one-shot calls'
 * PEL_FFT_AUTO plans (ESTIMATE, made at once on a cache miss) into MEASURE
 * plans off the callers' critical path, and swaps them into the cache.
 *
 * One planner thread, started on the first request, at background priority
 * (SCHED_BATCH; see lower_priority) unless PEL_FFT_UPGRADE=2. A bounded queue
 * (QUEUE_CAPACITY jobs) of cached plans to upgrade; a full queue refuses a
 * request and the plan asks again on a later cache hit. Each job holds a
 * reference to its cached plan, so pointers compared at publication are
 * never reused. The planner measures under the planner lock like every
 * other planning (FFTW's planner is not thread-safe), takes its FFTW team
 * from the thread budget (waiting until the whole team is free: a
 * measurement on a shared core times the other work, not the plan), and
 * publishes with pel__fft_cache_publish(): calls running on the old plan
 * keep their references, and the old plan is freed by the last of them.
 *
 * Locks: the queue mutex is never held together with the cache or planner
 * lock, so fork()'s handlers (which take all three) cannot deadlock. A
 * forked child has no planner (upgrades are off there) and never touches
 * the parent's queue; at exit (or unload) the planner stops and is joined,
 * and the queued jobs are released, so that nothing is left behind (a
 * measurement in progress gets a quarter of a second to finish, see
 * upgrade_unload). */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/env.h"
#include "core/error.h"
#include "core/threads.h"
#include "fft/plan.h"

enum { QUEUE_CAPACITY = 16 };

typedef struct upgrade_job {
    struct upgrade_job *next;
    pel_fft_plan *plan; /* the cached plan to upgrade; the job holds a reference */
} upgrade_job;

static pthread_mutex_t queue_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_wake = PTHREAD_COND_INITIALIZER; /* the planner: a job, or stop */
static pthread_cond_t queue_idle = PTHREAD_COND_INITIALIZER; /* waiters: a job is done */
static upgrade_job *first, *last;
static size_t queued;   /* jobs in the list */
static int running;     /* 1 while the planner works on a job */
static int alive;       /* a joinable planner thread exists */
static pthread_t planner;
static atomic_int stopping;
static int paused; /* test hook: the planner takes no job (queue mutex) */
static atomic_size_t queued_hint; /* queued, read without the lock on cache hits */

/* Serialises mode changes and the shutdown (each may join the planner). */
static pthread_mutex_t mode_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_int mode = PEL_FFT_UPGRADE_IDLE;

static atomic_size_t requested, completed, discarded, failed, dropped;

/* ------------------------------------------------------------ the planner */

/* Marks the calling thread as background work: SCHED_BATCH, the fair
 * scheduler's class for CPU-bound jobs (never preempts a waking foreground
 * thread), with its fair share of the CPU; the FFTW team its measurements
 * start (libgomp's threads of this thread) inherits it. Not SCHED_IDLE or
 * nice 19, which pel used before: a measurement holds the planner lock, and
 * on a loaded machine a starved measurement made a caller that needed the
 * lock for a new shape wait minutes (a first dctn 256^3 call took 159 s at
 * load 9-17), a priority inversion that an unprivileged thread cannot undo
 * (it may not raise its priority again). What keeps the planner out of
 * pel's own way is take_team below: it measures only when callers have
 * stopped planning and the thread budget has room for its whole team. */
static void lower_priority(void)
{
    struct sched_param param = {0};

    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
}

/* A measurement holds the planner lock for its whole length (milliseconds
 * to seconds), and a caller that plans meanwhile waits for it: the planner
 * starts one only when callers have planned nothing for QUIET_SECONDS, so
 * that a program trying new shapes one after the other (a sweep, a test
 * suite, the first step of a simulation) is not made to wait after each. */
#define QUIET_SECONDS 0.1

/* Waits until callers have been quiet and the thread budget has room for
 * the whole team of `threads`, and takes it; 0 when the planner is stopping
 * meanwhile. */
static int take_team(pel__team *team, int threads)
{
    long pause_ns = 1000 * 1000;

    for (;;) {
        int budget = pel_get_thread_budget(), in_use = pel_get_thread_budget_in_use();
        int room = threads <= 1 || budget == 0 || in_use == 0 || in_use + threads <= budget;
        if (room && pel__fft_seconds_since_foreground_plan() >= QUIET_SECONDS) {
            if (pel__team_take(team, threads) >= threads)
                return 1;
            pel__team_release(team);
        }
        if (atomic_load(&stopping))
            return 0;
        {
            struct timespec pause = {0, pause_ns};
            nanosleep(&pause, NULL);
        }
        if (pause_ns < 20 * 1000 * 1000)
            pause_ns *= 2;
    }
}

/* Measures the variants the cached plan has made so far and publishes the
 * MEASURE plan in its place. */
static void run_job(upgrade_job *job)
{
    pel_fft_plan *old = job->plan, *fresh = NULL;
    unsigned variants = 0;
    int threads = 1;
    pel_status status;
    PEL__TEAM_SCOPE(team);

    for (int v = 0; v < PEL__FFT_VARIANTS; v++) {
        if (atomic_load_explicit(&old->variants[v], memory_order_acquire) != NULL) {
            variants |= 1u << v;
            if (!(v & PEL__FFT_SINGLE) && old->key.nthreads > threads)
                threads = old->key.nthreads;
        }
    }
    if (!take_team(&team, threads)) {
        /* Stopping before the measurement began: asked again later. */
        atomic_store(&old->upgrade, PEL__FFT_UPGRADE_WANTED);
        pel__fft_plan_release(old);
        return;
    }
    status = pel__fft_plan_new_measured(&old->key, variants, "pel_fft_upgrade", &fresh);
    pel__team_release(&team);
    /* Whatever happens, this plan is not upgraded again: a failed
     * measurement would fail again, and a published one replaced it. */
    atomic_store(&old->upgrade, PEL__FFT_UPGRADE_NONE);
    if (status != PEL_OK) {
        atomic_fetch_add(&failed, 1);
    } else if (pel__fft_cache_publish(old, fresh)) {
        atomic_fetch_add(&completed, 1);
    } else {
        atomic_fetch_add(&discarded, 1);
        pel__fft_plan_release(fresh);
    }
    pel__fft_plan_release(old);
}

/* argument: nonzero for background priority (PEL_FFT_UPGRADE_IDLE). */
static void *planner_main(void *argument)
{
    if (argument != NULL)
        lower_priority();
    pthread_mutex_lock(&queue_mutex);
    for (;;) {
        upgrade_job *job;
        while (!atomic_load(&stopping) && (first == NULL || paused))
            pthread_cond_wait(&queue_wake, &queue_mutex);
        if (atomic_load(&stopping))
            break;
        job = first;
        first = job->next;
        if (first == NULL)
            last = NULL;
        queued--;
        atomic_store(&queued_hint, queued);
        running = 1;
        pthread_mutex_unlock(&queue_mutex);
        run_job(job);
        free(job);
        pthread_mutex_lock(&queue_mutex);
        running = 0;
        pthread_cond_broadcast(&queue_idle);
    }
    pthread_mutex_unlock(&queue_mutex);
    return NULL;
}

/* Starts the planner if none runs; queue mutex held. 0 when it cannot. */
static int ensure_planner(void)
{
    pthread_attr_t attributes;
    int idle = atomic_load(&mode) == PEL_FFT_UPGRADE_IDLE, started;

    if (alive)
        return 1;
    if (atomic_load(&stopping) || pthread_attr_init(&attributes) != 0)
        return 0;
    /* The creating thread's scheduling is inherited; the planner lowers
     * its own priority first thing. */
    started = pthread_create(&planner, &attributes, planner_main, (void *)(uintptr_t)idle) == 0;
    pthread_attr_destroy(&attributes);
    alive = started;
    return started;
}

/* Stops the planner after its current job and joins it; mode_mutex held,
 * queue mutex not. Queued jobs stay queued. With a bound (seconds > 0), gives
 * up joining when a measurement takes longer and returns 0: the thread then
 * runs on, untouched, until the process ends. */
static int stop_planner(double bound_seconds)
{
    pthread_t thread;

    pthread_mutex_lock(&queue_mutex);
    if (!alive) {
        pthread_mutex_unlock(&queue_mutex);
        return 1;
    }
    thread = planner;
    atomic_store(&stopping, 1);
    pthread_cond_broadcast(&queue_wake);
    pthread_mutex_unlock(&queue_mutex);
    if (bound_seconds > 0) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += (long)(bound_seconds * 1e9);
        deadline.tv_sec += deadline.tv_nsec / 1000000000L;
        deadline.tv_nsec %= 1000000000L;
        if (pthread_timedjoin_np(thread, NULL, &deadline) != 0)
            return 0;
    } else {
        pthread_join(thread, NULL);
    }
    pthread_mutex_lock(&queue_mutex);
    alive = 0;
    running = 0;
    atomic_store(&stopping, 0);
    pthread_cond_broadcast(&queue_idle);
    pthread_mutex_unlock(&queue_mutex);
    return 1;
}

/* Empties the queue; its plans may ask again (`state`). mode_mutex held. */
static void drop_queue(int state)
{
    upgrade_job *list;

    pthread_mutex_lock(&queue_mutex);
    list = first;
    first = last = NULL;
    queued = 0;
    atomic_store(&queued_hint, 0);
    pthread_cond_broadcast(&queue_idle);
    pthread_mutex_unlock(&queue_mutex);
    while (list != NULL) {
        upgrade_job *next = list->next;
        atomic_store(&list->plan->upgrade, state);
        pel__fft_plan_release(list->plan); /* no pel lock held here */
        free(list);
        list = next;
    }
}

/* ------------------------------------------------------------ requests */

int pel__fft_upgrade_enabled(void)
{
    return atomic_load_explicit(&mode, memory_order_relaxed) != PEL_FFT_UPGRADE_OFF && !pel_in_forked_child();
}

void pel__fft_upgrade_request(pel_fft_plan *plan)
{
    int expected = PEL__FFT_UPGRADE_WANTED;
    upgrade_job *job;

    if (!pel__fft_upgrade_enabled())
        return;
    if (atomic_load_explicit(&queued_hint, memory_order_relaxed) >= QUEUE_CAPACITY) {
        atomic_fetch_add(&dropped, 1);
        return;
    }
    /* One request per plan: the thread that moves it to QUEUED queues it. */
    if (!atomic_compare_exchange_strong(&plan->upgrade, &expected, PEL__FFT_UPGRADE_QUEUED))
        return;
    job = malloc(sizeof *job);
    pthread_mutex_lock(&queue_mutex);
    if (job == NULL || queued >= QUEUE_CAPACITY || !pel__fft_upgrade_enabled() || !ensure_planner()) {
        pthread_mutex_unlock(&queue_mutex);
        free(job);
        atomic_store(&plan->upgrade, PEL__FFT_UPGRADE_WANTED);
        atomic_fetch_add(&dropped, 1);
        return;
    }
    atomic_fetch_add_explicit(&plan->references, 1, memory_order_relaxed); /* the job's */
    job->plan = plan;
    job->next = NULL;
    if (last != NULL)
        last->next = job;
    else
        first = job;
    last = job;
    queued++;
    atomic_store(&queued_hint, queued);
    atomic_fetch_add(&requested, 1);
    pthread_cond_signal(&queue_wake);
    pthread_mutex_unlock(&queue_mutex);
}

/* ------------------------------------------------------------ process life */

/* Only the queue mutex is taken around fork(): it is never held while
 * waiting for another lock, whereas a mode change holds mode_mutex while it
 * joins a planner that may need the planner and cache locks, which the
 * fork's other handlers hold by then. */
static void queue_prepare(void)
{
    pthread_mutex_lock(&queue_mutex);
}

static void queue_parent(void)
{
    pthread_mutex_unlock(&queue_mutex);
}

/* The child has no planner thread: forget the parent's (its queue stays
 * as it was, reachable and unused, since upgrades are off in a child), and
 * a mode change of another parent thread does not exist here. */
static void queue_child(void)
{
    alive = 0;
    running = 0;
    pthread_mutex_init(&mode_mutex, NULL);
    pthread_mutex_unlock(&queue_mutex);
}

static pel_status parse_upgrade(const char *text, void *out)
{
    return pel__env_parse_fft_upgrade(text, out);
}

void pel__fft_upgrade_test_pause(int pause)
{
    pthread_mutex_lock(&queue_mutex);
    paused = pause != 0;
    pthread_cond_broadcast(&queue_wake);
    pthread_mutex_unlock(&queue_mutex);
}

void pel__fft_upgrade_read_environment(void)
{
    int value = PEL_FFT_UPGRADE_IDLE;

    pel__env_read("PEL_FFT_UPGRADE", parse_upgrade, &value);
    (void)pel_fft_set_upgrade_mode((pel_fft_upgrade_mode)value);
}

__attribute__((constructor)) static void upgrade_load(void)
{
    int value = PEL_FFT_UPGRADE_IDLE;

    pel__env_read("PEL_FFT_UPGRADE", parse_upgrade, &value);
    atomic_store(&mode, value);
    pthread_atfork(queue_prepare, queue_parent, queue_child);
}

/* At exit or unload: the planner stops (a waiting one at once) and is
 * joined, and the queued plans are released. A measurement in progress gets
 * EXIT_JOIN_SECONDS to finish: a short program must not wait seconds (or,
 * on a busy machine, longer) at exit for a plan it will
 * never use. Past that, the thread is left to the end of the process, with
 * everything it may touch (its job, the queue, the cache) left allocated.
 * (An unload with the thread still running is not supported: Python and
 * most programs never unload libpel.) */
enum { EXIT_JOIN_MILLISECONDS = 250 };

__attribute__((destructor)) static void upgrade_unload(void)
{
    if (pel_in_forked_child())
        return;
    pthread_mutex_lock(&mode_mutex);
    atomic_store(&mode, PEL_FFT_UPGRADE_OFF);
    if (stop_planner(EXIT_JOIN_MILLISECONDS / 1000.0))
        drop_queue(PEL__FFT_UPGRADE_NONE);
    pthread_mutex_unlock(&mode_mutex);
}

/* ------------------------------------------------------------ public */

pel_status pel_fft_set_upgrade_mode(pel_fft_upgrade_mode new_mode)
{
    if ((int)new_mode < PEL_FFT_UPGRADE_OFF || new_mode > PEL_FFT_UPGRADE_NORMAL)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT,
                        "mode=%d is not PEL_FFT_UPGRADE_OFF (0), PEL_FFT_UPGRADE_IDLE (1) or PEL_FFT_UPGRADE_NORMAL (2)",
                        (int)new_mode);
    pthread_mutex_lock(&mode_mutex);
    if (atomic_load(&mode) != (int)new_mode) {
        /* Under the queue mutex: a request that sees the old mode has
         * queued its job before the queue is dropped below. */
        pthread_mutex_lock(&queue_mutex);
        atomic_store(&mode, new_mode);
        pthread_mutex_unlock(&queue_mutex);
        /* The planner's priority is set when it starts (an unprivileged
         * thread cannot raise it again): a new one starts for the new mode. */
        stop_planner(0);
        if (new_mode == PEL_FFT_UPGRADE_OFF) {
            drop_queue(PEL__FFT_UPGRADE_WANTED);
        } else if (!pel_in_forked_child()) {
            pthread_mutex_lock(&queue_mutex);
            if (first != NULL)
                (void)ensure_planner();
            pthread_mutex_unlock(&queue_mutex);
        }
    }
    pthread_mutex_unlock(&mode_mutex);
    return PEL_OK;
}

pel_fft_upgrade_mode pel_fft_get_upgrade_mode(void)
{
    return pel_in_forked_child() ? PEL_FFT_UPGRADE_OFF : (pel_fft_upgrade_mode)atomic_load(&mode);
}

pel_status pel_fft_upgrade_wait(double timeout_seconds, size_t *pending)
{
    struct timespec deadline;
    size_t left;

    if (!isfinite(timeout_seconds) || timeout_seconds < 0)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "timeout_seconds=%g must be a finite number of seconds >= 0",
                        timeout_seconds);
    if (pel_in_forked_child()) {
        if (pending != NULL)
            *pending = 0;
        return PEL_OK;
    }
    if (timeout_seconds > 1e9)
        timeout_seconds = 1e9;
    clock_gettime(CLOCK_REALTIME, &deadline);
    {
        double whole = floor(timeout_seconds);
        long nanoseconds = deadline.tv_nsec + (long)((timeout_seconds - whole) * 1e9);
        deadline.tv_sec += (time_t)whole + nanoseconds / 1000000000L;
        deadline.tv_nsec = nanoseconds % 1000000000L;
    }
    pthread_mutex_lock(&queue_mutex);
    while ((first != NULL || running) && alive)
        if (pthread_cond_timedwait(&queue_idle, &queue_mutex, &deadline) == ETIMEDOUT)
            break;
    left = queued + (size_t)running;
    pthread_mutex_unlock(&queue_mutex);
    if (pending != NULL)
        *pending = left;
    return PEL_OK;
}

pel_status pel_fft_upgrade_get_stats(pel_fft_upgrade_stats *stats)
{
    size_t left = 0;

    PEL_CHECK_NOT_NULL(stats);
    if (!pel_in_forked_child()) {
        pthread_mutex_lock(&queue_mutex);
        left = queued + (size_t)running;
        pthread_mutex_unlock(&queue_mutex);
    }
    stats->requested = atomic_load(&requested);
    stats->completed = atomic_load(&completed);
    stats->discarded = atomic_load(&discarded);
    stats->failed = atomic_load(&failed);
    stats->dropped = atomic_load(&dropped);
    stats->pending = left;
    return PEL_OK;
}
