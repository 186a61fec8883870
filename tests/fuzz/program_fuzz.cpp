//===- program_fuzz.cpp - libFuzzer target for the program loader ---------===//
//
// Any text must either load (parse, ajit ops only, verify) or raise ajit::Error; never
// crash, assert or hang. What loads must print and parse back.
//
//===----------------------------------------------------------------------===//
#include "compiler/dialect/AjitDialect.h"
#include "frontend/Program.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>

static mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    registry.insert<ajit::AjitDialect, mlir::func::FuncDialect>();
    auto *c = new mlir::MLIRContext(registry, mlir::MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  ajit::detail::ParsedProgram program;
  try {
    program = ajit::detail::parseProgram(context(), text, "fuzz.mlir", "");
  } catch (const ajit::Error &) {
    return 0;
  }
  std::string printed;
  llvm::raw_string_ostream os(printed);
  program.module->print(os);
  try {
    ajit::detail::parseProgram(context(), printed, "printed.mlir", "");
  } catch (const ajit::Error &) {
    __builtin_trap(); // printed IR must load again
  }
  return 0;
}
