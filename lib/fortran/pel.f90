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
   ! Thread counts: the largest accepted, and the budget's "restore the default".
   integer(c_int), parameter, public :: PEL_MAX_THREADS = 4096
   integer(c_int), parameter, public :: PEL_THREAD_BUDGET_DEFAULT = -1

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
      !> Process-wide thread budget shared by concurrent pel kernels (0: off, -1: default).
      integer(c_int) function pel_set_thread_budget(nthreads) bind(C, name="pel_set_thread_budget")
         import :: c_int
         integer(c_int), value :: nthreads
      end function pel_set_thread_budget
      integer(c_int) function pel_get_thread_budget() bind(C, name="pel_get_thread_budget")
         import :: c_int
      end function pel_get_thread_budget
      integer(c_int) function pel_get_thread_budget_in_use() bind(C, name="pel_get_thread_budget_in_use")
         import :: c_int
      end function pel_get_thread_budget_in_use
      integer(c_size_t) function pel_get_min_work_per_thread() bind(C, name="pel_get_min_work_per_thread")
         import :: c_size_t
      end function pel_get_min_work_per_thread
      integer(c_int) function pel_in_forked_child() bind(C, name="pel_in_forked_child")
         import :: c_int
      end function pel_in_forked_child
   end interface
   public :: pel_free, pel_wtime, pel_version_number, pel_set_num_threads, pel_set_num_threads_local, &
             pel_get_num_threads_local, pel_get_num_threads, pel_get_min_work_per_thread, pel_in_forked_child, &
             pel_set_thread_budget, pel_get_thread_budget, pel_get_thread_budget_in_use

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

   ! ============================================================ matrix, sparse, fft, stencil
   ! Constants of the C enums (the C headers are the reference).
   integer(c_int), parameter, public :: PEL_NO_TRANS = 111, PEL_TRANS = 112, PEL_CONJ_TRANS = 113
   integer(c_int), parameter, public :: PEL_UPPER = 121, PEL_LOWER = 122
   integer(c_int), parameter, public :: PEL_FFT_MAX_RANK = 3
   integer(c_int), parameter, public :: PEL_FFT_C2C = 0, PEL_FFT_R2C = 1, PEL_FFT_C2R = 2, PEL_FFT_R2R = 3
   integer(c_int), parameter, public :: PEL_FFT_DCT1 = 0, PEL_FFT_DCT2 = 1, PEL_FFT_DCT3 = 2, PEL_FFT_DCT4 = 3, &
                                        PEL_FFT_DST1 = 4, PEL_FFT_DST2 = 5, PEL_FFT_DST3 = 6, PEL_FFT_DST4 = 7
   integer(c_int), parameter, public :: PEL_FFT_FORWARD = -1, PEL_FFT_BACKWARD = 1
   integer(c_int), parameter, public :: PEL_FFT_NORM_BACKWARD = 0, PEL_FFT_NORM_ORTHO = 1, PEL_FFT_NORM_FORWARD = 2
   integer(c_int), parameter, public :: PEL_FFT_ESTIMATE = 0, PEL_FFT_MEASURE = 1, PEL_FFT_PATIENT = 2, &
                                        PEL_FFT_EXHAUSTIVE = 3, PEL_FFT_WISDOM_ONLY = 4, PEL_FFT_AUTO = 5
   integer(c_int), parameter, public :: PEL_FFT_CONVOLVE_FULL = 0, PEL_FFT_CONVOLVE_SAME = 1, &
                                        PEL_FFT_CONVOLVE_VALID = 2
   integer(c_int), parameter, public :: PEL_STENCIL_MAX_RADIUS = 8
   integer(c_int), parameter, public :: PEL_STENCIL_STAR = 0, PEL_STENCIL_BOX = 1
   integer(c_int), parameter, public :: PEL_BOUNDARY_DIRICHLET = 0, PEL_BOUNDARY_PERIODIC = 1, &
                                        PEL_BOUNDARY_NEUMANN = 2, PEL_BOUNDARY_NEAREST = 3, &
                                        PEL_BOUNDARY_MIRROR = 4
   integer(c_size_t), parameter, public :: PEL_CSR_MAX_COLS = 4294967295_c_size_t

   !> pel_fft_options; zero-initialise (the default constructor below does).
   type, bind(C), public :: pel_fft_options
      integer(c_int) :: effort = PEL_FFT_ESTIMATE
      real(c_double) :: time_limit = 0
      integer(c_int) :: nthreads = 0
      integer(c_int) :: norm = PEL_FFT_NORM_BACKWARD
   end type pel_fft_options
   !> pel_fft_cache_stats.
   type, bind(C), public :: pel_fft_cache_stats
      integer(c_size_t) :: hits = 0, misses = 0, evictions = 0, entries = 0, capacity = 0
   end type pel_fft_cache_stats
   !> pel_boundary: the condition of one face.
   type, bind(C), public :: pel_boundary
      integer(c_int) :: kind = PEL_BOUNDARY_DIRICHLET
      real(c_double) :: value = 0
   end type pel_boundary
   !> pel_stencil_term: one term of a coupled system (pel_stencil_system_apply_c);
   !> output and input are C field indices (0-based).
   type, bind(C), public :: pel_stencil_term
      integer(c_int) :: output = 0
      integer(c_int) :: input = 0
      type(c_ptr) :: stencil = c_null_ptr
      type(c_ptr) :: scale = c_null_ptr
   end type pel_stencil_term
   !> pel_stencil_blocking (tile extents in C order: tile(1) is C's axis 0).
   type, bind(C), public :: pel_stencil_blocking
      integer(c_size_t) :: tile(3) = 0
      integer(c_size_t) :: time_block = 0
      integer(c_size_t) :: cache_bytes = 0
      integer(c_int) :: streaming_stores = 0
   end type pel_stencil_blocking

   ! ------------------------------------------------------------ tune (include/pel/tune.h)
   ! pel_machine_source: where a number of the machine model comes from.
   integer(c_int), parameter, public :: PEL_MACHINE_DEFAULT = 0, PEL_MACHINE_REPORTED = 1, &
                                        PEL_MACHINE_MEASURED = 2
   !> pel_machine_cache: one data-cache level of the model (bytes: the
   !> effective capacity pel plans with; reported_bytes: sysfs/sysconf).
   type, bind(C), public :: pel_machine_cache
      integer(c_size_t) :: bytes = 0
      integer(c_size_t) :: reported_bytes = 0
      integer(c_int) :: shared_by = 0
      real(c_double) :: gbps = 0
      integer(c_int) :: source = PEL_MACHINE_DEFAULT
   end type pel_machine_cache
   !> pel_machine: the measured machine model (pel_machine_info); cache(1..3)
   !> are L1d, L2, L3; sweep_point_*(1:sweep_points) the bandwidth sweep.
   type, bind(C), public :: pel_machine
      integer(c_int) :: threads = 0
      type(pel_machine_cache) :: cache(3)
      real(c_double) :: memory_gbps = 0
      integer(c_int) :: memory_source = PEL_MACHINE_DEFAULT
      real(c_double) :: fma_gflops = 0
      integer(c_int) :: fma_source = PEL_MACHINE_DEFAULT
      real(c_double) :: parallel_region_us = 0
      integer(c_size_t) :: sweep_bytes = 0
      integer(c_int) :: sweep_points = 0
      integer(c_size_t) :: sweep_point_bytes(32) = 0
      real(c_double) :: sweep_point_gbps(32) = 0
      real(c_double) :: measure_seconds = 0
   end type pel_machine

   ! Direct bindings, under the C names: every argument as in C (pointers
   ! as type(c_ptr), sizes by value, outputs by reference). The wrappers
   ! further down are easier from Fortran; these reach everything.
   interface
      integer(c_int) function pel_dgemm(layout, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) &
         bind(C, name="pel_dgemm")
         import :: c_int, c_size_t, c_double, c_ptr
         integer(c_int), value :: layout, transa, transb
         integer(c_size_t), value :: m, n, k, lda, ldb, ldc
         real(c_double), value :: alpha, beta
         type(c_ptr), value :: a, b, c
      end function pel_dgemm
      integer(c_int) function pel_sgemm(layout, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) &
         bind(C, name="pel_sgemm")
         import :: c_int, c_size_t, c_float, c_ptr
         integer(c_int), value :: layout, transa, transb
         integer(c_size_t), value :: m, n, k, lda, ldb, ldc
         real(c_float), value :: alpha, beta
         type(c_ptr), value :: a, b, c
      end function pel_sgemm
      integer(c_int) function pel_zgemm(layout, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) &
         bind(C, name="pel_zgemm")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, transa, transb
         integer(c_size_t), value :: m, n, k, lda, ldb, ldc
         type(c_ptr), value :: alpha, a, b, beta, c
      end function pel_zgemm
      integer(c_int) function pel_dgemv(layout, trans, m, n, alpha, a, lda, x, incx, beta, y, incy) &
         bind(C, name="pel_dgemv")
         import :: c_int, c_size_t, c_double, c_ptr, c_ptrdiff_t
         integer(c_int), value :: layout, trans
         integer(c_size_t), value :: m, n, lda
         real(c_double), value :: alpha, beta
         type(c_ptr), value :: a, x, y
         integer(c_ptrdiff_t), value :: incx, incy
      end function pel_dgemv
      integer(c_int) function pel_sgemv(layout, trans, m, n, alpha, a, lda, x, incx, beta, y, incy) &
         bind(C, name="pel_sgemv")
         import :: c_int, c_size_t, c_float, c_ptr, c_ptrdiff_t
         integer(c_int), value :: layout, trans
         integer(c_size_t), value :: m, n, lda
         real(c_float), value :: alpha, beta
         type(c_ptr), value :: a, x, y
         integer(c_ptrdiff_t), value :: incx, incy
      end function pel_sgemv
      integer(c_int) function pel_dgemm_batch_strided(layout, transa, transb, m, n, k, alpha, a, lda, stride_a, &
                                                      b, ldb, stride_b, beta, c, ldc, stride_c, batch_count) &
         bind(C, name="pel_dgemm_batch_strided")
         import :: c_int, c_size_t, c_double, c_ptr
         integer(c_int), value :: layout, transa, transb
         integer(c_size_t), value :: m, n, k, lda, stride_a, ldb, stride_b, ldc, stride_c, batch_count
         real(c_double), value :: alpha, beta
         type(c_ptr), value :: a, b, c
      end function pel_dgemm_batch_strided
      integer(c_int) function pel_sgemm_batch_strided(layout, transa, transb, m, n, k, alpha, a, lda, stride_a, &
                                                      b, ldb, stride_b, beta, c, ldc, stride_c, batch_count) &
         bind(C, name="pel_sgemm_batch_strided")
         import :: c_int, c_size_t, c_float, c_ptr
         integer(c_int), value :: layout, transa, transb
         integer(c_size_t), value :: m, n, k, lda, stride_a, ldb, stride_b, ldc, stride_c, batch_count
         real(c_float), value :: alpha, beta
         type(c_ptr), value :: a, b, c
      end function pel_sgemm_batch_strided
      !> a, b, c: c_loc of arrays of type(c_ptr), one per item.
      integer(c_int) function pel_dgemm_batch(layout, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, &
                                              batch_count) bind(C, name="pel_dgemm_batch")
         import :: c_int, c_size_t, c_double, c_ptr
         integer(c_int), value :: layout, transa, transb
         integer(c_size_t), value :: m, n, k, lda, ldb, ldc, batch_count
         real(c_double), value :: alpha, beta
         type(c_ptr), value :: a, b, c
      end function pel_dgemm_batch
      integer(c_int) function pel_sgemm_batch(layout, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, &
                                              batch_count) bind(C, name="pel_sgemm_batch")
         import :: c_int, c_size_t, c_float, c_ptr
         integer(c_int), value :: layout, transa, transb
         integer(c_size_t), value :: m, n, k, lda, ldb, ldc, batch_count
         real(c_float), value :: alpha, beta
         type(c_ptr), value :: a, b, c
      end function pel_sgemm_batch
      integer(c_int) function pel_domatcopy(layout, trans, rows, cols, alpha, a, lda, b, ldb) &
         bind(C, name="pel_domatcopy")
         import :: c_int, c_size_t, c_double, c_ptr
         integer(c_int), value :: layout, trans
         integer(c_size_t), value :: rows, cols, lda, ldb
         real(c_double), value :: alpha
         type(c_ptr), value :: a, b
      end function pel_domatcopy
      integer(c_int) function pel_somatcopy(layout, trans, rows, cols, alpha, a, lda, b, ldb) &
         bind(C, name="pel_somatcopy")
         import :: c_int, c_size_t, c_float, c_ptr
         integer(c_int), value :: layout, trans
         integer(c_size_t), value :: rows, cols, lda, ldb
         real(c_float), value :: alpha
         type(c_ptr), value :: a, b
      end function pel_somatcopy
      integer(c_int) function pel_dtranspose_square(n, a, lda) bind(C, name="pel_dtranspose_square")
         import :: c_int, c_size_t, c_ptr
         integer(c_size_t), value :: n, lda
         type(c_ptr), value :: a
      end function pel_dtranspose_square
      integer(c_int) function pel_stranspose_square(n, a, lda) bind(C, name="pel_stranspose_square")
         import :: c_int, c_size_t, c_ptr
         integer(c_size_t), value :: n, lda
         type(c_ptr), value :: a
      end function pel_stranspose_square
      integer(c_int) function pel_daxpy(n, alpha, x, incx, y, incy) bind(C, name="pel_daxpy")
         import :: c_int, c_size_t, c_double, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         real(c_double), value :: alpha
         type(c_ptr), value :: x, y
         integer(c_ptrdiff_t), value :: incx, incy
      end function pel_daxpy
      integer(c_int) function pel_saxpy(n, alpha, x, incx, y, incy) bind(C, name="pel_saxpy")
         import :: c_int, c_size_t, c_float, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         real(c_float), value :: alpha
         type(c_ptr), value :: x, y
         integer(c_ptrdiff_t), value :: incx, incy
      end function pel_saxpy
      integer(c_int) function pel_dscal(n, alpha, x, incx) bind(C, name="pel_dscal")
         import :: c_int, c_size_t, c_double, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         real(c_double), value :: alpha
         type(c_ptr), value :: x
         integer(c_ptrdiff_t), value :: incx
      end function pel_dscal
      integer(c_int) function pel_sscal(n, alpha, x, incx) bind(C, name="pel_sscal")
         import :: c_int, c_size_t, c_float, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         real(c_float), value :: alpha
         type(c_ptr), value :: x
         integer(c_ptrdiff_t), value :: incx
      end function pel_sscal
      integer(c_int) function pel_ddot(n, x, incx, y, incy, result) bind(C, name="pel_ddot")
         import :: c_int, c_size_t, c_double, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         type(c_ptr), value :: x, y
         integer(c_ptrdiff_t), value :: incx, incy
         real(c_double), intent(inout) :: result
      end function pel_ddot
      integer(c_int) function pel_sdot(n, x, incx, y, incy, result) bind(C, name="pel_sdot")
         import :: c_int, c_size_t, c_float, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         type(c_ptr), value :: x, y
         integer(c_ptrdiff_t), value :: incx, incy
         real(c_float), intent(inout) :: result
      end function pel_sdot
      integer(c_int) function pel_dnrm2(n, x, incx, result) bind(C, name="pel_dnrm2")
         import :: c_int, c_size_t, c_double, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         type(c_ptr), value :: x
         integer(c_ptrdiff_t), value :: incx
         real(c_double), intent(inout) :: result
      end function pel_dnrm2
      integer(c_int) function pel_snrm2(n, x, incx, result) bind(C, name="pel_snrm2")
         import :: c_int, c_size_t, c_float, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         type(c_ptr), value :: x
         integer(c_ptrdiff_t), value :: incx
         real(c_float), intent(inout) :: result
      end function pel_snrm2
      integer(c_int) function pel_dasum(n, x, incx, result) bind(C, name="pel_dasum")
         import :: c_int, c_size_t, c_double, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         type(c_ptr), value :: x
         integer(c_ptrdiff_t), value :: incx
         real(c_double), intent(inout) :: result
      end function pel_dasum
      integer(c_int) function pel_sasum(n, x, incx, result) bind(C, name="pel_sasum")
         import :: c_int, c_size_t, c_float, c_ptr, c_ptrdiff_t
         integer(c_size_t), value :: n
         type(c_ptr), value :: x
         integer(c_ptrdiff_t), value :: incx
         real(c_float), intent(inout) :: result
      end function pel_sasum
      integer(c_int) function pel_dgesv(layout, n, nrhs, a, lda, b, ldb) bind(C, name="pel_dgesv")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, nrhs, lda, ldb
         type(c_ptr), value :: a, b
      end function pel_dgesv
      integer(c_int) function pel_sgesv(layout, n, nrhs, a, lda, b, ldb) bind(C, name="pel_sgesv")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, nrhs, lda, ldb
         type(c_ptr), value :: a, b
      end function pel_sgesv
      integer(c_int) function pel_dposv(layout, uplo, n, nrhs, a, lda, b, ldb) bind(C, name="pel_dposv")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, uplo
         integer(c_size_t), value :: n, nrhs, lda, ldb
         type(c_ptr), value :: a, b
      end function pel_dposv
      integer(c_int) function pel_sposv(layout, uplo, n, nrhs, a, lda, b, ldb) bind(C, name="pel_sposv")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, uplo
         integer(c_size_t), value :: n, nrhs, lda, ldb
         type(c_ptr), value :: a, b
      end function pel_sposv
      ! Batched LAPACK (pel/matrix.h): stacks of small problems in parallel.
      integer(c_int) function pel_dgesv_batch(layout, n, nrhs, batch, a, lda, stride_a, b, ldb, stride_b, x, ldx, &
                                     stride_x) bind(C, name="pel_dgesv_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, nrhs, batch, lda, stride_a, ldb, stride_b, ldx, stride_x
         type(c_ptr), value :: a, b, x
      end function pel_dgesv_batch
      integer(c_int) function pel_sgesv_batch(layout, n, nrhs, batch, a, lda, stride_a, b, ldb, stride_b, x, ldx, &
                                     stride_x) bind(C, name="pel_sgesv_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, nrhs, batch, lda, stride_a, ldb, stride_b, ldx, stride_x
         type(c_ptr), value :: a, b, x
      end function pel_sgesv_batch
      integer(c_int) function pel_zgesv_batch(layout, n, nrhs, batch, a, lda, stride_a, b, ldb, stride_b, x, ldx, &
                                     stride_x) bind(C, name="pel_zgesv_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, nrhs, batch, lda, stride_a, ldb, stride_b, ldx, stride_x
         type(c_ptr), value :: a, b, x
      end function pel_zgesv_batch
      integer(c_int) function pel_dinv_batch(layout, n, batch, a, lda, stride_a, inv, ldinv, stride_inv) &
         bind(C, name="pel_dinv_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, batch, lda, stride_a, ldinv, stride_inv
         type(c_ptr), value :: a, inv
      end function pel_dinv_batch
      integer(c_int) function pel_sinv_batch(layout, n, batch, a, lda, stride_a, inv, ldinv, stride_inv) &
         bind(C, name="pel_sinv_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, batch, lda, stride_a, ldinv, stride_inv
         type(c_ptr), value :: a, inv
      end function pel_sinv_batch
      integer(c_int) function pel_ddet_batch(layout, n, batch, a, lda, stride_a, det, sign, logabsdet) &
         bind(C, name="pel_ddet_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, batch, lda, stride_a
         type(c_ptr), value :: a, det, sign, logabsdet
      end function pel_ddet_batch
      integer(c_int) function pel_sdet_batch(layout, n, batch, a, lda, stride_a, det, sign, logabsdet) &
         bind(C, name="pel_sdet_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout
         integer(c_size_t), value :: n, batch, lda, stride_a
         type(c_ptr), value :: a, det, sign, logabsdet
      end function pel_sdet_batch
      integer(c_int) function pel_dcholesky_batch(layout, uplo, n, batch, a, lda, stride_a, l, ldl, stride_l) &
         bind(C, name="pel_dcholesky_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, uplo
         integer(c_size_t), value :: n, batch, lda, stride_a, ldl, stride_l
         type(c_ptr), value :: a, l
      end function pel_dcholesky_batch
      integer(c_int) function pel_scholesky_batch(layout, uplo, n, batch, a, lda, stride_a, l, ldl, stride_l) &
         bind(C, name="pel_scholesky_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, uplo
         integer(c_size_t), value :: n, batch, lda, stride_a, ldl, stride_l
         type(c_ptr), value :: a, l
      end function pel_scholesky_batch
      integer(c_int) function pel_deigh_batch(layout, uplo, n, batch, a, lda, stride_a, w, stride_w, v, ldv, stride_v) &
         bind(C, name="pel_deigh_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, uplo
         integer(c_size_t), value :: n, batch, lda, stride_a, stride_w, ldv, stride_v
         type(c_ptr), value :: a, w, v
      end function pel_deigh_batch
      integer(c_int) function pel_seigh_batch(layout, uplo, n, batch, a, lda, stride_a, w, stride_w, v, ldv, stride_v) &
         bind(C, name="pel_seigh_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, uplo
         integer(c_size_t), value :: n, batch, lda, stride_a, stride_w, ldv, stride_v
         type(c_ptr), value :: a, w, v
      end function pel_seigh_batch
      integer(c_int) function pel_dsvd_batch(layout, m, n, batch, a, lda, stride_a, s, stride_s, u, ldu, stride_u, &
                                    vt, ldvt, stride_vt, full_matrices) bind(C, name="pel_dsvd_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, full_matrices
         integer(c_size_t), value :: m, n, batch, lda, stride_a, stride_s, ldu, stride_u, ldvt, stride_vt
         type(c_ptr), value :: a, s, u, vt
      end function pel_dsvd_batch
      integer(c_int) function pel_ssvd_batch(layout, m, n, batch, a, lda, stride_a, s, stride_s, u, ldu, stride_u, &
                                    vt, ldvt, stride_vt, full_matrices) bind(C, name="pel_ssvd_batch")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: layout, full_matrices
         integer(c_size_t), value :: m, n, batch, lda, stride_a, stride_s, ldu, stride_u, ldvt, stride_vt
         type(c_ptr), value :: a, s, u, vt
      end function pel_ssvd_batch

      ! ---- sparse (0-based size_t arrays; the wrapper pel_csr_create takes 1-based ones)
      integer(c_int) function pel_csr_create_c(precision, rows, cols, row_ptr, col_idx, values, matrix) &
         bind(C, name="pel_csr_create")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: precision
         integer(c_size_t), value :: rows, cols
         type(c_ptr), value :: row_ptr, col_idx, values
         type(c_ptr), intent(inout) :: matrix
      end function pel_csr_create_c
      subroutine pel_csr_destroy(matrix) bind(C, name="pel_csr_destroy")
         import :: c_ptr
         type(c_ptr), value :: matrix
      end subroutine pel_csr_destroy
      integer(c_size_t) function pel_csr_rows(matrix) bind(C, name="pel_csr_rows")
         import :: c_size_t, c_ptr
         type(c_ptr), value :: matrix
      end function pel_csr_rows
      integer(c_size_t) function pel_csr_cols(matrix) bind(C, name="pel_csr_cols")
         import :: c_size_t, c_ptr
         type(c_ptr), value :: matrix
      end function pel_csr_cols
      integer(c_size_t) function pel_csr_nnz(matrix) bind(C, name="pel_csr_nnz")
         import :: c_size_t, c_ptr
         type(c_ptr), value :: matrix
      end function pel_csr_nnz
      integer(c_int) function pel_csr_precision(matrix) bind(C, name="pel_csr_precision")
         import :: c_int, c_ptr
         type(c_ptr), value :: matrix
      end function pel_csr_precision
      integer(c_int) function pel_csr_export(matrix, row_ptr, col_idx, values) bind(C, name="pel_csr_export")
         import :: c_int, c_ptr
         type(c_ptr), value :: matrix, row_ptr, col_idx, values
      end function pel_csr_export
      integer(c_int) function pel_csr_spmv_c(matrix, alpha, x, beta, y) bind(C, name="pel_csr_spmv")
         import :: c_int, c_double, c_ptr
         type(c_ptr), value :: matrix
         real(c_double), value :: alpha, beta
         type(c_ptr), value :: x, y
      end function pel_csr_spmv_c
      integer(c_int) function pel_csr_spmm(matrix, layout, nvec, alpha, x, ldx, beta, y, ldy) &
         bind(C, name="pel_csr_spmm")
         import :: c_int, c_size_t, c_double, c_ptr
         type(c_ptr), value :: matrix
         integer(c_int), value :: layout
         integer(c_size_t), value :: nvec, ldx, ldy
         real(c_double), value :: alpha, beta
         type(c_ptr), value :: x, y
      end function pel_csr_spmm
      integer(c_int) function pel_csr_read_mtx_c(path, precision, matrix) bind(C, name="pel_csr_read_mtx")
         import :: c_int, c_char, c_ptr
         character(kind=c_char), dimension(*), intent(in) :: path
         integer(c_int), value :: precision
         type(c_ptr), intent(inout) :: matrix
      end function pel_csr_read_mtx_c
      integer(c_int) function pel_csr_write_mtx_c(matrix, path) bind(C, name="pel_csr_write_mtx")
         import :: c_int, c_char, c_ptr
         type(c_ptr), value :: matrix
         character(kind=c_char), dimension(*), intent(in) :: path
      end function pel_csr_write_mtx_c

      ! ---- fft (dims in C order: dims(1) is the slowest axis)
      integer(c_int) function pel_fft_plan_create(kind, precision, rank, dims, howmany, direction, in_place, &
                                                  options, plan) bind(C, name="pel_fft_plan_create")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: kind, precision, rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), value :: direction, in_place
         type(c_ptr), value :: options
         type(c_ptr), intent(inout) :: plan
      end function pel_fft_plan_create
      integer(c_int) function pel_fft_execute(plan, in, out) bind(C, name="pel_fft_execute")
         import :: c_int, c_ptr
         type(c_ptr), value :: plan, in, out
      end function pel_fft_execute
      subroutine pel_fft_plan_destroy(plan) bind(C, name="pel_fft_plan_destroy")
         import :: c_ptr
         type(c_ptr), value :: plan
      end subroutine pel_fft_plan_destroy
      integer(c_int) function pel_fft_plan_threads(plan) bind(C, name="pel_fft_plan_threads")
         import :: c_int, c_ptr
         type(c_ptr), value :: plan
      end function pel_fft_plan_threads
      integer(c_int) function pel_fft_c2c_c(rank, dims, howmany, direction, norm, in, out) bind(C, name="pel_fft_c2c")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), value :: direction, norm
         type(c_ptr), value :: in, out
      end function pel_fft_c2c_c
      integer(c_int) function pel_fft_c2c_float(rank, dims, howmany, direction, norm, in, out) &
         bind(C, name="pel_fft_c2c_float")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), value :: direction, norm
         type(c_ptr), value :: in, out
      end function pel_fft_c2c_float
      integer(c_int) function pel_fft_r2c_c(rank, dims, howmany, norm, in, out) bind(C, name="pel_fft_r2c")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), value :: norm
         type(c_ptr), value :: in, out
      end function pel_fft_r2c_c
      integer(c_int) function pel_fft_r2c_float(rank, dims, howmany, norm, in, out) bind(C, name="pel_fft_r2c_float")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), value :: norm
         type(c_ptr), value :: in, out
      end function pel_fft_r2c_float
      integer(c_int) function pel_fft_c2r_c(rank, dims, howmany, norm, in, out) bind(C, name="pel_fft_c2r")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), value :: norm
         type(c_ptr), value :: in, out
      end function pel_fft_c2r_c
      integer(c_int) function pel_fft_c2r_float(rank, dims, howmany, norm, in, out) bind(C, name="pel_fft_c2r_float")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), value :: norm
         type(c_ptr), value :: in, out
      end function pel_fft_c2r_float
      ! Real-to-real (DCT/DST) transforms: kinds(d) is PEL_FFT_DCT1..PEL_FFT_DST4
      ! along C dimension d (row-major dims, as the other FFT calls).
      integer(c_int) function pel_fft_r2r_c(rank, dims, howmany, kinds, norm, in, out) bind(C, name="pel_fft_r2r")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), intent(in) :: kinds(*)
         integer(c_int), value :: norm
         type(c_ptr), value :: in, out
      end function pel_fft_r2r_c
      integer(c_int) function pel_fft_r2r_float(rank, dims, howmany, kinds, norm, in, out) &
         bind(C, name="pel_fft_r2r_float")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), intent(in) :: kinds(*)
         integer(c_int), value :: norm
         type(c_ptr), value :: in, out
      end function pel_fft_r2r_float
      integer(c_int) function pel_fft_r2r_plan_create(precision, rank, dims, howmany, kinds, in_place, options, &
                                                      plan) bind(C, name="pel_fft_r2r_plan_create")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: precision, rank, in_place
         integer(c_size_t), intent(in) :: dims(*)
         integer(c_size_t), value :: howmany
         integer(c_int), intent(in) :: kinds(*)
         type(c_ptr), value :: options
         type(c_ptr), intent(out) :: plan
      end function pel_fft_r2r_plan_create
      integer(c_size_t) function pel_fft_r2r_logical_size(kind, n) bind(C, name="pel_fft_r2r_logical_size")
         import :: c_int, c_size_t
         integer(c_int), value :: kind
         integer(c_size_t), value :: n
      end function pel_fft_r2r_logical_size
      integer(c_int) function pel_fft_set_default_effort(effort, time_limit) bind(C, name="pel_fft_set_default_effort")
         import :: c_int, c_double
         integer(c_int), value :: effort
         real(c_double), value :: time_limit
      end function pel_fft_set_default_effort
      integer(c_int) function pel_fft_get_default_effort() bind(C, name="pel_fft_get_default_effort")
         import :: c_int
      end function pel_fft_get_default_effort
      integer(c_int) function pel_fft_cache_get_stats(stats) bind(C, name="pel_fft_cache_get_stats")
         import :: c_int, pel_fft_cache_stats
         type(pel_fft_cache_stats), intent(inout) :: stats
      end function pel_fft_cache_get_stats
      subroutine pel_fft_cache_reset_stats() bind(C, name="pel_fft_cache_reset_stats")
      end subroutine pel_fft_cache_reset_stats
      subroutine pel_fft_cache_clear() bind(C, name="pel_fft_cache_clear")
      end subroutine pel_fft_cache_clear
      integer(c_int) function pel_fft_cache_set_capacity(capacity) bind(C, name="pel_fft_cache_set_capacity")
         import :: c_int, c_size_t
         integer(c_size_t), value :: capacity
      end function pel_fft_cache_set_capacity
      integer(c_int) function pel_fft_wisdom_export_file_c(precision, path) bind(C, name="pel_fft_wisdom_export_file")
         import :: c_int, c_char
         integer(c_int), value :: precision
         character(kind=c_char), dimension(*), intent(in) :: path
      end function pel_fft_wisdom_export_file_c
      integer(c_int) function pel_fft_wisdom_import_file_c(precision, path) bind(C, name="pel_fft_wisdom_import_file")
         import :: c_int, c_char
         integer(c_int), value :: precision
         character(kind=c_char), dimension(*), intent(in) :: path
      end function pel_fft_wisdom_import_file_c
      integer(c_int) function pel_fft_wisdom_export_string(precision, text) bind(C, name="pel_fft_wisdom_export_string")
         import :: c_int, c_ptr
         integer(c_int), value :: precision
         type(c_ptr), intent(inout) :: text
      end function pel_fft_wisdom_export_string
      integer(c_int) function pel_fft_wisdom_import_string_c(precision, text) &
         bind(C, name="pel_fft_wisdom_import_string")
         import :: c_int, c_char
         integer(c_int), value :: precision
         character(kind=c_char), dimension(*), intent(in) :: text
      end function pel_fft_wisdom_import_string_c
      subroutine pel_fft_wisdom_forget() bind(C, name="pel_fft_wisdom_forget")
      end subroutine pel_fft_wisdom_forget
      integer(c_int) function pel_fft_convolve_shape(rank, a_dims, b_dims, mode, out_dims) &
         bind(C, name="pel_fft_convolve_shape")
         import :: c_int, c_size_t
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: a_dims(*), b_dims(*)
         integer(c_int), value :: mode
         integer(c_size_t), intent(inout) :: out_dims(*)
      end function pel_fft_convolve_shape
      integer(c_int) function pel_fft_convolve_c(rank, a_dims, a, b_dims, b, mode, out) bind(C, name="pel_fft_convolve")
         import :: c_int, c_size_t, c_ptr
         integer(c_int), value :: rank
         integer(c_size_t), intent(in) :: a_dims(*), b_dims(*)
         type(c_ptr), value :: a, b
         integer(c_int), value :: mode
         type(c_ptr), value :: out
      end function pel_fft_convolve_c

      ! ---- stencil (dims and faces in C order)
      integer(c_int) function pel_stencil_create_c(precision, ndim, shape, radius, coefficients, ncoefficients, &
                                                   has_rhs, rhs_weight, stencil) bind(C, name="pel_stencil_create")
         import :: c_int, c_size_t, c_double, c_ptr
         integer(c_int), value :: precision, ndim, shape, radius
         real(c_double), intent(in) :: coefficients(*)
         integer(c_size_t), value :: ncoefficients
         integer(c_int), value :: has_rhs
         real(c_double), value :: rhs_weight
         type(c_ptr), intent(inout) :: stencil
      end function pel_stencil_create_c
      integer(c_int) function pel_stencil_create_laplacian(precision, ndim, npoints, spacing, stencil) &
         bind(C, name="pel_stencil_create_laplacian")
         import :: c_int, c_double, c_ptr
         integer(c_int), value :: precision, ndim, npoints
         real(c_double), value :: spacing
         type(c_ptr), intent(inout) :: stencil
      end function pel_stencil_create_laplacian
      subroutine pel_stencil_destroy(stencil) bind(C, name="pel_stencil_destroy")
         import :: c_ptr
         type(c_ptr), value :: stencil
      end subroutine pel_stencil_destroy
      integer(c_int) function pel_stencil_info_c(stencil, precision, ndim, radius, npoints) &
         bind(C, name="pel_stencil_info")
         import :: c_int, c_ptr
         type(c_ptr), value :: stencil, precision, ndim, radius, npoints
      end function pel_stencil_info_c
      integer(c_int) function pel_stencil_apply_c(stencil, dims, faces, grid, work, rhs, nsteps, blocking, result) &
         bind(C, name="pel_stencil_apply")
         import :: c_int, c_size_t, c_ptr, pel_boundary
         type(c_ptr), value :: stencil
         integer(c_size_t), intent(in) :: dims(*)
         type(pel_boundary), intent(in) :: faces(*)
         type(c_ptr), value :: grid, work, rhs
         integer(c_size_t), value :: nsteps
         type(c_ptr), value :: blocking
         type(c_ptr), intent(inout) :: result
      end function pel_stencil_apply_c
      integer(c_int) function pel_stencil_grid_alloc(stencil, dims, grid) bind(C, name="pel_stencil_grid_alloc")
         import :: c_int, c_size_t, c_ptr
         type(c_ptr), value :: stencil
         integer(c_size_t), intent(in) :: dims(*)
         type(c_ptr), intent(inout) :: grid
      end function pel_stencil_grid_alloc
      integer(c_int) function pel_stencil_jacobi_poisson_c(precision, ndim, dims, spacing, faces, u, f, tolerance, &
                                                           max_iterations, check_interval, iterations, residual) &
         bind(C, name="pel_stencil_jacobi_poisson")
         import :: c_int, c_size_t, c_double, c_ptr, pel_boundary
         integer(c_int), value :: precision, ndim
         integer(c_size_t), intent(in) :: dims(*)
         real(c_double), intent(in) :: spacing(*)
         type(pel_boundary), intent(in) :: faces(*)
         type(c_ptr), value :: u, f
         real(c_double), value :: tolerance
         integer(c_size_t), value :: max_iterations, check_interval
         type(c_ptr), value :: iterations, residual
      end function pel_stencil_jacobi_poisson_c
      integer(c_int) function pel_stencil_apply_factored_c(stencil, dims, faces, grid, work, scale, center, rhs, &
                                                           nsteps, blocking, result) &
         bind(C, name="pel_stencil_apply_factored")
         import :: c_int, c_size_t, c_ptr, pel_boundary
         type(c_ptr), value :: stencil
         integer(c_size_t), intent(in) :: dims(*)
         type(pel_boundary), intent(in) :: faces(*)
         type(c_ptr), value :: grid, work, scale, center, rhs
         integer(c_size_t), value :: nsteps
         type(c_ptr), value :: blocking
         type(c_ptr), intent(inout) :: result
      end function pel_stencil_apply_factored_c
      integer(c_int) function pel_stencil_apply_general_c(stencil, dims, faces, grid, work, term_grids, rhs, &
                                                          nsteps, blocking, result) &
         bind(C, name="pel_stencil_apply_general")
         import :: c_int, c_size_t, c_ptr, pel_boundary
         type(c_ptr), value :: stencil
         integer(c_size_t), intent(in) :: dims(*)
         type(pel_boundary), intent(in) :: faces(*)
         type(c_ptr), value :: grid, work
         type(c_ptr), intent(in) :: term_grids(*)
         type(c_ptr), value :: rhs
         integer(c_size_t), value :: nsteps
         type(c_ptr), value :: blocking
         type(c_ptr), intent(inout) :: result
      end function pel_stencil_apply_general_c
      integer(c_int) function pel_stencil_apply_wave_c(stencil, dims, faces, levels, alpha, beta, gamma, nsteps, &
                                                       blocking) bind(C, name="pel_stencil_apply_wave")
         import :: c_int, c_size_t, c_double, c_ptr, pel_boundary
         type(c_ptr), value :: stencil
         integer(c_size_t), intent(in) :: dims(*)
         type(pel_boundary), intent(in) :: faces(*)
         type(c_ptr), intent(inout) :: levels(4)
         real(c_double), value :: alpha, beta
         type(c_ptr), value :: gamma
         integer(c_size_t), value :: nsteps
         type(c_ptr), value :: blocking
      end function pel_stencil_apply_wave_c
      integer(c_int) function pel_stencil_create_fma_c(precision, ndim, shape, radius, coefficients, ncoefficients, &
                                                       has_rhs, rhs_weight, stencil) bind(C, name="pel_stencil_create_fma")
         import :: c_int, c_size_t, c_double, c_ptr
         integer(c_int), value :: precision, ndim, shape, radius
         real(c_double), intent(in) :: coefficients(*)
         integer(c_size_t), value :: ncoefficients
         integer(c_int), value :: has_rhs
         real(c_double), value :: rhs_weight
         type(c_ptr), intent(inout) :: stencil
      end function pel_stencil_create_fma_c
      integer(c_int) function pel_stencil_system_apply_c(nfields, terms, nterms, dims, faces, fields, work, nsteps, &
                                                         blocking) bind(C, name="pel_stencil_system_apply")
         import :: c_int, c_size_t, c_ptr, pel_boundary, pel_stencil_term
         integer(c_int), value :: nfields
         type(pel_stencil_term), intent(in) :: terms(*)
         integer(c_size_t), value :: nterms
         integer(c_size_t), intent(in) :: dims(*)
         type(pel_boundary), intent(in) :: faces(*)
         type(c_ptr), intent(inout) :: fields(*)
         type(c_ptr), value :: work
         integer(c_size_t), value :: nsteps
         type(c_ptr), value :: blocking
      end function pel_stencil_system_apply_c
      integer(c_int) function pel_stencil_apply_rows_c(precision, ndim, radius, dims, faces, grid, work, function, &
                                                       user_data, nsteps, blocking, result) &
         bind(C, name="pel_stencil_apply_rows")
         import :: c_int, c_size_t, c_ptr, c_funptr, pel_boundary
         integer(c_int), value :: precision, ndim, radius
         integer(c_size_t), intent(in) :: dims(*)
         type(pel_boundary), intent(in) :: faces(*)
         type(c_ptr), value :: grid, work
         type(c_funptr), value :: function
         type(c_ptr), value :: user_data
         integer(c_size_t), value :: nsteps
         type(c_ptr), value :: blocking
         type(c_ptr), intent(inout) :: result
      end function pel_stencil_apply_rows_c
   end interface
   public :: pel_dgemm, pel_sgemm, pel_zgemm, pel_dgemv, pel_sgemv, pel_dgemm_batch_strided, &
             pel_sgemm_batch_strided, pel_dgemm_batch, pel_sgemm_batch, pel_domatcopy, pel_somatcopy, &
             pel_dtranspose_square, pel_stranspose_square, pel_daxpy, pel_saxpy, pel_dscal, pel_sscal, pel_ddot, &
             pel_sdot, pel_dnrm2, pel_snrm2, pel_dasum, pel_sasum, pel_dgesv, pel_sgesv, pel_dposv, pel_sposv
   public :: pel_dgesv_batch, pel_sgesv_batch, pel_zgesv_batch, pel_dinv_batch, pel_sinv_batch, pel_ddet_batch, &
             pel_sdet_batch, pel_dcholesky_batch, pel_scholesky_batch, pel_deigh_batch, pel_seigh_batch, &
             pel_dsvd_batch, pel_ssvd_batch
   public :: pel_csr_create_c, pel_csr_destroy, pel_csr_rows, pel_csr_cols, pel_csr_nnz, pel_csr_precision, &
             pel_csr_export, pel_csr_spmv_c, pel_csr_spmm, pel_csr_read_mtx_c, pel_csr_write_mtx_c
   public :: pel_fft_plan_create, pel_fft_execute, pel_fft_plan_destroy, pel_fft_plan_threads, pel_fft_c2c_c, &
             pel_fft_c2c_float, pel_fft_r2c_c, pel_fft_r2c_float, pel_fft_c2r_c, pel_fft_c2r_float, &
             pel_fft_r2r_c, pel_fft_r2r_float, pel_fft_r2r_plan_create, pel_fft_r2r_logical_size, &
             pel_fft_set_default_effort, pel_fft_get_default_effort, pel_fft_cache_get_stats, &
             pel_fft_cache_reset_stats, pel_fft_cache_clear, pel_fft_cache_set_capacity, &
             pel_fft_wisdom_export_file_c, pel_fft_wisdom_import_file_c, pel_fft_wisdom_export_string, &
             pel_fft_wisdom_import_string_c, pel_fft_wisdom_forget, pel_fft_convolve_shape, pel_fft_convolve_c
   public :: pel_stencil_create_c, pel_stencil_create_laplacian, pel_stencil_destroy, pel_stencil_info_c, &
             pel_stencil_apply_c, pel_stencil_grid_alloc, pel_stencil_jacobi_poisson_c, &
             pel_stencil_apply_factored_c, pel_stencil_apply_general_c, pel_stencil_apply_wave_c, &
             pel_stencil_apply_rows_c, pel_stencil_create_fma_c, pel_stencil_system_apply_c
   public :: pel_parallel_for_c, pel_reduce_sum_c, pel_parallel_reduce_c, pel_run_tasks_c, pel_task_plan_c, &
             pel_set_min_work_per_thread_c, pel_threads_for_work_c, pel_malloc_c, pel_calloc_c, pel_strerror_c, &
             pel_status_name_c, pel_version_c, pel_backend_info_c

   ! ------------------------------------------------------------ tune: the machine model and pel's wisdom
   interface
      !> Copies the machine model into model, measuring it first (once per process).
      integer(c_int) function pel_machine_info(model) bind(C, name="pel_machine_info")
         import :: c_int, pel_machine
         type(pel_machine), intent(inout) :: model
      end function pel_machine_info
      type(c_ptr) function pel_machine_source_name_c(source) bind(C, name="pel_machine_source_name")
         import :: c_ptr, c_int
         integer(c_int), value :: source
      end function pel_machine_source_name_c
      integer(c_int) function pel_wisdom_export_c(text) bind(C, name="pel_wisdom_export")
         import :: c_int, c_ptr
         type(c_ptr), intent(inout) :: text
      end function pel_wisdom_export_c
      integer(c_int) function pel_wisdom_import_c(text, applied) bind(C, name="pel_wisdom_import")
         import :: c_int, c_char
         character(kind=c_char), dimension(*), intent(in) :: text
         integer(c_int), intent(inout) :: applied
      end function pel_wisdom_import_c
      integer(c_int) function pel_wisdom_export_file_c(path) bind(C, name="pel_wisdom_export_file")
         import :: c_int, c_char
         character(kind=c_char), dimension(*), intent(in) :: path
      end function pel_wisdom_export_file_c
      integer(c_int) function pel_wisdom_import_file_c(path, applied) bind(C, name="pel_wisdom_import_file")
         import :: c_int, c_char
         character(kind=c_char), dimension(*), intent(in) :: path
         integer(c_int), intent(inout) :: applied
      end function pel_wisdom_import_file_c
   end interface
   public :: pel_machine_info, pel_machine_source_name_c, pel_wisdom_export_c, pel_wisdom_import_c, &
             pel_wisdom_export_file_c, pel_wisdom_import_file_c
   public :: pel_machine_source_name, pel_wisdom_export, pel_wisdom_import, pel_wisdom_export_file, &
             pel_wisdom_import_file

   ! Fortran wrappers of the layers (assumed-shape / assumed-rank arrays).
   interface pel_gemm
      module procedure gemm_double
   end interface pel_gemm
   public :: pel_gemm, pel_gemv, pel_gemm_batch, pel_gesv, pel_posv, pel_dot, pel_nrm2, pel_axpy
   public :: pel_csr_create, pel_csr_spmv, pel_csr_read_mtx, pel_csr_write_mtx
   public :: pel_fft, pel_fft_inplace, pel_rfft, pel_irfft, pel_fft_convolve, pel_fft_wisdom_export_file, &
             pel_fft_wisdom_import_file, pel_fft_wisdom_import_string
   public :: pel_stencil_create, pel_stencil_info, pel_stencil_apply, pel_stencil_jacobi_poisson, &
             pel_stencil_apply_factored, pel_stencil_apply_wave

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

   ! ============================================================ matrix wrappers

   ! A column-major view of a 2-D array for C: its first element and the
   ! distance between its columns (the leading dimension). direct is .false.
   ! when the rows are not contiguous; the caller then works on a copy.
   subroutine view_matrix(a, ptr, ld, direct)
      real(c_double), intent(in), target :: a(:, :)
      type(c_ptr), intent(out) :: ptr
      integer(c_size_t), intent(out) :: ld
      logical, intent(out) :: direct
      integer(c_size_t) :: rows, cols
      integer(c_ptrdiff_t) :: distance

      rows = size(a, 1, kind=c_size_t)
      cols = size(a, 2, kind=c_size_t)
      ptr = c_null_ptr
      ld = max(1_c_size_t, rows)
      direct = .true.
      if (rows == 0 .or. cols == 0) return
      if (rows > 1) direct = element_distance(c_loc(a(1, 1)), c_loc(a(2, 1)), c_sizeof(a(1, 1))) == 1
      if (direct .and. cols > 1) then
         distance = element_distance(c_loc(a(1, 1)), c_loc(a(1, 2)), c_sizeof(a(1, 1)))
         direct = distance >= int(rows, c_ptrdiff_t)
         if (direct) ld = int(distance, c_size_t)
      end if
      if (direct) ptr = c_loc(a(1, 1))
   end subroutine view_matrix

   ! A 1-D array for C: first element and a positive stride, or direct =
   ! .false. (reversed sections) and the caller works on a copy.
   subroutine view_vector(x, ptr, inc, direct)
      real(c_double), intent(in), target :: x(:)
      type(c_ptr), intent(out) :: ptr
      integer(c_ptrdiff_t), intent(out) :: inc
      logical, intent(out) :: direct

      ptr = c_null_ptr
      inc = 1
      direct = .true.
      if (size(x) == 0) return
      if (size(x) > 1) inc = element_distance(c_loc(x(1)), c_loc(x(2)), c_sizeof(x(1)))
      direct = inc >= 1
      if (direct) ptr = c_loc(x(1))
   end subroutine view_vector

   function shape_text(rows, cols) result(text)
      integer(c_size_t), intent(in) :: rows, cols
      character(len=:), allocatable :: text
      text = itoa(int(rows, c_int64_t))//'x'//itoa(int(cols, c_int64_t))
   end function shape_text

   !> c = alpha*op(a)*op(b) + beta*c for Fortran matrices (PEL_COL_MAJOR).
   !> transa, transb: PEL_NO_TRANS (default), PEL_TRANS; alpha = 1 and
   !> beta = 0 by default (c is then not read). Sections of larger arrays
   !> are passed in place with their leading dimension.
   integer(c_int) function gemm_double(a, b, c, transa, transb, alpha, beta) result(status)
      real(c_double), intent(in), target :: a(:, :), b(:, :)
      real(c_double), intent(inout), target :: c(:, :)
      integer(c_int), intent(in), optional :: transa, transb
      real(c_double), intent(in), optional :: alpha, beta
      real(c_double), allocatable, target :: a_copy(:, :), b_copy(:, :), c_copy(:, :)
      integer(c_int) :: ta, tb
      integer(c_size_t) :: m, n, k, a_rows, b_rows, b_cols, lda, ldb, ldc
      real(c_double) :: scale_ab, scale_c
      type(c_ptr) :: pa, pb, pc
      logical :: direct_a, direct_b, direct_c, contiguous_copy

      ta = PEL_NO_TRANS
      if (present(transa)) ta = transa
      tb = PEL_NO_TRANS
      if (present(transb)) tb = transb
      scale_ab = 1
      if (present(alpha)) scale_ab = alpha
      scale_c = 0
      if (present(beta)) scale_c = beta
      m = size(c, 1, kind=c_size_t)
      n = size(c, 2, kind=c_size_t)
      if (ta == PEL_NO_TRANS) then
         a_rows = size(a, 1, kind=c_size_t)
         k = size(a, 2, kind=c_size_t)
      else
         a_rows = size(a, 2, kind=c_size_t)
         k = size(a, 1, kind=c_size_t)
      end if
      if (tb == PEL_NO_TRANS) then
         b_rows = size(b, 1, kind=c_size_t)
         b_cols = size(b, 2, kind=c_size_t)
      else
         b_rows = size(b, 2, kind=c_size_t)
         b_cols = size(b, 1, kind=c_size_t)
      end if
      if (a_rows /= m .or. b_rows /= k .or. b_cols /= n) then
         call set_error('pel_gemm: shapes do not conform: op(a) is '//shape_text(a_rows, k)//', op(b) is '// &
                        shape_text(b_rows, b_cols)//', c is '//shape_text(m, n))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      call view_matrix(a, pa, lda, direct_a)
      if (.not. direct_a) then
         a_copy = a
         call view_matrix(a_copy, pa, lda, direct_a)
      end if
      call view_matrix(b, pb, ldb, direct_b)
      if (.not. direct_b) then
         b_copy = b
         call view_matrix(b_copy, pb, ldb, direct_b)
      end if
      call view_matrix(c, pc, ldc, direct_c)
      if (.not. direct_c) then
         c_copy = c
         call view_matrix(c_copy, pc, ldc, contiguous_copy)
      end if
      status = pel_dgemm(PEL_COL_MAJOR, ta, tb, m, n, k, scale_ab, pa, lda, pb, ldb, scale_c, pc, ldc)
      if (status == PEL_OK .and. .not. direct_c) c = c_copy
   end function gemm_double

   !> y = alpha*op(a)*x + beta*y (defaults: PEL_NO_TRANS, alpha 1, beta 0).
   integer(c_int) function pel_gemv(a, x, y, trans, alpha, beta) result(status)
      real(c_double), intent(in), target :: a(:, :), x(:)
      real(c_double), intent(inout), target :: y(:)
      integer(c_int), intent(in), optional :: trans
      real(c_double), intent(in), optional :: alpha, beta
      real(c_double), allocatable, target :: a_copy(:, :), x_copy(:), y_copy(:)
      integer(c_int) :: t
      integer(c_size_t) :: lda, x_len, y_len
      integer(c_ptrdiff_t) :: incx, incy
      real(c_double) :: scale_ax, scale_y
      type(c_ptr) :: pa, px, py
      logical :: direct_a, direct_x, direct_y, contiguous_copy

      t = PEL_NO_TRANS
      if (present(trans)) t = trans
      scale_ax = 1
      if (present(alpha)) scale_ax = alpha
      scale_y = 0
      if (present(beta)) scale_y = beta
      x_len = size(a, 2, kind=c_size_t)
      y_len = size(a, 1, kind=c_size_t)
      if (t /= PEL_NO_TRANS) then
         x_len = size(a, 1, kind=c_size_t)
         y_len = size(a, 2, kind=c_size_t)
      end if
      if (size(x, kind=c_size_t) /= x_len .or. size(y, kind=c_size_t) /= y_len) then
         call set_error('pel_gemv: sizes do not conform: op(a) is '//shape_text(y_len, x_len)//', size(x)='// &
                        itoa(int(size(x), c_int64_t))//', size(y)='//itoa(int(size(y), c_int64_t)))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      call view_matrix(a, pa, lda, direct_a)
      if (.not. direct_a) then
         a_copy = a
         call view_matrix(a_copy, pa, lda, direct_a)
      end if
      call view_vector(x, px, incx, direct_x)
      if (.not. direct_x) then
         x_copy = x
         call view_vector(x_copy, px, incx, direct_x)
      end if
      call view_vector(y, py, incy, direct_y)
      if (.not. direct_y) then
         y_copy = y
         call view_vector(y_copy, py, incy, contiguous_copy)
      end if
      status = pel_dgemv(PEL_COL_MAJOR, t, size(a, 1, kind=c_size_t), size(a, 2, kind=c_size_t), scale_ax, pa, lda, &
                         px, incx, scale_y, py, incy)
      if (status == PEL_OK .and. .not. direct_y) y = y_copy
   end function pel_gemv

   !> c(:,:,i) = alpha*op(a(:,:,i))*op(b(:,:,i)) + beta*c(:,:,i) for every
   !> i; a or b may hold a single matrix shared by all items (size 1 in the
   !> third dimension). Small items run on pel's own kernels.
   integer(c_int) function pel_gemm_batch(a, b, c, transa, transb, alpha, beta) result(status)
      real(c_double), intent(in), target, contiguous :: a(:, :, :), b(:, :, :)
      real(c_double), intent(inout), target, contiguous :: c(:, :, :)
      integer(c_int), intent(in), optional :: transa, transb
      real(c_double), intent(in), optional :: alpha, beta
      integer(c_int) :: ta, tb
      integer(c_size_t) :: m, n, k, a_rows, b_rows, b_cols, batch, stride_a, stride_b
      real(c_double) :: scale_ab, scale_c
      type(c_ptr) :: pa, pb, pc

      ta = PEL_NO_TRANS
      if (present(transa)) ta = transa
      tb = PEL_NO_TRANS
      if (present(transb)) tb = transb
      scale_ab = 1
      if (present(alpha)) scale_ab = alpha
      scale_c = 0
      if (present(beta)) scale_c = beta
      m = size(c, 1, kind=c_size_t)
      n = size(c, 2, kind=c_size_t)
      batch = size(c, 3, kind=c_size_t)
      a_rows = size(a, 1, kind=c_size_t)
      k = size(a, 2, kind=c_size_t)
      if (ta /= PEL_NO_TRANS) then
         a_rows = size(a, 2, kind=c_size_t)
         k = size(a, 1, kind=c_size_t)
      end if
      b_rows = size(b, 1, kind=c_size_t)
      b_cols = size(b, 2, kind=c_size_t)
      if (tb /= PEL_NO_TRANS) then
         b_rows = size(b, 2, kind=c_size_t)
         b_cols = size(b, 1, kind=c_size_t)
      end if
      if (a_rows /= m .or. b_rows /= k .or. b_cols /= n) then
         call set_error('pel_gemm_batch: shapes do not conform: op(a) is '//shape_text(a_rows, k)// &
                        ', op(b) is '//shape_text(b_rows, b_cols)//', c is '//shape_text(m, n))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      if ((size(a, 3) /= 1 .and. size(a, 3, kind=c_size_t) /= batch) .or. &
          (size(b, 3) /= 1 .and. size(b, 3, kind=c_size_t) /= batch)) then
         call set_error('pel_gemm_batch: size(a,3)='//itoa(int(size(a, 3), c_int64_t))//' and size(b,3)='// &
                        itoa(int(size(b, 3), c_int64_t))//' must be 1 or size(c,3)='//itoa(int(batch, c_int64_t)))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      stride_a = 0
      if (size(a, 3) > 1) stride_a = size(a, 1, kind=c_size_t) * size(a, 2, kind=c_size_t)
      stride_b = 0
      if (size(b, 3) > 1) stride_b = size(b, 1, kind=c_size_t) * size(b, 2, kind=c_size_t)
      pa = c_null_ptr
      if (size(a) > 0) pa = c_loc(a)
      pb = c_null_ptr
      if (size(b) > 0) pb = c_loc(b)
      pc = c_null_ptr
      if (size(c) > 0) pc = c_loc(c)
      status = pel_dgemm_batch_strided(PEL_COL_MAJOR, ta, tb, m, n, k, scale_ab, pa, max(1_c_size_t, &
                                       size(a, 1, kind=c_size_t)), stride_a, pb, max(1_c_size_t, &
                                       size(b, 1, kind=c_size_t)), stride_b, scale_c, pc, max(1_c_size_t, m), &
                                       max(1_c_size_t, m * n), batch)
   end function pel_gemm_batch

   ! Shared part of pel_gesv and pel_posv: b (n x nrhs) overwritten with x.
   integer(c_int) function solve_matrix(name, a, b, uplo) result(status)
      character(len=*), intent(in) :: name
      real(c_double), intent(in), target :: a(:, :)
      real(c_double), intent(inout), target :: b(:, :)
      integer(c_int), intent(in), optional :: uplo
      real(c_double), allocatable, target :: a_copy(:, :), b_copy(:, :)
      integer(c_size_t) :: n, lda, ldb
      type(c_ptr) :: pa, pb
      logical :: direct_a, direct_b, contiguous_copy

      n = size(a, 1, kind=c_size_t)
      if (size(a, 2, kind=c_size_t) /= n .or. size(b, 1, kind=c_size_t) /= n) then
         call set_error(name//': a is '//shape_text(n, size(a, 2, kind=c_size_t))//' and b is '// &
                        shape_text(size(b, 1, kind=c_size_t), size(b, 2, kind=c_size_t))// &
                        ': a must be square with as many rows as b')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      call view_matrix(a, pa, lda, direct_a)
      if (.not. direct_a) then
         a_copy = a
         call view_matrix(a_copy, pa, lda, direct_a)
      end if
      call view_matrix(b, pb, ldb, direct_b)
      if (.not. direct_b) then
         b_copy = b
         call view_matrix(b_copy, pb, ldb, contiguous_copy)
      end if
      if (present(uplo)) then
         status = pel_dposv(PEL_COL_MAJOR, uplo, n, size(b, 2, kind=c_size_t), pa, lda, pb, ldb)
      else
         status = pel_dgesv(PEL_COL_MAJOR, n, size(b, 2, kind=c_size_t), pa, lda, pb, ldb)
      end if
      if (status == PEL_OK .and. .not. direct_b) b = b_copy
   end function solve_matrix

   !> Solves a*x = b by LU with partial pivoting; b (n x nrhs, or a vector
   !> of n) is overwritten with x on success only; a is not modified.
   !> PEL_ERROR_SINGULAR names the 1-based zero pivot.
   integer(c_int) function pel_gesv(a, b) result(status)
      real(c_double), intent(in), target :: a(:, :)
      real(c_double), intent(inout), target, contiguous :: b(..)
      real(c_double), pointer :: b2(:, :)
      select rank (b)
      rank (1)
         if (size(b) == 0) then
            status = solve_empty('pel_gesv', a, size(b))
            return
         end if
         call c_f_pointer(c_loc(b), b2, [size(b), 1])
         status = solve_matrix('pel_gesv', a, b2)
      rank (2)
         status = solve_matrix('pel_gesv', a, b)
      rank default
         call set_error('pel_gesv: b has rank '//itoa(int(rank(b), c_int64_t))//'; it must be a vector or a matrix')
         status = PEL_ERROR_INVALID_ARGUMENT
      end select
   end function pel_gesv

   !> Solves a*x = b for a symmetric positive definite a by Cholesky, reading
   !> the uplo triangle (PEL_LOWER by default); as pel_gesv otherwise.
   integer(c_int) function pel_posv(a, b, uplo) result(status)
      real(c_double), intent(in), target :: a(:, :)
      real(c_double), intent(inout), target, contiguous :: b(..)
      integer(c_int), intent(in), optional :: uplo
      real(c_double), pointer :: b2(:, :)
      integer(c_int) :: triangle
      triangle = PEL_LOWER
      if (present(uplo)) triangle = uplo
      select rank (b)
      rank (1)
         if (size(b) == 0) then
            status = solve_empty('pel_posv', a, size(b))
            return
         end if
         call c_f_pointer(c_loc(b), b2, [size(b), 1])
         status = solve_matrix('pel_posv', a, b2, triangle)
      rank (2)
         status = solve_matrix('pel_posv', a, b, triangle)
      rank default
         call set_error('pel_posv: b has rank '//itoa(int(rank(b), c_int64_t))//'; it must be a vector or a matrix')
         status = PEL_ERROR_INVALID_ARGUMENT
      end select
   end function pel_posv

   ! An empty right-hand side: only a's shape can be wrong.
   integer(c_int) function solve_empty(name, a, nb) result(status)
      character(len=*), intent(in) :: name
      real(c_double), intent(in) :: a(:, :)
      integer, intent(in) :: nb
      status = PEL_OK
      if (size(a, 1) /= nb .or. size(a, 2) /= nb) then
         call set_error(name//': a is '//shape_text(size(a, 1, kind=c_size_t), size(a, 2, kind=c_size_t))// &
                        ' but b has '//itoa(int(nb, c_int64_t))//' rows')
         status = PEL_ERROR_INVALID_ARGUMENT
      end if
   end function solve_empty

   !> result = dot_product(x, y), reproducible for any thread count.
   integer(c_int) function pel_dot(x, y, result) result(status)
      real(c_double), intent(in), target :: x(:), y(:)
      real(c_double), intent(inout) :: result
      real(c_double), allocatable, target :: x_copy(:), y_copy(:)
      type(c_ptr) :: px, py
      integer(c_ptrdiff_t) :: incx, incy
      logical :: direct

      if (size(x) /= size(y)) then
         call set_error('pel_dot: size(x)='//itoa(int(size(x), c_int64_t))//' differs from size(y)='// &
                        itoa(int(size(y), c_int64_t)))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      call view_vector(x, px, incx, direct)
      if (.not. direct) then
         x_copy = x
         call view_vector(x_copy, px, incx, direct)
      end if
      call view_vector(y, py, incy, direct)
      if (.not. direct) then
         y_copy = y
         call view_vector(y_copy, py, incy, direct)
      end if
      status = pel_ddot(size(x, kind=c_size_t), px, incx, py, incy, result)
   end function pel_dot

   !> result = norm2(x) without overflow or underflow, reproducible.
   integer(c_int) function pel_nrm2(x, result) result(status)
      real(c_double), intent(in), target :: x(:)
      real(c_double), intent(inout) :: result
      real(c_double), allocatable, target :: x_copy(:)
      type(c_ptr) :: px
      integer(c_ptrdiff_t) :: incx
      logical :: direct

      call view_vector(x, px, incx, direct)
      if (.not. direct) then
         x_copy = x
         call view_vector(x_copy, px, incx, direct)
      end if
      status = pel_dnrm2(size(x, kind=c_size_t), px, incx, result)
   end function pel_nrm2

   !> y = alpha*x + y.
   integer(c_int) function pel_axpy(alpha, x, y) result(status)
      real(c_double), intent(in) :: alpha
      real(c_double), intent(in), target :: x(:)
      real(c_double), intent(inout), target :: y(:)
      real(c_double), allocatable, target :: x_copy(:), y_copy(:)
      type(c_ptr) :: px, py
      integer(c_ptrdiff_t) :: incx, incy
      logical :: direct, direct_y, contiguous_copy

      if (size(x) /= size(y)) then
         call set_error('pel_axpy: size(x)='//itoa(int(size(x), c_int64_t))//' differs from size(y)='// &
                        itoa(int(size(y), c_int64_t)))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      call view_vector(x, px, incx, direct)
      if (.not. direct) then
         x_copy = x
         call view_vector(x_copy, px, incx, direct)
      end if
      call view_vector(y, py, incy, direct_y)
      if (.not. direct_y) then
         y_copy = y
         call view_vector(y_copy, py, incy, contiguous_copy)
      end if
      status = pel_daxpy(size(x, kind=c_size_t), alpha, px, incx, py, incy)
      if (status == PEL_OK .and. .not. direct_y) y = y_copy
   end function pel_axpy

   ! ============================================================ sparse wrappers

   !> Creates a rows x cols CSR matrix of doubles from one-based Fortran
   !> arrays (row_ptr(1) = 1, row_ptr(rows+1) = nnz + 1, column indices
   !> 1..cols), which are copied. Duplicates are summed; see pel/sparse.h.
   integer(c_int) function pel_csr_create(rows, cols, row_ptr, col_idx, values, matrix) result(status)
      integer, intent(in) :: rows, cols
      integer, intent(in) :: row_ptr(:), col_idx(:)
      real(c_double), intent(in), target, contiguous :: values(:)
      type(c_ptr), intent(inout) :: matrix
      integer(c_size_t), allocatable, target :: row_ptr0(:), col_idx0(:)
      integer :: nnz
      type(c_ptr) :: p_col, p_val

      if (rows < 0 .or. cols < 0) then
         call set_error('pel_csr_create: rows='//itoa(int(rows, c_int64_t))//', cols='// &
                        itoa(int(cols, c_int64_t))//': sizes cannot be negative')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      if (size(row_ptr) /= rows + 1) then
         call set_error('pel_csr_create: size(row_ptr)='//itoa(int(size(row_ptr), c_int64_t))// &
                        ' must be rows+1='//itoa(int(rows + 1, c_int64_t)))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      if (row_ptr(1) /= 1) then
         call set_error('pel_csr_create: row_ptr(1)='//itoa(int(row_ptr(1), c_int64_t))// &
                        ' must be 1 (one-based indices)')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      nnz = row_ptr(rows + 1) - 1
      if (nnz < 0 .or. size(col_idx) < nnz .or. size(values) < nnz) then
         call set_error('pel_csr_create: row_ptr(rows+1)-1='//itoa(int(nnz, c_int64_t))// &
                        ' entries, but size(col_idx)='//itoa(int(size(col_idx), c_int64_t))//' and size(values)='// &
                        itoa(int(size(values), c_int64_t)))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      ! Negative values wrap to huge size_t values, which C refuses.
      row_ptr0 = int(row_ptr, c_size_t) - 1
      allocate (col_idx0(max(nnz, 1)))
      col_idx0(1:nnz) = int(col_idx(1:nnz), c_size_t) - 1
      p_col = c_null_ptr
      p_val = c_null_ptr
      if (nnz > 0) then
         p_col = c_loc(col_idx0(1))
         p_val = c_loc(values(1))
      end if
      status = pel_csr_create_c(PEL_FLOAT64, int(rows, c_size_t), int(cols, c_size_t), c_loc(row_ptr0(1)), p_col, &
                                p_val, matrix)
   end function pel_csr_create

   !> y = alpha*A*x + beta*y for a double CSR matrix (alpha 1, beta 0 by
   !> default); size(x) = cols, size(y) = rows.
   integer(c_int) function pel_csr_spmv(matrix, x, y, alpha, beta) result(status)
      type(c_ptr), intent(in) :: matrix
      real(c_double), intent(in), target, contiguous :: x(:)
      real(c_double), intent(inout), target, contiguous :: y(:)
      real(c_double), intent(in), optional :: alpha, beta
      real(c_double) :: scale_ax, scale_y
      type(c_ptr) :: px, py

      if (c_associated(matrix)) then
         if (pel_csr_precision(matrix) /= PEL_FLOAT64 .or. size(x, kind=c_size_t) /= pel_csr_cols(matrix) .or. &
             size(y, kind=c_size_t) /= pel_csr_rows(matrix)) then
            call set_error('pel_csr_spmv: the matrix is '//shape_text(pel_csr_rows(matrix), pel_csr_cols(matrix))// &
                           ' ('//trim(merge('double', 'float ', pel_csr_precision(matrix) == PEL_FLOAT64))// &
                           ') but size(x)='//itoa(int(size(x), c_int64_t))//', size(y)='// &
                           itoa(int(size(y), c_int64_t))//' (double)')
            status = PEL_ERROR_INVALID_ARGUMENT
            return
         end if
      end if
      scale_ax = 1
      if (present(alpha)) scale_ax = alpha
      scale_y = 0
      if (present(beta)) scale_y = beta
      px = c_null_ptr
      if (size(x) > 0) px = c_loc(x(1))
      py = c_null_ptr
      if (size(y) > 0) py = c_loc(y(1))
      status = pel_csr_spmv_c(matrix, scale_ax, px, scale_y, py)
   end function pel_csr_spmv

   !> Reads a Matrix Market file into a new matrix of precision.
   integer(c_int) function pel_csr_read_mtx(path, precision, matrix) result(status)
      character(len=*), intent(in) :: path
      integer(c_int), intent(in) :: precision
      type(c_ptr), intent(inout) :: matrix
      status = pel_csr_read_mtx_c(path//c_null_char, precision, matrix)
   end function pel_csr_read_mtx

   !> Writes a matrix as a Matrix Market file.
   integer(c_int) function pel_csr_write_mtx(matrix, path) result(status)
      type(c_ptr), intent(in) :: matrix
      character(len=*), intent(in) :: path
      status = pel_csr_write_mtx_c(matrix, path//c_null_char)
   end function pel_csr_write_mtx

   ! ============================================================ fft wrappers

   ! The transform shape of a Fortran array for C: the first ndim axes are
   ! transformed (all by default), the rest are a batch. Column-major data of
   ! shape (n1, ..., nd, batch) is C-order data of shape (batch, nd, ..., n1),
   ! so the dims go to C reversed.
   subroutine transform_shape(name, array_shape, ndim, rank_out, dims, howmany, status)
      character(len=*), intent(in) :: name
      integer(c_size_t), intent(in) :: array_shape(:)
      integer(c_int), intent(in), optional :: ndim
      integer(c_int), intent(out) :: rank_out
      integer(c_size_t), intent(out) :: dims(PEL_FFT_MAX_RANK), howmany
      integer(c_int), intent(out) :: status
      integer :: i

      rank_out = int(size(array_shape), c_int)
      if (present(ndim)) rank_out = ndim
      dims = 0
      howmany = 0
      if (rank_out < 1 .or. rank_out > min(PEL_FFT_MAX_RANK, size(array_shape))) then
         call set_error(name//': ndim='//itoa(int(rank_out, c_int64_t))//' must be between 1 and '// &
                        itoa(int(min(PEL_FFT_MAX_RANK, size(array_shape)), c_int64_t))//' for an array of rank '// &
                        itoa(int(size(array_shape), c_int64_t)))
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      do i = 1, rank_out
         dims(i) = array_shape(rank_out + 1 - i)
      end do
      howmany = product(array_shape(rank_out + 1:))
      status = PEL_OK
   end subroutine transform_shape

   subroutine shape_mismatch(name, what)
      character(len=*), intent(in) :: name, what
      call set_error(name//': '//what)
   end subroutine shape_mismatch

   !> y = the discrete Fourier transform of x (complex, same shape), over the
   !> first ndim axes (default: all, at most 3), further axes being a batch.
   !> direction PEL_FFT_FORWARD or PEL_FFT_BACKWARD; norm as numpy's
   !> (PEL_FFT_NORM_BACKWARD by default: the backward transform divides by N).
   integer(c_int) function pel_fft(x, y, direction, norm, ndim) result(status)
      complex(c_double_complex), intent(in), target, contiguous :: x(..)
      complex(c_double_complex), intent(inout), target, contiguous :: y(..)
      integer(c_int), intent(in) :: direction
      integer(c_int), intent(in), optional :: norm, ndim
      integer(c_size_t) :: dims(PEL_FFT_MAX_RANK), howmany
      integer(c_int) :: r, scaling

      call transform_shape('pel_fft', shape(x, kind=c_size_t), ndim, r, dims, howmany, status)
      if (status /= PEL_OK) return
      if (rank(x) /= rank(y)) then
         call shape_mismatch('pel_fft', 'x and y have different ranks')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      if (any(shape(x) /= shape(y))) then
         call shape_mismatch('pel_fft', 'x and y have different shapes')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      scaling = PEL_FFT_NORM_BACKWARD
      if (present(norm)) scaling = norm
      status = pel_fft_c2c_c(r, dims, howmany, direction, scaling, c_loc(x), c_loc(y))
   end function pel_fft

   !> pel_fft in place: x is replaced by its transform.
   integer(c_int) function pel_fft_inplace(x, direction, norm, ndim) result(status)
      complex(c_double_complex), intent(inout), target, contiguous :: x(..)
      integer(c_int), intent(in) :: direction
      integer(c_int), intent(in), optional :: norm, ndim
      integer(c_size_t) :: dims(PEL_FFT_MAX_RANK), howmany
      integer(c_int) :: r, scaling

      call transform_shape('pel_fft_inplace', shape(x, kind=c_size_t), ndim, r, dims, howmany, status)
      if (status /= PEL_OK) return
      scaling = PEL_FFT_NORM_BACKWARD
      if (present(norm)) scaling = norm
      status = pel_fft_c2c_c(r, dims, howmany, direction, scaling, c_loc(x), c_loc(x))
   end function pel_fft_inplace

   ! The half spectrum of a real array of shape s has shape (s(1)/2+1, s(2:)).
   logical function half_spectrum_shape(real_shape, complex_shape) result(ok)
      integer(c_size_t), intent(in) :: real_shape(:), complex_shape(:)
      ok = size(real_shape) == size(complex_shape) .and. size(real_shape) >= 1
      if (.not. ok) return
      ok = complex_shape(1) == real_shape(1) / 2 + 1 .and. all(complex_shape(2:) == real_shape(2:))
   end function half_spectrum_shape

   !> Forward real-to-complex transform: y (shape (n1/2+1, n2, ...)) gets the
   !> non-redundant half of the spectrum of the real x (shape (n1, n2, ...)),
   !> as FFTW's Fortran convention; ndim and norm as pel_fft.
   integer(c_int) function pel_rfft(x, y, norm, ndim) result(status)
      real(c_double), intent(in), target, contiguous :: x(..)
      complex(c_double_complex), intent(inout), target, contiguous :: y(..)
      integer(c_int), intent(in), optional :: norm, ndim
      integer(c_size_t) :: dims(PEL_FFT_MAX_RANK), howmany
      integer(c_int) :: r, scaling

      call transform_shape('pel_rfft', shape(x, kind=c_size_t), ndim, r, dims, howmany, status)
      if (status /= PEL_OK) return
      if (.not. half_spectrum_shape(shape(x, kind=c_size_t), shape(y, kind=c_size_t))) then
         call shape_mismatch('pel_rfft', 'y must have the shape of x with the first extent n1/2+1')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      scaling = PEL_FFT_NORM_BACKWARD
      if (present(norm)) scaling = norm
      status = pel_fft_r2c_c(r, dims, howmany, scaling, c_loc(x), c_loc(y))
   end function pel_rfft

   !> Backward complex-to-real transform, the inverse of pel_rfft: x (real,
   !> shape (n1, n2, ...)) from the half spectrum y (shape (n1/2+1, n2, ...)),
   !> which is left unchanged.
   integer(c_int) function pel_irfft(y, x, norm, ndim) result(status)
      complex(c_double_complex), intent(in), target, contiguous :: y(..)
      real(c_double), intent(inout), target, contiguous :: x(..)
      integer(c_int), intent(in), optional :: norm, ndim
      integer(c_size_t) :: dims(PEL_FFT_MAX_RANK), howmany
      integer(c_int) :: r, scaling

      call transform_shape('pel_irfft', shape(x, kind=c_size_t), ndim, r, dims, howmany, status)
      if (status /= PEL_OK) return
      if (.not. half_spectrum_shape(shape(x, kind=c_size_t), shape(y, kind=c_size_t))) then
         call shape_mismatch('pel_irfft', 'y must have the shape of x with the first extent n1/2+1')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      scaling = PEL_FFT_NORM_BACKWARD
      if (present(norm)) scaling = norm
      status = pel_fft_c2r_c(r, dims, howmany, scaling, c_loc(y), c_loc(x))
   end function pel_irfft

   !> out = the convolution of the real arrays a and b (same rank, 1..3) as
   !> scipy.signal.fftconvolve: mode PEL_FFT_CONVOLVE_FULL (shape a+b-1),
   !> _SAME (shape of a) or _VALID; out must have that shape.
   integer(c_int) function pel_fft_convolve(a, b, out, mode) result(status)
      real(c_double), intent(in), target, contiguous :: a(..), b(..)
      real(c_double), intent(inout), target, contiguous :: out(..)
      integer(c_int), intent(in) :: mode
      integer(c_size_t) :: a_dims(PEL_FFT_MAX_RANK), b_dims(PEL_FFT_MAX_RANK), out_dims(PEL_FFT_MAX_RANK), &
                           expected(PEL_FFT_MAX_RANK), howmany
      integer(c_int) :: r

      call transform_shape('pel_fft_convolve', shape(a, kind=c_size_t), rank_out=r, dims=a_dims, howmany=howmany, &
                           status=status)
      if (status /= PEL_OK) return
      if (rank(b) /= r .or. rank(out) /= r) then
         call shape_mismatch('pel_fft_convolve', 'a, b and out must have the same rank')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      call transform_shape('pel_fft_convolve', shape(b, kind=c_size_t), rank_out=r, dims=b_dims, howmany=howmany, &
                           status=status)
      if (status /= PEL_OK) return
      call transform_shape('pel_fft_convolve', shape(out, kind=c_size_t), rank_out=r, dims=out_dims, &
                           howmany=howmany, status=status)
      if (status /= PEL_OK) return
      expected = 0
      status = pel_fft_convolve_shape(r, a_dims, b_dims, mode, expected)
      if (status /= PEL_OK) return
      if (any(expected(1:r) /= out_dims(1:r))) then
         call shape_mismatch('pel_fft_convolve', 'out does not have the shape of the result for this mode')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      status = pel_fft_convolve_c(r, a_dims, c_loc(a), b_dims, c_loc(b), mode, c_loc(out))
   end function pel_fft_convolve

   !> Writes FFTW's wisdom of precision to the file path.
   integer(c_int) function pel_fft_wisdom_export_file(precision, path) result(status)
      integer(c_int), intent(in) :: precision
      character(len=*), intent(in) :: path
      status = pel_fft_wisdom_export_file_c(precision, path//c_null_char)
   end function pel_fft_wisdom_export_file

   !> Adds the wisdom in the file path to FFTW's wisdom.
   integer(c_int) function pel_fft_wisdom_import_file(precision, path) result(status)
      integer(c_int), intent(in) :: precision
      character(len=*), intent(in) :: path
      status = pel_fft_wisdom_import_file_c(precision, path//c_null_char)
   end function pel_fft_wisdom_import_file

   !> Adds the wisdom in text to FFTW's wisdom.
   integer(c_int) function pel_fft_wisdom_import_string(precision, text) result(status)
      integer(c_int), intent(in) :: precision
      character(len=*), intent(in) :: text
      status = pel_fft_wisdom_import_string_c(precision, text//c_null_char)
   end function pel_fft_wisdom_import_string

   ! ============================================================ tune wrappers

   !> The name of a pel_machine_source ("default", "reported", "measured").
   function pel_machine_source_name(source) result(text)
      integer(c_int), intent(in) :: source
      character(len=:), allocatable :: text
      text = from_c_string(pel_machine_source_name_c(source))
   end function pel_machine_source_name

   ! PEL_OK, or PEL_ERROR_INVALID_ARGUMENT with a message when a string for
   ! C holds a NUL character (C would read a shorter string).
   integer(c_int) function check_no_nul(function_name, argument, text) result(status)
      character(len=*), intent(in) :: function_name, argument, text
      status = PEL_OK
      if (index(text, c_null_char) > 0) then
         call set_error(function_name//': '//argument//' contains a NUL character at position '// &
                        itoa(int(index(text, c_null_char), c_int64_t)))
         status = PEL_ERROR_INVALID_ARGUMENT
      end if
   end function check_no_nul

   !> pel's wisdom (the machine model and FFTW's wisdom, keyed by this
   !> machine's fingerprint) as a Fortran string; '' on error.
   integer(c_int) function pel_wisdom_export(text) result(status)
      character(len=:), allocatable, intent(out) :: text
      type(c_ptr) :: c_text
      c_text = c_null_ptr
      status = pel_wisdom_export_c(c_text)
      text = from_c_string(c_text)
      call pel_free(c_text)
   end function pel_wisdom_export

   !> Applies wisdom from pel_wisdom_export. applied (optional) is .true.
   !> when it was applied, .false. when the text is another machine's
   !> (ignored, with a note in pel_last_error()). A corrupt text is
   !> PEL_ERROR_PARSE and changes nothing; applied is then not written.
   integer(c_int) function pel_wisdom_import(text, applied) result(status)
      character(len=*), intent(in) :: text
      logical, intent(inout), optional :: applied
      status = import_wisdom('pel_wisdom_import', 'text', text, .false., applied)
   end function pel_wisdom_import

   !> Writes pel_wisdom_export's text to the file path.
   integer(c_int) function pel_wisdom_export_file(path) result(status)
      character(len=*), intent(in) :: path
      status = check_no_nul('pel_wisdom_export_file', 'path', path)
      if (status == PEL_OK) status = pel_wisdom_export_file_c(path//c_null_char)
   end function pel_wisdom_export_file

   !> pel_wisdom_import of the file path (PEL_ERROR_IO when unreadable).
   integer(c_int) function pel_wisdom_import_file(path, applied) result(status)
      character(len=*), intent(in) :: path
      logical, intent(inout), optional :: applied
      status = import_wisdom('pel_wisdom_import_file', 'path', path, .true., applied)
   end function pel_wisdom_import_file

   ! The two imports: of a text, or (from_file) of the file named by string;
   ! applied is written only on success.
   integer(c_int) function import_wisdom(function_name, argument, string, from_file, applied) result(status)
      character(len=*), intent(in) :: function_name, argument, string
      logical, intent(in) :: from_file
      logical, intent(inout), optional :: applied
      integer(c_int) :: c_applied
      c_applied = 0
      status = check_no_nul(function_name, argument, string)
      if (status /= PEL_OK) return
      if (from_file) then
         status = pel_wisdom_import_file_c(string//c_null_char, c_applied)
      else
         status = pel_wisdom_import_c(string//c_null_char, c_applied)
      end if
      if (status == PEL_OK .and. present(applied)) applied = c_applied /= 0
   end function import_wisdom

   ! ============================================================ stencil wrappers

   ! Faces in Fortran axis order (axis 1 lower, axis 1 upper, axis 2 ...)
   ! to C's, where C's axis 0 is Fortran's last axis.
   function faces_to_c(faces, ndim) result(c_faces)
      type(pel_boundary), intent(in) :: faces(:)
      integer, intent(in) :: ndim
      type(pel_boundary) :: c_faces(2 * ndim)
      integer :: axis
      do axis = 0, ndim - 1
         c_faces(2 * axis + 1) = faces(2 * (ndim - axis) - 1)
         c_faces(2 * axis + 2) = faces(2 * (ndim - axis))
      end do
   end function faces_to_c

   !> Creates a stencil of ndim (1..3), shape, radius; coefficients in the
   !> column-major order of their offsets (the first axis varies fastest:
   !> for a box, the Fortran array c(-r:r, -r:r, -r:r) as it is; for a star,
   !> the same order restricted to the star's points). With rhs_weight
   !> present every update adds rhs_weight * rhs. See pel/stencil.h.
   integer(c_int) function pel_stencil_create(precision, ndim, shape, radius, coefficients, stencil, rhs_weight) &
      result(status)
      integer(c_int), intent(in) :: precision, ndim, shape, radius
      real(c_double), intent(in), contiguous :: coefficients(:)
      type(c_ptr), intent(inout) :: stencil
      real(c_double), intent(in), optional :: rhs_weight
      real(c_double) :: weight
      integer(c_int) :: has_rhs
      real(c_double) :: none(1)

      weight = 0
      has_rhs = 0
      if (present(rhs_weight)) then
         weight = rhs_weight
         has_rhs = 1
      end if
      if (size(coefficients) == 0) then
         none = 0
         status = pel_stencil_create_c(precision, ndim, shape, radius, none, 0_c_size_t, has_rhs, weight, stencil)
      else
         status = pel_stencil_create_c(precision, ndim, shape, radius, coefficients, size(coefficients, kind=c_size_t), &
                                       has_rhs, weight, stencil)
      end if
   end function pel_stencil_create

   !> The stencil's precision, dimension, radius and point count (each optional).
   integer(c_int) function pel_stencil_info(stencil, precision, ndim, radius, npoints) result(status)
      type(c_ptr), intent(in) :: stencil
      integer(c_int), intent(inout), optional, target :: precision, ndim, radius
      integer(c_size_t), intent(inout), optional, target :: npoints
      integer(c_int), target :: p, d, r
      integer(c_size_t), target :: n
      status = pel_stencil_info_c(stencil, c_loc(p), c_loc(d), c_loc(r), c_loc(n))
      if (status /= PEL_OK) return
      if (present(precision)) precision = p
      if (present(ndim)) ndim = d
      if (present(radius)) radius = r
      if (present(npoints)) npoints = n
   end function pel_stencil_info

   !> Runs nsteps time steps of a double stencil on grid (a Fortran array of
   !> the stencil's rank) in place, with faces (2*ndim boundary conditions in
   !> Fortran axis order: axis 1 lower, axis 1 upper, axis 2 lower, ...).
   !> rhs (same shape) is required exactly when the stencil has an rhs term.
   !> blocking (optional) is in C axis order. The result has the same bits as
   !> a plain loop, for any thread count.
   integer(c_int) function pel_stencil_apply(stencil, grid, faces, nsteps, rhs, blocking) result(status)
      type(c_ptr), intent(in) :: stencil
      real(c_double), intent(inout), target, contiguous :: grid(..)
      type(pel_boundary), intent(in) :: faces(:)
      integer, intent(in) :: nsteps
      real(c_double), intent(in), target, contiguous, optional :: rhs(..)
      type(pel_stencil_blocking), intent(in), target, optional :: blocking
      integer(c_int) :: precision, ndim
      integer(c_size_t) :: dims(3)
      type(c_ptr) :: p_rhs, p_blocking, result
      integer :: i

      status = pel_stencil_info(stencil, precision=precision, ndim=ndim)
      if (status /= PEL_OK) return
      if (precision /= PEL_FLOAT64 .or. rank(grid) /= ndim .or. size(faces) /= 2 * ndim .or. nsteps < 0) then
         call set_error('pel_stencil_apply: a '//itoa(int(ndim, c_int64_t))//'-D '// &
                        trim(merge('double', 'float ', precision == PEL_FLOAT64))//' stencil needs a double grid of '// &
                        'that rank, 2*ndim faces and nsteps >= 0 (grid rank '//itoa(int(rank(grid), c_int64_t))// &
                        ', '//itoa(int(size(faces), c_int64_t))//' faces, nsteps='//itoa(int(nsteps, c_int64_t))//')')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      do i = 1, ndim
         dims(i) = size(grid, ndim + 1 - i, kind=c_size_t)
      end do
      p_rhs = c_null_ptr
      if (present(rhs)) then
         if (rank(rhs) /= rank(grid)) then
            call shape_mismatch('pel_stencil_apply', 'rhs must have the shape of grid')
            status = PEL_ERROR_INVALID_ARGUMENT
            return
         end if
         if (any(shape(rhs) /= shape(grid))) then
            call shape_mismatch('pel_stencil_apply', 'rhs must have the shape of grid')
            status = PEL_ERROR_INVALID_ARGUMENT
            return
         end if
         p_rhs = c_loc(rhs)
      end if
      p_blocking = c_null_ptr
      if (present(blocking)) p_blocking = c_loc(blocking)
      result = c_null_ptr
      ! work = NULL: pel allocates the second buffer and leaves the result in grid.
      status = pel_stencil_apply_c(stencil, dims, faces_to_c(faces, ndim), c_loc(grid), c_null_ptr, p_rhs, &
                                   int(nsteps, c_size_t), p_blocking, result)
   end function pel_stencil_apply

   ! The C dims of a double grid for a stencil wrapper, or an error naming
   ! the wrapper (rank, faces, nsteps checks shared by the wrappers).
   integer(c_int) function stencil_grid_dims(function_name, stencil, grid, faces, nsteps, dims, ndim) result(status)
      character(len=*), intent(in) :: function_name
      type(c_ptr), intent(in) :: stencil
      real(c_double), intent(in), contiguous :: grid(..)
      type(pel_boundary), intent(in) :: faces(:)
      integer, intent(in) :: nsteps
      integer(c_size_t), intent(inout) :: dims(3)
      integer(c_int), intent(inout) :: ndim
      integer(c_int) :: precision
      integer :: i
      status = pel_stencil_info(stencil, precision=precision, ndim=ndim)
      if (status /= PEL_OK) return
      if (precision /= PEL_FLOAT64 .or. rank(grid) /= ndim .or. size(faces) /= 2 * ndim .or. nsteps < 0) then
         call set_error(function_name//': a '//itoa(int(ndim, c_int64_t))//'-D stencil needs a double grid of '// &
                        'that rank, 2*ndim faces and nsteps >= 0')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      do i = 1, ndim
         dims(i) = size(grid, ndim + 1 - i, kind=c_size_t)
      end do
   end function stencil_grid_dims

   !> Variable coefficients, factored form (see pel_stencil_apply_factored):
   !> nsteps steps of acc = S u; acc = scale*acc; acc = acc + center*u on
   !> grid in place; scale and center (optional) have grid's shape.
   integer(c_int) function pel_stencil_apply_factored(stencil, grid, faces, nsteps, scale, center, blocking) &
      result(status)
      type(c_ptr), intent(in) :: stencil
      real(c_double), intent(inout), target, contiguous :: grid(..)
      type(pel_boundary), intent(in) :: faces(:)
      integer, intent(in) :: nsteps
      real(c_double), intent(in), target, contiguous, optional :: scale(..), center(..)
      type(pel_stencil_blocking), intent(in), target, optional :: blocking
      integer(c_int) :: ndim
      integer(c_size_t) :: dims(3)
      type(c_ptr) :: p_scale, p_center, p_blocking, result

      status = stencil_grid_dims('pel_stencil_apply_factored', stencil, grid, faces, nsteps, dims, ndim)
      if (status /= PEL_OK) return
      p_scale = c_null_ptr
      p_center = c_null_ptr
      if (present(scale)) then
         if (rank(scale) /= rank(grid) .or. size(scale) /= size(grid)) then
            call shape_mismatch('pel_stencil_apply_factored', 'scale must have the shape of grid')
            status = PEL_ERROR_INVALID_ARGUMENT
            return
         end if
         p_scale = c_loc(scale)
      end if
      if (present(center)) then
         if (rank(center) /= rank(grid) .or. size(center) /= size(grid)) then
            call shape_mismatch('pel_stencil_apply_factored', 'center must have the shape of grid')
            status = PEL_ERROR_INVALID_ARGUMENT
            return
         end if
         p_center = c_loc(center)
      end if
      p_blocking = c_null_ptr
      if (present(blocking)) p_blocking = c_loc(blocking)
      result = c_null_ptr
      status = pel_stencil_apply_factored_c(stencil, dims, faces_to_c(faces, ndim), c_loc(grid), c_null_ptr, &
                                            p_scale, p_center, c_null_ptr, int(nsteps, c_size_t), p_blocking, result)
   end function pel_stencil_apply_factored

   !> Two time levels (see pel_stencil_apply_wave): nsteps steps of
   !> u(t+1) = alpha*u(t) + beta*u(t-1) + gamma*S u(t) from previous = u(t0-1)
   !> and current = u(t0), both updated in place to the last two levels;
   !> gamma (optional) has the grid's shape.
   integer(c_int) function pel_stencil_apply_wave(stencil, previous, current, faces, nsteps, alpha, beta, gamma, &
                                                  blocking) result(status)
      type(c_ptr), intent(in) :: stencil
      real(c_double), intent(inout), target, contiguous :: previous(..), current(..)
      type(pel_boundary), intent(in) :: faces(:)
      integer, intent(in) :: nsteps
      real(c_double), intent(in) :: alpha, beta
      real(c_double), intent(in), target, contiguous, optional :: gamma(..)
      type(pel_stencil_blocking), intent(in), target, optional :: blocking
      integer(c_int) :: ndim
      integer(c_size_t) :: dims(3)
      type(c_ptr) :: p_gamma, p_blocking, levels(4)

      status = stencil_grid_dims('pel_stencil_apply_wave', stencil, current, faces, nsteps, dims, ndim)
      if (status /= PEL_OK) return
      if (rank(previous) /= rank(current) .or. size(previous) /= size(current)) then
         call shape_mismatch('pel_stencil_apply_wave', 'previous must have the shape of current')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      p_gamma = c_null_ptr
      if (present(gamma)) then
         if (rank(gamma) /= rank(current) .or. size(gamma) /= size(current)) then
            call shape_mismatch('pel_stencil_apply_wave', 'gamma must have the shape of current')
            status = PEL_ERROR_INVALID_ARGUMENT
            return
         end if
         p_gamma = c_loc(gamma)
      end if
      p_blocking = c_null_ptr
      if (present(blocking)) p_blocking = c_loc(blocking)
      ! No work grids: pel allocates them and copies the levels back.
      levels = [c_loc(previous), c_loc(current), c_null_ptr, c_null_ptr]
      status = pel_stencil_apply_wave_c(stencil, dims, faces_to_c(faces, ndim), levels, alpha, beta, p_gamma, &
                                        int(nsteps, c_size_t), p_blocking)
   end function pel_stencil_apply_wave

   !> Solves -Laplace(u) = f by Jacobi iteration on the grid of u (rank 1..3,
   !> double), with spacing(i) the grid spacing along Fortran axis i and
   !> faces in Fortran axis order; u holds the initial guess and receives the
   !> solution. Returns PEL_OK when the relative residual reached tolerance,
   !> PEL_ERROR_NOT_CONVERGED after max_iterations steps. check_interval:
   !> steps between residual checks (0: pel's choice).
   integer(c_int) function pel_stencil_jacobi_poisson(u, f, spacing, faces, tolerance, max_iterations, &
                                                      check_interval, iterations, residual) result(status)
      real(c_double), intent(inout), target, contiguous :: u(..)
      real(c_double), intent(in), target, contiguous :: f(..)
      real(c_double), intent(in) :: spacing(:)
      type(pel_boundary), intent(in) :: faces(:)
      real(c_double), intent(in) :: tolerance
      integer, intent(in) :: max_iterations
      integer, intent(in), optional :: check_interval
      integer, intent(inout), optional :: iterations
      real(c_double), intent(inout), optional, target :: residual
      integer(c_size_t) :: dims(3), interval
      integer(c_size_t), target :: steps
      real(c_double), target :: last_residual
      real(c_double) :: c_spacing(3)
      integer :: ndim, i

      ndim = rank(u)
      if (ndim < 1 .or. ndim > 3 .or. rank(f) /= ndim .or. size(spacing) /= ndim .or. size(faces) /= 2 * ndim &
          .or. max_iterations < 0) then
         call set_error('pel_stencil_jacobi_poisson: u and f must have the same rank (1..3), with one spacing '// &
                        'per axis, 2*ndim faces and max_iterations >= 0')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      if (any(shape(u) /= shape(f))) then
         call shape_mismatch('pel_stencil_jacobi_poisson', 'f must have the shape of u')
         status = PEL_ERROR_INVALID_ARGUMENT
         return
      end if
      do i = 1, ndim
         dims(i) = size(u, ndim + 1 - i, kind=c_size_t)
         c_spacing(i) = spacing(ndim + 1 - i)
      end do
      interval = 0
      if (present(check_interval)) interval = int(max(check_interval, 0), c_size_t)
      steps = 0
      last_residual = 0
      status = pel_stencil_jacobi_poisson_c(PEL_FLOAT64, int(ndim, c_int), dims, c_spacing, faces_to_c(faces, ndim), &
                                            c_loc(u), c_loc(f), tolerance, int(max_iterations, c_size_t), interval, &
                                            c_loc(steps), c_loc(last_residual))
      if (present(iterations)) iterations = int(steps)
      if (present(residual)) residual = last_residual
   end function pel_stencil_jacobi_poisson

end module pel
