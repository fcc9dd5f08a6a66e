/**
 * @file pel/tune.h
 * @brief The measured machine model that pel's automatic choices read.
 *
 * pel measures the machine it runs on once per process, on first need
 * (about 0.1 s): a read-bandwidth sweep over working sets on pel's threads
 * finds where the bandwidth drops (the effective capacity of each cache
 * level), the memory bandwidth and the FMA rate. The cache sizes the kernel
 * reports (sysfs, else sysconf) are the starting point and are checked
 * against the sweep, never trusted blindly: a cloud VM may report caches it
 * does not have. docs/tuning.md describes the model and its uses.
 */
#ifndef PEL_TUNE_H
#define PEL_TUNE_H

#include <stddef.h>

#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where a number of the machine model comes from. */
typedef enum pel_machine_source {
    PEL_MACHINE_DEFAULT = 0,  /**< nothing known: pel's built-in default */
    PEL_MACHINE_REPORTED = 1, /**< what the OS reports (sysfs or sysconf), consistent with the sweep */
    PEL_MACHINE_MEASURED = 2  /**< set by the measurement (it found less than reported, or nothing was reported) */
} pel_machine_source;

/** One data-cache level of the model. */
typedef struct pel_machine_cache {
    /** Effective capacity of one instance of the level, in bytes: what pel
     *  plans with. Never more than the reported size when one is known. */
    size_t bytes;
    /** What sysfs or sysconf reported for one instance (0: nothing). */
    size_t reported_bytes;
    /** CPUs sharing one instance, as reported (1 when unknown for L1/L2). */
    int shared_by;
    /** Read bandwidth of the measuring team with a working set inside this
     *  level, GB/s (0 when not measured). */
    double gbps;
    /** Where bytes comes from. */
    pel_machine_source source;
} pel_machine_cache;

/** The machine model (pel_machine_info()). */
typedef struct pel_machine {
    /** Threads the measurement ran on (pel's thread count at first need). */
    int threads;
    /** L1 data, L2 and L3 caches (index 0, 1, 2). */
    pel_machine_cache cache[3];
    /** Read bandwidth from memory of the measuring team, GB/s. */
    double memory_gbps;
    pel_machine_source memory_source;
    /** Double-precision FMA rate of the measuring team, GFLOP/s (2 flops an FMA). */
    double fma_gflops;
    pel_machine_source fma_source;
    /** Cost of one fork/join of an OpenMP region of `threads` threads, microseconds. */
    double parallel_region_us;
    /** The largest working set of the sweep, bytes. */
    size_t sweep_bytes;
    /** The sweep itself: working sets of the whole team (bytes) and the
     *  team's read bandwidth there (GB/s), sweep_points of them. */
    int sweep_points;
    size_t sweep_point_bytes[32];
    double sweep_point_gbps[32];
    /** Wall time the measurement took, seconds. */
    double measure_seconds;
} pel_machine;

/**
 * Copies the machine model into *out, measuring it first if this process has
 * not yet (once per process, thread-safe: concurrent first callers wait for
 * one measurement). The measurement runs on pel_get_num_threads() threads of
 * the calling thread (one thread inside a parallel region or a forked
 * child); if its buffer cannot be allocated the model keeps the reported
 * sizes and the defaults, with sources saying so.
 *
 * Errors: PEL_ERROR_INVALID_ARGUMENT when out is NULL.
 */
PEL_API pel_status pel_machine_info(pel_machine *out);

/** The name of a source ("default", "reported", "measured"); "unknown" otherwise. */
PEL_API const char *pel_machine_source_name(pel_machine_source source);

/**
 * pel's wisdom as a NUL-terminated text in *text (free with pel_free()):
 * the machine model and FFTW's wisdom of both precisions, keyed by this
 * machine's fingerprint (CPU model, CPU count, pel's and the backends'
 * versions) and closed by a checksum (format in docs/tuning.md). Measures
 * the model first if this process has not.
 * Errors: PEL_ERROR_INVALID_ARGUMENT (text NULL), PEL_ERROR_OUT_OF_MEMORY;
 * *text is set to NULL on error. Thread-safe.
 */
PEL_API pel_status pel_wisdom_export(char **text);

/**
 * Applies wisdom exported by pel_wisdom_export(): the model replaces the
 * measured one and FFTW's wisdom is added. A text from another machine
 * (another fingerprint) is ignored: PEL_OK with *applied = 0 and a note in
 * pel_last_error(); applied: *applied = 1. applied may be NULL.
 * Errors: PEL_ERROR_INVALID_ARGUMENT (text NULL), PEL_ERROR_PARSE (a
 * truncated, altered or malformed text: checksum, grammar, FFTW's part
 * checked before anything is applied; the message says what),
 * PEL_ERROR_OUT_OF_MEMORY. On error nothing changes and *applied is not
 * written. Thread-safe: calls that took the old model keep a consistent copy.
 */
PEL_API pel_status pel_wisdom_import(const char *text, int *applied);

/** pel_wisdom_export() into the file @p path. Errors: as pel_wisdom_export(),
 *  PEL_ERROR_INVALID_ARGUMENT (path NULL), PEL_ERROR_IO. Thread-safe. */
PEL_API pel_status pel_wisdom_export_file(const char *path);

/**
 * pel_wisdom_import() of the file @p path (at most 40 MiB). The environment
 * variable PEL_WISDOM_FILE names a file whose model pel takes, instead of
 * measuring, at the model's first need when its fingerprint matches
 * (anything else is ignored silently); its FFTW part is applied only by
 * this call. Errors: as pel_wisdom_import(), PEL_ERROR_INVALID_ARGUMENT
 * (path NULL), PEL_ERROR_IO (cannot be read). Thread-safe.
 */
PEL_API pel_status pel_wisdom_import_file(const char *path, int *applied);

#ifdef __cplusplus
}
#endif

#endif
