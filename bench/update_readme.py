#!/usr/bin/env python3
"""Rewrites README.md's performance section from the latest report (bench/results):

    bench/.venv/bin/python bench/update_readme.py [bench/results]

The section sits between <!-- perf:begin --> and <!-- perf:end -->. It is computed from the
same JSON as report.md, by the same code (report.tables), so the two always agree; it
names the machine, the date and the mode of the run. bench/compare.py calls this after a
full run.
"""
import os
import re
import sys

import report
from benchlib import fmt

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def section(out_dir):
    records, info = report.load(out_dir)
    lines = [f"Run of {info['date']} on {info['machine']}: `{info['command']}` ({info['mode']} mode, "
             f"{info['rounds']} round(s), {info['duration_s']} s). Full tables: `bench/results/report.md`; "
             "JSON: `bench/results/W1.json` ... `W6.json`, `machine.json`; plots: "
             "`bench/results/time_per_element.png`, `gflops.png`, `compile_vs_cached.png`."]
    if info["mode"] == "quick":
        lines += ["", "**These are quick-mode figures** (one round of short batches): indicative only."]
    if info.get("load_before", 0) >= 0.5:
        lines += ["", f"**The machine was not idle** (load average {info['load_before']} when the run began): "
                      "the multi-threaded rows are skewed."]
    lines += ["", "Peers: " + "; ".join(dict.fromkeys(v for s, v in info["systems"].items() if s != "ajit")) +
              "; OpenBLAS `cblas_sgemm` and oneDNN (C++)." +
              "".join(f" Skipped {s}: {why}." for s, why in info["skipped"].items()), "",
              "`ajit ÷ best peer` is ajit's time over the fastest peer's in the same row and thread count "
              "(below 1: ajit is faster); `ajit ÷ limit` is ajit's time over the time the measured peak FMA "
              "rate or memory bandwidth allows (1 is the limit).", "",
              "| workload | cells | ajit at least as fast | ajit ÷ best peer, geometric mean (range) | "
              "ajit ÷ limit, median |", "|---|---|---|---|---|"]
    for title, _, _, cells in report.tables(records, info):
        s = report.summary(cells)
        if s:
            n, wins, gmean, lo, hi, lim = s
            lines.append(f"| {title} | {n} | {wins} | {gmean:.2f} ({lo:.2f} - {hi:.2f}) | "
                         f"{'-' if lim is None else f'{lim:.2f}'} |")
    by = {(r["workload"], r["system"]): r["median"] for r in records if r["workload"].startswith("W1.")}
    jits = [s for s in report.JIT if (("W1.sum_sq", s) in by or ("W1.sum_sq.first_call", s) in by)]
    if jits:
        cols = [("W1.sum_sq.first_call", "sum_sq first call"), ("W1.g.first_call", "g first call"),
                ("W1.g.first_call_disk_cache", "g, warm disk cache"), ("W1.sum_sq", "sum_sq cached call")]
        lines += ["", "First call (trace + compile + run, fresh process) against the cached call, N = 10000:", "",
                  "| system | " + " | ".join(c for _, c in cols) + " |", "|---|" + "---|" * len(cols)]
        for s in jits:
            lines.append(f"| {s} | " + " | ".join(fmt(by[(w, s)]) if (w, s) in by else "-" for w, _ in cols) + " |")
    lines += ["", "Not measured by this driver: W7 (GPU; it runs on the CPU only). On a GPU machine "
              "`tools/device/run.sh peers bench` runs `bench/gpu_peers.py` and `ajit-bench-gpu`: see the GPU "
              "section above for what has run."]
    return "\n".join(lines)


def main(out_dir=None):
    block = "<!-- perf:begin -->\n" + section(out_dir or os.path.join(HERE, "results")) + "\n<!-- perf:end -->"
    readme = os.path.join(ROOT, "README.md")
    text = open(readme).read()
    text, n = re.subn(r"<!-- perf:begin -->.*?<!-- perf:end -->", lambda _: block, text, flags=re.S)
    if n != 1:
        raise SystemExit("README.md has no <!-- perf:begin --> ... <!-- perf:end --> section")
    open(readme, "w").write(text)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
