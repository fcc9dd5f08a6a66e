# Thread scaling of one kernel: speedup over the smallest thread count,
# one line per variant and size. Set by pel-plots.sh: terminal, data, blocks,
# kernel, output.
eval "set terminal " . terminal
set termoption noenhanced
set output output
set title sprintf("pel %s: thread scaling (speedup over the fewest threads)", kernel)
set xlabel "threads"
set ylabel "speedup"
set key top left
set grid
set xtics 1
set yrange [0:*]
stats data using 1 nooutput
set xrange [STATS_min - 0.2 : STATS_max + 0.2]
plot for [i = 0:blocks - 1] data index i using 1:2 with linespoints linewidth 2 title columnheader(1), \
     x / STATS_min with lines dashtype 2 linecolor "gray" title "ideal"
