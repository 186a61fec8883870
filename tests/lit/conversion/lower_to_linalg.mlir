// What --ajit-lower-to-linalg makes of each op category.
// RUN: ajit-opt %s --split-input-file --ajit-lower-to-linalg | FileCheck %s
//
// The pass leaves no ajit op behind (only the marks of ajit.dot's lowering, attributes).
// RUN: ajit-opt %s --split-input-file --ajit-lower-to-linalg | FileCheck %s --check-prefix=NOAJIT
// NOAJIT-NOT: {{(= |^ *)ajit\.}}

//===----------------------------------------------------------------------===//
// Elementwise: linalg.generic, identity maps, parallel iterators, scalar body.
//===----------------------------------------------------------------------===//

// CHECK: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @add_f32
// CHECK-SAME: (%[[X:.+]]: tensor<4x5xf32>, %[[Y:.+]]: tensor<4x5xf32>)
// CHECK: %[[INIT:.+]] = tensor.empty() : tensor<4x5xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]], %[[Y]] : tensor<4x5xf32>, tensor<4x5xf32>) outs(%[[INIT]] : tensor<4x5xf32>)
// CHECK-NEXT: ^bb0(%[[A:.+]]: f32, %[[B:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[S:.+]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[R]]
func.func @add_f32(%x: tensor<4x5xf32>, %y: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %0 = ajit.add %x, %y : tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// Integers use the integer ops; bool add is `or`.
// CHECK-LABEL: func.func @add_i32_and_bool
// CHECK: linalg.generic
// CHECK: arith.addi %{{.+}}, %{{.+}} : i32
// CHECK: linalg.generic
// CHECK: arith.ori %{{.+}}, %{{.+}} : i1
// CHECK: return
func.func @add_i32_and_bool(%x: tensor<4xi32>, %b: tensor<4xi1>) -> (tensor<4xi32>, tensor<4xi1>) {
  %0 = ajit.add %x, %x : tensor<4xi32>
  %1 = ajit.add %b, %b : tensor<4xi1>
  return %0, %1 : tensor<4xi32>, tensor<4xi1>
}

// -----

// One generic per op before fusion; transcendentals stay math ops here.
// CHECK-LABEL: func.func @unary_math
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel"]
// CHECK: math.exp %{{.+}} : f32
// CHECK: linalg.generic
// CHECK: arith.negf %{{.+}} : f32
// CHECK: linalg.generic
// relu: NaN-propagating max with 0.
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: arith.maximumf %{{.+}}, %[[ZERO]] : f32
// sigmoid: 1 / (1 + exp(-x)).
// CHECK: linalg.generic
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[NEG:.+]] = arith.negf %{{.+}} : f32
// CHECK: %[[E:.+]] = math.exp %[[NEG]] : f32
// CHECK: %[[DEN:.+]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK: arith.divf %[[ONE]], %[[DEN]] : f32
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @unary_math(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = ajit.exp %x : tensor<8xf32>
  %1 = ajit.neg %0 : tensor<8xf32>
  %2 = ajit.relu %1 : tensor<8xf32>
  %3 = ajit.sigmoid %2 : tensor<8xf32>
  return %3 : tensor<8xf32>
}

// -----

// Floats compare ordered except `ne` (unordered); bool compares unsigned, wider ints signed.
// CHECK-LABEL: func.func @compare
// CHECK: outs(%{{.+}} : tensor<4xi1>)
// CHECK: arith.cmpf olt, %{{.+}}, %{{.+}} : f32
// CHECK: arith.cmpf une, %{{.+}}, %{{.+}} : f32
// CHECK: arith.cmpi slt, %{{.+}}, %{{.+}} : i32
// CHECK: arith.cmpi ult, %{{.+}}, %{{.+}} : i1
// CHECK: return
func.func @compare(%x: tensor<4xf32>, %i: tensor<4xi32>, %b: tensor<4xi1>)
    -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %0 = ajit.compare lt, %x, %x : tensor<4xf32> -> tensor<4xi1>
  %1 = ajit.compare ne, %x, %x : tensor<4xf32> -> tensor<4xi1>
  %2 = ajit.compare lt, %i, %i : tensor<4xi32> -> tensor<4xi1>
  %3 = ajit.compare lt, %b, %b : tensor<4xi1> -> tensor<4xi1>
  return %0, %1, %2, %3 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func.func @select_clamp
// CHECK-SAME: (%[[M:.+]]: tensor<4xi1>, %[[X:.+]]: tensor<4xf32>, %[[LO:.+]]: tensor<4xf32>, %[[HI:.+]]: tensor<4xf32>)
// CHECK: %[[SEL:.+]] = linalg.generic {{.+}} ins(%[[M]], %[[X]], %[[LO]] : tensor<4xi1>, tensor<4xf32>, tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[C:.+]]: i1, %[[T:.+]]: f32, %[[F:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[S:.+]] = arith.select %[[C]], %[[T]], %[[F]] : f32
// CHECK: linalg.generic {{.+}} ins(%[[SEL]], %[[LO]], %[[HI]] : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[V:.+]]: f32, %[[L:.+]]: f32, %[[H:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[MAX:.+]] = arith.maximumf %[[V]], %[[L]] : f32
// CHECK-NEXT: %[[MIN:.+]] = arith.minimumf %[[MAX]], %[[H]] : f32
// CHECK-NEXT: linalg.yield %[[MIN]] : f32
func.func @select_clamp(%m: tensor<4xi1>, %x: tensor<4xf32>, %lo: tensor<4xf32>,
                        %hi: tensor<4xf32>) -> tensor<4xf32> {
  %0 = ajit.select %m, %x, %lo : tensor<4xi1>, tensor<4xf32>
  %1 = ajit.clamp %0, %lo, %hi : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// f32 pow is exp(y * log|x|) plus C's special cases (never math.powf, whose upstream
// expansion has none); integer pow guards negative exponents around math.ipowi.
// CHECK-LABEL: func.func @pow
// CHECK-NOT: math.powf
// CHECK: math.absf
// CHECK: math.log
// CHECK: math.exp
// CHECK: math.copysign
// CHECK: %[[YNEG:.+]] = arith.cmpi slt, %[[Y:.+]], %[[ZERO:.+]] : i32
// CHECK: %[[SAFE:.+]] = arith.select %[[YNEG]], %[[ZERO]], %[[Y]] : i32
// CHECK: math.ipowi %{{.+}}, %[[SAFE]] : i32
func.func @pow(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xi32>) {
  %0 = ajit.pow %x, %x : tensor<4xf32>
  %1 = ajit.pow %i, %i : tensor<4xi32>
  return %0, %1 : tensor<4xf32>, tensor<4xi32>
}

// -----

// Integer division is total: y == 0 gives 0 and INT_MIN / -1 divides by 1 instead.
// CHECK-LABEL: func.func @div_i32
// CHECK: ^bb0(%[[X:.+]]: i32, %[[Y:.+]]: i32, %{{.+}}: i32):
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : i32
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1 : i32
// CHECK-DAG: %[[MINUS1:.+]] = arith.constant -1 : i32
// CHECK-DAG: %[[INTMIN:.+]] = arith.constant -2147483648 : i32
// CHECK: %[[YZERO:.+]] = arith.cmpi eq, %[[Y]], %[[ZERO]] : i32
// CHECK: %[[YM1:.+]] = arith.cmpi eq, %[[Y]], %[[MINUS1]] : i32
// CHECK: %[[XMIN:.+]] = arith.cmpi eq, %[[X]], %[[INTMIN]] : i32
// CHECK: %[[OVF:.+]] = arith.andi %[[XMIN]], %[[YM1]] : i1
// CHECK: %[[BAD:.+]] = arith.ori %[[YZERO]], %[[OVF]] : i1
// CHECK: %[[SAFE:.+]] = arith.select %[[BAD]], %[[ONE]], %[[Y]] : i32
// CHECK: %[[Q:.+]] = arith.divsi %[[X]], %[[SAFE]] : i32
// CHECK: %[[R:.+]] = arith.select %[[YZERO]], %[[ZERO]], %[[Q]] : i32
// CHECK: linalg.yield %[[R]] : i32
func.func @div_i32(%x: tensor<4xi32>, %y: tensor<4xi32>) -> tensor<4xi32> {
  %0 = ajit.div %x, %y : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Float division needs no guard.
// CHECK-LABEL: func.func @no_zero_guard_float_div
// CHECK: ^bb0(%[[X:.+]]: f32, %[[Y:.+]]: f32, %{{.+}}: f32):
// CHECK-NOT: arith.cmp
// CHECK-NOT: arith.select
// CHECK: %[[Q:.+]] = arith.divf %[[X]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[Q]] : f32
func.func @no_zero_guard_float_div(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = ajit.div %x, %y : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Float -> int saturates (and NaN -> 0): out-of-range and NaN inputs are replaced by 0
// before fptosi, then the bounds are selected in.
// CHECK-LABEL: func.func @convert_f32_to_i32
// CHECK: ^bb0(%[[X:.+]]: f32, %{{.+}}: i32):
// CHECK: %[[NAN:.+]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK: %[[LO:.+]] = arith.constant -2.14748365E+9 : f32
// CHECK: %[[TOOLOW:.+]] = arith.cmpf ole, %[[X]], %[[LO]] : f32
// CHECK: %[[HI:.+]] = arith.constant 2.14748365E+9 : f32
// CHECK: %[[TOOHIGH:.+]] = arith.cmpf oge, %[[X]], %[[HI]] : f32
// CHECK: %[[FZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[OUT:.+]] = arith.ori %[[TOOLOW]], %[[TOOHIGH]] : i1
// CHECK: %[[BAD:.+]] = arith.ori %[[NAN]], %[[OUT]] : i1
// CHECK: %[[SAFE:.+]] = arith.select %[[BAD]], %[[FZERO]], %[[X]] : f32
// CHECK: %[[I:.+]] = arith.fptosi %[[SAFE]] : f32 to i32
// CHECK: %[[INTMIN:.+]] = arith.constant -2147483648 : i32
// CHECK: %[[R1:.+]] = arith.select %[[TOOLOW]], %[[INTMIN]], %[[I]] : i32
// CHECK: %[[INTMAX:.+]] = arith.constant 2147483647 : i32
// CHECK: %[[R2:.+]] = arith.select %[[TOOHIGH]], %[[INTMAX]], %[[R1]] : i32
// CHECK: linalg.yield %[[R2]] : i32
func.func @convert_f32_to_i32(%x: tensor<4xf32>) -> tensor<4xi32> {
  %0 = ajit.convert %x : tensor<4xf32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// CHECK-LABEL: func.func @convert_other
// CHECK: arith.extf %{{.+}} : f32 to f64
// to bool is `x != 0`:
// CHECK: %[[Z:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: arith.cmpf une, %{{.+}}, %[[Z]] : f32
// CHECK: arith.uitofp %{{.+}} : i1 to f32
// CHECK: arith.extsi %{{.+}} : i32 to i64
// CHECK-NOT: arith.fptosi
func.func @convert_other(%x: tensor<4xf32>, %i: tensor<4xi32>, %b: tensor<4xi1>)
    -> (tensor<4xf64>, tensor<4xi1>, tensor<4xf32>, tensor<4xi64>) {
  %0 = ajit.convert %x : tensor<4xf32> -> tensor<4xf64>
  %1 = ajit.convert %x : tensor<4xf32> -> tensor<4xi1>
  %2 = ajit.convert %b : tensor<4xi1> -> tensor<4xf32>
  %3 = ajit.convert %i : tensor<4xi32> -> tensor<4xi64>
  return %0, %1, %2, %3 : tensor<4xf64>, tensor<4xi1>, tensor<4xf32>, tensor<4xi64>
}

//===----------------------------------------------------------------------===//
// Constants and shape ops
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @constant
// CHECK: %[[C:.+]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: return %[[C]]
func.func @constant() -> tensor<2xf32> {
  %0 = ajit.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A size-1 operand dim stretched over a larger result dim reads index 0.
// CHECK: #[[$IN:.+]] = affine_map<(d0, d1, d2) -> (0, d2)>
// CHECK: #[[$OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @broadcast_stretch
// CHECK-SAME: (%[[X:.+]]: tensor<1x5xf32>)
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]] : tensor<1x5xf32>) outs(%{{.+}} : tensor<3x4x5xf32>)
// CHECK-NEXT: ^bb0(%[[A:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: linalg.yield %[[A]] : f32
// CHECK: return %[[R]]
func.func @broadcast_stretch(%x: tensor<1x5xf32>) -> tensor<3x4x5xf32> {
  %0 = ajit.broadcast_in_dim %x, dims = [1, 2] : tensor<1x5xf32> -> tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}

// -----

// A size-1 operand dim onto a size-1 result dim is not stretched: it keeps its loop index.
// CHECK-NOT: -> (0
// CHECK: #[[$IN:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @no_stretch_size1_result
// CHECK: linalg.generic {indexing_maps = [#[[$IN]], #{{.+}}]
func.func @no_stretch_size1_result(%x: tensor<1x5xf32>) -> tensor<1x3x5xf32> {
  %0 = ajit.broadcast_in_dim %x, dims = [0, 2] : tensor<1x5xf32> -> tensor<1x3x5xf32>
  return %0 : tensor<1x3x5xf32>
}

// -----

// Result dim i is operand dim perm[i]: with perm = [2, 0, 1] the operand is read at
// (d1, d2, d0).
// CHECK: #[[$IN:.+]] = affine_map<(d0, d1, d2) -> (d1, d2, d0)>
// CHECK: #[[$OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$IN]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]] : tensor<2x3x4xf32>) outs(%{{.+}} : tensor<4x2x3xf32>)
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = ajit.transpose %x, perm = [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}

// -----

// Row-major reshape: collapse to 1-D, then expand.
// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.+]]: tensor<2x6xf32>)
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1]] : tensor<2x6xf32> into tensor<12xf32>
// CHECK: %[[R:.+]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [3, 4] : tensor<12xf32> into tensor<3x4xf32>
// CHECK: return %[[R]]
// CHECK-NOT: linalg.generic
func.func @reshape(%x: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %0 = ajit.reshape %x : tensor<2x6xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_rank0
// CHECK-SAME: (%[[X:.+]]: tensor<f32>)
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[FLAT:.+]] = tensor.expand_shape %[[X]] [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [1, 1] : tensor<1xf32> into tensor<1x1xf32>
func.func @reshape_rank0(%x: tensor<f32>) -> tensor<1x1xf32> {
  %0 = ajit.reshape %x : tensor<f32> -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}

//===----------------------------------------------------------------------===//
// Reductions: a linalg.fill of the identity, then a generic with reduction iterators.
//===----------------------------------------------------------------------===//

// -----

// CHECK: #[[$IN:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[$OUT:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @reduce_sum
// CHECK-SAME: (%[[X:.+]]: tensor<4x5xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<4xf32>)
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$OUT]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]] : tensor<4x5xf32>) outs(%[[INIT]] : tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[A:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT: %[[S:.+]] = arith.addf %[[A]], %[[ACC]] fastmath<reassoc> : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[R]]
func.func @reduce_sum(%x: tensor<4x5xf32>) -> tensor<4xf32> {
  %0 = ajit.reduce sum %x, axes = [1], keepdims = false : tensor<4x5xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// max starts from -inf.
// CHECK: #[[$OUT:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @reduce_max
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[$OUT]]], iterator_types = ["reduction", "parallel"]}
// CHECK-SAME: outs(%[[INIT]] : tensor<5xf32>)
// CHECK: arith.maximumf
func.func @reduce_max(%x: tensor<4x5xf32>) -> tensor<5xf32> {
  %0 = ajit.reduce max %x, axes = [0], keepdims = false : tensor<4x5xf32> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// min starts from +inf; reducing every axis leaves a rank-0 accumulator.
// CHECK: #[[$OUT:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @reduce_min
// CHECK: %[[POSINF:.+]] = arith.constant 0x7F800000 : f32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[POSINF]] : f32) outs(%{{.+}} : tensor<f32>)
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[$OUT]]], iterator_types = ["reduction", "reduction"]}
// CHECK-SAME: outs(%[[INIT]] : tensor<f32>)
// CHECK: arith.minimumf
func.func @reduce_min(%x: tensor<4x5xf32>) -> tensor<f32> {
  %0 = ajit.reduce min %x, axes = [0, 1], keepdims = false : tensor<4x5xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Integer max starts from INT_MIN.
// CHECK-LABEL: func.func @reduce_max_i32
// CHECK: %[[INTMIN:.+]] = arith.constant -2147483648 : i32
// CHECK: linalg.fill ins(%[[INTMIN]] : i32)
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: arith.maxsi
func.func @reduce_max_i32(%x: tensor<4x5xi32>) -> tensor<4xi32> {
  %0 = ajit.reduce max %x, axes = [1], keepdims = false : tensor<4x5xi32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// mean = sum, then a division by the number of reduced elements (4 * 5 = 20); keepdims
// expands the rank-0 result back to 1x1.
// CHECK-LABEL: func.func @reduce_mean_keepdims
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<f32>)
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.addf
// CHECK: %[[N:.+]] = arith.constant 2.000000e+01 : f32
// CHECK: %[[MEAN:.+]] = linalg.generic {{.+}} ins(%[[SUM]] : tensor<f32>)
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[D:.+]] = arith.divf %[[S]], %[[N]] : f32
// CHECK-NEXT: linalg.yield %[[D]] : f32
// CHECK: %[[E:.+]] = tensor.expand_shape %[[MEAN]] [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: %[[R:.+]] = tensor.expand_shape %[[E]] {{\[\[}}0, 1]] output_shape [1, 1] : tensor<1xf32> into tensor<1x1xf32>
// CHECK: return %[[R]]
func.func @reduce_mean_keepdims(%x: tensor<4x5xf32>) -> tensor<1x1xf32> {
  %0 = ajit.reduce mean %x, axes = [0, 1], keepdims = true : tensor<4x5xf32> -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}

// -----

// sum needs no division.
// CHECK-LABEL: func.func @no_divide_for_sum
// CHECK-NOT: arith.divf
// CHECK: return
func.func @no_divide_for_sum(%x: tensor<4x5xf32>) -> tensor<f32> {
  %0 = ajit.reduce sum %x, axes = [0, 1], keepdims = false : tensor<4x5xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// argmax: one generic with two outputs (best value, its index), the index from
// linalg.index of the reduced axis; a strictly greater value or the first NaN wins, and
// index 0 always does. The op's result is the index output.
// CHECK: #[[$IN:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[$OUT:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @argmax
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[VINIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<4xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK: %[[IINIT:.+]] = linalg.fill ins(%[[ZERO]] : i64) outs(%{{.+}} : tensor<4xi64>)
// CHECK: %[[R:.+]]:2 = linalg.generic {indexing_maps = [#[[$IN]], #[[$OUT]], #[[$OUT]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: outs(%[[VINIT]], %[[IINIT]] : tensor<4xf32>, tensor<4xi64>)
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[BEST:.+]]: f32, %[[BESTI:.+]]: i64):
// CHECK-NEXT: %[[IDX:.+]] = linalg.index 1 : index
// CHECK-NEXT: %[[I:.+]] = arith.index_cast %[[IDX]] : index to i64
// CHECK-NEXT: %[[GT:.+]] = arith.cmpf ogt, %[[X]], %[[BEST]] : f32
// CHECK-NEXT: %[[XNAN:.+]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK-NEXT: %[[BORD:.+]] = arith.cmpf ord, %[[BEST]], %[[BEST]] : f32
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[I]], %{{.+}} : i64
// CHECK: %[[WIN:.+]] = arith.ori %{{.+}}, %[[FIRST]] : i1
// CHECK: %[[V:.+]] = arith.select %[[WIN]], %[[X]], %[[BEST]] : f32
// CHECK: %[[J:.+]] = arith.select %[[WIN]], %[[I]], %[[BESTI]] : i64
// CHECK: linalg.yield %[[V]], %[[J]] : f32, i64
// CHECK: return %[[R]]#1 : tensor<4xi64>
func.func @argmax(%x: tensor<4x5xf32>) -> tensor<4xi64> {
  %0 = ajit.argmax %x, axis = 1, keepdims = false : tensor<4x5xf32> -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// argmin on integers: INT_MAX init, signed less-than, no NaN test; keepdims expands.
// CHECK-LABEL: func.func @argmin_keepdims
// CHECK: %[[INTMAX:.+]] = arith.constant 2147483647 : i32
// CHECK: linalg.fill ins(%[[INTMAX]] : i32) outs(%{{.+}} : tensor<5xi32>)
// CHECK: %[[R:.+]]:2 = linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]
// CHECK: linalg.index 0 : index
// CHECK-NOT: arith.cmpf
// CHECK: arith.cmpi slt
// CHECK: linalg.yield
// CHECK: tensor.expand_shape %[[R]]#1 {{\[\[}}0, 1]] output_shape [1, 5] : tensor<5xi64> into tensor<1x5xi64>
func.func @argmin_keepdims(%x: tensor<4x5xi32>) -> tensor<1x5xi64> {
  %0 = ajit.argmin %x, axis = 0, keepdims = true : tensor<4x5xi32> -> tensor<1x5xi64>
  return %0 : tensor<1x5xi64>
}

//===----------------------------------------------------------------------===//
// dot: a generic in (m, k, n) order (k is the reduction), so n is the innermost loop.
//===----------------------------------------------------------------------===//

// -----

// CHECK: #[[$LHS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK: #[[$RHS:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK: #[[$RES:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @dot
// CHECK-SAME: (%[[A:.+]]: tensor<4x5xf32>, %[[B:.+]]: tensor<5x6xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// Each product's zero init carries its own number (CSE must not merge two of them), and
// the product is marked for ajit-tile-matmuls.
// CHECK: %[[INIT:.+]] = linalg.fill {ajit.product_init = {{[0-9]+}} : i64} ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<4x6xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$RES]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<4x5xf32>, tensor<5x6xf32>) outs(%[[INIT]] : tensor<4x6xf32>) attrs = {ajit.matmul}
// CHECK-NEXT: ^bb0(%[[L:.+]]: f32, %[[R:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT: %[[P:.+]] = arith.mulf %[[L]], %[[R]] : f32
// CHECK-NEXT: %[[S:.+]] = arith.addf %[[ACC]], %[[P]] fastmath<contract> : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
func.func @dot(%a: tensor<4x5xf32>, %b: tensor<5x6xf32>) -> tensor<4x6xf32> {
  %0 = ajit.dot %a, %b : tensor<4x5xf32>, tensor<5x6xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

// CHECK: #[[$LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK: #[[$RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK: #[[$RES:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @dot_batched
// CHECK: %[[ZERO:.+]] = arith.constant 0 : i32
// CHECK: linalg.fill {ajit.product_init = {{[0-9]+}} : i64} ins(%[[ZERO]] : i32)
// CHECK: linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$RES]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK: arith.muli
// CHECK: arith.addi
func.func @dot_batched(%a: tensor<2x4x5xi32>, %b: tensor<2x5x6xi32>) -> tensor<2x4x6xi32> {
  %0 = ajit.dot %a, %b : tensor<2x4x5xi32>, tensor<2x5x6xi32> -> tensor<2x4x6xi32>
  return %0 : tensor<2x4x6xi32>
}

// -----

// bf16 and f16 cannot hold each other: the conversion goes through f32.
// CHECK-LABEL: func.func @convert_bf16_to_f16
// CHECK: ^bb0(%[[IN:.+]]: bf16, %{{.+}}: f16):
// CHECK:   %[[WIDE:.+]] = arith.extf %[[IN]] : bf16 to f32
// CHECK:   %[[NARROW:.+]] = arith.truncf %[[WIDE]] : f32 to f16
// CHECK:   linalg.yield %[[NARROW]] : f16
func.func @convert_bf16_to_f16(%x: tensor<4xbf16>) -> tensor<4xf16> {
  %0 = ajit.convert %x : tensor<4xbf16> -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

// argmax along a long innermost axis: explicit vector lanes. 20000 f32 elements are 312
// vectors of 64 lanes: one chunk of 312 vectors (the lanes start from the first vector and
// loop over the other 311), lanes combined pairwise 64 -> 32 -> ... -> 1, the 32 elements
// past the last vector in a scalar loop; indices in i32, widened at the end.
// CHECK-LABEL: func.func @argmax_lanes
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel"]} outs(%{{.+}}, %{{.+}} : tensor<1xf32>, tensor<1xi32>)
// CHECK: vector.transfer_read %arg0[%{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<20000xf32>, vector<64xf32>
// CHECK: scf.for %{{.+}} = %c1{{.*}} to %c312 step %c1{{.*}} iter_args(%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (vector<64xf32>, vector<64xi32>)
// CHECK: vector.transfer_read
// CHECK: arith.cmpf ogt, %{{.+}}, %{{.+}} : vector<64xf32>
// CHECK: vector.extract_strided_slice %{{.+}} {offsets = [32], sizes = [32], strides = [1]} : vector<64xf32> to vector<32xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %c20000 step %c1{{.*}} iter_args
// CHECK: tensor.extract %arg0
// CHECK: arith.extsi %{{.+}} : i32 to i64
func.func @argmax_lanes(%x: tensor<20000xf32>) -> tensor<i64> {
  %0 = ajit.argmax %x, axis = 0, keepdims = false : tensor<20000xf32> -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

// max of a whole stored array of 256K elements and more: the lane builder over the
// flattened array (32 chunks of 16K here, a parallel dimension; maximumf per lane,
// NaN-propagating), the chunk maxima combined by a small reduction. Below 256K it stays
// one generic.
// CHECK-LABEL: func.func @reduce_whole_lanes
// CHECK: tensor.collapse_shape %arg0 {{.+}} : tensor<512x1024xf32> into tensor<524288xf32>
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel"]} outs(%{{.+}} : tensor<32xf32>)
// CHECK: scf.for {{.+}} -> (vector<64xf32>)
// CHECK: arith.maximumf %{{.+}}, %{{.+}} : vector<64xf32>
// CHECK: iterator_types = ["reduction"]
// CHECK-LABEL: func.func @reduce_whole_small
// CHECK-NOT: vector<64xf32>
// CHECK: iterator_types = ["reduction"]
func.func @reduce_whole_lanes(%x: tensor<512x1024xf32>) -> tensor<f32> {
  %0 = ajit.reduce max %x, axes = [0, 1], keepdims = false : tensor<512x1024xf32> -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @reduce_whole_small(%x: tensor<1000xf32>) -> tensor<f32> {
  %0 = ajit.reduce max %x, axes = [0], keepdims = false : tensor<1000xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// softmax_stats along a long innermost axis: online (max, sum) per lane with one exp per
// element; 2M f32 elements make 64 chunks (a parallel dimension), combined by a reduction.
// CHECK-LABEL: func.func @softmax_stats_lanes
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel"]} outs(%{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>)
// CHECK: scf.for {{.+}} -> (vector<64xf32>, vector<64xf32>)
// CHECK: math.absf %{{.+}} : vector<64xf32>
// CHECK: math.exp %{{.+}} : vector<64xf32>
// CHECK-NOT: math.exp %{{.+}} : vector<64xf32>
// CHECK: scf.yield
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction"]} ins(%{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>)
// CHECK: math.exp
// CHECK: math.exp
func.func @softmax_stats_lanes(%x: tensor<2097152xf32>) -> (tensor<1xf32>, tensor<1xf32>) {
  %m, %s = ajit.softmax_stats %x, axis = 0 : tensor<2097152xf32> -> tensor<1xf32>, tensor<1xf32>
  return %m, %s : tensor<1xf32>, tensor<1xf32>
}

// -----

// softmax_stats along an outer axis: a max reduction, then the sum of exp(x - max).
// CHECK-LABEL: func.func @softmax_stats_outer_axis
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]}
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]}
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.addf {{.+}} fastmath<reassoc>
func.func @softmax_stats_outer_axis(%x: tensor<8x3xf32>) -> (tensor<1x3xf32>, tensor<1x3xf32>) {
  %m, %s = ajit.softmax_stats %x, axis = 0 : tensor<8x3xf32> -> tensor<1x3xf32>, tensor<1x3xf32>
  return %m, %s : tensor<1x3xf32>, tensor<1x3xf32>
}
