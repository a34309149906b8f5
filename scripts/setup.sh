#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Debian ffmpeg, npm packages, the TypeScript build.
# Safe to run any number of times; each step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need_apt+=(ffmpeg)
# setpriv (util-linux) makes the kernel kill ffmpeg/ffprobe when the analyzer dies (analyzer/ingest/children.ts).
command -v setpriv >/dev/null 2>&1 || need_apt+=(util-linux)
if [ "${STREAMQC_NEED_PROMETHEUS:-0}" = 1 ]; then
  command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
fi
# The fuzz suite (test/robustness/fuzz.test.ts) flips bytes of its clips with zzuf.
if [ "${STREAMQC_NEED_ZZUF:-0}" = 1 ]; then
  command -v zzuf >/dev/null 2>&1 || need_apt+=(zzuf)
fi
# The workflow lint (test/lint/workflows.test.ts) has actionlint run shellcheck on every `run:` script.
if [ "${STREAMQC_NEED_SHELLCHECK:-0}" = 1 ]; then
  command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
fi
# The transport checker's cross-check (test/unit/transport-dvblast.test.ts) runs VideoLAN's dvblast.
if [ "${STREAMQC_NEED_DVBLAST:-0}" = 1 ]; then
  command -v dvblast >/dev/null 2>&1 || need_apt+=(dvblast)
fi
# The SRT transport tap runs srt-live-transmit (analyzer/transport/connections.ts); its live test
# (test/analyzer/transport-srt.test.ts) runs it as the sender too.
if [ "${STREAMQC_NEED_SRT:-0}" = 1 ]; then
  command -v srt-live-transmit >/dev/null 2>&1 || need_apt+=(srt-tools)
fi
# The benchmark report draws its charts with this one font (test/bench/chart.ts, CHART_FONT_FILE).
if [ "${STREAMQC_NEED_FONTS:-0}" = 1 ]; then
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
fi
# The real node of the e2e tests (test/cluster/real-node.ts): containerd 1.6, runc, the bridge CNI
# plugin, and podman to build its test images.
if [ "${STREAMQC_NEED_REAL_NODE:-0}" = 1 ]; then
  command -v containerd >/dev/null 2>&1 || need_apt+=(containerd)
  command -v runc >/dev/null 2>&1 || need_apt+=(runc)
  [ -x /usr/lib/cni/bridge ] || need_apt+=(containernetworking-plugins)
  command -v podman >/dev/null 2>&1 || need_apt+=(podman)
fi
# Real footage (test/bench/accuracy/real-footage.ts) comes out of Debian packages: `apt-get download`
# needs the package lists (`apt-get update` once) and dpkg-deb unpacks them.
need_lists=0
if [ "${STREAMQC_NEED_REAL_FOOTAGE:-0}" = 1 ]; then
  command -v dpkg-deb >/dev/null 2>&1 || need_apt+=(dpkg)
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || need_lists=1
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if [ ${#need_apt[@]} -gt 0 ] || [ "$need_lists" = 1 ]; then
  echo "setup: apt-get update" >&2
  $SUDO apt-get update -qq
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.streamqc-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  cp package-lock.json "$stamp"
fi

# The test control plane (Go, minutes when cold) only when asked for; the test run's global set-up
# also builds it on demand when integration or e2e tests are selected.
if [ "${STREAMQC_NEED_CLUSTER:-0}" = 1 ]; then bash scripts/cluster-tools.sh >/dev/null; fi

echo "setup: compiling TypeScript" >&2
rm -rf dist
npx --no-install tsc -p tsconfig.json
