#!/usr/bin/env bash
# `spherecl verify`, `embed` and `compare` end to end ($1 is the spherecl binary): a synthetic face
# folder, a tiny trained model, pairs from `spherecl pairs`, the verification report and its ROC,
# the stored threshold used by `compare`, CSV and float32 features, and the errors of bad runs.
set -u
app=$1
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
. "$(dirname "$0")/testkit/cli.sh"

# Six "people" s1..s6, five 12x10 grey PGM images each (1.pgm .. 5.pgm, AT&T's layout): a bright
# block whose place depends on the person, plus a little deterministic noise.
pgm() { # person image
  local p=$1 i=$2 bytes='' v oct
  for y in $(seq 0 11); do
    for x in $(seq 0 9); do
      v=$(( (x / 4 == (p - 1) % 3 && y / 6 == (p - 1) / 3) ? 200 : 40 ))
      v=$(( v + (x * 7 + y * 13 + i * 29 + p * 5) % 23 ))
      printf -v oct '\\%03o' "$v"
      bytes+=$oct
    done
  done
  printf 'P5\n10 12\n255\n'
  printf "$bytes"
}
for p in 1 2 3 4 5 6; do
  mkdir -p "$tmp/faces/s$p"
  for i in 1 2 3 4 5; do pgm "$p" "$i" >"$tmp/faces/s$p/$i.pgm"; done
done

"$app" train --data "$tmp/faces" --net sphereface-4 --widths 4,8,8,8 --embed-dim 8 --batch 6 --iters 20 \
  --margin asoftmax:m=2 --lr 0.05 --seed 3 --out "$tmp/model.scl" 2>"$tmp/train.log"
check "a tiny model trains" '[ $? -eq 0 ] && [ -s "$tmp/model.scl" ]'
cp "$tmp/model.scl" "$tmp/fresh.scl" # no threshold stored yet
"$app" pairs --root "$tmp/faces" --out "$tmp/pairs.txt" --folds 3 >/dev/null
check "pairs are made" '[ $? -eq 0 ] && [ -s "$tmp/pairs.txt" ]'
folds=$(head -n 1 "$tmp/pairs.txt" | awk '{print $1}')
npairs=$(($(wc -l <"$tmp/pairs.txt") - 1))

# ---- verify -------------------------------------------------------------------------------------
"$app" verify --model "$tmp/model.scl" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --roc "$tmp/roc.csv" \
  >"$tmp/verify.out" 2>"$tmp/verify.err"
rc=$?
check "verify runs" '[ $rc -eq 0 ]'
check "the last line is \"accuracy: MEAN ± STD\"" \
  'tail -n 1 "$tmp/verify.out" | grep -Eq "^accuracy: [01]\.[0-9]{4} ± [0-9]\.[0-9]{4}$"'
check "a table row per fold" \
  'grep -q "^fold  accuracy  threshold$" "$tmp/verify.out" &&
   [ "$(grep -Ec "^ +[0-9]+ +[01]\.[0-9]{4} +-?[0-9]\.[0-9]{4}$" "$tmp/verify.out")" -eq "$folds" ]'
check "TAR at FAR 1e-2 and 1e-3" \
  'grep -Eq "^TAR@FAR=1e-2: ([01]\.[0-9]{4}|n/a)$" "$tmp/verify.out" &&
   grep -Eq "^TAR@FAR=1e-3: ([01]\.[0-9]{4}|n/a)$" "$tmp/verify.out"'
check "the ROC file" \
  '[ "$(head -n 1 "$tmp/roc.csv")" = "threshold,far,tar" ] && [ "$(wc -l <"$tmp/roc.csv")" -ge 2 ] &&
   [ "$(wc -l <"$tmp/roc.csv")" -le $((npairs + 1)) ] && tail -n 1 "$tmp/roc.csv" | grep -Eq "^[-0-9.e]+,1,1$"'
check "verify says it stored the threshold" 'grep -q "stored the threshold" "$tmp/verify.err"'

if command -v gnuplot >/dev/null; then
  "$app" verify --model "$tmp/model.scl" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --no-store --plot "$tmp/roc.png" \
    >/dev/null 2>&1; rc=$?
  check "--plot draws a 1100x460 PNG" \
    '[ $rc -eq 0 ] && is_png "$tmp/roc.png" && [ "$(png_size "$tmp/roc.png")" = 1100x460 ]'
fi
"$app" verify --pixels --pairs "$tmp/pairs.txt" --root "$tmp/faces" >"$tmp/pix.out" 2>&1; rc=$?
check "the raw-pixel baseline needs no model and ends with the accuracy line" \
  '[ $rc -eq 0 ] && tail -n 1 "$tmp/pix.out" | grep -Eq "^accuracy: [01]\.[0-9]{4} ± [0-9]\.[0-9]{4}$"'
"$app" verify --model "$tmp/model.scl" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --pattern "%n/%i.pgm" \
  --no-store >"$tmp/verify2.out" 2>/dev/null
check "--pattern finds the same images" '[ $? -eq 0 ] && cmp -s "$tmp/verify.out" "$tmp/verify2.out"'
"$app" verify --model "$tmp/model.scl" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --batch 4 --no-store \
  >"$tmp/verify2.out" 2>/dev/null
check "--batch 4 (a smaller last batch)" '[ $? -eq 0 ] && tail -n 1 "$tmp/verify2.out" | grep -q "^accuracy: "'
"$app" verify --model "$tmp/model.scl" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --pattern "%n/%n_%4i.jpg" \
  --no-store >/dev/null 2>"$tmp/err"
check "a --pattern that matches nothing is an error naming the file" '[ $? -eq 1 ] && grep -q "no image .*/s1/s1_0001.jpg" "$tmp/err"'
"$app" verify --model "$tmp/model.scl" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --no-mirror --no-mean \
  --no-store >"$tmp/verify3.out" 2>/dev/null
check "--no-mirror --no-mean run" '[ $? -eq 0 ] && tail -n 1 "$tmp/verify3.out" | grep -q "^accuracy: "'
cp "$tmp/fresh.scl" "$tmp/fresh2.scl"
"$app" verify --model "$tmp/fresh2.scl" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --no-store >/dev/null 2>&1
check "--no-store leaves the model file alone" '[ $? -eq 0 ] && cmp -s "$tmp/fresh.scl" "$tmp/fresh2.scl"'

# ---- compare ------------------------------------------------------------------------------------
a=$tmp/faces/s1/1.pgm b=$tmp/faces/s1/2.pgm c=$tmp/faces/s5/3.pgm
"$app" compare --model "$tmp/model.scl" "$a" "$c" >"$tmp/cmp.out" 2>&1
rc=$?
check "compare uses the stored threshold" \
  '[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/cmp.out")" -eq 2 ] &&
   sed -n 1p "$tmp/cmp.out" | grep -Eq "^similarity: -?[01]\.[0-9]{4}$" &&
   sed -n 2p "$tmp/cmp.out" | grep -Eq "^(same person|different people) \(threshold -?[01]\.[0-9]{4}\)$"'
"$app" compare --model "$tmp/model.scl" "$a" "$a" >"$tmp/cmp.out" 2>&1
check "an image compared with itself: similarity 1, same person" \
  '[ $? -eq 0 ] && grep -q "^similarity: 1.0000$" "$tmp/cmp.out" && grep -q "^same person " "$tmp/cmp.out"'
"$app" compare --model "$tmp/model.scl" --threshold 1 "$a" "$b" >"$tmp/cmp.out" 2>&1
check "--threshold 1: different people" '[ $? -eq 0 ] && grep -q "^different people (threshold 1.0000)$" "$tmp/cmp.out"'
"$app" compare --model "$tmp/model.scl" --threshold -1 --no-mirror "$a" "$c" >"$tmp/cmp.out" 2>&1
check "--threshold -1 --no-mirror: same person" '[ $? -eq 0 ] && grep -q "^same person (threshold -1.0000)$" "$tmp/cmp.out"'
"$app" compare --model "$tmp/fresh.scl" "$a" "$b" >"$tmp/cmp.out" 2>&1
check "no threshold known: the similarity and a note, exit 0" \
  '[ $? -eq 0 ] && grep -Eq "^similarity: -?[01]\.[0-9]{4}$" "$tmp/cmp.out" && grep -q "^no threshold known" "$tmp/cmp.out"'

# ---- embed --------------------------------------------------------------------------------------
"$app" embed --model "$tmp/model.scl" "$a" "$b" "$c" >"$tmp/emb.csv" 2>"$tmp/emb.err"
rc=$?
check "embed writes one CSV line per image, path then 2·D values" \
  '[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/emb.csv")" -eq 3 ] && [ "$(cut -d, -f1 "$tmp/emb.csv" | tr "\n" " ")" = "$a $b $c " ] &&
   awk -F, "NF != 17 { exit 1 }" "$tmp/emb.csv"'
check "the features have unit length" \
  'awk -F, "{ s = 0; for (k = 2; k <= NF; k++) s += \$k * \$k; if (s < 0.9999 || s > 1.0001) exit 1 }" "$tmp/emb.csv"'
"$app" embed --model "$tmp/model.scl" --no-mirror "$a" "$b" >"$tmp/emb1.csv" 2>/dev/null
check "--no-mirror: D values" '[ $? -eq 0 ] && awk -F, "NF != 9 { exit 1 }" "$tmp/emb1.csv" && [ "$(wc -l <"$tmp/emb1.csv")" -eq 2 ]'
"$app" embed --model "$tmp/model.scl" --format f32 --out "$tmp/emb.f32" "$a" "$b" "$c" 2>/dev/null
check "--format f32: n·2·D·4 bytes" '[ $? -eq 0 ] && [ "$(wc -c <"$tmp/emb.f32")" -eq $((3 * 2 * 8 * 4)) ]'
check "the float32 rows hold the CSV values" \
  'od -An -v -t f4 -w64 "$tmp/emb.f32" | awk -F, -v csv="$tmp/emb.csv" "
     { getline line < csv; n = split(line, v, \",\"); split(\$0, w, \" \");
       for (k = 2; k <= n; k++) { d = v[k] - w[k - 1]; if (d > 1e-6 || d < -1e-6) exit 1 } }"'
"$app" embed --model "$tmp/model.scl" --out "$tmp/emb2.csv" "$a" "$b" "$c" >/dev/null 2>&1
check "--out with CSV writes the same lines" '[ $? -eq 0 ] && cmp -s "$tmp/emb.csv" "$tmp/emb2.csv"'

# ---- errors -------------------------------------------------------------------------------------
expect() { # exit-code description command... (stderr in $tmp/err)
  local want=$1 what=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ $got -eq "$want" ] && { [ "$want" -ne 2 ] || grep -q "^usage: spherecl" "$tmp/err"; }; then ok "$what"
  else bad "$what (exit $got, want $want: $(head -c 300 "$tmp/err"))"; fi
}
m=(--model "$tmp/model.scl")
expect 2 "verify: unknown flag exits 2" "$app" verify "${m[@]}" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --bogus
expect 2 "verify: missing --root exits 2" "$app" verify "${m[@]}" --pairs "$tmp/pairs.txt"
expect 2 "verify: --batch 0 exits 2" "$app" verify "${m[@]}" --pairs "$tmp/pairs.txt" --root "$tmp/faces" --batch 0
expect 2 "verify: a missing value exits 2" "$app" verify "${m[@]}" --pairs "$tmp/pairs.txt" --root
expect 2 "embed: no images exits 2" "$app" embed "${m[@]}"
expect 2 "embed: --format xml exits 2" "$app" embed "${m[@]}" --format xml "$a"
expect 2 "embed: --format f32 without --out exits 2" "$app" embed "${m[@]}" --format f32 "$a"
expect 2 "compare: one image exits 2" "$app" compare "${m[@]}" "$a"
expect 2 "compare: --threshold 2 exits 2" "$app" compare "${m[@]}" --threshold 2 "$a" "$b"
expect 2 "compare: --threshold abc exits 2" "$app" compare "${m[@]}" --threshold abc "$a" "$b"
expect 0 "verify --help" "$app" verify --help
check "verify's usage warns that it rewrites the model" 'grep -q "WITHOUT optimizer state" "$tmp/out"'

# An image the pairs name but the folder lacks.
{ head -n 1 "$tmp/pairs.txt"; sed -n '2,$p' "$tmp/pairs.txt" | sed '1s/^s[0-9]*\t[0-9]*\t[0-9]*$/s2\t1\t9/'; } >"$tmp/missing.txt"
expect 1 "verify: a missing image is an error" "$app" verify "${m[@]}" --pairs "$tmp/missing.txt" --root "$tmp/faces" --no-store
check "... naming the image and the pair" 'grep -q "no image for s2 number 9" "$tmp/err" && grep -q "pair 1 of" "$tmp/err"'
# A malformed line: the third line of the file loses a field.
sed '3s/\t[0-9]*$//' "$tmp/pairs.txt" >"$tmp/malformed.txt"
expect 1 "verify: a malformed pairs file is an error" "$app" verify "${m[@]}" --pairs "$tmp/malformed.txt" --root "$tmp/faces"
check "... naming the file and the line" 'grep -q "malformed.txt:3:" "$tmp/err"'
printf '1\t1\ns1\t1\t2\ns1\t1\ts2\t1\n' >"$tmp/onefold.txt"
expect 1 "verify: a one-fold pairs file is an error" "$app" verify "${m[@]}" --pairs "$tmp/onefold.txt" --root "$tmp/faces"
check "... saying folds are needed" 'grep -q "needs 2..32 folds" "$tmp/err"'
expect 1 "embed: a missing image is an error" "$app" embed "${m[@]}" "$a" "$tmp/faces/s1/77.pgm"
check "... naming the file" 'grep -q "s1/77.pgm" "$tmp/err"'
printf 'P5\n10 12\n255\nshort' >"$tmp/broken.pgm"
expect 1 "compare: an unreadable image is an error" "$app" compare "${m[@]}" "$a" "$tmp/broken.pgm"
check "... naming the file" 'grep -q "broken.pgm" "$tmp/err"'
printf 'P5\n3 2\n255\n\001\002\003\004\005\006' >"$tmp/small.pgm"
expect 1 "embed: an image of another size is an error" "$app" embed "${m[@]}" "$tmp/small.pgm"
check "... giving both sizes" 'grep -q "small.pgm is 3x2 (width x height); the model takes 10x12 images" "$tmp/err"'
expect 1 "embed: an unwritable --out is an error" "$app" embed "${m[@]}" --out "$tmp/no/such/dir/x.csv" "$a"
expect 1 "compare: a missing model is an error" "$app" compare --model "$tmp/nothing.scl" "$a" "$b"

finish
