"""Argument rules shared by every wrapper: sizes, counts, axes and steps.

ctypes converts a Python integer to a C integer type by wrapping it modulo
2**bits, and ``int()`` truncates floats, so an unchecked ``steps=2**64``
would run 0 steps and ``n=2.5`` would run n=2. Every integer argument of the
package goes through :func:`integer` (or the helpers built on it), which
follows numpy's rules:

* the value must be an integer in Python's sense (``operator.index``):
  Python and numpy integers pass; floats, strings, ``None`` and booleans
  are a TypeError;
* a value below the argument's minimum (usually 0, for sizes 1) is a
  ValueError;
* a value that does not fit the C type the argument is passed as
  (``size_t``, ``int``, ...) is an OverflowError, never a wrap-around.

Messages name the function and the argument, like the C library's:
``fft: n=-3 must be at least 1``.
"""

import ctypes
import operator

import numpy as np

SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1
SSIZE_MAX = SIZE_MAX // 2
INT_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_int) - 1) - 1
INT_MIN = -INT_MAX - 1

#: C types by name: (smallest, largest) value.
C_TYPES = {"size_t": (0, SIZE_MAX), "ptrdiff_t": (-SSIZE_MAX - 1, SSIZE_MAX),
           "int": (INT_MIN, INT_MAX)}


def integer(func, name, value, minimum=0, ctype="size_t", maximum=None):
    """``value`` as a Python int checked for argument ``name`` of ``func``:
    TypeError unless it is an integer (operator.index; bool refused),
    ValueError below ``minimum`` (or above ``maximum`` when given),
    OverflowError past the C type ``ctype``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be an integer, not bool")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{func}: {name} must be an integer, not {type(value).__name__} "
                        f"({value!r})") from None
    low, high = C_TYPES[ctype]
    if v > high:
        raise OverflowError(f"{func}: {name}={v} does not fit the C type {ctype} "
                            f"(at most {high})")
    if v < minimum:
        if v < low and minimum < 0:
            raise OverflowError(f"{func}: {name}={v} does not fit the C type {ctype} "
                                f"(at least {low})")
        if v < 0 <= minimum:
            raise ValueError(f"{func}: {name}={v} is negative (must be at least {minimum})")
        raise ValueError(f"{func}: {name}={v} must be at least {minimum}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{func}: {name}={v} must be at most {maximum}")
    return v


def size(func, name, value, minimum=0):
    """A size or count passed as size_t (see :func:`integer`)."""
    return integer(func, name, value, minimum, "size_t")


def c_int(func, name, value, minimum=INT_MIN, maximum=None):
    """An argument passed as C int; by default every int value is allowed
    and the C function judges the range (e.g. a negative thread count)."""
    return integer(func, name, value, minimum, "int", maximum)


def sequence(func, name, values):
    """A sequence argument (shape, s, axes) as a list; a single integer is a
    sequence of one. Strings and other non-sequences are a TypeError."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{func}: {name} must be a sequence of integers, not a string")
    if isinstance(values, np.ndarray):
        return list(values.reshape(-1)) if values.ndim else [values[()]]
    try:
        return list(values)
    except TypeError:
        return [values]


def sizes(func, name, values, minimum=0):
    """A shape-like sequence of sizes (a single integer is one size)."""
    items = sequence(func, name, values)
    return [size(func, f"{name}[{i}]", v, minimum) for i, v in enumerate(items)]


def axis(func, name, value, ndim):
    """An axis of an ``ndim``-D array, normalised to 0..ndim-1: TypeError
    for a non-integer, numpy.AxisError (a ValueError and IndexError) out of
    range."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be an integer, not bool")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{func}: {name} must be an integer, not {type(value).__name__} "
                        f"({value!r})") from None
    if not -ndim <= v < ndim:
        raise np.AxisError(v, ndim)
    return v % ndim


def axes(func, name, values, ndim):
    """A sequence of axes, each normalised (repeats are kept: callers that
    refuse them say so)."""
    return [axis(func, name, v, ndim) for v in sequence(func, name, values)]


def real_scalar(func, name, value):
    """A real number (float): complex values are a TypeError (pel's real
    kernels never drop an imaginary part), non-numbers too."""
    if isinstance(value, (complex, np.complexfloating)):
        raise TypeError(f"{func}: {name}={value!r} is complex; this kernel is real")
    if isinstance(value, np.ndarray) and value.dtype.kind == "c":
        raise TypeError(f"{func}: {name} is complex; this kernel is real")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} must be a real number, not "
                        f"{type(value).__name__}") from None


def real_array(func, name, values, dtype=np.float64):
    """An array of real numbers as a contiguous ``dtype`` array: complex
    data is a TypeError, never a silent cast."""
    a = values if isinstance(values, np.ndarray) else np.asarray(values)
    if a.dtype.kind == "c":
        raise TypeError(f"{func}: {name} is complex ({a.dtype}); this kernel is real")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{func}: {name} must be real numbers, not {a.dtype}")
    return np.ascontiguousarray(a, dtype=dtype)
