//===- AjitDialect.h - the ajit graph dialect -------------------*- C++ -*-===//
#ifndef AJIT_COMPILER_DIALECT_AJITDIALECT_H
#define AJIT_COMPILER_DIALECT_AJITDIALECT_H

#include "mlir/IR/Dialect.h"

#include "compiler/dialect/AjitDialect.h.inc"

#endif
