//===- ajit-run.cpp - JIT-run a graph-dialect program on .npy files -------===//
//
//   ajit-run PROGRAM.mlir --in a.npy [--in b.npy ...] --out y.npy [--out ...]
//            [--repeat N] [--target cpu] [--function NAME]
//
// Every failure is one clear line on stderr naming the file and the problem, and a
// non-zero exit; outputs are written atomically, so none is left half-written.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"
#include "runtime/Npy.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace ajit;

namespace {

int usage(const char *why) {
  std::fprintf(stderr,
               "ajit-run: %s\n"
               "usage: ajit-run PROGRAM.mlir --in a.npy ... --out y.npy ... [--repeat N] [--target cpu] "
               "[--function NAME]\n",
               why);
  return 2;
}

DType dtypeOfElem(npy::Elem e) {
  switch (e) {
  case npy::Elem::f32: return DType::f32;
  case npy::Elem::f64: return DType::f64;
  case npy::Elem::i32: return DType::i32;
  case npy::Elem::i64: return DType::i64;
  case npy::Elem::boolean: return DType::boolean;
  }
  return DType::f32;
}

bool elemOfDtype(DType d, npy::Elem &e) {
  switch (d) {
  case DType::f32: e = npy::Elem::f32; return true;
  case DType::f64: e = npy::Elem::f64; return true;
  case DType::i32: e = npy::Elem::i32; return true;
  case DType::i64: e = npy::Elem::i64; return true;
  case DType::boolean: e = npy::Elem::boolean; return true;
  default: return false;
  }
}

} // namespace

int main(int argc, char **argv) {
  std::string program, function, target = "cpu";
  std::vector<std::string> ins, outs;
  long repeat = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag) -> const char * {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    const char *v = nullptr;
    if (a == "--in") {
      if (!(v = value("--in"))) return usage("--in needs a file");
      ins.push_back(v);
    } else if (a == "--out") {
      if (!(v = value("--out"))) return usage("--out needs a file");
      outs.push_back(v);
    } else if (a == "--repeat") {
      if (!(v = value("--repeat"))) return usage("--repeat needs a count");
      char *end = nullptr;
      repeat = std::strtol(v, &end, 10);
      if (*end || repeat < 1) return usage("--repeat needs a positive count");
    } else if (a == "--target") {
      if (!(v = value("--target"))) return usage("--target needs cpu");
      target = v;
    } else if (a == "--function") {
      if (!(v = value("--function"))) return usage("--function needs a name");
      function = v;
    } else if (a.rfind("--", 0) == 0) {
      return usage(("unknown option " + a).c_str());
    } else if (program.empty()) {
      program = a;
    } else {
      return usage(("more than one program given: " + a).c_str());
    }
  }
  if (program.empty()) return usage("no program given");
  if (target != "cpu") {
    std::fprintf(stderr, "ajit-run: target '%s' is not available (this build supports: cpu)\n", target.c_str());
    return 1;
  }

  try {
    std::ifstream file(program, std::ios::binary);
    if (!file) throw Error("ajit: " + program + ": cannot open: " + std::strerror(errno));
    std::stringstream text;
    text << file.rdbuf();
    Compiled compiled = compileProgram(text.str(), program, function);

    const auto &expected = compiled.inputs();
    if (ins.size() != expected.size())
      throw Error("ajit: " + program + ": the program takes " + std::to_string(expected.size()) +
                  " inputs, " + std::to_string(ins.size()) + " --in given");
    if (outs.size() != compiled.outputs().size())
      throw Error("ajit: " + program + ": the program has " + std::to_string(compiled.outputs().size()) +
                  " outputs, " + std::to_string(outs.size()) + " --out given");
    std::vector<npy::NpyArray> data;
    std::vector<Array> inputs;
    data.reserve(ins.size());
    for (size_t i = 0; i < ins.size(); ++i) {
      data.push_back(npy::read(ins[i]));
      DType dtype = dtypeOfElem(data.back().elem);
      if (dtype != expected[i].first || data.back().shape != expected[i].second)
        throw Error("ajit: " + ins[i] + ": input " + std::to_string(i) + " of " + program + " must be " +
                    describe(expected[i].first, expected[i].second) + ", the file holds " +
                    describe(dtype, data.back().shape));
      inputs.push_back(Array::view(data.back().data.data(), data.back().shape, dtype));
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      npy::Elem e;
      if (!elemOfDtype(compiled.outputs()[i].first, e))
        throw Error(std::string("ajit: ") + outs[i] + ": .npy output of dtype " +
                    dtypeName(compiled.outputs()[i].first) + " is not supported");
    }

    std::vector<Array> results;
    std::vector<double> us;
    for (long r = 0; r < repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      results = compiled.run(inputs);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    const CompileTimes &ct = compiled.compileTimes();
    std::printf("ajit-run: compile %.2f ms; run median %.2f us over %ld run%s (min %.2f, max %.2f)\n",
                 ct.total, us[us.size() / 2], repeat, repeat == 1 ? "" : "s", us.front(), us.back());

    for (size_t i = 0; i < outs.size(); ++i) {
      npy::NpyArray out;
      elemOfDtype(results[i].dtype(), out.elem);
      out.shape = results[i].shape();
      const char *p = static_cast<const char *>(results[i].rawData());
      out.data.assign(p, p + results[i].nbytes());
      npy::write(outs[i], out);
    }
  } catch (const Error &e) {
    std::string msg = e.what();
    if (msg.rfind("ajit: ", 0) == 0) msg = msg.substr(6);
    std::fprintf(stderr, "ajit-run: %s\n", msg.c_str());
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "ajit-run: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
