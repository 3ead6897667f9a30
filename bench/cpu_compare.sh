#!/usr/bin/env bash
# clbatch on PoCL's CPU device against the same step in OpenBLAS, on the SAME CPU.
#
# PoCL is an OpenCL runtime for the host CPU: `clbatch run --device cpu` runs
# clbatch's kernels and CLBlast on the very cores that bench/cpu_reference then
# runs OpenBLAS on, one after the other in this one invocation. The ratio
# therefore compares two software stacks on identical hardware (how much the
# OpenCL/CLBlast path costs next to a tuned CPU BLAS); it says nothing about a GPU.
#
# Usage: bench/cpu_compare.sh [--model LIST] [--batch LIST] [--samples N]
#            [--features D] [--hidden H] [--classes C] [--outputs O]
#            [--threads T|LIST] [--min-time S] [--max-time S] [--warmup K] [--seed S]
#            [--rounds R] [--tune-files FILE,FILE...]
# With no options it runs clbatch's default plan (linreg, softmax, mlp; fp32;
# batches 1, 2, 4, ... 4096; N=4096, D=128, H=256, C=10) once.
# --rounds R runs both sides R times in alternating order (clbatch first in odd
# rounds, OpenBLAS first in even ones: A B B A ...) and prints each row's median
# ratio and its range over the rounds: on a shared machine one round proves little.
# --tune-files A,B runs clbatch once per tuned.conf (CLBATCH_TUNE_FILE; "none":
# CLBlast's and clbatch's untuned parameters) in every round, beside one
# OpenBLAS run, in turn (A B ref, then ref B A), and prints a table per file:
# a before/after of a tune measured side by side, which two separate
# invocations minutes apart on a shared VM are not. It works with --rounds 1
# too. Each tune file's runs keep their own speed history beside the CSVs.
# --threads T sets OpenBLAS's threads; a list (1,2) runs the reference once per
# count and keeps, per row, the fastest: OpenBLAS at its best on this host. On
# a shared 2-vCPU VM its two-thread GEMV ran linreg at B = 1024 in 98-317 us
# against 33 us on one thread, while mlp's GEMMs gain from the second.
# Writes results/local/cpu-compare-<host>-<time>.csv (and the raw CSVs beside it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
clbatch="${CLBATCH:-$root/build/clbatch}"

die() {
  echo "cpu_compare.sh: $*" >&2
  exit 2
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

shared=()  # options passed to both clbatch and cpu_reference
threads=""
rounds=1
tune_files=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --model | --batch | --samples | --features | --hidden | --classes | --outputs | \
      --min-time | --max-time | --warmup | --seed | --lr)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      shared+=("$1" "$2")
      shift 2
      ;;
    --threads)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
        die "$1 needs a whole number or a comma-separated list of them"
      threads="$2"
      shift 2
      ;;
    --rounds)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a whole number of at least 1"
      rounds="$2"
      shift 2
      ;;
    --tune-files)
      [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a comma-separated list of tuned.conf files"
      IFS=, read -r -a tune_files <<<"$2"
      for f in "${tune_files[@]}"; do
        [[ "$f" == none || -f "$f" ]] || die "$1: no file '$f'"
      done
      shift 2
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

[[ -x "$clbatch" ]] || die "no clbatch at $clbatch: build it first with
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2"
command -v cc >/dev/null || die "no C compiler (cc): apt-get install build-essential"
command -v python3 >/dev/null || die "python3 is needed to join the two CSVs: apt-get install python3"

# OpenBLAS's own cblas.h declares openblas_set_num_threads; prefer it over
# whichever cblas.h Debian's alternatives point at.
cflags=()
for dir in /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/aarch64-linux-gnu/openblas-pthread \
  /usr/include/openblas; do
  if [[ -f "$dir/cblas.h" ]]; then
    cflags+=("-I$dir")
    break
  fi
done
if [[ ${#cflags[@]} -eq 0 && ! -f /usr/include/cblas.h && ! -f /usr/include/x86_64-linux-gnu/cblas.h ]]; then
  die "OpenBLAS headers not found: apt-get install libopenblas-dev (scripts/setup.sh installs it)"
fi

bindir="$root/build-bench"
mkdir -p "$bindir"
ref="$bindir/cpu_reference"
if [[ ! -x "$ref" || "$here/cpu_reference.c" -nt "$ref" ]]; then
  echo "== building $ref"
  cc -std=c11 -O2 -Wall -Wextra "${cflags[@]}" "$here/cpu_reference.c" -o "$ref" -lopenblas -lm ||
    die "building cpu_reference failed (is libopenblas-dev installed?)"
fi

export POCL_CACHE_DIR="${POCL_CACHE_DIR:-/tmp/pocl-cache}"
mkdir -p "$POCL_CACHE_DIR"
host="$(hostname -s 2>/dev/null || hostname)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
outdir="$root/results/local"
mkdir -p "$outdir"
base="$outdir/cpu-compare-$host-$stamp"
cores="$(nproc)"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"

echo "== Same CPU for both: ${cpu:-unknown CPU}, $cores core(s)."
echo "   clbatch runs through PoCL (an OpenCL runtime on these host cores) with CLBlast;"
echo "   the reference runs the same fp32 step with OpenBLAS on the same cores."
echo "   Ratios compare two runtimes on identical hardware; absolute times say nothing about a GPU."

run_clbatch() {
  echo "== clbatch run --device cpu (PoCL)"
  "$clbatch" run --device cpu --precision fp32 --noise-batches 0 --quiet \
    "${shared[@]}" --out "$1"
}

# clbatch with tune file $1 ("none": an empty one) into $2.
empty_tune="$(mktemp)"
trap 'rm -f "$empty_tune"' EXIT
# A tune file's runs keep their own speed history: other parameters are
# another reference speed, which the user's history would read as an
# erratic host (host_spread).
run_clbatch_tuned() {
  local file="$1" history="${CLBATCH_SPEED_HISTORY:-}"
  if [[ "$file" == none ]]; then
    file="$empty_tune"
  else
    history="$base.speed-history-$(basename "$file" .conf).csv"
  fi
  echo "== tune file: $1"
  CLBATCH_SPEED_HISTORY="$history" CLBATCH_TUNE_FILE="$(realpath "$file")" run_clbatch "$2"
}

# The reference gets exactly the batch sizes and shapes clbatch ran, read by
# column name from clbatch's CSV ($1), one model at a time, into $2.
ref_opts=()
for ((i = 0; i < ${#shared[@]}; i += 2)); do
  case "${shared[i]}" in
    --min-time | --max-time | --warmup | --seed | --lr) ref_opts+=("${shared[i]}" "${shared[i + 1]}") ;;
  esac
done
# Each thread count's rows (the files after $1) into $1: per model and batch the fastest.
fastest_rows() {
  python3 - "$@" <<'EOF'
import csv, sys
out, inputs = sys.argv[1], sys.argv[2:]
best, order, fields = {}, [], None
for path in inputs:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        for row in reader:
            key = (row["model"], row["precision"], row["batch"])
            if key not in best:
                order.append(key)
                best[key] = row
            elif float(row["step_s_median"]) < float(best[key]["step_s_median"]):
                best[key] = row
with open(out, "w", newline="", encoding="utf-8") as f:
    writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for key in order:
        writer.writerow(best[key])
EOF
}

run_reference() {
  if [[ "$threads" == *,* ]]; then
    local t all="$threads" parts=()
    for t in ${all//,/ }; do
      threads="$t"
      run_reference "$1" "$2.t$t"
      parts+=("$2.t$t")
    done
    threads="$all"
    fastest_rows "$2" "${parts[@]}"
    echo "   (OpenBLAS per row: the fastest of $all threads)"
    return
  fi
  local thread_opts=()
  [[ -z "$threads" ]] || thread_opts=(--threads "$threads")
  echo "== bench/cpu_reference (OpenBLAS${threads:+, $threads threads})"
  local plans first=1
  plans="$(python3 - "$1" <<'EOF'
import csv, sys
plans = {}
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        if row["precision"] != "fp32":
            continue
        shape = (row["model"], row["n_samples"], row["n_features"], row["n_hidden"], row["n_classes"])
        plans.setdefault(shape, [])
        if row["batch"] not in plans[shape]:
            plans[shape].append(row["batch"])
for (model, n, d, h, c), batches in plans.items():
    print(model, n, d, h, c, ",".join(batches))
EOF
)"
  [[ -n "$plans" ]] || die "clbatch wrote no fp32 rows to $1"
  while read -r model n d h c batches; do
    local shape=(--samples "$n" --features "$d")
    if [[ "$model" == linreg ]]; then
      shape+=(--outputs "$c")
    else
      shape+=(--classes "$c")
    fi
    if [[ "$model" == mlp ]]; then
      shape+=(--hidden "$h")
    fi
    "$ref" --model "$model" --batch "$batches" "${shape[@]}" "${ref_opts[@]}" \
      "${thread_opts[@]}" --out "$2.$model.csv"
    if [[ $first -eq 1 ]]; then
      cat "$2.$model.csv" >"$2"
      first=0
    else
      tail -n +2 "$2.$model.csv" >>"$2"
    fi
    rm -f "$2.$model.csv"
  done <<<"$plans"
}

if [[ $rounds -eq 1 && ${#tune_files[@]} -eq 0 ]]; then
  run_clbatch "$base.clbatch.csv"
  run_reference "$base.clbatch.csv" "$base.openblas.csv"
  echo "== clbatch (PoCL) / OpenBLAS, same CPU"
  python3 "$here/join_results.py" --clbatch "$base.clbatch.csv" --baseline "$base.openblas.csv" \
    --name OpenBLAS --out "$base.csv"
  exit 0
fi

# One round's ratios: clbatch's CSV $1 against OpenBLAS's $2, into $3.
join_round() {
  python3 "$here/join_results.py" --clbatch "$1" --baseline "$2" --name OpenBLAS --out "$3" >/dev/null
}

if [[ ${#tune_files[@]} -gt 0 ]]; then
  count=${#tune_files[@]}
  for ((r = 1; r <= rounds; r++)); do
    echo "== round $r of $rounds"
    if [[ $((r % 2)) -eq 0 ]]; then
      run_reference "$base.r1.t0.clbatch.csv" "$base.r$r.openblas.csv"
      for ((t = count - 1; t >= 0; t--)); do
        run_clbatch_tuned "${tune_files[t]}" "$base.r$r.t$t.clbatch.csv"
      done
    else
      for ((t = 0; t < count; t++)); do
        run_clbatch_tuned "${tune_files[t]}" "$base.r$r.t$t.clbatch.csv"
      done
      run_reference "$base.r$r.t0.clbatch.csv" "$base.r$r.openblas.csv"
    fi
  done
  for ((t = 0; t < count; t++)); do
    joined=()
    for ((r = 1; r <= rounds; r++)); do
      join_round "$base.r$r.t$t.clbatch.csv" "$base.r$r.openblas.csv" "$base.r$r.t$t.csv"
      joined+=("$base.r$r.t$t.csv")
    done
    echo "== tune file ${tune_files[t]}: clbatch / OpenBLAS, same CPU, $rounds rounds"
    python3 "$here/rounds_summary.py" --name OpenBLAS --out "$base.t$t.csv" "${joined[@]}"
  done
  exit 0
fi

joined=()
for ((r = 1; r <= rounds; r++)); do
  echo "== round $r of $rounds ($([[ $((r % 2)) -eq 1 ]] && echo "clbatch first" || echo "OpenBLAS first"))"
  if [[ $((r % 2)) -eq 1 ]]; then
    run_clbatch "$base.r$r.clbatch.csv"
    run_reference "$base.r$r.clbatch.csv" "$base.r$r.openblas.csv"
  else
    run_reference "$base.r1.clbatch.csv" "$base.r$r.openblas.csv"
    run_clbatch "$base.r$r.clbatch.csv"
  fi
  join_round "$base.r$r.clbatch.csv" "$base.r$r.openblas.csv" "$base.r$r.csv"
  joined+=("$base.r$r.csv")
done
echo "== clbatch (PoCL) / OpenBLAS, same CPU, $rounds rounds"
python3 "$here/rounds_summary.py" --name OpenBLAS --out "$base.csv" "${joined[@]}"
