func.func @int_select(%p: tensor<4x6xi32>, %q: tensor<4x6xi32>) -> (tensor<4x6xi32>, tensor<4x6xi1>) {
  %m = ajit.compare lt, %p, %q : tensor<4x6xi32> -> tensor<4x6xi1>
  %pq = ajit.mul %p, %q : tensor<4x6xi32>
  %one = ajit.constant dense<1> : tensor<4x6xi32>
  %t = ajit.add %pq, %one : tensor<4x6xi32>
  %r = ajit.select %m, %t, %p : tensor<4x6xi1>, tensor<4x6xi32>
  return %r, %m : tensor<4x6xi32>, tensor<4x6xi1>
}
