! Fortran calls of issue 13's C functions through the module's BIND(C)
! interfaces: a DCT-II (pel_fft_r2r) against its defining sum, and a stack
! of column-major solves (pel_dgesv_batch, Fortran's natural layout) against
! the residual. Tolerances: a few eps times the problem size, 1e-12.
program test_r2r_batch
   use, intrinsic :: iso_c_binding
   use pel
   implicit none
   integer, parameter :: n = 12, m = 4, nb = 6
   real(c_double), target :: x(n), y(n), a(m, m, nb), b(m, nb), sol(m, nb)
   integer(c_size_t) :: dims(1)
   integer(c_int) :: kinds(1), status
   real(c_double) :: ref, err, pi
   integer :: j, k, i, failures

   failures = 0
   pi = 4 * atan(1.0_c_double)
   do j = 1, n
      x(j) = sin(real(j, c_double) * 1.7_c_double) + 0.25_c_double
   end do
   dims(1) = n
   kinds(1) = PEL_FFT_DCT2
   status = pel_fft_r2r_c(1_c_int, dims, 1_c_size_t, kinds, PEL_FFT_NORM_BACKWARD, c_loc(x), c_loc(y))
   if (status /= PEL_OK) then
      print '(a,i0)', 'FAILED: pel_fft_r2r status ', status
      failures = failures + 1
   end if
   err = 0
   do k = 0, n - 1
      ref = 0
      do j = 0, n - 1
         ref = ref + 2 * x(j + 1) * cos(pi * (2 * j + 1) * k / (2.0_c_double * n))
      end do
      err = max(err, abs(y(k + 1) - ref))
   end do
   if (err > 1e-12_c_double * n) then
      print '(a,es10.3)', 'FAILED: DCT-II error ', err
      failures = failures + 1
   end if
   if (pel_fft_r2r_logical_size(PEL_FFT_DST1, 5_c_size_t) /= 12) then
      print '(a)', 'FAILED: pel_fft_r2r_logical_size(DST1, 5) /= 12'
      failures = failures + 1
   end if

   do k = 1, nb
      do j = 1, m
         do i = 1, m
            a(i, j, k) = cos(real(i * 7 + j * 3 + k, c_double))
         end do
         a(j, j, k) = a(j, j, k) + m
         b(j, k) = sin(real(j + 5 * k, c_double))
      end do
   end do
   status = pel_dgesv_batch(PEL_COL_MAJOR, int(m, c_size_t), 1_c_size_t, int(nb, c_size_t), c_loc(a), &
                            int(m, c_size_t), int(m * m, c_size_t), c_loc(b), int(m, c_size_t), int(m, c_size_t), &
                            c_loc(sol), int(m, c_size_t), int(m, c_size_t))
   if (status /= PEL_OK) then
      print '(a,i0)', 'FAILED: pel_dgesv_batch status ', status
      failures = failures + 1
   end if
   err = 0
   do k = 1, nb
      err = max(err, maxval(abs(matmul(a(:, :, k), sol(:, k)) - b(:, k))))
   end do
   if (err > 1e-12_c_double) then
      print '(a,es10.3)', 'FAILED: batched solve residual ', err
      failures = failures + 1
   end if
   a(:, :, 3) = 0
   status = pel_dgesv_batch(PEL_COL_MAJOR, int(m, c_size_t), 1_c_size_t, int(nb, c_size_t), c_loc(a), &
                            int(m, c_size_t), int(m * m, c_size_t), c_loc(b), int(m, c_size_t), int(m, c_size_t), &
                            c_loc(sol), int(m, c_size_t), int(m, c_size_t))
   if (status /= PEL_ERROR_SINGULAR) then
      print '(a,i0)', 'FAILED: a singular item gave status ', status
      failures = failures + 1
   end if
   if (failures > 0) stop 1
   print '(a)', 'test_r2r_batch: all checks passed'
end program test_r2r_batch
