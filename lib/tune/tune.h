/* Internal side of the machine model and the measured thresholds. */
#ifndef PEL_TUNE_TUNE_H
#define PEL_TUNE_TUNE_H

#include <stddef.h>

#include "pel/tune.h"

/* The model, measured on first call (thread-safe, once per process). The
 * pointer stays valid for the life of the process. */
const pel_machine *pel__machine(void);

/* Installs m as the model (a wisdom import); readers that took the old one
 * keep a consistent copy. Thread-safe. */
void pel__machine_install(const pel_machine *m);

/* PEL_WISDOM_FILE at the model's first need: when the variable names a
 * readable pel wisdom file with this machine's fingerprint, its model goes
 * to *m and 1 is returned; otherwise 0 (the file is ignored: a note, never
 * an error, since no call asked for it). Only the model is taken here (the
 * FFTW part would take the FFT planner's lock from inside whatever kernel
 * needed the model); pel_wisdom_import_file() takes everything. */
int pel__wisdom_load_environment_model(pel_machine *m);

/* Testing only: the directory that replaces "/sys" when the cache sizes are
 * read (NULL: the real one, or PEL_SYSFS_ROOT when set), and a fresh
 * measurement with it. Not for concurrent use with readers of the model. */
void pel__machine_set_sysfs_root(const char *root);
void pel__machine_remeasure(void);

/* One sweep point: a working set (all threads together) and its read
 * bandwidth (GB/s). */
typedef struct pel__sweep_point {
    size_t bytes;
    double gbps;
} pel__sweep_point;

/* The effective capacities from a sweep (exposed for the tests, which feed
 * it synthetic curves). Level k (0..2) is reported as reported[k] bytes an
 * instance, shared by shared_by[k] CPUs, for a team of `threads`. Writes
 * the capacities an instance and their sources into bytes[] and source[],
 * and each level's bandwidth into gbps[]. */
void pel__machine_levels(const pel__sweep_point *points, int count, int threads, const size_t reported[3],
                         const int shared_by[3], size_t bytes[3], pel_machine_source source[3], double gbps[3]);

/* Measured thresholds (lib/tune/thresholds.c), each with today's constant as
 * the fallback: the minimum work per thread measured from the model
 * (fork/join cost against the streaming rate) unless the user or
 * PEL_MIN_WORK_PER_THREAD set one. pel__tune_threads_for_work() is declared
 * in core/threads.h, where the kernels find it. */
size_t pel__tune_min_work_per_thread(void);

#endif
