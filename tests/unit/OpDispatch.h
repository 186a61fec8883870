//===- OpDispatch.h - reference op enums -> names and traced ops (tests) -*- C++ -*-===//
//
// The scalar reference (kernels/reference) names ops by enum; the tests that compare ajit
// with it (OpsTest, DiffFuzzTest) turn an enum into the public API call and a name here,
// and share the few helpers below.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_TESTS_UNIT_OPDISPATCH_H
#define AJIT_TESTS_UNIT_OPDISPATCH_H

#include "frontend/ajit.h"
#include "kernels/reference/Reference.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace ajit::test {

inline const double kNaN = std::numeric_limits<double>::quiet_NaN();
inline const double kInf = std::numeric_limits<double>::infinity();

/// Bits of an integer dtype (bool: 1); 0 for floats.
inline int intBits(DType dt) {
  switch (dt) {
  case DType::i32: return 32;
  case DType::i64: return 64;
  case DType::boolean: return 1;
  default: return 0;
  }
}

/// "[2,3]".
inline std::string shapeStr(const Shape &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ',';
    r += std::to_string(s[i]); // (not "," + ...: GCC 12 warns -Wrestrict on that, wrongly)
  }
  return r + "]";
}

inline const char *unaryName(ref::Unary op) {
  static const char *names[] = {"neg",  "abs",   "exp",     "log",  "sin",      "cos",     "tanh",
                                "sqrt", "rsqrt", "sigmoid", "relu", "geluTanh", "geluErf"};
  return names[static_cast<int>(op)];
}

inline const char *binaryName(ref::Binary op) {
  static const char *names[] = {"add", "sub", "mul", "div", "max", "min", "pow"};
  return names[static_cast<int>(op)];
}

inline const char *cmpName(ref::Cmp c) {
  static const char *names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  return names[static_cast<int>(c)];
}

/// The API's comparison enum has the reference's order.
inline Cmp toCmp(ref::Cmp c) { return static_cast<Cmp>(static_cast<int>(c)); }

inline Tensor applyUnary(ref::Unary op, const Tensor &x) {
  switch (op) {
  case ref::Unary::neg: return neg(x);
  case ref::Unary::abs: return ajit::abs(x);
  case ref::Unary::exp: return ajit::exp(x);
  case ref::Unary::log: return ajit::log(x);
  case ref::Unary::sin: return ajit::sin(x);
  case ref::Unary::cos: return ajit::cos(x);
  case ref::Unary::tanh: return ajit::tanh(x);
  case ref::Unary::sqrt: return ajit::sqrt(x);
  case ref::Unary::rsqrt: return rsqrt(x);
  case ref::Unary::sigmoid: return sigmoid(x);
  case ref::Unary::relu: return relu(x);
  case ref::Unary::geluTanh: return gelu(x, true);
  case ref::Unary::geluErf: return gelu(x, false);
  }
  throw std::logic_error("unary op");
}

/// The named functions (add, maximum, ...), not the operators.
inline Tensor applyBinary(ref::Binary op, const Tensor &x, const Tensor &y) {
  switch (op) {
  case ref::Binary::add: return add(x, y);
  case ref::Binary::sub: return sub(x, y);
  case ref::Binary::mul: return mul(x, y);
  case ref::Binary::div: return div(x, y);
  case ref::Binary::max: return maximum(x, y);
  case ref::Binary::min: return minimum(x, y);
  case ref::Binary::pow: return ajit::pow(x, y);
  }
  throw std::logic_error("binary op");
}

} // namespace ajit::test

#endif
