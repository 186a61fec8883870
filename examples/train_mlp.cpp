//===- train_mlp.cpp - a small MLP trained with jit(value_and_grad) + Adam ===//
//
// Synthetic 4-class data (a random teacher network labels Gaussian points), a 16-64-4
// MLP with GELU, mean cross-entropy. Each step is two compiled calls: the loss and its
// gradients for all four parameters (forward and backward fused in one program), and
// one Adam update per parameter with its moments (one kernel, written in place over the
// donated parameter and moments). Exits non-zero unless the loss at least halves, so the test suite runs it.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"

#include <cmath>
#include <cstdio>
#include <random>

using ajit::Array;
using ajit::DType;
using ajit::Tensor;

namespace {

Array randn(const ajit::Shape &shape, std::mt19937 &rng, double scale) {
  std::normal_distribution<float> dist(0.0f, static_cast<float>(scale));
  Array a = Array::empty(shape, DType::f32);
  for (int64_t i = 0; i < a.size(); ++i) a.data<float>()[i] = dist(rng);
  return a;
}

Tensor mlp(const Tensor &w1, const Tensor &b1, const Tensor &w2, const Tensor &b2, const Tensor &x) {
  return ajit::matmul(ajit::gelu(ajit::matmul(x, w1) + b1), w2) + b2;
}

/// Mean cross-entropy of the logits against one-hot labels.
Tensor loss(const Tensor &w1, const Tensor &b1, const Tensor &w2, const Tensor &b2, const Tensor &x,
            const Tensor &onehot) {
  Tensor logp = ajit::logSoftmax(mlp(w1, b1, w2, b2, x), 1);
  return -ajit::mean(ajit::sum(onehot * logp, {1}));
}

/// Adam for one parameter: new (p, m, v). `lr_t` is the bias-corrected step size, a 0-d
/// array so that it changes without recompiling.
std::vector<Tensor> adam(const Tensor &p, const Tensor &g, const Tensor &m, const Tensor &v, const Tensor &lrT) {
  Tensor m2 = m * 0.9 + g * 0.1;
  Tensor v2 = v * 0.999 + g * g * 0.001;
  return {p - lrT * m2 / (ajit::sqrt(v2) + 1e-8), m2, v2};
}

} // namespace

int main() {
  std::mt19937 rng(7);
  const int64_t n = 512, in = 16, hidden = 64, classes = 4;
  Array x = randn({n, in}, rng, 1.0);
  // Labels: the argmax of a random teacher network, as one-hot rows.
  auto teacher = ajit::jit([](Tensor xs, Tensor w) { return ajit::argmax(ajit::tanh(ajit::matmul(xs, w)), 1); });
  Array labels = teacher(x, randn({in, classes}, rng, 1.0));
  Array onehot = Array::zeros({n, classes}, DType::f32);
  for (int64_t i = 0; i < n; ++i) onehot.data<float>()[i * classes + labels.data<int64_t>()[i]] = 1.0f;

  std::vector<Array> params = {randn({in, hidden}, rng, 1.0 / std::sqrt(in)), Array::zeros({hidden}, DType::f32),
                               randn({hidden, classes}, rng, 1.0 / std::sqrt(hidden)),
                               Array::zeros({classes}, DType::f32)};
  std::vector<Array> m, v;
  for (const Array &p : params) {
    m.push_back(Array::zeros(p.shape(), p.dtype()));
    v.push_back(Array::zeros(p.shape(), p.dtype()));
  }

  auto step = ajit::jit(ajit::value_and_grad(loss, {0, 1, 2, 3}), {.name = "loss_and_grads"});
  // The parameter and its moments are donated: each update writes them in place.
  auto update = ajit::jit(adam, {.name = "adam", .donateArgnums = {0, 2, 3}});
  double first = 0, last = 0;
  const double lr = 0.01;
  for (int t = 1; t <= 200; ++t) {
    std::vector<Array> out = step(params[0], params[1], params[2], params[3], x, onehot);
    last = out[0].data<float>()[0];
    if (t == 1) first = last;
    double lrT = lr * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    Array lrArray = Array::scalar<float>(static_cast<float>(lrT));
    for (size_t k = 0; k < params.size(); ++k) {
      std::vector<Array> r = update(params[k], out[k + 1], m[k], v[k], lrArray);
      params[k] = r[0], m[k] = r[1], v[k] = r[2];
    }
    if (t == 1 || t % 50 == 0) std::printf("step %3d  loss %.4f\n", t, last);
  }
  auto predict = ajit::jit([](Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor xs) {
    return ajit::argmax(mlp(w1, b1, w2, b2, xs), 1);
  });
  Array predicted = predict(params[0], params[1], params[2], params[3], x);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) correct += predicted.data<int64_t>()[i] == labels.data<int64_t>()[i];
  auto s = step.stats();
  std::printf("accuracy %.1f%%; loss_and_grads: %llu compile (%.0f ms), %llu cached calls, %llu kernels\n",
              100.0 * correct / n, static_cast<unsigned long long>(s.compiles), s.totalCompile.total,
              static_cast<unsigned long long>(s.cacheHits), static_cast<unsigned long long>(s.kernels));
  if (!(last < 0.5 * first)) {
    std::printf("FAILED: the loss did not halve (%.4f -> %.4f)\n", first, last);
    return 1;
  }
  return 0;
}
