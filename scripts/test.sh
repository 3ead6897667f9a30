#!/usr/bin/env bash
# The README's second command: set up (with the checkers CI also runs), build,
# then the whole test suite via ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --dev
. scripts/env.sh
ctest --test-dir build --output-on-failure "$@"
