#!/usr/bin/env python3
"""Every workload of WORKLOADS.md for ajit and its peers, side by side in one run.

    bash bench/run.sh [--quick]        (builds the bench binaries, sets up bench/.venv, runs this)
    bench/.venv/bin/python bench/compare.py [--quick] [--systems ajit,numpy,...] [--workloads W1,...,W6]
                                            [--rounds R] [--budget S]

Each round runs every group of measurements once, every system in turn (the order rotates
from round to round), so that a noisy neighbour hurts all alike; a figure is the median of
the rounds' medians, min and max the extremes over all rounds. Groups share a thread count
and each system runs in its own process with its pools sized to it (AJIT_NUM_THREADS,
OMP/OpenBLAS/MKL variables, the CPU affinity of the Python peers):
  - 1 thread: W1 (cached calls; first calls in fresh processes), W2's g and h;
  - all cores: W2's op matrix and W4's optimizers;
  - 1 thread and all cores (--quick: all cores only): W3 and W5, with OpenBLAS, oneDNN and
    the peak FMA rate timed inside ajit-bench-matmul; W6 (grad, vmap: ajit-bench-transforms).
--workloads runs only the groups that hold the workloads named (and keeps only their records).
Writes bench/results/W1..W6.json and machine.json (WORKLOADS.md's schema), run_info.json
(machine, date, peers and why any was skipped), report.md and the plots (bench/report.py,
checked against the JSON by bench/check_report.py);
a full run also rewrites README.md's performance section (bench/update_readme.py).
"""
import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import check_report
import peers
import report
import update_readme
from benchlib import combine, machine, record

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORES = os.cpu_count()
MODES = {
    # quick: one round, short batches, the op matrix at 1M only (out of L2, threaded, and
    # 16x cheaper than 16M), matmuls on all cores only and without the two largest shapes.
    "quick": dict(rounds=1, budget=0.05, op_sizes=[1 << 20], matmul_threads=[CORES], core_min_time=0.05,
                  core_reps=3, job_timeout=900),
    "full": dict(rounds=3, budget=0.2, op_sizes=[100, 1000, 10000, 100000, 1000000, 16 << 20],
                 matmul_threads=sorted({1, CORES}), core_min_time=0.1, core_reps=5, job_timeout=3600),
}
PEERS = ["numpy", "jax", "torch", "torch.compile", "onnxruntime"]
WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6"]
JIT_SYSTEMS = ["ajit", "jax", "torch.compile"]  # the ones with a first call to measure
# pip arguments to try in turn for each peer's packages (PyPI; torch's CPU-only wheels
# first, as they are a tenth of the size of the default CUDA build).
INSTALL = {"numpy": [["numpy"]], "jax": [["jax"]],
           "torch": [["torch", "--index-url", "https://download.pytorch.org/whl/cpu"], ["torch"]],
           "onnxruntime": [["onnxruntime", "onnx"]]}
VERSION = {"numpy": "import numpy as m", "jax": "import jax as m", "torch": "import torch as m",
           "onnxruntime": "import onnx, onnxruntime as m"}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


#===--- Peers: installed into this virtual environment, or skipped with a reason ----===#

def peer_version(package):
    p = subprocess.run([sys.executable, "-c", VERSION[package] + "; print(m.__version__)"],
                       capture_output=True, text=True)
    if p.returncode == 0:
        return p.stdout.strip(), None
    return None, (p.stderr.strip().splitlines() or ["import failed"])[-1]


def setup_peers(wanted, install):
    """{system: version} of the peers that import, and {system: reason} of the others."""
    versions, skipped = {}, {}
    for package in ("numpy", "jax", "torch", "onnxruntime"):
        systems = [s for s in wanted if s == package or (package == "torch" and s == "torch.compile")]
        if not systems:
            continue
        version, why = peer_version(package)
        for args in INSTALL[package] if version is None and install else []:
            log(f"installing {package}: pip install {' '.join(args)}")
            p = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--timeout", "30", "--retries", "1"]
                               + args, capture_output=True, text=True)
            if p.returncode == 0:
                version, why = peer_version(package)
                if version:
                    break
            else:
                why = "pip install failed: " + (p.stderr.strip().splitlines() or ["?"])[-1]
        for s in systems:
            if version:
                versions[s] = f"{package} {version}"
            else:
                skipped[s] = why if install else f"not installed ({why}); --no-install given"
    if "torch.compile" in versions and not (shutil.which("g++") or shutil.which("c++")):
        skipped["torch.compile"] = "no C++ compiler on PATH (inductor's CPU backend needs one)"
        del versions["torch.compile"]
    for s, why in skipped.items():
        log(f"peer {s} skipped: {why}")
    return versions, skipped


#===--- Running one measurement process ---------------------------------------------===#

def thread_env(threads, **extra):
    env = dict(os.environ, AJIT_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               # inductor's compiled graphs persist here across runs (its first-ever set-up
               # takes ~20 s); one compile worker, as the machine is small.
               TORCHINDUCTOR_CACHE_DIR=os.path.join(HERE, ".venv", "torchinductor"),
               TORCHINDUCTOR_COMPILE_THREADS="1", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("AJIT_CACHE_DIR", None)
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def run_json_lines(cmd, env, timeout):
    """The JSON records a process printed, one per line; raises with its last stderr line."""
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    records = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    if p.returncode != 0:
        raise RuntimeError((p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1])
    return records


def peer_job(system, threads, parts, cfg, quick, extra=()):
    cmd = [sys.executable, os.path.join(HERE, "peers.py"), "--system", system, "--threads", str(threads),
           "--parts", parts, "--sizes", ",".join(map(str, cfg["op_sizes"])), "--budget", str(cfg["budget"])]
    return lambda: run_json_lines(cmd + (["--quick"] if quick else []) + list(extra), thread_env(threads),
                                  cfg["job_timeout"])


CORE_BENCHMARKS = {"BM_W1_sum_sq": "W1.sum_sq", "BM_W1_trivial": "W1.trivial", "BM_W2_g": "W2.g",
                   "BM_W2_h": "W2.h", "BM_W1_first_call_in_process": "W1.g.compile_in_process"}
TRANSFORM_BENCHMARKS = {"BM_W6_grad": "W6.grad", "BM_W6_vmap": "W6.vmap", "BM_W6_vmap_grad": "W6.vmap_grad"}
# ajit-bench-transforms' benchmarks take no size argument: the sizes of peers.py's W6 cases.
TRANSFORM_SIZES = {w: size for w, (size, _) in peers.transform_inputs().items()}


def ajit_gbench(binary, names, cfg, threads=1, sizes=None):
    """Records from a Google Benchmark binary (ajit-bench-core: W1/W2 cached calls;
    ajit-bench-transforms: W6), one per benchmark over its repetitions; the size is the
    benchmark's argument, or sizes[workload]."""
    # A plain number of seconds: Debian 12's Google Benchmark (1.7) ignores "0.05s".
    cmd = [binary, f"--benchmark_min_time={cfg['core_min_time']}", f"--benchmark_repetitions={cfg['core_reps']}",
           "--benchmark_format=json"]
    p = subprocess.run(cmd, env=thread_env(threads), capture_output=True, text=True, check=True,
                       timeout=cfg["job_timeout"])
    runs = {}
    for b in json.loads(p.stdout)["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration":
            continue
        parts = b["name"].split("/")
        w = names[parts[0]]
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        runs.setdefault((w, parts[1] if len(parts) > 1 else sizes[w]), []).append(
            (b["real_time"] * unit, b["iterations"]))
    out = []
    for (w, n), rs in runs.items():
        ts = sorted(t for t, _ in rs)
        note = ("a new jit object each call: trace + compile + run, compiler warm" if "compile" in w
                else "cached call")
        out.append(record(w, n, "ajit", ts[len(ts) // 2], ts[0], ts[-1], sum(i for _, i in rs), threads, note))
    return out


def ajit_transforms(binary, threads, cfg):
    """W6: ajit-bench-transforms' results, checked against peers.py's float64 reference as
    the peers' are (a workload that disagrees is skipped, with why), then timed."""
    want, bad = peers.transform_reference(), {}
    for r in run_json_lines([binary, "--results"], thread_env(threads), cfg["job_timeout"]):
        try:
            peers.check(np.array(r["values"], np.float32).reshape(r["shape"]), want[r["workload"]])
        except ValueError as e:
            bad[r["workload"]] = str(e)
    out = [r for r in ajit_gbench(binary, TRANSFORM_BENCHMARKS, cfg, threads, TRANSFORM_SIZES)
           if r["workload"] not in bad]
    return out + [{"workload": w, "size": TRANSFORM_SIZES[w], "system": "ajit", "skipped": why}
                  for w, why in bad.items()]


def ajit_lines(cmd, threads, cfg):
    """Records of ajit-bench-fusion / ajit-bench-matmul, the machine's limits as rates."""
    out = []
    for r in run_json_lines(cmd, thread_env(threads), cfg["job_timeout"]):
        w = r["workload"]
        if w.startswith("machine."):  # fusion: seconds per pass over `size` bytes
            b = float(r["size"])
            out.append(record(w.replace("_bytes", ""), 16 << 20, "machine", b / r["median"], b / r["max"],
                              b / r["min"], r["reps"], threads, "STREAM-style, float32, 16M elements",
                              "bytes_per_s"))
        elif w == "peak.fma":  # matmul: seconds per flop
            out.append(record("machine.fma_peak", 1, "machine", 1 / r["median"], 1 / r["max"], 1 / r["min"],
                              r["reps"], threads, r["note"], "flops_per_s"))
        else:
            size = "10x1000x512" if w.startswith("W4.") else r["size"]
            out.append(record(w, size, r.get("system", "ajit"), r["median"], r["min"], r["max"], r["reps"],
                              threads, r.get("note", "cached call")))
    return out


def ajit_first_call(binary, fn, label, cache_dir, timeout):
    p = subprocess.run([binary, f"--first-call={fn}"], env=thread_env(1, AJIT_CACHE_DIR=cache_dir),
                       capture_output=True, text=True, check=True, timeout=timeout)
    d = json.loads(p.stdout)
    t = d["first_call_ms"] / 1000
    stages = ", ".join(f"{k} {d[k]:.1f}" for k in ("trace", "graph", "lowering", "llvm", "load"))
    hit = ", loaded from AJIT_CACHE_DIR" if d["disk_cache_hit"] else ""
    return [record(label, 10000, "ajit", t, t, t, 1, 1, f"fresh process{hit}; stages ms: {stages}")]


def first_call_jobs(system, bin_dir, cfg, scratch, r):
    """W1 in fresh processes: sum_sq compiled cold; g compiled cold with an empty
    persistent cache (AJIT_CACHE_DIR, JAX's compilation cache; for torch.compile, a graph
    its shared inductor cache has not seen), then g again in a new process with that cache
    warm."""
    cache = os.path.join(scratch, f"{system}-{r}")
    os.makedirs(cache, exist_ok=True)
    salt = str(1 + random.random())
    jobs = []
    for fn, label, cache_dir in (("sum_sq", "W1.sum_sq.first_call", None), ("g", "W1.g.first_call", cache),
                                 ("g", "W1.g.first_call_disk_cache", cache)):
        if system == "ajit":
            jobs.append(lambda fn=fn, label=label, c=cache_dir: ajit_first_call(
                os.path.join(bin_dir, "ajit-bench-core"), fn, label, c, cfg["job_timeout"]))
        else:
            extra = ["--first-call", fn, "--label", label, "--salt", salt] + (
                ["--cache-dir", cache_dir] if cache_dir else [])
            jobs.append(peer_job(system, 1, "", cfg, False, extra))
    return jobs


def plan(systems, bin_dir, cfg, quick, scratch, r, workloads):
    """The groups of one round that hold any of `workloads`: [(group name, [(system, [jobs])])]."""
    exe = lambda name: os.path.join(bin_dir, name)
    groups = [("W1 first calls", [(s, first_call_jobs(s, bin_dir, cfg, scratch, r))
                                  for s in JIT_SYSTEMS if s in systems])]
    core = [("ajit", [lambda: ajit_gbench(exe("ajit-bench-core"), CORE_BENCHMARKS, cfg),
                      lambda: ajit_lines([exe("ajit-bench-fusion"), f"--budget={cfg['budget']}", "--only=machine"],
                                         1, cfg)])]
    core += [(s, [peer_job(s, 1, "core", cfg, quick)]) for s in systems if s in PEERS[:4]]
    groups.append(("W1 cached, W2 g/h (1 thread)", core))
    sizes = ",".join(map(str, cfg["op_sizes"]))
    fusion = [("ajit", [lambda: ajit_lines([exe("ajit-bench-fusion"), f"--budget={cfg['budget']}",
                                            f"--sizes={sizes}"], CORES, cfg)])]
    fusion += [(s, [peer_job(s, CORES, "ops,optim", cfg, quick)]) for s in systems if s in PEERS[:4]]
    groups.append((f"W2 op matrix, W4 ({CORES} threads)", fusion))
    for t in cfg["matmul_threads"]:
        # ajit-bench-matmul splits its budget among the (up to 4) systems it interleaves.
        mm = [("ajit", [lambda t=t: ajit_lines([exe("ajit-bench-matmul"), f"--budget={cfg['budget'] * 4}"]
                                               + (["--quick"] if quick else []), t, cfg)])]
        mm += [(s, [peer_job(s, t, "matmul", cfg, quick)]) for s in systems if s in PEERS]
        groups.append((f"W3, W5 ({t} thread{'s' if t > 1 else ''})", mm))
    for t in cfg["matmul_threads"]:  # small products: on 1 thread and all cores, as W3/W5
        tr = [("ajit", [lambda t=t: ajit_transforms(exe("ajit-bench-transforms"), t, cfg)])]
        tr += [(s, [peer_job(s, t, "transforms", cfg, quick)]) for s in systems if s in PEERS[:4]]
        groups.append((f"W6 ({t} thread{'s' if t > 1 else ''})", tr))
    # A group's name lists the workloads it holds.
    return [(name, [(s, jobs) for s, jobs in members if s in systems]) for name, members in groups
            if any(w in name for w in workloads)]


def ajit_version():
    git = lambda *a: subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True).stdout.strip()
    dirty = " with uncommitted edits" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"ajit {git('rev-parse', '--short', 'HEAD') or '(no git)'}{dirty}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="everyday mode, a few minutes")
    ap.add_argument("--systems", default=",".join(["ajit"] + PEERS), help="comma-separated subset")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset of "
                    + ",".join(WORKLOADS) + " (the groups that hold them run; the records of the others are dropped)")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--budget", type=float, help="seconds per measured cell and system")
    ap.add_argument("--build-dir", default=os.environ.get("AJIT_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--no-install", action="store_true", help="use the peers already in the environment")
    ap.add_argument("--readme", choices=["auto", "yes", "no"], default="auto",
                    help="rewrite README.md's performance section (auto: in full mode only)")
    args = ap.parse_args()
    mode = "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    cfg.update({k: v for k, v in (("rounds", args.rounds), ("budget", args.budget)) if v})
    wanted = [s for s in args.systems.split(",") if s]
    workloads = [w for w in args.workloads.split(",") if w]
    if set(workloads) - set(WORKLOADS):
        ap.error(f"--workloads: not one of {','.join(WORKLOADS)}: {','.join(sorted(set(workloads) - set(WORKLOADS)))}")
    started, load_before = time.time(), os.getloadavg()[0]
    version = ajit_version()  # now, beside run.sh's build: edits made during the run are not in it

    versions, skipped = setup_peers([s for s in wanted if s != "ajit"], not args.no_install)
    bin_dir = os.path.join(args.build_dir, "bench")
    systems = [s for s in wanted if s == "ajit" or s in versions]
    runs, failures = {}, []
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(cfg["rounds"]):
            for name, members in plan(systems, bin_dir, cfg, args.quick, scratch, r, workloads):
                k = r % len(members) if members else 0
                for system, jobs in members[k:] + members[:k]:
                    log(f"round {r + 1}/{cfg['rounds']}, {name}: {system} ({time.time() - started:.0f} s)")
                    for job in jobs:
                        try:
                            for rec in job():
                                if "skipped" in rec:  # one case failed, or disagreed with the reference
                                    log(f"  {rec['workload']} {rec['size']} skipped: {rec['skipped']}")
                                    failures.append(f"{system}, {name}, {rec['workload']} {rec['size']}: "
                                                    f"{rec['skipped']}")
                                    continue
                                runs.setdefault((rec["workload"], rec["size"], rec["system"], rec["threads"]),
                                                []).append(rec)
                        except (RuntimeError, subprocess.SubprocessError, OSError) as e:
                            why = str(e).strip() or type(e).__name__
                            log(f"  failed: {why}")
                            failures.append(f"{system}, {name}: {why}")
    records = [combine(rs) for rs in runs.values()]
    records = [r for r in records if r["system"] == "machine" or r["workload"].split(".")[0] in workloads]

    os.makedirs(args.out, exist_ok=True)
    for prefix in WORKLOADS + ["machine"]:
        mine = sorted((r for r in records if r["workload"].split(".")[0] == prefix),
                      key=lambda r: (r["workload"], r["threads"], report.size_key(r["size"]), r["system"]))
        with open(os.path.join(args.out, prefix + ".json"), "w") as f:
            json.dump(mine, f, indent=1)
    info = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine(), "mode": mode,
            "rounds": cfg["rounds"], "budget_s": cfg["budget"], "threads": CORES,
            "command": " ".join(["bash bench/run.sh"] + sys.argv[1:]),
            "systems": {"ajit": version, **{s: versions[s] for s in systems if s != "ajit"}},
            "skipped": skipped, "failures": failures, "duration_s": round(time.time() - started),
            "load_before": round(load_before, 2)}
    with open(os.path.join(args.out, "run_info.json"), "w") as f:
        json.dump(info, f, indent=1)
    report.write(args.out)
    check_report.main(args.out)
    if args.readme == "yes" or (args.readme == "auto" and mode == "full"):
        update_readme.main(args.out)
        log("README.md's performance section rewritten from", os.path.join(args.out, "report.md"))
    log(f"done in {time.time() - started:.0f} s: {args.out}/report.md")


if __name__ == "__main__":
    main()
