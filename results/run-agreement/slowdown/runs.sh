#!/usr/bin/env bash
# Short default-plan runs back to back on PoCL (one pass each, about 25 s),
# every one with the reference step against a speed history that starts
# empty in this folder. Run from this folder with clbatch on PATH (or
# CLBATCH=path); then ./table.py.
set -euo pipefail
clbatch=${CLBATCH:-clbatch}
runs=${1:-14}
rm -f history.csv times.log run-*.csv run-*.config run-*.recommend.csv
for k in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  "$clbatch" run --device pocl --passes 1 --max-time 0.5 --quiet \
    --speed-history "$PWD/history.csv" --out "run-$k.csv" >/dev/null 2>&1 || true
  echo "$k $start $(date +%s.%N)" >>times.log
done
