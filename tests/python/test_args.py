"""The argument rules of issue 13 (item 4) on every function that takes a
size, count, axis, step or thread count: floats are a TypeError, negative
values a ValueError, values past the C type an OverflowError, never a
silent wrap-around or truncation. Each row of CASES calls one function with
one argument set to the value under test; the other arguments are valid."""

import numpy as np
import pytest

import pel
import pel.fft as pf
import pel.stencil as ps

SIZE_PAST = 2 ** 64          # one past size_t's range
INT_PAST = 2 ** 31           # one past int's range

_x = np.arange(1.0, 9.0)
_c = _x + 1j
_g = np.ones((6, 6))
_lap = None


def _laplacian():
    global _lap
    if _lap is None:
        _lap = ps.laplacian(2)
    return _lap


# Every transform of pel.fft: the 1-D ones take n and axis, the 2-D and n-D
# ones s and axes; all take workers; the DCT/DST family also type.
FFT_1D = [pf.fft, pf.ifft, pf.rfft, pf.irfft, pf.hfft, pf.ihfft, pf.dct, pf.idct, pf.dst, pf.idst]
FFT_ND = [pf.fft2, pf.ifft2, pf.fftn, pf.ifftn, pf.rfft2, pf.irfft2, pf.rfftn, pf.irfftn,
          pf.hfft2, pf.ihfft2, pf.hfftn, pf.ihfftn, pf.dctn, pf.idctn, pf.dstn, pf.idstn]
R2R = {pf.dct, pf.idct, pf.dst, pf.idst, pf.dctn, pf.idctn, pf.dstn, pf.idstn}


def _bind(func, **fixed):
    """func called on real data (every transform accepts it) with the
    argument under test as the keyword left open."""
    (keyword,) = [k for k, v in fixed.items() if v is None]
    data = _x if func in FFT_1D else _g

    def call(v):
        return func(data, **{**fixed, keyword: v})
    return call


def _bind_s(func):
    """func on the 6x6 grid with s = (4, value)."""
    def call(v):
        return func(_g, s=(4, v))
    return call


def _row_kernel(out, rows, index):
    out[:] = rows[0][: out.shape[0]]


# name, call(value), C type: "size_t"; "int" (negative values reach the C
# function, which refuses them with InvalidArgumentError, also a ValueError);
# "int+" (a non-negative int); "workers" (scipy's reading of a C int).
CASES = [(f"{f.__name__} n", _bind(f, n=None), "size_t") for f in FFT_1D] + \
    [(f"{f.__name__} s", _bind_s(f), "size_t") for f in FFT_ND] + \
    [(f"{f.__name__} workers", _bind(f, workers=None), "workers") for f in FFT_1D + FFT_ND] + \
    [(f"{f.__name__} type", _bind(f, type=None), "int+") for f in FFT_1D + FFT_ND if f in R2R] + [
    ("set_workers", lambda v: pf.set_workers(v).__enter__(), "workers"),
    ("prev_fast_len target", lambda v: pf.prev_fast_len(v), "size_t"),
    ("thread_limit", lambda v: pel.thread_limit(v).__enter__(), "int"),
    ("Stencil() steps", lambda v: _laplacian()(_g, steps=v), "size_t"),
    ("apply_factored steps", lambda v: _laplacian().apply_factored(_g, steps=v), "size_t"),
    ("apply_general steps",
     lambda v: _laplacian().apply_general(_g, [np.ones_like(_g)] * 5, steps=v), "size_t"),
    ("apply_wave steps", lambda v: _laplacian().apply_wave(_g, _g.copy(), steps=v), "size_t"),
    ("apply_rows steps", lambda v: ps.apply_rows(_row_kernel, _g, steps=v), "size_t"),
    ("apply_rows radius", lambda v: ps.apply_rows(_row_kernel, _g, radius=v), "int+"),
    ("system_apply steps",
     lambda v: ps.system_apply([(0, 0, _laplacian())], [_g.copy()], steps=v), "size_t"),
    ("offsets ndim", lambda v: ps.offsets(v), "int+"),
    ("offsets radius", lambda v: ps.offsets(2, radius=v), "int+"),
    ("fftfreq n", lambda v: pf.fftfreq(v), "size_t"),
    ("rfftfreq n", lambda v: pf.rfftfreq(v), "size_t"),
    ("next_fast_len target", lambda v: pf.next_fast_len(v), "size_t"),
    ("Plan shape", lambda v: pf.Plan((v,)), "size_t"),
    ("Plan batch", lambda v: pf.Plan((8,), batch=v), "size_t"),
    ("Plan nthreads", lambda v: pf.Plan((8,), nthreads=v), "int"),
    ("set_cache_capacity", lambda v: pf.set_cache_capacity(v), "size_t"),
    ("convolve_shape", lambda v: pf.convolve_shape((v,), (3,)), "size_t"),
    ("set_num_threads", lambda v: pel.set_num_threads(v), "int"),
    ("set_num_threads_local", lambda v: pel.set_num_threads_local(v), "int"),
    ("set_thread_budget", lambda v: pel.set_thread_budget(v), "int"),
    ("set_min_work_per_thread", lambda v: pel.set_min_work_per_thread(v), "size_t"),
    ("threads_for_work", lambda v: pel.threads_for_work(v), "size_t"),
    ("task_plan nthreads", lambda v: pel.task_plan([1.0, 2.0], v), "int"),
    ("empty shape", lambda v: pel.empty((2, v)), "size_t"),
    ("zeros shape", lambda v: pel.zeros(v), "size_t"),
    ("Stencil ndim", lambda v: ps.Stencil([1.0, 2.0, 1.0], v), "int+"),
    ("Stencil radius", lambda v: ps.Stencil([1.0, 2.0, 1.0], 1, radius=v), "int+"),
    ("laplacian ndim", lambda v: ps.laplacian(v), "int+"),
    ("laplacian npoints", lambda v: ps.laplacian(2, npoints=v), "int+"),
    ("apply steps", lambda v: _laplacian().apply(_g, steps=v), "size_t"),
    ("apply tile", lambda v: _laplacian().apply(_g, 1, blocking={"tile": [v, 4]}), "size_t"),
    ("apply time_block", lambda v: _laplacian().apply(_g, 1, blocking={"time_block": v}),
     "size_t"),
    ("apply cache_bytes", lambda v: _laplacian().apply(_g, 1, blocking={"cache_bytes": v}),
     "size_t"),
    ("Stencil.zeros shape", lambda v: _laplacian().zeros((v, 4)), "size_t"),
    ("jacobi max_iter", lambda v: ps.jacobi_poisson(_g, max_iter=v, raise_on_failure=False),
     "size_t"),
    ("jacobi check_interval",
     lambda v: ps.jacobi_poisson(_g, check_interval=v, raise_on_failure=False), "size_t"),
    ("CSRMatrix shape", lambda v: pel.CSRMatrix(([], [], [0, 0]), shape=(1, v)), "size_t"),
]


@pytest.fixture(autouse=True)
def _restore(threads):
    yield
    pf.set_cache_capacity(32)
    pel.set_thread_budget(pel.THREAD_BUDGET_DEFAULT)


_DEFAULT_NONE = {f"{f.__name__} n" for f in FFT_1D} | \
    {f"{f.__name__} workers" for f in FFT_1D + FFT_ND} | {"laplacian npoints"}
_NON_INTEGERS = [("2.5", 2.5), ("3.0", 3.0), ("np.float64", np.float64(4.0)), ("str", "4"),
                 ("None", None), ("bool", True)]
# None is not an error where it is the argument's default (n=None is numpy's).
_TYPE_CASES = [pytest.param(call, value, id=f"{vid}-{name}")
               for name, call, _ in CASES for vid, value in _NON_INTEGERS
               if not (value is None and name in _DEFAULT_NONE)]


@pytest.mark.parametrize("call,value", _TYPE_CASES)
def test_non_integers_are_type_errors(call, value):
    with pytest.raises(TypeError):
        call(value)


@pytest.mark.parametrize("name,call,ctype", CASES, ids=[c[0] for c in CASES])
def test_negative_values_are_value_errors(name, call, ctype):
    value = -3 if ctype != "workers" else -(2 ** 20)  # -3 is a valid workers count
    with pytest.raises(ValueError):
        call(value)


@pytest.mark.parametrize("name,call,ctype", CASES, ids=[c[0] for c in CASES])
def test_values_past_the_c_type_are_overflow_errors(name, call, ctype):
    past = SIZE_PAST if ctype == "size_t" else INT_PAST
    with pytest.raises(OverflowError):
        call(past)
    with pytest.raises(OverflowError):
        call(past + 8)  # would wrap to 8 (the old Plan((2**64+8,)) bug)
    if ctype in ("int", "workers"):
        with pytest.raises(OverflowError):
            call(-(2 ** 31) - 1)


def test_numpy_integers_are_accepted(rng):
    x = rng.standard_normal(16) + 0j
    for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32, np.uint64):
        np.testing.assert_allclose(pf.fft(x, n=t(8)), np.fft.fft(x, n=8), atol=1e-12)
        assert pf.next_fast_len(t(17)) == 18
    assert pel.threads_for_work(np.uint64(10)) >= 1


def test_the_old_wraparounds_are_gone():
    # steps=2**64 used to run 0 steps, radius=2**32+1 was taken as 1,
    # Plan((2**64+8,)) planned length 8, n=2.5 ran n=2.
    with pytest.raises(OverflowError):
        _laplacian().apply(_g, steps=2 ** 64)
    with pytest.raises(OverflowError):
        ps.Stencil([1.0, 2.0, 1.0], 1, radius=2 ** 32 + 1)
    with pytest.raises(OverflowError):
        pf.Plan((2 ** 64 + 8,))
    with pytest.raises(TypeError):
        pf.fft(_c, n=2.5)


@pytest.mark.parametrize("func", FFT_1D + [pel.norm])
def test_axis_rules(func):
    x = np.ones((4, 6))
    with pytest.raises(TypeError):
        func(x, axis=1.0)
    with pytest.raises(np.AxisError):
        func(x, axis=2)
    with pytest.raises(np.AxisError):
        func(x, axis=2 ** 64)
    np.testing.assert_allclose(func(x, axis=-2), func(x, axis=0))


@pytest.mark.parametrize("func", FFT_ND + [pf.fftshift, pf.ifftshift])
def test_axes_rules(func):
    x = np.ones((4, 6))
    with pytest.raises(TypeError):
        func(x, axes=(0.0, 1))
    with pytest.raises(np.AxisError):
        func(x, axes=(0, 5))
    with pytest.raises(TypeError):
        func(x, axes="01")


def test_workers_rules():
    with pytest.raises(ValueError, match="workers must not be zero"):
        pf.fft(_c, workers=0)
    with pytest.raises(ValueError, match="workers value out of range"):
        pf.fft(_c, workers=-(pf._CPU_COUNT + 1))
    pf.fft(_c, workers=-1)  # every CPU, as scipy reads it


def test_real_only_stencils_refuse_complex():
    with pytest.raises(TypeError, match="complex"):
        ps.Stencil([1.0, -2.0 + 1j, 1.0], 1)
    with pytest.raises(TypeError, match="complex"):
        ps.Stencil([1.0, -2.0, 1.0], 1, rhs_weight=1j)
    with pytest.raises(TypeError, match="complex"):
        ps.laplacian(2, spacing=0.5 + 0.5j)
    with pytest.raises(TypeError, match="complex"):
        ps.jacobi_poisson(_g, spacing=[1.0, 1j])
    with pytest.raises(TypeError, match="complex"):
        ps.jacobi_poisson(_g, tol=1e-6 + 0j)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["f", "u0", "spacing"])
def test_jacobi_poisson_with_nan_or_inf_never_converges(bad, where):
    f = np.ones((8, 8))
    u0 = np.zeros((8, 8))
    spacing = 1.0 / 9
    if where == "f":
        f[3, 4] = bad
    elif where == "u0":
        u0[2, 2] = bad
    else:
        spacing = bad
    try:
        res = ps.jacobi_poisson(f, spacing=spacing, u0=u0, tol=1e-6, max_iter=200,
                                raise_on_failure=False)
    except pel.PelError as exc:  # the C library may refuse the input outright
        assert "jacobi" in str(exc)
        return
    assert res.converged is False
    with pytest.raises(pel.PelError):
        ps.jacobi_poisson(f, spacing=spacing, u0=u0, tol=1e-6, max_iter=200)
