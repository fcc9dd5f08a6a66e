"""Sparse matrices in CSR form (include/pel/sparse.h).

:class:`CSRMatrix` wraps an immutable ``pel_csr``: build it from CSR arrays,
from any ``scipy.sparse`` matrix, or from a Matrix Market file, and multiply
with ``@`` (SpMV for a vector, SpMM for a block of vectors). Products are
nonzero-balanced across pel's threads and bit-identical for any thread
count. A CSRMatrix may be shared by Python threads.
"""

import os
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_size_t, c_void_p

import numpy as np

from . import _args, _arrays
from ._arrays import FLOAT32, FLOAT64
from ._lib import declare

_PRECISION = {FLOAT64: 0, FLOAT32: 1}
_DTYPE = {0: FLOAT64, 1: FLOAT32}
_SIZE = np.dtype(np.uintp)  # size_t
_ROW_MAJOR, _COL_MAJOR = 101, 102

_create = declare("pel_csr_create", None,
                  [c_int, c_size_t, c_size_t, c_void_p, c_void_p, c_void_p, POINTER(c_void_p)],
                  required=False)
_destroy = declare("pel_csr_destroy", None, [c_void_p], status=False, required=False)
_rows = declare("pel_csr_rows", c_size_t, [c_void_p], status=False, required=False)
_cols = declare("pel_csr_cols", c_size_t, [c_void_p], status=False, required=False)
_nnz = declare("pel_csr_nnz", c_size_t, [c_void_p], status=False, required=False)
_precision = declare("pel_csr_precision", c_int, [c_void_p], status=False, required=False)
_export = declare("pel_csr_export", None, [c_void_p, c_void_p, c_void_p, c_void_p],
                  required=False)
_spmv = declare("pel_csr_spmv", None, [c_void_p, c_double, c_void_p, c_double, c_void_p],
                required=False)
_spmm = declare("pel_csr_spmm", None, [c_void_p, c_int, c_size_t, c_double, c_void_p, c_size_t,
                                       c_double, c_void_p, c_size_t], required=False)
_read_mtx = declare("pel_csr_read_mtx", None, [c_char_p, c_int, POINTER(c_void_p)],
                    required=False)
_write_mtx = declare("pel_csr_write_mtx", None, [c_void_p, c_char_p], required=False)


def _index_array(func, name, values, length=None):
    """An index array as size_t, refusing negative entries (they would wrap
    around to huge values in C)."""
    a = values if isinstance(values, np.ndarray) else np.asarray(values)
    if a.ndim != 1:
        raise ValueError(f"{func}: {name} must be 1-D, got shape {a.shape}")
    if a.dtype.kind not in "iu" and a.size:
        raise TypeError(f"{func}: {name} must hold integers, not {a.dtype}")
    if a.dtype.kind == "i" and a.size and a.min() < 0:
        raise ValueError(f"{func}: {name} has a negative entry ({a.min()})")
    if length is not None and a.shape[0] != length:
        raise ValueError(f"{func}: {name} has {a.shape[0]} entries, expected {length}")
    return _arrays.as_input(a, _SIZE)


class CSRMatrix:
    """An immutable sparse matrix in compressed sparse row form, float64 or
    float32.

    ``CSRMatrix((data, indices, indptr), shape=(rows, cols))`` takes the
    arrays of ``scipy.sparse.csr_matrix`` (copied by pel; any index dtype;
    entries within a row in any order; duplicates summed). Also
    :meth:`from_scipy` and :meth:`read_mtx`. ``A @ x`` computes
    ``A.dot(x)``: SpMV for a 1-D x, SpMM for a 2-D block (C- or
    Fortran-ordered blocks are read in place).
    """

    __slots__ = ("_handle", "shape", "nnz", "dtype", "__weakref__")

    def __init__(self, arg, shape=None, dtype=None):
        self._handle = c_void_p()
        if isinstance(arg, CSRMatrix):  # a copy, possibly in another dtype
            arg, shape = arg.to_arrays(), arg.shape
        if not (isinstance(arg, tuple) and len(arg) == 3):
            raise TypeError("CSRMatrix: expected (data, indices, indptr); use "
                            "CSRMatrix.from_scipy() or CSRMatrix.read_mtx() for other sources")
        data, indices, indptr = arg
        data = data if isinstance(data, np.ndarray) else np.asarray(data)
        if dtype is None:
            dtype = _arrays.kernel_dtype("CSRMatrix", data, allowed=(FLOAT64, FLOAT32))
        else:
            dtype = np.dtype(dtype)
            if dtype not in _PRECISION:
                raise TypeError(f"CSRMatrix: dtype must be float32 or float64, not {dtype}")
            _arrays.kernel_dtype("CSRMatrix", data, allowed=(FLOAT64, FLOAT32))
        ptr = _index_array("CSRMatrix", "indptr", indptr)
        if shape is None:
            raise ValueError("CSRMatrix: shape=(rows, cols) is required with arrays")
        dims = _args.sizes("CSRMatrix", "shape", shape)
        if len(dims) != 2:
            raise ValueError(f"CSRMatrix: shape must be (rows, cols), not {shape!r}")
        rows, cols = dims
        if ptr.shape[0] != rows + 1:
            raise ValueError(f"CSRMatrix: indptr has {ptr.shape[0]} entries, expected "
                             f"rows+1 = {rows + 1}")
        nnz = int(ptr[-1]) if rows else 0
        idx = _index_array("CSRMatrix", "indices", indices)
        vals = _arrays.as_input(data, dtype)
        if vals.ndim != 1:
            raise ValueError(f"CSRMatrix: data must be 1-D, got shape {vals.shape}")
        # pel reads nnz = indptr[rows] entries; shorter arrays would be read
        # past their end, so that is checked here.
        if idx.shape[0] < nnz or vals.shape[0] < nnz:
            raise ValueError(f"CSRMatrix: indptr[-1] = {nnz} but indices has {idx.shape[0]} "
                             f"and data {vals.shape[0]} entries")
        _create(_PRECISION[dtype], rows, cols, ptr.ctypes.data if rows + 1 else None,
                idx.ctypes.data if nnz else None, vals.ctypes.data if nnz else None,
                byref(self._handle))
        self._describe()

    def _describe(self):
        h = self._handle
        self.shape = (_rows(h), _cols(h))
        self.nnz = _nnz(h)
        self.dtype = _DTYPE[_precision(h)]

    @classmethod
    def _adopt(cls, handle):
        obj = cls.__new__(cls)
        obj._handle = handle
        obj._describe()
        return obj

    @classmethod
    def from_scipy(cls, matrix, dtype=None):
        """From any scipy.sparse matrix or array (converted to CSR by scipy
        when it is in another format). float64 unless the matrix is float32
        or ``dtype`` says otherwise; complex matrices raise TypeError."""
        csr = matrix.tocsr()
        return cls((csr.data, csr.indices, csr.indptr), shape=csr.shape, dtype=dtype)

    @classmethod
    def read_mtx(cls, path, dtype=np.float64):
        """Reads a Matrix Market coordinate file (real, integer or pattern;
        general, symmetric or skew-symmetric). Raises :class:`pel.PelIOError`
        when the file cannot be read and :class:`pel.ParseError` (with the
        line number) when it is malformed."""
        dtype = np.dtype(dtype)
        if dtype not in _PRECISION:
            raise TypeError(f"read_mtx: dtype must be float32 or float64, not {dtype}")
        handle = c_void_p()
        _read_mtx(os.fsencode(path), _PRECISION[dtype], byref(handle))
        return cls._adopt(handle)

    def write_mtx(self, path):
        """Writes the matrix as a Matrix Market "coordinate real general"
        file whose values read back to the same bits."""
        _write_mtx(self._handle, os.fsencode(path))

    def to_arrays(self):
        """``(data, indices, indptr)``: columns sorted within rows, duplicates
        summed; indices as int64."""
        rows, nnz = self.shape[0], self.nnz
        indptr = np.empty(rows + 1, dtype=_SIZE)
        indices = np.empty(nnz, dtype=_SIZE)
        data = np.empty(nnz, dtype=self.dtype)
        _export(self._handle, indptr.ctypes.data, indices.ctypes.data, data.ctypes.data)
        return data, indices.astype(np.int64), indptr.astype(np.int64)

    def to_scipy(self):
        """The matrix as a ``scipy.sparse.csr_matrix``."""
        import scipy.sparse
        return scipy.sparse.csr_matrix(self.to_arrays(), shape=self.shape)

    def toarray(self):
        """The matrix as a dense ndarray."""
        data, indices, indptr = self.to_arrays()
        dense = np.zeros(self.shape, dtype=self.dtype)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(indptr))
        np.add.at(dense, (rows, indices), data)
        return dense

    def dot(self, x, out=None, alpha=1.0, beta=0.0):
        """``alpha * A @ x + beta * out`` (beta needs ``out``; with beta = 0
        ``out`` is not read). x is 1-D (cols,) or 2-D (cols, k) and converted
        to the matrix's dtype when that loses nothing (TypeError otherwise,
        e.g. float64 x with a float32 matrix); the result has that dtype."""
        dtype = self.dtype
        xa = x if isinstance(x, np.ndarray) else np.asarray(x)
        rows, cols = self.shape
        if xa.ndim not in (1, 2) or xa.shape[0] != cols:
            raise ValueError(f"CSRMatrix.dot: x must have shape ({cols},) or ({cols}, k), "
                             f"got {xa.shape}")
        if beta != 0 and out is None:
            raise ValueError("CSRMatrix.dot: beta is nonzero but out is not given")
        if xa.dtype.kind not in "biuf":
            raise TypeError(f"CSRMatrix.dot: cannot multiply by {xa.dtype} data"
                            + (" (complex vectors are not supported)" if xa.dtype.kind == "c"
                               else ""))
        if not np.can_cast(xa.dtype, dtype, "safe"):
            raise TypeError(f"CSRMatrix.dot: {xa.dtype} data with a {dtype} matrix would lose "
                            f"precision; convert x, or build the matrix with dtype={xa.dtype}")
        result_shape = (rows,) + xa.shape[1:]
        result = _arrays.check_out("CSRMatrix.dot", out, result_shape, dtype)
        target = result
        if _arrays.overlaps(result, xa):
            target = np.empty(result_shape, dtype=dtype)
            if beta != 0:
                target[...] = result
        if xa.ndim == 1:
            xv = _arrays.as_input(xa, dtype)
            _spmv(self._handle, float(alpha), xv.ctypes.data if cols else None, float(beta),
                  target.ctypes.data if rows else None)
        else:
            nvec = xa.shape[1]
            if (xa.dtype == dtype and xa.flags.f_contiguous and not xa.flags.c_contiguous
                    and xa.flags.aligned):
                # A Fortran-ordered block is column-major X: read it in place
                # and write Y column-major into a temporary.
                y = np.empty((nvec, rows), dtype=dtype)
                if beta != 0:
                    y[...] = target.T
                _spmm(self._handle, _COL_MAJOR, nvec, float(alpha), xa.ctypes.data,
                      max(1, cols), float(beta), y.ctypes.data, max(1, rows))
                target[...] = y.T
            else:
                xb = _arrays.as_input(xa, dtype)
                if rows and nvec:
                    _spmm(self._handle, _ROW_MAJOR, nvec, float(alpha), xb.ctypes.data,
                          max(1, nvec), float(beta), target.ctypes.data, max(1, nvec))
        if target is not result:
            result[...] = target
        return result

    def __matmul__(self, x):
        return self.dot(x)

    def __repr__(self):
        return (f"<pel.CSRMatrix {self.shape[0]}x{self.shape[1]} {self.dtype} "
                f"with {self.nnz} stored entries>")

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle and _destroy is not None:  # module globals vanish at shutdown
            _destroy(handle)
            self._handle = c_void_p()
