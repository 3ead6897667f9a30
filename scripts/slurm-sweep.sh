#!/usr/bin/env bash
# Runs the same `clbatch run` on several node types of a Slurm cluster, one
# array task per node type, and prints the command that merges the results.
#
#   scripts/slurm-sweep.sh [--constraint LIST] [--partition P] [--account A]
#                          [--time HH:MM:SS] [--gres SPEC] [--clbatch PATH]
#                          [--out-dir DIR] [--dry-run] [-- CLBATCH RUN ARGS...]
#
#   --constraint LIST  comma-separated node features, one array task each
#                      (e.g. h100,a100,mi250,epyc); default: one task, any node
#   --partition P      partition(s) to submit to (sbatch --partition)
#   --gres SPEC        generic resources per task (e.g. gpu:1)
#   --out-dir DIR      where rows go (default results/fleet); each task writes
#                      DIR/<hostname>-<jobid>_<taskid>.csv
#   --dry-run          print the batch script and the sbatch command only
#   after --            extra `clbatch run` arguments, e.g.
#                      -- --device gpu --model softmax,mlp --precision fp32 --batch 1..4096
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
constraints=""
partition=""
account=""
time_limit="01:00:00"
gres=""
clbatch="$here/build/clbatch"
out_dir="results/fleet"
dry_run=0
run_args=()

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --constraint) constraints=$2; shift 2 ;;
    --partition) partition=$2; shift 2 ;;
    --account) account=$2; shift 2 ;;
    --time) time_limit=$2; shift 2 ;;
    --gres) gres=$2; shift 2 ;;
    --clbatch) clbatch=$2; shift 2 ;;
    --out-dir) out_dir=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; run_args=("$@"); break ;;
    *) echo "slurm-sweep: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [[ $dry_run -eq 0 ]] && ! command -v sbatch >/dev/null 2>&1; then
  cat >&2 <<'MSG'
slurm-sweep: sbatch not found. This script submits jobs to a Slurm cluster: run it on
a login node where Slurm's client commands are installed (module load slurm on some
sites). Without Slurm, run `clbatch run --out results/fleet/$(hostname).csv --format csv`
on each host yourself and merge with `clbatch report results/fleet/*.csv`.
MSG
  exit 1
fi
if [[ $dry_run -eq 0 && ! -x $clbatch ]]; then
  echo "slurm-sweep: $clbatch is not built (run scripts/setup.sh, or pass --clbatch PATH" \
       "to a binary the compute nodes can run)" >&2
  exit 1
fi

IFS=',' read -r -a types <<<"${constraints}"
[[ ${#types[@]} -eq 0 ]] && types=("")
[[ $dry_run -eq 0 ]] && mkdir -p "$out_dir/logs"
out_abs=$(realpath -m "$out_dir")

# Each task writes its own CSV, and the exact command beside it as .config,
# which `clbatch report` shows. sbatch copies the script when it submits, so
# the temporary file can go when this script ends.
quoted_args=$(printf '%q ' "${run_args[@]}")
script=$(mktemp "${TMPDIR:-/tmp}/clbatch-sweep.XXXXXX.sh")
trap 'rm -f "$script"' EXIT
cat >"$script" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
base="$out_abs/\$(hostname)-\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}"
echo "node type: \${CLBATCH_NODE_TYPE:-any}; host: \$(hostname)" >"\$base.config"
echo "command: $clbatch run $quoted_args--out \$base.csv --format csv" >>"\$base.config"
exec "$clbatch" run $quoted_args--out "\$base.csv" --format csv
SCRIPT

submit=()
for i in "${!types[@]}"; do
  t=${types[$i]}
  cmd=(sbatch --parsable --job-name=clbatch-sweep --time="$time_limit"
       --output="$out_abs/logs/%A_%a.out" --array="$i" --export=ALL,CLBATCH_NODE_TYPE="${t:-any}")
  [[ -n $t ]] && cmd+=(--constraint="$t")
  [[ -n $partition ]] && cmd+=(--partition="$partition")
  [[ -n $account ]] && cmd+=(--account="$account")
  [[ -n $gres ]] && cmd+=(--gres="$gres")
  submit+=("$(printf '%q ' "${cmd[@]}") $script")
done

# One sbatch per node type: a job array shares one --constraint, so each node
# type is its own single-task array (index = position in --constraint).
if [[ $dry_run -eq 1 ]]; then
  echo "# batch script:"; cat "$script"; echo "# submissions:"; printf '%s\n' "${submit[@]}"
else
  for s in "${submit[@]}"; do
    id=$(eval "$s")
    echo "submitted job $id: ${s#sbatch }" | cut -c1-160
  done
fi
echo
echo "When the jobs have finished, merge the results:"
echo "  clbatch report $out_dir/*.csv --out report/fleet"
