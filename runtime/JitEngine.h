//===- JitEngine.h - loads object code into the process (LLVM ORC) -*- C++ -*-===//
#ifndef AJIT_RUNTIME_JITENGINE_H
#define AJIT_RUNTIME_JITENGINE_H

#include <memory>
#include <string>
#include <vector>

namespace ajit {

/// Code linked into this process; unloaded (its memory freed) on destruction.
class LoadedCode {
public:
  virtual ~LoadedCode() = default;
  virtual void *address() const = 0;
};

/// Links `object` into its own JITDylib (so it can be freed alone) and resolves `symbol`.
/// Undefined symbols (malloc, libm) resolve against the process. Thread-safe.
/// Throws ajit::Error on failure.
std::unique_ptr<LoadedCode> loadObject(const std::vector<char> &object, const std::string &symbol);

} // namespace ajit

#endif
