//===- MapToGpu.cpp - kernels on buffers as gpu.launch regions ------------===//
//
// The PTX target's counterpart of convert-linalg-to-parallel-loops +
// ajit-parallelize-outer-loops: after bufferization every kernel of a function (one
// linalg op, or a copy) becomes a loop nest, and every top-level loop nest its own
// gpu.launch. A parallel nest is flattened to one linear index, the innermost dimension
// fastest, so that consecutive threads of a warp touch consecutive elements (coalesced
// loads and stores); reduction dimensions are moved inside, each thread looping over
// them for its own output element. This is the first cut of the GPU backend: one thread
// per output element, no shared-memory tiling and no block reductions (a whole-array
// reduction runs in one thread), which DESIGN.md leaves for later.
//
// What stays in the function after this pass is allocations, deallocations and
// launches; gpu-kernel-outlining then moves each launch body into a gpu.func, and the
// PTX target reads the host function as a thunk sequence (runtime/GpuProgram.h).
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/LoopBounds.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace ajit {
#define GEN_PASS_DEF_AJITMAPTOGPU
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

/// Reorders a generic's loops so that its parallel dimensions come first: the parallel
/// loop nest is then the outermost and maps onto threads, the reductions loop inside.
LogicalResult parallelDimsFirst(RewriterBase &rewriter, linalg::GenericOp op) {
  SmallVector<unsigned> order;
  auto iterators = op.getIteratorTypesArray();
  for (unsigned pass = 0; pass < 2; ++pass)
    for (unsigned d = 0; d < iterators.size(); ++d)
      if ((iterators[d] == utils::IteratorType::parallel) == (pass == 0)) order.push_back(d);
  bool identity = true;
  for (unsigned d = 0; d < order.size(); ++d) identity &= order[d] == d;
  if (identity) return success();
  rewriter.setInsertionPoint(op);
  return linalg::interchangeGenericOp(rewriter, op, order);
}

/// Replaces each scf.parallel inside `root` by a nest of scf.for: inside a thread the
/// inner parallel dimensions run sequentially.
void serializeInnerParallelLoops(Operation *root) {
  SmallVector<scf::ParallelOp> loops;
  root->walk([&](scf::ParallelOp p) { loops.push_back(p); }); // post-order: inner first
  for (scf::ParallelOp p : loops) {
    OpBuilder b(p);
    IRMapping map;
    Block *body = nullptr;
    for (auto [lb, ub, step, iv] :
         llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep(), p.getInductionVars())) {
      auto loop = scf::ForOp::create(b, p.getLoc(), lb, ub, step);
      map.map(iv, loop.getInductionVar());
      body = loop.getBody();
      b.setInsertionPointToStart(body);
    }
    for (Operation &op : p.getBody()->without_terminator()) b.clone(op, map);
    p.erase();
  }
}

struct MapToGpuPass : public ajit::impl::AjitMapToGpuBase<MapToGpuPass> {
  using AjitMapToGpuBase::AjitMapToGpuBase;
  int64_t kernelCount_ = 0;

  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal()) continue;
      kernelCount_ = 0;
      if (failed(loopsFromLinalg(fn)) || failed(wrapInLaunches(fn))) return signalPassFailure();
    }
  }

  /// Every linalg op (and memref.copy, as linalg.copy) of `fn` as a parallel loop nest.
  LogicalResult loopsFromLinalg(func::FuncOp fn) {
    IRRewriter rewriter(fn.getContext());
    SmallVector<memref::CopyOp> copies(fn.getOps<memref::CopyOp>());
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(), copy.getTarget());
      rewriter.eraseOp(copy);
    }
    SmallVector<linalg::LinalgOp> ops;
    fn.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    for (linalg::LinalgOp op : ops) {
      if (!op.hasPureBufferSemantics())
        return op->emitError("ajit-map-to-gpu: expected a linalg op on buffers (run bufferization first)");
      if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
        if (failed(parallelDimsFirst(rewriter, generic)))
          return op->emitError("ajit-map-to-gpu: cannot move the parallel dimensions outward");
    }
    ops.clear();
    fn.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      if (failed(linalg::linalgOpToParallelLoops(rewriter, op)))
        return op->emitError("ajit-map-to-gpu: cannot lower to loops");
      rewriter.eraseOp(op);
    }
    // Loops of 0-d ops load operands their bodies never read; a dead load left at the top
    // level would otherwise become an empty kernel launch.
    for (Block &block : fn.getBody())
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
        if (isOpTriviallyDead(&op)) op.erase();
    return success();
  }

  /// Ops that stay on the host: buffer management and side-effect-free values (views,
  /// constants, index arithmetic; cloned into the kernels that use them).
  static bool staysOnHost(Operation &op) {
    if (isa<memref::AllocOp, memref::DeallocOp, func::ReturnOp, gpu::LaunchOp>(op)) return true;
    return op.getNumRegions() == 0 && isMemoryEffectFree(&op);
  }

  LogicalResult wrapInLaunches(func::FuncOp fn) {
    if (!fn.getBody().hasOneBlock())
      return fn.emitError("ajit-map-to-gpu: expected straight-line host code (one block)");
    Block &entry = fn.getBody().front();
    SmallVector<Operation *> ops = llvm::to_vector(llvm::make_pointer_range(entry));
    llvm::DenseMap<Operation *, size_t> position;
    for (size_t i = 0; i < ops.size(); ++i) position[ops[i]] = i;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (staysOnHost(*ops[i])) continue;
      // A kernel is this op and every later op that uses what it computes (a 0-d
      // linalg op becomes loads, arithmetic and a store with no loop around them).
      size_t last = i;
      for (size_t k = i; k <= last; ++k) {
        if (isa<memref::AllocOp, memref::DeallocOp, func::ReturnOp>(ops[k])) continue;
        for (Operation *user : ops[k]->getUsers())
          if (Operation *top = entry.findAncestorOpInBlock(*user)) last = std::max(last, position[top]);
      }
      SmallVector<Operation *> group;
      for (size_t k = i; k <= last; ++k)
        if (!isa<memref::AllocOp, memref::DeallocOp, func::ReturnOp, gpu::LaunchOp>(ops[k])) group.push_back(ops[k]);
      if (isa<func::ReturnOp>(ops[last]))
        return ops[i]->emitError("ajit-map-to-gpu: a value computed on the device is returned to the host");
      // Allocations inside the range move before the launch: they take no operands.
      for (size_t k = i; k <= last; ++k)
        if (isa<memref::AllocOp>(ops[k])) ops[k]->moveBefore(ops[i]);
      if (failed(wrap(group, entry, fn.getSymName()))) return failure();
      i = last;
    }
    return success();
  }

  /// Moves `group` (top-level work of the host function, in order) into a gpu.launch of
  /// its own: a lone scf.parallel over one thread per iteration, anything else on one
  /// thread.
  LogicalResult wrap(ArrayRef<Operation *> group, Block &entry, StringRef fnName) {
    Operation *op = group.front();
    Location loc = op->getLoc();
    auto parallel = group.size() == 1 ? dyn_cast<scf::ParallelOp>(op) : scf::ParallelOp();
    if (parallel && parallel.getNumResults())
      return op->emitError("ajit-map-to-gpu: a parallel loop with reductions");
    SmallVector<int64_t> counts;
    int64_t total = 1;
    if (parallel) {
      for (auto [lb, ub, step] : llvm::zip(parallel.getLowerBound(), parallel.getUpperBound(), parallel.getStep())) {
        std::optional<int64_t> n = ajit::constantTripCount(lb, ub, step);
        if (!n) return op->emitError("ajit-map-to-gpu: a parallel loop with non-constant bounds");
        counts.push_back(*n);
        total *= *n;
      }
      if (total == 0) { // an empty array: nothing to launch
        op->erase();
        return success();
      }
    }
    int64_t block = parallel ? std::min<int64_t>(blockSize, llvm::alignTo(total, 32)) : 1;
    int64_t grid = parallel ? llvm::divideCeil(total, block) : 1;
    if (grid > std::numeric_limits<int32_t>::max())
      return op->emitError("ajit-map-to-gpu: ") << total << " threads exceed the grid's limit";

    OpBuilder b(op);
    auto cst = [&](OpBuilder &ob, int64_t v) { return arith::ConstantIndexOp::create(ob, loc, v).getResult(); };
    Value one = cst(b, 1);
    auto launch = gpu::LaunchOp::create(b, loc, cst(b, grid), one, one, cst(b, block), one, one);
    // All kernels of a function in one gpu.module: one PTX module to load per program.
    launch.setModuleAttr(FlatSymbolRefAttr::get(b.getStringAttr(fnName + "_kernels")));
    launch.setFunctionAttr(FlatSymbolRefAttr::get(b.getStringAttr(fnName + "_k" + std::to_string(kernelCount_++))));
    Block &body = launch.getBody().front();
    OpBuilder kb = OpBuilder::atBlockBegin(&body);
    gpu::TerminatorOp::create(kb, loc);
    kb.setInsertionPointToStart(&body);

    // Values the work reads from the host function: whole buffers are passed to the
    // kernel as they are; views and constants are recomputed inside it.
    IRMapping map;
    llvm::SmallPtrSet<Operation *, 8> inGroup(group.begin(), group.end());
    std::function<LogicalResult(Value)> materialize = [&](Value v) -> LogicalResult {
      Operation *def = v.getDefiningOp();
      if (!def || def->getBlock() != &entry || map.contains(v) || isa<memref::AllocOp>(def) || inGroup.contains(def))
        return success();
      if (!staysOnHost(*def) || isa<gpu::LaunchOp>(def))
        return op->emitError("ajit-map-to-gpu: reads a value computed by another kernel");
      for (Value operand : def->getOperands())
        if (failed(materialize(operand))) return failure();
      kb.clone(*def, map);
      return success();
    };
    for (Operation *member : group) {
      WalkResult walked = member->walk([&](Operation *inner) {
        for (Value v : inner->getOperands())
          if (failed(materialize(v))) return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (walked.wasInterrupted()) return failure();
    }

    if (parallel) {
      // linear = blockIdx.x * block + threadIdx.x; the last block's extra threads idle.
      Value linear = arith::AddIOp::create(
          kb, loc, arith::MulIOp::create(kb, loc, launch.getBlockIds().x, cst(kb, block)),
          launch.getThreadIds().x);
      Value inRange = arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::ult, linear, cst(kb, total));
      auto guard = scf::IfOp::create(kb, loc, inRange, /*withElseRegion=*/false);
      OpBuilder tb = guard.getThenBodyBuilder();
      // Delinearize, innermost dimension fastest.
      Value rest = linear;
      for (int64_t d = static_cast<int64_t>(counts.size()) - 1; d >= 0; --d) {
        Value index = d == 0 ? rest : arith::RemUIOp::create(tb, loc, rest, cst(tb, counts[d])).getResult();
        if (d > 0) rest = arith::DivUIOp::create(tb, loc, rest, cst(tb, counts[d]));
        Value lb = map.lookupOrDefault(parallel.getLowerBound()[d]);
        Value step = map.lookupOrDefault(parallel.getStep()[d]);
        Value iv = arith::AddIOp::create(tb, loc, lb, arith::MulIOp::create(tb, loc, index, step));
        map.map(parallel.getInductionVars()[d], iv);
      }
      for (Operation &inner : parallel.getBody()->without_terminator()) tb.clone(inner, map);
    } else {
      for (Operation *member : group) kb.clone(*member, map);
    }
    // Pure ops of the range that later kernels also read stay; they clone them too.
    for (Operation *member : llvm::reverse(group))
      if (member->use_empty()) member->erase();
    serializeInnerParallelLoops(launch);
    return success();
  }
};

} // namespace
