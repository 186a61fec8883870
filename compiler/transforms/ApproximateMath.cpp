//===- ApproximateMath.cpp - polynomial approximations of f32 math --------===//
//
// Accuracy (measured against libm in tests/unit/OpsTest.cpp, where each tolerance is
// stated next to its check): exp, log, tanh, erf within a few ulp over their full range;
// sin and cos within 2e-6 absolute for |x| <= 1e4 (the range reduction is in f32, so the
// error grows with |x|, as in every f32 vector math library).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ajit {
#define GEN_PASS_DEF_AJITAPPROXIMATEMATH
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {
struct ApproximateMathPass
    : public ajit::impl::AjitApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // powf -> exp(y * log(|x|)) with the sign and special cases handled; its exp/log are
    // then approximated below like any other.
    math::populateExpansionPatterns(patterns, {"powf"});
    // The legacy entry point = populateMathF32ExpansionPatterns + the approximations
    // (exp, expm1, log, log1p, log2, tanh, erf, sin, cos, atan, atan2, asin, acos, cbrt).
    // rsqrt stays (it becomes 1/sqrt in LLVM): its approximation needs AVX2 intrinsics.
    populateMathPolynomialApproximationPatterns(patterns, MathPolynomialApproximationOptions{});
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
