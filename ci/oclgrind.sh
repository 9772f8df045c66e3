#!/usr/bin/env bash
# The op and net tests on a second, strict OpenCL implementation: Oclgrind, a simulator that
# reports every out-of-bounds access, data race and invalid API use in our kernels and CLBlast's.
#   bash ci/oclgrind.sh [BUILD_DIR] [TEST...]      (default: build, the tests below)
# Each test runs under `oclgrind --check-api --data-races` with SPHERECL_TEST_SMALL=1 (the few
# large cases left out: the simulator runs work-items one by one) and CLBlast's own parameters
# (SPHERECL_TUNING=off). A test that fails, times out (OCLGRIND_LIMIT seconds, default 1800: a guard
# against hangs, not a speed check; test_net took 765 s on a quiet 2-core machine and over 900 s on
# the same machine under outside load) or
# leaves any Oclgrind message in its log fails the run; the table at the end says which.
# The tests in UNINIT also run with --uninitialized. The others cannot: three bugs of Oclgrind
# 21.10's Uninitialized plugin, each reproduced in ci/oclgrind-repro/ with no spherecl code, which
# this script builds and runs at the end to say whether they still reproduce (then the list can grow):
#   freeze.c           it stops with "Unsupported instruction: freeze" on optimised kernels that divide
#                      and take the remainder by one value (im2col_by_tap, XgemmDirect, prelu_backward);
#   reused_buffer.c    a buffer created where a smaller one was released keeps the old size: writes
#                      past it stay "uninitialized" (every test that frees and makes tensors; the
#                      prelu_sum_parts reports with -cl-opt-disable, where there is no freeze);
#   write_at_offset.c  data clEnqueueWriteBuffer wrote at a non-zero offset stays "uninitialized".
# Needs: apt-get install oclgrind (ci/install-deps.sh installs it).
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
[ $# -gt 0 ] && shift
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_tensor test_add test_sgd test_weightnorm test_softmax_xent test_prelu
                                 test_features test_margin test_linear test_conv2d test_blas test_net)
uninit=" test_tensor test_add "
limit=${OCLGRIND_LIMIT:-1800}
command -v oclgrind >/dev/null || { echo "oclgrind.sh: oclgrind is not installed (apt-get install oclgrind)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

bad=0
rows=()
for t in "${tests[@]}"; do
  [ -x "$build/tests/$t" ] || { echo "oclgrind.sh: no $build/tests/$t (build first)" >&2; exit 1; }
  start=$(date +%s)
  checks=(--check-api --data-races)
  [[ "$uninit" == *" $t "* ]] && checks+=(--uninitialized)
  SPHERECL_TEST_SMALL=1 SPHERECL_TUNING=off timeout "$limit" \
    oclgrind "${checks[@]}" --log "$out/$t.log" "$build/tests/$t" >"$out/$t.out" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  findings=0
  [ -s "$out/$t.log" ] && findings=$(wc -l <"$out/$t.log")
  if [ $rc -eq 124 ]; then result="timed out after ${limit} s"
  elif [ $rc -ne 0 ]; then result="FAILED (exit $rc)"
  elif [ "$findings" -gt 0 ]; then result="FAILED: Oclgrind reported"
  else result="ok"
  fi
  rows+=("$(printf '%-20s %-28s %5d s' "$t" "$result" "$secs")")
  echo "${rows[-1]}"
  if [ "$result" != ok ]; then
    bad=1
    tail -n 20 "$out/$t.out"
    [ -s "$out/$t.log" ] && head -n 40 "$out/$t.log"
  fi
done
echo
echo "Oclgrind (--check-api --data-races; --uninitialized too for$uninit), SPHERECL_TEST_SMALL=1:"
printf '%s\n' "${rows[@]}"

# The Oclgrind bugs that keep --uninitialized off the other tests: do they still reproduce?
echo
echo "Oclgrind's own bugs (ci/oclgrind-repro/), which keep --uninitialized off the other tests:"
repro() { # name, a command that succeeds while the bug is there
  if ! cc -Wall -o "$out/$1" "ci/oclgrind-repro/$1.c" -lOpenCL 2>"$out/$1.cc"; then
    echo "  $1: could not build ($(head -n 1 "$out/$1.cc"))"
  elif eval "$2"; then
    echo "  $1: still reproduces"
  else
    echo "  $1: NO LONGER REPRODUCES with this Oclgrind: try --uninitialized on more tests"
  fi
}
repro freeze 'oclgrind --uninitialized "$out/freeze" 2>&1 | grep -q "Unsupported instruction: freeze"'
repro reused_buffer 'oclgrind --uninitialized "$out/reused_buffer" 2>&1 | grep -q "Uninitialized value"'
repro write_at_offset 'oclgrind --uninitialized "$out/write_at_offset" 3 2>&1 | grep -q "Uninitialized value"'
exit $bad
