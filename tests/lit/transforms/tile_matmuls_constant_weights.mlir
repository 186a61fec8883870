// A constant B (weights captured with ajit::constant) is packed at compile time into a
// new constant global of 32-column panels (zero-padded, 64-byte aligned) that the kernel
// reads with the packed flag: no ajit_uk_sgemm_pack_b call and no pool buffer per call.
// A B that is a mutable global is not packed at compile time; two products of the same
// weights share one packed global.
// RUN: ajit-opt %s --ajit-tile-matmuls=threads=1 --canonicalize --symbol-dce | FileCheck %s
// RUN: ajit-opt %s --ajit-tile-matmuls=threads=1 | grep -c 'memref.global "private" constant @w_packed' \
// RUN:   | FileCheck %s --check-prefix=ONCE
// ONCE: {{^1$}}
// RUN: ajit-opt %s --ajit-tile-matmuls=threads=1 | FileCheck %s --check-prefix=RENAME
// A name taken already: the packed global gets a fresh one.
// RENAME-DAG: memref.global "private" constant @v_packed : memref<2x3xf32>
// RENAME-DAG: memref.global "private" constant @[[V:v_packed_[0-9]+]] : memref<64xf32>
// RENAME:     func.func @taken
// RENAME:       memref.get_global @[[V]] : memref<64xf32>

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>

// k = 2, n = 3: one panel of 2 rows x 32 columns, the row's 3 values then 29 zeros.
// CHECK:     memref.global "private" constant @w_packed : memref<64xf32> =
// CHECK-SAME:  dense<[1.000000e+00, 2.000000e+00, 3.000000e+00{{(, 0.000000e\+00){29}(, )}}4.000000e+00, 5.000000e+00, 6.000000e+00{{(, 0.000000e\+00){29}(\])}}> {alignment = 64 : i64}
// CHECK-NOT: memref.global "private" constant @w :
memref.global "private" constant @w : memref<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
memref.global "private" constant @v : memref<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
memref.global "private" constant @v_packed : memref<2x3xf32> = dense<0.5>
memref.global "private" @mutable : memref<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>

// CHECK-LABEL: func.func @frozen
// CHECK-NOT:     ajit_rt_buffer_acquire
// CHECK-NOT:     ajit_uk_sgemm_pack_b
// CHECK:         %[[G:.+]] = memref.get_global @w_packed : memref<64xf32>
// CHECK:         %[[P:.+]] = memref.extract_aligned_pointer_as_index %[[G]]
// CHECK:         call @ajit_uk_sgemm(%{{.+}}, %{{.+}}, %[[P]], {{.+}}, %c1)
// CHECK-NOT:     ajit_rt_buffer_release
func.func @frozen(%x: memref<8x2xf32>, %out: memref<8x3xf32>) {
  %w = memref.get_global @w : memref<2x3xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<8x3xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<8x2xf32>, memref<2x3xf32>) outs(%out : memref<8x3xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A mutable global is not packed at compile time; 8 rows read it in place.
// CHECK-LABEL: func.func @updatable
// CHECK-NOT:     _packed
// CHECK:         %[[M:.+]] = memref.get_global @mutable
// CHECK:         %[[P:.+]] = memref.extract_aligned_pointer_as_index %[[M]]
// CHECK:         call @ajit_uk_sgemm(%{{.+}}, %{{.+}}, %[[P]], {{.+}}, %c0)
func.func @updatable(%x: memref<8x2xf32>, %out: memref<8x3xf32>) {
  %w = memref.get_global @mutable : memref<2x3xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<8x3xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<8x2xf32>, memref<2x3xf32>) outs(%out : memref<8x3xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @frozen_again
// CHECK:         memref.get_global @w_packed : memref<64xf32>
func.func @frozen_again(%x: memref<8x2xf32>, %out: memref<8x3xf32>) {
  %w = memref.get_global @w : memref<2x3xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<8x3xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<8x2xf32>, memref<2x3xf32>) outs(%out : memref<8x3xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

func.func @taken(%x: memref<8x2xf32>, %out: memref<8x3xf32>) -> memref<2x3xf32> {
  %v = memref.get_global @v : memref<2x3xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<8x3xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %v : memref<8x2xf32>, memref<2x3xf32>) outs(%out : memref<8x3xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %other = memref.get_global @v_packed : memref<2x3xf32>
  return %other : memref<2x3xf32>
}
