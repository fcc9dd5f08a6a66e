/* The batched gemm's cutoff to OpenBLAS, measured on this machine (issue
 * 16 item 4).
 *
 * Each kernel table carries the crossover measured where it was written
 * (kernels.h: dgemm_small_max, sgemm_small_max). The measured cutoff never
 * goes below that constant or PEL__MATRIX_CUTOFF_FLOOR (32), whichever is
 * smaller: up to 32
 * pel's kernel beat OpenBLAS per item on every machine kind measured so far
 * (docs/matrix.md). Above it, up to what the kernels accept
 * (PEL_GEMM_SMALL_MAX), the answer depends on the machine's OpenBLAS (and
 * the table's constant of 64 for AVX2, measured on one Zen 3 machine at 50
 * against 46 GFLOP/s, did not hold on another: 2 threads, 64^3 items, pel's
 * kernel 7.05 ms against OpenBLAS's 4.94, the AMD EPYC family 25 model 1 VM,
 * pel-bench --kernel tune): on the Zen 4 machine OpenBLAS 0.3.21 has its own AVX-512
 * small-matrix kernels and wins at 33-56 by 3-20%; on the Intel Xeon family
 * 6 model 207 (2 vCPUs) pel's AVX-512 kernel ran items of 33-64 2.7-3.3x
 * faster than single-threaded cblas_dgemm (pel-bench --kernel tune,
 * quiet). So the first batch with an item past the table's cutoff times
 * pel's kernel against cblas_dgemm at a few sizes on the calling thread, in
 * cache, and raises the cutoff to the largest size up to which pel's kernel
 * won every size by a clear margin. That takes 2-3 ms on that Xeon (most of it in OpenBLAS), once a
 * process per table and precision.
 *
 * Bits: an item of 33-64 gives different last bits on pel's kernel and on
 * OpenBLAS, so a cutoff that moves with a noisy measurement could move
 * them between processes. The margin (pel's kernel must be
 * CUTOFF_MARGIN times faster) keeps a close call on OpenBLAS, and
 * PEL_GEMM_CUTOFF (read when pel loads) fixes the choice: "table" (the
 * table's constant, the behaviour before the calibration) or a number 1..64. */
#include "config.h"

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "pel/core.h"
#include "core/threads.h"
#include "matrix/kernels/kernels.h"
#include "matrix/matrix_internal.h"
#include "tune/tune.h"

/* pel's kernel must take at most 1/CUTOFF_MARGIN of OpenBLAS's time at a
 * size for the cutoff to pass it. */
#define CUTOFF_MARGIN 1.15
/* Sizes tried past the table's cutoff, increasing. */
static const size_t trial_sizes[] = {33, 40, 48, 56, 64};
#define TRIALS (sizeof trial_sizes / sizeof trial_sizes[0])
/* Rounds per size (the minimum is kept: a descheduled round is discarded)
 * and the flops each timed run does at least (about 10 us on pel's kernel). */
#define CUTOFF_ROUNDS 5
#define CUTOFF_RUN_FLOPS 4e5

/* One calibrated value per table and precision. The tables are few and
 * static; a slot is claimed by its table pointer. */
#define CUTOFF_SLOTS PEL__MATRIX_MAX_CUTOFFS
typedef struct cutoff_slot {
    const pel__matrix_kernels *table;
    int single;
    size_t value; /* 0 until calibrated */
} cutoff_slot;

static cutoff_slot slots[CUTOFF_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

/* PEL_GEMM_CUTOFF, read when pel loads (core/env.h): 0 not given (the
 * measured cutoff), SIZE_MAX "table", else the cutoff itself. */
static size_t environment_cutoff;

static pel_status parse_cutoff(const char *text, void *out)
{
    return pel__env_parse_gemm_cutoff(text, out);
}

void pel__matrix_cutoff_read_environment(void)
{
    size_t value = 0;
    pel__env_read("PEL_GEMM_CUTOFF", parse_cutoff, &value);
    __atomic_store_n(&environment_cutoff, value, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void cutoff_load(void)
{
    pel__matrix_cutoff_read_environment();
}

size_t pel__matrix_cutoff_decide(size_t table_cutoff, const size_t *sizes, const double *own_seconds,
                                 const double *blas_seconds, size_t count)
{
    size_t cutoff = table_cutoff;

    for (size_t i = 0; i < count; i++) {
        if (sizes[i] <= cutoff)
            continue;
        /* A failed or meaningless measurement (0, NaN) stops the raise. */
        if (!(own_seconds[i] > 0) || !(blas_seconds[i] > 0) || own_seconds[i] * CUTOFF_MARGIN > blas_seconds[i])
            break;
        cutoff = sizes[i];
    }
    return cutoff;
}

/* Times `runs` products of n x n x n on pel's kernel (own) and on
 * single-threaded cblas (not own), the minimum over the rounds of each,
 * alternated so that a slow moment hits both. */
static void time_size(const pel__matrix_kernels *table, int single, size_t n, void *a, void *b, void *c, void *work,
                      double *own, double *blas)
{
    const int ni = (int)n;
    size_t runs = (size_t)(CUTOFF_RUN_FLOPS / (2.0 * (double)n * (double)n * (double)n)) + 1;

    *own = *blas = 0;
    for (int round = 0; round <= CUTOFF_ROUNDS; round++) {
        double t0 = pel_wtime(), t1, t2;
        for (size_t r = 0; r < runs; r++) {
            if (single)
                table->sgemm_small(n, n, n, 1.0f, a, 1, (ptrdiff_t)n, b, 1, (ptrdiff_t)n, 0.5f, c, n, work);
            else
                table->dgemm_small(n, n, n, 1.0, a, 1, (ptrdiff_t)n, b, 1, (ptrdiff_t)n, 0.5, c, n, work);
        }
        t1 = pel_wtime();
        for (size_t r = 0; r < runs; r++) {
            if (single)
                cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0f, a, ni, b, ni, 0.5f, c, ni);
            else
                cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0, a, ni, b, ni, 0.5, c, ni);
        }
        t2 = pel_wtime();
        if (round == 0)
            continue; /* the warm-up: code and data into cache */
        if (*own == 0 || t1 - t0 < *own)
            *own = t1 - t0;
        if (*blas == 0 || t2 - t1 < *blas)
            *blas = t2 - t1;
    }
}

size_t pel__matrix_cutoff_floor(const pel__matrix_kernels *table, int single)
{
    const size_t table_cutoff = single ? table->sgemm_small_max : table->dgemm_small_max;
    return table_cutoff < PEL__MATRIX_CUTOFF_FLOOR ? table_cutoff : PEL__MATRIX_CUTOFF_FLOOR;
}

static size_t calibrate(const pel__matrix_kernels *table, int single)
{
    const size_t table_cutoff = single ? table->sgemm_small_max : table->dgemm_small_max;
    const size_t floor = pel__matrix_cutoff_floor(table, single);
    const size_t elem = single ? sizeof(float) : sizeof(double), max = PEL_GEMM_SMALL_MAX;
    double own[TRIALS], blas[TRIALS];
    size_t sizes[TRIALS], count = 0;
    pel__blas_scope scope;
    unsigned char *buffer;

    if (floor >= max)
        return table_cutoff;
    /* A, B, C of the largest size and the kernel's work area, 64-byte
     * aligned; values in [0.5, 1.5) so that nothing overflows or goes
     * subnormal (which would time something else). */
    buffer = aligned_alloc(64, 4 * max * max * sizeof(double));
    if (buffer == NULL)
        return table_cutoff; /* the table's constant, as before */
    for (size_t i = 0; i < 3 * max * max; i++) {
        double v = 0.5 + (double)((i * 2654435761u) % 1024) / 1024.0;
        if (single)
            ((float *)buffer)[i] = (float)v;
        else
            ((double *)buffer)[i] = v;
    }
    pel__blas_enter(&scope, 1);
    for (size_t i = 0; i < TRIALS; i++) {
        size_t n = trial_sizes[i];
        if (n <= floor || n > max)
            continue;
        sizes[count] = n;
        time_size(table, single, n, buffer, buffer + max * max * elem, buffer + 2 * max * max * elem,
                  buffer + 3 * max * max * sizeof(double), &own[count], &blas[count]);
        /* Past the first size pel's kernel loses, the others are not needed. */
        if (own[count] * CUTOFF_MARGIN > blas[count]) {
            count++;
            break;
        }
        count++;
    }
    pel__blas_leave(&scope);
    free(buffer);
    return pel__matrix_cutoff_decide(floor, sizes, own, blas, count);
}

/* The slot of (table, single), claimed if new; NULL when all are taken.
 * Called with slots_lock held. */
static cutoff_slot *claim_slot(const pel__matrix_kernels *table, int single)
{
    for (int i = 0; i < CUTOFF_SLOTS; i++)
        if (slots[i].table == table && slots[i].single == single)
            return &slots[i];
    for (int i = 0; i < CUTOFF_SLOTS; i++)
        if (slots[i].table == NULL) {
            slots[i].single = single;
            __atomic_store_n(&slots[i].table, table, __ATOMIC_RELEASE);
            return &slots[i];
        }
    return NULL;
}

size_t pel__matrix_small_max(const pel__matrix_kernels *table, int single)
{
    const size_t table_cutoff = single ? table->sgemm_small_max : table->dgemm_small_max;
    const size_t fixed = __atomic_load_n(&environment_cutoff, __ATOMIC_RELAXED);
    size_t value = 0;
    cutoff_slot *slot = NULL;

    if (fixed != 0)
        return fixed == SIZE_MAX ? table_cutoff : fixed;
    if (pel__matrix_cutoff_floor(table, single) >= PEL_GEMM_SMALL_MAX)
        return table_cutoff;
    for (int i = 0; i < CUTOFF_SLOTS; i++)
        if (__atomic_load_n(&slots[i].table, __ATOMIC_ACQUIRE) == table && slots[i].single == single &&
            (value = __atomic_load_n(&slots[i].value, __ATOMIC_ACQUIRE)) != 0)
            return value;
    /* First need. The machine model first: its first need reads
     * PEL_WISDOM_FILE, whose cutoffs (pel-tune's) then spare the
     * measurement. Then calibrate under the lock, so that threads arriving
     * together measure once (and not against each other's load). */
    (void)pel__machine();
    pthread_mutex_lock(&slots_lock);
    slot = claim_slot(table, single);
    if (slot == NULL)
        value = table_cutoff; /* more tables than slots: cannot happen with the three tables */
    else if ((value = slot->value) == 0) {
        value = calibrate(table, single);
        __atomic_store_n(&slot->value, value, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&slots_lock);
    return value;
}

/* ------------------------------------------------ the wisdom file's side */

int pel__matrix_cutoffs_get(pel__matrix_cutoff *out)
{
    int count = 0;

    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < CUTOFF_SLOTS; i++)
        if (slots[i].table != NULL && slots[i].value != 0) {
            snprintf(out[count].table, sizeof out[count].table, "%s", slots[i].table->name);
            out[count].single = slots[i].single;
            out[count].value = slots[i].value;
            count++;
        }
    pthread_mutex_unlock(&slots_lock);
    return count;
}

int pel__matrix_cutoff_valid(const pel__matrix_cutoff *c)
{
    const pel__matrix_kernels *table;
    size_t floor;

    if (memchr(c->table, '\0', sizeof c->table) == NULL || (c->single != 0 && c->single != 1))
        return 0;
    table = pel__matrix_kernels_find(c->table);
    if (table == NULL)
        return 0;
    floor = pel__matrix_cutoff_floor(table, c->single);
    return c->value >= floor && c->value <= PEL_GEMM_SMALL_MAX;
}

void pel__matrix_cutoffs_put(const pel__matrix_cutoff *list, int count)
{
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < count; i++) {
        cutoff_slot *slot;
        if (!pel__matrix_cutoff_valid(&list[i]))
            continue;
        slot = claim_slot(pel__matrix_kernels_find(list[i].table), list[i].single);
        if (slot != NULL)
            __atomic_store_n(&slot->value, list[i].value, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&slots_lock);
}

void pel__matrix_cutoffs_clear(void)
{
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < CUTOFF_SLOTS; i++)
        __atomic_store_n(&slots[i].value, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&slots_lock);
}
