//===- Npy.cpp - NumPy .npy files (format 1.0 and 2.0, C order) -----------===//
//
// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False,
// 'shape': (3, 4), }. We parse exactly that grammar and nothing looser.
//
//===----------------------------------------------------------------------===//
#include "runtime/Npy.h"

#include "runtime/AtomicFile.h"
#include "runtime/Error.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace ajit::npy {

const char *elemName(Elem e) {
  switch (e) {
  case Elem::f32: return "f32";
  case Elem::f64: return "f64";
  case Elem::i32: return "i32";
  case Elem::i64: return "i64";
  case Elem::boolean: return "bool";
  }
  return "?";
}

size_t elemSize(Elem e) {
  switch (e) {
  case Elem::f32: case Elem::i32: return 4;
  case Elem::f64: case Elem::i64: return 8;
  case Elem::boolean: return 1;
  }
  return 0;
}

int64_t NpyArray::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

static const char kMagic[] = "\x93NUMPY";

namespace {

[[noreturn]] void bad(const std::string &name, const std::string &what) {
  throw Error("ajit: " + name + ": " + what);
}

/// A cursor over the header dict with just enough grammar for .npy headers.
struct HeaderParser {
  const std::string &text;
  const std::string &name;
  size_t pos = 0;

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) return ++pos, true;
    return false;
  }
  void expect(char c) {
    if (!consume(c)) bad(name, std::string("malformed .npy header: expected '") + c + "' at offset " +
                                   std::to_string(pos) + " in " + text);
  }
  std::string quoted() {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      bad(name, "malformed .npy header: expected a quoted string in " + text);
    char q = text[pos++];
    size_t end = text.find(q, pos);
    if (end == std::string::npos) bad(name, "malformed .npy header: unterminated string in " + text);
    std::string s = text.substr(pos, end - pos);
    pos = end + 1;
    return s;
  }
  bool boolean() {
    skipSpace();
    if (text.compare(pos, 4, "True") == 0) return pos += 4, true;
    if (text.compare(pos, 5, "False") == 0) return pos += 5, false;
    bad(name, "malformed .npy header: expected True or False in " + text);
  }
  int64_t integer() {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start || pos - start > 18) bad(name, "malformed .npy header: bad dimension in " + text);
    return std::stoll(text.substr(start, pos - start));
  }
  std::vector<int64_t> shape() {
    expect('(');
    std::vector<int64_t> dims;
    while (!consume(')')) {
      dims.push_back(integer());
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }
};

Elem parseDescr(const std::string &descr, const std::string &name) {
  if (descr == "<f4") return Elem::f32;
  if (descr == "<f8") return Elem::f64;
  if (descr == "<i4") return Elem::i32;
  if (descr == "<i8") return Elem::i64;
  if (descr == "|b1" || descr == "?") return Elem::boolean;
  bad(name, "unsupported dtype '" + descr + "' (supported: <f4 <f8 <i4 <i8 |b1, little-endian)");
}

const char *descrOf(Elem e) {
  switch (e) {
  case Elem::f32: return "<f4";
  case Elem::f64: return "<f8";
  case Elem::i32: return "<i4";
  case Elem::i64: return "<i8";
  case Elem::boolean: return "|b1";
  }
  return "";
}

} // namespace

NpyArray parse(const char *bytes, size_t size, const std::string &name) {
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0) bad(name, "not a .npy file (bad magic)");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) bad(name, "truncated .npy header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i) headerLen |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    bad(name, "unsupported .npy format version " + std::to_string(major));
  }
  if (headerLen > size - offset) bad(name, "truncated .npy header");
  std::string header(bytes + offset, headerLen);
  while (!header.empty() && (header.back() == '\n' || header.back() == ' ')) header.pop_back();

  HeaderParser p{header, name};
  NpyArray array;
  bool haveDescr = false, haveOrder = false, haveShape = false;
  p.expect('{');
  while (!p.consume('}')) {
    std::string key = p.quoted();
    p.expect(':');
    if (key == "descr") array.elem = parseDescr(p.quoted(), name), haveDescr = true;
    else if (key == "fortran_order") {
      if (p.boolean()) bad(name, "Fortran-order arrays are not supported; save with numpy.ascontiguousarray");
      haveOrder = true;
    } else if (key == "shape") array.shape = p.shape(), haveShape = true;
    else bad(name, "malformed .npy header: unknown key '" + key + "'");
    if (!p.consume(',')) {
      p.expect('}');
      break;
    }
  }
  if (!haveDescr || !haveOrder || !haveShape)
    bad(name, "malformed .npy header: needs descr, fortran_order and shape: " + header);

  // Overflow-safe element count.
  uint64_t count = 1;
  for (int64_t d : array.shape) {
    if (d != 0 && count > std::numeric_limits<uint64_t>::max() / 16 / static_cast<uint64_t>(d))
      bad(name, "shape is too large");
    count *= static_cast<uint64_t>(d);
  }
  uint64_t bytesNeeded = count * elemSize(array.elem);
  size_t dataStart = offset + headerLen;
  if (size - dataStart < bytesNeeded)
    bad(name, "truncated data: " + std::to_string(bytesNeeded) + " bytes expected, " +
                  std::to_string(size - dataStart) + " present");
  if (size - dataStart > bytesNeeded)
    bad(name, "trailing bytes after the data: " + std::to_string(size - dataStart - bytesNeeded));
  array.data.assign(bytes + dataStart, bytes + dataStart + bytesNeeded);
  if (array.elem == Elem::boolean)
    for (char c : array.data)
      if (c != 0 && c != 1) bad(name, "bool data holds a byte other than 0 or 1");
  return array;
}

NpyArray read(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad(path, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = buffer.str();
  return parse(bytes.data(), bytes.size(), path);
}

std::string serialize(const NpyArray &array) {
  std::string dict = std::string("{'descr': '") + descrOf(array.elem) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < array.shape.size(); ++i) dict += std::to_string(array.shape[i]) + ", ";
  if (array.shape.size() > 1) dict.erase(dict.size() - 2); // (3, 4) but (3,)
  else if (array.shape.size() == 1) dict.pop_back();
  dict += "), }";
  // Pad so that the data starts on a 64-byte boundary, newline-terminated.
  bool v2 = dict.size() + 11 > 65535;
  size_t prefix = v2 ? 12 : 10;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out(kMagic, 6);
  out += static_cast<char>(v2 ? 2 : 1);
  out += '\0';
  size_t len = dict.size();
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  out += dict;
  out.append(array.data.data(), array.data.size());
  return out;
}

void write(const std::string &path, const NpyArray &array) {
  std::string bytes = serialize(array), reason;
  if (!writeFileAtomically(path, bytes.data(), bytes.size(), reason)) bad(path, "cannot write: " + reason);
}

} // namespace ajit::npy
