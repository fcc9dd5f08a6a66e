/* The distributed grid: decomposition over a Cartesian process grid, the
 * ranks' boxes, local arrays, scatter and gather. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "mpi/mpi_internal.h"

pel_status pel__dgrid_check(const pel_dgrid *grid, const char *function)
{
    return pel__handle_check(grid, PEL__HANDLE_DGRID, -1, function, "grid");
}

void *pel__dgrid_work(pel_dgrid *grid, int which, size_t bytes)
{
    const int index = which < 3 ? which : which - 1;
    void **slot = which == 3 ? &grid->message : &grid->work[index];
    size_t *have = which == 3 ? &grid->message_bytes : &grid->work_bytes[index];

    if (*have >= bytes && *slot != NULL)
        return *slot;
    pel_free(*slot);
    *slot = pel_calloc(bytes ? bytes : 1, 1);
    *have = *slot ? bytes : 0;
    return *slot;
}

/* ------------------------------------------------------------ decomposition */

/* Total area of the cut planes for process grid p (periodic axes cut p times,
 * others p-1 times), each plane the product of the other axes' extents. */
static double halo_surface(int ndim, const size_t *dims, const int *p, const pel_boundary *faces)
{
    double total = 0.0;
    for (int a = 0; a < ndim; a++) {
        double area = 1.0;
        int cuts;
        if (p[a] == 1)
            continue;
        for (int b = 0; b < ndim; b++)
            if (b != a)
                area *= (double)dims[b];
        cuts = faces[2 * a].kind == PEL_BOUNDARY_PERIODIC ? p[a] : p[a] - 1;
        total += area * cuts;
    }
    return total;
}

/* Searches every factorisation of size into ndim factors that respects the
 * caller's fixed entries and p[a] <= dims[a]; the smallest halo surface
 * wins, ties to the larger factor on the slower axis. Returns 0 if none. */
static int choose_process_grid(int size, int ndim, const size_t *dims, const int *fixed, const pel_boundary *faces,
                               int *best)
{
    int p[3] = {1, 1, 1}, found = 0;
    double best_cost = 0.0;

    for (p[0] = 1; p[0] <= size; p[0]++) {
        if (size % p[0] != 0)
            continue;
        for (p[1] = 1; p[1] <= (ndim > 1 ? size / p[0] : 1); p[1]++) {
            int rest = size / p[0];
            if (rest % p[1] != 0)
                continue;
            p[2] = ndim > 2 ? rest / p[1] : 1;
            if (p[0] * p[1] * p[2] != size)
                continue;
            int ok = 1;
            for (int a = 0; a < ndim; a++)
                if ((fixed && fixed[a] > 0 && fixed[a] != p[a]) || (size_t)p[a] > dims[a])
                    ok = 0;
            if (!ok)
                continue;
            double cost = halo_surface(ndim, dims, p, faces);
            /* Enumeration runs from the smallest p[0] up, so a tie goes to
             * the later (slower-axis-heavier) candidate with <=. */
            if (!found || cost <= best_cost) {
                found = 1;
                best_cost = cost;
                memcpy(best, p, sizeof p);
            }
        }
    }
    return found;
}

/* Local validation of pel_dgrid_create's arguments. */
static pel_status check_create(MPI_Comm comm, pel_precision precision, int ndim, const size_t *dims,
                               const int *process_dims, const pel_boundary *faces, int size, int *pdims)
{
    const char *fn = "pel_dgrid_create";
    size_t total = 1;

    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "precision=%d is neither PEL_FLOAT64 nor PEL_FLOAT32",
                         (int)precision);
    if (ndim < 1 || ndim > 3)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "ndim=%d is not 1, 2 or 3", ndim);
    if (dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "dims must not be NULL");
    if (faces == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "faces must not be NULL");
    for (int a = 0; a < ndim; a++) {
        if (dims[a] == 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "dims[%d]=0: every axis needs at least one point", a);
        if (!pel__mul_size(total, dims[a], &total) || total > (size_t)1 << 53)
            return pel__fail(PEL_ERROR_OVERFLOW, fn, "the grid's point count overflows at dims[%d]=%zu", a, dims[a]);
    }
    for (int f = 0; f < 2 * ndim; f++) {
        pel_boundary_kind k = faces[f].kind;
        if (k != PEL_BOUNDARY_DIRICHLET && k != PEL_BOUNDARY_PERIODIC && k != PEL_BOUNDARY_NEUMANN)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "faces[%d].kind=%d is not a pel_boundary_kind", f, (int)k);
    }
    for (int a = 0; a < ndim; a++)
        if ((faces[2 * a].kind == PEL_BOUNDARY_PERIODIC) != (faces[2 * a + 1].kind == PEL_BOUNDARY_PERIODIC))
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                             "faces[%d] and faces[%d]: periodic must be set on both faces of axis %d", 2 * a,
                             2 * a + 1, a);
    if (process_dims) {
        long long product = 1;
        int free_axes = 0;
        for (int a = 0; a < ndim; a++) {
            if (process_dims[a] < 0)
                return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "process_dims[%d]=%d is negative", a,
                                 process_dims[a]);
            if (process_dims[a] == 0)
                free_axes++;
            else {
                product *= process_dims[a];
                if ((size_t)process_dims[a] > dims[a])
                    return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                                     "process_dims[%d]=%d is more ranks than dims[%d]=%zu points", a,
                                     process_dims[a], a, dims[a]);
            }
        }
        if (product > size || (free_axes == 0 && product != size) || size % product != 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                             "process_dims give %lld ranks, which does not make up the communicator's %d", product,
                             size);
    }
    if (!choose_process_grid(size, ndim, dims, process_dims, faces, pdims))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "%d ranks cannot be laid out over a grid of %zu points without an empty rank", size, total);
    return PEL_OK;
}

pel_status pel_dgrid_create(MPI_Comm comm, pel_precision precision, int ndim, const size_t *dims,
                            const int *process_dims, const pel_boundary *faces, pel_dgrid **grid)
{
    const char *fn = "pel_dgrid_create";
    int size = 0, rank = 0, pdims[3] = {1, 1, 1};
    pel__mpi_same same[16];
    int nsame = 0;
    pel_dgrid *g = NULL;
    pel_status status;

    if (grid != NULL)
        *grid = NULL;
    if ((status = pel__mpi_ready(fn)) != PEL_OK)
        return status;
    if (comm == MPI_COMM_NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "comm is MPI_COMM_NULL");
    if (MPI_Comm_size(comm, &size) != MPI_SUCCESS || MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Comm_size/MPI_Comm_rank failed on comm");

    if (grid == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "grid must not be NULL");
    else
        status = check_create(comm, precision, ndim, dims, process_dims, faces, size, pdims);
    if (status == PEL_OK) {
        g = calloc(1, sizeof *g);
        if (g == NULL)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the grid object");
    }
    if (status == PEL_OK) {
        same[nsame++] = (pel__mpi_same){"precision", (double)precision};
        same[nsame++] = (pel__mpi_same){"ndim", (double)ndim};
        for (int a = 0; a < ndim; a++) {
            same[nsame++] = (pel__mpi_same){"dims", (double)dims[a]};
            same[nsame++] = (pel__mpi_same){"process grid", (double)pdims[a]};
        }
        for (int f = 0; f < 2 * ndim && nsame < 16; f++)
            same[nsame++] = (pel__mpi_same){"faces[].kind", (double)faces[f].kind};
    }
    status = pel__mpi_agree(comm, fn, status, same, status == PEL_OK ? nsame : 0);
    if (status != PEL_OK) {
        free(g);
        return status;
    }
    /* The Dirichlet values must agree too (not in the 16 scalars above). */
    {
        double mine[6] = {0}, lo[6], hi[6];
        for (int f = 0; f < 2 * ndim; f++)
            mine[f] = faces[f].kind == PEL_BOUNDARY_DIRICHLET ? faces[f].value : 0.0;
        if (MPI_Allreduce(mine, lo, 2 * ndim, MPI_DOUBLE, MPI_MIN, comm) != MPI_SUCCESS ||
            MPI_Allreduce(mine, hi, 2 * ndim, MPI_DOUBLE, MPI_MAX, comm) != MPI_SUCCESS) {
            free(g);
            return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Allreduce of the face values failed");
        }
        for (int f = 0; f < 2 * ndim; f++)
            if (memcmp(&lo[f], &hi[f], sizeof(double)) != 0 && !(isnan(lo[f]) && isnan(hi[f]))) {
                free(g);
                return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                                 "faces[%d].value must be equal on every rank (it ranges from %g to %g)", f, lo[f],
                                 hi[f]);
            }
    }

    g->rank = rank;
    g->size = size;
    g->precision = precision;
    g->elem = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    g->ndim = ndim;
    g->owned = 1;
    for (int a = 0; a < 3; a++) {
        g->dims[a] = a < ndim ? dims[a] : 1;
        g->pdims[a] = a < ndim ? pdims[a] : 1;
    }
    memcpy(g->faces, faces, 2 * (size_t)ndim * sizeof *faces);
    for (int a = ndim - 1, r = rank; a >= 0; a--) {
        g->coords[a] = r % g->pdims[a];
        r /= g->pdims[a];
    }
    for (int a = 0; a < 3; a++) {
        pel__dgrid_split(g->dims[a], g->pdims[a], g->coords[a], &g->offset[a], &g->extent[a]);
        g->owned *= g->extent[a];
    }
    /* Every rank reaches this point (arguments agreed); the steps below can
     * only fail for lack of memory or an MPI failure, agreed on again. */
    status = PEL_OK;
    if (MPI_Comm_dup(comm, &g->comm) != MPI_SUCCESS) {
        g->comm = MPI_COMM_NULL;
        status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Comm_dup failed");
    } else if (pel__handle_register(&g->handle, PEL__HANDLE_DGRID, (int)precision, fn) != PEL_OK) {
        status = PEL_ERROR_OUT_OF_MEMORY;
    }
    if (g->comm != MPI_COMM_NULL)
        status = pel__mpi_agree(g->comm, fn, status, NULL, 0);
    if (status == PEL_OK)
        status = pel__dgrid_agreement_attach(g, fn);
    if (status != PEL_OK) {
        if (pel__handle_check(g, PEL__HANDLE_DGRID, -1, fn, "grid") == PEL_OK)
            pel__handle_unregister(g, PEL__HANDLE_DGRID, fn);
        if (g->comm != MPI_COMM_NULL)
            MPI_Comm_free(&g->comm);
        free(g);
        return status;
    }
    *grid = g;
    return PEL_OK;
}

void pel_dgrid_destroy(pel_dgrid *grid)
{
    if (grid == NULL || !pel__handle_unregister(grid, PEL__HANDLE_DGRID, "pel_dgrid_destroy"))
        return;
    pel__dgrid_agreement_detach(grid);
    for (size_t i = 0; i < sizeof grid->work / sizeof grid->work[0]; i++)
        pel_free(grid->work[i]);
    pel_free(grid->message);
    {
        int finalized = 1;
        /* After MPI_Finalize the communicator is gone with MPI itself. */
        if (MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized)
            MPI_Comm_free(&grid->comm);
    }
    free(grid);
}

pel_status pel_dgrid_info(const pel_dgrid *grid, int *ndim, size_t *dims, int *process_dims, int *coords,
                          size_t *offset, size_t *extent)
{
    pel_status status = pel__dgrid_check(grid, __func__);
    if (status != PEL_OK)
        return status;
    if (ndim)
        *ndim = grid->ndim;
    for (int a = 0; a < grid->ndim; a++) {
        if (dims)
            dims[a] = grid->dims[a];
        if (process_dims)
            process_dims[a] = grid->pdims[a];
        if (coords)
            coords[a] = grid->coords[a];
        if (offset)
            offset[a] = grid->offset[a];
        if (extent)
            extent[a] = grid->extent[a];
    }
    return PEL_OK;
}

/* The box of any rank, in 3-D form (trailing axes of extent 1). */
static void rank_box3(const pel_dgrid *grid, int rank, size_t *offset, size_t *extent)
{
    int coords[3];
    for (int a = 2, r = rank; a >= 0; a--) {
        coords[a] = r % grid->pdims[a];
        r /= grid->pdims[a];
    }
    for (int a = 0; a < 3; a++)
        pel__dgrid_split(grid->dims[a], grid->pdims[a], coords[a], &offset[a], &extent[a]);
}

pel_status pel_dgrid_rank_box(const pel_dgrid *grid, int rank, size_t *offset, size_t *extent)
{
    size_t o[3], e[3];
    pel_status status = pel__dgrid_check(grid, __func__);
    if (status != PEL_OK)
        return status;
    if (rank < 0 || rank >= grid->size)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "rank=%d is not in 0..%d", rank, grid->size - 1);
    PEL_CHECK_NOT_NULL(offset);
    PEL_CHECK_NOT_NULL(extent);
    rank_box3(grid, rank, o, e);
    for (int a = 0; a < grid->ndim; a++) {
        offset[a] = o[a];
        extent[a] = e[a];
    }
    return PEL_OK;
}

pel_status pel_dgrid_local_alloc(const pel_dgrid *grid, void **local)
{
    pel_status status;
    if (local != NULL)
        *local = NULL;
    if ((status = pel__dgrid_check(grid, __func__)) != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(local);
    *local = pel_calloc(grid->owned ? grid->owned : 1, grid->elem);
    if (*local == NULL)
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "no memory for a local array of %zu points", grid->owned);
    return PEL_OK;
}

/* ------------------------------------------------------------ scatter, gather */

/* Messages go as bytes in chunks below INT_MAX. */
enum { CHUNK = 1 << 30 };

static int send_bytes(const void *buf, size_t bytes, int to, MPI_Comm comm)
{
    for (size_t done = 0; done < bytes; done += CHUNK) {
        size_t n = bytes - done < CHUNK ? bytes - done : CHUNK;
        if (MPI_Send((const char *)buf + done, (int)n, MPI_BYTE, to, 7, comm) != MPI_SUCCESS)
            return 0;
    }
    return 1;
}

static int recv_bytes(void *buf, size_t bytes, int from, MPI_Comm comm)
{
    for (size_t done = 0; done < bytes; done += CHUNK) {
        size_t n = bytes - done < CHUNK ? bytes - done : CHUNK;
        if (MPI_Recv((char *)buf + done, (int)n, MPI_BYTE, from, 7, comm, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return 0;
    }
    return 1;
}

/* Validation and agreement shared by scatter and gather. */
static pel_status check_transfer(const pel_dgrid *grid, const char *fn, int root, const void *global,
                                 const void *local)
{
    MPI_Comm comm;
    pel_status status;
    int rank = -1;

    if ((status = pel__mpi_ready(fn)) != PEL_OK)
        return status;
    comm = pel__dgrid_agreement_comm(grid);
    status = pel__handle_check(grid, PEL__HANDLE_DGRID, -1, fn, "grid");
    if (status == PEL_OK) {
        rank = grid->rank;
        if (root < 0 || root >= grid->size)
            status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "root=%d is not a rank of the grid (0..%d)", root,
                               grid->size - 1);
        else if (local == NULL)
            status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "local must not be NULL");
        else if (rank == root && global == NULL)
            status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "global must not be NULL on the root (rank %d)", root);
        else if (rank == root) {
            uintptr_t g0 = (uintptr_t)global, g1 = g0 + grid->dims[0] * grid->dims[1] * grid->dims[2] * grid->elem;
            uintptr_t l0 = (uintptr_t)local, l1 = l0 + grid->owned * grid->elem;
            if (g0 < l1 && l0 < g1)
                status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "global and local overlap");
        }
    }
    if (comm == MPI_COMM_NULL)
        return status;
    {
        pel__mpi_same same = {"root", (double)root};
        return pel__mpi_agree(comm, fn, status, &same, status == PEL_OK ? 1 : 0);
    }
}

static pel_status transfer(const pel_dgrid *grid, const char *fn, int root, void *global, void *local, int scatter)
{
    pel_status status = check_transfer(grid, fn, root, global, local);
    size_t zero[3] = {0, 0, 0};
    void *pack = NULL;
    int ok = 1;

    if (status != PEL_OK)
        return status;
    if (grid->rank == root) {
        size_t largest = 0, o[3], e[3];
        for (int r = 0; r < grid->size; r++) {
            rank_box3(grid, r, o, e);
            if (e[0] * e[1] * e[2] > largest)
                largest = e[0] * e[1] * e[2];
        }
        pack = pel_malloc(largest * grid->elem + 1);
        if (pack == NULL)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory to pack a box of %zu points on the root",
                               largest);
    }
    status = pel__mpi_agree(grid->comm, fn, status, NULL, 0);
    if (status != PEL_OK) {
        pel_free(pack);
        return status;
    }
    if (grid->rank == root) {
        for (int r = 0; r < grid->size && ok; r++) {
            size_t o[3], e[3];
            rank_box3(grid, r, o, e);
            if (scatter) {
                pel__box_copy(grid->elem, global, grid->dims, o, r == root ? local : pack, e, zero, e);
                if (r != root)
                    ok = send_bytes(pack, e[0] * e[1] * e[2] * grid->elem, r, grid->comm);
            } else {
                if (r != root)
                    ok = recv_bytes(pack, e[0] * e[1] * e[2] * grid->elem, r, grid->comm);
                if (ok)
                    pel__box_copy(grid->elem, r == root ? local : pack, e, zero, global, grid->dims, o, e);
            }
        }
    } else {
        ok = scatter ? recv_bytes(local, grid->owned * grid->elem, root, grid->comm)
                     : send_bytes(local, grid->owned * grid->elem, root, grid->comm);
    }
    pel_free(pack);
    if (!ok)
        return pel__fail(PEL_ERROR_BACKEND, fn, "an MPI message of the %s failed", scatter ? "scatter" : "gather");
    return PEL_OK;
}

pel_status pel_dgrid_scatter(const pel_dgrid *grid, int root, const void *global, void *local)
{
    return transfer(grid, __func__, root, (void *)global, local, 1);
}

pel_status pel_dgrid_gather(const pel_dgrid *grid, int root, const void *local, void *global)
{
    return transfer(grid, __func__, root, global, (void *)local, 0);
}
