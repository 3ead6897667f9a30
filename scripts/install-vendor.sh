#!/usr/bin/env bash
# Installs an extra OpenCL vendor runtime into the project-local, git-ignored
# prefix .vendors/NAME/ and writes its .icd file there. Nothing is written under
# /etc: scripts/env.sh registers every .vendors/*/*.icd for clbatch, next to the
# system's own drivers, through OCL_ICD_VENDORS. Running it again is a no-op.
#
#   scripts/install-vendor.sh intel-cpu   Intel's oneAPI OpenCL CPU runtime (PyPI)
#   scripts/install-vendor.sh --list      what can be installed
set -euo pipefail
cd "$(dirname "$0")/.."

# Intel's CPU runtime is not packaged by Debian; Intel publishes it on PyPI.
# Versions and hashes are pinned so every machine benchmarks the same runtime.
INTEL_WHEELS=(
  "intel-opencl-rt==2026.2.0 --hash=sha256:6b6215a420598b4999ee01caca6d5cbe106aa4155c46c52377619c5aafce9f67"
  "intel-cmplr-lib-rt==2026.2.0 --hash=sha256:9f713083073a820d2496a6da8e8d4f3482aba6640f74521d25ea48dcebe72748"
  "tbb==2023.2.0 --hash=sha256:7d80615b6e970f11671fa05b6eaa9483ac864fbfe525ac280271a78b37870b7c"
)
INTEL_STAMP="intel-opencl-rt 2026.2.0, intel-cmplr-lib-rt 2026.2.0, tbb 2023.2.0"

# The files the runtime loads (seen with strace on a kernel build and run):
# the ICD library, its compiler, TBB, Intel's math libraries, the built-in
# kernel libraries and vector math per instruction set (all sets are kept, as
# the runtime picks one for the host's CPU), and its configuration file.
# Left out: Intel's own libOpenCL.so (it would shadow the system's loader),
# the LTO plug-in, tracing and the TBB binding/proxy libraries.
INTEL_FILES_REGEX='^(libintelocl\.so|libcommon_clang\.so\.[0-9.]+|libtbb\.so\.12|libtbbmalloc\.so\.2|libimf\.so|libsvml\.so|libirng\.so|libintlc\.so\.5|clbltfn[a-z0-9]+\.rtl|cllibrary[a-z0-9]*\.(rtl|o)|libocl_svml_[a-z0-9]+\.so|cl\.cfg)$'

need_root_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-vendor: need root (or sudo) to install: $*" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

install_intel_cpu() {
  local prefix=.vendors/intel-cpu
  # Installed already, at this path (the .icd file names the library absolutely).
  if [ -f "$prefix/installed" ] && [ "$(cat "$prefix/installed")" = "$INTEL_STAMP" ] &&
    [ "$(cat "$prefix/intel-cpu.icd" 2>/dev/null)" = "$PWD/$prefix/lib/libintelocl.so" ]; then
    return 0
  fi
  python3 -m pip --version >/dev/null 2>&1 || need_root_install python3-pip
  echo "install-vendor: Intel OpenCL CPU runtime ($INTEL_STAMP) from PyPI into $prefix"
  mkdir -p .whl
  local requirements
  requirements=$(mktemp)
  printf '%s\n' "${INTEL_WHEELS[@]}" >"$requirements"
  # pip only downloads here (no install), so no virtual environment is needed.
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary=:all: --platform manylinux_2_28_x86_64 --dest .whl -r "$requirements"
  rm -f "$requirements"
  rm -rf "$prefix.partial"
  mkdir -p "$prefix.partial/lib"
  python3 - "$prefix.partial/lib" "$INTEL_FILES_REGEX" .whl/intel_opencl_rt-2026.2.0-*.whl \
    .whl/intel_cmplr_lib_rt-2026.2.0-*.whl .whl/tbb-2023.2.0-*.whl <<'EOF'
import os, re, sys, zipfile
dest, pattern, wheels = sys.argv[1], re.compile(sys.argv[2]), sys.argv[3:]
for wheel in wheels:
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            name = os.path.basename(member)
            if "/data/lib/" in member and pattern.match(name):
                with archive.open(member) as src, open(os.path.join(dest, name), "wb") as out:
                    out.write(src.read())
EOF
  [ -f "$prefix.partial/lib/libintelocl.so" ] || { echo "install-vendor: libintelocl.so missing from the wheel" >&2; exit 1; }
  echo "$PWD/$prefix/lib/libintelocl.so" >"$prefix.partial/intel-cpu.icd"
  echo "$INTEL_STAMP" >"$prefix.partial/installed"
  rm -rf "$prefix"
  mv "$prefix.partial" "$prefix"
  echo "install-vendor: $(du -sh "$prefix" | cut -f1) in $prefix"
}

case "${1:-}" in
intel-cpu) install_intel_cpu ;;
--list) echo "intel-cpu" ;;
*)
  echo "install-vendor: usage: scripts/install-vendor.sh intel-cpu (got '${1:-}')" >&2
  exit 2
  ;;
esac
