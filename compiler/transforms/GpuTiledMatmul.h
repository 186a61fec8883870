//===- GpuTiledMatmul.h - a product as a tiled shared-memory kernel -*- C++ -*-===//
//
// ajit-map-to-gpu's kernel for an f32 `ajit.matmul` generic on buffers (2-D or batched,
// after its parallel dimensions were moved first: (b, m, n, k)): each block of 256
// threads computes a kTile x kTile tile of the output; per step of kDepth along k the
// threads copy an A and a B tile into shared memory, then each thread updates its
// kPerThread x kPerThread outputs (rows ty + 16 i, columns tx + 16 j: neighbouring
// threads read neighbouring shared-memory words and write neighbouring outputs) from
// registers. Out-of-range rows, columns and k-steps read as zero and are not written.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_COMPILER_TRANSFORMS_GPUTILEDMATMUL_H
#define AJIT_COMPILER_TRANSFORMS_GPUTILEDMATMUL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"

#include <optional>

namespace ajit {

struct TiledMatmul {
  static constexpr int64_t kPerThread = 8, kThreadsPerSide = 16;
  static constexpr int64_t kTile = kPerThread * kThreadsPerSide; ///< 128 x 128 outputs a block
  static constexpr int64_t kDepth = 8;                            ///< k per shared-memory step
  static constexpr int64_t kThreads = kThreadsPerSide * kThreadsPerSide;

  mlir::linalg::GenericOp op;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool batched = false;

  int64_t blocks() const;
  /// The workgroup buffers the launch must carry: the A tile (transposed, a padded
  /// row) and the B tile.
  mlir::MemRefType aTileType() const;
  mlir::MemRefType bTileType() const;
};

/// The plan for `op`, if it is an f32 product this kernel computes.
std::optional<TiledMatmul> tiledMatmul(mlir::linalg::GenericOp op);

/// Builds the kernel at `b`, inside `launch` (1-D grid of plan.blocks(), kThreads
/// threads, the two tiles as its workgroup attributions 0 and 1); `map` holds the host
/// values the launch recomputes.
void emitTiledMatmul(mlir::OpBuilder &b, mlir::Location loc, const TiledMatmul &plan, mlir::gpu::LaunchOp launch,
                     const mlir::IRMapping &map);

} // namespace ajit

#endif
