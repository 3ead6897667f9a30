#!/usr/bin/env bash
# clbatch against PyTorch on the same machine, in one invocation.
#
# Runs `clbatch run --device gpu` (or --device SPEC) and then
# bench/torch_baseline.py with the same plan, and prints per model, precision
# and batch size: clbatch step time / PyTorch step time, and for the
# GEMM-heavy fp32 mlp, CLBlast's GFLOP/s against clbatch's measured peak.
#
# Without an OpenCL GPU (and no --device), it compares clbatch on the CPU
# device (PoCL) with PyTorch on the CPU, and says so: then both run on the
# same cores and the ratio compares two runtimes, not two devices.
#
# Usage: bench/compare.sh [--device SPEC] [--torch-device auto|cuda|cpu]
#            [--model LIST] [--precision fp32,fp64] [--batch LIST] [--samples N]
#            [--features D] [--hidden H] [--classes C] [--outputs O]
#            [--min-time S] [--max-time S] [--warmup K] [--seed S] [--threads T]
# --torch-device defaults to cuda when clbatch ran on a GPU, cpu otherwise.
# --threads sets PyTorch's CPU threads. $PYTHON picks the interpreter (python3).
# Writes results/local/compare-<host>-<time>.csv (and the two raw CSVs beside it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
clbatch="${CLBATCH:-$root/build/clbatch}"
python="${PYTHON:-python3}"

die() {
  echo "compare.sh: $*" >&2
  exit 2
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

shared=()  # options passed to both clbatch and torch_baseline.py
device=""
torch_device=""
threads=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --model | --precision | --batch | --samples | --features | --hidden | --classes | \
      --outputs | --min-time | --max-time | --warmup | --seed | --lr)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      shared+=("$1" "$2")
      shift 2
      ;;
    --device)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      device="$2"
      shift 2
      ;;
    --torch-device)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      torch_device="$2"
      shift 2
      ;;
    --threads)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      threads="$2"
      shift 2
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

[[ -x "$clbatch" ]] || die "no clbatch at $clbatch: build it first with
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2"
command -v "$python" >/dev/null || die "no $python: apt-get install python3"
"$python" -c 'import torch' 2>/dev/null ||
  die "PyTorch is not importable by $python: pip install torch (the GPU host already has it with CUDA)"

export POCL_CACHE_DIR="${POCL_CACHE_DIR:-/tmp/pocl-cache}"
mkdir -p "$POCL_CACHE_DIR"

# Without --device: the GPU if clbatch sees one, else the CPU device, said aloud.
if [[ -z "$device" ]]; then
  gpus="$("$clbatch" devices --json 2>/dev/null | "$python" -c '
import json, sys
try:
    print(sum(1 for d in json.load(sys.stdin)["devices"] if d.get("type") == "gpu"))
except Exception:
    print(0)
')"
  if [[ "$gpus" -gt 0 ]]; then
    device=gpu
  else
    device=cpu
    echo "== No OpenCL GPU here: comparing clbatch on the CPU device (PoCL) with PyTorch on the CPU."
    echo "   Both run on the same host cores; ratios compare two runtimes, absolute times say nothing about a GPU."
  fi
fi

host="$(hostname -s 2>/dev/null || hostname)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
outdir="$root/results/local"
mkdir -p "$outdir"
base="$outdir/compare-$host-$stamp"

echo "== 1/3 clbatch run --device $device"
"$clbatch" run --device "$device" --noise-batches 0 --quiet "${shared[@]}" --out "$base.clbatch.csv"

# Which kind of device clbatch measured, read by column name.
types="$("$python" - "$base.clbatch.csv" <<'EOF'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    print(",".join(sorted({r["device_type"] for r in csv.DictReader(f)})))
EOF
)"
if [[ -z "$torch_device" ]]; then
  case "$types" in
    gpu) torch_device=cuda ;;
    cpu) torch_device=cpu ;;
    *) die "clbatch measured device types '$types'; give --torch-device cuda or cpu" ;;
  esac
fi
if [[ "$types" == gpu && "$torch_device" == cpu ]]; then
  echo "== WARNING: clbatch ran on a GPU but PyTorch runs on the CPU: the ratio compares different hardware." >&2
elif [[ "$types" == cpu && "$torch_device" != cpu ]]; then
  echo "== WARNING: clbatch ran on the CPU but PyTorch on '$torch_device': the ratio compares different hardware." >&2
fi

echo "== 2/3 bench/torch_baseline.py --device $torch_device"
torch_opts=(--device "$torch_device")
if [[ -n "$threads" ]]; then
  torch_opts+=(--threads "$threads")
fi
"$python" -W ignore "$here/torch_baseline.py" "${torch_opts[@]}" "${shared[@]}" --out "$base.torch.csv"

where="on a GPU"
if [[ "$types" == cpu ]]; then
  where="both on the same CPU (PoCL vs PyTorch's CPU backend)"
fi
echo "== 3/3 clbatch ($device) / PyTorch ($torch_device), $where"
"$python" "$here/join_results.py" --clbatch "$base.clbatch.csv" --baseline "$base.torch.csv" \
  --name PyTorch --peak --out "$base.csv"
