"""pel.fft against numpy.fft and scipy.signal.fftconvolve."""

import os
import subprocess
import sys

import numpy as np
import pytest

import pel
from conftest import run_in_threads
from pel import fft as pfft


# FFT errors grow like eps * log2(N) relative to the norm of the data; the
# bounds are relative to max|X| with a margin of ~10x for these sizes.
RTOL = {np.complex128: 1e-12, np.float64: 1e-12, np.complex64: 2e-5, np.float32: 2e-5}


def close(got, want, dtype):
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    assert np.max(np.abs(got - want), initial=0.0) <= RTOL[dtype] * scale


def crand(rng, shape, dtype=np.complex128):
    x = rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
def test_c2c_against_numpy(rng, dtype, norm):
    x = crand(rng, (6, 10, 12), dtype)
    x0 = x.copy()
    for func, ref, kw in [
        (pfft.fft, np.fft.fft, {}), (pfft.ifft, np.fft.ifft, {}),
        (pfft.fft, np.fft.fft, {"n": 17}), (pfft.fft, np.fft.fft, {"n": 5, "axis": 1}),
        (pfft.fft, np.fft.fft, {"axis": 0}),
        (pfft.fft2, np.fft.fft2, {}), (pfft.ifft2, np.fft.ifft2, {"s": (4, 20)}),
        (pfft.fftn, np.fft.fftn, {}), (pfft.ifftn, np.fft.ifftn, {}),
        (pfft.fftn, np.fft.fftn, {"axes": (0, 2)}), (pfft.fftn, np.fft.fftn, {"axes": (2, 0)}),
        (pfft.fftn, np.fft.fftn, {"s": (3, 8), "axes": (1, 0)}),
        (pfft.ifftn, np.fft.ifftn, {"s": (7, 9, 16)}),
    ]:
        got = func(x, norm=norm, **kw)
        assert got.dtype == dtype, (func, kw)
        close(got, ref(x, norm=norm, **kw), dtype)
    assert np.array_equal(x, x0)


def test_real_to_complex_against_numpy(rng):
    for dtype, cdtype in [(np.float64, np.complex128), (np.float32, np.complex64)]:
        x = rng.uniform(-1, 1, (5, 8, 9)).astype(dtype)
        for norm in (None, "ortho", "forward"):
            for func, ref, kw in [
                (pfft.rfft, np.fft.rfft, {}), (pfft.rfft, np.fft.rfft, {"n": 12, "axis": 0}),
                (pfft.rfft2, np.fft.rfft2, {}), (pfft.rfftn, np.fft.rfftn, {}),
                (pfft.rfftn, np.fft.rfftn, {"s": (4, 6), "axes": (2, 0)}),
            ]:
                got = func(x, norm=norm, **kw)
                assert got.dtype == cdtype
                close(got, ref(x, norm=norm, **kw), dtype)
            spec = np.fft.rfftn(x.astype(np.float64)).astype(cdtype)
            spec0 = spec.copy()
            for func, ref, kw in [
                (pfft.irfft, np.fft.irfft, {}), (pfft.irfft, np.fft.irfft, {"n": 15}),
                (pfft.irfft, np.fft.irfft, {"n": 6, "axis": 1}),
                (pfft.irfft2, np.fft.irfft2, {}), (pfft.irfftn, np.fft.irfftn, {}),
                (pfft.irfftn, np.fft.irfftn, {"s": (5, 8, 9)}),
                (pfft.irfftn, np.fft.irfftn, {"s": (6, 7), "axes": (0, 1)}),
            ]:
                got = func(spec, norm=norm, **kw)
                assert got.dtype == dtype
                close(got, ref(spec, norm=norm, **kw), dtype)
            assert np.array_equal(spec, spec0)          # c2r input is left alone
    y = rng.uniform(-1, 1, (16, 10))
    close(pfft.irfftn(pfft.rfftn(y), s=y.shape), y, np.float64)


def test_many_axes_and_conversions(rng):
    x = crand(rng, (3, 4, 5, 6))
    close(pfft.fftn(x), np.fft.fftn(x), np.complex128)       # 4 axes: in groups
    close(pfft.ifftn(x, norm="ortho"), np.fft.ifftn(x, norm="ortho"), np.complex128)
    r = rng.uniform(-1, 1, (3, 4, 5, 6))
    close(pfft.rfftn(r), np.fft.rfftn(r), np.float64)
    close(pfft.irfftn(np.fft.rfftn(r), s=r.shape), np.fft.irfftn(np.fft.rfftn(r), s=r.shape),
          np.float64)
    close(pfft.fft(r), np.fft.fft(r), np.float64)             # real input to c2c: converted
    close(pfft.fft(np.arange(10)), np.fft.fft(np.arange(10)), np.float64)
    close(pfft.fft(list(range(5))), np.fft.fft(list(range(5))), np.float64)
    v = x[:, ::2, :, ::-1]                                     # non-contiguous view
    close(pfft.fftn(v, axes=(-2, -1)), np.fft.fftn(v, axes=(-2, -1)), np.complex128)
    # 8-byte aligned complex128 (numpy calls it aligned; FFTW's SIMD code
    # wants 16 or 32): passed as it is, pel runs its unaligned twin plan.
    raw = np.zeros(16 * 64 + 32, dtype=np.uint8)
    start = 8 + (-raw.ctypes.data) % 32
    buf = raw[start:start + 16 * 64].view(np.complex128)
    assert buf.ctypes.data % 16 == 8 and buf.flags.aligned
    buf[:] = crand(rng, 64)
    close(pfft.fft(buf), np.fft.fft(buf), np.complex128)
    mis = raw[start + 1:start + 1 + 16 * 32].view(np.complex128)  # misaligned: copied
    mis[:] = crand(rng, 32)
    assert not mis.flags.aligned
    close(pfft.fft(mis), np.fft.fft(mis), np.complex128)
    assert pfft.fft(np.zeros((0, 4))).shape == (0, 4)


def test_out_and_in_place(rng):
    x = crand(rng, (8, 32))
    want = np.fft.fft(x)
    out = np.empty_like(x)
    assert pfft.fft(x, out=out) is out
    close(out, want, np.complex128)
    y = x.copy()
    assert pfft.fft(y, out=y) is y                             # in place
    close(y, want, np.complex128)
    z = x.copy()
    pfft.fft(z[:, :16], out=z[:, 16:].copy())                  # does not touch z
    assert np.array_equal(z, x)
    with pytest.raises(ValueError, match="shape"):
        pfft.fft(x, out=np.empty((8, 31), complex))
    with pytest.raises(TypeError, match="dtype"):
        pfft.fft(x, out=np.empty((8, 32), np.complex64))
    r = rng.uniform(-1, 1, (4, 10))
    out = np.empty((4, 6), complex)
    assert pfft.rfft(r, out=out) is out
    close(out, np.fft.rfft(r), np.float64)


def test_errors(rng):
    x = crand(rng, 8)
    with pytest.raises(ValueError, match="norm"):
        pfft.fft(x, norm="bogus")
    with pytest.raises(ValueError, match="data points"):
        pfft.fft(x, n=0)
    with pytest.raises(ValueError, match="repeated"):
        pfft.fftn(np.ones((4, 4)), axes=(0, 0))
    with pytest.raises(np.AxisError):
        pfft.fft(x, axis=3)
    with pytest.raises(ValueError, match="different lengths"):
        pfft.fftn(np.ones((4, 4)), s=(4,), axes=(0, 1))
    with pytest.raises(TypeError, match="must be real"):
        pfft.rfft(x)
    with pytest.raises(TypeError):
        pfft.fft(np.ones(4, dtype=np.clongdouble))
    with pytest.raises(ValueError, match="data points"):
        pfft.irfft(np.ones(1, complex))


def test_fftconvolve(rng):
    import scipy.signal as signal
    for shapes in [((50,), (7,)), ((7,), (50,)), ((20, 17), (5, 4)), ((9, 10, 11), (3, 4, 2))]:
        a = rng.uniform(-1, 1, shapes[0])
        b = rng.uniform(-1, 1, shapes[1])
        for mode in ("full", "same", "valid"):
            want = signal.fftconvolve(a, b, mode=mode)
            got = pfft.fftconvolve(a, b, mode=mode)
            assert got.shape == want.shape
            assert np.max(np.abs(got - want)) <= 1e-12 * max(1, np.abs(want).max()) * 10
    assert pfft.convolve_shape((9, 10), (3, 4), "valid") == (7, 7)
    assert pfft.convolve_shape((5,), (3,), "full") == (7,)
    with pytest.raises(pel.InvalidArgumentError, match="^pel_fft_convolve_shape: "):
        pfft.convolve_shape((3, 5), (5, 3), "valid")
    a32 = rng.uniform(-1, 1, 30).astype(np.float32)
    assert pfft.fftconvolve(a32, a32).dtype == np.float32
    assert pfft.fftconvolve(np.ones(3), np.ones(2), axes=0).shape == (4,)
    with pytest.raises(ValueError, match="mode"):
        pfft.fftconvolve(a, b, mode="nope")
    with pytest.raises(ValueError, match="dimensionality"):
        pfft.fftconvolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="valid"):
        pfft.fftconvolve(np.ones((3, 5)), np.ones((5, 3)), mode="valid")
    with pytest.raises(TypeError, match="complex"):
        pfft.fftconvolve(np.ones(3) + 1j, np.ones(2))
    with pytest.raises(NotImplementedError, match="rank"):
        pfft.fftconvolve(np.ones((2, 2, 2, 2)), np.ones((2, 2, 2, 2)))
    with pytest.raises(NotImplementedError, match="axes"):
        pfft.fftconvolve(np.ones((3, 3)), np.ones((2, 2)), axes=1)


def test_cache_and_effort(tmp_path):
    pfft.cache_clear()
    pfft.cache_reset_stats()
    x = np.ones((4, 48), complex)
    pfft.fft(x)
    pfft.fft(x)
    stats = pfft.cache_stats()
    assert stats["misses"] >= 1 and stats["hits"] >= 1 and stats["entries"] >= 1
    assert stats["capacity"] >= 1
    pfft.set_cache_capacity(0)
    assert pfft.cache_stats()["capacity"] == 0
    close(pfft.fft(x), np.fft.fft(x), np.complex128)
    pfft.set_cache_capacity(32)
    assert pfft.get_default_effort() == "auto"
    with pytest.raises(ValueError, match="effort"):
        pfft.set_default_effort("fast")
    with pytest.raises(pel.InvalidArgumentError, match="^pel_fft_set_default_effort: "):
        pfft.set_default_effort("measure", -1.0)
    with pytest.raises(ValueError, match="negative"):
        pfft.set_cache_capacity(-1)


def test_wisdom(tmp_path):
    plan = pfft.Plan((64,), effort="measure", time_limit=1.0)
    text = pfft.export_wisdom()
    assert text.startswith("(fftw-3.3")
    pfft.import_wisdom(text)
    path = tmp_path / "w.txt"
    pfft.export_wisdom_file(path)
    pfft.import_wisdom_file(path)
    pfft.export_wisdom_file(tmp_path / "s.txt", precision="single")
    with pytest.raises(pel.ParseError, match="^pel_fft_wisdom_import_string: "):
        pfft.import_wisdom("this is not wisdom")
    with pytest.raises(pel.PelIOError):
        pfft.import_wisdom_file(tmp_path / "missing")
    with pytest.raises(ValueError, match="precision"):
        pfft.export_wisdom("quad")
    pfft.forget_wisdom()
    del plan


def test_plan(rng):
    p = pfft.Plan((8, 16), batch=3)
    assert p.threads >= 1 and "c2c" in repr(p)
    x = crand(rng, (3, 8, 16))
    close(p(x), np.fft.fftn(x, axes=(1, 2)), np.complex128)
    r = pfft.Plan((10,), kind="r2c", dtype=np.float32)
    xr = rng.uniform(-1, 1, 10).astype(np.float32)
    close(r(xr), np.fft.rfft(xr), np.float32)
    c = pfft.Plan((10,), kind="c2r", norm="ortho")
    spec = np.fft.rfft(rng.uniform(-1, 1, 10))
    close(c(spec), np.fft.irfft(spec, norm="ortho"), np.float64)
    with pytest.raises(TypeError, match="C-contiguous"):
        p(x.astype(np.complex64))
    with pytest.raises(ValueError, match="shape"):
        p(crand(rng, (2, 8, 16)))
    with pytest.raises(pel.InvalidArgumentError, match="^pel_fft_plan_create: "):
        pfft.Plan((0,))
    with pytest.raises(pel.InvalidArgumentError):
        pfft.Plan((2, 2, 2, 2))
    with pytest.raises(pel.UnsupportedError):
        pfft.Plan((97, 89), effort="wisdom_only")


def test_concurrent_transforms(rng, estimate_plans):
    # Bits compared across calls: fixed-effort plans (an upgrade landing
    # between two calls may change the last bits, within the bounds).
    xs = [crand(rng, (64, 64)) for _ in range(4)]
    want = [pfft.fft2(x) for x in xs]
    def worker(i):
        for _ in range(20):
            assert np.array_equal(pfft.fft2(xs[i]), want[i])
    run_in_threads(worker)


def test_memory_and_overflow_errors():
    # 2^40 points need 32 TiB of planning scratch: the allocation fails at
    # once and must arrive as a MemoryError; 2^62 points overflow the size.
    with pytest.raises(pel.OutOfMemoryError, match="^pel_fft_plan_create: ") as info:
        pfft.Plan((2 ** 40,))
    assert isinstance(info.value, MemoryError)
    with pytest.raises(pel.SizeOverflowError, match="PTRDIFF_MAX") as info:
        pfft.Plan((2 ** 62,))
    assert isinstance(info.value, OverflowError)


def test_plan_upgrades_land(rng):
    saved = pfft.get_upgrade_mode()
    pfft.set_upgrade_mode("normal")
    try:
        assert pfft.get_default_effort() == "auto"
        pfft.cache_clear()
        before = pfft.upgrade_stats()
        x = crand(rng, (3, 120))
        close(pfft.fft(x), np.fft.fft(x), np.complex128)
        assert pfft.upgrade_wait(120.0) == 0
        after = pfft.upgrade_stats()
        assert after["requested"] == before["requested"] + 1
        assert after["completed"] == before["completed"] + 1 and after["pending"] == 0
        close(pfft.fft(x), np.fft.fft(x), np.complex128)  # the MEASURE plan
        with pytest.raises(ValueError, match="mode"):
            pfft.set_upgrade_mode("fast")
        with pytest.raises(pel.InvalidArgumentError, match="^pel_fft_plan_create: .*PEL_FFT_AUTO"):
            pfft.Plan((64,), effort="auto")
    finally:
        pfft.set_upgrade_mode(saved)


def test_upgrades_off_from_the_environment():
    code = ("from pel import fft; import numpy as np; "
            "fft.fft(np.ones(100, complex)); "
            "print(fft.get_upgrade_mode(), fft.upgrade_stats()['requested'])")
    package = os.path.dirname(os.path.dirname(os.path.abspath(pel.__file__)))
    path = os.environ.get("PYTHONPATH")
    env = dict(os.environ, PEL_FFT_UPGRADE="0",
               PYTHONPATH=package + (os.pathsep + path if path else ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60, check=True).stdout.split()
    assert out == ["off", "0"]
