//===- AjitOps.cpp - verifiers, folders and printers of ajit ops ----------===//
//
// Verifier messages name the op (emitOpError adds it), the operand types in the user's
// notation (`f32[3,4]`) and the numbers that disagree.
//
//===----------------------------------------------------------------------===//

#include "compiler/dialect/AjitOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace ajit;

std::string ajit::describeType(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor) {
    os << type;
    return out;
  }
  Type elem = tensor.getElementType();
  if (elem.isF16()) os << "f16";
  else if (elem.isBF16()) os << "bf16";
  else if (elem.isF32()) os << "f32";
  else if (elem.isF64()) os << "f64";
  else if (elem.isInteger(1)) os << "bool";
  else if (elem.isInteger(32)) os << "i32";
  else if (elem.isInteger(64)) os << "i64";
  else os << elem;
  os << '[';
  llvm::interleave(tensor.getShape(), os, [&](int64_t d) {
    if (ShapedType::isDynamic(d)) os << '?';
    else os << d;
  }, ",");
  os << ']';
  return out;
}

bool ajit::isElementwise(Operation *op) {
  return isa<NegOp, AbsOp, ExpOp, LogOp, SinOp, CosOp, TanhOp, SqrtOp, RsqrtOp, SigmoidOp, ReluOp,
             GeluTanhOp, GeluErfOp, AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, PowOp, CompareOp,
             SelectOp, ClampOp, ConvertOp>(op);
}

static std::string describeShape(ArrayRef<int64_t> shape) {
  std::string out = "[";
  llvm::raw_string_ostream os(out);
  llvm::interleave(shape, os, ",");
  os << ']';
  return out;
}

static RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }

//===----------------------------------------------------------------------===//
// custom<ElementwiseTypes>: `: T` when all types agree, `: (T, U) -> V` otherwise.
//===----------------------------------------------------------------------===//

static ParseResult parseElementwiseTypeList(OpAsmParser &parser,
                                            ArrayRef<Type *> operands, Type *result) {
  if (succeeded(parser.parseOptionalLParen())) {
    for (auto [i, t] : llvm::enumerate(operands)) {
      if (i > 0 && parser.parseComma()) return failure();
      if (parser.parseType(*t)) return failure();
    }
    if (parser.parseRParen()) return failure();
    if (result) {
      if (parser.parseArrow() || parser.parseType(*result)) return failure();
    }
    return success();
  }
  Type t;
  if (parser.parseType(t)) return failure();
  for (Type *o : operands) *o = t;
  if (result) *result = t;
  return success();
}

static void printElementwiseTypeList(OpAsmPrinter &p, ArrayRef<Type> operands, Type result) {
  bool same = llvm::all_equal(operands) && (!result || result == operands.front());
  if (same) {
    p << operands.front();
    return;
  }
  p << '(';
  llvm::interleaveComma(operands, p);
  p << ')';
  if (result) p << " -> " << result;
}

// custom<OperandTypes> (compare, which prints its own result type): `T` when both
// operands agree, `(T, U)` otherwise.
static ParseResult parseOperandTypes(OpAsmParser &p, Type &a, Type &b) {
  return parseElementwiseTypeList(p, {&a, &b}, nullptr);
}
static void printOperandTypes(OpAsmPrinter &p, Operation *, Type a, Type b) {
  printElementwiseTypeList(p, {a, b}, nullptr);
}

// Overloads for the operand counts ODS hands us.
static ParseResult parseElementwiseTypes(OpAsmParser &p, Type &a, Type &b) {
  return parseElementwiseTypeList(p, {&a}, &b);
}
static ParseResult parseElementwiseTypes(OpAsmParser &p, Type &a, Type &b, Type &c) {
  return parseElementwiseTypeList(p, {&a, &b}, &c);
}
static ParseResult parseElementwiseTypes(OpAsmParser &p, Type &a, Type &b, Type &c, Type &d) {
  return parseElementwiseTypeList(p, {&a, &b, &c}, &d);
}
static void printElementwiseTypes(OpAsmPrinter &p, Operation *, Type a, Type b) {
  printElementwiseTypeList(p, {a}, b);
}
static void printElementwiseTypes(OpAsmPrinter &p, Operation *, Type a, Type b, Type c) {
  printElementwiseTypeList(p, {a, b}, c);
}
static void printElementwiseTypes(OpAsmPrinter &p, Operation *, Type a, Type b, Type c,
                                  Type d) {
  printElementwiseTypeList(p, {a, b, c}, d);
}

//===----------------------------------------------------------------------===//
// Shared verifier helpers
//===----------------------------------------------------------------------===//

/// All of `values` must have the type of the first; names each pair that differs.
static LogicalResult verifySameTypes(Operation *op, ArrayRef<std::pair<StringRef, Value>> values) {
  auto [firstName, first] = values.front();
  for (auto [name, v] : values.drop_front()) {
    if (v.getType() == first.getType()) continue;
    auto a = tensorOf(first), b = tensorOf(v);
    std::string what = a.getShape() != b.getShape() ? "shapes" : "dtypes";
    return op->emitOpError() << what << " of " << firstName << " and " << name
                             << " differ: " << describeType(a) << " vs " << describeType(b);
  }
  return success();
}

/// Shape ops move elements around; they never change their type.
static LogicalResult verifySameElementType(Operation *op, RankedTensorType in, RankedTensorType out) {
  if (in.getElementType() == out.getElementType()) return success();
  return op->emitOpError() << "changes the dtype: " << describeType(in) << " -> " << describeType(out);
}

static LogicalResult verifyUnary(Operation *op) {
  return verifySameTypes(op, {{"operand", op->getOperand(0)}, {"result", op->getResult(0)}});
}

static LogicalResult verifyBinary(Operation *op) {
  return verifySameTypes(op, {{"lhs", op->getOperand(0)},
                              {"rhs", op->getOperand(1)},
                              {"result", op->getResult(0)}});
}

#define AJIT_UNARY_VERIFIER(OP) \
  LogicalResult OP::verify() { return verifyUnary(*this); }
AJIT_UNARY_VERIFIER(NegOp)
AJIT_UNARY_VERIFIER(AbsOp)
AJIT_UNARY_VERIFIER(ExpOp)
AJIT_UNARY_VERIFIER(LogOp)
AJIT_UNARY_VERIFIER(SinOp)
AJIT_UNARY_VERIFIER(CosOp)
AJIT_UNARY_VERIFIER(TanhOp)
AJIT_UNARY_VERIFIER(SqrtOp)
AJIT_UNARY_VERIFIER(RsqrtOp)
AJIT_UNARY_VERIFIER(SigmoidOp)
AJIT_UNARY_VERIFIER(ReluOp)
AJIT_UNARY_VERIFIER(GeluTanhOp)
AJIT_UNARY_VERIFIER(GeluErfOp)
#undef AJIT_UNARY_VERIFIER

#define AJIT_BINARY_VERIFIER(OP) \
  LogicalResult OP::verify() { return verifyBinary(*this); }
AJIT_BINARY_VERIFIER(AddOp)
AJIT_BINARY_VERIFIER(SubOp)
AJIT_BINARY_VERIFIER(MulOp)
AJIT_BINARY_VERIFIER(DivOp)
AJIT_BINARY_VERIFIER(MaxOp)
AJIT_BINARY_VERIFIER(MinOp)
#undef AJIT_BINARY_VERIFIER

LogicalResult PowOp::verify() {
  if (failed(verifyBinary(*this))) return failure();
  if (tensorOf(getLhs()).getElementType().isInteger(1))
    return emitOpError() << "is not defined on bool tensors: " << describeType(getLhs().getType());
  return success();
}

LogicalResult CompareOp::verify() {
  if (failed(verifySameTypes(*this, {{"lhs", getLhs()}, {"rhs", getRhs()}}))) return failure();
  if (tensorOf(getResult()).getShape() != tensorOf(getLhs()).getShape())
    return emitOpError() << "result shape " << describeType(getResult().getType())
                         << " differs from operand shape " << describeType(getLhs().getType());
  return success();
}

LogicalResult SelectOp::verify() {
  if (failed(verifySameTypes(*this, {{"on_true", getOnTrue()},
                                     {"on_false", getOnFalse()},
                                     {"result", getResult()}})))
    return failure();
  if (tensorOf(getCond()).getShape() != tensorOf(getOnTrue()).getShape())
    return emitOpError() << "shapes of cond and on_true differ: "
                         << describeType(getCond().getType()) << " vs "
                         << describeType(getOnTrue().getType());
  return success();
}

LogicalResult ClampOp::verify() {
  return verifySameTypes(*this, {{"operand", getX()},
                                 {"lo", getLo()},
                                 {"hi", getHi()},
                                 {"result", getResult()}});
}

LogicalResult ConvertOp::verify() {
  if (tensorOf(getX()).getShape() != tensorOf(getResult()).getShape())
    return emitOpError() << "changes the shape: " << describeType(getX().getType()) << " -> "
                         << describeType(getResult().getType());
  return success();
}

OpFoldResult ConvertOp::fold(FoldAdaptor) {
  if (getX().getType() == getType()) return getX();
  return {};
}

//===----------------------------------------------------------------------===//
// Constant
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                           ValueRange, DictionaryAttr attributes,
                                           OpaqueProperties properties, RegionRange,
                                           SmallVectorImpl<Type> &inferred) {
  ConstantOp::Adaptor adaptor(ValueRange{}, attributes, properties);
  auto value = adaptor.getValueAttr();
  if (!value) return failure();
  inferred.push_back(value.getType());
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

LogicalResult BroadcastInDimOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getResult());
  ArrayRef<int64_t> dims = getDims();
  if (failed(verifySameElementType(*this, in, out))) return failure();
  if (static_cast<int64_t>(dims.size()) != in.getRank())
    return emitOpError() << "has " << dims.size() << " dims for an operand of rank "
                         << in.getRank() << " (" << describeType(in) << ")";
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d < 0 || d >= out.getRank())
      return emitOpError() << "dims[" << i << "] = " << d << " is out of range for result "
                           << describeType(out);
    if (i > 0 && d <= dims[i - 1])
      return emitOpError() << "dims must be strictly increasing, got "
                           << describeShape(dims);
    int64_t inSize = in.getDimSize(i), outSize = out.getDimSize(d);
    if (inSize != outSize && inSize != 1)
      return emitOpError() << "cannot broadcast " << describeType(in) << " to "
                           << describeType(out) << ": operand dimension " << i << " (size "
                           << inSize << ") maps to result dimension " << d << " (size "
                           << outSize << ")";
  }
  return success();
}

OpFoldResult BroadcastInDimOp::fold(FoldAdaptor) {
  if (getX().getType() == getType()) return getX();
  return {};
}

LogicalResult ReshapeOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getResult());
  if (failed(verifySameElementType(*this, in, out))) return failure();
  if (in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << describeType(in) << " ("
                         << in.getNumElements() << " elements) to " << describeType(out)
                         << " (" << out.getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getX().getType() == getType()) return getX();
  return {};
}

LogicalResult TransposeOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getResult());
  ArrayRef<int64_t> perm = getPerm();
  if (failed(verifySameElementType(*this, in, out))) return failure();
  if (static_cast<int64_t>(perm.size()) != in.getRank())
    return emitOpError() << "perm " << describeShape(perm) << " has " << perm.size()
                         << " entries for an operand of rank " << in.getRank() << " ("
                         << describeType(in) << ")";
  SmallVector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || seen[p])
      return emitOpError() << "perm " << describeShape(perm) << " is not a permutation of 0.."
                           << in.getRank() - 1;
    seen[p] = true;
  }
  // The rank is compared outside the loop: for a rank-0 operand perm is empty and the
  // loop never runs, which let `tensor<f32> -> tensor<1xf32>` through.
  if (out.getRank() != in.getRank())
    return emitOpError() << "result " << describeType(out) << " is not " << describeType(in)
                         << " permuted by " << describeShape(perm);
  for (auto [i, p] : llvm::enumerate(perm))
    if (out.getDimSize(i) != in.getDimSize(p))
      return emitOpError() << "result " << describeType(out) << " is not " << describeType(in)
                           << " permuted by " << describeShape(perm);
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  if (llvm::equal(getPerm(), llvm::seq<int64_t>(0, getPerm().size()))) return getX();
  return {};
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// Reducing over no axes is the identity, for every kind (mean divides by 1).
OpFoldResult ReduceOp::fold(FoldAdaptor) {
  if (getAxes().empty() && getX().getType() == getType()) return getX();
  return {};
}

/// The shape left after reducing `axes` of `shape`.
static SmallVector<int64_t> reducedShape(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes,
                                         bool keepdims) {
  SmallVector<int64_t> out;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (llvm::is_contained(axes, static_cast<int64_t>(i))) {
      if (keepdims) out.push_back(1);
    } else {
      out.push_back(d);
    }
  }
  return out;
}

LogicalResult ReduceOp::verify() {
  auto in = tensorOf(getX()), out = tensorOf(getResult());
  ArrayRef<int64_t> axes = getAxes();
  if (failed(verifySameElementType(*this, in, out))) return failure();
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= in.getRank())
      return emitOpError() << "axis " << a << " is out of range for " << describeType(in);
    if (i > 0 && a <= axes[i - 1])
      return emitOpError() << "axes must be sorted and unique, got " << describeShape(axes);
  }
  if (getKind() == ReduceKind::mean && !isa<FloatType>(in.getElementType()))
    return emitOpError() << "mean needs a float operand, got " << describeType(in);
  auto expected = reducedShape(in.getShape(), axes, getKeepdims());
  if (out.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result " << describeType(out) << " should have shape "
                         << describeShape(expected) << " (reducing " << describeType(in)
                         << " over axes " << describeShape(axes)
                         << (getKeepdims() ? " with keepdims)" : ")");
  return success();
}

static LogicalResult verifyArgReduce(Operation *op, Value x, Value result, int64_t axis,
                                     bool keepdims) {
  auto in = tensorOf(x), out = tensorOf(result);
  if (axis < 0 || axis >= in.getRank())
    return op->emitOpError() << "axis " << axis << " is out of range for " << describeType(in);
  if (in.getDimSize(axis) == 0)
    return op->emitOpError() << "axis " << axis << " of " << describeType(in)
                             << " is empty: there is no index to return";
  if (in.getElementType().isInteger(1))
    return op->emitOpError() << "is not defined on bool tensors: " << describeType(in);
  auto expected = reducedShape(in.getShape(), {axis}, keepdims);
  if (out.getShape() != ArrayRef<int64_t>(expected))
    return op->emitOpError() << "result " << describeType(out) << " should have shape "
                             << describeShape(expected);
  return success();
}

LogicalResult ArgMaxOp::verify() {
  return verifyArgReduce(*this, getX(), getResult(), getAxis(), getKeepdims());
}
LogicalResult ArgMinOp::verify() {
  return verifyArgReduce(*this, getX(), getResult(), getAxis(), getKeepdims());
}

LogicalResult SoftmaxStatsOp::verify() {
  auto in = tensorOf(getX());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= in.getRank())
    return emitOpError() << "axis " << axis << " is out of range for " << describeType(in);
  auto expected = reducedShape(in.getShape(), {axis}, /*keepdims=*/true);
  for (Value r : {getMax(), getSum()}) {
    auto out = tensorOf(r);
    if (out.getShape() != ArrayRef<int64_t>(expected) || out.getElementType() != in.getElementType())
      return emitOpError() << "result " << describeType(out) << " should be "
                           << describeType(RankedTensorType::get(expected, in.getElementType()))
                           << " (reducing " << describeType(in) << " along axis " << axis << ")";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Dot
//===----------------------------------------------------------------------===//

namespace {
/// A product with one column (matrix times vector, as grad makes of a linear model) is
/// a row reduction of an elementwise product. As a product it would run the
/// micro-kernel on 32-column panels that are 31/32 padding (W6's grad: 135 us for a
/// 1000x100 matrix-vector product); as a reduction it reads the matrix once, along its
/// rows, and fuses with whatever computes the matrix.
struct DotWithOneColumn : public OpRewritePattern<DotOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DotOp op, PatternRewriter &rewriter) const override {
    auto a = cast<RankedTensorType>(op.getLhs().getType());
    auto b = cast<RankedTensorType>(op.getRhs().getType());
    auto c = cast<RankedTensorType>(op.getType());
    if (c.getShape().back() != 1) return failure();
    int64_t rank = a.getRank();
    Location loc = op.getLoc();
    // The matrix is summed along its k axis. transpose(A) x v (grad's A^T r) sums A over
    // its rows instead, reading A in its own order rather than through the transpose.
    Value matrix = op.getLhs();
    int64_t kAxis = rank - 1;
    if (auto transposed = op.getLhs().getDefiningOp<TransposeOp>(); transposed && rank == 2) {
      matrix = transposed.getX();
      kAxis = 0;
    }
    auto matrixType = cast<RankedTensorType>(matrix.getType());
    auto column = ReshapeOp::create(rewriter, loc, RankedTensorType::get(b.getShape().drop_back(), b.getElementType()),
                                    op.getRhs());
    auto dims = llvm::to_vector(llvm::seq<int64_t>(0, rank - 2)); // batch dimensions, then k
    dims.push_back(kAxis);
    auto spread = BroadcastInDimOp::create(rewriter, loc, matrixType, column, rewriter.getDenseI64ArrayAttr(dims));
    auto product = MulOp::create(rewriter, loc, matrixType, matrix, spread);
    bool keepdims = kAxis == rank - 1; // then the sums have the result's shape already
    SmallVector<int64_t> sumsShape;
    for (int64_t d = 0; d < rank; ++d)
      if (d != kAxis || keepdims) sumsShape.push_back(d == kAxis ? 1 : matrixType.getDimSize(d));
    auto sums = ReduceOp::create(rewriter, loc, RankedTensorType::get(sumsShape, c.getElementType()),
                                 ReduceKindAttr::get(getContext(), ReduceKind::sum), product,
                                 rewriter.getDenseI64ArrayAttr({kAxis}), rewriter.getBoolAttr(keepdims));
    if (keepdims) rewriter.replaceOp(op, sums);
    else rewriter.replaceOpWithNewOp<ReshapeOp>(op, c, sums);
    return success();
  }
};
} // namespace

void DotOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<DotWithOneColumn>(ctx);
}

LogicalResult DotOp::verify() {
  auto a = tensorOf(getLhs()), b = tensorOf(getRhs()), c = tensorOf(getResult());
  if (a.getElementType() != b.getElementType() || a.getElementType() != c.getElementType())
    return emitOpError() << "dtypes differ: " << describeType(a) << " x " << describeType(b)
                         << " -> " << describeType(c);
  if (a.getElementType().isInteger(1))
    return emitOpError() << "is not defined on bool tensors: " << describeType(a);
  if (a.getRank() != b.getRank() || (a.getRank() != 2 && a.getRank() != 3))
    return emitOpError() << "needs two rank-2 or two rank-3 (batched) operands, got "
                         << describeType(a) << " and " << describeType(b);
  int64_t r = a.getRank();
  if (a.getDimSize(r - 1) != b.getDimSize(r - 2))
    return emitOpError() << "contracting dimensions differ: " << a.getDimSize(r - 1) << " vs "
                         << b.getDimSize(r - 2) << " (" << describeType(a) << " x "
                         << describeType(b) << ")";
  SmallVector<int64_t> expected;
  if (r == 3) {
    if (a.getDimSize(0) != b.getDimSize(0))
      return emitOpError() << "batch dimensions differ: " << a.getDimSize(0) << " vs "
                           << b.getDimSize(0) << " (" << describeType(a) << " x "
                           << describeType(b) << ")";
    expected.push_back(a.getDimSize(0));
  }
  expected.push_back(a.getDimSize(r - 2));
  expected.push_back(b.getDimSize(r - 1));
  if (c.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result " << describeType(c) << " should have shape "
                         << describeShape(expected) << " for " << describeType(a) << " x "
                         << describeType(b);
  return success();
}

LogicalResult FusionOp::verify() {
  Block &block = getBody().front();
  if (block.getNumArguments() != 0) return emitOpError("region must not have arguments");
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield) return emitOpError("region must end in ajit.yield");
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ") << yield.getValues().size() << " values whose types differ "
                                  << "from the op's " << getNumResults() << " result types";
  if (getNumResults() == 0) return emitOpError("must have at least one result");
  auto dots = llvm::count_if(block.getOperations(), [](Operation &op) { return isa<DotOp>(op); });
  // (After ajit-lower-to-linalg an output fusion holds the dot's linalg form instead.)
  if (dots > (getKind() == FusionKind::output ? 1 : 0))
    return emitOpError("only an output fusion may hold an ajit.dot, and only one; this ")
           << stringifyFusionKind(getKind()) << " fusion holds " << dots;
  return success();
}

#include "compiler/dialect/AjitEnums.cpp.inc"

#define GET_OP_CLASSES
#include "compiler/dialect/AjitOps.cpp.inc"
