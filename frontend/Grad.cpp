//===- Grad.cpp - reverse-mode differentiation of a traced program --------===//
//
// grad works on the graph IR while it is being traced (JAX's jvp+transpose, done here
// directly as one VJP rule per op): the forward ops that lead from the inputs to the
// output are already in the trace; walking them in reverse, each rule appends the ops
// of its operands' cotangents to the same trace, with the public tensor API. The
// backward pass is therefore just more graph IR: it fuses and compiles with the forward
// pass under one jit, and grad of grad works the same way.
//
//===----------------------------------------------------------------------===//
#include "frontend/Trace.h"

#include "compiler/dialect/AjitOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>
#include <numbers>
#include <optional>

namespace ajit {
namespace detail {
namespace {

Tensor zerosLike(const Tensor &t) { return fullLike(t, 0.0); }
Tensor mask(const Tensor &cond, const Tensor &like) { return astype(cond, like.dtype()); }

/// `ct` (shaped as a reduction's result) broadcast back over the reduced axes of `shape`.
Tensor unreduce(const Tensor &ct, const Shape &shape, llvm::ArrayRef<int64_t> axes, bool keepdims) {
  Shape kept = shape;
  for (int64_t a : axes) kept[a] = 1;
  Tensor c = keepdims ? ct : reshape(ct, kept);
  return broadcastTo(c, shape);
}

/// Cotangents of the operands of `op` from the cotangents `ct` of its results (null
/// where a result has none). Returns one optional per operand: empty where the operand
/// gets nothing (integers, bools, the op has no derivative there).
std::vector<std::optional<Tensor>> vjpRule(Trace &trace, mlir::Operation *op, const std::vector<std::optional<Tensor>> &ct) {
  using namespace ajit;
  auto in = [&](unsigned i) { return trace.wrap(op->getOperand(i)); };
  auto out = [&](unsigned i) { return trace.wrap(op->getResult(i)); };
  std::vector<std::optional<Tensor>> r(op->getNumOperands());
  if (!ct[0] && op->getNumResults() == 1) return r;
  const double sqrt2OverPi = std::sqrt(2.0 / std::numbers::pi);

  if (mlir::isa<NegOp>(op)) r[0] = -*ct[0];
  else if (mlir::isa<AbsOp>(op)) {
    Tensor x = in(0);
    r[0] = where(x > 0.0, *ct[0], where(x < 0.0, -*ct[0], zerosLike(x)));
  } else if (mlir::isa<ExpOp>(op)) r[0] = *ct[0] * out(0);
  else if (mlir::isa<LogOp>(op)) r[0] = *ct[0] / in(0);
  else if (mlir::isa<SinOp>(op)) r[0] = *ct[0] * cos(in(0));
  else if (mlir::isa<CosOp>(op)) r[0] = -(*ct[0] * sin(in(0)));
  else if (mlir::isa<TanhOp>(op)) {
    Tensor y = out(0);
    r[0] = *ct[0] * (1.0 - y * y);
  } else if (mlir::isa<SqrtOp>(op)) r[0] = *ct[0] * 0.5 / out(0);
  else if (mlir::isa<RsqrtOp>(op)) r[0] = *ct[0] * -0.5 * out(0) / in(0);
  else if (mlir::isa<SigmoidOp>(op)) {
    Tensor y = out(0);
    r[0] = *ct[0] * y * (1.0 - y);
  } else if (mlir::isa<ReluOp>(op)) r[0] = where(in(0) > 0.0, *ct[0], zerosLike(*ct[0]));
  else if (mlir::isa<GeluTanhOp>(op)) {
    // 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t = tanh(c (x + a x^3)).
    Tensor x = in(0);
    Tensor t = tanh((x + x * x * x * 0.044715) * sqrt2OverPi);
    Tensor d = (1.0 + t) * 0.5 + x * 0.5 * (1.0 - t * t) * sqrt2OverPi * (1.0 + x * x * (3 * 0.044715));
    r[0] = *ct[0] * d;
  } else if (mlir::isa<GeluErfOp>(op)) {
    // Phi(x) + x phi(x); Phi(x) = gelu(x) / x (0.5 at 0): the API has no erf.
    Tensor x = in(0);
    Tensor phi = exp(x * x * -0.5) * (1.0 / std::sqrt(2 * std::numbers::pi));
    Tensor atZero = x == zerosLike(x);
    Tensor cdf = where(atZero, fullLike(x, 0.5), out(0) / where(atZero, fullLike(x, 1.0), x));
    r[0] = *ct[0] * (cdf + x * phi);
  } else if (mlir::isa<AddOp>(op)) r[0] = *ct[0], r[1] = *ct[0];
  else if (mlir::isa<SubOp>(op)) r[0] = *ct[0], r[1] = -*ct[0];
  else if (mlir::isa<MulOp>(op)) r[0] = *ct[0] * in(1), r[1] = *ct[0] * in(0);
  else if (mlir::isa<DivOp>(op)) {
    Tensor b = in(1);
    r[0] = *ct[0] / b;
    r[1] = -(*ct[0] * out(0) / b);
  } else if (mlir::isa<MaxOp, MinOp>(op)) {
    // Ties go to the left operand, as the forward op picks it.
    Tensor a = in(0), b = in(1);
    Tensor left = mlir::isa<MaxOp>(op) ? a >= b : a <= b;
    Tensor zero = zerosLike(*ct[0]);
    r[0] = where(left, *ct[0], zero);
    r[1] = where(left, zero, *ct[0]);
  } else if (mlir::isa<PowOp>(op)) {
    Tensor a = in(0), b = in(1), y = out(0);
    r[0] = *ct[0] * b * pow(a, b - 1.0);
    // d/db a^b = a^b log a, taken as 0 where a <= 0 (JAX's convention at a = 0).
    r[1] = where(a > 0.0, *ct[0] * y * log(where(a > 0.0, a, fullLike(a, 1.0))), zerosLike(a));
  } else if (mlir::isa<SelectOp>(op)) {
    Tensor c = in(0), zero = zerosLike(*ct[0]);
    r[1] = where(c, *ct[0], zero);
    r[2] = where(c, zero, *ct[0]);
  } else if (mlir::isa<ClampOp>(op)) {
    Tensor x = in(0), lo = in(1), hi = in(2);
    // min(max(x, lo), hi): hi wins over lo where they cross, as in the forward op.
    Tensor toHi = mask(maximum(x, lo) > hi, *ct[0]);
    Tensor toLo = mask(x < lo, *ct[0]) * (1.0 - toHi);
    r[0] = *ct[0] * (1.0 - toHi - toLo);
    r[1] = *ct[0] * toLo;
    r[2] = *ct[0] * toHi;
  } else if (mlir::isa<ConvertOp>(op)) {
    Tensor x = in(0);
    if (isFloat(x.dtype()) && isFloat(ct[0]->dtype())) r[0] = astype(*ct[0], x.dtype());
  } else if (auto b = mlir::dyn_cast<BroadcastInDimOp>(op)) {
    // Sum over the new axes and over the size-1 axes that were stretched.
    Tensor x = in(0);
    const Shape &to = ct[0]->shape();
    llvm::ArrayRef<int64_t> dims = b.getDims();
    std::vector<int64_t> axes;
    Shape kept(to.size(), 1);
    for (size_t d = 0; d < to.size(); ++d) {
      auto it = std::find(dims.begin(), dims.end(), static_cast<int64_t>(d));
      if (it == dims.end() || x.shape()[it - dims.begin()] != to[d]) axes.push_back(static_cast<int64_t>(d));
    }
    Tensor s = axes.empty() ? *ct[0] : sum(*ct[0], axes);
    r[0] = reshape(s, x.shape());
  } else if (mlir::isa<ReshapeOp>(op)) r[0] = reshape(*ct[0], in(0).shape());
  else if (auto t = mlir::dyn_cast<TransposeOp>(op)) {
    llvm::ArrayRef<int64_t> perm = t.getPerm();
    std::vector<int64_t> inverse(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
    r[0] = transpose(*ct[0], inverse);
  } else if (auto red = mlir::dyn_cast<ReduceOp>(op)) {
    Tensor x = in(0);
    llvm::ArrayRef<int64_t> axes = red.getAxes();
    bool keep = red.getKeepdims();
    Tensor c = unreduce(*ct[0], x.shape(), axes, keep);
    switch (red.getKind()) {
    case ReduceKind::sum: r[0] = c; break;
    case ReduceKind::mean: {
      int64_t n = 1;
      for (int64_t a : axes) n *= x.shape()[a];
      r[0] = c / static_cast<double>(n);
      break;
    }
    case ReduceKind::max:
    case ReduceKind::min: {
      // Shared equally among the elements that attain the extreme (JAX's rule).
      std::vector<int64_t> ax(axes.begin(), axes.end());
      Tensor hit = mask(x == unreduce(out(0), x.shape(), axes, keep), x);
      Tensor count = sum(hit, ax, true);
      r[0] = c * hit / broadcastTo(count, x.shape());
      break;
    }
    }
  } else if (auto stats = mlir::dyn_cast<SoftmaxStatsOp>(op)) {
    // m = max(x), s = sum(exp(x - m)) along the axis (kept): dm/dx is the max's share,
    // ds/dx = exp(x - m) - s dm/dx.
    Tensor x = in(0), m = out(0), s = out(1);
    std::vector<int64_t> ax = {static_cast<int64_t>(stats.getAxis())};
    Tensor hit = mask(x == broadcastTo(m, x.shape()), x);
    Tensor share = hit / broadcastTo(sum(hit, ax, true), x.shape());
    Tensor ctm = ct[0] ? *ct[0] : zerosLike(m), cts = ct[1] ? *ct[1] : zerosLike(s);
    r[0] = broadcastTo(ctm - cts * s, x.shape()) * share + broadcastTo(cts, x.shape()) * exp(x - m);
  } else if (mlir::isa<DotOp>(op)) {
    Tensor a = in(0), b = in(1);
    std::vector<int64_t> swap = a.rank() == 3 ? std::vector<int64_t>{0, 2, 1} : std::vector<int64_t>{1, 0};
    r[0] = matmul(*ct[0], transpose(b, swap));
    r[1] = matmul(transpose(a, swap), *ct[0]);
  } else if (mlir::isa<CompareOp, ArgMaxOp, ArgMinOp, ConstantOp>(op)) {
    // Piecewise constant or no operands: nothing flows back.
  } else {
    throw Error("ajit: grad: no derivative rule for '" + op->getName().getStringRef().str() + "'");
  }
  // Only float operands take cotangents.
  for (unsigned i = 0; i < r.size(); ++i)
    if (r[i] && !isFloat(trace.wrap(op->getOperand(i)).dtype())) r[i].reset();
  return r;
}

} // namespace

std::vector<Tensor> pickTensors(const std::vector<const Tensor *> &args, const std::vector<int> &argnums,
                                const Loc &loc) {
  std::vector<Tensor> picked;
  for (int i : argnums) {
    if (i < 0 || i >= static_cast<int>(args.size()) || !args[i])
      throw Error("ajit: grad: argnum " + std::to_string(i) + " is not a Tensor argument of the function (it has " +
                  std::to_string(args.size()) + " arguments)" + where(loc));
    picked.push_back(*args[i]);
  }
  return picked;
}

std::vector<Tensor> vjp(const Tensor &output, const std::vector<Tensor> &wrt, const Loc &loc) {
  Trace *trace = output.trace();
  if (!trace) throw Error("ajit: grad: the function's output is not a traced tensor" + where(loc));
  if (!isFloat(output.dtype()))
    throw Error("ajit: grad: the function must return a float tensor, got " + output.str() + where(loc));
  if (output.rank() != 0)
    throw Error("ajit: grad: the function must return a scalar (a 0-d tensor), got " + output.str() +
                "; reduce it first, e.g. with ajit::sum" + where(loc));
  mlir::Value y = trace->unwrap(output, "grad", loc);
  llvm::SmallVector<mlir::Value> inputs;
  for (size_t i = 0; i < wrt.size(); ++i) {
    if (!isFloat(wrt[i].dtype()))
      throw Error("ajit: grad: argument " + std::to_string(i) + " is " + wrt[i].str() +
                  ": only float arguments have gradients" + where(loc));
    inputs.push_back(trace->unwrap(wrt[i], "grad", loc));
  }

  // The ops between the inputs and the output: reachable backward from the output, and
  // forward from an input (the rest gets no cotangent).
  llvm::SetVector<mlir::Operation *> backward;
  llvm::SmallVector<mlir::Value> stack = {y};
  while (!stack.empty()) {
    mlir::Value v = stack.pop_back_val();
    mlir::Operation *def = v.getDefiningOp();
    if (!def || !backward.insert(def)) continue;
    for (mlir::Value operand : def->getOperands()) stack.push_back(operand);
  }
  llvm::DenseSet<mlir::Value> active(inputs.begin(), inputs.end());
  mlir::Block *body = y.getParentBlock();
  std::vector<mlir::Operation *> tape;
  for (mlir::Operation &op : *body) {
    if (!backward.contains(&op)) continue;
    bool reads = llvm::any_of(op.getOperands(), [&](mlir::Value v) { return active.contains(v); });
    if (!reads) continue;
    for (mlir::Value r : op.getResults()) active.insert(r);
    tape.push_back(&op);
  }

  llvm::DenseMap<mlir::Value, Tensor> cotangent;
  auto accumulate = [&](mlir::Value v, const Tensor &c) {
    auto it = cotangent.find(v);
    if (it == cotangent.end()) cotangent.try_emplace(v, c);
    else it->second = it->second + c;
  };
  accumulate(y, fullLike(output, 1.0));
  for (mlir::Operation *op : llvm::reverse(tape)) {
    std::vector<std::optional<Tensor>> ct;
    bool any = false;
    for (mlir::Value r : op->getResults()) {
      auto it = cotangent.find(r);
      ct.push_back(it == cotangent.end() ? std::nullopt : std::optional<Tensor>(it->second));
      any |= ct.back().has_value();
    }
    if (!any) continue;
    std::vector<std::optional<Tensor>> operandCts = vjpRule(*trace, op, ct);
    for (unsigned i = 0; i < operandCts.size(); ++i)
      if (operandCts[i] && active.contains(op->getOperand(i))) accumulate(op->getOperand(i), *operandCts[i]);
  }
  std::vector<Tensor> grads;
  for (size_t i = 0; i < wrt.size(); ++i) {
    auto it = cotangent.find(inputs[i]);
    grads.push_back(it == cotangent.end() ? fullLike(wrt[i], 0.0) : it->second);
  }
  return grads;
}

} // namespace detail
} // namespace ajit
