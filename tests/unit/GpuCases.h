//===- GpuCases.h - the programs every GPU test runs, and how results compare -===//
//
// Shared by GpuTest (ptxas, and runs on a real GPU) and GpuEmulatorTest (the same
// kernels run on the host): every op in f32 and the dtypes with their own lowering,
// with shapes whose sizes are not multiples of the block size, plus the fusion kinds.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_TESTS_UNIT_GPUCASES_H
#define AJIT_TESTS_UNIT_GPUCASES_H

#include "OpDispatch.h"
#include "frontend/ajit.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace ajit::gpu_cases {

struct Case {
  std::string name;
  std::string program; ///< graph IR, traced on the host
  std::vector<Array> inputs;
};

inline Array random(const Shape &shape, DType dtype, unsigned seed, double lo = -2, double hi = 2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Array a = Array::empty(shape, dtype);
  for (int64_t i = 0; i < a.size(); ++i) {
    double v = dist(rng);
    switch (dtype) {
    case DType::f32: a.data<float>()[i] = static_cast<float>(v); break;
    case DType::f64: a.data<double>()[i] = v; break;
    case DType::i32: a.data<int32_t>()[i] = static_cast<int32_t>(std::lround(v * 10)); break;
    case DType::i64: a.data<int64_t>()[i] = std::lround(v * 10); break;
    case DType::boolean: a.data<bool>()[i] = v > 0; break;
    default: break;
    }
  }
  return a;
}

template <class F, class... A> Case make(std::string name, F fn, A... inputs) {
  JitOptions options;
  options.name = "gpu_" + name;
  Case c{std::move(name), jit(fn, options).lower(inputs...), {inputs...}};
  return c;
}

/// Every op, in f32 (and the dtypes with their own lowering), with shapes whose sizes are
/// not multiples of the block size, plus the fusion kinds: elementwise chains, input
/// fusions into reductions, multi-output fusions, softmax, matmul with an epilogue.
inline std::vector<Case> cases() {
  std::vector<Case> out;
  Shape shape = {37, 130};
  Array x = random(shape, DType::f32, 1), y = random(shape, DType::f32, 2), row = random({130}, DType::f32, 3);
  Array pos = random(shape, DType::f32, 4, 0.1, 3);
  Array xd = random(shape, DType::f64, 5), pd = random(shape, DType::f64, 6, 0.1, 3);
  Array xi = random(shape, DType::i32, 7), yi = random(shape, DType::i32, 8);
  for (int u = 0; u <= static_cast<int>(ref::Unary::geluErf); ++u) {
    auto op = static_cast<ref::Unary>(u);
    bool positive = op == ref::Unary::log || op == ref::Unary::sqrt || op == ref::Unary::rsqrt;
    out.push_back(make(std::string(test::unaryName(op)) + "_f32", [op](Tensor a) { return test::applyUnary(op, a); },
                       positive ? pos : x));
    out.push_back(make(std::string(test::unaryName(op)) + "_f64", [op](Tensor a) { return test::applyUnary(op, a); },
                       positive ? pd : xd));
  }
  for (int b = 0; b <= static_cast<int>(ref::Binary::pow); ++b) {
    auto op = static_cast<ref::Binary>(b);
    out.push_back(make(std::string(test::binaryName(op)) + "_f32_broadcast",
                       [op](Tensor a, Tensor r) { return test::applyBinary(op, a, r); },
                       op == ref::Binary::pow ? pos : x, row));
    if (op != ref::Binary::pow && op != ref::Binary::div)
      out.push_back(make(std::string(test::binaryName(op)) + "_i32",
                         [op](Tensor a, Tensor c) { return test::applyBinary(op, a, c); }, xi, yi));
  }
  out.push_back(make("compare_where", [](Tensor a, Tensor b) { return where(a < b, a, b * 2.0); }, x, y));
  out.push_back(make("clamp", [](Tensor a) { return clamp(a, -0.5, 0.5); }, x));
  out.push_back(make("astype", [](Tensor a) { return astype(astype(a * 10.0, DType::i32), DType::f64); }, x));
  for (auto axes : std::vector<std::vector<int64_t>>{{0}, {1}, {}}) {
    std::string suffix = axes.empty() ? "all" : "axis" + std::to_string(axes[0]);
    out.push_back(make("sum_" + suffix, [axes](Tensor a) { return sum(a, axes); }, x));
    out.push_back(make("max_" + suffix, [axes](Tensor a) { return max(a, axes, true); }, x));
    out.push_back(make("min_" + suffix, [axes](Tensor a) { return min(a, axes); }, xd));
    out.push_back(make("mean_" + suffix, [axes](Tensor a) { return mean(a, axes); }, x));
  }
  out.push_back(make("sum_i32", [](Tensor a) { return sum(a, {1}); }, xi));
  // Long whole-array reductions: split into chunks, a block of threads each, then a
  // block folding the partials (a bare sum, a dot, a max, a 1-D softmax's two).
  Array big = random({1 << 20}, DType::f32, 16), big2 = random({1 << 20}, DType::f32, 17);
  out.push_back(make("sum_1m", [](Tensor a) { return sum(a); }, big));
  out.push_back(make("dot_1m", [](Tensor a, Tensor b) { return sum(a * b); }, big, big2));
  out.push_back(make("max_1m", [](Tensor a) { return max(a); }, big));
  out.push_back(make("softmax_128k", [](Tensor a) { return softmax(a); }, random({1 << 17}, DType::f32, 18)));
  out.push_back(make("rowsum_f64", [](Tensor a) { return sum(a, {1}); }, random({300, 1000}, DType::f64, 19)));
  // Lengths with no divisor in [256, 1024] (100003 and 70001 have none at all): 1024
  // chunks of 96 (68), then the tail of 1699 (369) reduced last. An argmax whose best
  // value lies in the tail alone, and one tied between a chunk and the tail (the
  // chunk's index, the first, wins).
  Array odd = random({100003}, DType::f32, 20), odd2 = random({100003}, DType::f32, 21);
  out.push_back(make("sum_prime", [](Tensor a) { return sum(a); }, odd));
  out.push_back(make("dot_prime", [](Tensor a, Tensor b) { return sum(a * b); }, odd, odd2));
  out.push_back(make("softmax_prime", [](Tensor a) { return softmax(a); }, odd));
  // The exp values stored beside their sum: the chunks write the head's, the tail the
  // rest.
  out.push_back(make("exp_and_sum_prime", [](Tensor a) {
    Tensor e = exp(a);
    return std::make_tuple(e, sum(e));
  }, odd));
  out.push_back(make("rows_prime", [](Tensor a) { return sum(a * a, {1}); }, random({2, 70001}, DType::f32, 22)));
  Array bestInTail = random({100003}, DType::f32, 23), tiedWithTail = random({100003}, DType::f32, 24);
  Array lowInTail = random({100003}, DType::f32, 25);
  bestInTail.data<float>()[100001] = 10.0f;
  lowInTail.data<float>()[100002] = -10.0f;
  tiedWithTail.data<float>()[5] = tiedWithTail.data<float>()[100000] = 10.0f;
  out.push_back(make("argmax_best_in_tail", [](Tensor a) { return argmax(a, 0); }, bestInTail));
  out.push_back(make("argmax_tied_with_tail", [](Tensor a) { return argmax(a, 0); }, tiedWithTail));
  out.push_back(make("argmin_best_in_tail", [](Tensor a) { return argmin(a, 0); }, lowInTail));
  for (int64_t axis : {0, 1}) {
    out.push_back(make("argmax_axis" + std::to_string(axis), [axis](Tensor a) { return argmax(a, axis); }, x));
    out.push_back(make("argmin_axis" + std::to_string(axis), [axis](Tensor a) { return argmin(a, axis); }, x));
    out.push_back(make("softmax_axis" + std::to_string(axis), [axis](Tensor a) { return softmax(a, axis); }, x));
    out.push_back(make("log_softmax_axis" + std::to_string(axis), [axis](Tensor a) { return logSoftmax(a, axis); }, x));
  }
  // argmax / argmin's block combine: ties (the first index wins), NaNs (the first NaN
  // wins), an all -inf row, and a long row.
  Array tricky = Array::empty({4, 300}, DType::f32);
  for (int64_t j = 0; j < 300; ++j) {
    float *t = tricky.data<float>();
    t[j] = 1.5f;
    t[300 + j] = (j == 150 || j == 200) ? NAN : static_cast<float>(j % 7);
    t[600 + j] = -INFINITY;
    t[900 + j] = static_cast<float>((j * 37) % 5) - 2.0f;
  }
  out.push_back(make("argmax_ties_nan", [](Tensor a) { return argmax(a, 1); }, tricky));
  out.push_back(make("argmin_ties_nan", [](Tensor a) { return argmin(a, 1); }, tricky));
  out.push_back(make("argmax_1m", [](Tensor a) { return argmax(a, 0); }, big));
  // A producer fused into the argmax: still a block reduction (not split: the chunks'
  // winners are values of -a), argmin of the ties and NaNs likewise.
  out.push_back(make("argmax_of_neg_1m", [](Tensor a) { return argmax(-a, 0); }, big));
  out.push_back(make("argmin_of_scaled", [](Tensor a) { return argmin(a * 2.0, 1); }, tricky));
  out.push_back(make("transpose_reshape", [](Tensor a) { return reshape(transpose(a), {65, 74}); }, x));
  out.push_back(make("broadcast", [](Tensor r) { return broadcastTo(r, {5, 130}) + 1.0; }, row));
  // W2's g and h: elementwise chains, and one fused into a whole-array reduction.
  out.push_back(make("g", [](Tensor a) { return sum(pow(sin(a), 2.0) + pow(cos(a), 2.0)); }, x));
  out.push_back(make("h", [](Tensor a) { return exp(-a / 10.0) * sin(a); }, x));
  // Multi-output: one Adam step (parameter, m and v).
  out.push_back(make("adam",
                     [](Tensor p, Tensor g, Tensor m) {
                       Tensor m2 = m * 0.9 + g * 0.1;
                       Tensor v2 = m * 0.999 + g * g * 0.001;
                       Tensor p2 = p - m2 * 0.001 / (sqrt(v2) + 1e-8);
                       return std::vector<Tensor>{p2, m2, v2};
                     },
                     x, y, pos));
  // Products: plain, batched, f64, and Linear+GELU (an output fusion).
  Array a = random({37, 64}, DType::f32, 9), w = random({64, 50}, DType::f32, 10), bias = random({50}, DType::f32, 11);
  out.push_back(make("matmul", [](Tensor p, Tensor q) { return matmul(p, q); }, a, w));
  out.push_back(make("matmul_f64", [](Tensor p, Tensor q) { return matmul(p, q); }, random({9, 13}, DType::f64, 12),
                     random({13, 7}, DType::f64, 13)));
  out.push_back(make("matmul_batched", [](Tensor p, Tensor q) { return matmul(p, q); },
                     random({3, 17, 9}, DType::f32, 14), random({3, 9, 11}, DType::f32, 15)));
  out.push_back(make("linear_gelu", [](Tensor p, Tensor q, Tensor c) { return gelu(matmul(p, q) + c); }, a, w, bias));
  // Several 128 x 128 tiles of the tiled kernel, each partial at an edge: 300 rows, 260
  // columns, and k = 203 not a multiple of the 8-deep steps.
  Array tall = random({300, 203}, DType::f32, 20), wide = random({203, 260}, DType::f32, 21);
  out.push_back(make("matmul_tiles", [](Tensor p, Tensor q) { return matmul(p, q); }, tall, wide));
  // The same with Linear+GELU's epilogue applied in the product's kernel.
  out.push_back(make("linear_gelu_tiles", [](Tensor p, Tensor q, Tensor c) { return gelu(matmul(p, q) + c, true); },
                     tall, wide, random({260}, DType::f32, 22)));
  // Whole 16-byte groups along k and n (vector loads throughout), an odd number of
  // 8-deep steps (88: the last step reads buffer 0 of the double-buffered tiles, where
  // the cases above end in buffer 1), one step only (k = 8: the one prefetch is all past
  // k), and a second product reading the first's epilogue: two folded fills in one
  // program.
  Array x88 = random({130, 88}, DType::f32, 23), w88 = random({88, 132}, DType::f32, 24);
  Array w2 = random({132, 36}, DType::f32, 25), b88 = random({132}, DType::f32, 26);
  out.push_back(make("matmul_aligned", [](Tensor p, Tensor q) { return matmul(p, q); }, x88, w88));
  out.push_back(make("matmul_one_step", [](Tensor p, Tensor q) { return matmul(p, q); },
                     random({40, 8}, DType::f32, 27), random({8, 36}, DType::f32, 28)));
  out.push_back(make("mlp_two_layers",
                     [](Tensor p, Tensor q, Tensor c, Tensor r) { return matmul(gelu(matmul(p, q) + c, true), r); },
                     x88, w88, b88, w2));
  out.push_back(make("empty", [](Tensor e) { return e * 2.0; }, Array::zeros({0, 4}, DType::f32)));
  return out;
}

/// GPU results against the CPU's: equal, both NaN, or within 1e-4 relative (reductions
/// and products sum in another order on the GPU); `where` names the first difference.
inline bool close(const Array &gpu, const Array &cpu, std::string &where) {
  if (gpu.dtype() != cpu.dtype() || gpu.shape() != cpu.shape()) {
    where = "dtype or shape differs";
    return false;
  }
  for (int64_t i = 0; i < cpu.size(); ++i) {
    double g, c;
    switch (cpu.dtype()) {
    case DType::f32: g = gpu.data<float>()[i], c = cpu.data<float>()[i]; break;
    case DType::f64: g = gpu.data<double>()[i], c = cpu.data<double>()[i]; break;
    case DType::i32: g = gpu.data<int32_t>()[i], c = cpu.data<int32_t>()[i]; break;
    case DType::i64: g = static_cast<double>(gpu.data<int64_t>()[i]), c = static_cast<double>(cpu.data<int64_t>()[i]); break;
    case DType::boolean: g = gpu.data<bool>()[i], c = cpu.data<bool>()[i]; break;
    default: where = "dtype"; return false;
    }
    if ((std::isnan(g) && std::isnan(c)) || g == c) continue; // equal infinities too
    // Reductions and products sum in another order on the GPU.
    if (!(std::abs(g - c) <= 1e-4 * (1 + std::abs(c)))) {
      where = "element " + std::to_string(i) + ": GPU " + std::to_string(g) + ", CPU " + std::to_string(c);
      return false;
    }
  }
  return true;
}

} // namespace ajit::gpu_cases

#endif
