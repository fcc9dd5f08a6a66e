/* Example: the task runner balancing uneven tasks.
 *
 * Each task integrates exp(-x^2) over [0, 1] with the midpoint rule on its
 * own number of points, so the tasks' costs differ by a factor of a hundred,
 * as blocks of an adaptive mesh or molecules of different sizes would. With
 * cost estimates pel_run_tasks() places the big ones first
 * (longest-processing-time-first) and lets idle threads steal the rest;
 * without them threads pick tasks dynamically. pel_task_plan() shows the plan
 * without running anything.
 *
 * Usage: task_runner [ntasks [max_points]]   (defaults 200 and 200000)
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <pel.h>

typedef struct workload {
    size_t *points;  /* midpoint-rule points of each task */
    double *results; /* one integral per task */
} workload;

static int integrate(size_t index, void *arg)
{
    workload *work = arg;
    size_t n = work->points[index];
    double h = 1.0 / (double)n, sum = 0.0;

    for (size_t i = 0; i < n; i++) {
        double x = ((double)i + 0.5) * h;
        sum += exp(-x * x);
    }
    work->results[index] = sum * h;
    return 0;
}

static int check(int status, const char *what)
{
    if (status != PEL_OK) {
        fprintf(stderr, "task_runner: %s failed: %s (%s)\n", what, pel_last_error(), pel_strerror(status));
        exit(1);
    }
    return status;
}

int main(int argc, char **argv)
{
    size_t ntasks = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
    size_t max_points = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
    const double exact = 0.74682413281242702540; /* integral of exp(-x^2) on [0, 1] */
    workload work;
    double *costs, makespan_lpt, t0, t_costs, t_dynamic, worst = 0.0, total = 0.0;
    int threads = pel_get_num_threads();

    if (ntasks == 0 || max_points < 100) {
        fprintf(stderr, "usage: task_runner [ntasks >= 1 [max_points >= 100]]\n");
        return 2;
    }
    work.points = malloc(ntasks * sizeof *work.points);
    work.results = malloc(ntasks * sizeof *work.results);
    costs = malloc(ntasks * sizeof *costs);
    if (!work.points || !work.results || !costs)
        return 1;
    /* Uneven on purpose: task i gets between max_points/100 and max_points
     * points, in a scrambled order so the expensive ones are not together. */
    for (size_t i = 0; i < ntasks; i++) {
        size_t scrambled = (i * 7919) % ntasks;
        work.points[i] = max_points / 100 + (max_points - max_points / 100) * scrambled * scrambled /
                                                (ntasks * ntasks);
        costs[i] = (double)work.points[i]; /* the cost is proportional to the points */
        total += costs[i];
    }

    check(pel_task_plan(ntasks, costs, threads, NULL, &makespan_lpt), "pel_task_plan");
    printf("%zu tasks on %d threads: planned makespan %.3g of a perfect %.3g (%.1f%%)\n", ntasks, threads,
           makespan_lpt, total / threads, 100.0 * (total / threads) / makespan_lpt);

    t0 = pel_wtime();
    check(pel_run_tasks(ntasks, integrate, &work, costs), "pel_run_tasks with costs");
    t_costs = pel_wtime() - t0;
    t0 = pel_wtime();
    check(pel_run_tasks(ntasks, integrate, &work, NULL), "pel_run_tasks without costs");
    t_dynamic = pel_wtime() - t0;

    for (size_t i = 0; i < ntasks; i++) {
        double h = 1.0 / (double)work.points[i];
        /* Midpoint rule: error <= h^2/24 * max|f''| = h^2/12 here, plus the
         * rounding of n additions (at most n * eps relative, as every term is below 1). */
        double error = fabs(work.results[i] - exact) / (h * h / 12.0 + (double)work.points[i] * DBL_EPSILON);
        worst = error > worst ? error : worst;
    }
    printf("with costs (LPT + stealing): %.4f s; dynamic: %.4f s\n", t_costs, t_dynamic);
    printf("worst error relative to the midpoint-rule bound: %.3f (must be <= 1)\n", worst);
    free(work.points);
    free(work.results);
    free(costs);
    return worst <= 1.0 ? 0 : 1;
}
