//===- TargetInfo.h - what differs between code generation targets -*- C++ -*-===//
//
// Generic lowering never asks which target it is on; everything that differs (the
// phases after the graph, how LLVM IR becomes code, what enters the cache key) sits
// behind this interface (Triton's TargetInfoBase).
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_COMPILER_TARGETS_TARGETINFO_H
#define AJIT_COMPILER_TARGETS_TARGETINFO_H

#include "compiler/pipeline/Pipeline.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ajit {

/// Set by the compile driver on the function it compiles: how many of its leading
/// arguments are the caller's inputs (after bufferization the out-params follow them).
constexpr const char kInputCountAttr[] = "ajit.num_inputs";

/// Native code for one module, and what it took to make it.
struct ObjectCode {
  std::vector<char> bytes;   ///< relocatable object file (CPU), serialized gpu::GpuProgram (PTX)
  std::string entrySymbol;   ///< `void entry(void **args)`: inputs then outputs; empty for PTX
  double translateMs = 0, optimizeMs = 0, codegenMs = 0;
};

/// Called with (file suffix, text) for each artifact worth dumping (LLVM IR, assembly).
using DumpFn = std::function<void(const std::string &suffix, const std::string &text)>;

class TargetInfo {
public:
  virtual ~TargetInfo() = default;
  /// A short name of the generated code's target, e.g. `x86_64-sapphirerapids`.
  virtual std::string name() const = 0;
  /// Everything about the target that changes generated code (persistent cache keys).
  virtual std::string fingerprint() const { return name(); }
  virtual llvm::ArrayRef<Phase> phases() const = 0;
  /// Names of the artifacts emitObject dumps after the phases, in order.
  virtual std::vector<std::string> codeStages() const { return {"llvm-ir", "llvm-ir-opt", "asm"}; }
  /// LLVM-dialect module with one public function `fn` -> object code with an entry
  /// wrapper `<fn>_entry(void **args)`. With a non-empty `exportAs`, `fn` also stays
  /// callable under that name with one typed pointer per input and output (for AOT).
  /// `dump` may be empty.
  virtual mlir::LogicalResult emitObject(mlir::ModuleOp module, const std::string &fn,
                                         const std::string &exportAs, ObjectCode &out,
                                         std::string &error, const DumpFn &dump) const = 0;
};

/// The host CPU, or a named CPU (`x86-64-v3`, `x86-64-v4`, `native`). With `parallel`,
/// large kernels split their outermost loop across libomp's workers; the JIT links libomp,
/// an ahead-of-time object then needs `-lomp`. With `microKernels` (the JIT), f32 matmuls
/// call ajit's micro-kernels, which an ahead-of-time object could not link; their tiles
/// are sized for `workers` threads (0: every core), the count the runtime will use.
std::unique_ptr<TargetInfo> createCpuTarget(const std::string &cpu = "native", bool parallel = true,
                                            bool microKernels = true, int workers = 0);

/// NVIDIA GPUs of compute capability `arch` (`sm_80`, `sm_90`, `sm_90a`): PTX through
/// MLIR's gpu and NVVM dialects, and the host side as a thunk sequence (GpuProgram).
/// With `llvmIr`, the program's modules are the kernels' NVPTX LLVM IR (text) instead
/// of PTX: what tests/emulator runs on the host, directly or as an emulated CUDA driver.
/// Returns null for a malformed architecture name.
std::unique_ptr<TargetInfo> createPtxTarget(const std::string &arch, bool llvmIr = false);

} // namespace ajit

#endif
