// Bufferization gives the layers of an MLP one product buffer in turn: product 1 in
// %buf, its epilogue into %h, then a new fill of %buf for product 2, whose epilogue
// writes %buf in place and is read by the next layer. Each product's value lives from its
// fill to the next fill (or to an in-place epilogue, whose value later readers see), so
// both epilogues still run per tile (the clones lose the ajit.matmul_epilogue mark). A
// reader of the raw product in that range keeps the epilogue whole.
// RUN: ajit-opt %s --ajit-tile-matmuls=threads=1 | FileCheck %s

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// CHECK-LABEL: func.func @two_layers
// CHECK:         %[[H:.+]] = memref.alloc() : memref<16x64xf32>
// CHECK:         call @ajit_uk_sgemm(
// CHECK:         %[[HT:.+]] = memref.subview %[[H]]
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}subview{{.*}}) outs(%[[HT]]
// CHECK:         call @ajit_uk_sgemm(
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}subview{{.*}}) outs(%{{.*}}subview
// CHECK-NOT:     ajit.matmul_epilogue
// CHECK:         return
func.func @two_layers(%x: memref<16x32xf32>, %w1: memref<32x64xf32>, %b1: memref<64xf32>,
                      %w2: memref<64x64xf32>, %b2: memref<64xf32>, %out: memref<16x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %buf = memref.alloc() : memref<16x64xf32>
  linalg.fill ins(%zero : f32) outs(%buf : memref<16x64xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w1 : memref<16x32xf32>, memref<32x64xf32>) outs(%buf : memref<16x64xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %h = memref.alloc() : memref<16x64xf32>
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%buf, %b1 : memref<16x64xf32>, memref<64xf32>) outs(%h : memref<16x64xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  }
  linalg.fill ins(%zero : f32) outs(%buf : memref<16x64xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%h, %w2 : memref<16x64xf32>, memref<64x64xf32>) outs(%buf : memref<16x64xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%buf, %b2 : memref<16x64xf32>, memref<64xf32>) outs(%buf : memref<16x64xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  }
  memref.copy %buf, %out : memref<16x64xf32> to memref<16x64xf32>
  memref.dealloc %buf : memref<16x64xf32>
  memref.dealloc %h : memref<16x64xf32>
  return
}

// The copy reads the raw product before the epilogue: the epilogue stays whole.
// CHECK-LABEL: func.func @raw_product_read
// CHECK:         call @ajit_uk_sgemm(
// CHECK:         memref.copy
// CHECK:         linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : memref<16x64xf32>, memref<64xf32>) {{.*}}ajit.matmul_epilogue
func.func @raw_product_read(%x: memref<16x32xf32>, %w1: memref<32x64xf32>, %b1: memref<64xf32>,
                            %raw: memref<16x64xf32>, %out: memref<16x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %buf = memref.alloc() : memref<16x64xf32>
  linalg.fill ins(%zero : f32) outs(%buf : memref<16x64xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w1 : memref<16x32xf32>, memref<32x64xf32>) outs(%buf : memref<16x64xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  memref.copy %buf, %raw : memref<16x64xf32> to memref<16x64xf32>
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%buf, %b1 : memref<16x64xf32>, memref<64xf32>) outs(%out : memref<16x64xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  }
  memref.dealloc %buf : memref<16x64xf32>
  return
}

// A view of the buffer taken before the fill reads the product after it: a reader
// wherever the view stands, so the epilogue stays whole.
// CHECK-LABEL: func.func @view_before_fill
// CHECK:         call @ajit_uk_sgemm(
// CHECK:         linalg.generic {{.*}}ajit.matmul_epilogue
func.func @view_before_fill(%x: memref<16x32xf32>, %w1: memref<32x64xf32>, %b1: memref<64xf32>,
                            %flat: memref<1024xf32>, %out: memref<16x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %buf = memref.alloc() : memref<16x64xf32>
  %v = memref.collapse_shape %buf [[0, 1]] : memref<16x64xf32> into memref<1024xf32>
  linalg.fill ins(%zero : f32) outs(%buf : memref<16x64xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w1 : memref<16x32xf32>, memref<32x64xf32>) outs(%buf : memref<16x64xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%buf, %b1 : memref<16x64xf32>, memref<64xf32>) outs(%out : memref<16x64xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%in: f32, %c: f32, %o: f32):
    %s = arith.addf %in, %c : f32
    linalg.yield %s : f32
  }
  memref.copy %v, %flat : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %buf : memref<16x64xf32>
  return
}

// A read between the fill and the product would see the zeros the fill leaves: the
// product stays as it is (no kernel call).
// CHECK-LABEL: func.func @read_between_fill_and_product
// CHECK-NOT:     ajit_uk_sgemm
// CHECK:         linalg.fill
// CHECK:         return
func.func @read_between_fill_and_product(%x: memref<16x32xf32>, %w1: memref<32x64xf32>, %z: memref<16x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %buf = memref.alloc() : memref<16x64xf32>
  linalg.fill ins(%zero : f32) outs(%buf : memref<16x64xf32>)
  memref.copy %buf, %z : memref<16x64xf32> to memref<16x64xf32>
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w1 : memref<16x32xf32>, memref<32x64xf32>) outs(%buf : memref<16x64xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  memref.dealloc %buf : memref<16x64xf32>
  return
}
