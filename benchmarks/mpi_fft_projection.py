#!/usr/bin/env python3
"""Projects pel's distributed 3-D c2c FFT (FFTW-MPI slabs) to many nodes.

One rank per node. A forward transform of N = n0*n1*n2 complex doubles is
local FFTs (5 N log2 N flops over P nodes at F flop/s per node) and global
transposes, each an all-to-all in which a node sends (P-1)/P of its 16 N / P
bytes in P-1 messages:

  t = 5 N log2 N / (P F) + X * ((P - 1) alpha + 16 N (P - 1) / (P^2 beta))

X = 2 for the natural layout (transpose, FFT along the first axis, transpose
back), 1 with TRANSPOSED_OUT (the forward-backward pair of the spectral
solver then needs 2 instead of 4). Slabs limit P to n0 (n1 as well with
TRANSPOSED_OUT). pel's pencil decomposition (built: lib/mpi/pencil.c,
PEL_MPI_FFT_PENCIL, chosen automatically past P = n0) allows P up to about
n1*n2 with all-to-alls inside the rows and columns of a near-square
p0 x p1 grid (the one pel picks for a cube: p0 the largest divisor of P not
above sqrt(P)); the row exchange sends (1 - 1/p1) of the node's data in
p1 - 1 messages, the column one (1 - 1/p0) in p0 - 1. The natural layout
makes four exchanges (two there, two back), TRANSPOSED_OUT two.

Limits: no network contention (a real all-to-all is bound by the bisection
bandwidth past a few racks), no overlap of communication with the local
FFTs, alpha and beta per node as if each node had its own link.

Usage: mpi_fft_projection.py [--alpha S] [--beta BPS] [--flops F]
"""
import math
import sys


def slab(n, P, alpha, beta, F, X):
    N = n[0] * n[1] * n[2]
    if P > n[0] or (X == 1 and P > n[1]):
        return None, None
    comp = 5.0 * N * math.log2(N) / (P * F)
    comm = X * ((P - 1) * alpha + 16.0 * N * (P - 1) / (P * P * beta)) if P > 1 else 0.0
    return comp + comm, comm / (comp + comm)


def grid(P):
    p0 = max(d for d in range(1, math.isqrt(P) + 1) if P % d == 0)
    return p0, P // p0


def pencil(n, P, alpha, beta, F, X):
    N = n[0] * n[1] * n[2]
    p0, p1 = grid(P)
    if p0 > n[0] or p1 > n[1] or p0 > n[1] or p1 > n[2]:
        return None, None
    comp = 5.0 * N * math.log2(N) / (P * F)

    def exchange(q):
        return (q - 1) * alpha + 16.0 * N / P * (1 - 1.0 / q) / beta if q > 1 else 0.0

    comm = X * (exchange(p0) + exchange(p1))  # X = 2: there and back (natural layout)
    return comp + comm, comm / (comp + comm)


def main(argv):
    alpha, beta, F = 2e-6, 12e9, 20e9
    args = argv[1:]
    for i, a in enumerate(args):
        if a == "--alpha":
            alpha = float(args[i + 1])
        elif a == "--beta":
            beta = float(args[i + 1])
        elif a == "--flops":
            F = float(args[i + 1])
    print(f"alpha = {alpha:g} s, beta = {beta:g} B/s, F = {F:g} flop/s per node")
    print("| scaling | nodes | global grid | slab t (s) | comm share | slab TRANSPOSED_OUT t | comm share "
          "| pencil t (pel, built; grid) | comm share | pencil TRANSPOSED_OUT t | comm share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = [("strong 256^3", P, (256, 256, 256)) for P in (1, 2, 4, 64, 256, 1024, 4096)]
    for P in (64, 1024):
        # 256^3 points per node: a global box of side 256 P^(1/3) (its last
        # axis takes the rounding).
        side = round(256 * P ** (1.0 / 3.0))
        rows.append(("weak 256^3/node", P, (side, side, 256 ** 3 * P // (side * side))))
    for name, P, n in rows:
        s, sc = slab(n, P, alpha, beta, F, 2)
        t, tc = slab(n, P, alpha, beta, F, 1)
        p, pc = pencil(n, P, alpha, beta, F, 2)
        q, qc = pencil(n, P, alpha, beta, F, 1)
        fmt = lambda v: "n/a (slab limit)" if v is None else f"{v:.3g}"
        fmtc = lambda v: "" if v is None else f"{v:.2f}"
        pf = lambda v: "n/a" if v is None else f"{v:.3g}"
        p0, p1 = grid(P)
        print(f"| {name} | {P} | {n[0]}x{n[1]}x{n[2]} | {fmt(s)} | {fmtc(sc)} | {fmt(t)} | {fmtc(tc)} "
              f"| {pf(p)} ({p0}x{p1}) | {fmtc(pc)} | {pf(q)} | {fmtc(qc)} |")


if __name__ == "__main__":
    main(sys.argv)
