//===- TestEnv.h - test knobs from the environment -------------*- C++ -*-===//
#ifndef AJIT_TESTS_UNIT_TESTENV_H
#define AJIT_TESTS_UNIT_TESTENV_H

#include <cstdint>
#include <cstdlib>

namespace ajit::test {

/// The integer in environment variable `name` (decimal, 0x hex), or `fallback` when unset.
inline int64_t envInt(const char *name, int64_t fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::strtoll(v, nullptr, 0) : fallback;
}

} // namespace ajit::test

#endif
