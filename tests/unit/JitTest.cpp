//===- JitTest.cpp - cache, threads, compile log, dumps and bad input -----===//
#include "frontend/ajit.h"
#include "TestSupport.h"
#include "runtime/Threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <utility>
#include <sstream>
#include <thread>

#include <unistd.h>

using namespace ajit;
using test::errorOf;
using test::ScopedEnv;

namespace {

Array iota(int64_t n, float start = 0) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return Array::from(v, {n});
}

std::vector<std::string> lines(const std::string &text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

/// ASan's quarantine and TSan's shadow memory make RSS measure the sanitizer.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kUnderSanitizer = true;
#else
constexpr bool kUnderSanitizer = false;
#endif

/// Resident set size of this process in bytes.
int64_t rssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

} // namespace

TEST(Cache, SameSignatureCompilesOnce) {
  auto f = jit([](const Tensor &x, const Tensor &y) { return x * y + 1.0; }, {.name = "fma1"});
  Array a = iota(8), b = iota(8, 1);
  Array r = f(a, b);
  for (int i = 0; i < 5; ++i) r = f(a, b);
  Stats s = f.stats();
  EXPECT_EQ(s.compiles, 1u);
  EXPECT_EQ(s.calls, 6u);
  EXPECT_EQ(s.cacheHits, 5u);
  EXPECT_EQ(s.cacheEntries, 1u);
  EXPECT_FLOAT_EQ(r.data<float>()[3], 3.0f * 4.0f + 1.0f);
  EXPECT_GT(s.lastCompile.total, 0.0);
  EXPECT_GT(s.lastCompile.llvm, 0.0);
  EXPECT_GE(s.lastCompile.total, s.lastCompile.trace + s.lastCompile.llvm);
}

TEST(Cache, NewShapeOrDtypeCompilesOnceMore) {
  auto f = jit([](const Tensor &x) { return x + x; }, {.name = "twice"});
  f(iota(4));
  f(iota(5));
  f(iota(4));
  f(Array::from<double>({1, 2}, {2}));
  f(iota(5));
  EXPECT_EQ(f.stats().compiles, 3u);
  EXPECT_EQ(f.stats().cacheHits, 2u);
}

TEST(Cache, StaticArgumentsArePartOfTheKey) {
  auto f = jit([](const Tensor &x, int power, bool negate) {
    Tensor y = x;
    for (int i = 1; i < power; ++i) y = y * x;
    return negate ? -y : y;
  }, {.name = "pown"});
  Array x = iota(4, 1);
  EXPECT_FLOAT_EQ(f(x, 3, false).data<float>()[1], 8.0f);
  EXPECT_FLOAT_EQ(f(x, 2, true).data<float>()[1], -4.0f);
  EXPECT_FLOAT_EQ(f(x, 3, false).data<float>()[2], 27.0f);
  EXPECT_EQ(f.stats().compiles, 2u);
}

TEST(Cache, MultipleOutputsAndPassThrough) {
  auto f = jit([](const Tensor &x) { return std::make_tuple(x, sum(x), x * 2.0); }, {.name = "multi"});
  auto [same, total, doubled] = f(iota(4));
  EXPECT_EQ(same.toVector<float>(), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_FLOAT_EQ(total.item<float>(), 6.0f);
  EXPECT_FLOAT_EQ(doubled.data<float>()[3], 6.0f);
}

TEST(Cache, CompiledHandleChecksItsSignature) {
  auto f = jit([](const Tensor &x, const Tensor &y) { return x - y; }, {.name = "minus"});
  Compiled c = f.compile(iota(3), iota(3));
  EXPECT_NE(c.asText().find("ajit.sub"), std::string::npos);
  EXPECT_FLOAT_EQ(c.run({iota(3, 5), iota(3)})[0].data<float>()[0], 5.0f);
  EXPECT_NE(errorOf([&] { c.run({iota(3)}); }).find("expected 2 array arguments (f32[3], f32[3]), got 1"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { c.run({iota(3), iota(4)}); }).find("argument 1: expected f32[3], got f32[4]"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { c.run({iota(3), Array()}); }).find("argument 1 is a null Array"), std::string::npos);
}

// 8 threads, 4 signatures, many calls each: every signature compiles exactly once and
// every result is right.
TEST(Cache, LowerTracesWithoutCompiling) {
  auto f = jit([](const Tensor &x, float k) { return exp(x) * static_cast<double>(k); }, {.name = "lowered"});
  std::string text = f.lower(iota(3), 2.0f);
  EXPECT_NE(text.find("func.func @lowered(%arg0: tensor<3xf32>) -> tensor<3xf32>"), std::string::npos) << text;
  EXPECT_NE(text.find("ajit.exp"), std::string::npos);
  EXPECT_NE(text.find("dense<2.000000e+00>"), std::string::npos);
  EXPECT_EQ(f.stats().compiles, 0u);
  // The text is a program: compileProgram gives the same results as the jitted function.
  Compiled c = compileProgram(text, "lowered.mlir");
  EXPECT_EQ(c.run({iota(3)})[0].toVector<float>(), f(iota(3), 2.0f).toVector<float>());
}

TEST(Cache, BoundedWithLeastRecentlyUsedEviction) {
  auto f = jit([](const Tensor &x) { return x + 1.0; }, {.name = "bounded", .maxCacheEntries = 4});
  for (int64_t n = 1; n <= 10; ++n) EXPECT_FLOAT_EQ(f(iota(n)).data<float>()[n - 1], static_cast<float>(n));
  EXPECT_EQ(f.stats().compiles, 10u);
  EXPECT_EQ(f.stats().cacheEntries, 4u);
  EXPECT_EQ(f.stats().evictions, 6u);
  // Held now: 7, 8, 9, 10. Touch 7, add 11: 8 (least recently called) goes, 7 stays.
  f(iota(7));
  f(iota(11));
  uint64_t compiles = f.stats().compiles;
  f(iota(7));
  EXPECT_EQ(f.stats().compiles, compiles) << "the recently called signature was evicted";
  f(iota(8));
  EXPECT_EQ(f.stats().compiles, compiles + 1) << "the least recently called signature was kept";
  EXPECT_LE(f.stats().cacheEntries, 4u);
}

// Evicted executables give their code and JIT state back: compiling many signatures
// through a cache of two grows RSS by far less than keeping them all would.
TEST(Cache, EvictedCodeIsFreed) {
  if (kUnderSanitizer) GTEST_SKIP() << "RSS under a sanitizer measures the sanitizer";
  auto f = jit([](const Tensor &x) { return ajit::exp(x) * 2.0 + ajit::sin(x); },
               {.name = "churn", .maxCacheEntries = 2});
  for (int64_t n = 1; n <= 40; ++n) f(iota(n));
  int64_t before = rssBytes();
  for (int64_t n = 41; n <= 160; ++n) f(iota(n));
  int64_t grown = rssBytes() - before;
  EXPECT_EQ(f.stats().cacheEntries, 2u);
  EXPECT_EQ(f.stats().evictions, 158u);
  std::printf("[memory] RSS growth over 120 compiles with 2 cache entries: %.1f KiB\n", grown / 1024.0);
  // Keeping all 120 grows RSS by about 5 MiB (measured: 8.7 MiB for 200).
  EXPECT_LT(grown, 2 << 20) << "evicted executables are not freed";
}

// A million cached calls allocate outputs and bookkeeping per call; none of it may stay.
TEST(Memory, RssFlatOverAMillionCachedCalls) {
  if (kUnderSanitizer) GTEST_SKIP() << "RSS under a sanitizer measures the sanitizer";
  auto f = jit([](const Tensor &x, const Tensor &y) { return x * y + 1.0; }, {.name = "steady"});
  Array x = iota(64), y = iota(64, 1);
  for (int i = 0; i < 20000; ++i) f(x, y); // warm: buffer pool, allocator arenas
  int64_t before = rssBytes();
  float check = 0;
  for (int i = 0; i < 1000000; ++i) check += f(x, y).data<float>()[3];
  int64_t grown = rssBytes() - before;
  EXPECT_EQ(check, 1000000.0f * 13.0f);
  EXPECT_EQ(f.stats().compiles, 1u);
  std::printf("[memory] RSS growth over 1,000,000 cached calls: %.1f KiB\n", grown / 1024.0);
  EXPECT_LT(grown, 256 << 10) << "RSS grew by " << grown << " bytes";
}

TEST(Memory, ReleaseCachedMemoryFreesThePooledBuffers) {
  auto f = jit([](const Tensor &x) { return x * 2.0; }, {.name = "pooled_host"});
  Array x = iota(1 << 20); // 4 MiB outputs: pooled when dropped
  Array kept = f(x);
  f(x);
  CachedMemory cached = cachedMemory();
  EXPECT_GE(cached.hostBytes, x.nbytes());
  CachedMemory freed = releaseCachedMemory();
  EXPECT_EQ(freed.hostBytes, cached.hostBytes);
  EXPECT_EQ(cachedMemory().hostBytes, 0u);
  EXPECT_EQ(std::as_const(kept).data<float>()[5], 10.0f); // arrays in use keep theirs
  EXPECT_EQ(f(x).data<float>()[7], 14.0f);
}

TEST(Threads, EachSignatureCompilesExactlyOnce) {
  auto f = jit([](const Tensor &x) { return x * 3.0 + 1.0; }, {.name = "threaded"});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        int64_t n = 16 + (t + i) % 4;
        Array r = f(iota(n));
        for (int64_t j = 0; j < n; ++j) wrong += r.data<float>()[j] != 3.0f * j + 1.0f;
      }
    });
  for (auto &t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(f.stats().compiles, 4u);
  EXPECT_EQ(f.stats().calls, 400u);
}

TEST(Threads, FailedCompileLeavesTheCacheUsable) {
  auto f = jit([](const Tensor &x) {
    if (x.shape()[0] == 13) throw Error("user refuses 13");
    return x + 1.0;
  }, {.name = "picky"});
  EXPECT_EQ(errorOf([&] { f(iota(13)); }), "user refuses 13");
  EXPECT_FLOAT_EQ(f(iota(4)).data<float>()[0], 1.0f);
  EXPECT_EQ(errorOf([&] { f(iota(13)); }), "user refuses 13"); // retried, fails again
  EXPECT_EQ(f.stats().compiles, 1u);
}

// 8 threads, mixed signatures (one of which always fails to compile), repeated calls, and
// a cache small enough to evict while others run: every result right, every failure an
// error in the thread that asked, each good signature compiled once while it stays cached.
TEST(Threads, MixedSignaturesFailuresAndEviction) {
  auto f = jit([](const Tensor &x) {
    if (x.shape()[0] == 13) throw Error("user refuses 13");
    return x * 3.0 + 1.0;
  }, {.name = "mixed"});
  auto small = jit([](const Tensor &x) { return x - 1.0; }, {.name = "small", .maxCacheEntries = 3});
  std::atomic<int> wrong{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        int64_t n = i % 5 == 4 ? 13 : 16 + (t + i) % 4;
        try {
          Array r = f(iota(n));
          for (int64_t j = 0; j < n; ++j) wrong += r.data<float>()[j] != 3.0f * j + 1.0f;
        } catch (const Error &e) {
          errors += n == 13 && std::string(e.what()) == "user refuses 13";
          wrong += n != 13;
        }
        int64_t m = 1 + (t * 7 + i) % 6;
        Array s = small(iota(m));
        for (int64_t j = 0; j < m; ++j) wrong += s.data<float>()[j] != static_cast<float>(j) - 1.0f;
      }
    });
  for (auto &t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(errors.load(), 8 * 12);
  EXPECT_EQ(f.stats().compiles, 4u);
  EXPECT_EQ(f.stats().cacheEntries, 4u);
  EXPECT_LE(small.stats().cacheEntries, 3u);
  EXPECT_EQ(small.stats().compiles, 3u + small.stats().evictions);
}

TEST(CompileLog, OneLinePerCompileNamingTheChange) {
  ScopedEnv log("AJIT_LOG_COMPILES", "1");
  auto f = jit([](const Tensor &x, const Tensor &y) { return x + y; }, {.name = "logged"});
  testing::internal::CaptureStderr();
  f(iota(1000), iota(1000));
  std::vector<std::string> first = lines(testing::internal::GetCapturedStderr());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(std::regex_search(first[0], std::regex(
      R"(^ajit: compile #1 logged\(f32\[1000\], f32\[1000\]\) -> \(f32\[1000\]\) \[first compile\] trace [0-9.]+ ms, graph [0-9.]+ ms, lowering [0-9.]+ ms, llvm [0-9.]+ ms, load [0-9.]+ ms, total [0-9.]+ ms, 1 kernel, 7.8 KiB read, 3.9 KiB written$)")))
      << first[0];

  testing::internal::CaptureStderr();
  f(iota(1000), iota(1000));
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

  testing::internal::CaptureStderr();
  f(Array::from(std::vector<float>(2000, 1.0f), {2000}), Array::from(std::vector<float>(2000, 1.0f), {2000}));
  std::vector<std::string> second = lines(testing::internal::GetCapturedStderr());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].find("[arg 0: f32[1000] -> f32[2000] (dim 0: 1000 -> 2000); "
                           "arg 1: f32[1000] -> f32[2000] (dim 0: 1000 -> 2000)]"),
            std::string::npos)
      << second[0];
}

TEST(CompileLog, NamesTheChangedDtypeAndStaticArgument) {
  ScopedEnv log("AJIT_LOG_COMPILES", "1");
  auto f = jit([](const Tensor &x, int k) { return x * static_cast<double>(k); }, {.name = "scaled"});
  f(iota(4), 2);
  testing::internal::CaptureStderr();
  f(iota(4), 3);
  f(Array::from<double>({1, 2, 3, 4}, {4}), 3);
  std::vector<std::string> out = lines(testing::internal::GetCapturedStderr());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0].find("[arg 1: static 2 -> static 3]"), std::string::npos) << out[0];
  EXPECT_NE(out[1].find("[arg 0: f32[4] -> f64[4] (dtype f32 -> f64)]"), std::string::npos) << out[1];
}

TEST(DumpIR, OneFilePerStageInPipelineOrder) {
  auto dir = std::filesystem::temp_directory_path() / ("ajit-dump-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ScopedEnv dump("AJIT_DUMP_IR", dir.c_str());
  auto f = jit([](const Tensor &x) { return sum(exp(x)); }, {.name = "dumped"});
  f(iota(64));
  std::vector<std::string> names;
  for (auto &e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  std::vector<std::string> stages;
  for (auto &n : names) stages.push_back(n.substr(n.find('.', std::string("dumped.").size()) + 1));
  EXPECT_EQ(stages, (std::vector<std::string>{"00-graph.mlir", "01-graph-opt.mlir", "02-fused.mlir",
                                              "03-linalg.mlir", "04-bufferized.mlir", "05-loops.mlir",
                                              "06-llvm.mlir", "07-llvm-ir.ll", "08-llvm-ir-opt.ll",
                                              "09-asm.s"}));
  std::ifstream graph(dir / names[0]);
  std::string text((std::istreambuf_iterator<char>(graph)), {});
  EXPECT_NE(text.find("ajit.exp"), std::string::npos);
  EXPECT_NE(text.find("ajit.reduce sum"), std::string::npos);
  std::filesystem::remove_all(dir);
}

static bool hostHasAvx512() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string text((std::istreambuf_iterator<char>(cpuinfo)), {});
  return text.find(" avx512f") != std::string::npos;
}

// Hot loops use 512-bit vectors, transcendentals included (no scalar libm calls).
TEST(Codegen, HotLoopsUseZmmWithoutLibmCalls) {
  if (!hostHasAvx512()) GTEST_SKIP() << "host CPU has no AVX-512";
  auto dir = std::filesystem::temp_directory_path() / ("ajit-asm-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ScopedEnv dump("AJIT_DUMP_IR", dir.c_str());
  auto g = jit([](const Tensor &x) {
    Tensor s = sin(x), c = cos(x);
    return sum(s * s + c * c);
  }, {.name = "g"});
  auto h = jit([](const Tensor &x) { return exp(-x / 10.0) * sin(x); }, {.name = "h"});
  g(iota(10000));
  h(iota(10000));
  int checked = 0;
  for (auto &e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".s") continue;
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("zmm"), std::string::npos) << e.path() << " has no 512-bit vector code";
    for (const char *fn : {"call\tsinf", "call\tcosf", "call\texpf", "sinf@PLT", "cosf@PLT", "expf@PLT"})
      EXPECT_EQ(text.find(fn), std::string::npos) << e.path() << " calls libm: " << fn;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
  std::filesystem::remove_all(dir);
}

TEST(BadInput, IncompatibleBroadcastNamesShapesAndLine) {
  auto f = jit([](const Tensor &x, const Tensor &y) { return x + y; }, {.name = "bad_add"});
  std::string msg = errorOf([&] {
    f(Array::zeros({3, 4}, DType::f32), Array::zeros({5}, DType::f32));
  });
  EXPECT_NE(msg.find("ajit: add: cannot broadcast f32[3,4] with f32[5]: dimension -1 is 4 vs 5"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("JitTest.cpp:"), std::string::npos) << msg;
  EXPECT_EQ(f.stats().cacheEntries, 0u);
}

TEST(BadInput, DtypeMismatch) {
  auto f = jit([](const Tensor &x, const Tensor &y) { return x * y; }, {.name = "bad_mul"});
  std::string msg = errorOf([&] { f(Array::zeros({2}, DType::f32), Array::zeros({2}, DType::f64)); });
  EXPECT_NE(msg.find("mul: dtypes differ: f32[2] and f64[2]"), std::string::npos) << msg;
}

TEST(BadInput, WrongRankForMatmulAndReduceAxis) {
  auto mm = jit([](const Tensor &x, const Tensor &y) { return matmul(x, y); }, {.name = "bad_mm"});
  EXPECT_NE(errorOf([&] { mm(Array::zeros({4, 5}, DType::f32), Array::zeros({6, 7}, DType::f32)); })
                .find("matmul: contracting dimensions differ: f32[4,5] x f32[6,7] (5 vs 6)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { mm(Array::zeros({2, 2, 2, 2}, DType::f32), Array::zeros({2, 2}, DType::f32)); })
                .find("operands must have rank 1, 2 or 3, got f32[2,2,2,2] and f32[2,2]"),
            std::string::npos);
  auto s = jit([](const Tensor &x) { return sum(x, {2}); }, {.name = "bad_sum"});
  EXPECT_NE(errorOf([&] { s(Array::zeros({3, 4}, DType::f32)); }).find("sum: axis 2 is out of range for f32[3,4]"),
            std::string::npos);
}

TEST(BadInput, NullAndMisalignedViews) {
  EXPECT_NE(errorOf([] { Array::view(nullptr, {4}, DType::f32); }).find("null data pointer for f32[4]"),
            std::string::npos);
  alignas(8) char buffer[64];
  EXPECT_NE(errorOf([&] { Array::view(buffer + 2, {4}, DType::f32); }).find("is not aligned to the 4-byte elements"),
            std::string::npos);
  EXPECT_NO_THROW(Array::view(nullptr, {0, 3}, DType::f32)); // empty: nothing is read
  auto f = jit([](const Tensor &x) { return x + 1.0; }, {.name = "null_arg"});
  EXPECT_NE(errorOf([&] { f(Array()); }).find("argument 0 is a null Array"), std::string::npos);
}

TEST(BadInput, ViewsOfUserMemoryAreZeroCopyInputs) {
  std::vector<float> data = {1, 2, 3, 4, 5, 6};
  auto f = jit([](const Tensor &x) { return sum(x, {1}); }, {.name = "view_sum"});
  Array r = f(Array::view(data.data(), {2, 3}, DType::f32));
  EXPECT_EQ(r.toVector<float>(), (std::vector<float>{6, 15}));
  data[0] = 10; // the view sees the change
  EXPECT_EQ(f(Array::view(data.data(), {2, 3}, DType::f32)).toVector<float>(), (std::vector<float>{15, 15}));
}

TEST(BadInput, ScalarNotRepresentableAndTensorsEscapingTheTrace) {
  auto f = jit([](const Tensor &x) { return x + 2.5; }, {.name = "int_plus_half"});
  EXPECT_NE(errorOf([&] { f(Array::from<int32_t>({1, 2}, {2})); }).find("scalar 2.500000 cannot be represented as i32"),
            std::string::npos);
  std::optional<Tensor> leaked;
  auto g = jit([&](const Tensor &x) { leaked = x; return x * 2.0; }, {.name = "leaky"});
  g(iota(2));
  EXPECT_NE(errorOf([&] { exp(*leaked); }).find("was used outside the trace that created it"), std::string::npos);
  EXPECT_NE(errorOf([] { full({2}, 1.0); }).find("full: called outside a traced function"), std::string::npos);
}

TEST(BadInput, ArrayAccessors) {
  Array a = Array::zeros({2, 2}, DType::f32);
  EXPECT_NE(errorOf([&] { a.data<double>(); }).find("array of f32[2,2] accessed as f64"), std::string::npos);
  EXPECT_NE(errorOf([&] { a.item<float>(); }).find("1 values given for an array of f32[2,2]"), std::string::npos);
  EXPECT_NE(errorOf([] { Array::from<float>({1, 2, 3}, {2, 2}); }).find("3 values given"), std::string::npos);
  EXPECT_NE(errorOf([] { Array::empty({-1}, DType::f32); }).find("negative dimension"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// Kernels above the parallel threshold (262,144 work units: iterations x op cost) run their
// outermost loop on libomp's workers; the fuzzer's programs are too small to reach it. Each
// result is checked element by element against a double-precision loop.
//===----------------------------------------------------------------------===//

namespace {
std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = std::fmod(0.37f * static_cast<float>(i), 2 * scale) - scale;
  return v;
}

void expectClose(const Array &got, const std::vector<double> &want, double tol) {
  ASSERT_EQ(got.size(), static_cast<int64_t>(want.size()));
  const float *g = got.data<float>();
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(g[i], want[i], tol * (1 + std::fabs(want[i]))) << "element " << i;
}
} // namespace

extern "C" int omp_get_max_threads();

// AJIT_NUM_THREADS sets the worker count for kernels called from any thread, not only
// from the one that started the JIT (in a fresh process: the count is set once).
TEST(Workers, CountAppliesToEveryCallingThread) {
  EXPECT_EXIT(
      {
        setenv("AJIT_NUM_THREADS", "1", 1);
        ajit::configureWorkerThreads();
        int seen = 0;
        std::thread other([&] { seen = omp_get_max_threads(); });
        other.join();
        // _Exit: the forked child skips exit-time leak checks, which would report libomp
        // state inherited from the parent's earlier kernels.
        std::_Exit(seen == 1 ? 0 : 10 + seen);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Parallel, ElementwiseAndMultiOutputMatchTheReference) {
  const int64_t n = 300001; // odd: the last thread's chunk has a vector tail
  std::vector<float> x = ramp(n, 10), m = ramp(n, 1), v = ramp(n, 1);
  for (float &e : v) e = std::fabs(e);
  auto f = jit([](const Tensor &x, const Tensor &m, const Tensor &v) {
    Tensor m1 = 0.9 * m + 0.1 * x, v1 = 0.999 * v + 0.001 * x * x;
    return std::make_tuple(exp(-x / 10.0) * sin(x), x - 0.01 * m1 / (sqrt(v1) + 1e-8), m1, v1);
  }, {.name = "parallel_elementwise"});
  auto [h, p, m1, v1] = f(Array::from(x, {n}), Array::from(m, {n}), Array::from(v, {n}));
  std::vector<double> wh(n), wp(n), wm(n), wv(n);
  for (int64_t i = 0; i < n; ++i) {
    double xi = x[i];
    wh[i] = std::exp(-xi / 10) * std::sin(xi);
    wm[i] = 0.9 * m[i] + 0.1 * xi;
    wv[i] = 0.999 * v[i] + 0.001 * xi * xi;
    wp[i] = xi - 0.01 * wm[i] / (std::sqrt(wv[i]) + 1e-8);
  }
  expectClose(h, wh, 1e-5);
  expectClose(p, wp, 1e-4);
  expectClose(m1, wm, 1e-6);
  expectClose(v1, wv, 1e-6);
  // The update (new p, m and v) is one multi-output loop, and h, which shares only x
  // with it, joins it (sibling fusion): x is read once.
  EXPECT_EQ(f.stats().kernels, 1u);
  EXPECT_EQ(f.stats().kernelBytesRead, 3u * n * 4) << "x, m and v";
  EXPECT_EQ(f.stats().kernelBytesWritten, 4u * n * 4);
}

TEST(Parallel, RowReductionsSoftmaxAndMatmulMatchTheReference) {
  const int64_t rows = 1031, cols = 129;
  std::vector<float> x = ramp(rows * cols, 4);
  auto f = jit([](const Tensor &x) { return std::make_tuple(softmax(x), sum(x * x, {1})); },
               {.name = "parallel_rows"});
  auto [sm, ss] = f(Array::from(x, {rows, cols}));
  std::vector<double> wsm(rows * cols), wss(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, s = 0, sq = 0;
    for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, double(x[r * cols + c]));
    for (int64_t c = 0; c < cols; ++c) s += std::exp(x[r * cols + c] - mx);
    for (int64_t c = 0; c < cols; ++c) {
      wsm[r * cols + c] = std::exp(x[r * cols + c] - mx) / s;
      sq += double(x[r * cols + c]) * x[r * cols + c];
    }
    wss[r] = sq;
  }
  expectClose(sm, wsm, 1e-5);
  expectClose(ss, wss, 1e-5);

  const int64_t M = 67, K = 129, N = 95; // 821k multiply-adds: parallel over rows of the result
  std::vector<float> a = ramp(M * K, 1), b = ramp(K * N, 2);
  auto mm = jit([](const Tensor &a, const Tensor &b) { return matmul(a, b); }, {.name = "parallel_matmul"});
  Array c = mm(Array::from(a, {M, K}), Array::from(b, {K, N}));
  std::vector<double> wc(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) wc[i * N + j] += double(a[i * K + k]) * b[k * N + j];
  expectClose(c, wc, 1e-5);
}

TEST(Parallel, LongReductionsSplitIntoChunksMatchTheReference) {
  // 2 x 300000: each row's reduction is split into chunks across the threads
  // (ajit-split-reductions), then the chunks' partials are folded.
  const int64_t rows = 2, cols = 300000;
  std::vector<float> x = ramp(rows * cols, 3), y = ramp(rows * cols, 2);
  auto f = jit([](const Tensor &x, const Tensor &y) {
    return std::make_tuple(sum(x * y, {1}), max(abs(x), {1}), sum(x * x, {1}));
  }, {.name = "long_rows"});
  auto [dot, linf, sq] = f(Array::from(x, {rows, cols}), Array::from(y, {rows, cols}));
  std::vector<double> wdot(rows, 0.0), wlinf(rows, 0.0), wsq(rows, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double a = x[r * cols + c], b = y[r * cols + c];
      wdot[r] += a * b, wsq[r] += a * a, wlinf[r] = std::max(wlinf[r], std::fabs(a));
    }
  expectClose(dot, wdot, 1e-5);
  expectClose(linf, wlinf, 0);
  expectClose(sq, wsq, 1e-5);
  // A chunked loop and a fold per reduction (reductions are input fusions, which sibling
  // fusion does not merge yet).
  EXPECT_EQ(f.stats().kernels, 6u);

  // The same over a whole 1-D array of 1M elements: a dot product.
  const int64_t n = 1 << 20;
  std::vector<float> u = ramp(n, 1), v = ramp(n, 0.5f);
  auto g = jit([](const Tensor &u, const Tensor &v) { return sum(u * v); }, {.name = "long_dot"});
  Array d = g(Array::from(u, {n}), Array::from(v, {n}));
  double want = 0;
  for (int64_t i = 0; i < n; ++i) want += double(u[i]) * v[i];
  expectClose(d, {want}, 1e-5);
  EXPECT_EQ(g.stats().kernels, 2u) << "the chunks, then the fold";

  // A prime length, 1000003: 64 chunks of 15624, then the 67-element tail; and a 1-D
  // softmax of it, whose exp values are written by the chunks and the tail each in
  // their own part of the output.
  const int64_t p = 1000003;
  std::vector<float> s = ramp(p, 1), t = ramp(p, 0.25f);
  Array sp = Array::from(s, {p}), tp = Array::from(t, {p});
  Array dp = g(sp, tp);
  double wantP = 0;
  for (int64_t i = 0; i < p; ++i) wantP += double(s[i]) * t[i];
  expectClose(dp, {wantP}, 1e-5);
  EXPECT_EQ(g.stats().kernels, 3u) << "the chunks, the fold, then the tail";
  // exp values stored beside their sum: the chunks write the head's, the tail the rest.
  auto expSum = jit([](const Tensor &u) {
    Tensor e = exp(u);
    return std::make_tuple(e, sum(e));
  }, {.name = "long_exp_sum"});
  auto [ex, es] = expSum(sp);
  double wantSum = 0;
  std::vector<double> wantEx(p);
  for (int64_t i = 0; i < p; ++i) wantSum += wantEx[i] = std::exp(double(s[i]));
  expectClose(ex, wantEx, 1e-6);
  expectClose(es, {wantSum}, 1e-5);
  EXPECT_EQ(expSum.stats().kernels, 3u) << "the chunks, the fold, then the tail";
  auto soft = jit([](const Tensor &u) { return softmax(u * 0.001); }, {.name = "long_softmax"});
  Array e = soft(sp);
  std::vector<double> wantE(p);
  double top = -INFINITY, total = 0;
  for (int64_t i = 0; i < p; ++i) top = std::max(top, double(s[i]) * 0.001);
  for (int64_t i = 0; i < p; ++i) total += wantE[i] = std::exp(double(s[i]) * 0.001 - top);
  ASSERT_EQ(e.size(), p);
  for (int64_t i = 0; i < p; ++i) // each about 1e-6: relative to its own size
    ASSERT_NEAR(e.data<float>()[i], wantE[i] / total, 1e-4 * wantE[i] / total) << "element " << i;
}
