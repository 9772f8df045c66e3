#!/usr/bin/env bash
# Installs everything spherecl needs to build, test and run on Debian/Ubuntu: compilers, CMake,
# the OpenCL loader and headers, PoCL (OpenCL on the CPU), CLBlast, zlib, libpng, libjpeg, gnuplot,
# Oclgrind (the second OpenCL implementation ci/oclgrind.sh tests on), and Fashion-MNIST
# (dataset-fashion-mnist), the data `spherecl train` uses when given no --data.
# With --ci also what only CI needs: python3-torch, numpy, protobuf and PIL for tests/cli_parity.sh
# (import/export against PyTorch itself; ~1 GB, so not for every user: the test is skipped without
# them), clang for the fuzzers (ci/fuzz.sh), valgrind (ci/valgrind.sh) and Open MPI (the data-parallel
# `mpirun spherecl train` and its test; spherecl builds without it).
# Idempotent: when every package is present it only checks, in well under a second.
set -euo pipefail
packages=(build-essential cmake pkg-config ocl-icd-opencl-dev opencl-headers ocl-icd-libopencl1
          pocl-opencl-icd libclblast-dev clinfo zlib1g-dev libpng-dev libjpeg-dev gnuplot-nox oclgrind
          dataset-fashion-mnist)
[ "${1:-}" = --ci ] && packages+=(python3-torch python3-numpy python3-protobuf python3-pil clang valgrind libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
