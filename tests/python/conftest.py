"""pytest setup for pel's Python tests: import the package from this source
tree unless another copy was put on the path on purpose (an installed one,
to test it), and seed the random inputs."""

import os
import sys

import numpy as np
import pytest

_BINDINGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python-bindings")
if os.environ.get("PEL_TEST_INSTALLED") != "1":
    sys.path.insert(0, os.path.abspath(_BINDINGS))


@pytest.fixture
def rng():
    """A seeded generator: random, never-zero inputs that repeat run to run."""
    return np.random.default_rng(20261124)


@pytest.fixture
def estimate_plans():
    """One-shot FFTs on fixed-effort (ESTIMATE) plans for a test that
    compares bits across calls: the default "auto" plans may be upgraded
    between two calls."""
    from pel import fft
    saved = fft.get_default_effort()
    fft.set_default_effort("estimate")
    yield fft
    fft.set_default_effort(saved)


@pytest.fixture
def threads():
    """Restores pel's thread settings after a test that changes them."""
    import pel
    yield pel
    pel.set_num_threads(0)
    pel.set_num_threads_local(0)
    pel.set_min_work_per_thread(0)


def run_in_threads(worker, count=4):
    """Runs worker(i) for i < count on Python threads at the same time and
    re-raises the first failure in the calling (pytest's) thread."""
    import threading
    errors = []

    def guarded(i):
        try:
            worker(i)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
    pool = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
