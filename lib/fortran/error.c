/* The Fortran wrappers check things the C functions cannot see (that the
 * shapes of assumed-shape arrays agree), so they need a thread-local message
 * of their own beside libpel's. pel_last_error() in the Fortran module
 * returns libpel's message when there is one, else this one; recording a
 * wrapper error clears libpel's message so the newest error always wins. */
#include <stddef.h>
#include <string.h>

#include "pel/core.h"

/* Exported from libpel_fortran for the module only; not part of any header. */
void pel__fortran_set_error(const char *message, size_t length);
const char *pel__fortran_last_error(void);
void pel__fortran_clear_error(void);

enum { MESSAGE_CAPACITY = 512 };
static _Thread_local char wrapper_message[MESSAGE_CAPACITY];

void pel__fortran_set_error(const char *message, size_t length)
{
    if (length >= MESSAGE_CAPACITY)
        length = MESSAGE_CAPACITY - 1;
    memcpy(wrapper_message, message, length);
    wrapper_message[length] = '\0';
    pel_clear_error();
}

const char *pel__fortran_last_error(void)
{
    const char *library_message = pel_last_error();
    return library_message[0] != '\0' ? library_message : wrapper_message;
}

void pel__fortran_clear_error(void)
{
    wrapper_message[0] = '\0';
    pel_clear_error();
}
