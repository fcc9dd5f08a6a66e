"""Stencils (include/pel/stencil.h): constant-coefficient star and box
stencils of any radius in 1 to 3 dimensions, applied for many steps with
per-face boundary conditions, spatial and temporal blocking, results
bit-identical to a plain serial loop for every thread count.

Boundary conditions (``bc=``) are given per face:

* a face: ``"dirichlet"`` (value 0), a number (Dirichlet with that value),
  ``("dirichlet", value)``, ``"periodic"``, ``"neumann"`` (zero gradient,
  mirrored about the face, the edge repeated: numpy's ``symmetric``),
  ``"nearest"`` (the edge value repeated: numpy's ``edge``) or ``"mirror"``
  (reflected about the edge point, not repeated: numpy's ``reflect``); on
  axes shorter than the radius the reflections repeat;
* ``bc`` is one face spec for every face, or a sequence with one entry per
  axis, each a face spec or a ``(lower, upper)`` pair of face specs.
  Periodic must be set on both faces of an axis.
"""

import itertools
import math
from collections import namedtuple
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_double, c_float, c_int, c_size_t,
                    c_void_p)
from numbers import Real

import numpy as np

from . import _args, _arrays
from ._arrays import FLOAT32, FLOAT64
from ._core import adopt_pel_memory
from ._errors import NotConvergedError
from ._lib import declare

MAX_RADIUS = 8
_PRECISION = {FLOAT64: 0, FLOAT32: 1}
_DTYPE = {0: FLOAT64, 1: FLOAT32}
_SHAPES = {"star": 0, "box": 1}
_DIRICHLET, _PERIODIC, _NEUMANN, _NEAREST, _MIRROR = 0, 1, 2, 3, 4


class _Boundary(Structure):
    _fields_ = [("kind", c_int), ("value", c_double)]


class _Blocking(Structure):
    _fields_ = [("tile", c_size_t * 3), ("time_block", c_size_t), ("cache_bytes", c_size_t),
                ("streaming_stores", c_int)]


def _decl(name, argtypes, status=True, restype=None):
    return declare(name, restype, argtypes, status=status, required=False)


_dims_t = POINTER(c_size_t)
_create = _decl("pel_stencil_create", [c_int, c_int, c_int, c_int, POINTER(c_double), c_size_t,
                                       c_int, c_double, POINTER(c_void_p)])
_create_laplacian = _decl("pel_stencil_create_laplacian",
                          [c_int, c_int, c_int, c_double, POINTER(c_void_p)])
_destroy = _decl("pel_stencil_destroy", [c_void_p], status=False)
_info = _decl("pel_stencil_info", [c_void_p, POINTER(c_int), POINTER(c_int), POINTER(c_int),
                                   POINTER(c_size_t)])
_apply = _decl("pel_stencil_apply", [c_void_p, _dims_t, POINTER(_Boundary), c_void_p, c_void_p,
                                     c_void_p, c_size_t, POINTER(_Blocking), POINTER(c_void_p)])
_grid_alloc = _decl("pel_stencil_grid_alloc", [c_void_p, _dims_t, POINTER(c_void_p)])
_create_fma = _decl("pel_stencil_create_fma", [c_int, c_int, c_int, c_int, POINTER(c_double), c_size_t,
                                               c_int, c_double, POINTER(c_void_p)])


class _Term(Structure):
    _fields_ = [("output", c_int), ("input", c_int), ("stencil", c_void_p), ("scale", c_void_p)]


_system_apply = _decl("pel_stencil_system_apply",
                      [c_int, POINTER(_Term), c_size_t, _dims_t, POINTER(_Boundary), POINTER(c_void_p),
                       POINTER(c_void_p), c_size_t, POINTER(_Blocking)])
_apply_factored = _decl("pel_stencil_apply_factored",
                        [c_void_p, _dims_t, POINTER(_Boundary), c_void_p, c_void_p, c_void_p, c_void_p,
                         c_void_p, c_size_t, POINTER(_Blocking), POINTER(c_void_p)])
_apply_general = _decl("pel_stencil_apply_general",
                       [c_void_p, _dims_t, POINTER(_Boundary), c_void_p, c_void_p, POINTER(c_void_p),
                        c_void_p, c_size_t, POINTER(_Blocking), POINTER(c_void_p)])
_apply_wave = _decl("pel_stencil_apply_wave",
                    [c_void_p, _dims_t, POINTER(_Boundary), POINTER(c_void_p), c_double, c_double,
                     c_void_p, c_size_t, POINTER(_Blocking)])
_ROW_FUNCTION = CFUNCTYPE(None, c_void_p, POINTER(c_void_p), c_size_t, POINTER(c_size_t), c_void_p)
_apply_rows = _decl("pel_stencil_apply_rows",
                    [c_int, c_int, c_int, _dims_t, POINTER(_Boundary), c_void_p, c_void_p, _ROW_FUNCTION,
                     c_void_p, c_size_t, POINTER(_Blocking), POINTER(c_void_p)])
_jacobi = _decl("pel_stencil_jacobi_poisson",
                [c_int, c_int, _dims_t, POINTER(c_double), POINTER(_Boundary), c_void_p, c_void_p,
                 c_double, c_size_t, c_size_t, POINTER(c_size_t), POINTER(c_double)])


def offsets(ndim, shape="star", radius=1):
    """The stencil's points in pel's order (lexicographic, axis 0 slowest):
    the order of the coefficients :class:`Stencil` takes."""
    if shape not in _SHAPES:
        raise ValueError(f"offsets: shape must be 'star' or 'box', not {shape!r}")
    # The same rules (and C types) as Stencil's ndim and radius.
    ndim = _args.c_int("offsets", "ndim", ndim, 0)
    radius = _args.c_int("offsets", "radius", radius, 0)
    span = range(-radius, radius + 1)
    points = itertools.product(span, repeat=ndim)
    if shape == "star":
        points = (p for p in points if sum(1 for v in p if v) <= 1)
    return list(points)


# ----------------------------------------------------------- boundaries

def _face(func, spec):
    if isinstance(spec, str):
        kinds = {"dirichlet": _DIRICHLET, "periodic": _PERIODIC, "neumann": _NEUMANN,
                 "nearest": _NEAREST, "mirror": _MIRROR}
        if spec not in kinds:
            raise ValueError(f"{func}: unknown boundary {spec!r} (use 'dirichlet', 'periodic', "
                             "'neumann', 'nearest', 'mirror', a number or ('dirichlet', value))")
        return (kinds[spec], 0.0)
    if isinstance(spec, Real):
        return (_DIRICHLET, float(spec))
    if _is_dirichlet_pair(spec):
        return (_DIRICHLET, float(spec[1]))
    raise ValueError(f"{func}: cannot read boundary condition {spec!r}")


def _is_dirichlet_pair(spec):
    return (isinstance(spec, tuple) and len(spec) == 2 and spec[0] == "dirichlet"
            and isinstance(spec[1], Real))


def _faces(func, bc, ndim):
    """bc as the C array of 2*ndim faces."""
    if isinstance(bc, (str, Real)) or _is_dirichlet_pair(bc):
        per_axis = [(bc, bc)] * ndim
    else:
        bc = list(bc)
        if len(bc) != ndim:
            raise ValueError(f"{func}: bc has {len(bc)} entries for a {ndim}-D grid (give one "
                             "per axis, or one for all faces)")
        per_axis = []
        for entry in bc:
            if isinstance(entry, (str, Real)) or _is_dirichlet_pair(entry):
                per_axis.append((entry, entry))
            elif isinstance(entry, (tuple, list)) and len(entry) == 2:
                per_axis.append(tuple(entry))
            else:
                raise ValueError(f"{func}: cannot read boundary condition {entry!r}")
    faces = (_Boundary * (2 * ndim))()
    for axis, (lower, upper) in enumerate(per_axis):
        faces[2 * axis] = _Boundary(*_face(func, lower))
        faces[2 * axis + 1] = _Boundary(*_face(func, upper))
    return faces


def _blocking(func, blocking):
    if blocking is None:
        return None
    unknown = set(blocking) - {"tile", "time_block", "cache_bytes", "streaming_stores"}
    if unknown:
        raise ValueError(f"{func}: unknown blocking keys {sorted(unknown)}")
    b = _Blocking()
    tile = _args.sizes(func, "blocking['tile']", blocking.get("tile", ()))
    if len(tile) > 3:
        raise ValueError(f"{func}: blocking tile {tile} must be up to 3 non-negative sizes")
    for i, t in enumerate(tile):
        b.tile[i] = t
    b.time_block = _args.size(func, "blocking['time_block']", blocking.get("time_block", 0))
    b.cache_bytes = _args.size(func, "blocking['cache_bytes']", blocking.get("cache_bytes", 0))
    b.streaming_stores = 1 if blocking.get("streaming_stores", False) else 0
    return byref(b)


def _grid_input(func, grid, dtype, ndim):
    g = grid if isinstance(grid, np.ndarray) else np.asarray(grid)
    if g.ndim != ndim:
        raise ValueError(f"{func}: the stencil is {ndim}-D, the grid has shape {g.shape}")
    if g.dtype.kind not in "biuf" or not np.can_cast(g.dtype, dtype, "safe"):
        raise TypeError(f"{func}: {g.dtype} grid with a {dtype} stencil would lose data; "
                        f"convert it, or build the stencil with dtype={g.dtype}")
    return g


# ------------------------------------------------------------------ Stencil

class Stencil:
    """An immutable stencil, shareable between threads.

    ``Stencil(coefficients, ndim, shape="star", radius=1, dtype=float64,
    rhs_weight=None)``: one coefficient per point in the order of
    :func:`offsets` (2*ndim*radius+1 for a star, (2*radius+1)**ndim for a
    box). With ``rhs_weight`` every update adds ``rhs_weight * rhs`` last
    (pass ``rhs=`` to :meth:`apply`). New values are
    ``sum_k c[k] * u(p + o[k])`` summed in point order, each product rounded
    before the addition, so a plain loop written that way gives the same bits.
    With ``order="fma"`` the terms are fused instead: ``acc = fma(c[k],
    u(p+o[k]), acc)``, the bits of a plain loop written with fma() (an order
    that allows twice the arithmetic rate on FMA machines).
    """

    def __init__(self, coefficients, ndim, shape="star", radius=1, dtype=np.float64,
                 rhs_weight=None, order="separate"):
        self._handle = c_void_p()
        if order not in ("separate", "fma"):
            raise ValueError(f"Stencil: order must be 'separate' or 'fma', not {order!r}")
        dtype = np.dtype(dtype)
        if dtype not in _PRECISION:
            raise TypeError(f"Stencil: dtype must be float32 or float64, not {dtype}")
        if shape not in _SHAPES:
            raise ValueError(f"Stencil: shape must be 'star' or 'box', not {shape!r}")
        coeffs = _args.real_array("Stencil", "coefficients", coefficients).reshape(-1)
        weight = 0.0 if rhs_weight is None else _args.real_scalar("Stencil", "rhs_weight",
                                                                  rhs_weight)
        (_create_fma if order == "fma" else _create)(
                _PRECISION[dtype], _args.c_int("Stencil", "ndim", ndim, 0),
                _SHAPES[shape], _args.c_int("Stencil", "radius", radius, 0),
                coeffs.ctypes.data_as(POINTER(c_double)), coeffs.shape[0],
                0 if rhs_weight is None else 1, weight, byref(self._handle))
        self.shape = shape
        self.has_rhs = rhs_weight is not None
        self._describe()

    def _describe(self):
        precision, ndim, radius, npoints = c_int(), c_int(), c_int(), c_size_t()
        _info(self._handle, byref(precision), byref(ndim), byref(radius), byref(npoints))
        self.dtype = _DTYPE[precision.value]
        self.ndim, self.radius, self.npoints = ndim.value, radius.value, npoints.value

    @classmethod
    def laplacian(cls, ndim, npoints=None, spacing=1.0, dtype=np.float64):
        """A common Laplacian scaled by 1/spacing**2: npoints 3 (1-D), 5 or 9
        (2-D), 7, 27 or 25 (3-D); default 2*ndim+1."""
        dtype = np.dtype(dtype)
        if dtype not in _PRECISION:
            raise TypeError(f"laplacian: dtype must be float32 or float64, not {dtype}")
        obj = cls.__new__(cls)
        obj._handle = c_void_p()
        ndim = _args.c_int("laplacian", "ndim", ndim, 0)
        npoints = 2 * ndim + 1 if npoints is None else _args.c_int("laplacian", "npoints",
                                                                   npoints, 0)
        _create_laplacian(_PRECISION[dtype], ndim, npoints,
                          _args.real_scalar("laplacian", "spacing", spacing), byref(obj._handle))
        obj.has_rhs = False
        obj._describe()
        obj.shape = "star" if obj.npoints == 2 * obj.ndim * obj.radius + 1 else "box"
        return obj

    def apply(self, grid, steps=1, bc="dirichlet", out=None, rhs=None, blocking=None):
        """Runs ``steps`` time steps on ``grid`` (C order, the stencil's
        ndim) with boundary conditions ``bc`` and returns the final grid.

        ``grid`` is not modified unless it is also ``out``; ``out=grid``
        (a C-contiguous array of the stencil's dtype) updates it in place.
        The grid is converted to the stencil's dtype when that loses nothing
        (TypeError otherwise). ``rhs`` (same shape) is required for a stencil
        with an rhs term. ``blocking`` is an optional dict with ``tile``
        (per-axis sizes), ``time_block``, ``cache_bytes`` and
        ``streaming_stores`` (bool: non-temporal stores of the destination);
        it never changes the result, only the speed."""
        func = "Stencil.apply"
        ndim = self.ndim
        g, steps, faces, rhs_buf = self._inputs(func, grid, rhs, steps, bc)
        return _run(func, g, self.dtype, out, (rhs,),
                    lambda a, b, final: _apply(self._handle, (c_size_t * ndim)(*g.shape), faces, a, b,
                                               rhs_buf.ctypes.data if rhs_buf is not None else None,
                                               steps, _blocking(func, blocking), final))

    def _inputs(self, func, grid, rhs, steps, bc):
        """The shared checks of the apply methods: grid, steps, faces, rhs."""
        g = _grid_input(func, grid, self.dtype, self.ndim)
        steps = _args.size(func, "steps", steps)
        return g, steps, _faces(func, bc, self.ndim), self._pointwise(func, rhs, g, "rhs")

    def _pointwise(self, func, array, g, name):
        """A read-only grid of the field's shape (or None) as a C buffer."""
        if array is None:
            return None
        a = _grid_input(func, array, self.dtype, self.ndim)
        if a.shape != g.shape:
            raise ValueError(f"{func}: {name} has shape {a.shape}, the grid {g.shape}")
        return _arrays.as_input(a, self.dtype)

    def apply_factored(self, grid, steps=1, bc="dirichlet", scale=None, center=None, out=None,
                       rhs=None, blocking=None):
        """Variable coefficients, factored form: each step computes
        ``acc = sum_k c[k] u(p+o[k])`` (the constant order), then
        ``acc = scale(p) * acc``, ``acc = acc + center(p) * u(p)``, then the
        rhs term; ``scale`` and ``center`` are arrays of the grid's shape or
        None. Otherwise as :meth:`apply`."""
        func = "Stencil.apply_factored"
        g, steps, faces, rhs_buf = self._inputs(func, grid, rhs, steps, bc)
        a_buf = self._pointwise(func, scale, g, "scale")
        b_buf = self._pointwise(func, center, g, "center")
        ptr = _pointer
        return _run(func, g, self.dtype, out, (rhs, scale, center),
                    lambda a, b, final: _apply_factored(
                        self._handle, (c_size_t * self.ndim)(*g.shape), faces, a, b, ptr(a_buf),
                        ptr(b_buf), ptr(rhs_buf), steps, _blocking(func, blocking), final))

    def apply_general(self, grid, term_grids, steps=1, bc="dirichlet", out=None, rhs=None,
                      blocking=None):
        """Variable coefficients, general form: one coefficient grid per
        term in the order of :func:`offsets` (``term_grids``, npoints arrays
        of the grid's shape or one array of shape (npoints,) + grid shape):
        ``acc = g[0](p) u(p+o[0]); acc = acc + g[k](p) u(p+o[k])``, then the
        rhs term; the stencil's constant coefficients are not used."""
        func = "Stencil.apply_general"
        g, steps, faces, rhs_buf = self._inputs(func, grid, rhs, steps, bc)
        terms = list(term_grids)
        if len(terms) != self.npoints:
            raise ValueError(f"{func}: {len(terms)} term grids for a stencil of {self.npoints} points")
        bufs = [self._pointwise(func, t, g, f"term_grids[{k}]") for k, t in enumerate(terms)]
        table = (c_void_p * len(bufs))(*[b.ctypes.data for b in bufs])
        return _run(func, g, self.dtype, out, tuple(terms) + (rhs,),
                    lambda a, b, final: _apply_general(
                        self._handle, (c_size_t * self.ndim)(*g.shape), faces, a, b, table,
                        _pointer(rhs_buf), steps, _blocking(func, blocking), final))

    def apply_wave(self, previous, current, steps=1, bc="dirichlet", alpha=2.0, beta=-1.0,
                   gamma=None, blocking=None):
        """Two time levels: ``steps`` steps of ``u(t+1) = alpha*u(t) +
        beta*u(t-1) + gamma(p) * S u(t)`` (leapfrog wave equations; see
        pel_stencil_apply_wave for the order of operations) from
        ``previous`` = u(t0-1) and ``current`` = u(t0). Returns the last two
        levels ``(u(t0+steps-1), u(t0+steps))`` as new arrays; the inputs are
        not modified."""
        func = "Stencil.apply_wave"
        g, steps, faces, _ = self._inputs(func, current, None, steps, bc)
        p = _grid_input(func, previous, self.dtype, self.ndim)
        if p.shape != g.shape:
            raise ValueError(f"{func}: previous has shape {p.shape}, current {g.shape}")
        gamma_buf = self._pointwise(func, gamma, g, "gamma")
        grids = [np.array(p, dtype=self.dtype, order="C"), np.array(g, dtype=self.dtype, order="C")]
        if g.size == 0:
            return grids[0], grids[1]
        grids += [np.empty_like(grids[1]), np.empty_like(grids[1])]
        by_address = {a.ctypes.data: a for a in grids}
        levels = (c_void_p * 4)(*[a.ctypes.data for a in grids])
        _apply_wave(self._handle, (c_size_t * self.ndim)(*g.shape), faces, levels, float(alpha),
                    float(beta), _pointer(gamma_buf), steps, _blocking(func, blocking))
        return by_address[levels[0]], by_address[levels[1]]

    __call__ = apply

    def zeros(self, shape):
        """A zeroed grid of ``shape`` for this stencil, allocated by pel
        (64-byte aligned, huge pages when large) and zeroed on pel's threads
        in the bands that :meth:`apply` gives each thread, so that on a NUMA
        machine each page lands near the thread that updates it. A normal
        ndarray; the memory is returned to pel when the array and every view
        of it are gone."""
        shape = tuple(_args.sizes("Stencil.zeros", "shape", shape))
        if len(shape) != self.ndim:
            raise ValueError(f"Stencil.zeros: the stencil is {self.ndim}-D, shape {shape}")
        address = c_void_p()
        _grid_alloc(self._handle, (c_size_t * self.ndim)(*shape), byref(address))
        return adopt_pel_memory(address.value, shape, self.dtype)

    def __repr__(self):
        return (f"<pel.stencil.Stencil {self.ndim}-D {self.shape} radius {self.radius}, "
                f"{self.npoints} points, {self.dtype}>")

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle and _destroy is not None:
            _destroy(handle)
            self._handle = c_void_p()


def _pointer(buffer):
    return buffer.ctypes.data if buffer is not None else None


def _run(func, g, dtype, out, inputs, call):
    """Two time-level buffers around one apply call: buffer A starts with
    the grid (out itself when that is safe), B is the second level; call(a,
    b, final) runs pel, which says in final which one holds the result."""
    result = _arrays.check_out(func, out, g.shape, dtype)
    if out is not None and (result is g or not _arrays.overlaps(result, g, *inputs)):
        a = result
        if a is not g:
            a[...] = g
    else:
        a = np.array(g, dtype=dtype, order="C")
    if g.size == 0:
        return result
    b = np.empty_like(a)
    final = c_void_p()
    call(a.ctypes.data, b.ctypes.data, byref(final))
    holder = a if final.value == a.ctypes.data else b
    if out is None:
        return holder
    if holder is not result:
        result[...] = holder
    return result


def apply_rows(function, grid, radius=1, steps=1, bc="dirichlet", out=None, blocking=None):
    """Runs ``steps`` steps of a Python row kernel: ``function(out, rows,
    index)`` fills ``out`` (a float64/float32 array of n points along the
    last axis) from ``rows``, the input rows at every offset -radius..radius
    of the outer axes in lexicographic order, each an array of n + 2*radius
    values (``rows[j][i + radius]`` lines up with ``out[i]``) already
    extended by the boundary rules; ``index`` is the grid index of out[0].
    pel does the tiling, temporal blocking, threads and boundaries (see
    pel_stencil_apply_rows for what the function may assume); the result is
    bit-identical for every thread count and blocking if the function is
    deterministic. Python row kernels are slow (one call per row, under the
    GIL): for testing and prototyping; C kernels are the fast path."""
    func = "apply_rows"
    g = grid if isinstance(grid, np.ndarray) else np.asarray(grid)
    dtype = _arrays.kernel_dtype(func, g, allowed=(FLOAT64, FLOAT32))
    ndim = g.ndim
    radius = _args.c_int(func, "radius", radius, 0)
    steps = _args.size(func, "steps", steps)
    if not 1 <= ndim <= 3:
        raise ValueError(f"{func}: the grid must have 1 to 3 dimensions, got shape {g.shape}")
    faces = _faces(func, bc, ndim)
    nrows = (2 * radius + 1) ** (ndim - 1)
    ctype = c_float if dtype == FLOAT32 else c_double
    size = np.dtype(dtype).itemsize
    failures = []

    def trampoline(out_ptr, rows_ptr, n, index_ptr, _user):
        if failures:
            return
        try:
            out_view = np.ctypeslib.as_array((ctype * n).from_address(out_ptr))
            rows = [np.ctypeslib.as_array((ctype * (n + 2 * radius)).from_address(
                rows_ptr[j] - radius * size)) for j in range(nrows)]
            function(out_view, rows, tuple(index_ptr[a] for a in range(ndim)))
        except BaseException as error:  # reported after the call returns
            failures.append(error)

    callback = _ROW_FUNCTION(trampoline)
    result = _run(func, _grid_input(func, g, dtype, ndim), dtype, out, (),
                  lambda a, b, final: _apply_rows(_PRECISION[np.dtype(dtype)], ndim, radius,
                                                  (c_size_t * ndim)(*g.shape), faces, a, b, callback,
                                                  None, steps, _blocking(func, blocking), final))
    if failures:
        raise failures[0]
    return result


def system_apply(terms, fields, steps=1, bc="dirichlet", blocking=None):
    """Coupled fields (pel_stencil_system_apply): ``fields`` is a list of 1
    to 4 arrays of one shape and dtype; ``terms`` a list of ``(output,
    input, stencil)`` or ``(output, input, stencil, scale)`` tuples: each
    step, field ``output`` gets ``scale * (stencil applied to field input)``
    summed over its terms in the order given. Returns the new fields (the
    inputs are not modified)."""
    func = "system_apply"
    arrays = [f if isinstance(f, np.ndarray) else np.asarray(f) for f in fields]
    if not 1 <= len(arrays) <= 4:
        raise ValueError(f"{func}: {len(arrays)} fields (1 to 4)")
    terms = list(terms)
    if not terms:
        raise ValueError(f"{func}: no terms")
    stencils = [t[2] for t in terms]
    dtype, ndim = stencils[0].dtype, stencils[0].ndim
    grids = [np.array(_grid_input(func, a, dtype, ndim), dtype=dtype, order="C") for a in arrays]
    if any(g.shape != grids[0].shape for g in grids):
        raise ValueError(f"{func}: the fields differ in shape: {[g.shape for g in grids]}")
    keep, table = [], (_Term * len(terms))()
    for i, t in enumerate(terms):
        scale = None
        if len(t) == 4 and t[3] is not None:
            scale = _arrays.as_input(_grid_input(func, t[3], dtype, ndim), dtype)
            if scale.shape != grids[0].shape:
                raise ValueError(f"{func}: terms[{i}] scale has shape {scale.shape}")
            keep.append(scale)
        table[i] = _Term(int(t[0]), int(t[1]), t[2]._handle.value, _pointer(scale))
    if grids[0].size == 0:
        return grids
    work = [np.empty_like(g) for g in grids]
    by_address = {a.ctypes.data: a for a in grids + work}
    field_ptrs = (c_void_p * len(grids))(*[g.ctypes.data for g in grids])
    work_ptrs = (c_void_p * len(grids))(*[w.ctypes.data for w in work])
    _system_apply(len(grids), table, len(terms), (c_size_t * ndim)(*grids[0].shape),
                  _faces(func, bc, ndim), field_ptrs, work_ptrs, _args.size(func, "steps", steps),
                  _blocking(func, blocking))
    return [by_address[field_ptrs[f]] for f in range(len(grids))]


def laplacian(ndim, npoints=None, spacing=1.0, dtype=np.float64):
    """A Laplacian :class:`Stencil` (see :meth:`Stencil.laplacian`)."""
    return Stencil.laplacian(ndim, npoints, spacing, dtype)


def apply(stencil, grid, steps=1, bc="dirichlet", out=None, rhs=None, blocking=None):
    """``stencil.apply(grid, steps, bc, ...)`` as a function."""
    return stencil.apply(grid, steps, bc=bc, out=out, rhs=rhs, blocking=blocking)


JacobiResult = namedtuple("JacobiResult", "u iterations residual converged")


def jacobi_poisson(f, spacing=1.0, bc="dirichlet", u0=None, tol=1e-6, max_iter=10000,
                   check_interval=0, dtype=None, raise_on_failure=True):
    """Solves ``-Laplace(u) = f`` on a regular 1-D to 3-D grid by Jacobi
    iteration (the (2*ndim+1)-point stencil, temporally blocked between
    residual checks every ``check_interval`` steps; 0 = pel's default of 50).
    ``spacing`` is one number or one per axis; ``bc`` as for
    :meth:`Stencil.apply`; ``u0`` the initial guess (zeros by default).
    Stops when the relative residual max|f + Laplace_h(u)| / max|f| is at
    most ``tol``. Returns ``JacobiResult(u, iterations, residual,
    converged)``; when ``max_iter`` steps did not converge, or the iterate
    overflowed the precision (``residual`` is then ``inf``: a non-finite
    residual is never convergence), it raises :class:`pel.NotConvergedError`
    (a RuntimeError), unless ``raise_on_failure`` is false, which returns
    the last iterate with ``converged=False``. NaN or Inf in ``f``, in
    ``u0`` or in a Dirichlet value of ``bc`` can never converge and raises
    :class:`pel.InvalidArgumentError` (a ValueError) naming the first bad
    value, whatever ``raise_on_failure`` says. The result does not depend on
    the thread count."""
    func = "jacobi_poisson"
    fa = f if isinstance(f, np.ndarray) else np.asarray(f)
    if dtype is None:
        dtype = _arrays.kernel_dtype(func, fa, allowed=(FLOAT64, FLOAT32))
    dtype = np.dtype(dtype)
    if dtype not in _PRECISION:
        raise TypeError(f"{func}: dtype must be float32 or float64, not {dtype}")
    ndim = fa.ndim
    if not 1 <= ndim <= 3:
        raise ValueError(f"{func}: f must have 1 to 3 dimensions, got shape {fa.shape}")
    f_buf = _arrays.as_input(_grid_input(func, fa, dtype, ndim), dtype)
    if u0 is None:
        u = np.zeros(fa.shape, dtype=dtype)
    else:
        u_in = _grid_input(func, u0, dtype, ndim)
        if u_in.shape != fa.shape:
            raise ValueError(f"{func}: u0 has shape {u_in.shape}, f has {fa.shape}")
        u = np.array(u_in, dtype=dtype, order="C")
    h = np.broadcast_to(_args.real_array(func, "spacing", spacing), (ndim,)).copy()
    tol = _args.real_scalar(func, "tol", tol)
    max_iter = _args.size(func, "max_iter", max_iter)
    check_interval = _args.size(func, "check_interval", check_interval)
    # NaN until pel writes it: a failing call may leave its outputs untouched
    # (the out-argument rule), and an unknown residual must not read as 0.
    iterations, residual = c_size_t(), c_double(math.nan)
    try:
        _jacobi(_PRECISION[dtype], ndim, (c_size_t * ndim)(*fa.shape),
                h.ctypes.data_as(POINTER(c_double)), _faces(func, bc, ndim), u.ctypes.data,
                f_buf.ctypes.data, tol, max_iter, check_interval,
                byref(iterations), byref(residual))
    except NotConvergedError:
        if raise_on_failure:
            raise
        return JacobiResult(u, iterations.value, residual.value, False)
    # Converged means a finite residual within the tolerance, whatever the C
    # status said: NaN or Inf in f, u0 or the spacing give a NaN residual,
    # and NaN compares false with everything.
    if not (math.isfinite(residual.value) and residual.value <= tol):
        if raise_on_failure:
            raise NotConvergedError(
                f"pel_stencil_jacobi_poisson: residual={residual.value} after "
                f"{iterations.value} iterations is not a finite value <= tol={tol} "
                "(NaN or Inf in the inputs?)", function="pel_stencil_jacobi_poisson",
                status=NotConvergedError.status)
        return JacobiResult(u, iterations.value, residual.value, False)
    return JacobiResult(u, iterations.value, residual.value, True)
