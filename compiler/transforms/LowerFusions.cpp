//===- LowerFusions.cpp - one loop nest per ajit.fusion region --------------===//
//
// Runs after ajit-lower-to-linalg, when each fusion region holds linalg ops on tensors.
// Upstream elementwise fusion (producer into consumer, reductions included, keeping a
// producer's result as an extra output when it is yielded too) and reshape propagation are
// applied, but only between ops of the same region: the graph-level passes decided the
// groups, this pass carries the decision out. The regions are then dissolved, leaving one
// linalg op per fusion in the function.
//
//===----------------------------------------------------------------------===//
#include "compiler/conversion/LaneReduction.h"
#include "compiler/dialect/AjitOps.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ajit {
#define GEN_PASS_DEF_AJITLOWERFUSIONS
#include "compiler/transforms/Passes.h.inc"
} // namespace ajit

using namespace mlir;
using namespace ajit;

namespace {

bool usedOnlyBy(Value value, Operation *consumer) {
  return llvm::all_of(value.getUsers(), [&](Operation *u) { return u == consumer; });
}

bool allResultsUsedOnlyBy(Operation *producer, Operation *consumer) {
  return llvm::all_of(producer->getResults(), [&](Value r) { return usedOnlyBy(r, consumer); });
}

/// Fuse only when producer and consumer sit in the same fusion region, and only a
/// producer whose results no other op needs: upstream fusion would otherwise compute them
/// twice, inside the consumer and in the producer's own loop kept for the other users.
/// Such results are first routed through the consumer (YieldProducerThroughConsumer).
/// The walks for explicit loops come last: the greedy driver asks for every operand.
bool sameFusion(OpOperand *operand) {
  Operation *producer = operand->get().getDefiningOp();
  if (!producer) return false;
  auto fusion = producer->getParentOfType<FusionOp>();
  if (!fusion || fusion != operand->getOwner()->getParentOfType<FusionOp>()) return false;
  return allResultsUsedOnlyBy(producer, operand->getOwner()) && !hasLaneLoops(producer) &&
         !hasLaneLoops(operand->getOwner());
}

/// Multi-output fusion at the loop level: `e = exp(x); s = sum(e)` with `e` yielded too
/// (or Adam's new m, read by the parameter update and returned). The consumer gets one
/// more output per producer result that other ops need, indexed like the operand it reads
/// from that producer; its body writes the element there, and the other users read that
/// output instead. The producer then feeds only the consumer and fuses into it, so one
/// loop computes `e`, stores it and uses it.
struct YieldProducerThroughConsumer : public OpRewritePattern<linalg::GenericOp> {
  YieldProducerThroughConsumer(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    auto region = consumer->getParentOfType<FusionOp>();
    if (!region) return failure();
    for (OpOperand *input : consumer.getDpsInputOperands()) {
      auto producer = input->get().getDefiningOp<linalg::GenericOp>();
      if (!producer || producer->getParentOfType<FusionOp>() != region ||
          producer.getNumReductionLoops() != 0 || allResultsUsedOnlyBy(producer, consumer))
        continue;
      // Each element must be visited exactly once, and every producer result must be
      // addressed like the one read here.
      AffineMap map = consumer.getMatchingIndexingMap(input);
      if (!map.isPermutation()) continue;
      bool identityOutputs = llvm::all_of(producer->getOpResults(), [&](OpResult r) {
        return producer.getIndexingMapMatchingResult(r).isIdentity();
      });
      if (!identityOutputs) continue;
      SmallVector<Value> routed;
      for (Value r : producer->getResults())
        if (!usedOnlyBy(r, consumer)) routed.push_back(r);
      // The other users will read the consumer's result: they must come after it (an
      // earlier user is the one to route through instead).
      bool usersFollow = llvm::all_of(routed, [&](Value r) {
        return llvm::all_of(r.getUsers(), [&](Operation *u) {
          Operation *user = consumer->getBlock()->findAncestorOpInBlock(*u);
          return user == consumer || !user || consumer->isBeforeInBlock(user);
        });
      });
      if (!usersFollow) continue;
      route(consumer, routed, map, rewriter);
      return success();
    }
    return failure();
  }

  static void route(linalg::GenericOp consumer, ArrayRef<Value> routed, AffineMap map,
                    PatternRewriter &rewriter) {
    Location loc = consumer.getLoc();
    SmallVector<Value> inputs(consumer.getDpsInputs());
    SmallVector<AffineMap> inputMaps, outputMaps;
    for (OpOperand *in : consumer.getDpsInputOperands())
      inputMaps.push_back(consumer.getMatchingIndexingMap(in));
    for (OpOperand &out : consumer.getDpsInitsMutable())
      outputMaps.push_back(consumer.getMatchingIndexingMap(&out));
    size_t oldInputs = inputs.size();

    // The input each routed value is read through: an existing one, or a new one.
    SmallVector<unsigned> readAt;
    for (Value r : routed) {
      auto it = llvm::find_if(llvm::seq<size_t>(0, oldInputs),
                              [&](size_t i) { return inputs[i] == r && inputMaps[i] == map; });
      if (it != llvm::seq<size_t>(0, oldInputs).end()) {
        readAt.push_back(*it);
        continue;
      }
      readAt.push_back(inputs.size());
      inputs.push_back(r);
      inputMaps.push_back(map);
    }
    SmallVector<Value> outs(consumer.getDpsInits());
    SmallVector<Type> resultTypes(consumer.getResultTypes());
    for (Value r : routed) {
      auto type = cast<RankedTensorType>(r.getType());
      outs.push_back(tensor::EmptyOp::create(rewriter, loc, type.getShape(), type.getElementType()));
      resultTypes.push_back(type);
      outputMaps.push_back(map);
    }
    SmallVector<AffineMap> maps(inputMaps);
    llvm::append_range(maps, outputMaps);

    auto fused = linalg::GenericOp::create(rewriter, loc, resultTypes, inputs, outs, maps,
                                           consumer.getIteratorTypesArray());
    rewriter.inlineRegionBefore(consumer.getRegion(), fused.getRegion(), fused.getRegion().begin());
    Block &body = fused.getRegion().front();
    for (size_t i = oldInputs; i < inputs.size(); ++i)
      body.insertArgument(i, cast<ShapedType>(inputs[i].getType()).getElementType(), loc);
    SmallVector<Value> elements;
    for (auto [r, at] : llvm::zip(routed, readAt)) {
      elements.push_back(body.getArgument(at));
      body.addArgument(cast<ShapedType>(r.getType()).getElementType(), loc);
    }
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    rewriter.modifyOpInPlace(yield, [&] { yield->insertOperands(yield->getNumOperands(), elements); });

    for (auto [i, r] : llvm::enumerate(routed))
      rewriter.replaceUsesWithIf(r, fused->getResult(consumer.getNumResults() + i),
                                 [&](OpOperand &use) { return use.getOwner() != fused.getOperation(); });
    rewriter.replaceOp(consumer, fused->getResults().take_front(consumer.getNumResults()));
  }
};

/// In an output fusion, the generic that reads the product is the epilogue (the rest of
/// the region fused into it); ajit-tile-matmuls applies it to each tile once on buffers.
/// Without one (the region then only fused ops beside the product), nothing is marked.
void markEpilogue(FusionOp fusion) {
  if (fusion.getKind() != FusionKind::output) return;
  fusion.walk([&](linalg::GenericOp op) {
    if (!op->hasAttr(kMatmulAttr) || !op->getResult(0).hasOneUse()) return;
    auto epilogue = dyn_cast<linalg::GenericOp>(*op->getResult(0).getUsers().begin());
    if (epilogue && epilogue.getNumReductionLoops() == 0)
      epilogue->setAttr(kMatmulEpilogueAttr, UnitAttr::get(op->getContext()));
  });
}

/// Sibling fusion at the loop level (ajit-fuse-siblings merged the regions): the
/// all-parallel generics of a loop fusion that only the region's yield reads, over the
/// same loop ranges, become one generic computing each body in turn.
void mergeSiblingGenerics(FusionOp fusion) {
  if (fusion.getKind() != FusionKind::loop) return;
  Block &body = fusion.getBody().front();
  Operation *yield = body.getTerminator();
  SmallVector<linalg::GenericOp> siblings;
  for (auto op : body.getOps<linalg::GenericOp>()) {
    bool onlyYielded = llvm::all_of(op->getUsers(), [&](Operation *u) { return u == yield; });
    if (onlyYielded && op.getNumReductionLoops() == 0 && !hasLaneLoops(op) &&
        (siblings.empty() || op.getStaticLoopRanges() == siblings.front().getStaticLoopRanges()))
      siblings.push_back(op);
  }
  if (siblings.size() < 2) return;
  // At the last sibling's place: everything any of them reads is defined by then.
  OpBuilder b(siblings.back());
  SmallVector<Value> inputs, inits;
  SmallVector<AffineMap> inputMaps, initMaps;
  SmallVector<Type> resultTypes;
  for (linalg::GenericOp op : siblings) {
    for (OpOperand *in : op.getDpsInputOperands()) {
      inputs.push_back(in->get());
      inputMaps.push_back(op.getMatchingIndexingMap(in));
    }
    for (OpOperand &init : op.getDpsInitsMutable()) {
      inits.push_back(init.get());
      initMaps.push_back(op.getMatchingIndexingMap(&init));
    }
    llvm::append_range(resultTypes, op->getResultTypes());
  }
  SmallVector<AffineMap> maps(inputMaps);
  llvm::append_range(maps, initMaps);
  auto merged = linalg::GenericOp::create(b, fusion.getLoc(), resultTypes, inputs, inits, maps,
                                          siblings.front().getIteratorTypesArray());
  Block *mergedBody = b.createBlock(&merged.getRegion());
  for (Value v : inputs) mergedBody->addArgument(getElementTypeOrSelf(v.getType()), fusion.getLoc());
  for (Value v : inits) mergedBody->addArgument(getElementTypeOrSelf(v.getType()), fusion.getLoc());
  SmallVector<Value> yielded;
  size_t nextInput = 0, nextInit = inputs.size();
  for (linalg::GenericOp op : siblings) {
    Block &opBody = op.getRegion().front();
    IRMapping map;
    for (OpOperand *in : op.getDpsInputOperands())
      map.map(opBody.getArgument(in->getOperandNumber()), mergedBody->getArgument(nextInput++));
    for (OpOperand &init : op.getDpsInitsMutable())
      map.map(opBody.getArgument(init.getOperandNumber()), mergedBody->getArgument(nextInit++));
    for (Operation &inner : opBody.without_terminator()) b.clone(inner, map);
    for (Value v : opBody.getTerminator()->getOperands()) yielded.push_back(map.lookupOrDefault(v));
  }
  linalg::YieldOp::create(b, fusion.getLoc(), yielded);
  size_t next = 0;
  for (linalg::GenericOp op : siblings) {
    op->replaceAllUsesWith(merged->getResults().slice(next, op->getNumResults()));
    next += op->getNumResults();
    op->erase();
  }
}

void dissolve(FusionOp fusion) {
  Block &body = fusion.getBody().front();
  auto yield = cast<YieldOp>(body.getTerminator());
  SmallVector<Value> values(yield.getValues());
  yield.erase();
  fusion->getBlock()->getOperations().splice(fusion->getIterator(), body.getOperations());
  fusion.replaceAllUsesWith(values);
  fusion.erase();
}

/// Carries ajit.arg_reduce from an argmax / argmin generic to the generic fused from it
/// and a producer (upstream's fusion builds the new op, without the old one's
/// attributes, right before the consumer it then erases): the PTX target's block
/// reduction and the split of long argmaxes recognise the pair reduction by it, and
/// without it a fused argmax ran on one GPU thread. The new op is recognised by its
/// place, its loops and its leading results (the consumer's).
struct KeepArgReduceMarker : public RewriterBase::Listener {
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    auto fused = dyn_cast<linalg::GenericOp>(op);
    auto marked = fused ? dyn_cast_or_null<linalg::GenericOp>(op->getNextNode()) : linalg::GenericOp();
    if (!marked || !marked->hasAttr(ajit::kArgReduceAttr) || fused->hasAttr(ajit::kArgReduceAttr) ||
        fused.getIteratorTypesArray() != marked.getIteratorTypesArray() ||
        fused->getNumResults() < marked->getNumResults() ||
        TypeRange(fused->getResultTypes()).take_front(marked->getNumResults()) != TypeRange(marked->getResultTypes()))
      return;
    fused->setAttr(ajit::kArgReduceAttr, marked->getAttr(ajit::kArgReduceAttr));
  }
};

struct LowerFusionsPass : public ajit::impl::AjitLowerFusionsBase<LowerFusionsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<YieldProducerThroughConsumer>(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, sameFusion);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, sameFusion);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    KeepArgReduceMarker keepMarker;
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    config.setListener(&keepMarker);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();

    SmallVector<FusionOp> fusions;
    getOperation().walk([&](FusionOp op) { fusions.push_back(op); });
    for (FusionOp op : fusions) {
      mergeSiblingGenerics(op);
      markEpilogue(op);
      dissolve(op);
    }
  }
};

} // namespace
