//===- Compile.h - graph IR module to object code, stage by stage -*- C++ -*-===//
//
// The one path from a graph-dialect module to object code, shared by the JIT and
// ahead-of-time compiles. Times each stage and, on request, dumps the IR after each.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_COMPILER_DRIVER_COMPILE_H
#define AJIT_COMPILER_DRIVER_COMPILE_H

#include "compiler/targets/TargetInfo.h"

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
  unsigned kernels = 0; ///< loop nests (linalg ops) after fusion
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

/// Compiles public function `fn` of `module` (graph dialect) for `target`. With a
/// non-empty `dumpPrefix`, writes `<prefix>.NN-<stage>.<ext>` after every stage, so the
/// files sort in pipeline order. On failure `error` says which stage failed and why.
mlir::LogicalResult compileToObject(CompileSession &session, mlir::ModuleOp module,
                                    const std::string &fn,
                                    const TargetInfo &target, const std::string &dumpPrefix,
                                    CompileResult &result, std::string &error);

/// Writes `text` to `path`, creating directories; returns false (and says why) on failure.
bool writeTextFile(const std::string &path, const std::string &text, std::string &error);

} // namespace ajit

#endif
