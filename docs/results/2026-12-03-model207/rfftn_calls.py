# Per-call times of pel.fft.rfftn and scipy.fft.rfftn(workers=2), 256^3, after the plan upgrade.
import time, numpy as np, scipy.fft, sys
sys.path.insert(0, 'python-bindings')  # run from the repository root
import pel, pel.fft
x = np.random.default_rng(1).uniform(size=(256, 256, 256))
y = pel.fft.rfftn(x)
time.sleep(25)
for r in range(4):
    ps = []; ss = []
    for _ in range(7):
        a = time.perf_counter(); pel.fft.rfftn(x); ps.append(time.perf_counter() - a)
        a = time.perf_counter(); scipy.fft.rfftn(x, workers=2); ss.append(time.perf_counter() - a)
    print("pel", " ".join(f"{v:.3f}" for v in ps), "| scipy", " ".join(f"{v:.3f}" for v in ss))
# The page faults of a fresh output of rfftn's size (both sides allocate one per call).
fills = []
for _ in range(7):
    a = time.perf_counter(); np.empty(y.shape, y.dtype).fill(0); fills.append(time.perf_counter() - a)
print("fresh output fill", " ".join(f"{v:.3f}" for v in fills))
