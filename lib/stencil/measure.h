/* The measured stencil choices (lib/stencil/measure.c) as data, so that
 * pel's wisdom (lib/tune/wisdom.c) can carry them between processes. */
#ifndef PEL_STENCIL_MEASURE_H
#define PEL_STENCIL_MEASURE_H

#include <stddef.h>

/* The problem a choice is for: internal dims and radii, the stencil's shape
 * (terms, input rows), the form (pointwise grids, -1 for the constant form;
 * a second time level; a rhs term), the thread count and the element size.
 * Compared with memcmp, so always zeroed before it is filled. */
typedef struct pel__stencil_choice_key {
    long n[3];
    int r[3], ndim, nthreads, npoint, history, has_rhs;
    size_t nterms, nrows, element_size;
} pel__stencil_choice_key;

/* A measured winner, as a blocking override: cache_bytes (0: the model's
 * own budget) and time_block (0: automatic, 1: one step at a time). */
typedef struct pel__stencil_choice {
    pel__stencil_choice_key key;
    size_t cache_bytes, time_block;
} pel__stencil_choice;

/* The most choices a process keeps (the oldest is forgotten beyond). */
enum { PEL__STENCIL_MAX_CHOICES = 64 };

/* Copies the choices made or imported so far into out (room for
 * PEL__STENCIL_MAX_CHOICES), in the order they are kept; returns the count.
 * Thread-safe. */
int pel__stencil_choices_get(pel__stencil_choice *out);

/* 1 when every field of c is in the range of a problem pel_stencil_apply
 * accepts, with a time block of at most 64 (the model's longest; a
 * measurement gives 0 or 1) and a budget of at most 2^48 bytes, else 0. The
 * wisdom importer refuses a text with any entry that is not, so a hostile
 * file cannot make later calls ask for absurd work space. */
int pel__stencil_choice_valid(const pel__stencil_choice *c);

/* Adds count choices (each replaces a kept one with the same key, else
 * takes the next place), as if measured: a later measured call for the same
 * problem uses the choice instead of timing candidates. Thread-safe. */
void pel__stencil_choices_put(const pel__stencil_choice *choices, int count);

/* Forgets every choice (for the tests). */
void pel__stencil_choices_clear(void);

#endif
