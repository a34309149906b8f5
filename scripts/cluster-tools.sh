#!/usr/bin/env bash
# Builds the test control plane (test tooling, not product code) from Kubernetes' Go modules:
# one multi-call binary streamqc-k8s (etcd, kube-apiserver, kube-controller-manager, kubelet,
# kube-scheduler, kwok, kubectl) plus helm, both pinned by test/cluster/tools/go.mod; for the
# real node also `probe` (test/cluster/tools/probe) and `pause`, compiled from the pause source
# of the same Kubernetes module (both go FROM scratch into test images, see real-node.ts).
#
# Output: ~/.cache/streamqc/k8s-<kubernetes version>-<hash of the tools module>/bin, built once
# and reused; a warm machine pays one hash. Prints that bin directory on stdout, nothing else.
# Override the cache root with STREAMQC_CACHE_DIR.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/test/cluster/tools"

if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "cluster-tools: go is not installed (expected /usr/local/go/bin/go)" >&2; exit 1; }

k8s_version="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$src/go.mod")"
[ -n "$k8s_version" ] || { echo "cluster-tools: no k8s.io/kubernetes requirement in $src/go.mod" >&2; exit 1; }
helm_version="$(awk '$1 == "helm.sh/helm/v3" { print $2; exit }' "$src/go.mod")"
hash="$( (go env GOVERSION; cat "$root/scripts/cluster-tools.sh"; cd "$src" && cat go.mod go.sum ./*.go probe/*.go) | sha256sum | cut -c1-12)"
cache="${STREAMQC_CACHE_DIR:-$HOME/.cache/streamqc}"
out="$cache/k8s-$k8s_version-$hash"
bin="$out/bin"

mkdir -p "$cache"
# One builder at a time; a second caller waits and then finds the binaries there.
exec 9>"$cache/k8s-build.lock"
flock 9

if [ ! -f "$out/complete" ]; then
  echo "cluster-tools: building Kubernetes $k8s_version test tools into $bin (cold: about 5-10 min on 2 idle cores)" >&2
  start=$(date +%s)
  rm -rf "$out"
  mkdir -p "$bin.tmp"
  (
    cd "$src"
    export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
    # Version stamps that Kubernetes' and Helm's own release builds set, so that /version,
    # kubectl version and helm's kubeVersion checks see real versions.
    ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitTreeState=clean"
      ldflags+=" -X $pkg.gitMajor=$(echo "$k8s_version" | cut -d. -f1 | tr -d v) -X $pkg.gitMinor=$(echo "$k8s_version" | cut -d. -f2)"
    done
    go build -trimpath -ldflags="$ldflags" -o "$bin.tmp/" . helm.sh/helm/v3/cmd/helm
    go build -trimpath -ldflags="-s -w" -o "$bin.tmp/probe" ./probe
    # The sandbox ("pause") container's program, as Kubernetes' build/pause/Makefile builds it.
    pause_src="$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
    command -v gcc >/dev/null 2>&1 || { echo "cluster-tools: gcc is needed to compile $pause_src" >&2; exit 1; }
    gcc -Os -Wall -Werror -static -DVERSION="$k8s_version-streamqc" -o "$bin.tmp/pause" "$pause_src"
  ) >&2
  for component in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kwok kubectl; do
    ln -s streamqc-k8s "$bin.tmp/$component"
  done
  mv "$bin.tmp" "$bin"
  echo "built in $(( $(date +%s) - start ))s by $(go env GOVERSION)" > "$out/complete"
  echo "cluster-tools: built in $(( $(date +%s) - start ))s" >&2
  # Keep this build and the one before it (another work tree may still pin it); drop older ones.
  for old in $(ls -1dt "$cache"/k8s-v*-*/ | grep -vxF "$out/" | tail -n +2 || true); do rm -rf "$old"; done
fi
echo "$bin"
