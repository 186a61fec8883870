//===- StaticJitExit.cpp - a jitted function in static storage exits cleanly ===//
//
// Regression: a static ajit::jit object created before the process's first compile used
// to crash at exit, its code being unloaded after the ORC session was destroyed. ctest
// runs this program; it must exit with status 0.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"

#include <cstdio>

static auto twice = ajit::jit([](const ajit::Tensor &x) { return x * 2.0; }, {.name = "static_twice"});

int main() {
  ajit::Array y = twice(ajit::Array::from<float>({1, 2}, {2}));
  bool ok = y.data<float>()[0] == 2 && y.data<float>()[1] == 4;
  std::printf("static jitted function: %s\n", ok ? "ok" : "wrong result");
  return ok ? 0 : 1;
}
