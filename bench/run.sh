#!/usr/bin/env bash
# Builds ajit's benchmarks, sets up NumPy in a virtual environment (PyPI, bench only) and
# runs W1/W2/W3/W4/W5 side by side:  bash bench/run.sh
#   -> bench/results/core.{json,md}, bench/results/fusion.{json,md}, fusion_time_per_element.png,
#      bench/results/matmul.{json,md}, matmul_gflops.png
set -euo pipefail
cd "$(dirname "$0")/.."
AJIT_BUILD_DIR=${AJIT_BUILD_DIR:-build}
cmake -G Ninja -S . -B "$AJIT_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
# W3/W5's C++ peers (OpenBLAS, oneDNN) come from Debian; the build and tests never need them.
missing=()
for p in libopenblas-dev libdnnl-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
  cmake -S . -B "$AJIT_BUILD_DIR" >/dev/null # find them
fi
ninja -C "$AJIT_BUILD_DIR" -j 2 ajit-bench-core ajit-bench-fusion ajit-bench-matmul
venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { apt-get install -y -q python3-venv && python3 -m venv "$venv"; }
fi
"$venv/bin/python" -c "import numpy, matplotlib" 2>/dev/null || "$venv/bin/pip" install -q numpy matplotlib
"$venv/bin/python" bench/core.py --binary "$AJIT_BUILD_DIR/bench/ajit-bench-core" "$@"
"$venv/bin/python" bench/fusion.py --binary "$AJIT_BUILD_DIR/bench/ajit-bench-fusion"
"$venv/bin/python" bench/matmul.py --binary "$AJIT_BUILD_DIR/bench/ajit-bench-matmul"
