// Every verifier error of compiler/dialect/AjitOps.cpp, one case each, with its message.
// RUN: ajit-opt %s --split-input-file --verify-diagnostics

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

func.func @unary_dtype_mismatch(%x: tensor<4xf32>) -> tensor<4xf64> {
  // expected-error @+1 {{'ajit.neg' op dtypes of operand and result differ: f32[4] vs f64[4]}}
  %0 = ajit.neg %x : (tensor<4xf32>) -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @float_unary_dtype_mismatch(%x: tensor<2x3xf16>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'ajit.exp' op dtypes of operand and result differ: f16[2,3] vs f32[2,3]}}
  %0 = ajit.exp %x : (tensor<2x3xf16>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @binary_lhs_rhs_dtype_mismatch(%x: tensor<4xf32>, %y: tensor<4xi32>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.add' op dtypes of lhs and rhs differ: f32[4] vs i32[4]}}
  %0 = ajit.add %x, %y : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @binary_result_dtype_mismatch(%x: tensor<2x3xf32>) -> tensor<2x3xf64> {
  // expected-error @+1 {{'ajit.sub' op dtypes of lhs and result differ: f32[2,3] vs f64[2,3]}}
  %0 = ajit.sub %x, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf64>
  return %0 : tensor<2x3xf64>
}

// -----

// Shape mismatches are reported by the ops' own verifiers (the ops no longer carry MLIR's
// Elementwise trait, whose verifier used to fire first with a message naming no shapes).
func.func @unary_shape_mismatch(%x: tensor<4xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{'ajit.neg' op shapes of operand and result differ: f32[4] vs f32[5]}}
  %0 = ajit.neg %x : (tensor<4xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @binary_shape_mismatch(%x: tensor<4xf32>, %y: tensor<3xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.mul' op shapes of lhs and rhs differ: f32[4] vs f32[3]}}
  %0 = ajit.mul %x, %y : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @compare_result_shape_mismatch(%x: tensor<4xf32>) -> tensor<3xi1> {
  // expected-error @+1 {{'ajit.compare' op result shape bool[3] differs from operand shape f32[4]}}
  %0 = ajit.compare lt, %x, %x : tensor<4xf32> -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

func.func @select_cond_shape_mismatch(%m: tensor<3xi1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.select' op shapes of cond and on_true differ: bool[3] vs f32[4]}}
  %0 = ajit.select %m, %x, %x : tensor<3xi1>, tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @convert_changes_shape(%x: tensor<4xf32>) -> tensor<2x2xi32> {
  // expected-error @+1 {{'ajit.convert' op changes the shape: f32[4] -> i32[2,2]}}
  %0 = ajit.convert %x : tensor<4xf32> -> tensor<2x2xi32>
  return %0 : tensor<2x2xi32>
}

// -----

func.func @pow_on_bool(%x: tensor<4xi1>) -> tensor<4xi1> {
  // expected-error @+1 {{'ajit.pow' op is not defined on bool tensors: bool[4]}}
  %0 = ajit.pow %x, %x : tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @compare_dtype_mismatch(%x: tensor<4xi32>, %y: tensor<4xi64>) -> tensor<4xi1> {
  // expected-error @+1 {{'ajit.compare' op dtypes of lhs and rhs differ: i32[4] vs i64[4]}}
  %0 = ajit.compare eq, %x, %y : (tensor<4xi32>, tensor<4xi64>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @select_branch_dtype_mismatch(%m: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xf64>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.select' op dtypes of on_true and on_false differ: f32[4] vs f64[4]}}
  %0 = ajit.select %m, %x, %y : tensor<4xi1>, (tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @select_result_dtype_mismatch(%m: tensor<4xi1>, %x: tensor<4xf32>) -> tensor<4xi32> {
  // expected-error @+1 {{'ajit.select' op dtypes of on_true and result differ: f32[4] vs i32[4]}}
  %0 = ajit.select %m, %x, %x : tensor<4xi1>, (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @clamp_bound_dtype_mismatch(%x: tensor<4xf32>, %hi: tensor<4xf64>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.clamp' op dtypes of operand and hi differ: f32[4] vs f64[4]}}
  %0 = ajit.clamp %x, %x, %hi : (tensor<4xf32>, tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// broadcast_in_dim
//===----------------------------------------------------------------------===//

// -----

func.func @broadcast_changes_dtype(%x: tensor<4xf32>) -> tensor<3x4xf64> {
  // expected-error @+1 {{'ajit.broadcast_in_dim' op changes the dtype: f32[4] -> f64[3,4]}}
  %0 = ajit.broadcast_in_dim %x, dims = [1] : tensor<4xf32> -> tensor<3x4xf64>
  return %0 : tensor<3x4xf64>
}

// -----

func.func @broadcast_dims_count(%x: tensor<4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'ajit.broadcast_in_dim' op has 2 dims for an operand of rank 1 (f32[4])}}
  %0 = ajit.broadcast_in_dim %x, dims = [0, 1] : tensor<4xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @broadcast_dim_too_large(%x: tensor<4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'ajit.broadcast_in_dim' op dims[0] = 2 is out of range for result f32[3,4]}}
  %0 = ajit.broadcast_in_dim %x, dims = [2] : tensor<4xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @broadcast_dim_negative(%x: tensor<4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'ajit.broadcast_in_dim' op dims[0] = -1 is out of range for result f32[3,4]}}
  %0 = ajit.broadcast_in_dim %x, dims = [-1] : tensor<4xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @broadcast_dims_not_increasing(%x: tensor<3x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'ajit.broadcast_in_dim' op dims must be strictly increasing, got [1,0]}}
  %0 = ajit.broadcast_in_dim %x, dims = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @broadcast_size_mismatch(%x: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'ajit.broadcast_in_dim' op cannot broadcast f32[3] to f32[2,4]: operand dimension 0 (size 3) maps to result dimension 1 (size 4)}}
  %0 = ajit.broadcast_in_dim %x, dims = [1] : tensor<3xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

//===----------------------------------------------------------------------===//
// reshape
//===----------------------------------------------------------------------===//

// -----

func.func @reshape_changes_dtype(%x: tensor<2x6xf32>) -> tensor<3x4xi32> {
  // expected-error @+1 {{'ajit.reshape' op changes the dtype: f32[2,6] -> i32[3,4]}}
  %0 = ajit.reshape %x : tensor<2x6xf32> -> tensor<3x4xi32>
  return %0 : tensor<3x4xi32>
}

// -----

func.func @reshape_element_count(%x: tensor<2x6xf32>) -> tensor<5x2xf32> {
  // expected-error @+1 {{'ajit.reshape' op cannot reshape f32[2,6] (12 elements) to f32[5,2] (10 elements)}}
  %0 = ajit.reshape %x : tensor<2x6xf32> -> tensor<5x2xf32>
  return %0 : tensor<5x2xf32>
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

// -----

func.func @transpose_changes_dtype(%x: tensor<2x3xf32>) -> tensor<3x2xf16> {
  // expected-error @+1 {{'ajit.transpose' op changes the dtype: f32[2,3] -> f16[3,2]}}
  %0 = ajit.transpose %x, perm = [1, 0] : tensor<2x3xf32> -> tensor<3x2xf16>
  return %0 : tensor<3x2xf16>
}

// -----

func.func @transpose_perm_size(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'ajit.transpose' op perm [0] has 1 entries for an operand of rank 2 (f32[2,3])}}
  %0 = ajit.transpose %x, perm = [0] : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @transpose_perm_repeats(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'ajit.transpose' op perm [0,0] is not a permutation of 0..1}}
  %0 = ajit.transpose %x, perm = [0, 0] : tensor<2x3xf32> -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @transpose_perm_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'ajit.transpose' op perm [0,2] is not a permutation of 0..1}}
  %0 = ajit.transpose %x, perm = [0, 2] : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @transpose_wrong_result(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'ajit.transpose' op result f32[2,3] is not f32[2,3] permuted by [1,0]}}
  %0 = ajit.transpose %x, perm = [1, 0] : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A rank-0 operand has perm = []: the result must still have rank 0.
func.func @transpose_rank0_to_rank1(%x: tensor<f32>) -> tensor<1xf32> {
  // expected-error @+1 {{'ajit.transpose' op result f32[1] is not f32[] permuted by []}}
  %0 = ajit.transpose %x, perm = [] : tensor<f32> -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

//===----------------------------------------------------------------------===//
// reduce
//===----------------------------------------------------------------------===//

// -----

func.func @reduce_changes_dtype(%x: tensor<4x5xf32>) -> tensor<4xf64> {
  // expected-error @+1 {{'ajit.reduce' op changes the dtype: f32[4,5] -> f64[4]}}
  %0 = ajit.reduce sum %x, axes = [1], keepdims = false : tensor<4x5xf32> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @reduce_axis_out_of_range(%x: tensor<4x5xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.reduce' op axis 2 is out of range for f32[4,5]}}
  %0 = ajit.reduce max %x, axes = [2], keepdims = false : tensor<4x5xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @reduce_axes_unsorted(%x: tensor<4x5xf32>) -> tensor<f32> {
  // expected-error @+1 {{'ajit.reduce' op axes must be sorted and unique, got [1,0]}}
  %0 = ajit.reduce min %x, axes = [1, 0], keepdims = false : tensor<4x5xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @reduce_mean_of_integers(%x: tensor<4x5xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'ajit.reduce' op mean needs a float operand, got i32[4,5]}}
  %0 = ajit.reduce mean %x, axes = [1], keepdims = false : tensor<4x5xi32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @reduce_wrong_result_shape(%x: tensor<4x5xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{'ajit.reduce' op result f32[5] should have shape [4] (reducing f32[4,5] over axes [1])}}
  %0 = ajit.reduce sum %x, axes = [1], keepdims = false : tensor<4x5xf32> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @reduce_keepdims_wrong_result_shape(%x: tensor<4x5xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.reduce' op result f32[4] should have shape [4,1] (reducing f32[4,5] over axes [1] with keepdims)}}
  %0 = ajit.reduce sum %x, axes = [1], keepdims = true : tensor<4x5xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// argmax / argmin
//===----------------------------------------------------------------------===//

// -----

func.func @argmax_axis_out_of_range(%x: tensor<4x5xf32>) -> tensor<4xi64> {
  // expected-error @+1 {{'ajit.argmax' op axis 2 is out of range for f32[4,5]}}
  %0 = ajit.argmax %x, axis = 2, keepdims = false : tensor<4x5xf32> -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

func.func @argmin_empty_axis(%x: tensor<4x0xf32>) -> tensor<4xi64> {
  // expected-error @+1 {{'ajit.argmin' op axis 1 of f32[4,0] is empty: there is no index to return}}
  %0 = ajit.argmin %x, axis = 1, keepdims = false : tensor<4x0xf32> -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

func.func @argmax_on_bool(%x: tensor<4xi1>) -> tensor<i64> {
  // expected-error @+1 {{'ajit.argmax' op is not defined on bool tensors: bool[4]}}
  %0 = ajit.argmax %x, axis = 0, keepdims = false : tensor<4xi1> -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

func.func @argmin_wrong_result_shape(%x: tensor<4x5xf32>) -> tensor<5xi64> {
  // expected-error @+1 {{'ajit.argmin' op result i64[5] should have shape [4]}}
  %0 = ajit.argmin %x, axis = 1, keepdims = false : tensor<4x5xf32> -> tensor<5xi64>
  return %0 : tensor<5xi64>
}

//===----------------------------------------------------------------------===//
// dot
//===----------------------------------------------------------------------===//

// -----

func.func @dot_dtype_mismatch(%a: tensor<4x5xf32>, %b: tensor<5x6xf64>) -> tensor<4x6xf32> {
  // expected-error @+1 {{'ajit.dot' op dtypes differ: f32[4,5] x f64[5,6] -> f32[4,6]}}
  %0 = ajit.dot %a, %b : tensor<4x5xf32>, tensor<5x6xf64> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @dot_on_bool(%a: tensor<2x2xi1>) -> tensor<2x2xi1> {
  // expected-error @+1 {{'ajit.dot' op is not defined on bool tensors: bool[2,2]}}
  %0 = ajit.dot %a, %a : tensor<2x2xi1>, tensor<2x2xi1> -> tensor<2x2xi1>
  return %0 : tensor<2x2xi1>
}

// -----

func.func @dot_rank_mismatch(%a: tensor<4x5xf32>, %b: tensor<2x5x6xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{'ajit.dot' op needs two rank-2 or two rank-3 (batched) operands, got f32[4,5] and f32[2,5,6]}}
  %0 = ajit.dot %a, %b : tensor<4x5xf32>, tensor<2x5x6xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @dot_contracting_mismatch(%a: tensor<4x5xf32>, %b: tensor<4x6xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{'ajit.dot' op contracting dimensions differ: 5 vs 4 (f32[4,5] x f32[4,6])}}
  %0 = ajit.dot %a, %b : tensor<4x5xf32>, tensor<4x6xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @dot_batch_mismatch(%a: tensor<2x4x5xf32>, %b: tensor<3x5x6xf32>) -> tensor<2x4x6xf32> {
  // expected-error @+1 {{'ajit.dot' op batch dimensions differ: 2 vs 3 (f32[2,4,5] x f32[3,5,6])}}
  %0 = ajit.dot %a, %b : tensor<2x4x5xf32>, tensor<3x5x6xf32> -> tensor<2x4x6xf32>
  return %0 : tensor<2x4x6xf32>
}

// -----

func.func @dot_wrong_result_shape(%a: tensor<4x5xf32>, %b: tensor<5x6xf32>) -> tensor<6x4xf32> {
  // expected-error @+1 {{'ajit.dot' op result f32[6,4] should have shape [4,6] for f32[4,5] x f32[5,6]}}
  %0 = ajit.dot %a, %b : tensor<4x5xf32>, tensor<5x6xf32> -> tensor<6x4xf32>
  return %0 : tensor<6x4xf32>
}

//===----------------------------------------------------------------------===//
// Type constraints from AjitOps.td (ODS-generated, not in AjitOps.cpp)
//===----------------------------------------------------------------------===//

// -----

func.func @float_op_on_integers(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'ajit.exp' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4xi32>'}}
  %0 = ajit.exp %x : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @dynamic_shape(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'ajit.neg' op operand #0 must be statically shaped tensor of}}
  %0 = ajit.neg %x : tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @unsupported_dtype(%x: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{'ajit.add' op operand #0 must be statically shaped tensor of}}
  %0 = ajit.add %x, %x : tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @compare_result_not_bool(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.compare' op result #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<4xf32>'}}
  %0 = ajit.compare lt, %x, %x : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @select_cond_not_bool(%c: tensor<4xi32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'ajit.select' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<4xi32>'}}
  %0 = ajit.select %c, %x, %x : tensor<4xi32>, tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @argmax_result_not_i64(%x: tensor<4x5xf32>) -> tensor<4xi32> {
  // expected-error @+1 {{'ajit.argmax' op result #0 must be statically shaped tensor of 64-bit signless integer values, but got 'tensor<4xi32>'}}
  %0 = ajit.argmax %x, axis = 1, keepdims = false : tensor<4x5xf32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @constant_unsupported_dtype() -> tensor<4xi8> {
  // expected-error @+1 {{'ajit.constant' op result #0 must be statically shaped tensor of}}
  %0 = ajit.constant dense<1> : tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// The result type of ajit.constant is inferred from its value.
func.func @constant_result_type_mismatch() -> tensor<5xf32> {
  // expected-error @+2 {{'ajit.constant' op inferred type(s) 'tensor<4xf32>' are incompatible with return type(s) of operation 'tensor<5xf32>'}}
  // expected-error @+1 {{'ajit.constant' op failed to infer returned types}}
  %0 = "ajit.constant"() <{value = dense<1.0> : tensor<4xf32>}> : () -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @softmax_stats_drops_axis(%x: tensor<4x5xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // expected-error @+1 {{'ajit.softmax_stats' op result f32[4] should be f32[4,1] (reducing f32[4,5] along axis 1)}}
  %m, %s = ajit.softmax_stats %x, axis = 1 : tensor<4x5xf32> -> tensor<4xf32>, tensor<4xf32>
  return %m, %s : tensor<4xf32>, tensor<4xf32>
}
