//===- LoopHints.cpp - interleave long floating-point loops ----------------===//
//
// A fused elementwise loop such as exp(-x/10) * sin(x) is one dependency chain of about
// seventy vector instructions per iteration. LLVM's loop vectorizer interleaves only
// loops it considers small, so it emits one chain per iteration, and the out-of-order
// core, whose scheduler holds only a few such iterations, waits on latencies: exp ran at
// about one instruction per cycle. Interleaved iterations give it independent work next
// to each other in the instruction stream.
//
// Memory-bound loops (a few operations per element) keep the vectorizer's own choice,
// and loops that ajit already wrote with vector types (lane reductions) are left alone:
// the vectorizer does not touch them.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/LoopHints.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/LoopUtils.h"

#include <optional>

namespace ajit {
namespace {

/// Floating-point operations in a body at least this long make a loop latency-bound:
/// exp alone has about 22, sin about 30; an add or a scaled sum a handful.
constexpr unsigned kMinFloatOps = 16;

/// The vector iterations run side by side. Measured at N = 10K on one thread (µs per call,
/// no hint -> 2 -> 4): exp 11.7 -> 8.3 -> 8.0, exp(-x/10)*sin(x) 22.0 -> 20.1 -> 17.9,
/// x*sigmoid(x) 13.8 -> 12.6 -> 10.6; at 1M with 4: 671 -> 603, 1577 -> 1533, 974 -> 885.
constexpr unsigned kInterleave = 4;

/// Scalar floating-point operations in the loop; nullopt when the loop has vector code.
std::optional<unsigned> floatOps(const llvm::Loop &loop) {
  unsigned count = 0;
  for (llvm::BasicBlock *block : loop.blocks())
    for (llvm::Instruction &inst : *block) {
      llvm::Type *type = inst.getType();
      if (type->isVectorTy()) return std::nullopt;
      if (type->isFloatingPointTy() || llvm::isa<llvm::FCmpInst>(inst))
        ++count;
    }
  return count;
}

} // namespace

unsigned hintInterleaveForLongFloatLoops(llvm::Module &module) {
  unsigned marked = 0;
  for (llvm::Function &fn : module) {
    if (fn.isDeclaration()) continue;
    llvm::DominatorTree dominators(fn);
    llvm::LoopInfo loops(dominators);
    for (llvm::Loop *loop : loops.getLoopsInPreorder()) {
      if (!loop->isInnermost() || loop->getLoopID()) continue;
      std::optional<unsigned> ops = floatOps(*loop);
      if (!ops || *ops < kMinFloatOps) continue;
      llvm::addStringMetadataToLoop(loop, "llvm.loop.interleave.count", kInterleave);
      ++marked;
    }
  }
  return marked;
}

} // namespace ajit
