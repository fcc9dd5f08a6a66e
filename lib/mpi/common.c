/* What every collective call of libpel_mpi does first: check that MPI can be
 * used from this thread, then agree with the other ranks on the outcome of
 * argument validation before any communication that could block. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "mpi/mpi_internal.h"

enum { MESSAGE_BYTES = 512 };

pel_status pel__mpi_ready(const char *function)
{
    int flag = 0, level = 0;

    if (MPI_Initialized(&flag) != MPI_SUCCESS || !flag)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "MPI is not initialised (call MPI_Init_thread with MPI_THREAD_FUNNELED or above first)");
    if (MPI_Finalized(&flag) != MPI_SUCCESS || flag)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "MPI is already finalised");
    if (MPI_Query_thread(&level) != MPI_SUCCESS || level < MPI_THREAD_FUNNELED)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "MPI thread level %d is below MPI_THREAD_FUNNELED (%d): pel runs OpenMP threads beside "
                         "MPI; initialise with MPI_Init_thread(..., MPI_THREAD_FUNNELED, ...)",
                         level, (int)MPI_THREAD_FUNNELED);
    if (MPI_Is_thread_main(&flag) != MPI_SUCCESS || !flag)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "called from a thread that did not initialise MPI (MPI_THREAD_FUNNELED allows MPI calls "
                         "from the main thread only)");
    return PEL_OK;
}

int pel__mpi_live_add(pel__mpi_live *list, void *item)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? 2 * list->capacity : 8;
        void **grown = realloc(list->items, capacity * sizeof *grown);
        if (grown == NULL)
            return 0;
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count++] = item;
    return 1;
}

void pel__mpi_live_remove(pel__mpi_live *list, const void *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i] == item) {
            list->items[i] = list->items[--list->count];
            break;
        }
    if (list->count == 0) {
        free(list->items);
        list->items = NULL;
        list->capacity = 0;
    }
}

int pel__mpi_live_has(const pel__mpi_live *list, const void *item)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i] == item)
            return 1;
    return 0;
}

const char *pel__mpi_reason(const char *function)
{
    const char *message = pel_last_error();
    size_t len = strlen(function);

    if (strncmp(message, function, len) == 0 && message[len] == ':' && message[len + 1] == ' ')
        return message + len + 2;
    return message;
}

pel_status pel__mpi_agree(MPI_Comm comm, const char *function, pel_status local, const pel__mpi_same *same,
                          int nsame)
{
    /* One MPI_MAX reduction carries everything: the lowest failing rank as
     * size - rank (0 = nobody failed), and each scalar as +v and -v, which
     * give the maximum and the minimum over the ranks. */
    double in[1 + 2 * 16], out[1 + 2 * 16];
    int rank, size, failing;
    struct {
        int status;
        char text[MESSAGE_BYTES];
    } report;

    if (nsame > 16)
        return pel__fail(PEL_ERROR_INTERNAL, function, "%d scalars to agree on (at most 16)", nsame);
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, function, "MPI_Comm_rank/MPI_Comm_size failed on the communicator");
    /* Always the full 16 slots, so that ranks passing different counts (one
     * failed early) still call MPI_Allreduce alike. */
    memset(in, 0, sizeof in);
    in[0] = local == PEL_OK ? 0.0 : (double)(size - rank);
    for (int i = 0; i < nsame; i++) {
        in[1 + 2 * i] = same[i].value;
        in[2 + 2 * i] = -same[i].value;
    }
    if (MPI_Allreduce(in, out, 1 + 2 * 16, MPI_DOUBLE, MPI_MAX, comm) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, function, "MPI_Allreduce of the argument check failed");
    if (out[0] > 0.0) {
        failing = size - (int)out[0];
        memset(&report, 0, sizeof report);
        if (rank == failing) {
            report.status = (int)local;
            strncpy(report.text, pel__mpi_reason(function), MESSAGE_BYTES - 1);
        }
        if (MPI_Bcast(&report, (int)sizeof report, MPI_BYTE, failing, comm) != MPI_SUCCESS)
            return pel__fail(PEL_ERROR_BACKEND, function, "MPI_Bcast of rank %d's error failed", failing);
        report.text[MESSAGE_BYTES - 1] = '\0';
        return pel__fail((pel_status)report.status, function, "rank %d of %d: %s", failing, size, report.text);
    }
    /* All 16 slots, so that every rank finds the same first difference. */
    for (int i = 0; i < 16; i++)
        if (out[1 + 2 * i] != -out[2 + 2 * i])
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                             "%s must be equal on every rank (it ranges from %.17g to %.17g over the %d ranks)",
                             i < nsame ? same[i].name : "an argument", -out[2 + 2 * i], out[1 + 2 * i], size);
    return PEL_OK;
}


void pel__box_copy(size_t elem, const void *src, const size_t *sdims, const size_t *sstart, void *dst,
                   const size_t *ddims, const size_t *dstart, const size_t *count)
{
    size_t rows = count[0] * count[1], row_bytes = count[2] * elem;
    int threads;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    if (rows == 0 || row_bytes == 0)
        return;
    threads = pel__team_take(&team, pel_threads_for_work(rows * count[2]));
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (size_t r = 0; r < rows; r++) {
        size_t i = r / count[1], j = r % count[1];
        size_t s = ((sstart[0] + i) * sdims[1] + sstart[1] + j) * sdims[2] + sstart[2];
        size_t d = ((dstart[0] + i) * ddims[1] + dstart[1] + j) * ddims[2] + dstart[2];
        memcpy((unsigned char *)dst + d * elem, (const unsigned char *)src + s * elem, row_bytes);
    }
}
