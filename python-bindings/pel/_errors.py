"""Exceptions raised for pel status codes.

Every failure of a C function raises a subclass of :class:`PelError` that
also derives from the built-in exception a Python user would catch for that
kind of problem (ValueError for an invalid argument, MemoryError for out of
memory, numpy.linalg.LinAlgError for a singular matrix, ...). The message is
the C library's own (``pel_last_error()``), e.g.
``pel_dgemm: lda=3 is smaller than k=4``.
"""

import numpy as np


class PelError(Exception):
    """Base class of every error reported by libpel.

    Attributes: ``status`` (the negative pel_status code), ``status_name``
    (e.g. ``"PEL_ERROR_INVALID_ARGUMENT"``), ``function`` (the C function that
    failed) and ``message`` (pel_last_error()'s text)."""

    status = None
    status_name = "PEL_ERROR"

    def __init__(self, message, function=None, status=None):
        super().__init__(message)
        self.message = message
        self.function = function
        if status is not None:
            self.status = status


class InvalidArgumentError(PelError, ValueError):
    """An argument was out of range or inconsistent (PEL_ERROR_INVALID_ARGUMENT)."""
    status, status_name = -1, "PEL_ERROR_INVALID_ARGUMENT"


class OutOfMemoryError(PelError, MemoryError):
    """An allocation failed (PEL_ERROR_OUT_OF_MEMORY)."""
    status, status_name = -2, "PEL_ERROR_OUT_OF_MEMORY"


class UnsupportedError(PelError, NotImplementedError):
    """The operation or size is not supported (PEL_ERROR_UNSUPPORTED)."""
    status, status_name = -3, "PEL_ERROR_UNSUPPORTED"


class BackendError(PelError, RuntimeError):
    """OpenBLAS, FFTW or OpenMP failed (PEL_ERROR_BACKEND)."""
    status, status_name = -4, "PEL_ERROR_BACKEND"


class SizeOverflowError(PelError, OverflowError):
    """A size computation would overflow (PEL_ERROR_OVERFLOW)."""
    status, status_name = -5, "PEL_ERROR_OVERFLOW"


class SingularMatrixError(PelError, np.linalg.LinAlgError):
    """The matrix is singular (PEL_ERROR_SINGULAR)."""
    status, status_name = -6, "PEL_ERROR_SINGULAR"


class NotPositiveDefiniteError(PelError, np.linalg.LinAlgError):
    """The matrix is not positive definite (PEL_ERROR_NOT_POSITIVE_DEFINITE)."""
    status, status_name = -7, "PEL_ERROR_NOT_POSITIVE_DEFINITE"


class PelIOError(PelError, OSError):
    """Reading or writing a file failed (PEL_ERROR_IO)."""
    status, status_name = -8, "PEL_ERROR_IO"


class ParseError(PelError, ValueError):
    """Malformed input, e.g. a bad Matrix Market file (PEL_ERROR_PARSE)."""
    status, status_name = -9, "PEL_ERROR_PARSE"


class NotConvergedError(PelError, RuntimeError):
    """An iteration did not reach its tolerance (PEL_ERROR_NOT_CONVERGED)."""
    status, status_name = -10, "PEL_ERROR_NOT_CONVERGED"


class CallbackError(PelError, RuntimeError):
    """A user callback failed (PEL_ERROR_CALLBACK)."""
    status, status_name = -11, "PEL_ERROR_CALLBACK"


class InternalError(PelError, RuntimeError):
    """A bug in pel (PEL_ERROR_INTERNAL)."""
    status, status_name = -12, "PEL_ERROR_INTERNAL"


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, UnsupportedError, BackendError, SizeOverflowError,
    SingularMatrixError, NotPositiveDefiniteError, PelIOError, ParseError, NotConvergedError,
    CallbackError, InternalError)}


def error_from_status(status, message, function=None):
    """The exception for a failed call: the subclass for @p status, with the C
    message (or, if the library left none, the function and the code)."""
    cls = _BY_STATUS.get(status, PelError)
    if not message:
        message = f"{function or 'pel'}: failed with status {status}"
    return cls(message, function=function, status=status)
