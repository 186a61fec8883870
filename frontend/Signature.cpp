//===- Signature.cpp - cache keys of jitted calls, and their differences --===//
#include "frontend/Signature.h"

#include <cstring>

namespace ajit::detail {

// Layout: per argument, 'A' dtype rank dims[rank] (int64 each) or 'S' tag payload.
void appendArrayKey(std::string &key, const Array &a, size_t position) {
  if (a.isNull())
    throw Error("ajit: argument " + std::to_string(position) + " is a null Array");
  if (a.rank() > 255)
    throw Error("ajit: argument " + std::to_string(position) + " has rank " + std::to_string(a.rank()) +
                "; at most 255 dimensions are supported");
  key.push_back('A');
  key.push_back(static_cast<char>(a.dtype()));
  key.push_back(static_cast<char>(a.rank()));
  key.append(reinterpret_cast<const char *>(a.shape().data()), a.shape().size() * sizeof(int64_t));
}

template <class T> static void appendPod(std::string &key, char tag, T v) {
  key.push_back('S');
  key.push_back(tag);
  key.append(reinterpret_cast<const char *>(&v), sizeof(v));
}

void appendStaticKey(std::string &key, int64_t v) { appendPod(key, 'i', v); }
void appendStaticKey(std::string &key, double v) { appendPod(key, 'd', v); }
void appendStaticKey(std::string &key, bool v) { appendPod(key, 'b', static_cast<char>(v)); }
void appendStaticKey(std::string &key, const std::string &v) {
  appendPod(key, 's', static_cast<uint32_t>(v.size()));
  key.append(v);
}

template <class T> static T readPod(const std::string &key, size_t &pos) {
  T v;
  std::memcpy(&v, key.data() + pos, sizeof(T));
  pos += sizeof(T);
  return v;
}

std::vector<ArgSignature> decodeKey(const std::string &key) {
  std::vector<ArgSignature> args;
  size_t pos = 0;
  while (pos < key.size()) {
    ArgSignature arg;
    char kind = key[pos++];
    if (kind == 'A') {
      arg.isArray = true;
      arg.dtype = static_cast<DType>(key[pos++]);
      size_t rank = static_cast<unsigned char>(key[pos++]);
      for (size_t i = 0; i < rank; ++i) arg.shape.push_back(readPod<int64_t>(key, pos));
    } else {
      char tag = key[pos++];
      if (tag == 'i') arg.staticValue = std::to_string(readPod<int64_t>(key, pos));
      else if (tag == 'd') arg.staticValue = std::to_string(readPod<double>(key, pos));
      else if (tag == 'b') arg.staticValue = readPod<char>(key, pos) ? "true" : "false";
      else {
        uint32_t n = readPod<uint32_t>(key, pos);
        arg.staticValue = '"';
        arg.staticValue.append(key, pos, n);
        arg.staticValue += '"';
        pos += n;
      }
    }
    args.push_back(std::move(arg));
  }
  return args;
}

std::string ArgSignature::str() const {
  return isArray ? describe(dtype, shape) : "static " + staticValue;
}

std::string describeSignature(const std::vector<ArgSignature> &args) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + args[i].str();
  return s;
}

static bool same(const ArgSignature &a, const ArgSignature &b) {
  return a.isArray == b.isArray && a.dtype == b.dtype && a.shape == b.shape && a.staticValue == b.staticValue;
}

size_t distance(const std::vector<ArgSignature> &a, const std::vector<ArgSignature> &b) {
  size_t n = std::max(a.size(), b.size()), d = 0;
  for (size_t i = 0; i < n; ++i) d += (i >= a.size() || i >= b.size() || !same(a[i], b[i]));
  return d;
}

std::string describeChange(const std::vector<ArgSignature> &before, const std::vector<ArgSignature> &after) {
  if (before.size() != after.size())
    return "number of arguments " + std::to_string(before.size()) + " -> " + std::to_string(after.size());
  std::string out;
  for (size_t i = 0; i < after.size(); ++i) {
    const ArgSignature &a = before[i], &b = after[i];
    if (same(a, b)) continue;
    if (!out.empty()) out += "; ";
    out += "arg " + std::to_string(i) + ": " + a.str() + " -> " + b.str();
    if (!a.isArray || !b.isArray) continue;
    if (a.dtype != b.dtype) out += std::string(" (dtype ") + dtypeName(a.dtype) + " -> " + dtypeName(b.dtype) + ")";
    if (a.shape.size() != b.shape.size()) {
      out += " (rank " + std::to_string(a.shape.size()) + " -> " + std::to_string(b.shape.size()) + ")";
      continue;
    }
    for (size_t d = 0; d < a.shape.size(); ++d)
      if (a.shape[d] != b.shape[d])
        out += " (dim " + std::to_string(d) + ": " + std::to_string(a.shape[d]) + " -> " + std::to_string(b.shape[d]) + ")";
  }
  return out;
}

} // namespace ajit::detail
