#!/usr/bin/env python3
"""Rewrites README.md's performance section from bench/results/core.json.

The section sits between the markers <!-- perf:begin --> and <!-- perf:end -->; the
table is recomputed from the JSON (so it always matches it), with the machine and date.
"""
import datetime
import json
import os
import re

from benchlib import fmt, machine

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    path = os.path.join(HERE, "results", "core.json")
    records = json.load(open(path))
    by = {(r["workload"], r["size"], r["system"]): r for r in records}
    when = datetime.datetime.fromtimestamp(os.path.getmtime(path)).strftime("%Y-%m-%d")
    numpy = next((r["note"] for r in records if r["system"] == "numpy" and r["note"]), "NumPy")
    lines = [f"Measured {when} on {machine()}: medians of ajit and {numpy} in alternating rounds of "
             "one run (`bash bench/run.sh`, then `python3 bench/update_readme.py`). The ratio is ajit's time "
             "over NumPy's: below 1, ajit is faster. Single-threaded; cached calls unless named otherwise.", "",
             "| workload | N | ajit | NumPy | ajit / NumPy |", "|---|---|---|---|---|"]
    for (w, n, s), r in sorted(by.items(), key=lambda kv: (kv[0][0], int(kv[0][1]))):
        if s != "ajit":
            continue
        peer = by.get((w, n, "numpy"))
        ratio = f"{r['median'] / peer['median']:.2f}" if peer else "-"
        lines.append(f"| {w} | {n} | {fmt(r['median'])} | {fmt(peer['median']) if peer else '-'} | {ratio} |")
    cold = by.get(("W1.g_first_call_fresh_process", "10000", "ajit"))
    if cold:
        lines += ["", f"W1.g_first_call_fresh_process is trace + compile + run of W2's g in a new process "
                      f"({cold['reps']} processes; {cold['note']})."]
    warm = by.get(("W1.g_first_call_fresh_process_disk_cache", "10000", "ajit"))
    if warm:
        lines += ["", f"W1.g_first_call_fresh_process_disk_cache is the same with a warm persistent cache: "
                      f"trace + load of the stored object + run ({warm['reps']} processes; {warm['note']})."]
    block = "<!-- perf:begin -->\n" + "\n".join(lines) + "\n<!-- perf:end -->"
    readme = os.path.join(ROOT, "README.md")
    text = open(readme).read()
    text, n = re.subn(r"<!-- perf:begin -->.*?<!-- perf:end -->", block, text, flags=re.S)
    if n != 1:
        raise SystemExit("README.md has no <!-- perf:begin --> ... <!-- perf:end --> section")
    open(readme, "w").write(text)


if __name__ == "__main__":
    main()
