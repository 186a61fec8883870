//===- FuseSiblings.cpp - sibling (multi-output) fusion of loop fusions -----===//
//
// Runs after ajit-fuse-producer-consumer (see Passes.td). Two loop fusions that share
// an input but no op are otherwise two passes over that input; merged, one loop reads it
// once and writes both groups' results (ajit-lower-fusions merges the two loop nests).
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/FusionRules.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace ajit {
#define GEN_PASS_DEF_AJITFUSESIBLINGS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;
using namespace ajit;

namespace {

/// The one shape of all of a loop fusion's results, or none.
std::optional<ArrayRef<int64_t>> loopShape(FusionOp f) {
  if (f.getKind() != FusionKind::loop || f->getNumResults() == 0) return std::nullopt;
  auto first = cast<RankedTensorType>(f->getResult(0).getType()).getShape();
  for (Value r : f->getResults())
    if (cast<RankedTensorType>(r.getType()).getShape() != first) return std::nullopt;
  return first;
}

/// Values a fusion reads from outside its region.
llvm::SetVector<Value> inputsOf(FusionOp f) {
  llvm::SetVector<Value> inputs;
  getUsedValuesDefinedAbove(f.getBody(), inputs);
  return inputs;
}

/// Whether `a` and the later `b` may merge.
bool canMerge(FusionOp a, FusionOp b) {
  auto shapeA = loopShape(a), shapeB = loopShape(b);
  if (!shapeA || !shapeB || *shapeA != *shapeB) return false;
  llvm::SetVector<Value> inputsB = inputsOf(b);
  bool shareInput = llvm::any_of(inputsOf(a), [&](Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    return type && type.getShape() == *shapeA && inputsB.contains(v);
  });
  if (!shareInput) return false;
  // The merged fusion sits where `b` is: every user of `a` must come after it. This also
  // keeps `b` independent of `a`: any path from `a` to `b` starts with a user of `a`
  // that is `b` or precedes it.
  return llvm::all_of(a->getUsers(), [&](Operation *user) {
    return b->isBeforeInBlock(b->getBlock()->findAncestorOpInBlock(*user));
  });
}

/// One fusion at `b`'s place computing both bodies, yielding `a`'s results then `b`'s.
FusionOp merge(FusionOp a, FusionOp b) {
  SmallVector<Operation *> ops;
  SmallVector<Value> outputs;
  for (FusionOp f : {a, b}) {
    for (Operation &op : f.getBody().front().without_terminator()) ops.push_back(&op);
    llvm::append_range(outputs, cast<YieldOp>(f.getBody().front().getTerminator()).getValues());
  }
  OpBuilder builder(b);
  FusionOp merged = fusion::cloneIntoFusion(builder, b.getLoc(), FusionKind::loop, ops, outputs);
  a->replaceAllUsesWith(merged->getResults().take_front(a->getNumResults()));
  b->replaceAllUsesWith(merged->getResults().drop_front(a->getNumResults()));
  a->erase();
  b->erase();
  return merged;
}

struct FuseSiblingsPass : public ajit::impl::AjitFuseSiblingsBase<FuseSiblingsPass> {
  using AjitFuseSiblingsBase::AjitFuseSiblingsBase;

  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp fn) {
      if (fn.isExternal()) return;
      // Each fusion, in block order, absorbs the earlier siblings it can, earliest first.
      // The merged fusion takes its place: the fusions after it are tried later, the
      // ones before it again (it reads more inputs now).
      SmallVector<FusionOp> fusions(fn.getBody().front().getOps<FusionOp>());
      for (size_t j = 0; j < fusions.size(); ++j)
        for (size_t i = 0; i < j;) {
          if (!canMerge(fusions[i], fusions[j])) {
            ++i;
            continue;
          }
          fusions[j] = merge(fusions[i], fusions[j]);
          fusions.erase(fusions.begin() + i);
          --j, i = 0;
          if (report)
            fusions[j]->emitRemark() << "sibling fusion: merged with an earlier loop fusion over the same shape "
                                        "that reads a common input";
        }
    });
  }
};

} // namespace
