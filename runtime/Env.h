//===- Env.h - the one registry of AJIT_* environment variables -*- C++ -*-===//
//
// Every variable ajit reads is listed here, marked cache-invalidating or neutral; only
// the invalidating ones enter the cache key (Triton's GetEnv.hpp).
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_ENV_H
#define AJIT_RUNTIME_ENV_H

#include <string>
#include <vector>

namespace ajit::env {

struct Var {
  const char *name;
  bool invalidatesCache;
  const char *help;
};

const std::vector<Var> &all();

/// The value of a registered variable ("" when unset). Unregistered names abort: a typo
/// here would silently read nothing.
std::string get(const char *name);
bool flag(const char *name);        ///< set and not "0"/"false"/""
/// A whole number from 0 up (0: "none", for the pools); `fallback` when unset or not one.
int integer(const char *name, int fallback);

/// `NAME=value;...` over the invalidating variables: part of every cache key.
std::string invalidatingFingerprint();

} // namespace ajit::env

#endif
