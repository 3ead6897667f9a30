#!/usr/bin/env bash
# The suite's runtime-dependent tests against Intel's CPU runtime instead of
# PoCL, with PoCL, Intel's runtime and Oclgrind's simulated device all
# registered at once: every test must pick its own device whatever else the
# loader lists.
# Usage: scripts/test-vendors.sh [--all] [CTEST_ARGS...]   (after scripts/setup.sh --dev)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
[ -f .vendors/intel-cpu/intel-cpu.icd ] || { echo "test-vendors: run scripts/setup.sh --dev first" >&2; exit 1; }
oclgrind_icd=/usr/lib/oclgrind/liboclgrind-rt-icd.so
[ -f "$oclgrind_icd" ] || { echo "test-vendors: Oclgrind is not installed (scripts/setup.sh --dev)" >&2; exit 1; }
icd=$(mktemp -d)
trap 'rm -rf "$icd"' EXIT
cp "$OCL_ICD_VENDORS"/*.icd "$icd/"
echo "$oclgrind_icd" >"$icd/oclgrind.icd"
export OCL_ICD_VENDORS="$icd"
export CLBATCH_TEST_DEVICE=platform:intel
./build/clbatch devices | grep -E '^Platform|^\s+\[' 
# What runs: the tests whose numbers or device behaviour depend on the
# runtime (CLBlast's kernels and clbatch's own on each model, precision and
# GEMM path; the noise statistics; the launch floor; device selection and
# description), and of test_run the rows a real sweep writes, the JSON
# device description and an out-of-memory row. The rest of the suite drives
# the same code through the CLI whatever the runtime is, and on Intel's
# runtime every process compiles CLBlast again (no kernel cache across
# processes): the whole suite took 262 s here on a 2-core AMD EPYC (Zen 3)
# VM, this part 104 s. test_vendors, in the first run of the suite,
# compares the two runtimes on every model and precision and runs `run`,
# `tune` and `peak` on both. --all runs the whole suite, as before.
# CRITERION_TEST_PATTERN set by the caller wins.
if [ "${1:-}" = "--all" ]; then
  shift
  # Even then left out: what compiles CLBlast in every child on Intel's
  # runtime (test_tune's search, test_passes' worker processes, test_run's
  # two `run --tune` cases: 34, 88 and 72 s), test_report (opens no device)
  # and test_vendors (the first run of the suite covers it).
  export CRITERION_TEST_PATTERN="${CRITERION_TEST_PATTERN:-!(run/tune_first_tunes_untuned_devices_then_runs|run/rows_say_whether_tuned_parameters_were_used)}"
  exec ctest --test-dir build --output-on-failure -E '^(test_vendors|test_report|test_tune|test_passes)$' "$@"
fi
ctest --test-dir build --output-on-failure \
  -R '^(test_blas|test_model|test_noise|test_launch_count|test_measure|test_platform|test_cli_devices)$' "$@"
CRITERION_TEST_PATTERN="${CRITERION_TEST_PATTERN:-@(run/csv_has_schema_columns_and_positive_rates|run/json_carries_every_column_and_the_device_description|run/allocation_failure_is_an_oom_row_and_the_sweep_goes_on)}" \
  ctest --test-dir build --output-on-failure -R '^test_run$' "$@"
