func.func @matmul_relu(%a: tensor<6x5xf64>, %b: tensor<5x3xf64>) -> tensor<6x3xf64> {
  %c = ajit.dot %a, %b : tensor<6x5xf64>, tensor<5x3xf64> -> tensor<6x3xf64>
  %r = ajit.relu %c : tensor<6x3xf64>
  return %r : tensor<6x3xf64>
}
