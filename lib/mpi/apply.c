/* The distributed stencil apply with deep halos.
 *
 * Each rank keeps its box grown by a halo of width W = radius*T on every
 * internal face (a face shared with another rank, periodic wrap-around
 * included). Every T steps the halo is refreshed from the neighbours, axis by
 * axis: the messages of axis a carry the halo layers already received along
 * the axes before it, so edge and corner regions (which box stencils, and
 * star stencils over several steps, depend on) arrive without diagonal
 * messages. Then pel_stencil_apply(), the single-node engine, runs T steps on
 * the grown box with the real boundary on global faces and a Dirichlet stand-in
 * on internal ones. The stand-in is wrong, but a wrong value travels at most
 * radius points per step, so after t <= T steps it has reached at most
 * radius*t points into the halo and the owned box is exact: bit for bit the
 * values of one process, since each point is computed by the same
 * expression from the same inputs. On a Neumann face the mirrored points lie
 * within radius of the face, inside the grown box; a wrong value reflected
 * there has travelled farther than one that went straight, so it is never
 * first to arrive. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "stencil/engine.h"
#include "mpi/mpi_internal.h"

#define FN "pel_dgrid_stencil_apply"

enum { MAX_AUTO_HALO_STEPS = 64 };

/* The grown box of one rank for halo width W. */
typedef struct geometry {
    size_t W;
    size_t lo[3], hi[3];  /* ghost layers below and above the owned box */
    size_t ext[3];        /* grown box dims (3-D form) */
    size_t points;        /* ext[0]*ext[1]*ext[2] */
    pel_boundary faces[6];
    int lower[3], upper[3]; /* neighbour ranks across internal faces, or -1 */
} geometry;

static int rank_of(const pel_dgrid *g, const int *coords)
{
    int r = 0;
    for (int a = 0; a < 3; a++)
        r = r * g->pdims[a] + coords[a];
    return r;
}

static int periodic(const pel_dgrid *g, int a)
{
    return a < g->ndim && g->faces[2 * a].kind == PEL_BOUNDARY_PERIODIC;
}

static void make_geometry(const pel_dgrid *g, size_t W, geometry *geo)
{
    geo->W = W;
    geo->points = 1;
    for (int a = 0; a < 3; a++) {
        int p = g->pdims[a], c = g->coords[a];
        int has_lower = p > 1 && (c > 0 || periodic(g, a));
        int has_upper = p > 1 && (c < p - 1 || periodic(g, a));
        int n[3];
        geo->lo[a] = has_lower ? W : 0;
        geo->hi[a] = has_upper ? W : 0;
        geo->ext[a] = g->extent[a] + geo->lo[a] + geo->hi[a];
        geo->points *= geo->ext[a];
        memcpy(n, g->coords, sizeof n);
        n[a] = (c - 1 + p) % p;
        geo->lower[a] = has_lower ? rank_of(g, n) : -1;
        n[a] = (c + 1) % p;
        geo->upper[a] = has_upper ? rank_of(g, n) : -1;
        if (a < g->ndim) {
            pel_boundary stand_in = {PEL_BOUNDARY_DIRICHLET, 0.0};
            geo->faces[2 * a] = p > 1 ? (has_lower ? stand_in : g->faces[2 * a]) : g->faces[2 * a];
            geo->faces[2 * a + 1] = p > 1 ? (has_upper ? stand_in : g->faces[2 * a + 1]) : g->faces[2 * a + 1];
        }
    }
}

/* The slab of the grown box that axis a's messages cover in the other axes:
 * the full grown range along axes already exchanged, the owned range along
 * the others. start/count are set for all three axes; the caller sets axis a. */
static void slab(const pel_dgrid *g, const geometry *geo, int a, size_t *start, size_t *count)
{
    for (int b = 0; b < 3; b++) {
        if (b < a) {
            start[b] = 0;
            count[b] = geo->ext[b];
        } else {
            start[b] = geo->lo[b];
            count[b] = g->extent[b];
        }
    }
}

static size_t slab_points(const pel_dgrid *g, const geometry *geo, int a)
{
    size_t start[3], count[3];
    slab(g, geo, a, start, count);
    count[a] = geo->W;
    return count[0] * count[1] * count[2];
}

/* Persistent requests of one exchange: per cut axis, receive from below and
 * above, send to below and above (4 message buffers in the grid's message
 * area). Tag 2a+0 travels downwards, 2a+1 upwards. Axis a's requests are
 * req[first[a]] .. req[first[a] + count[a] - 1], receives at even offsets
 * and sends at odd ones. */
typedef struct exchange {
    int nreq;
    MPI_Request req[12];
    int first[3], count[3];
    unsigned char *buf[3][4]; /* recv lower, recv upper, send lower, send upper */
    size_t points[3];
} exchange;

static void exchange_free(exchange *x)
{
    for (int i = 0; i < x->nreq; i++)
        if (x->req[i] != MPI_REQUEST_NULL)
            MPI_Request_free(&x->req[i]);
    x->nreq = 0;
}

static pel_status exchange_init(pel_dgrid *g, const geometry *geo, exchange *x)
{
    MPI_Datatype type = g->precision == PEL_FLOAT32 ? MPI_FLOAT : MPI_DOUBLE;
    size_t total = 0, offset = 0;
    unsigned char *area;
    int ok = 1;

    memset(x, 0, sizeof *x);
    for (int a = 0; a < g->ndim; a++)
        if (g->pdims[a] > 1) {
            x->points[a] = slab_points(g, geo, a);
            if (x->points[a] > INT_MAX)
                return pel__fail(PEL_ERROR_UNSUPPORTED, FN,
                                 "a halo message of %zu points along axis %d exceeds MPI's int count", x->points[a], a);
            total += 4 * x->points[a] * g->elem;
        }
    area = pel__dgrid_work(g, 3, total);
    if (area == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, FN, "no memory for %zu bytes of halo messages", total);
    for (int a = 0; a < g->ndim; a++) {
        int n = (int)x->points[a];
        x->first[a] = x->nreq;
        if (g->pdims[a] == 1)
            continue;
        for (int k = 0; k < 4; k++) {
            x->buf[a][k] = area + offset;
            offset += x->points[a] * g->elem;
        }
        if (geo->lower[a] >= 0) {
            ok &= MPI_Recv_init(x->buf[a][0], n, type, geo->lower[a], 2 * a + 1, g->comm, &x->req[x->nreq++]) ==
                  MPI_SUCCESS;
            ok &= MPI_Send_init(x->buf[a][2], n, type, geo->lower[a], 2 * a, g->comm, &x->req[x->nreq++]) ==
                  MPI_SUCCESS;
        }
        if (geo->upper[a] >= 0) {
            ok &= MPI_Recv_init(x->buf[a][1], n, type, geo->upper[a], 2 * a, g->comm, &x->req[x->nreq++]) ==
                  MPI_SUCCESS;
            ok &= MPI_Send_init(x->buf[a][3], n, type, geo->upper[a], 2 * a + 1, g->comm, &x->req[x->nreq++]) ==
                  MPI_SUCCESS;
        }
        x->count[a] = x->nreq - x->first[a];
    }
    if (!ok) {
        exchange_free(x);
        return pel__fail(PEL_ERROR_BACKEND, FN, "MPI_Send_init/MPI_Recv_init failed");
    }
    return PEL_OK;
}

/* Starts axis a's messages of the halo refresh of `data` (a grown-box
 * grid): posts the receives, packs the owned layers (grown along the axes
 * exchanged before a), starts the sends. */
static int exchange_start(const pel_dgrid *g, const geometry *geo, exchange *x, int a, const void *data)
{
    size_t zero[3] = {0, 0, 0}, start[3], count[3];
    MPI_Request *req = &x->req[x->first[a]];
    const int nreq = x->count[a];

    slab(g, geo, a, start, count);
    count[a] = geo->W;
    /* Receives first (even index of each pair), then pack and send. */
    for (int i = 0; i < nreq; i += 2)
        if (MPI_Start(&req[i]) != MPI_SUCCESS)
            return 0;
    if (geo->lower[a] >= 0) {
        start[a] = geo->lo[a];
        pel__box_copy(g->elem, data, geo->ext, start, x->buf[a][2], count, zero, count);
    }
    if (geo->upper[a] >= 0) {
        start[a] = geo->lo[a] + g->extent[a] - geo->W;
        pel__box_copy(g->elem, data, geo->ext, start, x->buf[a][3], count, zero, count);
    }
    for (int i = 1; i < nreq; i += 2)
        if (MPI_Start(&req[i]) != MPI_SUCCESS)
            return 0;
    return 1;
}

/* Waits for axis a's messages and unpacks the received layers into data. */
static int exchange_finish(const pel_dgrid *g, const geometry *geo, exchange *x, int a, void *data)
{
    size_t zero[3] = {0, 0, 0}, start[3], count[3];

    if (MPI_Waitall(x->count[a], &x->req[x->first[a]], MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        return 0;
    slab(g, geo, a, start, count);
    count[a] = geo->W;
    if (geo->lower[a] >= 0) {
        start[a] = 0;
        pel__box_copy(g->elem, x->buf[a][0], count, zero, data, geo->ext, start, count);
    }
    if (geo->upper[a] >= 0) {
        start[a] = geo->lo[a] + g->extent[a];
        pel__box_copy(g->elem, x->buf[a][1], count, zero, data, geo->ext, start, count);
    }
    return 1;
}

/* Refreshes the halo of `data`, axis after axis, from axis `from` on. */
static int exchange_run(const pel_dgrid *g, const geometry *geo, exchange *x, void *data, int from)
{
    for (int a = from; a < g->ndim; a++)
        if (g->pdims[a] > 1 && (!exchange_start(g, geo, x, a, data) || !exchange_finish(g, geo, x, a, data)))
            return 0;
    return 1;
}

/* ------------------------------------------------------------ the model */

/* Largest T such that radius*T fits in the smallest extent along every cut
 * axis (0 when even T = 1 does not fit); SIZE_MAX when no axis is cut. */
static size_t max_halo_steps(const pel_dgrid *g, int radius)
{
    size_t best = (size_t)-1;
    for (int a = 0; a < g->ndim; a++)
        if (g->pdims[a] > 1) {
            size_t smallest = g->dims[a] / (size_t)g->pdims[a];
            size_t t = smallest / (size_t)radius;
            if (t < best)
                best = t;
        }
    return best;
}

/* Median one-way time of `reps` round trips of `bytes` between ranks 0 and
 * 1 (other ranks wait at the barrier); valid on rank 0. */
static double ping_pong(MPI_Comm comm, int rank, void *buf, int bytes, int reps, double *times)
{
    MPI_Barrier(comm);
    for (int i = 0; i < reps; i++) {
        double start = MPI_Wtime();
        if (rank == 0) {
            MPI_Send(buf, bytes, MPI_BYTE, 1, 11, comm);
            MPI_Recv(buf, bytes, MPI_BYTE, 1, 11, comm, MPI_STATUS_IGNORE);
        } else if (rank == 1) {
            MPI_Recv(buf, bytes, MPI_BYTE, 0, 11, comm, MPI_STATUS_IGNORE);
            MPI_Send(buf, bytes, MPI_BYTE, 0, 11, comm);
        }
        times[i] = (MPI_Wtime() - start) / 2.0;
    }
    for (int i = 1; i < reps; i++) /* insertion sort: reps is small */
        for (int j = i; j > 0 && times[j] < times[j - 1]; j--) {
            double t = times[j];
            times[j] = times[j - 1];
            times[j - 1] = t;
        }
    return times[reps / 2];
}

/* Best of three runs of `steps` steps, per point and step. */
static pel_status sweep_rate(const pel_stencil *star, const size_t *dims, const pel_boundary *faces, double *grid,
                             double *work, size_t steps, double *rate)
{
    double best = HUGE_VAL;
    for (int rep = 0; rep < 3; rep++) {
        void *out;
        double t0 = pel_wtime();
        pel_status status = pel_stencil_apply(star, dims, faces, grid, work, NULL, steps, NULL, &out);
        if (status != PEL_OK)
            return status;
        t0 = pel_wtime() - t0;
        if (t0 < best)
            best = t0;
    }
    *rate = best / ((double)steps * (double)(dims[0] * dims[1] * dims[2]));
    return PEL_OK;
}

/* The local sweep rates, measured once per process (they do not depend on
 * the communicator; each grid still reduces them over its ranks). Grids are
 * used from the main thread only (MPI_THREAD_FUNNELED), so no lock. */
static int sweep_cached, comm_cached;
static double sweep_single, sweep_blocked, cached_latency, cached_bandwidth;
static MPI_Group cached_group;

/* Measures the model once per grid: collective. */
static pel_status ensure_model(pel_dgrid *g, const char *fn)
{
    enum { SWEEP = 96, BIG = 1 << 20, REPS = 21 };
    pel_stencil *star = NULL;
    size_t dims[3] = {SWEEP, SWEEP, SWEEP}, n = (size_t)SWEEP * SWEEP * SWEEP;
    pel_boundary faces[6];
    double *grid = NULL, *work = NULL, local[4] = {0, 0, 0, 0}, global[4], times[REPS];
    unsigned char *buf = NULL;
    pel_status status = PEL_OK;

    if (g->have_model)
        return PEL_OK;
    for (int f = 0; f < 6; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_DIRICHLET, 0.0};
    buf = pel_calloc(BIG, 1);
    grid = sweep_cached ? NULL : pel_calloc(n, sizeof(double));
    work = sweep_cached ? NULL : pel_calloc(n, sizeof(double));
    if (buf == NULL || (!sweep_cached && (grid == NULL || work == NULL)))
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory to measure the halo model");
    if (status == PEL_OK && sweep_cached) {
        local[2] = sweep_single;
        local[3] = sweep_blocked;
    } else if (status == PEL_OK) {
        status = pel_stencil_create_laplacian(PEL_FLOAT64, 3, 7, 1.0, &star);
        for (size_t i = 0; status == PEL_OK && i < n; i++)
            grid[i] = (double)(i % 97) * 0.01;
        if (status == PEL_OK)
            status = sweep_rate(star, dims, faces, grid, work, 1, &local[2]);
        if (status == PEL_OK)
            status = sweep_rate(star, dims, faces, grid, work, 8, &local[3]);
        if (status == PEL_OK && local[3] > local[2])
            local[3] = local[2]; /* blocking never costs more than single sweeps */
        if (status == PEL_OK) {
            sweep_single = local[2];
            sweep_blocked = local[3];
            sweep_cached = 1;
        }
    }
    pel_stencil_destroy(star);
    pel_free(grid);
    pel_free(work);
    status = pel__mpi_agree(g->comm, fn, status, NULL, 0);
    /* The message part is cached per process for one group of ranks (the
     * last one measured): a grid over the same ranks reuses it when every
     * rank still holds it (one MPI_MIN reduction decides, so all agree). */
    if (status == PEL_OK && g->size > 1) {
        MPI_Group group;
        int same = MPI_UNEQUAL, all = 0;
        MPI_Comm_group(g->comm, &group);
        if (comm_cached)
            MPI_Group_compare(group, cached_group, &same);
        same = same == MPI_IDENT;
        MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, g->comm);
        if (all) {
            local[0] = cached_latency;
            local[1] = cached_bandwidth;
            MPI_Group_free(&group);
        } else {
            if (comm_cached)
                MPI_Group_free(&cached_group);
            cached_group = group;
            comm_cached = 1;
        }
        if (all)
            goto reduce;
    }
    if (status == PEL_OK && g->size > 1) {
        ping_pong(g->comm, g->rank, buf, 8, 5, times); /* warm-up */
        double small = ping_pong(g->comm, g->rank, buf, 8, REPS, times);
        double big = ping_pong(g->comm, g->rank, buf, BIG, 9, times);
        /* What a message round costs once every rank takes part: ranks
         * that arrive late (other work, a shared or oversubscribed node)
         * make it far dearer than a ping-pong between two idle ranks. The
         * median 8-byte allreduce over the communicator, per tree level,
         * is taken as the latency when it is the larger. */
        double round = 0.0, levels = 0.0;
        for (int i = 0; i < REPS; i++) {
            int one = 1, sum;
            double t = MPI_Wtime();
            MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, g->comm);
            times[i] = MPI_Wtime() - t;
        }
        for (int i = 1; i < REPS; i++)
            for (int j = i; j > 0 && times[j] < times[j - 1]; j--) {
                double t = times[j];
                times[j] = times[j - 1];
                times[j - 1] = t;
            }
        for (int p = 1; p < g->size; p *= 2)
            levels += 1.0;
        round = times[REPS / 2] / (2.0 * levels);
        if (g->rank == 0) { /* rank 0's ping-pong is the one reported */
            local[0] = small;
            local[1] = big > small ? (double)BIG / (big - small) : 1e12;
        }
        if (round > local[0])
            local[0] = round;
        cached_latency = local[0];
        cached_bandwidth = local[1];
    }
reduce:
    pel_free(buf);
    if (status != PEL_OK)
        return status;
    if (MPI_Allreduce(local, global, 4, MPI_DOUBLE, MPI_MAX, g->comm) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Allreduce of the model failed");
    g->model.latency_seconds = global[0];
    g->model.bandwidth_bytes = g->size > 1 ? global[1] : 0.0;
    g->model.seconds_per_point = global[2];
    g->model.seconds_per_point_blocked = global[3];
    g->have_model = 1;
    return PEL_OK;
}

/* The modelled time per step with halo depth T on the largest box. */
static double model_step_time(const pel_dgrid *g, int radius, size_t npoints, size_t T, int compute_only)
{
    const pel_dgrid_model *m = &g->model;
    size_t W = (size_t)radius * T, e[3];
    double volume = 1.0, bytes = 0.0, messages = 0.0, cross, rate;
    for (int a = 0; a < 3; a++) {
        e[a] = (g->dims[a] + (size_t)g->pdims[a] - 1) / (size_t)g->pdims[a];
        volume *= (double)(e[a] + (g->pdims[a] > 1 ? 2 * W : 0));
    }
    for (int a = 0; a < g->ndim; a++) {
        if (g->pdims[a] == 1)
            continue;
        cross = (double)W;
        for (int b = 0; b < 3; b++)
            if (b != a)
                cross *= (double)(e[b] + (b < a && g->pdims[b] > 1 ? 2 * W : 0));
        bytes += 2.0 * cross * (double)g->elem;
        messages += 1.0; /* the two directions of an axis fly together */
    }
    double comm = messages * m->latency_seconds + (m->bandwidth_bytes > 0 ? bytes / m->bandwidth_bytes : 0.0);
    /* Temporal blocking spreads one sweep's memory traffic over T steps. */
    rate = m->seconds_per_point_blocked + (m->seconds_per_point - m->seconds_per_point_blocked) / (double)T;
    double compute = volume * rate * ((double)npoints / 7.0) * ((double)g->elem / 8.0);
    if (compute_only)
        return compute;
    return comm / (double)T + compute;
}

/* Chooses T (agreed inputs only, so every rank gets the same). */
static pel_status choose_halo_steps(pel_dgrid *g, const pel_stencil *stencil, size_t nsteps, size_t halo_steps,
                                    size_t *chosen)
{
    int radius;
    size_t npoints, cap, best = 1;
    double best_time = HUGE_VAL;

    pel_stencil_info(stencil, NULL, NULL, &radius, &npoints);
    cap = max_halo_steps(g, radius);
    if (cap == (size_t)-1) { /* nothing to exchange: one block */
        *chosen = nsteps > 0 ? nsteps : 1;
        return PEL_OK;
    }
    if (nsteps > 0 && cap > nsteps)
        cap = nsteps;
    if (halo_steps > 0) {
        *chosen = halo_steps < cap ? halo_steps : cap;
        return PEL_OK;
    }
    pel_status status = ensure_model(g, FN);
    if (status != PEL_OK)
        return status;
    if (cap > MAX_AUTO_HALO_STEPS)
        cap = MAX_AUTO_HALO_STEPS;
    for (size_t T = 1; T <= cap; T++) {
        double t = model_step_time(g, radius, npoints, T, 0);
        if (t < best_time) {
            best_time = t;
            best = T;
        }
    }
    *chosen = best;
    return PEL_OK;
}

/* ------------------------------------------------------------ validation */

static pel_status check_apply(pel_dgrid *g, const char *fn, const pel_stencil *stencil, const void *local,
                              const void *rhs, size_t nsteps, size_t halo_steps, int check_data)
{
    pel_status status;
    pel_precision precision;
    int ndim, radius;
    size_t npoints;
    MPI_Comm comm = pel__dgrid_agreement_comm(g);
    pel__mpi_same same[3];

    status = pel__handle_check(g, PEL__HANDLE_DGRID, -1, fn, "grid");
    /* pel_stencil_info() validates the stencil handle (the stencil layer's
     * own check, whatever form it takes). */
    if (status == PEL_OK && stencil == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "stencil must not be NULL");
    if (status == PEL_OK && pel_stencil_info(stencil, &precision, &ndim, &radius, &npoints) != PEL_OK)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "stencil: %s", pel_last_error());
    if (status == PEL_OK && precision != g->precision)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "stencil precision %d is not the grid's %d",
                           (int)precision, (int)g->precision);
    if (status == PEL_OK && ndim != g->ndim)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "stencil ndim=%d is not the grid's %d", ndim, g->ndim);
    if (status == PEL_OK && check_data && local == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "local must not be NULL");
    if (status == PEL_OK && check_data && rhs != NULL && rhs == local)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "rhs must not be the same buffer as local");
    if (status == PEL_OK) {
        for (int a = 0; a < g->ndim && status == PEL_OK; a++) {
            if (g->pdims[a] > 1 && g->dims[a] / (size_t)g->pdims[a] < (size_t)radius)
                status = pel__fail(PEL_ERROR_UNSUPPORTED, fn,
                                   "stencil radius=%d exceeds the %zu points that some rank owns along cut axis %d "
                                   "(dims[%d]=%zu over %d ranks); use fewer ranks along that axis",
                                   radius, g->dims[a] / (size_t)g->pdims[a], a, a, g->dims[a], g->pdims[a]);
        }
    }
    if (status == PEL_OK && check_data) {
        /* pel_stencil_apply's own checks on the grown box (rhs presence,
         * Neumann length, ...), with no data touched (nsteps = 0). */
        /* pel_stencil_apply's own checks of the buffers (rhs missing,
         * unexpected or overlapping) on the owned box with no data touched
         * (nsteps = 0); Neumann faces stand in as Dirichlet there, since
         * their length rule applies to the grown box, checked below. */
        geometry geo;
        pel_boundary faces[6];
        void *out;
        make_geometry(g, (size_t)radius, &geo);
        memcpy(faces, geo.faces, sizeof faces);
        for (int f = 0; f < 2 * g->ndim; f++)
            if (faces[f].kind == PEL_BOUNDARY_NEUMANN)
                faces[f].kind = PEL_BOUNDARY_DIRICHLET;
        status = pel_stencil_apply(stencil, g->extent, faces, (void *)local, NULL, rhs, 0, NULL, &out);
        if (status != PEL_OK)
            status = pel__fail(status, fn, "%s", pel_last_error());
        for (int a = 0; a < g->ndim && status == PEL_OK; a++)
            if ((geo.faces[2 * a].kind == PEL_BOUNDARY_NEUMANN || geo.faces[2 * a + 1].kind == PEL_BOUNDARY_NEUMANN) &&
                geo.ext[a] < (size_t)radius)
                status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                                   "Neumann axis %d: this rank's box with its halo has %zu points, fewer than "
                                   "radius=%d",
                                   a, geo.ext[a], radius);
    }
    if (comm == MPI_COMM_NULL)
        return status;
    same[0] = (pel__mpi_same){"nsteps", (double)nsteps};
    same[1] = (pel__mpi_same){"halo_steps", (double)halo_steps};
    same[2] = (pel__mpi_same){"the stencil's radius", status == PEL_OK ? (double)radius : 0.0};
    return pel__mpi_agree(comm, fn, status, same, 3);
}

/* ------------------------------------------------------------ the apply */

/* Whether applies overlap the halo messages with the interior update: yes
 * unless PEL_MPI_OVERLAP=0 (the comparison the benchmark and the tests make;
 * both paths send the same messages in the same order, so ranks that
 * disagree still match, and the bits are the same either way). */
static int overlap_wanted(const pel_dgrid *g)
{
    const char *env = getenv("PEL_MPI_OVERLAP");
    int cut = 0;
    for (int a = 0; a < g->ndim; a++)
        cut += g->pdims[a] > 1;
    return cut > 0 && !(env != NULL && strcmp(env, "0") == 0);
}

/* One block of `steps` steps from `current` (owned box exact, halo stale);
 * *result names the buffer (current or other) whose owned box then holds
 * the exact values.
 *
 * Overlapped: the owned box's points farther than radius*steps from every
 * internal face (the interior) depend on owned values only, for all the
 * block's steps: the value of a point after t steps depends on the points
 * within radius*t of it, and within radius*steps the interior's reach stays
 * inside the owned box (a global face only reflects it back). So the first
 * cut axis's messages are started, the interior is updated for all steps
 * (pel__stencil_apply_box: only the interior's own cone is computed, from
 * the owned values, none of the halo), then those messages are waited for
 * and the remaining axes exchanged (their slabs carry the layers the first
 * axis brought, so they cannot start earlier), and last the shell (the
 * owned box less the interior) is updated from the refreshed grown box.
 * Every point is computed by the engine from the same inputs as in the
 * whole-box apply, so the bits are those of the copy path. Only the first
 * cut axis's messages overlap: with one cut axis (the usual split over a
 * few ranks) that is the whole exchange. A block whose interior is empty
 * (a box thinner than 2*radius*steps along a cut axis) runs unoverlapped. */
static pel_status run_block(pel_dgrid *g, const char *fn, const pel_stencil *stencil, const geometry *geo,
                            exchange *x, int radius, void *current, void *other, const void *rhs, size_t steps,
                            const pel_stencil_blocking *blocking, int overlap, void *const *scratch,
                            void **result)
{
    size_t olo[3], ohi[3], ilo[3], ihi[3];
    int first = -1;
    pel_status status;
    double t;

    for (int a = 0; a < 3; a++) {
        size_t shrink = (size_t)radius * steps;
        olo[a] = geo->lo[a];
        ohi[a] = geo->lo[a] + g->extent[a];
        ilo[a] = olo[a] + (geo->lower[a] >= 0 ? shrink : 0);
        ihi[a] = ohi[a];
        if (geo->upper[a] >= 0)
            ihi[a] = ohi[a] > shrink ? ohi[a] - shrink : 0;
        if (ihi[a] <= ilo[a])
            overlap = 0;
        if (first < 0 && a < g->ndim && g->pdims[a] > 1)
            first = a;
    }
    g->stats.exchanges++;
    if (!overlap) {
        t = pel_wtime();
        if (!exchange_run(g, geo, x, current, 0))
            return pel__fail(PEL_ERROR_BACKEND, fn, "the halo exchange failed");
        g->stats.exchange_seconds += pel_wtime() - t;
        status = pel_stencil_apply(stencil, geo->ext, geo->faces, current, other, rhs, steps, blocking, result);
        if (status != PEL_OK)
            return pel__fail(status, fn, "%s", pel_last_error());
        return PEL_OK;
    }
    t = pel_wtime();
    if (!exchange_start(g, geo, x, first, current))
        return pel__fail(PEL_ERROR_BACKEND, fn, "the halo exchange failed");
    g->stats.exchange_seconds += pel_wtime() - t;
    status = pel__stencil_apply_box(stencil, geo->ext, geo->faces, current, other, scratch[0], scratch[1], rhs, ilo,
                                    ihi, NULL, NULL, steps, blocking);
    t = pel_wtime();
    /* The messages are finished even when the interior failed, so that no
     * request is left active. */
    if (!exchange_finish(g, geo, x, first, current) || !exchange_run(g, geo, x, current, first + 1))
        return pel__fail(PEL_ERROR_BACKEND, fn, "the halo exchange failed");
    g->stats.exchange_seconds += pel_wtime() - t;
    if (status == PEL_OK)
        status = pel__stencil_apply_box(stencil, geo->ext, geo->faces, current, other, scratch[0], scratch[1], rhs,
                                        olo, ohi, ilo, ihi, steps, blocking);
    if (status != PEL_OK)
        return pel__fail(status, fn, "%s", pel_last_error());
    g->stats.overlapped_blocks++;
    *result = other;
    return PEL_OK;
}

pel_status pel__dgrid_apply(pel_dgrid *g, const char *fn, const pel_stencil *stencil, const void *in, void *out,
                            const void *rhs, size_t nsteps, size_t T, const pel_stencil_blocking *blocking)
{
    int radius;
    geometry geo;
    exchange x;
    size_t bytes, zero[3] = {0, 0, 0};
    void *a, *b, *grown_rhs = NULL, *current, *scratch[2] = {NULL, NULL};
    pel_status status = PEL_OK;
    int overlap = 0;
    double start = pel_wtime();

    x.nreq = 0;
    pel_stencil_info(stencil, NULL, NULL, &radius, NULL);
    if (nsteps == 0) {
        if (out != in)
            memcpy(out, in, g->owned * g->elem);
        return PEL_OK;
    }
    make_geometry(g, (size_t)radius * T, &geo);
    if (!pel__mul_size(geo.points, g->elem, &bytes))
        status = pel__fail(PEL_ERROR_OVERFLOW, fn, "the grown box of %zu points overflows", geo.points);
    a = status == PEL_OK ? pel__dgrid_work(g, 0, bytes) : NULL;
    b = status == PEL_OK ? pel__dgrid_work(g, 1, bytes) : NULL;
    if (status == PEL_OK && rhs != NULL)
        grown_rhs = pel__dgrid_work(g, 2, bytes);
    if (status == PEL_OK && (a == NULL || b == NULL || (rhs != NULL && grown_rhs == NULL)))
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the grown boxes (%zu bytes each)", bytes);
    overlap = status == PEL_OK && overlap_wanted(g);
    if (overlap) {
        scratch[0] = pel__dgrid_work(g, 4, bytes);
        scratch[1] = pel__dgrid_work(g, 5, bytes);
        if (scratch[0] == NULL || scratch[1] == NULL)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn,
                               "no memory for the scratch grids of the overlapped update (%zu bytes each)", bytes);
    }
    if (status == PEL_OK)
        status = exchange_init(g, &geo, &x);
    status = pel__mpi_agree(g->comm, fn, status, NULL, 0);
    if (status != PEL_OK) {
        exchange_free(&x);
        return status;
    }

    memset(&g->stats, 0, sizeof g->stats);
    g->stats.halo_steps = T;
    for (int i = 0; i < g->ndim; i++)
        g->stats.halo_bytes += (double)x.points[i] * (double)g->elem *
                               ((geo.lower[i] >= 0 ? 1.0 : 0.0) + (geo.upper[i] >= 0 ? 1.0 : 0.0));
    pel__box_copy(g->elem, in, g->extent, zero, a, geo.ext, geo.lo, g->extent);
    if (rhs != NULL) {
        double t = pel_wtime();
        pel__box_copy(g->elem, rhs, g->extent, zero, grown_rhs, geo.ext, geo.lo, g->extent);
        if (!exchange_run(g, &geo, &x, grown_rhs, 0))
            status = pel__fail(PEL_ERROR_BACKEND, fn, "the rhs halo exchange failed");
        g->stats.exchange_seconds += pel_wtime() - t;
        g->stats.exchanges++;
    }
    current = a;
    for (size_t done = 0; done < nsteps && status == PEL_OK;) {
        size_t steps = nsteps - done < T ? nsteps - done : T;
        void *other = current == a ? b : a, *result = current;
        status = run_block(g, fn, stencil, &geo, &x, radius, current, other, grown_rhs, steps, blocking, overlap,
                           scratch, &result);
        current = result;
        done += steps;
    }
    exchange_free(&x);
    if (status == PEL_OK)
        pel__box_copy(g->elem, current, geo.ext, geo.lo, out, g->extent, zero, g->extent);
    g->stats.total_seconds = pel_wtime() - start;
    return status;
}

pel_status pel_dgrid_last_stats(const pel_dgrid *grid, pel_dgrid_stats *stats)
{
    pel_status status = pel__dgrid_check(grid, __func__);
    if (status != PEL_OK)
        return status;
    PEL_CHECK_NOT_NULL(stats);
    *stats = grid->stats;
    return PEL_OK;
}

/* Validation, agreement and the choice of T for one apply. */
pel_status pel__dgrid_prepare(pel_dgrid *g, const char *fn, const pel_stencil *stencil, const void *local,
                              const void *rhs, size_t nsteps, size_t halo_steps, size_t *T)
{
    pel_status status = pel__mpi_ready(fn);
    if (status != PEL_OK)
        return status;
    status = check_apply(g, fn, stencil, local, rhs, nsteps, halo_steps, 1);
    if (status != PEL_OK)
        return status;
    return choose_halo_steps(g, stencil, nsteps, halo_steps, T);
}

/* The first automatic apply on a grid checks the model against the real
 * run: it runs a few blocks and reduces the slowest rank's time per
 * exchange and its time outside the exchanges (MPI_MAX).
 *
 * Latency: when an exchange was dearer than the model's latency (ranks that
 * arrive late on a shared or oversubscribed node make it cost far more than
 * a ping-pong between idle ranks), the observed cost per cut axis, less the
 * bandwidth part, becomes the latency.
 *
 * Compute rate: the start-up sweep ran on a 96^3 box alone; the real run
 * has a rank's share of a core (ranks and other processes compete for it),
 * its own box and T. The modelled compute time of the blocks just run
 * (model_step_time without messages, times the steps) is compared with the
 * time spent outside the exchanges, and both sweep rates are scaled by that
 * ratio, so the redundant halo updates of a deeper halo are priced at the
 * rate this run really gets. Without it a dear latency alone pushed T far
 * past the best (T = 29 where T = 8 ran faster, docs/mpi.md).
 *
 * Then T is chosen again for the remaining steps. Collective: every rank
 * makes the same decisions from the same reduced numbers. */
static pel_status calibrate(pel_dgrid *g, const pel_stencil *stencil, size_t steps_done)
{
    double local[2], worst[2];
    int radius, cut = 0;
    size_t npoints;

    pel_stencil_info(stencil, NULL, NULL, &radius, &npoints);
    local[0] = g->stats.exchanges ? g->stats.exchange_seconds / (double)g->stats.exchanges : 0.0;
    local[1] = g->stats.total_seconds - g->stats.exchange_seconds;
    if (MPI_Allreduce(local, worst, 2, MPI_DOUBLE, MPI_MAX, g->comm) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, FN, "MPI_Allreduce of the exchange and compute times failed");
    for (int a = 0; a < g->ndim; a++)
        cut += g->pdims[a] > 1;
    if (cut > 0) {
        /* What the model says the exchange should have cost, minus its
         * latency part, leaves the observed latency per cut axis. */
        double bandwidth_part = 0.0, latency;
        if (g->model.bandwidth_bytes > 0)
            bandwidth_part = g->stats.halo_bytes / g->model.bandwidth_bytes;
        latency = (worst[0] - bandwidth_part) / (double)cut;
        if (latency > g->model.latency_seconds)
            g->model.latency_seconds = latency;
    }
    {
        double modelled = model_step_time(g, radius, npoints, g->stats.halo_steps, 1) * (double)steps_done;
        if (modelled > 0 && worst[1] > 0) {
            /* Bounded, so one descheduled block cannot make the model
             * absurd: a rank gets between 1/64 of and 4 times the sweep
             * rate measured at start-up. */
            double ratio = worst[1] / modelled;
            ratio = ratio < 0.25 ? 0.25 : ratio > 64.0 ? 64.0 : ratio;
            g->model.seconds_per_point *= ratio;
            g->model.seconds_per_point_blocked *= ratio;
        }
    }
    g->calibrated = 1;
    return PEL_OK;
}

pel_status pel_dgrid_stencil_apply(pel_dgrid *grid, const pel_stencil *stencil, void *local, const void *rhs,
                                   size_t nsteps, size_t halo_steps, const pel_stencil_blocking *blocking)
{
    size_t T, first;
    pel_status status = pel__dgrid_prepare(grid, FN, stencil, local, rhs, nsteps, halo_steps, &T);
    if (status != PEL_OK)
        return status;
    /* Calibration: up to 4 blocks first, when steps remain after them. */
    first = 4 * T < nsteps ? 4 * T : (nsteps - 1) / T * T;
    if (halo_steps == 0 && !grid->calibrated && grid->size > 1 && first > 0 && T < nsteps) {
        status = pel__dgrid_apply(grid, FN, stencil, local, local, rhs, first, T, blocking);
        if (status == PEL_OK)
            status = calibrate(grid, stencil, first);
        if (status == PEL_OK)
            status = choose_halo_steps(grid, stencil, nsteps - first, 0, &T);
        if (status != PEL_OK)
            return status;
        return pel__dgrid_apply(grid, FN, stencil, local, local, rhs, nsteps - first, T, blocking);
    }
    return pel__dgrid_apply(grid, FN, stencil, local, local, rhs, nsteps, T, blocking);
}

pel_status pel_dgrid_halo_steps(pel_dgrid *grid, const pel_stencil *stencil, size_t nsteps, size_t halo_steps,
                                size_t *chosen)
{
    pel_status status = pel__mpi_ready(__func__);
    size_t T = 0;
    if (status != PEL_OK)
        return status;
    status = check_apply(grid, __func__, stencil, NULL, NULL, nsteps, halo_steps, 0);
    if (status != PEL_OK)
        return status;
    if (chosen == NULL)
        status = PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "chosen must not be NULL");
    status = pel__mpi_agree(grid->comm, __func__, status, NULL, 0);
    if (status != PEL_OK)
        return status;
    status = choose_halo_steps(grid, stencil, nsteps, halo_steps, &T);
    if (status == PEL_OK)
        *chosen = T;
    return status;
}

pel_status pel_dgrid_model_get(pel_dgrid *grid, pel_dgrid_model *model)
{
    pel_status status = pel__mpi_ready(__func__);
    MPI_Comm comm;
    if (status != PEL_OK)
        return status;
    comm = pel__dgrid_agreement_comm(grid);
    status = pel__dgrid_check(grid, __func__);
    if (status == PEL_OK && model == NULL)
        status = PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "model must not be NULL");
    if (comm == MPI_COMM_NULL)
        return status;
    status = pel__mpi_agree(comm, __func__, status, NULL, 0);
    if (status == PEL_OK)
        status = ensure_model(grid, __func__);
    if (status == PEL_OK)
        *model = grid->model;
    return status;
}
