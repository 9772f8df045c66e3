#!/usr/bin/env bash
# bench/lfw.sh K [MARGIN] — the LFW benchmark for held-out fold K (1..10) on people never seen:
#   1. align all of LFW to 48x56 crops padded by 2 (52x60), once (cached under $WORK);
#   2. train on every person with >= 2 images who is not in fold K of pairs.txt (View 2):
#      random 48x56 crops and mirrors, SphereFace-10 with widths 32/64/128/256 and a 256-d embedding;
#   3. verify fold K with the threshold chosen on the other nine folds; the last line is `accuracy: X`.
# MARGIN is a `spherecl train --margin` spec (default asoftmax:m=4; `softmax` for the baseline).
# The defaults fit in ~30 minutes on a 2-core CPU (see bench/README.md for why these sizes).
# Environment: SPHERECL (the binary, default build/spherecl), LFW (default ../shared/data/lfw),
# WORK (default lfw-work), ITERS (1200), BATCH (64), LR (0.02), SEED (1), DEVICE (default device).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
K=${1:?usage: bench/lfw.sh K [MARGIN]   (K = the held-out fold, 1..10)}
MARGIN=${2:-asoftmax:m=4}
SPHERECL=${SPHERECL:-$root/build/spherecl}
LFW=${LFW:-$root/../shared/data/lfw}
WORK=${WORK:-lfw-work}
ITERS=${ITERS:-1200} BATCH=${BATCH:-64} LR=${LR:-0.02} SEED=${SEED:-1}
dev=()
[ -n "${DEVICE:-}" ] && dev=(--device "$DEVICE")
case "$K" in [1-9] | 10) ;; *) echo "bench/lfw.sh: K must be a fold 1..10, got \"$K\"" >&2; exit 2 ;; esac
[ -x "$SPHERECL" ] || { echo "bench/lfw.sh: no $SPHERECL; build first (cmake -S . -B build && cmake --build build -j)" >&2; exit 1; }
for f in pairs.txt lfw_landmark.txt; do
  [ -f "$LFW/$f" ] || { echo "bench/lfw.sh: $LFW/$f not found; set LFW to the LFW folder" >&2; exit 1; }
done
mkdir -p "$WORK"
tag=$(echo "$MARGIN" | tr -c 'A-Za-z0-9.=\n' '_')
model="$WORK/fold$K-$tag-s$SEED.scl"
start=$(date +%s)

echo "== align (cached in $WORK/aligned-48x56p2)" >&2
"$SPHERECL" align --root "$LFW" --landmarks "$LFW/lfw_landmark.txt" --out "$WORK/aligned-48x56p2" \
  --size 48x56 --pad 2 --quiet

echo "== train on the people of the other folds ($MARGIN, $ITERS iterations, seed $SEED)" >&2
"$SPHERECL" train --data "$WORK/aligned-48x56p2" --holdout "$LFW/pairs.txt:$K" --min-images 2 --crop 48x56 \
  --net sphereface-10 --widths 32,64,128,256 --embed-dim 256 --margin "$MARGIN" \
  --batch "$BATCH" --iters "$ITERS" --lr "$LR" --seed "$SEED" --print-every 100 --out "$model" "${dev[@]}"

echo "== verify fold $K (threshold from the other nine folds)" >&2
"$SPHERECL" verify --model "$model" --pairs "$LFW/pairs.txt" --root "$WORK/aligned-48x56p2" --fold "$K" \
  --no-store "${dev[@]}" | tee "$model.verify.txt" | tail -n 2 | head -n 1 >&2
echo "wall time: $(( $(date +%s) - start )) s" >&2
tail -n 1 "$model.verify.txt"
