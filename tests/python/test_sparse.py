"""pel.CSRMatrix against scipy.sparse."""


import numpy as np
import pytest

import pel
from conftest import run_in_threads

import scipy.sparse as scipy_sparse  # noqa: E402 (CI installs python3-scipy)

# Each row is a sum of at most ~40 products in a different order than
# scipy's: a few ulps per term, bounded generously.
TOL = {np.float32: 1e-5, np.float64: 1e-13}


def random_csr(rng, rows, cols, density, dtype=np.float64):
    m = scipy_sparse.random(rows, cols, density=density, format="csr", random_state=rng,
                            data_rvs=lambda n: rng.uniform(-1, 1, n))
    return m.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_spmv_spmm(rng, dtype, threads):
    s = random_csr(rng, 300, 200, 0.05, dtype)
    a = pel.CSRMatrix.from_scipy(s)
    assert a.shape == (300, 200) and a.nnz == s.nnz and a.dtype == dtype
    x = rng.uniform(-1, 1, 200).astype(dtype)
    want = s.astype(np.float64) @ x.astype(np.float64)
    pel.set_min_work_per_thread(1)
    outs = []
    for t in (1, 3):
        pel.set_num_threads(t)
        y = a @ x
        assert y.dtype == dtype
        assert np.max(np.abs(y - want)) <= TOL[dtype] * 10
        outs.append(y)
    assert np.array_equal(outs[0], outs[1])           # same bits for any thread count
    block = rng.uniform(-1, 1, (200, 5)).astype(dtype)
    wantb = s.astype(np.float64) @ block.astype(np.float64)
    for blk in (block, np.asfortranarray(block), block[:, ::-1].copy()):
        got = a @ blk
        assert got.shape == (300, 5) and got.dtype == dtype
        assert np.max(np.abs(got - s.astype(np.float64) @ blk.astype(np.float64))) <= TOL[dtype] * 10
    # a column of SpMM has the bits of SpMV on that column
    assert np.array_equal((a @ block)[:, 2], a @ np.ascontiguousarray(block[:, 2]))
    assert np.max(np.abs(a @ block - wantb)) <= TOL[dtype] * 10


def test_construction(rng, tmp_path):
    s = random_csr(rng, 50, 60, 0.1)
    data, indices, indptr = s.data, s.indices, s.indptr
    a = pel.CSRMatrix((data, indices, indptr), shape=s.shape)
    assert np.array_equal(a.toarray(), s.toarray())
    assert (a.to_scipy() != s).nnz == 0
    b = pel.CSRMatrix((data, indices.astype(np.uint64), indptr.astype(np.int64)),
                      shape=s.shape, dtype=np.float32)
    assert b.dtype == np.float32
    # duplicates are summed, rows may be unsorted
    c = pel.CSRMatrix(([1.0, 2.0, 3.0], [2, 0, 2], [0, 3, 3]), shape=(2, 3))
    assert c.nnz == 2 and np.array_equal(c.toarray(), [[2.0, 0, 4.0], [0, 0, 0]])
    assert np.array_equal(pel.CSRMatrix(c).toarray(), c.toarray())
    coo = scipy_sparse.coo_matrix(s)
    assert np.array_equal(pel.CSRMatrix.from_scipy(coo).toarray(), s.toarray())
    empty = pel.CSRMatrix(([], [], [0, 0, 0]), shape=(2, 4))
    assert empty.nnz == 0 and np.array_equal(empty @ np.ones(4), np.zeros(2))
    assert "CSRMatrix" in repr(a)
    # Matrix Market round trip
    path = tmp_path / "m.mtx"
    a.write_mtx(path)
    back = pel.CSRMatrix.read_mtx(path)
    assert np.array_equal(back.toarray(), a.toarray())
    assert pel.CSRMatrix.read_mtx(str(path), dtype=np.float32).dtype == np.float32


def test_symmetric_mtx(tmp_path):
    p = tmp_path / "sym.mtx"
    p.write_text("%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2.0\n2 1 -1.0\n"
                 "3 3 5.0\n")
    a = pel.CSRMatrix.read_mtx(p)
    assert np.array_equal(a.toarray(), [[2.0, -1.0, 0], [-1.0, 0, 0], [0, 0, 5.0]])


def test_errors(rng, tmp_path):
    with pytest.raises(pel.InvalidArgumentError, match="^pel_csr_create: .*col"):
        pel.CSRMatrix(([1.0], [5], [0, 1]), shape=(1, 3))
    with pytest.raises(pel.InvalidArgumentError, match="^pel_csr_create: "):
        pel.CSRMatrix(([1.0, 1.0], [0, 1], [0, 2, 1]), shape=(2, 3))
    with pytest.raises(ValueError, match="negative"):
        pel.CSRMatrix(([1.0], [-1], [0, 1]), shape=(1, 3))
    with pytest.raises(ValueError, match="indptr has"):
        pel.CSRMatrix(([1.0], [0], [0, 1]), shape=(2, 3))
    with pytest.raises(ValueError, match="indptr\\[-1\\]"):
        pel.CSRMatrix(([1.0], [0], [0, 2]), shape=(1, 3))
    with pytest.raises(TypeError, match="complex"):
        pel.CSRMatrix(([1j], [0], [0, 1]), shape=(1, 3))
    with pytest.raises(pel.PelIOError, match="^pel_csr_read_mtx: ") as info:
        pel.CSRMatrix.read_mtx(tmp_path / "missing.mtx")
    assert isinstance(info.value, OSError)
    bad = tmp_path / "bad.mtx"
    bad.write_text("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n4 1 2.0\n")
    with pytest.raises(pel.ParseError, match="line 4"):
        pel.CSRMatrix.read_mtx(bad)
    cplx = tmp_path / "c.mtx"
    cplx.write_text("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1.0 2.0\n")
    with pytest.raises(pel.UnsupportedError):
        pel.CSRMatrix.read_mtx(cplx)
    a = pel.CSRMatrix.from_scipy(random_csr(rng, 4, 3, 0.5))
    with pytest.raises(ValueError, match="shape"):
        a @ np.ones(4)
    with pytest.raises(TypeError, match="complex"):
        a @ np.ones(3, complex)
    f32 = pel.CSRMatrix.from_scipy(random_csr(rng, 4, 3, 0.5), dtype=np.float32)
    with pytest.raises(TypeError, match="lose precision"):
        f32 @ np.ones(3)
    with pytest.raises(pel.PelIOError):
        a.write_mtx(tmp_path / "no" / "such" / "dir.mtx")


def test_dot_alpha_beta_out(rng):
    s = random_csr(rng, 30, 20, 0.2)
    a = pel.CSRMatrix.from_scipy(s)
    x = rng.uniform(-1, 1, 20)
    y = rng.uniform(-1, 1, 30)
    want = 2.0 * (s @ x) + 0.5 * y
    got = a.dot(x, out=y, alpha=2.0, beta=0.5)
    assert got is y and np.allclose(y, want, atol=1e-13)
    nan = np.full(30, np.nan)
    assert np.isfinite(a.dot(x, out=nan)).all()          # beta = 0 does not read out


def test_concurrent_spmv(rng):
    a = pel.CSRMatrix.from_scipy(random_csr(rng, 2000, 2000, 0.01))
    xs = [rng.uniform(-1, 1, 2000) for _ in range(4)]
    want = [a @ x for x in xs]
    def worker(i):
        for _ in range(30):
            assert np.array_equal(a @ xs[i], want[i])
    run_in_threads(worker)
