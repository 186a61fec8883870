//===- EmulatedProgram.cpp - a GpuProgram's launches run by the emulator -===//
//
// The program's modules compiled by KernelJit, its buffers GuardedBuffers, its launches
// run in order by runGrid, the guards checked after each.
//
//===----------------------------------------------------------------------===//
#include "tests/emulator/GpuEmulator.h"

#include "runtime/Error.h"

#include <cstring>

namespace ajit::emu {

struct EmulatedProgram::Impl {
  gpu::GpuProgram program;
  KernelJit jit;
  std::vector<void (*)(void **)> entries; ///< one per launch
};

EmulatedProgram::EmulatedProgram(gpu::GpuProgram program) : impl_(std::make_unique<Impl>()) {
  Impl &im = *impl_;
  im.program = std::move(program);
  for (const std::string &module : im.program.modules) im.jit.addModule(module);
  for (const gpu::Launch &l : im.program.launches) {
    if (l.module >= im.program.modules.size()) throw ajit::Error("emulator: a launch names a module the program lacks");
    im.entries.push_back(im.jit.kernel(l.module, l.kernel).entry);
  }
}

EmulatedProgram::~EmulatedProgram() = default;

void EmulatedProgram::run(void *const *args, ThreadOrder order) {
  const gpu::GpuProgram &p = impl_->program;
  size_t inputs = p.inputBytes.size(), outputs = p.outputBytes.size();
  std::vector<GuardedBuffer> buffers;
  buffers.reserve(p.bufferCount());
  for (uint32_t id = 0; id < p.bufferCount(); ++id) {
    GuardedBuffer &b = buffers.emplace_back(p.bufferBytes(id));
    if (id >= inputs) std::memset(b.data(), 0xff, b.bytes());
    else if (b.bytes()) std::memcpy(b.data(), args[id], b.bytes());
  }
  for (size_t k = 0; k < p.launches.size(); ++k) {
    const gpu::Launch &l = p.launches[k];
    std::vector<void *> pointers;
    for (uint32_t b : l.buffers) pointers.push_back(buffers.at(b).data());
    Grid g{{l.grid[0], l.grid[1], l.grid[2]}, {l.block[0], l.block[1], l.block[2]}, impl_->entries[k], pointers.data()};
    runGrid(g, order);
    for (uint32_t id = 0; id < buffers.size(); ++id)
      if (!buffers[id].guardsIntact())
        throw ajit::Error("emulator: kernel " + l.kernel + " (launch " + std::to_string(k) +
                          ") wrote outside buffer " + std::to_string(id) + " of " +
                          std::to_string(buffers[id].bytes()) + " bytes");
  }
  for (size_t o = 0; o < outputs; ++o)
    if (p.outputBytes[o]) std::memcpy(args[inputs + o], buffers[inputs + o].data(), p.outputBytes[o]);
}

} // namespace ajit::emu
