//===- ApproximateMath.cpp - polynomial approximations of f32 math --------===//
//
// Accuracy of the f32 results (measured against double-precision references in
// tests/unit/OpsTest.cpp, where each tolerance is stated next to its check): exp within
// 3e-7 relative over [-87.3, 88.7] (subnormal results flush to 0); tanh 4.8e-7 relative;
// erf/erfc as upstream documents them. sin, cos, log and pow on f32 are not left to
// upstream: LowerToLinalg.cpp emits them (upstream's sin/cos return inf for large |x|
// and lose the sign of small negative x, its log is wrong for subnormals, and its pow
// expansion has none of C's special cases).
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
    // The legacy entry point = populateMathF32ExpansionPatterns + the approximations
    // (exp, expm1, log, log1p, log2, tanh, erf, sin, cos, atan, atan2, asin, acos, cbrt).
    // rsqrt stays (it becomes 1/sqrt in LLVM): its approximation needs AVX2 intrinsics.
    populateMathPolynomialApproximationPatterns(patterns, MathPolynomialApproximationOptions{});
    populatePolynomialApproximateErfcPattern(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
