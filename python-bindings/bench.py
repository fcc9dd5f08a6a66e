#!/usr/bin/python3
"""Benchmarks of the pel Python bindings against what a Python user would
otherwise call, baselines timed in the same run (issue 6's table).

    PEL_LIBRARY=_build/.libs/libpel.so /usr/bin/python3 python-bindings/bench.py
    ... bench.py --quick            # small sizes, a few seconds
    ... bench.py --case fft --threads 2 --rounds 5 --format json
    ... bench.py --effort measure --wisdom /tmp/pel.wisdom   # plans once, reused
    ... bench.py --case scipy_fft --case linalg_stacks      # issue 13's table

Each case alternates pel and its baseline for several rounds and reports the
median seconds of each and ratio = baseline / pel (higher is better for
pel), with the issue's target. Inputs are random, never zeros.

FFT plans: by default pel's own default effort ("auto": the first call of a
size runs on an ESTIMATE plan while a background thread makes the MEASURE
plan that replaces it). Each FFT case times that first call, then waits
(at most --upgrade-timeout seconds) until the upgrade has landed, and only
then times the steady state; the table reports the first call and the wait
("first call", "upgrade s") beside scipy's first call. --effort fixes the
effort instead (planned on the first call, before timing).
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pel  # noqa: E402  (from this source tree unless PYTHONPATH says otherwise)


# --timer cpu: process CPU time and the minimum over rounds (what a loaded
# machine cannot inflate on one thread); default: wall time and the median.
CLOCK = {"wall": (time.perf_counter, statistics.median), "cpu": (time.process_time, min)}
_clock, _summary = CLOCK["wall"]


def timed(fn, reps=1):
    t0 = _clock()
    for _ in range(reps):
        fn()
    return (_clock() - t0) / reps


def compare(pel_fn, base_fn, rounds, reps=1, base_reps=None):
    """Median (--timer cpu: minimum) seconds per call of pel_fn and base_fn,
    interleaved."""
    pel_fn()
    base_fn()                     # warm-up: plans, caches, page faults
    tp, tb = [], []
    for _ in range(rounds):
        tp.append(timed(pel_fn, reps))
        tb.append(timed(base_fn, base_reps or reps))
    return _summary(tp), _summary(tb)


def settle(args, pel_fn):
    """The first call of pel_fn (a new FFT size: planning included) and, when
    that queued a plan upgrade, the wait until it landed (bounded by
    --upgrade-timeout): (first call s, upgrade s or None, upgrades landed)."""
    before = pel.fft.upgrade_stats()
    first = first_call(pel_fn)
    if pel.fft.upgrade_stats()["requested"] == before["requested"]:
        return first, None, 0
    t0 = time.perf_counter()
    pending = pel.fft.upgrade_wait(args.upgrade_timeout)
    waited = time.perf_counter() - t0
    landed = pel.fft.upgrade_stats()["completed"] - before["completed"]
    if pending or not landed:
        print(f"  note: the plan upgrade had not landed after {waited:.1f} s "
              f"(pending {pending}); timing whatever plan is cached", file=sys.stderr)
    return first, waited, landed


def compare_fft(args, pel_fn, base_fn, reps=1):
    """compare() after the first calls of both and pel's plan upgrade: the
    steady state, with the first calls reported separately."""
    first, upgrade, landed = settle(args, pel_fn)
    base_first = first_call(base_fn)
    tp, tb = compare(pel_fn, base_fn, args.rounds, reps)
    extra = {"first": first, "base_first": base_first, "upgrade_s": upgrade,
             "upgraded": landed, "effort": pel.fft.get_default_effort()}
    return tp, tb, extra


def rand_complex(rng, shape):
    return rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)


def fft_flops(n_points):
    return 5.0 * n_points * np.log2(n_points)


def case_fftn(args, rng, rows):
    import scipy.fft
    for n in ([32, 64] if args.quick else [128, 256]):
        x = rand_complex(rng, (n, n, n))
        flops = fft_flops(n ** 3)
        tp, tn, extra = compare_fft(args, lambda: pel.fft.fftn(x), lambda: np.fft.fftn(x))
        rows.append(row("pel.fft.fftn c128", f"{n}^3", tp, "numpy.fft.fftn", tn, 4.0,
                        gflops=flops / tp / 1e9, base_gflops=flops / tn / 1e9, **extra))
        tp, ts = compare(lambda: pel.fft.fftn(x),
                         lambda: scipy.fft.fftn(x, workers=args.threads), args.rounds)
        rows.append(row("pel.fft.fftn c128", f"{n}^3", tp,
                        f"scipy.fft.fftn(workers={args.threads})", ts, 1.5,
                        gflops=flops / tp / 1e9, base_gflops=flops / ts / 1e9))


def case_fft1d(args, rng, rows):
    import scipy.fft
    n = 2 ** 14 if args.quick else 2 ** 20
    x = rand_complex(rng, n)
    flops = fft_flops(n)
    reps = 20 if args.quick else 5
    tp, ts, extra = compare_fft(args, lambda: pel.fft.fft(x),
                                lambda: scipy.fft.fft(x, workers=args.threads), reps)
    rows.append(row("pel.fft.fft c128", f"2^{int(np.log2(n))}", tp,
                    f"scipy.fft.fft(workers={args.threads})", ts, 2.0,
                    gflops=flops / tp / 1e9, base_gflops=flops / ts / 1e9, **extra))


def case_stencil(args, rng, rows):
    from scipy import ndimage
    n = 64 if args.quick else 256
    steps = 20
    u = rng.uniform(-1, 1, (n, n, n))
    lap = pel.stencil.laplacian(3)
    weights = np.zeros((3, 3, 3))
    weights[1, 1, 1] = -6.0
    for o in [(0, 1, 1), (2, 1, 1), (1, 0, 1), (1, 2, 1), (1, 1, 0), (1, 1, 2)]:
        weights[o] = 1.0

    def baseline():
        v = u
        for _ in range(steps):
            v = ndimage.correlate(v, weights, mode="constant", cval=0.0)
        return v

    # The baseline costs seconds per round at 256^3: fewer rounds of it.
    tp, tb = compare(lambda: lap.apply(u, steps, bc="dirichlet"), baseline,
                     max(1, args.rounds if args.quick else min(args.rounds, 3)))
    points = float(n) ** 3 * steps
    rows.append(row("pel.stencil 7-point", f"{n}^3 x{steps}", tp,
                    f"ndimage.correlate x{steps}", tb, 20.0,
                    gpoints=points / tp / 1e9, base_gpoints=points / tb / 1e9))


def case_batched(args, rng, rows):
    count = 2000 if args.quick else 20000
    for m in (8, 16):
        a = rng.uniform(-1, 1, (count, m, m))
        b = rng.uniform(-1, 1, (count, m, m))
        out = np.empty_like(a)
        flops = 2.0 * count * m ** 3
        reps = 10
        tp, tn = compare(lambda: pel.batched_matmul(a, b, out=out),
                         lambda: np.matmul(a, b, out=out), args.rounds, reps)
        rows.append(row("pel.batched_matmul", f"{count}x{m}x{m}", tp, "numpy.matmul 3-D", tn,
                        2.0, gflops=flops / tp / 1e9, base_gflops=flops / tn / 1e9))


def case_overhead(args, rng, rows):
    x = rng.uniform(-1, 1, 16)
    y = rng.uniform(-1, 1, 16)
    reps = 20000 if args.quick else 200000
    tp, tn = compare(lambda: pel.dot(x, y), lambda: np.dot(x, y), args.rounds, reps)
    r = row("pel.dot overhead", "16", tp, "numpy.dot", tn, None)
    r["target"] = "<= 5 us/call"
    r["met"] = tp <= 5e-6
    rows.append(r)


def first_call(fn):
    """Seconds of one call: the first of a new size includes planning."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def case_scipy_fft(args, rng, rows):
    """Issue 13: pel.fft with default arguments (pel's default effort and
    thread count) against scipy.fft with workers=threads; steady state after
    the plan upgrade, first calls reported apart."""
    import scipy.fft
    n = 64 if args.quick else 256
    n1 = 2 ** 14 if args.quick else 2 ** 20
    w = args.threads
    xc = rand_complex(rng, (n, n, n))
    xr = rng.uniform(-1, 1, (n, n, n))
    x1 = rand_complex(rng, n1)
    cases = [
        ("pel.fft.fftn c128", f"{n}^3", lambda: pel.fft.fftn(xc),
         f"scipy.fft.fftn(workers={w})", lambda: scipy.fft.fftn(xc, workers=w), fft_flops(n ** 3)),
        ("pel.fft.rfftn f64", f"{n}^3", lambda: pel.fft.rfftn(xr),
         f"scipy.fft.rfftn(workers={w})", lambda: scipy.fft.rfftn(xr, workers=w),
         fft_flops(n ** 3) / 2),
        ("pel.fft.fft c128", f"2^{int(np.log2(n1))}", lambda: pel.fft.fft(x1),
         f"scipy.fft.fft(workers={w})", lambda: scipy.fft.fft(x1, workers=w), fft_flops(n1)),
        ("pel.fft.dctn II f64", f"{n}^3", lambda: pel.fft.dctn(xr),
         f"scipy.fft.dctn(workers={w})", lambda: scipy.fft.dctn(xr, workers=w),
         fft_flops(n ** 3) / 2),
    ]
    for name, size, pfn, base, bfn, flops in cases:
        tp, tb, extra = compare_fft(args, pfn, bfn)
        rows.append(row(name, size, tp, base, tb, 1.3, gflops=flops / tp / 1e9,
                        base_gflops=flops / tb / 1e9, **extra))


def case_linalg_stacks(args, rng, rows):
    """Issue 13: numpy.linalg over stacks of small matrices."""
    count = 10000 if args.quick else 100000
    a = rng.uniform(-1, 1, (count, 8, 8)) + 8 * np.eye(8)
    b = rng.uniform(-1, 1, (count, 8))
    tp, tb = compare(lambda: pel.solve(a, b), lambda: np.linalg.solve(a, b), args.rounds)
    rows.append(row("pel.solve stack", f"{count}x8x8", tp, "numpy.linalg.solve", tb, 1.5,
                    us_item=tp / count * 1e6, base_us_item=tb / count * 1e6))
    count = 1000 if args.quick else 10000
    s = rng.uniform(-1, 1, (count, 16, 16))
    s = s + np.swapaxes(s, -1, -2)
    tp, tb = compare(lambda: pel.eigh(s), lambda: np.linalg.eigh(s), args.rounds)
    rows.append(row("pel.eigh stack", f"{count}x16x16", tp, "numpy.linalg.eigh", tb, 1.5,
                    us_item=tp / count * 1e6, base_us_item=tb / count * 1e6))


def row(case, size, tp, baseline, tb, target, **extra):
    r = {"case": case, "size": size, "threads": pel.get_num_threads(), "seconds": tp,
         "baseline": baseline, "baseline_seconds": tb, "ratio": tb / tp,
         "target": None if target is None else f">= {target:g}x",
         "met": None if target is None else tb / tp >= target}
    r.update(extra)
    return r


CASES = {"fftn": case_fftn, "fft": case_fft1d, "stencil": case_stencil,
         "batched": case_batched, "overhead": case_overhead, "scipy_fft": case_scipy_fft,
         "linalg_stacks": case_linalg_stacks}


def upgrade_cell(r):
    """How long the plan upgrade took to land after the first call ("-"
    when none was queued, "not landed" when the wait ran out)."""
    if "upgrade_s" not in r:
        return ""
    if r["upgrade_s"] is None:
        return "-"
    return f"{r['upgrade_s']:.3g}" if r["upgraded"] else f"not landed ({r['upgrade_s']:.3g})"


def print_table(rows):
    head = ["case", "size", "pel s", "baseline", "baseline s", "ratio", "rate pel/base",
            "target", "met", "first call pel/base s", "upgrade s"]
    lines = []
    for r in rows:
        if "gflops" in r:
            rate = f"{r['gflops']:.2f}/{r['base_gflops']:.2f} GFLOP/s"
        elif "us_item" in r:
            rate = f"{r['us_item']:.2f}/{r['base_us_item']:.2f} us/item"
        elif "gpoints" in r:
            rate = f"{r['gpoints']:.3f}/{r['base_gpoints']:.3f} Gpt/s"
        else:
            rate = f"{r['seconds'] * 1e6:.2f}/{r['baseline_seconds'] * 1e6:.2f} us/call"
        lines.append([r["case"], r["size"], f"{r['seconds']:.4g}", r["baseline"],
                      f"{r['baseline_seconds']:.4g}", f"{r['ratio']:.2f}", rate,
                      r["target"] or "", "yes" if r["met"] else "NO",
                      f"{r['first']:.3g}/{r['base_first']:.3g}" if "first" in r else "",
                      upgrade_cell(r)])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    fmt = "| " + " | ".join("{:<%d}" % w for w in widths) + " |"
    print(fmt.format(*head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        print(fmt.format(*line))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES),
                        help="run only this case (repeatable); default: all")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--effort", default=None,
                        choices=["auto", "estimate", "measure", "patient"],
                        help="planner effort of the cached plans; default: pel's own "
                             "default (auto: ESTIMATE at once, MEASURE upgrade in the "
                             "background, waited for before timing)")
    parser.add_argument("--upgrade-timeout", type=float, default=120.0, metavar="S",
                        help="the longest wait for a plan upgrade to land (default 120)")
    parser.add_argument("--upgrade-mode", choices=["idle", "normal"],
                        help="priority of the background planner; default: pel's "
                             "(idle, or PEL_FFT_UPGRADE)")
    parser.add_argument("--timer", choices=sorted(CLOCK), default="wall",
                        help="wall: wall time, medians (default); cpu: process CPU time, "
                             "minima (use with --threads 1 on a loaded machine)")
    parser.add_argument("--wisdom", metavar="FILE",
                        help="import FFTW wisdom from FILE if it exists and export it there "
                             "afterwards, so measured plans are made once")
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds in total")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args()
    global _clock, _summary
    _clock, _summary = CLOCK[args.timer]
    pel.set_num_threads(args.threads)
    if args.upgrade_mode is not None:
        pel.fft.set_upgrade_mode(args.upgrade_mode)
    if args.effort is not None:
        pel.fft.set_default_effort(args.effort)
    if args.wisdom and os.path.exists(args.wisdom):
        pel.fft.import_wisdom_file(args.wisdom)
    rng = np.random.default_rng(12345)
    rows = []
    for name in args.case or list(CASES):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        CASES[name](args, rng, rows)
    if args.wisdom:
        pel.fft.export_wisdom_file(args.wisdom)
    if args.format == "json":
        for r in rows:
            print(json.dumps(r))
        return
    print(f"pel {pel.version()} ({pel.library_path}); {pel.backend_info()}")
    print(f"threads={args.threads} rounds={args.rounds} timer={args.timer} fft effort="
          f"{pel.fft.get_default_effort()} upgrades={pel.fft.get_upgrade_mode()}; numpy "
          f"{np.__version__}; {'medians' if args.timer == 'wall' else 'minima'} of interleaved "
          "rounds; ratio = baseline / pel")
    print_table(rows)


if __name__ == "__main__":
    main()
