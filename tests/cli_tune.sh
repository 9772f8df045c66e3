#!/usr/bin/env bash
# `spherecl tune --quick` ($1 is the spherecl binary): a candidate that crashes is reported and
# skipped and the search goes on; the winners land in the device's cache (SPHERECL_CACHE_DIR here),
# `spherecl devices` then says the device is tuned and a new run applies the cache; a stale cache is
# ignored with a warning; --out writes a SPHERECL_TUNING file instead; bad options are refused.
set -u
app=$1
. "$(dirname "$0")/testkit/cli.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SPHERECL_CACHE_DIR=$tmp/cache
unset SPHERECL_TUNING

# Candidate 2 (the first Xgemm set after CLBlast's own choice) aborts in its child: a test hook.
SPHERECL_TUNE_CRASH=2 "$app" tune --quick >"$tmp/out" 2>&1; rc=$?
check "tune finishes although a candidate crashed" '[ $rc -eq 0 ] && grep -q "^saved $tmp/cache/" "$tmp/out"'
check "the crash is reported and skipped" 'grep -q "Xgemm 1/2\].*skipped: crashed (signal 6)" "$tmp/out"'
check "the baseline and the other candidate were timed" 'grep -q "CLBlast.s own choice: [0-9.]* s" "$tmp/out" && grep -q "Xgemm 2/2\].*: [0-9.]* s" "$tmp/out"'
cache=$(ls "$tmp"/cache/*.tuning 2>/dev/null | head -1)
check "the cache file names its device" '[ -s "$cache" ] && head -2 "$cache" | grep -q "^# device: "'
check "the cache holds an Xgemm entry" 'grep -q "^Xgemm 32 " "$cache"'

"$app" devices >"$tmp/out" 2>&1
check "devices says the device is tuned" 'grep -q "tuned: $cache" "$tmp/out"'
"$app" bench gemm --reps 1 >"$tmp/out" 2>&1; rc=$?
check "a new run applies the cache" '[ $rc -eq 0 ] && grep -q "tuning: the device.s tuning cache" "$tmp/out"'

printf '# spherecl tuning 1\n# device: nobody | nothing | 0\nXgemm 32 KWG=1\n' >"$cache"
"$app" bench gemm --reps 1 >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a stale cache: a warning, and the run goes on untuned" '[ $rc -eq 0 ] && grep -q "warning: ignoring the tuning cache .*stale" "$tmp/err" && grep -q "tuning: CLBlast.s own choice" "$tmp/out"'
"$app" devices >"$tmp/out" 2>&1
check "devices says why the cache is not used" 'grep -q "not tuned: the cache is ignored" "$tmp/out"'

rm -f "$cache"
"$app" tune --quick --out "$tmp/my.tuning" >"$tmp/out" 2>&1; rc=$?
check "--out writes a tuning file and not the cache" '[ $rc -eq 0 ] && grep -q "^Xgemm 32 " "$tmp/my.tuning" && [ ! -e "$cache" ]'
SPHERECL_TUNING=$tmp/my.tuning "$app" bench gemm --reps 1 >"$tmp/out" 2>&1
check "SPHERECL_TUNING applies that file" 'grep -q "tuning: SPHERECL_TUNING=$tmp/my.tuning" "$tmp/out"'

"$app" tune --bogus >/dev/null 2>&1; check "an unknown option exits 2" '[ $? -eq 2 ]'
"$app" tune --timeout 0 >/dev/null 2>&1; check "--timeout 0 exits 2" '[ $? -eq 2 ]'
finish
