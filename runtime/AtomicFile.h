//===- AtomicFile.h - files that appear whole or not at all ------*- C++ -*-===//
//
// Every file ajit writes for others to read (.npy outputs, ajitc's object and header,
// persistent cache entries) is written under a unique temporary name in the destination
// folder and renamed over the destination: readers see the old file or the new one,
// never a part, and a failed write leaves nothing behind.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_ATOMICFILE_H
#define AJIT_RUNTIME_ATOMICFILE_H

#include <cstddef>
#include <string>

namespace ajit {

/// A file written beside its destination, renamed over it by commit(); the temporary is
/// removed if it is never committed. Failures give `reason` (strerror text, or "the write
/// failed"), for the caller to put next to the path.
class PendingFile {
public:
  PendingFile() = default;
  PendingFile(const PendingFile &) = delete;
  PendingFile &operator=(const PendingFile &) = delete;
  ~PendingFile();

  bool write(const std::string &path, const char *data, size_t size, std::string &reason);
  bool commit(std::string &reason);

private:
  std::string path_, tmp_;
};

/// write() then commit() of one file.
bool writeFileAtomically(const std::string &path, const char *data, size_t size, std::string &reason);

} // namespace ajit

#endif
