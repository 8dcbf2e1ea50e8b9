#!/bin/sh
# Installs everything credgate builds, runs and tests with, from Debian 12's packages and the npm
# registry. clang, libFuzzer (libclang-rt-14-dev) and llvm-symbolizer (llvm-14) are for
# scripts/fuzz.sh; adduser and systemd (systemd-analyze) are for the Debian package test.
# Idempotent: a second run installs nothing new. Run as root.
set -eu

DEBIAN_PACKAGES="
  build-essential cmake ninja-build pkg-config git ca-certificates curl python3
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libpq-dev postgresql libpugixml-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev libcli11-dev libmimalloc-dev libgtest-dev libgmock-dev libbenchmark-dev
  chromium
  adduser systemd
  nginx-light wrk haproxy
  clang libclang-rt-14-dev llvm-14
"

missing=""
for package in $DEBIAN_PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $package"
  fi
done

# The machine image ships Node.js 20 with npm; Debian's own nodejs package is only a fallback.
if ! command -v node >/dev/null 2>&1; then
  missing="$missing nodejs npm"
fi

if [ -n "$missing" ]; then
  echo "install-deps: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi

# The test tooling (OpenID provider, backend API, browser driver) is pinned by
# testenv/package-lock.json.
repo_root=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$repo_root/testenv/package-lock.json" ]; then
  if [ ! -d "$repo_root/testenv/node_modules" ] ||
     [ "$repo_root/testenv/package-lock.json" -nt "$repo_root/testenv/node_modules" ]; then
    echo "install-deps: installing npm packages from testenv/package-lock.json"
    (cd "$repo_root/testenv" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$repo_root/testenv/node_modules"
  fi
fi
