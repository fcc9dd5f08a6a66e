"""pel.fft.dctn / idctn (types II and III) on pel's DCT-by-FFT path against
the same transform on FFTW's REDFT10/REDFT01 path (forced with the test hook
pel__fft_dct_by_fft_test_force) and against scipy.fft, in one process:
interleaved rounds, medians, after the plan upgrades of both pel paths.

    PEL_LIBRARY=_build/.libs/libpel.so /usr/bin/python3 benchmarks/dct_paths.py [n] [workers]

n: the cube's side (default 256); workers: scipy's workers (default 2; pel
runs with its default thread count). Used for docs/fft.md and docs/python.md
("DCT by FFT")."""
import ctypes
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python-bindings"))
import numpy as np  # noqa: E402
import scipy.fft  # noqa: E402
import pel.fft  # noqa: E402


def once(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def settle(f):
    """First call (planning included), then the wait for the upgrade."""
    first = once(f)
    t = time.perf_counter()
    pending = pel.fft.upgrade_wait(120.0)
    return first, time.perf_counter() - t, pending


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    w = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    lib = ctypes.CDLL(os.environ["PEL_LIBRARY"])
    x = np.random.default_rng(1).uniform(-1, 1, (n, n, n))
    ref = scipy.fft.dctn(x, workers=w)
    print("max error against scipy, relative to the largest output:",
          np.abs(pel.fft.dctn(x) - ref).max() / np.abs(ref).max())
    print("by FFT: first call s, upgrade wait s, pending:", settle(lambda: pel.fft.dctn(x)))
    settle(lambda: pel.fft.idctn(x))
    lib.pel__fft_dct_by_fft_test_force(-1)
    print("FFTW REDFT: first call s, upgrade wait s, pending:", settle(lambda: pel.fft.dctn(x)))
    lib.pel__fft_dct_by_fft_test_force(0)
    cases = {
        "dctn by FFT": (0, lambda: pel.fft.dctn(x)),
        "idctn by FFT": (0, lambda: pel.fft.idctn(x)),
        "dctn FFTW REDFT10": (-1, lambda: pel.fft.dctn(x)),
        "scipy dctn": (0, lambda: scipy.fft.dctn(x, workers=w)),
        "scipy idctn": (0, lambda: scipy.fft.idctn(x, workers=w)),
    }
    times = {name: [] for name in cases}
    for _ in range(5):
        for name, (force, f) in cases.items():
            lib.pel__fft_dct_by_fft_test_force(force)
            times[name].append(once(f))
    lib.pel__fft_dct_by_fft_test_force(0)
    m = {name: sorted(t)[len(t) // 2] for name, t in times.items()}
    for name, t in m.items():
        print(f"{name:20s} {t:.4f} s")
    print("dctn: scipy / by FFT %.2f, FFTW REDFT10 / by FFT %.2f; idctn: scipy / by FFT %.2f"
          % (m["scipy dctn"] / m["dctn by FFT"], m["dctn FFTW REDFT10"] / m["dctn by FFT"],
             m["scipy idctn"] / m["idctn by FFT"]))


if __name__ == "__main__":
    main()
