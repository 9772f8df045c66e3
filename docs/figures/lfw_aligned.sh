#!/usr/bin/env bash
# docs/figures/lfw_aligned.png: four LFW photos (250x250, with their five landmarks) above their
# aligned 96x112 crops from `spherecl align` (reference points marked). Needs gnuplot (with libgd for
# reading JPEG/PNG) and the workspace's LFW. Usage: docs/figures/lfw_aligned.sh [SPHERECL] [LFW]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
app=${1:-$root/build/spherecl}
lfw=${2:-$root/../shared/data/lfw}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
faces=(Aaron_Eckhart/Aaron_Eckhart_0001 Serena_Williams/Serena_Williams_0002 Colin_Powell/Colin_Powell_0010
       Zhang_Ziyi/Zhang_Ziyi_0003)
for f in "${faces[@]}"; do grep -F "$f.jpg" "$lfw/lfw_landmark.txt"; done >"$tmp/lm.txt"
"$app" align --root "$lfw" --landmarks "$tmp/lm.txt" --out "$tmp/al" --quiet
ref="30.2946 51.6963 65.5318 51.5014 48.0252 71.7366 33.5493 92.3655 62.7299 92.2041"
{
  echo "set terminal pngcairo size 1000,560 font 'sans,10'"
  echo "set output '$root/docs/figures/lfw_aligned.png'"
  echo "set multiplot layout 2,4 title 'LFW photos with their five landmarks (top) and the aligned 96x112 crops from spherecl align, reference points marked (bottom)'"
  # gnuplot puts an image's first row at the bottom of the axes: points are drawn at y' = H - 1 - y.
  echo "unset key; unset tics; unset border; set size ratio -1"
  n=0
  while IFS=$'\t' read -r path x1 y1 x2 y2 x3 y3 x4 y4 x5 y5; do
    n=$((n + 1))
    printf '%s %s\n%s %s\n%s %s\n%s %s\n%s %s\n' "$x1" "$y1" "$x2" "$y2" "$x3" "$y3" "$x4" "$y4" "$x5" "$y5" >"$tmp/p$n.txt"
    echo "set title '${path%%/*}' noenhanced; set xrange [0:249]; set yrange [0:249]"
    echo "plot '$lfw/$path' binary filetype=jpg with rgbimage, '$tmp/p$n.txt' using 1:(249-\$2) with points pt 7 ps 0.8 lc rgb 'green'"
  done <"$tmp/lm.txt"
  echo "$ref" | tr ' ' '\n' | paste - - >"$tmp/ref.txt"
  while IFS=$'\t' read -r path rest; do
    echo "set title '${path##*/}' noenhanced; set xrange [0:95]; set yrange [0:111]"
    echo "plot '$tmp/al/${path%.jpg}.png' binary filetype=png with rgbimage, '$tmp/ref.txt' using 1:(111-\$2) with points pt 7 ps 0.8 lc rgb 'green'"
  done <"$tmp/lm.txt"
  echo "unset multiplot"
} >"$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
echo "wrote $root/docs/figures/lfw_aligned.png"
