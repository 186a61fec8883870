//===- NpyTest.cpp - .npy reading and writing against files NumPy wrote ---===//
//
// The fixtures in tests/data/npy were written by NumPy 2.4 (np.save, and
// np.lib.format.write_array with version=(2, 0) for v2b.npy).
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/Npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ajit;
using namespace ajit::npy;

namespace {

std::string fixture(const std::string &name) { return std::string(AJIT_TEST_DATA) + "/npy/" + name; }

std::string bytesOf(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string errorOf(const std::string &bytes) {
  try {
    parse(bytes.data(), bytes.size(), "x.npy");
  } catch (const Error &e) {
    return e.what();
  }
  return "<no error>";
}

} // namespace

TEST(Npy, ReadsWhatNumPyWrote) {
  NpyArray a = read(fixture("f32.npy"));
  EXPECT_EQ(a.elem, Elem::f32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 4}));
  const float *f = reinterpret_cast<const float *>(a.data.data());
  EXPECT_EQ(f[0], 0.0f);
  EXPECT_EQ(f[11], 11.0f);

  NpyArray s = read(fixture("s.npy"));
  EXPECT_EQ(s.elem, Elem::f64);
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(*reinterpret_cast<const double *>(s.data.data()), 2.5);

  NpyArray b = read(fixture("b.npy"));
  EXPECT_EQ(b.elem, Elem::boolean);
  EXPECT_EQ(b.data, (std::vector<char>{1, 0, 1}));

  NpyArray v2 = read(fixture("v2b.npy")); // format version 2.0
  EXPECT_EQ(v2.elem, Elem::i32);
  EXPECT_EQ(v2.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(read(fixture("i64.npy")).count(), 5);
}

// Our writer produces the very bytes NumPy does, so NumPy reads what we write.
TEST(Npy, WritesTheBytesNumPyWrites) {
  for (const char *name : {"f32.npy", "b.npy", "s.npy", "i64.npy", "v2.npy"})
    EXPECT_EQ(serialize(read(fixture(name))), bytesOf(fixture(name))) << name;
}

TEST(Npy, AtomicWriteLeavesNoPartialFile) {
  auto dir = std::filesystem::temp_directory_path() / ("ajit-npy-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  NpyArray a = read(fixture("f32.npy"));
  write((dir / "out.npy").string(), a);
  EXPECT_EQ(bytesOf((dir / "out.npy").string()), bytesOf(fixture("f32.npy")));
  EXPECT_THROW(write((dir / "missing-dir" / "out.npy").string(), a), Error);
  size_t files = 0;
  for (auto &e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u); // no temporary left behind
  std::filesystem::remove_all(dir);
}

TEST(Npy, RejectsBadFilesWithTheReason) {
  std::string good = bytesOf(fixture("f32.npy"));
  EXPECT_NE(errorOf("hello").find("x.npy: not a .npy file (bad magic)"), std::string::npos);
  EXPECT_NE(errorOf(good.substr(0, 30)).find("truncated .npy header"), std::string::npos);
  EXPECT_NE(errorOf(good.substr(0, good.size() - 3)).find("truncated data: 48 bytes expected, 45 present"),
            std::string::npos);
  EXPECT_NE(errorOf(good + "xx").find("trailing bytes after the data: 2"), std::string::npos);
  EXPECT_NE(errorOf(bytesOf(fixture("fort.npy"))).find("Fortran-order arrays are not supported"), std::string::npos);
  EXPECT_NE(errorOf(bytesOf(fixture("f16.npy"))).find("unsupported dtype '<f2'"), std::string::npos);

  std::string corrupt = good;
  corrupt.replace(corrupt.find("'shape'"), 7, "'shapo'");
  EXPECT_NE(errorOf(corrupt).find("unknown key 'shapo'"), std::string::npos);
  std::string version = good;
  version[6] = 9;
  EXPECT_NE(errorOf(version).find("unsupported .npy format version 9"), std::string::npos);
  std::string huge = good;
  huge.replace(huge.find("(3, 4)"), 6, "(999999999999999999, 99999)");
  EXPECT_NE(errorOf(huge).find("x.npy:"), std::string::npos);
  std::string badBool = bytesOf(fixture("b.npy"));
  badBool.back() = 7;
  EXPECT_NE(errorOf(badBool).find("bool data holds a byte other than 0 or 1"), std::string::npos);
  try {
    read("/nonexistent/dir/a.npy");
    FAIL() << "no error for a missing file";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/a.npy: cannot open: No such file"), std::string::npos);
  }
}
