//===- Reference.h - scalar reference implementations (the test oracle) ---===//
//
// Plain, obviously-correct loops over flat row-major buffers. Floats are computed in
// double (long double for accumulations), integers in int64 and then wrapped to the
// width of the dtype under test (`bits` = 32 or 64; 1 for bool). Bools are 0/1 in int64.
// Nothing here depends on anything but the C++ standard library.
//
// Semantics follow compiler/dialect/AjitOps.td:
//  - integer division truncates, x / 0 = 0 and INT_MIN / -1 = INT_MIN;
//  - float max/min propagate NaN and order -0 < +0 (IEEE 754-2019 maximum/minimum);
//  - clamp(x, lo, hi) = min(max(x, lo), hi);
//  - float -> int conversion saturates and maps NaN to 0; conversion to bool is x != 0;
//  - an empty reduction gives the identity (0, -inf / INT_MIN, +inf / INT_MAX, NaN for mean);
//  - argmax/argmin return the first extreme, and the first NaN if there is one;
//  - integer pow: repeated multiplication (wrapping); a negative exponent gives
//    1 for x == 1, +-1 for x == -1 and 0 otherwise (like x / 0 = 0, also for x == 0).
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_KERNELS_REFERENCE_REFERENCE_H
#define AJIT_KERNELS_REFERENCE_REFERENCE_H

#include <cstdint>
#include <vector>

namespace ajit::ref {

using Shape = std::vector<int64_t>;

int64_t numElements(const Shape &shape);
/// Row-major strides (in elements).
std::vector<int64_t> stridesOf(const Shape &shape);

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

enum class Unary { neg, abs, exp, log, sin, cos, tanh, sqrt, rsqrt, sigmoid, relu, geluTanh, geluErf };
enum class Binary { add, sub, mul, div, max, min, pow };
enum class Cmp { eq, ne, lt, le, gt, ge };

double unary(Unary op, double x);
double binary(Binary op, double x, double y);
bool compare(Cmp cmp, double x, double y); ///< ordered, except ne (NaN != NaN is true)
double maximum(double x, double y);        ///< NaN-propagating, -0 < +0
double minimum(double x, double y);
double clamp(double x, double lo, double hi);

/// `v` wrapped (two's complement) to `bits` bits (1, 8, 16, 32 or 64), sign-extended; for
/// bits == 1 the result is 0 or 1 (bool).
int64_t wrap(int64_t v, int bits);
/// neg, abs and relu only (abs(INT_MIN) = INT_MIN). Bool: neg and abs are the identity.
int64_t unaryInt(Unary op, int64_t x, int bits);
/// Wrapping arithmetic. Bool (bits == 1): add = max = or, mul = min = and.
int64_t binaryInt(Binary op, int64_t x, int64_t y, int bits);
bool compareInt(Cmp cmp, int64_t x, int64_t y);
int64_t clampInt(int64_t x, int64_t lo, int64_t hi);

/// Float to a signed integer of `bits` bits: truncation toward zero, saturating, NaN -> 0.
/// bits == 1 is bool: x != 0 (so NaN -> 1).
int64_t floatToInt(double x, int bits);
/// Integer (or bool) to a narrower/wider integer: wraps; to bool (bits == 1): x != 0.
int64_t intToInt(int64_t x, int bits);
/// Rounds to the nearest f32 (ties to even; overflow to +-inf).
double roundToF32(double x);
/// An integer to f32 (floatBits == 32) or f64 (64), rounded once to nearest even (going
/// through double first could round twice).
double intToFloat(int64_t x, int floatBits);

//===----------------------------------------------------------------------===//
// Elementwise over buffers (NumPy broadcasting of the operands)
//===----------------------------------------------------------------------===//

/// NumPy broadcast of two shapes; throws std::invalid_argument if incompatible.
Shape broadcastShapes(const Shape &a, const Shape &b);

void unary(Unary op, const double *x, double *out, int64_t n);
void unaryInt(Unary op, const int64_t *x, int64_t *out, int64_t n, int bits);

/// out has broadcastShapes(xShape, yShape).
void binary(Binary op, const double *x, const Shape &xShape, const double *y, const Shape &yShape,
            double *out);
void binaryInt(Binary op, const int64_t *x, const Shape &xShape, const int64_t *y,
               const Shape &yShape, int64_t *out, int bits);
void compare(Cmp cmp, const double *x, const Shape &xShape, const double *y, const Shape &yShape,
             int64_t *out);
void compareInt(Cmp cmp, const int64_t *x, const Shape &xShape, const int64_t *y,
                const Shape &yShape, int64_t *out);

/// cond ? x : y, all three broadcast together; cond is 0/1.
void select(const int64_t *cond, const Shape &cShape, const double *x, const Shape &xShape,
            const double *y, const Shape &yShape, double *out);
void select(const int64_t *cond, const Shape &cShape, const int64_t *x, const Shape &xShape,
            const int64_t *y, const Shape &yShape, int64_t *out);

/// min(max(x, lo), hi); lo and hi are broadcast to x's shape, which is the result shape.
void clamp(const double *x, const Shape &xShape, const double *lo, const Shape &loShape,
           const double *hi, const Shape &hiShape, double *out);
void clampInt(const int64_t *x, const Shape &xShape, const int64_t *lo, const Shape &loShape,
              const int64_t *hi, const Shape &hiShape, int64_t *out);

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

/// StableHLO broadcast_in_dim: operand dim i becomes result dim dims[i] (size equal or 1).
void broadcastInDim(const double *x, const Shape &xShape, double *out, const Shape &outShape,
                    const std::vector<int64_t> &dims);
void broadcastInDim(const int64_t *x, const Shape &xShape, int64_t *out, const Shape &outShape,
                    const std::vector<int64_t> &dims);
/// NumPy broadcast_to (trailing alignment).
void broadcastTo(const double *x, const Shape &xShape, double *out, const Shape &outShape);
void broadcastTo(const int64_t *x, const Shape &xShape, int64_t *out, const Shape &outShape);

/// `shape` with its (single) -1 replaced; throws std::invalid_argument if it does not fit.
Shape reshapeShape(const Shape &xShape, const Shape &shape);
/// Row-major reshape is a copy.
void reshape(const double *x, int64_t n, double *out);
void reshape(const int64_t *x, int64_t n, int64_t *out);

/// Result dim i is x's dim perm[i]; an empty perm reverses.
std::vector<int64_t> normalizePerm(const Shape &xShape, const std::vector<int64_t> &perm);
Shape transposeShape(const Shape &xShape, const std::vector<int64_t> &perm);
void transpose(const double *x, const Shape &xShape, const std::vector<int64_t> &perm, double *out);
void transpose(const int64_t *x, const Shape &xShape, const std::vector<int64_t> &perm, int64_t *out);

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

enum class Reduce { sum, max, min, mean };

/// Sorted, non-negative axes; empty means all axes.
std::vector<int64_t> normalizeAxes(const Shape &xShape, const std::vector<int64_t> &axes);
Shape reduceShape(const Shape &xShape, const std::vector<int64_t> &axes, bool keepdims);
void reduce(Reduce kind, const double *x, const Shape &xShape, const std::vector<int64_t> &axes,
            bool keepdims, double *out);
/// sum (wrapping), max and min (bool: or / and); mean is not defined on integers.
void reduceInt(Reduce kind, const int64_t *x, const Shape &xShape, const std::vector<int64_t> &axes,
               bool keepdims, int64_t *out, int bits);
/// Index of the first maximum (isMax) or minimum along `axis`; the first NaN wins.
void argReduce(bool isMax, const double *x, const Shape &xShape, int64_t axis, bool keepdims,
               int64_t *out);
void argReduceInt(bool isMax, const int64_t *x, const Shape &xShape, int64_t axis, bool keepdims,
                  int64_t *out);

//===----------------------------------------------------------------------===//
// Contractions and composites
//===----------------------------------------------------------------------===//

/// A matmul's operands seen as [batchA,m,k] x [batchB,k,n] (vectors as [1,k] and [k,1]);
/// `batch` is the broadcast batch (a batch of 1 takes the other's size, 0 included).
struct Matmul3 {
  int64_t batchA, batchB, batch, m, k, n;
};
Matmul3 matmulDims(const Shape &a, const Shape &b);

/// NumPy matmul result shape for operands of rank 1 to 3.
Shape matmulShape(const Shape &a, const Shape &b);
/// NumPy matmul (1-D, 2-D, batched with batch broadcasting), accumulated in long double.
void matmul(const double *a, const Shape &aShape, const double *b, const Shape &bShape, double *out);
/// Wrapping integer matmul.
void matmulInt(const int64_t *a, const Shape &aShape, const int64_t *b, const Shape &bShape,
               int64_t *out, int bits);

/// exp(x - max) / sum(exp(x - max)) along `axis`.
void softmax(const double *x, const Shape &xShape, int64_t axis, double *out);
/// (x - max) - log(sum(exp(x - max))) along `axis`.
void logSoftmax(const double *x, const Shape &xShape, int64_t axis, double *out);

} // namespace ajit::ref

#endif
