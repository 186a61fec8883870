//===- gpu_bench.cpp - W7: ajit's PTX kernels on an NVIDIA GPU ------------------===//
//
//   ajit-bench-gpu [--sizes=1048576,67108864] [--only=copy|W2|W3]
//
// Prints one JSON record per line (WORKLOADS.md's schema, seconds per call, "system":
// "ajit"; "bytes": what the kernels read and write per call, so a reader can compare
// with the copy bandwidth). Each time is the median of 7 batches timed by CUDA events,
// the inputs copied to the device once (Compiled::timeOnDevice): the kernels alone, as
// bench/gpu_peers.py times PyTorch's. Without a GPU (or on the tests' emulated driver)
// it prints one {"skipped": why} line and exits 0.
//
// - copy: the device-to-device copy bandwidth (cuMemcpyDtoD of 256 MiB; bytes read and
//   written), the ceiling of the memory-bound rows.
// - W2: the op matrix (bench/OpMatrix.h) at each size.
// - W3: Linear+GELU (x @ w + b, then tanh GELU) fused by ajit, and the product alone,
//   at WORKLOADS.md's three shapes; the first shape's result is checked against ajit's
//   CPU result and the largest relative difference printed.
//
//===----------------------------------------------------------------------===//
#include "bench/OpMatrix.h"
#include "frontend/ajit.h"
#include "runtime/gpu/CudaDriver.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace ajit;
using namespace ajit::bench;

namespace {

void print(const std::string &workload, const std::string &size, std::vector<double> seconds, int perBatch,
           uint64_t bytes, const std::string &note) {
  std::sort(seconds.begin(), seconds.end());
  std::printf("{\"workload\": \"%s\", \"size\": \"%s\", \"system\": \"ajit\", \"metric\": \"seconds\", "
              "\"median\": %.9g, \"min\": %.9g, \"max\": %.9g, \"reps\": %d, \"threads\": 0, \"bytes\": %llu, "
              "\"note\": \"%s\"}\n",
              workload.c_str(), size.c_str(), seconds[seconds.size() / 2], seconds.front(), seconds.back(),
              static_cast<int>(seconds.size()) * perBatch, static_cast<unsigned long long>(bytes), note.c_str());
  std::fflush(stdout);
}

/// Enough calls per batch for about 5 ms of GPU time (launch gaps then matter little).
int callsPerBatch(const Compiled &c, const std::vector<Array> &inputs) {
  double one = c.timeOnDevice(inputs, 1, 1)[0];
  return std::clamp(static_cast<int>(5e-3 / std::max(one, 1e-7)), 1, 2000);
}

void timeCompiled(const std::string &workload, const std::string &size, const Compiled &c,
                  const std::vector<Array> &inputs, const std::string &note) {
  int per = callsPerBatch(c, inputs);
  print(workload, size, c.timeOnDevice(inputs, 7, per), per, c.kernelBytes(), note);
}

void copyBandwidth() {
  const size_t bytes = size_t(256) << 20; // 64M f32, as W7's largest arrays
  std::vector<double> s = cuda::timeDeviceCopy(bytes, 7, 20);
  print("W7.copy", std::to_string(bytes / 4), s, 20, 2 * bytes, "cuMemcpyDtoD; bytes = read + written");
}

void opMatrix(const std::vector<int64_t> &sizes, const std::string &arch) {
  const Target gpu = Target::cuda();
  for (int64_t n : sizes) {
    std::vector<Array> abc = {ramp({n}, 4), ramp({n}, 3, 1.5f), ramp({n}, 2, 0.5f)};
    Array &a = abc[0], &b = abc[1], &c = abc[2];
    std::string size = std::to_string(n), note = "PTX for " + arch;
    for (auto &[name, fn] : kUnary)
      timeCompiled(std::string("W2.") + name, size, jit(fn, {.name = name, .target = gpu}).compile(a), {a}, note);
    for (auto &[name, fn] : kBinary)
      timeCompiled(std::string("W2.") + name, size, jit(fn, {.name = name, .target = gpu}).compile(a, b), {a, b}, note);
    for (auto &[name, fn] : kTernary)
      timeCompiled(std::string("W2.") + name, size, jit(fn, {.name = name, .target = gpu}).compile(a, b, c), {a, b, c},
                   note);
  }
}

double maxRelativeDifference(const Array &a, const Array &b) {
  double worst = 0;
  for (int64_t i = 0; i < a.size(); ++i) {
    double x = a.data<float>()[i], y = b.data<float>()[i];
    worst = std::max(worst, std::abs(x - y) / (1 + std::abs(y)));
  }
  return worst;
}

void linearGelu(const std::string &arch) {
  const int64_t shapes[][3] = {{1000, 512, 768}, {2048, 768, 3072}, {4096, 1024, 4096}};
  const Target gpu = Target::cuda();
  for (auto [m, k, n] : shapes) {
    Array x = ramp({m, k}, 1), w = ramp({k, n}, 0.05f, 0.01f), b = ramp({n}, 0.5f, 0.2f);
    std::string size = std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
    auto layer = [](const Tensor &x, const Tensor &w, const Tensor &b) { return gelu(matmul(x, w) + b, true); };
    auto fused = jit(layer, {.name = "linear_gelu", .target = gpu});
    Compiled c = fused.compile(x, w, b);
    std::string note = "PTX for " + arch;
    if (m == 1000) {
      Array got = c.run({x, w, b})[0], want = jit(layer)(x, w, b);
      char buf[96];
      std::snprintf(buf, sizeof buf, "; max |gpu-cpu|/(1+|cpu|) = %.2g", maxRelativeDifference(got, want));
      note += buf;
    }
    timeCompiled("W3.linear_gelu", size, c, {x, w, b}, note);
    auto product = jit([](const Tensor &x, const Tensor &w) { return matmul(x, w); }, {.name = "matmul", .target = gpu});
    timeCompiled("W3.matmul", size, product.compile(x, w), {x, w}, "PTX for " + arch);
  }
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int64_t> sizes = {1 << 20, 64 << 20};
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--sizes=", 0) == 0) {
      sizes.clear();
      for (size_t at = 8; at < a.size();) {
        size_t comma = a.find(',', at);
        sizes.push_back(std::atoll(a.substr(at, comma - at).c_str()));
        at = comma == std::string::npos ? a.size() : comma + 1;
      }
    } else if (a.rfind("--only=", 0) == 0) {
      only = a.substr(7);
    } else {
      std::fprintf(stderr, "usage: ajit-bench-gpu [--sizes=N,...] [--only=copy|W2|W3]\n");
      return 2;
    }
  }
  std::string why;
  if (!cuda::available(why) || cuda::takesLlvmIr()) {
    if (why.empty()) why = "the CUDA driver is ajit's emulator ($AJIT_CUDA_DRIVER), which times the host";
    std::printf("{\"skipped\": \"no GPU: %s\"}\n", why.c_str());
    return 0;
  }
  try {
    std::string arch = cuda::deviceArch();
    if (only.empty() || only == "copy") copyBandwidth();
    if (only.empty() || only == "W2") opMatrix(sizes, arch);
    if (only.empty() || only == "W3") linearGelu(arch);
  } catch (const Error &e) {
    std::fprintf(stderr, "ajit-bench-gpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
