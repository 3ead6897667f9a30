#!/usr/bin/env bash
# The default fp64 tune on PoCL, then softmax and mlp fp64 steps with and
# without its file, four rounds in A B B A order. Writes tune.out,
# tuned.conf and steps/ here; then ./table.py. CLBATCH=path picks the binary.
set -u
cd "$(dirname "$0")"
clbatch=${CLBATCH:-../../../../build/clbatch}
mkdir -p steps
start=$(date +%s.%N)
CLBATCH_TUNE_FILE=$PWD/tuned.conf "$clbatch" tune --device pocl --precision fp64 >tune.out 2>&1
echo "rc=$? wall=$(echo "$(date +%s.%N) - $start" | bc)" >>tune.out
for round in 1 2 3 4; do
  case $round in 1 | 4) order="untuned tuned" ;; *) order="tuned untuned" ;; esac
  for v in $order; do
    f=/nonexistent
    [ "$v" = tuned ] && f=$PWD/tuned.conf
    CLBATCH_TUNE_FILE=$f "$clbatch" run --device pocl --precision fp64 --model softmax,mlp \
      --batch 32,256,1024,4096 --passes 1 --max-time 1 --noise-batches 0 --speed-history none \
      --quiet --out "steps/step-$v-$round.csv" >/dev/null 2>&1
  done
done
