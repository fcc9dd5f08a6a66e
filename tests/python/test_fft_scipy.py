"""pel.fft as scipy.fft: the uarray backend, scipy's signatures (workers,
overwrite_x, plan), the real-to-real transforms against direct sums, the
Hermitian family, the helpers and numpy's dtype rules.

References are independent of pel: direct O(n^2) DCT/DST sums written from
their definitions, numpy.fft (pocketfft) for the complex and Hermitian
transforms. Tolerances: FFT algorithms are accurate to ~eps*log2(n) relative
to the largest value, so 1e-12 (double) and 1e-5 (single) on sizes below a
few hundred catch any wrong index, sign or scale with a wide margin."""

import threading

import numpy as np
import pytest
import scipy.fft

import pel
import pel.fft as pf

TOL = 1e-12


def close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


# ------------------------------------------------------- direct DCT / DST

def _direct_matrix(kind, t, n):
    """The unnormalised transform as an n x n matrix, from the definitions
    in include/pel/fft.h (FFTW's and scipy's)."""
    j = np.arange(n)[None, :].astype(np.longdouble)
    k = np.arange(n)[:, None].astype(np.longdouble)
    pi = np.longdouble(np.pi)
    if kind == "dct":
        if t == 1:
            m = 2 * np.cos(pi * j * k / (n - 1))
            m[:, 0] /= 2
            m[:, -1] /= 2
        elif t == 2:
            m = 2 * np.cos(pi * (2 * j + 1) * k / (2 * n))
        elif t == 3:
            m = 2 * np.cos(pi * j * (2 * k + 1) / (2 * n))
            m[:, 0] /= 2
        else:
            m = 2 * np.cos(pi * (2 * j + 1) * (2 * k + 1) / (4 * n))
    else:
        if t == 1:
            m = 2 * np.sin(pi * (j + 1) * (k + 1) / (n + 1))
        elif t == 2:
            m = 2 * np.sin(pi * (2 * j + 1) * (k + 1) / (2 * n))
        elif t == 3:
            m = 2 * np.sin(pi * (j + 1) * (2 * k + 1) / (2 * n))
            m[:, -1] /= 2
        else:
            m = 2 * np.sin(pi * (2 * j + 1) * (2 * k + 1) / (4 * n))
    return m


def _logical(kind, t, n):
    return 2 * (n - 1) if (kind, t) == ("dct", 1) else 2 * (n + 1) if (kind, t) == ("dst", 1) \
        else 2 * n


def _orthonormal_matrix(kind, t, n):
    """The orthonormal transform: the definition scaled by 1/sqrt(M) with
    the sqrt(2) weights of the first/last point (the textbook, e.g.
    Wikipedia's, orthonormal DCT/DST)."""
    m = _direct_matrix(kind, t, n) / np.sqrt(np.longdouble(_logical(kind, t, n)))
    s2 = np.sqrt(np.longdouble(2))
    if kind == "dct" and t == 1:
        m[:, [0, -1]] *= s2
        m[[0, -1], :] /= s2
    elif t == 2:
        m[0 if kind == "dct" else -1, :] /= s2
    elif t == 3:
        m[:, 0 if kind == "dct" else -1] *= s2
    return m


KINDS = [(k, t) for k in ("dct", "dst") for t in (1, 2, 3, 4)]


@pytest.mark.parametrize("kind,t", KINDS)
@pytest.mark.parametrize("n", [2, 3, 8, 17])
def test_r2r_1d_against_direct_sums(rng, kind, t, n):
    x = rng.standard_normal((3, n))
    m = _direct_matrix(kind, t, n)
    ref = (x.astype(np.longdouble) @ m.T).astype(np.float64)
    fn = getattr(pf, kind)
    close(fn(x, type=t), ref)
    close(fn(x, type=t, norm="forward"), ref / _logical(kind, t, n))
    close(fn(x, type=t, norm="ortho", orthogonalize=False), ref / np.sqrt(_logical(kind, t, n)))
    ortho = (x.astype(np.longdouble) @ _orthonormal_matrix(kind, t, n).T).astype(np.float64)
    close(fn(x, type=t, norm="ortho"), ortho)
    # The orthonormal transform is orthogonal, and its inverse is its transpose.
    eye = np.eye(n)
    mat = fn(eye, type=t, norm="ortho", axis=0)
    close(mat.T @ mat, eye)
    inv = getattr(pf, "i" + kind)
    close(inv(fn(x, type=t, norm="ortho"), type=t, norm="ortho"), x)
    for norm in (None, "backward", "forward"):
        close(inv(fn(x, type=t, norm=norm), type=t, norm=norm), x)


@pytest.mark.parametrize("kind,t", KINDS)
def test_r2r_nd_is_separable(rng, kind, t):
    x = rng.standard_normal((5, 4, 6, 3))
    fn, fnn = getattr(pf, kind), getattr(pf, kind + "n")
    expect = x
    for axis in (0, 2, 3):
        expect = fn(expect, type=t, axis=axis, norm="ortho")
    close(fnn(x, type=t, axes=(0, 2, 3), norm="ortho"), expect)
    expect = x
    for axis in range(4):  # four axes: pel runs them as groups of three and one
        expect = fn(expect, type=t, axis=axis)
    close(fnn(x, type=t), expect)
    close(getattr(pf, "i" + kind + "n")(fnn(x, type=t), type=t), x)


@pytest.mark.parametrize("shape,axes", [((16, 64, 64), None), ((8, 256), (-1,)), ((64, 64), None),
                                        ((6, 10, 12), None), ((3, 256), (-1,))])
@pytest.mark.parametrize("t", [2, 3])
def test_dct_by_fft_against_scipy(rng, shape, axes, t):
    """The DCT-II/III by one real FFT (lib/fft/dct_by_fft.c) against scipy's
    pocketfft: the first three shapes are on that path by pel's rule (even
    sizes, rows of 16 and more, 4096 points and more; 1-D: n >= 256 and 4
    or more of them), the last two on FFTW's REDFT (too small; 1-D batch
    of 3). Every norm, orthogonalize, float32 (tolerance: float32 eps times
    a few log2 N, relative to the largest output), in place via
    overwrite_x."""
    x = rng.standard_normal(shape)
    for norm in (None, "ortho", "forward"):
        for inverse in (False, True):
            pel_fn = pf.idctn if inverse else pf.dctn
            ref_fn = scipy.fft.idctn if inverse else scipy.fft.dctn
            close(pel_fn(x, type=t, axes=axes, norm=norm), ref_fn(x, type=t, axes=axes, norm=norm))
    close(pf.dctn(x, type=t, axes=axes, norm="ortho", orthogonalize=False),
          scipy.fft.dctn(x, type=t, axes=axes, norm="ortho", orthogonalize=False))
    x32 = x.astype(np.float32)
    y32 = pf.dctn(x32, type=t, axes=axes)
    assert y32.dtype == np.float32
    close(y32, scipy.fft.dctn(x, type=t, axes=axes), tol=2e-6)
    mine = x.copy()
    close(pf.dctn(mine, type=t, axes=axes, overwrite_x=True), scipy.fft.dctn(x, type=t, axes=axes))


def test_r2r_dtypes_sizes_and_errors(rng):
    x = rng.standard_normal(10)
    y = pf.dct(x.astype(np.float32))
    assert y.dtype == np.float32
    close(y, pf.dct(x), tol=1e-5)
    assert pf.dct(np.arange(6)).dtype == np.float64
    z = x + 1j * rng.standard_normal(10)
    close(pf.dst(z, type=3), pf.dst(z.real, type=3) + 1j * pf.dst(z.imag, type=3))
    close(pf.dct(x, n=14), pf.dct(np.concatenate([x, np.zeros(4)])))
    close(pf.dct(x, n=6), pf.dct(x[:6]))
    with pytest.raises(ValueError, match="DCT-I"):
        pf.dct(np.ones(1), type=1)
    for bad in (0, 5):
        with pytest.raises(ValueError, match="type"):
            pf.dct(x, type=bad)
    with pytest.raises(TypeError):
        pf.dct(x, type=2.0)
    x0 = x.copy()
    pf.dct(x, overwrite_x=False)
    assert np.array_equal(x, x0)


# ------------------------------------------------------- complex and real FFTs

def test_scipy_signatures_and_dtypes(rng):
    x = rng.standard_normal((6, 10))
    c = x + 1j * rng.standard_normal((6, 10))
    for name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn"):
        close(getattr(pf, name)(c, norm="ortho", workers=1), getattr(np.fft, name)(c, norm="ortho"))
    for name in ("rfft", "rfft2", "rfftn"):
        close(getattr(pf, name)(x, norm="forward"), getattr(np.fft, name)(x, norm="forward"))
    close(pf.irfftn(pf.rfftn(x), s=x.shape), x)
    # numpy's dtype rules: single in, single out; integers and bool in double.
    assert pf.fft(x.astype(np.float32)).dtype == np.complex64
    assert pf.fft(x.astype(np.float16)).dtype == np.complex64
    assert pf.rfft(x.astype(np.float16)).dtype == np.complex64
    assert pf.fft(c.astype(np.complex64)).dtype == np.complex64
    assert pf.irfft(c.astype(np.complex64)).dtype == np.float32
    assert pf.fft(np.arange(8)).dtype == np.complex128
    assert pf.fft(np.ones(8, dtype=bool)).dtype == np.complex128
    # 0-d and empty inputs as numpy and scipy: a 1-D transform of a 0-d
    # array fails (IndexError there; pel's error is also a ValueError), the
    # n-D transforms of a 0-d array or over axes=() return the input as it is.
    for func in (pf.fft, pf.ifft, pf.rfft, pf.irfft, pf.hfft, pf.ihfft, pf.dct, pf.idst):
        with pytest.raises(IndexError):
            func(np.float64(1.0))
        with pytest.raises(ValueError, match="0-d"):
            func(np.array(1.0))
    for func in (pf.fftn, pf.ifftn, pf.fft2, pf.dctn, pf.idctn, pf.dstn, pf.idstn):
        for x, axes in [(np.array(2.5), None), (np.arange(3.0), ()),
                        (np.arange(3, dtype=np.float32), ())]:
            ref = getattr(scipy.fft, func.__name__)(x, axes=axes)
            got = func(x, axes=axes)
            assert got.shape == ref.shape and got.dtype == ref.dtype, func
            np.testing.assert_array_equal(got, ref)
    o = np.zeros(3, dtype=complex)
    assert pf.fftn(np.arange(3.0), axes=(), out=o) is o
    np.testing.assert_array_equal(o, np.arange(3.0))
    with pytest.raises(ValueError, match="data points"):
        pf.fft(np.zeros(0))
    assert pf.fft(np.zeros((0, 8))).shape == (0, 8)
    assert pf.rfftn(np.zeros((0, 8)), axes=(1,)).shape == (0, 5)
    # long double is refused with the reason
    with pytest.raises(TypeError, match="long"):
        pf.fft(np.ones(8, dtype=np.longdouble))


def test_overwrite_x_transforms_in_place(rng):
    c = rng.standard_normal(64) + 1j * rng.standard_normal(64)
    expect = np.fft.fft(c)
    y = pf.fft(c, overwrite_x=True)
    close(y, expect)
    assert np.shares_memory(y, c)  # allowed, and pel takes the offer
    c2 = rng.standard_normal(64) + 0j
    keep = c2.copy()
    pf.fft(c2)  # overwrite_x=False: the input is kept
    assert np.array_equal(c2, keep)


def test_plan_argument(rng):
    c = rng.standard_normal(32) + 1j * rng.standard_normal(32)
    plan = pf.Plan((32,))
    close(pf.fft(c, plan=plan), np.fft.fft(c))
    with pytest.raises(NotImplementedError):
        pf.fft(c, plan=object())


def test_workers(threads, monkeypatch):
    budgets = []
    original = pf._set_local

    def record(n):
        budgets.append(n)
        original(n)
    monkeypatch.setattr(pf, "_set_local", record)
    c = np.ones(16, complex)
    pf.fft(c, workers=1)
    pf.fft(c, workers=-1)
    assert budgets[0] == 1 and budgets[2] == pf._CPU_COUNT  # set, restore, set, restore
    assert pel.get_num_threads_local() == 0  # restored
    assert pf.get_workers() == pel.get_num_threads()
    with pf.set_workers(1):
        assert pf.get_workers() == 1
        budgets.clear()
        pf.fft(c)
        assert budgets[0] == 1
        seen = []
        t = threading.Thread(target=lambda: seen.append(pf.get_workers()))
        t.start()
        t.join()
        assert seen == [pel.get_num_threads()]  # thread-local, like scipy's
    assert pf.get_workers() == pel.get_num_threads()


def test_hermitian_family(rng):
    h = rng.standard_normal(9) + 1j * rng.standard_normal(9)
    for norm in (None, "ortho", "forward"):
        close(pf.hfft(h, norm=norm), np.fft.hfft(h, norm=norm))
        close(pf.hfft(h, n=11, norm=norm), np.fft.hfft(h, n=11, norm=norm))
        r = rng.standard_normal(12)
        close(pf.ihfft(r, norm=norm), np.fft.ihfft(r, norm=norm))
    r2 = rng.standard_normal((6, 8))
    # hfftn inverts ihfftn, and ihfftn is conj(rfftn)/N
    close(pf.ihfftn(r2), np.conj(np.fft.rfftn(r2)) / r2.size)
    close(pf.hfftn(pf.ihfftn(r2), s=r2.shape), r2)
    close(pf.hfft2(pf.ihfft2(r2), s=r2.shape), r2)
    with pytest.raises(TypeError, match="real"):
        pf.ihfft(h)


def test_helpers_against_numpy():
    for n in (1, 2, 7, 8, 33):
        close(pf.fftfreq(n, d=0.25), np.fft.fftfreq(n, d=0.25))
        close(pf.rfftfreq(n, d=3.0), np.fft.rfftfreq(n, d=3.0))
    x = np.arange(30).reshape(5, 6)
    for axes in (None, 0, 1, (0, 1), [-1]):
        assert np.array_equal(pf.fftshift(x, axes), np.fft.fftshift(x, axes))
        assert np.array_equal(pf.ifftshift(x, axes), np.fft.ifftshift(x, axes))
        assert np.array_equal(pf.ifftshift(pf.fftshift(x, axes), axes), x)


def _fftw_fast(n):
    e11 = e13 = 0
    for p in (2, 3, 5, 7):
        while n % p == 0:
            n //= p
    while n % 11 == 0:
        n //= 11
        e11 += 1
    while n % 13 == 0:
        n //= 13
        e13 += 1
    return n == 1 and e11 + e13 <= 1


def test_next_fast_len_is_fftw_rule():
    for target in range(1, 3000):
        m = pf.next_fast_len(target)
        assert m >= target and _fftw_fast(m)
        assert not any(_fftw_fast(k) for k in range(target, m))
        assert pf.next_fast_len(target, real=True) == m
        p = pf.prev_fast_len(target)
        assert p <= target and _fftw_fast(p)
    assert pf.next_fast_len(121) == 125  # 11^2 is not fast for FFTW
    assert pf.next_fast_len(143) == 144  # nor is 11*13


# ----------------------------------------------------------- the backend

def test_backend_routes_scipy_calls_through_pel(rng):
    x = rng.standard_normal((8, 12))
    before = pf.backend_stats()["handled"]
    with scipy.fft.set_backend(pf):
        y = scipy.fft.fftn(x, workers=-1)
        z = scipy.fft.dctn(x, type=3, norm="ortho")
        w = scipy.fft.hfft(x[0] + 0j)
    after = pf.backend_stats()["handled"]
    for name in ("fftn", "dctn", "hfft"):
        assert after.get(name, 0) == before.get(name, 0) + 1
    close(y, np.fft.fftn(x))
    close(z, pf.dctn(x, type=3, norm="ortho"))
    close(w, np.fft.hfft(x[0]))


def test_backend_falls_back_for_what_pel_does_not_do():
    declined = dict(pf.backend_stats()["declined"])
    x = np.linspace(0.1, 1, 16)
    with scipy.fft.set_backend(pf):
        y = scipy.fft.fft(x.astype(np.longdouble))
        assert y.dtype == np.clongdouble  # scipy's pocketfft ran it
        r = scipy.fft.fht(x, dln=0.1, mu=0.5)  # pel has no FFTLog
        with pytest.raises(ValueError, match="unique"):  # handed back; scipy's message
            scipy.fft.fftn(np.ones((4, 4)), axes=(0, 0))
    after = pf.backend_stats()["declined"]
    assert after.get("fft", 0) == declined.get("fft", 0) + 1
    assert after.get("fht", 0) == declined.get("fht", 0) + 1
    assert r.shape == x.shape
    assert after.get("fftn", 0) == declined.get("fftn", 0) + 1
    with scipy.fft.set_backend(pf, only=True):
        with pytest.raises(Exception):
            scipy.fft.fht(x, dln=0.1, mu=0.5)  # only=True: nobody to fall back to


def test_backend_honours_scipy_set_workers(threads, monkeypatch):
    budgets = []
    original = pf._set_local

    def record(n):
        budgets.append(n)
        original(n)
    monkeypatch.setattr(pf, "_set_local", record)
    with scipy.fft.set_backend(pf), scipy.fft.set_workers(1):
        scipy.fft.fft(np.ones(8))
    assert budgets and budgets[0] == 1


def test_register_backend_and_global(rng):
    x = rng.standard_normal(16)
    scipy.fft.set_global_backend(pf)
    scipy.fft.register_backend("scipy")
    try:
        before = pf.backend_stats()["handled"].get("rfft", 0)
        seen = []
        t = threading.Thread(target=lambda: seen.append(scipy.fft.rfft(x)))
        t.start()
        t.join()
        assert pf.backend_stats()["handled"]["rfft"] == before + 1  # from another thread too
        close(seen[0], np.fft.rfft(x))
        y = scipy.fft.fft(x.astype(np.longdouble))  # falls back to the registered scipy
        assert y.dtype == np.clongdouble
    finally:
        scipy.fft.set_global_backend("scipy", try_last=True)


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64, np.float64, np.float32])
@pytest.mark.parametrize("shape", [(16,), (3, 10), (4, 6, 8), (2, 3, 4, 5)])
def test_fast_path_equals_general_path(rng, dtype, shape, estimate_plans):
    # The default call takes a shortcut past the argument machinery; passing
    # out= forces the general path. Same plan, hence the same bits (plans of
    # a fixed effort: an upgrade may land between the two calls).
    x = rng.standard_normal(shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape).astype(dtype)
    cdtype = np.result_type(dtype, np.complex64)
    for name in ("fft", "ifft", "fftn", "ifftn", "fft2", "ifft2"):
        if name.endswith("2") and len(shape) < 2:
            continue
        fn = getattr(pf, name)
        for norm in (None, "ortho", "forward"):
            fast = fn(x, norm=norm)
            general = fn(x, norm=norm, out=np.empty(fast.shape, cdtype))
            assert fast.dtype == cdtype and np.array_equal(fast, general), (name, norm)
    if np.dtype(dtype).kind == "f":
        for name in ("rfft", "rfftn", "rfft2"):
            if name.endswith("2") and len(shape) < 2:
                continue
            fn = getattr(pf, name)
            fast = fn(x)
            assert np.array_equal(fast, fn(x, out=np.empty(fast.shape, cdtype))), name
    x0 = x.copy()
    pf.fft(x)
    assert np.array_equal(x, x0)  # the shortcut never writes the input


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(16,), (3, 10), (4, 6, 8)])
def test_fast_path_r2r_and_c2r_equal_general_path(rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    for kind in ("dct", "idct", "dst", "idst"):
        for t in (1, 2, 3, 4):
            for norm in (None, "forward", "ortho"):
                fn = getattr(pf, kind)
                fast = fn(x, type=t, norm=norm, orthogonalize=False)
                # an explicit n (the same length) takes the general path
                general = fn(x, type=t, n=x.shape[-1], norm=norm, orthogonalize=False)
                assert np.array_equal(fast, general), (kind, t, norm)
            fast_n = getattr(pf, kind + "n")(x, type=t)
            general_n = getattr(pf, kind + "n")(x, type=t, s=x.shape)
            assert np.array_equal(fast_n, general_n), (kind, t)
    c = pf.rfftn(x)
    cdtype = c.dtype
    assert cdtype == np.result_type(dtype, np.complex64)
    fast = pf.irfft(c)
    assert np.array_equal(fast, pf.irfft(c, out=np.empty(fast.shape, dtype)))
    fast = pf.irfftn(c)
    assert np.array_equal(fast, pf.irfftn(c, out=np.empty(fast.shape, dtype)))
    assert pf.irfftn(c, s=x.shape).shape == x.shape
