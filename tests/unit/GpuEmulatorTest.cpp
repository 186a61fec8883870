//===- GpuEmulatorTest.cpp - the PTX target's kernels, run on the host ---------===//
//
// Every program GpuTest runs on a GPU, compiled through the PTX target's phases to the
// LLVM IR that NVPTX turns into PTX, then run by tests/emulator (a block's threads as
// fibers, barriers and warp shuffles as the PTX ISA defines them) and compared with
// the CPU target. Runs on every machine: CI has no GPU.
//
//===----------------------------------------------------------------------===//
#include "GpuCases.h"
#include "compiler/driver/Compile.h"
#include "frontend/Program.h"
#include "tests/emulator/GpuEmulator.h"

#include "mlir/IR/BuiltinOps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

using namespace ajit;
using namespace ajit::gpu_cases;

namespace {

/// `c` compiled for sm_90 as NVPTX LLVM IR kernels plus the launch sequence.
gpu::GpuProgram compileForEmulator(const Case &c) {
  static const std::unique_ptr<TargetInfo> target = createPtxTarget("sm_90", /*llvmIr=*/true);
  static CompileSession session;
  detail::ParsedProgram program = detail::parseProgram(session.context(), c.program, c.name, "");
  std::string fnName = detail::sanitize(program.name);
  auto fn = program.module->lookupSymbol<mlir::SymbolOpInterface>(program.name);
  fn.setName(fnName);
  CompileResult result;
  std::string error;
  if (mlir::failed(compileToObject(session, *program.module, fnName, *target, {}, result, error)))
    throw Error(error);
  gpu::GpuProgram p;
  if (!gpu::GpuProgram::parse(result.object.bytes, p, error)) throw Error(error);
  return p;
}

/// Runs `c` in the emulator with `order`; the outputs, shaped as the CPU's `like`.
std::vector<Array> emulate(emu::EmulatedProgram &program, const Case &c, const std::vector<Array> &like,
                           emu::ThreadOrder order) {
  std::vector<Array> out;
  std::vector<void *> args;
  for (const Array &in : c.inputs) args.push_back(const_cast<void *>(in.rawData()));
  for (const Array &l : like) out.push_back(Array::empty(l.shape(), l.dtype()));
  for (Array &o : out) args.push_back(o.rawData());
  program.run(args.data(), order);
  return out;
}

/// Upstream's serializer links libdevice from $CUDA_ROOT / $CUDA_HOME / $CUDA_PATH into
/// every module that calls it, and libdevice holds inline PTX assembly the host cannot
/// run. Without them the calls stay `__nv_*` declarations, which the emulator maps to
/// libm. Only this test binary compiles for the emulator, so clearing them here changes
/// nothing else.
class GpuEmulator : public testing::Test {
protected:
  static void SetUpTestSuite() {
    for (const char *var : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"}) unsetenv(var);
  }
};

TEST_F(GpuEmulator, EveryOpAndFusionKindMatchesTheCpu) {
  for (const Case &c : cases()) {
    SCOPED_TRACE(c.name);
    std::vector<Array> expected = compileProgram(c.program, c.name).run(c.inputs);
    gpu::GpuProgram compiled = compileForEmulator(c);
    if (compiled.launches.empty()) {
      EXPECT_EQ(c.name, "empty") << "no kernel to run";
      continue;
    }
    std::unique_ptr<emu::EmulatedProgram> loaded;
    try {
      loaded = std::make_unique<emu::EmulatedProgram>(std::move(compiled));
    } catch (const Error &e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    emu::EmulatedProgram &program = *loaded;
    for (emu::ThreadOrder order : {emu::ThreadOrder::ascending, emu::ThreadOrder::descending}) {
      SCOPED_TRACE(order == emu::ThreadOrder::ascending ? "threads in ascending order" : "in descending order");
      std::vector<Array> got;
      try {
        got = emulate(program, c, expected, order);
      } catch (const Error &e) {
        ADD_FAILURE() << e.what();
        continue;
      }
      for (size_t i = 0; i < got.size(); ++i) {
        std::string where;
        EXPECT_TRUE(close(got[i], expected[i], where)) << "output " << i << ": " << where;
      }
    }
  }
}

} // namespace
