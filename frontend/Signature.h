//===- Signature.h - cache keys of jitted calls, and their differences -*- C++ -*-===//
//
// The cache key is a byte string built on every call without allocating; it is
// self-describing so that a miss can be explained ("arg 0: f32[1000] -> f32[2000]").
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_FRONTEND_SIGNATURE_H
#define AJIT_FRONTEND_SIGNATURE_H

#include "frontend/ajit.h"

#include <string>
#include <vector>

namespace ajit::detail {

struct ArgSignature {
  bool isArray = false;
  DType dtype = DType::f32;
  Shape shape;
  std::string staticValue; ///< printable form of a static argument
  std::string str() const;
};

std::vector<ArgSignature> decodeKey(const std::string &key);
/// `f32[1000], f32[1000], static 3`.
std::string describeSignature(const std::vector<ArgSignature> &args);
/// What changed from `before` to `after`, e.g. `arg 0: f32[1000] -> f32[2000] (dim 0: 1000 -> 2000)`.
std::string describeChange(const std::vector<ArgSignature> &before, const std::vector<ArgSignature> &after);
/// How many arguments differ (a different count counts as many).
size_t distance(const std::vector<ArgSignature> &a, const std::vector<ArgSignature> &b);

} // namespace ajit::detail

#endif
