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
// sometimes an input itself). Odd-numbered programs donate all their inputs
// (JitOptions::donateArgnums), so outputs may be computed in the inputs' buffers.
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
#include "tests/unit/OpDispatch.h"
#include "tests/unit/TestSupport.h"

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
#include <utility>
#include <vector>

using namespace ajit;
using namespace ajit::test;
namespace R = ajit::ref;

namespace {

/// Programs per run in the suite (AJIT_FUZZ_PROGRAMS overrides).
constexpr int64_t kDefaultPrograms = 500;

using test::envInt;

bool isF(DType dt) { return dt == DType::f32 || dt == DType::f64; }

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

const char *binarySymbol(R::Binary op) {
  static const char *names[] = {"+", "-", "*", "/", "max", "min", "pow"};
  return names[static_cast<int>(op)];
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
  int softmax(int x, int64_t axis) { return alongAxis(Kind::softmax, x, axis); }
  int logSoftmax(int x, int64_t axis) { return alongAxis(Kind::logSoftmax, x, axis); }
  /// An op over one axis that keeps the operand's dtype and shape.
  int alongAxis(Kind kind, int x, int64_t axis) {
    Node n = make(kind, {x}, dt(x), shape(x));
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

/// `useOperator` traces + - * / through the operators instead of the named functions.
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
  return ajit::test::applyBinary(op, x, y);
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
  if (!useOperator) return compare(toCmp(c), x, y);
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

struct JitRun {
  std::vector<Array> outputs;
  std::string ir;
  double compileMs = 0;
};

template <class F, size_t... I>
void callJitted(F &f, const std::vector<Array> &in, bool lowerOnly, JitRun &r, std::index_sequence<I...>) {
  if (lowerOnly) {
    r.ir = f.lower(in[I]...);
  } else {
    r.outputs = f(in[I]...);
    r.compileMs = f.stats().totalCompile.total;
  }
}

/// Traces, compiles and runs the program (or, with `lowerOnly`, only traces and prints it).
JitRun runJit(const Program &p, bool lowerOnly) {
  std::vector<Array> in = inputArrays(p);
  JitRun r;
  // Odd-numbered programs donate every input: results may then be computed in the
  // inputs' buffers (each Array here is the sole owner of its buffer, so the buffers are
  // really taken), which the reference must not notice.
  JitOptions options{.name = "fuzz"};
  if (p.index % 2 == 1)
    for (size_t k = 0; k < in.size(); ++k) options.donateArgnums.push_back(static_cast<int>(k));
  switch (in.size()) {
  case 1: {
    auto f = jit([&p](const Tensor &a) { return traceProgram(p, {a}); }, options);
    callJitted(f, in, lowerOnly, r, std::make_index_sequence<1>{});
    break;
  }
  case 2: {
    auto f = jit([&p](const Tensor &a, const Tensor &b) { return traceProgram(p, {a, b}); }, options);
    callJitted(f, in, lowerOnly, r, std::make_index_sequence<2>{});
    break;
  }
  case 3: {
    auto f = jit([&p](const Tensor &a, const Tensor &b, const Tensor &c) { return traceProgram(p, {a, b, c}); }, options);
    callJitted(f, in, lowerOnly, r, std::make_index_sequence<3>{});
    break;
  }
  case 4: {
    auto f = jit([&p](const Tensor &a, const Tensor &b, const Tensor &c, const Tensor &d) { return traceProgram(p, {a, b, c, d}); },
                 options);
    callJitted(f, in, lowerOnly, r, std::make_index_sequence<4>{});
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

//===----------------------------------------------------------------------===//
// The interpreter: reference kernels for the values, plus an error bound per element
//===----------------------------------------------------------------------===//

namespace {

/// A value of the interpreter: floats in `f` (already rounded to the dtype), integers and
/// bools in `i`; `e` bounds |ajit - reference| per element, +inf = unknown (integers and
/// bools: 0 or +inf).
struct Val {
  DType dt = DType::f32;
  Shape shape;
  std::vector<double> f, e;
  std::vector<int64_t> i;
};

Val blank(DType dt, const Shape &shape) {
  Val v;
  v.dt = dt;
  v.shape = shape;
  size_t n = static_cast<size_t>(R::numElements(shape));
  if (isF(dt)) v.f.assign(n, 0.0);
  else v.i.assign(n, 0);
  v.e.assign(n, 0.0);
  return v;
}

double unitRoundoff(DType dt) { return dt == DType::f32 ? 0x1p-24 : 0x1p-53; }
double maxFinite(DType dt) { return dt == DType::f32 ? FLT_MAX : DBL_MAX; }
double minNormal(DType dt) { return dt == DType::f32 ? FLT_MIN : DBL_MIN; }
double store(DType dt, double v) { return dt == DType::f32 ? R::roundToF32(v) : v; }
/// Growth of the rounding error of a (reassociated) sum of n terms, in units of u.
double sumGrowth(int64_t n) { return std::min(static_cast<double>(n) + 2, 8 + 2 * std::sqrt(static_cast<double>(n))); }

enum class Cls { finite, nan, pinf, ninf };
Cls classOf(double v) {
  if (std::isnan(v)) return Cls::nan;
  if (std::isinf(v)) return v > 0 ? Cls::pinf : Cls::ninf;
  return Cls::finite;
}

struct Elem {
  double v, e;
};
const Elem kUnknown{0.0, kInf};

/// Rounds a float result to its dtype; results whose bound reaches the overflow threshold
/// are unknown unless they overflow for sure.
Elem finish(DType dt, double v0, double e) {
  if (std::isnan(e)) return kUnknown;
  if (e > 0 && std::isfinite(v0) && std::fabs(v0) + e >= maxFinite(dt)) {
    if (std::fabs(v0) - e > maxFinite(dt) * (1 + 2 * unitRoundoff(dt))) return {std::copysign(kInf, v0), 0.0};
    return kUnknown;
  }
  return {store(dt, v0), e};
}

/// The error of an elementwise float op on its own (operands exact).
struct OpError {
  bool exact = false;     ///< correctly rounded IEEE op: no error on exact operands
  double rel = 0;         ///< * u * |result|
  double absU = 0;        ///< * u
  double absUx = 0;       ///< * u * |x| (gelu)
  double absolute = 0;    ///< absolute (sin/cos range)
  bool tiny = false;      ///< may flush results below the smallest normal to 0
  double lipschitz = 0;   ///< > 0: propagate with this constant instead of the corners
};

using Fn2 = std::function<double(double, double)>;
/// True if the operand box contains a singularity of the op (unknown result).
using Singular = std::function<bool(double alo, double ahi, double blo, double bhi)>;

/// y = f(a, b) with the bound: operand errors through the corners of the operand box (or
/// a Lipschitz constant), the op's own error, and the rounding of the result.
Elem evalElem(DType dt, const Fn2 &f, double a, double ea, double b, double eb, const OpError &m,
              const Singular &singular = nullptr) {
  if (!(ea < kInf) || !(eb < kInf)) return kUnknown;
  double u = unitRoundoff(dt);
  double v0 = f(a, b);
  double ep = 0, mag = std::fabs(v0);
  bool inexact = ea > 0 || eb > 0;
  if (inexact) {
    if (singular && singular(a - ea, a + ea, b - eb, b + eb)) return kUnknown;
    for (int sa : {-1, 1})
      for (int sb : {-1, 1}) {
        double c = f(a + sa * ea, b + sb * eb);
        if (classOf(c) != classOf(v0)) return kUnknown;
        if (std::isfinite(c)) ep = std::max(ep, std::fabs(c - v0)), mag = std::max(mag, std::fabs(c));
      }
    if (m.lipschitz > 0 && std::isfinite(v0)) {
      ep = m.lipschitz * std::max(ea, eb);
      mag = std::fabs(v0) + ep;
    }
  }
  if (!std::isfinite(v0)) return {v0, 0.0}; // decided by the operands' classes alone
  double e = ep;
  if (m.exact) {
    if (inexact) e += 2 * u * mag;
  } else {
    e += u * (m.rel * mag + m.absU + m.absUx * (std::fabs(a) + ea)) + m.absolute + (m.tiny ? minNormal(dt) : 0);
  }
  return finish(dt, v0, e);
}

OpError unaryError(R::Unary op, DType dt, double xmax) {
  bool f32 = dt == DType::f32;
  OpError m;
  switch (op) {
  case R::Unary::neg:
  case R::Unary::relu:
  case R::Unary::sqrt: m.exact = true; break;
  case R::Unary::abs: m.exact = true, m.lipschitz = 1; break;
  case R::Unary::exp: m.rel = f32 ? 8 : 4, m.tiny = true; break;
  case R::Unary::log: m.rel = f32 ? 8 : 4, m.absU = f32 ? 4 : 2; break;
  case R::Unary::sin:
  case R::Unary::cos:
    m.lipschitz = 1;
    if (f32 && xmax > 1e4) m.absolute = 2; // only the range [-1, 1] is promised there
    else m.absU = 4, m.rel = f32 ? 0 : 4;
    break;
  case R::Unary::tanh: m.rel = f32 ? 16 : 4, m.absolute = f32 ? 0x1p-30 : 0, m.absU = f32 ? 0 : 1; break;
  case R::Unary::rsqrt: m.rel = 4; break;
  case R::Unary::sigmoid: m.rel = 8, m.absU = 1, m.tiny = true; break;
  case R::Unary::geluTanh:
  case R::Unary::geluErf: m.rel = 32, m.absU = 16, m.absUx = 16, m.tiny = true, m.lipschitz = 1.13; break;
  }
  return m;
}

/// Broadcasts `x` (values and bounds) to `to` (NumPy trailing alignment).
Val bcast(const Val &x, const Shape &to) {
  if (x.shape == to) return x;
  Val r = blank(x.dt, to);
  if (isF(x.dt)) R::broadcastTo(x.f.data(), x.shape, r.f.data(), to);
  else R::broadcastTo(x.i.data(), x.shape, r.i.data(), to);
  R::broadcastTo(x.e.data(), x.shape, r.e.data(), to);
  return r;
}

bool unknown(double e) { return !(e < kInf); }

/// Same dtype conversion semantics as ajit (see Reference.h).
Val convert(const Val &x, DType to) {
  if (x.dt == to) return x;
  Val r = blank(to, x.shape);
  size_t n = x.e.size();
  for (size_t k = 0; k < n; ++k) {
    if (unknown(x.e[k])) {
      r.e[k] = kInf;
      continue;
    }
    if (isF(x.dt) && isF(to)) {
      Elem y = evalElem(to, [](double a, double) { return a; }, x.f[k], x.e[k], 0, 0, OpError{.exact = true});
      r.f[k] = y.v, r.e[k] = y.e;
    } else if (isF(x.dt)) {
      int bits = intBits(to);
      double a = x.f[k], ea = x.e[k];
      r.i[k] = R::floatToInt(a, bits);
      if (ea > 0 && !std::isnan(a)) {
        bool same = bits == 1 ? (a - ea > 0 || a + ea < 0)
                              : R::floatToInt(a - ea, bits) == r.i[k] && R::floatToInt(a + ea, bits) == r.i[k];
        if (!same) r.e[k] = kInf;
      }
    } else if (isF(to)) {
      r.f[k] = R::intToFloat(x.i[k], to == DType::f32 ? 32 : 64);
    } else {
      r.i[k] = R::intToInt(x.i[k], intBits(to));
    }
  }
  return r;
}

Val scalarVal(DType dt, double s) {
  Val v = blank(dt, {});
  if (isF(dt)) v.f[0] = store(dt, s);
  else v.i[0] = dt == DType::boolean ? (s != 0) : static_cast<int64_t>(s);
  return v;
}

Val unaryOp(R::Unary op, const Val &x) {
  Val r = blank(x.dt, x.shape);
  for (size_t k = 0; k < x.e.size(); ++k) {
    if (unknown(x.e[k])) {
      r.e[k] = kInf;
      continue;
    }
    if (!isF(x.dt)) {
      r.i[k] = R::unaryInt(op, x.i[k], intBits(x.dt));
      continue;
    }
    double a = x.f[k], ea = x.e[k];
    OpError m = unaryError(op, x.dt, std::fabs(a) + ea);
    Elem y = evalElem(x.dt, [op](double v, double) { return R::unary(op, v); }, a, ea, 0, 0, m);
    if (y.e < kInf && (op == R::Unary::sin || op == R::Unary::cos)) y.e = std::min(y.e, 2.0);
    r.f[k] = y.v, r.e[k] = y.e;
  }
  return r;
}

/// pow's own error: 8u |result| (2 + |y ln x|) over the operand box (x > 0 there).
OpError powError(double a, double ea, double b, double eb) {
  double la = std::max(std::fabs(std::log(std::max(std::fabs(a) - ea, DBL_MIN))), std::fabs(std::log(std::fabs(a) + ea)));
  OpError m;
  m.rel = 8 * (3 + (std::fabs(b) + eb) * la);
  m.tiny = true;
  return m;
}

/// Elementwise binary op (R::Binary) with broadcasting.
Val binaryOp(R::Binary op, const Val &x0, const Val &y0) {
  Shape shape = R::broadcastShapes(x0.shape, y0.shape);
  Val x = bcast(x0, shape), y = bcast(y0, shape), r = blank(x0.dt, shape);
  for (size_t k = 0; k < r.e.size(); ++k) {
    if (unknown(x.e[k]) || unknown(y.e[k])) {
      r.e[k] = kInf;
      continue;
    }
    if (!isF(x.dt)) {
      r.i[k] = R::binaryInt(op, x.i[k], y.i[k], intBits(x.dt));
      continue;
    }
    double a = x.f[k], ea = x.e[k], b = y.f[k], eb = y.e[k];
    Fn2 f = [op](double p, double q) { return R::binary(op, p, q); };
    Elem z;
    if (op == R::Binary::pow) {
      z = evalElem(x.dt, f, a, ea, b, eb, powError(a, ea, b, eb), [&](double alo, double ahi, double, double) {
        return (alo <= 0 && ahi >= 0) || (ahi < 0 && eb > 0); // through 0, or a negative base with an inexact exponent
      });
    } else if (op == R::Binary::div) {
      z = evalElem(x.dt, f, a, ea, b, eb, OpError{.exact = true},
                   [](double, double, double blo, double bhi) { return blo <= 0 && bhi >= 0; });
    } else {
      z = evalElem(x.dt, f, a, ea, b, eb, OpError{.exact = true});
    }
    r.f[k] = z.v, r.e[k] = z.e;
  }
  return r;
}

Val powScalarOp(const Val &x, double p) {
  Val r = blank(x.dt, x.shape);
  bool integral = std::trunc(p) == p;
  for (size_t k = 0; k < x.e.size(); ++k) {
    double a = x.f[k], ea = x.e[k];
    Fn2 f = [p](double v, double) { return R::binary(R::Binary::pow, v, p); };
    Elem z = evalElem(x.dt, f, a, ea, p, 0, powError(a, ea, p, 0), [&](double alo, double ahi, double, double) {
      return alo <= 0 && ahi >= 0 && !(integral && p > 0);
    });
    if (z.e < kInf && z.e > 0 && integral && p > 0 && a - ea <= 0 && a + ea >= 0) // x^2k has its minimum inside
      z.e = std::max(z.e, std::fabs(z.v) + 8 * unitRoundoff(x.dt) * std::fabs(z.v));
    r.f[k] = z.v, r.e[k] = z.e;
  }
  return r;
}

Val compareOp(R::Cmp c, const Val &x0, const Val &y0) {
  Shape shape = R::broadcastShapes(x0.shape, y0.shape);
  Val x = bcast(x0, shape), y = bcast(y0, shape), r = blank(DType::boolean, shape);
  for (size_t k = 0; k < r.e.size(); ++k) {
    if (unknown(x.e[k]) || unknown(y.e[k])) {
      r.e[k] = kInf;
      continue;
    }
    if (!isF(x.dt)) {
      r.i[k] = R::compareInt(c, x.i[k], y.i[k]);
      continue;
    }
    double a = x.f[k], b = y.f[k], spread = x.e[k] + y.e[k];
    r.i[k] = R::compare(c, a, b);
    if (spread > 0 && !std::isnan(a) && !std::isnan(b)) {
      double d = a - b; // in double: exact enough next to a bound of a few f32 / f64 ulps
      if (!(std::fabs(d) > spread * 1.01 + 0x1p-50 * std::max(std::fabs(a), std::fabs(b)))) r.e[k] = kInf;
    }
  }
  return r;
}

Val whereOp(const Val &c0, const Val &x0, const Val &y0) {
  Shape shape = R::broadcastShapes(c0.shape, R::broadcastShapes(x0.shape, y0.shape));
  Val r = blank(x0.dt, shape);
  if (isF(x0.dt)) R::select(c0.i.data(), c0.shape, x0.f.data(), x0.shape, y0.f.data(), y0.shape, r.f.data());
  else R::select(c0.i.data(), c0.shape, x0.i.data(), x0.shape, y0.i.data(), y0.shape, r.i.data());
  R::select(c0.i.data(), c0.shape, x0.e.data(), x0.shape, y0.e.data(), y0.shape, r.e.data());
  Val c = bcast(c0, shape);
  for (size_t k = 0; k < r.e.size(); ++k)
    if (unknown(c.e[k])) r.e[k] = kInf;
  return r;
}

/// clamp = min(max(x, lo), hi), bounds broadcast to x; 1-Lipschitz: the bound is the
/// largest operand bound.
Val clampOp(const Val &x, const Val &lo0, const Val &hi0) {
  Val lo = bcast(lo0, x.shape), hi = bcast(hi0, x.shape), r = blank(x.dt, x.shape);
  for (size_t k = 0; k < r.e.size(); ++k) {
    double e = std::max({x.e[k], lo.e[k], hi.e[k]});
    if (unknown(e)) {
      r.e[k] = kInf;
      continue;
    }
    if (!isF(x.dt)) {
      r.i[k] = R::clampInt(x.i[k], lo.i[k], hi.i[k]);
      continue;
    }
    r.f[k] = R::clamp(x.f[k], lo.f[k], hi.f[k]);
    r.e[k] = std::isfinite(r.f[k]) ? e : 0.0;
  }
  return r;
}

/// Calls f(offsets, laneIndex) for every 1-D lane of `shape` along `axis`, lanes in the
/// row-major order of the reduced result.
template <class F> void forEachLane(const Shape &shape, int64_t axis, F f) {
  std::vector<int64_t> strides = R::stridesOf(shape);
  Shape outer = shape;
  outer[axis] = 1;
  int64_t lanes = R::numElements(outer);
  std::vector<int64_t> offsets;
  for (int64_t l = 0; l < lanes; ++l) {
    int64_t rem = l, base = 0;
    for (size_t d = shape.size(); d-- > 0;) {
      int64_t idx = rem % outer[d];
      rem /= outer[d];
      base += idx * strides[d];
    }
    offsets.clear();
    for (int64_t j = 0; j < shape[axis]; ++j) offsets.push_back(base + j * strides[axis]);
    f(offsets, l);
  }
}

Val reduceOp(R::Reduce kind, const Val &x0, const std::vector<int64_t> &axesIn, bool keepdims) {
  Val x = kind == R::Reduce::mean && !isF(x0.dt) ? convert(x0, DType::f32) : x0; // as the frontend does
  std::vector<int64_t> axes = R::normalizeAxes(x.shape, axesIn);
  Shape shape = R::reduceShape(x.shape, axes, keepdims);
  Val r = blank(x.dt, shape);
  int64_t m = R::numElements(shape), count = 1;
  for (int64_t a : axes) count *= x.shape[a];
  // Any unknown element makes its whole lane unknown.
  std::vector<double> worst(m);
  R::reduce(R::Reduce::max, x.e.data(), x.shape, axes, keepdims, worst.data());
  if (!isF(x.dt)) {
    R::reduceInt(kind, x.i.data(), x.shape, axes, keepdims, r.i.data(), intBits(x.dt));
    for (int64_t o = 0; o < m; ++o) r.e[o] = unknown(worst[o]) ? kInf : 0.0;
    return r;
  }
  R::reduce(kind, x.f.data(), x.shape, axes, keepdims, r.f.data());
  double u = unitRoundoff(x.dt);
  std::vector<double> absFinite(x.f.size()), sumAbs(m), sumErr(m);
  for (size_t k = 0; k < x.f.size(); ++k) absFinite[k] = std::isfinite(x.f[k]) ? std::fabs(x.f[k]) : 0.0;
  R::reduce(R::Reduce::sum, absFinite.data(), x.shape, axes, keepdims, sumAbs.data());
  R::reduce(R::Reduce::sum, x.e.data(), x.shape, axes, keepdims, sumErr.data());
  for (int64_t o = 0; o < m; ++o) {
    double v = r.f[o];
    if (unknown(worst[o])) {
      r.e[o] = kInf;
    } else if (kind == R::Reduce::max || kind == R::Reduce::min) {
      r.e[o] = std::isfinite(v) ? std::max(worst[o], 0.0) : 0.0; // max/min are 1-Lipschitz
    } else if (sumAbs[o] >= maxFinite(x.dt) * 0.5) {
      r.e[o] = kInf; // partial sums may overflow, depending on the order
    } else if (!std::isfinite(v)) {
      r.e[o] = 0.0; // inf / NaN operands decide it
    } else {
      double e = sumErr[o] + sumGrowth(count) * u * sumAbs[o];
      if (kind == R::Reduce::mean) e /= static_cast<double>(count);
      r.e[o] = e + 2 * u * std::fabs(v);
    }
    if (r.e[o] < kInf) {
      Elem y = finish(x.dt, v, r.e[o]);
      r.f[o] = y.v, r.e[o] = y.e;
    }
  }
  return r;
}

Val argReduceOp(bool isMax, const Val &x, int64_t axisIn, bool keepdims) {
  int64_t axis = R::normalizeAxes(x.shape, {axisIn})[0];
  Val r = blank(DType::i64, R::reduceShape(x.shape, {axis}, keepdims));
  if (isF(x.dt)) R::argReduce(isMax, x.f.data(), x.shape, axis, keepdims, r.i.data());
  else R::argReduceInt(isMax, x.i.data(), x.shape, axis, keepdims, r.i.data());
  forEachLane(x.shape, axis, [&](const std::vector<int64_t> &lane, int64_t l) {
    bool anyNaN = false;
    for (int64_t o : lane) {
      if (unknown(x.e[o])) {
        r.e[l] = kInf;
        return;
      }
      if (isF(x.dt) && std::isnan(x.f[o])) anyNaN = true;
    }
    if (!isF(x.dt) || anyNaN) return; // exact: integers; the first NaN (NaNs are exact)
    int64_t best = r.i[l];
    double vb = x.f[lane[best]], eb = x.e[lane[best]];
    for (int64_t j = 0; j < static_cast<int64_t>(lane.size()); ++j) {
      if (j == best) continue;
      double vj = x.f[lane[j]], ej = x.e[lane[j]];
      if (ej == 0 && eb == 0) continue; // exact: the reference's decision stands
      // Could ajit's element j win? Earlier elements win ties, later ones must be strictly better.
      bool could = isMax ? (j < best ? vj + ej >= vb - eb : vj + ej > vb - eb)
                         : (j < best ? vj - ej <= vb + eb : vj - ej < vb + eb);
      if (could) {
        r.e[l] = kInf;
        return;
      }
    }
  });
  return r;
}

Val matmulOp(const Val &a, const Val &b) {
  Shape shape = R::matmulShape(a.shape, b.shape);
  Val r = blank(a.dt, shape);
  if (!isF(a.dt)) R::matmulInt(a.i.data(), a.shape, b.i.data(), b.shape, r.i.data(), intBits(a.dt));
  else R::matmul(a.f.data(), a.shape, b.f.data(), b.shape, r.f.data());
  R::Matmul3 d = R::matmulDims(a.shape, b.shape);
  double u = isF(a.dt) ? unitRoundoff(a.dt) : 0;
  for (int64_t p = 0; p < d.batch; ++p) {
    int64_t pa = (d.batchA == 1 ? 0 : p) * d.m * d.k, pb = (d.batchB == 1 ? 0 : p) * d.k * d.n;
    for (int64_t i = 0; i < d.m; ++i)
      for (int64_t j = 0; j < d.n; ++j) {
        int64_t o = (p * d.m + i) * d.n + j;
        double sumAbs = 0, eprop = 0;
        bool anyUnknown = false, inexactSpecial = false;
        for (int64_t q = 0; q < d.k; ++q) {
          int64_t ia = pa + i * d.k + q, ib = pb + q * d.n + j;
          double ea = a.e[ia], eb = b.e[ib];
          if (unknown(ea) || unknown(eb)) {
            anyUnknown = true;
            break;
          }
          if (!isF(a.dt)) continue;
          double av = a.f[ia], bv = b.f[ib];
          if (std::isfinite(av) && std::isfinite(bv)) {
            sumAbs += std::fabs(av * bv);
            eprop += std::fabs(av) * eb + ea * std::fabs(bv) + ea * eb;
          } else if (ea > 0 || eb > 0) {
            inexactSpecial = true;
          }
        }
        if (anyUnknown) {
          r.e[o] = kInf;
          continue;
        }
        if (!isF(a.dt)) continue;
        double v = r.f[o];
        if (sumAbs >= maxFinite(a.dt) * 0.5) r.e[o] = kInf;
        else if (!std::isfinite(v)) r.e[o] = inexactSpecial ? kInf : 0.0;
        else {
          Elem y = finish(a.dt, v, eprop + (sumGrowth(d.k) + 1) * u * sumAbs + 2 * u * std::fabs(v) +
                                       static_cast<double>(d.k) * minNormal(a.dt) * 0x1p-23);
          r.f[o] = y.v, r.e[o] = y.e;
        }
      }
  }
  return r;
}

Val softmaxOp(const Val &x, int64_t axisIn, bool isLog) {
  int64_t axis = R::normalizeAxes(x.shape, {axisIn})[0];
  Val r = blank(x.dt, x.shape);
  std::vector<double> lsm(x.f.size());
  R::logSoftmax(x.f.data(), x.shape, axis, lsm.data());
  if (isLog) r.f = lsm;
  else R::softmax(x.f.data(), x.shape, axis, r.f.data());
  double u = unitRoundoff(x.dt);
  forEachLane(x.shape, axis, [&](const std::vector<int64_t> &lane, int64_t) {
    double emax = 0;
    for (int64_t o : lane) emax = std::max(emax, x.e[o]);
    double g = sumGrowth(static_cast<int64_t>(lane.size()));
    for (int64_t o : lane) {
      double v = r.f[o];
      if (unknown(emax)) r.e[o] = kInf;
      else if (!std::isfinite(v) || x.f[o] == -kInf) r.e[o] = 0.0; // NaN / -inf lanes, masked entries
      else if (isLog) r.e[o] = 2 * emax + 8 * u * (1 + std::fabs(v)) + g * u;
      else r.e[o] = v * std::expm1(2 * emax) + 4 * u * v * (4 + std::fabs(lsm[o])) + g * u * v + minNormal(x.dt);
      if (r.e[o] < kInf) {
        Elem y = finish(x.dt, v, r.e[o]);
        r.f[o] = y.v, r.e[o] = y.e;
      }
    }
  });
  return r;
}

Val reshapeVal(const Val &x, const Shape &shape) {
  Val r = x;
  r.shape = shape;
  return r;
}

Val transposeOp(const Val &x, const std::vector<int64_t> &perm) {
  Val r = blank(x.dt, R::transposeShape(x.shape, perm));
  if (isF(x.dt)) R::transpose(x.f.data(), x.shape, perm, r.f.data());
  else R::transpose(x.i.data(), x.shape, perm, r.i.data());
  R::transpose(x.e.data(), x.shape, perm, r.e.data());
  return r;
}

Val inputVal(const Node &n, const HostData &d) {
  Val v = blank(n.dtype, n.shape);
  if (isF(n.dtype)) v.f = d.f;
  else v.i = d.i;
  return v;
}

/// Every node's value and bound.
std::vector<Val> interpret(const Program &p) {
  std::vector<Val> vals;
  vals.reserve(p.nodes.size());
  for (const Node &n : p.nodes) {
    auto arg = [&](int j) -> const Val & { return vals[n.args[j]]; };
    Val v;
    switch (n.kind) {
    case Kind::input: v = inputVal(n, p.data[n.axis]); break;
    case Kind::constant: v = bcast(scalarVal(n.dtype, n.a), n.shape); break;
    case Kind::unary: v = unaryOp(static_cast<R::Unary>(n.op), arg(0)); break;
    case Kind::binary: v = binaryOp(static_cast<R::Binary>(n.op), arg(0), arg(1)); break;
    case Kind::binaryScalar: {
      Val s = scalarVal(n.dtype, n.a);
      v = n.flag ? binaryOp(static_cast<R::Binary>(n.op), s, arg(0)) : binaryOp(static_cast<R::Binary>(n.op), arg(0), s);
      break;
    }
    case Kind::powScalar: v = powScalarOp(arg(0), n.a); break;
    case Kind::compare: v = compareOp(static_cast<R::Cmp>(n.op), arg(0), arg(1)); break;
    case Kind::compareScalar: v = compareOp(static_cast<R::Cmp>(n.op), arg(0), scalarVal(arg(0).dt, n.a)); break;
    case Kind::where: v = whereOp(arg(0), arg(1), arg(2)); break;
    case Kind::clampScalar: v = clampOp(arg(0), scalarVal(n.dtype, n.a), scalarVal(n.dtype, n.b)); break;
    case Kind::clampTensor: v = clampOp(arg(0), arg(1), arg(2)); break;
    case Kind::astype: v = convert(arg(0), n.dtype); break;
    case Kind::reduce: v = reduceOp(static_cast<R::Reduce>(n.op), arg(0), n.ints, n.flag); break;
    case Kind::argReduce: v = argReduceOp(n.op != 0, arg(0), n.axis, n.flag); break;
    case Kind::reshape: v = reshapeVal(arg(0), n.shape); break;
    case Kind::transpose: v = transposeOp(arg(0), n.ints); break;
    case Kind::broadcastTo: v = bcast(arg(0), n.shape); break;
    case Kind::matmul: v = matmulOp(arg(0), arg(1)); break;
    case Kind::softmax: v = softmaxOp(arg(0), n.axis, false); break;
    case Kind::logSoftmax: v = softmaxOp(arg(0), n.axis, true); break;
    }
    if (v.dt != n.dtype || v.shape != n.shape)
      throw std::logic_error("interpreter: node %" + std::to_string(vals.size()) + " is " + describe(v.dt, v.shape) +
                             ", expected " + describe(n.dtype, n.shape));
    vals.push_back(std::move(v));
  }
  return vals;
}

} // namespace

//===----------------------------------------------------------------------===//
// The generator
//===----------------------------------------------------------------------===//

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::optional<Shape> broadcastShape(const Shape &a, const Shape &b) {
  try {
    return R::broadcastShapes(a, b);
  } catch (const std::invalid_argument &) {
    return std::nullopt;
  }
}

/// x broadcasts to `to` (trailing alignment, not a higher rank).
bool broadcastsTo(const Shape &x, const Shape &to) {
  if (x.size() > to.size()) return false;
  size_t off = to.size() - x.size();
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i] != 1 && x[i] != to[off + i]) return false;
  return true;
}

constexpr int64_t kMaxElements = 2048;

class Generator {
public:
  Generator(uint64_t runSeed, int64_t index) : rng_(splitmix64(runSeed * 0x100000001b3ull + static_cast<uint64_t>(index))) {
    b_.p.seed = runSeed;
    b_.p.index = index;
  }

  Program generate() {
    edges_ = chance(0.25);
    b_.p.edges = edges_;
    makeInputs();
    int target = static_cast<int>(uni(1, 40));
    int made = 0;
    for (int attempts = 0; made < target && attempts < 20 * target + 50; ++attempts) {
      size_t before = b_.p.nodes.size();
      int id = -1;
      try {
        id = tryKind(chooseKind());
      } catch (const std::invalid_argument &) {
        id = -1; // a shape the reference rejects: a generator slip, try something else
      }
      if (id < 0 || R::numElements(b_.p.nodes[id].shape) > kMaxElements) {
        b_.p.nodes.resize(before);
        continue;
      }
      made += static_cast<int>(b_.p.nodes.size() - before);
    }
    chooseOutputs();
    return b_.p;
  }

private:
  std::mt19937_64 rng_;
  Builder b_;
  bool edges_ = false;

  int64_t uni(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class T> T pickOne(const std::vector<T> &v) { return v[static_cast<size_t>(uni(0, static_cast<int64_t>(v.size()) - 1))]; }

  const Node &node(int id) const { return b_.p.nodes[id]; }
  int count() const { return static_cast<int>(b_.p.nodes.size()); }

  /// A random node satisfying `pred`, biased towards recent ones (deep graphs), or -1.
  int pick(const std::function<bool(const Node &)> &pred) {
    std::vector<int> c;
    for (int k = 0; k < count(); ++k)
      if (pred(node(k))) c.push_back(k);
    if (c.empty()) return -1;
    if (chance(0.6)) return c[c.size() - 1 - static_cast<size_t>(uni(0, std::min<int64_t>(2, c.size() - 1)))];
    return pickOne(c);
  }
  int pickAny() {
    return pick([](const Node &) { return true; });
  }

  int64_t dim() {
    int64_t r = uni(0, 99);
    return r < 3 ? 0 : r < 28 ? 1 : uni(2, 9);
  }
  Shape randomShape(int64_t rank) {
    Shape s;
    for (int64_t i = 0; i < rank; ++i) s.push_back(dim());
    return s;
  }
  int64_t randomRank() {
    int64_t r = uni(0, 99);
    return r < 10 ? 0 : r < 35 ? 1 : r < 70 ? 2 : 3;
  }
  DType randomDtype() {
    int64_t r = uni(0, 99);
    return r < 40 ? DType::f32 : r < 60 ? DType::f64 : r < 75 ? DType::i32 : r < 85 ? DType::i64 : DType::boolean;
  }
  DType floatDtype() { return chance(0.65) ? DType::f32 : DType::f64; }

  std::vector<double> floatEdges(DType dt) {
    if (dt == DType::f32) return {0.0, -0.0, kInf, -kInf, kNaN, 1e-40, -1e-40, 1e30, -1e30, FLT_MIN, 1, -1};
    return {0.0, -0.0, kInf, -kInf, kNaN, 1e-310, -1e-310, 1e300, -1e300, DBL_MIN, 1, -1};
  }
  std::vector<int64_t> intEdges(DType dt) {
    if (dt == DType::i32) return {INT32_MIN, INT32_MAX, INT32_MIN + 1, 0, -1, 1};
    return {INT64_MIN, INT64_MAX, INT64_MIN + 1, 0, -1, 1};
  }

  HostData randomData(DType dt, int64_t n) {
    HostData d;
    bool nice = chance(0.3);
    for (int64_t k = 0; k < n; ++k) {
      bool edge = edges_ && chance(0.2);
      if (isF(dt)) {
        double v = edge ? pickOne(floatEdges(dt)) : nice ? static_cast<double>(uni(-6, 6)) * 0.5 : real(-3, 3);
        if (!edge && nice && v == 0 && chance(0.5)) v = -0.0;
        d.f.push_back(store(dt, v));
      } else if (dt == DType::boolean) {
        d.i.push_back(uni(0, 1));
      } else {
        d.i.push_back(edge ? pickOne(intEdges(dt)) : nice ? uni(-2, 2) : uni(-5, 5));
      }
    }
    return d;
  }

  void makeInputs() {
    int n = static_cast<int>(uni(1, 3));
    Shape base = randomShape(randomRank());
    for (int k = 0; k < n; ++k) {
      Shape s;
      int64_t mode = k == 0 ? 0 : uni(0, 9);
      if (mode < 5) { // related to the base shape: a suffix of it, some dims 1 (broadcasting)
        size_t drop = static_cast<size_t>(uni(0, static_cast<int64_t>(base.size())));
        if (k == 0) drop = 0;
        s.assign(base.begin() + static_cast<int64_t>(drop), base.end());
        if (k > 0)
          for (int64_t &d : s)
            if (chance(0.3)) d = 1;
      } else if (mode < 7 && !base.empty()) { // a matmul partner of the base
        int64_t kdim = base.back();
        s = chance(0.5) ? Shape{kdim, uni(1, 6)} : Shape{base.size() == 3 && chance(0.6) ? base[0] : uni(1, 3), kdim, uni(1, 6)};
      } else {
        s = randomShape(randomRank());
      }
      DType dt = randomDtype();
      b_.addInput(dt, s, randomData(dt, R::numElements(s)));
    }
  }

  /// astype(x, dt) unless x already has it.
  int convert(int x, DType dt) { return node(x).dtype == dt ? x : b_.astype(x, dt); }

  double scalarFor(DType dt) {
    if (dt == DType::boolean) return static_cast<double>(uni(0, 1));
    if (!isF(dt)) return pickOne(std::vector<double>{0, 1, -1, 2, -3, 5});
    std::vector<double> v = {0, 1, -1, 0.5, 2, -2, 3, 0.25, -0.75, 1.5};
    if (edges_) v.insert(v.end(), {kInf, -kInf, kNaN, -0.0, 1e30});
    return pickOne(v);
  }

  /// A constant broadcast-compatible with `like`: [] or [1] or a suffix of it with 1s.
  int constantLike(int like, DType dt) {
    Shape s;
    int64_t mode = uni(0, 3);
    if (mode == 1) s = {1};
    else if (mode >= 2) {
      const Shape ls = node(like).shape;
      size_t drop = static_cast<size_t>(uni(0, static_cast<int64_t>(ls.size())));
      s.assign(ls.begin() + static_cast<int64_t>(drop), ls.end());
      for (int64_t &d : s)
        if (chance(0.5)) d = 1;
    }
    return b_.constant(dt, s, scalarFor(dt));
  }

  /// An operand for x: a node broadcast-compatible with it (converted to its dtype), or a constant.
  int partner(int x) {
    const Shape xs = node(x).shape; // a copy: adding nodes moves them
    int y = chance(0.2) ? -1 : pick([&](const Node &n) { return broadcastShape(xs, n.shape).has_value(); });
    if (y < 0) return constantLike(x, node(x).dtype);
    return convert(y, node(x).dtype);
  }

  Kind chooseKind() {
    // input, constant, unary, binary, binaryScalar, powScalar, compare, compareScalar, where, clampScalar,
    // clampTensor, astype, reduce, argReduce, reshape, transpose, broadcastTo, matmul, softmax, logSoftmax
    static const std::vector<double> weights = {0, 0, 14, 16, 6, 2, 5, 3, 5, 3, 2, 7, 8, 3, 5, 4, 4, 5, 2, 1};
    std::discrete_distribution<int> d(weights.begin(), weights.end());
    return static_cast<Kind>(d(rng_));
  }

  int tryKind(Kind k) {
    switch (k) {
    case Kind::unary: return tryUnary();
    case Kind::binary: return tryBinary();
    case Kind::binaryScalar: return tryBinaryScalar();
    case Kind::powScalar: return tryPowScalar();
    case Kind::compare: return tryCompare();
    case Kind::compareScalar: return tryCompareScalar();
    case Kind::where: return tryWhere();
    case Kind::clampScalar: return tryClampScalar();
    case Kind::clampTensor: return tryClampTensor();
    case Kind::astype: return tryAstype();
    case Kind::reduce: return tryReduce();
    case Kind::argReduce: return tryArgReduce();
    case Kind::reshape: return tryReshape();
    case Kind::transpose: return tryTranspose();
    case Kind::broadcastTo: return tryBroadcastTo();
    case Kind::matmul: return tryMatmul();
    case Kind::softmax:
    case Kind::logSoftmax: return trySoftmax(k == Kind::logSoftmax);
    default: return -1;
    }
  }

  int tryUnary() {
    std::vector<R::Unary> ops = {R::Unary::neg,  R::Unary::abs,   R::Unary::exp,     R::Unary::log,
                                 R::Unary::tanh, R::Unary::sqrt,  R::Unary::rsqrt,   R::Unary::sigmoid,
                                 R::Unary::relu};
    if (!edges_) ops.insert(ops.end(), {R::Unary::sin, R::Unary::cos, R::Unary::geluTanh, R::Unary::geluErf});
    R::Unary op = pickOne(ops);
    int x = pickAny();
    bool floatOnly = op != R::Unary::neg && op != R::Unary::abs && op != R::Unary::relu;
    if (floatOnly && !isF(node(x).dtype)) x = convert(x, floatDtype());
    return b_.unary(op, x);
  }

  int tryBinary() {
    int x = pickAny();
    auto op = static_cast<R::Binary>(uni(0, edges_ ? 5 : 6));
    if (op == R::Binary::pow) {
      if (node(x).dtype == DType::boolean) return -1;
      if (isF(node(x).dtype) && chance(0.7)) x = b_.unary(R::Unary::abs, x); // mostly positive bases
    }
    int y = partner(x);
    if (chance(0.5)) std::swap(x, y);
    bool useOperator = op <= R::Binary::div && chance(0.4);
    return b_.binary(op, x, y, useOperator);
  }

  int tryBinaryScalar() {
    int x = pickAny();
    return b_.binaryScalar(static_cast<R::Binary>(uni(0, 3)), x, scalarFor(node(x).dtype), chance(0.5));
  }

  int tryPowScalar() {
    int x = pickAny();
    if (!isF(node(x).dtype)) x = convert(x, floatDtype());
    std::vector<double> ps = {2, 3, -1, -2, 4, 1, -3, 5};
    if (!edges_) ps.insert(ps.end(), {0.5, -0.5, 1.5, 2.5, -0.25, 0.75});
    return b_.powScalar(x, pickOne(ps));
  }

  int tryCompare() {
    int x = pickAny();
    int y = partner(x);
    if (chance(0.5)) std::swap(x, y);
    return b_.compare(static_cast<R::Cmp>(uni(0, 5)), x, y, chance(0.4));
  }

  int tryCompareScalar() {
    int x = pickAny();
    return b_.compareScalar(static_cast<R::Cmp>(uni(2, 5)), x, scalarFor(node(x).dtype));
  }

  int tryWhere() {
    int x = pickAny();
    int y = partner(x);
    if (chance(0.5)) std::swap(x, y);
    Shape xy = R::broadcastShapes(node(x).shape, node(y).shape);
    int c = chance(0.8) ? pick([&](const Node &n) { return n.dtype == DType::boolean && broadcastShape(n.shape, xy).has_value(); }) : -1;
    if (c < 0) {
      int z = pickAny();
      if (!broadcastShape(node(z).shape, xy)) z = x;
      c = b_.compare(static_cast<R::Cmp>(uni(0, 5)), z, constantLike(z, node(z).dtype));
    }
    return b_.where(c, x, y);
  }

  std::pair<double, double> bounds(DType dt) {
    double lo, hi;
    if (isF(dt)) {
      std::vector<double> v = {-2, -1, -0.5, 0, 0.5, 1, 2, -0.0};
      if (edges_) v.insert(v.end(), {kInf, -kInf, kNaN});
      lo = pickOne(v), hi = pickOne(v);
    } else if (dt == DType::boolean) {
      lo = static_cast<double>(uni(0, 1)), hi = static_cast<double>(uni(0, 1));
    } else {
      lo = static_cast<double>(uni(-3, 3)), hi = static_cast<double>(uni(-3, 3));
    }
    if (lo > hi && chance(0.8)) std::swap(lo, hi); // sometimes lo > hi: the result is hi
    return {lo, hi};
  }

  int tryClampScalar() {
    int x = pick([](const Node &n) { return n.dtype != DType::boolean; });
    if (x < 0) return -1;
    auto [lo, hi] = bounds(node(x).dtype);
    return b_.clamp(x, lo, hi);
  }

  int tryClampTensor() {
    int x = pickAny();
    const Shape xs = node(x).shape; // a copy: adding nodes moves them
    auto bound = [&]() {
      int v = chance(0.25) ? -1 : pick([&](const Node &n) { return broadcastsTo(n.shape, xs); });
      return v < 0 ? b_.constant(node(x).dtype, {}, bounds(node(x).dtype).first) : convert(v, node(x).dtype);
    };
    int lo = bound();
    int hi = bound();
    return b_.clampTensor(x, lo, hi);
  }

  int tryAstype() {
    int x = pickAny();
    DType to = randomDtype();
    if (to == node(x).dtype) return -1;
    return b_.astype(x, to);
  }

  int tryReduce() {
    int x = pickAny();
    auto kind = static_cast<R::Reduce>(uni(0, 3));
    if (kind == R::Reduce::sum && node(x).dtype == DType::boolean) x = convert(x, chance(0.5) ? DType::i32 : DType::f32);
    int64_t rank = static_cast<int64_t>(node(x).shape.size());
    std::vector<int64_t> axes;
    if (rank > 0 && chance(0.8)) {
      for (int64_t a = 0; a < rank; ++a)
        if (chance(0.5)) axes.push_back(chance(0.3) ? a - rank : a);
      std::shuffle(axes.begin(), axes.end(), rng_);
    }
    return b_.reduce(kind, x, axes, chance(0.4));
  }

  int tryArgReduce() {
    int x = pick([](const Node &n) {
      if (n.dtype == DType::boolean || n.shape.empty()) return false;
      return std::any_of(n.shape.begin(), n.shape.end(), [](int64_t d) { return d > 0; });
    });
    if (x < 0) return -1;
    const Shape s = node(x).shape;
    int64_t rank = static_cast<int64_t>(s.size()), axis;
    do axis = uni(0, rank - 1);
    while (s[axis] == 0);
    if (chance(0.3)) axis -= rank;
    return b_.argReduce(chance(0.5), x, axis, chance(0.4));
  }

  int tryReshape() {
    int x = pickAny();
    int64_t n = R::numElements(node(x).shape);
    Shape s;
    if (n == 0) {
      int64_t rank = uni(1, 3);
      for (int64_t i = 0; i < rank; ++i) s.push_back(uni(1, 4));
      s[static_cast<size_t>(uni(0, rank - 1))] = 0;
    } else {
      int64_t rank = n == 1 ? uni(0, 3) : uni(1, 3), rem = n;
      for (int64_t i = 0; i + 1 < rank; ++i) {
        std::vector<int64_t> divisors;
        for (int64_t d = 1; d <= rem; ++d)
          if (rem % d == 0) divisors.push_back(d);
        int64_t d = pickOne(divisors);
        s.push_back(d);
        rem /= d;
      }
      if (rank > 0) s.push_back(rem);
      std::shuffle(s.begin(), s.end(), rng_);
      if (rank > 0 && chance(0.3)) s[static_cast<size_t>(uni(0, rank - 1))] = -1;
    }
    return b_.reshape(x, s);
  }

  int tryTranspose() {
    int x = pick([](const Node &n) { return n.shape.size() >= 2; });
    if (x < 0) x = pickAny();
    int64_t rank = static_cast<int64_t>(node(x).shape.size());
    std::vector<int64_t> perm;
    if (chance(0.8)) {
      for (int64_t i = 0; i < rank; ++i) perm.push_back(i);
      std::shuffle(perm.begin(), perm.end(), rng_);
    }
    return b_.transpose(x, perm);
  }

  int tryBroadcastTo() {
    int x = pickAny();
    Shape s = node(x).shape;
    for (int64_t &d : s)
      if (d == 1 && chance(0.6)) d = uni(1, 5);
    while (s.size() < 3 && chance(0.5)) s.insert(s.begin(), chance(0.03) ? 0 : uni(1, 5));
    return b_.broadcastTo(x, s);
  }

  bool matmulOk(const Shape &a, const Shape &b) {
    if (a.empty() || b.empty() || a.size() > 3 || b.size() > 3) return false;
    try {
      R::matmulShape(a, b);
      return true;
    } catch (const std::invalid_argument &) {
      return false;
    }
  }

  int tryMatmul() {
    std::vector<std::pair<int, int>> pairs;
    for (int a = 0; a < count(); ++a)
      for (int c = 0; c < count(); ++c)
        if (node(a).dtype != DType::boolean && matmulOk(node(a).shape, node(c).shape)) pairs.push_back({a, c});
    if (!pairs.empty() && chance(0.6)) {
      auto [a, c] = chance(0.5) ? pairs.back() : pickOne(pairs);
      return b_.matmul(a, convert(c, node(a).dtype));
    }
    // Make a partner: reshape some node to [K, N].
    int a = pick([](const Node &n) { return !n.shape.empty() && n.shape.size() <= 3; });
    if (a < 0) return -1;
    if (node(a).dtype == DType::boolean) a = convert(a, chance(0.5) ? DType::f32 : DType::i32);
    int64_t k = node(a).shape.back();
    int c = pick([&](const Node &n) {
      int64_t m = R::numElements(n.shape);
      return k > 0 ? m > 0 && m % k == 0 && m / k <= 16 : m == 0;
    });
    if (c < 0) return -1;
    int64_t m = R::numElements(node(c).shape);
    int64_t nn = k > 0 ? m / k : uni(1, 4);
    Shape spec = nn == 1 && chance(0.3) ? Shape{k} : Shape{k, nn};
    int bm = b_.reshape(convert(c, node(a).dtype), spec);
    return b_.matmul(a, bm);
  }

  int trySoftmax(bool isLog) {
    int x = pick([](const Node &n) { return !n.shape.empty(); });
    if (x < 0) return -1;
    if (!isF(node(x).dtype)) x = convert(x, floatDtype());
    int64_t rank = static_cast<int64_t>(node(x).shape.size());
    int64_t axis = uni(-rank, rank - 1);
    return isLog ? b_.logSoftmax(x, axis) : b_.softmax(x, axis);
  }

  void chooseOutputs() {
    int n = static_cast<int>(uni(1, 3));
    b_.output(chance(0.85) ? count() - 1 : pickAny());
    for (int k = 1; k < n; ++k) {
      int64_t mode = uni(0, 99);
      if (mode < 15) b_.output(b_.p.outputs.back()); // the same node twice
      else if (mode < 30) b_.output(static_cast<int>(uni(0, b_.p.numInputs() - 1))); // an input
      else b_.output(pickAny());
    }
  }
};

Program generateProgram(uint64_t runSeed, int64_t index) { return Generator(runSeed, index).generate(); }

} // namespace

//===----------------------------------------------------------------------===//
// Running one program: interpreter vs. ajit
//===----------------------------------------------------------------------===//

namespace {

struct Result {
  enum Kind { pass, mismatch, error, crash } kind = pass;
  std::string message; ///< what differs (mismatch), the exception (error), the signal (crash)
  int64_t checked = 0, unknown = 0;
  double compileMs = 0;
  int signal = 0;
};

const char *resultName(Result::Kind k) {
  static const char *names[] = {"pass", "mismatch", "error", "crash"};
  return names[k];
}

std::string indexStr(int64_t flat, const Shape &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shapeStr(idx);
}

double readElem(const Array &a, int64_t k) {
  switch (a.dtype()) {
  case DType::f32: return a.data<float>()[k];
  case DType::f64: return a.data<double>()[k];
  default: return 0;
  }
}
int64_t readInt(const Array &a, int64_t k) {
  switch (a.dtype()) {
  case DType::i32: return a.data<int32_t>()[k];
  case DType::i64: return a.data<int64_t>()[k];
  case DType::boolean: return a.data<bool>()[k];
  default: return 0;
  }
}

/// Compares output `k` (node `id`) with the interpreter's value; appends differences to `os`.
bool matchOutput(const Val &want, const Array &got, size_t k, int id, std::ostringstream &os, Result &r) {
  if (got.dtype() != want.dt || got.shape() != want.shape) {
    os << "  output " << k << " (%" << id << "): got " << describe(got.dtype(), got.shape()) << ", expected "
       << describe(want.dt, want.shape) << "\n";
    return false;
  }
  int bad = 0;
  std::ostringstream lines;
  for (int64_t i = 0; i < got.size(); ++i) {
    double e = want.e[i];
    if (!(e < kInf)) {
      ++r.unknown;
      continue;
    }
    ++r.checked;
    bool ok;
    std::string g, w;
    if (isF(want.dt)) {
      double x = readElem(got, i), v = want.f[i];
      if (std::isnan(v)) ok = std::isnan(x);
      else if (std::isinf(v)) ok = x == v;
      else if (e == 0) ok = x == v && std::signbit(x) == std::signbit(v);
      else ok = std::isfinite(x) && std::fabs(x - v) <= e;
      g = num(x), w = num(v) + (e > 0 ? " +- " + num(e) : " exactly");
    } else {
      ok = readInt(got, i) == want.i[i];
      g = std::to_string(readInt(got, i)), w = std::to_string(want.i[i]);
    }
    if (!ok && bad++ < 8) lines << "    " << indexStr(i, want.shape) << ": got " << g << ", want " << w << "\n";
  }
  if (bad == 0) return true;
  os << "  output " << k << " (%" << id << ", " << describe(want.dt, want.shape) << "): " << bad << " of " << got.size()
     << " elements differ\n"
     << lines.str();
  return false;
}

std::string reproduce(const Program &p) {
  if (p.index < 0) return "";
  return "reproduce: AJIT_FUZZ_SEED=" + std::to_string(p.seed) + " AJIT_FUZZ_ONLY=" + std::to_string(p.index) +
         " build/tests/ajit-diff-fuzz-test --gtest_filter=DiffFuzz.RandomPrograms\n";
}

/// The full report of a program: seed, node list, inputs, graph IR.
std::string report(const Program &p) {
  std::ostringstream os;
  os << "program " << p.index << " of seed " << p.seed << (p.edges ? " (edge values)" : "") << ":\n"
     << programText(p) << reproduce(p) << "graph IR (lower):\n"
     << lowerText(p);
  return os.str();
}

/// Interprets, compiles and runs the program in this process and compares the outputs.
Result runProgram(const Program &p) {
  Result r;
  std::vector<Val> want;
  try {
    want = interpret(p);
  } catch (const std::exception &e) {
    r.kind = Result::error;
    r.message = std::string("the interpreter failed (a fuzzer bug): ") + e.what() + "\n";
    return r;
  }
  JitRun run;
  try {
    run = runJit(p, false);
  } catch (const std::exception &e) {
    r.kind = Result::error;
    r.message = std::string("ajit threw: ") + e.what() + "\n";
    return r;
  }
  r.compileMs = run.compileMs;
  if (run.outputs.size() != p.outputs.size()) {
    r.kind = Result::mismatch;
    r.message = "got " + std::to_string(run.outputs.size()) + " outputs, expected " + std::to_string(p.outputs.size()) + "\n";
    return r;
  }
  std::ostringstream os;
  bool ok = true;
  for (size_t k = 0; k < p.outputs.size(); ++k) ok &= matchOutput(want[p.outputs[k]], run.outputs[k], k, p.outputs[k], os, r);
  if (!ok) {
    r.kind = Result::mismatch;
    r.message = os.str();
  }
  return r;
}

//===----------------------------------------------------------------------===//
// Child processes: a crash or a hang in ajit fails one program, not the run
//===----------------------------------------------------------------------===//

void writeAll(int fd, const std::string &s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string readAll(int fd) {
  std::string s;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, static_cast<size_t>(n));
  }
  return s;
}

std::string serialize(int64_t index, const Result &r) {
  char head[160];
  std::snprintf(head, sizeof head, "E %lld %d %lld %lld %.6f %zu\n", static_cast<long long>(index), static_cast<int>(r.kind),
                static_cast<long long>(r.checked), static_cast<long long>(r.unknown), r.compileMs, r.message.size());
  return head + r.message;
}

std::string statusText(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

/// Runs `body(fd)` in a child process that reports on `fd`; returns what it wrote and its
/// wait status.
std::pair<std::string, int> inChild(const std::function<void(int)> &body) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    body(fds[1]);
    std::fflush(nullptr);
    _exit(0);
  }
  close(fds[1]);
  std::string out = readAll(fds[0]);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {out, status};
}

/// Parsed child output: programs begun, results of those finished.
struct ChildLog {
  std::map<int64_t, Result> results;
  int64_t lastBegun = -1;
};

ChildLog parseLog(const std::string &s) {
  ChildLog log;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t eol = s.find('\n', pos);
    if (eol == std::string::npos) break;
    std::string line = s.substr(pos, eol - pos);
    pos = eol + 1;
    if (line[0] == 'B') {
      log.lastBegun = std::strtoll(line.c_str() + 2, nullptr, 10);
    } else if (line[0] == 'E') {
      long long index, checked, unknown;
      int kind;
      double ms;
      size_t len;
      if (std::sscanf(line.c_str(), "E %lld %d %lld %lld %lf %zu", &index, &kind, &checked, &unknown, &ms, &len) != 6) break;
      Result r;
      r.kind = static_cast<Result::Kind>(kind);
      r.checked = checked, r.unknown = unknown, r.compileMs = ms;
      r.message = s.substr(pos, len);
      pos += len;
      log.results[index] = r;
    }
  }
  return log;
}

bool useFork() { return envInt("AJIT_FUZZ_FORK", 1) != 0; }

/// runProgram in a child process (a crash becomes a Result); with the report of the
/// program on failure.
Result runIsolated(const Program &p, bool withReport) {
  auto body = [&](int fd) {
    alarm(120);
    Result r = runProgram(p);
    if (r.kind != Result::pass && withReport) r.message += report(p);
    writeAll(fd, serialize(0, r));
  };
  if (!useFork()) {
    Result r = runProgram(p);
    if (r.kind != Result::pass && withReport) r.message += report(p);
    return r;
  }
  auto [out, status] = inChild(body);
  ChildLog log = parseLog(out);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && log.results.count(0)) return log.results[0];
  Result r;
  r.kind = Result::crash;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status);
  r.message = "the process running it " + statusText(status) + "\n";
  if (withReport) {
    auto [text, st] = inChild([&](int fd) { writeAll(fd, report(p)); });
    r.message += text;
  }
  return r;
}

//===----------------------------------------------------------------------===//
// Delta reduction of a failing program
//===----------------------------------------------------------------------===//

/// Drops nodes no output needs (and unused inputs unless `keepInputs`), renumbering.
Program compact(const Program &p, bool keepInputs) {
  size_t n = p.nodes.size();
  std::vector<char> live(n, 0);
  for (int o : p.outputs) live[o] = 1;
  for (size_t k = n; k-- > 0;)
    if (live[k])
      for (int a : p.nodes[k].args) live[a] = 1;
  bool anyInput = false;
  for (size_t k = 0; k < n; ++k) {
    if (p.nodes[k].kind != Kind::input) continue;
    if (keepInputs) live[k] = 1;
    anyInput |= live[k] != 0;
  }
  if (!anyInput)
    for (size_t k = 0; k < n; ++k)
      if (p.nodes[k].kind == Kind::input) {
        live[k] = 1;
        break;
      }
  Program q;
  q.seed = p.seed, q.index = p.index, q.edges = p.edges;
  std::vector<int> map(n, -1);
  for (size_t k = 0; k < n; ++k) {
    if (!live[k]) continue;
    Node node = p.nodes[k];
    for (int &a : node.args) a = map[a];
    if (node.kind == Kind::input) {
      q.data.push_back(p.data[node.axis]);
      node.axis = q.numInputs() - 1;
    }
    map[k] = static_cast<int>(q.nodes.size());
    q.nodes.push_back(node);
  }
  for (int o : p.outputs) q.outputs.push_back(map[o]);
  return q;
}

/// Every use of node `from` (operands and outputs) becomes a use of `to`.
Program replaceUses(const Program &p, int from, int to) {
  Program q = p;
  for (Node &n : q.nodes)
    for (int &a : n.args)
      if (a == from) a = to;
  for (int &o : q.outputs)
    if (o == from) o = to;
  return compact(q, true);
}

/// Node `k` becomes an input holding the interpreter's values of it.
Program inputize(const Program &p, int k, const Val &v) {
  Program q = p;
  Node &n = q.nodes[k];
  n.kind = Kind::input;
  n.args.clear();
  n.axis = q.numInputs();
  HostData d;
  if (isF(v.dt)) d.f = v.f;
  else d.i = v.i;
  q.data.push_back(d);
  return compact(q, true);
}

/// A small delta-reduction loop: fewer outputs, nodes bypassed (replaced by an operand or
/// an earlier node of the same type), subgraphs replaced by inputs, unused inputs dropped;
/// keeps every step after which the program still fails the same way.
Program minimize(const Program &p0, const Result &r0) {
  auto sameFailure = [&](const Result &r) {
    return r.kind == r0.kind && (r0.kind != Result::crash || r.signal == r0.signal);
  };
  int budget = static_cast<int>(envInt("AJIT_FUZZ_MINIMIZE_TRIES", 300));
  Program best = compact(p0, true);
  auto attempt = [&](const Program &cand) {
    if (budget <= 0 || cand.nodes.size() > best.nodes.size() + 1) return false;
    if (cand.nodes.size() == best.nodes.size() + 1 && cand.numInputs() <= best.numInputs()) return false;
    --budget;
    if (!sameFailure(runIsolated(cand, false))) return false;
    best = cand;
    return true;
  };
  for (bool changed = true; changed && budget > 0;) {
    changed = false;
    for (size_t k = 0; best.outputs.size() > 1 && k < best.outputs.size(); ++k) {
      Program cand = best;
      cand.outputs.erase(cand.outputs.begin() + static_cast<int64_t>(k));
      if (attempt(compact(cand, true))) changed = true, k = static_cast<size_t>(-1);
    }
    for (int k = static_cast<int>(best.nodes.size()) - 1; k >= 0 && budget > 0; --k) {
      if (k >= static_cast<int>(best.nodes.size()) || best.nodes[k].kind == Kind::input) continue;
      const Node n = best.nodes[k];
      std::vector<int> cands;
      for (int a : n.args)
        if (best.nodes[a].dtype == n.dtype && best.nodes[a].shape == n.shape) cands.push_back(a);
      for (int j = 0; j < k && cands.size() < 6; ++j)
        if (best.nodes[j].dtype == n.dtype && best.nodes[j].shape == n.shape &&
            std::find(cands.begin(), cands.end(), j) == cands.end())
          cands.push_back(j);
      for (int c : cands)
        if (attempt(replaceUses(best, k, c))) {
          changed = true;
          break;
        }
    }
    if (best.numInputs() < 4) {
      std::vector<Val> vals;
      try {
        vals = interpret(best);
      } catch (const std::exception &) {
        break;
      }
      for (int k = 0; k < static_cast<int>(best.nodes.size()) && best.numInputs() < 4 && budget > 0; ++k) {
        if (best.nodes[k].kind == Kind::input || best.nodes[k].kind == Kind::constant) continue;
        bool allArgsInputs = true;
        for (int a : best.nodes[k].args) allArgsInputs &= best.nodes[a].kind == Kind::input || best.nodes[a].kind == Kind::constant;
        if (allArgsInputs) continue; // nothing above it to cut away
        if (attempt(inputize(best, k, vals[k]))) {
          changed = true;
          break; // node numbers changed
        }
      }
    }
    Program fewer = compact(best, false);
    if (fewer.numInputs() < best.numInputs() && attempt(fewer)) changed = true;
  }
  return best;
}

} // namespace

//===----------------------------------------------------------------------===//
// The fuzz run
//===----------------------------------------------------------------------===//

TEST(DiffFuzz, RandomPrograms) {
  const int64_t programs = envInt("AJIT_FUZZ_PROGRAMS", kDefaultPrograms);
  const uint64_t seed = static_cast<uint64_t>(envInt("AJIT_FUZZ_SEED", 1));
  const int64_t only = envInt("AJIT_FUZZ_ONLY", -1);
  const int64_t batch = std::max<int64_t>(1, envInt("AJIT_FUZZ_BATCH", 50));
  const bool verbose = envInt("AJIT_FUZZ_VERBOSE", 0) != 0;
  const bool minimizeFailures = envInt("AJIT_FUZZ_MINIMIZE", 1) != 0;
  auto t0 = std::chrono::steady_clock::now();

  std::vector<int64_t> indices;
  if (only >= 0) indices.push_back(only);
  else
    for (int64_t i = 0; i < programs; ++i) indices.push_back(i);

  std::map<int64_t, Result> results;
  // Children run batches; each announces a program ("B i") before running it, so a crash
  // is pinned on the program that was running, and the next child resumes after it.
  auto runBatch = [&](size_t begin, size_t end, int fd) {
    for (size_t k = begin; k < end; ++k) {
      int64_t i = indices[k];
      writeAll(fd, "B " + std::to_string(i) + "\n");
      Program p = generateProgram(seed, i);
      if (verbose) std::fprintf(stderr, "ajit-diff-fuzz: program %lld of seed %llu\n%s", static_cast<long long>(i),
                                static_cast<unsigned long long>(seed), programText(p).c_str());
      alarm(120);
      Result r = runProgram(p);
      if (r.kind != Result::pass) r.message += report(p);
      writeAll(fd, serialize(i, r));
    }
  };
  for (size_t begin = 0; begin < indices.size();) {
    size_t end = std::min(indices.size(), begin + static_cast<size_t>(batch));
    if (!useFork()) {
      // In-process (AJIT_FUZZ_FORK=0): the records go through a temporary file.
      char path[] = "/tmp/ajit-diff-fuzz-XXXXXX";
      int fd = mkstemp(path);
      runBatch(begin, end, fd);
      lseek(fd, 0, SEEK_SET);
      ChildLog log = parseLog(readAll(fd));
      close(fd), unlink(path);
      for (auto &[i, r] : log.results) results[i] = r;
      begin = end;
      continue;
    }
    auto [out, status] = inChild([&](int fd) { runBatch(begin, end, fd); });
    ChildLog log = parseLog(out);
    for (auto &[i, r] : log.results) results[i] = r;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      begin = end;
      continue;
    }
    // The child died running program lastBegun: record it, go on with the next one.
    int64_t crashed = log.lastBegun;
    size_t at = static_cast<size_t>(std::find(indices.begin(), indices.end(), crashed) - indices.begin());
    if (crashed < 0 || at >= indices.size()) at = begin;
    Result r;
    r.kind = Result::crash;
    r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status);
    r.message = "the process running it " + statusText(status) + "\n";
    Program p = generateProgram(seed, indices[at]);
    auto [text, st] = inChild([&](int fd) { writeAll(fd, report(p)); });
    r.message += text;
    results[indices[at]] = r;
    begin = at + 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  int64_t counts[4] = {0, 0, 0, 0}, checked = 0, unknown = 0;
  double compileMs = 0;
  for (auto &[i, r] : results) {
    ++counts[r.kind];
    checked += r.checked, unknown += r.unknown, compileMs += r.compileMs;
  }
  std::printf("[diff-fuzz] seed %llu: %zu programs in %.1f s (compile %.1f s): %lld pass, %lld mismatch, %lld error, "
              "%lld crash; output elements compared %lld, unknown %lld (%.2f%%)\n",
              static_cast<unsigned long long>(seed), indices.size(), seconds, compileMs / 1000,
              static_cast<long long>(counts[0]), static_cast<long long>(counts[1]), static_cast<long long>(counts[2]),
              static_cast<long long>(counts[3]), static_cast<long long>(checked), static_cast<long long>(unknown),
              checked + unknown ? 100.0 * static_cast<double>(unknown) / static_cast<double>(checked + unknown) : 0.0);
  EXPECT_EQ(results.size(), indices.size()) << "programs without a result";

  int shown = 0;
  const int maxShown = static_cast<int>(envInt("AJIT_FUZZ_MAX_FAILURES", 5));
  for (auto &[i, r] : results) {
    if (r.kind == Result::pass) continue;
    if (shown++ >= maxShown) {
      ADD_FAILURE() << "program " << i << " of seed " << seed << ": " << resultName(r.kind) << " (details omitted)";
      continue;
    }
    std::string extra;
    if (minimizeFailures) {
      Program reduced = minimize(generateProgram(seed, i), r);
      Result rr = runIsolated(reduced, false);
      extra = "\nminimized (" + std::to_string(reduced.nodes.size()) + " nodes, " + resultName(rr.kind) + "):\n" +
              rr.message + programText(reduced) + "as a regression test:\n" + builderCode(reduced);
    }
    ADD_FAILURE() << "program " << i << " of seed " << seed << ": " << resultName(r.kind) << "\n" << r.message << extra;
  }
}
