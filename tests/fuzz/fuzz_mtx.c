/* Fuzz harness: the Matrix Market reader (pel_csr_read_mtx), whose input is
 * a file a user may not control.
 *
 * The whole input is the file; it is read in both precisions through a
 * memory file (memfd), so nothing touches the disk. Invariants: an error
 * comes with a message and leaves *out NULL (or untouched, until the
 * out-argument rule lands everywhere); a matrix that was read has consistent
 * sizes and exports sorted, in-range indices; and what pel_csr_write_mtx
 * writes reads back as the same matrix, bit for bit. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

static int memory_file(const char *name, char *path, size_t path_size)
{
    int fd = memfd_create(name, 0);
    if (fd >= 0)
        snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

static size_t value_size(pel_precision precision)
{
    return precision == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
}

/* The matrix as arrays; fails the run if export fails on a valid matrix. */
typedef struct exported {
    size_t rows, cols, nnz;
    size_t *row_ptr, *col_idx;
    unsigned char *values;
} exported;

static exported export_matrix(const pel_csr *matrix, pel_precision precision)
{
    exported e;
    int status;

    e.rows = pel_csr_rows(matrix);
    e.cols = pel_csr_cols(matrix);
    e.nnz = pel_csr_nnz(matrix);
    e.row_ptr = malloc((e.rows + 1) * sizeof *e.row_ptr);
    e.col_idx = malloc((e.nnz + 1) * sizeof *e.col_idx);
    e.values = malloc((e.nnz + 1) * value_size(precision));
    fuzz_require(e.row_ptr && e.col_idx && e.values, "out of memory in the harness");
    status = pel_csr_export(matrix, e.row_ptr, e.col_idx, e.values);
    fuzz_require(status == PEL_OK, "pel_csr_export failed on a matrix just read: %s", pel_last_error());
    fuzz_require(e.row_ptr[0] == 0 && e.row_ptr[e.rows] == e.nnz, "row pointers do not span nnz=%zu", e.nnz);
    for (size_t i = 0; i < e.rows; i++) {
        fuzz_require(e.row_ptr[i] <= e.row_ptr[i + 1], "row pointers decrease at row %zu", i);
        for (size_t j = e.row_ptr[i]; j < e.row_ptr[i + 1]; j++) {
            fuzz_require(e.col_idx[j] < e.cols, "column %zu out of range at entry %zu", e.col_idx[j], j);
            fuzz_require(j == e.row_ptr[i] || e.col_idx[j - 1] < e.col_idx[j],
                         "row %zu is not sorted with unique columns", i);
        }
    }
    return e;
}

static void free_exported(exported *e)
{
    free(e->row_ptr);
    free(e->col_idx);
    free(e->values);
}

static void read_one(const char *path, size_t size, pel_precision precision)
{
    pel_csr *sentinel = (pel_csr *)&sentinel, *matrix = sentinel, *again = NULL;
    char copy_path[64];
    exported first, second;
    int status, fd;

    pel_clear_error();
    status = pel_csr_read_mtx(path, precision, &matrix);
    if (status != PEL_OK) {
        fuzz_check_error_message(status, "pel_csr_read_mtx");
        fuzz_require(matrix == NULL || matrix == sentinel, "pel_csr_read_mtx wrote a pointer on error");
        return;
    }
    fuzz_require(matrix != NULL && matrix != sentinel, "pel_csr_read_mtx returned OK without a matrix");
    fuzz_require(pel_csr_precision(matrix) == precision, "the matrix has another precision");
    if (pel_csr_rows(matrix) > ((size_t)1 << 20)) {
        /* A header may declare as many rows as memory holds (the CSR row
         * arrays take 12 bytes a row); exporting them and a second copy for
         * the round trip would only triple that. Small matrices cover the
         * exporter and the writer. */
        fuzz_require(pel_csr_nnz(matrix) <= size, "nnz=%zu from a %zu-byte file", pel_csr_nnz(matrix), size);
        pel_csr_destroy(matrix);
        return;
    }
    first = export_matrix(matrix, precision);

    /* Round trip: whatever pel writes, pel reads back unchanged. */
    fd = memory_file("pel-fuzz-mtx-copy", copy_path, sizeof copy_path);
    fuzz_require(fd >= 0, "memfd_create failed");
    status = pel_csr_write_mtx(matrix, copy_path);
    fuzz_require(status == PEL_OK, "pel_csr_write_mtx failed on a matrix just read: %s", pel_last_error());
    status = pel_csr_read_mtx(copy_path, precision, &again);
    fuzz_require(status == PEL_OK, "pel_csr_read_mtx refuses what pel_csr_write_mtx wrote: %s", pel_last_error());
    second = export_matrix(again, precision);
    fuzz_require(first.rows == second.rows && first.cols == second.cols && first.nnz == second.nnz,
                 "round trip changed the shape");
    fuzz_require(fuzz_same_bytes(first.row_ptr, second.row_ptr, (first.rows + 1) * sizeof *first.row_ptr) &&
                     fuzz_same_bytes(first.col_idx, second.col_idx, first.nnz * sizeof *first.col_idx) &&
                     fuzz_same_bytes(first.values, second.values, first.nnz * value_size(precision)),
                 "round trip changed the entries");
    free_exported(&first);
    free_exported(&second);
    close(fd);
    pel_csr_destroy(again);
    pel_csr_destroy(matrix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = memory_file("pel-fuzz-mtx", path, sizeof path);

    fuzz_require(fd >= 0, "memfd_create failed");
    fuzz_require(size == 0 || write(fd, data, size) == (ssize_t)size, "cannot write the memory file");
    read_one(path, size, PEL_FLOAT64);
    read_one(path, size, PEL_FLOAT32);
    close(fd);
    return 0;
}
