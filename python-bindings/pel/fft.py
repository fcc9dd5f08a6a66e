"""Fast Fourier transforms (include/pel/fft.h) with scipy.fft's interface,
and a scipy.fft backend.

Every function of ``scipy.fft`` that transforms is here with scipy's
signature (numpy.fft's arguments are the first ones of each): ``fft, ifft,
fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn``, the
Hermitian ``hfft, ihfft, hfft2, ihfft2, hfftn, ihfftn``, the real-to-real
``dct, idct, dst, idst, dctn, idctn, dstn, idstn`` (types 1-4), with
``n``/``s``, ``axis``/``axes``, ``norm`` ("backward", "ortho", "forward"),
``overwrite_x``, ``workers`` (negative counts as scipy reads them) and
``plan``; plus ``fftfreq, rfftfreq, fftshift, ifftshift, next_fast_len``,
``get_workers``/``set_workers``. Transforms run on FFTW with plans from pel's
thread-safe plan cache, on pel's threads.

The module is a uarray backend of scipy.fft (``__ua_domain__``,
``__ua_function__``)::

    with scipy.fft.set_backend(pel.fft):
        y = scipy.fft.fftn(x)            # runs pel
    scipy.fft.register_backend(pel.fft)  # or for the whole process

Calls pel cannot do (long double data, repeated axes, scipy's fht/ifht,
scipy plans) return NotImplemented there, so scipy runs them itself.

How axes map onto pel: pel transforms the trailing 1 to 3 axes of a
C-contiguous array, any number of leading axes being a batch. When the
transformed axes are the trailing ones (the default), the data go to pel
without a copy (input of the transform's dtype, C-contiguous). Other axes
are moved to the end by an explicit transposed copy, and more than three
axes are transformed in groups of at most three (the transforms are
separable). Precision follows scipy: float16, float32 and complex64 data
are transformed in single precision (complex64 / float32 results),
everything else in double (integers, bool, float64); complex input to a
real transform (``rfft*``, ``ihfft*``) raises TypeError rather than dropping
the imaginary part; the DCT/DST of complex data transforms the real and
imaginary parts, as scipy does.
"""
import collections
import contextlib
import math
import os
import threading
from ctypes import (POINTER, Structure, byref, c_char, c_char_p, c_double, c_int, c_size_t,
                    c_void_p)

import numpy as np

from . import _args, _arrays
from ._arrays import COMPLEX64, COMPLEX128, FLOAT32, FLOAT64
from ._core import get_num_threads as _get_num_threads
from ._core import get_num_threads_local as _get_local
from ._core import set_num_threads_local as _set_local
from ._lib import declare

MAX_RANK = 3
_FORWARD, _BACKWARD = -1, 1
_C2C, _R2C, _C2R = 0, 1, 2
_NORMS = {None: 0, "backward": 0, "ortho": 1, "forward": 2}
_EFFORTS = {"estimate": 0, "measure": 1, "patient": 2, "exhaustive": 3, "wisdom_only": 4, "auto": 5}
_UPGRADE_MODES = {"off": 0, "idle": 1, "normal": 2}
_UPGRADE_MODE_NAMES = {v: k for k, v in _UPGRADE_MODES.items()}
_EFFORT_NAMES = {v: k for k, v in _EFFORTS.items()}
_MODES = {"full": 0, "same": 1, "valid": 2}
_PRECISION = {"double": 0, "float64": 0, "single": 1, "float32": 1}


class _CacheStats(Structure):
    _fields_ = [("hits", c_size_t), ("misses", c_size_t), ("evictions", c_size_t),
                ("entries", c_size_t), ("capacity", c_size_t)]


class _UpgradeStats(Structure):
    _fields_ = [("requested", c_size_t), ("completed", c_size_t), ("discarded", c_size_t),
                ("failed", c_size_t), ("dropped", c_size_t), ("pending", c_size_t)]


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
_set_upgrade_mode = _decl("pel_fft_set_upgrade_mode", [c_int])
_get_upgrade_mode = _decl("pel_fft_get_upgrade_mode", [], status=False, restype=c_int)
_upgrade_wait = _decl("pel_fft_upgrade_wait", [c_double, POINTER(c_size_t)])
_upgrade_get_stats = _decl("pel_fft_upgrade_get_stats", [POINTER(_UpgradeStats)])
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


_r2r_decl = [c_int, _dims_t, c_size_t, POINTER(c_int), c_int, c_void_p, c_void_p]
_R2R_FN = {
    FLOAT64: _decl("pel_fft_r2r", _r2r_decl),
    FLOAT32: _decl("pel_fft_r2r_float", _r2r_decl),
}
_FLOAT16 = np.dtype(np.float16)
_LONG = (np.dtype(np.longdouble), np.dtype(np.clongdouble))


class _RepeatedAxesError(ValueError):
    """Repeated axes (numpy transforms such an axis twice, scipy refuses);
    pel refuses, and the scipy backend hands the call back to scipy."""


class _ZeroDimError(ValueError, IndexError):
    """A 1-D transform of a 0-d array: numpy and scipy raise IndexError
    (their shape lookup fails), pel a message; both classes catch it."""


class LongDoubleError(TypeError):
    """long double data: pel links FFTW's double and single precision
    libraries only (libfftw3-long is not one of its dependencies, and
    OpenBLAS has no long double either), so it refuses rather than rounds
    to double. The scipy backend hands these calls back to scipy."""


def _dims(shape):
    return (c_size_t * len(shape))(*shape)


def _norm(func, norm):
    try:
        return _NORMS[norm]
    except (KeyError, TypeError):
        raise ValueError(f'{func}: Invalid norm value {norm!r}, should be "backward", "ortho" '
                         'or "forward"') from None


_SWAP_NORM = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _swapped(func, norm):
    _norm(func, norm)
    return _SWAP_NORM[norm]


def _precision(func, precision):
    try:
        return _PRECISION[str(np.dtype(precision)) if not isinstance(precision, str)
                          else precision]
    except (KeyError, TypeError):
        raise ValueError(f'{func}: precision must be "double" or "single", not '
                         f'{precision!r}') from None


# ------------------------------------------------------------------ workers

_config = threading.local()
_CPU_COUNT = os.cpu_count() or 1


def _check_workers(func, workers):
    """scipy's reading of workers=: a positive count, or -1 for every CPU,
    -2 for all but one, ...; 0 and values below -cpu_count are ValueErrors."""
    w = _args.c_int(func, "workers", workers)
    if w < 0:
        if w >= -_CPU_COUNT:
            return w + 1 + _CPU_COUNT
        raise ValueError(f"{func}: workers value out of range; got {w}, must not be less than "
                         f"{-_CPU_COUNT}")
    if w == 0:
        raise ValueError(f"{func}: workers must not be zero")
    return w


def get_workers():
    """The thread count pel.fft functions use when ``workers`` is not given:
    the one set by :func:`set_workers` on this thread, else pel's own
    default (``pel.get_num_threads()``; scipy's default is 1)."""
    w = getattr(_config, "workers", None)
    return w if w is not None else _get_num_threads()


@contextlib.contextmanager
def set_workers(workers):
    """Context manager for the default thread count of pel.fft calls made on
    this thread (scipy.fft.set_workers' semantics: negative counts wrap
    around from os.cpu_count())."""
    old = getattr(_config, "workers", None)
    _config.workers = _check_workers("set_workers", workers)
    try:
        yield
    finally:
        _config.workers = old


@contextlib.contextmanager
def _threads(func, workers):
    """Runs the calls in the block on the thread budget of ``workers``
    (pel's thread-local override, so other Python threads are unaffected)."""
    w = _check_workers(func, workers) if workers is not None else getattr(_config, "workers",
                                                                           None)
    if w is None:
        yield
        return
    old = _get_local()
    _set_local(w)
    try:
        yield
    finally:
        _set_local(old)


# --------------------------------------------------------------- axes and s

def _cook(func, x, s, axes, s_name="s"):
    """scipy's and numpy's rules for s and axes, with pel's integer rules:
    returns (sizes, axes) with axes non-negative and distinct. Non-integers
    are a TypeError, sizes below 1 a ValueError naming them, sizes past
    size_t an OverflowError; -1 in s means the input's length."""
    if axes is not None:
        axes = _args.axes(func, "axes", axes, x.ndim)
        if len(set(axes)) != len(axes):
            raise _RepeatedAxesError(f"{func}: all axes must be unique (repeated axes are not "
                             f"supported), got {axes}")
    if s is not None:
        items = _args.sequence(func, s_name, s)
        values = [_args.integer(func, f"{s_name}[{i}]", v, minimum=-(2 ** 63))
                  for i, v in enumerate(items)]
        if axes is None:
            if len(values) > x.ndim:
                raise ValueError(f"{func}: {s_name} requires more axes than are present "
                                 f"(shape requires more axes than are present)")
            axes = list(range(x.ndim - len(values), x.ndim))
        elif len(values) != len(axes):
            raise ValueError(f"{func}: when given, axes and shape arguments have to be of the "
                             f"same length (different lengths: {len(values)} and {len(axes)})")
        values = [x.shape[a] if v == -1 else v for v, a in zip(values, axes)]
    else:
        if axes is None:
            axes = list(range(x.ndim))
        values = [x.shape[a] for a in axes]
    if any(v < 1 for v in values):
        raise ValueError(f"{func}: invalid number of data points ({values}) specified "
                         "(Invalid number of FFT data points: each must be at least 1)")
    for i, v in enumerate(values):
        _args.size(func, f"{s_name}[{i}]", v)
    return values, list(axes)


def _cook_1d(func, x, n, axis):
    if x.ndim == 0:
        raise _ZeroDimError(f"{func}: a 0-d array has no axis to transform")
    a = _args.axis(func, "axis", axis, x.ndim)
    if n is not None:
        n = _args.integer(func, "n", n, minimum=-(2 ** 63))
        if n < 1:  # -1 means "the input's length" in s, never in n
            raise ValueError(f"{func}: invalid number of data points ({n}) specified "
                             "(Invalid number of FFT data points: n must be at least 1)")
    return _cook(func, x, None if n is None else [n], [a], s_name="n")


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


def _as_array(func, x):
    xa = x if isinstance(x, np.ndarray) else np.asarray(x)
    if xa.dtype in _LONG:
        raise LongDoubleError(f"{func}: {xa.dtype} is not supported: pel uses FFTW's double "
                              "and single precision libraries only (no libfftw3-long); use "
                              "scipy.fft for long double, or convert to float64")
    return xa


def _complex_dtype(func, xa):
    """complex64 for float16/float32/complex64 (numpy keeps the precision),
    complex128 otherwise (integers, bool, float64)."""
    if xa.dtype == _FLOAT16:
        return COMPLEX64
    return _arrays.complex_of(_arrays.kernel_dtype(func, xa))


def _real_dtype(func, xa):
    if xa.dtype.kind == "c":
        raise TypeError(f"{func}: x must be a real sequence (the input must be real, got "
                        f"{xa.dtype}; pel never drops imaginary parts silently: use fft for "
                        "complex data)")
    if xa.dtype == _FLOAT16:
        return FLOAT32
    return _arrays.kernel_dtype(func, xa, allowed=(FLOAT32, FLOAT64))


# ------------------------------------------------------------ complex to complex

def _c2c(func, x, s, axes, direction, norm, out, overwrite_x=False):
    nmode = _norm(func, norm)
    xa = _as_array(func, x)
    dtype = _complex_dtype(func, xa)
    s, axes = _cook(func, xa, s, axes)
    return _c2c_cooked(func, xa, s, axes, direction, norm, nmode, dtype, out, overwrite_x)


def _c2c_cooked(func, xa, s, axes, direction, norm, nmode, dtype, out, overwrite_x=False):
    if not axes:
        # Nothing to transform (axes=(), or a 0-d array): scipy and numpy
        # return the input as it is, 0-d included; out= gets a copy.
        if out is None:
            return xa
        return _copy_out(func, np.asarray(xa, dtype=dtype), out)
    xa = _resize(xa, axes, s)
    if len(axes) > MAX_RANK:
        # Separable: transform the last three axes, then the others.
        y = _c2c_cooked(func, xa, s[-MAX_RANK:], axes[-MAX_RANK:], direction, norm, nmode,
                        dtype, None)
        return _c2c_cooked(func, y, s[:-MAX_RANK], axes[:-MAX_RANK], direction, norm, nmode,
                           dtype, out, True)
    if not _trailing(xa, axes):
        return _moved(func, xa, axes, s,
                      lambda m, sz: _c2c_cooked(func, m, sz,
                                                list(range(m.ndim - len(sz), m.ndim)),
                                                direction, norm, nmode, dtype, None, True), out)
    src = _arrays.as_input(xa, dtype)
    if out is None and overwrite_x and src is xa and xa.flags.writeable:
        out = xa  # in place: the caller allowed its input to be overwritten
    result, target = _call_target(func, out, src.shape, dtype, src)
    if src.size:
        howmany = src.size // math.prod(s)
        _C2C_FN[dtype](len(s), _dims(s), howmany, direction, nmode, src.ctypes.data,
                       target.ctypes.data)
    if target is not result:
        result[...] = target
    return result


def _copy_out(func, a, out):
    result = _arrays.check_out(func, out, a.shape, a.dtype)
    result[...] = a
    return result
    return result


# ----------------------------------------------------------------- fast path
#
# The common call -- a C-contiguous array of the transform's dtype, the
# default axes, no n/s change, no workers/plan/out -- skips the general
# argument machinery (which costs tens of microseconds, more than a small
# transform): a few type checks, a cached dims array, one C call. Anything
# else returns None and takes the general path, which gives the same result.

_DIMS_CACHE = {}
_FAST_C2C = {COMPLEX128: COMPLEX128, COMPLEX64: COMPLEX64, FLOAT64: COMPLEX128,
             FLOAT32: COMPLEX64}
_FAST_REAL = (FLOAT64, FLOAT32)


def _cached_dims(shape):
    dims = _DIMS_CACHE.get(shape)
    if dims is None:
        if len(_DIMS_CACHE) > 256:
            _DIMS_CACHE.clear()
        dims = _DIMS_CACHE[shape] = (c_size_t * len(shape))(*shape)
    return dims


def _fast_rank(x, axes):
    """The rank of a transform of the trailing axes that ``axes`` names in
    its default forms (None: all axes; fft2's (-2, -1)), else 0."""
    if axes is None:
        return x.ndim if 1 <= x.ndim <= MAX_RANK else 0
    if axes == (-2, -1) and x.ndim >= 2:
        return 2
    return 0


def _fast_ok(x, workers, plan, out):
    return (type(x) is np.ndarray and workers is None and plan is None and out is None
            and x.ndim and x.size and x.flags.c_contiguous and x.flags.aligned
            and getattr(_config, "workers", None) is None)


def _fast_norm(norm):
    try:
        return _NORMS.get(norm)
    except TypeError:  # unhashable: the general path reports it
        return None


def _fast_c2c(x, rank, direction, norm, overwrite_x):
    """A transform of the trailing rank axes of x, or None."""
    nmode = _fast_norm(norm)
    dtype = _FAST_C2C.get(x.dtype)
    if nmode is None or dtype is None or x.ndim < rank:
        return None
    if x.dtype != dtype:
        src = x.astype(dtype)
        y = src  # the converted copy is ours: transform it in place
    else:
        src = x
        y = x if (overwrite_x and x.flags.writeable) else np.empty(x.shape, dtype)
    shape = x.shape[x.ndim - rank:]
    _C2C_FN[dtype](rank, _cached_dims(shape), x.size // math.prod(shape), direction, nmode,
                   _fast_address(src), _fast_address(y))
    return y


def _fast_r2c(x, rank, norm):
    nmode = _fast_norm(norm)
    if nmode is None or x.dtype not in _FAST_REAL or x.ndim < rank:
        return None
    shape = x.shape[x.ndim - rank:]
    y = np.empty(x.shape[:-1] + (x.shape[-1] // 2 + 1,), _arrays.complex_of(x.dtype))
    _R2C_FN[x.dtype](rank, _cached_dims(shape), x.size // math.prod(shape), nmode,
                     _fast_address(x), _fast_address(y))
    return y


def _fast_c2r(x, rank, n, norm):
    """irfft/irfftn of the trailing rank axes with the default output
    length 2*(m-1) (or n giving the same m), or None."""
    nmode = _fast_norm(norm)
    if nmode is None or x.dtype not in (COMPLEX128, COMPLEX64) or x.ndim < rank:
        return None
    m = x.shape[-1]
    last = 2 * (m - 1) if n is None else n
    if type(last) is not int or last < 1 or last // 2 + 1 != m:
        return None
    shape = x.shape[x.ndim - rank:-1] + (last,)
    y = np.empty(x.shape[:-1] + (last,), _arrays.real_of(x.dtype))
    _C2R_FN[x.dtype](rank, _cached_dims(shape), x.size // math.prod(x.shape[x.ndim - rank:]),
                     nmode, _fast_address(x), _fast_address(y))
    return y


_KINDS_CACHE = {}
_SWAP_MODE = {0: 2, 1: 1, 2: 0}


def _fast_r2r(x, rank, t, norm, overwrite_x, workers, orthogonalize, sine, inverse):
    """A DCT/DST of the trailing rank axes without the orthogonalising
    weights, or None."""
    if not rank or overwrite_x or not _fast_ok(x, workers, None, None):
        return None
    if x.dtype not in _FAST_REAL or x.ndim < rank or type(t) is not int or t not in (1, 2, 3, 4):
        return None
    if orthogonalize or (orthogonalize is None and norm == "ortho"):
        return None
    nmode = _fast_norm(norm)
    if nmode is None:
        return None
    if inverse:
        t, nmode = _INVERSE_TYPE[t], _SWAP_MODE[nmode]
    shape = x.shape[x.ndim - rank:]
    if t == 1 and not sine and min(shape) < 2:
        return None
    key = ((t - 1) + (4 if sine else 0), rank)
    kinds = _KINDS_CACHE.get(key)
    if kinds is None:
        kinds = _KINDS_CACHE[key] = (c_int * rank)(*([key[0]] * rank))
    y = np.empty(x.shape, x.dtype)
    _R2R_FN[x.dtype](rank, _cached_dims(shape), x.size // math.prod(shape), kinds, nmode,
                     _fast_address(x), _fast_address(y))
    return y


def _fast_address(a):
    """The data address of a C-contiguous array, as ctypes takes it: through
    the buffer protocol when the array is writeable (several times cheaper
    than ndarray.ctypes), else ndarray.ctypes."""
    try:
        return byref(c_char.from_buffer(a))
    except (TypeError, ValueError, BufferError):
        return a.ctypes.data


def _planned(func, plan, x, out):
    """plan=: scipy accepts only None; pel also takes a pel.fft.Plan made
    for exactly this transform (it is then called as it is)."""
    if plan is None:
        return None
    if not isinstance(plan, Plan):
        raise NotImplementedError(f"{func}: plan= must be None or a pel.fft.Plan (scipy's "
                                  "precomputed plans are not supported)")
    return plan(x, out=out)


def fft(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None, out=None):
    """1-D discrete Fourier transform with ``scipy.fft.fft``'s signature
    (numpy.fft.fft's arguments are the first four). ``workers`` is the
    thread count (negative as scipy reads it; default: :func:`get_workers`),
    ``overwrite_x`` lets pel transform a C-contiguous complex input in
    place, ``plan`` may be a matching :class:`Plan`, ``out`` a result array."""
    if _fast_ok(x, workers, plan, out) and axis == -1 and \
            (n is None or (type(n) is int and n == x.shape[-1])):
        y = _fast_c2c(x, 1, _FORWARD, norm, overwrite_x)
        if y is not None:
            return y
    if plan is not None:
        return _planned("fft", plan, x, out)
    xa = _as_array("fft", x)
    s, axes = _cook_1d("fft", xa, n, axis)
    with _threads("fft", workers):
        return _c2c("fft", xa, s, axes, _FORWARD, norm, out, overwrite_x)


def ifft(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None, out=None):
    """1-D inverse transform, like ``scipy.fft.ifft``."""
    if _fast_ok(x, workers, plan, out) and axis == -1 and \
            (n is None or (type(n) is int and n == x.shape[-1])):
        y = _fast_c2c(x, 1, _BACKWARD, norm, overwrite_x)
        if y is not None:
            return y
    if plan is not None:
        return _planned("ifft", plan, x, out)
    xa = _as_array("ifft", x)
    s, axes = _cook_1d("ifft", xa, n, axis)
    with _threads("ifft", workers):
        return _c2c("ifft", xa, s, axes, _BACKWARD, norm, out, overwrite_x)


def fft2(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None,
         out=None):
    """2-D transform, like ``scipy.fft.fft2``."""
    return fftn(x, s, axes, norm, overwrite_x, workers, plan=plan, out=out, _func="fft2")


def ifft2(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None,
          out=None):
    """2-D inverse transform, like ``scipy.fft.ifft2``."""
    return ifftn(x, s, axes, norm, overwrite_x, workers, plan=plan, out=out, _func="ifft2")


def fftn(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None,
         out=None, _func="fftn"):
    """N-D transform, like ``scipy.fft.fftn``. ``out=x`` (a C-contiguous
    complex array of the transform's precision) transforms in place."""
    if s is None and _fast_ok(x, workers, plan, out):
        rank = _fast_rank(x, axes)
        y = _fast_c2c(x, rank, _FORWARD, norm, overwrite_x) if rank else None
        if y is not None:
            return y
    if plan is not None:
        return _planned(_func, plan, x, out)
    with _threads(_func, workers):
        return _c2c(_func, x, s, axes, _FORWARD, norm, out, overwrite_x)


def ifftn(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None,
          out=None, _func="ifftn"):
    """N-D inverse transform, like ``scipy.fft.ifftn``."""
    if s is None and _fast_ok(x, workers, plan, out):
        rank = _fast_rank(x, axes)
        y = _fast_c2c(x, rank, _BACKWARD, norm, overwrite_x) if rank else None
        if y is not None:
            return y
    if plan is not None:
        return _planned(_func, plan, x, out)
    with _threads(_func, workers):
        return _c2c(_func, x, s, axes, _BACKWARD, norm, out, overwrite_x)


# ----------------------------------------------------------------- real input

def _r2c(func, x, s, axes, norm, out):
    nmode = _norm(func, norm)
    xa = _as_array(func, x)
    dtype = _real_dtype(func, xa)
    s, axes = _cook(func, xa, s, axes)
    if not axes:
        raise ValueError(f"{func}: at least 1 axis must be transformed")
    return _r2c_cooked(func, xa, s, axes, norm, nmode, dtype, out)


def _r2c_cooked(func, xa, s, axes, norm, nmode, dtype, out):
    xa = _resize(xa, axes, s)
    if len(axes) > MAX_RANK:
        y = _r2c_cooked(func, xa, s[-MAX_RANK:], axes[-MAX_RANK:], norm, nmode, dtype, None)
        return _c2c_cooked(func, y, [y.shape[a] for a in axes[:-MAX_RANK]], axes[:-MAX_RANK],
                           _FORWARD, norm, nmode, y.dtype, out, True)
    if not _trailing(xa, axes):
        return _moved(func, xa, axes, s,
                      lambda m, sz: _r2c_cooked(func, m, sz,
                                                list(range(m.ndim - len(sz), m.ndim)),
                                                norm, nmode, dtype, None), out)
    src = _arrays.as_input(xa, dtype)
    cdtype = _arrays.complex_of(dtype)
    shape = src.shape[:-1] + (src.shape[-1] // 2 + 1,)
    result = _arrays.check_out(func, out, shape, cdtype)
    target = np.empty(shape, dtype=cdtype) if _arrays.overlaps(result, src) else result
    if src.size:
        howmany = src.size // math.prod(s)
        _R2C_FN[dtype](len(s), _dims(s), howmany, nmode, src.ctypes.data, target.ctypes.data)
    if target is not result:
        result[...] = target
    return result


def rfft(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None, out=None):
    """1-D transform of real input (the n//2+1 non-negative frequencies),
    like ``scipy.fft.rfft``. Complex input is a TypeError."""
    if _fast_ok(x, workers, plan, out) and axis == -1 and \
            (n is None or (type(n) is int and n == x.shape[-1])):
        y = _fast_r2c(x, 1, norm)
        if y is not None:
            return y
    if plan is not None:
        return _planned("rfft", plan, x, out)
    xa = _as_array("rfft", x)
    s, axes = _cook_1d("rfft", xa, n, axis)
    with _threads("rfft", workers):
        return _r2c("rfft", xa, s, axes, norm, out)


def rfft2(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None,
          out=None):
    """2-D transform of real input, like ``scipy.fft.rfft2``."""
    return rfftn(x, s, axes, norm, overwrite_x, workers, plan=plan, out=out, _func="rfft2")


def rfftn(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None,
          out=None, _func="rfftn"):
    """N-D transform of real input, like ``scipy.fft.rfftn``: the last of
    ``axes`` keeps its n//2+1 non-negative frequencies."""
    if s is None and _fast_ok(x, workers, plan, out):
        rank = _fast_rank(x, axes)
        y = _fast_r2c(x, rank, norm) if rank else None
        if y is not None:
            return y
    if plan is not None:
        return _planned(_func, plan, x, out)
    with _threads(_func, workers):
        return _r2c(_func, x, s, axes, norm, out)


def _c2r(func, x, s, axes, norm, out):
    nmode = _norm(func, norm)
    xa = _as_array(func, x)
    dtype = _complex_dtype(func, xa)
    if s is not None:
        s, axes = _cook(func, xa, s, axes)
    else:
        _, axes = _cook(func, xa, None, axes)
        s = [xa.shape[a] for a in axes]
        if axes:
            s[-1] = 2 * (xa.shape[axes[-1]] - 1)
            if s[-1] < 1:
                raise ValueError(f"{func}: invalid number of data points ({s[-1]}) specified")
    if not axes:
        raise ValueError(f"{func}: at least 1 axis must be transformed")
    return _c2r_cooked(func, xa, s, axes, norm, nmode, dtype, out)


def _c2r_cooked(func, xa, s, axes, norm, nmode, dtype, out):
    # The complex input holds s[-1]//2+1 values along the last axis.
    xa = _resize(xa, axes, s[:-1] + [s[-1] // 2 + 1])
    if len(axes) > MAX_RANK:
        y = _c2c_cooked(func, xa, s[:-MAX_RANK], axes[:-MAX_RANK], _BACKWARD, norm, nmode,
                        dtype, None)
        return _c2r_cooked(func, y, s[-MAX_RANK:], axes[-MAX_RANK:], norm, nmode, dtype, out)
    if not _trailing(xa, axes):
        return _moved(func, xa, axes, s,
                      lambda m, sz: _c2r_cooked(func, m, sz,
                                                list(range(m.ndim - len(sz), m.ndim)),
                                                norm, nmode, dtype, None), out)
    src = _arrays.as_input(xa, dtype)
    rdtype = _arrays.real_of(dtype)
    shape = src.shape[:-1] + (s[-1],)
    result = _arrays.check_out(func, out, shape, rdtype)
    target = np.empty(shape, dtype=rdtype) if _arrays.overlaps(result, src) else result
    if src.size:
        howmany = src.size // (math.prod(s[:-1]) * (s[-1] // 2 + 1))
        _C2R_FN[dtype](len(s), _dims(s), howmany, nmode, src.ctypes.data, target.ctypes.data)
    if target is not result:
        result[...] = target
    return result


def irfft(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None,
          out=None):
    """Inverse of :func:`rfft`: ``n`` real outputs (default 2*(m-1)), like
    ``scipy.fft.irfft``. The input is never modified."""
    if _fast_ok(x, workers, plan, out) and axis == -1:
        y = _fast_c2r(x, 1, n, norm)
        if y is not None:
            return y
    if plan is not None:
        return _planned("irfft", plan, x, out)
    xa = _as_array("irfft", x)
    if n is None:
        _, axes = _cook_1d("irfft", xa, None, axis)
        s = None
    else:
        s, axes = _cook_1d("irfft", xa, n, axis)
    with _threads("irfft", workers):
        return _c2r("irfft", xa, s, axes, norm, out)


def irfft2(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None,
           out=None):
    """Inverse of :func:`rfft2`, like ``scipy.fft.irfft2``."""
    return irfftn(x, s, axes, norm, overwrite_x, workers, plan=plan, out=out, _func="irfft2")


def irfftn(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None,
           out=None, _func="irfftn"):
    """Inverse of :func:`rfftn`, like ``scipy.fft.irfftn``: ``s`` is the
    real output shape (default: 2*(m-1) along the last axis)."""
    if s is None and _fast_ok(x, workers, plan, out):
        rank = _fast_rank(x, axes)
        y = _fast_c2r(x, rank, None, norm) if rank else None
        if y is not None:
            return y
    if plan is not None:
        return _planned(_func, plan, x, out)
    with _threads(_func, workers):
        return _c2r(_func, x, s, axes, norm, out)


# ------------------------------------------------------------- Hermitian input

def hfft(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None):
    """FFT of a Hermitian-symmetric signal given by its first half: ``n``
    real outputs (default 2*(m-1)), like ``scipy.fft.hfft``; computed as
    :func:`irfft` of ``conj(x)`` with the norm's direction swapped."""
    if plan is not None:
        raise NotImplementedError("hfft: plan= is not supported")
    xa = _as_array("hfft", x)
    norm = _swapped("hfft", norm)
    return irfft(np.conj(xa) if xa.dtype.kind == "c" else xa, n, axis, norm, False, workers)


def ihfft(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None):
    """Inverse of :func:`hfft` for real input (n//2+1 outputs), like
    ``scipy.fft.ihfft``: ``conj(rfft(x))`` with the norm's direction swapped."""
    if plan is not None:
        raise NotImplementedError("ihfft: plan= is not supported")
    y = rfft(x, n, axis, _swapped("ihfft", norm), False, workers)
    return np.conjugate(y, out=y)


def hfftn(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None,
          _func="hfftn"):
    """N-D FFT of Hermitian-symmetric input, like ``scipy.fft.hfftn``."""
    if plan is not None:
        raise NotImplementedError(f"{_func}: plan= is not supported")
    xa = _as_array(_func, x)
    norm = _swapped(_func, norm)
    return irfftn(np.conj(xa) if xa.dtype.kind == "c" else xa, s, axes, norm, False, workers,
                  _func=_func)


def hfft2(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None):
    """2-D FFT of Hermitian-symmetric input, like ``scipy.fft.hfft2``."""
    return hfftn(x, s, axes, norm, overwrite_x, workers, plan=plan, _func="hfft2")


def ihfftn(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None,
           _func="ihfftn"):
    """Inverse of :func:`hfftn` for real input, like ``scipy.fft.ihfftn``."""
    if plan is not None:
        raise NotImplementedError(f"{_func}: plan= is not supported")
    y = rfftn(x, s, axes, _swapped(_func, norm), False, workers, _func=_func)
    return np.conjugate(y, out=y)


def ihfft2(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None):
    """Inverse of :func:`hfft2` for real input, like ``scipy.fft.ihfft2``."""
    return ihfftn(x, s, axes, norm, overwrite_x, workers, plan=plan, _func="ihfft2")


# --------------------------------------------------- real-to-real (DCT / DST)

_INVERSE_TYPE = {1: 1, 2: 3, 3: 2, 4: 4}
_SQRT2 = math.sqrt(2.0)


def _r2r_type(func, type):
    t = _args.integer(func, "type", type, minimum=1, ctype="int", maximum=4)
    return t


def _r2r_run(func, xa, kinds, axes, nmode, in_place):
    """Runs pel_fft_r2r over ``axes`` of the C-contiguous real array ``xa``
    (kinds[i] along axes[i]): at most three trailing axes per call, other
    axes moved to the end by a transposed copy. In place when allowed."""
    if len(axes) > MAX_RANK:
        y = _r2r_run(func, xa, kinds[-MAX_RANK:], axes[-MAX_RANK:], nmode, in_place)
        return _r2r_run(func, y, kinds[:-MAX_RANK], axes[:-MAX_RANK], nmode, True)
    if not _trailing(xa, axes):
        k = len(axes)
        moved = np.ascontiguousarray(np.moveaxis(xa, axes, list(range(xa.ndim - k, xa.ndim))))
        y = _r2r_run(func, moved, kinds, list(range(xa.ndim - k, xa.ndim)), nmode, True)
        return np.ascontiguousarray(np.moveaxis(y, list(range(xa.ndim - k, xa.ndim)), axes))
    out = xa if in_place else np.empty_like(xa)
    if xa.size:
        dims = xa.shape[xa.ndim - len(axes):]
        howmany = xa.size // math.prod(dims)
        _R2R_FN[xa.dtype](len(dims), _dims(dims), howmany, (c_int * len(kinds))(*kinds), nmode,
                          xa.ctypes.data, out.ctypes.data)
    return out


def _edge(a, axis, index):
    sl = [slice(None)] * a.ndim
    sl[axis] = index
    return tuple(sl)


def _r2r(func, x, type, s, axes, norm, overwrite_x, workers, orthogonalize, sine, inverse):
    nmode = _norm(func, norm)
    t = _r2r_type(func, type)
    xa = _as_array(func, x)
    if xa.dtype.kind == "c":
        # scipy transforms the real and imaginary parts separately.
        parts = [_r2r(func, np.ascontiguousarray(p), t, s, axes, norm, False, workers,
                      orthogonalize, sine, inverse) for p in (xa.real, xa.imag)]
        return parts[0] + 1j * parts[1]
    dtype = _real_dtype(func, xa)
    s, axes = _cook(func, xa, s, axes)
    if not axes:
        return xa  # nothing to transform: the input as it is, as scipy returns it
    if inverse:
        t, norm = _INVERSE_TYPE[t], _swapped(func, norm)
        nmode = _norm(func, norm)
    if orthogonalize is None:
        orthogonalize = norm == "ortho"
    if t == 1 and not sine and any(n < 2 for n in s):
        raise ValueError(f"{func}: DCT-I is not defined for size < 2 (sizes {s})")
    resized = _resize(xa, axes, s)
    src = _arrays.as_input(resized, dtype)
    owned = src is not x or (overwrite_x and isinstance(x, np.ndarray) and x.flags.writeable)
    # Orthogonalising weights on the input (types I and III).
    if orthogonalize and t in (1, 3) and not (sine and t == 1):
        if not owned:
            src, owned = src.copy(), True
        for a in axes:
            if t == 3:
                src[_edge(src, a, -1 if sine else 0)] *= _SQRT2
            else:
                src[_edge(src, a, 0)] *= _SQRT2
                src[_edge(src, a, -1)] *= _SQRT2
    kind = (t - 1) + (4 if sine else 0)
    with _threads(func, workers):
        y = _r2r_run(func, src, [kind] * len(axes), axes, nmode, owned)
    # ... and on the output (types I and II).
    if orthogonalize and t in (1, 2) and not (sine and t == 1):
        for a in axes:
            if t == 2:
                y[_edge(y, a, -1 if sine else 0)] /= _SQRT2
            else:
                y[_edge(y, a, 0)] /= _SQRT2
                y[_edge(y, a, -1)] /= _SQRT2
    return y


def dct(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
        orthogonalize=None):
    """Discrete cosine transform of type 1-4 along ``axis``, like
    ``scipy.fft.dct`` (FFTW's REDFT kinds through pel_fft_r2r)."""
    if n is None and axis == -1:
        y = _fast_r2r(x, 1, type, norm, overwrite_x, workers, orthogonalize, False, False)
        if y is not None:
            return y
    xa = _as_array("dct", x)
    s, axes = _cook_1d("dct", xa, n, axis)
    return _r2r("dct", xa, type, s, axes, norm, overwrite_x, workers, orthogonalize, False, False)


def idct(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
         orthogonalize=None):
    """Inverse DCT, like ``scipy.fft.idct``."""
    if n is None and axis == -1:
        y = _fast_r2r(x, 1, type, norm, overwrite_x, workers, orthogonalize, False, True)
        if y is not None:
            return y
    xa = _as_array("idct", x)
    s, axes = _cook_1d("idct", xa, n, axis)
    return _r2r("idct", xa, type, s, axes, norm, overwrite_x, workers, orthogonalize, False, True)


def dst(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
        orthogonalize=None):
    """Discrete sine transform of type 1-4 along ``axis``, like
    ``scipy.fft.dst`` (FFTW's RODFT kinds)."""
    if n is None and axis == -1:
        y = _fast_r2r(x, 1, type, norm, overwrite_x, workers, orthogonalize, True, False)
        if y is not None:
            return y
    xa = _as_array("dst", x)
    s, axes = _cook_1d("dst", xa, n, axis)
    return _r2r("dst", xa, type, s, axes, norm, overwrite_x, workers, orthogonalize, True, False)


def idst(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
         orthogonalize=None):
    """Inverse DST, like ``scipy.fft.idst``."""
    if n is None and axis == -1:
        y = _fast_r2r(x, 1, type, norm, overwrite_x, workers, orthogonalize, True, True)
        if y is not None:
            return y
    xa = _as_array("idst", x)
    s, axes = _cook_1d("idst", xa, n, axis)
    return _r2r("idst", xa, type, s, axes, norm, overwrite_x, workers, orthogonalize, True, True)


def dctn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None,
         orthogonalize=None):
    """N-D DCT over ``axes``, like ``scipy.fft.dctn``."""
    if s is None and isinstance(x, np.ndarray):
        y = _fast_r2r(x, _fast_rank(x, axes), type, norm, overwrite_x, workers, orthogonalize,
                      False, False)
        if y is not None:
            return y
    return _r2r("dctn", x, type, s, axes, norm, overwrite_x, workers, orthogonalize, False, False)


def idctn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None,
          orthogonalize=None):
    """N-D inverse DCT, like ``scipy.fft.idctn``."""
    if s is None and isinstance(x, np.ndarray):
        y = _fast_r2r(x, _fast_rank(x, axes), type, norm, overwrite_x, workers, orthogonalize,
                      False, True)
        if y is not None:
            return y
    return _r2r("idctn", x, type, s, axes, norm, overwrite_x, workers, orthogonalize, False, True)


def dstn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None,
         orthogonalize=None):
    """N-D DST over ``axes``, like ``scipy.fft.dstn``."""
    if s is None and isinstance(x, np.ndarray):
        y = _fast_r2r(x, _fast_rank(x, axes), type, norm, overwrite_x, workers, orthogonalize,
                      True, False)
        if y is not None:
            return y
    return _r2r("dstn", x, type, s, axes, norm, overwrite_x, workers, orthogonalize, True, False)


def idstn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None,
          orthogonalize=None):
    """N-D inverse DST, like ``scipy.fft.idstn``."""
    if s is None and isinstance(x, np.ndarray):
        y = _fast_r2r(x, _fast_rank(x, axes), type, norm, overwrite_x, workers, orthogonalize,
                      True, True)
        if y is not None:
            return y
    return _r2r("idstn", x, type, s, axes, norm, overwrite_x, workers, orthogonalize, True, True)


# ------------------------------------------------------------------ helpers

def fftfreq(n, d=1.0):
    """Sample frequencies of an n-point FFT with sample spacing d, like
    ``scipy.fft.fftfreq`` (0, 1, ..., n/2-1, -n/2, ..., -1) / (d*n)."""
    n = _args.size("fftfreq", "n", n, minimum=1)
    k = np.empty(n, dtype=int)
    half = (n - 1) // 2 + 1
    k[:half] = np.arange(0, half)
    k[half:] = np.arange(-(n // 2), 0)
    return k / (n * d)


def rfftfreq(n, d=1.0):
    """Sample frequencies of :func:`rfft`: 0, 1, ..., n//2 over d*n."""
    n = _args.size("rfftfreq", "n", n, minimum=1)
    return np.arange(0, n // 2 + 1, dtype=int) / (n * d)


def _shift_axes(func, x, axes):
    if axes is None:
        return list(range(x.ndim)), None
    return _args.axes(func, "axes", axes, x.ndim), axes


def fftshift(x, axes=None):
    """Moves the zero frequency to the centre, like ``scipy.fft.fftshift``."""
    xa = np.asarray(x)
    axes, _ = _shift_axes("fftshift", xa, axes)
    return np.roll(xa, [xa.shape[a] // 2 for a in axes], axes)


def ifftshift(x, axes=None):
    """The inverse of :func:`fftshift`, like ``scipy.fft.ifftshift``."""
    xa = np.asarray(x)
    axes, _ = _shift_axes("ifftshift", xa, axes)
    return np.roll(xa, [-(xa.shape[a] // 2) for a in axes], axes)


def _is_fast(n):
    for p in (2, 3, 5, 7):
        while n % p == 0:
            n //= p
    return n in (1, 11, 13)


def next_fast_len(target, real=False):
    """The smallest size >= target for which FFTW is fastest: 2^a 3^b 5^c
    7^d 11^e 13^f with e + f at most 1 (FFTW's manual). ``real`` is accepted
    for scipy's signature; FFTW's rule is the same for real and complex
    transforms (scipy's pocketfft answers 5-smooth sizes for real=True)."""
    target = _args.size("next_fast_len", "target", target, minimum=1)
    if real not in (True, False, 0, 1):
        raise TypeError(f"next_fast_len: real must be a bool, not {real!r}")
    n = target
    while not _is_fast(n):
        n += 1
    return n


def prev_fast_len(target, real=False):
    """The largest FFTW-fast size <= target (see :func:`next_fast_len`)."""
    target = _args.size("prev_fast_len", "target", target, minimum=1)
    n = target
    while not _is_fast(n):
        n -= 1
    return n


# ------------------------------------------------------ scipy.fft backend

#: scipy.fft's uarray domain: ``with scipy.fft.set_backend(pel.fft): ...``
#: or ``scipy.fft.register_backend(pel.fft)`` sends scipy.fft calls here.
__ua_domain__ = "numpy.scipy.fft"

_BACKEND_FUNCTIONS = {f.__name__: f for f in (
    fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn,
    hfft, ihfft, hfft2, ihfft2, hfftn, ihfftn,
    dct, idct, dst, idst, dctn, idctn, dstn, idstn)}

#: Calls handled by pel and calls handed back to scipy (by name), counted
#: since import: ``backend_stats()``.
_handled = collections.Counter()
_declined = collections.Counter()
_reasons = collections.Counter()


def _scipy_default_workers():
    """scipy.fft.set_workers' setting on this thread, if any."""
    try:
        from scipy.fft._pocketfft import helper
    except ImportError:
        return None
    return getattr(helper._config, "default_workers", None)


def __ua_function__(method, args, kwargs):
    """uarray's entry: runs ``method`` (a scipy.fft multimethod) with pel,
    or returns NotImplemented so that scipy's next backend (its own
    pocketfft) runs it: functions pel lacks (fht, ifht), long double data,
    repeated axes, scipy plans."""
    name = getattr(method, "__name__", "")
    fn = _BACKEND_FUNCTIONS.get(name)
    if fn is None or kwargs.get("plan") is not None:
        _declined[name] += 1
        _reasons["not in pel" if fn is None else "scipy plan"] += 1
        return NotImplemented
    if kwargs.get("workers") is None and getattr(_config, "workers", None) is None:
        w = _scipy_default_workers()
        if w is not None:
            kwargs = dict(kwargs, workers=w)
    try:
        result = fn(*args, **kwargs)
    except (LongDoubleError, _RepeatedAxesError) as exc:
        _declined[name] += 1
        _reasons[type(exc).__name__] += 1
        return NotImplemented
    _handled[name] += 1
    return result


def backend_stats():
    """``{"handled": {name: calls}, "declined": {name: calls}, "reasons":
    {exception: calls}}``: how many scipy.fft calls the backend ran with pel
    and how many it handed back to scipy (and why)."""
    return {"handled": dict(_handled), "declined": dict(_declined), "reasons": dict(_reasons)}


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
        cooked = sorted(_args.axes("fftconvolve", "axes", axes, a.ndim))
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
    shape1 = tuple(_args.sizes("convolve_shape", "shape1", shape1))
    shape2 = tuple(_args.sizes("convolve_shape", "shape2", shape2))
    if mode not in _MODES:
        raise ValueError(f"convolve_shape: mode must be 'full', 'same' or 'valid', not {mode!r}")
    if len(shape1) != len(shape2):
        raise ValueError("convolve_shape: the shapes have different ranks")
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
    _cache_set_capacity(_args.size("set_cache_capacity", "capacity", capacity))


def set_default_effort(effort="auto", time_limit=0.0):
    """The planner effort ("auto", "estimate", "measure", "patient",
    "exhaustive", "wisdom_only") and time limit in seconds (0 = none) of
    plans the one-shot functions make on a cache miss. "auto" (the default)
    runs a new shape at once on an "estimate" plan while a background thread
    makes its "measure" plan, which then replaces the cached one (the last
    bits of a result may change once, when it lands; see
    :func:`set_upgrade_mode`). "estimate" plans instantly and gives the same
    plan every run; "measure" plans on the caller's thread (seconds for
    large sizes) and may pick different algorithms (last-bit differences)
    from run to run. Plans (:class:`Plan`) take any effort but "auto"."""
    if effort not in _EFFORTS:
        raise ValueError(f"set_default_effort: unknown effort {effort!r}; use one of "
                         f"{', '.join(_EFFORTS)}")
    _set_default_effort(_EFFORTS[effort],
                        _args.real_scalar("set_default_effort", "time_limit", time_limit))


def get_default_effort():
    """The effort set by :func:`set_default_effort`."""
    return _EFFORT_NAMES.get(_get_default_effort(), "unknown")


def set_upgrade_mode(mode):
    """Whether "auto" plans are upgraded to "measure" plans in the background:
    "off", "idle" (the default: the planner thread runs as background work,
    SCHED_BATCH, measuring only while pel's threads are free) or
    "normal" (normal priority). The environment variable PEL_FFT_UPGRADE
    (0, 1, 2) sets it at start-up."""
    if mode not in _UPGRADE_MODES:
        raise ValueError(f"set_upgrade_mode: unknown mode {mode!r}; use one of "
                         f"{', '.join(_UPGRADE_MODES)}")
    _set_upgrade_mode(_UPGRADE_MODES[mode])


def get_upgrade_mode():
    """The mode set by :func:`set_upgrade_mode` ("off" in a forked child)."""
    return _UPGRADE_MODE_NAMES.get(_get_upgrade_mode(), "unknown")


def upgrade_wait(timeout=60.0):
    """Waits at most `timeout` seconds until no plan upgrade is queued or
    running; returns how many still are (0: all landed)."""
    pending = c_size_t()
    _upgrade_wait(_args.real_scalar("upgrade_wait", "timeout", timeout), byref(pending))
    return pending.value


def upgrade_stats():
    """Counters of the plan upgrades: a dict with requested, completed,
    discarded, failed, dropped and pending."""
    stats = _UpgradeStats()
    _upgrade_get_stats(byref(stats))
    return {name: getattr(stats, name) for name, _ in stats._fields_}


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
        shape = tuple(_args.sizes("Plan", "shape", shape))
        batch = _args.size("Plan", "batch", batch)
        nthreads = _args.c_int("Plan", "nthreads", nthreads)
        self.kind, self.shape, self.batch = kind, shape, batch
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
        options = _Options(_EFFORTS[effort], _args.real_scalar("Plan", "time_limit", time_limit),
                           nthreads, _norm("Plan", norm))
        _plan_create(kinds[kind], 1 if single else 0, len(shape), _dims(shape), batch,
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
