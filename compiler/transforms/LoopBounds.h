//===- LoopBounds.h - constant trip counts of scf loops ---------*- C++ -*-===//
#ifndef AJIT_COMPILER_TRANSFORMS_LOOPBOUNDS_H
#define AJIT_COMPILER_TRANSFORMS_LOOPBOUNDS_H

#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <optional>

namespace ajit {

/// Iterations of a loop dimension with constant bounds and a positive constant step;
/// none when any of them is not constant.
inline std::optional<int64_t> constantTripCount(mlir::Value lb, mlir::Value ub, mlir::Value step) {
  auto l = mlir::getConstantIntValue(lb), u = mlir::getConstantIntValue(ub), s = mlir::getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0) return std::nullopt;
  return *u > *l ? (*u - *l + *s - 1) / *s : 0;
}

} // namespace ajit

#endif
