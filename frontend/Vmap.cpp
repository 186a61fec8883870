//===- Vmap.cpp - batching a per-example function into one program --------===//
//
// vmap traces the per-example function into a scratch trace of its own (per-example
// shapes), then replays that graph into the caller's trace op by op with a batching
// rule each (JAX's batching interpreter, run once at trace time): values that depend on
// a batched input carry the batch as their leading axis, the rest stay as they are.
// Elementwise ops take the batch along (an unbatched operand is broadcast to it);
// shape ops and reductions shift their axes by one; a product with one batched side
// folds the batch into its rows or columns, so a matrix-vector function over a batch
// becomes one matrix-matrix product, not a loop.
//
//===----------------------------------------------------------------------===//
#include "frontend/Trace.h"

#include "compiler/dialect/AjitOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace ajit {
namespace detail {
namespace {

bool isElementwise(mlir::Operation *op) {
  return mlir::isa<NegOp, AbsOp, ExpOp, LogOp, SinOp, CosOp, TanhOp, SqrtOp, RsqrtOp, SigmoidOp, ReluOp,
                   GeluTanhOp, GeluErfOp, AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, PowOp, CompareOp, SelectOp,
                   ClampOp, ConvertOp>(op);
}

Shape withBatch(int64_t batch, const Shape &s) {
  Shape r = {batch};
  r.insert(r.end(), s.begin(), s.end());
  return r;
}

std::vector<int64_t> shifted(llvm::ArrayRef<int64_t> axes) {
  std::vector<int64_t> r;
  for (int64_t a : axes) r.push_back(a + 1);
  return r;
}

/// [0, perm + 1]: a permutation of per-example axes, with the batch axis left in front.
std::vector<int64_t> batchFirstPerm(llvm::ArrayRef<int64_t> perm) {
  std::vector<int64_t> r = shifted(perm);
  r.insert(r.begin(), 0);
  return r;
}

/// Moves axis `from` of `t` to position `to`.
Tensor moveAxis(const Tensor &t, int64_t from, int64_t to) {
  if (from == to) return t;
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < t.rank(); ++i)
    if (i != from) perm.push_back(i);
  perm.insert(perm.begin() + to, from);
  return transpose(t, perm);
}

} // namespace

struct BatchTrace::Impl {
  Trace *outer = nullptr;
  std::unique_ptr<Trace> inner;
  std::vector<Tensor> outerInputs; ///< batch axis moved to the front; unbatched as given
  std::vector<bool> batchedInput;
  std::vector<Tensor> innerInputs;
  int64_t batch = -1;
  Loc loc;
};

BatchTrace::BatchTrace(const std::vector<Tensor> &inputs, const std::vector<std::optional<int64_t>> &inAxes,
                       const Loc &loc)
    : impl_(std::make_unique<Impl>()) {
  Impl &s = *impl_;
  s.loc = loc;
  if (inputs.empty()) throw Error("ajit: vmap: the function has no Tensor arguments to batch" + where(loc));
  if (!inAxes.empty() && inAxes.size() != inputs.size())
    throw Error("ajit: vmap: in_axes has " + std::to_string(inAxes.size()) + " entries for " +
                std::to_string(inputs.size()) + " Tensor arguments" + where(loc));
  s.outer = inputs[0].trace();
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::optional<int64_t> axis = inAxes.empty() ? std::optional<int64_t>(0) : inAxes[i];
    Tensor t = inputs[i];
    if (axis) {
      int64_t a = *axis < 0 ? *axis + t.rank() : *axis;
      if (a < 0 || a >= t.rank())
        throw Error("ajit: vmap: in_axes[" + std::to_string(i) + "] = " + std::to_string(*axis) +
                    " is not an axis of argument " + std::to_string(i) + " (" + t.str() + ")" + where(loc));
      if (s.batch >= 0 && t.shape()[a] != s.batch)
        throw Error("ajit: vmap: argument " + std::to_string(i) + " (" + t.str() + ") has " +
                    std::to_string(t.shape()[a]) + " along its batch axis, an earlier argument " +
                    std::to_string(s.batch) + where(loc));
      s.batch = t.shape()[a];
      t = moveAxis(t, a, 0);
    }
    s.outerInputs.push_back(t);
    s.batchedInput.push_back(axis.has_value());
  }
  if (s.batch < 0) throw Error("ajit: vmap: no argument is batched (every in_axes entry is empty)" + where(loc));
  s.inner = std::make_unique<Trace>(*s.outer->context(), "vmap_body");
  for (size_t i = 0; i < s.outerInputs.size(); ++i) {
    const Tensor &t = s.outerInputs[i];
    Shape per = t.shape();
    if (s.batchedInput[i]) per.erase(per.begin());
    s.innerInputs.push_back(s.inner->parameter(t.dtype(), per));
  }
}

BatchTrace::~BatchTrace() = default;

const std::vector<Tensor> &BatchTrace::innerInputs() const { return impl_->innerInputs; }

std::vector<Tensor> BatchTrace::finish(const std::vector<Tensor> &results, const std::vector<int64_t> &outAxes) {
  Impl &s = *impl_;
  Trace &outer = *s.outer;
  std::optional<Trace::ActiveScope> building(std::in_place, &outer);
  mlir::OpBuilder &b = outer.builder();
  const int64_t batch = s.batch;
  struct Batched {
    Tensor t;
    bool batched; ///< with the batch as its leading axis
  };
  llvm::DenseMap<mlir::Value, Batched> map;
  std::vector<mlir::Value> innerResults;
  for (const Tensor &r : results) innerResults.push_back(s.inner->unwrap(r, "vmap", s.loc));
  mlir::Block *body = &s.inner->module().getBody()->front().getRegion(0).front(); // the function's
  for (size_t i = 0; i < s.innerInputs.size(); ++i)
    map.try_emplace(body->getArgument(i), Batched{s.outerInputs[i], s.batchedInput[i]});

  auto get = [&](mlir::Value v) -> Batched & {
    auto it = map.find(v);
    if (it == map.end()) throw Error("ajit: vmap: the function reads a tensor from outside it" + where(s.loc));
    return it->second;
  };
  auto full = [&](const Batched &v) { // the value with the batch axis, broadcast if it has none
    if (v.batched) return v.t;
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < v.t.rank(); ++d) dims.push_back(d + 1);
    return broadcastInDim(v.t, withBatch(batch, v.t.shape()), dims);
  };

  for (mlir::Operation &op : *body) {
    if (mlir::isa<mlir::func::ReturnOp>(op)) continue;
    bool anyBatched = false;
    for (mlir::Value v : op.getOperands()) anyBatched |= get(v).batched;
    auto define = [&](unsigned i, const Tensor &t, bool batched) { map.try_emplace(op.getResult(i), Batched{t, batched}); };
    if (!anyBatched || isElementwise(&op)) {
      // The same op on the outer values; batched elementwise ops take every operand with
      // the batch axis and a result type that has it too.
      mlir::IRMapping m;
      for (mlir::Value v : op.getOperands())
        m.map(v, outer.unwrap(anyBatched ? full(get(v)) : get(v).t, "vmap", s.loc));
      mlir::Operation *clone = b.clone(op, m);
      for (unsigned i = 0; i < clone->getNumResults(); ++i) {
        if (anyBatched) {
          auto type = mlir::cast<mlir::RankedTensorType>(clone->getResult(i).getType());
          llvm::SmallVector<int64_t> shape = {batch};
          shape.append(type.getShape().begin(), type.getShape().end());
          clone->getResult(i).setType(mlir::RankedTensorType::get(shape, type.getElementType()));
        }
        define(i, outer.wrap(clone->getResult(i)), anyBatched);
      }
      continue;
    }
    Tensor x = get(op.getOperand(0)).t;
    if (auto bc = mlir::dyn_cast<BroadcastInDimOp>(op)) {
      auto to = mlir::cast<mlir::RankedTensorType>(bc.getType());
      define(0, broadcastInDim(x, withBatch(batch, Shape(to.getShape())), batchFirstPerm(bc.getDims())), true);
    } else if (auto rs = mlir::dyn_cast<ReshapeOp>(op)) {
      define(0, reshape(x, withBatch(batch, Shape(mlir::cast<mlir::RankedTensorType>(rs.getType()).getShape()))), true);
    } else if (auto tr = mlir::dyn_cast<TransposeOp>(op)) {
      define(0, transpose(x, batchFirstPerm(tr.getPerm())), true);
    } else if (auto red = mlir::dyn_cast<ReduceOp>(op)) {
      std::vector<int64_t> axes = shifted(red.getAxes());
      bool keep = red.getKeepdims();
      Tensor r = [&] {
        switch (red.getKind()) {
        case ReduceKind::sum: return sum(x, axes, keep);
        case ReduceKind::max: return max(x, axes, keep);
        case ReduceKind::min: return min(x, axes, keep);
        case ReduceKind::mean: return mean(x, axes, keep);
        }
        return x;
      }();
      define(0, r, true);
    } else if (auto am = mlir::dyn_cast<ArgMaxOp>(op)) {
      define(0, argmax(x, am.getAxis() + 1, am.getKeepdims()), true);
    } else if (auto an = mlir::dyn_cast<ArgMinOp>(op)) {
      define(0, argmin(x, an.getAxis() + 1, an.getKeepdims()), true);
    } else if (auto st = mlir::dyn_cast<SoftmaxStatsOp>(op)) {
      auto type = mlir::cast<mlir::RankedTensorType>(st.getMax().getType());
      llvm::SmallVector<int64_t> shape = {batch};
      shape.append(type.getShape().begin(), type.getShape().end());
      auto batched = mlir::RankedTensorType::get(shape, type.getElementType());
      auto stats = SoftmaxStatsOp::create(b, op.getLoc(), batched, batched, outer.unwrap(x, "vmap", s.loc),
                                          b.getI64IntegerAttr(st.getAxis() + 1));
      define(0, outer.wrap(stats.getMax()), true);
      define(1, outer.wrap(stats.getSum()), true);
    } else if (mlir::isa<DotOp>(op)) {
      Batched lhs = get(op.getOperand(0)), rhs = get(op.getOperand(1));
      auto resultType = mlir::cast<mlir::RankedTensorType>(op.getResult(0).getType());
      Shape out = withBatch(batch, Shape(resultType.getShape()));
      if (resultType.getRank() == 2 && lhs.batched && !rhs.batched) {
        // [B,M,K] x [K,N]: the batch joins the rows, [B*M,K] x [K,N].
        const Shape &a = lhs.t.shape();
        define(0, reshape(matmul(reshape(lhs.t, {batch * a[1], a[2]}), rhs.t), out), true);
      } else if (resultType.getRank() == 2 && !lhs.batched) {
        // [M,K] x [B,K,N]: the batch joins the columns, [M,K] x [K,B*N].
        const Shape &r = rhs.t.shape();
        Tensor cols = reshape(transpose(rhs.t, {1, 0, 2}), {r[1], batch * r[2]});
        Tensor prod = reshape(matmul(lhs.t, cols), {out[1], batch, r[2]});
        define(0, transpose(prod, {1, 0, 2}), true);
      } else if (resultType.getRank() == 2) {
        define(0, matmul(lhs.t, rhs.t), true); // [B,M,K] x [B,K,N]: a batched product
      } else {
        // Already batched per example, [b,M,K] x [b,K,N]: fold the two batches together.
        Tensor l = full(lhs), r = full(rhs);
        const Shape &ls = l.shape(), &rsh = r.shape();
        Tensor prod = matmul(reshape(l, {batch * ls[1], ls[2], ls[3]}), reshape(r, {batch * rsh[1], rsh[2], rsh[3]}));
        define(0, reshape(prod, out), true);
      }
    } else {
      throw Error("ajit: vmap: no batching rule for '" + op.getName().getStringRef().str() + "'" + where(s.loc));
    }
  }

  if (!outAxes.empty() && outAxes.size() != innerResults.size())
    throw Error("ajit: vmap: out_axes has " + std::to_string(outAxes.size()) + " entries for " +
                std::to_string(innerResults.size()) + " results" + where(s.loc));
  std::vector<Tensor> out;
  for (size_t i = 0; i < innerResults.size(); ++i) {
    Batched &v = get(innerResults[i]);
    Tensor t = full(v);
    int64_t axis = outAxes.empty() ? 0 : outAxes[i];
    if (axis < 0) axis += t.rank();
    if (axis < 0 || axis >= t.rank())
      throw Error("ajit: vmap: out_axes[" + std::to_string(i) + "] is not an axis of the batched result " + t.str() +
                  where(s.loc));
    out.push_back(moveAxis(t, 0, axis));
  }
  building.reset();
  s.inner.reset(); // the scratch trace is done; the caller's is active again
  return out;
}

} // namespace detail
} // namespace ajit
