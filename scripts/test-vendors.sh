#!/usr/bin/env bash
# The whole suite against Intel's CPU runtime instead of PoCL, with PoCL,
# Intel's runtime and Oclgrind's simulated device all registered at once:
# every test must pick its own device whatever else the loader lists.
# Usage: scripts/test-vendors.sh [CTEST_ARGS...]   (after scripts/setup.sh --dev)
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
# Left out: test_vendors compares PoCL and Intel's runtime whichever is the
# test device, so the first run of the suite covers it; test_report renders
# saved CSVs and opens no device; test_tune's device tests run a search, which
# on Intel's runtime compiles CLBlast in every child process (34 s), while
# test_vendors already tunes on both vendors. Together about 100 s.
# test_passes combines the rows of several worker processes; the device work
# in each is test_run's, and on Intel's runtime each pass compiles CLBlast
# again (88 s with -j2 on 2 cores).
# Left out within test_run: its two `run --tune` cases. Each tuner child
# compiles CLBlast again on Intel's runtime (72 s of test_run's 178 s there);
# test_vendors already tunes on Intel's runtime and checks that the run after
# it uses the stored parameters, and what the `tuned` column says is decided
# above the runtime. CRITERION_TEST_PATTERN set by the caller wins.
export CRITERION_TEST_PATTERN="${CRITERION_TEST_PATTERN:-!(run/tune_first_tunes_untuned_devices_then_runs|run/rows_say_whether_tuned_parameters_were_used)}"
ctest --test-dir build --output-on-failure -E '^(test_vendors|test_report|test_tune|test_passes)$' "$@"
