// RUN: ajit-opt %s --ajit-reuse-donated-inputs --split-input-file | FileCheck %s

// SGD-momentum: both updates are elementwise, so p' takes p's buffer and b takes m's.
// The reads of p and m now read the results' buffers.
// CHECK-LABEL: func.func @sgd
// CHECK-SAME:    -> (memref<8x16xf32> {ajit.reuses_input = 0 : i64}, memref<8x16xf32> {ajit.reuses_input = 2 : i64})
// CHECK:         %[[P:.+]] = memref.alloc()
// CHECK-NEXT:    %[[B:.+]] = memref.alloc()
// CHECK:         linalg.generic {{.*}} ins(%[[P]], %arg1, %[[B]] : {{.*}}) outs(%[[P]], %[[B]] :
// CHECK:         return %[[P]], %[[B]]
func.func @sgd(%p: memref<8x16xf32> {ajit.donate}, %g: memref<8x16xf32>, %m: memref<8x16xf32> {ajit.donate})
    -> (memref<8x16xf32>, memref<8x16xf32>) {
  %mom = arith.constant 0.9 : f32
  %lr = arith.constant 0.001 : f32
  %p1 = memref.alloc() : memref<8x16xf32>
  %b = memref.alloc() : memref<8x16xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%p, %g, %m : memref<8x16xf32>, memref<8x16xf32>, memref<8x16xf32>)
      outs(%p1, %b : memref<8x16xf32>, memref<8x16xf32>) {
  ^bb0(%pi: f32, %gi: f32, %mi: f32, %o0: f32, %o1: f32):
    %0 = arith.mulf %mi, %mom : f32
    %1 = arith.addf %0, %gi : f32
    %2 = arith.mulf %1, %lr : f32
    %3 = arith.subf %pi, %2 : f32
    linalg.yield %3, %1 : f32, f32
  }
  return %p1, %b : memref<8x16xf32>, memref<8x16xf32>
}

// -----

// x - rowsum(x): the reduction reads x before the result is first written, the
// subtraction reads it element by element: reused.
// CHECK-LABEL: func.func @center_rows
// CHECK-SAME:    -> (memref<8x16xf32> {ajit.reuses_input = 0 : i64})
func.func @center_rows(%x: memref<8x16xf32> {ajit.donate}) -> memref<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %sum = memref.alloc() : memref<8xf32>
  linalg.fill ins(%zero : f32) outs(%sum : memref<8xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%sum : memref<8xf32>) {
  ^bb0(%xi: f32, %acc: f32):
    %0 = arith.addf %xi, %acc : f32
    linalg.yield %0 : f32
  }
  %y = memref.alloc() : memref<8x16xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %sum : memref<8x16xf32>, memref<8xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%xi: f32, %si: f32, %o: f32):
    %0 = arith.subf %xi, %si : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %sum : memref<8xf32>
  return %y : memref<8x16xf32>
}

// -----

// no_reuse: x + transpose(x) reads x[j][i] after y[i][j] may have overwritten it.
// CHECK-LABEL: func.func @no_reuse_transposed_read
// CHECK-NOT:     ajit.reuses_input
// CHECK:         linalg.generic {{.*}} ins(%arg0, %arg0 :
func.func @no_reuse_transposed_read(%x: memref<16x16xf32> {ajit.donate}) -> memref<16x16xf32> {
  %y = memref.alloc() : memref<16x16xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %x : memref<16x16xf32>, memref<16x16xf32>) outs(%y : memref<16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %0 = arith.addf %a, %b : f32
    linalg.yield %0 : f32
  }
  return %y : memref<16x16xf32>
}

// -----

// no_reuse: x is read again after y is written (by the second result's kernel), and a
// result of another shape never takes x's buffer.
// CHECK-LABEL: func.func @no_reuse_read_after_write
// CHECK-NOT:     ajit.reuses_input
// CHECK:         return
func.func @no_reuse_read_after_write(%x: memref<8x16xf32> {ajit.donate}) -> (memref<8x16xf32>, memref<8xf32>) {
  %zero = arith.constant 0.0 : f32
  %y = memref.alloc() : memref<8x16xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x16xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.mulf %a, %a : f32
    linalg.yield %0 : f32
  }
  %s = memref.alloc() : memref<8xf32>
  linalg.fill ins(%zero : f32) outs(%s : memref<8xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%s : memref<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %0 = arith.addf %a, %acc : f32
    linalg.yield %0 : f32
  }
  return %y, %s : memref<8x16xf32>, memref<8xf32>
}

// -----

// no_reuse: a matmul reads a row of x for every element of its result.
// CHECK-LABEL: func.func @no_reuse_matmul
// CHECK-NOT:     ajit.reuses_input
// CHECK:         linalg.matmul ins(%arg0, %arg0
func.func @no_reuse_matmul(%x: memref<16x16xf32> {ajit.donate}) -> memref<16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %y = memref.alloc() : memref<16x16xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<16x16xf32>)
  linalg.matmul ins(%x, %x : memref<16x16xf32>, memref<16x16xf32>) outs(%y : memref<16x16xf32>)
  return %y : memref<16x16xf32>
}

// -----

// One donated buffer, two candidate results: the first takes it; an argument that was
// not donated is never reused.
// CHECK-LABEL: func.func @one_buffer_one_result
// CHECK-SAME:    -> (memref<64xf32> {ajit.reuses_input = 1 : i64}, memref<64xf32>)
func.func @one_buffer_one_result(%a: memref<64xf32>, %b: memref<64xf32> {ajit.donate}) -> (memref<64xf32>, memref<64xf32>) {
  %s = memref.alloc() : memref<64xf32>
  %d = memref.alloc() : memref<64xf32>
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%a, %b : memref<64xf32>, memref<64xf32>) outs(%s, %d : memref<64xf32>, memref<64xf32>) {
  ^bb0(%x: f32, %y: f32, %o0: f32, %o1: f32):
    %0 = arith.addf %x, %y : f32
    %1 = arith.subf %x, %y : f32
    linalg.yield %0, %1 : f32, f32
  }
  return %s, %d : memref<64xf32>, memref<64xf32>
}

// -----

// no_reuse: h' = h x W + b with the bias add as the matmul's epilogue. ajit-tile-matmuls
// writes each tile of the product into the result's buffer before the epilogue runs, while
// other tiles still read rows of h: the result is written from the matmul on.
// CHECK-LABEL: func.func @no_reuse_matmul_epilogue
// CHECK-NOT:     ajit.reuses_input
// CHECK:         linalg.matmul ins(%arg0, %arg1
func.func @no_reuse_matmul_epilogue(%h: memref<16x16xf32> {ajit.donate}, %w: memref<16x16xf32>, %b: memref<16xf32>)
    -> memref<16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<16x16xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<16x16xf32>)
  linalg.matmul ins(%h, %w : memref<16x16xf32>, memref<16x16xf32>) outs(%t : memref<16x16xf32>)
  %y = memref.alloc() : memref<16x16xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%t, %b : memref<16x16xf32>, memref<16xf32>) outs(%y : memref<16x16xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%ti: f32, %bi: f32, %o: f32):
    %0 = arith.addf %ti, %bi : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %t : memref<16x16xf32>
  return %y : memref<16x16xf32>
}
