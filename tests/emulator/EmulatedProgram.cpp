//===- EmulatedProgram.cpp - NVPTX LLVM IR retargeted to the host, and run -===//
//
// Each module is the IR that NVPTX would have compiled to PTX. Retargeting it:
// - kernels (the ptx_kernel calling convention, or nvvm.annotations) get a C wrapper
//   `<kernel>.emu_entry(void **buffers)`, one pointer per parameter;
// - every `llvm.nvvm.*` declaration becomes an internal function calling Runtime.h's
//   entry points (an intrinsic the emulator does not model is an error that names it);
// - libdevice's `__nv_<f>` (f64 transcendentals) become libm's `<f>`;
// - the host's triple and data layout replace NVPTX's. The address spaces stay: x86
//   treats those below 256 as plain memory, so shared memory is an ordinary global.
// ORC then compiles the module as it would any other.
//
//===----------------------------------------------------------------------===//
#include "tests/emulator/GpuEmulator.h"
#include "tests/emulator/Runtime.h"

#include "runtime/Error.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/ExecutionEngine/Orc/AbsoluteSymbols.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace ajit::emu {
namespace {

using namespace llvm;

std::string describe(llvm::Error err) { return toString(std::move(err)); }

/// Guard bytes around every buffer, and the pattern they hold.
constexpr size_t kGuard = 256;
constexpr unsigned char kGuardByte = 0xa5;

/// An internal function of `f`'s type that does what the NVVM intrinsic `f` does, by
/// calling the emulator's runtime. Throws for an intrinsic it does not model.
Function *emulationOf(Function &f) {
  Module &m = *f.getParent();
  LLVMContext &ctx = m.getContext();
  StringRef name = f.getName().drop_front(StringRef("llvm.nvvm.").size());
  auto unsupported = [&]() -> Function * {
    throw ajit::Error("emulator: the kernels call llvm.nvvm." + name.str() + ", which the emulator does not model");
  };
  Type *i32 = Type::getInt32Ty(ctx), *i64 = Type::getInt64Ty(ctx), *voidTy = Type::getVoidTy(ctx);
  Function *fn = Function::Create(f.getFunctionType(), GlobalValue::InternalLinkage, "ajit.emu." + name, m);
  IRBuilder<> b(BasicBlock::Create(ctx, "", fn));
  auto arg = [&](unsigned i) { return fn->getArg(i); };

  StringRef rest = name;
  if (rest.consume_front("read.ptx.sreg.")) {
    static const std::pair<const char *, Sreg> kRegisters[] = {
        {"tid.x", tidX},     {"tid.y", tidY},     {"tid.z", tidZ},       {"ntid.x", ntidX},     {"ntid.y", ntidY},
        {"ntid.z", ntidZ},   {"ctaid.x", ctaidX}, {"ctaid.y", ctaidY},   {"ctaid.z", ctaidZ},   {"nctaid.x", nctaidX},
        {"nctaid.y", nctaidY}, {"nctaid.z", nctaidZ}, {"laneid", laneId}, {"warpsize", warpSize}};
    for (auto [reg, code] : kRegisters) {
      if (rest != reg) continue;
      FunctionCallee sreg = m.getOrInsertFunction("ajit_emu_sreg", FunctionType::get(i32, {i32}, false));
      b.CreateRet(b.CreateCall(sreg, {b.getInt32(code)}));
      return fn;
    }
    return unsupported();
  }
  // Barrier 0 (the only one ajit's kernels use), in its spellings across LLVM versions.
  if (name == "barrier0" || name == "barrier.cta.sync.aligned.all" || name == "barrier.cta.sync.all" ||
      name == "barrier.sync" || name == "bar.sync") {
    b.CreateCall(m.getOrInsertFunction("ajit_emu_barrier", FunctionType::get(voidTy, false)));
    b.CreateRetVoid();
    return fn;
  }
  if (name == "bar.warp.sync") {
    b.CreateCall(m.getOrInsertFunction("ajit_emu_warp_sync", FunctionType::get(voidTy, {i32}, false)), {arg(0)});
    b.CreateRetVoid();
    return fn;
  }
  // Arithmetic libdevice's f64 functions use: exactly rounded operations (the .rn, .rz,
  // .ftz variants as the plain IEEE operation: the CPU reference is no closer to them),
  // and moving a double's halves in and out of integers.
  Type *result = fn->getReturnType();
  auto ret = [&](Value *v) {
    b.CreateRet(v);
    return fn;
  };
  auto intrinsic = [&](Intrinsic::ID id, ArrayRef<Value *> args) { return ret(b.CreateIntrinsic(id, {result}, args)); };
  auto starts = [&](std::initializer_list<const char *> prefixes) {
    return llvm::any_of(prefixes, [&](const char *p) { return name.starts_with(p); });
  };
  if (starts({"fabs."})) return intrinsic(Intrinsic::fabs, {arg(0)});
  if (starts({"fma.rn."})) return intrinsic(Intrinsic::fma, {arg(0), arg(1), arg(2)});
  if (starts({"sqrt.rn.", "sqrt.f", "sqrt.approx."})) return intrinsic(Intrinsic::sqrt, {arg(0)});
  if (starts({"fmax."})) return intrinsic(Intrinsic::maxnum, {arg(0), arg(1)});
  if (starts({"fmin."})) return intrinsic(Intrinsic::minnum, {arg(0), arg(1)});
  if (starts({"ex2.approx."})) return intrinsic(Intrinsic::exp2, {arg(0)});
  if (starts({"lg2.approx."})) return intrinsic(Intrinsic::log2, {arg(0)});
  if (starts({"add.rn."})) return ret(b.CreateFAdd(arg(0), arg(1)));
  if (starts({"mul.rn."})) return ret(b.CreateFMul(arg(0), arg(1)));
  if (starts({"div.rn.", "div.approx."})) return ret(b.CreateFDiv(arg(0), arg(1)));
  if (starts({"rcp.rn.", "rcp.approx."})) return ret(b.CreateFDiv(ConstantFP::get(result, 1.0), arg(0)));
  if (starts({"round."})) return intrinsic(Intrinsic::round, {arg(0)});
  if (starts({"trunc."})) return intrinsic(Intrinsic::trunc, {arg(0)});
  if (starts({"floor."})) return intrinsic(Intrinsic::floor, {arg(0)});
  if (starts({"ceil."})) return intrinsic(Intrinsic::ceil, {arg(0)});
  // Float to integer with a rounding mode: f2i.rz, d2i.rn, d2ll.rm, f2ui.rp, ...
  if (std::string conv = name.str(); (conv[0] == 'f' || conv[0] == 'd') && conv.size() > 5 && conv[1] == '2' &&
                                     result->isIntegerTy() && name.contains(".r")) {
    StringRef mode = name.substr(name.find(".r") + 1, 2);
    Intrinsic::ID round = mode == "rn"   ? Intrinsic::rint
                          : mode == "rm" ? Intrinsic::floor
                          : mode == "rp" ? Intrinsic::ceil
                                         : Intrinsic::trunc;
    Value *rounded = b.CreateIntrinsic(round, {arg(0)->getType()}, {arg(0)});
    bool isUnsigned = name.substr(2).starts_with("u");
    return ret(isUnsigned ? b.CreateFPToUI(rounded, result) : b.CreateFPToSI(rounded, result));
  }
  if (name == "d2i.lo" || name == "d2i.hi") {
    Value *bits = b.CreateBitCast(arg(0), i64);
    if (name == "d2i.hi") bits = b.CreateLShr(bits, 32);
    return ret(b.CreateTrunc(bits, i32));
  }
  if (name == "lohi.i2d") {
    Value *lo = b.CreateZExt(arg(0), i64), *hi = b.CreateShl(b.CreateZExt(arg(1), i64), 32);
    return ret(b.CreateBitCast(b.CreateOr(lo, hi), result));
  }
  if (rest.consume_front("shfl.sync.")) {
    ShuffleMode mode;
    if (rest.consume_front("up.")) mode = up;
    else if (rest.consume_front("down.")) mode = down;
    else if (rest.consume_front("bfly.")) mode = bfly;
    else if (rest.consume_front("idx.")) mode = idx;
    else return unsupported();
    bool withPredicate = rest.consume_back("p");
    if ((rest != "i32" && rest != "f32") || fn->arg_size() != 4) return unsupported();
    Value *value = arg(1);
    Value *bits = value->getType()->isFloatTy() ? b.CreateBitCast(value, i32) : value;
    FunctionCallee shfl =
        m.getOrInsertFunction("ajit_emu_shfl", FunctionType::get(i64, {i32, i32, i32, i32, i32}, false));
    Value *r = b.CreateCall(shfl, {b.getInt32(mode), arg(0), bits, arg(2), arg(3)});
    Value *read = b.CreateTrunc(r, i32);
    if (value->getType()->isFloatTy()) read = b.CreateBitCast(read, value->getType());
    if (!withPredicate) {
      b.CreateRet(read);
      return fn;
    }
    Value *p = b.CreateTrunc(b.CreateLShr(r, 32), b.getInt1Ty());
    Value *pair = PoisonValue::get(fn->getReturnType());
    pair = b.CreateInsertValue(pair, read, 0);
    b.CreateRet(b.CreateInsertValue(pair, p, 1));
    return fn;
  }
  return unsupported();
}

/// The kernels of `m`, before their calling convention is rewritten.
std::vector<Function *> kernelsOf(Module &m) {
  std::vector<Function *> kernels;
  for (Function &f : m)
    if (f.getCallingConv() == CallingConv::PTX_Kernel) kernels.push_back(&f);
  if (NamedMDNode *annotations = m.getNamedMetadata("nvvm.annotations")) {
    for (MDNode *node : annotations->operands()) {
      if (node->getNumOperands() < 2) continue;
      auto *fnMd = dyn_cast_or_null<ValueAsMetadata>(node->getOperand(0).get());
      auto *kind = dyn_cast_or_null<MDString>(node->getOperand(1).get());
      if (!fnMd || !kind || kind->getString() != "kernel") continue;
      if (auto *f = dyn_cast<Function>(fnMd->getValue()); f && llvm::find(kernels, f) == kernels.end())
        kernels.push_back(f);
    }
  }
  return kernels;
}

/// Rewrites `m` for the host (see the file comment).
void retarget(Module &m, const orc::LLJIT &jit) {
  std::vector<Function *> kernels = kernelsOf(m);
  if (NamedMDNode *annotations = m.getNamedMetadata("nvvm.annotations")) m.eraseNamedMetadata(annotations);
  for (Function &f : m) {
    f.setCallingConv(CallingConv::C);
    f.removeFnAttr("target-cpu");
    f.removeFnAttr("target-features");
  }
  for (Function &f : m)
    for (Instruction &i : instructions(f))
      if (auto *call = dyn_cast<CallBase>(&i); call && call->isInlineAsm())
        throw ajit::Error("emulator: kernel module has inline PTX assembly, which the emulator cannot run: " +
                          cast<InlineAsm>(call->getCalledOperand())->getAsmString().str());
  m.setTargetTriple(jit.getTargetTriple());
  m.setDataLayout(jit.getDataLayout());

  std::vector<Function *> intrinsics;
  for (Function &f : m)
    if (f.isDeclaration() && f.getName().starts_with("llvm.nvvm.")) intrinsics.push_back(&f);
  for (Function *f : intrinsics) {
    Function *emulation = emulationOf(*f);
    f->replaceAllUsesWith(emulation);
    f->eraseFromParent();
  }
  for (Function &f : m)
    if (f.isDeclaration() && f.getName().starts_with("__nv_")) f.setName(f.getName().drop_front(5));

  LLVMContext &ctx = m.getContext();
  for (Function *k : kernels) {
    auto *entry = Function::Create(FunctionType::get(Type::getVoidTy(ctx), {PointerType::get(ctx, 0)}, false),
                                   GlobalValue::ExternalLinkage, k->getName() + ".emu_entry", m);
    IRBuilder<> b(BasicBlock::Create(ctx, "", entry));
    std::vector<Value *> args;
    for (Argument &a : k->args()) {
      if (!a.getType()->isPointerTy())
        throw ajit::Error("emulator: kernel " + k->getName().str() + " takes a parameter that is not a buffer");
      Value *slot = b.CreateConstGEP1_64(PointerType::get(ctx, 0), entry->getArg(0), a.getArgNo());
      Value *p = b.CreateLoad(PointerType::get(ctx, 0), slot);
      args.push_back(b.CreateAddrSpaceCast(p, a.getType()));
    }
    b.CreateCall(k, args);
    b.CreateRetVoid();
  }
  std::string problems;
  raw_string_ostream os(problems);
  if (verifyModule(m, &os)) throw ajit::Error("emulator: the retargeted kernel IR does not verify: " + problems);
}

struct Buffer {
  std::unique_ptr<unsigned char[]> raw;
  unsigned char *data = nullptr;
  uint64_t bytes = 0;

  explicit Buffer(uint64_t n) : raw(new unsigned char[n + 2 * kGuard + 64]), bytes(n) {
    // 64-byte aligned, as cuMemAlloc's (the kernels load 16 bytes at a time).
    uintptr_t at = (reinterpret_cast<uintptr_t>(raw.get()) + kGuard + 63) & ~uintptr_t(63);
    data = reinterpret_cast<unsigned char *>(at);
    std::memset(raw.get(), kGuardByte, data - raw.get());
    std::memset(data + n, kGuardByte, kGuard);
  }
  bool guardsIntact() const {
    for (unsigned char *p = raw.get(); p < data; ++p)
      if (*p != kGuardByte) return false;
    for (uint64_t i = 0; i < kGuard; ++i)
      if (data[bytes + i] != kGuardByte) return false;
    return true;
  }
};

} // namespace

struct EmulatedProgram::Impl {
  gpu::GpuProgram program;
  std::unique_ptr<orc::LLJIT> jit;
  std::vector<void (*)(void **)> entries; ///< one per launch
};

EmulatedProgram::EmulatedProgram(gpu::GpuProgram program) : impl_(std::make_unique<Impl>()) {
  Impl &im = *impl_;
  im.program = std::move(program);
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();
  auto jit = orc::LLJITBuilder().create();
  if (!jit) throw ajit::Error("emulator: cannot start a JIT: " + describe(jit.takeError()));
  im.jit = std::move(*jit);
  orc::JITDylib &dylib = im.jit->getMainJITDylib();
  auto generator = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(im.jit->getDataLayout().getGlobalPrefix());
  if (!generator) throw ajit::Error("emulator: " + describe(generator.takeError()));
  dylib.addGenerator(std::move(*generator));
  orc::SymbolMap runtime;
  auto add = [&](const char *name, auto *fn) {
    runtime[im.jit->mangleAndIntern(name)] = {orc::ExecutorAddr::fromPtr(fn),
                                              JITSymbolFlags::Exported | JITSymbolFlags::Callable};
  };
  add("ajit_emu_sreg", &ajit_emu_sreg);
  add("ajit_emu_barrier", &ajit_emu_barrier);
  add("ajit_emu_warp_sync", &ajit_emu_warp_sync);
  add("ajit_emu_shfl", &ajit_emu_shfl);
  if (auto err = dylib.define(orc::absoluteSymbols(std::move(runtime))))
    throw ajit::Error("emulator: " + describe(std::move(err)));

  // Kernel names may repeat across modules: one JITDylib per module, each linked
  // against the main one (runtime entry points, libm).
  std::vector<orc::JITDylib *> libraries;
  for (size_t i = 0; i < im.program.modules.size(); ++i) {
    auto context = std::make_unique<LLVMContext>();
    const std::string &bytes = im.program.modules[i];
    auto module = parseBitcodeFile(MemoryBufferRef(StringRef(bytes), "kernel" + std::to_string(i)), *context);
    if (!module)
      throw ajit::Error("emulator: kernel module " + std::to_string(i) +
                        " is not LLVM bitcode (compile with createPtxTarget(arch, true)): " +
                        describe(module.takeError()));
    retarget(**module, *im.jit);
    auto lib = im.jit->createJITDylib("kernels" + std::to_string(i));
    if (!lib) throw ajit::Error("emulator: " + describe(lib.takeError()));
    lib->addToLinkOrder(dylib);
    if (auto err = im.jit->addIRModule(*lib, orc::ThreadSafeModule(std::move(*module), std::move(context))))
      throw ajit::Error("emulator: " + describe(std::move(err)));
    libraries.push_back(&*lib);
  }
  for (const gpu::Launch &l : im.program.launches) {
    if (l.module >= libraries.size()) throw ajit::Error("emulator: a launch names a module the program lacks");
    auto address = im.jit->lookup(*libraries[l.module], l.kernel + ".emu_entry");
    if (!address)
      throw ajit::Error("emulator: cannot link kernel " + l.kernel + ": " + describe(address.takeError()));
    im.entries.push_back(address->toPtr<void (*)(void **)>());
  }
}

EmulatedProgram::~EmulatedProgram() = default;

void EmulatedProgram::run(void *const *args, ThreadOrder order) {
  const gpu::GpuProgram &p = impl_->program;
  size_t inputs = p.inputBytes.size(), outputs = p.outputBytes.size();
  std::vector<Buffer> buffers;
  buffers.reserve(p.bufferCount());
  for (uint32_t id = 0; id < p.bufferCount(); ++id) {
    buffers.emplace_back(p.bufferBytes(id));
    if (id < inputs) {
      if (p.inputBytes[id]) std::memcpy(buffers.back().data, args[id], p.inputBytes[id]);
    } else {
      std::memset(buffers.back().data, 0xff, buffers.back().bytes);
    }
  }
  for (size_t k = 0; k < p.launches.size(); ++k) {
    const gpu::Launch &l = p.launches[k];
    std::vector<void *> pointers;
    for (uint32_t b : l.buffers) pointers.push_back(buffers.at(b).data);
    Grid g{{l.grid[0], l.grid[1], l.grid[2]}, {l.block[0], l.block[1], l.block[2]}, impl_->entries[k], pointers.data()};
    runGrid(g, order);
    for (uint32_t id = 0; id < buffers.size(); ++id)
      if (!buffers[id].guardsIntact())
        throw ajit::Error("emulator: kernel " + l.kernel + " (launch " + std::to_string(k) +
                          ") wrote outside buffer " + std::to_string(id) + " of " +
                          std::to_string(buffers[id].bytes) + " bytes");
  }
  for (size_t o = 0; o < outputs; ++o)
    if (p.outputBytes[o]) std::memcpy(args[inputs + o], buffers[inputs + o].data, p.outputBytes[o]);
}

} // namespace ajit::emu
