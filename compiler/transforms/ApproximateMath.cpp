//===- ApproximateMath.cpp - polynomial approximations of f32 math --------===//
//
// Accuracy of the f32 results (measured against double-precision references in
// tests/unit/OpsTest.cpp, where each tolerance is stated next to its check): exp within
// 3e-7 relative over [-87.3, 88.7] (subnormal results flush to 0; ExpF32 below, not
// upstream's, also for the exps that erfc and expm1 expand to); tanh 4.8e-7 relative;
// erf/erfc as upstream documents them. sin, cos, log and pow on f32 are not left to
// upstream: LowerToLinalg.cpp emits them (upstream's sin/cos return inf for large |x|
// and lose the sign of small negative x, its log is wrong for subnormals, and its pow
// expansion has none of C's special cases).
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
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

/// f32 exp in 16 vector operations where upstream's approximation takes 23 (counted in
/// the AVX-512 loop, NaN guard included): the same Cephes polynomial on the same
/// reduction x = k ln 2 + r, but
/// - k = round(x / ln 2) comes from one FMA with 1.5 * 2^23 (the integer lands in the
///   low mantissa bits of t), and 2^k from t's bits shifted into the exponent field:
///   no floor, no float-to-int conversion. The conversion was also a hazard: fptosi of
///   NaN is poison, and LLVM deleted a folded NaN program's stores (differential
///   fuzzer, seed 7, program 526); t's bits are never poison, and NaN flows through r.
/// - 2^k * (1 + p) is one FMA (2^k * p + 2^k): for normal results the same rounding as
///   upstream's add and exact multiply (2M random inputs: identical bits), for subnormal
///   ones one rounding instead of two.
/// - only x's lower bound is clamped (-87.8, so that -inf gives 0): k is capped at 127
///   instead (x in [88.38, 88.72] evaluates the polynomial a little past ln 2 / 2, as
///   upstream does), and past that r, the polynomial and the product grow to +inf.
/// k = -127 (x below about -87.68) gives 2^k's bits 0: those results, under 2^-126,
/// flush to zero, as upstream's do.
struct ExpF32 : public OpRewritePattern<math::ExpOp> {
  ExpF32(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/10) {}
  LogicalResult matchAndRewrite(math::ExpOp op, PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32()) return rewriter.notifyMatchFailure(op, "not f32");
    Location loc = op.getLoc();
    auto f = [&](double v) {
      return createScalarOrSplatConstant(rewriter, loc, type, APFloat(static_cast<float>(v)));
    };
    auto vector = dyn_cast<VectorType>(type);
    Type intType = vector ? Type(vector.clone(rewriter.getI32Type())) : Type(rewriter.getI32Type());
    auto i = [&](int64_t v) { return createScalarOrSplatConstant(rewriter, loc, intType, v); };
    auto fma = [&](Value a, Value x, Value c) -> Value { return math::FmaOp::create(rewriter, loc, a, x, c); };
    // select(v >= bound (or NaN), v, bound), or <=: one vmaxps or vminps, NaN kept.
    auto clamp = [&](Value v, arith::CmpFPredicate pred, Value bound) -> Value {
      Value keep = arith::CmpFOp::create(rewriter, loc, pred, v, bound);
      return arith::SelectOp::create(rewriter, loc, keep, v, bound);
    };
    Value x = clamp(op.getOperand(), arith::CmpFPredicate::UGE, f(-87.8));
    Value magic = f(0x1.8p23);
    // t = 1.5 * 2^23 + k, k = x / ln 2 rounded to an integer (exact while |k| < 2^22),
    // capped at 127; NaN stays NaN.
    Value t = clamp(fma(x, f(1.44269504088896341), magic), arith::CmpFPredicate::ULE, f(0x1.8p23 + 127));
    Value k = arith::SubFOp::create(rewriter, loc, t, magic);
    // r = x - k ln 2 with ln 2 in two parts (the first exact for |k| < 2^15).
    Value r = fma(k, f(-0.693359375), x);
    r = fma(k, f(2.12194440e-4), r);
    Value p = f(1.9875691500E-4);
    for (double c : {1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2, 1.6666665459E-1, 5.0000001201E-1})
      p = fma(p, r, f(c));
    Value r2 = arith::MulFOp::create(rewriter, loc, r, r);
    Value em1 = fma(p, r2, r); // exp(r) - 1
    // 2^k: t's bits are those of 1.5 * 2^23 plus k, whose low 9 bits shift out.
    Value bits = arith::BitcastOp::create(rewriter, loc, intType, t);
    bits = arith::ShLIOp::create(rewriter, loc, bits, i(23));
    bits = arith::AddIOp::create(rewriter, loc, bits, i(127 << 23));
    Value scale = arith::BitcastOp::create(rewriter, loc, type, bits);
    rewriter.replaceOp(op, fma(em1, scale, scale));
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
    patterns.add<ExpF32>(&getContext()); // before upstream's exp (benefit 1)
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
