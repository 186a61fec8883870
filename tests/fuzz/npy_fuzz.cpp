//===- npy_fuzz.cpp - libFuzzer target for the .npy reader ----------------===//
//
// Any input must either parse or raise ajit::Error; what parses must survive a
// serialize/parse round trip unchanged.
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/Npy.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ajit::npy::NpyArray a;
  try {
    a = ajit::npy::parse(reinterpret_cast<const char *>(data), size, "fuzz.npy");
  } catch (const ajit::Error &) {
    return 0;
  }
  std::string bytes = ajit::npy::serialize(a);
  ajit::npy::NpyArray b = ajit::npy::parse(bytes.data(), bytes.size(), "roundtrip.npy");
  if (b.elem != a.elem || b.shape != a.shape || b.data != a.data) __builtin_trap();
  return 0;
}
