//===- FusionRules.h - what the fusion passes may group, and at what cost -*- C++ -*-===//
//
// The cost model shared by the graph-level fusion passes, XLA-style: which ops can drive a
// fused loop (roots), which can be computed inside a consumer's loop (producers), and which
// are cheap enough to recompute rather than store; and how a group becomes a region.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_COMPILER_TRANSFORMS_FUSIONRULES_H
#define AJIT_COMPILER_TRANSFORMS_FUSIONRULES_H

#include "compiler/dialect/AjitOps.h"

#include "mlir/IR/Builders.h"

#include <optional>
#include <string>

namespace ajit::fusion {

/// Ops that can be the last op of a fused loop: elementwise ops, data movement and
/// reductions. A matmul is not.
bool isRoot(mlir::Operation *op);

/// Reductions (reduce, argmax, argmin, softmax_stats): the root of an input fusion.
bool isReduction(mlir::Operation *op);

/// Why `op` cannot be computed inside its consumer's loop, or nullopt when it can.
std::optional<std::string> whyNotProducer(mlir::Operation *op);

/// Why the matmul `dot` cannot head an output fusion whose loop is rooted at `root`
/// (the product tiled, and the elementwise ops consuming it applied to each tile), or
/// nullopt when it can. `inside` says which of the dot's users are in the group.
std::optional<std::string> whyNotEpilogueOf(DotOp dot, mlir::Operation *root,
                                            llvm::function_ref<bool(mlir::Operation *)> inside);

/// Recomputing the op per use costs about as much as loading its result: arithmetic,
/// comparisons, selects, conversions, broadcasts, reshapes and constants. Transcendentals,
/// division, powers and square roots are not.
bool isCheap(mlir::Operation *op);

/// Elements of the op's (first) result.
int64_t numElements(mlir::Operation *op);

/// Elements a fused loop rooted at `root` iterates over: the result's size for an
/// elementwise root, the operand's for a reduction.
int64_t loopElements(mlir::Operation *root);

/// A new `ajit.fusion` of `kind` at `b`'s insertion point holding copies of `ops` (in
/// order) and yielding the copies of `outputs`; the originals stay where they are.
FusionOp cloneIntoFusion(mlir::OpBuilder &b, mlir::Location loc, FusionKind kind,
                         llvm::ArrayRef<mlir::Operation *> ops, mlir::ValueRange outputs);

/// A short name for remarks: "ajit.exp".
std::string opName(mlir::Operation *op);

} // namespace ajit::fusion

#endif
