//===- GpuTiledMatmul.cpp - a product as a tiled shared-memory kernel ------===//
#include "compiler/transforms/GpuTiledMatmul.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <limits>

using namespace mlir;

namespace ajit {

int64_t TiledMatmul::blocks() const {
  return batch * llvm::divideCeil(m, kTile) * llvm::divideCeil(n, kTile);
}

/// Two tiles of `rows` x `cols` (double buffering).
static MemRefType workgroupBuffer(MLIRContext *ctx, int64_t rows, int64_t cols) {
  return MemRefType::get({2, rows, cols}, Float32Type::get(ctx), MemRefLayoutAttrInterface{},
                         gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup));
}

// A is stored transposed (k rows of tile rows) so that the inner loop reads a row of
// it; the kVector extra columns keep its rows 16-byte aligned (for ld.shared.v4) and
// spread the transposing stores of a warp over all 32 banks (bank 4 k + row).
MemRefType TiledMatmul::aTileType() const { return workgroupBuffer(op->getContext(), kDepth, kTile + kVector); }
MemRefType TiledMatmul::bTileType() const { return workgroupBuffer(op->getContext(), kDepth, kTile); }

std::optional<TiledMatmul> tiledMatmul(linalg::GenericOp op) {
  if (!op->hasAttr(kMatmulAttr) || !op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 ||
      op->walk([](linalg::IndexOp) { return WalkResult::interrupt(); }).wasInterrupted())
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32() || !type.getLayout().isIdentity())
      return std::nullopt;
  }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned loops = ranges.size();
  if (loops != 3 && loops != 4) return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < loops; ++d)
    if ((iterators[d] == utils::IteratorType::reduction) != (d == loops - 1)) return std::nullopt;
  // (b, m, n, k): A[b, m, k], B[b, k, n], C[b, m, n].
  MLIRContext *ctx = op.getContext();
  auto dims = [&](std::initializer_list<unsigned> ds) {
    SmallVector<AffineExpr> exprs;
    if (loops == 4) exprs.push_back(getAffineDimExpr(0, ctx));
    for (unsigned d : ds) exprs.push_back(getAffineDimExpr(loops - 3 + d, ctx));
    return AffineMap::get(loops, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[0] != dims({0, 2}) || maps[1] != dims({2, 1}) || maps[2] != dims({0, 1})) return std::nullopt;
  TiledMatmul plan{op};
  plan.batched = loops == 4;
  plan.batch = plan.batched ? ranges[0] : 1;
  plan.m = ranges[loops - 3];
  plan.n = ranges[loops - 2];
  plan.k = ranges[loops - 1];
  if (plan.m == 0 || plan.n == 0 || plan.k == 0 || plan.blocks() > std::numeric_limits<int32_t>::max())
    return std::nullopt;
  return plan;
}

SmallVector<Value> indicesAt(OpBuilder &b, Location loc, AffineMap map, ValueRange ivs) {
  SmallVector<Value> indices;
  for (AffineExpr e : map.getResults())
    indices.push_back(affine::AffineApplyOp::create(b, loc, AffineMap::get(map.getNumDims(), 0, e), ivs));
  return indices;
}

bool withEpilogue(TiledMatmul &plan, linalg::GenericOp epilogue) {
  if (!epilogue || !epilogue->hasAttr(kMatmulEpilogueAttr) || !epilogue.hasPureBufferSemantics() ||
      epilogue.getNumReductionLoops() != 0 ||
      epilogue->walk([](linalg::IndexOp) { return WalkResult::interrupt(); }).wasInterrupted())
    return false;
  SmallVector<int64_t> want = {plan.m, plan.n};
  if (plan.batched) want.insert(want.begin(), plan.batch);
  if (epilogue.getStaticLoopRanges() != want) return false;
  Value product = plan.op.getDpsInitOperand(0)->get();
  bool readsProduct = false;
  for (OpOperand &operand : epilogue->getOpOperands()) {
    if (operand.get() != product) continue;
    // Element for element only: another element of the product may not be final yet.
    if (!epilogue.getMatchingIndexingMap(&operand).isIdentity()) return false;
    readsProduct |= epilogue.isDpsInput(&operand);
  }
  for (OpOperand &init : epilogue.getDpsInitsMutable())
    if (!epilogue.getMatchingIndexingMap(&init).isIdentity()) return false;
  if (!readsProduct) return false;
  plan.epilogue = epilogue;
  return true;
}

/// Stores outputs of the product, `values` at `at[e]`, through the epilogue if there is
/// one (it reads the product's element as the value, its other operands from memory).
/// Every element's loads and arithmetic come before the first store: a store between
/// two loads would keep LLVM from joining adjacent ones (it cannot tell the buffers
/// apart).
static void storeOutputs(OpBuilder &b, Location loc, const TiledMatmul &plan, const IRMapping &map,
                         ArrayRef<Value> values, ArrayRef<SmallVector<Value>> at) {
  linalg::GenericOp op = plan.op, epi = plan.epilogue;
  Value product = op.getDpsInitOperand(0)->get();
  SmallVector<std::pair<Value, Value>> stores; // (value, buffer), element by element
  SmallVector<size_t> firstStore;              // each element's first entry in stores
  for (auto [value, ivs] : llvm::zip(values, at)) {
    firstStore.push_back(stores.size());
    bool productOverwritten = epi && llvm::is_contained(epi.getDpsInits(), product);
    if (!productOverwritten) stores.push_back({value, map.lookupOrDefault(product)});
    if (!epi) continue;
    IRMapping body = map;
    Block &block = epi.getRegion().front();
    for (OpOperand &operand : epi->getOpOperands()) {
      BlockArgument arg = epi.getMatchingBlockArgument(&operand);
      if (operand.get() == product && epi.isDpsInput(&operand)) {
        body.map(arg, value);
        continue;
      }
      Value v = map.lookupOrDefault(operand.get());
      if (isa<MemRefType>(v.getType()) && !arg.use_empty())
        v = memref::LoadOp::create(b, loc, v, indicesAt(b, loc, epi.getMatchingIndexingMap(&operand), ivs));
      body.map(arg, v);
    }
    for (Operation &o : block.without_terminator()) b.clone(o, body);
    for (auto [i, init] : llvm::enumerate(epi.getDpsInits()))
      stores.push_back({body.lookupOrDefault(block.getTerminator()->getOperand(i)), map.lookupOrDefault(init)});
  }
  firstStore.push_back(stores.size());
  for (size_t e = 0; e < at.size(); ++e)
    for (size_t s = firstStore[e]; s < firstStore[e + 1]; ++s)
      memref::StoreOp::create(b, loc, stores[s].first, stores[s].second, at[e]);
}

void emitTiledMatmul(OpBuilder &b, Location loc, const TiledMatmul &plan, gpu::LaunchOp launch,
                     const IRMapping &map) {
  using T = TiledMatmul;
  linalg::GenericOp op = plan.op;
  auto index = [&](OpBuilder &ob, int64_t v) { return arith::ConstantIndexOp::create(ob, loc, v).getResult(); };
  auto add = [&](OpBuilder &ob, Value x, Value y) { return arith::AddIOp::create(ob, loc, x, y).getResult(); };
  auto below = [&](OpBuilder &ob, Value v, int64_t bound) {
    return arith::CmpIOp::create(ob, loc, arith::CmpIPredicate::ult, v, index(ob, bound)).getResult();
  };
  Value a = map.lookupOrDefault(op.getDpsInputOperand(0)->get());
  Value bm = map.lookupOrDefault(op.getDpsInputOperand(1)->get());
  Value c = map.lookupOrDefault(op.getDpsInitOperand(0)->get());
  Value aTile = launch.getWorkgroupAttributions()[0], bTile = launch.getWorkgroupAttributions()[1];

  Value thread = launch.getThreadIds().x, side = index(b, T::kThreadsPerSide);
  Value tx = arith::RemUIOp::create(b, loc, thread, side), ty = arith::DivUIOp::create(b, loc, thread, side);
  // Block -> (batch, tile row, tile column), columns fastest.
  Value tilesAcross = index(b, llvm::divideCeil(plan.n, T::kTile));
  Value tilesDown = index(b, llvm::divideCeil(plan.m, T::kTile));
  Value block = launch.getBlockIds().x;
  Value rest = arith::DivUIOp::create(b, loc, block, tilesAcross);
  Value n0 = arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, block, tilesAcross), index(b, T::kTile));
  Value m0 = arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, rest, tilesDown), index(b, T::kTile));
  Value batch = arith::DivUIOp::create(b, loc, rest, tilesDown);
  auto at = [&](Value row, Value col) {
    SmallVector<Value> v;
    if (plan.batched) v.push_back(batch);
    v.append({row, col});
    return v;
  };
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  // A load that stays in bounds: the index clamped, the value zeroed when it was out.
  auto loadOrZero = [&](OpBuilder &ob, Value mem, Value row, int64_t rows, Value col, int64_t cols) {
    Value ok = arith::AndIOp::create(ob, loc, below(ob, row, rows), below(ob, col, cols));
    Value r = arith::MinUIOp::create(ob, loc, row, index(ob, rows - 1));
    Value k = arith::MinUIOp::create(ob, loc, col, index(ob, cols - 1));
    Value v = memref::LoadOp::create(ob, loc, mem, at(r, k));
    return arith::SelectOp::create(ob, loc, ok, v, zero).getResult();
  };
  // kVector consecutive elements of row `row` from column `col0` (a multiple of
  // kVector), zero where out of range. Where `cols` is a multiple of kVector the group is
  // all in range or all out: one clamped base column and consecutive loads, which LLVM
  // joins into one 16-byte load; else each element is clamped on its own.
  auto loadGroup = [&](OpBuilder &ob, Value mem, Value row, int64_t rows, Value col0, int64_t cols) {
    SmallVector<Value> values;
    if (cols % T::kVector != 0) {
      for (int64_t e = 0; e < T::kVector; ++e) values.push_back(loadOrZero(ob, mem, row, rows, add(ob, col0, index(ob, e)), cols));
      return values;
    }
    Value ok = arith::AndIOp::create(ob, loc, below(ob, row, rows), below(ob, col0, cols));
    Value r = arith::MinUIOp::create(ob, loc, row, index(ob, rows - 1));
    Value base = arith::MinUIOp::create(ob, loc, col0, index(ob, cols - T::kVector));
    for (int64_t e = 0; e < T::kVector; ++e) {
      Value v = memref::LoadOp::create(ob, loc, mem, at(r, add(ob, base, index(ob, e))));
      values.push_back(arith::SelectOp::create(ob, loc, ok, v, zero));
    }
    return values;
  };
  // The tile offset of a thread's i-th row (t = ty) or column (t = tx): two groups of
  // kVector consecutive ones, half a tile apart (t * 4 + {0..3}, 64 + t * 4 + {0..3}),
  // so that each group is one 16-byte shared-memory load.
  auto offsetOf = [&](OpBuilder &ob, Value t, int64_t i) {
    constexpr int64_t kGroupStride = T::kThreadsPerSide * T::kVector;
    Value first = arith::MulIOp::create(ob, loc, t, index(ob, T::kVector));
    return add(ob, first, index(ob, (i / T::kVector) * kGroupStride + i % T::kVector));
  };
  SmallVector<Value> rows, cols;
  for (int64_t i = 0; i < T::kPerThread; ++i) {
    rows.push_back(add(b, m0, offsetOf(b, ty, i)));
    cols.push_back(add(b, n0, offsetOf(b, tx, i)));
  }
  // The accumulators start from the output's values, as the generic's body expects (or
  // from the value of the fill folded into the kernel).
  SmallVector<Value> init;
  Value initial = plan.initialValue ? arith::ConstantOp::create(b, loc, plan.initialValue).getResult() : Value();
  for (Value row : rows)
    for (Value col : cols) init.push_back(initial ? initial : loadOrZero(b, c, row, plan.m, col, plan.n));
  // The tile copies: each thread loads kVector consecutive elements along one row of A
  // (k) and one row of B (columns).
  static_assert(T::kTile * T::kDepth == T::kThreads * T::kVector, "one group of each tile per thread");
  constexpr int64_t kAGroupsPerRow = T::kDepth / T::kVector, kBGroupsPerRow = T::kTile / T::kVector;
  Value aRow = arith::DivUIOp::create(b, loc, thread, index(b, kAGroupsPerRow));
  Value aK = arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, thread, index(b, kAGroupsPerRow)),
                                   index(b, T::kVector));
  Value bK = arith::DivUIOp::create(b, loc, thread, index(b, kBGroupsPerRow));
  Value bCol = arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, thread, index(b, kBGroupsPerRow)),
                                     index(b, T::kVector));

  // Each thread's share of the tiles of the k-step at `k0`: one group of A (a row of the
  // tile, transposed into its k rows when stored) and one of B; zeros past k.
  auto loadTiles = [&](OpBuilder &ob, Value k0) {
    SmallVector<Value> groups = loadGroup(ob, a, add(ob, m0, aRow), plan.m, add(ob, k0, aK), plan.k);
    groups.append(loadGroup(ob, bm, add(ob, k0, bK), plan.k, add(ob, n0, bCol), plan.n));
    return groups;
  };
  auto storeTiles = [&](OpBuilder &ob, Value buffer, ArrayRef<Value> groups) {
    for (int64_t e = 0; e < T::kVector; ++e) {
      memref::StoreOp::create(ob, loc, groups[e], aTile, ValueRange{buffer, add(ob, aK, index(ob, e)), aRow});
      memref::StoreOp::create(ob, loc, groups[T::kVector + e], bTile,
                              ValueRange{buffer, bK, add(ob, bCol, index(ob, e))});
    }
  };
  // The first step's tiles go into buffer 0 before the loop.
  storeTiles(b, index(b, 0), loadTiles(b, index(b, 0)));
  gpu::BarrierOp::create(b, loc);

  Block &body = op.getRegion().front();
  auto steps = scf::ForOp::create(
      b, loc, index(b, 0), index(b, plan.k), index(b, T::kDepth), init,
      [&](OpBuilder &sb, Location, Value k0, ValueRange accs) {
        // This step reads buffer (k0 / kDepth) % 2 and fills the other.
        Value current = arith::RemUIOp::create(sb, loc, arith::DivUIOp::create(sb, loc, k0, index(sb, T::kDepth)),
                                               index(sb, 2));
        Value other = arith::SubIOp::create(sb, loc, index(sb, 1), current);
        // The next step's tiles, loaded before this step's arithmetic (after the last
        // step: zeros from clamped addresses, stored where nothing reads them).
        SmallVector<Value> next = loadTiles(sb, add(sb, k0, index(sb, T::kDepth)));
        // The step's kDepth rows of the tiles, unrolled (as nvcc unrolls a loop of constant
        // trip count): constant offsets from the step's buffer, and ptxas can issue a
        // row's loads while the previous row's FMAs run.
        SmallVector<Value> sums(accs.begin(), accs.end());
        auto vectorType = VectorType::get({T::kVector}, sb.getF32Type());
        for (int64_t kk = 0; kk < T::kDepth; ++kk) {
          // One vector load per group: left to LLVM's load/store vectorizer, the last A
          // value of a group stayed a scalar load (instcombine rewrote its offset,
          // ((tid >> 2) & 60) | 3, as (tid >> 2) | 3, hiding the common base).
          SmallVector<Value> as, bs;
          Value row = index(sb, kk);
          for (int64_t g = 0; g < T::kPerThread; g += T::kVector) {
            Value aGroup =
                vector::LoadOp::create(sb, loc, vectorType, aTile, ValueRange{current, row, offsetOf(sb, ty, g)});
            Value bGroup =
                vector::LoadOp::create(sb, loc, vectorType, bTile, ValueRange{current, row, offsetOf(sb, tx, g)});
            for (int64_t e = 0; e < T::kVector; ++e) {
              as.push_back(vector::ExtractOp::create(sb, loc, aGroup, e));
              bs.push_back(vector::ExtractOp::create(sb, loc, bGroup, e));
            }
          }
          for (int64_t i = 0; i < T::kPerThread; ++i)
            for (int64_t j = 0; j < T::kPerThread; ++j) {
              IRMapping step = map;
              Value &sum = sums[i * T::kPerThread + j];
              step.map(body.getArgument(0), as[i]);
              step.map(body.getArgument(1), bs[j]);
              step.map(body.getArgument(2), sum);
              for (Operation &o : body.without_terminator()) {
                Operation *copy = sb.clone(o, step);
                // The accumulate carries `contract` (ajit.dot's product is an FMA on the
                // CPU too); the multiply needs it as well for LLVM to fuse them.
                if (auto mul = dyn_cast<arith::MulFOp>(copy))
                  mul.setFastmath(mul.getFastmath() | arith::FastMathFlags::contract);
              }
              sum = step.lookupOrDefault(body.getTerminator()->getOperand(0));
            }
        }
        // The other buffer was last read in the previous step, before the barrier that
        // ended it; this step's barrier makes the new tiles visible to the next step.
        storeTiles(sb, other, next);
        gpu::BarrierOp::create(sb, loc);
        scf::YieldOp::create(sb, loc, sums);
      });
  // The outputs, a group of kVector columns under one guard where n is a multiple of
  // kVector (the group is all in or all out): adjacent stores LLVM can join.
  int64_t together = plan.n % T::kVector == 0 ? T::kVector : 1;
  for (int64_t i = 0; i < T::kPerThread; ++i)
    for (int64_t j = 0; j < T::kPerThread; j += together) {
      Value ok = arith::AndIOp::create(b, loc, below(b, rows[i], plan.m), below(b, cols[j], plan.n));
      auto write = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/false);
      OpBuilder wb = write.getThenBodyBuilder();
      SmallVector<Value> values;
      SmallVector<SmallVector<Value>> where;
      for (int64_t e = j; e < j + together; ++e) {
        values.push_back(steps.getResult(i * T::kPerThread + e));
        where.push_back(at(rows[i], cols[e]));
      }
      storeOutputs(wb, loc, plan, map, values, where);
    }
}

} // namespace ajit
