#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and builds ajit, then runs the demo or the
# whole test suite:   bash .ci/build.sh demo   |   bash .ci/build.sh test
# Every dependency comes from Debian's packages; nothing here needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-demo}

packages=(cmake ninja-build ccache g++ python3 llvm-22-dev llvm-22-tools libmlir-22-dev
          mlir-22-tools clang-22 libclang-rt-22-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=${AJIT_BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
echo "== configuring and building in $build"
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
# Two cores and heavy MLIR headers: more than two jobs only swaps.
ninja -C "$build" -j "${AJIT_JOBS:-2}"

case "$what" in
  demo) "$build/examples/ajit-demo" ;;
  test) ctest --test-dir "$build" --output-on-failure -j 2 ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
