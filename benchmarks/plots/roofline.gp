# Roofline: achieved GFLOP/s against arithmetic intensity (flop per byte),
# under the measured memory roof (stream, GB/s) and compute roof (DGEMM
# GFLOP/s); peak = 0 means no gemm rows, so only the memory roof is drawn.
# Set by pel-plots.sh: terminal, data, blocks, bandwidth, peak, threads, output.
eval "set terminal " . terminal
set termoption noenhanced
set output output
set title sprintf("Roofline at %d threads: stream %.1f GB/s, DGEMM %.1f GFLOP/s", threads, bandwidth, peak)
set xlabel "arithmetic intensity (flop/byte)"
set ylabel "GFLOP/s"
set logscale xy
set grid
set key bottom right
set xrange [0.01:1000]
set yrange [0.01:*]
roof(x) = peak > 0 ? (bandwidth * x < peak ? bandwidth * x : peak) : bandwidth * x
set samples 400
plot roof(x) with lines linewidth 3 linecolor "black" title "roof: min(stream x AI, DGEMM peak)", \
     for [i = 0:blocks - 1] data index i using 1:2 with points pointsize 2 pointtype (i % 12) + 4 \
     title columnheader(1)
