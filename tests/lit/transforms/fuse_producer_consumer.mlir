// --ajit-fuse-producer-consumer groups graph ops into ajit.fusion regions (XLA-style).
// With report=1 every refused, duplicated or multi-output producer is a remark saying why.
// RUN: ajit-opt %s --split-input-file --mlir-print-op-on-diagnostic=false \
// RUN:   --ajit-fuse-producer-consumer=report=1 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: ajit-opt %s --split-input-file --ajit-fuse-producer-consumer | FileCheck %s

// W2's g: the whole elementwise chain fuses into the reduction (input fusion): x is read once.
// CHECK-LABEL: func.func @g
// CHECK-NEXT:  %[[F:.+]] = ajit.fusion input {
// CHECK-NEXT:    ajit.sin %arg0
// CHECK-NEXT:    ajit.cos %arg0
// CHECK-NEXT:    ajit.mul
// CHECK-NEXT:    ajit.mul
// CHECK-NEXT:    ajit.add
// CHECK-NEXT:    %[[R:.+]] = ajit.reduce sum
// CHECK-NEXT:    ajit.yield %[[R]] : tensor<f32>
// CHECK-NEXT:  } : tensor<f32>
// CHECK-NEXT:  return %[[F]]
func.func @g(%x: tensor<10000xf32>) -> tensor<f32> {
  %s = ajit.sin %x : tensor<10000xf32>
  %c = ajit.cos %x : tensor<10000xf32>
  %s2 = ajit.mul %s, %s : tensor<10000xf32>
  %c2 = ajit.mul %c, %c : tensor<10000xf32>
  %a = ajit.add %s2, %c2 : tensor<10000xf32>
  %r = ajit.reduce sum %a, axes = [0], keepdims = false : tensor<10000xf32> -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// W2's h = exp(-x/10) * sin(x): one loop fusion; the splat constant is pulled in.
// CHECK-LABEL: func.func @h
// CHECK-NEXT:  %[[F:.+]] = ajit.fusion loop {
// CHECK-NEXT:    ajit.constant dense<1.000000e+01>
// CHECK-NEXT:    ajit.neg
// CHECK-NEXT:    ajit.div
// CHECK-NEXT:    ajit.exp
// CHECK-NEXT:    ajit.sin
// CHECK-NEXT:    %[[R:.+]] = ajit.mul
// CHECK-NEXT:    ajit.yield %[[R]]
// CHECK-NEXT:  } : tensor<1000xf32>
// CHECK-NEXT:  return %[[F]]
func.func @h(%x: tensor<1000xf32>) -> tensor<1000xf32> {
  %ten = ajit.constant dense<10.0> : tensor<1000xf32>
  %n = ajit.neg %x : tensor<1000xf32>
  %d = ajit.div %n, %ten : tensor<1000xf32>
  %e = ajit.exp %d : tensor<1000xf32>
  %s = ajit.sin %x : tensor<1000xf32>
  %y = ajit.mul %e, %s : tensor<1000xf32>
  return %y : tensor<1000xf32>
}

// -----

// Linear+GELU (W3): an output fusion. The f32 matmul heads it, the broadcast bias, the
// add and the GELU are its epilogue, applied to each tile of the product; the matmul's
// operands stay outside.
// REMARK: remark: heads an output fusion: the ops up to ajit.gelu_tanh {{.*}} are applied to each tile of the product
// CHECK-LABEL: func.func @linear_gelu
// CHECK-NEXT:  %[[F:.+]] = ajit.fusion output {
// CHECK-NEXT:    %[[D:.+]] = ajit.dot %arg0, %arg1
// CHECK-NEXT:    ajit.broadcast_in_dim %arg2
// CHECK-NEXT:    ajit.add %[[D]]
// CHECK-NEXT:    %[[G:.+]] = ajit.gelu_tanh
// CHECK-NEXT:    ajit.yield %[[G]]
// CHECK-NEXT:  } : tensor<8x4xf32>
// CHECK-NEXT:  return %[[F]]
func.func @linear_gelu(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>, %b: tensor<4xf32>) -> tensor<8x4xf32> {
  %0 = ajit.dot %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = ajit.broadcast_in_dim %b, dims = [1] : tensor<4xf32> -> tensor<8x4xf32>
  %2 = ajit.add %0, %1 : tensor<8x4xf32>
  %3 = ajit.gelu_tanh %2 : tensor<8x4xf32>
  return %3 : tensor<8x4xf32>
}

// -----

// A residual block: ReLU and the residual add are the epilogue; the residual x is read
// per tile. The exp feeding the matmul stays out: the matmul reads its operands whole.
// REMARK: remark: not fused into the fusion rooted at ajit.add {{.*}}: it feeds the matmul of the fusion, which reads its operands whole
// CHECK-LABEL: func.func @linear_relu_residual
// CHECK-NEXT:  %[[E:.+]] = ajit.exp %arg0
// CHECK-NEXT:  %[[F:.+]] = ajit.fusion output {
// CHECK-NEXT:    %[[D:.+]] = ajit.dot %[[E]], %arg1
// CHECK-NEXT:    %[[R:.+]] = ajit.relu %[[D]]
// CHECK-NEXT:    %[[Y:.+]] = ajit.add %[[R]], %[[E]]
// CHECK-NEXT:    ajit.yield %[[Y]]
func.func @linear_relu_residual(%x: tensor<8x8xf32>, %w: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %e = ajit.exp %x : tensor<8x8xf32>
  %d = ajit.dot %e, %w : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %r = ajit.relu %d : tensor<8x8xf32>
  %y = ajit.add %r, %e : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// no_fuse: the product is also returned, so it must exist whole: the GELU is a kernel
// of its own.
// REMARK: remark: not fused into the fusion rooted at ajit.gelu_tanh {{.*}}: the product is also used by func.return, which needs it whole
// CHECK-LABEL: func.func @no_fuse_matmul_result_returned
// CHECK-NEXT:  %[[D:.+]] = ajit.dot
// CHECK-NEXT:  ajit.gelu_tanh %[[D]]
func.func @no_fuse_matmul_result_returned(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %0 = ajit.dot %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = ajit.gelu_tanh %0 : tensor<8x4xf32>
  return %0, %1 : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// no_fuse: the add after the matmul is also copied into the later fusion rooted at the
// neg (cheap to recompute there), and that copy reads the product: the product must exist
// whole, so the matmul heads nothing. (Found by the differential fuzzer: the copy read an
// erased value.)
// REMARK: remark: not fused into the fusion rooted at ajit.relu {{.*}}: the product is also read by a copy of its user in the fusion rooted at ajit.neg
// CHECK-LABEL: func.func @no_fuse_matmul_user_copied
// CHECK-NEXT:  %[[D:.+]] = ajit.dot
// CHECK-NOT:   ajit.fusion output
func.func @no_fuse_matmul_user_copied(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<2x4x4xf32>) {
  %d = ajit.dot %x, %w : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %a = ajit.add %d, %x : tensor<4x4xf32>
  %r = ajit.relu %a : tensor<4x4xf32>
  %b = ajit.broadcast_in_dim %a, dims = [1, 2] : tensor<4x4xf32> -> tensor<2x4x4xf32>
  %n = ajit.neg %b : tensor<2x4x4xf32>
  return %r, %n : tensor<4x4xf32>, tensor<2x4x4xf32>
}

// -----

// no_fuse: an f64 matmul has no tiled kernel to apply an epilogue to.
// REMARK: remark: not fused into the fusion rooted at ajit.relu {{.*}}: only f32 matmuls have a tiled kernel
// CHECK-LABEL: func.func @no_fuse_matmul_f64
// CHECK-NEXT:  %[[D:.+]] = ajit.dot
// CHECK-NOT:   ajit.fusion output
func.func @no_fuse_matmul_f64(%x: tensor<8x16xf64>, %w: tensor<16x4xf64>) -> tensor<8x4xf64> {
  %0 = ajit.dot %x, %w : tensor<8x16xf64>, tensor<16x4xf64> -> tensor<8x4xf64>
  %1 = ajit.relu %0 : tensor<8x4xf64>
  return %1 : tensor<8x4xf64>
}

// -----

// no_fuse: a reduction of the product does not iterate over the product's elements tile
// by tile; the matmul stays out of the input fusion.
// REMARK: remark: not fused into the fusion rooted at ajit.reduce {{.*}}: the consumer's loop is not over the product's elements
// CHECK-LABEL: func.func @no_fuse_matmul_into_reduction
// CHECK-NEXT:  %[[D:.+]] = ajit.dot
// CHECK-NEXT:  ajit.fusion input {
// CHECK-NEXT:    ajit.tanh %[[D]]
func.func @no_fuse_matmul_into_reduction(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>) -> tensor<f32> {
  %0 = ajit.dot %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = ajit.tanh %0 : tensor<8x4xf32>
  %2 = ajit.reduce sum %1, axes = [0, 1], keepdims = false : tensor<8x4xf32> -> tensor<f32>
  return %2 : tensor<f32>
}

// -----

// no_fuse: the product is transposed before the elementwise op: not an epilogue of tiles.
// REMARK: remark: not fused into the fusion rooted at ajit.relu {{.*}}: the product is read by ajit.transpose, not elementwise
// CHECK-LABEL: func.func @no_fuse_matmul_through_transpose
// CHECK-NEXT:  %[[D:.+]] = ajit.dot
// CHECK-NEXT:  ajit.fusion loop {
// CHECK-NEXT:    ajit.transpose %[[D]]
func.func @no_fuse_matmul_through_transpose(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>) -> tensor<4x8xf32> {
  %0 = ajit.dot %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = ajit.transpose %0, perm = [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
  %2 = ajit.relu %1 : tensor<4x8xf32>
  return %2 : tensor<4x8xf32>
}

// -----

// Softmax: the row max is one input fusion; exp(x - max) and its row sum are a second,
// multi-output input fusion (the exp is also read by the division, after it); the
// division is a loop fusion. exp is not recomputed.
// REMARK: remark: not fused into the fusion rooted at ajit.div {{.*}}: it is expensive and also used by ajit.reduce
// REMARK: remark: also yielded by the fusion rooted at ajit.reduce {{.*}}(multi-output)
// CHECK-LABEL: func.func @softmax
// CHECK:       %[[M:.+]] = ajit.reduce max %arg0
// CHECK:       %[[S:.+]]:2 = ajit.fusion input {
// CHECK-NEXT:    ajit.broadcast_in_dim %[[M]]
// CHECK-NEXT:    ajit.sub %arg0
// CHECK-NEXT:    %[[E:.+]] = ajit.exp
// CHECK-NEXT:    %[[SUM:.+]] = ajit.reduce sum %[[E]]
// CHECK-NEXT:    ajit.yield %[[SUM]], %[[E]]
// CHECK:       %[[Y:.+]] = ajit.fusion loop {
// CHECK-NEXT:    %[[B:.+]] = ajit.broadcast_in_dim %[[S]]#0
// CHECK-NEXT:    ajit.div %[[S]]#1, %[[B]]
// CHECK:       return %[[Y]]
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = ajit.reduce max %x, axes = [1], keepdims = true : tensor<4x8xf32> -> tensor<4x1xf32>
  %mb = ajit.broadcast_in_dim %m, dims = [0, 1] : tensor<4x1xf32> -> tensor<4x8xf32>
  %d = ajit.sub %x, %mb : tensor<4x8xf32>
  %e = ajit.exp %d : tensor<4x8xf32>
  %s = ajit.reduce sum %e, axes = [1], keepdims = true : tensor<4x8xf32> -> tensor<4x1xf32>
  %sb = ajit.broadcast_in_dim %s, dims = [0, 1] : tensor<4x1xf32> -> tensor<4x8xf32>
  %y = ajit.div %e, %sb : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// One Adam step: the new m and v are yielded beside the new parameter (multi-output), so
// the whole update is one fusion; the scalar hyperparameters are duplicated where needed.
// CHECK-LABEL: func.func @adam
// CHECK-NEXT:  %[[F:.+]]:3 = ajit.fusion loop {
// CHECK-NOT:   ajit.fusion
// CHECK:         ajit.yield %{{.+}}, %{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-NEXT:  } : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-NEXT:  return %[[F]]#0, %[[F]]#2, %[[F]]#1
func.func @adam(%p: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>)
    -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  %b1 = ajit.constant dense<0.9> : tensor<64xf32>
  %c1 = ajit.constant dense<0.1> : tensor<64xf32>
  %b2 = ajit.constant dense<0.999> : tensor<64xf32>
  %c2 = ajit.constant dense<0.001> : tensor<64xf32>
  %lr = ajit.constant dense<0.001> : tensor<64xf32>
  %eps = ajit.constant dense<1.0e-8> : tensor<64xf32>
  %0 = ajit.mul %b1, %m : tensor<64xf32>
  %1 = ajit.mul %c1, %g : tensor<64xf32>
  %m1 = ajit.add %0, %1 : tensor<64xf32>
  %2 = ajit.mul %b2, %v : tensor<64xf32>
  %3 = ajit.mul %g, %g : tensor<64xf32>
  %4 = ajit.mul %c2, %3 : tensor<64xf32>
  %v1 = ajit.add %2, %4 : tensor<64xf32>
  %5 = ajit.sqrt %v1 : tensor<64xf32>
  %6 = ajit.add %5, %eps : tensor<64xf32>
  %7 = ajit.div %m1, %6 : tensor<64xf32>
  %8 = ajit.mul %lr, %7 : tensor<64xf32>
  %p1 = ajit.sub %p, %8 : tensor<64xf32>
  return %p1, %m1, %v1 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

// no_fuse: a reduction is never recomputed inside its consumer's loop.
// REMARK: remark: not fused into the fusion rooted at ajit.mul {{.*}}: a reduction is not fused into its consumer
// CHECK-LABEL: func.func @no_fuse_reduction_into_consumer
// CHECK:       %[[S:.+]] = ajit.reduce sum %arg0
// CHECK-NEXT:  %[[F:.+]] = ajit.fusion loop {
// CHECK-NEXT:    ajit.broadcast_in_dim %[[S]]
// CHECK-NEXT:    ajit.mul %arg0
func.func @no_fuse_reduction_into_consumer(%x: tensor<16xf32>) -> tensor<16xf32> {
  %s = ajit.reduce sum %x, axes = [0], keepdims = false : tensor<16xf32> -> tensor<f32>
  %b = ajit.broadcast_in_dim %s, dims = [] : tensor<f32> -> tensor<16xf32>
  %y = ajit.mul %x, %b : tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// An expensive op read by a reduction and by a later consumer is computed once, in the
// reduction's loop, which also stores it (multi-output); the consumer reads it.
// REMARK: remark: not fused into the fusion rooted at ajit.add {{.*}}: it is expensive and also used by ajit.reduce
// REMARK: remark: also yielded by the fusion rooted at ajit.reduce
// CHECK-LABEL: func.func @multi_output_expensive_shared
// CHECK-NEXT:  %[[S:.+]]:2 = ajit.fusion input {
// CHECK-NEXT:    %[[E:.+]] = ajit.exp %arg0
// CHECK-NEXT:    %[[R:.+]] = ajit.reduce sum %[[E]]
// CHECK-NEXT:    ajit.yield %[[R]], %[[E]]
// CHECK:       ajit.fusion loop {
// CHECK-NEXT:    ajit.broadcast_in_dim %[[S]]#0
// CHECK-NEXT:    ajit.add %[[S]]#1
func.func @multi_output_expensive_shared(%x: tensor<16xf32>) -> tensor<16xf32> {
  %e = ajit.exp %x : tensor<16xf32>
  %s = ajit.reduce sum %e, axes = [0], keepdims = false : tensor<16xf32> -> tensor<f32>
  %b = ajit.broadcast_in_dim %s, dims = [] : tensor<f32> -> tensor<16xf32>
  %y = ajit.add %e, %b : tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// no_fuse: an expensive op on a small operand is not recomputed for every element of a
// broadcast; a cheap one is.
// REMARK: remark: not fused into the fusion rooted at ajit.add {{.*}}: it is broadcast in the loop (1024 iterations over 16 elements)
// CHECK-LABEL: func.func @no_fuse_expensive_through_broadcast
// CHECK-NEXT:  %[[E:.+]] = ajit.exp %arg1 : tensor<16xf32>
// CHECK-NEXT:  %[[F:.+]] = ajit.fusion loop {
// CHECK-NEXT:    ajit.broadcast_in_dim %[[E]]
// CHECK-NEXT:    ajit.add %arg0
func.func @no_fuse_expensive_through_broadcast(%x: tensor<64x16xf32>, %b: tensor<16xf32>) -> tensor<64x16xf32> {
  %e = ajit.exp %b : tensor<16xf32>
  %eb = ajit.broadcast_in_dim %e, dims = [1] : tensor<16xf32> -> tensor<64x16xf32>
  %y = ajit.add %x, %eb : tensor<64x16xf32>
  return %y : tensor<64x16xf32>
}

// -----

// A cheap op used by two fusions is recomputed in each instead of stored.
// REMARK: remark: duplicated into the fusion rooted at ajit.sub
// CHECK-LABEL: func.func @duplicate_cheap
// CHECK-NOT:   ajit.mul %arg0, %arg0 : tensor<16xf32>{{$}}
// CHECK:       ajit.fusion input {
// CHECK-NEXT:    ajit.mul %arg0, %arg0
// CHECK-NEXT:    ajit.reduce sum
// CHECK:       ajit.fusion loop {
// CHECK-NEXT:    ajit.mul %arg0, %arg0
func.func @duplicate_cheap(%x: tensor<16xf32>) -> (tensor<f32>, tensor<16xf32>) {
  %sq = ajit.mul %x, %x : tensor<16xf32>
  %s = ajit.reduce sum %sq, axes = [0], keepdims = false : tensor<16xf32> -> tensor<f32>
  %y = ajit.sub %sq, %x : tensor<16xf32>
  return %s, %y : tensor<f32>, tensor<16xf32>
}

// -----

// no_fuse: an expensive op that a matmul reads too is computed once and stored.
// REMARK: remark: not fused into the fusion rooted at ajit.add {{.*}}: it is expensive and also used by ajit.dot
// CHECK-LABEL: func.func @no_fuse_expensive_used_by_matmul
// CHECK-NEXT:  %[[E:.+]] = ajit.exp %arg0
// CHECK-NEXT:  ajit.dot %[[E]], %arg1
// CHECK-NEXT:  ajit.fusion loop {
// CHECK-NEXT:    ajit.constant
// CHECK-NEXT:    ajit.add %[[E]]
func.func @no_fuse_expensive_used_by_matmul(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %e = ajit.exp %x : tensor<4x4xf32>
  %d = ajit.dot %e, %w : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %one = ajit.constant dense<1.0> : tensor<4x4xf32>
  %y = ajit.add %e, %one : tensor<4x4xf32>
  return %d, %y : tensor<4x4xf32>, tensor<4x4xf32>
}
