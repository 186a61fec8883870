//===- Compile.cpp - graph IR module to object code, stage by stage -------===//
#include "compiler/driver/Compile.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace mlir;

namespace ajit {

static double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

static std::string printed(ModuleOp module) {
  std::string s;
  llvm::raw_string_ostream os(s);
  module.print(os);
  return s;
}

bool writeTextFile(const std::string &path, const std::string &text, std::string &error) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary);
  if (!out || !out.write(text.data(), static_cast<std::streamsize>(text.size()))) {
    error = "ajit: cannot write " + path;
    return false;
  }
  return true;
}

CompileSession::CompileSession() {
  DialectRegistry registry;
  registerCompilerDialects(registry);
  ctx_ = std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
}

CompileSession::~CompileSession() {
  passManagers_.clear(); // before the context they live in
}

PassManager *CompileSession::passManager(const Phase &phase, std::string &error) {
  for (auto &[p, pm] : passManagers_)
    if (p == &phase) return pm.get();
  auto pm = buildPhase(ctx_.get(), phase, error);
  if (!pm) return nullptr;
  passManagers_.emplace_back(&phase, std::move(pm));
  return passManagers_.back().second.get();
}

LogicalResult compileToObject(CompileSession &session, ModuleOp module, const std::string &fn,
                              const TargetInfo &target,
                              const std::string &dumpPrefix, CompileResult &result,
                              std::string &error) {
  int step = 0;
  std::string dumpError;
  auto dump = [&](const std::string &stage, const std::string &ext, const std::string &text) {
    if (dumpPrefix.empty()) return;
    char num[8];
    std::snprintf(num, sizeof num, "%02d", step++);
    if (!writeTextFile(dumpPrefix + "." + num + "-" + stage + "." + ext, text, dumpError))
      llvm::errs() << dumpError << "\n";
  };
  dump("graph", "mlir", printed(module));
  if (failed(verify(module))) {
    error = "ajit: the traced program does not verify";
    return failure();
  }

  markArgumentsReadOnly(module);
  for (const Phase &phase : target.phases()) {
    auto t0 = std::chrono::steady_clock::now();
    PassManager *pm = session.passManager(phase, error);
    if (!pm || failed(runPhase(*pm, module, phase, error))) return failure();
    double ms = msSince(t0);
    (phase.stage == Stage::GraphPasses ? result.graphMs : result.loweringMs) += ms;
    if (std::string(phase.name) == "linalg") {
      result.kernels = 0;
      // Each remaining linalg op is one loop nest; fills only initialise accumulators.
      module.walk([&](linalg::LinalgOp op) { result.kernels += !isa<linalg::FillOp>(op); });
    }
    if (!dumpPrefix.empty()) dump(phase.name, "mlir", printed(module));
  }

  DumpFn dumpLLVM;
  if (!dumpPrefix.empty())
    dumpLLVM = [&](const std::string &stage, const std::string &text) {
      auto dot = stage.rfind('.');
      if (dot == std::string::npos) dump("asm", stage, text);
      else dump(stage.substr(0, dot), stage.substr(dot + 1), text);
    };
  return target.emitObject(module, fn, result.object, error, dumpLLVM);
}

} // namespace ajit
