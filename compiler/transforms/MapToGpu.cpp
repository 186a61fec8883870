//===- MapToGpu.cpp - kernels on buffers as gpu.launch regions ------------===//
//
// The PTX target's counterpart of convert-linalg-to-parallel-loops +
// ajit-parallelize-outer-loops: after bufferization every kernel of a function (one
// linalg op, or a copy) becomes its own gpu.launch.
//
// - A reduction whose reduced elements are contiguous (the innermost dimension is
//   reduced: a row sum, softmax's max and sum, every chunk of a split whole-array
//   reduction), or that has too few outputs to fill the device, gets one block of
//   threads per output element: the threads stride over the reduced elements (neighbours
//   read neighbouring elements: coalesced), each folds its share into a private
//   accumulator, and gpu.all_reduce combines the block's accumulators (shuffles within a
//   warp, then shared memory across warps, after ajit-lower-gpu-all-reduce); thread 0
//   folds the result into the output (into the constant it was filled with just before,
//   when that fill is folded into the kernel: foldConstantFills). Outputs written once per element beside the
//   reduction (softmax's exp values) are stored by the thread that computes them. An
//   argmax / argmin carries its (value, index) pair per thread and combines the pairs
//   as one packed 64-bit key (combineArgReduction).
// - Every other kernel becomes a loop nest, flattened to one linear index, the innermost
//   dimension fastest, so that consecutive threads of a warp touch consecutive elements
//   (coalesced loads and stores); reduction dimensions are moved inside, each thread
//   looping over them for its own output element.
// - Where the innermost count allows, a thread (or a reduction's step) takes 4
//   consecutive elements, the buffers are marked 16-byte aligned, and the 4 loads of an
//   operand sit together ahead of any store: NVPTX's load/store vectorizer makes them
//   one ld.global.v4 (and the stores one st.global.v4), a quarter of the memory
//   instructions for the bandwidth-bound kernels.
// - An f32 product (2-D or batched) is a tiled shared-memory kernel (GpuTiledMatmul.h):
//   a block computes 128 x 128 outputs, 8 x 8 per thread, from tiles of A and B that
//   its threads copy into shared memory; the output fusion's epilogue that follows it
//   is applied to each output as it is stored, and the constant (zero) fill of its
//   output just before it is folded into it (foldConstantFills).
//
// What stays in the function after this pass is allocations, deallocations and
// launches; gpu-kernel-outlining then moves each launch body into a gpu.func, and the
// PTX target reads the host function as a thunk sequence (runtime/GpuProgram.h).
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/GpuTiledMatmul.h"
#include "compiler/transforms/LoopBounds.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>
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

/// The gpu.all_reduce operation of an associative combiner, if it has one.
std::optional<gpu::AllReduceOperation> allReduceKind(Operation *combiner) {
  using K = gpu::AllReduceOperation;
  return llvm::TypeSwitch<Operation *, std::optional<K>>(combiner)
      .Case<arith::AddFOp, arith::AddIOp>([](auto) { return K::ADD; })
      .Case<arith::MulFOp, arith::MulIOp>([](auto) { return K::MUL; })
      .Case<arith::MaxNumFOp>([](auto) { return K::MAXNUMF; })
      .Case<arith::MinNumFOp>([](auto) { return K::MINNUMF; })
      .Case<arith::MaximumFOp>([](auto) { return K::MAXIMUMF; })
      .Case<arith::MinimumFOp>([](auto) { return K::MINIMUMF; })
      .Case<arith::MaxSIOp>([](auto) { return K::MAXSI; })
      .Case<arith::MinSIOp>([](auto) { return K::MINSI; })
      .Case<arith::MaxUIOp>([](auto) { return K::MAXUI; })
      .Case<arith::MinUIOp>([](auto) { return K::MINUI; })
      .Case<arith::AndIOp>([](auto) { return K::AND; })
      .Case<arith::OrIOp>([](auto) { return K::OR; })
      .Case<arith::XOrIOp>([](auto) { return K::XOR; })
      .Default([](Operation *) { return std::nullopt; });
}

/// A generic that runs as one block per output element (see the file comment): its
/// loop ranges with the parallel dimensions first, and per output the combiner that
/// folds each element into it (null for an output written once per element).
struct BlockReduction {
  linalg::GenericOp op;
  SmallVector<int64_t> ranges;
  unsigned parallelDims = 0;
  int64_t outputs = 1, reduced = 1; ///< products of the parallel and the reduction ranges
  bool contiguous = false;          ///< some input's fastest index is the innermost reduced one
  SmallVector<Operation *> combiners;
  /// An argmax / argmin (kArgReduceAttr): both outputs, value and index, are carried
  /// by each thread through the body, then combined as one packed key.
  enum class Arg { none, max, min } arg = Arg::none;
  /// Per output, the constant it held before the kernel where a fill of it was folded
  /// into the kernel (MapToGpuPass::foldConstantFills), else null: read from memory.
  SmallVector<TypedAttr> initialValues;
  bool carries(unsigned output) const { return arg != Arg::none || combiners[output]; }
  /// The output's value before the kernel, at `at` of `buffer`: the folded fill's
  /// constant, or a load.
  Value initialValue(OpBuilder &b, Location loc, unsigned output, Value buffer, ValueRange at) const {
    if (output < initialValues.size() && initialValues[output])
      return arith::ConstantOp::create(b, loc, initialValues[output]);
    return memref::LoadOp::create(b, loc, buffer, at);
  }
};

/// Below this many reduced elements per output a block would mostly idle.
constexpr int64_t kMinBlockReduction = 32;
/// With fewer outputs than this, one thread each leaves most of an H100 idle (132 SMs of
/// up to 2048 threads): a block each is used whatever the layout.
constexpr int64_t kFewOutputs = 4096;

std::optional<BlockReduction> blockReduction(linalg::GenericOp op) {
  BlockReduction plan{op, op.getStaticLoopRanges()};
  auto argKind = op->getAttrOfType<StringAttr>(ajit::kArgReduceAttr);
  if (argKind) plan.arg = argKind.getValue() == "max" ? BlockReduction::Arg::max : BlockReduction::Arg::min;
  // A product's reduction (k) is no row to stream: it awaits a tiled kernel of its own.
  // Loop indices in a body are only understood in argmax / argmin.
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() == 0 || op->hasAttr(ajit::kMatmulAttr) ||
      llvm::any_of(plan.ranges, ShapedType::isDynamic) ||
      (!argKind && op->walk([](linalg::IndexOp) { return WalkResult::interrupt(); }).wasInterrupted()))
    return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  for (auto [d, it] : llvm::enumerate(iterators)) {
    bool parallel = it == utils::IteratorType::parallel;
    if (parallel && d != plan.parallelDims) return std::nullopt; // parallelDimsFirst failed
    plan.parallelDims += parallel;
    (parallel ? plan.outputs : plan.reduced) *= plan.ranges[d];
  }
  if (plan.reduced < kMinBlockReduction || plan.outputs > std::numeric_limits<int32_t>::max()) return std::nullopt;
  // Contiguous: some input's fastest-varying index is the innermost (reduced) loop.
  unsigned innermost = iterators.size() - 1;
  plan.contiguous = llvm::any_of(op.getDpsInputOperands(), [&](OpOperand *in) {
    AffineMap map = op.getMatchingIndexingMap(in);
    return map.getNumResults() > 0 && map.getResults().back() == getAffineDimExpr(innermost, op.getContext());
  });
  if (!plan.contiguous && plan.outputs >= kFewOutputs) return std::nullopt;
  Block &body = op.getRegion().front();
  if (plan.arg != BlockReduction::Arg::none) {
    // (f32 value, i64 index) reduced over one axis of fewer than 2^31 elements: the pair
    // packs into 64 bits.
    if (op.getNumDpsInits() != 2 || op.getNumReductionLoops() != 1 || plan.reduced > std::numeric_limits<int32_t>::max() ||
        !body.getArgument(op.getNumDpsInputs()).getType().isF32() ||
        !body.getArgument(op.getNumDpsInputs() + 1).getType().isInteger(64))
      return std::nullopt;
    for (OpOperand &init : op.getDpsInitsMutable())
      if (op.getMatchingIndexingMap(&init).isFunctionOfDim(plan.ranges.size() - 1)) return std::nullopt;
    plan.combiners.assign(2, nullptr);
    return plan;
  }
  unsigned reducedOutputs = 0;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    BlockArgument acc = op.getMatchingBlockArgument(&init);
    Value yielded = body.getTerminator()->getOperand(init.getOperandNumber() - op.getNumDpsInputs());
    bool usesReductionDim = false;
    for (unsigned d = plan.parallelDims; d < iterators.size(); ++d) usesReductionDim |= map.isFunctionOfDim(d);
    if (usesReductionDim) { // written once per element, never read
      if (!acc.use_empty()) return std::nullopt;
      plan.combiners.push_back(nullptr);
      continue;
    }
    Operation *combiner = yielded.getDefiningOp();
    unsigned bits = acc.getType().isIntOrFloat() ? acc.getType().getIntOrFloatBitWidth() : 0;
    if (!combiner || combiner->getNumOperands() != 2 || !acc.hasOneUse() || *acc.getUsers().begin() != combiner ||
        !allReduceKind(combiner) || !arith::getNeutralElement(combiner) || (bits != 32 && bits != 64))
      return std::nullopt;
    plan.combiners.push_back(combiner);
    ++reducedOutputs;
  }
  if (reducedOutputs == 0) return std::nullopt;
  return plan;
}

/// Elements per thread for a parallel nest (iteration counts `counts`): 4 consecutive
/// steps of the innermost dimension where it divides them and the body is straight-line
/// code, else 1. A thread's four loads of an operand (and its four stores) then lie
/// side by side, and the NVPTX backend's load/store vectorizer joins them into one
/// 16-byte access (ld.global.v4.f32) where the buffers are known to be aligned (see
/// alignBuffers): a quarter of the memory instructions, and four times the bytes in
/// flight per thread, for the memory-bound kernels. Bodies with regions (a reduction's
/// inner loop) stay one element per thread: four copies of a loop add registers and no
/// adjacent accesses.
int64_t elementsPerThread(scf::ParallelOp parallel, ArrayRef<int64_t> counts) {
  constexpr int64_t kVector = 4;
  if (counts.empty() || counts.back() % kVector != 0) return 1;
  for (Operation &op : parallel.getBody()->without_terminator())
    if (op.getNumRegions() != 0) return 1;
  return kVector;
}

/// Elements per step of a block reduction's strided loop: 4 consecutive ones of the
/// innermost reduced dimension where it divides them and the input is read along it
/// (one 16-byte load per step, as elementsPerThread), else 1.
int64_t elementsPerStep(const BlockReduction &plan) {
  constexpr int64_t kVector = 4;
  return plan.contiguous && plan.ranges.back() % kVector == 0 ? kVector : 1;
}

/// Whether every memory access in `body` after its first store is a store (and nothing
/// else touches memory): a linalg body's loads, arithmetic, then stores.
bool storesFollowLoads(Block &body) {
  bool stored = false;
  for (Operation &op : body.without_terminator()) {
    if (isa<memref::StoreOp>(op)) {
      stored = true;
      continue;
    }
    if (isa<memref::LoadOp>(op) ? stored : !isMemoryEffectFree(&op)) return false;
  }
  return true;
}

/// `linear` split into indices over `counts`, the last fastest.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<int64_t> counts) {
  SmallVector<Value> ivs(counts.size());
  for (int64_t d = static_cast<int64_t>(counts.size()) - 1; d >= 0; --d) {
    Value count = arith::ConstantIndexOp::create(b, loc, counts[d]);
    ivs[d] = d == 0 ? linear : arith::RemUIOp::create(b, loc, linear, count).getResult();
    if (d > 0) linear = arith::DivUIOp::create(b, loc, linear, count);
  }
  return ivs;
}

using ajit::indicesAt;

/// The block's argmax (argmin) from each thread's (value, index): one gpu.all_reduce
/// of the largest 64-bit key, value bits above index bits. The value bits are ordered as
/// unsigned integers (sign flipped for positives, all bits for negatives; reversed for
/// argmin) with every NaN the largest; the index bits are inverted, so that of equal
/// values the first index wins, as the sequential argmax's first NaN and first maximum.
/// Thread 0 unpacks the winner into the two outputs.
void combineArgReduction(OpBuilder &b, Location loc, const BlockReduction &plan, gpu::LaunchOp launch,
                         ValueRange partial, ArrayRef<Value> outputIvs, const IRMapping &map) {
  linalg::GenericOp op = plan.op;
  bool isMin = plan.arg == BlockReduction::Arg::min;
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto c32 = [&](OpBuilder &ob, int64_t v) { return arith::ConstantIntOp::create(ob, loc, i32, v).getResult(); };
  Value ones = c32(b, -1), sign = c32(b, std::numeric_limits<int32_t>::min());
  Value value = partial[0], index = partial[1];
  Value bits = arith::BitcastOp::create(b, loc, i32, value);
  Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, bits, c32(b, 0));
  Value ordered = arith::SelectOp::create(b, loc, negative, arith::XOrIOp::create(b, loc, bits, ones),
                                          arith::OrIOp::create(b, loc, bits, sign));
  if (isMin) ordered = arith::XOrIOp::create(b, loc, ordered, ones);
  Value nan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, value, value);
  ordered = arith::SelectOp::create(b, loc, nan, ones, ordered);
  Value low = arith::XOrIOp::create(b, loc, arith::TruncIOp::create(b, loc, i32, index), ones);
  Value key = arith::OrIOp::create(
      b, loc,
      arith::ShLIOp::create(b, loc, arith::ExtUIOp::create(b, loc, i64, ordered),
                            arith::ConstantIntOp::create(b, loc, i64, 32)),
      arith::ExtUIOp::create(b, loc, i64, low));
  Value best = gpu::AllReduceOp::create(
      b, loc, key, gpu::AllReduceOperationAttr::get(b.getContext(), gpu::AllReduceOperation::MAXUI),
      /*uniform=*/true);
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, launch.getThreadIds().x,
                                      arith::ConstantIndexOp::create(b, loc, 0));
  auto write = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
  OpBuilder wb = write.getThenBodyBuilder();
  Value hi = arith::TruncIOp::create(
      wb, loc, i32, arith::ShRUIOp::create(wb, loc, best, arith::ConstantIntOp::create(wb, loc, i64, 32)));
  Value winner = arith::ExtUIOp::create(
      wb, loc, i64, arith::XOrIOp::create(wb, loc, arith::TruncIOp::create(wb, loc, i32, best), c32(wb, -1)));
  Value wasNan = arith::CmpIOp::create(wb, loc, arith::CmpIPredicate::eq, hi, c32(wb, -1));
  Value e = isMin ? arith::XOrIOp::create(wb, loc, hi, c32(wb, -1)).getResult() : hi;
  Value top = arith::CmpIOp::create(wb, loc, arith::CmpIPredicate::slt, e, c32(wb, 0));
  Value back = arith::SelectOp::create(wb, loc, top,
                                       arith::AndIOp::create(wb, loc, e, c32(wb, std::numeric_limits<int32_t>::max())),
                                       arith::XOrIOp::create(wb, loc, e, c32(wb, -1)));
  Value quietNan = arith::ConstantOp::create(wb, loc, wb.getF32FloatAttr(std::numeric_limits<float>::quiet_NaN()));
  Value winnerValue =
      arith::SelectOp::create(wb, loc, wasNan, quietNan, arith::BitcastOp::create(wb, loc, wb.getF32Type(), back));
  SmallVector<Value> results = {winnerValue, winner};
  for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable()))
    memref::StoreOp::create(wb, loc, results[i], map.lookupOrDefault(init.get()),
                            indicesAt(wb, loc, op.getMatchingIndexingMap(&init), outputIvs));
}

/// The body of a block-per-output reduction, built at `b` inside its launch (block x:
/// the output element, thread x: the lane; `map` holds the host values the launch
/// recomputes). All threads run the strided loop and the all-reduce (which needs the
/// whole block); thread 0 alone writes the reduced outputs. Each step of the loop takes
/// `perStep` consecutive elements (elementsPerStep), folded in order into the thread's
/// accumulators; their loads come before any store of the step (a store of an output
/// written per element, softmax's exp values), so that LLVM can join them.
void emitBlockReduction(OpBuilder &b, Location loc, const BlockReduction &plan, gpu::LaunchOp launch,
                        int64_t threads, int64_t perStep, IRMapping &map) {
  linalg::GenericOp op = plan.op;
  ArrayRef<int64_t> ranges = plan.ranges;
  SmallVector<Value> outer = delinearize(b, loc, launch.getBlockIds().x, ranges.take_front(plan.parallelDims));
  auto lookup = [&](Value v) { return map.lookupOrDefault(v); };
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> outputIvs = outer; // a reduced output's map does not read the reduction indices
  outputIvs.append(ranges.size() - plan.parallelDims, zero);
  // Each thread starts from the combiner's neutral element; an argmax from the output's
  // initial (value, index), which every element replaces or ties with.
  SmallVector<Value> inits;
  for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    if (plan.arg != BlockReduction::Arg::none)
      inits.push_back(plan.initialValue(b, loc, i, lookup(init.get()),
                                        indicesAt(b, loc, op.getMatchingIndexingMap(&init), outputIvs)));
    else if (plan.combiners[i])
      inits.push_back(arith::ConstantOp::create(b, loc, *arith::getNeutralElement(plan.combiners[i])));
  }
  Value start = launch.getThreadIds().x;
  if (perStep > 1) start = arith::MulIOp::create(b, loc, start, arith::ConstantIndexOp::create(b, loc, perStep));
  Value step = arith::ConstantIndexOp::create(b, loc, threads * perStep);
  Value end = arith::ConstantIndexOp::create(b, loc, plan.reduced);
  auto loop = scf::ForOp::create(
      b, loc, start, end, step, inits,
      [&](OpBuilder &lb, Location l, Value r, ValueRange accs) {
        // The step's first element; the others follow it along the innermost reduced
        // dimension, whose range perStep divides (so they stay in its row).
        SmallVector<Value> firstIvs = outer;
        llvm::append_range(firstIvs, delinearize(lb, l, r, ranges.drop_front(plan.parallelDims)));
        Block &block = op.getRegion().front();
        SmallVector<Value> carried(accs);
        struct Store {
          Value value;
          OpOperand *init; // an output written once per element
          SmallVector<Value> ivs;
        };
        SmallVector<Store> stores;
        for (int64_t e = 0; e < perStep; ++e) {
          SmallVector<Value> ivs = firstIvs;
          if (e > 0)
            ivs.back() = arith::AddIOp::create(lb, l, ivs.back(), arith::ConstantIndexOp::create(lb, l, e));
          IRMapping body = map;
          for (OpOperand *in : op.getDpsInputOperands()) {
            Value v = lookup(in->get());
            if (isa<MemRefType>(v.getType()))
              v = memref::LoadOp::create(lb, l, v, indicesAt(lb, l, op.getMatchingIndexingMap(in), ivs));
            body.map(op.getMatchingBlockArgument(in), v);
          }
          unsigned next = 0;
          for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable()))
            if (plan.carries(i)) body.map(op.getMatchingBlockArgument(&init), carried[next++]);
          for (Operation &inner : block.without_terminator()) {
            if (auto index = dyn_cast<linalg::IndexOp>(inner)) { // the element's own index
              body.map(index.getResult(), ivs[index.getDim()]);
              continue;
            }
            lb.clone(inner, body);
          }
          next = 0;
          for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
            Value value = body.lookupOrDefault(block.getTerminator()->getOperand(i));
            if (plan.carries(i))
              carried[next++] = value;
            else
              stores.push_back({value, &init, ivs});
          }
        }
        for (Store &store : stores)
          memref::StoreOp::create(lb, l, store.value, lookup(store.init->get()),
                                  indicesAt(lb, l, op.getMatchingIndexingMap(store.init), store.ivs));
        scf::YieldOp::create(lb, l, carried);
      });
  if (plan.arg != BlockReduction::Arg::none) {
    combineArgReduction(b, loc, plan, launch, loop.getResults(), outputIvs, map);
    return;
  }
  SmallVector<Value> totals;
  unsigned next = 0;
  for (Operation *combiner : plan.combiners)
    if (combiner)
      totals.push_back(gpu::AllReduceOp::create(b, loc, loop.getResult(next++),
                                                gpu::AllReduceOperationAttr::get(b.getContext(), *allReduceKind(combiner)),
                                                /*uniform=*/true));
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, launch.getThreadIds().x, zero);
  auto write = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
  OpBuilder wb = write.getThenBodyBuilder();
  ArrayRef<Value> ivs = outputIvs;
  next = 0;
  for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    Operation *combiner = plan.combiners[i];
    if (!combiner) continue;
    Value buffer = lookup(init.get());
    SmallVector<Value> at = indicesAt(wb, loc, op.getMatchingIndexingMap(&init), ivs);
    Value old = plan.initialValue(wb, loc, i, buffer, at);
    BlockArgument acc = op.getMatchingBlockArgument(&init);
    IRMapping fold;
    for (Value operand : combiner->getOperands()) fold.map(operand, operand == acc ? old : totals[next]);
    memref::StoreOp::create(wb, loc, wb.clone(*combiner, fold)->getResult(0), buffer, at);
    ++next;
  }
}

struct MapToGpuPass : public ajit::impl::AjitMapToGpuBase<MapToGpuPass> {
  using AjitMapToGpuBase::AjitMapToGpuBase;
  int64_t kernelCount_ = 0;
  /// Kernels some of whose output fills were folded into them: per output, the fill's
  /// constant (foldConstantFills).
  llvm::DenseMap<Operation *, SmallVector<TypedAttr>> initialValues_;

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
    foldConstantFills(fn);
    ops.clear();
    fn.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    llvm::SmallPtrSet<Operation *, 4> epilogues;
    for (linalg::LinalgOp op : ops)
      if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
        if (linalg::GenericOp epilogue = fusedEpilogue(generic)) epilogues.insert(epilogue);
    for (linalg::LinalgOp op : ops) {
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (generic && (blockReduction(generic) || ajit::tiledMatmul(generic) || epilogues.contains(generic)))
        continue; // wrap() builds their kernels from the generic
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

  /// Asks ajit-set-kernel-occupancy to make room for `blocks` blocks of `launch`'s
  /// kernel on one SM (the module's kMinBlocksPerSmAttr dictionary).
  static void recordBlocksPerSm(gpu::LaunchOp launch, int64_t blocks) {
    auto module = launch->getParentOfType<ModuleOp>();
    NamedAttrList entries(module->getAttrOfType<DictionaryAttr>(ajit::kMinBlocksPerSmAttr));
    Builder b(module.getContext());
    entries.set(launch.getFunctionAttr().getAttr(), b.getI32IntegerAttr(static_cast<int32_t>(blocks)));
    module->setAttr(ajit::kMinBlocksPerSmAttr, entries.getDictionary(module.getContext()));
  }

  /// A kernel that starts from the values its output held (a tiled product's
  /// accumulators, a block reduction's reduced outputs and an argmax's pairs), after a
  /// constant fill of that output: a kernel writing every element, then another
  /// reading each back. The kernel starts from the fill's constant instead and the fill
  /// goes: one launch and two passes over the buffer fewer (a split reduction's
  /// partials and its result, an argmax's pairs: every reduction was one launch more).
  /// Only where the fill writes the output's own buffer (the same value, whole), the
  /// kernel writes every element of it and reads nothing else of that buffer, and no
  /// kernel between them touches the buffer.
  void foldConstantFills(func::FuncOp fn) {
    initialValues_.clear();
    // Top-level work only: wrapInLaunches builds kernels from the host function's ops.
    SmallVector<linalg::GenericOp> generics(fn.getBody().front().getOps<linalg::GenericOp>());
    for (linalg::GenericOp op : generics) {
      std::optional<BlockReduction> reduction = blockReduction(op);
      bool product = !reduction && ajit::tiledMatmul(op); // f32, as its fill then is
      if (!reduction && !product) continue;
      SmallVector<TypedAttr> initial(op.getNumDpsInits());
      for (OpOperand &init : op.getDpsInitsMutable()) {
        unsigned i = init.getOperandNumber() - op.getNumDpsInputs();
        if (reduction ? !reduction->carries(i) || !writesEveryElement(*reduction, init) : i != 0) continue;
        linalg::FillOp fill = constantFillBefore(op, init);
        if (!fill) continue;
        initial[i] = cast<TypedAttr>(fill.value().getDefiningOp<arith::ConstantOp>().getValue());
        fill->erase();
      }
      if (llvm::any_of(initial, [](TypedAttr a) { return bool(a); })) initialValues_[op] = std::move(initial);
    }
  }

  /// Whether the block reduction of `plan` writes every element of output `init`'s
  /// buffer: a block per element, its map a permutation of the parallel dimensions
  /// (whose ranges the verifier ties to the buffer's shape).
  static bool writesEveryElement(const BlockReduction &plan, OpOperand &init) {
    AffineMap map = linalg::GenericOp(plan.op).getMatchingIndexingMap(&init);
    return map.isProjectedPermutation() && map.getNumResults() == plan.parallelDims;
  }

  /// The fill of a constant into output `init` of `op` that `op` would read back: the
  /// latest op before `op` that touches the output's buffer (through any view; a launch
  /// or an op with regions counts by what it holds), with `op` touching it through
  /// `init` alone; else null.
  static linalg::FillOp constantFillBefore(Operation *op, OpOperand &init) {
    Value output = init.get();
    Value root = memref::skipViewLikeOps(cast<TypedValue<MemRefType>>(output));
    auto touches = [&](Operation *work, OpOperand *except) {
      WalkResult walked = work->walk([&](Operation *inner) {
        for (OpOperand &use : inner->getOpOperands())
          if (&use != except && isa<MemRefType>(use.get().getType()) &&
              memref::skipViewLikeOps(cast<TypedValue<MemRefType>>(use.get())) == root)
            return WalkResult::interrupt();
        return WalkResult::advance();
      });
      return walked.wasInterrupted();
    };
    if (touches(op, &init)) return {};
    for (Operation *o = op->getPrevNode(); o; o = o->getPrevNode()) {
      if ((o->getNumRegions() == 0 && staysOnHost(*o)) || !touches(o, nullptr)) continue;
      auto fill = dyn_cast<linalg::FillOp>(o);
      return fill && fill.getOutputs()[0] == output && fill.value().getDefiningOp<arith::ConstantOp>()
                 ? fill
                 : linalg::FillOp();
    }
    return {};
  }

  /// The output fusion's epilogue that runs in the kernel of tiled product `product`:
  /// the next work after it in the host function, if it fits (ajit::withEpilogue).
  static linalg::GenericOp fusedEpilogue(linalg::GenericOp product) {
    std::optional<ajit::TiledMatmul> plan = ajit::tiledMatmul(product);
    if (!plan) return {};
    auto epilogue = dyn_cast_or_null<linalg::GenericOp>(nextWork(product));
    return epilogue && ajit::withEpilogue(*plan, epilogue) ? epilogue : linalg::GenericOp();
  }

  /// The nearest op after `op` in its block that is device work: the host
  /// ops between (views, constants, allocations) are skipped; a launch is work.
  static Operation *nextWork(Operation *op) {
    Operation *o = op->getNextNode();
    while (o && staysOnHost(*o) && !isa<gpu::LaunchOp>(o)) o = o->getNextNode();
    return o;
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
      auto generic = dyn_cast<linalg::GenericOp>(ops[i]);
      if (linalg::GenericOp epilogue = generic ? fusedEpilogue(generic) : linalg::GenericOp()) {
        // The product and its epilogue, one kernel; host ops between them stay.
        if (failed(wrap({generic.getOperation(), epilogue.getOperation()}, entry, fn.getSymName()))) return failure();
        i = position[epilogue];
        continue;
      }
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

  /// The whole buffers `group` reads or writes (the host function's arguments and
  /// allocations, directly or through views), each marked 16-byte aligned at the top of
  /// the launch body and mapped to that in `map`. Each is a cuMemAlloc allocation of its
  /// own (256-byte aligned; PtxTarget passes nothing else to a kernel), and without the
  /// fact LLVM may not join adjacent accesses into vector loads and stores.
  static void alignBuffers(OpBuilder &kb, Location loc, ArrayRef<Operation *> group, Block &entry, IRMapping &map) {
    constexpr uint64_t kAlignment = 16;
    llvm::SetVector<Value> buffers;
    llvm::SmallPtrSet<Value, 16> seen;
    std::function<void(Value)> visit = [&](Value v) {
      if (!isa<MemRefType>(v.getType()) || !seen.insert(v).second) return;
      if (auto arg = dyn_cast<BlockArgument>(v); arg && arg.getOwner() == &entry) return void(buffers.insert(v));
      Operation *def = v.getDefiningOp();
      if (!def || def->getBlock() != &entry) return;
      if (isa<memref::AllocOp>(def)) return void(buffers.insert(v));
      if (staysOnHost(*def))
        for (Value operand : def->getOperands()) visit(operand); // a view: its source
    };
    for (Operation *member : group)
      member->walk([&](Operation *inner) {
        for (Value v : inner->getOperands()) visit(v);
      });
    for (Value buffer : buffers)
      map.map(buffer, memref::AssumeAlignmentOp::create(kb, loc, buffer, kAlignment).getResult());
  }

  /// Moves `group` (top-level work of the host function, in order) into a gpu.launch of
  /// its own: a reduction left as a generic by loopsFromLinalg as a block per output
  /// element, a lone scf.parallel over one thread per iteration, anything else on one
  /// thread.
  LogicalResult wrap(ArrayRef<Operation *> group, Block &entry, StringRef fnName) {
    Operation *op = group.front();
    Location loc = op->getLoc();
    auto generic = group.size() <= 2 ? dyn_cast<linalg::GenericOp>(op) : linalg::GenericOp();
    std::optional<BlockReduction> reduction =
        generic && group.size() == 1 ? blockReduction(generic) : std::nullopt;
    std::optional<ajit::TiledMatmul> matmul = generic ? ajit::tiledMatmul(generic) : std::nullopt;
    if (matmul && group.size() == 2 && !ajit::withEpilogue(*matmul, dyn_cast<linalg::GenericOp>(group[1])))
      return op->emitError("ajit-map-to-gpu: the product's epilogue no longer fits its kernel");
    if (generic && !reduction && !matmul) return op->emitError("ajit-map-to-gpu: a linalg op left on the host");
    if (auto initial = initialValues_.find(op); initial != initialValues_.end()) {
      // The fill is gone: a kernel that did not start from its constant would be wrong.
      if (!matmul && !reduction) return op->emitError("ajit-map-to-gpu: a folded fill's kernel is not a reduction");
      if (matmul) matmul->initialValue = cast<FloatAttr>(initial->second[0]);
      if (reduction) reduction->initialValues = initial->second;
    }
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
    // Elements per thread of a parallel nest: consecutive ones along the innermost
    // dimension, so that each operand's loads (and the stores) of a thread are adjacent.
    int64_t perThread = parallel ? elementsPerThread(parallel, counts) : reduction ? elementsPerStep(*reduction) : 1;
    int64_t threads = total / perThread;
    int64_t block = parallel ? std::min<int64_t>(blockSize, llvm::alignTo(threads, 32)) : 1;
    int64_t grid = parallel ? llvm::divideCeil(threads, block) : 1;
    if (reduction) {
      block = std::min<int64_t>(blockSize, llvm::alignTo(reduction->reduced / perThread, 32));
      grid = reduction->outputs;
    } else if (matmul) {
      block = ajit::TiledMatmul::kThreads;
      grid = matmul->blocks();
    }
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
    // Only kernels whose threads take several consecutive elements (and the tiled
    // matmul's groups of 4) have accesses to join; elsewhere the fact would be noise.
    if (perThread > 1 || matmul) alignBuffers(kb, loc, group, entry, map);
    for (Operation *member : group) {
      WalkResult walked = member->walk([&](Operation *inner) {
        for (Value v : inner->getOperands())
          if (failed(materialize(v))) return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (walked.wasInterrupted()) return failure();
    }

    if (reduction) {
      emitBlockReduction(kb, loc, *reduction, launch, block, perThread, map);
    } else if (matmul) {
      recordBlocksPerSm(launch, ajit::TiledMatmul::kBlocksPerSm);
      launch.addWorkgroupAttribution(matmul->aTileType(), loc);
      launch.addWorkgroupAttribution(matmul->bTileType(), loc);
      ajit::emitTiledMatmul(kb, loc, *matmul, launch, map);
    } else if (parallel) {
      // linear = blockIdx.x * block + threadIdx.x; the last block's extra threads idle.
      Value linear = arith::AddIOp::create(
          kb, loc, arith::MulIOp::create(kb, loc, launch.getBlockIds().x, cst(kb, block)),
          launch.getThreadIds().x);
      Value inRange = arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::ult, linear, cst(kb, threads));
      auto guard = scf::IfOp::create(kb, loc, inRange, /*withElseRegion=*/false);
      OpBuilder tb = guard.getThenBodyBuilder();
      // Delinearize, innermost dimension fastest; a thread's elements are `perThread`
      // consecutive steps of the innermost dimension, its body cloned once for each.
      int64_t last = static_cast<int64_t>(counts.size()) - 1;
      Value rest = linear, innermost;
      for (int64_t d = last; d >= 0; --d) {
        int64_t count = d == last ? counts[d] / perThread : counts[d];
        Value index = d == 0 ? rest : arith::RemUIOp::create(tb, loc, rest, cst(tb, count)).getResult();
        if (d > 0) rest = arith::DivUIOp::create(tb, loc, rest, cst(tb, count));
        if (d == last) {
          innermost = index;
          continue;
        }
        Value lb = map.lookupOrDefault(parallel.getLowerBound()[d]);
        Value step = map.lookupOrDefault(parallel.getStep()[d]);
        Value iv = arith::AddIOp::create(tb, loc, lb, arith::MulIOp::create(tb, loc, index, step));
        map.map(parallel.getInductionVars()[d], iv);
      }
      Value lb = map.lookupOrDefault(parallel.getLowerBound()[last]);
      Value step = map.lookupOrDefault(parallel.getStep()[last]);
      Value first = arith::MulIOp::create(tb, loc, innermost, cst(tb, perThread));
      SmallVector<IRMapping> copies(perThread, map);
      for (int64_t e = 0; e < perThread; ++e) {
        Value index = e == 0 ? first : arith::AddIOp::create(tb, loc, first, cst(tb, e)).getResult();
        copies[e].map(parallel.getInductionVars()[last],
                      arith::AddIOp::create(tb, loc, lb, arith::MulIOp::create(tb, loc, index, step)).getResult());
      }
      // The elements' loads and arithmetic first, then their stores: the iterations of
      // a parallel loop are independent, and a store between two loads would keep LLVM
      // from joining them (it cannot tell that the buffers do not overlap). With one
      // element per thread the body is cloned as it is.
      bool storesLast = perThread > 1 && storesFollowLoads(*parallel.getBody());
      for (int64_t e = 0; e < perThread; ++e)
        for (Operation &inner : parallel.getBody()->without_terminator())
          if (!storesLast || !isa<memref::StoreOp>(inner)) tb.clone(inner, copies[e]);
      if (storesLast)
        for (int64_t e = 0; e < perThread; ++e)
          for (Operation &inner : parallel.getBody()->without_terminator())
            if (isa<memref::StoreOp>(inner)) tb.clone(inner, copies[e]);
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
