#!/usr/bin/env bash
# bench/lfw.sh K [MARGIN] — the LFW benchmark for held-out fold K (1..10) on people never seen:
#   1. align all of LFW to 48x56 crops padded by 2 (52x60), once (cached under $WORK);
#   2. train on every person with >= 2 images who is not in fold K of pairs.txt (View 2):
#      random 48x56 crops and mirrors, SphereFace-10 with widths 32/64/128/256 and a 256-d embedding;
#   3. verify fold K with the threshold chosen on the other nine folds; the last line is `accuracy: X`.
# K = dev is View 1, the development view for choosing settings without touching View 2: train on
# everyone not in pairsDevTest.txt, then verify pairsDevTest's 500+500 pairs cut into 10 folds of
# 50+50 (mean accuracy over the folds, each with its threshold from the other nine).
# MARGIN is a `spherecl train --margin` spec (default asoftmax:m=4; `softmax` for the baseline).
# The defaults fit in ~30 minutes on a 2-core CPU (see bench/README.md for why these sizes; 2400
# iterations were chosen on View 1, `bench/lfw.sh dev`). A device without a tuning cache is tuned
# first (`spherecl tune`, about 12 minutes, once per machine): CLBlast's defaults run 3x slower.
# Environment: SPHERECL (the binary, default build/spherecl), LFW (default ../shared/data/lfw),
# WORK (default lfw-work), ITERS (2400), BATCH (64), LR (0.02), SEED (1), DEVICE (default device).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
K=${1:?usage: bench/lfw.sh K [MARGIN]   (K = the held-out fold, 1..10)}
MARGIN=${2:-asoftmax:m=4}
SPHERECL=${SPHERECL:-$root/build/spherecl}
LFW=${LFW:-$root/../shared/data/lfw}
WORK=${WORK:-lfw-work}
ITERS=${ITERS:-2400} BATCH=${BATCH:-64} LR=${LR:-0.02} SEED=${SEED:-1}
dev=()
[ -n "${DEVICE:-}" ] && dev=(--device "$DEVICE")
case "$K" in [1-9] | 10 | dev) ;; *) echo "bench/lfw.sh: K must be a fold 1..10 or dev, got \"$K\"" >&2; exit 2 ;; esac
[ -x "$SPHERECL" ] || { echo "bench/lfw.sh: no $SPHERECL; build first (cmake -S . -B build && cmake --build build -j)" >&2; exit 1; }
for f in pairs.txt pairsDevTest.txt lfw_landmark.txt; do
  [ -f "$LFW/$f" ] || { echo "bench/lfw.sh: $LFW/$f not found; set LFW to the LFW folder" >&2; exit 1; }
done
mkdir -p "$WORK"
if [ "$K" = dev ]; then
  # View 1's test list as a 10-fold pairs file: fold i = matched pairs 50i..50i+49, then mismatched.
  holdout="$LFW/pairsDevTest.txt:1"
  eval_pairs="$WORK/pairsDevTest-10x50.txt"
  awk 'NR == 1 { n = $1; print "10", n / 10; next }
       { line[NR - 1] = $0 }
       END { for (f = 0; f < 10; f++) for (s = 0; s < 2; s++) for (i = 0; i < n / 10; i++)
               print line[s * n + f * n / 10 + i + 1] }' "$LFW/pairsDevTest.txt" > "$eval_pairs.tmp"
  mv "$eval_pairs.tmp" "$eval_pairs"
  verify_fold=()
else
  holdout="$LFW/pairs.txt:$K" eval_pairs="$LFW/pairs.txt" verify_fold=(--fold "$K")
fi
tag=$(echo "$MARGIN" | tr -c 'A-Za-z0-9.=\n' '_')
model="$WORK/fold$K-$tag-s$SEED-i$ITERS.scl"
start=$(date +%s)

if [ -z "${SPHERECL_TUNING:-}" ] && "$SPHERECL" devices 2>/dev/null | grep -q "not tuned"; then
  echo "== no tuning cache for the device: spherecl tune, once (about 12 minutes; every later run uses it)" >&2
  "$SPHERECL" tune "${dev[@]}" >&2
fi

echo "== align (cached in $WORK/aligned-48x56p2)" >&2
"$SPHERECL" align --root "$LFW" --landmarks "$LFW/lfw_landmark.txt" --out "$WORK/aligned-48x56p2" \
  --size 48x56 --pad 2 --quiet

echo "== train on the people of the other folds ($MARGIN, $ITERS iterations, seed $SEED)" >&2
"$SPHERECL" train --data "$WORK/aligned-48x56p2" --holdout "$holdout" --min-images 2 --crop 48x56 \
  --net sphereface-10 --widths 32,64,128,256 --embed-dim 256 --margin "$MARGIN" \
  --batch "$BATCH" --iters "$ITERS" --lr "$LR" --seed "$SEED" --print-every 100 --out "$model" "${dev[@]}"

echo "== verify fold $K (threshold from the other nine folds)" >&2
"$SPHERECL" verify --model "$model" --pairs "$eval_pairs" --root "$WORK/aligned-48x56p2" "${verify_fold[@]}" \
  --no-store "${dev[@]}" | tee "$model.verify.txt" | tail -n 2 | head -n 1 >&2
echo "wall time: $(( $(date +%s) - start )) s" >&2
tail -n 1 "$model.verify.txt"
