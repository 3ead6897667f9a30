#!/usr/bin/env bash
# A throw-away one-node Slurm cluster on this host, entirely under DIR, for
# testing scripts/slurm-sweep.sh against a real slurmctld and slurmd
# (scripts/test-slurm.sh). Needs root and Debian's slurmctld, slurmd,
# slurm-client and munge packages; starts no system service and touches
# nothing outside DIR.
#
#   scripts/slurm-cluster.sh start DIR   start munged, slurmctld and slurmd, wait
#                                        until the node is idle, then print
#                                        `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm-cluster.sh stop DIR    cancel this cluster's jobs, stop the
#                                        daemons that `start DIR` started (by
#                                        their pid files) and wait for them;
#                                        safe to repeat or after a failed start
#
# The node is `$(hostname -s)` with the CPUs and memory `slurmd -C` reports,
# node features epyc,typeb (two stand-ins for node types) and one partition,
# debug. Ports are free ones picked at start (CLB_SLURMCTLD_PORT and
# CLB_SLURMD_PORT override), so two clusters can run side by side.
# CLB_SLURM_START_TIMEOUT (default 60) bounds the wait for the idle node.
# A failed start prints the daemons' log tails, stops what it started and
# exits 1.
set -euo pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

if [[ $# -ne 2 || ( $1 != start && $1 != stop ) ]]; then
  usage >&2
  exit 2
fi
action=$1
dir=$2
daemons=(munged slurmctld slurmd)

log() { echo "slurm-cluster: $*" >&2; }

# The pid in DIR/run/NAME.pid when that process is alive and still is NAME
# (a pid file left over from an earlier run may name a reused pid).
live_pid() {
  local name=$1 file="$dir/run/$1.pid" pid comm
  [[ -r $file ]] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [[ -n $pid ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == "$name" ]] || return 1
  echo "$pid"
}

# slurmstepd processes of this cluster only: slurmd hands its environment,
# SLURM_CONF=DIR/slurm.conf included, to the slurmstepd it starts.
our_stepds() {
  local p
  for p in $(pgrep -x slurmstepd); do
    grep -qzxF "SLURM_CONF=$conf" "/proc/$p/environ" 2>/dev/null && echo "$p"
  done
  return 0
}
# Those and the processes of this cluster's jobs (SLURM_JOB_ID and this
# SLURM_CONF in their environment, as --export=ALL passes it on).
our_job_procs() {
  local p envs joined comm
  for p in $(pgrep -d ' ' .); do
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    mapfile -d '' -t envs 2>/dev/null <"/proc/$p/environ" || continue
    printf -v joined '\n%s' "${envs[@]}" # no fork per process
    [[ $joined$'\n' == *$'\n'"SLURM_CONF=$conf"$'\n'* ]] || continue
    read -r comm 2>/dev/null <"/proc/$p/comm" || continue
    if [[ $comm == slurmstepd || $joined == *$'\n'SLURM_JOB_ID=* ]]; then
      echo "$p"
    fi
  done
  return 0
}

# Sends SIGTERM, waits up to $2 seconds, then SIGKILL, and waits again.
stop_pids() {
  local what=$1 wait_s=$2
  shift 2
  local pids=("$@") p alive i
  [[ ${#pids[@]} -gt 0 ]] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < wait_s * 10; i++)); do
    alive=()
    for p in "${pids[@]}"; do [[ -d /proc/$p ]] && alive+=("$p"); done
    [[ ${#alive[@]} -eq 0 ]] && return 0
    sleep 0.1
  done
  log "$what (pid ${alive[*]}) still running after ${wait_s}s: SIGKILL"
  kill -KILL "${alive[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive=()
    for p in "${pids[@]}"; do [[ -d /proc/$p ]] && alive+=("$p"); done
    [[ ${#alive[@]} -eq 0 ]] && return 0
    sleep 0.1
  done
  log "$what (pid ${alive[*]}) did not exit"
  return 1
}

stop_cluster() {
  local name pid rc=0 i
  conf="$dir/slurm.conf"
  if [[ -f $conf ]] && live_pid slurmctld >/dev/null && live_pid slurmd >/dev/null; then
    # Running jobs first, so no slurmstepd outlives its slurmd.
    SLURM_CONF=$conf timeout 10 scancel --quiet --user=root 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      [[ -z $(our_stepds) ]] && break
      sleep 0.1
    done
  fi
  # slurmd and slurmctld together (each takes a few seconds), munged last.
  local pids=() names=()
  for name in slurmd slurmctld; do
    if pid=$(live_pid "$name"); then
      pids+=("$pid")
      names+=("$name")
    fi
  done
  stop_pids "${names[*]:-slurm daemons}" 15 "${pids[@]}" || rc=1
  rm -f "$dir/run/slurmd.pid" "$dir/run/slurmctld.pid"
  if pid=$(live_pid munged); then
    stop_pids munged 15 "$pid" || rc=1
  fi
  rm -f "$dir/run/munged.pid" "$dir/run/slurmctld.daemon.pid" "$dir/run/slurmd.daemon.pid"
  if [[ -f $conf ]]; then
    local left
    mapfile -t left < <(our_job_procs)
    if [[ ${#left[@]} -gt 0 ]]; then
      log "stopping what this cluster's jobs left running (pid ${left[*]})"
      stop_pids "slurmstepd and job processes" 5 "${left[@]}" || rc=1
    fi
  fi
  return $rc
}

if [[ $action == stop ]]; then
  [[ -d $dir ]] || exit 0
  dir=$(cd "$dir" && pwd)
  stop_cluster
  exit
fi

# ---- start ----------------------------------------------------------------
for tool in munged mungekey munge unmunge slurmctld slurmd sinfo scancel ss; do
  command -v "$tool" >/dev/null 2>&1 || { log "$tool not found (apt-get install slurmctld slurmd slurm-client munge iproute2)"; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { log "needs root (SlurmUser=root, SlurmdUser=root)"; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf="$dir/slurm.conf"
for name in "${daemons[@]}"; do
  if pid=$(live_pid "$name"); then
    log "$name (pid $pid) of a cluster in $dir is still running: run '$0 stop $dir' first"
    exit 1
  fi
done

show_logs() {
  local f
  for f in "$dir"/log/*.log; do
    [[ -f $f ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 20 "$f" >&2
  done
}
fail() {
  log "start failed: $*"
  show_logs
  stop_cluster || true
  exit 1
}
trap 'fail "a command failed at line $LINENO"' ERR
trap 'fail "interrupted"' INT TERM

start_s=$SECONDS
mkdir -p "$dir/munge" "$dir/run" "$dir/log" "$dir/state" "$dir/spool"
# munged refuses a socket folder others may write to, and a key others may read.
chmod 755 "$dir" "$dir/munge"
chmod 700 "$dir/state" "$dir/spool"

key="$dir/munge/munge.key"
socket="$dir/munge/munge.socket"
[[ -f $key ]] || mungekey --create --keyfile="$key" >/dev/null 2>&1 \
  || { dd if=/dev/urandom of="$key" bs=1024 count=1 status=none; }
chmod 400 "$key"

munged --foreground --force --socket="$socket" --key-file="$key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/munged.seed" </dev/null >>"$dir/log/munged.log" 2>&1 &
echo $! >"$dir/run/munged.pid"
for ((i = 0; i < 100; i++)); do
  [[ -S $socket ]] && break
  live_pid munged >/dev/null || fail "munged exited"
  sleep 0.1
done
[[ -S $socket ]] || fail "munged made no socket $socket within 10s"
munge --socket="$socket" --no-input 2>/dev/null | unmunge --socket="$socket" >/dev/null 2>&1 \
  || fail "munge credentials do not round-trip through $socket"

# Two free TCP ports, away from Slurm's defaults (6817/6818) a real
# installation on this host may use.
port_free() { [[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }
pick_port() {
  local p tries
  for ((tries = 0; tries < 200; tries++)); do
    p=$((20000 + RANDOM % 30000))
    [[ $p == "${1:-}" ]] && continue
    port_free "$p" && { echo "$p"; return 0; }
  done
  return 1
}
ctld_port=${CLB_SLURMCTLD_PORT:-$(pick_port)}
slurmd_port=${CLB_SLURMD_PORT:-$(pick_port "$ctld_port")}

host=$(hostname -s)
# The node as slurmd sees it (CPUs, sockets, cores, threads, memory), so the
# controller never drains it for a mismatch.
node_line=$(slurmd -C 2>/dev/null | grep -m1 '^NodeName=') || fail "slurmd -C printed no NodeName line"
node_line=${node_line#NodeName=* }
[[ $node_line == *CPUs=* ]] || node_line="CPUs=$(nproc) $node_line"
[[ $node_line == *RealMemory=* ]] || node_line="$node_line RealMemory=1"

cat >"$conf" <<CONF
# One-node test cluster written by scripts/slurm-cluster.sh; everything under $dir.
ClusterName=clbatchtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.daemon.pid
SlurmdPidFile=$dir/run/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 $node_line Features=epyc,typeb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$conf

# -D: in the foreground of a background job, so $! is the daemon's pid; -i
# ignores state a previous cluster in DIR saved.
slurmctld -D -i -f "$conf" </dev/null >>"$dir/log/slurmctld.out" 2>&1 &
echo $! >"$dir/run/slurmctld.pid"
slurmd -D -f "$conf" </dev/null >>"$dir/log/slurmd.out" 2>&1 &
echo $! >"$dir/run/slurmd.pid"

timeout_s=${CLB_SLURM_START_TIMEOUT:-60}
state=""
while ((SECONDS - start_s < timeout_s)); do
  for name in munged slurmctld slurmd; do
    live_pid "$name" >/dev/null || fail "$name exited (see $dir/log/$name.log)"
  done
  state=$(timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null | head -n1) || state=""
  [[ $state == idle ]] && break
  sleep 0.5
done
[[ $state == idle ]] || fail "node $host is '${state:-not listed}', not idle, after ${timeout_s}s"
trap - ERR INT TERM
log "node $host idle after $((SECONDS - start_s))s (slurmctld port $ctld_port, slurmd port $slurmd_port)"
echo "export SLURM_CONF=$(printf '%q' "$conf")"
