//===- LaneReduction.cpp - explicit vector loops for innermost-axis reductions ===//
#include "compiler/conversion/LaneReduction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>

namespace ajit {

using namespace mlir;

namespace {

/// Chunks of a lone row hold at least this many vectors (16384 f32 elements): with less
/// work per thread, waking the workers costs more than it saves (argmax of 10K f32:
/// 3.4 us on one thread, 4.8 us split in two chunks on two).
constexpr int64_t kMinChunkVectors = 256;
/// Enough chunks for static scheduling to balance any worker count up to 64.
constexpr int64_t kMaxChunks = 64;

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Combines the lanes of vector states pairwise (halves, then quarters...) into scalars.
SmallVector<Value> combineLanes(OpBuilder &b, Location loc, const LaneReduction &r,
                                SmallVector<Value> state, int64_t width) {
  for (int64_t w = width / 2; w >= 1; w /= 2) {
    SmallVector<Value> lo, hi;
    for (Value v : state) {
      lo.push_back(vector::ExtractStridedSliceOp::create(b, loc, v, {0}, {w}, {1}));
      hi.push_back(vector::ExtractStridedSliceOp::create(b, loc, v, {w}, {w}, {1}));
    }
    state = r.combine(b, loc, lo, hi);
  }
  SmallVector<Value> scalars;
  for (Value v : state) scalars.push_back(vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{0}));
  return scalars;
}

} // namespace

int64_t laneReductionWidth(Type t) {
  if (t.isF32() || t.isInteger(32)) return 64;
  if (t.isF64() || t.isInteger(64)) return 32;
  return 0;
}

Value laneConstant(OpBuilder &b, Location loc, Type elem, TypedAttr value, int64_t width) {
  if (width == 0) return arith::ConstantOp::create(b, loc, value);
  auto type = VectorType::get({width}, elem);
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, value));
}

SmallVector<Value> buildLaneReduction(OpBuilder &b, Location loc, Value x,
                                      const LaneReduction &r, Type indexType) {
  auto xType = cast<RankedTensorType>(x.getType());
  Type elem = xType.getElementType();
  int64_t rank = xType.getRank(), n = xType.getShape().back();
  int64_t width = laneReductionWidth(elem);
  assert(laneReductionApplies(xType, rank - 1) && "lane reduction needs at least one full vector");
  SmallVector<int64_t> outerShape(xType.getShape().drop_back());

  // Chunks: a long row is split (rows with several chunks run in parallel as well), which
  // also bounds how many terms a lane accumulates on its own: a sum over a 270K-element
  // row in 64 lanes alone erred by 3e-6 relative in f32, split in 16 chunks it stays in
  // the per-element rounding tolerance.
  int64_t vectors = n / width;
  int64_t chunks = std::clamp<int64_t>(vectors / kMinChunkVectors, 1, kMaxChunks);
  int64_t perChunk = vectors / chunks; // vectors per chunk; the last chunk takes the tail
  int64_t tailStart = chunks * perChunk * width;

  SmallVector<int64_t> chunkShape(outerShape);
  chunkShape.push_back(chunks);
  int64_t domain = rank; // outer dims + the chunk dim
  SmallVector<Value> inits;
  SmallVector<Type> resultTypes;
  for (Type t : r.stateTypes) {
    auto type = RankedTensorType::get(chunkShape, t);
    resultTypes.push_back(type);
    inits.push_back(tensor::EmptyOp::create(b, loc, chunkShape, t));
  }
  SmallVector<AffineMap> maps(r.stateTypes.size(), b.getMultiDimIdentityMap(domain));
  SmallVector<utils::IteratorType> iters(domain, utils::IteratorType::parallel);
  auto vecType = VectorType::get({width}, elem);
  auto idxVecType = VectorType::get({width}, indexType);

  auto perChunkGeneric = linalg::GenericOp::create(
      b, loc, resultTypes, ValueRange{}, inits, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> at;
        for (int64_t d = 0; d + 1 < domain; ++d) at.push_back(linalg::IndexOp::create(nb, l, d));
        Value chunk = linalg::IndexOp::create(nb, l, domain - 1);
        Value chunkBase = arith::MulIOp::create(nb, l, chunk, indexConstant(nb, l, perChunk * width));
        SmallVector<APInt> lanes;
        for (int64_t i = 0; i < width; ++i) lanes.push_back(APInt(indexType.getIntOrFloatBitWidth(), i));
        Value iota = arith::ConstantOp::create(nb, l, DenseElementsAttr::get(idxVecType, lanes));
        Value pad = arith::ConstantOp::create(nb, l, nb.getZeroAttr(elem));

        // The vector at `k` (in vectors from the chunk's start) and its positions.
        auto load = [&](OpBuilder &fb, Location fl, Value k) -> std::pair<Value, Value> {
          Value offset = arith::AddIOp::create(
              fb, fl, chunkBase, arith::MulIOp::create(fb, fl, k, indexConstant(fb, fl, width)));
          SmallVector<Value> idx(at);
          idx.push_back(offset);
          Value xs = vector::TransferReadOp::create(fb, fl, vecType, x, idx, pad, ArrayRef<bool>{true});
          Value base = vector::BroadcastOp::create(
              fb, fl, idxVecType, arith::IndexCastOp::create(fb, fl, indexType, offset));
          return {xs, arith::AddIOp::create(fb, fl, base, iota)};
        };
        // Vector part: each lane reduces every width-th element of the chunk, starting
        // from the chunk's first vector (so `update` never sees the identity).
        auto [x0, p0] = load(nb, l, indexConstant(nb, l, 0));
        auto vectorLoop = scf::ForOp::create(
            nb, l, indexConstant(nb, l, 1), indexConstant(nb, l, perChunk), indexConstant(nb, l, 1),
            r.first(nb, l, x0, p0), [&](OpBuilder &fb, Location fl, Value k, ValueRange state) {
              auto [xs, positions] = load(fb, fl, k);
              scf::YieldOp::create(fb, fl, r.update(fb, fl, state, xs, positions));
            });
        SmallVector<Value> state = combineLanes(nb, l, r, vectorLoop.getResults(), width);

        // Scalar tail: the elements past the last full vector, in the last chunk only.
        Value isLast = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, chunk,
                                             indexConstant(nb, l, chunks - 1));
        Value end = indexConstant(nb, l, n);
        Value tailLo = arith::SelectOp::create(nb, l, isLast, indexConstant(nb, l, tailStart), end);
        auto tailLoop = scf::ForOp::create(
            nb, l, tailLo, end, indexConstant(nb, l, 1), state,
            [&](OpBuilder &fb, Location fl, Value k, ValueRange st) {
              SmallVector<Value> idx(at);
              idx.push_back(k);
              Value xv = tensor::ExtractOp::create(fb, fl, x, idx);
              Value pos = arith::IndexCastOp::create(fb, fl, indexType, k);
              scf::YieldOp::create(fb, fl, r.update(fb, fl, st, xv, pos));
            });
        linalg::YieldOp::create(nb, l, tailLoop.getResults());
      });

  // Chunk states combined per row: a plain reduction over the chunk dimension, into the
  // row's state with the reduced axis kept as size 1 (as one chunk already is).
  if (chunks == 1) return perChunkGeneric.getResults();
  SmallVector<int64_t> rowShape(outerShape);
  rowShape.push_back(1);
  SmallVector<Value> rowInits;
  SmallVector<Type> rowTypes;
  for (auto [t, init] : llvm::zip(r.stateTypes, r.identity(b, loc, 0))) {
    rowTypes.push_back(RankedTensorType::get(rowShape, t));
    Value empty = tensor::EmptyOp::create(b, loc, rowShape, t);
    rowInits.push_back(linalg::FillOp::create(b, loc, ValueRange{init}, ValueRange{empty}).getResult(0));
  }
  SmallVector<AffineExpr> rowExprs;
  for (int64_t d = 0; d + 1 < domain; ++d) rowExprs.push_back(b.getAffineDimExpr(d));
  rowExprs.push_back(b.getAffineConstantExpr(0));
  auto rowMap = AffineMap::get(domain, 0, rowExprs, b.getContext());
  SmallVector<AffineMap> combineMaps(r.stateTypes.size(), b.getMultiDimIdentityMap(domain));
  combineMaps.append(r.stateTypes.size(), rowMap);
  iters.back() = utils::IteratorType::reduction;
  size_t k = r.stateTypes.size();
  auto combine = linalg::GenericOp::create(
      b, loc, rowTypes, perChunkGeneric.getResults(), rowInits, combineMaps, iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        linalg::YieldOp::create(nb, l, r.combine(nb, l, args.drop_front(k), args.take_front(k)));
      });
  return combine.getResults();
}

bool laneReductionApplies(RankedTensorType x, int64_t axis) {
  int64_t width = laneReductionWidth(x.getElementType());
  return axis == x.getRank() - 1 && width > 0 && x.getShape()[axis] >= width;
}

bool hasLaneLoops(mlir::Operation *op) {
  bool found = false;
  op->walk([&](mlir::scf::ForOp) {
    found = true;
    return mlir::WalkResult::interrupt();
  });
  return found;
}

} // namespace ajit
