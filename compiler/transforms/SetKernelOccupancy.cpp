//===- SetKernelOccupancy.cpp - blocks per SM as nvvm.minctasm on kernels ---===//
//
// ajit-map-to-gpu decides which kernels need several blocks resident on an SM, but
// gpu.launch has no function attributes to carry the decision through outlining; it
// records kernel name -> blocks in a module dictionary (kMinBlocksPerSmAttr), and this
// pass, after gpu-kernel-outlining, moves each entry onto its gpu.func as
// `nvvm.minctasm` (PTX's .minnctapersm).
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace ajit {
#define GEN_PASS_DEF_AJITSETKERNELOCCUPANCY
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

struct SetKernelOccupancyPass : public ajit::impl::AjitSetKernelOccupancyBase<SetKernelOccupancyPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto wanted = module->getAttrOfType<DictionaryAttr>(ajit::kMinBlocksPerSmAttr);
    if (!wanted) return;
    module->removeAttr(ajit::kMinBlocksPerSmAttr);
    llvm::StringMap<gpu::GPUFuncOp> kernels;
    module.walk([&](gpu::GPUFuncOp fn) {
      if (fn.isKernel()) kernels[fn.getName()] = fn;
    });
    for (NamedAttribute entry : wanted) {
      auto blocks = dyn_cast<IntegerAttr>(entry.getValue());
      gpu::GPUFuncOp fn = kernels.lookup(entry.getName().getValue());
      if (!blocks || !fn) {
        module.emitError("ajit-set-kernel-occupancy: no kernel '") << entry.getName().getValue()
                                                                    << "', or not an integer count of blocks";
        return signalPassFailure();
      }
      fn->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(), blocks);
    }
  }
};

} // namespace
