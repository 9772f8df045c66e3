# Shared by the command-line tests (tests/cli_*.sh): source it, call `check NAME 'CONDITION'` for each
# expectation, and end with `finish`, which prints "N passed, N failed" and sets the exit status.
pass=0 fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
