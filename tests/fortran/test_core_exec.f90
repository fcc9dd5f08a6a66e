! Tests of the Fortran module pel, core and exec parts: constants against the
! C library's names, strings, errors (library and wrapper side), threads,
! parallel_for, the reproducible sum on sections, a general reduction, the
! task runner and its plan. Exits nonzero when a check fails.
module test_core_exec_callbacks
   use, intrinsic :: iso_c_binding
   implicit none
   private

   !> What the loop and task callbacks count into (one slot per index).
   type, public :: visit_data
      integer, allocatable :: visits(:)
      integer(c_size_t) :: fail_at = -1_c_size_t
   end type visit_data

   public :: count_range, count_task, max_map, max_combine

contains

   integer(c_int) function count_range(range_begin, range_end, arg) bind(C) result(code)
      integer(c_size_t), value :: range_begin, range_end
      type(c_ptr), value :: arg
      type(visit_data), pointer :: data
      integer(c_size_t) :: i

      call c_f_pointer(arg, data)
      code = 0
      do i = range_begin, range_end - 1
         if (i == data%fail_at) code = 42
         data%visits(i + 1) = data%visits(i + 1) + 1
      end do
   end function count_range

   integer(c_int) function count_task(index, arg) bind(C) result(code)
      integer(c_size_t), value :: index
      type(c_ptr), value :: arg
      type(visit_data), pointer :: data

      call c_f_pointer(arg, data)
      code = 0
      if (index == data%fail_at) code = 7
      data%visits(index + 1) = data%visits(index + 1) + 1
   end function count_task

   ! Maximum of values(range_begin+1 : range_end) into partial.
   integer(c_int) function max_map(range_begin, range_end, partial, arg) bind(C) result(code)
      integer(c_size_t), value :: range_begin, range_end
      type(c_ptr), value :: partial, arg
      real(c_double), pointer :: values(:), best

      call c_f_pointer(arg, values, [range_end])
      call c_f_pointer(partial, best)
      best = max(best, maxval(values(range_begin + 1:range_end)))
      code = 0
   end function max_map

   subroutine max_combine(left, right, arg) bind(C)
      type(c_ptr), value :: left, right, arg
      real(c_double), pointer :: a, b
      call c_f_pointer(left, a)
      call c_f_pointer(right, b)
      a = max(a, b)
   end subroutine max_combine
end module test_core_exec_callbacks

program test_core_exec
   use, intrinsic :: iso_c_binding
   use, intrinsic :: iso_fortran_env, only: error_unit
   use pel
   use test_core_exec_callbacks
   implicit none

   integer, parameter :: qp = selected_real_kind(30)
   integer :: failures = 0, checks = 0
   integer(c_int) :: status   ! results are stored before they are checked: Fortran may
                              ! evaluate the operands of an expression in any order

   call test_constants_and_strings()
   call test_errors()
   call test_threads_and_memory()
   call test_parallel_for()
   call test_reduce_sum()
   call test_parallel_reduce()
   call test_tasks()
   write (*, '(a,i0,a,i0,a)') 'test_core_exec: ', checks, ' checks, ', failures, ' failed'
   if (failures > 0) stop 1

contains

   subroutine check(condition, what)
      logical, intent(in) :: condition
      character(len=*), intent(in) :: what
      checks = checks + 1
      if (.not. condition) then
         failures = failures + 1
         write (error_unit, '(a)') 'FAILED: '//what
      end if
   end subroutine check

   ! Fills x with values in [-1, 1) that are never zero (a fixed LCG, so the
   ! test is reproducible without the random_number seed rules).
   subroutine fill(x, seed)
      real(c_double), intent(out) :: x(:)
      integer(c_int64_t), intent(in) :: seed
      integer(c_int64_t) :: state
      integer :: i
      ! Park-Miller minimal standard generator: the product stays below 2^47,
      ! so no integer overflow (which is undefined, and UBSan stops on it).
      state = modulo(seed, 2147483646_c_int64_t) + 1
      do i = 1, size(x)
         state = modulo(state * 48271_c_int64_t, 2147483647_c_int64_t)
         x(i) = real(state, c_double) / 2147483647.0_c_double * 2 - 1 + 0.0001_c_double
      end do
   end subroutine fill

   subroutine test_constants_and_strings()
      ! The constants are generated from the C table; the names prove it.
      call check(pel_status_name(PEL_OK) == 'PEL_OK', 'PEL_OK name')
      call check(pel_status_name(PEL_ERROR_INVALID_ARGUMENT) == 'PEL_ERROR_INVALID_ARGUMENT', 'invalid name')
      call check(pel_status_name(PEL_ERROR_NOT_CONVERGED) == 'PEL_ERROR_NOT_CONVERGED', 'not converged name')
      call check(pel_status_name(PEL_ERROR_INTERNAL) == 'PEL_ERROR_INTERNAL', 'internal name')
      call check(pel_strerror(PEL_ERROR_OUT_OF_MEMORY) == 'out of memory', 'strerror')
      call check(pel_status_name(12345) == 'PEL_UNKNOWN_STATUS', 'unknown status name')
      call check(pel_version() == PEL_VERSION_STRING, 'version string '//pel_version())
      call check(pel_version_number() == PEL_VERSION_MAJOR*10000 + PEL_VERSION_MINOR*100 + PEL_VERSION_PATCH, &
                 'version number')
      call check(len(pel_backend_info()) > 0 .and. index(pel_backend_info(), 'OpenBLAS') > 0, 'backend info')
   end subroutine test_constants_and_strings

   subroutine test_errors()
      real(c_double) :: costs(3)
      type(visit_data), target :: data

      call pel_clear_error()
      call check(pel_last_error() == '', 'no error at start')
      ! A library-side error.
      call check(pel_set_num_threads(-1) == PEL_ERROR_INVALID_ARGUMENT, 'negative threads refused')
      call check(index(pel_last_error(), 'pel_set_num_threads') == 1, 'library message: '//pel_last_error())
      ! A wrapper-side error replaces it...
      costs = 1
      allocate (data%visits(4))
      data%visits = 0
      call check(pel_run_tasks(4, count_task, c_loc(data), costs) == PEL_ERROR_INVALID_ARGUMENT, &
                 'costs size mismatch refused')
      call check(pel_last_error() == 'pel_run_tasks: size(costs)=3 does not match ntasks=4', &
                 'wrapper message: '//pel_last_error())
      call check(all(data%visits == 0), 'no task ran on error')
      ! ...and a later library error replaces the wrapper's.
      call check(pel_set_num_threads_local(-2) == PEL_ERROR_INVALID_ARGUMENT, 'negative local threads')
      call check(index(pel_last_error(), 'pel_set_num_threads_local') == 1, 'newest message wins')
      call check(pel_parallel_for(-1, 3, PEL_SCHEDULE_STATIC, 0, count_range, c_loc(data)) &
                 == PEL_ERROR_INVALID_ARGUMENT, 'negative begin refused')
      call check(index(pel_last_error(), 'pel_parallel_for: begin=-1') == 1, 'negative begin message')
      call check(pel_parallel_for(5, 3, PEL_SCHEDULE_STATIC, 0, count_range, c_loc(data)) &
                 == PEL_ERROR_INVALID_ARGUMENT, 'begin > end refused by C')
      call check(index(pel_last_error(), 'pel_parallel_for') == 1, 'C message for begin > end')
      call check(pel_parallel_for(0, 3, 9, 0, count_range, c_loc(data)) == PEL_ERROR_INVALID_ARGUMENT, &
                 'bad schedule refused')
      call check(pel_set_min_work_per_thread(-5) == PEL_ERROR_INVALID_ARGUMENT, 'negative work refused')
      call check(pel_run_tasks(-1, count_task) == PEL_ERROR_INVALID_ARGUMENT, 'negative ntasks refused')
      call check(pel_task_plan(costs, 0) == PEL_ERROR_INVALID_ARGUMENT, 'zero threads plan refused')
      call pel_clear_error()
      call check(pel_last_error() == '', 'cleared')
   end subroutine test_errors

   subroutine test_threads_and_memory()
      type(c_ptr) :: block
      real(c_double), pointer :: values(:)

      call check(pel_set_num_threads(3) == PEL_OK, 'set threads')
      call check(pel_get_num_threads() == 3, 'get threads')
      call check(pel_set_num_threads_local(2) == PEL_OK, 'set local threads')
      call check(pel_get_num_threads_local() == 2 .and. pel_get_num_threads() == 2, 'local override')
      call check(pel_set_num_threads_local(0) == PEL_OK, 'clear local threads')
      call check(pel_set_min_work_per_thread(1000) == PEL_OK, 'set cutoff')
      call check(pel_get_min_work_per_thread() == 1000_c_size_t, 'get cutoff')
      call check(pel_threads_for_work(10) == 1, 'tiny work on one thread')
      call check(pel_threads_for_work(100000_c_size_t) == 3, 'big work on all threads')
      call check(pel_set_min_work_per_thread(0_c_size_t) == PEL_OK, 'default cutoff')
      call check(pel_set_num_threads(0) == PEL_OK, 'default threads')
      call check(pel_in_forked_child() == 0, 'not a forked child')
      call check(pel_set_thread_budget(3) == PEL_OK .and. pel_get_thread_budget() == 3, 'set budget')
      call check(pel_set_thread_budget(-2) == PEL_ERROR_INVALID_ARGUMENT, 'bad budget refused')
      call check(index(pel_last_error(), 'pel_set_thread_budget: nthreads=-2') == 1, 'budget message: '//pel_last_error())
      call check(pel_set_num_threads(PEL_MAX_THREADS + 1) == PEL_ERROR_INVALID_ARGUMENT, 'too many threads refused')
      call check(pel_get_thread_budget_in_use() == 0, 'no team running')
      call check(pel_set_thread_budget(PEL_THREAD_BUDGET_DEFAULT) == PEL_OK .and. pel_get_thread_budget() >= 1, &
                 'default budget')

      block = pel_calloc(1000, 8)
      call check(c_associated(block), 'calloc')
      call check(modulo(transfer(block, 0_c_intptr_t), 64_c_intptr_t) == 0, '64-byte alignment')
      call c_f_pointer(block, values, [1000])
      call check(all(values == 0), 'calloc zeroes')
      values = 2.5_c_double
      call check(sum(values) == 2500, 'memory usable')
      call pel_free(block)
      call pel_free(c_null_ptr)
      block = pel_malloc(64_c_size_t)
      call check(c_associated(block), 'malloc')
      call pel_free(block)
      call check(pel_wtime() > 0, 'wtime')
   end subroutine test_threads_and_memory

   subroutine test_parallel_for()
      type(visit_data), target :: data
      integer :: threads, schedule
      integer(c_size_t), parameter :: n = 10007

      allocate (data%visits(n))
      call check(pel_set_min_work_per_thread(1) == PEL_OK, 'force parallel paths')
      do threads = 1, 4
         call check(pel_set_num_threads(threads) == PEL_OK, 'threads for parallel_for')
         do schedule = PEL_SCHEDULE_STATIC, PEL_SCHEDULE_GUIDED
            data%visits = 0
            call check(pel_parallel_for(0_c_size_t, n, schedule, 0_c_size_t, count_range, c_loc(data)) == PEL_OK, &
                       'parallel_for runs')
            call check(all(data%visits == 1), 'every index once')
            data%visits = 0
            call check(pel_parallel_for(5, 17, schedule, 3, count_range, c_loc(data)) == PEL_OK, 'sub-range')
            call check(all(data%visits(6:17) == 1) .and. count(data%visits == 1) == 12, 'sub-range visited once')
         end do
         data%visits = 0
         data%fail_at = 5000
         call check(pel_parallel_for(0_c_size_t, n, PEL_SCHEDULE_DYNAMIC, 64_c_size_t, count_range, &
                                     c_loc(data)) == 42, 'callback code returned')
         data%fail_at = -1_c_size_t
      end do
      status = pel_set_num_threads(0)
      call check(status == PEL_OK .and. pel_set_min_work_per_thread(0) == PEL_OK, 'reset')
   end subroutine test_parallel_for

   subroutine test_reduce_sum()
      integer, parameter :: n = 30011
      real(c_double), allocatable :: x(:), matrix(:, :), reversed(:)
      real(c_double) :: total, first, section_total, copy_total
      real(qp) :: reference, magnitude
      integer :: threads

      allocate (x(n), matrix(7, n))
      call fill(x, 11_c_int64_t)
      matrix = spread(x, 1, 7) * 0.5_c_double
      reference = sum(real(x, qp))
      magnitude = sum(abs(real(x, qp)))
      call check(pel_set_min_work_per_thread(1) == PEL_OK, 'force parallel reduce')
      do threads = 1, 4
         call check(pel_set_num_threads(threads) == PEL_OK, 'threads for reduce')
         total = 0
         call check(pel_reduce_sum(x, total) == PEL_OK, 'reduce_sum')
         if (threads == 1) first = total
         ! The same bits for every thread count.
         call check(total == first, 'thread-count independent bits')
         ! Error bound of pel/exec.h: (BLOCK/8 + log2 n) * eps * sum|x|.
         call check(abs(real(total, qp) - reference) <= (4096/8 + 16) * epsilon(1.0_c_double) * magnitude, &
                    'reduce_sum accuracy')
         ! A strided section (a row of a column-major matrix) goes to C
         ! without a copy and adds the same values in the same order.
         call check(pel_reduce_sum(matrix(3, :), section_total) == PEL_OK, 'row section')
         call check(section_total == 0.5_c_double * first, 'row section matches (exact halving)')
         call check(pel_reduce_sum(x(1:n:3), section_total) == PEL_OK, 'stride-3 section')
         call check(pel_reduce_sum([x(1:n:3)], copy_total) == PEL_OK, 'contiguous copy')
         call check(section_total == copy_total, 'stride-3 section = contiguous copy')
         reversed = x(n:1:-1)
         call check(pel_reduce_sum(x(n:1:-1), section_total) == PEL_OK, 'reversed section')
         call check(pel_reduce_sum(reversed, copy_total) == PEL_OK, 'reversed copy')
         call check(section_total == copy_total, 'reversed section = reversed copy')
      end do
      total = 3
      status = pel_reduce_sum(x(1:0), total)
      call check(status == PEL_OK .and. total == 0, 'empty sum is 0')
      status = pel_set_num_threads(0)
      call check(status == PEL_OK .and. pel_set_min_work_per_thread(0) == PEL_OK, 'reset')
   end subroutine test_reduce_sum

   subroutine test_parallel_reduce()
      integer(c_size_t), parameter :: n = 50000
      real(c_double), allocatable, target :: values(:)
      real(c_double), target :: identity, best
      integer :: threads

      allocate (values(n))
      call fill(values, 3_c_int64_t)
      values(31234) = 7
      identity = -huge(1.0_c_double)
      call check(pel_set_min_work_per_thread(1) == PEL_OK, 'force parallel')
      do threads = 1, 3
         call check(pel_set_num_threads(threads) == PEL_OK, 'threads for reduce')
         best = 0
         call check(pel_parallel_reduce(n, 1000_c_size_t, c_sizeof(best), c_loc(identity), max_map, max_combine, &
                                        c_loc(values), c_loc(best)) == PEL_OK, 'parallel_reduce')
         call check(best == maxval(values), 'parallel_reduce max')
      end do
      call check(pel_parallel_reduce(10, 0, 0, c_loc(identity), max_map, max_combine, c_loc(values), &
                                     c_loc(best)) == PEL_ERROR_INVALID_ARGUMENT, 'elem_size 0 refused')
      call check(index(pel_last_error(), 'pel_parallel_reduce') == 1, 'parallel_reduce message')
      status = pel_set_num_threads(0)
      call check(status == PEL_OK .and. pel_set_min_work_per_thread(0) == PEL_OK, 'reset')
   end subroutine test_parallel_reduce

   subroutine test_tasks()
      integer, parameter :: ntasks = 57
      type(visit_data), target :: data
      real(c_double) :: costs(ntasks), makespan, lower_bound, loads(4)
      integer(c_int) :: assignment(ntasks), wrong(3)
      integer :: threads, i

      allocate (data%visits(ntasks))
      do i = 1, ntasks
         costs(i) = real(mod(i * 37, 11) + 1, c_double)**2   ! uneven, deterministic
      end do
      do threads = 1, 4
         call check(pel_set_num_threads(threads) == PEL_OK, 'threads for tasks')
         data%visits = 0
         call check(pel_run_tasks(ntasks, count_task, c_loc(data), costs) == PEL_OK, 'run_tasks with costs')
         call check(all(data%visits == 1), 'each task once (costs)')
         data%visits = 0
         call check(pel_run_tasks(int(ntasks, c_size_t), count_task, c_loc(data)) == PEL_OK, 'run_tasks dynamic')
         call check(all(data%visits == 1), 'each task once (dynamic)')
         data%fail_at = 20
         call check(pel_run_tasks(ntasks, count_task, c_loc(data), costs) == 7, 'task failure returned')
         data%fail_at = -1_c_size_t

         ! The plan: every task on a valid thread, loads add up to the
         ! makespan, and Graham's LPT bound against the simple lower bound.
         makespan = -1
         assignment = -1
         call check(pel_task_plan(costs, threads, assignment, makespan) == PEL_OK, 'task_plan')
         call check(all(assignment >= 0 .and. assignment < threads), 'assignment in range')
         loads = 0
         do i = 1, ntasks
            loads(assignment(i) + 1) = loads(assignment(i) + 1) + costs(i)
         end do
         call check(abs(maxval(loads(1:threads)) - makespan) <= 1e-12_c_double * makespan, 'makespan = max load')
         lower_bound = max(sum(costs) / threads, maxval(costs))
         ! List scheduling's bound (LPT is a list schedule): sum/m + (1-1/m) max.
         call check(makespan <= (sum(costs) / threads + (1 - 1.0_c_double / threads) * maxval(costs)) &
                    * (1 + 1e-12_c_double) .and. makespan >= lower_bound * (1 - 1e-12_c_double), 'list-scheduling bound')
      end do
      wrong = 0
      call check(pel_task_plan(costs, 2, wrong) == PEL_ERROR_INVALID_ARGUMENT, 'assignment size refused')
      call check(index(pel_last_error(), 'pel_task_plan: size(assignment)=3') == 1, 'plan message')
      call check(all(wrong == 0), 'assignment untouched on error')
      costs(5) = -1
      call check(pel_task_plan(costs, 2, assignment, makespan) == PEL_ERROR_INVALID_ARGUMENT, 'negative cost')
      call check(index(pel_last_error(), 'pel_task_plan') == 1, 'negative cost message')
      call check(pel_set_num_threads(0) == PEL_OK, 'reset')
   end subroutine test_tasks
end program test_core_exec
