//===- DeviceCopy.h - an Array's values on the GPU -----------------*- C++ -*-===//
#ifndef AJIT_FRONTEND_DEVICECOPY_H
#define AJIT_FRONTEND_DEVICECOPY_H

#include "runtime/gpu/DeviceBuffer.h"

#include <atomic>
#include <memory>
#include <mutex>

namespace ajit::detail {

/// The device copy of an Array's values, shared by the Array's copies as its host
/// storage is. A GPU call writes `buffer`; the host's first read copies it into the host
/// storage (`hostCurrent`); a host write drops `buffer`, which then no longer holds the
/// array's values. `hostCurrent` is atomic so that reads after the first (an element at
/// a time, often) take no lock. It turns false again only when a GPU call updates a
/// donated array in place, which no other Array can see (JitCore::donorIsAlone) and no
/// other thread may read meanwhile (JitOptions::donateArgnums).
struct DeviceCopy {
  std::mutex mutex;
  std::shared_ptr<gpu::DeviceBuffer> buffer; ///< shared with calls reading it
  std::atomic<bool> hostCurrent{false};

  /// A device copy in a fresh (pooled) buffer of `bytes`, its values not yet written.
  static std::shared_ptr<DeviceCopy> allocate(uint64_t bytes) {
    auto copy = std::make_shared<DeviceCopy>();
    copy->buffer = gpu::DeviceBuffer::allocate(bytes);
    return copy;
  }
};

} // namespace ajit::detail

#endif
