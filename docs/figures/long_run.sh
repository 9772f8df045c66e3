#!/usr/bin/env bash
# docs/figures/long_run.png: the loss of SphereFace-4 (A-Softmax m=4) over 20,000 iterations of MNIST,
# per iteration, with lambda and the learning rate: the long run of issue 12, which stays finite and
# never sticks at 87.3365 (-log of the smallest float, the reference's failure value) or at ln(10).
# Usage: docs/figures/long_run.sh [SPHERECL] [MNIST] [WORK]   (about 30 minutes on a 2-core CPU)
# With WORK/long.csv already there (a finished run), only the picture is drawn.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
app=${1:-$root/build/spherecl}
mnist=${2:-$root/../shared/data/mnist}
work=${3:-long-run}
mkdir -p "$work"
if [ ! -s "$work/long.csv" ]; then
  "$app" train --data "$mnist" --net sphereface-4 --widths 16,32,64,128 --embed-dim 64 --margin asoftmax:m=4 \
    --batch 64 --iters 20000 --seed 1 --print-every 1 --log "$work/long.csv" --checkpoint-every 5000 \
    --out "$work/long.scl"
fi
gnuplot <<GP
set terminal pngcairo size 1000,520 font 'sans,10'
set output '$root/docs/figures/long_run.png'
set datafile separator ','
set multiplot layout 1,2 title 'SphereFace-4 (widths 16/32/64/128), A-Softmax m=4, MNIST, batch 64, seed 1: 20,000 iterations'
set xlabel 'iteration'
set xtics 5000
set format y '%g'
set ylabel 'training loss (per iteration)'
set logscale y
set yrange [1e-5:200]
set arrow from 0,87.3365 to 20000,87.3365 nohead dt 2 lc rgb 'red'
set label '87.3365 (the reference failure value)' at 500,60 tc rgb 'red'
set arrow from 0,2.302585 to 20000,2.302585 nohead dt 2 lc rgb 'gray40'
set label 'ln(10)' at 500,3.3 tc rgb 'gray40'
plot '$work/long.csv' every ::1 using 1:2 with dots lc rgb '#1f77b4' notitle
unset arrow
unset label
set ylabel 'lambda, lr x 100'
set yrange [0.01:1000]
plot '$work/long.csv' every ::1 using 1:4 with lines lw 2 title 'lambda', \
     '' every ::1 using 1:(\$5*100) with lines lw 2 title 'lr x 100'
unset multiplot
GP
echo "wrote $root/docs/figures/long_run.png"
