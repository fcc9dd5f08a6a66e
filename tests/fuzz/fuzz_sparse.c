/* Fuzz harness: CSR matrices built from fuzzed arrays (pel_csr_create: row
 * pointers that may decrease or not start at 0, columns out of range,
 * duplicates, NaN/Inf values, both precisions), then SpMV and SpMM.
 *
 * Invariants: a refused matrix comes with a message and no object; an
 * accepted one exports exactly the entries given, sorted, with duplicates
 * summed in the order given (compared bit for bit with a dense reference
 * summed the same way); SpMV matches a naive loop ((nnz per row + 2) * 4 eps
 * of the magnitudes; non-finite references need non-finite results), gives
 * the same bits on 1 and N threads, and SpMM column j has the bits of SpMV
 * on column j. Sizes: up to 12 x 12, 48 entries. */
#include "fuzz.h"

#include <float.h>

enum { MAX_DIM = 12, MAX_NNZ = 48 };

static void check_close(double got, double ref, double bound, const char *what, size_t i)
{
    if (!isfinite(ref))
        fuzz_require(!isfinite(got), "%s[%zu] = %g, the reference is %g", what, i, got, ref);
    else
        fuzz_require(isfinite(got) && fabs(got - ref) <= bound + 1e-300, "%s[%zu] = %.17g, reference %.17g", what,
                     i, got, ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = fuzz_begin(data, size);
    pel_precision precision = fuzz_u8(&in) % 2 ? PEL_FLOAT32 : PEL_FLOAT64;
    int threads = fuzz_u8(&in) % 4 + 1, corrupt = fuzz_u8(&in) % 8;
    size_t rows = fuzz_upto(&in, MAX_DIM), cols = fuzz_upto(&in, MAX_DIM), nnz = 0;
    size_t row_ptr[MAX_DIM + 1], col_idx[MAX_NNZ + 1];
    double values_d[MAX_NNZ + 1], dense[MAX_DIM][MAX_DIM];
    float values_s[MAX_NNZ + 1], dense_s[MAX_DIM][MAX_DIM];
    int present[MAX_DIM][MAX_DIM] = {{0}}, expect_ok = 1;
    pel_csr *sentinel = (pel_csr *)&sentinel, *matrix = sentinel;
    int status;

    row_ptr[0] = 0;
    for (size_t i = 0; i < rows; i++) {
        size_t count = fuzz_upto(&in, 6);
        if (nnz + count > MAX_NNZ)
            count = MAX_NNZ - nnz;
        for (size_t j = nnz; j < nnz + count; j++) {
            col_idx[j] = fuzz_upto(&in, cols); /* == cols is out of range */
            values_d[j] = fuzz_double(&in);
            values_s[j] = (float)values_d[j];
            if (col_idx[j] >= cols)
                expect_ok = 0;
        }
        nnz += count;
        row_ptr[i + 1] = nnz;
    }
    /* Sometimes break the row pointers. */
    if (corrupt == 0 && rows > 0) {
        size_t r = fuzz_upto(&in, rows);
        if (row_ptr[r] > 0) {
            row_ptr[r] = row_ptr[r] - 1 + (r == 0);
            expect_ok = 0;
            if (r > 0 && row_ptr[r] >= row_ptr[r - 1] && (r == rows || row_ptr[r] <= row_ptr[r + 1]))
                expect_ok = -1; /* still a valid matrix: the entry moved rows; re-derive below */
        } else if (r == 0) {
            row_ptr[0] = 1;
            expect_ok = 0;
        }
    }
    if (expect_ok == -1) {
        expect_ok = 1;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = row_ptr[i]; j < row_ptr[i + 1]; j++)
                if (col_idx[j] >= cols)
                    expect_ok = 0;
    }
    nnz = rows > 0 ? row_ptr[rows] : 0;

    pel_clear_error();
    status = pel_csr_create(precision, rows, cols, rows > 0 ? row_ptr : NULL, col_idx,
                            precision == PEL_FLOAT32 ? (void *)values_s : (void *)values_d, &matrix);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_csr_create");
        fuzz_require(matrix == NULL || matrix == sentinel, "pel_csr_create wrote a pointer on error");
        /* Sums of duplicates that overflow may be refused (issue 11, item 8). */
        fuzz_require(!expect_ok || status == PEL_ERROR_INVALID_ARGUMENT || status == PEL_ERROR_OVERFLOW,
                     "a valid matrix was refused: %s", pel_last_error());
        return 0;
    }
    fuzz_require(expect_ok, "an invalid matrix was accepted (rows %zu cols %zu)", rows, cols);

    /* The dense reference, duplicates summed in the order given. */
    for (size_t i = 0; i < rows; i++)
        for (size_t j = row_ptr[i]; j < row_ptr[i + 1]; j++) {
            size_t c = col_idx[j];
            if (!present[i][c]) {
                dense[i][c] = values_d[j];
                dense_s[i][c] = values_s[j];
            } else {
                dense[i][c] = dense[i][c] + values_d[j];
                dense_s[i][c] = dense_s[i][c] + values_s[j];
            }
            present[i][c] = 1;
        }
    {
        size_t e_row[MAX_DIM + 1], e_col[MAX_NNZ + 1], distinct = 0, nz = pel_csr_nnz(matrix);
        double e_d[MAX_NNZ + 1];
        float e_s[MAX_NNZ + 1];
        for (size_t i = 0; i < rows; i++)
            for (size_t c = 0; c < cols; c++)
                distinct += (size_t)present[i][c];
        fuzz_require(nz == distinct, "nnz %zu, %zu distinct entries given", nz, distinct);
        status = pel_csr_export(matrix, e_row, e_col, precision == PEL_FLOAT32 ? (void *)e_s : (void *)e_d);
        fuzz_require(status == PEL_OK, "export failed");
        for (size_t i = 0; i < rows; i++)
            for (size_t j = e_row[i]; j < e_row[i + 1]; j++) {
                size_t c = e_col[j];
                fuzz_require(c < cols && present[i][c], "exported entry (%zu,%zu) was never given", i, c);
                fuzz_require(j == e_row[i] || e_col[j - 1] < c, "row %zu not sorted", i);
                fuzz_require(precision == PEL_FLOAT32 ? fuzz_same_bytes(&e_s[j], &dense_s[i][c], sizeof(float)) ||
                                                            (isnan(e_s[j]) && isnan(dense_s[i][c]))
                                                      : fuzz_same_bytes(&e_d[j], &dense[i][c], sizeof(double)) ||
                                                            (isnan(e_d[j]) && isnan(dense[i][c])),
                             "entry (%zu,%zu) is not the in-order sum of its duplicates", i, c);
            }
    }

    /* SpMV on 1 and N threads, SpMM with 2 vectors (column-major). */
    {
        double x[2 * MAX_DIM], y0[2 * MAX_DIM], y1[2 * MAX_DIM], yb[2 * MAX_DIM], ym[2 * MAX_DIM];
        float xs[2 * MAX_DIM], ys0[2 * MAX_DIM], ys1[2 * MAX_DIM], ysb[2 * MAX_DIM], ysm[2 * MAX_DIM];
        double alpha = fuzz_double(&in), beta = fuzz_double(&in);
        int single = precision == PEL_FLOAT32;
        void *xp = single ? (void *)xs : (void *)x;
        for (size_t i = 0; i < 2 * MAX_DIM; i++) {
            x[i] = fuzz_double(&in);
            xs[i] = (float)x[i];
            yb[i] = fuzz_double(&in);
            ysb[i] = (float)yb[i];
        }
        memcpy(y0, yb, sizeof yb);
        memcpy(y1, yb, sizeof yb);
        memcpy(ym, yb, sizeof yb);
        memcpy(ys0, ysb, sizeof ysb);
        memcpy(ys1, ysb, sizeof ysb);
        memcpy(ysm, ysb, sizeof ysb);
        pel_set_num_threads_local(1);
        status = pel_csr_spmv(matrix, alpha, xp, beta, single ? (void *)ys0 : (void *)y0);
        fuzz_require(status == PEL_OK, "spmv failed: %s", pel_last_error());
        pel_set_num_threads_local(threads);
        status = pel_csr_spmv(matrix, alpha, xp, beta, single ? (void *)ys1 : (void *)y1);
        fuzz_require(status == PEL_OK, "spmv failed on %d threads: %s", threads, pel_last_error());
        fuzz_require(single ? fuzz_same_bytes(ys0, ys1, sizeof ys0) : fuzz_same_bytes(y0, y1, sizeof y0),
                     "spmv: 1 thread and %d threads differ", threads);
        if (rows > 0 && cols > 0) {
            status = pel_csr_spmm(matrix, PEL_COL_MAJOR, 1, alpha, xp, cols, beta, single ? (void *)ysm : (void *)ym,
                                  rows);
            fuzz_require(status == PEL_OK, "spmm failed: %s", pel_last_error());
            fuzz_require(single ? fuzz_same_bytes(ysm, ys0, rows * sizeof(float))
                                : fuzz_same_bytes(ym, y0, rows * sizeof(double)),
                         "spmm with one vector differs from spmv");
        }
        for (size_t i = 0; i < rows; i++) {
            double sum = 0.0, mag = 0.0, ref, got, a = single ? (double)(float)alpha : alpha;
            double b = single ? (double)(float)beta : beta, yi = single ? (double)ysb[i] : yb[i];
            size_t terms = 0;
            for (size_t c = 0; c < cols; c++)
                if (present[i][c]) {
                    double v = single ? (double)dense_s[i][c] : dense[i][c];
                    double xv = single ? (double)xs[c] : x[c];
                    sum += v * xv;
                    mag += fabs(v * xv);
                    terms++;
                }
            ref = a == 0.0 ? 0.0 : a * sum;
            if (b != 0.0)
                ref += b * yi;
            got = single ? (double)ys0[i] : y0[i];
            if (!isfinite(a) || !isfinite(b))
                continue; /* Inf times an empty row: NaN or 0, both defensible */
            /* The bound counts only what is read: A and x when alpha != 0,
             * y when beta != 0 (an unread NaN must not poison it). */
            check_close(got, ref, (double)(terms + 2) * 4 * (single ? FLT_EPSILON : DBL_EPSILON) *
                                      ((a == 0.0 ? 0.0 : fabs(a) * mag) + (b == 0.0 ? 0.0 : fabs(b * yi))), "y", i);
        }
        for (size_t i = rows; i < 2 * MAX_DIM; i++)
            fuzz_require(single ? fuzz_same_bytes(&ys0[i], &ysb[i], sizeof(float))
                                : fuzz_same_bytes(&y0[i], &yb[i], sizeof(double)),
                         "spmv wrote y[%zu] past rows=%zu", i, rows);
    }
    pel_set_num_threads_local(0);
    pel_csr_destroy(matrix);
    return 0;
}
