//===- TileMatmuls.cpp - f32 matmuls as tiled micro-kernel calls, epilogue per tile ===//
//
// Runs on buffers, before the linalg ops become loops. Each f32 product marked by
// ajit-lower-to-linalg (kMatmulAttr) becomes, IREE-ukernel style:
//
//   [pack B into 32-column panels, the panels split across the workers; a constant B
//    (weights captured with ajit::constant) is packed here, once, into a new global]
//   scf.parallel over output tiles (mb x nb, one contiguous run of tiles per worker):
//     ajit_uk_sgemm(A rows of the tile, B columns of the tile -> C tile)
//     [the output fusion's epilogue on that tile, reading it in place: still in L2]
//
// or, for a parallel product with at least two panels per worker, column owners:
//
//   scf.parallel over the workers (worker w owns a contiguous run of whole panels):
//     [pack its own panels]
//     for each column block of its run, for each row tile: ajit_uk_sgemm + epilogue
//
// The epilogue (kMatmulEpilogueAttr, set by ajit-lower-fusions on an output fusion) is
// cloned onto subviews of its operands for the tile, with the product's temporary
// replaced by the tile of the epilogue's first output, where the kernel has just written
// the product: the temporary and its second pass over memory disappear. Products of
// other types, or on buffers with a non-identity layout, stay linalg (plain loops).
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/Passes.h"

#include "kernels/matmul/Sgemm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/MathExtras.h"

#include <thread>

namespace ajit {
#define GEN_PASS_DEF_AJITTILEMATMULS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;
using namespace ajit;

namespace {

constexpr int64_t kPanel = AJIT_UK_SGEMM_PANEL;

/// A product on buffers: C = fill 0, then C += A.B; optionally the epilogue reading C.
struct Site {
  linalg::GenericOp matmul, epilogue;
  linalg::FillOp fill;
  Value a, b, c;
  int64_t batch = 1, m = 0, n = 0, k = 0;
};

bool isPlainF32(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getElementType().isF32() && type.hasStaticShape() &&
         type.getLayout().isIdentity();
}

bool isZeroFill(linalg::FillOp fill) {
  return matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

/// The epilogue's operands can be cut to a tile when each of their indexing maps picks
/// loop dimensions or the constant 0 (a broadcast size-1 dimension).
bool tileable(linalg::GenericOp op, Value product) {
  if (op.getNumReductionLoops() != 0 || op.getNumLoops() > 3) return false;
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType())) return false;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool isOutput = op.isDpsInit(&operand);
    if ((isOutput || operand.get() == product) && !map.isIdentity()) return false;
    for (AffineExpr e : map.getResults())
      if (!isa<AffineDimExpr>(e) && !(isa<AffineConstantExpr>(e) && cast<AffineConstantExpr>(e).getValue() == 0))
        return false;
  }
  // The kernel writes the product into the first output before the epilogue reads its
  // inputs: that buffer may be the product's own (bufferization often reuses it), but no
  // other input may read it.
  Value out = op.getDpsInits()[0];
  if (!isPlainF32(out)) return false;
  for (Value init : op.getDpsInits().drop_front())
    if (init == product) return false; // it would become the first output's tile
  for (OpOperand *in : op.getDpsInputOperands())
    if (in->get() == out && out != product) return false;
  return true;
}

std::optional<Site> match(linalg::GenericOp matmul) {
  Site s;
  s.matmul = matmul;
  s.a = matmul.getDpsInputs()[0];
  s.b = matmul.getDpsInputs()[1];
  s.c = matmul.getDpsInits()[0];
  if (!isPlainF32(s.a) || !isPlainF32(s.b) || !isPlainF32(s.c)) return std::nullopt;
  auto aShape = cast<MemRefType>(s.a.getType()).getShape();
  auto bShape = cast<MemRefType>(s.b.getType()).getShape();
  bool batched = aShape.size() == 3;
  s.batch = batched ? aShape[0] : 1;
  s.m = aShape[batched ? 1 : 0];
  s.k = aShape[batched ? 2 : 1];
  s.n = bShape[batched ? 2 : 1];
  if (s.batch == 0 || s.m == 0 || s.n == 0) return std::nullopt; // nothing to tile; loops do nothing

  // The product's buffer: zero-filled right before, then read only by the epilogue until
  // the buffer is filled again. Bufferization gives the layers of an MLP one buffer in
  // turn (product 1, then product 2 after a new fill): uses past the next fill see another
  // value, and so do uses before the fill when the block runs once (a function body, not
  // a loop's). Only ops that access the buffer where they stand (linalg ops, copies) are
  // placed so; views, casts and anything else count as readers wherever they are, as do
  // uses in other blocks.
  Block *block = matmul->getBlock();
  bool runsOnce = isa<func::FuncOp>(block->getParentOp());
  auto inBlock = [&](Operation *op) { return op->getBlock() == block; };
  auto accessesInPlace = [](Operation *op) { return isa<linalg::LinalgOp, memref::CopyOp>(op); };
  // The buffer's users in this block, in program order: the last fill before the product,
  // the first fill after it (the end of its value), and between them the first op marked
  // as its output fusion, the epilogue.
  SmallVector<Operation *> ordered;
  for (Operation *user : s.c.getUsers())
    if (inBlock(user) && !llvm::is_contained(ordered, user)) ordered.push_back(user);
  llvm::sort(ordered, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
  auto at = llvm::find(ordered, matmul.getOperation());
  for (Operation *user : llvm::make_range(ordered.begin(), at))
    if (auto fill = dyn_cast<linalg::FillOp>(user)) s.fill = fill;
  if (!s.fill || !isZeroFill(s.fill)) return std::nullopt;
  Operation *refill = nullptr;
  for (Operation *user : llvm::make_range(std::next(at), ordered.end())) {
    if (isa<linalg::FillOp>(user)) {
      refill = user;
      break;
    }
    auto epilogue = dyn_cast<linalg::GenericOp>(user);
    if (!s.epilogue && epilogue && epilogue->hasAttr(kMatmulEpilogueAttr)) s.epilogue = epilogue;
  }
  Operation *end = s.epilogue && s.epilogue.getDpsInits()[0] == s.c ? s.epilogue.getOperation() : refill;
  bool otherReader = false;
  for (Operation *user : s.c.getUsers()) {
    if (user == matmul || user == s.fill || user == s.epilogue || isa<memref::DeallocOp>(user))
      continue; // (an op using the buffer twice is listed twice)
    bool placed = inBlock(user) && accessesInPlace(user);
    // Between the fill and the product a use would see the zeros, which the kernel never
    // writes (the fill goes): leave such a product alone. (A view made earlier and read
    // there is not seen; bufferization makes views next to their reads.)
    if (inBlock(user) && s.fill->isBeforeInBlock(user) && user->isBeforeInBlock(matmul)) return std::nullopt;
    if (placed && ((runsOnce && user->isBeforeInBlock(s.fill)) || (end && !user->isBeforeInBlock(end))))
      continue; // an earlier or a later value of the buffer
    otherReader = true;
  }
  if (otherReader) s.epilogue = nullptr; // it needs the whole product: no epilogue per tile
  // Unless the epilogue writes in place, fusing it drops the product's buffer: that must
  // be a temporary.
  if (s.epilogue && (!tileable(s.epilogue, s.c) ||
                     (s.epilogue.getDpsInits()[0] != s.c && !s.c.getDefiningOp<memref::AllocOp>())))
    s.epilogue = nullptr;
  return s;
}

/// Below this many flops a product runs on the calling thread: waking the workers and
/// joining them costs a few microseconds, as much as 64^3 takes on one core.
constexpr int64_t kMinParallelFlops = int64_t(4) << 20;

/// Tile sizes: rows by at most 512 columns (B's panels of a k block, 1 MiB, in L2). The rows are
/// what each B block is reused for once it is in L2. On one thread, 576 (96 micro-kernel
/// row groups): measured against 144, B packed (2048x768x3072, 4096x1024x4096, 2048^3),
/// 136-143 against 148-155 GFLOP/s, oneDNN 147-152 in the same process. On two, 144:
/// there 288 and 576 ran 3-11% slower than 144 on the same shapes. Row tiles are balanced
/// (1000 rows: two of 504, not 576 and 424). For a parallel product the tiles are halved
/// while there are fewer than two per worker, columns first, so that every worker has some.
std::pair<int64_t, int64_t> tileSizes(const Site &s, int64_t workers) {
  using llvm::divideCeil;
  // As many tiles as `target` gives, of equal size rounded up to `multiple`. Columns too,
  // in whole panels (768 columns: two tiles of 384, not 512 and 256, whose unequal halves
  // left one of two workers waiting).
  auto balanced = [](int64_t extent, int64_t target, int64_t multiple) {
    return divideCeil(divideCeil(extent, divideCeil(extent, target)), multiple) * multiple;
  };
  int64_t mb = std::min<int64_t>(s.m, balanced(s.m, workers > 1 ? 144 : 576, 12)), nb = balanced(s.n, 512, kPanel);
  auto tiles = [&] { return s.batch * int64_t(divideCeil(s.m, mb) * divideCeil(s.n, nb)); };
  while (workers > 1 && tiles() < 2 * workers && (nb > 2 * kPanel || mb > 24)) {
    if (nb > 2 * kPanel) nb = divideCeil(nb / 2, kPanel) * kPanel;
    else mb = divideCeil(mb / 2, 12) * 12;
  }
  return {mb, nb};
}

/// B is packed when enough rows of A reuse each panel to repay the copy: more than 32
/// rows, and B over 64 KiB (smaller, its rows stay in L1 however they fall into sets). A
/// constant B is packed at compile time whenever 8 or more rows read it. Measured on one
/// thread (ajit_uk_sgemm on TileMatmuls' tiles, packing per call included, time in place
/// over packed): 64^3 0.80, 96^3 0.86, 128^3 0.88, 32x784x512 0.90; 64x784x512 1.04,
/// 128x784x512 1.20, 256^3 1.09, 512^3 1.44, 1024^3 2.17; B packed once (a constant):
/// 32x784x512 1.48 (so constants are packed), 128^3 0.98. A row vector reads each element
/// once: in place.
constexpr int64_t kPackMinRows = 8;
constexpr int64_t kInPlaceMaxRows = 32;
constexpr int64_t kInPlaceMaxFloats = 16 << 10;

bool packsAtRunTime(const Site &s) {
  return s.m > kInPlaceMaxRows && s.k * s.n > kInPlaceMaxFloats;
}

/// B's packed panels as a constant global when B is itself a constant global (weights
/// captured with ajit::constant): packed once, at compile time, instead of on every call,
/// as a BLAS user prepacks weights (torch.compile's freezing does the same). Null when B
/// is not a constant. Products of the same weights share one packed global (`packedOf`).
/// Measured on 1000x512 . 512x768, one thread: packing is ~3% of a call.
memref::GlobalOp packConstant(const Site &s, ModuleOp module, Location loc,
                              llvm::DenseMap<Operation *, memref::GlobalOp> &packedOf) {
  auto get = s.b.getDefiningOp<memref::GetGlobalOp>();
  if (!get) return nullptr;
  auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(get, get.getNameAttr());
  auto value = global ? dyn_cast_or_null<DenseElementsAttr>(global.getConstantInitValue()) : nullptr;
  if (!value || !value.getElementType().isF32()) return nullptr;
  if (memref::GlobalOp done = packedOf.lookup(global)) return done;

  // A splat is expanded; otherwise the attribute's own storage is read (dense f32: the
  // floats themselves).
  std::vector<float> splat;
  if (value.isSplat()) splat.assign(s.batch * s.k * s.n, value.getSplatValue<float>());
  const float *b = value.isSplat() ? splat.data() : reinterpret_cast<const float *>(value.getRawData().data());
  int64_t panels = llvm::divideCeil(s.n, kPanel), perBatch = panels * s.k * kPanel;
  std::vector<float> packed(s.batch * perBatch);
  for (int64_t batch = 0; batch < s.batch; ++batch)
    ajit_uk_sgemm_pack_b(b + batch * s.k * s.n, s.n, s.k, s.n, 0, panels, packed.data() + batch * perBatch);

  OpBuilder builder(module.getContext()); // detached: SymbolTable::insert places it
  auto type = MemRefType::get({int64_t(packed.size())}, builder.getF32Type());
  auto data = DenseElementsAttr::get(RankedTensorType::get(type.getShape(), type.getElementType()),
                                     llvm::ArrayRef<float>(packed));
  auto result = memref::GlobalOp::create(builder, loc, (global.getSymName() + "_packed").str(),
                                         builder.getStringAttr("private"), type, data, /*constant=*/true,
                                         builder.getI64IntegerAttr(64));
  SymbolTable(module).insert(result, module.getBody()->begin()); // renamed if the name is taken
  packedOf[global] = result;
  return result;
}

class Emitter {
public:
  Emitter(OpBuilder &b, Location loc) : b_(b), loc_(loc) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b_, loc_, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b_, loc_, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b_, loc_, x, y); }
  Value mul(Value x, int64_t y) { return mul(x, idx(y)); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b_, loc_, x, y); }
  Value div(Value x, int64_t y) { return arith::DivUIOp::create(b_, loc_, x, idx(y)); }
  Value rem(Value x, int64_t y) { return arith::RemUIOp::create(b_, loc_, x, idx(y)); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b_, loc_, x, y); }
  /// The address of element `offset` (in floats) of an identity-layout buffer.
  Value address(Value memref, Value offset) {
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(b_, loc_, memref);
    return add(base, mul(offset, int64_t(sizeof(float))));
  }
  void call(ModuleOp module, StringRef name, ArrayRef<Value> args, TypeRange results = {}) {
    declare(module, name, args.size(), results);
    func::CallOp::create(b_, loc_, name, results, args);
  }
  Value callValue(ModuleOp module, StringRef name, ArrayRef<Value> args) {
    declare(module, name, args.size(), b_.getIndexType());
    return func::CallOp::create(b_, loc_, name, TypeRange{b_.getIndexType()}, args).getResult(0);
  }

  /// A loop over [0, n): scf.parallel marked as already split, or scf.for. The builder is
  /// left in its body.
  Value loopOver(int64_t n, bool parallel) {
    if (!parallel) {
      auto loop = scf::ForOp::create(b_, loc_, idx(0), idx(n), idx(1));
      b_.setInsertionPoint(loop.getBody()->getTerminator());
      return loop.getInductionVar();
    }
    auto loop = scf::ParallelOp::create(b_, loc_, ValueRange{idx(0)}, ValueRange{idx(n)}, ValueRange{idx(1)});
    loop->setAttr(kTileLoopAttr, b_.getUnitAttr());
    b_.setInsertionPointToStart(loop.getBody());
    return loop.getInductionVars()[0];
  }

private:
  /// A private declaration taking and returning `index` (pointers and sizes: i64 in the
  /// C ABI of kernels/matmul/Sgemm.h and the runtime's buffer functions).
  void declare(ModuleOp module, StringRef name, size_t numArgs, TypeRange results) {
    if (module.lookupSymbol(name)) return;
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(module.getBody());
    SmallVector<Type> args(numArgs, b_.getIndexType());
    auto fn = func::FuncOp::create(b_, loc_, name, b_.getFunctionType(args, results));
    fn.setPrivate();
  }

  OpBuilder &b_;
  Location loc_;
};

/// The micro-kernel call for one output tile ([batch,] rows i0.., columns j0..) and the
/// output fusion's epilogue on that tile, at the builder's insertion point.
void emitTile(Emitter &e, OpBuilder &b, Location loc, ModuleOp module, Site &s, Value out, Value packed,
              Value batch, Value i0, Value j0, Value rows, Value cols) {
  int64_t panels = llvm::divideCeil(s.n, kPanel), panelBytes = s.k * kPanel * int64_t(sizeof(float));
  Value aPtr = e.address(s.a, e.mul(e.add(e.mul(batch, s.m), i0), s.k));
  Value bPtr = packed ? e.add(packed, e.mul(e.add(e.mul(batch, panels), e.div(j0, kPanel)), panelBytes))
                      : e.address(s.b, e.add(e.mul(batch, s.k * s.n), j0));
  Value cPtr = e.address(out, e.add(e.mul(e.add(e.mul(batch, s.m), i0), s.n), j0));
  e.call(module, "ajit_uk_sgemm",
         {aPtr, e.idx(s.k), bPtr, e.idx(s.n), cPtr, e.idx(s.n), rows, cols, e.idx(s.k),
          e.idx(packed ? AJIT_UK_SGEMM_B_PACKED : 0)});
  if (!s.epilogue) return;

  // Loop dimensions of the epilogue: ([batch,] rows, cols) of the tile.
  SmallVector<OpFoldResult> offsets, sizes;
  if (s.epilogue.getNumLoops() == 3) offsets.push_back(batch), sizes.push_back(b.getIndexAttr(1));
  offsets.append({i0, j0});
  sizes.append({rows, cols});
  SmallVector<Value> operands;
  for (OpOperand &operand : s.epilogue->getOpOperands()) {
    Value v = operand.get() == s.c ? out : operand.get();
    AffineMap map = s.epilogue.getMatchingIndexingMap(&operand);
    if (map.getNumResults() == 0) {
      operands.push_back(v);
      continue;
    }
    SmallVector<OpFoldResult> offs, szs, strides(map.getNumResults(), b.getIndexAttr(1));
    for (AffineExpr expr : map.getResults()) {
      if (auto d = dyn_cast<AffineDimExpr>(expr)) {
        offs.push_back(offsets[d.getPosition()]);
        szs.push_back(sizes[d.getPosition()]);
      } else {
        offs.push_back(b.getIndexAttr(0));
        szs.push_back(b.getIndexAttr(1));
      }
    }
    operands.push_back(memref::SubViewOp::create(b, loc, v, offs, szs, strides));
  }
  Operation *tiled = b.clone(*s.epilogue);
  tiled->setOperands(operands);
  tiled->removeAttr(kMatmulEpilogueAttr);
}

/// Parallel products with at least two panels per worker and no more rows than columns
/// split by columns: worker w packs its own panels and computes every row of their
/// columns, in one parallel region. The packed panels never leave the core that wrote
/// them, and each worker's B block stays in its L2 while the rows stream past; each worker
/// then reads all of A, which costs more than it saves when A is the larger side. Measured
/// through ajit::jit on two threads, interleaved with the row split (one region packing,
/// a second sharing out row-major tiles, each core reading panels the other wrote):
/// 128^3 29.5 -> 18.1 us, 256^3 139 -> 114 us, 512^3 879 -> 825 us, 1024^3 6.76 -> 6.52 ms,
/// 2048^3 57.4 -> 55.2 ms, 2048x768x3072 + GELU 33.7 -> 32.2 ms, 4096x1024x4096 + GELU
/// 114.6 -> 111.8 ms; 32..128 x 784 x 512 even; 1000x512x768 + GELU (more rows) 2.57 ->
/// 2.60 ms, so that one keeps the row split.
bool ownsColumns(const Site &s, int64_t workers, bool parallel) {
  return parallel && s.batch == 1 && s.n >= s.m && int64_t(llvm::divideCeil(s.n, kPanel)) >= 2 * workers;
}

void rewrite(Site &s, ModuleOp module, int64_t workers, llvm::DenseMap<Operation *, memref::GlobalOp> &packedOf) {
  // At the epilogue's place, where its output buffer exists already.
  OpBuilder b(s.epilogue ? s.epilogue.getOperation() : s.matmul.getOperation());
  Location loc = s.matmul.getLoc();
  Emitter e(b, loc);
  bool parallel = workers > 1 && 2 * s.batch * s.m * s.n * s.k >= kMinParallelFlops;
  memref::GlobalOp packedGlobal = s.m >= kPackMinRows ? packConstant(s, module, loc, packedOf) : nullptr;
  bool packPerCall = !packedGlobal && packsAtRunTime(s); // into a pool buffer, on every call
  bool owners = ownsColumns(s, workers, parallel);
  // Column owners tile their columns as one thread would.
  auto [mb, nb] = tileSizes(s, parallel && !owners ? workers : 1);
  int64_t tm = llvm::divideCeil(s.m, mb), tn = llvm::divideCeil(s.n, nb), panels = llvm::divideCeil(s.n, kPanel);
  Value out = s.epilogue ? s.epilogue.getDpsInits()[0] : s.c;

  // The packed B lives in a runtime pool buffer (reused across calls: no page faults), or
  // for a constant B in a global packed now.
  Value packed;
  int64_t panelBytes = s.k * kPanel * int64_t(sizeof(float));
  int64_t packedBytes = s.batch * panels * panelBytes;
  if (packedGlobal) {
    auto get = memref::GetGlobalOp::create(b, loc, packedGlobal.getType(), packedGlobal.getSymName());
    packed = e.address(get, e.idx(0));
  } else if (packPerCall) {
    packed = e.callValue(module, "ajit_rt_buffer_acquire", {e.idx(packedBytes)});
  }
  auto packPanels = [&](Value p0, Value p1) {
    for (int64_t batch = 0; batch < s.batch; ++batch)
      e.call(module, "ajit_uk_sgemm_pack_b",
             {e.address(s.b, e.idx(batch * s.k * s.n)), e.idx(s.n), e.idx(s.k), e.idx(s.n), p0, p1,
              e.add(packed, e.idx(batch * panels * panelBytes))});
  };

  Operation *tileLoop;
  if (owners) {
    OpBuilder::InsertionGuard guard(b);
    Value w = e.loopOver(workers, /*parallel=*/true);
    tileLoop = b.getInsertionBlock()->getParentOp();
    Value p0 = e.div(e.mul(w, panels), workers), p1 = e.div(e.mul(e.add(w, e.idx(1)), panels), workers);
    if (packPerCall) packPanels(p0, p1);
    Value colEnd = e.min(e.idx(s.n), e.mul(p1, kPanel));
    auto columns = scf::ForOp::create(b, loc, e.mul(p0, kPanel), colEnd, e.idx(nb));
    b.setInsertionPoint(columns.getBody()->getTerminator());
    Value j0 = columns.getInductionVar();
    Value cols = e.min(e.idx(nb), e.sub(colEnd, j0));
    auto rowTiles = scf::ForOp::create(b, loc, e.idx(0), e.idx(s.m), e.idx(mb));
    b.setInsertionPoint(rowTiles.getBody()->getTerminator());
    Value i0 = rowTiles.getInductionVar();
    Value rows = e.min(e.idx(mb), e.sub(e.idx(s.m), i0));
    emitTile(e, b, loc, module, s, out, packed, e.idx(0), i0, j0, rows, cols);
  } else {
    if (packPerCall) {
      OpBuilder::InsertionGuard guard(b);
      int64_t chunks = parallel ? std::min(panels, workers) : 1;
      Value chunk = e.loopOver(chunks, chunks > 1);
      packPanels(e.div(e.mul(chunk, panels), chunks), e.div(e.mul(e.add(chunk, e.idx(1)), panels), chunks));
    }
    OpBuilder::InsertionGuard guard(b);
    Value t = e.loopOver(s.batch * tm * tn, parallel && s.batch * tm * tn > 1);
    tileLoop = b.getInsertionBlock()->getParentOp();
    Value batch = e.div(t, tm * tn), i = e.rem(e.div(t, tn), tm), j = e.rem(t, tn);
    Value i0 = e.mul(i, mb), j0 = e.mul(j, nb);
    Value rows = e.min(e.idx(mb), e.sub(e.idx(s.m), i0));
    Value cols = e.min(e.idx(nb), e.sub(e.idx(s.n), j0));
    emitTile(e, b, loc, module, s, out, packed, batch, i0, j0, rows, cols);
  }
  if (packPerCall) {
    b.setInsertionPointAfter(tileLoop);
    e.call(module, "ajit_rt_buffer_release", {packed, e.idx(packedBytes)});
  }

  // What the tile loop replaces: the fill, the product's loops, and with an epilogue its
  // full-size pass and the temporary.
  if (s.epilogue) s.epilogue->erase();
  s.matmul->erase();
  s.fill->erase();
  if (out != s.c && llvm::all_of(s.c.getUsers(), [](Operation *u) { return isa<memref::DeallocOp>(u); })) {
    for (Operation *u : llvm::make_early_inc_range(s.c.getUsers())) u->erase();
    s.c.getDefiningOp()->erase();
  }
}

struct TileMatmulsPass : public ajit::impl::AjitTileMatmulsBase<TileMatmulsPass> {
  using AjitTileMatmulsBase::AjitTileMatmulsBase;

  void runOnOperation() override {
    int64_t workers = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
    SmallVector<linalg::GenericOp> products;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kMatmulAttr) && op.hasPureBufferSemantics()) products.push_back(op);
    });
    llvm::DenseMap<Operation *, memref::GlobalOp> packedOf; // constant B -> its packed global
    for (linalg::GenericOp op : products)
      if (std::optional<Site> site = match(op)) rewrite(*site, getOperation(), workers, packedOf);
  }
};

} // namespace
