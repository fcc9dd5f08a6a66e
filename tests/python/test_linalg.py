"""Dense matrix wrappers against numpy: matmul/gemm, batched_matmul,
transpose, dot, norm, solve, cholesky_solve."""


import numpy as np
import pytest

import pel
from conftest import run_in_threads


# Tolerances: OpenBLAS and pel's kernels sum k products in a different order
# than numpy's BLAS, so results agree to a few ulps times k (relative to the
# magnitudes |a||b|); these bounds have a margin of 10x or more.
TOL = {np.float32: 2e-5, np.float64: 1e-12, np.complex128: 1e-12}


def close(got, want, dtype):
    scale = max(1.0, float(np.max(np.abs(want))) if np.size(want) else 1.0)
    assert got.shape == np.shape(want)
    assert np.max(np.abs(got - want), initial=0.0) <= TOL[dtype] * scale * 10


def rand(rng, shape, dtype):
    x = rng.uniform(-1, 1, shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.uniform(-1, 1, shape)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (7, 5, 3), (64, 33, 17), (0, 3, 4), (3, 0, 4)])
def test_matmul(rng, dtype, m, k, n):
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    got = pel.matmul(a, b)
    assert got.dtype == dtype
    close(got, a @ b, dtype)


def test_matmul_layouts_without_copies(rng):
    a = rng.uniform(-1, 1, (20, 30))
    b = rng.uniform(-1, 1, (30, 25))
    want = a @ b
    close(pel.matmul(np.asfortranarray(a), b), want, np.float64)          # TRANS path
    close(pel.matmul(a, np.asfortranarray(b)), want, np.float64)
    big = rng.uniform(-1, 1, (40, 50))
    view = big[5:25, 10:40]                                                  # ld = 50
    close(pel.matmul(view, b), view @ b, np.float64)
    close(pel.matmul(view.T[:, :20], a), view.T[:, :20] @ a, np.float64)
    close(pel.matmul(a[::2], b), a[::2] @ b, np.float64)                     # copied
    close(pel.matmul(a[:, ::-1], b), a[:, ::-1] @ b, np.float64)
    buf = np.zeros(20 * 30 * 8 + 1, dtype=np.uint8)[1:].view(np.float64).reshape(20, 30)
    buf[...] = a
    assert not buf.flags.aligned
    close(pel.matmul(buf, b), want, np.float64)


def test_matmul_vectors_and_promotion(rng):
    a = rng.uniform(-1, 1, (6, 4))
    v = rng.uniform(-1, 1, 4)
    w = rng.uniform(-1, 1, 6)
    close(pel.matmul(a, v), a @ v, np.float64)
    close(pel.matmul(w, a), w @ a, np.float64)
    assert abs(pel.matmul(v, v) - v @ v) < 1e-12
    assert pel.matmul(a.astype(np.float32), a.T).dtype == np.float64
    assert pel.matmul(np.arange(6).reshape(2, 3), np.ones((3, 2))).dtype == np.float64
    c64 = (a + 1j).astype(np.complex64)
    got = pel.matmul(c64, c64.T)  # computed in complex128, returned as numpy's complex64
    assert got.dtype == np.complex64
    close(got, c64 @ c64.T, np.float32)
    with pytest.raises(ValueError, match="not aligned"):
        pel.matmul(a, a)
    with pytest.raises(ValueError, match="scalar"):
        pel.matmul(a, 2.0)
    with pytest.raises(TypeError, match="object"):
        pel.matmul(np.array([[None]]), a)


def test_matmul_out(rng):
    a, b = rng.uniform(-1, 1, (5, 6)), rng.uniform(-1, 1, (6, 7))
    out = np.full((5, 7), np.nan)
    assert pel.matmul(a, b, out=out) is out
    close(out, a @ b, np.float64)
    with pytest.raises(ValueError, match="shape"):
        pel.matmul(a, b, out=np.empty((7, 5)))
    with pytest.raises(TypeError, match="dtype"):
        pel.matmul(a, b, out=np.empty((5, 7), dtype=np.float32))
    strided = np.full((5, 7), np.nan, order="F")  # a strided out= is filled in place
    assert pel.matmul(a, b, out=strided) is strided
    close(strided, a @ b, np.float64)
    sq = rng.uniform(-1, 1, (6, 6))
    want = sq @ sq
    pel.matmul(sq, sq, out=sq)                     # overlap: computed via a temporary
    close(sq, want, np.float64)


def test_gemm(rng):
    a, b = rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (5, 4))
    c = rng.uniform(-1, 1, (3, 5))
    c0 = c.copy()
    got = pel.gemm(2.0, a, b, beta=0.5, c=c, trans_a=True, trans_b=True)
    close(got, 2.0 * a.T @ b.T + 0.5 * c0, np.float64)
    assert np.array_equal(c, c0)
    res = pel.gemm(2.0, a, b, beta=0.5, c=c, trans_a=True, trans_b=True, overwrite_c=True)
    assert res is c
    close(c, 2.0 * a.T @ b.T + 0.5 * c0, np.float64)
    nan = np.full((3, 5), np.nan)
    assert np.isfinite(pel.gemm(1.0, a.T, b.T, beta=0.0, c=nan)).all()   # beta=0: c not read
    z = rand(rng, (3, 3), np.complex128)
    close(pel.gemm(1j, z, z, trans_a=2), 1j * z.conj().T @ z, np.complex128)
    with pytest.raises(ValueError, match="c is not given"):
        pel.gemm(1.0, a, a.T, beta=1.0)
    with pytest.raises(ValueError, match="c has shape"):
        pel.gemm(1.0, a, a.T, beta=1.0, c=np.ones((2, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(8, 8, 8), (16, 16, 16), (3, 5, 2), (70, 9, 4)])
def test_batched_matmul(rng, dtype, m, k, n, threads):
    a, b = rand(rng, (37, m, k), dtype), rand(rng, (37, k, n), dtype)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    pel.set_min_work_per_thread(1)
    results = []
    for t in (1, 3):
        pel.set_num_threads(t)
        got = pel.batched_matmul(a, b)
        assert got.dtype == dtype
        close(got, want, dtype)
        results.append(got)
    if max(m, n, k) <= 64:
        assert np.array_equal(results[0], results[1])   # pel's kernels: same bits


def test_batched_matmul_broadcast_and_views(rng):
    a = rng.uniform(-1, 1, (2, 3, 4, 5))
    b = rng.uniform(-1, 1, (5, 6))
    close(pel.batched_matmul(a, b), np.matmul(a, b), np.float64)
    close(pel.matmul(a, b), np.matmul(a, b), np.float64)
    c = rng.uniform(-1, 1, (1, 3, 5, 2))
    close(pel.batched_matmul(a, c), np.matmul(a, c), np.float64)
    bt = b.T[None, :, :4]                                        # shared, transposed view
    close(pel.batched_matmul(bt, a[0]), np.matmul(bt, a[0]), np.float64)
    at = np.swapaxes(rng.uniform(-1, 1, (3, 5, 4)), 1, 2)       # non-contiguous stack: copied
    close(pel.batched_matmul(at, b), np.matmul(at, b), np.float64)
    out = np.empty((2, 3, 4, 6))
    assert pel.batched_matmul(a, b, out=out) is out
    close(out, np.matmul(a, b), np.float64)
    with pytest.raises(ValueError, match="broadcast"):
        pel.batched_matmul(np.ones((2, 3, 3)), np.ones((4, 3, 3)))
    with pytest.raises(ValueError, match="not aligned"):
        pel.batched_matmul(np.ones((2, 3, 3)), np.ones((2, 4, 3)))
    with pytest.raises(TypeError, match="complex"):
        pel.batched_matmul(np.ones((2, 3, 3), complex), np.ones((2, 3, 3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transpose(rng, dtype):
    a = rand(rng, (67, 130), dtype)
    t = pel.transpose(a)
    assert t.flags.c_contiguous and np.array_equal(t, a.T)
    assert np.array_equal(pel.transpose(a[3:40, 5:77]), a[3:40, 5:77].T)
    assert np.array_equal(pel.transpose(a.T), a)
    assert np.array_equal(pel.transpose(a, alpha=2.0), 2 * a.T)
    out = np.empty((130, 67), dtype=dtype)
    assert pel.transpose(a, out=out) is out and np.array_equal(out, a.T)
    with pytest.raises(ValueError, match="2-D"):
        pel.transpose(np.ones(3))


def test_dot_and_norm(rng, threads):
    x, y = rng.uniform(-1, 1, 10001), rng.uniform(-1, 1, 10001)
    want = float(np.dot(x.astype(np.longdouble), y))
    bound = (512 + 14) * np.finfo(float).eps * np.abs(x * y).sum()
    pel.set_min_work_per_thread(1)
    bits = set()
    for t in (1, 2, 4):
        pel.set_num_threads(t)
        bits.add(pel.dot(x, y))
    assert len(bits) == 1 and abs(bits.pop() - want) <= bound
    assert abs(pel.dot(x[::3], y[::3]) - np.dot(x[::3], y[::3])) <= bound
    assert abs(pel.dot(x[::-1], y) - np.dot(x[::-1], y)) <= bound
    assert abs(pel.dot(x[::-2], y[::-2]) - np.dot(x[::-2], y[::-2])) <= bound
    assert abs(pel.dot([1, 2], [3, 4]) - 11.0) == 0
    f = x.astype(np.float32)
    assert pel.dot(f, f).dtype == np.float32
    assert abs(pel.dot(f, f) - np.dot(f.astype(float), f)) <= 1e-6 * np.dot(f, f)
    a = rng.uniform(-1, 1, (3, 4))
    close(pel.dot(a, a.T), a @ a.T, np.float64)
    with pytest.raises(ValueError, match="lengths"):
        pel.dot(x, y[:5])
    with pytest.raises(TypeError, match="complex"):
        pel.dot(x + 1j, y)
    assert abs(pel.norm(x) - np.linalg.norm(x)) <= 1e-13 * np.linalg.norm(x)
    assert abs(pel.norm(x, 1) - np.abs(x).sum()) <= 1e-12 * np.abs(x).sum()
    assert abs(pel.norm(a, "fro") - np.linalg.norm(a)) <= 1e-14
    assert abs(pel.norm(a) - np.linalg.norm(a)) <= 1e-14
    assert pel.norm(np.array([1e300, 1e300])) == pytest.approx(np.sqrt(2) * 1e300)
    assert pel.norm(np.array([3e-300, 4e-300])) == pytest.approx(5e-300)
    assert abs(pel.norm(x[::-7]) - np.linalg.norm(x[::-7])) <= 1e-13
    # matrix 2-norm: the largest singular value (pel's batched SVD)
    assert abs(pel.norm(a, 2) - np.linalg.norm(a, 2)) <= 1e-13 * np.linalg.norm(a, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_solve(rng, dtype):
    n = 40
    a = (rng.uniform(-1, 1, (n, n)) + n * np.eye(n)).astype(dtype)
    b = rand(rng, (n, 3), dtype)
    a0, b0 = a.copy(), b.copy()
    tol = 1e-4 if dtype == np.float32 else 1e-12
    x = pel.solve(a, b)
    assert x.dtype == dtype and np.allclose(x, np.linalg.solve(a, b), atol=tol, rtol=tol)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)
    assert np.allclose(pel.solve(a, b[:, 0]), np.linalg.solve(a, b[:, 0]), atol=tol)
    assert np.allclose(pel.solve(np.asfortranarray(a), b), np.linalg.solve(a, b), atol=tol)
    spd = (a @ a.T + n * np.eye(n)).astype(dtype)
    x = pel.cholesky_solve(spd, b)
    assert np.allclose(x, np.linalg.solve(spd, b), atol=tol, rtol=tol)
    upper_only = np.triu(spd)
    assert np.allclose(pel.cholesky_solve(upper_only, b, lower=False), x, atol=tol)
    out = np.empty_like(b)
    assert pel.solve(a, b, out=out) is out
    bb = b.copy()
    pel.solve(a, bb, out=bb)                      # out aliases b
    assert np.allclose(bb, np.linalg.solve(a, b), atol=tol)


def test_solve_errors():
    sing = np.array([[1.0, 2.0], [2.0, 4.0]])
    b = np.array([1.0, 2.0])
    out = np.full(2, 7.0)
    with pytest.raises(pel.SingularMatrixError, match="^pel_dgesv: ") as info:
        pel.solve(sing, b, out=out)
    assert isinstance(info.value, np.linalg.LinAlgError)
    with pytest.raises(pel.NotPositiveDefiniteError, match="^pel_dposv: "):
        pel.cholesky_solve(np.array([[1.0, 2.0], [2.0, 1.0]]), b)
    with pytest.raises(np.linalg.LinAlgError):
        pel.cholesky_solve(-np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match="square"):
        pel.solve(np.ones((2, 3)), b)
    with pytest.raises(ValueError, match="b must have shape"):
        pel.solve(np.eye(2), np.ones(3))
    # complex systems are solved (pel_zgesv_batch), no longer refused
    np.testing.assert_allclose(pel.solve(np.eye(2) * (1 + 1j), b), b / (1 + 1j))


def test_concurrent_matmul(rng):
    # Python threads run pel concurrently (ctypes releases the GIL): each
    # thread's results must equal the serial ones.
    mats = [rng.uniform(-1, 1, (60, 60)) for _ in range(4)]
    stacks = [rng.uniform(-1, 1, (200, 8, 8)) for _ in range(4)]
    want = [pel.matmul(m, m) for m in mats]
    want_b = [pel.batched_matmul(s, s) for s in stacks]
    def worker(i):
        for _ in range(20):
            assert np.allclose(pel.matmul(mats[i], mats[i]), want[i], rtol=0, atol=1e-12)
            assert np.array_equal(pel.batched_matmul(stacks[i], stacks[i]), want_b[i])
            with pytest.raises(pel.SingularMatrixError, match="pel_dgesv"):
                pel.solve(np.zeros((2, 2)), np.ones(2))
    run_in_threads(worker)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemv_axpy_scal(rng, dtype):
    a = rand(rng, (7, 5), dtype)
    x = rand(rng, 5, dtype)
    z = rand(rng, 7, dtype)
    close(pel.gemv(1.5, a, x), 1.5 * a @ x, dtype)
    close(pel.gemv(1.5, a, z, trans=True), 1.5 * a.T @ z, dtype)
    close(pel.gemv(1.0, np.asfortranarray(a), x), a @ x, dtype)
    close(pel.gemv(1.0, np.asfortranarray(a), z, trans=True), a.T @ z, dtype)
    close(pel.gemv(2.0, a, x[::-1], beta=0.5, y=z), 2 * a @ x[::-1] + 0.5 * z, dtype)
    y = z.copy()
    assert pel.gemv(1.0, a, x, beta=1.0, y=y, overwrite_y=True) is y
    close(y, a @ x + z, dtype)
    big = rand(rng, 14, dtype)
    before = big.copy()
    pel.gemv(1.0, a, x, beta=1.0, y=big[::2], overwrite_y=True)  # strided y in place
    close(big[::2], a @ x + before[::2], dtype)
    assert np.array_equal(big[1::2], before[1::2])
    with pytest.raises(ValueError, match="x must have shape"):
        pel.gemv(1.0, a, z)
    with pytest.raises(ValueError, match="y is not given"):
        pel.gemv(1.0, a, x, beta=1.0)
    y = z.copy()
    assert pel.axpy(2.0, z, y) is y
    close(y, 3 * z, dtype)
    w = rand(rng, 20, dtype)
    w0 = w.copy()
    pel.axpy(-1.0, w0[::-2], w[::2])                              # strided, reversed
    close(w[::2], w0[::2] - w0[::-2], dtype)
    assert np.array_equal(w[1::2], w0[1::2])
    s = z.copy()
    assert pel.scal(0.5, s) is s and np.array_equal(s, (z * dtype(0.5)).astype(dtype))
    with pytest.raises(TypeError, match="in place"):
        pel.scal(2.0, z.reshape(7, 1))
    with pytest.raises(TypeError, match="lose precision"):
        pel.axpy(1.0, np.ones(7), np.ones(7, np.float32))
    with pytest.raises(ValueError, match="shape"):
        pel.axpy(1.0, np.ones(3), np.ones(4))


def test_transpose_in_place(rng):
    a = rng.uniform(-1, 1, (37, 37))
    want = a.T.copy()
    assert pel.transpose(a, out=a) is a and np.array_equal(a, want)
    big = rng.uniform(-1, 1, (20, 30))
    block = big[2:18, 5:21]                                       # square view, ld 30
    want = block.T.copy()
    rest = big.copy()
    pel.transpose(block, out=block)
    assert np.array_equal(block, want)
    rest[2:18, 5:21] = want
    assert np.array_equal(big, rest)                               # nothing else touched
