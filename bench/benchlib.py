"""Helpers shared by the bench scripts: timing a Python callable, the inputs every system
gets, combining rounds into one record, formatting times, naming the machine."""
import os
import platform
import statistics
import time

import numpy as np


def time_call(fn, budget, sync=lambda y: y):
    """(median, min, max, calls) of seconds per call of fn() over 7 batches that together
    fill about `budget` seconds, after one warm-up call (compiles, first touches). Same
    scheme as timeIt in bench/*_bench.cpp, so ajit and the peers are timed alike. `sync`
    waits for an asynchronous result (JAX)."""
    sync(fn())
    t0, probe = time.perf_counter(), 0
    while probe < 1 or time.perf_counter() - t0 < budget / 20:
        sync(fn())
        probe += 1
    per = (time.perf_counter() - t0) / probe
    batch = max(1, int(budget / 7 / per))
    runs = []
    for _ in range(7):
        s = time.perf_counter()
        for _ in range(batch):
            sync(fn())
        runs.append((time.perf_counter() - s) / batch)
    return statistics.median(runs), min(runs), max(runs), 7 * batch


def ramp(n, scale, offset=0.0):
    """The inputs of bench/*_bench.cpp: fmod(0.37 i + offset, 2 scale) - scale, float32."""
    i = np.arange(n, dtype=np.float32)
    return (np.fmod(np.float32(0.37) * i + np.float32(offset), np.float32(2 * scale))
            - np.float32(scale)).astype(np.float32)


def wave(shape, scale):
    """The inputs of bench/transforms_bench.cpp (W6): sin(0.37 i) * scale over the flattened
    index i, computed in double and rounded to float32."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (np.sin(0.37 * i) * scale).astype(np.float32).reshape(shape)


def record(workload, size, system, median, lo, hi, reps, threads, note="", metric="seconds"):
    return {"workload": workload, "size": str(size), "system": system, "metric": metric,
            "median": median, "min": lo, "max": hi, "reps": reps, "threads": threads, "note": note}


def combine(per_round):
    """One record from the same measurement taken in several rounds: the median of the
    rounds' medians, the extremes of their extremes, all their repetitions."""
    first = per_round[0]
    return dict(first, median=statistics.median(r["median"] for r in per_round),
                min=min(r["min"] for r in per_round), max=max(r["max"] for r in per_round),
                reps=sum(r["reps"] for r in per_round))


def fmt(seconds):
    """A duration with three significant digits and the largest unit that fits."""
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None (with a note) when it is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        import sys
        print("matplotlib missing: no plots", file=sys.stderr)
        return None
