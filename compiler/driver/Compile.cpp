//===- Compile.cpp - graph IR module to object code, stage by stage -------===//
#include "compiler/driver/Compile.h"

#include "llvm/ADT/SetVector.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
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

std::vector<std::string> stageNames(const TargetInfo &target) {
  std::vector<std::string> names = {"graph"};
  for (const Phase &phase : target.phases()) names.push_back(phase.name);
  for (const std::string &n : target.codeStages()) names.push_back(n);
  return names;
}

StageFn dumpToFiles(const std::string &prefix) {
  auto step = std::make_shared<int>(0);
  return [prefix, step](const std::string &stage, const std::string &ext, const std::string &text) {
    char num[8];
    std::snprintf(num, sizeof num, "%02d", (*step)++);
    std::string error;
    if (!writeTextFile(prefix + "." + num + "-" + stage + "." + ext, text, error)) llvm::errs() << error << "\n";
  };
}

/// After the linalg phase each linalg op but a fill (which only initialises an
/// accumulator) is one loop nest: count them and the tensor bytes each reads and writes,
/// its operands and the tensors its body reads from outside (lane reductions'
/// explicit vector loops read their input that way).
static KernelStats kernelStats(ModuleOp module) {
  auto bytes = [](Type t) -> uint64_t {
    auto shaped = dyn_cast<RankedTensorType>(t);
    if (!shaped) return 0;
    unsigned bits = shaped.getElementType().getIntOrFloatBitWidth();
    return static_cast<uint64_t>(shaped.getNumElements()) * ((bits + 7) / 8);
  };
  KernelStats stats;
  module.walk([&](linalg::LinalgOp op) {
    if (isa<linalg::FillOp>(op)) return;
    ++stats.kernels;
    llvm::SetVector<Value> read(llvm::from_range, op.getDpsInputs());
    op->walk([&](Operation *inner) {
      if (inner == op.getOperation()) return;
      for (Value v : inner->getOperands())
        if (isa<RankedTensorType>(v.getType()) && !op->isAncestor(v.getParentBlock()->getParentOp()))
          read.insert(v);
    });
    for (Value in : read) stats.bytesRead += bytes(in.getType());
    for (Value out : op->getResults()) stats.bytesWritten += bytes(out.getType());
  });
  return stats;
}

/// Which donated input each out-param reuses (ajit-reuse-donated-inputs marks them),
/// then drops the ajit attributes of the lowered function's arguments: they mean
/// nothing to LLVM.
static void takeOutputReuses(ModuleOp module, const std::string &fn, unsigned numInputs,
                             std::vector<int32_t> &reuses) {
  auto lowered = module.lookupSymbol<FunctionOpInterface>(fn);
  // Every result became an out-param after the inputs (all are memrefs, passed as bare
  // pointers one for one); anything else leaves every output a fresh buffer.
  if (!lowered || lowered.getNumArguments() != numInputs + reuses.size()) return;
  for (unsigned i = 0; i < lowered.getNumArguments(); ++i) {
    if (auto input = lowered.getArgAttrOfType<IntegerAttr>(i, "ajit.reuses_input"); input && i >= numInputs)
      reuses[i - numInputs] = static_cast<int32_t>(input.getInt());
    lowered.removeArgAttr(i, StringAttr::get(module.getContext(), "ajit.reuses_input"));
    lowered.removeArgAttr(i, StringAttr::get(module.getContext(), "ajit.donate"));
  }
}

LogicalResult compileToObject(CompileSession &session, ModuleOp module, const std::string &fn,
                              const TargetInfo &target, const CompileOptions &options,
                              CompileResult &result, std::string &error) {
  auto emit = [&](const std::string &stage, const std::string &ext, const std::string &text) {
    if (options.onStage) options.onStage(stage, ext, text);
  };
  emit("graph", "mlir", printed(module));
  if (failed(verify(module))) {
    error = "ajit: the program does not verify";
    return failure();
  }
  if (options.stopAfter == "graph") return success();

  auto graphFn = module.lookupSymbol<FunctionOpInterface>(fn);
  unsigned numInputs = graphFn ? graphFn.getNumArguments() : 0;
  unsigned numOutputs = graphFn ? graphFn.getNumResults() : 0;
  result.outputReusesInput.assign(numOutputs, -1);
  markArgumentsReadOnly(module);
  if (graphFn)
    graphFn->setAttr(kInputCountAttr, IntegerAttr::get(IntegerType::get(module.getContext(), 64), numInputs));
  for (const Phase &phase : target.phases()) {
    auto t0 = std::chrono::steady_clock::now();
    PassManager *pm = session.passManager(phase, error);
    if (!pm || failed(runPhase(*pm, module, phase, error))) return failure();
    (phase.stage == Stage::GraphPasses ? result.graphMs : result.loweringMs) += msSince(t0);
    if (std::string(phase.name) == "linalg") result.kernels = kernelStats(module);
    if (options.onStage) emit(phase.name, "mlir", printed(module));
    if (options.stopAfter == phase.name) return success();
  }

  takeOutputReuses(module, fn, numInputs, result.outputReusesInput);
  DumpFn dumpLLVM;
  if (options.onStage)
    dumpLLVM = [&](const std::string &stage, const std::string &text) {
      auto dot = stage.rfind('.');
      if (dot == std::string::npos) emit("asm", stage, text);
      else emit(stage.substr(0, dot), stage.substr(dot + 1), text);
    };
  return target.emitObject(module, fn, options.exportAs, result.object, error, dumpLLVM);
}

} // namespace ajit
