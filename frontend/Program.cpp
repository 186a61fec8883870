//===- Program.cpp - graph-dialect programs from text ---------------------===//
#include "frontend/Program.h"

#include "frontend/Trace.h"

#include "compiler/dialect/AjitDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

namespace ajit::detail {

std::string sanitize(const std::string &name) {
  std::string s = "ajit_";
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return s;
}

namespace {

/// `file:line:col` for file locations, MLIR's own form otherwise.
std::string where(mlir::Location loc) {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (auto file = mlir::dyn_cast<mlir::FileLineColLoc>(loc))
    os << file.getFilename().getValue() << ":" << file.getLine() << ":" << file.getColumn();
  else
    os << loc;
  return s;
}

/// Error diagnostics of `ctx` while alive, as text (one per line, no trailing newline).
class Diagnostics {
public:
  explicit Diagnostics(mlir::MLIRContext &ctx)
      : os_(text_), handler_(&ctx, [this](mlir::Diagnostic &d) {
          if (d.getSeverity() != mlir::DiagnosticSeverity::Error) return mlir::success();
          os_ << (text_.empty() ? "" : "\n") << where(d.getLocation()) << ": error: " << d;
          return mlir::success();
        }) {}
  const std::string &text() const { return text_; }

private:
  std::string text_;
  llvm::raw_string_ostream os_;
  mlir::ScopedDiagnosticHandler handler_;
};

std::string str(mlir::Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

} // namespace

ParsedProgram parseProgram(mlir::MLIRContext &ctx, const std::string &text, const std::string &sourceName,
                           const std::string &function) {
  auto fail = [&](const std::string &what) -> ParsedProgram { throw Error("ajit: " + sourceName + ": " + what); };
  ctx.getOrLoadDialect<AjitDialect>();
  ctx.getOrLoadDialect<mlir::func::FuncDialect>();

  ParsedProgram program;
  {
    Diagnostics diagnostics(ctx);
    mlir::ParserConfig config(&ctx);
    program.module = mlir::parseSourceString<mlir::ModuleOp>(text, config, sourceName);
    if (!program.module) {
      if (diagnostics.text().empty()) return fail("cannot parse the program");
      throw Error("ajit: " + diagnostics.text()); // file:line:col: error: ...
    }
  }
  mlir::ModuleOp module = *program.module;
  std::vector<mlir::func::FuncOp> fns;
  for (auto fn : module.getOps<mlir::func::FuncOp>())
    if (fn.isPublic() && !fn.isExternal() && (function.empty() || fn.getSymName() == function)) fns.push_back(fn);
  if (fns.empty())
    return fail(function.empty() ? "no public function in the module" : "no function named '" + function + "'");
  if (fns.size() > 1) return fail("several public functions; choose one by name");
  mlir::func::FuncOp fn = fns.front();
  program.name = fn.getSymName().str();
  // Everything but the chosen function goes: no other symbol may shadow libc or libm.
  for (mlir::Operation &op : llvm::make_early_inc_range(module.getBody()->getOperations()))
    if (&op != fn.getOperation()) op.erase();

  for (mlir::Type t : llvm::concat<const mlir::Type>(fn.getArgumentTypes(), fn.getResultTypes())) {
    auto tensor = mlir::dyn_cast<mlir::RankedTensorType>(t);
    bool ok = tensor && tensor.hasStaticShape();
    if (ok) {
      mlir::Type e = tensor.getElementType();
      ok = e.isF32() || e.isF64() || e.isF16() || e.isBF16() || e.isInteger(1) || e.isInteger(32) ||
           e.isInteger(64);
    }
    if (!ok)
      return fail("function '" + program.name + "' has an argument or result of type " + str(t) +
                  "; programs take static-shaped tensors of f32, f64, f16, bf16, i1, i32 or i64");
  }
  if (fn.getNumResults() == 0) return fail("function '" + program.name + "' returns nothing");
  std::string unsupported;
  fn.walk([&](mlir::Operation *op) {
    if (!unsupported.empty() || op == fn.getOperation() || mlir::isa<mlir::func::ReturnOp>(op) ||
        mlir::isa<AjitDialect>(op->getDialect()))
      return;
    unsupported = where(op->getLoc()) + ": error: unsupported op '" + op->getName().getStringRef().str() +
                  "' (programs are written in the ajit graph dialect)";
  });
  if (!unsupported.empty()) throw Error("ajit: " + unsupported);
  {
    Diagnostics diagnostics(ctx);
    if (mlir::failed(mlir::verify(module))) throw Error("ajit: " + diagnostics.text());
  }
  return program;
}

} // namespace ajit::detail
