func.func @g(%x: tensor<10000xf32>) -> tensor<f32> {
  %s = ajit.sin %x : tensor<10000xf32>
  %c = ajit.cos %x : tensor<10000xf32>
  %s2 = ajit.mul %s, %s : tensor<10000xf32>
  %c2 = ajit.mul %c, %c : tensor<10000xf32>
  %a = ajit.add %s2, %c2 : tensor<10000xf32>
  %r = ajit.reduce sum %a, axes = [0], keepdims = false : tensor<10000xf32> -> tensor<f32>
  return %r : tensor<f32>
}
