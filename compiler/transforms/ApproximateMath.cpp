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
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ajit {
#define GEN_PASS_DEF_AJITAPPROXIMATEMATH
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kNanGuarded = "ajit.nan_guarded";

/// exp(x) => select(isnan(x), x, exp(select(isnan(x), 0, x))), the inner exp marked.
/// Upstream's exp approximation converts floor(x / ln 2) with fptosi, which is poison for
/// NaN: at run time the hardware's answer still gives NaN, but when LLVM sees a NaN
/// constant (a folded program) it folds the poison and deletes the result's store, so
/// the caller reads garbage. Found by the differential fuzzer (seed 7, program 526).
/// Runs before the approximation (higher benefit), also on exps that other expansions
/// (erfc, expm1) create.
struct GuardExpAgainstNan : public OpRewritePattern<math::ExpOp> {
  GuardExpAgainstNan(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/10) {}
  LogicalResult matchAndRewrite(math::ExpOp op, PatternRewriter &rewriter) const override {
    if (op->hasAttr(kNanGuarded) || !getElementTypeOrSelf(op.getType()).isF32())
      return rewriter.notifyMatchFailure(op, "guarded already, or not f32");
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Value isNan = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::UNO, x, x);
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(x.getType()));
    Value safe = arith::SelectOp::create(rewriter, loc, isNan, zero, x);
    auto exp = math::ExpOp::create(rewriter, loc, safe, op.getFastmathAttr());
    exp->setAttr(kNanGuarded, rewriter.getUnitAttr());
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, isNan, x, exp);
    return success();
  }
};

struct ApproximateMathPass
    : public ajit::impl::AjitApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // The legacy entry point = populateMathF32ExpansionPatterns + the approximations
    // (exp, expm1, log, log1p, log2, tanh, erf, sin, cos, atan, atan2, asin, acos, cbrt).
    // rsqrt stays (it becomes 1/sqrt in LLVM): its approximation needs AVX2 intrinsics.
    populateMathPolynomialApproximationPatterns(patterns, MathPolynomialApproximationOptions{});
    populatePolynomialApproximateErfcPattern(patterns);
    patterns.add<GuardExpAgainstNan>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
