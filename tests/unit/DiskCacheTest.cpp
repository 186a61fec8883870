//===- DiskCacheTest.cpp - AJIT_CACHE_DIR: reuse, corruption, races --------===//
//
// Entries are checked byte by byte (DiskCache's encode/decode), then end to end: each
// "process" below is a forked child that creates its own jitted function with
// AJIT_CACHE_DIR set, as a fresh program run would, and reports through its exit code.
//
//===----------------------------------------------------------------------===//
#include "frontend/ajit.h"
#include "runtime/DiskCache.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

using namespace ajit;
namespace fs = std::filesystem;
namespace dc = ajit::disk_cache;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// A fresh directory per test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ajit-diskcache-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

/// What a child process saw, from its exit code and stderr.
struct ChildRun {
  int exitCode = -1;
  std::string stderrText;
};

// Exit codes of `useCache`: 0 compiled, 1 loaded from disk, 2 wrong result, 3 other.
constexpr int kCompiled = 0, kFromDisk = 1, kWrong = 2;

/// In a child with AJIT_CACHE_DIR=dir: creates the function anew and calls it once.
int useCache(const std::string &dir, int variant) {
  setenv("AJIT_CACHE_DIR", dir.c_str(), 1);
  auto f = jit([variant](const Tensor &x) { return ajit::exp(x) * (2.0 + variant) + 1.0; }, {.name = "cached"});
  std::vector<float> in = {0.0f, 1.0f, -1.0f, 2.0f};
  Array out = f(Array::from(in, {4}));
  for (size_t i = 0; i < in.size(); ++i) {
    float want = std::exp(in[i]) * (2.0f + variant) + 1.0f;
    if (std::fabs(out.data<float>()[i] - want) > 1e-5f * std::fabs(want)) return kWrong;
  }
  Stats st = f.stats();
  if (st.compiles + st.diskCacheHits != 1) return 3;
  return st.diskCacheHits == 1 ? kFromDisk : kCompiled;
}

/// Runs `body` in a forked child, its stderr captured.
ChildRun inChild(const std::function<int()> &body) {
  char tmpl[] = "/tmp/ajit-diskcache-err-XXXXXX";
  int errFd = mkstemp(tmpl);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(errFd, 2);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ChildRun r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
  r.stderrText = readFile(tmpl);
  close(errFd);
  unlink(tmpl);
  return r;
}

/// The one entry file in `dir`.
std::string onlyEntry(const std::string &dir) {
  std::vector<std::string> entries;
  for (auto &e : fs::directory_iterator(dir)) entries.push_back(e.path().string());
  EXPECT_EQ(entries.size(), 1u) << "temporary files left behind, or more than one entry";
  return entries.empty() ? std::string() : entries[0];
}

dc::Entry sampleEntry() {
  dc::Entry e;
  e.entrySymbol = "f_entry";
  e.kernels.kernels = 3;
  e.outputReusesInput = {-1, 0, 2};
  for (int i = 0; i < 3000; ++i) e.object.push_back(static_cast<char>(i * 7));
  return e;
}

} // namespace

TEST(DiskCacheFormat, RoundTrip) {
  dc::Entry e = sampleEntry(), got;
  std::vector<char> bytes = dc::encode("key", e, "v1");
  std::string why;
  ASSERT_EQ(dc::decode(bytes, "key", "v1", got, why), dc::Lookup::hit) << why;
  EXPECT_EQ(got.entrySymbol, e.entrySymbol);
  EXPECT_EQ(got.kernels.kernels, e.kernels.kernels);
  EXPECT_EQ(got.outputReusesInput, e.outputReusesInput);
  EXPECT_EQ(got.object, e.object);
}

TEST(DiskCacheFormat, GpuProgramsHaveNoEntrySymbol) {
  // A PTX target's object is a serialized GpuProgram, run by the runtime, not called.
  dc::Entry e = sampleEntry(), got;
  e.entrySymbol.clear();
  std::string why;
  ASSERT_EQ(dc::decode(dc::encode("key", e, "v1"), "key", "v1", got, why), dc::Lookup::hit) << why;
  EXPECT_EQ(got.entrySymbol, "");
  EXPECT_EQ(got.object, e.object);
}

TEST(DiskCacheFormat, EveryTruncationAndEveryFlippedByteIsRejected) {
  std::vector<char> bytes = dc::encode("key", sampleEntry(), "v1");
  dc::Entry got;
  std::string why;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<char> cut(bytes.begin(), bytes.begin() + static_cast<int64_t>(n));
    ASSERT_EQ(dc::decode(cut, "key", "v1", got, why), dc::Lookup::rejected) << "truncated to " << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<char> bad = bytes;
    bad[i] ^= 0x10;
    ASSERT_EQ(dc::decode(bad, "key", "v1", got, why), dc::Lookup::rejected) << "byte " << i << " flipped";
  }
}

TEST(DiskCacheFormat, ForeignEntriesAreRejectedWithTheReason) {
  std::vector<char> bytes = dc::encode("key", sampleEntry(), "v1");
  dc::Entry got;
  std::string why;
  EXPECT_EQ(dc::decode(bytes, "key", "v2", got, why), dc::Lookup::rejected);
  EXPECT_NE(why.find("written by ajit v1, this is v2"), std::string::npos) << why;
  EXPECT_EQ(dc::decode(bytes, "other key", "v1", got, why), dc::Lookup::rejected);
  EXPECT_NE(why.find("another key"), std::string::npos) << why;
  std::vector<char> text = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(dc::decode(text, "key", "v1", got, why), dc::Lookup::rejected);
  EXPECT_NE(why.find("not an ajit cache entry"), std::string::npos) << why;
}

TEST(DiskCacheFormat, StoreIsAtomicAndReportsUnwritableDirectories) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(dc::store(dc::entryPath(dir.path + "/sub", "key"), "key", sampleEntry(), error)) << error;
  EXPECT_EQ(onlyEntry(dir.path + "/sub"), dc::entryPath(dir.path + "/sub", "key"));
  dc::Entry got;
  std::string why;
  EXPECT_EQ(dc::load(dc::entryPath(dir.path + "/sub", "key"), "key", got, why), dc::Lookup::hit) << why;
  EXPECT_EQ(dc::load(dc::entryPath(dir.path + "/sub", "absent"), "absent", got, why), dc::Lookup::miss);
  writeFile(dir.path + "/file", "x");
  EXPECT_FALSE(dc::store(dc::entryPath(dir.path + "/file/sub", "key"), "key", sampleEntry(), error));
  EXPECT_NE(error.find(dir.path + "/file/sub"), std::string::npos) << error;
}

TEST(DiskCache, SecondProcessLoadsInsteadOfCompiling) {
  TempDir dir;
  EXPECT_EQ(inChild([&] { return useCache(dir.path, 0); }).exitCode, kCompiled);
  EXPECT_EQ(inChild([&] { return useCache(dir.path, 0); }).exitCode, kFromDisk);
  EXPECT_EQ(inChild([&] { return useCache(dir.path, 1); }).exitCode, kCompiled) << "another graph, another entry";
  EXPECT_EQ(inChild([&] { return useCache(dir.path, 1); }).exitCode, kFromDisk);
}

TEST(DiskCache, CorruptTruncatedAndForeignEntriesAreRecompiledNeverLoaded) {
  TempDir dir;
  ASSERT_EQ(inChild([&] { return useCache(dir.path, 0); }).exitCode, kCompiled);
  std::string path = onlyEntry(dir.path), good = readFile(path);

  struct Case {
    const char *what;
    std::function<std::string(const std::string &)> damage;
    const char *reason;
  };
  std::string other;
  {
    TempDir otherDir;
    ASSERT_EQ(inChild([&] { return useCache(otherDir.path, 5); }).exitCode, kCompiled);
    other = readFile(onlyEntry(otherDir.path));
  }
  std::vector<Case> cases = {
      {"one flipped byte in the object", [](std::string s) { s[s.size() / 2] ^= 1; return s; }, "checksum mismatch"},
      {"truncated to half", [](std::string s) { return s.substr(0, s.size() / 2); }, "checksum mismatch"},
      {"empty", [](const std::string &) { return std::string(); }, "not an ajit cache entry"},
      {"another function's entry", [&](const std::string &) { return other; }, "entry for another key"},
  };
  for (const Case &c : cases) {
    writeFile(path, c.damage(good));
    ChildRun r = inChild([&] { return useCache(dir.path, 0); });
    EXPECT_EQ(r.exitCode, kCompiled) << c.what << "\n" << r.stderrText;
    EXPECT_NE(r.stderrText.find("ajit: warning: cache entry " + path + " rejected: " + c.reason), std::string::npos)
        << c.what << ": stderr was\n" << r.stderrText;
    EXPECT_EQ(inChild([&] { return useCache(dir.path, 0); }).exitCode, kFromDisk) << c.what << ": not rewritten";
  }
}

TEST(DiskCache, ProcessesCompilingTheSameKeyAtOnceAllSucceed) {
  for (int round = 0; round < 4; ++round) {
    TempDir dir;
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    std::vector<pid_t> pids;
    for (int p = 0; p < 3; ++p) {
      pid_t pid = fork();
      if (pid == 0) {
        close(gate[1]);
        char c;
        (void)!read(gate[0], &c, 1); // all start together when the pipe closes
        _exit(useCache(dir.path, 0));
      }
      pids.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);
    for (pid_t pid : pids) {
      int status = 0;
      waitpid(pid, &status, 0);
      ASSERT_TRUE(WIFEXITED(status)) << "a process crashed";
      EXPECT_TRUE(WEXITSTATUS(status) == kCompiled || WEXITSTATUS(status) == kFromDisk)
          << "exit " << WEXITSTATUS(status);
    }
    onlyEntry(dir.path);
    EXPECT_EQ(inChild([&] { return useCache(dir.path, 0); }).exitCode, kFromDisk);
  }
}
