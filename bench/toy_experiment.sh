#!/usr/bin/env bash
# The SphereFace paper's toy experiment (Fig. 2 / §4.1 style): train on MNIST with a 2-D embedding
# for plain softmax and for A-Softmax m = 1, 2, 3, 4, then draw the test set's features, normalised
# onto the unit circle and coloured by digit, one panel per run (gnuplot, pngcairo).
#
#   bash bench/toy_experiment.sh [MNIST_DIR] [OUT_DIR]
#
# Defaults: ../shared/data/mnist and bench/results/toy. Environment: ITERS (default 1500),
# BATCH (64), SPHERECL (the binary, default build/spherecl), DIM (2 or 3; 3 draws the first two
# normalised coordinates). Prints each run's test accuracy and writes OUT_DIR/toy_features.png.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mnist}
out=${2:-bench/results/toy}
bin=${SPHERECL:-build/spherecl}
iters=${ITERS:-1500}
batch=${BATCH:-64}
dim=${DIM:-2}
mkdir -p "$out"
command -v gnuplot >/dev/null || { echo "gnuplot is needed (apt-get install gnuplot-nox)" >&2; exit 1; }

runs=("softmax softmax" "asoftmax:m=1 m1" "asoftmax:m=2 m2" "asoftmax:m=3 m3" "asoftmax:m=4 m4")
: > "$out/accuracy.txt"
for r in "${runs[@]}"; do
  set -- $r
  margin=$1 tag=$2
  echo "== $margin" >&2
  "$bin" train --data "$data" --net sphereface-4 --widths 16,32,64,128 --embed-dim "$dim" --margin "$margin" \
    --batch "$batch" --iters "$iters" --lr 0.05 --seed 1 --out "$out/$tag.scl" --print-every 100
  acc=$("$bin" eval --model "$out/$tag.scl" --data "$data" --features "$out/$tag.csv" | tail -n 1)
  echo "$margin $acc" | tee -a "$out/accuracy.txt"
done

# Five panels: each point is a test feature divided by its norm, so it lies on the unit circle; a
# small radial offset per digit (1 + 0.06·label) keeps overlapping classes visible as rings.
gnuplot <<GP
set terminal pngcairo size 2000,430 font ",11"
set output "$out/toy_features.png"
set multiplot layout 1,5 title "MNIST test features (${dim}-D embedding, normalised; radius offset by digit), ${iters} iterations"
set size ratio -1
unset key
set xrange [-1.7:1.7]; set yrange [-1.7:1.7]
set xtics 1; set ytics 1
set palette defined (0 "#1f77b4", 1 "#ff7f0e", 2 "#2ca02c", 3 "#d62728", 4 "#9467bd", 5 "#8c564b", 6 "#e377c2", 7 "#7f7f7f", 8 "#bcbd22", 9 "#17becf")
set cbrange [-0.5:9.5]
unset colorbox
set datafile separator ","
r(x,y) = sqrt(x*x+y*y)
do for [t in "softmax m1 m2 m3 m4"] {
  acc = system("grep -E '^(".(t eq "softmax" ? "softmax" : "asoftmax:m=".t[2:2]).") ' $out/accuracy.txt | sed 's/.*accuracy: \\([0-9.]*\\).*/\\1/'")
  set title (t eq "softmax" ? "softmax" : "A-Softmax m=".t[2:2])." (acc ".acc.")"
  plot "$out/".t.".csv" every 2 using (\$2/r(\$2,\$3)*(1+0.06*\$1)):(\$3/r(\$2,\$3)*(1+0.06*\$1)):1 with points pt 7 ps 0.25 lc palette
}
unset multiplot
GP
echo "wrote $out/toy_features.png" >&2
