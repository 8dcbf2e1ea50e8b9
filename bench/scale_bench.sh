#!/usr/bin/env bash
# Scale benchmark: builds scale_bench and runs it against a SQLite store with 1,000,000
# connections (one access policy and stored tokens each) under 5 providers. The store file
# (about 2.7 GB with its WAL while it is filled) is kept in $SCALE_DIR, and --reuse skips
# refilling it when a file with the same counts exists.
#
#   bench/scale_bench.sh [scale_bench options]      e.g. --connections 100000 --reuse
#
# Environment: BUILD_DIR (default build), SCALE_DIR (default /tmp/credgate-scale-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
scale_dir=${SCALE_DIR:-/tmp/credgate-scale-bench}

if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$build_dir" scale_bench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
exec "$build_dir/bench/scale/scale_bench" --dir "$scale_dir" "$@"
