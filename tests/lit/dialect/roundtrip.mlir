// Every ajit op parses, verifies and prints back in its custom form; the printed form and
// the generic form both parse again to the same thing.
// RUN: ajit-opt %s --split-input-file --verify-diagnostics | ajit-opt --split-input-file | FileCheck %s
// RUN: ajit-opt %s --split-input-file --verify-diagnostics --mlir-print-op-generic | ajit-opt --split-input-file | FileCheck %s
//
// custom<ElementwiseTypes> with operand/result types that differ: the parser accepts the
// functional form and the printer writes it back (verifier off), while the verifier still
// rejects it (the expected-error cases below, checked by the two RUN lines above).
// RUN: ajit-opt %s --split-input-file --mlir-very-unsafe-disable-verifier-on-parsing --mlir-print-assume-verified | FileCheck %s --check-prefix=UNVERIFIED

// CHECK-LABEL: func.func @unary_float
// CHECK-SAME: (%[[X:.+]]: tensor<4x5xf32>)
func.func @unary_float(%x: tensor<4x5xf32>) -> tensor<4x5xf32> {
  // CHECK: %[[NEG:.+]] = ajit.neg %[[X]] : tensor<4x5xf32>
  // CHECK: %[[ABS:.+]] = ajit.abs %[[NEG]] : tensor<4x5xf32>
  // CHECK: %[[EXP:.+]] = ajit.exp %[[ABS]] : tensor<4x5xf32>
  // CHECK: %[[LOG:.+]] = ajit.log %[[EXP]] : tensor<4x5xf32>
  // CHECK: %[[SIN:.+]] = ajit.sin %[[LOG]] : tensor<4x5xf32>
  // CHECK: %[[COS:.+]] = ajit.cos %[[SIN]] : tensor<4x5xf32>
  // CHECK: %[[TANH:.+]] = ajit.tanh %[[COS]] : tensor<4x5xf32>
  // CHECK: %[[SQRT:.+]] = ajit.sqrt %[[TANH]] : tensor<4x5xf32>
  // CHECK: %[[RSQRT:.+]] = ajit.rsqrt %[[SQRT]] : tensor<4x5xf32>
  // CHECK: %[[SIG:.+]] = ajit.sigmoid %[[RSQRT]] : tensor<4x5xf32>
  // CHECK: %[[RELU:.+]] = ajit.relu %[[SIG]] : tensor<4x5xf32>
  // CHECK: %[[GT:.+]] = ajit.gelu_tanh %[[RELU]] : tensor<4x5xf32>
  // CHECK: %[[GE:.+]] = ajit.gelu_erf %[[GT]] : tensor<4x5xf32>
  // CHECK: return %[[GE]] : tensor<4x5xf32>
  %0 = ajit.neg %x : tensor<4x5xf32>
  %1 = ajit.abs %0 : tensor<4x5xf32>
  %2 = ajit.exp %1 : tensor<4x5xf32>
  %3 = ajit.log %2 : tensor<4x5xf32>
  %4 = ajit.sin %3 : tensor<4x5xf32>
  %5 = ajit.cos %4 : tensor<4x5xf32>
  %6 = ajit.tanh %5 : tensor<4x5xf32>
  %7 = ajit.sqrt %6 : tensor<4x5xf32>
  %8 = ajit.rsqrt %7 : tensor<4x5xf32>
  %9 = ajit.sigmoid %8 : tensor<4x5xf32>
  %10 = ajit.relu %9 : tensor<4x5xf32>
  %11 = ajit.gelu_tanh %10 : tensor<4x5xf32>
  %12 = ajit.gelu_erf %11 : tensor<4x5xf32>
  return %12 : tensor<4x5xf32>
}

// -----

// neg, abs and relu also take integers, bool and rank-0 tensors; the float-only ops take
// every float width.
// CHECK-LABEL: func.func @unary_other_dtypes
// CHECK-SAME: (%[[I:.+]]: tensor<3xi32>, %[[B:.+]]: tensor<i1>, %[[H:.+]]: tensor<2xf16>, %[[BF:.+]]: tensor<2xbf16>, %[[D:.+]]: tensor<2xf64>)
func.func @unary_other_dtypes(%i: tensor<3xi32>, %b: tensor<i1>, %h: tensor<2xf16>,
                              %bf: tensor<2xbf16>, %d: tensor<2xf64>) {
  // CHECK: ajit.neg %[[I]] : tensor<3xi32>
  // CHECK: ajit.abs %[[I]] : tensor<3xi32>
  // CHECK: ajit.relu %[[I]] : tensor<3xi32>
  // CHECK: ajit.neg %[[B]] : tensor<i1>
  // CHECK: ajit.exp %[[H]] : tensor<2xf16>
  // CHECK: ajit.tanh %[[BF]] : tensor<2xbf16>
  // CHECK: ajit.gelu_erf %[[D]] : tensor<2xf64>
  %0 = ajit.neg %i : tensor<3xi32>
  %1 = ajit.abs %i : tensor<3xi32>
  %2 = ajit.relu %i : tensor<3xi32>
  %3 = ajit.neg %b : tensor<i1>
  %4 = ajit.exp %h : tensor<2xf16>
  %5 = ajit.tanh %bf : tensor<2xbf16>
  %6 = ajit.gelu_erf %d : tensor<2xf64>
  return
}

// -----

// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %[[Y:.+]]: tensor<4xf32>)
func.func @binary(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: %[[ADD:.+]] = ajit.add %[[X]], %[[Y]] : tensor<4xf32>
  // CHECK: %[[SUB:.+]] = ajit.sub %[[ADD]], %[[Y]] : tensor<4xf32>
  // CHECK: %[[MUL:.+]] = ajit.mul %[[SUB]], %[[X]] : tensor<4xf32>
  // CHECK: %[[DIV:.+]] = ajit.div %[[MUL]], %[[Y]] : tensor<4xf32>
  // CHECK: %[[MAX:.+]] = ajit.max %[[DIV]], %[[X]] : tensor<4xf32>
  // CHECK: %[[MIN:.+]] = ajit.min %[[MAX]], %[[Y]] : tensor<4xf32>
  // CHECK: %[[POW:.+]] = ajit.pow %[[MIN]], %[[X]] : tensor<4xf32>
  // CHECK: return %[[POW]]
  %0 = ajit.add %x, %y : tensor<4xf32>
  %1 = ajit.sub %0, %y : tensor<4xf32>
  %2 = ajit.mul %1, %x : tensor<4xf32>
  %3 = ajit.div %2, %y : tensor<4xf32>
  %4 = ajit.max %3, %x : tensor<4xf32>
  %5 = ajit.min %4, %y : tensor<4xf32>
  %6 = ajit.pow %5, %x : tensor<4xf32>
  return %6 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @binary_integer
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xi64>, %[[Y:.+]]: tensor<2x3xi64>)
func.func @binary_integer(%x: tensor<2x3xi64>, %y: tensor<2x3xi64>) -> tensor<2x3xi64> {
  // CHECK: %[[DIV:.+]] = ajit.div %[[X]], %[[Y]] : tensor<2x3xi64>
  // CHECK: %[[POW:.+]] = ajit.pow %[[DIV]], %[[Y]] : tensor<2x3xi64>
  %0 = ajit.div %x, %y : tensor<2x3xi64>
  %1 = ajit.pow %0, %y : tensor<2x3xi64>
  return %1 : tensor<2x3xi64>
}

// -----

// The functional form with types that all agree is accepted and printed short.
// CHECK-LABEL: func.func @functional_form_same_types
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %[[Y:.+]]: tensor<4xf32>)
func.func @functional_form_same_types(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: %[[NEG:.+]] = ajit.neg %[[X]] : tensor<4xf32>{{$}}
  // CHECK: %[[ADD:.+]] = ajit.add %[[NEG]], %[[Y]] : tensor<4xf32>{{$}}
  // CHECK: %[[CL:.+]] = ajit.clamp %[[ADD]], %[[X]], %[[Y]] : tensor<4xf32>{{$}}
  // CHECK: return %[[CL]]
  %0 = ajit.neg %x : (tensor<4xf32>) -> tensor<4xf32>
  %1 = ajit.add %0, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = ajit.clamp %1, %x, %y : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// Types that differ are printed in the functional form, and fail to verify.
// CHECK-NOT: @functional_form_unary_mismatch
// UNVERIFIED-LABEL: func.func @functional_form_unary_mismatch
// UNVERIFIED: ajit.neg %{{.+}} : (tensor<4xf32>) -> tensor<4xf64>
func.func @functional_form_unary_mismatch(%x: tensor<4xf32>) -> tensor<4xf64> {
  // expected-error @+1 {{'ajit.neg' op dtypes of operand and result differ: f32[4] vs f64[4]}}
  %0 = ajit.neg %x : (tensor<4xf32>) -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

// CHECK-NOT: @functional_form_binary_mismatch
// UNVERIFIED-LABEL: func.func @functional_form_binary_mismatch
// UNVERIFIED: ajit.add %{{.+}}, %{{.+}} : (tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
func.func @functional_form_binary_mismatch(%x: tensor<4xf32>, %y: tensor<4xf64>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.add' op dtypes of lhs and rhs differ: f32[4] vs f64[4]}}
  %0 = ajit.add %x, %y : (tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Operands agree, only the result differs: still the functional form.
// CHECK-NOT: @functional_form_result_mismatch
// UNVERIFIED-LABEL: func.func @functional_form_result_mismatch
// UNVERIFIED: ajit.mul %{{.+}}, %{{.+}} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi64>
func.func @functional_form_result_mismatch(%x: tensor<4xi32>) -> tensor<4xi64> {
  // expected-error @+1 {{'ajit.mul' op dtypes of lhs and result differ: i32[4] vs i64[4]}}
  %0 = ajit.mul %x, %x : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// CHECK-NOT: @functional_form_select_mismatch
// UNVERIFIED-LABEL: func.func @functional_form_select_mismatch
// UNVERIFIED: ajit.select %{{.+}}, %{{.+}}, %{{.+}} : tensor<4xi1>, (tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
func.func @functional_form_select_mismatch(%m: tensor<4xi1>, %x: tensor<4xf32>,
                                           %y: tensor<4xf64>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.select' op dtypes of on_true and on_false differ: f32[4] vs f64[4]}}
  %0 = ajit.select %m, %x, %y : tensor<4xi1>, (tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Compare's operands print as one type when they agree and as `(lhs, rhs)` otherwise;
// the result type follows the arrow.
// CHECK-NOT: @functional_form_compare_mismatch
// UNVERIFIED-LABEL: func.func @functional_form_compare_mismatch
// UNVERIFIED: ajit.compare eq, %{{.+}}, %{{.+}} : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xi1>
func.func @functional_form_compare_mismatch(%x: tensor<4xf32>, %y: tensor<4xi32>) -> tensor<4xi1> {
  // expected-error @+1 {{'ajit.compare' op dtypes of lhs and rhs differ: f32[4] vs i32[4]}}
  %0 = ajit.compare eq, %x, %y : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

// Compare's own result type follows `->` after the short form.
// CHECK-LABEL: func.func @compare_predicates
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %[[Y:.+]]: tensor<4xf32>)
func.func @compare_predicates(%x: tensor<4xf32>, %y: tensor<4xf32>) {
  // CHECK: ajit.compare eq, %[[X]], %[[Y]] : tensor<4xf32> -> tensor<4xi1>
  // CHECK: ajit.compare ne, %[[X]], %[[Y]] : tensor<4xf32> -> tensor<4xi1>
  // CHECK: ajit.compare lt, %[[X]], %[[Y]] : tensor<4xf32> -> tensor<4xi1>
  // CHECK: ajit.compare le, %[[X]], %[[Y]] : tensor<4xf32> -> tensor<4xi1>
  // CHECK: ajit.compare gt, %[[X]], %[[Y]] : tensor<4xf32> -> tensor<4xi1>
  // CHECK: ajit.compare ge, %[[X]], %[[Y]] : tensor<4xf32> -> tensor<4xi1>
  %0 = ajit.compare eq, %x, %y : tensor<4xf32> -> tensor<4xi1>
  %1 = ajit.compare ne, %x, %y : tensor<4xf32> -> tensor<4xi1>
  %2 = ajit.compare lt, %x, %y : tensor<4xf32> -> tensor<4xi1>
  %3 = ajit.compare le, %x, %y : tensor<4xf32> -> tensor<4xi1>
  %4 = ajit.compare gt, %x, %y : tensor<4xf32> -> tensor<4xi1>
  %5 = ajit.compare ge, %x, %y : tensor<4xf32> -> tensor<4xi1>
  return
}

// -----

// CHECK-LABEL: func.func @select_clamp_convert
// CHECK-SAME: (%[[M:.+]]: tensor<2x2xi1>, %[[X:.+]]: tensor<2x2xf32>, %[[Y:.+]]: tensor<2x2xf32>)
func.func @select_clamp_convert(%m: tensor<2x2xi1>, %x: tensor<2x2xf32>,
                                %y: tensor<2x2xf32>) -> tensor<2x2xi32> {
  // CHECK: %[[SEL:.+]] = ajit.select %[[M]], %[[X]], %[[Y]] : tensor<2x2xi1>, tensor<2x2xf32>
  // CHECK: %[[CL:.+]] = ajit.clamp %[[SEL]], %[[X]], %[[Y]] : tensor<2x2xf32>
  // CHECK: %[[CV:.+]] = ajit.convert %[[CL]] : tensor<2x2xf32> -> tensor<2x2xi32>
  // CHECK: ajit.convert %[[M]] : tensor<2x2xi1> -> tensor<2x2xf32>
  // CHECK: return %[[CV]]
  %0 = ajit.select %m, %x, %y : tensor<2x2xi1>, tensor<2x2xf32>
  %1 = ajit.clamp %0, %x, %y : tensor<2x2xf32>
  %2 = ajit.convert %1 : tensor<2x2xf32> -> tensor<2x2xi32>
  %3 = ajit.convert %m : tensor<2x2xi1> -> tensor<2x2xf32>
  return %2 : tensor<2x2xi32>
}

// -----

// CHECK-LABEL: func.func @constants
func.func @constants() -> (tensor<4xf32>, tensor<2x2xi32>, tensor<i1>, tensor<3xf64>) {
  // CHECK: %[[A:.+]] = ajit.constant dense<2.000000e+00> : tensor<4xf32>
  // CHECK: %[[B:.+]] = ajit.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xi32>
  // CHECK: %[[C:.+]] = ajit.constant dense<true> : tensor<i1>
  // CHECK: %[[D:.+]] = ajit.constant dense<[1.000000e+00, 2.500000e+00, -3.000000e+00]> : tensor<3xf64>
  // CHECK: return %[[A]], %[[B]], %[[C]], %[[D]]
  %a = ajit.constant dense<2.0> : tensor<4xf32>
  %b = ajit.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi32>
  %c = ajit.constant dense<true> : tensor<i1>
  %d = ajit.constant dense<[1.0, 2.5, -3.0]> : tensor<3xf64>
  return %a, %b, %c, %d : tensor<4xf32>, tensor<2x2xi32>, tensor<i1>, tensor<3xf64>
}

// -----

// CHECK-LABEL: func.func @shape_ops
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %[[Y:.+]]: tensor<2x6xf32>, %[[Z:.+]]: tensor<2x3x4xf32>)
func.func @shape_ops(%x: tensor<4xf32>, %y: tensor<2x6xf32>, %z: tensor<2x3x4xf32>) {
  // CHECK: ajit.broadcast_in_dim %[[X]], dims = [1] : tensor<4xf32> -> tensor<3x4xf32>
  // CHECK: ajit.broadcast_in_dim %{{.+}}, dims = [] : tensor<f32> -> tensor<2x2xf32>
  // CHECK: ajit.reshape %[[Y]] : tensor<2x6xf32> -> tensor<3x4xf32>
  // CHECK: ajit.transpose %[[Z]], perm = [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %0 = ajit.broadcast_in_dim %x, dims = [1] : tensor<4xf32> -> tensor<3x4xf32>
  %s = ajit.constant dense<1.0> : tensor<f32>
  %1 = ajit.broadcast_in_dim %s, dims = [] : tensor<f32> -> tensor<2x2xf32>
  %2 = ajit.reshape %y : tensor<2x6xf32> -> tensor<3x4xf32>
  %3 = ajit.transpose %z, perm = [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  return
}

// -----

// CHECK-LABEL: func.func @reduce_kinds
// CHECK-SAME: (%[[X:.+]]: tensor<4x5xf32>)
func.func @reduce_kinds(%x: tensor<4x5xf32>) {
  // CHECK: ajit.reduce sum %[[X]], axes = [1], keepdims = false : tensor<4x5xf32> -> tensor<4xf32>
  // CHECK: ajit.reduce max %[[X]], axes = [0], keepdims = true : tensor<4x5xf32> -> tensor<1x5xf32>
  // CHECK: ajit.reduce min %[[X]], axes = [0, 1], keepdims = false : tensor<4x5xf32> -> tensor<f32>
  // CHECK: ajit.reduce mean %[[X]], axes = [0, 1], keepdims = true : tensor<4x5xf32> -> tensor<1x1xf32>
  // CHECK: ajit.reduce sum %[[X]], axes = [], keepdims = false : tensor<4x5xf32> -> tensor<4x5xf32>
  %0 = ajit.reduce sum %x, axes = [1], keepdims = false : tensor<4x5xf32> -> tensor<4xf32>
  %1 = ajit.reduce max %x, axes = [0], keepdims = true : tensor<4x5xf32> -> tensor<1x5xf32>
  %2 = ajit.reduce min %x, axes = [0, 1], keepdims = false : tensor<4x5xf32> -> tensor<f32>
  %3 = ajit.reduce mean %x, axes = [0, 1], keepdims = true : tensor<4x5xf32> -> tensor<1x1xf32>
  %4 = ajit.reduce sum %x, axes = [], keepdims = false : tensor<4x5xf32> -> tensor<4x5xf32>
  return
}

// -----

// CHECK-LABEL: func.func @arg_reduce
// CHECK-SAME: (%[[X:.+]]: tensor<4x5xf32>, %[[I:.+]]: tensor<6xi32>)
func.func @arg_reduce(%x: tensor<4x5xf32>, %i: tensor<6xi32>) {
  // CHECK: ajit.argmax %[[X]], axis = 1, keepdims = false : tensor<4x5xf32> -> tensor<4xi64>
  // CHECK: ajit.argmin %[[X]], axis = 0, keepdims = true : tensor<4x5xf32> -> tensor<1x5xi64>
  // CHECK: ajit.argmax %[[I]], axis = 0, keepdims = false : tensor<6xi32> -> tensor<i64>
  %0 = ajit.argmax %x, axis = 1, keepdims = false : tensor<4x5xf32> -> tensor<4xi64>
  %1 = ajit.argmin %x, axis = 0, keepdims = true : tensor<4x5xf32> -> tensor<1x5xi64>
  %2 = ajit.argmax %i, axis = 0, keepdims = false : tensor<6xi32> -> tensor<i64>
  return
}

// -----

// CHECK-LABEL: func.func @dot_2d
// CHECK-SAME: (%[[A:.+]]: tensor<4x5xf32>, %[[B:.+]]: tensor<5x6xf32>)
func.func @dot_2d(%a: tensor<4x5xf32>, %b: tensor<5x6xf32>) -> tensor<4x6xf32> {
  // CHECK: %[[C:.+]] = ajit.dot %[[A]], %[[B]] : tensor<4x5xf32>, tensor<5x6xf32> -> tensor<4x6xf32>
  // CHECK: return %[[C]]
  %0 = ajit.dot %a, %b : tensor<4x5xf32>, tensor<5x6xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @dot_batched
// CHECK-SAME: (%[[A:.+]]: tensor<2x4x5xi32>, %[[B:.+]]: tensor<2x5x6xi32>)
func.func @dot_batched(%a: tensor<2x4x5xi32>, %b: tensor<2x5x6xi32>) -> tensor<2x4x6xi32> {
  // CHECK: %[[C:.+]] = ajit.dot %[[A]], %[[B]] : tensor<2x4x5xi32>, tensor<2x5x6xi32> -> tensor<2x4x6xi32>
  // CHECK: return %[[C]]
  %0 = ajit.dot %a, %b : tensor<2x4x5xi32>, tensor<2x5x6xi32> -> tensor<2x4x6xi32>
  return %0 : tensor<2x4x6xi32>
}
