//===- EmulatedDriverTest.cpp - the GPU runtime against the emulated driver ------===//
//
// ajit's GPU runtime (GpuExecutable, CudaDriver) on tests/emulator's libcuda stand-in
// (ctest GpuRun.OnTheEmulatedDriver sets AJIT_CUDA_DRIVER): what a real driver does
// when a program is wrong, which a real GPU run can hardly provoke on purpose: a
// kernel writing past its buffer, a missing kernel, a launch too large, a module the
// driver cannot load. Each must reach the caller as an ajit::Error carrying the
// driver's result name. Skipped with any other driver, or none.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"
#include "runtime/gpu/CudaDriver.h"
#include "runtime/gpu/DeviceBuffer.h"
#include "runtime/gpu/GpuExecutable.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

using namespace ajit;

namespace {

#define REQUIRE_EMULATED_DRIVER()                                                                                \
  if (!cuda::takesLlvmIr()) GTEST_SKIP() << "needs AJIT_CUDA_DRIVER=libajit-emulated-cuda.so (ctest sets it)"

// out[i] = 2 * in[i] for the thread's global index i, writing `offset` elements further.
std::string twice(int offset) {
  return R"(
declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
define ptx_kernel void @k(ptr %in, ptr %out) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %b = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %n = call i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %bn = mul i32 %b, %n
  %i = add i32 %bn, %t
  %src = getelementptr float, ptr %in, i32 %i
  %x = load float, ptr %src
  %y = fmul float %x, 2.0
  %j = add i32 %i, )" + std::to_string(offset) + R"(
  %dst = getelementptr float, ptr %out, i32 %j
  store float %y, ptr %dst
  ret void
}
)";
}

/// One launch of kernel `kernel` of `module` on blocks x threads, over one input and
/// one output of `n` floats.
gpu::GpuProgram program(const std::string &module, const std::string &kernel, uint32_t blocks, uint32_t threads,
                        uint64_t n) {
  gpu::GpuProgram p;
  p.arch = "sm_90";
  p.inputBytes = {4 * n};
  p.outputBytes = {4 * n};
  p.modules = {module};
  gpu::Launch l;
  l.kernel = kernel;
  l.grid = {blocks, 1, 1};
  l.block = {threads, 1, 1};
  l.buffers = {0, 1};
  p.launches = {l};
  return p;
}

/// What running `p` on `in` threw ("" if nothing), and the output.
std::string errorOf(gpu::GpuProgram p, std::vector<float> &in, std::vector<float> &out) {
  void *args[] = {in.data(), out.data()};
  try {
    gpu::GpuExecutable(std::move(p)).run(args);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(EmulatedDriver, RunsAHandWrittenKernelThroughTheRuntime) {
  REQUIRE_EMULATED_DRIVER();
  std::vector<float> in(64), out(64, -1.0f);
  for (int i = 0; i < 64; ++i) in[i] = static_cast<float>(i);
  ASSERT_EQ(errorOf(program(twice(0), "k", 2, 32, 64), in, out), "");
  for (int i = 0; i < 64; ++i) EXPECT_EQ(out[i], 2.0f * i) << i;
}

TEST(EmulatedDriver, ADonatedInputStartsInItsOutputsBuffer) {
  REQUIRE_EMULATED_DRIVER();
  // The kernel reads and writes the output's buffer only, as a program whose output
  // reuses its donated input does.
  gpu::GpuProgram p = program(twice(0), "k", 2, 32, 64);
  p.launches[0].buffers = {1, 1};
  std::vector<float> in(64), out(64);
  for (int i = 0; i < 64; ++i) in[i] = static_cast<float>(i);
  void *args[] = {in.data(), out.data()};
  gpu::GpuExecutable(std::move(p)).run(args, {0});
  for (int i = 0; i < 64; ++i) EXPECT_EQ(out[i], 2.0f * i) << i;
}

TEST(EmulatedDriver, AKernelWritingPastItsBufferIsAnIllegalAddress) {
  REQUIRE_EMULATED_DRIVER();
  std::vector<float> in(64, 1.0f), out(64);
  std::string error = errorOf(program(twice(1), "k", 2, 32, 64), in, out);
  EXPECT_NE(error.find("ajit: CUDA cuLaunchKernel failed: CUDA_ERROR_ILLEGAL_ADDRESS"), std::string::npos) << error;
  EXPECT_NE(error.find("every later GPU call in this process fails"), std::string::npos) << error;
}

TEST(EmulatedDriver, ACopyRunningPastAnAllocationIsAnInvalidValue) {
  REQUIRE_EMULATED_DRIVER();
  std::unique_ptr<gpu::DeviceBuffer> buffer = gpu::DeviceBuffer::allocate(64);
  std::vector<char> host(64);
  const cuda::Driver &d = cuda::driver();
  cuda::context();
  EXPECT_EQ(cuda::describe(d.cuMemcpyHtoD(buffer->address() + 32, host.data(), 64)),
            "CUDA_ERROR_INVALID_VALUE (invalid argument)");
  EXPECT_EQ(cuda::describe(d.cuMemcpyDtoH(host.data(), buffer->address() - 16, 32)),
            "CUDA_ERROR_INVALID_VALUE (invalid argument)");
  EXPECT_EQ(d.cuMemcpyHtoD(buffer->address() + 32, host.data(), 32), 0) << "the last 32 bytes are in it";
}

TEST(EmulatedDriver, AMissingKernelIsNotFound) {
  REQUIRE_EMULATED_DRIVER();
  std::vector<float> in(64, 1.0f), out(64);
  std::string error = errorOf(program(twice(0), "no_such_kernel", 2, 32, 64), in, out);
  EXPECT_NE(error.find("cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND"), std::string::npos) << error;
}

TEST(EmulatedDriver, ABlockOfMoreThan1024ThreadsIsRefused) {
  REQUIRE_EMULATED_DRIVER();
  std::vector<float> in(2048, 1.0f), out(2048);
  std::string error = errorOf(program(twice(0), "k", 1, 2048, 2048), in, out);
  EXPECT_NE(error.find("cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE"), std::string::npos) << error;
}

TEST(EmulatedDriver, AModuleItCannotLoadCarriesTheDriversLog) {
  REQUIRE_EMULATED_DRIVER();
  std::vector<float> in(64, 1.0f), out(64);
  std::string error = errorOf(program("define void @k(", "k", 2, 32, 64), in, out);
  EXPECT_NE(error.find("cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_IMAGE"), std::string::npos) << error;
  EXPECT_NE(error.find("kernel module 0 for sm_90"), std::string::npos) << error;
  EXPECT_NE(error.find("is not NVPTX LLVM IR"), std::string::npos) << error; // the driver's log
}

TEST(EmulatedDriver, PtxIsRefusedSayingWhatTheDriverTakes) {
  REQUIRE_EMULATED_DRIVER();
  // An architecture named by the caller gets PTX, which this driver cannot run.
  auto f = jit([](Tensor a) { return a * 2.0; }, {.name = "twice", .target = Target::cuda("sm_90")});
  try {
    f(Array::from<float>(std::vector<float>{1, 2, 3}, {3}));
    FAIL() << "expected an error";
  } catch (const Error &e) {
    std::string what = e.what();
    EXPECT_NE(what.find("CUDA_ERROR_INVALID_PTX"), std::string::npos) << what;
    EXPECT_NE(what.find("runs kernels given as NVPTX LLVM IR"), std::string::npos) << what;
  }
}

} // namespace
