//===- Program.h - graph-dialect programs from text ------------*- C++ -*-===//
//
// Parsing and checking of `.mlir` programs for compileProgram, ajit-run and ajitc: one
// public function over static-shaped tensors, written in the ajit dialect.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_FRONTEND_PROGRAM_H
#define AJIT_FRONTEND_PROGRAM_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace ajit::detail {

/// `ajit_<name>` with non-identifier characters replaced: the symbol a function gets in
/// generated code, so that it can never shadow a libc or libm symbol.
std::string sanitize(const std::string &name);

struct ParsedProgram {
  mlir::OwningOpRef<mlir::ModuleOp> module; ///< holds only the chosen function
  std::string name; ///< the function's name
};

/// Parses `text`; keeps the public function `function` (or the only one); checks that its
/// signature is static-shaped tensors of supported dtypes, that every op is an ajit op, and
/// that the module verifies. Throws ajit::Error("ajit: <sourceName>: <problem>").
ParsedProgram parseProgram(mlir::MLIRContext &ctx, const std::string &text,
                           const std::string &sourceName, const std::string &function);

} // namespace ajit::detail

#endif
