//===- LaneReduction.h - explicit vector loops for innermost-axis reductions -*- C++ -*-===//
//
// Some reductions keep a state that LLVM's loop vectorizer cannot carry in registers:
// argmax's (value, index) pair, softmax's online (max, sum of exp). Reduced along the
// contiguous innermost axis they would run one element at a time. This builder writes
// them as explicit vector loops instead: every vector lane keeps its own state over a
// strided share of the row, the lanes are combined pairwise at the end of the row, and
// the elements past the last full vector are folded in one by one.
//
// A long row is split into chunks, each reduced by one iteration of a parallel loop
// (so that a lone row keeps every thread busy, and no lane accumulates too many terms),
// and the chunk states are combined by a second, small reduction.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_COMPILER_CONVERSION_LANEREDUCTION_H
#define AJIT_COMPILER_CONVERSION_LANEREDUCTION_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <functional>

namespace ajit {

/// A reduction whose state is a tuple of scalars. The callbacks build on scalars
/// (width 0) or on vectors of `width` lanes with the same code: arith and math ops work
/// lane-wise on vectors.
struct LaneReduction {
  /// Element type of each state component.
  llvm::SmallVector<mlir::Type> stateTypes;
  /// The state before any element, of each component's type (splat to `width` lanes):
  /// combine(identity, s) = s.
  std::function<llvm::SmallVector<mlir::Value>(mlir::OpBuilder &, mlir::Location, int64_t width)>
      identity;
  /// The state of the single element `x` at position `index` (of the index type).
  std::function<llvm::SmallVector<mlir::Value>(mlir::OpBuilder &, mlir::Location, mlir::Value x,
                                               mlir::Value index)>
      first;
  /// The state after element `x` at position `index`, which comes after every element
  /// `state` has seen (never applied to the identity).
  std::function<llvm::SmallVector<mlir::Value>(mlir::OpBuilder &, mlir::Location,
                                               mlir::ValueRange state, mlir::Value x,
                                               mlir::Value index)>
      update;
  /// Two states of disjoint parts of the same row, in either order.
  std::function<llvm::SmallVector<mlir::Value>(mlir::OpBuilder &, mlir::Location,
                                               mlir::ValueRange a, mlir::ValueRange b)>
      combine;
};

/// Lanes per vector for elements of `t`: four 512-bit registers' worth, so that the
/// dependency chains of the state updates overlap. 0 where the builder does not apply.
int64_t laneReductionWidth(mlir::Type t);

/// Whether `x` reduced along `axis` takes the lane builder: along its innermost axis, of
/// a supported element type, with at least one full vector.
bool laneReductionApplies(mlir::RankedTensorType x, int64_t axis);

/// Reduces `x` (where laneReductionApplies(x, rank - 1)) along its last axis. Returns one
/// tensor per state component, shaped as `x` with its last dimension 1. `indexType` (i32
/// or i64) is the type of the positions handed to `update`.
llvm::SmallVector<mlir::Value> buildLaneReduction(mlir::OpBuilder &b, mlir::Location loc,
                                                  mlir::Value x, const LaneReduction &reduction,
                                                  mlir::Type indexType);

/// Whether `op` holds the explicit vector loops buildLaneReduction writes: a kernel of
/// its own that chunks its row itself, neither fused with others nor split again.
bool hasLaneLoops(mlir::Operation *op);

/// A constant of scalar type `elem` (a float or an integer), splat to `width` lanes.
mlir::Value laneConstant(mlir::OpBuilder &b, mlir::Location loc, mlir::Type elem,
                         mlir::TypedAttr value, int64_t width);

} // namespace ajit

#endif
