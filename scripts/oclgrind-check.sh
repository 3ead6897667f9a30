#!/usr/bin/env bash
# Runs the project's own kernels (kernels/step.cl, kernels/peak.cl; not
# CLBlast's) under Oclgrind with its out-of-bounds, API, data-race and
# uninitialised-value checks, on awkward shapes (rows 1, 7, 61 x cols 1, 3, 67:
# single rows, primes, partial work-groups), launched as src/model/model.c launches
# them. Fails on any Oclgrind report or any mismatch with the host reference.
# Usage: scripts/oclgrind-check.sh [BUILD_DIR]   (default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
command -v oclgrind >/dev/null || { echo "oclgrind-check: oclgrind is not installed (scripts/setup.sh)" >&2; exit 1; }
[ -x "$build/oclgrind_driver" ] || cmake --build "$build" --target oclgrind_driver >/dev/null
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Oclgrind has no -Werror: its reports go to the log, and any report fails the check.
status=0
oclgrind --check-api --data-races --uninitialized --log "$log" \
  "$build/oclgrind_driver" "$PWD/kernels" || status=$?
if [ -s "$log" ]; then
  echo "oclgrind-check: Oclgrind reported errors in the project's kernels:" >&2
  head -n 200 "$log" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "oclgrind-check: the kernels' results differ from the host reference (exit $status)" >&2
  exit 1
fi
echo "oclgrind-check: no Oclgrind errors"
