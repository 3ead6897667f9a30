# Sourced by run.sh and test.sh: where PoCL keeps its compiled kernels, so a
# kernel is compiled once and every later test or run reuses it.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clbatch/pocl}"
mkdir -p "$POCL_CACHE_DIR"
