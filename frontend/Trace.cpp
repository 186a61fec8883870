//===- Trace.cpp - building the graph IR while a function runs ------------===//
#include "frontend/Trace.h"

#include "compiler/dialect/AjitOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace ajit::detail {

static thread_local Trace *activeTrace = nullptr;

Type elementType(MLIRContext *ctx, DType dtype) {
  Builder b(ctx);
  switch (dtype) {
  case DType::f32: return b.getF32Type();
  case DType::f64: return b.getF64Type();
  case DType::i32: return b.getI32Type();
  case DType::i64: return b.getI64Type();
  case DType::boolean: return b.getI1Type();
  case DType::f16: return b.getF16Type();
  case DType::bf16: return b.getBF16Type();
  }
  return {};
}

DType dtypeOf(Type t) {
  if (t.isF32()) return DType::f32;
  if (t.isF64()) return DType::f64;
  if (t.isInteger(32)) return DType::i32;
  if (t.isInteger(64)) return DType::i64;
  if (t.isInteger(1)) return DType::boolean;
  if (t.isF16()) return DType::f16;
  if (t.isBF16()) return DType::bf16;
  throw Error("ajit: internal error: unsupported element type");
}

RankedTensorType tensorType(MLIRContext *ctx, DType dtype, const Shape &shape) {
  return RankedTensorType::get(shape, elementType(ctx, dtype));
}

std::string where(const Loc &loc) {
  if (loc.line() == 0) return "";
  std::string file = loc.file_name();
  auto slash = file.find_last_of('/');
  if (slash != std::string::npos) file = file.substr(slash + 1);
  return " (at " + file + ":" + std::to_string(loc.line()) + ")";
}

void fail(const char *op, const std::string &message, const Loc &loc) {
  throw Error(std::string("ajit: ") + op + ": " + message + where(loc));
}

Trace::Trace(MLIRContext &ctx, const std::string &functionName)
    : builder_(&ctx), name_(functionName), previous_(activeTrace) {
  ctx.getOrLoadDialect<AjitDialect>();
  ctx.getOrLoadDialect<func::FuncDialect>();
  module_ = ModuleOp::create(builder_.getUnknownLoc());
  builder_.setInsertionPointToEnd(module_->getBody());
  auto fn = func::FuncOp::create(builder_, builder_.getUnknownLoc(), name_,
                                 builder_.getFunctionType({}, {}));
  body_ = fn.addEntryBlock();
  builder_.setInsertionPointToEnd(body_);
  activeTrace = this;
}

Trace::~Trace() { activeTrace = previous_; }

Trace *Trace::active() { return activeTrace; }

Trace::ActiveScope::ActiveScope(Trace *trace) : saved_(activeTrace) { activeTrace = trace; }
Trace::ActiveScope::~ActiveScope() { activeTrace = saved_; }

Location Trace::location(const Loc &loc) {
  if (loc.line() == 0) return builder_.getUnknownLoc();
  return FileLineColLoc::get(builder_.getStringAttr(loc.file_name()), loc.line(), loc.column());
}

Tensor Trace::parameter(DType dtype, const Shape &shape) {
  Value arg = body_->addArgument(tensorType(context(), dtype, shape), builder_.getUnknownLoc());
  return wrap(arg);
}

void Trace::setResults(const std::vector<Tensor> &results) {
  SmallVector<Value> values;
  SmallVector<Type> types;
  for (const Tensor &t : results) {
    values.push_back(unwrap(t, "return", Loc()));
    types.push_back(values.back().getType());
  }
  func::ReturnOp::create(builder_, builder_.getUnknownLoc(), values);
  auto fn = cast<func::FuncOp>(body_->getParentOp());
  fn.setFunctionType(builder_.getFunctionType(body_->getArgumentTypes(), types));
  for (unsigned index : donated_) fn.setArgAttr(index, "ajit.donate", builder_.getUnitAttr());
  numResults_ = results.size();
}

Tensor Trace::wrap(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return Tensor(this, value.getAsOpaquePointer(), Shape(type.getShape()), dtypeOf(type.getElementType()));
}

Value Trace::unwrap(const Tensor &t, const char *op, const Loc &loc) {
  if (t.trace() != this)
    fail(op, "a tensor of " + t.str() + " was used outside the trace that created it "
             "(tensors live only inside the traced function)", loc);
  return Value::getFromOpaquePointer(t.value());
}

} // namespace ajit::detail
