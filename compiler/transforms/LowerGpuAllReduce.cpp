//===- LowerGpuAllReduce.cpp - gpu.all_reduce as shuffles + shared memory -===//
//
// ajit-map-to-gpu's block reductions end in gpu.all_reduce. Upstream has the lowering
// (the patterns behind its test-gpu-rewrite pass) but no pass that applies it alone, so
// this one does, on the outlined gpu.funcs: a butterfly of shuffles in each warp, the
// warp leaders' values through a 32-entry workgroup buffer, the first warp's shuffles
// again; then 64-bit shuffles become pairs of 32-bit ones, the width NVVM's shfl.sync
// takes.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ajit {
#define GEN_PASS_DEF_AJITLOWERGPUALLREDUCE
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

struct LowerGpuAllReducePass : public ajit::impl::AjitLowerGpuAllReduceBase<LowerGpuAllReducePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateGpuAllReducePatterns(patterns);
    populateGpuShufflePatterns(patterns);
    FrozenRewritePatternSet frozen(std::move(patterns));
    for (auto module : getOperation().getOps<gpu::GPUModuleOp>())
      if (failed(applyPatternsGreedily(module, frozen))) return signalPassFailure();
    WalkResult left = getOperation().walk([](gpu::AllReduceOp op) {
      op.emitError("ajit-lower-gpu-all-reduce: not lowered (a non-uniform all-reduce, or outside a gpu.func)");
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted()) signalPassFailure();
  }
};

} // namespace
