/* Carrying the first failure of a parallel operation back to its caller. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "exec/exec.h"

void pel__failure_init(pel__failure *failure)
{
    atomic_init(&failure->status, 0);
    failure->message[0] = '\0';
}

void pel__failure_record(pel__failure *failure, int status, unsigned long error_sequence_before,
                         const char *function, const char *callback, size_t where)
{
    int expected = 0;

    if (!atomic_compare_exchange_strong(&failure->status, &expected, status))
        return; /* someone failed first */
    /* Only the winner writes the message; the caller reads it after the
     * parallel region's barrier, which orders the write before the read. */
    if (pel__error_sequence() != error_sequence_before)
        snprintf(failure->message, sizeof failure->message, "%s", pel_last_error());
    else
        snprintf(failure->message, sizeof failure->message, "%s: %s returned %d at index %zu", function,
                 callback, status, where);
}

int pel__failure_finish(pel__failure *failure)
{
    int status = atomic_load(&failure->status);

    if (status != 0)
        pel__set_error_message(failure->message);
    return status;
}
