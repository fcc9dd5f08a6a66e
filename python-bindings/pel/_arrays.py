"""How numpy arrays cross into C.

The rules, shared by every wrapper (docs/python.md repeats them):

* An input that is a C-contiguous, aligned ndarray of the dtype the kernel
  runs in is passed by pointer: no copy.
* Anything else is converted explicitly with ``numpy.ascontiguousarray`` to
  that dtype: lists, non-contiguous views, misaligned buffers, integer and
  boolean arrays (to float64), float16 (to float32). The caller's data is
  never modified.
* The dtype a kernel runs in follows numpy's promotion of the inputs
  (``numpy.result_type``), so float32 stays float32 and mixing float32 with
  float64 computes in float64. A function that exists in fewer precisions
  widens losslessly (float32 data to a float64-only kernel). Conversions
  that would lose information are refused with TypeError instead of
  happening silently: complex data given to a real-only function, long
  double, objects, strings.
* ``out=`` arrays must already have the exact shape and dtype of the result
  and be C-contiguous, aligned and writeable (ValueError/TypeError
  otherwise); the result is written there and ``out`` is returned. When
  ``out`` overlaps an input, the result is computed in a temporary and
  copied, so the answer is never corrupted by the overlap.
"""

import numpy as np

FLOAT32 = np.dtype(np.float32)
FLOAT64 = np.dtype(np.float64)
COMPLEX64 = np.dtype(np.complex64)
COMPLEX128 = np.dtype(np.complex128)
REAL = (FLOAT32, FLOAT64)
ALL = (FLOAT32, FLOAT64, COMPLEX64, COMPLEX128)
_COMPLEX_OF = {FLOAT32: COMPLEX64, FLOAT64: COMPLEX128, COMPLEX64: COMPLEX64,
               COMPLEX128: COMPLEX128}
_REAL_OF = {FLOAT32: FLOAT32, FLOAT64: FLOAT64, COMPLEX64: FLOAT32, COMPLEX128: FLOAT64}


def complex_of(dtype):
    """complex64 for float32/complex64, complex128 for float64/complex128."""
    return _COMPLEX_OF[dtype]


def real_of(dtype):
    """float32 for float32/complex64, float64 for float64/complex128."""
    return _REAL_OF[dtype]


def kernel_dtype(func, *arrays, allowed=ALL):
    """The dtype pel computes in for these inputs (numpy promotion; integers
    and booleans become float64, float16 becomes float32). Raises TypeError
    when the promoted type is not one pel can handle without losing data."""
    dtypes = [a.dtype if isinstance(a, np.ndarray) else np.asarray(a).dtype for a in arrays]
    dtype = np.result_type(*dtypes)
    if dtype.kind in "biu":
        dtype = FLOAT64
    elif dtype == np.float16:
        dtype = FLOAT32
    if dtype in allowed:
        return dtype
    for candidate in allowed:  # a lossless widening, e.g. float32 -> float64
        if np.can_cast(dtype, candidate, "safe"):
            return candidate
    if dtype.kind == "c" and dtype not in (COMPLEX64, COMPLEX128):
        raise TypeError(f"{func}: {dtype} is not supported (would lose precision); "
                        "convert to complex128 explicitly")
    if dtype.kind == "c" and all(d.kind != "c" for d in allowed):
        raise TypeError(f"{func}: complex input is not supported; pass the real part "
                        "(x.real) explicitly if that is what you mean")
    if dtype.kind == "f" and dtype not in (FLOAT32, FLOAT64):
        raise TypeError(f"{func}: {dtype} is not supported (would lose precision); "
                        "convert to float64 explicitly")
    if dtype.kind in "fc":
        names = ", ".join(str(d) for d in allowed)
        raise TypeError(f"{func}: {dtype} input is not supported here (supported: {names})")
    raise TypeError(f"{func}: cannot compute with arrays of dtype {dtype}")


def as_input(a, dtype):
    """@p a as a C-contiguous aligned ndarray of @p dtype: the same object
    when it already is one, else an explicit converted copy."""
    if (type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous
            and a.flags.aligned):
        return a
    return np.ascontiguousarray(a, dtype=dtype) if _aligned_ok(a) else _aligned_copy(a, dtype)


def _aligned_ok(a):
    # ascontiguousarray returns an unaligned array unchanged when it is
    # already contiguous and of the right dtype; those need an explicit copy.
    return not (isinstance(a, np.ndarray) and not a.flags.aligned)


def _aligned_copy(a, dtype):
    out = np.empty(a.shape, dtype=dtype)
    out[...] = a
    return out


def check_out(func, out, shape, dtype):
    """Validates a user-supplied out= array for a result of @p shape and
    @p dtype; returns it, or a new array when @p out is None."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{func}: out must be a numpy.ndarray, not {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{func}: out has dtype {out.dtype}, the result is {dtype}")
    if out.shape != tuple(shape):
        raise ValueError(f"{func}: out has shape {out.shape}, the result has shape {tuple(shape)}")
    if not (out.flags.c_contiguous and out.flags.aligned):
        raise ValueError(f"{func}: out must be C-contiguous and aligned")
    if not out.flags.writeable:
        raise ValueError(f"{func}: out is read-only")
    return out


def overlaps(out, *inputs):
    """True when @p out may share memory with one of the inputs."""
    return any(isinstance(a, np.ndarray) and np.may_share_memory(out, a) for a in inputs)
