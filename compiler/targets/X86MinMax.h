//===- X86MinMax.h - NaN-propagating vector min/max with AVX-512 VRANGE -*- C++ -*-===//
#ifndef AJIT_COMPILER_TARGETS_X86MINMAX_H
#define AJIT_COMPILER_TARGETS_X86MINMAX_H

namespace llvm {
class Module;
} // namespace llvm

namespace ajit {

/// Rewrites every `llvm.maximum` / `llvm.minimum` on a vector of f32 or f64 (what the
/// loop vectorizer makes of a max reduction, the clamps of sin and exp, ajit's own lane
/// reductions) into AVX-512DQ's VRANGEPS/PD and a NaN fix-up. Vectors wider than 512
/// bits are split into 512-bit parts; 128- and 256-bit vectors need `hasVL`; other
/// shapes are left to LLVM. Call only for targets with AVX-512DQ, after the O3 pipeline
/// (when the loops are vectors). Returns how many calls were rewritten.
unsigned lowerVectorMinMaxToRange(llvm::Module &module, bool hasVL);

} // namespace ajit

#endif
