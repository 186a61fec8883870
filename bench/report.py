#!/usr/bin/env python3
"""bench/results/report.md and the plots, from the JSON that bench/compare.py wrote:

    bench/.venv/bin/python bench/report.py [bench/results]

Everything here is computed from the records (W1..W6.json, machine.json) and
run_info.json alone, so re-running it on the same JSON gives the same report.
"""
import json
import math
import os
import statistics
import sys

from benchlib import fmt, pyplot

HERE = os.path.dirname(os.path.abspath(__file__))
PY = ["numpy", "jax", "torch", "torch.compile"]
BLAS = ["openblas", "onednn", "onednn.matmul_only"]
# ajit with the weights frozen into the program (ajit::constant, packed at compile time):
# beside oneDNN's prepacked weights, not a peer.
FROZEN = ["ajit.constant_weights"]
JIT = ["ajit", "jax", "torch.compile"]
OPS = ["add", "sub", "mul", "div", "scale", "abs", "clamp", "fma", "lerp", "dot", "sum", "max", "min", "argmax",
       "argmin", "norm_l1", "norm_l2", "norm_linf", "relu", "sigmoid", "tanh", "exp", "gelu", "swish", "softmax",
       "log_softmax"]
# Arrays of N floats an op streams through memory (2 for the rest: one in, one out); the
# ones that write no array are bounded by the read-only bandwidth, the rest by the triad's.
STREAMS = {**dict.fromkeys(("add", "sub", "mul", "div", "lerp"), 3), "fma": 4, "dot": 2,
           **dict.fromkeys(("sum", "max", "min", "argmax", "argmin", "norm_l1", "norm_l2", "norm_linf"), 1)}
READ_ONLY = {"dot", "sum", "max", "min", "argmax", "argmin", "norm_l1", "norm_l2", "norm_linf", "g"}
OPTIMIZER_STREAMS = {"sgd_momentum": 5, "adam": 7, "adamw": 7, "lion": 5}  # p, g, m (, v) in; p, m (, v) out
MIN_LIMIT_BYTES = 64 << 20  # below this the data may sit in a cache: no DRAM bound applies
# (title, workloads, peers that apply, limit kind)
TABLES = [
    ("W1: first call (trace + compile + run) and cached call",
     ["W1.sum_sq.first_call", "W1.g.first_call", "W1.g.first_call_disk_cache", "W1.g.compile_in_process",
      "W1.sum_sq", "W1.trivial"], PY, None),
    ("W2: g and h", ["W2.g", "W2.h"], PY, "bandwidth"),
    ("W2: op matrix", ["W2." + op for op in OPS], PY, "bandwidth"),
    ("W3: GELU", ["W3.gelu"], PY + ["onnxruntime"], "bandwidth"),
    ("W3: Linear+GELU", ["W3.linear_gelu"], FROZEN + PY + ["onnxruntime"] + BLAS, "peak"),
    ("W4: optimizer step over 10 parameters of 1000x512", ["W4." + o for o in OPTIMIZER_STREAMS], PY, "bandwidth"),
    ("W5: square matmul", ["W5.matmul"], PY + ["onnxruntime"] + BLAS[:2], "peak"),
    ("W5: MLP 784-512-512-10 (ReLU) inference", ["W5.mlp"], FROZEN + PY + ["onnxruntime"] + BLAS[:2], "peak"),
    ("W6: jit(grad), jit(vmap), jit(vmap(grad)) (NumPy: gradients by hand, batched formulas)",
     ["W6.grad", "W6.vmap", "W6.vmap_grad"], PY, None),
]
NOT_BEST = {"onednn.matmul_only", *FROZEN}  # shown for reference: it skips the GELU; ajit itself


def size_key(size):
    return [int(p) for p in size.split("x")]


def load(out_dir):
    records = []
    for name in ("W1", "W2", "W3", "W4", "W5", "W6", "machine"):
        path = os.path.join(out_dir, name + ".json")
        if os.path.exists(path):
            records += json.load(open(path))
    return records, json.load(open(os.path.join(out_dir, "run_info.json")))


def work(workload, size):
    """(bytes, None) or (None, flops) that bound this cell from below, or (None, None)."""
    op = workload.split(".", 1)[1]
    dims = size_key(size)
    if workload == "W5.matmul":
        return None, 2.0 * dims[0] ** 3
    if workload == "W3.linear_gelu":
        return None, 2.0 * dims[0] * dims[1] * dims[2]
    if workload == "W5.mlp":
        return None, 2.0 * dims[0] * (784 * 512 + 512 * 512 + 512 * 10)
    if workload.startswith("W4."):
        return OPTIMIZER_STREAMS[op] * 4.0 * 10 * 1000 * 512, None
    if workload in ("W2.g", "W2.h"):
        return (1 if op == "g" else 2) * 4.0 * dims[0], None
    if workload == "W3.gelu":
        return 2 * 4.0 * dims[0] * dims[1], None
    if workload.startswith("W2."):
        return STREAMS.get(op, 2) * 4.0 * dims[0], None
    return None, None


def limit_seconds(workload, size, threads, machine):
    """The physical limit's time for this cell, with how it was derived, or (None, '')."""
    nbytes, flops = work(workload, size)
    if flops is not None and ("machine.fma_peak", threads) in machine:
        return flops / machine[("machine.fma_peak", threads)], "peak"
    if nbytes is not None and nbytes >= MIN_LIMIT_BYTES:
        kind = "machine.read_sum" if workload.split(".", 1)[1] in READ_ONLY else "machine.triad"
        if (kind, threads) in machine:
            return nbytes / machine[(kind, threads)], kind.split(".")[1]
    return None, ""


def tables(records, info):
    """[(title, header, rows, cells)]: rows of strings; cells of (ratio to best peer,
    ratio to the limit) for the summary."""
    installed = set(info["systems"])
    machine = {(r["workload"], r["threads"]): r["median"] for r in records if r["system"] == "machine"}
    by = {}
    for r in records:
        by.setdefault((r["workload"], r["size"], r["threads"]), {})[r["system"]] = r
    out = []
    for title, workloads, applicable, limit_kind in TABLES:
        peers = [s for s in applicable if s in installed or s in BLAS or s in FROZEN]
        keys = sorted((k for k in by if k[0] in workloads),
                      key=lambda k: (workloads.index(k[0]), k[2], size_key(k[1])))
        peers = [s for s in peers if s not in BLAS + FROZEN or any(s in by[k] for k in keys)]
        if not keys:
            continue
        head = ["workload", "size", "threads", "ajit"] + peers + ["best peer", "ajit ÷ best peer"]
        if limit_kind:
            head += ["limit", "ajit ÷ limit"]
        rows, cells = [], []
        for k in keys:
            row = by[k]
            first_call = "first_call" in k[0] or "compile" in k[0]
            cell = lambda s: (fmt(row[s]["median"]) if s in row else
                              "n/a" if first_call and s not in JIT else "-")
            line = [k[0], k[1], str(k[2]), cell("ajit")] + [cell(s) for s in peers]
            present = [s for s in peers if s in row and s not in NOT_BEST]
            vs_peer = vs_limit = None
            if present and "ajit" in row:
                best = min(present, key=lambda s: row[s]["median"])
                vs_peer = row["ajit"]["median"] / row[best]["median"]
                line += [best, f"{vs_peer:.2f}"]
            else:
                line += ["-", "-"]
            if limit_kind:
                lim, how = limit_seconds(k[0], k[1], k[2], machine)
                if lim and "ajit" in row:
                    vs_limit = row["ajit"]["median"] / lim
                    line += [f"{fmt(lim)} ({how})", f"{vs_limit:.2f}"]
                else:
                    line += ["-", "-"]
            rows.append(line)
            cells.append((vs_peer, vs_limit))
        out.append((title, head, rows, cells))
    return out


def summary(cells):
    """(cells compared, cells where ajit is at least as fast, geometric mean, min, max of
    ajit ÷ best peer, median of ajit ÷ limit or None)."""
    ratios = [p for p, _ in cells if p]
    limits = [lim for _, lim in cells if lim]
    if not ratios:
        return None
    gmean = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
    return (len(ratios), sum(x <= 1 for x in ratios), gmean, min(ratios), max(ratios),
            statistics.median(limits) if limits else None)


def markdown(records, info):
    quick = info["mode"] == "quick"
    lines = ["# ajit beside its peers", "",
             f"Run of {info['date']} on {info['machine']}: `{info['command']}`, {info['mode']} mode, "
             f"{info['rounds']} round(s), about {info['budget_s']} s per cell and system, {info['duration_s']} s "
             "in all."]
    if quick:
        lines += ["", "**Quick run**: one round of short batches and fewer sizes, for everyday checks; "
                      "quote the full mode (`bash bench/run.sh`)."]
    if info.get("load_before", 0) >= 0.5:  # 1-minute load average: other work was running
        lines += ["", f"**The machine was not idle**: load average {info['load_before']} when the run began "
                      f"({os.cpu_count()} cores). Other work skews the multi-threaded rows most, OpenMP peers "
                      "(PyTorch, OpenBLAS) above all."]
    lines += ["", "Systems: " + "; ".join(dict.fromkeys(info["systems"].values())) + " (torch.compile: the same torch)" * (
        "torch.compile" in info["systems"]) +
              "; in C/C++, inside ajit-bench-matmul: OpenBLAS `cblas_sgemm`, oneDNN matmul (prepacked "
              "weights; with its bias + GELU post-op for Linear+GELU, without it as onednn.matmul_only)."]
    for s, why in info["skipped"].items():
        lines.append(f"- skipped {s}: {why}")
    for f in info["failures"]:
        lines.append(f"- failed: {f}")
    machine = [r for r in records if r["system"] == "machine"]
    if machine:
        lines += ["", "Physical limits, measured in the same run: " + "; ".join(
            f"{r['workload'].split('.')[1]} {r['median'] / 1e9:.1f} "
            f"{'GB/s' if r['metric'] == 'bytes_per_s' else 'GFLOP/s'} on {r['threads']} thread(s)"
            for r in sorted(machine, key=lambda r: (r["workload"], r["threads"]))) + "."]
    lines += [
        "", "How to read the tables: times are medians of seconds per call (W4: per step over all ten "
        "parameters; W6: per call of the jitted transform, i.e. per batch of 100 for the vmap rows; W6.grad's "
        "calls/second is 1 / its time). W6's sizes: grad, points x parameters (x 1000x100, w 100); vmap, batch "
        "x features (W 100x100, b 100, x 100x100); vmap_grad, batch x parameters (w 100, x 100x100, y 100); "
        "every system's W6 result (ajit's included) was checked against the same formulas in float64 (to 1e-4 "
        "of the largest magnitude) before it was timed. `ajit ÷ best peer` is ajit's median over the fastest "
        "peer's in the same row (below 1: ajit is faster); `limit` is the time the physical limit allows: "
        "flops / peak FMA rate for matmuls, "
        f"bytes streamed / bandwidth (triad, or read-only sum for reductions) for the rest, only where they "
        f"move {MIN_LIMIT_BYTES >> 20} MiB or more; `ajit ÷ limit` is 1 at the limit (below 1, ajit's loop "
        "outran the plain STREAM-style loop that measured the bandwidth). Every "
        "figure recomputes from the JSON beside this file (`python bench/report.py` rewrites this report "
        "from it). Rows on 1 thread and on all cores are separate; every system in a row ran on the same "
        "number of threads (NumPy's ufuncs use one whatever the setting). n/a: not a JIT, no first call; "
        "-: not measured in this run.", ""]
    for title, head, rows, _ in tables(records, info):
        lines += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines.append("")
    lines += ["## W7", "",
              "- W7 (GPU): not measured by this driver, which runs on the CPU only; on a GPU machine "
              "`tools/device/run.sh peers bench` runs `bench/gpu_peers.py` and `ajit-bench-gpu` "
              "(the README's GPU section says what has run).", "",
              "Notes per system: " + "; ".join(sorted({f"{r['system']}: {r['note']}" for r in records
                                                       if r.get("note") and "first_call" not in r["workload"]
                                                       and r["system"] != "machine"})) + "."]
    return "\n".join(lines) + "\n"


#===--- Plots --------------------------------------------------------------------===#

def plots(records, out_dir):
    plt = pyplot()
    if plt is None:
        return
    systems = lambda rs: sorted({r["system"] for r in rs}, key=lambda s: (s != "ajit", s))

    # Time per element against N: W2's h on one thread, and two op-matrix ops if swept.
    swept = lambda w: len({r["size"] for r in records if r["workload"] == w}) > 1
    panels = [("W2.h", 1)] * swept("W2.h") + [(w, os.cpu_count()) for w in ("W2.add", "W2.exp") if swept(w)]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
        for ax, (w, t) in zip(axes[0], panels):
            rs = [r for r in records if r["workload"] == w and r["threads"] == t]
            for s in systems(rs):
                pts = sorted((int(r["size"]), r["median"] / int(r["size"]) * 1e9) for r in rs if r["system"] == s)
                ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o-" if s == "ajit" else ".--", label=s)
            ax.set(title=f"{w}: time per element, {t} thread(s)", xlabel="N", ylabel="ns / element")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "time_per_element.png"), dpi=90)
        plt.close(fig)

    # GFLOP/s against n for the square matmul, one panel per thread count, with the peak.
    threads = sorted({r["threads"] for r in records if r["workload"] == "W5.matmul"})
    if threads:
        fig, axes = plt.subplots(1, len(threads), figsize=(5.5 * len(threads), 4.2), squeeze=False, sharey=True)
        for ax, t in zip(axes[0], threads):
            rs = [r for r in records if r["workload"] == "W5.matmul" and r["threads"] == t]
            for s in systems(rs):
                pts = sorted((int(r["size"]), 2 * int(r["size"]) ** 3 / r["median"] / 1e9) for r in rs
                             if r["system"] == s)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-" if s == "ajit" else ".--", label=s)
            for r in records:
                if r["workload"] == "machine.fma_peak" and r["threads"] == t:
                    ax.axhline(r["median"] / 1e9, color="k", ls=":", label="peak FMA")
            ax.set_xscale("log", base=2)
            ax.set(title=f"W5 square f32 matmul, {t} thread(s)", xlabel="n (n x n x n)", ylabel="GFLOP/s")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "gflops.png"), dpi=90)
        plt.close(fig)

    # First call (compile included) against the cached call, per JIT system, log scale.
    bars = [("W1.sum_sq.first_call", "sum_sq first call"), ("W1.g.first_call", "g first call"),
            ("W1.g.first_call_disk_cache", "g first call, warm disk cache"), ("W1.sum_sq", "sum_sq cached call")]
    jits = [s for s in JIT if any(r["system"] == s and r["workload"] == "W1.sum_sq.first_call" for r in records)]
    if jits:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        width = 0.8 / len(bars)
        for i, (w, label) in enumerate(bars):
            vals = [next((r["median"] for r in records if r["workload"] == w and r["system"] == s), float("nan"))
                    for s in jits]
            ax.bar([j + i * width for j in range(len(jits))], vals, width, label=label)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(jits))], jits)
        ax.set_yscale("log")
        ax.set(title="W1: first call (trace + compile + run) vs cached call, N = 10000", ylabel="seconds")
        ax.grid(True, axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "compile_vs_cached.png"), dpi=90)
        plt.close(fig)


def write(out_dir):
    records, info = load(out_dir)
    text = markdown(records, info)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(text)
    plots(records, out_dir)
    return text


if __name__ == "__main__":
    print(write(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "results")))
