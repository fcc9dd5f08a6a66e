# Run from the repository root: OMP_WAIT_POLICY=passive PEL_LIBRARY=_build/.libs/libpel.so PYTHONPATH=python-bindings /usr/bin/python3 docs/results/2026-12-04-zen5-quiet/rfftn_out.py
# pel rfftn 256^3 with a fresh output each call, with out= reused, and scipy
# workers=2, interleaved, after pel's plan upgrade; medians of 9 rounds.
import time, statistics, numpy as np, scipy.fft, pel.fft
x = np.random.default_rng(1).uniform(size=(256, 256, 256))
y = pel.fft.rfftn(x)
out = np.empty_like(y)
time.sleep(12)  # let the plan upgrade land
for _ in range(3):
    pel.fft.rfftn(x); pel.fft.rfftn(x, out=out); scipy.fft.rfftn(x, workers=2)
t = {"fresh": [], "out": [], "scipy": [], "np.empty+fill": []}
for _ in range(9):
    for name, f in (("fresh", lambda: pel.fft.rfftn(x)), ("out", lambda: pel.fft.rfftn(x, out=out)),
                    ("scipy", lambda: scipy.fft.rfftn(x, workers=2)), ("np.empty+fill", lambda: np.empty_like(y).fill(0))):
        t0 = time.perf_counter(); f(); t[name].append(time.perf_counter() - t0)
for k, v in t.items():
    print(f"{k:14s} median {statistics.median(v)*1e3:.1f} ms  min {min(v)*1e3:.1f} ms")
print("scipy/pel fresh %.2f, scipy/pel out %.2f" % (statistics.median(t["scipy"]) / statistics.median(t["fresh"]),
                                                   statistics.median(t["scipy"]) / statistics.median(t["out"])))
