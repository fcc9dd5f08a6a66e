/* The distributed CSR matrix: rows in contiguous blocks over the ranks,
 * ghost columns and their owners found once at creation into a scatter
 * plan of persistent requests, and an SpMV that overlaps the exchange with
 * the rows' leading own-column entries.
 *
 * Reproducibility: the serial kernel sums each row left to right in
 * increasing global column order from 0.0. Here every row keeps its entries
 * in that order (each entry carries the index of its source: the rank's
 * block of x or the ghost buffer). A row's columns below the rank's own
 * range (left ghosts) come first, then its own columns, then the right
 * ghosts; a row without left ghosts can sum its own entries while the
 * ghosts travel and continue the same running sum afterwards, so no sum is
 * ever split and joined, and y has the serial bits for every process
 * count, split and thread count. This file is built with -ffp-contract=off
 * (as lib/sparse) so that no multiply-add is fused here and not there. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "mpi/mpi_internal.h"
#include "sparse/csr.h"

#define DCSR_TAG 7714
/* Weight of a row in the split by nonzeros (entries + this per row), as the
 * serial partition's PEL_CSR_ROW_WEIGHT. */
#define DCSR_ROW_WEIGHT 2
/* How far ahead of the current row both phases prefetch the values and
 * sources, in entries (the serial SpMV's distance). Banded matrices gain as
 * the serial ones do (their x is in cache, their streams decide); matrices
 * with scattered columns gain too, as the streams then stop competing late
 * with the gathers of x for the core's miss buffers (lib/sparse/spmv.c has
 * the measurements). */
#define DCSR_PREFETCH_ENTRIES 256
/* Rows the main thread sums between two tests of the ghost requests. */
#define DCSR_PROGRESS_ROWS 8192

#if SIZE_MAX == UINT64_MAX
#define PEL_MPI_SIZE_T MPI_UINT64_T
#else
#define PEL_MPI_SIZE_T MPI_UINT32_T
#endif

int pel__dcsr_copy_x = -1;
int pel__dcsr_one_pass = -1;

struct pel_dcsr {
    pel__handle handle; /* first member: kind PEL__HANDLE_DCSR */
    MPI_Comm comm;      /* the matrix's own duplicate */
    int rank, size;
    pel_precision precision;
    size_t elem;
    MPI_Datatype type;
    size_t global_rows, global_cols, row_start, local_rows, col_start, local_cols, nnz;
    size_t *row_ptr; /* local_rows + 1 */
    /* Entry k reads x_local[col[k]] when col[k] < local_cols, else
     * ghost[col[k] - local_cols]; entries of a row in global column order. */
    uint32_t *col;
    void *values;
    /* What the kernels read instead of row_ptr (the rank's entries are at
     * most INT_MAX): the end of each row, in 32 bits. */
    uint32_t *end;
    size_t nrest;        /* rows that read ghosts */
    uint32_t *rest_rows; /* those rows, increasing */
    uint32_t *rest_lead; /* where each one's leading own-column entries end */
    /* Weight prefix of the rest rows (their entries after the lead, plus
     * DCSR_ROW_WEIGHT each): nrest + 1, for splitting the second phase
     * over the threads by nonzeros, as the first. */
    size_t *rest_weight;
    void *partial;       /* nrest running sums (double or float) */
    size_t nghost;
    /* local_cols + nghost values: the ghosts, grouped by owner rank, are
     * received at ghost + local_cols; when copy_x is set the rank's block
     * of x is copied in front of them while they travel, so that the
     * second phase reads every entry's x from one array without a branch
     * (worth it when that phase reads more entries than the block holds,
     * as in matrices with scattered columns). */
    void *ghost;
    int copy_x;
    /* Every row summed in one pass once the ghosts are in (copy_x set, so
     * that pass reads one array): chosen when the leads would sum less
     * than a quarter of the rank's entries, as in a power law at N >= 2,
     * where almost every row reads a ghost. The two-phase product would
     * then overlap little of the exchange and touch nearly every row
     * twice (row ends, leads, running sums written and read back). */
    int one_pass;
    int nrecv, nsend;
    int *peer;          /* nrecv ranks received from, then nsend ranks sent to */
    size_t *recv_at;    /* nrecv + 1 offsets into ghost */
    size_t *send_at;    /* nsend + 1 offsets into send_idx / send_buf */
    uint32_t *send_idx; /* indices into x_local of the values sent */
    void *send_buf;
    MPI_Request *requests; /* nrecv receives, then nsend sends (persistent) */
    int have_requests;
};

/* Live matrices of this process: a rank handed a bad matrix can still take
 * part in the agreement when there is only one it could mean. Used from
 * one thread (MPI_THREAD_FUNNELED), so no lock. */
static pel__mpi_live live_matrices;

static MPI_Comm agreement_comm(const pel_dcsr *m)
{
    if (pel__handle_check(m, PEL__HANDLE_DCSR, -1, "pel_dcsr", "matrix") == PEL_OK)
        return m->comm;
    return live_matrices.count == 1 ? ((pel_dcsr *)live_matrices.items[0])->comm : MPI_COMM_NULL;
}

/* Frees everything of a matrix that creation may have set (not the handle). */
static void release(pel_dcsr *m)
{
    int finalized = 1;
    if (m == NULL)
        return;
    MPI_Finalized(&finalized);
    if (m->have_requests && !finalized)
        for (int r = 0; r < m->nrecv + m->nsend; r++)
            if (m->requests[r] != MPI_REQUEST_NULL)
                MPI_Request_free(&m->requests[r]);
    if (m->comm != MPI_COMM_NULL && !finalized)
        MPI_Comm_free(&m->comm);
    free(m->row_ptr);
    pel_free(m->col);
    pel_free(m->values);
    pel_free(m->end);
    free(m->rest_rows);
    free(m->rest_lead);
    free(m->rest_weight);
    pel_free(m->partial);
    pel_free(m->ghost);
    free(m->peer);
    free(m->recv_at);
    free(m->send_at);
    free(m->send_idx);
    pel_free(m->send_buf);
    free(m->requests);
    free(m);
}

static int compare_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The rank owning global column c: the r with starts[r] <= c < starts[r+1]
 * (empty ranks have equal starts and own nothing). */
static int owner_of(const size_t *starts, int size, size_t c)
{
    int lo = 0, hi = size; /* first r with starts[r] > c, minus one */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (starts[mid] <= c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

/* Index of c in the sorted, distinct array a[0..n). */
static size_t find_sorted(const size_t *a, size_t n, size_t c)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= c)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Ghost columns, the plan and the per-row leads, from this rank's sorted
 * rows with global columns (cols). Collective: each step that may fail
 * locally (memory) is agreed on before the next exchange, so the ranks
 * never part. */
static pel_status build_plan(pel_dcsr *m, const char *fn, const size_t *cols, const size_t *col_starts)
{
    const size_t lo = m->col_start, hi = m->col_start + m->local_cols;
    const size_t n = (size_t)m->size;
    size_t *ghosts = NULL, nghost = 0, *requested = NULL, total_send = 0, rest_entries = 0;
    int *recv_count, *send_count, *recv_displ, *send_displ, *counts = NULL;
    pel_status status = PEL_OK;

    counts = calloc(4 * n, sizeof *counts);
    ghosts = malloc((m->nnz ? m->nnz : 1) * sizeof *ghosts);
    if (counts == NULL || ghosts == NULL) {
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the ghost columns");
    } else {
        for (size_t k = 0; k < m->nnz; k++)
            if (cols[k] < lo || cols[k] >= hi)
                ghosts[nghost++] = cols[k];
        qsort(ghosts, nghost, sizeof *ghosts, compare_size);
        {
            size_t kept = 0;
            for (size_t g = 0; g < nghost; g++)
                if (kept == 0 || ghosts[kept - 1] != ghosts[g])
                    ghosts[kept++] = ghosts[g];
            nghost = kept;
        }
    }
    if ((status = pel__mpi_agree(m->comm, fn, status, NULL, 0)) != PEL_OK)
        goto done;
    recv_count = counts;
    send_count = counts + n;
    recv_displ = counts + 2 * n;
    send_displ = counts + 3 * n;
    /* Sorted ghosts are grouped by owner: owners hold contiguous column
     * blocks in rank order. */
    for (size_t g = 0; g < nghost; g++)
        recv_count[owner_of(col_starts, m->size, ghosts[g])]++;
    if (MPI_Alltoall(recv_count, 1, MPI_INT, send_count, 1, MPI_INT, m->comm) != MPI_SUCCESS) {
        status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Alltoall of the ghost counts failed");
        goto done;
    }
    {
        long long at_recv = 0, at_send = 0; /* at_recv <= nnz <= INT_MAX */
        for (size_t r = 0; r < n; r++) {
            recv_displ[r] = (int)at_recv;
            send_displ[r] = (int)(at_send < INT_MAX ? at_send : INT_MAX);
            at_recv += recv_count[r];
            at_send += send_count[r];
        }
        total_send = (size_t)at_send;
        if (at_send > INT_MAX)
            status = pel__fail(PEL_ERROR_UNSUPPORTED, fn,
                               "the peers ask this rank for %lld values, over INT_MAX (MPI displacements)", at_send);
    }
    if (status == PEL_OK && (requested = malloc((total_send ? total_send : 1) * sizeof *requested)) == NULL)
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the scatter plan");
    if ((status = pel__mpi_agree(m->comm, fn, status, NULL, 0)) != PEL_OK)
        goto done;
    if (MPI_Alltoallv(ghosts, recv_count, recv_displ, PEL_MPI_SIZE_T, requested, send_count, send_displ,
                      PEL_MPI_SIZE_T, m->comm) != MPI_SUCCESS) {
        status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Alltoallv of the ghost columns failed");
        goto done;
    }
    for (size_t r = 0; r < n; r++) {
        m->nrecv += recv_count[r] > 0;
        m->nsend += send_count[r] > 0;
    }
    m->nghost = nghost;
    m->ghost = pel_malloc((m->local_cols + nghost ? m->local_cols + nghost : 1) * m->elem);
    m->send_buf = pel_malloc((total_send ? total_send : 1) * m->elem);
    m->send_idx = malloc((total_send ? total_send : 1) * sizeof *m->send_idx);
    m->peer = malloc(((size_t)(m->nrecv + m->nsend) + 1) * sizeof *m->peer);
    m->recv_at = malloc(((size_t)m->nrecv + 1) * sizeof *m->recv_at);
    m->send_at = malloc(((size_t)m->nsend + 1) * sizeof *m->send_at);
    m->requests = malloc(((size_t)(m->nrecv + m->nsend) + 1) * sizeof *m->requests);
    /* The arrays the kernels stream, like the values, on huge pages
     * (pel_malloc: 2 MiB-aligned and advised for 4 MiB or more). */
    m->end = pel_malloc((m->local_rows ? m->local_rows : 1) * sizeof *m->end);
    m->rest_rows = malloc((m->local_rows ? m->local_rows : 1) * sizeof *m->rest_rows);
    m->rest_lead = malloc((m->local_rows ? m->local_rows : 1) * sizeof *m->rest_lead);
    m->rest_weight = malloc((m->local_rows + 1) * sizeof *m->rest_weight);
    m->partial = pel_malloc((m->local_rows ? m->local_rows : 1) * m->elem);
    if (!m->ghost || !m->send_buf || !m->send_idx || !m->peer || !m->recv_at || !m->send_at || !m->requests ||
        !m->end || !m->rest_rows || !m->rest_lead || !m->rest_weight || !m->partial) {
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the scatter plan");
        goto done;
    }
    {
        int i = 0, s = 0;
        m->recv_at[0] = 0;
        m->send_at[0] = 0;
        for (size_t r = 0; r < n; r++) {
            if (recv_count[r] > 0) {
                m->peer[i] = (int)r;
                m->recv_at[i + 1] = m->recv_at[i] + (size_t)recv_count[r];
                i++;
            }
            if (send_count[r] > 0) {
                m->peer[m->nrecv + s] = (int)r;
                m->send_at[s + 1] = m->send_at[s] + (size_t)send_count[r];
                s++;
            }
        }
    }
    /* What the peers asked for are columns of this rank's block (the owner
     * rule is the same on every rank). */
    for (size_t k = 0; k < total_send; k++)
        m->send_idx[k] = (uint32_t)(requested[k] - lo);
    /* Each entry's source, and each row's lead: the entries before its
     * first ghost entry when its first entry is not a left ghost (a column
     * below the rank's block), none otherwise. */
    for (size_t k = 0; k < m->nnz; k++)
        m->col[k] = cols[k] >= lo && cols[k] < hi ? (uint32_t)(cols[k] - lo)
                                                  : (uint32_t)(m->local_cols + find_sorted(ghosts, nghost, cols[k]));
    m->rest_weight[0] = 0;
    for (size_t r = 0; r < m->local_rows; r++) {
        size_t k = m->row_ptr[r], e = m->row_ptr[r + 1];
        if (k < e && cols[k] >= lo)
            while (k < e && m->col[k] < m->local_cols)
                k++;
        m->end[r] = (uint32_t)e;
        if (k < e) {
            m->rest_rows[m->nrest] = (uint32_t)r;
            m->rest_lead[m->nrest++] = (uint32_t)k;
            rest_entries += e - k;
            m->rest_weight[m->nrest] = rest_entries + DCSR_ROW_WEIGHT * m->nrest;
        }
    }
    m->copy_x = pel__dcsr_copy_x >= 0 ? pel__dcsr_copy_x != 0 : rest_entries > m->local_cols;
    /* rest_entries are the entries the second phase sums; the rest are the
     * leads, which overlap the exchange. */
    m->one_pass = m->nghost > 0 &&
                  (pel__dcsr_one_pass >= 0 ? pel__dcsr_one_pass != 0 : 4 * (m->nnz - rest_entries) < m->nnz);
    if (m->one_pass)
        m->copy_x = 1;
    /* The persistent requests of the scatter plan. */
    for (int r = 0; r < m->nrecv + m->nsend; r++)
        m->requests[r] = MPI_REQUEST_NULL;
    m->have_requests = 1;
    for (int r = 0; r < m->nrecv && status == PEL_OK; r++)
        if (MPI_Recv_init((char *)m->ghost + (m->local_cols + m->recv_at[r]) * m->elem, (int)(m->recv_at[r + 1] - m->recv_at[r]),
                          m->type, m->peer[r], DCSR_TAG, m->comm, &m->requests[r]) != MPI_SUCCESS)
            status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Recv_init failed");
    for (int r = 0; r < m->nsend && status == PEL_OK; r++)
        if (MPI_Send_init((char *)m->send_buf + m->send_at[r] * m->elem, (int)(m->send_at[r + 1] - m->send_at[r]),
                          m->type, m->peer[m->nrecv + r], DCSR_TAG, m->comm, &m->requests[m->nrecv + r]) !=
            MPI_SUCCESS)
            status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Send_init failed");
done:
    free(counts);
    free(ghosts);
    free(requested);
    return status;
}

/* The builder behind every creation: `local` is the status of the caller's
 * own checks on this rank, agreed on first. Validation of the rows goes
 * through pel_csr_create() (the serial rules and messages, attributed to
 * fn), which also sorts each row and sums duplicates. */
static pel_status dcsr_build(const char *fn, MPI_Comm comm, pel_status local, pel_precision precision,
                             size_t local_rows, size_t local_cols, const size_t *row_ptr, const size_t *col_idx,
                             const void *values, pel_dcsr **out)
{
    pel__mpi_same same[1] = {{"precision", (double)precision}};
    unsigned long long mine[2] = {local_rows, local_cols}, *all = NULL;
    size_t *row_starts = NULL, *col_starts = NULL, *cols = NULL;
    pel_csr *block = NULL;
    pel_dcsr *m = NULL;
    int size = 0, rank = 0;
    pel_status status = local;

    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    if (status == PEL_OK && precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "precision=%d is not PEL_FLOAT64 or PEL_FLOAT32",
                           (int)precision);
    if (status == PEL_OK && (local_cols > INT_MAX || local_rows > INT_MAX))
        status = pel__fail(PEL_ERROR_UNSUPPORTED, fn, "local_rows=%zu or local_cols=%zu exceeds INT_MAX (MPI counts)",
                           local_rows, local_cols);
    if (status == PEL_OK) {
        all = malloc(2 * (size_t)size * sizeof *all);
        row_starts = malloc(((size_t)size + 1) * sizeof *row_starts);
        col_starts = malloc(((size_t)size + 1) * sizeof *col_starts);
        if (!all || !row_starts || !col_starts)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the row and column starts");
    }
    status = pel__mpi_agree(comm, fn, status, same, status == PEL_OK ? 1 : 0);
    if (status != PEL_OK)
        goto done;
    if (MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG, comm) != MPI_SUCCESS) {
        status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Allgather of the local sizes failed");
        goto done;
    }
    row_starts[0] = col_starts[0] = 0;
    for (int r = 0; r < size; r++) {
        unsigned long long nr = all[2 * r], nc = all[2 * r + 1];
        /* Each is at most INT_MAX (checked above), so these sums of at most
         * INT_MAX ranks' counts cannot overflow 64 bits. */
        row_starts[r + 1] = row_starts[r] + (size_t)nr;
        col_starts[r + 1] = col_starts[r] + (size_t)nc;
    }
    if (col_starts[size] > PEL_CSR_MAX_COLS) {
        /* Equal on every rank: every rank fails alike. */
        status = pel__fail(PEL_ERROR_UNSUPPORTED, fn, "global_cols=%zu (the sum of local_cols) exceeds "
                           "PEL_CSR_MAX_COLS=%zu", col_starts[size], PEL_CSR_MAX_COLS);
        goto done;
    }
    /* The rows, validated against the global column count. */
    status = pel_csr_create(precision, local_rows, col_starts[size], row_ptr, col_idx, values, &block);
    if (status != PEL_OK) {
        char reason[512];
        strncpy(reason, pel__mpi_reason("pel_csr_create"), sizeof reason - 1);
        reason[sizeof reason - 1] = '\0';
        status = pel__fail(status, fn, "%s", reason);
    }
    if (status == PEL_OK && pel_csr_nnz(block) > INT_MAX)
        status = pel__fail(PEL_ERROR_UNSUPPORTED, fn, "the rank's rows hold %zu entries, over INT_MAX (MPI counts)",
                           pel_csr_nnz(block));
    if (status == PEL_OK) {
        m = calloc(1, sizeof *m);
        if (m == NULL)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the matrix object");
    }
    if (status == PEL_OK) {
        m->comm = MPI_COMM_NULL;
        m->nnz = pel_csr_nnz(block);
        m->precision = precision;
        m->elem = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
        m->type = precision == PEL_FLOAT32 ? MPI_FLOAT : MPI_DOUBLE;
        m->rank = rank;
        m->size = size;
        m->global_rows = row_starts[size];
        m->global_cols = col_starts[size];
        m->row_start = row_starts[rank];
        m->local_rows = local_rows;
        m->col_start = col_starts[rank];
        m->local_cols = local_cols;
        m->row_ptr = malloc((local_rows + 1) * sizeof *m->row_ptr);
        m->col = pel_malloc((m->nnz ? m->nnz : 1) * sizeof *m->col);
        m->values = pel_malloc((m->nnz ? m->nnz : 1) * m->elem);
        cols = malloc((m->nnz ? m->nnz : 1) * sizeof *cols);
        if (!m->row_ptr || !m->col || !m->values || !cols)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the rank's rows");
        else
            status = pel_csr_export(block, m->row_ptr, cols, m->values);
        if (local_rows == 0 && m->row_ptr != NULL)
            m->row_ptr[0] = 0;
    }
    pel_csr_destroy(block);
    /* Everyone valid so far, or everyone fails here before the plan. */
    status = pel__mpi_agree(comm, fn, status, NULL, 0);
    if (status != PEL_OK)
        goto done;
    if (MPI_Comm_dup(comm, &m->comm) != MPI_SUCCESS) {
        m->comm = MPI_COMM_NULL;
        status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Comm_dup failed");
        goto done;
    }
    status = build_plan(m, fn, cols, col_starts);
    if (status == PEL_OK && pel__handle_register(&m->handle, PEL__HANDLE_DCSR, (int)precision, fn) != PEL_OK)
        status = PEL_ERROR_OUT_OF_MEMORY;
    else if (status == PEL_OK && !pel__mpi_live_add(&live_matrices, m)) {
        pel__handle_unregister(m, PEL__HANDLE_DCSR, fn);
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the list of live matrices");
    }
    status = pel__mpi_agree(m->comm, fn, status, NULL, 0);
    if (status != PEL_OK && pel__handle_check(m, PEL__HANDLE_DCSR, -1, fn, "matrix") == PEL_OK) {
        pel__mpi_live_remove(&live_matrices, m);
        pel__handle_unregister(m, PEL__HANDLE_DCSR, fn);
    }
done:
    free(all);
    free(row_starts);
    free(col_starts);
    free(cols);
    if (status != PEL_OK) {
        release(m);
        return status;
    }
    *out = m;
    return PEL_OK;
}

/* The checks every creation makes first, locally: MPI usable, comm not
 * null, out not NULL (cleared). A failure before comm is known to be
 * usable is returned on this rank alone (there is no one to agree with). */
static pel_status check_start(const char *fn, MPI_Comm comm, pel_dcsr **out, int *size, int *rank)
{
    pel_status status;
    if (out != NULL)
        *out = NULL;
    if ((status = pel__mpi_ready(fn)) != PEL_OK)
        return status;
    if (comm == MPI_COMM_NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "comm is MPI_COMM_NULL");
    if (MPI_Comm_size(comm, size) != MPI_SUCCESS || MPI_Comm_rank(comm, rank) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Comm_size/MPI_Comm_rank failed on comm");
    return PEL_OK;
}

pel_status pel_dcsr_create(MPI_Comm comm, pel_precision precision, size_t local_rows, size_t local_cols,
                           const size_t *row_ptr, const size_t *col_idx, const void *values, pel_dcsr **out)
{
    const char *fn = "pel_dcsr_create";
    int size, rank;
    pel_status status = check_start(fn, comm, out, &size, &rank);

    if (status != PEL_OK)
        return status;
    if (out == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "out must not be NULL");
    return dcsr_build(fn, comm, status, precision, local_rows, local_cols, row_ptr, col_idx, values, out);
}

/* pel's split of rows over size ranks, balanced by entries + DCSR_ROW_WEIGHT
 * per row: boundary r is the first row whose weight prefix reaches
 * r/size of the total. */
static void balanced_split(const size_t *row_ptr, size_t rows, int size, size_t *starts)
{
    unsigned __int128 total = (unsigned __int128)row_ptr[rows] + (unsigned __int128)DCSR_ROW_WEIGHT * rows;
    starts[0] = 0;
    for (int r = 1; r < size; r++) {
        unsigned __int128 target = total * (unsigned)r / (unsigned)size;
        size_t lo = starts[r - 1], hi = rows;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((unsigned __int128)row_ptr[mid] + (unsigned __int128)DCSR_ROW_WEIGHT * mid < target)
                lo = mid + 1;
            else
                hi = mid;
        }
        starts[r] = lo;
    }
    starts[size] = rows;
}

/* The distribution behind pel_dcsr_distribute() and pel_dcsr_read_mtx():
 * `local` is this rank's status so far (the root's read, for the reader). */
static pel_status distribute(const char *fn, MPI_Comm comm, int root, const pel_csr *matrix,
                             const size_t *row_starts, pel_status local, pel_dcsr **out)
{
    pel__mpi_same same[1] = {{"root", (double)root}};
    int size = 0, rank = 0, nsame = 1;
    size_t head[3] = {0, 0, 0}; /* precision, rows, cols */
    size_t *starts = NULL, *full_ptr = NULL, *full_col = NULL, *lengths = NULL, *my_ptr = NULL, *my_col = NULL;
    void *full_val = NULL, *my_val = NULL;
    size_t local_rows = 0, local_cols = 0, my_nnz = 0, elem;
    pel_precision precision = PEL_FLOAT64;
    pel_status status = local;

    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    if (status == PEL_OK && out == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "out must not be NULL");
    if (status == PEL_OK && (root < 0 || root >= size))
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "root=%d is out of range for %d ranks", root, size);
    if (status == PEL_OK) {
        starts = malloc(((size_t)size + 1) * sizeof *starts);
        if (!starts)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the split");
    }
    if (status == PEL_OK && rank == root)
        status = pel__handle_check(matrix, PEL__HANDLE_CSR, -1, fn, "matrix");
    if (status == PEL_OK && rank == root) {
        size_t rows = pel_csr_rows(matrix), nnz = pel_csr_nnz(matrix);
        precision = pel_csr_precision(matrix);
        elem = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
        full_ptr = malloc((rows + 1) * sizeof *full_ptr);
        full_col = malloc((nnz ? nnz : 1) * sizeof *full_col);
        full_val = malloc((nnz ? nnz : 1) * elem);
        if (!full_ptr || !full_col || !full_val)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the matrix's arrays on the root");
        else
            pel_csr_export(matrix, full_ptr, full_col, full_val);
        if (rows == 0 && full_ptr)
            full_ptr[0] = 0;
        if (status == PEL_OK && row_starts == NULL) {
            balanced_split(full_ptr, rows, size, starts);
        } else if (status == PEL_OK) {
            if (row_starts[0] != 0)
                status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "row_starts[0]=%zu must be 0", row_starts[0]);
            for (int r = 0; r < size && status == PEL_OK; r++)
                if (row_starts[r + 1] < row_starts[r])
                    status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                                       "row_starts[%d]=%zu is smaller than row_starts[%d]=%zu", r + 1,
                                       row_starts[r + 1], r, row_starts[r]);
            if (status == PEL_OK && row_starts[size] != rows)
                status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                                   "row_starts[%d]=%zu must be the matrix's row count %zu", size, row_starts[size],
                                   rows);
            if (status == PEL_OK)
                memcpy(starts, row_starts, ((size_t)size + 1) * sizeof *starts);
        }
        for (int r = 0; r < size && status == PEL_OK; r++) {
            size_t n = full_ptr[starts[r + 1]] - full_ptr[starts[r]];
            if (n > INT_MAX || starts[r + 1] - starts[r] > INT_MAX)
                status = pel__fail(PEL_ERROR_UNSUPPORTED, fn,
                                   "rank %d's rows hold %zu rows and %zu entries, over INT_MAX (MPI counts)", r,
                                   starts[r + 1] - starts[r], n);
        }
        head[0] = (size_t)precision;
        head[1] = rows;
        head[2] = pel_csr_cols(matrix);
    }
    status = pel__mpi_agree(comm, fn, status, same, status == PEL_OK ? nsame : 0);
    if (status != PEL_OK)
        goto done;
    if (MPI_Bcast(head, 3, PEL_MPI_SIZE_T, root, comm) != MPI_SUCCESS ||
        MPI_Bcast(starts, size + 1, PEL_MPI_SIZE_T, root, comm) != MPI_SUCCESS) {
        status = pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Bcast of the split failed");
        goto done;
    }
    precision = (pel_precision)head[0];
    elem = precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
    local_rows = starts[rank + 1] - starts[rank];
    if (head[1] == head[2]) {
        local_cols = local_rows;
    } else {
        size_t c0;
        pel__dgrid_split(head[2], size, rank, &c0, &local_cols);
    }
    /* Row lengths first (every rank then knows its entry count and
     * allocates, agreed on), then columns and values, point to point from
     * the root (counts are at most INT_MAX, checked above; displacements
     * of Scatterv could exceed it). */
    lengths = malloc((local_rows ? local_rows : 1) * sizeof *lengths);
    my_ptr = malloc((local_rows + 1) * sizeof *my_ptr);
    status = lengths && my_ptr ? PEL_OK : pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the rows");
    if ((status = pel__mpi_agree(comm, fn, status, NULL, 0)) != PEL_OK)
        goto done;
    if (rank == root) {
        for (size_t i = head[1]; i > 0; i--) /* row_ptr into row lengths, in place */
            full_ptr[i] -= full_ptr[i - 1];
        for (int r = 0; r < size; r++)
            if (r != root)
                MPI_Send(full_ptr + starts[r] + 1, (int)(starts[r + 1] - starts[r]), PEL_MPI_SIZE_T, r, DCSR_TAG,
                         comm);
        memcpy(lengths, full_ptr + starts[root] + 1, local_rows * sizeof *lengths);
    } else {
        MPI_Recv(lengths, (int)local_rows, PEL_MPI_SIZE_T, root, DCSR_TAG, comm, MPI_STATUS_IGNORE);
    }
    for (size_t i = 0; i < local_rows; i++)
        my_nnz += lengths[i];
    my_col = malloc((my_nnz ? my_nnz : 1) * sizeof *my_col);
    my_val = malloc((my_nnz ? my_nnz : 1) * elem);
    status = my_col && my_val ? PEL_OK
                                                    : pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "no memory for the rows");
    status = pel__mpi_agree(comm, fn, status, NULL, 0);
    if (status != PEL_OK)
        goto done;
    if (rank == root) {
        size_t at = 0;
        MPI_Datatype type = precision == PEL_FLOAT32 ? MPI_FLOAT : MPI_DOUBLE;
        for (int r = 0; r < size; r++) {
            size_t ne = 0;
            for (size_t i = starts[r]; i < starts[r + 1]; i++)
                ne += full_ptr[i + 1];
            if (r == root) {
                memcpy(my_col, full_col + at, ne * sizeof *my_col);
                memcpy(my_val, (char *)full_val + at * elem, ne * elem);
            } else {
                MPI_Send(full_col + at, (int)ne, PEL_MPI_SIZE_T, r, DCSR_TAG + 1, comm);
                MPI_Send((char *)full_val + at * elem, (int)ne, type, r, DCSR_TAG + 2, comm);
            }
            at += ne;
        }
    } else {
        MPI_Recv(my_col, (int)my_nnz, PEL_MPI_SIZE_T, root, DCSR_TAG + 1, comm, MPI_STATUS_IGNORE);
        MPI_Recv(my_val, (int)my_nnz, precision == PEL_FLOAT32 ? MPI_FLOAT : MPI_DOUBLE, root, DCSR_TAG + 2, comm,
                 MPI_STATUS_IGNORE);
    }
    my_ptr[0] = 0;
    for (size_t i = 0; i < local_rows; i++)
        my_ptr[i + 1] = my_ptr[i] + lengths[i];
    status = dcsr_build(fn, comm, status, precision, local_rows, local_cols, my_ptr, my_col, my_val, out);
done:
    free(starts);
    free(full_ptr);
    free(full_col);
    free(full_val);
    free(lengths);
    free(my_ptr);
    free(my_col);
    free(my_val);
    return status;
}

pel_status pel_dcsr_distribute(MPI_Comm comm, int root, const pel_csr *matrix, const size_t *row_starts,
                               pel_dcsr **out)
{
    const char *fn = "pel_dcsr_distribute";
    int size, rank;
    pel_status status = check_start(fn, comm, out, &size, &rank);

    if (status != PEL_OK)
        return status;
    return distribute(fn, comm, root, matrix, row_starts, PEL_OK, out);
}

pel_status pel_dcsr_read_mtx(MPI_Comm comm, const char *path, pel_precision precision, pel_dcsr **out)
{
    const char *fn = "pel_dcsr_read_mtx";
    int size, rank;
    pel_csr *matrix = NULL;
    pel_status status = check_start(fn, comm, out, &size, &rank);

    if (status != PEL_OK)
        return status;
    if (rank == 0 && out != NULL) {
        status = pel_csr_read_mtx(path, precision, &matrix);
        if (status != PEL_OK) {
            char reason[512];
            strncpy(reason, pel__mpi_reason("pel_csr_read_mtx"), sizeof reason - 1);
            reason[sizeof reason - 1] = '\0';
            status = pel__fail(status, fn, "%s", reason);
        }
    }
    status = distribute(fn, comm, 0, matrix, NULL, status, out);
    pel_csr_destroy(matrix);
    return status;
}

void pel_dcsr_destroy(pel_dcsr *matrix)
{
    if (matrix == NULL || !pel__handle_unregister(matrix, PEL__HANDLE_DCSR, "pel_dcsr_destroy"))
        return;
    pel__mpi_live_remove(&live_matrices, matrix);
    release(matrix);
}

pel_status pel_dcsr_info(const pel_dcsr *matrix, pel_dcsr_layout *layout)
{
    pel_status status = pel__handle_check(matrix, PEL__HANDLE_DCSR, -1, __func__, "matrix");
    if (status != PEL_OK)
        return status;
    if (layout == NULL)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "layout must not be NULL");
    layout->global_rows = matrix->global_rows;
    layout->global_cols = matrix->global_cols;
    layout->row_start = matrix->row_start;
    layout->local_rows = matrix->local_rows;
    layout->col_start = matrix->col_start;
    layout->local_cols = matrix->local_cols;
    layout->local_nnz = matrix->nnz;
    layout->ghost_cols = matrix->nghost;
    layout->send_count = matrix->send_at ? matrix->send_at[matrix->nsend] : 0;
    layout->neighbours = matrix->nrecv;
    return PEL_OK;
}

/* ------------------------------------------------------------ the product */

/* Items [*first, *last) of thread t of a team of n: contiguous runs of
 * about equal weight, item i weighing prefix[i+1] - prefix[i] + per_item
 * (prefix: count + 1 nondecreasing values). */
static void weighted_range(const size_t *prefix, size_t per_item, size_t count, int t, int n, size_t *first,
                           size_t *last)
{
    size_t b[2];
    for (int j = 0; j < 2; j++) {
        unsigned __int128 total = (unsigned __int128)prefix[count] + (unsigned __int128)per_item * count;
        unsigned __int128 target = total * (unsigned)(t + j) / (unsigned)n;
        size_t lo = 0, hi = count; /* the first item whose weight prefix reaches the target */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((unsigned __int128)prefix[mid] + (unsigned __int128)per_item * mid < target)
                lo = mid + 1;
            else
                hi = mid;
        }
        b[j] = t + j == n ? count : lo;
    }
    *first = b[0];
    *last = b[1];
}

/* Rows [*first, *last) of thread t of a team of n: entries +
 * DCSR_ROW_WEIGHT per row. */
static void thread_rows(const pel_dcsr *m, int t, int n, size_t *first, size_t *last)
{
    weighted_range(m->row_ptr, DCSR_ROW_WEIGHT, m->local_rows, t, n, first, last);
}

/* The rest rows of thread t, split by their entries after the lead (plus
 * DCSR_ROW_WEIGHT per row, counted in rest_weight), so that the rows with
 * many ghost entries (a power law's hubs) do not pile up on one thread. */
static void rest_range(const pel_dcsr *m, int t, int n, size_t *first, size_t *last)
{
    weighted_range(m->rest_weight, 0, m->nrest, t, n, first, last);
}

/* The kernels, once per precision: the own-column leads (finishing rows
 * without ghosts), then the rest of the rows that read ghosts. Every
 * element is the serial kernel's expression: s from 0, s += v*x left to
 * right, y = alpha*s (+ beta*y). With `whole` set the lead kernel sums
 * every row to its end: the one-pass product, whose x is then the ghost
 * buffer with the rank's block of x copied in front. */
/* The first of the rows that read ghosts at or after row `row`. */
static size_t first_rest(const pel_dcsr *m, size_t row)
{
    size_t lo = 0, hi = m->nrest;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->rest_rows[mid] < row)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#define DCSR_KERNELS(T, SUFFIX)                                                                                    \
    static void lead_##SUFFIX(const pel_dcsr *m, size_t first, size_t last, T alpha, const T *restrict x,          \
                              T beta, T *restrict y, int whole)                                                    \
    {                                                                                                              \
        const T *restrict v = m->values;                                                                           \
        const uint32_t *restrict c = m->col, *restrict end = m->end, *restrict rest = m->rest_rows;                \
        T *restrict partial = m->partial;                                                                          \
        size_t k = m->row_ptr[first], j = first_rest(m, first);                                                    \
        const size_t far = m->nnz > DCSR_PREFETCH_ENTRIES ? m->nnz - DCSR_PREFETCH_ENTRIES : 0;                    \
        for (size_t i = first; i < last; i++) {                                                                    \
            const size_t e = end[i];                                                                               \
            T s = 0;                                                                                               \
            if (k < far) {                                                                                         \
                __builtin_prefetch(v + k + DCSR_PREFETCH_ENTRIES);                                                 \
                __builtin_prefetch(c + k + DCSR_PREFETCH_ENTRIES);                                                 \
            }                                                                                                      \
            if (!whole && j < m->nrest && rest[j] == i) { /* reads ghosts: its lead only */                       \
                const size_t l = m->rest_lead[j];                                                                  \
                for (; k < l; k++)                                                                                 \
                    s += v[k] * x[c[k]];                                                                           \
                partial[j++] = s;                                                                                  \
                k = e;                                                                                             \
                continue;                                                                                          \
            }                                                                                                      \
            for (; k < e; k++)                                                                                     \
                s += v[k] * x[c[k]];                                                                               \
            if (beta == 0)                                                                                         \
                y[i] = alpha * s;                                                                                  \
            else                                                                                                   \
                y[i] = alpha * s + beta * y[i];                                                                    \
        }                                                                                                          \
    }                                                                                                              \
    static void rest_##SUFFIX(const pel_dcsr *m, size_t first, size_t last, T alpha, const T *restrict x,          \
                              T beta, T *restrict y)                                                               \
    {                                                                                                              \
        const T *restrict v = m->values, *restrict g = m->ghost;                                                   \
        const uint32_t *restrict c = m->col;                                                                       \
        const T *restrict partial = m->partial;                                                                    \
        const size_t nl = m->local_cols;                                                                           \
        const size_t far = m->nnz > DCSR_PREFETCH_ENTRIES ? m->nnz - DCSR_PREFETCH_ENTRIES : 0;                    \
        for (size_t j = first; j < last; j++) {                                                                    \
            const size_t i = m->rest_rows[j], e = m->end[i];                                                       \
            T s = partial[j];                                                                                      \
            if (m->rest_lead[j] < far) {                                                                           \
                __builtin_prefetch(v + m->rest_lead[j] + DCSR_PREFETCH_ENTRIES);                                   \
                __builtin_prefetch(c + m->rest_lead[j] + DCSR_PREFETCH_ENTRIES);                                   \
            }                                                                                                      \
            if (m->copy_x) /* g holds the block of x in front of the ghosts */                                    \
                for (size_t k = m->rest_lead[j]; k < e; k++)                                                       \
                    s += v[k] * g[c[k]];                                                                           \
            else                                                                                                   \
                for (size_t k = m->rest_lead[j]; k < e; k++)                                                       \
                    s += v[k] * (c[k] < nl ? x[c[k]] : g[c[k]]);                                                   \
            if (beta == 0)                                                                                         \
                y[i] = alpha * s;                                                                                  \
            else                                                                                                   \
                y[i] = alpha * s + beta * y[i];                                                                    \
        }                                                                                                          \
    }

DCSR_KERNELS(double, double)
DCSR_KERNELS(float, float)

/* [a, a + a_bytes) and [b, b + b_bytes) share a byte. */
static int overlap(const void *a, size_t a_bytes, const void *b, size_t b_bytes)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    if (a_bytes == 0 || b_bytes == 0)
        return 0;
    return x < y + b_bytes && y < x + a_bytes;
}

/* A scalar for the agreement: NaN compares unequal to itself, so it is
 * agreed on as a value no finite scalar takes here. */
static double agreed_value(double v)
{
    return isnan(v) ? -0x1.fffffffffffffp+1023 : v;
}

pel_status pel_dcsr_spmv(pel_dcsr *matrix, double alpha, const void *x_local, double beta, void *y_local)
{
    const char *fn = "pel_dcsr_spmv";
    MPI_Comm comm;
    pel_dcsr *m = matrix;
    pel__mpi_same same[2] = {{"alpha", agreed_value(alpha)}, {"beta", agreed_value(beta)}};
    pel_status status = pel__mpi_ready(fn);
    int single, skip, nreq, threads, arrived = 0;
    size_t work;
    PEL__TEAM_SCOPE(team);

    if (status != PEL_OK)
        return status;
    comm = agreement_comm(m);
    status = pel__handle_check(m, PEL__HANDLE_DCSR, -1, fn, "matrix");
    if (status == PEL_OK && x_local == NULL && m->local_cols > 0)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "x_local must not be NULL when local_cols=%zu > 0",
                           m->local_cols);
    if (status == PEL_OK && y_local == NULL && m->local_rows > 0)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "y_local must not be NULL when local_rows=%zu > 0",
                           m->local_rows);
    if (status == PEL_OK && overlap(x_local, m->local_cols * m->elem, y_local, m->local_rows * m->elem))
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "x_local and y_local overlap in memory");
    if (comm == MPI_COMM_NULL)
        return status; /* no live matrix to reach the peers through */
    status = pel__mpi_agree(comm, fn, status, same, status == PEL_OK ? 2 : 0);
    if (status != PEL_OK)
        return status;

    single = m->precision == PEL_FLOAT32;
    /* alpha = 0 (or rounding to 0 in float): neither A nor x is read, as in
     * the serial product, and nothing is exchanged (alpha agreed). */
    skip = alpha == 0.0 || (single && (float)alpha == 0.0f);
    if (!pel__mul_size(2, m->nnz, &work) || !pel__add_size(work, m->local_rows, &work))
        work = SIZE_MAX;
    threads = pel__team_take(&team, pel__tune_threads_for_openmp_work(work));
    if (skip) {
        for (size_t i = 0; i < m->local_rows; i++) {
            if (single) {
                float *y = y_local, b = (float)beta;
                y[i] = b == 0.0f ? 0.0f : b * y[i];
            } else {
                double *y = y_local;
                y[i] = beta == 0.0 ? 0.0 : beta * y[i];
            }
        }
        return PEL_OK;
    }
    /* Pack and start the exchange, sum the leads while it travels. */
    nreq = m->nrecv + m->nsend;
    {
        const size_t nsend = m->send_at[m->nsend];
        if (single)
            for (size_t k = 0; k < nsend; k++)
                ((float *)m->send_buf)[k] = ((const float *)x_local)[m->send_idx[k]];
        else
            for (size_t k = 0; k < nsend; k++)
                ((double *)m->send_buf)[k] = ((const double *)x_local)[m->send_idx[k]];
    }
    if (nreq > 0 && MPI_Startall(nreq, m->requests) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Startall of the ghost exchange failed");
    if (m->copy_x && m->local_cols > 0) /* while the ghosts travel */
        memcpy(m->ghost, x_local, m->local_cols * m->elem);
    if (m->one_pass) {
        /* Wait, then every row whole from the ghost buffer (the block of x
         * in front): the same sums, left to right from 0.0. */
        if (nreq > 0 && MPI_Waitall(nreq, m->requests, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
            return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Waitall of the ghost exchange failed");
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
            size_t first, last;
            thread_rows(m, omp_get_thread_num(), omp_get_num_threads(), &first, &last);
            if (single)
                lead_float(m, first, last, (float)alpha, m->ghost, (float)beta, y_local, 1);
            else
                lead_double(m, first, last, alpha, m->ghost, beta, y_local, 1);
        }
        return PEL_OK;
    }
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        size_t first, last;
        int t = omp_get_thread_num();
        thread_rows(m, t, omp_get_num_threads(), &first, &last);
        /* The main thread (MPI_THREAD_FUNNELED: the only one calling MPI)
         * works in chunks and tests the requests between them, so that
         * Open MPI moves messages past its eager limit (rendezvous) while
         * the rows are summed rather than in the wait. */
        for (size_t at = first; at < last;) {
            size_t upto = t == 0 && nreq > 0 && last - at > DCSR_PROGRESS_ROWS ? at + DCSR_PROGRESS_ROWS : last;
            if (single)
                lead_float(m, at, upto, (float)alpha, x_local, (float)beta, y_local, 0);
            else
                lead_double(m, at, upto, alpha, x_local, beta, y_local, 0);
            at = upto;
            if (t == 0 && nreq > 0 && !arrived)
                MPI_Testall(nreq, m->requests, &arrived, MPI_STATUSES_IGNORE);
        }
    }
    if (nreq > 0 && !arrived && MPI_Waitall(nreq, m->requests, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Waitall of the ghost exchange failed");
#pragma omp parallel num_threads(threads) if (threads > 1 && m->nrest > 64)
    {
        size_t first, last;
        rest_range(m, omp_get_thread_num(), omp_get_num_threads(), &first, &last);
        if (single)
            rest_float(m, first, last, (float)alpha, x_local, (float)beta, y_local);
        else
            rest_double(m, first, last, alpha, x_local, beta, y_local);
    }
    return PEL_OK;
}
