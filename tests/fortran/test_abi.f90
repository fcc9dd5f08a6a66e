! The module's BIND(C) types and enum constants against the C headers (the
! values come from tests/fortran/abi.c, compiled from the same headers as the
! library): a header change the module missed fails here.
program test_abi
   use, intrinsic :: iso_c_binding
   use pel
   implicit none

   interface
      subroutine pel_test_abi_values(values, capacity, count) bind(C, name="pel_test_abi_values")
         import :: c_long_long, c_size_t
         integer(c_long_long), intent(inout) :: values(*)
         integer(c_size_t), value :: capacity
         integer(c_size_t), intent(inout) :: count
      end subroutine pel_test_abi_values
   end interface

   character(len=40), parameter :: names(66) = [character(len=40) :: &
      'sizeof(pel_fft_options)', 'offsetof(pel_fft_options, norm)', 'sizeof(pel_fft_cache_stats)', &
      'sizeof(pel_boundary)', 'offsetof(pel_boundary, value)', 'sizeof(pel_stencil_blocking)', &
      'offsetof(blocking, streaming_stores)', &
      'PEL_ROW_MAJOR', 'PEL_COL_MAJOR', 'PEL_FLOAT64', 'PEL_FLOAT32', &
      'PEL_SCHEDULE_STATIC', 'PEL_SCHEDULE_DYNAMIC', 'PEL_SCHEDULE_GUIDED', 'PEL_REDUCE_BLOCK', &
      'PEL_NO_TRANS', 'PEL_TRANS', 'PEL_CONJ_TRANS', 'PEL_UPPER', 'PEL_LOWER', &
      'PEL_FFT_MAX_RANK', 'PEL_FFT_C2C', 'PEL_FFT_R2C', 'PEL_FFT_C2R', 'PEL_FFT_FORWARD', 'PEL_FFT_BACKWARD', &
      'PEL_FFT_R2R', 'PEL_FFT_DCT1', 'PEL_FFT_DCT2', 'PEL_FFT_DCT3', 'PEL_FFT_DCT4', 'PEL_FFT_DST1', &
      'PEL_FFT_DST2', 'PEL_FFT_DST3', 'PEL_FFT_DST4', &
      'PEL_FFT_NORM_BACKWARD', 'PEL_FFT_NORM_ORTHO', 'PEL_FFT_NORM_FORWARD', &
      'PEL_FFT_ESTIMATE', 'PEL_FFT_MEASURE', 'PEL_FFT_PATIENT', 'PEL_FFT_EXHAUSTIVE', 'PEL_FFT_WISDOM_ONLY', &
      'PEL_FFT_CONVOLVE_FULL', 'PEL_FFT_CONVOLVE_SAME', 'PEL_FFT_CONVOLVE_VALID', &
      'PEL_STENCIL_MAX_RADIUS', 'PEL_STENCIL_STAR', 'PEL_STENCIL_BOX', &
      'PEL_BOUNDARY_DIRICHLET', 'PEL_BOUNDARY_PERIODIC', 'PEL_BOUNDARY_NEUMANN', 'PEL_CSR_MAX_COLS', &
      'PEL_BOUNDARY_NEAREST', 'PEL_BOUNDARY_MIRROR', &
      'sizeof(pel_status) = c_int', 'sizeof(pel_layout) = c_int', 'sizeof(pel_fft_kind) = c_int', &
      'sizeof(pel_machine_cache)', 'offsetof(pel_machine_cache, source)', 'sizeof(pel_machine)', &
      'offsetof(pel_machine, sweep_point_bytes)', 'offsetof(pel_machine, measure_seconds)', &
      'PEL_MACHINE_DEFAULT', 'PEL_MACHINE_REPORTED', 'PEL_MACHINE_MEASURED']
   type(pel_fft_options), target :: options(2)
   type(pel_boundary), target :: faces(2)
   type(pel_stencil_blocking), target :: blocking
   type(pel_machine), target :: model
   integer(c_long_long) :: expected(66), actual(80)
   integer(c_size_t) :: count
   integer :: i, failures

   expected = [integer(c_long_long) :: &
      c_sizeof(options(1)), offset(c_loc(options(1)), c_loc(options(1)%norm)), c_sizeof(pel_fft_cache_stats()), &
      c_sizeof(faces(1)), offset(c_loc(faces(1)), c_loc(faces(1)%value)), c_sizeof(blocking), &
      offset(c_loc(blocking), c_loc(blocking%streaming_stores)), &
      PEL_ROW_MAJOR, PEL_COL_MAJOR, PEL_FLOAT64, PEL_FLOAT32, &
      PEL_SCHEDULE_STATIC, PEL_SCHEDULE_DYNAMIC, PEL_SCHEDULE_GUIDED, PEL_REDUCE_BLOCK, &
      PEL_NO_TRANS, PEL_TRANS, PEL_CONJ_TRANS, PEL_UPPER, PEL_LOWER, &
      PEL_FFT_MAX_RANK, PEL_FFT_C2C, PEL_FFT_R2C, PEL_FFT_C2R, PEL_FFT_FORWARD, PEL_FFT_BACKWARD, &
      PEL_FFT_R2R, PEL_FFT_DCT1, PEL_FFT_DCT2, PEL_FFT_DCT3, PEL_FFT_DCT4, PEL_FFT_DST1, PEL_FFT_DST2, &
      PEL_FFT_DST3, PEL_FFT_DST4, &
      PEL_FFT_NORM_BACKWARD, PEL_FFT_NORM_ORTHO, PEL_FFT_NORM_FORWARD, &
      PEL_FFT_ESTIMATE, PEL_FFT_MEASURE, PEL_FFT_PATIENT, PEL_FFT_EXHAUSTIVE, PEL_FFT_WISDOM_ONLY, &
      PEL_FFT_CONVOLVE_FULL, PEL_FFT_CONVOLVE_SAME, PEL_FFT_CONVOLVE_VALID, &
      PEL_STENCIL_MAX_RADIUS, PEL_STENCIL_STAR, PEL_STENCIL_BOX, &
      PEL_BOUNDARY_DIRICHLET, PEL_BOUNDARY_PERIODIC, PEL_BOUNDARY_NEUMANN, int(PEL_CSR_MAX_COLS, c_long_long), &
      int(PEL_BOUNDARY_NEAREST, c_long_long), int(PEL_BOUNDARY_MIRROR, c_long_long), &
      c_sizeof(0_c_int), c_sizeof(0_c_int), c_sizeof(0_c_int), &
      c_sizeof(model%cache(1)), offset(c_loc(model%cache(1)), c_loc(model%cache(1)%source)), c_sizeof(model), &
      offset(c_loc(model), c_loc(model%sweep_point_bytes)), offset(c_loc(model), c_loc(model%measure_seconds)), &
      int(PEL_MACHINE_DEFAULT, c_long_long), int(PEL_MACHINE_REPORTED, c_long_long), &
      int(PEL_MACHINE_MEASURED, c_long_long)]
   count = 0
   call pel_test_abi_values(actual, size(actual, kind=c_size_t), count)
   failures = 0
   if (count /= size(expected)) then
      print '(a,i0,a,i0)', 'FAILED: abi.c reports ', count, ' values, test_abi.f90 expects ', size(expected)
      failures = 1
   end if
   do i = 1, int(min(count, size(expected, kind=c_size_t)))
      if (actual(i) /= expected(i)) then
         print '(a,a,a,i0,a,i0)', 'FAILED: ', trim(names(i)), ': C says ', actual(i), ', the module ', expected(i)
         failures = failures + 1
      end if
   end do
   print '(a,i0,a,i0,a)', 'test_abi: ', size(expected), ' checks, ', failures, ' failed'
   if (failures > 0) stop 1

contains

   integer(c_long_long) function offset(base, field)
      type(c_ptr), intent(in) :: base, field
      offset = transfer(field, 0_c_intptr_t) - transfer(base, 0_c_intptr_t)
   end function offset
end program test_abi
