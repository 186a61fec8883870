//===- SplitReductions.cpp - long reductions as parallel chunks + a combine ---===//
//
// A fused kernel that reduces a long axis to a few values (a dot product, a norm, a 1-D
// log_softmax's sum of exp) has no parallel loop worth splitting across threads: it
// runs on one core. Here its reduction axis of N elements
// is split into K chunks of N / K, the chunk index becoming a parallel loop that
// ajit-parallelize-outer-loops hands to the thread pool: each chunk reduces into its own
// partial result (initialised with the combiner's neutral element), and a small second
// kernel folds the K partials into the original accumulator. Inputs are viewed as
// K x N/K (expand_shape), which costs nothing.
//
// A length with a divisor K in [max-chunks / 4, max-chunks] (64 on the CPU's cores; the
// GPU takes up to 1024, a block of threads each) is split into K chunks exactly. Any
// other length N (a prime, 8 times a prime) is split as N = K * C + T with K =
// max-chunks, C a multiple of 4 (each chunk's start stays 16-byte aligned), and the
// tail's T < 4 * K elements reduced last by the original generic over the tail's slice,
// starting from the folded partials (reduceTail). The tail is one more small kernel; a
// length left whole would run on one core, or one block of the GPU.
//
// Applies to all-parallel-but-one generics on tensors with static shapes, at most 7
// parallel iterations, N >= kMinElements, at least one output
// reduced by one associative combiner (add, mul, max, min, and, or, xor) of its
// accumulator and every other output written once per element, and work in the body
// besides the combiners (see split()). The order of the terms changes, as it does for any parallel or
// vectorized reduction; float adds carry `reassoc` already.
//
// With split-arg-reductions (the GPU), an argmax / argmin generic (ajit.arg_reduce) is
// split too (splitArgReduction): each chunk finds its own (value, index) pair, the
// index counted from the start of the whole axis, and a second argmax over the K pairs
// in chunk order picks the first best one, so ties and NaNs resolve as before.
//
//===----------------------------------------------------------------------===//
#include "compiler/conversion/LaneReduction.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

namespace ajit {
#define GEN_PASS_DEF_AJITSPLITREDUCTIONS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

/// Below this many elements a reduction stays whole: the threads would not pay off.
constexpr int64_t kMinElements = 1 << 16;

/// The op that folds each element into reduced output `init` (its block argument's only
/// use, an op with a neutral element: arith's associative add, mul, max, min, and, or,
/// xor), or null.
Operation *combinerOf(linalg::GenericOp op, OpOperand &init) {
  BlockArgument acc = op.getMatchingBlockArgument(&init);
  Value yielded = op.getRegion().front().getTerminator()->getOperand(init.getOperandNumber() - op.getNumDpsInputs());
  Operation *combiner = yielded.getDefiningOp();
  if (!combiner || !acc.hasOneUse() || *acc.getUsers().begin() != combiner || !arith::getNeutralElement(combiner))
    return nullptr;
  return combiner;
}

/// `map` over the split loops: dimension `r` becomes (chunk `r`, element `r + 1`),
/// later dimensions shift by one; a result reading `r` becomes two results.
AffineMap splitMap(AffineMap map, unsigned r) {
  MLIRContext *ctx = map.getContext();
  SmallVector<AffineExpr> results;
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e)) {
      unsigned pos = d.getPosition();
      if (pos == r) {
        results.push_back(getAffineDimExpr(r, ctx));
        results.push_back(getAffineDimExpr(r + 1, ctx));
      } else {
        results.push_back(getAffineDimExpr(pos < r ? pos : pos + 1, ctx));
      }
    } else {
      results.push_back(e);
    }
  }
  return AffineMap::get(map.getNumDims() + 1, 0, results, ctx);
}

/// The result position of `map` that reads dimension `r`, if any.
std::optional<unsigned> positionOf(AffineMap map, unsigned r) {
  for (auto [i, e] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == r) return i;
  return std::nullopt;
}

/// `v` (whose dimension `at` has k * c elements) viewed with that dimension as (k, c).
Value expand(OpBuilder &b, Location loc, Value v, unsigned at, int64_t k, int64_t c) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (i == at) {
      groups.push_back({static_cast<int64_t>(shape.size()), static_cast<int64_t>(shape.size()) + 1});
      shape.append({k, c});
    } else {
      groups.push_back({static_cast<int64_t>(shape.size())});
      shape.push_back(type.getDimSize(i));
    }
  }
  return tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get(shape, type.getElementType()), v, groups);
}

/// The static offsets, sizes and unit strides of the part of a `shape` tensor that
/// starts at `offset` along dimension `at` and has `size` elements there.
struct Part {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  Part(OpBuilder &b, ArrayRef<int64_t> shape, unsigned at, int64_t offset, int64_t size) {
    for (auto [d, extent] : llvm::enumerate(shape)) {
      offsets.push_back(b.getIndexAttr(d == at ? offset : 0));
      sizes.push_back(b.getIndexAttr(d == at ? size : extent));
      strides.push_back(b.getIndexAttr(1));
    }
  }
};

/// `v`'s elements [offset, offset + size) along dimension `at`.
Value slice(OpBuilder &b, Location loc, Value v, unsigned at, int64_t offset, int64_t size) {
  Part part(b, cast<RankedTensorType>(v.getType()).getShape(), at, offset, size);
  return tensor::ExtractSliceOp::create(b, loc, v, part.offsets, part.sizes, part.strides);
}

/// `into` with `part` written over its elements from `offset` on along dimension `at`.
Value insert(OpBuilder &b, Location loc, Value part, Value into, unsigned at, int64_t offset) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(part.getType()).getShape();
  Part where(b, shape, at, offset, shape[at]);
  return tensor::InsertSliceOp::create(b, loc, part, into, where.offsets, where.sizes, where.strides);
}

/// How a generic with one reduction loop splits: loop `r` of `n` elements into `k`
/// chunks of `c`, then a tail of `n - k * c` (0 where `k` divides `n`).
struct Chunking {
  unsigned r;
  int64_t n, k, c;
  int64_t head() const { return k * c; }
  int64_t tail() const { return n - k * c; }
};

/// The chunks of a reduction of `n` elements: the largest divisor of `n` in
/// [maxChunks / 4, maxChunks] (at least 8), else `maxChunks` chunks of a multiple of 4
/// and a tail (see the file comment); none where chunks of 4 would not cover the head.
std::optional<Chunking> chunksFor(unsigned r, int64_t n, int64_t maxChunks) {
  for (int64_t k = maxChunks; k >= std::max<int64_t>(8, maxChunks / 4); --k)
    if (n % k == 0) return Chunking{r, n, k, n / k};
  int64_t c = n / maxChunks / 4 * 4;
  if (c == 0) return std::nullopt;
  return Chunking{r, n, maxChunks, c};
}

/// The chunking of `op` (tensors of static shape, one reduction loop of at least
/// kMinElements to fewer than 8 values, projected-permutation maps), or none.
std::optional<Chunking> chunkingOf(linalg::GenericOp op, int64_t maxChunks) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto staticShape = [](Value v) {
    auto shaped = dyn_cast<ShapedType>(v.getType());
    return !shaped || shaped.hasStaticShape();
  };
  if (op.getNumReductionLoops() != 1 || !op.hasPureTensorSemantics() ||
      !llvm::all_of(op->getOperands(), staticShape))
    return std::nullopt;
  unsigned r = 0;
  int64_t parallel = 1;
  for (auto [i, it] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (it == utils::IteratorType::reduction) r = i;
    else parallel *= ranges[i];
  }
  int64_t n = ranges[r];
  if (parallel >= 8 || n < kMinElements) return std::nullopt;
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true)) return std::nullopt;
  return chunksFor(r, n, maxChunks);
}

/// `v` (read along the reduced loop at position `at` of its map, if at all) as the
/// chunks see it: the head's elements viewed as K x C.
Value chunkView(OpBuilder &b, Location loc, Value v, std::optional<unsigned> at, const Chunking &chunking) {
  if (!at) return v;
  Value head = chunking.tail() ? slice(b, loc, v, *at, 0, chunking.head()) : v;
  return expand(b, loc, head, *at, chunking.k, chunking.c);
}

/// The tail of a split reduction: `op`'s own generic over the last chunking.tail()
/// elements of its reduced loop, starting from `partial` (its results over the head:
/// the reduced outputs folded, the per-element outputs written there), the reduced
/// loop's linalg.index counting from the tail's start. Returns `op`'s results.
SmallVector<Value> reduceTail(OpBuilder &b, Location loc, linalg::GenericOp op, const Chunking &chunking,
                              ValueRange partial) {
  unsigned r = chunking.r;
  SmallVector<Value> inputs, inits;
  for (OpOperand *in : op.getDpsInputOperands()) {
    auto at = positionOf(op.getMatchingIndexingMap(in), r);
    inputs.push_back(at ? slice(b, loc, in->get(), *at, chunking.head(), chunking.tail()) : in->get());
  }
  SmallVector<std::optional<unsigned>> perElement;
  for (auto [init, part] : llvm::zip(op.getDpsInitsMutable(), partial)) {
    std::optional<unsigned> at = positionOf(op.getMatchingIndexingMap(&init), r);
    perElement.push_back(at);
    inits.push_back(at ? slice(b, loc, part, *at, chunking.head(), chunking.tail()) : part);
  }
  SmallVector<Type> types;
  for (Value v : inits) types.push_back(v.getType());
  auto tail = linalg::GenericOp::create(b, loc, types, inputs, inits, op.getIndexingMapsArray(),
                                       op.getIteratorTypesArray());
  tail->setDiscardableAttrs(op->getDiscardableAttrDictionary()); // an argmax's kind
  IRMapping same;
  op.getRegion().cloneInto(&tail.getRegion(), same);
  SmallVector<linalg::IndexOp> indices;
  tail.getRegion().walk([&](linalg::IndexOp index) {
    if (index.getDim() == r) indices.push_back(index);
  });
  for (linalg::IndexOp index : indices) {
    OpBuilder ib(index->getBlock(), std::next(index->getIterator()));
    auto shifted = arith::AddIOp::create(ib, loc, index, arith::ConstantIndexOp::create(ib, loc, chunking.head()));
    index.getResult().replaceAllUsesExcept(shifted, shifted);
  }
  SmallVector<Value> results;
  for (auto [i, part] : llvm::enumerate(partial))
    results.push_back(perElement[i] ? insert(b, loc, tail->getResult(i), part, *perElement[i], chunking.head())
                                    : tail->getResult(i));
  return results;
}

LogicalResult split(linalg::GenericOp op, int64_t maxChunks, bool splitBare) {
  if (op.getNumReductionLoops() != 1 || !op.hasPureTensorSemantics() || op->hasAttr(ajit::kMatmulAttr)) return failure();
  // Lane reductions chunk themselves; a body that reads its loop indices would see the
  // chunk's.
  if (ajit::hasLaneLoops(op) || op->walk([](linalg::IndexOp) { return WalkResult::interrupt(); }).wasInterrupted())
    return failure();
  std::optional<Chunking> chunking = chunkingOf(op, maxChunks);
  if (!chunking) return failure();
  auto [r, n, k, c] = *chunking;
  // Every output either reduced by a combiner or written once per element (softmax's
  // exp values, stored beside their sum): the latter is viewed as K x N/K like the
  // inputs, so each chunk writes its own slice of the result's buffer.
  SmallVector<Operation *> combiners; // null for a per-element output
  for (OpOperand &init : op.getDpsInitsMutable()) {
    if (positionOf(op.getMatchingIndexingMap(&init), r)) {
      if (!op.getMatchingBlockArgument(&init).use_empty()) return failure();
      combiners.push_back(nullptr);
      continue;
    }
    combiners.push_back(combinerOf(op, init));
    if (!combiners.back()) return failure();
  }
  size_t reduced = llvm::count_if(combiners, [](Operation *c) { return c != nullptr; });
  if (reduced == 0) return failure();
  // A bare reduction (sum, max: only the combiner) already streams at memory speed on
  // one core; splitting it pays the threads' wake-up for nothing (measured: sum of 100K
  // elements 4.4 -> 7.3 us). Fused producers (dot's multiply, a norm's abs or square)
  // make the loop compute-bound: those are split. A GPU splits every long reduction: one
  // block of threads reads at a fraction of the device's bandwidth.
  size_t bodyOps = op.getRegion().front().getOperations().size() - 1;
  if (bodyOps <= reduced && !splitBare) return failure();

  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> inputs, inits;
  SmallVector<AffineMap> maps;
  for (OpOperand *in : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(in);
    inputs.push_back(chunkView(b, loc, in->get(), positionOf(map, r), *chunking));
    maps.push_back(splitMap(map, r));
  }
  // Reduced outputs: a partial per chunk, the chunk index first. Per-element outputs:
  // the destination viewed as K x N/K.
  for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    AffineMap split = splitMap(map, r);
    if (!combiners[i]) {
      inits.push_back(chunkView(b, loc, init.get(), positionOf(map, r), *chunking));
      maps.push_back(split);
      continue;
    }
    auto type = cast<RankedTensorType>(init.get().getType());
    SmallVector<int64_t> shape = {k};
    llvm::append_range(shape, type.getShape());
    Value empty = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
    Value neutral = arith::ConstantOp::create(b, loc, *arith::getNeutralElement(combiners[i]));
    inits.push_back(linalg::FillOp::create(b, loc, neutral, empty).getResult(0));
    SmallVector<AffineExpr> results = {getAffineDimExpr(r, b.getContext())};
    llvm::append_range(results, split.getResults());
    maps.push_back(AffineMap::get(split.getNumDims(), 0, results, b.getContext()));
  }
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  iterators[r] = utils::IteratorType::parallel;
  iterators.insert(iterators.begin() + r + 1, utils::IteratorType::reduction);
  SmallVector<Type> types;
  for (Value v : inits) types.push_back(v.getType());
  auto chunked = linalg::GenericOp::create(b, loc, types, inputs, inits, maps, iterators);
  IRMapping same;
  op.getRegion().cloneInto(&chunked.getRegion(), same);

  // Fold the partials into the original accumulators.
  SmallVector<Value> results;
  for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    Value part = chunked->getResult(i);
    auto type = cast<RankedTensorType>(init.get().getType());
    if (!combiners[i]) {
      auto expanded = cast<tensor::ExpandShapeOp>(inits[i].getDefiningOp());
      Value written =
          tensor::CollapseShapeOp::create(b, loc, expanded.getSrcType(), part, expanded.getReassociationIndices());
      if (chunking->tail())
        written = insert(b, loc, written, init.get(), *positionOf(op.getMatchingIndexingMap(&init), r), 0);
      results.push_back(written);
      continue;
    }
    unsigned rank = type.getRank();
    AffineMap outMap = AffineMap::getMultiDimIdentityMap(rank + 1, b.getContext()).dropResult(0);
    SmallVector<utils::IteratorType> foldIterators(rank + 1, utils::IteratorType::parallel);
    foldIterators[0] = utils::IteratorType::reduction;
    Operation *combiner = combiners[i];
    auto fold = linalg::GenericOp::create(
        b, loc, TypeRange{type}, ValueRange{part}, ValueRange{init.get()},
        ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank + 1, b.getContext()), outMap}, foldIterators,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Operation *copy = nb.clone(*combiner);
          copy->setOperands({args[1], args[0]});
          linalg::YieldOp::create(nb, nloc, copy->getResult(0));
        });
    results.push_back(fold->getResult(0));
  }
  if (chunking->tail()) results = reduceTail(b, loc, op, *chunking, results);
  op->replaceAllUsesWith(results);
  op->erase();
  return success();
}

/// The init of an argmax/argmin output as the constant it is filled with, or null.
Value fillValue(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && fill.getInputs()[0].getDefiningOp<arith::ConstantOp>() ? fill.getInputs()[0] : Value();
}

/// An argmax / argmin over one long axis (LowerToLinalg's generic: one input, outputs
/// value and i64 index filled with constants, the body reading its index with
/// linalg.index and yielding `select(take, index, old index)`) as K chunks of pairs and
/// a second arg reduction over them (chunk index last, so that MapToGpu can give it a
/// block). Within a chunk the element's index stays its index along the whole axis:
/// the body's "first element always wins" then holds for the first chunk alone, and
/// any other chunk starts from the init pair, which it replaces with its first element
/// strictly better than the init (an all -inf chunk keeps (-inf, 0): it can never win
/// the second reduction, which keeps the first of equals).
LogicalResult splitArgReduction(linalg::GenericOp op, int64_t maxChunks) {
  if (!op->hasAttr(ajit::kArgReduceAttr) || op.getNumReductionLoops() != 1 || !op.hasPureTensorSemantics() ||
      op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 2)
    return failure();
  std::optional<Chunking> chunking = chunkingOf(op, maxChunks);
  // Indices below 2^31: MapToGpu packs a pair's index into 32 bits of its key.
  if (!chunking || chunking->n > std::numeric_limits<int32_t>::max()) return failure();
  auto [r, n, k, c] = *chunking;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // The body must compare the element itself and select it (not a function of it: a
  // fused producer would be applied again to the chunks' winners), reading only the
  // reduced axis's index (the fold maps every linalg.index to the chunk).
  Block &body = op.getRegion().front();
  auto pick = body.getTerminator()->getOperand(1).getDefiningOp<arith::SelectOp>();
  auto pickValue = body.getTerminator()->getOperand(0).getDefiningOp<arith::SelectOp>();
  Value initValue = fillValue(op.getDpsInits()[0]), initIndex = fillValue(op.getDpsInits()[1]);
  if (!pick || pick.getFalseValue() != body.getArgument(2) || !pickValue ||
      pickValue.getTrueValue() != body.getArgument(0) || pickValue.getFalseValue() != body.getArgument(1) ||
      pickValue.getCondition() != pick.getCondition() || !initValue || !initIndex)
    return failure();
  WalkResult otherIndex = op.getRegion().walk([&](linalg::IndexOp index) {
    return index.getDim() == r ? WalkResult::advance() : WalkResult::interrupt();
  });
  if (otherIndex.wasInterrupted()) return failure();
  OpOperand *input = op.getDpsInputOperand(0);
  auto at = positionOf(op.getMatchingIndexingMap(input), r);
  if (!at) return failure();
  // The outputs' dimensions are the parallel loops in order (the second reduction's maps).
  SmallVector<AffineExpr> parallelDims;
  for (unsigned d = 0; d < ranges.size(); ++d)
    if (d != r) parallelDims.push_back(getAffineDimExpr(d, op.getContext()));
  for (OpOperand &init : op.getDpsInitsMutable())
    if (op.getMatchingIndexingMap(&init).getResults() != ArrayRef<AffineExpr>(parallelDims)) return failure();

  OpBuilder b(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  // The chunks: dimension r becomes (chunk r, element r + 1); partial pairs [K, outputs].
  Value chunkedInput = chunkView(b, loc, input->get(), at, *chunking);
  SmallVector<AffineMap> maps = {splitMap(op.getMatchingIndexingMap(input), r)};
  SmallVector<Value> partInits;
  Value fills[] = {initValue, initIndex};
  for (auto [init, fill] : llvm::zip(op.getDpsInitsMutable(), fills)) {
    auto type = cast<RankedTensorType>(init.get().getType());
    SmallVector<int64_t> shape = {k};
    llvm::append_range(shape, type.getShape());
    Value empty = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
    partInits.push_back(linalg::FillOp::create(b, loc, fill, empty).getResult(0));
    AffineMap split = splitMap(op.getMatchingIndexingMap(&init), r);
    SmallVector<AffineExpr> results = {getAffineDimExpr(r, ctx)};
    llvm::append_range(results, split.getResults());
    maps.push_back(AffineMap::get(split.getNumDims(), 0, results, ctx));
  }
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  iterators[r] = utils::IteratorType::parallel;
  iterators.insert(iterators.begin() + r + 1, utils::IteratorType::reduction);
  auto chunked = linalg::GenericOp::create(b, loc, TypeRange{partInits[0].getType(), partInits[1].getType()},
                                           ValueRange{chunkedInput}, partInits, maps, iterators);
  chunked->setAttr(ajit::kArgReduceAttr, op->getAttr(ajit::kArgReduceAttr));
  IRMapping same;
  op.getRegion().cloneInto(&chunked.getRegion(), same);
  // Loop indices in the chunk body: the axis is chunk * c + element, later ones shift.
  SmallVector<linalg::IndexOp> indices;
  chunked.getRegion().walk([&](linalg::IndexOp index) { indices.push_back(index); });
  for (linalg::IndexOp index : indices) {
    OpBuilder ib(index);
    uint64_t d = index.getDim();
    if (d < r) continue;
    if (d > r) {
      index.setDim(d + 1);
      continue;
    }
    Value chunk = linalg::IndexOp::create(ib, loc, r), element = linalg::IndexOp::create(ib, loc, r + 1);
    Value whole = arith::AddIOp::create(
        ib, loc, arith::MulIOp::create(ib, loc, chunk, arith::ConstantIndexOp::create(ib, loc, c)), element);
    index.replaceAllUsesWith(whole);
    index.erase();
  }

  // The pairs in chunk order: the original body over [outputs..., K] with the chunk as
  // its index (so "first" is chunk 0) and the pair's index in place of the element's.
  unsigned outRank = cast<RankedTensorType>(op.getDpsInits()[0].getType()).getRank();
  SmallVector<AffineExpr> partResults = {getAffineDimExpr(outRank, ctx)}; // the partials are [K, outputs...]
  for (unsigned i = 0; i < outRank; ++i) partResults.push_back(getAffineDimExpr(i, ctx));
  AffineMap partMap = AffineMap::get(outRank + 1, 0, partResults, ctx);
  AffineMap outMap = AffineMap::getMultiDimIdentityMap(outRank + 1, ctx).dropResult(outRank);
  SmallVector<utils::IteratorType> foldIterators(outRank + 1, utils::IteratorType::parallel);
  foldIterators[outRank] = utils::IteratorType::reduction;
  auto fold = linalg::GenericOp::create(
      b, loc, op.getResultTypes(), ValueRange{chunked.getResult(0), chunked.getResult(1)}, op.getDpsInits(),
      ArrayRef<AffineMap>{partMap, partMap, outMap, outMap}, foldIterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        IRMapping m;
        m.map(body.getArgument(0), args[0]);
        m.map(body.getArgument(1), args[2]);
        m.map(body.getArgument(2), args[3]);
        for (Operation &inner : body.without_terminator()) {
          if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
            m.map(index.getResult(), linalg::IndexOp::create(nb, nloc, outRank).getResult());
            continue;
          }
          nb.clone(inner, m);
        }
        Value value = m.lookup(body.getTerminator()->getOperand(0));
        Value index = arith::SelectOp::create(nb, nloc, m.lookup(pick.getCondition()), args[1], args[3]);
        linalg::YieldOp::create(nb, nloc, ValueRange{value, index});
      });
  fold->setAttr(ajit::kArgReduceAttr, op->getAttr(ajit::kArgReduceAttr));
  // The tail's elements come after every chunk's: folded last, they win only when
  // strictly better, as the body's later elements do.
  SmallVector<Value> results(fold->getResults());
  if (chunking->tail()) results = reduceTail(b, loc, op, *chunking, results);
  op->replaceAllUsesWith(results);
  op->erase();
  return success();
}

struct SplitReductionsPass : public ajit::impl::AjitSplitReductionsBase<SplitReductionsPass> {
  using AjitSplitReductionsBase::AjitSplitReductionsBase;
  void runOnOperation() override {
    if (maxChunks < 8) {
      getOperation().emitError("ajit-split-reductions: max-chunks must be at least 8");
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> ops;
    getOperation().walk([&](linalg::GenericOp op) { ops.push_back(op); });
    for (linalg::GenericOp op : ops)
      if (!(splitArgReductions && succeeded(splitArgReduction(op, maxChunks)))) (void)split(op, maxChunks, splitBare);
  }
};

} // namespace
