//===- GpuEmulator.h - ajit's GPU kernels run on the host, for tests -*- C++ -*-===//
//
// CI has the CUDA toolkit but no GPU, so the PTX target's kernels were checked by ptxas
// and nothing else. The emulator runs the same kernels on the CPU: the program compiled
// with createPtxTarget(arch, /*llvmIr=*/true) holds each kernel's LLVM IR as NVPTX
// would compile it (after MLIR's gpu/NVVM lowering and LLVM's O3 for NVPTX); the IR is
// retargeted to the host (the NVVM intrinsics it calls become calls into the emulator:
// thread and block ids, barriers, warp shuffles) and compiled with ORC. Each block's
// threads run as fibers on one OS thread: a thread runs until it reaches a barrier or a
// shuffle, and the barrier or shuffle completes once every thread it waits for has
// reached it. What it checks: the kernels' index arithmetic, tiling, shared memory use,
// barriers and block reductions. What it cannot: PTX code generation (ptxas checks that
// it assembles), the real CUDA driver (EmulatedCudaDriver.cpp stands in for it), timing,
// and races that a sequential schedule hides (each program can be run with threads in
// ascending and in descending order).
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_TESTS_EMULATOR_GPUEMULATOR_H
#define AJIT_TESTS_EMULATOR_GPUEMULATOR_H

#include "runtime/gpu/GpuProgram.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ajit::emu {

/// The order in which a block's threads get to run between two synchronizations.
enum class ThreadOrder { ascending, descending };

/// One kernel launch's geometry and its entry (`void entry(void **buffers)`).
struct Grid {
  uint32_t grid[3], block[3];
  void (*entry)(void **);
  void **buffers;
};

/// Runs every block of `g`, one after another, its threads as fibers. Throws ajit::Error
/// on a deadlock (threads waiting at different barriers or shuffles) or a shuffle the
/// PTX ISA leaves undefined (a source lane outside the member mask, lanes disagreeing on
/// the mask).
void runGrid(const Grid &g, ThreadOrder order);

/// NVPTX LLVM IR modules retargeted to the host and compiled with ORC, one JITDylib
/// each (kernel names may repeat across modules).
class KernelJit {
public:
  KernelJit(); ///< throws ajit::Error if no JIT can be started
  ~KernelJit();
  KernelJit(const KernelJit &) = delete;
  KernelJit &operator=(const KernelJit &) = delete;

  /// A kernel's entry: `entry(buffers)` runs one thread of it (runGrid's Grid::entry),
  /// `buffers` holding one pointer per parameter.
  struct Kernel {
    void (*entry)(void **);
    unsigned parameters;
  };
  /// Adds the module `ir` (LLVM IR as text or bitcode) and returns its number. Throws
  /// ajit::Error naming an NVVM intrinsic the emulator does not model, inline PTX
  /// assembly, or IR it cannot parse.
  size_t addModule(std::string_view ir);
  /// Throws ajit::Error if module `module` has no kernel `name`.
  Kernel kernel(size_t module, const std::string &name);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Emulated device memory: 64-byte aligned as cuMemAlloc's, with guard bytes on both
/// sides that a write past either end overwrites.
class GuardedBuffer {
public:
  explicit GuardedBuffer(uint64_t bytes);
  unsigned char *data() const { return data_; }
  uint64_t bytes() const { return bytes_; }
  bool guardsIntact() const;

private:
  static constexpr size_t kGuard = 256;
  static constexpr unsigned char kGuardByte = 0xa5;
  std::unique_ptr<unsigned char[]> raw_;
  unsigned char *data_ = nullptr;
  uint64_t bytes_ = 0;
};

/// A GpuProgram of NVPTX LLVM IR modules, compiled for the host.
class EmulatedProgram {
public:
  /// Throws ajit::Error naming an NVVM intrinsic the emulator does not model, or IR it
  /// cannot load.
  explicit EmulatedProgram(gpu::GpuProgram program);
  ~EmulatedProgram();
  EmulatedProgram(const EmulatedProgram &) = delete;
  EmulatedProgram &operator=(const EmulatedProgram &) = delete;

  /// As GpuExecutable::run: one host pointer per input, then per output. Buffers get
  /// guard bytes on both sides, checked after every launch (an out-of-bounds write is an
  /// ajit::Error naming the kernel and the buffer); outputs and temporaries start as
  /// 0xff bytes (NaN, -1), so an element no kernel writes shows.
  void run(void *const *args, ThreadOrder order);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace ajit::emu

#endif
