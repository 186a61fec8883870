#!/usr/bin/env bash
# Builds ajit's benchmarks, sets up NumPy in a virtual environment (PyPI, bench only) and
# runs W1/W2/W4 side by side:  bash bench/run.sh
#   -> bench/results/core.{json,md}, bench/results/fusion.{json,md}, fusion_time_per_element.png
set -euo pipefail
cd "$(dirname "$0")/.."
AJIT_BUILD_DIR=${AJIT_BUILD_DIR:-build}
cmake -G Ninja -S . -B "$AJIT_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$AJIT_BUILD_DIR" -j 2 ajit-bench-core ajit-bench-fusion
venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { apt-get install -y -q python3-venv && python3 -m venv "$venv"; }
fi
"$venv/bin/python" -c "import numpy, matplotlib" 2>/dev/null || "$venv/bin/pip" install -q numpy matplotlib
"$venv/bin/python" bench/core.py --binary "$AJIT_BUILD_DIR/bench/ajit-bench-core" "$@"
"$venv/bin/python" bench/fusion.py --binary "$AJIT_BUILD_DIR/bench/ajit-bench-fusion"
