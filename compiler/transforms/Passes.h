//===- Passes.h - ajit passes -----------------------------------*- C++ -*-===//
#ifndef AJIT_COMPILER_TRANSFORMS_PASSES_H
#define AJIT_COMPILER_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class ModuleOp;
namespace linalg { class LinalgDialect; }
namespace tensor { class TensorDialect; }
namespace arith { class ArithDialect; }
namespace math { class MathDialect; }
namespace vector { class VectorDialect; }
namespace cf { class ControlFlowDialect; }
namespace func { class FuncDialect; }
namespace scf { class SCFDialect; }
namespace LLVM { class LLVMDialect; }
namespace affine { class AffineDialect; }
} // namespace mlir

namespace ajit {
#define GEN_PASS_DECL
#include "compiler/transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

#endif
