#!/usr/bin/env bash
# spherecl against its peers on this machine, in one run (bench/README.md, "Peers"):
#   - a SphereFace-20 training step (batch 16, 3x112x96, 10572 classes): `spherecl bench train`
#     against PyTorch's CPU build (Debian python3-torch) with the same number of threads;
#   - the 1024^3 SGEMM: `spherecl bench gemm` (the GEMM kernel the device's tuning chose: CLBlast
#     or spherecl's own) against OpenBLAS.
# Usage: bench/compare.sh [BUILD_DIR] [THREADS]   (defaults: build, 2)
# Needs: apt-get install python3-torch libopenblas-dev. Run `spherecl tune` first for tuned figures;
# SPHERECL_DEVICE picks the device (default: the first GPU, else ...).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${2:-2}
spherecl=$build/spherecl
[ -x "$spherecl" ] || { echo "compare.sh: no $spherecl (cmake -S . -B $build && cmake --build $build)" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "compare.sh: needs python3-torch (apt-get install python3-torch)" >&2; exit 1; }
[ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] || [ -e /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ] ||
  { echo "compare.sh: needs libopenblas-dev" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 $(pkg-config --cflags openblas 2>/dev/null || true) bench/openblas_sgemm.c -o "$tmp/openblas_sgemm" \
  $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)

echo "== $(date -u +%FT%TZ) on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$spherecl" bench train --reps 5 | tee "$tmp/ours"
OMP_NUM_THREADS=$threads /usr/bin/python3 bench/pytorch_sphereface20.py --threads "$threads" --batch 16 --iters 10 | tee "$tmp/peer"
"$spherecl" bench gemm --reps 9 | tee "$tmp/gemm"
OPENBLAS_NUM_THREADS=$threads "$tmp/openblas_sgemm" | tee "$tmp/blas"

ours=$(sed -n 's/^spherecl: \([0-9.]*\) images\/s.*/\1/p' "$tmp/ours")
peer=$(sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p' "$tmp/peer")
gemm=$(sed -n 's/^1024^3 SGEMM: \([0-9.]*\) GFLOP\/s/\1/p' "$tmp/gemm")
blas=$(sed -n 's/^openblas: 1024^3 SGEMM: \([0-9.]*\) GFLOP\/s/\1/p' "$tmp/blas")
echo
awk -v o="$ours" -v p="$peer" -v g="$gemm" -v b="$blas" 'BEGIN {
  printf "training step: spherecl %.2f / pytorch %.2f images/s = %.2fx\n", o, p, o / p
  printf "1024^3 SGEMM:  spherecl %.1f / openblas %.1f GFLOP/s = %.2fx\n", g, b, g / b }'
