func.func @softmax(%x: tensor<5x7xf32>) -> tensor<5x7xf32> {
  %m = ajit.reduce max %x, axes = [1], keepdims = true : tensor<5x7xf32> -> tensor<5x1xf32>
  %mb = ajit.broadcast_in_dim %m, dims = [0, 1] : tensor<5x1xf32> -> tensor<5x7xf32>
  %d = ajit.sub %x, %mb : tensor<5x7xf32>
  %e = ajit.exp %d : tensor<5x7xf32>
  %s = ajit.reduce sum %e, axes = [1], keepdims = true : tensor<5x7xf32> -> tensor<5x1xf32>
  %sb = ajit.broadcast_in_dim %s, dims = [0, 1] : tensor<5x1xf32> -> tensor<5x7xf32>
  %r = ajit.div %e, %sb : tensor<5x7xf32>
  return %r : tensor<5x7xf32>
}
