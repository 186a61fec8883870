//===- CpuTarget.cpp - LLVM dialect to native x86/Arm object code ---------===//
//
// One IR -> object path for the JIT and for ahead-of-time compiles (XLA's jit_compiler):
// translate to LLVM IR, tune function attributes for the CPU, add a `void entry(void**)`
// wrapper, run LLVM's O3 pipeline (the loop vectorizer does the SIMD work), and emit a
// relocatable object.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/TargetInfo.h"

#include "compiler/targets/LoopHints.h"
#include "compiler/targets/X86MinMax.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

using namespace mlir;

namespace ajit {
namespace {

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

std::string hostFeatures() {
  llvm::SubtargetFeatures features;
  for (auto &f : llvm::sys::getHostCPUFeatures()) features.AddFeature(f.first(), f.second);
  return features.getString();
}

std::string moduleText(const llvm::Module &m) {
  std::string s;
  llvm::raw_string_ostream os(s);
  m.print(os, nullptr);
  return s;
}

/// `void entry(void **args)` that unpacks one pointer per parameter and calls `fn`.
void addEntryWrapper(llvm::Module &m, llvm::Function &fn, const std::string &name) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false);
  auto *entry = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, m);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::SmallVector<llvm::Value *> args;
  for (unsigned i = 0; i < fn.arg_size(); ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, entry->getArg(0), i);
    args.push_back(b.CreateLoad(ptrTy, slot));
  }
  b.CreateCall(&fn, args);
  b.CreateRetVoid();
}

class CpuTarget final : public TargetInfo {
public:
  CpuTarget(const std::string &cpu, bool parallel, bool microKernels, int workers)
      : parallel_(parallel), microKernels_(parallel && microKernels),
        workers_(workers > 0 ? workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {
    // The matmul tiles depend on how many threads share them: the pass gets the count.
    // Reserved, so that the strings phases_ points into never move.
    ArrayRef<Phase> base = cpuPhases(parallel_, microKernels_);
    pipelines_.reserve(base.size());
    for (const Phase &phase : base) {
      std::string &pipeline = pipelines_.emplace_back(phase.pipeline);
      size_t at = pipeline.find("ajit-tile-matmuls,");
      if (at != std::string::npos)
        pipeline.insert(at + std::strlen("ajit-tile-matmuls"), "{threads=" + std::to_string(workers_) + "}");
      phases_.push_back({phase.name, phase.stage, pipeline.c_str()});
    }
    initializeNativeTarget();
    triple_ = llvm::Triple(llvm::sys::getProcessTriple());
    if (cpu.empty() || cpu == "native") {
      cpu_ = llvm::sys::getHostCPUName().str();
      features_ = hostFeatures();
    } else {
      cpu_ = cpu;
    }
  }

  // phases_ points into pipelines_: a copy would point into the original.
  CpuTarget(const CpuTarget &) = delete;
  CpuTarget &operator=(const CpuTarget &) = delete;

  std::string name() const override { return triple_.getArchName().str() + "-" + cpu_; }
  std::string fingerprint() const override {
    return triple_.str() + " " + cpu_ + " " + features_ + (parallel_ ? " omp" : " sequential") +
           (microKernels_ ? " ukernels workers=" + std::to_string(workers_) : "");
  }

  ArrayRef<Phase> phases() const override { return phases_; }

  LogicalResult emitObject(ModuleOp module, const std::string &fnName, const std::string &exportAs,
                           ObjectCode &out, std::string &error, const DumpFn &dump) const override {
    auto t0 = std::chrono::steady_clock::now();
    llvm::TargetMachine *tm = targetMachine(error);
    if (!tm) return failure();

    llvm::LLVMContext llvmCtx;
    std::unique_ptr<llvm::Module> m = translateModuleToLLVMIR(module, llvmCtx, "ajit");
    if (!m) {
      error = "ajit: translation to LLVM IR failed";
      return failure();
    }
    m->setTargetTriple(triple_);
    m->setDataLayout(tm->createDataLayout());
    llvm::Function *fn = m->getFunction(fnName);
    if (!fn || fn->isDeclaration()) {
      error = "ajit: no function '" + fnName + "' in the module";
      return failure();
    }
    // Outputs are fresh buffers, inputs are only read: no argument aliases a written one.
    for (llvm::Argument &arg : fn->args())
      if (arg.getType()->isPointerTy()) arg.addAttr(llvm::Attribute::NoAlias);
    out.entrySymbol = fnName + "_entry";
    addEntryWrapper(*m, *fn, out.entrySymbol);
    if (exportAs.empty()) {
      // Only the wrapper is called from outside: once the function is inlined into it, an
      // internal function is deleted instead of being compiled a second time.
      fn->setLinkage(llvm::GlobalValue::InternalLinkage);
    } else if (exportAs != fnName) {
      if (m->getNamedValue(exportAs)) {
        error = "ajit: cannot export '" + fnName + "' as '" + exportAs + "': the name is taken";
        return failure();
      }
      fn->setName(exportAs);
    }
    bool avx512 = tm->getMCSubtargetInfo()->checkFeatures("+avx512f");
    // After the wrapper exists: it is what the function is inlined into.
    for (llvm::Function &f : *m) {
      if (f.isDeclaration()) continue;
      f.addFnAttr("target-cpu", cpu_);
      if (!features_.empty()) f.addFnAttr("target-features", features_);
      // Skylake-and-later tuning prefers 256-bit vectors; our loops are long, streaming
      // and free of the frequency-licence concerns behind that default, so use zmm.
      if (avx512) f.addFnAttr("prefer-vector-width", "512");
      f.addFnAttr(llvm::Attribute::NoUnwind);
    }
    if (llvm::verifyModule(*m, &llvm::errs())) {
      error = "ajit: generated LLVM IR does not verify";
      return failure();
    }
    out.translateMs = msSince(t0);
    if (dump) dump("llvm-ir.ll", moduleText(*m));

    auto t1 = std::chrono::steady_clock::now();
    hintInterleaveForLongFloatLoops(*m);
    {
      llvm::LoopAnalysisManager lam;
      llvm::FunctionAnalysisManager fam;
      llvm::CGSCCAnalysisManager cgam;
      llvm::ModuleAnalysisManager mam;
      llvm::PipelineTuningOptions tuning;
      tuning.LoopVectorization = true;
      tuning.SLPVectorization = true;
      llvm::PassBuilder pb(tm, tuning);
      pb.registerModuleAnalyses(mam);
      pb.registerCGSCCAnalyses(cgam);
      pb.registerFunctionAnalyses(fam);
      pb.registerLoopAnalyses(lam);
      pb.crossRegisterProxies(lam, fam, cgam, mam);
      pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(*m, mam);
    }
    // After vectorization: the vector min/max the loops now hold.
    if (tm->getMCSubtargetInfo()->checkFeatures("+avx512dq"))
      lowerVectorMinMaxToRange(*m, tm->getMCSubtargetInfo()->checkFeatures("+avx512vl"));
    out.optimizeMs = msSince(t1);
    if (dump) dump("llvm-ir-opt.ll", moduleText(*m));

    auto t2 = std::chrono::steady_clock::now();
    if (dump) {
      llvm::SmallVector<char, 0> asmText;
      llvm::raw_svector_ostream os(asmText);
      llvm::legacy::PassManager pm;
      auto clone = llvm::CloneModule(*m);
      if (!tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile)) {
        pm.run(*clone);
        dump("s", std::string(asmText.begin(), asmText.end()));
      }
    }
    llvm::SmallVector<char, 0> object;
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
      error = "ajit: the target cannot emit object files";
      return failure();
    }
    pm.run(*m);
    out.bytes.assign(object.begin(), object.end());
    out.codegenMs = msSince(t2);
    return success();
  }

private:
  /// Creating a TargetMachine (subtarget tables, feature parsing) costs about a
  /// millisecond; each thread keeps one per target, since one must not be shared by two
  /// concurrent code generators.
  llvm::TargetMachine *targetMachine(std::string &error) const {
    thread_local std::map<std::string, std::unique_ptr<llvm::TargetMachine>> machines;
    auto &tm = machines[name() + "|" + features_];
    if (tm) return tm.get();
    std::string lookupError;
    const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple_, lookupError);
    if (!target) {
      error = "ajit: no LLVM target for " + triple_.str() + ": " + lookupError;
      return nullptr;
    }
    // An unknown CPU name would make LLVM print warnings and then abort.
    std::unique_ptr<llvm::MCSubtargetInfo> info(target->createMCSubtargetInfo(triple_, "", ""));
    if (!info || !info->isCPUStringValid(cpu_)) {
      error = "ajit: unknown CPU '" + cpu_ + "' for " + triple_.str() +
              " (try native, x86-64-v2, x86-64-v3, x86-64-v4 or a name such as skylake-avx512)";
      return nullptr;
    }
    tm.reset(target->createTargetMachine(triple_, cpu_, features_, llvm::TargetOptions(),
                                         llvm::Reloc::PIC_, std::nullopt,
                                         llvm::CodeGenOptLevel::Aggressive));
    if (!tm) error = "ajit: cannot create a target machine for " + name();
    return tm.get();
  }

  bool parallel_, microKernels_;
  int workers_;
  std::vector<std::string> pipelines_; // what phases_ point into
  std::vector<Phase> phases_;
  llvm::Triple triple_;
  std::string cpu_;
  std::string features_;
};

} // namespace

std::unique_ptr<TargetInfo> createCpuTarget(const std::string &cpu, bool parallel, bool microKernels, int workers) {
  return std::make_unique<CpuTarget>(cpu, parallel, microKernels, workers);
}

} // namespace ajit
