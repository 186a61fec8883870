//===- NativeMathToLlvm.cpp - math ops with GPU instructions as intrinsics -===//
//
// convert-gpu-to-nvvm lowers every math op it knows to a libdevice call (__nv_fmaf,
// __nv_fabsf, __nv_sqrtf, ...), and marks the matching LLVM intrinsic ops (llvm.intr.fabs,
// llvm.intr.sqrt, ...) illegal so that they take the same road. Those calls resolve only
// when the serializer finds libdevice.10.bc, which depends on CUDA_HOME and on the
// machine. The ops converted here are single PTX instructions (fma.rn, abs, sqrt.rn,
// cvt.rmi, copysign, ...): written as `llvm.call_intrinsic` they are outside that
// legality, translate to the same intrinsic calls, and need no library. Everything else
// (f64 transcendentals; f32 ones are polynomials by ajit-approximate-math) is left to
// convert-gpu-to-nvvm.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

namespace ajit {
#define GEN_PASS_DEF_AJITNATIVEMATHTOLLVM
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

/// The LLVM intrinsic (without its type suffix) that computes `op` exactly, if any.
/// rsqrt is not one: it becomes 1 / sqrt, correctly rounded steps as on the CPU
/// (libdevice's __nv_rsqrtf is the approximate rsqrt.approx).
StringRef intrinsicFor(Operation *op) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case<math::FmaOp>([](auto) { return "llvm.fma"; })
      .Case<math::AbsFOp>([](auto) { return "llvm.fabs"; })
      .Case<math::SqrtOp, math::RsqrtOp>([](auto) { return "llvm.sqrt"; })
      .Case<math::CopySignOp>([](auto) { return "llvm.copysign"; })
      .Case<math::FloorOp>([](auto) { return "llvm.floor"; })
      .Case<math::CeilOp>([](auto) { return "llvm.ceil"; })
      .Case<math::TruncOp>([](auto) { return "llvm.trunc"; })
      .Case<math::RoundEvenOp>([](auto) { return "llvm.roundeven"; })
      .Default([](Operation *) { return StringRef(); });
}

struct NativeMathToLlvmPass : public ajit::impl::AjitNativeMathToLlvmBase<NativeMathToLlvmPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (op->getNumResults() == 1 && !intrinsicFor(op).empty() &&
          (op->getResult(0).getType().isF32() || op->getResult(0).getType().isF64()))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      Type type = op->getResult(0).getType();
      std::string name = (intrinsicFor(op) + (type.isF32() ? ".f32" : ".f64")).str();
      Value result =
          LLVM::CallIntrinsicOp::create(b, op->getLoc(), type, b.getStringAttr(name), op->getOperands()).getResult(0);
      if (isa<math::RsqrtOp>(op))
        result = arith::DivFOp::create(b, op->getLoc(), arith::ConstantOp::create(b, op->getLoc(), b.getFloatAttr(type, 1.0)),
                                       result);
      op->getResult(0).replaceAllUsesWith(result);
      op->erase();
    }
  }
};

} // namespace
