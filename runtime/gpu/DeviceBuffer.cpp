//===- DeviceBuffer.cpp - pooled device allocations -----------------------===//
#include "runtime/gpu/DeviceBuffer.h"

#include "runtime/Error.h"
#include "runtime/gpu/CudaDriver.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

namespace ajit::gpu {
namespace {

/// Freed allocations by size, up to kMaxPooledBytes in all (beyond that, freed for real).
class Pool {
public:
  static constexpr uint64_t kMaxPooledBytes = uint64_t(1) << 30;

  uint64_t take(uint64_t bytes) {
    {
      std::lock_guard lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        uint64_t address = it->second.back();
        it->second.pop_back();
        pooled_ -= bytes;
        return address;
      }
    }
    const cuda::Driver &d = cuda::driver();
    cuda::context();
    cuda::CUdeviceptr address = 0;
    cuda::check(d.cuMemAlloc(&address, bytes), "cuMemAlloc");
    return address;
  }

  void give(uint64_t address, uint64_t bytes) {
    {
      std::lock_guard lock(mutex_);
      if (pooled_ + bytes <= kMaxPooledBytes) {
        free_[bytes].push_back(address);
        pooled_ += bytes;
        return;
      }
    }
    try {
      cuda::context();
      cuda::driver().cuMemFree(address);
    } catch (const Error &) { // the driver is gone (at exit): the memory goes with the process
    }
  }

private:
  std::mutex mutex_;
  std::map<uint64_t, std::vector<uint64_t>> free_;
  uint64_t pooled_ = 0;
};

/// Never destroyed: arrays in static storage may free buffers after it would be.
Pool &pool() {
  static Pool *p = new Pool;
  return *p;
}

} // namespace

/// What an allocation of `bytes` takes: cuMemAlloc refuses 0 bytes.
static uint64_t allocated(uint64_t bytes) { return std::max<uint64_t>(bytes, 1); }

std::unique_ptr<DeviceBuffer> DeviceBuffer::allocate(uint64_t bytes) {
  return std::unique_ptr<DeviceBuffer>(new DeviceBuffer(pool().take(allocated(bytes)), bytes));
}

DeviceBuffer::~DeviceBuffer() { pool().give(address_, allocated(bytes_)); }

void DeviceBuffer::copyToHost(void *host) const {
  if (bytes_ == 0) return;
  const cuda::Driver &d = cuda::driver();
  cuda::context();
  cuda::check(d.cuMemcpyDtoH(host, address_, bytes_), "cuMemcpyDtoH");
}

void DeviceBuffer::copyFromHost(const void *host) {
  if (bytes_ == 0) return;
  const cuda::Driver &d = cuda::driver();
  cuda::context();
  cuda::check(d.cuMemcpyHtoD(address_, host, bytes_), "cuMemcpyHtoD");
}

} // namespace ajit::gpu
