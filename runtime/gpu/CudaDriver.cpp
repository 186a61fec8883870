//===- CudaDriver.cpp - open libcuda once, resolve every entry point ------===//
#include "runtime/gpu/CudaDriver.h"

#include "runtime/Env.h"
#include "runtime/Error.h"

#include <dlfcn.h>

#include <mutex>
#include <utility>

namespace ajit::cuda {
namespace {

struct Loaded {
  Driver driver;
  std::string error; ///< why the driver cannot be used; empty when it can
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::string kernelFormat; ///< empty: PTX
};

std::string resultText(const Driver &d, CUresult r) {
  const char *name = nullptr, *text = nullptr;
  if (d.cuGetErrorName) d.cuGetErrorName(r, &name);
  if (d.cuGetErrorString) d.cuGetErrorString(r, &text);
  return std::string(name ? name : "CUDA error " + std::to_string(r)) + (text ? std::string(" (") + text + ")" : "");
}

Loaded &loaded() {
  static Loaded state;
  static std::once_flag once;
  std::call_once(once, [] {
    // The handle is never closed: the driver lives as long as the process.
    std::string chosen = env::get("AJIT_CUDA_DRIVER");
    void *lib = dlopen(chosen.empty() ? "libcuda.so.1" : chosen.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib && chosen.empty()) lib = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char *why = dlerror();
      state.error = "no CUDA driver: cannot open " + (chosen.empty() ? "libcuda.so.1" : "$AJIT_CUDA_DRIVER " + chosen) +
                    " (" + (why ? why : "not found") + ")";
      return;
    }
    // A driver that runs kernels in another form than PTX says so (tests/emulator's).
    if (auto format = reinterpret_cast<const char *(*)()>(dlsym(lib, "ajit_driver_kernel_format")))
      state.kernelFormat = format();
    Driver &d = state.driver;
#define AJIT_CUDA_RESOLVE(name, symbol, params)                                                    \
    d.name = reinterpret_cast<decltype(d.name)>(dlsym(lib, symbol));                               \
    if (!d.name && state.error.empty()) state.error = "the CUDA driver has no entry point " symbol;
    AJIT_CUDA_DRIVER_FUNCTIONS(AJIT_CUDA_RESOLVE)
#undef AJIT_CUDA_RESOLVE
    if (!state.error.empty()) return;
    int count = 0;
    CUresult r = d.cuInit(0);
    if (r == 0) r = d.cuDeviceGetCount(&count);
    if (r != 0) {
      state.error = "the CUDA driver does not start: " + resultText(d, r);
      return;
    }
    if (count == 0) {
      state.error = "the CUDA driver sees no GPU";
      return;
    }
    r = d.cuDeviceGet(&state.device, 0);
    if (r == 0) r = d.cuDevicePrimaryCtxRetain(&state.context, state.device);
    if (r != 0) state.error = "no context on GPU 0: " + resultText(d, r);
  });
  return state;
}

} // namespace

const Driver &driver() {
  Loaded &l = loaded();
  if (!l.error.empty()) throw Error("ajit: " + l.error);
  return l.driver;
}

bool available(std::string &why) {
  why = loaded().error;
  return why.empty();
}

std::string describe(CUresult result) { return resultText(loaded().driver, result); }

bool takesLlvmIr() { return loaded().error.empty() && loaded().kernelFormat == "nvptx-llvm-ir"; }

/// The errors after which the driver refuses all further work of the context (a fault
/// in a kernel: CUDA_ERROR_ILLEGAL_ADDRESS, _LAUNCH_TIMEOUT, _ASSERT,
/// _HARDWARE_STACK_ERROR, _ILLEGAL_INSTRUCTION, _MISALIGNED_ADDRESS,
/// _INVALID_ADDRESS_SPACE, _INVALID_PC, _LAUNCH_FAILED). The tests' emulated driver
/// goes on working after them; the message describes the real one.
static bool losesTheContext(CUresult r) { return r == 700 || r == 702 || r == 710 || (r >= 714 && r <= 719); }

void check(CUresult result, const char *what) {
  if (result == 0) return;
  std::string message = std::string("ajit: CUDA ") + what + " failed: " + describe(result);
  if (losesTheContext(result))
    message += "; a kernel faulted, and the CUDA context refuses all work after that: every later GPU call in "
               "this process fails";
  throw Error(message);
}

void drain() noexcept {
  if (!loaded().error.empty()) return;
  try {
    context();
    loaded().driver.cuCtxSynchronize(); // its error is the one being thrown, or a later one
  } catch (const Error &) {
  }
}

CUcontext context() {
  const Driver &d = driver();
  CUcontext ctx = loaded().context;
  check(d.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  return ctx;
}

std::string deviceArch() {
  const Driver &d = driver();
  int major = 0, minor = 0;
  check(d.cuDeviceGetAttribute(&major, kComputeCapabilityMajor, loaded().device), "cuDeviceGetAttribute");
  check(d.cuDeviceGetAttribute(&minor, kComputeCapabilityMinor, loaded().device), "cuDeviceGetAttribute");
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

} // namespace ajit::cuda

namespace ajit::cuda {
namespace {
/// Runs `f` when the scope ends, thrown out of or not (driver handles to release).
template <class F> struct OnExit {
  F f;
  explicit OnExit(F fn) : f(std::move(fn)) {}
  ~OnExit() { f(); }
  OnExit(const OnExit &) = delete;
  OnExit &operator=(const OnExit &) = delete;
};
} // namespace

std::vector<double> timeOnDevice(const std::function<void()> &work, int batches, int perBatch) {
  const Driver &d = driver();
  context();
  CUevent start = nullptr, stop = nullptr;
  OnExit destroy([&] {
    if (start) d.cuEventDestroy(start);
    if (stop) d.cuEventDestroy(stop);
  });
  check(d.cuEventCreate(&start, 0), "cuEventCreate");
  check(d.cuEventCreate(&stop, 0), "cuEventCreate");
  work(); // loads, first-touch, clocks up
  check(d.cuCtxSynchronize(), "cuCtxSynchronize");
  std::vector<double> seconds;
  for (int b = 0; b < batches; ++b) {
    check(d.cuEventRecord(start, nullptr), "cuEventRecord");
    for (int i = 0; i < perBatch; ++i) work();
    check(d.cuEventRecord(stop, nullptr), "cuEventRecord");
    check(d.cuEventSynchronize(stop), "cuEventSynchronize");
    float ms = 0;
    check(d.cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
    seconds.push_back(ms / 1e3 / perBatch);
  }
  return seconds;
}

std::vector<double> timeDeviceCopy(size_t bytes, int batches, int perBatch) {
  const Driver &d = driver();
  context();
  CUdeviceptr src = 0, dst = 0;
  OnExit release([&] {
    if (src) d.cuMemFree(src);
    if (dst) d.cuMemFree(dst);
  });
  check(d.cuMemAlloc(&src, bytes), "cuMemAlloc");
  check(d.cuMemAlloc(&dst, bytes), "cuMemAlloc");
  return timeOnDevice([&] { check(d.cuMemcpyDtoD(dst, src, bytes), "cuMemcpyDtoD"); }, batches, perBatch);
}

} // namespace ajit::cuda
