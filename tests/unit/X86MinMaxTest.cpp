//===- X86MinMaxTest.cpp - vector llvm.maximum/minimum as VRANGE -----------===//
//
// The rewrite's shape on LLVM IR. Its numbers (NaN, -0 against +0, every lane) are
// checked end to end by OpsTest's max/min/clamp/relu/reduce/softmax cases, which take
// this path on hosts with AVX-512DQ.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/X86MinMax.h"

#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

namespace {

std::unique_ptr<llvm::Module> parse(const std::string &ir, llvm::LLVMContext &ctx) {
  llvm::SMDiagnostic error;
  auto module = llvm::parseAssemblyString(ir, error, ctx);
  EXPECT_TRUE(module) << error.getMessage().str();
  return module;
}

/// `define <ty> @name(<ty> %a, <ty> %b)` returning `op(a, b)` with fast-math `flags`.
std::string binary(const std::string &name, const std::string &op, const std::string &ty,
                   const std::string &suffix, const std::string &flags = "") {
  return "define " + ty + " @" + name + "(" + ty + " %a, " + ty + " %b) {\n  %r = call " + flags + " " + ty +
         " @llvm." + op + "." + suffix + "(" + ty + " %a, " + ty + " %b)\n  ret " + ty + " %r\n}\n";
}

struct Counts {
  unsigned range = 0, generic = 0, selects = 0;
};

Counts count(llvm::Module &m, const char *fn) {
  Counts c;
  for (llvm::Instruction &inst : llvm::instructions(*m.getFunction(fn))) {
    if (llvm::isa<llvm::SelectInst>(inst)) ++c.selects;
    auto *call = llvm::dyn_cast<llvm::IntrinsicInst>(&inst);
    if (!call) continue;
    llvm::Intrinsic::ID id = call->getIntrinsicID();
    if (id == llvm::Intrinsic::maximum || id == llvm::Intrinsic::minimum) ++c.generic;
    else if (call->getCalledFunction()->getName().starts_with("llvm.x86.avx512.mask.range")) ++c.range;
  }
  return c;
}

TEST(X86MinMax, VectorsBecomeRangeWithNaNFixup) {
  llvm::LLVMContext ctx;
  auto m = parse(binary("max_zmm", "maximum", "<16 x float>", "v16f32") +
                     binary("min_pd", "minimum", "<8 x double>", "v8f64") +
                     binary("max_wide", "maximum", "<64 x float>", "v64f32") +
                     binary("max_nnan", "maximum", "<16 x float>", "v16f32", "nnan") +
                     binary("max_ymm", "maximum", "<8 x float>", "v8f32") +
                     binary("max_scalar", "maximum", "float", "f32") +
                     binary("max_odd", "maximum", "<3 x float>", "v3f32") +
                     "define <16 x float> @clamp(<16 x float> %a) {\n"
                     "  %r = call <16 x float> @llvm.minimum.v16f32(<16 x float> %a, <16 x float> splat (float 1.0))\n"
                     "  ret <16 x float> %r\n}\n",
                 ctx);
  ASSERT_TRUE(m);
  EXPECT_EQ(ajit::lowerVectorMinMaxToRange(*m, /*hasVL=*/false), 4u);
  std::string errors;
  llvm::raw_string_ostream os(errors);
  EXPECT_FALSE(llvm::verifyModule(*m, &os)) << errors;

  Counts zmm = count(*m, "max_zmm");
  EXPECT_EQ(zmm.range, 1u);
  EXPECT_EQ(zmm.generic, 0u);
  EXPECT_EQ(zmm.selects, 1u); // the NaN fix-up
  EXPECT_EQ(count(*m, "min_pd").range, 1u);
  Counts wide = count(*m, "max_wide"); // four 512-bit parts
  EXPECT_EQ(wide.range, 4u);
  EXPECT_EQ(wide.selects, 4u);
  Counts nnan = count(*m, "max_nnan"); // no NaNs: the range alone
  EXPECT_EQ(nnan.range, 1u);
  EXPECT_EQ(nnan.selects, 0u);
  // Without AVX-512VL a 256-bit vector has no VRANGE; scalars and odd shapes stay LLVM's.
  EXPECT_EQ(count(*m, "max_ymm").generic, 1u);
  EXPECT_EQ(count(*m, "max_scalar").generic, 1u);
  EXPECT_EQ(count(*m, "max_odd").generic, 1u);
  // Against a constant LLVM's own lowering is as short or shorter (one vminps here).
  EXPECT_EQ(count(*m, "clamp").generic, 1u);
}

TEST(X86MinMax, NarrowVectorsWithVL) {
  llvm::LLVMContext ctx;
  auto m = parse(binary("max_ymm", "maximum", "<8 x float>", "v8f32") +
                     binary("min_xmm", "minimum", "<2 x double>", "v2f64"),
                 ctx);
  ASSERT_TRUE(m);
  EXPECT_EQ(ajit::lowerVectorMinMaxToRange(*m, /*hasVL=*/true), 2u);
  EXPECT_FALSE(llvm::verifyModule(*m, &llvm::errs()));
  EXPECT_EQ(count(*m, "max_ymm").range, 1u);
  EXPECT_EQ(count(*m, "min_xmm").range, 1u);
}

} // namespace
