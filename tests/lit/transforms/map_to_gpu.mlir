// --ajit-map-to-gpu: each kernel on buffers becomes a gpu.launch; parallel loop nests
// get one thread per iteration (flattened, innermost fastest, a guard for the last
// block), reductions loop inside the thread, 0-d work runs on one thread.
// RUN: ajit-opt %s --ajit-map-to-gpu --canonicalize | FileCheck %s
//
// The whole PTX pipeline on graph IR: one gpu.module of PTX for the function, a host
// function of launches only.
// RUN: ajit-opt %s --split-input-file --ajit-ptx-pipeline 2>&1 | FileCheck %s --check-prefix=PTX

#id1 = affine_map<(d0) -> (d0)>
#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#res = affine_map<(d0, d1, d2) -> (d0, d2)>
#all = affine_map<(d0) -> ()>

// 1000 elements, 4 consecutive ones per thread: 250 threads in one block of 256, the
// last 6 idle. Each thread loads its 4 elements, computes them, then stores the 4 (the
// stores after every load, so that LLVM can join each group into one 16-byte access);
// the buffers are marked 16-byte aligned at the top of the kernel.
// Each tiled product's kernel asks for two blocks per SM (ajit-set-kernel-occupancy
// puts that on the outlined kernel); no other kernel asks anything.
// CHECK:       module attributes {ajit.min_blocks_per_sm = {dot_accumulates_k0 = 2 : i32, dot_epilogue_k0 = 2 : i32, dot_fill_across_other_work_k1 = 2 : i32, dot_fill_not_next_k2 = 2 : i32, dot_k0 = 2 : i32, no_fuse_transposed_epilogue_k0 = 2 : i32}}
// CHECK-LABEL: func.func @h
// CHECK-DAG:   %[[N:.+]] = arith.constant 250 : index
// CHECK-DAG:   %[[B:.+]] = arith.constant 256 : index
// CHECK-DAG:   %[[ONE:.+]] = arith.constant 1 : index
// CHECK-DAG:   %[[FOUR:.+]] = arith.constant 4 : index
// CHECK:       gpu.launch blocks(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %[[ONE]], {{.+}} threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[B]], {{.+}} module(@h_kernels) function(@h_k0)
// CHECK-NEXT:    %[[X:.+]] = memref.assume_alignment %arg0, 16
// CHECK-NEXT:    %[[OUT:.+]] = memref.assume_alignment %arg1, 16
// CHECK:         %[[IN:.+]] = arith.cmpi ult, %[[TX]], %[[N]]
// CHECK:         scf.if %[[IN]] {
// CHECK:           %[[I0:.+]] = arith.muli %[[TX]], %[[FOUR]]
// CHECK:           %[[I1:.+]] = arith.addi %[[I0]], %[[ONE]]
// CHECK:           %[[I2:.+]] = arith.addi %[[I0]], %c2
// CHECK:           %[[I3:.+]] = arith.addi %[[I0]], %c3
// CHECK:           memref.load %[[X]][%[[I0]]]
// CHECK-NEXT:      math.exp
// CHECK-NEXT:      memref.load %[[X]][%[[I1]]]
// CHECK-NEXT:      math.exp
// CHECK-NEXT:      memref.load %[[X]][%[[I2]]]
// CHECK-NEXT:      math.exp
// CHECK-NEXT:      memref.load %[[X]][%[[I3]]]
// CHECK-NEXT:      math.exp
// CHECK-NEXT:      memref.store %{{.+}}, %[[OUT]][%[[I0]]]
// CHECK-NEXT:      memref.store %{{.+}}, %[[OUT]][%[[I1]]]
// CHECK-NEXT:      memref.store %{{.+}}, %[[OUT]][%[[I2]]]
// CHECK-NEXT:      memref.store %{{.+}}, %[[OUT]][%[[I3]]]
// CHECK:       gpu.terminator
// CHECK-NOT:   gpu.launch
// CHECK:       return
func.func @h(%x: memref<1000xf32>, %out: memref<1000xf32>) {
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%x : memref<1000xf32>) outs(%out : memref<1000xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  return
}

// A product in ajit.dot's (m, k, n) order, marked ajit.matmul, its output zero-filled
// just before: one kernel, the fill folded into it (the accumulators start at 0.0; no
// fill launch, no loads of the output). One block of 256 threads for the one 128 x 128
// tile, two blocks per SM asked of ptxas (the module's ajit.min_blocks_per_sm), the A
// and B tiles double-buffered in workgroup memory: the first step's tiles go into
// buffer 0 before the k loop; each step loads the next tiles from global memory first,
// runs its 8 k-rows (unrolled) from buffer (k0 / 8) % 2, stores the next tiles into the
// other buffer, and ends at its one barrier. The 64 outputs are stored where in range.
// CHECK-LABEL: func.func @dot(
// CHECK-NOT:   linalg.fill
// CHECK:       %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:       gpu.launch blocks({{.+}}) in (%{{.+}} = %c1, {{.+}} threads({{.+}}) in (%{{.+}} = %c256, {{.+}} function(@dot_k0) workgroup(%[[AT:.+]] : memref<2x8x132xf32, #gpu.address_space<workgroup>>, %[[BT:.+]] : memref<2x8x128xf32, #gpu.address_space<workgroup>>)
// CHECK:         %[[C2:.+]] = memref.assume_alignment %arg2, 16
// CHECK-NOT:     memref.load %[[C2]]
// CHECK:         memref.store %{{.+}}, %[[AT]][%c0, %{{.+}}, %{{.+}}]
// CHECK:         memref.store %{{.+}}, %[[BT]][%c0, %{{.+}}, %{{.+}}]
// CHECK:         gpu.barrier
// CHECK-NEXT:    %[[OUT:.+]]:64 = scf.for %[[K0:.+]] = %c0 to %c64 step %c8 iter_args(%{{.+}} = %[[ZERO]],
// CHECK-NEXT:      %[[STEP:.+]] = arith.divui %[[K0]], %c8
// CHECK-NEXT:      %[[CUR:.+]] = arith.remui %[[STEP]], %c2
// CHECK-NEXT:      %[[OTHER:.+]] = arith.subi %c1, %[[CUR]]
// CHECK:           memref.load
// CHECK-NOT:       gpu.barrier
// CHECK:           vector.load %[[AT]][%[[CUR]], %c0, %{{.+}}] : memref<2x8x132xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK:           vector.load %[[BT]][%[[CUR]], %c0, %{{.+}}] : memref<2x8x128xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK:           arith.mulf {{.+}} fastmath<contract>
// CHECK-NEXT:      arith.addf {{.+}} fastmath<contract>
// CHECK:           vector.load %[[AT]][%[[CUR]], %c7, %{{.+}}]
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.store %{{.+}}, %[[AT]][%[[OTHER]],
// CHECK:           memref.store %{{.+}}, %[[BT]][%[[OTHER]],
// CHECK:           gpu.barrier
// CHECK-NEXT:      scf.yield
// CHECK:         scf.if
// CHECK-NEXT:      memref.store %[[OUT]]#0, %[[C2]][
// CHECK-NOT:   gpu.launch
func.func @dot(%a: memref<37x64xf32>, %b: memref<64x50xf32>, %out: memref<37x50xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<37x50xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<37x64xf32>, memref<64x50xf32>) outs(%out : memref<37x50xf32>) attrs = {ajit.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m fastmath<contract> : f32
    linalg.yield %s : f32
  }
  return
}

// No fill to fold: the accumulators start from the output's values (its loads before
// the k loop). A fill of the output with a kernel between it and the product that reads
// the filled buffer stays a launch of its own.
// CHECK-LABEL: func.func @dot_accumulates(
// CHECK:       gpu.launch {{.+}} function(@dot_accumulates_k0) workgroup(
// CHECK:         %[[C:.+]] = memref.assume_alignment %arg2, 16
// CHECK:         memref.load %[[C]][
// CHECK:         scf.for
// CHECK-LABEL: func.func @dot_fill_not_next(
// CHECK:       gpu.launch {{.+}} function(@dot_fill_not_next_k0)
// CHECK:         memref.store %cst, %arg2[
// CHECK:       gpu.launch {{.+}} function(@dot_fill_not_next_k1)
// CHECK:       gpu.launch {{.+}} function(@dot_fill_not_next_k2) workgroup(
// CHECK:         memref.load %{{.+}}[
// CHECK:         scf.for
func.func @dot_accumulates(%a: memref<37x64xf32>, %b: memref<64x50xf32>, %out: memref<37x50xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<37x64xf32>, memref<64x50xf32>) outs(%out : memref<37x50xf32>) attrs = {ajit.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m fastmath<contract> : f32
    linalg.yield %s : f32
  }
  return
}
func.func @dot_fill_not_next(%a: memref<37x64xf32>, %b: memref<64x50xf32>, %out: memref<37x50xf32>,
                             %copy: memref<37x50xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<37x50xf32>)
  memref.copy %out, %copy : memref<37x50xf32> to memref<37x50xf32>
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<37x64xf32>, memref<64x50xf32>) outs(%out : memref<37x50xf32>) attrs = {ajit.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m fastmath<contract> : f32
    linalg.yield %s : f32
  }
  return
}

// The output fusion's epilogue (bias add and ReLU, in place) runs in the product's
// kernel: each output goes through it as it is stored, and the product itself is not
// stored first (the epilogue overwrites it). A transposing epilogue reads other
// threads' outputs: it stays a kernel of its own (no_fuse).
// CHECK-LABEL: func.func @dot_epilogue
// CHECK:       gpu.launch {{.+}} function(@dot_epilogue_k0) workgroup(
// CHECK:         scf.if
// CHECK-NEXT:      %[[B:.+]] = memref.load %{{.+}}[
// CHECK-NEXT:      %[[S:.+]] = arith.addf %{{.+}}, %[[B]]
// CHECK-NEXT:      %[[R:.+]] = arith.maxnumf %[[S]],
// CHECK-NEXT:      memref.store %[[R]], %{{.+}}[
// CHECK-NEXT:    }
// CHECK-NOT:   gpu.launch
// CHECK-LABEL: func.func @no_fuse_transposed_epilogue
// CHECK:       gpu.launch {{.+}} function(@no_fuse_transposed_epilogue_k0) workgroup(
// CHECK:       gpu.launch {{.+}} function(@no_fuse_transposed_epilogue_k1)
func.func @dot_epilogue(%a: memref<37x64xf32>, %b: memref<64x50xf32>, %bias: memref<50xf32>, %out: memref<37x50xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<37x64xf32>, memref<64x50xf32>) outs(%out : memref<37x50xf32>) attrs = {ajit.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m fastmath<contract> : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%out, %bias : memref<37x50xf32>, memref<50xf32>) outs(%out : memref<37x50xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%x: f32, %c: f32, %o: f32):
    %s = arith.addf %x, %c : f32
    %r = arith.maxnumf %s, %zero : f32
    linalg.yield %r : f32
  }
  return
}
func.func @no_fuse_transposed_epilogue(%a: memref<50x64xf32>, %b: memref<64x50xf32>, %prod: memref<50x50xf32>,
                                       %out: memref<50x50xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<50x64xf32>, memref<64x50xf32>) outs(%prod : memref<50x50xf32>) attrs = {ajit.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m fastmath<contract> : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%prod : memref<50x50xf32>) outs(%out : memref<50x50xf32>) attrs = {ajit.matmul_epilogue} {
  ^bb0(%x: f32, %o: f32):
    %t = arith.mulf %x, %x : f32
    linalg.yield %t : f32
  }
  return
}

// An argmax (ajit.arg_reduce, 37 rows of 130): a block per row; each thread carries
// (value, index) through the body from the row's initial pair, the linalg.index being
// the element's column; the pairs meet as one 64-bit key (ordered value bits above
// inverted index bits) in a gpu.all_reduce maxui, and thread 0 unpacks both outputs.
// CHECK-LABEL: func.func @argmax_rows
// CHECK:       gpu.launch blocks(%[[ROW:[^,]+]], {{.+}}) in (%{{.+}} = %c37, {{.+}} threads(%[[T:[^,]+]], {{.+}}) in (%{{.+}} = %c160,
// CHECK-DAG:     %[[V0:.+]] = memref.load %arg1[%[[ROW]]]
// CHECK-DAG:     %[[I0:.+]] = memref.load %arg2[%[[ROW]]]
// CHECK:         %[[P:.+]]:2 = scf.for %[[J:.+]] = %[[T]] to %c130 step %c160 iter_args(%{{.+}} = %[[V0]], %{{.+}} = %[[I0]])
// CHECK:           arith.index_cast %[[J]] : index to i64
// CHECK:         arith.bitcast %[[P]]#0 : f32 to i32
// CHECK:         %[[HIGH:.+]] = arith.shli %{{.+}}, %c32_i64 : i64
// CHECK:         %[[KEY:.+]] = arith.ori %[[HIGH]], %{{.+}} : i64
// CHECK:         gpu.all_reduce maxui %[[KEY]] uniform
// CHECK:         scf.if
// CHECK:           memref.store %{{.+}}, %arg1[%[[ROW]]]
// CHECK:           memref.store %{{.+}}, %arg2[%[[ROW]]]
func.func @argmax_rows(%x: memref<37x130xf32>, %best: memref<37xf32>, %at: memref<37xi64>) {
  %zero = arith.constant 0 : i64
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                   affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<37x130xf32>) outs(%best, %at : memref<37xf32>, memref<37xi64>) attrs = {ajit.arg_reduce = "max"} {
  ^bb0(%in: f32, %b: f32, %i: i64):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i64
    %gt = arith.cmpf ogt, %in, %b : f32
    %first = arith.cmpi eq, %ji, %zero : i64
    %take = arith.ori %gt, %first : i1
    %v = arith.select %take, %in, %b : f32
    %k = arith.select %take, %ji, %i : i64
    linalg.yield %v, %k : f32, i64
  }
  return
}

// An f64 product is no tiled kernel yet: one thread per output, k inside the thread.
// CHECK-LABEL: func.func @dot_f64
// CHECK:       gpu.launch {{.+}} threads({{.+}}) in (%{{.+}} = %c64,
// CHECK-NOT:     workgroup
// CHECK:         scf.for %{{.+}} = %c0 to %c13
// CHECK-NOT:     gpu.barrier
func.func @dot_f64(%a: memref<9x13xf64>, %b: memref<13x7xf64>, %out: memref<9x7xf64>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<9x13xf64>, memref<13x7xf64>) outs(%out : memref<9x7xf64>) attrs = {ajit.matmul} {
  ^bb0(%p: f64, %q: f64, %acc: f64):
    %m = arith.mulf %p, %q : f64
    %s = arith.addf %acc, %m fastmath<contract> : f64
    linalg.yield %s : f64
  }
  return
}

// A whole-array mean: the sum a block of 256 threads striding over the 1000 elements 4
// at a time (4 adjacent loads from the aligned input, folded in order, one 16-byte load
// in the PTX), combined by gpu.all_reduce, thread 0 folding the total into the
// accumulator's fill value (the 0-d fill is folded into the kernel: no launch of its
// own, no load of the accumulator); one thread for the division, whose load, divide and
// store have no loop around them and form one kernel. The temporary stays on the host,
// for the runtime to allocate.
// CHECK-LABEL: func.func @mean
// CHECK-DAG:   %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:   %[[ACC:.+]] = memref.alloc() : memref<f32>
// CHECK-NOT:   linalg.fill
// CHECK:       gpu.launch blocks({{.+}}) in (%{{.+}} = %c1, {{.+}} threads(%[[T:[^,]+]], {{.+}}) in (%{{.+}} = %c256, {{.+}} function(@mean_k0)
// CHECK-NEXT:    %[[X:.+]] = memref.assume_alignment %arg0, 16
// CHECK-NEXT:    %[[ACCA:.+]] = memref.assume_alignment %[[ACC]], 16
// CHECK-NEXT:    %[[FIRST4:.+]] = arith.muli %[[T]], %c4
// CHECK-NEXT:    %[[PART:.+]] = scf.for %[[I:.+]] = %[[FIRST4]] to %c1000 step %c1024 iter_args(%[[A:.+]] = %cst)
// CHECK-NEXT:      %[[X0:.+]] = memref.load %[[X]][%[[I]]]
// CHECK-NEXT:      %[[S0:.+]] = arith.addf %[[A]], %[[X0]]
// CHECK-NEXT:      %[[I1:.+]] = arith.addi %[[I]], %c1
// CHECK-NEXT:      %[[X1:.+]] = memref.load %[[X]][%[[I1]]]
// CHECK-NEXT:      %[[S1:.+]] = arith.addf %[[S0]], %[[X1]]
// CHECK-NEXT:      %[[I2:.+]] = arith.addi %[[I]], %c2
// CHECK-NEXT:      %[[X2:.+]] = memref.load %[[X]][%[[I2]]]
// CHECK-NEXT:      %[[S2:.+]] = arith.addf %[[S1]], %[[X2]]
// CHECK-NEXT:      %[[I3:.+]] = arith.addi %[[I]], %c3
// CHECK-NEXT:      %[[X3:.+]] = memref.load %[[X]][%[[I3]]]
// CHECK-NEXT:      %[[S3:.+]] = arith.addf %[[S2]], %[[X3]]
// CHECK-NEXT:      scf.yield %[[S3]]
// CHECK:         %[[TOTAL:.+]] = gpu.all_reduce add %[[PART]] uniform
// CHECK:         %[[FIRST:.+]] = arith.cmpi eq, %[[T]], %c0
// CHECK-NEXT:    scf.if %[[FIRST]] {
// CHECK-NEXT:      %[[NEW:.+]] = arith.addf %[[TOTAL]], %[[ZERO]]
// CHECK-NEXT:      memref.store %[[NEW]], %[[ACCA]][]
// CHECK:       gpu.launch {{.+}} function(@mean_k1)
// CHECK-NEXT:    memref.load %[[ACC]][]
// CHECK-NEXT:    arith.divf
// CHECK-NEXT:    memref.store %{{.+}}, %arg1[]
// CHECK-NEXT:    gpu.terminator
// CHECK-NOT:   gpu.launch
func.func @mean(%x: memref<1000xf32>, %out: memref<f32>) {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 1000.0 : f32
  %acc = memref.alloc() : memref<f32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<f32>)
  linalg.generic {indexing_maps = [#id1, #all], iterator_types = ["reduction"]}
      ins(%x : memref<1000xf32>) outs(%acc : memref<f32>) {
  ^bb0(%in: f32, %a: f32):
    %s = arith.addf %a, %in : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%acc : memref<f32>) outs(%out : memref<f32>) {
  ^bb0(%in: f32, %o: f32):
    %d = arith.divf %in, %n : f32
    linalg.yield %d : f32
  }
  return
}

// Softmax's row sums beside the exp values (37 rows of 130): a block of 160 threads per
// row; each thread stores the exp values it computes and carries its share of the sum.
// CHECK-LABEL: func.func @sum_and_values
// CHECK:       gpu.launch blocks(%[[ROW:[^,]+]], {{.+}}) in (%{{.+}} = %c37, {{.+}} threads(%[[T:[^,]+]], {{.+}}) in (%{{.+}} = %c160,
// CHECK-NEXT:    %[[PART:.+]] = scf.for %[[J:.+]] = %[[T]] to %c130 step %c160 iter_args(%[[A:.+]] = %cst)
// CHECK-NEXT:      %[[X:.+]] = memref.load %arg0[%[[ROW]], %[[J]]]
// CHECK-NEXT:      %[[E:.+]] = math.exp %[[X]]
// CHECK-NEXT:      %[[S:.+]] = arith.addf %[[E]], %[[A]]
// CHECK-NEXT:      memref.store %[[E]], %arg2[%[[ROW]], %[[J]]]
// CHECK-NEXT:      scf.yield %[[S]]
// CHECK:         gpu.all_reduce add %[[PART]] uniform
// CHECK:         scf.if
// CHECK:           memref.store %{{.+}}, %arg1[%[[ROW]]]
func.func @sum_and_values(%x: memref<37x130xf32>, %sums: memref<37xf32>, %exps: memref<37x130xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                   affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<37x130xf32>) outs(%sums, %exps : memref<37xf32>, memref<37x130xf32>) {
  ^bb0(%in: f32, %s: f32, %o: f32):
    %e = math.exp %in : f32
    %t = arith.addf %e, %s : f32
    linalg.yield %t, %e : f32, f32
  }
  return
}

// The same with rows of 128: a warp per row, each thread 4 adjacent elements per step,
// their loads, exps and sums first (in element order), then their 4 stores.
// CHECK-LABEL: func.func @sum_and_values_4
// CHECK:       gpu.launch blocks(%[[ROW:[^,]+]], {{.+}}) in (%{{.+}} = %c37, {{.+}} threads(%[[T:[^,]+]], {{.+}}) in (%{{.+}} = %c32,
// CHECK:         %[[X:.+]] = memref.assume_alignment %arg0, 16
// CHECK:         %[[E:.+]] = memref.assume_alignment %arg2, 16
// CHECK:         scf.for %[[J:.+]] = %{{.+}} to %c128 step %c128 iter_args(%[[A:.+]] = %cst)
// CHECK-NEXT:      %[[X0:.+]] = memref.load %[[X]][%[[ROW]], %[[J]]]
// CHECK-NEXT:      %[[E0:.+]] = math.exp %[[X0]]
// CHECK-NEXT:      %[[S0:.+]] = arith.addf %[[E0]], %[[A]]
// CHECK-NEXT:      %[[J1:.+]] = arith.addi %[[J]], %c1
// CHECK-NEXT:      memref.load %[[X]][%[[ROW]], %[[J1]]]
// CHECK-COUNT-8:   {{math.exp|arith.addf|arith.addi|memref.load}}
// CHECK-NEXT:      %[[E3:.+]] = math.exp
// CHECK-NEXT:      %[[S3:.+]] = arith.addf %[[E3]],
// CHECK-NEXT:      memref.store %[[E0]], %[[E]][%[[ROW]], %[[J]]]
// CHECK-NEXT:      memref.store %{{.+}}, %[[E]][%[[ROW]], %[[J1]]]
// CHECK-NEXT:      memref.store
// CHECK-NEXT:      memref.store %[[E3]],
// CHECK-NEXT:      scf.yield %[[S3]]
func.func @sum_and_values_4(%x: memref<37x128xf32>, %sums: memref<37xf32>, %exps: memref<37x128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                   affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<37x128xf32>) outs(%sums, %exps : memref<37xf32>, memref<37x128xf32>) {
  ^bb0(%in: f32, %s: f32, %o: f32):
    %e = math.exp %in : f32
    %t = arith.addf %e, %s : f32
    linalg.yield %t, %e : f32, f32
  }
  return
}

// Column sums of 64 x 8192: the reduced elements are 8192 floats apart and the 8192
// outputs fill the device, so one thread per column (neighbours read neighbouring
// columns: coalesced), no block reduction.
// CHECK-LABEL: func.func @column_sums
// CHECK:       gpu.launch blocks({{.+}}) in (%{{.+}} = %c32, {{.+}} threads({{.+}}) in (%{{.+}} = %c256,
// CHECK-NOT:     gpu.all_reduce
// CHECK:         scf.for %{{.+}} = %c0 to %c64
// CHECK-NOT:   gpu.all_reduce
func.func @column_sums(%x: memref<64x8192xf32>, %out: memref<8192xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<64x8192xf32>) outs(%out : memref<8192xf32>) {
  ^bb0(%in: f32, %a: f32):
    %s = arith.addf %in, %a : f32
    linalg.yield %s : f32
  }
  return
}

// Fills folded into the reductions that read them back: an argmax's (value, index)
// pairs start from the fills' constants (no loads, no fill kernels), and a product's
// fill folds across a kernel that touches other buffers only. A fill that covers part
// of what the reduction writes (a view of its output), whose buffer a kernel or a launch
// between touches, or that the reduction's body reads itself, stays a kernel.
// CHECK-LABEL: func.func @argmax_filled
// CHECK-DAG:   %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:   %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK-NOT:   linalg.fill
// CHECK:       gpu.launch blocks(%[[ROW:[^,]+]], {{.+}}) in (%{{.+}} = %c37, {{.+}} function(@argmax_filled_k0)
// CHECK-NOT:     memref.load %arg1
// CHECK-NOT:     memref.load %arg2
// CHECK:         scf.for {{.+}} iter_args(%{{.+}} = %[[NINF]], %{{.+}} = %[[ZERO]])
// CHECK:         gpu.all_reduce maxui
// CHECK-NOT:   gpu.launch
func.func @argmax_filled(%x: memref<37x130xf32>, %best: memref<37xf32>, %at: memref<37xi64>) {
  %zero = arith.constant 0 : i64
  %ninf = arith.constant 0xFF800000 : f32
  linalg.fill ins(%ninf : f32) outs(%best : memref<37xf32>)
  linalg.fill ins(%zero : i64) outs(%at : memref<37xi64>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                   affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<37x130xf32>) outs(%best, %at : memref<37xf32>, memref<37xi64>) attrs = {ajit.arg_reduce = "max"} {
  ^bb0(%in: f32, %b: f32, %i: i64):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i64
    %gt = arith.cmpf ogt, %in, %b : f32
    %first = arith.cmpi eq, %ji, %zero : i64
    %take = arith.ori %gt, %first : i1
    %v = arith.select %take, %in, %b : f32
    %k = arith.select %take, %ji, %i : i64
    linalg.yield %v, %k : f32, i64
  }
  return
}

// CHECK-LABEL: func.func @dot_fill_across_other_work
// CHECK:       gpu.launch {{.+}} function(@dot_fill_across_other_work_k0)
// CHECK:         memref.store %{{.+}}, %arg3[
// CHECK:       gpu.launch {{.+}} function(@dot_fill_across_other_work_k1) workgroup(
// CHECK-NOT:     memref.load %{{.+}}[%{{.+}}] : memref<37x50xf32>
// CHECK:         scf.for
// CHECK-NOT:   gpu.launch
func.func @dot_fill_across_other_work(%a: memref<37x64xf32>, %b: memref<64x50xf32>, %out: memref<37x50xf32>,
                                      %other: memref<37x50xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<37x50xf32>)
  linalg.fill ins(%one : f32) outs(%other : memref<37x50xf32>)
  linalg.generic {indexing_maps = [#lhs, #rhs, #res], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<37x64xf32>, memref<64x50xf32>) outs(%out : memref<37x50xf32>) attrs = {ajit.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m fastmath<contract> : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @sums_not_folded
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k0)
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k1)
// CHECK:         memref.load %{{.+}}[%{{.+}}] : memref<4xf32{{.*}}>
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k2)
// CHECK:         memref.store %{{.+}} : memref<4xf32>
// CHECK:       gpu.launch
// CHECK:         memref.store %{{.+}}, %arg2[%{{.+}}] : memref<4xf32>
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k3)
// CHECK:         memref.load %{{.+}}[%{{.+}}] : memref<4xf32>
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k4)
// CHECK:         memref.store %{{.+}} : memref<4xf32>
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k5)
// CHECK:         memref.load %{{.+}}[%{{.+}}] : memref<4xf32>
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k6)
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k7)
// CHECK:       gpu.launch {{.+}} function(@sums_not_folded_k8)
// CHECK:         memref.load %{{.+}}[%{{.+}}] : memref<4xf32>
func.func @sums_not_folded(%x: memref<4x1000xf32>, %sums: memref<8xf32>, %acc: memref<4xf32>, %copy: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  // A fill of the whole buffer; the reduction writes half of it through a view.
  %half = memref.subview %sums[0] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1]>>
  linalg.fill ins(%zero : f32) outs(%sums : memref<8xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x1000xf32>) outs(%half : memref<4xf32, strided<[1]>>) {
  ^bb0(%in: f32, %a: f32):
    %s = arith.addf %a, %in : f32
    linalg.yield %s : f32
  }
  // A launch between the fill and the reduction writes the filled buffer.
  %seven = arith.constant 7.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  linalg.fill ins(%zero : f32) outs(%acc : memref<4xf32>)
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %seven, %acc[%c0] : memref<4xf32>
    gpu.terminator
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x1000xf32>) outs(%acc : memref<4xf32>) {
  ^bb0(%in: f32, %a: f32):
    %s = arith.addf %a, %in : f32
    linalg.yield %s : f32
  }
  // The reduction's body reads the filled buffer itself.
  linalg.fill ins(%zero : f32) outs(%acc : memref<4xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x1000xf32>) outs(%acc : memref<4xf32>) {
  ^bb0(%in: f32, %a: f32):
    %l = memref.load %acc[%c0] : memref<4xf32>
    %m = arith.mulf %in, %l : f32
    %s = arith.addf %a, %m : f32
    linalg.yield %s : f32
  }
  // A kernel between the fill and the reduction reads the filled buffer.
  linalg.fill ins(%zero : f32) outs(%acc : memref<4xf32>)
  memref.copy %acc, %copy : memref<4xf32> to memref<4xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x1000xf32>) outs(%acc : memref<4xf32>) {
  ^bb0(%in: f32, %a: f32):
    %s = arith.addf %a, %in : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// W2's g: the sum of 10000 elements is a block of 256 threads, each reading 4 elements
// per step with one 16-byte load, whose all-reduce is warp shuffles, 32 partials in
// shared memory and a barrier (the 0-d output's zero fill folded into it: no kernel of
// its own); the 6400 exp values are 1600 threads of 4, each reading and writing its 4
// with one 16-byte access.
// PTX-LABEL: func.func @g(
// PTX-NOT:     gpu.launch {
// PTX:         gpu.launch_func @g_kernels::@g_k0 blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1)
// PTX:         gpu.launch_func @g_kernels::@g_k1 blocks in (%c7, %c1, %c1) threads in (%c256, %c1, %c1)
// PTX-NEXT:    return
// PTX:         gpu.binary @g_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// PTX-SAME:      .target sm_90
// PTX-SAME:      .visible .entry g_k0(
// PTX-SAME:      .shared .align 16 .b8 {{.+}}[128]
// PTX-SAME:      ld.global.v4.b32
// PTX-SAME:      shfl.sync.bfly.b32
// PTX-SAME:      bar.sync
// PTX-SAME:      .visible .entry g_k1(
// PTX-SAME:      ld.global.v4.b32
// PTX-SAME:      st.global.v4.b32
func.func @g(%x: tensor<10000xf32>, %y: tensor<100x64xf32>) -> (tensor<f32>, tensor<100x64xf32>) {
  %s = ajit.sin %x : tensor<10000xf32>
  %c = ajit.cos %x : tensor<10000xf32>
  %s2 = ajit.mul %s, %s : tensor<10000xf32>
  %c2 = ajit.mul %c, %c : tensor<10000xf32>
  %a = ajit.add %s2, %c2 : tensor<10000xf32>
  %r = ajit.reduce sum %a, axes = [0], keepdims = false : tensor<10000xf32> -> tensor<f32>
  %e = ajit.exp %y : tensor<100x64xf32>
  return %r, %e : tensor<f32>, tensor<100x64xf32>
}

// -----

// Linear with a bias, n a multiple of 4: each thread's outputs are two groups of 4
// columns (and rows), so a k-step reads its A and B values with 16-byte shared loads
// from 16-byte aligned tiles; the tiles are filled with 16-byte global loads, and the
// bias is read and the outputs written 4 at a time, all loads of a group before its
// stores. The output's zero fill is folded into the product: one kernel, which asks
// ptxas for two blocks per SM (.minnctapersm 2 with .maxntid 256: at most 128 registers).
// PTX-LABEL: func.func @linear(
// PTX:         gpu.launch_func @linear_kernels::@linear_k0 blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1)
// PTX-NEXT:    return
// PTX:         gpu.binary @linear_kernels
// PTX-SAME:      .visible .entry linear_k0(
// PTX-SAME:      .maxntid 256, 1, 1
// PTX-SAME:      .minnctapersm 2
// PTX-SAME:      .shared .align 16 .b8
// PTX-SAME:      ld.global.v4.b32
// PTX-SAME:      st.shared.v4.b32
// PTX-SAME:      bar.sync
// PTX-NOT:       ld.shared.b32
// PTX-SAME:      ld.shared.v4.b32
// PTX-SAME:      ld.shared.v4.b32
// PTX-SAME:      ld.shared.v4.b32
// PTX-SAME:      ld.shared.v4.b32
// PTX-SAME:      fma.rn.f32
// PTX-SAME:      ld.global.v4.b32
// PTX-SAME:      st.global.v4.b32
func.func @linear(%a: tensor<100x64xf32>, %b: tensor<64x96xf32>, %c: tensor<96xf32>) -> tensor<100x96xf32> {
  %p = ajit.dot %a, %b : tensor<100x64xf32>, tensor<64x96xf32> -> tensor<100x96xf32>
  %cb = ajit.broadcast_in_dim %c, dims = [1] : tensor<96xf32> -> tensor<100x96xf32>
  %s = ajit.add %p, %cb : tensor<100x96xf32>
  return %s : tensor<100x96xf32>
}
