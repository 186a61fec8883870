#!/usr/bin/env python3
"""W2 (op matrix) and W4 (optimizers) of ../shared/WORKLOADS.md: ajit beside NumPy, with
the machine's triad and read-only bandwidth, in one run (rounds alternate the systems).

    bench/.venv/bin/python bench/fusion.py [--rounds 2] [--budget 0.1]
writes bench/results/fusion.{json,md} and bench/results/fusion_time_per_element.png.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np

from benchlib import fmt, time_call, pyplot, write_results

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [100, 1000, 10000, 100000, 1000000, 16 << 20]
F = np.float32


def ramp(n, scale, offset=0.0):
    i = np.arange(n, dtype=np.float32)
    return (np.fmod(F(0.37) * i + F(offset), F(2 * scale)) - F(scale)).astype(np.float32)


def softmax(a):
    e = np.exp(a - a.max())
    return e / e.sum()


def log_softmax(a):
    s = a - a.max()
    return s - np.log(np.sum(np.exp(s)))


UNARY = {
    "scale": lambda a: a * F(2.5), "abs": np.abs, "clamp": lambda a: np.clip(a, F(-1), F(1)),
    "sum": np.sum, "max": np.max, "min": np.min, "argmax": np.argmax, "argmin": np.argmin,
    "norm_l1": lambda a: np.sum(np.abs(a)), "norm_l2": np.linalg.norm,
    "norm_linf": lambda a: np.max(np.abs(a)), "relu": lambda a: np.maximum(a, F(0)),
    "sigmoid": lambda a: F(1) / (F(1) + np.exp(-a)), "tanh": np.tanh, "exp": np.exp,
    "gelu": lambda a: F(0.5) * a * (F(1) + np.tanh(F(0.7978845608) * (a + F(0.044715) * a * a * a))),
    "swish": lambda a: a / (F(1) + np.exp(-a)), "softmax": softmax, "log_softmax": log_softmax,
}
BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
          "lerp": lambda a, b: a + F(0.3) * (b - a), "dot": np.dot}
# Arrays of N floats an op reads and writes (2 for the other ops: one in, one out).
STREAMS = {**dict.fromkeys(("add", "sub", "mul", "div", "lerp"), 3), "fma": 4, "dot": 2,
           **dict.fromkeys(("sum", "max", "min", "argmax", "argmin", "norm_l1", "norm_l2", "norm_linf"), 1)}


def numpy_round(sizes, budget):
    per_repeat = budget / 7
    out = {}
    for n in sizes:
        a, b, c = ramp(n, 4), ramp(n, 3, 1.5), ramp(n, 2, 0.5)
        for name, fn in UNARY.items():
            out[("W2." + name, n)] = time_call(lambda: fn(a), per_repeat)
        for name, fn in BINARY.items():
            out[("W2." + name, n)] = time_call(lambda: fn(a, b), per_repeat)
        out[("W2.fma", n)] = time_call(lambda: a * b + c, per_repeat)
    out.update(numpy_optimizers(budget))
    return out


def numpy_optimizers(budget):
    per_repeat = budget / 7
    lr, b1, b2, eps, wd, mom = F(1e-3), F(0.9), F(0.999), F(1e-8), F(1e-2), F(0.9)
    shape = (1000, 512)
    p = [ramp(512000, 1, i).reshape(shape) for i in range(10)]
    g = [ramp(512000, 0.1, i + 0.3).reshape(shape) for i in range(10)]
    m = [ramp(512000, 0.01, 0.1).reshape(shape) for _ in range(10)]
    v = [np.abs(ramp(512000, 0.01, 0.2)).reshape(shape) for _ in range(10)]

    def sgd():
        for i in range(10):
            m[i] = mom * m[i] + g[i]
            p[i] = p[i] - lr * m[i]

    def adam(decay):
        for i in range(10):
            m[i] = b1 * m[i] + (F(1) - b1) * g[i]
            v[i] = b2 * v[i] + (F(1) - b2) * g[i] * g[i]
            mh, vh = m[i] / (F(1) - b1), v[i] / (F(1) - b2)
            upd = mh / (np.sqrt(vh) + eps)
            p[i] = p[i] - lr * (upd + wd * p[i] if decay else upd)

    def lion():
        for i in range(10):
            c = b1 * m[i] + (F(1) - b1) * g[i]
            p[i] = p[i] - lr * (np.sign(c) + wd * p[i])
            m[i] = b2 * m[i] + (F(1) - b2) * g[i]

    size = 10 * 512000
    return {("W4.sgd_momentum", size): time_call(sgd, per_repeat),
            ("W4.adam", size): time_call(lambda: adam(False), per_repeat),
            ("W4.adamw", size): time_call(lambda: adam(True), per_repeat),
            ("W4.lion", size): time_call(lion, per_repeat)}


def ajit_round(binary, sizes, budget):
    out = subprocess.run([binary, "--sizes=" + ",".join(map(str, sizes)), f"--budget={budget}"],
                         check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        r = json.loads(line)
        rows[(r["workload"], r["size"])] = (r["median"], r["min"], r["max"], r["reps"])
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "bench", "ajit-bench-fusion"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--budget", type=float, default=0.1)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    threads = int(os.environ.get("AJIT_NUM_THREADS", os.cpu_count()))
    runs = {"ajit": {}, "numpy": {}}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}: ajit", file=sys.stderr)
        for k, v in ajit_round(args.binary, SIZES, args.budget).items():
            runs["ajit"].setdefault(k, []).append(v)
        print(f"round {r + 1}/{args.rounds}: numpy", file=sys.stderr)
        for k, v in numpy_round(SIZES, args.budget).items():
            runs["numpy"].setdefault(k, []).append(v)

    records = []
    for system, rows in runs.items():
        for (w, n), vals in sorted(rows.items()):
            med = statistics.median(v[0] for v in vals)
            machine = w.startswith("machine.")
            rec = {"workload": w, "size": str(n), "system": "machine" if machine else system,
                   "metric": "bytes_per_s" if machine else ("steps_per_s" if w.startswith("W4") else "seconds"),
                   "median": med, "min": min(v[1] for v in vals), "max": max(v[2] for v in vals),
                   "reps": sum(v[3] for v in vals), "threads": threads if system == "ajit" else 1,
                   "note": f"numpy {np.__version__}" if system == "numpy" else "cached call"}
            if machine:  # seconds -> bytes per second
                rec.update(median=n / med, min=n / rec["max"], max=n / rec["min"], size="16777216")
            if w.startswith("W4"):  # seconds per step -> steps per second
                rec.update(median=1 / med, min=1 / rec["max"], max=1 / rec["min"], size="10x1000x512")
            records.append(rec)
    write_results(args.out, "fusion", records, report,
                  lambda rs, out: plot(rs, os.path.join(out, "fusion_time_per_element.png")))


def report(records):
    by = {(r["workload"], r["size"], r["system"]): r for r in records}
    triad = by[("machine.triad_bytes", "16777216", "machine")]["median"]
    lines = [f"STREAM-style triad in the same run: {triad / 1e9:.1f} GB/s; read-only sum: "
             f"{by[('machine.read_sum_bytes', '16777216', 'machine')]['median'] / 1e9:.1f} GB/s.", "",
             "| op | N | ajit | numpy | ajit / numpy (time; < 1 is faster) | ajit GB/s (in + out) | of triad |",
             "|---|---|---|---|---|---|---|"]
    wins = total = 0
    for (w, n, s), r in sorted(by.items(), key=lambda kv: (kv[0][0], len(kv[0][1]), kv[0][1])):
        if s != "ajit" or not w.startswith("W2"):
            continue
        peer = by.get((w, n, "numpy"))
        ratio = r["median"] / peer["median"]
        if int(n) >= 1000:
            total += 1
            wins += ratio <= 1
        op = w[3:]
        gbs = STREAMS.get(op, 2) * 4 * int(n) / r["median"] / 1e9
        lines.append(f"| {op} | {n} | {fmt(r['median'])} | {fmt(peer['median'])} | {ratio:.2f} | {gbs:.1f} | "
                     f"{gbs * 1e9 / triad:.0%} |")
    lines += ["", f"Cells with N >= 1000 where ajit is at least as fast as NumPy: {wins} of {total}.", "",
              "| optimizer (10 x 1000x512) | ajit steps/s | numpy steps/s | ajit / numpy (speed) |", "|---|---|---|---|"]
    for w in ("W4.sgd_momentum", "W4.adam", "W4.adamw", "W4.lion"):
        a, p = by[(w, "10x1000x512", "ajit")], by[(w, "10x1000x512", "numpy")]
        lines.append(f"| {w[3:]} | {a['median']:.0f} | {p['median']:.0f} | {a['median'] / p['median']:.1f}x |")
    return "\n".join(lines) + "\n"


def plot(records, path):
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, op in zip(axes, ("add", "exp", "softmax")):
        for system, style in (("ajit", "o-"), ("numpy", "s--")):
            pts = sorted((int(r["size"]), r["median"] / int(r["size"])) for r in records
                         if r["workload"] == "W2." + op and r["system"] == system)
            ax.loglog([p[0] for p in pts], [p[1] * 1e9 for p in pts], style, label=system)
        ax.set_title(f"W2 {op}: time per element")
        ax.set_xlabel("N")
        ax.set_ylabel("ns / element")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
