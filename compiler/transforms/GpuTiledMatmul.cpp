//===- GpuTiledMatmul.cpp - a product as a tiled shared-memory kernel ------===//
#include "compiler/transforms/GpuTiledMatmul.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinTypes.h"

#include <limits>

using namespace mlir;

namespace ajit {

int64_t TiledMatmul::blocks() const {
  return batch * llvm::divideCeil(m, kTile) * llvm::divideCeil(n, kTile);
}

static MemRefType workgroupBuffer(MLIRContext *ctx, int64_t rows, int64_t cols) {
  return MemRefType::get({rows, cols}, Float32Type::get(ctx), MemRefLayoutAttrInterface{},
                         gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup));
}

// A is stored transposed (k rows of tile rows) so that the inner loop reads a row of
// it; the extra column spreads the transposing stores over the banks.
MemRefType TiledMatmul::aTileType() const { return workgroupBuffer(op->getContext(), kDepth, kTile + 1); }
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

/// Stores output (row, col) of the product, `value`, through the epilogue if there is
/// one (it reads the product's element as `value`, its other operands from memory).
static void storeOutput(OpBuilder &b, Location loc, const TiledMatmul &plan, const IRMapping &map, Value value,
                        ArrayRef<Value> ivs) {
  linalg::GenericOp op = plan.op, epi = plan.epilogue;
  Value product = op.getDpsInitOperand(0)->get();
  bool productOverwritten = epi && llvm::is_contained(epi.getDpsInits(), product);
  if (!productOverwritten)
    memref::StoreOp::create(b, loc, value, map.lookupOrDefault(product), ivs);
  if (!epi) return;
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
    memref::StoreOp::create(b, loc, body.lookupOrDefault(block.getTerminator()->getOperand(i)),
                            map.lookupOrDefault(init), ivs);
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
  // This thread's outputs: rows ty + 16 i, columns tx + 16 j.
  SmallVector<Value> rows, cols;
  for (int64_t i = 0; i < T::kPerThread; ++i) {
    rows.push_back(add(b, m0, add(b, ty, index(b, i * T::kThreadsPerSide))));
    cols.push_back(add(b, n0, add(b, tx, index(b, i * T::kThreadsPerSide))));
  }
  // The accumulators start from the output's values, as the generic's body expects.
  SmallVector<Value> init;
  for (Value row : rows)
    for (Value col : cols) init.push_back(loadOrZero(b, c, row, plan.m, col, plan.n));

  Block &body = op.getRegion().front();
  auto steps = scf::ForOp::create(
      b, loc, index(b, 0), index(b, plan.k), index(b, T::kDepth), init,
      [&](OpBuilder &sb, Location, Value k0, ValueRange accs) {
        // Each thread copies kTile * kDepth / kThreads elements of each tile.
        for (int64_t q = 0; q < T::kTile * T::kDepth / T::kThreads; ++q) {
          Value e = add(sb, thread, index(sb, q * T::kThreads));
          Value ar = arith::DivUIOp::create(sb, loc, e, index(sb, T::kDepth));
          Value ak = arith::RemUIOp::create(sb, loc, e, index(sb, T::kDepth));
          memref::StoreOp::create(sb, loc, loadOrZero(sb, a, add(sb, m0, ar), plan.m, add(sb, k0, ak), plan.k), aTile,
                                  ValueRange{ak, ar});
          Value bk = arith::DivUIOp::create(sb, loc, e, index(sb, T::kTile));
          Value bc = arith::RemUIOp::create(sb, loc, e, index(sb, T::kTile));
          memref::StoreOp::create(sb, loc, loadOrZero(sb, bm, add(sb, k0, bk), plan.k, add(sb, n0, bc), plan.n), bTile,
                                  ValueRange{bk, bc});
        }
        gpu::BarrierOp::create(sb, loc);
        auto inner = scf::ForOp::create(
            sb, loc, index(sb, 0), index(sb, T::kDepth), index(sb, 1), accs,
            [&](OpBuilder &ib, Location, Value kk, ValueRange in) {
              SmallVector<Value> as, bs, next;
              for (int64_t i = 0; i < T::kPerThread; ++i) {
                Value off = add(ib, index(ib, i * T::kThreadsPerSide), ty);
                as.push_back(memref::LoadOp::create(ib, loc, aTile, ValueRange{kk, off}));
                Value offB = add(ib, index(ib, i * T::kThreadsPerSide), tx);
                bs.push_back(memref::LoadOp::create(ib, loc, bTile, ValueRange{kk, offB}));
              }
              for (int64_t i = 0; i < T::kPerThread; ++i)
                for (int64_t j = 0; j < T::kPerThread; ++j) {
                  IRMapping step = map;
                  step.map(body.getArgument(0), as[i]);
                  step.map(body.getArgument(1), bs[j]);
                  step.map(body.getArgument(2), in[i * T::kPerThread + j]);
                  for (Operation &o : body.without_terminator()) {
                    Operation *copy = ib.clone(o, step);
                    // The accumulate carries `contract` (ajit.dot's product is an FMA on the
                    // CPU too); the multiply needs it as well for LLVM to fuse them.
                    if (auto mul = dyn_cast<arith::MulFOp>(copy))
                      mul.setFastmath(mul.getFastmath() | arith::FastMathFlags::contract);
                  }
                  next.push_back(step.lookupOrDefault(body.getTerminator()->getOperand(0)));
                }
              scf::YieldOp::create(ib, loc, next);
            });
        // No thread refills the tiles while another still reads them.
        gpu::BarrierOp::create(sb, loc);
        scf::YieldOp::create(sb, loc, inner.getResults());
      });
  for (int64_t i = 0; i < T::kPerThread; ++i)
    for (int64_t j = 0; j < T::kPerThread; ++j) {
      Value ok = arith::AndIOp::create(b, loc, below(b, rows[i], plan.m), below(b, cols[j], plan.n));
      auto write = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/false);
      OpBuilder wb = write.getThenBodyBuilder();
      storeOutput(wb, loc, plan, map, steps.getResult(i * T::kPerThread + j), at(rows[i], cols[j]));
    }
}

} // namespace ajit
