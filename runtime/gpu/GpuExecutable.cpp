//===- GpuExecutable.cpp - PTX modules, device buffers, launches ----------===//
#include "runtime/gpu/GpuExecutable.h"

#include "runtime/Error.h"
#include "runtime/gpu/CudaDriver.h"

#include <algorithm>
#include <vector>

namespace ajit::gpu {

using namespace ajit::cuda;

struct GpuExecutable::Loaded {
  std::vector<CUmodule> modules;
  std::vector<CUfunction> functions; ///< one per launch
  std::vector<CUdeviceptr> buffers;  ///< one per buffer number, kept across calls
};

GpuExecutable::GpuExecutable(GpuProgram program) : program_(std::move(program)) {}

GpuExecutable::~GpuExecutable() {
  if (!loaded_) return;
  // Never throw from here: a failed free (at exit, the driver may be gone) only leaks
  // device memory.
  try {
    std::string why;
    if (!available(why)) return;
    const Driver &d = driver();
    context();
    for (CUdeviceptr p : loaded_->buffers)
      if (p) d.cuMemFree(p);
    for (CUmodule m : loaded_->modules) d.cuModuleUnload(m);
  } catch (const Error &) {
  }
}

void GpuExecutable::load() {
  const Driver &d = driver();
  context();
  auto l = std::make_unique<Loaded>();
  // What a failed load got so far is released on the way out.
  struct Release {
    Loaded *l;
    const Driver &d;
    ~Release() {
      if (!l) return;
      for (CUdeviceptr p : l->buffers)
        if (p) d.cuMemFree(p);
      for (CUmodule m : l->modules) d.cuModuleUnload(m);
    }
  } release{l.get(), d};
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
  l->buffers.assign(program_.bufferCount(), 0);
  for (uint32_t id = 0; id < program_.bufferCount(); ++id)
    // cuMemAlloc refuses 0 bytes; an empty array still gets a valid (unused) pointer.
    check(d.cuMemAlloc(&l->buffers[id], std::max<uint64_t>(program_.bufferBytes(id), 1)), "cuMemAlloc");
  release.l = nullptr;
  loaded_ = std::move(l);
}

void GpuExecutable::copyIn(const void *const *inputs, const uint64_t *deviceInputs) {
  const Driver &d = driver();
  for (size_t i = 0; i < program_.inputBytes.size(); ++i)
    if (program_.inputBytes[i] && !(deviceInputs && deviceInputs[i]))
      check(d.cuMemcpyHtoD(loaded_->buffers[i], inputs[i], program_.inputBytes[i]), "cuMemcpyHtoD");
}

void GpuExecutable::launchAll(const std::vector<CUdeviceptr> &buffers) {
  const Driver &d = driver();
  std::vector<CUdeviceptr> params;
  std::vector<void *> paramPtrs;
  for (size_t k = 0; k < program_.launches.size(); ++k) {
    const Launch &l = program_.launches[k];
    params.clear();
    for (uint32_t b : l.buffers) params.push_back(buffers[b]);
    paramPtrs.clear();
    for (CUdeviceptr &p : params) paramPtrs.push_back(&p);
    check(d.cuLaunchKernel(loaded_->functions[k], l.grid[0], l.grid[1], l.grid[2], l.block[0], l.block[1],
                           l.block[2], 0, nullptr, paramPtrs.data(), nullptr),
          "cuLaunchKernel");
  }
}

void GpuExecutable::run(void *const *args) {
  std::lock_guard lock(mutex_);
  if (!loaded_) load();
  const Driver &d = driver();
  context();
  size_t inputs = program_.inputBytes.size(), outputs = program_.outputBytes.size();
  copyIn(args);
  launchAll(loaded_->buffers);
  // The copies back wait for the launches (same stream); a kernel fault surfaces here.
  for (size_t o = 0; o < outputs; ++o)
    if (program_.outputBytes[o])
      check(d.cuMemcpyDtoH(args[inputs + o], loaded_->buffers[inputs + o], program_.outputBytes[o]), "cuMemcpyDtoH");
  check(d.cuCtxSynchronize(), "cuCtxSynchronize");
}

void GpuExecutable::runOnDevice(const void *const *hostInputs, const uint64_t *deviceInputs,
                                const uint64_t *deviceOutputs) {
  std::lock_guard lock(mutex_);
  if (!loaded_) load();
  context();
  size_t inputs = program_.inputBytes.size(), outputs = program_.outputBytes.size();
  copyIn(hostInputs, deviceInputs);
  std::vector<CUdeviceptr> buffers = loaded_->buffers;
  for (size_t i = 0; i < inputs; ++i)
    if (deviceInputs[i]) buffers[i] = deviceInputs[i];
  for (size_t o = 0; o < outputs; ++o) buffers[inputs + o] = deviceOutputs[o];
  launchAll(buffers);
  // A kernel fault surfaces here, in the call that caused it.
  check(driver().cuCtxSynchronize(), "cuCtxSynchronize");
}

std::vector<double> GpuExecutable::timeKernels(void *const *inputs, int batches, int perBatch) {
  std::lock_guard lock(mutex_);
  if (!loaded_) load();
  context();
  copyIn(inputs);
  return timeOnDevice([this] { launchAll(loaded_->buffers); }, batches, perBatch);
}

} // namespace ajit::gpu
