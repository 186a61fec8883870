//===- ReuseDonatedInputs.cpp - results in the buffers of donated arguments -===//
//
// XLA's input/output aliasing on bufferized public functions (see Passes.td). An
// optimizer step `(p, g, m) -> (p', m')` with p and m donated then reads and writes two
// buffers fewer per element: no fresh output pages, no read-for-ownership of them.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace ajit {
#define GEN_PASS_DEF_AJITREUSEDONATEDINPUTS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;

namespace {

constexpr const char *kDonate = "ajit.donate";
constexpr const char *kReusesInput = "ajit.reuses_input";

/// One access of a top-level op to a buffer. `operand` is set when the access is a
/// linalg operand of the op itself (its indexing map says which elements), null when
/// it is anything else (a nested op, a call, a copy): unknown elements.
struct Access {
  Value root;
  bool write;
  OpOperand *operand;
};

/// Every buffer access of `op`, nested ops included. Views only name memory; the ops
/// that use them access it.
SmallVector<Access> accessesOf(Operation *op) {
  SmallVector<Access> out;
  auto add = [&](Value v, bool write, OpOperand *operand = nullptr) {
    if (auto memref = dyn_cast<TypedValue<BaseMemRefType>>(v))
      out.push_back({memref::skipViewLikeOps(memref), write, operand});
  };
  if (isa<ViewLikeOpInterface, memref::AllocOp, memref::AllocaOp, memref::DeallocOp>(op))
    return out;
  if (isa<func::ReturnOp>(op)) {
    for (Value v : op->getOperands()) add(v, /*write=*/false);
    return out;
  }
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    for (OpOperand *in : linalgOp.getDpsInputOperands()) add(in->get(), false, in);
    for (OpOperand &init : linalgOp.getDpsInitsMutable()) add(init.get(), true, &init);
  } else if (auto effects = dyn_cast<MemoryEffectOpInterface>(op)) {
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    for (auto &e : list) {
      Value v = e.getValue();
      if (!v) { // an effect on unnamed memory: any operand may be read or written
        for (Value operand : op->getOperands()) add(operand, true);
        continue;
      }
      if (isa<MemoryEffects::Read>(e.getEffect())) add(v, false);
      if (isa<MemoryEffects::Write>(e.getEffect())) add(v, true);
    }
  } else {
    for (Value operand : op->getOperands()) add(operand, true);
  }
  // Buffers used inside the op's regions but defined outside it.
  op->walk([&](Operation *inner) {
    if (inner == op) return;
    for (Value v : inner->getOperands())
      if (!op->isAncestor(v.getParentBlock()->getParentOp())) add(v, true);
  });
  return out;
}

/// Whether the result buffer `result` (a memref.alloc) can be the donated argument's:
/// every read of `arg` happens before `result` is first written, or in the one op that
/// writes it, element by element (same permutation map, all loops parallel).
bool canReuse(BlockArgument arg, memref::AllocOp result, ArrayRef<std::pair<Operation *, SmallVector<Access>>> ops) {
  Value r = result.getResult();
  SmallVector<size_t> writers;
  for (size_t i = 0; i < ops.size(); ++i)
    if (llvm::any_of(ops[i].second, [&](const Access &a) { return a.root == r && a.write; })) writers.push_back(i);
  if (writers.empty()) return false;
  size_t first = writers.front();
  // A matmul epilogue (ajit-tile-matmuls) is applied tile by tile to the product written
  // straight into the result's buffer: the result is written from the first op writing
  // the product (its fill or the matmul itself), so the matmul may not read the argument.
  for (size_t w : writers) {
    if (!ops[w].first->hasAttr(ajit::kMatmulEpilogueAttr)) continue;
    for (const Access &in : ops[w].second) {
      if (in.write || in.root == r) continue;
      for (size_t i = 0; i < w; ++i)
        if (llvm::any_of(ops[i].second, [&](const Access &a) { return a.root == in.root && a.write; }))
          first = std::min(first, i);
    }
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    auto &[op, accesses] = ops[i];
    bool readsArg = false;
    for (const Access &a : accesses)
      if (a.root == arg) {
        if (a.write) return false; // arguments are read-only; never reuse a buffer written otherwise
        readsArg = true;
      }
    if (!readsArg || i < first) continue;
    if (writers.size() != 1 || i != first) return false;
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (!generic || generic.getNumReductionLoops() != 0) return false;
    OpOperand *written = nullptr;
    for (const Access &a : accesses) {
      if (a.root == r && (!a.write || written || !a.operand || a.operand->get() != r)) return false;
      if (a.root == r) written = a.operand;
    }
    AffineMap map = generic.getMatchingIndexingMap(written);
    if (!map.isPermutation()) return false;
    for (const Access &a : accesses)
      if (a.root == arg && (!a.operand || a.operand->get() != arg || generic.getMatchingIndexingMap(a.operand) != map))
        return false;
  }
  return true;
}

void reuseDonatedInputs(func::FuncOp fn) {
  if (!fn.getBody().hasOneBlock()) return;
  Block &body = fn.getBody().front();
  SmallVector<BlockArgument> donated;
  for (BlockArgument arg : body.getArguments())
    if (fn.getArgAttr(arg.getArgNumber(), kDonate) && isa<MemRefType>(arg.getType())) donated.push_back(arg);
  if (donated.empty()) return;
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!ret) return;

  // Each top-level op's accesses, in block order; taken again after a pairing rewrites
  // uses and moves an alloc.
  SmallVector<std::pair<Operation *, SmallVector<Access>>> ops;
  auto takeAccesses = [&] {
    ops.clear();
    for (Operation &op : body) ops.push_back({&op, accessesOf(&op)});
  };
  takeAccesses();
  for (OpOperand &resultOperand : ret->getOpOperands()) {
    auto alloc = resultOperand.get().getDefiningOp<memref::AllocOp>();
    // Static: only those become out-params, and such an alloc can move to the top.
    if (!alloc || alloc->getBlock() != &body || !alloc.getType().hasStaticShape()) continue;
    // The same buffer returned twice cannot be two out-params (CopyRepeatedResults).
    if (llvm::count_if(ret->getOperands(), [&](Value v) { return v == alloc.getResult(); }) != 1) continue;
    for (auto it = donated.begin(); it != donated.end(); ++it) {
      BlockArgument arg = *it;
      if (arg.getType() != alloc.getType() || !canReuse(arg, alloc, ops)) continue;
      // The caller fills the result's buffer with the argument; reads of the argument
      // read that buffer, so only one pointer reaches the loops.
      if (llvm::any_of(arg.getUsers(), [&](Operation *user) {
            return body.findAncestorOpInBlock(*user)->isBeforeInBlock(alloc);
          }))
        alloc->moveBefore(&body.front());
      arg.replaceAllUsesWith(alloc.getResult());
      fn.setResultAttr(resultOperand.getOperandNumber(), kReusesInput,
                       IntegerAttr::get(IntegerType::get(fn.getContext(), 64), arg.getArgNumber()));
      donated.erase(it);
      takeAccesses();
      break;
    }
  }
}

struct ReuseDonatedInputsPass : public ajit::impl::AjitReuseDonatedInputsBase<ReuseDonatedInputsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isExternal()) reuseDonatedInputs(fn);
  }
};

} // namespace
