#!/usr/bin/env bash
# ci/valgrind.sh [BUILD] — valgrind memcheck over the tests of the host-side parsers and containers
# (model files, importers, pairs, alignment, messages): any invalid access or definite leak in
# spherecl's code fails the run; PoCL's, LLVM's, CLBlast's and the loader's own allocations are
# suppressed (ci/valgrind.supp). The device-heavy tests are left to ASan (SANITIZE=1 ci/test.sh):
# under valgrind PoCL's kernels run 50x slower. BUILD defaults to build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
command -v valgrind > /dev/null || { echo "ci/valgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
failed=0
for t in test_status test_modelfile test_import test_pairs test_align; do
  log=$build/valgrind_$t.log
  start=$(date +%s)
  if valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
       --suppressions="$root/ci/valgrind.supp" "$build/tests/$t" > "$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=1
  fi
  printf 'valgrind %-16s %-6s %4d s  %s\n' "$t" "$status" $(( $(date +%s) - start )) \
    "$(grep -o 'definitely lost: [0-9,]* bytes' "$log" | tail -n 1)"
  [ $status = ok ] || grep -B 2 -A 20 -m 3 -E "Invalid|uninitialised|definitely lost in" "$log" >&2 || true
done
exit $failed
