"""pytest plugin: scipy's and numpy's own FFT test files, run against pel.fft.

Usage (tests/test_python_upstream, a `make check` entry, does this)::

    python3 -m pytest -p pel_upstream --noconftest <scipy and numpy test files>

with this folder on PYTHONPATH. Nothing in the test files is edited; each is
pointed at pel in the least intrusive way that reaches pel:

* files that call scipy.fft's public functions (scipy/fft/tests/*) run with
  ``scipy.fft.set_global_backend(pel.fft)`` and scipy's own backend
  registered behind it: every scipy.fft call, from any thread, goes through
  pel's uarray backend, which hands back to scipy only what pel does not do
  (long double data, repeated axes, fht). (``set_backend`` would be
  thread-local, and the thread-safety tests compare a result computed in
  the main thread with ones computed in new threads, bit for bit.);
* files that import pocketfft's functions directly
  (scipy/fft/_pocketfft/tests/test_basic.py) get pel's functions in their
  module globals and in their parametrize arguments;
* numpy's files (numpy/fft/tests/*) see pel's functions as numpy.fft.* for
  the duration of each test;
* scipy's helper tests get pel's next_fast_len.

Substituted functions fall back to the original for the same cases as the
backend (counted as "declined"). Tests that fail on purpose are listed in
EXPECTED_FAILURES with the reason and marked xfail(strict=True): if one of
them starts passing, the run fails, so the list (and docs/python.md, which
repeats it) stays true. ``--noconftest`` keeps numpy's conftest (it needs
the hypothesis package) and scipy's out; their markers only select tests.
"""

import collections
import contextlib
import functools
import os

import numpy as np
import pytest

import pel
import pel.fft as pf

_BACKEND, _POCKETFFT, _NUMPY, _SCIPY_HELPER = "backend", "pocketfft", "numpy", "scipy-helper"

#: How each upstream file is pointed at pel (by its path's tail).
FILES = {
    "scipy/fft/tests/test_numpy.py": _BACKEND,
    "scipy/fft/tests/test_real_transforms.py": _BACKEND,
    "scipy/fft/tests/test_multithreading.py": _BACKEND,
    "scipy/fft/tests/test_helper.py": _SCIPY_HELPER,
    "scipy/fft/_pocketfft/tests/test_basic.py": _POCKETFFT,
    "numpy/fft/tests/test_pocketfft.py": _NUMPY,
    "numpy/fft/tests/test_helper.py": _NUMPY,
}

_POCKETFFT_NAMES = ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
                    "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn",
                    "ihfftn", "dct", "idct", "dst", "idst", "dctn", "idctn", "dstn", "idstn")
_NUMPY_NAMES = ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
                "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift",
                "ifftshift")

_DST_ORTHO = ("scipy 1.10 orthogonalises DST-II/III at the wrong end (it rescales y[0] / x[0], "
              "so its 'ortho' DST-II is not orthogonal: scipy issue 18452, fixed in scipy 1.11 by "
              "PR 18613); pel rescales y[n-1] / x[n-1], the orthonormal transform, and these tests "
              "compare with the 1.10 behaviour")

#: Tests that fail by design: (file tail, test name prefix) -> reason. The
#: name is matched against the start of the test's node name (parameters
#: included), so one entry may cover a parametrised family.
EXPECTED_FAILURES = {
    ("scipy/fft/tests/test_helper.py", "TestNextFastLen::test_keyword_args"):
        "pel's next_fast_len answers FFTW's fast sizes (2^a 3^b 5^c 7^d 11^e 13^f, e+f <= 1) "
        "for real=True too: 11 is fast for FFTW, pocketfft's real rule is 5-smooth (12)",
    ("scipy/fft/tests/test_real_transforms.py", "test_fftpack_equivalience[ortho-2-dst"):
        _DST_ORTHO,
    ("scipy/fft/tests/test_real_transforms.py", "test_fftpack_equivalience[ortho-3-dst"):
        _DST_ORTHO,
    ("scipy/fft/tests/test_real_transforms.py", "test_orthogonalize_dcst2[dst-"): _DST_ORTHO,
    ("scipy/fft/tests/test_real_transforms.py", "test_orthogonalize_dcst3[dst-"): _DST_ORTHO,
    ("scipy/fft/tests/test_helper.py", "TestNextFastLen::test_next_fast_len"):
        "same: 13 is FFTW-fast, not 11-smooth; real=True is not 5-smooth for FFTW",
    ("scipy/fft/tests/test_helper.py", "TestNextFastLen::testnext_fast_len_small"):
        "same: real=True gives FFTW's sizes (7 -> 7, 14 -> 14, 17 -> 18) not 5-smooth ones",
    ("scipy/fft/tests/test_helper.py", "TestNextFastLen::testnext_fast_len_big"):
        "same rule difference on large targets",
}

_handled = collections.Counter()
_declined = collections.Counter()
_reasons = collections.Counter()
_outcomes = collections.defaultdict(collections.Counter)


def _tail(path):
    path = str(path).replace(os.sep, "/")
    for tail in FILES:
        if path.endswith(tail):
            return tail
    return None


def _substitute(name, original):
    """pel's function ``name`` in place of ``original``, falling back to it
    where the backend would."""
    mine = getattr(pf, name)

    @functools.wraps(original)
    def call(*args, **kwargs):
        try:
            result = mine(*args, **kwargs)
        except (pf.LongDoubleError, pf._RepeatedAxesError) as exc:
            _declined[name] += 1
            _reasons[type(exc).__name__] += 1
            return original(*args, **kwargs)
        _handled[name] += 1
        return result
    call.__pel_substitute__ = True
    return call


def _patch_pocketfft_module(module):
    if getattr(module, "__pel_patched__", False):
        return
    for name in _POCKETFFT_NAMES:
        original = getattr(module, name, None)
        if original is not None:
            setattr(module, name, _substitute(name, original))
    module.__pel_patched__ = True


def _swap_params(item):
    """Parametrize arguments that are pocketfft's functions (captured when
    the file was imported) become pel's."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return
    for key, value in list(callspec.params.items()):
        module = getattr(value, "__module__", "") or ""
        name = getattr(value, "__name__", "")
        if callable(value) and module.startswith("scipy.fft._pocketfft") and \
                name in _POCKETFFT_NAMES:
            callspec.params[key] = _substitute(name, value)


def pytest_sessionstart(session):
    import scipy.fft
    scipy.fft.set_global_backend(pf)
    scipy.fft.register_backend("scipy")


def pytest_sessionfinish(session, exitstatus):
    import scipy.fft
    scipy.fft.set_global_backend("scipy", try_last=True)


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        tail = _tail(item.fspath)
        if tail is None:
            continue
        mode = FILES[tail]
        if mode == _POCKETFFT:
            _patch_pocketfft_module(item.module)
            _swap_params(item)
        elif mode == _SCIPY_HELPER and not getattr(item.module, "__pel_patched__", False):
            item.module.next_fast_len = pf.next_fast_len
            item.module.__pel_patched__ = True
        name = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
        for (ftail, prefix), reason in EXPECTED_FAILURES.items():
            # A prefix without "[" names a test and all its parameter sets;
            # one with "[" names the parameter sets that start with it.
            if ftail == tail and (name == prefix or name.startswith(prefix + "[")
                                  or ("[" in prefix and name.startswith(prefix))):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@contextlib.contextmanager
def _numpy_patched():
    saved = {name: getattr(np.fft, name) for name in _NUMPY_NAMES}
    try:
        for name, original in saved.items():
            setattr(np.fft, name, _substitute(name, original))
        yield
    finally:
        for name, original in saved.items():
            setattr(np.fft, name, original)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    tail = _tail(item.fspath)
    mode = FILES.get(tail)
    if mode == _NUMPY:
        with _numpy_patched():
            yield
    else:
        yield


def pytest_runtest_logreport(report):
    tail = _tail(report.fspath)
    if tail is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.outcome == "skipped" else "xpassed"
        _outcomes[tail][outcome] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    write = terminalreporter.write_line
    write("")
    write(f"pel upstream FFT suites against pel {pel.version()} ({pel.library_path}):")
    for tail in FILES:
        counts = _outcomes.get(tail, {})
        text = ", ".join(f"{counts[k]} {k}" for k in sorted(counts)) or "not run"
        write(f"  {tail} [{FILES[tail]}]: {text}")
    stats = pf.backend_stats()
    handled = collections.Counter(stats["handled"]) + _handled
    declined = collections.Counter(stats["declined"]) + _declined
    reasons = collections.Counter(stats.get("reasons", {})) + _reasons
    write(f"  calls run by pel: {sum(handled.values())}; handed back to scipy/numpy: "
          f"{sum(declined.values())} ({', '.join(f'{k} {v}' for k, v in declined.most_common())})")
    write(f"  why handed back: {', '.join(f'{k} {v}' for k, v in reasons.most_common()) or '-'}")
