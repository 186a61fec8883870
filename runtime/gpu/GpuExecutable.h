//===- GpuExecutable.h - a GpuProgram loaded on the GPU and run -*- C++ -*-===//
#ifndef AJIT_RUNTIME_GPU_GPUEXECUTABLE_H
#define AJIT_RUNTIME_GPU_GPUEXECUTABLE_H

#include "runtime/gpu/CudaDriver.h"
#include "runtime/gpu/GpuProgram.h"

#include <memory>
#include <mutex>
#include <vector>

namespace ajit::gpu {

/// Runs a GpuProgram: inputs copied to the device (unless already there), the launches
/// in order, outputs copied back (or left on the device). The PTX is loaded (the driver compiles it for the device) on the
/// first run, so a program compiles on machines without a GPU. Thread-safe: calls are
/// serialized; they share the program's temporaries (and, in run(), its input and
/// output buffers; runOnDevice writes the caller's).
class GpuExecutable {
public:
  explicit GpuExecutable(GpuProgram program);
  ~GpuExecutable();
  GpuExecutable(const GpuExecutable &) = delete;
  GpuExecutable &operator=(const GpuExecutable &) = delete;

  /// `args`: one host pointer per input, then per output. Throws ajit::Error with the
  /// driver's message on any failure.
  void run(void *const *args);
  /// One call whose outputs stay on the device: input i is read in place from device
  /// address `deviceInputs[i]` when that is not 0 (an array already there), else copied
  /// from `hostInputs[i]`; output j is written to device address `deviceOutputs[j]`,
  /// bytes `program().outputBytes[j]`. Returns once the kernels have finished. Throws
  /// ajit::Error with the driver's message.
  void runOnDevice(const void *const *hostInputs, const uint64_t *deviceInputs, const uint64_t *deviceOutputs);
  /// The program's kernels alone: `inputs` (host pointers) are copied to the device once,
  /// then the launches are timed as cuda::timeOnDevice does, data staying on the device.
  std::vector<double> timeKernels(void *const *inputs, int batches, int perBatch);
  const GpuProgram &program() const { return program_; }

private:
  struct Loaded;
  void load();
  /// Needs the lock, a loaded program and the context (as launchAll): copies input i
  /// into the program's buffer i unless `deviceInputs[i]` says where it already is.
  void copyIn(const void *const *inputs, const uint64_t *deviceInputs = nullptr);
  /// Enqueues every launch, waits for none; `buffers`: the address of each buffer number.
  void launchAll(const std::vector<cuda::CUdeviceptr> &buffers);
  GpuProgram program_;
  std::mutex mutex_;
  std::unique_ptr<Loaded> loaded_;
};

} // namespace ajit::gpu

#endif
