/* Distributed FFT (issue 14): FFTW-MPI's slab transforms behind pel's plan
 * style, with a cache of FFTW-MPI plans keyed by the communicator's
 * identity, the shape, the kind and the flags, and pel's normalisation and
 * collective error rules. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3-mpi.h>

#include "core/error.h"
#include "core/threads.h"
#include "fft/plan.h"
#include "mpi/mpi_internal.h"
#include "mpi/fft_internal.h"

/* ------------------------------------------------------------ the cache */

/* One FFTW-MPI plan, shared by every pel plan with the same key. An entry
 * leaves the list when its communicator is freed, at pel_mpi_fft_cache_clear()
 * (unused entries) or at MPI_Finalize; its FFTW plan is destroyed then, or
 * when the last pel plan holding it goes, whichever is later. */
typedef struct cache_entry {
    struct cache_entry *next;
    pel__mpi_fft_key key;
    void *fftw; /* fftw_plan or fftwf_plan; NULL once destroyed at MPI_Finalize */
    pel__pencil *pencil; /* a pencil plan's engine instead; NULL likewise */
    int references;
    int listed; /* still in the list (findable) */
} cache_entry;

static pthread_mutex_t cache_mutex;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static cache_entry *cache_list;
static size_t cache_entries, cache_hits;
static uint64_t next_comm_id;
static int comm_keyval = MPI_KEYVAL_INVALID, self_keyval = MPI_KEYVAL_INVALID;
static int fftw_mpi_ready; /* fftw_mpi_init() done; guarded by the planner lock */

static void cache_init_once(void)
{
    pthread_mutexattr_t attr;
    /* Recursive: a communicator's delete callback may run while this thread
     * is inside the cache (FFTW frees its own duplicates on destroy). */
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&cache_mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

static void cache_lock(void)
{
    pthread_once(&cache_once, cache_init_once);
    pthread_mutex_lock(&cache_mutex);
}

static void cache_unlock(void)
{
    pthread_mutex_unlock(&cache_mutex);
}

static void destroy_fftw(cache_entry *e)
{
    pel__pencil_destroy(e->pencil); /* takes the planner lock itself */
    e->pencil = NULL;
    if (e->fftw == NULL)
        return;
    pel__fft_planner_lock();
    if (e->key.precision == PEL_FLOAT32)
        fftwf_destroy_plan(e->fftw);
    else
        fftw_destroy_plan(e->fftw);
    pel__fft_planner_unlock();
    e->fftw = NULL;
}

/* Takes entries matching `drop` (all when comm_id is 0) out of the list;
 * those no pel plan holds (or all, at finalize) lose their FFTW plan. Cache
 * lock held. */
static void unlist(uint64_t comm_id, int only_unused, int finalizing)
{
    cache_entry **link = &cache_list;
    while (*link) {
        cache_entry *e = *link;
        if ((comm_id == 0 || e->key.comm_id == comm_id) && (!only_unused || e->references == 0)) {
            *link = e->next;
            e->listed = 0;
            cache_entries--;
            if (e->references == 0 || finalizing)
                destroy_fftw(e);
            if (e->references == 0)
                free(e);
        } else {
            link = &e->next;
        }
    }
}

/* What pel keeps on a user's communicator (as an MPI attribute): its
 * identity for the cache keys (a freed handle reused for a new
 * communicator never finds an old plan) and one duplicate that every plan
 * made over it uses for its agreement steps, so that two plans on the same
 * communicator agree over the same one. References: the attribute's and one
 * per plan. */
typedef struct comm_info {
    uint64_t id;
    MPI_Comm dup;
    int references;
} comm_info;

static void info_release(comm_info *info)
{
    int finalized = 1;
    if (info == NULL)
        return;
    cache_lock();
    if (--info->references > 0) {
        cache_unlock();
        return;
    }
    cache_unlock();
    MPI_Finalized(&finalized);
    if (!finalized && info->dup != MPI_COMM_NULL)
        MPI_Comm_free(&info->dup);
    free(info);
}

/* MPI calls this when a communicator carrying pel's attribute is freed. */
static int comm_deleted(MPI_Comm comm, int keyval, void *value, void *extra)
{
    comm_info *info = value;
    (void)comm;
    (void)keyval;
    (void)extra;
    cache_lock();
    unlist(info->id, 0, 0);
    cache_unlock();
    info_release(info);
    return MPI_SUCCESS;
}

/* ... and this at the start of MPI_Finalize (attributes of MPI_COMM_SELF go
 * first), while FFTW can still free its communicators. */
static int self_deleted(MPI_Comm comm, int keyval, void *value, void *extra)
{
    (void)comm;
    (void)keyval;
    (void)value;
    (void)extra;
    cache_lock();
    unlist(0, 0, 1);
    cache_unlock();
    return MPI_SUCCESS;
}

/* The comm_info of comm, made on first use, with a reference for the
 * caller; NULL when MPI refuses. Collective on a first use (MPI_Comm_dup);
 * every rank of a communicator reaches it in the same call. */
static comm_info *comm_identity(MPI_Comm comm)
{
    comm_info *info = NULL;
    int flag = 0;

    cache_lock();
    if (comm_keyval == MPI_KEYVAL_INVALID) {
        if (MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, comm_deleted, &comm_keyval, NULL) != MPI_SUCCESS ||
            MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, self_deleted, &self_keyval, NULL) != MPI_SUCCESS ||
            MPI_Comm_set_attr(MPI_COMM_SELF, self_keyval, NULL) != MPI_SUCCESS) {
            cache_unlock();
            return NULL;
        }
    }
    if (MPI_Comm_get_attr(comm, comm_keyval, &info, &flag) != MPI_SUCCESS) {
        cache_unlock();
        return NULL;
    }
    if (!flag) {
        /* The duplicate first: every rank of comm calls MPI_Comm_dup alike,
         * whatever happens to its own allocation afterwards. */
        MPI_Comm dup = MPI_COMM_NULL;
        if (MPI_Comm_dup(comm, &dup) != MPI_SUCCESS) {
            cache_unlock();
            return NULL;
        }
        info = calloc(1, sizeof *info);
        if (info == NULL) {
            MPI_Comm_free(&dup);
            cache_unlock();
            return NULL;
        }
        info->id = ++next_comm_id;
        info->references = 1;
        info->dup = dup;
        if (MPI_Comm_set_attr(comm, comm_keyval, info) != MPI_SUCCESS) {
            MPI_Comm_free(&info->dup);
            free(info);
            cache_unlock();
            return NULL;
        }
    }
    info->references++;
    cache_unlock();
    return info;
}

static cache_entry *cache_find(const pel__mpi_fft_key *key)
{
    cache_entry *found = NULL;
    cache_lock();
    for (cache_entry *e = cache_list; e; e = e->next)
        if (memcmp(&e->key, key, sizeof *key) == 0) {
            found = e;
            break;
        }
    cache_unlock();
    return found;
}

static void entry_release(cache_entry *e)
{
    if (e == NULL)
        return;
    cache_lock();
    if (--e->references == 0 && !e->listed) {
        destroy_fftw(e);
        free(e);
    }
    cache_unlock();
}

void pel_mpi_fft_cache_clear(void)
{
    cache_lock();
    unlist(0, 1, 0);
    cache_unlock();
}

void pel_mpi_fft_cache_stats(size_t *entries, size_t *hits)
{
    cache_lock();
    if (entries)
        *entries = cache_entries;
    if (hits)
        *hits = cache_hits;
    cache_unlock();
}

/* ------------------------------------------------------------ live plans */

/* Live plans of this process (see pel__mpi_live). */
static pel__mpi_live live_plans;

pel_status pel__mpi_fft_check(const pel_mpi_fft_plan *plan, const char *function, const char *argument)
{
    return pel__handle_check(plan, PEL__HANDLE_OTHER, -1, function, argument);
}

/* The handle check alone cannot tell a distributed FFT plan from another
 * PEL__HANDLE_OTHER object: the live list can. */
static pel_status check_plan(const pel_mpi_fft_plan *plan, const char *function)
{
    pel_status status = pel__mpi_fft_check(plan, function, "plan");
    if (status != PEL_OK)
        return status;
    if (pel__mpi_live_has(&live_plans, plan))
        return PEL_OK;
    return pel__fail(PEL_ERROR_INVALID_ARGUMENT, function, "plan=%p is not a live pel_mpi_fft_plan", (void *)plan);
}

static MPI_Comm agreement_comm(const pel_mpi_fft_plan *plan)
{
    if (pel__mpi_live_has(&live_plans, plan))
        return plan->comm;
    return live_plans.count == 1 ? ((pel_mpi_fft_plan *)live_plans.items[0])->comm : MPI_COMM_NULL;
}

/* ------------------------------------------------------------ layout */

static size_t scalar_bytes(pel_precision p)
{
    return p == PEL_FLOAT32 ? sizeof(float) : sizeof(double);
}

static unsigned effort_flags(pel_fft_effort effort)
{
    static const unsigned flags[] = {FFTW_ESTIMATE, FFTW_MEASURE, FFTW_PATIENT, FFTW_EXHAUSTIVE,
                                     FFTW_WISDOM_ONLY};
    return flags[effort];
}

/* Local validation of a plan's arguments (also used by the solver). */
static pel_status check_create(MPI_Comm comm, pel_fft_kind kind, pel_precision precision, int ndim,
                               const size_t *dims, pel_fft_direction direction, int in_place,
                               const pel_mpi_fft_options *o, const char *fn)
{
    size_t total = 1;
    (void)comm;
    if (kind != PEL_FFT_C2C && kind != PEL_FFT_R2C && kind != PEL_FFT_C2R)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "kind=%d is not PEL_FFT_C2C, PEL_FFT_R2C or PEL_FFT_C2R",
                         (int)kind);
    if (precision != PEL_FLOAT64 && precision != PEL_FLOAT32)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "precision=%d is neither PEL_FLOAT64 nor PEL_FLOAT32",
                         (int)precision);
    if (ndim != 2 && ndim != 3)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "ndim=%d is not 2 or 3 (FFTW-MPI's slabs cut the first of two or three axes)", ndim);
    if (dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "dims must not be NULL");
    for (int a = 0; a < ndim; a++) {
        if (dims[a] == 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "dims[%d]=0: every axis needs at least one point", a);
        if (dims[a] > (size_t)PTRDIFF_MAX / 4 || !pel__mul_size(total, dims[a], &total) ||
            total > (size_t)PTRDIFF_MAX / 64)
            return pel__fail(PEL_ERROR_OVERFLOW, fn, "the grid's size overflows at dims[%d]=%zu", a, dims[a]);
    }
    if (direction != PEL_FFT_FORWARD && direction != PEL_FFT_BACKWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "direction=%d is not PEL_FFT_FORWARD or PEL_FFT_BACKWARD",
                         (int)direction);
    if (kind == PEL_FFT_R2C && direction != PEL_FFT_FORWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "direction=%d: an r2c transform is forward",
                         (int)direction);
    if (kind == PEL_FFT_C2R && direction != PEL_FFT_BACKWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "direction=%d: a c2r transform is backward",
                         (int)direction);
    if (o == NULL)
        return PEL_OK;
    if ((unsigned)o->effort > PEL_FFT_WISDOM_ONLY)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "options->effort=%d is not a pel_fft_effort",
                         (int)o->effort);
    if ((unsigned)o->norm > PEL_FFT_NORM_FORWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "options->norm=%d is not a pel_fft_norm", (int)o->norm);
    if (o->nthreads < 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "options->nthreads=%d is negative", o->nthreads);
    if (o->flags & ~(unsigned)(PEL_MPI_FFT_TRANSPOSED_OUT | PEL_MPI_FFT_TRANSPOSED_IN | PEL_MPI_FFT_DESTROY_INPUT |
                               PEL_MPI_FFT_SLAB | PEL_MPI_FFT_PENCIL))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "options->flags=0x%x has bits that are not PEL_MPI_FFT_*",
                         o->flags);
    if ((o->flags & PEL_MPI_FFT_SLAB) && (o->flags & PEL_MPI_FFT_PENCIL))
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "options->flags: PEL_MPI_FFT_SLAB and PEL_MPI_FFT_PENCIL exclude each other");
    if ((o->flags & PEL_MPI_FFT_PENCIL) && ndim != 3)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "options->flags: PEL_MPI_FFT_PENCIL needs ndim=3 (ndim=%d: a 2-D grid's pencils are slabs)",
                         ndim);

    if ((o->flags & PEL_MPI_FFT_TRANSPOSED_OUT) && direction != PEL_FFT_FORWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "options->flags: PEL_MPI_FFT_TRANSPOSED_OUT is for forward plans (the backward plan of "
                         "the pair takes PEL_MPI_FFT_TRANSPOSED_IN)");
    if ((o->flags & PEL_MPI_FFT_TRANSPOSED_IN) && direction != PEL_FFT_BACKWARD)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "options->flags: PEL_MPI_FFT_TRANSPOSED_IN is for backward plans (the forward plan of "
                         "the pair takes PEL_MPI_FFT_TRANSPOSED_OUT)");
    if ((o->flags & PEL_MPI_FFT_DESTROY_INPUT) && in_place)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "options->flags: PEL_MPI_FFT_DESTROY_INPUT is for out-of-place plans (in_place=%d)",
                         in_place);
    return PEL_OK;
}

/* FFTW-MPI's local sizes and pel's layout for a valid key (fftw_mpi_init
 * done). */
static void compute_layout(const pel__mpi_fft_key *k, MPI_Comm comm, pel_mpi_fft_layout *l, size_t *in_bytes,
                           size_t *out_bytes, size_t *out_scalars)
{
    ptrdiff_t n[3], ln0 = 0, ls0 = 0, ln1 = 0, ls1 = 0, alloc;
    int real = k->kind != PEL_FFT_C2C, nd = k->ndim;
    size_t last = k->dims[nd - 1], half = last / 2 + 1, scalar = scalar_bytes(k->precision);
    size_t natural[3], transposed[3], padded[3];

    for (int a = 0; a < nd; a++)
        n[a] = (ptrdiff_t)k->dims[a];
    if (real)
        n[nd - 1] = (ptrdiff_t)half;
    alloc = fftw_mpi_local_size_many_transposed(nd, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, comm,
                                                &ln0, &ls0, &ln1, &ls1);
    memset(l, 0, sizeof *l);
    l->ndim = nd;
    natural[0] = (size_t)ln0;
    transposed[0] = (size_t)ln1;
    transposed[1] = (size_t)n[0];
    for (int a = 1; a < nd; a++)
        natural[a] = (size_t)n[a];
    if (nd == 3)
        transposed[2] = (size_t)n[2];
    memcpy(padded, natural, sizeof padded);
    if (real)
        padded[nd - 1] = 2 * half;

    const size_t *cplx_in = (k->flags & PEL_MPI_FFT_TRANSPOSED_IN) ? transposed : natural;
    const size_t *cplx_out = (k->flags & PEL_MPI_FFT_TRANSPOSED_OUT) ? transposed : natural;
    const size_t *in = k->kind == PEL_FFT_R2C ? padded : cplx_in;
    const size_t *out = k->kind == PEL_FFT_C2R ? padded : cplx_out;
    size_t in_count = 1, out_count = 1;
    for (int a = 0; a < nd; a++) {
        l->in_dims[a] = in[a];
        l->out_dims[a] = out[a];
        in_count *= in[a];
        out_count *= out[a];
    }
    l->in_axis = (k->flags & PEL_MPI_FFT_TRANSPOSED_IN) ? 1 : 0;
    l->out_axis = (k->flags & PEL_MPI_FFT_TRANSPOSED_OUT) ? 1 : 0;
    l->in_start = (size_t)(l->in_axis ? ls1 : ls0);
    l->out_start = (size_t)(l->out_axis ? ls1 : ls0);
    l->in_starts[0] = l->in_start; /* the other axes are whole */
    l->out_starts[0] = l->out_start;
    l->decomposition = PEL_MPI_FFT_SLAB;
    MPI_Comm_size(comm, &l->grid[0]);
    l->grid[1] = 1;
    /* alloc counts complex values (of the half spectrum for r2c/c2r). */
    l->alloc_bytes = (size_t)alloc * 2 * scalar;
    *in_bytes = in_count * scalar * (k->kind == PEL_FFT_R2C ? 1 : 2);
    *out_bytes = out_count * scalar * (k->kind == PEL_FFT_C2R ? 1 : 2);
    *out_scalars = out_count * (k->kind == PEL_FFT_C2R ? 1 : 2);
}

/* The FFTW-MPI planner call (planner lock held). */
static void *call_planner(const pel__mpi_fft_key *k, MPI_Comm comm, void *in, void *out, unsigned flags)
{
    ptrdiff_t n[3];
    for (int a = 0; a < k->ndim; a++)
        n[a] = (ptrdiff_t)k->dims[a];
    if (k->precision == PEL_FLOAT32) {
        fftwf_plan_with_nthreads(k->nthreads);
        if (k->kind == PEL_FFT_R2C)
            return fftwf_mpi_plan_many_dft_r2c(k->ndim, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in,
                                               out, comm, flags);
        if (k->kind == PEL_FFT_C2R)
            return fftwf_mpi_plan_many_dft_c2r(k->ndim, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in,
                                               out, comm, flags);
        return fftwf_mpi_plan_many_dft(k->ndim, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in, out,
                                       comm, k->direction, flags);
    }
    fftw_plan_with_nthreads(k->nthreads);
    if (k->kind == PEL_FFT_R2C)
        return fftw_mpi_plan_many_dft_r2c(k->ndim, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in, out,
                                          comm, flags);
    if (k->kind == PEL_FFT_C2R)
        return fftw_mpi_plan_many_dft_c2r(k->ndim, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in, out,
                                          comm, flags);
    return fftw_mpi_plan_many_dft(k->ndim, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in, out, comm,
                                  k->direction, flags);
}

/* fftw_mpi_init() once, after fftw_init_threads() (which the planner lock
 * runs first), as FFTW requires. Planner lock held. */
static void ensure_fftw_mpi(void)
{
    if (!fftw_mpi_ready) {
        fftw_mpi_init();
        fftwf_mpi_init();
        fftw_mpi_ready = 1;
    }
}

/* ------------------------------------------------------------ plans */

/* Slabs or pencils, and the pencils' grid, from the (agreed) key and the
 * communicator's size: the same choice on every rank. Pencils when asked,
 * or for a 3-D grid with more ranks than its first axis has points
 * (where slabs would leave ranks empty), unless slabs are asked for. */
static void choose_decomposition(pel__mpi_fft_key *k, MPI_Comm comm)
{
    int nranks = 1;
    MPI_Comm_size(comm, &nranks);
    k->decomposition = PEL_MPI_FFT_SLAB;
    if ((k->flags & PEL_MPI_FFT_SLAB) || k->ndim != 3)
        return;
    if ((k->flags & PEL_MPI_FFT_PENCIL) || (size_t)nranks > k->dims[0]) {
        k->decomposition = PEL_MPI_FFT_PENCIL;
        pel__pencil_grid(k, nranks, &k->grid[0], &k->grid[1]);
    }
}

/* A pencil plan's layout, byte counts and work arrays. */
static pel_status pencil_layout(pel_mpi_fft_plan *p, MPI_Comm comm, const char *fn)
{
    size_t in_count, out_count, work_count, bytes, scalar = scalar_bytes((pel_precision)p->key.precision);
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    pel__pencil_layout(&p->key, rank, &p->layout, &in_count, &out_count, &work_count);
    p->in_bytes = in_count * 2 * scalar;
    p->out_bytes = out_count * 2 * scalar;
    p->out_scalars = out_count * 2;
    bytes = (work_count ? work_count : 1) * 2 * scalar;
    p->work[0] = pel_malloc(bytes);
    p->work[1] = pel_malloc(bytes);
    if (p->work[0] == NULL || p->work[1] == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate 2 x %zu bytes of pencil work arrays", bytes);
    return PEL_OK;
}

/* Lists a freshly planned entry, unless this rank hit the cache: a rank
 * that hit keeps its old entry listed and the new one serves this plan
 * only, and is destroyed with it (every rank planned, so every rank holds
 * one; entries stay consistent per communicator). */
static void list_fresh(cache_entry *fresh, const cache_entry *hit)
{
    cache_lock();
    if (hit == NULL) {
        fresh->listed = 1;
        fresh->next = cache_list;
        cache_list = fresh;
        cache_entries++;
    }
    cache_unlock();
}

static void free_plan_memory(pel_mpi_fft_plan *p)
{
    if (p == NULL)
        return;
    pel_free(p->copy);
    pel_free(p->work[0]);
    pel_free(p->work[1]);
    free(p);
}

pel_status pel__mpi_fft_plan_make(MPI_Comm comm, pel_fft_kind kind, pel_precision precision, int ndim,
                                  const size_t *dims, pel_fft_direction direction, int in_place,
                                  const pel_mpi_fft_options *options, pel_mpi_fft_plan **result, const char *fn)
{
    pel_mpi_fft_options o = {0};
    pel__mpi_fft_key key;
    pel_status status;
    pel__mpi_same same[12];
    int nsame = 0, miss, any_miss = 0;
    pel_mpi_fft_plan *p = NULL;
    cache_entry *entry = NULL, *fresh = NULL;
    void *scratch_in = NULL, *scratch_out = NULL;
    unsigned flags;
    comm_info *info = NULL;

    if (result != NULL)
        *result = NULL;
    status = pel__mpi_ready(fn);
    if (status != PEL_OK)
        return status;
    if (comm == MPI_COMM_NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "comm is MPI_COMM_NULL");
    if (options)
        o = *options;
    status = check_create(comm, kind, precision, ndim, dims, direction, in_place, options, fn);
    if (status == PEL_OK && result == NULL)
        status = pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "plan must not be NULL");

    memset(&key, 0, sizeof key);
    if (status == PEL_OK) {
        key.kind = (int)kind;
        key.precision = (int)precision;
        key.ndim = ndim;
        key.direction = (int)direction;
        key.in_place = in_place ? 1 : 0;
        key.flags = (int)o.flags;
        key.effort = (int)o.effort;
        key.norm = (int)o.norm;
        key.nthreads = o.nthreads > 0 ? o.nthreads : pel_get_num_threads();
        for (int a = 0; a < ndim; a++)
            key.dims[a] = dims[a];
        choose_decomposition(&key, comm);
    }
    same[nsame++] = (pel__mpi_same){"kind", key.kind};
    same[nsame++] = (pel__mpi_same){"precision", key.precision};
    same[nsame++] = (pel__mpi_same){"ndim", key.ndim};
    same[nsame++] = (pel__mpi_same){"dims[0]", (double)key.dims[0]};
    same[nsame++] = (pel__mpi_same){"dims[1]", (double)key.dims[1]};
    same[nsame++] = (pel__mpi_same){"dims[2]", (double)key.dims[2]};
    same[nsame++] = (pel__mpi_same){"direction", key.direction};
    same[nsame++] = (pel__mpi_same){"in_place", key.in_place};
    same[nsame++] = (pel__mpi_same){"options->flags", key.flags};
    same[nsame++] = (pel__mpi_same){"options->effort", key.effort};
    same[nsame++] = (pel__mpi_same){"options->norm", key.norm};
    status = pel__mpi_agree(comm, fn, status, same, nsame);
    if (status != PEL_OK)
        return status;
    /* Every rank gets here: the first use of comm duplicates it. */
    info = comm_identity(comm);
    status = info ? PEL_OK : pel__fail(PEL_ERROR_BACKEND, fn, "cannot attach pel's attribute to the communicator");
    status = pel__mpi_agree(comm, fn, status, NULL, 0);
    if (status != PEL_OK) {
        info_release(info);
        return status;
    }
    key.comm_id = info->id;

    /* Memory first, agreed before any FFTW-MPI call: the pel plan, its
     * registration, its communicator, a cache entry and planning scratch in
     * case some rank misses the cache (every rank must then plan). */
    pel__fft_planner_lock();
    ensure_fftw_mpi();
    pel__fft_planner_unlock();
    entry = cache_find(&key);
    miss = entry == NULL;
    if (MPI_Allreduce(&miss, &any_miss, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) {
        info_release(info);
        return pel__fail(PEL_ERROR_BACKEND, fn, "MPI_Allreduce of the cache lookup failed");
    }

    p = calloc(1, sizeof *p);
    if (p == NULL)
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate a plan");
    if (status == PEL_OK) {
        p->key = key;
        p->comm = MPI_COMM_NULL;
        if (key.decomposition == PEL_MPI_FFT_PENCIL)
            status = pencil_layout(p, comm, fn);
        else
            compute_layout(&key, comm, &p->layout, &p->in_bytes, &p->out_bytes, &p->out_scalars);
        p->scale = 1.0;
        {
            double total = 1.0;
            for (int a = 0; a < ndim; a++)
                total *= (double)dims[a];
            if (o.norm == PEL_FFT_NORM_ORTHO)
                p->scale = 1.0 / sqrt(total);
            else if ((o.norm == PEL_FFT_NORM_BACKWARD && direction == PEL_FFT_BACKWARD) ||
                     (o.norm == PEL_FFT_NORM_FORWARD && direction == PEL_FFT_FORWARD))
                p->scale = 1.0 / total;
        }
        /* FFTW's multi-dimensional c2r overwrites its input: out of place,
         * pel keeps the caller's input by transforming a copy. */
        p->copies_input = kind == PEL_FFT_C2R && !in_place && !(o.flags & PEL_MPI_FFT_DESTROY_INPUT) &&
                          key.decomposition == PEL_MPI_FFT_SLAB; /* pencils only read their input */
        if (p->copies_input && (p->copy = pel_malloc(p->layout.alloc_bytes)) == NULL)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate %zu bytes for the input's copy",
                               p->layout.alloc_bytes);
    }
    if (status == PEL_OK && any_miss && key.decomposition == PEL_MPI_FFT_PENCIL) {
        /* Pencils plan their serial stages on the plan's own work arrays. */
        if ((fresh = calloc(1, sizeof *fresh)) == NULL)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate a cache entry");
    } else if (status == PEL_OK && any_miss) {
        fresh = calloc(1, sizeof *fresh);
        scratch_in = pel_malloc(p->layout.alloc_bytes);
        scratch_out = in_place ? scratch_in : pel_malloc(p->layout.alloc_bytes);
        if (fresh == NULL || scratch_in == NULL || scratch_out == NULL)
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate %zu bytes of planning scratch",
                               2 * p->layout.alloc_bytes);
    }
    if (status == PEL_OK)
        status = pel__handle_register(&p->handle, PEL__HANDLE_OTHER, -1, fn);
    if (status == PEL_OK && !pel__mpi_live_add(&live_plans, p)) {
        pel__handle_unregister(p, PEL__HANDLE_OTHER, fn);
        status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot grow the list of live plans");
    }
    status = pel__mpi_agree(comm, fn, status, NULL, 0);
    if (status != PEL_OK)
        goto fail_local;

    if (any_miss) {
        void *made = NULL;
        pel__pencil *engine = NULL;
        if (key.decomposition == PEL_MPI_FFT_PENCIL) {
            status = pel__pencil_make(&key, comm, p->work[0], p->work[1], effort_flags(o.effort), &engine, fn);
        } else {
            flags = effort_flags(o.effort);
            if (o.flags & PEL_MPI_FFT_TRANSPOSED_OUT)
                flags |= FFTW_MPI_TRANSPOSED_OUT;
            if (o.flags & PEL_MPI_FFT_TRANSPOSED_IN)
                flags |= FFTW_MPI_TRANSPOSED_IN;
            if (!in_place)
                flags |= (kind == PEL_FFT_C2R || (o.flags & PEL_MPI_FFT_DESTROY_INPUT)) ? FFTW_DESTROY_INPUT
                                                                                       : FFTW_PRESERVE_INPUT;
            pel__fft_planner_lock();
            made = call_planner(&key, comm, scratch_in, scratch_out, flags);
            pel__fft_planner_unlock();
            status = made ? PEL_OK
                     : o.effort == PEL_FFT_WISDOM_ONLY
                         ? pel__fail(PEL_ERROR_UNSUPPORTED, fn,
                                     "options->effort=PEL_FFT_WISDOM_ONLY and FFTW has no wisdom for this transform")
                         : pel__fail(PEL_ERROR_BACKEND, fn, "FFTW-MPI could not plan this transform");
        }
        /* FFTW-MPI plans collectively, and so do pencils (their grid's
         * communicators): agree, and destroy what only some ranks made
         * (collectively again, through the same path). */
        status = pel__mpi_agree(comm, fn, status, NULL, 0);
        fresh->key = key;
        fresh->fftw = made;
        fresh->pencil = engine;
        if (status != PEL_OK) {
            destroy_fftw(fresh);
            goto fail_registered;
        }
        fresh->references = 1;
        list_fresh(fresh, entry);
        entry = fresh;
        fresh = NULL;
    } else {
        cache_lock();
        entry->references++;
        cache_hits++;
        cache_unlock();
    }
    pel_free(scratch_in);
    if (scratch_out != scratch_in)
        pel_free(scratch_out);
    p->entry = entry;
    p->fftw = entry->fftw;
    p->pencil = entry->pencil;
    p->info = info;
    p->comm = info->dup;
    *result = p;
    return PEL_OK;

fail_registered:
    pel__mpi_live_remove(&live_plans, p);
    pel__handle_unregister(p, PEL__HANDLE_OTHER, fn);
fail_local:
    info_release(info);
    free(fresh);
    pel_free(scratch_in);
    if (scratch_out != scratch_in)
        pel_free(scratch_out);
    free_plan_memory(p);
    return status;
}

pel_status pel_mpi_fft_plan_create(MPI_Comm comm, pel_fft_kind kind, pel_precision precision, int ndim,
                                   const size_t *dims, pel_fft_direction direction, int in_place,
                                   const pel_mpi_fft_options *options, pel_mpi_fft_plan **plan)
{
    return pel__mpi_fft_plan_make(comm, kind, precision, ndim, dims, direction, in_place, options, plan,
                                  "pel_mpi_fft_plan_create");
}

void pel_mpi_fft_plan_destroy(pel_mpi_fft_plan *plan)
{
    int finalized = 0;
    if (plan == NULL)
        return;
    if (!pel__mpi_live_has(&live_plans, plan)) {
        pel__fail(PEL_ERROR_INVALID_ARGUMENT, "pel_mpi_fft_plan_destroy",
                  "plan=%p is not a live pel_mpi_fft_plan (destroyed twice, or not made by pel)", (void *)plan);
        return;
    }
    if (!pel__handle_unregister(plan, PEL__HANDLE_OTHER, "pel_mpi_fft_plan_destroy"))
        return;
    pel__mpi_live_remove(&live_plans, plan);
    MPI_Finalized(&finalized);
    if (!finalized) {
        entry_release(plan->entry);
    } else {
        /* After MPI_Finalize the FFTW plan is gone (self_deleted); only
         * pel's memory is left. */
        if (--plan->entry->references == 0 && !plan->entry->listed)
            free(plan->entry);
    }
    info_release(plan->info);
    free_plan_memory(plan);
}

pel_status pel_mpi_fft_layout_get(const pel_mpi_fft_plan *plan, pel_mpi_fft_layout *layout)
{
    const char *fn = "pel_mpi_fft_layout_get";
    pel_status status = check_plan(plan, fn);
    if (status != PEL_OK)
        return status;
    if (layout == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "layout must not be NULL");
    *layout = plan->layout;
    return PEL_OK;
}

pel_status pel_mpi_fft_local_alloc(const pel_mpi_fft_plan *plan, void **buffer)
{
    const char *fn = "pel_mpi_fft_local_alloc";
    pel_status status;
    void *b;

    if (buffer != NULL)
        *buffer = NULL;
    status = check_plan(plan, fn);
    if (status != PEL_OK)
        return status;
    if (buffer == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "buffer must not be NULL");
    b = pel_calloc(plan->layout.alloc_bytes ? plan->layout.alloc_bytes : 1, 1);
    if (b == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, fn, "cannot allocate %zu bytes", plan->layout.alloc_bytes);
    *buffer = b;
    return PEL_OK;
}

/* ------------------------------------------------------------ execution */

static pel_status check_arrays(const pel_mpi_fft_plan *p, const void *in, const void *out, const char *fn)
{
    uintptr_t a = (uintptr_t)in, b = (uintptr_t)out;
    if (in == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "in must not be NULL");
    if (out == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "out must not be NULL");
    if (a % 16 != 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "in=%p is not aligned to 16 bytes (allocate with pel_mpi_fft_local_alloc())", in);
    if (b % 16 != 0)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn,
                         "out=%p is not aligned to 16 bytes (allocate with pel_mpi_fft_local_alloc())", out);
    if (p->key.in_place && in != out)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "in=%p and out=%p differ for an in-place plan", in, out);
    if (!p->key.in_place && in == out)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "in == out (%p) for an out-of-place plan (plan it in place)",
                         in);
    if (!p->key.in_place && a < b + p->out_bytes && b < a + p->in_bytes)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "in=%p and out=%p overlap for an out-of-place plan", in,
                         out);
    return PEL_OK;
}

/* Multiplies n scalars by s on pel's threads. */
static void scale_array(pel_precision precision, void *x, size_t n, double s)
{
    int threads;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    threads = pel__team_take(&team, pel_threads_for_work(n));
    if (precision == PEL_FLOAT32) {
        float *f = x, fs = (float)s;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
        for (size_t i = 0; i < n; i++)
            f[i] *= fs;
    } else {
        double *d = x;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
        for (size_t i = 0; i < n; i++)
            d[i] *= s;
    }
}

void pel__mpi_fft_run(const pel_mpi_fft_plan *p, void *in, void *out)
{
    void *src = in;
    if (p->pencil != NULL) {
        pel__pencil_run(p->pencil, (p->key.flags & PEL_MPI_FFT_TRANSPOSED_IN) != 0,
                        (p->key.flags & PEL_MPI_FFT_TRANSPOSED_OUT) != 0, in, out, p->work[0], p->work[1]);
        return;
    }
    if (p->copies_input) {
        memcpy(p->copy, in, p->in_bytes);
        src = p->copy;
    }
    if (p->key.precision == PEL_FLOAT32) {
        if (p->key.kind == PEL_FFT_R2C)
            fftwf_mpi_execute_dft_r2c(p->fftw, src, out);
        else if (p->key.kind == PEL_FFT_C2R)
            fftwf_mpi_execute_dft_c2r(p->fftw, src, out);
        else
            fftwf_mpi_execute_dft(p->fftw, src, out);
    } else {
        if (p->key.kind == PEL_FFT_R2C)
            fftw_mpi_execute_dft_r2c(p->fftw, src, out);
        else if (p->key.kind == PEL_FFT_C2R)
            fftw_mpi_execute_dft_c2r(p->fftw, src, out);
        else
            fftw_mpi_execute_dft(p->fftw, src, out);
    }
}

pel_status pel__mpi_fft_agree_plan(const pel_mpi_fft_plan *plan, pel_status status, const char *fn,
                                   const pel__mpi_same *extra, int nextra, MPI_Comm *comm_out)
{
    pel__mpi_same same[16];
    int nsame = 0, size = 0;
    MPI_Comm comm = agreement_comm(plan);
    int live = status == PEL_OK;

    if (comm == MPI_COMM_NULL)
        return status != PEL_OK ? status
                                : pel__fail(PEL_ERROR_INVALID_ARGUMENT, fn, "plan is not a live pel_mpi_fft_plan");
    MPI_Comm_size(comm, &size);
    same[nsame++] = (pel__mpi_same){"the plan's kind", live ? plan->key.kind : 0};
    same[nsame++] = (pel__mpi_same){"the plan's precision", live ? plan->key.precision : 0};
    same[nsame++] = (pel__mpi_same){"the plan's ndim", live ? plan->key.ndim : 0};
    same[nsame++] = (pel__mpi_same){"the plan's dims[0]", live ? (double)plan->key.dims[0] : 0};
    same[nsame++] = (pel__mpi_same){"the plan's dims[1]", live ? (double)plan->key.dims[1] : 0};
    same[nsame++] = (pel__mpi_same){"the plan's dims[2]", live ? (double)plan->key.dims[2] : 0};
    same[nsame++] = (pel__mpi_same){"the plan's direction", live ? plan->key.direction : 0};
    same[nsame++] = (pel__mpi_same){"the plan's flags", live ? plan->key.flags : 0};
    same[nsame++] = (pel__mpi_same){"the plan's placement (in_place)", live ? plan->key.in_place : 0};
    same[nsame++] = (pel__mpi_same){"the plan's communicator size", live ? size : 0};
    for (int i = 0; i < nextra && nsame < 16; i++)
        same[nsame++] = extra[i];
    *comm_out = comm;
    return pel__mpi_agree(comm, fn, status, same, nsame);
}

pel_status pel_mpi_fft_execute(const pel_mpi_fft_plan *plan, void *in, void *out)
{
    const char *fn = "pel_mpi_fft_execute";
    MPI_Comm comm;
    pel_status status = pel__mpi_ready(fn);

    if (status != PEL_OK)
        return status;
    status = check_plan(plan, fn);
    if (status == PEL_OK)
        status = check_arrays(plan, in, out, fn);
    status = pel__mpi_fft_agree_plan(plan, status, fn, NULL, 0, &comm);
    if (status != PEL_OK)
        return status;
    pel__mpi_fft_run(plan, in, out);
    if (plan->scale != 1.0)
        scale_array((pel_precision)plan->key.precision, out, plan->out_scalars, plan->scale);
    return PEL_OK;
}
