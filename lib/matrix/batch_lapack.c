/* Batched LAPACK: stacks of small solves, inverses, determinants, Cholesky
 * factors, symmetric eigenproblems and SVDs, the items shared out over
 * pel's threads, one LAPACK call per item on one thread.
 *
 * One driver serves every operation. Each item is copied from the caller's
 * layout into per-thread column-major scratch (LAPACK overwrites its input,
 * and the copy turns any layout, leading dimension and stride into the one
 * LAPACK wants), solved there, and its results written to dense column-major
 * staging buffers; only when every item succeeded are the staged results
 * copied to the caller's outputs, so a failure leaves them untouched (the
 * out-argument rule) and the message names the smallest failing item
 * whatever the thread count. The extra copies are O(n^2) per item against
 * LAPACK's O(n^3). Double gesv items up to SMALL_LU_MAX run on pel's own
 * LU instead (LAPACK's fixed cost per call is most of an 8 x 8 solve), in
 * the caller's layout, so that they need no transposing copy either. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "matrix/matrix_internal.h"

/* LAPACK's Fortran entry points in OpenBLAS (32-bit integers; gfortran's
 * hidden lengths of character arguments passed by value at the end). */
void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
void sgetrf_(const int *m, const int *n, float *a, const int *lda, int *ipiv, int *info);
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv, double *b, const int *ldb,
            int *info);
void sgesv_(const int *n, const int *nrhs, float *a, const int *lda, int *ipiv, float *b, const int *ldb,
            int *info);
void zgesv_(const int *n, const int *nrhs, void *a, const int *lda, int *ipiv, void *b, const int *ldb, int *info);
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len, size_t uplo_len);
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w, float *work,
             const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len, size_t uplo_len);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u,
             const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info,
             size_t jobz_len);
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u,
             const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork, int *iwork, int *info,
             size_t jobz_len);

typedef enum batch_op { OP_GESV, OP_INV, OP_DET, OP_CHOLESKY, OP_EIGH, OP_SVD } batch_op;
typedef enum scalar_type { REAL64, REAL32, COMPLEX128 } scalar_type;

enum { MAX_OUTPUTS = 3 };

/* A stacked argument as the caller passed it: item i starts at element
 * i*stride of data and is rows x cols in layout with leading dimension ld. */
typedef struct stacked {
    const char *name, *ld_name, *stride_name;
    void *data;
    size_t rows, cols, ld, stride;
    pel_layout layout;
} stacked;

typedef struct batch_job {
    const char *function;
    batch_op op;
    scalar_type type;
    size_t elem;              /* bytes of one scalar */
    size_t m, n, nrhs, batch; /* A is m x n (n x n except for the SVD) */
    pel_uplo uplo;
    int vectors;        /* eigh/svd: compute vectors */
    int full_matrices;  /* svd */
    stacked a, b;       /* inputs (b: gesv only) */
    stacked out[MAX_OUTPUTS];
    int outputs;
    char *stage[MAX_OUTPUTS]; /* dense column-major items, rows*cols each */
    int lwork, liwork;        /* eigh/svd workspace sizes from LAPACK's query */
} batch_job;

/* ------------------------------------------------------------ validation */

static size_t item_span(const stacked *s)
{
    if (s->rows == 0 || s->cols == 0)
        return 0;
    return s->layout == PEL_ROW_MAJOR ? (s->rows - 1) * s->ld + s->cols : (s->cols - 1) * s->ld + s->rows;
}

/* Checks one stacked argument and writes its total extent in bytes. */
static pel_status check_stacked(const batch_job *job, const stacked *s, int is_output, size_t *bytes)
{
    size_t row_length = s->layout == PEL_ROW_MAJOR ? s->cols : s->rows, span, total;

    *bytes = 0;
    if (s->ld < (row_length > 1 ? row_length : 1))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, job->function, "%s=%zu is smaller than %zu, the %s of %s",
                         s->ld_name, s->ld, row_length > 1 ? row_length : 1,
                         s->layout == PEL_ROW_MAJOR ? "columns" : "rows", s->name);
    if (!pel__mul_size(s->rows > s->cols ? s->rows : s->cols, s->ld, &span))
        return pel__fail(PEL_ERROR_OVERFLOW, job->function, "%s: one item overflows size_t", s->name);
    span = item_span(s);
    if (span == 0 || job->batch == 0)
        return PEL_OK;
    if (s->data == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, job->function, "%s must not be NULL", s->name);
    if (s->stride < span && !(s->stride == 0 && (!is_output || job->batch == 1)) && job->batch > 1)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, job->function,
                         "%s=%zu is smaller than one item of %s (%zu elements)%s", s->stride_name, s->stride,
                         s->name, span, is_output ? "" : "; 0 shares one item");
    if (!pel__mul_size(job->batch - 1, s->stride, &total) || !pel__add_size(total, span, &total) ||
        !pel__mul_size(total, job->elem, &total) || total > (size_t)PTRDIFF_MAX)
        return pel__fail(PEL_ERROR_OVERFLOW, job->function, "%s: %zu items at %s=%zu overflow the address space",
                         s->name, job->batch, s->stride_name, s->stride);
    *bytes = total;
    return PEL_OK;
}

static pel_status check_job(batch_job *job)
{
    size_t in_bytes[2] = {0, 0}, out_bytes[MAX_OUTPUTS] = {0};
    const stacked *inputs[2] = {&job->a, job->op == OP_GESV ? &job->b : NULL};
    pel_status status;

    if ((status = pel__check_layout(job->function, job->a.layout)) != PEL_OK)
        return status;
    if ((job->op == OP_CHOLESKY || job->op == OP_EIGH) && job->uplo != PEL_UPPER && job->uplo != PEL_LOWER)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, job->function,
                         "uplo=%d is neither PEL_UPPER (121) nor PEL_LOWER (122)", (int)job->uplo);
    if ((status = pel__check_blas_int(job->function, "n", job->n)) != PEL_OK ||
        (job->op == OP_SVD && (status = pel__check_blas_int(job->function, "m", job->m)) != PEL_OK) ||
        (status = pel__check_blas_int(job->function, "nrhs", job->nrhs)) != PEL_OK)
        return status;
    for (int k = 0; k < 2; k++)
        if (inputs[k] != NULL && (status = check_stacked(job, inputs[k], 0, &in_bytes[k])) != PEL_OK)
            return status;
    for (int k = 0; k < job->outputs; k++) {
        if ((status = check_stacked(job, &job->out[k], 1, &out_bytes[k])) != PEL_OK)
            return status;
        for (int j = 0; j < 2; j++)
            if (inputs[j] != NULL &&
                pel__ranges_overlap(job->out[k].data, out_bytes[k], inputs[j]->data, in_bytes[j]))
                return pel__fail(PEL_ERROR_INVALID_ARGUMENT, job->function, "%s overlaps %s", job->out[k].name,
                                 inputs[j]->name);
        for (int j = 0; j < k; j++)
            if (pel__ranges_overlap(job->out[k].data, out_bytes[k], job->out[j].data, out_bytes[j]))
                return pel__fail(PEL_ERROR_INVALID_ARGUMENT, job->function, "%s overlaps %s", job->out[k].name,
                                 job->out[j].name);
    }
    return PEL_OK;
}

/* ------------------------------------------------------------ copies */

/* Element (r, c) of a stored item: its offset in elements. */
static size_t offset_of(const stacked *s, size_t r, size_t c)
{
    return s->layout == PEL_ROW_MAJOR ? r * s->ld + c : c * s->ld + r;
}

/* True when item storage is already dense in `dense` layout (a memcpy). */
static int stored_dense(const stacked *s, pel_layout dense)
{
    if (dense == PEL_ROW_MAJOR)
        return (s->layout == PEL_ROW_MAJOR && (s->ld == s->cols || s->rows == 1)) ||
               (s->layout == PEL_COL_MAJOR && s->cols == 1) || (s->rows == 1 && s->layout == PEL_COL_MAJOR && s->ld == 1);
    return (s->layout == PEL_COL_MAJOR && (s->ld == s->rows || s->cols == 1)) ||
           (s->layout == PEL_ROW_MAJOR && s->rows == 1) || (s->cols == 1 && s->layout == PEL_ROW_MAJOR && s->ld == 1);
}

/* Copies item i of s to (to_dense) or from buffer d, rows x cols dense in
 * `dense` layout. Typed loops: a memcpy per element would cost more than
 * LAPACK itself on 8 x 8 items. */
static void copy_item(const stacked *s, size_t elem, size_t i, char *d, int to_dense, pel_layout dense_layout)
{
    char *base = (char *)s->data + i * s->stride * elem;
    size_t rows = s->rows, cols = s->cols;
    size_t dense_row_step = dense_layout == PEL_ROW_MAJOR ? cols : 1;
    size_t dense_col_step = dense_layout == PEL_ROW_MAJOR ? 1 : rows;

    if (stored_dense(s, dense_layout)) {
        if (to_dense)
            memcpy(d, base, rows * cols * elem);
        else
            memcpy(base, d, rows * cols * elem);
        return;
    }
#define PEL_COPY_LOOP(type)                                                      \
    do {                                                                          \
        type *stored = (type *)(void *)base, *dense = (type *)(void *)d;          \
        for (size_t c = 0; c < cols; c++)                                         \
            for (size_t r = 0; r < rows; r++) {                                   \
                if (to_dense)                                                     \
                    dense[r * dense_row_step + c * dense_col_step] =              \
                        stored[offset_of(s, r, c)];                               \
                else                                                              \
                    stored[offset_of(s, r, c)] =                                  \
                        dense[r * dense_row_step + c * dense_col_step];           \
            }                                                                     \
    } while (0)
    if (elem == sizeof(double))
        PEL_COPY_LOOP(double);
    else if (elem == sizeof(float))
        PEL_COPY_LOOP(float);
    else {
        typedef struct { double re, im; } complex_pair;
        PEL_COPY_LOOP(complex_pair);
    }
#undef PEL_COPY_LOOP
}

static void copy_in(const stacked *s, size_t elem, size_t i, char *dst, pel_layout dense_layout)
{
    copy_item(s, elem, i, dst, 1, dense_layout);
}

static void copy_out(const stacked *s, size_t elem, size_t i, const char *src, pel_layout dense_layout)
{
    copy_item(s, elem, i, (char *)(uintptr_t)src, 0, dense_layout);
}

/* ------------------------------------------------------------ small LU */

/* Up to this order, double gesv items run on pel's own LU below instead of
 * LAPACK's dgesv: on 8 x 8 items OpenBLAS's dgesv costs 0.38 us an item on
 * one core (argument checks, a buffer from its memory pool, the blocked
 * driver), this loop 0.17 us (Xeon VM; docs/python.md). Above it OpenBLAS's
 * blocked kernels win. */
enum { SMALL_LU_MAX = 16 };

/* LAPACK's dgetf2 + dgetrs on one dense item, in either layout so that a
 * row-major item needs no transposing copy: LU with partial pivoting (the
 * first largest |a(i,k)|, as idamax; a zero pivot stops with info = k, as
 * dgesv; the multipliers scaled by the pivot's reciprocal unless it is
 * below DBL_MIN, as dgetf2), then L y = P b and U x = y (dtrsm's order:
 * each x(k) divided by u(k,k), then eliminated from the rows above).
 * (rs, cs) are a's row and column steps, (brs, bcs) b's; called with
 * constants so that the compiler specialises each layout. */
static inline int small_lu_solve(int n, int nrhs, double *a, size_t rs, size_t cs, double *b, size_t brs, size_t bcs)
{
#define A_(i, j) a[(size_t)(i) * rs + (size_t)(j) * cs]
#define B_(i, j) b[(size_t)(i) * brs + (size_t)(j) * bcs]
    for (int k = 0; k < n; k++) {
        int p = k;
        double largest = fabs(A_(k, k)), pivot, reciprocal;
        for (int i = k + 1; i < n; i++)
            if (fabs(A_(i, k)) > largest) {
                largest = fabs(A_(i, k));
                p = i;
            }
        if (A_(p, k) == 0.0)
            return k + 1;
        if (p != k) {
            for (int j = 0; j < n; j++) {
                double t = A_(k, j);
                A_(k, j) = A_(p, j);
                A_(p, j) = t;
            }
            for (int j = 0; j < nrhs; j++) {
                double t = B_(k, j);
                B_(k, j) = B_(p, j);
                B_(p, j) = t;
            }
        }
        pivot = A_(k, k);
        reciprocal = 1.0 / pivot;
        for (int i = k + 1; i < n; i++) {
            double l = fabs(pivot) >= DBL_MIN ? A_(i, k) * reciprocal : A_(i, k) / pivot;
            A_(i, k) = l;
            for (int j = k + 1; j < n; j++)
                A_(i, j) -= l * A_(k, j);
        }
    }
    for (int k = 0; k < n; k++)
        for (int i = k + 1; i < n; i++)
            for (int j = 0; j < nrhs; j++)
                B_(i, j) -= A_(i, k) * B_(k, j);
    for (int k = n - 1; k >= 0; k--)
        for (int j = 0; j < nrhs; j++) {
            double x = B_(k, j) / A_(k, k);
            B_(k, j) = x;
            for (int i = 0; i < k; i++)
                B_(i, j) -= A_(i, k) * x;
        }
    return 0;
#undef A_
#undef B_
}

/* The small LU on dense items in `layout`; b is n x nrhs. */
static int small_dgesv(pel_layout layout, int n, int nrhs, double *a, double *b)
{
    if (layout == PEL_ROW_MAJOR)
        return small_lu_solve(n, nrhs, a, (size_t)n, 1, b, (size_t)nrhs, 1);
    return small_lu_solve(n, nrhs, a, 1, (size_t)n, b, 1, (size_t)n);
}

/* Whether a job's gesv items run on small_dgesv; their scratch and staging
 * are then dense in the caller's layout (no transposition either way). */
static int small_gesv(const batch_job *job)
{
    return job->op == OP_GESV && job->type == REAL64 && job->n <= SMALL_LU_MAX;
}

/* The layout of the dense staged items (see small_gesv). */
static pel_layout stage_layout(const batch_job *job)
{
    return small_gesv(job) ? job->a.layout : PEL_COL_MAJOR;
}

/* Row-major A with ld = n read as column-major is A^T, and det(A^T) =
 * det(A): determinants skip the transposing copy. */
static int transposed_input(const batch_job *job)
{
    return job->op == OP_DET && job->a.layout == PEL_ROW_MAJOR && job->a.ld == job->n;
}

/* ------------------------------------------------------------ items */

typedef struct scratch {
    char *a, *b, *work;
    int *ipiv, *iwork;
} scratch;

static int as_int(size_t v)
{
    return (int)v; /* checked against INT_MAX by check_job */
}

/* Solves item i; returns LAPACK's info (0 on success). */
static int run_item(const batch_job *job, size_t i, scratch *w)
{
    const size_t elem = job->elem;
    int m = as_int(job->m), n = as_int(job->n), nrhs = as_int(job->nrhs), info = 0;
    char *stage0 = job->stage[0] ? job->stage[0] + i * job->out[0].rows * job->out[0].cols * elem : NULL;
    char uplo = job->uplo == PEL_UPPER ? 'U' : 'L';

    if (small_gesv(job)) {
        copy_in(&job->a, elem, i, w->a, job->a.layout);
        copy_in(&job->b, elem, i, w->b, job->a.layout);
        info = small_dgesv(job->a.layout, n, nrhs, (double *)w->a, (double *)w->b);
        if (info == 0)
            memcpy(stage0, w->b, job->n * job->nrhs * elem);
        return info;
    }
    if (transposed_input(job)) {
        memcpy(w->a, (const char *)job->a.data + i * job->a.stride * elem, job->n * job->n * elem);
    } else {
        copy_in(&job->a, elem, i, w->a, PEL_COL_MAJOR);
    }
    switch (job->op) {
    case OP_GESV:
    case OP_INV:
        if (job->op == OP_GESV) {
            copy_in(&job->b, elem, i, w->b, PEL_COL_MAJOR);
        } else {
            memset(w->b, 0, job->n * job->n * elem);
            for (size_t d = 0; d < job->n; d++) {
                if (job->type == REAL32)
                    ((float *)w->b)[d * job->n + d] = 1.0f;
                else
                    ((double *)w->b)[d * job->n + d] = 1.0;
            }
        }
        /* One LAPACK call per item (gesv = getrf + getrs inside): each
         * OpenBLAS LAPACK entry takes a buffer from its memory pool, so one
         * call instead of two halves that cost on 8 x 8 items. */
        if (job->type == REAL64)
            dgesv_(&n, &nrhs, (double *)w->a, &n, w->ipiv, (double *)w->b, &n, &info);
        else if (job->type == REAL32)
            sgesv_(&n, &nrhs, (float *)w->a, &n, w->ipiv, (float *)w->b, &n, &info);
        else
            zgesv_(&n, &nrhs, w->a, &n, w->ipiv, w->b, &n, &info);
        if (info != 0)
            return info;
        memcpy(stage0, w->b, job->n * job->nrhs * elem);
        return info;
    case OP_DET: {
        double det = 1.0, logabs = 0.0, sign = 1.0;
        if (job->type == REAL64)
            dgetrf_(&n, &n, (double *)w->a, &n, w->ipiv, &info);
        else
            sgetrf_(&n, &n, (float *)w->a, &n, w->ipiv, &info);
        if (info < 0)
            return info;
        /* info > 0: an exactly zero pivot, det = 0: not an error here.
         * det is U's diagonal product times the permutation's sign (-1 per
         * row interchange); sign and log|det| as numpy's slogdet. */
        for (int d = 0; d < n; d++) {
            double u = job->type == REAL64 ? ((double *)w->a)[(size_t)d * (size_t)n + (size_t)d]
                                           : (double)((float *)w->a)[(size_t)d * (size_t)n + (size_t)d];
            if (w->ipiv[d] != d + 1) {
                sign = -sign;
                det = -det;
            }
            det *= u;
            if (u < 0)
                sign = -sign;
            logabs += log(fabs(u));
        }
        if (info > 0) {
            sign = 0.0;
            logabs = -INFINITY;
            det = 0.0;
        }
        double values[3] = {det, sign, logabs};
        for (int k = 0; k < MAX_OUTPUTS; k++) {
            if (job->stage[k] == NULL)
                continue;
            if (job->type == REAL64)
                ((double *)job->stage[k])[i] = values[k];
            else
                ((float *)job->stage[k])[i] = (float)values[k];
        }
        return 0;
    }
    case OP_CHOLESKY:
        if (job->type == REAL64)
            dpotrf_(&uplo, &n, (double *)w->a, &n, &info, 1);
        else
            spotrf_(&uplo, &n, (float *)w->a, &n, &info, 1);
        if (info != 0)
            return info;
        /* The other triangle still holds A: zero it. */
        for (size_t c = 0; c < job->n; c++)
            for (size_t r = 0; r < job->n; r++)
                if ((job->uplo == PEL_LOWER && r < c) || (job->uplo == PEL_UPPER && r > c))
                    memset(w->a + (r + c * job->n) * elem, 0, elem);
        memcpy(stage0, w->a, job->n * job->n * elem);
        return 0;
    case OP_EIGH: {
        char jobz = job->vectors ? 'V' : 'N';
        char *wvals = job->stage[0] + i * job->n * elem;
        if (job->type == REAL64)
            dsyevd_(&jobz, &uplo, &n, (double *)w->a, &n, (double *)wvals, (double *)w->work, &job->lwork,
                    w->iwork, &job->liwork, &info, 1, 1);
        else
            ssyevd_(&jobz, &uplo, &n, (float *)w->a, &n, (float *)wvals, (float *)w->work, &job->lwork, w->iwork,
                    &job->liwork, &info, 1, 1);
        if (info == 0 && job->vectors)
            memcpy(job->stage[1] + i * job->n * job->n * elem, w->a, job->n * job->n * elem);
        return info;
    }
    case OP_SVD: {
        size_t k = job->m < job->n ? job->m : job->n;
        char jobz = !job->vectors ? 'N' : job->full_matrices ? 'A' : 'S';
        char *s = job->stage[0] + i * k * elem;
        char *u = job->vectors ? job->stage[1] + i * job->out[1].rows * job->out[1].cols * elem : NULL;
        char *vt = job->vectors ? job->stage[2] + i * job->out[2].rows * job->out[2].cols * elem : NULL;
        int ldu = m > 0 ? m : 1, ldvt = as_int(job->vectors ? job->out[2].rows : 1);
        if (ldvt < 1)
            ldvt = 1;
        if (job->type == REAL64)
            dgesdd_(&jobz, &m, &n, (double *)w->a, &m, (double *)s, (double *)u, &ldu, (double *)vt, &ldvt,
                    (double *)w->work, &job->lwork, w->iwork, &info, 1);
        else
            sgesdd_(&jobz, &m, &n, (float *)w->a, &m, (float *)s, (float *)u, &ldu, (float *)vt, &ldvt,
                    (float *)w->work, &job->lwork, w->iwork, &info, 1);
        return info;
    }
    }
    return 0;
}

/* LAPACK's workspace query for eigh and svd, on the calling thread. */
static void query_workspace(batch_job *job)
{
    int m = as_int(job->m), n = as_int(job->n), info = 0, lwork = -1, liwork = -1, iwork_size = 0;
    double work_size = 0;
    float work_size_f = 0;
    char uplo = job->uplo == PEL_UPPER ? 'U' : 'L';

    job->lwork = job->liwork = 1;
    if (job->op == OP_EIGH) {
        char jobz = job->vectors ? 'V' : 'N';
        if (job->type == REAL64)
            dsyevd_(&jobz, &uplo, &n, NULL, &n, NULL, &work_size, &lwork, &iwork_size, &liwork, &info, 1, 1);
        else {
            ssyevd_(&jobz, &uplo, &n, NULL, &n, NULL, &work_size_f, &lwork, &iwork_size, &liwork, &info, 1, 1);
            work_size = work_size_f;
        }
        job->liwork = iwork_size > 1 ? iwork_size : 1;
    } else if (job->op == OP_SVD) {
        char jobz = !job->vectors ? 'N' : job->full_matrices ? 'A' : 'S';
        int ld = m > 0 ? m : 1, ldvt = n > 0 ? n : 1;
        if (job->type == REAL64)
            dgesdd_(&jobz, &m, &n, NULL, &ld, NULL, NULL, &ld, NULL, &ldvt, &work_size, &lwork, NULL, &info, 1);
        else {
            sgesdd_(&jobz, &m, &n, NULL, &ld, NULL, NULL, &ld, NULL, &ldvt, &work_size_f, &lwork, NULL, &info, 1);
            work_size = work_size_f;
        }
        job->liwork = 8 * (m < n ? m : n) + 1;
    } else {
        return;
    }
    /* LAPACK returns the size as a floating-point number; round up. */
    job->lwork = work_size > 1 ? (int)ceil(work_size) + 1 : 1;
}

/* ------------------------------------------------------------ driver */

static pel_status run_job(batch_job *job)
{
    pel_status status = check_job(job);
    size_t stage_bytes[MAX_OUTPUTS] = {0}, work, first_bad = SIZE_MAX;
    int bad_info = 0, out_of_memory = 0, nthreads;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    if (status != PEL_OK)
        return status;
    if (job->batch == 0 || job->n == 0 || job->m == 0)
        return PEL_OK;
    for (int k = 0; k < job->outputs; k++) {
        job->stage[k] = NULL;
        if (job->out[k].data == NULL)
            continue;
        /* items * rows * cols fit: the outputs' validated extents hold them. */
        stage_bytes[k] = job->batch * job->out[k].rows * job->out[k].cols * job->elem;
        job->stage[k] = pel_malloc(stage_bytes[k] ? stage_bytes[k] : 1);
        if (job->stage[k] == NULL)
            out_of_memory = 1;
    }
    if (out_of_memory) {
        for (int k = 0; k < job->outputs; k++)
            pel_free(job->stage[k]);
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, job->function, "no memory to stage %zu results", job->batch);
    }
    query_workspace(job);
    /* Work units: about n^3 flops per item (m n^2 for the SVD). */
    if (!pel__mul_size(job->n * job->n, job->m, &work) || !pel__mul_size(work, job->batch, &work))
        work = SIZE_MAX;
    nthreads = pel_threads_for_work(work);
    if ((size_t)nthreads > job->batch)
        nthreads = (int)job->batch;
    nthreads = pel__team_take(&team, nthreads); /* the thread budget's share */

#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        size_t nn = job->m * job->n, nb = job->n * (job->op == OP_INV ? job->n : job->nrhs);
        scratch w;
        pel__blas_scope scope;
        int failed_alloc;

        w.a = pel_malloc(nn * job->elem + 64);
        w.b = pel_malloc((nb ? nb : 1) * job->elem + 64);
        w.work = pel_malloc((size_t)job->lwork * job->elem + 64);
        w.ipiv = pel_malloc((job->n + 1) * sizeof(int));
        w.iwork = pel_malloc((size_t)job->liwork * sizeof(int) + 64);
        failed_alloc = !w.a || !w.b || !w.work || !w.ipiv || !w.iwork;
        if (failed_alloc) {
#pragma omp atomic write
            out_of_memory = 1;
        }
        /* One LAPACK call per item on this thread: OpenBLAS's OpenMP build
         * sizes its team from this thread's OpenMP setting. */
        pel__blas_enter(&scope, 1);
#pragma omp for schedule(static)
        for (size_t i = 0; i < job->batch; i++) {
            int info;
            if (failed_alloc)
                continue;
            info = run_item(job, i, &w);
            if (info != 0) {
#pragma omp critical(pel_batch_lapack_failure)
                if (i < first_bad) {
                    first_bad = i;
                    bad_info = info;
                }
            }
        }
        pel__blas_leave(&scope);
        pel_free(w.a);
        pel_free(w.b);
        pel_free(w.work);
        pel_free(w.ipiv);
        pel_free(w.iwork);
    }

    if (out_of_memory)
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, job->function, "no memory for the per-thread LAPACK scratch");
    else if (first_bad != SIZE_MAX) {
        if (bad_info < 0)
            status = pel__fail(PEL_ERROR_BACKEND, job->function, "item %zu: LAPACK rejected argument %d (a bug in pel)",
                               first_bad, -bad_info);
        else if (job->op == OP_GESV || job->op == OP_INV)
            status = pel__fail(PEL_ERROR_SINGULAR, job->function,
                               "item %zu: the matrix is singular: pivot %d of %zu (U(%d,%d), 1-based) is exactly zero",
                               first_bad, bad_info, job->n, bad_info, bad_info);
        else if (job->op == OP_CHOLESKY)
            status = pel__fail(PEL_ERROR_NOT_POSITIVE_DEFINITE, job->function,
                               "item %zu: the matrix is not positive definite: the leading minor of order %d is not "
                               "positive",
                               first_bad, bad_info);
        else
            status = pel__fail(PEL_ERROR_NOT_CONVERGED, job->function,
                               "item %zu: LAPACK's iteration did not converge (info=%d)", first_bad, bad_info);
    } else {
        for (int k = 0; k < job->outputs; k++) {
            if (job->stage[k] == NULL)
                continue;
            size_t per_item = job->out[k].rows * job->out[k].cols * job->elem;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
            for (size_t i = 0; i < job->batch; i++)
                copy_out(&job->out[k], job->elem, i, job->stage[k] + i * per_item, stage_layout(job));
        }
    }
    for (int k = 0; k < job->outputs; k++)
        pel_free(job->stage[k]);
    return status;
}

/* ------------------------------------------------------------ public */

static stacked input(const char *name, const char *ld_name, const char *stride_name, const void *data, size_t rows,
                     size_t cols, size_t ld, size_t stride, pel_layout layout)
{
    stacked s = {name, ld_name, stride_name, (void *)(uintptr_t)data, rows, cols, ld, stride, layout};
    return s;
}

/* A vector output of `count` values per item, contiguous within the item. */
static stacked vector_output(const char *name, const char *stride_name, void *data, size_t count, size_t stride)
{
    stacked s = {name, "(contiguous)", stride_name, data, count, 1, count > 0 ? count : 1, stride, PEL_COL_MAJOR};
    return s;
}

static pel_status gesv_batch(const char *function, scalar_type type, size_t elem, pel_layout layout, size_t n,
                             size_t nrhs, size_t batch, const void *a, size_t lda, size_t stride_a, const void *b,
                             size_t ldb, size_t stride_b, void *x, size_t ldx, size_t stride_x)
{
    batch_job job;

    memset(&job, 0, sizeof job);
    job.function = function;
    job.op = OP_GESV;
    job.type = type;
    job.elem = elem;
    job.m = job.n = n;
    job.nrhs = nrhs;
    job.batch = batch;
    job.a = input("a", "lda", "stride_a", a, n, n, lda, stride_a, layout);
    job.b = input("b", "ldb", "stride_b", b, n, nrhs, ldb, stride_b, layout);
    job.out[0] = input("x", "ldx", "stride_x", x, n, nrhs, ldx, stride_x, layout);
    job.outputs = 1;
    if (nrhs == 0)
        return check_job(&job);
    return run_job(&job);
}

pel_status pel_dgesv_batch(pel_layout layout, size_t n, size_t nrhs, size_t batch, const double *a, size_t lda,
                           size_t stride_a, const double *b, size_t ldb, size_t stride_b, double *x, size_t ldx,
                           size_t stride_x)
{
    return gesv_batch(__func__, REAL64, sizeof(double), layout, n, nrhs, batch, a, lda, stride_a, b, ldb, stride_b, x,
                      ldx, stride_x);
}

pel_status pel_sgesv_batch(pel_layout layout, size_t n, size_t nrhs, size_t batch, const float *a, size_t lda,
                           size_t stride_a, const float *b, size_t ldb, size_t stride_b, float *x, size_t ldx,
                           size_t stride_x)
{
    return gesv_batch(__func__, REAL32, sizeof(float), layout, n, nrhs, batch, a, lda, stride_a, b, ldb, stride_b, x,
                      ldx, stride_x);
}

pel_status pel_zgesv_batch(pel_layout layout, size_t n, size_t nrhs, size_t batch, const void *a, size_t lda,
                           size_t stride_a, const void *b, size_t ldb, size_t stride_b, void *x, size_t ldx,
                           size_t stride_x)
{
    return gesv_batch(__func__, COMPLEX128, 2 * sizeof(double), layout, n, nrhs, batch, a, lda, stride_a, b, ldb,
                      stride_b, x, ldx, stride_x);
}

static pel_status inv_batch(const char *function, scalar_type type, size_t elem, pel_layout layout, size_t n,
                            size_t batch, const void *a, size_t lda, size_t stride_a, void *inv, size_t ldinv,
                            size_t stride_inv)
{
    batch_job job;

    memset(&job, 0, sizeof job);
    job.function = function;
    job.op = OP_INV;
    job.type = type;
    job.elem = elem;
    job.m = job.n = job.nrhs = n;
    job.batch = batch;
    job.a = input("a", "lda", "stride_a", a, n, n, lda, stride_a, layout);
    job.out[0] = input("inv", "ldinv", "stride_inv", inv, n, n, ldinv, stride_inv, layout);
    job.outputs = 1;
    return run_job(&job);
}

pel_status pel_dinv_batch(pel_layout layout, size_t n, size_t batch, const double *a, size_t lda, size_t stride_a,
                          double *inv, size_t ldinv, size_t stride_inv)
{
    return inv_batch(__func__, REAL64, sizeof(double), layout, n, batch, a, lda, stride_a, inv, ldinv, stride_inv);
}

pel_status pel_sinv_batch(pel_layout layout, size_t n, size_t batch, const float *a, size_t lda, size_t stride_a,
                          float *inv, size_t ldinv, size_t stride_inv)
{
    return inv_batch(__func__, REAL32, sizeof(float), layout, n, batch, a, lda, stride_a, inv, ldinv, stride_inv);
}

static pel_status det_batch(const char *function, scalar_type type, size_t elem, pel_layout layout, size_t n,
                            size_t batch, const void *a, size_t lda, size_t stride_a, void *det, void *sign,
                            void *logabsdet)
{
    batch_job job;
    pel_status status;

    memset(&job, 0, sizeof job);
    job.function = function;
    job.op = OP_DET;
    job.type = type;
    job.elem = elem;
    job.m = job.n = n;
    job.batch = batch;
    job.a = input("a", "lda", "stride_a", a, n, n, lda, stride_a, layout);
    job.out[0] = vector_output("det", "(1)", det, 1, 1);
    job.out[1] = vector_output("sign", "(1)", sign, 1, 1);
    job.out[2] = vector_output("logabsdet", "(1)", logabsdet, 1, 1);
    job.outputs = 3;
    if (det == NULL && sign == NULL && logabsdet == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "det, sign and logabsdet are all NULL");
    /* A NULL output is simply not wanted: validated as absent. */
    for (int k = 0; k < 3; k++)
        if (job.out[k].data == NULL)
            job.out[k].rows = job.out[k].cols = 0;
    if (n == 0) {
        /* The determinant of a 0 x 0 matrix is 1 (numpy's answer too). */
        if ((status = check_job(&job)) != PEL_OK)
            return status;
        for (size_t i = 0; i < batch; i++) {
            double values[3] = {1.0, 1.0, 0.0};
            for (int k = 0; k < 3; k++) {
                if (job.out[k].data == NULL)
                    continue;
                if (type == REAL64)
                    ((double *)job.out[k].data)[i] = values[k];
                else
                    ((float *)job.out[k].data)[i] = (float)values[k];
            }
        }
        return PEL_OK;
    }
    return run_job(&job);
}

pel_status pel_ddet_batch(pel_layout layout, size_t n, size_t batch, const double *a, size_t lda, size_t stride_a,
                          double *det, double *sign, double *logabsdet)
{
    return det_batch(__func__, REAL64, sizeof(double), layout, n, batch, a, lda, stride_a, det, sign, logabsdet);
}

pel_status pel_sdet_batch(pel_layout layout, size_t n, size_t batch, const float *a, size_t lda, size_t stride_a,
                          float *det, float *sign, float *logabsdet)
{
    return det_batch(__func__, REAL32, sizeof(float), layout, n, batch, a, lda, stride_a, det, sign, logabsdet);
}

static pel_status cholesky_batch(const char *function, scalar_type type, size_t elem, pel_layout layout,
                                 pel_uplo uplo, size_t n, size_t batch, const void *a, size_t lda, size_t stride_a,
                                 void *l, size_t ldl, size_t stride_l)
{
    batch_job job;

    memset(&job, 0, sizeof job);
    job.function = function;
    job.op = OP_CHOLESKY;
    job.type = type;
    job.elem = elem;
    job.uplo = uplo;
    job.m = job.n = n;
    job.batch = batch;
    job.a = input("a", "lda", "stride_a", a, n, n, lda, stride_a, layout);
    job.out[0] = input("l", "ldl", "stride_l", l, n, n, ldl, stride_l, layout);
    job.outputs = 1;
    return run_job(&job);
}

pel_status pel_dcholesky_batch(pel_layout layout, pel_uplo uplo, size_t n, size_t batch, const double *a, size_t lda,
                               size_t stride_a, double *l, size_t ldl, size_t stride_l)
{
    return cholesky_batch(__func__, REAL64, sizeof(double), layout, uplo, n, batch, a, lda, stride_a, l, ldl,
                          stride_l);
}

pel_status pel_scholesky_batch(pel_layout layout, pel_uplo uplo, size_t n, size_t batch, const float *a, size_t lda,
                               size_t stride_a, float *l, size_t ldl, size_t stride_l)
{
    return cholesky_batch(__func__, REAL32, sizeof(float), layout, uplo, n, batch, a, lda, stride_a, l, ldl,
                          stride_l);
}

static pel_status eigh_batch(const char *function, scalar_type type, size_t elem, pel_layout layout, pel_uplo uplo,
                             size_t n, size_t batch, const void *a, size_t lda, size_t stride_a, void *w,
                             size_t stride_w, void *v, size_t ldv, size_t stride_v)
{
    batch_job job;

    memset(&job, 0, sizeof job);
    job.function = function;
    job.op = OP_EIGH;
    job.type = type;
    job.elem = elem;
    job.uplo = uplo;
    job.m = job.n = n;
    job.batch = batch;
    job.vectors = v != NULL;
    job.a = input("a", "lda", "stride_a", a, n, n, lda, stride_a, layout);
    job.out[0] = vector_output("w", "stride_w", w, n, stride_w);
    job.outputs = 1;
    if (v != NULL) {
        job.out[1] = input("v", "ldv", "stride_v", v, n, n, ldv, stride_v, layout);
        job.outputs = 2;
    }
    return run_job(&job);
}

pel_status pel_deigh_batch(pel_layout layout, pel_uplo uplo, size_t n, size_t batch, const double *a, size_t lda,
                           size_t stride_a, double *w, size_t stride_w, double *v, size_t ldv, size_t stride_v)
{
    return eigh_batch(__func__, REAL64, sizeof(double), layout, uplo, n, batch, a, lda, stride_a, w, stride_w, v, ldv,
                      stride_v);
}

pel_status pel_seigh_batch(pel_layout layout, pel_uplo uplo, size_t n, size_t batch, const float *a, size_t lda,
                           size_t stride_a, float *w, size_t stride_w, float *v, size_t ldv, size_t stride_v)
{
    return eigh_batch(__func__, REAL32, sizeof(float), layout, uplo, n, batch, a, lda, stride_a, w, stride_w, v, ldv,
                      stride_v);
}

static pel_status svd_batch(const char *function, scalar_type type, size_t elem, pel_layout layout, size_t m,
                            size_t n, size_t batch, const void *a, size_t lda, size_t stride_a, void *s,
                            size_t stride_s, void *u, size_t ldu, size_t stride_u, void *vt, size_t ldvt,
                            size_t stride_vt, int full_matrices)
{
    batch_job job;
    size_t k = m < n ? m : n;

    memset(&job, 0, sizeof job);
    job.function = function;
    job.op = OP_SVD;
    job.type = type;
    job.elem = elem;
    job.m = m;
    job.n = n;
    job.batch = batch;
    job.full_matrices = full_matrices != 0;
    if ((u == NULL) != (vt == NULL))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function,
                         "u and vt must both be given (vectors) or both be NULL (values only)");
    job.vectors = u != NULL;
    job.a = input("a", "lda", "stride_a", a, m, n, lda, stride_a, layout);
    job.out[0] = vector_output("s", "stride_s", s, k, stride_s);
    job.outputs = 1;
    if (job.vectors) {
        job.out[1] = input("u", "ldu", "stride_u", u, m, job.full_matrices ? m : k, ldu, stride_u, layout);
        job.out[2] = input("vt", "ldvt", "stride_vt", vt, job.full_matrices ? n : k, n, ldvt, stride_vt, layout);
        job.outputs = 3;
    }
    return run_job(&job);
}

pel_status pel_dsvd_batch(pel_layout layout, size_t m, size_t n, size_t batch, const double *a, size_t lda,
                          size_t stride_a, double *s, size_t stride_s, double *u, size_t ldu, size_t stride_u,
                          double *vt, size_t ldvt, size_t stride_vt, int full_matrices)
{
    return svd_batch(__func__, REAL64, sizeof(double), layout, m, n, batch, a, lda, stride_a, s, stride_s, u, ldu,
                     stride_u, vt, ldvt, stride_vt, full_matrices);
}

pel_status pel_ssvd_batch(pel_layout layout, size_t m, size_t n, size_t batch, const float *a, size_t lda,
                          size_t stride_a, float *s, size_t stride_s, float *u, size_t ldu, size_t stride_u, float *vt,
                          size_t ldvt, size_t stride_vt, int full_matrices)
{
    return svd_batch(__func__, REAL32, sizeof(float), layout, m, n, batch, a, lda, stride_a, s, stride_s, u, ldu,
                     stride_u, vt, ldvt, stride_vt, full_matrices);
}
