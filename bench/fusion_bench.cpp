//===- fusion_bench.cpp - W2's op matrix, W4's optimizers and the machine's bandwidth ===//
//
//   ajit-bench-fusion [--sizes=100,1000,...] [--budget=SECONDS]
//
// Prints one JSON record per line: {"workload", "size", "median", "min", "max", "reps"}
// (seconds per call; for W4, seconds per optimizer step over all ten parameters). The
// STREAM-style triad and read-only sum run on as many threads as ajit's kernels use
// (AJIT_NUM_THREADS, else the core count) and report bytes per second. bench/compare.py
// runs this binary and the peers in rotating rounds.
//
//===----------------------------------------------------------------------===//
#include "bench/OpMatrix.h"
#include "frontend/ajit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace ajit;
using namespace ajit::bench;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Median, min and max seconds per call of `fn` over 7 batches sized to fill `budget`.
void timeIt(const std::string &workload, int64_t size, double budget, const std::function<void()> &fn) {
  fn(); // compile and warm
  double t0 = now();
  int probe = 0;
  while (now() - t0 < budget / 20 || probe < 1) fn(), ++probe;
  double per = (now() - t0) / probe;
  int batch = std::max(1, static_cast<int>(budget / 7 / per));
  std::vector<double> runs;
  for (int r = 0; r < 7; ++r) {
    double s = now();
    for (int i = 0; i < batch; ++i) fn();
    runs.push_back((now() - s) / batch);
  }
  std::sort(runs.begin(), runs.end());
  std::printf("{\"workload\": \"%s\", \"size\": %lld, \"median\": %.9g, \"min\": %.9g, \"max\": %.9g, "
              "\"reps\": %d}\n",
              workload.c_str(), static_cast<long long>(size), runs[3], runs[0], runs[6], 7 * batch);
  std::fflush(stdout);
}

void opMatrix(const std::vector<int64_t> &sizes, double budget) {
  for (int64_t n : sizes) {
    Array a = ramp({n}, 4), b = ramp({n}, 3, 1.5f), c = ramp({n}, 2, 0.5f);
    for (auto &[name, fn] : kUnary) {
      auto f = jit(fn, {.name = name});
      timeIt(std::string("W2.") + name, n, budget, [&] { f(a); });
    }
    for (auto &[name, fn] : kBinary) {
      auto f = jit(fn, {.name = name});
      timeIt(std::string("W2.") + name, n, budget, [&] { f(a, b); });
    }
    for (auto &[name, fn] : kTernary) {
      auto f = jit(fn, {.name = name});
      timeIt(std::string("W2.") + name, n, budget, [&] { f(a, b, c); });
    }
  }
}

//===--- W4: one optimizer step over ten 1000x512 parameters ---------------===//

constexpr double kLr = 1e-3, kB1 = 0.9, kB2 = 0.999, kEps = 1e-8, kWd = 1e-2, kMom = 0.9;

void optimizers(double budget) {
  const int64_t rows = 1000, cols = 512;
  const int params = 10;
  std::vector<Array> p, g, m, v;
  for (int i = 0; i < params; ++i) {
    p.push_back(ramp({rows, cols}, 1, float(i)));
    g.push_back(ramp({rows, cols}, 0.1f, float(i) + 0.3f));
    m.push_back(ramp({rows, cols}, 0.01f, 0.1f));
    v.push_back(ramp({rows, cols}, 0.01f, 0.2f));
  }
  for (Array &x : v) x = jit([](const Tensor &t) { return abs(t); }, {.name = "absv"})(x);

  // Parameters and optimizer states are donated: each step writes them in place (the
  // caller's arrays are their buffers' only owners), as an optimizer in production does.
  auto sgd = jit([](const Tensor &p, const Tensor &g, const Tensor &buf) {
    Tensor b = kMom * buf + g;
    return std::make_tuple(p - kLr * b, b);
  }, {.name = "sgd_momentum", .donateArgnums = {0, 2}});
  auto adam = jit([](const Tensor &p, const Tensor &g, const Tensor &m, const Tensor &v) {
    Tensor m1 = kB1 * m + (1 - kB1) * g, v1 = kB2 * v + (1 - kB2) * g * g;
    Tensor mh = m1 / (1 - kB1), vh = v1 / (1 - kB2); // bias corrections of step 1
    return std::make_tuple(p - kLr * mh / (sqrt(vh) + kEps), m1, v1);
  }, {.name = "adam", .donateArgnums = {0, 2, 3}});
  auto adamw = jit([](const Tensor &p, const Tensor &g, const Tensor &m, const Tensor &v) {
    Tensor m1 = kB1 * m + (1 - kB1) * g, v1 = kB2 * v + (1 - kB2) * g * g;
    Tensor mh = m1 / (1 - kB1), vh = v1 / (1 - kB2);
    return std::make_tuple(p - kLr * (mh / (sqrt(vh) + kEps) + kWd * p), m1, v1);
  }, {.name = "adamw", .donateArgnums = {0, 2, 3}});
  auto lion = jit([](const Tensor &p, const Tensor &g, const Tensor &m) {
    Tensor c = kB1 * m + (1 - kB1) * g;
    Tensor sign = where(c > 0.0, fullLike(c, 1.0), where(c < 0.0, fullLike(c, -1.0), fullLike(c, 0.0)));
    return std::make_tuple(p - kLr * (sign + kWd * p), kB2 * m + (1 - kB2) * g);
  }, {.name = "lion", .donateArgnums = {0, 2}});

  const int64_t size = params * rows * cols;
  timeIt("W4.sgd_momentum", size, budget, [&] {
    for (int i = 0; i < params; ++i) std::tie(p[i], m[i]) = sgd(p[i], g[i], m[i]);
  });
  timeIt("W4.adam", size, budget, [&] {
    for (int i = 0; i < params; ++i) std::tie(p[i], m[i], v[i]) = adam(p[i], g[i], m[i], v[i]);
  });
  timeIt("W4.adamw", size, budget, [&] {
    for (int i = 0; i < params; ++i) std::tie(p[i], m[i], v[i]) = adamw(p[i], g[i], m[i], v[i]);
  });
  timeIt("W4.lion", size, budget, [&] {
    for (int i = 0; i < params; ++i) std::tie(p[i], m[i]) = lion(p[i], g[i], m[i]);
  });
}

//===--- The machine's bandwidth: STREAM-style triad and read-only sum -----===//

void bandwidth(double budget) {
  const int64_t n = 16 << 20;
  const char *env = std::getenv("AJIT_NUM_THREADS");
  int threads = env && std::atoi(env) > 0 ? std::atoi(env) : std::max(1u, std::thread::hardware_concurrency());
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  auto parallel = [&](auto body) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { body(n * t / threads, n * (t + 1) / threads); });
    for (auto &th : pool) th.join();
  };
  parallel([&](int64_t lo, int64_t hi) { std::fill(a.data() + lo, a.data() + hi, 0.0f); }); // first touch
  timeIt("machine.triad_bytes", 3 * 4 * n, budget, [&] {
    parallel([&](int64_t lo, int64_t hi) {
      float *pa = a.data(), *pb = b.data(), *pc = c.data();
      for (int64_t i = lo; i < hi; ++i) pa[i] = pb[i] + 3.0f * pc[i];
    });
  });
  std::vector<double> partial(threads);
  timeIt("machine.read_sum_bytes", 4 * n, budget, [&] {
    parallel([&](int64_t lo, int64_t hi) {
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      const float *pb = b.data();
      int64_t i = lo;
      for (; i + 8 <= hi; i += 8) {
        s0 += pb[i]; s1 += pb[i + 1]; s2 += pb[i + 2]; s3 += pb[i + 3];
        s4 += pb[i + 4]; s5 += pb[i + 5]; s6 += pb[i + 6]; s7 += pb[i + 7];
      }
      for (; i < hi; ++i) s0 += pb[i];
      partial[lo * threads / n] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
    });
  });
  std::fprintf(stderr, "bandwidth threads: %d\n", threads);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int64_t> sizes = {100, 1000, 10000, 100000, 1000000, 16 << 20};
  double budget = 0.1;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--sizes=", 8)) {
      sizes.clear();
      for (char *s = argv[i] + 8; *s;) {
        sizes.push_back(std::strtoll(s, &s, 10));
        if (*s == ',') ++s;
      }
    } else if (!std::strncmp(argv[i], "--budget=", 9)) {
      budget = std::atof(argv[i] + 9);
    } else if (!std::strncmp(argv[i], "--only=", 7)) {
      only = argv[i] + 7;
    }
  }
  if (only.empty() || only == "machine") bandwidth(budget);
  if (only.empty() || only == "W4") optimizers(budget);
  if (only.empty() || only == "W2") opMatrix(sizes, budget);
  return 0;
}
