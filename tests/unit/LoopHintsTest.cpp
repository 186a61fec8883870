//===- LoopHintsTest.cpp - which loops are asked to interleave -------------===//
#include "compiler/targets/LoopHints.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

#include <string>

namespace {

/// A loop over n floats whose body applies `steps` dependent multiply-adds to each.
std::string loopWithChain(const std::string &name, int steps) {
  std::string body = "  %v0 = load float, ptr %p\n";
  for (int i = 0; i < steps; ++i) {
    body += "  %m" + std::to_string(i) + " = fmul float %v" + std::to_string(i) + ", 1.5\n";
    body += "  %v" + std::to_string(i + 1) + " = fadd float %m" + std::to_string(i) + ", 0.5\n";
  }
  body += "  store float %v" + std::to_string(steps) + ", ptr %q\n";
  return "define void @" + name + "(ptr noalias %in, ptr noalias %out, i64 %n) {\n"
         "entry:\n  br label %loop\n"
         "loop:\n  %i = phi i64 [ 0, %entry ], [ %next, %loop ]\n"
         "  %p = getelementptr float, ptr %in, i64 %i\n"
         "  %q = getelementptr float, ptr %out, i64 %i\n" +
         body +
         "  %next = add i64 %i, 1\n  %done = icmp eq i64 %next, %n\n"
         "  br i1 %done, label %exit, label %loop\n"
         "exit:\n  ret void\n}\n";
}

std::unique_ptr<llvm::Module> parse(const std::string &ir, llvm::LLVMContext &ctx) {
  llvm::SMDiagnostic error;
  auto module = llvm::parseAssemblyString(ir, error, ctx);
  EXPECT_TRUE(module) << error.getMessage().str();
  return module;
}

bool interleaveHinted(llvm::Module &m, const char *fn) {
  for (llvm::BasicBlock &block : *m.getFunction(fn))
    if (llvm::MDNode *id = block.getTerminator()->getMetadata("llvm.loop"))
      if (llvm::findOptionMDForLoopID(id, "llvm.loop.interleave.count")) return true;
  return false;
}

TEST(LoopHints, OnlyLongFloatChainsAreInterleaved) {
  llvm::LLVMContext ctx;
  auto m = parse(loopWithChain("long_chain", 10) + loopWithChain("short_chain", 3), ctx);
  ASSERT_TRUE(m);
  EXPECT_EQ(ajit::hintInterleaveForLongFloatLoops(*m), 1u);
  EXPECT_TRUE(interleaveHinted(*m, "long_chain"));
  EXPECT_FALSE(interleaveHinted(*m, "short_chain"));
}

TEST(LoopHints, LoopsWithVectorCodeOrHintsAreLeftAlone) {
  llvm::LLVMContext ctx;
  std::string vectorLoop = loopWithChain("vector_loop", 20);
  // One vector operation in the body: ajit wrote the lanes itself.
  vectorLoop.insert(vectorLoop.find("  %next"), "  %vec = fadd <4 x float> zeroinitializer, zeroinitializer\n");
  std::string hinted = loopWithChain("hinted", 20);
  hinted.replace(hinted.find("label %loop\nexit"), std::string("label %loop\nexit").size(),
                 "label %loop, !llvm.loop !0\nexit");
  hinted += "!0 = distinct !{!0, !1}\n!1 = !{!\"llvm.loop.unroll.disable\"}\n";
  auto m = parse(vectorLoop + hinted, ctx);
  ASSERT_TRUE(m);
  EXPECT_EQ(ajit::hintInterleaveForLongFloatLoops(*m), 0u);
  EXPECT_FALSE(interleaveHinted(*m, "vector_loop"));
  EXPECT_FALSE(interleaveHinted(*m, "hinted"));
}

} // namespace
