//===- Jit.cpp - the signature-keyed executable cache and compile driver --===//
//
// A cache hit is a shared-lock hash lookup and an indirect call: no trace, no compile,
// no allocation beyond the outputs. A miss traces and compiles outside the lock; other
// threads asking for the same signature wait for that one compile (a shared_future),
// threads with other signatures compile in parallel, each in its own MLIRContext.
//
//===----------------------------------------------------------------------===//

#include "frontend/Program.h"
#include "frontend/Signature.h"
#include "frontend/Trace.h"

#include "compiler/driver/Compile.h"
#include "runtime/DiskCache.h"
#include "runtime/Env.h"
#include "runtime/JitEngine.h"
#include "runtime/Threads.h"
#include "runtime/gpu/CudaDriver.h"
#include "frontend/DeviceCopy.h"
#include "runtime/gpu/GpuExecutable.h"

#include "compiler/dialect/AjitDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace ajit {
namespace detail {

double nowUs() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

namespace {

/// One compile session (context + pass managers) per compiling thread, reused across
/// its compiles. Renewed now and then, since a context never frees the types and
/// attributes it uniques.
CompileSession &compileSession() {
  struct Holder {
    std::unique_ptr<CompileSession> session;
    unsigned uses = 0;
  };
  thread_local Holder holder;
  if (!holder.session || ++holder.uses > 256) {
    holder.session.reset();
    holder.session = std::make_unique<CompileSession>();
    holder.uses = 1;
  }
  return *holder.session;
}

const TargetInfo &hostTarget() {
  static std::unique_ptr<TargetInfo> target = [] {
    std::string cpu = env::get("AJIT_CPU");
    // The worker count configureWorkerThreads gives libomp (0: every core).
    return createCpuTarget(cpu.empty() ? "native" : cpu, /*parallel=*/true, /*microKernels=*/true,
                           requestedWorkerThreads());
  }();
  return *target;
}

/// The code generator for `target`; one per GPU architecture and kernel form for the
/// process's life. With no architecture named: the device's, in the form its driver
/// takes (PTX; NVPTX LLVM IR for the tests' emulated driver), else sm_90.
const TargetInfo &targetFor(const Target &target) {
  if (target.kind == Target::Kind::cpu) return hostTarget();
  std::string arch = target.arch;
  bool llvmIr = false;
  if (arch.empty()) {
    std::string why;
    bool device = cuda::available(why);
    arch = device ? cuda::deviceArch() : "sm_90";
    llvmIr = device && cuda::takesLlvmIr();
  }
  static std::mutex mutex;
  static std::map<std::pair<std::string, bool>, std::unique_ptr<TargetInfo>> targets;
  std::lock_guard lock(mutex);
  auto it = targets.find({arch, llvmIr});
  if (it == targets.end()) {
    auto created = createPtxTarget(arch, llvmIr);
    if (!created) throw Error("ajit: unknown CUDA architecture '" + arch + "' (expected sm_80, sm_90, ...)");
    it = targets.emplace(std::pair(arch, llvmIr), std::move(created)).first;
  }
  return *it->second;
}

std::string hex8(const std::string &key) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08zx", std::hash<std::string>{}(key) & 0xffffffffu);
  return buf;
}

} // namespace

struct JitCore::Executable {
  std::unique_ptr<LoadedCode> code;
  void (*entry)(void **) = nullptr;
  std::unique_ptr<gpu::GpuExecutable> gpu; ///< instead of code and entry for a GPU target
  std::vector<std::pair<DType, Shape>> inputs, outputs;
  std::string graph;
  std::string signature;
  KernelStats kernels;
  /// Per output: the donated input whose buffer it is given (filled with that input), or
  /// -1 for a fresh buffer.
  std::vector<int32_t> reusesInput;
  CompileTimes times;
  std::string diskEntry; ///< the AJIT_CACHE_DIR file it was loaded from; empty if compiled
};

struct JitCore::State {
  JitOptions options;
  const TargetInfo *target = nullptr;

  struct Entry {
    std::shared_future<std::shared_ptr<const Executable>> future;
    std::shared_ptr<const Executable> ready; ///< set once compiled: the lock-free-ish hit path
    /// The cache epoch in which a call last found this entry: the LRU order. Epochs
    /// advance only when an entry is added, which is also the only time anything is
    /// evicted, so this orders entries exactly as far as eviction can tell, and a hit
    /// costs a read of a rarely written counter instead of a clock call.
    std::atomic<uint64_t> lastUse{0}; ///< entries are built in place: map nodes never move
  };
  mutable std::shared_mutex mutex;
  std::unordered_map<std::string, Entry> cache;

  std::atomic<uint64_t> compiles{0}, hits{0}, calls{0}, evictions{0}, diskHits{0};
  std::atomic<uint64_t> epoch{0}; ///< advanced by every insertion (under the unique lock)
  std::atomic<double> lastCallUs{0};
  mutable std::mutex statsMutex;
  CompileTimes last, total;
  KernelStats lastKernels;

  /// Evicts least recently used compiled entries other than `keep` until at most `limit`
  /// remain (or only compiling ones are left); with the cache's lock held.
  void evictDownTo(size_t limit, const std::string &keep) {
    while (cache.size() > limit) {
      // The least recently used compiled entry; entries still compiling stay.
      auto victim = cache.end();
      for (auto it = cache.begin(); it != cache.end(); ++it)
        if (it->second.ready && it->first != keep &&
            (victim == cache.end() || it->second.lastUse.load(std::memory_order_relaxed) <
                                            victim->second.lastUse.load(std::memory_order_relaxed)))
          victim = it;
      if (victim == cache.end()) return;
      // Calls still running it hold their own shared_ptr; the code is unloaded after them.
      cache.erase(victim);
      evictions.fetch_add(1, std::memory_order_relaxed);
    }
  }
};

JitCore::JitCore(JitOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->options.maxCacheEntries = std::max<size_t>(state_->options.maxCacheEntries, 1);
  state_->target = &targetFor(state_->options.target);
}

JitCore::~JitCore() = default;

const std::string &JitCore::graphText(const Executable &exe) { return exe.graph; }

std::shared_ptr<const JitCore::Executable> JitCore::get(const std::string &key, const TraceFn &traceFn) {
  State &s = *state_;
  {
    std::shared_lock lock(s.mutex);
    auto it = s.cache.find(key);
    if (it != s.cache.end() && it->second.ready) {
      uint64_t now = s.epoch.load(std::memory_order_relaxed);
      if (it->second.lastUse.load(std::memory_order_relaxed) != now)
        it->second.lastUse.store(now, std::memory_order_relaxed);
      return it->second.ready;
    }
  }
  std::promise<std::shared_ptr<const Executable>> promise;
  std::shared_future<std::shared_ptr<const Executable>> future;
  std::string reason;
  {
    std::unique_lock lock(s.mutex);
    auto it = s.cache.find(key);
    if (it != s.cache.end()) {
      future = it->second.future;
    } else {
      // Explain the miss against the nearest signature compiled before (JAX's
      // explain-cache-misses).
      auto args = decodeKey(key);
      size_t best = SIZE_MAX;
      for (auto &[other, entry] : s.cache) {
        auto before = decodeKey(other);
        size_t d = distance(before, args);
        if (d < best) best = d, reason = describeChange(before, args);
      }
      if (reason.empty()) reason = "first compile";
      s.evictDownTo(s.options.maxCacheEntries - 1, key);
      State::Entry &entry = s.cache.try_emplace(key).first->second;
      entry.future = promise.get_future().share();
      entry.lastUse.store(s.epoch.fetch_add(1, std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  }
  if (future.valid()) return future.get(); // another thread compiles it; rethrows its error

  try {
    auto exe = compile(key, traceFn, reason);
    promise.set_value(exe);
    std::unique_lock lock(s.mutex);
    s.cache[key].ready = exe;
    // Entries still compiling cannot be evicted when a new one is added, so several
    // threads compiling at once may overshoot the bound; trim back now.
    s.evictDownTo(s.options.maxCacheEntries, key);
    return exe;
  } catch (...) {
    promise.set_exception(std::current_exception());
    std::unique_lock lock(s.mutex);
    s.cache.erase(key); // a later call retries; the cache stays usable
    throw;
  }
}

namespace {

/// "3 kernels, 40.0 KiB read, 8.0 KiB written": the per-call traffic of an executable.
std::string kernelSummary(const JitCore::Executable &exe) {
  auto kib = [](uint64_t b) { return fmt::format("{:.1f} KiB", static_cast<double>(b) / 1024); };
  const KernelStats &k = exe.kernels;
  std::string reuses;
  for (size_t j = 0; j < exe.reusesInput.size(); ++j)
    if (exe.reusesInput[j] >= 0) reuses += fmt::format(", output {} in input {}'s buffer", j, exe.reusesInput[j]);
  return fmt::format("{} kernel{}, {} read, {} written{}{}", k.kernels, k.kernels == 1 ? "" : "s",
                     kib(k.bytesRead), kib(k.bytesWritten), reuses,
                     exe.gpu ? ", PTX for " + exe.gpu->program().arch : std::string());
}

/// Diagnostics of a context, gathered as text while alive.
struct DiagnosticCollector {
  explicit DiagnosticCollector(mlir::MLIRContext &ctx)
      : os(text), handler(&ctx, [this](mlir::Diagnostic &d) {
          if (d.getSeverity() == mlir::DiagnosticSeverity::Error) os << d.getLocation() << ": error: " << d << "\n";
          return mlir::success();
        }) {}
  std::string text;
  llvm::raw_string_ostream os;
  mlir::ScopedDiagnosticHandler handler;
};

double msBetween(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

/// Records which input's buffer each output takes (one entry per output, as compiles and
/// cache entries give them); throws if that cannot be (an output/input pair of different
/// types: a cache entry for another program).
void setOutputReuses(JitCore::Executable &exe, const std::vector<int32_t> &reuses) {
  bool ok = reuses.size() == exe.outputs.size();
  for (size_t j = 0; ok && j < reuses.size(); ++j)
    ok = reuses[j] < 0 || (static_cast<size_t>(reuses[j]) < exe.inputs.size() &&
                           exe.inputs[reuses[j]] == exe.outputs[j] &&
                           std::count(reuses.begin(), reuses.end(), reuses[j]) == 1);
  if (!ok) throw Error("ajit: the outputs' donated buffers do not match the signature");
  exe.reusesInput = reuses;
}

/// Makes `exe` callable from a compiled (or cached) object of `target`.
void loadCode(JitCore::Executable &exe, const TargetInfo &target, const std::vector<char> &bytes,
              const std::string &entrySymbol) {
  if (!entrySymbol.empty()) {
    exe.code = loadObject(bytes, entrySymbol);
    exe.entry = reinterpret_cast<void (*)(void **)>(exe.code->address());
    return;
  }
  gpu::GpuProgram program;
  std::string why;
  if (!gpu::GpuProgram::parse(bytes, program, why)) throw Error("ajit: " + target.name() + " code: " + why);
  exe.gpu = std::make_unique<gpu::GpuExecutable>(std::move(program));
}

/// Graph-dialect module with one public function `name` -> a loaded executable. The one
/// path from IR to callable code, for traced functions and parsed programs alike.
std::shared_ptr<JitCore::Executable> buildExecutable(CompileSession &session, mlir::ModuleOp module,
                                                     const std::string &name, const TargetInfo &target,
                                                     const StageFn &onStage, CompileTimes &times) {
  auto exe = std::make_shared<JitCore::Executable>();
  auto fn = mlir::cast<mlir::func::FuncOp>(mlir::SymbolTable::lookupSymbolIn(module, name));
  for (mlir::Type type : fn.getArgumentTypes()) {
    auto t = mlir::cast<mlir::RankedTensorType>(type);
    exe->inputs.emplace_back(dtypeOf(t.getElementType()), Shape(t.getShape()));
  }
  for (mlir::Type type : fn.getResultTypes()) {
    auto t = mlir::cast<mlir::RankedTensorType>(type);
    exe->outputs.emplace_back(dtypeOf(t.getElementType()), Shape(t.getShape()));
  }
  for (size_t i = 0; i < exe->inputs.size(); ++i)
    exe->signature += (i ? ", " : "") + describe(exe->inputs[i].first, exe->inputs[i].second);
  {
    llvm::raw_string_ostream os(exe->graph);
    module.print(os);
  }
  std::string fnName = sanitize(name);
  fn.setSymName(fnName);

  // AJIT_CACHE_DIR: the object for this exact graph, target and cache-invalidating
  // settings, if a process compiled it before. Skipped while dumping IR (the dumps need
  // a real compile). The version is checked from the entry's header, not made part of
  // the key, so a new ajit overwrites old entries instead of piling up new files.
  std::string cacheDir = onStage ? std::string() : env::get("AJIT_CACHE_DIR");
  std::string diskKey, diskPath;
  if (!cacheDir.empty()) {
    diskKey = "target " + target.fingerprint() + "\nenv " + env::invalidatingFingerprint() + "\nfunction " +
              fnName + "\n" + exe->graph;
    diskPath = disk_cache::entryPath(cacheDir, diskKey);
    auto t0 = std::chrono::steady_clock::now();
    disk_cache::Entry entry;
    std::string why;
    disk_cache::Lookup found = disk_cache::load(diskPath, diskKey, entry, why);
    if (found == disk_cache::Lookup::hit) {
      try {
        setOutputReuses(*exe, entry.outputReusesInput);
        loadCode(*exe, target, entry.object, entry.entrySymbol);
        exe->kernels = entry.kernels;
        exe->diskEntry = diskPath;
        times.load = msBetween(t0, std::chrono::steady_clock::now());
        return exe;
      } catch (const Error &e) {
        found = disk_cache::Lookup::rejected;
        why = std::string("the object does not load: ") + e.what();
      }
    }
    if (found == disk_cache::Lookup::rejected)
      fmt::print(stderr, "ajit: warning: cache entry {} rejected: {}; recompiling\n", diskPath, why);
  }

  DiagnosticCollector diagnostics(session.context());
  CompileResult result;
  std::string error;
  CompileOptions options;
  options.onStage = onStage;
  if (mlir::failed(compileToObject(session, module, fnName, target, options, result, error)))
    throw Error("ajit: compiling " + name + "(" + exe->signature + ") failed: " + error +
                (diagnostics.text.empty() ? "" : "\n" + diagnostics.text));
  auto t1 = std::chrono::steady_clock::now();
  setOutputReuses(*exe, result.outputReusesInput);
  loadCode(*exe, target, result.object.bytes, result.object.entrySymbol);
  exe->kernels = result.kernels;
  times.graph = result.graphMs;
  times.lowering = result.loweringMs;
  times.llvm = result.object.translateMs + result.object.optimizeMs + result.object.codegenMs;
  times.load = msBetween(t1, std::chrono::steady_clock::now());
  if (!diskPath.empty()) {
    // The code is loaded: the entry can take the object's bytes.
    disk_cache::Entry entry{result.object.entrySymbol, result.kernels, exe->reusesInput,
                            std::move(result.object.bytes)};
    if (!disk_cache::store(diskPath, diskKey, entry, error))
      fmt::print(stderr, "ajit: warning: not stored in the cache: {}\n", error);
  }
  return exe;
}

} // namespace

std::shared_ptr<const JitCore::Executable> JitCore::compile(const std::string &key, const TraceFn &traceFn,
                                                            const std::string &reason) {
  State &s = *state_;
  auto t0 = std::chrono::steady_clock::now();
  CompileSession &session = compileSession();
  mlir::OwningOpRef<mlir::ModuleOp> module;
  {
    Trace trace(session.context(), s.options.name);
    traceFn(trace); // user code: may throw ajit::Error, which propagates as is
    module = trace.takeModule();
  }
  auto t1 = std::chrono::steady_clock::now();
  std::string dumpDir = env::get("AJIT_DUMP_IR");
  StageFn dump = dumpDir.empty() ? StageFn() : dumpToFiles(dumpDir + "/" + s.options.name + "." + hex8(key));
  CompileTimes times;
  auto exe = buildExecutable(session, *module, s.options.name, *s.target, dump, times);
  exe->signature = describeSignature(decodeKey(key)); // static arguments included
  times.trace = msBetween(t0, t1);
  times.total = msBetween(t0, std::chrono::steady_clock::now());
  exe->times = times;
  {
    std::lock_guard lock(s.statsMutex);
    s.last = times;
    s.total.trace += times.trace;
    s.total.graph += times.graph;
    s.total.lowering += times.lowering;
    s.total.llvm += times.llvm;
    s.total.load += times.load;
    s.total.total += times.total;
    s.lastKernels = exe->kernels;
  }
  bool fromDisk = !exe->diskEntry.empty();
  uint64_t n = fromDisk ? ++s.diskHits : ++s.compiles;
  if (env::flag("AJIT_LOG_COMPILES")) {
    std::string outs;
    for (size_t i = 0; i < exe->outputs.size(); ++i)
      outs += (i ? ", " : "") + describe(exe->outputs[i].first, exe->outputs[i].second);
    if (fromDisk)
      fmt::print(stderr,
                 "ajit: disk cache hit #{} {}({}) -> ({}) [{}] trace {:.2f} ms, load {:.2f} ms, total {:.2f} ms, "
                 "{} ({})\n",
                 n, s.options.name, exe->signature, outs, reason, times.trace, times.load, times.total,
                 kernelSummary(*exe), exe->diskEntry);
    else
      fmt::print(stderr,
                 "ajit: compile #{} {}({}) -> ({}) [{}] trace {:.2f} ms, graph {:.2f} ms, lowering {:.2f} ms, "
                 "llvm {:.2f} ms, load {:.2f} ms, total {:.2f} ms, {}\n",
                 n, s.options.name, exe->signature, outs, reason, times.trace, times.graph, times.lowering,
                 times.llvm, times.load, times.total, kernelSummary(*exe));
  }
  return exe;
}

/// Whether nothing but the call can see donated input `donor` change: no other Array or
/// view shares its storage (nor, then, its device copy), and it overlaps no other input.
bool JitCore::donorIsAlone(const Array *const *inputs, size_t count, size_t donor) {
  const Array &in = *inputs[donor];
  bool alone = in.storage_ && in.storage_.use_count() == 1;
  auto begin = static_cast<const char *>(in.data_), end = begin + in.nbytes();
  for (size_t k = 0; alone && k < count; ++k) {
    if (k == donor) continue;
    auto b = static_cast<const char *>(inputs[k]->data_), e = b + inputs[k]->nbytes();
    alone = e <= begin || end <= b;
  }
  return alone;
}

/// The buffer for an output that reuses donated input `donor`, holding its values: its
/// own storage when it is alone (donorIsAlone), else a copy, which leaves `in` as it was.
Array JitCore::takeDonated(const Array *const *inputs, size_t count, size_t donor) {
  const Array &in = *inputs[donor];
  if (donorIsAlone(inputs, count, donor)) return in;
  Array copy = Array::empty(in.shape_, in.dtype_);
  if (in.nbytes()) std::memcpy(copy.data_, in.data_, in.nbytes());
  return copy;
}

/// A GPU call's output that reuses donated input `donor` (`onDevice`: its device buffer,
/// or null), its device buffer holding the input's values: the input itself when it is
/// alone and that buffer is still its device copy (its host copy then marked stale, and
/// the input recorded in `inPlace` with whether that host copy held its values), else a
/// fresh one filled from the device or the host, which leaves the input as it was.
Array JitCore::takeDonatedOnDevice(const Array *const *inputs, size_t count, size_t donor,
                                   const std::shared_ptr<gpu::DeviceBuffer> &onDevice,
                                   std::vector<std::pair<DeviceCopy *, bool>> &inPlace) {
  const Array &in = *inputs[donor];
  if (onDevice && donorIsAlone(inputs, count, donor)) {
    std::lock_guard lock(in.device_->mutex);
    if (in.device_->buffer == onDevice) {
      inPlace.emplace_back(in.device_.get(), in.device_->hostCurrent.exchange(false)); // the call writes it
      return in;
    }
  }
  Array out = Array::empty(in.shape_, in.dtype_);
  out.device_ = DeviceCopy::allocate(out.nbytes());
  if (onDevice) out.device_->buffer->copyFromDevice(*onDevice);
  else out.device_->buffer->copyFromHost(in.rawData());
  return out;
}

/// A GPU call: inputs already on the device are read there, the others copied in; the
/// outputs stay on the device (each Array holds its buffer) until the host reads them.
std::vector<Array> JitCore::runOnGpu(const Executable &exe, const Array *const *inputs, size_t count) {
  std::vector<const void *> host(count, nullptr);
  std::vector<uint64_t> device(count, 0), outputAddresses;
  // The input buffers, held for the call: another thread's host write drops an Array's
  // device copy, but the buffer stays allocated until the call ends.
  std::vector<std::shared_ptr<gpu::DeviceBuffer>> held(count);
  for (size_t i = 0; i < count; ++i) {
    if (const auto &copy = inputs[i]->device_) {
      std::lock_guard lock(copy->mutex);
      if (copy->buffer) {
        device[i] = copy->buffer->address();
        held[i] = copy->buffer;
        continue;
      }
    }
    host[i] = inputs[i]->rawData();
  }
  std::vector<Array> outputs;
  outputs.reserve(exe.outputs.size());
  // Donated inputs updated in place, and whether their host copy held their values.
  std::vector<std::pair<DeviceCopy *, bool>> inPlace;
  try {
    for (size_t j = 0; j < exe.outputs.size(); ++j) {
      int32_t donor = exe.reusesInput[j];
      if (donor >= 0) {
        Array &out = outputs.emplace_back(takeDonatedOnDevice(inputs, count, donor, held[donor], inPlace));
        // The kernels read the donor's values from the output's buffer (nothing else):
        // it is not copied in.
        device[donor] = out.device_->buffer->address();
      } else {
        Array &out = outputs.emplace_back(Array::empty(exe.outputs[j].second, exe.outputs[j].first));
        out.device_ = DeviceCopy::allocate(out.nbytes());
      }
      outputAddresses.push_back(outputs.back().device_->buffer->address());
    }
    exe.gpu->runOnDevice(host.data(), device.data(), outputAddresses.data());
  } catch (...) {
    // Copies queued for donated outputs must finish before their buffers are reused; a
    // donor updated in place whose host copy held its values gets them back (the device
    // copy may be half written), else its values are unspecified, as a failed in-place
    // update's are on the CPU.
    cuda::drain();
    for (auto [copy, hostWasCurrent] : inPlace)
      if (hostWasCurrent) {
        std::lock_guard lock(copy->mutex);
        copy->buffer.reset();
        copy->hostCurrent.store(true, std::memory_order_release);
      }
    throw;
  }
  return outputs;
}

std::vector<Array> JitCore::run(const Executable &exe, const Array *const *inputs, size_t count) {
  if (exe.gpu) return runOnGpu(exe, inputs, count);
  constexpr size_t kInline = 16;
  size_t total = count + exe.outputs.size();
  void *inlineArgs[kInline];
  std::vector<void *> heapArgs;
  void **args = inlineArgs;
  if (total > kInline) {
    heapArgs.resize(total);
    args = heapArgs.data();
  }
  for (size_t i = 0; i < count; ++i) args[i] = const_cast<void *>(inputs[i]->rawData());
  std::vector<Array> outputs;
  outputs.reserve(exe.outputs.size());
  for (size_t j = 0; j < exe.outputs.size(); ++j) {
    int32_t donor = exe.reusesInput[j]; // checked against the signature when loaded
    if (donor >= 0) outputs.push_back(takeDonated(inputs, count, donor));
    else outputs.push_back(Array::empty(exe.outputs[j].second, exe.outputs[j].first));
    args[count + j] = outputs.back().rawData();
  }
  exe.entry(args);
  return outputs;
}

void JitCore::checkInputs(const Executable &exe, const std::vector<Array> &inputs) {
  if (inputs.size() != exe.inputs.size())
    throw Error("ajit: expected " + std::to_string(exe.inputs.size()) + " array arguments (" + exe.signature +
                "), got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto &[dtype, shape] = exe.inputs[i];
    if (inputs[i].isNull()) throw Error("ajit: argument " + std::to_string(i) + " is a null Array");
    if (inputs[i].dtype() != dtype || inputs[i].shape() != shape)
      throw Error("ajit: argument " + std::to_string(i) + ": expected " + describe(dtype, shape) + ", got " +
                  describe(inputs[i].dtype(), inputs[i].shape()));
  }
}

void JitCore::recordCall(double us, bool hit) {
  State &s = *state_;
  s.calls.fetch_add(1, std::memory_order_relaxed);
  if (hit) s.hits.fetch_add(1, std::memory_order_relaxed);
  s.lastCallUs.store(us, std::memory_order_relaxed);
}

Stats JitCore::stats() const {
  const State &s = *state_;
  Stats out;
  out.compiles = s.compiles.load();
  out.cacheHits = s.hits.load();
  out.calls = s.calls.load();
  out.lastCallUs = s.lastCallUs.load();
  out.evictions = s.evictions.load();
  out.diskCacheHits = s.diskHits.load();
  {
    std::shared_lock lock(s.mutex);
    for (auto &[key, entry] : s.cache) out.cacheEntries += entry.ready != nullptr;
  }
  std::lock_guard lock(s.statsMutex);
  out.lastCompile = s.last;
  out.totalCompile = s.total;
  out.kernels = s.lastKernels.kernels;
  out.kernelBytesRead = s.lastKernels.bytesRead;
  out.kernelBytesWritten = s.lastKernels.bytesWritten;
  return out;
}

const std::string &JitCore::name() const { return state_->options.name; }

std::string JitCore::lowerToText(const std::string &name, const TraceFn &traceFn) {
  CompileSession &session = compileSession();
  mlir::OwningOpRef<mlir::ModuleOp> module;
  {
    Trace trace(session.context(), name);
    traceFn(trace);
    module = trace.takeModule();
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

void JitCore::markDonated(Trace &trace, const std::vector<bool> &isArray) const {
  for (int position : state_->options.donateArgnums) {
    if (position < 0 || static_cast<size_t>(position) >= isArray.size())
      throw Error(fmt::format("ajit: {}: donateArgnums names argument {}, but the call has {} argument{}",
                              name(), position, isArray.size(), isArray.size() == 1 ? "" : "s"));
    if (!isArray[position])
      throw Error(fmt::format("ajit: {}: donateArgnums names argument {}, a static value: only Arrays "
                              "can be donated", name(), position));
    trace.donateParameter(static_cast<unsigned>(std::count(isArray.begin(), isArray.begin() + position, true)));
  }
}

Tensor traceParameter(Trace &trace, const Array &like) { return trace.parameter(like.dtype(), like.shape()); }

void traceResults(Trace &trace, const std::vector<Tensor> &results) {
  if (results.empty()) throw Error("ajit: a traced function must return at least one tensor");
  trace.setResults(results);
}

} // namespace detail

std::vector<Array> Compiled::run(const std::vector<Array> &inputs) const {
  detail::JitCore::checkInputs(*exe_, inputs);
  std::vector<const Array *> ptrs;
  for (const Array &a : inputs) ptrs.push_back(&a);
  return detail::JitCore::run(*exe_, ptrs.data(), ptrs.size());
}

const std::vector<std::pair<DType, Shape>> &Compiled::inputs() const { return exe_->inputs; }
const std::vector<std::pair<DType, Shape>> &Compiled::outputs() const { return exe_->outputs; }
const CompileTimes &Compiled::compileTimes() const { return exe_->times; }
std::string Compiled::ptx() const { return exe_->gpu ? exe_->gpu->program().allPtx() : std::string(); }
uint64_t Compiled::kernelBytes() const { return exe_->kernels.bytesRead + exe_->kernels.bytesWritten; }

std::vector<double> Compiled::timeOnDevice(const std::vector<Array> &inputs, int batches, int perBatch) const {
  if (!exe_->gpu) throw Error("ajit: timeOnDevice needs a GPU target (Target::cuda())");
  if (batches < 1 || perBatch < 1) throw Error("ajit: timeOnDevice needs at least one batch of one call");
  detail::JitCore::checkInputs(*exe_, inputs);
  std::vector<void *> ptrs;
  for (const Array &a : inputs) ptrs.push_back(const_cast<void *>(a.rawData()));
  return exe_->gpu->timeKernels(ptrs.data(), batches, perBatch, exe_->reusesInput);
}

Compiled compileProgram(const std::string &text, const std::string &sourceName, const std::string &function,
                        const Target &target) {
  using namespace detail;
  auto t0 = std::chrono::steady_clock::now();
  CompileSession &session = compileSession();
  ParsedProgram program = parseProgram(session.context(), text, sourceName, function);
  auto t1 = std::chrono::steady_clock::now();
  std::string dumpDir = env::get("AJIT_DUMP_IR");
  StageFn dump = dumpDir.empty() ? StageFn() : dumpToFiles(dumpDir + "/" + program.name + "." + hex8(text));
  CompileTimes times;
  auto exe = buildExecutable(session, *program.module, program.name, targetFor(target), dump, times);
  times.trace = msBetween(t0, t1); // parsing stands in for tracing
  times.total = msBetween(t0, std::chrono::steady_clock::now());
  exe->times = times;
  return Compiled(exe);
}

} // namespace ajit
