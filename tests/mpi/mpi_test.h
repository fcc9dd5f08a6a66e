/* Tiny CUnit-free harness for the MPI tests: every rank counts its checks;
 * pel_mpi_test_finish() sums them over MPI_COMM_WORLD and rank 0 prints the
 * closing line "N passed, M failed". */
#ifndef PEL_MPI_TEST_H
#define PEL_MPI_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <mpi.h>

#include "pel.h"
#include "pel/mpi.h"
#include "core/handle.h"

static long pel_mpi_test_passed, pel_mpi_test_failed;
static int pel_mpi_test_rank;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (cond) {                                                                       \
            pel_mpi_test_passed++;                                                        \
        } else {                                                                          \
            pel_mpi_test_failed++;                                                        \
            if (pel_mpi_test_failed <= 20) {                                              \
                fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", pel_mpi_test_rank,   \
                        __FILE__, __LINE__, #cond);                                       \
                fprintf(stderr, __VA_ARGS__);                                             \
                fprintf(stderr, " (last error: %s)\n", pel_last_error());                 \
            }                                                                             \
        }                                                                                 \
    } while (0)

/* splitmix64: reproducible "high-entropy" data, the same on every rank. */
static inline uint64_t pel_mpi_test_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline double pel_mpi_test_uniform(uint64_t *s)
{
    return (double)(pel_mpi_test_next(s) >> 11) * 0x1p-53 * 2.0 - 1.0;
}

/* Checks a collective failure on every rank: the expected status, a
 * message that names the function, bad_rank as "rank R of N" (unless
 * bad_rank < 0: a disagreement between ranks has no one culprit) and the
 * fragment, and the same status and message on every rank. */
static inline void pel_mpi_test_expect_all(pel_status got, pel_status expected, const char *function, int bad_rank,
                                           const char *fragment)
{
    char want[64];
    const char *msg = pel_last_error();
    int statuses[2] = {(int)got, -(int)got}, all[2], nranks;
    unsigned long hash = 5381, hmin, hmax;

    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    snprintf(want, sizeof want, "rank %d of %d", bad_rank, nranks);
    CHECK(got == expected, "%s: status %d, expected %d", function, (int)got, (int)expected);
    CHECK(strncmp(msg, function, strlen(function)) == 0, "%s: message names the function: %s", function, msg);
    if (bad_rank >= 0)
        CHECK(strstr(msg, want) != NULL, "%s: message names %s: %s", function, want, msg);
    CHECK(strstr(msg, fragment) != NULL, "%s: message names '%s': %s", function, fragment, msg);
    MPI_Allreduce(statuses, all, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(all[0] == -all[1], "%s: same status on every rank", function);
    for (const char *c = msg; *c; c++)
        hash = hash * 33 + (unsigned char)*c;
    MPI_Allreduce(&hash, &hmin, 1, MPI_UNSIGNED_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&hash, &hmax, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
    CHECK(hmin == hmax, "%s: same message on every rank: %s", function, msg);
}

/* The start of every MPI test program: MPI_Init_thread at
 * MPI_THREAD_FUNNELED (what libpel_mpi needs), this rank and the rank
 * count (also into pel_mpi_test_rank for CHECK's messages), and a minimum
 * work per thread of 1 so that small test grids still run on every thread
 * asked for. */
static inline void pel_mpi_test_init(int *argc, char ***argv, int *rank, int *nranks)
{
    int provided;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, nranks);
    pel_mpi_test_rank = *rank;
    pel_set_min_work_per_thread(1);
}

/* Handle-leak check of an error test: pass the count taken at its start
 * (pel__handle_live_count()); every object made since must be gone. */
static inline void pel_mpi_test_no_leak(size_t live_before)
{
    CHECK(pel__handle_live_count() == live_before, "no handle leaked: %zu live", pel__handle_live_count());
}

static inline int pel_mpi_test_finish(const char *program)
{
    long local[2] = {pel_mpi_test_passed, pel_mpi_test_failed}, total[2];
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Allreduce(local, total, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (pel_mpi_test_rank == 0)
        printf("%s (%d ranks, %d threads): %ld passed, %ld failed\n", program, size, pel_get_num_threads(), total[0],
               total[1]);
    return total[1] == 0 ? 0 : 1;
}

/* The end of a test program: the summary line, MPI_Finalize, and the exit
 * status (0 when every check passed on every rank). */
static inline int pel_mpi_test_end(const char *program)
{
    int status = pel_mpi_test_finish(program);
    MPI_Finalize();
    return status;
}

#endif
