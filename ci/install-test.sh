#!/usr/bin/env bash
# Installs spherecl and checks that applications can use the installed copy, twice:
#  1. `cmake --install` into a temporary prefix;
#  2. the Debian package (`cpack -G DEB` of a build for /usr), installed with dpkg, used from /usr,
#     then removed again (skipped, saying so, when not root or without dpkg).
# Each time: `spherecl --version` and `spherecl devices`, apps/example/embed_compare.c built with
# pkg-config and with CMake's find_package(spherecl), a tiny model trained by the installed `spherecl`
# on a synthetic PGM folder, and the example run on two of its images. The source tree is not written.
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

# The example against the installation at prefix (libdir: where libspherecl.so is), built both ways.
build_examples() { # tag prefix libdir
  local tag=$1 prefix=$2 libdir=$3 flags
  step "$tag: build the example with pkg-config"
  flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} pkg-config --cflags --libs spherecl) ||
    die "pkg-config --cflags --libs spherecl"
  # shellcheck disable=SC2086 # the flags are words
  cc -std=c99 -Wall -Wextra -Werror "$src/apps/example/embed_compare.c" $flags -o "$work/$tag-embed_compare_pc" ||
    die "compiling the example with: $flags"
  step "$tag: build the example with find_package(spherecl)"
  cmake -S "$src/apps/example/cmake" -B "$work/$tag-example" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$work/example.log" 2>&1 || { cat "$work/example.log"; die "configuring apps/example/cmake"; }
  cmake --build "$work/$tag-example" >>"$work/example.log" 2>&1 || { cat "$work/example.log"; die "building apps/example/cmake"; }
}

# Three "people", three 12x10 grey PGM images each: a bright block placed by the person, plus noise.
make_faces() {
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
}

# The installed command: its version, the devices, a tiny model; then both examples on two images.
use_installed() { # tag bindir libdir
  local tag=$1 bin=$2/spherecl libdir=$3 out libs exe
  step "$tag: spherecl --version, spherecl devices, train a tiny model"
  out=$("$bin" --version) || die "$bin --version"
  [[ $out == "spherecl $version"* ]] || die "$bin --version printed: $out"
  "$bin" devices >"$work/devices.log" 2>&1 || { cat "$work/devices.log"; die "$bin devices"; }
  "$bin" train --data "$work/faces" --net sphereface-4 --widths 4,8,8,8 --embed-dim 8 --batch 6 \
    --iters 10 --out "$work/$tag-model.scl" >"$work/train.log" 2>&1 || { cat "$work/train.log"; die "training"; }
  step "$tag: run the examples on two images"
  for exe in "$work/$tag-embed_compare_pc" "$work/$tag-example/embed_compare"; do
    libs=$(LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ldd "$exe") # not piped into grep -q (pipefail)
    [[ $libs == *"$libdir/libspherecl.so"* ]] || die "$exe does not use the installed libspherecl: $libs"
    out=$(LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$exe" "$work/$tag-model.scl" \
      "$work/faces/p1/1.pgm" "$work/faces/p2/2.pgm") || die "$exe failed: $out"
    grep -Eq '^similarity: -?[01]\.[0-9]{4}$' <<<"$out" || die "$exe printed: $out"
    echo "  $(basename "$exe"): $out"
  done
  if LD_LIBRARY_PATH=$libdir "$work/$tag-embed_compare_pc" "$work/$tag-model.scl" "$work/faces/p1/1.pgm" \
    "$work/nothing.pgm" 2>"$work/err"; then die "a missing image did not fail"; fi
  grep -q "nothing.pgm" "$work/err" || die "a missing image's message: $(cat "$work/err")"
}

version=$(sed -n 's/^project(spherecl VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
make_faces
build_examples prefix "$prefix" "$libdir"
use_installed prefix "$prefix/bin" "$libdir"

# ---- the Debian package ------------------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null || ! command -v cpack >/dev/null; then
  step "deb: skipped (needs root, dpkg and cpack)"
  step "install test passed"
  exit 0
fi
if dpkg-query -W -f='${Status}' spherecl 2>/dev/null | grep -q "install ok installed"; then
  step "deb: skipped (a spherecl package is already installed; not replacing it)"
  step "install test passed"
  exit 0
fi
step "deb: configure for /usr, build, cpack -G DEB"
cmake -S "$src" -B "$work/deb" -DCMAKE_BUILD_TYPE=Release -DSPHERECL_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr \
  >"$work/deb.log" 2>&1 || { cat "$work/deb.log"; die "configure for the package"; }
cmake --build "$work/deb" -j"$(nproc)" >>"$work/deb.log" 2>&1 || { tail -n 40 "$work/deb.log"; die "build for the package"; }
(cd "$work/deb" && cpack -G DEB >>"$work/deb.log" 2>&1) || { tail -n 40 "$work/deb.log"; die "cpack -G DEB"; }
deb=$(ls "$work"/deb/spherecl_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for d in libclblast1 libpng16-16 libjpeg zlib1g ocl-icd-libopencl1; do
  [[ $depends == *"$d"* ]] || die "the package does not depend on $d: $depends"
done
[[ $(dpkg-deb -f "$deb" Recommends) == *pocl-opencl-icd* ]] || die "the package does not recommend pocl-opencl-icd"
step "deb: dpkg -i $(basename "$deb")"
trap 'dpkg -r spherecl >/dev/null 2>&1; rm -rf "$work"' EXIT
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg -i"; }
multiarch=$(dirname "$(dpkg -L spherecl | grep '/libspherecl\.so$')")
[ -f /usr/share/man/man1/spherecl.1 ] || die "no man page installed"
build_examples deb /usr "$multiarch"
use_installed deb /usr/bin "$multiarch"
step "deb: dpkg -r spherecl"
dpkg -r spherecl >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg -r"; }
[ ! -e /usr/bin/spherecl ] && [ ! -e "$multiarch/libspherecl.so" ] || die "dpkg -r left files behind"
trap 'rm -rf "$work"' EXIT
step "install test passed"
