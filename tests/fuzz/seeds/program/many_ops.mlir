func.func @f(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = ajit.add %x, %y : tensor<4xf32>
  %1 = ajit.exp %0 : tensor<4xf32>
  %m = ajit.compare lt, %x, %y : tensor<4xf32> -> tensor<4xi1>
  %s = ajit.select %m, %1, %0 : tensor<4xi1>, tensor<4xf32>
  %c = ajit.constant dense<2.0> : tensor<4xf32>
  %b = ajit.broadcast_in_dim %s, dims = [1] : tensor<4xf32> -> tensor<3x4xf32>
  %r = ajit.reduce sum %b, axes = [0], keepdims = false : tensor<3x4xf32> -> tensor<4xf32>
  %am = ajit.argmax %b, axis = 1, keepdims = true : tensor<3x4xf32> -> tensor<3x1xi64>
  %t = ajit.transpose %b, perm = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %d = ajit.dot %b, %t : tensor<3x4xf32>, tensor<4x3xf32> -> tensor<3x3xf32>
  %bad = ajit.add %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
