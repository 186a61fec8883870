#!/usr/bin/env python3
"""W7's report from one GPU run: ajit-bench-gpu's records beside bench/gpu_peers.py's
(both JSON lines, WORKLOADS.md's schema), as markdown:

- memory-bound rows (W2 at each size): ajit's time, PyTorch eager's, and ajit's achieved
  bandwidth (the bytes its kernels read and write per call, over its time) as a fraction
  of the device-to-device copy bandwidth measured in the same run (issue: >= 0.8 at 64M);
- Linear+GELU: ajit's fused kernel against cuBLAS sgemm + a separate GELU kernel
  (issue: ajit reaches >= 0.5 of its speed), and the product alone against cuBLAS.

    python3 bench/gpu_report.py gpu-bench.jsonl gpu-peers.jsonl > W7.md
"""
import json
import sys


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if "workload" in r:
                rows[(r["workload"], str(r["size"]), r["system"])] = r
    return rows


def us(seconds):
    return f"{seconds * 1e6:.1f}"


def main(ajit_path, peers_path):
    rows = {**load(ajit_path), **load(peers_path)}
    copy = rows.get(("W7.copy", str(64 << 20), "ajit")) or rows.get(("W7.copy", str(64 << 20), "cuda"))
    copy_bw = 2 * 4 * (64 << 20) / copy["median"] if copy else None
    out = ["# W7 on the GPU", ""]
    if copy_bw:
        out.append(f"Device-to-device copy: {copy_bw / 1e12:.2f} TB/s (bytes read + written, 64M floats).")
        out.append("")
    out += ["| op | size | ajit us | torch us | torch / ajit | ajit GB/s | ajit / copy |", "|---|---|---|---|---|---|---|"]
    for (workload, size, system), r in sorted(rows.items(), key=lambda kv: (int(kv[0][1]) if kv[0][1].isdigit() else 0,
                                                                            kv[0][0])):
        if system != "ajit" or not workload.startswith("W2."):
            continue
        peer = rows.get((workload, size, "torch"))
        bw = r.get("bytes", 0) / r["median"] if r.get("bytes") else None
        out.append("| {} | {} | {} | {} | {} | {} | {} |".format(
            workload[3:], size, us(r["median"]), us(peer["median"]) if peer else "-",
            f"{peer['median'] / r['median']:.2f}" if peer else "-", f"{bw / 1e9:.0f}" if bw else "-",
            f"{bw / copy_bw:.2f}" if bw and copy_bw else "-"))
    out += ["", "| Linear+GELU | ajit us | cuBLAS + GELU us | ajit speed / theirs | ajit product us | cuBLAS us |"
            " ajit TFLOP/s |", "|---|---|---|---|---|---|---|"]
    for (workload, size, system), r in sorted(rows.items()):
        if workload != "W3.linear_gelu" or system != "ajit":
            continue
        peer = rows.get((workload, size, "cublas+gelu"))
        product, cublas = rows.get(("W3.matmul", size, "ajit")), rows.get(("W3.matmul", size, "cublas"))
        m, k, n = (int(x) for x in size.split("x"))
        out.append("| {} | {} | {} | {} | {} | {} | {:.1f} |".format(
            size, us(r["median"]), us(peer["median"]) if peer else "-",
            f"{peer['median'] / r['median']:.2f}" if peer else "-", us(product["median"]) if product else "-",
            us(cublas["median"]) if cublas else "-", 2 * m * k * n / r["median"] / 1e12))
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
