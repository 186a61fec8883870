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
namespace NVVM { class NVVMDialect; }
namespace affine { class AffineDialect; }
namespace memref { class MemRefDialect; }
namespace gpu { class GPUDialect; }
} // namespace mlir

namespace ajit {

// Marks by which one pass hands a decision to a later one, once the IR has changed form.
/// On the linalg.generic computing an ajit.dot (ajit-lower-to-linalg).
inline constexpr llvm::StringLiteral kMatmulAttr = "ajit.matmul";
/// On the linalg.generic of an output fusion's epilogue, which reads the product
/// (ajit-lower-fusions); ajit-tile-matmuls applies it to each tile.
inline constexpr llvm::StringLiteral kMatmulEpilogueAttr = "ajit.matmul_epilogue";
/// On the module (ajit-map-to-gpu): kernel name -> the blocks each SM must be able to
/// hold at once (i32), for ajit-set-kernel-occupancy to put on the outlined gpu.func;
/// gpu.launch carries no function attributes through outlining.
inline constexpr llvm::StringLiteral kMinBlocksPerSmAttr = "ajit.min_blocks_per_sm";
/// On the linalg.generic of an argmax or argmin ("max" / "min") built without lane
/// reductions (ajit-lower-to-linalg): ajit-map-to-gpu combines its (value, index) pairs
/// across a block of threads as one packed 64-bit key.
inline constexpr llvm::StringLiteral kArgReduceAttr = "ajit.arg_reduce";
/// On the scf.parallel loops of ajit-tile-matmuls: already split for the workers, so
/// ajit-parallelize-outer-loops leaves them be.
inline constexpr llvm::StringLiteral kTileLoopAttr = "ajit.tile_loop";

#define GEN_PASS_DECL
#include "compiler/transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

#endif
