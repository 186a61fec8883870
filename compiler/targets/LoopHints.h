//===- LoopHints.h - loop metadata for LLVM's loop vectorizer -------*- C++ -*-===//
#ifndef AJIT_COMPILER_TARGETS_LOOPHINTS_H
#define AJIT_COMPILER_TARGETS_LOOPHINTS_H

namespace llvm {
class Module;
} // namespace llvm

namespace ajit {

/// Asks the loop vectorizer to interleave (run four vector iterations side by side) every
/// innermost scalar loop whose body is a long floating-point chain: the polynomial
/// expansions of exp, sin, tanh and their kin. Returns how many loops were marked.
/// Runs on the translated module, before the O3 pipeline.
unsigned hintInterleaveForLongFloatLoops(llvm::Module &module);

} // namespace ajit

#endif
