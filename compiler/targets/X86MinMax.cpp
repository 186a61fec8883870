//===- X86MinMax.cpp - NaN-propagating vector min/max with AVX-512 VRANGE ---===//
//
// `llvm.maximum(a, b)` (arith.maximumf: NaN if either is NaN, +0 above -0) has no x86
// instruction before AVX10.2. LLVM's generic lowering orders the operands by sign
// (vpmovd2m and two blends, so that vmaxps sees -0 first), takes vmaxps, and patches NaNs
// (vcmpunordps and a blend): six instructions, four of them on the shuffle/blend ports,
// on the loop-carried chain of every max reduction. W2's max of 100K floats ran at three
// cycles a vector, slower than NumPy.
//
// VRANGEPS with imm 5 (max, sign from the comparison) is max with -0 < +0 in one
// instruction, but it returns the other operand where one is NaN (checked on this
// machine: vrange(NaN, 1) = 1). So:
//   r = vrange(a, b); uno = fcmp uno a, b; result = select(uno, a + b, r)
// where a + b is a quiet NaN whenever either is NaN. The select of an add becomes a
// masked vaddps: three instructions instead of six, and with `nnan` the range alone.
// Calls with a constant operand stay LLVM's, which has cheaper forms for them.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/X86MinMax.h"

#include "llvm/Analysis/VectorUtils.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/Module.h"

#include <algorithm>

namespace ajit {
namespace {

/// The VRANGE intrinsic for `type` (a legal 128/256/512-bit vector), or none.
llvm::Intrinsic::ID rangeIntrinsic(llvm::FixedVectorType *type, bool hasVL) {
  bool f32 = type->getElementType()->isFloatTy();
  switch (type->getPrimitiveSizeInBits().getFixedValue()) {
  case 512: return f32 ? llvm::Intrinsic::x86_avx512_mask_range_ps_512 : llvm::Intrinsic::x86_avx512_mask_range_pd_512;
  case 256:
    if (hasVL) return f32 ? llvm::Intrinsic::x86_avx512_mask_range_ps_256 : llvm::Intrinsic::x86_avx512_mask_range_pd_256;
    break;
  case 128:
    if (hasVL) return f32 ? llvm::Intrinsic::x86_avx512_mask_range_ps_128 : llvm::Intrinsic::x86_avx512_mask_range_pd_128;
    break;
  }
  return llvm::Intrinsic::not_intrinsic;
}

/// max or min of `a` and `b` (a legal vector type) with VRANGE, NaNs fixed up unless `noNaNs`.
llvm::Value *range(llvm::IRBuilder<> &b, llvm::Intrinsic::ID id, bool isMax, bool noNaNs, llvm::Value *x,
                   llvm::Value *y) {
  auto *type = llvm::cast<llvm::FixedVectorType>(x->getType());
  unsigned lanes = type->getNumElements();
  // imm8: bits 1:0 select min (00) or max (01); bits 3:2 = 01 take the sign from the
  // comparison, which orders -0 below +0.
  llvm::SmallVector<llvm::Value *, 6> args = {x, y, b.getInt32(isMax ? 5 : 4), llvm::PoisonValue::get(type),
                                              b.getIntN(std::max(lanes, 8u), -1)};
  if (type->getPrimitiveSizeInBits().getFixedValue() == 512) args.push_back(b.getInt32(4)); // current rounding
  llvm::Value *r = b.CreateIntrinsic(id, {}, args);
  if (noNaNs) return r;
  return b.CreateSelect(b.CreateFCmpUNO(x, y), b.CreateFAdd(x, y), r);
}

bool rewrite(llvm::IntrinsicInst *call, bool hasVL) {
  bool isMax = call->getIntrinsicID() == llvm::Intrinsic::maximum;
  auto *type = llvm::dyn_cast<llvm::FixedVectorType>(call->getType());
  if (!type || !(type->getElementType()->isFloatTy() || type->getElementType()->isDoubleTy())) return false;
  // Against a constant LLVM does as well or better: a clamp to a nonzero bound (sin's
  // reduced argument to [-1, 1]) is one vmaxps, max(x, 0) three instructions.
  if (llvm::isa<llvm::Constant>(call->getArgOperand(0)) || llvm::isa<llvm::Constant>(call->getArgOperand(1)))
    return false;
  unsigned bits = type->getPrimitiveSizeInBits().getFixedValue();
  // Whole 512-bit parts, or one legal narrower vector.
  unsigned partBits = bits >= 512 ? 512 : bits;
  if (bits % partBits) return false;
  unsigned partLanes = partBits / type->getScalarSizeInBits();
  auto *partType = llvm::FixedVectorType::get(type->getElementType(), partLanes);
  llvm::Intrinsic::ID id = rangeIntrinsic(partType, hasVL);
  if (id == llvm::Intrinsic::not_intrinsic) return false;

  llvm::IRBuilder<> b(call);
  b.setFastMathFlags(call->getFastMathFlags());
  bool noNaNs = call->hasNoNaNs();
  llvm::Value *x = call->getArgOperand(0), *y = call->getArgOperand(1);
  unsigned parts = type->getNumElements() / partLanes;
  llvm::SmallVector<llvm::Value *> pieces;
  for (unsigned p = 0; p < parts; ++p) {
    auto part = [&](llvm::Value *v) {
      return parts == 1 ? v : b.CreateShuffleVector(v, llvm::createSequentialMask(p * partLanes, partLanes, 0));
    };
    pieces.push_back(range(b, id, isMax, noNaNs, part(x), part(y)));
  }
  call->replaceAllUsesWith(parts == 1 ? pieces[0] : llvm::concatenateVectors(b, pieces));
  call->eraseFromParent();
  return true;
}

} // namespace

unsigned lowerVectorMinMaxToRange(llvm::Module &module, bool hasVL) {
  llvm::SmallVector<llvm::IntrinsicInst *> calls;
  for (llvm::Function &fn : module)
    for (llvm::Instruction &inst : llvm::instructions(fn))
      if (auto *call = llvm::dyn_cast<llvm::IntrinsicInst>(&inst))
        if (call->getIntrinsicID() == llvm::Intrinsic::maximum || call->getIntrinsicID() == llvm::Intrinsic::minimum)
          calls.push_back(call);
  unsigned rewritten = 0;
  for (llvm::IntrinsicInst *call : calls) rewritten += rewrite(call, hasVL);
  return rewritten;
}

} // namespace ajit
