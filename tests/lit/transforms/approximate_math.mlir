// --ajit-approximate-math replaces f32 transcendentals with polynomial approximations made
// of arith ops (and math.fma / math.floor, which LLVM lowers to instructions); f64 keeps
// its math ops (libm calls later).
// RUN: ajit-opt %s --split-input-file --ajit-approximate-math | FileCheck %s
// No f32 (scalar or vector) transcendental survives anywhere in the output:
// RUN: ajit-opt %s --split-input-file --ajit-approximate-math \
// RUN:   | FileCheck %s --implicit-check-not='{{math\.(exp|sin|cos|tanh|log|erf|powf) .*f32}}'

// exp (ExpF32): x clamped below only, k rounded by an FMA with 1.5 * 2^23, 2^k from t's
// bits (no floor, no fptosi: poison on NaN), 2^k * (1 + p) as one FMA.
// CHECK-LABEL: func.func @exp_f32
// CHECK-SAME: (%[[X:.+]]: f32)
// CHECK-NOT: math.exp
// CHECK-DAG: %[[LO:.+]] = arith.constant -8.780000e+01 : f32
// CHECK-DAG: %[[MAGIC:.+]] = arith.constant 0x4B400000 : f32
// CHECK-DAG: %[[CAP:.+]] = arith.constant 0x4B40007F : f32
// CHECK: %[[GE:.+]] = arith.cmpf uge, %[[X]], %[[LO]]
// CHECK: %[[XC:.+]] = arith.select %[[GE]], %[[X]], %[[LO]]
// CHECK: %[[T0:.+]] = math.fma %[[XC]], %{{.+}}, %[[MAGIC]]
// CHECK: %[[LE:.+]] = arith.cmpf ule, %[[T0]], %[[CAP]]
// CHECK: %[[T:.+]] = arith.select %[[LE]], %[[T0]], %[[CAP]]
// CHECK: %[[K:.+]] = arith.subf %[[T]], %[[MAGIC]]
// CHECK: %[[BITS:.+]] = arith.bitcast %[[T]] : f32 to i32
// CHECK: %[[SH:.+]] = arith.shli %[[BITS]], %{{.+}} : i32
// CHECK: %[[E:.+]] = arith.addi %[[SH]], %{{.+}} : i32
// CHECK: %[[SCALE:.+]] = arith.bitcast %[[E]] : i32 to f32
// CHECK: %[[Y:.+]] = math.fma %{{.+}}, %[[SCALE]], %[[SCALE]] : f32
// CHECK: return %[[Y]] : f32
func.func @exp_f32(%x: f32) -> f32 {
  %0 = math.exp %x : f32
  return %0 : f32
}

// -----

// The same on vectors (LaneReduction's explicit vector loops), with i32 vectors for the
// exponent bits; and the exp that upstream's erfc expansion creates takes it too.
// CHECK-LABEL: func.func @exp_vector_f32
// CHECK-NOT: math.exp
// CHECK-NOT: arith.fptosi
// CHECK: arith.shli %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK: math.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK-LABEL: func.func @erfc_f32
// CHECK-NOT: math.exp
// CHECK-NOT: arith.fptosi
// CHECK: arith.shli
// CHECK: return
func.func @exp_vector_f32(%x: vector<16xf32>) -> vector<16xf32> {
  %0 = math.exp %x : vector<16xf32>
  return %0 : vector<16xf32>
}
func.func @erfc_f32(%x: f32) -> f32 {
  %0 = math.erfc %x : f32
  return %0 : f32
}

// -----

// CHECK-LABEL: func.func @sin_f32
// CHECK-NOT: math.sin
// CHECK: math.floor
// CHECK: math.fma
// CHECK-NOT: math.sin
// CHECK: return
func.func @sin_f32(%x: f32) -> f32 {
  %0 = math.sin %x : f32
  return %0 : f32
}

// -----

// CHECK-LABEL: func.func @cos_f32
// CHECK-NOT: math.cos
// CHECK: math.fma
// CHECK-NOT: math.cos
// CHECK: return
func.func @cos_f32(%x: f32) -> f32 {
  %0 = math.cos %x : f32
  return %0 : f32
}

// -----

// CHECK-LABEL: func.func @tanh_f32
// CHECK-NOT: math.tanh
// CHECK: arith.select
// CHECK-NOT: math.tanh
// CHECK: return
func.func @tanh_f32(%x: f32) -> f32 {
  %0 = math.tanh %x : f32
  return %0 : f32
}

// -----

// CHECK-LABEL: func.func @log_f32
// CHECK-NOT: math.log
// CHECK: arith.bitcast
// CHECK-NOT: math.log
// CHECK: return
func.func @log_f32(%x: f32) -> f32 {
  %0 = math.log %x : f32
  return %0 : f32
}

// -----

// CHECK-LABEL: func.func @erf_f32
// CHECK-NOT: math.erf
// CHECK: math.fma
// CHECK-NOT: math.erf
// CHECK: return
func.func @erf_f32(%x: f32) -> f32 {
  %0 = math.erf %x : f32
  return %0 : f32
}

// -----

// Vectors of f32 are approximated too (what the vectorizer sees after lowering).
// CHECK-LABEL: func.func @sin_vector_f32
// CHECK-NOT: math.sin
// CHECK: math.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK-NOT: math.sin
// CHECK: return %{{.+}} : vector<16xf32>
func.func @sin_vector_f32(%x: vector<16xf32>) -> vector<16xf32> {
  %0 = math.sin %x : vector<16xf32>
  return %0 : vector<16xf32>
}

// -----

// powf is not this pass's business: ajit-lower-to-linalg never emits f32 powf (it
// expands pow with C's special cases), and f64 powf must reach libm's pow.
// CHECK-LABEL: func.func @powf_f32
// CHECK: math.powf
// CHECK: return
func.func @powf_f32(%x: f32, %y: f32) -> f32 {
  %0 = math.powf %x, %y : f32
  return %0 : f32
}

// -----

// f64 is left alone, op for op.
// CHECK-LABEL: func.func @no_approximation_f64
// CHECK-SAME: (%[[X:.+]]: f64)
// CHECK-NEXT: %[[EXP:.+]] = math.exp %[[X]] : f64
// CHECK-NEXT: %[[SIN:.+]] = math.sin %[[EXP]] : f64
// CHECK-NEXT: %[[COS:.+]] = math.cos %[[SIN]] : f64
// CHECK-NEXT: %[[TANH:.+]] = math.tanh %[[COS]] : f64
// CHECK-NEXT: %[[LOG:.+]] = math.log %[[TANH]] : f64
// CHECK-NEXT: %[[ERF:.+]] = math.erf %[[LOG]] : f64
// CHECK-NEXT: return %[[ERF]] : f64
func.func @no_approximation_f64(%x: f64) -> f64 {
  %0 = math.exp %x : f64
  %1 = math.sin %0 : f64
  %2 = math.cos %1 : f64
  %3 = math.tanh %2 : f64
  %4 = math.log %3 : f64
  %5 = math.erf %4 : f64
  return %5 : f64
}

// -----

// rsqrt and sqrt stay (LLVM lowers them to instructions).
// CHECK-LABEL: func.func @no_approximation_rsqrt_sqrt
// CHECK-SAME: (%[[X:.+]]: f32)
// CHECK-NEXT: %[[R:.+]] = math.rsqrt %[[X]] : f32
// CHECK-NEXT: %[[S:.+]] = math.sqrt %[[R]] : f32
// CHECK-NEXT: return %[[S]] : f32
func.func @no_approximation_rsqrt_sqrt(%x: f32) -> f32 {
  %0 = math.rsqrt %x : f32
  %1 = math.sqrt %0 : f32
  return %1 : f32
}
