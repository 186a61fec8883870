#!/usr/bin/env python3
"""Writes the ajit-run fixtures: each program's inputs and NumPy's outputs as .npy.

Run with NumPy available (bash bench/run.sh creates bench/.venv):
    bench/.venv/bin/python tests/data/run/make_fixtures.py
The test suite itself never needs NumPy: it reads the files this wrote.
"""
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1234)


def save(name, **arrays):
    for key, value in arrays.items():
        np.save(os.path.join(HERE, f"{name}.{key}.npy"), value)


# exp(x + y) with y broadcast over rows.
x = rng.standard_normal((3, 4)).astype(np.float32)
y = rng.standard_normal(4).astype(np.float32)
save("bias_exp", in0=x, in1=y, out0=np.exp(x.astype(np.float64) + y).astype(np.float32))

# softmax over the last axis.
x = (rng.standard_normal((5, 7)) * 3).astype(np.float32)
e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
save("softmax", in0=x, out0=(e / e.sum(axis=1, keepdims=True)).astype(np.float32))

# relu(a @ b) in f64.
a = rng.standard_normal((6, 5))
b = rng.standard_normal((5, 3))
save("matmul_relu", in0=a, in1=b, out0=np.maximum(a @ b, 0.0))

# integers: (p * q + 1) where p < q else p; and the mask.
p = rng.integers(-50, 50, size=(4, 6), dtype=np.int32)
q = rng.integers(-50, 50, size=(4, 6), dtype=np.int32)
save("int_select", in0=p, in1=q, out0=np.where(p < q, p * q + 1, p).astype(np.int32), out1=p < q)

# argmax over axis 0 and the column sums, of a transposed, reshaped input.
x = rng.standard_normal((2, 12)).astype(np.float32)
t = x.reshape(4, 6).T  # 6x4
save("reshape_argmax", in0=x, out0=np.argmax(t, axis=0).astype(np.int64), out1=t.astype(np.float64).sum(axis=0).astype(np.float32))
