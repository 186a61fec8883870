#!/usr/bin/env python3
"""Recomputes every ratio of bench/results/report.md from the JSON beside it, by code
independent of report.py's, and fails on the first that differs:

    bench/.venv/bin/python bench/check_report.py [bench/results]

For each table row: the best peer must be the fastest system in the row (onednn.matmul_only
aside: it skips the GELU; and ajit.constant_weights: ajit itself), `ajit ÷ best peer` its median over ajit's, and `ajit ÷ limit`
ajit's median over flops / peak FMA rate (matmuls) or bytes / bandwidth (the rest), with the
rates from machine.json. compare.py runs it after every report.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUB_FLOPS = {"W5.mlp": lambda b: 2 * b[0] * (784 * 512 + 512 * 512 + 512 * 10),
             "W5.matmul": lambda d: 2 * d[0] ** 3, "W3.linear_gelu": lambda d: 2 * d[0] * d[1] * d[2]}
ARRAYS = {"add": 3, "sub": 3, "mul": 3, "div": 3, "lerp": 3, "fma": 4, "dot": 2, "h": 2, "gelu": 2,
          "sgd_momentum": 50, "lion": 50, "adam": 70, "adamw": 70}  # W4: streams x 10 parameters


def nbytes(workload, dims):
    op = workload.split(".", 1)[1]
    count = dims[0] * (dims[1] if len(dims) == 2 else 1) if not workload.startswith("W4.") else 512000
    return 4 * count * ARRAYS.get(op, 1 if op in ("sum", "max", "min", "argmax", "argmin", "norm_l1", "norm_l2",
                                                  "norm_linf", "g") else 2)


def main(out_dir):
    records = []
    for name in os.listdir(out_dir):
        if name.endswith(".json") and name != "run_info.json":
            records += json.load(open(os.path.join(out_dir, name)))
    rec = {(r["workload"], r["size"], r["threads"], r["system"]): r["median"] for r in records}
    checked = 0
    head = None
    for line in open(os.path.join(out_dir, "report.md")):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0].startswith("---"):
            head = None if not line.startswith("|") else head
            continue
        if cells[0] == "workload":
            head = cells
            continue
        row = dict(zip(head, cells))
        w, size, t = row["workload"], row["size"], int(row["threads"])
        ajit = rec.get((w, size, t, "ajit"))
        peers = {s: rec[(w, size, t, s)] for s in head[4:head.index("best peer")]
                 if (w, size, t, s) in rec and s not in ("onednn.matmul_only", "ajit.constant_weights")}
        if peers and ajit:
            best = min(peers, key=peers.get)
            assert row["best peer"] == best, (w, size, t, row["best peer"], best)
            assert abs(float(row["ajit ÷ best peer"]) - ajit / peers[best]) <= 0.006, (w, size, t, "peer ratio")
            checked += 1
        if row.get("ajit ÷ limit", "-") != "-":
            dims = [int(d) for d in size.split("x")]
            how = row["limit"].split("(")[1].rstrip(")")
            if how == "peak":
                limit = SUB_FLOPS[w](dims) / rec[("machine.fma_peak", "1", t, "machine")]
            else:
                limit = nbytes(w, dims) / rec[("machine." + how, str(16 << 20), t, "machine")]
            assert abs(float(row["ajit ÷ limit"]) - ajit / limit) <= 0.006 * max(1, ajit / limit), (w, size, t, "limit")
            checked += 1
    print(f"report.md: {checked} ratios recomputed from the JSON, all agree")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "results"))
