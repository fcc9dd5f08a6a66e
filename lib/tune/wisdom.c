/* pel's wisdom: one text holding the measured machine model and FFTW's
 * wisdom of both precisions, keyed by a fingerprint of the machine, so that
 * a process can skip the measurement and reuse plans, and a file from
 * another machine is never applied. The format (docs/tuning.md):
 *
 *   pel-wisdom 1
 *   fingerprint <CPU model>; <n> cpus; pel <version>; <backends>
 *   machine <threads> <parallel_region_us> <sweep_bytes> <measure_seconds>
 *   cache <k> <bytes> <reported_bytes> <shared_by> <gbps> <source>   (k = 0, 1, 2)
 *   memory <gbps> <source>
 *   fma <gflops> <source>
 *   sweep <n>
 *   point <bytes> <gbps>                                             (n lines)
 *   stencil <m>                                         (optional, m <= 64)
 *   choice <n0> <n1> <n2> <r0> <r1> <r2> <ndim> <threads> <npoint> <history>
 *          <rhs> <nterms> <nrows> <element size> <cache bytes> <time block>
 *                                                       (m lines, one line each)
 *   gemm <g>                                            (optional, g <= 8)
 *   cutoff <table> <single> <value>   (g lines: the batched gemm's measured
 *                                      cutoff to OpenBLAS, lib/matrix/cutoff.c)
 *   fftw-double <length>
 *   <length bytes of FFTW wisdom>
 *   fftw-float <length>
 *   <length bytes>
 *   checksum <16 hex digits: FNV-1a 64 of every byte before this line>
 *
 * Import checks everything (the checksum catches truncated and altered
 * texts, the grammar the rest, FFTW's wisdom goes through the FFT layer's
 * validator) before it changes anything. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "pel/fft.h"
#include "fft/wisdom.h"
#include "matrix/matrix_internal.h"
#include "stencil/measure.h"
#include "tune/tune.h"

#define WISDOM_MAX_BYTES ((size_t)40 << 20)

static uint64_t fnv1a(const char *text, size_t len)
{
    uint64_t hash = 14695981039346656037ull;

    for (size_t i = 0; i < len; i++) {
        hash ^= (unsigned char)text[i];
        hash *= 1099511628211ull;
    }
    return hash;
}

/* "<CPU model>; <n> cpus; pel <version>; <backends>", one line. */
static void fingerprint(char *buffer, size_t size)
{
    char model[256] = "unknown CPU", line[512];
    FILE *file = fopen("/proc/cpuinfo", "r");

    if (file != NULL) {
        while (fgets(line, sizeof line, file) != NULL) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
                size_t n;
                snprintf(model, sizeof model, "%s", colon + (colon[1] == ' ' ? 2 : 1));
                for (n = strlen(model); n > 0 && (model[n - 1] == ' ' || model[n - 1] == '\n'); n--)
                    model[n - 1] = '\0';
                break;
            }
        }
        fclose(file);
    }
    snprintf(buffer, size, "%s; %ld cpus; pel %s; %s", model, sysconf(_SC_NPROCESSORS_ONLN), pel_version(),
             pel_backend_info());
    for (char *p = buffer; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    /* No trailing blank: the line is compared byte for byte. */
    for (size_t n = strlen(buffer); n > 0 && buffer[n - 1] == ' '; n--)
        buffer[n - 1] = '\0';
}

/* ------------------------------------------------------------ writing */

typedef struct text_buffer {
    char *data;
    size_t used, size;
    int failed;
} text_buffer;

static void append(text_buffer *b, const char *data, size_t len)
{
    if (b->failed)
        return;
    if (b->used + len + 1 > b->size) {
        size_t size = (b->used + len + 1) * 2;
        char *grown = pel_malloc(size);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        if (b->data != NULL)
            memcpy(grown, b->data, b->used);
        pel_free(b->data);
        b->data = grown;
        b->size = size;
    }
    memcpy(b->data + b->used, data, len);
    b->used += len;
    b->data[b->used] = '\0';
}

static void append_format(text_buffer *b, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void append_format(text_buffer *b, const char *format, ...)
{
    char line[1024];
    va_list args;
    int n;

    va_start(args, format);
    n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n < 0 || (size_t)n >= sizeof line)
        b->failed = 1;
    else
        append(b, line, (size_t)n);
}

pel_status pel_wisdom_export(char **text)
{
    const pel_machine *m;
    text_buffer b = {NULL, 0, 0, 0};
    char print[768];
    static const pel_precision precisions[2] = {PEL_FLOAT64, PEL_FLOAT32};
    static const char *const names[2] = {"fftw-double", "fftw-float"};
    pel_status status;

    PEL_CHECK_NOT_NULL(text);
    *text = NULL;
    m = pel__machine();
    fingerprint(print, sizeof print);
    append_format(&b, "pel-wisdom 1\nfingerprint %s\n", print);
    append_format(&b, "machine %d %.17g %zu %.17g\n", m->threads, m->parallel_region_us, m->sweep_bytes,
                  m->measure_seconds);
    for (int k = 0; k < 3; k++)
        append_format(&b, "cache %d %zu %zu %d %.17g %d\n", k, m->cache[k].bytes, m->cache[k].reported_bytes,
                      m->cache[k].shared_by, m->cache[k].gbps, (int)m->cache[k].source);
    append_format(&b, "memory %.17g %d\nfma %.17g %d\nsweep %d\n", m->memory_gbps, (int)m->memory_source,
                  m->fma_gflops, (int)m->fma_source, m->sweep_points);
    for (int i = 0; i < m->sweep_points; i++)
        append_format(&b, "point %zu %.17g\n", m->sweep_point_bytes[i], m->sweep_point_gbps[i]);
    {
        /* The measured stencil choices (PEL_TUNE=measure), so that another
         * process finds them instead of timing candidates again. */
        pel__stencil_choice *list = pel_malloc(PEL__STENCIL_MAX_CHOICES * sizeof *list);
        int count = list != NULL ? pel__stencil_choices_get(list) : 0;
        if (list == NULL)
            b.failed = 1;
        append_format(&b, "stencil %d\n", count);
        for (int i = 0; i < count; i++) {
            const pel__stencil_choice_key *k = &list[i].key;
            append_format(&b, "choice %ld %ld %ld %d %d %d %d %d %d %d %d %zu %zu %zu %zu %zu\n", k->n[0], k->n[1],
                          k->n[2], k->r[0], k->r[1], k->r[2], k->ndim, k->nthreads, k->npoint, k->history,
                          k->has_rhs, k->nterms, k->nrows, k->element_size, list[i].cache_bytes, list[i].time_block);
        }
        pel_free(list);
    }
    {
        /* The batched gemm's measured cutoffs, so that another process
         * does not time them again. */
        pel__matrix_cutoff cutoffs[PEL__MATRIX_MAX_CUTOFFS];
        int count = pel__matrix_cutoffs_get(cutoffs);
        append_format(&b, "gemm %d\n", count);
        for (int i = 0; i < count; i++)
            append_format(&b, "cutoff %s %d %zu\n", cutoffs[i].table, cutoffs[i].single, cutoffs[i].value);
    }
    for (int p = 0; p < 2; p++) {
        char *fftw = NULL;
        status = pel_fft_wisdom_export_string(precisions[p], &fftw);
        if (status != PEL_OK) {
            pel_free(b.data);
            return status;
        }
        append_format(&b, "%s %zu\n", names[p], strlen(fftw));
        append(&b, fftw, strlen(fftw));
        append(&b, "\n", 1);
        pel_free(fftw);
    }
    if (!b.failed)
        append_format(&b, "checksum %016llx\n", (unsigned long long)fnv1a(b.data, b.used));
    if (b.failed) {
        pel_free(b.data);
        return PEL_FAIL(PEL_ERROR_OUT_OF_MEMORY, "no memory for the wisdom text");
    }
    *text = b.data;
    return PEL_OK;
}

/* ------------------------------------------------------------ reading */

typedef struct parsed {
    char fingerprint[768];
    pel_machine model;
    const char *fftw[2];
    size_t fftw_len[2];
    int nstencil;
    pel__stencil_choice stencil[PEL__STENCIL_MAX_CHOICES];
    int ncutoff;
    pel__matrix_cutoff cutoff[PEL__MATRIX_MAX_CUTOFFS];
} parsed;

typedef struct cursor {
    const char *p, *end;
    int line;
} cursor;

/* The next line (without its newline) into buffer; 0 at the end or when the
 * line is too long. */
static int next_line(cursor *c, char *buffer, size_t size)
{
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    size_t len;

    if (nl == NULL)
        return 0;
    len = (size_t)(nl - c->p);
    if (len + 1 > size || memchr(c->p, '\0', len) != NULL)
        return 0;
    memcpy(buffer, c->p, len);
    buffer[len] = '\0';
    c->p = nl + 1;
    c->line++;
    return 1;
}

static int valid_source(int source)
{
    return source == PEL_MACHINE_DEFAULT || source == PEL_MACHINE_REPORTED || source == PEL_MACHINE_MEASURED;
}

#define PARSE_FAIL(function, c, what)                                                                      \
    pel__fail(PEL_ERROR_PARSE, function, "text is not valid pel wisdom: line %d: %s", (c)->line + 1, what)

/* Parses text[0..len) into *out; PEL_ERROR_PARSE naming the first fault. */
static pel_status parse(const char *function, const char *text, size_t len, parsed *out)
{
    cursor c = {text, text + len, 0};
    char line[1024];
    const char *checksum_line;
    unsigned long long checksum;
    int n = 0, source, k, count;
    pel_machine *m = &out->model;
    static const char *const names[2] = {"fftw-double", "fftw-float"};

    memset(out, 0, sizeof *out);
    /* The checksum line closes the text: find it first, so that a
     * truncated or altered text is refused before anything else is read. */
    if (len < 2 || text[len - 1] != '\n')
        return pel__fail(PEL_ERROR_PARSE, function, "text is not valid pel wisdom: it does not end with a newline "
                                                    "(truncated?)");
    checksum_line = text + len - 1;
    while (checksum_line > text && checksum_line[-1] != '\n')
        checksum_line--;
    if (sscanf(checksum_line, "checksum %16llx%n", &checksum, &n) != 1 || checksum_line + n != text + len - 1 ||
        n != 25)
        return pel__fail(PEL_ERROR_PARSE, function,
                         "text is not valid pel wisdom: the last line is not \"checksum\" and 16 hex digits "
                         "(truncated?)");
    if (fnv1a(text, (size_t)(checksum_line - text)) != checksum)
        return pel__fail(PEL_ERROR_PARSE, function,
                         "text is not valid pel wisdom: the checksum does not match (truncated or altered)");
    c.end = checksum_line;

    if (!next_line(&c, line, sizeof line) || strcmp(line, "pel-wisdom 1") != 0)
        return PARSE_FAIL(function, &c, "expected \"pel-wisdom 1\"");
    if (!next_line(&c, line, sizeof line) || strncmp(line, "fingerprint ", 12) != 0)
        return PARSE_FAIL(function, &c, "expected \"fingerprint ...\"");
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s", line + 12);
    n = 0;
    if (!next_line(&c, line, sizeof line) ||
        sscanf(line, "machine %d %lf %zu %lf%n", &m->threads, &m->parallel_region_us, &m->sweep_bytes,
               &m->measure_seconds, &n) != 4 ||
        line[n] != '\0' || m->threads < 1 || m->threads > PEL_MAX_THREADS || !(m->parallel_region_us >= 0))
        return PARSE_FAIL(function, &c, "expected \"machine THREADS REGION_US SWEEP_BYTES SECONDS\"");
    for (int level = 0; level < 3; level++) {
        pel_machine_cache *cache = &m->cache[level];
        n = 0;
        if (!next_line(&c, line, sizeof line) ||
            sscanf(line, "cache %d %zu %zu %d %lf %d%n", &k, &cache->bytes, &cache->reported_bytes,
                   &cache->shared_by, &cache->gbps, &source, &n) != 6 ||
            line[n] != '\0' || k != level || cache->bytes == 0 || cache->shared_by < 1 || !(cache->gbps >= 0) ||
            !valid_source(source))
            return PARSE_FAIL(function, &c, "expected \"cache LEVEL BYTES REPORTED SHARED GBPS SOURCE\"");
        cache->source = (pel_machine_source)source;
    }
    n = 0;
    if (!next_line(&c, line, sizeof line) || sscanf(line, "memory %lf %d%n", &m->memory_gbps, &source, &n) != 2 ||
        line[n] != '\0' || !(m->memory_gbps > 0) || !valid_source(source))
        return PARSE_FAIL(function, &c, "expected \"memory GBPS SOURCE\"");
    m->memory_source = (pel_machine_source)source;
    n = 0;
    if (!next_line(&c, line, sizeof line) || sscanf(line, "fma %lf %d%n", &m->fma_gflops, &source, &n) != 2 ||
        line[n] != '\0' || !(m->fma_gflops > 0) || !valid_source(source))
        return PARSE_FAIL(function, &c, "expected \"fma GFLOPS SOURCE\"");
    m->fma_source = (pel_machine_source)source;
    n = 0;
    if (!next_line(&c, line, sizeof line) || sscanf(line, "sweep %d%n", &count, &n) != 1 || line[n] != '\0' ||
        count < 0 || count > 32)
        return PARSE_FAIL(function, &c, "expected \"sweep COUNT\" with COUNT in 0..32");
    m->sweep_points = count;
    for (int i = 0; i < count; i++) {
        n = 0;
        if (!next_line(&c, line, sizeof line) ||
            sscanf(line, "point %zu %lf%n", &m->sweep_point_bytes[i], &m->sweep_point_gbps[i], &n) != 2 ||
            line[n] != '\0')
            return PARSE_FAIL(function, &c, "expected \"point BYTES GBPS\"");
    }
    /* The stencil choices: optional (texts written before they existed
     * have none). */
    n = 0;
    if (c.end - c.p > 8 && memcmp(c.p, "stencil ", 8) == 0) {
        if (!next_line(&c, line, sizeof line) || sscanf(line, "stencil %d%n", &count, &n) != 1 || line[n] != '\0' ||
            count < 0 || count > PEL__STENCIL_MAX_CHOICES)
            return PARSE_FAIL(function, &c, "expected \"stencil COUNT\" with COUNT in 0..64");
        out->nstencil = count;
        for (int i = 0; i < count; i++) {
            pel__stencil_choice *choice = &out->stencil[i];
            pel__stencil_choice_key *key = &choice->key;
            memset(choice, 0, sizeof *choice); /* keys are compared with memcmp, padding too */
            n = 0;
            if (!next_line(&c, line, sizeof line) ||
                sscanf(line, "choice %ld %ld %ld %d %d %d %d %d %d %d %d %zu %zu %zu %zu %zu%n", &key->n[0], &key->n[1],
                       &key->n[2], &key->r[0], &key->r[1], &key->r[2], &key->ndim, &key->nthreads, &key->npoint, &key->history,
                       &key->has_rhs, &key->nterms, &key->nrows, &key->element_size, &choice->cache_bytes,
                       &choice->time_block, &n) != 16 ||
                line[n] != '\0' || !pel__stencil_choice_valid(choice))
                return PARSE_FAIL(function, &c,
                                  "expected \"choice\" and 16 numbers in range (dims, radii, ndim, threads, "
                                  "form, shape, element size, cache bytes, time block)");
        }
    }
    /* The gemm cutoffs: optional too. */
    n = 0;
    if (c.end - c.p > 5 && memcmp(c.p, "gemm ", 5) == 0) {
        if (!next_line(&c, line, sizeof line) || sscanf(line, "gemm %d%n", &count, &n) != 1 || line[n] != '\0' ||
            count < 0 || count > PEL__MATRIX_MAX_CUTOFFS)
            return PARSE_FAIL(function, &c, "expected \"gemm COUNT\" with COUNT in 0..8");
        out->ncutoff = count;
        for (int i = 0; i < count; i++) {
            pel__matrix_cutoff *cut = &out->cutoff[i];
            memset(cut, 0, sizeof *cut);
            n = 0;
            if (!next_line(&c, line, sizeof line) ||
                sscanf(line, "cutoff %15s %d %zu%n", cut->table, &cut->single, &cut->value, &n) != 3 ||
                line[n] != '\0' || !pel__matrix_cutoff_valid(cut))
                return PARSE_FAIL(function, &c,
                                  "expected \"cutoff TABLE SINGLE VALUE\": a kernel table of this CPU, 0 or 1, and "
                                  "a value from the table's constant to 64");
        }
    }
    for (int p = 0; p < 2; p++) {
        size_t length, name_len = strlen(names[p]);
        n = 0;
        if (!next_line(&c, line, sizeof line) || strncmp(line, names[p], name_len) != 0 || line[name_len] != ' ' ||
            sscanf(line + name_len, " %zu%n", &length, &n) != 1 || line[name_len + (size_t)n] != '\0' ||
            length > (size_t)(c.end - c.p) || length + 1 > (size_t)(c.end - c.p) || c.p[length] != '\n')
            return PARSE_FAIL(function, &c, p == 0 ? "expected \"fftw-double LENGTH\" and that many bytes"
                                                   : "expected \"fftw-float LENGTH\" and that many bytes");
        out->fftw[p] = c.p;
        out->fftw_len[p] = length;
        c.p += length + 1;
        c.line += 1;
        for (size_t i = 0; i < length; i++)
            c.line += out->fftw[p][i] == '\n';
    }
    if (c.p != c.end)
        return PARSE_FAIL(function, &c, "unexpected text before the checksum");
    return PEL_OK;
}

/* Parses, checks the fingerprint and FFTW's parts; applies only when all
 * is well. *applied = 1 when applied, 0 when the text is from another
 * machine (PEL_OK; the note is the calling thread's message). */
static pel_status import_text(const char *function, const char *text, size_t len, int with_fftw, int *applied,
                              pel_machine *model_only)
{
    static const pel_precision precisions[2] = {PEL_FLOAT64, PEL_FLOAT32};
    parsed *p;
    char print[768];
    pel_status status;

    if (len > WISDOM_MAX_BYTES)
        return pel__fail(PEL_ERROR_PARSE, function, "text is not valid pel wisdom: %zu bytes is more than %zu", len,
                         WISDOM_MAX_BYTES);
    p = pel_malloc(sizeof *p);
    if (p == NULL)
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "no memory to parse the wisdom");
    status = parse(function, text, len, p);
    if (status == PEL_OK && with_fftw)
        for (int i = 0; i < 2 && status == PEL_OK; i++)
            if (p->fftw_len[i] > 0)
                status = pel__fft_wisdom_validate(p->fftw[i], p->fftw_len[i], precisions[i], function, "text");
    if (status != PEL_OK) {
        pel_free(p);
        return status;
    }
    fingerprint(print, sizeof print);
    if (strcmp(print, p->fingerprint) != 0) {
        pel__fail(PEL_OK, function, "ignored: the wisdom is from another machine (\"%.200s\", this is \"%.200s\")",
                  p->fingerprint, print);
        pel_free(p);
        *applied = 0;
        return PEL_OK;
    }
    if (model_only != NULL) {
        /* The stencil choices need no lock but their own. */
        *model_only = p->model;
        pel__stencil_choices_put(p->stencil, p->nstencil);
        pel__matrix_cutoffs_put(p->cutoff, p->ncutoff);
    } else {
        /* FFTW may still refuse a part the validator passed (another
         * configuration signature, an unknown solver: found by
         * tests/fuzz/fuzz_tune.c), after the other part went in: FFTW's
         * wisdom of both precisions is kept and put back then, so that a
         * refused text changes nothing. */
        static const char *const names[2] = {"double", "float"};
        char *saved[2] = {NULL, NULL};
        for (int i = 0; i < 2 && status == PEL_OK; i++)
            if (pel_fft_wisdom_export_string(precisions[i], &saved[i]) != PEL_OK)
                status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "no memory to keep FFTW's wisdom");
        for (int i = 0; i < 2 && status == PEL_OK; i++) {
            if (p->fftw_len[i] == 0)
                continue;
            /* The FFT layer's importer wants a NUL-terminated text. */
            char *copy = pel_malloc(p->fftw_len[i] + 1);
            if (copy == NULL) {
                status = pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "no memory for FFTW's wisdom");
                break;
            }
            memcpy(copy, p->fftw[i], p->fftw_len[i]);
            copy[p->fftw_len[i]] = '\0';
            status = pel_fft_wisdom_import_string(precisions[i], copy);
            pel_free(copy);
            if (status != PEL_OK) {
                char reason[512];
                snprintf(reason, sizeof reason, "%s", pel_last_error());
                pel_fft_wisdom_forget();
                for (int j = 0; j < 2; j++)
                    if (saved[j] != NULL)
                        (void)pel_fft_wisdom_import_string(precisions[j], saved[j]);
                status = pel__fail(status, function, "text is not valid pel wisdom: its FFTW %s part was refused (%s)",
                                   names[i], reason);
            }
        }
        pel_free(saved[0]);
        pel_free(saved[1]);
        if (status == PEL_OK) {
            pel__machine_install(&p->model);
            pel__stencil_choices_put(p->stencil, p->nstencil);
            pel__matrix_cutoffs_put(p->cutoff, p->ncutoff);
        }
    }
    pel_free(p);
    if (status == PEL_OK)
        *applied = 1;
    return status;
}

pel_status pel_wisdom_import(const char *text, int *applied)
{
    int dummy;

    PEL_CHECK_NOT_NULL(text);
    return import_text(__func__, text, strlen(text), 1, applied ? applied : &dummy, NULL);
}

/* The file's bytes (at most WISDOM_MAX_BYTES + 1, so that a longer file is
 * refused by the parser) into *data, pel_malloc'd and NUL-terminated. */
static pel_status read_file(const char *function, const char *path, char **data, size_t *len)
{
    FILE *file = fopen(path, "rb");
    char *bytes;

    if (file == NULL)
        return pel__fail(PEL_ERROR_IO, function, "path=\"%.200s\" cannot be opened for reading", path);
    bytes = pel_malloc(WISDOM_MAX_BYTES + 2);
    if (bytes == NULL) {
        fclose(file);
        return pel__fail(PEL_ERROR_OUT_OF_MEMORY, function, "no memory to read path=\"%.200s\"", path);
    }
    *len = fread(bytes, 1, WISDOM_MAX_BYTES + 1, file);
    if (ferror(file)) {
        fclose(file);
        pel_free(bytes);
        return pel__fail(PEL_ERROR_IO, function, "path=\"%.200s\" cannot be read", path);
    }
    fclose(file);
    bytes[*len] = '\0';
    *data = bytes;
    return PEL_OK;
}

pel_status pel_wisdom_import_file(const char *path, int *applied)
{
    char *data = NULL;
    size_t len = 0;
    int dummy;
    pel_status status;

    PEL_CHECK_NOT_NULL(path);
    status = read_file(__func__, path, &data, &len);
    if (status != PEL_OK)
        return status;
    status = import_text(__func__, data, len, 1, applied ? applied : &dummy, NULL);
    pel_free(data);
    return status;
}

pel_status pel_wisdom_export_file(const char *path)
{
    char *text = NULL;
    FILE *file;
    size_t len;
    pel_status status;
    int ok;

    PEL_CHECK_NOT_NULL(path);
    status = pel_wisdom_export(&text);
    if (status != PEL_OK)
        return status;
    file = fopen(path, "wb");
    if (file == NULL) {
        pel_free(text);
        return PEL_FAIL(PEL_ERROR_IO, "path=\"%.200s\" cannot be opened for writing", path);
    }
    len = strlen(text);
    ok = fwrite(text, 1, len, file) == len;
    ok = fclose(file) == 0 && ok;
    pel_free(text);
    if (!ok)
        return PEL_FAIL(PEL_ERROR_IO, "path=\"%.200s\" could not be written completely", path);
    return PEL_OK;
}

int pel__wisdom_load_environment_model(pel_machine *m)
{
    const char *path = getenv("PEL_WISDOM_FILE");
    char saved[512], *data = NULL;
    size_t len = 0;
    int applied = 0;

    if (path == NULL || path[0] == '\0')
        return 0;
    /* Nobody asked: keep the caller's last message whatever happens. */
    snprintf(saved, sizeof saved, "%s", pel_last_error());
    if (read_file("PEL_WISDOM_FILE", path, &data, &len) == PEL_OK) {
        if (import_text("PEL_WISDOM_FILE", data, len, 0, &applied, m) != PEL_OK)
            applied = 0;
        pel_free(data);
    }
    pel__set_error_message(saved);
    return applied;
}
