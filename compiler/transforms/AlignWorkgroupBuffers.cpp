//===- AlignWorkgroupBuffers.cpp - 16-byte aligned shared-memory buffers ---===//
//
// A gpu.func's workgroup attributions become `.shared` globals whose alignment is the
// element's (4 bytes for f32) unless the attribution carries `llvm.align`, and NVPTX's
// load/store vectorizer does not raise it: the tiled matmul's 16-byte shared-memory
// accesses (ld.shared.v4) stayed four 4-byte ones. gpu.launch has no place for
// attribution attributes, so they are set here, after gpu-kernel-outlining.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace ajit {
#define GEN_PASS_DEF_AJITALIGNWORKGROUPBUFFERS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

/// The widest access PTX has (ld.shared.v4.b32, .v2.b64).
constexpr int64_t kAlignment = 16;

struct AlignWorkgroupBuffersPass : public ajit::impl::AjitAlignWorkgroupBuffersBase<AlignWorkgroupBuffersPass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    getOperation().walk([&](gpu::GPUFuncOp fn) {
      for (unsigned i = 0, e = fn.getNumWorkgroupAttributions(); i < e; ++i)
        fn.setWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName(), b.getI64IntegerAttr(kAlignment));
    });
  }
};

} // namespace
