/* Tests of Matrix Market reading and writing: every supported flavour,
 * malformed files (each must fail with PEL_ERROR_PARSE/IO/UNSUPPORTED and
 * the right line number, never crash or leak: CI runs this under ASan), the
 * shipped files under tests/data, and write -> read round trips. */
#include "pel_test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sparse/csr.h"

static char temp_dir[64];

static int make_temp_dir(void)
{
    strcpy(temp_dir, "/tmp/pel_test_sparse_XXXXXX");
    return mkdtemp(temp_dir) ? 0 : -1;
}

/* Writes `length` bytes to a file in the temp dir; returns its path. */
static const char *write_bytes(const char *name, const char *content, size_t length)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(content, 1, length, f);
    fclose(f);
    return path;
}

static const char *write_text(const char *name, const char *content)
{
    return write_bytes(name, content, strlen(content));
}

/* Reads into a dense rows x cols array (row-major); returns the status. */
static int read_dense(const char *path, pel_precision precision, size_t rows, size_t cols, double *dense)
{
    pel_csr *m = NULL;
    int status = pel_csr_read_mtx(path, precision, &m);
    size_t rp[64], ci[64];
    double v[64];
    float vf[64];

    if (status != PEL_OK)
        return status;
    CU_ASSERT_EQUAL(pel_csr_rows(m), rows);
    CU_ASSERT_EQUAL(pel_csr_cols(m), cols);
    CU_ASSERT_FATAL(pel_csr_nnz(m) <= 64);
    PEL_TEST_OK(pel_csr_export(m, rp, ci, precision == PEL_FLOAT32 ? (void *)vf : (void *)v));
    memset(dense, 0, rows * cols * sizeof *dense);
    for (size_t i = 0; i < rows; i++)
        for (size_t k = rp[i]; k < rp[i + 1]; k++)
            dense[i * cols + ci[k]] = precision == PEL_FLOAT32 ? vf[k] : v[k];
    pel_csr_destroy(m);
    return status;
}

/* ------------------------------------------------------------ valid files */

static void test_read_general_with_comments_and_crlf(void)
{
    const char *path = write_text("general.mtx", "%%MatrixMarket Matrix Coordinate Real General\r\n"
                                                 "% a comment\r\n"
                                                 "\r\n"
                                                 "2 3 4\r\n"
                                                 "1 3 -2.5e0\r\n"
                                                 "  2\t1   0.125  \r\n"
                                                 "% comments among entries are skipped\r\n"
                                                 "1 1 3\r\n"
                                                 "1 3 0.5\r\n"); /* duplicate: summed */
    const double want[6] = {3, 0, -2.0, 0.125, 0, 0};
    double dense[6];

    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 2, 3, dense));
    CU_ASSERT(memcmp(dense, want, sizeof want) == 0);
    PEL_TEST_OK(read_dense(path, PEL_FLOAT32, 2, 3, dense));
    CU_ASSERT(memcmp(dense, want, sizeof want) == 0);
}

static void test_read_integer_pattern_symmetric_skew(void)
{
    double dense[9];
    const char *path = write_text("int.mtx", "%%MatrixMarket matrix coordinate integer general\n3 3 2\n1 2 -7\n3 3 "
                                             "12\n");
    const double want_int[9] = {0, -7, 0, 0, 0, 0, 0, 0, 12};
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 3, 3, dense));
    CU_ASSERT(memcmp(dense, want_int, sizeof want_int) == 0);

    path = write_text("pattern.mtx", "%%MatrixMarket matrix coordinate pattern general\n3 3 2\n2 1\n3 2\n");
    const double want_pattern[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 3, 3, dense));
    CU_ASSERT(memcmp(dense, want_pattern, sizeof want_pattern) == 0);

    /* Symmetric: lower triangle per the format; an upper-triangle entry is
     * mirrored too. */
    path = write_text("sym.mtx", "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2\n3 1 5\n2 3 -1\n");
    const double want_sym[9] = {2, 0, 5, 0, 0, -1, 5, -1, 0};
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 3, 3, dense));
    CU_ASSERT(memcmp(dense, want_sym, sizeof want_sym) == 0);

    path = write_text("skew.mtx", "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 4\n3 2 1.5\n");
    const double want_skew[9] = {0, -4, 0, 4, 0, -1.5, 0, 1.5, 0};
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 3, 3, dense));
    CU_ASSERT(memcmp(dense, want_skew, sizeof want_skew) == 0);

    path = write_text("empty.mtx", "%%MatrixMarket matrix coordinate real general\n0 0 0\n");
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 0, 0, dense));
    path = write_text("nolast.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 1\n2 2 1.5"); /* no final \n */
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 2, 2, dense));
    CU_ASSERT_EQUAL(dense[3], 1.5);
}

/* The files shipped under tests/data (found through $srcdir, which
 * automake's test harness sets; "." when run by hand from the source dir). */
static void test_shipped_files(void)
{
    const char *srcdir = getenv("srcdir");
    char path[1024];
    double dense[16];
    const double want[16] = {4, -1.5, 0, 0, -1.5, 4, -1, 0, 0, -1, 0, 0.225, 0, 0, 0.225, 3};
    pel_csr *m = (pel_csr *)(uintptr_t)0x99;

    snprintf(path, sizeof path, "%s/tests/data/sparse_symmetric.mtx", srcdir ? srcdir : ".");
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 4, 4, dense));
    CU_ASSERT(memcmp(dense, want, sizeof want) == 0);
    snprintf(path, sizeof path, "%s/tests/data/sparse_truncated.mtx", srcdir ? srcdir : ".");
    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, PEL_FLOAT64, &m), PEL_ERROR_PARSE, "pel_csr_read_mtx",
                          "line 5: entry has 2 fields, expected 3");
    CU_ASSERT_PTR_NULL(m); /* the out-argument rule */
}

/* ------------------------------------------------------------ malformed files */

typedef struct bad_file {
    const char *content;
    int status;
    const char *fragment; /* includes the line number */
} bad_file;

#define BANNER "%%MatrixMarket matrix coordinate real general\n"

static const bad_file bad_files[] = {
    {"", PEL_ERROR_PARSE, "line 1: empty file"},
    {"hello world\n", PEL_ERROR_PARSE, "line 1: the first line must start with %%MatrixMarket"},
    {"%%MatrixMarket matrix coordinate real\n1 1 0\n", PEL_ERROR_PARSE, "line 1: banner has 4 fields"},
    {"%%MatrixMarket vector coordinate real general\n", PEL_ERROR_PARSE, "line 1: object 'vector'"},
    {"%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n", PEL_ERROR_UNSUPPORTED, "line 1: the dense 'array'"},
    {"%%MatrixMarket matrix blocks real general\n", PEL_ERROR_PARSE, "line 1: format 'blocks'"},
    {"%%MatrixMarket matrix coordinate complex general\n", PEL_ERROR_UNSUPPORTED, "line 1: complex"},
    {"%%MatrixMarket matrix coordinate quaternion general\n", PEL_ERROR_PARSE, "line 1: field 'quaternion'"},
    {"%%MatrixMarket matrix coordinate real hermitian\n", PEL_ERROR_UNSUPPORTED, "line 1: hermitian"},
    {"%%MatrixMarket matrix coordinate real diagonal\n", PEL_ERROR_PARSE, "line 1: symmetry 'diagonal'"},
    {BANNER "% only comments\n\n", PEL_ERROR_PARSE, "line 3: file ends before the size line"},
    {BANNER "3 3\n", PEL_ERROR_PARSE, "line 2: size line must be three"},
    {BANNER "3 -3 1\n", PEL_ERROR_PARSE, "line 2: size line must be three"},
    {BANNER "3 3 x\n", PEL_ERROR_PARSE, "line 2: size line must be three"},
    {BANNER "3 3 1 1\n", PEL_ERROR_PARSE, "line 2: size line must be three"},
    {BANNER "99999999999999999999999 3 1\n", PEL_ERROR_PARSE, "line 2: size line must be three"},
    {BANNER "5000000000 5000000000 1\n1 1 1\n", PEL_ERROR_PARSE, "line 2: declared size 5000000000 x 5000000000"},
    {BANNER "3 3 10\n", PEL_ERROR_PARSE, "line 2: declares 10 entries, more than a 3 x 3"},
    {BANNER "1000 4294967295 1000000000000\n1 1 1\n", PEL_ERROR_PARSE,
     "line 2: declares 1000000000000 entries, but the 6 bytes after this line hold at most 1"},
    {"%%MatrixMarket matrix coordinate pattern general\n9 9 3\n1 1\n2 2\n", PEL_ERROR_PARSE,
     "line 2: declares 3 entries, but the 8 bytes after this line hold at most 2 (an entry line takes at least 4"},
    {"%%MatrixMarket matrix coordinate real symmetric\n3 4 1\n", PEL_ERROR_PARSE, "line 2: a symmetric matrix must be square"},
    {"%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 4\n", PEL_ERROR_PARSE, "line 2: declares 4 entries"},
    {BANNER "3 3 1\n1 1\n", PEL_ERROR_PARSE, "line 3: entry has 2 fields, expected 3"},
    {BANNER "3 3 1\n1 1 1 5\n", PEL_ERROR_PARSE, "line 3: entry has 4 fields"},
    {BANNER "3 3 1\n0 1 1.0\n", PEL_ERROR_PARSE, "line 3: row index '0' is not an integer in 1..3"},
    {BANNER "3 3 1\n4 1 1.0\n", PEL_ERROR_PARSE, "line 3: row index '4'"},
    {BANNER "3 3 1\n-1 1 1.0\n", PEL_ERROR_PARSE, "line 3: row index '-1'"},
    {BANNER "3 3 1\n1 9 1.0\n", PEL_ERROR_PARSE, "line 3: column index '9'"},
    {BANNER "3 3 1\n1 1.5 1.0\n", PEL_ERROR_PARSE, "line 3: column index '1.5'"},
    {BANNER "3 3 1\n1 1 abc\n", PEL_ERROR_PARSE, "line 3: value 'abc' is not a number"},
    {BANNER "3 3 1\n1 1 1.5x\n", PEL_ERROR_PARSE, "line 3: value '1.5x' is not a number"},
    {BANNER "3 3 1\n1 1 1e999\n", PEL_ERROR_PARSE, "line 3: value '1e999' is not a finite number"},
    {BANNER "3 3 1\n1 1 nan\n", PEL_ERROR_PARSE, "line 3: value 'nan' is not a finite number"},
    {BANNER "3 3 1\n1 1 -inf\n", PEL_ERROR_PARSE, "line 3: value '-inf' is not a finite number"},
    {"%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 1 2.5\n", PEL_ERROR_PARSE,
     "line 3: value '2.5' is not an integer"},
    {"%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 1 99999999999999999999\n", PEL_ERROR_PARSE,
     "line 3: integer value '99999999999999999999' is out of range"},
    {"%%MatrixMarket matrix coordinate pattern general\n3 3 1\n1 1 1.0\n", PEL_ERROR_PARSE,
     "line 3: entry has 3 fields, expected 2"},
    {BANNER "3 3 2\n1 1 1\n%comment-long-enough-for-an-entry\n", PEL_ERROR_PARSE,
     "line 4: file ends after 1 of the 2 declared entries"},
    {BANNER "3 3 1\n1 1 1\n2 2 2\n", PEL_ERROR_PARSE, "line 4: more entries than the 1 declared"},
    {"%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 1\n2 2 1\n", PEL_ERROR_PARSE,
     "line 3: skew-symmetric matrix has a diagonal entry (2, 2)"},
    {BANNER "3 3 1\n1 1 1 2 3 4 5 6 7 8 9\n", PEL_ERROR_PARSE, "line 3: more than 8 fields"},
};

static void test_malformed_files(void)
{
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        pel_csr *m = (pel_csr *)(uintptr_t)0x77;
        const char *path = write_text("bad.mtx", bad_files[i].content);
        int status = pel_csr_read_mtx(path, PEL_FLOAT64, &m);
        CU_ASSERT_EQUAL(status, bad_files[i].status);
        CU_ASSERT_PTR_NOT_NULL(strstr(pel_last_error(), bad_files[i].fragment));
        CU_ASSERT_PTR_NOT_NULL(strstr(pel_last_error(), "pel_csr_read_mtx: "));
        CU_ASSERT_PTR_NULL(m); /* the out-argument rule */
        if (status != bad_files[i].status || strstr(pel_last_error(), bad_files[i].fragment) == NULL)
            fprintf(stderr, "\ncase %zu: status %d, message '%s'\n", i, status, pel_last_error());
    }
}

static void test_malformed_bytes_and_float_range(void)
{
    static const char nul[] = BANNER "1 1 1\n1 1\0 1\n";
    char *long_line = malloc(6000);
    pel_csr *m = NULL;
    const char *path = write_bytes("nul.mtx", nul, sizeof nul - 1);

    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, PEL_FLOAT64, &m), PEL_ERROR_PARSE, "pel_csr_read_mtx",
                          "line 3: NUL byte");
    strcpy(long_line, BANNER "1 1 1\n1 1 ");
    /* 5000 digits, then the terminator right after them (every byte up to
     * it is written: the line must hold no uninitialised bytes). */
    memset(long_line + strlen(long_line), '1', 5000);
    long_line[strlen(BANNER "1 1 1\n1 1 ") + 5000] = '\0';
    path = write_text("long.mtx", long_line);
    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, PEL_FLOAT64, &m), PEL_ERROR_PARSE, "pel_csr_read_mtx",
                          "line 3: line is longer than 4096 bytes");
    free(long_line);
    /* A legal header whose matrix would need more memory than the machine
     * has (12 bytes a row for its row pointers and ends): a clean
     * out-of-memory error before allocating (only where that is so). */
    if ((double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) < 12.0 * 4294967296.0) {
        path = write_text("huge.mtx", BANNER "4294967295 3 1\n1 1 1\n");
        PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, PEL_FLOAT64, &m), PEL_ERROR_OUT_OF_MEMORY, "pel_csr_read_mtx",
                              "a matrix of 4294967295 rows and 1 entries needs");
    }
    path = write_text("float.mtx", BANNER "1 1 1\n1 1 1e300\n");
    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, PEL_FLOAT32, &m), PEL_ERROR_PARSE, "pel_csr_read_mtx",
                          "line 3: value '1e300' is not a finite number in single precision");
    PEL_TEST_OK(pel_csr_read_mtx(path, PEL_FLOAT64, &m));
    pel_csr_destroy(m);
}

static void test_read_arguments_and_io_errors(void)
{
    pel_csr *m = (pel_csr *)(uintptr_t)0x55;
    const char *path = write_text("ok.mtx", BANNER "1 1 0\n");

    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(NULL, PEL_FLOAT64, &m), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_read_mtx",
                          "path");
    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, PEL_FLOAT64, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_read_mtx",
                          "out");
    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, (pel_precision)3, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_read_mtx", "precision=3");
    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx("/nonexistent/pel/file.mtx", PEL_FLOAT64, &m), PEL_ERROR_IO,
                          "pel_csr_read_mtx", "cannot open '/nonexistent/pel/file.mtx'");
    /* A directory opens but cannot be read. */
    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(temp_dir, PEL_FLOAT64, &m), PEL_ERROR_IO, "pel_csr_read_mtx",
                          "read error");
    CU_ASSERT_PTR_NULL(m); /* the out-argument rule */
}

/* ------------------------------------------------------------ writing */

static void test_round_trip(void)
{
    enum { ROWS = 37, COLS = 23 };
    pel_test_rng rng = {5};
    size_t rp[ROWS + 1] = {0}, ci[ROWS * COLS], nnz = 0, rp2[ROWS + 1], ci2[ROWS * COLS];
    double v[ROWS * COLS], v2[ROWS * COLS];
    float vf[ROWS * COLS], vf2[ROWS * COLS];
    char path[256];
    pel_csr *m = NULL, *back = NULL;

    for (size_t i = 0; i < ROWS; i++) {
        for (size_t j = 0; j < COLS; j++)
            if (i % 5 != 3 && pel_test_uniform(&rng, 0, 1) < 0.3) {
                ci[nnz] = j;
                /* Awkward values: full mantissas, tiny and huge exponents. */
                v[nnz] = pel_test_uniform(&rng, -1, 1) * pow(10.0, (double)((int)(nnz % 41) * 15 - 300));
                vf[nnz] = (float)(pel_test_uniform(&rng, -1, 1) * pow(10.0, (double)((int)(nnz % 13) * 6 - 36)));
                nnz++;
            }
        rp[i + 1] = nnz;
    }
    v[0] = -0.0;
    v[1] = 4.9406564584124654e-324; /* the smallest subnormal */
    snprintf(path, sizeof path, "%s/round.mtx", temp_dir);
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, ROWS, COLS, rp, ci, v, &m));
    PEL_TEST_OK(pel_csr_write_mtx(m, path));
    PEL_TEST_OK(pel_csr_read_mtx(path, PEL_FLOAT64, &back));
    CU_ASSERT_EQUAL(pel_csr_rows(back), ROWS);
    CU_ASSERT_EQUAL(pel_csr_cols(back), COLS);
    CU_ASSERT_EQUAL_FATAL(pel_csr_nnz(back), nnz);
    PEL_TEST_OK(pel_csr_export(back, rp2, ci2, v2));
    CU_ASSERT(memcmp(rp2, rp, sizeof rp) == 0);
    CU_ASSERT(memcmp(ci2, ci, nnz * sizeof *ci) == 0);
    CU_ASSERT(memcmp(v2, v, nnz * sizeof *v) == 0); /* same bits, -0.0 included */
    pel_csr_destroy(m);
    pel_csr_destroy(back);

    PEL_TEST_OK(pel_csr_create(PEL_FLOAT32, ROWS, COLS, rp, ci, vf, &m));
    PEL_TEST_OK(pel_csr_write_mtx(m, path));
    PEL_TEST_OK(pel_csr_read_mtx(path, PEL_FLOAT32, &back));
    CU_ASSERT_EQUAL_FATAL(pel_csr_nnz(back), nnz);
    PEL_TEST_OK(pel_csr_export(back, NULL, NULL, vf2));
    CU_ASSERT(memcmp(vf2, vf, nnz * sizeof *vf) == 0);
    pel_csr_destroy(m);
    pel_csr_destroy(back);

    /* Empty shapes survive too. */
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, ROWS, 0, rp, ci, v, &back), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "out of range for cols=0");
    {
        const size_t zero[6] = {0};
        PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, 5, 0, zero, NULL, NULL, &m));
        PEL_TEST_OK(pel_csr_write_mtx(m, path));
        PEL_TEST_OK(pel_csr_read_mtx(path, PEL_FLOAT64, &back));
        CU_ASSERT(pel_csr_rows(back) == 5 && pel_csr_cols(back) == 0 && pel_csr_nnz(back) == 0);
        pel_csr_destroy(m);
        pel_csr_destroy(back);
    }
    remove(path);
}

static void test_write_errors(void)
{
    const size_t rp[] = {0, 1}, ci[] = {0};
    const double v[] = {2.5};
    pel_csr *m = NULL;

    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, 1, 1, rp, ci, v, &m));
    PEL_TEST_EXPECT_ERROR(pel_csr_write_mtx(NULL, "x.mtx"), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_write_mtx",
                          "matrix");
    PEL_TEST_EXPECT_ERROR(pel_csr_write_mtx(m, NULL), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_write_mtx", "path");
    PEL_TEST_EXPECT_ERROR(pel_csr_write_mtx(m, "/nonexistent/pel/out.mtx"), PEL_ERROR_IO, "pel_csr_write_mtx",
                          "cannot create '/nonexistent/pel/out.mtx'");
    /* A full disk: the write fails at the flush; the device is not removed. */
    if (access("/dev/full", W_OK) == 0) {
        PEL_TEST_EXPECT_ERROR(pel_csr_write_mtx(m, "/dev/full"), PEL_ERROR_IO, "pel_csr_write_mtx",
                              "writing '/dev/full' failed");
        CU_ASSERT(access("/dev/full", F_OK) == 0);
    }
    pel_csr_destroy(m);
}

/* ------------------------------------------------------------ reliability */

/* Peak resident bytes above the start of a child process. */
static double child_peak_growth(double start_kb)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return ((double)usage.ru_maxrss - start_kb) * 1024.0;
}

/* Resident kilobytes now (the child starts with the parent's pages). */
static double resident_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1024.0;
}

enum { HYPERSPARSE_ROWS = 10000000 };
static char hypersparse_path[256];

/* In a child: reads a 10^7-row file with one entry and checks its peak
 * memory. The matrix itself needs 12 bytes a row (row pointers and row
 * ends); the reader used to add ~16 more per row of temporaries (a row
 * pointer array of its own and per-row counts), ~28 bytes a row in all.
 * The bound allows 16 bytes a row plus 24 MB for the rest. */
static int child_reads_hypersparse(void)
{
    pel_csr *m = NULL;
    double start = resident_kb(), growth;
    int ok = pel_csr_read_mtx(hypersparse_path, PEL_FLOAT64, &m) == PEL_OK && pel_csr_rows(m) == HYPERSPARSE_ROWS &&
             pel_csr_nnz(m) == 1;
    const char *preload = getenv("LD_PRELOAD");
    pel_csr_destroy(m);
    growth = child_peak_growth(start);
    /* Under valgrind the resident size holds memcheck's shadow memory too
     * (about as much again): the bound says nothing there, the read still
     * must succeed. ASan's shadow (1/8) fits in the slack. */
    if (preload != NULL && strstr(preload, "vgpreload") != NULL)
        fprintf(stderr, "under valgrind: peak growth %.0f MB not checked\n", growth * 1e-6);
    else if (PEL_TEST_TSAN)
        fprintf(stderr, "under ThreadSanitizer (shadow memory): peak growth %.0f MB not checked\n", growth * 1e-6);
    else if (growth > 16.0 * HYPERSPARSE_ROWS + 24e6) {
        fprintf(stderr, "reading %d empty rows grew the peak by %.0f MB\n", HYPERSPARSE_ROWS, growth * 1e-6);
        ok = 0;
    }
    return ok ? 0 : 1;
}

/* A tiny file that declares 10^7 rows: the reading is proportional to the
 * file and the rows cost only what the matrix itself holds. */
static void test_declared_rows_cost_only_the_matrix(void)
{
    char text[128];
    snprintf(text, sizeof text, "%%%%MatrixMarket matrix coordinate real general\n%d 1 1\n%d 1 2.5\n",
             HYPERSPARSE_ROWS, HYPERSPARSE_ROWS);
    snprintf(hypersparse_path, sizeof hypersparse_path, "%s", write_text("hypersparse.mtx", text));
    CU_ASSERT_TRUE(pel_test_in_child(child_reads_hypersparse, 60.0));
}

/* Duplicates whose finite values sum past the precision's range are a
 * parse error naming the entry (they used to become Inf, which the writer
 * wrote and the reader then refused); the same file is fine in double when
 * only float overflows, and round-trips. */
static void test_duplicate_sums_beyond_the_range(void)
{
    pel_csr *m = (pel_csr *)(uintptr_t)0x31;
    const char *path = write_text("dup.mtx", BANNER "2 3 3\n1 2 1e308\n2 2 1\n1 2 0.8e308\n");
    const char *fpath;
    double dense[4];

    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, PEL_FLOAT64, &m), PEL_ERROR_PARSE, "pel_csr_read_mtx",
                          "the duplicate entries (1, 2) sum to a value beyond the range of double");
    CU_ASSERT_PTR_NULL(m);
    fpath = write_text("dupf.mtx", BANNER "2 2 3\n2 1 3e38\n1 1 1\n2 1 3e38\n");
    PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(fpath, PEL_FLOAT32, &m), PEL_ERROR_PARSE, "pel_csr_read_mtx",
                          "the duplicate entries (2, 1) sum to a value beyond the range of float");
    /* In double 6e38 is finite: read, write, read back the same bits. */
    PEL_TEST_OK(pel_csr_read_mtx(fpath, PEL_FLOAT64, &m));
    PEL_TEST_OK(pel_csr_write_mtx(m, path));
    pel_csr_destroy(m);
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 2, 2, dense));
    CU_ASSERT(dense[0] == 1.0 && dense[1] == 0.0 && dense[2] == 3e38 + 3e38 && dense[3] == 0.0);
    /* Sums that stay in range, in the file's order. */
    path = write_text("dupok.mtx", BANNER "2 2 3\n1 1 1e308\n1 1 -0.5e308\n1 1 0.7e308\n");
    PEL_TEST_OK(read_dense(path, PEL_FLOAT64, 2, 2, dense));
    CU_ASSERT(dense[0] == (1e308 + -0.5e308) + 0.7e308);
}

/* The same rule for pel_csr_create from arrays: INVALID_ARGUMENT naming
 * the entry, both precisions; Inf given as a value is kept (it is the
 * caller's), but such a matrix is refused by the writer, so that every
 * file pel writes reads back. */
static void test_create_duplicate_sums_and_write_non_finite(void)
{
    const size_t rp[3] = {0, 1, 4}, ci[4] = {0, 1, 0, 1};
    const double v[4] = {2.0, 1e308, -3.0, 1e308};
    const float fv[4] = {2.0f, 3e38f, -3.0f, 3e38f};
    const double inf_v[4] = {2.0, INFINITY, -3.0, 1.0};
    const char *path;
    pel_csr *m = (pel_csr *)(uintptr_t)0x31;

    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT64, 2, 2, rp, ci, v, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "entry (row 1, column 1) are finite but sum to a value beyond the range "
                          "of double");
    CU_ASSERT_PTR_NULL(m);
    PEL_TEST_EXPECT_ERROR(pel_csr_create(PEL_FLOAT32, 2, 2, rp, ci, fv, &m), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_csr_create", "entry (row 1, column 1) are finite but sum to a value beyond the range "
                          "of float");
    CU_ASSERT_PTR_NULL(m);
    /* A non-finite input value is the caller's to give; the sum with it
     * is not an overflow of pel's making. */
    PEL_TEST_OK(pel_csr_create(PEL_FLOAT64, 2, 2, rp, ci, inf_v, &m));
    path = write_text("inf.mtx", "untouched\n");
    remove(path);
    PEL_TEST_EXPECT_ERROR(pel_csr_write_mtx(m, path), PEL_ERROR_INVALID_ARGUMENT, "pel_csr_write_mtx",
                          "matrix entry (row 1, column 1) is inf: a Matrix Market file holds finite numbers only");
    CU_ASSERT(access(path, F_OK) != 0); /* no file was created */
    pel_csr_destroy(m);
}

/* The parser core on a memory buffer (for fuzzing): the same answers as
 * the file reader for every malformed file, the same matrix for valid
 * ones, and no read past `length` (the copies are exactly that long, so
 * ASan sees any overrun; no NUL terminator is needed). */
static void test_buffer_parser_matches_file_reader(void)
{
    static const char valid[] = BANNER "% comment\n3 4 4\n1 1 1.5\n3 4 -2\n1 1 0.25\n2 3 7\n";
    for (size_t i = 0; i <= sizeof bad_files / sizeof bad_files[0]; i++) {
        const char *content = i < sizeof bad_files / sizeof bad_files[0] ? bad_files[i].content : valid;
        size_t length = strlen(content);
        char *copy = malloc(length ? length : 1);
        pel_csr *from_file = NULL, *from_buffer = (pel_csr *)(uintptr_t)0x31;
        char message[512];
        int file_status, buffer_status;
        memcpy(copy, content, length);
        file_status = pel_csr_read_mtx(write_text("same.mtx", content), PEL_FLOAT64, &from_file);
        snprintf(message, sizeof message, "%s", pel_last_error());
        buffer_status = pel__csr_read_mtx_buffer(copy, length, PEL_FLOAT64, &from_buffer);
        CU_ASSERT_EQUAL(buffer_status, file_status);
        if (file_status != PEL_OK) {
            /* Same reason and line; only the name of the input differs. */
            const char *file_reason = strstr(message, " line "), *buffer_reason = strstr(pel_last_error(), " line ");
            CU_ASSERT(file_reason == NULL || (buffer_reason != NULL && strcmp(file_reason, buffer_reason) == 0));
            CU_ASSERT(strstr(pel_last_error(), "<buffer>") != NULL);
            CU_ASSERT_PTR_NULL(from_buffer);
        } else {
            size_t rp1[8], rp2[8], ci1[8], ci2[8];
            double v1[8], v2[8];
            CU_ASSERT_EQUAL(pel_csr_nnz(from_buffer), 3);
            PEL_TEST_OK(pel_csr_export(from_file, rp1, ci1, v1));
            PEL_TEST_OK(pel_csr_export(from_buffer, rp2, ci2, v2));
            CU_ASSERT(memcmp(rp1, rp2, 4 * sizeof *rp1) == 0 && memcmp(ci1, ci2, 3 * sizeof *ci1) == 0 &&
                      memcmp(v1, v2, 3 * sizeof *v1) == 0);
            CU_ASSERT(v1[0] == 1.75 && ci1[2] == 3);
        }
        pel_csr_destroy(from_file);
        if (buffer_status == PEL_OK)
            pel_csr_destroy(from_buffer);
        free(copy);
    }
    PEL_TEST_EXPECT_ERROR(pel__csr_read_mtx_buffer(NULL, 5, PEL_FLOAT64, &(pel_csr *){NULL}),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_csr_read_mtx", "data must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel__csr_read_mtx_buffer(NULL, 0, PEL_FLOAT64, &(pel_csr *){NULL}), PEL_ERROR_PARSE,
                          "pel_csr_read_mtx", "<buffer> line 1: empty file");
}

static void add_suites(void)
{
    static const pel_test_case reading[] = {
        {"general, comments, CRLF, duplicates", test_read_general_with_comments_and_crlf},
        {"integer, pattern, symmetric, skew", test_read_integer_pattern_symmetric_skew},
        {"files shipped in tests/data", test_shipped_files},
        {"malformed files", test_malformed_files},
        {"NUL bytes, long lines, float range", test_malformed_bytes_and_float_range},
        {"bad arguments and I/O errors", test_read_arguments_and_io_errors},
        {"10^7 declared rows, one entry: memory of the matrix only", test_declared_rows_cost_only_the_matrix},
        {"duplicates summing past the range", test_duplicate_sums_beyond_the_range},
        {"pel_csr_create sums, writing Inf", test_create_duplicate_sums_and_write_non_finite},
        {"the parser core on a buffer", test_buffer_parser_matches_file_reader},
        {NULL, NULL},
    };
    static const pel_test_case writing[] = {
        {"write -> read round trip", test_round_trip},
        {"bad arguments and I/O errors", test_write_errors},
        {NULL, NULL},
    };
    pel_test_add_suite("mtx reading", reading);
    pel_test_add_suite("mtx writing", writing);
}

int main(void)
{
    int status;
    char command[128];

    if (make_temp_dir() != 0)
        return 1;
    status = pel_test_main("test_sparse_mtx", add_suites);
    snprintf(command, sizeof command, "rm -rf '%s'", temp_dir);
    if (system(command) != 0)
        status = status ? status : 1;
    return status;
}
