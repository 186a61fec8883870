#!/usr/bin/env python3
"""ajit's Python peers on the workloads of WORKLOADS.md: NumPy, JAX (jax.jit on the CPU),
PyTorch eager, torch.compile and onnxruntime. bench/compare.py runs one process per
system, thread count and round, so each framework sizes its thread pools once, to the
thread count of the ajit rows it stands beside:

    peers.py --system jax --threads 2 --parts ops,optim --sizes 1000,16777216 --budget 0.1
    peers.py --system torch.compile --first-call g --label W1.g.first_call --salt 1.37
    peers.py --system jax --threads 2 --parts transforms --budget 0.1      (W6: grad, vmap)

It prints one JSON record per line (WORKLOADS.md's schema, seconds per call). The formulas
are those of bench/*_bench.cpp, written once against a NumPy-like namespace `X`; where a
framework has its own function for an op (gelu, softmax, relu, a fused bias add) the
system uses it, since that is what its users call and the fastest it offers. A case that
fails (or, for W6, disagrees with the float64 reference) prints a {"skipped": why} line
instead of its record, and the other cases go on.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES_H = [10, 100, 1000, 10000, 100000, 1000000, 16 << 20]
SQUARE = [64, 128, 256, 512, 1024, 2048]
MLP_BATCHES = [32, 64, 128]
GELU_SHAPES = [(1000, 512), (2048, 768), (4096, 1024)]
LINEAR_SHAPES = [(1000, 512, 768), (2048, 768, 3072), (4096, 1024, 4096)]
MLP_DIMS = (784, 512, 512, 10)
SYSTEMS = ["numpy", "jax", "torch", "torch.compile", "onnxruntime"]


class System:
    """What the workloads need of a framework: its ops (X), how it compiles a function
    (jit), moves a NumPy array in (put) and waits for a result (sync)."""

    def __init__(self, name, version, X, jit=lambda f: f, put=lambda a: a, sync=lambda y: y, note="",
                 grad=None, vmap=None, jit_donating=None):
        self.name, self.version, self.X, self.jit, self.put, self.sync = name, version, X, jit, put, sync
        # W4: jit_donating(f, argnums) compiles f to update those arguments in place, where
        # the framework can (JAX's donate_argnums, as ajit's donateArgnums); else plain jit.
        self.jit_donating = jit_donating or (lambda f, argnums: jit(f))
        self.note = note or version
        # W6's transforms: grad(f) (of the first argument), vmap(f, axes) (None: shared);
        # None where the framework has none (NumPy).
        self.grad, self.vmap = grad, vmap


def numpy_system():
    import numpy as np
    from types import SimpleNamespace

    def softmax(a):
        e = np.exp(a - a.max())
        return e / e.sum()

    def log_softmax(a):
        s = a - a.max()
        return s - np.log(np.sum(np.exp(s)))

    X = SimpleNamespace(
        sin=np.sin, cos=np.cos, exp=np.exp, tanh=np.tanh, abs=np.abs, sqrt=np.sqrt, sign=np.sign, sum=np.sum,
        max=np.max, min=np.min, mean=np.mean, argmax=np.argmax, argmin=np.argmin, dot=np.dot, norm_l2=np.linalg.norm,
        clip=np.clip, relu=lambda a: np.maximum(a, 0.0), sigmoid=lambda a: 1.0 / (1.0 + np.exp(-a)),
        gelu=lambda a: 0.5 * a * (1.0 + np.tanh(0.7978845608 * (a + 0.044715 * a * a * a))),
        softmax=softmax, log_softmax=log_softmax, linear=lambda x, w, b: x @ w + b)
    return System("numpy", f"numpy {np.__version__}", X, note=f"numpy {np.__version__} (ufuncs on one thread)")


def jax_system(cache_dir=None):
    import jax
    import jax.numpy as jnp
    from types import SimpleNamespace
    if cache_dir:  # W1's warm start: XLA's persistent compilation cache
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    X = SimpleNamespace(
        sin=jnp.sin, cos=jnp.cos, exp=jnp.exp, tanh=jnp.tanh, abs=jnp.abs, sqrt=jnp.sqrt, sign=jnp.sign,
        sum=jnp.sum, max=jnp.max, min=jnp.min, mean=jnp.mean, argmax=jnp.argmax, argmin=jnp.argmin, dot=jnp.dot,
        norm_l2=jnp.linalg.norm, clip=jnp.clip, relu=jax.nn.relu, sigmoid=jax.nn.sigmoid,
        gelu=lambda a: jax.nn.gelu(a, approximate=True), softmax=jax.nn.softmax,
        log_softmax=jax.nn.log_softmax, linear=lambda x, w, b: x @ w + b)
    version = f"jax {jax.__version__}"
    return System("jax", version, X, jit=jax.jit, put=jnp.asarray, sync=jax.block_until_ready,
                  note=f"{version}, jax.jit on {jax.devices()[0].platform}", grad=jax.grad,
                  vmap=lambda f, axes: jax.vmap(f, in_axes=axes),
                  jit_donating=lambda f, argnums: jax.jit(f, donate_argnums=argnums))


def torch_system(threads, compiled):
    import torch
    import torch.func
    import torch.nn.functional as F
    from types import SimpleNamespace
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.set_grad_enabled(False)  # inference: no autograd bookkeeping per op
    X = SimpleNamespace(
        sin=torch.sin, cos=torch.cos, exp=torch.exp, tanh=torch.tanh, abs=torch.abs, sqrt=torch.sqrt,
        sign=torch.sign, sum=torch.sum, max=torch.max, min=torch.min, mean=torch.mean, argmax=torch.argmax,
        argmin=torch.argmin, dot=torch.dot, norm_l2=torch.linalg.vector_norm, clip=torch.clip, relu=torch.relu,
        sigmoid=torch.sigmoid,
        gelu=lambda a: F.gelu(a, approximate="tanh"), softmax=lambda a: torch.softmax(a, -1),
        log_softmax=lambda a: torch.log_softmax(a, -1), linear=lambda x, w, b: torch.addmm(b, x, w))
    version = f"torch {torch.__version__}"
    # torch.func's transforms ignore the set_grad_enabled(False) above (it is outside them).
    transforms = dict(grad=torch.func.grad, vmap=lambda f, axes: torch.func.vmap(f, in_dims=axes))
    if not compiled:
        return System("torch", version, X, put=torch.from_numpy, note=f"{version}, eager", **transforms)
    import torch._dynamo
    # Each workload is its own function; the sizes of one share it (static first, then
    # one dynamic-shape recompile, as a user gets by default). Allow more than the 8
    # recompiles per function the default permits before falling back to eager.
    for knob in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, knob):
            setattr(torch._dynamo.config, knob, 64)
    return System("torch.compile", version, X, jit=torch.compile, put=torch.from_numpy,
                  note=f"{version}, torch.compile (inductor, C++ backend)", **transforms)


#===--- The workloads, against a system's X --------------------------------------===#

def elementwise_ops(X):
    """W2's op matrix: name -> (arity, function). Every op is its own function object (and
    code object), so torch.compile caches and guards each separately."""
    return {
        "scale": (1, lambda a: a * 2.5), "abs": (1, lambda a: X.abs(a)),
        "clamp": (1, lambda a: X.clip(a, -1.0, 1.0)), "sum": (1, lambda a: X.sum(a)),
        "max": (1, lambda a: X.max(a)), "min": (1, lambda a: X.min(a)),
        "argmax": (1, lambda a: X.argmax(a)), "argmin": (1, lambda a: X.argmin(a)),
        "norm_l1": (1, lambda a: X.sum(X.abs(a))), "norm_l2": (1, lambda a: X.norm_l2(a)),
        "norm_linf": (1, lambda a: X.max(X.abs(a))), "relu": (1, lambda a: X.relu(a)),
        "sigmoid": (1, lambda a: X.sigmoid(a)), "tanh": (1, lambda a: X.tanh(a)), "exp": (1, lambda a: X.exp(a)),
        "gelu": (1, lambda a: X.gelu(a)), "swish": (1, lambda a: a * X.sigmoid(a)),
        "softmax": (1, lambda a: X.softmax(a)), "log_softmax": (1, lambda a: X.log_softmax(a)),
        "add": (2, lambda a, b: a + b), "sub": (2, lambda a, b: a - b), "mul": (2, lambda a, b: a * b),
        "div": (2, lambda a, b: a / b), "lerp": (2, lambda a, b: a + 0.3 * (b - a)),
        "dot": (2, lambda a, b: X.dot(a, b)), "fma": (3, lambda a, b, c: a * b + c),
    }


LR, B1, B2, EPS, WD, MOM = 1e-3, 0.9, 0.999, 1e-8, 1e-2, 0.9


def optimizer_steps(X):
    """W4: one step for one parameter, as in fusion_bench.cpp (bias corrections of step 1)."""
    def sgd_momentum(p, g, m):
        b = MOM * m + g
        return p - LR * b, b

    def adam(p, g, m, v):
        m1, v1 = B1 * m + (1 - B1) * g, B2 * v + (1 - B2) * g * g
        return p - LR * (m1 / (1 - B1)) / (X.sqrt(v1 / (1 - B2)) + EPS), m1, v1

    def adamw(p, g, m, v):
        m1, v1 = B1 * m + (1 - B1) * g, B2 * v + (1 - B2) * g * g
        return p - LR * ((m1 / (1 - B1)) / (X.sqrt(v1 / (1 - B2)) + EPS) + WD * p), m1, v1

    def lion(p, g, m):
        c = B1 * m + (1 - B1) * g
        return p - LR * (X.sign(c) + WD * p), B2 * m + (1 - B2) * g

    return {"sgd_momentum": sgd_momentum, "adam": adam, "adamw": adamw, "lion": lion}


def cases(S, parts, sizes, quick):
    """Yields (workload, size, zero-argument callable[, float64 result it must match]) for
    the parts asked for."""
    import numpy as np
    from benchlib import ramp
    X, jit, put = S.X, S.jit, S.put

    def bind(f, *args):
        f = jit(f)
        return lambda: f(*args)

    if "core" in parts:  # W1's cached calls, W2's g and h (core_bench.cpp)
        yield "W1.sum_sq", 10000, bind(lambda x: X.sum(x * x), put(ramp(10000, 10)))
        yield "W1.trivial", 1, bind(lambda x: x + 1.0, put(ramp(1, 10)))

        def g(x):
            s, c = X.sin(x), X.cos(x)
            return X.sum(s * s + c * c)
        yield "W2.g", 10000, bind(g, put(ramp(10000, 10)))
        h = jit(lambda x: X.exp(-x / 10.0) * X.sin(x))
        for n in SIZES_H:
            x = put(ramp(n, 10))
            yield "W2.h", n, lambda: h(x)
    if "ops" in parts:
        ops = {name: (arity, jit(f)) for name, (arity, f) in elementwise_ops(X).items()}
        for n in sizes:
            args = [put(ramp(n, 4)), put(ramp(n, 3, 1.5)), put(ramp(n, 2, 0.5))]
            for name, (arity, f) in ops.items():
                yield "W2." + name, n, (lambda f=f, a=args[:arity]: f(*a))
    if "optim" in parts:
        shape = (1000, 512)
        # Parameters and optimizer states are donated (updated in place) where the system
        # can, as in fusion_bench.cpp; each step's outputs replace its inputs.
        state_args = {"sgd_momentum": (0, 2), "adam": (0, 2, 3), "adamw": (0, 2, 3), "lion": (0, 2)}
        steps = {name: S.jit_donating(f, state_args[name]) for name, f in optimizer_steps(X).items()}
        for name, step in steps.items():
            p = [put(ramp(512000, 1, i).reshape(shape)) for i in range(10)]
            g = [put(ramp(512000, 0.1, i + 0.3).reshape(shape)) for i in range(10)]
            m = [put(ramp(512000, 0.01, 0.1).reshape(shape)) for _ in range(10)]
            v = [put(np.abs(ramp(512000, 0.01, 0.2)).reshape(shape)) for _ in range(10)]
            two_states = name in ("sgd_momentum", "lion")

            def run(step=step, p=p, g=g, m=m, v=v, two_states=two_states):
                for i in range(10):
                    if two_states:
                        p[i], m[i] = step(p[i], g[i], m[i])
                    else:
                        p[i], m[i], v[i] = step(p[i], g[i], m[i], v[i])
                return p[9]
            yield "W4." + name, "10x1000x512", run
    if "matmul" in parts:
        yield from matmul_cases(S, quick)
    if "transforms" in parts:
        yield from transform_cases(S)


def transform_inputs():
    """W6's inputs, as in transforms_bench.cpp: {workload: (size, [arrays])}."""
    from benchlib import wave
    return {"W6.grad": ("1000x100", [wave(100, 0.1), wave((1000, 100), 1.0), wave(1000, 1.0)]),
            "W6.vmap": ("100x100", [wave((100, 100), 0.1), wave(100, 0.1), wave((100, 100), 1.0)]),
            "W6.vmap_grad": ("100x100", [wave(100, 0.1), wave((100, 100), 1.0), wave(100, 1.0)])}


def by_hand():
    """W6 without transforms, in NumPy: d/dw mean((x w - y)^2) = 2/N x^T (x w - y);
    tanh(W x_i + b) for every row x_i; d/dw (x_i . w - y_i)^2 = 2 (x_i . w - y_i) x_i for
    every row."""
    import numpy as np
    return {"W6.grad": lambda w, x, y: (2.0 / len(y)) * (x.T @ (x @ w - y)),
            "W6.vmap": lambda W, b, x: np.tanh(x @ W.T + b),
            "W6.vmap_grad": lambda w, x, y: 2.0 * (x @ w - y)[:, None] * x}


def transform_reference():
    """{workload: the hand-written formulas' result in float64 on W6's inputs}: what every
    system's result must match (check) before it is timed."""
    import numpy as np
    formulas = by_hand()
    return {name: formulas[name](*(a.astype(np.float64) for a in args))
            for name, (_, args) in transform_inputs().items()}


def transform_cases(S):
    """W6 (transforms_bench.cpp): jit(grad(least squares)) of a linear model, 100 parameters
    over 1,000 points; jit(vmap(layer)) over a batch of 100; per-example gradients
    jit(vmap(grad(squared error))) over a batch of 100. NumPy has no transforms: it runs the
    gradients written by hand and the batched formulas (by_hand)."""
    X = S.X

    def mse(w, x, y):
        return X.mean((x @ w - y) ** 2)

    def layer(W, b, x):
        return X.tanh(W @ x + b)

    def se(w, x, y):
        return (X.sum(x * w) - y) ** 2

    if S.grad is None:
        fns = by_hand()
    else:
        fns = {"W6.grad": S.grad(mse), "W6.vmap": S.vmap(layer, (None, None, 0)),
               "W6.vmap_grad": S.vmap(S.grad(se), (None, 0, 0))}
    want = transform_reference()
    for name, (size, args) in transform_inputs().items():
        f, put_args = S.jit(fns[name]), [S.put(a) for a in args]
        yield name, size, (lambda f=f, a=put_args: f(*a)), want[name]


def check(got, want, tol=1e-4):
    """Raises unless got matches want within tol relative to want's largest magnitude."""
    import numpy as np
    got = np.asarray(got)
    err = float(np.max(np.abs(got - want)) / np.max(np.abs(want))) if got.shape == want.shape else float("inf")
    if not err <= tol:
        raise ValueError(f"result differs from the float64 reference: shape {got.shape} vs {want.shape}, "
                         f"max error {err:.2g} of the largest magnitude (tolerance {tol:g})")


def matmul_cases(S, quick):
    """W3 and W5 (matmul_bench.cpp's shapes), random normal inputs, weights scaled by 0.05."""
    import numpy as np
    from benchlib import ramp
    X, jit, put = S.X, S.jit, S.put
    rng = np.random.default_rng(0)
    normal = lambda *shape: rng.standard_normal(shape, dtype=np.float32)
    mm = jit(lambda a, b: a @ b)
    for n in SQUARE:
        if not (quick and n > 1024):
            a, b = put(normal(n, n)), put(normal(n, n))
            yield "W5.matmul", n, lambda a=a, b=b: mm(a, b)
    w = [put(normal(i, o) * np.float32(0.05)) for i, o in zip(MLP_DIMS, MLP_DIMS[1:])]
    bias = [put(normal(o)) for o in MLP_DIMS[1:]]
    mlp = jit(lambda x, w1, b1, w2, b2, w3, b3:
              X.linear(X.relu(X.linear(X.relu(X.linear(x, w1, b1)), w2, b2)), w3, b3))
    for batch in MLP_BATCHES:
        x = put(normal(batch, MLP_DIMS[0]))
        yield "W5.mlp", batch, lambda x=x: mlp(x, w[0], bias[0], w[1], bias[1], w[2], bias[2])
    gelu = jit(lambda a: X.gelu(a))
    for m, n in GELU_SHAPES:
        x = put(ramp(m * n, 3).reshape(m, n))
        yield "W3.gelu", f"{m}x{n}", lambda x=x: gelu(x)
    linear_gelu = jit(lambda x, w, b: X.gelu(X.linear(x, w, b)))
    for m, k, n in LINEAR_SHAPES:
        if not (quick and m == 4096):
            x, wt, b = put(normal(m, k)), put(normal(k, n) * np.float32(0.05)), put(normal(n))
            yield "W3.linear_gelu", f"{m}x{k}x{n}", lambda x=x, wt=wt, b=b: linear_gelu(x, wt, b)


#===--- onnxruntime: W3/W5 as ONNX graphs with the weights as initializers ---------===#

def onnx_cases(threads, quick):
    """W5's matmul and MLP and W3's GELU and Linear+GELU, each built as an ONNX model with
    onnx.helper (what torch.onnx.export would write for these layers; building it directly
    needs no exporter). Weights are initializers, as in an exported model, so onnxruntime
    may prepack them at session creation, like oneDNN's prepacked peer."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from benchlib import ramp
    rng = np.random.default_rng(0)
    normal = lambda *shape: rng.standard_normal(shape, dtype=np.float32)

    def session(nodes, x_shape, inits):
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                                  [numpy_helper.from_array(a, n) for n, a in inits.items()])
        # Opset 20 has Gelu(approximate="tanh"); IR version 9 is one every onnxruntime since
        # 1.15 reads (onnx's default follows the newest onnx, ahead of onnxruntime's).
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=9)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        return sess

    def bind(sess, x):
        return lambda: sess.run(None, {"x": x})

    node = helper.make_node
    for n in SQUARE:
        if not (quick and n > 1024):
            yield "W5.matmul", n, bind(session([node("MatMul", ["x", "w"], ["y"])], (n, n), {"w": normal(n, n)}),
                                       normal(n, n))
    dims = MLP_DIMS
    inits = {}
    for i in range(3):
        inits[f"w{i}"] = normal(dims[i], dims[i + 1]) * np.float32(0.05)
        inits[f"b{i}"] = normal(dims[i + 1])
    nodes = [node("MatMul", ["x", "w0"], ["m0"]), node("Add", ["m0", "b0"], ["a0"]), node("Relu", ["a0"], ["r0"]),
             node("MatMul", ["r0", "w1"], ["m1"]), node("Add", ["m1", "b1"], ["a1"]), node("Relu", ["a1"], ["r1"]),
             node("MatMul", ["r1", "w2"], ["m2"]), node("Add", ["m2", "b2"], ["y"])]
    for batch in MLP_BATCHES:
        yield "W5.mlp", batch, bind(session(nodes, (batch, dims[0]), inits), normal(batch, dims[0]))
    for m, n in GELU_SHAPES:
        yield "W3.gelu", f"{m}x{n}", bind(session([node("Gelu", ["x"], ["y"], approximate="tanh")], (m, n), {}),
                                           ramp(m * n, 3).reshape(m, n))
    for m, k, n in LINEAR_SHAPES:
        if not (quick and m == 4096):
            nodes = [node("MatMul", ["x", "w"], ["h"]), node("Add", ["h", "b"], ["hb"]),
                     node("Gelu", ["hb"], ["y"], approximate="tanh")]
            sess = session(nodes, (m, k), {"w": normal(k, n) * np.float32(0.05), "b": normal(n)})
            yield "W3.linear_gelu", f"{m}x{k}x{n}", bind(sess, normal(m, k))


#===--- Main ---------------------------------------------------------------------===#

def make_system(name, threads, cache_dir=None):
    if name == "numpy":
        return numpy_system()
    if name == "jax":
        return jax_system(cache_dir)
    if name in ("torch", "torch.compile"):
        return torch_system(threads, name == "torch.compile")
    raise SystemExit(f"unknown system {name}")


def first_call(args):
    """W1: the first call of a function never compiled before, in this fresh process
    (trace + compile + run), as ajit-bench-core --first-call measures it for ajit."""
    from benchlib import ramp, record
    S = make_system(args.system, args.threads, args.cache_dir)
    X, salt = S.X, args.salt
    # torch.compile keeps compiled graphs in its on-disk cache (TORCHINDUCTOR_CACHE_DIR,
    # shared by the bench run so its set-up, about 20 s, is paid once): the driver's new
    # `salt` per round makes a graph it has not seen, unless it asks for the warm cache.
    fns = {"sum_sq": lambda x: X.sum(x * x) * salt,
           "g": lambda x: X.sum(X.sin(x) ** 2 + X.cos(x) ** 2) * salt}
    x = S.put(ramp(10000, 10))
    f = S.jit(fns[args.first_call])
    t0 = time.perf_counter()
    S.sync(f(x))
    t = time.perf_counter() - t0
    print(json.dumps(record(args.label, 10000, S.name, t, t, t, 1, args.threads,
                            S.note + "; fresh process, output scaled by a per-round constant")), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--system", required=True, choices=SYSTEMS)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--parts", default="core,ops,optim,matmul,transforms")
    ap.add_argument("--sizes", default="100,1000,10000,100000,1000000,16777216")
    ap.add_argument("--budget", type=float, default=0.1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--first-call", choices=["sum_sq", "g"])
    ap.add_argument("--label", default="")
    ap.add_argument("--salt", type=float, default=1.0)
    ap.add_argument("--cache-dir")
    args = ap.parse_args()
    # Pools size themselves from the CPUs this process may run on (OpenMP, XLA, onnxruntime):
    # pin before any framework is imported. compare.py also sets the *_NUM_THREADS variables.
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:args.threads])
    sys.path.insert(0, HERE)
    if args.first_call:
        return first_call(args)
    from benchlib import record, time_call
    parts = args.parts.split(",")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.system == "onnxruntime":
        import onnxruntime
        note = f"onnxruntime {onnxruntime.__version__}, ONNX model built with onnx.helper"
        work, sync = (onnx_cases(args.threads, args.quick) if "matmul" in parts else []), (lambda y: y)
    else:
        S = make_system(args.system, args.threads)
        note, work, sync = S.note, cases(S, parts, sizes, args.quick), S.sync
    for workload, size, fn, *want in work:
        try:
            if want:  # checked before it is timed
                check(sync(fn()), want[0])
            med, lo, hi, reps = time_call(fn, args.budget, sync)
        except Exception as e:  # this case only: say why, go on with the others
            why = f"{type(e).__name__}: " + (str(e).strip().splitlines() or [""])[0][:300]
            print(f"{args.system} {workload} {size} skipped: {why}", file=sys.stderr, flush=True)
            print(json.dumps({"workload": workload, "size": str(size), "system": args.system, "skipped": why}),
                  flush=True)
            continue
        hand = args.system == "numpy" and workload.startswith("W6.")
        print(json.dumps(record(workload, size, args.system, med, lo, hi, reps, args.threads,
                                note + ("; W6: gradients by hand, batched formulas (no grad/vmap)" if hand else ""))),
              flush=True)


if __name__ == "__main__":
    main()
