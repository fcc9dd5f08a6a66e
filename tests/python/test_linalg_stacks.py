"""numpy.linalg for stacks: pel.solve, inv, det, slogdet, cholesky, eigh,
eigvalsh, svd, lstsq and norm against numpy.linalg, plus matmul of a stack
with a vector, numpy's result dtypes for int/bool/complex64 matmul and a
strided out=.

Tolerances are numpy's own (numpy/linalg/tests/test_linalg.py compares with
assert_almost_equal to 12 decimals in double and 6 in single precision,
on matrices of this kind); the matrices are made well conditioned
(random entries plus n on the diagonal) so both libraries' LAPACK results
are that close."""

import numpy as np
import pytest

import pel

DECIMAL = {np.float64: 12, np.complex128: 12, np.float32: 5, np.complex64: 5}


def almost(got, want, dtype):
    np.testing.assert_almost_equal(got, want, decimal=DECIMAL[dtype])


def stack(rng, shape, dtype, spd=False):
    n = shape[-1]
    a = rng.uniform(-1, 1, shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.uniform(-1, 1, shape)
    a = a + n * np.eye(n)
    if spd:
        a = a @ np.conj(np.swapaxes(a, -1, -2))
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64])
@pytest.mark.parametrize("shape", [(40, 8, 8), (3, 5, 4, 4), (6, 6), (0, 3, 3), (2, 1, 1)])
def test_solve_and_inv(rng, dtype, shape, threads):
    a = stack(rng, shape, dtype)
    b = rng.uniform(-1, 1, shape[:-1]).astype(dtype)
    bm = rng.uniform(-1, 1, shape[:-1] + (3,)).astype(dtype)
    a0 = a.copy()
    for rhs in (b, bm):
        got = pel.solve(a, rhs)
        assert got.dtype == np.linalg.solve(a, rhs).dtype
        almost(got, np.linalg.solve(a, rhs), dtype)
    got = pel.inv(a)
    assert got.dtype == dtype
    almost(got, np.linalg.inv(a), dtype)
    assert np.array_equal(a, a0)
    # the same bits for one thread and for all
    pel.set_num_threads(1)
    one = pel.solve(a, bm)
    pel.set_num_threads(0)
    assert np.array_equal(one, pel.solve(a, bm))


@pytest.mark.parametrize("n", [2, 8, 16, 17, 24])
def test_solve_with_row_interchanges(rng, n):
    # Random items without a dominant diagonal need pivoting; pel's own LU
    # (n <= 16) and LAPACK's (n > 16) are backward stable: the residual
    # |A x - b| / (|A| |x|) stays within a small multiple of n * eps (the
    # bound of partial pivoting with the small growth of random matrices).
    a = rng.uniform(-1, 1, (50, n, n))
    b = rng.uniform(-1, 1, (50, n, 3))
    for layout in (a, np.asfortranarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)):
        x = pel.solve(layout, b)
        residual = np.abs(np.einsum("kij,kjl->kil", a, x) - b).max(axis=(1, 2))
        scale = np.abs(a).sum(axis=2).max(axis=1) * np.abs(x).max(axis=(1, 2))
        assert (residual / scale).max() < 8 * n * np.finfo(np.float64).eps
        np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-7, atol=1e-7)


def test_solve_broadcasting(rng):
    a = stack(rng, (5, 1, 4, 4), np.float64)
    b = rng.uniform(-1, 1, (1, 3, 4, 2))  # matrices: b has a's number of dimensions
    almost(pel.solve(a, b), np.linalg.solve(a, b), np.float64)
    vectors = rng.uniform(-1, 1, (5, 3, 4))  # vectors: one dimension less
    almost(pel.solve(a, vectors), np.linalg.solve(a, vectors), np.float64)
    shared = stack(rng, (4, 4), np.float64)
    many = rng.uniform(-1, 1, (10, 4, 1))
    almost(pel.solve(shared, many), np.linalg.solve(shared, many), np.float64)
    with pytest.raises(ValueError):
        pel.solve(a, rng.uniform(-1, 1, (1, 3, 5, 2)))


def test_singular_items_are_named(rng):
    a = stack(rng, (6, 3, 3), np.float64)
    a[4] = 0
    with pytest.raises(pel.SingularMatrixError, match="item 4") as info:
        pel.solve(a, np.ones((6, 3)))
    assert isinstance(info.value, np.linalg.LinAlgError)
    with pytest.raises(np.linalg.LinAlgError, match="item 4"):
        pel.inv(a)
    with pytest.raises(pel.NotPositiveDefiniteError, match="item 4"):
        pel.cholesky(a)
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        pel.inv(np.ones((2, 3)))
    with pytest.raises(np.linalg.LinAlgError):
        pel.det(np.ones(3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_det_slogdet(rng, dtype):
    a = stack(rng, (30, 5, 5), dtype)
    a[7] *= -1
    a[9, 2] = 0  # singular
    almost(pel.det(a) / np.linalg.det(a[0]), np.linalg.det(a) / np.linalg.det(a[0]), dtype)
    sign, logabs = pel.slogdet(a)
    nsign, nlogabs = np.linalg.slogdet(a)
    almost(sign, nsign, dtype)
    good = np.isfinite(nlogabs)
    almost(logabs[good], nlogabs[good], dtype)
    assert np.isneginf(logabs[9]) and sign[9] == 0
    assert np.ndim(pel.det(a[0])) == 0
    assert pel.det(np.zeros((4, 0, 0))).tolist() == [1.0] * 4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_eigh(rng, dtype, threads):
    a = stack(rng, (25, 7, 7), dtype, spd=True)
    almost(pel.cholesky(a), np.linalg.cholesky(a), dtype)
    w, v = pel.eigh(a)
    nw, nv = np.linalg.eigh(a)
    almost(w / nw.max(), nw / nw.max(), dtype)
    # eigenvectors up to sign: compare through the reconstruction
    rec = (v * w[..., None, :]) @ np.swapaxes(v, -1, -2)
    almost(rec / np.abs(a).max(), a / np.abs(a).max(), dtype)
    almost(np.abs(np.sum(v * nv, axis=-2)), np.ones(w.shape), dtype)
    almost(pel.eigvalsh(a, UPLO="U") / nw.max(), nw / nw.max(), dtype)
    lower_only = np.tril(a)
    almost(pel.eigvalsh(lower_only) / nw.max(), nw / nw.max(), dtype)
    with pytest.raises(ValueError, match="UPLO"):
        pel.eigh(a, UPLO="X")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(12, 6, 4), (12, 4, 6), (5, 5), (3, 2, 1, 3)])
def test_svd(rng, dtype, shape):
    a = rng.uniform(-1, 1, shape).astype(dtype)
    for full in (True, False):
        u, s, vt = pel.svd(a, full_matrices=full)
        nu, ns, nvt = np.linalg.svd(a, full_matrices=full)
        assert u.shape == nu.shape and vt.shape == nvt.shape
        almost(s, ns, dtype)
        k = s.shape[-1]
        almost((u[..., :k] * s[..., None, :]) @ vt[..., :k, :], a, dtype)
        almost(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(np.eye(u.shape[-1]), u.shape[:-2] +
                                                           (u.shape[-1],) * 2), dtype)
    almost(pel.svd(a, compute_uv=False), np.linalg.svd(a, compute_uv=False), dtype)


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
def test_matrix_norms(rng, ord):
    a = rng.uniform(-1, 1, (9, 5, 4))
    almost(pel.norm(a, ord, axis=(1, 2)), np.linalg.norm(a, ord, axis=(1, 2)), np.float64)
    almost(pel.norm(a, ord, axis=(2, 0), keepdims=True),
           np.linalg.norm(a, ord, axis=(2, 0), keepdims=True), np.float64)
    almost(pel.norm(a[0], ord), np.linalg.norm(a[0], ord), np.float64)


@pytest.mark.parametrize("ord", [None, 0, 1, 2, 3, -1, np.inf, -np.inf])
def test_vector_norms(rng, ord):
    x = rng.uniform(-1, 1, (6, 7))
    almost(pel.norm(x, ord, axis=1), np.linalg.norm(x, ord, axis=1), np.float64)
    almost(pel.norm(x, ord, axis=0, keepdims=True), np.linalg.norm(x, ord, axis=0, keepdims=True),
           np.float64)
    almost(pel.norm(x[0], ord), np.linalg.norm(x[0], ord), np.float64)
    assert np.shape(pel.norm(x[0], keepdims=True)) == (1,)
    with pytest.raises(TypeError):
        pel.norm(x, ord, axis=1.0)


def test_lstsq(rng):
    a = rng.uniform(-1, 1, (8, 3))
    for b in (rng.uniform(-1, 1, 8), rng.uniform(-1, 1, (8, 2))):
        x, res, rank, s = pel.lstsq(a, b)
        nx, nres, nrank, ns = np.linalg.lstsq(a, b, rcond=None)
        almost(x, nx, np.float64)
        almost(res, nres, np.float64)
        assert rank == nrank and res.shape == nres.shape
        almost(s, ns, np.float64)
    deficient = np.column_stack([a[:, 0], a[:, 0], a[:, 1]])
    x, res, rank, s = pel.lstsq(deficient, a[:, 2])
    nx, nres, nrank, ns = np.linalg.lstsq(deficient, a[:, 2], rcond=None)
    almost(x, nx, np.float64)
    assert rank == nrank == 2 and res.shape == nres.shape == (0,)
    stacks = rng.uniform(-1, 1, (5, 8, 3))
    bs = rng.uniform(-1, 1, (5, 8))
    x, res, rank, s = pel.lstsq(stacks, bs)
    for i in range(5):
        nx, nres, _, _ = np.linalg.lstsq(stacks[i], bs[i], rcond=None)
        almost(x[i], nx, np.float64)
        almost(res[i], nres[0], np.float64)
    assert rank.tolist() == [3] * 5


def test_matmul_numpy_dtypes_vectors_and_strided_out(rng):
    m = rng.uniform(-1, 1, (7, 4, 3))
    v = rng.uniform(-1, 1, 3)
    w = rng.uniform(-1, 1, 4)
    almost(pel.matmul(m, v), m @ v, np.float64)
    almost(pel.matmul(w, m), w @ m, np.float64)
    i = np.arange(12, dtype=np.int64).reshape(3, 4) * (2 ** 40)
    got = pel.matmul(i, i.T)
    assert got.dtype == np.int64 and np.array_equal(got, i @ i.T)  # exact, no float rounding
    b = np.arange(12).reshape(3, 4) % 3 == 0
    assert pel.matmul(b, b.T).dtype == np.bool_ and np.array_equal(pel.matmul(b, b.T), b @ b.T)
    i32 = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert pel.matmul(i32, i32.T).dtype == (i32 @ i32.T).dtype
    c64 = (rng.uniform(-1, 1, (3, 5)) + 1j).astype(np.complex64)
    assert pel.matmul(c64, c64.T).dtype == np.complex64
    assert pel.matmul(c64[None], c64.T[None]).dtype == np.complex64
    out = np.zeros((8, 6))
    view = out[::2, 1:]
    got = pel.matmul(rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (3, 5)), out=view)
    assert got is view and np.all(out[1::2] == 0) and np.all(out[:, 0] == 0)
    stack_out = np.zeros((7, 4, 2))[..., 0]
    assert pel.matmul(m, v, out=stack_out) is stack_out
    almost(stack_out, m @ v, np.float64)


def test_solve_strided_out(rng):
    a = stack(rng, (6, 6), np.float64)
    b = rng.uniform(-1, 1, (6, 3))
    big = np.zeros((12, 3))
    view = big[::2]
    assert pel.solve(a, b, out=view) is view
    almost(view, np.linalg.solve(a, b), np.float64)
    assert np.all(big[1::2] == 0)
    many = stack(rng, (4, 6, 6), np.float64)
    out = np.zeros((4, 3, 6)).transpose(0, 2, 1)  # a non-contiguous (4, 6, 3) view
    assert pel.solve(many, rng.uniform(-1, 1, (4, 6, 3)), out=out) is out
