//===- ParallelizeOuterLoops.cpp - split large loop nests across threads ---===//
//
// Runs on the scf.parallel nests that convert-linalg-to-parallel-loops makes, one per
// fused kernel. A nest whose work (iterations of the whole nest times the cost of one
// iteration, counted in simple arithmetic ops: see opCost) reaches `min-work` keeps
// its outermost parallel dimension as a one-dimensional scf.parallel (convert-scf-to-openmp
// later splits it statically across the worker threads, each taking one contiguous
// chunk); every other dimension becomes a sequential scf.for inside it, so the innermost
// loop stays a plain loop for LLVM's vectorizer. Smaller nests become sequential loops
// entirely: below the threshold, waking the workers costs more than the loop.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/LoopBounds.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"

namespace ajit {
#define GEN_PASS_DEF_AJITPARALLELIZEOUTERLOOPS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

/// Constant trip count of a loop dimension, or 0 when it is not constant.
int64_t tripCount(Value lb, Value ub, Value step) { return ajit::constantTripCount(lb, ub, step).value_or(0); }

/// Cost of one op in units of a simple arithmetic op. Transcendentals become polynomial
/// approximations of about twenty vector instructions (ajit-approximate-math); division
/// and square root have several times an add's throughput cost. Each element loaded or
/// stored costs one: a memory-bound loop (an add reads two and writes one per element)
/// needs more elements than its arithmetic alone suggests before a second thread pays
/// off. Index arithmetic counts nothing. An op on a vector (explicit vector loops,
/// LaneReduction.h) costs once per lane.
int64_t opCost(Operation &op) {
  auto lanesOf = [](Type type) -> int64_t {
    auto vec = dyn_cast<VectorType>(type);
    return vec ? vec.getNumElements() : 1;
  };
  if (isa<memref::StoreOp>(op)) return 1;
  if (auto write = dyn_cast<vector::TransferWriteOp>(op)) return lanesOf(write.getVector().getType());
  if (op.getNumResults() != 1) return 0;
  Type type = op.getResult(0).getType();
  int64_t lanes = lanesOf(type);
  if (isa<memref::LoadOp, vector::TransferReadOp>(op)) return lanes;
  Dialect *dialect = op.getDialect();
  StringRef ns = dialect ? dialect->getNamespace() : "";
  if (ns == "math") return lanes * (isa<math::SqrtOp, math::AbsFOp, math::FmaOp>(op) ? 4 : 16);
  if (isa<arith::DivFOp, arith::RemFOp, arith::DivSIOp, arith::RemSIOp>(op)) return lanes * 4;
  if (ns == "arith" && !isa<arith::ConstantOp, arith::IndexCastOp>(op) && !type.isIndex())
    return lanes;
  return 0;
}

/// Work inside `region`: per op its cost, per sequential loop its trip count times the
/// work of its body (at least 1 per iteration).
int64_t innerWork(Region &region) {
  int64_t work = 0;
  for (Operation &op : region.getOps()) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      int64_t n = tripCount(loop.getLowerBound(), loop.getUpperBound(), loop.getStep());
      work += n * innerWork(loop.getRegion());
    } else {
      work += opCost(op);
    }
  }
  return std::max<int64_t>(work, 1);
}

/// Rebuilds `par` with its first `keepParallel` (0 or 1) dimensions parallel and the rest
/// as nested scf.for loops around its body.
void rebuild(scf::ParallelOp par, unsigned keepParallel) {
  OpBuilder b(par);
  Location loc = par.getLoc();
  IRMapping map;
  auto lbs = par.getLowerBound(), ubs = par.getUpperBound(), steps = par.getStep();
  unsigned rank = par.getNumLoops();
  if (keepParallel == 1) {
    auto outer = scf::ParallelOp::create(b, loc, ValueRange{lbs[0]}, ValueRange{ubs[0]},
                                         ValueRange{steps[0]});
    map.map(par.getInductionVars()[0], outer.getInductionVars()[0]);
    b.setInsertionPointToStart(outer.getBody());
  }
  for (unsigned d = keepParallel; d < rank; ++d) {
    auto loop = scf::ForOp::create(b, loc, lbs[d], ubs[d], steps[d]);
    map.map(par.getInductionVars()[d], loop.getInductionVar());
    b.setInsertionPointToStart(loop.getBody());
  }
  for (Operation &op : par.getBody()->without_terminator()) b.clone(op, map);
  par.erase();
}

struct ParallelizeOuterLoopsPass
    : public ajit::impl::AjitParallelizeOuterLoopsBase<ParallelizeOuterLoopsPass> {
  using AjitParallelizeOuterLoopsBase::AjitParallelizeOuterLoopsBase;

  void runOnOperation() override {
    // One level of parallelism: loops nested in a parallel loop (a matmul's n inside its
    // k loop inside m) run sequentially.
    SmallVector<scf::ParallelOp> nests, nested;
    getOperation().walk([&](scf::ParallelOp par) {
      (par->getParentOfType<scf::ParallelOp>() ? nested : nests).push_back(par);
    });
    for (scf::ParallelOp par : nested) // post-order: innermost first
      if (par.getNumReductions() == 0) rebuild(par, 0);
    for (scf::ParallelOp par : nests) {
      if (par.getNumReductions() != 0) continue; // not made by linalg lowering
      if (par->hasAttr(ajit::kTileLoopAttr)) continue;
      SmallVector<int64_t> trips;
      for (unsigned d = 0; d < par.getNumLoops(); ++d)
        trips.push_back(tripCount(par.getLowerBound()[d], par.getUpperBound()[d], par.getStep()[d]));
      int64_t outer = trips[0], work = innerWork(par.getRegion());
      for (int64_t n : trips) work *= n;
      bool parallel = minWork > 0 && work >= minWork && outer >= 2;
      if (parallel && par.getNumLoops() == 1) continue;
      rebuild(par, parallel ? 1 : 0);
    }
  }
};

} // namespace
