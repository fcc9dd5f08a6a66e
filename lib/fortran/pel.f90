! pel: the Fortran module. `use pel` gives Fortran codes the whole C API of
! libpel through ISO_C_BINDING, plus thin wrappers where Fortran has a more
! natural form: assumed-shape arrays whose sizes and leading dimensions are
! read from the array itself, character strings instead of C pointers, and
! integer arguments of either default or c_size_t kind.
!
! Conventions (docs/fortran.md explains them):
! - Every fallible routine is an integer(c_int) function returning a status
!   (PEL_OK = 0, errors negative); pel_last_error() says what went wrong.
! - Indices handed to callbacks are C's: 0-based, half-open [begin, end).
! - Dense matrices are Fortran arrays in column-major order; the wrappers
!   pass PEL_COL_MAJOR and the column stride of the actual argument, so array
!   sections such as a(1:m, 1:k) of a larger array are used without copies.
! - Nothing here prints or stops the program.
module pel
   use, intrinsic :: iso_c_binding
   implicit none
   private

   ! ------------------------------------------------------------ constants
   ! Status codes and version, generated from the C headers at build time.
   include 'pel_constants.inc'

   ! pel_layout (the CBLAS values).
   integer(c_int), parameter, public :: PEL_ROW_MAJOR = 101
   integer(c_int), parameter, public :: PEL_COL_MAJOR = 102
   ! pel_precision.
   integer(c_int), parameter, public :: PEL_FLOAT64 = 0
   integer(c_int), parameter, public :: PEL_FLOAT32 = 1
   ! pel_schedule.
   integer(c_int), parameter, public :: PEL_SCHEDULE_STATIC = 0
   integer(c_int), parameter, public :: PEL_SCHEDULE_DYNAMIC = 1
   integer(c_int), parameter, public :: PEL_SCHEDULE_GUIDED = 2
   ! Block length of the reproducible reductions.
   integer(c_size_t), parameter, public :: PEL_REDUCE_BLOCK = 4096

   ! ------------------------------------------------------------ callbacks
   ! Procedures passed to pel must have these interfaces and BIND(C); they
   ! may be called concurrently from several threads on disjoint work.
   abstract interface
      !> Loop body of pel_parallel_for: handles indices [range_begin, range_end)
      !> (0-based); returns 0 or an error code that stops the loop.
      integer(c_int) function pel_range_fn(range_begin, range_end, arg) bind(C)
         import :: c_int, c_size_t, c_ptr
         integer(c_size_t), value :: range_begin, range_end
         type(c_ptr), value :: arg
      end function pel_range_fn
      !> Task body of pel_run_tasks: runs task number `index` (0-based).
      integer(c_int) function pel_task_fn(index, arg) bind(C)
         import :: c_int, c_size_t, c_ptr
         integer(c_size_t), value :: index
         type(c_ptr), value :: arg
      end function pel_task_fn
      !> Map of pel_parallel_reduce: reduces [range_begin, range_end) into partial.
      integer(c_int) function pel_reduce_map_fn(range_begin, range_end, partial, arg) bind(C)
         import :: c_int, c_size_t, c_ptr
         integer(c_size_t), value :: range_begin, range_end
         type(c_ptr), value :: partial, arg
      end function pel_reduce_map_fn
      !> Combine of pel_parallel_reduce: left = left op right.
      subroutine pel_reduce_combine_fn(left, right, arg) bind(C)
         import :: c_ptr
         type(c_ptr), value :: left, right, arg
      end subroutine pel_reduce_combine_fn
   end interface
   public :: pel_range_fn, pel_task_fn, pel_reduce_map_fn, pel_reduce_combine_fn

   ! ------------------------------------------------------------ core: direct bindings
   ! Functions whose C signature is already natural in Fortran are bound
   ! under their own name.
   interface
      subroutine pel_free(ptr) bind(C, name="pel_free")
         import :: c_ptr
         type(c_ptr), value :: ptr
      end subroutine pel_free
      type(c_ptr) function pel_malloc_c(bytes) bind(C, name="pel_malloc")
         import :: c_ptr, c_size_t
         integer(c_size_t), value :: bytes
      end function pel_malloc_c
      type(c_ptr) function pel_calloc_c(count, size) bind(C, name="pel_calloc")
         import :: c_ptr, c_size_t
         integer(c_size_t), value :: count, size
      end function pel_calloc_c
      real(c_double) function pel_wtime() bind(C, name="pel_wtime")
         import :: c_double
      end function pel_wtime
      integer(c_int) function pel_version_number() bind(C, name="pel_version_number")
         import :: c_int
      end function pel_version_number
      integer(c_int) function pel_set_num_threads(nthreads) bind(C, name="pel_set_num_threads")
         import :: c_int
         integer(c_int), value :: nthreads
      end function pel_set_num_threads
      integer(c_int) function pel_set_num_threads_local(nthreads) bind(C, name="pel_set_num_threads_local")
         import :: c_int
         integer(c_int), value :: nthreads
      end function pel_set_num_threads_local
      integer(c_int) function pel_get_num_threads_local() bind(C, name="pel_get_num_threads_local")
         import :: c_int
      end function pel_get_num_threads_local
      integer(c_int) function pel_get_num_threads() bind(C, name="pel_get_num_threads")
         import :: c_int
      end function pel_get_num_threads
      integer(c_size_t) function pel_get_min_work_per_thread() bind(C, name="pel_get_min_work_per_thread")
         import :: c_size_t
      end function pel_get_min_work_per_thread
      integer(c_int) function pel_in_forked_child() bind(C, name="pel_in_forked_child")
         import :: c_int
      end function pel_in_forked_child
   end interface
   public :: pel_free, pel_wtime, pel_version_number, pel_set_num_threads, pel_set_num_threads_local, &
             pel_get_num_threads_local, pel_get_num_threads, pel_get_min_work_per_thread, pel_in_forked_child

   ! ------------------------------------------------------------ core: C entry points behind wrappers
   interface
      type(c_ptr) function pel_strerror_c(status) bind(C, name="pel_strerror")
         import :: c_ptr, c_int
         integer(c_int), value :: status
      end function pel_strerror_c
      type(c_ptr) function pel_status_name_c(status) bind(C, name="pel_status_name")
         import :: c_ptr, c_int
         integer(c_int), value :: status
      end function pel_status_name_c
      type(c_ptr) function pel_version_c() bind(C, name="pel_version")
         import :: c_ptr
      end function pel_version_c
      type(c_ptr) function pel_backend_info_c() bind(C, name="pel_backend_info")
         import :: c_ptr
      end function pel_backend_info_c
      integer(c_int) function pel_set_min_work_per_thread_c(work_units) bind(C, name="pel_set_min_work_per_thread")
         import :: c_int, c_size_t
         integer(c_size_t), value :: work_units
      end function pel_set_min_work_per_thread_c
      integer(c_int) function pel_threads_for_work_c(work_units) bind(C, name="pel_threads_for_work")
         import :: c_int, c_size_t
         integer(c_size_t), value :: work_units
      end function pel_threads_for_work_c
      ! The wrapper-side error message (lib/fortran/error.c).
      subroutine pel_fortran_set_error_c(message, length) bind(C, name="pel__fortran_set_error")
         import :: c_char, c_size_t
         character(kind=c_char), dimension(*), intent(in) :: message
         integer(c_size_t), value :: length
      end subroutine pel_fortran_set_error_c
      type(c_ptr) function pel_fortran_last_error_c() bind(C, name="pel__fortran_last_error")
         import :: c_ptr
      end function pel_fortran_last_error_c
      subroutine pel_fortran_clear_error_c() bind(C, name="pel__fortran_clear_error")
      end subroutine pel_fortran_clear_error_c
      integer(c_size_t) function c_strlen(string) bind(C, name="strlen")
         import :: c_ptr, c_size_t
         type(c_ptr), value :: string
      end function c_strlen
   end interface

   ! ------------------------------------------------------------ exec: C entry points behind wrappers
   interface
      integer(c_int) function pel_parallel_for_c(range_begin, range_end, schedule, chunk, body, arg) &
         bind(C, name="pel_parallel_for")
         import :: c_int, c_size_t, c_funptr, c_ptr
         integer(c_size_t), value :: range_begin, range_end
         integer(c_int), value :: schedule
         integer(c_size_t), value :: chunk
         type(c_funptr), value :: body
         type(c_ptr), value :: arg
      end function pel_parallel_for_c
      integer(c_int) function pel_reduce_sum_c(x, n, stride, total) bind(C, name="pel_reduce_sum")
         import :: c_int, c_size_t, c_ptrdiff_t, c_ptr
         type(c_ptr), value :: x
         integer(c_size_t), value :: n
         integer(c_ptrdiff_t), value :: stride
         type(c_ptr), value :: total
      end function pel_reduce_sum_c
      integer(c_int) function pel_parallel_reduce_c(n, block, elem_size, identity, map, combine, arg, total) &
         bind(C, name="pel_parallel_reduce")
         import :: c_int, c_size_t, c_ptr, c_funptr
         integer(c_size_t), value :: n, block, elem_size
         type(c_ptr), value :: identity
         type(c_funptr), value :: map, combine
         type(c_ptr), value :: arg, total
      end function pel_parallel_reduce_c
      integer(c_int) function pel_run_tasks_c(ntasks, task, arg, costs) bind(C, name="pel_run_tasks")
         import :: c_int, c_size_t, c_funptr, c_ptr
         integer(c_size_t), value :: ntasks
         type(c_funptr), value :: task
         type(c_ptr), value :: arg, costs
      end function pel_run_tasks_c
      integer(c_int) function pel_task_plan_c(ntasks, costs, nthreads, assignment, makespan) &
         bind(C, name="pel_task_plan")
         import :: c_int, c_size_t, c_ptr
         integer(c_size_t), value :: ntasks
         type(c_ptr), value :: costs
         integer(c_int), value :: nthreads
         type(c_ptr), value :: assignment, makespan
      end function pel_task_plan_c
   end interface

   ! ------------------------------------------------------------ generic wrappers
   !> Sizes may be given as default integers or as integer(c_size_t).
   interface pel_set_min_work_per_thread
      module procedure set_min_work_int, set_min_work_size
   end interface pel_set_min_work_per_thread
   interface pel_threads_for_work
      module procedure threads_for_work_int, threads_for_work_size
   end interface pel_threads_for_work
   interface pel_malloc
      module procedure malloc_int, malloc_size
   end interface pel_malloc
   interface pel_calloc
      module procedure calloc_int, calloc_size
   end interface pel_calloc
   interface pel_parallel_for
      module procedure parallel_for_int, parallel_for_size
   end interface pel_parallel_for
   interface pel_run_tasks
      module procedure run_tasks_int, run_tasks_size
   end interface pel_run_tasks
   interface pel_parallel_reduce
      module procedure parallel_reduce_int, parallel_reduce_size
   end interface pel_parallel_reduce

   public :: pel_strerror, pel_status_name, pel_last_error, pel_clear_error, pel_version, pel_backend_info
   public :: pel_set_min_work_per_thread, pel_threads_for_work, pel_malloc, pel_calloc
   public :: pel_parallel_for, pel_reduce_sum, pel_parallel_reduce, pel_run_tasks, pel_task_plan

contains

   ! ============================================================ helpers

   ! Copies a NUL-terminated C string into a Fortran string ('' for NULL).
   function from_c_string(string) result(text)
      type(c_ptr), intent(in) :: string
      character(len=:), allocatable :: text
      character(kind=c_char), pointer :: chars(:)
      integer(c_size_t) :: length, i

      if (.not. c_associated(string)) then
         text = ''
         return
      end if
      length = c_strlen(string)
      call c_f_pointer(string, chars, [length])
      allocate (character(len=length) :: text)
      do i = 1, length
         text(i:i) = chars(i)
      end do
   end function from_c_string

   ! Records a wrapper-side error (shapes that disagree) for pel_last_error().
   subroutine set_error(message)
      character(len=*), intent(in) :: message
      call pel_fortran_set_error_c(message, len(message, kind=c_size_t))
   end subroutine set_error

   ! An integer in decimal without blanks, for messages.
   function itoa(value) result(text)
      integer(c_int64_t), intent(in) :: value
      character(len=:), allocatable :: text
      character(len=24) :: buffer
      write (buffer, '(i0)') value
      text = trim(buffer)
   end function itoa

   ! Stride in elements between two element addresses.
   function element_distance(first, second, element_bytes) result(distance)
      type(c_ptr), intent(in) :: first, second
      integer(c_size_t), intent(in) :: element_bytes
      integer(c_ptrdiff_t) :: distance
      distance = (transfer(second, 0_c_intptr_t) - transfer(first, 0_c_intptr_t)) / int(element_bytes, c_intptr_t)
   end function element_distance

   ! ============================================================ core

   !> Describes a status code in a few words ("invalid argument").
   function pel_strerror(status) result(text)
      integer(c_int), intent(in) :: status
      character(len=:), allocatable :: text
      text = from_c_string(pel_strerror_c(status))
   end function pel_strerror

   !> The enumerator name of a status code ("PEL_ERROR_INVALID_ARGUMENT").
   function pel_status_name(status) result(text)
      integer(c_int), intent(in) :: status
      character(len=:), allocatable :: text
      text = from_c_string(pel_status_name_c(status))
   end function pel_status_name

   !> The calling thread's last error message, e.g.
   !> "pel_dgemm: lda=3 is smaller than k=4"; '' when none.
   function pel_last_error() result(text)
      character(len=:), allocatable :: text
      text = from_c_string(pel_fortran_last_error_c())
   end function pel_last_error

   !> Empties the calling thread's last error message.
   subroutine pel_clear_error()
      call pel_fortran_clear_error_c()
   end subroutine pel_clear_error

   !> The library's version string ("0.1.0").
   function pel_version() result(text)
      character(len=:), allocatable :: text
      text = from_c_string(pel_version_c())
   end function pel_version

   !> The linked backends in one line (OpenBLAS and FFTW versions, threading).
   function pel_backend_info() result(text)
      character(len=:), allocatable :: text
      text = from_c_string(pel_backend_info_c())
   end function pel_backend_info

   integer(c_int) function set_min_work_int(work_units) result(status)
      integer(c_int), intent(in) :: work_units
      if (work_units < 0) then
         call set_error('pel_set_min_work_per_thread: work_units='//itoa(int(work_units, c_int64_t))// &
                        ' is negative')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      status = pel_set_min_work_per_thread_c(int(work_units, c_size_t))
   end function set_min_work_int

   integer(c_int) function set_min_work_size(work_units) result(status)
      integer(c_size_t), intent(in) :: work_units
      status = pel_set_min_work_per_thread_c(work_units)
   end function set_min_work_size

   integer(c_int) function threads_for_work_int(work_units) result(nthreads)
      integer(c_int), intent(in) :: work_units
      nthreads = pel_threads_for_work_c(int(max(work_units, 0_c_int), c_size_t))
   end function threads_for_work_int

   integer(c_int) function threads_for_work_size(work_units) result(nthreads)
      integer(c_size_t), intent(in) :: work_units
      nthreads = pel_threads_for_work_c(work_units)
   end function threads_for_work_size

   type(c_ptr) function malloc_int(bytes) result(ptr)
      integer(c_int), intent(in) :: bytes
      ptr = pel_malloc_c(int(max(bytes, 0_c_int), c_size_t))
   end function malloc_int

   type(c_ptr) function malloc_size(bytes) result(ptr)
      integer(c_size_t), intent(in) :: bytes
      ptr = pel_malloc_c(bytes)
   end function malloc_size

   type(c_ptr) function calloc_int(count, size) result(ptr)
      integer(c_int), intent(in) :: count, size
      ptr = pel_calloc_c(int(max(count, 0_c_int), c_size_t), int(max(size, 0_c_int), c_size_t))
   end function calloc_int

   type(c_ptr) function calloc_size(count, size) result(ptr)
      integer(c_size_t), intent(in) :: count, size
      ptr = pel_calloc_c(count, size)
   end function calloc_size

   ! ============================================================ exec

   ! Default-integer form: negative bounds are refused here because C's
   ! size_t cannot hold them.
   integer(c_int) function parallel_for_int(range_begin, range_end, schedule, chunk, body, arg) result(status)
      integer(c_int), intent(in) :: range_begin, range_end, schedule, chunk
      procedure(pel_range_fn) :: body
      type(c_ptr), intent(in), optional :: arg
      if (range_begin < 0 .or. range_end < 0 .or. chunk < 0) then
         call set_error('pel_parallel_for: begin='//itoa(int(range_begin, c_int64_t))//', end='// &
                        itoa(int(range_end, c_int64_t))//', chunk='//itoa(int(chunk, c_int64_t))// &
                        ': negative values are not indices')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      status = parallel_for_size(int(range_begin, c_size_t), int(range_end, c_size_t), schedule, &
                                 int(chunk, c_size_t), body, arg)
   end function parallel_for_int

   !> Runs body over [range_begin, range_end) (0-based, half-open) on pel's
   !> threads; see pel_parallel_for in pel/exec.h. arg (optional) is passed to
   !> every body call, typically c_loc of a derived type holding the data.
   integer(c_int) function parallel_for_size(range_begin, range_end, schedule, chunk, body, arg) result(status)
      integer(c_size_t), intent(in) :: range_begin, range_end, chunk
      integer(c_int), intent(in) :: schedule
      procedure(pel_range_fn) :: body
      type(c_ptr), intent(in), optional :: arg
      type(c_ptr) :: user
      user = c_null_ptr
      if (present(arg)) user = arg
      status = pel_parallel_for_c(range_begin, range_end, schedule, chunk, c_funloc(body), user)
   end function parallel_for_size

   !> Sums x with a result that has the same bits for every thread count.
   !> x may be any 1-D array or section; a constant positive stride is passed
   !> to C without a copy, a reversed section is copied first. total is
   !> written only on success.
   integer(c_int) function pel_reduce_sum(x, total) result(status)
      real(c_double), intent(in), target :: x(:)
      real(c_double), intent(inout), target :: total
      real(c_double), allocatable, target :: copy(:)
      integer(c_ptrdiff_t) :: stride
      integer(c_size_t) :: n

      n = size(x, kind=c_size_t)
      if (n == 0) then
         status = pel_reduce_sum_c(c_null_ptr, 0_c_size_t, 1_c_ptrdiff_t, c_loc(total))
         return
      end if
      stride = 1
      if (n > 1) stride = element_distance(c_loc(x(1)), c_loc(x(2)), c_sizeof(x(1)))
      if (stride >= 1) then
         status = pel_reduce_sum_c(c_loc(x(1)), n, stride, c_loc(total))
      else
         copy = x
         status = pel_reduce_sum_c(c_loc(copy(1)), n, 1_c_ptrdiff_t, c_loc(total))
      end if
   end function pel_reduce_sum

   integer(c_int) function parallel_reduce_int(n, block, elem_size, identity, map, combine, arg, total) &
      result(status)
      integer(c_int), intent(in) :: n, block, elem_size
      type(c_ptr), intent(in) :: identity, total
      procedure(pel_reduce_map_fn) :: map
      procedure(pel_reduce_combine_fn) :: combine
      type(c_ptr), intent(in), optional :: arg
      if (n < 0 .or. block < 0 .or. elem_size < 0) then
         call set_error('pel_parallel_reduce: n='//itoa(int(n, c_int64_t))//', block='// &
                        itoa(int(block, c_int64_t))//', elem_size='//itoa(int(elem_size, c_int64_t))// &
                        ': sizes cannot be negative')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      status = parallel_reduce_size(int(n, c_size_t), int(block, c_size_t), int(elem_size, c_size_t), &
                                    identity, map, combine, arg, total)
   end function parallel_reduce_int

   !> A general reproducible reduction over [0, n); see pel/exec.h. identity
   !> and total are c_loc of variables of elem_size bytes (c_sizeof).
   integer(c_int) function parallel_reduce_size(n, block, elem_size, identity, map, combine, arg, total) &
      result(status)
      integer(c_size_t), intent(in) :: n, block, elem_size
      type(c_ptr), intent(in) :: identity, total
      procedure(pel_reduce_map_fn) :: map
      procedure(pel_reduce_combine_fn) :: combine
      type(c_ptr), intent(in), optional :: arg
      type(c_ptr) :: user
      user = c_null_ptr
      if (present(arg)) user = arg
      status = pel_parallel_reduce_c(n, block, elem_size, identity, c_funloc(map), c_funloc(combine), user, total)
   end function parallel_reduce_size

   integer(c_int) function run_tasks_int(ntasks, task, arg, costs) result(status)
      integer(c_int), intent(in) :: ntasks
      procedure(pel_task_fn) :: task
      type(c_ptr), intent(in), optional :: arg
      real(c_double), intent(in), optional, target, contiguous :: costs(:)
      if (ntasks < 0) then
         call set_error('pel_run_tasks: ntasks='//itoa(int(ntasks, c_int64_t))//' is negative')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      status = run_tasks_size(int(ntasks, c_size_t), task, arg, costs)
   end function run_tasks_int

   !> Runs tasks 0..ntasks-1 once each on pel's threads, balanced by the
   !> optional cost estimates (size(costs) must equal ntasks); see pel/exec.h.
   integer(c_int) function run_tasks_size(ntasks, task, arg, costs) result(status)
      integer(c_size_t), intent(in) :: ntasks
      procedure(pel_task_fn) :: task
      type(c_ptr), intent(in), optional :: arg
      real(c_double), intent(in), optional, target, contiguous :: costs(:)
      type(c_ptr) :: user, cost_ptr
      user = c_null_ptr
      if (present(arg)) user = arg
      cost_ptr = c_null_ptr
      if (present(costs)) then
         if (size(costs, kind=c_size_t) /= ntasks) then
            call set_error('pel_run_tasks: size(costs)='//itoa(int(size(costs), c_int64_t))// &
                           ' does not match ntasks='//itoa(int(ntasks, c_int64_t)))
            status = PEL_ERROR_INVALID_ARGUMENT
            return
         end if
         if (ntasks > 0) cost_ptr = c_loc(costs(1))
      end if
      status = pel_run_tasks_c(ntasks, c_funloc(task), user, cost_ptr)
   end function run_tasks_size

   !> The longest-processing-time-first plan for size(costs) tasks on
   !> nthreads threads: assignment(i) is the thread (0-based) of task i,
   !> makespan the largest per-thread total. Both optional; assignment must
   !> have size(costs) elements.
   integer(c_int) function pel_task_plan(costs, nthreads, assignment, makespan) result(status)
      real(c_double), intent(in), target, contiguous :: costs(:)
      integer(c_int), intent(in) :: nthreads
      integer(c_int), intent(inout), optional, target, contiguous :: assignment(:)
      real(c_double), intent(inout), optional, target :: makespan
      type(c_ptr) :: cost_ptr, assignment_ptr, makespan_ptr
      integer(c_size_t) :: ntasks

      ntasks = size(costs, kind=c_size_t)
      cost_ptr = c_null_ptr
      if (ntasks > 0) cost_ptr = c_loc(costs(1))
      assignment_ptr = c_null_ptr
      if (present(assignment)) then
         if (size(assignment, kind=c_size_t) /= ntasks) then
            call set_error('pel_task_plan: size(assignment)='//itoa(int(size(assignment), c_int64_t))// &
                           ' does not match size(costs)='//itoa(int(ntasks, c_int64_t)))
            status = PEL_ERROR_INVALID_ARGUMENT
            return
         end if
         if (ntasks > 0) assignment_ptr = c_loc(assignment(1))
      end if
      makespan_ptr = c_null_ptr
      if (present(makespan)) makespan_ptr = c_loc(makespan)
      ! C refuses NULL costs only when ntasks > 0, so an empty plan works.
      status = pel_task_plan_c(ntasks, cost_ptr, nthreads, assignment_ptr, makespan_ptr)
   end function pel_task_plan

end module pel
