//===- Env.cpp - the one registry of AJIT_* environment variables ---------===//
#include "runtime/Env.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ajit::env {

const std::vector<Var> &all() {
  static const std::vector<Var> vars = {
      {"AJIT_LOG_COMPILES", false, "one stderr line per compile: signature, reason, per-stage ms"},
      {"AJIT_DUMP_IR", false, "directory: IR after each compile stage, one file per stage"},
      {"AJIT_CACHE_DIR", false, "directory of the persistent cache of compiled objects"},
      // Not an env key of its own: the CPU target's fingerprint carries the worker count
      // its matmul tiles were sized for.
      {"AJIT_NUM_THREADS", false, "worker threads of the CPU runtime (matmul tiles are sized for them)"},
      {"AJIT_BUFFER_POOL_MB", false, "MiB of released output buffers kept for reuse (default 1024; 0: none)"},
      {"AJIT_GPU_POOL_MB", false,
       "MiB of released GPU buffers kept for reuse (default 1024; 0: none); freed when the GPU runs out of memory"},
      {"AJIT_CUDA_DRIVER", false,
       "the CUDA driver library to open instead of libcuda.so.1 (tests/emulator's libajit-emulated-cuda.so "
       "runs GPU programs on the host)"},
      {"AJIT_CPU", true, "target CPU for generated code: native (default), x86-64-v3, ..."},
  };
  return vars;
}

static const Var &lookup(const char *name) {
  for (const Var &v : all())
    if (std::strcmp(v.name, name) == 0) return v;
  std::fprintf(stderr, "ajit: internal error: unregistered environment variable %s\n", name);
  std::abort();
}

std::string get(const char *name) {
  const char *value = std::getenv(lookup(name).name);
  return value ? value : "";
}

bool flag(const char *name) {
  std::string v = get(name);
  return !v.empty() && v != "0" && v != "false";
}

int integer(const char *name, int fallback) {
  std::string v = get(name);
  if (v.empty()) return fallback;
  char *end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  return (end && *end == '\0' && n >= 0 && n <= INT_MAX) ? static_cast<int>(n) : fallback;
}

std::string invalidatingFingerprint() {
  std::string out;
  for (const Var &v : all()) {
    if (!v.invalidatesCache) continue;
    out += v.name;
    out += '=';
    out += get(v.name);
    out += ';';
  }
  return out;
}

} // namespace ajit::env
