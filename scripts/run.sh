#!/usr/bin/env bash
# The README's first command: set up, build, describe and benchmark every device.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh
./build/clbatch devices
