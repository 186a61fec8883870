//===- GpuProgram.h - what the PTX target hands the GPU runtime -*- C++ -*-===//
//
// A compiled GPU executable is PTX plus a thunk sequence (XLA's GPU executables): the
// host function, after ajit-map-to-gpu and outlining, is nothing but buffer
// allocations and kernel launches, so it is recorded as data instead of being compiled
// to host code. Buffers are numbered: the inputs, then the outputs, then temporaries.
// It serializes to bytes for the persistent cache (ObjectCode::bytes of the PTX target).
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_GPU_GPUPROGRAM_H
#define AJIT_RUNTIME_GPU_GPUPROGRAM_H

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ajit::gpu {

struct Launch {
  uint32_t module = 0;            ///< index into GpuProgram::modules
  std::string kernel;             ///< the .entry's name in that module
  std::array<uint32_t, 3> grid{}, block{};
  std::vector<uint32_t> buffers;  ///< one pointer argument per buffer number
};

struct GpuProgram {
  std::string arch;                                 ///< sm_80, sm_90, ...
  std::vector<uint64_t> inputBytes, outputBytes, tempBytes;
  std::vector<std::string> modules;                 ///< PTX text, one module per kernel (NVPTX
                                                    ///< LLVM bitcode for tests/emulator)
  std::vector<Launch> launches;                     ///< in order, on one stream

  size_t bufferCount() const { return inputBytes.size() + outputBytes.size() + tempBytes.size(); }
  /// Bytes of buffer number `id`.
  uint64_t bufferBytes(uint32_t id) const;

  std::vector<char> serialize() const;
  /// Reads what serialize wrote; false (with a reason) on anything else.
  static bool parse(const std::vector<char> &bytes, GpuProgram &out, std::string &error);
  /// Every module's PTX, one after the other (AJIT_DUMP_IR's .ptx, tests).
  std::string allPtx() const;
};

} // namespace ajit::gpu

#endif
