//===- GpuExecutable.h - a GpuProgram loaded on the GPU and run -*- C++ -*-===//
#ifndef AJIT_RUNTIME_GPU_GPUEXECUTABLE_H
#define AJIT_RUNTIME_GPU_GPUEXECUTABLE_H

#include "runtime/gpu/CudaDriver.h"
#include "runtime/gpu/GpuProgram.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace ajit::gpu {

/// Runs a GpuProgram: inputs copied to the device (unless already there), the launches
/// in order, outputs copied back (or left on the device). The PTX is loaded (the driver
/// compiles it for the device) on the first call, so a program compiles on machines
/// without a GPU. Between calls an executable holds no device memory: each call takes
/// its temporaries and copied inputs from the DeviceBuffer pool and gives them back.
/// Thread-safe without a lock: calls from several threads overlap their host-side work;
/// their launches and copies share the context's legacy default stream, so the device
/// runs them one after another.
class GpuExecutable {
public:
  explicit GpuExecutable(GpuProgram program);
  ~GpuExecutable();
  GpuExecutable(const GpuExecutable &) = delete;
  GpuExecutable &operator=(const GpuExecutable &) = delete;

  /// `args`: one host pointer per input, then per output. `donors[j]`, where given and
  /// not negative, names the input whose values output j's buffer starts with (a
  /// donated input, which the kernels read from there). Throws ajit::Error with the
  /// driver's message on any failure.
  void run(void *const *args, const std::vector<int32_t> &donors = {});
  /// One call whose outputs stay on the device: input i is read in place from device
  /// address `deviceInputs[i]` when that is not 0 (an array already there), else copied
  /// from `hostInputs[i]`; output j is written to device address `deviceOutputs[j]`,
  /// bytes `program().outputBytes[j]`. Returns once the kernels have finished. Throws
  /// ajit::Error with the driver's message.
  void runOnDevice(const void *const *hostInputs, const uint64_t *deviceInputs, const uint64_t *deviceOutputs);
  /// The program's kernels alone: `inputs` (host pointers) are copied to the device once,
  /// then the launches are timed as cuda::timeOnDevice does, data staying on the device.
  /// `donors` as in run(); output j's buffer starts with input donors[j]'s values once,
  /// so a program that updates a donated input in place compounds its update over the
  /// timed calls (the time per call is what matters here, not the values).
  std::vector<double> timeKernels(void *const *inputs, int batches, int perBatch,
                                  const std::vector<int32_t> &donors = {});
  const GpuProgram &program() const { return program_; }

private:
  struct Loaded;
  /// The modules, loaded by the first call. Throws ajit::Error with the driver's log.
  const Loaded &loaded();
  /// Enqueues every launch, waits for none; `buffers`: the address of each buffer number.
  void launchAll(const Loaded &loaded, const std::vector<cuda::CUdeviceptr> &buffers) const;
  GpuProgram program_;
  std::mutex loadMutex_;
  std::atomic<Loaded *> loaded_{nullptr}; ///< owned; set once
};

} // namespace ajit::gpu

#endif
