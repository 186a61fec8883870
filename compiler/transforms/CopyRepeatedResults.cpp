//===- CopyRepeatedResults.cpp - one value per function result -------------===//
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseSet.h"

namespace ajit {
#define GEN_PASS_DEF_AJITCOPYREPEATEDRESULTS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

struct CopyRepeatedResultsPass
    : public ajit::impl::AjitCopyRepeatedResultsBase<CopyRepeatedResultsPass> {
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      auto fn = dyn_cast<func::FuncOp>(ret->getParentOp());
      if (!fn || !fn.isPublic()) return;
      llvm::DenseSet<Value> seen;
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || seen.insert(v).second) continue;
        Value init = tensor::EmptyOp::create(b, ret.getLoc(), type.getShape(), type.getElementType());
        operand.set(linalg::CopyOp::create(b, ret.getLoc(), v, init).getResult(0));
      }
    });
  }
};

} // namespace
