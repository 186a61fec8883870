//===- matmul_bench.cpp - W3 (GELU, Linear+GELU) and W5 (matmul, MLP) beside BLAS peers ===//
//
//   ajit-bench-matmul [--budget=SECONDS] [--only=W3|W5|peak] [--quick]
//
// Every system of a workload is timed in the same process, interleaved: each of 7 rounds
// runs one batch of every system in turn, so drifting machine load hits all alike. One
// JSON record per line, in the schema of WORKLOADS.md (seconds per call; the report
// derives GFLOP/s and inferences/s). The thread count comes from the environment:
// bench/compare.py runs this binary once with AJIT_NUM_THREADS = OPENBLAS_NUM_THREADS =
// OMP_NUM_THREADS = 1 and once with 2.
//
// Peers: OpenBLAS cblas_sgemm (followed, for Linear+GELU, by a separate vectorized
// bias+GELU pass: ajit's own fused elementwise kernel), and oneDNN's matmul with
// prepacked weights, with and without its bias + GELU (tanh) post-op. ajit runs twice:
// weights as arguments (packed on every call) and, as "ajit.constant_weights", frozen into
// the program with ajit::constant (packed once, at compile time: the contract of oneDNN's
// prepacked weights). The peak FMA rate is a register-resident FMA loop on each thread.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <immintrin.h>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>
#include <oneapi/dnnl/dnnl.hpp>

using namespace ajit;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int threads() {
  const char *t = std::getenv("AJIT_NUM_THREADS");
  return t ? std::atoi(t) : static_cast<int>(std::thread::hardware_concurrency());
}

struct Candidate {
  std::string system, note;
  std::function<void()> fn;
};

/// Times every candidate of one workload and size in 7 interleaved rounds.
void timeAll(const std::string &workload, const std::string &size, double budget,
             std::vector<Candidate> candidates) {
  std::vector<int> batch;
  for (Candidate &c : candidates) {
    c.fn(); // compile, pack, warm
    double t0 = now();
    int probe = 0;
    while (now() - t0 < budget / 40 || probe < 1) c.fn(), ++probe;
    double per = (now() - t0) / probe;
    batch.push_back(std::max(1, static_cast<int>(budget / 7 / candidates.size() / per)));
  }
  std::vector<std::vector<double>> runs(candidates.size());
  for (int r = 0; r < 7; ++r)
    for (size_t i = 0; i < candidates.size(); ++i) {
      double s = now();
      for (int b = 0; b < batch[i]; ++b) candidates[i].fn();
      runs[i].push_back((now() - s) / batch[i]);
    }
  for (size_t i = 0; i < candidates.size(); ++i) {
    std::sort(runs[i].begin(), runs[i].end());
    std::printf("{\"workload\": \"%s\", \"size\": \"%s\", \"system\": \"%s\", \"metric\": \"seconds\", "
                "\"median\": %.9g, \"min\": %.9g, \"max\": %.9g, \"reps\": %d, \"threads\": %d, "
                "\"note\": \"%s\"}\n",
                workload.c_str(), size.c_str(), candidates[i].system.c_str(), runs[i][3], runs[i][0],
                runs[i][6], 7 * batch[i], threads(), candidates[i].note.c_str());
  }
  std::fflush(stdout);
}

std::vector<float> ramp(int64_t n, float scale, float offset = 0) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = std::fmod(0.37f * static_cast<float>(i) + offset, 2 * scale) - scale;
  return v;
}

Array arrayOf(const std::vector<float> &v, Shape shape) { return Array::from(v, shape); }

//===--- oneDNN: matmul with prepacked weights, optional bias + post-op ----===//

struct DnnlLinear {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul prim;
  dnnl::memory src, weights, bias, dst;
  bool hasBias = false;

  /// y[m, n] = post(x[m, k] . w[k, n] (+ b)); `post` is an eltwise algorithm or undef.
  DnnlLinear(int64_t m, int64_t k, int64_t n, float *x, const float *w, float *b, float *y,
             dnnl::algorithm post) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    dnnl::memory::desc xd({m, k}, dt::f32, tag::ab), wAny({k, n}, dt::f32, tag::any),
        bd({1, n}, dt::f32, tag::ab), yd({m, n}, dt::f32, tag::ab);
    dnnl::primitive_attr attr;
    if (post != dnnl::algorithm::undef) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, post, 0.f, 0.f); // oneDNN 2.x (Debian 12): scale first
      attr.set_post_ops(ops);
    }
    hasBias = b != nullptr;
    auto desc = hasBias ? dnnl::matmul::desc(xd, wAny, bd, yd) : dnnl::matmul::desc(xd, wAny, yd);
    dnnl::matmul::primitive_desc pd(desc, attr, engine);
    prim = dnnl::matmul(pd);
    src = dnnl::memory(xd, engine, x);
    dst = dnnl::memory(yd, engine, y);
    if (hasBias) bias = dnnl::memory(bd, engine, b);
    // Prepack the weights once, outside the timing (the layout oneDNN chose).
    dnnl::memory user({{k, n}, dt::f32, tag::ab}, engine, const_cast<float *>(w));
    weights = dnnl::memory(pd.weights_desc(), engine);
    dnnl::reorder(user, weights).execute(stream, user, weights);
    stream.wait();
  }
  void run() {
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
    if (hasBias) args[DNNL_ARG_BIAS] = bias;
    prim.execute(stream, args);
    stream.wait();
  }
};

void sgemm(int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

//===--- W5: square matmul ---------------------------------------------------===//

void squareMatmul(int64_t n, double budget) {
  std::vector<float> a = ramp(n * n, 1), b = ramp(n * n, 1, 0.5f), c(n * n);
  Array A = arrayOf(a, {n, n}), B = arrayOf(b, {n, n});
  auto f = jit([](const Tensor &x, const Tensor &y) { return matmul(x, y); }, {.name = "matmul"});
  DnnlLinear dnnl(n, n, n, a.data(), b.data(), nullptr, c.data(), dnnl::algorithm::undef);
  timeAll("W5.matmul", std::to_string(n), budget,
          {{"ajit", "", [&] { f(A, B); }},
           {"openblas", "cblas_sgemm", [&] { sgemm(n, n, n, a.data(), b.data(), c.data()); }},
           {"onednn", "prepacked weights", [&] { dnnl.run(); }}});
}

//===--- W3: Linear+GELU -----------------------------------------------------===//

void linearGelu(int64_t m, int64_t k, int64_t n, double budget) {
  std::vector<float> x = ramp(m * k, 1), w = ramp(k * n, 0.05f, 0.3f), b = ramp(n, 0.5f), y(m * n), y2(m * n);
  Array X = arrayOf(x, {m, k}), W = arrayOf(w, {k, n}), Bias = arrayOf(b, {n});
  auto fused = jit([](const Tensor &x, const Tensor &w, const Tensor &b) { return gelu(matmul(x, w) + b, true); },
                   {.name = "linear_gelu"});
  auto biasGelu = jit([](const Tensor &h, const Tensor &b) { return gelu(h + b, true); }, {.name = "bias_gelu"});
  // The weights frozen into the program (inference): packed once, at compile time.
  auto frozen = jit([&](const Tensor &x, const Tensor &b) { return gelu(matmul(x, constant(W)) + b, true); },
                    {.name = "linear_gelu_constant_weights"});
  Array H = arrayOf(y, {m, n});
  float *hData = H.data<float>();
  DnnlLinear dnnlFused(m, k, n, x.data(), w.data(), b.data(), y.data(), dnnl::algorithm::eltwise_gelu_tanh);
  DnnlLinear dnnlPlain(m, k, n, x.data(), w.data(), b.data(), y2.data(), dnnl::algorithm::undef);
  std::string size = std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
  timeAll("W3.linear_gelu", size, budget,
          {{"ajit", "fused: matmul tiles + bias + GELU epilogue", [&] { fused(X, W, Bias); }},
           {"ajit.constant_weights", "weights captured with ajit::constant, packed at compile time",
            [&] { frozen(X, Bias); }},
           {"openblas", "cblas_sgemm then a separate vectorized bias+GELU pass (ajit's kernel)",
            [&] {
              sgemm(m, n, k, x.data(), w.data(), hData);
              biasGelu(H, Bias);
            }},
           {"onednn", "prepacked weights, bias + gelu_tanh post-op", [&] { dnnlFused.run(); }},
           {"onednn.matmul_only", "prepacked weights, bias, no GELU", [&] { dnnlPlain.run(); }}});
}

void geluAlone(int64_t m, int64_t n, double budget) {
  Array X = arrayOf(ramp(m * n, 3), {m, n});
  auto f = jit([](const Tensor &x) { return gelu(x, true); }, {.name = "gelu"});
  timeAll("W3.gelu", std::to_string(m) + "x" + std::to_string(n), budget, {{"ajit", "", [&] { f(X); }}});
}

//===--- W5: MLP 784-512-512-10 with ReLU --------------------------------------===//

void mlp(int64_t batch, double budget) {
  const int64_t d0 = 784, d1 = 512, d2 = 512, d3 = 10;
  std::vector<float> x = ramp(batch * d0, 1), w1 = ramp(d0 * d1, 0.05f), w2 = ramp(d1 * d2, 0.05f, 0.1f),
                     w3 = ramp(d2 * d3, 0.05f, 0.2f), b1 = ramp(d1, 0.1f), b2 = ramp(d2, 0.1f), b3 = ramp(d3, 0.1f);
  std::vector<float> h1(batch * d1), h2(batch * d2), y(batch * d3);
  Array X = arrayOf(x, {batch, d0}), W1 = arrayOf(w1, {d0, d1}), W2 = arrayOf(w2, {d1, d2}),
        W3 = arrayOf(w3, {d2, d3}), B1 = arrayOf(b1, {d1}), B2 = arrayOf(b2, {d2}), B3 = arrayOf(b3, {d3});
  auto f = jit([](const Tensor &x, const Tensor &w1, const Tensor &b1, const Tensor &w2, const Tensor &b2,
                  const Tensor &w3, const Tensor &b3) {
    Tensor h = relu(matmul(x, w1) + b1);
    h = relu(matmul(h, w2) + b2);
    return matmul(h, w3) + b3;
  }, {.name = "mlp"});
  // The model frozen into the program (inference): weights and biases constants, the
  // weights packed once, at compile time.
  auto frozen = jit([&](const Tensor &x) {
    Tensor h = relu(matmul(x, constant(W1)) + constant(B1));
    h = relu(matmul(h, constant(W2)) + constant(B2));
    return matmul(h, constant(W3)) + constant(B3);
  }, {.name = "mlp_constant_weights"});
  auto biasRelu = [](float *h, const float *b, int64_t rows, int64_t cols, bool relu) {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        float v = h[i * cols + j] + b[j];
        h[i * cols + j] = relu ? std::max(v, 0.0f) : v;
      }
  };
  DnnlLinear l1(batch, d0, d1, x.data(), w1.data(), b1.data(), h1.data(), dnnl::algorithm::eltwise_relu);
  DnnlLinear l2(batch, d1, d2, h1.data(), w2.data(), b2.data(), h2.data(), dnnl::algorithm::eltwise_relu);
  DnnlLinear l3(batch, d2, d3, h2.data(), w3.data(), b3.data(), y.data(), dnnl::algorithm::undef);
  timeAll("W5.mlp", std::to_string(batch), budget,
          {{"ajit", "", [&] { f(X, W1, B1, W2, B2, W3, B3); }},
           {"ajit.constant_weights", "weights and biases captured with ajit::constant, packed at compile time",
            [&] { frozen(X); }},
           {"openblas", "cblas_sgemm + bias/ReLU loops",
            [&] {
              sgemm(batch, d1, d0, x.data(), w1.data(), h1.data());
              biasRelu(h1.data(), b1.data(), batch, d1, true);
              sgemm(batch, d2, d1, h1.data(), w2.data(), h2.data());
              biasRelu(h2.data(), b2.data(), batch, d2, true);
              sgemm(batch, d3, d2, h2.data(), w3.data(), y.data());
              biasRelu(y.data(), b3.data(), batch, d3, false);
            }},
           {"onednn", "prepacked weights, bias + ReLU post-ops", [&] {
              l1.run();
              l2.run();
              l3.run();
            }}});
}

//===--- The machine's peak: FMAs on registers, on every thread ----------------===//

/// Twelve independent FMA chains (two FMA ports x four cycles of latency, with room to
/// spare). Each chain starts from its own value: chains that start alike are one chain to
/// the compiler, which then keeps three and the loop measures a quarter of what it counts.
__attribute__((target("avx512f"))) double fmaLoop(long iterations) {
  __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-4f);
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.1f + 0.01f * static_cast<float>(i));
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_fmadd_ps(acc[j], b, c);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float lanes[16]; // (not _mm512_reduce_add_ps: GCC 12 warns inside it)
  _mm512_store_ps(lanes, s);
  double sum = 0;
  for (float v : lanes) sum += v;
  return sum;
}

void peak(double budget) {
  if (!__builtin_cpu_supports("avx512f")) return;
  int t = threads();
  const long iterations = 20'000'000; // 7.7 GFLOP per thread
  std::vector<double> rates;
  for (int r = 0; r < 5; ++r) {
    double s = now();
    std::vector<std::thread> pool;
    for (int i = 0; i < t; ++i) pool.emplace_back([&] { volatile double sink = fmaLoop(iterations); (void)sink; });
    for (auto &th : pool) th.join();
    rates.push_back((now() - s) / (iterations * 12.0 * 32 * t)); // seconds per flop
  }
  std::sort(rates.begin(), rates.end());
  std::printf("{\"workload\": \"peak.fma\", \"size\": \"1\", \"system\": \"machine\", \"metric\": \"seconds_per_flop\", "
              "\"median\": %.9g, \"min\": %.9g, \"max\": %.9g, \"reps\": 5, \"threads\": %d, \"note\": \"AVX-512 FMA on registers\"}\n",
              rates[2], rates[0], rates[4], t);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  double budget = 0.4;
  std::string only;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--budget=", 9)) budget = std::atof(argv[i] + 9);
    else if (!std::strncmp(argv[i], "--only=", 7)) only = argv[i] + 7;
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else {
      std::fprintf(stderr, "usage: %s [--budget=SECONDS] [--only=W3|W5|peak] [--quick]\n", argv[0]);
      return 2;
    }
  }
  auto want = [&](const char *w) { return only.empty() || only == w; };
  if (want("peak")) peak(budget);
  if (want("W5")) {
    for (int64_t n : {64, 128, 256, 512, 1024, 2048})
      if (!quick || n <= 1024) squareMatmul(n, budget);
    for (int64_t b : {32, 64, 128}) mlp(b, budget);
  }
  if (want("W3")) {
    for (auto [m, n] : {std::pair<int64_t, int64_t>{1000, 512}, {2048, 768}, {4096, 1024}}) geluAlone(m, n, budget);
    linearGelu(1000, 512, 768, budget);
    linearGelu(2048, 768, 3072, budget);
    if (!quick) linearGelu(4096, 1024, 4096, budget);
  }
  return 0;
}
