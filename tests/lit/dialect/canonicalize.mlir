// Canonicalization of the graph dialect (graph-opt runs it first).
// RUN: ajit-opt %s --split-input-file --canonicalize | FileCheck %s

// A product with one column becomes a row reduction of an elementwise product (the
// micro-kernel's 32-column panels would be 31/32 padding).
// CHECK-LABEL: func.func @matvec
// CHECK-SAME:  (%[[A:.+]]: tensor<1000x100xf32>, %[[B:.+]]: tensor<100x1xf32>)
// CHECK:       %[[COL:.+]] = ajit.reshape %[[B]] : tensor<100x1xf32> -> tensor<100xf32>
// CHECK:       %[[SPREAD:.+]] = ajit.broadcast_in_dim %[[COL]], dims = [1] : tensor<100xf32> -> tensor<1000x100xf32>
// CHECK:       %[[P:.+]] = ajit.mul %[[A]], %[[SPREAD]] : tensor<1000x100xf32>
// CHECK:       %[[R:.+]] = ajit.reduce sum %[[P]], axes = [1], keepdims = true : tensor<1000x100xf32> -> tensor<1000x1xf32>
// CHECK-NOT:   ajit.dot
// CHECK:       return %[[R]]
func.func @matvec(%a: tensor<1000x100xf32>, %b: tensor<100x1xf32>) -> tensor<1000x1xf32> {
  %c = ajit.dot %a, %b : tensor<1000x100xf32>, tensor<100x1xf32> -> tensor<1000x1xf32>
  return %c : tensor<1000x1xf32>
}

// -----

// Batched: the batch dimension is kept in the broadcast.
// CHECK-LABEL: func.func @batched_matvec
// CHECK:       ajit.broadcast_in_dim %{{.+}}, dims = [0, 2] : tensor<3x5xi32> -> tensor<3x4x5xi32>
// CHECK:       ajit.reduce sum %{{.+}}, axes = [2], keepdims = true : tensor<3x4x5xi32> -> tensor<3x4x1xi32>
// CHECK-NOT:   ajit.dot
func.func @batched_matvec(%a: tensor<3x4x5xi32>, %b: tensor<3x5x1xi32>) -> tensor<3x4x1xi32> {
  %c = ajit.dot %a, %b : tensor<3x4x5xi32>, tensor<3x5x1xi32> -> tensor<3x4x1xi32>
  return %c : tensor<3x4x1xi32>
}

// -----

// transpose(A) x v (grad's A^T r) reads A in its own order: a sum over its rows.
// CHECK-LABEL: func.func @transposed_matvec
// CHECK-SAME:  (%[[A:.+]]: tensor<1000x100xf32>, %[[V:.+]]: tensor<1000x1xf32>)
// CHECK-NOT:   ajit.transpose
// CHECK:       %[[COL:.+]] = ajit.reshape %[[V]] : tensor<1000x1xf32> -> tensor<1000xf32>
// CHECK:       %[[S:.+]] = ajit.broadcast_in_dim %[[COL]], dims = [0] : tensor<1000xf32> -> tensor<1000x100xf32>
// CHECK:       %[[P:.+]] = ajit.mul %[[A]], %[[S]] : tensor<1000x100xf32>
// CHECK:       %[[R:.+]] = ajit.reduce sum %[[P]], axes = [0], keepdims = false : tensor<1000x100xf32> -> tensor<100xf32>
// CHECK:       ajit.reshape %[[R]] : tensor<100xf32> -> tensor<100x1xf32>
// CHECK-NOT:   ajit.dot
func.func @transposed_matvec(%a: tensor<1000x100xf32>, %v: tensor<1000x1xf32>) -> tensor<100x1xf32> {
  %t = ajit.transpose %a, perm = [1, 0] : tensor<1000x100xf32> -> tensor<100x1000xf32>
  %c = ajit.dot %t, %v : tensor<100x1000xf32>, tensor<1000x1xf32> -> tensor<100x1xf32>
  return %c : tensor<100x1xf32>
}

// -----

// Two columns or more stay products.
// CHECK-LABEL: func.func @two_columns
// CHECK:       ajit.dot
func.func @two_columns(%a: tensor<8x4xf32>, %b: tensor<4x2xf32>) -> tensor<8x2xf32> {
  %c = ajit.dot %a, %b : tensor<8x4xf32>, tensor<4x2xf32> -> tensor<8x2xf32>
  return %c : tensor<8x2xf32>
}
