//===- DeviceBuffer.h - device memory an array can hold between calls -*- C++ -*-===//
//
// A GPU call's outputs stay on the device (ajit::Array keeps a DeviceBuffer beside its
// host storage) until the host reads them, so that a chain of GPU calls moves no data
// across PCIe between its links. Freed buffers go back to a pool by exact size, as the
// host BufferPool does: cuMemAlloc and cuMemFree synchronize the device and cost tens of
// microseconds, far more than a small kernel. What makes the pool safe: a buffer goes
// back only once no queued work uses it, since every GPU call drains the device before
// its buffers are released (GpuExecutable). Work on other streams would need its own
// stream synchronized there instead.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_GPU_DEVICEBUFFER_H
#define AJIT_RUNTIME_GPU_DEVICEBUFFER_H

#include <cstdint>
#include <memory>

namespace ajit::gpu {

class DeviceBuffer {
public:
  /// `bytes` of device memory (0 is allowed: one byte is allocated). Throws ajit::Error
  /// with the driver's message.
  static std::unique_ptr<DeviceBuffer> allocate(uint64_t bytes);
  ~DeviceBuffer(); ///< back to the pool; never throws
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  uint64_t address() const { return address_; } ///< a CUdeviceptr
  uint64_t bytes() const { return bytes_; }
  /// Copies the contents to `host` (bytes() of them). Throws ajit::Error.
  void copyToHost(void *host) const;
  /// Copies bytes() from `host` into the buffer. Throws ajit::Error.
  void copyFromHost(const void *host);
  /// Copies bytes() from `source` (at least as large) on the device. Throws ajit::Error.
  void copyFromDevice(const DeviceBuffer &source);

  /// Bytes of freed buffers the pool keeps now.
  static uint64_t pooledBytes();
  /// Frees the pool's buffers (cuMemFree); returns their bytes. Never starts the driver.
  static uint64_t releasePooled();

private:
  DeviceBuffer(uint64_t address, uint64_t bytes) : address_(address), bytes_(bytes) {}
  uint64_t address_, bytes_;
};

} // namespace ajit::gpu

#endif
