/* The registry of live objects behind pel__handle_check(): an open-addressing
 * set of pointers under one mutex. A check costs one uncontended lock and a
 * probe or two (tens of nanoseconds), which is small next to the work of any
 * call that takes a handle. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/handle.h"

#define TOMBSTONE ((uintptr_t)1)

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *slots;     /* 0 = empty, TOMBSTONE = removed, else a live object */
static size_t capacity;      /* a power of two, or 0 before the first object */
static size_t used;          /* live objects plus tombstones */
static size_t live;
/* A second table of the same capacity, allocated with the first: clearing
 * the tombstones rebuilds into it and swaps, so a registration allocates
 * only when the number of live objects outgrows the table, never because
 * earlier objects were destroyed (create/destroy cycles with few live
 * objects would otherwise fail with PEL_ERROR_OUT_OF_MEMORY now and then,
 * at moments that depend on the history of the process). */
static uintptr_t *spare;

/* fork() while another thread holds the lock would leave it locked forever
 * in the child (whose only thread is the forking one): take it around fork()
 * so the child inherits a consistent registry and an unlocked mutex. */
static void registry_prepare(void)
{
    pthread_mutex_lock(&registry_lock);
}

static void registry_after_fork(void)
{
    pthread_mutex_unlock(&registry_lock);
}

__attribute__((constructor)) static void registry_load(void)
{
    pthread_atfork(registry_prepare, registry_after_fork, registry_after_fork);
}

static size_t slot_of(uintptr_t key, size_t mask)
{
    /* Objects come from malloc, 16-byte aligned: drop the low bits, then mix. */
    uint64_t h = (uint64_t)(key >> 4) * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 17) & mask;
}

/* Index of key's slot, or of the first free slot on its probe path when it is
 * absent (returned with *found = 0). Needs capacity > 0 and a free slot. */
static size_t probe(uintptr_t key, int *found)
{
    size_t mask = capacity - 1, i = slot_of(key, mask), reuse = (size_t)-1;

    for (;; i = (i + 1) & mask) {
        if (slots[i] == key) {
            *found = 1;
            return i;
        }
        if (slots[i] == TOMBSTONE && reuse == (size_t)-1)
            reuse = i;
        if (slots[i] == 0) {
            *found = 0;
            return reuse != (size_t)-1 ? reuse : i;
        }
    }
}

/* Rebuilds the table with room for four times the live objects (tombstones
 * go): into the spare table when the capacity stays, else into two new
 * tables. Returns 0, the registry unchanged, when they cannot be allocated. */
static int grow(void)
{
    size_t new_capacity = capacity ? capacity : 64;
    uintptr_t *old = slots, *fresh, *second = NULL;
    size_t old_capacity = capacity;

    while (new_capacity < 4 * (live + 1))
        new_capacity *= 2;
    if (new_capacity == capacity) {
        fresh = spare;
        memset(fresh, 0, capacity * sizeof *fresh);
    } else {
        fresh = calloc(new_capacity, sizeof *fresh);
        second = fresh != NULL ? calloc(new_capacity, sizeof *second) : NULL;
        if (second == NULL) {
            free(fresh);
            return 0;
        }
    }
    slots = fresh;
    capacity = new_capacity;
    used = live;
    for (size_t i = 0; i < old_capacity; i++) {
        int found;
        if (old[i] > TOMBSTONE)
            slots[probe(old[i], &found)] = old[i];
    }
    if (second == NULL) {
        spare = old; /* the next rebuild at this capacity goes there */
    } else {
        free(old);
        free(spare);
        spare = second;
    }
    return 1;
}

pel_status pel__handle_register(pel__handle *handle, pel__handle_kind kind, int precision, const char *function)
{
    uintptr_t key = (uintptr_t)handle;
    int found, ok = 1;

    pthread_mutex_lock(&registry_lock);
    if (2 * (used + 1) > capacity)
        ok = grow();
    if (ok) {
        size_t i = probe(key, &found);
        if (!found) {
            if (slots[i] == 0)
                used++;
            slots[i] = key;
            live++;
        }
        handle->magic = (uint32_t)kind;
        handle->precision = precision;
    }
    pthread_mutex_unlock(&registry_lock);
    if (!ok)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot grow the registry of live objects");
    return PEL_OK;
}

static const char *kind_name(pel__handle_kind kind)
{
    switch (kind) {
    case PEL__HANDLE_FFT_PLAN:
        return "pel_fft_plan";
    case PEL__HANDLE_CSR:
        return "pel_csr";
    case PEL__HANDLE_STENCIL:
        return "pel_stencil";
    case PEL__HANDLE_DGRID:
        return "pel_dgrid";
    case PEL__HANDLE_DCSR:
        return "pel_dcsr";
    case PEL__HANDLE_OTHER:
        break;
    }
    return "pel object";
}

/* What the object holds, for the mismatch message: an object registered
 * with precision -1 has none, which must not read as "double". */
static const char *precision_text(int32_t precision)
{
    switch (precision) {
    case PEL_FLOAT64:
        return "holds double data";
    case PEL_FLOAT32:
        return "holds float data";
    default:
        return "has no precision";
    }
}

pel_status pel__handle_check(const void *object, pel__handle_kind kind, int precision, const char *function,
                             const char *argument)
{
    int found = 0;
    uint32_t magic = 0;
    int32_t held = -1;

    if (object == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s must not be NULL", argument);
    pthread_mutex_lock(&registry_lock);
    if (capacity > 0)
        (void)probe((uintptr_t)object, &found);
    if (found) {
        /* Read under the lock: destroy clears the magic under it too. */
        magic = ((const pel__handle *)object)->magic;
        held = ((const pel__handle *)object)->precision;
    }
    pthread_mutex_unlock(&registry_lock);
    if (!found)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "%s=%p is not a live %s (destroyed, never created, or not made by pel)", argument,
                         object, kind_name(kind));
    if (magic != (uint32_t)kind)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s=%p is a %s, not a %s", argument, object,
                         kind_name((pel__handle_kind)magic), kind_name(kind));
    if (precision != -1 && held != precision)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "%s=%p %s, the call needs %s data", argument,
                         object, precision_text(held), precision == PEL_FLOAT32 ? "float" : "double");
    return PEL_OK;
}

int pel__handle_unregister(void *object, pel__handle_kind kind, const char *function)
{
    int found = 0, ok = 0;

    if (object == NULL)
        return 0;
    pthread_mutex_lock(&registry_lock);
    if (capacity > 0) {
        size_t i = probe((uintptr_t)object, &found);
        if (found && ((pel__handle *)object)->magic == (uint32_t)kind) {
            slots[i] = TOMBSTONE;
            live--;
            ((pel__handle *)object)->magic = 0;
            ok = 1;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    if (!ok)
        pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                  "%p is not a live %s (destroyed twice, or not made by pel): nothing was freed", object,
                  kind_name(kind));
    return ok;
}

size_t pel__handle_live_count(void)
{
    size_t n;

    pthread_mutex_lock(&registry_lock);
    n = live;
    pthread_mutex_unlock(&registry_lock);
    return n;
}
