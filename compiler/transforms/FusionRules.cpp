//===- FusionRules.cpp - the fusion cost model ------------------------------===//
#include "compiler/transforms/FusionRules.h"

namespace ajit::fusion {

using namespace mlir;

bool isReduction(Operation *op) { return isa<ReduceOp, ArgMaxOp, ArgMinOp, SoftmaxStatsOp>(op); }

bool isRoot(Operation *op) {
  return isElementwise(op) || isReduction(op) ||
         isa<BroadcastInDimOp, ReshapeOp, TransposeOp>(op);
}

std::optional<std::string> whyNotProducer(Operation *op) {
  if (isElementwise(op) || isa<BroadcastInDimOp, ReshapeOp, TransposeOp, ConstantOp>(op))
    return std::nullopt;
  if (isReduction(op))
    return std::string("a reduction is not fused into its consumer: the consumer's loop would "
                       "recompute it for every element");
  if (isa<DotOp>(op))
    return std::string("a matmul is not fused into its consumer: the consumer's loop would "
                       "recompute it for every element");
  return opName(op) + " cannot be fused";
}

bool isCheap(Operation *op) {
  return isa<NegOp, AbsOp, ReluOp, AddOp, SubOp, MulOp, MaxOp, MinOp, CompareOp, SelectOp,
             ClampOp, ConvertOp, BroadcastInDimOp, ReshapeOp, TransposeOp, ConstantOp>(op);
}

int64_t numElements(Operation *op) {
  if (op->getNumResults() == 0) return 0;
  auto type = cast<ShapedType>(op->getResult(0).getType());
  return type.getNumElements();
}

int64_t loopElements(Operation *root) {
  if (isReduction(root)) return cast<ShapedType>(root->getOperand(0).getType()).getNumElements();
  return numElements(root);
}

std::string opName(Operation *op) { return op->getName().getStringRef().str(); }

} // namespace ajit::fusion
