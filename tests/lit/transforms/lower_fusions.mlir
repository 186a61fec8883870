// --ajit-lower-fusions turns each ajit.fusion region (already lowered to linalg) into one
// loop nest and dissolves the region; nothing fuses across regions.
// RUN: ajit-opt %s --split-input-file --ajit-fuse-producer-consumer --ajit-lower-to-linalg \
// RUN:   --canonicalize --ajit-lower-fusions --canonicalize --cse | FileCheck %s

// W2's g: one reduction loop computes sin, cos, the squares and the sum.
// CHECK-LABEL: func.func @g
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT:   linalg.generic
// CHECK:       arith.addf {{.*}} fastmath<reassoc>
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

// A multi-output input fusion: the row sum's loop also stores exp(x - max), which the
// division reads; exp runs once per element.
// CHECK-LABEL: func.func @softmax
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:         arith.maximumf
// CHECK:       %[[S:.+]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK-SAME:    outs({{.*}} : tensor<4xf32>, tensor<4x8xf32>)
// CHECK:         %[[E:.+]] = math.exp
// CHECK:         %[[A:.+]] = arith.addf %[[E]]
// CHECK:         linalg.yield %[[A]], %[[E]]
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} ins(%[[S]]#1
// CHECK:         arith.divf
// CHECK-NOT:   math.exp
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

// One Adam step is one loop with three outputs: new parameter, m and v.
// CHECK-LABEL: func.func @adam
// CHECK:       %[[F:.+]]:3 = linalg.generic
// CHECK-SAME:    ins(%arg0, %arg2, %arg1, %arg3 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
// CHECK:         math.sqrt
// CHECK-NOT:   linalg.generic
// CHECK:       return %[[F]]#{{[0-2]}}, %[[F]]#{{[0-2]}}, %[[F]]#{{[0-2]}}
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
