//===- Trace.h - building the graph IR while a function runs ----*- C++ -*-===//
//
// Internal to the frontend. A Trace owns the module being built: each ajit op called on
// traced Tensors appends an `ajit` dialect op at the builder's insertion point.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_FRONTEND_TRACE_H
#define AJIT_FRONTEND_TRACE_H

#include "frontend/ajit.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace mlir::func {
class FuncOp;
}

namespace ajit::detail {

mlir::Type elementType(mlir::MLIRContext *ctx, DType dtype);
DType dtypeOf(mlir::Type elementType);
mlir::RankedTensorType tensorType(mlir::MLIRContext *ctx, DType dtype, const Shape &shape);
/// " (at file.cpp:12)" or "" when the location is unknown.
std::string where(const Loc &loc);
/// Throws ajit::Error("ajit: <op>: <message> (at file:line)").
[[noreturn]] void fail(const char *op, const std::string &message, const Loc &loc);

class Trace {
public:
  Trace(mlir::MLIRContext &ctx, const std::string &functionName);
  ~Trace();

  /// The trace being built on this thread, or null.
  static Trace *active();
  /// Makes `trace` the active one for its lifetime (vmap builds the caller's trace while
  /// its per-example trace is still alive).
  class ActiveScope {
  public:
    explicit ActiveScope(Trace *trace);
    ~ActiveScope();
    ActiveScope(const ActiveScope &) = delete;
    ActiveScope &operator=(const ActiveScope &) = delete;

  private:
    Trace *saved_;
  };

  mlir::OpBuilder &builder() { return builder_; }
  mlir::MLIRContext *context() { return builder_.getContext(); }
  mlir::Location location(const Loc &loc);

  Tensor parameter(DType dtype, const Shape &shape);
  /// Marks parameter `index` `{ajit.donate}`: its buffer may be reused for a result.
  void donateParameter(unsigned index) { donated_.push_back(index); }
  void setResults(const std::vector<Tensor> &results);
  Tensor wrap(mlir::Value value);
  /// The tensor's value; fails if it belongs to another trace.
  mlir::Value unwrap(const Tensor &t, const char *op, const Loc &loc);

  mlir::ModuleOp module() { return *module_; }
  mlir::OwningOpRef<mlir::ModuleOp> takeModule() { return std::move(module_); }
  const std::string &functionName() const { return name_; }
  size_t numResults() const { return numResults_; }

private:
  mlir::OpBuilder builder_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
  mlir::Block *body_ = nullptr;
  std::string name_;
  size_t numResults_ = 0;
  std::vector<unsigned> donated_;
  Trace *previous_;
};

} // namespace ajit::detail

#endif
