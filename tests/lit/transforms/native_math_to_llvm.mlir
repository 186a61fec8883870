// --ajit-native-math-to-llvm: math ops that are single PTX instructions become LLVM
// intrinsic calls (convert-gpu-to-nvvm would make them libdevice calls); the rest stay.
// RUN: ajit-opt %s --ajit-native-math-to-llvm | FileCheck %s
//
// After convert-gpu-to-nvvm: no libdevice call for them, f64 exp still one.
// RUN: ajit-opt %s --ajit-native-math-to-llvm --convert-gpu-to-nvvm | FileCheck %s --check-prefix=NVVM

// CHECK-LABEL: func.func @native
// CHECK:         %[[F:.+]] = llvm.call_intrinsic "llvm.fma.f32"(%arg0, %arg1, %arg2) : (f32, f32, f32) -> f32
// CHECK:         %[[A:.+]] = llvm.call_intrinsic "llvm.fabs.f32"(%[[F]])
// CHECK:         %[[S:.+]] = llvm.call_intrinsic "llvm.sqrt.f32"(%[[A]])
// CHECK:         %[[R:.+]] = llvm.call_intrinsic "llvm.sqrt.f64"(%arg3)
// CHECK:         %[[ONE:.+]] = arith.constant 1.000000e+00 : f64
// CHECK:         %[[INV:.+]] = arith.divf %[[ONE]], %[[R]] : f64
// CHECK:         llvm.call_intrinsic "llvm.floor.f32"
// CHECK:         llvm.call_intrinsic "llvm.copysign.f32"
// CHECK:         %[[E:.+]] = math.exp %arg3 : f64
// CHECK-NOT:     math.fma
// CHECK-NOT:     math.absf
// CHECK-NOT:     math.sqrt
// CHECK-NOT:     math.rsqrt
// NVVM-LABEL: llvm.func @native
// NVVM-NOT:     llvm.call @__nv_fmaf
// NVVM-NOT:     llvm.call @__nv_fabsf
// NVVM-NOT:     llvm.call @__nv_sqrtf
// NVVM:         llvm.call @__nv_exp(
// NVVM-NOT:     llvm.call @__nv_
gpu.module @kernels {
  func.func @native(%a: f32, %b: f32, %c: f32, %d: f64) -> (f32, f64, f32, f64) {
    %f = math.fma %a, %b, %c : f32
    %abs = math.absf %f : f32
    %s = math.sqrt %abs : f32
    %r = math.rsqrt %d : f64
    %fl = math.floor %s : f32
    %cs = math.copysign %fl, %a : f32
    %e = math.exp %d : f64
    %sum = arith.addf %r, %e : f64
    return %cs, %sum, %s, %r : f32, f64, f32, f64
  }
}
