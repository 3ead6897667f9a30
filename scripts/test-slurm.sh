#!/usr/bin/env bash
# The real Slurm test of scripts/slurm-sweep.sh (issue 17): starts a one-node
# cluster under a temporary folder (scripts/slurm-cluster.sh), runs sweeps on
# it with --wait, checks every task's files and the merged report, and stops
# the cluster whatever happens.
#
#   scripts/test-slurm.sh [BUILD_DIR]     (default: build)
#
# Needs root and Debian's slurmctld, slurmd, slurm-client and munge; without
# them it skips (exit 77), unless CI=true, where it fails. About 30-60 s.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build == /* ]] || { [[ -d $build ]] || build="$root/$build"; }
build=$(cd "$build" 2>/dev/null && pwd) || { echo "test-slurm: no build folder ${1:-build}" >&2; exit 1; }
clbatch="$build/clbatch"

skip() {
  if [[ ${CI:-} == true ]]; then
    echo "test-slurm: FAIL (CI=true, so no skipping): $*" >&2
    exit 1
  fi
  echo "test-slurm: SKIP: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (the test cluster runs its daemons as root)"
for tool in slurmctld slurmd munged mungekey sbatch squeue sinfo scancel; do
  command -v "$tool" >/dev/null 2>&1 \
    || skip "$tool not found (apt-get install slurmctld slurmd slurm-client munge)"
done
[[ -x $clbatch ]] || { echo "test-slurm: FAIL: $clbatch is not built" >&2; exit 1; }

# PoCL's cache and the vendors' ICD folder; the jobs inherit them (--export=ALL).
# shellcheck source=scripts/env.sh
. "$root/scripts/env.sh"

t0=$SECONDS
step_s=$SECONDS
step() {
  echo "== [$((SECONDS - t0))s] $*"
  step_s=$SECONDS
}
step_done() { echo "   ok ($((SECONDS - step_s))s)"; }
fail() {
  echo "test-slurm: FAIL: $*" >&2
  exit 1
}
# check DESCRIPTION EXPECTED FOUND: compares exactly
check() {
  if [[ $2 != "$3" ]]; then
    fail "$1: expected '$2', found '$3'"
  fi
}
# check_has DESCRIPTION FILE_OR_TEXT_LABEL TEXT NEEDLE: TEXT contains NEEDLE
check_has() {
  if [[ $3 != *"$4"* ]]; then
    printf '%s\n' "--- $2:" "$3" "---" >&2
    fail "$1: expected $2 to contain '$4'; it does not (above)"
  fi
}

# A run that was killed outright (SIGKILL, e.g. a CTest timeout) could not stop
# its cluster: stop the clusters of earlier runs whose test is gone.
for old in "${TMPDIR:-/tmp}"/clbatch-slurm.*/; do
  [[ -f $old/test.pid ]] || continue
  owner=$(<"$old/test.pid")
  [[ -n $owner && -d /proc/$owner && $(tr '\0' ' ' 2>/dev/null <"/proc/$owner/cmdline") == *test-slurm.sh* ]] && continue
  echo "test-slurm: stopping the cluster a killed run left in $old"
  "$root/scripts/slurm-cluster.sh" stop "$old/cluster" || true
  rm -rf "$old"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clbatch-slurm.XXXXXX")
echo $$ >"$tmp/test.pid"
# The jobs' reference steps go to a history of their own: timed beside the
# rest of CI, they would widen this host's intervals (host_spread) in the
# user's own history for the next 30 passes.
export CLBATCH_SPEED_HISTORY="$tmp/speed-history.csv"
cluster="$tmp/cluster"
started=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ $rc -ne 0 && -d $tmp/fleet/logs ]]; then
    local f
    for f in "$tmp"/fleet/logs/*.out; do
      [[ -f $f ]] || continue
      echo "---- $f (last lines)" >&2
      tail -n 15 "$f" >&2
    done
  fi
  if [[ $started -eq 1 ]]; then
    "$root/scripts/slurm-cluster.sh" stop "$cluster" || rc=1
  fi
  if [[ ${CLB_KEEP_TMP:-} == 1 ]]; then
    echo "test-slurm: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  echo "test-slurm: $([[ $rc -eq 0 ]] && echo PASS || echo FAIL) in $((SECONDS - t0))s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Processes of a cluster under $1: daemons naming it on their command line,
# and slurmstepd and job processes with its SLURM_CONF in their environment.
cluster_procs() {
  local pid me=$BASHPID stat cmd envs joined
  for pid in $(pgrep -d ' ' .); do
    [[ $pid == "$$" || $pid == "$me" ]] && continue
    read -r -a stat 2>/dev/null <"/proc/$pid/stat" || continue
    [[ ${stat[3]} == "$me" ]] && continue # this function's own pgrep
    mapfile -d '' -t cmd 2>/dev/null <"/proc/$pid/cmdline" || cmd=()
    mapfile -d '' -t envs 2>/dev/null <"/proc/$pid/environ" || envs=()
    printf -v joined '\n%s' "${envs[@]}" # no fork per process
    if [[ " ${cmd[*]} " == *"$1/"* || $joined$'\n' == *$'\n'"SLURM_CONF=$1/slurm.conf"$'\n'* ]]; then
      echo "$pid ${cmd[*]}"
    fi
  done
  return 0
}

csv_rows_ok() { # FILE -> "ROWS OKROWS" (status column found by its header name)
  awk '
    function split_csv(line, f,   n, i, c, q, cur) { # RFC 4180, one line
      n = 0; cur = ""; q = 0
      for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (q) {
          if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ } else q = 0 }
          else cur = cur c
        } else if (c == "\"") q = 1
        else if (c == ",") { f[++n] = cur; cur = "" }
        else cur = cur c
      }
      f[++n] = cur
      return n
    }
    NR == 1 { n = split_csv($0, h); for (i = 1; i <= n; i++) if (h[i] == "status") col = i; next }
    { split_csv($0, f); rows++; if (col && f[col] == "ok") ok++ }
    END { if (!col) { print "no-status-column"; exit } print rows + 0, ok + 0 }
  ' "$1"
}

# ---- 1. the cluster ----------------------------------------------------------
step "start a one-node cluster under $cluster"
started=1
eval "$("$root/scripts/slurm-cluster.sh" start "$cluster")"
[[ -n ${SLURM_CONF:-} && -f $SLURM_CONF ]] || fail "slurm-cluster.sh start printed no usable 'export SLURM_CONF=...'"
host=$(hostname)
sinfo -h -N -o '   node %N: %T, features %f, %c CPUs'
step_done

fleet="$tmp/fleet"
sweep() { # OUTPUT_FILE SWEEP_ARGS...: runs slurm-sweep.sh, shows its output, returns its exit code
  local out=$1 rc=0
  shift
  timeout 150 "$root/scripts/slurm-sweep.sh" --wait --wait-timeout 120 --out-dir "$fleet" "$@" \
    >"$out" 2>&1 || rc=$?
  sed 's/^/   | /' "$out"
  return $rc
}
# One pass: what is tested is the sweep, not the timing (36 s for the step
# against 50 s with the default three passes).
# shellcheck disable=SC2054 # commas inside arguments
run_args=(--device pocl --model linreg --batch 1,8 --max-time 0.2 --passes 1)

# ---- 2. one task per node feature, both fine -----------------------------------
step "slurm-sweep.sh --wait --constraint epyc,typeb --clbatch $clbatch"
rc=0
sweep "$tmp/sweep1.txt" --constraint epyc,typeb --clbatch "$clbatch" -- "${run_args[@]}" || rc=$?
check "exit code of the sweep whose tasks all succeed" 0 "$rc"
out=$(cat "$tmp/sweep1.txt")
shopt -s nullglob
csvs=("$fleet"/*[0-9].csv) # not clbatch's FILE.recommend.csv
configs=("$fleet"/*.config)
shopt -u nullglob
check "CSVs in $fleet after two tasks" 2 "${#csvs[@]}"
check ".config files in $fleet after two tasks" 2 "${#configs[@]}"
for type in epyc typeb; do
  config=$(grep -l "^# node type: $type; host: $host\$" "${configs[@]}" || true)
  [[ -n $config ]] || fail "a .config with '# node type: $type; host: $host': found none among ${configs[*]}"
  text=$(cat "$config")
  check_has "task $type's status" "$config" "$text" $'\n# status: ok'
  check_has "task $type's command" "$config" "$text" "# command: $clbatch run --device pocl"
  check_has "task $type's .config (clbatch's own lines)" "$config" "$text" $'\nbatch = 1,8\n'
  csv="${config%.config}.csv"
  [[ -f $csv ]] || fail "task $type: expected $csv beside $config; it is missing"
  read -r rows ok <<<"$(csv_rows_ok "$csv")"
  check "rows in $csv (batch 1,8)" 2 "$rows"
  check "rows with status ok in $csv" 2 "$ok"
  line=$(grep -E "^$type +$host +ok +2 rows +$csv\$" <<<"$out" || true)
  [[ -n $line ]] || fail "slurm-sweep --wait: expected a line '$type $host ok 2 rows $csv'; its output is above"
done
# The comment lines leave the .config what clbatch made it: a file that
# `clbatch run --config` reads back.
"$clbatch" run --config "${configs[0]}" --batch 1 --min-time 0.05 --max-time 0.05 --quiet \
  --out "$tmp/rerun/rerun.csv" >"$tmp/rerun.txt" 2>&1 \
  || { cat "$tmp/rerun.txt" >&2; fail "clbatch run --config ${configs[0]}: expected exit 0 (output above)"; }
first_files=("${csvs[@]}" "${configs[@]}")
step_done

# ---- 2b. a second cluster that cannot start leaves nothing running ----------------
step "a second cluster on the first one's slurmctld port must fail to start, cleanly"
ctld_port=$(sed -n 's/^SlurmctldPort=//p' "$SLURM_CONF")
rc=0
CLB_SLURMCTLD_PORT=$ctld_port CLB_SLURM_START_TIMEOUT=30 \
  "$root/scripts/slurm-cluster.sh" start "$tmp/cluster2" >"$tmp/cluster2.txt" 2>&1 || rc=$?
check "exit code of a start whose slurmctld cannot bind its port" 1 "$rc"
check_has "the failed start's message" "its output" "$(cat "$tmp/cluster2.txt")" "slurmctld exited"
left=$(cluster_procs "$tmp/cluster2")
check "daemons of the failed cluster still running" "" "$left"
check "files in $tmp/cluster2/run after the failed start" "" "$(ls -A "$tmp/cluster2/run")"
check "the first cluster's node after the failed start" idle "$(sinfo -h -n "$(hostname -s)" -o %T)"
sha_before=$(sha256sum -- "${first_files[@]}")
step_done

# ---- 3. the same sweep where one node type's clbatch fails -----------------------
# A wrapper adds an invalid option on typeb nodes only, so clbatch itself
# refuses (exit 2) with its own message.
wrapper="$tmp/clbatch-typeb-fails"
cat >"$wrapper" <<EOF
#!/bin/sh
if [ "\$CLBATCH_NODE_TYPE" = typeb ]; then exec $(printf '%q' "$clbatch") "\$@" --batch 0; fi
exec $(printf '%q' "$clbatch") "\$@"
EOF
chmod +x "$wrapper"
expected_error="clbatch run: --batch: 0 is below the minimum 1"
step "slurm-sweep.sh --wait --constraint epyc,typeb where typeb's clbatch fails"
rc=0
sweep "$tmp/sweep2.txt" --constraint epyc,typeb --clbatch "$wrapper" -- "${run_args[@]}" || rc=$?
[[ $rc -ne 0 ]] || fail "exit code of a sweep with a failed task: expected non-zero, found 0"
out=$(cat "$tmp/sweep2.txt")
line=$(grep -E "^typeb +$host +failed +0 rows +\(exit 2\): " <<<"$out" || true)
[[ -n $line ]] || fail "slurm-sweep --wait: expected a line 'typeb $host failed 0 rows (exit 2): ...'; its output is above"
check_has "the failed task's reason" "slurm-sweep's line" "$line" "$expected_error"
check_has "the failure summary" "slurm-sweep's output" "$out" "1 of 2 task(s) failed"
grep -qE "^epyc +$host +ok +2 rows " <<<"$out" \
  || fail "slurm-sweep --wait: expected the epyc task of the same sweep as 'epyc $host ok 2 rows ...'; output above"
failed_config=$(grep -l '^# status: failed' "$fleet"/*.config || true)
check "number of .config files with '# status: failed'" 1 "$(grep -c . <<<"$failed_config")"
check_has "the failed task's .config" "$failed_config" "$(cat "$failed_config")" \
  "# status: failed (exit 2): $expected_error"
[[ ! -e ${failed_config%.config}.csv ]] || fail "the failed task: expected no CSV, found ${failed_config%.config}.csv"
stderr_log="$fleet/logs/$(basename "${failed_config%.config}").stderr"
check_has "the failed task's kept stderr" "$stderr_log" "$(cat "$stderr_log" 2>/dev/null)" "$expected_error"
sha_after=$(sha256sum -- "${first_files[@]}" 2>&1 || true)
check "checksums of the first sweep's files after the second" "$sha_before" "$sha_after"
rc=0
"$root/scripts/slurm-sweep.sh" --status --out-dir "$fleet" >"$tmp/status.txt" 2>&1 || rc=$?
sed 's/^/   | /' "$tmp/status.txt"
check "exit code of slurm-sweep.sh --status with a failed task" 1 "$rc"
check "'ok' lines of slurm-sweep.sh --status" 3 "$(grep -cE "^(epyc|typeb) +$host +ok " "$tmp/status.txt" || true)"
check "'failed' lines of slurm-sweep.sh --status" 1 "$(grep -cE "^typeb +$host +failed +0 rows +\(exit 2\)" "$tmp/status.txt" || true)"
step_done

# ---- 3b. without --clbatch: the node's PATH, else a clear failure -------------------
# A copy of slurm-sweep.sh outside the checkout has no build/clbatch to fall
# back on, so the node's PATH decides.
mkdir -p "$tmp/elsewhere/scripts" "$tmp/bin"
cp "$root/scripts/slurm-sweep.sh" "$tmp/elsewhere/scripts/"
ln -s "$clbatch" "$tmp/bin/clbatch"
path_without=$(tr ':' '\n' <<<"$PATH" | while read -r d; do [[ -x $d/clbatch ]] || echo "$d"; done | paste -sd:)
step "slurm-sweep.sh --wait without --clbatch, clbatch on the PATH"
rc=0
PATH="$tmp/bin:$path_without" timeout 150 "$tmp/elsewhere/scripts/slurm-sweep.sh" --wait --wait-timeout 120 \
  --out-dir "$tmp/path" --constraint epyc -- "${run_args[@]}" >"$tmp/sweep-path.txt" 2>&1 || rc=$?
sed 's/^/   | /' "$tmp/sweep-path.txt"
check "exit code of the sweep that finds clbatch on the PATH" 0 "$rc"
config=$(echo "$tmp"/path/*.config)
check_has "the task's command" "$config" "$(cat "$config")" "# command: $tmp/bin/clbatch run --device pocl"
step_done
step "slurm-sweep.sh --wait without --clbatch and no clbatch anywhere"
rc=0
PATH="$path_without" timeout 150 "$tmp/elsewhere/scripts/slurm-sweep.sh" --wait --wait-timeout 120 \
  --out-dir "$tmp/nopath" --constraint typeb -- "${run_args[@]}" >"$tmp/sweep-nopath.txt" 2>&1 || rc=$?
sed 's/^/   | /' "$tmp/sweep-nopath.txt"
check "exit code of the sweep whose node has no clbatch" 1 "$rc"
check_has "the task's line" "slurm-sweep's output" "$(cat "$tmp/sweep-nopath.txt")" \
  "(exit 127): no clbatch on $host: not on PATH (see the Slurm log) and no $tmp/elsewhere/build/clbatch"
step_done

# ---- 4. a task that hangs is cancelled by --wait-timeout ---------------------------
hang="$tmp/clbatch-hangs"
printf '#!/bin/sh\ntouch %q\necho "clbatch stand-in: hanging" >&2\nexec sleep 600\n' "$tmp/hang-started" >"$hang"
chmod +x "$hang"
step "slurm-sweep.sh --wait --wait-timeout 8 with a clbatch that hangs"
rc=0
started_wait=$SECONDS
timeout 90 "$root/scripts/slurm-sweep.sh" --wait --wait-timeout 8 --out-dir "$tmp/hang" \
  --constraint epyc --clbatch "$hang" -- --device pocl >"$tmp/sweep3.txt" 2>&1 || rc=$?
sed 's/^/   | /' "$tmp/sweep3.txt"
[[ $rc -ne 0 && $rc -ne 124 ]] || fail "exit code of a sweep whose task hangs: expected 1, found $rc"
out=$(cat "$tmp/sweep3.txt")
line=$(grep -E "^epyc +[^ ]+ +failed +0 rows +cancelled after --wait-timeout 8s: " <<<"$out" || true)
[[ -n $line ]] || fail "slurm-sweep --wait: expected a line 'epyc HOST failed 0 rows cancelled after --wait-timeout 8s: ...'; its output is above"
if [[ -e $tmp/hang-started ]]; then # the stand-in ran: the batch script's SIGTERM trap wrote why
  check_has "the hung task's reason" "its line" "$line" "(exit 143): stopped by SIGTERM"
  check_has "the hung task's reason" "its line" "$line" "clbatch stand-in: hanging"
else
  echo "   (the task had not started within 8s; only the cancellation is checked)"
fi
squeue_left=$(squeue -h -t PD,R,CG -o '%i %T' || true)
check "jobs still queued after the cancelled sweep" "" "$squeue_left"
echo "   --wait-timeout returned after $((SECONDS - started_wait))s"
step_done

# ---- 5. merge the successful tasks ----------------------------------------------
shopt -s nullglob
csvs=("$fleet"/*[0-9].csv)
shopt -u nullglob
check "CSVs in $fleet (two sweeps: 3 tasks ok, 1 failed without a CSV)" 3 "${#csvs[@]}"
# The README's glob, which also hands report each task's .recommend.csv and
# .passes.csv: report must skip those with a note and merge the results.
step "clbatch report $fleet/*.csv --out $tmp/report"
"$clbatch" report "$fleet"/*.csv --out "$tmp/report" >"$tmp/report.txt" 2>&1 \
  || { cat "$tmp/report.txt" >&2; fail "clbatch report $fleet/*.csv: expected exit 0 (output above)"; }
grep -v '^wrote ' "$tmp/report.txt" | sed 's/^/   | /'
md="$tmp/report/report.md"
[[ -s $md ]] || fail "clbatch report: expected $md, found $(cd "$tmp/report" && echo *)"
check_has "the merged report" "$md" "$(cat "$md")" "from ${#csvs[@]} file(s)"
check_has "the merged report" "$md" "$(cat "$md")" "$host"
check_has "the merged report states how runs of one host merge" "$md" "$(cat "$md")" "newest wins"
html=$(cat "$tmp/report/report.html")
for csv in "${csvs[@]}"; do
  check_has "report.md's sources name each task's CSV" "$md" "$(cat "$md")" "| $csv "
  check_has "report.html names each task's .config" "report.html" "$html" "${csv%.csv}.config"
  check_has "report.md's sources give each task's command" "$md" "$(cat "$md")" \
    "$(sed -n 's/^# command: //p' "${csv%.csv}.config" | cut -c1-60)"
done
step_done

# ---- 6. stop the cluster: nothing of it may be left -----------------------------
step "stop the cluster"
pids=$(cat "$cluster"/run/*.pid 2>/dev/null | tr '\n' ' ')
"$root/scripts/slurm-cluster.sh" stop "$cluster"
started=0
for pid in $pids; do
  [[ ! -d /proc/$pid ]] || fail "daemon pid $pid: expected gone after stop, found $(tr '\0' ' ' <"/proc/$pid/cmdline")"
done
left=$(cluster_procs "$cluster")
check "processes of the test cluster after stop" "" "$left"
step_done
