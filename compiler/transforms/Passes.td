//===- Passes.td - ajit passes ---------------------------------------------===//
#ifndef AJIT_PASSES_TD
#define AJIT_PASSES_TD

include "mlir/Pass/PassBase.td"

def AjitLowerToLinalg : Pass<"ajit-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower the ajit graph dialect to linalg on tensors";
  let description = [{
    Every ajit op becomes linalg on tensors (plus tensor, arith and math):
    elementwise ops => `linalg.generic` with parallel iterators and a scalar body;
    `broadcast_in_dim`/`transpose` => `linalg.generic` with projected/permuted input maps;
    `reduce`/`argmax`/`argmin` => `linalg.generic` with reduction iterators over a
    `linalg.fill`ed init; `dot` => `linalg.generic` in (m, k, n) order so the innermost loop
    walks rows of the right operand and the output; `reshape` => `tensor.collapse_shape`
    + `tensor.expand_shape`; `constant` => `arith.constant`.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect"];
}

def AjitApproximateMath : Pass<"ajit-approximate-math", "mlir::ModuleOp"> {
  let summary = "Replace f32 transcendentals with vectorizable polynomial approximations";
  let description = [{
    `math.exp/log/sin/cos/tanh/erf/...` on f32 => polynomial approximations built from
    arith ops and bit manipulation (MLIR's math approximation patterns), so the loop
    vectorizer turns them into 512-bit code instead of scalar libm calls. `math.powf` is
    first expanded to `exp(y * log(x))` with sign handling. f64 keeps libm calls.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

#endif
