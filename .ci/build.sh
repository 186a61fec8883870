#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and builds ajit, then runs the demo or the
# whole test suite:   bash .ci/build.sh demo   |   bash .ci/build.sh test
# Every dependency comes from Debian's packages; nothing here needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-demo}

packages=(cmake ninja-build ccache g++ python3 llvm-22-dev llvm-22-tools libmlir-22-dev
          mlir-22-tools clang-22 libclang-rt-22-dev libomp-22-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev)
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

# ptxas checks the PTX of every op and fusion kind (GpuTest). It comes with the CUDA
# toolkit at /usr/local/cuda, not from Debian (whose nvidia-cuda-toolkit, CUDA 11.8,
# predates the PTX ISA 8.0 that ajit emits); without it those tests would only skip, so
# the test run refuses to start.
if [ "$what" = test ]; then
  ptxas=${AJIT_PTXAS:-/usr/local/cuda/bin/ptxas}
  if [ ! -x "$ptxas" ]; then
    echo "build.sh: no ptxas at $ptxas: install the CUDA toolkit (12 or later) at /usr/local/cuda, or set AJIT_PTXAS" >&2
    exit 1
  fi
  export AJIT_PTXAS=$ptxas
fi

build=${AJIT_BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
echo "== configuring and building in $build"
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
# Two cores and heavy MLIR headers: more than two jobs only swaps.
ninja -C "$build" -j "${AJIT_JOBS:-2}"

# ctest's GpuRun.OnTheEmulatedDriver (the GPU runtime on the emulated CUDA driver; a
# skipped test fails it) in build folder $1, under the sanitizer options set here.
on_emulated_driver() {
  ctest --test-dir "$1" -R '^GpuRun[.]OnTheEmulatedDriver$' --no-tests=error --output-on-failure
}

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer, and the cache
# and thread tests under ThreadSanitizer, each in its own build folder. libLLVM/libMLIR
# are not instrumented; what runs instrumented is ajit's own code. AJIT_SANITIZERS=0
# skips them (for a quick local run); CI always runs them.
sanitizers() {
  local sbuild="$build-asan"
  echo "== ASan + UBSan build in $sbuild"
  cmake -G Ninja -S . -B "$sbuild" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAJIT_SANITIZE=address >/dev/null
  ninja -C "$sbuild" -j "${AJIT_JOBS:-2}" ajit-jit-test ajit-ops-test ajit-npy-test ajit-bufferpool-test ajit-diskcache-test \
    ajit-grad-test ajit-vmap-test ajit-gpu-test ajit-donate-test \
    ajit-diff-fuzz-test ajit-emulated-cuda
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for t in ajit-jit-test ajit-ops-test ajit-npy-test ajit-bufferpool-test ajit-diskcache-test ajit-grad-test \
    ajit-vmap-test ajit-gpu-test ajit-donate-test; do
    echo "== $t (ASan + UBSan)"
    "$sbuild/tests/$t" --gtest_brief=1
  done
  echo "== GPU runtime on the emulated driver (ASan + UBSan)"
  on_emulated_driver "$sbuild"
  echo "== ajit-diff-fuzz-test (ASan + UBSan, 300 programs)"
  AJIT_FUZZ_PROGRAMS=300 "$sbuild/tests/ajit-diff-fuzz-test" --gtest_brief=1
  unset ASAN_OPTIONS UBSAN_OPTIONS

  sbuild="$build-tsan"
  echo "== TSan build in $sbuild"
  cmake -G Ninja -S . -B "$sbuild" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAJIT_SANITIZE=thread >/dev/null
  ninja -C "$sbuild" -j "${AJIT_JOBS:-2}" ajit-jit-test ajit-bufferpool-test ajit-gpu-test ajit-emulated-cuda
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  echo "== cache and thread tests (TSan)"
  "$sbuild/tests/ajit-jit-test" --gtest_brief=1 --gtest_filter='Threads.*:Cache.*'
  "$sbuild/tests/ajit-bufferpool-test" --gtest_brief=1
  echo "== GPU runtime on the emulated driver (TSan): calls from several threads, shared outputs"
  # The CPU reference runs on one thread: libomp is not instrumented, and TSan takes its
  # workers' start for a race.
  AJIT_NUM_THREADS=1 on_emulated_driver "$sbuild"
  unset TSAN_OPTIONS
}

case "$what" in
  demo) "$build/examples/ajit-demo" ;;
  test)
    ctest --test-dir "$build" --output-on-failure -j 2
    if [ "${AJIT_SANITIZERS:-1}" != 0 ]; then sanitizers; fi ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
