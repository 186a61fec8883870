#!/usr/bin/env python3
"""W3 (GELU, Linear+GELU) and W5 (square matmul, MLP) of ../shared/WORKLOADS.md: ajit beside
OpenBLAS cblas_sgemm, oneDNN (prepacked weights, with and without its GELU post-op) and
NumPy, on 1 and on 2 threads, with the machine's peak FMA rate measured in the same run.

    bench/.venv/bin/python bench/matmul.py [--budget 0.4] [--quick]
writes bench/results/matmul.{json,md} and bench/results/matmul_gflops.png.

The C++ systems are timed interleaved inside one process per thread count
(bench/matmul_bench.cpp); NumPy runs in its own process with the same thread count.
"""
import argparse
import json
import os
import subprocess
import sys

from benchlib import fmt, machine, time_call, pyplot, write_results

HERE = os.path.dirname(os.path.abspath(__file__))
SQUARE = [64, 128, 256, 512, 1024, 2048]
MLP_BATCHES = [32, 64, 128]


def flops(workload, size):
    if workload == "W5.matmul":
        n = int(size)
        return 2.0 * n ** 3
    if workload == "W3.linear_gelu":
        m, k, n = map(int, size.split("x"))
        return 2.0 * m * k * n
    if workload == "W5.mlp":
        b = int(size)
        return 2.0 * b * (784 * 512 + 512 * 512 + 512 * 10)
    return None


def numpy_worker(budget, quick):
    """Runs in a child whose OPENBLAS_NUM_THREADS is set: prints NumPy records."""
    import numpy as np
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "0"))
    f32 = np.float32

    def emit(workload, size, fn, note):
        med, lo, hi, reps = time_call(fn, budget / 7)
        print(json.dumps({"workload": workload, "size": size, "system": "numpy", "metric": "seconds",
                          "median": med, "min": lo, "max": hi, "reps": reps, "threads": threads,
                          "note": note}), flush=True)

    rng = np.random.default_rng(0)
    for n in SQUARE:
        if quick and n > 1024:
            continue
        a, b = rng.standard_normal((n, n), dtype=f32), rng.standard_normal((n, n), dtype=f32)
        emit("W5.matmul", str(n), lambda: a @ b, "numpy.matmul (its bundled BLAS)")
    w1, w2, w3 = (rng.standard_normal(s, dtype=f32) * f32(0.05) for s in ((784, 512), (512, 512), (512, 10)))
    b1, b2, b3 = (rng.standard_normal(s, dtype=f32) for s in (512, 512, 10))
    for batch in MLP_BATCHES:
        x = rng.standard_normal((batch, 784), dtype=f32)
        emit("W5.mlp", str(batch),
             lambda: np.maximum(np.maximum(x @ w1 + b1, 0) @ w2 + b2, 0) @ w3 + b3, "")
    c = f32(0.7978845608)
    for m, k, n in ((1000, 512, 768), (2048, 768, 3072), (4096, 1024, 4096)):
        if quick and m == 4096:
            continue
        x = rng.standard_normal((m, k), dtype=f32)
        w = rng.standard_normal((k, n), dtype=f32) * f32(0.05)
        b = rng.standard_normal(n, dtype=f32)

        def linear_gelu():
            h = x @ w + b
            return f32(0.5) * h * (f32(1) + np.tanh(c * (h + f32(0.044715) * h * h * h)))
        emit("W3.linear_gelu", f"{m}x{k}x{n}", linear_gelu, "numpy: matmul, then GELU in NumPy ops")


def run_threads(args, threads):
    env = dict(os.environ, AJIT_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads))
    records = []
    cmd = [args.binary, f"--budget={args.budget}"] + (["--quick"] if args.quick else [])
    print("running", " ".join(cmd), f"on {threads} thread(s)", file=sys.stderr)
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    records += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    try:
        out = subprocess.run([sys.executable, __file__, "--numpy-worker", f"--budget={args.budget}"]
                             + (["--quick"] if args.quick else []),
                             env=env, check=True, capture_output=True, text=True).stdout
        records += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    except subprocess.CalledProcessError as e:
        print("numpy peer skipped:", e.stderr.strip().splitlines()[-1:], file=sys.stderr)
    return records


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "bench", "ajit-bench-matmul"))
    ap.add_argument("--budget", type=float, default=0.4)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--numpy-worker", action="store_true")
    args = ap.parse_args()
    if args.numpy_worker:
        return numpy_worker(args.budget, args.quick)
    records = []
    for t in (int(x) for x in args.threads.split(",")):
        records += run_threads(args, t)
    for r in records:
        f = flops(r["workload"], r["size"])
        if f is not None:
            r["gflops"] = f / r["median"] / 1e9
    write_results(args.out, "matmul", records, report,
                  lambda rs, out: plot(rs, os.path.join(out, "matmul_gflops.png")))


def report(records):
    peak = {r["threads"]: 1.0 / r["median"] / 1e9 for r in records if r["workload"] == "peak.fma"}
    lines = [f"Machine: {machine()}.",
             "Peak FMA rate measured in the same run (AVX-512 FMAs on registers): " +
             ", ".join(f"{v:.0f} GFLOP/s on {t} thread(s)" for t, v in sorted(peak.items())) + ".",
             "Times are medians of 7 interleaved rounds; ratio = best peer's time / ajit's "
             "(above 1: ajit faster).", ""]
    by = {}
    for r in records:
        by.setdefault((r["workload"], r["threads"], r["size"]), {})[r["system"]] = r
    for workload in ("W5.matmul", "W3.linear_gelu", "W5.mlp", "W3.gelu"):
        keys = sorted({k for k in by if k[0] == workload}, key=lambda k: (k[1], _order(k[2])))
        if not keys:
            continue
        systems = sorted({s for k in keys for s in by[k]}, key=lambda s: (s != "ajit", s))
        peers = [s for s in systems if s != "ajit"]
        has_flops = flops(workload, keys[0][2]) is not None
        head = ["threads", "size"] + [f"{s} {'GFLOP/s' if has_flops else 'time'}" for s in systems]
        if peers:
            head += ["best peer", "ratio"]
        if has_flops:
            head.append("ajit % of peak")
        lines += [f"### {workload}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for k in keys:
            row = by[k]
            cells = [str(k[1]), k[2]]
            for s in systems:
                r = row.get(s)
                cells.append("" if r is None else (f"{r['gflops']:.1f}" if has_flops else fmt(r["median"])))
            if peers:
                present = [s for s in peers if s in row and not s.endswith("matmul_only")]
                if present and "ajit" in row:
                    best = min(present, key=lambda s: row[s]["median"])
                    cells += [best, f"{row[best]['median'] / row['ajit']['median']:.2f}"]
                else:
                    cells += ["", ""]
            if has_flops:
                p = peak.get(k[1])
                cells.append(f"{100 * row['ajit']['gflops'] / p:.0f}%" if p and "ajit" in row else "")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("Notes: " + "; ".join(sorted({f"{r['system']}: {r['note']}" for r in records if r.get("note")})) + ".")
    return "\n".join(lines) + "\n"


def _order(size):
    return [int(p) for p in size.split("x")]


def plot(records, path):
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, threads in zip(axes, (1, 2)):
        rs = [r for r in records if r["workload"] == "W5.matmul" and r["threads"] == threads]
        for system in sorted({r["system"] for r in rs}):
            pts = sorted((int(r["size"]), r["gflops"]) for r in rs if r["system"] == system)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=system)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("n (n x n x n)")
        ax.set_title(f"square f32 matmul, {threads} thread(s)")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("GFLOP/s")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
