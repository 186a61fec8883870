//===- TestSupport.h - helpers shared by the unit tests ---------*- C++ -*-===//
#ifndef AJIT_TESTS_UNIT_TESTSUPPORT_H
#define AJIT_TESTS_UNIT_TESTSUPPORT_H

#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

namespace ajit::test {

/// The integer in environment variable `name` (decimal, 0x hex), or `fallback` when unset.
inline int64_t envInt(const char *name, int64_t fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::strtoll(v, nullptr, 0) : fallback;
}

/// The message of the ajit::Error `fn` throws, or "<no ajit::Error thrown>".
inline std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const Error &e) {
    return e.what();
  }
  return "<no ajit::Error thrown>";
}

/// Expects `fn` to throw an ajit::Error whose message contains `what`.
inline void expectError(const std::function<void()> &fn, const std::string &what) {
  std::string message = errorOf(fn);
  EXPECT_NE(message.find(what), std::string::npos) << "expected an error containing: " << what << "\ngot: " << message;
}

/// Sets an environment variable for one test and restores it after.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

private:
  const char *name_;
  std::optional<std::string> old_;
};

} // namespace ajit::test

#endif
