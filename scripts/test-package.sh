#!/usr/bin/env bash
# Builds the Debian package, installs it with apt-get, runs the INSTALLED
# clbatch from outside the repository, and removes the package again
# (issue 17). Offline: scripts/setup.sh already installed every dependency.
# Usage: scripts/test-package.sh [BUILD_DIR]   (default build, configured by setup.sh)
# Needs root to install: otherwise it exits 77 (skipped) after building the
# package, or 1 under CI=true. It never touches a clbatch installed before it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
build="$(cd "${1:-build}" && pwd)"
. scripts/env.sh # OCL_ICD_VENDORS (Intel's runtime, when installed) and POCL_CACHE_DIR

# What a correct package holds, and nothing else (no test binaries).
expected_files="/usr/bin/clbatch
/usr/share/doc/clbatch/README.md
/usr/share/doc/clbatch/SCHEMA.md
/usr/share/man/man1/clbatch.1.gz"

installed_here=0
tmp="$(mktemp -d)"

# step NAME CMD...: prints what runs and how long it took.
step() {
  local name="$1" start=$SECONDS
  shift
  echo "test-package: $name"
  "$@"
  echo "test-package: $name took $((SECONDS - start)) s"
}

fail() {
  echo "test-package: $*" >&2
  exit 1
}

# The package is built in any case; only installing it needs root.
build_package() {
  [ -f "$build/CMakeCache.txt" ] || fail "$build is not a CMake build folder (run scripts/setup.sh)"
  cmake --build "$build" -j "$(nproc)"
  # A stale package of another version would match the glob below too.
  rm -f "$build"/clbatch_*.deb
  (cd "$build" && cpack -G DEB)
  deb="$(echo "$build"/clbatch_*.deb)"
  [ -f "$deb" ] || fail "cpack wrote no clbatch_*.deb in $build"
  dpkg-deb --info "$deb" | grep -E '^ (Package|Version|Depends|Recommends):'
}

# The package must hold exactly the installed files, whatever else the build made.
check_contents() {
  local files
  files="$(dpkg-deb --contents "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort)"
  [ "$files" = "$(sort <<<"$expected_files")" ] ||
    fail "$(basename "$deb") holds other files than expected:"$'\n'"$files"
}

require_root() {
  [ "$(id -u)" = 0 ] && return 0
  echo "test-package: installing the package needs root; run it as root (e.g. with sudo)" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 77 # skipped
}

# Someone's own install (a package, or cmake --install into /usr) is not ours
# to overwrite or remove.
require_not_installed() {
  if dpkg-query -W -f='${Status}' clbatch 2>/dev/null | grep -q 'ok installed'; then
    fail "a clbatch package is already installed; remove it first (apt-get remove clbatch)"
  fi
  [ ! -e /usr/bin/clbatch ] || fail "/usr/bin/clbatch exists but belongs to no package; leaving it alone"
}

install_package() {
  installed_here=1 # from here on the EXIT trap removes it, even after a half install
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb"
}

check_installed_files() {
  hash -r
  [ "$(command -v clbatch)" = /usr/bin/clbatch ] ||
    fail "clbatch on PATH is '$(command -v clbatch || true)', not /usr/bin/clbatch"
  [ "$(man -w clbatch)" = /usr/share/man/man1/clbatch.1.gz ] ||
    fail "man -w clbatch finds '$(man -w clbatch 2>&1 || true)'"
  # groff reports problems on stderr; the page must render without any.
  local warnings
  warnings="$(MANWIDTH=80 man --warnings -l /usr/share/man/man1/clbatch.1.gz 2>&1 >/dev/null)"
  [ -z "$warnings" ] || fail "clbatch(1) renders with warnings:"$'\n'"$warnings"
  [ -f /usr/share/doc/clbatch/README.md ] || fail "/usr/share/doc/clbatch/README.md is missing"
  [ -f /usr/share/doc/clbatch/SCHEMA.md ] || fail "/usr/share/doc/clbatch/SCHEMA.md is missing"
}

# From an empty folder, so nothing of the repository (kernels/, results/) helps.
run_installed() {
  cd "$tmp"
  /usr/bin/clbatch --version
  /usr/bin/clbatch devices
  # Its own speed history: CI on a developer's machine must not add its
  # loaded-host lines to the user's (~/.local/state/clbatch).
  # Two thirds of a second a pass (--passes 3 splits the times), so that the
  # reference step runs enough steps to be written (sweep/worker.c,
  # REFERENCE_MIN_STEPS): it gets one turn in three here, ~10 ms a turn, and
  # 0.5 s gave 36-42 of the 50 steps on a loaded 2-core CI host.
  /usr/bin/clbatch run --device pocl --model linreg --batch 1,8 --min-time 2 --max-time 2 \
    --speed-history "$tmp/speed-history.csv" --out "$tmp/tiny.csv" --format csv
  check_csv "$tmp/tiny.csv"
  # A header and one line per pass (3 by default, more when the host drifts).
  [ "$(head -c 10 "$tmp/speed-history.csv")" = "timestamp," ] &&
    [ "$(wc -l <"$tmp/speed-history.csv")" -ge 4 ] ||
    fail "the run did not write its header and a line per pass to $tmp/speed-history.csv"
  cd "$repo"
}

# FILE has a header and a row whose `status` (found by name, results/SCHEMA.md)
# is ok. Fields may be quoted and hold commas (RFC 4180), so they are split
# with quotes in mind.
check_csv() {
  awk '
    function split_csv(line, fields,   n, i, c, field, quoted) {
      n = 0; field = ""; quoted = 0
      for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (quoted && c == "\"" && substr(line, i + 1, 1) == "\"") { field = field c; i++ }
        else if (c == "\"") quoted = !quoted
        else if (c == "," && !quoted) { fields[++n] = field; field = "" }
        else field = field c
      }
      fields[++n] = field
      return n
    }
    NR == 1 {
      n = split_csv($0, header)
      for (i = 1; i <= n; i++) {
        if (header[i] == "status") col = i
        if (header[i] == "kernels_per_step") kcol = i
      }
      next
    }
    # An ok row counts its kernels: the installed binary still puts its
    # clEnqueueNDRangeKernel ahead of the loader'"'"'s (src/cl/launch_count.c).
    col { split_csv($0, row); rows++; if (row[col] == "ok") { ok++; if (row[kcol] + 0 >= 1) counted++ } }
    END {
      if (!col || !kcol) { print "no status or kernels_per_step column in the header" > "/dev/stderr"; exit 1 }
      if (!ok) { print rows + 0 " rows, none with status ok" > "/dev/stderr"; exit 1 }
      if (counted != ok) { print ok - counted " ok rows without kernels_per_step" > "/dev/stderr"; exit 1 }
      print rows " rows, " ok " with status ok and their kernels counted"
    }' "$1" || fail "$1 is not the results CSV expected"
}

remove_package() {
  DEBIAN_FRONTEND=noninteractive apt-get remove -y clbatch || fail "apt-get remove clbatch failed"
  hash -r
  [ ! -e /usr/bin/clbatch ] || fail "/usr/bin/clbatch is still there after apt-get remove"
  [ ! -e /usr/share/man/man1/clbatch.1.gz ] || fail "clbatch(1) is still there after apt-get remove"
}

# Runs on every exit, failed steps included: the machine is left as found.
cleanup() {
  local status=$?
  trap - EXIT
  cd /
  if [ "$installed_here" = 1 ]; then
    # A subshell, so that a failed removal still ends here with status 1.
    (step "remove the package" remove_package) || status=1
  fi
  rm -rf "$tmp"
  if [ "$status" = 0 ]; then
    echo "test-package: ok"
  fi
  exit "$status"
}
trap cleanup EXIT

start=$SECONDS
step "build $(basename "$build") and cpack -G DEB" build_package
step "check the package's files" check_contents
require_root
require_not_installed
step "apt-get install $(basename "$deb")" install_package
step "check the installed files" check_installed_files
step "run the installed clbatch from $tmp" run_installed
echo "test-package: all steps took $((SECONDS - start)) s (removal follows)"
