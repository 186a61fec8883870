// A producer fused into an argmax keeps the generic's ajit.arg_reduce marker (upstream
// fusion builds a new op without it): the PTX target's block reduction depends on it.
// RUN: ajit-opt %s --ajit-fuse-producer-consumer --ajit-lower-to-linalg=lane-reductions=0 --ajit-lower-fusions | FileCheck %s

// CHECK-LABEL: func.func @argmax_of_neg
// CHECK:       linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%arg0 : tensor<4096xf32>) {{.*}} attrs = {ajit.arg_reduce = "max"}
// CHECK:         arith.negf
// CHECK:         linalg.index 0
// CHECK-NOT:   linalg.generic
func.func @argmax_of_neg(%x: tensor<4096xf32>) -> tensor<i64> {
  %n = ajit.neg %x : tensor<4096xf32>
  %r = ajit.argmax %n, axis = 0, keepdims = false : tensor<4096xf32> -> tensor<i64>
  return %r : tensor<i64>
}
