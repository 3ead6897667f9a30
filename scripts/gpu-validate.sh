#!/usr/bin/env bash
# Issue 7's validation on a host with an NVIDIA GPU and PoCL, in one go:
# the test suite, a full default `clbatch run` on every device, the PyTorch
# comparison, and the report. Meant for a machine without CLBlast or a
# package registry: clbatch is built elsewhere (same x86-64) and its runtime
# libraries travel as .deb files in .debs/ (see DEVELOPERS.md).
#
#   scripts/gpu-validate.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/gpu-validate.sh OUTDIR}
mkdir -p "$out"

if [ -d .debs ] && ! ldconfig -p | grep -q libclblast; then
  mkdir -p /tmp/clbatch-libs /tmp/clbatch-icd
  for deb in .debs/*.deb; do dpkg -x "$deb" /tmp/clbatch-libs; done
  export LD_LIBRARY_PATH=/tmp/clbatch-libs/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
  cp /etc/OpenCL/vendors/*.icd /tmp/clbatch-icd/ 2>/dev/null || true
  for lib in /usr/lib/libnvidia-opencl.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1; do
    [ -e "$lib" ] && echo "$lib" > /tmp/clbatch-icd/nvidia.icd && break
  done
  export OCL_ICD_VENDORS=/tmp/clbatch-icd
fi
export POCL_CACHE_DIR=${POCL_CACHE_DIR:-/tmp/clbatch-pocl-cache}

./build/clbatch devices | tee "$out/devices.txt"
./build/clbatch peak | tee "$out/peak.txt"
# The tests are written for PoCL's CPU device; they must also pass with a GPU present.
(ctest --test-dir build --output-on-failure 2>&1 || true) | tee "$out/ctest.txt" | tail -5
./build/clbatch run --out "$out/default.csv" --format json 2>&1 | tee "$out/run.txt" | tail -40 || true
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  bench/compare.sh 2>&1 | tee "$out/compare.txt" | tail -40 || true
  cp results/local/compare-* "$out/" 2>/dev/null || true
fi
./build/clbatch report "$out/default.csv" --out "$out/report" >/dev/null 2>&1 || true
echo "gpu-validate: results in $out"
