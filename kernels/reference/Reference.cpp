//===- Reference.cpp - scalar reference implementations (the test oracle) -===//
//
// Deliberately naive: every buffer op walks the flat output index, decomposes it into a
// multi-index and reads its operands through that. No vectorization, no cleverness.
//
//===----------------------------------------------------------------------===//
#include "kernels/reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace ajit::ref {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t intMin(int bits) { return bits == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1)); }
int64_t intMax(int bits) { return bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1; }

void checkBits(int bits) {
  if (bits != 1 && bits != 8 && bits != 16 && bits != 32 && bits != 64)
    throw std::invalid_argument("ajit::ref: unsupported integer width " + std::to_string(bits));
}

/// Flat index -> multi-index for `shape` (row-major).
std::vector<int64_t> unflatten(int64_t flat, const Shape &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    idx[i] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}

/// Offset into a buffer of shape `in` read at the NumPy-broadcast multi-index `outIdx` of
/// a result of rank `outIdx.size()` (trailing alignment; size-1 dims read index 0).
int64_t broadcastOffset(const std::vector<int64_t> &outIdx, const Shape &in) {
  size_t lead = outIdx.size() - in.size();
  int64_t offset = 0;
  for (size_t i = 0; i < in.size(); ++i) offset = offset * in[i] + (in[i] == 1 ? 0 : outIdx[lead + i]);
  return offset;
}

template <class T, class F>
void broadcastMap2(const T *x, const Shape &xShape, const T *y, const Shape &yShape, F f) {
  Shape out = broadcastShapes(xShape, yShape);
  int64_t n = numElements(out);
  for (int64_t k = 0; k < n; ++k) {
    auto idx = unflatten(k, out);
    f(k, x[broadcastOffset(idx, xShape)], y[broadcastOffset(idx, yShape)]);
  }
}

template <class T>
void selectImpl(const int64_t *cond, const Shape &cShape, const T *x, const Shape &xShape, const T *y,
                const Shape &yShape, T *out) {
  Shape shape = broadcastShapes(cShape, broadcastShapes(xShape, yShape));
  int64_t n = numElements(shape);
  for (int64_t k = 0; k < n; ++k) {
    auto idx = unflatten(k, shape);
    out[k] = cond[broadcastOffset(idx, cShape)] ? x[broadcastOffset(idx, xShape)]
                                                 : y[broadcastOffset(idx, yShape)];
  }
}

/// `x` clamped elementwise to [lo, hi], both broadcast to x's shape, by `clampOne`.
template <class T, class F>
void clampImpl(const T *x, const Shape &xShape, const T *lo, const Shape &loShape, const T *hi,
               const Shape &hiShape, T *out, F clampOne) {
  int64_t n = numElements(xShape);
  for (int64_t k = 0; k < n; ++k) {
    auto idx = unflatten(k, xShape);
    out[k] = clampOne(x[k], lo[broadcastOffset(idx, loShape)], hi[broadcastOffset(idx, hiShape)]);
  }
}

template <class T>
void broadcastInDimImpl(const T *x, const Shape &xShape, T *out, const Shape &outShape,
                        const std::vector<int64_t> &dims) {
  if (dims.size() != xShape.size()) throw std::invalid_argument("broadcastInDim: one dim per operand dim");
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] < 0 || dims[i] >= static_cast<int64_t>(outShape.size()) ||
        (xShape[i] != 1 && xShape[i] != outShape[dims[i]]))
      throw std::invalid_argument("broadcastInDim: bad dims");
  int64_t n = numElements(outShape);
  for (int64_t k = 0; k < n; ++k) {
    auto idx = unflatten(k, outShape);
    int64_t offset = 0;
    for (size_t i = 0; i < xShape.size(); ++i) offset = offset * xShape[i] + (xShape[i] == 1 ? 0 : idx[dims[i]]);
    out[k] = x[offset];
  }
}

std::vector<int64_t> trailingDims(const Shape &xShape, const Shape &outShape) {
  if (xShape.size() > outShape.size()) throw std::invalid_argument("broadcastTo: rank too small");
  std::vector<int64_t> dims;
  for (size_t i = 0; i < xShape.size(); ++i) dims.push_back(static_cast<int64_t>(outShape.size() - xShape.size() + i));
  return dims;
}

template <class T>
void transposeImpl(const T *x, const Shape &xShape, const std::vector<int64_t> &permIn, T *out) {
  std::vector<int64_t> perm = normalizePerm(xShape, permIn);
  Shape outShape = transposeShape(xShape, perm);
  std::vector<int64_t> xStrides = stridesOf(xShape);
  int64_t n = numElements(outShape);
  for (int64_t k = 0; k < n; ++k) {
    auto idx = unflatten(k, outShape);
    int64_t offset = 0;
    for (size_t r = 0; r < perm.size(); ++r) offset += idx[r] * xStrides[perm[r]];
    out[k] = x[offset];
  }
}

/// Flat index into the keepdims-reduced output for the input multi-index `idx`.
int64_t reducedOffset(const std::vector<int64_t> &idx, const Shape &xShape,
                      const std::vector<int64_t> &axes) {
  int64_t offset = 0;
  for (size_t i = 0; i < xShape.size(); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) != axes.end();
    offset = offset * (reduced ? 1 : xShape[i]) + (reduced ? 0 : idx[i]);
  }
  return offset;
}

template <class T, class Better>
void argReduceImpl(const T *x, const Shape &xShape, int64_t axis, bool keepdims, int64_t *out, Better better) {
  std::vector<int64_t> axes = normalizeAxes(xShape, {axis});
  axis = axes[0];
  if (xShape[axis] == 0) throw std::invalid_argument("argReduce: empty axis");
  Shape outShape = reduceShape(xShape, axes, false);
  int64_t m = numElements(outShape);
  std::vector<T> best(m);
  std::vector<bool> seen(m, false);
  std::fill(out, out + m, 0);
  int64_t n = numElements(xShape);
  for (int64_t k = 0; k < n; ++k) {
    auto idx = unflatten(k, xShape);
    int64_t o = reducedOffset(idx, xShape, axes);
    // Elements of one lane arrive in increasing order of their index along `axis`.
    if (!seen[o] || better(x[k], best[o])) {
      seen[o] = true;
      best[o] = x[k];
      out[o] = idx[axis];
    }
  }
  (void)keepdims; // the flat layout is the same with or without the unit dim
}

template <class Acc, class T, class Fin>
void matmulImpl(const T *a, const Shape &aShape, const T *b, const Shape &bShape, T *out, Fin finish) {
  Matmul3 d = matmulDims(aShape, bShape);
  for (int64_t p = 0; p < d.batch; ++p) {
    const T *ap = a + (d.batchA == 1 ? 0 : p) * d.m * d.k;
    const T *bp = b + (d.batchB == 1 ? 0 : p) * d.k * d.n;
    for (int64_t i = 0; i < d.m; ++i)
      for (int64_t j = 0; j < d.n; ++j) {
        Acc acc = 0;
        for (int64_t q = 0; q < d.k; ++q) acc += static_cast<Acc>(ap[i * d.k + q]) * static_cast<Acc>(bp[q * d.n + j]);
        out[(p * d.m + i) * d.n + j] = finish(acc);
      }
  }
}

/// Calls f(laneElementOffsets) for every 1-D lane of `shape` along `axis`.
template <class F> void forEachLane(const Shape &shape, int64_t axis, F f) {
  std::vector<int64_t> strides = stridesOf(shape);
  Shape outer = shape;
  outer[axis] = 1;
  int64_t lanes = numElements(outer);
  for (int64_t l = 0; l < lanes; ++l) {
    auto idx = unflatten(l, outer);
    int64_t base = 0;
    for (size_t i = 0; i < shape.size(); ++i) base += idx[i] * strides[i];
    std::vector<int64_t> offsets;
    for (int64_t j = 0; j < shape[axis]; ++j) offsets.push_back(base + j * strides[axis]);
    f(offsets);
  }
}

} // namespace

Matmul3 matmulDims(const Shape &a, const Shape &b) {
  if (a.empty() || b.empty() || a.size() > 3 || b.size() > 3)
    throw std::invalid_argument("matmul: operands must have rank 1 to 3");
  // Vectors become [1,K] and [K,1].
  Shape a3 = a.size() == 1 ? Shape{1, 1, a[0]} : a.size() == 2 ? Shape{1, a[0], a[1]} : a;
  Shape b3 = b.size() == 1 ? Shape{1, b[0], 1} : b.size() == 2 ? Shape{1, b[0], b[1]} : b;
  if (a3[2] != b3[1]) throw std::invalid_argument("matmul: contracting dims differ");
  if (a3[0] != b3[0] && a3[0] != 1 && b3[0] != 1) throw std::invalid_argument("matmul: batch dims differ");
  // NumPy broadcasting: a batch of 1 takes the other's size, 0 included.
  return {a3[0], b3[0], a3[0] == 1 ? b3[0] : a3[0], a3[1], a3[2], b3[2]};
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<int64_t> stridesOf(const Shape &shape) {
  std::vector<int64_t> s(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = stride;
    stride *= shape[i];
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

double maximum(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x == y) return std::signbit(x) ? y : x; // max(-0, +0) = +0
  return x > y ? x : y;
}

double minimum(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x == y) return std::signbit(x) ? x : y; // min(-0, +0) = -0
  return x < y ? x : y;
}

double clamp(double x, double lo, double hi) { return minimum(maximum(x, lo), hi); }

double unary(Unary op, double x) {
  switch (op) {
  case Unary::neg: return -x;
  case Unary::abs: return std::fabs(x);
  case Unary::exp: return std::exp(x);
  case Unary::log: return std::log(x);
  case Unary::sin: return std::sin(x);
  case Unary::cos: return std::cos(x);
  case Unary::tanh: return std::tanh(x);
  case Unary::sqrt: return std::sqrt(x);
  case Unary::rsqrt: return 1.0 / std::sqrt(x);
  case Unary::sigmoid: return 1.0 / (1.0 + std::exp(-x));
  case Unary::relu: return maximum(x, 0.0);
  case Unary::geluTanh: {
    const double k = std::sqrt(2.0 / std::numbers::pi);
    return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
  }
  case Unary::geluErf: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  }
  return kNaN;
}

double binary(Binary op, double x, double y) {
  switch (op) {
  case Binary::add: return x + y;
  case Binary::sub: return x - y;
  case Binary::mul: return x * y;
  case Binary::div: return x / y;
  case Binary::max: return maximum(x, y);
  case Binary::min: return minimum(x, y);
  case Binary::pow: // in long double: libm's double pow is not always correctly rounded
    return static_cast<double>(std::pow(static_cast<long double>(x), static_cast<long double>(y)));
  }
  return kNaN;
}

bool compare(Cmp cmp, double x, double y) {
  switch (cmp) {
  case Cmp::eq: return x == y;
  case Cmp::ne: return !(x == y); // unordered: NaN != NaN
  case Cmp::lt: return x < y;
  case Cmp::le: return x <= y;
  case Cmp::gt: return x > y;
  case Cmp::ge: return x >= y;
  }
  return false;
}

int64_t wrap(int64_t v, int bits) {
  checkBits(bits);
  if (bits == 64) return v;
  if (bits == 1) return v & 1;
  uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(v) & mask;
  if (u >> (bits - 1)) u |= ~mask; // sign-extend
  return static_cast<int64_t>(u);
}

int64_t unaryInt(Unary op, int64_t x, int bits) {
  checkBits(bits);
  if (bits == 1) {
    if (op == Unary::neg || op == Unary::abs || op == Unary::relu) return x ? 1 : 0;
    throw std::invalid_argument("unaryInt: op not defined on bool");
  }
  switch (op) {
  case Unary::neg: return wrap(static_cast<int64_t>(0 - static_cast<uint64_t>(x)), bits);
  case Unary::abs: return x < 0 ? wrap(static_cast<int64_t>(0 - static_cast<uint64_t>(x)), bits) : x;
  case Unary::relu: return x < 0 ? 0 : x;
  default: throw std::invalid_argument("unaryInt: op not defined on integers");
  }
}

int64_t binaryInt(Binary op, int64_t x, int64_t y, int bits) {
  checkBits(bits);
  if (bits == 1) {
    bool a = x != 0, b = y != 0;
    switch (op) {
    case Binary::add: case Binary::max: return a || b;
    case Binary::mul: case Binary::min: case Binary::div: return a && b; // x / 0 = 0
    case Binary::sub: return a != b;                                     // mod 2
    case Binary::pow: throw std::invalid_argument("binaryInt: pow not defined on bool");
    }
  }
  uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
  switch (op) {
  case Binary::add: return wrap(static_cast<int64_t>(ux + uy), bits);
  case Binary::sub: return wrap(static_cast<int64_t>(ux - uy), bits);
  case Binary::mul: return wrap(static_cast<int64_t>(ux * uy), bits);
  case Binary::div:
    if (y == 0) return 0;
    if (y == -1) return wrap(static_cast<int64_t>(0 - ux), bits); // INT_MIN / -1 = INT_MIN
    return x / y;                                                  // truncates toward zero
  case Binary::max: return std::max(x, y);
  case Binary::min: return std::min(x, y);
  case Binary::pow: {
    if (y < 0) {
      if (x == 1) return 1;
      if (x == -1) return (y & 1) ? -1 : 1;
      return 0;
    }
    // Square-and-multiply modulo 2^64, which wrapping to `bits` then reduces further.
    uint64_t result = 1, base = ux;
    for (uint64_t e = static_cast<uint64_t>(y); e; e >>= 1) {
      if (e & 1) result *= base;
      base *= base;
    }
    return wrap(static_cast<int64_t>(result), bits);
  }
  }
  return 0;
}

bool compareInt(Cmp cmp, int64_t x, int64_t y) {
  switch (cmp) {
  case Cmp::eq: return x == y;
  case Cmp::ne: return x != y;
  case Cmp::lt: return x < y;
  case Cmp::le: return x <= y;
  case Cmp::gt: return x > y;
  case Cmp::ge: return x >= y;
  }
  return false;
}

int64_t clampInt(int64_t x, int64_t lo, int64_t hi) { return std::min(std::max(x, lo), hi); }

int64_t floatToInt(double x, int bits) {
  checkBits(bits);
  if (bits == 1) return x != 0 ? 1 : 0; // NaN != 0
  if (std::isnan(x)) return 0;
  double lo = std::ldexp(-1.0, bits - 1), hi = std::ldexp(1.0, bits - 1); // exact powers of two
  if (x <= lo) return intMin(bits);
  if (x >= hi) return intMax(bits);
  return static_cast<int64_t>(std::trunc(x));
}

int64_t intToInt(int64_t x, int bits) {
  checkBits(bits);
  if (bits == 1) return x != 0 ? 1 : 0;
  return wrap(x, bits);
}

double roundToF32(double x) { return static_cast<double>(static_cast<float>(x)); }

double intToFloat(int64_t x, int floatBits) {
  if (floatBits == 32) return static_cast<double>(static_cast<float>(x));
  if (floatBits == 64) return static_cast<double>(x);
  throw std::invalid_argument("intToFloat: floatBits must be 32 or 64");
}

//===----------------------------------------------------------------------===//
// Elementwise over buffers
//===----------------------------------------------------------------------===//

Shape broadcastShapes(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) throw std::invalid_argument("broadcastShapes: incompatible");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void unary(Unary op, const double *x, double *out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = unary(op, x[i]);
}

void unaryInt(Unary op, const int64_t *x, int64_t *out, int64_t n, int bits) {
  for (int64_t i = 0; i < n; ++i) out[i] = unaryInt(op, x[i], bits);
}

void binary(Binary op, const double *x, const Shape &xShape, const double *y, const Shape &yShape,
            double *out) {
  broadcastMap2(x, xShape, y, yShape, [&](int64_t k, double a, double b) { out[k] = binary(op, a, b); });
}

void binaryInt(Binary op, const int64_t *x, const Shape &xShape, const int64_t *y,
               const Shape &yShape, int64_t *out, int bits) {
  broadcastMap2(x, xShape, y, yShape,
                [&](int64_t k, int64_t a, int64_t b) { out[k] = binaryInt(op, a, b, bits); });
}

void compare(Cmp cmp, const double *x, const Shape &xShape, const double *y, const Shape &yShape,
             int64_t *out) {
  broadcastMap2(x, xShape, y, yShape, [&](int64_t k, double a, double b) { out[k] = compare(cmp, a, b); });
}

void compareInt(Cmp cmp, const int64_t *x, const Shape &xShape, const int64_t *y,
                const Shape &yShape, int64_t *out) {
  broadcastMap2(x, xShape, y, yShape,
                [&](int64_t k, int64_t a, int64_t b) { out[k] = compareInt(cmp, a, b); });
}

void select(const int64_t *cond, const Shape &cShape, const double *x, const Shape &xShape,
            const double *y, const Shape &yShape, double *out) {
  selectImpl(cond, cShape, x, xShape, y, yShape, out);
}

void select(const int64_t *cond, const Shape &cShape, const int64_t *x, const Shape &xShape,
            const int64_t *y, const Shape &yShape, int64_t *out) {
  selectImpl(cond, cShape, x, xShape, y, yShape, out);
}

void clamp(const double *x, const Shape &xShape, const double *lo, const Shape &loShape,
           const double *hi, const Shape &hiShape, double *out) {
  clampImpl(x, xShape, lo, loShape, hi, hiShape, out, static_cast<double (*)(double, double, double)>(clamp));
}

void clampInt(const int64_t *x, const Shape &xShape, const int64_t *lo, const Shape &loShape,
              const int64_t *hi, const Shape &hiShape, int64_t *out) {
  clampImpl(x, xShape, lo, loShape, hi, hiShape, out,
            static_cast<int64_t (*)(int64_t, int64_t, int64_t)>(clampInt));
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

void broadcastInDim(const double *x, const Shape &xShape, double *out, const Shape &outShape,
                    const std::vector<int64_t> &dims) {
  broadcastInDimImpl(x, xShape, out, outShape, dims);
}
void broadcastInDim(const int64_t *x, const Shape &xShape, int64_t *out, const Shape &outShape,
                    const std::vector<int64_t> &dims) {
  broadcastInDimImpl(x, xShape, out, outShape, dims);
}
void broadcastTo(const double *x, const Shape &xShape, double *out, const Shape &outShape) {
  broadcastInDimImpl(x, xShape, out, outShape, trailingDims(xShape, outShape));
}
void broadcastTo(const int64_t *x, const Shape &xShape, int64_t *out, const Shape &outShape) {
  broadcastInDimImpl(x, xShape, out, outShape, trailingDims(xShape, outShape));
}

Shape reshapeShape(const Shape &xShape, const Shape &shape) {
  Shape out = shape;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (inferred >= 0) throw std::invalid_argument("reshape: two -1");
      inferred = static_cast<int64_t>(i);
    } else {
      known *= out[i];
    }
  }
  int64_t n = numElements(xShape);
  if (inferred >= 0) {
    if (known == 0 || n % known != 0) throw std::invalid_argument("reshape: cannot infer");
    out[inferred] = n / known;
  }
  if (numElements(out) != n) throw std::invalid_argument("reshape: element count differs");
  return out;
}

void reshape(const double *x, int64_t n, double *out) { std::copy(x, x + n, out); }
void reshape(const int64_t *x, int64_t n, int64_t *out) { std::copy(x, x + n, out); }

std::vector<int64_t> normalizePerm(const Shape &xShape, const std::vector<int64_t> &perm) {
  std::vector<int64_t> p = perm;
  if (p.empty())
    for (int64_t i = static_cast<int64_t>(xShape.size()) - 1; i >= 0; --i) p.push_back(i);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.size() != xShape.size()) throw std::invalid_argument("transpose: bad perm");
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != static_cast<int64_t>(i)) throw std::invalid_argument("transpose: bad perm");
  return p;
}

Shape transposeShape(const Shape &xShape, const std::vector<int64_t> &perm) {
  Shape out;
  for (int64_t p : normalizePerm(xShape, perm)) out.push_back(xShape[p]);
  return out;
}

void transpose(const double *x, const Shape &xShape, const std::vector<int64_t> &perm, double *out) {
  transposeImpl(x, xShape, perm, out);
}
void transpose(const int64_t *x, const Shape &xShape, const std::vector<int64_t> &perm, int64_t *out) {
  transposeImpl(x, xShape, perm, out);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

std::vector<int64_t> normalizeAxes(const Shape &xShape, const std::vector<int64_t> &axesIn) {
  int64_t rank = static_cast<int64_t>(xShape.size());
  std::vector<int64_t> axes = axesIn;
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  for (int64_t &a : axes) {
    if (a < -rank || a >= rank) throw std::invalid_argument("reduce: axis out of range");
    if (a < 0) a += rank;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw std::invalid_argument("reduce: repeated axis");
  return axes;
}

Shape reduceShape(const Shape &xShape, const std::vector<int64_t> &axesIn, bool keepdims) {
  std::vector<int64_t> axes = normalizeAxes(xShape, axesIn);
  Shape out;
  for (size_t i = 0; i < xShape.size(); ++i) {
    if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) != axes.end()) {
      if (keepdims) out.push_back(1);
    } else {
      out.push_back(xShape[i]);
    }
  }
  return out;
}

void reduce(Reduce kind, const double *x, const Shape &xShape, const std::vector<int64_t> &axesIn,
            bool keepdims, double *out) {
  std::vector<int64_t> axes = normalizeAxes(xShape, axesIn);
  int64_t m = numElements(reduceShape(xShape, axes, keepdims));
  int64_t count = 1;
  for (int64_t a : axes) count *= xShape[a];
  std::vector<long double> acc(m, 0.0L);
  for (int64_t o = 0; o < m; ++o)
    out[o] = kind == Reduce::max ? -kInf : kind == Reduce::min ? kInf : 0.0;
  int64_t n = numElements(xShape);
  for (int64_t k = 0; k < n; ++k) {
    int64_t o = reducedOffset(unflatten(k, xShape), xShape, axes);
    switch (kind) {
    case Reduce::sum:
    case Reduce::mean: acc[o] += x[k]; break;
    case Reduce::max: out[o] = maximum(out[o], x[k]); break;
    case Reduce::min: out[o] = minimum(out[o], x[k]); break;
    }
  }
  if (kind == Reduce::sum)
    for (int64_t o = 0; o < m; ++o) out[o] = static_cast<double>(acc[o]);
  if (kind == Reduce::mean) // an empty mean is 0 / 0 = NaN
    for (int64_t o = 0; o < m; ++o) out[o] = static_cast<double>(acc[o] / static_cast<long double>(count));
}

void reduceInt(Reduce kind, const int64_t *x, const Shape &xShape, const std::vector<int64_t> &axesIn,
               bool keepdims, int64_t *out, int bits) {
  checkBits(bits);
  if (kind == Reduce::mean) throw std::invalid_argument("reduceInt: mean is not defined on integers");
  std::vector<int64_t> axes = normalizeAxes(xShape, axesIn);
  int64_t m = numElements(reduceShape(xShape, axes, keepdims));
  int64_t lo = bits == 1 ? 0 : intMin(bits), hi = bits == 1 ? 1 : intMax(bits);
  for (int64_t o = 0; o < m; ++o) out[o] = kind == Reduce::max ? lo : kind == Reduce::min ? hi : 0;
  int64_t n = numElements(xShape);
  for (int64_t k = 0; k < n; ++k) {
    int64_t o = reducedOffset(unflatten(k, xShape), xShape, axes);
    switch (kind) {
    case Reduce::sum: out[o] = binaryInt(Binary::add, out[o], x[k], bits); break;
    case Reduce::max: out[o] = std::max(out[o], x[k]); break;
    case Reduce::min: out[o] = std::min(out[o], x[k]); break;
    case Reduce::mean: break;
    }
  }
}

void argReduce(bool isMax, const double *x, const Shape &xShape, int64_t axis, bool keepdims,
               int64_t *out) {
  argReduceImpl(x, xShape, axis, keepdims, out, [&](double v, double best) {
    if (std::isnan(best)) return false; // the first NaN stays
    if (std::isnan(v)) return true;
    return isMax ? v > best : v < best; // strict: the first occurrence stays
  });
}

void argReduceInt(bool isMax, const int64_t *x, const Shape &xShape, int64_t axis, bool keepdims,
                  int64_t *out) {
  argReduceImpl(x, xShape, axis, keepdims, out,
                [&](int64_t v, int64_t best) { return isMax ? v > best : v < best; });
}

//===----------------------------------------------------------------------===//
// Contractions and composites
//===----------------------------------------------------------------------===//

Shape matmulShape(const Shape &a, const Shape &b) {
  Matmul3 d = matmulDims(a, b);
  Shape out;
  if (a.size() == 3 || b.size() == 3) out.push_back(d.batch);
  if (a.size() != 1) out.push_back(d.m);
  if (b.size() != 1) out.push_back(d.n);
  return out;
}

void matmul(const double *a, const Shape &aShape, const double *b, const Shape &bShape, double *out) {
  matmulImpl<long double>(a, aShape, b, bShape, out, [](long double v) { return static_cast<double>(v); });
}

void matmulInt(const int64_t *a, const Shape &aShape, const int64_t *b, const Shape &bShape,
               int64_t *out, int bits) {
  checkBits(bits);
  matmulImpl<uint64_t>(a, aShape, b, bShape, out,
                       [&](uint64_t v) { return wrap(static_cast<int64_t>(v), bits); });
}

/// Calls body(lane, m, s) for each lane along `axis`: m its max, s = sum exp(x - m).
template <class Body>
void forEachSoftmaxLane(const double *x, const Shape &xShape, int64_t axis, Body body) {
  axis = normalizeAxes(xShape, {axis})[0];
  forEachLane(xShape, axis, [&](const std::vector<int64_t> &lane) {
    double m = -kInf;
    for (int64_t o : lane) m = maximum(m, x[o]);
    long double s = 0;
    for (int64_t o : lane) s += std::exp(x[o] - m);
    body(lane, m, static_cast<double>(s));
  });
}

void softmax(const double *x, const Shape &xShape, int64_t axis, double *out) {
  forEachSoftmaxLane(x, xShape, axis, [&](const std::vector<int64_t> &lane, double m, double s) {
    for (int64_t o : lane) out[o] = std::exp(x[o] - m) / s;
  });
}

void logSoftmax(const double *x, const Shape &xShape, int64_t axis, double *out) {
  forEachSoftmaxLane(x, xShape, axis, [&](const std::vector<int64_t> &lane, double m, double s) {
    for (int64_t o : lane) out[o] = (x[o] - m) - std::log(s);
  });
}

} // namespace ajit::ref
