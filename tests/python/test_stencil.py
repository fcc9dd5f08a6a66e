"""pel.stencil against a numpy reference written in pel's documented order
of terms (bit-identical), scipy.ndimage.correlate, and numpy residuals."""


import numpy as np
import pytest

import pel
from conftest import run_in_threads
from pel import stencil as ps


MODES = {"dirichlet": "constant", "periodic": "wrap", "neumann": "symmetric", "nearest": "edge",
         "mirror": "reflect"}


def reference(u, coeffs, offs, steps, bcs, dtype, rhs=None, weight=None):
    """pel's contract: acc = c0*u(p+o0); acc = acc + ck*u(p+ok) ...; + w*rhs,
    each product rounded; bcs = one (kind, value) per axis for both faces."""
    r = max(max(abs(v) for v in o) for o in offs)
    c = [dtype(v) for v in coeffs]
    u = u.astype(dtype)
    for _ in range(steps):
        p = u
        for axis, (kind, value) in enumerate(bcs):
            width = [(0, 0)] * u.ndim
            width[axis] = (r, r)
            if kind == "dirichlet":
                p = np.pad(p, width, mode="constant", constant_values=dtype(value))
            else:
                p = np.pad(p, width, mode=MODES[kind])
        acc = None
        for ck, o in zip(c, offs):
            view = p[tuple(slice(r + d, r + d + n) for d, n in zip(o, u.shape))]
            acc = ck * view if acc is None else acc + ck * view
        if rhs is not None:
            acc = acc + dtype(weight) * rhs.astype(dtype)
        u = acc
    return u


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ndim,shape,radius", [(1, "star", 2), (2, "star", 1), (2, "box", 1),
                                               (3, "star", 1), (3, "star", 2), (2, "star", 3)])
def test_apply_bit_identical(rng, dtype, ndim, shape, radius, threads):
    offs = ps.offsets(ndim, shape, radius)
    coeffs = rng.uniform(-0.2, 0.2, len(offs))
    st = ps.Stencil(coeffs, ndim, shape, radius, dtype=dtype)
    assert (st.ndim, st.radius, st.npoints, st.dtype) == (ndim, radius, len(offs), dtype)
    dims = {1: (300,), 2: (40, 33), 3: (14, 12, 17)}[ndim]
    u = rng.uniform(-1, 1, dims).astype(dtype)
    u0 = u.copy()
    kinds = ["periodic", "neumann", ("dirichlet", 0.25)][:ndim] if shape == "star" \
        else ["periodic"] * ndim
    bcs = [("dirichlet", k[1]) if isinstance(k, tuple) else (k, 0.0) for k in kinds]
    want = reference(u, coeffs, offs, 5, bcs, dtype)
    pel.set_min_work_per_thread(1)
    for t in (1, 2, 3):
        pel.set_num_threads(t)
        got = st.apply(u, 5, bc=kinds)
        assert got.dtype == dtype and np.array_equal(got, want), t
    assert np.array_equal(u, u0)                                  # input untouched
    blocked = st.apply(u, 5, bc=kinds, blocking={"tile": [4] * ndim, "time_block": 2})
    assert np.array_equal(blocked, want)
    streamed = st.apply(u, 5, bc=kinds, blocking={"streaming_stores": True})
    assert np.array_equal(streamed, want)


def test_against_scipy_ndimage(rng):
    import scipy.ndimage as ndimage
    u = rng.uniform(-1, 1, (20, 24, 18))
    lap = ps.laplacian(3)
    weights = np.zeros((3, 3, 3))
    weights[1, 1, 1] = -6
    for o in [(0, 1, 1), (2, 1, 1), (1, 0, 1), (1, 2, 1), (1, 1, 0), (1, 1, 2)]:
        weights[o] = 1
    for bc, mode in [("dirichlet", "constant"), ("periodic", "wrap"), ("neumann", "reflect")]:
        want = ndimage.correlate(u, weights, mode=mode, cval=0.0)
        assert np.allclose(lap.apply(u, 1, bc=bc), want, atol=1e-13)
    box = ps.Stencil(np.arange(27) / 27.0, 3, "box", 1)
    want = ndimage.correlate(u, (np.arange(27) / 27.0).reshape(3, 3, 3), mode="wrap")
    assert np.allclose(box.apply(u, 1, bc="periodic"), want, atol=1e-13)


def test_laplacians(rng):
    h = 0.5
    for ndim, npoints in [(1, 3), (2, 5), (2, 9), (3, 7), (3, 27), (3, 25)]:
        st = ps.Stencil.laplacian(ndim, npoints, spacing=h)
        assert st.npoints == npoints and st.ndim == ndim
        # exact on quadratics away from the boundary: Laplace(sum x_i^2) = 2*ndim
        n = 12
        grids = np.meshgrid(*[np.arange(n) * h] * ndim, indexing="ij")
        u = sum(g ** 2 for g in grids)
        got = st.apply(u, 1, bc="neumann")
        r = st.radius
        inner = got[tuple(slice(r, n - r) for _ in range(ndim))]
        assert np.allclose(inner, 2 * ndim, atol=1e-9), (ndim, npoints)
    assert ps.laplacian(2).npoints == 5
    with pytest.raises(pel.InvalidArgumentError, match="^pel_stencil_create_laplacian: "):
        ps.laplacian(2, 7)
    with pytest.raises(pel.InvalidArgumentError, match="spacing"):
        ps.laplacian(2, 5, spacing=-1.0)


def test_rhs_out_and_in_place(rng):
    offs = ps.offsets(2)
    coeffs = [0.25, 0.25, 0.0, 0.25, 0.25]
    st = ps.Stencil(coeffs, 2, rhs_weight=0.1)
    u = rng.uniform(-1, 1, (30, 20))
    f = rng.uniform(-1, 1, (30, 20))
    want = reference(u, coeffs, offs, 7, [("dirichlet", 0.0)] * 2, np.float64, rhs=f, weight=0.1)
    assert np.array_equal(st.apply(u, 7, rhs=f), want)
    out = np.empty_like(u)
    assert st.apply(u, 7, rhs=f, out=out) is out and np.array_equal(out, want)
    v = u.copy()
    assert st.apply(v, 7, rhs=f, out=v) is v and np.array_equal(v, want)
    assert np.array_equal(st.apply(u, 0, rhs=f), u)
    assert np.array_equal(ps.apply(st, u.tolist(), 7, rhs=f), want)   # lists are converted
    with pytest.raises(pel.InvalidArgumentError, match="^pel_stencil_apply: .*rhs"):
        st.apply(u, 1)
    with pytest.raises(ValueError, match="rhs has shape"):
        st.apply(u, 1, rhs=f[:2])


def test_errors(rng):
    with pytest.raises(pel.InvalidArgumentError, match="^pel_stencil_create: .*ncoefficients"):
        ps.Stencil([1.0, 2.0], 2)
    with pytest.raises(pel.InvalidArgumentError, match="^pel_stencil_create: .*radius"):
        ps.Stencil([1.0] * 3, 1, radius=0)
    with pytest.raises(ValueError, match="shape"):
        ps.Stencil([1.0] * 3, 1, shape="cross")
    with pytest.raises(TypeError, match="dtype"):
        ps.Stencil([1.0] * 3, 1, dtype=np.complex128)
    lap = ps.laplacian(2)
    u = rng.uniform(-1, 1, (8, 8))
    with pytest.raises(pel.InvalidArgumentError, match="^pel_stencil_apply: .*periodic"):
        lap.apply(u, 1, bc=[("periodic", "dirichlet"), "neumann"])
    with pytest.raises(ValueError, match="unknown boundary"):
        lap.apply(u, 1, bc="open")
    with pytest.raises(ValueError, match="entries"):
        lap.apply(u, 1, bc=["periodic"] * 3)
    with pytest.raises(ValueError, match="2-D"):
        lap.apply(np.ones(5), 1)
    with pytest.raises(TypeError, match="lose"):
        ps.laplacian(2, dtype=np.float32).apply(u, 1)
    with pytest.raises(TypeError, match="lose"):
        lap.apply(u + 1j, 1)
    with pytest.raises(ValueError, match="negative"):
        lap.apply(u, -1)
    with pytest.raises(pel.InvalidArgumentError, match="^pel_stencil_apply: .*tile"):
        lap.apply(u, 1, blocking={"tile": [100, 100]})
    with pytest.raises(ValueError, match="unknown blocking"):
        lap.apply(u, 1, blocking={"tiles": [2, 2]})


def test_jacobi_poisson(rng):
    n = 24
    h = 1.0 / (n + 1)
    x = np.arange(1, n + 1) * h
    X, Y = np.meshgrid(x, x, indexing="ij")
    f = 2 * np.pi ** 2 * np.sin(np.pi * X) * np.sin(np.pi * Y)
    res = ps.jacobi_poisson(f, spacing=h, tol=1e-6, max_iter=20000)
    assert res.converged and res.iterations > 0 and res.residual <= 1e-6
    u = res.u
    p = np.pad(u, 1)
    lap = (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u) / h ** 2
    assert np.max(np.abs(f + lap)) / np.max(np.abs(f)) <= 1e-6 * 1.01
    assert np.max(np.abs(u - np.sin(np.pi * X) * np.sin(np.pi * Y))) < 5e-3   # O(h^2)
    again = ps.jacobi_poisson(f, spacing=(h, h), tol=1e-6, max_iter=20000)
    assert np.array_equal(again.u, u)
    with pytest.raises(pel.NotConvergedError, match="^pel_stencil_jacobi_poisson: "):
        ps.jacobi_poisson(f, spacing=h, tol=1e-12, max_iter=10)
    partial = ps.jacobi_poisson(f, spacing=h, tol=1e-12, max_iter=10, raise_on_failure=False)
    assert not partial.converged and partial.iterations == 10
    with pytest.raises(pel.InvalidArgumentError, match="max_iterations"):
        ps.jacobi_poisson(f, spacing=h, max_iter=0)
    with pytest.raises(pel.InvalidArgumentError, match="spacing"):
        ps.jacobi_poisson(f, spacing=0.0)
    f32 = ps.jacobi_poisson(f.astype(np.float32), spacing=h, tol=1e-4, max_iter=20000)
    assert f32.u.dtype == np.float32 and f32.converged


def test_concurrent_apply(rng):
    lap = ps.laplacian(3)
    grids = [rng.uniform(-1, 1, (20, 20, 20)) for _ in range(4)]
    want = [lap.apply(g, 3, bc="periodic") for g in grids]
    def worker(i):
        for _ in range(10):
            assert np.array_equal(lap.apply(grids[i], 3, bc="periodic"), want[i])
    run_in_threads(worker)


def test_zeros_grid(rng):
    lap = ps.laplacian(3, dtype=np.float32)
    g = lap.zeros((10, 12, 14))
    assert g.shape == (10, 12, 14) and g.dtype == np.float32 and not g.any()
    assert g.ctypes.data % 64 == 0 and g.flags.c_contiguous and g.flags.writeable
    g[...] = rng.uniform(-1, 1, g.shape)
    want = lap.apply(g.copy(), 2, bc="periodic")
    assert np.array_equal(lap.apply(g, 2, bc="periodic", out=g), want)
    view = g[2]
    del g                      # the view keeps pel's memory alive
    assert np.array_equal(view, want[2])
    with pytest.raises(ValueError, match="3-D"):
        lap.zeros((4, 4))
    with pytest.raises(pel.InvalidArgumentError, match="^pel_stencil_grid_alloc: "):
        lap.zeros((4, 0, 4))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_jacobi_non_finite_never_converges(rng, dtype, bad):
    """NaN/Inf in f, u0 or a Dirichlet value: a clear error before any work
    (it used to come back with converged=True and residual NaN)."""
    f = rng.uniform(-1, 1, (6, 7)).astype(dtype)
    f[2, 3] = bad
    for flag in (True, False):
        with pytest.raises(pel.InvalidArgumentError, match=r"^pel_stencil_jacobi_poisson: f\[17\]=.* not finite"):
            ps.jacobi_poisson(f, spacing=0.1, raise_on_failure=flag)
    f[2, 3] = 0.5
    u0 = np.zeros_like(f)
    u0[0, 1] = bad
    with pytest.raises(ValueError, match=r"u\[1\]=.* not finite"):
        ps.jacobi_poisson(f, spacing=0.1, u0=u0, raise_on_failure=False)
    with pytest.raises(ValueError, match=r"faces\[0\]\.value=.* not a finite"):
        ps.jacobi_poisson(f, spacing=0.1, bc=[(("dirichlet", bad), "dirichlet"), "periodic"],
                          raise_on_failure=False)


@pytest.mark.parametrize("dtype,big", [(np.float64, 1.5e308), (np.float32, 3.0e38)])
def test_jacobi_overflow_reports_not_converged(dtype, big):
    """Finite f whose solution overflows: converged=False with a non-finite
    residual (raise_on_failure=False), NotConvergedError otherwise."""
    f = np.full(64, big, dtype=dtype)
    res = ps.jacobi_poisson(f, spacing=1.0, tol=np.inf, max_iter=1000, check_interval=10,
                            raise_on_failure=False)
    assert res.converged is False
    assert not np.isfinite(res.residual)
    assert res.iterations == 10
    with pytest.raises(pel.NotConvergedError, match="not finite"):
        ps.jacobi_poisson(f, spacing=1.0, max_iter=1000, check_interval=10)


# ------------------------------------------------------------ stencil forms

@pytest.mark.parametrize("kind", ["neumann", "nearest", "mirror"])
def test_reflecting_kinds_on_short_axes(rng, kind):
    """Axes shorter than the radius reflect repeatedly, like numpy.pad."""
    offs = ps.offsets(2, "box", 3)
    coeffs = rng.uniform(-0.2, 0.2, len(offs))
    st = ps.Stencil(coeffs, 2, "box", 3)
    u = rng.uniform(-1, 1, (2, 9))
    want = reference(u, coeffs, offs, 3, [(kind, 0.0), (kind, 0.0)], np.float64)
    assert np.array_equal(st.apply(u, 3, bc=kind), want)


def test_factored_and_general(rng, threads):
    offs = ps.offsets(3, "star", 1)
    coeffs = rng.uniform(0.05, 0.2, len(offs))
    st = ps.Stencil(coeffs, 3)
    u = rng.uniform(-1, 1, (9, 11, 13))
    a = rng.uniform(0.5, 1.0, u.shape)
    b = rng.uniform(-0.2, 0.2, u.shape)
    g = rng.uniform(0.0, 0.25, (len(offs),) + u.shape)
    want_f, want_g = u.copy(), u.copy()
    for _ in range(4):
        p = np.pad(want_f, 1, mode="edge")
        acc = None
        for ck, o in zip(coeffs, offs):
            view = p[tuple(slice(1 + d, 1 + d + n) for d, n in zip(o, u.shape))]
            acc = ck * view if acc is None else acc + ck * view
        want_f = a * acc + b * want_f
        p = np.pad(want_g, 1, mode="edge")
        acc = None
        for gk, o in zip(g, offs):
            view = p[tuple(slice(1 + d, 1 + d + n) for d, n in zip(o, u.shape))]
            acc = gk * view if acc is None else acc + gk * view
        want_g = acc
    pel.set_min_work_per_thread(1)
    for t in (1, 3):
        pel.set_num_threads(t)
        assert np.array_equal(st.apply_factored(u, 4, bc="nearest", scale=a, center=b), want_f)
        assert np.array_equal(st.apply_general(u, g, 4, bc="nearest"), want_g)
    with pytest.raises(ValueError, match="term grids"):
        st.apply_general(u, g[:3], 1)
    with pytest.raises(ValueError, match="scale has shape"):
        st.apply_factored(u, 1, scale=a[:2])


def test_wave_plane_wave_order2():
    """Leapfrog with the 3-point Laplacian: second-order convergence."""
    def error(n):
        h, steps, t_end = 1.0 / n, n // 2, 0.25
        dt = t_end / steps
        x = np.arange(n) * h
        k = 2 * np.pi
        prev, cur = np.sin(k * x + k * dt), np.sin(k * x)
        lap = ps.laplacian(1, spacing=h)
        gamma = np.full(n, dt * dt)
        p, c = lap.apply_wave(prev, cur, steps, bc="periodic", gamma=gamma)
        assert np.array_equal(cur, np.sin(k * x))  # inputs untouched
        return np.max(np.abs(c - np.sin(k * x - k * t_end)))
    ratio = error(64) / error(128)
    assert 3.5 < ratio < 4.5


def test_rows_upwind(rng):
    """A Python row kernel (upwind advection) equals the plain numpy update."""
    c = 0.3

    def kernel(out, rows, index):
        centre = rows[0]
        out[:] = centre[1:-1] - c * (centre[1:-1] - centre[:-2])

    u = rng.uniform(-1, 1, 50)
    want = u.copy()
    for _ in range(6):
        want = want - c * (want - np.roll(want, 1))
    got = ps.apply_rows(kernel, u, radius=1, steps=6, bc="periodic")
    assert np.array_equal(got, want)

    def broken(out, rows, index):
        raise RuntimeError("kernel failed")
    with pytest.raises(RuntimeError, match="kernel failed"):
        ps.apply_rows(broken, u, steps=1)


def test_fma_order(rng):
    """order='fma' differs from the separate order by rounding only and gives
    the same bits on every thread count (numpy has no fma; tests/
    test_stencil_forms.c compares it with a naive loop written with fma())."""
    offs = ps.offsets(2, "star", 1)
    coeffs = rng.uniform(0.1, 0.3, len(offs))
    fused = ps.Stencil(coeffs, 2, order="fma")
    plain = ps.Stencil(coeffs, 2)
    u = rng.uniform(-1, 1, (40, 37))
    pel.set_min_work_per_thread(1)
    pel.set_num_threads(1)
    one = fused.apply(u, 6, bc="mirror")
    assert not np.array_equal(one, plain.apply(u, 6, bc="mirror"))
    assert np.allclose(one, plain.apply(u, 6, bc="mirror"), rtol=1e-13, atol=1e-13)
    for t in (2, 3):
        pel.set_num_threads(t)
        assert np.array_equal(fused.apply(u, 6, bc="mirror"), one)
    with pytest.raises(ValueError, match="order"):
        ps.Stencil(coeffs, 2, order="fused")


def test_system_apply(rng):
    """Two coupled fields against the numpy loop in the documented order."""
    offs = ps.offsets(2, "star", 1)
    c = [rng.uniform(0.05, 0.2, len(offs)) for _ in range(3)]
    st = [ps.Stencil(ck, 2) for ck in c]
    u, v = rng.uniform(-1, 1, (20, 17)), rng.uniform(-1, 1, (20, 17))
    scale = rng.uniform(0.5, 1.0, u.shape)

    def stencil_sum(ck, x):
        p = np.pad(x, 1, mode="wrap")
        acc = None
        for coef, o in zip(ck, offs):
            view = p[tuple(slice(1 + d, 1 + d + n) for d, n in zip(o, x.shape))]
            acc = coef * view if acc is None else acc + coef * view
        return acc
    want_u, want_v = u.copy(), v.copy()
    for _ in range(5):
        new_u = stencil_sum(c[0], want_u) + scale * stencil_sum(c[1], want_v)
        new_v = stencil_sum(c[2], want_v)
        want_u, want_v = new_u, new_v
    got_u, got_v = ps.system_apply([(0, 0, st[0]), (0, 1, st[1], scale), (1, 1, st[2])], [u, v], 5,
                                   bc="periodic")
    assert np.array_equal(got_u, want_u) and np.array_equal(got_v, want_v)
    with pytest.raises(pel.InvalidArgumentError, match="^pel_stencil_system_apply: field 1"):
        ps.system_apply([(0, 0, st[0])], [u, v], 1)
