#!/usr/bin/env bash
# `spherecl train` / `eval` end to end on a synthetic image folder: bad flags, training, evaluation,
# exact resumption from a checkpoint, and Ctrl-C writing a checkpoint.
set -u
app=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/testkit/cli.sh"

make_faces "$tmp/faces"

common=(--data "$tmp/faces" --net sphereface-4 --widths 4,8,8,8 --embed-dim 8 --batch 6 --lr 0.05
        --lr-steps 8,11 --margin asoftmax:m=2 --seed 3)

"$app" train --bogus >/dev/null 2>&1; check "unknown flag exits 2" '[ $? -eq 2 ]'
"$app" train "${common[@]}" --batch 0 >/dev/null 2>&1; check "batch 0 exits 2" '[ $? -eq 2 ]'
"$app" train "${common[@]}" --margin asoftmax:m=7 >/dev/null 2>&1; check "bad margin exits 2" '[ $? -eq 2 ]'
"$app" train "${common[@]}" --net sphereface-5 >/dev/null 2>&1; check "bad net exits 2" '[ $? -eq 2 ]'
"$app" train --net sphereface-4 --no-such-flag >/dev/null 2>&1; check "an unknown flag exits 2" '[ $? -eq 2 ]'
# No --data: Debian's Fashion-MNIST (dataset-fashion-mnist), or a message saying how to get it.
fm=/usr/share/datasets/fashion-mnist
"$app" train --net sphereface-4 --widths 4,8,8,8 --embed-dim 8 --batch 8 --iters 2 --out "$tmp/fm.scl" 2>"$tmp/fm.err"; rc=$?
if [ -e "$fm/train-images-idx3-ubyte.gz" ] || [ -e "$fm/train-images-idx3-ubyte" ]; then
  check "no --data: train says it uses Fashion-MNIST, and trains" \
    '[ $rc -eq 0 ] && grep -q "no --data given: using Fashion-MNIST from $fm" "$tmp/fm.err" && [ -s "$tmp/fm.scl" ]'
  "$app" eval --model "$tmp/fm.scl" >"$tmp/fm.out" 2>"$tmp/fm.err"; rc=$?
  check "no --data: eval uses the Fashion-MNIST test set" \
    '[ $rc -eq 0 ] && grep -q "using Fashion-MNIST" "$tmp/fm.err" && grep -Eq "^accuracy: [01]\.[0-9]{4} \([0-9]+/10000\)$" "$tmp/fm.out"'
else
  check "no --data and no Fashion-MNIST: exit 1, naming the package" '[ $rc -eq 1 ] && grep -q "apt-get install dataset-fashion-mnist" "$tmp/fm.err"'
fi
"$app" train --data "$tmp/nowhere" --iters 1 --out "$tmp/x.scl" 2>"$tmp/err"; rc=$?
check "missing data folder is an error" '[ $rc -eq 1 ] && grep -q nowhere "$tmp/err"'

"$app" train "${common[@]}" --iters 12 --out "$tmp/whole.scl" 2>"$tmp/log"; rc=$?
check "train runs" '[ $rc -eq 0 ] && [ -s "$tmp/whole.scl" ]'
check "progress lines when piped" 'grep -q "^iter  1/12" "$tmp/log" && grep -q "^iter 12/12" "$tmp/log" && grep -q "img/s" "$tmp/log"'

"$app" train "${common[@]}" --iters 5 --checkpoint-every 5 --out "$tmp/part.scl" 2>/dev/null
"$app" train --data "$tmp/faces" --batch 6 --resume "$tmp/part.scl.ckpt" --iters 12 --out "$tmp/resumed.scl" 2>/dev/null; rc=$?
check "resume runs" '[ $rc -eq 0 ]'
check "resumed model is byte-identical to the uninterrupted one" 'cmp -s "$tmp/whole.scl" "$tmp/resumed.scl"'

"$app" eval --model "$tmp/whole.scl" --data "$tmp/faces" >"$tmp/eval" 2>&1; rc=$?
check "eval prints the accuracy line" '[ $rc -eq 0 ] && grep -Eq "^accuracy: [01]\.[0-9]{4} \([0-9]+/18\)$" "$tmp/eval"'
"$app" eval --model "$tmp/whole.scl" --data "$tmp/faces" --features "$tmp/f.csv" >/dev/null 2>&1
check "eval --features writes label + embedding rows" '[ "$(wc -l < "$tmp/f.csv")" -eq 18 ] && [ "$(head -1 "$tmp/f.csv" | tr , "\n" | wc -l)" -eq 9 ] && ! ls "$tmp"/f.csv.tmp* >/dev/null 2>&1'
"$app" eval --model "$tmp/nothing.scl" --data "$tmp/faces" >/dev/null 2>&1; check "eval of a missing model fails" '[ $? -eq 1 ]'
head -c 100 "$tmp/whole.scl" > "$tmp/cut.scl"
"$app" eval --model "$tmp/cut.scl" --data "$tmp/faces" 2>"$tmp/err" >/dev/null; rc=$?
check "eval of a truncated model fails with a format error" '[ $rc -eq 1 ] && grep -q SCL_ERR_FORMAT "$tmp/err"'

# --log and --plot: the CSV as training goes, the picture at the end (a PNG of the documented size).
"$app" train "${common[@]}" --iters 12 --print-every 5 --log "$tmp/log.csv" --plot "$tmp/curves.png" --out "$tmp/p.scl" 2>"$tmp/err"; rc=$?
check "--log writes the header and a row at 1, every --print-every and the last iteration" \
  '[ $rc -eq 0 ] && [ "$(head -n 1 "$tmp/log.csv")" = "iteration,loss,accuracy,lambda,lr,images_per_s" ] &&
   [ "$(cut -d, -f1 "$tmp/log.csv" | tail -n +2 | tr "\n" " ")" = "1 5 10 12 " ]'
if command -v gnuplot >/dev/null; then
  check "--plot draws a 1300x420 PNG" 'is_png "$tmp/curves.png" && [ "$(png_size "$tmp/curves.png")" = 1300x420 ]'
  check "no temporary picture is left" '! ls "$tmp"/curves.png.tmp* >/dev/null 2>&1'
fi
"$app" train "${common[@]}" --iters 3 --quiet --out "$tmp/q.scl" 2>"$tmp/q.err"
check "--quiet: no progress lines, the closing lines stay" \
  '[ $? -eq 0 ] && ! grep -q "^iter " "$tmp/q.err" && grep -q "^saved model" "$tmp/q.err"'
"$app" train "${common[@]}" --resume "$tmp/p.scl" --iters 14 --print-every 5 --log "$tmp/log.csv" --out "$tmp/p2.scl" 2>/dev/null
check "resuming appends to the log" '[ $? -eq 0 ] && [ "$(cut -d, -f1 "$tmp/log.csv" | tail -n +2 | tr "\n" " ")" = "1 5 10 12 14 " ]'
PATH=/nonexistent "$app" train "${common[@]}" --iters 2 --plot "$tmp/x.png" --out "$tmp/x.scl" 2>"$tmp/err"
check "--plot without gnuplot: exit 1, naming the package" '[ $? -eq 1 ] && grep -q "needs gnuplot (apt-get install gnuplot-nox)" "$tmp/err" && [ ! -e "$tmp/x.png" ]'

# Ctrl-C: a long run interrupted writes a checkpoint and exits 130.
"$app" train "${common[@]}" --iters 100000 --out "$tmp/long.scl" 2>"$tmp/long.log" &
pid=$!
for _ in $(seq 1 600); do grep -q "^iter" "$tmp/long.log" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
check "Ctrl-C exits 130 and writes a checkpoint" '[ $rc -eq 130 ] && [ -s "$tmp/long.scl.ckpt" ] && grep -q "resume with: spherecl train --data .* --batch 6 .*--iters 100000 --out .*long.scl --resume .*long.scl.ckpt$" "$tmp/long.log"'

finish
