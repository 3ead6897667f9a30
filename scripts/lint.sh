#!/usr/bin/env bash
# Static analysis of src/: clang-tidy with the checks of .clang-tidy (through
# the compile_commands.json of build/) and cppcheck with the false positives
# of .cppcheck-suppressions. Any finding fails.
# Usage: scripts/lint.sh [BUILD_DIR]   (default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
for tool in clang-tidy cppcheck; do
  command -v "$tool" >/dev/null || { echo "lint: $tool is not installed (scripts/setup.sh)" >&2; exit 1; }
done
# The compile database; configuring again only rewrites it.
cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
# clang-tidy needs the generated kernel source that compile_commands names.
cmake --build "$build" --target clbatch_core -j "$(nproc)" >/dev/null

echo "lint: cppcheck"
cppcheck --enable=warning,performance,portability --std=c11 --error-exitcode=1 --inline-suppr \
  --suppressions-list=.cppcheck-suppressions -q -Isrc -DCL_TARGET_OPENCL_VERSION=120 \
  -D_POSIX_C_SOURCE=200809L -DCLBATCH_VERSION=\"lint\" src/

echo "lint: clang-tidy ($(nproc) jobs)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! find src -name '*.c' | sort | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet >"$log" 2>&1; then
  grep -E "(warning|error):" "$log" >&2 || cat "$log" >&2
  echo "lint: clang-tidy found problems" >&2
  exit 1
fi
echo "lint: clean"
