set terminal pngcairo size 1100,744 font 'sans,11' noenhanced
set output '/tmp/rep/step_time_linreg_fp32.png.tmp'
set datafile missing '?'
set encoding utf8
set termoption noenhanced
set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1
set border lc rgb '#444444'
set key outside below left Left reverse maxrows 6 spacing 1.1
set title 'linreg, fp32, N=4096, D=128, C=1: time per step vs batch size' font ',13'
set key outside below center vertical Left reverse maxrows 4 maxcols 1 spacing 1.15 samplen 3 width 1 height 1
set logscale x 2
set format x '%.0f'
set xtics 4
set mxtics 2
set xlabel 'batch size B (samples per step)'
set offsets graph 0.02, graph 0.02, 0, 0
set logscale y
set ytics ('1 µs' 1e-6, '10 µs' 1e-5, '100 µs' 1e-4, '1 ms' 1e-3, '10 ms' 1e-2, '100 ms' 0.1, '1 s' 1, '10 s' 10, '100 s' 100, '1000 s' 1000, '10000 s' 1e4)
set ylabel 'time per step (solid: device, dashed: wall)'
plot '/tmp/rep/data/linreg_fp32_s0.dat' using 1:3:14:15 with yerrorbars ps 0 lw 1.5 lc rgb '#0072B2' notitle, \
     '/tmp/rep/data/linreg_fp32_s0.dat' using 1:3 with linespoints lw 2 pt 7 ps 0.9 dt 1 lc rgb '#0072B2' title 'pthread-skylake-avx512-AMD EPYC (PoCL, vm)', \
     '/tmp/rep/data/linreg_fp32_s0.dat' using 1:4 with linespoints lw 2 pt 6 ps 0.9 dt 2 lc rgb '#0072B2' notitle, \
     '/tmp/rep/data/linreg_fp32_s0.dat' using 1:16 with lines lw 1.5 dt 3 lc rgb '#0072B2' notitle, \
     keyentry with linespoints lw 2 pt 7 ps 0.9 dt 1 lc rgb '#444444' title 'solid, filled: device time; bars: 95% CI of the passes'' mean', \
     keyentry with linespoints lw 2 pt 6 ps 0.9 dt 2 lc rgb '#444444' title 'dashed, open: wall time', \
     keyentry with lines lw 1.5 dt 3 lc rgb '#444444' title 'dotted: launch floor (kernels x launch cost)'
set terminal svg size 1100,744 font 'sans,11' background '#ffffff' noenhanced
set output '/tmp/rep/step_time_linreg_fp32.svg.tmp'
replot
unset output
