#!/usr/bin/env bash
# `mpirun -n 2 spherecl train`: one job over two ranks (each with half of every batch) trains the
# same model as one process with the whole batch (embeddings within 1e-4), whatever the allreduce's
# bucket size; a checkpoint of the 2-rank job resumes with 2 ranks; a rank that fails, or is
# killed, ends the whole job with an error instead of leaving it hanging. Skipped (77) when spherecl was built without MPI.
set -u
app=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/testkit/cli.sh"
if ! "$app" --version | grep -q "features: MPI" || ! command -v mpirun > /dev/null; then
  echo "cli_mpi: SKIP: spherecl built without MPI, or no mpirun (apt-get install libopenmpi-dev openmpi-bin)"
  exit 77
fi
mpi=(mpirun -n 2 --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
make_faces "$tmp/faces"
common=(--data "$tmp/faces" --net sphereface-4 --widths 4,8,8,8 --embed-dim 8 --batch 6 --lr 0.05 --lr-steps 8,11
        --margin asoftmax:m=2 --seed 3 --quiet)
images=("$tmp"/faces/p*/[1-3].pgm)
# The largest difference between two models' embeddings of the same images.
embed() { "$app" embed --model "$1" --no-mirror --quiet "${images[@]}" | cut -d, -f2-; }
max_diff() {
  paste -d, <(embed "$1" | tr , '\n') <(embed "$2" | tr , '\n') |
    awk -F, '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.3g", m }'
}

"$app" train "${common[@]}" --iters 6 --out "$tmp/one.scl" 2> "$tmp/one.err"
"${mpi[@]}" "$app" train "${common[@]}" --iters 6 --out "$tmp/two.scl" > "$tmp/two.out" 2> "$tmp/two.err"
rc=$?
check "the 2-rank job succeeds" '[ $rc -eq 0 ] && [ -s "$tmp/two.scl" ]'
check "... says it is one job of 2 ranks on its first line" 'head -n 1 "$tmp/two.err" | grep -q "one job of 2 ranks"'
check "... and only rank 0 reports" '[ "$(grep -c "^training SphereFace" "$tmp/two.err")" -eq 1 ]'
d=$(max_diff "$tmp/one.scl" "$tmp/two.scl")
echo "    2 ranks x batch 3 against 1 process x batch 6, after 6 steps: max |embedding difference| $d"
check "2 ranks x 3 train the model 1 process x 6 does (within 1e-4)" 'awk -v d="$d" "BEGIN { exit !(d < 1e-4) }"'

# Buckets of 100 bytes (a few parameters each), or one after backward (0): every gradient lands in its
# place, so with 2 ranks (a + b in any order) the models are bit-identical to the default's.
for mb in 0.0001 0; do
  "${mpi[@]}" "$app" train "${common[@]}" --iters 6 --bucket-mb $mb --out "$tmp/b$mb.scl" > /dev/null 2> "$tmp/b$mb.err"
  rc=$?
  d=$(max_diff "$tmp/two.scl" "$tmp/b$mb.scl")
  echo "    --bucket-mb $mb: $(grep "gradient allreduce" "$tmp/b$mb.err")"
  check "--bucket-mb $mb trains the default's model (max diff $d)" \
    '[ $rc -eq 0 ] && awk -v d="$d" "BEGIN { exit !(d == 0) }"'
done
check "... in many buckets per step with 100-byte buckets, in one with 0" \
  'grep -Eq "in ([2-9]|[1-9][0-9]+)\.0 buckets" "$tmp/b0.0001.err" && grep -q "in 1\.0 buckets" "$tmp/b0.err"'

"${mpi[@]}" "$app" train "${common[@]}" --iters 3 --checkpoint-every 3 --out "$tmp/part.scl" > /dev/null 2>&1
"${mpi[@]}" "$app" train "${common[@]}" --iters 6 --resume "$tmp/part.scl.ckpt" --out "$tmp/resumed.scl" > /dev/null 2>&1
rc=$?
d=$(max_diff "$tmp/two.scl" "$tmp/resumed.scl")
check "a 2-rank checkpoint resumes with 2 ranks to the same model (max diff $d)" \
  '[ $rc -eq 0 ] && awk -v d="$d" "BEGIN { exit !(d < 1e-6) }"'

# One rank fails at the start (a device that does not exist): the job ends with its message.
timeout 120 mpirun -n 1 "${mpi[@]:3}" "$app" train "${common[@]}" --iters 1000000 --out "$tmp/x.scl" : \
  -n 1 "$app" train "${common[@]}" --iters 1000000 --device no-such-device --out "$tmp/x.scl" > /dev/null 2> "$tmp/fail.err"
rc=$?
check "a failing rank ends the job with an error (no hang)" '[ $rc -ne 0 ] && [ $rc -ne 124 ]'
check "... with that rank's message" 'grep -q "no-such-device" "$tmp/fail.err"'

# One rank killed mid-run: mpirun ends the job.
timeout 120 "${mpi[@]}" "$app" train "${common[@]}" --iters 1000000 --out "$tmp/k.scl" \
  > /dev/null 2> "$tmp/kill.err" &
job=$!
sleep 3
victim=$(pgrep -f "out $tmp/k.scl" | while read -r p; do [ "$(ps -o comm= -p "$p")" = spherecl ] && echo "$p"; done | tail -n 1)
[ -n "$victim" ] && kill -9 "$victim"
wait "$job"
rc=$?
echo "    killed rank pid ${victim:-none}, mpirun exit $rc"; tail -n 3 "$tmp/kill.err" | sed "s/^/    /"
check "a rank killed mid-run ends the job with an error (no hang)" '[ -n "$victim" ] && [ $rc -ne 0 ] && [ $rc -ne 124 ]'
finish
