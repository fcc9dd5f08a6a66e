"""Fast Fourier transforms (include/pel/fft.h) with numpy.fft's interface.

``pel.fft.fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2,
rfftn, irfftn`` take numpy's ``n``/``s``, ``axis``/``axes`` and ``norm``
arguments and give numpy's results (within rounding), computed by FFTW on
pel's threads with plans from pel's thread-safe plan cache. ``fftconvolve``
matches ``scipy.signal.fftconvolve``. :class:`Plan` exposes explicit plans.

How axes map onto pel: pel transforms the trailing 1 to 3 axes of a
C-contiguous array, any number of leading axes being a batch. When the
transformed axes are the trailing ones (the default), the data go to pel
without a copy (complex input of the transform's precision, C-contiguous).
Other axes are moved to the end by an explicit transposed copy, and more than
three axes are transformed in groups of at most three (the FFT is
separable); the results are the same, the copies cost memory bandwidth.
Precision: complex64/float32 data are transformed in single precision,
everything else in double (integers, float64); real input to a complex
transform is converted to complex first, complex input to a real transform
(``rfft*``) raises TypeError rather than dropping the imaginary part.
"""

import os
from ctypes import (POINTER, Structure, byref, c_char_p, c_double, c_int, c_size_t, c_void_p)

import numpy as np

from . import _arrays
from ._arrays import COMPLEX64, COMPLEX128, FLOAT32, FLOAT64
from ._lib import declare

MAX_RANK = 3
_FORWARD, _BACKWARD = -1, 1
_C2C, _R2C, _C2R = 0, 1, 2
_NORMS = {None: 0, "backward": 0, "ortho": 1, "forward": 2}
_EFFORTS = {"estimate": 0, "measure": 1, "patient": 2, "exhaustive": 3, "wisdom_only": 4}
_EFFORT_NAMES = {v: k for k, v in _EFFORTS.items()}
_MODES = {"full": 0, "same": 1, "valid": 2}
_PRECISION = {"double": 0, "float64": 0, "single": 1, "float32": 1}


class _CacheStats(Structure):
    _fields_ = [("hits", c_size_t), ("misses", c_size_t), ("evictions", c_size_t),
                ("entries", c_size_t), ("capacity", c_size_t)]


class _Options(Structure):
    _fields_ = [("effort", c_int), ("time_limit", c_double), ("nthreads", c_int),
                ("norm", c_int)]


def _decl(name, argtypes, status=True, restype=None):
    return declare(name, restype, argtypes, status=status, required=False)


_dims_t = POINTER(c_size_t)
_C2C_FN = {
    COMPLEX128: _decl("pel_fft_c2c", [c_int, _dims_t, c_size_t, c_int, c_int, c_void_p, c_void_p]),
    COMPLEX64: _decl("pel_fft_c2c_float",
                     [c_int, _dims_t, c_size_t, c_int, c_int, c_void_p, c_void_p]),
}
_R2C_FN = {
    FLOAT64: _decl("pel_fft_r2c", [c_int, _dims_t, c_size_t, c_int, c_void_p, c_void_p]),
    FLOAT32: _decl("pel_fft_r2c_float", [c_int, _dims_t, c_size_t, c_int, c_void_p, c_void_p]),
}
_C2R_FN = {
    COMPLEX128: _decl("pel_fft_c2r", [c_int, _dims_t, c_size_t, c_int, c_void_p, c_void_p]),
    COMPLEX64: _decl("pel_fft_c2r_float", [c_int, _dims_t, c_size_t, c_int, c_void_p, c_void_p]),
}
_plan_create = _decl("pel_fft_plan_create", [c_int, c_int, c_int, _dims_t, c_size_t, c_int, c_int,
                                             POINTER(_Options), POINTER(c_void_p)])
_plan_execute = _decl("pel_fft_execute", [c_void_p, c_void_p, c_void_p])
_plan_destroy = _decl("pel_fft_plan_destroy", [c_void_p], status=False)
_plan_threads = _decl("pel_fft_plan_threads", [c_void_p], status=False, restype=c_int)
_set_default_effort = _decl("pel_fft_set_default_effort", [c_int, c_double])
_get_default_effort = _decl("pel_fft_get_default_effort", [], status=False, restype=c_int)
_cache_get_stats = _decl("pel_fft_cache_get_stats", [POINTER(_CacheStats)])
_cache_reset_stats = _decl("pel_fft_cache_reset_stats", [], status=False)
_cache_clear = _decl("pel_fft_cache_clear", [], status=False)
_cache_set_capacity = _decl("pel_fft_cache_set_capacity", [c_size_t])
_wisdom_export_file = _decl("pel_fft_wisdom_export_file", [c_int, c_char_p])
_wisdom_import_file = _decl("pel_fft_wisdom_import_file", [c_int, c_char_p])
_wisdom_export_string = _decl("pel_fft_wisdom_export_string", [c_int, POINTER(c_void_p)])
_wisdom_import_string = _decl("pel_fft_wisdom_import_string", [c_int, c_char_p])
_wisdom_forget = _decl("pel_fft_wisdom_forget", [], status=False)
_convolve = _decl("pel_fft_convolve", [c_int, _dims_t, c_void_p, _dims_t, c_void_p, c_int,
                                       c_void_p])
_convolve_shape = _decl("pel_fft_convolve_shape", [c_int, _dims_t, _dims_t, c_int, _dims_t])
_free = declare("pel_free", None, [c_void_p], status=False)


def _dims(shape):
    return (c_size_t * len(shape))(*shape)


def _norm(func, norm):
    try:
        return _NORMS[norm]
    except (KeyError, TypeError):
        raise ValueError(f'{func}: invalid norm {norm!r}; use "backward", "ortho" or '
                         '"forward"') from None


def _precision(func, precision):
    try:
        return _PRECISION[str(np.dtype(precision)) if not isinstance(precision, str)
                          else precision]
    except (KeyError, TypeError):
        raise ValueError(f'{func}: precision must be "double" or "single", not '
                         f'{precision!r}') from None


# --------------------------------------------------------------- axes and s

def _cook(func, x, s, axes, real_last=False):
    """numpy's rules for s and axes: returns (s list, axes list) with axes
    normalised to non-negative, distinct values."""
    if s is not None:
        s = [int(v) for v in np.atleast_1d(s)] if not isinstance(s, (list, tuple)) \
            else [int(v) for v in s]
    if axes is None:
        if s is None:
            axes = list(range(x.ndim))
        else:
            axes = list(range(x.ndim - len(s), x.ndim))
    else:
        axes = [int(v) for v in np.atleast_1d(axes)] if not isinstance(axes, (list, tuple)) \
            else [int(v) for v in axes]
    out_axes = []
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise np.AxisError(a, x.ndim)
        out_axes.append(a % x.ndim)
    if s is None:
        s = [x.shape[a] for a in out_axes]
    if len(s) != len(axes):
        raise ValueError(f"{func}: s and axes have different lengths ({len(s)} and {len(axes)})")
    if len(set(out_axes)) != len(out_axes):
        raise ValueError(f"{func}: repeated axes {axes} are not supported by pel")
    for v in s:
        if v < 1:
            raise ValueError(f"{func}: invalid number of data points ({v}) specified")
    return s, out_axes


def _resize(x, axes, sizes):
    """Crops or zero-pads x along each axis to the given size (numpy's n/s)."""
    if all(x.shape[a] == n for a, n in zip(axes, sizes)):
        return x
    index = [slice(None)] * x.ndim
    shape = list(x.shape)
    for a, n in zip(axes, sizes):
        index[a] = slice(0, min(n, x.shape[a]))
        shape[a] = n
    z = np.zeros(shape, dtype=x.dtype)
    z[tuple(index)] = x[tuple(index)]
    return z


def _trailing(x, axes):
    return axes == list(range(x.ndim - len(axes), x.ndim))


def _moved(func, x, axes, sizes, transform, out):
    """Runs transform(x', sizes) with the axes moved to the end of x, and
    moves them back; for axes that are not the trailing ones."""
    k = len(axes)
    moved = np.moveaxis(x, axes, list(range(x.ndim - k, x.ndim)))
    y = transform(np.ascontiguousarray(moved), sizes)
    back = np.moveaxis(y, list(range(y.ndim - k, y.ndim)), axes)
    if out is None:
        return np.ascontiguousarray(back)
    result = _arrays.check_out(func, out, back.shape, back.dtype)
    result[...] = back
    return result


def _call_target(func, out, shape, dtype, src):
    """The array pel writes to: out (validated) or a new one; for an out that
    overlaps the input without being the very same buffer, a temporary.
    Returns (result, target)."""
    result = _arrays.check_out(func, out, shape, dtype)
    if out is not None and _arrays.overlaps(result, src):
        same = (result.ctypes.data == src.ctypes.data and result.nbytes == src.nbytes
                and result.dtype == src.dtype)
        if not same:
            return result, np.empty(shape, dtype=dtype)
    return result, result


# ------------------------------------------------------------ complex to complex

def _c2c(func, x, s, axes, direction, norm, out):
    nmode = _norm(func, norm)
    xa = x if isinstance(x, np.ndarray) else np.asarray(x)
    dtype = _arrays.complex_of(_arrays.kernel_dtype(func, xa))
    s, axes = _cook(func, xa, s, axes)
    if not axes:
        return _copy_out(func, _arrays.as_input(xa, dtype), out)
    xa = _resize(xa, axes, s)
    if len(axes) > MAX_RANK:
        # Separable: transform the last three axes, then the others.
        y = _c2c(func, xa, None, axes[-MAX_RANK:], direction, norm, None)
        return _c2c(func, y, None, axes[:-MAX_RANK], direction, norm, out)
    if not _trailing(xa, axes):
        return _moved(func, xa, axes, s,
                      lambda m, sz: _c2c(func, m, None, list(range(m.ndim - len(sz), m.ndim)),
                                         direction, norm, None), out)
    src = _arrays.as_input(xa, dtype)
    result, target = _call_target(func, out, src.shape, dtype, src)
    if src.size:
        howmany = src.size // int(np.prod(s))
        _C2C_FN[dtype](len(s), _dims(s), howmany, direction, nmode, src.ctypes.data,
                       target.ctypes.data)
    if target is not result:
        result[...] = target
    return result


def _copy_out(func, a, out):
    result = _arrays.check_out(func, out, a.shape, a.dtype)
    result[...] = a
    return result


def fft(a, n=None, axis=-1, norm=None, out=None):
    """1-D discrete Fourier transform, like ``numpy.fft.fft``."""
    return _c2c("fft", a, None if n is None else [n], [axis], _FORWARD, norm, out)


def ifft(a, n=None, axis=-1, norm=None, out=None):
    """1-D inverse transform, like ``numpy.fft.ifft``."""
    return _c2c("ifft", a, None if n is None else [n], [axis], _BACKWARD, norm, out)


def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """2-D transform, like ``numpy.fft.fft2``."""
    return _c2c("fft2", a, s, axes, _FORWARD, norm, out)


def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """2-D inverse transform, like ``numpy.fft.ifft2``."""
    return _c2c("ifft2", a, s, axes, _BACKWARD, norm, out)


def fftn(a, s=None, axes=None, norm=None, out=None):
    """N-D transform, like ``numpy.fft.fftn``. ``out=a`` (a C-contiguous
    complex array of the transform's precision) transforms in place."""
    return _c2c("fftn", a, s, axes, _FORWARD, norm, out)


def ifftn(a, s=None, axes=None, norm=None, out=None):
    """N-D inverse transform, like ``numpy.fft.ifftn``."""
    return _c2c("ifftn", a, s, axes, _BACKWARD, norm, out)


# ----------------------------------------------------------------- real input

def _real_dtype(func, xa):
    dtype = _arrays.kernel_dtype(func, xa, allowed=(FLOAT32, FLOAT64, COMPLEX64, COMPLEX128))
    if dtype.kind == "c":
        raise TypeError(f"{func}: the input must be real, got {xa.dtype}; use fftn for "
                        "complex data (pel never drops imaginary parts silently)")
    return dtype


def _r2c(func, x, s, axes, norm, out):
    nmode = _norm(func, norm)
    xa = x if isinstance(x, np.ndarray) else np.asarray(x)
    dtype = _real_dtype(func, xa)
    s, axes = _cook(func, xa, s, axes)
    if not axes:
        raise ValueError(f"{func}: at least one axis is needed")
    xa = _resize(xa, axes, s)
    if len(axes) > MAX_RANK:
        y = _r2c(func, xa, None, axes[-MAX_RANK:], norm, None)
        return _c2c(func, y, None, axes[:-MAX_RANK], _FORWARD, norm, out)
    if not _trailing(xa, axes):
        return _moved(func, xa, axes, s,
                      lambda m, sz: _r2c(func, m, None, list(range(m.ndim - len(sz), m.ndim)),
                                         norm, None), out)
    src = _arrays.as_input(xa, dtype)
    cdtype = _arrays.complex_of(dtype)
    shape = src.shape[:-1] + (src.shape[-1] // 2 + 1,)
    result = _arrays.check_out(func, out, shape, cdtype)
    target = np.empty(shape, dtype=cdtype) if _arrays.overlaps(result, src) else result
    if src.size:
        howmany = src.size // int(np.prod(s))
        _R2C_FN[dtype](len(s), _dims(s), howmany, nmode, src.ctypes.data, target.ctypes.data)
    if target is not result:
        result[...] = target
    return result


def rfft(a, n=None, axis=-1, norm=None, out=None):
    """1-D transform of real input (the n//2+1 non-negative frequencies),
    like ``numpy.fft.rfft``."""
    return _r2c("rfft", a, None if n is None else [n], [axis], norm, out)


def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """2-D transform of real input, like ``numpy.fft.rfft2``."""
    return _r2c("rfft2", a, s, axes, norm, out)


def rfftn(a, s=None, axes=None, norm=None, out=None):
    """N-D transform of real input, like ``numpy.fft.rfftn``: the last of
    ``axes`` keeps its n//2+1 non-negative frequencies."""
    return _r2c("rfftn", a, s, axes, norm, out)


def _c2r(func, x, s, axes, norm, out):
    nmode = _norm(func, norm)
    xa = x if isinstance(x, np.ndarray) else np.asarray(x)
    dtype = _arrays.complex_of(_arrays.kernel_dtype(func, xa))
    given_s = s
    s, axes = _cook(func, xa, s, axes)
    if not axes:
        raise ValueError(f"{func}: at least one axis is needed")
    if given_s is None:
        s[-1] = 2 * (xa.shape[axes[-1]] - 1)
        if s[-1] < 1:
            raise ValueError(f"{func}: invalid number of data points ({s[-1]}) specified")
    # The complex input holds s[-1]//2+1 values along the last axis.
    xa = _resize(xa, axes, s[:-1] + [s[-1] // 2 + 1])
    if len(axes) > MAX_RANK:
        y = _c2c(func, xa, None, axes[:-MAX_RANK], _BACKWARD, norm, None)
        return _c2r(func, y, s[-MAX_RANK:], axes[-MAX_RANK:], norm, out)
    if not _trailing(xa, axes):
        return _moved(func, xa, axes, s,
                      lambda m, sz: _c2r(func, m, sz, list(range(m.ndim - len(sz), m.ndim)),
                                         norm, None), out)
    src = _arrays.as_input(xa, dtype)
    rdtype = _arrays.real_of(dtype)
    shape = src.shape[:-1] + (s[-1],)
    result = _arrays.check_out(func, out, shape, rdtype)
    target = np.empty(shape, dtype=rdtype) if _arrays.overlaps(result, src) else result
    if src.size:
        howmany = src.size // (int(np.prod(s[:-1])) * (s[-1] // 2 + 1))
        _C2R_FN[dtype](len(s), _dims(s), howmany, nmode, src.ctypes.data, target.ctypes.data)
    if target is not result:
        result[...] = target
    return result


def irfft(a, n=None, axis=-1, norm=None, out=None):
    """Inverse of :func:`rfft`: ``n`` real outputs (default 2*(m-1)), like
    ``numpy.fft.irfft``. The input is never modified."""
    return _c2r("irfft", a, None if n is None else [n], [axis], norm, out)


def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """Inverse of :func:`rfft2`, like ``numpy.fft.irfft2``."""
    return _c2r("irfft2", a, s, axes, norm, out)


def irfftn(a, s=None, axes=None, norm=None, out=None):
    """Inverse of :func:`rfftn`, like ``numpy.fft.irfftn``: ``s`` is the real
    output shape (default: 2*(m-1) along the last axis)."""
    return _c2r("irfftn", a, s, axes, norm, out)


# ----------------------------------------------------------------- convolution

def fftconvolve(in1, in2, mode="full", axes=None):
    """Convolution of two real arrays of equal rank 1 to 3 through FFTs, like
    ``scipy.signal.fftconvolve(in1, in2, mode)`` with mode "full", "same" or
    "valid". float32 inputs give a float32 result (computed in double).
    Complex inputs, rank above 3 and ``axes`` other than all axes raise
    NotImplementedError/TypeError naming the limit."""
    a = in1 if isinstance(in1, np.ndarray) else np.asarray(in1)
    b = in2 if isinstance(in2, np.ndarray) else np.asarray(in2)
    dtype = _arrays.kernel_dtype("fftconvolve", a, b, allowed=(FLOAT32, FLOAT64, COMPLEX64,
                                                               COMPLEX128))
    if dtype.kind == "c":
        raise TypeError("fftconvolve: pel convolves real arrays only; for complex data use "
                        "scipy.signal.fftconvolve")
    if mode not in _MODES:
        raise ValueError(f"fftconvolve: mode must be 'full', 'same' or 'valid', not {mode!r}")
    if a.ndim != b.ndim:
        raise ValueError("fftconvolve: in1 and in2 should have the same dimensionality")
    if axes is not None:
        cooked = sorted(int(v) % a.ndim for v in np.atleast_1d(axes))
        if cooked != list(range(a.ndim)):
            raise NotImplementedError("fftconvolve: pel convolves over all axes; axes="
                                      f"{axes!r} is not supported")
    if a.size == 0 or b.size == 0:
        return np.array([], dtype=dtype)
    if not 1 <= a.ndim <= MAX_RANK:
        raise NotImplementedError(f"fftconvolve: pel convolves arrays of rank 1 to 3, not "
                                  f"{a.ndim}")
    if mode == "valid" and not (all(p >= q for p, q in zip(a.shape, b.shape))
                                or all(q >= p for p, q in zip(a.shape, b.shape))):
        raise ValueError("fftconvolve: for 'valid' mode, one must be at least as large as the "
                         "other in every dimension")
    af = _arrays.as_input(a, FLOAT64)
    bf = _arrays.as_input(b, FLOAT64)
    out = np.empty(convolve_shape(a.shape, b.shape, mode), dtype=FLOAT64)
    _convolve(a.ndim, _dims(a.shape), af.ctypes.data, _dims(b.shape), bf.ctypes.data,
              _MODES[mode], out.ctypes.data)
    return out if dtype == FLOAT64 else out.astype(dtype)


def convolve_shape(shape1, shape2, mode="full"):
    """The shape of ``fftconvolve`` of arrays of these shapes (rank 1 to 3),
    from pel_fft_convolve_shape."""
    shape1 = tuple(int(v) for v in shape1)
    shape2 = tuple(int(v) for v in shape2)
    if mode not in _MODES:
        raise ValueError(f"convolve_shape: mode must be 'full', 'same' or 'valid', not {mode!r}")
    if len(shape1) != len(shape2):
        raise ValueError("convolve_shape: the shapes have different ranks")
    if any(v < 0 for v in shape1 + shape2):
        raise ValueError("convolve_shape: negative dimension")
    rank = len(shape1)
    out = (c_size_t * max(1, rank))()
    _convolve_shape(rank, _dims(shape1), _dims(shape2), _MODES[mode], out)
    return tuple(out[:rank])


# --------------------------------------------------------------- plan cache

def cache_stats():
    """Counters of the one-shot plan cache: a dict with hits, misses,
    evictions (since the last reset), entries and capacity."""
    stats = _CacheStats()
    _cache_get_stats(byref(stats))
    return {name: getattr(stats, name) for name, _ in _CacheStats._fields_}


def cache_reset_stats():
    """Sets the cache's hit, miss and eviction counters back to zero."""
    _cache_reset_stats()


def cache_clear():
    """Drops every cached plan."""
    _cache_clear()


def set_cache_capacity(capacity):
    """The most plans the cache holds (default 32); 0 disables caching."""
    if int(capacity) < 0:
        raise ValueError(f"set_cache_capacity: capacity={capacity} is negative")
    _cache_set_capacity(int(capacity))


def set_default_effort(effort="estimate", time_limit=0.0):
    """The planner effort ("estimate", "measure", "patient", "exhaustive",
    "wisdom_only") and time limit in seconds (0 = none) of plans the one-shot
    functions make on a cache miss. "estimate" (the default) plans instantly
    and gives the same plan every run; "measure" can give faster transforms
    but takes seconds to plan large sizes and may pick different algorithms
    (last-bit differences) from run to run."""
    if effort not in _EFFORTS:
        raise ValueError(f"set_default_effort: unknown effort {effort!r}; use one of "
                         f"{', '.join(_EFFORTS)}")
    _set_default_effort(_EFFORTS[effort], float(time_limit))


def get_default_effort():
    """The effort set by :func:`set_default_effort`."""
    return _EFFORT_NAMES.get(_get_default_effort(), "unknown")


# ------------------------------------------------------------------- wisdom

def export_wisdom(precision="double"):
    """FFTW's accumulated wisdom (of "double" or "single" precision plans)
    as a string, to store and :func:`import_wisdom` in a later run so that
    "measure" plans are instant and deterministic."""
    text = c_void_p()
    _wisdom_export_string(_precision("export_wisdom", precision), byref(text))
    try:
        return c_char_p(text.value).value.decode()
    finally:
        _free(text)


def import_wisdom(text, precision="double"):
    """Adds wisdom from :func:`export_wisdom` (or fftw-wisdom) to FFTW's.
    Raises :class:`pel.ParseError` when the text is not wisdom of that
    precision."""
    if isinstance(text, str):
        text = text.encode()
    _wisdom_import_string(_precision("import_wisdom", precision), text)


def export_wisdom_file(path, precision="double"):
    """Writes FFTW's wisdom to a file (PelIOError when it cannot)."""
    _wisdom_export_file(_precision("export_wisdom_file", precision), os.fsencode(path))


def import_wisdom_file(path, precision="double"):
    """Adds the wisdom in a file to FFTW's (PelIOError, ParseError)."""
    _wisdom_import_file(_precision("import_wisdom_file", precision), os.fsencode(path))


def forget_wisdom():
    """Forgets all FFTW wisdom; existing plans stay valid."""
    _wisdom_forget()


# ------------------------------------------------------------------- plans

class Plan:
    """An immutable FFT plan for arrays of one shape, usable from many
    threads at once.

    ``Plan(shape, kind="c2c", forward=True, dtype="complex128", batch=1,
    norm="backward", effort="estimate", nthreads=0, time_limit=0)``: ``shape``
    is the transform's shape (1 to 3 dimensions; for "r2c"/"c2r" the real
    shape), ``batch`` the number of transforms back to back. Call
    ``plan(x, out=None)``: x must have shape ``(batch,) + in_shape`` (or
    ``in_shape`` when batch is 1) and exactly the plan's input dtype, and be
    C-contiguous (arrays are never converted here: a plan is for the hot
    loop). ``plan.threads`` is its thread count.
    """

    def __init__(self, shape, kind="c2c", forward=True, dtype=np.complex128, batch=1,
                 norm="backward", effort="estimate", nthreads=0, time_limit=0.0):
        self._handle = c_void_p()
        kinds = {"c2c": _C2C, "r2c": _R2C, "c2r": _C2R}
        if kind not in kinds:
            raise ValueError(f"Plan: kind must be 'c2c', 'r2c' or 'c2r', not {kind!r}")
        if effort not in _EFFORTS:
            raise ValueError(f"Plan: unknown effort {effort!r}")
        dtype = np.dtype(dtype)
        single = dtype in (FLOAT32, COMPLEX64)
        if dtype not in (FLOAT32, FLOAT64, COMPLEX64, COMPLEX128):
            raise TypeError(f"Plan: dtype must be float32/float64/complex64/complex128, "
                            f"not {dtype}")
        shape = tuple(int(v) for v in np.atleast_1d(shape))
        if any(v < 0 for v in shape) or int(batch) < 0:
            raise ValueError(f"Plan: negative size in shape {shape} or batch {batch}")
        self.kind, self.shape, self.batch = kind, shape, int(batch)
        if kind == "r2c":
            forward = True
        elif kind == "c2r":
            forward = False
        self.forward = bool(forward)
        cdtype = COMPLEX64 if single else COMPLEX128
        rdtype = FLOAT32 if single else FLOAT64
        half = shape[:-1] + (shape[-1] // 2 + 1,) if shape else shape
        self.in_dtype = rdtype if kind == "r2c" else cdtype
        self.out_dtype = rdtype if kind == "c2r" else cdtype
        self.in_shape = half if kind == "c2r" else shape
        self.out_shape = half if kind == "r2c" else shape
        options = _Options(_EFFORTS[effort], float(time_limit), int(nthreads),
                           _norm("Plan", norm))
        _plan_create(kinds[kind], 1 if single else 0, len(shape), _dims(shape), int(batch),
                     _FORWARD if self.forward else _BACKWARD, 0, byref(options),
                     byref(self._handle))

    @property
    def threads(self):
        """The number of threads the plan runs on."""
        return _plan_threads(self._handle)

    def _full(self, shape):
        return shape if self.batch == 1 else (self.batch,) + shape

    def __call__(self, x, out=None):
        if not (isinstance(x, np.ndarray) and x.dtype == self.in_dtype
                and x.flags.c_contiguous):
            raise TypeError(f"Plan: input must be a C-contiguous {self.in_dtype} ndarray")
        if x.shape not in (self._full(self.in_shape), (self.batch,) + self.in_shape):
            raise ValueError(f"Plan: input has shape {x.shape}, the plan takes "
                             f"{self._full(self.in_shape)}")
        shape = x.shape[:-len(self.in_shape)] + self.out_shape
        result = _arrays.check_out("Plan", out, shape, self.out_dtype)
        if _arrays.overlaps(result, x):
            raise ValueError("Plan: out overlaps the input (this plan is out-of-place)")
        _plan_execute(self._handle, x.ctypes.data, result.ctypes.data)
        return result

    execute = __call__

    def __repr__(self):
        return (f"<pel.fft.Plan {self.kind} {'forward' if self.forward else 'backward'} "
                f"shape={self.shape} batch={self.batch} {self.in_dtype}->{self.out_dtype}>")

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle and _plan_destroy is not None:
            _plan_destroy(handle)
            self._handle = c_void_p()
