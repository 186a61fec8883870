//===- Npy.h - NumPy .npy files (format 1.0 and 2.0, C order) ---*- C++ -*-===//
//
// Reads and writes the arrays ajit-run exchanges with NumPy. Parsing is strict: anything
// malformed (bad magic, truncated header or data, unsupported dtype or Fortran order,
// shape/size disagreement) is an ajit::Error naming the file and the problem, never a
// crash. No LLVM, no MLIR: the AOT runtime may use it.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_NPY_H
#define AJIT_RUNTIME_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace ajit::npy {

/// The element types ajit exchanges: NumPy descr `<f4 <f8 <i4 <i8 |b1`.
enum class Elem : uint8_t { f32, f64, i32, i64, boolean };

const char *elemName(Elem e); ///< "f32", ...
size_t elemSize(Elem e);

struct NpyArray {
  Elem elem = Elem::f32;
  std::vector<int64_t> shape;
  std::vector<char> data; ///< C order, little-endian
  int64_t count() const;
};

/// Parses the bytes of a .npy file; `name` is used in error messages.
NpyArray parse(const char *bytes, size_t size, const std::string &name);
NpyArray read(const std::string &path);

/// The bytes of a version 1.0 .npy file (2.0 when the header needs it).
std::string serialize(const NpyArray &array);
/// Writes atomically: to a temporary file beside `path`, then renamed over it, so a
/// failure never leaves a partial file behind.
void write(const std::string &path, const NpyArray &array);

} // namespace ajit::npy

#endif
