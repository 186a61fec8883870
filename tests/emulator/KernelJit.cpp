//===- KernelJit.cpp - NVPTX LLVM IR retargeted to the host and compiled ---===//
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

#include "llvm/ExecutionEngine/Orc/AbsoluteSymbols.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/IRReader/IRReader.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

namespace ajit::emu {
namespace {

using namespace llvm;

std::string describe(llvm::Error err) { return toString(std::move(err)); }

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

/// Rewrites `m` for the host (see the file comment); its kernels' names and parameter
/// counts.
std::vector<std::pair<std::string, unsigned>> retarget(Module &m, const orc::LLJIT &jit) {
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
                          cast<InlineAsm>(call->getCalledOperand())->getAsmString().str() +
                          " (libdevice has some: compile with $CUDA_HOME, $CUDA_PATH and $CUDA_ROOT unset)");
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
  std::vector<std::pair<std::string, unsigned>> entries;
  for (Function *k : kernels) {
    entries.emplace_back(k->getName().str(), k->arg_size());
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
  return entries;
}

} // namespace

struct KernelJit::Impl {
  std::unique_ptr<orc::LLJIT> jit;
  struct Module {
    orc::JITDylib *library;
    std::map<std::string, unsigned> parameters; ///< per kernel
  };
  std::vector<Module> modules;
};

KernelJit::KernelJit() : impl_(std::make_unique<Impl>()) {
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();
  auto jit = orc::LLJITBuilder().create();
  if (!jit) throw ajit::Error("emulator: cannot start a JIT: " + describe(jit.takeError()));
  impl_->jit = std::move(*jit);
  orc::LLJIT &j = *impl_->jit;
  orc::JITDylib &dylib = j.getMainJITDylib();
  auto generator = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(j.getDataLayout().getGlobalPrefix());
  if (!generator) throw ajit::Error("emulator: " + describe(generator.takeError()));
  dylib.addGenerator(std::move(*generator));
  orc::SymbolMap runtime;
  auto add = [&](const char *name, auto *fn) {
    runtime[j.mangleAndIntern(name)] = {orc::ExecutorAddr::fromPtr(fn), JITSymbolFlags::Exported | JITSymbolFlags::Callable};
  };
  add("ajit_emu_sreg", &ajit_emu_sreg);
  add("ajit_emu_barrier", &ajit_emu_barrier);
  add("ajit_emu_warp_sync", &ajit_emu_warp_sync);
  add("ajit_emu_shfl", &ajit_emu_shfl);
  if (auto err = dylib.define(orc::absoluteSymbols(std::move(runtime))))
    throw ajit::Error("emulator: " + describe(std::move(err)));
}

KernelJit::~KernelJit() = default;

size_t KernelJit::addModule(std::string_view ir) {
  orc::LLJIT &j = *impl_->jit;
  size_t number = impl_->modules.size();
  std::string name = "kernels" + std::to_string(number);
  auto context = std::make_unique<LLVMContext>();
  SMDiagnostic diagnostic;
  std::unique_ptr<llvm::Module> module =
      parseIR(MemoryBufferRef(StringRef(ir.data(), ir.size()), name), diagnostic, *context);
  if (!module) {
    std::string message;
    raw_string_ostream os(message);
    diagnostic.print(name.c_str(), os);
    throw ajit::Error("emulator: kernel module " + std::to_string(number) +
                      " is not NVPTX LLVM IR (text or bitcode; compile with createPtxTarget(arch, true)): " + message);
  }
  Impl::Module m;
  for (auto &[kernel, count] : retarget(*module, j)) m.parameters[kernel] = count;
  // Kernel names may repeat across modules: one JITDylib per module, each linked
  // against the main one (runtime entry points, libm).
  auto lib = j.createJITDylib(name);
  if (!lib) throw ajit::Error("emulator: " + describe(lib.takeError()));
  lib->addToLinkOrder(j.getMainJITDylib());
  if (auto err = j.addIRModule(*lib, orc::ThreadSafeModule(std::move(module), std::move(context))))
    throw ajit::Error("emulator: " + describe(std::move(err)));
  m.library = &*lib;
  impl_->modules.push_back(std::move(m));
  return number;
}

KernelJit::Kernel KernelJit::kernel(size_t module, const std::string &name) {
  if (module >= impl_->modules.size()) throw ajit::Error("emulator: no kernel module " + std::to_string(module));
  Impl::Module &m = impl_->modules[module];
  auto it = m.parameters.find(name);
  if (it == m.parameters.end())
    throw ajit::Error("emulator: kernel module " + std::to_string(module) + " has no kernel " + name);
  auto address = impl_->jit->lookup(*m.library, name + ".emu_entry");
  if (!address) throw ajit::Error("emulator: cannot link kernel " + name + ": " + describe(address.takeError()));
  return {address->toPtr<void (*)(void **)>(), it->second};
}

} // namespace ajit::emu
