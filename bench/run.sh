#!/usr/bin/env bash
# ajit beside its peers on every workload of WORKLOADS.md, in one run:
#   bash bench/run.sh            full mode (about half an hour on 2 cores; rewrites README's performance section)
#   bash bench/run.sh --quick    everyday mode (under 5 minutes once the peers are installed)
# Any other arguments go to bench/compare.py (--systems ajit,numpy,jax  --workloads W6  --rounds N  --budget S
# --no-install). Builds the four bench binaries, makes bench/.venv (NumPy, matplotlib, and the peers JAX, PyTorch,
# onnxruntime from PyPI: a peer that does not install is skipped, with the reason in the report), and
# writes bench/results/{W1..W6,machine,run_info}.json, report.md and the PNG plots.
# AJIT_BENCH_NO_BUILD=1 uses the binaries already in $AJIT_BUILD_DIR/bench (default build/).
# The build and the tests never need any of this: PyPI is for the benchmark only.
set -euo pipefail
cd "$(dirname "$0")/.."
AJIT_BUILD_DIR=${AJIT_BUILD_DIR:-build}
export AJIT_BUILD_DIR
if [ "${AJIT_BENCH_NO_BUILD:-0}" != 1 ]; then
  # W3/W5's C++ peers (OpenBLAS, oneDNN) come from Debian; the build and tests never need them.
  missing=()
  for p in libopenblas-dev libdnnl-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  cmake -G Ninja -S . -B "$AJIT_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$AJIT_BUILD_DIR" ajit-bench-core ajit-bench-fusion ajit-bench-matmul ajit-bench-transforms
fi
for b in core fusion matmul transforms; do
  [ -x "$AJIT_BUILD_DIR/bench/ajit-bench-$b" ] || { echo "missing $AJIT_BUILD_DIR/bench/ajit-bench-$b" >&2; exit 1; }
done
venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { apt-get install -y -q python3-venv && python3 -m venv "$venv"; }
fi
"$venv/bin/python" -c "import numpy, matplotlib" 2>/dev/null || "$venv/bin/pip" install -q numpy matplotlib
exec "$venv/bin/python" bench/compare.py "$@"
