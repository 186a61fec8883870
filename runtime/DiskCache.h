//===- DiskCache.h - persistent cache of compiled objects (AJIT_CACHE_DIR) -*- C++ -*-===//
//
// One file per compiled signature, named by a hash of its key. A file holds the key
// itself, the compiler version, the object code and a checksum of all of it; anything
// that does not match exactly (truncated, corrupt, written by another ajit, or for
// another key) is rejected with a reason and never loaded. Writes go to a unique
// temporary file that is renamed over the entry, so readers see a whole old entry or a
// whole new one, and processes compiling the same key at once all succeed.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_DISKCACHE_H
#define AJIT_RUNTIME_DISKCACHE_H

#include "runtime/KernelStats.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ajit::disk_cache {

/// The version entries are stamped with: release + commit (+ a hash of uncommitted edits).
const std::string &compilerVersion();

struct Entry {
  std::string entrySymbol; ///< the symbol to call in `object`; empty for a GPU program
  KernelStats kernels;     ///< for the stats
  /// Per output, the input whose buffer it reuses, or -1 (CompileResult's field).
  std::vector<int32_t> outputReusesInput;
  std::vector<char> object;
};

enum class Lookup { miss, hit, rejected };

/// The file that holds (or would hold) the entry for `key` in folder `dir`.
std::string entryPath(const std::string &dir, const std::string &key);

/// Reads the entry for `key` from `path` (entryPath). `rejected` (with `why`) for a file
/// that exists but must not be used; the caller recompiles and stores over it.
Lookup load(const std::string &path, const std::string &key, Entry &out, std::string &why);

/// Writes the entry to `path` atomically, creating its folder if needed. False (with
/// `error`) on failure: the cache only saves time, so callers report it and go on.
bool store(const std::string &path, const std::string &key, const Entry &entry, std::string &error);

/// The bytes of an entry file, and their check (exposed for tests).
std::vector<char> encode(const std::string &key, const Entry &entry, const std::string &version);
Lookup decode(const std::vector<char> &bytes, const std::string &key, const std::string &version, Entry &out,
              std::string &why);

} // namespace ajit::disk_cache

#endif
