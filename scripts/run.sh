#!/usr/bin/env bash
# The README's first command: set up, build, benchmark every OpenCL device with
# the default plan, then write tables and plots. Extra arguments go to
# `clbatch run` (e.g. ./scripts/run.sh --model mlp --precision fp32,fp64).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh

stamp=$(date -u +%Y%m%d-%H%M%S)
out="results/local/run-$(hostname)-$stamp"
mkdir -p results/local
./build/clbatch devices
echo
# A failed configuration is a row with its reason, not a reason to stop here:
# the report is still written from everything that was measured.
status=0
./build/clbatch run --out "$out.csv" --format md "$@" || status=$?
if [ -s "$out.csv" ]; then
  ./build/clbatch report "$out.csv" --out "$out-report"
  echo
  echo "results: $out.csv"
  echo "report:  $out-report/report.html (tables: report.md, report.tex; plots: *.png, *.svg)"
fi
exit $status
