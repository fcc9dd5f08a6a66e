"""Dense matrix functions (include/pel/matrix.h): matmul/gemm through
OpenBLAS, batched small matmul on pel's own kernels, transpose, reproducible
dot and norm, LU and Cholesky solves.

Matrices are passed without copies when each is C-ordered or Fortran-ordered
(a transposed view) or a row-major view with a leading dimension (a slice
such as ``a[:, 2:5]``) and of the kernel's dtype; other inputs are copied to
C order first (see docs/python.md). Precisions: float32 and float64
everywhere; matmul/gemm also complex128 (complex64 is computed and returned
as complex128, because pel has no single-complex gemm).
"""

import math
from ctypes import POINTER, byref, c_char, c_double, c_float, c_int, c_size_t, c_ssize_t, c_void_p

import numpy as np

from . import _args, _arrays
from ._arrays import COMPLEX64, COMPLEX128, FLOAT32, FLOAT64
from ._lib import declare

ROW_MAJOR, COL_MAJOR = 101, 102
NO_TRANS, TRANS, CONJ_TRANS = 111, 112, 113
UPPER, LOWER = 121, 122

_sz, _ss, _p = c_size_t, c_ssize_t, c_void_p


def _decl(name, argtypes):
    return declare(name, None, argtypes, required=False)


_GEMM = {
    FLOAT64: _decl("pel_dgemm", [c_int, c_int, c_int, _sz, _sz, _sz, c_double, _p, _sz, _p, _sz,
                                 c_double, _p, _sz]),
    FLOAT32: _decl("pel_sgemm", [c_int, c_int, c_int, _sz, _sz, _sz, c_float, _p, _sz, _p, _sz,
                                 c_float, _p, _sz]),
    COMPLEX128: _decl("pel_zgemm", [c_int, c_int, c_int, _sz, _sz, _sz, _p, _p, _sz, _p, _sz, _p,
                                    _p, _sz]),
}
_GEMM_BATCH = {
    FLOAT64: _decl("pel_dgemm_batch_strided",
                   [c_int, c_int, c_int, _sz, _sz, _sz, c_double, _p, _sz, _sz, _p, _sz, _sz,
                    c_double, _p, _sz, _sz, _sz]),
    FLOAT32: _decl("pel_sgemm_batch_strided",
                   [c_int, c_int, c_int, _sz, _sz, _sz, c_float, _p, _sz, _sz, _p, _sz, _sz,
                    c_float, _p, _sz, _sz, _sz]),
}
_OMATCOPY = {
    FLOAT64: _decl("pel_domatcopy", [c_int, c_int, _sz, _sz, c_double, _p, _sz, _p, _sz]),
    FLOAT32: _decl("pel_somatcopy", [c_int, c_int, _sz, _sz, c_float, _p, _sz, _p, _sz]),
}
_GEMV = {
    FLOAT64: _decl("pel_dgemv", [c_int, c_int, _sz, _sz, c_double, _p, _sz, _p, _ss, c_double, _p,
                                 _ss]),
    FLOAT32: _decl("pel_sgemv", [c_int, c_int, _sz, _sz, c_float, _p, _sz, _p, _ss, c_float, _p,
                                 _ss]),
}
_AXPY = {
    FLOAT64: _decl("pel_daxpy", [_sz, c_double, _p, _ss, _p, _ss]),
    FLOAT32: _decl("pel_saxpy", [_sz, c_float, _p, _ss, _p, _ss]),
}
_SCAL = {
    FLOAT64: _decl("pel_dscal", [_sz, c_double, _p, _ss]),
    FLOAT32: _decl("pel_sscal", [_sz, c_float, _p, _ss]),
}
_TRANSPOSE_SQUARE = {
    FLOAT64: _decl("pel_dtranspose_square", [_sz, _p, _sz]),
    FLOAT32: _decl("pel_stranspose_square", [_sz, _p, _sz]),
}
_DOT = {
    FLOAT64: (_decl("pel_ddot", [_sz, _p, _ss, _p, _ss, POINTER(c_double)]), c_double),
    FLOAT32: (_decl("pel_sdot", [_sz, _p, _ss, _p, _ss, POINTER(c_float)]), c_float),
}
_NRM2 = {
    FLOAT64: (_decl("pel_dnrm2", [_sz, _p, _ss, POINTER(c_double)]), c_double),
    FLOAT32: (_decl("pel_snrm2", [_sz, _p, _ss, POINTER(c_float)]), c_float),
}
_ASUM = {
    FLOAT64: (_decl("pel_dasum", [_sz, _p, _ss, POINTER(c_double)]), c_double),
    FLOAT32: (_decl("pel_sasum", [_sz, _p, _ss, POINTER(c_float)]), c_float),
}
_GESV = {
    FLOAT64: _decl("pel_dgesv", [c_int, _sz, _sz, _p, _sz, _p, _sz]),
    FLOAT32: _decl("pel_sgesv", [c_int, _sz, _sz, _p, _sz, _p, _sz]),
}
_POSV = {
    FLOAT64: _decl("pel_dposv", [c_int, c_int, _sz, _sz, _p, _sz, _p, _sz]),
    FLOAT32: _decl("pel_sposv", [c_int, c_int, _sz, _sz, _p, _sz, _p, _sz]),
}

_MATMUL_TYPES = (FLOAT32, FLOAT64, COMPLEX128)
_REAL_TYPES = (FLOAT32, FLOAT64)


def _matrix(a, dtype):
    """A 2-D operand as (array to keep alive, trans, leading dimension) such
    that op(row-major buffer at a.ctypes.data with that ld) == a, without a
    copy when a is C-ordered, Fortran-ordered (a transposed C array) or a
    row-major view with unit column stride."""
    if type(a) is np.ndarray and a.dtype == dtype and a.flags.aligned:
        rows, cols = a.shape
        item = dtype.itemsize
        if a.flags.c_contiguous:
            return a, NO_TRANS, max(1, cols)
        if a.flags.f_contiguous:
            return a, TRANS, max(1, rows)
        s0, s1 = a.strides
        if s1 == item and s0 > 0 and s0 % item == 0 and s0 // item >= cols:
            return a, NO_TRANS, s0 // item
        if s0 == item and s1 > 0 and s1 % item == 0 and s1 // item >= rows:
            return a, TRANS, s1 // item
    c = _arrays.as_input(a, dtype)
    return c, NO_TRANS, max(1, c.shape[1])


def _as_2d(func, x, dtype, name):
    x = x if isinstance(x, np.ndarray) else np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{func}: {name} must be 2-D, got shape {x.shape}")
    return x


def _complex_scalar(value):
    s = np.array([value], dtype=COMPLEX128)
    return s, s.ctypes.data


def _gemm_call(dtype, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    fn = _GEMM[dtype]
    if dtype == COMPLEX128:
        alpha_buf, alpha_p = _complex_scalar(alpha)
        beta_buf, beta_p = _complex_scalar(beta)
        fn(ROW_MAJOR, ta, tb, m, n, k, alpha_p, a.ctypes.data, lda, b.ctypes.data, ldb, beta_p,
           c.ctypes.data, ldc)
        del alpha_buf, beta_buf
    else:
        fn(ROW_MAJOR, ta, tb, m, n, k, _real(alpha), a.ctypes.data, lda, b.ctypes.data, ldb,
           _real(beta), c.ctypes.data, ldc)


def _real(value):
    if isinstance(value, (complex, np.complexfloating)):
        if value.imag != 0:
            raise TypeError(f"complex scalar {value} with real data")
        value = value.real
    return float(value)


def _matmul_2d(func, a, b, dtype, out, alpha=1.0, beta=0.0, c_in=None):
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"{func}: shapes {a.shape} and {b.shape} are not aligned "
                         f"({a.shape[1]} != {b.shape[0]})")
    m, k = a.shape
    n = b.shape[1]
    a_buf, ta, lda = _matrix(a, dtype)
    b_buf, tb, ldb = _matrix(b, dtype)
    result = _arrays.check_out(func, out, (m, n), dtype)
    target = result
    if _arrays.overlaps(result, a, b) or (c_in is not None and c_in is not result
                                           and _arrays.overlaps(result, c_in)):
        target = np.empty((m, n), dtype=dtype)
    if c_in is not None and c_in is not target:
        target[...] = c_in
    _gemm_call(dtype, ta, tb, m, n, k, alpha, a_buf, lda, b_buf, ldb, beta, target,
               max(1, n))
    if target is not result:
        result[...] = target
    return result


def matmul(a, b, out=None):
    """Matrix product like ``numpy.matmul`` (the ``@`` operator).

    2-D operands go to OpenBLAS gemm (pel_dgemm/sgemm/zgemm) on pel's
    threads; 1-D operands are treated as a row or column as numpy does;
    operands with more than two dimensions are stacks of matrices and run
    through :func:`batched_matmul`. C-ordered, Fortran-ordered (transposed)
    and sliced row-major operands are passed without copies. dtypes: float32,
    float64, complex128 (complex64 is computed as complex128); integers are
    converted to float64. ``out`` must be C-contiguous with the result's
    shape and dtype.
    """
    a = a if isinstance(a, np.ndarray) else np.asarray(a)
    b = b if isinstance(b, np.ndarray) else np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: scalar operands are not allowed, use '*' instead")
    numpy_dtype = np.result_type(a.dtype, b.dtype)
    if numpy_dtype.kind in "biu":
        # Integer and boolean products are numpy's own: pel has no integer
        # kernels, and float64 would round sums beyond 2**53 (and turn
        # bool's "or of ands" into counts).
        return np.matmul(a, b) if out is None else np.matmul(a, b, out=out)
    dtype = _arrays.kernel_dtype("matmul", a, b, allowed=_MATMUL_TYPES)
    if numpy_dtype.kind == "c" and (a.ndim > 2 or b.ndim > 2):
        # pel's batched kernels are real: complex stacks are numpy's.
        return np.matmul(a, b) if out is None else np.matmul(a, b, out=out)
    if numpy_dtype == COMPLEX64:
        # pel has no single-complex gemm: computed in complex128, returned
        # as numpy's complex64.
        return _deliver("matmul", matmul(a.astype(COMPLEX128), b.astype(COMPLEX128)), COMPLEX64,
                        out)
    if out is not None and not (isinstance(out, np.ndarray) and out.flags.c_contiguous
                                and out.flags.aligned):
        # A strided out=: computed in a temporary, then assigned.
        return _deliver("matmul", matmul(a, b), dtype, out)
    if a.ndim > 2 and b.ndim == 1:
        # numpy: the vector is a column, removed from the result.
        result = batched_matmul(a, b[:, None])[..., 0]
        return _deliver("matmul", result, dtype, out)
    if a.ndim == 1 and b.ndim > 2:
        result = batched_matmul(a[None, :], b)[..., 0, :]
        return _deliver("matmul", result, dtype, out)
    if a.ndim > 2 or b.ndim > 2:
        return batched_matmul(a, b, out=out)
    squeeze = []
    if a.ndim == 1:
        a = a.reshape(1, -1)
        squeeze.append(0)
    if b.ndim == 1:
        b = b.reshape(-1, 1)
        squeeze.append(1)
    if not squeeze:
        return _matmul_2d("matmul", a, b, dtype, out)
    shape = tuple(s for i, s in enumerate((a.shape[0], b.shape[1])) if i not in squeeze)
    result = _arrays.check_out("matmul", out, shape, dtype)
    _matmul_2d("matmul", a, b, dtype, result.reshape(a.shape[0], b.shape[1]))
    return result[()] if shape == () and out is None else result


def gemm(alpha, a, b, beta=0.0, c=None, trans_a=False, trans_b=False, overwrite_c=False):
    """``alpha * op(a) @ op(b) + beta * c`` with the signature of
    ``scipy.linalg.blas.dgemm``: op transposes when trans_a/trans_b is true
    (conjugate transpose for complex when it is 2). With ``overwrite_c`` and a
    C-contiguous ``c`` of the right dtype the result is written into ``c``;
    otherwise a new array is returned and ``c`` is left unchanged. With
    beta = 0, ``c`` is not read (NaN in it does not propagate), as in BLAS.
    """
    dtype = _arrays.kernel_dtype("gemm", a, b, *(() if c is None else (c,)),
                                 allowed=_MATMUL_TYPES)
    a = _as_2d("gemm", a, dtype, "a")
    b = _as_2d("gemm", b, dtype, "b")
    op_a = _op(a, trans_a)
    op_b = _op(b, trans_b)
    m, n = op_a.shape[0], op_b.shape[1]
    if c is None:
        if beta != 0:
            raise ValueError("gemm: beta is nonzero but c is not given")
        return _matmul_2d("gemm", op_a, op_b, dtype, None, alpha, 0.0)
    c = c if isinstance(c, np.ndarray) else np.asarray(c)
    if c.shape != (m, n):
        raise ValueError(f"gemm: c has shape {c.shape}, op(a) @ op(b) has shape {(m, n)}")
    in_place = (overwrite_c and c.dtype == dtype and c.flags.c_contiguous and c.flags.aligned
                and c.flags.writeable)
    if in_place:
        return _matmul_2d("gemm", op_a, op_b, dtype, c, alpha, beta, c_in=c)
    return _matmul_2d("gemm", op_a, op_b, dtype, None, alpha, beta, c_in=c)


def _op(x, trans):
    if not trans:
        return x
    if trans == 2 and x.dtype.kind == "c":
        return x.conj().T
    return x.T


def _stack(x, dtype, batch_shape, batch):
    """A stack operand as (array, item stride in elements, ld, trans)."""
    mat_shape = x.shape[-2:]
    if x.ndim == 2 or (x.shape[:-2] != batch_shape and math.prod(x.shape[:-2]) == 1):
        mat = x.reshape(mat_shape) if x.ndim > 2 else x
        buf, trans, ld = _matrix(mat, dtype)
        return buf, 0, ld, trans
    if x.shape[:-2] != batch_shape:
        x = np.broadcast_to(x, batch_shape + mat_shape)
    x3 = _arrays.as_input(x, dtype).reshape((batch,) + mat_shape)
    return x3, mat_shape[0] * mat_shape[1], max(1, mat_shape[1]), NO_TRANS


def batched_matmul(a, b, out=None):
    """A stack of independent matrix products, like ``numpy.matmul`` on 3-D
    (or higher) arrays: ``out[i] = a[i] @ b[i]``. Leading dimensions
    broadcast as in numpy; a 2-D operand is shared by every item without
    copying it. Small items (every dimension up to 64) run on pel's
    register-blocked kernels, one item per thread, bit-identical for any
    thread count. dtypes float32 and float64. C-contiguous stacks of the right
    dtype are used without copies.
    """
    a = a if isinstance(a, np.ndarray) else np.asarray(a)
    b = b if isinstance(b, np.ndarray) else np.asarray(b)
    if a.dtype == b.dtype and a.dtype in _REAL_TYPES:
        dtype = a.dtype  # the common case, without numpy's promotion machinery
    else:
        dtype = _arrays.kernel_dtype("batched_matmul", a, b, allowed=_REAL_TYPES)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"batched_matmul: operands must have at least 2 dimensions, got "
                         f"shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"batched_matmul: shapes {a.shape} and {b.shape} are not aligned "
                         f"({a.shape[-1]} != {b.shape[-2]})")
    if a.shape[:-2] == b.shape[:-2]:
        batch_shape = a.shape[:-2]
    else:
        try:
            batch_shape = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        except ValueError:
            raise ValueError(f"batched_matmul: batch dimensions of {a.shape} and {b.shape} do "
                             "not broadcast") from None
    m, k = a.shape[-2:]
    n = b.shape[-1]
    batch = math.prod(batch_shape)
    result = _arrays.check_out("batched_matmul", out, batch_shape + (m, n), dtype)
    a_buf, sa, lda, ta = _stack(a, dtype, batch_shape, batch)
    b_buf, sb, ldb, tb = _stack(b, dtype, batch_shape, batch)
    target = result
    if _arrays.overlaps(result, a, b):
        target = np.empty(result.shape, dtype=dtype)
    if batch and m and n:
        _GEMM_BATCH[dtype](ROW_MAJOR, ta, tb, m, n, k, 1.0, a_buf.ctypes.data, lda, sa,
                           b_buf.ctypes.data, ldb, sb, 0.0, target.ctypes.data, max(1, n), m * n,
                           batch)
    if target is not result:
        result[...] = target
    return result


def transpose(a, out=None, alpha=1.0):
    """``alpha * a.T`` as a new C-contiguous array (cache-blocked, parallel,
    bit-identical for any thread count), like ``numpy.ascontiguousarray(a.T)``
    but on pel's threads. ``a`` is 2-D float32/float64; a row-major view with
    a leading dimension (a slice) is read in place."""
    dtype = _arrays.kernel_dtype("transpose", a, allowed=_REAL_TYPES)
    a = _as_2d("transpose", a, dtype, "a")
    rows, cols = a.shape
    if (out is a and rows == cols and alpha == 1 and a.dtype == dtype and a.flags.aligned
            and a.flags.writeable and a.strides[1] == dtype.itemsize
            and a.strides[0] % dtype.itemsize == 0 and a.strides[0] >= a.strides[1] * cols):
        # In place: pel swaps tiles pairwise (square matrices, any leading
        # dimension), no second buffer.
        _TRANSPOSE_SQUARE[dtype](rows, a.ctypes.data, max(1, a.strides[0] // dtype.itemsize))
        return a
    result = _arrays.check_out("transpose", out, (cols, rows), dtype)
    buf, trans, ld = _matrix(a, dtype)
    target = np.empty_like(result) if _arrays.overlaps(result, a) else result
    if trans == NO_TRANS:
        _OMATCOPY[dtype](ROW_MAJOR, TRANS, rows, cols, _real(alpha), buf.ctypes.data, ld,
                         target.ctypes.data, max(1, rows))
    else:  # a is already the transpose of a row-major buffer: a scaled copy
        _OMATCOPY[dtype](ROW_MAJOR, NO_TRANS, cols, rows, _real(alpha), buf.ctypes.data, ld,
                         target.ctypes.data, max(1, rows))
    if target is not result:
        result[...] = target
    return result


def _vector(x, dtype):
    """A 1-D operand as (array to keep, pointer, increment) in BLAS's
    convention: a negative increment starts from the lowest address."""
    if (type(x) is np.ndarray and x.dtype == dtype and x.ndim == 1 and x.flags.aligned
            and x.strides[0] % dtype.itemsize == 0 and x.strides[0] != 0):
        inc = x.strides[0] // dtype.itemsize
        address = x.ctypes.data
        if inc < 0:
            address += (x.shape[0] - 1) * x.strides[0] if x.shape[0] else 0
        return x, address, inc
    c = _arrays.as_input(x, dtype).reshape(-1)
    return c, c.ctypes.data, 1


_F64 = FLOAT64


def _fast_address(a):
    """The address of a C-contiguous array's data, cheaply when it is
    writeable and non-empty."""
    try:
        return byref(c_char.from_buffer(a))
    except (TypeError, ValueError, BufferError):
        return a.ctypes.data


def dot(x, y):
    """Dot product of two vectors, reproducible: fixed blocking makes the
    bits independent of the thread count (pel_ddot/pel_sdot; float32 is
    accumulated in double and rounded once). Strided and reversed 1-D views
    are read in place. 2-D operands give ``matmul(x, y)`` like numpy.dot.
    """
    # Fast path for two contiguous float64 vectors: the per-call overhead is
    # what matters for short vectors. ctypes' from_buffer gives the address
    # about 4x faster than ndarray.ctypes (it fails for read-only arrays).
    if (type(x) is np.ndarray and type(y) is np.ndarray and x.dtype == _F64
            and y.dtype == _F64 and x.ndim == 1 and y.ndim == 1 and x.flags.aligned
            and y.flags.aligned):
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"dot: lengths {x.shape[0]} and {y.shape[0]} differ")
        if x.flags.c_contiguous and y.flags.c_contiguous:
            result = c_double()
            _DOT[_F64][0](x.shape[0], _fast_address(x), 1, _fast_address(y), 1, result)
            return result.value
    dtype = _arrays.kernel_dtype("dot", x, y, allowed=_REAL_TYPES)
    xa = x if isinstance(x, np.ndarray) else np.asarray(x)
    ya = y if isinstance(y, np.ndarray) else np.asarray(y)
    if xa.ndim == 0 or ya.ndim == 0:
        return xa * ya
    if xa.ndim != 1 or ya.ndim != 1:
        return matmul(xa, ya)
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"dot: lengths {xa.shape[0]} and {ya.shape[0]} differ")
    fn, ctype = _DOT[dtype]
    xk, xp, incx = _vector(xa, dtype)
    yk, yp, incy = _vector(ya, dtype)
    result = ctype()
    fn(xa.shape[0], xp, incx, yp, incy, result)
    return dtype.type(result.value) if dtype == FLOAT32 else result.value


def _solve_args(func, a, b, out):
    """Checks a solve's operands; returns (dtype, A in C order, n, nrhs,
    right-hand-side buffer holding b, that buffer, the result array)."""
    dtype = _arrays.kernel_dtype(func, a, b, allowed=_REAL_TYPES)
    a = _as_2d(func, a, dtype, "a")
    b = b if isinstance(b, np.ndarray) else np.asarray(b)
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError(f"{func}: a must be square, got shape {a.shape}")
    if b.ndim not in (1, 2) or b.shape[0] != n:
        raise ValueError(f"{func}: b must have shape ({n},) or ({n}, nrhs), got {b.shape}")
    # pel factors a copy of A, so a C-ordered A is passed as it is; any other
    # layout costs one n*n copy, small next to the n^3 factorisation.
    a_buf = _arrays.as_input(a, dtype)
    result = _arrays.check_out(func, out, b.shape, dtype)
    # pel overwrites B with X (only on success): B is the result array
    # itself unless that aliases a or b.
    work = np.empty(b.shape, dtype=dtype) if _arrays.overlaps(result, a, b) else result
    nrhs = 1 if b.ndim == 1 else b.shape[1]
    rhs = work.reshape(n, nrhs)
    rhs[...] = b.reshape(n, nrhs)
    return dtype, a_buf, n, nrhs, rhs, work, result


def _finish(work, result):
    if work is not result:
        result[...] = work
    return result


def _solve_single(a, b, out=None):
    """Solves ``a @ x = b`` for square ``a`` by LU with partial pivoting
    (LAPACK gesv through pel), like ``numpy.linalg.solve`` for one system:
    ``b`` of shape (n,) or (n, nrhs). ``a`` is never modified. Raises
    :class:`pel.SingularMatrixError` (a numpy.linalg.LinAlgError) naming the
    zero pivot. float32 and float64."""
    dtype, a_buf, n, nrhs, rhs, work, result = _solve_args("solve", a, b, out)
    _GESV[dtype](ROW_MAJOR, n, nrhs, a_buf.ctypes.data, max(1, n), rhs.ctypes.data, max(1, nrhs))
    return _finish(work, result)


def cholesky_solve(a, b, lower=True, out=None):
    """Solves ``a @ x = b`` for symmetric positive definite ``a`` by
    Cholesky (LAPACK posv through pel), reading only the lower triangle
    (``lower=True``) or the upper one. Raises
    :class:`pel.NotPositiveDefiniteError` (a LinAlgError) when ``a`` is not
    positive definite. float32 and float64."""
    dtype, a_buf, n, nrhs, rhs, work, result = _solve_args("cholesky_solve", a, b, out)
    _POSV[dtype](ROW_MAJOR, LOWER if lower else UPPER, n, nrhs, a_buf.ctypes.data, max(1, n),
                 rhs.ctypes.data, max(1, nrhs))
    return _finish(work, result)


def gemv(alpha, a, x, beta=0.0, y=None, trans=False, overwrite_y=False):
    """``alpha * op(a) @ x + beta * y`` with the signature of
    ``scipy.linalg.blas.dgemv`` (OpenBLAS gemv on pel's threads). ``x`` and
    ``y`` may be strided or reversed 1-D views (read in place). With
    ``overwrite_y`` and a ``y`` of the right dtype the result is written into
    ``y``; otherwise a new array is returned. beta = 0: ``y`` is not read."""
    dtype = _arrays.kernel_dtype("gemv", a, x, *(() if y is None else (y,)),
                                 allowed=_REAL_TYPES)
    a = _as_2d("gemv", a, dtype, "a")
    xa = x if isinstance(x, np.ndarray) else np.asarray(x)
    rows, cols = (a.shape[1], a.shape[0]) if trans else a.shape
    if xa.ndim != 1 or xa.shape[0] != cols:
        raise ValueError(f"gemv: x must have shape ({cols},), got {xa.shape}")
    a_buf, ta, lda = _matrix(a, dtype)
    op = (TRANS if ta == NO_TRANS else NO_TRANS) if trans else ta
    # _matrix describes a as op_a(row-major buffer); gemv's trans composes.
    m, n = (a.shape if ta == NO_TRANS else (a.shape[1], a.shape[0]))
    xk, xp, incx = _vector(xa, dtype)
    if y is None:
        if beta != 0:
            raise ValueError("gemv: beta is nonzero but y is not given")
        result = np.empty(rows, dtype=dtype)
    else:
        ya = y if isinstance(y, np.ndarray) else np.asarray(y)
        if ya.shape != (rows,):
            raise ValueError(f"gemv: y must have shape ({rows},), got {ya.shape}")
        in_place = (overwrite_y and isinstance(y, np.ndarray) and ya.dtype == dtype
                    and ya.flags.aligned and ya.flags.writeable
                    and not _arrays.overlaps(ya, a, xa))
        result = ya if in_place else np.array(ya, dtype=dtype)
    if rows == 0:
        return result
    rk, rp, incy = _vector(result, dtype)
    if rk is not result:  # not addressable in place: use a contiguous copy
        rk = np.ascontiguousarray(result)
    _GEMV[dtype](ROW_MAJOR, op, m, n, _real(alpha), a_buf.ctypes.data, lda, xp, incx,
                 _real(beta), rp if rk is result else rk.ctypes.data, incy if rk is result else 1)
    if rk is not result:
        result[...] = rk
    return result


def _in_place_vector(func, y, dtype):
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype == dtype
            and y.flags.writeable and y.flags.aligned and y.strides[0] != 0
            and y.strides[0] % dtype.itemsize == 0):
        raise TypeError(f"{func}: the updated vector must be a writeable 1-D {dtype} ndarray "
                        "(updates happen in place, so it cannot be converted)")
    return _vector(y, dtype)


def axpy(a, x, y):
    """``y += a * x`` in place (pel_daxpy/saxpy; elementwise, bit-identical for
    any thread count) and returns ``y``. ``y`` must be a writeable 1-D
    float32/float64 array (strided views are fine); ``x`` is converted to
    its dtype when that loses nothing."""
    ya = y
    if not isinstance(ya, np.ndarray) or ya.dtype not in _REAL_TYPES:
        raise TypeError("axpy: y must be a float32 or float64 ndarray")
    dtype = ya.dtype
    xa = x if isinstance(x, np.ndarray) else np.asarray(x)
    if not np.can_cast(xa.dtype, dtype, "safe"):
        raise TypeError(f"axpy: {xa.dtype} x with {dtype} y would lose precision")
    if xa.shape != ya.shape:
        raise ValueError(f"axpy: x has shape {xa.shape}, y {ya.shape}")
    yk, yp, incy = _in_place_vector("axpy", ya, dtype)
    if _arrays.overlaps(ya, xa) and not (xa is ya):
        xa = xa.copy()
    xk, xp, incx = _vector(xa, dtype)
    _AXPY[dtype](ya.shape[0], _real(a), xp, incx, yp, incy)
    return y


def scal(alpha, x):
    """``x *= alpha`` in place (pel_dscal/sscal) and returns ``x``; IEEE
    multiplication (alpha = 0 turns NaN and Inf into NaN)."""
    if not isinstance(x, np.ndarray) or x.dtype not in _REAL_TYPES:
        raise TypeError("scal: x must be a float32 or float64 ndarray")
    xk, xp, incx = _in_place_vector("scal", x, x.dtype)
    _SCAL[x.dtype](x.shape[0], _real(alpha), xp, incx)
    return x


# ------------------------------------------------- numpy.linalg for stacks

# Prototypes of the batched LAPACK entry points (include/pel/matrix.h), one
# per family; the precisions share them.
_GESV_ARGS = [c_int, _sz, _sz, _sz, _p, _sz, _sz, _p, _sz, _sz, _p, _sz, _sz]
_INV_ARGS = [c_int, _sz, _sz, _p, _sz, _sz, _p, _sz, _sz]
_DET_ARGS = [c_int, _sz, _sz, _p, _sz, _sz, _p, _p, _p]
_CHOL_ARGS = [c_int, c_int, _sz, _sz, _p, _sz, _sz, _p, _sz, _sz]
_EIGH_ARGS = [c_int, c_int, _sz, _sz, _p, _sz, _sz, _p, _sz, _p, _sz, _sz]
_SVD_ARGS = [c_int, _sz, _sz, _sz, _p, _sz, _sz, _p, _sz, _p, _sz, _sz, _p, _sz, _sz, c_int]


def _batch_family(name, argtypes, letters=("d", "s")):
    dtypes = {"d": FLOAT64, "s": FLOAT32, "z": COMPLEX128}
    return {dtypes[c]: _decl(f"pel_{c}{name}_batch", argtypes) for c in letters}


_GESV_BATCH = _batch_family("gesv", _GESV_ARGS, ("d", "s", "z"))
_INV_BATCH = _batch_family("inv", _INV_ARGS)
_DET_BATCH = _batch_family("det", _DET_ARGS)
_CHOL_BATCH = _batch_family("cholesky", _CHOL_ARGS)
_EIGH_BATCH = _batch_family("eigh", _EIGH_ARGS)
_SVD_BATCH = _batch_family("svd", _SVD_ARGS)
_LINALG_ALL = (FLOAT32, FLOAT64, COMPLEX64, COMPLEX128)


def _linalg_dtype(func, *arrays):
    """numpy.linalg's computing dtype: float32/complex64 stay single,
    integers and bool become float64, float16 float32."""
    dtype = _arrays.kernel_dtype(func, *arrays, allowed=_LINALG_ALL)
    return dtype


class ShapeError(np.linalg.LinAlgError, ValueError):
    """A matrix argument of the wrong shape for a numpy.linalg function:
    numpy raises LinAlgError there; pel's earlier releases raised
    ValueError, so this is both."""


def _square_stack(func, a, name="a"):
    a = a if isinstance(a, np.ndarray) else np.asarray(a)
    if a.ndim < 2:
        raise ShapeError(f"{func}: {a.ndim}-dimensional array given. Array must be at "
                         "least two-dimensional")
    if a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{func}: Last 2 dimensions of the array must be square "
                                    f"(got {a.shape})")
    return a


def _stack_operand(x, dtype, batch_shape):
    """A stacked operand as (C-contiguous array, item stride): a single item
    (no batch dimensions, or all of size 1) is shared with stride 0 instead
    of being copied for every item."""
    item = x.shape[-2:]
    if x.shape[:-2] != batch_shape and math.prod(x.shape[:-2]) == 1:
        return _arrays.as_input(x.reshape(item), dtype), 0
    if x.shape[:-2] != batch_shape:
        x = np.broadcast_to(x, batch_shape + item)
    return _arrays.as_input(x, dtype), item[0] * item[1]


def _batch_shape(func, *shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"{func}: the stack dimensions {shapes} do not broadcast") from None


def solve(a, b, out=None):
    """Solves ``a @ x = b`` like ``numpy.linalg.solve``, for one system or a
    stack of them: ``a`` (..., n, n), ``b`` (..., n) when it has one
    dimension less than ``a``, else (..., n, k); stack dimensions broadcast.
    The stack runs in parallel on pel's threads, one LAPACK call per item
    (pel_[dsz]gesv_batch); ``a`` and ``b`` are never modified. dtypes:
    float32, float64, complex64, complex128 (complex64 computed in
    complex128 and returned as complex64). Raises
    :class:`pel.SingularMatrixError` (a numpy.linalg.LinAlgError) naming
    the first singular item."""
    dtype = _linalg_dtype("solve", a, b)
    a = _square_stack("solve", a)
    b = b if isinstance(b, np.ndarray) else np.asarray(b)
    if a.ndim == 2 and b.ndim in (1, 2) and dtype in _REAL_TYPES and \
            (b.ndim == 1 or b.shape[0] == a.shape[0]) and \
            (out is None or (isinstance(out, np.ndarray) and out.flags.c_contiguous)):
        return _solve_single(a, b, out)
    n = a.shape[-1]
    vector = b.ndim == a.ndim - 1
    bm = b[..., None] if vector else b
    if bm.ndim < 2 or bm.shape[-2] != n:
        raise ValueError(f"solve: b has shape {b.shape}, a has shape {a.shape}")
    k = bm.shape[-1]
    batch_shape = _batch_shape("solve", a.shape[:-2], bm.shape[:-2])
    batch = math.prod(batch_shape)
    kernel = COMPLEX128 if dtype == COMPLEX64 else dtype
    a_buf, sa = _stack_operand(a, kernel, batch_shape)
    b_buf, sb = _stack_operand(bm, kernel, batch_shape)
    x = np.empty(batch_shape + (n, k), dtype=kernel)
    if batch and n and k:
        _GESV_BATCH[kernel](ROW_MAJOR, n, k, batch, a_buf.ctypes.data, max(1, n), sa,
                            b_buf.ctypes.data, max(1, k), sb, x.ctypes.data, max(1, k), n * k)
    result = x[..., 0] if vector else x
    return _deliver("solve", result, dtype, out)


def _deliver(func, result, dtype, out):
    """The result in numpy's dtype, written to out= when given (any
    strides: out[...] = result)."""
    if result.dtype != dtype:
        result = result.astype(dtype)
    if out is None:
        return result
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{func}: out must be a numpy.ndarray, not {type(out).__name__}")
    if out.shape != result.shape:
        raise ValueError(f"{func}: out has shape {out.shape}, the result has shape {result.shape}")
    if out.dtype != dtype:
        raise TypeError(f"{func}: out has dtype {out.dtype}, the result is {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{func}: out is read-only")
    out[...] = result
    return out


def inv(a):
    """The inverse of a matrix or of each matrix of a stack (..., n, n),
    like ``numpy.linalg.inv``, in parallel over the stack
    (pel_[ds]inv_batch; complex through pel_zgesv_batch on the identity).
    Raises :class:`pel.SingularMatrixError` naming the first singular item."""
    dtype = _linalg_dtype("inv", a)
    a = _square_stack("inv", a)
    n = a.shape[-1]
    batch_shape = a.shape[:-2]
    batch = math.prod(batch_shape)
    if dtype.kind == "c":
        eye = np.eye(n, dtype=COMPLEX128)
        a_buf = _arrays.as_input(a, COMPLEX128)
        x = np.empty(a.shape, dtype=COMPLEX128)
        if batch and n:
            _GESV_BATCH[COMPLEX128](ROW_MAJOR, n, n, batch, a_buf.ctypes.data, n, n * n,
                                    eye.ctypes.data, n, 0, x.ctypes.data, n, n * n)
        return x.astype(dtype, copy=False)
    a_buf = _arrays.as_input(a, dtype)
    x = np.empty(a.shape, dtype=dtype)
    if batch and n:
        _INV_BATCH[dtype](ROW_MAJOR, n, batch, a_buf.ctypes.data, n, n * n, x.ctypes.data, n,
                          n * n)
    return x


def _det_call(func, a, want):
    dtype = _linalg_dtype(func, a)
    a = _square_stack(func, a)
    if dtype.kind == "c":
        return None, dtype, a
    n = a.shape[-1]
    batch_shape = a.shape[:-2]
    batch = math.prod(batch_shape)
    a_buf = _arrays.as_input(a, dtype)
    outs = {k: np.empty(batch_shape, dtype=dtype) for k in want}
    if batch:
        ptr = {k: outs[k].ctypes.data if k in outs else None for k in ("det", "sign", "logabsdet")}
        _DET_BATCH[dtype](ROW_MAJOR, n, batch, a_buf.ctypes.data if a_buf.size else None,
                          max(1, n), n * n, ptr["det"], ptr["sign"], ptr["logabsdet"])
    return outs, dtype, a


def det(a):
    """Determinant of a matrix or of each matrix of a stack, like
    ``numpy.linalg.det`` (LU per item in parallel, pel_[ds]det_batch).
    Complex input is handed to numpy.linalg.det."""
    outs, dtype, a = _det_call("det", a, ("det",))
    if outs is None:
        return np.linalg.det(a)
    return outs["det"][()] if outs["det"].ndim == 0 else outs["det"]


def slogdet(a):
    """``(sign, logabsdet)`` of a matrix or stack, like
    ``numpy.linalg.slogdet`` (pel_[ds]det_batch). Complex input is handed
    to numpy."""
    outs, dtype, a = _det_call("slogdet", a, ("sign", "logabsdet"))
    if outs is None:
        return np.linalg.slogdet(a)
    sign, logabs = outs["sign"], outs["logabsdet"]
    return (sign[()], logabs[()]) if sign.ndim == 0 else (sign, logabs)


def cholesky(a):
    """The lower Cholesky factor L (a = L @ L.T) of a symmetric positive
    definite matrix or of each matrix of a stack, like
    ``numpy.linalg.cholesky`` (reads the lower triangle; pel_[ds]cholesky_batch
    in parallel). Raises :class:`pel.NotPositiveDefiniteError` (a LinAlgError)
    naming the first failing item. Complex input is handed to numpy."""
    dtype = _linalg_dtype("cholesky", a)
    a = _square_stack("cholesky", a)
    if dtype.kind == "c":
        return np.linalg.cholesky(a)
    n = a.shape[-1]
    batch = math.prod(a.shape[:-2])
    a_buf = _arrays.as_input(a, dtype)
    result = np.empty(a.shape, dtype=dtype)
    if batch and n:
        _CHOL_BATCH[dtype](ROW_MAJOR, LOWER, n, batch, a_buf.ctypes.data, n, n * n,
                           result.ctypes.data, n, n * n)
    return result


def _uplo(func, UPLO):
    if UPLO not in ("L", "U", "l", "u"):
        raise ValueError(f"{func}: UPLO argument must be 'L' or 'U', not {UPLO!r}")
    return LOWER if UPLO in ("L", "l") else UPPER


def _eigh_call(func, a, UPLO, vectors):
    dtype = _linalg_dtype(func, a)
    a = _square_stack(func, a)
    uplo = _uplo(func, UPLO)
    if dtype.kind == "c":
        return None, a
    n = a.shape[-1]
    batch_shape = a.shape[:-2]
    batch = math.prod(batch_shape)
    a_buf = _arrays.as_input(a, dtype)
    w = np.empty(batch_shape + (n,), dtype=dtype)
    v = np.empty(a.shape, dtype=dtype) if vectors else None
    if batch and n:
        _EIGH_BATCH[dtype](ROW_MAJOR, uplo, n, batch, a_buf.ctypes.data, n, n * n, w.ctypes.data, n,
                           v.ctypes.data if vectors else None, n, n * n)
    return (w, v), a


def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric
    matrix or of each matrix of a stack, like ``numpy.linalg.eigh``
    (LAPACK syevd per item, in parallel: pel_[ds]eigh_batch). Returns
    ``(w, v)``. Complex (Hermitian) input is handed to numpy."""
    result, a = _eigh_call("eigh", a, UPLO, True)
    if result is None:
        return np.linalg.eigh(a, UPLO)
    return result


def eigvalsh(a, UPLO="L"):
    """Eigenvalues of a symmetric matrix or stack, like
    ``numpy.linalg.eigvalsh``."""
    result, a = _eigh_call("eigvalsh", a, UPLO, False)
    if result is None:
        return np.linalg.eigvalsh(a, UPLO)
    return result[0]


def _svd_call(func, a, full_matrices, compute_uv):
    dtype = _linalg_dtype(func, a)
    a = a if isinstance(a, np.ndarray) else np.asarray(a)
    if a.ndim < 2:
        raise np.linalg.LinAlgError(f"{func}: {a.ndim}-dimensional array given. Array must be at "
                                    "least two-dimensional")
    if dtype.kind == "c":
        return None, a
    m, n = a.shape[-2:]
    k = min(m, n)
    batch_shape = a.shape[:-2]
    batch = math.prod(batch_shape)
    a_buf = _arrays.as_input(a, dtype)
    s = np.empty(batch_shape + (k,), dtype=dtype)
    if compute_uv:
        uc, vr = (m, n) if full_matrices else (k, k)
        u = np.empty(batch_shape + (m, uc), dtype=dtype)
        vt = np.empty(batch_shape + (vr, n), dtype=dtype)
        if k == 0:  # numpy: identities of the full shapes
            u[...] = np.eye(m, uc, dtype=dtype)
            vt[...] = np.eye(vr, n, dtype=dtype)
    if batch and k:
        _SVD_BATCH[dtype](ROW_MAJOR, m, n, batch, a_buf.ctypes.data, n, m * n, s.ctypes.data, k,
                          u.ctypes.data if compute_uv else None, max(1, u.shape[-1]) if compute_uv
                          else 1, m * u.shape[-1] if compute_uv else 0,
                          vt.ctypes.data if compute_uv else None, n if compute_uv else 1,
                          vt.shape[-2] * n if compute_uv else 0, 1 if full_matrices else 0)
    return ((u, s, vt) if compute_uv else s), a


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition of a matrix or of each matrix of a
    stack, like ``numpy.linalg.svd``: ``(u, s, vh)`` (or ``s`` with
    ``compute_uv=False``), LAPACK gesdd per item in parallel
    (pel_[ds]svd_batch). Complex input and ``hermitian=True`` are handed to
    numpy."""
    if hermitian:
        return np.linalg.svd(a, full_matrices, compute_uv, hermitian)
    result, a = _svd_call("svd", a, full_matrices, compute_uv)
    if result is None:
        return np.linalg.svd(a, full_matrices, compute_uv)
    return result


def lstsq(a, b, rcond=None):
    """Least-squares solution of ``a @ x = b``, like ``numpy.linalg.lstsq``:
    ``(x, residuals, rank, s)`` from the SVD of ``a`` (pel_[ds]svd_batch),
    singular values below ``rcond * max(s)`` treated as zero (default
    rcond: eps * max(m, n), numpy's). For 2-D ``a`` the results are numpy's
    (residuals empty unless rank == n < m); pel also takes stacks
    (..., m, n) with b (..., m) or (..., m, k), where residuals is always
    the (..., k) array of squared residual norms and rank an array."""
    dtype = _linalg_dtype("lstsq", a, b)
    a = a if isinstance(a, np.ndarray) else np.asarray(a)
    b = b if isinstance(b, np.ndarray) else np.asarray(b)
    if dtype.kind == "c":
        if a.ndim == 2:
            return np.linalg.lstsq(a, b, rcond=rcond)
        raise TypeError("lstsq: complex stacks are not supported by pel")
    if a.ndim < 2:
        raise np.linalg.LinAlgError(f"lstsq: {a.ndim}-dimensional array given")
    m, n = a.shape[-2:]
    vector = b.ndim == a.ndim - 1
    bm = b[..., None] if vector else b
    if bm.shape[-2] != m:
        raise np.linalg.LinAlgError(f"lstsq: Incompatible dimensions: a {a.shape}, b {b.shape}")
    u, s, vt = svd(a.astype(dtype, copy=False), full_matrices=False)
    if rcond is None:
        rcond = np.finfo(dtype).eps * max(m, n)
    cutoff = rcond * (s.max(axis=-1, keepdims=True) if s.shape[-1] else 0)
    keep = s > cutoff
    inv_s = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(dtype)
    ub = np.swapaxes(u, -1, -2) @ bm.astype(dtype, copy=False)
    x = np.swapaxes(vt, -1, -2) @ (inv_s[..., None] * ub)
    rank = keep.sum(axis=-1)
    resid = bm - a.astype(dtype, copy=False) @ x
    sq = np.sum(np.abs(resid) ** 2, axis=-2)
    if vector:
        x = x[..., 0]
    if a.ndim == 2:
        rank = int(rank)
        residuals = sq.astype(dtype) if (rank == n and m > n) else np.empty((0,), dtype=dtype)
        if vector and residuals.size:
            residuals = residuals.reshape(1)
        return x, residuals, rank, s
    return x, sq.astype(dtype), rank, s


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector and matrix norms like ``numpy.linalg.norm(x, ord, axis,
    keepdims)``. The 2-norm of a whole real vector or the Frobenius norm of
    a whole matrix (axis=None) is pel's reproducible, overflow-safe
    pel_[ds]nrm2 (bit-identical for any thread count); ``ord=1`` on a whole
    vector pel_[ds]asum. Matrix norms ``ord`` = 2, -2, 'nuc' (over the last
    two axes or ``axis=(i, j)``, stacks included) take singular values from
    pel's batched SVD, in parallel; the other norms (elementwise sums and
    maxima) are numpy's expressions."""
    xa = x if isinstance(x, np.ndarray) else np.asarray(x)
    if xa.dtype.kind in "biuf" and axis is None and (
            (ord is None and xa.ndim in (1, 2)) or (ord == 2 and xa.ndim == 1)
            or (ord == "fro" and xa.ndim == 2) or (ord == 1 and xa.ndim == 1)):
        value = _pel_norm(xa, 1 if (ord == 1) else None)
        return np.full((1,) * xa.ndim, value)[()] if keepdims else value
    if axis is None:
        if ord is not None and xa.ndim not in (1, 2):
            raise ValueError("norm: Improper number of dimensions to norm.")
        axes = tuple(range(xa.ndim))
    else:
        axes = tuple(_args.axes("norm", "axis", axis, xa.ndim))
    if len(axes) == 2 and ord in (2, -2, "nuc"):
        if axes[0] == axes[1]:
            raise ValueError("norm: Duplicate axes given.")
        moved = np.moveaxis(xa, axes, (-2, -1))
        s = svd(moved, compute_uv=False)
        value = s.max(axis=-1) if ord == 2 else s.min(axis=-1) if ord == -2 else s.sum(axis=-1)
        if keepdims:
            for a in sorted(axes):
                value = np.expand_dims(value, a)
        return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value
    return np.linalg.norm(xa, ord, axis, keepdims)


def _pel_norm(xa, ord):
    dtype = _arrays.kernel_dtype("norm", xa, allowed=_REAL_TYPES)
    fn, ctype = (_ASUM if ord == 1 else _NRM2)[dtype]
    if xa.ndim == 1:
        keep, address, inc = _vector(xa, dtype)
        n = xa.shape[0]
    else:
        keep = _arrays.as_input(xa, dtype)
        address, inc, n = keep.ctypes.data, 1, keep.size
    result = ctype()
    fn(n, address, inc, result)
    return dtype.type(result.value) if dtype == FLOAT32 else result.value
