//===- ajit-opt.cpp - mlir-opt with the ajit dialect and passes -----------===//
#include "compiler/dialect/AjitDialect.h"
#include "compiler/pipeline/Pipeline.h"
#include "compiler/transforms/Passes.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  ajit::registerAjitPasses();
  ajit::registerPipelines();
  mlir::DialectRegistry registry;
  ajit::registerCompilerDialects(registry); // with the LLVM/NVVM translations gpu-module-to-binary needs
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "ajit optimizer driver\n", registry));
}
