#!/usr/bin/env bash
# Why the two CPU runtimes differ: the same plan on PoCL and Intel's runtime,
# once with the CLBlast parameters each gets by default and once with the two
# sets swapped (swapped-params.conf, applied through CLBATCH_TUNE_FILE), in
# A B B A rounds. Same parameters on both runtimes isolates the runtime (its
# compiler, its launches); the same runtime with both sets isolates CLBlast's
# parameters. Prints the table in README.md.
#   results/cpu-two-vendors/params-swap.sh OUTDIR [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
out=${1:?usage: params-swap.sh OUTDIR [ROUNDS]}
rounds=${2:-2}
mkdir -p "$out"
plan=(--device platform:pocl,platform:intel --model linreg,softmax,mlp --precision fp32
  --batch 1,16,256,1024,4096 --noise-batches 0 --quiet)
for ((r = 1; r <= rounds; r++)); do
  for side in default swapped swapped default; do
    csv="$out/$side-$r-$RANDOM.csv"
    if [ "$side" = swapped ]; then
      CLBATCH_TUNE_FILE="$PWD/results/cpu-two-vendors/swapped-params.conf" \
        ./build/clbatch run "${plan[@]}" --out "$csv" >/dev/null
    else
      CLBATCH_TUNE_FILE=/nonexistent/tuned.conf ./build/clbatch run "${plan[@]}" --out "$csv" >/dev/null
    fi
    echo "params-swap: $csv"
  done
done
python3 - "$out" <<'PY'
import csv, glob, statistics, sys
times = {}
for path in glob.glob(sys.argv[1] + "/*.csv"):
    if path.endswith(".recommend.csv"):
        continue
    side = path.rsplit("/", 1)[1].split("-")[0]
    for row in csv.DictReader(open(path)):
        if row["status"] != "ok":
            continue
        vendor = "pocl" if row["platform"].startswith("Portable") else "intel"
        key = (row["model"], int(row["batch"]), vendor, side)
        times.setdefault(key, []).append(float(row["step_s_median"]))
med = {k: statistics.median(v) for k, v in times.items()}
print("| model | B | PoCL, its defaults | PoCL, Intel-CPU set | Intel, its defaults (Intel-CPU set) | Intel, all-device set | Intel/PoCL, own defaults | Intel/PoCL, same set (Intel-CPU) | Intel/PoCL, same set (all-device) |")
print("|---|---|---|---|---|---|---|---|---|")
fmt = lambda s: f"{s*1e6:.0f} µs" if s < 1e-3 else f"{s*1e3:.2f} ms"
for model in ("linreg", "softmax", "mlp"):
    for b in (1, 16, 256, 1024, 4096):
        try:
            pd, ps = med[(model, b, "pocl", "default")], med[(model, b, "pocl", "swapped")]
            idf, isw = med[(model, b, "intel", "default")], med[(model, b, "intel", "swapped")]
        except KeyError:
            continue
        print(f"| {model} | {b} | {fmt(pd)} | {fmt(ps)} | {fmt(idf)} | {fmt(isw)} | {idf/pd:.2f} | {idf/ps:.2f} | {isw/pd:.2f} |")
PY
