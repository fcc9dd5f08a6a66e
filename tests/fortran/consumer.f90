! A Fortran program outside the tree, built against the installed library by
! tests/fortran/install_check.sh with `pkg-config --cflags --libs pel-fortran`.
program consumer
   use, intrinsic :: iso_c_binding
   use pel
   implicit none
   real(c_double) :: x(1000), total
   integer :: i

   x = [(real(i, c_double), i = 1, size(x))]
   if (pel_reduce_sum(x, total) /= PEL_OK) error stop 'pel_reduce_sum failed: '//pel_last_error()
   if (total /= 500500) error stop 'wrong sum'
   print '(a,a,a)', 'Fortran consumer: pel ', pel_version(), ' reduce_sum ok'
end program consumer
