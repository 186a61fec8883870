//===- GpuTiledMatmul.h - a product as a tiled shared-memory kernel -*- C++ -*-===//
//
// ajit-map-to-gpu's kernel for an f32 `ajit.matmul` generic on buffers (2-D or batched,
// after its parallel dimensions were moved first: (b, m, n, k)): each block of 256
// threads computes a kTile x kTile tile of the output; per step of kDepth along k the
// threads copy an A and a B tile into shared memory (each thread kVector consecutive
// elements of a row of each: one 16-byte global load where the row length allows), then
// each thread updates its kPerThread x kPerThread outputs from registers: rows
// ty * 4 + {0..3} and 64 + ty * 4 + {0..3} of the tile, columns likewise with tx, so
// that its A and B values of a k-step are four 16-byte shared-memory loads instead of
// sixteen 4-byte ones. Out-of-range rows, columns and k-steps read as zero and are not
// written.
// The tiles are double-buffered (CUTLASS's SIMT pipeline): a step's global loads of the
// next tiles are issued before its arithmetic and land in registers, stored into the
// other pair of shared tiles after it; one barrier per step instead of two, and the
// loads' latency hidden behind the step's 512 FMAs a thread.
// The output fusion's epilogue (bias, GELU) that follows the product is applied to each
// output as it is stored, when it reads the product element for element.
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
  static constexpr int64_t kVector = 4; ///< consecutive elements a thread loads or owns
  static constexpr int64_t kTile = kPerThread * kThreadsPerSide; ///< 128 x 128 outputs a block
  static constexpr int64_t kDepth = 8;                            ///< k per shared-memory step
  static constexpr int64_t kThreads = kThreadsPerSide * kThreadsPerSide;
  /// Blocks an SM must hold at once (one's barrier wait overlapping the other's FMAs):
  /// caps ptxas at 65536 / (2 * 256) = 128 registers a thread (ajit-set-kernel-occupancy).
  static constexpr int64_t kBlocksPerSm = 2;

  mlir::linalg::GenericOp op;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool batched = false;
  /// The output fusion's epilogue (bias, GELU, ...), applied to each output before it
  /// is stored, when it directly follows the product and fits (see withEpilogue).
  mlir::linalg::GenericOp epilogue;
  /// The value every output starts from, when the fill that wrote it was folded into
  /// the kernel; otherwise the accumulators start from the output buffer's contents.
  mlir::FloatAttr initialValue;

  int64_t blocks() const;
  /// The workgroup buffers the launch must carry: two A tiles (transposed, a padded
  /// row) and two B tiles, the leading dimension choosing the buffer.
  mlir::MemRefType aTileType() const;
  mlir::MemRefType bTileType() const;
};

/// The plan for `op`, if it is an f32 product this kernel computes.
std::optional<TiledMatmul> tiledMatmul(mlir::linalg::GenericOp op);

/// Whether `epilogue` can run in the product's kernel, applied to each output as it is
/// stored: an all-parallel `ajit.matmul_epilogue` generic over the product's (b, m, n),
/// reading the product only element for element. Sets plan.epilogue if so.
bool withEpilogue(TiledMatmul &plan, mlir::linalg::GenericOp epilogue);

/// The indices `map` gives for loop indices `ivs` (one affine.apply per result).
llvm::SmallVector<mlir::Value> indicesAt(mlir::OpBuilder &b, mlir::Location loc, mlir::AffineMap map,
                                         mlir::ValueRange ivs);

/// Builds the kernel at `b`, inside `launch` (1-D grid of plan.blocks(), kThreads
/// threads, the two tiles as its workgroup attributions 0 and 1); `map` holds the host
/// values the launch recomputes.
void emitTiledMatmul(mlir::OpBuilder &b, mlir::Location loc, const TiledMatmul &plan, mlir::gpu::LaunchOp launch,
                     const mlir::IRMapping &map);

} // namespace ajit

#endif
