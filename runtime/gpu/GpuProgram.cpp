//===- GpuProgram.cpp - thunk sequence + PTX, to and from bytes -----------===//
//
// A line-oriented text format: counts and numbers on lines, PTX as length-prefixed
// blobs. Parsing checks every count and reference, since the bytes may come from a
// damaged cache file.
//
//===----------------------------------------------------------------------===//
#include "runtime/gpu/GpuProgram.h"

#include <sstream>

namespace ajit::gpu {

static const char kMagic[] = "ajit-gpu-program 1";

uint64_t GpuProgram::bufferBytes(uint32_t id) const {
  if (id < inputBytes.size()) return inputBytes[id];
  id -= inputBytes.size();
  if (id < outputBytes.size()) return outputBytes[id];
  return tempBytes.at(id - outputBytes.size());
}

std::string GpuProgram::allPtx() const {
  std::string s;
  for (const std::string &m : modules) s += m;
  return s;
}

static void writeList(std::ostringstream &os, const char *name, const std::vector<uint64_t> &v) {
  os << name << ' ' << v.size();
  for (uint64_t x : v) os << ' ' << x;
  os << '\n';
}

std::vector<char> GpuProgram::serialize() const {
  std::ostringstream os;
  os << kMagic << '\n' << "arch " << arch << '\n';
  writeList(os, "inputs", inputBytes);
  writeList(os, "outputs", outputBytes);
  writeList(os, "temps", tempBytes);
  os << "modules " << modules.size() << '\n';
  for (const std::string &m : modules) os << m.size() << '\n' << m << '\n';
  os << "launches " << launches.size() << '\n';
  for (const Launch &l : launches) {
    os << l.module << ' ' << l.kernel << ' ' << l.grid[0] << ' ' << l.grid[1] << ' ' << l.grid[2] << ' '
       << l.block[0] << ' ' << l.block[1] << ' ' << l.block[2] << ' ' << l.buffers.size();
    for (uint32_t b : l.buffers) os << ' ' << b;
    os << '\n';
  }
  std::string s = os.str();
  return std::vector<char>(s.begin(), s.end());
}

namespace {
bool expectWord(std::istream &is, const char *word) {
  std::string w;
  return static_cast<bool>(is >> w) && w == word;
}
bool readList(std::istream &is, const char *name, std::vector<uint64_t> &v) {
  size_t n;
  if (!expectWord(is, name) || !(is >> n) || n > (1u << 20)) return false;
  v.resize(n);
  for (uint64_t &x : v)
    if (!(is >> x)) return false;
  return true;
}
} // namespace

bool GpuProgram::parse(const std::vector<char> &bytes, GpuProgram &out, std::string &error) {
  std::istringstream is(std::string(bytes.begin(), bytes.end()));
  std::string magic;
  if (!std::getline(is, magic) || magic != kMagic) {
    error = "not an ajit GPU program (or another version of one)";
    return false;
  }
  GpuProgram p;
  size_t count;
  bool ok = expectWord(is, "arch") && static_cast<bool>(is >> p.arch) && readList(is, "inputs", p.inputBytes) &&
            readList(is, "outputs", p.outputBytes) && readList(is, "temps", p.tempBytes) &&
            expectWord(is, "modules") && static_cast<bool>(is >> count) && count < (1u << 20);
  for (size_t i = 0; ok && i < count; ++i) {
    size_t size;
    ok = static_cast<bool>(is >> size) && is.get() == '\n' && size <= bytes.size();
    if (!ok) break;
    std::string m(size, '\0');
    ok = static_cast<bool>(is.read(m.data(), static_cast<std::streamsize>(size)));
    p.modules.push_back(std::move(m));
  }
  ok = ok && expectWord(is, "launches") && static_cast<bool>(is >> count) && count < (1u << 24);
  for (size_t i = 0; ok && i < count; ++i) {
    Launch l;
    size_t n;
    ok = static_cast<bool>(is >> l.module >> l.kernel >> l.grid[0] >> l.grid[1] >> l.grid[2] >> l.block[0] >>
                           l.block[1] >> l.block[2] >> n) &&
         l.module < p.modules.size() && n < (1u << 16);
    for (size_t j = 0; ok && j < n; ++j) {
      uint32_t b;
      ok = static_cast<bool>(is >> b) && b < p.bufferCount();
      l.buffers.push_back(b);
    }
    p.launches.push_back(std::move(l));
  }
  if (!ok) {
    error = "a damaged or truncated ajit GPU program";
    return false;
  }
  out = std::move(p);
  return true;
}

} // namespace ajit::gpu
