set terminal pngcairo size 1100,720 font 'sans,11' noenhanced
set output '/tmp/rep/memory_mlp_fp32.png.tmp'
set datafile missing '?'
set encoding utf8
set termoption noenhanced
set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1
set border lc rgb '#444444'
set key outside below left Left reverse maxrows 6 spacing 1.1
set title 'mlp, fp32, N=4096, D=128, H=256, C=10: device memory vs batch size' font ',13'
set key outside below center vertical Left reverse maxrows 2 maxcols 2 spacing 1.15 samplen 3 width 1 height 1
set logscale x 2
set format x '%.0f'
set xtics 4
set mxtics 2
set xlabel 'batch size B (samples per step)'
set offsets graph 0.02, graph 0.02, 0, 0
set logscale y
set format y '%.0s %cB'
set ylabel 'device memory (dotted: the device global memory)'
plot '/tmp/rep/data/mlp_fp32_s1.dat' using ($1*1.0000):10 with linespoints lw 2 pt 7 ps 0.9 lc rgb '#0072B2' title 'pthread-skylake-avx512-AMD EPYC (PoCL, vm)', \
     '/tmp/rep/data/mlp_fp32_s1.dat' using 1:11 with lines lw 2 dt 3 lc rgb '#0072B2' notitle, \
     keyentry with linespoints lw 2 pt 7 ps 0.9 lc rgb '#444444' title 'solid: step buffers; devices side by side', \
     keyentry with lines lw 2 dt 3 lc rgb '#444444' title 'dotted: device global memory'
set terminal svg size 1100,720 font 'sans,11' background '#ffffff' noenhanced
set output '/tmp/rep/memory_mlp_fp32.svg.tmp'
replot
unset output
