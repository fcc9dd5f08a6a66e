! Example: the 2-D heat equation from Fortran with `use pel`.
!
! The same problem as examples/heat2d.c, written the way a Fortran code
! would: the field is a Fortran array u(nx, ny) (column-major), the boundary
! conditions are given per Fortran axis, and pel_stencil_apply runs all the
! time steps in place, bit-identical to the plain Fortran loop, which this
! program also runs to check it. It writes heat2d_fortran.pgm.
!
! u_new = u + r * (5-point Laplacian of u), r = kappa*dt/h^2 <= 1/4. The
! edge x = 0 (i = 0) is held at 1, the other edges at 0; a hot square in
! the middle cools down.
!
! Usage: heat2d_fortran [n [steps]]   (defaults 96, 600)
program heat2d_fortran
   use, intrinsic :: iso_c_binding
   use pel
   implicit none

   real(c_double), parameter :: r = 0.24_c_double
   integer :: n = 96, steps = 600, i, j, s
   character(len=32) :: argument
   real(c_double), allocatable :: u(:, :), v(:, :), next(:, :)
   type(pel_boundary) :: faces(4)
   type(c_ptr) :: stencil
   real(c_double) :: t0, seconds

   if (command_argument_count() >= 1) then
      call get_command_argument(1, argument)
      read (argument, *) n
   end if
   if (command_argument_count() >= 2) then
      call get_command_argument(2, argument)
      read (argument, *) steps
   end if
   if (n < 4 .or. steps < 1) error stop 'usage: heat2d_fortran [n >= 4 [steps >= 1]]'

   allocate (u(n, n), v(n, n), next(n, n))
   u = 0
   u(3 * n / 8 + 1:5 * n / 8, 3 * n / 8 + 1:5 * n / 8) = 1
   v = u

   ! Coefficients in the column-major order of the offsets (axis 1 fastest):
   ! (0,-1) (-1,0) (0,0) (1,0) (0,1); the 5-point star is symmetric anyway.
   stencil = c_null_ptr
   call check(pel_stencil_create(PEL_FLOAT64, 2, PEL_STENCIL_STAR, 1, [r, r, 1 - 4 * r, r, r], stencil), &
              'pel_stencil_create')
   ! Faces per Fortran axis: axis 1 (i) lower, upper; axis 2 (j) lower, upper.
   faces(1) = pel_boundary(PEL_BOUNDARY_DIRICHLET, 1.0_c_double)
   faces(2:4) = pel_boundary(PEL_BOUNDARY_DIRICHLET, 0.0_c_double)

   t0 = pel_wtime()
   call check(pel_stencil_apply(stencil, u, faces, steps), 'pel_stencil_apply')
   seconds = pel_wtime() - t0
   print '(a,i0,a,i0,a,i0,a,i0,a,f7.3,a)', 'heat2d_fortran: ', n, 'x', n, ' grid, ', steps, ' steps on ', &
      pel_get_num_threads(), ' threads in ', seconds, ' s'

   ! The same steps as a plain Fortran loop, terms in the stencil's order.
   do s = 1, steps
      do j = 1, n
         do i = 1, n
            next(i, j) = r * at(v, i, j - 1)
            next(i, j) = next(i, j) + r * at(v, i - 1, j)
            next(i, j) = next(i, j) + (1 - 4 * r) * v(i, j)
            next(i, j) = next(i, j) + r * at(v, i + 1, j)
            next(i, j) = next(i, j) + r * at(v, i, j + 1)
         end do
      end do
      v = next
   end do
   print '(a,es9.2,a,f6.4,a,f6.4,a)', 'largest difference from the Fortran loop: ', maxval(abs(u - v)), &
      '; temperature range [', minval(u), ', ', maxval(u), ']'
   call write_pgm('heat2d_fortran.pgm', u)
   call pel_stencil_destroy(stencil)
   if (maxval(abs(u - v)) /= 0 .or. minval(u) < 0 .or. maxval(u) > 1) error stop 'heat2d_fortran: wrong result'
   ! The main program's arrays are never freed automatically: free them, so
   ! leak checkers (CI's LeakSanitizer run) see a clean exit.
   deallocate (u, v, next)

contains

   subroutine check(code, what)
      integer(c_int), intent(in) :: code
      character(len=*), intent(in) :: what
      if (code /= PEL_OK) then
         print '(a)', 'heat2d_fortran: '//what//' failed: '//pel_last_error()
         error stop 1
      end if
   end subroutine check

   ! u(i, j) with the boundary values outside the grid.
   real(c_double) function at(field, i, j)
      real(c_double), intent(in) :: field(:, :)
      integer, intent(in) :: i, j
      if (i < 1) then
         at = 1
      else if (i > size(field, 1) .or. j < 1 .or. j > size(field, 2)) then
         at = 0
      else
         at = field(i, j)
      end if
   end function at

   ! An 8-bit binary PGM; rows of the image are j, columns i.
   subroutine write_pgm(path, field)
      character(len=*), intent(in) :: path
      real(c_double), intent(in) :: field(:, :)
      integer :: unit, jj
      character(len=32) :: header
      write (header, '(a,i0,1x,i0,a,a)') 'P5'//achar(10), size(field, 1), size(field, 2), achar(10)//'255', achar(10)
      open (newunit=unit, file=path, access='stream', form='unformatted', status='replace')
      write (unit) trim(header)
      do jj = 1, size(field, 2)
         write (unit) (achar(nint(255 * min(1.0_c_double, max(0.0_c_double, field(i, jj))))), i = 1, size(field, 1))
      end do
      close (unit)
      print '(a)', 'wrote '//path
   end subroutine write_pgm
end program heat2d_fortran
