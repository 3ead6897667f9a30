#!/usr/bin/env bash
# Before/after: two builds of clbatch measured side by side, in one invocation.
#
# Builds git revision BASE (and NEW, or else uses the working tree's build/)
# in Release mode, then runs the same `clbatch run` plan with each, ROUNDS
# times in the order A B B A A B ... so a drifting machine (turbo, a
# neighbour's load) weighs on both sides alike. Prints, per device, model,
# precision and batch size, the median over rounds of each side's median step
# time and the ratio NEW / BASE (below 1: NEW is faster). The per-round CSVs
# and the table (ab.csv) are kept in results/local/ab-<host>-<time>/.
#
# Usage: bench/ab.sh [--rounds R] BASE [NEW] -- CLBATCH_RUN_OPTIONS...
# BASE and NEW are git revisions (commit, tag, branch) or paths to clbatch
# binaries already built (a host without git or CLBlast's headers: build them
# elsewhere with --build-only and carry build-ab/); NEW defaults to the working
# tree as built in build/. Example:
#   bench/ab.sh --rounds 4 HEAD~3 -- --device gpu --precision fp32
#   bench/ab.sh --build-only e1189d2 de04861   # prints the two binaries' paths
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
python="${PYTHON:-python3}"

die() {
  echo "ab.sh: $*" >&2
  exit 2
}

rounds=3
build_only=0
revisions=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    --rounds)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive whole number"
      rounds="$2"
      shift 2
      ;;
    --build-only)
      build_only=1
      shift
      ;;
    --)
      shift
      break
      ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *)
      revisions+=("$1")
      shift
      ;;
  esac
done
run_options=("$@")
[[ ${#revisions[@]} -ge 1 && ${#revisions[@]} -le 2 ]] ||
  die "give BASE and optionally NEW revisions, then -- and the clbatch run options"
for option in "${run_options[@]}"; do
  case "$option" in
    --out | --resume | --config | --format) die "$option is set by ab.sh" ;;
  esac
done

# Builds REVISION in build-ab/<commit> (kept: a second run reuses it); prints the binary.
# A path to an executable is taken as the binary itself.
build_revision() {
  local commit dir
  if [[ -f "$1" && -x "$1" ]]; then
    echo "$1"
    return
  fi
  commit="$(git -C "$root" rev-parse --verify --quiet "$1^{commit}")" || die "no git revision '$1'"
  dir="$root/build-ab/$commit"
  if [[ ! -x "$dir/build/clbatch" ]]; then
    rm -rf "$dir"
    mkdir -p "$root/build-ab"
    git -C "$root" worktree prune
    git -C "$root" worktree add --detach --force "$dir/src" "$commit" >/dev/null
    cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DCLBATCH_TESTS=OFF >/dev/null
    cmake --build "$dir/build" -j"$(nproc)" --target clbatch >/dev/null
  fi
  echo "$dir/build/clbatch"
}

echo "== building ${revisions[0]}" >&2
base_bin="$(build_revision "${revisions[0]}")"
short_name() { git -C "$root" rev-parse --short "$1" 2>/dev/null || echo "$1"; }
base_name="$(short_name "${revisions[0]}")"
if [[ ${#revisions[@]} -eq 2 ]]; then
  echo "== building ${revisions[1]}" >&2
  new_bin="$(build_revision "${revisions[1]}")"
  new_name="$(short_name "${revisions[1]}")"
else
  new_bin="$root/build/clbatch"
  [[ -x "$new_bin" ]] || die "no $new_bin: build the working tree first (cmake --build build)"
  new_name="working-tree"
  [[ -z "$(git -C "$root" status --porcelain --untracked-files=no)" ]] ||
    new_name="working-tree(modified)"
fi

if ((build_only)); then
  echo "$base_bin"
  [[ ${#revisions[@]} -eq 1 ]] || echo "$new_bin"
  exit 0
fi
[[ ${#run_options[@]} -gt 0 ]] || echo "ab.sh: no run options after --: clbatch's default plan" >&2

export POCL_CACHE_DIR="${POCL_CACHE_DIR:-/tmp/pocl-cache}"
mkdir -p "$POCL_CACHE_DIR"
host="$(hostname -s 2>/dev/null || hostname)"
outdir="$root/results/local/ab-$host-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$outdir"

# Each run's whole wall time (build of kernels, probes and all) goes to
# times.txt: what a user waits for, beside the per-configuration step times.
# Each side keeps its own speed history there: two builds' reference steps
# are two speeds, and in the user's history they would read as an erratic
# host (host_spread) for the next 30 passes.
run_side() { # SIDE ROUND BINARY
  echo "== round $2: $1" >&2
  local start end
  start=$(date +%s.%N)
  CLBATCH_SPEED_HISTORY="$outdir/speed-history-$1.csv" \
    "$3" run --quiet --noise-batches 0 "${run_options[@]}" --out "$outdir/$1-$2.csv" >/dev/null
  end=$(date +%s.%N)
  awk -v side="$1" -v round="$2" -v a="$start" -v b="$end" 'BEGIN { print side, round, b - a }' >>"$outdir/times.txt"
}
for ((round = 1; round <= rounds; round++)); do
  if ((round % 2)); then
    run_side base "$round" "$base_bin"
    run_side new "$round" "$new_bin"
  else
    run_side new "$round" "$new_bin"
    run_side base "$round" "$base_bin"
  fi
done

echo "== step time, median of $rounds rounds: base = $base_name, new = $new_name"
echo "   clbatch run ${run_options[*]}"
"$python" "$here/ab_table.py" --out "$outdir/ab.csv" "$outdir"
"$python" - "$outdir/times.txt" <<'EOF'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    side, _, seconds = line.split()
    times.setdefault(side, []).append(float(seconds))
for side in ("base", "new"):
    t = times.get(side, [])
    if t:
        print(f"   whole run, {side}: median {statistics.median(t):.1f} s "
              f"(range {min(t):.1f}-{max(t):.1f} s over {len(t)} runs)")
EOF
