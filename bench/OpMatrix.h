//===- OpMatrix.h - W2's op matrix, shared by the CPU and GPU benches -*- C++ -*-===//
//
// The ops of WORKLOADS.md's W2 (bench/peers.py writes the same formulas for the peers)
// and the inputs they run on.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_BENCH_OPMATRIX_H
#define AJIT_BENCH_OPMATRIX_H

#include "frontend/ajit.h"

#include <cmath>
#include <utility>
#include <vector>

namespace ajit::bench {

/// A sawtooth in [-scale, scale): every value differs from its neighbours, no RNG.
inline Array ramp(Shape shape, float scale, float offset = 0) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = std::fmod(0.37f * static_cast<float>(i) + offset, 2 * scale) - scale;
  return Array::from(v, shape);
}

using Unary = Tensor (*)(const Tensor &);
using Binary = Tensor (*)(const Tensor &, const Tensor &);
using Ternary = Tensor (*)(const Tensor &, const Tensor &, const Tensor &);

inline Tensor gelu_(const Tensor &a) { return gelu(a, true); }
inline Tensor swish(const Tensor &a) { return a * sigmoid(a); }
inline Tensor softmax_(const Tensor &a) { return softmax(a); }
inline Tensor logSoftmax_(const Tensor &a) { return logSoftmax(a); }

inline const std::vector<std::pair<const char *, Unary>> kUnary = {
    {"scale", [](const Tensor &a) { return a * 2.5; }},
    {"abs", [](const Tensor &a) { return abs(a); }},
    {"clamp", [](const Tensor &a) { return clamp(a, -1.0, 1.0); }},
    {"sum", [](const Tensor &a) { return sum(a); }},
    {"max", [](const Tensor &a) { return max(a); }},
    {"min", [](const Tensor &a) { return min(a); }},
    {"argmax", [](const Tensor &a) { return argmax(a); }},
    {"argmin", [](const Tensor &a) { return argmin(a); }},
    {"norm_l1", [](const Tensor &a) { return sum(abs(a)); }},
    {"norm_l2", [](const Tensor &a) { return sqrt(sum(a * a)); }},
    {"norm_linf", [](const Tensor &a) { return max(abs(a)); }},
    {"relu", [](const Tensor &a) { return relu(a); }},
    {"sigmoid", [](const Tensor &a) { return sigmoid(a); }},
    {"tanh", [](const Tensor &a) { return tanh(a); }},
    {"exp", [](const Tensor &a) { return exp(a); }},
    {"gelu", gelu_},
    {"swish", swish},
    {"softmax", softmax_},
    {"log_softmax", logSoftmax_},
};
inline const std::vector<std::pair<const char *, Binary>> kBinary = {
    {"add", [](const Tensor &a, const Tensor &b) { return a + b; }},
    {"sub", [](const Tensor &a, const Tensor &b) { return a - b; }},
    {"mul", [](const Tensor &a, const Tensor &b) { return a * b; }},
    {"div", [](const Tensor &a, const Tensor &b) { return a / b; }},
    {"lerp", [](const Tensor &a, const Tensor &b) { return a + 0.3 * (b - a); }},
    {"dot", [](const Tensor &a, const Tensor &b) { return sum(a * b); }},
};
inline const std::vector<std::pair<const char *, Ternary>> kTernary = {
    {"fma", [](const Tensor &a, const Tensor &b, const Tensor &c) { return a * b + c; }},
};

} // namespace ajit::bench

#endif
