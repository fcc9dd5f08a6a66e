/* Tests of the batched gemm: strided and pointer-array forms, double and
 * float, pel's kernels (every table this CPU supports: reference, AVX2,
 * AVX-512, each run through the batch driver and called directly, checked
 * against the naive long-double reference with the reference-BLAS ratio
 * < 16) and the OpenBLAS path for large items, every layout/transpose, sizes
 * around the tile edges and each table's cutoff, padded leading dimensions,
 * results bit-identical for 1, 2, 3 and 8 threads, alpha/beta rules (beta = 0
 * never reads C, alpha = 0 never reads A or B) and every bad argument. */
#include "matrix_test_util.h"

#include <omp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "matrix/kernels/kernels.h"
#include "core/env.h"
#include "matrix/matrix_internal.h"

static const double ALPHA = 0.731, BETA = -1.27;

typedef struct batch_case {
    pel_layout layout;
    pel_transpose ta, tb;
    size_t m, n, k, lda, ldb, ldc, sa, sb, sc, count;
    double *a, *b, *c0;
} batch_case;

static void case_setup(batch_case *bc, pel_layout layout, pel_transpose ta, pel_transpose tb, size_t m, size_t n,
                       size_t k, size_t pad, size_t count, uint64_t seed)
{
    size_t ar = ta == PEL_NO_TRANS ? m : k, ac = ta == PEL_NO_TRANS ? k : m;
    size_t br = tb == PEL_NO_TRANS ? k : n, bcols = tb == PEL_NO_TRANS ? n : k;
    bc->layout = layout;
    bc->ta = ta;
    bc->tb = tb;
    bc->m = m;
    bc->n = n;
    bc->k = k;
    bc->lda = mt_ld(layout, ar, ac, pad);
    bc->ldb = mt_ld(layout, br, bcols, pad);
    bc->ldc = mt_ld(layout, m, n, pad);
    /* Strides with a gap between items, which must stay untouched too. */
    bc->sa = mt_elems(layout, ar, ac, bc->lda) + 3;
    bc->sb = mt_elems(layout, br, bcols, bc->ldb) + 1;
    bc->sc = mt_elems(layout, m, n, bc->ldc) + 2;
    bc->count = count;
    bc->a = mt_random(bc->sa * count, seed);
    bc->b = mt_random(bc->sb * count, seed + 1);
    bc->c0 = mt_random(bc->sc * count, seed + 2);
}

static void case_free(batch_case *bc)
{
    free(bc->a);
    free(bc->b);
    free(bc->c0);
}

/* Worst ratio over all items of c against the naive reference. */
static double case_ratio(const batch_case *bc, const double *c, double alpha, double beta)
{
    double worst = 0.0;
    for (size_t i = 0; i < bc->count; i++) {
        double r = mt_gemm_ratio(bc->layout, bc->ta, bc->tb, bc->m, bc->n, bc->k, alpha, bc->a + i * bc->sa, bc->lda,
                                 bc->b + i * bc->sb, bc->ldb, beta, bc->c0 + i * bc->sc, c + i * bc->sc, bc->ldc,
                                 0x1p-53);
        worst = r > worst ? r : worst;
    }
    return worst;
}

/* Whether the batch driver gives an m x n x k item to pel's kernels (all
 * three at most the active table's cutoff) rather than to OpenBLAS. */
static int small_item(size_t small_max, size_t m, size_t n, size_t k)
{
    return m <= small_max && n <= small_max && k <= small_max;
}

/* Runs the strided and the pointer-array forms at 1, 2, 3 and 8 threads:
 * correct, bit-identical across thread counts and forms, inputs unchanged,
 * gaps and padding untouched. */
static void check_double_case(pel_layout layout, pel_transpose ta, pel_transpose tb, size_t m, size_t n, size_t k,
                              size_t pad, size_t count, double alpha, double beta, uint64_t seed)
{
    batch_case bc;
    size_t total_c;
    double *first = NULL, *a0, *b0;
    int own_kernel;
    const double **pa;
    const double **pb;
    double **pc;

    case_setup(&bc, layout, ta, tb, m, n, k, pad, count, seed);
    total_c = bc.sc * count;
    /* Items on pel's own kernels must give the same bits for every thread
     * count and form (include/pel/matrix.h promises it); items that go to
     * OpenBLAS need not (OpenBLAS's Haswell and Zen kernels differ in the
     * last bits between thread counts), so each of their runs is held to
     * the accuracy bound against the naive reference instead. */
    own_kernel = small_item(pel__matrix_small_max(pel__matrix_kernels_get(), 0), m, n, k);
    /* beta = 0 must not read C: a NaN there would leak into the result. */
    if (beta == 0.0)
        for (size_t i = 0; i < total_c; i++)
            bc.c0[i] = NAN;
    a0 = mt_copy(bc.a, bc.sa * count);
    b0 = mt_copy(bc.b, bc.sb * count);
    pa = malloc((count + 1) * sizeof *pa);
    pb = malloc((count + 1) * sizeof *pb);
    pc = malloc((count + 1) * sizeof *pc);
    for (int t = 0; t < 4; t++)
        for (int form = 0; form < 2; form++) {
            double *c = mt_copy(bc.c0, total_c);
            mt_threads(matrix_test_threads[t]);
            if (form == 0)
                PEL_TEST_OK(pel_dgemm_batch_strided(layout, ta, tb, m, n, k, alpha, bc.a, bc.lda, bc.sa, bc.b, bc.ldb,
                                                    bc.sb, beta, c, bc.ldc, bc.sc, count));
            else {
                for (size_t i = 0; i < count; i++) {
                    pa[i] = bc.a + i * bc.sa;
                    pb[i] = bc.b + i * bc.sb;
                    pc[i] = c + i * bc.sc;
                }
                PEL_TEST_OK(pel_dgemm_batch(layout, ta, tb, m, n, k, alpha, pa, bc.lda, pb, bc.ldb, beta, pc, bc.ldc,
                                            count));
            }
            if (first == NULL || !own_kernel) {
                double r = case_ratio(&bc, c, alpha, beta);
                if (r >= 16)
                    fprintf(stderr, "batch layout=%d ta=%d tb=%d m=%zu n=%zu k=%zu: ratio %g\n", layout, ta, tb, m, n,
                            k, r);
                CU_ASSERT(r < 16.0);
                /* Gaps between items and padding keep the old values. */
                for (size_t i = 0; i < count; i++) {
                    CU_ASSERT(mt_padding_kept(layout, m, n, bc.ldc, c + i * bc.sc, bc.c0 + i * bc.sc, sizeof *c));
                    CU_ASSERT(memcmp(c + (i + 1) * bc.sc - 2, bc.c0 + (i + 1) * bc.sc - 2, 2 * sizeof *c) == 0);
                }
                if (first == NULL)
                    first = c;
                else
                    free(c);
            } else {
                CU_ASSERT(memcmp(c, first, total_c * sizeof *c) == 0);
                free(c);
            }
        }
    CU_ASSERT(memcmp(bc.a, a0, bc.sa * count * sizeof *a0) == 0);
    CU_ASSERT(memcmp(bc.b, b0, bc.sb * count * sizeof *b0) == 0);
    free(first);
    free(a0);
    free(b0);
    free(pa);
    free(pb);
    free(pc);
    case_free(&bc);
}

static void test_double_combinations(void)
{
    /* Shapes on pel's kernels (edges of the 8x4 tile included), one at the
     * 64 limit, and two that go to OpenBLAS. */
    static const size_t shapes[][3] = {{0, 3, 2}, {1, 1, 1}, {2, 3, 5}, {3, 5, 0}, {5, 9, 2}, {9, 5, 3},
                                       {8, 8, 8}, {16, 16, 16}, {17, 13, 31}, {64, 63, 64}, {65, 9, 5},
                                       {9, 257, 3}};
    unsigned seed = 1, count = 0;

    for (size_t l = 0; l < 2; l++)
        for (size_t ta = 0; ta < 3; ta++)
            for (size_t tb = 0; tb < 3; tb++)
                for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++, count++)
                    check_double_case(matrix_test_layouts[l], matrix_test_transposes[ta], matrix_test_transposes[tb],
                                      shapes[s][0], shapes[s][1], shapes[s][2], count % 3, (count % 4) * 3 + 1 +
                                      (shapes[s][0] > 64 || shapes[s][1] > 64 ? 0 : 4), ALPHA,
                                      count % 5 ? BETA : 1.0, seed++);
    mt_threads_default();
}

/* Every kernel table this CPU supports, called directly, against the naive
 * reference. */
static void test_kernels_directly(void)
{
    static const char *names[] = {"reference", "avx2", "avx512"};
    double work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    float swork[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    unsigned seed = 40;

    for (size_t t = 0; t < sizeof names / sizeof names[0]; t++) {
        const pel__matrix_kernels *kern = pel__matrix_kernels_find(names[t]);
        if (kern == NULL)
            continue;
        for (size_t m = 1; m <= 64; m += (m < 20 ? 1 : 11))
            for (size_t ta = 0; ta < 2; ta++) {
                size_t n = (m * 7) % 64 + 1, k = (m * 3) % 64 + 1, ld = 70;
                double *a = mt_random(ld * 64, seed++), *b = mt_random(ld * 64, seed++), *c = mt_random(ld * 64, seed++);
                double *c0 = mt_copy(c, ld * 64);
                float *sa = mt_random_float(ld * 64, seed++), *sb = mt_random_float(ld * 64, seed++),
                      *sc = mt_random_float(ld * 64, seed++);
                float *sc0 = mt_copy_float(sc, ld * 64);
                pel_transpose trans = ta ? PEL_TRANS : PEL_NO_TRANS;
                ptrdiff_t rsa = ta ? (ptrdiff_t)ld : 1, csa = ta ? 1 : (ptrdiff_t)ld;
                kern->dgemm_small(m, n, k, ALPHA, a, rsa, csa, b, 1, (ptrdiff_t)ld, BETA, c, ld, work);
                CU_ASSERT(mt_gemm_ratio(PEL_COL_MAJOR, trans, PEL_NO_TRANS, m, n, k, ALPHA, a, ld, b, ld, BETA, c0, c,
                                        ld, 0x1p-53) < 16.0);
                CU_ASSERT(mt_padding_kept(PEL_COL_MAJOR, m, n, ld, c, c0, sizeof *c));
                kern->sgemm_small(m, n, k, (float)ALPHA, sa, rsa, csa, sb, (ptrdiff_t)ld, 1, 0.0f, sc, ld, swork);
                CU_ASSERT(mt_sgemm_ratio(PEL_COL_MAJOR, trans, PEL_TRANS, m, n, k, (float)ALPHA, sa, ld * 64, ld, sb,
                                         ld * 64, ld, 0.0f, sc0, sc, ld * 64, ld) < 16.0);
                CU_ASSERT(mt_padding_kept(PEL_COL_MAJOR, m, n, ld, sc, sc0, sizeof *sc));
                free(a);
                free(b);
                free(c);
                free(c0);
                free(sa);
                free(sb);
                free(sc);
                free(sc0);
            }
    }
    CU_ASSERT(pel__matrix_kernels_find("no such isa") == NULL);
    CU_ASSERT(pel__matrix_kernels_get() != NULL);
}

static void test_float_batches(void)
{
    static const size_t shapes[][3] = {{1, 1, 1}, {3, 17, 5}, {16, 16, 16}, {33, 20, 7}, {64, 64, 64}, {70, 9, 9}};
    unsigned seed = 300, count = 0;

    for (size_t l = 0; l < 2; l++)
        for (size_t ta = 0; ta < 3; ta++)
            for (size_t tb = 0; tb < 3; tb++)
                for (size_t s = 0; s < 6; s++, count++) {
                    pel_layout layout = matrix_test_layouts[l];
                    pel_transpose tra = matrix_test_transposes[ta], trb = matrix_test_transposes[tb];
                    size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], nb = 5;
                    size_t lda = mt_ld(layout, tra == PEL_NO_TRANS ? m : k, tra == PEL_NO_TRANS ? k : m, 1);
                    size_t ldb = mt_ld(layout, trb == PEL_NO_TRANS ? k : n, trb == PEL_NO_TRANS ? n : k, 2);
                    size_t ldc = mt_ld(layout, m, n, 1);
                    size_t sa = lda * 70, sb = ldb * 70, sc = ldc * 70;
                    float *a = mt_random_float(sa * nb, seed++), *b = mt_random_float(sb * nb, seed++);
                    float *c0 = mt_random_float(sc * nb, seed++), *c1 = mt_copy_float(c0, sc * nb);
                    float *c2 = mt_copy_float(c0, sc * nb);
                    const float *pa[5], *pb[5];
                    float *pc[5];
                    float beta = count % 3 ? -1.27f : 0.0f;
                    for (size_t i = 0; i < nb; i++) {
                        pa[i] = a + i * sa;
                        pb[i] = b + i * sb;
                        pc[i] = c2 + i * sc;
                    }
                    mt_threads(1);
                    PEL_TEST_OK(pel_sgemm_batch_strided(layout, tra, trb, m, n, k, 0.731f, a, lda, sa, b, ldb, sb, beta,
                                                        c1, ldc, sc, nb));
                    mt_threads(matrix_test_threads[count % 4]);
                    PEL_TEST_OK(pel_sgemm_batch(layout, tra, trb, m, n, k, 0.731f, pa, lda, pb, ldb, beta, pc, ldc, nb));
                    /* Bit-identical on pel's kernels; OpenBLAS items: both
                     * runs within the accuracy bound (see check_double_case). */
                    if (small_item(pel__matrix_small_max(pel__matrix_kernels_get(), 1), m, n, k))
                        CU_ASSERT(memcmp(c1, c2, sc * nb * sizeof *c1) == 0);
                    for (size_t i = 0; i < nb; i++) {
                        CU_ASSERT(mt_sgemm_ratio(layout, tra, trb, m, n, k, 0.731f, a + i * sa, sa, lda, b + i * sb, sb,
                                                 ldb, beta, c0 + i * sc, c1 + i * sc, sc, ldc) < 16.0);
                        CU_ASSERT(mt_sgemm_ratio(layout, tra, trb, m, n, k, 0.731f, a + i * sa, sa, lda, b + i * sb, sb,
                                                 ldb, beta, c0 + i * sc, c2 + i * sc, sc, ldc) < 16.0);
                    }
                    free(a);
                    free(b);
                    free(c0);
                    free(c1);
                    free(c2);
                }
    mt_threads_default();
}

/* alpha = 0 reads neither A nor B; beta = 0 never reads C; stride 0 shares
 * one A across the batch; an empty batch accepts NULL. */
static void test_batch_rules(void)
{
    enum { M = 5, COUNT = 7 };
    double a[M * M * COUNT], b[M * M * COUNT], c[M * M * COUNT], ref[M * M * COUNT];

    for (size_t s = 0; s < 2; s++) {
        size_t n = s ? 70 : M; /* pel's kernel and OpenBLAS */
        double *big_a = malloc(n * n * COUNT * sizeof *big_a), *big_b = malloc(n * n * COUNT * sizeof *big_b);
        double *big_c = malloc(n * n * COUNT * sizeof *big_c);
        for (size_t i = 0; i < n * n * COUNT; i++)
            big_c[i] = NAN;
        pel_test_fill(big_a, n * n * COUNT, 1);
        pel_test_fill(big_b, n * n * COUNT, 2);
        for (int t = 0; t < 4; t++) {
            mt_threads(matrix_test_threads[t]);
            PEL_TEST_OK(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, n, n, n, 1.0, big_a, n,
                                                n * n, big_b, n, n * n, 0.0, big_c, n, n * n, COUNT));
            for (size_t i = 0; i < n * n * COUNT; i++)
                if (!isfinite(big_c[i])) {
                    CU_FAIL("beta = 0 leaked a NaN from C");
                    break;
                }
            for (size_t i = 0; i < n * n * COUNT; i++)
                big_a[i] = big_b[i] = NAN;
            pel_test_fill(big_c, n * n * COUNT, 3);
            PEL_TEST_OK(pel_dgemm_batch_strided(PEL_ROW_MAJOR, PEL_TRANS, PEL_NO_TRANS, n, n, n, 0.0, big_a, n, n * n,
                                                big_b, n, n * n, 0.0, big_c, n, n * n, COUNT));
            for (size_t i = 0; i < n * n * COUNT; i++)
                if (big_c[i] != 0.0) {
                    CU_FAIL("alpha = 0 read A or B");
                    break;
                }
            pel_test_fill(big_a, n * n * COUNT, 1);
            pel_test_fill(big_b, n * n * COUNT, 2);
            for (size_t i = 0; i < n * n * COUNT; i++)
                big_c[i] = NAN;
        }
        free(big_a);
        free(big_b);
        free(big_c);
    }
    /* stride_a = 0: every item uses the same A; compare with separate gemms. */
    pel_test_fill(a, M * M, 4);
    pel_test_fill(b, M * M * COUNT, 5);
    pel_test_fill(c, M * M * COUNT, 6);
    memcpy(ref, c, sizeof c);
    PEL_TEST_OK(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, M, M, M, ALPHA, a, M, 0, b, M,
                                        M * M, BETA, c, M, M * M, COUNT));
    for (size_t i = 0; i < COUNT; i++)
        CU_ASSERT(mt_gemm_ratio(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, M, M, M, ALPHA, a, M, b + i * M * M, M,
                                BETA, ref + i * M * M, c + i * M * M, M, 0x1p-53) < 16.0);
    /* k = 0 scales C by beta. */
    memcpy(ref, c, sizeof c);
    PEL_TEST_OK(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, M, M, 0, ALPHA, NULL, M, 0, NULL,
                                        1, 0, 0.5, c, M, M * M, COUNT));
    for (size_t i = 0; i < M * M * COUNT; i++)
        CU_ASSERT(c[i] == 0.5 * ref[i]);
    PEL_TEST_OK(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, M, M, M, ALPHA, NULL, M, 0, NULL,
                                        M, 0, BETA, NULL, M, 0, 0));
    PEL_TEST_OK(pel_dgemm_batch(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, M, M, M, ALPHA, NULL, M, NULL, M, BETA,
                                NULL, M, 0));
    mt_threads_default();
}

static void test_batch_bad_arguments(void)
{
    double a[32], b[32], c[32], c0[32];
    const double *pa[2] = {a, a + 4}, *pb[2] = {b, NULL};
    double *pc[2] = {c, c + 4};
    float fa[8], fb[8], fc[8];
    const float *fpa[1] = {fa}, *fpb[1] = {fb};
    float *fpc[1] = {fc};

    pel_test_fill(a, 32, 1);
    pel_test_fill(b, 32, 2);
    pel_test_fill(c, 32, 3);
    memcpy(c0, c, sizeof c);
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(3, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4, b, 2, 4, 0.0,
                                                  c, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "layout=3");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, 1, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4, b, 2, 4, 0.0,
                                                  c, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "transa=1");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, 1, 2, 2, 2, 1.0, a, 2, 4, b, 2, 4, 0.0,
                                                  c, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "transb=1");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 1, 4, b,
                                                  2, 4, 0.0, c, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "lda=1");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4, b,
                                                  1, 4, 0.0, c, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "ldb=1");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4, b,
                                                  2, 4, 0.0, c, 1, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "ldc=1");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, NULL, 2, 4,
                                                  b, 2, 4, 0.0, c, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4,
                                                  NULL, 2, 4, 0.0, c, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "b must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4, b,
                                                  2, 4, 0.0, NULL, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "c must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4, b,
                                                  2, 4, 0.0, c, 2, 3, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "stride_c=3");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4, b,
                                                  2, 4, 0.0, a + 6, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "overlaps the A batch");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2, 4, b,
                                                  2, 4, 0.0, b + 4, 2, 4, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch_strided", "overlaps the B batch");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, a, 2,
                                                  SIZE_MAX / 4, b, 2, 4, 0.0, c, 2, 4, 3),
                          PEL_ERROR_OVERFLOW, "pel_dgemm_batch_strided", "3 items");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, pa, 2, pb, 2, 0.0,
                                          pc, 2, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch", "b[1] must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, NULL, 2, pb, 2, 0.0,
                                          pc, 2, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch", "a must not be NULL");
    PEL_TEST_EXPECT_ERROR(pel_dgemm_batch(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, pa, 1, pb, 2, 0.0,
                                          pc, 2, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch", "lda=1");
    {
        const double *pb_ok[2] = {b, b + 4};
        double *pc_alias[2] = {c, (double *)b + 5};
        PEL_TEST_EXPECT_ERROR(pel_dgemm_batch(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0, pa, 2, pb_ok, 2,
                                              0.0, pc_alias, 2, 2),
                              PEL_ERROR_INVALID_ARGUMENT, "pel_dgemm_batch", "c[1] overlaps");
    }
    PEL_TEST_EXPECT_ERROR(pel_sgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0f, fa, 2, 4,
                                                  fb, 2, 4, 0.0f, fc, 2, 1, 2),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_sgemm_batch_strided", "stride_c=1");
    PEL_TEST_EXPECT_ERROR(pel_sgemm_batch(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 2, 2, 2, 1.0f, fpa, 2, fpb, 2,
                                          0.0f, NULL, 2, 1),
                          PEL_ERROR_INVALID_ARGUMENT, "pel_sgemm_batch", "c must not be NULL");
    (void)fpc;
    CU_ASSERT(memcmp(c, c0, sizeof c) == 0);
}

/* Called concurrently from an OpenMP parallel region (each thread its own C),
 * every call runs on its calling thread and gives the serial result. */
static void test_called_inside_parallel_region(void)
{
    enum { N = 9, COUNT = 50, T = 3 };
    double *a = mt_random(N * N * COUNT, 1), *b = mt_random(N * N * COUNT, 2), *c0 = mt_random(N * N * COUNT, 3);
    double *ref = mt_copy(c0, N * N * COUNT), *c[T];
    int bad = 0;

    mt_threads(4);
    PEL_TEST_OK(pel_dgemm_batch_strided(PEL_ROW_MAJOR, PEL_TRANS, PEL_NO_TRANS, N, N, N, ALPHA, a, N, N * N, b, N,
                                        N * N, BETA, ref, N, N * N, COUNT));
    for (int t = 0; t < T; t++)
        c[t] = mt_copy(c0, N * N * COUNT);
#pragma omp parallel num_threads(T) reduction(+ : bad)
    {
        int t = omp_get_thread_num();
        bad += pel_get_num_threads() != 1;
        bad += pel_dgemm_batch_strided(PEL_ROW_MAJOR, PEL_TRANS, PEL_NO_TRANS, N, N, N, ALPHA, a, N, N * N, b, N,
                                       N * N, BETA, c[t], N, N * N, COUNT) != PEL_OK;
    }
    CU_ASSERT_EQUAL(bad, 0);
    for (int t = 0; t < T; t++) {
        CU_ASSERT(memcmp(c[t], ref, N * N * COUNT * sizeof *ref) == 0);
        free(c[t]);
    }
    free(a);
    free(b);
    free(c0);
    free(ref);
    mt_threads_default();
}

/* The kernel tables this CPU supports, best last. */
static size_t supported_tables(const pel__matrix_kernels *tables[3])
{
    static const char *names[] = {"reference", "avx2", "avx512"};
    size_t count = 0;
    for (size_t t = 0; t < 3; t++)
        if ((tables[count] = pel__matrix_kernels_find(names[t])) != NULL)
            count++;
    return count;
}

/* The sizes that reach every tile edge of every table (8/16-row vectors,
 * 4/8-column tiles, 32-row blocks, the constant-size 8/16/32 paths) and
 * both sides of the table's cutoff to OpenBLAS. */
static size_t edge_sizes(const pel__matrix_kernels *table, size_t sizes[20])
{
    static const size_t fixed[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33};
    size_t count = 0, cut = table->dgemm_small_max;
    const size_t around[] = {cut - 1, cut, cut + 1};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        sizes[count++] = fixed[i];
    for (size_t i = 0; i < 3; i++) {
        size_t j = 0;
        while (j < count && sizes[j] != around[i])
            j++;
        if (j == count)
            sizes[count++] = around[i];
    }
    return count;
}

/* Every table through the batch driver: every layout and transpose, square
 * and mixed shapes over the edge sizes, padded leading dimensions, the
 * alpha/beta cases that choose the kernels' epilogues (alpha = 1 with
 * beta = 1 or not, beta = 0 with C full of NaN, general), at 1, 2, 3 and 8
 * threads (check_double_case). */
static void test_tables_through_batch(void)
{
    static const double alphas[] = {1.0, ALPHA, 1.0, -1.0, ALPHA};
    static const double betas[] = {1.0, BETA, 0.0, 0.0, 1.0};
    const pel__matrix_kernels *tables[3], *saved;
    size_t ntables = supported_tables(tables), sizes[20];
    unsigned seed = 5000, count = 0;

    for (size_t t = 0; t < ntables; t++) {
        size_t nsizes = edge_sizes(tables[t], sizes);
        saved = pel__matrix_kernels_set(tables[t]);
        CU_ASSERT(pel__matrix_kernels_get() == tables[t]);
        for (size_t l = 0; l < 2; l++)
            for (size_t ta = 0; ta < 3; ta++)
                for (size_t tb = 0; tb < 3; tb++)
                    for (size_t s = 0; s < nsizes; s++)
                        for (int square = 0; square < 2; square++, count++) {
                            size_t m = sizes[s], n = square ? m : sizes[(s + 3) % nsizes];
                            size_t k = square ? m : sizes[(s + 7) % nsizes];
                            check_double_case(matrix_test_layouts[l], matrix_test_transposes[ta],
                                              matrix_test_transposes[tb], m, n, k, count % 3, 2 + count % 2,
                                              alphas[count % 5], betas[count % 5], seed++);
                        }
        pel__matrix_kernels_set(saved);
    }
    mt_threads_default();
}

/* Every table: alpha = 0 reads neither A nor B (they hold NaN) and beta = 0
 * never reads C (it holds NaN), for every edge size, at 1, 2, 3 and 8
 * threads, in both precisions. */
static void test_tables_alpha_beta_zero(void)
{
    const pel__matrix_kernels *tables[3], *saved;
    size_t ntables = supported_tables(tables), sizes[20];
    enum { COUNT = 3 };

    for (size_t t = 0; t < ntables; t++) {
        size_t nsizes = edge_sizes(tables[t], sizes);
        saved = pel__matrix_kernels_set(tables[t]);
        for (size_t s = 0; s < nsizes; s++) {
            size_t n = sizes[s] > 0 ? sizes[s] : 1, elems = n * n * COUNT;
            double *a = malloc(elems * sizeof *a), *b = malloc(elems * sizeof *b), *c = malloc(elems * sizeof *c);
            float *fa = malloc(elems * sizeof *fa), *fb = malloc(elems * sizeof *fb), *fc = malloc(elems * sizeof *fc);
            for (int th = 0; th < 4; th++) {
                int bad_nan = 0, bad_scale = 0;
                mt_threads(matrix_test_threads[th]);
                /* beta = 0: C is NaN before, finite after. */
                pel_test_fill(a, elems, 11 + s);
                pel_test_fill(b, elems, 12 + s);
                pel_test_fill_float(fa, elems, 13 + s);
                pel_test_fill_float(fb, elems, 14 + s);
                for (size_t i = 0; i < elems; i++) {
                    c[i] = NAN;
                    fc[i] = NAN;
                }
                PEL_TEST_OK(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, n, n, n, ALPHA, a, n,
                                                    n * n, b, n, n * n, 0.0, c, n, n * n, COUNT));
                PEL_TEST_OK(pel_sgemm_batch_strided(PEL_ROW_MAJOR, PEL_TRANS, PEL_NO_TRANS, n, n, n, 1.0f, fa, n,
                                                    n * n, fb, n, n * n, 0.0f, fc, n, n * n, COUNT));
                for (size_t i = 0; i < elems; i++)
                    bad_nan += !isfinite(c[i]) || !isfinite(fc[i]);
                /* alpha = 0: A and B are NaN, C becomes beta*C exactly. */
                for (size_t i = 0; i < elems; i++) {
                    a[i] = b[i] = NAN;
                    fa[i] = fb[i] = NAN;
                }
                pel_test_fill(c, elems, 15 + s);
                pel_test_fill_float(fc, elems, 16 + s);
                {
                    double *c0 = mt_copy(c, elems);
                    float *fc0 = mt_copy_float(fc, elems);
                    PEL_TEST_OK(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_TRANS, PEL_NO_TRANS, n, n, n, 0.0, a, n,
                                                        n * n, b, n, n * n, BETA, c, n, n * n, COUNT));
                    PEL_TEST_OK(pel_sgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_TRANS, n, n, n, 0.0f, fa, n,
                                                        n * n, fb, n, n * n, 0.5f, fc, n, n * n, COUNT));
                    for (size_t i = 0; i < elems; i++)
                        bad_scale += c[i] != BETA * c0[i] || fc[i] != 0.5f * fc0[i];
                    free(c0);
                    free(fc0);
                }
                if (bad_nan || bad_scale)
                    fprintf(stderr, "table %s n=%zu threads=%d: %d NaN leaks, %d wrong alpha=0 results\n",
                            tables[t]->name, n, matrix_test_threads[th], bad_nan, bad_scale);
                CU_ASSERT_EQUAL(bad_nan, 0);
                CU_ASSERT_EQUAL(bad_scale, 0);
            }
            free(a);
            free(b);
            free(c);
            free(fa);
            free(fb);
            free(fc);
        }
        pel__matrix_kernels_set(saved);
    }
    mt_threads_default();
}

/* The kernels called directly in every epilogue (alpha = 1 or not, beta =
 * 0, 1 or other), square and not, A untransposed and transposed, with C's
 * padding checked: what the batch driver never sends (sizes above the
 * table's cutoff up to PEL_GEMM_SMALL_MAX) is covered here. */
static void test_kernels_epilogues(void)
{
    static const double alphas[] = {1.0, 1.0, 1.0, ALPHA, ALPHA};
    static const double betas[] = {1.0, BETA, 0.0, 0.0, BETA};
    static const size_t ms[] = {1, 7, 8, 9, 16, 17, 24, 31, 32, 33, 40, 47, 48, 63, 64};
    const pel__matrix_kernels *tables[3];
    size_t ntables = supported_tables(tables), ld = 67;
    double work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    float swork[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    unsigned seed = 9000;

    for (size_t t = 0; t < ntables; t++)
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
            for (size_t e = 0; e < 5; e++) {
                size_t m = ms[i], n = e % 2 ? m : ms[(i + 5) % 15], k = e % 2 ? m : ms[(i + 2) % 15];
                int trans = (int)((i + e) % 2);
                ptrdiff_t rsa = trans ? (ptrdiff_t)ld : 1, csa = trans ? 1 : (ptrdiff_t)ld;
                double alpha = alphas[e], beta = betas[e];
                double *a = mt_random(ld * 64, seed++), *b = mt_random(ld * 64, seed++);
                double *c = mt_random(ld * 64, seed++);
                float *sa = mt_random_float(ld * 64, seed++), *sb = mt_random_float(ld * 64, seed++),
                      *sc = mt_random_float(ld * 64, seed++);
                double *c0;
                float *sc0;
                if (beta == 0.0)
                    for (size_t j = 0; j < n; j++)
                        for (size_t q = 0; q < m; q++) {
                            c[q + j * ld] = NAN;
                            sc[q + j * ld] = NAN;
                        }
                c0 = mt_copy(c, ld * 64);
                sc0 = mt_copy_float(sc, ld * 64);
                tables[t]->dgemm_small(m, n, k, alpha, a, rsa, csa, b, 1, (ptrdiff_t)ld, beta, c, ld, work);
                tables[t]->sgemm_small(m, n, k, (float)alpha, sa, rsa, csa, sb, 1, (ptrdiff_t)ld, (float)beta, sc, ld,
                                       swork);
                {
                    double rd = mt_gemm_ratio(PEL_COL_MAJOR, trans ? PEL_TRANS : PEL_NO_TRANS, PEL_NO_TRANS, m, n, k,
                                              alpha, a, ld, b, ld, beta, c0, c, ld, 0x1p-53);
                    double rs = mt_sgemm_ratio(PEL_COL_MAJOR, trans ? PEL_TRANS : PEL_NO_TRANS, PEL_NO_TRANS, m, n, k,
                                               (float)alpha, sa, ld * 64, ld, sb, ld * 64, ld, (float)beta, sc0, sc,
                                               ld * 64, ld);
                    if (rd >= 16.0 || rs >= 16.0)
                        fprintf(stderr, "table %s m=%zu n=%zu k=%zu alpha=%g beta=%g trans=%d: ratios %g %g\n",
                                tables[t]->name, m, n, k, alpha, beta, trans, rd, rs);
                    CU_ASSERT(rd < 16.0);
                    CU_ASSERT(rs < 16.0);
                }
                CU_ASSERT(mt_padding_kept(PEL_COL_MAJOR, m, n, ld, c, c0, sizeof *c));
                CU_ASSERT(mt_padding_kept(PEL_COL_MAJOR, m, n, ld, sc, sc0, sizeof *sc));
                free(a);
                free(b);
                free(c);
                free(c0);
                free(sa);
                free(sb);
                free(sc);
                free(sc0);
            }
}

/* One tiny-kernel case of one precision: COUNT items of m x n x k, each
 * C column padded to ld = m + 3 and a gap of 5 elements between items, run
 * through the strided entry (when the table has one) and the one-item entry;
 * both must give the same bits, match the naive reference and leave padding
 * and gaps alone. */
enum { TINY_COUNT = 3, TINY_GAP = 5 };

static void check_tiny_double(const pel__matrix_kernels *table, size_t m, size_t n, size_t k, int btrans,
                              double alpha, double beta, unsigned seed)
{
    size_t lda = m + 1, ldb = (btrans ? n : k) + 2, ldc = m + 3;
    size_t sa = lda * k + TINY_GAP, sb = ldb * (btrans ? k : n) + TINY_GAP, sc = ldc * n + TINY_GAP;
    ptrdiff_t rsb = btrans ? (ptrdiff_t)ldb : 1, csb = btrans ? 1 : (ptrdiff_t)ldb;
    double work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    double *a = mt_random(sa * TINY_COUNT, seed), *b = mt_random(sb * TINY_COUNT, seed + 1);
    double *c0 = mt_random(sc * TINY_COUNT, seed + 2), *c1, *c2;

    if (beta == 0.0)
        for (size_t i = 0; i < TINY_COUNT; i++)
            for (size_t j = 0; j < n; j++)
                for (size_t q = 0; q < m; q++)
                    c0[i * sc + j * ldc + q] = NAN;
    c1 = mt_copy(c0, sc * TINY_COUNT);
    c2 = mt_copy(c0, sc * TINY_COUNT);
    for (size_t i = 0; i < TINY_COUNT; i++)
        table->dgemm_small(m, n, k, alpha, a + i * sa, 1, (ptrdiff_t)lda, b + i * sb, rsb, csb, beta, c1 + i * sc,
                           ldc, work);
    if (table->dgemm_small_strided != NULL) {
        table->dgemm_small_strided(TINY_COUNT, m, n, k, alpha, a, 1, (ptrdiff_t)lda, sa, b, rsb, csb, sb, beta, c2,
                                   ldc, sc, work);
        CU_ASSERT(memcmp(c1, c2, sc * TINY_COUNT * sizeof *c1) == 0);
    }
    for (size_t i = 0; i < TINY_COUNT; i++) {
        double r = mt_gemm_ratio(PEL_COL_MAJOR, PEL_NO_TRANS, btrans ? PEL_TRANS : PEL_NO_TRANS, m, n, k, alpha,
                                 a + i * sa, lda, b + i * sb, ldb, beta, c0 + i * sc, c1 + i * sc, ldc, 0x1p-53);
        if (r >= 16.0)
            fprintf(stderr, "tiny %s m=%zu n=%zu k=%zu btrans=%d alpha=%g beta=%g: ratio %g\n", table->name, m, n, k,
                    btrans, alpha, beta, r);
        CU_ASSERT(r < 16.0);
        CU_ASSERT(mt_padding_kept(PEL_COL_MAJOR, m, n, ldc, c1 + i * sc, c0 + i * sc, sizeof *c1));
        CU_ASSERT(memcmp(c1 + (i + 1) * sc - TINY_GAP, c0 + (i + 1) * sc - TINY_GAP, TINY_GAP * sizeof *c1) == 0);
    }
    free(a);
    free(b);
    free(c0);
    free(c1);
    free(c2);
}

static void check_tiny_float(const pel__matrix_kernels *table, size_t m, size_t n, size_t k, int btrans, float alpha,
                             float beta, unsigned seed)
{
    size_t lda = m + 1, ldb = (btrans ? n : k) + 2, ldc = m + 3;
    size_t sa = lda * k + TINY_GAP, sb = ldb * (btrans ? k : n) + TINY_GAP, sc = ldc * n + TINY_GAP;
    ptrdiff_t rsb = btrans ? (ptrdiff_t)ldb : 1, csb = btrans ? 1 : (ptrdiff_t)ldb;
    float work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    float *a = mt_random_float(sa * TINY_COUNT, seed), *b = mt_random_float(sb * TINY_COUNT, seed + 1);
    float *c0 = mt_random_float(sc * TINY_COUNT, seed + 2), *c1, *c2;

    if (beta == 0.0f)
        for (size_t i = 0; i < TINY_COUNT; i++)
            for (size_t j = 0; j < n; j++)
                for (size_t q = 0; q < m; q++)
                    c0[i * sc + j * ldc + q] = NAN;
    c1 = mt_copy_float(c0, sc * TINY_COUNT);
    c2 = mt_copy_float(c0, sc * TINY_COUNT);
    for (size_t i = 0; i < TINY_COUNT; i++)
        table->sgemm_small(m, n, k, alpha, a + i * sa, 1, (ptrdiff_t)lda, b + i * sb, rsb, csb, beta, c1 + i * sc,
                           ldc, work);
    if (table->sgemm_small_strided != NULL) {
        table->sgemm_small_strided(TINY_COUNT, m, n, k, alpha, a, 1, (ptrdiff_t)lda, sa, b, rsb, csb, sb, beta, c2,
                                   ldc, sc, work);
        CU_ASSERT(memcmp(c1, c2, sc * TINY_COUNT * sizeof *c1) == 0);
    }
    for (size_t i = 0; i < TINY_COUNT; i++) {
        double r = mt_sgemm_ratio(PEL_COL_MAJOR, PEL_NO_TRANS, btrans ? PEL_TRANS : PEL_NO_TRANS, m, n, k, alpha,
                                  a + i * sa, sa, lda, b + i * sb, sb, ldb, beta, c0 + i * sc, c1 + i * sc, sc, ldc);
        if (r >= 16.0)
            fprintf(stderr, "tiny float %s m=%zu n=%zu k=%zu btrans=%d: ratio %g\n", table->name, m, n, k, btrans, r);
        CU_ASSERT(r < 16.0);
        CU_ASSERT(mt_padding_kept(PEL_COL_MAJOR, m, n, ldc, c1 + i * sc, c0 + i * sc, sizeof *c1));
        CU_ASSERT(memcmp(c1 + (i + 1) * sc - TINY_GAP, c0 + (i + 1) * sc - TINY_GAP, TINY_GAP * sizeof *c1) == 0);
    }
    free(a);
    free(b);
    free(c0);
    free(c1);
    free(c2);
}

/* The fully unrolled tiny kernels (kernels/<isa>/gemm_tiny.c, one instance
 * per n and k): every table, every m, n <= 8 (float m up to 16, one AVX-512
 * vector) and k <= 16, B as stored and transposed, the three epilogues
 * (alpha = beta = 1; beta = 0 with C full of NaN; general), the one-item and
 * the strided entries bit for bit, against the naive reference. */
static void test_tiny_kernels(void)
{
    static const double alphas[] = {1.0, ALPHA, ALPHA}, betas[] = {1.0, 0.0, BETA};
    const pel__matrix_kernels *tables[3];
    size_t ntables = supported_tables(tables);
    unsigned seed = 12000;

    for (size_t t = 0; t < ntables; t++)
        for (size_t m = 1; m <= 2 * PEL_GEMM_TINY_MAX; m++)
            for (size_t n = 1; n <= PEL_GEMM_TINY_MAX; n++)
                for (size_t k = 1; k <= PEL_GEMM_TINY_K_MAX; k++) {
                    int btrans = (int)((m + n + k) % 2);
                    for (size_t e = 0; e < 3; e++, seed += 3) {
                        if (m <= PEL_GEMM_TINY_MAX)
                            check_tiny_double(tables[t], m, n, k, btrans, alphas[e], betas[e], seed);
                        check_tiny_float(tables[t], m, n, k, btrans, (float)alphas[e], (float)betas[e], seed);
                    }
                }
}

/* Memory whose last byte is followed by an inaccessible page: a read past
 * the end faults. Unmap [*base, *base + *len) when done. */
static void *guarded_alloc(size_t bytes, void **base, size_t *len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (bytes + page - 1) / page + 1;
    char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        return NULL;
    if (mprotect(p + (pages - 1) * page, page, PROT_NONE) != 0) {
        munmap(p, pages * page);
        return NULL;
    }
    *base = p;
    *len = pages * page;
    return p + (pages - 1) * page - bytes;
}

/* One page-end case: PAGE_END_COUNT packed items (lda = m, no gap) of
 * m x n x k, the batch's A, B and C each ending at an inaccessible page,
 * through the strided entry (when the table has one; strided = 2: every
 * item on the same A, stride_a = 0, so that no item's A is followed by
 * another's) and the one-item entry; no fault, and the naive reference's
 * results. */
enum { PAGE_END_COUNT = 4 };

static void check_page_end_double(const pel__matrix_kernels *table, size_t m, size_t n, size_t k, int strided)
{
    const size_t sa = strided == 2 ? 0 : m * k, sb = k * n, sc = m * n, count = PAGE_END_COUNT;
    const size_t na = strided == 2 ? m * k : sa * count;
    double work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    double *ra = mt_random(na, 500 + m), *rb = mt_random(sb * count, 600 + n);
    double *c0 = mt_random(sc * count, 700 + k), *a, *b, *c;
    void *base[3];
    size_t len[3];

    a = guarded_alloc(na * sizeof *a, &base[0], &len[0]);
    b = guarded_alloc(sb * count * sizeof *b, &base[1], &len[1]);
    c = guarded_alloc(sc * count * sizeof *c, &base[2], &len[2]);
    CU_ASSERT_FATAL(a != NULL && b != NULL && c != NULL);
    memcpy(a, ra, na * sizeof *a);
    memcpy(b, rb, sb * count * sizeof *b);
    memcpy(c, c0, sc * count * sizeof *c);
    if (strided && table->dgemm_small_strided != NULL)
        table->dgemm_small_strided(count, m, n, k, 1.0, a, 1, (ptrdiff_t)m, sa, b, 1, (ptrdiff_t)k, sb, 1.0, c, m,
                                   sc, work);
    else
        for (size_t i = 0; i < count; i++)
            table->dgemm_small(m, n, k, 1.0, a + i * sa, 1, (ptrdiff_t)m, b + i * sb, 1, (ptrdiff_t)k, 1.0,
                               c + i * sc, m, work);
    for (size_t i = 0; i < count; i++)
        CU_ASSERT(mt_gemm_ratio(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, m, n, k, 1.0, a + i * sa, m, b + i * sb,
                                k, 1.0, c0 + i * sc, c + i * sc, m, 0x1p-53) < 16.0);
    for (int q = 0; q < 3; q++)
        munmap(base[q], len[q]);
    free(ra);
    free(rb);
    free(c0);
}

static void check_page_end_float(const pel__matrix_kernels *table, size_t m, size_t n, size_t k, int strided)
{
    const size_t sa = strided == 2 ? 0 : m * k, sb = k * n, sc = m * n, count = PAGE_END_COUNT;
    const size_t na = strided == 2 ? m * k : sa * count;
    float work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    float *ra = mt_random_float(na, 500 + m), *rb = mt_random_float(sb * count, 600 + n);
    float *c0 = mt_random_float(sc * count, 700 + k), *a, *b, *c;
    void *base[3];
    size_t len[3];

    a = guarded_alloc(na * sizeof *a, &base[0], &len[0]);
    b = guarded_alloc(sb * count * sizeof *b, &base[1], &len[1]);
    c = guarded_alloc(sc * count * sizeof *c, &base[2], &len[2]);
    CU_ASSERT_FATAL(a != NULL && b != NULL && c != NULL);
    memcpy(a, ra, na * sizeof *a);
    memcpy(b, rb, sb * count * sizeof *b);
    memcpy(c, c0, sc * count * sizeof *c);
    if (strided && table->sgemm_small_strided != NULL)
        table->sgemm_small_strided(count, m, n, k, 1.0f, a, 1, (ptrdiff_t)m, sa, b, 1, (ptrdiff_t)k, sb, 1.0f, c, m,
                                   sc, work);
    else
        for (size_t i = 0; i < count; i++)
            table->sgemm_small(m, n, k, 1.0f, a + i * sa, 1, (ptrdiff_t)m, b + i * sb, 1, (ptrdiff_t)k, 1.0f,
                               c + i * sc, m, work);
    for (size_t i = 0; i < count; i++)
        CU_ASSERT(mt_sgemm_ratio(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, m, n, k, 1.0f, a + i * sa, m * k, m,
                                 b + i * sb, sb, k, 1.0f, c0 + i * sc, c + i * sc, sc, m) < 16.0);
    for (int q = 0; q < 3; q++)
        munmap(base[q], len[q]);
    free(ra);
    free(rb);
    free(c0);
}

/* The tiny kernels read short columns of A whole except the last column of
 * a run's last item (kernels/avx512/gemm_tiny.c): every table, both
 * entries, double and float, every m of the tiny kernels. */
static void test_tiny_at_page_end(void)
{
    static const size_t ns[] = {1, 3, 8}, ks[] = {1, 2, 7, 16};
    const pel__matrix_kernels *tables[3];
    size_t ntables = supported_tables(tables);

    for (size_t t = 0; t < ntables; t++)
        for (size_t m = 1; m <= 2 * PEL_GEMM_TINY_MAX; m++)
            for (size_t in = 0; in < 3; in++)
                for (size_t ik = 0; ik < 4; ik++)
                    for (int strided = 0; strided <= 2; strided++) {
                        if (m <= PEL_GEMM_TINY_MAX)
                            check_page_end_double(tables[t], m, ns[in], ks[ik], strided);
                        check_page_end_float(tables[t], m, ns[in], ks[ik], strided);
                    }
}

/* k = 1 with a column stride below m (valid: there is one column): every
 * table, every tiny m, both entries, double and float, against the naive
 * reference. The AVX2 kernels once padded such items into slots of too few
 * rows (the matrix fuzzer's 5 x 5 x 1 items with lda = 1). */
static void test_tiny_single_column(void)
{
    enum { COUNT = 3 };
    double work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    float swork[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    const pel__matrix_kernels *tables[3];
    size_t ntables = supported_tables(tables);

    for (size_t t = 0; t < ntables; t++)
        for (size_t m = 1; m <= 2 * PEL_GEMM_TINY_MAX; m++)
            for (size_t n = 1; n <= PEL_GEMM_TINY_MAX; n += 3)
                for (int strided = 0; strided <= 1; strided++) {
                    const size_t sa = m, sb = n, sc = m * n;
                    double *a = mt_random(sa * COUNT, 800 + m), *b = mt_random(sb * COUNT, 810 + n);
                    double *c0 = mt_random(sc * COUNT, 820 + m), *c = mt_copy(c0, sc * COUNT);
                    float *fa = mt_random_float(sa * COUNT, 830 + m), *fb = mt_random_float(sb * COUNT, 840 + n);
                    float *fc0 = mt_random_float(sc * COUNT, 850 + m), *fc = malloc(sc * COUNT * sizeof *fc);
                    memcpy(fc, fc0, sc * COUNT * sizeof *fc);
                    if (m <= PEL_GEMM_TINY_MAX && strided && tables[t]->dgemm_small_strided != NULL)
                        tables[t]->dgemm_small_strided(COUNT, m, n, 1, ALPHA, a, 1, 1, sa, b, 1, 1, sb, BETA, c, m,
                                                       sc, work);
                    else if (m <= PEL_GEMM_TINY_MAX)
                        for (size_t i = 0; i < COUNT; i++)
                            tables[t]->dgemm_small(m, n, 1, ALPHA, a + i * sa, 1, 1, b + i * sb, 1, 1, BETA,
                                                   c + i * sc, m, work);
                    if (strided && tables[t]->sgemm_small_strided != NULL)
                        tables[t]->sgemm_small_strided(COUNT, m, n, 1, (float)ALPHA, fa, 1, 1, sa, fb, 1, 1, sb,
                                                       (float)BETA, fc, m, sc, swork);
                    else
                        for (size_t i = 0; i < COUNT; i++)
                            tables[t]->sgemm_small(m, n, 1, (float)ALPHA, fa + i * sa, 1, 1, fb + i * sb, 1, 1,
                                                   (float)BETA, fc + i * sc, m, swork);
                    for (size_t i = 0; i < COUNT; i++) {
                        if (m <= PEL_GEMM_TINY_MAX)
                            CU_ASSERT(mt_gemm_ratio(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, m, n, 1, ALPHA,
                                                    a + i * sa, 1, b + i * sb, 1, BETA, c0 + i * sc, c + i * sc, m,
                                                    0x1p-53) < 16.0);
                        CU_ASSERT(mt_sgemm_ratio(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, m, n, 1, (float)ALPHA,
                                                 fa + i * sa, m, 1, fb + i * sb, n, 1, (float)BETA, fc0 + i * sc,
                                                 fc + i * sc, sc, m) < 16.0);
                    }
                    free(a);
                    free(b);
                    free(c0);
                    free(c);
                    free(fa);
                    free(fb);
                    free(fc0);
                    free(fc);
                }
}

static void test_table_switch(void)
{
    const pel__matrix_kernels *best = pel__matrix_kernels_get(), *ref = pel__matrix_kernels_find("reference");
    CU_ASSERT(ref != NULL);
    CU_ASSERT(pel__matrix_kernels_set(ref) == best);
    CU_ASSERT(pel__matrix_kernels_get() == ref);
    CU_ASSERT(pel__matrix_kernels_set(NULL) == ref);
    CU_ASSERT(pel__matrix_kernels_get() == best);
    for (size_t t = 0; t < 3; t++) {
        static const char *names[] = {"reference", "avx2", "avx512"};
        const pel__matrix_kernels *table = pel__matrix_kernels_find(names[t]);
        if (table != NULL) {
            CU_ASSERT(table->dgemm_small_max >= 1 && table->dgemm_small_max <= PEL_GEMM_SMALL_MAX);
            CU_ASSERT(table->sgemm_small_max >= 1 && table->sgemm_small_max <= PEL_GEMM_SMALL_MAX);
        }
    }
}

/* The cutoff to OpenBLAS measured past the table's constant
 * (lib/matrix/cutoff.c): PEL_GEMM_CUTOFF's grammar, the decision on
 * synthetic timings, the measured value's bounds and stability, and the
 * batch driver obeying the cutoff (forced to 64, a 40 x 40 x 40 batch has
 * the bits of the table's kernel called per item). */
static void test_measured_cutoff(void)
{
    static const size_t sizes[] = {33, 40, 48, 56, 64};
    const double own[] = {1, 1, 1, 1, 1}, faster[] = {2, 2, 2, 2, 2}, close_at_48[] = {2, 2, 1.1, 2, 2};
    const double slower[] = {0.5, 2, 2, 2, 2}, unmeasured[] = {2, 0, 2, 2, 2}, nan_own[] = {NAN, 1, 1, 1, 1};
    const char *saved = getenv("PEL_GEMM_CUTOFF");
    char *saved_copy = saved ? strdup(saved) : NULL;
    size_t v = 0;

    CU_ASSERT(pel__env_parse_gemm_cutoff("table", &v) == PEL_OK && v == SIZE_MAX);
    CU_ASSERT(pel__env_parse_gemm_cutoff(" table ", &v) == PEL_OK && v == SIZE_MAX);
    CU_ASSERT(pel__env_parse_gemm_cutoff("40", &v) == PEL_OK && v == 40);
    CU_ASSERT(pel__env_parse_gemm_cutoff("1", &v) == PEL_OK && v == 1);
    CU_ASSERT(pel__env_parse_gemm_cutoff(" 64", &v) == PEL_OK && v == 64);
    CU_ASSERT(pel__env_parse_gemm_cutoff(NULL, &v) == PEL_OK && v == 0);
    CU_ASSERT(pel__env_parse_gemm_cutoff("", &v) == PEL_OK && v == 0);
    v = 7;
    CU_ASSERT(pel__env_parse_gemm_cutoff("0", &v) == PEL_ERROR_INVALID_ARGUMENT);
    CU_ASSERT(pel__env_parse_gemm_cutoff("65", &v) == PEL_ERROR_INVALID_ARGUMENT);
    CU_ASSERT(pel__env_parse_gemm_cutoff("-3", &v) == PEL_ERROR_INVALID_ARGUMENT);
    CU_ASSERT(pel__env_parse_gemm_cutoff("tables", &v) == PEL_ERROR_INVALID_ARGUMENT);
    CU_ASSERT(pel__env_parse_gemm_cutoff("40x", &v) == PEL_ERROR_INVALID_ARGUMENT);
    CU_ASSERT(pel__env_parse_gemm_cutoff("18446744073709551656", &v) == PEL_ERROR_INVALID_ARGUMENT);
    CU_ASSERT(strstr(pel_last_error(), "PEL_GEMM_CUTOFF") != NULL);
    CU_ASSERT(v == 7); /* untouched on refusal */

    CU_ASSERT(pel__matrix_cutoff_decide(32, sizes, own, faster, 5) == 64);
    CU_ASSERT(pel__matrix_cutoff_decide(32, sizes, own, close_at_48, 5) == 40);
    CU_ASSERT(pel__matrix_cutoff_decide(32, sizes, own, slower, 5) == 32);
    CU_ASSERT(pel__matrix_cutoff_decide(32, sizes, own, unmeasured, 5) == 33);
    CU_ASSERT(pel__matrix_cutoff_decide(32, sizes, nan_own, faster, 5) == 32);
    CU_ASSERT(pel__matrix_cutoff_decide(32, sizes, own, faster, 0) == 32);
    /* Sizes at or below the table's constant are not decisions to make. */
    CU_ASSERT(pel__matrix_cutoff_decide(48, sizes, own, slower, 5) == 64);
    CU_ASSERT(pel__matrix_cutoff_decide(64, sizes, own, faster, 5) == 64);

    unsetenv("PEL_GEMM_CUTOFF");
    pel__matrix_cutoff_read_environment();
    for (size_t t = 0; t < 3; t++) {
        static const char *names[] = {"reference", "avx2", "avx512"};
        const pel__matrix_kernels *table = pel__matrix_kernels_find(names[t]);
        if (table == NULL)
            continue;
        for (int single = 0; single < 2; single++) {
            size_t constant = single ? table->sgemm_small_max : table->dgemm_small_max;
            size_t floor = pel__matrix_cutoff_floor(table, single);
            size_t measured = pel__matrix_small_max(table, single);
            CU_ASSERT(measured >= floor && measured <= PEL_GEMM_SMALL_MAX);
            CU_ASSERT(pel__matrix_small_max(table, single) == measured); /* measured once */
            printf("\n    cutoff %s %s: table %zu, on this machine %zu", names[t], single ? "float" : "double",
                   constant, measured);
        }
        setenv("PEL_GEMM_CUTOFF", "table", 1);
        pel__matrix_cutoff_read_environment();
        CU_ASSERT(pel__matrix_small_max(table, 0) == table->dgemm_small_max);
        setenv("PEL_GEMM_CUTOFF", "50", 1);
        pel__matrix_cutoff_read_environment();
        CU_ASSERT(pel__matrix_small_max(table, 0) == 50);
        setenv("PEL_GEMM_CUTOFF", "bad", 1); /* refused: the measured value, and a note */
        pel__matrix_cutoff_read_environment();
        CU_ASSERT(strstr(pel_environment_notes(), "PEL_GEMM_CUTOFF") != NULL);
        CU_ASSERT(pel__matrix_small_max(table, 0) >= pel__matrix_cutoff_floor(table, 0));
        unsetenv("PEL_GEMM_CUTOFF");
        pel__matrix_cutoff_read_environment();
    }

    {
        const size_t n = 40, count = 6, s = n * n;
        const pel__matrix_kernels *table = pel__matrix_kernels_get();
        double *a = mt_random(s * count, 901), *b = mt_random(s * count, 902), *c0 = mt_random(s * count, 903);
        double *c = mt_copy(c0, s * count), *want = mt_copy(c0, s * count);
        double *work = aligned_alloc(64, PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX * sizeof(double));
        setenv("PEL_GEMM_CUTOFF", "64", 1);
        pel__matrix_cutoff_read_environment();
        for (size_t i = 0; i < count; i++)
            table->dgemm_small(n, n, n, ALPHA, a + i * s, 1, (ptrdiff_t)n, b + i * s, 1, (ptrdiff_t)n, BETA,
                               want + i * s, n, work);
        PEL_TEST_OK(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, n, n, n, ALPHA, a, n, s, b, n,
                                            s, BETA, c, n, s, count));
        CU_ASSERT(memcmp(c, want, s * count * sizeof *c) == 0);
        /* On OpenBLAS (the table's cutoff is below 40 on the AVX-512
         * table): the accuracy bound, whoever computes it. */
        setenv("PEL_GEMM_CUTOFF", "table", 1);
        pel__matrix_cutoff_read_environment();
        memcpy(c, c0, s * count * sizeof *c);
        PEL_TEST_OK(pel_dgemm_batch_strided(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, n, n, n, ALPHA, a, n, s, b, n,
                                            s, BETA, c, n, s, count));
        for (size_t i = 0; i < count; i++)
            CU_ASSERT(mt_gemm_ratio(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, n, n, n, ALPHA, a + i * s, n,
                                    b + i * s, n, BETA, c0 + i * s, c + i * s, n, 0x1p-53) < 16.0);
        unsetenv("PEL_GEMM_CUTOFF");
        pel__matrix_cutoff_read_environment();
        free(a);
        free(b);
        free(c0);
        free(c);
        free(want);
        free(work);
    }
    if (saved_copy != NULL)
        setenv("PEL_GEMM_CUTOFF", saved_copy, 1);
    pel__matrix_cutoff_read_environment();
    free(saved_copy);
}

static void add_suites(void)
{
    static const pel_test_case batch[] = {
        {"double batches: every layout, transpose, form, thread count", test_double_combinations},
        {"small-gemm kernels against the reference", test_kernels_directly},
        {"every kernel table through the batch driver, edge sizes and epilogues", test_tables_through_batch},
        {"every kernel table: alpha = 0 and beta = 0 read nothing", test_tables_alpha_beta_zero},
        {"every kernel table called directly in every epilogue", test_kernels_epilogues},
        {"tiny kernels: every m, n up to 8 and k up to 16, both entries bit for bit", test_tiny_kernels},
        {"tiny kernels: batches ending at an inaccessible page", test_tiny_at_page_end},
        {"tiny kernels: one column with lda below m", test_tiny_single_column},
        {"kernel table switch and cutoffs", test_table_switch},
        {"the cutoff to OpenBLAS measured on this machine", test_measured_cutoff},
        {"float batches", test_float_batches},
        {"alpha/beta rules, shared A, empty batch", test_batch_rules},
        {"bad arguments", test_batch_bad_arguments},
        {"called inside an OpenMP parallel region", test_called_inside_parallel_region},
        {NULL, NULL},
    };
    pel_test_add_suite("matrix batched gemm", batch);
}

int main(void)
{
    return pel_test_main("test_matrix_batch", add_suites);
}
