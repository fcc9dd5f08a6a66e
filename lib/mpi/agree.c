/* Agreement communicators: the communicator on which a collective call's
 * argument check is agreed, shared by every grid over the same ranks.
 *
 * Why: a rank handed a bad grid handle (NULL, destroyed, not a grid) has no
 * communicator of its own, while its peers agree on theirs; it must join
 * the same agreement or they wait forever. Each grid's own communicator is
 * a private duplicate, so the rank could only guess it when it held exactly
 * one grid. Here all grids over one group of ranks share one agreement
 * communicator (a duplicate made by the first of them, identified by an id
 * equal on every rank), and a group's entry outlives its grids (a retired
 * entry, reused by the next grid over that group). A rank with a bad handle
 * then uses the entry when it is the only one it has, or the only one with
 * live grids. Grids are used from the main thread only
 * (MPI_THREAD_FUNNELED), so no lock. */
#include "config.h"

#include <stdlib.h>

#include "core/error.h"
#include "mpi/mpi_internal.h"

enum { MAX_RETIRED = 16 };

struct pel__dgrid_agreement {
    MPI_Comm comm;
    MPI_Group group;
    long id;       /* equal on every rank of the group */
    int refs;      /* live grids using it on this rank */
    long retired;  /* order of retirement (refs == 0), for the cap */
};

static pel__dgrid_agreement **entries;
static size_t nentries, capacity;
static long next_id, retire_clock;

static void drop(size_t i)
{
    int finalized = 1;
    if (MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) {
        MPI_Comm_free(&entries[i]->comm);
        MPI_Group_free(&entries[i]->group);
    }
    free(entries[i]);
    entries[i] = entries[--nentries];
    if (nentries == 0) {
        free(entries);
        entries = NULL;
        capacity = 0;
    }
}

pel_status pel__dgrid_agreement_attach(pel_dgrid *g, const char *fn)
{
    MPI_Group group = MPI_GROUP_NULL;
    pel__dgrid_agreement *found = NULL, *fresh = NULL;
    long mine[3], all[3];
    int ok = MPI_Comm_group(g->comm, &group) == MPI_SUCCESS;

    for (size_t i = 0; ok && i < nentries && found == NULL; i++) {
        int same = MPI_UNEQUAL;
        MPI_Group_compare(group, entries[i]->group, &same);
        if (same == MPI_IDENT)
            found = entries[i];
    }
    /* Room for a new entry is made before anything collective, so that a
     * rank out of memory fails with the others. */
    if (ok && found == NULL && nentries == capacity) {
        size_t grown_capacity = capacity ? 2 * capacity : 4;
        pel__dgrid_agreement **grown = realloc(entries, grown_capacity * sizeof *grown);
        if (grown == NULL)
            ok = 0;
        else
            entries = grown, capacity = grown_capacity;
    }
    if (ok && found == NULL && (fresh = calloc(1, sizeof *fresh)) == NULL)
        ok = 0;
    /* Share when every rank found the entry with the same id. */
    mine[0] = found ? found->id : -1;
    mine[1] = found ? -found->id : 1;
    mine[2] = !ok;
    if (MPI_Allreduce(mine, all, 3, MPI_LONG, MPI_MAX, g->comm) != MPI_SUCCESS)
        all[2] = 1;
    if (all[2] == 0 && all[0] >= 0 && all[0] == -all[1]) {
        free(fresh);
        MPI_Group_free(&group);
        found->refs++;
        found->retired = 0;
        g->agreement = found;
        return PEL_OK;
    }
    if (all[2] == 0) {
        long id = next_id, agreed = 0;
        int dup_ok = MPI_Comm_dup(g->comm, &fresh->comm) == MPI_SUCCESS, all_ok = 0;
        if (!dup_ok)
            fresh->comm = MPI_COMM_NULL;
        if (MPI_Allreduce(&id, &agreed, 1, MPI_LONG, MPI_MAX, g->comm) == MPI_SUCCESS &&
            MPI_Allreduce(&dup_ok, &all_ok, 1, MPI_INT, MPI_MIN, g->comm) == MPI_SUCCESS && all_ok) {
            fresh->group = group;
            fresh->id = agreed;
            fresh->refs = 1;
            next_id = agreed + 1;
            entries[nentries++] = fresh;
            g->agreement = fresh;
            return PEL_OK;
        }
        if (fresh->comm != MPI_COMM_NULL)
            MPI_Comm_free(&fresh->comm);
    }
    free(fresh);
    if (group != MPI_GROUP_NULL)
        MPI_Group_free(&group);
    return pel__fail(all[2] ? PEL_ERROR_OUT_OF_MEMORY : PEL_ERROR_BACKEND, fn,
                     "no agreement communicator for the grid (out of memory or MPI_Comm_dup failed on some rank)");
}

void pel__dgrid_agreement_detach(pel_dgrid *g)
{
    pel__dgrid_agreement *a = g->agreement;
    size_t retired = 0, oldest = 0;
    if (a == NULL)
        return;
    g->agreement = NULL;
    if (--a->refs > 0)
        return;
    a->retired = ++retire_clock;
    /* Keep at most MAX_RETIRED retired entries: a program that makes grids
     * over many different groups of ranks does not pile up communicators. */
    for (size_t i = 0; i < nentries; i++)
        if (entries[i]->refs == 0) {
            if (retired == 0 || entries[i]->retired < entries[oldest]->retired)
                oldest = i;
            retired++;
        }
    if (retired > MAX_RETIRED)
        drop(oldest);
}

MPI_Comm pel__dgrid_agreement_comm(const pel_dgrid *grid)
{
    size_t with_grids = 0, last_live = 0;
    if (pel__handle_check(grid, PEL__HANDLE_DGRID, -1, "pel_dgrid", "grid") == PEL_OK)
        return grid->agreement->comm;
    /* A bad handle: the only group this rank has ever made grids over, else
     * the only one it still has live grids over, else none (the limit:
     * the rank cannot tell which of its groups the peers are calling on). */
    if (nentries == 1)
        return entries[0]->comm;
    for (size_t i = 0; i < nentries; i++)
        if (entries[i]->refs > 0) {
            with_grids++;
            last_live = i;
        }
    return with_grids == 1 ? entries[last_live]->comm : MPI_COMM_NULL;
}
