#!/usr/bin/env python3
"""W1 and W2 (g, h) of ../shared/WORKLOADS.md: ajit beside NumPy, in one run.

Rounds alternate between the systems (ajit's Google Benchmark binary, then NumPy, then
ajit again, ...) so that a noisy neighbour hurts both alike; each figure is the median of
the per-round medians. Writes bench/results/core.json (the WORKLOADS.md schema) and
bench/results/core.md (ratios). Run through bench/run.sh, which builds and sets up NumPy.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

from benchlib import fmt, time_call

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES_H = [10, 100, 1000, 10000, 100000, 1000000, 16 << 20]


def inputs(n):
    i = np.arange(n, dtype=np.float32)
    return (np.fmod(np.float32(0.37) * i, np.float32(20.0)) - np.float32(10.0)).astype(np.float32)


def numpy_workloads():
    def sum_sq(x):
        return np.sum(x * x)

    def g(x):
        s, c = np.sin(x), np.cos(x)
        return np.sum(s * s + c * c)

    def h(x):
        return np.exp(-x / np.float32(10.0)) * np.sin(x)

    def trivial(x):
        return x + np.float32(1.0)

    work = [("W1.sum_sq", 10000, sum_sq), ("W1.trivial", 1, trivial), ("W2.g", 10000, g)]
    work += [("W2.h", n, h) for n in SIZES_H]
    return work


def run_ajit(binary, min_time):
    out = subprocess.run([binary, f"--benchmark_min_time={min_time}s", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    rows = {}
    for b in json.loads(out)["benchmarks"]:
        name, size = b["name"].split("/")[0], b["name"].split("/")[1]
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        workload = {"BM_W1_sum_sq": "W1.sum_sq", "BM_W1_trivial": "W1.trivial", "BM_W2_g": "W2.g",
                    "BM_W2_h": "W2.h", "BM_W1_first_call_in_process": "W1.g_compile_in_process"}[name]
        rows[(workload, size)] = (b["real_time"] * unit, b["iterations"])
    return rows


def fresh_process_first_calls(binary, reps, cache_dir=None):
    """First call of g in `reps` new processes; with `cache_dir`, AJIT_CACHE_DIR points there."""
    env = dict(os.environ)
    env.pop("AJIT_CACHE_DIR", None)
    if cache_dir:
        env["AJIT_CACHE_DIR"] = cache_dir
    times, stages = [], []
    for _ in range(reps):
        out = subprocess.run([binary, "--first-call=g"], check=True, capture_output=True, text=True,
                             env=env).stdout
        d = json.loads(out)
        times.append(d["first_call_ms"] / 1000)
        stages.append(d)
    return times, stages


def record(workload, size, system, metric, values, reps, note=""):
    return {"workload": workload, "size": str(size), "system": system, "metric": metric,
            "median": statistics.median(values), "min": min(values), "max": max(values),
            "reps": reps, "threads": 1, "note": note}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "bench", "ajit-bench-core"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold-reps", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()

    ajit_rounds, numpy_rounds = {}, {}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}: ajit", file=sys.stderr)
        for key, (sec, iters) in run_ajit(args.binary, 0.3).items():
            ajit_rounds.setdefault(key, []).append((sec, iters))
        print(f"round {r + 1}/{args.rounds}: numpy", file=sys.stderr)
        for workload, n, fn in numpy_workloads():
            x = inputs(n)
            med, lo, hi, reps = time_call(lambda: fn(x), 0.2)
            numpy_rounds.setdefault((workload, str(n)), []).append((med, reps))
    print("first calls in fresh processes", file=sys.stderr)
    cold, stages = fresh_process_first_calls(args.binary, args.cold_reps)
    with tempfile.TemporaryDirectory() as cache_dir:
        _, filled = fresh_process_first_calls(args.binary, 1, cache_dir)
        warm, warm_stages = fresh_process_first_calls(args.binary, args.cold_reps, cache_dir)
    assert not filled[0]["disk_cache_hit"] and all(s["disk_cache_hit"] for s in warm_stages), \
        "the warm AJIT_CACHE_DIR runs did not load from the disk cache"

    records = []
    for (workload, size), vals in sorted(ajit_rounds.items()):
        records.append(record(workload, size, "ajit", "seconds", [v for v, _ in vals], sum(i for _, i in vals),
                              "cached call" if "compile" not in workload else "new jit object: trace+compile+run"))
    for (workload, size), vals in sorted(numpy_rounds.items()):
        records.append(record(workload, size, "numpy", "seconds", [v for v, _ in vals], sum(i for _, i in vals),
                              f"numpy {np.__version__}"))
    stage_note = "median stages ms: " + ", ".join(
        f"{k} {statistics.median(s[k] for s in stages):.1f}" for k in ["trace", "graph", "lowering", "llvm", "load"])
    records.append(record("W1.g_first_call_fresh_process", 10000, "ajit", "seconds", cold, len(cold), stage_note))
    warm_note = "AJIT_CACHE_DIR filled by one earlier process; median ms: " + ", ".join(
        f"{k} {statistics.median(s[k] for s in warm_stages):.2f}" for k in ["trace", "load"])
    records.append(record("W1.g_first_call_fresh_process_disk_cache", 10000, "ajit", "seconds", warm, len(warm),
                          warm_note))

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "core.json"), "w") as f:
        json.dump(records, f, indent=1)
    with open(os.path.join(args.out, "core.md"), "w") as f:
        f.write(report(records))
    print(report(records))
    print("update README.md's performance section with: python3 bench/update_readme.py", file=sys.stderr)


def report(records):
    by = {(r["workload"], r["size"], r["system"]): r for r in records}
    lines = ["| workload | N | ajit | numpy | ajit / numpy (time; < 1 is faster) |", "|---|---|---|---|---|"]
    for (w, n, s), r in sorted(by.items(), key=lambda kv: (kv[0][0], int(kv[0][1]))):
        if s != "ajit":
            continue
        peer = by.get((w, n, "numpy"))
        ratio = f"{r['median'] / peer['median']:.2f}" if peer else "-"
        peer_t = fmt(peer["median"]) if peer else "-"
        lines.append(f"| {w} | {n} | {fmt(r['median'])} | {peer_t} | {ratio} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
