//===- Error.h - the one exception type ajit throws -------------*- C++ -*-===//
#ifndef AJIT_RUNTIME_ERROR_H
#define AJIT_RUNTIME_ERROR_H

#include <stdexcept>
#include <string>

namespace ajit {

/// Every user-facing failure: bad shapes or dtypes, wrong argument counts, bad views,
/// compile failures. The message names the op, the shapes, and the user's source line
/// where one is known.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace ajit

#endif
