//===- JitEngine.cpp - loads object code into the process (LLVM ORC) ------===//
#include "runtime/JitEngine.h"

#include "runtime/BufferPool.h"
#include "runtime/Error.h"

#include "kernels/matmul/Sgemm.h"
#include "runtime/Threads.h"

#include "llvm/ExecutionEngine/Orc/AbsoluteSymbols.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include <atomic>
#include <mutex>

namespace ajit {
namespace {

std::string describe(llvm::Error err) { return llvm::toString(std::move(err)); }

/// One LLJIT for the process: its session and linker are thread-safe, and creating one
/// costs milliseconds we do not want in every compile. Never destroyed: jitted functions
/// held in static objects unload their code during static destruction, after any
/// function-local static here would already be gone.
llvm::orc::LLJIT &jit() {
  static llvm::orc::LLJIT *instance = [] {
    configureWorkerThreads();
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto j = llvm::orc::LLJITBuilder().create();
    if (!j) throw Error("ajit: cannot start the JIT: " + describe(j.takeError()));
    return j->release();
  }();
  return *instance;
}

/// The functions generated code calls in ajit itself (micro-kernels, the buffer pool):
/// defined by address, since a static library's symbols are not in the process's
/// dynamic symbol table that the search generator reads.
llvm::Error defineRuntimeSymbols(llvm::orc::LLJIT &j, llvm::orc::JITDylib &dylib) {
  llvm::orc::SymbolMap symbols;
  auto add = [&](const char *name, auto *fn) {
    symbols[j.mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(fn),
                                        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  };
  add("ajit_uk_sgemm", &ajit_uk_sgemm);
  add("ajit_uk_sgemm_pack_b", &ajit_uk_sgemm_pack_b);
  add("ajit_rt_buffer_acquire", &ajit_rt_buffer_acquire);
  add("ajit_rt_buffer_release", &ajit_rt_buffer_release);
  return dylib.define(llvm::orc::absoluteSymbols(std::move(symbols)));
}

class OrcCode final : public LoadedCode {
public:
  OrcCode(llvm::orc::JITDylib &dylib, void *address) : dylib_(dylib), address_(address) {}
  ~OrcCode() override {
    if (auto err = jit().getExecutionSession().removeJITDylib(dylib_))
      llvm::consumeError(std::move(err)); // nothing useful to do in a destructor
  }
  void *address() const override { return address_; }

private:
  llvm::orc::JITDylib &dylib_;
  void *address_;
};

} // namespace

std::unique_ptr<LoadedCode> loadObject(const std::vector<char> &object, const std::string &symbol) {
  static std::atomic<uint64_t> counter{0};
  llvm::orc::LLJIT &j = jit();
  std::string name = "ajit." + std::to_string(counter++);
  auto dylib = j.createJITDylib(name);
  if (!dylib) throw Error("ajit: cannot create a JIT library: " + describe(dylib.takeError()));
  auto fail = [&](const std::string &what, llvm::Error err) -> std::unique_ptr<LoadedCode> {
    std::string msg = describe(std::move(err));
    llvm::consumeError(j.getExecutionSession().removeJITDylib(*dylib));
    throw Error("ajit: " + what + ": " + msg);
  };
  auto generator = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      j.getDataLayout().getGlobalPrefix());
  if (!generator) return fail("cannot search the process for symbols", generator.takeError());
  dylib->addGenerator(std::move(*generator));
  if (auto err = defineRuntimeSymbols(j, *dylib)) return fail("cannot define the runtime's symbols", std::move(err));
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()), name);
  if (auto err = j.addObjectFile(*dylib, std::move(buffer))) return fail("cannot add object code", std::move(err));
  auto addr = j.lookup(*dylib, symbol);
  if (!addr) return fail("cannot link '" + symbol + "'", addr.takeError());
  return std::make_unique<OrcCode>(*dylib, addr->toPtr<void *>());
}

} // namespace ajit
