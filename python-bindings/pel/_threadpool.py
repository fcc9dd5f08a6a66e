"""pel and threadpoolctl.

threadpoolctl 3.2 and later let a library register a controller
(``threadpoolctl.register``): pel registers one at import, so that
``threadpoolctl.threadpool_info()`` lists libpel (user_api "pel") and
``threadpool_limits(n)`` / ``threadpool_limits(n, user_api="pel")`` set
pel's process-wide thread count (pel_set_num_threads) for the block.

Debian 12 ships threadpoolctl 3.1, which has no registration API. There pel
is still limited by ``threadpool_limits(n)`` and
``threadpool_limits(n, user_api="openmp")`` as long as pel's own setting is
the default: pel then uses OpenMP's thread count of the calling thread,
which that limit sets through libgomp. An explicit ``pel.set_num_threads``
or ``PEL_NUM_THREADS`` takes precedence over it; limit pel then with
``pel.set_num_threads(n)`` (process) or ``pel.set_num_threads_local(n)``
(calling thread). :func:`thread_limit` is a context manager for the latter.
"""

import contextlib

from ._core import get_num_threads_local, set_num_threads_local
from ._lib import path as _library_path


@contextlib.contextmanager
def thread_limit(nthreads):
    """Runs the block with pel limited to ``nthreads`` threads on the calling
    Python thread (pel_set_num_threads_local), then restores the previous
    limit; threadpoolctl-style, without threadpoolctl."""
    old = get_num_threads_local()
    set_num_threads_local(nthreads)
    try:
        yield
    finally:
        set_num_threads_local(old)


def register_threadpoolctl():
    """Registers pel's controller with threadpoolctl when it offers
    registration (3.2+); returns True if it did. Called at import."""
    try:
        import threadpoolctl
    except ImportError:
        return False
    if not hasattr(threadpoolctl, "register") or not hasattr(threadpoolctl, "LibController"):
        return False

    class PelController(threadpoolctl.LibController):
        user_api = "pel"
        internal_api = "pel"
        filename_prefixes = ("libpel",)
        check_symbols = ("pel_set_num_threads", "pel_get_num_threads")

        def get_num_threads(self):
            return self.dynlib.pel_get_num_threads()

        def set_num_threads(self, num_threads):
            return self.dynlib.pel_set_num_threads(int(num_threads))

        def get_version(self):
            from ._core import version
            return version()

    PelController.__doc__ = f"threadpoolctl controller of libpel ({_library_path})"
    threadpoolctl.register(PelController)
    return True


try:
    THREADPOOLCTL_REGISTERED = register_threadpoolctl()
except Exception:  # a threadpoolctl with another API: pel still works
    THREADPOOLCTL_REGISTERED = False
