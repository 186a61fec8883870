// RUN: ajit-opt %s --split-input-file --convert-linalg-to-parallel-loops --ajit-parallelize-outer-loops | FileCheck %s

// The work of a nest is its iterations times the cost of one: 1 per arithmetic op and per
// element loaded or stored, 16 per transcendental. From 2^18 units the outermost loop stays
// parallel (for libomp's workers); below, the nest runs on the calling thread.

// An add reads two elements and writes one: 4 units per element. 40K elements (160K
// units) stay on one thread; 70K (280K units) are split.
// CHECK-LABEL: func.func @add_40k
// CHECK-NOT:   scf.parallel
// CHECK:       scf.for
// CHECK-LABEL: func.func @add_70k
// CHECK:       scf.parallel
func.func @add_40k(%a: memref<40000xf32>, %b: memref<40000xf32>, %o: memref<40000xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%a, %b : memref<40000xf32>, memref<40000xf32>) outs(%o : memref<40000xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}
func.func @add_70k(%a: memref<70000xf32>, %b: memref<70000xf32>, %o: memref<70000xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%a, %b : memref<70000xf32>, memref<70000xf32>) outs(%o : memref<70000xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// exp: 18 units per element. 10K elements (180K) on one thread (split in two, W2's exp
// at 10K ran 2.3 -> 3.2 us); 20K (360K) split.
// CHECK-LABEL: func.func @exp_10k
// CHECK-NOT:   scf.parallel
// CHECK:       scf.for
// CHECK-LABEL: func.func @exp_20k
// CHECK:       scf.parallel
func.func @exp_10k(%a: memref<10000xf32>, %o: memref<10000xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a : memref<10000xf32>) outs(%o : memref<10000xf32>) {
  ^bb0(%x: f32, %z: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  }
  return
}
func.func @exp_20k(%a: memref<20000xf32>, %o: memref<20000xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a : memref<20000xf32>) outs(%o : memref<20000xf32>) {
  ^bb0(%x: f32, %z: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  }
  return
}

// -----

// A 2-D nest keeps only its outermost dimension parallel; the inner one becomes a loop
// inside it for the vectorizer.
// CHECK-LABEL: func.func @rows
// CHECK:       scf.parallel
// CHECK:         scf.for
// CHECK-NOT:   scf.parallel
func.func @rows(%a: memref<64x8192xf32>, %o: memref<64x8192xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<64x8192xf32>) outs(%o : memref<64x8192xf32>) {
  ^bb0(%x: f32, %z: f32):
    %s = arith.mulf %x, %x : f32
    linalg.yield %s : f32
  }
  return
}
