#!/usr/bin/env bash
# What one `clbatch run` costs beyond its steps: two binaries side by side.
#
# Times the whole of a one-row run (worker start, roofline, programs built
# from PoCL's warm cache, a few milliseconds of steps) with each binary,
# ROUNDS times in the order A B B A A B ..., and prints each run's wall time,
# then per side the median and range, and the ratio of the medians (below 1:
# NEW costs less). The first run of each side is left out: it may compile.
#
# Usage: bench/overhead.sh [--rounds R] BASE_BINARY NEW_BINARY [-- RUN_OPTIONS...]
#   RUN_OPTIONS default to: --device pocl --model linreg --batch 8
# Example:
#   bench/overhead.sh --rounds 8 /tmp/base/build/clbatch build/clbatch
set -euo pipefail

rounds=8
if [[ "${1:-}" == "--rounds" ]]; then
  rounds="$2"
  shift 2
fi
if [[ $# -lt 2 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
fi
base="$(realpath "$1")"
new="$(realpath "$2")"
shift 2
[[ "${1:-}" == "--" ]] && shift
options=("$@")
[[ ${#options[@]} -gt 0 ]] || options=(--device pocl --model linreg --batch 8)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# One run; prints its wall seconds.
run_once() {
  rm -f out.csv
  local start end
  start=$(date +%s.%N)
  "$1" run "${options[@]}" --passes 1 --min-time 0.01 --max-time 0.05 --speed-history none \
    --out out.csv --format csv >/dev/null 2>"$work/stderr" ||
    {
      cat "$work/stderr" >&2
      exit 1
    }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

run_once "$base" >/dev/null
run_once "$new" >/dev/null
: >times.txt
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(base new); else order=(new base); fi
  for side in "${order[@]}"; do
    binary="$base"
    [[ "$side" == new ]] && binary="$new"
    seconds="$(run_once "$binary")"
    echo "round $r $side $seconds s"
    echo "$side $seconds" >>times.txt
  done
done
python3 - times.txt <<'EOF'
import statistics, sys
times = {"base": [], "new": []}
for line in open(sys.argv[1]):
    side, seconds = line.split()
    times[side].append(float(seconds))
for side, values in times.items():
    print(f"{side}: median {statistics.median(values):.3f} s, range "
          f"{min(values):.3f}-{max(values):.3f} s over {len(values)} runs")
print(f"new / base: {statistics.median(times['new']) / statistics.median(times['base']):.3f}")
EOF
