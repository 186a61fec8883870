//===- Ops.cpp - traced ops: shape checks, broadcasting, graph IR emission -===//
//
// Every check a user can trip happens here, at trace time, with the op's name, the
// user's shapes and source line in the message. The dialect's verifiers check the same
// invariants again on the IR; they should never fire for IR built here.
//
//===----------------------------------------------------------------------===//

#include "frontend/Trace.h"

#include "compiler/dialect/AjitOps.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>
#include <optional>

using namespace mlir;

namespace ajit {
using detail::fail;
using detail::Trace;

namespace {

std::string shapeList(const std::vector<int64_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

Trace &traceOf(const Tensor &t, const char *op, const Loc &loc) {
  if (!t.trace() || t.trace() != Trace::active())
    fail(op, "a tensor of " + t.str() + " was used outside the trace that created it "
             "(tensors live only inside the traced function)", loc);
  return *t.trace();
}

Trace &activeTrace(const char *op, const Loc &loc) {
  Trace *t = Trace::active();
  if (!t) fail(op, "called outside a traced function", loc);
  return *t;
}

template <typename OpTy, typename... Extra>
Tensor emit(Trace &trace, const Loc &loc, Type resultType, Value operand, Extra &&...extra) {
  auto op = OpTy::create(trace.builder(), trace.location(loc), resultType, operand,
                         std::forward<Extra>(extra)...);
  return trace.wrap(op->getResult(0));
}

template <typename OpTy>
Tensor unary(const Tensor &x, const char *name, bool floatOnly, const Loc &loc) {
  Trace &trace = traceOf(x, name, loc);
  if (floatOnly && !isFloat(x.dtype()))
    fail(name, "needs a float tensor, got " + x.str() + "; convert it with ajit::astype", loc);
  Value v = trace.unwrap(x, name, loc);
  return trace.wrap(OpTy::create(trace.builder(), trace.location(loc), v.getType(), v).getResult());
}

/// NumPy broadcasting of two shapes; fails naming both shapes and the dimension.
Shape broadcastShapes(const char *op, const Tensor &x, const Tensor &y, const Loc &loc) {
  const Shape &a = x.shape(), &b = y.shape();
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(op, "cannot broadcast " + x.str() + " with " + y.str() + ": dimension " +
                   std::to_string(static_cast<int64_t>(i) - static_cast<int64_t>(rank)) + " is " +
                   std::to_string(da) + " vs " + std::to_string(db),
           loc);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor broadcastToShape(const Tensor &x, const Shape &shape, const char *op, const Loc &loc) {
  if (x.shape() == shape) return x;
  if (x.rank() > static_cast<int64_t>(shape.size()))
    fail(op, "cannot broadcast " + x.str() + " to the lower-rank shape " + shapeList(shape), loc);
  std::vector<int64_t> dims;
  size_t offset = shape.size() - x.shape().size();
  for (size_t i = 0; i < x.shape().size(); ++i) {
    int64_t d = x.shape()[i], target = shape[offset + i];
    if (d != target && d != 1)
      fail(op, "cannot broadcast " + x.str() + " to " + shapeList(shape) + ": dimension " +
                   std::to_string(i) + " is " + std::to_string(d) + " vs " + std::to_string(target),
           loc);
    dims.push_back(static_cast<int64_t>(offset + i));
  }
  return broadcastInDim(x, shape, dims, loc);
}

void checkSameDtype(const char *op, const Tensor &x, const Tensor &y, const Loc &loc) {
  if (x.dtype() != y.dtype())
    fail(op, std::string("dtypes differ: ") + x.str() + " and " + y.str() +
                 "; convert one with ajit::astype", loc);
}

template <typename OpTy>
Tensor binary(const Tensor &x, const Tensor &y, const char *name, const Loc &loc) {
  Trace &trace = traceOf(x, name, loc);
  traceOf(y, name, loc);
  checkSameDtype(name, x, y, loc);
  Shape shape = broadcastShapes(name, x, y, loc);
  Value a = trace.unwrap(broadcastToShape(x, shape, name, loc), name, loc);
  Value b = trace.unwrap(broadcastToShape(y, shape, name, loc), name, loc);
  return trace.wrap(OpTy::create(trace.builder(), trace.location(loc), a.getType(), a, b).getResult());
}

Attribute scalarAttr(Builder &b, Type elem, double value) {
  if (isa<FloatType>(elem)) return b.getFloatAttr(elem, value);
  if (elem.isInteger(1)) return b.getIntegerAttr(elem, value != 0);
  return b.getIntegerAttr(elem, static_cast<int64_t>(value));
}

/// A splat constant; integer dtypes reject values they cannot hold.
Tensor splat(Trace &trace, const Shape &shape, DType dtype, double value, const char *op, const Loc &loc) {
  if (!isFloat(dtype) && !std::isnan(value)) {
    bool integral = std::trunc(value) == value;
    // Half-open [lo, end): 2^63 - 1 is not a double, and 2^63 itself must not pass.
    double lo = dtype == DType::i32 ? -0x1p31 : dtype == DType::i64 ? -0x1p63 : 0;
    double end = dtype == DType::i32 ? 0x1p31 : dtype == DType::i64 ? 0x1p63 : 2;
    if (!integral || value < lo || value >= end)
      fail(op, "scalar " + std::to_string(value) + " cannot be represented as " +
                   dtypeName(dtype) + "; convert the tensor with ajit::astype first", loc);
  } else if (!isFloat(dtype)) {
    fail(op, std::string("scalar NaN cannot be represented as ") + dtypeName(dtype), loc);
  }
  auto type = detail::tensorType(trace.context(), dtype, shape);
  auto attr = DenseElementsAttr::get(type, scalarAttr(trace.builder(), type.getElementType(), value));
  auto c = ajit::ConstantOp::create(trace.builder(), trace.location(loc), attr);
  return trace.wrap(c.getResult());
}

/// Normalizes (negative) axes, sorts them, rejects duplicates and out-of-range ones.
std::vector<int64_t> normalizeAxes(const Tensor &x, std::vector<int64_t> axes, const char *op,
                                   const Loc &loc) {
  if (axes.empty())
    for (int64_t i = 0; i < x.rank(); ++i) axes.push_back(i);
  for (int64_t &a : axes) {
    if (a < -x.rank() || a >= x.rank())
      fail(op, "axis " + std::to_string(a) + " is out of range for " + x.str(), loc);
    if (a < 0) a += x.rank();
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    fail(op, "repeated axis in " + shapeList(axes) + " for " + x.str(), loc);
  return axes;
}

Shape reducedShape(const Shape &shape, const std::vector<int64_t> &axes, bool keepdims) {
  Shape out;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (std::find(axes.begin(), axes.end(), i) != axes.end()) {
      if (keepdims) out.push_back(1);
    } else {
      out.push_back(shape[i]);
    }
  }
  return out;
}

Tensor reduce(ReduceKind kind, const Tensor &x, const std::vector<int64_t> &axesIn, bool keepdims,
              const char *name, const Loc &loc) {
  Trace &trace = traceOf(x, name, loc);
  if (kind == ReduceKind::mean && !isFloat(x.dtype()))
    return reduce(kind, astype(x, DType::f32, loc), axesIn, keepdims, name, loc);
  if (x.dtype() == DType::boolean && kind != ReduceKind::max && kind != ReduceKind::min)
    fail(name, "is not defined on bool tensors (" + x.str() + "); convert with ajit::astype", loc);
  std::vector<int64_t> axes = normalizeAxes(x, axesIn, name, loc);
  auto type = detail::tensorType(trace.context(), x.dtype(), reducedShape(x.shape(), axes, keepdims));
  Builder &b = trace.builder();
  auto op = ajit::ReduceOp::create(trace.builder(), trace.location(loc), type,
                                   ReduceKindAttr::get(trace.context(), kind),
                                   trace.unwrap(x, name, loc), b.getDenseI64ArrayAttr(axes),
                                   b.getBoolAttr(keepdims));
  return trace.wrap(op.getResult());
}

template <typename OpTy>
Tensor argReduce(const Tensor &x, int64_t axis, bool keepdims, const char *name, const Loc &loc) {
  Trace &trace = traceOf(x, name, loc);
  if (x.rank() == 0) fail(name, "needs at least one dimension, got " + x.str(), loc);
  if (x.dtype() == DType::boolean) fail(name, "is not defined on bool tensors (" + x.str() + ")", loc);
  axis = normalizeAxes(x, {axis}, name, loc)[0];
  if (x.shape()[axis] == 0)
    fail(name, "axis " + std::to_string(axis) + " of " + x.str() + " is empty: there is no index to return", loc);
  auto type = detail::tensorType(trace.context(), DType::i64, reducedShape(x.shape(), {axis}, keepdims));
  Builder &b = trace.builder();
  auto op = OpTy::create(trace.builder(), trace.location(loc), type, trace.unwrap(x, name, loc),
                         b.getI64IntegerAttr(axis), b.getBoolAttr(keepdims));
  return trace.wrap(op.getResult());
}

ComparePredicate predicateOf(Cmp cmp) {
  switch (cmp) {
  case Cmp::eq: return ComparePredicate::eq;
  case Cmp::ne: return ComparePredicate::ne;
  case Cmp::lt: return ComparePredicate::lt;
  case Cmp::le: return ComparePredicate::le;
  case Cmp::gt: return ComparePredicate::gt;
  case Cmp::ge: return ComparePredicate::ge;
  }
  return ComparePredicate::eq;
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

Tensor neg(const Tensor &x, Loc loc) { return unary<NegOp>(x, "neg", false, loc); }
Tensor abs(const Tensor &x, Loc loc) { return unary<AbsOp>(x, "abs", false, loc); }
Tensor exp(const Tensor &x, Loc loc) { return unary<ExpOp>(x, "exp", true, loc); }
Tensor log(const Tensor &x, Loc loc) { return unary<LogOp>(x, "log", true, loc); }
Tensor sin(const Tensor &x, Loc loc) { return unary<SinOp>(x, "sin", true, loc); }
Tensor cos(const Tensor &x, Loc loc) { return unary<CosOp>(x, "cos", true, loc); }
Tensor tanh(const Tensor &x, Loc loc) { return unary<TanhOp>(x, "tanh", true, loc); }
Tensor sqrt(const Tensor &x, Loc loc) { return unary<SqrtOp>(x, "sqrt", true, loc); }
Tensor rsqrt(const Tensor &x, Loc loc) { return unary<RsqrtOp>(x, "rsqrt", true, loc); }
Tensor sigmoid(const Tensor &x, Loc loc) { return unary<SigmoidOp>(x, "sigmoid", true, loc); }
Tensor relu(const Tensor &x, Loc loc) { return unary<ReluOp>(x, "relu", false, loc); }
Tensor gelu(const Tensor &x, bool approximate, Loc loc) {
  return approximate ? unary<GeluTanhOp>(x, "gelu", true, loc) : unary<GeluErfOp>(x, "gelu", true, loc);
}

Tensor add(const Tensor &x, const Tensor &y, Loc loc) { return binary<AddOp>(x, y, "add", loc); }
Tensor sub(const Tensor &x, const Tensor &y, Loc loc) { return binary<SubOp>(x, y, "sub", loc); }
Tensor mul(const Tensor &x, const Tensor &y, Loc loc) { return binary<MulOp>(x, y, "mul", loc); }
Tensor div(const Tensor &x, const Tensor &y, Loc loc) { return binary<DivOp>(x, y, "div", loc); }
Tensor maximum(const Tensor &x, const Tensor &y, Loc loc) { return binary<MaxOp>(x, y, "maximum", loc); }
Tensor minimum(const Tensor &x, const Tensor &y, Loc loc) { return binary<MinOp>(x, y, "minimum", loc); }
Tensor pow(const Tensor &x, const Tensor &y, Loc loc) {
  if (x.dtype() == DType::boolean) fail("pow", "is not defined on bool tensors (" + x.str() + ")", loc);
  return binary<PowOp>(x, y, "pow", loc);
}
Tensor pow(const Tensor &x, double y, Loc loc) {
  // Small integer powers are products by repeated squaring: within a few ulp (exact when
  // representable), where exp(y log x) errs by ~|y ln x| ulp, and far cheaper.
  if (std::trunc(y) == y && std::fabs(y) <= 16 && y != 0 && isFloat(x.dtype())) {
    int64_t n = static_cast<int64_t>(std::fabs(y));
    std::optional<Tensor> result;
    Tensor square = x;
    for (; n > 0; n >>= 1) {
      if (n & 1) result = result ? mul(*result, square, loc) : square;
      if (n > 1) square = mul(square, square, loc);
    }
    return y > 0 ? *result : div(fullLike(x, 1.0, loc), *result, loc);
  }
  if (std::fabs(y) == 0.5 && isFloat(x.dtype())) {
    // sqrt is correctly rounded; "+ 0" and the select give C's pow(-0, 0.5) = +0 and
    // pow(-inf, 0.5) = +inf, where sqrt gives -0 and NaN.
    Tensor root = add(sqrt(x, loc), fullLike(x, 0.0, loc), loc);
    root = where(compare(Cmp::eq, x, fullLike(x, -INFINITY, loc), loc), fullLike(x, INFINITY, loc), root, loc);
    return y > 0 ? root : div(fullLike(x, 1.0, loc), root, loc);
  }
  return pow(x, fullLike(x, y, loc), loc);
}

Tensor compare(Cmp cmp, const Tensor &x, const Tensor &y, Loc loc) {
  Trace &trace = traceOf(x, "compare", loc);
  traceOf(y, "compare", loc);
  checkSameDtype("compare", x, y, loc);
  Shape shape = broadcastShapes("compare", x, y, loc);
  Value a = trace.unwrap(broadcastToShape(x, shape, "compare", loc), "compare", loc);
  Value b = trace.unwrap(broadcastToShape(y, shape, "compare", loc), "compare", loc);
  auto type = detail::tensorType(trace.context(), DType::boolean, shape);
  auto op = CompareOp::create(trace.builder(), trace.location(loc), type, predicateOf(cmp), a, b);
  return trace.wrap(op.getResult());
}

Tensor where(const Tensor &cond, const Tensor &x, const Tensor &y, Loc loc) {
  Trace &trace = traceOf(cond, "where", loc);
  traceOf(x, "where", loc);
  traceOf(y, "where", loc);
  if (cond.dtype() != DType::boolean)
    fail("where", "the condition must be a bool tensor, got " + cond.str(), loc);
  checkSameDtype("where", x, y, loc);
  Shape shape = broadcastShapes("where", x, y, loc);
  Tensor shaped(nullptr, nullptr, shape, x.dtype());
  shape = broadcastShapes("where", cond, shaped, loc);
  Value c = trace.unwrap(broadcastToShape(cond, shape, "where", loc), "where", loc);
  Value a = trace.unwrap(broadcastToShape(x, shape, "where", loc), "where", loc);
  Value b = trace.unwrap(broadcastToShape(y, shape, "where", loc), "where", loc);
  return trace.wrap(SelectOp::create(trace.builder(), trace.location(loc), a.getType(), c, a, b).getResult());
}

Tensor clamp(const Tensor &x, double lo, double hi, Loc loc) {
  return clamp(x, fullLike(x, lo, loc), fullLike(x, hi, loc), loc);
}

Tensor clamp(const Tensor &x, const Tensor &lo, const Tensor &hi, Loc loc) {
  Trace &trace = traceOf(x, "clamp", loc);
  checkSameDtype("clamp", x, lo, loc);
  checkSameDtype("clamp", x, hi, loc);
  // The result has x's shape (numpy.clip broadcasts the bounds to x).
  Value v = trace.unwrap(x, "clamp", loc);
  Value l = trace.unwrap(broadcastToShape(lo, x.shape(), "clamp", loc), "clamp", loc);
  Value h = trace.unwrap(broadcastToShape(hi, x.shape(), "clamp", loc), "clamp", loc);
  return trace.wrap(ClampOp::create(trace.builder(), trace.location(loc), v.getType(), v, l, h).getResult());
}

Tensor astype(const Tensor &x, DType dtype, Loc loc) {
  Trace &trace = traceOf(x, "astype", loc);
  if (x.dtype() == dtype) return x;
  auto type = detail::tensorType(trace.context(), dtype, x.shape());
  return emit<ConvertOp>(trace, loc, type, trace.unwrap(x, "astype", loc));
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

Tensor full(const Shape &shape, double value, DType dtype, Loc loc) {
  Trace &trace = activeTrace("full", loc);
  for (int64_t d : shape)
    if (d < 0) fail("full", "negative dimension in shape " + shapeList(shape), loc);
  return splat(trace, shape, dtype, value, "full", loc);
}

Tensor fullLike(const Tensor &like, double value, Loc loc) {
  return splat(traceOf(like, "scalar", loc), like.shape(), like.dtype(), value, "scalar", loc);
}

Tensor constant(const Array &value, Loc loc) {
  Trace &trace = activeTrace("constant", loc);
  if (value.isNull()) fail("constant", "the array is null", loc);
  auto type = detail::tensorType(trace.context(), value.dtype(), value.shape());
  DenseElementsAttr attr;
  if (value.dtype() == DType::boolean) {
    const bool *p = value.data<bool>();
    attr = DenseElementsAttr::get(type, llvm::ArrayRef<bool>(p, value.size()));
  } else {
    attr = DenseElementsAttr::getFromRawBuffer(
        type, llvm::ArrayRef<char>(static_cast<const char *>(value.rawData()), value.nbytes()));
  }
  return trace.wrap(ajit::ConstantOp::create(trace.builder(), trace.location(loc), attr).getResult());
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

Tensor broadcastTo(const Tensor &x, const Shape &shape, Loc loc) {
  traceOf(x, "broadcast_to", loc);
  return broadcastToShape(x, shape, "broadcast_to", loc);
}

Tensor broadcastInDim(const Tensor &x, const Shape &shape, const std::vector<int64_t> &dims, Loc loc) {
  Trace &trace = traceOf(x, "broadcast_in_dim", loc);
  if (dims.size() != x.shape().size())
    fail("broadcast_in_dim", "dims " + shapeList(dims) + " must have one entry per dimension of " + x.str(), loc);
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0 || dims[i] >= static_cast<int64_t>(shape.size()) || (i > 0 && dims[i] <= dims[i - 1]))
      fail("broadcast_in_dim", "dims " + shapeList(dims) + " must be increasing and within the rank of " +
                                   shapeList(shape), loc);
    if (x.shape()[i] != 1 && x.shape()[i] != shape[dims[i]])
      fail("broadcast_in_dim", "cannot broadcast " + x.str() + " to " + shapeList(shape) + ": dimension " +
                                   std::to_string(i) + " is " + std::to_string(x.shape()[i]) + " vs " +
                                   std::to_string(shape[dims[i]]), loc);
  }
  if (x.shape() == shape) return x;
  auto type = detail::tensorType(trace.context(), x.dtype(), shape);
  return emit<BroadcastInDimOp>(trace, loc, type, trace.unwrap(x, "broadcast_in_dim", loc),
                                trace.builder().getDenseI64ArrayAttr(dims));
}

Tensor reshape(const Tensor &x, const Shape &shapeIn, Loc loc) {
  Trace &trace = traceOf(x, "reshape", loc);
  Shape shape = shapeIn;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (inferred >= 0) fail("reshape", "more than one -1 in " + shapeList(shapeIn), loc);
      inferred = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      fail("reshape", "negative dimension in " + shapeList(shapeIn), loc);
    } else {
      known *= shape[i];
    }
  }
  if (inferred >= 0) {
    if (known == 0 || x.size() % known != 0)
      fail("reshape", "cannot reshape " + x.str() + " to " + shapeList(shapeIn), loc);
    shape[inferred] = x.size() / known;
  }
  if (numElements(shape) != x.size())
    fail("reshape", "cannot reshape " + x.str() + " (" + std::to_string(x.size()) + " elements) to " +
                        shapeList(shapeIn) + " (" + std::to_string(numElements(shape)) + " elements)", loc);
  if (shape == x.shape()) return x;
  auto type = detail::tensorType(trace.context(), x.dtype(), shape);
  return emit<ReshapeOp>(trace, loc, type, trace.unwrap(x, "reshape", loc));
}

Tensor transpose(const Tensor &x, const std::vector<int64_t> &permIn, Loc loc) {
  Trace &trace = traceOf(x, "transpose", loc);
  std::vector<int64_t> perm = permIn;
  if (perm.empty())
    for (int64_t i = x.rank() - 1; i >= 0; --i) perm.push_back(i);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool valid = static_cast<int64_t>(perm.size()) == x.rank();
  for (size_t i = 0; valid && i < sorted.size(); ++i) valid = sorted[i] == static_cast<int64_t>(i);
  if (!valid) fail("transpose", "perm " + shapeList(permIn) + " is not a permutation of the dimensions of " + x.str(), loc);
  Shape shape;
  for (int64_t p : perm) shape.push_back(x.shape()[p]);
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity &= perm[i] == static_cast<int64_t>(i);
  if (identity) return x;
  auto type = detail::tensorType(trace.context(), x.dtype(), shape);
  return emit<TransposeOp>(trace, loc, type, trace.unwrap(x, "transpose", loc),
                           trace.builder().getDenseI64ArrayAttr(perm));
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

Tensor sum(const Tensor &x, const std::vector<int64_t> &axes, bool keepdims, Loc loc) {
  return reduce(ReduceKind::sum, x, axes, keepdims, "sum", loc);
}
Tensor max(const Tensor &x, const std::vector<int64_t> &axes, bool keepdims, Loc loc) {
  return reduce(ReduceKind::max, x, axes, keepdims, "max", loc);
}
Tensor min(const Tensor &x, const std::vector<int64_t> &axes, bool keepdims, Loc loc) {
  return reduce(ReduceKind::min, x, axes, keepdims, "min", loc);
}
Tensor mean(const Tensor &x, const std::vector<int64_t> &axes, bool keepdims, Loc loc) {
  return reduce(ReduceKind::mean, x, axes, keepdims, "mean", loc);
}
Tensor argmax(const Tensor &x, int64_t axis, bool keepdims, Loc loc) {
  return argReduce<ArgMaxOp>(x, axis, keepdims, "argmax", loc);
}
Tensor argmin(const Tensor &x, int64_t axis, bool keepdims, Loc loc) {
  return argReduce<ArgMinOp>(x, axis, keepdims, "argmin", loc);
}

//===----------------------------------------------------------------------===//
// Contractions and composites
//===----------------------------------------------------------------------===//

Tensor matmul(const Tensor &x, const Tensor &y, Loc loc) {
  Trace &trace = traceOf(x, "matmul", loc);
  traceOf(y, "matmul", loc);
  checkSameDtype("matmul", x, y, loc);
  if (x.dtype() == DType::boolean) fail("matmul", "is not defined on bool tensors (" + x.str() + ")", loc);
  if (x.rank() < 1 || x.rank() > 3 || y.rank() < 1 || y.rank() > 3)
    fail("matmul", "operands must have rank 1, 2 or 3, got " + x.str() + " and " + y.str(), loc);
  // Vectors become matrices and their unit dimension is dropped again at the end.
  if (x.rank() == 1 || y.rank() == 1) {
    Tensor a = x.rank() == 1 ? reshape(x, {1, x.shape()[0]}, loc) : x;
    Tensor b = y.rank() == 1 ? reshape(y, {y.shape()[0], 1}, loc) : y;
    Tensor r = matmul(a, b, loc);
    Shape shape = r.shape();
    if (y.rank() == 1) shape.erase(shape.end() - 1);
    if (x.rank() == 1) shape.erase(shape.end() - (y.rank() == 1 ? 1 : 2));
    return reshape(r, shape, loc);
  }
  int64_t k1 = x.shape().back(), k2 = y.shape()[y.rank() - 2];
  if (k1 != k2)
    fail("matmul", "contracting dimensions differ: " + x.str() + " x " + y.str() + " (" +
                       std::to_string(k1) + " vs " + std::to_string(k2) + ")", loc);
  // [B,M,K] x [K,N] is one [B*M,K] x [K,N] product.
  if (x.rank() == 3 && y.rank() == 2) {
    Tensor flat = reshape(x, {x.shape()[0] * x.shape()[1], k1}, loc);
    return reshape(matmul(flat, y, loc), {x.shape()[0], x.shape()[1], y.shape()[1]}, loc);
  }
  Tensor a = x, b = y;
  if (x.rank() == 3 || y.rank() == 3) {
    int64_t ba = x.rank() == 3 ? x.shape()[0] : 1, bb = y.rank() == 3 ? y.shape()[0] : 1;
    if (ba != bb && ba != 1 && bb != 1)
      fail("matmul", "batch dimensions differ: " + x.str() + " x " + y.str() + " (" + std::to_string(ba) +
                         " vs " + std::to_string(bb) + ")", loc);
    int64_t batch = ba == 1 ? bb : ba; // a batch of 1 broadcasts, also to 0
    a = broadcastToShape(x, {batch, x.shape()[x.rank() - 2], k1}, "matmul", loc);
    b = broadcastToShape(y, {batch, k2, y.shape().back()}, "matmul", loc);
  }
  Shape shape = a.shape();
  shape.back() = b.shape().back();
  auto type = detail::tensorType(trace.context(), x.dtype(), shape);
  Value va = trace.unwrap(a, "matmul", loc), vb = trace.unwrap(b, "matmul", loc);
  return trace.wrap(DotOp::create(trace.builder(), trace.location(loc), type, va, vb).getResult());
}

/// Rows up to this size stay in the core's L2 cache between passes, and there the three
/// passes of the textbook form (max; e = exp(x - max) with its sum; e / sum) cost less
/// than the online statistics, which take a second exp per element (f32, 10K elements:
/// about 8 us against 17 us). Longer rows pay for every pass in memory traffic, and the
/// online form reads them twice instead of three times.
constexpr int64_t kCacheResidentRowBytes = int64_t{1} << 20;

/// max(x) and sum(exp(x - max)) along `axis` (normalized; kept as size 1), from one pass.
std::pair<Tensor, Tensor> softmaxStats(const Tensor &x, int64_t axis, const char *name, const Loc &loc) {
  Trace &trace = traceOf(x, name, loc);
  auto type = detail::tensorType(trace.context(), x.dtype(), reducedShape(x.shape(), {axis}, true));
  auto op = SoftmaxStatsOp::create(trace.builder(), trace.location(loc), type, type,
                                   trace.unwrap(x, name, loc), trace.builder().getI64IntegerAttr(axis));
  return {trace.wrap(op.getMax()), trace.wrap(op.getSum())};
}

/// The normalized axis of a softmax of `x`, and whether its rows take the online form.
std::pair<int64_t, bool> softmaxAxis(const Tensor &x, int64_t axis, const char *name, const Loc &loc) {
  if (!isFloat(x.dtype())) fail(name, "needs a float tensor, got " + x.str(), loc);
  axis = normalizeAxes(x, {axis}, name, loc)[0];
  return {axis, x.shape()[axis] * static_cast<int64_t>(dtypeSize(x.dtype())) > kCacheResidentRowBytes};
}

// A vector division costs as much as the rest of an element's work: one division per
// row, then a multiply per element (one more rounding, within the stated tolerance).
Tensor softmax(const Tensor &x, int64_t axis, Loc loc) {
  auto [a, online] = softmaxAxis(x, axis, "softmax", loc);
  // e = exp(x - max) and its sum along the axis.
  auto [e, s] = [&]() -> std::pair<Tensor, Tensor> {
    if (online) {
      auto [m, total] = softmaxStats(x, a, "softmax", loc);
      return {exp(sub(x, m, loc), loc), total};
    }
    Tensor ex = exp(sub(x, max(x, {a}, true, loc), loc), loc);
    return {ex, sum(ex, {a}, true, loc)};
  }();
  return mul(e, div(fullLike(s, 1.0, loc), s, loc), loc);
}

Tensor logSoftmax(const Tensor &x, int64_t axis, Loc loc) {
  auto [a, online] = softmaxAxis(x, axis, "log_softmax", loc);
  if (online) {
    auto [m, s] = softmaxStats(x, a, "log_softmax", loc);
    return sub(sub(x, m, loc), log(s, loc), loc);
  }
  Tensor shifted = sub(x, max(x, {a}, true, loc), loc);
  return sub(shifted, log(sum(exp(shifted, loc), {a}, true, loc), loc), loc);
}

//===----------------------------------------------------------------------===//
// Operators
//===----------------------------------------------------------------------===//

Tensor operator-(TensorAt x) { return neg(x.tensor, x.loc); }
Tensor operator+(TensorAt x, const Tensor &y) { return add(x.tensor, y, x.loc); }
Tensor operator-(TensorAt x, const Tensor &y) { return sub(x.tensor, y, x.loc); }
Tensor operator*(TensorAt x, const Tensor &y) { return mul(x.tensor, y, x.loc); }
Tensor operator/(TensorAt x, const Tensor &y) { return div(x.tensor, y, x.loc); }
Tensor operator+(TensorAt x, double y) { return add(x.tensor, fullLike(x.tensor, y, x.loc), x.loc); }
Tensor operator-(TensorAt x, double y) { return sub(x.tensor, fullLike(x.tensor, y, x.loc), x.loc); }
Tensor operator*(TensorAt x, double y) { return mul(x.tensor, fullLike(x.tensor, y, x.loc), x.loc); }
Tensor operator/(TensorAt x, double y) { return div(x.tensor, fullLike(x.tensor, y, x.loc), x.loc); }
Tensor operator+(ScalarAt x, const Tensor &y) { return add(fullLike(y, x.value, x.loc), y, x.loc); }
Tensor operator-(ScalarAt x, const Tensor &y) { return sub(fullLike(y, x.value, x.loc), y, x.loc); }
Tensor operator*(ScalarAt x, const Tensor &y) { return mul(fullLike(y, x.value, x.loc), y, x.loc); }
Tensor operator/(ScalarAt x, const Tensor &y) { return div(fullLike(y, x.value, x.loc), y, x.loc); }
Tensor operator==(TensorAt x, const Tensor &y) { return compare(Cmp::eq, x.tensor, y, x.loc); }
Tensor operator!=(TensorAt x, const Tensor &y) { return compare(Cmp::ne, x.tensor, y, x.loc); }
Tensor operator<(TensorAt x, const Tensor &y) { return compare(Cmp::lt, x.tensor, y, x.loc); }
Tensor operator<=(TensorAt x, const Tensor &y) { return compare(Cmp::le, x.tensor, y, x.loc); }
Tensor operator>(TensorAt x, const Tensor &y) { return compare(Cmp::gt, x.tensor, y, x.loc); }
Tensor operator>=(TensorAt x, const Tensor &y) { return compare(Cmp::ge, x.tensor, y, x.loc); }
Tensor operator<(TensorAt x, double y) { return compare(Cmp::lt, x.tensor, fullLike(x.tensor, y, x.loc), x.loc); }
Tensor operator<=(TensorAt x, double y) { return compare(Cmp::le, x.tensor, fullLike(x.tensor, y, x.loc), x.loc); }
Tensor operator>(TensorAt x, double y) { return compare(Cmp::gt, x.tensor, fullLike(x.tensor, y, x.loc), x.loc); }
Tensor operator>=(TensorAt x, double y) { return compare(Cmp::ge, x.tensor, fullLike(x.tensor, y, x.loc), x.loc); }

} // namespace ajit
