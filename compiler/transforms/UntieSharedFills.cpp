//===- UntieSharedFills.cpp - a fill of its own for every destination -----===//
//
// CSE merges equal fills: the zero accumulators of two row sums (a layer norm's mean and
// variance), the -inf of a softmax's max and an argmax's value. Two ops then write into
// one filled tensor, and bufferization keeps the fill's buffer for the first and gives
// the second a new buffer plus a copy of the fill's values: a read and a write of the
// whole tensor where a write would do (on the GPU a copy kernel, and a fill that
// ajit-map-to-gpu can no longer fold into the reduction after it, since the copy reads
// it). Here every op writing into a shared fill gets its own fill (and its own
// tensor.empty), just before it; an all-parallel linalg op that never reads its
// destination gets just the empty tensor. Runs after the last CSE, which would merge them back.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace ajit {
#define GEN_PASS_DEF_AJITUNTIESHAREDFILLS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

struct UntieSharedFillsPass : public ajit::impl::AjitUntieSharedFillsBase<UntieSharedFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill->getResult(0).hasOneUse()) fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills) {
      Value filled = fill->getResult(0);
      // The destinations written into the fill; the first of them in program order keeps
      // it when nothing only reads it.
      SmallVector<OpOperand *> destinations;
      bool read = false;
      for (OpOperand &use : filled.getUses()) {
        auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        if (dps && dps.isDpsInit(&use) && use.getOwner()->getBlock() == fill->getBlock())
          destinations.push_back(&use);
        else
          read = true;
      }
      llvm::sort(destinations, [](OpOperand *a, OpOperand *b) {
        return a->getOwner()->isBeforeInBlock(b->getOwner());
      });
      for (OpOperand *use : llvm::drop_begin(destinations, read ? 0 : 1)) {
        OpBuilder b(use->getOwner());
        Value into = fill.getOutputs()[0];
        if (auto empty = into.getDefiningOp<tensor::EmptyOp>()) into = b.clone(*empty)->getResult(0);
        // An all-parallel linalg op whose body never reads the destination overwrites all
        // of it: an empty tensor serves (when there is one to give).
        auto linalgOp = dyn_cast<linalg::LinalgOp>(use->getOwner());
        bool overwritten = linalgOp && linalgOp.getNumReductionLoops() == 0 &&
                           !linalgOp.payloadUsesValueFromOperand(use) && into.getDefiningOp<tensor::EmptyOp>();
        use->set(overwritten ? into : linalg::FillOp::create(b, fill.getLoc(), fill.value(), into).getResult(0));
      }
    }
  }
};

} // namespace
