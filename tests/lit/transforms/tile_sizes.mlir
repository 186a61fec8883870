// Matmul tile sizes follow the worker count the runtime will use (the CPU target passes
// AJIT_NUM_THREADS as `threads`): on one thread, tall row tiles reuse each 1 MiB block
// of packed B in L2 across ~576 rows (balanced: 1000 rows as two of 504); on two, tiles
// of 144 rows measured faster. Columns: at most 512 (B's panels of a k block), balanced
// in whole 32-column panels (768 as two of 384). On two threads a product with no more
// rows than columns and at least two panels per worker is split by columns instead: each
// worker packs its own run of panels and computes all rows of them, tiled as on one thread.
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
// TWO-NOT:   ajit_uk_sgemm_pack_b
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

// One thread: as @linear, one row tile of 512 here.
// ONE-LABEL: func.func @wide
// ONE-NOT:   scf.parallel
// ONE:       func.call @ajit_uk_sgemm(

// Two threads, 512 rows <= 768 columns: one parallel region over the two workers, panels
// [w * 24 / 2, (w + 1) * 24 / 2) packed by the worker that uses them, then its columns in
// blocks of 384 and its rows in one tile of 512.
// TWO-LABEL: func.func @wide
// TWO:       %[[BUF:.+]] = call @ajit_rt_buffer_acquire
// TWO:       scf.parallel (%{{.+}}) = (%{{.+}}) to (%c2) step
// TWO:         %[[P0:.+]] = arith.divui %{{.+}}, %c2
// TWO:         %[[P1:.+]] = arith.divui %{{.+}}, %c2
// TWO:         func.call @ajit_uk_sgemm_pack_b(%{{.+}}, %c768, %c512, %c768, %[[P0]], %[[P1]], %{{.+}})
// TWO:         %[[HI:.+]] = arith.minsi %c768, %{{.+}}
// TWO:         %[[LO:.+]] = arith.muli %[[P0]], %c32
// TWO:         scf.for %[[J:.+]] = %[[LO]] to %[[HI]] step %c384
// TWO:           arith.subi %[[HI]], %[[J]]
// TWO:           scf.for %{{.+}} = %c0 to %c512 step %c512
// TWO:             func.call @ajit_uk_sgemm(
// TWO-NOT:   scf.parallel
// TWO:       call @ajit_rt_buffer_release(%[[BUF]]
func.func @wide(%x: memref<512x512xf32>, %w: memref<512x768xf32>, %out: memref<512x768xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<512x768xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<512x512xf32>, memref<512x768xf32>) outs(%out : memref<512x768xf32>) attrs = {ajit.matmul} {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
