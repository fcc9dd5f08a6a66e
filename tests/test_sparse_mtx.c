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
#include <unistd.h>

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
    CU_ASSERT_PTR_EQUAL(m, (pel_csr *)(uintptr_t)0x99);
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
     "line 3: file ends after 1 of the 1000000000000 declared"},
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
    {BANNER "3 3 2\n1 1 1\n", PEL_ERROR_PARSE, "line 3: file ends after 1 of the 2 declared entries"},
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
        CU_ASSERT_PTR_EQUAL(m, (pel_csr *)(uintptr_t)0x77);
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
    /* A legal header whose row count would need more memory than the
     * machine has: refused before allocating (only where that is so). */
    if ((double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) < 24.0 * 4294967295.0) {
        path = write_text("huge.mtx", BANNER "4294967295 3 1\n1 1 1\n");
        PEL_TEST_EXPECT_ERROR(pel_csr_read_mtx(path, PEL_FLOAT64, &m), PEL_ERROR_PARSE, "pel_csr_read_mtx",
                              "line 2: declared 4294967295 rows need");
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
    CU_ASSERT_PTR_EQUAL(m, (pel_csr *)(uintptr_t)0x55);
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

static void add_suites(void)
{
    static const pel_test_case reading[] = {
        {"general, comments, CRLF, duplicates", test_read_general_with_comments_and_crlf},
        {"integer, pattern, symmetric, skew", test_read_integer_pattern_symmetric_skew},
        {"files shipped in tests/data", test_shipped_files},
        {"malformed files", test_malformed_files},
        {"NUL bytes, long lines, float range", test_malformed_bytes_and_float_range},
        {"bad arguments and I/O errors", test_read_arguments_and_io_errors},
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
