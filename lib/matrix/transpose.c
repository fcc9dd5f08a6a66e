/* Out-of-place copy/transpose (omatcopy) and in-place square transpose.
 * Both work in column-major form (a row-major rows x cols matrix is a
 * column-major cols x rows one) and split the work into fixed strips, so
 * every element is written exactly once with the same value whatever the
 * thread count. */
#include "config.h"

#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "exec/exec.h"
#include "matrix/kernels/kernels.h"
#include "matrix/matrix_internal.h"

/* Transpose tiles of A: 256 rows (32 lines of each column) by 32 columns.
 * The kernel walks a tile in 8 x 8 blocks, rows outer, so the 32 lines of A
 * that the next block row needs are still cached and B's lines are written
 * whole. Measured on a 4096^2 and an 8192^2 transpose (docs/matrix.md),
 * 256 x 32 beat strips of 8 rows or 8 columns by 2-3x and square tiles of
 * 32..256 by 20-50%. Consecutive tiles share a band of rows; they are
 * handed out dynamically, 4 at a time, so a slow or preempted thread does
 * not hold the others up. */
enum { TILE_ROWS = 256, TILE_COLS = 32, SQUARE_TILE = 32 };

/* B larger than this is written with streaming stores: it would not stay in
 * cache anyway, and skipping the read-for-ownership saves a third of the
 * traffic (26 -> 39 GB/s copy on the project machine). */
#define STREAM_BYTES ((size_t)16 << 20)

typedef struct omatcopy_job {
    int single;
    int trans;
    int nontemporal;
    size_t rows, cols; /* of A, column-major */
    double alpha;
    const char *a;
    char *b;
    size_t lda, ldb;
    const pel__matrix_kernels *kernels;
} omatcopy_job;

static int copy_columns(size_t begin, size_t end, void *arg)
{
    const omatcopy_job *job = arg;
    size_t elem = job->single ? sizeof(float) : sizeof(double);

    for (size_t j = begin; j < end; j++) {
        const char *src = job->a + j * job->lda * elem;
        char *dst = job->b + j * job->ldb * elem;
        if (job->alpha == 1.0)
            memcpy(dst, src, job->rows * elem);
        else if (job->single) {
            const float *s = (const float *)src;
            float *d = (float *)dst, alpha = (float)job->alpha;
            for (size_t i = 0; i < job->rows; i++)
                d[i] = alpha * s[i];
        } else {
            const double *s = (const double *)src;
            double *d = (double *)dst, alpha = job->alpha;
            for (size_t i = 0; i < job->rows; i++)
                d[i] = alpha * s[i];
        }
    }
    return 0;
}

/* One task is one tile of TILE_ROWS x TILE_COLS of A (column-major). */
static int transpose_tiles(size_t begin, size_t end, void *arg)
{
    const omatcopy_job *job = arg;
    size_t tiles_j = (job->cols + TILE_COLS - 1) / TILE_COLS;

    for (size_t t = begin; t < end; t++) {
        size_t i0 = t / tiles_j * TILE_ROWS, j0 = t % tiles_j * TILE_COLS;
        size_t rows = job->rows - i0 < TILE_ROWS ? job->rows - i0 : TILE_ROWS;
        size_t cols = job->cols - j0 < TILE_COLS ? job->cols - j0 : TILE_COLS;
        if (job->single)
            job->kernels->stranspose_tile(rows, cols, (float)job->alpha, (const float *)job->a + i0 + j0 * job->lda,
                                          job->lda, (float *)job->b + j0 + i0 * job->ldb, job->ldb, job->nontemporal);
        else
            job->kernels->dtranspose_tile(rows, cols, job->alpha, (const double *)job->a + i0 + j0 * job->lda,
                                          job->lda, (double *)job->b + j0 + i0 * job->ldb, job->ldb,
                                          job->nontemporal);
    }
    return 0;
}

static pel_status omatcopy(const char *function, int single, pel_layout layout, pel_transpose trans, size_t rows,
                           size_t cols, double alpha, const void *a, size_t lda, void *b, size_t ldb)
{
    size_t elem = single ? sizeof(float) : sizeof(double);
    pel__matrix_arg ma = {"a", "lda", a, rows, cols, lda, 0}, mb = {"b", "ldb", b, rows, cols, ldb, 0};
    size_t span_a, span_b, work;
    omatcopy_job job;
    pel_status status;

    if ((status = pel__check_layout(function, layout)) != PEL_OK ||
        (status = pel__check_transpose(function, "trans", trans)) != PEL_OK)
        return status;
    if (trans != PEL_NO_TRANS) {
        mb.rows = cols;
        mb.cols = rows;
    }
    if ((status = pel__check_matrix(function, layout, &ma, elem, &span_a)) != PEL_OK ||
        (status = pel__check_matrix(function, layout, &mb, elem, &span_b)) != PEL_OK)
        return status;
    if (pel__ranges_overlap(a, span_a * elem, b, span_b * elem))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "a and b overlap (use pel_%ctranspose_square for an in-place transpose)", single ? 's' : 'd');
    if (rows == 0 || cols == 0)
        return PEL_OK;
    job.single = single;
    job.trans = trans != PEL_NO_TRANS;
    job.rows = layout == PEL_COL_MAJOR ? rows : cols;
    job.cols = layout == PEL_COL_MAJOR ? cols : rows;
    job.alpha = alpha;
    job.a = a;
    job.b = b;
    job.lda = lda;
    job.ldb = ldb;
    job.kernels = pel__matrix_kernels_get();
    job.nontemporal = span_b * elem >= STREAM_BYTES;
    /* Work units: elements moved (read and written). */
    work = rows * cols * 2;
    if (!job.trans)
        return pel__parallel_for(pel__tune_threads_for_work(work), 0, job.cols, PEL_SCHEDULE_STATIC, 0, copy_columns,
                                 &job);
    return pel__parallel_for(pel__tune_threads_for_work(work), 0,
                             ((job.rows + TILE_ROWS - 1) / TILE_ROWS) * ((job.cols + TILE_COLS - 1) / TILE_COLS),
                             PEL_SCHEDULE_DYNAMIC, 4, transpose_tiles, &job);
}

pel_status pel_domatcopy(pel_layout layout, pel_transpose trans, size_t rows, size_t cols, double alpha,
                         const double *a, size_t lda, double *b, size_t ldb)
{
    return omatcopy(__func__, 0, layout, trans, rows, cols, alpha, a, lda, b, ldb);
}

pel_status pel_somatcopy(pel_layout layout, pel_transpose trans, size_t rows, size_t cols, float alpha,
                         const float *a, size_t lda, float *b, size_t ldb)
{
    return omatcopy(__func__, 1, layout, trans, rows, cols, alpha, a, lda, b, ldb);
}

/* ------------------------------------------------------------ in place */

typedef struct square_job {
    int single;
    size_t n, lda, tiles;
    void *a;
} square_job;

/* Handles tile row bi: the diagonal tile and the swaps of tiles (bi, bj)
 * with (bj, bi) for bj > bi. Distinct bi touch distinct elements. */
static int square_tile_rows(size_t begin, size_t end, void *arg)
{
    const square_job *job = arg;

    for (size_t bi = begin; bi < end; bi++) {
        size_t i0 = bi * SQUARE_TILE, i1 = i0 + SQUARE_TILE < job->n ? i0 + SQUARE_TILE : job->n;
        for (size_t bj = bi; bj < job->tiles; bj++) {
            size_t j0 = bj * SQUARE_TILE, j1 = j0 + SQUARE_TILE < job->n ? j0 + SQUARE_TILE : job->n;
            for (size_t j = j0; j < j1; j++) {
                /* On the diagonal tile only the part below the diagonal moves. */
                size_t iend = bi == bj ? j : i1;
                if (job->single) {
                    float *a = job->a;
                    for (size_t i = i0; i < iend; i++) {
                        float t = a[i + j * job->lda];
                        a[i + j * job->lda] = a[j + i * job->lda];
                        a[j + i * job->lda] = t;
                    }
                } else {
                    double *a = job->a;
                    for (size_t i = i0; i < iend; i++) {
                        double t = a[i + j * job->lda];
                        a[i + j * job->lda] = a[j + i * job->lda];
                        a[j + i * job->lda] = t;
                    }
                }
            }
        }
    }
    return 0;
}

static pel_status transpose_square(const char *function, int single, size_t n, void *a, size_t lda)
{
    size_t elem = single ? sizeof(float) : sizeof(double), span;
    pel__matrix_arg ma = {"a", "lda", a, n, n, lda, 0};
    square_job job = {single, n, lda, (n + SQUARE_TILE - 1) / SQUARE_TILE, a};
    pel_status status;

    if ((status = pel__check_matrix(function, PEL_COL_MAJOR, &ma, elem, &span)) != PEL_OK)
        return status;
    if (n < 2)
        return PEL_OK;
    /* Tile rows near the top carry more tiles: dynamic hand-out balances. */
    return pel__parallel_for(pel__tune_threads_for_work(n * n), 0, job.tiles, PEL_SCHEDULE_DYNAMIC, 1, square_tile_rows,
                             &job);
}

pel_status pel_dtranspose_square(size_t n, double *a, size_t lda)
{
    return transpose_square(__func__, 0, n, a, lda);
}

pel_status pel_stranspose_square(size_t n, float *a, size_t lda)
{
    return transpose_square(__func__, 1, n, a, lda);
}
