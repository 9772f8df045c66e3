#!/usr/bin/env bash
# The SphereFace paper's toy experiment (Fig. 2 / §4.1 style): train on MNIST with a 2-D embedding
# for plain softmax and for A-Softmax m = 1, 2, 3, 4, then draw the test set's features, normalised
# onto the unit circle and coloured by digit, one panel per run (gnuplot, pngcairo).
#
#   bash bench/toy_experiment.sh [MNIST_DIR] [OUT_DIR]
#
# Defaults: ../shared/data/mnist and bench/results/toy. Environment: ITERS (default 1500),
# BATCH (64), SPHERECL (the binary, default build/spherecl), DIM (2 or 3; 3 draws the first two
# normalised coordinates), LAMBDA (the λ schedule base,gamma,power,min; default the reference's
# 1000,0.12,1,5, under which λ is still ~8 after 1000 iterations and the margin term weighs 1/(1+λ)),
# PLOT_ONLY=1 (redraw from the CSVs of an earlier run). Prints each run's test accuracy and writes OUT_DIR/toy_features.png.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mnist}
out=${2:-bench/results/toy}
bin=${SPHERECL:-build/spherecl}
iters=${ITERS:-1500}
batch=${BATCH:-64}
dim=${DIM:-2}
lambda=${LAMBDA:-1000,0.12,1,5}
mkdir -p "$out"
command -v gnuplot >/dev/null || { echo "gnuplot is needed (apt-get install gnuplot-nox)" >&2; exit 1; }

runs=("softmax softmax" "asoftmax:m=1 m1" "asoftmax:m=2 m2" "asoftmax:m=3 m3" "asoftmax:m=4 m4")
declare -A title
[ "${PLOT_ONLY:-0}" = 1 ] || : > "$out/accuracy.txt"
for r in "${runs[@]}"; do
  [ "${PLOT_ONLY:-0}" = 1 ] && break
  set -- $r
  margin=$1 tag=$2
  echo "== $margin" >&2
  "$bin" train --data "$data" --net sphereface-4 --widths 16,32,64,128 --embed-dim "$dim" --margin "$margin" \
    --batch "$batch" --iters "$iters" --lr 0.05 --lambda "$lambda" --seed 1 --out "$out/$tag.scl" --print-every 100
  acc=$("$bin" eval --model "$out/$tag.scl" --data "$data" --features "$out/$tag.csv" | tail -n 1)
  echo "$margin $acc" | tee -a "$out/accuracy.txt"
done
while read -r margin _ a _; do   # "asoftmax:m=2 accuracy: 0.9529 (9529/10000)"
  tag=${margin#asoftmax:m=}; [ "$tag" = softmax ] || tag=m$tag
  title[$tag]="${margin/asoftmax:m=/A-Softmax m=} (test accuracy $a)"
done < "$out/accuracy.txt"

# Five panels: each point is a test feature divided by its norm, so it lies on the unit circle; a
# small radial offset per digit (1 + 0.06·label) keeps overlapping classes visible as rings.
gnuplot <<GP
set terminal pngcairo size 2000,430 font ",11"
set output "$out/toy_features.png"
set multiplot layout 1,5 title "MNIST test features (${dim}-D embedding, normalised; radius offset by digit), ${iters} iterations, lambda ${lambda}"
set size ratio -1
unset key
set xrange [-1.7:1.7]; set yrange [-1.7:1.7]
set xtics 1; set ytics 1
set palette defined (0 "#1f77b4", 1 "#ff7f0e", 2 "#2ca02c", 3 "#d62728", 4 "#9467bd", 5 "#8c564b", 6 "#e377c2", 7 "#7f7f7f", 8 "#bcbd22", 9 "#17becf")
set cbrange [-0.5:9.5]
unset colorbox
set datafile separator ","
r(x,y) = sqrt(x*x+y*y)
titles = "${title[softmax]}|${title[m1]}|${title[m2]}|${title[m3]}|${title[m4]}"
do for [i=1:5] {
  t = word("softmax m1 m2 m3 m4", i)
  set title system(sprintf("echo '%s' | cut -d'|' -f%d", titles, i))
  plot "$out/".t.".csv" every 2 using (\$2/r(\$2,\$3)*(1+0.06*\$1)):(\$3/r(\$2,\$3)*(1+0.06*\$1)):1 with points pt 7 ps 0.25 lc palette
}
unset multiplot
GP
echo "wrote $out/toy_features.png" >&2
