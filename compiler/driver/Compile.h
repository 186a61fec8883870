//===- Compile.h - graph IR module to object code, stage by stage -*- C++ -*-===//
//
// The one path from a graph-dialect module to object code, shared by the JIT and
// ahead-of-time compiles. Times each stage and, on request, dumps the IR after each.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_COMPILER_DRIVER_COMPILE_H
#define AJIT_COMPILER_DRIVER_COMPILE_H

#include "compiler/targets/TargetInfo.h"
#include "runtime/KernelStats.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
class PassManager;
} // namespace mlir

namespace ajit {

struct CompileResult {
  ObjectCode object;
  double graphMs = 0, loweringMs = 0;
  KernelStats kernels;
  /// Per output: the input whose buffer it must be given, filled with that input's
  /// values (a donated argument, see ajit-reuse-donated-inputs), or -1 for a fresh one.
  std::vector<int32_t> outputReusesInput;
};

/// An MLIRContext and the pass managers built for it, reused across the compiles of one
/// thread: creating a context, loading dialects and collecting canonicalization patterns
/// would otherwise cost milliseconds in every compile. Not thread-safe.
class CompileSession {
public:
  CompileSession();
  ~CompileSession();
  mlir::MLIRContext &context() { return *ctx_; }
  /// The pass manager of `phase`, built on first use.
  mlir::PassManager *passManager(const Phase &phase, std::string &error);

private:
  std::unique_ptr<mlir::MLIRContext> ctx_;
  std::vector<std::pair<const Phase *, std::unique_ptr<mlir::PassManager>>> passManagers_;
};

/// Called after each stage with (stage name, file extension, text).
using StageFn = std::function<void(const std::string &stage, const std::string &ext,
                                   const std::string &text)>;

struct CompileOptions {
  /// Stop after this phase (a name from the target's phases, or "llvm-ir", "llvm-ir-opt",
  /// "asm"); empty runs to object code.
  std::string stopAfter;
  /// Ahead-of-time compiles keep the typed function external under this name (the JIT
  /// calls only the `void entry(void **)` wrapper and lets the function be inlined away).
  std::string exportAs;
  /// Receives the IR after every stage (AJIT_DUMP_IR, ajitc --compile-to).
  StageFn onStage;
};

/// Every stage name in order: "graph", the target's phases, then its code stages (CPU: "llvm-ir",
/// "llvm-ir-opt", "asm"; PTX: "asm", the .ptx).
std::vector<std::string> stageNames(const TargetInfo &target);

/// Compiles public function `fn` of `module` (graph dialect) for `target`. On failure
/// `error` says which stage failed and why.
mlir::LogicalResult compileToObject(CompileSession &session, mlir::ModuleOp module,
                                    const std::string &fn, const TargetInfo &target,
                                    const CompileOptions &options, CompileResult &result,
                                    std::string &error);

/// A StageFn writing `<prefix>.NN-<stage>.<ext>`, numbered so files sort in pipeline order.
StageFn dumpToFiles(const std::string &prefix);

/// Writes `text` to `path`, creating directories; returns false (and says why) on failure.
bool writeTextFile(const std::string &path, const std::string &text, std::string &error);

} // namespace ajit

#endif
