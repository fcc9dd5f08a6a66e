/* Coupled fields: up to four fields updated together, each new field a sum
 * of stencils applied to any of the fields, each optionally scaled per point
 * (include/pel/stencil.h, pel_stencil_system_apply).
 *
 * The engine runs a system as one field per output, level by level: at each
 * wavefront position every field of level t is computed before any field of
 * level t + 1, from the rings of every field of level t - 1, so temporal
 * blocking covers the whole system. Each output field gets a stencil built
 * here that holds the terms of all its couplings (row groups tagged with the
 * field they read) and a form that runs each coupling's own row kernel on
 * its share of the term pointers, then scales and adds:
 *
 *     s_i = S_i u_in(i) (p);  if scale_i: s_i = scale_i(p) * s_i
 *     acc = s_first;  acc = acc + s_i  (the couplings of the field, in order)
 *
 * Each operation rounds once, in this order, whatever the chunking of a row,
 * so the plain loop written this way gives the same bits. */
#include "stencil/engine.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"

#define FN "pel_stencil_system_apply"

enum { MAX_FIELDS = 4, MAX_COUPLINGS = 16, MAX_COUPLING_TERMS = 343, CHUNK = 512 };

typedef struct coupling {
    const pel_stencil *stencil;
    size_t first_term; /* its terms in the field's stencil */
    int scale;         /* index into the form's point[], or -1 */
} coupling;

typedef struct field_params {
    size_t ncouplings;
    coupling c[MAX_COUPLINGS];
    /* Double precision, every coupling in the separate order: the whole row
     * in one fused pass (lib/stencil/kernels_fused.c, each coupling a group
     * of terms); NULL: a pass per coupling through a scratch row. */
    pel__stencil_fused_fn fused_fn;
    pel__stencil_fused fused;
} field_params;

/* out[i] = a[i] * out[i]; out[i] = out[i] + add[i]. */
static void scale_row(void *out, const void *a, size_t n, size_t es)
{
    if (es == sizeof(float)) {
        float *o = out;
        const float *s = a;
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            o[i] = s[i] * o[i];
    } else {
        double *o = out;
        const double *s = a;
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            o[i] = s[i] * o[i];
    }
}

static void add_row(void *out, const void *add, size_t n, size_t es)
{
    if (es == sizeof(float)) {
        float *o = out;
        const float *t = add;
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            o[i] = o[i] + t[i];
    } else {
        double *o = out;
        const double *t = add;
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            o[i] = o[i] + t[i];
    }
}

static void system_row(const pel__stencil_form *form, void *out, const void *const *term, const void *const *point,
                       const long *at, size_t n, int stream)
{
    const field_params *p = form->params;
    const size_t es = form->stencil->element_size;
    static const double zero_d = 0.0;
    static const float zero_f = 0.0f;
    const void *zero = es == sizeof(float) ? (const void *)&zero_f : (const void *)&zero_d;
    double tmp[CHUNK];
    const void *shifted[MAX_COUPLING_TERMS];
    (void)at;
    (void)stream;
    if (p->fused_fn) {
        pel__stencil_fused_inputs x;
        memset(&x, 0, sizeof x);
        for (size_t i = 0; i < p->ncouplings; i++)
            x.scale[i] = p->c[i].scale >= 0 ? point[p->c[i].scale] : NULL;
        p->fused_fn(out, (const double *const *)term, &p->fused, &x, n);
        return;
    }
    for (size_t c0 = 0; c0 < n; c0 += CHUNK) {
        const size_t len = n - c0 < CHUNK ? n - c0 : CHUNK;
        char *dest = (char *)out + c0 * es;
        for (size_t i = 0; i < p->ncouplings; i++) {
            const coupling *c = &p->c[i];
            const pel_stencil *s = c->stencil;
            void *target = i == 0 ? (void *)dest : (void *)tmp;
            for (size_t k = 0; k < s->nterms; k++)
                shifted[k] = (const char *)term[c->first_term + k] + c0 * es;
            s->row(target, shifted, s->coefficients, s->nterms, NULL, zero, len, 0);
            if (c->scale >= 0)
                scale_row(target, (const char *)point[c->scale] + c0 * es, len, es);
            if (i > 0)
                add_row(dest, tmp, len, es);
        }
    }
}

/* The stencil of one output field: every coupling's terms, row groups keyed
 * by (field, axis-0 offset, axis-1 offset). */
static pel_status build_field_stencil(const pel_stencil_term *terms, size_t nterms, int field, pel_stencil *fs,
                                      field_params *params, const char **point, size_t *npoint)
{
    size_t total = 0, k = 0;
    memset(fs, 0, sizeof *fs);
    params->ncouplings = 0;
    for (size_t i = 0; i < nterms; i++)
        if (terms[i].output == field)
            total += terms[i].stencil->nterms;
    fs->offset = malloc(total * sizeof *fs->offset);
    fs->row_offset = malloc(total * sizeof *fs->row_offset);
    fs->term_row = malloc(total * sizeof *fs->term_row);
    fs->row_field = malloc(total * sizeof *fs->row_field);
    if (!fs->offset || !fs->row_offset || !fs->term_row || !fs->row_field)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, FN, "no memory for the terms of field %d", field);
    fs->precision = terms[0].stencil->precision;
    fs->element_size = terms[0].stencil->element_size;
    fs->ndim = terms[0].stencil->ndim;
    fs->nterms = total;
    for (size_t i = 0; i < nterms; i++) {
        const pel_stencil *s = terms[i].stencil;
        coupling *c;
        if (terms[i].output != field)
            continue;
        c = &params->c[params->ncouplings++];
        c->stencil = s;
        c->first_term = k;
        c->scale = -1;
        if (terms[i].scale) {
            c->scale = (int)*npoint;
            point[(*npoint)++] = terms[i].scale;
        }
        for (size_t t = 0; t < s->nterms; t++, k++) {
            size_t row = 0;
            memcpy(fs->offset[k], s->offset[t], sizeof fs->offset[k]);
            while (row < fs->nrows &&
                   (fs->row_field[row] != terms[i].input || fs->row_offset[row][0] != s->offset[t][0] ||
                    fs->row_offset[row][1] != s->offset[t][1]))
                row++;
            if (row == fs->nrows) {
                fs->row_offset[row][0] = s->offset[t][0];
                fs->row_offset[row][1] = s->offset[t][1];
                fs->row_field[row] = terms[i].input;
                fs->nrows++;
            }
            fs->term_row[k] = row;
        }
        for (int a = 0; a < 3; a++)
            if (s->axis_radius[a] > fs->axis_radius[a])
                fs->axis_radius[a] = s->axis_radius[a];
        if (s->radius > fs->radius)
            fs->radius = s->radius;
    }
    params->fused_fn = NULL;
    if (fs->precision == PEL_FLOAT64) {
        int separate = 1;
        for (size_t i = 0; i < params->ncouplings; i++)
            separate &= !params->c[i].stencil->fma;
        if (separate && (fs->coefficients = malloc(total * sizeof(double))) != NULL) {
            double *c = fs->coefficients;
            memset(&params->fused, 0, sizeof params->fused);
            params->fused.ngroups = params->ncouplings;
            for (size_t i = 0; i < params->ncouplings; i++) {
                params->fused.first[i] = params->c[i].first_term;
                memcpy(c + params->c[i].first_term, params->c[i].stencil->coefficients,
                       params->c[i].stencil->nterms * sizeof(double));
            }
            params->fused.first[params->ncouplings] = total;
            params->fused.coefficients = c;
            params->fused_fn = pel__stencil_fused_kernel();
        }
    }
    return PEL_OK;
}

static void free_field_stencil(pel_stencil *fs)
{
    free(fs->offset);
    free(fs->row_offset);
    free(fs->term_row);
    free(fs->row_field);
    free(fs->coefficients);
}

static pel_status check_terms(int nfields, const pel_stencil_term *terms, size_t nterms)
{
    if (nfields < 1 || nfields > MAX_FIELDS)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "nfields=%d is outside 1..%d", nfields, MAX_FIELDS);
    if (terms == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "terms must not be NULL");
    if (nterms < 1 || nterms > MAX_COUPLINGS)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "nterms=%zu is outside 1..%d", nterms, MAX_COUPLINGS);
    for (size_t i = 0; i < nterms; i++) {
        const pel_stencil *s = terms[i].stencil;
        char name[48];
        pel_status status;
        /* NULL, destroyed and foreign stencils are refused before any of
         * their fields is read (misuse detection, core/handle.h). */
        snprintf(name, sizeof name, "terms[%zu].stencil", i);
        status = pel__handle_check(s, PEL__HANDLE_STENCIL, -1, FN, name);
        if (status != PEL_OK)
            return status;
        if (terms[i].output < 0 || terms[i].output >= nfields)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "terms[%zu].output=%d is not a field (0..%d)", i,
                             terms[i].output, nfields - 1);
        if (terms[i].input < 0 || terms[i].input >= nfields)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "terms[%zu].input=%d is not a field (0..%d)", i,
                             terms[i].input, nfields - 1);
        if (s->has_rhs)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "terms[%zu].stencil has a rhs term: systems take none",
                             i);
        if (s->nterms > MAX_COUPLING_TERMS)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "terms[%zu].stencil has %zu points, more than %d", i,
                             s->nterms, MAX_COUPLING_TERMS);
        if (s->precision != terms[0].stencil->precision || s->ndim != terms[0].stencil->ndim)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN,
                             "terms[%zu].stencil differs from terms[0].stencil in precision or ndim", i);
    }
    for (int f = 0; f < nfields; f++) {
        size_t count = 0;
        for (size_t i = 0; i < nterms; i++)
            count += terms[i].output == f;
        if (count == 0)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "field %d is the output of no term", f);
    }
    return PEL_OK;
}

pel_status pel_stencil_system_apply(int nfields, const pel_stencil_term *terms, size_t nterms, const size_t *dims,
                                    const pel_boundary *faces, void **fields, void **work, size_t nsteps,
                                    const pel_stencil_blocking *blocking)
{
    pel__stencil_engine e;
    pel_stencil field_stencil[MAX_FIELDS];
    field_params params[MAX_FIELDS];
    pel__stencil_form form[MAX_FIELDS];
    const pel__stencil_form *form_table[MAX_FIELDS];
    const char *point[MAX_FIELDS][MAX_COUPLINGS];
    char *buffer[2 * MAX_FIELDS], *own = NULL;
    size_t count, bytes;
    int built = 0, in_b = 0;
    pel_status status;
    PEL__TEAM_SCOPE(team); /* the thread budget's share, given back on return */

    status = check_terms(nfields, terms, nterms);
    if (status != PEL_OK)
        return status;
    if (dims == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "dims must not be NULL");
    if (faces == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "faces must not be NULL");
    if (fields == NULL)
        return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "fields must not be NULL");
    status = pel__stencil_setup(FN, &e, terms[0].stencil, dims, faces, &count);
    if (status != PEL_OK)
        return status;
    bytes = count * terms[0].stencil->element_size;
    for (int f = 0; f < nfields; f++) {
        if (fields[f] == NULL)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "fields[%d] must not be NULL", f);
        if (work != NULL && work[f] == NULL)
            return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "work[%d] must not be NULL when work is given", f);
    }
    /* Every grid pel writes must be separate from every other grid. */
    for (int i = 0; i < 2 * nfields; i++) {
        const void *x = i < nfields ? fields[i] : work ? work[i - nfields] : NULL;
        if (x == NULL)
            continue;
        for (int j = i + 1; j < 2 * nfields; j++) {
            const void *y = j < nfields ? fields[j] : work ? work[j - nfields] : NULL;
            if (y != NULL && pel__stencil_overlaps(x, y, bytes))
                return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN, "%s[%d] overlaps %s[%d]: every grid must be separate",
                                 i < nfields ? "fields" : "work", i < nfields ? i : i - nfields,
                                 j < nfields ? "fields" : "work", j < nfields ? j : j - nfields);
        }
        for (size_t t = 0; t < nterms; t++)
            if (terms[t].scale != NULL && pel__stencil_overlaps(terms[t].scale, x, bytes))
                return pel__fail(PEL_ERROR_INVALID_ARGUMENT, FN,
                                 "terms[%zu].scale overlaps %s[%d]: it must be a separate, read-only grid", t,
                                 i < nfields ? "fields" : "work", i < nfields ? i : i - nfields);
    }
    /* The blocking override is checked by the shared path (no steps). */
    status = pel__stencil_apply_engine(FN, &e, dims, fields[0], NULL, count, 0, blocking, NULL);
    if (status != PEL_OK || nsteps == 0)
        return status;

    for (int f = 0; f < nfields; f++) {
        size_t npoint = 0;
        status = build_field_stencil(terms, nterms, f, &field_stencil[f], &params[f], point[f], &npoint);
        built = f + 1;
        if (status != PEL_OK)
            goto done;
        memset(&form[f], 0, sizeof form[f]);
        form[f].row = system_row;
        form[f].npoint = npoint;
        form[f].point = point[f];
        form[f].stencil = &field_stencil[f];
        form[f].params = &params[f];
        form_table[f] = &form[f];
        for (int a = 0; a < 3; a++)
            if (field_stencil[f].axis_radius[a] > e.r[a])
                e.r[a] = field_stencil[f].axis_radius[a];
    }
    if (work == NULL) {
        size_t own_bytes;
        if (!pel__mul_size(bytes, (size_t)nfields, &own_bytes) || (own = pel_malloc(own_bytes)) == NULL) {
            status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, FN, "no memory for %d work grids of %zu bytes", nfields,
                               bytes);
            goto done;
        }
    }
    for (int f = 0; f < nfields; f++) {
        buffer[2 * f] = fields[f];
        buffer[2 * f + 1] = work ? work[f] : own + (size_t)f * bytes;
    }
    e.nfields = nfields;
    e.field_form = form_table;
    e.form = form_table[0];
    e.stencil = &field_stencil[0];
    {
        size_t work_units = count, per_point = 0;
        for (int f = 0; f < nfields; f++)
            per_point += 2 * field_stencil[f].nterms;
        if (!pel__mul_size(work_units, per_point * (nsteps < 64 ? nsteps : 64), &work_units))
            work_units = SIZE_MAX;
        e.nthreads = pel__team_take(&team, pel_threads_for_work(work_units));
    }
    pel__stencil_choose_blocking(&e, nsteps, blocking);
    status = pel__stencil_run_system(&e, buffer, nsteps, &in_b);
    if (status == PEL_OK && in_b) {
        if (own != NULL) {
            const int threads = pel__team_take(&team, pel_threads_for_work(count));
            for (int f = 0; f < nfields; f++)
                pel__stencil_copy_grid(fields[f], buffer[2 * f + 1], bytes, threads);
        } else {
            /* The results are in the work grids: swap the names. */
            for (int f = 0; f < nfields; f++) {
                void *t = fields[f];
                fields[f] = work[f];
                work[f] = t;
            }
        }
    }
done:
    for (int f = 0; f < built; f++)
        free_field_stencil(&field_stencil[f]);
    pel_free(own);
    return status;
}
