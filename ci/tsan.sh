#!/usr/bin/env bash
# ci/tsan.sh — the thread test (two trainings on two contexts at once, per-thread messages) under
# ThreadSanitizer: builds build-tsan/ with -fsanitize=thread and fails on any report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-tsan
cmake -S "$root" -B "$build" -DSPHERECL_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPHERECL_BUILD_APPS=OFF \
  > "$build.configure.log" 2>&1 || { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" --target test_threads > "$build.build.log" 2>&1 ||
  { tail -n 30 "$build.build.log" >&2; exit 1; }
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" "$build/tests/test_threads"
