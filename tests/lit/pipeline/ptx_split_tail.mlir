// The PTX pipeline on a long reduction whose length has no divisor from 256 to 1024
// (800024 = 8 x 100003), with its exp values written beside the sum: 1024 blocks for
// the chunks (each writing its part of the exp values), one folding the partials into
// the result (whose zero fill is folded into it: no fill kernel), one for the 1304-
// element tail, which writes the rest of the exp values. Nothing copies the exp values
// onto themselves (the subviews of the inserted slices are one value after CSE).
// RUN: ajit-opt %s --ajit-ptx-pipeline | FileCheck %s

// CHECK-LABEL: func.func @sum_and_exps
// CHECK:       gpu.launch_func @sum_and_exps_kernels::@sum_and_exps_k0 blocks in (%c1024, %c1, %c1)
// CHECK-SAME:    args(%arg0 : memref<800024xf32>, %{{.+}} : memref<1024xf32>, %arg2 : memref<800024xf32>)
// CHECK-NEXT:  gpu.launch_func @sum_and_exps_kernels::@sum_and_exps_k1 blocks in (%c1, %c1, %c1)
// CHECK-SAME:    args(%{{.+}} : memref<1024xf32>, %arg1 : memref<f32>)
// CHECK-NEXT:  gpu.launch_func @sum_and_exps_kernels::@sum_and_exps_k2 blocks in (%c1, %c1, %c1)
// CHECK-SAME:    args(%arg0 : memref<800024xf32>, %arg1 : memref<f32>, %arg2 : memref<800024xf32>)
// CHECK-NEXT:  return
func.func @sum_and_exps(%a: tensor<800024xf32>) -> (tensor<f32>, tensor<800024xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %eo = tensor.empty() : tensor<800024xf32>
  %both:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
                            iterator_types = ["reduction"]}
      ins(%a : tensor<800024xf32>) outs(%f, %eo : tensor<f32>, tensor<800024xf32>) {
  ^bb0(%x: f32, %s: f32, %o: f32):
    %ex = math.exp %x : f32
    %t = arith.addf %ex, %s fastmath<reassoc> : f32
    linalg.yield %t, %ex : f32, f32
  } -> (tensor<f32>, tensor<800024xf32>)
  return %both#0, %both#1 : tensor<f32>, tensor<800024xf32>
}
