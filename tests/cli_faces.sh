#!/usr/bin/env bash
# The real-face pipeline end to end on synthetic data ($1 is the spherecl binary): `spherecl align`
# (crops, sizes, the summary, caching, bad landmark files, images that fail), training on padded
# colour crops with --crop/--holdout/--min-images, the model's recorded input used by verify, embed
# and compare, `verify --fold K` against a hand-worked case, and a few real LFW images when
# ../shared/data is there.
set -u
app=$1
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
. "$(dirname "$0")/testkit/cli.sh"


# ---- align ----------------------------------------------------------------------------------------
# Four people, three 40x40 colour PPM photos each; the landmarks are the reference points of a
# 20x24 crop moved by a small per-image shift, so every photo aligns.
src=$tmp/photos
for p in Ann Bob Cy Dee; do
  mkdir -p "$src/$p"
  for i in 1 2 3; do
    { printf 'P6\n40 40\n255\n'; yes "$p$i-colour-bytes" | head -c 4800; } >"$src/$p/${p}_000$i.ppm"
    dx=$(( (${#p} + i) % 3 )) dy=$(( i % 2 ))
    printf '%s/%s_000%d.ppm\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n' "$p" "$p" "$i" \
      $((16 + dx)) $((22 + dy)) $((23 + dx)) $((22 + dy)) $((20 + dx)) $((26 + dy)) $((17 + dx)) $((30 + dy)) \
      $((22 + dx)) $((30 + dy)) >>"$tmp/lm.txt"
  done
done
cp "$tmp/lm.txt" "$tmp/lm_all.txt"
# An image with no landmarks, one listed but missing, one with degenerate points, one grey.
{ printf 'P6\n40 40\n255\n'; yes x | head -c 4800; } >"$src/Ann/Ann_0009.ppm"
printf 'Eve/Eve_0001.ppm 1 2 3 4 5 6 7 8 9 10\n' >>"$tmp/lm_all.txt"
mkdir -p "$src/Fay" "$src/Gus"
cp "$src/Ann/Ann_0001.ppm" "$src/Fay/Fay_0001.ppm"
printf 'Fay/Fay_0001.ppm 5 5 5 5 5 5 5 5 5 5\n' >>"$tmp/lm_all.txt"
{ printf 'P5\n40 40\n255\n'; yes g | head -c 1600; } >"$src/Gus/Gus_0001.pgm"
printf 'Gus/Gus_0001.pgm 16 22 23 22 20 26 17 30 22 30' >>"$tmp/lm_all.txt" # no final newline

"$app" align --root "$src" --landmarks "$tmp/lm_all.txt" --out "$tmp/al" --size 20x24 --pad 1 >"$tmp/a.out" 2>"$tmp/a.err"
rc=$?
check "align exits 1 when images fail, and still aligns the others" '[ $rc -eq 1 ] && [ "$(find "$tmp/al" -name "*.png" | wc -l)" -eq 12 ]'
check "the summary counts aligned, skipped and failed" 'grep -q "^aligned 12, skipped 0 (already there), failed 3" "$tmp/a.err"'
check "crops keep the relative path, as PNG of (W+2P)x(H+2P)" \
  '[ -f "$tmp/al/Bob/Bob_0002.png" ] && [ "$(png_size "$tmp/al/Bob/Bob_0002.png")" = "22x26" ]'
check "colour crops (PNG colour type 2)" '[ "$(od -An -j25 -N1 -tu1 "$tmp/al/Cy/Cy_0001.png" | tr -d " ")" = 2 ]'
check "a listed image that is missing is named" 'grep -q "Eve/Eve_0001.ppm: SCL_ERR_IO" "$tmp/a.err"'
check "degenerate landmarks are named" 'grep -q "Fay/Fay_0001.ppm: .*all the same point" "$tmp/a.err"'
check "a grey image where colour is wanted is named" 'grep -q "Gus/Gus_0001.pgm: the image is grey" "$tmp/a.err"'
check "images without landmarks are reported, not aligned" \
  'grep -q "no landmarks for Ann/Ann_0009.ppm" "$tmp/a.err" && [ ! -e "$tmp/al/Ann/Ann_0009.png" ]'
check "no temporary files are left" '[ -z "$(find "$tmp/al" -name "*.tmp-*")" ]'
"$app" align --root "$src" --landmarks "$tmp/lm.txt" --out "$tmp/al" --size 20x24 --pad 1 2>"$tmp/a2.err"
check "a second run keeps what is there" '[ $? -eq 0 ] && grep -q "^aligned 0, skipped 12 (already there), failed 0" "$tmp/a2.err"'
"$app" align --root "$src" --landmarks "$tmp/lm.txt" --out "$tmp/al" --size 20x24 --pad 1 --force --quiet 2>"$tmp/a3.err"
check "--force redoes them, --quiet prints no progress" \
  '[ $? -eq 0 ] && grep -q "^aligned 12, skipped 0" "$tmp/a3.err" && ! grep -q "^align: " "$tmp/a3.err"'
check "without --quiet, a log gets a progress line every tenth of the way" \
  '[ "$(grep -Ec "^align: [0-9]+/12  ([0-9]+/s|[0-9]+ s each)  ETA " "$tmp/a2.err")" -eq 12 ]'
if command -v script >/dev/null; then
  script -qec "$app align --root $src --landmarks $tmp/lm.txt --out $tmp/al --size 20x24 --pad 1 --force" /dev/null </dev/null >"$tmp/tty.out" 2>&1
  check "on a terminal the progress line redraws in place, with an ETA" 'grep -q $'"'"'\ralign: 12/12 .*ETA'"'"' "$tmp/tty.out"'
fi
"$app" align --root "$src" --landmarks "$tmp/lm.txt" --out "$tmp/al96" --quiet 2>/dev/null
check "the default crop is the reference's 96x112" '[ $? -eq 0 ] && [ "$(png_size "$tmp/al96/Ann/Ann_0001.png")" = "96x112" ]'
"$app" align --root "$src" --landmarks "$tmp/lm.txt" --out "$tmp/alg" --size 20x24 --pad 1 --grey --quiet 2>/dev/null
check "--grey writes grey crops" '[ $? -eq 0 ] && [ "$(od -An -j25 -N1 -tu1 "$tmp/alg/Ann/Ann_0001.png" | tr -d " ")" = 0 ]'

printf 'Ann/Ann_0001.ppm 1 2 3 4 5 6 7 8 9 10\nBob/Bob_0001.ppm 1 2 3 x 5 6 7 8 9 10\n' >"$tmp/bad1.txt"
printf 'Ann/Ann_0001.ppm 1 2 3 4 5 6 7 8 9\n' >"$tmp/bad2.txt"
printf 'Ann/Ann_0001.ppm 1 2 3 4\n' >"$tmp/bad3.txt"
"$app" align --root "$src" --landmarks "$tmp/bad1.txt" --out "$tmp/x" 2>"$tmp/e1"; r1=$?
"$app" align --root "$src" --landmarks "$tmp/bad2.txt" --out "$tmp/x" 2>"$tmp/e2"; r2=$?
"$app" align --root "$src" --landmarks "$tmp/bad3.txt" --out "$tmp/x" 2>"$tmp/e3"; r3=$?
check "a non-number in a landmark file: FILE:LINE" '[ $r1 -eq 1 ] && grep -q "bad1.txt:2: \"x\" is not a number" "$tmp/e1"'
check "a missing column: FILE:LINE" '[ $r2 -eq 1 ] && grep -q "bad2.txt:1: .* 9 numbers" "$tmp/e2"'
check "not five points: refused" '[ $r3 -eq 1 ] && grep -q "2 points per image; the reference points are for 5" "$tmp/e3"'
check "nothing is written for a bad landmark file" '[ ! -e "$tmp/x" ]'
"$app" align --root "$src" --landmarks "$tmp/lm.txt" --out "$tmp/x" --size 20 2>/dev/null
check "--size without WxH is a usage error" '[ $? -eq 2 ]'
"$app" align --root "$src" --landmarks "$tmp/lm.txt" --out "$tmp/x" --pad -1 2>/dev/null
check "a negative --pad is a usage error" '[ $? -eq 2 ]'

# ---- training on padded colour crops ---------------------------------------------------------------
# Pairs over the four people in 2 folds (fold 1: Ann, Bob; fold 2: Cy, Dee), LFW's format.
printf '2\t1\nAnn\t1\t2\nAnn\t1\tBob\t1\nCy\t1\t3\nCy\t2\tDee\t2\n' >"$tmp/pairs.txt"
common=(--data "$tmp/al" --net sphereface-4 --widths 4,8,8,8 --embed-dim 8 --batch 4 --iters 6 --lr 0.01 --seed 2)
"$app" train "${common[@]}" --crop 20x24 --holdout "$tmp/pairs.txt:1" --out "$tmp/m.scl" 2>"$tmp/t.err"
rc=$?
check "training on random 20x24 crops of the 22x26 crops, fold 1's people left out" \
  '[ $rc -eq 0 ] && grep -q "leaving out the 2 people of fold 1" "$tmp/t.err" &&
   grep -q "3x24x20 random crops, 2 classes, 6 images" "$tmp/t.err"'
# Exact resumption with random crops: the same lr steps in both runs (their default follows --iters).
"$app" train "${common[@]}" --crop 20x24 --holdout "$tmp/pairs.txt:1" --lr-steps 4,5 --out "$tmp/whole.scl" 2>/dev/null &&
  "$app" train "${common[@]}" --crop 20x24 --holdout "$tmp/pairs.txt:1" --lr-steps 4,5 --iters 3 --checkpoint-every 3 \
    --out "$tmp/half.scl" 2>/dev/null &&
  "$app" train "${common[@]}" --crop 20x24 --holdout "$tmp/pairs.txt:1" --resume "$tmp/half.scl.ckpt" \
    --out "$tmp/resumed.scl" 2>/dev/null
check "random crops resume exactly: the resumed model is byte-identical" '[ $? -eq 0 ] && cmp -s "$tmp/whole.scl" "$tmp/resumed.scl"'
"$app" train "${common[@]}" --crop 20x24 --min-images 4 --out "$tmp/m2.scl" 2>"$tmp/t2.err"
check "--min-images 4 leaves everyone out: a clear error" '[ $? -eq 1 ] && grep -q "with fewer than 4 images" "$tmp/t2.err"'
"$app" train "${common[@]}" --holdout "$tmp/pairs.txt:3" --out "$tmp/m2.scl" 2>"$tmp/t3.err"
check "a hold-out fold out of range: a clear error" '[ $? -eq 1 ] && grep -q "fold 3 is out of range" "$tmp/t3.err"'
"$app" train "${common[@]}" --holdout "$tmp/pairs.txt" --out "$tmp/m2.scl" 2>/dev/null
check "--holdout without :K is a usage error" '[ $? -eq 2 ]'
"$app" train "${common[@]}" --crop 30x24 --out "$tmp/m2.scl" 2>"$tmp/t4.err"
check "a crop larger than the images: a clear error" '[ $? -eq 1 ] && grep -q "larger than the 22x26" "$tmp/t4.err"'
check "no model was written by the failed runs" '[ ! -e "$tmp/m2.scl" ]'

"$app" verify --model "$tmp/m.scl" --pairs "$tmp/pairs.txt" --root "$tmp/al" --fold 1 --no-store >"$tmp/v.out" 2>"$tmp/v.err"
check "verify takes the centre of the stored crops and reports fold 1 alone" \
  '[ $? -eq 0 ] && [ "$(grep -c "^accuracy: [01]\.[0-9]\{4\}$" "$tmp/v.out")" -eq 1 ] && tail -n 1 "$tmp/v.out" | grep -q "^accuracy: "'
"$app" compare --model "$tmp/m.scl" "$tmp/al/Ann/Ann_0001.png" "$tmp/al/Ann/Ann_0001.png" >"$tmp/c.out" 2>&1
check "compare on stored crops: an image is itself" '[ $? -eq 0 ] && grep -q "^similarity: 1.0000$" "$tmp/c.out"'
"$app" compare --model "$tmp/m.scl" "$tmp/al96/Ann/Ann_0001.png" "$tmp/al/Ann/Ann_0001.png" >"$tmp/c.out" 2>&1
check "an image of another size: a clear error" '[ $? -eq 1 ] && grep -q "is 96x112 (width x height); the model takes 22x26" "$tmp/c.out"'
"$app" compare --model "$tmp/m.scl" "$tmp/alg/Ann/Ann_0001.png" "$tmp/al/Ann/Ann_0001.png" >"$tmp/c.out" 2>&1
check "a grey image for a colour model: a clear error" '[ $? -eq 1 ] && grep -q "is grey; the model takes colour (RGB)" "$tmp/c.out"'
"$app" verify --model "$tmp/m.scl" --pairs "$tmp/pairs.txt" --root "$tmp/al" --fold 3 >/dev/null 2>"$tmp/v.err"
check "verify --fold out of range" '[ $? -eq 1 ] && grep -q "fold 3 is out of range: .* has folds 1..2" "$tmp/v.err"'
"$app" verify --model "$tmp/m.scl" --pairs "$tmp/pairs.txt" --root "$tmp/al" --fold x >/dev/null 2>&1
check "verify --fold x is a usage error" '[ $? -eq 2 ]'
printf '2\t1\nAnn\t1\t2\nAnn\t1\tZoe\t1\nCy\t1\t3\nCy\t2\tDee\t2\n' >"$tmp/pairs_zoe.txt"
"$app" verify --model "$tmp/m.scl" --pairs "$tmp/pairs_zoe.txt" --root "$tmp/al" --no-store >/dev/null 2>"$tmp/v.err"
check "a pairs file naming a person with no images" '[ $? -eq 1 ] && grep -q "Zoe" "$tmp/v.err"'

# ---- verify --fold: a hand-worked case ---------------------------------------------------------------
# 1x1 grey images: bright (255) or dark (0). Without mirror and mean, each feature is +1 or −1, so
# every score is +1 (same brightness) or −1. Fold 1: same pairs score +1 and −1, different pairs −1
# and −1; fold 2: same +1, +1, different −1, −1. Fold 1's threshold comes from fold 2 (every t in
# (−1, 1) is perfect there: their mean, 0): fold 1 gets 3 of 4 right, 0.75. Fold 2's threshold comes
# from fold 1, where t in (−1, 1) reaches the best 3/4: again 0; fold 2 is then all right, 1.0.
px() { mkdir -p "$tmp/px/$1"; printf "P5\n1 1\n255\n\\$3" >"$tmp/px/$1/$2.pgm"; }
px P1 1 377; px P1 2 377; px P2 1 377; px P2 2 000; px P3 1 377; px P4 1 000; px P5 1 000; px P3 2 377
px P6 1 377; px P6 2 377; px P7 1 000; px P7 2 000; px P8 1 377; px P9 1 000; px P10 1 000; px P11 1 377
printf '2\t2\nP1\t1\t2\nP2\t1\t2\nP3\t1\tP4\t1\nP5\t1\tP3\t2\nP6\t1\t2\nP7\t1\t2\nP8\t1\tP9\t1\nP10\t1\tP11\t1\n' >"$tmp/hand.txt"
"$app" verify --pixels --no-mirror --no-mean --pairs "$tmp/hand.txt" --root "$tmp/px" --fold 1 >"$tmp/h1" 2>/dev/null; r1=$?
"$app" verify --pixels --no-mirror --no-mean --pairs "$tmp/hand.txt" --root "$tmp/px" --fold 2 >"$tmp/h2" 2>/dev/null; r2=$?
check "fold 1 of the hand-worked case: 0.75 at threshold 0" \
  '[ $r1 -eq 0 ] && [ "$(tail -n 1 "$tmp/h1")" = "accuracy: 0.7500" ] && grep -Eq "threshold -?0\.0000 \(chosen on the other 1 folds\)" "$tmp/h1"'
check "fold 2 of the hand-worked case: 1.0" '[ $r2 -eq 0 ] && [ "$(tail -n 1 "$tmp/h2")" = "accuracy: 1.0000" ]'

# ---- real LFW images, when the workspace has them ------------------------------------------------
lfw=${SPHERECL_SHARED_DATA:-$(dirname "$0")/../../shared/data}/lfw
if [ -f "$lfw/lfw_landmark.txt" ]; then
  head -n 4 "$lfw/lfw_landmark.txt" >"$tmp/lfw4.txt"
  "$app" align --root "$lfw" --landmarks "$tmp/lfw4.txt" --out "$tmp/lfw" 2>"$tmp/l.err"
  first=$(head -n 1 "$tmp/lfw4.txt" | cut -f1 | sed 's/\.jpg$/.png/')
  check "four real LFW images align to 96x112" \
    '[ $? -eq 0 ] && grep -q "^aligned 4, skipped 0" "$tmp/l.err" && [ "$(png_size "$tmp/lfw/$first")" = "96x112" ]'
else
  echo "skip LFW images: no $lfw (the workspace's ../shared/data)"
fi

finish
