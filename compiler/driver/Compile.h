//===- Compile.h - graph IR module to object code, stage by stage -*- C++ -*-===//
//
// The one path from a graph-dialect module to object code, shared by the JIT and
// ahead-of-time compiles. Times each stage and, on request, dumps the IR after each.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_COMPILER_DRIVER_COMPILE_H
#define AJIT_COMPILER_DRIVER_COMPILE_H

#include "compiler/targets/TargetInfo.h"

#include <string>

namespace ajit {

struct CompileResult {
  ObjectCode object;
  double graphMs = 0, loweringMs = 0;
  unsigned kernels = 0; ///< loop nests (linalg ops) after fusion
};

/// Compiles public function `fn` of `module` (graph dialect) for `target`. With a
/// non-empty `dumpPrefix`, writes `<prefix>.NN-<stage>.<ext>` after every stage, so the
/// files sort in pipeline order. On failure `error` says which stage failed and why.
mlir::LogicalResult compileToObject(mlir::ModuleOp module, const std::string &fn,
                                    const TargetInfo &target, const std::string &dumpPrefix,
                                    CompileResult &result, std::string &error);

/// Writes `text` to `path`, creating directories; returns false (and says why) on failure.
bool writeTextFile(const std::string &path, const std::string &text, std::string &error);

} // namespace ajit

#endif
