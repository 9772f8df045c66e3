#!/usr/bin/env bash
# Crash-safe saving: `spherecl train` killed with SIGKILL at random moments while it writes a
# checkpoint every iteration must leave a checkpoint that loads (complete, CRC valid: the old one or
# the new one) and from which --resume continues; a full disk (a small tmpfs, when this user may
# mount one) gives a clear error and leaves the old model intact. KILLS (default 25) kills.
set -u
app=$1
tmp=$(mktemp -d)
trap 'mountpoint -q "$tmp/disk" 2>/dev/null && umount "$tmp/disk"; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/testkit/cli.sh"
make_faces "$tmp/faces"
common=(--data "$tmp/faces" --net sphereface-4 --widths 4,8,8,8 --embed-dim 8 --batch 6 --lr 0.05 --seed 3
        --margin asoftmax:m=2 --lr-steps 8,11 --quiet --print-every 1000000)
model=$tmp/m.scl ckpt=$tmp/m.scl.ckpt probe=$tmp/faces/p1/1.pgm
kills=${KILLS:-25}
RANDOM=7 # the same moments on every run

# A file loads when `embed` accepts it (magic, version, CRC and structure all checked).
loads() { "$app" embed --model "$1" --no-mirror --quiet "$probe" > /dev/null 2>&1; }
# A checkpoint's iteration: resuming it to an earlier --iters trains nothing and says where it stands.
iteration_of() {
  "$app" train --resume "$1" --iters 1 --data "$tmp/faces" --out "$tmp/probe.scl" 2>&1 |
    sed -n 's/.*saved model .*(iteration \([0-9]*\)).*/\1/p' | head -n 1
}

killed=0 resumed=0 bad_ckpt=0 bad_model=0 last_it=0 went_back=0
for k in $(seq 1 "$kills"); do
  if [ -e "$ckpt" ]; then
    "$app" train "${common[@]}" --resume "$ckpt" --iters 100000 --checkpoint-every 1 --out "$model" 2> "$tmp/run.err" &
    resumed=$((resumed + 1))
  else
    "$app" train "${common[@]}" --iters 100000 --checkpoint-every 1 --out "$model" 2> "$tmp/run.err" &
  fi
  pid=$!
  # Once this run has replaced the checkpoint (each save renames a new file in: a new inode), it is
  # writing one every iteration; then a random moment within the next 0.3 s. However slow the
  # machine, the kills land while checkpoints are being written.
  before=$(stat -c %i "$ckpt" 2>/dev/null || echo none)
  for _ in $(seq 1 3000); do
    [ "$(stat -c %i "$ckpt" 2>/dev/null || echo none)" != "$before" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  sleep "$(printf '0.%03d' $((RANDOM % 300)))"
  if kill -9 "$pid" 2>/dev/null; then
    killed=$((killed + 1))
  else
    echo "    run $k ended before its kill:"; sed 's/^/      /' "$tmp/run.err" | tail -n 3
  fi
  wait "$pid" 2>/dev/null
  if [ -e "$ckpt" ]; then
    loads "$ckpt" || bad_ckpt=$((bad_ckpt + 1))
  fi
  if [ -e "$model" ]; then loads "$model" || bad_model=$((bad_model + 1)); fi
done
echo "    $killed kills, $resumed runs resumed from the checkpoint the kill before left"
check "some kills happened" '[ "$killed" -ge $((kills * 2 / 3)) ]'
check "a checkpoint was written" '[ -e "$ckpt" ]'
check "every checkpoint a kill left loads" '[ "$bad_ckpt" -eq 0 ]'
check "every model file a kill left loads" '[ "$bad_model" -eq 0 ]'
check "runs resumed from killed runs' checkpoints" '[ "$resumed" -ge $((kills / 2)) ]'
# The last checkpoint still resumes and trains to the end.
it=$(iteration_of "$ckpt")
"$app" train "${common[@]}" --resume "$ckpt" --iters $((it + 3)) --out "$model" > "$tmp/final.out" 2>&1
rc=$?
check "the last checkpoint (iteration ${it:-?}) resumes and finishes" '[ $rc -eq 0 ] && [ -n "$it" ] && loads "$model" && grep -q "iteration $((it + 3)))" "$tmp/final.out"'

# A full disk: a tmpfs with room for the old model and half the new one. The save fails with the
# system's reason, the old model is left as it was, and no temporary file stays behind.
big=(--data "$tmp/faces" --net sphereface-4 --widths 4,8,8,64 --embed-dim 4096 --batch 6 --lr 0.01 --seed 3 --quiet)
"$app" train "${big[@]}" --iters 1 --out "$tmp/big.scl" > /dev/null 2>&1
size=$(stat -c %s "$tmp/big.scl" 2>/dev/null || echo 0)
mkdir -p "$tmp/disk"
if [ "$size" -gt 0 ] && mount -t tmpfs -o size=$(( (size * 3 / 2) / 4096 * 4 + 4 ))k tmpfs "$tmp/disk" 2>/dev/null; then
  cp "$tmp/big.scl" "$tmp/disk/model.scl"
  "$app" train "${big[@]}" --iters 2 --out "$tmp/disk/model.scl" > /dev/null 2> "$tmp/full.err"
  rc=$?
  check "a full disk exits 1" '[ $rc -eq 1 ]'
  check "... saying why" 'grep -q "cannot save model file .*No space left on device" "$tmp/full.err"'
  check "... and the old model is intact" 'cmp -s "$tmp/disk/model.scl" "$tmp/big.scl"'
  check "... with no temporary file left" '[ "$(ls "$tmp/disk")" = model.scl ]'
  umount "$tmp/disk"
else
  echo "    skip: the full-disk case needs a tmpfs mount (root); not checked here"
fi
finish
