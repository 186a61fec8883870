//===- BufferPool.cpp - reuse of large host buffers across calls ----------===//
#include "runtime/BufferPool.h"

#include "runtime/Env.h"
#include "runtime/Error.h"

#include <cstdio>
#include <cstdlib>
#include <sys/mman.h>
#include <utility>

namespace ajit {

namespace {
size_t capacityFromEnv() { return static_cast<size_t>(env::integer("AJIT_BUFFER_POOL_MB", 1024)) << 20; }
} // namespace

// Both leaked on purpose: arrays may be released during static destruction.
BufferPool &BufferPool::global() {
  static BufferPool *pool = new BufferPool(capacityFromEnv());
  return *pool;
}

BufferPool &BufferPool::scratch() {
  static BufferPool *pool = new BufferPool(capacityFromEnv(), /*hugePages=*/false);
  return *pool;
}

BufferPool::BufferPool(size_t capacityBytes, bool hugePages)
    : capacity_(capacityBytes), hugePages_(hugePages) {}

BufferPool::~BufferPool() { trim(); }

size_t BufferPool::roundedSize(size_t bytes) {
  if (bytes < kMinPooled) return (bytes + 63) / 64 * 64;
  size_t unit = bytes >= kHuge ? kHuge : 4096;
  return (bytes + unit - 1) / unit * unit;
}

void *BufferPool::allocate(size_t bytes) {
  size_t size = roundedSize(bytes == 0 ? 1 : bytes);
  if (size >= kMinPooled) {
    std::lock_guard lock(mutex_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      void *p = it->second.back();
      it->second.pop_back();
      cached_ -= size;
      ++stats_.reused;
      return p;
    }
    ++stats_.fresh;
  }
  bool huge = hugePages_ && size >= kHuge;
  size_t alignment = huge ? kHuge : size >= kMinPooled ? 4096 : 64;
  void *p = std::aligned_alloc(alignment, size);
  if (!p) {
    // Under a hard memory limit (RLIMIT_AS, strict overcommit) the idle buffers the
    // pools keep may be what stands in the way: free them all and try once more, as the
    // GPU pool does on CUDA_ERROR_OUT_OF_MEMORY.
    size_t freed = trim() + trimProcessPools(); // a pool trimmed twice frees nothing more
    p = std::aligned_alloc(alignment, size);
    if (!p)
      throw Error("ajit: out of memory allocating " + std::to_string(bytes) + " bytes (after freeing " +
                  std::to_string(freed) + " bytes of idle pooled buffers)");
  }
  if (huge) madvise(p, size, MADV_HUGEPAGE); // advice only: failure is harmless
  return p;
}

void BufferPool::release(void *p, size_t bytes) {
  if (!p) return;
  size_t size = roundedSize(bytes == 0 ? 1 : bytes);
  if (size >= kMinPooled) {
    std::lock_guard lock(mutex_);
    if (cached_ + size <= capacity_) {
      free_[size].push_back(p);
      cached_ += size;
      return;
    }
  }
  std::free(p);
}

size_t BufferPool::trim() {
  std::lock_guard lock(mutex_);
  for (auto &[size, list] : free_)
    for (void *p : list) std::free(p);
  free_.clear();
  return std::exchange(cached_, 0);
}

size_t BufferPool::trimProcessPools() { return global().trim() + scratch().trim(); }

BufferPool::Stats BufferPool::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.cachedBytes = cached_;
  return s;
}

} // namespace ajit

extern "C" {

// Generated code cannot take a C++ exception: out of memory here is fatal, as it is for
// the malloc of generated code's own temporaries.
void *ajit_rt_buffer_acquire(int64_t bytes) {
  try {
    return ajit::BufferPool::scratch().allocate(static_cast<size_t>(bytes));
  } catch (const std::exception &e) {
    std::fprintf(stderr, "ajit: a kernel's scratch buffer of %lld bytes: %s\n", (long long)bytes, e.what());
    std::abort();
  }
}

void ajit_rt_buffer_release(void *p, int64_t bytes) {
  ajit::BufferPool::scratch().release(p, static_cast<size_t>(bytes));
}

} // extern "C"
