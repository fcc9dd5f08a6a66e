/* The C side of the Fortran ABI test (tests/fortran/test_abi.f90): sizes of
 * the structs the module declares with BIND(C) and the values of the enum
 * constants it repeats, read from the C headers, so a header change that
 * the module missed fails `make check`. */
#include <stddef.h>

#include <pel.h>

void pel_test_abi_values(long long *values, size_t capacity, size_t *count);

void pel_test_abi_values(long long *values, size_t capacity, size_t *count)
{
    /* Keep this order in step with expected(:) in test_abi.f90. */
    const long long table[] = {
        (long long)sizeof(pel_fft_options), (long long)offsetof(pel_fft_options, norm),
        (long long)sizeof(pel_fft_cache_stats), (long long)sizeof(pel_boundary),
        (long long)offsetof(pel_boundary, value), (long long)sizeof(pel_stencil_blocking),
        (long long)offsetof(pel_stencil_blocking, streaming_stores),
        PEL_ROW_MAJOR, PEL_COL_MAJOR, PEL_FLOAT64, PEL_FLOAT32,
        PEL_SCHEDULE_STATIC, PEL_SCHEDULE_DYNAMIC, PEL_SCHEDULE_GUIDED, PEL_REDUCE_BLOCK,
        PEL_NO_TRANS, PEL_TRANS, PEL_CONJ_TRANS, PEL_UPPER, PEL_LOWER,
        PEL_FFT_MAX_RANK, PEL_FFT_C2C, PEL_FFT_R2C, PEL_FFT_C2R, PEL_FFT_FORWARD, PEL_FFT_BACKWARD,
        PEL_FFT_R2R, PEL_FFT_DCT1, PEL_FFT_DCT2, PEL_FFT_DCT3, PEL_FFT_DCT4, PEL_FFT_DST1, PEL_FFT_DST2,
        PEL_FFT_DST3, PEL_FFT_DST4,
        PEL_FFT_NORM_BACKWARD, PEL_FFT_NORM_ORTHO, PEL_FFT_NORM_FORWARD,
        PEL_FFT_ESTIMATE, PEL_FFT_MEASURE, PEL_FFT_PATIENT, PEL_FFT_EXHAUSTIVE, PEL_FFT_WISDOM_ONLY,
        PEL_FFT_CONVOLVE_FULL, PEL_FFT_CONVOLVE_SAME, PEL_FFT_CONVOLVE_VALID,
        PEL_STENCIL_MAX_RADIUS, PEL_STENCIL_STAR, PEL_STENCIL_BOX,
        PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_NEUMANN,
        (long long)PEL_CSR_MAX_COLS, PEL_BOUNDARY_NEAREST, PEL_BOUNDARY_MIRROR,
        (long long)sizeof(pel_status), (long long)sizeof(pel_layout), (long long)sizeof(pel_fft_kind),
        (long long)sizeof(pel_machine_cache), (long long)offsetof(pel_machine_cache, source),
        (long long)sizeof(pel_machine), (long long)offsetof(pel_machine, sweep_point_bytes),
        (long long)offsetof(pel_machine, measure_seconds), PEL_MACHINE_DEFAULT, PEL_MACHINE_REPORTED,
        PEL_MACHINE_MEASURED};
    size_t n = sizeof table / sizeof table[0];

    for (size_t i = 0; i < n && i < capacity; i++)
        values[i] = table[i];
    *count = n;
}
