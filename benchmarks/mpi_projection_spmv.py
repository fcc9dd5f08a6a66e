#!/usr/bin/env python3
"""Projects pel_dcsr_spmv to 64 and 1024 nodes from its ghost volume.

One rank per node, rows split in contiguous blocks (pel's split). Per
product a rank sums its rows at the measured one-node rate, and exchanges
its ghost values (one message per neighbour, both directions in flight):

  t = max(t_lead, t_comm) + t_rest
  t_comm = m * alpha + 8 * G / beta
  t_lead = (R - W) * s,  t_rest = W * s   (W rows wait for ghosts)

  R  rows per rank, s seconds per row (pel-bench-mpi mpi-spmv at N = 1)
  G  ghost values a rank receives, m its neighbours
  W  rows that cannot start before the exchange (a left ghost first)

7-point Laplacian on n^3 in natural order: a block of R rows needs the plane
below and above it, G = 2 n^2 (R >= n^2) whatever the node count, m = 2 *
ceil(n^2 / R), W = min(R, n^2). Power law with uniform random columns (the
benchmark's): a rank's E = 16 R entries hit G = N_cols (1 - exp(-E /
N_cols)) (1 - R / N_cols) distinct foreign columns, from m = min(P - 1, G)
ranks, and nearly every row waits (W = R).

Usage: mpi_projection_spmv.py [np1.json] [--alpha S] [--beta BPS]
       [--s-laplace S] [--s-powerlaw S]
"""
import json
import math
import sys


def laplace(n, P, s, alpha, beta):
    rows = n ** 3
    R = rows / P
    G = 2 * n * n if P > 1 else 0
    m = 2 * math.ceil(n * n / R) if P > 1 else 0
    W = min(R, n * n) if P > 1 else 0
    return R, G, m, W, s


def powerlaw(rows, P, s, alpha, beta):
    R = rows / P
    E = 16 * R
    G = rows * (1 - math.exp(-E / rows)) * (1 - R / rows) if P > 1 else 0
    m = min(P - 1, G)
    W = R if P > 1 else 0
    return R, G, m, W, s


def product_time(R, G, m, W, s, alpha, beta):
    comm = m * alpha + 8 * G / beta
    return max((R - W) * s, comm) + W * s, comm


def main(argv):
    alpha, beta, s_lap, s_pl = 2e-6, 12e9, None, None
    args = list(argv)
    if args and not args[0].startswith("--"):
        for line in open(args.pop(0)):
            row = json.loads(line)
            if row.get("kernel") == "mpi-spmv" and row.get("ranks") == 1:
                per_row = row["seconds"] / row["rows"]
                if row["variant"] == "laplace3d":
                    s_lap = per_row
                else:
                    s_pl = per_row
    while args:
        key, value = args.pop(0), float(args.pop(0))
        if key == "--alpha":
            alpha = value
        elif key == "--beta":
            beta = value
        elif key == "--s-laplace":
            s_lap = value
        elif key == "--s-powerlaw":
            s_pl = value
    if s_lap is None or s_pl is None:
        sys.exit("mpi_projection_spmv.py: give an N = 1 JSON file or --s-laplace and --s-powerlaw")
    print(f"inputs: alpha={alpha:.3g} s, beta={beta:.3g} B/s, s_laplace={s_lap:.3g} s/row, "
          f"s_powerlaw={s_pl:.3g} s/row")
    print("| case | nodes | rows/node | ghosts/node | neighbours | s/product | comm share | efficiency |")
    print("|---|---|---|---|---|---|---|---|")
    cases = [("laplace strong 512^3", lambda P: laplace(512, P, s_lap, alpha, beta), 512 ** 3 * s_lap),
             ("laplace weak 128^3/node", lambda P: laplace(int(round(128 * P ** (1 / 3))), P, s_lap, alpha, beta),
              None),
             ("powerlaw strong 2^27 rows", lambda P: powerlaw(2 ** 27, P, s_pl, alpha, beta), 2 ** 27 * s_pl),
             ("powerlaw weak 2^21 rows/node", lambda P: powerlaw(2 ** 21 * P, P, s_pl, alpha, beta), None)]
    for name, model, serial in cases:
        for P in (64, 1024):
            R, G, m, W, s = model(P)
            t, comm = product_time(R, G, m, W, s, alpha, beta)
            ideal = serial / P if serial is not None else R * s
            print(f"| {name} | {P} | {R:.3g} | {G:.3g} | {m:.0f} | {t:.3g} | {min(comm / t, 1):.2f} | "
                  f"{ideal / t:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
