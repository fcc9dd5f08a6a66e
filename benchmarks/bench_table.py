#!/usr/bin/python3
"""Turns pel-bench JSON lines (files or stdin) into a Markdown table: the
rows of docs/benchmarks.md. Usage: bench_table.py results/all.json"""
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
    print("| kernel | variant | size | threads | pel s | GFLOP/s | GB/s | baseline | baseline s | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows(argv[1:]):
        size = r["size"] + (f" ({r['steps']} steps)" if "steps" in r else "")
        print(f"| {r['kernel']} | {r['variant']} | {size} | {r['threads']} | {r['seconds']:.4g} | "
              f"{r.get('gflops', 0):.2f} | {r.get('gbps', 0):.2f} | {r['baseline']} | "
              f"{r['baseline_seconds']:.4g} | **{r['ratio']:.2f}** |")


if __name__ == "__main__":
    main(sys.argv)
