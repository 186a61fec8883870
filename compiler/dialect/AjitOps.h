//===- AjitOps.h - ops of the ajit graph dialect ----------------*- C++ -*-===//
#ifndef AJIT_COMPILER_DIALECT_AJITOPS_H
#define AJIT_COMPILER_DIALECT_AJITOPS_H

#include "compiler/dialect/AjitDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "compiler/dialect/AjitEnums.h.inc"

#define GET_OP_CLASSES
#include "compiler/dialect/AjitOps.h.inc"

namespace ajit {
/// True for the ops computed element by element (unary, binary, compare, select, clamp,
/// convert): one scalar body over identically shaped operands.
bool isElementwise(mlir::Operation *op);

/// Formats a tensor type the way users see it in error messages: `f32[3,4]`.
std::string describeType(mlir::Type type);
} // namespace ajit

#endif
