//===- DiskCache.cpp - persistent cache of compiled objects ----------------===//
//
// File layout (little-endian): "AJITOBJ\0", u32 format, then length-prefixed (u64)
// version, key, entry symbol; u32 kernels; u64 bytes read, u64 written; u32 outputs,
// then per output the i32 input whose buffer it reuses (-1: none); length-prefixed
// object; u64 FNV-1a of every byte before it. The key is stored whole (not only hashed into the file name), so two
// keys that share a file name can never be confused.
//
//===----------------------------------------------------------------------===//
#include "runtime/DiskCache.h"

#include "runtime/AtomicFile.h"
#include "runtime/Version.inc"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace ajit::disk_cache {
namespace {

constexpr char kMagic[8] = {'A', 'J', 'I', 'T', 'O', 'B', 'J', '\0'};
constexpr uint32_t kFormat = 3; // 2: kernel bytes read/written after the kernel count; 3: output reuses
constexpr uint64_t kMaxEntryBytes = uint64_t(1) << 31;

uint64_t fnv1a(const char *data, size_t size, uint64_t h = 0xcbf29ce484222325ull) {
  for (size_t i = 0; i < size; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 0x100000001b3ull;
  return h;
}

void putU32(std::vector<char> &out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void putU64(std::vector<char> &out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void putBytes(std::vector<char> &out, const char *data, size_t size) {
  putU64(out, size);
  out.insert(out.end(), data, data + size);
}

/// Bounds-checked reading of an entry's fields.
struct Reader {
  const std::vector<char> &bytes;
  size_t pos = 0;
  size_t end;
  bool ok = true;
  uint64_t uint(int width) {
    if (!ok || end - pos < static_cast<size_t>(width)) return ok = false, 0;
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v |= uint64_t(static_cast<unsigned char>(bytes[pos + i])) << (8 * i);
    pos += width;
    return v;
  }
  /// A length-prefixed field, in place (valid while `bytes` lives).
  std::string_view view() {
    uint64_t n = uint(8);
    if (!ok || end - pos < n) return ok = false, std::string_view();
    std::string_view s(bytes.data() + pos, n);
    pos += n;
    return s;
  }
};

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

} // namespace

const std::string &compilerVersion() {
  static const std::string version = AJIT_VERSION;
  return version;
}

std::string entryPath(const std::string &dir, const std::string &key) {
  return dir + "/" + hex16(fnv1a(key.data(), key.size())) + ".ajitobj";
}

std::vector<char> encode(const std::string &key, const Entry &entry, const std::string &version) {
  std::vector<char> out(kMagic, kMagic + sizeof kMagic);
  putU32(out, kFormat);
  putBytes(out, version.data(), version.size());
  putBytes(out, key.data(), key.size());
  putBytes(out, entry.entrySymbol.data(), entry.entrySymbol.size());
  putU32(out, entry.kernels.kernels);
  putU64(out, entry.kernels.bytesRead);
  putU64(out, entry.kernels.bytesWritten);
  putU32(out, static_cast<uint32_t>(entry.outputReusesInput.size()));
  for (int32_t input : entry.outputReusesInput) putU32(out, static_cast<uint32_t>(input));
  putBytes(out, entry.object.data(), entry.object.size());
  putU64(out, fnv1a(out.data(), out.size()));
  return out;
}

Lookup decode(const std::vector<char> &bytes, const std::string &key, const std::string &version, Entry &out,
              std::string &why) {
  if (bytes.size() < sizeof kMagic + 4 + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    why = "not an ajit cache entry (bad magic or too short: " + std::to_string(bytes.size()) + " bytes)";
    return Lookup::rejected;
  }
  size_t bodySize = bytes.size() - 8;
  Reader sum{bytes, bodySize, bytes.size()};
  if (sum.uint(8) != fnv1a(bytes.data(), bodySize)) {
    why = "checksum mismatch (truncated or corrupt)";
    return Lookup::rejected;
  }
  Reader r{bytes, sizeof kMagic, bodySize};
  uint32_t format = static_cast<uint32_t>(r.uint(4));
  if (r.ok && format != kFormat) {
    why = "entry format " + std::to_string(format) + ", this ajit reads " + std::to_string(kFormat);
    return Lookup::rejected;
  }
  std::string_view entryVersion = r.view();
  if (r.ok && entryVersion != version) {
    why = "written by ajit " + std::string(entryVersion) + ", this is " + version;
    return Lookup::rejected;
  }
  std::string_view entryKey = r.view();
  if (r.ok && entryKey != key) {
    why = "entry for another key (file name collision or a copied file)";
    return Lookup::rejected;
  }
  Entry e;
  e.entrySymbol = r.view();
  e.kernels.kernels = static_cast<uint32_t>(r.uint(4));
  e.kernels.bytesRead = r.uint(8);
  e.kernels.bytesWritten = r.uint(8);
  uint64_t outputs = r.uint(4);
  if (outputs > (r.end - r.pos) / 4) r.ok = false; // a count the bytes left cannot hold
  for (uint64_t i = 0; r.ok && i < outputs; ++i)
    e.outputReusesInput.push_back(static_cast<int32_t>(static_cast<uint32_t>(r.uint(4))));
  std::string_view object = r.view();
  if (!r.ok || r.pos != bodySize || object.empty()) { // GPU programs have no entry symbol
    why = "malformed entry (fields do not add up)";
    return Lookup::rejected;
  }
  e.object.assign(object.begin(), object.end());
  out = std::move(e);
  return Lookup::hit;
}

Lookup load(const std::string &path, const std::string &key, Entry &out, std::string &why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Lookup::miss;
    why = std::string("cannot open: ") + std::strerror(errno);
    return Lookup::rejected;
  }
  struct stat st;
  std::vector<char> bytes;
  bool readOk = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= kMaxEntryBytes;
  if (readOk) {
    bytes.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    bytes.resize(done); // a file shrinking under us reads as truncated
  }
  ::close(fd);
  if (!readOk) {
    why = "not a regular file, or larger than 2 GiB";
    return Lookup::rejected;
  }
  return decode(bytes, key, compilerVersion(), out, why);
}

bool store(const std::string &path, const std::string &key, const Entry &entry, std::string &error) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  std::vector<char> bytes = encode(key, entry, compilerVersion());
  std::string reason;
  if (!writeFileAtomically(path, bytes.data(), bytes.size(), reason)) {
    error = "cannot write " + path + ": " + reason;
    return false;
  }
  return true;
}

} // namespace ajit::disk_cache
