// The PTX pipeline honours donation as the CPU's does (ajit-reuse-donated-inputs in its
// bufferized phase): the result's out-param says which argument it reuses, and the
// kernel reads the donated values from that out-param, never from the argument (the
// runtime passes the argument's own device buffer as the out-param when it may, else
// one filled with the argument's values).
// RUN: ajit-opt %s --ajit-ptx-pipeline | FileCheck %s

func.func @step(%p: tensor<1024xf32> {ajit.donate}, %g: tensor<1024xf32>) -> tensor<1024xf32> {
  %h = ajit.constant dense<5.000000e-01> : tensor<1024xf32>
  %d = ajit.mul %g, %h : tensor<1024xf32>
  %r = ajit.sub %p, %d : tensor<1024xf32>
  return %r : tensor<1024xf32>
}

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[P:.+]]: memref<1024xf32> {ajit.donate}, %[[G:.+]]: memref<1024xf32>, %[[OUT:.+]]: memref<1024xf32> {ajit.reuses_input = 0 : i64})
// CHECK-NOT: %[[P]]
// CHECK: gpu.launch_func @step_kernels::@step_k0 {{.+}} args(%[[OUT]] : memref<1024xf32>, %[[G]] : memref<1024xf32>)
// CHECK-NOT: %[[P]]
// CHECK: return
