//===- DeviceBuffer.cpp - pooled device allocations -----------------------===//
#include "runtime/gpu/DeviceBuffer.h"

#include "runtime/Env.h"
#include "runtime/Error.h"
#include "runtime/gpu/CudaDriver.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

namespace ajit::gpu {
namespace {

/// Freed allocations by size, up to AJIT_GPU_POOL_MB in all (beyond that, freed for
/// real). When the device runs out of memory, the idle buffers are freed and the
/// allocation tried once more: buffers of the sizes an earlier workload used must not
/// keep a later one from running.
class Pool {
public:
  explicit Pool(uint64_t capacity) : capacity_(capacity) {}

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
    cuda::CUresult r = d.cuMemAlloc(&address, bytes);
    if (r == cuda::kErrorOutOfMemory) {
      // Retried even when this pool was empty: another thread may just have emptied it.
      releaseIdle();
      r = d.cuMemAlloc(&address, bytes);
    }
    if (r != 0) {
      std::string what = "cuMemAlloc of " + std::to_string(bytes) + " bytes";
      if (r == cuda::kErrorOutOfMemory)
        throw Error("ajit: CUDA " + what + " failed: " + cuda::describe(r) +
                    " (after freeing every idle pooled buffer: live device arrays hold the rest)");
      cuda::check(r, what.c_str());
    }
    return address;
  }

  void give(uint64_t address, uint64_t bytes) {
    {
      std::lock_guard lock(mutex_);
      if (pooled_ + bytes <= capacity_) {
        free_[bytes].push_back(address);
        pooled_ += bytes;
        return;
      }
    }
    freeOnDevice(address);
  }

  /// Frees every idle buffer; returns their bytes.
  uint64_t releaseIdle() {
    std::map<uint64_t, std::vector<uint64_t>> idle;
    uint64_t bytes = 0;
    {
      std::lock_guard lock(mutex_);
      idle.swap(free_);
      std::swap(bytes, pooled_);
    }
    for (auto &[size, addresses] : idle)
      for (uint64_t address : addresses) freeOnDevice(address);
    return bytes;
  }

  uint64_t pooled() {
    std::lock_guard lock(mutex_);
    return pooled_;
  }

private:
  static void freeOnDevice(uint64_t address) {
    try {
      cuda::context();
      cuda::driver().cuMemFree(address);
    } catch (const Error &) { // the driver is gone (at exit): the memory goes with the process
    }
  }

  std::mutex mutex_;
  std::map<uint64_t, std::vector<uint64_t>> free_;
  uint64_t pooled_ = 0;
  const uint64_t capacity_;
};

/// Never destroyed: arrays in static storage may free buffers after it would be.
Pool &pool() {
  static Pool *p = new Pool(static_cast<uint64_t>(env::integer("AJIT_GPU_POOL_MB", 1024)) << 20);
  return *p;
}

} // namespace

/// What an allocation of `bytes` takes: cuMemAlloc refuses 0 bytes.
static uint64_t allocated(uint64_t bytes) { return std::max<uint64_t>(bytes, 1); }

std::unique_ptr<DeviceBuffer> DeviceBuffer::allocate(uint64_t bytes) {
  return std::unique_ptr<DeviceBuffer>(new DeviceBuffer(pool().take(allocated(bytes)), bytes));
}

DeviceBuffer::~DeviceBuffer() { pool().give(address_, allocated(bytes_)); }

uint64_t DeviceBuffer::pooledBytes() { return pool().pooled(); }
uint64_t DeviceBuffer::releasePooled() { return pool().releaseIdle(); }

void DeviceBuffer::copyToHost(void *host) const {
  if (bytes_ == 0) return;
  const cuda::Driver &d = cuda::driver();
  cuda::context();
  cuda::check(d.cuMemcpyDtoH(host, address_, bytes_), "cuMemcpyDtoH");
}

void DeviceBuffer::copyFromDevice(const DeviceBuffer &source) {
  if (bytes_ == 0) return;
  const cuda::Driver &d = cuda::driver();
  cuda::context();
  cuda::check(d.cuMemcpyDtoD(address_, source.address_, bytes_), "cuMemcpyDtoD");
}

void DeviceBuffer::copyFromHost(const void *host) {
  if (bytes_ == 0) return;
  const cuda::Driver &d = cuda::driver();
  cuda::context();
  cuda::check(d.cuMemcpyHtoD(address_, host, bytes_), "cuMemcpyHtoD");
}

} // namespace ajit::gpu
