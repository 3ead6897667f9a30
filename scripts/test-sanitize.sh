#!/usr/bin/env bash
# Builds clbatch and its tests with AddressSanitizer + UBSan (CLBATCH_SANITIZE)
# into build-asan/ and runs the test suite there.
# Usage: scripts/test-sanitize.sh [CTEST_ARGS...]   e.g. -E 'test_run|test_train'
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLBATCH_WERROR=$werror \
  -DCLBATCH_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$(nproc)"
# detect_leaks: LeakSanitizer on, with the driver-only suppressions of
# tests/lsan.supp. PoCL compiles kernels with LLVM inside the process and
# dlopen()s its device driver: fast_unwind_on_malloc=0 gives the full stacks
# the suppressions match on; abort_on_error=0 keeps exit codes (a report is
# exitcode 23, not a signal Criterion would count as a crash).
# Criterion's workers fork: print the report of each child to stderr.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:detect_stack_use_after_return=0:check_initialization_order=1:fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=24${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
ctest --test-dir build-asan --output-on-failure "$@"
