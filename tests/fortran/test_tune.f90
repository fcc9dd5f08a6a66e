! Issue 16's machine model and wisdom file from Fortran: pel_machine_info
! through the BIND(C) type (the values against the bounds docs/tuning.md
! promises), and the wisdom wrappers: a round trip that exports the same
! text again, another machine's text ignored (applied = .false.), truncated
! and altered texts refused with PEL_ERROR_PARSE and nothing changed, files,
! a missing file, and the wrapper's own NUL check.
program test_tune
   use, intrinsic :: iso_c_binding
   use pel
   implicit none
   type(pel_machine) :: model, again
   character(len=:), allocatable :: text, second, foreign
   character(len=*), parameter :: path = 'test_tune_fortran.wisdom'
   integer(c_int) :: status
   logical :: applied
   integer :: level, failures, line_end, unit

   failures = 0

   ! ---------------------------------------------------------------- the model
   status = pel_machine_info(model)
   call expect_status('pel_machine_info', status, PEL_OK)
   call check(model%threads >= 1, 'model%threads >= 1')
   do level = 1, 3
      associate (c => model%cache(level))
         call check(c%bytes > 0, 'cache bytes > 0')
         call check(c%reported_bytes == 0 .or. c%bytes <= c%reported_bytes, &
                    'the effective size is never more than the reported one')
         call check(c%source >= PEL_MACHINE_DEFAULT .and. c%source <= PEL_MACHINE_MEASURED, 'cache source in range')
         call check(c%gbps >= 0, 'cache gbps >= 0')
      end associate
   end do
   call check(model%cache(2)%bytes >= model%cache(1)%bytes, 'L2 >= L1')
   call check(model%memory_gbps > 0 .and. model%memory_gbps < 20000, 'memory bandwidth in 0..20000 GB/s')
   call check(model%fma_gflops > 0, 'FMA rate > 0')
   call check(model%sweep_points >= 0 .and. model%sweep_points <= 32, 'sweep_points in 0..32')
   if (model%sweep_points > 0) &
      call check(all(model%sweep_point_bytes(1:model%sweep_points) > 0), 'sweep working sets > 0')
   status = pel_machine_info(again)
   call expect_status('pel_machine_info (again)', status, PEL_OK)
   call check(again%cache(3)%bytes == model%cache(3)%bytes .and. again%memory_gbps == model%memory_gbps, &
              'a second call returns the same model')
   call check(pel_machine_source_name(PEL_MACHINE_MEASURED) == 'measured', 'source name "measured"')
   call check(pel_machine_source_name(PEL_MACHINE_REPORTED) == 'reported', 'source name "reported"')
   call check(pel_machine_source_name(99_c_int) == 'unknown', 'source name of 99 is "unknown"')

   ! ---------------------------------------------------------------- wisdom text
   status = pel_wisdom_export(text)
   call expect_status('pel_wisdom_export', status, PEL_OK)
   call check(len(text) > 40, 'the wisdom text is not empty')
   if (len(text) > 12) call check(text(1:12) == 'pel-wisdom 1', 'the text starts with "pel-wisdom 1"')
   applied = .false.
   status = pel_wisdom_import(text, applied)
   call expect_status('pel_wisdom_import', status, PEL_OK)
   call check(applied, 'this machine''s text is applied')
   status = pel_wisdom_export(second)
   call expect_status('pel_wisdom_export (second)', status, PEL_OK)
   call check(second == text, 'the round trip exports the same text')

   ! Another machine's text: the fingerprint changed and the checksum redone.
   line_end = 13 + index(text(14:), new_line('a'))   ! the newline closing the fingerprint line
   foreign = with_checksum(text(1:line_end - 1)//' (another machine)'// &
                           text(line_end:index(text, 'checksum ', back=.true.) - 1))
   applied = .true.
   status = pel_wisdom_import(foreign, applied)
   call expect_status('pel_wisdom_import (foreign)', status, PEL_OK)
   call check(.not. applied, 'another machine''s text is ignored (applied = .false.)')
   call check(index(pel_last_error(), 'from another machine') > 0, 'the note says why: '//pel_last_error())

   ! Corrupt texts: refused, nothing written, nothing changed.
   applied = .true.
   status = pel_wisdom_import(text(1:len(text) / 2), applied)
   call expect_status('pel_wisdom_import (truncated)', status, PEL_ERROR_PARSE)
   call check(applied, 'applied is not written on error')
   call check(index(pel_last_error(), 'pel_wisdom_import') == 1, 'the message names pel_wisdom_import')
   second = text
   second(len(text) / 3:len(text) / 3) = merge('7', '8', text(len(text) / 3:len(text) / 3) /= '7')
   status = pel_wisdom_import(second)
   call expect_status('pel_wisdom_import (altered byte)', status, PEL_ERROR_PARSE)
   status = pel_wisdom_import('pel-wisdom 1'//c_null_char//'rest')
   call expect_status('pel_wisdom_import (NUL inside)', status, PEL_ERROR_INVALID_ARGUMENT)
   call check(index(pel_last_error(), 'pel_wisdom_import: text contains a NUL') == 1, &
              'the wrapper names the NUL: '//pel_last_error())
   status = pel_wisdom_export(second)
   call expect_status('pel_wisdom_export (after the refusals)', status, PEL_OK)
   call check(second == text, 'refused imports changed nothing')

   ! ---------------------------------------------------------------- files
   status = pel_wisdom_export_file(path)
   call expect_status('pel_wisdom_export_file', status, PEL_OK)
   applied = .false.
   status = pel_wisdom_import_file(path, applied)
   call expect_status('pel_wisdom_import_file', status, PEL_OK)
   call check(applied, 'the file is applied')
   open (newunit=unit, file=path, status='old')
   close (unit, status='delete')
   status = pel_wisdom_import_file(path, applied)
   call expect_status('pel_wisdom_import_file (missing)', status, PEL_ERROR_IO)
   status = pel_wisdom_export_file('no_such_directory_here/x.wisdom')
   call expect_status('pel_wisdom_export_file (bad directory)', status, PEL_ERROR_IO)

   ! The main program's allocatables live in MAIN__'s frame, which is gone
   ! when LeakSanitizer looks at exit: free them here.
   deallocate (text, second, foreign)
   print '(a,i0,a)', 'test_tune: ', failures, ' failures'
   if (failures > 0) stop 1

contains

   subroutine check(condition, what)
      logical, intent(in) :: condition
      character(len=*), intent(in) :: what
      if (.not. condition) then
         print '(2a)', 'FAILED: ', what
         failures = failures + 1
      end if
   end subroutine check

   subroutine expect_status(what, got, want)
      character(len=*), intent(in) :: what
      integer(c_int), intent(in) :: got, want
      if (got /= want) then
         print '(4a)', 'FAILED: ', what, ': ', pel_status_name(got)
         print '(2a)', '  expected ', pel_status_name(want)
         print '(2a)', '  message: ', pel_last_error()
         failures = failures + 1
      end if
   end subroutine expect_status

   ! body followed by its "checksum" line: FNV-1a 64 of every byte of body,
   ! computed in two 32-bit halves so that no Fortran integer overflows.
   function with_checksum(body) result(closed)
      character(len=*), intent(in) :: body
      character(len=:), allocatable :: closed
      integer(c_int64_t), parameter :: mask = int(z'FFFFFFFF', c_int64_t)
      integer(c_int64_t) :: lo, hi, t
      character(len=16) :: hex
      integer :: i
      ! The offset basis 0xcbf29ce484222325.
      hi = int(z'CBF29CE4', c_int64_t)
      lo = int(z'84222325', c_int64_t)
      do i = 1, len(body)
         lo = ieor(lo, int(iachar(body(i:i)), c_int64_t))
         ! times the prime 2^40 + 0x1b3
         t = lo * 435
         hi = iand(hi * 435 + ishft(t, -32) + ishft(lo, 8), mask)
         lo = iand(t, mask)
      end do
      write (hex, '(z8.8,z8.8)') hi, lo
      closed = body//'checksum '//lower(hex)//new_line('a')
   end function with_checksum

   function lower(text) result(out)
      character(len=*), intent(in) :: text
      character(len=len(text)) :: out
      integer :: i
      out = text
      do i = 1, len(text)
         if (text(i:i) >= 'A' .and. text(i:i) <= 'F') out(i:i) = achar(iachar(text(i:i)) + 32)
      end do
   end function lower
end program test_tune
