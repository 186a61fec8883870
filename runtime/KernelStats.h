//===- KernelStats.h - what an executable's kernels do per call -*- C++ -*-===//
//
// Counted by the compiler after fusion, kept with each executable and in its
// AJIT_CACHE_DIR entry, reported by the stats API and AJIT_LOG_COMPILES.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_KERNELSTATS_H
#define AJIT_RUNTIME_KERNELSTATS_H

#include <cstdint>

namespace ajit {

struct KernelStats {
  uint32_t kernels = 0;      ///< loop nests (linalg ops) after fusion
  uint64_t bytesRead = 0;    ///< summed over kernels: bytes of every tensor each one reads
  uint64_t bytesWritten = 0; ///< summed over kernels: bytes of every tensor each one writes
};

} // namespace ajit

#endif
