"""Helpers shared by the bench scripts: timing a Python callable, formatting times, naming
the machine."""
import os
import platform
import statistics
import timeit


def time_call(fn, seconds_per_repeat):
    """(median, min, max, calls) of seconds per call over 7 repeats of a timeit loop, each
    sized to about `seconds_per_repeat`."""
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()
    number = max(1, int(number * seconds_per_repeat / max(elapsed, 1e-9)))
    runs = [t / number for t in timer.repeat(repeat=7, number=number)]
    return statistics.median(runs), min(runs), max(runs), 7 * number


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


def write_results(out_dir, name, records, report, plot):
    """Writes out_dir/<name>.json (the records), out_dir/<name>.md (report(records), also
    printed) and the plot (plot(records, out_dir))."""
    import json
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(records, f, indent=1)
    text = report(records)
    with open(os.path.join(out_dir, name + ".md"), "w") as f:
        f.write(text)
    print(text)
    plot(records, out_dir)


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None (with a note) when it is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        import sys
        print("matplotlib missing: no plot", file=sys.stderr)
        return None
