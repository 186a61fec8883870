//===- BufferPool.h - reuse of large host buffers across calls ---*- C++ -*-===//
//
// On the development machines a first touch of fresh memory costs about 2 us per 4 KiB
// page (2 GB/s), more than most kernels spend on the data. Buffers of 4 KiB and more
// are therefore kept when released and handed out again for the same size, already
// mapped; those of 2 MiB and more are also 2 MiB-aligned and advised as transparent huge
// pages, which cuts the cost of the first touch about fourfold. Smaller buffers go to
// malloc. From 4 KiB rather than 64: malloc's free and consolidation of 10K-element
// arrays cost 0.3 us per call (scale at 10K elements: 1.81 us from malloc, 1.47 us pooled).
//
// Matmul scratch (B packed into column panels) comes from a second pool on ordinary
// pages: the micro-kernel reading packed B from huge pages ran at 34 to 50 GFLOP/s where
// the same panels on 4 KiB pages gave 53 to 78 (1024^3, one thread, interleaved medians;
// with physically contiguous panels the rows that the kernel reads together collide in
// L2). The scratch pool's buffers are page-aligned.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_BUFFERPOOL_H
#define AJIT_RUNTIME_BUFFERPOOL_H

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace ajit {

class BufferPool {
public:
  /// The process-wide pool; its capacity is AJIT_BUFFER_POOL_MB (default 1024).
  static BufferPool &global();
  /// The process-wide pool of kernel scratch, on ordinary pages; the same capacity.
  static BufferPool &scratch();
  /// `hugePages`: buffers of 2 MiB and more are 2 MiB-aligned and advised as huge pages.
  explicit BufferPool(size_t capacityBytes, bool hugePages = true);
  ~BufferPool();
  BufferPool(const BufferPool &) = delete;
  BufferPool &operator=(const BufferPool &) = delete;

  /// 64-byte aligned, uninitialised; never null (throws ajit::Error when out of memory).
  void *allocate(size_t bytes);
  /// Gives back a buffer from allocate() with the same `bytes`. Thread-safe.
  void release(void *p, size_t bytes);
  /// Frees every cached buffer; returns their bytes.
  size_t trim();
  /// trim() of the process's two pools, global() and scratch(); returns their bytes.
  static size_t trimProcessPools();

  struct Stats {
    uint64_t reused = 0, fresh = 0;
    size_t cachedBytes = 0;
  };
  Stats stats() const;

  static constexpr size_t kMinPooled = size_t{4} << 10;
  static constexpr size_t kHuge = size_t{2} << 20;

private:
  static size_t roundedSize(size_t bytes);
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void *>> free_;
  size_t capacity_, cached_ = 0;
  bool hugePages_;
  Stats stats_;
};

} // namespace ajit

// For generated code (scratch buffers of ajit-tile-matmuls): the scratch pool.
extern "C" void *ajit_rt_buffer_acquire(int64_t bytes);
extern "C" void ajit_rt_buffer_release(void *p, int64_t bytes);

#endif
