//===- transforms_bench.cpp - W6 of WORKLOADS.md for ajit: grad and vmap --===//
//
//   ajit-bench-transforms [google benchmark flags]
//
// W6.grad: jit(grad(loss)) of a least-squares loss of a linear model with 100
//   parameters over 1,000 points (x f32[1000,100], y f32[1000]): one call per iteration.
// W6.vmap: jit(vmap(f)) of a per-example layer f(W, b, x) = tanh(W x + b) (W f32[100,100],
//   x f32[100]) over a batch of 100 examples: time per batch.
// W6.vmap_grad: per-example gradients of the squared error of the linear model,
//   jit(vmap(grad(l), {shared, 0, 0})) over a batch of 100.
// The inputs match bench/peers.py's (same formulas), so every system computes the same.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"

#include <benchmark/benchmark.h>

#include <cmath>

using namespace ajit;

namespace {

/// Deterministic inputs: sin of a scaled index (peers.py uses the same).
Array data(const Shape &shape, double scale) {
  Array a = Array::empty(shape, DType::f32);
  for (int64_t i = 0; i < a.size(); ++i) a.data<float>()[i] = static_cast<float>(std::sin(0.37 * i) * scale);
  return a;
}

Tensor leastSquares(const Tensor &w, const Tensor &x, const Tensor &y) {
  Tensor r = matmul(x, w) - y;
  return mean(r * r);
}

Tensor layer(const Tensor &w, const Tensor &b, const Tensor &x) { return ajit::tanh(matmul(w, x) + b); }

Tensor squaredError(const Tensor &w, const Tensor &x, const Tensor &y) {
  Tensor r = sum(x * w) - y;
  return r * r;
}

void BM_W6_grad(benchmark::State &state) {
  auto g = jit(grad(leastSquares), {.name = "w6_grad"});
  Array w = data({100}, 0.1), x = data({1000, 100}, 1.0), y = data({1000}, 1.0);
  Array out = g(w, x, y);
  for (auto _ : state) {
    out = g(w, x, y);
    benchmark::DoNotOptimize(out.rawData());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_W6_vmap(benchmark::State &state) {
  auto f = jit(vmap(layer, {std::nullopt, std::nullopt, 0}), {.name = "w6_vmap"});
  Array w = data({100, 100}, 0.1), b = data({100}, 0.1), x = data({100, 100}, 1.0);
  Array out = f(w, b, x);
  for (auto _ : state) {
    out = f(w, b, x);
    benchmark::DoNotOptimize(out.rawData());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_W6_vmap_grad(benchmark::State &state) {
  auto f = jit(vmap(grad(squaredError), {std::nullopt, 0, 0}), {.name = "w6_vmap_grad"});
  Array w = data({100}, 0.1), x = data({100, 100}, 1.0), y = data({100}, 1.0);
  Array out = f(w, x, y);
  for (auto _ : state) {
    out = f(w, x, y);
    benchmark::DoNotOptimize(out.rawData());
  }
  state.SetItemsProcessed(state.iterations());
}

} // namespace

BENCHMARK(BM_W6_grad);
BENCHMARK(BM_W6_vmap);
BENCHMARK(BM_W6_vmap_grad);
BENCHMARK_MAIN();
