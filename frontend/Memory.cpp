//===- Memory.cpp - the buffer pools' cached memory, seen and freed --------===//
#include "frontend/ajit.h"
#include "runtime/BufferPool.h"
#include "runtime/gpu/DeviceBuffer.h"

namespace ajit {

CachedMemory cachedMemory() {
  return {BufferPool::global().stats().cachedBytes + BufferPool::scratch().stats().cachedBytes,
          gpu::DeviceBuffer::pooledBytes()};
}

CachedMemory releaseCachedMemory() {
  return {BufferPool::trimProcessPools(), gpu::DeviceBuffer::releasePooled()};
}

} // namespace ajit
