//===- PtxTarget.cpp - gpu.binary + host launches to a GpuProgram ---------===//
//
// After the PTX phases a module holds one gpu.binary of PTX per kernel and a host
// function of allocations and gpu.launch_func ops. The host function is read as a thunk
// sequence (runtime/gpu/GpuProgram.h), not compiled: anything else in it is a compiler
// bug, reported with the op's name.
//
//===----------------------------------------------------------------------===//
#include "compiler/targets/TargetInfo.h"
#include "compiler/pipeline/Pipeline.h"
#include "runtime/gpu/GpuProgram.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace ajit {
namespace {

/// Bytes of a statically shaped buffer (a bool takes a byte, as on the host).
bool staticBytes(Type type, uint64_t &bytes) {
  auto m = dyn_cast<MemRefType>(type);
  if (!m || !m.hasStaticShape() || !m.getElementType().isIntOrFloat()) return false;
  bytes = static_cast<uint64_t>(m.getNumElements()) * ((m.getElementType().getIntOrFloatBitWidth() + 7) / 8);
  return true;
}

/// The functions `ptx` declares `.extern` (calls nothing defines: the driver would
/// refuse the module at load time, far from the cause), comma-separated; "" if none.
std::string unresolvedFunctions(llvm::StringRef ptx) {
  static constexpr llvm::StringLiteral kExtern = ".extern .func";
  std::string names;
  for (size_t at = ptx.find(kExtern); at != llvm::StringRef::npos; at = ptx.find(kExtern, at + 1)) {
    // `.extern .func (.param .b64 func_retval0) __nv_exp(...)`: the name follows the
    // optional return parameter list.
    llvm::StringRef rest = ptx.substr(at + kExtern.size()).ltrim();
    if (rest.consume_front("(")) rest = rest.drop_until([](char c) { return c == ')'; }).drop_front().ltrim();
    llvm::StringRef name = rest.take_while([](char c) { return llvm::isAlnum(c) || c == '_' || c == '$'; });
    names += (names.empty() ? "" : ", ") + name.str();
  }
  return names;
}

/// `bitcode` as textual LLVM IR in `out` (or why not, in `out`).
bool bitcodeToText(const std::string &bitcode, std::string &out) {
  llvm::LLVMContext context;
  auto module = llvm::parseBitcodeFile(llvm::MemoryBufferRef(bitcode, "kernels"), context);
  if (!module) {
    out = "unreadable LLVM bitcode: " + llvm::toString(module.takeError());
    return false;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  (*module)->print(os, nullptr);
  out = std::move(text);
  return true;
}

class PtxTarget final : public TargetInfo {
public:
  PtxTarget(std::string arch, bool llvmIr) : arch_(std::move(arch)), llvmIr_(llvmIr) {}
  std::string name() const override { return (llvmIr_ ? "nvptx-llvm-" : "ptx-") + arch_; }
  ArrayRef<Phase> phases() const override { return ptxPhases(arch_, llvmIr_); }
  std::vector<std::string> codeStages() const override { return {"asm"}; } // the .ptx

  LogicalResult emitObject(ModuleOp module, const std::string &fnName, const std::string &exportAs,
                           ObjectCode &out, std::string &error, const DumpFn &dump) const override {
    auto fail = [&](const std::string &why) {
      error = "ajit: PTX target: " + why;
      return failure();
    };
    if (!exportAs.empty()) return fail("ahead-of-time objects are CPU code only");
    auto fn = module.lookupSymbol<func::FuncOp>(fnName);
    if (!fn || fn.isExternal() || !fn.getBody().hasOneBlock()) return fail("no host function '" + fnName + "'");

    ajit::gpu::GpuProgram program;
    program.arch = arch_;
    llvm::DenseMap<StringAttr, uint32_t> moduleIndex;
    for (auto binary : module.getOps<mlir::gpu::BinaryOp>()) {
      if (binary.getObjects().size() != 1) return fail("expected one object per gpu.binary");
      auto object = cast<mlir::gpu::ObjectAttr>(binary.getObjects()[0]);
      auto format = llvmIr_ ? mlir::gpu::CompilationTarget::Offload : mlir::gpu::CompilationTarget::Assembly;
      if (object.getFormat() != format) return fail(llvmIr_ ? "expected LLVM bitcode" : "expected PTX assembly");
      std::string code = object.getObject().str(); // PTX, or bitcode
      // Text, as PTX is: a driver takes a module as one NUL-terminated string.
      if (llvmIr_ && !bitcodeToText(code, code)) return fail("kernel module " + binary.getSymName().str() + ": " + code);
      if (std::string missing = llvmIr_ ? "" : unresolvedFunctions(code); !missing.empty())
        return fail("kernel module " + binary.getSymName().str() + " calls " + missing +
                    (libdeviceToolkit().empty()
                         ? ": libdevice functions (f64 transcendentals), and no CUDA toolkit with "
                           "nvvm/libdevice/libdevice.10.bc was found ($AJIT_CUDA_TOOLKIT, else $CUDA_HOME, $CUDA_PATH, "
                           "$CUDA_ROOT, /usr/local/cuda, /usr/lib/cuda)"
                         : ", which libdevice under " + libdeviceToolkit() + " does not define"));
      moduleIndex[binary.getSymNameAttr()] = program.modules.size();
      program.modules.push_back(std::move(code));
    }

    // Buffers: inputs (the traced function's arguments, first), outputs (the out-params
    // bufferization appended), temporaries. The count comes from the driver's attribute:
    // bufferization drops the arguments' own attributes.
    auto inputs = fn->getAttrOfType<IntegerAttr>(kInputCountAttr);
    if (!inputs || inputs.getInt() < 0 || inputs.getInt() > fn.getNumArguments())
      return fail("host function '" + fnName + "' does not say which arguments are inputs (" +
                  std::string(kInputCountAttr) + ")");
    llvm::DenseMap<Value, uint32_t> buffer;
    for (BlockArgument arg : fn.getArguments()) {
      uint64_t bytes;
      if (!staticBytes(arg.getType(), bytes)) return fail("an argument of dynamic shape");
      bool input = arg.getArgNumber() < inputs.getInt();
      (input ? program.inputBytes : program.outputBytes).push_back(bytes);
    }
    for (BlockArgument arg : fn.getArguments()) buffer[arg] = arg.getArgNumber();
    SmallVector<memref::AllocOp> allocs(fn.getOps<memref::AllocOp>());
    for (memref::AllocOp alloc : allocs) {
      uint64_t bytes;
      if (!staticBytes(alloc.getType(), bytes)) return fail("a temporary of dynamic shape");
      buffer[alloc] = fn.getNumArguments() + program.tempBytes.size();
      program.tempBytes.push_back(bytes);
    }

    auto constant = [](Value v, uint32_t &out) {
      auto c = getConstantIntValue(v);
      if (!c || *c <= 0 || *c > std::numeric_limits<int32_t>::max()) return false;
      out = static_cast<uint32_t>(*c);
      return true;
    };
    for (Operation &op : fn.getBody().front()) {
      if (isa<memref::AllocOp, memref::DeallocOp, func::ReturnOp, arith::ConstantOp>(op)) continue;
      auto launch = dyn_cast<mlir::gpu::LaunchFuncOp>(op);
      if (!launch) return fail("host code has an op the GPU runtime cannot run: " + op.getName().getStringRef().str());
      ajit::gpu::Launch l;
      auto it = moduleIndex.find(launch.getKernelModuleName());
      if (it == moduleIndex.end()) return fail("no PTX for kernel module " + launch.getKernelModuleName().str());
      l.module = it->second;
      l.kernel = launch.getKernelName().str();
      mlir::gpu::KernelDim3 grid = launch.getGridSizeOperandValues(), block = launch.getBlockSizeOperandValues();
      if (!constant(grid.x, l.grid[0]) || !constant(grid.y, l.grid[1]) || !constant(grid.z, l.grid[2]) ||
          !constant(block.x, l.block[0]) || !constant(block.y, l.block[1]) || !constant(block.z, l.block[2]))
        return fail("kernel " + l.kernel + " has a launch size that is not a positive constant");
      for (Value arg : launch.getKernelOperands()) {
        auto b = buffer.find(arg);
        if (b == buffer.end()) return fail("kernel " + l.kernel + " takes an argument that is not a whole buffer");
        l.buffers.push_back(b->second);
      }
      program.launches.push_back(std::move(l));
    }
    if (dump && !llvmIr_) dump("ptx", program.allPtx());
    out.bytes = program.serialize();
    out.entrySymbol.clear();
    return success();
  }

private:
  std::string arch_;
  bool llvmIr_;
};

} // namespace

std::unique_ptr<TargetInfo> createPtxTarget(const std::string &arch, bool llvmIr) {
  if (arch.size() < 5 || arch.rfind("sm_", 0) != 0 || arch.find_first_not_of("0123456789a", 3) != std::string::npos)
    return nullptr;
  return std::make_unique<PtxTarget>(arch, llvmIr);
}

} // namespace ajit
