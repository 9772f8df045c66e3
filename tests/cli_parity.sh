#!/usr/bin/env bash
# `spherecl import` / `export` against real PyTorch ($1 is the spherecl binary): tests/parity_pytorch.py
# builds SphereFace-20 in PyTorch with random weights, saves it as a legacy .pth and as Caffe
# .caffemodels (current and V1 formats), imports them, compares `spherecl embed` with PyTorch's
# embeddings (float64 reference, relative error <= 1e-4) and checks `spherecl export`'s .pth.
# Needs a python3 with torch and numpy ($PYTHON, python3 or /usr/bin/python3); else it skips (77).
# google.protobuf is optional (without it only the Caffe part is skipped). KEEP=1 keeps the files.
set -u
app=$1
here=$(cd "$(dirname "$0")" && pwd)
py=
for cand in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$cand" -c 'import torch, numpy' >/dev/null 2>&1; then py=$cand; break; fi
done
if [ -z "$py" ]; then
  echo "cli_parity: SKIP: no python3 with torch and numpy (apt-get install python3-torch)"
  exit 77
fi
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
echo "cli_parity: $py, torch $("$py" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
# Real faces when LFW is there: four of its photos aligned to the reference's 96x112 crops.
images=()
lfw=${SPHERECL_SHARED_DATA:-$here/../../shared/data}/lfw
if [ -f "$lfw/lfw_landmark.txt" ]; then
  head -n 4 "$lfw/lfw_landmark.txt" > "$tmp/landmarks.txt"
  "$app" align --root "$lfw" --landmarks "$tmp/landmarks.txt" --out "$tmp/aligned" --quiet || exit 1
  mapfile -t found < <(find "$tmp/aligned" -name '*.png' | sort)
  images=(--images "${found[@]}")
  echo "cli_parity: ${#found[@]} aligned LFW faces"
else
  echo "cli_parity: no LFW ($lfw): synthetic images"
fi
"$py" "$here/parity_pytorch.py" "$app" --work "$tmp" "${images[@]}"
