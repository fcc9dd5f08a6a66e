/* Misuse detection for pel's objects (plans, stencils, CSR matrices, and
 * the objects of later layers). Best effort, documented as such in
 * docs/reliability.md.
 *
 * Every object starts with a pel__handle that holds a magic value naming
 * its kind and its precision; the value is set at creation and cleared on
 * destroy. Because reading a destroyed object is itself a use-after-free,
 * the magic is checked only after the pointer has been found in a
 * process-wide registry of live objects: a NULL, destroyed or foreign
 * pointer is answered with PEL_ERROR_INVALID_ARGUMENT and a message, and
 * pel never reads memory it does not own. A pointer that is freed and then
 * handed out again by malloc for a new object of the same kind cannot be
 * told apart from that new object: that is the "best effort". */
#ifndef PEL_CORE_HANDLE_H
#define PEL_CORE_HANDLE_H

#include <stdint.h>

#include "pel/core.h"

/* Kinds of object; the values are spelt so that a memory dump shows them. */
typedef enum pel__handle_kind {
    PEL__HANDLE_FFT_PLAN = 0x70656c46, /* "pelF" */
    PEL__HANDLE_CSR = 0x70656c43,      /* "pelC" */
    PEL__HANDLE_STENCIL = 0x70656c53,  /* "pelS" */
    PEL__HANDLE_DGRID = 0x70656c47,    /* "pelG": distributed grid (libpel_mpi) */
    PEL__HANDLE_DCSR = 0x70656c44,     /* "pelD": distributed CSR matrix (libpel_mpi) */
    PEL__HANDLE_OTHER = 0x70656c4f     /* "pelO": any later object */
} pel__handle_kind;

/* The first member of every handle-checked object. */
typedef struct pel__handle {
    uint32_t magic;   /* a pel__handle_kind while alive, 0 once destroyed */
    int32_t precision; /* pel_precision of the object, or -1 when it has none */
} pel__handle;

/* Marks `object` (whose first member is `handle`) as a live object of
 * `kind`. Returns PEL_ERROR_OUT_OF_MEMORY (message recorded for `function`)
 * when the registry cannot grow; the object is then not registered and the
 * caller must free it and fail. */
PEL_API pel_status pel__handle_register(pel__handle *handle, pel__handle_kind kind, int precision,
                                        const char *function);

/* Checks that `object` is a live object of `kind` (and, when precision is
 * not -1, of that precision). On failure records
 * "function: argument=... is NULL / not a live <kind> / destroyed / of
 * precision ..." and returns PEL_ERROR_INVALID_ARGUMENT. */
PEL_API pel_status pel__handle_check(const void *object, pel__handle_kind kind, int precision,
                                     const char *function, const char *argument);

/* Removes `object` from the registry and clears its magic. Returns 1 when it
 * was a live object of `kind` (the caller then frees it), 0 otherwise, with
 * a message recorded for `function` (a second destroy, or a foreign pointer:
 * the caller must not free it). A NULL object returns 0 without a message. */
PEL_API int pel__handle_unregister(void *object, pel__handle_kind kind, const char *function);

/* Number of live registered objects (tests use it to find leaks). */
PEL_API size_t pel__handle_live_count(void);

#endif
