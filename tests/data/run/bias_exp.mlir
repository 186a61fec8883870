func.func @bias_exp(%x: tensor<3x4xf32>, %y: tensor<4xf32>) -> tensor<3x4xf32> {
  %b = ajit.broadcast_in_dim %y, dims = [1] : tensor<4xf32> -> tensor<3x4xf32>
  %s = ajit.add %x, %b : tensor<3x4xf32>
  %e = ajit.exp %s : tensor<3x4xf32>
  return %e : tensor<3x4xf32>
}
