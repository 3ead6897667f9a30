#!/usr/bin/env bash
# Run-to-run agreement: the same `clbatch run` plan, several times back to
# back, and how far the runs agree.
#
# Runs `clbatch run` RUNS times (default 2) with the given options (none: the
# default plan on every device), timing each whole run, then prints per
# device, model, precision and batch size: each run's median step time, the
# ratio of the largest to the smallest, whether each run's 95 % interval
# covers the other runs' medians, and which runs flagged the row unstable;
# then the summary the acceptance bar of issue 15 is stated in: rows within
# +-5 % and +-10 %, interval coverage, unstable rows, each run's wall time,
# and per run its intervals' median half width, host_spread and range of
# host_slowdown. The CSVs, times.txt and agree.csv stay in
# results/local/agree-<host>-<time>/.
#
# Usage: bench/agree.sh [--runs R] [--clbatch PATH] [-- CLBATCH_RUN_OPTIONS...]
#   --clbatch PATH  the binary to run (default build/clbatch); an older one
#                   (schema 1, no intervals) is compared on medians only
# Example:
#   bench/agree.sh -- --device pocl
#   bench/agree.sh --runs 3 -- --device pocl --no-interleave
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
python="${PYTHON:-python3}"
clbatch="$root/build/clbatch"
runs=2

die() {
  echo "agree.sh: $*" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    --runs)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ && "$2" -ge 2 ]] || die "--runs needs a whole number >= 2"
      runs="$2"
      shift 2
      ;;
    --clbatch)
      [[ $# -ge 2 && -x "$2" ]] || die "--clbatch needs an executable"
      clbatch="$2"
      shift 2
      ;;
    --)
      shift
      break
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
run_options=("$@")
for option in "${run_options[@]}"; do
  case "$option" in
    --out | --resume | --config | --repeat) die "$option is set by agree.sh" ;;
  esac
done
[[ -x "$clbatch" ]] || die "no $clbatch: build first (cmake --build build)"

export POCL_CACHE_DIR="${POCL_CACHE_DIR:-/tmp/pocl-cache}"
mkdir -p "$POCL_CACHE_DIR"
host="$(hostname -s 2>/dev/null || hostname)"
outdir="$root/results/local/agree-$host-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$outdir"

for ((run = 1; run <= runs; run++)); do
  echo "== run $run of $runs: $clbatch run ${run_options[*]}" >&2
  start=$(date +%s.%N)
  "$clbatch" run --quiet "${run_options[@]}" --out "$outdir/run-$run.csv" >/dev/null ||
    echo "agree.sh: run $run ended with an error; comparing what it wrote" >&2
  end=$(date +%s.%N)
  awk -v run="$run" -v a="$start" -v b="$end" 'BEGIN { printf "%d %.1f\n", run, b - a }' >>"$outdir/times.txt"
done

files=()
for ((run = 1; run <= runs; run++)); do files+=("$outdir/run-$run.csv"); done
"$python" "$here/agree_table.py" --times "$outdir/times.txt" --out "$outdir/agree.csv" "${files[@]}"
echo "(files in $outdir)"
