//===- GpuEmulatorSelfTest.cpp - the emulator on hand-written NVPTX IR ----------===//
//
// GpuEmulatorTest trusts the emulator to fail where a GPU would give other results.
// These tests check that on small kernels written by hand in LLVM IR, each exercising
// one thing: warp shuffles in every mode against CUDA's documented semantics (written
// here independently of the emulator's PTX formulas), and the errors it promises (a
// deadlock, a shuffle outside its member mask, a write past a buffer, an intrinsic it
// does not model, inline PTX) and the race that running the threads in both orders
// exposes.
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "tests/emulator/GpuEmulator.h"

#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

using namespace ajit;

namespace {

/// The declarations the kernels below may call.
constexpr const char *kDeclarations = R"(
declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
declare void @llvm.nvvm.barrier.cta.sync.aligned.all(i32)
declare i32 @llvm.nvvm.shfl.sync.idx.i32(i32, i32, i32, i32)
declare i32 @llvm.nvvm.shfl.sync.up.i32(i32, i32, i32, i32)
declare i32 @llvm.nvvm.shfl.sync.down.i32(i32, i32, i32, i32)
declare i32 @llvm.nvvm.shfl.sync.bfly.i32(i32, i32, i32, i32)
declare float @llvm.nvvm.shfl.sync.bfly.f32(i32, float, i32, i32)
declare { i32, i1 } @llvm.nvvm.shfl.sync.down.i32p(i32, i32, i32, i32)
)";

/// A program of one module, `ir` (plus the declarations), launching kernel `k` once on
/// `blocks` x `threads`; buffers of `inputs` then `outputs` 32-bit words, in that order
/// as the kernel's parameters.
gpu::GpuProgram program(const std::string &ir, uint32_t blocks, uint32_t threads, std::vector<uint64_t> inputs,
                        std::vector<uint64_t> outputs) {
  llvm::LLVMContext context;
  llvm::SMDiagnostic diagnostic;
  std::unique_ptr<llvm::Module> module = llvm::parseAssemblyString(ir + kDeclarations, diagnostic, context);
  if (!module) {
    std::string message;
    llvm::raw_string_ostream os(message);
    diagnostic.print("kernel", os);
    throw Error("bad test IR: " + message);
  }
  gpu::GpuProgram p;
  p.arch = "sm_90";
  for (uint64_t words : inputs) p.inputBytes.push_back(4 * words);
  for (uint64_t words : outputs) p.outputBytes.push_back(4 * words);
  p.modules.push_back(ir + kDeclarations); // LLVM IR text, as the PTX target's llvmIr mode writes it
  gpu::Launch l;
  l.kernel = "k";
  l.grid = {blocks, 1, 1};
  l.block = {threads, 1, 1};
  for (uint32_t b = 0; b < p.bufferCount(); ++b) l.buffers.push_back(b);
  p.launches.push_back(l);
  return p;
}

/// Runs `p` with `args` (host pointers, inputs then outputs) and returns the error's
/// text, or "" if it ran.
std::string errorOf(gpu::GpuProgram p, std::vector<void *> args, emu::ThreadOrder order = emu::ThreadOrder::ascending) {
  try {
    emu::EmulatedProgram(std::move(p)).run(args.data(), order);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

// out[i * 6 + s] = shuffle s of the value 100 + lane, for 64 threads (two warps).
// c operands as CUDA's intrinsics build them: ((32 - width) << 8) | 31, and for
// shfl.up (32 - width) << 8.
constexpr const char *kShuffles = R"(
define ptx_kernel void @k(ptr %out) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %v = add i32 %t, 100
  %s0 = call i32 @llvm.nvvm.shfl.sync.idx.i32(i32 -1, i32 %v, i32 7, i32 31)
  %s1 = call i32 @llvm.nvvm.shfl.sync.idx.i32(i32 -1, i32 %v, i32 3, i32 6175)
  %s2 = call i32 @llvm.nvvm.shfl.sync.up.i32(i32 -1, i32 %v, i32 3, i32 6144)
  %s3 = call i32 @llvm.nvvm.shfl.sync.down.i32(i32 -1, i32 %v, i32 2, i32 31)
  %pair = call { i32, i1 } @llvm.nvvm.shfl.sync.down.i32p(i32 -1, i32 %v, i32 2, i32 6175)
  %s4 = extractvalue { i32, i1 } %pair, 0
  %p4 = extractvalue { i32, i1 } %pair, 1
  %s5 = call i32 @llvm.nvvm.shfl.sync.bfly.i32(i32 -1, i32 %v, i32 5, i32 31)
  %f = sitofp i32 %v to float
  %s6f = call float @llvm.nvvm.shfl.sync.bfly.f32(i32 -1, float %f, i32 16, i32 31)
  %s6 = fptosi float %s6f to i32
  %p = zext i1 %p4 to i32
  %base = mul i32 %t, 8
  %values = insertelement <8 x i32> poison, i32 %s0, i32 0
  %v1 = insertelement <8 x i32> %values, i32 %s1, i32 1
  %v2 = insertelement <8 x i32> %v1, i32 %s2, i32 2
  %v3 = insertelement <8 x i32> %v2, i32 %s3, i32 3
  %v4 = insertelement <8 x i32> %v3, i32 %s4, i32 4
  %v5 = insertelement <8 x i32> %v4, i32 %s5, i32 5
  %v6 = insertelement <8 x i32> %v5, i32 %s6, i32 6
  %v7 = insertelement <8 x i32> %v6, i32 %p, i32 7
  %at = getelementptr i32, ptr %out, i32 %base
  store <8 x i32> %v7, ptr %at, align 4
  ret void
}
)";

TEST(GpuEmulatorSelf, ShufflesFollowCudaSemanticsInEveryMode) {
  std::vector<int32_t> out(64 * 8, -1);
  for (emu::ThreadOrder order : {emu::ThreadOrder::ascending, emu::ThreadOrder::descending}) {
    ASSERT_EQ(errorOf(program(kShuffles, 1, 64, {}, {64 * 8}), {out.data()}, order), "");
    for (int t = 0; t < 64; ++t) {
      SCOPED_TRACE("thread " + std::to_string(t));
      int lane = t % 32, warp = t - lane;
      auto value = [&](int l) { return 100 + warp + l; };
      const int32_t *got = &out[t * 8];
      EXPECT_EQ(got[0], value(7)) << "__shfl_sync(v, 7)";
      EXPECT_EQ(got[1], value(lane / 8 * 8 + 3)) << "__shfl_sync(v, 3, 8)";
      EXPECT_EQ(got[2], value(lane % 8 >= 3 ? lane - 3 : lane)) << "__shfl_up_sync(v, 3, 8)";
      EXPECT_EQ(got[3], value(lane + 2 < 32 ? lane + 2 : lane)) << "__shfl_down_sync(v, 2)";
      EXPECT_EQ(got[4], value(lane % 8 + 2 < 8 ? lane + 2 : lane)) << "__shfl_down_sync(v, 2, 8)";
      EXPECT_EQ(got[5], value(lane ^ 5)) << "__shfl_xor_sync(v, 5)";
      EXPECT_EQ(got[6], value(lane ^ 16)) << "__shfl_xor_sync(float v, 16)";
      EXPECT_EQ(got[7], lane % 8 + 2 < 8 ? 1 : 0) << "shfl.sync.down's predicate (width 8)";
    }
  }
}

// Lanes 0-15 shuffle with the full mask while lanes 16-31 wait at the barrier: neither
// can complete.
constexpr const char *kDeadlock = R"(
define ptx_kernel void @k(ptr %out) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %low = icmp ult i32 %t, 16
  br i1 %low, label %shuffle, label %barrier
shuffle:
  %s = call i32 @llvm.nvvm.shfl.sync.bfly.i32(i32 -1, i32 %t, i32 1, i32 31)
  br label %done
barrier:
  call void @llvm.nvvm.barrier.cta.sync.aligned.all(i32 0)
  br label %done
done:
  ret void
}
)";

TEST(GpuEmulatorSelf, ThreadsWaitingAtDifferentSynchronizationsAreADeadlock) {
  int32_t out[1];
  std::string error = errorOf(program(kDeadlock, 1, 32, {}, {1}), {out});
  EXPECT_NE(error.find("block (0, 0, 0) deadlocks: 16 threads at bar.sync, 16 at a shuffle"), std::string::npos)
      << error;
}

// Lanes 0-15 exchange with lane ^ 16 under the mask of lanes 0-15: undefined in PTX.
constexpr const char *kOutsideMask = R"(
define ptx_kernel void @k(ptr %out) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %low = icmp ult i32 %t, 16
  br i1 %low, label %shuffle, label %done
shuffle:
  %s = call i32 @llvm.nvvm.shfl.sync.bfly.i32(i32 65535, i32 %t, i32 16, i32 31)
  %at = getelementptr i32, ptr %out, i32 %t
  store i32 %s, ptr %at
  br label %done
done:
  ret void
}
)";

TEST(GpuEmulatorSelf, AShuffleReadingOutsideItsMemberMaskIsAnError) {
  int32_t out[32];
  std::string error = errorOf(program(kOutsideMask, 1, 32, {}, {32}), {out});
  EXPECT_NE(error.find("lane 0 reads lane 16, outside the member mask"), std::string::npos) << error;
}

// Thread t writes out[t + 1]: the last thread of the last block writes past the end.
constexpr const char *kPastTheEnd = R"(
define ptx_kernel void @k(ptr %in, ptr %out) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %b = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %n = call i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %bn = mul i32 %b, %n
  %i = add i32 %bn, %t
  %src = getelementptr float, ptr %in, i32 %i
  %v = load float, ptr %src
  %j = add i32 %i, 1
  %dst = getelementptr float, ptr %out, i32 %j
  store float %v, ptr %dst
  ret void
}
)";

TEST(GpuEmulatorSelf, AWritePastABufferIsAnErrorNamingTheKernelAndBuffer) {
  std::vector<float> in(64, 1.0f), out(64);
  std::string error = errorOf(program(kPastTheEnd, 2, 32, {64}, {64}), {in.data(), out.data()});
  EXPECT_NE(error.find("kernel k (launch 0) wrote outside buffer 1 of 256 bytes"), std::string::npos) << error;
}

TEST(GpuEmulatorSelf, AnIntrinsicItDoesNotModelIsNamed) {
  const char *ir = R"(
declare i32 @llvm.nvvm.read.ptx.sreg.clock()
define ptx_kernel void @k(ptr %out) {
  %c = call i32 @llvm.nvvm.read.ptx.sreg.clock()
  store i32 %c, ptr %out
  ret void
}
)";
  int32_t out[1];
  std::string error = errorOf(program(ir, 1, 1, {}, {1}), {out});
  EXPECT_NE(error.find("llvm.nvvm.read.ptx.sreg.clock, which the emulator does not model"), std::string::npos)
      << error;
}

TEST(GpuEmulatorSelf, InlinePtxIsRefused) {
  const char *ir = R"(
define ptx_kernel void @k(ptr %out) {
  %v = call i32 asm "mov.u32 $0, %laneid;", "=r"()
  store i32 %v, ptr %out
  ret void
}
)";
  int32_t out[1];
  std::string error = errorOf(program(ir, 1, 1, {}, {1}), {out});
  EXPECT_NE(error.find("inline PTX assembly, which the emulator cannot run: mov.u32"), std::string::npos) << error;
}

// Each thread writes shared[t] and reads its neighbour's, shared[(t + 1) % n], with or
// without a barrier between (the flag is spliced into the IR).
std::string neighbourKernel(bool barrier) {
  return std::string(R"(
@shared = internal addrspace(3) global [64 x i32] zeroinitializer, align 4
define ptx_kernel void @k(ptr %out) {
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %n = call i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %mine = getelementptr [64 x i32], ptr addrspace(3) @shared, i32 0, i32 %t
  %v = add i32 %t, 1000
  store i32 %v, ptr addrspace(3) %mine
)") + (barrier ? "  call void @llvm.nvvm.barrier.cta.sync.aligned.all(i32 0)\n" : "") +
         R"(
  %t1 = add i32 %t, 1
  %next = urem i32 %t1, %n
  %theirs = getelementptr [64 x i32], ptr addrspace(3) @shared, i32 0, i32 %next
  %w = load i32, ptr addrspace(3) %theirs
  %at = getelementptr i32, ptr %out, i32 %t
  store i32 %w, ptr %at
  ret void
}
)";
}

TEST(GpuEmulatorSelf, AMissingBarrierShowsInOneOfTheThreadOrders) {
  auto wrongIn = [](bool barrier, emu::ThreadOrder order) {
    std::vector<int32_t> out(64);
    EXPECT_EQ(errorOf(program(neighbourKernel(barrier), 1, 64, {}, {64}), {out.data()}, order), "");
    int wrong = 0;
    for (int t = 0; t < 64; ++t) wrong += out[t] != 1000 + (t + 1) % 64;
    return wrong;
  };
  EXPECT_EQ(wrongIn(true, emu::ThreadOrder::ascending), 0);
  EXPECT_EQ(wrongIn(true, emu::ThreadOrder::descending), 0);
  // Without the barrier each thread runs to its end in turn: in ascending order all but
  // the last read their neighbour's slot before it was written, in descending order
  // only the last does (its neighbour, thread 0, runs last).
  EXPECT_EQ(wrongIn(false, emu::ThreadOrder::ascending), 63);
  EXPECT_EQ(wrongIn(false, emu::ThreadOrder::descending), 1);
}

} // namespace
