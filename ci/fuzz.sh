#!/usr/bin/env bash
# ci/fuzz.sh SECONDS [FUZZER...] — builds the libFuzzer harnesses of fuzz/ with clang (build-fuzz/,
# ASan + UBSan) and runs each for SECONDS (default 10; all of them unless named: caffe torch
# modelfile image idx text tuning cli), starting from the committed seeds in fuzz/seeds/ plus what
# earlier runs found (build-fuzz/corpus/). Any crash, sanitizer report, leak or timeout fails the
# run; the input that caused it is left in build-fuzz/artifacts/. Prints one line per fuzzer:
# executions, coverage (edges), features, corpus size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
shift || true
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] || fuzzers=(caffe torch modelfile image idx text tuning cli)
build=$root/build-fuzz
command -v clang > /dev/null || { echo "ci/fuzz.sh: needs clang (apt-get install clang)" >&2; exit 1; }
CC=clang cmake -S "$root" -B "$build" -DSPHERECL_FUZZ=ON -DSPHERECL_BUILD_TESTS=OFF -DSPHERECL_BUILD_APPS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build.configure.log" 2>&1 || { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" > "$build.build.log" 2>&1 || { tail -n 30 "$build.build.log" >&2; exit 1; }
mkdir -p "$build/artifacts"
failed=0
for f in "${fuzzers[@]}"; do
  [ -d "$root/fuzz/seeds/$f" ] || { echo "ci/fuzz.sh: no seeds in fuzz/seeds/$f" >&2; failed=1; continue; }
  corpus=$build/corpus/$f
  mkdir -p "$corpus"
  # PoCL keeps allocations to the end of the process: the tuning fuzzer, which needs a context,
  # cannot check leaks (the parsers' own fuzzers do).
  leaks=1
  [ "$f" = tuning ] && leaks=0
  log=$build/fuzz_$f.log
  if ASAN_OPTIONS=detect_leaks=$leaks "$build/fuzz/fuzz_$f" "$corpus" "$root/fuzz/seeds/$f" \
       -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -detect_leaks=$leaks \
       -artifact_prefix="$build/artifacts/$f-" -print_final_stats=1 > "$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  printf 'fuzz_%-10s %-6s %12s executions  cov %6s  ft %6s  corpus %5s files\n' "$f" "$status" "${runs:-?}" \
    "${cov:-?}" "${ft:-?}" "$(ls "$corpus" | wc -l)"
  [ $status = ok ] || grep -A 30 -m 1 -E "ERROR|==[0-9]+==|runtime error|deadly signal|Timeout|No such file" "$log" >&2 || true
done
exit $failed
