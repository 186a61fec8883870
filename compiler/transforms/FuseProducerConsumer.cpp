//===- FuseProducerConsumer.cpp - XLA-style producer-consumer fusion --------===//
//
// Groups graph ops into `ajit.fusion` regions. Walking the block from its end, every op
// that can drive a loop and is not yet grouped becomes the root of a group; each op before
// it whose result feeds a member is then fused into the group when the cost model allows:
//
// - all of its users are in the group: it moves in;
// - otherwise, when it is cheap (arithmetic, broadcast, convert, constant...), a copy is
//   computed inside the group and the original stays for the other users;
// - otherwise, when its other users all come after the root, it moves in and the group
//   yields it too (a multi-output fusion, e.g. Adam's new m and v beside the new param);
// - otherwise it stays out: recomputing an expensive op, or a reduction or matmul per
//   element of the consumer, would repeat work.
// An f32 matmul whose users are all elementwise members is the exception: it heads the
// group (an output fusion), the members becoming an epilogue applied to each tile of the
// product while the tile is in cache; its operands, and the ops computing them, stay out.
// An expensive producer is also refused when the group's loop is larger than the producer
// (the consumer broadcasts it): each of its elements would be computed many times.
//
// Requiring a multi-output's outside users to follow the root keeps the groups acyclic:
// a group never needs a value that itself needs the group.
//
//===----------------------------------------------------------------------===//
#include "compiler/transforms/FusionRules.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

#include <queue>

namespace ajit {
#define GEN_PASS_DEF_AJITFUSEPRODUCERCONSUMER
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;
using namespace ajit;

namespace {

struct Group {
  Operation *root;
  llvm::SetVector<Operation *> members;     ///< root first, then producers latest first
  llvm::DenseSet<Operation *> duplicated;   ///< members whose original stays outside too
  llvm::SmallVector<Operation *> extraOutputs;
  DotOp matmul; ///< the head of an output fusion, or null
};

class GroupBuilder {
public:
  GroupBuilder(Block &block, bool report) : block_(block), report_(report) {}

  std::vector<Group> formGroups() {
    std::vector<Operation *> ops;
    for (Operation &op : block_) {
      position_[&op] = ops.size();
      ops.push_back(&op);
    }
    std::vector<Group> groups;
    for (size_t i = ops.size(); i-- > 0;) {
      Operation *root = ops[i];
      if (owner_.count(root) || !fusion::isRoot(root)) continue;
      Group g{root, {}, {}, {}, {}};
      // Producers of members, latest first: when one is decided, all of its users that
      // can join the group already have.
      std::priority_queue<std::pair<size_t, Operation *>> candidates;
      llvm::DenseSet<Operation *> queued;
      auto join = [&](Operation *member) {
        for (Value operand : member->getOperands())
          if (Operation *def = operand.getDefiningOp(); def && def->getBlock() == &block_ &&
                                                          queued.insert(def).second)
            candidates.push({position_.lookup(def), def});
      };
      moveIn(g, root);
      join(root);
      while (!candidates.empty()) {
        Operation *p = candidates.top().second;
        candidates.pop();
        if (considerProducer(g, p)) join(p);
      }
      duplicatedIn_.push_back(g.duplicated);
      recordOperandsOfCopies(g);
      if (g.members.size() > 1) groups.push_back(std::move(g));
    }
    return groups;
  }

private:
  /// Decides whether `p`, which feeds a member of `g`, joins it; true when it does and
  /// its own producers are to be considered next.
  bool considerProducer(Group &g, Operation *p) {
    if (owner_.count(p)) return false;
    if (auto dot = dyn_cast<DotOp>(p)) return considerMatmul(g, dot);
    if (g.matmul && llvm::is_contained(p->getUsers(), g.matmul.getOperation()))
      return refuse(g, p, "it feeds the matmul of the fusion, which reads its operands whole");
    if (auto why = fusion::whyNotProducer(p)) return refuse(g, p, *why);
    int64_t loop = fusion::loopElements(g.root);
    if (!fusion::isCheap(p) && fusion::numElements(p) < loop)
      return refuse(g, p, "it is broadcast in the loop (" + std::to_string(loop) +
                              " iterations over " + std::to_string(fusion::numElements(p)) +
                              " elements), so each element would be recomputed");

    SmallVector<Operation *> outside;
    for (Operation *u : p->getUsers()) {
      Operation *user = block_.findAncestorOpInBlock(*u);
      if (!movedInto(g, user) && !copiedInto(p, user)) outside.push_back(user);
    }
    // Copies made by earlier groups read their operands from outside those groups.
    if (auto it = readByCopies_.find(p); it != readByCopies_.end())
      for (Operation *reader : it->second)
        if (!g.members.contains(reader)) outside.push_back(reader);
    if (outside.empty()) {
      moveIn(g, p);
      return true;
    }
    // Prefer storing the value from this loop to recomputing it elsewhere.
    bool allAfterRoot = llvm::all_of(outside, [&](Operation *u) {
      return !g.members.contains(u) && g.root->isBeforeInBlock(u);
    });
    if (allAfterRoot) {
      moveIn(g, p);
      g.extraOutputs.push_back(p);
      remark(p, "also yielded by the fusion rooted at " + describe(g.root) +
                    " (multi-output): used after it as well");
      return true;
    }
    if (fusion::isCheap(p)) {
      g.members.insert(p);
      g.duplicated.insert(p);
      remark(p, "duplicated into the fusion rooted at " + describe(g.root) +
                    ": cheap to recompute, also used by " + describe(outside.front()));
      return true;
    }
    return refuse(g, p, "it is expensive and also used by " + describe(outside.front()) +
                            ", which the fusion needs first; recomputing it would repeat its work");
  }

  /// An output fusion: the matmul heads the group, its elementwise consumers become the
  /// epilogue applied to each tile of the product. Its operands stay outside (returns
  /// false): the tiled kernel reads them whole.
  bool considerMatmul(Group &g, DotOp dot) {
    if (g.matmul) return refuse(g, dot, "the fusion already holds a matmul");
    auto inside = [&](Operation *user) { return movedInto(g, block_.findAncestorOpInBlock(*user)); };
    if (auto why = fusion::whyNotEpilogueOf(dot, g.root, inside)) return refuse(g, dot, *why);
    // A copy of one of its users, made for an earlier group, reads the product too.
    if (auto it = readByCopies_.find(dot); it != readByCopies_.end())
      for (Operation *reader : it->second)
        if (!g.members.contains(reader))
          return refuse(g, dot, "the product is also read by a copy of its user in the fusion rooted at " +
                                    describe(reader) + ", which needs it whole");
    moveIn(g, dot);
    g.matmul = dot;
    remark(dot, "heads an output fusion: the ops up to " + describe(g.root) +
                    " are applied to each tile of the product");
    return false;
  }

  /// Whether `op` (an op of the block) is in `g` itself, not only as a copy.
  static bool movedInto(const Group &g, Operation *op) {
    return g.members.contains(op) && !g.duplicated.contains(op);
  }

  /// The index of the group being formed: the next one duplicatedIn_ records.
  size_t formingIndex() const { return duplicatedIn_.size(); }

  void moveIn(Group &g, Operation *p) {
    g.members.insert(p);
    owner_[p] = formingIndex();
  }

  /// The copy of a duplicated member reads its operands from outside the group (unless
  /// they are members too): the group's root stands for that reader from now on, since the
  /// original member (the visible user) may later move into another group.
  void recordOperandsOfCopies(const Group &g) {
    for (Operation *copy : g.duplicated)
      for (Value operand : copy->getOperands())
        if (Operation *def = operand.getDefiningOp(); def && !g.members.contains(def))
          readByCopies_[def].push_back(g.root);
  }

  /// True when `user` belongs to a group that computes its own copy of `p`: it does not
  /// need the original.
  bool copiedInto(Operation *p, Operation *user) const {
    auto it = owner_.find(user);
    return it != owner_.end() && it->second != formingIndex() &&
           duplicatedIn_[it->second].contains(p);
  }

  bool refuse(const Group &g, Operation *p, const std::string &why) {
    remark(p, "not fused into the fusion rooted at " + describe(g.root) + ": " + why);
    return false;
  }

  void remark(Operation *p, const std::string &text) {
    if (report_) p->emitRemark() << text;
  }

  static std::string describe(Operation *op) {
    std::string s = fusion::opName(op);
    if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc()))
      s += " (line " + std::to_string(loc.getLine()) + ")";
    return s;
  }

  Block &block_;
  bool report_;
  llvm::DenseMap<Operation *, size_t> position_; ///< op -> its index in the block
  llvm::DenseMap<Operation *, size_t> owner_; ///< op -> the group it moved into (not copies)
  std::vector<llvm::DenseSet<Operation *>> duplicatedIn_; ///< per formed group: ops it copies
  llvm::DenseMap<Operation *, SmallVector<Operation *>> readByCopies_; ///< op -> roots
};

/// Replaces the members of `g` by one `ajit.fusion` op at the root's place.
void materialize(Group &g) {
  SmallVector<Operation *> order(g.members.rbegin(), g.members.rend()); // block order
  SmallVector<Value> outputs(g.root->getResults());
  for (Operation *p : g.extraOutputs) llvm::append_range(outputs, p->getResults());

  OpBuilder b(g.root);
  FusionKind kind = g.matmul                       ? FusionKind::output
                    : fusion::isReduction(g.root) ? FusionKind::input
                                                  : FusionKind::loop;
  auto fusionOp = fusion::cloneIntoFusion(b, g.root->getLoc(), kind, order, outputs);

  for (auto [old, repl] : llvm::zip(outputs, fusionOp.getResults()))
    old.replaceUsesWithIf(repl, [&](OpOperand &use) {
      return !fusionOp->isProperAncestor(use.getOwner());
    });
  for (Operation *op : llvm::reverse(order))
    if (!g.duplicated.contains(op)) op->erase();
}

struct FuseProducerConsumerPass
    : public ajit::impl::AjitFuseProducerConsumerBase<FuseProducerConsumerPass> {
  using AjitFuseProducerConsumerBase::AjitFuseProducerConsumerBase;

  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp fn) {
      if (fn.isExternal()) return;
      Block &block = fn.getBody().front();
      GroupBuilder builder(block, report);
      std::vector<Group> groups = builder.formGroups();
      for (Group &g : groups) materialize(g);
      // Originals of duplicated ops that every user now computes itself.
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
        if (isOpTriviallyDead(&op)) op.erase();
    });
  }
};

} // namespace
