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

#include "stencil/stencil_internal.h"

enum { MAX_CHOICES = 64, MAX_CANDIDATES = 6 };

typedef struct choice_key {
    long n[3];
    int r[3], ndim, nthreads, npoint, history, has_rhs;
    size_t nterms, nrows, element_size;
} choice_key;

typedef struct choice {
    choice_key key;
    size_t cache_bytes, time_block; /* the winner, as a blocking override */
} choice;

static choice choices[MAX_CHOICES];
static int nchoices;
static unsigned long measurements;
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

static void remember(const choice *c)
{
    pthread_mutex_lock(&choices_lock);
    /* Full: the oldest choice is forgotten (measured again if it returns). */
    choices[measurements % MAX_CHOICES] = *c;
    if (nchoices < MAX_CHOICES)
        nchoices++;
    measurements++;
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

static int measure_requested(const pel_stencil_blocking *blocking)
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
    double best_time = 0;
    char *a, *b;
    int ncandidates = 0;

    memset(&base, 0, sizeof base);
    if (blocking != NULL)
        base = *blocking;
    if (base.cache_bytes == PEL_STENCIL_CACHE_MEASURE)
        base.cache_bytes = 0;
    /* Only a fully automatic choice is measured: tiles or a time block the
     * caller gave are the caller's. */
    if (!measure_requested(blocking) || e->tile[0] > 0 || e->tile[1] > 0 || e->tile[2] > 0 || e->time_block > 0 ||
        nsteps < 2) {
        pel__stencil_choose_blocking(e, nsteps, &base);
        return;
    }
    make_key(e, &best.key);
    if (find(&best.key, &best)) {
        base.cache_bytes = best.cache_bytes;
        base.time_block = best.time_block;
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
    for (int i = 0; i < ncandidates; i++) {
        pel__stencil_engine trial = *e;
        size_t steps;
        double t0, seconds;
        int in_b = 0;

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
        if (best_time == 0 || seconds < best_time) {
            best_time = seconds;
            best.cache_bytes = candidates[i].cache_bytes;
            best.time_block = candidates[i].time_block;
        }
    }
    pel_free(a);
    pel_free(b);
    remember(&best);
    base.cache_bytes = best.cache_bytes;
    base.time_block = best.time_block;
    pel__stencil_choose_blocking(e, nsteps, &base);
}
