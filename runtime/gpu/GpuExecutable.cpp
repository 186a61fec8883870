//===- GpuExecutable.cpp - PTX modules, per-call device buffers, launches -===//
#include "runtime/gpu/GpuExecutable.h"

#include "runtime/Error.h"
#include "runtime/gpu/CudaDriver.h"
#include "runtime/gpu/DeviceBuffer.h"

#include <exception>
#include <vector>

namespace ajit::gpu {

using namespace ajit::cuda;

/// The modules on the device, with the function of each launch.
struct GpuExecutable::Loaded {
  std::vector<CUmodule> modules;
  std::vector<CUfunction> functions; ///< one per launch

  Loaded() = default;
  Loaded(const Loaded &) = delete;
  Loaded &operator=(const Loaded &) = delete;
  /// Never throws: at exit the driver may be gone, and then so are the modules.
  ~Loaded() {
    try {
      const Driver &d = driver();
      context();
      for (CUmodule m : modules) d.cuModuleUnload(m);
    } catch (const Error &) {
    }
  }
};

namespace {

/// The device address of each buffer number in one call, and the buffers the call owns
/// (inputs it copies in, temporaries; in timeKernels, every buffer), which go back to
/// the pool when it ends. A call that fails part-way may leave launches queued that use
/// them: the device is drained first, so that no later call gets a buffer that a kernel
/// still writes.
class CallBuffers {
public:
  explicit CallBuffers(const GpuProgram &program) : addresses(program.bufferCount(), 0) {}
  ~CallBuffers() {
    if (std::uncaught_exceptions() > exceptions_) drain();
  }
  CallBuffers(const CallBuffers &) = delete;
  CallBuffers &operator=(const CallBuffers &) = delete;

  /// Buffer `id` becomes a fresh (pooled) one of `bytes`.
  DeviceBuffer &own(uint32_t id, uint64_t bytes) {
    owned_.push_back(DeviceBuffer::allocate(bytes));
    addresses[id] = owned_.back()->address();
    return *owned_.back();
  }

  std::vector<CUdeviceptr> addresses;

private:
  std::vector<std::unique_ptr<DeviceBuffer>> owned_;
  int exceptions_ = std::uncaught_exceptions();
};

} // namespace

GpuExecutable::GpuExecutable(GpuProgram program) : program_(std::move(program)) {}

GpuExecutable::~GpuExecutable() { delete loaded_.load(); }

const GpuExecutable::Loaded &GpuExecutable::loaded() {
  if (const Loaded *l = loaded_.load(std::memory_order_acquire)) return *l;
  std::lock_guard lock(loadMutex_);
  if (const Loaded *l = loaded_.load(std::memory_order_relaxed)) return *l;
  const Driver &d = driver();
  context();
  auto l = std::make_unique<Loaded>(); // a failed load unloads what it loaded
  for (size_t i = 0; i < program_.modules.size(); ++i) {
    char log[8192] = {0};
    int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSize};
    void *values[] = {log, reinterpret_cast<void *>(sizeof log)};
    CUmodule m = nullptr;
    CUresult r = d.cuModuleLoadDataEx(&m, program_.modules[i].c_str(), 2, options, values);
    if (r != 0)
      throw Error("ajit: CUDA cuModuleLoadDataEx failed: " + describe(r) + " loading the PTX of kernel module " +
                  std::to_string(i) + " for " + program_.arch + (log[0] ? std::string(": ") + log : std::string()));
    l->modules.push_back(m);
  }
  for (const Launch &launch : program_.launches) {
    CUfunction f = nullptr;
    check(d.cuModuleGetFunction(&f, l->modules.at(launch.module), launch.kernel.c_str()), "cuModuleGetFunction");
    l->functions.push_back(f);
  }
  loaded_.store(l.get(), std::memory_order_release);
  return *l.release();
}

void GpuExecutable::launchAll(const Loaded &loaded, const std::vector<CUdeviceptr> &buffers) const {
  const Driver &d = driver();
  std::vector<CUdeviceptr> params;
  std::vector<void *> paramPtrs;
  for (size_t k = 0; k < program_.launches.size(); ++k) {
    const Launch &l = program_.launches[k];
    params.clear();
    for (uint32_t b : l.buffers) params.push_back(buffers[b]);
    paramPtrs.clear();
    for (CUdeviceptr &p : params) paramPtrs.push_back(&p);
    check(d.cuLaunchKernel(loaded.functions[k], l.grid[0], l.grid[1], l.grid[2], l.block[0], l.block[1],
                           l.block[2], 0, nullptr, paramPtrs.data(), nullptr),
          "cuLaunchKernel");
  }
}

void GpuExecutable::run(void *const *args, const std::vector<int32_t> &donors) {
  size_t inputs = program_.inputBytes.size(), outputs = program_.outputBytes.size();
  std::vector<std::unique_ptr<DeviceBuffer>> results;
  std::vector<uint64_t> onDevice(inputs, 0), resultAddresses;
  for (size_t o = 0; o < outputs; ++o) {
    results.push_back(DeviceBuffer::allocate(program_.outputBytes[o]));
    if (o < donors.size() && donors[o] >= 0) results.back()->copyFromHost(args[donors[o]]);
    resultAddresses.push_back(results.back()->address());
  }
  runOnDevice(args, onDevice.data(), resultAddresses.data());
  for (size_t o = 0; o < outputs; ++o) results[o]->copyToHost(args[inputs + o]);
}

void GpuExecutable::runOnDevice(const void *const *hostInputs, const uint64_t *deviceInputs,
                                const uint64_t *deviceOutputs) {
  const Loaded &l = loaded();
  context();
  size_t inputs = program_.inputBytes.size(), outputs = program_.outputBytes.size();
  CallBuffers call(program_);
  for (uint32_t i = 0; i < inputs; ++i) {
    if (deviceInputs[i]) call.addresses[i] = deviceInputs[i];
    else call.own(i, program_.inputBytes[i]).copyFromHost(hostInputs[i]);
  }
  for (size_t o = 0; o < outputs; ++o) call.addresses[inputs + o] = deviceOutputs[o];
  for (uint32_t t = 0; t < program_.tempBytes.size(); ++t) call.own(inputs + outputs + t, program_.tempBytes[t]);
  launchAll(l, call.addresses);
  // A kernel fault surfaces here at the latest (or another thread's: faults are the
  // context's, which then refuses all work).
  check(driver().cuCtxSynchronize(), "cuCtxSynchronize");
}

std::vector<double> GpuExecutable::timeKernels(void *const *inputs, int batches, int perBatch,
                                               const std::vector<int32_t> &donors) {
  const Loaded &l = loaded();
  context();
  CallBuffers call(program_);
  size_t numInputs = program_.inputBytes.size();
  for (uint32_t id = 0; id < program_.bufferCount(); ++id) {
    DeviceBuffer &b = call.own(id, program_.bufferBytes(id));
    if (id < numInputs) b.copyFromHost(inputs[id]);
    else if (size_t j = id - numInputs; j < donors.size() && donors[j] >= 0) b.copyFromHost(inputs[donors[j]]);
  }
  return timeOnDevice([&] { launchAll(l, call.addresses); }, batches, perBatch);
}

} // namespace ajit::gpu
