#!/usr/bin/env bash
# Screenshots a `clbatch report` HTML page with headless Chromium, to check how
# it looks without a desktop: scripts/screenshot-report.sh [DIR] [OUT.png]
# DIR defaults to report/, OUT.png to DIR/report-screenshot.png.
set -euo pipefail

dir=${1:-report}
out=${2:-$dir/report-screenshot.png}
page=$dir/report.html
if [[ ! -f $page ]]; then
  echo "screenshot-report: $page not found; run \`clbatch report RESULTS.csv --out $dir\` first" >&2
  exit 2
fi

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "screenshot-report: chromium is not installed; as root: apt-get install -y chromium" >&2
    exit 1
  fi
  echo "screenshot-report: installing chromium (apt-get install -y chromium)" >&2
  apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
  browser=$(command -v chromium)
fi

abs_page=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# A private profile directory keeps a root-run browser from touching ~/.config.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$profile" --window-size=1400,3000 \
  --screenshot="$abs_out" "file://$abs_page" 2>/dev/null || true
if [[ ! -s $abs_out ]]; then
  echo "screenshot-report: $browser wrote no screenshot" >&2
  exit 1
fi
echo "$abs_out"
