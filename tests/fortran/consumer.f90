! A Fortran program outside the tree, built against the installed library by
! tests/fortran/install_check.sh with `pkg-config --cflags --libs pel-fortran`.
! It calls gemm, an FFT and a stencil and checks each against a loop.
program consumer
   use, intrinsic :: iso_c_binding
   use pel
   implicit none
   real(c_double) :: a(3, 2), b(2, 4), c(3, 4), u(6, 5), v(6, 5)
   complex(c_double_complex) :: x(8), y(8)
   type(pel_boundary) :: faces(4)
   type(c_ptr) :: laplacian
   integer :: i, j

   a = reshape([1, 2, 3, 4, 5, 6], [3, 2])
   b = reshape([1, 0, 0, 1, 1, 1, 2, -1], [2, 4])
   if (pel_gemm(a, b, c) /= PEL_OK) error stop 'pel_gemm failed: '//pel_last_error()
   if (any(c /= matmul(a, b))) error stop 'pel_gemm: wrong product'

   x = [(cmplx(i, -i, c_double_complex), i = 1, 8)]
   if (pel_fft(x, y, PEL_FFT_FORWARD) /= PEL_OK) error stop 'pel_fft failed: '//pel_last_error()
   ! y(1) is the sum; y(k+1) = sum_j x(j+1) exp(-2 pi i jk/8).
   if (abs(y(1) - sum(x)) > 1e-12_c_double) error stop 'pel_fft: wrong transform'
   if (abs(y(3) - sum([(x(j + 1) * exp(cmplx(0, -2 * acos(-1.0_c_double) * j * 2 / 8, c_double_complex)), &
                       j = 0, 7)])) > 1e-12_c_double) error stop 'pel_fft: wrong transform'

   laplacian = c_null_ptr
   if (pel_stencil_create_laplacian(PEL_FLOAT64, 2, 5, 1.0_c_double, laplacian) /= PEL_OK) &
      error stop 'pel_stencil_create_laplacian failed: '//pel_last_error()
   u = reshape([(real(i * i, c_double), i = 1, 30)], [6, 5])
   v = u
   faces = pel_boundary(PEL_BOUNDARY_DIRICHLET, 0.0_c_double)
   if (pel_stencil_apply(laplacian, u, faces, 1) /= PEL_OK) error stop 'pel_stencil_apply failed: '//pel_last_error()
   do j = 2, 4
      do i = 2, 5
         if (u(i, j) /= v(i, j - 1) + v(i - 1, j) - 4 * v(i, j) + v(i + 1, j) + v(i, j + 1)) &
            error stop 'pel_stencil_apply: wrong interior value'
      end do
   end do
   call pel_stencil_destroy(laplacian)
   print '(a,a,a)', 'Fortran consumer: pel ', pel_version(), ': pel_gemm, pel_fft and pel_stencil_apply ok'
end program consumer
