"""Version, thread policy, error helpers and the execution layer's
reductions (include/pel/core.h, include/pel/exec.h)."""

import ctypes
import math
import weakref
from ctypes import POINTER, c_char_p, c_double, c_int, c_size_t, c_ssize_t, c_void_p

import numpy as np

from . import _args, _arrays
from ._errors import OutOfMemoryError, SizeOverflowError
from ._lib import _last_error, declare

_version = declare("pel_version", c_char_p, [], status=False)
_version_number = declare("pel_version_number", c_int, [], status=False)
_backend_info = declare("pel_backend_info", c_char_p, [], status=False)
_strerror = declare("pel_strerror", c_char_p, [c_int], status=False)
_status_name = declare("pel_status_name", c_char_p, [c_int], status=False)
_clear_error = declare("pel_clear_error", None, [], status=False)
_set_num_threads = declare("pel_set_num_threads", None, [c_int])
_set_num_threads_local = declare("pel_set_num_threads_local", None, [c_int])
_get_num_threads_local = declare("pel_get_num_threads_local", c_int, [], status=False)
_get_num_threads = declare("pel_get_num_threads", c_int, [], status=False)
_set_thread_budget = declare("pel_set_thread_budget", None, [c_int])
_get_thread_budget = declare("pel_get_thread_budget", c_int, [], status=False)
_get_thread_budget_in_use = declare("pel_get_thread_budget_in_use", c_int, [], status=False)
_environment_notes = declare("pel_environment_notes", c_char_p, [], status=False)
_set_min_work = declare("pel_set_min_work_per_thread", None, [c_size_t])
_get_min_work = declare("pel_get_min_work_per_thread", c_size_t, [], status=False)
_threads_for_work = declare("pel_threads_for_work", c_int, [c_size_t], status=False)
_in_forked_child = declare("pel_in_forked_child", c_int, [], status=False)
_wtime = declare("pel_wtime", c_double, [], status=False)
_reduce_sum = declare("pel_reduce_sum", None, [c_void_p, c_size_t, c_ssize_t, POINTER(c_double)])
_task_plan = declare("pel_task_plan", None,
                     [c_size_t, c_void_p, c_int, c_void_p, POINTER(c_double)])

_malloc = declare("pel_malloc", c_void_p, [c_size_t], status=False)
_calloc = declare("pel_calloc", c_void_p, [c_size_t, c_size_t], status=False)
_free = declare("pel_free", None, [c_void_p], status=False)

_SIZE_MAX = _args.SIZE_MAX

#: The largest thread count pel accepts (PEL_MAX_THREADS in pel/core.h).
MAX_THREADS = 4096
#: set_thread_budget() argument that restores the default budget.
THREAD_BUDGET_DEFAULT = -1


def version():
    """The loaded library's version string, e.g. ``"0.1.0"``."""
    return _version().decode()


def version_number():
    """The loaded library's version as MAJOR*10000 + MINOR*100 + PATCH."""
    return _version_number()


def backend_info():
    """One line naming the linked OpenBLAS and FFTW builds."""
    return _backend_info().decode()


def strerror(status):
    """A few words describing a pel status code (``"invalid argument"``)."""
    return _strerror(_args.c_int("strerror", "status", status)).decode()


def status_name(status):
    """The C enumerator name of a status code (``"PEL_ERROR_INVALID_ARGUMENT"``)."""
    return _status_name(_args.c_int("status_name", "status", status)).decode()


def set_num_threads(nthreads):
    """Sets the process-wide number of threads pel kernels use (OpenBLAS and
    FFTW included). 0 restores the default (PEL_NUM_THREADS, else OpenMP's).
    Raises InvalidArgumentError (a ValueError) outside 0..MAX_THREADS."""
    _set_num_threads(_args.c_int("set_num_threads", "nthreads", nthreads))


def get_num_threads():
    """The number of threads a pel kernel called now from this thread would
    use for a large problem (>= 1)."""
    return _get_num_threads()


def set_num_threads_local(nthreads):
    """Sets the thread count for pel calls made from the calling Python thread
    only, overriding set_num_threads() there; 0 removes the override. Useful
    when several Python threads each run pel: give each a fixed share of the
    cores (the process-wide set_thread_budget() shares them automatically)."""
    _set_num_threads_local(_args.c_int("set_num_threads_local", "nthreads", nthreads))


def get_num_threads_local():
    """The calling thread's override from set_num_threads_local(), or 0."""
    return _get_num_threads_local()


def set_thread_budget(nthreads):
    """Sets the process-wide thread budget: how many threads pel's kernels
    running at the same time, from any number of (Python) threads, may use
    together, OpenBLAS and FFTW teams included. A kernel gets what is left,
    down to its calling thread alone, and never waits; a kernel running
    alone always gets its full count. 0 turns the budget off;
    THREAD_BUDGET_DEFAULT (-1) restores the default (PEL_THREAD_BUDGET, else
    the core count). Raises InvalidArgumentError outside -1..MAX_THREADS."""
    _set_thread_budget(_args.c_int("set_thread_budget", "nthreads", nthreads))


def get_thread_budget():
    """The thread budget in effect (0 when off)."""
    return _get_thread_budget()


def get_thread_budget_in_use():
    """The number of threads running pel teams hold from the budget now."""
    return _get_thread_budget_in_use()


def environment_notes():
    """Why pel ignored environment variables when it loaded (e.g. an
    out-of-range PEL_NUM_THREADS), "; "-separated; "" when none was refused."""
    return _environment_notes().decode()


def set_min_work_per_thread(work_units):
    """Sets the smallest work (about one flop or 8 bytes moved) worth giving
    to one thread; 0 restores the default."""
    _set_min_work(_args.size("set_min_work_per_thread", "work_units", work_units))


def get_min_work_per_thread():
    """The cutoff set by set_min_work_per_thread()."""
    return _get_min_work()


def threads_for_work(work_units):
    """How many threads pel would use for a problem of @p work_units."""
    return _threads_for_work(_args.size("threads_for_work", "work_units", work_units))


def in_forked_child():
    """True in a process forked (without exec) from one that had loaded pel,
    e.g. a multiprocessing worker with the fork start method: libgomp cannot
    restart its threads there, so pel runs every kernel on one thread."""
    return bool(_in_forked_child())


def wtime():
    """Wall-clock seconds from pel's monotonic clock."""
    return _wtime()


def reduce_sum(x):
    """Sum of all elements of @p x, bit-identical for every thread count.

    The C kernel sums fixed blocks of 4096 elements in a fixed order, so the
    result does not depend on pel.set_num_threads() (``numpy.sum`` uses
    pairwise summation whose bits depend on the memory layout). A 1-D
    float64 array with a positive stride is read in place; other inputs are
    converted to a contiguous float64 array first (integers, float32). Complex
    input raises TypeError.
    """
    dtype = _arrays.kernel_dtype("reduce_sum", x, allowed=(_arrays.FLOAT64,))
    result = c_double()
    if (type(x) is np.ndarray and x.ndim == 1 and x.dtype == dtype and x.flags.aligned
            and x.strides[0] > 0 and x.strides[0] % 8 == 0):
        _reduce_sum(x.ctypes.data, x.shape[0], x.strides[0] // 8, result)
        return result.value
    a = _arrays.as_input(x, dtype)
    _reduce_sum(a.ctypes.data, a.size, 1, result)
    return result.value


def task_plan(costs, nthreads):
    """The longest-processing-time-first assignment of tasks with the given
    @p costs to @p nthreads threads that pel's task runner starts from.
    Returns ``(assignment, makespan)``: the thread of each task (int32 array)
    and the largest per-thread total."""
    c = _arrays.as_input(costs, _arrays.FLOAT64)
    if c.ndim != 1:
        raise ValueError(f"task_plan: costs must be 1-D, got shape {c.shape}")
    nthreads = _args.c_int("task_plan", "nthreads", nthreads)
    assignment = np.empty(c.shape[0], dtype=np.intc)
    makespan = c_double()
    _task_plan(c.shape[0], c.ctypes.data if c.shape[0] else None, nthreads,
               assignment.ctypes.data, makespan)
    return assignment, makespan.value


def adopt_pel_memory(address, shape, dtype):
    """An ndarray over memory from pel's allocator that hands it back to
    pel_free() when the array and every view of it are gone."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffer = (ctypes.c_char * max(1, nbytes)).from_address(address)
    weakref.finalize(buffer, _free, address)
    return np.frombuffer(buffer, dtype=dtype, count=math.prod(shape)).reshape(shape)


def _allocate(func, shape, dtype, zero):
    shape = tuple(_args.sizes(func, "shape", shape))
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    if count * dtype.itemsize > _SIZE_MAX:
        raise SizeOverflowError(f"{func}: {shape} of {dtype} needs more than SIZE_MAX bytes",
                                function=func, status=SizeOverflowError.status)
    address = _calloc(count, dtype.itemsize) if zero else _malloc(count * dtype.itemsize)
    if not address:
        # pel_malloc/pel_calloc return NULL (no status) and leave the reason
        # in the thread's last error, read here on the same thread.
        raise OutOfMemoryError(_last_error(), function="pel_calloc" if zero else "pel_malloc",
                               status=OutOfMemoryError.status)
    return adopt_pel_memory(address, shape, dtype)


def empty(shape, dtype=np.float64):
    """An uninitialised C-ordered array from pel's allocator: 64-byte aligned
    (2 MiB and on transparent huge pages from 4 MiB up). Freed when the array
    and its views are gone. Raises pel.OutOfMemoryError (a MemoryError)."""
    return _allocate("empty", shape, dtype, False)


def zeros(shape, dtype=np.float64):
    """Like :func:`empty`, zeroed by pel_calloc on pel's threads with a
    static partition, so on a NUMA machine each page is first touched by the
    thread that will use that part in a static-schedule kernel."""
    return _allocate("zeros", shape, dtype, True)
