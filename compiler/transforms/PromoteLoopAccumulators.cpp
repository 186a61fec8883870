//===- PromoteLoopAccumulators.cpp - reduction accumulators into registers -===//
//
// convert-linalg-to-loops writes a reduction as `acc[i] = f(acc[i], ...)`: a load and a
// store of the same element on every iteration of the inner loop. LLVM keeps such an
// accumulator in a register (and then vectorizes the loop) only when it can prove that
// no other access in the loop touches acc[i]. Once convert-scf-to-openmp has moved the
// loop into an outlined function, every buffer arrives through the capture struct
// without aliasing information, and a kernel that also stores per element (softmax's
// exp values beside their sum) stays a scalar loop: 100K elements in 1.9 ms instead of
// 50 us.
//
// Here, where the buffers are still distinct memref.alloc results and function
// arguments, the accumulator becomes an scf.for iter_arg: loaded once before the loop,
// stored once after it. Applies to a load and a later store of the same memref at the
// same loop-invariant indices, both directly in the body of an scf.for with a constant,
// positive trip count (so the store after the loop happens only where the loop would
// have stored), where every other memory access in the loop provably touches another
// buffer (MLIR's LocalAliasAnalysis) and no op in the loop has effects it cannot name.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/LoopBounds.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Analysis/AliasAnalysis/LocalAliasAnalysis.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace ajit {
#define GEN_PASS_DEF_AJITPROMOTELOOPACCUMULATORS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

/// The memrefs that `loop`'s body reads or writes (nested ops included), or none when
/// an op has effects that do not name their buffer (a call, an op without the effect
/// interface that is not pure).
std::optional<SmallVector<Value>> accessedBuffers(scf::ForOp loop) {
  SmallVector<Value> buffers;
  bool known = true;
  loop.getBody()->walk([&](Operation *op) {
    if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>()) return WalkResult::advance();
    auto effecting = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effecting) {
      known = isPure(op);
      return known ? WalkResult::advance() : WalkResult::interrupt();
    }
    SmallVector<MemoryEffects::EffectInstance> effects;
    effecting.getEffects(effects);
    for (auto &effect : effects) {
      Value buffer = effect.getValue();
      if (!buffer) {
        known = false;
        return WalkResult::interrupt();
      }
      buffers.push_back(buffer);
    }
    return WalkResult::advance();
  });
  if (!known) return std::nullopt;
  return buffers;
}

/// A load and a later store in `loop`'s body of one element of one buffer, which nothing
/// else in the loop may touch.
struct Accumulator {
  memref::LoadOp load;
  memref::StoreOp store;
};

std::optional<Accumulator> findAccumulator(scf::ForOp loop, LocalAliasAnalysis &aliases) {
  auto trips = ajit::constantTripCount(loop.getLowerBound(), loop.getUpperBound(), loop.getStep());
  if (!trips || *trips == 0) return std::nullopt;
  std::optional<SmallVector<Value>> buffers = accessedBuffers(loop);
  if (!buffers) return std::nullopt;
  for (auto store : loop.getBody()->getOps<memref::StoreOp>()) {
    Value buffer = store.getMemRef();
    if (!loop.isDefinedOutsideOfLoop(buffer) ||
        !llvm::all_of(store.getIndices(), [&](Value i) { return loop.isDefinedOutsideOfLoop(i); }))
      continue;
    memref::LoadOp load;
    for (auto candidate : loop.getBody()->getOps<memref::LoadOp>())
      if (candidate.getMemRef() == buffer && candidate.getIndices() == store.getIndices() &&
          candidate->isBeforeInBlock(store))
        load = candidate;
    if (!load) continue;
    // Exactly these two accesses reach the buffer; every other one provably misses it.
    int same = 0;
    bool alone = llvm::all_of(*buffers, [&](Value other) {
      if (other == buffer) return ++same <= 2;
      return aliases.alias(buffer, other).isNo();
    });
    if (alone && same == 2) return Accumulator{load, store};
  }
  return std::nullopt;
}

/// Carries the accumulator through the loop's iter_args: loaded before, stored after.
/// Returns the loop that replaces `loop`.
scf::ForOp promote(scf::ForOp loop, Accumulator acc) {
  IRRewriter rewriter(loop);
  Value initial = memref::LoadOp::create(rewriter, acc.load.getLoc(), acc.load.getMemRef(), acc.load.getIndices());
  Value stored = acc.store.getValueToStore();
  auto grown = loop.replaceWithAdditionalYields(
      rewriter, ValueRange{initial}, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument>) { return SmallVector<Value>{stored}; });
  auto newLoop = cast<scf::ForOp>(grown->getOperation());
  rewriter.replaceAllUsesWith(acc.load.getResult(), newLoop.getRegionIterArgs().back());
  rewriter.setInsertionPointAfter(newLoop);
  memref::StoreOp::create(rewriter, acc.store.getLoc(), newLoop.getResults().back(), acc.store.getMemRef(),
                          acc.store.getIndices());
  rewriter.eraseOp(acc.store);
  rewriter.eraseOp(acc.load);
  return newLoop;
}

struct PromoteLoopAccumulatorsPass
    : public ajit::impl::AjitPromoteLoopAccumulatorsBase<PromoteLoopAccumulatorsPass> {
  void runOnOperation() override {
    LocalAliasAnalysis aliases;
    // Inner loops first (post-order), so an outer loop sees its inner loops' promoted
    // loads and stores.
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      while (std::optional<Accumulator> acc = findAccumulator(loop, aliases)) loop = promote(loop, *acc);
  }
};

} // namespace
