/* pel-bench-mpi: the distributed stencil benchmark, run under mpirun.
 *
 *   mpirun -np N pel-bench-mpi                       (the default table)
 *   mpirun -np N pel-bench-mpi --kernel mpi-stencil [--size 256x256x256,8192x8192]
 *                              [--threads 1,2] [--reps R] [--format table|csv|json]
 *
 * It is pel-bench's own driver (benchmarks/pel_bench.c, linked here with its
 * main renamed, see lib/mpi/Makefile.inc): the same options, timing (median
 * of interleaved rounds) and output, with one kernel table holding
 * mpi-stencil. Each size runs 100 steps (20 with --suite quick) of the 3-D
 * 7-point (NxMxK) or 2-D 5-point (NxM) explicit heat stencil, periodic on
 * every axis, three ways in the same rounds: pel's deep-halo apply with the
 * halo depth T its model picks, pel with T = 1 (a halo exchange every step),
 * and PETSc's DMDA the way its tutorials write it (DMGlobalToLocal, then a
 * plain loop over the local array; the loop is an OpenMP loop on the outer
 * axis so that the 2-thread rows compare like with like). PETSc uses pel's
 * process grid and the same order of terms, so the three results are
 * compared bit for bit after the timing. A size "NxMxK:T8" forces pel's halo
 * depth (here 8) instead of the model's. Only rank 0 prints. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>

#include "pel.h"
#include "pel/mpi.h"
#include "pel_bench.h"

#ifdef PEL_HAVE_PETSC
#include <petscdmda.h>
#endif

#undef main /* pel_bench.c's main is renamed pel_bench_main for this program */
int pel_bench_main(int argc, char **argv);
int main(int argc, char **argv);

static int rank, nranks;

typedef struct mpi_case {
    int ndim;
    size_t dims[3], steps, T, forced_T; /* forced_T 0: pel's choice */
    pel_dgrid *grid;
    pel_stencil *stencil;
    double c[7];
    double *local;
#ifdef PEL_HAVE_PETSC
    DM da;
    Vec u, unew, ulocal;
#endif
} mpi_case;

static void run_pel(mpi_case *m, size_t T)
{
    MPI_Barrier(MPI_COMM_WORLD);
    if (pel_dgrid_stencil_apply(m->grid, m->stencil, m->local, NULL, m->steps, T, NULL) != PEL_OK)
        fprintf(stderr, "pel-bench-mpi: %s\n", pel_last_error());
}

/* The model's choice (halo_steps = 0): the first call calibrates the
 * model on the real exchanges, the bench's warm-up round. */
static void run_pel_auto(void *arg)
{
    mpi_case *m = arg;
    run_pel(m, m->forced_T);
}

static void run_pel_t1(void *arg)
{
    run_pel(arg, 1);
}

#ifdef PEL_HAVE_PETSC
/* One step the way PETSc's tutorials write it: ghost update, then the plain
 * loop over the owned box reading the ghosted local array. The terms are in
 * pel's order (lexicographic offsets), so the bits match pel's. */
static void petsc_step(mpi_case *m)
{
    PetscInt xs, ys, zs, xm, ym, zm;
    const double *c = m->c;
    Vec swap;

    DMGlobalToLocalBegin(m->da, m->u, INSERT_VALUES, m->ulocal);
    DMGlobalToLocalEnd(m->da, m->u, INSERT_VALUES, m->ulocal);
    DMDAGetCorners(m->da, &xs, &ys, &zs, &xm, &ym, &zm);
    if (m->ndim == 3) {
        const PetscScalar ***a;
        PetscScalar ***b;
        DMDAVecGetArrayRead(m->da, m->ulocal, &a);
        DMDAVecGetArray(m->da, m->unew, &b);
#pragma omp parallel for schedule(static)
        for (PetscInt k = zs; k < zs + zm; k++)
            for (PetscInt j = ys; j < ys + ym; j++)
                for (PetscInt i = xs; i < xs + xm; i++) {
                    double acc = c[0] * a[k - 1][j][i];
                    acc = acc + c[1] * a[k][j - 1][i];
                    acc = acc + c[2] * a[k][j][i - 1];
                    acc = acc + c[3] * a[k][j][i];
                    acc = acc + c[4] * a[k][j][i + 1];
                    acc = acc + c[5] * a[k][j + 1][i];
                    acc = acc + c[6] * a[k + 1][j][i];
                    b[k][j][i] = acc;
                }
        DMDAVecRestoreArrayRead(m->da, m->ulocal, &a);
        DMDAVecRestoreArray(m->da, m->unew, &b);
    } else {
        const PetscScalar **a;
        PetscScalar **b;
        DMDAVecGetArrayRead(m->da, m->ulocal, &a);
        DMDAVecGetArray(m->da, m->unew, &b);
#pragma omp parallel for schedule(static)
        for (PetscInt j = ys; j < ys + ym; j++)
            for (PetscInt i = xs; i < xs + xm; i++) {
                double acc = c[0] * a[j - 1][i];
                acc = acc + c[1] * a[j][i - 1];
                acc = acc + c[2] * a[j][i];
                acc = acc + c[3] * a[j][i + 1];
                acc = acc + c[4] * a[j + 1][i];
                b[j][i] = acc;
            }
        DMDAVecRestoreArrayRead(m->da, m->ulocal, &a);
        DMDAVecRestoreArray(m->da, m->unew, &b);
    }
    swap = m->u;
    m->u = m->unew;
    m->unew = swap;
}

static void run_petsc(void *arg)
{
    mpi_case *m = arg;
    MPI_Barrier(MPI_COMM_WORLD);
    for (size_t s = 0; s < m->steps; s++)
        petsc_step(m);
}

static int petsc_open(mpi_case *m)
{
    int pd[3];
    PetscScalar *v;
    PetscInt n;
    pel_dgrid_info(m->grid, NULL, NULL, pd, NULL, NULL, NULL);
    if (m->ndim == 3)
        DMDACreate3d(PETSC_COMM_WORLD, DM_BOUNDARY_PERIODIC, DM_BOUNDARY_PERIODIC, DM_BOUNDARY_PERIODIC,
                     DMDA_STENCIL_STAR, (PetscInt)m->dims[2], (PetscInt)m->dims[1], (PetscInt)m->dims[0], pd[2],
                     pd[1], pd[0], 1, 1, NULL, NULL, NULL, &m->da);
    else
        DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_PERIODIC, DM_BOUNDARY_PERIODIC, DMDA_STENCIL_STAR,
                     (PetscInt)m->dims[1], (PetscInt)m->dims[0], pd[1], pd[0], 1, 1, NULL, NULL, &m->da);
    DMSetUp(m->da);
    DMCreateGlobalVector(m->da, &m->u);
    VecDuplicate(m->u, &m->unew);
    DMCreateLocalVector(m->da, &m->ulocal);
    /* Same boxes as pel's (same process grid and split rule), same layout. */
    VecGetLocalSize(m->u, &n);
    VecGetArray(m->u, &v);
    memcpy(v, m->local, (size_t)n * sizeof *v);
    VecRestoreArray(m->u, &v);
    return 0;
}

static void petsc_close(mpi_case *m)
{
    VecDestroy(&m->u);
    VecDestroy(&m->unew);
    VecDestroy(&m->ulocal);
    DMDestroy(&m->da);
}
#endif

static int run_mpi_stencil(const pel_bench_context *context)
{
    mpi_case m;
    pel_boundary faces[6];
    const double lambda = context->quick ? 0.1 : 0.1;
    pel_bench_reference petsc_ref = {NULL, NULL, 0.0};
    pel_dgrid_stats stats;
    pel_dgrid_model model;
    double t_auto = 0, t_t1 = 0, share, share_t1, bytes_step, bytes_step_t1, points;
    size_t owned[3], npoints;
    int pd[3] = {1, 1, 1}, verified = -1;
    size_t forced_T = 0;
    char extra[512], size_text[64], variant[8];
    pel_status st;

    memset(&m, 0, sizeof m);
    {
        /* "NxMxK:T8" forces the halo depth of the pel row. */
        const char *colon = strchr(context->size, ':');
        size_t len = colon ? (size_t)(colon - context->size) : strlen(context->size);
        if (len >= sizeof size_text)
            len = sizeof size_text - 1;
        memcpy(size_text, context->size, len);
        size_text[len] = '\0';
        if (colon && colon[1] == 'T')
            forced_T = (size_t)strtoul(colon + 2, NULL, 10);
    }
    m.ndim = pel_bench_parse_dims(size_text, m.dims, 3);
    if (m.ndim != 2 && m.ndim != 3) {
        fprintf(stderr, "pel-bench-mpi: size '%s' is not NxM (2d5) or NxMxK (3d7)\n", context->size);
        return 1;
    }
    m.steps = context->quick ? 20 : 100;
    for (int f = 0; f < 6; f++)
        faces[f] = (pel_boundary){PEL_BOUNDARY_PERIODIC, 0.0};
    npoints = 2 * (size_t)m.ndim + 1;
    for (size_t k = 0; k < npoints; k++)
        m.c[k] = lambda;
    m.c[m.ndim] = 1.0 - 2.0 * m.ndim * lambda;
    st = pel_stencil_create(PEL_FLOAT64, m.ndim, PEL_STENCIL_STAR, 1, m.c, npoints, 0, 0.0, &m.stencil);
    if (st == PEL_OK)
        st = pel_dgrid_create(MPI_COMM_WORLD, PEL_FLOAT64, m.ndim, m.dims, NULL, faces, &m.grid);
    if (st == PEL_OK)
        st = pel_dgrid_local_alloc(m.grid, (void **)&m.local);
    if (st == PEL_OK)
        st = pel_dgrid_halo_steps(m.grid, m.stencil, m.steps, forced_T, &m.T);
    if (st == PEL_OK)
        st = pel_dgrid_model_get(m.grid, &model);
    if (st != PEL_OK) {
        pel_dgrid_destroy(m.grid);
        pel_stencil_destroy(m.stencil);
        return 1;
    }
    pel_dgrid_info(m.grid, NULL, NULL, pd, NULL, NULL, owned);
    {
        size_t n = owned[0] * owned[1] * (m.ndim == 3 ? owned[2] : 1);
        double *r = pel_bench_random(n, 1234 + (unsigned long long)rank);
        memcpy(m.local, r, n * sizeof *r);
        pel_free(r);
    }
#ifdef PEL_HAVE_PETSC
    petsc_open(&m);
    petsc_ref.fn = run_petsc;
    petsc_ref.arg = &m;
#endif
    m.forced_T = forced_T;
    pel_bench_compare_with(context->reps, run_pel_auto, run_pel_t1, &m, petsc_ref.fn ? &petsc_ref : NULL, &t_auto,
                           &t_t1);

    /* Communication share and bytes per step of both pel variants (the
     * slowest rank's share; bytes summed over the ranks). */
    run_pel(&m, 1);
    pel_dgrid_last_stats(m.grid, &stats);
    share_t1 = stats.total_seconds > 0 ? stats.exchange_seconds / stats.total_seconds : 0;
    bytes_step_t1 = stats.halo_bytes * (double)stats.exchanges / (double)m.steps;
    run_pel(&m, forced_T);
    pel_dgrid_last_stats(m.grid, &stats);
    m.T = stats.halo_steps; /* what the (calibrated) model chose */
    pel_dgrid_model_get(m.grid, &model);
    share = stats.total_seconds > 0 ? stats.exchange_seconds / stats.total_seconds : 0;
    bytes_step = stats.halo_bytes * (double)stats.exchanges / (double)m.steps;
    {
        double in[2] = {share, share_t1}, out[2], b_in[2] = {bytes_step, bytes_step_t1}, b_out[2];
        MPI_Allreduce(in, out, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        MPI_Allreduce(b_in, b_out, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        share = out[0], share_t1 = out[1], bytes_step = b_out[0], bytes_step_t1 = b_out[1];
    }

#ifdef PEL_HAVE_PETSC
    /* Verify: from the same start, pel (chosen T) and PETSc give the same
     * bits on every rank's box. */
    {
        PetscScalar *v;
        PetscInt n;
        int same, all;
        VecGetLocalSize(m.u, &n);
        VecGetArray(m.u, &v);
        memcpy(v, m.local, (size_t)n * sizeof *v);
        VecRestoreArray(m.u, &v);
        run_pel(&m, forced_T);
        run_petsc(&m);
        VecGetArray(m.u, &v);
        same = memcmp(v, m.local, (size_t)n * sizeof *v) == 0;
        VecRestoreArray(m.u, &v);
        MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        verified = all;
    }
#endif

    points = (double)m.dims[0] * (double)m.dims[1] * (m.ndim == 3 ? (double)m.dims[2] : 1.0) * (double)m.steps;
    snprintf(variant, sizeof variant, "%s", m.ndim == 3 ? "3d7" : "2d5");
    if (forced_T > 0)
        snprintf(size_text + strlen(size_text), sizeof size_text - strlen(size_text), ":T%zu", forced_T);
    {
        pel_bench_row row = {"mpi-stencil", variant, size_text, context->threads, t_auto,
                             2.0 * (double)npoints * points / t_auto * 1e-9, 16.0 * points / t_auto * 1e-9,
                             "pel T=1 (halo exchange every step)", t_t1, extra};
        snprintf(extra, sizeof extra,
                 "\"ranks\":%d,\"halo_steps\":%zu,\"steps\":%zu,\"process_grid\":\"%dx%dx%d\",\"comm_share\":%.4f,"
                 "\"halo_bytes_per_step\":%.0f,\"baseline_comm_share\":%.4f,\"baseline_halo_bytes_per_step\":%.0f,"
                 "\"latency_s\":%.3g,\"bandwidth_Bps\":%.4g,\"seconds_per_point\":%.4g,"
                 "\"seconds_per_point_blocked\":%.4g,"
                 "\"oversubscribed\":%s",
                 nranks, m.T, m.steps, pd[0], pd[1], m.ndim == 3 ? pd[2] : 1, share, bytes_step, share_t1,
                 bytes_step_t1, model.latency_seconds, model.bandwidth_bytes, model.seconds_per_point,
                 model.seconds_per_point_blocked, nranks * context->threads > 2 ? "true" : "false");
        pel_bench_emit(&row);
#ifdef PEL_HAVE_PETSC
        row.baseline = "PETSc DMDA (GlobalToLocal + local loop, every step)";
        row.baseline_seconds = petsc_ref.median;
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ",\"bits_equal_petsc\":%s",
                 verified == 1 ? "true" : "false");
        pel_bench_emit(&row);
        row.variant = m.ndim == 3 ? "3d7-T1" : "2d5-T1";
        row.seconds = t_t1;
        row.gflops = 2.0 * (double)npoints * points / t_t1 * 1e-9;
        row.gbps = 16.0 * points / t_t1 * 1e-9;
        snprintf(extra, sizeof extra, "\"ranks\":%d,\"halo_steps\":1,\"steps\":%zu,\"process_grid\":\"%dx%dx%d\","
                 "\"comm_share\":%.4f,\"halo_bytes_per_step\":%.0f,\"oversubscribed\":%s",
                 nranks, m.steps, pd[0], pd[1], m.ndim == 3 ? pd[2] : 1, share_t1, bytes_step_t1,
                 nranks * context->threads > 2 ? "true" : "false");
        pel_bench_emit(&row);
        petsc_close(&m);
#endif
    }
    (void)verified;
    pel_free(m.local);
    pel_dgrid_destroy(m.grid);
    pel_stencil_destroy(m.stencil);
    return verified == 0 ? 1 : 0;
}

/* pel-bench's driver looks in five tables; this program has one kernel. */
const pel_bench_kernel pel_bench_exec_kernels[] = {{NULL, NULL, NULL, NULL, NULL}};
const pel_bench_kernel pel_bench_matrix_kernels[] = {{NULL, NULL, NULL, NULL, NULL}};
/* pel_bench_sparse_kernels (mpi-spmv) lives in bench_mpi_spmv.c. */
/* pel_bench_fft_kernels (mpi-fft): benchmarks/bench_mpi_fft.c */
const pel_bench_kernel pel_bench_stencil_kernels[] = {
    {"mpi-stencil", "deep-halo distributed stencil vs T=1 and PETSc DMDA (run under mpirun)",
     "256x256x256,8192x8192", "64x64x64,1024x1024", run_mpi_stencil},
    {NULL, NULL, NULL, NULL, NULL}};

int main(int argc, char **argv)
{
    int provided, status;
    char *defaults[] = {argv[0], "--kernel", "mpi-stencil", NULL};

    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
#ifdef PEL_HAVE_PETSC
    PetscInitializeNoArguments();
#endif
    if (rank != 0) { /* one copy of the table and the progress notes */
        if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            return 1;
    }
    status = argc > 1 ? pel_bench_main(argc, argv) : pel_bench_main(3, defaults);
#ifdef PEL_HAVE_PETSC
    PetscFinalize();
#endif
    MPI_Finalize();
    return status;
}
