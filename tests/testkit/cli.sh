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
# Three "people", 6 images each, 12x10 grey PGM, under DIR/p1..p3: a bright block whose position
# depends on the person, plus a little deterministic noise (a folder `spherecl train` learns in seconds).
make_faces() {
  local dir=$1 p i x y v
  for p in 1 2 3; do
    mkdir -p "$dir/p$p"
    for i in 1 2 3 4 5 6; do
      {
        printf 'P5\n10 12\n255\n'
        for y in $(seq 0 11); do
          for x in $(seq 0 9); do
            v=$(( (x / 4 == p - 1) ? 200 : 40 ))
            v=$(( v + (x * 7 + y * 13 + i * 29) % 23 ))
            printf "\\$(printf '%03o' "$v")"
          done
        done
      } > "$dir/p$p/$i.pgm"
    done
  done
}
