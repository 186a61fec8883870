//===- BufferPoolTest.cpp - reuse, alignment and the capacity bound -------===//
#include "runtime/BufferPool.h"

#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AJIT_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AJIT_UNDER_SANITIZER 1
#endif
#endif

using ajit::BufferPool;

TEST(BufferPool, ReusesReleasedBuffersOfTheSameSize) {
  BufferPool pool(size_t{64} << 20);
  void *a = pool.allocate(1 << 20);
  std::memset(a, 1, 1 << 20);
  pool.release(a, 1 << 20);
  void *b = pool.allocate(1 << 20);
  EXPECT_EQ(a, b);
  EXPECT_EQ(pool.stats().reused, 1u);
  EXPECT_EQ(pool.stats().fresh, 1u);
  void *c = pool.allocate(1 << 20); // the cached one is in use: a fresh one
  EXPECT_NE(c, b);
  pool.release(b, 1 << 20);
  pool.release(c, 1 << 20);
  EXPECT_EQ(pool.stats().cachedBytes, size_t{2} << 20);
  pool.trim();
  EXPECT_EQ(pool.stats().cachedBytes, 0u);
}

TEST(BufferPool, AlignsAndBoundsWhatItKeeps) {
  BufferPool pool(size_t{3} << 20);
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{70000}, size_t{3} << 20}) {
    void *p = pool.allocate(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes;
    if (bytes >= BufferPool::kHuge) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % BufferPool::kHuge, 0u);
    }
    pool.release(p, bytes);
  }
  // 70000 bytes (rounded to 72 KiB) fit under the 3 MiB bound; the 4 MiB buffer did not.
  EXPECT_EQ(pool.stats().cachedBytes, size_t{72} << 10);
  void *small = pool.allocate(100); // below kMinPooled: plain malloc, never cached
  pool.release(small, 100);
  EXPECT_EQ(pool.stats().cachedBytes, size_t{72} << 10);
}

TEST(BufferPool, ScratchPoolKeepsOrdinaryPageAlignedBuffers) {
  BufferPool pool(size_t{64} << 20, /*hugePages=*/false);
  for (size_t bytes : {size_t{5000}, size_t{3} << 20}) {
    void *p = pool.allocate(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 4096, 0u) << bytes;
    std::memset(p, 0, bytes);
    pool.release(p, bytes);
    EXPECT_EQ(pool.allocate(bytes), p) << bytes; // kept and reused like the output pool's
    pool.release(p, bytes);
  }
  // The generated code's entry points use the process-wide scratch pool, not the outputs'.
  uint64_t outputsFresh = BufferPool::global().stats().fresh;
  void *s = ajit_rt_buffer_acquire(int64_t{1} << 20);
  ajit_rt_buffer_release(s, int64_t{1} << 20);
  EXPECT_EQ(BufferPool::global().stats().fresh, outputsFresh);
  EXPECT_GE(BufferPool::scratch().stats().fresh + BufferPool::scratch().stats().reused, 1u);
}

// Under a hard limit on the address space an allocation that fails frees the idle
// buffers the pools keep and tries again; one that still fails is an ajit::Error that
// says how much was freed. Run in a child process: the limit stays there.
TEST(BufferPool, OutOfMemoryFreesIdleBuffersAndRetries) {
#ifdef AJIT_UNDER_SANITIZER
  GTEST_SKIP() << "the sanitizers' shadow memory does not fit under an address-space limit";
#else
  EXPECT_EXIT(
      {
        constexpr size_t kMiB = size_t{1} << 20;
        BufferPool pool(size_t{1} << 30);
        void *kept = pool.allocate(256 * kMiB);
        pool.release(kept, 256 * kMiB); // idle, in the pool
        // Room for about 384 MiB more than the process maps now (the idle buffer
        // included): the 300 MiB buffer fits only once the idle one is gone.
        unsigned long pages = 0;
        FILE *statm = std::fopen("/proc/self/statm", "r");
        if (!statm || std::fscanf(statm, "%lu", &pages) != 1) std::exit(3);
        std::fclose(statm);
        rlimit limit{};
        getrlimit(RLIMIT_AS, &limit);
        limit.rlim_cur = pages * sysconf(_SC_PAGESIZE) + 384 * kMiB - 256 * kMiB;
        if (setrlimit(RLIMIT_AS, &limit) != 0) std::exit(4);
        void *big = pool.allocate(300 * kMiB);
        std::memset(big, 1, 300 * kMiB);
        if (pool.stats().cachedBytes != 0) std::exit(5);
        try {
          pool.allocate(size_t{2} << 30);
          std::exit(6);
        } catch (const ajit::Error &e) {
          std::string what = e.what();
          if (what.find("out of memory allocating 2147483648 bytes (after freeing") == std::string::npos) std::exit(7);
        }
        std::exit(0);
      },
      testing::ExitedWithCode(0), "");
#endif
}
