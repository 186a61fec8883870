//===- ajit.h - ajit's public C++ API ---------------------------*- C++ -*-===//
//
// Write a function against `ajit::Tensor`, wrap it with `ajit::jit`, call it with
// `ajit::Array`s. The first call for each signature (shapes, dtypes, static arguments)
// traces the function into the `ajit` graph dialect, compiles it to native code and
// caches it; later calls with that signature go straight to the machine code.
//
//   auto g = ajit::jit([](const ajit::Tensor &x) {
//     return ajit::sum(ajit::sin(x) * ajit::sin(x) + ajit::cos(x) * ajit::cos(x));
//   }, {.name = "g"});
//   ajit::Array y = g(ajit::Array::from<float>(values, {10000}));
//
// This header pulls in no LLVM or MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_FRONTEND_AJIT_H
#define AJIT_FRONTEND_AJIT_H

#include "runtime/Error.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace ajit {

//===----------------------------------------------------------------------===//
// dtypes and shapes
//===----------------------------------------------------------------------===//

enum class DType : uint8_t { f32, f64, i32, i64, boolean, f16, bf16 };

const char *dtypeName(DType dtype); ///< "f32", "bool", ...
size_t dtypeSize(DType dtype);
bool isFloat(DType dtype);

template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::f32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::f64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::i32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::i64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::boolean; };

using Shape = std::vector<int64_t>;
int64_t numElements(const Shape &shape);
/// `f32[3,4]`: how shapes appear in every message.
std::string describe(DType dtype, const Shape &shape);

//===----------------------------------------------------------------------===//
// Array: host data, owned (64-byte aligned) or a zero-copy view of user memory; the
// output of a GPU call also holds its values on the device until the host writes them
//===----------------------------------------------------------------------===//

namespace gpu {
class DeviceBuffer;
}
namespace detail {
class JitCore;
struct DeviceCopy;
}

class Array {
public:
  Array() = default; ///< a null array; passing it to a jitted function is an error

  static Array empty(Shape shape, DType dtype); ///< uninitialised
  static Array zeros(Shape shape, DType dtype);
  template <class T> static Array from(const std::vector<T> &values, Shape shape) {
    Array a = empty(std::move(shape), DTypeOf<T>::value);
    a.checkCount(values.size());
    std::copy(values.begin(), values.end(), a.data<T>());
    return a;
  }
  template <class T> static Array scalar(T value) { return from<T>({value}, {}); }
  /// Wraps user memory without copying. The caller keeps it alive. Throws ajit::Error for
  /// a null pointer (unless the array is empty) or one not aligned to the element size.
  static Array view(void *data, Shape shape, DType dtype);

  bool isNull() const { return !valid_; }
  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return size_; }
  size_t nbytes() const { return static_cast<size_t>(size_) * dtypeSize(dtype_); }
  bool isView() const { return valid_ && !storage_; }
  /// Whether the values are also on the GPU: true for the output of a GPU call (and its
  /// copies) until the host writes it. A GPU call then reads it where it is, without a
  /// copy; the host's first read copies it back once. Reading through a const Array
  /// keeps the GPU copy; the non-const accessors below count as writes and drop it.
  bool onDevice() const;
  /// The array with its values also on the GPU, for GPU calls to read where they are
  /// (weights used by many calls, say): itself if already there, else a copy (host
  /// storage included, so that no other copy of this Array can write it unseen). Throws
  /// ajit::Error without a GPU.
  Array toDevice() const;
  void *rawData() {
    if (device_) dropDeviceCopy();
    return data_;
  }
  const void *rawData() const {
    if (device_) syncHost();
    return data_;
  }

  template <class T> T *data() {
    checkType(DTypeOf<T>::value);
    return static_cast<T *>(rawData());
  }
  template <class T> const T *data() const {
    checkType(DTypeOf<T>::value);
    return static_cast<const T *>(rawData());
  }
  template <class T> std::vector<T> toVector() const {
    const T *p = data<T>();
    return std::vector<T>(p, p + size_);
  }
  /// The single element of a size-1 array.
  template <class T> T item() const {
    checkCount(1);
    return *data<T>();
  }
  std::string str() const; ///< `f32[3]{1, 2, 3}` (long arrays elided)

private:
  friend class detail::JitCore; // hands a donated argument's storage to an output, and
                                // GPU outputs their device copies
  void checkType(DType expected) const;
  void checkCount(size_t count) const;
  void syncHost() const;  ///< copies the values back from the device if the host lacks them
  void dropDeviceCopy();  ///< syncHost, then the device copy goes: the host will write

  std::shared_ptr<void> storage_;
  std::shared_ptr<detail::DeviceCopy> device_; ///< shared by the Array's copies, as storage_
  void *data_ = nullptr;
  Shape shape_;
  int64_t size_ = 0;
  DType dtype_ = DType::f32;
  bool valid_ = false;
};

//===----------------------------------------------------------------------===//
// Tensor: a symbolic value while a function is being traced
//===----------------------------------------------------------------------===//

namespace detail {
class Trace;
}

class Tensor {
public:
  const Shape &shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return numElements(shape_); }
  std::string str() const { return describe(dtype_, shape_); }

  // For the implementation: the trace it belongs to and its mlir::Value.
  Tensor(detail::Trace *trace, void *value, Shape shape, DType dtype)
      : trace_(trace), value_(value), shape_(std::move(shape)), dtype_(dtype) {}
  detail::Trace *trace() const { return trace_; }
  void *value() const { return value_; }

private:
  detail::Trace *trace_;
  void *value_;
  Shape shape_;
  DType dtype_;
};

using Loc = std::source_location;

/// A tensor operand that remembers where in the user's code it was used, so that errors
/// in operators (which cannot take a defaulted location parameter) point at that line.
struct TensorAt {
  TensorAt(const Tensor &t, Loc loc = Loc::current()) : tensor(t), loc(loc) {}
  const Tensor &tensor;
  Loc loc;
};
/// A Python-style scalar operand: it takes the dtype of the tensor it meets.
struct ScalarAt {
  ScalarAt(double v, Loc loc = Loc::current()) : value(v), loc(loc) {}
  double value;
  Loc loc;
};

// Elementwise unary ops.
Tensor neg(const Tensor &x, Loc loc = Loc::current());
Tensor abs(const Tensor &x, Loc loc = Loc::current());
Tensor exp(const Tensor &x, Loc loc = Loc::current());
Tensor log(const Tensor &x, Loc loc = Loc::current());
Tensor sin(const Tensor &x, Loc loc = Loc::current());
Tensor cos(const Tensor &x, Loc loc = Loc::current());
Tensor tanh(const Tensor &x, Loc loc = Loc::current());
Tensor sqrt(const Tensor &x, Loc loc = Loc::current());
Tensor rsqrt(const Tensor &x, Loc loc = Loc::current());
Tensor sigmoid(const Tensor &x, Loc loc = Loc::current());
Tensor relu(const Tensor &x, Loc loc = Loc::current());
/// GELU; `approximate` selects the tanh form (as jax.nn.gelu), else the erf form.
Tensor gelu(const Tensor &x, bool approximate = true, Loc loc = Loc::current());

// Elementwise binary ops with NumPy broadcasting. Operand dtypes must match (use
// astype); a scalar takes the tensor's dtype.
Tensor add(const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor sub(const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor mul(const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor div(const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor maximum(const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor minimum(const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor pow(const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor pow(const Tensor &x, double y, Loc loc = Loc::current());

enum class Cmp { eq, ne, lt, le, gt, ge };
Tensor compare(Cmp cmp, const Tensor &x, const Tensor &y, Loc loc = Loc::current());
/// cond ? x : y, with broadcasting of all three.
Tensor where(const Tensor &cond, const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor clamp(const Tensor &x, double lo, double hi, Loc loc = Loc::current());
Tensor clamp(const Tensor &x, const Tensor &lo, const Tensor &hi, Loc loc = Loc::current());
Tensor astype(const Tensor &x, DType dtype, Loc loc = Loc::current());

// Constants (need an active trace: call them inside the traced function).
Tensor full(const Shape &shape, double value, DType dtype = DType::f32, Loc loc = Loc::current());
Tensor constant(const Array &value, Loc loc = Loc::current());
/// `value` as a tensor of `like`'s dtype and shape.
Tensor fullLike(const Tensor &like, double value, Loc loc = Loc::current());

// Shape ops.
Tensor broadcastTo(const Tensor &x, const Shape &shape, Loc loc = Loc::current());
/// StableHLO's broadcast_in_dim: operand dim i becomes result dim dims[i].
Tensor broadcastInDim(const Tensor &x, const Shape &shape, const std::vector<int64_t> &dims,
                      Loc loc = Loc::current());
/// Row-major reshape; one dimension may be -1 (inferred).
Tensor reshape(const Tensor &x, const Shape &shape, Loc loc = Loc::current());
/// Result dim i is x's dim perm[i]; an empty perm reverses the dims.
Tensor transpose(const Tensor &x, const std::vector<int64_t> &perm = {}, Loc loc = Loc::current());

// Reductions. An empty `axes` reduces over all axes; negative axes count from the end.
Tensor sum(const Tensor &x, const std::vector<int64_t> &axes = {}, bool keepdims = false,
           Loc loc = Loc::current());
Tensor max(const Tensor &x, const std::vector<int64_t> &axes = {}, bool keepdims = false,
           Loc loc = Loc::current());
Tensor min(const Tensor &x, const std::vector<int64_t> &axes = {}, bool keepdims = false,
           Loc loc = Loc::current());
Tensor mean(const Tensor &x, const std::vector<int64_t> &axes = {}, bool keepdims = false,
            Loc loc = Loc::current());
/// Index (i64) of the first maximum / minimum along `axis`.
Tensor argmax(const Tensor &x, int64_t axis = -1, bool keepdims = false, Loc loc = Loc::current());
Tensor argmin(const Tensor &x, int64_t axis = -1, bool keepdims = false, Loc loc = Loc::current());

// Contractions and composites.
/// NumPy matmul: 1-D, 2-D, or batched (rank 3, with a rank-2 operand broadcast).
Tensor matmul(const Tensor &x, const Tensor &y, Loc loc = Loc::current());
Tensor softmax(const Tensor &x, int64_t axis = -1, Loc loc = Loc::current());
Tensor logSoftmax(const Tensor &x, int64_t axis = -1, Loc loc = Loc::current());

// Operators. The left operand carries the user's source location.
Tensor operator-(TensorAt x);
Tensor operator+(TensorAt x, const Tensor &y);
Tensor operator-(TensorAt x, const Tensor &y);
Tensor operator*(TensorAt x, const Tensor &y);
Tensor operator/(TensorAt x, const Tensor &y);
Tensor operator+(TensorAt x, double y);
Tensor operator-(TensorAt x, double y);
Tensor operator*(TensorAt x, double y);
Tensor operator/(TensorAt x, double y);
Tensor operator+(ScalarAt x, const Tensor &y);
Tensor operator-(ScalarAt x, const Tensor &y);
Tensor operator*(ScalarAt x, const Tensor &y);
Tensor operator/(ScalarAt x, const Tensor &y);
Tensor operator==(TensorAt x, const Tensor &y);
Tensor operator!=(TensorAt x, const Tensor &y);
Tensor operator<(TensorAt x, const Tensor &y);
Tensor operator<=(TensorAt x, const Tensor &y);
Tensor operator>(TensorAt x, const Tensor &y);
Tensor operator>=(TensorAt x, const Tensor &y);
Tensor operator<(TensorAt x, double y);
Tensor operator<=(TensorAt x, double y);
Tensor operator>(TensorAt x, double y);
Tensor operator>=(TensorAt x, double y);

//===----------------------------------------------------------------------===//
// grad
//===----------------------------------------------------------------------===//

namespace detail {
/// A traced function's results as a list of Tensors and back (Tensor, vector or tuple
/// of Tensors); jit unflattens Arrays, vmap Tensors.
template <class R> struct Results;
template <> struct Results<Tensor> {
  static std::vector<Tensor> flatten(const Tensor &t) { return {t}; }
  template <class E> static E unflatten(std::vector<E> &&v) { return std::move(v[0]); }
};
template <> struct Results<std::vector<Tensor>> {
  static std::vector<Tensor> flatten(const std::vector<Tensor> &t) { return t; }
  template <class E> static std::vector<E> unflatten(std::vector<E> &&v) { return std::move(v); }
};
template <class... Ts> struct Results<std::tuple<Ts...>> {
  static_assert((std::is_same_v<Ts, Tensor> && ...), "a traced function returns Tensors");
  static std::vector<Tensor> flatten(const std::tuple<Ts...> &t) {
    return std::apply([](const auto &...x) { return std::vector<Tensor>{x...}; }, t);
  }
  template <class E> static auto unflatten(std::vector<E> &&v) {
    return unflattenImpl(std::move(v), std::index_sequence_for<Ts...>{});
  }
  template <class E, size_t... I> static auto unflattenImpl(std::vector<E> &&v, std::index_sequence<I...>) {
    return std::tuple<std::conditional_t<true, E, Ts>...>{std::move(v[I])...};
  }
};

template <class T> const Tensor *tensorOrNull(const T &a) {
  if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) return &a;
  else return nullptr;
}

/// The Tensors among `args` (null for other arguments) at positions `argnums`; throws
/// ajit::Error naming a position that is not a Tensor argument (frontend/Grad.cpp).
std::vector<Tensor> pickTensors(const std::vector<const Tensor *> &args, const std::vector<int> &argnums,
                                const Loc &loc);
/// Cotangents of `wrt` for the traced scalar `output`: appends the backward pass to the
/// trace (frontend/Grad.cpp).
std::vector<Tensor> vjp(const Tensor &output, const std::vector<Tensor> &wrt, const Loc &loc);

/// `f(args...)`, then its gradients with respect to the arguments at `argnums`.
template <class F, class... A>
std::vector<Tensor> valueAndGrads(const F &f, const std::vector<int> &argnums, const Loc &loc, const A &...args) {
  static_assert(std::is_same_v<std::decay_t<std::invoke_result_t<const F &, const A &...>>, Tensor>,
                "ajit::grad: the function must return one Tensor (a scalar)");
  std::vector<Tensor> wrt = pickTensors({tensorOrNull(args)...}, argnums, loc);
  Tensor y = f(args...);
  std::vector<Tensor> out = vjp(y, wrt, loc);
  out.insert(out.begin(), y);
  return out;
}
} // namespace detail

/// Reverse-mode gradient (JAX's `jax.grad`): `grad(f, i)` is a function of the same
/// arguments as `f` returning d f / d (argument i). `f` returns a scalar float Tensor.
/// The backward pass is traced into the same program, so `jit(grad(f))` compiles and
/// fuses forward and backward together; grad of grad works too.
template <class F> auto grad(F f, int argnum = 0, Loc loc = Loc::current()) {
  return [f, argnum, loc](const auto &...args) -> Tensor {
    return detail::valueAndGrads(f, {argnum}, loc, args...)[1];
  };
}

/// Gradients with respect to several arguments, in the order of `argnums`.
template <class F> auto grad(F f, std::vector<int> argnums, Loc loc = Loc::current()) {
  return [f, argnums, loc](const auto &...args) -> std::vector<Tensor> {
    std::vector<Tensor> out = detail::valueAndGrads(f, argnums, loc, args...);
    out.erase(out.begin());
    return out;
  };
}

/// `f`'s value and its gradient with respect to argument `argnum`.
template <class F> auto value_and_grad(F f, int argnum = 0, Loc loc = Loc::current()) {
  return [f, argnum, loc](const auto &...args) -> std::tuple<Tensor, Tensor> {
    std::vector<Tensor> out = detail::valueAndGrads(f, {argnum}, loc, args...);
    return {out[0], out[1]};
  };
}

/// `f`'s value, then its gradients with respect to each of `argnums`.
template <class F> auto value_and_grad(F f, std::vector<int> argnums, Loc loc = Loc::current()) {
  return [f, argnums, loc](const auto &...args) -> std::vector<Tensor> {
    return detail::valueAndGrads(f, argnums, loc, args...);
  };
}

//===----------------------------------------------------------------------===//
// vmap
//===----------------------------------------------------------------------===//

namespace detail {
/// The per-example trace of a vmapped function, replayed with batching rules into the
/// caller's trace (frontend/Vmap.cpp).
class BatchTrace {
public:
  /// `inputs`: the Tensor arguments; `inAxes`: each one's batch axis, or none (empty:
  /// all 0). Starts the per-example trace.
  BatchTrace(const std::vector<Tensor> &inputs, const std::vector<std::optional<int64_t>> &inAxes, const Loc &loc);
  ~BatchTrace();
  /// Per-example stand-ins for the inputs, to call the function with.
  const std::vector<Tensor> &innerInputs() const;
  /// The batched results, the batch at `outAxes` (empty: all 0).
  std::vector<Tensor> finish(const std::vector<Tensor> &results, const std::vector<int64_t> &outAxes);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Argument `I` of a call, with Tensors replaced by the per-example stand-ins.
template <size_t I, class T>
decltype(auto) substitute(const std::vector<std::optional<Tensor>> &byPosition, const T &arg) {
  if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) return Tensor(*byPosition[I]);
  else return (arg);
}
template <class F, class... A, size_t... I>
auto callSubstituted(F &f, const std::vector<std::optional<Tensor>> &byPosition, std::index_sequence<I...>,
                     const A &...args) {
  return f(substitute<I>(byPosition, args)...);
}
} // namespace detail

/// Batching (JAX's `jax.vmap`): `vmap(f, in_axes, out_axes)` runs the per-example
/// function `f` over a batch as one program. `in_axes[i]` is the batch axis of the i-th
/// Tensor argument, or `std::nullopt` for one shared by every example (empty: all 0);
/// `out_axes[j]` where the batch goes in the j-th result (empty: all 0). Composes with
/// jit and grad: `jit(vmap(grad(loss), {std::nullopt, 0, 0}))` gives per-example gradients.
template <class F>
auto vmap(F f, std::vector<std::optional<int64_t>> inAxes = {}, std::vector<int64_t> outAxes = {},
          Loc loc = Loc::current()) {
  return [f, inAxes, outAxes, loc](const auto &...args) {
    std::vector<const Tensor *> all = {detail::tensorOrNull(args)...};
    std::vector<Tensor> tensors;
    for (const Tensor *t : all)
      if (t) tensors.push_back(*t);
    detail::BatchTrace batch(tensors, inAxes, loc);
    std::vector<std::optional<Tensor>> byPosition(all.size());
    for (size_t i = 0, k = 0; i < all.size(); ++i)
      if (all[i]) byPosition[i] = batch.innerInputs()[k++];
    auto result = detail::callSubstituted(f, byPosition, std::index_sequence_for<decltype(args)...>{}, args...);
    using R = std::decay_t<decltype(result)>;
    return detail::Results<R>::unflatten(batch.finish(detail::Results<R>::flatten(result), outAxes));
  };
}

//===----------------------------------------------------------------------===//
// jit
//===----------------------------------------------------------------------===//

/// Where compiled code runs.
struct Target {
  enum class Kind { cpu, cuda };
  Kind kind = Kind::cpu;
  /// For cuda: the GPU architecture the PTX is generated for (`sm_80`, `sm_90`); empty
  /// means GPU 0's own, in the form its driver takes, or sm_90 on a machine without a GPU
  /// (to compile and inspect PTX).
  std::string arch;
  /// The host CPU (the default).
  static Target cpu() { return {}; }
  /// An NVIDIA GPU through the CUDA driver (loaded when a program first runs on it). A
  /// call copies host inputs to the GPU; its outputs stay there (Array::onDevice) until
  /// the host reads them, and a later GPU call takes them where they are.
  static Target cuda(std::string arch = "") { return {Kind::cuda, std::move(arch)}; }
};

struct JitOptions {
  std::string name = "fn"; ///< shown in the compile log and dumps
  Target target = Target::cpu(); ///< where the compiled code runs (part of every cache key)
  /// Compiled signatures kept per function; past it, the least recently called one is
  /// evicted and its code unloaded (once no call is still running it). 0 counts as 1.
  size_t maxCacheEntries = 256;
  /// Arguments (positions among all arguments, as JAX's `donate_argnums`) whose buffers
  /// the call may take for outputs of the same dtype and shape, so that an update such as
  /// an optimizer step writes in place instead of into fresh memory. Each output takes
  /// at most one, in order, where the compiler proves it safe (AJIT_LOG_COMPILES says
  /// which). The buffer is taken only when the argument is the sole owner of it (no other
  /// Array copy, not a view, overlapping no other argument); otherwise the output gets a
  /// copy. Either way, treat a donated argument as consumed: use the output (and do not
  /// pass the same donated Array to calls running at once on other threads, nor read it
  /// on another thread while a call runs). On a GPU the same holds for the array's
  /// device buffer: a donated array already there is updated in place, without a new
  /// device allocation; if that call fails, the array keeps its values where its host
  /// copy held them, else they are unspecified.
  std::vector<int> donateArgnums;
};

/// Milliseconds spent in each stage of a compile.
struct CompileTimes {
  double trace = 0, graph = 0, lowering = 0, llvm = 0, load = 0, total = 0;
};

struct Stats {
  uint64_t compiles = 0;      ///< signatures compiled
  uint64_t diskCacheHits = 0; ///< signatures loaded from AJIT_CACHE_DIR instead of compiled
  uint64_t cacheHits = 0;     ///< calls served from the cache
  uint64_t calls = 0;         ///< all calls
  uint64_t cacheEntries = 0;  ///< compiled signatures held now
  uint64_t evictions = 0;     ///< signatures evicted to respect JitOptions::maxCacheEntries
  CompileTimes lastCompile;   ///< the most recent compile
  CompileTimes totalCompile;  ///< summed over all compiles
  double lastCallUs = 0;      ///< wall time of the most recent call, compile included
  uint64_t kernels = 0;       ///< kernels (loop nests) in the last compiled executable
  uint64_t kernelBytesRead = 0;    ///< bytes its kernels read per call (each kernel's inputs)
  uint64_t kernelBytesWritten = 0; ///< bytes its kernels write per call (each kernel's outputs)
};

/// Memory ajit keeps for reuse: released host buffers (output buffers and matmul
/// scratch, up to AJIT_BUFFER_POOL_MB each) and released GPU buffers (up to
/// AJIT_GPU_POOL_MB). Arrays in use are not counted.
struct CachedMemory {
  uint64_t hostBytes = 0, deviceBytes = 0;
};
CachedMemory cachedMemory();
/// Frees that memory (as torch.cuda.empty_cache does), for other code in the process
/// that needs it; returns what was freed. Later calls allocate afresh. Thread-safe.
CachedMemory releaseCachedMemory();

namespace detail {

/// Non-template half of a jitted function: the signature-keyed cache, the compile
/// driver, the log and the stats.
class JitCore {
public:
  explicit JitCore(JitOptions options);
  ~JitCore();
  JitCore(const JitCore &) = delete;
  JitCore &operator=(const JitCore &) = delete;

  struct Executable;
  using TraceFn = std::function<void(Trace &)>;

  /// The executable for `key`, tracing and compiling it on a miss (once per key, however
  /// many threads ask at once).
  std::shared_ptr<const Executable> get(const std::string &key, const TraceFn &trace);
  static std::vector<Array> run(const Executable &exe, const Array *const *inputs, size_t count);
  static std::vector<Array> runOnGpu(const Executable &exe, const Array *const *inputs, size_t count);
  /// Marks the traced function's parameters of the donated positions (JitOptions::
  /// donateArgnums; `isArray` says which positions are Arrays); throws for a position
  /// that is out of range or not an Array.
  void markDonated(Trace &trace, const std::vector<bool> &isArray) const;
  void recordCall(double us, bool hit);
  Stats stats() const;
  const std::string &name() const;
  /// Traces into a fresh module and prints it, compiling nothing.
  static std::string lowerToText(const std::string &name, const TraceFn &trace);
  /// The graph IR (`ajit` dialect) an executable was compiled from.
  static const std::string &graphText(const Executable &exe);
  static void checkInputs(const Executable &exe, const std::vector<Array> &inputs);

private:
  std::shared_ptr<const Executable> compile(const std::string &key, const TraceFn &trace,
                                            const std::string &reason);
  static bool donorIsAlone(const Array *const *inputs, size_t count, size_t donor);
  static Array takeDonated(const Array *const *inputs, size_t count, size_t donor);
  static Array takeDonatedOnDevice(const Array *const *inputs, size_t count, size_t donor,
                                   const std::shared_ptr<gpu::DeviceBuffer> &onDevice,
                                   std::vector<std::pair<DeviceCopy *, bool>> &inPlace);
  struct State;
  std::unique_ptr<State> state_;
};

// Key encoding of arguments; the same bytes are decoded for log messages.
void appendArrayKey(std::string &key, const Array &a, size_t position);
void appendStaticKey(std::string &key, int64_t v);
void appendStaticKey(std::string &key, double v);
void appendStaticKey(std::string &key, bool v);
void appendStaticKey(std::string &key, const std::string &v);

Tensor traceParameter(Trace &trace, const Array &like);
void traceResults(Trace &trace, const std::vector<Tensor> &results);

template <class T> inline constexpr bool isArray = std::is_same_v<std::decay_t<T>, Array>;

template <class T> void appendKey(std::string &key, const T &arg, size_t position) {
  using D = std::decay_t<T>;
  if constexpr (isArray<D>) appendArrayKey(key, arg, position);
  else if constexpr (std::is_same_v<D, bool>) appendStaticKey(key, arg);
  else if constexpr (std::is_integral_v<D> || std::is_enum_v<D>) appendStaticKey(key, static_cast<int64_t>(arg));
  else if constexpr (std::is_floating_point_v<D>) appendStaticKey(key, static_cast<double>(arg));
  else if constexpr (std::is_convertible_v<const D &, std::string>) appendStaticKey(key, std::string(arg));
  else static_assert(sizeof(D) == 0, "ajit::jit arguments are Arrays or static values (integers, "
                                     "floats, bools, enums, strings)");
}

/// Array arguments become traced tensors; everything else is passed through (static).
template <class T> decltype(auto) traceArg(Trace &trace, const T &arg) {
  if constexpr (isArray<T>) return traceParameter(trace, arg);
  else return (arg);
}
template <class T>
using TraceArgType = std::conditional_t<isArray<T>, Tensor, const T &>;

double nowUs();

} // namespace detail

/// A compiled signature of a jitted function, or a compiled graph-dialect program: run it
/// on arrays of exactly that signature (checked, with errors naming the argument), or
/// read its graph IR.
class Compiled {
public:
  std::vector<Array> run(const std::vector<Array> &inputs) const;
  /// The program in the `ajit` graph dialect (JAX's `lower(...).as_text()`).
  const std::string &asText() const { return detail::JitCore::graphText(*exe_); }
  /// dtype and shape of each input and output.
  const std::vector<std::pair<DType, Shape>> &inputs() const;
  const std::vector<std::pair<DType, Shape>> &outputs() const;
  /// Per-stage times of the compile that produced this.
  const CompileTimes &compileTimes() const;
  /// For a GPU target, the PTX of every kernel (one module after another; NVPTX LLVM IR
  /// when the driver is the tests' emulated one, which takes that); empty for the CPU.
  std::string ptx() const;
  /// For a GPU target, seconds per call of the kernels alone, for benchmarks: `inputs` are
  /// copied to the device once and stay there, then `batches` batches of `perBatch` calls
  /// are each timed by CUDA events (one value per batch). Throws ajit::Error for the CPU
  /// or without a GPU.
  std::vector<double> timeOnDevice(const std::vector<Array> &inputs, int batches = 7, int perBatch = 20) const;
  /// Bytes the kernels read and write per call (each kernel's inputs and outputs).
  uint64_t kernelBytes() const;

private:
  template <class F> friend class Jitted;
  friend Compiled compileProgram(const std::string &, const std::string &, const std::string &, const Target &);
  explicit Compiled(std::shared_ptr<const detail::JitCore::Executable> exe) : exe_(std::move(exe)) {}
  std::shared_ptr<const detail::JitCore::Executable> exe_;
};

/// Compiles a program in the `ajit` graph dialect (MLIR text: a `.mlir` file, or
/// Compiled::asText()) for `target` (the host CPU by default) with the JIT's pipeline. `function` selects the
/// function when the module has several. Throws ajit::Error naming `sourceName` and the
/// problem for text that does not parse, ops outside the ajit dialect, or IR that fails
/// verification.
Compiled compileProgram(const std::string &text, const std::string &sourceName = "<program>",
                        const std::string &function = "", const Target &target = Target::cpu());

template <class F> class Jitted {
public:
  Jitted(F fn, JitOptions options)
      : fn_(std::move(fn)), core_(std::make_shared<detail::JitCore>(std::move(options))) {}

  template <class... Args> auto operator()(const Args &...args) {
    double t0 = detail::nowUs();
    bool hit = true;
    auto exe = lookup(hit, args...);
    constexpr size_t n = (size_t{0} + ... + (detail::isArray<Args> ? 1 : 0));
    const Array *inputs[n > 0 ? n : 1];
    size_t i = 0;
    ((detail::isArray<Args> ? void(inputs[i++] = arrayPtr(args)) : void()), ...);
    auto outputs = core_->run(*exe, inputs, n);
    core_->recordCall(detail::nowUs() - t0, hit);
    return detail::Results<Result<Args...>>::unflatten(std::move(outputs));
  }

  /// Traces for these arguments and returns the program in the `ajit` graph dialect,
  /// without compiling or running it (JAX's `jit(f).lower(args).as_text()`). The text is
  /// what ajitc and ajit-run take.
  template <class... Args> std::string lower(const Args &...args) {
    return detail::JitCore::lowerToText(name(), [&](detail::Trace &trace) { traceInto(trace, args...); });
  }

  /// Traces and compiles for these arguments without running (JAX's lower().compile()).
  template <class... Args> Compiled compile(const Args &...args) {
    bool hit = true;
    return Compiled(lookup(hit, args...));
  }

  Stats stats() const { return core_->stats(); }

private:
  template <class... Args>
  using Result = std::decay_t<std::invoke_result_t<F &, detail::TraceArgType<Args>...>>;

  template <class T> static const Array *arrayPtr(const T &a) {
    if constexpr (detail::isArray<T>) return &a;
    else return nullptr;
  }

  template <class... Args>
  std::shared_ptr<const detail::JitCore::Executable> lookup(bool &hit, const Args &...args) {
    thread_local std::string key;
    key.clear();
    size_t position = 0;
    (detail::appendKey(key, args, position++), ...);
    hit = true;
    return core_->get(key, [&](detail::Trace &trace) {
      hit = false;
      traceInto(trace, args...);
    });
  }

  template <class... Args> void traceInto(detail::Trace &trace, const Args &...args) {
    // A braced list evaluates left to right, so parameters are numbered in order.
    std::tuple<detail::TraceArgType<Args>...> traced{detail::traceArg(trace, args)...};
    core_->markDonated(trace, {detail::isArray<Args>...});
    auto result = std::apply(fn_, traced);
    detail::traceResults(trace, detail::Results<Result<Args...>>::flatten(result));
  }

  const std::string &name() const { return core_->name(); }

  F fn_;
  std::shared_ptr<detail::JitCore> core_;
};

/// Wraps `fn` (a callable over Tensors and static values) as a cached, compiled function.
template <class F> Jitted<std::decay_t<F>> jit(F &&fn, JitOptions options = {}) {
  return Jitted<std::decay_t<F>>(std::forward<F>(fn), std::move(options));
}

} // namespace ajit

#endif
