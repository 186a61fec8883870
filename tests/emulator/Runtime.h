//===- Runtime.h - what emulated kernels call instead of NVVM intrinsics -*- C++ -*-===//
//
// The C entry points the retargeted kernel IR calls (KernelModule.cpp writes the calls,
// ThreadScheduler.cpp defines them). Plain integer signatures, so that no aggregate
// crosses the boundary between JIT-compiled code and the test binary.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_TESTS_EMULATOR_RUNTIME_H
#define AJIT_TESTS_EMULATOR_RUNTIME_H

#include <cstdint>

namespace ajit::emu {

/// The special registers, by the number ajit_emu_sreg takes.
enum Sreg : uint32_t { tidX, tidY, tidZ, ntidX, ntidY, ntidZ, ctaidX, ctaidY, ctaidZ, nctaidX, nctaidY, nctaidZ,
                       laneId, warpSize };
/// shfl.sync's modes, by the number ajit_emu_shfl takes.
enum ShuffleMode : uint32_t { up, down, bfly, idx };

} // namespace ajit::emu

extern "C" {
uint32_t ajit_emu_sreg(uint32_t which);
/// bar.sync 0: waits for every thread of the block that has not exited.
void ajit_emu_barrier();
/// bar.warp.sync: waits for the lanes of `mask`.
void ajit_emu_warp_sync(uint32_t mask);
/// shfl.sync with PTX's semantics: the value read (low 32 bits) and the predicate (bit 32).
uint64_t ajit_emu_shfl(uint32_t mode, uint32_t mask, uint32_t value, uint32_t b, uint32_t c);
}

#endif
