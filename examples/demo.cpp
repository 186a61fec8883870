//===- demo.cpp - trace, compile and run a function; time the cached call -===//
#include "frontend/ajit.h"

#include <chrono>
#include <cmath>
#include <cstdio>

int main() {
  // g(x) = sum(sin(x)^2 + cos(x)^2): one fused loop, one pass over x.
  auto g = ajit::jit(
      [](const ajit::Tensor &x) {
        ajit::Tensor s = ajit::sin(x), c = ajit::cos(x);
        return ajit::sum(s * s + c * c);
      },
      {.name = "g"});

  const int64_t n = 10000;
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = 0.001f * static_cast<float>(i) - 5.0f;
  ajit::Array x = ajit::Array::from(values, {n});

  ajit::Array y = g(x);
  ajit::Stats first = g.stats();
  std::printf("g(x) = sum(sin(x)^2 + cos(x)^2) over %lld points = %.3f (expected %lld)\n",
              static_cast<long long>(n), y.item<float>(), static_cast<long long>(n));
  std::printf("first call: %.2f ms (trace %.2f, graph %.2f, lowering %.2f, llvm %.2f, load %.2f ms), %llu kernel(s)\n",
              first.lastCallUs / 1000, first.lastCompile.trace, first.lastCompile.graph,
              first.lastCompile.lowering, first.lastCompile.llvm, first.lastCompile.load,
              static_cast<unsigned long long>(first.kernels));

  const int reps = 20000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) y = g(x);
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
  std::printf("cached call: %.2f us per call (N = %lld, mean of %d calls; %llu compile(s) in all)\n", us,
              static_cast<long long>(n), reps, static_cast<unsigned long long>(g.stats().compiles));

  auto trivial = ajit::jit([](const ajit::Tensor &v) { return v + 1.0; }, {.name = "trivial"});
  ajit::Array one = ajit::Array::from<float>({41.0f}, {1});
  trivial(one);
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) trivial(one);
  us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
  std::printf("cached call of a trivial function on 1 element: %.3f us; result %.1f\n", us, trivial(one).item<float>());
  return std::abs(y.item<float>() - n) < 1.0f ? 0 : 1;
}
