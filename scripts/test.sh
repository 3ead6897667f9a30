#!/usr/bin/env bash
# The README's second command: set up (with the checkers CI also runs), build,
# then the whole test suite via ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --dev
. scripts/env.sh
# Two test binaries at a time, as the vendor and sanitizer passes run: PoCL
# compiles a kernel on one core, so a test that compiles leaves the other core
# to its neighbour. Later arguments win (-j1 for one at a time).
ctest --test-dir build --output-on-failure -j2 "$@"
