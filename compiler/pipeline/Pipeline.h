//===- Pipeline.h - the named phases from graph IR to LLVM dialect -*- C++ -*-===//
//
// The compiler reads as one list of named phases (Halide's Lower.cpp, IREE's Pipelines.h);
// every phase can be stopped at and dumped. JIT, ajit-opt and (later) ajitc share it.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_COMPILER_PIPELINE_PIPELINE_H
#define AJIT_COMPILER_PIPELINE_PIPELINE_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>

namespace mlir {
class MLIRContext;
class ModuleOp;
class PassManager;
class OpPassManager;
class DialectRegistry;
} // namespace mlir

namespace ajit {

/// Which part of the compile a phase's time is reported under.
enum class Stage { GraphPasses, Lowering };

struct Phase {
  const char *name;     ///< used by --compile-to and in dump file names
  Stage stage;
  const char *pipeline; ///< textual pass pipeline on builtin.module (not wrapped in it)
};

/// The CPU phases, in order: graph IR to LLVM dialect. With `parallel`, large kernels run
/// their outermost loop on libomp's workers (the object then needs libomp); without, every
/// loop is sequential and the object needs no runtime library. With `microKernels` (only
/// with `parallel`: the JIT), f32 matmuls call kernels/matmul's micro-kernels and the
/// buffer pool, which the JIT resolves in its own process; without, they are plain loops.
llvm::ArrayRef<Phase> cpuPhases(bool parallel = true, bool microKernels = true);

/// The PTX target's phases for `chip` (sm_80, sm_90, ...): graph IR to a gpu.binary
/// holding the PTX of every kernel, and a host function of allocations and launches.
/// With `llvmBitcode`, the last phase stops one step short of PTX: each gpu.binary holds
/// the kernels' LLVM IR as bitcode, optimized for NVPTX as the PTX would be (the GPU
/// emulator of the tests runs that IR on the host). It links libdevice only from where
/// upstream alone looks, $CUDA_ROOT, $CUDA_HOME, $CUDA_PATH: the emulator, which
/// cannot run libdevice's inline PTX, is run with them unset.
llvm::ArrayRef<Phase> ptxPhases(const std::string &chip, bool llvmBitcode = false);

/// The CUDA toolkit whose nvvm/libdevice/libdevice.10.bc the PTX phases link (f64
/// transcendentals call it): the first of $CUDA_HOME, $CUDA_PATH, $CUDA_ROOT,
/// /usr/local/cuda, /usr/lib/cuda that has the file ($AJIT_CUDA_TOOLKIT alone when set);
/// "" when none does.
const std::string &libdeviceToolkit();

/// Registers the `ajit-cpu-pipeline` pass pipeline (all of cpuPhases) and `ajit-ptx-pipeline`
/// (ptxPhases for sm_90) for ajit-opt.
void registerPipelines();

/// Everything a context needs to run the pipeline and translate to LLVM IR.
void registerCompilerDialects(mlir::DialectRegistry &registry);

/// Marks every argument of public functions as not writable, so bufferization never
/// writes into a caller's input buffer.
void markArgumentsReadOnly(mlir::ModuleOp module);

/// The pass manager of one phase; reusable across modules of `ctx`.
std::unique_ptr<mlir::PassManager> buildPhase(mlir::MLIRContext *ctx, const Phase &phase,
                                              std::string &error);

/// Runs a phase's pass manager on `module`. On failure, `error` holds the diagnostics.
mlir::LogicalResult runPhase(mlir::PassManager &pm, mlir::ModuleOp module, const Phase &phase,
                             std::string &error);

} // namespace ajit

#endif
