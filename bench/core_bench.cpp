//===- core_bench.cpp - W1 and W2 (g, h) of WORKLOADS.md for ajit ---------===//
//
//   ajit-bench-core [google benchmark flags]   cached-call benchmarks
//   ajit-bench-core --first-call=NAME          one first call (trace + compile + run) of
//                                              workload NAME in this process; prints ms
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

using namespace ajit;

namespace {

Array input(int64_t n) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = std::fmod(0.37f * static_cast<float>(i), 20.0f) - 10.0f;
  return Array::from(v, {n});
}

Tensor sumSquares(const Tensor &x) { return sum(x * x); }
Tensor g(const Tensor &x) {
  Tensor s = sin(x), c = cos(x);
  return sum(s * s + c * c);
}
Tensor h(const Tensor &x) { return exp(-x / 10.0) * sin(x); }
Tensor trivial(const Tensor &x) { return x + 1.0; }

template <class F> void cachedCall(benchmark::State &state, F fn, const char *name) {
  auto f = jit(fn, {.name = name});
  Array x = input(state.range(0));
  Array y = f(x); // compile outside the timed loop
  for (auto _ : state) {
    y = f(x);
    benchmark::DoNotOptimize(y.rawData());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_W1_sum_sq(benchmark::State &s) { cachedCall(s, sumSquares, "sum_sq"); }
void BM_W1_trivial(benchmark::State &s) { cachedCall(s, trivial, "trivial"); }
void BM_W2_g(benchmark::State &s) { cachedCall(s, g, "g"); }
void BM_W2_h(benchmark::State &s) { cachedCall(s, h, "h"); }

// A new jitted function each iteration: trace + compile + run, with a warm compiler.
void BM_W1_first_call_in_process(benchmark::State &state) {
  Array x = input(state.range(0));
  for (auto _ : state) {
    auto f = jit(g, {.name = "g_fresh"});
    benchmark::DoNotOptimize(f(x).rawData());
  }
}

int firstCall(const char *name) {
  auto run = [&](auto fn, int64_t n) {
    Array x = input(n);
    auto f = jit(fn, {.name = name});
    auto t0 = std::chrono::steady_clock::now();
    Array y = f(x);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    Stats s = f.stats();
    std::printf("{\"first_call_ms\": %.3f, \"trace\": %.3f, \"graph\": %.3f, \"lowering\": %.3f, "
                "\"llvm\": %.3f, \"load\": %.3f, \"disk_cache_hit\": %s}\n",
                ms, s.lastCompile.trace, s.lastCompile.graph, s.lastCompile.lowering, s.lastCompile.llvm,
                s.lastCompile.load, s.diskCacheHits ? "true" : "false");
    return 0;
  };
  if (!std::strcmp(name, "g")) return run(g, 10000);
  if (!std::strcmp(name, "sum_sq")) return run(sumSquares, 10000);
  std::fprintf(stderr, "unknown workload %s\n", name);
  return 2;
}

} // namespace

BENCHMARK(BM_W1_sum_sq)->Arg(10000);
BENCHMARK(BM_W1_trivial)->Arg(1);
BENCHMARK(BM_W1_first_call_in_process)->Arg(10000)->Iterations(20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W2_g)->Arg(10000);
BENCHMARK(BM_W2_h)->RangeMultiplier(10)->Range(10, 1000000)->Arg(16 << 20);

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strncmp(argv[i], "--first-call=", 13)) return firstCall(argv[i] + 13);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
