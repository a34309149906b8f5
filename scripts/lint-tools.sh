#!/usr/bin/env bash
# Builds the linters the test suite runs on files that are not TypeScript (test tooling, not
# product code), pinned by test/lint-tools/go.mod:
#   actionlint       GitHub Actions workflows (.github/workflows), with shellcheck for run: scripts
#   dashboard-check  Grafana dashboards against Grafana's own schema (test/lint-tools/dashboard-check)
#   scte35-go        Comcast's SCTE-35 decoder, an independent reading of the splice sections that
#                    analyzer/transport/scte35.ts parses (test/unit/transport-scte35-crosscheck)
#
# Output: ~/.cache/streamqc/lint-tools-<hash of the module>, built once (cold: 1-4 min) and reused.
# Prints that directory on stdout, nothing else. Override the cache root with STREAMQC_CACHE_DIR.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/test/lint-tools"

if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "lint-tools: go is not installed (expected /usr/local/go/bin/go)" >&2; exit 1; }

cache="${STREAMQC_CACHE_DIR:-$HOME/.cache/streamqc}"
bin="$cache/lint-tools-$( (go env GOVERSION; cat "$0"; cd "$src" && cat go.mod go.sum ./*/*.go) | sha256sum | cut -c1-12)"

# go build writes each binary to a temporary file and renames it, so a caller never sees half a
# binary; the lock makes parallel callers (tests run two at a time) wait for one cold build
# instead of running two.
mkdir -p "$cache"
exec 9>"$cache/lint-tools-build.lock"
flock 9
if [ ! -x "$bin/actionlint" ] || [ ! -x "$bin/dashboard-check" ] || [ ! -x "$bin/scte35-go" ]; then
  echo "lint-tools: building actionlint, dashboard-check and scte35-go into $bin" >&2
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags='-s -w' -o "$bin/" \
    ./dashboard-check github.com/rhysd/actionlint/cmd/actionlint github.com/Comcast/scte35-go) >&2
  # Builds of older pins, unused for a week, go.
  find "$cache" -maxdepth 1 -name 'lint-tools-*' -type d -mtime +7 -exec rm -rf {} + 2>/dev/null || true
fi
echo "$bin"
