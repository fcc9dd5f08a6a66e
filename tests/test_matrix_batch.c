/* Tests of the batched gemm: strided and pointer-array forms, double and
 * float, pel's kernels (reference and AVX2, each checked against the naive
 * long-double reference with the reference-BLAS ratio < 16) and the OpenBLAS
 * path for large items, every layout/transpose, padded leading dimensions,
 * results bit-identical for 1, 2, 3 and 8 threads, alpha/beta rules and
 * every bad argument. */
#include "matrix_test_util.h"

#include <omp.h>
#include <stdint.h>

#include "matrix/kernels/kernels.h"

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

/* Runs the strided and the pointer-array forms at 1, 2, 3 and 8 threads:
 * correct, bit-identical across thread counts and forms, inputs unchanged,
 * gaps and padding untouched. */
static void check_double_case(pel_layout layout, pel_transpose ta, pel_transpose tb, size_t m, size_t n, size_t k,
                              size_t pad, size_t count, double alpha, double beta, uint64_t seed)
{
    batch_case bc;
    size_t total_c;
    double *first = NULL, *a0, *b0;
    const double **pa;
    const double **pb;
    double **pc;

    case_setup(&bc, layout, ta, tb, m, n, k, pad, count, seed);
    total_c = bc.sc * count;
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
            if (first == NULL) {
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
                first = c;
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
    static const char *names[] = {"reference", "avx2"};
    double work[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    float swork[PEL_GEMM_SMALL_MAX * PEL_GEMM_SMALL_MAX] __attribute__((aligned(64)));
    unsigned seed = 40;

    for (size_t t = 0; t < 2; t++) {
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
                    CU_ASSERT(memcmp(c1, c2, sc * nb * sizeof *c1) == 0);
                    for (size_t i = 0; i < nb; i++)
                        CU_ASSERT(mt_sgemm_ratio(layout, tra, trb, m, n, k, 0.731f, a + i * sa, sa, lda, b + i * sb, sb,
                                                 ldb, beta, c0 + i * sc, c1 + i * sc, sc, ldc) < 16.0);
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

static void add_suites(void)
{
    static const pel_test_case batch[] = {
        {"double batches: every layout, transpose, form, thread count", test_double_combinations},
        {"small-gemm kernels against the reference", test_kernels_directly},
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
