//===- aot_export.cpp - trace a function and export it for ajitc ----------===//
//
// Writes DIR/layer.mlir (the graph IR of `layer` for these shapes), the inputs as raw
// little-endian f32 files, and the JIT's outputs, which the AOT build must reproduce.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"

#include <cmath>
#include <cstdio>
#include <fstream>

using namespace ajit;

static void writeRaw(const std::string &path, const Array &a) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char *>(a.rawData()), static_cast<std::streamsize>(a.nbytes()));
}

static Array input(Shape shape, float scale) {
  Array a = Array::empty(shape, DType::f32);
  for (int64_t i = 0; i < a.size(); ++i) a.data<float>()[i] = scale * std::sin(0.37f * static_cast<float>(i));
  return a;
}

int main(int argc, char **argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: aot_export DIR\n"), 2;
  std::string dir = argv[1];
  // A dense layer with a GELU, and the mean of its softmax-normalised rows.
  auto layer = jit([](const Tensor &x, const Tensor &w, const Tensor &b) {
    Tensor y = gelu(matmul(x, w) + b);
    return std::make_tuple(y, mean(softmax(y, -1) * y, {1}));
  }, {.name = "layer"});
  Array x = input({8, 16}, 1.0f), w = input({16, 4}, 0.5f), b = input({4}, 0.1f);
  std::ofstream(dir + "/layer.mlir") << layer.lower(x, w, b);
  auto [y, m] = layer(x, w, b);
  writeRaw(dir + "/in0.bin", x);
  writeRaw(dir + "/in1.bin", w);
  writeRaw(dir + "/in2.bin", b);
  writeRaw(dir + "/expected0.bin", y);
  writeRaw(dir + "/expected1.bin", m);
  return 0;
}
