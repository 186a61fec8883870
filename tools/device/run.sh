#!/usr/bin/env bash
# Runs the GPU checks on a machine with an NVIDIA GPU, from the bundle that
# tools/device/bundle.sh made (.device/bundle.tar.xz), writing logs and results to $OUT
# (or /tmp/ajit-out). Steps, in the order given:
#   info   the GPU, driver and clocks (nvidia-smi)
#   tests  ajit-gpu-test: ptxas on every op and fusion kind, then each run on the GPU
#          against the CPU
#   peers  bench/gpu_peers.py (PyTorch on the GPU: copy bandwidth, cuBLAS + GELU, W2 ops)
#   bench  ajit-bench-gpu (W7: ajit's kernels on the GPU)
#   report bench/gpu_report.py on what peers and bench wrote: W7's tables, ratios
#          against PyTorch, cuBLAS + GELU and the copy bandwidth (gpu-report.md)
#
#   tools/device/run.sh info tests peers bench report
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/ajit-out}
mkdir -p "$out"
root=/tmp/ajit-bundle
if [ ! -d "$root/bin" ]; then
  # python3 rather than xz(1): the device image is not known to have xz.
  python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" .device/bundle.tar.xz "$root" ||
    { echo "tools/device/run.sh: cannot unpack .device/bundle.tar.xz (carry .device)"; exit 1; }
fi
export LD_LIBRARY_PATH=$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export AJIT_CACHE_DIR=/tmp/ajit-cache PYTHONUNBUFFERED=1
status=0
for step in "$@"; do
  echo "=== $step ($(date -u +%T))"
  case "$step" in
    info) nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem --format=csv ;;
    tests) timeout 240 "$root/bin/ajit-gpu-test" --gtest_output=json:"$out/gpu-test.json" 2>&1 | tee "$out/gpu-test.log" ;;
    peers) timeout 180 python3 bench/gpu_peers.py --reps 30 2>&1 | tee "$out/gpu-peers.jsonl" ;;
    bench) timeout 240 "$root/bin/ajit-bench-gpu" 2>&1 | tee "$out/gpu-bench.jsonl" ;;
    report) python3 bench/gpu_report.py "$out/gpu-bench.jsonl" "$out/gpu-peers.jsonl" | tee "$out/gpu-report.md" ;;
    *) echo "unknown step $step"; false ;;
  esac
  rc=$?
  echo "=== $step exit $rc"
  [ $rc -eq 0 ] || status=$rc
done
exit $status
