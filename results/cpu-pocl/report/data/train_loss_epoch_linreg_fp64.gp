set terminal pngcairo size 1100,720 font 'sans,11' noenhanced
set output '/tmp/rep/train_loss_epoch_linreg_fp64.png.tmp'
set datafile missing '?'
set encoding utf8
set termoption noenhanced
set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1
set border lc rgb '#444444'
set key outside below left Left reverse maxrows 6 spacing 1.1
set title 'linreg, fp64: training loss vs epoch' font ',13'
set xlabel 'epoch'
set logscale y
set ylabel 'training loss (log scale)'
plot '/tmp/rep/data/train_linreg_fp64_s0.dat' using 1:2 with lines lw 2 dt 1 lc rgb '#0072B2' title 'B=1 (pthread-skylake-avx512-AMD EPYC)', \
     '/tmp/rep/data/train_linreg_fp64_s1.dat' using 1:2 with lines lw 2 dt 1 lc rgb '#D55E00' title 'B=32 (pthread-skylake-avx512-AMD EPYC)', \
     '/tmp/rep/data/train_linreg_fp64_s2.dat' using 1:2 with lines lw 2 dt 1 lc rgb '#009E73' title 'B=1024 (pthread-skylake-avx512-AMD EPYC)'
set terminal svg size 1100,720 font 'sans,11' background '#ffffff' noenhanced
set output '/tmp/rep/train_loss_epoch_linreg_fp64.svg.tmp'
replot
unset output
