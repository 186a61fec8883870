//===- EmulatedCudaDriver.cpp - libcuda's entry points, run by the emulator -===//
//
// A stand-in for libcuda.so.1, built as libajit-emulated-cuda.so: with
// AJIT_CUDA_DRIVER=<it> ajit's GPU runtime (runtime/gpu) opens it instead of the real
// driver, so that the runtime itself (module loads, device buffers, copies, launches,
// events, the driver's errors becoming ajit::Error) runs where there is no GPU. It
// defines exactly the entry points CudaDriver.h lists, with the real driver's symbols,
// signatures and result codes:
// - device memory is host memory (GuardedBuffer); a fresh allocation holds 0xff bytes
//   (NaN, -1), so an element no kernel writes shows (ajit's pool hands out reused ones
//   too, which hold earlier results). A copy outside every allocation is
//   CUDA_ERROR_INVALID_VALUE, as the real driver's check of its address ranges says; a
//   kernel argument outside every allocation, or a kernel writing past one, is
//   CUDA_ERROR_ILLEGAL_ADDRESS (the fault the kernel would hit): launches run at once,
//   so the launch itself reports it (and every later launch, while the overwritten
//   guard bytes stay), where a real context reports it at the next
//   synchronization and then refuses all work;
// - a module is NVPTX LLVM IR text (KernelJit), not PTX: ajit_driver_kernel_format()
//   tells the runtime so, and PTX is refused with a log that says why;
// - a launch runs the grid (runGrid) with the threads in the order AJIT_EMU_THREAD_ORDER
//   names, ascending (the default) or descending;
// - the device has AJIT_EMU_DEVICE_MB MiB of memory (80 GiB by default; tests set it
//   with ajit_emu_memory), beyond which cuMemAlloc is CUDA_ERROR_OUT_OF_MEMORY;
// - events read the host's steady clock.
// Every entry point holds one lock: a kernel's shared memory is a global of its module.
// What went wrong beyond the result code goes to stderr, as compute-sanitizer's does.
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/gpu/CudaDriver.h"
#include "tests/emulator/GpuEmulator.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

using namespace ajit;
using cuda::CUdeviceptr;
using cuda::CUresult;

namespace {

// The driver API's result codes (cuda.h's CUresult) that this driver returns.
enum : CUresult {
  kSuccess = 0,
  kInvalidValue = 1,
  kOutOfMemory = 2,
  kNotInitialized = 3,
  kInvalidDevice = 101,
  kInvalidImage = 200,
  kInvalidPtx = 218,
  kInvalidHandle = 400,
  kNotFound = 500,
  kIllegalAddress = 700,
  kLaunchFailed = 719,
};

struct ResultText {
  CUresult code;
  const char *name, *text;
};
constexpr ResultText kResults[] = {
    {kSuccess, "CUDA_SUCCESS", "no error"},
    {kInvalidValue, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {kOutOfMemory, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {kNotInitialized, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {kInvalidDevice, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {kInvalidImage, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {kInvalidPtx, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {kInvalidHandle, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {kNotFound, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {kIllegalAddress, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {kLaunchFailed, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
};

struct Function {
  emu::KernelJit::Kernel kernel;
  std::string name;
};

struct Module {
  size_t number; ///< in the KernelJit (whose code stays until the process ends)
  std::map<std::string, std::unique_ptr<Function>> functions;
};

struct Event {
  std::chrono::steady_clock::time_point at;
  bool recorded = false;
};

/// The emulated device's memory: AJIT_EMU_DEVICE_MB MiB (1 to 2^40), else an H100's
/// 80 GiB. Device memory is host memory, which may well run out before that.
uint64_t deviceMemoryFromEnv() {
  uint64_t mb = 80 * 1024;
  if (const char *text = std::getenv("AJIT_EMU_DEVICE_MB")) {
    char *end = nullptr;
    unsigned long long v = std::strtoull(text, &end, 10);
    if (end != text && *end == '\0' && v >= 1 && v <= (1ull << 40)) mb = v;
    else std::fprintf(stderr, "ajit emulated CUDA driver: AJIT_EMU_DEVICE_MB=%s is not 1 to 2^40: 80 GiB\n", text);
  }
  return mb << 20;
}

struct State {
  std::mutex mutex;
  bool initialized = false;
  uint64_t bytesToDevice = 0, bytesToHost = 0; ///< by cuMemcpyHtoD, cuMemcpyDtoH
  uint64_t allocationCalls = 0;              ///< successful cuMemAlloc calls
  uint64_t capacity = deviceMemoryFromEnv(); ///< cuMemAlloc beyond it: out of memory
  std::unique_ptr<emu::KernelJit> jit; ///< started by the first module load
  std::map<uintptr_t, std::unique_ptr<emu::GuardedBuffer>> memory; ///< by device address
  std::map<Module *, std::unique_ptr<Module>> modules;
  std::map<Event *, std::unique_ptr<Event>> events;
};

/// Never destroyed: executables free their buffers from static destructors at exit.
State &state() {
  static State *s = new State;
  return *s;
}

/// Bytes allocated now.
uint64_t bytesAllocated(const State &s) {
  uint64_t bytes = 0;
  for (const auto &[address, b] : s.memory) bytes += b->bytes();
  return bytes;
}

/// The allocation holding [address, address + bytes), or null.
emu::GuardedBuffer *allocationOf(State &s, CUdeviceptr address, uint64_t bytes) {
  auto it = s.memory.upper_bound(address);
  if (it == s.memory.begin()) return nullptr;
  --it;
  uint64_t offset = address - it->first, size = it->second->bytes();
  return offset <= size && bytes <= size - offset ? it->second.get() : nullptr;
}

CUresult report(CUresult code, const std::string &what) {
  std::fprintf(stderr, "ajit emulated CUDA driver: %s\n", what.c_str());
  return code;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

/// Checks that [address, address + bytes) is device memory, for a copy.
CUresult checkRange(State &s, CUdeviceptr address, size_t bytes, const char *entry) {
  if (allocationOf(s, address, bytes)) return kSuccess;
  return report(kInvalidValue, std::string(entry) + ": " + std::to_string(bytes) + " bytes at " + hex(address) +
                                     " are not inside one allocation");
}

emu::ThreadOrder threadOrder() {
  const char *order = std::getenv("AJIT_EMU_THREAD_ORDER");
  return order && std::strcmp(order, "descending") == 0 ? emu::ThreadOrder::descending : emu::ThreadOrder::ascending;
}

/// Writes `log` into the log buffer of cuModuleLoadDataEx's options, if it was given one.
void writeLog(unsigned count, int *options, void **values, const std::string &log) {
  char *buffer = nullptr;
  size_t size = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (options[i] == cuda::kJitErrorLogBuffer) buffer = static_cast<char *>(values[i]);
    if (options[i] == cuda::kJitErrorLogBufferSize) size = reinterpret_cast<uintptr_t>(values[i]);
  }
  if (buffer && size) std::snprintf(buffer, size, "%s", log.c_str());
}

} // namespace

#define AJIT_EMU_LOCKED                                                                                      \
  State &s = state();                                                                                        \
  std::lock_guard lock(s.mutex);                                                                             \
  if (!s.initialized) return kNotInitialized

extern "C" {

/// What kernels this driver takes: runtime/gpu/CudaDriver.cpp looks this symbol up, and
/// ajit compiles for a driver that has it NVPTX LLVM IR instead of PTX.
const char *ajit_driver_kernel_format() { return "nvptx-llvm-ir"; }

/// For tests (found with dlsym): bytes copied to and from the device so far, and the
/// number of live allocations.
void ajit_emu_traffic(uint64_t *toDevice, uint64_t *toHost, uint64_t *allocations) {
  State &s = state();
  std::lock_guard lock(s.mutex);
  *toDevice = s.bytesToDevice;
  *toHost = s.bytesToHost;
  *allocations = s.memory.size();
}

/// For tests: successful cuMemAlloc calls so far, bytes allocated now, and the device's
/// memory; a `setCapacity` other than 0 becomes the device's memory from now on.
void ajit_emu_memory(uint64_t *allocationCalls, uint64_t *liveBytes, uint64_t *capacity, uint64_t setCapacity) {
  State &s = state();
  std::lock_guard lock(s.mutex);
  if (setCapacity) s.capacity = setCapacity;
  *allocationCalls = s.allocationCalls;
  *liveBytes = bytesAllocated(s);
  *capacity = s.capacity;
}

CUresult cuInit(unsigned flags) {
  if (flags != 0) return kInvalidValue;
  State &s = state();
  std::lock_guard lock(s.mutex);
  s.initialized = true;
  return kSuccess;
}

CUresult cuDeviceGetCount(int *count) {
  AJIT_EMU_LOCKED;
  if (!count) return kInvalidValue;
  *count = 1;
  return kSuccess;
}

CUresult cuDeviceGet(cuda::CUdevice *device, int ordinal) {
  AJIT_EMU_LOCKED;
  if (!device) return kInvalidValue;
  if (ordinal != 0) return kInvalidDevice;
  *device = 0;
  return kSuccess;
}

CUresult cuDeviceGetName(char *name, int length, cuda::CUdevice device) {
  AJIT_EMU_LOCKED;
  if (device != 0) return kInvalidDevice;
  if (!name || length <= 0) return kInvalidValue;
  std::snprintf(name, length, "ajit GPU emulator (host CPU)");
  return kSuccess;
}

/// Only the compute capability: it reports sm_90, the architecture the kernels target.
CUresult cuDeviceGetAttribute(int *value, int attribute, cuda::CUdevice device) {
  AJIT_EMU_LOCKED;
  if (device != 0) return kInvalidDevice;
  if (!value) return kInvalidValue;
  if (attribute == cuda::kComputeCapabilityMajor) *value = 9;
  else if (attribute == cuda::kComputeCapabilityMinor) *value = 0;
  else return report(kInvalidValue, "cuDeviceGetAttribute: attribute " + std::to_string(attribute) + " is not modeled");
  return kSuccess;
}

CUresult cuDevicePrimaryCtxRetain(cuda::CUcontext *context, cuda::CUdevice device) {
  AJIT_EMU_LOCKED;
  if (device != 0) return kInvalidDevice;
  if (!context) return kInvalidValue;
  *context = reinterpret_cast<cuda::CUcontext>(&s); // one context, never released
  return kSuccess;
}

CUresult cuCtxSetCurrent(cuda::CUcontext) {
  AJIT_EMU_LOCKED;
  return kSuccess;
}

CUresult cuCtxSynchronize() { // launches and copies finish before they return
  AJIT_EMU_LOCKED;
  return kSuccess;
}

CUresult cuModuleLoadDataEx(cuda::CUmodule *module, const void *image, unsigned count, int *options, void **values) {
  AJIT_EMU_LOCKED;
  if (!module || !image || (count && (!options || !values))) return kInvalidValue;
  std::string_view text(static_cast<const char *>(image));
  if (text.find(".version") != std::string_view::npos && text.find(".target") != std::string_view::npos) {
    writeLog(count, options, values,
             "ajit's emulated CUDA driver runs kernels given as NVPTX LLVM IR, and this module is PTX (compile with "
             "Target::cuda() and no architecture: ajit then asks the driver what it takes)");
    return kInvalidPtx;
  }
  try {
    if (!s.jit) s.jit = std::make_unique<emu::KernelJit>();
    auto m = std::make_unique<Module>();
    m->number = s.jit->addModule(text);
    *module = reinterpret_cast<cuda::CUmodule>(m.get());
    s.modules.emplace(m.get(), std::move(m));
  } catch (const Error &e) {
    writeLog(count, options, values, e.what());
    return kInvalidImage;
  }
  return kSuccess;
}

CUresult cuModuleGetFunction(cuda::CUfunction *function, cuda::CUmodule module, const char *name) {
  AJIT_EMU_LOCKED;
  auto it = s.modules.find(reinterpret_cast<Module *>(module));
  if (it == s.modules.end()) return kInvalidHandle;
  if (!function || !name) return kInvalidValue;
  Module &m = *it->second;
  auto &slot = m.functions[name];
  if (!slot) {
    try {
      slot = std::make_unique<Function>(Function{s.jit->kernel(m.number, name), name});
    } catch (const Error &e) {
      m.functions.erase(name);
      return report(kNotFound, std::string("cuModuleGetFunction: ") + e.what());
    }
  }
  *function = reinterpret_cast<cuda::CUfunction>(slot.get());
  return kSuccess;
}

CUresult cuModuleUnload(cuda::CUmodule module) {
  AJIT_EMU_LOCKED;
  return s.modules.erase(reinterpret_cast<Module *>(module)) ? kSuccess : kInvalidHandle;
}

CUresult cuMemAlloc_v2(CUdeviceptr *address, size_t bytes) {
  AJIT_EMU_LOCKED;
  if (!address || bytes == 0) return kInvalidValue; // as the real driver: no empty allocations
  uint64_t live = bytesAllocated(s), free = live < s.capacity ? s.capacity - live : 0; // a test may shrink the device
  if (bytes > free)
    return report(kOutOfMemory, "cuMemAlloc: " + std::to_string(bytes) + " bytes asked, " + std::to_string(free) +
                                    " of " + std::to_string(s.capacity) + " free");
  std::unique_ptr<emu::GuardedBuffer> b;
  try {
    b = std::make_unique<emu::GuardedBuffer>(bytes);
  } catch (const std::bad_alloc &) {
    return report(kOutOfMemory, "cuMemAlloc: the host has no " + std::to_string(bytes) + " bytes");
  }
  std::memset(b->data(), 0xff, bytes);
  *address = reinterpret_cast<uintptr_t>(b->data());
  s.memory.emplace(*address, std::move(b));
  ++s.allocationCalls;
  return kSuccess;
}

CUresult cuMemFree_v2(CUdeviceptr address) {
  AJIT_EMU_LOCKED;
  if (s.memory.erase(address)) return kSuccess;
  return report(kInvalidValue, "cuMemFree: " + hex(address) + " is not an allocation");
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
  AJIT_EMU_LOCKED;
  if (CUresult r = checkRange(s, dst, bytes, "cuMemcpyHtoD")) return r;
  std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  s.bytesToDevice += bytes;
  return kSuccess;
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
  AJIT_EMU_LOCKED;
  if (CUresult r = checkRange(s, src, bytes, "cuMemcpyDtoH")) return r;
  std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
  s.bytesToHost += bytes;
  return kSuccess;
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  AJIT_EMU_LOCKED;
  if (CUresult r = checkRange(s, src, bytes, "cuMemcpyDtoD source")) return r;
  if (CUresult r = checkRange(s, dst, bytes, "cuMemcpyDtoD destination")) return r;
  std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), bytes);
  return kSuccess;
}

CUresult cuEventCreate(cuda::CUevent *event, unsigned) {
  AJIT_EMU_LOCKED;
  if (!event) return kInvalidValue;
  auto e = std::make_unique<Event>();
  *event = reinterpret_cast<cuda::CUevent>(e.get());
  s.events.emplace(e.get(), std::move(e));
  return kSuccess;
}

CUresult cuEventRecord(cuda::CUevent event, cuda::CUstream) {
  AJIT_EMU_LOCKED;
  auto it = s.events.find(reinterpret_cast<Event *>(event));
  if (it == s.events.end()) return kInvalidHandle;
  it->second->at = std::chrono::steady_clock::now();
  it->second->recorded = true;
  return kSuccess;
}

CUresult cuEventSynchronize(cuda::CUevent event) {
  AJIT_EMU_LOCKED;
  return s.events.count(reinterpret_cast<Event *>(event)) ? kSuccess : kInvalidHandle;
}

CUresult cuEventElapsedTime(float *ms, cuda::CUevent start, cuda::CUevent end) {
  AJIT_EMU_LOCKED;
  auto a = s.events.find(reinterpret_cast<Event *>(start)), b = s.events.find(reinterpret_cast<Event *>(end));
  if (a == s.events.end() || b == s.events.end()) return kInvalidHandle;
  if (!ms) return kInvalidValue;
  if (!a->second->recorded || !b->second->recorded) return kInvalidHandle;
  *ms = std::chrono::duration<float, std::milli>(b->second->at - a->second->at).count();
  return kSuccess;
}

CUresult cuEventDestroy_v2(cuda::CUevent event) {
  AJIT_EMU_LOCKED;
  return s.events.erase(reinterpret_cast<Event *>(event)) ? kSuccess : kInvalidHandle;
}

CUresult cuLaunchKernel(cuda::CUfunction function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned sharedBytes, cuda::CUstream, void **params, void **extra) {
  AJIT_EMU_LOCKED;
  auto *f = reinterpret_cast<Function *>(function);
  bool known = false;
  for (auto &[m, module] : s.modules)
    for (auto &[name, fn] : module->functions) known |= fn.get() == f;
  if (!known) return kInvalidHandle;
  // The device limits of compute capability 9.0.
  if (!gx || !gy || !gz || !bx || !by || !bz || gx > 0x7fffffffu || gy > 65535 || gz > 65535 || bx > 1024 ||
      by > 1024 || bz > 64 || uint64_t(bx) * by * bz > 1024)
    return report(kInvalidValue, "cuLaunchKernel: " + f->name + " launched with grid " + std::to_string(gx) + "x" +
                                     std::to_string(gy) + "x" + std::to_string(gz) + ", block " + std::to_string(bx) +
                                     "x" + std::to_string(by) + "x" + std::to_string(bz));
  if (sharedBytes || extra)
    return report(kInvalidValue, "cuLaunchKernel: dynamic shared memory and `extra` are not modeled");
  if (f->kernel.parameters && !params) return kInvalidValue;
  std::vector<void *> buffers;
  for (unsigned i = 0; i < f->kernel.parameters; ++i) {
    CUdeviceptr p = *static_cast<const CUdeviceptr *>(params[i]);
    if (!allocationOf(s, p, 1))
      return report(kIllegalAddress, "cuLaunchKernel: " + f->name + "'s parameter " + std::to_string(i) + " (" +
                                         hex(p) + ") is not device memory");
    buffers.push_back(reinterpret_cast<void *>(p));
  }
  emu::Grid grid{{gx, gy, gz}, {bx, by, bz}, f->kernel.entry, buffers.data()};
  try {
    emu::runGrid(grid, threadOrder());
  } catch (const Error &e) {
    return report(kLaunchFailed, "cuLaunchKernel: " + f->name + ": " + e.what());
  }
  for (auto &[address, b] : s.memory)
    if (!b->guardsIntact())
      return report(kIllegalAddress, "cuLaunchKernel: " + f->name + " wrote outside the allocation at " +
                                         hex(address) + " of " + std::to_string(b->bytes()) + " bytes");
  return kSuccess;
}

CUresult cuGetErrorName(CUresult error, const char **name) {
  if (!name) return kInvalidValue;
  for (const ResultText &r : kResults)
    if (r.code == error) {
      *name = r.name;
      return kSuccess;
    }
  *name = nullptr;
  return kInvalidValue;
}

CUresult cuGetErrorString(CUresult error, const char **text) {
  if (!text) return kInvalidValue;
  for (const ResultText &r : kResults)
    if (r.code == error) {
      *text = r.text;
      return kSuccess;
    }
  *text = nullptr;
  return kInvalidValue;
}

} // extern "C"
