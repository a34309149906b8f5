#!/usr/bin/env bash
# The release workflow's gate: a tag vX.Y.Z releases version X.Y.Z only when package.json and the
# chart's version and appVersion say X.Y.Z too, so a pushed image, the chart and its default image
# tags can never disagree. Prints the version on success.
# Usage: scripts/check-release-version.sh TAG [REPO_ROOT]
set -euo pipefail
tag="${1:?usage: check-release-version.sh TAG [REPO_ROOT]}"
root="${2:-$(cd "$(dirname "$0")/.." && pwd)}"

# Semantic Versioning 2.0.0 with a leading v (pre-release and build parts allowed).
if ! [[ "$tag" =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]]; then
  echo "check-release-version: tag '$tag' is not v<semver> (e.g. v1.2.3)" >&2
  exit 1
fi
version="${tag#v}"

chart_field() { awk -v key="$1:" '$1 == key { gsub(/"/, "", $2); print $2; exit }' "$root/helm/streamqc/Chart.yaml"; }
package_version="$(node -p 'require(process.argv[1]).version' "$root/package.json")"

status=0
for pair in "package.json version=$package_version" "Chart.yaml version=$(chart_field version)" \
  "Chart.yaml appVersion=$(chart_field appVersion)"; do
  if [ "${pair#*=}" != "$version" ]; then
    echo "check-release-version: tag $tag but ${pair%=*} is '${pair#*=}'" >&2
    status=1
  fi
done
[ "$status" = 0 ] && echo "$version"
exit "$status"
