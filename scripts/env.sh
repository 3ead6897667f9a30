# Sourced by run.sh and test.sh (and by hand: `. scripts/env.sh`).
#
# Where PoCL keeps its compiled kernels, so a kernel is compiled once and every
# later test or run reuses it.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clbatch/pocl}"
mkdir -p "$POCL_CACHE_DIR"

# Vendors installed by scripts/install-vendor.sh live in .vendors/NAME/ with
# an .icd file each. The ICD loader reads one folder (OCL_ICD_VENDORS, else
# /etc/OpenCL/vendors), so build .vendors/icd/ from the system's (or the
# caller's) .icd files plus ours: the system's drivers stay visible.
# CLBATCH_NO_VENDORS=1 leaves the loader's own set (e.g. PoCL alone).
clb_env_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clb_env_icd="$clb_env_root/.vendors/icd"
if [ -z "${CLBATCH_NO_VENDORS:-}" ] && compgen -G "$clb_env_root/.vendors/*/*.icd" >/dev/null; then
  clb_env_base=/etc/OpenCL/vendors
  if [ -d "${OCL_ICD_VENDORS:-}" ] && [ "$(cd "$OCL_ICD_VENDORS" && pwd)" != "$clb_env_icd" ]; then
    clb_env_base="$OCL_ICD_VENDORS"
  fi
  rm -rf "$clb_env_icd"
  mkdir -p "$clb_env_icd"
  cp "$clb_env_base"/*.icd "$clb_env_icd/" 2>/dev/null || true
  for clb_env_file in "$clb_env_root"/.vendors/*/*.icd; do
    [ "$(dirname "$clb_env_file")" = "$clb_env_icd" ] || cp "$clb_env_file" "$clb_env_icd/"
  done
  export OCL_ICD_VENDORS="$clb_env_icd"
  # Tests that compare vendors require the ones installed here (tests/helpers.c).
  CLBATCH_TEST_VENDORS="$(cd "$clb_env_root/.vendors" && ls -d */ | tr -d / | grep -vx icd | tr '\n' ' ')"
  export CLBATCH_TEST_VENDORS="${CLBATCH_TEST_VENDORS% }"
fi
unset clb_env_root clb_env_icd clb_env_base clb_env_file
