//===- LowerToLinalg.cpp - ajit graph dialect to linalg on tensors --------===//
//
// Every ajit op becomes linalg on tensors. Elementwise ops, broadcasts and transposes are
// all `linalg.generic` with parallel iterators, so upstream elementwise fusion can merge
// whole chains (and the chain feeding a reduction) into one loop nest.
//
//===----------------------------------------------------------------------===//

#include "compiler/conversion/LaneReduction.h"
#include "compiler/dialect/AjitOps.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>
#include <numbers>

namespace ajit {
#define GEN_PASS_DEF_AJITLOWERTOLINALG
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;
using namespace ajit;

namespace {

//===----------------------------------------------------------------------===//
// Scalar helpers
//===----------------------------------------------------------------------===//

Value constantOf(OpBuilder &b, Location loc, Type type, double v) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, v));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, static_cast<int64_t>(v)));
}

Value intConstant(OpBuilder &b, Location loc, Type type, const APInt &v) {
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, v));
}

bool isFloat(Type t) { return isa<FloatType>(t); }

Value emitMax(OpBuilder &b, Location loc, Value x, Value y) {
  Type t = getElementTypeOrSelf(x.getType());
  if (isFloat(t)) return arith::MaximumFOp::create(b, loc, x, y);
  if (t.isInteger(1)) return arith::OrIOp::create(b, loc, x, y);
  return arith::MaxSIOp::create(b, loc, x, y);
}

Value emitMin(OpBuilder &b, Location loc, Value x, Value y) {
  Type t = getElementTypeOrSelf(x.getType());
  if (isFloat(t)) return arith::MinimumFOp::create(b, loc, x, y);
  if (t.isInteger(1)) return arith::AndIOp::create(b, loc, x, y);
  return arith::MinSIOp::create(b, loc, x, y);
}

/// Truncating integer division made total: x / 0 = 0 and INT_MIN / -1 = INT_MIN, where
/// LLVM's sdiv would be undefined (and x86 would trap).
Value emitIntDiv(OpBuilder &b, Location loc, Value x, Value y) {
  Type t = x.getType();
  if (t.isInteger(1)) return arith::AndIOp::create(b, loc, x, y); // x / true = x
  unsigned bits = t.getIntOrFloatBitWidth();
  Value zero = constantOf(b, loc, t, 0), one = constantOf(b, loc, t, 1);
  Value minusOne = constantOf(b, loc, t, -1);
  Value intMin = intConstant(b, loc, t, APInt::getSignedMinValue(bits));
  Value yIsZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, zero);
  Value overflow = arith::AndIOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, intMin),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, minusOne));
  Value safeY = arith::SelectOp::create(
      b, loc, arith::OrIOp::create(b, loc, yIsZero, overflow), one, y);
  Value q = arith::DivSIOp::create(b, loc, x, safeY);
  // With safeY = 1 an overflowing INT_MIN / -1 yields INT_MIN, the wrapped result.
  return arith::SelectOp::create(b, loc, yIsZero, zero, q);
}

/// Computes `fn` in f32 for f16/bf16 operands (the polynomial approximations are f32).
Value inF32(OpBuilder &b, Location loc, ValueRange xs, function_ref<Value(ValueRange)> fn) {
  Type t = xs[0].getType();
  if (t.isF32()) return fn(xs);
  SmallVector<Value> wide;
  for (Value x : xs) wide.push_back(arith::ExtFOp::create(b, loc, b.getF32Type(), x));
  return arith::TruncFOp::create(b, loc, t, fn(wide));
}

Value cmpf(OpBuilder &b, Location loc, arith::CmpFPredicate p, Value x, Value y) {
  return arith::CmpFOp::create(b, loc, p, x, y);
}

/// f32 log. MLIR's approximation reads the exponent field directly, which is wrong for
/// subnormals: they are scaled by 2^24 into the normal range first. f64 calls libm.
Value emitLog(OpBuilder &b, Location loc, Value x) {
  if (x.getType().isF64()) return math::LogOp::create(b, loc, x);
  return inF32(b, loc, x, [&](ValueRange v) -> Value {
    Type t = b.getF32Type();
    Value tiny = cmpf(b, loc, arith::CmpFPredicate::OLT, v[0], constantOf(b, loc, t, 0x1p-126));
    Value scaled = arith::SelectOp::create(
        b, loc, tiny, arith::MulFOp::create(b, loc, v[0], constantOf(b, loc, t, 0x1p24)), v[0]);
    Value r = math::LogOp::create(b, loc, scaled);
    Value shifted = arith::SubFOp::create(b, loc, r, constantOf(b, loc, t, 24 * std::numbers::ln2));
    return arith::SelectOp::create(b, loc, tiny, shifted, r);
  });
}

/// f32 sin and cos: Cody-Waite reduction by pi/2 split in three f32 parts, with FMAs,
/// then the cephes minimax polynomials on [-pi/4, pi/4], all in f32 at the full vector
/// width. Measured: abs error <= 1.1e-7 for |x| <= 1e6. Past ~4e6 the f32 product x * 2/pi
/// can round k to the wrong integer: results stay within [-1, 1] but are not accurate
/// (an f64 reduction is exact to 2^80 but halves the throughput).
/// The quadrant k = round(x * 2/pi) comes from one FMA with 1.5 * 2^23, which leaves k's
/// low bits in the sum's low mantissa bits (exact while |k| < 2^22): bit 0 picks the
/// polynomial, bit 1 the sign, as integer tests on the sum's bits (no floor, no compares
/// of k mod 4, no float-to-int conversion, whose poison on NaN would need a guard).
/// (MLIR's own f32 approximation returns inf for large |x| and loses the sign of small
/// negative x.) f64 calls libm.
Value emitSinCos(OpBuilder &b, Location loc, Value x, bool isCos) {
  if (x.getType().isF64())
    return isCos ? Value(math::CosOp::create(b, loc, x)) : Value(math::SinOp::create(b, loc, x));
  return inF32(b, loc, x, [&](ValueRange v) -> Value {
    Type f32 = b.getF32Type(), i32 = b.getI32Type();
    auto c = [&](double d) { return constantOf(b, loc, f32, d); };
    auto ci = [&](int64_t d) { return intConstant(b, loc, i32, APInt(32, d, /*isSigned=*/true)); };
    auto mul = [&](Value p, Value q) -> Value { return arith::MulFOp::create(b, loc, p, q); };
    auto fma = [&](Value p, Value q, Value r) -> Value { return math::FmaOp::create(b, loc, p, q, r); };
    Value magic = c(0x1.8p23);
    Value t = fma(v[0], c(0.6366197466850281), magic);
    Value k = arith::SubFOp::create(b, loc, t, magic);
    Value negK = arith::NegFOp::create(b, loc, k);
    Value r = fma(negK, c(1.5707963705062866), v[0]);
    r = fma(negK, c(-4.371138828673793e-08), r);
    r = fma(negK, c(-1.7151245100058819e-15), r);
    // Once the reduction is inexact (huge |x|), keep |r| <= 1 so results stay in [-1, 1].
    r = arith::MinimumFOp::create(b, loc, arith::MaximumFOp::create(b, loc, r, c(-1)), c(1));
    // Quadrant bits; cos(x) = sin(x + pi/2) is one quadrant on.
    Value q = arith::BitcastOp::create(b, loc, i32, t);
    if (isCos) q = arith::AddIOp::create(b, loc, q, ci(1));
    Value z = mul(r, r);
    Value sinPoly = fma(mul(r, z), fma(z, fma(z, c(-1.9515295891e-4), c(8.3321608736e-3)), c(-1.6666654611e-1)), r);
    Value cosPoly = fma(mul(z, z), fma(z, fma(z, c(2.443315711809948e-5), c(-1.388731625493765e-3)),
                                       c(4.166664568298827e-2)),
                        fma(c(-0.5), z, c(1)));
    Value useCos = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                         arith::AndIOp::create(b, loc, q, ci(1)), ci(0));
    Value res = arith::SelectOp::create(b, loc, useCos, cosPoly, sinPoly);
    // Quadrants 2 and 3 negate: bit 1 of q moved to the sign bit.
    Value sign = arith::AndIOp::create(b, loc, arith::ShLIOp::create(b, loc, q, ci(30)),
                                       intConstant(b, loc, i32, APInt::getSignMask(32)));
    res = arith::BitcastOp::create(
        b, loc, f32, arith::XOrIOp::create(b, loc, arith::BitcastOp::create(b, loc, i32, res), sign));
    if (!isCos) // sin(-0) = -0, which the reduction (k = +0) would turn into +0
      res = arith::SelectOp::create(b, loc, cmpf(b, loc, arith::CmpFPredicate::OEQ, v[0], c(0)), v[0], res);
    return res;
  });
}

/// f32 pow with C's special cases (numpy.power): |x|^y = exp(y log|x|), the sign of odd
/// integer powers of negative bases, NaN for negative bases with non-integer exponents,
/// and 1 for pow(x, 0), pow(1, y) and pow(-1, +-inf). f64 calls libm's pow.
Value emitFloatPow(OpBuilder &b, Location loc, Value x, Value y) {
  if (x.getType().isF64()) return math::PowFOp::create(b, loc, x, y);
  return inF32(b, loc, {x, y}, [&](ValueRange v) -> Value {
    Type t = b.getF32Type();
    Value bx = v[0], by = v[1];
    auto c = [&](double d) { return constantOf(b, loc, t, d); };
    auto sel = [&](Value cond, Value p, Value q) -> Value { return arith::SelectOp::create(b, loc, cond, p, q); };
    auto eq = [&](Value p, Value q) { return cmpf(b, loc, arith::CmpFPredicate::OEQ, p, q); };
    Value magnitude = math::ExpOp::create(
        b, loc, arith::MulFOp::create(b, loc, by, emitLog(b, loc, math::AbsFOp::create(b, loc, bx))));
    Value yInt = eq(math::FloorOp::create(b, loc, by), by); // +-inf count as even integers
    Value half = arith::MulFOp::create(b, loc, by, c(0.5));
    Value yOdd = arith::AndIOp::create(b, loc, yInt, cmpf(b, loc, arith::CmpFPredicate::UNE,
                                                         math::FloorOp::create(b, loc, half), half));
    Value signBit = cmpf(b, loc, arith::CmpFPredicate::OLT, math::CopySignOp::create(b, loc, c(1), bx), c(0));
    Value r = sel(arith::AndIOp::create(b, loc, signBit, yOdd), arith::NegFOp::create(b, loc, magnitude), magnitude);
    Value negFinite = arith::AndIOp::create(b, loc, cmpf(b, loc, arith::CmpFPredicate::OLT, bx, c(0)),
                                            cmpf(b, loc, arith::CmpFPredicate::ONE, bx, c(-INFINITY)));
    Value one = c(1);
    r = sel(arith::AndIOp::create(b, loc, negFinite, arith::XOrIOp::create(b, loc, yInt, constantOf(b, loc, b.getI1Type(), 1))),
            c(NAN), r);
    Value yInf = eq(math::AbsFOp::create(b, loc, by), c(INFINITY));
    r = sel(arith::AndIOp::create(b, loc, eq(bx, c(-1)), yInf), one, r);
    r = sel(arith::OrIOp::create(b, loc, eq(by, c(0)), eq(bx, one)), one, r);
    return sel(eq(by, one), bx, r); // exact, and no overflow at FLT_MAX
  });
}

/// Integer pow. A negative exponent truncates 1 / x^n: 1 for x = 1, +-1 for x = -1, and 0
/// otherwise, 0^-n included (as x / 0 = 0); MLIR's ipowi would divide by zero there.
Value emitIntPow(OpBuilder &b, Location loc, Value x, Value y) {
  Type t = x.getType();
  Value zero = constantOf(b, loc, t, 0), one = constantOf(b, loc, t, 1), minusOne = constantOf(b, loc, t, -1);
  Value yNeg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, y, zero);
  Value p = math::IPowIOp::create(b, loc, x, arith::SelectOp::create(b, loc, yNeg, zero, y));
  Value yOdd = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, arith::AndIOp::create(b, loc, y, one), zero);
  Value xIsMinusOne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, minusOne);
  Value negative = arith::SelectOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, one), one,
      arith::SelectOp::create(b, loc, xIsMinusOne, arith::SelectOp::create(b, loc, yOdd, minusOne, one), zero));
  return arith::SelectOp::create(b, loc, yNeg, negative, p);
}

Value emitPow(OpBuilder &b, Location loc, Value x, Value y) {
  if (isFloat(x.getType())) return emitFloatPow(b, loc, x, y);
  return emitIntPow(b, loc, x, y);
}

/// GELU, tanh form, as x * sigmoid(2u) with u = sqrt(2/pi) (x + 0.044715 x^3), which
/// equals 0.5 x (1 + tanh(u)) without its cancellation for negative x.
Value emitGeluTanh(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value one = constantOf(b, loc, t, 1.0);
  Value k = constantOf(b, loc, t, -2 * std::sqrt(2.0 / std::numbers::pi));
  Value c = constantOf(b, loc, t, 0.044715);
  Value x3 = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, x), x);
  Value minus2u = arith::MulFOp::create(
      b, loc, k, arith::AddFOp::create(b, loc, x, arith::MulFOp::create(b, loc, c, x3)));
  Value denom = arith::AddFOp::create(b, loc, one, math::ExpOp::create(b, loc, minus2u));
  return arith::DivFOp::create(b, loc, x, denom);
}

/// GELU, exact form, as 0.5 x erfc(-x / sqrt(2)): equal to 0.5 x (1 + erf(x / sqrt(2)))
/// without its cancellation for negative x.
Value emitGeluErf(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value half = constantOf(b, loc, t, 0.5);
  Value minusInvSqrt2 = constantOf(b, loc, t, -1.0 / std::sqrt(2.0));
  Value e = math::ErfcOp::create(b, loc, arith::MulFOp::create(b, loc, x, minusInvSqrt2));
  return arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, half, x), e);
}

Value emitSigmoid(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value one = constantOf(b, loc, t, 1.0);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, one, arith::AddFOp::create(b, loc, one, e));
}

/// The scalar body of an elementwise op, on element values `args`.
Value emitElementwise(OpBuilder &b, Location loc, Operation *op, ValueRange args,
                      Type resultElem) {
  Value x = args[0];
  Type t = x.getType();
  bool f = isFloat(t);
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](NegOp) -> Value {
        if (f) return arith::NegFOp::create(b, loc, x);
        if (t.isInteger(1)) return x; // -true wraps to true in i1
        return arith::SubIOp::create(b, loc, constantOf(b, loc, t, 0), x);
      })
      .Case([&](AbsOp) -> Value {
        if (f) return math::AbsFOp::create(b, loc, x);
        if (t.isInteger(1)) return x;
        return math::AbsIOp::create(b, loc, x);
      })
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, x); })
      .Case([&](LogOp) { return emitLog(b, loc, x); })
      .Case([&](SinOp) { return emitSinCos(b, loc, x, /*isCos=*/false); })
      .Case([&](CosOp) { return emitSinCos(b, loc, x, /*isCos=*/true); })
      .Case([&](TanhOp) { return math::TanhOp::create(b, loc, x); })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, x); })
      .Case([&](RsqrtOp) { return math::RsqrtOp::create(b, loc, x); })
      .Case([&](SigmoidOp) { return emitSigmoid(b, loc, x); })
      .Case([&](ReluOp) { return emitMax(b, loc, x, constantOf(b, loc, t, 0)); })
      .Case([&](GeluTanhOp) { return emitGeluTanh(b, loc, x); })
      .Case([&](GeluErfOp) { return emitGeluErf(b, loc, x); })
      .Case([&](AddOp) -> Value {
        if (f) return arith::AddFOp::create(b, loc, x, args[1]);
        if (t.isInteger(1)) return arith::OrIOp::create(b, loc, x, args[1]);
        return arith::AddIOp::create(b, loc, x, args[1]);
      })
      .Case([&](SubOp) -> Value {
        if (f) return arith::SubFOp::create(b, loc, x, args[1]);
        if (t.isInteger(1)) return arith::XOrIOp::create(b, loc, x, args[1]);
        return arith::SubIOp::create(b, loc, x, args[1]);
      })
      .Case([&](MulOp) -> Value {
        if (f) return arith::MulFOp::create(b, loc, x, args[1]);
        if (t.isInteger(1)) return arith::AndIOp::create(b, loc, x, args[1]);
        return arith::MulIOp::create(b, loc, x, args[1]);
      })
      .Case([&](DivOp) -> Value {
        if (f) return arith::DivFOp::create(b, loc, x, args[1]);
        return emitIntDiv(b, loc, x, args[1]);
      })
      .Case([&](MaxOp) { return emitMax(b, loc, x, args[1]); })
      .Case([&](MinOp) { return emitMin(b, loc, x, args[1]); })
      .Case([&](PowOp) { return emitPow(b, loc, x, args[1]); })
      .Case([&](CompareOp c) -> Value {
        if (f) {
          arith::CmpFPredicate p = arith::CmpFPredicate::OEQ; // (every case sets it)
          switch (c.getPredicate()) {
          case ComparePredicate::eq: p = arith::CmpFPredicate::OEQ; break;
          case ComparePredicate::ne: p = arith::CmpFPredicate::UNE; break;
          case ComparePredicate::lt: p = arith::CmpFPredicate::OLT; break;
          case ComparePredicate::le: p = arith::CmpFPredicate::OLE; break;
          case ComparePredicate::gt: p = arith::CmpFPredicate::OGT; break;
          case ComparePredicate::ge: p = arith::CmpFPredicate::OGE; break;
          }
          return arith::CmpFOp::create(b, loc, p, x, args[1]);
        }
        // i1 compares unsigned (false < true); wider integers signed.
        bool u = t.isInteger(1);
        arith::CmpIPredicate p = arith::CmpIPredicate::eq; // (every case sets it)
        switch (c.getPredicate()) {
        case ComparePredicate::eq: p = arith::CmpIPredicate::eq; break;
        case ComparePredicate::ne: p = arith::CmpIPredicate::ne; break;
        case ComparePredicate::lt: p = u ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt; break;
        case ComparePredicate::le: p = u ? arith::CmpIPredicate::ule : arith::CmpIPredicate::sle; break;
        case ComparePredicate::gt: p = u ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt; break;
        case ComparePredicate::ge: p = u ? arith::CmpIPredicate::uge : arith::CmpIPredicate::sge; break;
        }
        return arith::CmpIOp::create(b, loc, p, x, args[1]);
      })
      .Case([&](SelectOp) { return arith::SelectOp::create(b, loc, x, args[1], args[2]); })
      .Case([&](ClampOp) {
        return emitMin(b, loc, emitMax(b, loc, x, args[1]), args[2]);
      })
      .Case([&](ConvertOp) -> Value {
        Type to = resultElem;
        if (t == to) return x;
        if (to.isInteger(1)) {
          if (f) return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, x,
                                              constantOf(b, loc, t, 0));
          return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x,
                                       constantOf(b, loc, t, 0));
        }
        if (f && isFloat(to)) {
          unsigned from = t.getIntOrFloatBitWidth(), toBits = to.getIntOrFloatBitWidth();
          if (from == toBits) // bf16 <-> f16: neither holds the other; go through f32
            return arith::TruncFOp::create(b, loc, to, arith::ExtFOp::create(b, loc, b.getF32Type(), x));
          if (from < toBits) return arith::ExtFOp::create(b, loc, to, x);
          return arith::TruncFOp::create(b, loc, to, x);
        }
        if (!f && isFloat(to)) {
          if (t.isInteger(1)) return arith::UIToFPOp::create(b, loc, to, x);
          return arith::SIToFPOp::create(b, loc, to, x);
        }
        if (f) {
          // Saturating, NaN -> 0 (XLA's semantics); LLVM's fptosi is poison out of range.
          unsigned bits = to.getIntOrFloatBitWidth();
          double lo = std::ldexp(-1.0, bits - 1), hi = std::ldexp(1.0, bits - 1);
          Value wide = t.getIntOrFloatBitWidth() < 32
                           ? Value(arith::ExtFOp::create(b, loc, b.getF32Type(), x))
                           : x;
          Type wt = wide.getType();
          Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, wide, wide);
          Value tooLow = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, wide,
                                               constantOf(b, loc, wt, lo));
          Value tooHigh = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, wide,
                                                constantOf(b, loc, wt, hi));
          Value safe = arith::SelectOp::create(
              b, loc, arith::OrIOp::create(b, loc, isNan, arith::OrIOp::create(b, loc, tooLow, tooHigh)),
              constantOf(b, loc, wt, 0), wide);
          Value r = arith::FPToSIOp::create(b, loc, to, safe);
          r = arith::SelectOp::create(b, loc, tooLow,
                                      intConstant(b, loc, to, APInt::getSignedMinValue(bits)), r);
          return arith::SelectOp::create(
              b, loc, tooHigh, intConstant(b, loc, to, APInt::getSignedMaxValue(bits)), r);
        }
        unsigned from = t.getIntOrFloatBitWidth(), toBits = to.getIntOrFloatBitWidth();
        if (from < toBits) {
          if (t.isInteger(1)) return arith::ExtUIOp::create(b, loc, to, x);
          return arith::ExtSIOp::create(b, loc, to, x);
        }
        return arith::TruncIOp::create(b, loc, to, x);
      })
      .Default([](Operation *) -> Value { return nullptr; });
}

//===----------------------------------------------------------------------===//
// Structural helpers
//===----------------------------------------------------------------------===//

SmallVector<utils::IteratorType> parallel(int64_t rank) {
  return SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel);
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
}

Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type, Value fill) {
  return linalg::FillOp::create(b, loc, ValueRange{fill}, ValueRange{emptyTensor(b, loc, type)})
      .getResult(0);
}

/// Row-major reshape of a static tensor: collapse to 1-D, then expand.
Value reshapeTensor(OpBuilder &b, Location loc, Value src, RankedTensorType dst) {
  auto srcType = cast<RankedTensorType>(src.getType());
  if (srcType == dst) return src;
  auto flatType = RankedTensorType::get({srcType.getNumElements()}, srcType.getElementType());
  auto all = [](int64_t rank) {
    ReassociationIndices r;
    for (int64_t i = 0; i < rank; ++i) r.push_back(i);
    return SmallVector<ReassociationIndices>{r};
  };
  Value flat = src;
  if (srcType.getRank() == 0)
    flat = tensor::ExpandShapeOp::create(b, loc, flatType, src, ArrayRef<ReassociationIndices>{});
  else if (srcType.getRank() > 1)
    flat = tensor::CollapseShapeOp::create(b, loc, flatType, src, all(srcType.getRank()));
  if (dst.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, dst, flat, ArrayRef<ReassociationIndices>{});
  if (dst.getRank() == 1) return flat;
  return tensor::ExpandShapeOp::create(b, loc, dst, flat, all(dst.getRank()));
}

/// A linalg.generic over `resultType`'s iteration space with parallel iterators.
Value buildParallelGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{emptyTensor(b, loc, resultType)}, maps,
      parallel(rank), [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args.drop_back()));
      });
  return generic.getResult(0);
}

/// A generic that copies `input` into a new tensor of `out`'s shape, reading element
/// `exprs(i...)` for result index `i...` (broadcasts and transposes).
Value copyThroughMap(OpBuilder &b, Location loc, RankedTensorType out, Value input,
                     ArrayRef<AffineExpr> exprs) {
  auto map = AffineMap::get(out.getRank(), 0, exprs, b.getContext());
  return buildParallelGeneric(b, loc, out, input, map,
                              [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

/// The identity of a reduction for element type `t`.
TypedAttr reductionIdentity(Builder &b, ReduceKind kind, Type t) {
  if (kind == ReduceKind::sum || kind == ReduceKind::mean) return b.getZeroAttr(t);
  bool isMax = kind == ReduceKind::max;
  if (auto ft = dyn_cast<FloatType>(t))
    return b.getFloatAttr(ft, APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/isMax));
  unsigned bits = t.getIntOrFloatBitWidth();
  if (bits == 1) return b.getIntegerAttr(t, APInt(1, isMax ? 0 : 1));
  return b.getIntegerAttr(t, isMax ? APInt::getSignedMinValue(bits) : APInt::getSignedMaxValue(bits));
}

Value reductionInit(OpBuilder &b, Location loc, ReduceKind kind, Type t) {
  return arith::ConstantOp::create(b, loc, reductionIdentity(b, kind, t));
}

/// Iteration space = the operand's dims; output map drops `axes`.
AffineMap reductionOutputMap(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(axes, i)) exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

RankedTensorType dropAxes(RankedTensorType t, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (!llvm::is_contained(axes, i)) shape.push_back(t.getDimSize(i));
  return RankedTensorType::get(shape, t.getElementType());
}

SmallVector<utils::IteratorType> reductionIterators(int64_t rank, ArrayRef<int64_t> axes) {
  auto iters = parallel(rank);
  for (int64_t a : axes) iters[a] = utils::IteratorType::reduction;
  return iters;
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

struct LowerElementwise : public ConversionPattern {
  LowerElementwise(MLIRContext *ctx)
      : ConversionPattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                                ConversionPatternRewriter &rewriter) const override {
    if (!isElementwise(op)) return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    SmallVector<AffineMap> maps(operands.size(),
                                rewriter.getMultiDimIdentityMap(resultType.getRank()));
    Type resultElem = resultType.getElementType();
    Value result = buildParallelGeneric(
        rewriter, op->getLoc(), resultType, operands, maps,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return emitElementwise(b, loc, op, args, resultElem);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename OpTy>
struct AjitPattern : public OpConversionPattern<OpTy> {
  AjitPattern(MLIRContext *ctx, bool laneReductions = true)
      : OpConversionPattern<OpTy>(ctx), laneReductions(laneReductions) {}
  using Adaptor = typename OpTy::Adaptor;
  /// Whether reductions may take LaneReduction's explicit vector loops (CPU targets).
  bool laneReductions;
};

struct LowerConstant : public AjitPattern<ConstantOp> {
  using AjitPattern::AjitPattern;
  LogicalResult matchAndRewrite(ConstantOp op, Adaptor, ConversionPatternRewriter &rewriter) const override {
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value) return rewriter.notifyMatchFailure(op, "constant value is not a typed attribute");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

struct LowerBroadcastInDim : public AjitPattern<BroadcastInDimOp> {
  using AjitPattern::AjitPattern;
  LogicalResult matchAndRewrite(BroadcastInDimOp op, Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto in = cast<RankedTensorType>(op.getX().getType());
    auto out = cast<RankedTensorType>(op.getType());
    SmallVector<AffineExpr> exprs;
    for (auto [i, d] : llvm::enumerate(op.getDims())) {
      // A size-1 operand dim stretched over a larger result dim always reads index 0.
      bool stretched = in.getDimSize(i) == 1 && out.getDimSize(d) != 1;
      exprs.push_back(stretched ? rewriter.getAffineConstantExpr(0) : rewriter.getAffineDimExpr(d));
    }
    rewriter.replaceOp(op, copyThroughMap(rewriter, op.getLoc(), out, adaptor.getX(), exprs));
    return success();
  }
};

struct LowerTranspose : public AjitPattern<TransposeOp> {
  using AjitPattern::AjitPattern;
  LogicalResult matchAndRewrite(TransposeOp op, Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto out = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> perm = op.getPerm();
    // result[i...] = x[j...] with j[perm[r]] = i[r].
    SmallVector<AffineExpr> exprs(perm.size());
    for (auto [r, p] : llvm::enumerate(perm)) exprs[p] = rewriter.getAffineDimExpr(r);
    rewriter.replaceOp(op, copyThroughMap(rewriter, op.getLoc(), out, adaptor.getX(), exprs));
    return success();
  }
};

struct LowerReshape : public AjitPattern<ReshapeOp> {
  using AjitPattern::AjitPattern;
  LogicalResult matchAndRewrite(ReshapeOp op, Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, reshapeTensor(rewriter, op.getLoc(), adaptor.getX(),
                                         cast<RankedTensorType>(op.getType())));
    return success();
  }
};

/// `x` reduced over `axes` (not empty) by `kind` (mean: the sum), the axes dropped.
/// One step of a reduction of `kind`: `acc` combined with `x` (scalars, or vectors lane by
/// lane). mean accumulates as sum; bool sum is or.
Value reductionStep(OpBuilder &b, Location loc, ReduceKind kind, Value x, Value acc) {
  Type elem = getElementTypeOrSelf(x.getType());
  switch (kind) {
  case ReduceKind::max: return emitMax(b, loc, x, acc);
  case ReduceKind::min: return emitMin(b, loc, x, acc);
  case ReduceKind::sum:
  case ReduceKind::mean:
    // reassoc lets the loop vectorizer keep 16 partial sums in a zmm register.
    if (isFloat(elem)) return arith::AddFOp::create(b, loc, x, acc, arith::FastMathFlags::reassoc);
    if (elem.isInteger(1)) return arith::OrIOp::create(b, loc, x, acc);
    return arith::AddIOp::create(b, loc, x, acc);
  }
  llvm_unreachable("unknown reduce kind");
}

Value buildReduction(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes, ReduceKind kind) {
  auto in = cast<RankedTensorType>(x.getType());
  Type elem = in.getElementType();
  RankedTensorType accType = dropAxes(in, axes);
  Value init = filledTensor(b, loc, accType, reductionInit(b, loc, kind, elem));
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(in.getRank()),
                                 reductionOutputMap(b.getContext(), in.getRank(), axes)};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{accType}, ValueRange{x}, ValueRange{init}, maps,
      reductionIterators(in.getRank(), axes), [&](OpBuilder &nb, Location l, ValueRange a) {
        linalg::YieldOp::create(nb, l, reductionStep(nb, l, kind, a[0], a[1]));
      });
  return generic.getResult(0);
}


/// Elements from which a reduction of a whole stored array takes the lane builder. Below,
/// one thread's vectorized loop over L2-resident data is faster than waking the workers
/// (sum at 100K: 4.7 us on one thread, 8.0 us split); at 1M the split wins (0.20 -> 0.05 ms).
constexpr int64_t kLaneReductionMinElements = int64_t(1) << 18;

/// A reduction over every axis of an array that is read from memory, not computed in the
/// same fusion (its producers must keep fusing into the reduction's loop, which the lane
/// builder's explicit loops do not take), and large enough to split across threads.
bool readsWholeStoredArray(ReduceOp op) {
  auto in = cast<RankedTensorType>(op.getX().getType());
  if (static_cast<int64_t>(op.getAxes().size()) != in.getRank() || in.getNumElements() < kLaneReductionMinElements)
    return false;
  if (!laneReductionApplies(RankedTensorType::get({in.getNumElements()}, in.getElementType()), 0)) return false;
  Operation *def = op.getX().getDefiningOp();
  auto fusion = op->getParentOfType<FusionOp>();
  return !def || !fusion || def->getParentOfType<FusionOp>() != fusion;
}

/// sum (mean's sum), max or min of all of `x` with the lane builder: the flattened array
/// in chunks across the threads, 64 lanes each (W2's sum/max/min at 16M were one thread's
/// loop). Returns a 0-d tensor.
Value wholeArrayLaneReduction(OpBuilder &b, Location loc, Value x, ReduceKind kind) {
  auto in = cast<RankedTensorType>(x.getType());
  Type elem = in.getElementType();
  LaneReduction r;
  r.stateTypes = {elem};
  r.identity = [kind, elem](OpBuilder &nb, Location l, int64_t width) -> SmallVector<Value> {
    return {laneConstant(nb, l, elem, reductionIdentity(nb, kind, elem), width)};
  };
  r.first = [](OpBuilder &, Location, Value v, Value) -> SmallVector<Value> { return {v}; };
  r.update = [kind](OpBuilder &nb, Location l, ValueRange s, Value v, Value) -> SmallVector<Value> {
    return {reductionStep(nb, l, kind, v, s[0])};
  };
  r.combine = [kind](OpBuilder &nb, Location l, ValueRange p, ValueRange q) -> SmallVector<Value> {
    return {reductionStep(nb, l, kind, q[0], p[0])};
  };
  Value flat = reshapeTensor(b, loc, x, RankedTensorType::get({in.getNumElements()}, elem));
  Value one = buildLaneReduction(b, loc, flat, r, b.getI32Type())[0]; // tensor<1xT>
  return reshapeTensor(b, loc, one, RankedTensorType::get({}, elem));
}

struct LowerReduce : public AjitPattern<ReduceOp> {
  using AjitPattern::AjitPattern;
  LogicalResult matchAndRewrite(ReduceOp op, Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getX().getType());
    Type elem = in.getElementType();
    ArrayRef<int64_t> axes = op.getAxes();
    ReduceKind kind = op.getKind();
    // Reducing over no axes is the identity (ReduceOp::fold removes it in graph-opt; this
    // covers IR lowered without it). Emitting it as an all-parallel generic that reads
    // its init would let elementwise fusion fold the init into a consumer's loop and
    // accumulate across that loop's iterations.
    if (axes.empty()) {
      rewriter.replaceOp(op, reshapeTensor(rewriter, loc, adaptor.getX(), cast<RankedTensorType>(op.getType())));
      return success();
    }
    RankedTensorType accType = dropAxes(in, axes);
    Value result = laneReductions && readsWholeStoredArray(op) ? wholeArrayLaneReduction(rewriter, loc, adaptor.getX(), kind)
                                             : buildReduction(rewriter, loc, adaptor.getX(), axes, kind);
    if (kind == ReduceKind::mean) {
      int64_t count = 1;
      for (int64_t a : axes) count *= in.getDimSize(a);
      Value n = constantOf(rewriter, loc, elem, static_cast<double>(count));
      result = buildParallelGeneric(
          rewriter, loc, accType, result, rewriter.getMultiDimIdentityMap(accType.getRank()),
          [&](OpBuilder &b, Location l, ValueRange a) { return arith::DivFOp::create(b, l, a[0], n); });
    }
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, result, cast<RankedTensorType>(op.getType())));
    return success();
  }
};

/// Whether `x` replaces `best` in argmax (argmin): strictly greater (less), or the first
/// NaN (a NaN counts as the extreme, and the earliest one wins).
Value strictlyBetter(OpBuilder &b, Location loc, bool isMax, Value x, Value best) {
  if (!isFloat(getElementTypeOrSelf(x.getType())))
    return arith::CmpIOp::create(b, loc, isMax ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::slt, x, best);
  Value better = cmpf(b, loc, isMax ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, x, best);
  Value xNan = cmpf(b, loc, arith::CmpFPredicate::UNO, x, x);
  Value bestNumber = cmpf(b, loc, arith::CmpFPredicate::ORD, best, best);
  return arith::OrIOp::create(b, loc, better, arith::AndIOp::create(b, loc, xNan, bestNumber));
}

/// argmax/argmin as a lane reduction over (value, index) pairs. The combine rule is the
/// whole semantics: a NaN beats any number, a strictly better value wins, and of equal
/// values (or two NaNs) the smaller index wins. The identity carries the largest index,
/// so any element beats it, even an all -inf row's first. Within one lane positions only
/// grow, so `update` needs no tie rule.
LaneReduction argReduction(Type elem, Type indexType, bool isMax) {
  LaneReduction r;
  r.stateTypes = {elem, indexType};
  r.identity = [=](OpBuilder &b, Location loc, int64_t width) -> SmallVector<Value> {
    TypedAttr sentinel = b.getIntegerAttr(
        indexType, APInt::getSignedMaxValue(indexType.getIntOrFloatBitWidth()));
    return {laneConstant(b, loc, elem, reductionIdentity(b, isMax ? ReduceKind::max : ReduceKind::min, elem), width),
            laneConstant(b, loc, indexType, sentinel, width)};
  };
  r.combine = [=](OpBuilder &b, Location loc, ValueRange a, ValueRange c) -> SmallVector<Value> {
    Value av = a[0], ai = a[1], cv = c[0], ci = c[1];
    Value tie;
    if (isFloat(elem)) {
      Value bothNan = arith::AndIOp::create(b, loc, cmpf(b, loc, arith::CmpFPredicate::UNO, cv, cv),
                                            cmpf(b, loc, arith::CmpFPredicate::UNO, av, av));
      tie = arith::OrIOp::create(b, loc, cmpf(b, loc, arith::CmpFPredicate::OEQ, cv, av), bothNan);
    } else {
      tie = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, cv, av);
    }
    Value earlier = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, ci, ai);
    Value takeC = arith::OrIOp::create(b, loc, strictlyBetter(b, loc, isMax, cv, av),
                                       arith::AndIOp::create(b, loc, tie, earlier));
    return {arith::SelectOp::create(b, loc, takeC, cv, av), arith::SelectOp::create(b, loc, takeC, ci, ai)};
  };
  r.first = [](OpBuilder &, Location, Value x, Value index) -> SmallVector<Value> { return {x, index}; };
  r.update = [=](OpBuilder &b, Location loc, ValueRange state, Value x, Value index) -> SmallVector<Value> {
    Value better = strictlyBetter(b, loc, isMax, x, state[0]);
    return {arith::SelectOp::create(b, loc, better, x, state[0]),
            arith::SelectOp::create(b, loc, better, index, state[1])};
  };
  return r;
}

template <typename OpTy, bool isMax>
struct LowerArgReduce : public AjitPattern<OpTy> {
  using AjitPattern<OpTy>::AjitPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getX().getType());
    Type elem = in.getElementType();
    int64_t axis = op.getAxis();
    auto resultType = cast<RankedTensorType>(op.getType());
    // Along the contiguous innermost axis: explicit vector lanes (the loop vectorizer
    // cannot carry a value-index pair). Along an outer axis the generic below is fine:
    // its innermost loop is parallel and vectorizes.
    if (this->laneReductions && laneReductionApplies(in, axis)) {
      Type indexType = in.getShape()[axis] <= std::numeric_limits<int32_t>::max() ? rewriter.getI32Type()
                                                                                   : rewriter.getI64Type();
      SmallVector<Value> state = buildLaneReduction(rewriter, loc, adaptor.getX(),
                                                    argReduction(elem, indexType, isMax), indexType);
      auto narrow = cast<RankedTensorType>(state[1].getType());
      Value index = state[1];
      if (indexType != rewriter.getI64Type())
        index = buildParallelGeneric(
            rewriter, loc, RankedTensorType::get(narrow.getShape(), rewriter.getI64Type()), index,
            rewriter.getMultiDimIdentityMap(narrow.getRank()),
            [&](OpBuilder &b, Location l, ValueRange a) {
              return arith::ExtSIOp::create(b, l, b.getI64Type(), a[0]);
            });
      rewriter.replaceOp(op, reshapeTensor(rewriter, loc, index, resultType));
      return success();
    }
    RankedTensorType valType = dropAxes(in, {axis});
    auto idxType = RankedTensorType::get(valType.getShape(), rewriter.getI64Type());
    Value initVal = filledTensor(rewriter, loc, valType,
                                 reductionInit(rewriter, loc, isMax ? ReduceKind::max : ReduceKind::min, elem));
    Value initIdx = filledTensor(rewriter, loc, idxType, constantOf(rewriter, loc, rewriter.getI64Type(), 0));
    AffineMap outMap = reductionOutputMap(rewriter.getContext(), in.getRank(), {axis});
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(in.getRank()), outMap, outMap};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valType, idxType}, ValueRange{adaptor.getX()},
        ValueRange{initVal, initIdx}, maps, reductionIterators(in.getRank(), {axis}),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = a[0], best = a[1], bestIdx = a[2];
          Value idx = arith::IndexCastOp::create(b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
          // Strictly better keeps the first occurrence; the first element always wins, so
          // an all -inf row returns index 0.
          Value better = strictlyBetter(b, l, isMax, x, best);
          Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, idx,
                                              constantOf(b, l, b.getI64Type(), 0));
          better = arith::OrIOp::create(b, l, better, first);
          linalg::YieldOp::create(b, l, ValueRange{arith::SelectOp::create(b, l, better, x, best),
                                                   arith::SelectOp::create(b, l, better, idx, bestIdx)});
        });
    generic->setAttr(kArgReduceAttr, rewriter.getStringAttr(isMax ? "max" : "min"));
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, generic.getResult(1), resultType));
    return success();
  }
};

/// Online softmax statistics as a lane reduction over (max m, sum s of exp(x - m)).
/// A new element x with d = x - m costs one exp, exp(-|d|): below the running max it adds
/// exp(d) to s; above it, it rescales s by exp(-d) and adds exp(0) = 1. The special values
/// come out as in the two-pass definition: -inf elements add nothing (also while m is
/// still -inf), a NaN makes both NaN, and a +inf maximum makes s NaN (exp(inf - inf)).
LaneReduction softmaxStatsReduction(Type elem) {
  auto ft = cast<FloatType>(elem);
  auto c = [ft](OpBuilder &b, Location loc, double v, int64_t width) {
    return laneConstant(b, loc, ft, b.getFloatAttr(ft, v), width);
  };
  auto width = [](Value v) -> int64_t {
    auto vec = dyn_cast<VectorType>(v.getType());
    return vec ? vec.getNumElements() : 0;
  };
  auto negInf = -std::numeric_limits<double>::infinity();
  LaneReduction r;
  r.stateTypes = {elem, elem};
  r.identity = [=](OpBuilder &b, Location loc, int64_t w) -> SmallVector<Value> {
    return {c(b, loc, negInf, w), c(b, loc, 0, w)};
  };
  // exp(x - x): 1, or NaN for an infinite (or NaN) x.
  auto selfTerm = [=](OpBuilder &b, Location loc, Value x) -> Value {
    return arith::AddFOp::create(b, loc, arith::SubFOp::create(b, loc, x, x), c(b, loc, 1, width(x)));
  };
  auto isNegInf = [=](OpBuilder &b, Location loc, Value x) -> Value {
    return cmpf(b, loc, arith::CmpFPredicate::OEQ, x, c(b, loc, negInf, width(x)));
  };
  r.first = [=](OpBuilder &b, Location loc, Value x, Value) -> SmallVector<Value> {
    return {x, arith::SelectOp::create(b, loc, isNegInf(b, loc, x), c(b, loc, 0, width(x)), selfTerm(b, loc, x))};
  };
  r.update = [=](OpBuilder &b, Location loc, ValueRange state, Value x, Value) -> SmallVector<Value> {
    Value m = state[0], sum = state[1];
    int64_t w = width(x);
    Value d = arith::SubFOp::create(b, loc, x, m);
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, d)));
    Value grows = cmpf(b, loc, arith::CmpFPredicate::OGT, d, c(b, loc, 0, w));
    Value rescaled = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, sum, e), selfTerm(b, loc, x));
    Value added = arith::AddFOp::create(
        b, loc, sum, arith::SelectOp::create(b, loc, isNegInf(b, loc, x), c(b, loc, 0, w), e),
        arith::FastMathFlags::reassoc);
    return {emitMax(b, loc, m, x), arith::SelectOp::create(b, loc, grows, rescaled, added)};
  };
  r.combine = [=](OpBuilder &b, Location loc, ValueRange a, ValueRange o) -> SmallVector<Value> {
    Value m = emitMax(b, loc, a[0], o[0]);
    auto term = [&](Value mi, Value si) -> Value {
      Value scaled = arith::MulFOp::create(
          b, loc, si, math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, mi, m)));
      return arith::SelectOp::create(b, loc, isNegInf(b, loc, mi), c(b, loc, 0, width(mi)), scaled);
    };
    return {m, arith::AddFOp::create(b, loc, term(a[0], a[1]), term(o[0], o[1]))};
  };
  return r;
}

struct LowerSoftmaxStats : public AjitPattern<SoftmaxStatsOp> {
  using AjitPattern::AjitPattern;
  LogicalResult matchAndRewrite(SoftmaxStatsOp op, Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getX().getType());
    auto resultType = cast<RankedTensorType>(op.getMax().getType());
    Type elem = in.getElementType();
    int64_t axis = op.getAxis();
    Value x = adaptor.getX();
    SmallVector<Value> stats;
    if (laneReductions && laneReductionApplies(in, axis)) {
      stats = buildLaneReduction(rewriter, loc, x, softmaxStatsReduction(elem), rewriter.getI32Type());
    } else {
      // Elsewhere two reductions: the max, then the sum of exp(x - max).
      RankedTensorType accType = dropAxes(in, {axis});
      AffineMap all = rewriter.getMultiDimIdentityMap(in.getRank());
      AffineMap row = reductionOutputMap(getContext(), in.getRank(), {axis});
      auto iters = reductionIterators(in.getRank(), {axis});
      Value m = buildReduction(rewriter, loc, x, {axis}, ReduceKind::max);
      Value sumInit = filledTensor(rewriter, loc, accType, constantOf(rewriter, loc, elem, 0));
      Value sum = linalg::GenericOp::create(
                      rewriter, loc, TypeRange{accType}, ValueRange{x, m}, ValueRange{sumInit},
                      ArrayRef<AffineMap>{all, row, row}, iters,
                      [&](OpBuilder &b, Location l, ValueRange a) {
                        Value e = math::ExpOp::create(b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                        Value acc = arith::AddFOp::create(b, l, a[2], e, arith::FastMathFlags::reassoc);
                        linalg::YieldOp::create(b, l, acc);
                      })
                      .getResult(0);
      stats = {m, sum};
    }
    rewriter.replaceOp(op, ValueRange{reshapeTensor(rewriter, loc, stats[0], resultType),
                                      reshapeTensor(rewriter, loc, stats[1], resultType)});
    return success();
  }
};

struct LowerDot : public AjitPattern<DotOp> {
  using AjitPattern::AjitPattern;
  LogicalResult matchAndRewrite(DotOp op, Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto out = cast<RankedTensorType>(op.getType());
    Type elem = out.getElementType();
    MLIRContext *ctx = rewriter.getContext();
    bool batched = out.getRank() == 3;
    // Iteration order ([b,] m, k, n): the innermost loop is over n, contiguous in rhs and
    // in the output, which the loop vectorizer turns into broadcast-FMA on full vectors.
    int64_t nd = batched ? 4 : 3;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    int64_t o = batched ? 1 : 0;
    SmallVector<AffineExpr> lhs, rhs, res;
    if (batched) lhs = {d(0)}, rhs = {d(0)}, res = {d(0)};
    lhs.append({d(o), d(o + 1)});
    rhs.append({d(o + 1), d(o + 2)});
    res.append({d(o), d(o + 2)});
    SmallVector<AffineMap> maps = {AffineMap::get(nd, 0, lhs, ctx), AffineMap::get(nd, 0, rhs, ctx),
                                   AffineMap::get(nd, 0, res, ctx)};
    auto iters = parallel(nd);
    iters[o + 1] = utils::IteratorType::reduction;
    Value init = filledTensor(rewriter, loc, out, constantOf(rewriter, loc, elem, 0));
    // Each product's zero init is its own: CSE would otherwise merge the inits of equal
    // shapes (the layers of an MLP), and bufferization then copy the shared zeros into
    // all but one product, a copy ajit-tile-matmuls cannot see through.
    init.getDefiningOp()->setAttr("ajit.product_init", rewriter.getI64IntegerAttr(nextInit_++));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{out}, ValueRange{adaptor.getLhs(), adaptor.getRhs()},
        ValueRange{init}, maps, iters, [&](OpBuilder &b, Location l, ValueRange a) {
          Value r;
          if (isFloat(elem))
            r = arith::AddFOp::create(b, l, a[2], arith::MulFOp::create(b, l, a[0], a[1]),
                                      arith::FastMathFlags::contract);
          else
            r = arith::AddIOp::create(b, l, a[2], arith::MulIOp::create(b, l, a[0], a[1]));
          linalg::YieldOp::create(b, l, r);
        });
    // ajit-tile-matmuls finds the product by this mark once it is on buffers.
    generic->setAttr(kMatmulAttr, rewriter.getUnitAttr());
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

private:
  mutable int64_t nextInit_ = 0;
};

struct LowerToLinalgPass : public ajit::impl::AjitLowerToLinalgBase<LowerToLinalgPass> {
  using AjitLowerToLinalgBase::AjitLowerToLinalgBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<AjitDialect>();
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
                           math::MathDialect, func::FuncDialect, scf::SCFDialect,
                           vector::VectorDialect>();
    // Fusion regions stay; their ops are lowered in place and fused by ajit-lower-fusions.
    target.addLegalOp<FusionOp, YieldOp>();
    RewritePatternSet patterns(ctx);
    patterns.add<LowerElementwise>(ctx);
    patterns.add<LowerConstant, LowerBroadcastInDim, LowerTranspose,
                 LowerReshape, LowerReduce, LowerArgReduce<ArgMaxOp, true>,
                 LowerArgReduce<ArgMinOp, false>, LowerSoftmaxStats, LowerDot>(ctx, bool(laneReductions));
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
