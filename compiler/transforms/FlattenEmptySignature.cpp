//===- FlattenEmptySignature.cpp - zero-size arguments become tensor<0xT> --===//
#include "compiler/dialect/AjitOps.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace ajit {
#define GEN_PASS_DEF_AJITFLATTENEMPTYSIGNATURE
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

/// A zero-size tensor whose shape is not already [0].
bool needsFlattening(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.hasStaticShape() && t.getNumElements() == 0 && t.getShape() != ArrayRef<int64_t>{0};
}

RankedTensorType flat(Type type) {
  return RankedTensorType::get({0}, cast<RankedTensorType>(type).getElementType());
}

struct FlattenEmptySignaturePass
    : public ajit::impl::AjitFlattenEmptySignatureBase<FlattenEmptySignaturePass> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp fn) {
      if (!fn.isPublic() || fn.isExternal()) return;
      Block &entry = fn.front();
      OpBuilder b(&entry, entry.begin());
      for (BlockArgument arg : entry.getArguments()) {
        if (!needsFlattening(arg.getType())) continue;
        auto type = cast<RankedTensorType>(arg.getType());
        auto empty = ajit::ConstantOp::create(b, arg.getLoc(), DenseElementsAttr::get(type, ArrayRef<Attribute>{}));
        arg.replaceAllUsesWith(empty);
        arg.setType(flat(type));
      }
      fn.walk([&](func::ReturnOp ret) {
        OpBuilder rb(ret);
        for (OpOperand &operand : ret->getOpOperands())
          if (needsFlattening(operand.get().getType()))
            operand.set(ajit::ReshapeOp::create(rb, ret.getLoc(), flat(operand.get().getType()), operand.get()));
      });
      SmallVector<Type> results;
      for (Value v : fn.front().getTerminator()->getOperands()) results.push_back(v.getType());
      fn.setFunctionType(FunctionType::get(fn.getContext(), entry.getArgumentTypes(), results));
    });
  }
};

} // namespace
