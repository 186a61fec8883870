// RUN: ajit-opt %s --split-input-file --ajit-untie-shared-fills | FileCheck %s

// Two row sums writing into one (CSE-merged) zero fill: the second gets a fill (and an
// empty tensor) of its own, just before it; the first keeps the original.
// CHECK-LABEL: func.func @two_sums
// CHECK:       %[[E:.+]] = tensor.empty() : tensor<4xf32>
// CHECK:       %[[F:.+]] = linalg.fill ins(%[[ZERO:.+]] : f32) outs(%[[E]] : tensor<4xf32>)
// CHECK:       linalg.generic {{.+}} outs(%[[F]] : tensor<4xf32>)
// CHECK:       %[[E2:.+]] = tensor.empty() : tensor<4xf32>
// CHECK-NEXT:  %[[F2:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E2]] : tensor<4xf32>)
// CHECK-NEXT:  linalg.generic {{.+}} outs(%[[F2]] : tensor<4xf32>)
func.func @two_sums(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]} ins(%y : tensor<4x8xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// A fill that is also read (an input, a returned value) keeps its values for the
// readers: each destination gets a fill of its own.
// CHECK-LABEL: func.func @read_and_written
// CHECK:       %[[F:.+]] = linalg.fill
// CHECK:       %[[F2:.+]] = linalg.fill
// CHECK-NEXT:  %[[A:.+]] = linalg.generic {{.+}} outs(%[[F2]] : tensor<4xf32>)
// CHECK:       return %[[A]], %[[F]]
func.func @read_and_written(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %a, %f : tensor<4xf32>, tensor<4xf32>
}

// -----

// A destination whose body never reads it (an elementwise map) gets the empty tensor
// alone: it overwrites every element.
// CHECK-LABEL: func.func @unread_destination
// CHECK:       %[[F:.+]] = linalg.fill
// CHECK:       linalg.generic {{.+}} outs(%[[F]] : tensor<4xf32>)
// CHECK:       %[[E2:.+]] = tensor.empty() : tensor<4xf32>
// CHECK-NEXT:  linalg.generic {{.+}} outs(%[[E2]] : tensor<4xf32>)
func.func @unread_destination(%x: tensor<4x8xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]} ins(%y : tensor<4xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %o: f32):
    %s = math.exp %in : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// The bufferized result: each sum in its own out-param, no copy of a fill.
// RUN: ajit-opt %s --split-input-file --ajit-untie-shared-fills --one-shot-bufferize=bufferize-function-boundaries=1 | FileCheck %s --check-prefix=BUF
// BUF-LABEL: func.func @layer_norm_stats
// BUF-NOT:     memref.copy
// BUF-NOT:     linalg.copy
// BUF:         return
func.func @layer_norm_stats(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.mulf %in, %in : f32
    %s = arith.addf %m, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}
