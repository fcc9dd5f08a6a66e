#!/usr/bin/env bash
# Runs every pel-bench kernel with its default table (the issues' sizes) and
# writes one CSV and one JSON file per kernel, plus a combined table, into
# OUTDIR. This is the command behind docs/benchmarks.md:
#   benchmarks/run-all.sh _build/benchmarks/pel-bench results/ [THREADS]
set -euo pipefail
bench=${1:?usage: run-all.sh PEL_BENCH OUTDIR [THREADS]}
out=${2:?usage: run-all.sh PEL_BENCH OUTDIR [THREADS]}
threads=${3:-$(nproc)}
mkdir -p "$out"
for kernel in $("$bench" --list | awk 'NR > 1 { print $1 }'); do
  echo "run-all: $kernel (threads $threads)" >&2
  "$bench" --kernel "$kernel" --threads "$threads" --format json > "$out/$kernel.json"
done
cat "$out"/*.json > "$out/all.json"
echo "run-all: results in $out" >&2
