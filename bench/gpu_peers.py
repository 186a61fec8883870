#!/usr/bin/env python3
"""W7's peers on an NVIDIA GPU, through PyTorch (the device machine's image has it):

- the device's copy bandwidth: a device-to-device copy of 64M f32 (bytes read + written),
  the ceiling ajit's memory-bound kernels are measured against;
- W3's Linear+GELU as cuBLAS sgemm (torch.mm in f32, TF32 off) plus a separate GELU
  kernel (torch's tanh GELU), and each part alone;
- W2's op matrix at 1M and 64M elements (bench/peers.py's formulas) in PyTorch eager on
  CUDA tensors.

Every time is the median of CUDA-event timings of `--reps` launches after warm-ups, data
resident on the device. One JSON record per line (WORKLOADS.md's schema, seconds per call):

    python3 bench/gpu_peers.py [--reps 50] [--sizes 1048576,67108864]
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F

from peers import elementwise_ops, torch_system

LINEAR_SHAPES = [(1000, 512, 768), (2048, 768, 3072), (4096, 1024, 4096)]


def timed(fn, reps):
    """Median, min and max seconds of one call of fn, each call timed by CUDA events."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times), min(times), max(times)


def record(workload, size, system, fn, reps, note):
    median, lo, hi = timed(fn, reps)
    print(json.dumps({"workload": workload, "size": size, "system": system, "metric": "seconds", "median": median,
                      "min": lo, "max": hi, "reps": reps, "threads": 0, "note": note}), flush=True)
    return median


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--sizes", default="1048576,67108864")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False  # plain f32 sgemm, as ajit computes
    torch.backends.cudnn.allow_tf32 = False
    X = torch_system(1, compiled=False).X
    dev = torch.device("cuda")
    name = torch.cuda.get_device_name(0)
    note = f"torch {torch.__version__} on {name}"

    n = 64 << 20
    src, dst = torch.randn(n, device=dev), torch.empty(n, device=dev)
    copy = record("W7.copy", str(n), "cuda", lambda: dst.copy_(src), args.reps, note + ", device-to-device copy")
    print(json.dumps({"workload": "W7.copy_bandwidth", "size": str(n), "system": "cuda", "metric": "bytes_per_s",
                      "median": 8.0 * n / copy, "min": 0, "max": 0, "reps": args.reps, "threads": 0,
                      "note": "bytes read + written per second"}), flush=True)
    del src, dst

    for m, k, nn in LINEAR_SHAPES:
        x = torch.randn(m, k, device=dev)
        w = torch.randn(k, nn, device=dev) * 0.05
        b = torch.randn(nn, device=dev)
        y = torch.empty(m, nn, device=dev)
        size = f"{m}x{k}x{nn}"
        record("W3.matmul", size, "cublas", lambda: torch.mm(x, w, out=y), args.reps, note + ", cuBLAS sgemm")
        record("W3.gelu", f"{m}x{nn}", "torch", lambda: F.gelu(y, approximate="tanh"), args.reps, note)
        record("W3.linear_gelu", size, "cublas+gelu",
               lambda: F.gelu(torch.addmm(b, x, w, out=y), approximate="tanh"), args.reps,
               note + ", cuBLAS sgemm with the bias (addmm) then a separate tanh-GELU kernel")

    for n in [int(s) for s in args.sizes.split(",")]:
        inputs = [torch.rand(n, device=dev) * 4 - 2 for _ in range(3)]
        for op, (arity, fn) in elementwise_ops(X).items():
            record("W2." + op, str(n), "torch", lambda fn=fn, a=inputs[:arity]: fn(*a), args.reps, note + ", eager")


if __name__ == "__main__":
    main()
