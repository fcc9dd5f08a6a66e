# %% [markdown]
# # Stencils with pel from Python
#
# A notebook-style script (`# %%` cells; `python3 stencil_python.py` runs it
# top to bottom). A `pel.stencil.Stencil` is an immutable object; `apply`
# runs many time steps with temporal blocking on pel's threads, and the
# result has the same bits as the plain loop below, for any thread count.
#
# Usage: python3 examples/stencil_python.py [n [steps]]   (defaults 64, 200)

# %%
import sys

import numpy as np

import pel

n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200

# %% [markdown]
# ## The heat equation, explicit Euler
# u_new = u + r * Laplacian(u) is the 5-point stencil (r, r, 1-4r, r, r) in
# pel's point order (axis 0 slowest): up, left, centre, right, down.
# The left edge is a heater at 1; the other edges are held at 0.

# %%
r = 0.24
heat = pel.stencil.Stencil([r, r, 1 - 4 * r, r, r], ndim=2, shape="star")
u0 = np.zeros((n, n))
u0[3 * n // 8: 5 * n // 8, 3 * n // 8: 5 * n // 8] = 1.0
bc = [(0.0, 0.0), (1.0, 0.0)]  # axis 0: top, bottom; axis 1: left (heater), right
t0 = pel.wtime()
u = heat.apply(u0, steps=steps, bc=bc)
print(f"heat: {n}x{n}, {steps} steps in {pel.wtime() - t0:.3f} s; range [{u.min():.4f}, {u.max():.4f}]")

# %% [markdown]
# ## The same steps with numpy, term by term in pel's order
# Padding with the boundary values and adding the products one by one in the
# stencil's order gives exactly pel's bits.

# %%
v = u0.copy()
for _ in range(steps):
    p = np.pad(v, 1)
    p[1:-1, 0] = 1.0  # the heater column outside the left edge
    acc = r * p[:-2, 1:-1]
    acc = acc + r * p[1:-1, :-2]
    acc = acc + (1 - 4 * r) * p[1:-1, 1:-1]
    acc = acc + r * p[1:-1, 2:]
    acc = acc + r * p[2:, 1:-1]
    v = acc
print(f"largest difference from the numpy loop: {np.max(np.abs(u - v)):.1e}")
assert np.array_equal(u, v)

# %% [markdown]
# ## A Poisson problem with the Jacobi solver
# -Laplace(u) = 2 pi^2 sin(pi x) sin(pi y) on the unit square, u = 0 on the
# boundary: the solution is sin(pi x) sin(pi y), and the 5-point scheme's
# error is about pi^2 h^2 / 12.

# %%
m = 31
h = 1.0 / (m + 1)
x = np.arange(1, m + 1) * h
exact = np.outer(np.sin(np.pi * x), np.sin(np.pi * x))
result = pel.stencil.jacobi_poisson(2 * np.pi ** 2 * exact, spacing=h, tol=1e-9, max_iter=50000)
error = np.max(np.abs(result.u - exact))
print(f"jacobi_poisson: {result.iterations} iterations, residual {result.residual:.1e}, "
      f"error {error:.2e} (bound ~{np.pi ** 2 * h ** 2 / 12 * 1.5:.2e})")
assert result.converged and error < np.pi ** 2 * h ** 2 / 12 * 1.5
print("stencil_python: ok")
