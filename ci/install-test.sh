#!/usr/bin/env bash
# Installs spherecl into a temporary prefix and checks that applications can use the installed copy:
# apps/example/embed_compare.c built with pkg-config and with CMake's find_package(spherecl), a
# tiny model trained by the installed `spherecl` on a synthetic PGM folder, and the example run on
# two of its images. Everything happens in a temporary folder (the source tree is not written).
#   bash ci/install-test.sh [SOURCE_DIR]     (default: the repository holding this script)
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
t0=$SECONDS
step() { printf '[%3ds] %s\n' $((SECONDS - t0)) "$*"; }
die() {
  echo "install-test: FAIL: $*" >&2
  exit 1
}

step "configure and build $src (no tests)"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DSPHERECL_BUILD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX="$prefix" >"$work/configure.log" || { cat "$work/configure.log"; die "configure"; }
cmake --build "$work/build" -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; die "build"; }
step "install into $prefix"
cmake --install "$work/build" >/dev/null || die "cmake --install"
pc=$(find "$prefix" -name spherecl.pc)
[ -n "$pc" ] || die "no spherecl.pc installed"
libdir=$(dirname "$(dirname "$pc")")
[ -x "$prefix/bin/spherecl" ] && [ -f "$prefix/include/spherecl.h" ] || die "spherecl or spherecl.h not installed"

step "build the example with pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
flags=$(pkg-config --cflags --libs spherecl) || die "pkg-config --cflags --libs spherecl"
# shellcheck disable=SC2086 # the flags are words
cc -std=c99 -Wall -Wextra -Werror "$src/apps/example/embed_compare.c" $flags -o "$work/embed_compare_pc" ||
  die "compiling the example with: $flags"

step "build the example with find_package(spherecl)"
cmake -S "$src/apps/example/cmake" -B "$work/example" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/example.log" 2>&1 || { cat "$work/example.log"; die "configuring apps/example/cmake"; }
cmake --build "$work/example" >>"$work/example.log" 2>&1 || { cat "$work/example.log"; die "building apps/example/cmake"; }

step "train a tiny model with the installed spherecl"
# Three "people", three 12x10 grey PGM images each: a bright block placed by the person, plus noise.
for p in 1 2 3; do
  mkdir -p "$work/faces/p$p"
  for i in 1 2 3; do
    bytes=''
    for y in $(seq 0 11); do
      for x in $(seq 0 9); do
        v=$(( (x / 4 == p - 1 ? 200 : 40) + (x * 7 + y * 13 + i * 29) % 23 ))
        printf -v oct '\\%03o' "$v"
        bytes+=$oct
      done
    done
    { printf 'P5\n10 12\n255\n'; printf "$bytes"; } >"$work/faces/p$p/$i.pgm"
  done
done
"$prefix/bin/spherecl" train --data "$work/faces" --net sphereface-4 --widths 4,8,8,8 --embed-dim 8 --batch 6 \
  --iters 10 --out "$work/model.scl" >"$work/train.log" 2>&1 || { cat "$work/train.log"; die "training"; }

step "run the examples on two images"
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
for exe in "$work/embed_compare_pc" "$work/example/embed_compare"; do
  libs=$(ldd "$exe") # not piped into grep -q: its early exit would fail the pipe (pipefail)
  [[ $libs == *"$libdir/libspherecl.so"* ]] || die "$exe does not use the installed libspherecl: $libs"
  out=$("$exe" "$work/model.scl" "$work/faces/p1/1.pgm" "$work/faces/p2/2.pgm") || die "$exe failed: $out"
  grep -Eq '^similarity: -?[01]\.[0-9]{4}$' <<<"$out" || die "$exe printed: $out"
  echo "  $(basename "$(dirname "$exe")")/$(basename "$exe"): $out"
done
"$work/embed_compare_pc" "$work/model.scl" "$work/faces/p1/1.pgm" "$work/nothing.pgm" 2>"$work/err" &&
  die "a missing image did not fail"
grep -q "nothing.pgm" "$work/err" || die "a missing image's message: $(cat "$work/err")"
step "install test passed"
