//===- FusionRules.cpp - the fusion cost model ------------------------------===//
#include "compiler/transforms/FusionRules.h"

#include "mlir/IR/IRMapping.h"

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
  return opName(op) + " cannot be fused";
}

std::optional<std::string> whyNotEpilogueOf(DotOp dot, Operation *root,
                                            llvm::function_ref<bool(Operation *)> inside) {
  if (!cast<ShapedType>(dot.getType()).getElementType().isF32())
    return std::string("only f32 matmuls have a tiled kernel to apply an epilogue to");
  if (isReduction(root) || loopElements(root) != numElements(dot))
    return std::string("the consumer's loop is not over the product's elements");
  for (Operation *user : dot->getUsers()) {
    if (!inside(user))
      return "the product is also used by " + opName(user) + ", which needs it whole";
    if (!isElementwise(user))
      return "the product is read by " + opName(user) + ", not elementwise";
  }
  return std::nullopt;
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

FusionOp cloneIntoFusion(OpBuilder &b, Location loc, FusionKind kind, ArrayRef<Operation *> ops,
                         ValueRange outputs) {
  auto fusion = FusionOp::create(b, loc, outputs.getTypes(), kind);
  OpBuilder::InsertionGuard guard(b);
  b.createBlock(&fusion.getBody());
  IRMapping map;
  for (Operation *op : ops) b.clone(*op, map);
  SmallVector<Value> yielded;
  for (Value v : outputs) yielded.push_back(map.lookup(v));
  YieldOp::create(b, loc, yielded);
  return fusion;
}

} // namespace ajit::fusion
