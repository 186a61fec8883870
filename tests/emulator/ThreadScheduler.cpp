//===- ThreadScheduler.cpp - a block's threads as fibers, barriers, shuffles ===//
//
// Every thread of a block is a ucontext fiber on the calling OS thread. The scheduler
// sweeps over the threads in the chosen order, running each ready one until it exits
// or waits (at bar.sync, shfl.sync or bar.warp.sync). After a sweep every thread waits
// or has exited; then a warp whose member lanes all wait at the same shuffle completes
// it (the values exchanged as PTX defines), or, when every live thread of the block
// waits at the barrier, the barrier opens. Anything else is a deadlock. Blocks run one
// after another, so a kernel's shared memory (a global of the JIT-compiled module) is
// the running block's.
//
//===----------------------------------------------------------------------===//
#include "tests/emulator/GpuEmulator.h"
#include "tests/emulator/Runtime.h"

#include "runtime/Error.h"

#include <ucontext.h>

#include <memory>
#include <string>
#include <vector>

namespace ajit::emu {
namespace {

/// Generated kernels keep little on the stack (a thread's accumulators, spills), but
/// they call libm.
constexpr size_t kStackBytes = 64 << 10;
constexpr uint32_t kWarp = 32;

enum class State : uint8_t { ready, barrier, shuffle, warpSync, exited };

struct Thread {
  ucontext_t context;
  State state = State::ready;
  uint32_t tid[3] = {0, 0, 0};
  // A pending shuffle (mask alone for a warp sync) and its result.
  uint32_t mode = 0, mask = 0, value = 0, b = 0, c = 0;
  uint64_t result = 0;
};

struct Block {
  const Grid *grid = nullptr;
  uint32_t ctaid[3] = {0, 0, 0};
  std::vector<Thread> threads;
  size_t current = 0;
  ucontext_t scheduler;
};

thread_local Block *tBlock = nullptr;

Thread &self() { return tBlock->threads[tBlock->current]; }

void wait(State why) {
  Thread &t = self();
  t.state = why;
  swapcontext(&t.context, &tBlock->scheduler);
}

/// A fiber's body; returning resumes the scheduler (uc_link).
void threadMain() {
  tBlock->grid->entry(tBlock->grid->buffers);
  self().state = State::exited;
}

std::string blockName(const Block &b) {
  return "block (" + std::to_string(b.ctaid[0]) + ", " + std::to_string(b.ctaid[1]) + ", " +
         std::to_string(b.ctaid[2]) + ")";
}

/// Completes the shuffles and warp syncs whose member lanes have all arrived; true if any did.
bool completeWarpOperations(Block &b) {
  bool progressed = false;
  size_t n = b.threads.size();
  for (size_t base = 0; base < n; base += kWarp) {
    uint32_t lanes = static_cast<uint32_t>(std::min<size_t>(kWarp, n - base));
    Thread *first = nullptr;
    for (uint32_t l = 0; l < lanes && !first; ++l) {
      State s = b.threads[base + l].state;
      if (s == State::shuffle || s == State::warpSync) first = &b.threads[base + l];
    }
    if (!first) continue;
    std::string where = blockName(b) + ", warp " + std::to_string(base / kWarp);
    uint32_t mask = first->mask;
    bool complete = true;
    for (uint32_t l = 0; l < kWarp; ++l) {
      bool member = (mask >> l) & 1;
      if (l >= lanes) {
        if (member) throw Error("emulator: " + where + ": the member mask names lane " + std::to_string(l) +
                                ", which the block does not have");
        continue;
      }
      const Thread &t = b.threads[base + l];
      bool waiting = t.state == State::shuffle || t.state == State::warpSync;
      if (waiting && (t.state != first->state || t.mask != mask || (t.state == State::shuffle && t.mode != first->mode)))
        throw Error("emulator: " + where + ": lanes wait at different shuffles or syncs (masks " +
                    std::to_string(mask) + " and " + std::to_string(t.mask) + ")");
      if (waiting && !member)
        throw Error("emulator: " + where + ": lane " + std::to_string(l) + " is not in its own member mask");
      if (member && t.state == State::exited)
        throw Error("emulator: " + where + ": lane " + std::to_string(l) + " of the member mask has exited");
      complete &= !member || waiting;
    }
    if (!complete) continue;
    for (uint32_t l = 0; l < lanes; ++l) {
      Thread &t = b.threads[base + l];
      if (!((mask >> l) & 1)) continue;
      if (t.state == State::shuffle) {
        // PTX ISA, shfl.sync: c holds the clamp value (bits 0-4) and the segment mask
        // (bits 8-12); a source lane out of range reads the thread's own value.
        uint32_t bval = t.b & 31, cval = t.c & 31, segmask = (t.c >> 8) & 31;
        int32_t maxLane = static_cast<int32_t>((l & segmask) | (cval & ~segmask)), minLane = l & segmask;
        int32_t j = 0;
        bool p = false;
        switch (t.mode) {
        case up: j = static_cast<int32_t>(l) - static_cast<int32_t>(bval), p = j >= maxLane; break;
        case down: j = static_cast<int32_t>(l + bval), p = j <= maxLane; break;
        case bfly: j = static_cast<int32_t>(l ^ bval), p = j <= maxLane; break;
        default: j = minLane | static_cast<int32_t>(bval & ~segmask), p = j <= maxLane; break;
        }
        if (!p) j = static_cast<int32_t>(l);
        if (j < 0 || j >= static_cast<int32_t>(lanes) || !((mask >> j) & 1))
          throw Error("emulator: " + where + ": lane " + std::to_string(l) + " reads lane " + std::to_string(j) +
                      ", outside the member mask (undefined in PTX)");
        t.result = b.threads[base + j].value | (uint64_t(p) << 32);
      }
    }
    for (uint32_t l = 0; l < lanes; ++l)
      if ((mask >> l) & 1) b.threads[base + l].state = State::ready;
    progressed = true;
  }
  return progressed;
}

void runBlock(Block &b, ThreadOrder order, char *stacks) {
  size_t n = b.threads.size();
  for (size_t i = 0; i < n; ++i) {
    Thread &t = b.threads[i];
    t.state = State::ready;
    getcontext(&t.context);
    t.context.uc_stack.ss_sp = stacks + i * kStackBytes;
    t.context.uc_stack.ss_size = kStackBytes;
    t.context.uc_link = &b.scheduler;
    makecontext(&t.context, threadMain, 0);
  }
  for (;;) {
    for (size_t k = 0; k < n; ++k) {
      size_t i = order == ThreadOrder::ascending ? k : n - 1 - k;
      if (b.threads[i].state != State::ready) continue;
      b.current = i;
      swapcontext(&b.scheduler, &b.threads[i].context);
    }
    size_t exited = 0, atBarrier = 0;
    for (const Thread &t : b.threads) {
      exited += t.state == State::exited;
      atBarrier += t.state == State::barrier;
    }
    if (exited == n) return;
    if (completeWarpOperations(b)) continue;
    if (atBarrier == n - exited) {
      for (Thread &t : b.threads)
        if (t.state == State::barrier) t.state = State::ready;
      continue;
    }
    throw Error("emulator: " + blockName(b) + " deadlocks: " + std::to_string(atBarrier) + " threads at bar.sync, " +
                std::to_string(n - exited - atBarrier) + " at a shuffle or warp sync, " + std::to_string(exited) +
                " exited");
  }
}

} // namespace

void runGrid(const Grid &g, ThreadOrder order) {
  uint64_t n = uint64_t(g.block[0]) * g.block[1] * g.block[2];
  if (n == 0 || n > 1024) throw Error("emulator: a block of " + std::to_string(n) + " threads (1 to 1024 run)");
  if (tBlock) throw Error("emulator: runGrid called from a kernel");
  std::unique_ptr<char[]> stacks(new char[n * kStackBytes]); // untouched pages cost nothing
  Block b;
  b.grid = &g;
  b.threads.resize(n);
  for (uint32_t z = 0, i = 0; z < g.block[2]; ++z)
    for (uint32_t y = 0; y < g.block[1]; ++y)
      for (uint32_t x = 0; x < g.block[0]; ++x, ++i) {
        b.threads[i].tid[0] = x, b.threads[i].tid[1] = y, b.threads[i].tid[2] = z;
      }
  struct Reset {
    ~Reset() { tBlock = nullptr; }
  } reset;
  tBlock = &b;
  for (uint32_t z = 0; z < g.grid[2]; ++z)
    for (uint32_t y = 0; y < g.grid[1]; ++y)
      for (uint32_t x = 0; x < g.grid[0]; ++x) {
        b.ctaid[0] = x, b.ctaid[1] = y, b.ctaid[2] = z;
        runBlock(b, order, stacks.get());
      }
}

} // namespace ajit::emu

using namespace ajit::emu;

extern "C" uint32_t ajit_emu_sreg(uint32_t which) {
  const Block &b = *tBlock;
  const Thread &t = self();
  switch (which) {
  case tidX: case tidY: case tidZ: return t.tid[which - tidX];
  case ntidX: case ntidY: case ntidZ: return b.grid->block[which - ntidX];
  case ctaidX: case ctaidY: case ctaidZ: return b.ctaid[which - ctaidX];
  case nctaidX: case nctaidY: case nctaidZ: return b.grid->grid[which - nctaidX];
  case laneId: return static_cast<uint32_t>(b.current % kWarp); // threads are numbered x fastest
  default: return kWarp;
  }
}

extern "C" void ajit_emu_barrier() { wait(State::barrier); }

extern "C" void ajit_emu_warp_sync(uint32_t mask) {
  self().mask = mask;
  wait(State::warpSync);
}

extern "C" uint64_t ajit_emu_shfl(uint32_t mode, uint32_t mask, uint32_t value, uint32_t b, uint32_t c) {
  Thread &t = self();
  t.mode = mode, t.mask = mask, t.value = value, t.b = b, t.c = c;
  wait(State::shuffle);
  return self().result;
}
