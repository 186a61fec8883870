// W2's g(x) = sum(sin(x)^2 + cos(x)^2), as the tracer emits it, through the CPU phases.
//
// Lowering alone: one generic per op (five elementwise, one reduction).
// RUN: ajit-opt %s --ajit-lower-to-linalg | FileCheck %s --check-prefix=LINALG
//
// With elementwise fusion the whole chain is fused into the reduction: ONE generic.
// RUN: ajit-opt %s --ajit-lower-to-linalg --linalg-fuse-elementwise-ops | FileCheck %s --check-prefix=FUSED
//
// The whole pipeline: an llvm.func taking only pointers (bare-pointer convention, the
// result an out-param), with sin/cos approximated inline: no math op, no libm call, and
// no llvm.intr.sin/cos either (LLVM would turn those into calls to sinf/cosf).
// RUN: ajit-opt %s --ajit-cpu-pipeline \
// RUN:   | FileCheck %s --check-prefix=LLVM --implicit-check-not=math. \
// RUN:     --implicit-check-not=@sinf --implicit-check-not=@cosf --implicit-check-not=llvm.call \
// RUN:     --implicit-check-not=llvm.intr.sin --implicit-check-not=llvm.intr.cos

func.func @g(%x: tensor<10000xf32>) -> tensor<f32> {
  %s = ajit.sin %x : tensor<10000xf32>
  %c = ajit.cos %x : tensor<10000xf32>
  %s2 = ajit.mul %s, %s : tensor<10000xf32>
  %c2 = ajit.mul %c, %c : tensor<10000xf32>
  %a = ajit.add %s2, %c2 : tensor<10000xf32>
  %r = ajit.reduce sum %a, axes = [0], keepdims = false : tensor<10000xf32> -> tensor<f32>
  return %r : tensor<f32>
}

// LINALG-LABEL: func.func @g
// LINALG-COUNT-5: linalg.generic {{.+}} iterator_types = ["parallel"]
// LINALG-NOT: linalg.generic
// LINALG: %{{.+}} = linalg.fill
// LINALG-NOT: linalg.generic
// LINALG: linalg.generic {{.+}} iterator_types = ["reduction"]
// LINALG-NOT: linalg.generic
// LINALG: return

// FUSED: #[[$IN:.+]] = affine_map<(d0) -> (d0)>
// FUSED: #[[$ACC:.+]] = affine_map<(d0) -> ()>
// FUSED-LABEL: func.func @g
// FUSED-SAME: (%[[X:.+]]: tensor<10000xf32>) -> tensor<f32>
// FUSED-NOT: linalg.generic
// FUSED: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// FUSED: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<f32>)
// FUSED: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$ACC]]], iterator_types = ["reduction"]}
// FUSED-SAME: ins(%[[X]] : tensor<10000xf32>) outs(%[[INIT]] : tensor<f32>)
// FUSED-NEXT: ^bb0(%[[IN:.+]]: f32, %[[OUT:.+]]: f32):
// sin and cos are expanded in place (three-part Cody-Waite reduction with FMAs, f32
// polynomials) and, of the same x, share ONE argument reduction after CSE; no math.sin
// or math.cos is left.
// FUSED-NOT: math.sin
// FUSED-NOT: math.cos
// The quadrant k = round(x * 2/pi) from one FMA with 1.5 * 2^23 (0x4B400000): k is that
// sum minus 1.5 * 2^23, and its low bits pick the polynomial and the sign.
// FUSED: %[[T:.+]] = math.fma %[[IN]], %{{.+}}, %[[MAGIC:.+]] : f32
// FUSED-NEXT: %[[K:.+]] = arith.subf %[[T]], %[[MAGIC]] : f32
// FUSED-NOT: math.fma %[[IN]], %{{.+}}, %[[MAGIC]]
// FUSED: math.fma %{{.+}}, %{{.+}}, %[[IN]] : f32
// FUSED: arith.bitcast %[[T]] : f32 to i32
// FUSED: %[[ACCUM:.+]] = arith.addf %{{.+}}, %[[OUT]] fastmath<reassoc> : f32
// FUSED: linalg.yield %[[ACCUM]] : f32
// FUSED-NOT: linalg.generic
// FUSED: return %[[R]] : tensor<f32>
// FUSED-NOT: linalg.generic

// Two pointers, no result: the input and the out-param the sum is stored to.
// LLVM-LABEL: llvm.func @g(
// LLVM-SAME: %[[X:[a-z0-9_]+]]: !llvm.ptr, %[[OUT:[a-z0-9_]+]]: !llvm.ptr) {
// LLVM: llvm.store %{{.+}}, %[[OUT]] : f32, !llvm.ptr
// LLVM: llvm.getelementptr {{.*}}%[[X]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// LLVM: llvm.intr.fma
// LLVM: llvm.fadd %{{.+}}, %{{.+}} {fastmathFlags = #llvm.fastmath<reassoc>} : f32
// LLVM: llvm.store %{{.+}}, %[[OUT]] : f32, !llvm.ptr
// LLVM: llvm.return{{$}}
// LLVM-NOT: llvm.func
