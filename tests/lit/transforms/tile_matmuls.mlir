// --ajit-tile-matmuls: f32 products on buffers become a parallel loop over output tiles
// calling the micro-kernel; an output fusion's epilogue runs on each tile in place.
// RUN: ajit-opt %s --split-input-file --ajit-tile-matmuls=threads=2 --cse | FileCheck %s

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// Linear + bias + ReLU (9.8 MFLOP: split across the workers), the product in a temporary:
// B is packed (96 KiB, 200 rows reuse it), the tiles (108 x 64 here: at least two per worker)
// call the kernel into the output, and the epilogue reads and writes that tile. The
// temporary is gone.
// CHECK-LABEL: func.func @linear_relu
// CHECK-NOT:   memref.alloc
// CHECK:       %[[P:.+]] = call @ajit_rt_buffer_acquire
// CHECK:       scf.parallel
// CHECK:         func.call @ajit_uk_sgemm_pack_b
// CHECK:       } {ajit.tile_loop}
// CHECK:       scf.parallel
// CHECK:         func.call @ajit_uk_sgemm(
// CHECK:         %[[OUT:.+]] = memref.subview %arg3[%{{.+}}, %{{.+}}] [%{{.+}}, %{{.+}}] [1, 1]
// CHECK:         %[[BIAS:.+]] = memref.subview %arg2[%{{.+}}] [%{{.+}}] [1]
// CHECK:         linalg.generic {{.*}} ins(%[[OUT]], %[[BIAS]] : {{.*}}) outs(%[[OUT]] :
// CHECK-NOT:       ajit.matmul_epilogue
// CHECK:       } {ajit.tile_loop}
// CHECK:       call @ajit_rt_buffer_release(%[[P]]
// CHECK-NOT:   linalg.fill
// CHECK-NOT:   memref.dealloc
// CHECK:       return
func.func @linear_relu(%x: memref<200x256xf32>, %w: memref<256x96xf32>, %b: memref<96xf32>, %out: memref<200x96xf32>) {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<200x96xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<200x96xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<200x256xf32>, memref<256x96xf32>) outs(%t : memref<200x96xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t, %b : memref<200x96xf32>, memref<96xf32>) outs(%out : memref<200x96xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%h: f32, %bias: f32, %o: f32):
    %s = arith.addf %h, %bias : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  }
  memref.dealloc %t : memref<200x96xf32>
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>

// A row vector times a matrix: B is read in place (no pack), flags 0.
// CHECK-LABEL: func.func @row_vector
// CHECK-NOT:   ajit_uk_sgemm_pack_b
// CHECK-NOT:   ajit_rt_buffer_acquire
// CHECK:       %[[C0:.+]] = arith.constant 0 : index
// CHECK:       func.call @ajit_uk_sgemm({{.*}}, %[[C0]]) :
func.func @row_vector(%x: memref<1x64xf32>, %w: memref<64x96xf32>, %out: memref<1x96xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<1x96xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<1x64xf32>, memref<64x96xf32>) outs(%out : memref<1x96xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>

// f64 has no micro-kernel: the product stays a linalg op (plain loops later).
// CHECK-LABEL: func.func @no_kernel_f64
// CHECK-NOT:   func.call
// CHECK:       linalg.fill
// CHECK:       linalg.generic {{.*}}ajit.matmul
func.func @no_kernel_f64(%x: memref<16x8xf64>, %w: memref<8x4xf64>, %out: memref<16x4xf64>) {
  %zero = arith.constant 0.0 : f64
  linalg.fill ins(%zero : f64) outs(%out : memref<16x4xf64>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<16x8xf64>, memref<8x4xf64>) outs(%out : memref<16x4xf64>) attrs = {ajit.matmul} {
  ^bb0(%a: f64, %bb: f64, %acc: f64):
    %p = arith.mulf %a, %bb : f64
    %s = arith.addf %acc, %p : f64
    linalg.yield %s : f64
  }
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// The product has another reader (a copy out): it is computed whole by the kernel and the
// marked epilogue stays a full pass after it. (Small: the tiles run on the calling thread.)
// CHECK-LABEL: func.func @product_read_twice
// CHECK-NOT:   scf.parallel
// CHECK:       scf.for
// CHECK:         func.call @ajit_uk_sgemm(
// CHECK-NOT:     linalg.generic
// CHECK:       }
// CHECK:       memref.copy
// CHECK:       linalg.generic {{.*}}ajit.matmul_epilogue
func.func @product_read_twice(%x: memref<16x8xf32>, %w: memref<8x4xf32>, %out: memref<16x4xf32>, %out2: memref<16x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<16x4xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<16x4xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<16x8xf32>, memref<8x4xf32>) outs(%t : memref<16x4xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  memref.copy %t, %out2 : memref<16x4xf32> to memref<16x4xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<16x4xf32>) outs(%out : memref<16x4xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%h: f32, %o: f32):
    %r = arith.maximumf %h, %zero : f32
    linalg.yield %r : f32
  }
  memref.dealloc %t : memref<16x4xf32>
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>

// A product with no rows has no tiles: it stays linalg (its loops run zero times). The
// tile sizes divided by zero here before.
// CHECK-LABEL: func.func @zero_rows
// CHECK-NOT:   func.call
// CHECK:       linalg.generic {{.*}}ajit.matmul
func.func @zero_rows(%x: memref<0x8xf32>, %w: memref<8x4xf32>, %out: memref<0x4xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<0x4xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<0x8xf32>, memref<8x4xf32>) outs(%out : memref<0x4xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A small B (48 KiB: its rows stay in L1) is read in place, as is any B for 32 rows or
// fewer: no pack call, no pool buffer, the kernel's flags 0.
#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>

// CHECK-LABEL: func.func @small_b_in_place
// CHECK-NOT:   ajit_uk_sgemm_pack_b
// CHECK-NOT:   ajit_rt_buffer_acquire
// CHECK:       %[[B:.+]] = memref.extract_aligned_pointer_as_index %arg1
// CHECK:       func.call @ajit_uk_sgemm(%{{.+}}, %c128, %{{.+}}, %c96, %{{.+}}, %c96, %{{.+}}, %{{.+}}, %c128, %c0)
func.func @small_b_in_place(%x: memref<200x128xf32>, %w: memref<128x96xf32>, %out: memref<200x96xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<200x96xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<200x128xf32>, memref<128x96xf32>) outs(%out : memref<200x96xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// 32 rows read even a large B (784x512, 1.5 MiB) in place: packing it would cost more
// than the 32 rows save.
#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>

// CHECK-LABEL: func.func @few_rows_in_place
// CHECK-NOT:   ajit_uk_sgemm_pack_b
// CHECK:       func.call @ajit_uk_sgemm(
func.func @few_rows_in_place(%x: memref<32x784xf32>, %w: memref<784x512xf32>, %out: memref<32x512xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<32x512xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<32x784xf32>, memref<784x512xf32>) outs(%out : memref<32x512xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
