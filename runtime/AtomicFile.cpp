//===- AtomicFile.cpp - write to a unique temporary, then rename -----------===//
#include "runtime/AtomicFile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ajit {

PendingFile::~PendingFile() {
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

bool PendingFile::write(const std::string &path, const char *data, size_t size, std::string &reason) {
  path_ = path;
  std::string tmp = path + ".tmp.XXXXXX"; // unique per call: threads and processes may race
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    reason = std::strerror(errno);
    return false;
  }
  tmp_ = tmp;
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == size;
  ok = ::fchmod(fd, 0644) == 0 && ok; // mkstemp makes it 0600; outputs are for others too
  ok = ::close(fd) == 0 && ok;
  if (!ok) reason = "the write failed";
  return ok;
}

bool PendingFile::commit(std::string &reason) {
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    reason = std::strerror(errno);
    return false;
  }
  tmp_.clear();
  return true;
}

bool writeFileAtomically(const std::string &path, const char *data, size_t size, std::string &reason) {
  PendingFile file;
  return file.write(path, data, size, reason) && file.commit(reason);
}

} // namespace ajit
