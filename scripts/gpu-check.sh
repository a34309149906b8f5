#!/usr/bin/env bash
# The GPU path on a machine with an NVIDIA GPU: NVDEC decoding in Debian's ffmpeg, the analyzer's
# ONNX feature graph on onnxruntime-node's CUDA execution provider, and the cost per stream of each
# against the CPU path with the same events on the same clips (test/bench/gpu-check.ts).
#
#   bash scripts/gpu-check.sh [--sizes 720,1080] [--json FILE]
#
# Checks for the GPU before installing anything, then installs only what is missing (Debian's
# ffmpeg and GNU time, the npm packages, the TypeScript build). Fails with a message and a non-zero
# exit rather than print a figure it could not measure:
#   3 no NVIDIA GPU (no nvidia-smi, or it lists no device)   4 NVDEC decoding failed
#   5 CUDA execution provider not loadable                   6 the GPU path reported other events
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "gpu-check: $2" >&2; exit "$1"; }

command -v nvidia-smi >/dev/null 2>&1 ||
  fail 3 "no NVIDIA GPU: nvidia-smi is not on PATH (no NVIDIA driver installed); nothing was measured"
if ! gpus="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>&1)"; then
  fail 3 "no NVIDIA GPU: nvidia-smi failed: $(echo "$gpus" | grep -v '^\s*$' | tail -n 1); nothing was measured"
fi
[ -n "$(echo "$gpus" | tr -d '[:space:]')" ] || fail 3 "no NVIDIA GPU: nvidia-smi lists no device; nothing was measured"
echo "gpu-check: GPU: $(echo "$gpus" | head -n 1)" >&2

need_apt=()
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "gpu-check: installing Debian packages: ${need_apt[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
[ -d node_modules/onnxruntime-node ] || npm ci --no-audit --no-fund >&2
# onnxruntime-node ships CPU binaries only; its install script fetches the CUDA 12 provider
# libraries from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux) when asked. Where NuGet cannot be
# reached that fails, and the CUDA check (exit 5) says the provider does not load.
if ! compgen -G 'node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime_providers_cuda.so' >/dev/null; then
  echo "gpu-check: fetching onnxruntime-node's CUDA 12 provider libraries" >&2
  (cd node_modules/onnxruntime-node && node script/install.js --onnxruntime-node-install=cuda12) >&2 ||
    echo "gpu-check: could not fetch them; the CUDA check will fail" >&2
fi
[ -f dist/test/bench/gpu-check.js ] || npx --no-install tsc -p tsconfig.json

exec node dist/test/bench/gpu-check.js "$@"
