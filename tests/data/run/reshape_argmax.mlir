func.func @reshape_argmax(%x: tensor<2x12xf32>) -> (tensor<4xi64>, tensor<4xf32>) {
  %r = ajit.reshape %x : tensor<2x12xf32> -> tensor<4x6xf32>
  %t = ajit.transpose %r, perm = [1, 0] : tensor<4x6xf32> -> tensor<6x4xf32>
  %i = ajit.argmax %t, axis = 0, keepdims = false : tensor<6x4xf32> -> tensor<4xi64>
  %s = ajit.reduce sum %t, axes = [0], keepdims = false : tensor<6x4xf32> -> tensor<4xf32>
  return %i, %s : tensor<4xi64>, tensor<4xf32>
}
