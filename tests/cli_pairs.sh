#!/usr/bin/env bash
# `spherecl pairs` ($1 is the spherecl binary): makes a pairs file from a synthetic folder of PGM
# images and checks the file (header, line counts, fields, existing images, no repeats, identity
# range), determinism by seed, the default per-fold count, and the exit codes of bad runs.
set -u
BIN=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# s1..s12, four 2x2 PGM images each (1.pgm .. 4.pgm).
for i in $(seq 1 12); do
  mkdir -p "$TMP/faces/s$i"
  for j in 1 2 3 4; do printf 'P5\n2 2\n255\n\001\002\003\004' >"$TMP/faces/s$i/$j.pgm"; done
done

# Checks a pairs file: header "FOLDS<TAB>PER", FOLDS*2*PER lines of the right shapes, images that
# exist, names within s2..s11, no pair of images twice.
check_file() { # file folds per
  local file=$1 folds=$2 per=$3
  [ "$(head -n 1 "$file")" = "$(printf '%s\t%s' "$folds" "$per")" ] || fail "$file: header $(head -n 1 "$file")"
  [ "$(wc -l <"$file")" -eq $((1 + folds * 2 * per)) ] || fail "$file: $(wc -l <"$file") lines"
  awk -v per="$per" -v root="$TMP/faces" '
    NR == 1 { next }
    {
      k = (NR - 2) % (2 * per)
      if (k < per) { if (NF != 3) { print "same line " NR ": " $0; bad = 1 }; a = $1; i = $2; b = $1; j = $3 }
      else { if (NF != 4 || $1 == $3) { print "different line " NR ": " $0; bad = 1 }; a = $1; i = $2; b = $3; j = $4 }
      key = (a " " i < b " " j) ? a " " i " " b " " j : b " " j " " a " " i
      if (key in seen) { print "repeated pair line " NR ": " $0; bad = 1 }
      seen[key] = 1
      for (s = 0; s < 2; s++) {
        n = s ? b : a; x = s ? j : i
        id = substr(n, 2) + 0
        if (id < 2 || id > 11) { print "identity " n " outside 2..11"; bad = 1 }
        if ((getline dummy < (root "/" n "/" x ".pgm")) < 0) { print "no image " n "/" x ".pgm"; bad = 1 }
        close(root "/" n "/" x ".pgm")
      }
    }
    END { exit bad }' "$file" || fail "$file: bad lines (above)"
}

# A normal run: 10 identities, 2 folds, 6 pairs of each kind per fold.
out=$("$BIN" pairs --root "$TMP/faces" --out "$TMP/a.txt" --ids 2..11 --folds 2 --per-fold 6 --seed 7)
rc=$?
[ $rc -eq 0 ] || fail "normal run exited $rc"
case "$out" in *"wrote $TMP/a.txt"*) ;; *) fail "summary: $out" ;; esac
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "the summary is not one line: $out"
check_file "$TMP/a.txt" 2 6

# The same seed gives the same file, another seed another file.
"$BIN" pairs --root "$TMP/faces" --out "$TMP/b.txt" --ids 2..11 --folds 2 --per-fold 6 --seed 7 >/dev/null ||
  fail "rerun"
cmp -s "$TMP/a.txt" "$TMP/b.txt" || fail "same seed, different files"
"$BIN" pairs --root "$TMP/faces" --out "$TMP/c.txt" --ids 2..11 --folds 2 --per-fold 6 --seed 8 >/dev/null ||
  fail "seed 8"
cmp -s "$TMP/a.txt" "$TMP/c.txt" && fail "seeds 7 and 8 gave the same file"

# Default per-fold: LFW's 300 is more than 10 identities x C(4,2) = 60 same pairs allow over 10
# folds, so it becomes the most there is: 6.
"$BIN" pairs --root "$TMP/faces" --out "$TMP/d.txt" --ids 2..11 >/dev/null || fail "default per-fold run"
check_file "$TMP/d.txt" 10 6

# Bad usage: exit 2 with the usage text on stderr.
expect_exit() { # code description args...
  local want=$1 what=$2
  shift 2
  "$BIN" pairs "$@" >"$TMP/stdout" 2>"$TMP/stderr"
  local got=$?
  [ $got -eq "$want" ] || fail "$what: exit $got, want $want ($(cat "$TMP/stderr"))"
  [ "$want" -eq 0 ] || [ -s "$TMP/stderr" ] || fail "$what: no message on stderr"
  if [ "$want" -eq 2 ]; then grep -q "usage: spherecl pairs" "$TMP/stderr" || fail "$what: no usage text"; fi
}
expect_exit 2 "no options"
expect_exit 2 "no --out" --root "$TMP/faces"
expect_exit 2 "no --root" --out "$TMP/e.txt"
expect_exit 2 "unknown option" --root "$TMP/faces" --out "$TMP/e.txt" --frobnicate 3
expect_exit 2 "missing value" --root "$TMP/faces" --out
expect_exit 2 "folds 0" --root "$TMP/faces" --out "$TMP/e.txt" --folds 0
expect_exit 2 "folds 33" --root "$TMP/faces" --out "$TMP/e.txt" --folds 33
expect_exit 2 "per-fold x" --root "$TMP/faces" --out "$TMP/e.txt" --per-fold x
expect_exit 2 "ids 3" --root "$TMP/faces" --out "$TMP/e.txt" --ids 3
expect_exit 2 "ids a..b" --root "$TMP/faces" --out "$TMP/e.txt" --ids a..b
expect_exit 2 "seed -1" --root "$TMP/faces" --out "$TMP/e.txt" --seed -1
expect_exit 0 "help" --help
grep -q "usage: spherecl pairs" "$TMP/stdout" || fail "--help prints no usage"

# Failures: exit 1 with the library's message.
expect_exit 1 "too many pairs" --root "$TMP/faces" --out "$TMP/e.txt" --ids 2..11 --folds 2 --per-fold 31
grep -q "at most 30" "$TMP/stderr" || fail "too many pairs: message $(cat "$TMP/stderr")"
expect_exit 1 "ids beyond the folder" --root "$TMP/faces" --out "$TMP/e.txt" --ids 5..13
expect_exit 1 "ids reversed" --root "$TMP/faces" --out "$TMP/e.txt" --ids 6..5
expect_exit 1 "no such root" --root "$TMP/nothing" --out "$TMP/e.txt" --per-fold 1
expect_exit 1 "no such root, default per-fold" --root "$TMP/nothing" --out "$TMP/e.txt"
expect_exit 1 "unwritable output" --root "$TMP/faces" --out "$TMP/no/such/dir/e.txt" --per-fold 1
[ -e "$TMP/e.txt" ] && fail "a failed run wrote $TMP/e.txt"

# Nothing but the files written above (no temporary files left behind).
extra=$(ls "$TMP" | grep -v -x -e faces -e a.txt -e b.txt -e c.txt -e d.txt -e stdout -e stderr)
[ -z "$extra" ] || fail "unexpected files: $extra"

if [ $failures -ne 0 ]; then
  echo "$failures failed"
  exit 1
fi
echo "cli_pairs: all passed"
