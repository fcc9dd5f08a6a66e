# pel against its baseline, one bar per row: baseline_seconds / seconds
# (above 1: pel is faster). Set by pel-plots.sh: terminal, data, output.
eval "set terminal " . terminal
set termoption noenhanced
set output output
set title "pel against the baseline a user would otherwise call (same run, medians)"
set ylabel "ratio = baseline time / pel time (log scale)"
set style fill solid 0.6 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by 35 right font ",8"
set bmargin 14
set logscale y
set yrange [0.01:*]
set lmargin 14
set key off
plot data using 0:2:xtic(1) with boxes linecolor rgb "#3b75af", \
     1 with lines dashtype 2 linewidth 2 linecolor "red"
