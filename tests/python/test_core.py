"""Library loading, version, thread policy, errors, exec reductions."""

import math
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import pel
from conftest import run_in_threads


def test_version_and_library():
    assert pel.version() == pel.__version__
    major, minor, patch = (int(p) for p in pel.version().split("."))
    assert pel.version_number() == major * 10000 + minor * 100 + patch
    assert os.path.exists(pel.library_path)
    assert "OpenBLAS" in pel.backend_info() and "fftw" in pel.backend_info().lower()


def test_status_names():
    assert pel.status_name(0) == "PEL_OK"
    assert pel.status_name(-1) == "PEL_ERROR_INVALID_ARGUMENT"
    assert pel.strerror(-2) == "out of memory"
    # The Python classes agree with the C table.
    for cls in (pel.InvalidArgumentError, pel.OutOfMemoryError, pel.UnsupportedError,
                pel.BackendError, pel.SizeOverflowError, pel.SingularMatrixError,
                pel.NotPositiveDefiniteError, pel.PelIOError, pel.ParseError,
                pel.NotConvergedError, pel.CallbackError, pel.InternalError):
        assert pel.status_name(cls.status) == cls.status_name
        assert issubclass(cls, pel.PelError)


def test_exception_hierarchy():
    assert issubclass(pel.InvalidArgumentError, ValueError)
    assert issubclass(pel.OutOfMemoryError, MemoryError)
    assert issubclass(pel.SingularMatrixError, np.linalg.LinAlgError)
    assert issubclass(pel.PelIOError, OSError)


def test_threads(threads):
    pel.set_num_threads(3)
    assert pel.get_num_threads() == 3
    pel.set_num_threads_local(1)
    assert pel.get_num_threads() == 1 and pel.get_num_threads_local() == 1
    pel.set_num_threads_local(0)
    assert pel.get_num_threads() == 3
    pel.set_min_work_per_thread(100)
    assert pel.get_min_work_per_thread() == 100
    assert pel.threads_for_work(50) == 1
    assert pel.threads_for_work(10 ** 6) == 3
    pel.set_num_threads(0)
    assert pel.get_num_threads() >= 1
    assert not pel.in_forked_child()


def test_threads_errors(threads):
    with pytest.raises(pel.InvalidArgumentError, match=r"^pel_set_num_threads: .*nthreads") as info:
        pel.set_num_threads(-1)
    assert info.value.status == -1 and info.value.function == "pel_set_num_threads"
    with pytest.raises(ValueError, match=r"^pel_set_num_threads_local: "):
        pel.set_num_threads_local(-2)
    with pytest.raises(TypeError):
        pel.set_num_threads(2.5)
    with pytest.raises(OverflowError):
        pel.set_num_threads(2 ** 40)
    with pytest.raises(ValueError):  # negative: the issue-13 rule (was OverflowError)
        pel.set_min_work_per_thread(-1)


def test_error_message_is_per_thread(threads):
    # A failure on another thread must not leak into this thread's message.
    errors = []

    def fail():
        try:
            pel.set_num_threads(-7)
        except pel.PelError as exc:
            errors.append(str(exc))
    t = threading.Thread(target=fail)
    t.start()
    t.join()
    assert errors and "-7" in errors[0]
    with pytest.raises(pel.InvalidArgumentError, match="-9"):
        pel.set_num_threads(-9)


def test_wtime():
    t0 = pel.wtime()
    assert pel.wtime() >= t0


@pytest.mark.parametrize("n", [0, 1, 7, 4096, 4097, 100003])
def test_reduce_sum(rng, n, threads):
    x = rng.uniform(-1, 1, n)
    expected = math.fsum(x)
    bound = (4096 / 8 + 20) * np.finfo(float).eps * np.abs(x).sum()
    results = set()
    pel.set_min_work_per_thread(1)
    for t in (1, 2, 3, 4):
        pel.set_num_threads(t)
        s = pel.reduce_sum(x)
        assert abs(s - expected) <= bound
        results.add(s)
    assert len(results) == 1  # same bits for every thread count


def test_reduce_sum_layouts(rng):
    x = rng.uniform(-1, 1, (40, 30))
    expected = math.fsum(x.ravel())
    tol = 1e-12 * np.abs(x).sum()
    assert abs(pel.reduce_sum(x) - expected) <= tol
    # Strided 1-D views are read in place, others are copied.
    col = x[:, 3]
    assert abs(pel.reduce_sum(col) - math.fsum(col)) <= tol
    assert abs(pel.reduce_sum(x[::-1, ::2]) - math.fsum(x[:, ::2].ravel())) <= tol
    assert pel.reduce_sum([1, 2, 3]) == 6.0
    assert pel.reduce_sum(np.arange(10, dtype=np.int32)) == 45.0
    f32 = x.astype(np.float32)
    assert abs(pel.reduce_sum(f32) - math.fsum(f32.astype(float).ravel())) <= tol
    # misaligned float64 data
    buf = np.zeros(8 * 101 + 1, dtype=np.uint8)
    mis = buf[1:].view(np.float64)
    mis[:] = rng.uniform(-1, 1, 101)
    assert not mis.flags.aligned
    assert abs(pel.reduce_sum(mis) - math.fsum(mis)) <= tol
    with pytest.raises(TypeError, match="complex"):
        pel.reduce_sum(np.ones(3, dtype=complex))


def test_task_plan():
    costs = np.array([5.0, 3.0, 3.0, 2.0, 2.0, 1.0])
    assignment, makespan = pel.task_plan(costs, 2)
    loads = np.bincount(assignment, weights=costs, minlength=2)
    assert makespan == loads.max() == 8.0
    assert pel.task_plan([], 3)[0].shape == (0,)
    with pytest.raises(pel.InvalidArgumentError, match="^pel_task_plan: .*nthreads"):
        pel.task_plan(costs, 0)
    with pytest.raises(pel.InvalidArgumentError, match="^pel_task_plan: "):
        pel.task_plan([1.0, -1.0], 2)


def test_concurrent_reduce_sum(rng):
    x = rng.uniform(-1, 1, 200000)
    expected = pel.reduce_sum(x)
    out = []

    def worker():
        out.extend(pel.reduce_sum(x) for _ in range(50))
    pool = [threading.Thread(target=worker) for _ in range(4)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert len(out) == 200 and set(out) == {expected}


def _run(code, **env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full, timeout=60, check=False)


def test_thread_budget(threads):
    initial = pel.get_thread_budget()
    assert initial >= 0
    try:
        pel.set_thread_budget(3)
        assert pel.get_thread_budget() == 3
        pel.set_thread_budget(0)
        assert pel.get_thread_budget() == 0
        with pytest.raises(pel.InvalidArgumentError, match=r"^pel_set_thread_budget: nthreads=-2"):
            pel.set_thread_budget(-2)
        with pytest.raises(pel.InvalidArgumentError, match=r"nthreads=4097"):
            pel.set_thread_budget(pel.MAX_THREADS + 1)
        with pytest.raises(pel.InvalidArgumentError, match=r"^pel_set_num_threads: nthreads=4097"):
            pel.set_num_threads(4097)
        # Four Python threads share a budget of 2; every sum keeps its bits.
        x = np.random.default_rng(5).uniform(-1, 1, 1 << 20)
        pel.set_num_threads(1)
        expected = pel.reduce_sum(x)
        pel.set_num_threads(2)
        pel.set_min_work_per_thread(1)
        pel.set_thread_budget(2)
        results = [[] for _ in range(4)]

        def worker(i):
            for _ in range(20):
                results[i].append(pel.reduce_sum(x))

        run_in_threads(worker, 4)
        assert all(r == [expected] * 20 for r in results)
        assert pel.get_thread_budget_in_use() == 0
    finally:
        pel.set_thread_budget(pel.THREAD_BUDGET_DEFAULT)
    assert pel.get_thread_budget() == initial


def test_environment_refused_with_a_note():
    # strtol saturated this to 2147483647 threads.
    code = "import pel; print(pel.get_num_threads()); print(pel.environment_notes())"
    r = _run(code, PYTHONPATH=os.pathsep.join(sys.path), PEL_NUM_THREADS="99999999999999999999",
             OMP_NUM_THREADS="2", PEL_THREAD_BUDGET="lots")
    assert r.returncode == 0, r.stderr
    count, notes = r.stdout.splitlines()[:2]
    assert count == "2"
    assert 'PEL_NUM_THREADS: "99999999999999999999" is out of range 0..4096' in notes
    assert 'PEL_THREAD_BUDGET: "lots" is not a whole decimal number' in notes
    r = _run("import pel; print(pel.get_thread_budget(), repr(pel.environment_notes()))",
             PYTHONPATH=os.pathsep.join(sys.path), PEL_THREAD_BUDGET="5")
    assert r.stdout.split() == ["5", "''"]


def test_missing_library_is_a_clear_import_error(tmp_path):
    r = _run("import pel", PEL_LIBRARY=str(tmp_path / "nope.so"),
             PYTHONPATH=os.pathsep.join(sys.path))
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "PEL_LIBRARY" in r.stderr and "nope.so" in r.stderr


def test_calls_release_the_gil():
    # CDLL (not PyDLL) drops the GIL around foreign calls: that is what lets
    # Python threads run pel kernels at the same time.
    import ctypes
    from pel import _lib
    assert isinstance(_lib.lib, ctypes.CDLL) and not isinstance(_lib.lib, ctypes.PyDLL)


def test_fork_child_runs_single_threaded():
    # multiprocessing's fork start method: libgomp cannot restart its pool in
    # the child, so pel must notice and run there on the calling thread
    # instead of hanging.
    code = """
import os, sys, numpy as np, pel
pel.set_num_threads(2); pel.set_min_work_per_thread(1)
x = np.random.default_rng(1).uniform(-1, 1, 100000)
s = pel.reduce_sum(x)
pid = os.fork()
if pid == 0:
    ok = pel.in_forked_child() and pel.get_num_threads() == 1 and pel.reduce_sum(x) == s
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    r = _run(code, PYTHONPATH=os.pathsep.join(sys.path))
    assert r.returncode == 0, r.stderr


def test_pip_install_offline(tmp_path):
    # `pip install --no-build-isolation ./python-bindings` with Debian's
    # setuptools, no network; built from a copy because the source tree is
    # read-only under `make distcheck`.
    import shutil
    src = os.path.join(os.path.dirname(os.path.abspath(pel.__file__)), "..")
    copy = tmp_path / "python-bindings"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                             "__pycache__"))
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--no-index", "--disable-pip-version-check", "--quiet",
                        "--target", str(target), str(copy)],
                       capture_output=True, text=True, timeout=120, check=False,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    check = _run("import pel, sys; print(pel.__file__); print(pel.version())",
                 PYTHONPATH=str(target), PEL_LIBRARY=pel.library_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith(str(target)) and pel.version() in check.stdout


def test_pel_allocated_arrays():
    a = pel.zeros((1000, 700))
    assert a.shape == (1000, 700) and a.dtype == np.float64 and not a.any()
    assert a.ctypes.data % (2 << 20) == 0          # >= 4 MiB: 2 MiB aligned for huge pages
    a += 1.0
    row = a[5]
    del a                                           # the view keeps pel's memory alive
    assert row.sum() == 700.0
    b = pel.empty(7, np.complex64)
    assert b.shape == (7,) and b.dtype == np.complex64 and b.ctypes.data % 64 == 0
    assert pel.zeros(0).shape == (0,)
    with pytest.raises(pel.SizeOverflowError, match="SIZE_MAX"):
        pel.empty((2 ** 62, 8))
    with pytest.raises(pel.OutOfMemoryError, match="^pel_malloc: ") as info:
        pel.empty(2 ** 43)                          # 64 TiB
    assert isinstance(info.value, MemoryError)
    with pytest.raises(ValueError, match="negative"):
        pel.zeros((-1, 2))
