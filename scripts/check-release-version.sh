#!/usr/bin/env bash
# The release workflow's gate: a tag vX.Y.Z releases version X.Y.Z only when package.json, the
# chart's version and appVersion, and the image tags in the chart's values.yaml say X.Y.Z too, so
# the pushed images, the chart and the images it deploys can never disagree. Prints the version.
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
values="$root/helm/streamqc/values.yaml"
pairs=("package.json version=$package_version" "Chart.yaml version=$(chart_field version)"
  "Chart.yaml appVersion=$(chart_field appVersion)"
  "values.yaml operator.image.tag=$(awk '$1 == "tag:" { gsub(/"/, "", $2); print $2; exit }' "$values")")
# analyzer.image and analyzer.gpuImage are whole references: repository:tag.
while read -r key ref; do
  pairs+=("values.yaml analyzer.${key%:} tag=${ref##*:}")
done < <(awk '($1 == "image:" || $1 == "gpuImage:") && $2 != "" { gsub(/"/, "", $2); print $1, $2 }' "$values")

status=0
for pair in "${pairs[@]}"; do
  if [ "${pair#*=}" != "$version" ]; then
    echo "check-release-version: tag $tag but ${pair%=*} is '${pair#*=}'" >&2
    status=1
  fi
done
[ "$status" = 0 ] && echo "$version"
exit "$status"
