/* Chooses the matrix kernels once, from the CPU's features. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/kernels/kernels.h"

/* Best first: the first available table wins. */
static const pel__matrix_kernels *const tables[] = {
    &pel__matrix_kernels_avx512,
    &pel__matrix_kernels_avx2,
    &pel__matrix_kernels_reference,
};

/* Written by choose() (once) and by pel__matrix_kernels_set() (tests). */
static const pel__matrix_kernels *chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

const pel__matrix_kernels *pel__matrix_kernels_find(const char *name)
{
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (strcmp(tables[i]->name, name) == 0)
            return tables[i]->available() ? tables[i] : NULL;
    return NULL;
}

static const pel__matrix_kernels *best(void)
{
    const char *wanted = getenv("PEL_MATRIX_KERNELS");
    const pel__matrix_kernels *table;

    if (wanted != NULL && (table = pel__matrix_kernels_find(wanted)) != NULL)
        return table;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (tables[i]->available())
            return tables[i];
    return &pel__matrix_kernels_reference;
}

static void choose(void)
{
    __atomic_store_n(&chosen, best(), __ATOMIC_RELEASE);
}

const pel__matrix_kernels *pel__matrix_kernels_get(void)
{
    pthread_once(&chosen_once, choose);
    return __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
}

const pel__matrix_kernels *pel__matrix_kernels_set(const pel__matrix_kernels *table)
{
    const pel__matrix_kernels *old = pel__matrix_kernels_get();
    __atomic_store_n(&chosen, table != NULL ? table : best(), __ATOMIC_RELEASE);
    return old;
}
