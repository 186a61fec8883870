//===- GradTest.cpp - grad of every op against central finite differences ===//
//
// Each case is f(x...) = sum(op(x...) * W) with W fixed pseudo-random weights (so every
// output element carries a different cotangent), in f64. jit(grad(f)) is compared with
// (f(x + h e_i) - f(x - h e_i)) / 2h for every element i of every differentiated
// argument. Inputs stay away from kinks (abs, relu, max, clamp) and poles.
// Tolerance: |grad - fd| <= 1e-6 (1 + |fd|); the difference quotient's own error is
// about 1e-9 here.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <random>

using namespace ajit;

namespace {

Array randomF64(const Shape &shape, unsigned seed, double lo = -2, double hi = 2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Array a = Array::empty(shape, DType::f64);
  for (int64_t i = 0; i < a.size(); ++i) {
    double v = dist(rng);
    // Away from 0 by at least 0.05: no kink of abs/relu/max sits within h of an input.
    if (std::abs(v) < 0.05) v += v < 0 ? -0.05 : 0.05;
    a.data<double>()[i] = v;
  }
  return a;
}

/// sum(y * W), W fixed weights of y's shape: a scalar whose gradient weighs each element.
Tensor weightedSum(const Tensor &y) {
  Array w = randomF64(y.shape(), 99, 0.5, 1.5);
  Tensor wt = constant(w);
  return sum(astype(y, DType::f64) * wt);
}

using Fn = std::function<Tensor(const std::vector<Tensor> &)>;

/// Checks d/d(args[i]) of weightedSum(fn(args)) for each i in `argnums`.
void checkGrad(const std::string &name, const Fn &fn, const std::vector<Array> &args, std::vector<int> argnums = {0},
               double tol = 1e-6) {
  SCOPED_TRACE(name);
  ASSERT_LE(args.size(), 3u);
  auto scalar = [fn](const std::vector<Tensor> &t) { return weightedSum(fn(t)); };
  // Fixed arities for jit: unused trailing parameters are 1-element dummies.
  Array dummy = Array::zeros({1}, DType::f64);
  std::vector<Array> a = args;
  size_t n = args.size();
  while (a.size() < 3) a.push_back(dummy);
  auto f3 = [scalar, n](Tensor x, Tensor y, Tensor z) {
    std::vector<Tensor> all = {x, y, z};
    return scalar(std::vector<Tensor>(all.begin(), all.begin() + n));
  };
  auto value = jit(f3, {.name = "grad_value"});
  auto gradient = jit(grad(f3, argnums), {.name = "grad_" + name});
  std::vector<Array> grads = gradient(a[0], a[1], a[2]);
  ASSERT_EQ(grads.size(), argnums.size());
  for (size_t k = 0; k < argnums.size(); ++k) {
    int arg = argnums[k];
    ASSERT_EQ(grads[k].shape(), a[arg].shape());
    for (int64_t i = 0; i < a[arg].size(); ++i) {
      double &xi = a[arg].data<double>()[i];
      double x0 = xi, h = 1e-6 * std::max(1.0, std::abs(x0));
      xi = x0 + h;
      double up = value(a[0], a[1], a[2]).data<double>()[0];
      xi = x0 - h;
      double down = value(a[0], a[1], a[2]).data<double>()[0];
      xi = x0;
      double fd = (up - down) / (2 * h), g = grads[k].data<double>()[i];
      EXPECT_NEAR(g, fd, tol * (1 + std::abs(fd))) << "argument " << arg << ", element " << i;
    }
  }
}

Array pos(const Shape &s, unsigned seed) { return randomF64(s, seed, 0.2, 3); }

TEST(Grad, Unary) {
  Shape s = {3, 4};
  struct U {
    const char *name;
    std::function<Tensor(const Tensor &)> op;
    bool positive;
  } ops[] = {
      {"neg", [](const Tensor &x) { return neg(x); }, false},
      {"abs", [](const Tensor &x) { return ajit::abs(x); }, false},
      {"exp", [](const Tensor &x) { return ajit::exp(x); }, false},
      {"log", [](const Tensor &x) { return ajit::log(x); }, true},
      {"sin", [](const Tensor &x) { return ajit::sin(x); }, false},
      {"cos", [](const Tensor &x) { return ajit::cos(x); }, false},
      {"tanh", [](const Tensor &x) { return ajit::tanh(x); }, false},
      {"sqrt", [](const Tensor &x) { return ajit::sqrt(x); }, true},
      {"rsqrt", [](const Tensor &x) { return rsqrt(x); }, true},
      {"sigmoid", [](const Tensor &x) { return sigmoid(x); }, false},
      {"relu", [](const Tensor &x) { return relu(x); }, false},
      {"gelu_tanh", [](const Tensor &x) { return gelu(x, true); }, false},
      {"gelu_erf", [](const Tensor &x) { return gelu(x, false); }, false},
  };
  for (auto &u : ops)
    checkGrad(u.name, [op = u.op](const std::vector<Tensor> &t) { return op(t[0]); },
              {u.positive ? pos(s, 1) : randomF64(s, 1)});
}

TEST(Grad, GeluErfAtZero) {
  Array x = Array::from<double>({0.0, 1e-30, -1e-30}, {3});
  auto g = jit(grad([](Tensor t) { return sum(gelu(t, false)); }));
  Array r = g(x);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(r.data<double>()[i], 0.5, 1e-12) << i;
}

TEST(Grad, Binary) {
  Shape s = {3, 4};
  struct B {
    const char *name;
    std::function<Tensor(const Tensor &, const Tensor &)> op;
    bool positive;
  } ops[] = {
      {"add", [](const Tensor &x, const Tensor &y) { return x + y; }, false},
      {"sub", [](const Tensor &x, const Tensor &y) { return x - y; }, false},
      {"mul", [](const Tensor &x, const Tensor &y) { return x * y; }, false},
      {"div", [](const Tensor &x, const Tensor &y) { return x / y; }, true},
      {"maximum", [](const Tensor &x, const Tensor &y) { return maximum(x, y); }, false},
      {"minimum", [](const Tensor &x, const Tensor &y) { return minimum(x, y); }, false},
      {"pow", [](const Tensor &x, const Tensor &y) { return ajit::pow(x, y); }, true},
  };
  for (auto &b : ops)
    checkGrad(b.name, [op = b.op](const std::vector<Tensor> &t) { return op(t[0], t[1]); },
              {b.positive ? pos(s, 2) : randomF64(s, 2), b.positive ? pos(s, 3) : randomF64(s, 3)}, {0, 1});
}

TEST(Grad, BroadcastsSumBack) {
  checkGrad("row", [](const std::vector<Tensor> &t) { return t[0] + t[1]; }, {randomF64({3, 4}, 4), randomF64({4}, 5)},
            {0, 1});
  checkGrad("outer", [](const std::vector<Tensor> &t) { return t[0] * t[1]; },
            {randomF64({3, 1}, 6), randomF64({1, 4}, 7)}, {0, 1});
  checkGrad("scalar", [](const std::vector<Tensor> &t) { return t[0] * 3.0 + 1.0; }, {randomF64({5}, 8)});
}

TEST(Grad, SelectClampAndCompare) {
  checkGrad("where", [](const std::vector<Tensor> &t) { return where(t[0] > t[1], t[0] * t[0], t[1] * 3.0); },
            {randomF64({3, 4}, 9), randomF64({3, 4}, 10)}, {0, 1});
  // Inputs in (-2, 2) away from the bounds +-0.5 by the 0.05 margin around 0... and beyond:
  Array x = Array::from<double>({-1.5, -0.3, 0.1, 0.4, 0.7, 1.9}, {6});
  checkGrad("clamp", [](const std::vector<Tensor> &t) { return clamp(t[0], -0.5, 0.5); }, {x});
  checkGrad("clamp_tensor_bounds", [](const std::vector<Tensor> &t) { return clamp(t[0], t[1], t[2]); },
            {x, Array::from<double>({-1, -1, -1, -1, -1, -1}, {6}), Array::from<double>({0, 0, 0, 0, 0, 0}, {6})},
            {0, 1, 2});
}

TEST(Grad, Reductions) {
  Shape s = {3, 4};
  for (auto axes : std::vector<std::vector<int64_t>>{{0}, {1}, {}, {0, 1}}) {
    std::string tag = std::to_string(axes.size()) + (axes.empty() ? "" : std::to_string(axes[0]));
    checkGrad("sum" + tag, [axes](const std::vector<Tensor> &t) { return sum(t[0], axes); }, {randomF64(s, 11)});
    checkGrad("mean" + tag, [axes](const std::vector<Tensor> &t) { return mean(t[0], axes, true); },
              {randomF64(s, 12)});
    checkGrad("max" + tag, [axes](const std::vector<Tensor> &t) { return max(t[0], axes); }, {randomF64(s, 13)});
    checkGrad("min" + tag, [axes](const std::vector<Tensor> &t) { return min(t[0], axes, true); }, {randomF64(s, 14)});
  }
  // A tie shares the cotangent equally (JAX's rule): d max(x) / dx = (0.5, 0.5, 0).
  auto g = jit(grad([](Tensor t) { return max(t); }));
  Array r = g(Array::from<double>({2, 2, 1}, {3}));
  EXPECT_EQ(r.data<double>()[0], 0.5);
  EXPECT_EQ(r.data<double>()[1], 0.5);
  EXPECT_EQ(r.data<double>()[2], 0.0);
}

TEST(Grad, ShapeOps) {
  checkGrad("reshape", [](const std::vector<Tensor> &t) { return reshape(t[0], {2, 6}) * 2.0; }, {randomF64({3, 4}, 15)});
  checkGrad("transpose", [](const std::vector<Tensor> &t) { return transpose(t[0]) * t[1]; },
            {randomF64({3, 4}, 16), randomF64({4, 3}, 17)}, {0, 1});
  checkGrad("transpose3", [](const std::vector<Tensor> &t) { return ajit::exp(transpose(t[0], {2, 0, 1})); },
            {randomF64({2, 3, 4}, 18)});
}

TEST(Grad, Matmul) {
  checkGrad("matmul", [](const std::vector<Tensor> &t) { return matmul(t[0], t[1]); },
            {randomF64({3, 4}, 19), randomF64({4, 5}, 20)}, {0, 1});
  checkGrad("batched", [](const std::vector<Tensor> &t) { return matmul(t[0], t[1]); },
            {randomF64({2, 3, 4}, 21), randomF64({2, 4, 5}, 22)}, {0, 1});
  checkGrad("matvec", [](const std::vector<Tensor> &t) { return matmul(t[0], t[1]); },
            {randomF64({3, 4}, 23), randomF64({4}, 24)}, {0, 1});
  checkGrad("linear_gelu", [](const std::vector<Tensor> &t) { return gelu(matmul(t[0], t[1]) + t[2]); },
            {randomF64({3, 4}, 25), randomF64({4, 5}, 26), randomF64({5}, 27)}, {0, 1, 2});
}

TEST(Grad, SoftmaxForms) {
  for (int64_t axis : {0, 1}) {
    checkGrad("softmax" + std::to_string(axis), [axis](const std::vector<Tensor> &t) { return softmax(t[0], axis); },
              {randomF64({3, 4}, 28)});
    checkGrad("log_softmax" + std::to_string(axis),
              [axis](const std::vector<Tensor> &t) { return logSoftmax(t[0], axis); }, {randomF64({3, 4}, 29)});
  }
}

// Rows over 1 MiB take the one-pass softmax_stats op: its rule against the closed form
// d/dx sum(w * log_softmax(x)) = w - softmax(x) sum(w).
TEST(Grad, OnlineSoftmaxStats) {
  const int64_t n = 140000;
  Array x = randomF64({1, n}, 30), w = randomF64({1, n}, 31, 0.5, 1.5);
  auto g = jit(grad([](Tensor t, Tensor wt) { return sum(logSoftmax(t) * wt); }));
  auto closed = jit([](Tensor t, Tensor wt) { return wt - softmax(t) * sum(wt); });
  ASSERT_NE(jit([](Tensor t) { return logSoftmax(t); }).lower(x).find("softmax_stats"), std::string::npos);
  Array got = g(x, w), want = closed(x, w);
  for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(got.data<double>()[i], want.data<double>()[i], 1e-9) << i;
}

TEST(Grad, LeastSquaresAndValueAndGrad) {
  // loss(W, b) = mean((x W + b - y)^2): W6's model, small.
  auto loss = [](Tensor w, Tensor b, Tensor x, Tensor y) {
    Tensor r = matmul(x, w) + b - y;
    return mean(r * r);
  };
  Array x = randomF64({20, 3}, 32), y = randomF64({20, 2}, 33), w = randomF64({3, 2}, 34), b = randomF64({2}, 35);
  auto vg = jit(value_and_grad(loss, {0, 1}));
  std::vector<Array> out = vg(w, b, x, y);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_NEAR(out[0].data<double>()[0], jit(loss)(w, b, x, y).data<double>()[0], 1e-12);
  // Closed form: dW = 2/N x^T r, db = 2/N sum_rows r (N = 40 elements).
  auto closed = jit([](Tensor w2, Tensor b2, Tensor x2, Tensor y2) {
    Tensor r = matmul(x2, w2) + b2 - y2;
    return std::vector<Tensor>{matmul(transpose(x2), r) * (2.0 / 40), sum(r, {0}) * (2.0 / 40)};
  });
  std::vector<Array> want = closed(w, b, x, y);
  for (int k = 0; k < 2; ++k)
    for (int64_t i = 0; i < want[k].size(); ++i)
      EXPECT_NEAR(out[k + 1].data<double>()[i], want[k].data<double>()[i], 1e-12) << k << " " << i;
}

TEST(Grad, SecondOrder) {
  // d/dx sum(w * d/dx sum(sin x)) = d/dx sum(w cos x) = -w sin x.
  auto inner = grad([](Tensor t) { return sum(ajit::sin(t)); });
  auto outer = jit(grad([inner](Tensor t, Tensor w) { return sum(inner(t) * w); }));
  Array x = randomF64({7}, 36), w = randomF64({7}, 37);
  Array r = outer(x, w);
  for (int64_t i = 0; i < 7; ++i)
    EXPECT_NEAR(r.data<double>()[i], -w.data<double>()[i] * std::sin(x.data<double>()[i]), 1e-12);
}

TEST(Grad, F32AndFusion) {
  // Forward and backward compile as one program; in f32 the result matches f64's.
  auto f = [](Tensor t) { return sum(ajit::exp(-t / 10.0) * ajit::sin(t)); };
  Array x64 = randomF64({1000}, 38);
  Array x32 = Array::empty({1000}, DType::f32);
  for (int i = 0; i < 1000; ++i) x32.data<float>()[i] = static_cast<float>(x64.data<double>()[i]);
  auto g = jit(grad(f), {.name = "grad_h"});
  Array r32 = g(x32), r64 = g(x64);
  for (int i = 0; i < 1000; ++i) EXPECT_NEAR(r32.data<float>()[i], r64.data<double>()[i], 1e-5) << i;
  EXPECT_LE(g.stats().kernels, 2u); // one fused elementwise kernel (plus none for the seed)
}

// Random programs of differentiable ops over [3,4] tensors (broadcasting [1,4]/[3,1]
// reductions back in, softmaxes, products with fixed matrices, reshapes and
// transposes), each op's inputs kept in its smooth domain. grad with respect to both
// inputs against finite differences. AJIT_GRAD_FUZZ_PROGRAMS / AJIT_GRAD_FUZZ_SEED.
TEST(Grad, RandomPrograms) {
  const int64_t programs = test::envInt("AJIT_GRAD_FUZZ_PROGRAMS", 30), seed = test::envInt("AJIT_GRAD_FUZZ_SEED", 1);
  for (int64_t p = 0; p < programs; ++p) {
    unsigned programSeed = static_cast<unsigned>(seed * 1000 + p);
    std::mt19937 shapeRng(programSeed);
    int length = 3 + static_cast<int>(shapeRng() % 10);
    std::string trace; // the ops, for the failure message
    auto program = [programSeed, length, &trace](const std::vector<Tensor> &in) {
      std::mt19937 rng(programSeed);
      rng(); // the length draw
      trace.clear();
      std::vector<Tensor> pool = in;
      auto pick = [&]() { return pool[rng() % pool.size()]; };
      auto full = [](const Tensor &t) { return t.shape() == Shape{3, 4} ? t : broadcastTo(t, {3, 4}); };
      for (int k = 0; k < length; ++k) {
        Tensor a = pick(), b = pick();
        int op = static_cast<int>(rng() % 16);
        trace += std::to_string(op) + " ";
        Tensor r = [&]() -> Tensor {
          switch (op) {
          case 0: return ajit::sin(a);
          case 1: return ajit::tanh(a) * ajit::cos(b);
          case 2: return sigmoid(a) + b;
          case 3: return ajit::exp(ajit::tanh(a));
          case 4: return ajit::log(a * a + 1.0) - b;
          case 5: return ajit::sqrt(a * a + 1.0) * b;
          case 6: return rsqrt(b * b + 0.5) * a;
          case 7: return gelu(a, true) + gelu(b, false);
          case 8: return a / (b * b + 1.0);
          case 9: return maximum(a, b) - minimum(a, b * 0.5);
          case 10: return ajit::pow(a * a + 1.0, ajit::tanh(b));
          case 11: return (rng() % 2 ? sum(a, {0}, true) : mean(a, {1}, true)) * b;
          case 12: return max(full(a), {static_cast<int64_t>(rng() % 2)}, true) + b;
          case 13: return softmax(full(a), static_cast<int64_t>(rng() % 2)) * logSoftmax(full(b), 1);
          case 14: {
            Array w = randomF64({4, 4}, static_cast<unsigned>(rng()), -1, 1);
            return matmul(full(a), constant(w)) + b;
          }
          default: return transpose(reshape(full(a), {4, 3})) * b;
          }
        }();
        pool.push_back(full(r));
      }
      return pool.back();
    };
    checkGrad("program" + std::to_string(p), program, {randomF64({3, 4}, programSeed), randomF64({3, 4}, programSeed + 7)},
              {0, 1}, 1e-5);
    if (testing::Test::HasFailure()) {
      ADD_FAILURE() << "seed " << seed << ", program " << p << ": ops " << trace;
      return;
    }
  }
}

TEST(Grad, BadUse) {
  Array x = randomF64({3}, 39);
  using test::expectError;
  expectError([&] { jit(grad([](Tensor t) { return t * 2.0; }))(x); }, "must return a scalar");
  expectError([&] { jit(grad([](Tensor t, int64_t) { return sum(t); }, 1))(x, int64_t{2}); },
              "argnum 1 is not a Tensor argument");
  Array i = Array::from<int32_t>({1, 2, 3}, {3});
  expectError([&] { jit(grad([](Tensor t) { return sum(astype(t, DType::f64)); }))(i); },
              "only float arguments have gradients");
  expectError([&] { jit(grad([](Tensor t) { return sum(astype(t, DType::i32)); }))(x); },
              "must return a float tensor");
  // The argument does not reach the output: its gradient is zero.
  Array z = jit(grad([](Tensor t, Tensor u) { return sum(u); }))(x, x);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(z.data<double>()[k], 0.0);
}

} // namespace
