#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang against the
# parser sources and runs each for a while from its seed corpus.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 25 s, all)
# A crash, leak, sanitizer report or timeout fails the script; the input that
# caused it is left in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-25}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(csv results options tables)
CC_FUZZ="${CC_FUZZ:-$(command -v clang-14 || command -v clang)}"
out=build-fuzz
mkdir -p "$out/artifacts"
flags=(-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
  -DCL_TARGET_OPENCL_VERSION=120 -DCLBATCH_VERSION=\"fuzz\" -Isrc -Itests/fuzz)
# The parsers and what they reach: util/ and a few pure modules above it.
sources=(src/util/*.c src/model/dataset.c src/model/shape.c src/results/results.c
  src/results/train_csv.c src/results/study_csv.c src/sweep/plan.c src/measure/measure.c
  src/measure/stats.c src/cl/launch_count.c)
jobs=$(nproc)
# Runs "$1 TARGET" for every target, at most $jobs at a time (each build and
# each fuzzer is single-threaded); fails if any of them failed.
for_each_target() {
  local failed=0 running=0 target
  for target in "${targets[@]}"; do
    if ((running >= jobs)); then
      wait -n || failed=1
      running=$((running - 1))
    fi
    "$1" "$target" &
    running=$((running + 1))
  done
  while ((running > 0)); do
    wait -n || failed=1
    running=$((running - 1))
  done
  return "$failed"
}
build_target() {
  "$CC_FUZZ" "${flags[@]}" -o "$out/fuzz_$1" "tests/fuzz/fuzz_$1.c" "${sources[@]}" \
    $(pkg-config --libs OpenCL 2>/dev/null || echo -lOpenCL) -lm
}
fuzz_target() {
  local target="$1" corpus="$out/corpus/$1"
  mkdir -p "$corpus"
  echo "fuzz: $target for ${seconds}s"
  # The working corpus starts from the seeds; -max_len keeps inputs small so
  # a short run explores structure rather than size.
  "./$out/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-" \
    "$corpus" "tests/fuzz/corpus/$target" 2>"$out/$target.log" || {
    echo "fuzz: $target failed; see $out/$target.log and $out/artifacts/" >&2
    tail -n 60 "$out/$target.log" >&2
    return 1
  }
  grep -E "^stat::number_of_executed_units" "$out/$target.log" | sed "s/^/fuzz: $target: /"
}
for_each_target build_target
for_each_target fuzz_target
