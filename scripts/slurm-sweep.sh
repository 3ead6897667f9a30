#!/usr/bin/env bash
# Runs the same `clbatch run` on several node types of a Slurm cluster, one
# array task per node type, and prints the command that merges the results.
#
#   scripts/slurm-sweep.sh [--constraint LIST] [--partition P] [--account A]
#                          [--time HH:MM:SS] [--gres SPEC] [--clbatch PATH]
#                          [--shared] [--out-dir DIR] [--wait [--wait-timeout S]]
#                          [--dry-run] [-- CLBATCH RUN ARGS...]
#   scripts/slurm-sweep.sh --status [--out-dir DIR]
#
#   --constraint LIST  comma-separated node features, one array task each
#                      (e.g. h100,a100,mi250,epyc); default: one task, any node
#   --partition P      partition(s) to submit to (sbatch --partition)
#   --gres SPEC        generic resources per task (e.g. gpu:1)
#   --clbatch PATH     the clbatch each node runs; default: `clbatch` on the
#                      node's PATH, else this checkout's build/clbatch when the
#                      node sees it; a task that finds neither fails, saying so
#   --shared           let other jobs share a node with a task (default: each
#                      task gets its node to itself, sbatch --exclusive, since
#                      other work on the node skews the timings)
#   --out-dir DIR      where rows go (default results/fleet; must be a folder
#                      the nodes share); each task writes
#                      DIR/<hostname>-<jobid>_<task>.csv and, beside it,
#                      clbatch's .config with `# node type/command/status`
#                      lines added; its Slurm log and clbatch's stderr go to
#                      DIR/logs/
#   --wait             wait until the jobs have left the queue, then print one
#                      line per task (node type, host, ok/failed and why, rows);
#                      exits 1 when any task failed (the others' files stay)
#   --wait-timeout S   with --wait: cancel the jobs still queued or running
#                      after S seconds and count them as failed (default: none)
#   --status           print those lines for the tasks in --out-dir; submits
#                      nothing
#   --dry-run          print the batch script and the sbatch commands only
#   after --            extra `clbatch run` arguments, e.g.
#                      -- --device gpu --model softmax,mlp --precision fp32 --batch 1:4096:x2
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
constraints=""
partition=""
account=""
time_limit="01:00:00"
gres=""
clbatch=""
exclusive=1
out_dir="results/fleet"
dry_run=0
wait_jobs=0
wait_timeout=0
status_only=0
run_args=()

usage() { sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; }
need_arg() { [[ $# -ge 2 ]] || { echo "slurm-sweep: $1 needs a value (see --help)" >&2; exit 2; }; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --constraint|--partition|--account|--time|--gres|--clbatch|--out-dir|--wait-timeout) need_arg "$@" ;;
  esac
  case $1 in
    --constraint) constraints=$2; shift 2 ;;
    --partition) partition=$2; shift 2 ;;
    --account) account=$2; shift 2 ;;
    --time) time_limit=$2; shift 2 ;;
    --gres) gres=$2; shift 2 ;;
    --clbatch) clbatch=$2; shift 2 ;;
    --shared) exclusive=0; shift ;;
    --exclusive) exclusive=1; shift ;;
    --out-dir) out_dir=$2; shift 2 ;;
    --wait) wait_jobs=1; shift ;;
    --wait-timeout) wait_timeout=$2; shift 2 ;;
    --status) status_only=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; run_args=("$@"); break ;;
    *) echo "slurm-sweep: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $wait_timeout =~ ^[0-9]+$ ]]; then
  echo "slurm-sweep: --wait-timeout takes whole seconds, not '$wait_timeout'" >&2
  exit 2
fi

out_abs=$(realpath -m "$out_dir")

# ---- reporting ------------------------------------------------------------
# One line per task from its .config (written by the batch script below):
# node type, host, ok/failed, rows written (non-header CSV lines), then the
# CSV or the reason. $2 (optional) is what Slurm said about the job, used
# when the task wrote no status; $3 (optional) goes before a failed task's
# reason. Returns 1 when the task failed.
value_of() { sed -n "s/^# $1: //p" "$2" | tail -n1; }
report_task() {
  local config=$1 slurm_state=${2:-} before=${3:-} type host status csv rows=0
  csv="${config%.config}.csv"
  type=$(value_of 'node type' "$config" | sed 's/; host: .*//')
  host=$(value_of 'node type' "$config" | sed -n 's/.*; host: //p')
  if [[ -z $host ]]; then # from the name, HOST-JOB_TASK.config
    host=$(basename "$config" .config)
    host=${host%-*}
  fi
  status=$(value_of status "$config")
  [[ -f $csv ]] && rows=$(tail -n +2 "$csv" | grep -c . || true)
  if [[ -z $status ]]; then
    status="failed (no status written: ${slurm_state:-killed, or still running})"
  fi
  printf '%-10s %-16s %-6s %5s rows  ' "${type:-?}" "${host:-?}" "${status%% *}" "$rows"
  if [[ $status == ok ]]; then
    echo "$csv"
    return 0
  fi
  echo "$before${status#failed }"
  return 1
}

if [[ $status_only -eq 1 ]]; then
  shopt -s nullglob
  configs=()
  for c in "$out_abs"/*-[0-9]*_[0-9]*.config; do # the tasks' files, not other runs' .config
    [[ $(basename "$c") =~ -[0-9]+_[0-9]+\.config$ ]] && configs+=("$c")
  done
  if [[ ${#configs[@]} -eq 0 ]]; then
    echo "slurm-sweep: no .config files of slurm-sweep tasks in $out_dir" >&2
    exit 1
  fi
  failed=0
  for c in "${configs[@]}"; do report_task "$c" || failed=$((failed + 1)); done
  [[ $failed -eq 0 ]] || { echo "slurm-sweep: $failed of ${#configs[@]} task(s) failed" >&2; exit 1; }
  exit 0
fi

# ---- checks on the login node ----------------------------------------------
if [[ $dry_run -eq 0 ]] && ! command -v sbatch >/dev/null 2>&1; then
  cat >&2 <<'MSG'
slurm-sweep: sbatch not found. This script submits jobs to a Slurm cluster: run it on
a login node where Slurm's client commands are installed (module load slurm on some
sites). Without Slurm, run `clbatch run --out results/fleet/$(hostname).csv --format csv`
on each host yourself and merge with `clbatch report results/fleet/*.csv`.
MSG
  exit 1
fi
# The nodes decide which clbatch they run; here only an obvious mistake is
# caught, and a missing binary is only a warning (it may exist on the nodes).
repo_clbatch="$here/build/clbatch"
if [[ $dry_run -eq 0 ]]; then
  if [[ -n $clbatch ]]; then
    [[ $clbatch == /* ]] || clbatch=$(realpath -m "$clbatch")
    if [[ -d $clbatch ]]; then
      echo "slurm-sweep: --clbatch $clbatch is a folder; give the clbatch binary" >&2
      exit 2
    fi
    [[ -x $clbatch ]] || echo "slurm-sweep: warning: --clbatch $clbatch is not an executable" \
      "file here; the compute nodes must have it" >&2
  elif ! command -v clbatch >/dev/null 2>&1 && [[ ! -x $repo_clbatch ]]; then
    echo "slurm-sweep: warning: no clbatch on PATH and no $repo_clbatch here; each node" \
         "needs clbatch on its PATH (or pass --clbatch PATH to a binary the nodes can run)" >&2
  fi
fi

IFS=',' read -r -a types <<<"${constraints}"
[[ ${#types[@]} -eq 0 ]] && types=("")
[[ $dry_run -eq 0 ]] && mkdir -p "$out_dir/logs"

# ---- the batch script -------------------------------------------------------
# Each task writes its own CSV and, beside it, clbatch's FILE.config with
# these comment lines added: `# node type: T; host: H`, `# command: ...` and,
# when it ends, `# status: ok` or `# status: failed (exit N): <clbatch's last
# error line>`; `clbatch report` shows the .config verbatim in report.html.
# clbatch's stderr goes to the Slurm log and to logs/<host>-<job>_<task>.stderr.
# sbatch copies the script when it submits, so the temporary file can go when
# this script ends.
quoted_args=""
[[ ${#run_args[@]} -gt 0 ]] && quoted_args=$(printf '%q ' "${run_args[@]}")
script=$(mktemp "${TMPDIR:-/tmp}/clbatch-sweep.XXXXXX.sh")
trap 'rm -f "$script" "$script.q"' EXIT
{
  echo '#!/usr/bin/env bash'
  echo 'set -uo pipefail'
  printf 'out_dir=%q\n' "$out_abs"
  printf 'clbatch_opt=%q\n' "$clbatch"
  printf 'repo_clbatch=%q\n' "$repo_clbatch"
  printf 'run_args=(%s)\n' "$quoted_args"
  cat <<'SCRIPT'
host=$(hostname)
name="$host-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
base="$out_dir/$name"
errlog="$out_dir/logs/$name.stderr"
mkdir -p "$out_dir/logs"
: >"$errlog"
if [[ -n $clbatch_opt ]]; then
  clb=$clbatch_opt
elif clb=$(command -v clbatch); then
  :
elif [[ -x $repo_clbatch ]]; then
  clb=$repo_clbatch
else
  clb=""
fi
shown=""
for word in "${clb:-clbatch}" run "${run_args[@]}" --out "$base.csv" --format csv; do
  if [[ $word =~ ^[][A-Za-z0-9_./:=,@%+-]+$ ]]; then shown+="$word "; else printf -v shown '%s%q ' "$shown" "$word"; fi
done
# clbatch run writes FILE.config itself (its effective configuration, `key =
# value` lines that `clbatch run --config` reads back) and replaces any file
# there, so the task's own lines are `#` comments, (re)appended when it ends.
about_task() {
  echo "# node type: ${CLBATCH_NODE_TYPE:-any}; host: $host"
  echo "# command: ${shown% }"
}
about_task >"$base.config"

done_once=0
finish() { # exit code, reason when failed
  [[ $done_once -eq 0 ]] || return 0
  done_once=1
  grep -qx "# node type: ${CLBATCH_NODE_TYPE:-any}; host: $host" "$base.config" 2>/dev/null \
    || about_task >>"$base.config"
  if [[ $1 -eq 0 ]]; then
    echo "# status: ok" >>"$base.config"
  else
    echo "# status: failed (exit $1): $2" >>"$base.config"
    echo "clbatch-sweep: task failed (exit $1): $2" >&2
  fi
}
last_error() { # clbatch's last stderr line that is no warning or note (progress lines end in CR)
  local lines
  lines=$(tr '\r' '\n' <"$errlog" | grep -v '^[[:space:]]*$')
  { grep -vE '^[^ ]*clbatch[^:]*: (warning|note): ' <<<"$lines" || printf '%s\n' "$lines"; } | tail -n1 | cut -c1-300
}
trap 'finish 143 "stopped by SIGTERM (time limit, scancel or node shutdown); $(last_error)"; exit 143' TERM

if [[ -z $clb ]]; then
  echo "clbatch-sweep: PATH=$PATH" >&2
  finish 127 "no clbatch on $host: not on PATH (see the Slurm log) and no $repo_clbatch; install it on the nodes or pass --clbatch PATH"
  exit 127
elif [[ ! -x $clb || -d $clb ]]; then
  finish 127 "--clbatch $clb is not an executable file on $host"
  exit 127
fi
# stdout to the Slurm log; stderr to the Slurm log and $errlog.
{ "$clb" run "${run_args[@]}" --out "$base.csv" --format csv 2>&1 1>&3 3>&- | tee "$errlog" >&2; } 3>&1
rc=${PIPESTATUS[0]}
if [[ $rc -eq 0 && ! -s $base.csv ]]; then
  rc=1
  finish 1 "$clb exited 0 but wrote no $base.csv"
elif [[ $rc -eq 0 ]]; then
  finish 0 ""
else
  reason=$(last_error)
  [[ $rc -gt 128 ]] && reason="killed by signal $((rc - 128)); ${reason:-no error message}"
  finish "$rc" "${reason:-no error message (see $errlog)}"
fi
exit "$rc"
SCRIPT
} >"$script"

submit=()
for i in "${!types[@]}"; do
  t=${types[$i]}
  # shellcheck disable=SC2054 # commas inside arguments
  cmd=(sbatch --parsable --job-name=clbatch-sweep --time="$time_limit"
       --output="$out_abs/logs/%A_%a.out" --array="$i" --export=ALL,CLBATCH_NODE_TYPE="${t:-any}")
  [[ $exclusive -eq 1 ]] && cmd+=(--exclusive)
  [[ -n $t ]] && cmd+=(--constraint="$t")
  [[ -n $partition ]] && cmd+=(--partition="$partition")
  [[ -n $account ]] && cmd+=(--account="$account")
  [[ -n $gres ]] && cmd+=(--gres="$gres")
  submit+=("$(printf '%q ' "${cmd[@]}")$script")
done

# One sbatch per node type: a job array shares one --constraint, so each node
# type is its own single-task array (index = position in --constraint).
if [[ $dry_run -eq 1 ]]; then
  echo "# batch script:"; cat "$script"; echo "# submissions:"; printf '%s\n' "${submit[@]}"
  echo
  echo "When the jobs have finished, merge the results:"
  echo "  clbatch report $out_dir/*.csv --out report/fleet"
  exit 0
fi

ids=()
for s in "${submit[@]}"; do
  id=$(eval "$s")
  id=${id%%;*} # --parsable prints JOBID[;CLUSTER]
  ids+=("$id")
  echo "submitted job $id (node type ${types[${#ids[@]} - 1]:-any})"
done

if [[ $wait_jobs -eq 0 ]]; then
  echo
  echo "When the jobs have finished (scripts/slurm-sweep.sh --status --out-dir $out_dir), merge the results:"
  echo "  clbatch report $out_dir/*.csv --out report/fleet"
  exit 0
fi

# ---- --wait -------------------------------------------------------------------
# Polls squeue each second until no job is pending, running or completing;
# remembers each job's last state for tasks that wrote no status.
declare -A last_state=()
active="PENDING,RUNNING,CONFIGURING,COMPLETING,SUSPENDED,REQUEUED,RESIZING,SIGNALING,STAGE_OUT,REQUEUE_HOLD,REQUEUE_FED,RESV_DEL_HOLD"
joined=$(IFS=,; echo "${ids[*]}")
limit=""
[[ $wait_timeout -gt 0 ]] && limit=" (at most ${wait_timeout}s)"
echo "waiting for job(s) $joined to finish$limit"
running=0
poll() { # sets running (jobs still queued or running) and last_state
  local lines err jid state reason
  err=$(squeue -h -r -j "$joined" -t all -o '%F %T %r' 2>&1 >"$script.q") || {
    # Jobs the controller has forgotten are done; any other error (say, a busy
    # controller) leaves things as they were until the next poll.
    [[ $err == *"Invalid job id"* ]] && running=0
    return 0
  }
  lines=$(<"$script.q")
  running=0
  while read -r jid state reason; do
    [[ -n $jid ]] || continue
    last_state[$jid]="Slurm state $state${reason:+, reason $reason}"
    [[ ,$active, == *,$state,* ]] && running=$((running + 1))
  done <<<"$lines"
  return 0
}
start_s=$SECONDS
timed_out=0
running=${#ids[@]}
while :; do
  poll
  [[ $running -eq 0 ]] && break
  if [[ $wait_timeout -gt 0 ]] && ((SECONDS - start_s >= wait_timeout)); then
    timed_out=1
    echo "slurm-sweep: $running job(s) still queued or running after ${wait_timeout}s: cancelling $joined" >&2
    scancel "${ids[@]}" 2>/dev/null || true
    for ((k = 0; k < 60; k++)); do # let the batch scripts write their status
      sleep 1
      poll
      [[ $running -eq 0 ]] && break
    done
    break
  fi
  sleep 1
done
rm -f "$script.q"

echo
printf '%-10s %-16s %-6s %5s rows  %s\n' "node type" host status "" "csv or reason"
failed=0
for i in "${!ids[@]}"; do
  id=${ids[$i]}
  t=${types[$i]:-any}
  state=${last_state[$id]:-no longer known to squeue}
  before=""
  [[ $timed_out -eq 1 ]] && before="cancelled after --wait-timeout ${wait_timeout}s: "
  shopt -s nullglob
  configs=()
  for c in "$out_abs"/*-"${id}_${i}".config; do
    [[ $c -nt $script ]] && configs+=("$c") # not one a cluster with reused job ids left
  done
  shopt -u nullglob
  if [[ ${#configs[@]} -eq 0 ]]; then
    why="${before}never started or wrote nothing ($state)"
    log="$out_abs/logs/${id}_${i}.out"
    [[ -s $log ]] && why="$why; log $log: $(grep -v '^[[:space:]]*$' "$log" | tail -n1 | cut -c1-200)"
    printf '%-10s %-16s %-6s %5s rows  %s\n' "$t" "-" failed 0 "$why"
    failed=$((failed + 1))
    continue
  fi
  for c in "${configs[@]}"; do report_task "$c" "$state" "$before" || failed=$((failed + 1)); done
done
echo
if [[ $failed -eq ${#ids[@]} ]]; then
  echo "slurm-sweep: every task failed"
  exit 1
fi
[[ $failed -gt 0 ]] && echo "slurm-sweep: $failed of ${#ids[@]} task(s) failed; the other tasks' results are in $out_dir"
echo "Merge the results:"
echo "  clbatch report $out_dir/*.csv --out report/fleet"
[[ $failed -eq 0 ]]
