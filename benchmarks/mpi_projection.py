#!/usr/bin/env python3
"""Projects pel's deep-halo stencil to many nodes from the measured model.

The inputs are what pel-bench-mpi prints in its JSON rows (latency_s,
bandwidth_Bps, seconds_per_point, seconds_per_point_blocked), or given on the
command line. The model is the one pel_dgrid_stencil_apply uses to choose T
(lib/mpi/apply.c, model_step_time), written out here for a process grid that
cuts every axis:

  t(T) = (m * alpha + B(T) / beta) / T + V(T) * (s_b + (s_1 - s_b) / T)

  m      cut axes (one exchange round per axis, both directions in flight)
  B(T)   halo bytes one rank sends per exchange: for axis a, 2 * W * (product
         of the other axes' extents, grown by 2W along the axes exchanged
         before a) * 8, with W = r * T
  V(T)   points of the box grown by W on each cut face
  s_1    seconds per point of one step (memory-bound sweep)
  s_b    seconds per point and step of an 8-step temporally blocked sweep

Usage: mpi_projection.py [results.json] [--alpha S] [--beta BPS] [--s1 S] [--sb S]
"""
import json
import sys


def step_time(box, cut, r, T, alpha, beta, s1, sb):
    W = r * T
    grown = [n + (2 * W if c else 0) for n, c in zip(box, cut)]
    volume = 1.0
    for g in grown:
        volume *= g
    nbytes = 0.0
    messages = 0
    for a, c in enumerate(cut):
        if not c:
            continue
        cross = W
        for b in range(len(box)):
            if b != a:
                cross *= grown[b] if b < a else box[b]
        nbytes += 2 * cross * 8
        messages += 1
    comm = messages * alpha + nbytes / beta
    rate = sb + (s1 - sb) / T
    return comm / T + volume * rate, comm / T


def best(box, cut, r, alpha, beta, s1, sb, tmax=64):
    cap = min([n // r for n, c in zip(box, cut) if c] + [tmax])
    rows = [(step_time(box, cut, r, T, alpha, beta, s1, sb), T) for T in range(1, max(cap, 1) + 1)]
    (t, c), T = min(rows)
    return T, t, c


def factor3(p):
    """The most cubic 3-factor split of p (pel's surface rule for a cube)."""
    bestf, bestcost = None, None
    for a in range(1, p + 1):
        if p % a:
            continue
        for b in range(1, p // a + 1):
            if (p // a) % b:
                continue
            c = p // a // b
            cost = 1 / a + 1 / b + 1 / c
            if bestcost is None or cost < bestcost - 1e-12:
                bestf, bestcost = (a, b, c), cost
    return bestf


def main(argv):
    alpha = beta = s1 = sb = None
    args = list(argv)
    if args and not args[0].startswith("--"):
        for line in open(args.pop(0)):
            row = json.loads(line)
            if row.get("ranks", 1) > 1 and "latency_s" in row:
                alpha, beta = row["latency_s"], row["bandwidth_Bps"]
                s1, sb = row["seconds_per_point"], row.get("seconds_per_point_blocked", row["seconds_per_point"])
    while args:
        key, value = args.pop(0), float(args.pop(0))
        if key == "--alpha":
            alpha = value
        elif key == "--beta":
            beta = value
        elif key == "--s1":
            s1 = value
        elif key == "--sb":
            sb = value
    print(f"inputs: alpha={alpha:.3g} s, beta={beta:.3g} B/s, s1={s1:.3g} s/pt, sb={sb:.3g} s/pt")
    print("| scaling | nodes | process grid | box per node | T=1 s/step | comm share T=1 | chosen T | s/step | comm share | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, nodes in [("strong 256^3", 64), ("strong 256^3", 1024), ("weak 256^3/node", 64), ("weak 256^3/node", 1024)]:
        p = factor3(nodes)
        if kind.startswith("strong"):
            box = [256 // q for q in p]
        else:
            box = [256, 256, 256]
        cut = [q > 1 for q in p]
        t1, c1 = step_time(box, cut, 1, 1, alpha, beta, s1, sb)
        T, t, c = best(box, cut, 1, alpha, beta, s1, sb)
        print(f"| {kind} | {nodes} | {p[0]}x{p[1]}x{p[2]} | {box[0]}x{box[1]}x{box[2]} | {t1:.3g} | {c1 / t1:.2f} | "
              f"{T} | {t:.3g} | {c / t:.2f} | {t1 / t:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
