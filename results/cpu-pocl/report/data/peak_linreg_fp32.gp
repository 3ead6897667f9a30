set terminal pngcairo size 1100,720 font 'sans,11' noenhanced
set output '/tmp/rep/peak_linreg_fp32.png.tmp'
set datafile missing '?'
set encoding utf8
set termoption noenhanced
set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1
set border lc rgb '#444444'
set key outside below left Left reverse maxrows 6 spacing 1.1
set title 'linreg, fp32, N=4096, D=128, C=1: % of measured peak vs batch size' font ',13'
set key outside below center vertical Left reverse maxrows 2 maxcols 2 spacing 1.15 samplen 3 width 1 height 1
set logscale x 2
set format x '%.0f'
set xtics 4
set mxtics 2
set xlabel 'batch size B (samples per step)'
set offsets graph 0.02, graph 0.02, 0, 0
set yrange [0:*]
set format y '%g %%'
set ylabel '% of measured peak (solid: FLOP/s, dashed: bandwidth)'
plot '/tmp/rep/data/linreg_fp32_s0.dat' using 1:12 with linespoints lw 2 pt 7 ps 0.9 dt 1 lc rgb '#0072B2' title 'pthread-skylake-avx512-AMD EPYC (PoCL, vm)', \
     '/tmp/rep/data/linreg_fp32_s0.dat' using 1:13 with linespoints lw 2 pt 6 ps 0.9 dt 2 lc rgb '#0072B2' notitle, \
     keyentry with linespoints lw 2 pt 7 ps 0.9 dt 1 lc rgb '#444444' title 'solid, filled: % of peak FLOP/s', \
     keyentry with linespoints lw 2 pt 6 ps 0.9 dt 2 lc rgb '#444444' title 'dashed, open: % of peak bandwidth'
set terminal svg size 1100,720 font 'sans,11' background '#ffffff' noenhanced
set output '/tmp/rep/peak_linreg_fp32.svg.tmp'
replot
unset output
