//===- GuardedBuffer.cpp - emulated device memory with guard bytes ---------===//
#include "tests/emulator/GpuEmulator.h"

#include <cstring>

namespace ajit::emu {

GuardedBuffer::GuardedBuffer(uint64_t n) : raw_(new unsigned char[n + 2 * kGuard + 64]), bytes_(n) {
  // 64-byte aligned, as cuMemAlloc's (the kernels load 16 bytes at a time).
  uintptr_t at = (reinterpret_cast<uintptr_t>(raw_.get()) + kGuard + 63) & ~uintptr_t(63);
  data_ = reinterpret_cast<unsigned char *>(at);
  std::memset(raw_.get(), kGuardByte, data_ - raw_.get());
  std::memset(data_ + n, kGuardByte, kGuard);
}

bool GuardedBuffer::guardsIntact() const {
  for (unsigned char *p = raw_.get(); p < data_; ++p)
    if (*p != kGuardByte) return false;
  for (uint64_t i = 0; i < kGuard; ++i)
    if (data_[bytes_ + i] != kGuardByte) return false;
  return true;
}

} // namespace ajit::emu
