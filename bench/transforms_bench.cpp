//===- transforms_bench.cpp - W6 of WORKLOADS.md for ajit: grad and vmap --===//
//
//   ajit-bench-transforms [google benchmark flags]
//   ajit-bench-transforms --results    one JSON line per workload: its result's shape and
//                                      values (bench/compare.py checks them before timing)
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
#include <cstdio>
#include <cstring>
#include <functional>

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

/// Each workload: its jitted function bound to its inputs, one call per invocation.
std::function<Array()> w6Grad() {
  auto g = jit(grad(leastSquares), {.name = "w6_grad"});
  Array w = data({100}, 0.1), x = data({1000, 100}, 1.0), y = data({1000}, 1.0);
  return [=]() mutable { return g(w, x, y); };
}

std::function<Array()> w6Vmap() {
  auto f = jit(vmap(layer, {std::nullopt, std::nullopt, 0}), {.name = "w6_vmap"});
  Array w = data({100, 100}, 0.1), b = data({100}, 0.1), x = data({100, 100}, 1.0);
  return [=]() mutable { return f(w, b, x); };
}

std::function<Array()> w6VmapGrad() {
  auto f = jit(vmap(grad(squaredError), {std::nullopt, 0, 0}), {.name = "w6_vmap_grad"});
  Array w = data({100}, 0.1), x = data({100, 100}, 1.0), y = data({100}, 1.0);
  return [=]() mutable { return f(w, x, y); };
}

void run(benchmark::State &state, std::function<Array()> (*make)()) {
  auto call = make();
  Array out = call(); // compiles
  for (auto _ : state) {
    out = call();
    benchmark::DoNotOptimize(out.rawData());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_W6_grad(benchmark::State &state) { run(state, w6Grad); }
void BM_W6_vmap(benchmark::State &state) { run(state, w6Vmap); }
void BM_W6_vmap_grad(benchmark::State &state) { run(state, w6VmapGrad); }

int printResults() {
  struct Case {
    const char *name;
    std::function<Array()> (*make)();
  };
  for (const Case &c : {Case{"W6.grad", w6Grad}, Case{"W6.vmap", w6Vmap}, Case{"W6.vmap_grad", w6VmapGrad}}) {
    Array out = c.make()();
    std::printf("{\"workload\": \"%s\", \"shape\": [", c.name);
    for (size_t i = 0; i < out.shape().size(); ++i) std::printf("%s%lld", i ? ", " : "", (long long)out.shape()[i]);
    std::printf("], \"values\": [");
    for (int64_t i = 0; i < out.size(); ++i) std::printf("%s%.9g", i ? ", " : "", out.data<float>()[i]);
    std::printf("]}\n");
  }
  return 0;
}

} // namespace

BENCHMARK(BM_W6_grad);
BENCHMARK(BM_W6_vmap);
BENCHMARK(BM_W6_vmap_grad);

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--results")) return printResults();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
