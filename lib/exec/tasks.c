/* The task runner: longest-processing-time-first placement when costs are
 * known, then work stealing; dynamic pickup when they are not. */
#include "config.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/threads.h"
#include "exec/exec.h"

/* ------------------------------------------------------------ the LPT plan */

typedef struct ranked {
    double cost;
    size_t index;
} ranked;

static int by_decreasing_cost(const void *a, const void *b)
{
    const ranked *x = a, *y = b;

    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* A binary min-heap of threads keyed by (load, thread number). */
typedef struct thread_load {
    double load;
    int thread;
} thread_load;

static int lighter(const thread_load *a, const thread_load *b)
{
    return a->load < b->load || (a->load == b->load && a->thread < b->thread);
}

static void sift_down(thread_load *heap, int count, int i)
{
    for (;;) {
        int smallest = i, left = 2 * i + 1, right = 2 * i + 2;
        thread_load tmp;
        if (left < count && lighter(&heap[left], &heap[smallest]))
            smallest = left;
        if (right < count && lighter(&heap[right], &heap[smallest]))
            smallest = right;
        if (smallest == i)
            return;
        tmp = heap[i];
        heap[i] = heap[smallest];
        heap[smallest] = tmp;
        i = smallest;
    }
}

static pel_status check_costs(size_t ntasks, const double *costs, const char *function)
{
    for (size_t i = 0; i < ntasks; i++)
        if (!(costs[i] >= 0.0) || !isfinite(costs[i]))
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "costs[%zu]=%g is negative or not finite", i,
                             costs[i]);
    return PEL_OK;
}

/* Fills order[] with the task indices by decreasing cost and assignment[]
 * with each task's thread. Costs are already checked. */
static pel_status plan_lpt(size_t ntasks, const double *costs, int nthreads, size_t *order, int *assignment,
                           double *makespan, const char *function)
{
    ranked *rank = malloc((ntasks ? ntasks : 1) * sizeof *rank);
    thread_load *heap = malloc((size_t)nthreads * sizeof *heap);
    double longest = 0.0;

    if (rank == NULL || heap == NULL) {
        free(rank);
        free(heap);
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "cannot plan ntasks=%zu tasks on nthreads=%d", ntasks,
                         nthreads);
    }
    for (size_t i = 0; i < ntasks; i++)
        rank[i] = (ranked){costs[i], i};
    qsort(rank, ntasks, sizeof *rank, by_decreasing_cost);
    for (int t = 0; t < nthreads; t++)
        heap[t] = (thread_load){0.0, t};
    for (size_t i = 0; i < ntasks; i++) {
        /* The root is the least loaded thread; add the task and restore order. */
        if (order != NULL)
            order[i] = rank[i].index;
        assignment[rank[i].index] = heap[0].thread;
        heap[0].load += rank[i].cost;
        if (heap[0].load > longest)
            longest = heap[0].load;
        sift_down(heap, nthreads, 0);
    }
    if (makespan != NULL)
        *makespan = longest;
    free(rank);
    free(heap);
    return PEL_OK;
}

pel_status pel_task_plan(size_t ntasks, const double *costs, int nthreads, int *assignment, double *makespan)
{
    int *scratch = NULL;
    pel_status status;

    if (ntasks > 0 && costs == NULL)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "costs must not be NULL when ntasks=%zu", ntasks);
    if (nthreads < 1 || nthreads > PEL_MAX_THREADS)
        return PEL_FAIL(PEL_ERROR_INVALID_ARGUMENT, "nthreads=%d is not in 1..%d", nthreads, PEL_MAX_THREADS);
    if (ntasks > 0 && (status = check_costs(ntasks, costs, __func__)) != PEL_OK)
        return status;
    if (assignment == NULL) {
        scratch = malloc((ntasks ? ntasks : 1) * sizeof *scratch);
        if (scratch == NULL)
            return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "cannot plan %zu tasks", ntasks);
        assignment = scratch;
    }
    status = plan_lpt(ntasks, costs, nthreads, NULL, assignment, makespan, __func__);
    free(scratch);
    return status;
}

/* ------------------------------------------------------------ running */

/* One thread's list of tasks, most expensive first. The owner takes from the
 * front, thieves take the cheapest from the back. */
typedef struct task_queue {
    pthread_mutex_t lock;
    size_t head, tail;
    size_t *tasks;
} task_queue;

typedef struct task_run {
    pel_task_fn task;
    void *arg;
    size_t ntasks;
    int nthreads;
    task_queue *queues;
    atomic_size_t next; /* dynamic pickup without costs */
    pel__failure failure;
} task_run;

static int run_one(task_run *run, size_t index)
{
    unsigned long sequence = pel__error_sequence();
    int status = run->task(index, run->arg);

    if (status != 0) {
        pel__failure_record(&run->failure, status, sequence, "pel_run_tasks", "task", index);
        return 1;
    }
    return 0;
}

static int pop_front(task_queue *q, size_t *index)
{
    int found = 0;

    pthread_mutex_lock(&q->lock);
    if (q->head < q->tail) {
        *index = q->tasks[q->head++];
        found = 1;
    }
    pthread_mutex_unlock(&q->lock);
    return found;
}

static int pop_back(task_queue *q, size_t *index)
{
    int found = 0;

    pthread_mutex_lock(&q->lock);
    if (q->head < q->tail) {
        *index = q->tasks[--q->tail];
        found = 1;
    }
    pthread_mutex_unlock(&q->lock);
    return found;
}

static void run_planned(task_run *run, int thread)
{
    size_t index;

    while (!pel__failure_seen(&run->failure) && pop_front(&run->queues[thread], &index))
        if (run_one(run, index))
            return;
    /* Out of own work: steal the cheapest task of the next thread that has
     * any, until every queue is empty. */
    for (;;) {
        int stolen = 0;
        for (int step = 1; step < run->nthreads && !stolen; step++)
            stolen = pop_back(&run->queues[(thread + step) % run->nthreads], &index);
        if (!stolen || pel__failure_seen(&run->failure) || run_one(run, index))
            return;
    }
}

static void run_dynamic(task_run *run)
{
    size_t index, after;

    /* The shared cursor stops at ntasks (never wraps, whatever ntasks is). */
    while (!pel__failure_seen(&run->failure) && pel__cursor_take(&run->next, run->ntasks, 1, &index, &after))
        if (run_one(run, index))
            return;
}

/* Plans the tasks and lays each thread's queue out in queued[], most
 * expensive first (the plan hands tasks out in decreasing cost). */
static pel_status build_queues(task_run *run, const double *costs, size_t *order, size_t *queued, int *assignment)
{
    size_t start = 0;
    pel_status status = plan_lpt(run->ntasks, costs, run->nthreads, order, assignment, NULL, "pel_run_tasks");

    if (status != PEL_OK)
        return status;
    for (size_t i = 0; i < run->ntasks; i++)
        run->queues[assignment[i]].tail++;
    for (int t = 0; t < run->nthreads; t++) {
        size_t count = run->queues[t].tail;
        run->queues[t].tasks = queued + start;
        run->queues[t].head = run->queues[t].tail = 0;
        start += count;
    }
    for (size_t i = 0; i < run->ntasks; i++) {
        task_queue *q = &run->queues[assignment[order[i]]];
        q->tasks[q->tail++] = order[i];
    }
    return PEL_OK;
}

int pel_run_tasks(size_t ntasks, pel_task_fn task, void *arg, const double *costs)
{
    task_run run;
    size_t *order = NULL, *queued = NULL;
    int *assignment = NULL;
    int nthreads = pel_get_num_threads();
    PEL__TEAM_SCOPE(team);
    pel_status status;

    PEL_CHECK_NOT_NULL(task);
    if (costs != NULL && (status = check_costs(ntasks, costs, __func__)) != PEL_OK)
        return status;
    if (ntasks == 0)
        return PEL_OK;
    if ((size_t)nthreads > ntasks)
        nthreads = (int)ntasks;
    nthreads = pel__team_take(&team, nthreads); /* from the thread budget */

    run.task = task;
    run.arg = arg;
    run.ntasks = ntasks;
    run.nthreads = nthreads;
    run.queues = NULL;
    atomic_init(&run.next, 0);
    pel__failure_init(&run.failure);

    if (costs == NULL || nthreads == 1) {
        /* Without costs, or alone, the order of pickup is all that matters. */
        if (nthreads == 1)
            run_dynamic(&run);
        else {
#pragma omp parallel num_threads(nthreads)
            run_dynamic(&run);
        }
        return pel__failure_finish(&run.failure);
    }

    /* size_t and int are no wider than 8 bytes: one check covers the three. */
    if (ntasks > SIZE_MAX / sizeof *order) {
        status = PEL_FAIL(PEL_ERROR_OVERFLOW, "ntasks=%zu tasks overflow the schedule's size", ntasks);
        goto done;
    }
    order = malloc(ntasks * sizeof *order);
    queued = malloc(ntasks * sizeof *queued);
    assignment = malloc(ntasks * sizeof *assignment);
    run.queues = calloc((size_t)nthreads, sizeof *run.queues);
    if (order == NULL || queued == NULL || assignment == NULL || run.queues == NULL) {
        status = PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "cannot schedule %zu tasks", ntasks);
        goto done;
    }
    status = build_queues(&run, costs, order, queued, assignment);
    if (status != PEL_OK)
        goto done;
    for (int t = 0; t < nthreads; t++)
        pthread_mutex_init(&run.queues[t].lock, NULL);
#pragma omp parallel num_threads(nthreads)
    {
        /* A smaller team than asked (nested regions): the remaining queues are
         * emptied by stealing. */
        run_planned(&run, omp_get_thread_num());
    }
    for (int t = 0; t < nthreads; t++)
        pthread_mutex_destroy(&run.queues[t].lock);
    status = (pel_status)pel__failure_finish(&run.failure);
done:
    free(order);
    free(queued);
    free(assignment);
    free(run.queues);
    return status;
}
