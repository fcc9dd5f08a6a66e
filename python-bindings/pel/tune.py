"""The measured machine model and pel's one wisdom file (include/pel/tune.h,
docs/tuning.md).

``machine_info()`` returns the model pel measures once per process (cache
capacities checked against a bandwidth sweep, memory bandwidth, FMA rate,
fork/join cost); ``wisdom_export()``/``wisdom_import(text)`` and their
``_file`` variants carry it, with FFTW's wisdom of both precisions, from one
run (or machine) to the next. A text from another machine is ignored, never
misapplied: the import returns False and ``last_note()`` says why.
"""

import os
from ctypes import POINTER, Structure, byref, c_char_p, c_double, c_int, c_size_t, c_void_p

from ._core import _free
from ._lib import _last_error, declare

_SWEEP_POINTS = 32  # the array length of pel_machine's sweep fields


class _Cache(Structure):
    _fields_ = [("bytes", c_size_t), ("reported_bytes", c_size_t), ("shared_by", c_int),
                ("gbps", c_double), ("source", c_int)]


class _Machine(Structure):
    _fields_ = [("threads", c_int), ("cache", _Cache * 3), ("memory_gbps", c_double),
                ("memory_source", c_int), ("fma_gflops", c_double), ("fma_source", c_int),
                ("parallel_region_us", c_double), ("sweep_bytes", c_size_t),
                ("sweep_points", c_int), ("sweep_point_bytes", c_size_t * _SWEEP_POINTS),
                ("sweep_point_gbps", c_double * _SWEEP_POINTS), ("measure_seconds", c_double)]


_machine_info = declare("pel_machine_info", None, [POINTER(_Machine)], required=False)
_source_name = declare("pel_machine_source_name", c_char_p, [c_int], status=False,
                       required=False)
_export = declare("pel_wisdom_export", None, [POINTER(c_void_p)], required=False)
_import = declare("pel_wisdom_import", None, [c_char_p, POINTER(c_int)], required=False)
_export_file = declare("pel_wisdom_export_file", None, [c_char_p], required=False)
_import_file = declare("pel_wisdom_import_file", None, [c_char_p, POINTER(c_int)],
                       required=False)

#: The names of pel_machine_source, in the enum's order.
SOURCES = ("default", "reported", "measured")
#: The cache levels of machine_info()["caches"], in order.
CACHE_LEVELS = ("L1d", "L2", "L3")


def _source(value):
    return _source_name(value).decode()


def machine_info():
    """The machine model (``pel_machine_info``) as a dict, measuring it first
    if this process has not (about 0.1-0.5 s, once; thread-safe).

    Keys: ``threads`` (the measuring team), ``caches`` (a list of three dicts
    for L1d, L2, L3 with ``level``, ``bytes`` (the effective capacity pel
    plans with), ``reported_bytes`` (sysfs/sysconf, 0 if nothing),
    ``shared_by``, ``gbps`` (the team's read rate inside the level) and
    ``source``), ``memory_gbps``/``memory_source``,
    ``fma_gflops``/``fma_source``, ``parallel_region_us`` (one fork/join),
    ``sweep`` (a list of ``(bytes, gbps)`` points of the bandwidth sweep,
    the team's working set), ``sweep_bytes`` and ``measure_seconds``.
    Each ``source`` is "default", "reported" or "measured"."""
    m = _Machine()
    _machine_info(byref(m))
    caches = [{"level": CACHE_LEVELS[i], "bytes": c.bytes, "reported_bytes": c.reported_bytes,
               "shared_by": c.shared_by, "gbps": c.gbps, "source": _source(c.source)}
              for i, c in enumerate(m.cache)]
    points = max(0, min(m.sweep_points, _SWEEP_POINTS))
    return {"threads": m.threads, "caches": caches,
            "memory_gbps": m.memory_gbps, "memory_source": _source(m.memory_source),
            "fma_gflops": m.fma_gflops, "fma_source": _source(m.fma_source),
            "parallel_region_us": m.parallel_region_us,
            "sweep": [(m.sweep_point_bytes[i], m.sweep_point_gbps[i]) for i in range(points)],
            "sweep_bytes": m.sweep_bytes, "measure_seconds": m.measure_seconds}


def wisdom_export():
    """pel's wisdom as a string: the machine model and FFTW's wisdom of both
    precisions, keyed by this machine's fingerprint and closed by a
    checksum (the format is in docs/tuning.md)."""
    text = c_void_p()
    _export(byref(text))
    try:
        return c_char_p(text.value).value.decode()
    finally:
        _free(text)


def _applied(call, argument):
    applied = c_int(0)
    call(argument, byref(applied))
    return bool(applied.value)


def _path(func, path):
    """os.fsencode(path), refusing an embedded NUL as open() does (C would
    see a shorter name)."""
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise ValueError(f"{func}: path contains a NUL character")
    return encoded


def wisdom_import(text):
    """Applies a text from :func:`wisdom_export`: its model replaces the
    measured one and its FFTW wisdom is added. Returns True when applied,
    False when the text comes from another machine (another fingerprint: it
    is ignored, and :func:`last_note` says so). A truncated, altered or
    malformed text raises :class:`pel.ParseError` (a ValueError) and
    changes nothing. ``text`` is a str or bytes."""
    if isinstance(text, str):
        text = text.encode()
    elif not isinstance(text, (bytes, bytearray)):
        raise TypeError(f"wisdom_import: text must be str or bytes, not {type(text).__name__}")
    if b"\0" in text:
        raise ValueError("wisdom_import: text contains a NUL character")
    return _applied(_import, bytes(text))


def wisdom_export_file(path):
    """Writes :func:`wisdom_export`'s text to the file ``path``
    (:class:`pel.PelIOError`, an OSError, when it cannot)."""
    _export_file(_path("wisdom_export_file", path))


def wisdom_import_file(path):
    """:func:`wisdom_import` of the file ``path`` (at most 40 MiB); True when
    applied, False for another machine's file. Raises
    :class:`pel.PelIOError` when the file cannot be read and
    :class:`pel.ParseError` when it is corrupt (nothing changes then). The
    environment variable PEL_WISDOM_FILE names a file whose model pel takes
    at first need instead of measuring (its FFTW part only through this
    call)."""
    return _applied(_import_file, _path("wisdom_import_file", path))


def last_note():
    """The calling thread's last pel message: after an import that returned
    False, why the text was ignored (e.g. its fingerprint)."""
    return _last_error()
