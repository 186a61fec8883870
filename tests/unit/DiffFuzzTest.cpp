//===- DiffFuzzTest.cpp - differential fuzzing: random programs vs. the reference -===//
//
// Random well-typed programs (1-40 ops over static shapes of rank 0-3, dims 0-9) run
// through the whole JIT (ajit::jit: trace, graph passes, lowering, LLVM, run) and through
// an interpreter over the scalar reference kernels (kernels/reference), on random inputs;
// the outputs are compared element by element.
//
// Programs are a small IR of this file: a list of nodes (op, operand node ids, attributes,
// dtype, shape), inputs first. The same list is traced with the public API inside a
// jitted lambda and evaluated by the interpreter. Ops: unary (all 13) and binary (all 7)
// elementwise ops with NumPy broadcasting, both as functions and as operators, tensor op
// scalar, pow with a scalar exponent, compare (tensor and scalar) and where, clamp with
// scalar and tensor bounds, astype between f32/f64/i32/i64/bool, sum/max/min/mean over
// random axes (negative ones too) with and without keepdims, argmax/argmin, reshape
// (with -1), transpose, broadcastTo, matmul (1-D, 2-D, batched, broadcast batch), softmax,
// logSoftmax and full constants. 1-3 inputs, 1-3 outputs (sometimes one node twice,
// sometimes an input itself).
//
// Inputs: floats uniform in [-3, 3] or "nice" values (multiples of 0.5, +-0: ties for
// argmax, exact equality for compare, integers for astype); integers in [-5, 5]; bools.
// One program in four is an edge program: a fifth of its input elements are edge values
// (+-0, +-inf, NaN, subnormals, +-1e30 / +-1e300, integer limits), and it only uses ops
// whose behaviour there is well defined and well conditioned (no pow with a non-integer
// exponent, sin, cos or gelu; those are covered on edges by OpsTest).
//
// Tolerance rule: a running error bound per element. Every value the interpreter computes
// carries a bound e on |ajit - reference| (e = +inf: "unknown", not compared):
//  - Inputs and constants are exact (e = 0). IEEE-exact ops (neg, abs, relu, add, sub,
//    mul, div, max, min, sqrt, where, clamp, shape ops, f64->f32) on exact operands are
//    exact: bit for bit, sign of zero included. Integer and bool results are exact or
//    unknown.
//  - An op on inexact operands propagates their bounds through the op's interval image:
//    f evaluated at the corners of [x - ex, x + ex] x [y - ey, y + ey] (monotone ops;
//    Lipschitz constants for abs, sin, cos, gelu; sum e_i for sums, max e_i for max/min/
//    clamp, |A| E_B + E_A |B| + E_A E_B for matmul, 2 max e over the lane in the exponent
//    for softmax), plus 2u |result| for the rounding of the result.
//  - Approximate ops add their own error, about twice what OpsTest measured and allows
//    (u = 2^-24 for f32, 2^-53 for f64; "rel" multiplies |result|):
//      exp f32 rel 8u, f64 4u; log rel 8u + abs 4u (f64 4u + 2u); sin, cos abs 4u (f32
//      |x| > 1e4: abs 2, the range); tanh f32 rel 16u + 2^-30, f64 4u + u; rsqrt rel 4u;
//      sigmoid rel 8u + u; gelu rel 32u + abs 16u (1 + |x|); pow rel 8u (2 + |y ln x|);
//      sum and mean g(n) u sum|x| with g(n) = min(n + 2, 8 + 2 sqrt(n)) (ajit reassociates;
//      sqrt(n) is the statistical growth, n + 2 the worst case for short sums); matmul
//      (g(K) + 1) u sum|a b|; softmax 4u s (4 + |log s|) + g(n) s; logSoftmax 8u (1 + |y|)
//      + g(n) u. Results that may flush to zero get FLT_MIN / DBL_MIN.
//  - Discrete decisions are checked only where the bound cannot flip them, else the result
//    is unknown: compare when |x - y| > ex + ey; astype to int/bool when trunc / != 0 is the
//    same over the interval; argmax when no other element can reach the winner's interval;
//    where with an unknown condition. A result that is NaN/inf at some corner of the box
//    and finite at another (or near the overflow threshold, or a division by an interval
//    containing 0, log/sqrt/pow of one containing 0) is unknown too.
//  - NaN must match NaN and inf must match exactly. Sums whose sum|x| reaches the overflow
//    threshold are unknown (the order of a reassociated sum decides whether it overflows).
// The bound is conservative, so what it flags is a real difference; the summary line gives
// the fraction of output elements that were compared (the rest are "unknown").
//
// Running: DiffFuzz.RandomPrograms runs a fixed-seed budget in the suite; longer runs:
//   AJIT_FUZZ_PROGRAMS=2000 AJIT_FUZZ_SEED=7 build/tests/ajit-diff-fuzz-test
// Knobs (test only): AJIT_FUZZ_ONLY=i runs only program i of the seed; AJIT_FUZZ_VERBOSE=1
// prints each program before it runs; AJIT_FUZZ_FORK=0 runs in-process (for a debugger);
// AJIT_FUZZ_MINIMIZE=0 skips the delta reduction of failures; AJIT_FUZZ_BATCH=n programs
// per child process (50). Programs run in forked children, so a crash in ajit is reported
// with its program and seed instead of killing the run. A failure prints the seed, the
// program (node list, inputs, graph IR from lower()), a delta-reduced version of it, and
// that version as Builder code to paste into a regression TEST below.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"
#include "kernels/reference/Reference.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace ajit;
namespace R = ajit::ref;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Programs per run in the suite (AJIT_FUZZ_PROGRAMS overrides).
constexpr int64_t kDefaultPrograms = 500;

int64_t envInt(const char *name, int64_t fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::strtoll(v, nullptr, 0) : fallback;
}

bool isF(DType dt) { return dt == DType::f32 || dt == DType::f64; }

int intBits(DType dt) {
  switch (dt) {
  case DType::i32: return 32;
  case DType::i64: return 64;
  case DType::boolean: return 1;
  default: return 0;
  }
}

std::string shapeStr(const Shape &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

//===----------------------------------------------------------------------===//
// The program IR
//===----------------------------------------------------------------------===//

enum class Kind : uint8_t {
  input, constant, unary, binary, binaryScalar, powScalar, compare, compareScalar, where, clampScalar,
  clampTensor, astype, reduce, argReduce, reshape, transpose, broadcastTo, matmul, softmax, logSoftmax
};
constexpr int kNumKinds = static_cast<int>(Kind::logSoftmax) + 1;

const char *kindName(Kind k) {
  static const char *names[] = {"input",       "constant",    "unary",     "binary",    "binaryScalar",
                                "powScalar",   "compare",     "compareScalar", "where", "clampScalar",
                                "clampTensor", "astype",      "reduce",    "argReduce", "reshape",
                                "transpose",   "broadcastTo", "matmul",    "softmax",   "logSoftmax"};
  return names[static_cast<int>(k)];
}

const char *unaryName(R::Unary op) {
  static const char *names[] = {"neg",  "abs",   "exp",     "log",  "sin",      "cos",     "tanh",
                                "sqrt", "rsqrt", "sigmoid", "relu", "geluTanh", "geluErf"};
  return names[static_cast<int>(op)];
}
const char *binaryName(R::Binary op) {
  static const char *names[] = {"add", "sub", "mul", "div", "max", "min", "pow"};
  return names[static_cast<int>(op)];
}
const char *binarySymbol(R::Binary op) {
  static const char *names[] = {"+", "-", "*", "/", "max", "min", "pow"};
  return names[static_cast<int>(op)];
}
const char *cmpName(R::Cmp c) {
  static const char *names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  return names[static_cast<int>(c)];
}
const char *cmpSymbol(R::Cmp c) {
  static const char *names[] = {"==", "!=", "<", "<=", ">", ">="};
  return names[static_cast<int>(c)];
}
const char *reduceName(R::Reduce k) {
  static const char *names[] = {"sum", "max", "min", "mean"};
  return names[static_cast<int>(k)];
}
const char *dtypeEnum(DType dt) {
  switch (dt) {
  case DType::f32: return "DType::f32";
  case DType::f64: return "DType::f64";
  case DType::i32: return "DType::i32";
  case DType::i64: return "DType::i64";
  case DType::boolean: return "DType::boolean";
  default: return "?";
  }
}

struct Node {
  Kind kind = Kind::input;
  std::vector<int> args; ///< operand node ids (all smaller than this node's)
  DType dtype = DType::f32;
  Shape shape;
  int op = 0;                 ///< R::Unary / R::Binary / R::Cmp / R::Reduce; argReduce: 1 = argmax
  std::vector<int64_t> ints;  ///< reduce axes, reshape spec, transpose perm, broadcastTo shape
  int64_t axis = 0;           ///< argReduce/softmax axis; input: the input's position
  bool flag = false;          ///< keepdims; operator syntax (binary, compare); scalar on the left (binaryScalar); log (softmax)
  double a = 0, b = 0;        ///< constant value, scalar operand, pow exponent, clamp bounds
};

/// An input's values: `f` for float dtypes, `i` for integers and bools.
struct HostData {
  std::vector<double> f;
  std::vector<int64_t> i;
};

struct Program {
  std::vector<Node> nodes;
  std::vector<int> outputs;
  std::vector<HostData> data; ///< by input position
  uint64_t seed = 0;          ///< the run's seed (AJIT_FUZZ_SEED)
  int64_t index = -1;         ///< the program's index in the run
  bool edges = false;
  int numInputs() const { return static_cast<int>(data.size()); }
};

std::string valueList(const HostData &d, DType dt, size_t limit) {
  std::string s = "{";
  size_t n = isF(dt) ? d.f.size() : d.i.size();
  for (size_t k = 0; k < n && k < limit; ++k)
    s += (k ? ", " : "") + (isF(dt) ? num(d.f[k]) : std::to_string(d.i[k]));
  if (n > limit) s += ", ... (" + std::to_string(n) + " values)";
  return s + "}";
}

std::string scalarStr(double v) { return num(v); }

std::string nodeText(const Program &p, size_t k) {
  const Node &n = p.nodes[k];
  auto arg = [&](int j) { return "%" + std::to_string(n.args[j]); };
  std::string s;
  switch (n.kind) {
  case Kind::input: s = "input #" + std::to_string(n.axis); break;
  case Kind::constant: s = "full(" + scalarStr(n.a) + ")"; break;
  case Kind::unary: s = std::string(unaryName(static_cast<R::Unary>(n.op))) + "(" + arg(0) + ")"; break;
  case Kind::binary:
    s = n.flag ? arg(0) + " " + binarySymbol(static_cast<R::Binary>(n.op)) + " " + arg(1)
               : std::string(binaryName(static_cast<R::Binary>(n.op))) + "(" + arg(0) + ", " + arg(1) + ")";
    break;
  case Kind::binaryScalar:
    s = n.flag ? scalarStr(n.a) + " " + binarySymbol(static_cast<R::Binary>(n.op)) + " " + arg(0)
               : arg(0) + " " + binarySymbol(static_cast<R::Binary>(n.op)) + " " + scalarStr(n.a);
    break;
  case Kind::powScalar: s = "pow(" + arg(0) + ", " + scalarStr(n.a) + ")"; break;
  case Kind::compare:
    s = n.flag ? arg(0) + " " + cmpSymbol(static_cast<R::Cmp>(n.op)) + " " + arg(1)
               : std::string("compare(") + cmpName(static_cast<R::Cmp>(n.op)) + ", " + arg(0) + ", " + arg(1) + ")";
    break;
  case Kind::compareScalar: s = arg(0) + " " + cmpSymbol(static_cast<R::Cmp>(n.op)) + " " + scalarStr(n.a); break;
  case Kind::where: s = "where(" + arg(0) + ", " + arg(1) + ", " + arg(2) + ")"; break;
  case Kind::clampScalar: s = "clamp(" + arg(0) + ", " + scalarStr(n.a) + ", " + scalarStr(n.b) + ")"; break;
  case Kind::clampTensor: s = "clamp(" + arg(0) + ", " + arg(1) + ", " + arg(2) + ")"; break;
  case Kind::astype: s = "astype(" + arg(0) + ", " + dtypeName(n.dtype) + ")"; break;
  case Kind::reduce:
    s = std::string(reduceName(static_cast<R::Reduce>(n.op))) + "(" + arg(0) + ", axes=" + shapeStr(n.ints) +
        (n.flag ? ", keepdims" : "") + ")";
    break;
  case Kind::argReduce:
    s = std::string(n.op ? "argmax(" : "argmin(") + arg(0) + ", axis=" + std::to_string(n.axis) +
        (n.flag ? ", keepdims" : "") + ")";
    break;
  case Kind::reshape: s = "reshape(" + arg(0) + ", " + shapeStr(n.ints) + ")"; break;
  case Kind::transpose: s = "transpose(" + arg(0) + ", " + shapeStr(n.ints) + ")"; break;
  case Kind::broadcastTo: s = "broadcastTo(" + arg(0) + ", " + shapeStr(n.ints) + ")"; break;
  case Kind::matmul: s = "matmul(" + arg(0) + ", " + arg(1) + ")"; break;
  case Kind::softmax: s = "softmax(" + arg(0) + ", axis=" + std::to_string(n.axis) + ")"; break;
  case Kind::logSoftmax: s = "logSoftmax(" + arg(0) + ", axis=" + std::to_string(n.axis) + ")"; break;
  }
  return "%" + std::to_string(k) + " = " + s + " : " + describe(n.dtype, n.shape);
}

/// The node list, the outputs and the inputs' values.
std::string programText(const Program &p) {
  std::ostringstream os;
  for (size_t k = 0; k < p.nodes.size(); ++k) os << "  " << nodeText(p, k) << "\n";
  os << "  outputs:";
  for (int o : p.outputs) os << " %" << o;
  os << "\n";
  for (size_t k = 0; k < p.nodes.size(); ++k)
    if (p.nodes[k].kind == Kind::input)
      os << "  input #" << p.nodes[k].axis << " (%" << k << ") = "
         << valueList(p.data[p.nodes[k].axis], p.nodes[k].dtype, 400) << "\n";
  return os.str();
}

std::string doubleLiteral(double v) {
  if (std::isnan(v)) return "kNaN";
  if (std::isinf(v)) return v > 0 ? "kInf" : "-kInf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string intLiteral(int64_t v) {
  if (v == INT64_MIN) return "INT64_MIN";
  if (v == INT64_MAX) return "INT64_MAX";
  return std::to_string(v);
}

std::string intList(const std::vector<int64_t> &v) {
  std::string s = "{";
  for (size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + intLiteral(v[k]);
  return s + "}";
}

/// The program as Builder calls, for a regression TEST.
std::string builderCode(const Program &p) {
  std::ostringstream os;
  os << "  Builder b;\n";
  for (size_t k = 0; k < p.nodes.size(); ++k) {
    const Node &n = p.nodes[k];
    auto arg = [&](int j) { return "n" + std::to_string(n.args[j]); };
    os << "  int n" << k << " = b.";
    switch (n.kind) {
    case Kind::input: {
      const HostData &d = p.data[n.axis];
      os << "input(" << dtypeEnum(n.dtype) << ", " << intList(n.shape) << ", ";
      if (isF(n.dtype)) {
        os << "std::vector<double>{";
        for (size_t j = 0; j < d.f.size(); ++j) os << (j ? ", " : "") << doubleLiteral(d.f[j]);
        os << "})";
      } else {
        os << "std::vector<int64_t>" << intList(d.i) << ")";
      }
      break;
    }
    case Kind::constant: os << "constant(" << dtypeEnum(n.dtype) << ", " << intList(n.shape) << ", " << doubleLiteral(n.a) << ")"; break;
    case Kind::unary: os << "unary(R::Unary::" << unaryName(static_cast<R::Unary>(n.op)) << ", " << arg(0) << ")"; break;
    case Kind::binary:
      os << "binary(R::Binary::" << binaryName(static_cast<R::Binary>(n.op)) << ", " << arg(0) << ", " << arg(1)
         << (n.flag ? ", true" : "") << ")";
      break;
    case Kind::binaryScalar:
      os << "binaryScalar(R::Binary::" << binaryName(static_cast<R::Binary>(n.op)) << ", " << arg(0) << ", "
         << doubleLiteral(n.a) << ", " << (n.flag ? "true" : "false") << ")";
      break;
    case Kind::powScalar: os << "powScalar(" << arg(0) << ", " << doubleLiteral(n.a) << ")"; break;
    case Kind::compare:
      os << "compare(R::Cmp::" << cmpName(static_cast<R::Cmp>(n.op)) << ", " << arg(0) << ", " << arg(1)
         << (n.flag ? ", true" : "") << ")";
      break;
    case Kind::compareScalar:
      os << "compareScalar(R::Cmp::" << cmpName(static_cast<R::Cmp>(n.op)) << ", " << arg(0) << ", " << doubleLiteral(n.a) << ")";
      break;
    case Kind::where: os << "where(" << arg(0) << ", " << arg(1) << ", " << arg(2) << ")"; break;
    case Kind::clampScalar: os << "clamp(" << arg(0) << ", " << doubleLiteral(n.a) << ", " << doubleLiteral(n.b) << ")"; break;
    case Kind::clampTensor: os << "clampTensor(" << arg(0) << ", " << arg(1) << ", " << arg(2) << ")"; break;
    case Kind::astype: os << "astype(" << arg(0) << ", " << dtypeEnum(n.dtype) << ")"; break;
    case Kind::reduce:
      os << "reduce(R::Reduce::" << reduceName(static_cast<R::Reduce>(n.op)) << ", " << arg(0) << ", " << intList(n.ints)
         << ", " << (n.flag ? "true" : "false") << ")";
      break;
    case Kind::argReduce:
      os << "argReduce(" << (n.op ? "true" : "false") << ", " << arg(0) << ", " << n.axis << ", " << (n.flag ? "true" : "false") << ")";
      break;
    case Kind::reshape: os << "reshape(" << arg(0) << ", " << intList(n.ints) << ")"; break;
    case Kind::transpose: os << "transpose(" << arg(0) << ", " << intList(n.ints) << ")"; break;
    case Kind::broadcastTo: os << "broadcastTo(" << arg(0) << ", " << intList(n.ints) << ")"; break;
    case Kind::matmul: os << "matmul(" << arg(0) << ", " << arg(1) << ")"; break;
    case Kind::softmax: os << "softmax(" << arg(0) << ", " << n.axis << ")"; break;
    case Kind::logSoftmax: os << "logSoftmax(" << arg(0) << ", " << n.axis << ")"; break;
    }
    os << ";\n";
  }
  for (int o : p.outputs) os << "  b.output(n" << o << ");\n";
  return os.str();
}

//===----------------------------------------------------------------------===//
// Builder: appends nodes, inferring dtype and shape as the frontend does
//===----------------------------------------------------------------------===//

class Builder {
public:
  Program p;

  int input(DType dt, const Shape &shape, std::vector<double> values) {
    HostData d;
    d.f = std::move(values);
    if (!isF(dt)) {
      for (double v : d.f) d.i.push_back(static_cast<int64_t>(v));
      d.f.clear();
    }
    return addInput(dt, shape, std::move(d));
  }
  int input(DType dt, const Shape &shape, std::vector<int64_t> values) {
    HostData d;
    if (isF(dt)) for (int64_t v : values) d.f.push_back(static_cast<double>(v));
    else d.i = std::move(values);
    return addInput(dt, shape, std::move(d));
  }
  int addInput(DType dt, const Shape &shape, HostData d) {
    size_t n = static_cast<size_t>(R::numElements(shape));
    if ((isF(dt) ? d.f.size() : d.i.size()) != n) throw std::invalid_argument("input: value count differs from the shape");
    if (dt == DType::f32) for (double &v : d.f) v = R::roundToF32(v);
    if (dt == DType::boolean) for (int64_t &v : d.i) v = v != 0;
    Node node;
    node.kind = Kind::input;
    node.dtype = dt;
    node.shape = shape;
    node.axis = p.numInputs();
    p.data.push_back(std::move(d));
    return add(node);
  }
  int constant(DType dt, const Shape &shape, double value) {
    Node n = make(Kind::constant, {}, dt, shape);
    n.a = value;
    return add(n);
  }
  int unary(R::Unary op, int x) {
    Node n = make(Kind::unary, {x}, dt(x), shape(x));
    n.op = static_cast<int>(op);
    return add(n);
  }
  int binary(R::Binary op, int x, int y, bool useOperator = false) {
    Node n = make(Kind::binary, {x, y}, dt(x), R::broadcastShapes(shape(x), shape(y)));
    n.op = static_cast<int>(op);
    n.flag = useOperator;
    return add(n);
  }
  int binaryScalar(R::Binary op, int x, double s, bool scalarLeft) {
    Node n = make(Kind::binaryScalar, {x}, dt(x), shape(x));
    n.op = static_cast<int>(op);
    n.a = s;
    n.flag = scalarLeft;
    return add(n);
  }
  int powScalar(int x, double exponent) {
    Node n = make(Kind::powScalar, {x}, dt(x), shape(x));
    n.a = exponent;
    return add(n);
  }
  int compare(R::Cmp c, int x, int y, bool useOperator = false) {
    Node n = make(Kind::compare, {x, y}, DType::boolean, R::broadcastShapes(shape(x), shape(y)));
    n.op = static_cast<int>(c);
    n.flag = useOperator;
    return add(n);
  }
  int compareScalar(R::Cmp c, int x, double s) {
    Node n = make(Kind::compareScalar, {x}, DType::boolean, shape(x));
    n.op = static_cast<int>(c);
    n.a = s;
    return add(n);
  }
  int where(int c, int x, int y) {
    return add(make(Kind::where, {c, x, y}, dt(x), R::broadcastShapes(shape(c), R::broadcastShapes(shape(x), shape(y)))));
  }
  int clamp(int x, double lo, double hi) {
    Node n = make(Kind::clampScalar, {x}, dt(x), shape(x));
    n.a = lo;
    n.b = hi;
    return add(n);
  }
  int clampTensor(int x, int lo, int hi) { return add(make(Kind::clampTensor, {x, lo, hi}, dt(x), shape(x))); }
  int astype(int x, DType to) { return add(make(Kind::astype, {x}, to, shape(x))); }
  int reduce(R::Reduce kind, int x, const std::vector<int64_t> &axes, bool keepdims) {
    DType t = kind == R::Reduce::mean && !isF(dt(x)) ? DType::f32 : dt(x);
    Node n = make(Kind::reduce, {x}, t, R::reduceShape(shape(x), axes, keepdims));
    n.op = static_cast<int>(kind);
    n.ints = axes;
    n.flag = keepdims;
    return add(n);
  }
  int argReduce(bool isMax, int x, int64_t axis, bool keepdims) {
    Node n = make(Kind::argReduce, {x}, DType::i64, R::reduceShape(shape(x), {axis}, keepdims));
    n.op = isMax;
    n.axis = axis;
    n.flag = keepdims;
    return add(n);
  }
  int reshape(int x, const Shape &spec) {
    Node n = make(Kind::reshape, {x}, dt(x), R::reshapeShape(shape(x), spec));
    n.ints = spec;
    return add(n);
  }
  int transpose(int x, const std::vector<int64_t> &perm) {
    Node n = make(Kind::transpose, {x}, dt(x), R::transposeShape(shape(x), perm));
    n.ints = perm;
    return add(n);
  }
  int broadcastTo(int x, const Shape &to) {
    Node n = make(Kind::broadcastTo, {x}, dt(x), to);
    n.ints = to;
    return add(n);
  }
  int matmul(int x, int y) { return add(make(Kind::matmul, {x, y}, dt(x), R::matmulShape(shape(x), shape(y)))); }
  int softmax(int x, int64_t axis) {
    Node n = make(Kind::softmax, {x}, dt(x), shape(x));
    n.axis = axis;
    return add(n);
  }
  int logSoftmax(int x, int64_t axis) {
    Node n = make(Kind::logSoftmax, {x}, dt(x), shape(x));
    n.axis = axis;
    return add(n);
  }
  void output(int x) { p.outputs.push_back(x); }

  DType dt(int x) const { return p.nodes.at(x).dtype; }
  const Shape &shape(int x) const { return p.nodes.at(x).shape; }

private:
  static Node make(Kind kind, std::vector<int> args, DType dtype, Shape shape) {
    Node n;
    n.kind = kind;
    n.args = std::move(args);
    n.dtype = dtype;
    n.shape = std::move(shape);
    return n;
  }
  int add(const Node &n) {
    p.nodes.push_back(n);
    return static_cast<int>(p.nodes.size()) - 1;
  }
};

//===----------------------------------------------------------------------===//
// Tracing a program with the public API
//===----------------------------------------------------------------------===//

Tensor applyUnary(R::Unary op, const Tensor &x) {
  switch (op) {
  case R::Unary::neg: return neg(x);
  case R::Unary::abs: return ajit::abs(x);
  case R::Unary::exp: return ajit::exp(x);
  case R::Unary::log: return ajit::log(x);
  case R::Unary::sin: return ajit::sin(x);
  case R::Unary::cos: return ajit::cos(x);
  case R::Unary::tanh: return ajit::tanh(x);
  case R::Unary::sqrt: return ajit::sqrt(x);
  case R::Unary::rsqrt: return rsqrt(x);
  case R::Unary::sigmoid: return sigmoid(x);
  case R::Unary::relu: return relu(x);
  case R::Unary::geluTanh: return gelu(x, true);
  case R::Unary::geluErf: return gelu(x, false);
  }
  throw std::logic_error("unary op");
}

Tensor applyBinary(R::Binary op, const Tensor &x, const Tensor &y, bool useOperator) {
  if (useOperator) {
    switch (op) {
    case R::Binary::add: return x + y;
    case R::Binary::sub: return x - y;
    case R::Binary::mul: return x * y;
    case R::Binary::div: return x / y;
    default: break;
    }
  }
  switch (op) {
  case R::Binary::add: return add(x, y);
  case R::Binary::sub: return sub(x, y);
  case R::Binary::mul: return mul(x, y);
  case R::Binary::div: return div(x, y);
  case R::Binary::max: return maximum(x, y);
  case R::Binary::min: return minimum(x, y);
  case R::Binary::pow: return ajit::pow(x, y);
  }
  throw std::logic_error("binary op");
}

Tensor applyScalar(R::Binary op, const Tensor &x, double s, bool scalarLeft) {
  switch (op) {
  case R::Binary::add: return scalarLeft ? s + x : x + s;
  case R::Binary::sub: return scalarLeft ? s - x : x - s;
  case R::Binary::mul: return scalarLeft ? s * x : x * s;
  case R::Binary::div: return scalarLeft ? s / x : x / s;
  default: throw std::logic_error("scalar op");
  }
}

Tensor applyCompare(R::Cmp c, const Tensor &x, const Tensor &y, bool useOperator) {
  if (!useOperator) return compare(static_cast<Cmp>(static_cast<int>(c)), x, y);
  switch (c) {
  case R::Cmp::eq: return x == y;
  case R::Cmp::ne: return x != y;
  case R::Cmp::lt: return x < y;
  case R::Cmp::le: return x <= y;
  case R::Cmp::gt: return x > y;
  case R::Cmp::ge: return x >= y;
  }
  throw std::logic_error("compare");
}

Tensor applyCompareScalar(R::Cmp c, const Tensor &x, double s) {
  switch (c) {
  case R::Cmp::lt: return x < s;
  case R::Cmp::le: return x <= s;
  case R::Cmp::gt: return x > s;
  case R::Cmp::ge: return x >= s;
  default: throw std::logic_error("scalar compare");
  }
}

std::vector<Tensor> traceProgram(const Program &p, const std::vector<Tensor> &inputs) {
  std::vector<Tensor> t;
  t.reserve(p.nodes.size());
  for (size_t k = 0; k < p.nodes.size(); ++k) {
    const Node &n = p.nodes[k];
    auto arg = [&](int j) -> const Tensor & { return t[n.args[j]]; };
    switch (n.kind) {
    case Kind::input: t.push_back(inputs.at(n.axis)); break;
    case Kind::constant: t.push_back(full(n.shape, n.a, n.dtype)); break;
    case Kind::unary: t.push_back(applyUnary(static_cast<R::Unary>(n.op), arg(0))); break;
    case Kind::binary: t.push_back(applyBinary(static_cast<R::Binary>(n.op), arg(0), arg(1), n.flag)); break;
    case Kind::binaryScalar: t.push_back(applyScalar(static_cast<R::Binary>(n.op), arg(0), n.a, n.flag)); break;
    case Kind::powScalar: t.push_back(ajit::pow(arg(0), n.a)); break;
    case Kind::compare: t.push_back(applyCompare(static_cast<R::Cmp>(n.op), arg(0), arg(1), n.flag)); break;
    case Kind::compareScalar: t.push_back(applyCompareScalar(static_cast<R::Cmp>(n.op), arg(0), n.a)); break;
    case Kind::where: t.push_back(where(arg(0), arg(1), arg(2))); break;
    case Kind::clampScalar: t.push_back(clamp(arg(0), n.a, n.b)); break;
    case Kind::clampTensor: t.push_back(clamp(arg(0), arg(1), arg(2))); break;
    case Kind::astype: t.push_back(astype(arg(0), n.dtype)); break;
    case Kind::reduce:
      switch (static_cast<R::Reduce>(n.op)) {
      case R::Reduce::sum: t.push_back(sum(arg(0), n.ints, n.flag)); break;
      case R::Reduce::max: t.push_back(ajit::max(arg(0), n.ints, n.flag)); break;
      case R::Reduce::min: t.push_back(ajit::min(arg(0), n.ints, n.flag)); break;
      case R::Reduce::mean: t.push_back(mean(arg(0), n.ints, n.flag)); break;
      }
      break;
    case Kind::argReduce: t.push_back(n.op ? argmax(arg(0), n.axis, n.flag) : argmin(arg(0), n.axis, n.flag)); break;
    case Kind::reshape: t.push_back(reshape(arg(0), n.ints)); break;
    case Kind::transpose: t.push_back(transpose(arg(0), n.ints)); break;
    case Kind::broadcastTo: t.push_back(broadcastTo(arg(0), n.ints)); break;
    case Kind::matmul: t.push_back(matmul(arg(0), arg(1))); break;
    case Kind::softmax: t.push_back(softmax(arg(0), n.axis)); break;
    case Kind::logSoftmax: t.push_back(logSoftmax(arg(0), n.axis)); break;
    }
    if (t.back().dtype() != n.dtype || t.back().shape() != n.shape)
      throw Error("fuzzer: node %" + std::to_string(k) + " traced as " + t.back().str() + ", the fuzzer expected " +
                  describe(n.dtype, n.shape));
  }
  std::vector<Tensor> out;
  for (int o : p.outputs) out.push_back(t[o]);
  return out;
}

Array toArray(const HostData &d, DType dt, const Shape &shape) {
  Array a = Array::empty(shape, dt);
  for (int64_t k = 0; k < a.size(); ++k) {
    switch (dt) {
    case DType::f32: a.data<float>()[k] = static_cast<float>(d.f[k]); break;
    case DType::f64: a.data<double>()[k] = d.f[k]; break;
    case DType::i32: a.data<int32_t>()[k] = static_cast<int32_t>(d.i[k]); break;
    case DType::i64: a.data<int64_t>()[k] = d.i[k]; break;
    case DType::boolean: a.data<bool>()[k] = d.i[k] != 0; break;
    default: throw std::logic_error("dtype");
    }
  }
  return a;
}

std::vector<Array> inputArrays(const Program &p) {
  std::vector<Array> in(p.data.size());
  for (const Node &n : p.nodes)
    if (n.kind == Kind::input) in[n.axis] = toArray(p.data[n.axis], n.dtype, n.shape);
  return in;
}

/// Runs `f` on the inputs (1 to 4 of them); `what` = "run" or "lower".
template <class F> auto callWith(F &f, const std::vector<Array> &in, bool lower) {
  struct R2 {
    std::vector<Array> outs;
    std::string ir;
  } r;
  switch (in.size()) {
  case 1: lower ? void(r.ir = f.lower(in[0])) : void(r.outs = f(in[0])); break;
  case 2: lower ? void(r.ir = f.lower(in[0], in[1])) : void(r.outs = f(in[0], in[1])); break;
  case 3: lower ? void(r.ir = f.lower(in[0], in[1], in[2])) : void(r.outs = f(in[0], in[1], in[2])); break;
  case 4: lower ? void(r.ir = f.lower(in[0], in[1], in[2], in[3])) : void(r.outs = f(in[0], in[1], in[2], in[3])); break;
  default: throw std::logic_error("1 to 4 inputs");
  }
  return r;
}

struct JitRun {
  std::vector<Array> outputs;
  std::string ir;
  double compileMs = 0;
};

/// Traces, compiles and runs the program (or, with `lowerOnly`, only traces and prints it).
JitRun runJit(const Program &p, bool lowerOnly) {
  std::vector<Array> in = inputArrays(p);
  JitRun r;
  auto go = [&](auto &f) {
    auto c = callWith(f, in, lowerOnly);
    r.outputs = std::move(c.outs);
    r.ir = std::move(c.ir);
    r.compileMs = f.stats().totalCompile.total;
  };
  switch (in.size()) {
  case 1: { auto f = jit([&p](const Tensor &a) { return traceProgram(p, {a}); }, {.name = "fuzz"}); go(f); break; }
  case 2: { auto f = jit([&p](const Tensor &a, const Tensor &b) { return traceProgram(p, {a, b}); }, {.name = "fuzz"}); go(f); break; }
  case 3: {
    auto f = jit([&p](const Tensor &a, const Tensor &b, const Tensor &c) { return traceProgram(p, {a, b, c}); }, {.name = "fuzz"});
    go(f);
    break;
  }
  case 4: {
    auto f = jit([&p](const Tensor &a, const Tensor &b, const Tensor &c, const Tensor &d) { return traceProgram(p, {a, b, c, d}); },
                 {.name = "fuzz"});
    go(f);
    break;
  }
  default: throw std::logic_error("a program has 1 to 4 inputs");
  }
  return r;
}

std::string lowerText(const Program &p) {
  try {
    return runJit(p, true).ir;
  } catch (const std::exception &e) {
    return std::string("(lower failed: ") + e.what() + ")";
  }
}

} // namespace
