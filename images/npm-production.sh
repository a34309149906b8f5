#!/bin/sh
# Production npm packages for one image, run in its build stage from the directory holding
# package.json, package-lock.json and .npmrc:
#   sh npm-production.sh install            npm ci --omit=dev (the same step, so one cached layer, in every image)
#   sh npm-production.sh prune [DEPENDENCY...]
#     drops the project's dependencies this image never loads, with what only they need, and
#     onnxruntime-node's binaries for other platforms (it ships five, about 290 MB)
# A CA bundle passed as the build secret npm_ca (a host behind a TLS-re-signing proxy) is trusted
# for the install; a secret is mounted for one RUN and is in no layer.
set -eu
command=${1:-}
[ $# -gt 0 ] && shift
case $command in
  install)
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi
    npm ci --omit=dev --no-audit --no-fund
    ;;
  prune)
    for dependency in "$@"; do npm pkg delete "dependencies.$dependency"; done
    npm prune --omit=dev --offline --no-audit --no-fund
    if [ -d node_modules/onnxruntime-node/bin ]; then
      platform=$(node -p 'process.platform + "/" + process.arch')
      find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path "*/$platform" -exec rm -rf {} +
      ls node_modules/onnxruntime-node/bin/napi-v*/"$platform"/onnxruntime_binding.node >/dev/null
    fi
    ;;
  *)
    echo "npm-production.sh: unknown command \"$command\" (install, or prune DEPENDENCY...)" >&2
    exit 2
    ;;
esac
