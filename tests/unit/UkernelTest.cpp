//===- UkernelTest.cpp - the matmul micro-kernels against a double reference ===//
#include "kernels/matmul/Sgemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

struct Case {
  int64_t m, n, k;
};

/// c (ldc) = a . b in double, the oracle.
std::vector<double> reference(const std::vector<float> &a, int64_t lda, const std::vector<float> &b,
                              int64_t ldb, const Case &s) {
  std::vector<double> c(s.m * s.n, 0.0);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t p = 0; p < s.k; ++p)
      for (int64_t j = 0; j < s.n; ++j) c[i * s.n + j] += double(a[i * lda + p]) * b[p * ldb + j];
  return c;
}

class SgemmVariant : public ::testing::TestWithParam<const char *> {};

// Every shape class: below one micro-tile, exact tiles, row and column tails (for the
// AVX-512 kernel's 64-column groups: tails of one, two and four vectors), several k blocks
// (k > 512) and a k tail, several column blocks (n > 512) with A packed, strides wider
// than the rows.
TEST_P(SgemmVariant, MatchesReferenceForPackedAndUnpackedB) {
  auto fn = ajit::kernels::sgemmVariant(GetParam());
  if (!fn) GTEST_SKIP() << GetParam() << " does not run on this host";
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (Case s : {Case{1, 1, 1}, Case{5, 7, 3}, Case{12, 32, 64}, Case{13, 33, 257},
                 Case{48, 64, 512}, Case{50, 100, 300}, Case{100, 17, 600},
                 Case{7, 45, 520}, Case{6, 64, 513}, Case{30, 600, 70}, Case{13, 1100, 9}}) {
    int64_t lda = s.k + 3, ldb = s.n + 5, ldc = s.n + 2;
    std::vector<float> a(s.m * lda), b(s.k * ldb);
    for (float &x : a) x = dist(rng);
    for (float &x : b) x = dist(rng);
    std::vector<double> want = reference(a, lda, b, ldb, s);
    int64_t panels = (s.n + AJIT_UK_SGEMM_PANEL - 1) / AJIT_UK_SGEMM_PANEL;
    std::vector<float> packed(panels * s.k * AJIT_UK_SGEMM_PANEL, NAN);
    ajit_uk_sgemm_pack_b(b.data(), ldb, s.k, s.n, 0, panels, packed.data());
    for (bool pack : {false, true})
      for (bool accumulate : {false, true}) {
        // The padding past n in each row of c must survive.
        std::vector<float> c(s.m * ldc, 0.5f);
        int64_t flags = (pack ? AJIT_UK_SGEMM_B_PACKED : 0) | (accumulate ? AJIT_UK_SGEMM_ACCUMULATE : 0);
        fn(a.data(), lda, pack ? packed.data() : b.data(), ldb, c.data(), ldc, s.m, s.n, s.k, flags);
        std::string where = std::string(GetParam()) + " " + std::to_string(s.m) + "x" +
                            std::to_string(s.n) + "x" + std::to_string(s.k) +
                            (pack ? " packed" : " in place") + (accumulate ? " accumulate" : "");
        for (int64_t i = 0; i < s.m; ++i) {
          for (int64_t j = 0; j < s.n; ++j) {
            double expect = want[i * s.n + j] + (accumulate ? 0.5 : 0.0);
            ASSERT_NEAR(c[i * ldc + j], expect, 1e-5 * s.k) << where << " at " << i << "," << j;
          }
          for (int64_t j = s.n; j < ldc; ++j) ASSERT_EQ(c[i * ldc + j], 0.5f) << where << " padding";
        }
      }
  }
}

TEST_P(SgemmVariant, EmptyKZeroesOrKeepsTheOutput) {
  auto fn = ajit::kernels::sgemmVariant(GetParam());
  if (!fn) GTEST_SKIP() << GetParam() << " does not run on this host";
  std::vector<float> c(6, 3.0f);
  fn(nullptr, 0, nullptr, 0, c.data(), 3, 2, 3, 0, AJIT_UK_SGEMM_ACCUMULATE);
  EXPECT_EQ(c, std::vector<float>(6, 3.0f));
  fn(nullptr, 0, nullptr, 0, c.data(), 3, 2, 3, 0, 0);
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

INSTANTIATE_TEST_SUITE_P(Variants, SgemmVariant, ::testing::Values("avx512", "avx2", "portable"),
                         [](const auto &info) { return std::string(info.param); });

TEST(Sgemm, PackedPanelsAreZeroPadded) {
  std::vector<float> b = {1, 2, 3, 4, 5, 6}; // [2, 3]
  std::vector<float> packed(2 * AJIT_UK_SGEMM_PANEL, NAN);
  ajit_uk_sgemm_pack_b(b.data(), 3, 2, 3, 0, 1, packed.data());
  EXPECT_EQ(packed[0], 1);
  EXPECT_EQ(packed[2], 3);
  EXPECT_EQ(packed[AJIT_UK_SGEMM_PANEL], 4);
  EXPECT_EQ(packed[3], 0);
  EXPECT_EQ(packed[2 * AJIT_UK_SGEMM_PANEL - 1], 0);
}

TEST(Sgemm, EntryPointUsesARunnableVariant) {
  std::string v = ajit_uk_sgemm_variant();
  EXPECT_NE(ajit::kernels::sgemmVariant(v.c_str()), nullptr) << v;
}

} // namespace
