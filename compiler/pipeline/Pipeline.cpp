//===- Pipeline.cpp - the named phases from graph IR to LLVM dialect ------===//
#include "compiler/pipeline/Pipeline.h"

#include "compiler/dialect/AjitDialect.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

using namespace mlir;

namespace ajit {

// Why this order:
// - graph-opt: CSE and canonicalization on the graph first, so lowering sees a minimal
//   graph and the compile log counts real ops.
// - fused: XLA-style fusion decided on the graph: ops grouped into ajit.fusion regions
//   (loop, input and multi-output fusions), by a cost model that never recomputes
//   expensive ops; then loop fusions over one shape that read a common input merge
//   (sibling fusion).
// - linalg: lower to linalg on tensors, then carry out each fusion: the linalg ops of a
//   region become one loop nest (and only those: nothing fuses across regions); a long
//   reduction to a few values becomes parallel chunks plus a combine (argmax / argmin
//   along an outer axis too: along the innermost one they are vector lanes already).
// - bufferized: every op writing into a (CSE-shared) fill gets a fill of its own, so
//   that bufferization need not copy one; one-shot bufferization over whole functions;
//   a result may take a donated argument's buffer (ajit-reuse-donated-inputs); results
//   become out-params (hoisting the static allocation of each result into the caller),
//   then temporaries get deallocations.
// - loops: f32 matmuls become a parallel loop over output tiles calling the micro-kernel
//   of kernels/matmul, each tile followed by its output fusion's epilogue; the other
//   linalg ops become scf loops; the innermost loop is left for LLVM's loop vectorizer,
//   which handles tails and targets the host's widest vectors. Large kernels keep their
//   outermost dimension parallel; convert-scf-to-openmp splits it across libomp's
//   workers (AJIT_NUM_THREADS), one contiguous chunk each. Reduction accumulators
//   move from memory into loop-carried values while the buffers are still told apart
//   (in the outlined OpenMP functions LLVM could no longer tell). A constant B is packed
//   at compile time into a global of its own; symbol-dce drops the unpacked original
//   when nothing else reads it, before LLVM has to translate it.
// - llvm: f32 transcendentals become polynomial approximations (arith only, so they
//   vectorize), then everything is converted to the LLVM dialect with the bare-pointer
//   calling convention (static shapes make the memref descriptors redundant).
static const Phase kCpuPhases[] = {
    {"graph-opt", Stage::GraphPasses, "ajit-flatten-empty-signature,canonicalize,cse"},
    {"fused", Stage::GraphPasses, "ajit-fuse-producer-consumer,ajit-fuse-siblings"},
    {"linalg", Stage::Lowering,
     "ajit-lower-to-linalg,canonicalize,ajit-lower-fusions,canonicalize,cse,"
     "ajit-split-reductions{split-arg-reductions=1},canonicalize"},
    {"bufferized", Stage::Lowering,
     "ajit-copy-repeated-results,ajit-untie-shared-fills,one-shot-bufferize{bufferize-function-boundaries=1 "
     "function-boundary-type-conversion=identity-layout-map},canonicalize,ajit-reuse-donated-inputs,"
     "buffer-results-to-out-params{hoist-static-allocs=1 modify-public-functions=1},"
     "buffer-deallocation-pipeline,canonicalize"},
    {"loops", Stage::Lowering,
     "ajit-tile-matmuls,convert-linalg-to-parallel-loops,ajit-parallelize-outer-loops,"
     "canonicalize,cse,ajit-promote-loop-accumulators,symbol-dce"},
    {"llvm", Stage::Lowering,
     "math-extend-to-supported-types,ajit-approximate-math,ajit-math-to-funcs,"
     "expand-strided-metadata,lower-affine,convert-scf-to-openmp,convert-vector-to-llvm,finalize-memref-to-llvm,convert-scf-to-cf,"
     "convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,"
     "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-cf-to-llvm,"
     "convert-index-to-llvm,convert-openmp-to-llvm,reconcile-unrealized-casts,canonicalize"},
};

// Ahead-of-time objects link against no ajit runtime (no micro-kernels, no buffer pool):
// the same phases with plain loops for matmuls, every loop sequential...
static const Phase kCpuSequentialPhases[] = {
    kCpuPhases[0], kCpuPhases[1], kCpuPhases[2], kCpuPhases[3],
    {"loops", Stage::Lowering,
     "convert-linalg-to-loops,canonicalize,cse,ajit-promote-loop-accumulators"},
    kCpuPhases[5],
};
// ...or large loops on libomp's threads (`ajitc --parallel`, linked with -lomp).
static const Phase kCpuParallelNoKernelsPhases[] = {
    kCpuPhases[0], kCpuPhases[1], kCpuPhases[2], kCpuPhases[3],
    {"loops", Stage::Lowering,
     "convert-linalg-to-parallel-loops,ajit-parallelize-outer-loops,canonicalize,cse,"
     "ajit-promote-loop-accumulators"},
    kCpuPhases[5],
};
static_assert(sizeof(kCpuPhases) / sizeof(Phase) == 6, "keep the AOT phase lists in step");

ArrayRef<Phase> cpuPhases(bool parallel, bool microKernels) {
  if (!parallel) return kCpuSequentialPhases;
  return microKernels ? ArrayRef<Phase>(kCpuPhases) : ArrayRef<Phase>(kCpuParallelNoKernelsPhases);
}

// The PTX target (compiler/targets/PtxTarget.cpp) shares the graph phases; from linalg
// on:
// - linalg: no explicit vector lanes (LaneReduction.h is for CPU vector registers); a
//   long reduction to a few values is split into up to 1024 chunks, bare sums too: each
//   chunk becomes a block of threads.
// - bufferized: as on the CPU (a result may take a donated argument's device buffer)
//   but without deallocations: temporaries belong to the runtime's thunk sequence,
//   which frees them after the call. CSE first: a split reduction's per-element output
//   is written through equal subviews, whose copy of one onto the other (a kernel
//   here) canonicalization drops once they are one value.
// - gpu: each kernel a gpu.launch (ajit-map-to-gpu): contiguous reductions a block of
//   threads per output element, combined by gpu.all_reduce; the rest one thread per
//   output element; f32 transcendentals as polynomials (the CPU's numerics, and no
//   libdevice); launch bodies outlined into gpu.funcs of one gpu.module, the tiled
//   matmul's kernels asking for two blocks per SM (nvvm.minctasm), then the
//   all-reduces lowered to warp shuffles and shared memory, and every shared-memory
//   buffer aligned for 16-byte accesses.
// - nvvm: the gpu.module to the NVVM/LLVM dialects, kernels taking bare pointers; math
//   ops that are PTX instructions (fma, abs, sqrt, ...) become LLVM intrinsics first,
//   or convert-gpu-to-nvvm would make them libdevice calls.
// - ptx: LLVM's NVPTX backend prints the module as PTX (gpu.binary, format isa),
//   linking libdevice from the toolkit libdeviceToolkit() found (only f64
//   transcendentals call it); without one such calls stay unresolved and PtxTarget
//   reports them.
static const std::pair<const char *, const char *> kPtxLowering[] = {
    {"linalg", "ajit-lower-to-linalg{lane-reductions=0},canonicalize,ajit-lower-fusions,canonicalize,cse,"
               "ajit-split-reductions{max-chunks=1024 split-bare=1 split-arg-reductions=1},canonicalize"},
    {"bufferized", "ajit-copy-repeated-results,ajit-untie-shared-fills,one-shot-bufferize{bufferize-function-boundaries=1 "
                   "function-boundary-type-conversion=identity-layout-map},cse,canonicalize,ajit-reuse-donated-inputs,"
                   "buffer-results-to-out-params{hoist-static-allocs=1 modify-public-functions=1},canonicalize"},
    {"gpu", "ajit-map-to-gpu,canonicalize,ajit-approximate-math,gpu-launch-sink-index-computations,"
            "gpu-kernel-outlining,ajit-set-kernel-occupancy,ajit-lower-gpu-all-reduce,ajit-align-workgroup-buffers,"
            "canonicalize,cse"},
    {"nvvm", "nvvm-attach-target{chip=@CHIP@ features=+ptx80 O=3},"
             "gpu.module(expand-strided-metadata,lower-affine,convert-scf-to-cf,"
             "ajit-native-math-to-llvm,"
             "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1 index-bitwidth=64},"
             "canonicalize,cse,reconcile-unrealized-casts)"},
    {"ptx", "gpu-module-to-binary{format=isa@TOOLKIT@}"},
};

const std::string &libdeviceToolkit() {
  static const std::string found = [] {
    std::vector<std::string> candidates;
    // AJIT_CUDA_TOOLKIT names the one toolkit to use, for a machine with several (and
    // so that the tests can compile as on a machine without one).
    if (const char *chosen = std::getenv("AJIT_CUDA_TOOLKIT")) {
      candidates.emplace_back(chosen);
    } else {
      for (const char *var : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"})
        if (const char *value = std::getenv(var)) candidates.emplace_back(value);
      candidates.emplace_back("/usr/local/cuda");
      candidates.emplace_back("/usr/lib/cuda");
    }
    for (const std::string &dir : candidates) {
      if (dir.empty()) continue;
      // A path with blanks would not survive the textual pass option.
      if (dir.find_first_of(" \t'\"{}") != std::string::npos) continue;
      if (std::ifstream(dir + "/nvvm/libdevice/libdevice.10.bc").good()) return dir;
    }
    return std::string();
  }();
  return found;
}

/// `text` with its placeholders filled: @CHIP@ and @TOOLKIT@ (" toolkit=<dir>" for the
/// toolkit found; left empty, upstream looks only where CUDA_HOME and friends point, so
/// the same program linked libdevice in one shell and not in another). With none
/// found: $AJIT_CUDA_TOOLKIT when set (upstream then says that it lacks libdevice,
/// rather than take CUDA_HOME's), else nothing (the same places were searched, and
/// upstream stays quiet).
static std::string fillPlaceholders(std::string text, const std::string &chip) {
  auto fill = [&](const std::string &name, const std::string &value) {
    if (auto at = text.find(name); at != std::string::npos) text.replace(at, name.size(), value);
  };
  fill("@CHIP@", chip);
  std::string toolkit = libdeviceToolkit();
  if (const char *chosen = std::getenv("AJIT_CUDA_TOOLKIT"); toolkit.empty() && chosen) toolkit = chosen;
  fill("@TOOLKIT@", toolkit.empty() || toolkit.find_first_of(" \t'\"{}") != std::string::npos ? "" : " toolkit=" + toolkit);
  return text;
}

ArrayRef<Phase> ptxPhases(const std::string &chip, bool llvmBitcode) {
  // One phase list per architecture for the life of the process: compile sessions key
  // their pass managers by the Phase's address.
  static std::mutex mutex;
  static std::map<std::pair<std::string, bool>, std::pair<std::vector<std::string>, std::vector<Phase>>> lists;
  std::lock_guard lock(mutex);
  auto [it, fresh] = lists.try_emplace({chip, llvmBitcode});
  auto &[texts, phases] = it->second;
  if (fresh) {
    for (auto [name, pipeline] : kPtxLowering) {
      bool last = texts.size() + 1 == std::size(kPtxLowering);
      texts.push_back(last && llvmBitcode ? std::string("gpu-module-to-binary{format=llvm}")
                                          : fillPlaceholders(pipeline, chip));
    }
    phases = {kCpuPhases[0], kCpuPhases[1]};
    for (size_t i = 0; i < texts.size(); ++i)
      phases.push_back({kPtxLowering[i].first, Stage::Lowering, texts[i].c_str()});
  }
  return phases;
}

void registerPipelines() {
  PassPipelineRegistration<>(
      "ajit-ptx-pipeline", "ajit graph IR to a gpu.binary of PTX for sm_90 (all PTX phases)",
      [](OpPassManager &pm) {
        for (const Phase &phase : ptxPhases("sm_90"))
          if (failed(parsePassPipeline(phase.pipeline, pm, llvm::errs())))
            llvm::report_fatal_error("ajit: bad built-in pipeline");
      });
  PassPipelineRegistration<>(
      "ajit-cpu-pipeline", "ajit graph IR to the LLVM dialect (all CPU phases)",
      [](OpPassManager &pm) {
        for (const Phase &phase : kCpuPhases)
          if (failed(parsePassPipeline(phase.pipeline, pm, llvm::errs())))
            llvm::report_fatal_error("ajit: bad built-in pipeline");
      });
}

void registerCompilerDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registry.insert<AjitDialect>();
}

void markArgumentsReadOnly(ModuleOp module) {
  Builder b(module.getContext());
  module.walk([&](func::FuncOp fn) {
    if (!fn.isPublic() || fn.isExternal()) return;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      fn.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                    b.getBoolAttr(false));
  });
}

/// The textual pipelines name upstream passes: register them (once per process).
static void registerPassesOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    registerAjitPasses();
  });
}

std::unique_ptr<PassManager> buildPhase(MLIRContext *ctx, const Phase &phase, std::string &error) {
  registerPassesOnce();
  auto pm = std::make_unique<PassManager>(ctx);
  llvm::raw_string_ostream os(error);
  if (failed(parsePassPipeline(phase.pipeline, *pm, os))) return nullptr;
  return pm;
}

LogicalResult runPhase(PassManager &pm, ModuleOp module, const Phase &phase, std::string &error) {
  llvm::raw_string_ostream os(error);
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error) os << diag.getLocation() << ": " << diag << "\n";
    return success();
  });
  if (failed(pm.run(module))) {
    os << "ajit: phase '" << phase.name << "' failed";
    return failure();
  }
  return success();
}

} // namespace ajit
