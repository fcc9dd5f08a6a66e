/* Reproducible global reductions over a vector split in contiguous pieces
 * over the ranks (rank order). The single-process reductions of pel cut the
 * vector into fixed blocks of PEL_REDUCE_BLOCK elements, reduce each block in
 * a fixed lane order, and join the block results in a fixed pairwise tree
 * (lib/exec/reduce.c, lib/matrix/vector.c). Here the blocks are the global
 * ones: a rank reduces every block that starts in its piece, after receiving
 * the elements of that block held by the following ranks (elements, not
 * partial sums, so the block is summed in exactly the serial order); the
 * block itself is reduced by the single-process call on that one block
 * (pel_reduce_sum, pel_ddot, pel_dnrm2 of at most one block), which is the
 * serial block result. The pairwise tree over blocks 0..nblocks-1 is made of
 * aligned nodes (i, w): w a power of two, i a multiple of w, node = left
 * child + right child when the right child starts before nblocks. Each rank
 * sends rank 0 its maximal nodes lying wholly inside its blocks; rank 0
 * evaluates the rest of the tree from them and broadcasts the result. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "mpi/mpi_internal.h"
#include "pel/exec.h"
#include "pel/matrix.h"

/* A rank's maximal aligned nodes: at most two per tree level. */
enum { BLOCK = PEL_REDUCE_BLOCK, ZERO_EXPONENT = -4000, TAG = 21, MAX_NODES = 2 * 64 + 2 };

typedef enum kind { SUM, DOT, NRM2 } kind;

/* A block or node result: for NRM2 a sum of squares q * 4^e (nonfinite: q is
 * Inf or NaN unscaled); otherwise q. */
typedef struct partial {
    double q;
    int e;
    int nonfinite;
} partial;

typedef struct node {
    uint64_t index, width;
    partial value;
} node;

static void join(kind k, partial *left, const partial *right)
{
    int e;
    if (k != NRM2) {
        left->q += right->q;
        return;
    }
    if (left->nonfinite || right->nonfinite) {
        left->q = (left->nonfinite ? left->q : 0.0) + (right->nonfinite ? right->q : 0.0);
        left->nonfinite = 1;
        return;
    }
    e = left->e > right->e ? left->e : right->e;
    left->q = ldexp(left->q, 2 * (left->e - e)) + ldexp(right->q, 2 * (right->e - e));
    left->e = e;
}

static partial block_value(kind k, const double *x, const double *y, size_t count)
{
    partial p = {0.0, 0, 0};
    switch (k) {
    case SUM:
        pel_reduce_sum(x, count, 1, &p.q);
        break;
    case DOT:
        pel_ddot(count, x, 1, y, 1, &p.q);
        break;
    case NRM2: {
        double v = 0.0;
        pel_dnrm2(count, x, 1, &v);
        if (!isfinite(v)) {
            p.q = v;
            p.nonfinite = 1;
        } else if (v == 0.0) {
            p.e = ZERO_EXPONENT;
        } else {
            double m = frexp(v, &p.e); /* v = m 2^e, m in [0.5, 1): exact */
            p.q = m * m;
        }
        break;
    }
    }
    return p;
}

/* The fixed pairwise tree over count partials (in place, result in [0]). */
static void tree(kind k, partial *p, size_t count)
{
    for (size_t width = 1; width < count; width *= 2)
        for (size_t i = 0; i + width < count; i += 2 * width)
            join(k, &p[i], &p[i + width]);
}

/* Rank 0's evaluation of node (i, w) of the tree over nblocks from the
 * gathered nodes (sorted by index, at most one per index). */
static int evaluate(kind k, const node *nodes, size_t nnodes, uint64_t nblocks, uint64_t i, uint64_t w,
                    partial *out)
{
    size_t lo = 0, hi = nnodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (nodes[mid].index < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < nnodes && nodes[lo].index == i && nodes[lo].width == w) {
        *out = nodes[lo].value;
        return 1;
    }
    if (w == 1)
        return 0; /* a block nobody reported: a bug */
    if (!evaluate(k, nodes, nnodes, nblocks, i, w / 2, out))
        return 0;
    if (i + w / 2 < nblocks) {
        partial right;
        if (!evaluate(k, nodes, nnodes, nblocks, i + w / 2, w / 2, &right))
            return 0;
        join(k, out, &right);
    }
    return 1;
}

/* Rank holding global element `index` (the last with start <= index among
 * ranks holding elements). */
static int holder(const uint64_t *start, const uint64_t *count, int size, uint64_t index)
{
    int lo = 0, hi = size - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (start[mid] <= index)
            lo = mid;
        else
            hi = mid - 1;
    }
    while (lo > 0 && count[lo] == 0)
        lo--;
    return lo;
}

static pel_status reduce(const char *fn, kind k, MPI_Comm comm, const double *x, const double *y, size_t n,
                         double *result)
{
    int rank = 0, size = 1, nvec = k == DOT ? 2 : 1;
    uint64_t *start = NULL, *count = NULL, mine = n, total = 0, s, e, b0, b1, nblocks;
    double *tail = NULL;
    partial *parts = NULL, final = {0.0, ZERO_EXPONENT, 0};
    node *nodes = NULL, *all = NULL;
    int nnodes = 0, *node_counts = NULL, *displs = NULL;
    MPI_Request *req = NULL;
    int nreq = 0, ok = 1;
    pel_status status = pel__mpi_ready(fn);

    if (status != PEL_OK)
        return status;
    if (comm == MPI_COMM_NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "comm is MPI_COMM_NULL");
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Comm_rank/MPI_Comm_size failed on comm");
    if (result == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "result must not be NULL");
    else if (n > 0 && x == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "x must not be NULL when n=%zu", n);
    else if (k == DOT && n > 0 && y == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "y must not be NULL when n=%zu", n);
    if (status == PEL_OK) {
        start = malloc((size_t)size * sizeof *start);
        count = malloc((size_t)size * sizeof *count);
        node_counts = malloc((size_t)size * sizeof *node_counts);
        displs = malloc((size_t)size * sizeof *displs);
        tail = malloc((size_t)nvec * BLOCK * sizeof *tail);
        req = malloc((size_t)2 * (size_t)size * sizeof *req);
        /* Rank 0 receives at most MAX_NODES nodes from each rank. */
        all = rank == 0 ? malloc((size_t)size * MAX_NODES * sizeof *all) : NULL;
        if (!start || !count || !node_counts || !displs || !tail || !req || (rank == 0 && !all))
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the layout of %d ranks", size);
    }
    status = pel__mpi_agree(comm, fn, status, NULL, 0);
    if (status != PEL_OK)
        goto done;
    if (MPI_Allgather(&mine, 1, MPI_UINT64_T, count, 1, MPI_UINT64_T, comm) != MPI_SUCCESS) {
        status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Allgather of the piece lengths failed");
        goto done;
    }
    for (int r = 0; r < size; r++) {
        start[r] = total;
        if (total + count[r] < total) {
            status = pel__fail(PEL_ERROR_OVERFLOW, fn, "the global length overflows at rank %d", r);
            goto done; /* every rank sees the same counts: all fail alike */
        }
        total += count[r];
    }
    nblocks = (total + BLOCK - 1) / BLOCK;
    s = start[rank];
    e = s + n;
    b0 = (s + BLOCK - 1) / BLOCK; /* blocks starting in [s, e) */
    b1 = (e + BLOCK - 1) / BLOCK;
    if (b1 < b0)
        b1 = b0;
    if (n == 0)
        b0 = b1 = 0;

    /* Ship the head of my piece (elements of a block that started on an
     * earlier rank) to the rank holding that block's start; receive the tail
     * of my last block from the ranks after me. */
    {
        uint64_t tail_end = b1 > b0 ? (b1 * BLOCK < total ? b1 * BLOCK : total) : e;
        for (int q = rank + 1; q < size && start[q] < tail_end; q++) {
            uint64_t lo = start[q], hi = start[q] + count[q] < tail_end ? start[q] + count[q] : tail_end;
            if (count[q] == 0 || hi <= lo)
                continue;
            for (int v = 0; v < nvec; v++)
                ok &= MPI_Irecv(tail + (size_t)v * BLOCK + (lo - e), (int)(hi - lo), MPI_DOUBLE, q, TAG + v, comm,
                                &req[nreq++]) == MPI_SUCCESS;
        }
        if (n > 0 && s % BLOCK != 0) {
            uint64_t block_start = s / BLOCK * BLOCK, head_end = (s / BLOCK + 1) * BLOCK;
            int to = holder(start, count, size, block_start);
            uint64_t hi = head_end < e ? head_end : e;
            for (int v = 0; v < nvec; v++)
                ok &= MPI_Isend(v == 0 ? x : y, (int)(hi - s), MPI_DOUBLE, to, TAG + v, comm, &req[nreq++]) ==
                      MPI_SUCCESS;
        }
        if (nreq > 0)
            ok &= MPI_Waitall(nreq, req, MPI_STATUSES_IGNORE) == MPI_SUCCESS;
    }
    if (!ok) {
        status = pel__fail(PEL_ERROR_BACKEND, fn, "an MPI message of the straddling blocks failed");
        goto done;
    }

    /* Block results, then my maximal aligned nodes. */
    if (b1 > b0) {
        size_t mine_blocks = (size_t)(b1 - b0);
        parts = malloc(mine_blocks * sizeof *parts);
        nodes = malloc(MAX_NODES * sizeof *nodes);
        if (parts == NULL || nodes == NULL)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for %zu block results", mine_blocks);
    }
    if (status == PEL_OK && b1 > b0) {
        size_t mine_blocks = (size_t)(b1 - b0);
        PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */
        int threads = pel__team_take(&team, pel_threads_for_work(n));
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
        for (size_t j = 0; j < mine_blocks; j++) {
            uint64_t b = b0 + j, lo = b * BLOCK, hi = (b + 1) * BLOCK < total ? (b + 1) * BLOCK : total;
            if (hi <= e)
                parts[j] = block_value(k, x + (lo - s), y ? y + (lo - s) : NULL, (size_t)(hi - lo));
        }
        /* The last block may run into the following ranks: complete it. */
        {
            uint64_t b = b1 - 1, lo = b * BLOCK, hi = (b + 1) * BLOCK < total ? (b + 1) * BLOCK : total;
            if (hi > e) {
                double *buf = malloc((size_t)nvec * BLOCK * sizeof *buf);
                if (buf == NULL) {
                    status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for a block");
                } else {
                    for (int v = 0; v < nvec; v++) {
                        memcpy(buf + (size_t)v * BLOCK, (v == 0 ? x : y) + (lo - s), (size_t)(e - lo) * sizeof *buf);
                        memcpy(buf + (size_t)v * BLOCK + (e - lo), tail + (size_t)v * BLOCK,
                               (size_t)(hi - e) * sizeof *buf);
                    }
                    parts[b1 - 1 - b0] = block_value(k, buf, nvec > 1 ? buf + BLOCK : NULL, (size_t)(hi - lo));
                    free(buf);
                }
            }
        }
        for (uint64_t i = b0; i < b1 && status == PEL_OK;) {
            uint64_t w = 1;
            while (i % (2 * w) == 0 && i + 2 * w <= b1)
                w *= 2;
            tree(k, parts + (i - b0), (size_t)w);
            nodes[nnodes].index = i;
            nodes[nnodes].width = w;
            nodes[nnodes].value = parts[i - b0];
            nnodes++;
            i += w;
        }
    }
    /* Out of memory above is agreed on before the gather. */
    status = pel__mpi_agree(comm, fn, status, NULL, 0);
    if (status != PEL_OK)
        goto done;
    {
        int bytes = nnodes * (int)sizeof(node);
        ok &= MPI_Gather(&bytes, 1, MPI_INT, node_counts, 1, MPI_INT, 0, comm) == MPI_SUCCESS;
        if (ok && rank == 0) {
            int sum = 0;
            for (int r = 0; r < size; r++) {
                displs[r] = sum;
                sum += node_counts[r];
            }
            nnodes = sum / (int)sizeof(node);
        }
        ok &= MPI_Gatherv(nodes, bytes, MPI_BYTE, all, node_counts, displs, MPI_BYTE, 0, comm) == MPI_SUCCESS;
    }
    if (ok && rank == 0 && nblocks > 0) {
        uint64_t top = 1;
        while (top < nblocks)
            top *= 2;
        if (!evaluate(k, all, (size_t)nnodes, nblocks, 0, top, &final))
            ok = 0;
    }
    ok &= MPI_Bcast(&final, (int)sizeof final, MPI_BYTE, 0, comm) == MPI_SUCCESS;
    if (!ok) {
        status = pel__fail(PEL_ERROR_BACKEND, fn, "gathering the block tree on rank 0 failed");
        goto done;
    }
    if (k != NRM2)
        *result = final.q;
    else if (final.nonfinite)
        *result = sqrt(final.q);
    else
        *result = final.q == 0.0 ? 0.0 : ldexp(sqrt(final.q), final.e);
done:
    free(start);
    free(count);
    free(node_counts);
    free(displs);
    free(tail);
    free(req);
    free(parts);
    free(nodes);
    free(all);
    return status;
}

pel_status pel_mpi_reduce_sum(MPI_Comm comm, const double *x, size_t n, double *result)
{
    return reduce(__func__, SUM, comm, x, NULL, n, result);
}

pel_status pel_mpi_dot(MPI_Comm comm, const double *x, const double *y, size_t n, double *result)
{
    return reduce(__func__, DOT, comm, x, y, n, result);
}

pel_status pel_mpi_nrm2(MPI_Comm comm, const double *x, size_t n, double *result)
{
    return reduce(__func__, NRM2, comm, x, NULL, n, result);
}
