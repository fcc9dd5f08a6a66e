! Tests of the Fortran wrappers of the matrix, FFT, stencil and sparse layers
! against Fortran reference loops written here: gemm (plain, transposed, on
! sections of larger arrays), batched gemm, solves, vector operations,
! c2c/r2c/c2r transforms (against a naive DFT), FFT convolution, stencils
! (bit-identical to the documented order of terms, with the Fortran axis and
! face mapping), the Jacobi Poisson solver and CSR SpMV with one-based
! arrays; plus the wrapper-side errors. Exits nonzero when a check fails.
program test_layers
   use, intrinsic :: iso_c_binding
   use, intrinsic :: iso_fortran_env, only: error_unit
   use pel
   implicit none

   real(c_double), parameter :: eps = epsilon(1.0_c_double)
   real(c_double), parameter :: pi = 3.14159265358979323846_c_double
   integer :: failures = 0, checks = 0
   integer(c_int) :: status   ! results are stored before they are checked: Fortran may
                              ! evaluate the operands of an expression in any order
   integer(c_int64_t) :: seed = 12345
   interface
      ! libm's fma: one rounding, the reference of the FMA order.
      real(c_double) function c_fma(x, y, z) bind(C, name="fma")
         import :: c_double
         real(c_double), value :: x, y, z
      end function c_fma
   end interface

   call test_gemm()
   call test_gemm_batch()
   call test_solves()
   call test_vectors()
   call test_fft()
   call test_convolve()
   call test_stencil()
   call test_stencil_forms()
   call test_jacobi()
   call test_csr()
   write (*, '(a,i0,a,i0,a)') 'test_layers: ', checks, ' checks, ', failures, ' failed'
   if (failures > 0) stop 1

contains

   subroutine check(condition, what)
      logical, intent(in) :: condition
      character(len=*), intent(in) :: what
      checks = checks + 1
      if (.not. condition) then
         failures = failures + 1
         write (error_unit, '(a)') 'FAILED: '//what
         if (len(pel_last_error()) > 0) write (error_unit, '(a)') '  last error: '//pel_last_error()
      end if
   end subroutine check

   ! Values in [-1, 1), never zero, from a fixed LCG (reproducible).
   subroutine fill(x)
      real(c_double), intent(out) :: x(:)
      integer :: i
      do i = 1, size(x)
         ! Park-Miller minimal standard generator: no integer overflow.
         seed = modulo(seed * 48271_c_int64_t, 2147483647_c_int64_t)
         x(i) = real(seed, c_double) / 2147483647.0_c_double * 2 - 1 + 0.0001_c_double
      end do
   end subroutine fill

   subroutine fill2(a)
      real(c_double), intent(out) :: a(:, :)
      real(c_double) :: flat(size(a))
      call fill(flat)
      a = reshape(flat, shape(a))
   end subroutine fill2

   subroutine set_threads(n)
      integer, intent(in) :: n
      call check(pel_set_num_threads(n) == PEL_OK, 'set threads')
      ! Force the parallel paths even on these small problems.
      call check(pel_set_min_work_per_thread(1) == PEL_OK, 'set cutoff')
   end subroutine set_threads

   ! ------------------------------------------------------------ matrix

   ! Reference c = alpha*op(a)*op(b) + beta*c with loops.
   subroutine gemm_reference(a, b, c, ta, tb, alpha, beta)
      real(c_double), intent(in) :: a(:, :), b(:, :), alpha, beta
      real(c_double), intent(inout) :: c(:, :)
      logical, intent(in) :: ta, tb
      real(c_double) :: s, x, y
      integer :: i, j, l, k
      k = size(a, 2)
      if (ta) k = size(a, 1)
      do j = 1, size(c, 2)
         do i = 1, size(c, 1)
            s = 0
            do l = 1, k
               x = a(i, l)
               if (ta) x = a(l, i)
               y = b(l, j)
               if (tb) y = b(j, l)
               s = s + x * y
            end do
            c(i, j) = alpha * s + beta * c(i, j)
         end do
      end do
   end subroutine gemm_reference

   ! |x - y| <= tol * scale elementwise, with scale = k*max|a|*max|b|.
   logical function close2(x, y, tol)
      real(c_double), intent(in) :: x(:, :), y(:, :), tol
      close2 = all(abs(x - y) <= tol)
   end function close2

   subroutine test_gemm()
      real(c_double) :: a(7, 5), at(5, 7), b(5, 6), bt(6, 5), c(7, 6), ref(7, 6), big(10, 9), big_ref(10, 9)
      real(c_double) :: wide(14, 5), c_saved(7, 6)
      real(c_double), parameter :: tol = 5 * 8 * eps   ! k = 5 products of magnitude <= 1, plus alpha/beta
      integer :: threads

      call fill2(a)
      at = transpose(a)
      call fill2(b)
      bt = transpose(b)
      do threads = 1, 2
         call set_threads(threads)
         call fill2(c)
         ref = c
         call gemm_reference(a, b, ref, .false., .false., 1.5_c_double, -0.5_c_double)
         call check(pel_gemm(a, b, c, alpha=1.5_c_double, beta=-0.5_c_double) == PEL_OK, 'gemm')
         call check(close2(c, ref, 3 * tol), 'gemm = loops')
         ! Transposed operands give the same product.
         call check(pel_gemm(at, bt, c, PEL_TRANS, PEL_TRANS) == PEL_OK, 'gemm trans')
         ref = 0
         call gemm_reference(a, b, ref, .false., .false., 1.0_c_double, 0.0_c_double)
         call check(close2(c, ref, tol), 'gemm with transposes = loops')
         ! beta = 0: c is not read, so NaN does not leak.
         c = ieee_nan()
         status = pel_gemm(a, b, c)
         call check(status == PEL_OK .and. close2(c, ref, tol), 'beta = 0 ignores NaN in c')
         ! c a block of a larger array: in place with its leading dimension;
         ! the rest of the array is untouched.
         call fill2(big)
         big_ref = big
         call gemm_reference(a, b, big_ref(2:8, 3:8), .false., .false., 1.0_c_double, 1.0_c_double)
         call check(pel_gemm(a, b, big(2:8, 3:8), beta=1.0_c_double) == PEL_OK, 'gemm on a section')
         call check(close2(big, big_ref, 2 * tol), 'section result and untouched surroundings')
         ! a with non-unit row stride: copied, same result.
         wide = 0
         wide(1:14:2, :) = a
         status = pel_gemm(wide(1:14:2, :), b, c)
         call check(status == PEL_OK .and. close2(c, ref, tol), 'strided rows copied')
      end do
      ! Shapes that do not conform: refused, c untouched, message.
      c_saved = c
      call check(pel_gemm(a, bt, c) == PEL_ERROR_INVALID_ARGUMENT, 'nonconforming refused')
      call check(pel_last_error() == 'pel_gemm: shapes do not conform: op(a) is 7x5, op(b) is 6x5, c is 7x6', &
                 'gemm shape message: '//pel_last_error())
      call check(all(c == c_saved), 'c untouched on error')
      ! A C-side error comes through: an unknown transpose.
      call check(pel_gemm(a, b, c, transa=7_c_int) /= PEL_OK, 'unknown transpose refused')
      call check(index(pel_last_error(), 'pel_') == 1, 'C message for a bad transpose')
      call check(all(c == c_saved), 'c untouched on C error')
      ! The raw C binding, column-major by hand.
      status = pel_dgemm(PEL_COL_MAJOR, PEL_NO_TRANS, PEL_NO_TRANS, 7_c_size_t, 6_c_size_t, 5_c_size_t, 1.0_c_double, &
                         c_loc_d(a), 7_c_size_t, c_loc_d(b), 5_c_size_t, 0.0_c_double, c_loc_d(c), 7_c_size_t)
      call check(status == PEL_OK .and. close2(c, ref, tol), 'raw pel_dgemm')
   end subroutine test_gemm

   function c_loc_d(a) result(p)
      real(c_double), intent(in), target :: a(:, :)
      type(c_ptr) :: p
      p = c_loc(a(1, 1))
   end function c_loc_d

   real(c_double) function ieee_nan()
      use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
      ieee_nan = ieee_value(1.0_c_double, ieee_quiet_nan)
   end function ieee_nan

   subroutine test_gemm_batch()
      integer, parameter :: nb = 37
      real(c_double) :: a(4, 3, nb), b(3, 5, nb), c(4, 5, nb), ref(4, 5, nb), shared_b(3, 5, 1)
      real(c_double) :: flat(60 * nb)
      integer :: i, threads
      real(c_double), parameter :: tol = 3 * 4 * eps

      call fill(flat(1:12 * nb))
      a = reshape(flat(1:12 * nb), shape(a))
      call fill(flat(1:15 * nb))
      b = reshape(flat(1:15 * nb), shape(b))
      shared_b(:, :, 1) = b(:, :, 1)
      do threads = 1, 3
         call set_threads(threads)
         c = 0
         call check(pel_gemm_batch(a, b, c, alpha=2.0_c_double) == PEL_OK, 'gemm_batch')
         do i = 1, nb
            ref(:, :, i) = 0
            call gemm_reference(a(:, :, i), b(:, :, i), ref(:, :, i), .false., .false., 2.0_c_double, 0.0_c_double)
         end do
         call check(all(abs(c - ref) <= tol), 'gemm_batch = loops')
         call check(pel_gemm_batch(a, shared_b, c) == PEL_OK, 'gemm_batch with a shared b')
         do i = 1, nb
            ref(:, :, i) = 0
            call gemm_reference(a(:, :, i), b(:, :, 1), ref(:, :, i), .false., .false., 1.0_c_double, 0.0_c_double)
         end do
         call check(all(abs(c - ref) <= tol), 'shared b = loops')
      end do
      call check(pel_gemm_batch(a, b(:, :, 1:2), c) == PEL_ERROR_INVALID_ARGUMENT, 'batch size mismatch')
      call check(index(pel_last_error(), 'pel_gemm_batch: size(a,3)=37 and size(b,3)=2') == 1, 'batch message')
   end subroutine test_gemm_batch

   subroutine test_solves()
      integer, parameter :: n = 9
      real(c_double) :: a(n, n), spd(n, n), x_true(n, 2), b(n, 2), b_saved(n, 2), v(n), singular(3, 3), w(3)
      integer :: i

      call fill2(a)
      do i = 1, n
         a(i, i) = a(i, i) + n   ! diagonally dominant: well conditioned
      end do
      call fill2(x_true)
      b = matmul(a, x_true)
      call check(pel_gesv(a, b) == PEL_OK, 'gesv')
      ! Condition number below ~3 here, so the error is a few eps.
      call check(all(abs(b - x_true) <= 1e-13_c_double), 'gesv solution')
      v = matmul(a, x_true(:, 1))
      status = pel_gesv(a, v)
      call check(status == PEL_OK .and. all(abs(v - x_true(:, 1)) <= 1e-13_c_double), 'gesv vector')
      spd = matmul(transpose(a), a)
      b = matmul(spd, x_true)
      call check(pel_posv(spd, b) == PEL_OK, 'posv')
      call check(all(abs(b - x_true) <= 1e-12_c_double), 'posv solution')
      b = matmul(spd, x_true)
      status = pel_posv(spd, b, PEL_UPPER)
      call check(status == PEL_OK .and. all(abs(b - x_true) <= 1e-12_c_double), 'posv upper')
      ! A singular matrix: PEL_ERROR_SINGULAR, b unchanged.
      singular = reshape([1, 3, 5, 2, 4, 6, 0, 0, 0], [3, 3])   ! a zero column: U(3,3) = 0 exactly
      w = [1, 2, 3]
      call check(pel_gesv(singular, w) == PEL_ERROR_SINGULAR, 'singular refused')
      call check(all(w == [1, 2, 3]), 'b unchanged when singular')
      b_saved = b
      call check(pel_gesv(a(1:n - 1, :), b) == PEL_ERROR_INVALID_ARGUMENT, 'non-square refused')
      call check(index(pel_last_error(), 'pel_gesv: a is 8x9') == 1, 'non-square message')
      call check(all(b == b_saved), 'b untouched')
      call check(pel_posv(-spd, b) == PEL_ERROR_NOT_POSITIVE_DEFINITE, 'not positive definite')
   end subroutine test_solves

   subroutine test_vectors()
      integer, parameter :: n = 10001, third = 3334   ! size(y(1:n:3))
      real(c_double), allocatable :: x(:), y(:), y_ref(:)
      real(c_double) :: dot, nrm, ref
      integer :: i, threads

      allocate (x(n), y(n), y_ref(n))
      call fill(x)
      call fill(y)
      do threads = 1, 3
         call set_threads(threads)
         call check(pel_dot(x, y, dot) == PEL_OK, 'dot')
         ref = 0
         do i = 1, n
            ref = ref + x(i) * y(i)
         end do
         ! Bound of pel/matrix.h: (512 + log2 n) eps sum|x y| <= 530 eps n.
         call check(abs(dot - ref) <= 1060 * eps * n, 'dot = loop')
         call check(pel_dot(x(1:n:2), y(n:1:-2), dot) == PEL_OK, 'dot on strided and reversed sections')
         ref = 0
         do i = 1, (n + 1) / 2
            ref = ref + x(2 * i - 1) * y(n + 2 - 2 * i)
         end do
         call check(abs(dot - ref) <= 1060 * eps * n, 'sections dot = loop')
         status = pel_nrm2(x, nrm)
         call check(status == PEL_OK .and. abs(nrm - sqrt(sum(x**2))) <= 1e-12_c_double * nrm, 'nrm2')
         y_ref = y
         y_ref(1:n:3) = y_ref(1:n:3) + 0.25_c_double * x(1:third)
         call check(pel_axpy(0.25_c_double, x(1:third), y(1:n:3)) == PEL_OK, 'axpy on a section')
         call check(all(y == y_ref), 'axpy exact (one rounding per element)')
         call fill(y)
      end do
      call check(pel_dot(x, y(1:5), dot) == PEL_ERROR_INVALID_ARGUMENT, 'dot size mismatch')
   end subroutine test_vectors

   ! ------------------------------------------------------------ fft

   ! Naive 2-D DFT with sign -1 (forward) or +1 (backward), unscaled.
   subroutine dft2(x, y, sign)
      complex(c_double_complex), intent(in) :: x(:, :)
      complex(c_double_complex), intent(out) :: y(:, :)
      integer, intent(in) :: sign
      integer :: k1, k2, j1, j2, n1, n2
      complex(c_double_complex) :: s
      n1 = size(x, 1)
      n2 = size(x, 2)
      do k2 = 0, n2 - 1
         do k1 = 0, n1 - 1
            s = 0
            do j2 = 0, n2 - 1
               do j1 = 0, n1 - 1
                  s = s + x(j1 + 1, j2 + 1) * exp(cmplx(0, sign * 2 * pi * (real(mod(j1 * k1, n1), c_double) / n1 + &
                                                   real(mod(j2 * k2, n2), c_double) / n2), c_double_complex))
               end do
            end do
            y(k1 + 1, k2 + 1) = s
         end do
      end do
   end subroutine dft2

   subroutine test_fft()
      integer, parameter :: n1 = 6, n2 = 5
      complex(c_double_complex) :: x(n1, n2), y(n1, n2), ref(n1, n2), z(n1, n2), batch(8, 3), batch_out(8, 3)
      complex(c_double_complex) :: half(n1 / 2 + 1, n2), bad(n1, n2 + 1), ref1(8, 1)
      real(c_double) :: re(n1, n2), im(n1, n2), back(n1, n2), tol
      integer :: j, threads

      call fill2(re)
      call fill2(im)
      x = cmplx(re, im, c_double_complex)
      call dft2(x, ref, -1)
      ! FFT error ~ eps log N * sum|x|; the naive DFT's is ~ eps N.
      tol = 64 * eps * sum(abs(x))
      do threads = 1, 2
         call set_threads(threads)
         call check(pel_fft(x, y, PEL_FFT_FORWARD) == PEL_OK, 'fft 2-D')
         call check(all(abs(y - ref) <= tol), 'fft 2-D = naive DFT')
         z = x
         status = pel_fft_inplace(z, PEL_FFT_FORWARD)
         call check(status == PEL_OK .and. all(abs(z - ref) <= tol), 'fft in place')
         status = pel_fft(y, z, PEL_FFT_BACKWARD)
         call check(status == PEL_OK .and. all(abs(z - x) <= tol), 'backward / N returns the input')
         status = pel_fft(x, y, PEL_FFT_FORWARD, PEL_FFT_NORM_ORTHO)
         call check(status == PEL_OK .and. all(abs(y - ref / sqrt(real(n1 * n2, c_double))) <= tol), 'ortho norm')
         ! A batch of 1-D transforms along the first axis (ndim = 1).
         batch = cmplx(reshape([(real(j, c_double) * 0.37_c_double, j = 1, 24)], [8, 3]), 0.5_c_double, &
                       c_double_complex)
         call check(pel_fft(batch, batch_out, PEL_FFT_FORWARD, ndim=1) == PEL_OK, 'batched 1-D fft')
         do j = 1, 3
            call dft2(batch(:, j:j), ref1, -1)   ! a 2-D DFT with n2 = 1 is a 1-D DFT
            call check(all(abs(batch_out(:, j) - ref1(:, 1)) <= 64 * eps * sum(abs(batch))), 'batch column = DFT')
         end do
         call dft2(x, ref, -1)
         ! r2c: the first n1/2+1 rows of the complex transform of a real array.
         call check(pel_rfft(re, half) == PEL_OK, 'rfft')
         call dft2(cmplx(re, 0, c_double_complex), z, -1)
         call check(all(abs(half - z(1:n1 / 2 + 1, :)) <= 64 * eps * sum(abs(re))), 'rfft = half of the DFT')
         status = pel_irfft(half, back)
         call check(status == PEL_OK .and. all(abs(back - re) <= 64 * eps * sum(abs(re))), 'irfft(rfft(x)) = x')
      end do
      call check(pel_fft(x, bad, PEL_FFT_FORWARD) == PEL_ERROR_INVALID_ARGUMENT, 'fft shape mismatch')
      call check(pel_last_error() == 'pel_fft: x and y have different shapes', 'fft message: '//pel_last_error())
      call check(pel_fft(x, y, PEL_FFT_FORWARD, ndim=3) == PEL_ERROR_INVALID_ARGUMENT, 'ndim too large')
      call check(pel_rfft(re, z) == PEL_ERROR_INVALID_ARGUMENT, 'rfft shape mismatch')
      call check(pel_fft(x, y, 5_c_int) /= PEL_OK, 'bad direction refused by C')
   end subroutine test_fft

   subroutine test_convolve()
      real(c_double) :: a(7), b(3), full(9), same(7), a2(6, 5), k2(3, 2), full2(8, 6), ref2(8, 6)
      integer :: i, j, p, q

      call fill(a)
      call fill(b)
      call check(pel_fft_convolve(a, b, full, PEL_FFT_CONVOLVE_FULL) == PEL_OK, 'convolve 1-D full')
      do i = 1, 9
         full(i) = full(i) - sum([(a(j) * b(i - j + 1), j = max(1, i - 2), min(7, i))])
      end do
      call check(all(abs(full) <= 1e-14_c_double), 'full convolution = loops')
      call check(pel_fft_convolve(a, b, same, PEL_FFT_CONVOLVE_SAME) == PEL_OK, 'convolve 1-D same')
      ! scipy's "same": the centre of the full result, starting at (nb-1)/2.
      do i = 1, 7
         same(i) = same(i) - sum([(a(j) * b(i + 1 - j + 1), j = max(1, i + 1 - 2), min(7, i + 1))])
      end do
      call check(all(abs(same) <= 1e-14_c_double), 'same convolution = loops')
      call fill2(a2)
      call fill2(k2)
      call check(pel_fft_convolve(a2, k2, full2, PEL_FFT_CONVOLVE_FULL) == PEL_OK, 'convolve 2-D')
      ref2 = 0
      do j = 1, 5
         do i = 1, 6
            do q = 1, 2
               do p = 1, 3
                  ref2(i + p - 1, j + q - 1) = ref2(i + p - 1, j + q - 1) + a2(i, j) * k2(p, q)
               end do
            end do
         end do
      end do
      call check(all(abs(full2 - ref2) <= 1e-13_c_double), '2-D convolution = loops')
      call check(pel_fft_convolve(a2, k2, full2(1:7, :), PEL_FFT_CONVOLVE_FULL) == PEL_ERROR_INVALID_ARGUMENT, &
                 'wrong output shape refused')
   end subroutine test_convolve

   ! ------------------------------------------------------------ stencil

   ! Value of the 2-D grid at (i, j) with the test's boundary conditions:
   ! axis 1 Dirichlet (lo below, hi above), axis 2 periodic.
   real(c_double) function at(u, i, j, lo, hi)
      real(c_double), intent(in) :: u(:, :), lo, hi
      integer, intent(in) :: i, j
      integer :: jj
      jj = modulo(j - 1, size(u, 2)) + 1
      if (i < 1) then
         at = lo
      else if (i > size(u, 1)) then
         at = hi
      else
         at = u(i, jj)
      end if
   end function at

   ! The factored variable-coefficient form (nearest faces) and the
   ! two-level form (mirror faces) on a 1-D grid against plain loops in the
   ! documented order of operations.
   subroutine test_stencil_forms()
      integer, parameter :: n = 23, steps = 4
      real(c_double) :: c(3), u(n), ref(n), next(n), prev(n), cur(n), rprev(n), rcur(n), a(n), b(n), g(n), s
      real(c_double) :: e(0:n + 1)
      type(pel_boundary) :: nearest(2), mirror(2)
      type(c_ptr) :: st
      integer :: i, k, threads

      c = [0.25_c_double, 0.4375_c_double, 0.3125_c_double]
      call fill(u)
      call fill(a)
      call fill(b)
      call fill(g)
      a = 0.75_c_double + 0.2_c_double * a
      b = 0.1_c_double * b
      g = 0.05_c_double + 0.01_c_double * g
      nearest = pel_boundary(PEL_BOUNDARY_NEAREST, 0.0_c_double)
      mirror = pel_boundary(PEL_BOUNDARY_MIRROR, 0.0_c_double)
      st = c_null_ptr
      call check(pel_stencil_create(PEL_FLOAT64, 1, PEL_STENCIL_STAR, 1, c, st) == PEL_OK, 'create 1-D stencil')
      ref = u
      do k = 1, steps
         e(1:n) = ref
         e(0) = ref(1)
         e(n + 1) = ref(n)
         do i = 1, n
            s = c(1) * e(i - 1)
            s = s + c(2) * e(i)
            s = s + c(3) * e(i + 1)
            next(i) = a(i) * s + b(i) * ref(i)
         end do
         ref = next
      end do
      call fill(prev)
      call fill(cur)
      rprev = prev
      rcur = cur
      do k = 1, steps
         e(1:n) = rcur
         e(0) = rcur(2)
         e(n + 1) = rcur(n - 1)
         do i = 1, n
            s = c(1) * e(i - 1)
            s = s + c(2) * e(i)
            s = s + c(3) * e(i + 1)
            next(i) = (2.0_c_double * rcur(i) + (-1.0_c_double) * rprev(i)) + g(i) * s
         end do
         rprev = rcur
         rcur = next
      end do
      do threads = 1, 3, 2
         call set_threads(threads)
         next = u
         call check(pel_stencil_apply_factored(st, next, nearest, steps, scale=a, center=b) == PEL_OK, &
                    'apply_factored')
         call check(all(next == ref), 'factored form bit-identical to the Fortran loop')
         e(1:n) = prev
         next = cur
         call check(pel_stencil_apply_wave(st, e(1:n), next, mirror, steps, 2.0_c_double, -1.0_c_double, g) &
                    == PEL_OK, 'apply_wave')
         call check(all(next == rcur) .and. all(e(1:n) == rprev), 'two-level form bit-identical to the Fortran loop')
      end do
      call check(pel_stencil_apply_wave(st, prev, cur(1:5), mirror, 1, 2.0_c_double, -1.0_c_double) == &
                 PEL_ERROR_INVALID_ARGUMENT, 'apply_wave refuses mismatched shapes')
      ! The FMA order: acc = c1*u(i-1); acc = fma(c2, u(i), acc); ... against
      ! a loop calling libm's fma (one rounding per fused operation).
      block
         type(c_ptr) :: fused
         type(c_ptr) :: fields(2)
         type(pel_stencil_term) :: terms(2)
         real(c_double), target :: f1(n), f2(n)
         integer(c_size_t) :: dims1(1)
         fused = c_null_ptr
         call check(pel_stencil_create_fma_c(PEL_FLOAT64, 1, PEL_STENCIL_STAR, 1, c, 3_c_size_t, 0, 0.0_c_double, &
                                             fused) == PEL_OK, 'create_fma')
         ref = u
         do k = 1, steps
            e(1:n) = ref
            e(0) = ref(1)
            e(n + 1) = ref(n)
            do i = 1, n
               s = c(1) * e(i - 1)
               s = c_fma(c(2), e(i), s)
               s = c_fma(c(3), e(i + 1), s)
               next(i) = s
            end do
            ref = next
         end do
         next = u
         call check(pel_stencil_apply(fused, next, nearest, steps) == PEL_OK, 'apply fma stencil')
         call check(all(next == ref), 'FMA order bit-identical to a loop with fma')
         ! A coupled pair: field 0 <- S u0 + S u1, field 1 <- S u1 (C indices).
         f1 = u
         f2 = a
         terms(1) = pel_stencil_term(0, 0, st, c_null_ptr)
         terms(2) = pel_stencil_term(0, 1, st, c_null_ptr)
         fields = [c_loc(f1), c_loc(f2)]
         dims1 = int(n, c_size_t)
         call check(pel_stencil_system_apply_c(2, terms, 2_c_size_t, dims1, nearest, fields, c_null_ptr, 1_c_size_t, &
                                               c_null_ptr) == PEL_ERROR_INVALID_ARGUMENT, 'system: field 1 without a term')
         call pel_stencil_destroy(fused)
      end block
      call pel_stencil_destroy(st)
   end subroutine test_stencil_forms

   subroutine test_stencil()
      integer, parameter :: n1 = 9, n2 = 7, steps = 3
      real(c_double) :: coefficients(-1:1, -1:1), u(n1, n2), ref(n1, n2), next(n1, n2), initial(n1, n2), acc
      real(c_double) :: first(n1, n2), lap(n1, n2), rhs(n1, n2)
      type(pel_boundary) :: faces(4), neumann(4)
      type(c_ptr) :: box, laplacian, with_rhs, refused
      integer :: i, j, di, dj, s, threads, precision, ndim, radius
      integer(c_size_t) :: npoints
      logical :: first_bits

      call fill(coefficients(:, -1))
      call fill(coefficients(:, 0))
      call fill(coefficients(:, 1))
      coefficients = coefficients * 0.3_c_double
      call fill2(initial)
      faces(1) = pel_boundary(PEL_BOUNDARY_DIRICHLET, 0.5_c_double)
      faces(2) = pel_boundary(PEL_BOUNDARY_DIRICHLET, -0.25_c_double)
      faces(3) = pel_boundary(PEL_BOUNDARY_PERIODIC, 0.0_c_double)
      faces(4) = pel_boundary(PEL_BOUNDARY_PERIODIC, 0.0_c_double)
      box = c_null_ptr
      call check(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_BOX, 1, reshape(coefficients, [9]), box) == PEL_OK, &
                 'create box stencil')
      status = pel_stencil_info(box, precision, ndim, radius, npoints)
      call check(status == PEL_OK .and. precision == PEL_FLOAT64 .and. ndim == 2 .and. radius == 1 &
                 .and. npoints == 9, 'stencil info')
      ! Reference: the documented order of terms, offsets in column-major
      ! order (axis 1 fastest), one rounding per product and per sum.
      ref = initial
      do s = 1, steps
         do j = 1, n2
            do i = 1, n1
               acc = coefficients(-1, -1) * at(ref, i - 1, j - 1, 0.5_c_double, -0.25_c_double)
               do dj = -1, 1
                  do di = -1, 1
                     if (di == -1 .and. dj == -1) cycle
                     acc = acc + coefficients(di, dj) * at(ref, i + di, j + dj, 0.5_c_double, -0.25_c_double)
                  end do
               end do
               next(i, j) = acc
            end do
         end do
         ref = next
      end do
      first_bits = .true.
      do threads = 1, 3
         call set_threads(threads)
         u = initial
         call check(pel_stencil_apply(box, u, faces, steps) == PEL_OK, 'apply box stencil')
         call check(all(u == ref), 'box stencil bit-identical to the Fortran loop')
         if (threads == 1) first = u
         first_bits = first_bits .and. all(u == first)
      end do
      call check(first_bits, 'same bits for 1..3 threads')

      ! The 5-point Laplacian (spacing 1: exact coefficients) with Neumann
      ! below and Dirichlet above on axis 1, periodic on axis 2, and a rhs.
      neumann = faces
      neumann(1) = pel_boundary(PEL_BOUNDARY_NEUMANN, 0.0_c_double)
      laplacian = c_null_ptr
      call check(pel_stencil_create_laplacian(PEL_FLOAT64, 2, 5, 1.0_c_double, laplacian) == PEL_OK, 'laplacian')
      u = initial
      call check(pel_stencil_apply(laplacian, u, neumann, 1) == PEL_OK, 'apply laplacian')
      do j = 1, n2
         do i = 1, n1
            ! Star points in column-major offset order: (0,-1) (-1,0) (0,0) (1,0) (0,1).
            lap(i, j) = at(initial, i, j - 1, 0.0_c_double, -0.25_c_double)
            if (i == 1) then
               lap(i, j) = lap(i, j) + initial(1, j)   ! Neumann mirror: u(0) = u(1)
            else
               lap(i, j) = lap(i, j) + initial(i - 1, j)
            end if
            lap(i, j) = lap(i, j) + (-4) * initial(i, j)
            lap(i, j) = lap(i, j) + at(initial, i + 1, j, 0.0_c_double, -0.25_c_double)
            lap(i, j) = lap(i, j) + at(initial, i, j + 1, 0.0_c_double, -0.25_c_double)
         end do
      end do
      call check(all(u == lap), 'laplacian with Neumann/Dirichlet/periodic faces bit-identical')

      with_rhs = c_null_ptr
      call check(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, [0.0_c_double, 0.25_c_double, 0.0_c_double, &
                                    0.25_c_double, 0.0_c_double], with_rhs, rhs_weight=2.0_c_double) == PEL_OK, &
                 'stencil with rhs')
      call fill2(rhs)
      u = initial
      call check(pel_stencil_apply(with_rhs, u, faces, 1, rhs) == PEL_OK, 'apply with rhs')
      do j = 1, n2
         do i = 1, n1
            ! Terms in order; zero coefficients still add their (zero) products.
            acc = 0.0_c_double * at(initial, i, j - 1, 0.5_c_double, -0.25_c_double)
            acc = acc + 0.25_c_double * at(initial, i - 1, j, 0.5_c_double, -0.25_c_double)
            acc = acc + 0.0_c_double * initial(i, j)
            acc = acc + 0.25_c_double * at(initial, i + 1, j, 0.5_c_double, -0.25_c_double)
            acc = acc + 0.0_c_double * at(initial, i, j + 1, 0.5_c_double, -0.25_c_double)
            next(i, j) = acc + 2.0_c_double * rhs(i, j)
         end do
      end do
      call check(all(u == next), 'rhs term bit-identical')

      ! Wrapper-side errors: wrong rank, wrong face count, missing grid shape.
      u = initial
      call check(pel_stencil_apply(box, u(:, 1), faces(1:2), 1) == PEL_ERROR_INVALID_ARGUMENT, 'rank mismatch refused')
      call check(index(pel_last_error(), 'pel_stencil_apply: a 2-D double stencil') == 1, 'apply message')
      call check(pel_stencil_apply(box, u, faces(1:3), 1) == PEL_ERROR_INVALID_ARGUMENT, 'face count refused')
      call check(pel_stencil_apply(with_rhs, u, faces, 1, rhs(1:3, :)) == PEL_ERROR_INVALID_ARGUMENT, 'rhs shape')
      call check(all(u == initial), 'grid untouched on error')
      ! A C-side error: periodic on one face only.
      neumann(4) = pel_boundary(PEL_BOUNDARY_DIRICHLET, 0.0_c_double)
      call check(pel_stencil_apply(box, u, neumann, 1) == PEL_ERROR_INVALID_ARGUMENT, 'one-sided periodic refused')
      call check(index(pel_last_error(), 'pel_stencil_apply') == 1, 'C message for faces')
      ! A separate handle: the failing call must not cost us the live one.
      refused = c_null_ptr
      call check(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_BOX, 1, [1.0_c_double], refused) &
                 == PEL_ERROR_INVALID_ARGUMENT, 'wrong coefficient count refused')
      call check(.not. c_associated(refused), 'no stencil made on error')
      call pel_stencil_destroy(box)
      call pel_stencil_destroy(laplacian)
      call pel_stencil_destroy(with_rhs)
      call pel_stencil_destroy(c_null_ptr)
   end subroutine test_stencil

   subroutine test_jacobi()
      integer, parameter :: n1 = 15, n2 = 11
      real(c_double) :: u(n1, n2), f(n1, n2), exact(n1, n2), h(2), residual, lap, worst, fmax
      type(pel_boundary) :: faces(4)
      integer :: i, j, iterations

      h = [1.0_c_double / (n1 + 1), 1.0_c_double / (n2 + 1)]
      do j = 1, n2
         do i = 1, n1
            exact(i, j) = sin(pi * i * h(1)) * sin(pi * j * h(2))
         end do
      end do
      f = 2 * pi**2 * exact
      faces = pel_boundary(PEL_BOUNDARY_DIRICHLET, 0.0_c_double)
      u = 0
      call set_threads(2)
      call check(pel_stencil_jacobi_poisson(u, f, h, faces, 1e-9_c_double, 20000, iterations=iterations, &
                                            residual=residual) == PEL_OK, 'jacobi converges')
      call check(iterations > 0 .and. residual <= 1e-9_c_double, 'iterations and residual reported')
      ! Independent residual check with a Fortran loop (different axis
      ! spacings, so a swapped axis would show).
      worst = 0
      fmax = maxval(abs(f))
      do j = 1, n2
         do i = 1, n1
            lap = (at0(u, i - 1, j) - 2 * u(i, j) + at0(u, i + 1, j)) / h(1)**2 + &
                  (at0(u, i, j - 1) - 2 * u(i, j) + at0(u, i, j + 1)) / h(2)**2
            worst = max(worst, abs(f(i, j) + lap))
         end do
      end do
      call check(worst / fmax <= 1e-8_c_double, 'Fortran residual of the solution')
      ! The discrete solution is within O(h^2) of sin(pi x) sin(pi y).
      call check(maxval(abs(u - exact)) <= 0.01_c_double, 'close to the analytic solution')
      u = 0
      call check(pel_stencil_jacobi_poisson(u, f, h, faces, 1e-12_c_double, 5) == PEL_ERROR_NOT_CONVERGED, &
                 'not converged after 5 steps')
      call check(pel_stencil_jacobi_poisson(u, f(1:3, :), h, faces, 1e-9_c_double, 10) == PEL_ERROR_INVALID_ARGUMENT, &
                 'f shape refused')
      status = pel_set_num_threads(0)
      call check(status == PEL_OK .and. pel_set_min_work_per_thread(0) == PEL_OK, 'reset')
   end subroutine test_jacobi

   real(c_double) function at0(u, i, j)
      real(c_double), intent(in) :: u(:, :)
      integer, intent(in) :: i, j
      at0 = 0
      if (i >= 1 .and. i <= size(u, 1) .and. j >= 1 .and. j <= size(u, 2)) at0 = u(i, j)
   end function at0

   ! ------------------------------------------------------------ sparse

   subroutine test_csr()
      ! A 4 x 5 matrix, one-based, with an unsorted row, an empty row and a
      ! duplicate (summed):
      !   [ 1 0 2 0 0 ]
      !   [ 0 0 0 0 0 ]
      !   [ 0 3 0 4 5 ]
      !   [ 6 0 0 0 7 ]   (7 = 3 + 4, given twice)
      integer :: row_ptr(5) = [1, 3, 3, 6, 9]
      integer :: col_idx(8) = [3, 1, 5, 2, 4, 1, 5, 5]
      real(c_double) :: values(8) = [2, 1, 5, 3, 4, 6, 3, 4]
      real(c_double) :: dense(4, 5), x(5), y(4), ref(4), y_saved(4)
      type(c_ptr) :: matrix
      integer :: threads

      dense = 0
      dense(1, 1) = 1
      dense(1, 3) = 2
      dense(3, 2) = 3
      dense(3, 4) = 4
      dense(3, 5) = 5
      dense(4, 1) = 6
      dense(4, 5) = 7
      matrix = c_null_ptr
      call check(pel_csr_create(4, 5, row_ptr, col_idx, values, matrix) == PEL_OK, 'csr create (one-based)')
      call check(pel_csr_rows(matrix) == 4 .and. pel_csr_cols(matrix) == 5 .and. pel_csr_nnz(matrix) == 7, &
                 'csr sizes, duplicate summed')
      call fill(x)
      do threads = 1, 3
         call set_threads(threads)
         call fill(y)
         ref = 2 * matmul(dense, x) - 0.5_c_double * y
         call check(pel_csr_spmv(matrix, x, y, 2.0_c_double, -0.5_c_double) == PEL_OK, 'spmv')
         call check(all(abs(y - ref) <= 1e-14_c_double), 'spmv = dense loop')
      end do
      y_saved = y
      call check(pel_csr_spmv(matrix, x(1:4), y) == PEL_ERROR_INVALID_ARGUMENT, 'x size refused')
      call check(index(pel_last_error(), 'pel_csr_spmv: the matrix is 4x5 (double) but size(x)=4') == 1, &
                 'spmv message: '//pel_last_error())
      call check(all(y == y_saved), 'y untouched')
      call pel_csr_destroy(matrix)
      matrix = c_null_ptr
      row_ptr(1) = 0
      call check(pel_csr_create(4, 5, row_ptr, col_idx, values, matrix) == PEL_ERROR_INVALID_ARGUMENT, &
                 'zero-based row_ptr refused')
      call check(pel_last_error() == 'pel_csr_create: row_ptr(1)=0 must be 1 (one-based indices)', 'csr message')
      row_ptr(1) = 1
      col_idx(2) = 6
      call check(pel_csr_create(4, 5, row_ptr, col_idx, values, matrix) == PEL_ERROR_INVALID_ARGUMENT, &
                 'column out of range refused by C')
      call check(.not. c_associated(matrix), 'no matrix on error')
      call check(pel_csr_create(4, 5, row_ptr(1:4), col_idx, values, matrix) == PEL_ERROR_INVALID_ARGUMENT, &
                 'row_ptr size refused')
      call pel_csr_destroy(c_null_ptr)
   end subroutine test_csr
end program test_layers
