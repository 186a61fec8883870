//===- GpuTest.cpp - the PTX target: ptxas on every op, GPU runs vs the CPU ===//
//
// Two halves. Everywhere (CI has the CUDA toolkit but no GPU): every op and fusion kind
// compiles to PTX that ptxas accepts for sm_80 and sm_90. Where a GPU is present: the
// same programs run on it and match the CPU's results; without one those tests skip and
// say why.
//
//===----------------------------------------------------------------------===//
#include "OpDispatch.h"
#include "frontend/ajit.h"
#include "runtime/gpu/CudaDriver.h"
#include "runtime/gpu/GpuProgram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

using namespace ajit;

namespace {

struct Case {
  std::string name;
  std::string program; ///< graph IR, traced on the host
  std::vector<Array> inputs;
};

Array random(const Shape &shape, DType dtype, unsigned seed, double lo = -2, double hi = 2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Array a = Array::empty(shape, dtype);
  for (int64_t i = 0; i < a.size(); ++i) {
    double v = dist(rng);
    switch (dtype) {
    case DType::f32: a.data<float>()[i] = static_cast<float>(v); break;
    case DType::f64: a.data<double>()[i] = v; break;
    case DType::i32: a.data<int32_t>()[i] = static_cast<int32_t>(std::lround(v * 10)); break;
    case DType::i64: a.data<int64_t>()[i] = std::lround(v * 10); break;
    case DType::boolean: a.data<bool>()[i] = v > 0; break;
    default: break;
    }
  }
  return a;
}

template <class F, class... A> Case make(std::string name, F fn, A... inputs) {
  JitOptions options;
  options.name = "gpu_" + name;
  Case c{std::move(name), jit(fn, options).lower(inputs...), {inputs...}};
  return c;
}

/// Every op, in f32 (and the dtypes with their own lowering), with shapes whose sizes are
/// not multiples of the block size, plus the fusion kinds: elementwise chains, input
/// fusions into reductions, multi-output fusions, softmax, matmul with an epilogue.
std::vector<Case> cases() {
  std::vector<Case> out;
  Shape shape = {37, 130};
  Array x = random(shape, DType::f32, 1), y = random(shape, DType::f32, 2), row = random({130}, DType::f32, 3);
  Array pos = random(shape, DType::f32, 4, 0.1, 3);
  Array xd = random(shape, DType::f64, 5), pd = random(shape, DType::f64, 6, 0.1, 3);
  Array xi = random(shape, DType::i32, 7), yi = random(shape, DType::i32, 8);
  for (int u = 0; u <= static_cast<int>(ref::Unary::geluErf); ++u) {
    auto op = static_cast<ref::Unary>(u);
    bool positive = op == ref::Unary::log || op == ref::Unary::sqrt || op == ref::Unary::rsqrt;
    out.push_back(make(std::string(test::unaryName(op)) + "_f32", [op](Tensor a) { return test::applyUnary(op, a); },
                       positive ? pos : x));
    out.push_back(make(std::string(test::unaryName(op)) + "_f64", [op](Tensor a) { return test::applyUnary(op, a); },
                       positive ? pd : xd));
  }
  for (int b = 0; b <= static_cast<int>(ref::Binary::pow); ++b) {
    auto op = static_cast<ref::Binary>(b);
    out.push_back(make(std::string(test::binaryName(op)) + "_f32_broadcast",
                       [op](Tensor a, Tensor r) { return test::applyBinary(op, a, r); },
                       op == ref::Binary::pow ? pos : x, row));
    if (op != ref::Binary::pow && op != ref::Binary::div)
      out.push_back(make(std::string(test::binaryName(op)) + "_i32",
                         [op](Tensor a, Tensor c) { return test::applyBinary(op, a, c); }, xi, yi));
  }
  out.push_back(make("compare_where", [](Tensor a, Tensor b) { return where(a < b, a, b * 2.0); }, x, y));
  out.push_back(make("clamp", [](Tensor a) { return clamp(a, -0.5, 0.5); }, x));
  out.push_back(make("astype", [](Tensor a) { return astype(astype(a * 10.0, DType::i32), DType::f64); }, x));
  for (auto axes : std::vector<std::vector<int64_t>>{{0}, {1}, {}}) {
    std::string suffix = axes.empty() ? "all" : "axis" + std::to_string(axes[0]);
    out.push_back(make("sum_" + suffix, [axes](Tensor a) { return sum(a, axes); }, x));
    out.push_back(make("max_" + suffix, [axes](Tensor a) { return max(a, axes, true); }, x));
    out.push_back(make("min_" + suffix, [axes](Tensor a) { return min(a, axes); }, xd));
    out.push_back(make("mean_" + suffix, [axes](Tensor a) { return mean(a, axes); }, x));
  }
  out.push_back(make("sum_i32", [](Tensor a) { return sum(a, {1}); }, xi));
  // Long whole-array reductions: split into chunks, a block of threads each, then a
  // block folding the partials (a bare sum, a dot, a max, a 1-D softmax's two).
  Array big = random({1 << 20}, DType::f32, 16), big2 = random({1 << 20}, DType::f32, 17);
  out.push_back(make("sum_1m", [](Tensor a) { return sum(a); }, big));
  out.push_back(make("dot_1m", [](Tensor a, Tensor b) { return sum(a * b); }, big, big2));
  out.push_back(make("max_1m", [](Tensor a) { return max(a); }, big));
  out.push_back(make("softmax_128k", [](Tensor a) { return softmax(a); }, random({1 << 17}, DType::f32, 18)));
  out.push_back(make("rowsum_f64", [](Tensor a) { return sum(a, {1}); }, random({300, 1000}, DType::f64, 19)));
  for (int64_t axis : {0, 1}) {
    out.push_back(make("argmax_axis" + std::to_string(axis), [axis](Tensor a) { return argmax(a, axis); }, x));
    out.push_back(make("argmin_axis" + std::to_string(axis), [axis](Tensor a) { return argmin(a, axis); }, x));
    out.push_back(make("softmax_axis" + std::to_string(axis), [axis](Tensor a) { return softmax(a, axis); }, x));
    out.push_back(make("log_softmax_axis" + std::to_string(axis), [axis](Tensor a) { return logSoftmax(a, axis); }, x));
  }
  // argmax / argmin's block combine: ties (the first index wins), NaNs (the first NaN
  // wins), an all -inf row, and a long row.
  Array tricky = Array::empty({4, 300}, DType::f32);
  for (int64_t j = 0; j < 300; ++j) {
    float *t = tricky.data<float>();
    t[j] = 1.5f;
    t[300 + j] = (j == 150 || j == 200) ? NAN : static_cast<float>(j % 7);
    t[600 + j] = -INFINITY;
    t[900 + j] = static_cast<float>((j * 37) % 5) - 2.0f;
  }
  out.push_back(make("argmax_ties_nan", [](Tensor a) { return argmax(a, 1); }, tricky));
  out.push_back(make("argmin_ties_nan", [](Tensor a) { return argmin(a, 1); }, tricky));
  out.push_back(make("argmax_1m", [](Tensor a) { return argmax(a, 0); }, big));
  // A producer fused into the argmax: still a block reduction (not split: the chunks'
  // winners are values of -a), argmin of the ties and NaNs likewise.
  out.push_back(make("argmax_of_neg_1m", [](Tensor a) { return argmax(-a, 0); }, big));
  out.push_back(make("argmin_of_scaled", [](Tensor a) { return argmin(a * 2.0, 1); }, tricky));
  out.push_back(make("transpose_reshape", [](Tensor a) { return reshape(transpose(a), {65, 74}); }, x));
  out.push_back(make("broadcast", [](Tensor r) { return broadcastTo(r, {5, 130}) + 1.0; }, row));
  // W2's g and h: elementwise chains, and one fused into a whole-array reduction.
  out.push_back(make("g", [](Tensor a) { return sum(pow(sin(a), 2.0) + pow(cos(a), 2.0)); }, x));
  out.push_back(make("h", [](Tensor a) { return exp(-a / 10.0) * sin(a); }, x));
  // Multi-output: one Adam step (parameter, m and v).
  out.push_back(make("adam",
                     [](Tensor p, Tensor g, Tensor m) {
                       Tensor m2 = m * 0.9 + g * 0.1;
                       Tensor v2 = m * 0.999 + g * g * 0.001;
                       Tensor p2 = p - m2 * 0.001 / (sqrt(v2) + 1e-8);
                       return std::vector<Tensor>{p2, m2, v2};
                     },
                     x, y, pos));
  // Products: plain, batched, f64, and Linear+GELU (an output fusion).
  Array a = random({37, 64}, DType::f32, 9), w = random({64, 50}, DType::f32, 10), bias = random({50}, DType::f32, 11);
  out.push_back(make("matmul", [](Tensor p, Tensor q) { return matmul(p, q); }, a, w));
  out.push_back(make("matmul_f64", [](Tensor p, Tensor q) { return matmul(p, q); }, random({9, 13}, DType::f64, 12),
                     random({13, 7}, DType::f64, 13)));
  out.push_back(make("matmul_batched", [](Tensor p, Tensor q) { return matmul(p, q); },
                     random({3, 17, 9}, DType::f32, 14), random({3, 9, 11}, DType::f32, 15)));
  out.push_back(make("linear_gelu", [](Tensor p, Tensor q, Tensor c) { return gelu(matmul(p, q) + c); }, a, w, bias));
  // Several 128 x 128 tiles of the tiled kernel, each partial at an edge: 300 rows, 260
  // columns, and k = 203 not a multiple of the 8-deep steps.
  Array tall = random({300, 203}, DType::f32, 20), wide = random({203, 260}, DType::f32, 21);
  out.push_back(make("matmul_tiles", [](Tensor p, Tensor q) { return matmul(p, q); }, tall, wide));
  // The same with Linear+GELU's epilogue applied in the product's kernel.
  out.push_back(make("linear_gelu_tiles", [](Tensor p, Tensor q, Tensor c) { return gelu(matmul(p, q) + c, true); },
                     tall, wide, random({260}, DType::f32, 22)));
  out.push_back(make("empty", [](Tensor e) { return e * 2.0; }, Array::zeros({0, 4}, DType::f32)));
  return out;
}

const char *ptxasPath() {
  static std::string path = [] {
    if (const char *env = std::getenv("AJIT_PTXAS")) return std::string(env);
    for (const char *p : {"/usr/local/cuda/bin/ptxas", "/usr/bin/ptxas"})
      if (std::ifstream(p).good()) return std::string(p);
    return std::string();
  }();
  return path.empty() ? nullptr : path.c_str();
}

/// Runs ptxas on `ptx` for `arch`; returns its complaints, or "" when it accepts.
std::string ptxasErrors(const std::string &ptx, const std::string &arch, const std::string &stem) {
  std::string dir = testing::TempDir();
  std::string file = dir + "/" + stem + "." + arch + ".ptx", log = file + ".log";
  std::ofstream(file) << ptx;
  std::string cmd = std::string(ptxasPath()) + " -arch=" + arch + " " + file + " -o /dev/null > " + log + " 2>&1";
  if (std::system(cmd.c_str()) == 0) return "";
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  return "ptxas -arch=" + arch + " rejected " + file + ":\n" + text.str();
}

class PtxasTest : public testing::TestWithParam<std::string> {};

TEST_P(PtxasTest, EveryOpAndFusionKind) {
  if (!ptxasPath()) GTEST_SKIP() << "no ptxas (CUDA toolkit) at /usr/local/cuda/bin or AJIT_PTXAS";
  const std::string arch = GetParam();
  for (const Case &c : cases()) {
    SCOPED_TRACE(c.name);
    Compiled compiled = compileProgram(c.program, c.name, "", Target::cuda(arch));
    std::string ptx = compiled.ptx();
    if (c.name == "empty") continue; // nothing to launch, no PTX
    ASSERT_NE(ptx.find(".target " + arch), std::string::npos) << ptx.substr(0, 400);
    EXPECT_EQ(ptxasErrors(ptx, arch, c.name), "");
    // f32 work is PTX instructions and polynomials: it must load on a machine without
    // the CUDA toolkit's libdevice. Only f64 transcendentals call it.
    if (c.name.find("f64") == std::string::npos) {
      EXPECT_EQ(ptx.find("__nv_"), std::string::npos) << "calls libdevice: " << ptx.substr(ptx.find("__nv_"), 40);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, PtxasTest, testing::Values("sm_80", "sm_90"));

TEST(Ptx, TargetIsPartOfTheProgramAndBadArchIsAnError) {
  Case c = make("h", [](Tensor a) { return exp(-a / 10.0) * sin(a); }, random({1000}, DType::f32, 1));
  EXPECT_NE(compileProgram(c.program, "h", "", Target::cuda("sm_80")).ptx().find(".target sm_80"), std::string::npos);
  EXPECT_TRUE(compileProgram(c.program, "h").ptx().empty()); // the CPU has no PTX
  try {
    compileProgram(c.program, "h", "", Target::cuda("gfx90a"));
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("unknown CUDA architecture 'gfx90a'"), std::string::npos) << e.what();
  }
}

TEST(Ptx, RunningWithoutAGpuSaysWhy) {
  std::string why;
  if (cuda::available(why)) GTEST_SKIP() << "a GPU is present";
  auto f = jit([](Tensor a) { return a * 2.0; }, {.name = "twice", .target = Target::cuda()});
  Array x = random({10}, DType::f32, 1);
  EXPECT_NE(f.compile(x).ptx().find(".entry"), std::string::npos); // compiling needs no GPU
  try {
    f(x);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(Ptx, ProgramsCopyInTheInputsAndOutTheOutputsAndComeBackFromTheDiskCache) {
  // A GPU program copies its inputs to the device and only its outputs back: were an
  // input taken for an output, the call would run on stale device memory and overwrite
  // the caller's array with it. Checked from the program the disk cache holds, which
  // also shows that a GPU program is a valid cache entry (no entry symbol).
  std::string dir = testing::TempDir() + "/ajit-gpu-disk-cache";
  std::filesystem::remove_all(dir);
  setenv("AJIT_CACHE_DIR", dir.c_str(), 1);
  auto make = [] {
    return jit([](Tensor a, Tensor b) { return a * b + 1.0; }, {.name = "fma1", .target = Target::cuda("sm_90")});
  };
  Array x = random({300}, DType::f32, 1), y = random({300}, DType::f32, 2);
  auto first = make();
  first.compile(x, y);
  auto second = make();
  second.compile(x, y);
  unsetenv("AJIT_CACHE_DIR");
  EXPECT_EQ(first.stats().compiles, 1u);
  EXPECT_EQ(second.stats().diskCacheHits, 1u) << "the GPU program was not taken from the disk cache";
  std::vector<std::filesystem::path> entries;
  for (auto &e : std::filesystem::directory_iterator(dir)) entries.push_back(e.path());
  ASSERT_EQ(entries.size(), 1u);
  std::ifstream in(entries[0], std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The object is the entry's last field, before its 8-byte checksum.
  std::string text(bytes.begin(), bytes.end());
  size_t at = text.find("ajit-gpu-program");
  ASSERT_NE(at, std::string::npos);
  ASSERT_GE(bytes.size(), at + 8);
  std::vector<char> object(bytes.begin() + at, bytes.end() - 8);
  std::string why;
  gpu::GpuProgram program;
  ASSERT_TRUE(gpu::GpuProgram::parse(object, program, why)) << why;
  EXPECT_EQ(program.inputBytes, (std::vector<uint64_t>{1200, 1200}));
  EXPECT_EQ(program.outputBytes, (std::vector<uint64_t>{1200}));
}

bool close(const Array &gpu, const Array &cpu, std::string &where) {
  if (gpu.dtype() != cpu.dtype() || gpu.shape() != cpu.shape()) {
    where = "dtype or shape differs";
    return false;
  }
  for (int64_t i = 0; i < cpu.size(); ++i) {
    double g, c;
    switch (cpu.dtype()) {
    case DType::f32: g = gpu.data<float>()[i], c = cpu.data<float>()[i]; break;
    case DType::f64: g = gpu.data<double>()[i], c = cpu.data<double>()[i]; break;
    case DType::i32: g = gpu.data<int32_t>()[i], c = cpu.data<int32_t>()[i]; break;
    case DType::i64: g = static_cast<double>(gpu.data<int64_t>()[i]), c = static_cast<double>(cpu.data<int64_t>()[i]); break;
    case DType::boolean: g = gpu.data<bool>()[i], c = cpu.data<bool>()[i]; break;
    default: where = "dtype"; return false;
    }
    if ((std::isnan(g) && std::isnan(c)) || g == c) continue; // equal infinities too
    // Reductions and products sum in another order on the GPU.
    if (!(std::abs(g - c) <= 1e-4 * (1 + std::abs(c)))) {
      where = "element " + std::to_string(i) + ": GPU " + std::to_string(g) + ", CPU " + std::to_string(c);
      return false;
    }
  }
  return true;
}

TEST(GpuRun, EveryOpAndFusionKindMatchesTheCpu) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  for (const Case &c : cases()) {
    SCOPED_TRACE(c.name);
    std::vector<Array> before;
    for (const Array &in : c.inputs) {
      before.push_back(Array::empty(in.shape(), in.dtype()));
      if (in.nbytes()) std::memcpy(before.back().rawData(), in.rawData(), in.nbytes());
    }
    std::vector<Array> expected = compileProgram(c.program, c.name).run(c.inputs);
    std::vector<Array> got = compileProgram(c.program, c.name, "", Target::cuda()).run(c.inputs);
    for (size_t i = 0; i < before.size(); ++i) {
      std::string where;
      EXPECT_TRUE(close(c.inputs[i], before[i], where) && where.empty()) << "input " << i << " changed: " << where;
    }
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string where;
      EXPECT_TRUE(close(got[i], expected[i], where)) << "output " << i << ": " << where;
    }
  }
}

TEST(GpuRun, CachedCallsReuseTheLoadedProgram) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto f = jit([](Tensor a) { return sum(a * a, {1}); }, {.name = "rowsq", .target = Target::cuda()});
  Array x = random({300, 1000}, DType::f32, 3);
  Array first = f(x), second = f(x);
  EXPECT_EQ(f.stats().compiles, 1u);
  std::string where;
  EXPECT_TRUE(close(second, first, where)) << where;
  auto cpu = jit([](Tensor a) { return sum(a * a, {1}); });
  EXPECT_TRUE(close(first, cpu(x), where)) << where;
}

TEST(GpuRun, TimeOnDeviceTimesTheKernelsAlone) {
  Array x = random({1 << 16}, DType::f32, 4);
  auto cpu = jit([](Tensor a) { return a * 2.0; }, {.name = "twice_cpu"});
  EXPECT_THROW(cpu.compile(x).timeOnDevice({x}), Error); // the CPU has no device timer
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto f = jit([](Tensor a) { return a * 2.0; }, {.name = "twice_gpu", .target = Target::cuda()});
  std::vector<double> s = f.compile(x).timeOnDevice({x}, 3, 4);
  ASSERT_EQ(s.size(), 3u);
  for (double t : s) EXPECT_GT(t, 0.0);
  EXPECT_THROW(f.compile(x).timeOnDevice({x, x}), Error); // checked like a call
}

} // namespace
