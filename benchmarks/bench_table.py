#!/usr/bin/python3
"""Turns pel-bench JSON lines (files or stdin) into a Markdown table: the
rows of docs/benchmarks.md, with the fraction of stream bandwidth or DGEMM
peak that a row reports (measured in the same run). Usage:
bench_table.py results/all.json"""
import json
import sys


def rows(paths):
    for path in paths or ["-"]:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
        for line in stream:
            line = line.strip()
            if line.startswith("{"):
                yield json.loads(line)


def main(argv):
    print("| kernel | variant | size | threads | pel s | GFLOP/s | GB/s | baseline | baseline s | ratio | roof |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows(argv[1:]):
        size = r["size"] + (f" ({r['steps']} steps)" if "steps" in r else "")
        print(f"| {r['kernel']} | {r['variant']} | {size} | {r['threads']} | {r['seconds']:.4g} | "
              f"{r.get('gflops', 0):.2f} | {r.get('gbps', 0):.2f} | {r['baseline']} | "
              f"{r['baseline_seconds']:.4g} | **{r['ratio']:.2f}** | {roof(r)} |")


def roof(r):
    """The row's fraction of a machine limit measured in the same run, if any."""
    for key, name, ref in (("pct_stream_copy", "stream copy", "stream_copy_gbps"),
                           ("pct_of_triad", "stream triad", "stream_triad_gbps"),
                           ("pct_dgemm_peak", "DGEMM peak", "dgemm_peak_gflops")):
        if key in r:
            # Rows that share one reference figure (gemm_batch's second row
            # of a size) carry the fraction without repeating the figure.
            return f"{r[key]:.0f}% of {name}" + (f" ({r[ref]:.1f})" if ref in r else "")
    return ""


if __name__ == "__main__":
    main(sys.argv)
