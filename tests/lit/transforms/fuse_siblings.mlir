// RUN: ajit-opt %s --split-input-file --ajit-fuse-siblings=report=1 2>&1 | FileCheck %s
// RUN: ajit-opt %s --split-input-file --ajit-fuse-siblings --ajit-lower-to-linalg --canonicalize \
// RUN:   --ajit-lower-fusions --canonicalize --cse | FileCheck %s --check-prefix=LOOP

// Lion's update: the new momentum and the new parameter share m and g but no op. Two
// loop fusions become one at the later one's place, and its two loop nests one generic:
// m and g are read once.
// CHECK:       remark: sibling fusion: merged with an earlier loop fusion over the same shape that reads a common input
// CHECK-LABEL: func.func @lion
// CHECK-NEXT:  %[[F:.+]]:2 = ajit.fusion loop {
// CHECK-NOT:   ajit.fusion
// CHECK:         ajit.tanh
// CHECK:         ajit.yield %{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>
// CHECK-NEXT:  } : tensor<64xf32>, tensor<64xf32>
// CHECK-NEXT:  return %[[F]]#1, %[[F]]#0
// LOOP-LABEL:  func.func @lion
// LOOP:        linalg.generic
// LOOP-NOT:    linalg.generic
// LOOP:        return
func.func @lion(%p: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %m1 = ajit.fusion loop {
    %b2 = ajit.constant dense<0.99> : tensor<64xf32>
    %c2 = ajit.constant dense<0.01> : tensor<64xf32>
    %0 = ajit.mul %b2, %m : tensor<64xf32>
    %1 = ajit.mul %c2, %g : tensor<64xf32>
    %2 = ajit.add %0, %1 : tensor<64xf32>
    ajit.yield %2 : tensor<64xf32>
  } : tensor<64xf32>
  %p1 = ajit.fusion loop {
    %b1 = ajit.constant dense<0.9> : tensor<64xf32>
    %c1 = ajit.constant dense<0.1> : tensor<64xf32>
    %lr = ajit.constant dense<0.001> : tensor<64xf32>
    %0 = ajit.mul %b1, %m : tensor<64xf32>
    %1 = ajit.mul %c1, %g : tensor<64xf32>
    %2 = ajit.add %0, %1 : tensor<64xf32>
    %3 = ajit.tanh %2 : tensor<64xf32>
    %4 = ajit.mul %lr, %3 : tensor<64xf32>
    %5 = ajit.sub %p, %4 : tensor<64xf32>
    ajit.yield %5 : tensor<64xf32>
  } : tensor<64xf32>
  return %p1, %m1 : tensor<64xf32>, tensor<64xf32>
}

// -----

// no_fuse_dependent: the second loop reads x too, but also a sum of the first loop's
// result: one loop cannot compute both.
// CHECK-NOT:   remark
// CHECK-LABEL: func.func @no_fuse_dependent
// CHECK:       ajit.fusion loop
// CHECK:       ajit.reduce sum
// CHECK:       ajit.fusion loop
// LOOP-LABEL:  func.func @no_fuse_dependent
func.func @no_fuse_dependent(%x: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %y = ajit.fusion loop {
    %0 = ajit.exp %x : tensor<64xf32>
    %1 = ajit.mul %0, %x : tensor<64xf32>
    ajit.yield %1 : tensor<64xf32>
  } : tensor<64xf32>
  %s = ajit.reduce sum %y, axes = [0], keepdims = false : tensor<64xf32> -> tensor<f32>
  %w = ajit.fusion loop {
    %0 = ajit.broadcast_in_dim %s, dims = [] : tensor<f32> -> tensor<64xf32>
    %1 = ajit.sub %x, %0 : tensor<64xf32>
    %2 = ajit.mul %1, %1 : tensor<64xf32>
    ajit.yield %2 : tensor<64xf32>
  } : tensor<64xf32>
  return %y, %w : tensor<64xf32>, tensor<64xf32>
}

// -----

// no_fuse: loops of different shapes, or over one shape but without a common input.
// CHECK-NOT:   remark
// CHECK-LABEL: func.func @no_fuse_other_shape_or_no_common_input
// CHECK-COUNT-3: ajit.fusion loop
// LOOP-LABEL:  func.func @no_fuse_other_shape_or_no_common_input
func.func @no_fuse_other_shape_or_no_common_input(%a: tensor<64xf32>, %b: tensor<32xf32>, %c: tensor<64xf32>)
    -> (tensor<64xf32>, tensor<32xf32>, tensor<64xf32>) {
  %0 = ajit.fusion loop {
    %e = ajit.exp %a : tensor<64xf32>
    %r = ajit.mul %e, %a : tensor<64xf32>
    ajit.yield %r : tensor<64xf32>
  } : tensor<64xf32>
  %1 = ajit.fusion loop {
    %e = ajit.exp %b : tensor<32xf32>
    %r = ajit.mul %e, %b : tensor<32xf32>
    ajit.yield %r : tensor<32xf32>
  } : tensor<32xf32>
  %2 = ajit.fusion loop {
    %e = ajit.exp %c : tensor<64xf32>
    %r = ajit.mul %e, %c : tensor<64xf32>
    ajit.yield %r : tensor<64xf32>
  } : tensor<64xf32>
  return %0, %1, %2 : tensor<64xf32>, tensor<32xf32>, tensor<64xf32>
}
