//===- Array.cpp - host arrays: dtypes, shapes, owned and viewed storage --===//
#include "frontend/ajit.h"

#include "frontend/DeviceCopy.h"
#include "runtime/BufferPool.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

namespace ajit {

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::f32: return "f32";
  case DType::f64: return "f64";
  case DType::i32: return "i32";
  case DType::i64: return "i64";
  case DType::boolean: return "bool";
  case DType::f16: return "f16";
  case DType::bf16: return "bf16";
  }
  return "?";
}

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::f32: case DType::i32: return 4;
  case DType::f64: case DType::i64: return 8;
  case DType::boolean: return 1;
  case DType::f16: case DType::bf16: return 2;
  }
  return 0;
}

bool isFloat(DType dtype) {
  return dtype == DType::f32 || dtype == DType::f64 || dtype == DType::f16 || dtype == DType::bf16;
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string describe(DType dtype, const Shape &shape) {
  std::string s = dtypeName(dtype);
  s += '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + ']';
}

static void checkShape(const Shape &shape, const char *what) {
  for (int64_t d : shape)
    if (d < 0) throw Error(std::string("ajit: ") + what + ": negative dimension in shape " + describe(DType::f32, shape).substr(3));
}

Array Array::empty(Shape shape, DType dtype) {
  checkShape(shape, "Array::empty");
  Array a;
  a.shape_ = std::move(shape);
  a.size_ = numElements(a.shape_);
  a.dtype_ = dtype;
  a.valid_ = true;
  // From the pool: 64-byte aligned (a cache line, one zmm register), and for large
  // arrays memory that earlier calls already faulted in.
  size_t bytes = a.nbytes();
  void *p = BufferPool::global().allocate(bytes);
  a.storage_ = std::shared_ptr<void>(p, [bytes](void *q) { BufferPool::global().release(q, bytes); });
  a.data_ = p;
  return a;
}

Array Array::zeros(Shape shape, DType dtype) {
  Array a = empty(std::move(shape), dtype);
  std::memset(a.data_, 0, a.nbytes());
  return a;
}

Array Array::view(void *data, Shape shape, DType dtype) {
  checkShape(shape, "Array::view");
  Array a;
  a.shape_ = std::move(shape);
  a.size_ = numElements(a.shape_);
  a.dtype_ = dtype;
  if (!data && a.size_ > 0)
    throw Error("ajit: Array::view: null data pointer for " + describe(dtype, a.shape_));
  if (reinterpret_cast<uintptr_t>(data) % dtypeSize(dtype) != 0)
    throw Error("ajit: Array::view: data pointer " + std::to_string(reinterpret_cast<uintptr_t>(data)) +
                " is not aligned to the " + std::to_string(dtypeSize(dtype)) + "-byte elements of " +
                describe(dtype, a.shape_));
  a.data_ = data;
  a.valid_ = true;
  return a;
}

void Array::checkType(DType expected) const {
  if (!valid_) throw Error("ajit: the array is null");
  if (expected != dtype_)
    throw Error(std::string("ajit: array of ") + describe(dtype_, shape_) + " accessed as " + dtypeName(expected));
}

void Array::checkCount(size_t count) const {
  if (static_cast<int64_t>(count) != size_)
    throw Error("ajit: " + std::to_string(count) + " values given for an array of " + describe(dtype_, shape_) +
                " (" + std::to_string(size_) + " elements)");
}

bool Array::onDevice() const {
  if (!device_) return false;
  std::lock_guard lock(device_->mutex);
  return device_->buffer != nullptr;
}

Array Array::toDevice() const {
  if (!valid_) throw Error("ajit: Array::toDevice: the array is null");
  if (onDevice()) return *this;
  Array a = empty(shape_, dtype_);
  if (nbytes()) std::memcpy(a.data_, rawData(), nbytes());
  a.device_ = detail::DeviceCopy::allocate(nbytes());
  a.device_->buffer->copyFromHost(a.data_);
  a.device_->hostCurrent = true;
  return a;
}

void Array::syncHost() const {
  detail::DeviceCopy &copy = *device_;
  if (copy.hostCurrent.load(std::memory_order_acquire)) return;
  std::lock_guard lock(copy.mutex);
  if (copy.hostCurrent.load(std::memory_order_relaxed)) return;
  copy.buffer->copyToHost(data_);
  copy.hostCurrent.store(true, std::memory_order_release);
}

void Array::dropDeviceCopy() {
  syncHost();
  // Only the shared state changes: other threads may be reading this Array object.
  std::lock_guard lock(device_->mutex);
  device_->buffer.reset();
}

std::string Array::str() const {
  if (!valid_) return "null";
  rawData(); // the values, on the host
  std::ostringstream os;
  os << describe(dtype_, shape_) << '{';
  int64_t shown = size_ <= 8 ? size_ : 6;
  for (int64_t i = 0; i < shown; ++i) {
    if (i) os << ", ";
    switch (dtype_) {
    case DType::f32: os << static_cast<const float *>(data_)[i]; break;
    case DType::f64: os << static_cast<const double *>(data_)[i]; break;
    case DType::i32: os << static_cast<const int32_t *>(data_)[i]; break;
    case DType::i64: os << static_cast<const int64_t *>(data_)[i]; break;
    case DType::boolean: os << (static_cast<const bool *>(data_)[i] ? "true" : "false"); break;
    default: os << "?"; break;
    }
  }
  if (shown < size_) os << ", ... (" << size_ << " elements)";
  os << '}';
  return os.str();
}

} // namespace ajit
