// Matmul tile sizes follow the worker count the runtime will use (the CPU target passes
// AJIT_NUM_THREADS as `threads`): on one thread, tall row tiles reuse each 1 MiB block
// of packed B in L2 across ~576 rows (balanced: 1000 rows as two of 504); on two, tiles
// of 144 rows measured faster. Columns: at most 512 (B's panels of a k block), balanced
// in whole 32-column panels (768 as two of 384).
// RUN: ajit-opt %s --ajit-tile-matmuls=threads=1 --cse | FileCheck %s --check-prefix=ONE
// RUN: ajit-opt %s --ajit-tile-matmuls=threads=2 --cse | FileCheck %s --check-prefix=TWO

// 2 x 2 tiles of 504 x 384 (the last row tile 496), on the calling thread.
// ONE-LABEL: func.func @linear
// ONE-NOT:   scf.parallel
// ONE:       func.call @ajit_uk_sgemm_pack_b(
// ONE:       scf.for %{{.+}} = %{{.+}} to %c4 step
// ONE:         arith.constant 504 : index
// ONE:         arith.constant 384 : index
// ONE:         func.call @ajit_uk_sgemm(

// 7 x 2 tiles of 144 x 384, split across the workers.
// TWO-LABEL: func.func @linear
// TWO:       %[[C14:.+]] = arith.constant 14 : index
// TWO:       scf.parallel (%{{.+}}) = (%{{.+}}) to (%[[C14]]) step
// TWO:         arith.constant 144 : index
// TWO:         arith.constant 384 : index
// TWO:         func.call @ajit_uk_sgemm(
#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @linear(%x: memref<1000x512xf32>, %w: memref<512x768xf32>, %out: memref<1000x768xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<1000x768xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<1000x512xf32>, memref<512x768xf32>) outs(%out : memref<1000x768xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
