#!/usr/bin/env bash
# Builds spherecl with warnings as errors and runs the whole test suite (ctest).
#   SANITIZE=1 bash ci/test.sh    the same under -fsanitize=address,undefined (build-asan/), less the two
#                                 tests that build spherecl afresh (cli_readme, cli_install): they check
#                                 the build and the install, and run no sanitized code
#   BUILD_DIR=dir                 choose the build folder (default build/ or build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SANITIZE:-0}" = 1 ]; then
  dir=${BUILD_DIR:-build-asan}
  extra=(-DSPHERECL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  # PoCL and the ICD loader keep process-lifetime allocations; leaks are checked with valgrind.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
  skip=(-E '^(cli_readme|cli_install)$')
else
  dir=${BUILD_DIR:-build}
  extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
  skip=()
fi
cmake -S . -B "$dir" -DSPHERECL_WERROR=ON "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure --timeout 2400 -j2 "${skip[@]}"
