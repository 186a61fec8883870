//===- GpuExecutable.h - a GpuProgram loaded on the GPU and run -*- C++ -*-===//
#ifndef AJIT_RUNTIME_GPU_GPUEXECUTABLE_H
#define AJIT_RUNTIME_GPU_GPUEXECUTABLE_H

#include "runtime/gpu/GpuProgram.h"

#include <memory>
#include <mutex>
#include <vector>

namespace ajit::gpu {

/// Runs a GpuProgram on host arrays: inputs copied to the device, the launches in order,
/// outputs copied back. The PTX is loaded (the driver compiles it for the device) on the
/// first run, so a program compiles on machines without a GPU. Thread-safe: calls are
/// serialized, each with its own device buffers.
class GpuExecutable {
public:
  explicit GpuExecutable(GpuProgram program);
  ~GpuExecutable();
  GpuExecutable(const GpuExecutable &) = delete;
  GpuExecutable &operator=(const GpuExecutable &) = delete;

  /// `args`: one host pointer per input, then per output. Throws ajit::Error with the
  /// driver's message on any failure.
  void run(void *const *args);
  /// The program's kernels alone: `inputs` (host pointers) are copied to the device once,
  /// then the launches are timed as cuda::timeOnDevice does, data staying on the device.
  std::vector<double> timeKernels(void *const *inputs, int batches, int perBatch);
  const GpuProgram &program() const { return program_; }

private:
  struct Loaded;
  void load();
  void copyIn(void *const *inputs); ///< needs the lock, a loaded program and the context
  void launchAll();                 ///< likewise; enqueues every launch, waits for none
  GpuProgram program_;
  std::mutex mutex_;
  std::unique_ptr<Loaded> loaded_;
};

} // namespace ajit::gpu

#endif
