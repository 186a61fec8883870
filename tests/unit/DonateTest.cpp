//===- DonateTest.cpp - donated arguments: outputs in the inputs' buffers --===//
//
// JitOptions::donateArgnums end to end: results equal those of the same function without
// donation; an output really lands in the donated buffer when the argument alone owns
// it, and in a copy when anything else could see the change; unsafe programs never reuse;
// the pairing survives AJIT_CACHE_DIR; bad positions are errors. The pairing rules
// themselves are pinned by lit (transforms/reuse_donated_inputs.mlir) and fuzzed by
// DiffFuzzTest (odd programs donate every input).
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <tuple>

#include <unistd.h>

using namespace ajit;
using test::expectError;
using test::ScopedEnv;

namespace {

Array ramp(Shape shape, float scale, float offset) {
  Array a = Array::empty(shape, DType::f32);
  float *p = a.data<float>();
  for (int64_t i = 0; i < a.size(); ++i) p[i] = offset + scale * static_cast<float>(i % 97);
  return a;
}

Array copyOf(const Array &a) {
  Array c = Array::empty(a.shape(), a.dtype());
  std::memcpy(c.rawData(), a.rawData(), a.nbytes());
  return c;
}

void expectSame(const Array &got, const Array &want) {
  ASSERT_EQ(got.shape(), want.shape());
  auto g = got.toVector<float>(), w = want.toVector<float>();
  for (size_t i = 0; i < g.size(); ++i) ASSERT_EQ(g[i], w[i]) << "element " << i;
}

auto sgdStep = [](const Tensor &p, const Tensor &g, const Tensor &m) {
  Tensor b = 0.9 * m + g;
  return std::make_tuple(p - 1e-3 * b, b);
};

} // namespace

TEST(Donate, OptimizerStepsUpdateInPlace) {
  auto plain = jit(sgdStep, {.name = "sgd"});
  auto inPlace = jit(sgdStep, {.name = "sgd_donated", .donateArgnums = {0, 2}});
  Array p = ramp({300, 70}, 0.5f, -3), g = ramp({300, 70}, 0.01f, 0.2f), m = ramp({300, 70}, 0.1f, 0);
  Array pRef = copyOf(p), mRef = copyOf(m);
  for (int step = 0; step < 20; ++step) {
    const void *pBuffer = p.rawData(), *mBuffer = m.rawData();
    std::tie(p, m) = inPlace(p, g, m);
    std::tie(pRef, mRef) = plain(pRef, g, mRef);
    // The caller's arrays were the only owners: both outputs are written over them.
    EXPECT_EQ(p.rawData(), pBuffer) << "step " << step;
    EXPECT_EQ(m.rawData(), mBuffer) << "step " << step;
  }
  expectSame(p, pRef);
  expectSame(m, mRef);
}

TEST(Donate, SharedBuffersAreCopiedNotOverwritten) {
  auto f = jit(sgdStep, {.name = "sgd_shared", .donateArgnums = {0, 2}});
  Array p = ramp({1000}, 1, 0), g = ramp({1000}, 0.5f, 1), m = ramp({1000}, 0.25f, 2);
  Array pKept = p; // a second owner: p's buffer must keep its values
  Array pBefore = copyOf(p), mBefore = copyOf(m);
  auto [p1, m1] = f(p, g, m);
  EXPECT_NE(p1.rawData(), p.rawData());
  expectSame(pKept, pBefore);
  EXPECT_EQ(m1.rawData(), m.rawData()); // m had one owner

  // The same array as a donated and a plain argument: reading one while writing the
  // other would be wrong, so the output gets a copy.
  auto add = jit([](const Tensor &x, const Tensor &y) { return x + y; }, {.name = "add_self", .donateArgnums = {0}});
  Array x = ramp({4096}, 1, 0), xBefore = copyOf(x);
  Array twice = add(x, x);
  EXPECT_NE(twice.rawData(), x.rawData());
  expectSame(x, xBefore);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_EQ(twice.data<float>()[i], 2 * xBefore.data<float>()[i]);

  // A view of user memory is never overwritten.
  std::vector<float> user(64, 3.0f);
  auto neg = jit([](const Tensor &v) { return -v; }, {.name = "neg_view", .donateArgnums = {0}});
  Array out = neg(Array::view(user.data(), {64}, DType::f32));
  EXPECT_NE(out.rawData(), static_cast<void *>(user.data()));
  EXPECT_EQ(user[0], 3.0f);
  EXPECT_EQ(out.data<float>()[0], -3.0f);
}

TEST(Donate, UnsafeProgramsNeverReuse) {
  // x + transpose(x) reads elements another iteration overwrites.
  auto symmetric = jit([](const Tensor &x) { return x + transpose(x); }, {.name = "sym", .donateArgnums = {0}});
  Array x = ramp({64, 64}, 1, 0), xBefore = copyOf(x);
  Array s = symmetric(x);
  EXPECT_NE(s.rawData(), x.rawData());
  const float *v = xBefore.data<float>();
  for (int64_t i = 0; i < 64; ++i)
    for (int64_t j = 0; j < 64; ++j) ASSERT_EQ(s.data<float>()[i * 64 + j], v[i * 64 + j] + v[j * 64 + i]);

  // x - mean(x) reads x in full before writing: reused, and still right.
  auto center = jit([](const Tensor &x) { return x - mean(x, {1}, true); }, {.name = "center", .donateArgnums = {0}});
  Array y = ramp({50, 200}, 0.5f, 1), yBefore = copyOf(y);
  const void *yBuffer = y.rawData();
  Array c = center(y);
  EXPECT_EQ(c.rawData(), yBuffer);
  auto plainCenter = jit([](const Tensor &x) { return x - mean(x, {1}, true); }, {.name = "center_plain"});
  expectSame(c, plainCenter(yBefore));
}

TEST(Donate, MatmulInputsAreNotOverwrittenByTheProduct) {
  // An RNN-like step h' = tanh(h W + b): the product's tiles are written into the
  // result's buffer while other tiles still read h, so h's buffer is never the result's
  // (today bufferization puts the product in the result's buffer, three writers: refused;
  // the lit test no_reuse_matmul_epilogue pins the case of a separate product buffer).
  auto cell = [](const Tensor &h, const Tensor &w, const Tensor &b) { return tanh(matmul(h, w) + b); };
  auto donated = jit(cell, {.name = "cell_donated", .donateArgnums = {0}});
  auto plain = jit(cell, {.name = "cell"});
  Array h = ramp({96, 96}, 0.01f, -0.4f), w = ramp({96, 96}, 0.003f, -0.1f), b = ramp({96}, 0.01f, 0);
  Array want = plain(h, w, b);
  Array got = donated(h, w, b);
  EXPECT_NE(got.rawData(), h.rawData());
  expectSame(got, want);
}

TEST(Donate, CompileLogAndDiskCacheKeepThePairing) {
  auto dir = std::filesystem::temp_directory_path() / ("ajit-donate-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ScopedEnv cache("AJIT_CACHE_DIR", dir.c_str());
  ScopedEnv log("AJIT_LOG_COMPILES", "1");
  for (int process = 0; process < 2; ++process) { // the second jit object loads from disk
    // Outputs take donated buffers in order: p' (the first f32[256]) gets m's.
    auto f = jit(sgdStep, {.name = "sgd_cached", .donateArgnums = {2}});
    Array p = ramp({256}, 1, 0), g = ramp({256}, 1, 1), m = ramp({256}, 1, 2);
    const void *mBuffer = m.rawData();
    testing::internal::CaptureStderr();
    auto [p1, m1] = f(p, g, m);
    std::string line = testing::internal::GetCapturedStderr();
    EXPECT_EQ(p1.rawData(), mBuffer) << "run " << process;
    EXPECT_NE(line.find("output 0 in input 2's buffer"), std::string::npos) << line;
    EXPECT_EQ(f.stats().diskCacheHits, process == 1 ? 1u : 0u);
  }
  std::filesystem::remove_all(dir);
}

TEST(Donate, CompiledProgramsDonateFromTheirText) {
  Compiled c = compileProgram(R"(
    func.func @axpy(%a: tensor<128xf32> {ajit.donate}, %b: tensor<128xf32>) -> tensor<128xf32> {
      %0 = ajit.add %a, %b : tensor<128xf32>
      return %0 : tensor<128xf32>
    })");
  std::vector<Array> in = {ramp({128}, 1, 0), ramp({128}, 2, 0)};
  const void *aBuffer = in[0].rawData();
  std::vector<Array> out = c.run(in);
  EXPECT_EQ(out[0].rawData(), aBuffer);
  EXPECT_EQ(out[0].data<float>()[5], 15.0f);
}

TEST(Donate, BadPositionsAreErrors) {
  auto f = jit([](const Tensor &x, double k) { return x * k; }, {.name = "scaled", .donateArgnums = {1}});
  expectError([&] { f(ramp({4}, 1, 0), 2.0); }, "donateArgnums names argument 1, a static value: only Arrays can be donated");
  auto g = jit([](const Tensor &x) { return -x; }, {.name = "negated", .donateArgnums = {3}});
  expectError([&] { g(ramp({4}, 1, 0)); }, "donateArgnums names argument 3, but the call has 1 argument");
  // Nothing was compiled or taken: a correct call still works.
  auto h = jit([](const Tensor &x) { return -x; }, {.name = "negated_ok", .donateArgnums = {0}});
  EXPECT_EQ(h(ramp({4}, 1, 1)).data<float>()[0], -1.0f);
}
