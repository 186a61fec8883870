//===- AjitOps.td - the ajit graph dialect ---------------------------------===//
//
// The graph IR that the tracer produces, in the manner of XLA's HLO: ranked tensors with
// static shapes, explicit broadcasts (binary ops require equal operand types), and a small
// op set. Every op verifies its operand shapes and dtypes and names them when they are wrong.
//
//===----------------------------------------------------------------------===//

#ifndef AJIT_OPS_TD
#define AJIT_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Ajit_Dialect : Dialect {
  let name = "ajit";
  let cppNamespace = "::ajit";
  let summary = "ajit's graph IR: traced array programs on static-shaped tensors";
  let description = [{
    Programs traced by `ajit::jit` are expressed in this dialect inside `func.func`.
    Shapes are static; broadcasting is explicit (`ajit.broadcast_in_dim`), so every
    elementwise op sees operands of one type. Fusion decisions are taken on this IR and
    each fusion is lowered through linalg to native code.
  }];
  let hasConstantMaterializer = 0;
}

// Elementwise ops do not carry MLIR's `Elementwise` trait: its verifier would reject a
// type mismatch first, with a message that names no shapes. `ajit::isElementwise` is the
// predicate passes use instead.
class Ajit_Op<string mnemonic, list<Trait> traits = []>
    : Op<Ajit_Dialect, mnemonic, !listconcat(traits, [Pure])>;

def Ajit_FloatTensor : StaticShapeTensorOf<[F16, BF16, F32, F64]>;
def Ajit_Tensor : StaticShapeTensorOf<[F16, BF16, F32, F64, I1, I32, I64]>;
def Ajit_BoolTensor : StaticShapeTensorOf<[I1]>;

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

// Unary ops print one type when operand and result agree (`: tensor<4xf32>`) and a
// functional type otherwise, so that the verifier, not the parser, reports a mismatch.
class Ajit_UnaryOp<string mnemonic, string summaryText, Type operandType = Ajit_Tensor>
    : Ajit_Op<mnemonic> {
  let summary = summaryText;
  let description = "Elementwise `" # mnemonic # "`. Example:\n\n"
      # "```mlir\n%y = ajit." # mnemonic # " %x : tensor<4xf32>\n```";
  let arguments = (ins operandType:$x);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` custom<ElementwiseTypes>(type($x), type($result))";
  let hasVerifier = 1;
}

def Ajit_NegOp : Ajit_UnaryOp<"neg", "negation">;
def Ajit_AbsOp : Ajit_UnaryOp<"abs", "absolute value">;
def Ajit_ExpOp : Ajit_UnaryOp<"exp", "e**x (polynomial approximation for f32)", Ajit_FloatTensor>;
def Ajit_LogOp : Ajit_UnaryOp<"log", "natural logarithm", Ajit_FloatTensor>;
def Ajit_SinOp : Ajit_UnaryOp<"sin", "sine", Ajit_FloatTensor>;
def Ajit_CosOp : Ajit_UnaryOp<"cos", "cosine", Ajit_FloatTensor>;
def Ajit_TanhOp : Ajit_UnaryOp<"tanh", "hyperbolic tangent", Ajit_FloatTensor>;
def Ajit_SqrtOp : Ajit_UnaryOp<"sqrt", "square root", Ajit_FloatTensor>;
def Ajit_RsqrtOp : Ajit_UnaryOp<"rsqrt", "1 / sqrt(x)", Ajit_FloatTensor>;
def Ajit_SigmoidOp : Ajit_UnaryOp<"sigmoid", "logistic sigmoid 1 / (1 + exp(-x))", Ajit_FloatTensor>;
def Ajit_ReluOp : Ajit_UnaryOp<"relu", "max(x, 0), NaN-propagating">;
def Ajit_GeluTanhOp : Ajit_UnaryOp<"gelu_tanh",
    "GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))", Ajit_FloatTensor>;
def Ajit_GeluErfOp : Ajit_UnaryOp<"gelu_erf",
    "GELU, exact form: 0.5 x (1 + erf(x / sqrt(2)))", Ajit_FloatTensor>;

class Ajit_BinaryOp<string mnemonic, string summaryText, Type operandType = Ajit_Tensor>
    : Ajit_Op<mnemonic> {
  let summary = summaryText;
  let description = "Elementwise `" # mnemonic # "` of two tensors of one type "
      # "(broadcasts are explicit). Example:\n\n"
      # "```mlir\n%z = ajit." # mnemonic # " %x, %y : tensor<4xf32>\n```";
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` "
      "custom<ElementwiseTypes>(type($lhs), type($rhs), type($result))";
  let hasVerifier = 1;
}

def Ajit_AddOp : Ajit_BinaryOp<"add", "addition">;
def Ajit_SubOp : Ajit_BinaryOp<"sub", "subtraction">;
def Ajit_MulOp : Ajit_BinaryOp<"mul", "multiplication">;
def Ajit_DivOp : Ajit_BinaryOp<"div",
    "division (integers: truncating, x / 0 = 0, INT_MIN / -1 = INT_MIN)">;
def Ajit_MaxOp : Ajit_BinaryOp<"max", "maximum (floats: NaN-propagating)">;
def Ajit_MinOp : Ajit_BinaryOp<"min", "minimum (floats: NaN-propagating)">;
def Ajit_PowOp : Ajit_BinaryOp<"pow", "x ** y">;

def Ajit_ComparePredicate : I32EnumAttr<"ComparePredicate", "comparison predicate", [
    I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>, I32EnumAttrCase<"lt", 2>,
    I32EnumAttrCase<"le", 3>, I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]> {
  let cppNamespace = "::ajit";
}

def Ajit_CompareOp : Ajit_Op<"compare"> {
  let summary = "elementwise comparison producing i1";
  let description = [{
    Floats compare as IEEE ordered predicates, except `ne`, which is unordered (so
    `NaN != NaN` is true, as in NumPy).

    ```mlir
    %m = ajit.compare lt, %x, %y : tensor<4xf32> -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Ajit_ComparePredicate:$predicate, Ajit_Tensor:$lhs, Ajit_Tensor:$rhs);
  let results = (outs Ajit_BoolTensor:$result);
  let assemblyFormat = "$predicate `,` $lhs `,` $rhs attr-dict `:` "
      "custom<OperandTypes>(type($lhs), type($rhs)) `->` type($result)";
  let hasVerifier = 1;
}

def Ajit_SelectOp : Ajit_Op<"select"> {
  let summary = "elementwise choice: cond ? on_true : on_false";
  let description = [{
    ```mlir
    %z = ajit.select %m, %x, %y : tensor<4xi1>, tensor<4xf32>
    ```
  }];
  let arguments = (ins Ajit_BoolTensor:$cond, Ajit_Tensor:$on_true, Ajit_Tensor:$on_false);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$cond `,` $on_true `,` $on_false attr-dict `:` type($cond) `,` "
      "custom<ElementwiseTypes>(type($on_true), type($on_false), type($result))";
  let hasVerifier = 1;
}

def Ajit_ClampOp : Ajit_Op<"clamp"> {
  let summary = "min(max(x, lo), hi), as numpy.clip";
  let description = [{
    ```mlir
    %z = ajit.clamp %x, %lo, %hi : tensor<4xf32>
    ```
  }];
  let arguments = (ins Ajit_Tensor:$x, Ajit_Tensor:$lo, Ajit_Tensor:$hi);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$x `,` $lo `,` $hi attr-dict `:` "
      "custom<ElementwiseTypes>(type($x), type($lo), type($hi), type($result))";
  let hasVerifier = 1;
}

def Ajit_ConvertOp : Ajit_Op<"convert"> {
  let summary = "dtype conversion";
  let description = [{
    Float to integer conversion saturates and maps NaN to 0 (as XLA's convert); a
    conversion to i1 is `x != 0`.

    ```mlir
    %y = ajit.convert %x : tensor<4xf32> -> tensor<4xi32>
    ```
  }];
  let arguments = (ins Ajit_Tensor:$x);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Constants and shape ops
//===----------------------------------------------------------------------===//

def Ajit_ConstantOp : Ajit_Op<"constant",
    [ConstantLike, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "a constant tensor";
  let description = [{
    ```mlir
    %c = ajit.constant dense<2.0> : tensor<4xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

def Ajit_BroadcastInDimOp : Ajit_Op<"broadcast_in_dim"> {
  let summary = "broadcast a tensor to a larger shape";
  let description = [{
    Operand dimension `i` becomes result dimension `dims[i]`; its size must equal that
    result dimension or be 1. `dims` is strictly increasing.

    ```mlir
    %y = ajit.broadcast_in_dim %x, dims = [1] : tensor<4xf32> -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Ajit_Tensor:$x, DenseI64ArrayAttr:$dims);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$x `,` `dims` `=` $dims attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Ajit_ReshapeOp : Ajit_Op<"reshape"> {
  let summary = "reshape in row-major order";
  let description = [{
    ```mlir
    %y = ajit.reshape %x : tensor<2x6xf32> -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Ajit_Tensor:$x);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Ajit_TransposeOp : Ajit_Op<"transpose"> {
  let summary = "permute dimensions";
  let description = [{
    Result dimension `i` is operand dimension `perm[i]`.

    ```mlir
    %y = ajit.transpose %x, perm = [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
    ```
  }];
  let arguments = (ins Ajit_Tensor:$x, DenseI64ArrayAttr:$perm);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$x `,` `perm` `=` $perm attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

def Ajit_ReduceKind : I32EnumAttr<"ReduceKind", "reduction kind", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"max", 1>, I32EnumAttrCase<"min", 2>,
    I32EnumAttrCase<"mean", 3>]> {
  let cppNamespace = "::ajit";
}

def Ajit_ReduceOp : Ajit_Op<"reduce"> {
  let summary = "reduce over a set of axes";
  let description = [{
    Reduces `x` over `axes` (sorted, unique). With `keepdims`, reduced dimensions stay as
    size 1. An empty reduction gives the identity: 0 for sum, -inf / the smallest integer
    for max, +inf / the largest integer for min, NaN for mean. Float max/min propagate NaN.

    ```mlir
    %s = ajit.reduce sum %x, axes = [1], keepdims = false : tensor<4x5xf32> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Ajit_ReduceKind:$kind, Ajit_Tensor:$x, DenseI64ArrayAttr:$axes,
                       BoolAttr:$keepdims);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$kind $x `,` `axes` `=` $axes `,` `keepdims` `=` $keepdims attr-dict "
      "`:` type($x) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

class Ajit_ArgReduceOp<string mnemonic, string summaryText> : Ajit_Op<mnemonic> {
  let summary = summaryText;
  let description = "Index (i64) of the first " # summaryText # " along `axis`; a NaN "
      # "counts as the extreme, as in NumPy. The axis must not be empty.\n\n"
      # "```mlir\n%i = ajit." # mnemonic
      # " %x, axis = 1, keepdims = false : tensor<4x5xf32> -> tensor<4xi64>\n```";
  let arguments = (ins Ajit_Tensor:$x, I64Attr:$axis, BoolAttr:$keepdims);
  let results = (outs StaticShapeTensorOf<[I64]>:$result);
  let assemblyFormat = "$x `,` `axis` `=` $axis `,` `keepdims` `=` $keepdims attr-dict "
      "`:` type($x) `->` type($result)";
  let hasVerifier = 1;
}

def Ajit_ArgMaxOp : Ajit_ArgReduceOp<"argmax", "maximum">;
def Ajit_ArgMinOp : Ajit_ArgReduceOp<"argmin", "minimum">;

def Ajit_SoftmaxStatsOp : Ajit_Op<"softmax_stats"> {
  let summary = "max and sum of exp(x - max) along one axis, in one pass";
  let description = [{
    `max` is the maximum of `x` along `axis` (NaN if any element is), `sum` is
    `sum(exp(x - max))` along it; both keep `axis` as a dimension of size 1. Softmax is
    `exp(x - max) / sum` and log-softmax `(x - max) - log(sum)`: with these statistics
    computed in one pass (online: the running sum is rescaled whenever the running
    maximum grows), each reads `x` twice instead of three times. An empty axis gives
    max = -inf and sum = 0.

    ```mlir
    %m, %s = ajit.softmax_stats %x, axis = 1 : tensor<4x5xf32> -> tensor<4x1xf32>, tensor<4x1xf32>
    ```
  }];
  let arguments = (ins Ajit_FloatTensor:$x, I64Attr:$axis);
  let results = (outs Ajit_FloatTensor:$max, Ajit_FloatTensor:$sum);
  let assemblyFormat = "$x `,` `axis` `=` $axis attr-dict `:` type($x) `->` type($max) `,` type($sum)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Ajit_DotOp : Ajit_Op<"dot"> {
  let summary = "matrix product, 2-D or batched";
  let description = [{
    `[M,K] x [K,N] -> [M,N]`, or batched `[B,M,K] x [B,K,N] -> [B,M,N]`. Operands have one
    element type (f16, bf16, f32, f64, i32 or i64); integers wrap on overflow.

    ```mlir
    %c = ajit.dot %a, %b : tensor<4x5xf32>, tensor<5x6xf32> -> tensor<4x6xf32>
    ```
  }];
  let arguments = (ins Ajit_Tensor:$lhs, Ajit_Tensor:$rhs);
  let results = (outs Ajit_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

def Ajit_FusionKind : I32EnumAttr<"FusionKind", "fusion kind", [
    I32EnumAttrCase<"loop", 0>, I32EnumAttrCase<"input", 1>, I32EnumAttrCase<"output", 2>]> {
  let cppNamespace = "::ajit";
}

def Ajit_FusionOp : Ajit_Op<"fusion", [SingleBlock]> {
  let summary = "a group of ops compiled as one kernel (one loop nest)";
  let description = [{
    The fusion passes group ops into `ajit.fusion` regions, as XLA does: every op of a
    region is computed in one loop nest that reads each external operand once and writes
    only the values the terminator yields. The kind says what drives the loop:
    `loop` (an elementwise root), `input` (a reduction root: the elementwise chain that
    feeds it is fused into its loop), `output` (an f32 `ajit.dot` and the elementwise
    chain that consumes it: the chain is applied to each tile of the product while the
    tile is in cache). A fusion with several results is a multi-output fusion.

    The region is not isolated: its ops use values defined above it directly.

    ```mlir
    %s, %e = ajit.fusion input {
      %e = ajit.exp %x : tensor<8xf32>
      %s = ajit.reduce sum %e, axes = [0], keepdims = false : tensor<8xf32> -> tensor<f32>
      ajit.yield %s, %e : tensor<f32>, tensor<8xf32>
    } : tensor<f32>, tensor<8xf32>
    ```
  }];
  let arguments = (ins Ajit_FusionKind:$kind);
  let results = (outs Variadic<Ajit_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$kind $body attr-dict `:` type($results)";
  let hasVerifier = 1;
}

def Ajit_YieldOp : Ajit_Op<"yield", [Terminator, HasParent<"FusionOp">]> {
  let summary = "the values a fusion region returns";
  let arguments = (ins Variadic<Ajit_Tensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // AJIT_OPS_TD
