#!/bin/sh
# Builds the Debian package of credgate from the build directory (default build/, which must
# hold a configured and built tree) and prints the path of the .deb.
#
#   scripts/package.sh [BUILD_DIR]
set -eu
repo_root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$repo_root/build}
cmake --build "$build_dir" --target credgate >/dev/null
(cd "$build_dir" && cpack -G DEB >/dev/null)
ls -t "$build_dir"/credgate_*.deb | head -n 1
