#!/usr/bin/env bash
# Renders an HTML report to PNG with headless Chromium, to check how it looks in a real
# browser. Needs Debian's `chromium` package (`apt-get install -y chromium`).
#
#   scripts/render-report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]
#
# Make a report first: `probity audit CASE --format html -o REPORT.html`. The page is
# loaded from disk with networking off; a self-contained report needs none.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH] [HEIGHT]" >&2
    exit 2
fi
report=$1
out=$2
width=${3:-1280}
height=${4:-4000}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "error: no chromium on PATH; install it with \`apt-get install -y chromium\`" >&2
    exit 2
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

abs_report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars \
    --screenshot="$abs_out" --window-size="$width,$height" \
    "file://$abs_report" 2>/dev/null
echo "wrote $out"
