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
# The width x height of a PNG file, from its IHDR chunk ("96x112").
png_size() { od -An -j16 -N8 -tu1 "$1" | awk '{ print $1*16777216 + $2*65536 + $3*256 + $4 "x" $5*16777216 + $6*65536 + $7*256 + $8 }'; }
# Whether a file starts with the PNG signature.
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]; }
