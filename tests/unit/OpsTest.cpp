//===- OpsTest.cpp - every op in ajit.h against the scalar reference -------===//
//
// Each op runs through ajit::jit on random inputs (fixed seeds) and on edge values (+-0,
// +-large, tiny and subnormal, NaN, +-inf), and on zero-size shapes, and is compared with
// kernels/reference (double / int64 arithmetic). Every check states its tolerance next to
// it; tolerances were measured (set AJIT_OPS_TEST_REPORT=1 to print the observed maximum
// error per check) and are about twice the observed error. In every comparison a NaN must
// match a NaN and an infinity must match exactly; "exact" also compares the sign of zero.
//
// Jitted functions are shared (static) and keyed by a static op argument, so the binary
// compiles each signature once; there are a few hundred signatures in all.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"
#include "kernels/reference/Reference.h"
#include "tests/unit/OpDispatch.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <sstream>

using namespace ajit;
using namespace ajit::test;
namespace R = ajit::ref;

namespace {

constexpr double kU32 = 0x1p-24; ///< f32 unit roundoff (half an ulp of 1)
constexpr double kU64 = 0x1p-53; ///< f64 unit roundoff

const DType kFloatTypes[] = {DType::f32, DType::f64};
const DType kIntTypes[] = {DType::i32, DType::i64};
const DType kNumericTypes[] = {DType::f32, DType::f64, DType::i32, DType::i64};
const DType kAllTypes[] = {DType::f32, DType::f64, DType::i32, DType::i64, DType::boolean};

//===----------------------------------------------------------------------===//
// Host arrays
//===----------------------------------------------------------------------===//

Array makeF(const std::vector<double> &v, const Shape &shape, DType dt) {
  Array a = Array::empty(shape, dt);
  EXPECT_EQ(static_cast<int64_t>(v.size()), a.size());
  for (size_t i = 0; i < v.size(); ++i) {
    switch (dt) {
    case DType::f32: a.data<float>()[i] = static_cast<float>(v[i]); break;
    case DType::f64: a.data<double>()[i] = v[i]; break;
    case DType::i32: a.data<int32_t>()[i] = static_cast<int32_t>(v[i]); break;
    case DType::i64: a.data<int64_t>()[i] = static_cast<int64_t>(v[i]); break;
    case DType::boolean: a.data<bool>()[i] = v[i] != 0; break;
    default: ADD_FAILURE() << "unsupported dtype";
    }
  }
  return a;
}

Array makeI(const std::vector<int64_t> &v, const Shape &shape, DType dt) {
  Array a = Array::empty(shape, dt);
  EXPECT_EQ(static_cast<int64_t>(v.size()), a.size());
  for (size_t i = 0; i < v.size(); ++i) {
    switch (dt) {
    case DType::f32: a.data<float>()[i] = static_cast<float>(v[i]); break;
    case DType::f64: a.data<double>()[i] = static_cast<double>(v[i]); break;
    case DType::i32: a.data<int32_t>()[i] = static_cast<int32_t>(v[i]); break;
    case DType::i64: a.data<int64_t>()[i] = v[i]; break;
    case DType::boolean: a.data<bool>()[i] = v[i] != 0; break;
    default: ADD_FAILURE() << "unsupported dtype";
    }
  }
  return a;
}

std::vector<double> readF(const Array &a) {
  std::vector<double> v(a.size());
  for (int64_t i = 0; i < a.size(); ++i) {
    switch (a.dtype()) {
    case DType::f32: v[i] = a.data<float>()[i]; break;
    case DType::f64: v[i] = a.data<double>()[i]; break;
    case DType::i32: v[i] = a.data<int32_t>()[i]; break;
    case DType::i64: v[i] = static_cast<double>(a.data<int64_t>()[i]); break;
    case DType::boolean: v[i] = a.data<bool>()[i]; break;
    default: ADD_FAILURE() << "unsupported dtype";
    }
  }
  return v;
}

std::vector<int64_t> readI(const Array &a) {
  std::vector<int64_t> v(a.size());
  for (int64_t i = 0; i < a.size(); ++i) {
    switch (a.dtype()) {
    case DType::i32: v[i] = a.data<int32_t>()[i]; break;
    case DType::i64: v[i] = a.data<int64_t>()[i]; break;
    case DType::boolean: v[i] = a.data<bool>()[i]; break;
    default: ADD_FAILURE() << "readI of a float array";
    }
  }
  return v;
}

/// The values of `dt` nearest to `v` (what an array of that dtype actually holds).
std::vector<double> asStored(const std::vector<double> &v, DType dt) {
  return readF(makeF(v, {static_cast<int64_t>(v.size())}, dt));
}

//===----------------------------------------------------------------------===//
// Random inputs and edge values
//===----------------------------------------------------------------------===//

std::vector<double> uniform(std::mt19937_64 &rng, int64_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (double &x : v) x = d(rng);
  return v;
}

/// +-2^u with u uniform in [e0, e1] (signed) or 2^u (positive): many magnitudes.
std::vector<double> logUniform(std::mt19937_64 &rng, int64_t n, double e0, double e1, bool signedValues) {
  std::uniform_real_distribution<double> d(e0, e1);
  std::bernoulli_distribution sign(0.5);
  std::vector<double> v(n);
  for (double &x : v) x = std::exp2(d(rng)) * (signedValues && sign(rng) ? -1 : 1);
  return v;
}

std::vector<int64_t> uniformInt(std::mt19937_64 &rng, int64_t n, int64_t lo, int64_t hi) {
  std::uniform_int_distribution<int64_t> d(lo, hi);
  std::vector<int64_t> v(n);
  for (int64_t &x : v) x = d(rng);
  return v;
}

std::vector<double> floatEdges(DType dt) {
  if (dt == DType::f32)
    return {0.0, -0.0, 1, -1, 0.5, -0.5, 2, -3, 1e-7, -1e-7, FLT_MIN, -FLT_MIN, 1e-40, -1e-40,
            FLT_TRUE_MIN, -FLT_TRUE_MIN, 1e30, -1e30, FLT_MAX, -FLT_MAX, 88, -88, 89, -89, 100, -100,
            1e4, -1e4, 1e6, -1e6, kInf, -kInf, kNaN};
  return {0.0, -0.0, 1, -1, 0.5, -0.5, 2, -3, 1e-7, -1e-7, DBL_MIN, -DBL_MIN, 1e-310, -1e-310,
          DBL_TRUE_MIN, -DBL_TRUE_MIN, 1e300, -1e300, DBL_MAX, -DBL_MAX, 88, -88, 710, -710, -745, 100,
          -100, 1e4, -1e4, 1e6, -1e6, kInf, -kInf, kNaN};
}

std::vector<int64_t> intEdges(DType dt) {
  int64_t lo = dt == DType::i32 ? INT32_MIN : INT64_MIN, hi = dt == DType::i32 ? INT32_MAX : INT64_MAX;
  return {0, 1, -1, 2, -2, 3, -7, 7, 31, 63, 100, -100, lo, lo + 1, hi, hi - 1};
}

std::string num(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

//===----------------------------------------------------------------------===//
// Matching against the reference
//===----------------------------------------------------------------------===//

/// |got - want| <= floor + abs * scale + rel * |want| for finite `want` (after rounding
/// `want` to the dtype), where `scale` is 1 unless a per-element scale is given. All zero
/// means exact, sign of zero included.
struct Tol {
  double rel = 0, abs = 0, floor = 0;
  bool exact() const { return rel == 0 && abs == 0 && floor == 0; }
};
constexpr Tol kExact{};

struct ErrStat {
  double maxAbs = 0, maxRel = 0, maxScaled = 0;
  int64_t checked = 0;
};
std::map<std::string, ErrStat> &errStats() {
  static std::map<std::string, ErrStat> s;
  return s;
}

/// Prints the largest observed errors per check with AJIT_OPS_TEST_REPORT=1.
class ReportErrors : public testing::Environment {
public:
  void TearDown() override {
    if (!std::getenv("AJIT_OPS_TEST_REPORT")) return;
    for (auto &[name, s] : errStats())
      std::printf("[err] %-70s n=%-6lld maxRel=%.3g maxAbs=%.3g maxScaled=%.3g\n", name.c_str(),
                  static_cast<long long>(s.checked), s.maxRel, s.maxAbs, s.maxScaled);
  }
};
[[maybe_unused]] testing::Environment *const kReport = testing::AddGlobalTestEnvironment(new ReportErrors);

using Describe = std::function<std::string(int64_t)>;

/// Mismatches listed per check: 12, or AJIT_OPS_TEST_MAX_FAILURES.
int maxFailuresShown() {
  static int n = std::getenv("AJIT_OPS_TEST_MAX_FAILURES") ? std::atoi(std::getenv("AJIT_OPS_TEST_MAX_FAILURES")) : 12;
  return n;
}

/// Compares elements [begin, end) of float array `got` (dtype `dt`, shape `shape`) with
/// the reference values `want`. With `absScale`, element i's absolute tolerance is
/// tol.abs * absScale[i] (error bounds relative to sum |terms|).
testing::AssertionResult matchF(const std::string &what, const Array &got, DType dt, const Shape &shape,
                                const std::vector<double> &want, Tol tol, int64_t begin = 0,
                                int64_t end = -1, const Describe &describe = nullptr,
                                const std::vector<double> *absScale = nullptr) {
  if (got.dtype() != dt || got.shape() != shape)
    return testing::AssertionFailure() << what << ": got " << ajit::describe(got.dtype(), got.shape())
                                       << ", expected " << ajit::describe(dt, shape);
  if (static_cast<int64_t>(want.size()) != got.size())
    return testing::AssertionFailure() << what << ": reference has " << want.size() << " values";
  if (end < 0) end = got.size();
  std::vector<double> g = readF(got);
  ErrStat &stat = errStats()[what];
  int failures = 0;
  std::ostringstream os;
  for (int64_t i = begin; i < end; ++i) {
    double w = dt == DType::f32 ? R::roundToF32(want[i]) : want[i];
    double x = g[i];
    bool ok;
    double err = 0;
    if (std::isnan(w)) ok = std::isnan(x);
    else if (std::isinf(w)) ok = x == w;
    else if (tol.exact()) ok = x == w && std::signbit(x) == std::signbit(w);
    else {
      err = std::fabs(x - w);
      double absTol = tol.floor + tol.abs * (absScale ? (*absScale)[i] : 1.0);
      ok = x == w || (std::isfinite(x) && err <= absTol + tol.rel * std::fabs(w));
      if (std::isfinite(x)) {
        stat.maxAbs = std::max(stat.maxAbs, err);
        if (w != 0) stat.maxRel = std::max(stat.maxRel, err / std::fabs(w));
        if (absScale && (*absScale)[i] > 0) stat.maxScaled = std::max(stat.maxScaled, err / (*absScale)[i]);
      }
    }
    ++stat.checked;
    if (!ok && failures++ < maxFailuresShown()) {
      os << "\n  [" << i << "]" << (describe ? " " + describe(i) : "") << ": got " << num(x) << ", want "
         << num(w);
      if (!tol.exact() && std::isfinite(x) && std::isfinite(w))
        os << " (abs err " << num(err) << ", rel " << num(w != 0 ? err / std::fabs(w) : kInf) << ")";
    }
  }
  if (failures == 0) return testing::AssertionSuccess();
  return testing::AssertionFailure() << what << ": " << failures << " of " << (end - begin)
                                     << " elements differ (tolerance rel " << tol.rel << ", abs " << tol.abs
                                     << ", floor " << tol.floor << ")" << os.str();
}

testing::AssertionResult matchI(const std::string &what, const Array &got, DType dt, const Shape &shape,
                                const std::vector<int64_t> &want, const Describe &describe = nullptr) {
  if (got.dtype() != dt || got.shape() != shape)
    return testing::AssertionFailure() << what << ": got " << ajit::describe(got.dtype(), got.shape())
                                       << ", expected " << ajit::describe(dt, shape);
  if (static_cast<int64_t>(want.size()) != got.size())
    return testing::AssertionFailure() << what << ": reference has " << want.size() << " values";
  std::vector<int64_t> g = readI(got);
  int failures = 0;
  std::ostringstream os;
  for (int64_t i = 0; i < got.size(); ++i)
    if (g[i] != want[i] && failures++ < maxFailuresShown())
      os << "\n  [" << i << "]" << (describe ? " " + describe(i) : "") << ": got " << g[i] << ", want " << want[i];
  if (failures == 0) return testing::AssertionSuccess();
  return testing::AssertionFailure() << what << ": " << failures << " of " << got.size() << " elements differ"
                                     << os.str();
}

/// Float or integer comparison by the dtype of the result: `wantF` for floats, `wantI` else.
testing::AssertionResult matchAny(const std::string &what, const Array &got, DType dt, const Shape &shape,
                                  const std::vector<double> &wantF, const std::vector<int64_t> &wantI,
                                  Tol tol = kExact, const Describe &describe = nullptr) {
  return isFloat(dt) ? matchF(what, got, dt, shape, wantF, tol, 0, -1, describe)
                     : matchI(what, got, dt, shape, wantI, describe);
}

/// Runs `fn` in a forked child and returns its wait status, so that a crash (SIGFPE,
/// SIGSEGV) in jitted code fails one check instead of killing the test binary.
int runInChild(const std::function<void()> &fn) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    fn();
    std::fflush(nullptr);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

std::string statusText(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) +
                                  " (" + strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

//===----------------------------------------------------------------------===//
// Op dispatch (the op is a static argument: one compile per op and signature)
//===----------------------------------------------------------------------===//

const R::Cmp kCmps[] = {R::Cmp::eq, R::Cmp::ne, R::Cmp::lt, R::Cmp::le, R::Cmp::gt, R::Cmp::ge};

// The shared jitted functions live for the whole run (destroying one at exit used to crash:
// tests/unit/StaticJitExit.cpp).
auto &unaryFn() {
  static auto &f = *new auto(jit([](const Tensor &x, R::Unary op) { return applyUnary(op, x); }, {.name = "unary"}));
  return f;
}
auto &binaryFn() {
  static auto &f = *new auto(jit([](const Tensor &x, const Tensor &y, R::Binary op) { return applyBinary(op, x, y); },
                                {.name = "binary"}));
  return f;
}

} // namespace

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

namespace {

/// A run of inputs checked with one tolerance.
struct Segment {
  std::string name;
  std::vector<double> values;
  Tol tol;
  bool absScalesWithX = false; ///< the absolute tolerance is tol.abs * max(1, |x|)
};

/// Inputs and tolerances per op and float dtype. The random part uses 4099 values (not a
/// multiple of the vector width, so the loop tails run too).
std::vector<Segment> unarySegments(R::Unary op, DType dt) {
  std::mt19937_64 rng(1000 + static_cast<int>(op) * 10 + static_cast<int>(dt));
  const int64_t n = 4099;
  bool f32 = dt == DType::f32;
  std::vector<double> edges = floatEdges(dt);
  double maxExp = f32 ? 127 : 1023, minExp = f32 ? -149 : -1074;
  switch (op) {
  case R::Unary::neg:
  case R::Unary::abs:
  case R::Unary::relu:
    // exact (sign of zero included), all magnitudes incl. subnormals
    return {{"random +-2^[min,max]", logUniform(rng, n, minExp, maxExp, true), kExact},
            {"edges", edges, kExact}};
  case R::Unary::sqrt:
    // exact: IEEE sqrt is correctly rounded; positive inputs of all magnitudes incl. subnormals
    return {{"random 2^[min,max]", logUniform(rng, n, minExp, maxExp, false), kExact}, {"edges", edges, kExact}};
  case R::Unary::rsqrt:
    // f32: rel 2.4e-7 (2 ulp; lowered as 1/sqrt(x), two roundings; measured 1.19e-7);
    // f64: rel 2.3e-16 (1 ulp; measured 0)
    return {{"random 2^[min,max]", logUniform(rng, n, minExp, maxExp, false), f32 ? Tol{2.4e-7} : Tol{2.3e-16}},
            {"edges", edges, f32 ? Tol{2.4e-7} : Tol{2.3e-16}}};
  case R::Unary::exp:
    // f32: rel 3e-7 (polynomial; measured 8.0e-8 over every 997th float of [-87.33, 88.3])
    //      over [-87.3, 88.7], the range with normal results; below that the result may
    //      flush to 0 (abs FLT_MIN = 1.2e-38). Past 88.38, where k = round(x / ln 2) is
    //      capped at 127 and the polynomial runs a little past ln 2 / 2: rel 3.3e-7
    //      (measured over every float of [88.0, 88.7228]: 3.29e-7, before and after
    //      ajit's own exp replaced upstream's: on 2M random bit patterns the two agree bit
    //      for bit except on 3 subnormal results, where the new single rounding is closer).
    // f64: rel 2.3e-16 (libm; measured 0).
    if (f32)
      return {{"random [-87.3, 88.7]", uniform(rng, n, -87.3, 88.7), Tol{3e-7}},
              {"random [-1, 1]", uniform(rng, 1000, -1, 1), Tol{3e-7}},
              // Where k = round(x / ln 2) is capped at 127, and next to the lowest normal.
              {"random [88.3, 88.72]", uniform(rng, 1000, 88.3, 88.72), Tol{3.3e-7}},
              {"random [-87.33, -86.5]", uniform(rng, 1000, -87.33, -86.5), Tol{3e-7}},
              {"edges", edges, Tol{3e-7, FLT_MIN}}};
    return {{"random [-708, 709]", uniform(rng, n, -708, 709), Tol{2.3e-16}},
            {"edges", edges, Tol{2.3e-16, DBL_MIN}}};
  case R::Unary::log: {
    // f32: rel 2.4e-7 + abs 1.2e-7 (polynomial; measured rel 1.19e-7, abs 6e-8 near x = 1)
    //      over positive normals 2^[-126, 128). Subnormal inputs: see Regression.LogF32Subnormal.
    // f64: rel 2.3e-16 (libm; measured 0), subnormals included.
    std::vector<double> e;
    for (double v : edges)
      if (!f32 || !(std::fabs(v) > 0 && std::fabs(v) < FLT_MIN)) e.push_back(v);
    Tol tol = f32 ? Tol{2.4e-7, 1.2e-7} : Tol{2.3e-16};
    return {{"random 2^[minNormal,max]", logUniform(rng, n, f32 ? -126 : -1022, maxExp, false), tol},
            {"random [0.5, 2]", uniform(rng, 1000, 0.5, 2), tol},
            {"edges", e, tol}};
  }
  case R::Unary::sin:
  case R::Unary::cos: {
    if (!f32) // f64: abs 2.3e-16 (libm; measured 0) over [-1e4, 1e4] and on all edges
      return {{"random [-1e4, 1e4]", uniform(rng, n, -1e4, 1e4), Tol{0, 2.3e-16}},
              {"edges", edges, Tol{2.3e-16, 2.3e-16}}};
    // f32: abs 1.2e-7 (2 ulp at 1) for |x| <= 1e4: three-part Cody-Waite reduction with
    // FMAs, polynomials on [-pi/4, pi/4] (measured 6.0e-8 over [-1e4, 1e4] and over
    // [-pi, pi]; 1.1e-7 up to 1e6; past ~4e6 only the range [-1, 1] holds). Relative error is
    // unbounded near the zeros: sin(float(pi)) gives -0, not -8.7e-8. Small x: rel 1.2e-7
    // (sin(x) ~ x; measured 0). Huge |x|: Regression.SinCosF32HugeArguments.
    std::vector<double> e;
    for (double v : edges)
      if (!(std::isfinite(v) && std::fabs(v) > 1e4))
        e.push_back(v);
    std::vector<Segment> segs = {
        {"random [-1e4, 1e4]", uniform(rng, n, -1e4, 1e4), Tol{0, 1.2e-7}},
        {"random [-pi, pi]", uniform(rng, 1000, -M_PI, M_PI), Tol{0, 1.2e-7}},
        {"edges |x| <= 1e4", e, Tol{0, 1.2e-7}}};
    if (op == R::Unary::sin) segs.push_back({"random 2^[-40, -2]", logUniform(rng, 1000, -40, -2, false), Tol{1.2e-7}});
    return segs;
  }
  case R::Unary::tanh:
    // f32: rel 4.8e-7 + abs 1e-9 (polynomial; measured rel 2.4e-7); f64: rel 2.3e-16 (libm; measured 0)
    return {{"random [-10, 10]", uniform(rng, n, -10, 10), f32 ? Tol{4.8e-7, 1e-9} : Tol{2.3e-16}},
            {"random +-2^[-30, 3]", logUniform(rng, 1000, -30, 3, true), f32 ? Tol{4.8e-7, 1e-9} : Tol{2.3e-16}},
            {"edges", edges, f32 ? Tol{4.8e-7, 1e-9} : Tol{2.3e-16}}};
  case R::Unary::sigmoid:
    // 1 / (1 + exp(-x)). f32: rel 3e-7 over [-87, 88] (exp's error plus two roundings;
    // measured 1.21e-7); results below FLT_MIN may flush to 0. f64: rel 5e-16 (measured 0).
    return {{"random [-87, 88]", uniform(rng, n, -87, 88), f32 ? Tol{3e-7} : Tol{5e-16}},
            {"edges", edges, f32 ? Tol{3e-7, FLT_MIN} : Tol{5e-16, DBL_MIN}}};
  case R::Unary::geluTanh:
  case R::Unary::geluErf:
    // The op is 0.5 x (1 + tanh(...)) / 0.5 x (1 + erf(x / sqrt 2)) as written, so for
    // x < -3 the sum 1 + tanh / 1 + erf cancels: the result carries an absolute error of a
    // few ulp of 1 times |x| / 2 and its relative error reaches 100% (gelu(-5.1) = -1.1e-7
    // comes out as -0). f32: rel 1e-6 + abs 1e-6 (measured abs 5.5e-7 at x in [-6, -3]);
    // f64: rel 1e-15 + abs 1e-15 (measured abs 4.4e-16: operation order differs from the
    // reference's).
    return {{"random [-10, 10]", uniform(rng, n, -10, 10), f32 ? Tol{1e-6, 1e-6} : Tol{1e-15, 1e-15}},
            {"edges", edges, f32 ? Tol{1e-6, 1e-6} : Tol{1e-15, 1e-15}}};
  }
  return {};
}

struct UnaryParam {
  R::Unary op;
  DType dtype;
};

class UnaryFloat : public testing::TestWithParam<UnaryParam> {};

std::vector<UnaryParam> allUnaryFloat() {
  std::vector<UnaryParam> v;
  for (int op = 0; op <= static_cast<int>(R::Unary::geluErf); ++op)
    for (DType dt : kFloatTypes) v.push_back({static_cast<R::Unary>(op), dt});
  return v;
}

} // namespace

TEST_P(UnaryFloat, RandomAndEdges) {
  auto [op, dt] = GetParam();
  std::vector<Segment> segments = unarySegments(op, dt);
  std::vector<double> all;
  for (Segment &s : segments) {
    s.values = asStored(s.values, dt);
    all.insert(all.end(), s.values.begin(), s.values.end());
  }
  Shape shape{static_cast<int64_t>(all.size())};
  Array out = unaryFn()(makeF(all, shape, dt), op);
  std::vector<double> want(all.size());
  R::unary(op, all.data(), want.data(), static_cast<int64_t>(all.size()));
  int64_t begin = 0;
  for (const Segment &s : segments) {
    int64_t end = begin + static_cast<int64_t>(s.values.size());
    std::string what = std::string(unaryName(op)) + " " + dtypeName(dt) + " " + s.name;
    std::vector<double> scale(all.size(), 1.0);
    if (s.absScalesWithX)
      for (int64_t i = begin; i < end; ++i) scale[i] = std::max(1.0, std::fabs(all[i]));
    EXPECT_TRUE(matchF(what, out, dt, shape, want, s.tol, begin, end,
                       [&](int64_t i) { return "x=" + num(all[i]); }, &scale));
    begin = end;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, UnaryFloat, testing::ValuesIn(allUnaryFloat()),
                         [](const testing::TestParamInfo<UnaryParam> &info) {
                           return std::string(unaryName(info.param.op)) + "_" + dtypeName(info.param.dtype);
                         });

// neg, abs and relu on integers: wrapping (neg / abs of INT_MIN is INT_MIN); exact.
TEST(Unary, Integers) {
  for (DType dt : kIntTypes) {
    std::mt19937_64 rng(7 + static_cast<int>(dt));
    int bits = intBits(dt);
    std::vector<int64_t> x = uniformInt(rng, 1027, bits == 32 ? INT32_MIN : INT64_MIN, bits == 32 ? INT32_MAX : INT64_MAX);
    for (int64_t e : intEdges(dt)) x.push_back(e);
    Shape shape{static_cast<int64_t>(x.size())};
    for (R::Unary op : {R::Unary::neg, R::Unary::abs, R::Unary::relu}) {
      Array out = unaryFn()(makeI(x, shape, dt), op);
      std::vector<int64_t> want(x.size());
      R::unaryInt(op, x.data(), want.data(), shape[0], bits);
      EXPECT_TRUE(matchI(std::string(unaryName(op)) + " " + dtypeName(dt), out, dt, shape, want,
                         [&](int64_t i) { return "x=" + std::to_string(x[i]); }));
    }
  }
}

// Every unary op on zero-size shapes with a leading zero dimension: the result has the
// same shape. (A zero in another dimension: Regression.ZeroSizeInnerDimension.)
TEST(Unary, ZeroSize) {
  auto all = jit([](const Tensor &x) {
    std::vector<Tensor> r;
    for (int op = 0; op <= static_cast<int>(R::Unary::geluErf); ++op)
      if (isFloat(x.dtype()) || op == 0 || op == 1 || op == 10) r.push_back(applyUnary(static_cast<R::Unary>(op), x));
    return r;
  }, {.name = "unary_zero"});
  for (auto [dt, shape] : {std::pair{DType::f32, Shape{0, 3}}, {DType::f64, Shape{0}}, {DType::i32, Shape{0, 5}},
                           {DType::i64, Shape{0, 2, 3}}}) {
    std::vector<Array> out = all(Array::zeros(shape, dt));
    ASSERT_EQ(out.size(), isFloat(dt) ? 13u : 3u);
    for (const Array &a : out) {
      EXPECT_EQ(a.shape(), shape) << dtypeName(dt);
      EXPECT_EQ(a.dtype(), dt);
    }
  }
}

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

namespace {

/// Pairs of inputs checked with one tolerance.
struct PairSegment {
  std::string name;
  std::vector<double> x, y;
  Tol tol;
};

/// Every (a, b) from a list of values.
void crossProduct(const std::vector<double> &values, std::vector<double> &x, std::vector<double> &y) {
  for (double a : values)
    for (double b : values) x.push_back(a), y.push_back(b);
}

bool isOrdinaryPowCase(double x, double y, DType dt);

std::vector<PairSegment> binaryFloatSegments(R::Binary op, DType dt) {
  std::mt19937_64 rng(2000 + static_cast<int>(op) * 10 + static_cast<int>(dt));
  bool f32 = dt == DType::f32;
  const int64_t n = 2053;
  std::vector<PairSegment> segs;
  if (op != R::Binary::pow) {
    // add, sub, mul, div, max, min: exact (IEEE ops are correctly rounded; max/min are
    // IEEE 754-2019 maximum/minimum: NaN-propagating, -0 < +0), subnormals included.
    double e = f32 ? 60 : 500;
    segs.push_back({"random +-2^[-e, e]", logUniform(rng, n, -e, e, true), logUniform(rng, n, -e, e, true), kExact});
    segs.push_back({"random [-1, 1]", uniform(rng, n, -1, 1), uniform(rng, n, -1, 1), kExact});
    double sub = f32 ? FLT_MIN : DBL_MIN;
    segs.push_back({"random subnormal", uniform(rng, 257, -sub, sub), uniform(rng, 257, -sub, sub), kExact});
    PairSegment edges{"edges x edges", {}, {}, kExact};
    crossProduct(floatEdges(dt), edges.x, edges.y);
    segs.push_back(edges);
    return segs;
  }
  // pow = exp(y * log(x)) after MLIR's expansion: log's error is amplified by |y ln x|.
  // Tolerance |err| <= c * |want| * (2 + |y ln x|), c = 2^-22 in f32 (measured 0.81 *
  // 2^-23), 2^-51 in f64 (measured 0.83 * 2^-52): the "scaled" tolerance below.
  Tol tol{0, f32 ? 4 * kU32 : 4 * kU64};
  segs.push_back({"random x in 2^[-10, 10], y in [-8, 8]", logUniform(rng, n, -10, 10, false), uniform(rng, n, -8, 8), tol});
  // Integer-valued y on positive x: same tolerance.
  std::vector<double> yi = uniform(rng, 257, -6, 6);
  for (double &v : yi) v = std::round(v);
  segs.push_back({"random x in [0.1, 10], integer y in [-6, 6]", uniform(rng, 257, 0.1, 10), yi, tol});
  // Edge pairs with a positive normal x != 1, finite y != 0 and a normal result. The rest
  // (C99's special cases, results that overflow or underflow, subnormal x): Regression.PowSpecialCases.
  PairSegment edges{"edges x edges (ordinary cases)", {}, {}, tol};
  std::vector<double> ex, ey;
  crossProduct(asStored(floatEdges(dt), dt), ex, ey);
  for (size_t i = 0; i < ex.size(); ++i)
    if (isOrdinaryPowCase(ex[i], ey[i], dt)) edges.x.push_back(ex[i]), edges.y.push_back(ey[i]);
  segs.push_back(edges);
  return segs;
}

/// A positive normal x != 1, a finite y != 0, and a result well inside the normal range.
bool isOrdinaryPowCase(double x, double y, DType dt) {
  double minNormal = dt == DType::f32 ? FLT_MIN : DBL_MIN, maxValue = dt == DType::f32 ? FLT_MAX : DBL_MAX;
  if (!(x >= minNormal && std::isfinite(x) && x != 1 && std::isfinite(y) && y != 0)) return false;
  double e = y * std::log(x);
  return e > std::log(minNormal) + 1 && e < std::log(maxValue) - 1;
}

/// Per-element scale for pow's tolerance: |want| * (2 + |y ln x|).
std::vector<double> powScale(const std::vector<double> &x, const std::vector<double> &y, const std::vector<double> &want) {
  std::vector<double> s(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double amp = std::fabs(y[i] * std::log(std::fabs(x[i])));
    s[i] = std::fabs(want[i]) * (2 + (std::isfinite(amp) ? amp : 0));
  }
  return s;
}

struct BinaryParam {
  R::Binary op;
  DType dtype;
};
class BinaryFloat : public testing::TestWithParam<BinaryParam> {};

std::vector<BinaryParam> allBinaryFloat() {
  std::vector<BinaryParam> v;
  for (int op = 0; op <= static_cast<int>(R::Binary::pow); ++op)
    for (DType dt : kFloatTypes) v.push_back({static_cast<R::Binary>(op), dt});
  return v;
}

} // namespace

TEST_P(BinaryFloat, RandomAndEdges) {
  auto [op, dt] = GetParam();
  std::vector<PairSegment> segs = binaryFloatSegments(op, dt);
  std::vector<double> x, y;
  for (PairSegment &s : segs) {
    s.x = asStored(s.x, dt);
    s.y = asStored(s.y, dt);
    x.insert(x.end(), s.x.begin(), s.x.end());
    y.insert(y.end(), s.y.begin(), s.y.end());
  }
  Shape shape{static_cast<int64_t>(x.size())};
  Array out = binaryFn()(makeF(x, shape, dt), makeF(y, shape, dt), op);
  std::vector<double> want(x.size());
  R::binary(op, x.data(), shape, y.data(), shape, want.data());
  std::vector<double> scale(x.size(), 1.0);
  if (op == R::Binary::pow) scale = powScale(x, y, want);
  int64_t begin = 0;
  for (const PairSegment &s : segs) {
    int64_t end = begin + static_cast<int64_t>(s.x.size());
    EXPECT_TRUE(matchF(std::string(binaryName(op)) + " " + dtypeName(dt) + " " + s.name, out, dt, shape, want,
                       s.tol, begin, end, [&](int64_t i) { return "x=" + num(x[i]) + " y=" + num(y[i]); }, &scale));
    begin = end;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, BinaryFloat, testing::ValuesIn(allBinaryFloat()),
                         [](const testing::TestParamInfo<BinaryParam> &info) {
                           return std::string(binaryName(info.param.op)) + "_" + dtypeName(info.param.dtype);
                         });

// Integer binary ops, exact: wrapping add/sub/mul/pow; truncating division with x / 0 = 0
// and INT_MIN / -1 = INT_MIN; bool (add/max = or, mul/min = and, sub = xor, div = and).
TEST(Binary, Integers) {
  for (DType dt : {DType::i32, DType::i64, DType::boolean}) {
    int bits = intBits(dt);
    for (int o = 0; o <= static_cast<int>(R::Binary::pow); ++o) {
      auto op = static_cast<R::Binary>(o);
      if (dt == DType::boolean && op == R::Binary::pow) continue; // rejected at trace time
      std::mt19937_64 rng(3000 + o * 10 + bits);
      int64_t lo = bits == 32 ? INT32_MIN : bits == 64 ? INT64_MIN : 0;
      int64_t hi = bits == 32 ? INT32_MAX : bits == 64 ? INT64_MAX : 1;
      std::vector<int64_t> x, y;
      if (op == R::Binary::pow) {
        x = uniformInt(rng, 1024, -20, 20);
        y = uniformInt(rng, 1024, -5, 40);
        std::vector<int64_t> bx = uniformInt(rng, 256, lo, hi), by = uniformInt(rng, 256, 0, 200);
        x.insert(x.end(), bx.begin(), bx.end());
        y.insert(y.end(), by.begin(), by.end());
      } else {
        x = uniformInt(rng, 1024, lo, hi);
        y = uniformInt(rng, 1024, lo, hi);
        std::vector<int64_t> sx = uniformInt(rng, 512, -1000, 1000), sy = uniformInt(rng, 512, -30, 30);
        x.insert(x.end(), sx.begin(), sx.end());
        y.insert(y.end(), sy.begin(), sy.end());
      }
      std::vector<int64_t> edges = dt == DType::boolean ? std::vector<int64_t>{0, 1} : intEdges(dt);
      for (int64_t a : edges)
        for (int64_t b : edges)
          if (!(op == R::Binary::pow && a == 0 && b < 0)) // 0^negative: Regression.IntPowZeroNegative
            x.push_back(a), y.push_back(b);
      for (size_t i = 0; i < x.size(); ++i)
        if (op == R::Binary::pow && x[i] == 0 && y[i] < 0) y[i] = 0;
      Shape shape{static_cast<int64_t>(x.size())};
      Array out = binaryFn()(makeI(x, shape, dt), makeI(y, shape, dt), op);
      std::vector<int64_t> want(x.size());
      R::binaryInt(op, x.data(), shape, y.data(), shape, want.data(), bits);
      EXPECT_TRUE(matchI(std::string(binaryName(op)) + " " + dtypeName(dt), out, dt, shape, want,
                         [&](int64_t i) { return "x=" + std::to_string(x[i]) + " y=" + std::to_string(y[i]); }));
    }
  }
}

// NumPy broadcasting of binary operands (exact).
TEST(Binary, Broadcasting) {
  std::vector<std::pair<Shape, Shape>> cases = {{{3, 1, 5}, {4, 1}}, {{}, {2, 3}}, {{2, 3}, {}}, {{1}, {7}},
                                                {{4, 1}, {1, 6}},     {{0, 3}, {1, 3}}, {{2, 1, 1}, {1, 1, 9}}};
  std::pair<R::Binary, DType> ops[] = {{R::Binary::add, DType::f32}, {R::Binary::sub, DType::i32},
                                       {R::Binary::max, DType::f64}, {R::Binary::div, DType::i64},
                                       {R::Binary::mul, DType::boolean}};
  for (auto [xs, ys] : cases) {
    for (auto [op, dt] : ops) {
      std::mt19937_64 rng(4000);
      Shape shape = R::broadcastShapes(xs, ys);
      std::string what = std::string(binaryName(op)) + " " + dtypeName(dt) + " " + shapeStr(xs) + " with " + shapeStr(ys);
      if (isFloat(dt)) {
        std::vector<double> x = asStored(uniform(rng, R::numElements(xs), -5, 5), dt);
        std::vector<double> y = asStored(uniform(rng, R::numElements(ys), -5, 5), dt);
        Array out = binaryFn()(makeF(x, xs, dt), makeF(y, ys, dt), op);
        std::vector<double> want(R::numElements(shape));
        R::binary(op, x.data(), xs, y.data(), ys, want.data());
        EXPECT_TRUE(matchF(what, out, dt, shape, want, kExact)); // exact
      } else {
        std::vector<int64_t> x = uniformInt(rng, R::numElements(xs), dt == DType::boolean ? 0 : -50, dt == DType::boolean ? 1 : 50);
        std::vector<int64_t> y = uniformInt(rng, R::numElements(ys), dt == DType::boolean ? 0 : -7, dt == DType::boolean ? 1 : 7);
        Array out = binaryFn()(makeI(x, xs, dt), makeI(y, ys, dt), op);
        std::vector<int64_t> want(R::numElements(shape));
        R::binaryInt(op, x.data(), xs, y.data(), ys, want.data(), intBits(dt));
        EXPECT_TRUE(matchI(what, out, dt, shape, want)); // exact
      }
    }
  }
}

// Operators with tensors and Python-style scalars (which take the tensor's dtype); exact.
TEST(Operators, TensorAndScalar) {
  // Two functions: x * s and s * x become one value after CSE, and returning one value
  // twice crashes the compiler (Regression.SameValueReturnedTwice).
  auto f1 = jit([](const Tensor &x, const Tensor &y, double s) {
    return std::vector<Tensor>{-x, x + y, x - y, x * y, x / y, x + s, x - s, x * s, x / s};
  }, {.name = "operators"});
  auto f2 = jit([](const Tensor &x, double s) { return std::vector<Tensor>{s + x, s - x, s * x, s / x}; },
                {.name = "scalar_operators"});
  auto f = [&](const Array &x, const Array &y, double s) {
    std::vector<Array> r = f1(x, y, s), r2 = f2(x, s);
    r.insert(r.end(), r2.begin(), r2.end());
    return r;
  };
  for (DType dt : kNumericTypes) {
    std::mt19937_64 rng(5000 + static_cast<int>(dt));
    std::vector<double> x, y;
    double s;
    if (isFloat(dt)) {
      x = uniform(rng, 301, -100, 100);
      y = uniform(rng, 301, -100, 100);
      std::vector<double> e = floatEdges(dt), ex, ey;
      crossProduct(e, ex, ey);
      x.insert(x.end(), ex.begin(), ex.end());
      y.insert(y.end(), ey.begin(), ey.end());
      x = asStored(x, dt), y = asStored(y, dt);
      s = 2.5;
    } else {
      for (int64_t v : uniformInt(rng, 301, -100000, 100000)) x.push_back(static_cast<double>(v));
      for (int64_t v : uniformInt(rng, 301, -100, 100)) y.push_back(static_cast<double>(v));
      s = -3;
    }
    Shape shape{static_cast<int64_t>(x.size())};
    std::vector<Array> out = f(makeF(x, shape, dt), makeF(y, shape, dt), s);
    ASSERT_EQ(out.size(), 13u);
    const char *names[] = {"-x", "x+y", "x-y", "x*y", "x/y", "x+s", "x-s", "x*s", "x/s", "s+x", "s-x", "s*x", "s/x"};
    for (int k = 0; k < 13; ++k) {
      std::vector<double> wantF(x.size());
      std::vector<int64_t> wantI(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        double a = x[i], b = y[i];
        R::Binary op = R::Binary::add;
        switch (k) {
        case 0: op = R::Binary::sub, b = a, a = 0; break; // 0 - x; sign of zero handled below
        case 1: case 5: op = R::Binary::add; break;
        case 2: case 6: op = R::Binary::sub; break;
        case 3: case 7: op = R::Binary::mul; break;
        case 4: case 8: op = R::Binary::div; break;
        case 9: op = R::Binary::add, b = a, a = s; break;
        case 10: op = R::Binary::sub, b = a, a = s; break;
        case 11: op = R::Binary::mul, b = a, a = s; break;
        case 12: op = R::Binary::div, b = a, a = s; break;
        }
        if (k >= 5 && k <= 8) b = s;
        if (isFloat(dt)) {
          double sa = dt == DType::f32 ? R::roundToF32(a) : a, sb = dt == DType::f32 ? R::roundToF32(b) : b;
          wantF[i] = k == 0 ? -x[i] : R::binary(op, sa, sb);
        } else {
          wantI[i] = k == 0 ? R::unaryInt(R::Unary::neg, static_cast<int64_t>(x[i]), intBits(dt))
                            : R::binaryInt(op, static_cast<int64_t>(a), static_cast<int64_t>(b), intBits(dt));
        }
      }
      // exact
      EXPECT_TRUE(matchAny(std::string(names[k]) + " " + dtypeName(dt), out[k], dt, shape, wantF, wantI, kExact,
                           [&](int64_t i) { return "x=" + num(x[i]) + " y=" + num(y[i]); }));
    }
  }
}

// pow with a scalar exponent: 1 and 2 are exact (x, x * x in the frontend; f64: see below); 3 is
// (x * x) * x, two roundings: rel 2 ulp (2.4e-7 f32, 4.5e-16 f64); MLIR's powf expansion
// turns 0.5 into sqrt and -1 into 1 / x (exact), -0.5 into 1 / sqrt and -2 into 1 / (x * x)
// (two roundings: 2 ulp), and the rest into exp(p log x): |err| <= 2^-22 (f32) / 2^-51
// (f64) * |want| * (2 + |p ln x|) as for the tensor pow (measured 0.77 * 2^-23 and
// 0.83 * 2^-52). Positive x in 2^[-10, 10].
TEST(Operators, PowScalarExponent) {
  auto f = jit([](const Tensor &x, double p) { return ajit::pow(x, p); }, {.name = "pow_scalar"});
  for (DType dt : kFloatTypes) {
    std::mt19937_64 rng(5100);
    bool f32 = dt == DType::f32;
    std::vector<double> x = asStored(logUniform(rng, 1001, -10, 10, false), dt);
    Shape shape{static_cast<int64_t>(x.size())};
    for (double p : {1.0, 2.0, 3.0, 0.5, -0.5, -1.0, -2.0, 2.5, -3.7, 7.0}) {
      bool twoRoundings = p == 3 || p == -0.5 || p == -2;
      bool viaExpLog = p == 2.5 || p == -3.7 || p == 7;
      // Exact cases: exact in f32; in f64 rel 2.3e-16 (1 ulp), because the reference (powl,
      // rounded to double) can itself be off by one ulp in near-halfway cases.
      Tol tol = twoRoundings ? (f32 ? Tol{2.4e-7} : Tol{4.5e-16})
                : viaExpLog  ? Tol{0, f32 ? 4 * kU32 : 4 * kU64}
                : f32        ? kExact
                             : Tol{2.3e-16};
      Array out = f(makeF(x, shape, dt), p);
      std::vector<double> want(x.size());
      for (size_t i = 0; i < x.size(); ++i) want[i] = R::binary(R::Binary::pow, x[i], p);
      std::vector<double> scale = powScale(x, std::vector<double>(x.size(), p), want);
      EXPECT_TRUE(matchF("pow(x, " + num(p) + ") " + dtypeName(dt), out, dt, shape, want, tol, 0, -1,
                         [&](int64_t i) { return "x=" + num(x[i]); }, &scale));
    }
    // Negative and zero bases with the product exponents 2 and 3: exact.
    std::vector<double> xn = asStored({-3.5, -1, -0.0, 0.0, -1e-20, -kInf, kNaN, -7}, dt);
    Shape sn{static_cast<int64_t>(xn.size())};
    for (double p : {2.0, 3.0}) {
      std::vector<double> want(xn.size());
      for (size_t i = 0; i < xn.size(); ++i) want[i] = p == 2 ? xn[i] * xn[i] : xn[i] * xn[i] * xn[i];
      EXPECT_TRUE(matchF("pow(negative x, " + num(p) + ") " + dtypeName(dt), f(makeF(xn, sn, dt), p), dt, sn, want,
                         p == 2 ? kExact : (f32 ? Tol{2.4e-7} : Tol{4.5e-16})));
    }
  }
}

//===----------------------------------------------------------------------===//
// Comparisons, where, clamp
//===----------------------------------------------------------------------===//

// The six operators, ajit::compare with each predicate, and the scalar operators; exact.
// Floats: ordered predicates except ne (NaN != NaN is true); -0 == +0.
TEST(Compare, OperatorsFunctionAndScalars) {
  // Operators and ajit::compare in two functions: together they would return one value
  // twice after CSE (Regression.SameValueReturnedTwice).
  auto f1 = jit([](const Tensor &x, const Tensor &y) {
    return std::vector<Tensor>{x == y, x != y, x < y, x <= y, x > y, x >= y};
  }, {.name = "compare_operators"});
  auto f2 = jit([](const Tensor &x, const Tensor &y, double s) {
    std::vector<Tensor> r;
    for (R::Cmp c : kCmps) r.push_back(compare(toCmp(c), x, y));
    if (x.dtype() != DType::boolean) {
      r.push_back(x < s), r.push_back(x <= s), r.push_back(x > s), r.push_back(x >= s);
    }
    return r;
  }, {.name = "compare"});
  auto f = [&](const Array &x, const Array &y, double s) {
    std::vector<Array> r = f1(x, y), r2 = f2(x, y, s);
    r.insert(r.end(), r2.begin(), r2.end());
    return r;
  };
  for (DType dt : kAllTypes) {
    std::mt19937_64 rng(6000 + static_cast<int>(dt));
    std::vector<double> x, y;
    double s = dt == DType::boolean ? 0 : isFloat(dt) ? 0.5 : 3;
    if (isFloat(dt)) {
      crossProduct(floatEdges(dt), x, y);
    } else {
      std::vector<int64_t> e = dt == DType::boolean ? std::vector<int64_t>{0, 1} : intEdges(dt);
      for (int64_t a : e)
        for (int64_t b : e) x.push_back(static_cast<double>(a)), y.push_back(static_cast<double>(b));
    }
    for (int64_t v : uniformInt(rng, 517, dt == DType::boolean ? 0 : -4, dt == DType::boolean ? 1 : 4))
      x.push_back(static_cast<double>(v));
    for (int64_t v : uniformInt(rng, 517, dt == DType::boolean ? 0 : -4, dt == DType::boolean ? 1 : 4))
      y.push_back(static_cast<double>(v));
    std::vector<int64_t> xi, yi;
    if (!isFloat(dt)) {
      // i64 edges do not survive a trip through double: rebuild them exactly.
      std::vector<int64_t> e = dt == DType::boolean ? std::vector<int64_t>{0, 1} : intEdges(dt);
      for (int64_t a : e)
        for (int64_t b : e) xi.push_back(a), yi.push_back(b);
      for (size_t i = xi.size(); i < x.size(); ++i) xi.push_back(static_cast<int64_t>(x[i])), yi.push_back(static_cast<int64_t>(y[i]));
    }
    x = asStored(x, isFloat(dt) ? dt : DType::f64);
    y = asStored(y, isFloat(dt) ? dt : DType::f64);
    Shape shape{static_cast<int64_t>(x.size())};
    std::vector<Array> out = isFloat(dt) ? f(makeF(x, shape, dt), makeF(y, shape, dt), s)
                                         : f(makeI(xi, shape, dt), makeI(yi, shape, dt), s);
    ASSERT_EQ(out.size(), dt == DType::boolean ? 12u : 16u);
    for (size_t k = 0; k < out.size(); ++k) {
      R::Cmp c = kCmps[k < 12 ? k % 6 : 2 + (k - 12)];
      std::vector<int64_t> want(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        if (isFloat(dt)) want[i] = R::compare(c, x[i], k < 12 ? y[i] : s);
        else want[i] = R::compareInt(c, xi[i], k < 12 ? yi[i] : static_cast<int64_t>(s));
      }
      std::string what = std::string(k < 6 ? "operator " : k < 12 ? "compare " : "scalar ") + cmpName(c) + " " + dtypeName(dt);
      EXPECT_TRUE(matchI(what, out[k], DType::boolean, shape, want, [&](int64_t i) {
        return isFloat(dt) ? "x=" + num(x[i]) + " y=" + num(y[i]) : "x=" + std::to_string(xi[i]) + " y=" + std::to_string(yi[i]);
      }));
    }
  }
  // Broadcast operands: [3,1] < [1,4] (exact).
  std::vector<double> a = {1, 2, 3}, b = {0, 2, 2.5, 4};
  Array out = f(makeF(a, {3, 1}, DType::f32), makeF(b, {1, 4}, DType::f32), 0.0)[2];
  std::vector<int64_t> want(12);
  R::compare(R::Cmp::lt, a.data(), {3, 1}, b.data(), {1, 4}, want.data());
  EXPECT_TRUE(matchI("operator lt f32 [3,1] with [1,4]", out, DType::boolean, {3, 4}, want));
}

// where(cond, x, y) with all three broadcast, every dtype; exact (NaN and -0 pass through).
TEST(Where, AllDtypesAndBroadcasting) {
  auto f = jit([](const Tensor &c, const Tensor &x, const Tensor &y) { return where(c, x, y); }, {.name = "where"});
  struct Case { Shape c, x, y; };
  std::vector<Case> cases = {{{37}, {37}, {37}}, {{4, 1}, {5}, {}}, {{}, {2, 3}, {2, 3}}, {{3, 4}, {1, 4}, {3, 1}},
                             {{0, 2}, {2}, {}}};
  for (DType dt : kAllTypes) {
    for (const Case &cs : cases) {
      std::mt19937_64 rng(6100);
      std::vector<int64_t> c = uniformInt(rng, R::numElements(cs.c), 0, 1);
      Shape shape = R::broadcastShapes(cs.c, R::broadcastShapes(cs.x, cs.y));
      std::string what = std::string("where ") + dtypeName(dt) + " " + shapeStr(cs.c) + " " + shapeStr(cs.x) + " " + shapeStr(cs.y);
      if (isFloat(dt)) {
        std::vector<double> e = floatEdges(dt);
        std::vector<double> x(R::numElements(cs.x)), y(R::numElements(cs.y));
        for (size_t i = 0; i < x.size(); ++i) x[i] = e[i % e.size()];
        for (size_t i = 0; i < y.size(); ++i) y[i] = e[(i + 7) % e.size()];
        x = asStored(x, dt), y = asStored(y, dt);
        std::vector<double> want(R::numElements(shape));
        R::select(c.data(), cs.c, x.data(), cs.x, y.data(), cs.y, want.data());
        EXPECT_TRUE(matchF(what, f(makeI(c, cs.c, DType::boolean), makeF(x, cs.x, dt), makeF(y, cs.y, dt)), dt, shape,
                           want, kExact));
      } else {
        int64_t hi = dt == DType::boolean ? 1 : dt == DType::i32 ? INT32_MAX : INT64_MAX;
        std::vector<int64_t> x = uniformInt(rng, R::numElements(cs.x), dt == DType::boolean ? 0 : -hi - 1, hi);
        std::vector<int64_t> y = uniformInt(rng, R::numElements(cs.y), dt == DType::boolean ? 0 : -hi - 1, hi);
        std::vector<int64_t> want(R::numElements(shape));
        R::select(c.data(), cs.c, x.data(), cs.x, y.data(), cs.y, want.data());
        EXPECT_TRUE(matchI(what, f(makeI(c, cs.c, DType::boolean), makeI(x, cs.x, dt), makeI(y, cs.y, dt)), dt, shape, want));
      }
    }
  }
}

// clamp = min(max(x, lo), hi): lo > hi gives hi; NaN in x or a bound gives NaN; exact.
TEST(Clamp, ScalarAndTensorBounds) {
  auto fs = jit([](const Tensor &x, double lo, double hi) { return clamp(x, lo, hi); }, {.name = "clamp_s"});
  auto ft = jit([](const Tensor &x, const Tensor &lo, const Tensor &hi) { return clamp(x, lo, hi); }, {.name = "clamp_t"});
  for (DType dt : kNumericTypes) {
    std::mt19937_64 rng(6200 + static_cast<int>(dt));
    std::vector<double> x;
    if (isFloat(dt)) {
      x = uniform(rng, 200, -3, 3);
      for (double e : floatEdges(dt)) x.push_back(e);
    } else {
      for (int64_t v : uniformInt(rng, 200, -300, 300)) x.push_back(static_cast<double>(v));
    }
    x = asStored(x, isFloat(dt) ? dt : DType::f64);
    Shape shape{static_cast<int64_t>(x.size())};
    std::vector<std::pair<double, double>> bounds = {{-1, 1}, {2, -2}, {0, 0}, {-100, 250}};
    if (isFloat(dt)) bounds.push_back({-kInf, 0.0}), bounds.push_back({-0.0, kInf}), bounds.push_back({kNaN, 1});
    for (auto [lo, hi] : bounds) {
      Array out = fs(makeF(x, shape, dt), lo, hi);
      std::vector<double> wantF(x.size());
      std::vector<int64_t> wantI(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        wantF[i] = R::clamp(x[i], lo, hi);
        wantI[i] = isFloat(dt) ? 0 : R::clampInt(static_cast<int64_t>(x[i]), static_cast<int64_t>(lo), static_cast<int64_t>(hi));
      }
      EXPECT_TRUE(matchAny("clamp(x, " + num(lo) + ", " + num(hi) + ") " + dtypeName(dt), out, dt, shape, wantF, wantI,
                           kExact, [&](int64_t i) { return "x=" + num(x[i]); }));
    }
    // Tensor bounds broadcast to x: x [4,5], lo [1,5], hi [4,1] (exact).
    std::vector<double> tx = asStored(uniform(rng, 20, -5, 5), isFloat(dt) ? dt : DType::f64);
    std::vector<double> tlo = {-1, -2, 0, 3, -4}, thi = {1, 2, -3, 4};
    if (isFloat(dt)) tlo[2] = kNaN, tx[7] = kNaN, tx[8] = -0.0;
    for (double &v : tx) v = isFloat(dt) ? v : std::round(v);
    Array out = ft(makeF(tx, {4, 5}, dt), makeF(tlo, {1, 5}, dt), makeF(thi, {4, 1}, dt));
    std::vector<double> wantF(20);
    std::vector<int64_t> wantI(20);
    R::clamp(tx.data(), {4, 5}, tlo.data(), {1, 5}, thi.data(), {4, 1}, wantF.data());
    std::vector<int64_t> ix(tx.begin(), tx.end()), ilo(tlo.begin(), tlo.end()), ihi(thi.begin(), thi.end());
    if (!isFloat(dt)) R::clampInt(ix.data(), {4, 5}, ilo.data(), {1, 5}, ihi.data(), {4, 1}, wantI.data());
    EXPECT_TRUE(matchAny(std::string("clamp tensor bounds ") + dtypeName(dt), out, dt, {4, 5}, wantF, wantI));
  }
}

//===----------------------------------------------------------------------===//
// astype
//===----------------------------------------------------------------------===//

// Every (source, destination) pair of f32, f64, i32, i64, bool; exact. Float -> int
// truncates and saturates, NaN -> 0; -> bool is x != 0 (NaN -> true); int -> float rounds
// to nearest even; f64 -> f32 rounds (overflow -> inf, underflow -> subnormal / 0);
// int -> narrower int wraps.
TEST(Astype, AllPairs) {
  auto f = jit([](const Tensor &x) {
    std::vector<Tensor> r;
    for (DType to : kAllTypes) r.push_back(astype(x, to));
    return r;
  }, {.name = "astype"});
  for (DType from : kAllTypes) {
    std::mt19937_64 rng(7000 + static_cast<int>(from));
    std::vector<double> xf;
    std::vector<int64_t> xi;
    if (from == DType::f32) {
      xf = floatEdges(from);
      for (double v : {2147483520.0, 2147483648.0, -2147483648.0, -2147483904.0, 0x1p63, -0x1p63, 9223371487098961920.0,
                       0.99999994, -0.99999994, 1.5, -1.5, 2.5, -2.5, 16777217.0, 0x1p40})
        xf.push_back(v);
      for (double v : logUniform(rng, 500, -10, 70, true)) xf.push_back(v);
      xf = asStored(xf, from);
    } else if (from == DType::f64) {
      xf = floatEdges(from);
      for (double v : {2147483647.0, 2147483647.5, 2147483648.0, -2147483648.0, -2147483648.5, -2147483649.0,
                       9223372036854774784.0, 0x1p63, -0x1p63, -9223372036854777856.0, 3.4028235677973366e38,
                       3.4028235677973367e38, 3.5e38, 1e-46, 1.5e-45, 7e-46, 16777217.0, 0.1, 1 + 0x1p-30})
        xf.push_back(v);
      for (double v : logUniform(rng, 500, -10, 70, true)) xf.push_back(v);
    } else if (from == DType::boolean) {
      xi = uniformInt(rng, 64, 0, 1);
    } else {
      xi = intEdges(from);
      for (int64_t v : {int64_t{16777217}, int64_t{-16777217}, int64_t{1} << 53 | 1, (int64_t{1} << 60) + (int64_t{1} << 36) + 1,
                        int64_t{0x7fffffff}, int64_t{0x80000000}, int64_t{0x1ffffffff}})
        if (from == DType::i64 || (v >= INT32_MIN && v <= INT32_MAX)) xi.push_back(v);
      int64_t lo = from == DType::i32 ? INT32_MIN : INT64_MIN, hi = from == DType::i32 ? INT32_MAX : INT64_MAX;
      for (int64_t v : uniformInt(rng, 500, lo, hi)) xi.push_back(v);
    }
    bool srcFloat = isFloat(from);
    int64_t n = srcFloat ? static_cast<int64_t>(xf.size()) : static_cast<int64_t>(xi.size());
    Shape shape{n};
    std::vector<Array> out = f(srcFloat ? makeF(xf, shape, from) : makeI(xi, shape, from));
    ASSERT_EQ(out.size(), 5u);
    for (size_t k = 0; k < 5; ++k) {
      DType to = kAllTypes[k];
      std::vector<double> wantF(n);
      std::vector<int64_t> wantI(n);
      for (int64_t i = 0; i < n; ++i) {
        if (srcFloat && isFloat(to)) wantF[i] = to == DType::f32 ? R::roundToF32(xf[i]) : xf[i];
        else if (srcFloat) wantI[i] = R::floatToInt(xf[i], intBits(to));
        else if (isFloat(to)) wantF[i] = R::intToFloat(xi[i], to == DType::f32 ? 32 : 64);
        else wantI[i] = R::intToInt(xi[i], intBits(to));
      }
      std::string what = std::string("astype ") + dtypeName(from) + " -> " + dtypeName(to);
      EXPECT_TRUE(matchAny(what, out[k], to, shape, wantF, wantI, kExact, [&](int64_t i) {
        return srcFloat ? "x=" + num(xf[i]) : "x=" + std::to_string(xi[i]);
      }));
    }
    // Zero-size: every conversion of an f[0] is an empty array of the target dtype.
    std::vector<Array> empty = f(Array::zeros({0}, from));
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_EQ(empty[k].shape(), Shape{0});
      EXPECT_EQ(empty[k].dtype(), kAllTypes[k]);
    }
  }
}

//===----------------------------------------------------------------------===//
// Shape ops (all exact)
//===----------------------------------------------------------------------===//

namespace {
/// Random contents for `shape` in dtype `dt`, as doubles (floats) or int64 (ints, bools).
struct HostData {
  std::vector<double> f;
  std::vector<int64_t> i;
};
HostData randomData(std::mt19937_64 &rng, const Shape &shape, DType dt) {
  HostData d;
  int64_t n = R::numElements(shape);
  if (isFloat(dt)) d.f = asStored(uniform(rng, n, -100, 100), dt);
  else d.i = uniformInt(rng, n, dt == DType::boolean ? 0 : dt == DType::i32 ? INT32_MIN : INT64_MIN,
                        dt == DType::boolean ? 1 : dt == DType::i32 ? INT32_MAX : INT64_MAX);
  return d;
}
Array toArray(const HostData &d, const Shape &shape, DType dt) {
  return isFloat(dt) ? makeF(d.f, shape, dt) : makeI(d.i, shape, dt);
}
} // namespace

TEST(Shape, BroadcastToAndBroadcastInDim) {
  auto to = jit([](const Tensor &x, const std::string &shape) {
    Shape s;
    std::istringstream is(shape);
    for (int64_t d; is >> d;) s.push_back(d);
    return broadcastTo(x, s);
  }, {.name = "broadcast_to"});
  auto inDim = jit([](const Tensor &x, const std::string &spec) {
    // "shape... | dims..."
    Shape s;
    std::vector<int64_t> dims;
    std::istringstream is(spec);
    std::string tok;
    bool second = false;
    while (is >> tok) {
      if (tok == "|") second = true;
      else (second ? dims : s).push_back(std::stoll(tok));
    }
    return broadcastInDim(x, s, dims);
  }, {.name = "broadcast_in_dim"});
  auto encode = [](const Shape &s) {
    std::string r;
    for (int64_t d : s) r += std::to_string(d) + " ";
    return r;
  };
  std::vector<std::pair<Shape, Shape>> toCases = {{{3}, {2, 3}},       {{2, 1}, {2, 4}},         {{}, {3, 2}},
                                                  {{1, 1}, {5, 1}},    {{3, 1, 2}, {4, 3, 5, 2}}, {{1}, {0}},
                                                  {{1, 3}, {0, 3}},    {{5}, {5}}};
  int k = 0;
  for (auto [xs, os] : toCases) {
    for (DType dt : kAllTypes) {
      if (k++ % 2 && dt != DType::f32) continue; // every dtype on half the cases
      std::mt19937_64 rng(8000 + k);
      HostData d = randomData(rng, xs, dt);
      Array out = to(toArray(d, xs, dt), encode(os));
      std::vector<double> wantF(R::numElements(os));
      std::vector<int64_t> wantI(R::numElements(os));
      if (isFloat(dt)) R::broadcastTo(d.f.data(), xs, wantF.data(), os);
      else R::broadcastTo(d.i.data(), xs, wantI.data(), os);
      EXPECT_TRUE(matchAny("broadcastTo " + shapeStr(xs) + " -> " + shapeStr(os) + " " + dtypeName(dt), out, dt, os, wantF, wantI));
    }
  }
  struct InDim { Shape x, out; std::vector<int64_t> dims; };
  std::vector<InDim> inDimCases = {{{3}, {3, 4}, {0}},       {{3, 1}, {3, 4, 5}, {0, 2}}, {{4}, {2, 3, 4}, {2}},
                                   {{}, {2}, {}},            {{2, 3}, {2, 5, 3}, {0, 2}}, {{1, 3}, {4, 3}, {0, 1}},
                                   {{2, 1}, {2, 1, 6}, {0, 1}}, {{1}, {0, 3}, {1}}};
  for (const InDim &c : inDimCases) {
    for (DType dt : kAllTypes) {
      std::mt19937_64 rng(8100);
      HostData d = randomData(rng, c.x, dt);
      Array out = inDim(toArray(d, c.x, dt), encode(c.out) + "| " + encode(c.dims));
      std::vector<double> wantF(R::numElements(c.out));
      std::vector<int64_t> wantI(R::numElements(c.out));
      if (isFloat(dt)) R::broadcastInDim(d.f.data(), c.x, wantF.data(), c.out, c.dims);
      else R::broadcastInDim(d.i.data(), c.x, wantI.data(), c.out, c.dims);
      EXPECT_TRUE(matchAny("broadcastInDim " + shapeStr(c.x) + " -> " + shapeStr(c.out) + " dims " + shapeStr(c.dims) + " " + dtypeName(dt),
                           out, dt, c.out, wantF, wantI));
    }
  }
}

// reshape (incl. -1), and the reshaped tensor used by a transpose so that the new layout
// is really read; exact.
TEST(Shape, Reshape) {
  auto f = jit([](const Tensor &x, const std::string &shape) {
    Shape s;
    std::istringstream is(shape);
    for (int64_t d; is >> d;) s.push_back(d);
    Tensor r = reshape(x, s);
    return std::make_tuple(r, transpose(r));
  }, {.name = "reshape"});
  std::vector<std::pair<Shape, Shape>> cases = {{{2, 3, 4}, {4, -1}}, {{2, 3, 4}, {-1}},    {{2, 3, 4}, {2, -1, 3}},
                                                {{6}, {1, 6, 1}},     {{}, {1}},            {{1}, {}},
                                                {{1, 1}, {-1}},       {{24}, {2, 3, 2, 2}}, {{0, 3}, {-1}},
                                                {{3, 4}, {3, 4}}};
  int k = 0;
  for (auto [xs, s] : cases) {
    for (DType dt : kAllTypes) {
      if (k++ % 2 && dt != DType::i64) continue;
      std::mt19937_64 rng(8200 + k);
      HostData d = randomData(rng, xs, dt);
      std::string spec;
      for (int64_t v : s) spec += std::to_string(v) + " ";
      auto [r, t] = f(toArray(d, xs, dt), spec);
      Shape rs = R::reshapeShape(xs, s), ts = R::transposeShape(rs, {});
      int64_t n = R::numElements(xs);
      std::vector<double> wantF(n), tF(n);
      std::vector<int64_t> wantI(n), tI(n);
      if (isFloat(dt)) R::reshape(d.f.data(), n, wantF.data()), R::transpose(wantF.data(), rs, {}, tF.data());
      else R::reshape(d.i.data(), n, wantI.data()), R::transpose(wantI.data(), rs, {}, tI.data());
      std::string what = "reshape " + shapeStr(xs) + " -> " + shapeStr(s) + " " + dtypeName(dt);
      EXPECT_TRUE(matchAny(what, r, dt, rs, wantF, wantI));
      EXPECT_TRUE(matchAny(what + " then transpose", t, dt, ts, tF, tI));
    }
  }
}

TEST(Shape, Transpose) {
  auto f = jit([](const Tensor &x, const std::string &perm) {
    std::vector<int64_t> p;
    std::istringstream is(perm);
    for (int64_t d; is >> d;) p.push_back(d);
    return transpose(x, p);
  }, {.name = "transpose"});
  std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{2, 3}, {}},          {{2, 3, 4}, {0, 1, 2}}, {{2, 3, 4}, {0, 2, 1}}, {{2, 3, 4}, {1, 0, 2}},
      {{2, 3, 4}, {1, 2, 0}}, {{2, 3, 4}, {2, 0, 1}}, {{2, 3, 4}, {2, 1, 0}}, {{2, 3, 4, 5}, {3, 1, 0, 2}},
      {{}, {}},              {{1, 5}, {1, 0}},       {{17, 33}, {1, 0}},     {{0, 3, 1}, {0, 2, 1}}};
  int k = 0;
  for (auto [xs, perm] : cases) {
    for (DType dt : kAllTypes) {
      if (k++ % 3 && dt != DType::f32 && dt != DType::boolean) continue;
      std::mt19937_64 rng(8300 + k);
      HostData d = randomData(rng, xs, dt);
      std::string spec;
      for (int64_t v : perm) spec += std::to_string(v) + " ";
      Array out = f(toArray(d, xs, dt), spec);
      Shape os = R::transposeShape(xs, perm);
      std::vector<double> wantF(R::numElements(os));
      std::vector<int64_t> wantI(R::numElements(os));
      if (isFloat(dt)) R::transpose(d.f.data(), xs, perm, wantF.data());
      else R::transpose(d.i.data(), xs, perm, wantI.data());
      EXPECT_TRUE(matchAny("transpose " + shapeStr(xs) + " perm " + shapeStr(perm) + " " + dtypeName(dt), out, dt, os, wantF, wantI));
    }
  }
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

namespace {
auto &reduceFn() {
  static auto &f = *new auto(jit([](const Tensor &x, const std::string &axesSpec, bool keepdims) {
    std::vector<int64_t> axes;
    std::istringstream is(axesSpec);
    for (int64_t d; is >> d;) axes.push_back(d);
    return std::vector<Tensor>{sum(x, axes, keepdims), ajit::max(x, axes, keepdims), ajit::min(x, axes, keepdims),
                               mean(x, axes, keepdims)};
  }, {.name = "reduce"}));
  return f;
}
std::string spec(const std::vector<int64_t> &v) {
  std::string s;
  for (int64_t d : v) s += std::to_string(d) + " ";
  return s;
}

/// Checks sum, max, min, mean of float `x` against the reference. sum / mean tolerance:
/// |err| <= c * sum|x_i| (resp. its mean), c = `sumTol`.
void checkFloatReduce(const std::string &name, DType dt, const std::vector<double> &x, const Shape &xs,
                      const std::vector<int64_t> &axes, bool keepdims, double sumTol) {
  std::vector<Array> out = reduceFn()(makeF(x, xs, dt), spec(axes), keepdims);
  ASSERT_EQ(out.size(), 4u);
  Shape os = R::reduceShape(xs, axes, keepdims);
  int64_t m = R::numElements(os);
  std::vector<double> absX(x.size()), absSum(m), absMean(m);
  for (size_t i = 0; i < x.size(); ++i) absX[i] = std::fabs(x[i]);
  R::reduce(R::Reduce::sum, absX.data(), xs, axes, keepdims, absSum.data());
  R::reduce(R::Reduce::mean, absX.data(), xs, axes, keepdims, absMean.data());
  std::string what = name + " " + dtypeName(dt) + " " + shapeStr(xs) + " axes " + shapeStr(axes) + (keepdims ? " keepdims" : "");
  const R::Reduce kinds[] = {R::Reduce::sum, R::Reduce::max, R::Reduce::min, R::Reduce::mean};
  const char *names[] = {"sum", "max", "min", "mean"};
  for (int k = 0; k < 4; ++k) {
    std::vector<double> want(m);
    R::reduce(kinds[k], x.data(), xs, axes, keepdims, want.data());
    bool accumulates = k == 0 || k == 3;
    // max / min: exact. sum / mean: abs sumTol * sum|x| (mean: * mean|x|) + rel 2u.
    Tol tol = accumulates ? Tol{dt == DType::f32 ? kU32 * 2 : kU64 * 2, sumTol} : kExact;
    EXPECT_TRUE(matchF(std::string(names[k]) + " " + what, out[k], dt, os, want, tol, 0, -1, nullptr,
                       k == 0 ? &absSum : &absMean));
  }
}
} // namespace

// sum / max / min / mean over every axis subset of a [3,4,5] tensor, with and without
// keepdims, and long reductions (up to 19200 terms) for accumulation error. max / min
// exact; sum and mean: |err| <= 4 * 2^-24 * sum|x| (mean: * mean|x|) + rel 2^-23 in f32
// (measured 1.6 * 2^-24; partial sums are reassociated for vectorization), and
// 4 * 2^-53 * sum|x| + rel 2^-52 in f64 (measured 1.7 * 2^-53).
TEST(Reduce, FloatAxesAndKeepdims) {
  std::vector<std::vector<int64_t>> axesList = {{}, {0}, {1}, {2}, {-1}, {0, 2}, {1, 2}, {0, 1, 2}, {-3, -1}};
  for (DType dt : kFloatTypes) {
    std::mt19937_64 rng(9000 + static_cast<int>(dt));
    double c = dt == DType::f32 ? 4 * kU32 : 4 * kU64;
    std::vector<double> x = asStored(uniform(rng, 60, -10, 10), dt);
    for (const auto &axes : axesList)
      for (bool keep : {false, true}) checkFloatReduce("random", dt, x, {3, 4, 5}, axes, keep, c);
    std::vector<double> big = asStored(uniform(rng, 64 * 300, -1, 1), dt);
    for (const auto &axes : std::vector<std::vector<int64_t>>{{1}, {0}, {}})
      checkFloatReduce("long", dt, big, {64, 300}, axes, false, c);
    std::vector<double> pos = asStored(uniform(rng, 4099, 0, 1), dt); // no cancellation
    checkFloatReduce("positive", dt, pos, {4099}, {}, false, c);
  }
}

// NaN propagates through sum / max / min / mean; inf - inf gives NaN; max(-0, +0) = +0
// and min = -0; empty reductions give the identity (0, -inf, +inf, NaN for mean); exact.
// Whole arrays of 256K elements and more take the lane builder (chunks across the threads,
// 64 lanes each): odd sizes for the scalar tails, a 2-D array (flattened), keepdims, and a
// NaN or an infinity somewhere in the middle; 100003 stays below, on the plain loop. Same
// tolerances as above.
TEST(Reduce, WholeLargeArrays) {
  for (DType dt : kFloatTypes) {
    std::mt19937_64 rng(9100 + static_cast<int>(dt));
    double c = dt == DType::f32 ? 4 * kU32 : 4 * kU64;
    for (Shape xs : {Shape{262144}, Shape{100003}, Shape{517, 2049}}) {
      std::vector<double> x = asStored(uniform(rng, R::numElements(xs), -1, 1), dt);
      for (bool keep : {false, true}) checkFloatReduce("whole", dt, x, xs, {}, keep, c);
      std::vector<double> withNan = x, withInf = x;
      withNan[R::numElements(xs) * 2 / 3] = kNaN;
      withInf[R::numElements(xs) / 3] = -kInf;
      checkFloatReduce("whole with a NaN", dt, withNan, xs, {}, false, c);
      checkFloatReduce("whole with -inf", dt, withInf, xs, {}, false, c);
    }
  }
}

TEST(Reduce, SpecialValuesAndEmpty) {
  for (DType dt : kFloatTypes) {
    std::vector<double> rows = {
        1,    kNaN, 2,    3,    // NaN
        kInf, 1,    -kInf, 0,   // inf - inf
        -0.0, 0.0,  -0.0, 0.0,  // signed zeros
        -0.0, -0.0, -0.0, -0.0, // all -0: sum starts at +0
        kInf, kInf, 1,    2,    // inf
        -kInf, -kInf, -kInf, -kInf,
    };
    rows = asStored(rows, dt);
    checkFloatReduce("special", dt, rows, {6, 4}, {1}, false, 0);
    checkFloatReduce("special", dt, rows, {6, 4}, {0}, true, 0);
    // Empty reductions over a leading zero dimension.
    checkFloatReduce("empty", dt, {}, {0, 4}, {0}, false, 0);
    checkFloatReduce("empty", dt, {}, {0, 4}, {}, false, 0);
    checkFloatReduce("empty", dt, {}, {0}, {0}, true, 0);
    checkFloatReduce("empty result", dt, {}, {0, 4}, {1}, false, 0);
  }
}

// Integer sum (wrapping), max, min: exact; integer mean converts to f32 first (rel 2^-22).
// bool max / min (any / all): exact.
TEST(Reduce, IntegersAndBool) {
  std::vector<std::vector<int64_t>> axesList = {{}, {0}, {1}, {-1}, {0, 2}, {0, 1, 2}};
  for (DType dt : kIntTypes) {
    int bits = intBits(dt);
    std::mt19937_64 rng(9100 + bits);
    int64_t lo = bits == 32 ? INT32_MIN : INT64_MIN, hi = bits == 32 ? INT32_MAX : INT64_MAX;
    std::vector<int64_t> x = uniformInt(rng, 60, lo, hi);
    x[0] = lo, x[1] = hi;
    for (const auto &axes : axesList) {
      for (bool keep : {false, true}) {
        Shape xs{3, 4, 5}, os = R::reduceShape(xs, axes, keep);
        std::vector<Array> out = reduceFn()(makeI(x, xs, dt), spec(axes), keep);
        std::string what = std::string(dtypeName(dt)) + " axes " + shapeStr(axes) + (keep ? " keepdims" : "");
        const R::Reduce kinds[] = {R::Reduce::sum, R::Reduce::max, R::Reduce::min};
        const char *names[] = {"sum", "max", "min"};
        for (int k = 0; k < 3; ++k) {
          std::vector<int64_t> want(R::numElements(os));
          R::reduceInt(kinds[k], x.data(), xs, axes, keep, want.data(), bits);
          EXPECT_TRUE(matchI(std::string(names[k]) + " " + what, out[k], dt, os, want));
        }
        std::vector<double> xf(x.size()), want(R::numElements(os));
        for (size_t i = 0; i < x.size(); ++i) xf[i] = R::intToFloat(x[i], 32);
        R::reduce(R::Reduce::mean, xf.data(), xs, axes, keep, want.data());
        // mean of the f32 conversions (ajit converts integer tensors to f32 first):
        // |err| <= 4 * 2^-24 * mean|x| + rel 2^-23, as for floats (measured 1.8 * 2^-24)
        std::vector<double> absX(x.size()), absMean(want.size());
        for (size_t i = 0; i < x.size(); ++i) absX[i] = std::fabs(xf[i]);
        R::reduce(R::Reduce::mean, absX.data(), xs, axes, keep, absMean.data());
        EXPECT_TRUE(matchF("mean " + what, out[3], DType::f32, os, want, Tol{2 * kU32, 4 * kU32}, 0, -1, nullptr, &absMean));
      }
    }
    // Empty integer reductions: 0, INT_MIN, INT_MAX.
    std::vector<Array> out = reduceFn()(makeI({}, {0, 3}, dt), spec({0}), false);
    EXPECT_TRUE(matchI(std::string("empty sum ") + dtypeName(dt), out[0], dt, {3}, {0, 0, 0}));
    EXPECT_TRUE(matchI(std::string("empty max ") + dtypeName(dt), out[1], dt, {3}, {lo, lo, lo}));
    EXPECT_TRUE(matchI(std::string("empty min ") + dtypeName(dt), out[2], dt, {3}, {hi, hi, hi}));
  }
  auto anyAll = jit([](const Tensor &x, int64_t axis) {
    return std::make_tuple(ajit::max(x, {axis}), ajit::min(x, {axis}));
  }, {.name = "any_all"});
  std::vector<int64_t> b = {0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1};
  for (int64_t axis : {0, 1}) {
    auto [mx, mn] = anyAll(makeI(b, {4, 3}, DType::boolean), axis);
    Shape os = R::reduceShape({4, 3}, {axis}, false);
    std::vector<int64_t> wantMax(R::numElements(os)), wantMin(R::numElements(os));
    R::reduceInt(R::Reduce::max, b.data(), {4, 3}, {axis}, false, wantMax.data(), 1);
    R::reduceInt(R::Reduce::min, b.data(), {4, 3}, {axis}, false, wantMin.data(), 1);
    EXPECT_TRUE(matchI("max bool axis " + std::to_string(axis), mx, DType::boolean, os, wantMax));
    EXPECT_TRUE(matchI("min bool axis " + std::to_string(axis), mn, DType::boolean, os, wantMin));
  }
}

// argmax / argmin: first occurrence of the extreme, the first NaN wins; exact.
TEST(Reduce, ArgmaxArgmin) {
  auto f = jit([](const Tensor &x, int64_t axis, bool keepdims) {
    return std::make_tuple(argmax(x, axis, keepdims), argmin(x, axis, keepdims));
  }, {.name = "argreduce"});
  auto check = [&](const std::string &name, DType dt, const std::vector<double> &xf, const std::vector<int64_t> &xi,
                   const Shape &xs, int64_t axis, bool keep) {
    auto [amax, amin] = f(isFloat(dt) ? makeF(xf, xs, dt) : makeI(xi, xs, dt), axis, keep);
    Shape os = R::reduceShape(xs, {axis}, keep);
    std::vector<int64_t> wantMax(R::numElements(os)), wantMin(R::numElements(os));
    if (isFloat(dt)) {
      R::argReduce(true, xf.data(), xs, axis, keep, wantMax.data());
      R::argReduce(false, xf.data(), xs, axis, keep, wantMin.data());
    } else {
      R::argReduceInt(true, xi.data(), xs, axis, keep, wantMax.data());
      R::argReduceInt(false, xi.data(), xs, axis, keep, wantMin.data());
    }
    std::string what = name + " " + dtypeName(dt) + " " + shapeStr(xs) + " axis " + std::to_string(axis) + (keep ? " keepdims" : "");
    EXPECT_TRUE(matchI("argmax " + what, amax, DType::i64, os, wantMax));
    EXPECT_TRUE(matchI("argmin " + what, amin, DType::i64, os, wantMin));
  };
  for (DType dt : kNumericTypes) {
    std::mt19937_64 rng(9200 + static_cast<int>(dt));
    // Values in [-3, 3]: many ties, so "first occurrence" matters.
    std::vector<int64_t> xi = uniformInt(rng, 120, -3, 3);
    std::vector<double> xf(xi.begin(), xi.end());
    for (int64_t axis : {0, 1, -1})
      for (bool keep : {false, true}) check("ties", dt, xf, xi, {4, 5, 6}, axis, keep);
  }
  for (DType dt : kFloatTypes) {
    std::vector<double> rows = {
        1,     kNaN,  5,     kNaN,  7,     // first NaN wins (index 1)
        -kInf, -kInf, -kInf, -kInf, -kInf, // all -inf: index 0
        kInf,  kInf,  kInf,  kInf,  kInf,  // all +inf: index 0
        kNaN,  kNaN,  kNaN,  kNaN,  kNaN,  // all NaN: index 0
        -0.0,  0.0,   -0.0,  0.0,   0.0,   // -0 == +0: index 0
        2,     9,     -4,    9,     -4,    // ties: first
        1e-40, 0,     -1e-40, 3e-45, 1e-38, // subnormals
        -kInf, 3,     kNaN,  kInf,  -kInf,
    };
    rows = asStored(rows, dt);
    check("special", dt, rows, {}, {8, 5}, -1, false);
    check("special", dt, rows, {}, {8, 5}, 0, true);
  }
  // Zero-size (non-reduced) leading dimension.
  check("empty lanes", DType::f32, {}, {}, {0, 4}, 1, false);

  // Long rows take the vector-lane path (64 lanes of f32/i32, 32 of f64/i64), and a lone
  // long row is split into chunks: ties across lanes and chunks, a tail past the last
  // full vector, NaNs and infinities placed in the tail, a later chunk, or everywhere.
  // 300007 is prime: 64 chunks of 4684, then a tail of 231 reduced after them (n - 1
  // lies in it).
  for (DType dt : kNumericTypes) {
    for (Shape xs : {Shape{3, 1000}, Shape{64}, Shape{10007}, Shape{300001}, Shape{300007}}) {
      int64_t n = R::numElements(xs);
      std::mt19937_64 rng(9300 + static_cast<int>(dt) + n);
      std::vector<int64_t> xi = uniformInt(rng, n, -3, 3);
      std::vector<double> xf(xi.begin(), xi.end());
      check("long ties", dt, xf, xi, xs, -1, false);
      if (!isFloat(dt)) continue;
      for (int64_t at : {n - 1, n / 2 + 7, int64_t{3}}) {
        std::vector<double> withNan = xf;
        withNan[at] = kNaN;
        withNan[n - 1 - at / 2] = kNaN;
        check("long NaN at " + std::to_string(at), dt, withNan, {}, xs, -1, false);
        std::vector<double> withInf = xf;
        withInf[at] = kInf;
        withInf[at / 2] = -kInf;
        check("long inf at " + std::to_string(at), dt, withInf, {}, xs, -1, true);
      }
      check("long all -inf", dt, std::vector<double>(n, -kInf), {}, xs, -1, false);
      check("long all NaN", dt, std::vector<double>(n, kNaN), {}, xs, -1, false);
    }
  }

  // A long outer axis (120000 x 3 over axis 0) is split into 64 chunks of (value, index)
  // pairs and an arg reduction over them (ajit-split-reductions): ties across chunks,
  // a NaN or an infinity only in a later chunk, a column of -inf, one of NaN. 100003 is
  // prime: 64 chunks of 1560 rows, then the tail's 163 rows reduced after them, where
  // the NaN's infinity and the finite value among -inf lie.
  struct Special {
    int64_t nan, inf, finite;
  };
  for (auto [rows, at] : {std::pair<int64_t, Special>{120000, {70001, 90000, 110000}},
                          std::pair<int64_t, Special>{100003, {70001, 99850, 100002}}})
    for (DType dt : kNumericTypes) {
      const Shape xs = {rows, 3};
      const int64_t n = R::numElements(xs);
      std::mt19937_64 rng(9400 + static_cast<int>(dt) + rows);
      std::vector<int64_t> xi = uniformInt(rng, n, -3, 3);
      std::vector<double> xf(xi.begin(), xi.end());
      check("column ties", dt, xf, xi, xs, 0, false);
      if (!isFloat(dt)) continue;
      std::vector<double> special = xf;
      for (int64_t row = 0; row < xs[0]; ++row) {
        special[row * 3 + 1] = -kInf;
        special[row * 3 + 2] = kNaN;
      }
      special[at.nan * 3] = kNaN;        // column 0: its only NaN
      special[at.inf * 3] = kInf;        // and an infinity after it
      special[at.finite * 3 + 1] = 5;    // column 1: one finite value among -inf
      check("column special", dt, special, {}, xs, 0, true);
      special[at.finite * 3 + 1] = -kInf;
      check("column all -inf", dt, special, {}, xs, 0, false);
    }
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

// NumPy matmul: 1-D . 1-D, 1-D . 2-D, 2-D . 1-D, 2-D, batched, 3-D . 2-D, 2-D . 3-D,
// batch broadcast, M = 0. Floats: |err| <= 6u * sum_k |a_ik b_kj| + rel 4u,
// u = 2^-24 (f32) / 2^-53 (f64); measured 3.0u (f32) and 2.3u (f64) for K <= 128 (the
// worst-case bound of a length-K dot product is K u). Integers: exact, wrapping.
TEST(Matmul, ShapesAndDtypes) {
  auto f = jit([](const Tensor &a, const Tensor &b) { return matmul(a, b); }, {.name = "matmul"});
  std::vector<std::pair<Shape, Shape>> cases = {
      {{7}, {7}},          {{5}, {5, 3}},          {{4, 5}, {5}},          {{17, 33}, {33, 19}},
      {{1, 1}, {1, 1}},    {{3, 4, 5}, {3, 5, 6}}, {{3, 4, 5}, {5, 6}},    {{4, 5}, {3, 5, 6}},
      {{1, 4, 5}, {3, 5, 6}}, {{3, 4, 5}, {1, 5, 6}}, {{5}, {3, 5, 6}},    {{3, 4, 5}, {5}},
      {{0, 5}, {5, 4}},    {{64, 128}, {128, 96}}}; // K = 0: Regression.ZeroSizeInnerDimension
  for (DType dt : kNumericTypes) {
    for (auto [as, bs] : cases) {
      std::mt19937_64 rng(9300);
      Shape os = R::matmulShape(as, bs);
      std::string what = std::string("matmul ") + dtypeName(dt) + " " + shapeStr(as) + " x " + shapeStr(bs);
      if (isFloat(dt)) {
        std::vector<double> a = asStored(uniform(rng, R::numElements(as), -1, 1), dt);
        std::vector<double> b = asStored(uniform(rng, R::numElements(bs), -1, 1), dt);
        std::vector<double> want(R::numElements(os)), scale(R::numElements(os));
        R::matmul(a.data(), as, b.data(), bs, want.data());
        std::vector<double> absA(a.size()), absB(b.size());
        for (size_t i = 0; i < a.size(); ++i) absA[i] = std::fabs(a[i]);
        for (size_t i = 0; i < b.size(); ++i) absB[i] = std::fabs(b[i]);
        R::matmul(absA.data(), as, absB.data(), bs, scale.data());
        double u = dt == DType::f32 ? kU32 : kU64;
        // abs 6u * sum_k |a_ik b_kj| + rel 4u
        EXPECT_TRUE(matchF(what, f(makeF(a, as, dt), makeF(b, bs, dt)), dt, os, want, Tol{4 * u, 6 * u}, 0, -1, nullptr,
                           &scale));
      } else {
        int bits = intBits(dt);
        std::vector<int64_t> a = uniformInt(rng, R::numElements(as), -50, 50);
        std::vector<int64_t> b = uniformInt(rng, R::numElements(bs), -50, 50);
        if (!a.empty()) a[0] = bits == 32 ? INT32_MAX : INT64_MAX; // wraps
        std::vector<int64_t> want(R::numElements(os));
        R::matmulInt(a.data(), as, b.data(), bs, want.data(), bits);
        EXPECT_TRUE(matchI(what, f(makeI(a, as, dt), makeI(b, bs, dt)), dt, os, want)); // exact
      }
    }
  }
  // inf and NaN: inf * 0 = NaN, inf + -inf = NaN, NaN anywhere in a row or column; exact
  // for the specials (any summation order gives the same special value).
  for (DType dt : kFloatTypes) {
    std::vector<double> a = {kInf, 1, 0, -kInf, 2, 1, kNaN, 0, 0, 1, 1, 1};
    std::vector<double> b = {1, 0, 1, kInf, 2, 1, 3, 0, 1, 0, -kInf, 1};
    std::vector<double> want(9);
    R::matmul(a.data(), {3, 4}, b.data(), {4, 3}, want.data());
    EXPECT_TRUE(matchF(std::string("matmul specials ") + dtypeName(dt), f(makeF(a, {3, 4}, dt), makeF(b, {4, 3}, dt)), dt,
                       {3, 3}, want, Tol{0, 1e-300}));
  }
}

// Output fusions: f32 matmul + elementwise epilogue, computed per tile by the micro-kernel
// (ajit-tile-matmuls), against the f64 reference of the unfused program. Shapes cover one
// element, row/column/k tails of the micro-tiles and k blocks, B read in place (< 48 rows)
// and packed (>= 48), several tiles per worker, and a batch. Tolerance: 1e-5 relative
// plus 1e-5 * (sum_k |a b| + |bias| + |residual|) absolute, tighter than the 1e-4
// relative the issue asks for; measured maxima go to the error report.
TEST(Matmul, FusedEpilogues) {
  struct Epilogue {
    const char *name;
    std::function<Tensor(const Tensor &h, const Tensor &x)> fn; // h = x @ w + b
    std::function<double(double h, double x)> ref;
  };
  std::vector<Epilogue> epilogues = {
      {"gelu_tanh", [](const Tensor &h, const Tensor &) { return gelu(h, true); },
       [](double h, double) { return R::unary(R::Unary::geluTanh, h); }},
      {"gelu_erf", [](const Tensor &h, const Tensor &) { return gelu(h, false); },
       [](double h, double) { return R::unary(R::Unary::geluErf, h); }},
      {"relu+residual", [](const Tensor &h, const Tensor &x) { return relu(h) + x; },
       [](double h, double x) { return std::max(h, 0.0) + x; }},
      {"bias only", [](const Tensor &h, const Tensor &) { return h; }, [](double h, double) { return h; }},
  };
  // (rows, k, n); the residual needs k == n.
  std::vector<std::array<int64_t, 3>> shapes = {{1, 1, 1}, {13, 257, 257}, {47, 64, 64}, {48, 96, 96},
                                                {200, 260, 260}, {150, 33, 33}};
  for (const Epilogue &ep : epilogues) {
    auto f = jit([&](const Tensor &x, const Tensor &w, const Tensor &b) { return ep.fn(matmul(x, w) + b, x); },
                 {.name = "linear"});
    for (auto [m, k, n] : shapes) {
      std::mt19937_64 rng(4200 + m);
      std::vector<double> x = asStored(uniform(rng, m * k, -1, 1), DType::f32);
      std::vector<double> w = asStored(uniform(rng, k * n, -1, 1), DType::f32);
      std::vector<double> b = asStored(uniform(rng, n, -1, 1), DType::f32);
      std::vector<double> h(m * n), absH(m * n), want(m * n), scale(m * n);
      R::matmul(x.data(), {m, k}, w.data(), {k, n}, h.data());
      std::vector<double> ax(x.size()), aw(w.size());
      for (size_t i = 0; i < x.size(); ++i) ax[i] = std::fabs(x[i]);
      for (size_t i = 0; i < w.size(); ++i) aw[i] = std::fabs(w[i]);
      R::matmul(ax.data(), {m, k}, aw.data(), {k, n}, absH.data());
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          int64_t at = i * n + j;
          double res = x[i * k + j % k];
          want[at] = ep.ref(h[at] + b[j], res);
          scale[at] = absH[at] + std::fabs(b[j]) + std::fabs(res);
        }
      std::string what = std::string("linear+") + ep.name + " " + std::to_string(m) + "x" + std::to_string(k) +
                         "x" + std::to_string(n);
      EXPECT_TRUE(matchF(what, f(makeF(x, {m, k}, DType::f32), makeF(w, {k, n}, DType::f32),
                                 makeF(b, {n}, DType::f32)),
                         DType::f32, {m, n}, want, Tol{1e-5, 1e-5}, 0, -1, nullptr, &scale));
    }
  }
  // Batched, and the product also returned (it then stays whole: no per-tile epilogue).
  auto g = jit([](const Tensor &x, const Tensor &w) {
    Tensor h = matmul(x, w);
    return std::make_tuple(h, h * 2.0 + 1.0);
  }, {.name = "batched"});
  std::mt19937_64 rng(77);
  Shape xs = {3, 50, 40}, ws = {3, 40, 70}, os = {3, 50, 70};
  std::vector<double> x = asStored(uniform(rng, R::numElements(xs), -1, 1), DType::f32);
  std::vector<double> w = asStored(uniform(rng, R::numElements(ws), -1, 1), DType::f32);
  std::vector<double> h(R::numElements(os)), h2(h.size());
  R::matmul(x.data(), xs, w.data(), ws, h.data());
  for (size_t i = 0; i < h.size(); ++i) h2[i] = h[i] * 2 + 1;
  auto [gh, gh2] = g(makeF(x, xs, DType::f32), makeF(w, ws, DType::f32));
  EXPECT_TRUE(matchF("batched product", gh, DType::f32, os, h, Tol{1e-5, 1e-5 * 40}));
  EXPECT_TRUE(matchF("batched product * 2 + 1", gh2, DType::f32, os, h2, Tol{1e-5, 1e-5 * 80}));
}

// An MLP whose two hidden products share one buffer after bufferization (equal shapes):
// each epilogue still runs per tile (lit: tile_matmuls_reused_buffer.mlir); the layers
// against the f64 reference, on the runtime's default worker count (with two or more the
// hidden layers, over 4 Mflop with n >= m, are split by columns).
TEST(Matmul, MlpLayersSharingABuffer) {
  const int64_t batch = 128, d0 = 256, d1 = 160, d2 = 160, d3 = 10;
  auto f = jit([](const Tensor &x, const Tensor &w1, const Tensor &b1, const Tensor &w2, const Tensor &b2,
                  const Tensor &w3, const Tensor &b3) {
    Tensor h = relu(matmul(x, w1) + b1);
    h = relu(matmul(h, w2) + b2);
    return matmul(h, w3) + b3;
  }, {.name = "mlp"});
  std::mt19937_64 rng(6100);
  auto make = [&](int64_t n) { return asStored(uniform(rng, n, -1, 1), DType::f32); };
  std::vector<double> x = make(batch * d0), w1 = make(d0 * d1), b1 = make(d1), w2 = make(d1 * d2), b2 = make(d2),
                      w3 = make(d2 * d3), b3 = make(d3);
  // The reference layer by layer; the absolute tolerance scales with sum_k |a b| of each.
  auto layer = [](const std::vector<double> &in, int64_t rows, int64_t k, const std::vector<double> &w,
                  const std::vector<double> &b, int64_t n, bool relu, std::vector<double> &scale) {
    std::vector<double> out(rows * n), absIn(in.size()), absW(w.size());
    R::matmul(in.data(), {rows, k}, w.data(), {k, n}, out.data());
    for (size_t i = 0; i < in.size(); ++i) absIn[i] = std::fabs(in[i]);
    for (size_t i = 0; i < w.size(); ++i) absW[i] = std::fabs(w[i]);
    scale.assign(rows * n, 0);
    R::matmul(absIn.data(), {rows, k}, absW.data(), {k, n}, scale.data());
    for (int64_t i = 0; i < rows * n; ++i) {
      out[i] += b[i % n];
      scale[i] += std::fabs(b[i % n]);
      if (relu) out[i] = std::max(out[i], 0.0);
    }
    return out;
  };
  std::vector<double> s1, s2, s3;
  std::vector<double> h1 = layer(x, batch, d0, w1, b1, d1, true, s1);
  std::vector<double> h2 = layer(h1, batch, d1, w2, b2, d2, true, s2);
  std::vector<double> y = layer(h2, batch, d2, w3, b3, d3, false, s3);
  // Errors of the hidden layers pass on through |w|: bound them by the last layer's
  // scale times the depth.
  for (double &v : s3) v *= 3;
  EXPECT_TRUE(matchF("mlp 128x256-160-160-10", f(makeF(x, {batch, d0}, DType::f32), makeF(w1, {d0, d1}, DType::f32),
                                             makeF(b1, {d1}, DType::f32), makeF(w2, {d1, d2}, DType::f32),
                                             makeF(b2, {d2}, DType::f32), makeF(w3, {d2, d3}, DType::f32),
                                             makeF(b3, {d3}, DType::f32)),
                     DType::f32, {batch, d3}, y, Tol{1e-5, 1e-5}, 0, -1, nullptr, &s3));
}

// Weights captured with ajit::constant: ajit-tile-matmuls packs them at compile time
// (no pack per call). Panel tails (n = 70, 33), two k blocks (k = 600), B read in place
// (4 rows), a batch of constant weights, and f64 (plain loops, not packed), each against
// the f64 reference with the tolerance of FusedEpilogues.
TEST(Matmul, ConstantWeights) {
  struct Case {
    Shape xs, ws;
    DType dt;
  };
  // 100x300 . 300x200: parallel on two or more workers, split by columns (n >= m), so the
  // workers read the constant panels from their own offsets.
  std::vector<Case> cases = {{{200, 600}, {600, 70}, DType::f32}, {{64, 33}, {33, 33}, DType::f32},
                             {{100, 300}, {300, 200}, DType::f32},
                             {{4, 50}, {50, 40}, DType::f32},     {{3, 50, 40}, {3, 40, 70}, DType::f32},
                             {{20, 30}, {30, 40}, DType::f64}};
  for (const Case &c : cases) {
    std::mt19937_64 rng(5100 + c.xs[0]);
    std::vector<double> x = asStored(uniform(rng, R::numElements(c.xs), -1, 1), c.dt);
    std::vector<double> w = asStored(uniform(rng, R::numElements(c.ws), -1, 1), c.dt);
    Array weights = makeF(w, c.ws, c.dt);
    auto f = jit([&](const Tensor &in) { return gelu(matmul(in, constant(weights)) + 0.25, true); },
                 {.name = "frozen_linear"});
    Shape os = R::matmulShape(c.xs, c.ws);
    int64_t k = c.ws[c.ws.size() - 2];
    std::vector<double> h(R::numElements(os)), want(h.size()), scale(h.size());
    R::matmul(x.data(), c.xs, w.data(), c.ws, h.data());
    std::vector<double> ax(x.size()), aw(w.size()), absH(h.size());
    for (size_t i = 0; i < x.size(); ++i) ax[i] = std::fabs(x[i]);
    for (size_t i = 0; i < w.size(); ++i) aw[i] = std::fabs(w[i]);
    R::matmul(ax.data(), c.xs, aw.data(), c.ws, absH.data());
    for (size_t i = 0; i < h.size(); ++i) {
      want[i] = R::unary(R::Unary::geluTanh, h[i] + 0.25);
      scale[i] = absH[i] + 0.25;
    }
    double u = c.dt == DType::f32 ? 1e-5 : 1e-12;
    std::string what = std::string("constant weights ") + dtypeName(c.dt) + " " + shapeStr(c.xs) + " x " +
                       shapeStr(c.ws) + " k=" + std::to_string(k);
    EXPECT_TRUE(matchF(what, f(makeF(x, c.xs, c.dt)), c.dt, os, want, Tol{u, u}, 0, -1, nullptr, &scale));
  }
}

//===----------------------------------------------------------------------===//
// softmax, logSoftmax
//===----------------------------------------------------------------------===//

// softmax = exp(x - max) / sum exp(x - max); logSoftmax = (x - max) - log(sum exp(x - max)).
// x - max is rounded in the tensor's dtype, so exp's argument carries an error of up to
// ulp(|x - max|) / 2 (~|logSoftmax| * u), which exp turns into a relative error:
//   softmax:    |err| <= c * |want| * (4 + |logSoftmax|) (+ FLT_MIN / DBL_MIN for results
//               that flush to 0), c = 2^-23 in f32 (measured 0.45 * 2^-23), 2^-52 in f64;
//   logSoftmax: |err| <= c * (1 + |want|), c = 2^-22 in f32 (measured 0.97 * 2^-23),
//               2^-51 in f64 (measured 2^-52).
// Rows with -inf entries (masking) are fine; an all -inf row, a +inf or a NaN gives NaN
// (as the reference formula does).
Tol softmaxTol(DType dt) { return dt == DType::f32 ? Tol{0, 2 * kU32, FLT_MIN} : Tol{0, 2 * kU64, DBL_MIN}; }
Tol logSoftmaxTol(DType dt) { return dt == DType::f32 ? Tol{0, 4 * kU32} : Tol{0, 4 * kU64}; }

TEST(Softmax, SoftmaxAndLogSoftmax) {
  auto f = jit([](const Tensor &x, int64_t axis) { return std::make_tuple(softmax(x, axis), logSoftmax(x, axis)); },
               {.name = "softmax"});
  std::vector<std::pair<Shape, int64_t>> cases = {{{4, 7}, -1}, {{4, 7}, 0}, {{2, 3, 5}, 1}, {{2, 1000}, -1}, {{9}, 0}};
  for (DType dt : kFloatTypes) {
    for (auto [xs, axis] : cases) {
      std::mt19937_64 rng(9400);
      std::vector<double> x = asStored(uniform(rng, R::numElements(xs), -20, 20), dt);
      auto [sm, lsm] = f(makeF(x, xs, dt), axis);
      std::vector<double> want(x.size()), wantLog(x.size()), scale(x.size()), smScale(x.size());
      R::softmax(x.data(), xs, axis, want.data());
      R::logSoftmax(x.data(), xs, axis, wantLog.data());
      for (size_t i = 0; i < x.size(); ++i) {
        scale[i] = 1 + std::fabs(wantLog[i]);
        smScale[i] = want[i] == 0 ? 0 : std::fabs(want[i]) * (4 + std::fabs(wantLog[i]));
      }
      std::string what = std::string(dtypeName(dt)) + " " + shapeStr(xs) + " axis " + std::to_string(axis);
      EXPECT_TRUE(matchF("softmax " + what, sm, dt, xs, want, softmaxTol(dt), 0, -1, nullptr, &smScale));
      EXPECT_TRUE(matchF("logSoftmax " + what, lsm, dt, xs, wantLog, logSoftmaxTol(dt), 0, -1, nullptr, &scale));
    }
    std::vector<double> rows = {
        -kInf, 0,     1,     -kInf, // masked entries
        -kInf, -kInf, -kInf, -kInf, // all masked: NaN
        1e30,  -1e30, 0,     1e30,  // large: no overflow
        kNaN,  1,     2,     3,     // NaN: NaN
        kInf,  1,     2,     3,     // +inf: NaN (inf - inf)
        0,     0,     0,     0,     // uniform
    };
    rows = asStored(rows, dt);
    auto [sm, lsm] = f(makeF(rows, {6, 4}, dt), -1);
    std::vector<double> want(rows.size()), wantLog(rows.size()), scale(rows.size()), smScale(rows.size());
    R::softmax(rows.data(), {6, 4}, -1, want.data());
    R::logSoftmax(rows.data(), {6, 4}, -1, wantLog.data());
    for (size_t i = 0; i < rows.size(); ++i) {
      scale[i] = 1 + std::fabs(wantLog[i]);
      smScale[i] = want[i] == 0 ? 0 : std::fabs(want[i]) * (4 + std::fabs(wantLog[i]));
    }
    EXPECT_TRUE(matchF(std::string("softmax specials ") + dtypeName(dt), sm, dt, {6, 4}, want, softmaxTol(dt), 0, -1,
                       nullptr, &smScale));
    EXPECT_TRUE(matchF(std::string("logSoftmax specials ") + dtypeName(dt), lsm, dt, {6, 4}, wantLog,
                       logSoftmaxTol(dt), 0, -1, nullptr, &scale));
  }

  // Long rows: rows over 1 MiB take one-pass (online) statistics, along the innermost
  // axis in vector lanes (a lone row split into chunks), along another axis as two
  // reductions; shorter rows the three cache-resident passes, whose exp-and-sum pass a
  // lone long row (131072, 2 x 100000) splits into parallel chunks that write their
  // slices of the exp values (ajit-split-reductions). Rising rows rescale the
  // running sum at every element; special values sit in the tail, a later chunk, or the
  // first vector.
  auto check = [&](const std::string &name, DType dt, const std::vector<double> &x, const Shape &xs) {
    int64_t axis = xs.size() == 2 && xs[1] == 2 ? 0 : -1;
    auto [sm, lsm] = f(makeF(x, xs, dt), axis);
    std::vector<double> want(x.size()), wantLog(x.size()), scale(x.size()), smScale(x.size());
    R::softmax(x.data(), xs, axis, want.data());
    R::logSoftmax(x.data(), xs, axis, wantLog.data());
    // Known limitation: a sum along an outer axis accumulates sequentially, so its error
    // grows with the axis (270001 f32 terms: 3.7e-6 relative, 1.2x the per-element
    // bound); innermost-axis sums are split into lanes and chunks and stay within it.
    double outerAxisSum = axis == 0 ? 4 : 1;
    for (size_t i = 0; i < x.size(); ++i) {
      scale[i] = outerAxisSum * (1 + std::fabs(wantLog[i]));
      smScale[i] = want[i] == 0 ? 0 : outerAxisSum * std::fabs(want[i]) * (4 + std::fabs(wantLog[i]));
    }
    std::string what = name + " " + dtypeName(dt) + " " + shapeStr(xs);
    EXPECT_TRUE(matchF("softmax " + what, sm, dt, xs, want, softmaxTol(dt), 0, -1, nullptr, &smScale));
    EXPECT_TRUE(matchF("logSoftmax " + what, lsm, dt, xs, wantLog, logSoftmaxTol(dt), 0, -1, nullptr, &scale));
  };
  for (DType dt : kFloatTypes) {
    for (Shape xs : {Shape{3, 1000}, Shape{10007}, Shape{131072}, Shape{2, 100000}, Shape{300001}, Shape{2, 270001},
                     Shape{270001, 2}}) {
      int64_t n = R::numElements(xs);
      std::mt19937_64 rng(9500 + n);
      std::vector<double> x = asStored(uniform(rng, n, -20, 20), dt);
      check("long", dt, x, xs);
      std::vector<double> rising(n);
      for (int64_t i = 0; i < n; ++i) rising[i] = static_cast<double>(i % 4099) / 64;
      check("long rising", dt, asStored(rising, dt), xs);
      for (int64_t at : {n - 1, n / 2 + 7, int64_t{3}}) {
        std::vector<double> masked = x;
        masked[at] = -kInf;
        masked[at / 2] = -kInf;
        check("long -inf at " + std::to_string(at), dt, masked, xs);
        std::vector<double> withNan = x;
        withNan[at] = kNaN;
        check("long NaN at " + std::to_string(at), dt, withNan, xs);
        std::vector<double> withInf = x;
        withInf[at] = kInf;
        check("long +inf at " + std::to_string(at), dt, withInf, xs);
      }
      std::vector<double> mostlyMasked(n, -kInf);
      mostlyMasked[n - 1] = 2;
      mostlyMasked[n / 3] = 1;
      check("long mostly -inf", dt, mostlyMasked, xs);
      check("long all -inf", dt, std::vector<double>(n, -kInf), xs);
    }
  }
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

// full / fullLike / constant in every dtype, used as results and as operands; exact.
TEST(Constants, FullFullLikeConstant) {
  auto f = jit([](const Tensor &x, double v) {
    DType dt = x.dtype();
    return std::vector<Tensor>{full({}, v, dt), full({3}, v, dt), full({0, 2}, v, dt), full({2, 3}, v, dt) + x,
                               fullLike(x, v)};
  }, {.name = "full"});
  std::vector<std::pair<DType, std::vector<double>>> values = {
      {DType::f32, {1.5, -0.0, kNaN, kInf, -kInf, 1e-40, 3.4e38, 0.1}},
      {DType::f64, {1e-310, 0.1, -0.0, kNaN, -kInf, DBL_MAX}},
      {DType::i32, {-2147483648.0, 2147483647.0, 0, -5}},
      {DType::i64, {-9007199254740992.0, 9007199254740992.0, -9223372036854775808.0, 7}},
      {DType::boolean, {0, 1}}};
  for (auto &[dt, vs] : values) {
    for (double v : vs) {
      std::mt19937_64 rng(9500);
      HostData d = randomData(rng, {2, 3}, dt);
      if (dt == DType::boolean) d.i.assign(6, 0); // bool + : or
      std::vector<Array> out = f(toArray(d, {2, 3}, dt), v);
      ASSERT_EQ(out.size(), 5u);
      double stored = isFloat(dt) ? asStored({v}, dt)[0] : v;
      std::string what = std::string("full ") + dtypeName(dt) + " " + num(v);
      for (int k : {0, 1, 2, 4}) {
        Shape s = k == 0 ? Shape{} : k == 1 ? Shape{3} : k == 2 ? Shape{0, 2} : Shape{2, 3};
        int64_t n = R::numElements(s);
        EXPECT_TRUE(matchAny(what + " " + shapeStr(s), out[k], dt, s, std::vector<double>(n, stored),
                             std::vector<int64_t>(n, static_cast<int64_t>(v))));
      }
      std::vector<double> wantF(6);
      std::vector<int64_t> wantI(6);
      for (int i = 0; i < 6; ++i) {
        if (isFloat(dt)) wantF[i] = R::binary(R::Binary::add, stored, d.f[i]);
        else wantI[i] = R::binaryInt(R::Binary::add, static_cast<int64_t>(v), d.i[i], intBits(dt));
      }
      if (dt == DType::f32) for (double &w : wantF) w = R::roundToF32(w);
      EXPECT_TRUE(matchAny(what + " + x", out[3], dt, {2, 3}, wantF, wantI));
    }
  }
  // constant(Array) of every dtype, as a result and in arithmetic with a parameter.
  for (DType dt : kAllTypes) {
    std::mt19937_64 rng(9600);
    HostData c = randomData(rng, {4, 3}, dt);
    if (isFloat(dt)) {
      std::vector<double> e = floatEdges(dt);
      for (int i = 0; i < 12; ++i) c.f[i] = e[(i * 5) % e.size()];
      c.f = asStored(c.f, dt);
    }
    Array value = toArray(c, {4, 3}, dt);
    auto g = jit([value](const Tensor &x) { return std::make_tuple(constant(value), maximum(constant(value), x)); },
                 {.name = "constant"});
    HostData x = randomData(rng, {4, 3}, dt);
    auto [k, m] = g(toArray(x, {4, 3}, dt));
    std::vector<double> wantF(12);
    std::vector<int64_t> wantI(12);
    for (int i = 0; i < 12; ++i) {
      if (isFloat(dt)) wantF[i] = R::maximum(c.f[i], x.f[i]);
      else wantI[i] = R::binaryInt(R::Binary::max, c.i[i], x.i[i], intBits(dt));
    }
    EXPECT_TRUE(matchAny(std::string("constant ") + dtypeName(dt), k, dt, {4, 3}, c.f, c.i));
    EXPECT_TRUE(matchAny(std::string("maximum(constant, x) ") + dtypeName(dt), m, dt, {4, 3}, wantF, wantI));
  }
  // Scalars an integer dtype cannot hold are rejected at trace time.
  auto bad = jit([](const Tensor &x, double v) { return x + v; }, {.name = "bad_scalar"});
  EXPECT_THROW(bad(makeI({1, 2}, {2}, DType::i32), 2.5), Error);
  EXPECT_THROW(bad(makeI({1, 2}, {2}, DType::i32), 4294967296.0), Error);
}

//===----------------------------------------------------------------------===//
// Zero-size tensors (leading zero dimension; others: Regression.ZeroSizeInnerDimension)
//===----------------------------------------------------------------------===//

// Every kind of op on [0,4] operands produces the right (empty) shape and dtype, and a
// reduction over the non-empty axis gives an empty result.
TEST(ZeroSize, LeadingDimension) {
  auto f = jit([](const Tensor &x, const Tensor &y) {
    std::vector<Tensor> r = {x + y, x < y, where(x < y, x, y), clamp(x, -1.0, 1.0), astype(x, DType::i32),
                             astype(x, DType::boolean), sum(x, {1}), ajit::max(x, {1}, true), argmax(x, 1),
                             transpose(reshape(x, {0, 2, 2}), {0, 2, 1}), broadcastTo(reshape(x, {0, 1, 4}), {0, 3, 4}),
                             x * 2.0};
    if (isFloat(x.dtype())) {
      r.push_back(softmax(x)), r.push_back(logSoftmax(x)), r.push_back(ajit::exp(x));
      r.push_back(matmul(x, full({4, 3}, 1.0, x.dtype())));
    }
    return r;
  }, {.name = "zero_leading"});
  for (DType dt : {DType::f32, DType::f64, DType::i64}) {
    std::vector<Array> out = f(Array::zeros({0, 4}, dt), Array::zeros({0, 4}, dt));
    std::vector<std::pair<Shape, DType>> want = {
        {{0, 4}, dt}, {{0, 4}, DType::boolean}, {{0, 4}, dt}, {{0, 4}, dt}, {{0, 4}, DType::i32},
        {{0, 4}, DType::boolean}, {{0}, dt}, {{0, 1}, dt}, {{0}, DType::i64}, {{0, 2, 2}, dt}, {{0, 3, 4}, dt}, {{0, 4}, dt}};
    if (isFloat(dt)) want.insert(want.end(), {{{0, 4}, dt}, {{0, 4}, dt}, {{0, 4}, dt}, {{0, 3}, dt}});
    ASSERT_EQ(out.size(), want.size()) << dtypeName(dt);
    for (size_t k = 0; k < out.size(); ++k) {
      EXPECT_EQ(out[k].shape(), want[k].first) << dtypeName(dt) << " result " << k;
      EXPECT_EQ(out[k].dtype(), want[k].second) << dtypeName(dt) << " result " << k;
    }
  }
}

//===----------------------------------------------------------------------===//
// Regressions: each of these was a bug found by this suite and fixed; the comment above
// each test says what used to go wrong.
//===----------------------------------------------------------------------===//

// A zero in any dimension but the first makes compilation fail ("translation to LLVM IR
// failed ... missing LLVMTranslationDialectInterface registration ... for op: func.func"),
// e.g. exp on f32[3,0], x + x on f32[0,0], sum over axis 1 of f32[3,0], matmul
// f32[3,0] x f32[0,4], transpose of f32[0,3], broadcastTo f32[2,1] -> [2,0].
TEST(Regression, ZeroSizeInnerDimension) {
  auto f = jit([](const Tensor &x, int op) {
    switch (op) {
    case 0: return ajit::exp(x);
    case 1: return x + x;
    case 2: return sum(x, {1});
    case 3: return transpose(x);
    default: return broadcastTo(reshape(x, {-1, 1}), {x.size(), 0});
    }
  }, {.name = "zero_inner"});
  for (Shape s : {Shape{3, 0}, Shape{0, 0}, Shape{2, 0, 2}, Shape{0, 3}}) {
    for (int op = 0; op < 5; ++op) {
      if (op == 4 && s != Shape{0, 3}) continue;
      std::string what = "op " + std::to_string(op) + " on f32" + shapeStr(s);
      try {
        Array out = f(Array::zeros(s, DType::f32), op);
        Shape reduced = s;
        reduced.erase(reduced.begin() + 1); // sum over axis 1
        if (op == 2) EXPECT_TRUE(matchF(what, out, DType::f32, reduced, std::vector<double>(R::numElements(reduced), 0.0), kExact));
        else EXPECT_EQ(out.size(), 0) << what;
      } catch (const Error &e) {
        ADD_FAILURE() << what << ": " << e.what();
      }
    }
  }
  auto mm = jit([](const Tensor &a, const Tensor &b) { return matmul(a, b); }, {.name = "zero_inner_matmul"});
  for (auto [as, bs] : {std::pair{Shape{3, 0}, Shape{0, 4}}, {Shape{0}, Shape{0}}, {Shape{2, 3, 0}, Shape{0, 5}}}) {
    std::string what = "matmul f32" + shapeStr(as) + " x f32" + shapeStr(bs);
    try {
      Shape os = R::matmulShape(as, bs);
      EXPECT_TRUE(matchF(what, mm(Array::zeros(as, DType::f32), Array::zeros(bs, DType::f32)), DType::f32, os,
                         std::vector<double>(R::numElements(os), 0.0), kExact)); // sum of nothing: exactly 0
    } catch (const Error &e) {
      ADD_FAILURE() << what << ": " << e.what();
    }
  }
}

// Returning one value twice (`return {a, a}`), or two expressions that CSE merges (x * 2
// and 2 * x), crashes the compiler with SIGSEGV in buffer-results-to-out-params.
TEST(Regression, SameValueReturnedTwice) {
  int status = runInChild([] {
    auto f = jit([](const Tensor &x) {
      Tensor a = x + x;
      return std::make_tuple(a, a);
    }, {.name = "twice"});
    auto [a, b] = f(makeF({1, 2, 3}, {3}, DType::f32));
    if (a.data<float>()[2] != 6 || b.data<float>()[2] != 6) _exit(3);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << statusText(status);
}

// A jitted function with static storage duration used to crash the process at exit (its
// executables outlived the ORC session): tests/unit/StaticJitExit.cpp checks that, in a
// process of its own.

// f32 log clamps its input to FLT_MIN first, so every subnormal input gives
// log(FLT_MIN) = -87.336: log(1e-40) should be -92.103, log(1.4e-45) -103.279. (pow on
// subnormal x inherits it.) Tolerance as for normal inputs: rel 2.4e-7 + abs 1.2e-7.
TEST(Regression, LogF32Subnormal) {
  std::vector<double> x = asStored({1e-40, 1e-39, FLT_TRUE_MIN, 5e-44, FLT_MIN * 0.5}, DType::f32);
  Shape shape{static_cast<int64_t>(x.size())};
  std::vector<double> want(x.size());
  R::unary(R::Unary::log, x.data(), want.data(), shape[0]);
  EXPECT_TRUE(matchF("log f32 subnormal", unaryFn()(makeF(x, shape, DType::f32), R::Unary::log), DType::f32, shape,
                     want, Tol{2.4e-7, 1.2e-7}, 0, -1, [&](int64_t i) { return "x=" + num(x[i]); }));
}

// f32 sin of a negative x near 0 is wrong: the range reduction uses floor(x * 2/pi), so a
// tiny negative x is reduced to x + pi/2 and pi/2's f32 rounding error (4.4e-8) remains:
// sin(-1e-8) = +6.23e-8, sin(-1e-30) = +6.23e-8, sin(-1e-6) = -9.0e-7, sin(-1e-4) has rel
// error 5.9e-4; sin(-0) = +0. Positive x is fine (rel 1.2e-7). Tolerance: rel 1.2e-7 and
// the sign of zero.
TEST(Regression, SinF32NegativeNearZero) {
  std::mt19937_64 rng(11000);
  std::vector<double> x = logUniform(rng, 200, -40, -2, false);
  for (double &v : x) v = -v;
  x.push_back(-0.0), x.push_back(-FLT_TRUE_MIN), x.push_back(-1e-8);
  x = asStored(x, DType::f32);
  Shape shape{static_cast<int64_t>(x.size())};
  std::vector<double> want(x.size());
  R::unary(R::Unary::sin, x.data(), want.data(), shape[0]);
  Array out = unaryFn()(makeF(x, shape, DType::f32), R::Unary::sin);
  EXPECT_TRUE(matchF("sin f32 negative near 0", out, DType::f32, shape, want, Tol{1.2e-7}, 0, shape[0] - 3,
                     [&](int64_t i) { return "x=" + num(x[i]); }));
  EXPECT_TRUE(matchF("sin f32 -0, -tiny, -1e-8 (exact)", out, DType::f32, shape, want, kExact, shape[0] - 3, -1,
                     [&](int64_t i) { return "x=" + num(x[i]); }));
}

// f32 sin and cos of huge finite arguments return +-inf instead of a value in [-1, 1]:
// sin(1e30f) = -inf, sin(-1e30f) = +inf, cos(FLT_MAX) = -inf. (Accuracy is not expected
// there, only a value in [-1, 1]: abs tolerance 2.)
TEST(Regression, SinCosF32HugeArguments) {
  std::vector<double> x = asStored({1e6, 1e10, 1e20, 1e30, -1e30, FLT_MAX, -FLT_MAX, 3e38}, DType::f32);
  Shape shape{static_cast<int64_t>(x.size())};
  for (R::Unary op : {R::Unary::sin, R::Unary::cos}) {
    std::vector<double> want(x.size());
    R::unary(op, x.data(), want.data(), shape[0]);
    EXPECT_TRUE(matchF(std::string(unaryName(op)) + " f32 huge |x| (range only)", unaryFn()(makeF(x, shape, DType::f32), op),
                       DType::f32, shape, want, Tol{0, 2}, 0, -1, [&](int64_t i) { return "x=" + num(x[i]); }));
  }
}

// pow(x, y) with a tensor exponent (and pow(x, p) for p other than 0, +-0.5, +-1, +-2, 3)
// is exp(y * log(x)) with no special cases, unlike C's pow: a negative base gives NaN even
// for integer y (pow(-2, 3) = NaN, want -8; pow(-2, 2) = NaN, want 4); pow(0, 0) and
// pow(NaN, 0) are NaN (want 1); pow(1, NaN) and pow(1, inf) are NaN (want 1); pow(-0, -1)
// is +inf (want -inf); pow(FLT_MAX, 1) overflows to inf. Tolerance as in
// BinaryFloat/pow (2^-22 / 2^-51 * |want| * (2 + |y ln x|)) plus FLT_MIN / DBL_MIN for
// results that flush; inf and NaN exactly.
TEST(Regression, PowSpecialCases) {
  auto scalarPow = jit([](const Tensor &x, double p) { return ajit::pow(x, p); }, {.name = "pow_scalar_bug"});
  for (DType dt : kFloatTypes) {
    std::vector<double> x, y;
    crossProduct(asStored(floatEdges(dt), dt), x, y);
    for (size_t i = x.size(); i-- > 0;)
      if (isOrdinaryPowCase(x[i], y[i], dt)) x.erase(x.begin() + i), y.erase(y.begin() + i);
    std::mt19937_64 rng(11100);
    std::vector<double> nx = uniform(rng, 100, -10, -0.1), ny = uniform(rng, 100, -6, 6);
    for (double &v : ny) v = std::round(v);
    x.insert(x.end(), nx.begin(), nx.end());
    y.insert(y.end(), ny.begin(), ny.end());
    x = asStored(x, dt), y = asStored(y, dt);
    Shape shape{static_cast<int64_t>(x.size())};
    std::vector<double> want(x.size());
    R::binary(R::Binary::pow, x.data(), shape, y.data(), shape, want.data());
    std::vector<double> scale = powScale(x, y, want);
    Tol tol{0, dt == DType::f32 ? 4 * kU32 : 4 * kU64, dt == DType::f32 ? FLT_MIN : DBL_MIN};
    EXPECT_TRUE(matchF(std::string("pow special cases ") + dtypeName(dt), binaryFn()(makeF(x, shape, dt), makeF(y, shape, dt),
                                                                                     R::Binary::pow),
                       dt, shape, want, tol, 0, -1, [&](int64_t i) { return "x=" + num(x[i]) + " y=" + num(y[i]); }, &scale));
    // Scalar exponents through the same expansion: pow(-2, 4) = NaN, want 16.
    std::vector<double> xn = asStored({-2, -0.5, -3}, dt);
    std::vector<double> want4 = {16, 0.0625, 81};
    EXPECT_TRUE(matchF(std::string("pow(negative x, 4) ") + dtypeName(dt), scalarPow(makeF(xn, {3}, dt), 4.0), dt, {3},
                       want4, kExact));
  }
}

// Integer pow with base 0 and a negative exponent: MLIR's ipowi lowering computes 1 / 0
// there, which is undefined behaviour in LLVM IR. Expected 0 (as x / 0 = 0); checked in a
// child process in case it traps.
TEST(Regression, IntPowZeroNegativeExponent) {
  for (DType dt : kIntTypes) {
    int status = runInChild([dt] {
      std::vector<int64_t> x = {0, 0, 0, 2, -2, 1}, y = {-1, -2, -3, -1, -1, -7};
      Array out = binaryFn()(makeI(x, {6}, dt), makeI(y, {6}, dt), R::Binary::pow);
      std::vector<int64_t> want(6);
      R::binaryInt(R::Binary::pow, x.data(), {6}, y.data(), {6}, want.data(), intBits(dt));
      testing::AssertionResult r = matchI(std::string("pow(0, negative) ") + dtypeName(dt), out, dt, {6}, want,
                                          [&](int64_t i) { return "x=" + std::to_string(x[i]) + " y=" + std::to_string(y[i]); });
      if (!r) std::fprintf(stderr, "%s\n", r.message());
      _exit(r ? 0 : 3);
    });
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << dtypeName(dt) << ": " << statusText(status);
  }
}

// A scalar of 2^63 (9223372036854775807.0 as a double) for an i64 tensor passes the
// range check (hi = 2^63 after rounding) and is then converted with undefined behaviour:
// full({2}, 9223372036854775807.0, i64) holds INT64_MIN. Expected: INT64_MAX (saturated)
// or ajit::Error.
TEST(Regression, I64ScalarTwoToThe63) {
  auto f = jit([](const Tensor &x, double v) { return std::make_tuple(full({2}, v, DType::i64), x + v); },
               {.name = "i64_scalar"});
  try {
    auto [c, s] = f(makeI({0, -1}, {2}, DType::i64), 9223372036854775807.0);
    EXPECT_TRUE(matchI("full i64 2^63", c, DType::i64, {2}, {INT64_MAX, INT64_MAX}));
    EXPECT_TRUE(matchI("x + 2^63", s, DType::i64, {2}, {INT64_MAX, INT64_MAX - 1}));
  } catch (const Error &) {
    SUCCEED(); // rejecting the scalar is fine too
  }
}

// Found by the differential fuzzer (seed 1, program 102): a reduction over no axes was
// lowered as an all-parallel generic reading its zero-filled init; elementwise fusion
// moved it into a broadcasting consumer, which accumulated across its own loop:
// min(y, mean(m, axes={}, keepdims)) gave [m, 2m, 3m] for y = [m, m, m].
TEST(Regression, ReduceOverNoAxesIsIdentity) {
  for (R::Reduce kind : {R::Reduce::sum, R::Reduce::mean, R::Reduce::max, R::Reduce::min}) {
    auto f = jit([kind](const Tensor &x, const Tensor &y) {
      Tensor m = ajit::min(x, std::vector<int64_t>{0}, false);
      Tensor r = kind == R::Reduce::sum    ? sum(m, {}, true)
                 : kind == R::Reduce::mean ? mean(m, {}, true)
                 : kind == R::Reduce::max  ? ajit::max(m, std::vector<int64_t>{}, true)
                                           : ajit::min(m, std::vector<int64_t>{}, true);
      return minimum(y, r);
    }, {.name = "reduce_no_axes"});
    Array out = f(makeF({-0.5, -2.25, 1.5}, {3}, DType::f32), makeF({-2.25, -2.25, -2.25}, {3}, DType::f32));
    EXPECT_TRUE(matchF("reduce over no axes", out, DType::f32, {3}, {-2.25, -2.25, -2.25}, kExact));
  }
}

// Found by the differential fuzzer (seed 1, program 224): a batch of 1 broadcast against a
// batch of 0 gave a batch of 1 (std::max) in the frontend and in the reference.
TEST(Regression, MatmulBatchOneAgainstBatchZero) {
  auto f = jit([](const Tensor &a, const Tensor &b) { return matmul(a, b); }, {.name = "matmul_batch0"});
  Array out = f(makeF({}, {0, 2, 3}, DType::f32), makeF({1, 2, 3, 4, 5, 6}, {1, 3, 2}, DType::f32));
  EXPECT_EQ(out.shape(), (Shape{0, 2, 2}));
  EXPECT_EQ(R::matmulShape({1, 2, 3}, {0, 3, 2}), (Shape{0, 2, 2}));
}

// Found by the differential fuzzer (seed 1, program 347, in a batch): upstream
// convert-math-to-funcs keeps the functions it generated across runs, so the second module
// with an integer pow compiled by a thread's cached pass manager called a function of the
// first, destroyed module (segfault). Runs in a child: the failure mode is a crash.
TEST(Regression, IntPowInTwoModulesOnOneThread) {
  int status = runInChild([] {
    for (DType dt : {DType::i32, DType::i64, DType::i32}) {
      auto f = jit([](const Tensor &x) { return pow(x, x + 1); }, {.name = "ipow"});
      Array out = f(makeI({2, 3, -1}, {3}, dt));
      std::vector<int64_t> got(3);
      for (int i = 0; i < 3; ++i)
        got[i] = dt == DType::i32 ? out.data<int32_t>()[i] : out.data<int64_t>()[i];
      if (got != std::vector<int64_t>{8, 81, 1}) _exit(3);
    }
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << statusText(status);
}

// Found by the differential fuzzer (seed 7, program 526): exp of a NaN that LLVM can see
// as a constant (here pow(-2, 1.5) of folded constants) went through upstream's exp
// expansion, whose fptosi of NaN is poison; LLVM deleted the result's store and the
// caller read whatever the buffer held. Each variant below reaches exp differently.
TEST(Regression, ExpOfFoldedNanIsNan) {
  auto f = jit([](const Tensor &x, int variant) {
    Tensor i = clamp(full({}, 5.0, DType::i64), -3, -2);
    Tensor nan = pow(astype(i, DType::f32), 1.5);
    Tensor r = variant == 0 ? sigmoid(nan) : variant == 1 ? ajit::exp(nan) : gelu(nan, /*approximate=*/false);
    return std::make_tuple(i, r);
  }, {.name = "folded_nan"});
  for (int variant = 0; variant < 3; ++variant) {
    auto [i, r] = f(makeF({1, 2, 3}, {3}, DType::f32), variant);
    EXPECT_EQ(i.data<int64_t>()[0], -2);
    EXPECT_TRUE(std::isnan(r.data<float>()[0])) << "variant " << variant << ": " << r.data<float>()[0];
  }
}
