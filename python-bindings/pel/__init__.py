"""pel: OpenMP-accelerated numerics (dense and sparse matrices, FFTs,
stencils) from Python, through ctypes and numpy.

The shared library is found, in order: the path in ``$PEL_LIBRARY``; a libtool
build tree (``$PEL_BUILD_DIR/.libs``, or ``.libs``, ``_build/.libs`` or
``build/.libs`` beside this source tree); the installed ``libpel.so.0``
(dynamic loader cache, ``pkg-config --variable=libdir pel``, /usr/local/lib).
``pel.library_path`` says which file was loaded.

Calls release the GIL, so Python threads run pel kernels concurrently.
Failures raise :class:`pel.PelError` subclasses carrying the C library's
message. See docs/python.md for the array conversion rules.
"""

from ._errors import (BackendError, CallbackError, InternalError, InvalidArgumentError,
                      NotConvergedError, NotPositiveDefiniteError, OutOfMemoryError, ParseError,
                      PelError, PelIOError, SingularMatrixError, SizeOverflowError,
                      UnsupportedError)
from ._lib import path as library_path
from ._core import (backend_info, empty, zeros, get_min_work_per_thread, get_num_threads,
                    get_num_threads_local, in_forked_child, reduce_sum, set_min_work_per_thread,
                    set_num_threads, set_num_threads_local, status_name, strerror, task_plan,
                    threads_for_work, version, version_number, wtime)
from ._core import (MAX_THREADS, THREAD_BUDGET_DEFAULT, environment_notes, get_thread_budget,
                    get_thread_budget_in_use, set_thread_budget)

from .linalg import (axpy, batched_matmul, cholesky, cholesky_solve, det, dot, eigh, eigvalsh,
                     gemm, gemv, inv, lstsq, matmul, norm, scal, slogdet, solve, svd, transpose)
from .sparse import CSRMatrix
from . import fft, stencil  # noqa: E402  (submodules: pel.fft.fftn, pel.stencil.Stencil)
from . import tune  # noqa: E402  (issue 16: the machine model and pel's wisdom file)
from .tune import (machine_info, wisdom_export, wisdom_export_file, wisdom_import,
                   wisdom_import_file)
from ._lib import has_symbol
from ._threadpool import THREADPOOLCTL_REGISTERED, thread_limit

__version__ = version()

__all__ = [
    "PelError", "InvalidArgumentError", "OutOfMemoryError", "UnsupportedError", "BackendError",
    "SizeOverflowError", "SingularMatrixError", "NotPositiveDefiniteError", "PelIOError",
    "ParseError", "NotConvergedError", "CallbackError", "InternalError",
    "library_path", "version", "version_number", "backend_info", "strerror", "status_name",
    "set_num_threads", "get_num_threads", "set_num_threads_local", "get_num_threads_local",
    "set_min_work_per_thread", "get_min_work_per_thread", "threads_for_work",
    "set_thread_budget", "get_thread_budget", "get_thread_budget_in_use", "environment_notes",
    "MAX_THREADS", "THREAD_BUDGET_DEFAULT",
    "in_forked_child", "wtime", "reduce_sum", "task_plan", "has_symbol", "empty", "zeros",
    "matmul", "gemm", "gemv", "axpy", "scal", "batched_matmul", "transpose", "dot", "norm", "solve", "cholesky_solve",
    "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "lstsq",
    "CSRMatrix", "fft", "stencil", "thread_limit", "THREADPOOLCTL_REGISTERED",
    "tune", "machine_info", "wisdom_export", "wisdom_import", "wisdom_export_file",
    "wisdom_import_file",
]
