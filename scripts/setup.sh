#!/usr/bin/env bash
# Installs what clbatch needs from Debian's packages (only what is missing) and
# builds it into build/. Safe to run any number of times.
#   scripts/setup.sh         what building, testing and running need
#   scripts/setup.sh --dev   also the checkers CI runs after the tests
#                            (Oclgrind, clang + libFuzzer, clang-tidy, cppcheck),
#                            Slurm and munge for the one-node cluster test,
#                            and Intel's OpenCL CPU runtime as a second vendor
#   scripts/setup.sh --vendor NAME   also a vendor runtime into .vendors/NAME
#                            (scripts/install-vendor.sh: intel-cpu);
#                            scripts/env.sh registers it beside the system's
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake pkg-config ocl-icd-opencl-dev opencl-headers clinfo
  libclblast-dev libhwloc-dev libcjson-dev libcriterion-dev pocl-opencl-icd gnuplot-nox
  libopenblas-dev)
vendors=()
while (($#)); do
  case "$1" in
  --dev)
    PACKAGES+=(oclgrind clang libclang-rt-14-dev clang-tidy cppcheck slurmctld slurmd slurm-client munge)
    vendors+=(intel-cpu)
    ;;
  --vendor)
    [ -n "${2:-}" ] || { echo "setup: --vendor needs a name ($(scripts/install-vendor.sh --list))" >&2; exit 2; }
    vendors+=("$2")
    shift
    ;;
  *)
    echo "setup: unknown argument '$1' (--dev, --vendor NAME)" >&2
    exit 2
    ;;
  esac
  shift
done

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for vendor in ${vendors[@]+"${vendors[@]}"}; do
  scripts/install-vendor.sh "$vendor"
done

# CI builds with -Werror; a developer's build only warns.
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCLBATCH_WERROR=$werror >/dev/null
cmake --build build -j "$(nproc)"
