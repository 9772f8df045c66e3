#!/usr/bin/env bash
# The README's first command, as a new user runs it: in a fresh clone of this repository in a
# temporary folder with no ../shared beside it (so no workspace data), the one line that installs,
# builds, trains and evaluates must succeed and end with the accuracy. It needs Fashion-MNIST from
# Debian's dataset-fashion-mnist (ci/install-deps.sh installs it) and a git checkout to clone.
set -u
src=${SPHERECL_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
. "$(dirname "$0")/testkit/cli.sh"

fm=/usr/share/datasets/fashion-mnist
if [ ! -e "$fm/train-images-idx3-ubyte.gz" ] && [ ! -e "$fm/train-images-idx3-ubyte" ]; then
  echo "skip: no Fashion-MNIST in $fm (apt-get install dataset-fashion-mnist; ci/install-deps.sh does)"
  finish
  exit
fi
if ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  echo "skip: $src is not a git checkout to clone"
  finish
  exit
fi
cmd=$(grep -m1 '^    bash ci/install-deps.sh' "$src/README.md" | sed 's/^    //')
check "the README's first command installs, builds, trains and evaluates" \
  '[[ $cmd == *"ci/install-deps.sh"*"spherecl train"*"spherecl eval"* ]]'
git clone -q "$src" "$tmp/spherecl"
check "the clone has no ../shared beside it" '[ ! -e "$tmp/shared" ]'
start=$SECONDS
(cd "$tmp/spherecl" && bash -c "$cmd") >"$tmp/out" 2>"$tmp/err"
rc=$?
echo "the README command took $((SECONDS - start)) s"
check "it succeeds in the clone" '[ $rc -eq 0 ] || { tail -n 20 "$tmp/err"; false; }'
check "training said which data it used" 'grep -q "using Fashion-MNIST from $fm" "$tmp/err"'
check "it ends with the test accuracy, well above chance (0.1)" \
  'tail -n 1 "$tmp/out" | grep -Eq "^accuracy: 0\.([2-9][0-9]{3}) \([0-9]+/10000\)$" || { cat "$tmp/out"; false; }'
tail -n 1 "$tmp/out"
finish
