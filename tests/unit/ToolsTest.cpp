//===- ToolsTest.cpp - ajit-run against NumPy, and both tools on bad input -===//
//
// The fixtures in tests/data/run hold programs, inputs, and the outputs NumPy computed
// for them (make_fixtures.py there). Tolerances are stated per dtype below.
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

using namespace ajit;
namespace fs = std::filesystem;

namespace {

struct Outcome {
  int exitCode;
  std::string stdoutText, stderrText;
};

/// Runs `command`, returning its exit code and what it wrote to stdout and stderr.
Outcome run(const std::string &command) {
  std::string errFile = (fs::temp_directory_path() / ("ajit-tools-stderr-" + std::to_string(::getpid()))).string();
  std::string full = command + " 2>" + errFile;
  FILE *pipe = popen(full.c_str(), "r");
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = pclose(pipe);
  std::ifstream err(errFile);
  std::string errText((std::istreambuf_iterator<char>(err)), {});
  fs::remove(errFile);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, errText};
}

std::string data(const std::string &name) { return std::string(AJIT_TEST_DATA) + "/" + name; }

class Tools : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("ajit-tools-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string tmp(const std::string &name) const { return (dir / name).string(); }
  /// unknown_op.mlir (an op the dialect lacks) and not_verify.mlir (a reshape that changes
  /// the element count), the bad modules both tools are tried on.
  void writeBadModules() const {
    std::ofstream(tmp("unknown_op.mlir")) << "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
                                             "  %0 = ajit.frobnicate %x : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}\n";
    std::ofstream(tmp("not_verify.mlir")) << "func.func @f(%x: tensor<4xf32>) -> tensor<3xf32> {\n"
                                             "  %0 = ajit.reshape %x : tensor<4xf32> -> tensor<3xf32>\n  return %0 : tensor<3xf32>\n}\n";
  }
  fs::path dir;
};

/// Compares an output with NumPy's. Tolerances: f32 relative 4e-6 + absolute 1e-7
/// (exp is a polynomial approximation within ~2 ulp; sums reassociate); f64 relative
/// 1e-12; integers and bools exactly.
void expectClose(const npy::NpyArray &got, const npy::NpyArray &want, const std::string &what) {
  ASSERT_EQ(got.elem, want.elem) << what;
  ASSERT_EQ(got.shape, want.shape) << what;
  int64_t n = want.count();
  for (int64_t i = 0; i < n; ++i) {
    switch (want.elem) {
    case npy::Elem::f32: {
      float g = reinterpret_cast<const float *>(got.data.data())[i];
      float w = reinterpret_cast<const float *>(want.data.data())[i];
      ASSERT_NEAR(g, w, 4e-6 * std::fabs(w) + 1e-7) << what << " element " << i;
      break;
    }
    case npy::Elem::f64: {
      double g = reinterpret_cast<const double *>(got.data.data())[i];
      double w = reinterpret_cast<const double *>(want.data.data())[i];
      ASSERT_NEAR(g, w, 1e-12 * std::fabs(w) + 1e-15) << what << " element " << i;
      break;
    }
    default:
      ASSERT_EQ(got.data, want.data) << what;
      return;
    }
  }
}

} // namespace

TEST_F(Tools, AjitRunMatchesNumPy) {
  struct Case {
    const char *name;
    int inputs, outputs;
  };
  for (Case c : {Case{"bias_exp", 2, 1}, Case{"softmax", 1, 1}, Case{"matmul_relu", 2, 1},
                 Case{"int_select", 2, 2}, Case{"reshape_argmax", 1, 2}}) {
    std::string cmd = std::string(AJIT_RUN) + " " + data(std::string("run/") + c.name + ".mlir") + " --repeat 3";
    for (int i = 0; i < c.inputs; ++i) cmd += " --in " + data("run/" + std::string(c.name) + ".in" + std::to_string(i) + ".npy");
    for (int i = 0; i < c.outputs; ++i) cmd += " --out " + tmp(c.name + std::string(".out") + std::to_string(i) + ".npy");
    Outcome o = run(cmd);
    ASSERT_EQ(o.exitCode, 0) << cmd << "\n" << o.stderrText;
    EXPECT_NE(o.stdoutText.find("ajit-run: compile "), std::string::npos);
    EXPECT_NE(o.stdoutText.find("over 3 runs"), std::string::npos);
    EXPECT_EQ(o.stderrText, "");
    for (int i = 0; i < c.outputs; ++i) {
      std::string suffix = ".out" + std::to_string(i) + ".npy";
      expectClose(npy::read(tmp(c.name + suffix)), npy::read(data("run/" + std::string(c.name) + suffix)),
                  std::string(c.name) + suffix);
    }
  }
}

TEST_F(Tools, AjitcWritesObjectHeaderAndStages) {
  Outcome o = run(std::string(AJITC) + " " + data("run/softmax.mlir") + " -o " + tmp("s.o") + " --header " + tmp("s.h"));
  ASSERT_EQ(o.exitCode, 0) << o.stderrText;
  std::ifstream h(tmp("s.h"));
  std::string text((std::istreambuf_iterator<char>(h)), {});
  EXPECT_NE(text.find("void softmax(const float *in0, float *out0);"), std::string::npos) << text;
  EXPECT_NE(text.find("softmax_out0_elements = 35,"), std::string::npos) << text;
  EXPECT_GT(fs::file_size(tmp("s.o")), 100u);
  for (const char *stage : {"graph", "graph-opt", "fused", "linalg", "bufferized", "loops", "llvm", "llvm-ir", "llvm-ir-opt", "asm"}) {
    Outcome s = run(std::string(AJITC) + " " + data("run/softmax.mlir") + " --compile-to=" + stage);
    EXPECT_EQ(s.exitCode, 0) << stage << ": " << s.stderrText;
  }
}

// --target ptx writes the kernels' PTX for --gpu's architecture; its stages end in "asm".
TEST_F(Tools, AjitcWritesPtx) {
  Outcome o = run(std::string(AJITC) + " " + data("run/softmax.mlir") + " --target ptx --gpu sm_80 -o " + tmp("s.ptx"));
  ASSERT_EQ(o.exitCode, 0) << o.stderrText;
  std::ifstream f(tmp("s.ptx"));
  std::string text((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(text.find(".target sm_80"), std::string::npos) << text.substr(0, 300);
  EXPECT_NE(text.find(".visible .entry"), std::string::npos);
  for (const char *stage : {"linalg", "bufferized", "gpu", "nvvm", "ptx", "asm"}) {
    Outcome s = run(std::string(AJITC) + " " + data("run/softmax.mlir") + " --target ptx --compile-to=" + stage);
    EXPECT_EQ(s.exitCode, 0) << stage << ": " << s.stderrText;
  }
  Outcome llvm = run(std::string(AJITC) + " " + data("run/softmax.mlir") + " --target ptx --compile-to=llvm-ir");
  EXPECT_NE(llvm.stderrText.find("unknown stage 'llvm-ir'"), std::string::npos) << llvm.stderrText;
  // PTX has no header: ajitc says which output holds a donated input.
  std::ofstream(tmp("donate.mlir"))
      << "func.func @step(%p: tensor<64xf32> {ajit.donate}, %g: tensor<64xf32>) -> tensor<64xf32> {\n"
         "  %r = ajit.sub %p, %g : tensor<64xf32>\n  return %r : tensor<64xf32>\n}\n";
  Outcome donated = run(std::string(AJITC) + " " + tmp("donate.mlir") + " --target ptx -o " + tmp("d.ptx"));
  ASSERT_EQ(donated.exitCode, 0) << donated.stderrText;
  EXPECT_NE(donated.stderrText.find("output 0 reuses donated input 0"), std::string::npos) << donated.stderrText;
}

// --cpu picks the ISA: AVX2 (ymm) for x86-64-v3, AVX-512 (zmm) for x86-64-v4.
TEST_F(Tools, AjitcCpuSelectsTheVectorWidth) {
  std::ofstream(tmp("h.mlir")) << "func.func @h(%x: tensor<4096xf32>) -> tensor<4096xf32> {\n"
                                  "  %e = ajit.exp %x : tensor<4096xf32>\n  %s = ajit.sin %x : tensor<4096xf32>\n"
                                  "  %r = ajit.mul %e, %s : tensor<4096xf32>\n  return %r : tensor<4096xf32>\n}\n";
  Outcome v3 = run(std::string(AJITC) + " " + tmp("h.mlir") + " --cpu x86-64-v3 --compile-to=asm");
  Outcome v4 = run(std::string(AJITC) + " " + tmp("h.mlir") + " --cpu x86-64-v4 --compile-to=asm");
  ASSERT_EQ(v3.exitCode, 0) << v3.stderrText;
  ASSERT_EQ(v4.exitCode, 0) << v4.stderrText;
  EXPECT_EQ(v3.stdoutText.find("zmm"), std::string::npos);
  EXPECT_NE(v3.stdoutText.find("ymm"), std::string::npos);
  EXPECT_NE(v4.stdoutText.find("zmm"), std::string::npos);
}

// The table of bad inputs: each gives one line on stderr naming the file and the problem,
// a non-zero exit, and no output file.
TEST_F(Tools, BadInputsGiveOneClearLine) {
  std::ofstream(tmp("garbage.mlir")) << "this is { not mlir";
  writeBadModules();
  std::ofstream(tmp("foreign.mlir")) << "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
                                        "  %0 = arith.addf %x, %x : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}\n";
  std::ofstream(tmp("dynamic.mlir")) << "func.func @f(%x: tensor<?xf32>) -> tensor<?xf32> {\n  return %x : tensor<?xf32>\n}\n";
  std::ofstream(tmp("exp_f64.mlir")) << "func.func @f(%x: tensor<64xf64>) -> tensor<64xf64> {\n"
                                        "  %0 = ajit.exp %x : tensor<64xf64>\n  return %0 : tensor<64xf64>\n}\n";
  {
    std::ifstream in(data("run/softmax.in0.npy"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(tmp("truncated.npy"), std::ios::binary) << bytes.substr(0, bytes.size() - 10);
    std::string corrupt = bytes;
    corrupt[1] = 'X';
    std::ofstream(tmp("corrupt.npy"), std::ios::binary) << corrupt;
  }
  const std::string run_ = AJIT_RUN, ajitc = AJITC, out = tmp("out.npy");
  const std::string softmax = data("run/softmax.mlir"), in = data("run/softmax.in0.npy");
  struct Case {
    std::string command, expected;
  } cases[] = {
      {run_ + " " + tmp("garbage.mlir") + " --in " + in + " --out " + out, "garbage.mlir:1:1: error: "},
      {run_ + " " + tmp("unknown_op.mlir") + " --in " + in + " --out " + out, "unknown_op.mlir:2:8: error: custom op 'ajit.frobnicate' is unknown"},
      {run_ + " " + tmp("not_verify.mlir") + " --in " + in + " --out " + out, "not_verify.mlir:2:8: error: 'ajit.reshape' op cannot reshape f32[4] (4 elements) to f32[3]"},
      {run_ + " " + tmp("foreign.mlir") + " --in " + in + " --out " + out, "foreign.mlir:2:8: error: unsupported op 'arith.addf'"},
      {run_ + " " + tmp("dynamic.mlir") + " --in " + in + " --out " + out, "dynamic.mlir: function 'f' has an argument or result of type tensor<?xf32>"},
      {run_ + " " + tmp("missing.mlir") + " --in " + in + " --out " + out, "missing.mlir: cannot open: No such file or directory"},
      {run_ + " " + softmax + " --in " + data("run/bias_exp.in0.npy") + " --out " + out, "bias_exp.in0.npy: input 0 of " + softmax + " must be f32[5,7], the file holds f32[3,4]"},
      {run_ + " " + softmax + " --in " + data("run/matmul_relu.in0.npy") + " --out " + out, "must be f32[5,7], the file holds f64[6,5]"},
      {run_ + " " + softmax + " --in " + tmp("truncated.npy") + " --out " + out, "truncated.npy: truncated data"},
      {run_ + " " + softmax + " --in " + tmp("corrupt.npy") + " --out " + out, "corrupt.npy: not a .npy file (bad magic)"},
      {run_ + " " + softmax + " --in " + tmp("none.npy") + " --out " + out, "none.npy: cannot open: No such file or directory"},
      {run_ + " " + softmax + " --in " + in + " --in " + in + " --out " + out, "the program takes 1 inputs, 2 --in given"},
      {run_ + " " + softmax + " --in " + in + " --out " + tmp("no/such/dir/out.npy"), "out.npy: cannot write: No such file or directory"},
      {run_ + " " + softmax + " --in " + in + " --out " + out + " --target ptx", "target 'ptx' is not available"},
      {ajitc + " " + tmp("garbage.mlir") + " -o " + tmp("g.o") + " --header " + tmp("g.h"), "garbage.mlir:1:1: error: "},
      {ajitc + " " + tmp("not_verify.mlir") + " -o " + tmp("g.o") + " --header " + tmp("g.h"), "'ajit.reshape' op cannot reshape f32[4]"},
      {ajitc + " " + softmax + " -o " + tmp("no/dir/g.o") + " --header " + tmp("g.h"), "g.o: cannot write: No such file or directory"},
      {ajitc + " " + softmax + " -o " + tmp("g.o") + " --header " + tmp("no/dir/g.h"), "g.h: cannot write: No such file or directory"},
      {ajitc + " " + softmax + " --compile-to=nowhere", "unknown stage 'nowhere' for --compile-to"},
      {ajitc + " " + softmax + " -o " + tmp("g.o") + " --header " + tmp("g.h") + " --name 'bad name'", "'bad name' is not usable as a C function name"},
      {ajitc + " " + softmax + " -o " + tmp("g.o") + " --header " + tmp("g.h") + " --target ptx", "--header is for CPU objects"},
      {ajitc + " " + softmax + " -o " + tmp("g.ptx") + " --target ptx --gpu sm_x", "unknown GPU architecture 'sm_x'"},
      // f64 exp on the GPU is libdevice's; as on a machine without the CUDA toolkit.
      {"AJIT_CUDA_TOOLKIT=" + tmp("no-toolkit") + " " + ajitc + " " + tmp("exp_f64.mlir") + " -o " + tmp("g.ptx") + " --target ptx",
       "calls __nv_exp: libdevice functions (f64 transcendentals), and no CUDA toolkit"},
      {ajitc + " " + softmax + " -o " + tmp("g.o") + " --header " + tmp("g.h") + " --target tpu", "unknown --target 'tpu'"},
      {ajitc + " " + softmax + " -o " + tmp("g.o") + " --header " + tmp("g.h") + " --cpu pentium99", "unknown CPU 'pentium99'"},
  };
  for (const Case &c : cases) {
    Outcome o = run(c.command);
    EXPECT_NE(o.exitCode, 0) << c.command;
    EXPECT_NE(o.stderrText.find(c.expected), std::string::npos) << c.command << "\ngot: " << o.stderrText;
    EXPECT_EQ(std::count(o.stderrText.begin(), o.stderrText.end(), '\n'), 1) << c.command << "\ngot: " << o.stderrText;
  }
  // Nothing half-written: the only files are the ones this test made.
  for (auto &e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename();
    EXPECT_TRUE(name.ends_with(".mlir") || name == "truncated.npy" || name == "corrupt.npy") << name;
  }
}

// ajit-opt is MlirOptMain: MLIR's diagnostics with the source line and a caret, so more
// than one line; still a non-zero exit, the file:line:col and the problem, and no crash.
TEST_F(Tools, AjitOptBadInputs) {
  std::ofstream(tmp("garbage.mlir")) << "garbage here\n";
  writeBadModules();
  const std::string opt = AJIT_OPT, softmax = data("run/softmax.mlir");
  struct Case {
    std::string command, expected;
  } cases[] = {
      {opt + " " + tmp("garbage.mlir"), "garbage.mlir:1:1: error: custom op 'garbage' is unknown"},
      {opt + " " + tmp("unknown_op.mlir"), "unknown_op.mlir:2:8: error: custom op 'ajit.frobnicate' is unknown"},
      {opt + " " + tmp("not_verify.mlir"), "not_verify.mlir:2:8: error: 'ajit.reshape' op cannot reshape f32[4] (4 elements) to f32[3]"},
      {opt + " " + tmp("missing.mlir"), "cannot open input file '" + tmp("missing.mlir") + "': No such file or directory"},
      {opt + " --no-such-pass " + softmax, "Unknown command line argument '--no-such-pass'"},
      {opt + " --pass-pipeline='builtin.module(bogus)' " + softmax, "'bogus' does not refer to a registered pass"},
  };
  for (const Case &c : cases) {
    Outcome o = run(c.command);
    EXPECT_NE(o.exitCode, 0) << c.command;
    EXPECT_LT(o.exitCode, 128) << c.command << ": killed by a signal";
    EXPECT_NE(o.stderrText.find(c.expected), std::string::npos) << c.command << "\ngot: " << o.stderrText;
  }
}
