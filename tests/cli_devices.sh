#!/usr/bin/env bash
# `spherecl devices` / `selftest` ($1 is the spherecl binary): the listing with its default mark, a
# selector that matches nothing, and a machine with no OpenCL platform at all (the ICD loader pointed
# at an empty vendor folder): a clear message and exit 1, never a crash.
set -u
app=$1
. "$(dirname "$0")/testkit/cli.sh"
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT

"$app" devices >"$empty/out" 2>&1; rc=$?
check "devices lists the devices and marks the default" '[ $rc -eq 0 ] && grep -q "^\* \[0\]" "$empty/out" && grep -q "^\* default device" "$empty/out"'
"$app" devices --device no-such-device-xyz >"$empty/out" 2>&1; rc=$?
check "an unmatched selector fails and lists the devices" '[ $rc -eq 1 ] && grep -q "no-such-device-xyz" "$empty/out" && grep -q "\[0\]" "$empty/out"'
"$app" devices --bogus >/dev/null 2>&1; check "an unknown option exits 2" '[ $? -eq 2 ]'
OCL_ICD_VENDORS=$empty "$app" devices >"$empty/out" 2>&1; rc=$?
check "no OpenCL platform: exit 1 and how to get one" '[ $rc -eq 1 ] && grep -q "pocl-opencl-icd" "$empty/out"'
OCL_ICD_VENDORS=$empty "$app" selftest >"$empty/out" 2>&1; rc=$?
check "selftest without a platform fails cleanly" '[ $rc -eq 1 ] && grep -q "SCL_ERR_NO_DEVICE\|no OpenCL device" "$empty/out"'
"$app" selftest --size 64 >"$empty/out" 2>&1; rc=$?
check "selftest passes on the default device" '[ $rc -eq 0 ] && grep -q "(ok)" "$empty/out"'
"$app" nonsense >/dev/null 2>&1; check "an unknown command exits 2" '[ $? -eq 2 ]'
finish
