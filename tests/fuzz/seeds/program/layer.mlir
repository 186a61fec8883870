module {
  func.func @layer(%arg0: tensor<8x16xf32>, %arg1: tensor<16x4xf32>, %arg2: tensor<4xf32>) -> (tensor<8x4xf32>, tensor<8xf32>) {
    %0 = ajit.dot %arg0, %arg1 : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
    %1 = ajit.broadcast_in_dim %arg2, dims = [1] : tensor<4xf32> -> tensor<8x4xf32>
    %2 = ajit.add %0, %1 : tensor<8x4xf32>
    %3 = ajit.gelu_tanh %2 : tensor<8x4xf32>
    %4 = ajit.reduce max %3, axes = [1], keepdims = true : tensor<8x4xf32> -> tensor<8x1xf32>
    %5 = ajit.broadcast_in_dim %4, dims = [0, 1] : tensor<8x1xf32> -> tensor<8x4xf32>
    %6 = ajit.sub %3, %5 : tensor<8x4xf32>
    %7 = ajit.exp %6 : tensor<8x4xf32>
    %8 = ajit.reduce sum %7, axes = [1], keepdims = true : tensor<8x4xf32> -> tensor<8x1xf32>
    %9 = ajit.broadcast_in_dim %8, dims = [0, 1] : tensor<8x1xf32> -> tensor<8x4xf32>
    %10 = ajit.div %7, %9 : tensor<8x4xf32>
    %11 = ajit.mul %10, %3 : tensor<8x4xf32>
    %12 = ajit.reduce mean %11, axes = [1], keepdims = false : tensor<8x4xf32> -> tensor<8xf32>
    return %3, %12 : tensor<8x4xf32>, tensor<8xf32>
  }
}
