#!/usr/bin/env bash
# Ten short default runs back to back on PoCL (about 25 s each), with a
# one-thread host canary (canary.c: a dependent multiply-add chain and a
# strided read of 64 MiB, median of 15) sampled every second beside them.
# Run from this folder with clbatch on PATH; then ./table.py.
set -euo pipefail
gcc -O2 -o canary canary.c
rm -f stop times.log canary.log
(while [ ! -e stop ]; do echo "$(date +%s.%N) $(./canary 15)"; sleep 1; done) >canary.log &
for k in $(seq 1 10); do
  start=$(date +%s.%N)
  clbatch run --device pocl --max-time 0.5 --quiet --out "run-$k.csv" >/dev/null 2>&1 || true
  echo "$k $start $(date +%s.%N)" >>times.log
done
touch stop
wait
rm -f stop canary
