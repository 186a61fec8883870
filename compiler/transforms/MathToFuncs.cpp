//===- MathToFuncs.cpp - convert-math-to-funcs without state across runs ---===//
//
// The upstream pass remembers the functions it generated in a member map that outlives
// the module it ran on; a reused pass manager then emits calls to erased functions.
// A fresh upstream pass per run costs a few microseconds and has no such memory.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/Passes.h"

#include "mlir/Conversion/MathToFuncs/MathToFuncs.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace ajit {
#define GEN_PASS_DEF_AJITMATHTOFUNCS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

struct MathToFuncsPass : public ajit::impl::AjitMathToFuncsBase<MathToFuncsPass> {
  void runOnOperation() override {
    OpPassManager pm(ModuleOp::getOperationName());
    pm.addPass(createConvertMathToFuncs());
    if (failed(runPipeline(pm, getOperation()))) signalPassFailure();
  }
};

} // namespace
