#!/usr/bin/env bash
# The analyzer and operator images, built with Debian's podman and no registry (images/README.md).
#
#   bash scripts/images.sh          build (or reuse) both, smoke-test them, print sizes and times
#   bash scripts/images.sh build    build (or reuse) both; stdout carries ONLY one JSON object:
#                                   {"analyzer":{"ref":"localhost/streamqc/analyzer:<hash>","archive":"<tar>"},
#                                    "operator":{...}}   (archive: `podman save` docker-archive, cached)
#   bash scripts/images.sh lint     lint the three Dockerfiles (the CUDA one cannot be built here)
#   bash scripts/images.sh clean    forget every cached image, so the next build is cold
#
# Needs root, podman, runc and debootstrap (installed from Debian when missing) and a compiled dist/.
# Everything is cached under ${STREAMQC_CACHE_DIR:-~/.cache/streamqc}/images by a hash of its inputs:
# the base by the Debian mirror and the Node binary, an image by its Dockerfile, its build context
# (package*.json, .npmrc, the dist/ it copies) and its base. A warm run builds nothing.
# Logs go to stderr.
set -euo pipefail
# A failure inside $(...) stops the script too.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
root=$PWD
cache="${STREAMQC_CACHE_DIR:-$HOME/.cache/streamqc}/images"
# Bumped when the way an image is made changes in a way its hashed inputs do not show.
recipe=1
suite=bookworm
images=(analyzer operator)

log() { echo "images: $*" >&2; }
die() {
  echo "images: error: $*" >&2
  exit 1
}

# --- tools and podman's configuration ---------------------------------------------------------

ensure_tools() {
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; install them as root (apt-get install podman runc debootstrap)"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" uidmap >&2
}

hard_limit() {
  local v
  v=$(ulimit -H "$1")
  [ "$v" = unlimited ] && v=1048576
  echo "$v"
}

# On these VMs crun cannot raise limits and rejects the hybrid cgroup layout, and podman's default
# nofile and nproc are above what a container may get: runc, and limits the host allows.
# A file of our own that CONTAINERS_CONF points at; /etc/containers stays as it is.
write_containers_conf() {
  mkdir -p "$cache"
  local conf="$cache/containers.conf" nofile nproc
  nofile=$(hard_limit -n)
  # runc's setrlimit(NPROC) above kernel.pid_max fails with EPERM here (measured: 32768 works, 32769 not).
  nproc=$(hard_limit -u)
  [ "$nproc" -le "$(cat /proc/sys/kernel/pid_max)" ] || nproc=$(cat /proc/sys/kernel/pid_max)
  cat >"$conf.tmp" <<EOF
# Written by scripts/images.sh for its own podman calls (CONTAINERS_CONF).
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
  mv "$conf.tmp" "$conf"
  export CONTAINERS_CONF="$conf"
}

# The CA bundle the host trusts: outbound HTTPS here may be re-signed by a proxy, so `npm ci` in a
# build trusts what the host trusts. Passed as a build secret: mounted for one RUN, never in a layer.
ca_bundle() {
  local f
  for f in "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
    if [ -n "$f" ] && [ -s "$f" ]; then
      echo "$f"
      return
    fi
  done
  die "no CA bundle found (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, /etc/ssl/certs/ca-certificates.crt)"
}

# --- the base: Debian minbase + the machine's Node, standing in for node:*-bookworm-slim ---------

# The first URI of the host's apt sources that serves suite $1 (one-line and deb822 formats).
apt_uri_for() {
  local wanted=$1 f files=()
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk -v want="$wanted" '
      function flush() {
        if (uri != "" && hit) { print uri; found = 1; exit }
        uri = ""; hit = 0
      }
      FNR == 1 { flush() }
      /^[[:space:]]*deb[[:space:]]/ {
        n = 2; if ($2 ~ /^\[/) { while (n <= NF && $n !~ /\]$/) n++; n++ }
        if ($(n + 1) == want) { print $n; found = 1; exit }
      }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) hit = 1 }
      /^[[:space:]]*$/ { flush() }
      END { if (!found) flush() }' "${files[@]}"
}

node_binary() { readlink -f "$(command -v node)"; }
npm_dir() { (cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd); }

# The node:*-bookworm-slim tag the Dockerfiles name by default (ARG NODE_BASE).
official_base() { sed -n 's/^ARG NODE_BASE=//p' "$root/images/analyzer/Dockerfile" | head -1; }

base_inputs() {
  echo "recipe $recipe suite $suite arch $(dpkg --print-architecture)"
  echo "mirror $mirror security $security_mirror"
  echo "node $(sha256sum <"$(node_binary)" | cut -c1-64) npm $(npm --version)"
}

check_node_version() {
  local want have
  want=$(official_base | sed -n 's/^node:\([0-9.]*\)-.*/\1/p')
  have=$(node --version | sed 's/^v//')
  [ "${want%%.*}" = "${have%%.*}" ] || die "the machine's Node is $have, the Dockerfiles want Node $want (same major needed)"
  [ "$want" = "$have" ] || log "note: stand-in base carries Node $have, the Dockerfiles name $want"
}

# debian:bookworm-slim's trimming: no docs, man pages, locales or apt lists, now or after later installs.
slim_rootfs() {
  local r=$1
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$r"/usr/share/{man,groff,info,lintian,linda}/* "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*
  find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  find "$r/var/log" -type f -delete
  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# Where the official image keeps them: /usr/local/bin/node, npm under /usr/local/lib/node_modules.
add_node() {
  local r=$1
  install -D -m 0755 "$(node_binary)" "$r/usr/local/bin/node"
  mkdir -p "$r/usr/local/lib/node_modules"
  cp -a "$(npm_dir)" "$r/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
}

make_base_tar() {
  local out=$1 work
  work="$scratch/node-base"
  mkdir -p "$work"
  log "base: debootstrap --variant=minbase $suite from $mirror (a few minutes)"
  if ! nice -n 10 debootstrap --variant=minbase --arch="$(dpkg --print-architecture)" "$suite" "$work/rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1; then
    tail -20 "$work/debootstrap.log" >&2
    die "debootstrap failed (log above)"
  fi
  slim_rootfs "$work/rootfs"
  add_node "$work/rootfs"
  tar --numeric-owner -C "$work/rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$work"
}

# Prints the base's ref; makes it only when its inputs changed.
ensure_base() {
  mirror=$(apt_uri_for "$suite")
  [ -n "$mirror" ] || die "no apt source for $suite in /etc/apt/sources.list*: debootstrap needs a Debian mirror"
  security_mirror=$(apt_uri_for "$suite-security")
  [ -n "$security_mirror" ] || security_mirror=http://deb.debian.org/debian-security
  check_node_version
  local hash ref tar
  hash=$(base_inputs | sha256sum | cut -c1-12)
  ref="localhost/streamqc/node-base:$hash"
  tar="$cache/node-base-$hash.tar"
  if [ ! -s "$tar" ]; then
    local t0=$SECONDS
    make_base_tar "$tar"
    echo $((SECONDS - t0)) >"$tar.seconds"
    podman rmi "$ref" >/dev/null 2>&1 || true
  fi
  if ! podman image exists "$ref"; then
    podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["node"]' "$tar" "$ref" >/dev/null
  fi
  forget_other_versions node-base "$hash"
  echo "$ref"
}

# --- the images ------------------------------------------------------------------------------

# What each image's Dockerfile copies from the repository (its .dockerignore lets the same through).
context_paths() {
  case $1 in
    analyzer) echo package.json package-lock.json .npmrc dist/analyzer ;;
    operator) echo package.json package-lock.json .npmrc dist/analyzer dist/operator ;;
  esac
}

stage_context() {
  local name=$1 dir=$2 p
  for p in $(context_paths "$name"); do [ -e "$root/$p" ] || die "$p is missing: run 'npm run build' first"; done
  mkdir -p "$dir"
  # shellcheck disable=SC2046
  tar -C "$root" --exclude='*.map' -cf - $(context_paths "$name") | tar -C "$dir" -xf -
}

tree_hash() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64); }

# Removes the cached archives and tags of other versions of an image (not in use: podman refuses those).
forget_other_versions() {
  local name=$1 keep=$2 f ref
  for f in "$cache/$name"-*.tar; do
    [ -e "$f" ] && [ "$f" != "$cache/$name-$keep.tar" ] && rm -f "$f" "$f.seconds"
  done
  for ref in $(podman images --format '{{.Repository}}:{{.Tag}}' "localhost/streamqc/$name" 2>/dev/null); do
    [ "$ref" = "localhost/streamqc/$name:$keep" ] || podman rmi "$ref" >/dev/null 2>&1 || true
  done
}

# Builds (or reuses) one image; sets $ref and $archive.
ensure_image() {
  local name=$1 base=$2 ctx="$scratch/context-$1" hash
  stage_context "$name" "$ctx"
  hash=$({
    echo "recipe $recipe base $base"
    sha256sum <"$root/images/$name/Dockerfile"
    tree_hash "$ctx"
  } | sha256sum | cut -c1-12)
  ref="localhost/streamqc/$name:$hash"
  archive="$cache/$name-$hash.tar"
  if [ -s "$archive" ] && podman image exists "$ref"; then
    log "$name: $ref is up to date"
  elif [ -s "$archive" ]; then
    log "$name: loading $ref from $archive"
    podman load -i "$archive" >/dev/null
  else
    log "$name: building $ref"
    local t0=$SECONDS
    nice -n 10 podman build --pull=never --network=host --build-arg "NODE_BASE=$base" \
      --secret "id=npm_ca,src=$(ca_bundle)" -f "$root/images/$name/Dockerfile" -t "$ref" "$ctx" >&2
    podman save --format docker-archive -o "$archive.tmp" "$ref" >/dev/null
    mv "$archive.tmp" "$archive"
    echo $((SECONDS - t0)) >"$archive.seconds"
    log "$name: built in $((SECONDS - t0)) s"
  fi
  forget_other_versions "$name" "$hash"
}

# One build at a time per cache: a test run and a developer may both ask for the images.
build_all() {
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  local base name json="{" sep=""
  base=$(ensure_base)
  for name in "${images[@]}"; do
    ensure_image "$name" "$base"
    json+="$sep\"$name\":{\"ref\":\"$ref\",\"archive\":\"$archive\"}"
    sep=","
  done
  flock -u 9
  echo "$json}"
}

# --- lint, report, clean -----------------------------------------------------------------------

# dockerfilelint (npm) checks instructions and their arguments: hadolint is Haskell and its Go port
# is not served by the module proxy here, and podman's parser only reports errors once it runs a
# step. The CUDA image cannot be built here (its base is on no registry this machine reaches), so
# this lint is all it gets. `FROM ${NODE_BASE}` hides the tag from the linter; the ARG default pins it.
lint() {
  local lenient="$scratch/dockerfilelint"
  mkdir -p "$lenient"
  printf 'rules:\n  missing_tag: off\n' >"$lenient/.dockerfilelintrc"
  log "lint: dockerfilelint@$dockerfilelint_version"
  dockerfilelint "$root/images/analyzer-cuda/Dockerfile"
  dockerfilelint -c "$lenient" "$root/images/analyzer/Dockerfile" "$root/images/operator/Dockerfile"
  local f
  for f in "$root"/images/*/Dockerfile; do
    if grep -q '^ARG NODE_BASE=' "$f" && ! grep -Eq '^ARG NODE_BASE=node:[0-9]+\.[0-9]+\.[0-9]+-bookworm-slim$' "$f"; then
      die "lint: $f: ARG NODE_BASE must default to a pinned node:X.Y.Z-bookworm-slim"
    fi
  done
}

dockerfilelint_version=1.8.0
dockerfilelint() {
  npm exec --yes --package="dockerfilelint@$dockerfilelint_version" -- dockerfilelint "$@" >&2 ||
    die "lint: dockerfilelint found problems (above)"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

report() {
  local json=$1 name ref archive size base_size
  base_size=$(podman image inspect --format '{{.Size}}' "$(ensure_base)")
  printf 'images: %-9s %9s %13s %11s %9s\n' image 'size MiB' 'above base' 'archive MiB' 'build s' >&2
  printf 'images: %-9s %9s %13s %11s %9s\n' node-base "$(mib "$base_size")" - - \
    "$(cat "$cache"/node-base-*.tar.seconds 2>/dev/null || echo cached)" >&2
  for name in "${images[@]}"; do
    ref=$(node -e 'process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]].ref)' "$json" "$name")
    archive=$(node -e 'process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]].archive)' "$json" "$name")
    size=$(podman image inspect --format '{{.Size}}' "$ref")
    printf 'images: %-9s %9s %13s %11s %9s\n' "$name" "$(mib "$size")" "$(mib $((size - base_size)))" \
      "$(mib "$(stat -c %s "$archive")")" "$(cat "$archive.seconds" 2>/dev/null || echo '?')" >&2
  done
  log "with the official $(official_base) as base: add 'above base' to that image's size"
}

clean() {
  local ref
  for ref in $(podman images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep '^localhost/streamqc/' || true); do
    podman rmi "$ref" >/dev/null 2>&1 || log "kept $ref (in use)"
  done
  rm -rf "$cache"
  log "removed $cache and the localhost/streamqc images"
}

main() {
  local command=${1:-all}
  case $command in
    build | all | lint) ;;
    clean)
      command -v podman >/dev/null 2>&1 && clean
      return
      ;;
    *) die "unknown command \"$command\" (build, lint, clean, or none for all)" ;;
  esac
  mkdir -p "$cache"
  # Build contexts, the base's root filesystem, lint config: removed however the script ends.
  scratch=$(mktemp -d "$cache/scratch.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  if [ "$command" = lint ]; then
    lint
    return
  fi
  ensure_tools
  write_containers_conf
  local t0=$SECONDS json
  json=$(build_all)
  log "build or reuse took $((SECONDS - t0)) s"
  if [ "$command" = build ]; then
    echo "$json"
    return
  fi
  lint
  # The smoke tests are the node:test file npm test runs; here they use the images just built.
  node "$root/scripts/run-tests.mjs" dist/test/images/ >&2
  report "$json"
}

main "$@"
