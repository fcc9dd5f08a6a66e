# %% [markdown]
# # FFTs with pel from Python
#
# A notebook-style script (the `# %%` cells open as a notebook in Jupyter or
# VS Code; `python3 fft_python.py` runs it top to bottom). `pel.fft` has
# numpy.fft's names and arguments; the transforms run on FFTW through pel's
# thread-safe plan cache with pel's threads, and release the GIL.
#
# Usage: python3 examples/fft_python.py [n]   (default 256)

# %%
import sys

import numpy as np

import pel

n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
rng = np.random.default_rng(3)
print(f"pel {pel.version()} from {pel.library_path}; {pel.get_num_threads()} threads")

# %% [markdown]
# ## Same answers as numpy.fft
# A 2-D complex transform, a real-to-complex transform and their inverses.

# %%
x = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
X = pel.fft.fft2(x)
error = np.max(np.abs(X - np.fft.fft2(x))) / np.max(np.abs(X))
print(f"fft2 of {n}x{n}: relative difference from numpy.fft {error:.1e}")
assert error < 1e-12

r = rng.standard_normal((n, n))
R = pel.fft.rfft2(r)
assert R.shape == (n, n // 2 + 1)  # the half spectrum, as numpy's
back = pel.fft.irfft2(R, s=r.shape)
print(f"irfft2(rfft2(r)) round trip: max error {np.max(np.abs(back - r)):.1e}")
assert np.allclose(back, r, atol=1e-12)

# %% [markdown]
# ## Spectral differentiation
# The derivative of a periodic function is i*k times its Fourier
# coefficients: exact to rounding for a band-limited signal.

# %%
t = np.arange(n) * (2 * np.pi / n)
f = np.sin(3 * t) + 0.5 * np.cos(7 * t)
k = np.fft.rfftfreq(n, d=1.0 / n)  # integer wavenumbers 0 .. n/2
df = pel.fft.irfft(1j * k * pel.fft.rfft(f), n=n)
exact = 3 * np.cos(3 * t) - 3.5 * np.sin(7 * t)
print(f"spectral derivative: max error {np.max(np.abs(df - exact)):.1e}")
assert np.max(np.abs(df - exact)) < 1e-10

# %% [markdown]
# ## Blurring by FFT convolution
# `pel.fft.fftconvolve` matches scipy.signal.fftconvolve; mode "same" keeps
# the image's size. The Gaussian's weights sum to 1, so flat regions keep
# their value and the total brightness away from the edges is preserved.

# %%
image = np.zeros((n, n))
image[n // 4: 3 * n // 4, n // 4: 3 * n // 4] = 1.0
radius = 6
g = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * 2.0 ** 2))
kernel = np.outer(g, g) / np.outer(g, g).sum()
blurred = pel.fft.fftconvolve(image, kernel, mode="same")
print(f"blurred {n}x{n} image: total {blurred.sum():.6f} (before {image.sum():.6f}), "
      f"centre {blurred[n // 2, n // 2]:.6f}, edge of the square {blurred[n // 4, n // 2]:.3f}")
assert abs(blurred.sum() - image.sum()) < 1e-8 * image.sum()
assert abs(blurred[n // 2, n // 2] - 1.0) < 1e-12
print("fft_python: ok")
