//===- GpuTest.cpp - the PTX target: ptxas on every op, GPU runs vs the CPU ===//
//
// Two halves. Everywhere (CI has the CUDA toolkit but no GPU): every op and fusion kind
// compiles to PTX that ptxas accepts for sm_80 and sm_90. Where a GPU is present: the
// same programs run on it and match the CPU's results; without one those tests skip and
// say why.
//
//===----------------------------------------------------------------------===//
#include "GpuCases.h"
#include "frontend/ajit.h"
#include "runtime/gpu/CudaDriver.h"
#include "runtime/gpu/GpuProgram.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <utility>

using namespace ajit;
using namespace ajit::gpu_cases;

namespace {

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
    std::string ptx;
    try {
      ptx = compileProgram(c.program, c.name, "", Target::cuda(arch)).ptx();
    } catch (const Error &e) {
      // Without libdevice (the ctest run with AJIT_CUDA_TOOLKIT pointing nowhere) an f64
      // transcendental cannot compile, and says so; nothing else may fail.
      bool needsLibdevice = std::string(e.what()).find("libdevice functions (f64 transcendentals)") != std::string::npos;
      EXPECT_TRUE(needsLibdevice && c.name.find("f64") != std::string::npos) << e.what();
      continue;
    }
    if (c.name == "empty") continue; // nothing to launch, no PTX
    ASSERT_NE(ptx.find(".target " + arch), std::string::npos) << ptx.substr(0, 400);
    EXPECT_EQ(ptxasErrors(ptx, arch, c.name), "");
    // f32 work is PTX instructions and polynomials: it must load on a machine without
    // the CUDA toolkit's libdevice. Only f64 transcendentals call it. (Where libdevice
    // is found its functions are inlined and their names gone: the check bites in the
    // ctest run without it.)
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
  EXPECT_THROW(x.toDevice(), Error);
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

TEST(GpuRun, CallsFromManyThreadsAgreeWithTheCpu) {
  // One executable shared by four threads, each with its own inputs: each call has its
  // own device buffers, so none sees another's data.
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto body = [](Tensor a, Tensor b) { return softmax(a * b + 1.0, 1); };
  auto f = jit(body, {.name = "threads", .target = Target::cuda()});
  auto cpu = jit(body);
  std::vector<std::string> problems(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      try {
        for (int call = 0; call < 6; ++call) {
          Array a = random({33, 70}, DType::f32, 100 * t + call), b = random({33, 70}, DType::f32, 7);
          std::string where;
          if (!close(f(a, b), cpu(a, b), where)) problems[t] = "call " + std::to_string(call) + ": " + where;
        }
      } catch (const Error &e) {
        problems[t] = e.what();
      }
    });
  for (std::thread &t : threads) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(problems[t], "") << "thread " << t;
  EXPECT_EQ(f.stats().compiles, 1u);
}

/// A test hook of the emulated driver (ajit_emu_*), or null on a real driver.
template <class Fn> Fn *emulatorHook(const char *name) {
  const char *path = std::getenv("AJIT_CUDA_DRIVER");
  void *lib = path ? dlopen(path, RTLD_NOW | RTLD_NOLOAD) : nullptr;
  return lib ? reinterpret_cast<Fn *>(dlsym(lib, name)) : nullptr;
}

/// What the emulated driver has copied and holds (ajit_emu_traffic), so that a test can
/// count transfers; nullopt on a real driver, which does not say.
struct Traffic {
  uint64_t toDevice = 0, toHost = 0, allocations = 0;
};
std::optional<Traffic> traffic() {
  auto read = emulatorHook<void(uint64_t *, uint64_t *, uint64_t *)>("ajit_emu_traffic");
  if (!read) return std::nullopt;
  Traffic t;
  read(&t.toDevice, &t.toHost, &t.allocations);
  return t;
}

/// The emulated device's memory (ajit_emu_memory): cuMemAlloc calls so far, bytes
/// allocated, bytes it has; `setCapacity` other than 0 resizes it. nullopt on a real driver.
struct DeviceMemory {
  uint64_t allocationCalls = 0, liveBytes = 0, capacity = 0;
};
std::optional<DeviceMemory> deviceMemory(uint64_t setCapacity = 0) {
  auto read = emulatorHook<void(uint64_t *, uint64_t *, uint64_t *, uint64_t)>("ajit_emu_memory");
  if (!read) return std::nullopt;
  DeviceMemory m;
  read(&m.allocationCalls, &m.liveBytes, &m.capacity, setCapacity);
  return m;
}

/// Gives the emulated device its size back when a test that shrank it ends.
struct RestoreDeviceMemory {
  uint64_t capacity;
  ~RestoreDeviceMemory() { deviceMemory(capacity); }
};

/// An SGD step, and the GPU function of it whose parameter (argument 0) is donated.
auto sgdStep = [](Tensor p, Tensor g) { return p - g * 0.5; };
auto donatingSgd(const char *name) {
  return jit(sgdStep, {.name = name, .target = Target::cuda(), .donateArgnums = {0}});
}

TEST(GpuRun, OutputsStayOnTheDeviceAndFeedTheNextCall) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto first = [](Tensor a) { return a * 2.0 + 1.0; };
  auto second = [](Tensor b) { return sum(b * b, {1}); };
  auto f = jit(first, {.name = "first", .target = Target::cuda()});
  auto g = jit(second, {.name = "second", .target = Target::cuda()});
  Array x = random({40, 300}, DType::f32, 11);
  g(f(x)); // compiled and loaded: the counts below are the calls' alone
  std::optional<Traffic> before = traffic();
  Array y = f(x);
  EXPECT_TRUE(y.onDevice());
  std::optional<Traffic> afterFirst = traffic();
  Array z = g(y);
  std::optional<Traffic> afterSecond = traffic();
  if (before) {
    EXPECT_EQ(afterFirst->toDevice - before->toDevice, x.nbytes()) << "x goes in";
    EXPECT_EQ(afterFirst->toHost, before->toHost) << "y stays on the device";
    EXPECT_EQ(afterSecond->toDevice, afterFirst->toDevice) << "y is read where it is";
    EXPECT_EQ(afterSecond->toHost, afterFirst->toHost);
  }
  const Array &constY = y, &constZ = z;
  Array wantY = jit(first)(x), wantZ = jit(second)(wantY);
  std::string where;
  EXPECT_TRUE(close(constY, wantY, where)) << where;
  EXPECT_TRUE(close(constZ, wantZ, where)) << where;
  EXPECT_TRUE(y.onDevice()) << "reading through a const Array keeps the device copy";
  if (before) {
    EXPECT_EQ(traffic()->toHost - afterSecond->toHost, y.nbytes() + z.nbytes()) << "each read back once";
  }
  EXPECT_TRUE(close(constY, wantY, where)) << where;
  if (before) {
    EXPECT_EQ(traffic()->toHost - afterSecond->toHost, y.nbytes() + z.nbytes()) << "and only once";
  }
}

TEST(GpuRun, AHostWriteDropsTheDeviceCopyOfEveryCopyOfTheArray) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto body = [](Tensor a) { return a + 1.0; };
  auto f = jit(body, {.name = "plus_one", .target = Target::cuda()});
  Array x = random({1000}, DType::f32, 12);
  Array y = f(x);
  Array alias = y; // shares the host storage and the device copy
  alias.data<float>()[3] = 1000.0f;
  EXPECT_FALSE(y.onDevice());
  EXPECT_FALSE(alias.onDevice());
  EXPECT_EQ(static_cast<const Array &>(y).data<float>()[3], 1000.0f);
  Array z = f(y); // must see the write: y is copied in again
  EXPECT_EQ(static_cast<const Array &>(z).data<float>()[3], 1001.0f);
  std::string where;
  EXPECT_TRUE(close(z, jit(body)(y), where)) << where;
}

TEST(GpuRun, EachCallHasItsOwnOutputsAndCpuCallsReadThem) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto body = [](Tensor a) { return exp(a) - a; };
  auto f = jit(body, {.name = "outputs", .target = Target::cuda()});
  auto cpu = jit(body);
  Array x1 = random({513}, DType::f32, 13), x2 = random({513}, DType::f32, 14);
  Array y1 = f(x1), y2 = f(x2); // y1 must survive the second call
  std::string where;
  EXPECT_TRUE(close(y1, cpu(x1), where)) << where;
  EXPECT_TRUE(close(y2, cpu(x2), where)) << where;
  // A CPU function reads a GPU output from the host.
  auto twice = jit([](Tensor a) { return a * 2.0; });
  EXPECT_TRUE(close(twice(f(x1)), twice(cpu(x1)), where)) << where;
}

TEST(GpuRun, ToDevicePutsAnArrayThereForEveryLaterCall) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto body = [](Tensor a, Tensor w) { return matmul(a, w); };
  auto f = jit(body, {.name = "weights", .target = Target::cuda()});
  Array x = random({16, 64}, DType::f32, 16), w = random({64, 32}, DType::f32, 17);
  f(x, w); // compiled and loaded
  std::optional<Traffic> before = traffic();
  Array onGpu = w.toDevice();
  EXPECT_TRUE(onGpu.onDevice());
  EXPECT_FALSE(w.onDevice()) << "the original stays a host array";
  EXPECT_TRUE(onGpu.toDevice().onDevice());
  Array y1 = f(x, onGpu), y2 = f(x, onGpu);
  if (before) {
    EXPECT_EQ(traffic()->toDevice - before->toDevice, w.nbytes() + 2 * x.nbytes()) << "w went in once";
  }
  std::string where;
  Array want = jit(body)(x, w);
  EXPECT_TRUE(close(y1, want, where)) << where;
  EXPECT_TRUE(close(y2, want, where)) << where;
  float first = std::as_const(onGpu).data<float>()[0];
  w.data<float>()[0] += 1.0f; // onGpu has its own host storage: unchanged
  EXPECT_EQ(std::as_const(onGpu).data<float>()[0], first);
  EXPECT_TRUE(close(f(x, onGpu), jit(body)(x, onGpu), where)) << where;
}

TEST(GpuRun, DeviceMemoryIsReusedAcrossCalls) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  if (!deviceMemory()) GTEST_SKIP() << "counts allocations on the emulated driver only";
  // Two kernels: the product goes through a temporary buffer.
  auto body = [](Tensor a, Tensor w) { return sum(exp(matmul(a, w)), {0}); };
  auto f = jit(body, {.name = "pooled", .target = Target::cuda()});
  Array x = random({64, 48}, DType::f32, 15), w = random({48, 40}, DType::f32, 16);
  f(x, w);
  ASSERT_GE(f.stats().kernels, 2u);
  uint64_t calls = deviceMemory()->allocationCalls, live = deviceMemory()->liveBytes;
  for (int i = 0; i < 50; ++i) f(x, w); // inputs, temporary and output each from the pool
  EXPECT_EQ(deviceMemory()->allocationCalls, calls);
  EXPECT_EQ(deviceMemory()->liveBytes, live);
  // Executables keep no buffers of their own: another one of the same sizes, on its
  // first call, takes the first one's from the pool.
  auto g = jit(body, {.name = "pooled_too", .target = Target::cuda()});
  Array y = g(x, w);
  EXPECT_EQ(deviceMemory()->allocationCalls, calls);
  std::string where;
  EXPECT_TRUE(close(y, jit(body)(x, w), where)) << where;
}

TEST(GpuRun, RunningOutOfDeviceMemoryFreesThePoolFirstAndLosesNothing) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  std::optional<DeviceMemory> start = deviceMemory();
  if (!start) GTEST_SKIP() << "sizes the device on the emulated driver only";
  if (std::getenv("AJIT_GPU_POOL_MB")) GTEST_SKIP() << "counts on the default pool size (AJIT_GPU_POOL_MB is set)";
  RestoreDeviceMemory restore{start->capacity};
  constexpr uint64_t kMiB = 1 << 20;
  auto triple = jit([](Tensor a) { return a * 3.0; }, {.name = "triple", .target = Target::cuda()});
  auto twice = jit([](Tensor a) { return a * 2.0; }, {.name = "twice", .target = Target::cuda()});
  Array small = random({1 << 20}, DType::f32, 18), large = random({3 << 19}, DType::f32, 19); // 4 and 6 MiB
  triple(small); // its input and output buffers (8 MiB) go back to the pool
  // 6 MiB free: `twice` needs 12 MiB, which the pool's idle buffers (of other sizes) make.
  deviceMemory(deviceMemory()->liveBytes + 6 * kMiB);
  Array kept = twice(large);
  std::string where;
  Array want = jit([](Tensor a) { return a * 2.0; })(large);
  EXPECT_TRUE(close(kept, want, where)) << where;
  // 1 MiB free and 6 in the pool: the next call's 12 MiB cannot be had.
  deviceMemory(deviceMemory()->liveBytes + kMiB);
  try {
    twice(large);
    ADD_FAILURE() << "expected an out-of-memory error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("cuMemAlloc of 6291456 bytes failed: CUDA_ERROR_OUT_OF_MEMORY"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(kept.onDevice()) << "the failed call takes nothing from earlier results";
  EXPECT_TRUE(close(kept, want, where)) << where;
  deviceMemory(start->capacity);
  EXPECT_TRUE(close(twice(large), want, where)) << where;
}

TEST(GpuRun, ReleaseCachedMemoryFreesThePooledDeviceBuffers) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto body = [](Tensor a) { return a * 4.0; };
  auto f = jit(body, {.name = "times_four", .target = Target::cuda()});
  Array x = random({100000}, DType::f32, 22);
  Array kept = f(x);
  f(x); // its output and both calls' input buffers go back to the pool
  CachedMemory cached = cachedMemory();
  EXPECT_GE(cached.deviceBytes, 2 * x.nbytes());
  std::optional<DeviceMemory> before = deviceMemory();
  CachedMemory freed = releaseCachedMemory();
  EXPECT_EQ(freed.deviceBytes, cached.deviceBytes);
  EXPECT_EQ(cachedMemory().deviceBytes, 0u);
  if (before) {
    EXPECT_EQ(deviceMemory()->liveBytes, before->liveBytes - freed.deviceBytes);
  }
  Array want = jit(body)(x);
  std::string where;
  EXPECT_TRUE(kept.onDevice());
  EXPECT_TRUE(close(kept, want, where)) << where; // arrays in use keep theirs
  EXPECT_TRUE(close(f(x), want, where)) << where;
}

TEST(GpuRun, ADonatedArgumentOnTheDeviceIsUpdatedInPlace) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto f = donatingSgd("sgd_gpu");
  auto cpu = jit(sgdStep);
  Array p0 = random({4096}, DType::f32, 23), g = random({4096}, DType::f32, 24).toDevice();
  Array p = p0.toDevice(), want = p0;
  p = f(p, g); // compiled and loaded
  want = cpu(want, g);
  releaseCachedMemory();
  std::optional<Traffic> before = traffic();
  std::optional<DeviceMemory> memoryBefore = deviceMemory();
  for (int i = 0; i < 5; ++i) {
    p = f(p, g);
    want = cpu(want, g);
  }
  EXPECT_TRUE(p.onDevice());
  EXPECT_EQ(cachedMemory().deviceBytes, 0u) << "no output buffer was taken, none given back";
  if (before) {
    EXPECT_EQ(traffic()->toDevice, before->toDevice) << "p and g stay where they are";
    EXPECT_EQ(deviceMemory()->allocationCalls, memoryBefore->allocationCalls);
  }
  std::string where;
  EXPECT_TRUE(close(p, want, where)) << where;
}

TEST(GpuRun, AFailedCallGivesAnInPlaceDonorItsHostValuesBack) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  std::optional<DeviceMemory> start = deviceMemory();
  if (!start) GTEST_SKIP() << "sizes the device on the emulated driver only";
  RestoreDeviceMemory restore{start->capacity};
  auto f = donatingSgd("sgd_gpu_failing");
  Array p0 = random({4096}, DType::f32, 27), g = random({4096}, DType::f32, 28); // g stays on the host
  f(p0.toDevice(), g); // compiled and loaded
  releaseCachedMemory();
  Array p = p0.toDevice(); // its host copy holds its values too
  deviceMemory(deviceMemory()->liveBytes + 1); // g's device buffer cannot be had
  EXPECT_THROW(f(p, g), Error);
  deviceMemory(start->capacity);
  EXPECT_FALSE(p.onDevice()) << "the device copy may be half written: dropped";
  std::string where;
  EXPECT_TRUE(close(p, p0, where)) << where;
  EXPECT_TRUE(close(f(p, g), jit(sgdStep)(p0, g), where)) << where;
}

TEST(GpuRun, ADonatedArgumentThatIsNotAloneIsCopied) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto f = donatingSgd("sgd_gpu_shared");
  auto cpu = jit(sgdStep);
  Array p0 = random({3000}, DType::f32, 25), g = random({3000}, DType::f32, 26);
  std::string where;
  // On the device, with a second Array sharing it: the copy keeps its values.
  Array p = p0.toDevice(), alias = p;
  Array q = f(p, g);
  EXPECT_TRUE(close(q, cpu(p0, g), where)) << where;
  EXPECT_TRUE(close(alias, p0, where)) << where;
  EXPECT_TRUE(alias.onDevice());
  // On the host alone: filled from the host; the argument is as it was.
  Array h = p0.toDevice();
  h.data<float>()[0] += 1.0f; // a host write: h is a host array now
  Array hWant = cpu(h, g), hBefore = Array::from<float>(std::as_const(h).toVector<float>(), h.shape());
  EXPECT_TRUE(close(f(h, g), hWant, where)) << where;
  EXPECT_TRUE(close(h, hBefore, where)) << where;
  // Both arguments one array: the donor overlaps the other input.
  Array both = p0.toDevice();
  EXPECT_TRUE(close(f(both, both), cpu(p0, p0), where)) << where;
  EXPECT_TRUE(close(both, p0, where)) << where;
}

TEST(GpuRun, ThreadsReadingOneOutputCopyItBackOnce) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto f = jit([](Tensor a) { return a * a; }, {.name = "square", .target = Target::cuda()});
  // 16 MiB, so that the copy back takes long enough for the threads to meet in it.
  Array x = random({1 << 22}, DType::f32, 20);
  Array y = f(x);
  std::optional<Traffic> before = traffic();
  std::vector<Array> copies(6, y); // each thread its own Array object, sharing the values
  std::vector<std::thread> threads;
  std::vector<std::string> problems(copies.size());
  std::atomic<size_t> started{0};
  Array want = jit([](Tensor a) { return a * a; })(x);
  for (size_t t = 0; t < copies.size(); ++t)
    threads.emplace_back([&, t] {
      const Array &mine = copies[t];
      // All at once: the first read of each races the others'.
      for (started.fetch_add(1); started.load() < copies.size();) std::this_thread::yield();
      if (!close(mine, want, problems[t])) return;
      if (!mine.onDevice()) problems[t] = "a read dropped the device copy";
    });
  for (std::thread &t : threads) t.join();
  for (size_t t = 0; t < copies.size(); ++t) EXPECT_EQ(problems[t], "") << "thread " << t;
  if (before) {
    EXPECT_EQ(traffic()->toHost - before->toHost, y.nbytes());
  }
}

TEST(GpuRun, ACpuCallDonatingAGpuOutputReadsItsValues) {
  std::string why;
  if (!cuda::available(why)) GTEST_SKIP() << "no GPU: " << why;
  auto f = jit([](Tensor a) { return a + 5.0; }, {.name = "plus_five", .target = Target::cuda()});
  auto halve = jit([](Tensor a) { return a * 0.5; }, {.name = "halve_donated", .donateArgnums = {0}});
  Array x = random({3000}, DType::f32, 21);
  Array want = jit([](Tensor a) { return (a + 5.0) * 0.5; })(x);
  std::string where;
  EXPECT_TRUE(close(halve(f(x)), want, where)) << where; // the device copy alone holds the values
  Array y = f(x), alias = y;
  Array z = halve(y); // shared storage: copied, y stays as it was
  EXPECT_TRUE(close(z, want, where)) << where;
  EXPECT_TRUE(close(alias, f(x), where)) << where;
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
