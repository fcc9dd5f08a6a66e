#!/bin/sh
# Turns pel-bench CSV (`pel-bench ... --format csv`) into PNG charts:
#   scaling-<kernel>.png  speedup against threads, one line per variant and size
#   ratio.png             pel against its baseline (baseline_seconds / seconds)
#   roofline.png          GFLOP/s against arithmetic intensity, under the
#                         measured stream bandwidth and DGEMM peak
# Usage: pel-plots.sh [-o OUTDIR] FILE.csv [FILE.csv ...]
# Environment: GNUPLOT (default gnuplot); PEL_PLOT_BANDWIDTH (GB/s) and
# PEL_PLOT_PEAK (GFLOP/s) override the roofs taken from the stream and gemm
# rows of the data.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=.
if [ "${1:-}" = "-o" ]; then
  out=$2
  shift 2
fi
if [ $# -eq 0 ]; then
  echo "usage: pel-plots.sh [-o OUTDIR] FILE.csv [FILE.csv ...]" >&2
  exit 2
fi
gnuplot=${GNUPLOT:-gnuplot}
if ! command -v "$gnuplot" >/dev/null 2>&1; then
  echo "pel-plots: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2
  exit 1
fi
# pngcairo draws better; plain png (libgd) is the fallback.
if "$gnuplot" -e 'set terminal pngcairo' >/dev/null 2>&1; then
  terminal="pngcairo size 960,600 font 'sans,10'"
else
  terminal="png size 960,600"
fi
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/pel-plots.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One table of rows: the header of every file is checked and dropped.
header="kernel,variant,size,threads,seconds,gflops,gbps,baseline,baseline_seconds,ratio"
for f in "$@"; do
  first=$(head -n 1 "$f")
  if [ "$first" != "$header" ]; then
    echo "pel-plots: $f is not pel-bench CSV (first line: $first)" >&2
    exit 1
  fi
  tail -n +2 "$f"
done > "$work/rows.csv"
if [ ! -s "$work/rows.csv" ]; then
  echo "pel-plots: no rows in $*" >&2
  exit 1
fi

# ---------------------------------------------------------------- scaling
# Per kernel: one block per (variant, size) with threads and speedup over the
# smallest thread count measured; blocks are separated for gnuplot's `index`.
kernels=$(cut -d, -f1 "$work/rows.csv" | sort -u)
made=""
for kernel in $kernels; do
  awk -F, -v k="$kernel" '
    $1 == k { key = $2 " " $3; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
              t[key, $4] = $5; if (!(key in tmin) || $4 + 0 < tmin[key]) tmin[key] = $4 + 0;
              threads[$4 + 0] = 1 }
    END {
      blocks = 0
      for (i = 1; i <= n; i++) {
        key = order[i]; base = t[key, tmin[key]]; lines = 0
        for (th = 1; th <= 1024; th++) if ((key, th) in t) lines++
        if (lines < 2 || base <= 0) continue
        printf "\"%s\"\n", key
        for (th = 1; th <= 1024; th++) if ((key, th) in t && t[key, th] > 0)
          printf "%d %.6g\n", th, base / t[key, th]
        printf "\n\n"; blocks++
      }
      print blocks > "/dev/stderr"
    }' "$work/rows.csv" > "$work/scaling-$kernel.dat" 2> "$work/blocks"
  blocks=$(cat "$work/blocks")
  if [ "$blocks" -gt 0 ]; then
    "$gnuplot" -e "terminal=\"$terminal\"; data='$work/scaling-$kernel.dat'; blocks=$blocks; \
kernel='$kernel'; output='$out/scaling-$kernel.png'" "$here/scaling.gp"
    made="$made scaling-$kernel.png"
  fi
done

# ---------------------------------------------------------------- ratio
# The baseline (field 8) may be a quoted text with commas: baseline_seconds
# and ratio are taken from the end of the line, the baseline is the rest.
awk -F, '$NF + 0 > 0 { b = $8; for (i = 9; i <= NF - 2; i++) b = b "," $i; gsub(/"/, "", b)
                       printf "\"%s %s %s t%s vs %s\" %.6g\n", $1, $2, $3, $4, b, $NF }' \
  "$work/rows.csv" > "$work/ratio.dat"
if [ -s "$work/ratio.dat" ]; then
  "$gnuplot" -e "terminal=\"$terminal\"; data='$work/ratio.dat'; output='$out/ratio.png'" "$here/ratio.gp"
  made="$made ratio.png"
fi

# ---------------------------------------------------------------- roofline
# Arithmetic intensity = GFLOP/s / GB/s when the row reports both; gemm rows
# without GB/s get n/12 flop per byte (2n^3 flops over three n x n matrices
# read or written once). Roofs: the best stream GB/s and gemm GFLOP/s found at
# the largest thread count, unless given in the environment.
maxthreads=$(cut -d, -f4 "$work/rows.csv" | sort -n | tail -n 1)
bandwidth=${PEL_PLOT_BANDWIDTH:-$(awk -F, -v T="$maxthreads" \
  '$1 == "stream" && $4 == T && $7 > b { b = $7 } END { print b + 0 }' "$work/rows.csv")}
peak=${PEL_PLOT_PEAK:-$(awk -F, -v T="$maxthreads" \
  '$1 == "gemm" && $4 == T && $6 > p { p = $6 } END { print p + 0 }' "$work/rows.csv")}
awk -F, -v T="$maxthreads" '
  $4 != T || $6 + 0 <= 0 { next }
  { ai = 0
    if ($7 + 0 > 0) ai = $6 / $7
    else if ($1 == "gemm") { split($3, d, "x"); ai = d[1] / 12 }
    if (ai <= 0) next
    if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
    pts[$1] = pts[$1] sprintf("%.6g %.6g\n", ai, $6) }
  END { for (i = 1; i <= n; i++) printf "\"%s\"\n%s\n\n", order[i], pts[order[i]]
        print n > "/dev/stderr" }' "$work/rows.csv" > "$work/roofline.dat" 2> "$work/blocks"
blocks=$(cat "$work/blocks")
if [ "$blocks" -gt 0 ] && awk -v b="$bandwidth" 'BEGIN { exit !(b > 0) }'; then
  "$gnuplot" -e "terminal=\"$terminal\"; data='$work/roofline.dat'; blocks=$blocks; \
bandwidth=$bandwidth; peak=$peak; threads=$maxthreads; output='$out/roofline.png'" "$here/roofline.gp"
  made="$made roofline.png"
else
  echo "pel-plots: no roofline (needs stream rows and rows with GFLOP/s at $maxthreads threads)" >&2
fi
echo "pel-plots: wrote$made in $out"
