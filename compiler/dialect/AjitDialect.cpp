//===- AjitDialect.cpp - the ajit graph dialect ---------------------------===//
#include "compiler/dialect/AjitDialect.h"
#include "compiler/dialect/AjitOps.h"

#include "compiler/dialect/AjitDialect.cpp.inc"

void ajit::AjitDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "compiler/dialect/AjitOps.cpp.inc"
      >();
}
