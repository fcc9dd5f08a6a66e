/* Measured blocking (PEL_STENCIL_CACHE_MEASURE, PEL_TUNE=measure): the model
 * in blocking.c picks well when its cache figures are right, but its
 * constants were measured on one machine; timing a few candidates on the
 * first call for a problem, like FFTW's MEASURE, catches what the model
 * misses. The candidates differ only in the cache budget the model is given
 * (and one without temporal blocking), so each is a blocking the model
 * itself could choose, and all give the same bits (blocking never changes
 * results). The winner is kept per (stencil shape, form, dims, threads,
 * precision) for the life of the process. */
#include "stencil/engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stencil/measure.h"
#include "stencil/stencil_internal.h"

enum { MAX_CHOICES = PEL__STENCIL_MAX_CHOICES, MAX_CANDIDATES = 6 };

typedef pel__stencil_choice_key choice_key;
typedef pel__stencil_choice choice;

static choice choices[MAX_CHOICES];
static int nchoices;
static unsigned long measurements; /* choices measured (the tests' count) */
static unsigned long placed;       /* choices placed, measured or imported: the next place is placed % MAX */
static pthread_mutex_t choices_lock = PTHREAD_MUTEX_INITIALIZER;

static void make_key(const pel__stencil_engine *e, choice_key *key)
{
    memset(key, 0, sizeof *key); /* padding too: keys are compared with memcmp */
    for (int a = 0; a < 3; a++) {
        key->n[a] = e->n[a];
        key->r[a] = e->r[a];
    }
    key->ndim = e->stencil->ndim;
    key->nthreads = e->nthreads;
    key->npoint = e->form ? (int)e->form->npoint : -1;
    key->history = e->form && e->form->history ? 1 : 0;
    key->has_rhs = e->rhs != NULL;
    key->nterms = e->stencil->nterms;
    key->nrows = e->stencil->nrows;
    key->element_size = e->element_size;
}

static int find(const choice_key *key, choice *out)
{
    int found = 0;

    pthread_mutex_lock(&choices_lock);
    for (int i = 0; i < nchoices && !found; i++)
        if (memcmp(&choices[i].key, key, sizeof *key) == 0) {
            *out = choices[i];
            found = 1;
        }
    pthread_mutex_unlock(&choices_lock);
    return found;
}

/* Places c: over a kept choice with the same key, else at the next place
 * (full: the oldest choice is forgotten, measured again if it returns).
 * Call with the lock held. */
static void place(const choice *c)
{
    for (int i = 0; i < nchoices; i++)
        if (memcmp(&choices[i].key, &c->key, sizeof c->key) == 0) {
            choices[i] = *c;
            return;
        }
    choices[placed % MAX_CHOICES] = *c;
    if (nchoices < MAX_CHOICES)
        nchoices++;
    placed++;
}

static void remember(const choice *c)
{
    pthread_mutex_lock(&choices_lock);
    place(c);
    measurements++;
    pthread_mutex_unlock(&choices_lock);
}

int pel__stencil_choices_get(pel__stencil_choice *out)
{
    int count;

    pthread_mutex_lock(&choices_lock);
    count = nchoices;
    memcpy(out, choices, (size_t)count * sizeof *out);
    pthread_mutex_unlock(&choices_lock);
    return count;
}

int pel__stencil_choice_valid(const pel__stencil_choice *c)
{
    const choice_key *k = &c->key;
    choice_key zeroed;
    size_t points = 1;

    if (k->ndim < 1 || k->ndim > 3 || k->nthreads < 1 || k->nthreads > PEL_MAX_THREADS || k->npoint < -1 ||
        k->npoint > 64 || (k->history != 0 && k->history != 1) || (k->has_rhs != 0 && k->has_rhs != 1) ||
        (k->element_size != sizeof(double) && k->element_size != sizeof(float)) || k->nterms < 1 ||
        k->nterms > 4913 || k->nrows < 1 || k->nrows > k->nterms || c->time_block > 64 ||
        c->cache_bytes == PEL_STENCIL_CACHE_MEASURE || c->cache_bytes > ((size_t)1 << 48))
        return 0;
    for (int a = 0; a < 3; a++) {
        if (k->n[a] < 1 || k->n[a] > ((long)1 << 40) || k->r[a] < 0 || k->r[a] > PEL_STENCIL_MAX_RADIUS)
            return 0;
        points = (size_t)k->n[a] > ((size_t)1 << 52) / points ? 0 : points * (size_t)k->n[a];
        if (points == 0)
            return 0;
    }
    /* The key is compared with memcmp: its padding must be zero too, as
     * make_key leaves it. */
    memset(&zeroed, 0, sizeof zeroed);
    memcpy(zeroed.n, k->n, sizeof k->n);
    memcpy(zeroed.r, k->r, sizeof k->r);
    zeroed.ndim = k->ndim;
    zeroed.nthreads = k->nthreads;
    zeroed.npoint = k->npoint;
    zeroed.history = k->history;
    zeroed.has_rhs = k->has_rhs;
    zeroed.nterms = k->nterms;
    zeroed.nrows = k->nrows;
    zeroed.element_size = k->element_size;
    return memcmp(&zeroed, k, sizeof zeroed) == 0;
}

void pel__stencil_choices_put(const pel__stencil_choice *list, int count)
{
    pthread_mutex_lock(&choices_lock);
    for (int i = 0; i < count; i++)
        place(&list[i]);
    pthread_mutex_unlock(&choices_lock);
}

void pel__stencil_choices_clear(void)
{
    pthread_mutex_lock(&choices_lock);
    nchoices = 0;
    placed = 0;
    pthread_mutex_unlock(&choices_lock);
}

unsigned long pel__stencil_measure_count(void)
{
    unsigned long count;

    pthread_mutex_lock(&choices_lock);
    count = measurements;
    pthread_mutex_unlock(&choices_lock);
    return count;
}

int pel__stencil_measure_requested(const pel_stencil_blocking *blocking)
{
    const char *tune;

    if (blocking != NULL && blocking->cache_bytes == PEL_STENCIL_CACHE_MEASURE)
        return 1;
    if (blocking != NULL && blocking->cache_bytes != 0)
        return 0;
    tune = getenv("PEL_TUNE");
    return tune != NULL && strcmp(tune, "measure") == 0;
}

void pel__stencil_choose_measured(pel__stencil_engine *e, size_t nsteps, const pel_stencil_blocking *blocking,
                                  const char *grid, size_t bytes)
{
    pel_stencil_blocking base, candidates[MAX_CANDIDATES];
    const size_t l2 = pel__stencil_cache_size(2);
    choice best;
    double best_time = 0, times[MAX_CANDIDATES] = {0};
    char *a, *b;
    int ncandidates = 0;

    memset(&base, 0, sizeof base);
    if (blocking != NULL)
        base = *blocking;
    if (base.cache_bytes == PEL_STENCIL_CACHE_MEASURE)
        base.cache_bytes = 0;
    /* Only a fully automatic choice is measured: tiles or a time block the
     * caller gave are the caller's. */
    if (!pel__stencil_measure_requested(blocking) || e->tile[0] > 0 || e->tile[1] > 0 || e->tile[2] > 0 ||
        e->time_block > 0 || nsteps < 2) {
        pel__stencil_choose_blocking(e, nsteps, &base);
        return;
    }
    make_key(e, &best.key);
    /* A choice's time block goes to the engine, where the blocking reads
     * an override (it reads only the budget from the blocking argument). */
    if (find(&best.key, &best)) {
        base.cache_bytes = best.cache_bytes;
        e->time_block = best.time_block;
        pel__stencil_choose_blocking(e, nsteps, &base);
        return;
    }
    a = pel_malloc(bytes);
    b = pel_malloc(bytes);
    if (a == NULL || b == NULL) {
        pel_free(a);
        pel_free(b);
        pel__stencil_choose_blocking(e, nsteps, &base);
        return;
    }

    /* The model's own choice first, then budgets of half the L2, the L2,
     * four and sixteen L2s, and one step at a time. */
    for (int i = 0; i < MAX_CANDIDATES; i++)
        candidates[i] = base;
    candidates[ncandidates++].cache_bytes = 0;
    candidates[ncandidates++].cache_bytes = l2 / 2;
    candidates[ncandidates++].cache_bytes = l2;
    candidates[ncandidates++].cache_bytes = 4 * l2;
    candidates[ncandidates++].cache_bytes = 16 * l2;
    candidates[ncandidates].cache_bytes = 0;
    candidates[ncandidates++].time_block = 1;

    best.cache_bytes = 0;
    best.time_block = 0;
    /* Two rounds over the candidates, each candidate's best round counts:
     * with one timing each, a candidate timed while another process took
     * the CPU lost (measured at load 7-9: the measured choice ran 1.4x
     * slower than the model's). */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < ncandidates; i++) {
            pel__stencil_engine trial = *e;
            size_t steps;
            double t0, seconds;
            int in_b = 0;

            trial.time_block = candidates[i].time_block;
            pel__stencil_choose_blocking(&trial, nsteps, &candidates[i]);
            /* Two temporal blocks (at least four steps), at most the call's. */
            steps = 2 * trial.time_block < 4 ? 4 : 2 * trial.time_block;
            if (steps > nsteps)
                steps = nsteps;
            memcpy(a, grid, bytes); /* the caller's values, fresh for each */
            t0 = pel_wtime();
            if (pel__stencil_run(&trial, a, b, steps, &in_b) != PEL_OK)
                continue;
            seconds = (pel_wtime() - t0) / (double)steps;
            if (round == 0 || seconds < times[i])
                times[i] = seconds;
        }
    }
    for (int i = 0; i < ncandidates; i++) {
        if (times[i] > 0 && (best_time == 0 || times[i] < best_time)) {
            best_time = times[i];
            best.cache_bytes = candidates[i].cache_bytes;
            best.time_block = candidates[i].time_block;
        }
    }
    pel_free(a);
    pel_free(b);
    remember(&best);
    base.cache_bytes = best.cache_bytes;
    e->time_block = best.time_block;
    pel__stencil_choose_blocking(e, nsteps, &base);
}
