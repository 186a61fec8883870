//===- VmapTest.cpp - vmap(f) equals f applied to each example and stacked ===//
#include "frontend/ajit.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>

using namespace ajit;

namespace {

Array randomF32(const Shape &shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2, 2);
  Array a = Array::empty(shape, DType::f32);
  for (int64_t i = 0; i < a.size(); ++i) a.data<float>()[i] = dist(rng);
  return a;
}

/// Example `b` of `a` along axis 0.
Array slice(const Array &a, int64_t b) {
  Shape per(a.shape().begin() + 1, a.shape().end());
  Array r = Array::empty(per, a.dtype());
  std::memcpy(r.rawData(), static_cast<const char *>(a.rawData()) + b * r.nbytes(), r.nbytes());
  return r;
}

double at(const Array &a, int64_t i) {
  switch (a.dtype()) {
  case DType::f32: return a.data<float>()[i];
  case DType::f64: return a.data<double>()[i];
  case DType::i32: return a.data<int32_t>()[i];
  case DType::i64: return static_cast<double>(a.data<int64_t>()[i]);
  case DType::boolean: return a.data<bool>()[i];
  default: return 0;
  }
}

/// Whether `batched` (batch on axis 0) holds `each[b]` at every b, within f32 rounding.
void expectStacked(const Array &batched, const std::vector<Array> &each, const std::string &what) {
  ASSERT_EQ(batched.shape()[0], static_cast<int64_t>(each.size())) << what;
  for (size_t b = 0; b < each.size(); ++b) {
    Array got = slice(batched, static_cast<int64_t>(b));
    ASSERT_EQ(got.shape(), each[b].shape()) << what;
    ASSERT_EQ(got.dtype(), each[b].dtype()) << what;
    for (int64_t i = 0; i < got.size(); ++i) {
      double g = at(got, i), e = at(each[b], i);
      if (std::isnan(g) && std::isnan(e)) continue;
      ASSERT_NEAR(g, e, 1e-5 * (1 + std::abs(e))) << what << ": example " << b << ", element " << i;
    }
  }
}

using Fn2 = std::function<Tensor(Tensor, Tensor)>;

/// vmap over both arguments (axis 0) against a loop over the examples.
void checkVmap(const std::string &name, const Fn2 &f, const Array &x, const Array &y) {
  SCOPED_TRACE(name);
  auto batched = jit(vmap(f), {.name = "vmap_" + name});
  auto single = jit(f, {.name = "single_" + name});
  Array out = batched(x, y);
  std::vector<Array> each;
  for (int64_t b = 0; b < x.shape()[0]; ++b) each.push_back(single(slice(x, b), slice(y, b)));
  expectStacked(out, each, name);
}

TEST(Vmap, Ops) {
  const int64_t B = 5;
  Array x = randomF32({B, 3, 4}, 1), y = randomF32({B, 3, 4}, 2);
  std::vector<std::pair<std::string, Fn2>> cases = {
      {"elementwise", [](Tensor a, Tensor b) { return ajit::sin(a) * b + ajit::exp(-a) / (b * b + 1.0); }},
      {"gelu_relu", [](Tensor a, Tensor b) { return gelu(a) + relu(b) + gelu(a, false); }},
      {"where_compare", [](Tensor a, Tensor b) { return where(a > b, a, b * 2.0) + astype(a < 0.0, DType::f32); }},
      {"clamp", [](Tensor a, Tensor) { return clamp(a, -0.5, 0.5); }},
      {"reduce_axis0", [](Tensor a, Tensor b) { return sum(a, {0}) + max(b, {0}); }},
      {"reduce_keepdims", [](Tensor a, Tensor b) { return a - mean(a, {1}, true) * min(b, {1}, true); }},
      {"reduce_all", [](Tensor a, Tensor b) { return sum(a * b) + max(a); }},
      {"argmax", [](Tensor a, Tensor b) { return astype(argmax(a, 1), DType::f32) + astype(argmin(transpose(b), 0), DType::f32); }},
      {"softmax", [](Tensor a, Tensor b) { return softmax(a, 1) + logSoftmax(b, 0); }},
      {"transpose_reshape", [](Tensor a, Tensor b) { return reshape(transpose(a), {2, 6}) + reshape(b, {2, 6}); }},
      {"broadcast", [](Tensor a, Tensor b) { return broadcastTo(sum(a, {0}), {2, 4}) * 3.0 + sum(b); }},
      {"matmul_both", [](Tensor a, Tensor b) { return matmul(a, transpose(b)); }},
      {"matvec_both", [](Tensor a, Tensor b) { return matmul(a, sum(b, {0})); }},
      {"astype_i32", [](Tensor a, Tensor b) { return astype(astype(a * 10.0, DType::i32) + astype(b, DType::i32), DType::f32); }},
  };
  for (auto &[name, f] : cases) checkVmap(name, f, x, y);
}

// A product with one unbatched side is one 2-D product, the batch folded into its rows
// or columns: not a loop, not a batched product over copies.
TEST(Vmap, MatrixVectorBecomesMatrixMatrix) {
  Array m = randomF32({6, 4}, 3), v = randomF32({10, 4}, 4);
  auto matvec = [](Tensor mat, Tensor vec) { return matmul(mat, vec); };
  auto batched = jit(vmap(matvec, {std::nullopt, 0}));
  std::string ir = batched.lower(m, v);
  EXPECT_NE(ir.find("ajit.dot %"), std::string::npos) << ir;
  EXPECT_NE(ir.find("tensor<6x4xf32>, tensor<4x10xf32> -> tensor<6x10xf32>"), std::string::npos) << ir;
  Array out = batched(m, v);
  auto single = jit(matvec);
  std::vector<Array> each;
  for (int64_t b = 0; b < 10; ++b) each.push_back(single(m, slice(v, b)));
  expectStacked(out, each, "matvec");

  auto vecmat = [](Tensor vec, Tensor mat) { return matmul(vec, mat); };
  auto batched2 = jit(vmap(vecmat, {0, std::nullopt}));
  Array w = randomF32({4, 6}, 5);
  EXPECT_NE(batched2.lower(v, w).find("tensor<10x4xf32>, tensor<4x6xf32> -> tensor<10x6xf32>"), std::string::npos);
  Array out2 = batched2(v, w);
  std::vector<Array> each2;
  for (int64_t b = 0; b < 10; ++b) each2.push_back(jit(vecmat)(slice(v, b), w));
  expectStacked(out2, each2, "vecmat");
}

TEST(Vmap, AxesAndUnbatchedArguments) {
  // x batched along axis 1, w shared; the batch placed last in the result.
  Array x = randomF32({3, 7}, 6), w = randomF32({3}, 7);
  auto f = [](Tensor a, Tensor s) { return a * s + 1.0; };
  auto batched = jit(vmap(f, {1, std::nullopt}, {1}));
  Array out = batched(x, w); // [3, 7]: example b is column b
  ASSERT_EQ(out.shape(), (Shape{3, 7}));
  for (int64_t b = 0; b < 7; ++b)
    for (int64_t i = 0; i < 3; ++i)
      EXPECT_FLOAT_EQ(out.data<float>()[i * 7 + b], x.data<float>()[i * 7 + b] * w.data<float>()[i] + 1.0f);
  // A result that does not depend on the batch is broadcast along it.
  auto constant = jit(vmap([](Tensor a, Tensor s) { return std::vector<Tensor>{a + 0.0, s * 2.0}; }, {0, std::nullopt}));
  std::vector<Array> r = constant(x, w);
  ASSERT_EQ(r[1].shape(), (Shape{3, 3}));
  EXPECT_FLOAT_EQ(r[1].data<float>()[2 * 3 + 1], w.data<float>()[1] * 2);
}

TEST(Vmap, PerExampleGradients) {
  // The gradient of each example's squared error, for a shared w: vmap(grad(loss)).
  auto loss = [](Tensor w, Tensor x, Tensor y) {
    Tensor r = ajit::sum(x * w) - y;
    return r * r;
  };
  Array w = randomF32({4}, 8), xs = randomF32({6, 4}, 9), ys = randomF32({6}, 10);
  auto perExample = jit(vmap(grad(loss), {std::nullopt, 0, 0}));
  Array g = perExample(w, xs, ys);
  ASSERT_EQ(g.shape(), (Shape{6, 4}));
  auto single = jit(grad(loss));
  std::vector<Array> each;
  for (int64_t b = 0; b < 6; ++b) each.push_back(single(w, slice(xs, b), slice(ys, b)));
  expectStacked(g, each, "per-example gradients");
  // And grad of a vmapped loss: the sum of the per-example gradients.
  auto total = jit(grad([loss](Tensor w2, Tensor x2, Tensor y2) {
    return sum(vmap(loss, {std::nullopt, 0, 0})(w2, x2, y2));
  }));
  Array t = total(w, xs, ys);
  for (int64_t i = 0; i < 4; ++i) {
    double s = 0;
    for (int64_t b = 0; b < 6; ++b) s += each[b].data<float>()[i];
    EXPECT_NEAR(t.data<float>()[i], s, 1e-4 * (1 + std::abs(s)));
  }
}

// Random chains over [3,4] examples, batch 5: vmap equals the loop over examples.
// AJIT_VMAP_FUZZ_PROGRAMS / AJIT_VMAP_FUZZ_SEED.
TEST(Vmap, RandomPrograms) {
  const int64_t programs = test::envInt("AJIT_VMAP_FUZZ_PROGRAMS", 25), seed = test::envInt("AJIT_VMAP_FUZZ_SEED", 1);
  for (int64_t p = 0; p < programs; ++p) {
    unsigned programSeed = static_cast<unsigned>(seed * 1000 + p);
    Fn2 program = [programSeed](Tensor x, Tensor y) {
      std::mt19937 rng(programSeed);
      int length = 2 + static_cast<int>(rng() % 10);
      std::vector<Tensor> pool = {x, y};
      auto full = [](const Tensor &t) { return t.shape() == Shape{3, 4} ? t : broadcastTo(t, {3, 4}); };
      for (int k = 0; k < length; ++k) {
        Tensor a = pool[rng() % pool.size()], b = pool[rng() % pool.size()];
        Tensor r = [&]() -> Tensor {
          switch (rng() % 12) {
          case 0: return ajit::tanh(a) + b;
          case 1: return a * b - ajit::exp(b * 0.1);
          case 2: return where(a > b, a, b);
          case 3: return sum(a, {static_cast<int64_t>(rng() % 2)}, true) * b;
          case 4: return max(a, {1}, true) - a;
          case 5: return softmax(a, static_cast<int64_t>(rng() % 2));
          case 6: return matmul(full(a), transpose(full(b))).shape() == Shape{3, 3}
                             ? sum(matmul(full(a), transpose(full(b))), {1}, true) * a
                             : a;
          case 7: return transpose(reshape(full(a), {4, 3})) + b;
          case 8: return astype(argmax(full(a), 1, true), DType::f32) * b;
          case 9: return broadcastTo(mean(a, {0}, true), {3, 4}) + gelu(b);
          case 10: return clamp(a, -1.0, 1.0) * sigmoid(b);
          default: return sum(a) + b;
          }
        }();
        pool.push_back(full(r));
      }
      return pool.back();
    };
    checkVmap("program" + std::to_string(p), program, randomF32({5, 3, 4}, programSeed),
              randomF32({5, 3, 4}, programSeed + 1));
    if (testing::Test::HasFailure()) {
      ADD_FAILURE() << "seed " << seed << ", program " << p;
      return;
    }
  }
}

TEST(Vmap, BadUse) {
  using test::expectError;
  Array a = randomF32({4, 3}, 11), b = randomF32({5, 3}, 12);
  auto add = [](Tensor x, Tensor y) { return x + y; };
  expectError([&] { jit(vmap(add))(a, b); }, "has 5 along its batch axis, an earlier argument 4");
  expectError([&] { jit(vmap(add, {0}))(a, a); }, "in_axes has 1 entries for 2 Tensor arguments");
  expectError([&] { jit(vmap(add, {std::nullopt, std::nullopt}))(a, a); }, "no argument is batched");
  expectError([&] { jit(vmap(add, {2, 0}))(a, a); }, "in_axes[0] = 2 is not an axis of argument 0");
  expectError([&] { jit(vmap(add, {}, {3}))(a, a); }, "out_axes[0] is not an axis");
}

} // namespace
